//! `mamori device`: the real binary on real files.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

mod common;
use common::{mamori, repo, stderr};

fn example(name: &str) -> PathBuf {
    repo().join("examples/device").join(name)
}

fn default_policy() -> PathBuf {
    repo().join("core/src/device/default-policy.toml")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn check(facts: &Path, policy: &Path, extra: &[&str]) -> Output {
    check_at(facts, policy, "2026-11-25", extra)
}

fn check_at(facts: &Path, policy: &Path, at: &str, extra: &[&str]) -> Output {
    let mut a = vec![
        "device",
        "check",
        "--facts",
        s(facts),
        "--policy",
        s(policy),
        "--at",
        at,
    ];
    a.extend_from_slice(extra);
    mamori(&a)
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)))
}

#[test]
fn clean_pixel_is_allowed_exit_0() {
    let o = check(
        &example("pixel-clean.json"),
        &default_policy(),
        &["--format", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["decision"], "allow");
    assert_eq!(v["evaluated_at"], "2026-11-25");
    assert_eq!(v["findings"].as_array().unwrap().len(), 0);
    assert_eq!(v["facts_sha256"].as_str().unwrap().len(), 64);
}

#[test]
fn magisk_pixel_is_blocked_exit_1_with_explained_finding() {
    let o = check(
        &example("pixel-magisk.json"),
        &default_policy(),
        &["--format", "json"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["decision"], "block");
    let f = &v["findings"][0];
    assert_eq!(f["rule"], "indicators.root");
    assert_eq!(f["guideline"], "DEV-2");
    assert_eq!(f["masvs"][0], "MASVS-RESILIENCE-1");
    assert!(
        f["indicators"]
            .as_array()
            .unwrap()
            .contains(&Value::from("android.magisk.magisk_db"))
    );
    assert!(f["remediation"].as_str().unwrap().contains("Magisk"));
    // Text form, for auditors.
    let o = check(&example("pixel-magisk.json"), &default_policy(), &[]);
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.starts_with("verdict: BLOCK"), "{text}");
    assert!(
        text.contains("BLOCK indicators.root [DEV-2, MASVS-RESILIENCE-1, MASWE-0097]"),
        "{text}"
    );
    assert!(
        text.contains("evidence:    [probe] path=/data/adb/magisk.db value=file"),
        "{text}"
    );
}

/// The clean Pixel's facts with the 2026-06-05 security patch.
fn old_patch_facts(dir: &Path) -> PathBuf {
    let mut v: Value =
        serde_json::from_str(&fs::read_to_string(example("pixel-clean.json")).unwrap()).unwrap();
    v["security_patch"] = serde_json::json!({
        "state": "present", "value": "2026-06-05",
        "evidence": [{"source": "platform", "property": "Build.VERSION.SECURITY_PATCH", "value": "2026-06-05"}]
    });
    let facts = dir.join("old-patch.json");
    fs::write(&facts, v.to_string()).unwrap();
    facts
}

#[test]
fn old_patch_warns_exit_3_and_later_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let facts = old_patch_facts(dir.path());
    let o = check(&facts, &default_policy(), &["--format", "json"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(
        json(&o)["findings"][0]["rule"],
        "android.max_patch_age_days"
    );
    // A year and a day after the patch: block.
    let o = check_at(&facts, &default_policy(), "2027-06-06", &[]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn same_inputs_give_identical_output_whatever_the_formatting() {
    let a = check(
        &example("pixel-magisk.json"),
        &default_policy(),
        &["--format", "json"],
    );
    let b = check(
        &example("pixel-magisk.json"),
        &default_policy(),
        &["--format", "json"],
    );
    assert_eq!(a.stdout, b.stdout);
    // The same facts re-serialised compactly, and the same policy as JSON,
    // hash and evaluate identically (canonical forms).
    let dir = tempfile::tempdir().unwrap();
    let v: Value =
        serde_json::from_str(&fs::read_to_string(example("pixel-magisk.json")).unwrap()).unwrap();
    let compact = dir.path().join("facts.json");
    fs::write(&compact, serde_json::to_string(&v).unwrap()).unwrap();
    let c = check(&compact, &default_policy(), &["--format", "json"]);
    assert_eq!(c.stdout, a.stdout);
    let verdict = json(&a);
    assert_ne!(
        verdict["facts_sha256"],
        json(&check(
            &example("pixel-clean.json"),
            &default_policy(),
            &["--format", "json"]
        ))["facts_sha256"]
    );
}

#[test]
fn bad_inputs_exit_2_with_precise_messages() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.json");
    let o = check(&missing, &default_policy(), &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("nope.json"), "{}", stderr(&o));

    let broken = dir.path().join("broken.json");
    fs::write(
        &broken,
        "{\"schema\": 1,\n \"platform\": \"android\",\n \"rooted\": true}",
    )
    .unwrap();
    let o = check(&broken, &default_policy(), &[]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("broken.json") && e.contains("line 3") && e.contains("rooted"),
        "{e}"
    );

    let policy = dir.path().join("policy.toml");
    fs::write(
        &policy,
        fs::read_to_string(default_policy())
            .unwrap()
            .replace("min_api_level = 34", "min_api_level = 7"),
    )
    .unwrap();
    let o = check(&example("pixel-clean.json"), &policy, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o)
            .contains("policy.toml:\n  - android.min_api_level: 7 is not a plausible API level"),
        "{}",
        stderr(&o)
    );

    let o = mamori(&[
        "device",
        "check",
        "--facts",
        s(&example("pixel-clean.json")),
        "--policy",
        s(&default_policy()),
        "--at",
        "25/11/2026",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let o = mamori(&["device", "frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
    let o = mamori(&["device", "probe", "--fs-root", s(&missing)]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn probe_output_on_a_fake_magisk_tree_feeds_check() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let proc_ = dir.path().join("proc");
    fs::create_dir_all(root.join("system")).unwrap();
    fs::create_dir_all(root.join("data/adb/modules")).unwrap();
    fs::write(root.join("data/adb/magisk.db"), "").unwrap();
    fs::write(
        root.join("system/build.prop"),
        "ro.build.version.sdk=36\nro.build.version.release=16\nro.build.version.security_patch=2026-10-05\n",
    )
    .unwrap();
    fs::create_dir_all(proc_.join("self")).unwrap();
    fs::write(proc_.join("self/status"), "TracerPid:\t0\n").unwrap();
    fs::write(proc_.join("self/maps"), "").unwrap();
    fs::write(proc_.join("self/mountinfo"), "").unwrap();
    let o = mamori(&[
        "device",
        "probe",
        "--format",
        "json",
        "--platform",
        "android",
        "--no-ports",
        "--fs-root",
        s(&root),
        "--proc-root",
        s(&proc_),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let facts = dir.path().join("facts.json");
    fs::write(&facts, &o.stdout).unwrap();
    let o = check(&facts, &default_policy(), &["--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v = json(&o);
    let rules: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    // Root from the probes; the facts only the platform knows are unknown (warn).
    assert!(rules.contains(&"indicators.root"), "{rules:?}");
    assert!(rules.contains(&"device.screen_lock"), "{rules:?}");
}

#[test]
fn probe_of_this_machine_is_valid_facts_input() {
    let o = mamori(&["device", "probe", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let dir = tempfile::tempdir().unwrap();
    let facts = dir.path().join("here.json");
    fs::write(&facts, &o.stdout).unwrap();
    let o = check(&facts, &default_policy(), &["--format", "json"]);
    // Not a phone: the security level cannot be assessed -> never allow.
    assert_ne!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(matches!(o.status.code(), Some(1) | Some(3)));
    let text = mamori(&["device", "probe"]);
    assert!(
        String::from_utf8(text.stdout)
            .unwrap()
            .contains("indicators:")
    );
}

#[test]
fn default_policy_command_prints_a_loadable_policy() {
    let o = mamori(&["device", "default-policy"]);
    assert_eq!(o.status.code(), Some(0));
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.toml");
    fs::write(&p, &o.stdout).unwrap();
    let a = check(&example("pixel-clean.json"), &p, &["--format", "json"]);
    let b = check(
        &example("pixel-clean.json"),
        &default_policy(),
        &["--format", "json"],
    );
    assert_eq!(a.status.code(), Some(0));
    assert_eq!(json(&a)["policy_sha256"], json(&b)["policy_sha256"]);
}

#[test]
fn at_is_a_date_or_an_rfc3339_timestamp() {
    let dir = tempfile::tempdir().unwrap();
    let facts = old_patch_facts(dir.path());
    let run = |when: &str| check_at(&facts, &default_policy(), when, &["--format", "json"]);
    let at = |when: &str| {
        let o = run(when);
        (o.status.code(), json(&o)["evaluated_at"].clone())
    };
    // A year and a day after the patch blocks, however the day is written;
    // a timestamp counts by its UTC day.
    for when in [
        "2027-06-06",
        "2027-06-06T00:00:00Z",
        "2027-06-06T09:30:00+09:00",
        "2027-06-05T23:30:00-01:00",
    ] {
        assert_eq!(at(when), (Some(1), Value::from("2027-06-06")), "{when}");
    }
    // 2027-06-06 08:59 in Tokyo is still 2027-06-05 in UTC: only warns.
    assert_eq!(
        at("2027-06-06T08:59:59+09:00"),
        (Some(3), Value::from("2027-06-05"))
    );
    for bad in ["2027-06-06T00:00:00", "2027-02-30", "06/06/2027"] {
        assert_eq!(run(bad).status.code(), Some(2), "{bad}");
    }
}
