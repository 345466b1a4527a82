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
    check_policy(dir, facts, attestation, at, |p| p)
}

/// [`check`] with the default policy changed by `edit`.
fn check_policy(
    dir: &Path,
    facts: &Value,
    attestation: &[&str],
    at: &str,
    edit: impl FnOnce(String) -> String,
) -> Run {
    let facts_file = dir.join("facts.json");
    fs::write(&facts_file, facts.to_string()).unwrap();
    let policy = dir.join("policy.toml");
    let default = String::from_utf8(mamori(&["device", "default-policy"]).stdout).unwrap();
    fs::write(&policy, edit(default)).unwrap();
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
            .contains("attested:      app_id, attestation.android.bootloader_unlocked"),
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

/// iOS facts as an app reports them: iOS 26.1, Secure Enclave.
fn iphone() -> Value {
    json!({"schema": 1, "platform": "ios",
        "os_version": {"state": "present", "value": "26.1"},
        "keystore_level": {"state": "present", "value": "secure_enclave"}})
}

/// The shared `node-app-attest-production` App Attest vector, its object
/// written to a file, and the `--attestation` flags that verify it.
struct AppAttestVector {
    object: String,
    app_id: String,
    key_id: String,
    client_data_hash: String,
    at: String,
}

impl AppAttestVector {
    fn new(dir: &Path) -> Self {
        let vectors: Value =
            serde_json::from_str(&fs::read_to_string(shared("appattest/vectors.json")).unwrap())
                .unwrap();
        let a = vectors["attestations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == "node-app-attest-production")
            .unwrap();
        let text = |k: &str| a[k].as_str().unwrap().to_owned();
        let object = dir.join("object.b64");
        fs::write(&object, text("attestation_object_b64")).unwrap();
        Self {
            object: object.display().to_string(),
            app_id: text("app_id"),
            key_id: text("key_id_b64"),
            client_data_hash: text("client_data_hash_b64"),
            at: text("verify_at"),
        }
    }

    fn args(&self) -> [&str; 8] {
        [
            "--attestation",
            &self.object,
            "--app-id",
            &self.app_id,
            "--key-id",
            &self.key_id,
            "--client-data-hash",
            &self.client_data_hash,
        ]
    }
}

/// An App Attest object on facts that claim Android: the platform itself
/// is contradicted; on iOS facts the Secure Enclave level is attested.
#[test]
fn app_attest_facts_merge_and_platform_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let v = AppAttestVector::new(dir.path());
    let args = v.args();
    let at = v.at.as_str();
    let r = check(dir.path(), &pixel("2025-11-05", "16"), &args, at);
    assert_eq!(
        indicators(&r.verdict, "indicators.hooking"),
        ["attestation.contradiction.platform"],
        "{}",
        r.verdict
    );
    let ios = iphone();
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

/// The default policy with `[attestation] unattested = DECISION`.
fn requiring_attestation(decision: &str) -> impl FnOnce(String) -> String {
    move |p| format!("{p}\n[attestation]\nunattested = \"{decision}\"\n")
}

/// The default policy with `app.ids = ids`.
fn accepting_app_ids(ids: &[&str]) -> impl FnOnce(String) -> String {
    let list = ids
        .iter()
        .map(|i| format!("{i:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    move |p| {
        let anchor = "signature_mismatch = \"block\"\n";
        assert!(p.contains(anchor));
        p.replacen(anchor, &format!("{anchor}ids = [{list}]\n"), 1)
    }
}

fn rules(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .collect()
}

fn has_rule(v: &Value, rule: &str) -> bool {
    rules(v).iter().any(|r| r == rule)
}

fn names(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect()
}

/// `[attestation] unattested`: without a verified attestation the verdict
/// blocks or warns as the policy says, and lists every fact as self-reported;
/// with the real caiman chain it does not, and the JSON names what the
/// hardware proved.
#[test]
fn a_policy_can_require_attested_facts() {
    let dir = tempfile::tempdir().unwrap();
    let facts = pixel("2025-11-05", "16");
    let alone = check_policy(
        dir.path(),
        &facts,
        &[],
        CAIMAN_AT,
        requiring_attestation("block"),
    );
    assert_eq!(alone.code, 1, "{}", alone.verdict);
    assert!(has_rule(&alone.verdict, "attestation.unattested"));
    assert_eq!(names(&alone.verdict["attested_facts"]), Vec::<&str>::new());
    let reported = names(&alone.verdict["self_reported_facts"]);
    for fact in ["os_version", "security_patch", "screen_lock"] {
        assert!(reported.contains(&fact), "{fact}: {reported:?}");
    }
    // The default policy does not require attestation: no such finding.
    let default = check(dir.path(), &facts, &[], CAIMAN_AT);
    assert!(!has_rule(&default.verdict, "attestation.unattested"));

    let warn = check_policy(
        dir.path(),
        &facts,
        &[],
        CAIMAN_AT,
        requiring_attestation("warn"),
    );
    let finding = warn.verdict["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "attestation.unattested")
        .unwrap_or_else(|| panic!("{}", warn.verdict))
        .clone();
    assert_eq!(finding["decision"], "warn");
    assert_eq!(finding["guideline"], "DEV-2");

    let attested = check_policy(
        dir.path(),
        &facts,
        &[
            "--attestation",
            &shared(CAIMAN),
            "--challenge",
            CAIMAN_CHALLENGE,
        ],
        CAIMAN_AT,
        requiring_attestation("block"),
    );
    assert!(
        !has_rule(&attested.verdict, "attestation.unattested"),
        "{}",
        attested.verdict
    );
    let proven = names(&attested.verdict["attested_facts"]);
    for fact in [
        "app_id",
        "keystore_level",
        "os_version",
        "security_patch",
        "attestation.android.verified_boot",
    ] {
        assert!(proven.contains(&fact), "{fact}: {proven:?}");
    }
    let reported = names(&attested.verdict["self_reported_facts"]);
    assert!(reported.contains(&"screen_lock"), "{reported:?}");
    assert!(!reported.contains(&"security_patch"), "{reported:?}");
}

/// A failed attestation is no attestation; and facts that merely *claim*
/// attested evidence (a hooked app writing `"source": "attestation"`) do not
/// satisfy the requirement once the server verifies an attestation itself.
#[test]
fn claimed_or_failed_attestations_do_not_count() {
    let dir = tempfile::tempdir().unwrap();
    let mut facts = pixel("2025-11-05", "16");
    facts["security_patch"]["evidence"][0]["source"] = json!("attestation");
    facts["indicators"].as_array_mut().unwrap().push(json!({
        "id": "attestation.android.verified_boot", "class": "root", "strength": "strong",
        "state": "absent", "evidence": [{"source": "attestation", "value": "verified"}]
    }));
    let r = check_policy(
        dir.path(),
        &facts,
        &[
            "--attestation",
            &shared(CAIMAN),
            "--challenge",
            "a replayed challenge",
        ],
        CAIMAN_AT,
        requiring_attestation("block"),
    );
    assert_eq!(r.code, 1, "{}", r.verdict);
    assert!(
        has_rule(&r.verdict, "attestation.unattested"),
        "{}",
        r.verdict
    );
    assert_eq!(names(&r.verdict["attested_facts"]), ["attestation.failed"]);
    assert!(names(&r.verdict["self_reported_facts"]).contains(&"security_patch"));
}

/// `app.ids`: the package name in the attestation's
/// attestationApplicationId (caiman: com.google.android.attestation) is
/// matched against the policy; an app that reports another one is
/// contradicted.
#[test]
fn the_attested_package_name_is_matched_against_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    let facts = pixel("2025-11-05", "16");
    let args = [
        "--attestation",
        &shared(CAIMAN),
        "--challenge",
        CAIMAN_CHALLENGE,
    ];
    let ok = check_policy(
        dir.path(),
        &facts,
        &args,
        CAIMAN_AT,
        accepting_app_ids(&["jp.bank.app", "com.google.android.attestation"]),
    );
    assert!(!has_rule(&ok.verdict, "app.ids"), "{}", ok.verdict);

    let other = check_policy(
        dir.path(),
        &facts,
        &args,
        CAIMAN_AT,
        accepting_app_ids(&["jp.bank.app"]),
    );
    assert_eq!(other.code, 1, "{}", other.verdict);
    let finding = other.verdict["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "app.ids")
        .unwrap_or_else(|| panic!("{}", other.verdict))
        .clone();
    assert_eq!(finding["decision"], "block");
    assert!(
        finding["criterion"]
            .as_str()
            .unwrap()
            .contains("app id is com.google.android.attestation"),
        "{finding}"
    );
    assert!(
        finding.to_string().contains(r#""source":"attestation""#),
        "{finding}"
    );

    // The app claims to be jp.bank.app; the hardware says otherwise.
    let mut lying = facts.clone();
    lying["app_id"] = json!({"state": "present", "value": "jp.bank.app",
        "evidence": [{"source": "platform", "property": "Context.getPackageName"}]});
    let r = check_policy(
        dir.path(),
        &lying,
        &args,
        CAIMAN_AT,
        accepting_app_ids(&["jp.bank.app"]),
    );
    assert!(has_rule(&r.verdict, "app.ids"), "{}", r.verdict);
    assert!(
        indicators(&r.verdict, "indicators.hooking")
            .contains(&"attestation.contradiction.app_id".to_owned()),
        "{}",
        r.verdict
    );
    // Without an attestation the app's own word is matched (and listed as self-reported).
    let alone = check_policy(
        dir.path(),
        &lying,
        &[],
        CAIMAN_AT,
        accepting_app_ids(&["jp.bank.app"]),
    );
    assert!(!has_rule(&alone.verdict, "app.ids"), "{}", alone.verdict);
    assert!(names(&alone.verdict["self_reported_facts"]).contains(&"app_id"));
}

/// The App Attest App ID (TEAMID.bundle, proven by rpIdHash) against `app.ids`.
#[test]
fn the_attested_app_id_is_matched_against_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    let v = AppAttestVector::new(dir.path());
    let (args, at, app_id) = (v.args(), v.at.as_str(), v.app_id.as_str());
    let ios = iphone();
    let ok = check_policy(dir.path(), &ios, &args, at, accepting_app_ids(&[app_id]));
    assert!(!has_rule(&ok.verdict, "app.ids"), "{}", ok.verdict);
    assert!(names(&ok.verdict["attested_facts"]).contains(&"app_id"));
    let other = check_policy(
        dir.path(),
        &ios,
        &args,
        at,
        accepting_app_ids(&["ABCDE12345.jp.bank.app"]),
    );
    assert!(has_rule(&other.verdict, "app.ids"), "{}", other.verdict);
    assert_eq!(other.code, 1);
}

/// Evidence in the device's own facts that claims `"source": "attestation"`
/// is its word: it does not satisfy `unattested = "block"` (it did before:
/// one such evidence entry turned the block into allow). A snapshot the
/// server stored itself keeps it with `--stored-snapshot`.
#[test]
fn facts_that_claim_attestation_are_the_devices_word() {
    let dir = tempfile::tempdir().unwrap();
    let mut facts = pixel("2025-11-05", "16");
    facts["security_patch"]["evidence"]
        .as_array_mut()
        .unwrap()
        .push(json!({"source": "attestation", "property": "KeyDescription.osPatchLevel"}));
    let claimed = check_policy(
        dir.path(),
        &facts,
        &[],
        CAIMAN_AT,
        requiring_attestation("block"),
    );
    assert_eq!(claimed.code, 1, "{}", claimed.verdict);
    assert!(has_rule(&claimed.verdict, "attestation.unattested"));
    assert_eq!(
        names(&claimed.verdict["attested_facts"]),
        Vec::<&str>::new()
    );
    let stored = check_policy(
        dir.path(),
        &facts,
        &["--stored-snapshot"],
        CAIMAN_AT,
        requiring_attestation("block"),
    );
    assert!(
        !has_rule(&stored.verdict, "attestation.unattested"),
        "{}",
        stored.verdict
    );
    assert_eq!(names(&stored.verdict["attested_facts"]), ["security_patch"]);
}

/// A failed attestation proves nothing, not even the platform: iOS facts
/// with an Android chain that does not verify stay iOS facts, and count as
/// unattested (before, the platform "contradiction" counted as attested).
#[test]
fn a_failed_attestation_proves_no_platform() {
    let dir = tempfile::tempdir().unwrap();
    let r = check_policy(
        dir.path(),
        &iphone(),
        &[
            "--attestation",
            &shared(CAIMAN),
            "--challenge",
            "an old challenge",
        ],
        CAIMAN_AT,
        requiring_attestation("block"),
    );
    assert_eq!(r.verdict["platform"], "ios", "{}", r.verdict);
    assert_eq!(names(&r.verdict["attested_facts"]), ["attestation.failed"]);
    assert!(
        has_rule(&r.verdict, "attestation.unattested"),
        "{}",
        r.verdict
    );
    assert!(
        !indicators(&r.verdict, "indicators.hooking")
            .contains(&"attestation.contradiction.platform".to_owned()),
        "{}",
        r.verdict
    );
}

/// An Android attestation is checked against the server's challenge: without
/// a challenge flag `device check` refuses (exit 2) unless `--no-challenge`
/// says a replayable one is accepted, and the evidence then says so.
#[test]
fn an_android_attestation_needs_a_challenge_unless_waived() {
    let dir = tempfile::tempdir().unwrap();
    let facts = dir.path().join("facts.json");
    fs::write(&facts, pixel("2025-11-05", "16").to_string()).unwrap();
    let f = facts.display().to_string();
    let policy = example("bank-policy.toml").display().to_string();
    let chain = shared(CAIMAN);
    let base = [
        "device",
        "check",
        "--facts",
        &f,
        "--policy",
        &policy,
        "--at",
        CAIMAN_AT,
        "--attestation",
        &chain,
    ];
    let refused = mamori(&base);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--no-challenge"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let waived = check(
        dir.path(),
        &pixel("2025-11-05", "16"),
        &["--attestation", &chain, "--no-challenge"],
        CAIMAN_AT,
    );
    assert_ne!(waived.code, 2, "{}", waived.verdict);
    assert!(names(&waived.verdict["attested_facts"]).contains(&"keystore_level"));
}

/// A software-level attestation (Google's software root: its key is in AOSP)
/// proves nothing about the device, even with `--allow-software-root`.
#[test]
fn a_software_attestation_gives_no_attested_facts() {
    let dir = tempfile::tempdir().unwrap();
    let r = check_policy(
        dir.path(),
        &pixel("2019-10-05", "10"),
        &[
            "--attestation",
            &shared("keyattestation/testdata/marlin/sdk29/TEE_EC_NONE.pem"),
            "--allow-software-root",
            "--no-challenge",
        ],
        "2019-10-29T00:21:52Z",
        requiring_attestation("block"),
    );
    assert_eq!(
        names(&r.verdict["attested_facts"]),
        Vec::<&str>::new(),
        "{}",
        r.verdict
    );
    assert!(
        has_rule(&r.verdict, "attestation.unattested"),
        "{}",
        r.verdict
    );
}
