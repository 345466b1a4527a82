//! Signed pin updates: the envelope (JSON, base64, Ed25519) and, signed here
//! with a fixed test key so the fuzzer gets past the signature, the payload
//! and its merge into the base policy. First byte: 0 = raw envelope, else
//! the rest is a payload to sign.
#![no_main]
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mamori::PolicyFormat;
use mamori::pinning::{
    PolicyDocument, UpdateKey, UpdateKeys, UpdateRules, UpdateVerifier, sign_update,
};
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use time::OffsetDateTime;

const BASE: &str = "[[domain]]\nhost = \"api.bank.example\"\npins = [\"sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\", \"sha256/AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\"]\n";

fn setup() -> &'static (Ed25519KeyPair, UpdateVerifier) {
    static S: OnceLock<(Ed25519KeyPair, UpdateVerifier)> = OnceLock::new();
    S.get_or_init(|| {
        let key = Ed25519KeyPair::from_seed_unchecked(&[7u8; 32]).expect("seed");
        // Two keys: a verifier refuses a single update key (BP-5).
        let backup = Ed25519KeyPair::from_seed_unchecked(&[8u8; 32]).expect("seed");
        let keys = UpdateKeys::new(vec![
            UpdateKey::ed25519("fuzz", key.public_key().as_ref()).expect("key"),
            UpdateKey::ed25519("fuzz-backup", backup.public_key().as_ref()).expect("key"),
        ])
        .expect("keys");
        let doc = PolicyDocument::parse(BASE, PolicyFormat::Toml, "base").expect("base");
        let rules = UpdateRules {
            allow_new_domains: true,
            max_report_only: Some(time::Duration::days(1)),
        };
        let verifier = UpdateVerifier::new(doc, "base", None, keys, rules).expect("verifier");
        (key, verifier)
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (key, verifier) = setup();
    let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("time");
    let envelope = if mode == 0 {
        rest.to_vec()
    } else {
        sign_update(rest, "fuzz", key)
    };
    let _ = verifier.verify(&envelope, now, Some(1));
    let _ = verifier.restore(&envelope);
});
