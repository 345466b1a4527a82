//! The `mamori pin`, `verify` and `config` commands, run as real processes on
//! the bundled example PKI (examples/pinning, made by its generate.sh).

use std::process::{Command, Output};

mod common;
use common::{mamori, repo};

fn ex(name: &str) -> String {
    repo()
        .join("examples/pinning")
        .join(name)
        .display()
        .to_string()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

const AT: &str = "2027-01-01T00:00:00Z";

/// `mamori verify` of an example chain for api.example.com under the example
/// policy, at `at`.
fn verify_example(chain: &str, at: &str, extra: &[&str]) -> Output {
    let (policy, chain) = (ex("policy.toml"), ex(chain));
    let mut args = vec![
        "verify",
        "--config",
        &policy,
        "--host",
        "api.example.com",
        "--chain",
        &chain,
        "--at",
        at,
    ];
    args.extend_from_slice(extra);
    mamori(&args)
}

#[test]
fn legitimate_chain_is_allowed_by_its_intermediate_pin() {
    let out = verify_example("chain.pem", AT, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    assert_eq!(v["decision"], "allow");
    assert_eq!(v["chain_valid"], true);
    assert_eq!(v["pinned"], true);
    assert_eq!(v["pin_matched"], true);
    assert_eq!(v["chain"][1]["position"], "intermediate");
    assert_eq!(v["matched_pin"], v["chain"][1]["pin"]);
    assert!(
        v["reason"]
            .as_str()
            .unwrap()
            .contains("Example Issuing CA 1")
    );
}

#[test]
fn misissued_chain_is_blocked_with_a_report() {
    let out = verify_example("misissued-chain.pem", AT, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["decision"], "block");
    assert_eq!(v["chain_valid"], true);
    assert_eq!(v["pin_matched"], false);
    assert_eq!(v["failure"]["kind"], "pin-mismatch");
    let r = &v["report"];
    assert_eq!(r["hostname"], "api.example.com");
    assert_eq!(r["port"], 443);
    assert_eq!(r["enforce-pinning"], true);
    assert_eq!(r["validation-result"], 1);
    assert_eq!(r["date-time"], "2027-01-01T00:00:00Z");
    assert_eq!(r["known-pins"].as_array().unwrap().len(), 2);
    assert!(
        r["validated-certificate-chain"][0]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
}

#[test]
fn expired_leaf_blocks_and_text_output_explains() {
    let out = verify_example("chain.pem", "2040-01-01T00:00:00Z", &[]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("decision:    block"), "{text}");
    assert!(text.contains("certificate expired"), "{text}");
    // `--at` also takes a date (00:00 UTC), as every subcommand does.
    let date = verify_example("chain.pem", "2040-01-01", &[]);
    assert_eq!(date.status.code(), Some(1));
    assert_eq!(date.stdout, out.stdout);
}

#[test]
fn without_config_the_mozilla_roots_apply_and_no_pins() {
    let out = mamori(&[
        "verify",
        "--host",
        "api.example.com",
        "--chain",
        &ex("chain.pem"),
        "--at",
        AT,
        "--format",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a private root is not a Mozilla root"
    );
    let v = json(&out);
    assert_eq!(v["chain_valid"], false);
    assert_eq!(v["pinned"], false);
    assert!(v["reason"].as_str().unwrap().contains("unknown issuer"));

    let out = mamori(&[
        "verify",
        "--host",
        "api.example.com",
        "--chain",
        &ex("misissued-chain.pem"),
        "--roots",
        &ex("root.pem"),
        "--at",
        AT,
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    assert_eq!(v["decision"], "allow");
    assert_eq!(v["pinned"], false);
}

#[test]
fn wrong_host_blocks() {
    let out = mamori(&[
        "verify",
        "--config",
        &ex("policy.toml"),
        "--host",
        "pay.example.com",
        "--chain",
        &ex("chain.pem"),
        "--at",
        AT,
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["failure"]["kind"], "name");
}

#[test]
fn pin_json_matches_openssl() {
    let out = mamori(&["pin", "--format", "json", &ex("chain.pem"), &ex("root.pem")]);
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1]["index"], 1);
    assert_eq!(rows[2]["index"], 0);
    for key in ["file", "index", "subject", "not_after", "pin"] {
        assert!(rows[0].get(key).is_some(), "missing {key}");
    }
    // The root's pin, computed independently by the openssl pipeline.
    let sh = format!(
        "openssl x509 -in '{}' -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64",
        ex("root.pem")
    );
    let o = Command::new("sh")
        .arg("-c")
        .arg(sh)
        .output()
        .expect("openssl");
    assert!(o.status.success());
    let expected = format!("sha256/{}", String::from_utf8_lossy(&o.stdout).trim());
    assert_eq!(rows[2]["pin"], expected.as_str());
}

#[test]
fn config_resolve_and_check() {
    let out = mamori(&[
        "config",
        "resolve",
        "--format",
        "json",
        &ex("policy.toml"),
        "IMG.cdn.example.com.",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    assert_eq!(v["host"], "**.cdn.example.com");
    assert_eq!(v["report_only"], true);
    let out = mamori(&[
        "config",
        "resolve",
        "--format",
        "json",
        &ex("policy.toml"),
        "evil-example.com",
    ]);
    assert_eq!(json(&out)["host"], serde_json::Value::Null);
    let out = mamori(&["config", "resolve", &ex("policy.toml"), "https://x.com/"]);
    assert_eq!(out.status.code(), Some(2));

    assert_eq!(
        mamori(&["config", "check", &ex("policy.toml")])
            .status
            .code(),
        Some(0)
    );
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[domain]]\nhost = \"api.example.com:443\"\npins = [\"sha256/AAAA\"]\n",
    )
    .unwrap();
    let out = mamori(&["config", "check", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml"), "{err}");
    assert!(
        err.contains("field `host`") && err.contains("port"),
        "{err}"
    );
    assert!(err.contains("field `pins`") && err.contains("32"), "{err}");
}

#[test]
fn bad_usage_and_bad_input_exit_2() {
    assert_eq!(mamori(&["verify", "--bogus"]).status.code(), Some(2));
    assert_eq!(mamori(&["pin"]).status.code(), Some(2));
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.pem");
    std::fs::write(
        &junk,
        "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    assert_eq!(
        mamori(&["pin", junk.to_str().unwrap()]).status.code(),
        Some(2)
    );
    assert_eq!(
        mamori(&[
            "verify",
            "--host",
            "a.com",
            "--chain",
            &ex("chain.pem"),
            "--at",
            "yesterday"
        ])
        .status
        .code(),
        Some(2)
    );
    assert_eq!(mamori(&["--version"]).status.code(), Some(0));
}
