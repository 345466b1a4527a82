//! The pinning verifier: path validation first, then pins on the verified path.
//!
//! Order matters. The chain is validated with rustls-webpki (signature path
//! to a configured anchor, validity time, serverAuth EKU, host name), and only
//! then are pins compared, against the certificates of the *verified path*
//! including its anchor. Matching pins against the presented list instead is
//! CVE-2016-2402: an attacker appends the pinned CA certificate to a chain
//! that does not chain to it. A decision carries its reason and the chain's
//! pins so a failure in the field can be debugged from the report alone.

use std::sync::Arc;

use rustls_pki_types::{CertificateDer, ServerName, TrustAnchor, UnixTime};
use serde::Serialize;
use time::OffsetDateTime;
use webpki::{EndEntityCert, KeyUsage};

use super::certs::{CertificateSummary, to_pem};
use super::failure::{ChainError, NameError, PinFailure};
use super::host::Host;
use super::pin::{Pin, wrap_der_sequence};
use super::policy::{DomainRule, ExpiryMode, PinPolicy, Profile};
use super::report::{AppInfo, PinFailureReport, ReportListener, Reporter, ValidationResult};

/// What to do with the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PinOutcome {
    /// Proceed.
    Allow,
    /// Abort the connection.
    Block,
    /// Proceed, but a pin check failed and was reported (report-only rule or
    /// pin set expired in fail-open mode).
    Report,
}

impl PinOutcome {
    /// `allow`, `block` or `report`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Block => "block",
            Self::Report => "report",
        }
    }
}

/// Who validates a chain before its pins are checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChainValidation {
    /// Mamori validates the chain itself (rustls-webpki against the policy's
    /// anchors), after the platform did: defence in depth (BP-1), and the
    /// mode for private PKI and the strict profile ([`PinVerifier::verify`]).
    #[default]
    Mamori,
    /// The chain given is the path the platform's trust evaluation verified;
    /// Mamori checks the host name and the pins on it
    /// ([`PinVerifier::verify_platform_path`]). Several times cheaper: no
    /// signature is verified twice.
    Platform,
}

/// Where a certificate sits in a chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CertificatePosition {
    /// The server's own certificate.
    Leaf,
    /// An intermediate CA.
    Intermediate,
    /// The trust anchor that ended the verified path.
    Anchor,
}

/// One certificate of a chain, described.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChainCertificate {
    /// Leaf, intermediate or anchor.
    pub position: CertificatePosition,
    /// Its subject.
    pub subject: String,
    /// Its SPKI pin.
    pub pin: Pin,
}

/// The verdict on one connection, with everything needed to debug it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PinDecision {
    /// Allow, block or report. (Serialised as `decision`, the key of the
    /// CLI's JSON output.)
    #[serde(rename = "decision")]
    pub outcome: PinOutcome,
    /// The normalised host.
    pub host: String,
    /// Whether the chain validated (path, time, EKU, name, profile).
    pub chain_valid: bool,
    /// Whether a pin rule applies to the host.
    pub pinned: bool,
    /// Whether a configured pin matched the verified path.
    pub pin_matched: bool,
    /// The pin that matched.
    pub matched_pin: Option<Pin>,
    /// The rule's host, when one applies.
    pub rule: Option<String>,
    /// Whether the rule's pin set is expired.
    pub pin_set_expired: bool,
    /// A sentence a developer can act on.
    pub reason: String,
    /// The typed failure, if any.
    pub failure: Option<PinFailure>,
    /// The verified path (leaf to anchor) when the chain validated, else the
    /// presented chain.
    pub chain: Vec<ChainCertificate>,
    /// Whether `chain` is the verified path.
    pub chain_verified: bool,
    /// The rule's pins.
    pub known_pins: Vec<Pin>,
    /// The failure report, when one was produced (even if deduplicated).
    #[serde(skip)]
    pub report: Option<PinFailureReport>,
}

impl PinDecision {
    /// Whether the connection may proceed.
    pub fn is_allowed(&self) -> bool {
        self.outcome != PinOutcome::Block
    }

    /// The pins of `chain` as strings, leaf first.
    pub fn chain_pins(&self) -> Vec<String> {
        self.chain.iter().map(|c| c.pin.to_string()).collect()
    }
}

/// Checks server chains against a [`PinPolicy`].
pub struct PinVerifier {
    policy: Arc<PinPolicy>,
    anchors: Vec<TrustAnchor<'static>>,
    /// The pin of each anchor, same order: anchors are fixed, so their
    /// SPKI hashes are taken once rather than on every verification.
    anchor_pins: Vec<Pin>,
    /// The PEM of each anchor whose certificate is known (custom anchors).
    anchor_certs: Vec<Option<String>>,
    reporter: Reporter,
    memo: Memo,
}

impl core::fmt::Debug for PinVerifier {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PinVerifier")
            .field("domains", &self.policy.domains().len())
            .field("anchors", &self.anchors.len())
            .field("profile", &self.policy.profile())
            .finish()
    }
}

impl PinVerifier {
    /// A verifier for `policy`, with no report listener.
    pub fn new(policy: PinPolicy) -> Self {
        let mut anchors: Vec<TrustAnchor<'static>> = Vec::new();
        if policy.trust().mozilla_roots() {
            anchors.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        // Mozilla anchors come without their certificates; custom ones keep
        // theirs so reports can show the whole validated chain, as TrustKit does.
        let mut anchor_certs: Vec<Option<String>> = vec![None; anchors.len()];
        for der in policy.trust().custom_anchors() {
            // Validated at load, so parsing cannot fail here; skip defensively.
            if let Ok(a) = webpki::anchor_from_trusted_cert(&CertificateDer::from(der.as_slice())) {
                anchors.push(a.to_owned());
                anchor_certs.push(Some(to_pem(der)));
            }
        }
        let anchor_pins = anchors
            .iter()
            .map(|a| Pin::of_spki(&wrap_der_sequence(a.subject_public_key_info.as_ref())))
            .collect();
        Self {
            policy: Arc::new(policy),
            anchors,
            anchor_pins,
            anchor_certs,
            reporter: Reporter::default(),
            memo: Memo::default(),
        }
    }

    /// Registers the listener that receives failure reports, and the app
    /// facts they carry.
    pub fn with_listener(mut self, listener: Arc<dyn ReportListener>, app: AppInfo) -> Self {
        self.reporter = Reporter::new(Some(listener), app);
        self
    }

    /// The policy.
    pub fn policy(&self) -> &PinPolicy {
        &self.policy
    }

    /// Verifies `chain` (leaf first, then intermediates in any order) for a
    /// connection to `host:port` at time `now`.
    pub fn verify(
        &self,
        host: &str,
        port: u16,
        chain: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> PinDecision {
        let parsed_host = match Host::parse(host) {
            Ok(h) => h,
            Err(e) => {
                return self.blocked_early(host, PinFailure::InvalidHost(e.to_string()), chain);
            }
        };
        let host_s = parsed_host.to_string();
        let rule = self.policy.rule_for(&parsed_host);
        if chain.is_empty() {
            let mut d = self.blocked_early(&host_s, PinFailure::EmptyChain, chain);
            d.pinned = rule.is_some();
            d.rule = rule.map(|r| r.host().to_owned());
            return d;
        }

        let validated = self.validate(&parsed_host, chain, now);
        self.decide(host_s, rule, port, chain, validated, now)
    }

    /// [`Self::verify`] or [`Self::verify_platform_path`], as `validation` says.
    pub fn verify_with(
        &self,
        validation: ChainValidation,
        host: &str,
        port: u16,
        chain: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> PinDecision {
        match validation {
            ChainValidation::Mamori => self.verify(host, port, chain, now),
            ChainValidation::Platform => self.verify_platform_path(host, port, chain, now),
        }
    }

    /// Like [`Self::verify`] for a `path` the platform's trust evaluation has
    /// already validated (leaf first, anchor last when the platform gives it:
    /// Android's `X509TrustManagerExtensions`, Apple's
    /// `SecTrustCopyCertificateChain`, OkHttp's cleaned chain on the JVM).
    /// Mamori does not validate the path again: it checks the leaf's names for
    /// `host`, then the pins against every certificate of `path`. The caller
    /// vouches that `path` is the platform-verified path, never the list the
    /// server sent (CVE-2016-2402). [`Self::verify`] remains the mode for
    /// defence in depth (BP-1) and private PKI, where Mamori validates itself.
    /// The strict profile's rules need Mamori's own validation: under it this
    /// is [`Self::verify`] (the path must then chain to the policy's anchors).
    pub fn verify_platform_path(
        &self,
        host: &str,
        port: u16,
        path: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> PinDecision {
        if self.policy.profile() == Profile::Strict {
            return self.verify(host, port, path, now);
        }
        let parsed_host = match Host::parse(host) {
            Ok(h) => h,
            Err(e) => {
                return self.blocked_early(host, PinFailure::InvalidHost(e.to_string()), path);
            }
        };
        let host_s = parsed_host.to_string();
        let rule = self.policy.rule_for(&parsed_host);
        if path.is_empty() {
            let mut d = self.blocked_early(&host_s, PinFailure::EmptyChain, path);
            d.pinned = rule.is_some();
            d.rule = rule.map(|r| r.host().to_owned());
            return d;
        }
        let checked = self.describe_platform_path(&parsed_host, path);
        self.decide(host_s, rule, port, path, checked, now)
    }

    /// The name check and the description (with pins) of a platform-verified
    /// path: the last certificate is the anchor when it is self-issued (the
    /// platform returned its trust anchor), else an intermediate.
    fn describe_platform_path(
        &self,
        host: &Host,
        path: &[CertificateDer<'_>],
    ) -> Result<ValidatedPath, PinFailure> {
        let certs = path
            .iter()
            .map(EndEntityCert::try_from)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| {
                PinFailure::Chain(ChainError::BadLeaf {
                    detail: e.to_string(),
                })
            })?;
        check_name(&certs[0], host)?;
        let last = certs.len() - 1;
        let entries = self.memo.with(|memo| {
            certs
                .iter()
                .enumerate()
                .map(|(i, c)| ChainCertificate {
                    position: match i {
                        0 => CertificatePosition::Leaf,
                        _ if i == last && c.subject() == c.issuer() => CertificatePosition::Anchor,
                        _ => CertificatePosition::Intermediate,
                    },
                    subject: memo.name(c.subject()),
                    pin: memo.pin(c.subject_public_key_info().as_ref()),
                })
                .collect()
        });
        // The platform's path is the list given, anchor included when the
        // platform returned it: every certificate of it was used.
        Ok(ValidatedPath {
            entries,
            used: UsedCertificates {
                served: (0..path.len()).collect(),
                anchor: None,
            },
        })
    }

    /// The decision for `host` once its chain is validated (`Ok`, the path
    /// leaf first) or refused (`Err`): the rule's pins, expiry and
    /// report-only mode, the reason, the report.
    fn decide(
        &self,
        host_s: String,
        rule: Option<&DomainRule>,
        port: u16,
        chain: &[CertificateDer<'_>],
        validated: Result<ValidatedPath, PinFailure>,
        now: UnixTime,
    ) -> PinDecision {
        let now_dt = OffsetDateTime::from_unix_timestamp(now.as_secs() as i64)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let (path, failure) = match validated {
            Ok(path) => (Some(path), None),
            Err(f) => (None, Some(f)),
        };
        let chain_valid = path.is_some();
        let (entries, used, chain_verified) = match path {
            Some(p) => (p.entries, Some(p.used), true),
            None => (describe_presented(chain), None, false),
        };

        let mut d = PinDecision {
            outcome: PinOutcome::Allow,
            host: host_s,
            chain_valid,
            pinned: rule.is_some(),
            pin_matched: false,
            matched_pin: None,
            rule: rule.map(|r| r.host().to_owned()),
            pin_set_expired: rule.is_some_and(|r| r.is_expired(now_dt)),
            reason: String::new(),
            failure: None,
            chain: entries,
            chain_verified,
            known_pins: rule.map(|r| r.pins().to_vec()).unwrap_or_default(),
            report: None,
        };

        if let Some(f) = failure {
            d.outcome = PinOutcome::Block;
            d.reason = match &f {
                // Say which anchors were tried: the usual cause is a chain
                // from a CA the policy does not list.
                PinFailure::Chain(ChainError::UnknownIssuer) => {
                    format!("{f}; trusted: {}", self.policy.trust().describe())
                }
                _ => f.to_string(),
            };
            d.failure = Some(f);
            if let Some(rule) = rule {
                d.report = Some(self.report(
                    &d,
                    rule,
                    port,
                    chain,
                    None,
                    ValidationResult::InvalidChain,
                    now,
                ));
            }
            return d;
        }
        let Some(rule) = rule else {
            d.reason = format!("{} is not pinned; the chain is valid", d.host);
            return d;
        };
        if let Some(entry) = d.chain.iter().find(|e| rule.pins().contains(&e.pin)) {
            d.pin_matched = true;
            d.matched_pin = Some(entry.pin);
            d.reason = format!(
                "pin {} of the {} ({}) matched rule {}{}",
                entry.pin,
                match entry.position {
                    CertificatePosition::Leaf => "leaf",
                    CertificatePosition::Intermediate => "intermediate",
                    CertificatePosition::Anchor => "anchor",
                },
                entry.subject,
                rule.host(),
                if d.pin_set_expired {
                    " (pin set expired)"
                } else {
                    ""
                }
            );
            return d;
        }
        let failure = PinFailure::PinMismatch {
            rule: rule.host().to_owned(),
        };
        let pins = d.chain_pins().join(", ");
        if rule.report_only() {
            d.outcome = PinOutcome::Report;
            d.reason =
                format!("{failure} (report-only rule: allowed and reported); chain pins: {pins}");
        } else if d.pin_set_expired && rule.on_expiry() == ExpiryMode::FailOpen {
            d.outcome = PinOutcome::Report;
            d.reason = format!(
                "{failure}, but the pin set expired on {} (fail-open: allowed and reported); chain pins: {pins}",
                rule.expires_text().unwrap_or("?")
            );
        } else {
            d.outcome = PinOutcome::Block;
            d.reason = format!("{failure}; chain pins: {pins}");
        }
        d.failure = Some(failure);
        d.report = Some(self.report(
            &d,
            rule,
            port,
            chain,
            used.as_ref(),
            ValidationResult::PinMismatch,
            now,
        ));
        d
    }

    fn blocked_early(
        &self,
        host: &str,
        failure: PinFailure,
        chain: &[CertificateDer<'_>],
    ) -> PinDecision {
        PinDecision {
            outcome: PinOutcome::Block,
            host: host.to_owned(),
            chain_valid: false,
            pinned: false,
            pin_matched: false,
            matched_pin: None,
            rule: None,
            pin_set_expired: false,
            reason: failure.to_string(),
            failure: Some(failure),
            chain: describe_presented(chain),
            chain_verified: false,
            known_pins: Vec::new(),
            report: None,
        }
    }

    /// Path validation (webpki), name check, then the strict profile.
    /// Returns the verified path, leaf first, anchor last.
    fn validate(
        &self,
        host: &Host,
        chain: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ValidatedPath, PinFailure> {
        let ee = EndEntityCert::try_from(&chain[0]).map_err(|e| {
            PinFailure::Chain(ChainError::BadLeaf {
                detail: e.to_string(),
            })
        })?;
        let path = ee
            .verify_for_usage(
                webpki::ALL_VERIFICATION_ALGS,
                &self.anchors,
                &chain[1..],
                now,
                KeyUsage::server_auth(),
                None,
                None,
            )
            .map_err(|e| PinFailure::Chain(ChainError::from_webpki(&e)))?;
        check_name(&ee, host)?;

        // Describe the path from webpki's own parse of it: re-parsing each
        // certificate with x509-parser would cost more than the pin check
        // itself (about 10 µs per certificate against 0.5 µs per SHA-256).
        let mut path_certs: Vec<(CertificatePosition, &webpki::Cert<'_>)> =
            vec![(CertificatePosition::Leaf, &*ee)];
        path_certs.extend(
            path.intermediate_certificates()
                .map(|c| (CertificatePosition::Intermediate, c)),
        );
        let anchor = path.anchor();
        if self.policy.profile() == Profile::Strict {
            let ders: Vec<(CertificatePosition, Vec<u8>)> = path_certs
                .iter()
                .map(|(pos, c)| (*pos, c.der().as_ref().to_vec()))
                .collect();
            let anchor_spki = wrap_der_sequence(anchor.subject_public_key_info.as_ref());
            super::strict::check_path(host, &ders, &anchor_spki).map_err(PinFailure::Strict)?;
        }
        // Which certificates webpki used, by position in the served list: a
        // served certificate with the same key but another subject is not on
        // the path, so the report must not find certificates by pin.
        let served = path_certs
            .iter()
            .filter_map(|(_, c)| served_index(chain, c.der().as_ref()))
            .collect();
        // webpki returns a reference into `self.anchors`.
        let anchor_index = self.anchors.iter().position(|a| core::ptr::eq(a, anchor));
        let entries = self.memo.with(|memo| {
            let mut entries = Vec::with_capacity(path_certs.len() + 1);
            entries.extend(path_certs.iter().map(|(pos, c)| ChainCertificate {
                position: *pos,
                subject: memo.name(c.subject()),
                pin: memo.pin(c.subject_public_key_info().as_ref()),
            }));
            entries.push(ChainCertificate {
                position: CertificatePosition::Anchor,
                subject: memo.name(anchor.subject.as_ref()),
                pin: match anchor_index {
                    Some(i) => self.anchor_pins[i],
                    None => {
                        Pin::of_spki(&wrap_der_sequence(anchor.subject_public_key_info.as_ref()))
                    }
                },
            });
            entries
        });
        Ok(ValidatedPath {
            entries,
            used: UsedCertificates {
                served,
                anchor: anchor_index,
            },
        })
    }

    /// The failure report for decision `d`. `used` names the certificates
    /// of the verified path (absent when the chain did not validate).
    #[allow(clippy::too_many_arguments)]
    fn report(
        &self,
        d: &PinDecision,
        rule: &DomainRule,
        port: u16,
        served: &[CertificateDer<'_>],
        used: Option<&UsedCertificates>,
        result: ValidationResult,
        now: UnixTime,
    ) -> PinFailureReport {
        let report = PinFailureReport {
            app: self.reporter.app_info().clone(),
            mamori_version: env!("CARGO_PKG_VERSION").to_owned(),
            hostname: d.host.clone(),
            port,
            noted_hostname: rule.pattern().to_string(),
            include_subdomains: rule.include_subdomains(),
            enforce_pinning: d.outcome == PinOutcome::Block,
            // The certificates webpki used: leaf and intermediates as served,
            // then the anchor when its certificate is known (custom anchors;
            // the Mozilla roots carry only a name and a key).
            validated_certificate_chain: match used {
                Some(u) => u
                    .served
                    .iter()
                    .map(|&i| to_pem(served[i].as_ref()))
                    .chain(u.anchor.and_then(|i| self.anchor_certs[i].clone()))
                    .collect(),
                None => Vec::new(),
            },
            served_certificate_chain: served.iter().map(|c| to_pem(c.as_ref())).collect(),
            known_pins: PinFailureReport::format_known_pins(rule.pins()),
            validation_result: result.code(),
            date_time: OffsetDateTime::from_unix_timestamp(now.as_secs() as i64)
                .ok()
                .and_then(|t| {
                    t.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .unwrap_or_default(),
            expiration_date: rule.expires_text().map(str::to_owned),
            mamori_reason: d.reason.clone(),
        };
        if self.reporter.has_listener()
            && self
                .reporter
                .should_send(&d.host, served, result, now.as_secs())
        {
            self.reporter.deliver(&report);
        }
        report
    }
}

/// Whether `leaf` is valid for `host` (webpki's RFC 6125 name matching).
fn check_name(leaf: &EndEntityCert<'_>, host: &Host) -> Result<(), PinFailure> {
    let server_name = match host {
        Host::Dns(d) => ServerName::try_from(d.as_str()).map_err(|e| {
            PinFailure::Name(NameError::Other {
                detail: e.to_string(),
            })
        })?,
        Host::Ip(ip) => ServerName::IpAddress((*ip).into()),
    };
    leaf.verify_is_valid_for_subject_name(&server_name)
        .map_err(|e| PinFailure::Name(NameError::from_webpki(&e)))
}

/// The verified path: described, and which certificates it consists of.
struct ValidatedPath {
    entries: Vec<ChainCertificate>,
    used: UsedCertificates,
}

/// The certificates of a verified path as webpki used them.
struct UsedCertificates {
    /// Indices into the served chain, path order (leaf first).
    served: Vec<usize>,
    /// Index into the verifier's anchors.
    anchor: Option<usize>,
}

/// Where the certificate `der` (one webpki parsed from `served`) sits in
/// `served`. webpki's certificates borrow the served bytes, so the address
/// identifies it; equal bytes are the fallback.
fn served_index(served: &[CertificateDer<'_>], der: &[u8]) -> Option<usize> {
    served
        .iter()
        .position(|c| core::ptr::eq(c.as_ref().as_ptr(), der.as_ptr()))
        .or_else(|| served.iter().position(|c| c.as_ref() == der))
}

/// Subject names as text and SPKI pins, memoised by their DER bytes.
/// Formatting a Name (RFC 4514) costs about 1.5 µs and the SHA-256 of an
/// RSA-2048 key about 0.4 µs, while a client meets the same few names and
/// keys on every connection: without the memo the decision record would
/// cost more than the pin check it explains. Keys are the exact bytes (a
/// lookup is one seeded hash and one comparison), so a hit returns what the
/// computation would; bounded: each table is cleared when full.
#[derive(Default)]
struct Memo(std::sync::Mutex<MemoTables>);

type MemoMap<V> = std::collections::HashMap<Vec<u8>, V, foldhash::fast::RandomState>;

#[derive(Default)]
struct MemoTables {
    names: MemoMap<String>,
    pins: MemoMap<Pin>,
}

impl Memo {
    const MAX: usize = 256;

    /// Runs `f` with the tables locked (once per verification).
    fn with<R>(&self, f: impl FnOnce(&mut MemoTables) -> R) -> R {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl MemoTables {
    /// The text of a Name given as the contents of its SEQUENCE (webpki's
    /// representation).
    fn name(&mut self, contents: &[u8]) -> String {
        if let Some(s) = self.names.get(contents) {
            return s.clone();
        }
        let text = name_to_string(&wrap_der_sequence(contents));
        if self.names.len() >= Memo::MAX {
            self.names.clear();
        }
        self.names.insert(contents.to_vec(), text.clone());
        text
    }

    /// [`Pin::of_spki`] of a DER SubjectPublicKeyInfo.
    fn pin(&mut self, spki: &[u8]) -> Pin {
        if let Some(p) = self.pins.get(spki) {
            return *p;
        }
        let pin = Pin::of_spki(spki);
        if self.pins.len() >= Memo::MAX {
            self.pins.clear();
        }
        self.pins.insert(spki.to_vec(), pin);
        pin
    }
}

fn name_to_string(der: &[u8]) -> String {
    use x509_parser::prelude::FromDer;
    x509_parser::x509::X509Name::from_der(der)
        .map(|(_, n)| n.to_string())
        .unwrap_or_default()
}

fn describe_presented(chain: &[CertificateDer<'_>]) -> Vec<ChainCertificate> {
    chain
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let s = CertificateSummary::of(c.as_ref()).ok()?;
            Some(ChainCertificate {
                position: if i == 0 {
                    CertificatePosition::Leaf
                } else {
                    CertificatePosition::Intermediate
                },
                subject: s.subject,
                pin: s.pin,
            })
        })
        .collect()
}
