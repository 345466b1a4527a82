//! Policy edge cases and determinism of the verdict.

use mamori::device::*;
use proptest::prelude::*;
use time::Date;
use time::macros::date;

fn ev() -> DeviceEvidence {
    DeviceEvidence::platform()
}

/// A healthy Android snapshot, as exported by the collector + probes.
fn healthy(patch: &str) -> DeviceFacts {
    let mut f = DeviceFacts::new(DevicePlatform::Android);
    f.android_api_level = DeviceFact::known("35", ev().property("Build.VERSION.SDK_INT"));
    f.os_version = DeviceFact::known("15", ev());
    f.security_patch = DeviceFact::known(
        patch,
        ev().property("Build.VERSION.SECURITY_PATCH").value(patch),
    );
    f.screen_lock = DeviceFact::flag(FactState::Present, ev());
    f.biometrics_enrolled = DeviceFact::flag(FactState::Present, ev());
    f.keystore_level = DeviceFact::known("tee", ev());
    f.debugger_attached = DeviceFact::flag(FactState::Absent, ev());
    f.emulator = DeviceFact::flag(FactState::Absent, ev());
    f.developer_options = DeviceFact::flag(FactState::Absent, ev());
    f.adb_enabled = DeviceFact::flag(FactState::Absent, ev());
    f.installer = DeviceFact::known("com.android.vending", ev());
    for i in IndicatorTable::builtin().for_platform(DevicePlatform::Android) {
        f.indicators.push(IndicatorObservation {
            id: i.id.clone(),
            class: i.class,
            strength: i.strength,
            state: FactState::Absent,
            evidence: vec![DeviceEvidence::probe().path(i.target.clone())],
        });
    }
    f
}

fn set(f: &mut DeviceFacts, id: &str, state: FactState) {
    f.indicators
        .iter_mut()
        .find(|o| o.id == id)
        .unwrap_or_else(|| panic!("{id}"))
        .state = state;
}

fn rules(v: &DeviceVerdict) -> Vec<(&str, DeviceDecision)> {
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
    f.security_patch = DeviceFact::unknown();
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
    f.android_api_level = DeviceFact::known("33", ev());
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
    set(
        &mut f,
        "android.bin.busybox.system_xbin",
        FactState::Present,
    );
    set(&mut f, "android.prop.ro_debuggable", FactState::Present);
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
    set(&mut f, "android.prop.ro_debuggable", FactState::Absent);
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
    f.screen_lock = DeviceFact::flag(
        FactState::Absent,
        ev().property("KeyguardManager.isDeviceSecure")
            .value("false"),
    );
    f.keystore_level = DeviceFact::known("none", ev());
    f.developer_options = DeviceFact::flag(FactState::Present, ev());
    let mut p = policy();
    p.app.installers = vec!["com.android.vending".into()];
    p.app.signing_cert_sha256 = vec!["ab".repeat(32)];
    f.signing_cert_sha256 = DeviceFact::known("CD".repeat(32), ev());
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
    f.signing_cert_sha256 = DeviceFact::known("AB".repeat(32), ev());
    f.installer = DeviceFact::flag(FactState::Absent, ev());
    f.screen_lock = DeviceFact::flag(FactState::Present, ev());
    f.keystore_level = DeviceFact::known("strongbox", ev());
    f.developer_options = DeviceFact::flag(FactState::Absent, ev());
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
    set(&mut f, "android.magisk.magisk_db", FactState::Present);
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
    set(&mut f, "android.magisk.magisk_db", FactState::Unknown);
    assert_ne!(evaluate(&f, &p, AT).facts_sha256, v.facts_sha256);
}

fn weak_ids(class: IndicatorClass) -> Vec<String> {
    IndicatorTable::builtin()
        .for_platform(DevicePlatform::Android)
        .filter(|i| i.class == class && i.strength == IndicatorStrength::Weak)
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
            set(&mut f, id, FactState::Present);
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
        f.indicators[present * 7 % n].state = FactState::Present;
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

/// One observation as a source might send it: any class and strength, even
/// ones contradicting the indicator table.
fn observation(
    id: &str,
    class: IndicatorClass,
    strength: IndicatorStrength,
    state: FactState,
    seen: &str,
) -> IndicatorObservation {
    IndicatorObservation {
        id: id.to_owned(),
        class,
        strength,
        state,
        evidence: vec![DeviceEvidence::platform().value(seen)],
    }
}

/// Issue 9 item 9: duplicate observations of one indicator kept the first
/// one's class and strength, so swapping two entries turned `block` into
/// `warn`. The indicator table decides class and strength.
#[test]
fn duplicate_observations_take_class_and_strength_from_the_table() {
    let id = "android.magisk.magisk_db";
    let row = IndicatorTable::builtin().get(id).unwrap();
    assert_eq!(
        (row.class, row.strength),
        (IndicatorClass::Root, IndicatorStrength::Strong)
    );
    let mut f = healthy("2026-11-05");
    f.indicators.retain(|o| o.id != id);
    let mislabelled = observation(
        id,
        IndicatorClass::Emulator,
        IndicatorStrength::Weak,
        FactState::Present,
        "a",
    );
    let right = observation(id, row.class, row.strength, FactState::Present, "b");
    let mut a = f.clone();
    a.indicators.extend([mislabelled.clone(), right.clone()]);
    let mut b = f;
    b.indicators.extend([right, mislabelled]);
    let (va, vb) = (evaluate(&a, &policy(), AT), evaluate(&b, &policy(), AT));
    assert_eq!(va.decision, DeviceDecision::Block, "{:#?}", va.findings);
    assert_eq!(va.to_json(), vb.to_json());
    assert_eq!(a.sha256(), b.sha256());
    // Even alone, a mislabelled observation of a table indicator counts as
    // the table says.
    let mut c = healthy("2026-11-05");
    c.indicators.retain(|o| o.id != id);
    c.indicators.push(observation(
        id,
        IndicatorClass::Emulator,
        IndicatorStrength::Weak,
        FactState::Present,
        "a",
    ));
    assert_eq!(
        rules(&evaluate(&c, &policy(), AT)),
        [("indicators.root", DeviceDecision::Block)]
    );
}

/// Ids the generated observations use: table indicators of several classes
/// and strengths, and one id the table does not know (a platform-defined one).
fn id_pool() -> Vec<String> {
    let t = IndicatorTable::builtin();
    let mut ids: Vec<String> = [
        IndicatorClass::Root,
        IndicatorClass::Hooking,
        IndicatorClass::Emulator,
    ]
    .into_iter()
    .flat_map(|c| {
        [IndicatorStrength::Strong, IndicatorStrength::Weak]
            .into_iter()
            .filter_map(move |s| {
                t.for_platform(DevicePlatform::Android)
                    .find(|i| i.class == c && i.strength == s)
                    .map(|i| i.id.clone())
            })
    })
    .collect();
    ids.push("platform.vendor_check".to_owned());
    ids
}

fn any_observation() -> impl Strategy<Value = IndicatorObservation> {
    let classes = prop::sample::select(IndicatorClass::ALL.to_vec());
    let strengths = prop::sample::select(vec![IndicatorStrength::Strong, IndicatorStrength::Weak]);
    let states = prop::sample::select(vec![
        FactState::Present,
        FactState::Absent,
        FactState::Unknown,
    ]);
    (
        prop::sample::select(id_pool()),
        classes,
        strengths,
        states,
        "[ab]{0,2}",
    )
        .prop_map(|(id, c, s, st, seen)| observation(&id, c, s, st, &seen))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Issue 9 item 9: any permutation of the observations (duplicates
    /// included, with contradicting classes and strengths) gives the same
    /// verdict and the same facts hash.
    #[test]
    fn any_permutation_gives_the_same_verdict_and_facts_hash(
        (obs, shuffled) in prop::collection::vec(any_observation(), 1..10)
            .prop_flat_map(|v| (Just(v.clone()), Just(v).prop_shuffle()))
    ) {
        let mut a = healthy("2026-11-05");
        a.indicators.extend(obs);
        let mut b = healthy("2026-11-05");
        b.indicators.extend(shuffled);
        prop_assert_eq!(a.sha256(), b.sha256());
        prop_assert_eq!(evaluate(&a, &policy(), AT).to_json(), evaluate(&b, &policy(), AT).to_json());
        let mut na = a.clone();
        na.normalize();
        prop_assert!(na.is_normalized());
        prop_assert_eq!(na.sha256(), a.sha256());
    }
}
