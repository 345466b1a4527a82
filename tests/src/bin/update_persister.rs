//! Test helper for `tests/update_crash.rs`: applies signed pin-set updates of
//! increasing version through `PinUpdater` and `FileUpdateStore` until it is
//! killed. Each apply is announced before it starts (`A version`) and confirmed
//! after it returned (`D version`).
//!
//! Usage: `update_persister <state file> <base policy (TOML)> <PKCS#8 key file> <first version>`

use std::io::Write;

use mamori::PolicyFormat;
use mamori::pinning::{FileUpdateStore, PinUpdater, PolicyDocument, UpdateVerifier, sign_update};
use ring::signature::Ed25519KeyPair;
use time::OffsetDateTime;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let base = std::fs::read_to_string(&args[2]).unwrap();
    let key = Ed25519KeyPair::from_pkcs8(&std::fs::read(&args[3]).unwrap()).unwrap();
    let mut version: u64 = args[4].parse().unwrap();
    let doc = PolicyDocument::parse(&base, PolicyFormat::Toml, "base").unwrap();
    let verifier = UpdateVerifier::from_base(doc, "base", None).unwrap();
    let mut updater = PinUpdater::new(verifier, Box::new(FileUpdateStore::new(&args[1])));
    let mut out = std::io::stdout().lock();
    writeln!(out, "O").unwrap();
    out.flush().unwrap();
    loop {
        let payload = serde_json::json!({
            "format": "mamori-pin-update/1",
            "version": version,
            "issued_at": "2026-01-01T00:00:00Z",
            "not_after": "2099-01-01T00:00:00Z",
            "key_id": "primary",
            // Payloads of varying size, so a torn write would show.
            "domain": [{ "host": "api.bank.example", "pins": pins(version),
                         "report_uris": [format!("https://r.bank.example/{}", "x".repeat((version % 97) as usize * 20))] }],
        });
        let envelope = sign_update(&serde_json::to_vec(&payload).unwrap(), "primary", &key);
        writeln!(out, "A {version}").unwrap();
        out.flush().unwrap();
        updater
            .apply(&envelope, OffsetDateTime::now_utc())
            .expect("apply");
        writeln!(out, "D {version}").unwrap();
        out.flush().unwrap();
        version += 1;
    }
}

/// Two distinct pins that differ per version.
pub fn pins(version: u64) -> [String; 2] {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut a = [0u8; 32];
    a[..8].copy_from_slice(&version.to_be_bytes());
    let mut b = a;
    b[31] = 1;
    [
        format!("sha256/{}", b64.encode(a)),
        format!("sha256/{}", b64.encode(b)),
    ]
}
