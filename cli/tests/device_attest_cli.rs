//! `mamori device check --attestation`: facts the hardware signed, merged
//! into the app's facts (issue 16, item 2). Real chains and objects from
//! ../shared/testdata (Google's keyattestation vectors, App Attest vectors).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{Value, json};

mod common;
use common::mamori;

fn shared(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/testdata")
        .join(rel)
        .display()
        .to_string()
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/device")
        .join(name)
}

/// Unlocked bootloader, verified boot UNVERIFIED, Android 9, patch 201908.
const BLUELINE: &str = "keyattestation/testdata/blueline/sdk28/TEE_EC_NONE.pem";
/// Locked, verified, TEE, Android 16, patch 202511; challenge below.
const CAIMAN: &str = "keyattestation/testdata/caiman/sdk36/TEE_EC_RKP.pem";
const CAIMAN_CHALLENGE: &str = "d688d763-6118-4ca6-94b2-e6cd9ed7e4e4";
/// Within the chain's validity (its intermediate expires 2025-10-03).
const CAIMAN_AT: &str = "2025-09-26T15:31:21Z";

struct Run {
    code: i32,
    verdict: Value,
    text: String,
}

fn check(dir: &Path, facts: &Value, attestation: &[&str], at: &str) -> Run {
    let facts_file = dir.join("facts.json");
    fs::write(&facts_file, facts.to_string()).unwrap();
    let policy = dir.join("policy.toml");
    fs::write(&policy, mamori(&["device", "default-policy"]).stdout).unwrap();
    let (f, p) = (
        facts_file.display().to_string(),
        policy.display().to_string(),
    );
    let mut args = vec!["device", "check", "--facts", &f, "--policy", &p, "--at", at];
    args.extend_from_slice(attestation);
    let json_out: Output = mamori(&[args.as_slice(), &["--format", "json"]].concat());
    let text_out = mamori(&args);
    let verdict = serde_json::from_slice(&json_out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&json_out.stderr)));
    Run {
        code: json_out.status.code().unwrap(),
        verdict,
        text: String::from_utf8_lossy(&text_out.stdout).into_owned(),
    }
}

/// The indicator ids of the finding of `rule`, or empty.
fn indicators(v: &Value, rule: &str) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .flat_map(|f| f["indicators"].as_array().cloned().unwrap_or_default())
        .map(|i| i.as_str().unwrap().to_owned())
        .collect()
}

fn pixel(patch: &str, os: &str) -> Value {
    let mut v: Value =
        serde_json::from_str(&fs::read_to_string(example("pixel-clean.json")).unwrap()).unwrap();
    v["security_patch"] = json!({"state": "present", "value": patch,
        "evidence": [{"source": "platform", "property": "Build.VERSION.SECURITY_PATCH", "value": patch}]});
    v["os_version"] = json!({"state": "present", "value": os,
        "evidence": [{"source": "platform", "property": "Build.VERSION.RELEASE", "value": os}]});
    v["signing_cert_sha256"] = json!({"state": "unknown"});
    v
}

/// The app says "bootloader locked, Android 16"; the hardware says unlocked,
/// unverified boot, Android 9: the attested facts win (root indicators
/// block) and each lie is a contradiction finding.
#[test]
fn attested_facts_outrank_and_contradict_the_app() {
    let dir = tempfile::tempdir().unwrap();
    let mut facts = pixel("2019-08-05", "16");
    facts["indicators"].as_array_mut().unwrap().push(json!({
        "id": "platform.bootloader_unlocked", "class": "root", "strength": "strong",
        "state": "absent",
        "evidence": [{"source": "platform", "property": "ro.boot.flash.locked", "value": "1"}]
    }));
    // Without the attestation the app's word stands: no root finding.
    let alone = check(dir.path(), &facts, &[], "2019-09-01");
    assert!(
        indicators(&alone.verdict, "indicators.root").is_empty(),
        "{}",
        alone.verdict
    );
    let r = check(
        dir.path(),
        &facts,
        &[
            "--attestation",
            &shared(BLUELINE),
            "--challenge",
            "challenge",
        ],
        "2019-09-01",
    );
    assert_eq!(r.code, 1, "{}", r.verdict);
    assert_eq!(r.verdict["decision"], "block");
    assert_eq!(
        indicators(&r.verdict, "indicators.root"),
        [
            "attestation.android.bootloader_unlocked",
            "attestation.android.verified_boot"
        ]
    );
    assert_eq!(
        indicators(&r.verdict, "indicators.hooking"),
        [
            "attestation.contradiction.bootloader_unlocked",
            "attestation.contradiction.os_version"
        ]
    );
    let evidence = r.verdict.to_string();
    assert!(evidence.contains(r#""source":"attestation""#), "{evidence}");
    assert!(
        evidence.contains("app reported 16, hardware attested 9"),
        "{evidence}"
    );
    // The patch month agrees (201908): no contradiction there.
    assert!(
        !evidence.contains("contradiction.security_patch"),
        "{evidence}"
    );
    assert!(
        r.text
            .contains("attested:      attestation.android.bootloader_unlocked"),
        "{}",
        r.text
    );
    assert!(
        r.text.contains("self-reported: every other fact"),
        "{}",
        r.text
    );
}

/// An attested patch level older than the policy allows blocks even when
/// the app reports a recent one (and that is a contradiction too).
#[test]
fn attested_patch_level_is_the_one_judged() {
    let dir = tempfile::tempdir().unwrap();
    let r = check(
        dir.path(),
        &pixel("2021-08-05", "9"),
        &[
            "--attestation",
            &shared(BLUELINE),
            "--challenge",
            "challenge",
        ],
        "2021-09-01",
    );
    assert_eq!(r.code, 1);
    let findings = r.verdict["findings"].as_array().unwrap();
    let patch = findings
        .iter()
        .find(|f| f["rule"] == "android.max_patch_age_days")
        .unwrap_or_else(|| panic!("no patch finding: {}", r.verdict));
    assert_eq!(patch["decision"], "block");
    // Evidence is kept in a canonical order (issue 9 item 9), so look the
    // attested entry up rather than relying on its position.
    let evidence = patch["evidence"].as_array().unwrap();
    assert!(
        evidence
            .iter()
            .any(|e| e["source"] == "attestation" && e["value"] == "201908"),
        "no attested patch level: {patch}"
    );
    assert!(
        indicators(&r.verdict, "indicators.hooking")
            .contains(&"attestation.contradiction.security_patch".to_owned())
    );
}

/// A consistent device: the attested facts agree with the app's, nothing
/// is contradicted, and the verdict lists what rests on hardware.
#[test]
fn consistent_attestation_adds_no_finding() {
    let dir = tempfile::tempdir().unwrap();
    let r = check(
        dir.path(),
        &pixel("2025-11-05", "16"),
        &[
            "--attestation",
            &shared(CAIMAN),
            "--challenge",
            CAIMAN_CHALLENGE,
        ],
        CAIMAN_AT,
    );
    assert!(
        indicators(&r.verdict, "indicators.root").is_empty(),
        "{}",
        r.verdict
    );
    assert!(
        indicators(&r.verdict, "indicators.hooking").is_empty(),
        "{}",
        r.verdict
    );
    for name in [
        "attestation.android.verified_boot",
        "keystore_level",
        "os_version",
        "security_patch",
    ] {
        assert!(r.text.contains(name), "{name}: {}", r.text);
    }
}

/// A chain for another challenge (a replay) does not verify: the verdict
/// blocks on `attestation.failed`, naming the step.
#[test]
fn an_attestation_that_fails_verification_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let r = check(
        dir.path(),
        &pixel("2025-11-05", "16"),
        &[
            "--attestation",
            &shared(CAIMAN),
            "--challenge",
            "an old challenge",
        ],
        CAIMAN_AT,
    );
    assert_eq!(r.code, 1, "{}", r.verdict);
    assert_eq!(
        indicators(&r.verdict, "indicators.hooking"),
        ["attestation.failed"]
    );
    assert!(
        r.verdict.to_string().contains("attestation step challenge"),
        "{}",
        r.verdict
    );
}

/// An App Attest object on facts that claim Android: the platform itself
/// is contradicted; on iOS facts the Secure Enclave level is attested.
#[test]
fn app_attest_facts_merge_and_platform_is_checked() {
    let vectors: Value =
        serde_json::from_str(&fs::read_to_string(shared("appattest/vectors.json")).unwrap())
            .unwrap();
    let a = vectors["attestations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "node-app-attest-production")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let object = dir.path().join("object.b64");
    fs::write(&object, a["attestation_object_b64"].as_str().unwrap()).unwrap();
    let object = object.display().to_string();
    let args = [
        "--attestation",
        &object,
        "--app-id",
        a["app_id"].as_str().unwrap(),
        "--key-id",
        a["key_id_b64"].as_str().unwrap(),
        "--client-data-hash",
        a["client_data_hash_b64"].as_str().unwrap(),
    ];
    let at = a["verify_at"].as_str().unwrap();
    let r = check(dir.path(), &pixel("2025-11-05", "16"), &args, at);
    assert_eq!(
        indicators(&r.verdict, "indicators.hooking"),
        ["attestation.contradiction.platform"],
        "{}",
        r.verdict
    );
    let ios = json!({"schema": 1, "platform": "ios",
        "os_version": {"state": "present", "value": "26.1"},
        "keystore_level": {"state": "present", "value": "secure_enclave"}});
    let r = check(dir.path(), &ios, &args, at);
    assert!(
        indicators(&r.verdict, "indicators.hooking").is_empty(),
        "{}",
        r.verdict
    );
    assert!(
        indicators(&r.verdict, "indicators.debugger").is_empty(),
        "{}",
        r.verdict
    );
    assert!(
        r.text
            .contains("attestation.apple.development, keystore_level"),
        "{}",
        r.text
    );
}
