//! Attested facts: what the device's secure hardware signed, merged into
//! the facts the app reported (DESIGN.md, "Device": attested facts win over
//! self-reported ones).
//!
//! A rooted phone with a hooking framework can make the app report a clean
//! device. A verified Android Key Attestation or Apple App Attest result
//! ([`crate::attestation`]) cannot be forged that way, so:
//!
//! - each attested value replaces the app's value of the same fact, and the
//!   fact's evidence says [`EvidenceSource::Attestation`] first (the app's
//!   evidence stays after it, marked as overridden);
//! - where the app reported something the hardware contradicts (a locked
//!   bootloader the attestation says is unlocked, a patch month, an OS
//!   version, a signing certificate), the contradiction itself becomes a
//!   strong `hooking` indicator (`attestation.contradiction.*`): the app's
//!   facts were tampered with, and the default policy blocks;
//! - the boot state and bootloader lock become strong `root` indicators
//!   (`attestation.android.verified_boot`, `attestation.android.bootloader_unlocked`),
//!   an App Attest key of the development environment a strong `debugger`
//!   indicator (`attestation.apple.development`): the policy's class rules
//!   (and its allow-list) decide, as for any other indicator.
//!
//! The facts schema does not change: a snapshot with attested facts is read,
//! hashed and evaluated as any other, and a server re-evaluating it gets the
//! same verdict.

use crate::attestation::{
    AndroidAttestation, AppAttestation, Environment, SecurityLevel, VerifiedBootState,
};

use super::facts::{
    DeviceEvidence, DeviceFact, DeviceFacts, DevicePlatform, EvidenceSource, FactState,
    IndicatorObservation,
};
use super::indicators::{IndicatorClass, IndicatorStrength};

/// The indicator of an attestation that did not verify.
pub(super) const FAILED_INDICATOR: &str = "attestation.failed";

/// Prefix of the contradiction indicators' ids.
pub const CONTRADICTION_PREFIX: &str = "attestation.contradiction.";

fn attested() -> DeviceEvidence {
    DeviceEvidence {
        source: EvidenceSource::Attestation,
        ..DeviceEvidence::probe()
    }
}

fn indicator(
    id: &str,
    class: IndicatorClass,
    present: bool,
    evidence: DeviceEvidence,
) -> IndicatorObservation {
    IndicatorObservation {
        id: id.to_owned(),
        class,
        strength: IndicatorStrength::Strong,
        state: if present {
            FactState::Present
        } else {
            FactState::Absent
        },
        evidence: vec![evidence],
    }
}

/// The facts an Android Key Attestation proves (only those; everything else
/// unknown), to merge with [`DeviceFacts::with_attested`].
///
/// A software-level attestation (Google's software root, whose key AOSP
/// publishes, or a software KeyMint) proves nothing about the device: it
/// gives no facts at all, so a policy that requires attestation treats the
/// device as unattested.
pub fn android_attested_facts(a: &AndroidAttestation) -> DeviceFacts {
    let mut f = DeviceFacts::new(DevicePlatform::Android);
    if a.security_level == SecurityLevel::Software {
        return f;
    }
    let kd = "KeyDescription";
    if let Some(p) = a.os_patch_level.and_then(patch_date) {
        f.security_patch = DeviceFact::known(
            p,
            attested()
                .property(format!("{kd}.osPatchLevel"))
                .value(a.os_patch_level.unwrap_or_default().to_string()),
        );
    }
    if let Some(v) = a.os_version.filter(|v| *v > 0) {
        f.os_version = DeviceFact::known(
            (v / 10_000).to_string(),
            attested()
                .property(format!("{kd}.osVersion"))
                .value(v.to_string()),
        );
    }
    let level = match a.security_level {
        SecurityLevel::Software => "none",
        SecurityLevel::TrustedEnvironment => "tee",
        SecurityLevel::StrongBox => "strongbox",
    };
    let revocation = a
        .revocation_list_sha256
        .map_or("no revocation list applied".to_owned(), |h| {
            format!("revocation list sha256 {}", hex::encode(h))
        });
    f.keystore_level = DeviceFact::known(
        level,
        attested()
            .property(format!("{kd}.attestationSecurityLevel"))
            .value(a.security_level.as_str())
            .detail(format!(
                "challenge {}; {revocation}",
                if a.challenge_checked {
                    "checked"
                } else {
                    "NOT checked (replayable)"
                }
            )),
    );
    if let Some(app) = &a.attestation_application_id {
        let packages: Vec<String> = app
            .packages
            .iter()
            .map(|p| format!("{} ({})", p.name, p.version))
            .collect();
        let names: Vec<&str> = app.packages.iter().map(|p| p.name.as_str()).collect();
        let app_evidence = || {
            attested()
                .property(format!("{kd}.attestationApplicationId.packageInfos"))
                .value(names.join(","))
        };
        if let [one] = names.as_slice() {
            f.app_id = DeviceFact::known(*one, app_evidence());
        } else if !names.is_empty() {
            // A shared UID: the app's reported package must be one of them.
            f.app_id = DeviceFact {
                state: FactState::Present,
                value: None,
                evidence: vec![app_evidence()],
            };
        }
        let digests: Vec<String> = app.signature_digests.iter().map(hex::encode).collect();
        if let [one] = digests.as_slice() {
            f.signing_cert_sha256 = DeviceFact::known(
                one.clone(),
                attested()
                    .property(format!("{kd}.attestationApplicationId"))
                    .value(one.clone())
                    .detail(format!("packages: {}", packages.join(", "))),
            );
        } else if !digests.is_empty() {
            // Several signers (a shared UID): the value is the one the app
            // reported when it is among them (see `with_attested`).
            f.signing_cert_sha256 = DeviceFact {
                state: FactState::Present,
                value: None,
                evidence: vec![
                    attested()
                        .property(format!("{kd}.attestationApplicationId"))
                        .value(digests.join(","))
                        .detail(format!("packages: {}", packages.join(", "))),
                ],
            };
        }
    }
    let boot = a.verified_boot_state;
    f.indicators.push(indicator(
        "attestation.android.verified_boot",
        IndicatorClass::Root,
        boot != VerifiedBootState::Verified,
        attested()
            .property(format!("{kd}.rootOfTrust.verifiedBootState"))
            .value(boot.as_str())
            .detail("present unless the OS was verified with the OEM key (green)"),
    ));
    f.indicators.push(indicator(
        "attestation.android.bootloader_unlocked",
        IndicatorClass::Root,
        !a.device_locked,
        attested()
            .property(format!("{kd}.rootOfTrust.deviceLocked"))
            .value(a.device_locked.to_string()),
    ));
    f.normalize();
    f
}

/// The facts an App Attest attestation proves, to merge with
/// [`DeviceFacts::with_attested`].
pub fn apple_attested_facts(a: &AppAttestation) -> DeviceFacts {
    let mut f = DeviceFacts::new(DevicePlatform::Ios);
    f.keystore_level = DeviceFact::known(
        "secure_enclave",
        attested()
            .property("AppAttest.credentialPublicKey")
            .value(a.app_id.clone())
            .detail(format!(
                "App Attest key of {} ({}), counter {}",
                a.app_id,
                a.environment.as_str(),
                a.counter
            )),
    );
    f.app_id = DeviceFact::known(
        a.app_id.clone(),
        attested()
            .property("AppAttest.authData.rpIdHash")
            .value(a.app_id.clone())
            .detail("SHA-256 of the App ID, checked by the verifier"),
    );
    f.indicators.push(indicator(
        "attestation.apple.development",
        IndicatorClass::Debugger,
        a.environment == Environment::Development,
        attested()
            .property("AppAttest.aaguid")
            .value(a.environment.as_str())
            .detail("present for a development-environment key (a debug build)"),
    ));
    f
}

/// Facts for an attestation that did not verify (a forged, replayed or
/// broken chain or object): a strong `hooking` indicator
/// `attestation.failed` naming the failed step, so the verdict blocks
/// under the default policy rather than falling back to the app's word.
pub fn failed_attestation(platform: DevicePlatform, step: &str, reason: &str) -> DeviceFacts {
    let mut f = DeviceFacts::new(platform);
    f.indicators.push(indicator(
        FAILED_INDICATOR,
        IndicatorClass::Hooking,
        true,
        attested()
            .property(format!("attestation step {step}"))
            .detail(reason.to_owned()),
    ));
    f
}

/// `YYYYMM` or `YYYYMMDD` as `YYYY-MM-DD` (the first of the month when only
/// the month is attested: the conservative reading of the patch's age).
fn patch_date(level: u64) -> Option<String> {
    let (y, m, d) = match level {
        100_000..=999_999 => (level / 100, level % 100, 1),
        10_000_000..=99_999_999 => (level / 10_000, level / 100 % 100, (level % 100).max(1)),
        _ => return None,
    };
    let s = format!("{y:04}-{m:02}-{d:02}");
    super::parse_patch_level(&s).map(|_| s)
}

/// App-reported indicator ids that state the same thing as an attested
/// indicator (present = the bad state).
const SAME_AS: &[(&str, &str)] = &[
    (
        "platform.bootloader_unlocked",
        "attestation.android.bootloader_unlocked",
    ),
    (
        "platform.verified_boot",
        "attestation.android.verified_boot",
    ),
];

impl DeviceFacts {
    /// Merges facts proven by attestation ([`android_attested_facts`],
    /// [`apple_attested_facts`]) into these app-reported facts: attested
    /// values win; contradictions become `attestation.contradiction.*`
    /// indicators (strong, `hooking`). The result is normalised.
    ///
    /// Evidence that already claims to come from an attestation in these
    /// facts is the app's claim, not a verification: it is dropped first
    /// (with the `attestation.*` indicators it carries), so that only the
    /// attestation verified by the caller counts.
    pub fn with_attested(mut self, attested: DeviceFacts) -> DeviceFacts {
        self.drop_claimed_attestation();
        // A failed or software-level attestation proves nothing, not even the
        // platform: only its `attestation.failed` indicator (if any) is kept.
        let proves = !attested.attested().is_empty()
            && !attested.indicators.iter().any(|o| o.id == FAILED_INDICATOR);
        if !proves {
            self.indicators.extend(attested.indicators);
            self.normalize();
            return self;
        }
        let mut contradictions = Vec::new();
        if self.platform != attested.platform && self.platform != DevicePlatform::Other {
            contradictions.push(contradiction(
                "platform",
                format!("{:?}", self.platform).to_lowercase(),
                format!("{:?}", attested.platform).to_lowercase(),
                Vec::new(),
                Vec::new(),
            ));
        }
        self.platform = attested.platform;
        let DeviceFacts {
            os_version,
            security_patch,
            keystore_level,
            signing_cert_sha256,
            app_id,
            indicators,
            ..
        } = attested;
        for (name, mine, theirs) in [
            ("os_version", &mut self.os_version, os_version),
            ("security_patch", &mut self.security_patch, security_patch),
            ("keystore_level", &mut self.keystore_level, keystore_level),
            (
                "signing_cert_sha256",
                &mut self.signing_cert_sha256,
                signing_cert_sha256,
            ),
            ("app_id", &mut self.app_id, app_id),
        ] {
            if theirs.state == FactState::Unknown {
                continue;
            }
            if let Some(c) = override_fact(name, mine, theirs) {
                contradictions.push(c);
            }
        }
        for obs in &indicators {
            for (reported_id, attested_id) in SAME_AS {
                let Some(r) = self.indicators.iter().find(|o| o.id == *reported_id) else {
                    continue;
                };
                if obs.id == *attested_id
                    && r.state != FactState::Unknown
                    && obs.state != FactState::Unknown
                    && r.state != obs.state
                {
                    contradictions.push(contradiction(
                        attested_id.trim_start_matches("attestation.android."),
                        state_word(r.state).into(),
                        state_word(obs.state).into(),
                        r.evidence.clone(),
                        obs.evidence.clone(),
                    ));
                }
            }
        }
        self.indicators.extend(indicators);
        self.indicators.extend(contradictions);
        self.normalize();
        self
    }

    /// Drops evidence that claims `"source": "attestation"` and every
    /// `attestation.*` indicator: what a device sends is its own word.
    pub(super) fn drop_claimed_attestation(&mut self) {
        let not_attested = |e: &DeviceEvidence| e.source != EvidenceSource::Attestation;
        for f in self.facts_mut() {
            f.evidence.retain(not_attested);
        }
        self.indicators
            .retain(|o| !o.id.starts_with("attestation."));
        for o in &mut self.indicators {
            o.evidence.retain(not_attested);
        }
    }

    /// The known facts (state not unknown) without attested evidence,
    /// sorted: what a verdict over these facts takes on the app's word.
    pub fn self_reported(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .named_facts()
            .into_iter()
            .filter(|(_, f)| {
                f.state != FactState::Unknown
                    && !f
                        .evidence
                        .iter()
                        .any(|e| e.source == EvidenceSource::Attestation)
            })
            .map(|(n, _)| n.to_owned())
            .collect();
        out.sort();
        out
    }

    /// Names of the facts and indicators with attested evidence, sorted: what
    /// a verdict over these facts rests on from hardware rather than the app.
    pub fn attested(&self) -> Vec<String> {
        let is = |e: &[DeviceEvidence]| e.iter().any(|e| e.source == EvidenceSource::Attestation);
        let mut out: Vec<String> = self
            .named_facts()
            .into_iter()
            .filter(|(_, f)| is(&f.evidence))
            .map(|(n, _)| n.to_owned())
            .chain(
                self.indicators
                    .iter()
                    .filter(|o| is(&o.evidence))
                    .map(|o| o.id.clone()),
            )
            .collect();
        out.sort();
        out
    }
}

/// The values a valued fact stands for: its value, or for a multi-valued
/// attested fact (several signers or packages) every attested value.
pub(super) fn fact_values(fact: &DeviceFact) -> Vec<String> {
    match &fact.value {
        Some(v) => vec![v.clone()],
        None if fact.state == FactState::Present => {
            attested_list(fact).map(str::to_owned).collect()
        }
        None => Vec::new(),
    }
}

/// The comma-separated values of a multi-valued attested fact's evidence.
fn attested_list(fact: &DeviceFact) -> impl Iterator<Item = &str> {
    fact.evidence
        .first()
        .and_then(|e| e.value.as_deref())
        .unwrap_or_default()
        .split(',')
        .filter(|v| !v.is_empty())
}

fn state_word(s: FactState) -> &'static str {
    match s {
        FactState::Present => "present",
        FactState::Absent => "absent",
        FactState::Unknown => "unknown",
    }
}

fn contradiction(
    what: &str,
    reported: String,
    attested: String,
    reported_evidence: Vec<DeviceEvidence>,
    attested_evidence: Vec<DeviceEvidence>,
) -> IndicatorObservation {
    let mut evidence = attested_evidence;
    evidence.extend(reported_evidence);
    evidence.push(
        DeviceEvidence {
            source: EvidenceSource::Attestation,
            ..DeviceEvidence::probe()
        }
        .value(format!(
            "app reported {reported}, hardware attested {attested}"
        ))
        .detail("the app's facts contradict the attestation: they were altered"),
    );
    IndicatorObservation {
        id: format!("{CONTRADICTION_PREFIX}{what}"),
        class: IndicatorClass::Hooking,
        strength: IndicatorStrength::Strong,
        state: FactState::Present,
        evidence,
    }
}

/// Replaces `mine` with the attested `theirs`; returns a contradiction when
/// the app had reported a value the attestation refutes.
fn override_fact(
    name: &str,
    mine: &mut DeviceFact,
    theirs: DeviceFact,
) -> Option<IndicatorObservation> {
    let reported = mine
        .value
        .clone()
        .filter(|_| mine.state == FactState::Present);
    let attested = theirs.value.clone();
    // What counts as the same value, per fact.
    let (agrees, keep_reported) = match (name, reported.as_deref(), attested.as_deref()) {
        (_, None, _) => (true, false),
        // Attested patch levels are often a month (YYYYMM): the same month
        // agrees, and the app's exact day is kept.
        ("security_patch", Some(r), Some(a)) => (r.get(..7) == a.get(..7), true),
        // The OS major version.
        ("os_version", Some(r), Some(a)) => (r.split('.').next() == Some(a), true),
        // The app reports the best keystore it has, the attestation the
        // level of the key it made: a hardware key agrees with any hardware
        // claim (and its level is the one the verdict uses); a software
        // attestation refutes a hardware claim.
        ("keystore_level", Some(r), Some(a)) => {
            let hw = |l: &str| l != "none";
            (hw(r) == hw(a), false)
        }
        ("signing_cert_sha256", Some(r), None) => {
            // Several attested signers: the app's must be one of them.
            (
                attested_list(&theirs).any(|d| d.eq_ignore_ascii_case(r)),
                true,
            )
        }
        // Several attested packages (a shared UID): the app's must be one
        // of them. Package names and App IDs are case-sensitive.
        ("app_id", Some(r), None) => (attested_list(&theirs).any(|p| p == r), true),
        ("app_id", Some(r), Some(a)) => (r == a, false),
        (_, Some(r), Some(a)) => (r.eq_ignore_ascii_case(a), false),
        (_, Some(_), None) => (true, true),
    };
    let old = std::mem::take(&mut mine.evidence);
    let c = (!agrees).then(|| {
        contradiction(
            name,
            reported.clone().unwrap_or_default(),
            attested.clone().unwrap_or_else(|| "another value".into()),
            old.clone(),
            theirs.evidence.clone(),
        )
    });
    mine.state = FactState::Present;
    mine.value = if agrees && keep_reported {
        reported
    } else {
        attested
    };
    mine.evidence = theirs.evidence;
    mine.evidence.extend(old.into_iter().map(|mut e| {
        e.detail = Some(match e.detail.take() {
            Some(d) => format!("{d}; self-reported, overridden by attestation"),
            None => "self-reported, overridden by attestation".into(),
        });
        e
    }));
    if !agrees && matches!(name, "signing_cert_sha256" | "app_id") && mine.value.is_none() {
        // No single attested value: the app's refuted value must not stand.
        mine.state = FactState::Unknown;
    }
    c
}
