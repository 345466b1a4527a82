//! The pinning engine across the FFI (guideline DEV-4, BP-1, BP-5).
//!
//! Kotlin and Swift get one object, [`PinningEngine`]: built from a policy (TOML, JSON or a
//! file, validated once, at construction), asked `verify(host, port, chain)` once per TLS
//! handshake by the platform facade (`MamoriTrustManager` on the JVM/Android,
//! `MamoriPinningDelegate` on iOS), after the platform's own trust evaluation.
//!
//! The records are the core's own ([`PinDecision`], [`PinFailure`], [`PinFailureReport`], ...),
//! declared below as uniffi remote types: field-for-field mirrors that the compiler checks
//! against the core definitions, so no conversion code can drift. `Pin` crosses as its
//! `sha256/…` text (`types.rs`). Only the error is hand-written: a policy error carries typed
//! problems with source positions, and Kotlin/Swift get a small, stable shape instead.
//!
//! One FFI call per handshake costs ~17 µs through JNA (NOTES-bindings.md), negligible next to a
//! handshake; the chain crosses as `Vec<Vec<u8>>` (a few KiB).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use mamori::pinning::{
    AppInfo, CertificatePosition, ChainCertificate, ChainError, ChainValidation, NameError, Pin,
    PinDecision, PinFailure, PinFailureReport, PinOutcome, PinPolicy, PinVerifier, PolicyError,
    ReportListener, StrictViolation,
};
use rustls_pki_types::{CertificateDer, UnixTime};

/// Why an engine could not be built (`PinPolicyException` in Kotlin, `PinPolicyError` in Swift).
///
/// Hand-written: the core's `PolicyError` holds typed problems with file positions; across the
/// FFI each problem is its sentence, which names the domain and field.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[non_exhaustive]
pub enum PinPolicyError {
    /// The policy was refused: every problem found, each naming the domain and field.
    #[error("{summary}")]
    InvalidPolicy {
        /// The file (or `<inline>`) the policy came from.
        origin: String,
        /// One line per problem, e.g. `domain "api.example.com", field `pins`: …`.
        problems: Vec<String>,
        /// The whole error as one text (origin and every problem).
        summary: String,
    },
}

impl From<PolicyError> for PinPolicyError {
    fn from(error: PolicyError) -> Self {
        Self::InvalidPolicy {
            summary: error.to_string(),
            problems: error.problems.iter().map(ToString::to_string).collect(),
            origin: error.origin,
        }
    }
}

/// What to do with the connection.
#[uniffi::remote(Enum)]
pub enum PinOutcome {
    /// Proceed.
    Allow,
    /// Abort the connection.
    Block,
    /// Proceed, but a pin check failed and was reported (report-only rule, or an expired pin
    /// set in fail-open mode).
    Report,
}

/// Who validates a chain before its pins are checked.
#[uniffi::remote(Enum)]
pub enum ChainValidation {
    /// Mamori validates the chain again itself (webpki, the policy's anchors): defence in
    /// depth (BP-1), private PKI, the strict profile.
    Mamori,
    /// The chain is the path the platform verified; Mamori checks the host name and the pins.
    Platform,
}

/// Where a certificate sits in a chain.
#[uniffi::remote(Enum)]
pub enum CertificatePosition {
    /// The server's own certificate.
    Leaf,
    /// An intermediate CA.
    Intermediate,
    /// The trust anchor that ended the verified path.
    Anchor,
}

/// One certificate of the chain a decision looked at.
#[uniffi::remote(Record)]
pub struct ChainCertificate {
    /// Leaf, intermediate or anchor.
    pub position: CertificatePosition,
    /// Its subject, e.g. `CN=api.example.com`.
    pub subject: String,
    /// Its SPKI pin, `sha256/<base64>`.
    pub pin: Pin,
}

/// Why the chain did not validate against the policy's anchors.
#[uniffi::remote(Enum)]
#[non_exhaustive]
pub enum ChainError {
    /// A certificate is expired.
    Expired,
    /// A certificate is not valid yet.
    NotYetValid,
    /// No path to a configured trust anchor.
    UnknownIssuer,
    /// A certificate signature does not verify.
    BadSignature,
    /// A certificate is revoked.
    Revoked,
    /// The leaf lacks the serverAuth extended key usage.
    MissingServerAuth,
    /// The leaf is unusable.
    BadLeaf {
        /// What is wrong with it.
        detail: String,
    },
    /// Any other path-validation failure.
    Other {
        /// webpki's description.
        detail: String,
    },
}

/// Why the leaf is not valid for the host.
#[uniffi::remote(Enum)]
#[non_exhaustive]
pub enum NameError {
    /// The leaf names other hosts.
    NotValidForName {
        /// The names the leaf carries.
        presented: Vec<String>,
    },
    /// Any other name failure.
    Other {
        /// webpki's description.
        detail: String,
    },
}

/// The strict-profile rule a certificate broke.
#[uniffi::remote(Enum)]
#[non_exhaustive]
pub enum StrictViolation {
    /// The anchor's key cannot be read.
    AnchorKeyUnreadable {
        /// Why.
        detail: String,
    },
    /// A certificate cannot be parsed.
    Unparseable {
        /// Why.
        detail: String,
    },
    /// A DSA key.
    DsaKey {
        /// Where.
        position: CertificatePosition,
    },
    /// A P-192 key.
    P192Key {
        /// Where.
        position: CertificatePosition,
    },
    /// An RSA key under 2048 bits.
    RsaKeyTooShort {
        /// Where.
        position: CertificatePosition,
        /// Its size.
        bits: u32,
    },
    /// An RSA key that is not a whole number of bytes.
    RsaKeyOddLength {
        /// Where.
        position: CertificatePosition,
        /// Its size.
        bits: u32,
    },
    /// The leaf allows any extended key usage.
    AnyExtendedKeyUsage,
    /// The leaf has no serverAuth extended key usage.
    NoServerAuth,
    /// The leaf's EKU cannot be read.
    EkuUnreadable {
        /// Why.
        detail: String,
    },
    /// The leaf may sign certificates.
    LeafSignsCertificates,
    /// A malformed extension.
    MalformedExtension {
        /// Where.
        position: CertificatePosition,
        /// The extension's OID.
        oid: String,
        /// What is wrong.
        detail: String,
    },
    /// A serial number that is not a positive integer of at most 20 octets.
    BadSerialNumber {
        /// Where.
        position: CertificatePosition,
    },
    /// The host is covered only by a wildcard directly under a public suffix.
    PublicSuffixWildcard {
        /// The host.
        host: String,
        /// The wildcard name.
        wildcard: String,
    },
}

/// Which check failed, with its typed detail.
#[uniffi::remote(Enum)]
#[non_exhaustive]
pub enum PinFailure {
    /// The host name given by the TLS stack is not a host.
    InvalidHost(String),
    /// The server presented no certificate.
    EmptyChain,
    /// The chain does not validate against the policy's anchors.
    Chain(ChainError),
    /// The leaf is not valid for the host.
    Name(NameError),
    /// The strict profile refused a certificate.
    Strict(StrictViolation),
    /// No pin of the rule matched the verified path.
    PinMismatch {
        /// The rule's host.
        rule: String,
    },
}

/// Facts about the app that reports carry. All optional; Mamori never adds a device
/// identifier by itself (LOG-2).
#[uniffi::remote(Record)]
pub struct AppInfo {
    /// `app-bundle-id`, e.g. the Android application id.
    #[uniffi(default)]
    pub bundle_id: Option<String>,
    /// `app-version`.
    #[uniffi(default)]
    pub version: Option<String>,
    /// `app-platform`, e.g. `ANDROID`, `IOS`, `JVM`.
    #[uniffi(default)]
    pub platform: Option<String>,
    /// `app-platform-version`.
    #[uniffi(default)]
    pub platform_version: Option<String>,
    /// Anything else the app adds (e.g. its own pseudonymous installation id).
    #[uniffi(default)]
    pub extra: HashMap<String, String>,
}

/// A pin validation failure report, with TrustKit's fields. Its JSON, in TrustKit's shape and
/// ready to upload, is [`pin_failure_report_json`].
#[uniffi::remote(Record)]
pub struct PinFailureReport {
    /// What the app registered about itself.
    pub app: AppInfo,
    /// The Mamori version that produced the report.
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
    /// The chain as the server presented it, as PEM.
    pub served_certificate_chain: Vec<String>,
    /// The configured pins, as `pin-sha256="…"`.
    pub known_pins: Vec<String>,
    /// TrustKit's result code: 1 pin mismatch, 2 invalid chain.
    pub validation_result: u8,
    /// When the validation happened, RFC 3339 UTC.
    pub date_time: String,
    /// Expiry of the pin set, when it has one.
    pub expiration_date: Option<String>,
    /// Mamori's explanation of the decision.
    pub mamori_reason: String,
}

/// The verdict on one connection, with everything needed to debug it.
#[uniffi::remote(Record)]
pub struct PinDecision {
    /// Allow, block or report.
    pub outcome: PinOutcome,
    /// The normalised host.
    pub host: String,
    /// Whether the chain validated against the policy's anchors (path, time, EKU, name).
    pub chain_valid: bool,
    /// Whether a pin rule applies to the host.
    pub pinned: bool,
    /// Whether a configured pin matched the verified path.
    pub pin_matched: bool,
    /// The pin that matched.
    pub matched_pin: Option<Pin>,
    /// The host of the rule that applied.
    pub rule: Option<String>,
    /// Whether the rule's pin set is expired.
    pub pin_set_expired: bool,
    /// A sentence a developer can act on.
    pub reason: String,
    /// Which check failed, if any.
    pub failure: Option<PinFailure>,
    /// The verified path (leaf to anchor) when the chain validated, else the presented chain.
    pub chain: Vec<ChainCertificate>,
    /// Whether `chain` is the verified path.
    pub chain_verified: bool,
    /// The rule's pins.
    pub known_pins: Vec<Pin>,
    /// The failure report, when the decision produced one (also when it was deduplicated and
    /// therefore not sent to the listener again).
    pub report: Option<PinFailureReport>,
}

/// The answer of [`PinningEngine::check`]: the decision and how long the same question gets
/// the same answer, so that a platform facade can reuse an allow without crossing the FFI
/// again (`MamoriTrustManager` on the JVM and Android).
#[derive(Debug, Clone, uniffi::Record)]
pub struct PinCheck {
    /// The engine's decision (as [`PinningEngine::verify_with`] returns it).
    pub decision: PinDecision,
    /// The time the decision is for, seconds since the Unix epoch.
    pub checked_at: u64,
    /// The first time (seconds since the Unix epoch) at which the policy may decide otherwise
    /// on the same host and chain: the applying rule's pin-set expiry, or the engine's lapse
    /// (a signed update's report-only downgrade ending), whichever comes first; `None` when
    /// neither lies ahead. The certificates' own validity is not in it: a caller reusing the
    /// decision also stops at the chain's earliest `notAfter`.
    pub policy_changes_at: Option<u64>,
}

/// The report as JSON in TrustKit's shape (kebab-case keys), ready to upload.
#[uniffi::export]
pub fn pin_failure_report_json(report: PinFailureReport) -> String {
    report.to_json()
}

/// Receives pin failure reports; implemented in Kotlin or Swift.
///
/// Called on the TLS handshake thread, at most once per (host, served chain, result) per 24 h:
/// queue the upload and return. An implementation must not throw.
#[uniffi::export(with_foreign)]
pub trait PinReportListener: Send + Sync {
    /// One new report.
    fn on_report(&self, report: PinFailureReport);
}

/// Adapts a foreign listener to the core's [`ReportListener`].
struct ForeignListener(Arc<dyn PinReportListener>);

impl ReportListener for ForeignListener {
    fn on_report(&self, report: &PinFailureReport) {
        self.0.on_report(report.clone());
    }
}

/// A validated pin policy and the verifier built from it. Thread-safe: share one per app.
///
/// An engine is immutable. [`PinningEngine::with_report_listener`] returns a *new* engine for
/// the same policy whose reports go to that listener only, so each trust manager or URLSession
/// delegate owns its listener and its 24 h deduplication: registering one never redirects
/// another's reports.
#[derive(Debug, uniffi::Object)]
pub struct PinningEngine {
    policy: PinPolicy,
    verifier: PinVerifier,
    /// The policy from a time on: a signed update's report-only downgrades end
    /// at its `not_after` even in an engine (and so an HTTP client) built before.
    lapse: Option<Lapse>,
}

#[derive(Debug)]
struct Lapse {
    at_unix: u64,
    policy: PinPolicy,
    verifier: PinVerifier,
}

impl PinningEngine {
    /// An engine for an already validated policy (also the pin updater's effective one).
    pub(crate) fn new(policy: PinPolicy) -> Arc<Self> {
        Arc::new(Self {
            verifier: PinVerifier::new(policy.clone()),
            policy,
            lapse: None,
        })
    }

    /// An engine that applies `policy` until `at_unix` (seconds since the epoch) and
    /// `then` from that time on.
    pub(crate) fn lapsing(policy: PinPolicy, at_unix: u64, then: PinPolicy) -> Arc<Self> {
        Arc::new(Self {
            verifier: PinVerifier::new(policy.clone()),
            policy,
            lapse: Some(Lapse {
                at_unix,
                verifier: PinVerifier::new(then.clone()),
                policy: then,
            }),
        })
    }

    /// The first time after `now` (Unix seconds) at which the policy in force for `host`
    /// changes what it decides: the end of the engine's lapse, the expiry of the rule's pin set.
    fn policy_changes_at(&self, host: &str, now: u64) -> Option<u64> {
        let lapse = self
            .lapse
            .as_ref()
            .map(|l| l.at_unix)
            .filter(|&at| at > now);
        let at = UnixTime::since_unix_epoch(std::time::Duration::from_secs(now));
        let expiry = mamori::pinning::Host::parse(host)
            .ok()
            .and_then(|h| {
                self.verifier_at(at)
                    .policy()
                    .rule_for(&h)
                    .and_then(|r| r.expires())
            })
            .and_then(|e| u64::try_from(e.unix_timestamp()).ok())
            .filter(|&e| e > now);
        match (lapse, expiry) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The verifier in force at `now`.
    pub(crate) fn verifier_at(&self, now: UnixTime) -> &PinVerifier {
        match &self.lapse {
            Some(l) if now.as_secs() >= l.at_unix => &l.verifier,
            _ => &self.verifier,
        }
    }
}

#[uniffi::export]
impl PinningEngine {
    /// An engine for a TOML policy.
    #[uniffi::constructor]
    pub fn from_toml(text: String) -> Result<Arc<Self>, PinPolicyError> {
        Ok(Self::new(PinPolicy::from_toml(&text)?))
    }

    /// An engine for a JSON policy.
    #[uniffi::constructor]
    pub fn from_json(text: String) -> Result<Arc<Self>, PinPolicyError> {
        Ok(Self::new(PinPolicy::from_json(&text)?))
    }

    /// An engine for a policy file (TOML or JSON, detected from the content); relative
    /// `anchor_files` are resolved against the file's directory.
    #[uniffi::constructor]
    pub fn from_file(path: String) -> Result<Arc<Self>, PinPolicyError> {
        Ok(Self::new(PinPolicy::load(Path::new(&path))?))
    }

    /// A new engine for the same policy that sends its failure reports to `listener`, with
    /// the app facts the reports carry, and a deduplication of its own. `self` is unchanged.
    pub fn with_report_listener(
        &self,
        listener: Arc<dyn PinReportListener>,
        app: AppInfo,
    ) -> Arc<Self> {
        let listener: Arc<ForeignListener> = Arc::new(ForeignListener(listener));
        let with = |policy: &PinPolicy| {
            PinVerifier::new(policy.clone()).with_listener(listener.clone(), app.clone())
        };
        Arc::new(Self {
            verifier: with(&self.policy),
            policy: self.policy.clone(),
            lapse: self.lapse.as_ref().map(|l| Lapse {
                at_unix: l.at_unix,
                verifier: with(&l.policy),
                policy: l.policy.clone(),
            }),
        })
    }

    /// Verifies `chain` (DER certificates, leaf first, then the intermediates the server sent)
    /// for a connection to `host:port`, now. Call it after the platform's own trust check.
    pub fn verify(&self, host: String, port: u16, chain: Vec<Vec<u8>>) -> PinDecision {
        self.verify_at(host, port, chain, UnixTime::now().as_secs())
    }

    /// [`Self::verify`] at a given time (seconds since the Unix epoch), for tests and replays.
    pub fn verify_at(
        &self,
        host: String,
        port: u16,
        chain: Vec<Vec<u8>>,
        unix_seconds: u64,
    ) -> PinDecision {
        let chain: Vec<CertificateDer<'_>> = chain.into_iter().map(CertificateDer::from).collect();
        let now = UnixTime::since_unix_epoch(std::time::Duration::from_secs(unix_seconds));
        self.verifier_at(now).verify(&host, port, &chain, now)
    }

    /// Verifies `chain` for `host:port` as `validation` says, at `unix_seconds` (seconds since
    /// the Unix epoch; `None`: now). [`ChainValidation::Mamori`] is [`Self::verify`]; with
    /// [`ChainValidation::Platform`] `chain` must be the path the platform's trust evaluation
    /// verified (leaf first, its anchor last if known), never the list the server sent, and
    /// Mamori checks the host name and the pins on it.
    pub fn verify_with(
        &self,
        host: String,
        port: u16,
        chain: Vec<Vec<u8>>,
        validation: ChainValidation,
        unix_seconds: Option<u64>,
    ) -> PinDecision {
        let chain: Vec<CertificateDer<'_>> = chain.into_iter().map(CertificateDer::from).collect();
        let now = unix_seconds.map_or_else(UnixTime::now, |s| {
            UnixTime::since_unix_epoch(std::time::Duration::from_secs(s))
        });
        self.verifier_at(now)
            .verify_with(validation, &host, port, &chain, now)
    }

    /// [`Self::verify_with`], with the time the decision is for and the next time the policy
    /// could decide otherwise ([`PinCheck`]): what a facade needs to reuse an allow for the same
    /// host and chain without asking again.
    pub fn check(
        &self,
        host: String,
        port: u16,
        chain: Vec<Vec<u8>>,
        validation: ChainValidation,
        unix_seconds: Option<u64>,
    ) -> PinCheck {
        let checked_at = unix_seconds.unwrap_or_else(|| UnixTime::now().as_secs());
        let policy_changes_at = self.policy_changes_at(&host, checked_at);
        PinCheck {
            decision: self.verify_with(host, port, chain, validation, Some(checked_at)),
            checked_at,
            policy_changes_at,
        }
    }

    /// The policy's custom trust anchors (private PKI: `anchor_files`, `anchors_pem`), DER.
    ///
    /// The platform's own trust evaluation runs before the engine and knows only the system
    /// roots: the iOS facade sets these on the `SecTrust` (`SecTrustSetAnchorCertificates`) so
    /// that a private root the policy names is not refused by the platform step.
    pub fn anchor_certificates(&self) -> Vec<Vec<u8>> {
        self.policy.trust().custom_anchors().to_vec()
    }

    /// Whether the policy also trusts the public (Mozilla) roots. When false, a platform
    /// evaluation should trust the [`Self::anchor_certificates`] only
    /// (`SecTrustSetAnchorCertificatesOnly`).
    pub fn trusts_public_roots(&self) -> bool {
        self.policy.trust().mozilla_roots()
    }

    /// Whether a pin rule applies to `host` (false for hosts that are not valid host names).
    pub fn is_pinned(&self, host: String) -> bool {
        mamori::pinning::Host::parse(&host).is_ok_and(|h| self.policy.rule_for(&h).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    const BAD_POLICY: &str = r#"
[[domain]]
host = "api.example.com"
pins = ["sha256/AAAA"]
"#;

    #[test]
    fn invalid_policy_names_domain_and_field() {
        let err = PinningEngine::from_toml(BAD_POLICY.into()).unwrap_err();
        let PinPolicyError::InvalidPolicy {
            origin,
            problems,
            summary,
        } = err;
        assert_eq!(origin, "<inline>");
        assert!(!problems.is_empty());
        assert!(
            problems.iter().any(|p| p.contains("api.example.com")),
            "{problems:?}"
        );
        assert!(summary.contains("invalid pin policy"), "{summary}");
    }

    #[test]
    fn exposes_the_policy_anchors_for_the_platform_evaluation() {
        let public = PinningEngine::from_toml("[trust]\nmozilla_roots = true\n".into()).unwrap();
        assert!(public.trusts_public_roots());
        assert!(public.anchor_certificates().is_empty());
        let root = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/pinning/policy.toml"
        );
        let private = PinningEngine::from_file(root.into()).unwrap();
        let anchors = private.anchor_certificates();
        assert_eq!(anchors.len(), 1, "the example root");
        assert_eq!(anchors[0].first(), Some(&0x30), "DER: a SEQUENCE");
        assert!(
            !private.trusts_public_roots(),
            "custom anchors only by default"
        );
    }

    #[test]
    fn missing_file_is_an_error_naming_the_file() {
        let err = PinningEngine::from_file("/nonexistent/pins.toml".into()).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/pins.toml"), "{err}");
    }

    #[test]
    fn empty_chain_blocks_with_its_kind() {
        let engine = PinningEngine::from_toml("[trust]\nmozilla_roots = true\n".into()).unwrap();
        let d = engine.verify("api.example.com".into(), 443, vec![]);
        assert_eq!(d.outcome, PinOutcome::Block);
        assert_eq!(d.failure, Some(PinFailure::EmptyChain));
        assert!(!d.pinned);
    }

    #[test]
    fn each_derived_engine_reports_to_its_own_listener() {
        struct Count(Mutex<u32>);
        impl PinReportListener for Count {
            fn on_report(&self, _report: PinFailureReport) {
                *self.0.lock().unwrap() += 1;
            }
        }
        let policy = r#"
[trust]
mozilla_roots = true

[[domain]]
host = "api.example.com"
pins = ["sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "sha256/BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA="]
"#;
        let base = PinningEngine::from_toml(policy.into()).unwrap();
        let (one, two) = (
            Arc::new(Count(Mutex::new(0))),
            Arc::new(Count(Mutex::new(0))),
        );
        let first = base.with_report_listener(one.clone(), AppInfo::default());
        let second = base.with_report_listener(two.clone(), AppInfo::default());
        // A chain that does not validate for a pinned host produces a report.
        let junk = vec![vec![0x30, 0x03, 0x02, 0x01, 0x01]];
        assert!(
            first
                .verify("api.example.com".into(), 443, junk.clone())
                .report
                .is_some()
        );
        assert_eq!((*one.0.lock().unwrap(), *two.0.lock().unwrap()), (1, 0));
        second.verify("api.example.com".into(), 443, junk.clone());
        assert_eq!((*one.0.lock().unwrap(), *two.0.lock().unwrap()), (1, 1));
        // The base engine has no listener, and deriving did not give it one.
        base.verify("api.example.com".into(), 443, junk);
        assert_eq!((*one.0.lock().unwrap(), *two.0.lock().unwrap()), (1, 1));
    }

    #[test]
    fn check_names_the_next_time_the_policy_decides_otherwise() {
        let pinned = PinPolicy::from_toml(
            r#"
[trust]
mozilla_roots = true

[[domain]]
host = "api.example.com"
pins = ["sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "sha256/BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA="]
expires = "2030-01-01"
"#,
        )
        .unwrap();
        let unpinned = PinPolicy::from_toml("[trust]\nmozilla_roots = true\n").unwrap();
        let expiry = 1_893_456_000; // 2030-01-01T00:00:00Z
        let at = |engine: &PinningEngine, host: &str, t: u64| {
            let c = engine.check(host.into(), 443, vec![], ChainValidation::Mamori, Some(t));
            assert_eq!(c.checked_at, t);
            c.policy_changes_at
        };
        let engine = PinningEngine::new(pinned.clone());
        assert_eq!(at(&engine, "api.example.com", expiry - 10), Some(expiry));
        assert_eq!(
            at(&engine, "api.example.com", expiry),
            None,
            "expired: stays so"
        );
        assert_eq!(
            at(&engine, "other.example.com", expiry - 10),
            None,
            "no rule"
        );
        // A lapse ends the policy in force: its time comes first, then the new policy's own.
        let lapse = expiry - 1000;
        let lapsing = PinningEngine::lapsing(unpinned.clone(), lapse, pinned.clone());
        assert_eq!(at(&lapsing, "api.example.com", lapse - 1), Some(lapse));
        assert_eq!(at(&lapsing, "api.example.com", lapse), Some(expiry));
        let late = PinningEngine::lapsing(pinned, expiry + 1000, unpinned);
        assert_eq!(at(&late, "api.example.com", expiry - 10), Some(expiry));
        assert_eq!(
            at(&late, "api.example.com", expiry + 10),
            Some(expiry + 1000)
        );
        assert_eq!(at(&late, "api.example.com", expiry + 1000), None);
    }

    #[test]
    fn foreign_listener_adapter_forwards_reports() {
        struct Collect(Mutex<Vec<PinFailureReport>>);
        impl PinReportListener for Collect {
            fn on_report(&self, report: PinFailureReport) {
                self.0.lock().unwrap().push(report);
            }
        }
        let collect = Arc::new(Collect(Mutex::new(Vec::new())));
        let adapter = ForeignListener(collect.clone());
        let report = PinFailureReport {
            app: AppInfo::default(),
            mamori_version: "0".into(),
            hostname: "h.example".into(),
            port: 443,
            noted_hostname: "h.example".into(),
            include_subdomains: false,
            enforce_pinning: true,
            validated_certificate_chain: vec![],
            served_certificate_chain: vec![],
            known_pins: vec![],
            validation_result: 1,
            date_time: "2026-11-25T00:00:00Z".into(),
            expiration_date: None,
            mamori_reason: "why".into(),
        };
        ReportListener::on_report(&adapter, &report);
        let got = collect.0.lock().unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].hostname, "h.example");
        assert_eq!(got[0].mamori_reason, "why");
        let json: serde_json::Value =
            serde_json::from_str(&pin_failure_report_json(got[0].clone())).unwrap();
        assert_eq!(json["noted-hostname"], "h.example");
        assert_eq!(json["validation-result"], 1);
    }
}
