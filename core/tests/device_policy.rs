//! Policy edge cases and determinism of the verdict.

use mamori::device::*;
use proptest::prelude::*;
use time::Date;
use time::macros::date;

fn ev() -> Evidence {
    Evidence::platform()
}

/// A healthy Android snapshot, as exported by the collector + probes.
fn healthy(patch: &str) -> DeviceFacts {
    let mut f = DeviceFacts::new(Platform::Android);
    f.android_api_level = Fact::known("35", ev().property("Build.VERSION.SDK_INT"));
    f.os_version = Fact::known("15", ev());
    f.security_patch = Fact::known(
        patch,
        ev().property("Build.VERSION.SECURITY_PATCH").value(patch),
    );
    f.screen_lock = Fact::flag(Tri::Present, ev());
    f.biometrics_enrolled = Fact::flag(Tri::Present, ev());
    f.keystore_level = Fact::known("tee", ev());
    f.debugger_attached = Fact::flag(Tri::Absent, ev());
    f.emulator = Fact::flag(Tri::Absent, ev());
    f.developer_options = Fact::flag(Tri::Absent, ev());
    f.adb_enabled = Fact::flag(Tri::Absent, ev());
    f.installer = Fact::known("com.android.vending", ev());
    for i in IndicatorTable::builtin().for_platform(Platform::Android) {
        f.indicators.push(Observation {
            id: i.id.clone(),
            class: i.class,
            strength: i.strength,
            state: Tri::Absent,
            evidence: vec![Evidence::probe().path(i.target.clone())],
        });
    }
    f
}

fn set(f: &mut DeviceFacts, id: &str, state: Tri) {
    f.indicators
        .iter_mut()
        .find(|o| o.id == id)
        .unwrap_or_else(|| panic!("{id}"))
        .state = state;
}

fn rules(v: &Verdict) -> Vec<(&str, DeviceDecision)> {
    v.findings
        .iter()
        .map(|f| (f.rule.as_str(), f.decision))
        .collect()
}

fn policy() -> DevicePolicy {
    DevicePolicy::fintech_default()
}

const AT: Date = date!(2026 - 11 - 25);

#[test]
fn healthy_device_is_allowed() {
    let v = evaluate(&healthy("2026-11-05"), &policy(), AT);
    assert_eq!(
        (v.decision, v.findings.len()),
        (DeviceDecision::Allow, 0),
        "{:#?}",
        v.findings
    );
    assert_eq!(v.evaluated_at, "2026-11-25");
    assert_eq!(v.policy_name, "mamori-fintech-default");
}

#[test]
fn patch_age_exactly_at_the_limit_passes_one_day_more_blocks() {
    let p = policy(); // max 365, warn after 120
    let patch = date!(2025 - 11 - 25);
    let f = healthy("2025-11-25");
    let at_limit = patch + time::Duration::days(365);
    let v = evaluate(&f, &p, at_limit);
    assert_eq!(
        rules(&v),
        [("android.max_patch_age_days", DeviceDecision::Warn)]
    );
    let v = evaluate(&f, &p, at_limit + time::Duration::days(1));
    assert_eq!(
        rules(&v),
        [("android.max_patch_age_days", DeviceDecision::Block)]
    );
    assert!(
        v.findings[0]
            .criterion
            .contains("is 366 days old on 2026-11-26"),
        "{}",
        v.findings[0].criterion
    );
    assert_eq!(v.findings[0].masvs, ["MASVS-CODE-1"]);
    // Same for the warning threshold: 120 days passes, 121 warns.
    let v = evaluate(&f, &p, patch + time::Duration::days(120));
    assert_eq!(rules(&v), []);
    let v = evaluate(&f, &p, patch + time::Duration::days(121));
    assert_eq!(
        rules(&v),
        [("android.max_patch_age_days", DeviceDecision::Warn)]
    );
}

#[test]
fn unknown_or_unparseable_patch_never_passes() {
    for patch in ["2026-13-01", "2026-10", "", "October 2026"] {
        let v = evaluate(&healthy(patch), &policy(), AT);
        assert_eq!(
            rules(&v),
            [("android.max_patch_age_days", DeviceDecision::Warn)],
            "{patch:?}"
        );
        assert!(v.findings[0].criterion.contains("could not be established"));
    }
    let mut f = healthy("2026-11-05");
    f.security_patch = Fact::unknown();
    let mut strict = policy();
    strict.unknown = DeviceDecision::Block;
    assert_eq!(evaluate(&f, &strict, AT).decision, DeviceDecision::Block);
    // A patch level far in the future is inconsistent with the date: unknown.
    let v = evaluate(&healthy("2027-06-01"), &policy(), AT);
    assert_eq!(
        rules(&v),
        [("android.max_patch_age_days", DeviceDecision::Warn)]
    );
}

#[test]
fn old_api_level_blocks() {
    let mut f = healthy("2026-11-05");
    f.android_api_level = Fact::known("33", ev());
    let v = evaluate(&f, &policy(), AT);
    assert_eq!(
        rules(&v),
        [("android.min_api_level", DeviceDecision::Block)]
    );
    assert!(v.findings[0].criterion.contains("device has 33"));
}

#[test]
fn allow_listed_busybox_does_not_count() {
    let mut f = healthy("2026-11-05");
    set(&mut f, "android.bin.busybox.system_xbin", Tri::Present);
    set(&mut f, "android.prop.ro_debuggable", Tri::Present);
    // Default policy allow-lists /system/xbin/busybox: one weak indicator left -> warn.
    let v = evaluate(&f, &policy(), AT);
    assert_eq!(
        rules(&v),
        [
            ("indicators.root", DeviceDecision::Warn),
            ("indicators.root.allow", DeviceDecision::Allow)
        ]
    );
    let root = v
        .coverage
        .iter()
        .find(|c| c.class == IndicatorClass::Root)
        .unwrap();
    assert_eq!((root.present, root.allowlisted), (1, 1));
    // Without the allow-list the two weak indicators corroborate -> block.
    let mut p = policy();
    p.allow.indicators.clear();
    let v = evaluate(&f, &p, AT);
    assert_eq!(rules(&v), [("indicators.root", DeviceDecision::Block)]);
    assert_eq!(
        v.findings[0].indicators,
        [
            "android.bin.busybox.system_xbin",
            "android.prop.ro_debuggable"
        ]
    );
    // Allow-listed busybox alone: allowed, and the audit trail says why.
    set(&mut f, "android.prop.ro_debuggable", Tri::Absent);
    let v = evaluate(&f, &policy(), AT);
    assert_eq!(v.decision, DeviceDecision::Allow);
    assert_eq!(
        rules(&v),
        [("indicators.root.allow", DeviceDecision::Allow)]
    );
}

#[test]
fn screen_lock_keystore_installer_and_signature() {
    let mut f = healthy("2026-11-05");
    f.screen_lock = Fact::flag(
        Tri::Absent,
        ev().property("KeyguardManager.isDeviceSecure")
            .value("false"),
    );
    f.keystore_level = Fact::known("none", ev());
    f.developer_options = Fact::flag(Tri::Present, ev());
    let mut p = policy();
    p.app.installers = vec!["com.android.vending".into()];
    p.app.signing_cert_sha256 = vec!["ab".repeat(32)];
    f.signing_cert_sha256 = Fact::known("CD".repeat(32), ev());
    let v = evaluate(&f, &p, AT);
    assert_eq!(
        rules(&v),
        [
            ("device.screen_lock", DeviceDecision::Block),
            ("device.keystore", DeviceDecision::Block),
            ("device.developer_options", DeviceDecision::Warn),
            ("app.signing_cert_sha256", DeviceDecision::Block),
        ]
    );
    let lock = &v.findings[0];
    assert_eq!(lock.guideline, mamori::guideline::GuidelineId::Dev3);
    assert_eq!(
        lock.evidence[0].property.as_deref(),
        Some("KeyguardManager.isDeviceSecure")
    );
    assert_eq!(
        v.findings[1].guideline,
        mamori::guideline::GuidelineId::Dev1
    );
    // Upper-case digest of the right certificate matches; sideloading blocks.
    f.signing_cert_sha256 = Fact::known("AB".repeat(32), ev());
    f.installer = Fact::flag(Tri::Absent, ev());
    f.screen_lock = Fact::flag(Tri::Present, ev());
    f.keystore_level = Fact::known("strongbox", ev());
    f.developer_options = Fact::flag(Tri::Absent, ev());
    let v = evaluate(&f, &p, AT);
    assert_eq!(rules(&v), [("app.installers", DeviceDecision::Block)]);
    assert!(v.findings[0].criterion.contains("none (sideloaded)"));
}

#[test]
fn invalid_policy_file_is_rejected_with_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bank.toml");
    std::fs::write(
        &path,
        DEFAULT_POLICY_TOML.replace("weak_threshold = 3", "weak_threshold = 0"),
    )
    .unwrap();
    let e = DevicePolicy::load(&path).unwrap_err();
    assert!(
        matches!(&e, PolicyError::Invalid { problems, .. }
            if problems.len() == 1 && problems[0].field == "indicators.emulator.weak_threshold"),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        format!(
            "invalid device policy {}:\n  - indicators.emulator.weak_threshold: must be at least 1",
            path.display()
        )
    );
    std::fs::write(&path, "format = 1\nname = \"x\"\n").unwrap();
    let e = DevicePolicy::load(&path).unwrap_err();
    assert!(e.to_string().contains("missing field"), "{e}");
    let e = DevicePolicy::load(&dir.path().join("missing.toml")).unwrap_err();
    assert!(matches!(e, PolicyError::Read { .. }));
}

#[test]
fn verdict_json_is_byte_identical_and_hashes_bind_inputs() {
    let mut f = healthy("2026-03-01");
    set(&mut f, "android.magisk.magisk_db", Tri::Present);
    let p = policy();
    let a = evaluate(&f, &p, AT).to_json();
    let b = evaluate(&f, &p, AT).to_json();
    assert_eq!(a, b);
    // Through an export/import round trip of the facts, as a server would.
    let exported = String::from_utf8(f.canonical_json()).unwrap();
    let g = DeviceFacts::from_json(&exported).unwrap();
    assert_eq!(evaluate(&g, &p, AT).to_json(), a);
    let v = evaluate(&f, &p, AT);
    assert_eq!(v.facts_sha256, f.sha256());
    assert_eq!(v.facts_sha256.len(), 64);
    assert_eq!(v.policy_sha256, p.sha256());
    // A sealed snapshot evaluates to the same bytes without re-hashing.
    let snapshot = FactsSnapshot::new(f.clone());
    assert_eq!(snapshot.sha256(), v.facts_sha256);
    assert_eq!(evaluate_snapshot(&snapshot, &p, AT).to_json(), a);
    // Any change of facts changes the facts hash.
    set(&mut f, "android.magisk.magisk_db", Tri::Unknown);
    assert_ne!(evaluate(&f, &p, AT).facts_sha256, v.facts_sha256);
}

fn weak_ids(class: IndicatorClass) -> Vec<String> {
    IndicatorTable::builtin()
        .for_platform(Platform::Android)
        .filter(|i| i.class == class && i.strength == Strength::Weak)
        .map(|i| i.id.clone())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Weak indicators block exactly when at least `weak_threshold` agree,
    /// and warn below that.
    #[test]
    fn corroboration_threshold(n in 0usize..6, threshold in 1u32..6) {
        let ids = weak_ids(IndicatorClass::Emulator);
        prop_assume!(n <= ids.len());
        let mut f = healthy("2026-11-05");
        for id in &ids[..n] {
            set(&mut f, id, Tri::Present);
        }
        let mut p = policy();
        p.indicators.get_mut(&IndicatorClass::Emulator).unwrap().weak_threshold = threshold;
        let v = evaluate(&f, &p, AT);
        let expected = if n == 0 {
            DeviceDecision::Allow
        } else if n as u32 >= threshold {
            DeviceDecision::Block
        } else {
            DeviceDecision::Warn
        };
        prop_assert_eq!(v.decision, expected);
    }

    /// The order in which sources reported indicators does not matter.
    #[test]
    fn indicator_order_does_not_change_the_verdict(seed in any::<u64>(), present in 0usize..20) {
        let mut f = healthy("2026-06-05");
        let n = f.indicators.len();
        f.indicators[present * 7 % n].state = Tri::Present;
        let base = evaluate(&f, &policy(), AT).to_json();
        let mut g = f.clone();
        // Deterministic shuffle from the seed.
        let mut s = seed;
        for i in (1..n).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            g.indicators.swap(i, (s >> 33) as usize % (i + 1));
        }
        prop_assert_eq!(evaluate(&g, &policy(), AT).to_json(), base);
    }
}
