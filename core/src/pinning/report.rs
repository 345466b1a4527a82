//! Pin failure reports in TrustKit's JSON shape, deduplicated.
//!
//! TrustKit's report format is what backend teams already ingest, so Mamori
//! keeps its field names. Unlike TrustKit it adds no device identifier (no
//! IDFV) and sends nothing by itself: reports go to a listener the app
//! registers, which decides where they travel (LOG-1, LOG-2, LOG-4).
//! A report repeats at most once per 24 hours for the same host, served chain
//! and result, as TrustKit's rate limiter does, so a blocked app cannot flood
//! its backend.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use ring::digest;
use serde::Serialize;

use super::pin::Pin;

/// TrustKit's `validation-result` codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum ValidationResult {
    /// No pin matched the verified chain (TrustKit code 1).
    PinMismatch,
    /// The chain did not validate (TrustKit code 2).
    InvalidChain,
}

impl ValidationResult {
    /// TrustKit's numeric code.
    pub fn code(self) -> u8 {
        match self {
            Self::PinMismatch => 1,
            Self::InvalidChain => 2,
        }
    }
}

/// Facts about the app that the app chooses to include in reports. Empty by
/// default: Mamori never adds a device identifier by itself.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AppInfo {
    /// `app-bundle-id`.
    #[serde(rename = "app-bundle-id", skip_serializing_if = "Option::is_none")]
    pub bundle_id: Option<String>,
    /// `app-version`.
    #[serde(rename = "app-version", skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `app-platform`, e.g. `ANDROID`, `IOS`.
    #[serde(rename = "app-platform", skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// `app-platform-version`.
    #[serde(
        rename = "app-platform-version",
        skip_serializing_if = "Option::is_none"
    )]
    pub platform_version: Option<String>,
    /// Anything else the app adds (e.g. its own pseudonymous installation id).
    /// A `HashMap`, the map type the FFI carries; written in key order.
    #[serde(flatten, serialize_with = "in_key_order")]
    pub extra: HashMap<String, String>,
}

/// Serialises a map sorted by key, so a report's JSON does not depend on
/// hash order.
fn in_key_order<S: serde::Serializer>(
    map: &HashMap<String, String>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_map(map.iter().collect::<BTreeMap<_, _>>())
}

/// One pin validation failure, in TrustKit's JSON shape.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct PinFailureReport {
    /// What the app registered about itself.
    #[serde(flatten)]
    pub app: AppInfo,
    /// The version of Mamori that made the report.
    pub mamori_version: String,
    /// The host connected to.
    pub hostname: String,
    /// The port connected to (0 when the TLS stack did not say).
    pub port: u16,
    /// The policy's host that matched.
    pub noted_hostname: String,
    /// Whether the rule covers subdomains.
    pub include_subdomains: bool,
    /// Whether the connection was blocked.
    pub enforce_pinning: bool,
    /// The verified path as PEM, leaf first (empty when it did not verify).
    pub validated_certificate_chain: Vec<String>,
    /// The chain as the server presented it, as PEM (TrustKit-Android).
    pub served_certificate_chain: Vec<String>,
    /// The configured pins, as `pin-sha256="…"`.
    pub known_pins: Vec<String>,
    /// TrustKit's result code.
    pub validation_result: u8,
    /// When the validation happened, RFC 3339 UTC.
    pub date_time: String,
    /// Expiry of the pin set, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_date: Option<String>,
    /// Mamori's human explanation of the decision.
    pub mamori_reason: String,
}

impl PinFailureReport {
    /// The report as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("reports always serialise")
    }

    /// Formats pins as TrustKit does in `known-pins`.
    pub fn format_known_pins(pins: &[Pin]) -> Vec<String> {
        pins.iter()
            .map(|p| format!("pin-sha256=\"{}\"", p.base64()))
            .collect()
    }
}

/// Receives pin failure reports. Called on the verifying thread: an
/// implementation that uploads should queue and return.
pub trait ReportListener: Send + Sync {
    /// One new (not deduplicated) report.
    fn on_report(&self, report: &PinFailureReport);
}

impl<F: Fn(&PinFailureReport) + Send + Sync> ReportListener for F {
    fn on_report(&self, report: &PinFailureReport) {
        self(report)
    }
}

/// How long an identical report is suppressed.
pub const DEDUP_WINDOW_SECS: u64 = 24 * 60 * 60;
const MAX_TRACKED: usize = 4096;

/// (hash of the served chain, host, result).
type DedupKey = ([u8; 32], String, ValidationResult);

/// Deduplicates reports per (host, served chain, result) per 24 h and hands
/// the rest to the listener.
#[derive(Default)]
pub(super) struct Reporter {
    listener: Option<Arc<dyn ReportListener>>,
    app: AppInfo,
    seen: Mutex<HashMap<DedupKey, u64>>,
}

impl core::fmt::Debug for Reporter {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Reporter")
            .field("listener", &self.listener.is_some())
            .finish_non_exhaustive()
    }
}

impl Reporter {
    /// A reporter delivering to `listener`.
    pub(super) fn new(listener: Option<Arc<dyn ReportListener>>, app: AppInfo) -> Self {
        Self {
            listener,
            app,
            seen: Mutex::default(),
        }
    }

    /// The app facts attached to every report.
    pub(super) fn app_info(&self) -> &AppInfo {
        &self.app
    }

    /// Whether a report for this key at `now_secs` is new; records it if so.
    pub(super) fn should_send(
        &self,
        host: &str,
        served_chain: &[impl AsRef<[u8]>],
        result: ValidationResult,
        now_secs: u64,
    ) -> bool {
        let mut ctx = digest::Context::new(&digest::SHA256);
        for c in served_chain {
            ctx.update(&(c.as_ref().len() as u64).to_be_bytes());
            ctx.update(c.as_ref());
        }
        let mut chain_hash = [0u8; 32];
        chain_hash.copy_from_slice(ctx.finish().as_ref());
        let key = (chain_hash, host.to_owned(), result);
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&last) = seen.get(&key) {
            if now_secs.saturating_sub(last) < DEDUP_WINDOW_SECS && now_secs >= last {
                return false;
            }
        }
        if seen.len() >= MAX_TRACKED {
            seen.retain(|_, t| now_secs.saturating_sub(*t) < DEDUP_WINDOW_SECS);
            if seen.len() >= MAX_TRACKED {
                seen.clear();
            }
        }
        seen.insert(key, now_secs);
        true
    }

    /// Delivers a report (after deduplication, see [`Reporter::should_send`]).
    pub(super) fn deliver(&self, report: &PinFailureReport) {
        if let Some(l) = &self.listener {
            l.on_report(report);
        }
    }

    /// Whether a listener is registered.
    pub(super) fn has_listener(&self) -> bool {
        self.listener.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedup_per_host_chain_result_for_24h() {
        let r = Reporter::default();
        let chain = [b"cert-a".to_vec()];
        let other = [b"cert-b".to_vec()];
        let t0 = 1_800_000_000;
        assert!(r.should_send("a.com", &chain, ValidationResult::PinMismatch, t0));
        assert!(!r.should_send("a.com", &chain, ValidationResult::PinMismatch, t0 + 10));
        assert!(r.should_send("b.com", &chain, ValidationResult::PinMismatch, t0 + 10));
        assert!(r.should_send("a.com", &other, ValidationResult::PinMismatch, t0 + 10));
        assert!(r.should_send("a.com", &chain, ValidationResult::InvalidChain, t0 + 10));
        assert!(!r.should_send(
            "a.com",
            &chain,
            ValidationResult::PinMismatch,
            t0 + DEDUP_WINDOW_SECS - 1
        ));
        assert!(r.should_send(
            "a.com",
            &chain,
            ValidationResult::PinMismatch,
            t0 + DEDUP_WINDOW_SECS
        ));
    }

    #[test]
    fn no_device_identifier_by_default() {
        let json = serde_json::to_value(AppInfo::default()).unwrap();
        assert_eq!(json, serde_json::json!({}));
    }

    #[test]
    fn extra_app_facts_are_written_in_key_order() {
        let app = AppInfo {
            bundle_id: Some("jp.example".into()),
            extra: (0..20)
                .map(|i| (format!("k{i:02}"), i.to_string()))
                .collect(),
            ..AppInfo::default()
        };
        let json = serde_json::to_string(&app).unwrap();
        let keys: Vec<&str> = json.split('"').filter(|k| k.starts_with('k')).collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(keys.len(), 20);
        assert_eq!(keys, sorted);
        assert!(
            json.starts_with(r#"{"app-bundle-id":"jp.example","k00":"0""#),
            "{json}"
        );
    }
}
