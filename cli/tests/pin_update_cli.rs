//! `mamori pin-update keygen | sign | verify`, run as real processes: the
//! server-side workflow of docs/pin-updates.md, and the exit codes.

use std::path::{Path, PathBuf};
use std::process::Output;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use mamori_tests::spare_pin;
use serde_json::json;

mod common;
use common::{mamori, stderr, stdout};

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// Two keys made by `keygen`, a key list, a base policy and a payload.
struct Setup {
    dir: tempfile::TempDir,
    keys: PathBuf,
    base: PathBuf,
}

impl Setup {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut list = String::from("# update keys\n");
        for id in ["primary", "backup"] {
            let key = dir.path().join(format!("{id}.key"));
            let out = mamori(&["pin-update", "keygen", "--out", &s(&key), "--key-id", id]);
            assert_eq!(out.status.code(), Some(0), "{out:?}");
            let line = stdout(&out);
            let (printed_id, public) = line.trim().split_once(' ').unwrap();
            assert_eq!(printed_id, id);
            assert_eq!(B64.decode(public).unwrap().len(), 32);
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(&key).unwrap().permissions().mode();
                assert_eq!(mode & 0o777, 0o600);
            }
            list.push_str(&line);
        }
        let keys = dir.path().join("keys.txt");
        std::fs::write(&keys, list).unwrap();
        let base = dir.path().join("policy.toml");
        std::fs::write(
            &base,
            format!(
                "[[domain]]\nhost = \"api.example.com\"\npins = [\"{}\", \"{}\"]\n",
                spare_pin(),
                spare_pin()
            ),
        )
        .unwrap();
        Self { dir, keys, base }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a payload for api.example.com with `pins` and signs it with
    /// `key` via the CLI; returns the envelope file.
    fn signed(&self, version: u64, key: &str, pins: &[String]) -> PathBuf {
        let payload = self.path(&format!("payload-{version}.json"));
        let p = json!({
            "format": "mamori-pin-update/1",
            "version": version,
            "issued_at": "2026-12-01T00:00:00Z",
            "not_after": "2026-12-31T00:00:00Z",
            "key_id": key,
            "domain": [{ "host": "api.example.com", "pins": pins }],
        });
        std::fs::write(&payload, serde_json::to_vec_pretty(&p).unwrap()).unwrap();
        let out_file = self.path(&format!("update-{version}-{key}.json"));
        let k = self.path(&format!("{key}.key"));
        let out = mamori(&[
            "pin-update",
            "sign",
            "--key",
            &s(&k),
            "--key-id",
            key,
            "--out",
            &s(&out_file),
            &s(&payload),
        ]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        out_file
    }

    fn verify(&self, update: &Path, extra: &[&str]) -> Output {
        let mut args = vec![
            "pin-update".to_owned(),
            "verify".into(),
            "--keys".into(),
            s(&self.keys),
            "--base".into(),
            s(&self.base),
        ];
        if !extra.contains(&"--at") {
            args.extend(["--at".into(), "2026-12-02T00:00:00Z".into()]);
        }
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        args.push(s(update));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        mamori(&refs)
    }
}

#[test]
fn keygen_sign_verify_round_trip() {
    let st = Setup::new();
    let pins = [spare_pin(), spare_pin()];
    for key in ["primary", "backup"] {
        let update = st.signed(1, key, &pins);
        let out = st.verify(&update, &["--format", "json"]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["accepted"], true);
        assert_eq!(v["version"], 1);
        assert_eq!(v["key_id"], key);
    }
    let out = st.verify(&st.signed(2, "primary", &pins), &[]);
    assert!(stdout(&out).starts_with("accepted: version 2 signed by primary"));
}

#[test]
fn refusals_exit_1_with_the_reason() {
    let st = Setup::new();
    let pins = [spare_pin(), spare_pin()];
    let update = st.signed(3, "primary", &pins);

    let out = st.verify(&update, &["--last-version", "3"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("not newer than the last accepted version 3"));

    let out = st.verify(&update, &["--at", "2027-01-01"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("expired"), "{}", stdout(&out));

    // One byte of the signed payload changed (inside the base64).
    let mut env: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&update).unwrap()).unwrap();
    let mut payload = B64.decode(env["payload"].as_str().unwrap()).unwrap();
    let i = payload.len() / 2;
    payload[i] ^= 0x01;
    env["payload"] = json!(B64.encode(&payload));
    let tampered = st.path("tampered.json");
    std::fs::write(&tampered, serde_json::to_vec(&env).unwrap()).unwrap();
    let out = st.verify(&tampered, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("bad signature for key \"primary\""));

    // Dropping the backup pin.
    let out = st.verify(&st.signed(4, "primary", &pins[..1]), &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["accepted"], false);
    assert!(v["reason"].as_str().unwrap().contains("two distinct pins"));
}

#[test]
fn bad_input_exits_2() {
    let st = Setup::new();
    let pins = [spare_pin(), spare_pin()];
    let update = st.signed(1, "primary", &pins);

    // One key only: BP-5.
    let one = st.path("one-key.txt");
    let list = std::fs::read_to_string(&st.keys).unwrap();
    std::fs::write(&one, list.lines().nth(1).unwrap()).unwrap();
    let out = mamori(&[
        "pin-update",
        "verify",
        "--keys",
        &s(&one),
        "--base",
        &s(&st.base),
        &s(&update),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least two update keys"));

    // keygen never overwrites a key.
    let key = s(&st.path("primary.key"));
    let out = mamori(&["pin-update", "keygen", "--out", &key]);
    assert_eq!(out.status.code(), Some(2));

    // sign refuses a payload naming another key id.
    let payload = s(&st.path("payload-1.json"));
    let out = mamori(&[
        "pin-update",
        "sign",
        "--key",
        &key,
        "--key-id",
        "backup",
        &payload,
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn an_update_close_to_not_after_is_accepted_with_a_warning_exit_3() {
    let st = Setup::new();
    let update = st.signed(1, "primary", &[spare_pin(), spare_pin()]);
    // not_after is 2026-12-31T00:00Z: 6 days before it is within the
    // default 7 days, 8 days before is not.
    let out = st.verify(&update, &["--at", "2026-12-25T00:00:00Z"]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(stdout(&out).contains("warning: not_after is within 7 days"));
    let out = st.verify(&update, &["--at", "2026-12-23T00:00:00Z"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = st.verify(
        &update,
        &[
            "--at",
            "2026-12-23T00:00:00Z",
            "--warn-days",
            "10",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["accepted"].clone(), v["expires_soon"].clone()),
        (json!(true), json!(true))
    );
    // Refused after not_after, as the app refuses it.
    let out = st.verify(&update, &["--at", "2026-12-31T00:00:00Z"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}

#[test]
fn inspect_shows_the_payload_and_says_it_checked_no_signature() {
    let st = Setup::new();
    let pins = [spare_pin(), spare_pin()];
    let update = st.signed(5, "backup", &pins);
    let out = mamori(&["pin-update", "inspect", &s(&update)]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = stdout(&out);
    assert!(text.starts_with("NOT VERIFIED"), "{text}");
    assert!(text.contains("version 5 signed as backup (envelope: backup), issued 2026-12-01T00:00:00Z, not after 2026-12-31T00:00:00Z"), "{text}");
    assert!(text.contains("  api.example.com (2 pins)"), "{text}");

    // A tampered signature still inspects (nothing is verified), as JSON.
    let mut env: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&update).unwrap()).unwrap();
    env["signature"] = json!(B64.encode([0u8; 64]));
    let tampered = st.path("tampered.json");
    std::fs::write(&tampered, serde_json::to_vec(&env).unwrap()).unwrap();
    let out = mamori(&["pin-update", "inspect", "--format", "json", &s(&tampered)]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["signature_checked"], false);
    assert_eq!(v["payload"]["version"], 5);
    assert_eq!(
        v["payload"]["domain"][0]["pins"].as_array().unwrap().len(),
        2
    );

    // Not an envelope, bad base64, oversized: exit 2 naming the file.
    for (name, body) in [
        ("not-json.json", b"{\"key_id\": 1".to_vec()),
        (
            "bad-b64.json",
            br#"{"key_id":"k","payload":"%%%","signature":""}"#.to_vec(),
        ),
        ("big.json", vec![b' '; (1 << 20) + 1]),
    ] {
        let p = st.path(name);
        std::fs::write(&p, body).unwrap();
        let out = mamori(&["pin-update", "inspect", &s(&p)]);
        assert_eq!(out.status.code(), Some(2), "{name}: {out:?}");
        assert!(stderr(&out).contains(name), "{name}: {}", stderr(&out));
    }
}
