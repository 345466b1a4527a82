//! The pinning conformance suite (`tests/conformance/pinning/`) through the
//! CLI: one real `mamori verify --format json` process per case, with the
//! case's policy, chain and time in files. Its disagreements must be exactly
//! the `mamori-cli` rows of `docs/conformance.md`.

mod common;

use mamori_tests::conformance::{Expected, assert_conformance, reason_class};

#[test]
fn cli_agrees_with_the_suite() {
    let dir = tempfile::tempdir().expect("temp dir");
    assert_conformance("mamori-cli", |case| {
        let policy = dir.path().join("policy.json");
        let chain = dir.path().join("chain.pem");
        std::fs::write(&policy, case.mamori_policy_json()).expect("write policy");
        std::fs::write(&chain, case.chain.concat()).expect("write chain");
        let out = common::mamori(&[
            "verify",
            "--config",
            policy.to_str().expect("utf-8"),
            "--chain",
            chain.to_str().expect("utf-8"),
            "--host",
            &case.host,
            "--at",
            &case.time,
            "--format",
            "json",
        ]);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{}: mamori verify printed no JSON ({e}); stderr: {}",
                case.id,
                String::from_utf8_lossy(&out.stderr)
            )
        });
        let decision = json["decision"].as_str().expect("decision").to_owned();
        // Exit status 1 exactly when blocked.
        assert_eq!(
            out.status.code(),
            Some(i32::from(decision == "block")),
            "{}",
            case.id
        );
        Expected {
            decision,
            reason: reason_class(&json["failure"]),
        }
    });
}
