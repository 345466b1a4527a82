//! Device verdicts for Kotlin and Swift: one async call, never on the UI thread.
//!
//! The platform collector (Kotlin `DeviceCollector`, Swift `DeviceCollector`)
//! hands in what only the OS API knows as a [`PlatformInputs`] record; Rust
//! runs its probes, merges both, and evaluates the app's policy. Probes and
//! evaluation run on a dedicated worker thread: uniffi polls Rust futures on
//! the caller's thread, so an `async fn` that computed inline would still
//! block a caller on the main thread. The future here only waits for the
//! worker's result.
//!
//! The records (`DeviceFacts`, `DeviceVerdict`, ...) are the core's own types,
//! declared here as uniffi *remote types*: each `#[uniffi::remote(...)]` item below
//! is a field-for-field mirror of the core definition, and the compiler refuses the
//! crate if the two differ, so no conversion code can drift. The Rust names are
//! the Kotlin and Swift names: one name per concept in every language.

use mamori::device::{
    DEFAULT_POLICY_TOML, DeviceFacts, DevicePolicy, DeviceVerdict, IndicatorKind, IndicatorTable,
    ProbeConfig, evaluate, observe_loaded_images, observe_packages, parse_date, run_probes,
};

use mamori::device::{
    DeviceDecision, DeviceEvidence, DeviceFact, DeviceFinding, DevicePlatform, EvidenceSource,
    FactState, IndicatorClass, IndicatorCoverage, IndicatorObservation, IndicatorStrength,
};
use mamori::guideline::GuidelineId;

/// What a rule does to the verdict when it fires.
#[uniffi::remote(Enum)]
pub enum DeviceDecision {
    /// Let the app proceed.
    Allow,
    /// Proceed, but tell the app (step-up auth, limited features, server flag).
    Warn,
    /// Refuse sensitive operations on this device.
    Block,
}

/// A tri-state fact: present, absent, or not determinable.
#[uniffi::remote(Enum)]
pub enum FactState {
    /// Seen.
    Present,
    /// Checked and not seen.
    Absent,
    /// Could not be checked.
    Unknown,
}

/// Who observed a fact.
#[uniffi::remote(Enum)]
pub enum EvidenceSource {
    /// A Rust probe (files, /proc, sockets).
    Probe,
    /// The platform collector (OS APIs).
    Platform,
    /// Signed by the device's secure hardware (Key Attestation, App Attest).
    Attestation,
}

/// How a fact was established.
#[uniffi::remote(Record)]
pub struct DeviceEvidence {
    /// Who observed it.
    pub source: EvidenceSource,
    /// The path looked at.
    #[uniffi(default)]
    pub path: Option<String>,
    /// The property or API read.
    #[uniffi(default)]
    pub property: Option<String>,
    /// The value seen.
    #[uniffi(default)]
    pub value: Option<String>,
    /// Anything else worth knowing.
    #[uniffi(default)]
    pub detail: Option<String>,
}

/// One fact with its evidence.
#[uniffi::remote(Record)]
pub struct DeviceFact {
    /// Present, absent or unknown.
    pub state: FactState,
    /// The value, for valued facts (API level, patch date).
    #[uniffi(default)]
    pub value: Option<String>,
    /// How it was established.
    #[uniffi(default)]
    pub evidence: Vec<DeviceEvidence>,
}

/// The OS family.
#[uniffi::remote(Enum)]
pub enum DevicePlatform {
    /// Android.
    Android,
    /// iOS or iPadOS.
    Ios,
    /// Anything else (desktop JVM, tests).
    Other,
}

/// What an indicator says about the device when present.
#[uniffi::remote(Enum)]
pub enum IndicatorClass {
    /// Android root.
    Root,
    /// iOS jailbreak.
    Jailbreak,
    /// Instrumentation or hooking frameworks.
    Hooking,
    /// Emulator or simulator.
    Emulator,
    /// A debugger is tracing the process.
    Debugger,
}

/// How much one indicator proves on its own.
#[uniffi::remote(Enum)]
pub enum IndicatorStrength {
    /// Decides alone.
    Strong,
    /// Needs corroboration.
    Weak,
}

/// One root, jailbreak, hooking, emulator or debugger indicator as observed.
#[uniffi::remote(Record)]
pub struct IndicatorObservation {
    /// Indicator id from the table, or a platform-defined id (`platform.*`).
    pub id: String,
    /// Indicator class.
    pub class: IndicatorClass,
    /// Strong signals decide alone; weak ones need corroboration.
    pub strength: IndicatorStrength,
    /// What was seen.
    pub state: FactState,
    /// How.
    pub evidence: Vec<DeviceEvidence>,
}

/// Everything known about one device at one moment.
#[uniffi::remote(Record)]
pub struct DeviceFacts {
    /// Schema version.
    pub schema: u32,
    /// OS family.
    pub platform: DevicePlatform,
    /// OS version string.
    pub os_version: DeviceFact,
    /// Android API level.
    pub android_api_level: DeviceFact,
    /// Android security patch level, `YYYY-MM-DD`.
    pub security_patch: DeviceFact,
    /// A screen lock is set.
    pub screen_lock: DeviceFact,
    /// Strong biometrics are enrolled.
    pub biometrics_enrolled: DeviceFact,
    /// Best hardware keystore level available.
    pub keystore_level: DeviceFact,
    /// A debugger is attached to the app process.
    pub debugger_attached: DeviceFact,
    /// Running on an emulator or simulator.
    pub emulator: DeviceFact,
    /// Developer options are enabled.
    pub developer_options: DeviceFact,
    /// ADB is enabled.
    pub adb_enabled: DeviceFact,
    /// Package that installed the app.
    pub installer: DeviceFact,
    /// SHA-256 of the app signing certificate, lowercase hex.
    pub signing_cert_sha256: DeviceFact,
    /// Indicators, sorted by id.
    pub indicators: Vec<IndicatorObservation>,
}

/// One reason for the verdict, in the guideline's four-part shape.
#[uniffi::remote(Record)]
pub struct DeviceFinding {
    /// Policy rule that produced it.
    pub rule: String,
    /// What this finding contributes to the verdict.
    pub decision: DeviceDecision,
    /// Guideline item served.
    pub guideline: GuidelineId,
    /// The criterion.
    pub criterion: String,
    /// The risk if ignored.
    pub risk: String,
    /// What was seen, and by whom.
    pub evidence: Vec<DeviceEvidence>,
    /// Indicator ids involved.
    pub indicators: Vec<String>,
    /// What the user or the app team can do.
    pub remediation: String,
    /// OWASP MASVS controls.
    pub masvs: Vec<String>,
    /// OWASP MASWE weaknesses.
    pub maswe: Vec<String>,
}

/// How much of one indicator class could be checked.
#[uniffi::remote(Record)]
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
#[uniffi::remote(Record)]
pub struct DeviceVerdict {
    /// DeviceVerdict format.
    pub format: u32,
    /// Allow, warn or block: the strictest finding.
    pub decision: DeviceDecision,
    /// Platform evaluated.
    pub platform: DevicePlatform,
    /// Evaluation date (`YYYY-MM-DD`).
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
}

/// Why a device evaluation could not be made.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[non_exhaustive]
pub enum DeviceError {
    /// The policy text is invalid; the message names the field.
    #[error("invalid device policy: {detail}")]
    Policy {
        /// What is wrong, e.g. `android.max_patch_age_days: must be between 1 and 3650 days`.
        detail: String,
    },
    /// The facts JSON is invalid.
    #[error("invalid device facts: {detail}")]
    Facts {
        /// What is wrong.
        detail: String,
    },
    /// The evaluation date is not `YYYY-MM-DD`.
    #[error("invalid date {value:?}: expected YYYY-MM-DD")]
    Date {
        /// The date given.
        value: String,
    },
    /// The worker thread stopped without a result.
    #[error("device evaluation failed: {detail}")]
    Internal {
        /// What happened.
        detail: String,
    },
}

/// What the platform collector hands to the core.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PlatformInputs {
    /// Facts from OS APIs (Build, KeyguardManager, LAContext, ...).
    pub facts: DeviceFacts,
    /// iOS: the loaded dyld image names (`_dyld_get_image_name`); empty on Android.
    #[uniffi(default)]
    pub loaded_images: Vec<String>,
    /// Android: which of [`device_known_packages`] are installed; `None` when
    /// the app cannot see other packages (no `<queries>` declaration).
    #[uniffi(default)]
    pub installed_packages: Option<Vec<String>>,
    /// Whether to run the Rust probes (files, /proc, loopback ports) on this device.
    #[uniffi(default = true)]
    pub run_probes: bool,
}

fn parse_policy(text: &str) -> Result<DevicePolicy, DeviceError> {
    DevicePolicy::from_text(text, "policy").map_err(|e| DeviceError::Policy {
        detail: e.to_string(),
    })
}

fn parse_at(at: &str) -> Result<time::Date, DeviceError> {
    parse_date(at).ok_or_else(|| DeviceError::Date {
        value: at.to_owned(),
    })
}

fn collect(inputs: PlatformInputs) -> DeviceFacts {
    let PlatformInputs {
        mut facts,
        loaded_images,
        installed_packages,
        run_probes: probe,
    } = inputs;
    if !loaded_images.is_empty() {
        facts
            .indicators
            .extend(observe_loaded_images(&loaded_images));
    }
    if facts.platform == mamori::device::DevicePlatform::Android {
        facts
            .indicators
            .extend(observe_packages(installed_packages.as_deref()));
    }
    if probe {
        let mut cfg = ProbeConfig::system();
        cfg.platform = facts.platform;
        run_probes(&cfg).merge(facts)
    } else {
        facts.normalize();
        facts
    }
}

/// Runs `f` on a worker thread and awaits its result without blocking the
/// polling thread.
async fn off_thread<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, DeviceError> {
    let (tx, rx) = futures_channel::oneshot::channel();
    std::thread::Builder::new()
        .name("mamori-device".into())
        .spawn(move || {
            let _ = tx.send(f());
        })
        .map_err(|e| DeviceError::Internal {
            detail: e.to_string(),
        })?;
    rx.await.map_err(|_| DeviceError::Internal {
        detail: "worker thread stopped".into(),
    })
}

/// Collects the device's facts: the platform's, plus the Rust probes', merged.
/// Export them (`device_facts_to_json`) so a server can re-run the verdict.
#[uniffi::export]
pub async fn collect_device_facts(inputs: PlatformInputs) -> Result<DeviceFacts, DeviceError> {
    off_thread(move || collect(inputs)).await
}

/// Collects facts and evaluates `policy` (TOML or JSON) as of `at`
/// (`YYYY-MM-DD`, from the app's trusted clock): the one call an app makes.
#[uniffi::export]
pub async fn evaluate_device(
    inputs: PlatformInputs,
    policy: String,
    at: String,
) -> Result<DeviceVerdict, DeviceError> {
    let policy = parse_policy(&policy)?;
    let at = parse_at(&at)?;
    off_thread(move || evaluate(&collect(inputs), &policy, at)).await
}

/// Evaluates an existing facts snapshot (e.g. one exported earlier).
#[uniffi::export]
pub async fn evaluate_device_facts(
    facts: DeviceFacts,
    policy: String,
    at: String,
) -> Result<DeviceVerdict, DeviceError> {
    let policy = parse_policy(&policy)?;
    let at = parse_at(&at)?;
    off_thread(move || evaluate(&facts, &policy, at)).await
}

/// Canonical facts JSON, for export to a server or `mamori device check`.
#[uniffi::export]
pub fn device_facts_to_json(facts: &DeviceFacts) -> String {
    String::from_utf8(facts.canonical_json()).expect("serde_json writes UTF-8")
}

/// Parses a facts snapshot (JSON).
#[uniffi::export]
pub fn device_facts_from_json(json: String) -> Result<DeviceFacts, DeviceError> {
    DeviceFacts::from_json(&json).map_err(|e| DeviceError::Facts {
        detail: e.to_string(),
    })
}

/// The shipped FinTech default policy (TOML).
#[uniffi::export]
pub fn device_default_policy() -> String {
    DEFAULT_POLICY_TOML.to_owned()
}

/// Checks a policy without evaluating anything (validate at app start).
#[uniffi::export]
pub fn validate_device_policy(policy: String) -> Result<(), DeviceError> {
    parse_policy(&policy).map(|_| ())
}

/// Package names the Kotlin collector should look up (root managers,
/// hiding and hooking apps) from the indicator table.
#[uniffi::export]
pub fn device_known_packages() -> Vec<String> {
    IndicatorTable::builtin()
        .indicators
        .iter()
        .filter(|i| i.kind == IndicatorKind::Package)
        .map(|i| i.target.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori::device::{DeviceDecision, DeviceEvidence, DeviceFact, DevicePlatform, FactState};

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        // A minimal executor: poll, park until woken.
        use std::sync::Arc;
        use std::task::{Context, Poll, Wake};
        struct Unpark(std::thread::Thread);
        impl Wake for Unpark {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = Arc::new(Unpark(std::thread::current())).into();
        let mut cx = Context::from_waker(&waker);
        let mut f = std::pin::pin!(f);
        loop {
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
            std::thread::park();
        }
    }

    fn pixel() -> PlatformInputs {
        let mut f = DeviceFacts::new(DevicePlatform::Android);
        let e = DeviceEvidence::platform;
        f.android_api_level = DeviceFact::known("35", e());
        f.security_patch = DeviceFact::known("2026-10-05", e());
        f.screen_lock = DeviceFact::flag(
            FactState::Absent,
            e().property("KeyguardManager.isDeviceSecure"),
        );
        f.keystore_level = DeviceFact::known("tee", e());
        f.debugger_attached = DeviceFact::flag(FactState::Absent, e());
        f.emulator = DeviceFact::flag(FactState::Absent, e());
        PlatformInputs {
            facts: f,
            loaded_images: Vec::new(),
            installed_packages: Some(vec!["com.topjohnwu.magisk".into()]),
            run_probes: false,
        }
    }

    #[test]
    fn evaluation_runs_on_a_worker_thread() {
        let here = std::thread::current().id();
        let there = block_on(off_thread(|| std::thread::current().id())).unwrap();
        assert_ne!(here, there);
        let v = block_on(evaluate_device(
            pixel(),
            device_default_policy(),
            "2026-11-25".into(),
        ))
        .unwrap();
        assert_eq!(v.decision, DeviceDecision::Block);
        let rules: Vec<&str> = v.findings.iter().map(|f| f.rule.as_str()).collect();
        assert!(rules.contains(&"device.screen_lock"), "{rules:?}");
        assert!(rules.contains(&"indicators.root"), "{rules:?}");
    }

    #[test]
    fn errors_are_typed() {
        let e = block_on(evaluate_device(
            pixel(),
            "format = 2".into(),
            "2026-11-25".into(),
        ))
        .unwrap_err();
        assert!(matches!(e, DeviceError::Policy { .. }), "{e}");
        let e = block_on(evaluate_device(
            pixel(),
            device_default_policy(),
            "tomorrow".into(),
        ))
        .unwrap_err();
        assert!(matches!(e, DeviceError::Date { .. }));
        assert!(device_known_packages().contains(&"com.topjohnwu.magisk".to_owned()));
    }
}
