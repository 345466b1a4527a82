//! Evaluation: facts + policy + date -> an explained, reproducible verdict.
//!
//! Evaluation is a pure function: it reads no clock (the date is an input),
//! no files and no globals other than the compiled-in indicator table, and it
//! walks rules in a fixed order over normalised facts. The verdict carries the
//! SHA-256 of the canonical facts and of the canonical policy, so a server
//! holding the exported facts and the same policy gets byte-identical JSON.
//!
//! Findings follow the guideline's four-part shape (criterion with its
//! [`GuidelineId`], risk, evidence, remediation) and name the OWASP MASVS
//! control and MASWE weakness they serve.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::guideline::GuidelineId;

use super::facts::{
    DeviceEvidence, DeviceFact, DeviceFacts, DevicePlatform, FactState, IndicatorObservation,
    KeystoreLevel,
};
use super::indicators::{IndicatorClass, IndicatorStrength, IndicatorTable};
use super::policy::{DeviceDecision, DevicePolicy};

/// Version of the verdict JSON format.
pub const VERDICT_FORMAT: u32 = 1;

/// One reason for the verdict, in the guideline's four-part shape.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceFinding {
    /// Policy rule that produced it (`android.max_patch_age_days`, `indicators.root`).
    pub rule: String,
    /// What this finding contributes to the verdict.
    pub decision: DeviceDecision,
    /// Guideline item served.
    pub guideline: GuidelineId,
    /// The criterion: the guideline item and the policy's concrete threshold.
    pub criterion: String,
    /// The risk if ignored.
    pub risk: String,
    /// What was seen, and by whom.
    pub evidence: Vec<DeviceEvidence>,
    /// Indicator ids involved (indicator rules only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indicators: Vec<String>,
    /// What the user or the app team can do.
    pub remediation: String,
    /// OWASP MASVS controls (`MASVS-RESILIENCE-1`).
    pub masvs: Vec<String>,
    /// OWASP MASWE weaknesses (`MASWE-0097`).
    pub maswe: Vec<String>,
}

/// How much of one indicator class could be checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndicatorCoverage {
    /// The class.
    pub class: IndicatorClass,
    /// Indicators found.
    pub present: u32,
    /// Indicators checked and not found.
    pub absent: u32,
    /// Indicators that could not be checked.
    pub unknown: u32,
    /// Present indicators ignored because the policy allow-lists them.
    pub allowlisted: u32,
}

/// The result of evaluating a policy over a facts snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceVerdict {
    /// DeviceVerdict format.([`VERDICT_FORMAT`]).
    pub format: u32,
    /// Allow, warn or block: the strictest finding.
    pub decision: DeviceDecision,
    /// Platform evaluated.
    pub platform: DevicePlatform,
    /// Evaluation date (`YYYY-MM-DD`), an input.
    pub evaluated_at: String,
    /// Policy name.
    pub policy_name: String,
    /// SHA-256 of the canonical policy JSON.
    pub policy_sha256: String,
    /// SHA-256 of the canonical facts JSON.
    pub facts_sha256: String,
    /// Indicator table version.
    pub indicator_table: String,
    /// Findings, in rule order.
    pub findings: Vec<DeviceFinding>,
    /// Per-class coverage, in class order.
    pub coverage: Vec<IndicatorCoverage>,
    /// Facts and indicators the verdict has from a verified hardware
    /// attestation (evidence source `attestation`), sorted: `security_patch`,
    /// `app_id`, `attestation.android.verified_boot`, ...
    #[serde(default)]
    pub attested_facts: Vec<String>,
    /// Facts that are known only from the app's own report (or Mamori's
    /// probes in the app), sorted: a hooked app can forge these.
    #[serde(default)]
    pub self_reported_facts: Vec<String>,
}

impl DeviceVerdict {
    /// Pretty JSON; identical inputs give identical bytes.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("verdict always serialises")
    }
}

struct Rule {
    guideline: GuidelineId,
    masvs: &'static [&'static str],
    maswe: &'static [&'static str],
    risk: &'static str,
    remediation: &'static str,
}

const OS_FLOOR: Rule = Rule {
    guideline: GuidelineId::Dev2,
    masvs: &["MASVS-CODE-1"],
    maswe: &["MASWE-0077"],
    risk: "Known, publicly documented OS vulnerabilities remain exploitable on this device.",
    remediation: "Update the device to a supported OS release, or use a supported device.",
};
const PATCH: Rule = Rule {
    guideline: GuidelineId::Dev2,
    masvs: &["MASVS-CODE-1"],
    maswe: &["MASWE-0077"],
    risk: "Vulnerabilities fixed in later monthly security bulletins are exploitable on this device.",
    remediation: "Install the latest system update (Settings > System > Software update).",
};
const SCREEN_LOCK: Rule = Rule {
    guideline: GuidelineId::Dev3,
    masvs: &["MASVS-RESILIENCE-1", "MASVS-AUTH-2"],
    maswe: &["MASWE-0008"],
    risk: "Anyone holding the phone can open it and the app; keystore keys bound to user authentication cannot be used.",
    remediation: "Set a screen lock (PIN, password or passcode) in the device settings.",
};
const BIOMETRICS: Rule = Rule {
    guideline: GuidelineId::Dev3,
    masvs: &["MASVS-AUTH-2"],
    maswe: &["MASWE-0044"],
    risk: "App-level step-up authentication must fall back to weaker factors.",
    remediation: "Enrol a fingerprint or face in the device settings, or use the app passcode.",
};
const KEYSTORE: Rule = Rule {
    guideline: GuidelineId::Dev1,
    masvs: &["MASVS-CRYPTO-2", "MASVS-STORAGE-1"],
    maswe: &[],
    risk: "Keys protecting data on the device can be extracted from a compromised OS.",
    remediation: "Use a device with a hardware-backed keystore (TEE, StrongBox or Secure Enclave).",
};
const DEV_SETTINGS: Rule = Rule {
    guideline: GuidelineId::Dev2,
    masvs: &["MASVS-RESILIENCE-4"],
    maswe: &["MASWE-0101"],
    risk: "Debugging interfaces let a connected computer inspect or drive the app.",
    remediation: "Turn off developer options and USB/wireless debugging in the device settings.",
};
const PLATFORM: Rule = Rule {
    guideline: GuidelineId::Dev2,
    masvs: &["MASVS-RESILIENCE-1"],
    maswe: &[],
    risk: "The device's security level cannot be assessed.",
    remediation: "Run on a supported Android or iOS device.",
};
const INSTALLER: Rule = Rule {
    guideline: GuidelineId::Dev2,
    masvs: &["MASVS-RESILIENCE-2"],
    maswe: &["MASWE-0106"],
    risk: "A repackaged or modified app from an unofficial source may be running.",
    remediation: "Uninstall the app and install it from the official store.",
};
const APP_ID: Rule = Rule {
    guideline: GuidelineId::Dev2,
    masvs: &["MASVS-RESILIENCE-2"],
    maswe: &["MASWE-0104"],
    risk: "Another app (a repackaged clone, or an app abusing this app's key) produced these facts.",
    remediation: "Install the genuine app from the official store; servers: check the app id the attestation proves.",
};
const ATTESTATION: Rule = Rule {
    guideline: GuidelineId::Dev2,
    masvs: &["MASVS-RESILIENCE-1"],
    maswe: &["MASWE-0097"],
    risk: "Every fact is the app's own word: a rooted or jailbroken device with a hooking framework can report a clean device.",
    remediation: "Send a hardware attestation (Android Key Attestation chain, Apple App Attest object) with the facts, made for a fresh server challenge.",
};
const SIGNATURE: Rule = Rule {
    guideline: GuidelineId::Dev2,
    masvs: &["MASVS-RESILIENCE-2"],
    maswe: &["MASWE-0104"],
    risk: "The app was re-signed by someone else: its code may have been modified.",
    remediation: "Uninstall the app and install it from the official store.",
};

fn class_rule(c: IndicatorClass) -> Rule {
    match c {
        IndicatorClass::Root => Rule {
            guideline: GuidelineId::Dev2,
            masvs: &["MASVS-RESILIENCE-1"],
            maswe: &["MASWE-0097"],
            risk: "With root, any app or user can read the app's data and keys in use, and bypass its protections.",
            remediation: "Use an unmodified device (remove Magisk/KernelSU/APatch and re-lock the bootloader).",
        },
        IndicatorClass::Jailbreak => Rule {
            guideline: GuidelineId::Dev2,
            masvs: &["MASVS-RESILIENCE-1"],
            maswe: &["MASWE-0097"],
            risk: "A jailbreak disables iOS code signing and sandboxing the app relies on.",
            remediation: "Restore the device with the official iOS firmware.",
        },
        IndicatorClass::Hooking => Rule {
            guideline: GuidelineId::Dev2,
            masvs: &["MASVS-RESILIENCE-4"],
            maswe: &["MASWE-0102"],
            risk: "An instrumentation framework can read and alter the app's logic and data at run time.",
            remediation: "Remove instrumentation tools (Frida, Xposed/LSPosed, Substrate/ElleKit) from the device.",
        },
        IndicatorClass::Emulator => Rule {
            guideline: GuidelineId::Dev2,
            masvs: &["MASVS-RESILIENCE-1"],
            maswe: &["MASWE-0099"],
            risk: "Emulators give an attacker full control of the OS and are used for automated abuse.",
            remediation: "Use the app on a physical device.",
        },
        IndicatorClass::Debugger => Rule {
            guideline: GuidelineId::Dev2,
            masvs: &["MASVS-RESILIENCE-4"],
            maswe: &["MASWE-0101"],
            risk: "A debugger can read memory and change the app's control flow.",
            remediation: "Detach the debugger; release builds must not be debuggable.",
        },
    }
}

struct Eval<'a> {
    policy: &'a DevicePolicy,
    findings: Vec<DeviceFinding>,
}

impl Eval<'_> {
    fn push(
        &mut self,
        rule_name: &str,
        rule: &Rule,
        decision: DeviceDecision,
        criterion: String,
        evidence: Vec<DeviceEvidence>,
        indicators: Vec<String>,
    ) {
        self.findings.push(DeviceFinding {
            rule: rule_name.to_owned(),
            decision,
            guideline: rule.guideline,
            criterion: format!(
                "{}: {} Policy: {criterion}.",
                rule.guideline,
                rule.guideline.criterion()
            ),
            risk: rule.risk.to_owned(),
            evidence,
            indicators,
            remediation: rule.remediation.to_owned(),
            masvs: rule.masvs.iter().map(|s| (*s).to_owned()).collect(),
            maswe: rule.maswe.iter().map(|s| (*s).to_owned()).collect(),
        });
    }

    fn unknown(&mut self, rule_name: &str, rule: &Rule, criterion: String, fact: &DeviceFact) {
        let d = self.policy.unknown;
        self.push(
            rule_name,
            rule,
            d,
            format!(
                "{criterion} (could not be established: treated as {})",
                d.as_str()
            ),
            fact.evidence.clone(),
            Vec::new(),
        );
    }

    /// A boolean requirement: `bad_state` of `fact` triggers `action`.
    fn flag(
        &mut self,
        name: &str,
        rule: &Rule,
        fact: &DeviceFact,
        bad: FactState,
        action: DeviceDecision,
        criterion: &str,
    ) {
        if action == DeviceDecision::Allow {
            return;
        }
        match fact.state {
            FactState::Unknown => self.unknown(name, rule, criterion.to_owned(), fact),
            s if s == bad => self.push(
                name,
                rule,
                action,
                criterion.to_owned(),
                fact.evidence.clone(),
                Vec::new(),
            ),
            _ => {}
        }
    }
}

/// Evaluates `policy` over `facts` as of `at`. Pure and deterministic.
///
/// Hashes the facts on every call (most of the cost); to evaluate one
/// snapshot repeatedly (several policies, several actions), seal it once with
/// [`FactsSnapshot::new`] and use [`evaluate_snapshot`].
pub fn evaluate(facts: &DeviceFacts, policy: &DevicePolicy, at: Date) -> DeviceVerdict {
    if facts.is_normalized() {
        evaluate_normalized(facts, facts.sha256(), policy, at)
    } else {
        let snapshot = FactsSnapshot::new(facts.clone());
        evaluate_snapshot(&snapshot, policy, at)
    }
}

/// A normalised facts snapshot whose SHA-256 is computed once.
///
/// The facts cannot change behind the hash: the snapshot only hands out a
/// shared reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FactsSnapshot {
    facts: DeviceFacts,
    sha256: String,
}

impl FactsSnapshot {
    /// Normalises `facts` and hashes their canonical JSON.
    pub fn new(mut facts: DeviceFacts) -> Self {
        facts.normalize();
        let sha256 = facts.sha256();
        Self { facts, sha256 }
    }

    /// The normalised facts.
    pub fn facts(&self) -> &DeviceFacts {
        &self.facts
    }

    /// SHA-256 of the canonical facts JSON, lowercase hex.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }
}

/// Evaluates `policy` over a sealed snapshot as of `at`: same verdict as
/// [`evaluate`] on the same facts, without re-hashing them.
pub fn evaluate_snapshot(
    snapshot: &FactsSnapshot,
    policy: &DevicePolicy,
    at: Date,
) -> DeviceVerdict {
    evaluate_normalized(&snapshot.facts, snapshot.sha256.clone(), policy, at)
}

fn evaluate_normalized(
    facts: &DeviceFacts,
    facts_sha256: String,
    policy: &DevicePolicy,
    at: Date,
) -> DeviceVerdict {
    let mut ev = Eval {
        policy,
        findings: Vec::new(),
    };
    let p = policy;

    match facts.platform {
        DevicePlatform::Android => {
            let crit = format!("Android API level >= {}", p.android.min_api_level);
            let f = &facts.android_api_level;
            match f.value.as_deref().and_then(|v| v.parse::<u32>().ok()) {
                _ if f.state != FactState::Present => {
                    ev.unknown("android.min_api_level", &OS_FLOOR, crit, f)
                }
                None => ev.unknown("android.min_api_level", &OS_FLOOR, crit, f),
                Some(api) if api < p.android.min_api_level => ev.push(
                    "android.min_api_level",
                    &OS_FLOOR,
                    DeviceDecision::Block,
                    format!("{crit}; device has {api}"),
                    f.evidence.clone(),
                    Vec::new(),
                ),
                Some(_) => {}
            }
            patch_rule(&mut ev, &facts.security_patch, at);
        }
        DevicePlatform::Ios => {
            let crit = format!("iOS version >= {}", p.ios.min_version);
            let f = &facts.os_version;
            let min = super::parse_ios_version(&p.ios.min_version).expect("validated at load");
            match f.value.as_deref().and_then(super::parse_ios_version) {
                Some(v) if f.state == FactState::Present => {
                    if v < min {
                        ev.push(
                            "ios.min_version",
                            &OS_FLOOR,
                            DeviceDecision::Block,
                            format!(
                                "{crit}; device has {}",
                                f.value.as_deref().unwrap_or_default()
                            ),
                            f.evidence.clone(),
                            Vec::new(),
                        );
                    }
                }
                _ => ev.unknown("ios.min_version", &OS_FLOOR, crit, f),
            }
        }
        DevicePlatform::Other => ev.push(
            "platform",
            &PLATFORM,
            p.unknown,
            "a mobile platform (Android or iOS) whose security level can be assessed".into(),
            Vec::new(),
            Vec::new(),
        ),
    }

    let d = &p.device;
    ev.flag(
        "device.screen_lock",
        &SCREEN_LOCK,
        &facts.screen_lock,
        FactState::Absent,
        d.screen_lock,
        "a screen lock is set",
    );
    ev.flag(
        "device.biometrics",
        &BIOMETRICS,
        &facts.biometrics_enrolled,
        FactState::Absent,
        d.biometrics,
        "strong biometrics are enrolled",
    );
    if d.keystore != DeviceDecision::Allow {
        let crit = format!("hardware keystore level >= {}", d.min_keystore.as_str());
        let f = &facts.keystore_level;
        match f.value.as_deref().and_then(KeystoreLevel::parse) {
            Some(l) if f.state == FactState::Present => {
                if l.rank() < d.min_keystore.rank() {
                    ev.push(
                        "device.keystore",
                        &KEYSTORE,
                        d.keystore,
                        format!("{crit}; device has {}", l.as_str()),
                        f.evidence.clone(),
                        Vec::new(),
                    );
                }
            }
            _ => ev.unknown("device.keystore", &KEYSTORE, crit, f),
        }
    }
    if facts.platform == DevicePlatform::Android {
        ev.flag(
            "device.developer_options",
            &DEV_SETTINGS,
            &facts.developer_options,
            FactState::Present,
            d.developer_options,
            "developer options are off",
        );
        ev.flag(
            "device.adb_enabled",
            &DEV_SETTINGS,
            &facts.adb_enabled,
            FactState::Present,
            d.adb_enabled,
            "ADB debugging is off",
        );
    }

    let mut coverage = Vec::new();
    for class in IndicatorClass::ALL {
        if let Some(c) = class_eval(&mut ev, facts, class) {
            coverage.push(c);
        }
    }

    let a = &p.app;
    if !a.installers.is_empty() && a.untrusted_installer != DeviceDecision::Allow {
        let crit = format!("installed by one of [{}]", a.installers.join(", "));
        let f = &facts.installer;
        match (f.state, f.value.as_deref()) {
            (FactState::Unknown, _) => ev.unknown("app.installers", &INSTALLER, crit, f),
            (FactState::Present, Some(i)) if a.installers.iter().any(|x| x == i) => {}
            (_, v) => ev.push(
                "app.installers",
                &INSTALLER,
                a.untrusted_installer,
                format!("{crit}; installer is {}", v.unwrap_or("none (sideloaded)")),
                f.evidence.clone(),
                Vec::new(),
            ),
        }
    }
    if !a.signing_cert_sha256.is_empty() && a.signature_mismatch != DeviceDecision::Allow {
        let crit = "signed with an accepted certificate".to_owned();
        let f = &facts.signing_cert_sha256;
        match (f.state, f.value.as_deref().map(str::to_ascii_lowercase)) {
            (FactState::Present, Some(v)) if a.signing_cert_sha256.contains(&v) => {}
            (FactState::Present, Some(_)) => ev.push(
                "app.signing_cert_sha256",
                &SIGNATURE,
                a.signature_mismatch,
                crit,
                f.evidence.clone(),
                Vec::new(),
            ),
            _ => ev.unknown("app.signing_cert_sha256", &SIGNATURE, crit, f),
        }
    }

    if !a.ids.is_empty() && a.id_mismatch != DeviceDecision::Allow {
        let crit = format!("app id one of [{}]", a.ids.join(", "));
        let f = &facts.app_id;
        let candidates = super::attested::fact_values(f);
        match f.state {
            FactState::Present if candidates.iter().any(|c| a.ids.contains(c)) => {}
            FactState::Present if !candidates.is_empty() => ev.push(
                "app.ids",
                &APP_ID,
                a.id_mismatch,
                format!("{crit}; app id is {}", candidates.join(", ")),
                f.evidence.clone(),
                Vec::new(),
            ),
            _ => ev.unknown("app.ids", &APP_ID, crit, f),
        }
    }

    let attested_facts = facts.attested();
    // Attested only when an attestation verified: a failed one (its
    // indicator) counts as none, whatever else carries attested evidence.
    let failed = attested_facts
        .iter()
        .any(|n| n == super::attested::FAILED_INDICATOR);
    let verified = !failed && !attested_facts.is_empty();
    let self_reported_facts = facts.self_reported();
    let unattested = p.attestation.unattested;
    if unattested != DeviceDecision::Allow && !verified {
        let evidence = facts
            .indicators
            .iter()
            .filter(|o| o.id == super::attested::FAILED_INDICATOR)
            .flat_map(|o| o.evidence.iter().cloned())
            .collect();
        ev.push(
            "attestation.unattested",
            &ATTESTATION,
            unattested,
            format!(
                "facts backed by a verified hardware attestation; none verified (self-reported: {})",
                if self_reported_facts.is_empty() {
                    "nothing".to_owned()
                } else {
                    self_reported_facts.join(", ")
                }
            ),
            evidence,
            Vec::new(),
        );
    }

    let decision = ev
        .findings
        .iter()
        .map(|f| f.decision)
        .max()
        .unwrap_or(DeviceDecision::Allow);
    DeviceVerdict {
        format: VERDICT_FORMAT,
        decision,
        platform: facts.platform,
        evaluated_at: crate::date::format_date(at),
        policy_name: p.name.clone(),
        policy_sha256: p.sha256(),
        facts_sha256,
        indicator_table: IndicatorTable::builtin().version.clone(),
        findings: ev.findings,
        coverage,
        attested_facts,
        self_reported_facts,
    }
}

fn patch_rule(ev: &mut Eval<'_>, f: &DeviceFact, at: Date) {
    let a = &ev.policy.android;
    let crit = format!(
        "security patch level at most {} days old",
        a.max_patch_age_days
    );
    let Some(patch) = f
        .value
        .as_deref()
        .filter(|_| f.state == FactState::Present)
        .and_then(super::parse_patch_level)
    else {
        return ev.unknown("android.max_patch_age_days", &PATCH, crit, f);
    };
    let age = (at - patch).whole_days();
    if age < -31 {
        let mut e = f.evidence.clone();
        e.push(
            DeviceEvidence::probe()
                .value(age.to_string())
                .detail("patch level is later than the evaluation date"),
        );
        let fact = DeviceFact {
            state: FactState::Unknown,
            value: None,
            evidence: e,
        };
        return ev.unknown("android.max_patch_age_days", &PATCH, crit, &fact);
    }
    let (decision, crit) = if age > i64::from(a.max_patch_age_days) {
        (DeviceDecision::Block, crit)
    } else if let Some(w) = a.warn_patch_age_days.filter(|w| age > i64::from(*w)) {
        (
            DeviceDecision::Warn,
            format!("security patch level at most {w} days old (warning threshold)"),
        )
    } else {
        return;
    };
    ev.push(
        "android.max_patch_age_days",
        &PATCH,
        decision,
        format!(
            "{crit}; patch {patch} is {age} days old on {}",
            crate::date::format_date(at)
        ),
        f.evidence.clone(),
        Vec::new(),
    );
}

fn class_eval(
    ev: &mut Eval<'_>,
    facts: &DeviceFacts,
    class: IndicatorClass,
) -> Option<IndicatorCoverage> {
    let policy = ev.policy;
    let rule = &policy.indicators[&class];
    let table = IndicatorTable::builtin();
    // The top-level platform facts count as strong indicators of their class.
    let top = match class {
        IndicatorClass::Debugger => Some(("platform.debugger_attached", &facts.debugger_attached)),
        IndicatorClass::Emulator => Some(("platform.emulator", &facts.emulator)),
        _ => None,
    };
    let top_obs = top
        .filter(|(_, f)| f.state != FactState::Unknown || !f.evidence.is_empty())
        .map(|(id, f)| IndicatorObservation {
            id: id.to_owned(),
            class,
            strength: IndicatorStrength::Strong,
            state: f.state,
            evidence: f.evidence.clone(),
        });
    let obs: Vec<&IndicatorObservation> = facts
        .indicators
        .iter()
        .filter(|o| o.class == class)
        .chain(top_obs.as_ref())
        .collect();
    let expected = table.for_platform(facts.platform).any(|i| i.class == class) || top.is_some();
    if obs.is_empty() && !expected {
        return None;
    }
    let mut cov = IndicatorCoverage {
        class,
        present: 0,
        absent: 0,
        unknown: 0,
        allowlisted: 0,
    };
    let (mut strong, mut weak, mut allowed) = (Vec::new(), Vec::new(), Vec::new());
    for o in &obs {
        match o.state {
            FactState::Present if policy.allow.indicators.contains(&o.id) => {
                cov.allowlisted += 1;
                allowed.push(*o);
            }
            FactState::Present => {
                cov.present += 1;
                match o.strength {
                    IndicatorStrength::Strong => strong.push(*o),
                    IndicatorStrength::Weak => weak.push(*o),
                }
            }
            FactState::Absent => cov.absent += 1,
            FactState::Unknown => cov.unknown += 1,
        }
    }
    let name = format!("indicators.{}", class.as_str());
    let r = class_rule(class);
    let gather = |list: &[&IndicatorObservation]| -> (Vec<DeviceEvidence>, Vec<String>) {
        (
            list.iter()
                .flat_map(|o| o.evidence.iter().cloned())
                .collect(),
            list.iter().map(|o| o.id.clone()).collect(),
        )
    };
    if rule.action != DeviceDecision::Allow {
        if !strong.is_empty() || weak.len() as u32 >= rule.weak_threshold {
            let all: Vec<&IndicatorObservation> =
                strong.iter().chain(weak.iter()).copied().collect();
            let (e, ids) = gather(&all);
            let crit = format!(
                "no {} indicator ({} strong, {} weak found; {} weak needed to corroborate)",
                class.as_str(),
                strong.len(),
                weak.len(),
                rule.weak_threshold
            );
            ev.push(&name, &r, rule.action, crit, e, ids);
        } else if !weak.is_empty() {
            let (e, ids) = gather(&weak);
            let crit = format!(
                "no {} indicator ({} weak found, {} needed to corroborate: uncorroborated)",
                class.as_str(),
                weak.len(),
                rule.weak_threshold
            );
            ev.push(
                &name,
                &r,
                rule.action.min(DeviceDecision::Warn),
                crit,
                e,
                ids,
            );
        } else if cov.absent == 0 {
            let crit = format!(
                "no {} indicator (none of {} checks could be completed)",
                class.as_str(),
                cov.unknown
            );
            let d = policy.unknown;
            let e: Vec<DeviceEvidence> = obs
                .iter()
                .flat_map(|o| o.evidence.iter().cloned())
                .collect();
            ev.push(
                &name,
                &r,
                d,
                format!("{crit}: treated as {}", d.as_str()),
                e,
                Vec::new(),
            );
        } else if cov.unknown > 0 {
            // Partly checked and nothing found: recorded for the audit trail,
            // without changing the decision.
            let unknown: Vec<&IndicatorObservation> = obs
                .iter()
                .copied()
                .filter(|o| o.state == FactState::Unknown)
                .collect();
            let (e, ids) = gather(&unknown);
            let crit = format!(
                "no {} indicator (none found; {} of {} checks could not be completed)",
                class.as_str(),
                cov.unknown,
                cov.unknown + cov.absent
            );
            ev.push(&name, &r, DeviceDecision::Allow, crit, e, ids);
        }
    }
    if !allowed.is_empty() {
        let (e, ids) = gather(&allowed);
        ev.push(
            &format!("{name}.allow"),
            &r,
            DeviceDecision::Allow,
            format!(
                "allow-listed {} indicator(s) present, ignored by policy",
                class.as_str()
            ),
            e,
            ids,
        );
    }
    Some(cov)
}
