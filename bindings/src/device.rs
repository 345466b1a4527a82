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
//! The records (`DeviceFacts`, `Verdict`, ...) are the core's own types,
//! derived for uniffi behind the core's `uniffi` feature: one definition each.

use mamori::device::{
    DEFAULT_POLICY_TOML, DeviceFacts, DevicePolicy, IndicatorKind, IndicatorTable, ProbeConfig,
    Verdict, evaluate, observe_loaded_images, observe_packages, parse_date, run_probes,
};

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
    if facts.platform == mamori::device::Platform::Android {
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
) -> Result<Verdict, DeviceError> {
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
) -> Result<Verdict, DeviceError> {
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
    use mamori::device::{DeviceDecision, Evidence, Fact, Platform, Tri};

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
        let mut f = DeviceFacts::new(Platform::Android);
        let e = Evidence::platform;
        f.android_api_level = Fact::known("35", e());
        f.security_patch = Fact::known("2026-10-05", e());
        f.screen_lock = Fact::flag(Tri::Absent, e().property("KeyguardManager.isDeviceSecure"));
        f.keystore_level = Fact::known("tee", e());
        f.debugger_attached = Fact::flag(Tri::Absent, e());
        f.emulator = Fact::flag(Tri::Absent, e());
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
