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
use super::failure::{ChainError, Failure, NameError};
use super::host::Host;
use super::pin::{Pin, wrap_der_sequence};
use super::policy::{DomainRule, ExpiryMode, PinPolicy, Profile};
use super::report::{AppInfo, PinFailureReport, ReportListener, Reporter, ValidationResult};

/// What to do with the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Proceed.
    Allow,
    /// Abort the connection.
    Block,
    /// Proceed, but a pin check failed and was reported (report-only rule or
    /// pin set expired in fail-open mode).
    Report,
}

impl Outcome {
    /// `allow`, `block` or `report`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Block => "block",
            Self::Report => "report",
        }
    }
}

/// Where a certificate sits in a chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Position {
    /// The server's own certificate.
    Leaf,
    /// An intermediate CA.
    Intermediate,
    /// The trust anchor that ended the verified path.
    Anchor,
}

/// One certificate of a chain, described.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChainEntry {
    /// Leaf, intermediate or anchor.
    pub position: Position,
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
    pub outcome: Outcome,
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
    pub failure: Option<Failure>,
    /// The verified path (leaf to anchor) when the chain validated, else the
    /// presented chain.
    pub chain: Vec<ChainEntry>,
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
        self.outcome != Outcome::Block
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
    names: NameCache,
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
            names: NameCache::default(),
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
        let now_dt = OffsetDateTime::from_unix_timestamp(now.as_secs() as i64)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let parsed_host = match Host::parse(host) {
            Ok(h) => h,
            Err(e) => {
                return self.blocked_early(host, Failure::InvalidHost(e.to_string()), chain);
            }
        };
        let host_s = parsed_host.to_string();
        let rule = self.policy.rule_for(&parsed_host);
        if chain.is_empty() {
            let mut d = self.blocked_early(&host_s, Failure::EmptyChain, chain);
            d.pinned = rule.is_some();
            d.rule = rule.map(|r| r.host().to_owned());
            return d;
        }

        let validated = self.validate(&parsed_host, chain, now);
        let (path, failure) = match validated {
            Ok(path) => (Some(path), None),
            Err(f) => (None, Some(f)),
        };
        let chain_valid = path.is_some();
        let (entries, chain_verified) = match &path {
            Some(p) => (p.clone(), true),
            None => (describe_presented(chain), false),
        };

        let mut d = PinDecision {
            outcome: Outcome::Allow,
            host: host_s.clone(),
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
            d.outcome = Outcome::Block;
            d.reason = match &f {
                // Say which anchors were tried: the usual cause is a chain
                // from a CA the policy does not list.
                Failure::Chain(ChainError::UnknownIssuer) => {
                    format!("{f}; trusted: {}", self.policy.trust().describe())
                }
                _ => f.to_string(),
            };
            d.failure = Some(f);
            if let Some(rule) = rule {
                d.report =
                    Some(self.report(&d, rule, port, chain, ValidationResult::InvalidChain, now));
            }
            return d;
        }
        let Some(rule) = rule else {
            d.reason = format!("{host_s} is not pinned; the chain is valid");
            return d;
        };
        if let Some(entry) = d.chain.iter().find(|e| rule.pins().contains(&e.pin)) {
            d.pin_matched = true;
            d.matched_pin = Some(entry.pin);
            d.reason = format!(
                "pin {} of the {} ({}) matched rule {}{}",
                entry.pin,
                match entry.position {
                    Position::Leaf => "leaf",
                    Position::Intermediate => "intermediate",
                    Position::Anchor => "anchor",
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
        let failure = Failure::PinMismatch {
            rule: rule.host().to_owned(),
        };
        let pins = d.chain_pins().join(", ");
        if rule.report_only() {
            d.outcome = Outcome::Report;
            d.reason =
                format!("{failure} (report-only rule: allowed and reported); chain pins: {pins}");
        } else if d.pin_set_expired && rule.on_expiry() == ExpiryMode::FailOpen {
            d.outcome = Outcome::Report;
            d.reason = format!(
                "{failure}, but the pin set expired on {} (fail-open: allowed and reported); chain pins: {pins}",
                rule.expires_text().unwrap_or("?")
            );
        } else {
            d.outcome = Outcome::Block;
            d.reason = format!("{failure}; chain pins: {pins}");
        }
        d.failure = Some(failure);
        d.report = Some(self.report(&d, rule, port, chain, ValidationResult::PinMismatch, now));
        d
    }

    fn blocked_early(
        &self,
        host: &str,
        failure: Failure,
        chain: &[CertificateDer<'_>],
    ) -> PinDecision {
        PinDecision {
            outcome: Outcome::Block,
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
    ) -> Result<Vec<ChainEntry>, Failure> {
        let ee = EndEntityCert::try_from(&chain[0]).map_err(|e| {
            Failure::Chain(ChainError::BadLeaf {
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
            .map_err(|e| Failure::Chain(ChainError::from_webpki(&e)))?;
        let server_name = match host {
            Host::Dns(d) => ServerName::try_from(d.as_str())
                .map_err(|e| {
                    Failure::Name(NameError::Other {
                        detail: e.to_string(),
                    })
                })?
                .to_owned(),
            Host::Ip(ip) => ServerName::IpAddress((*ip).into()),
        };
        ee.verify_is_valid_for_subject_name(&server_name)
            .map_err(|e| Failure::Name(NameError::from_webpki(&e)))?;

        // Describe the path from webpki's own parse of it: re-parsing each
        // certificate with x509-parser would cost more than the pin check
        // itself (about 10 µs per certificate against 0.5 µs per SHA-256).
        let mut path_certs: Vec<(Position, &webpki::Cert<'_>)> = vec![(Position::Leaf, &*ee)];
        path_certs.extend(
            path.intermediate_certificates()
                .map(|c| (Position::Intermediate, c)),
        );
        let anchor = path.anchor();
        if self.policy.profile() == Profile::Strict {
            let ders: Vec<(Position, Vec<u8>)> = path_certs
                .iter()
                .map(|(pos, c)| (*pos, c.der().as_ref().to_vec()))
                .collect();
            let anchor_spki = wrap_der_sequence(anchor.subject_public_key_info.as_ref());
            super::strict::check_path(host, &ders, &anchor_spki).map_err(Failure::Strict)?;
        }
        let mut entries: Vec<ChainEntry> = path_certs
            .iter()
            .map(|(pos, c)| ChainEntry {
                position: *pos,
                subject: self.names.describe(c.subject()),
                pin: Pin::of_spki(c.subject_public_key_info().as_ref()),
            })
            .collect();
        entries.push(ChainEntry {
            position: Position::Anchor,
            subject: self.names.describe(anchor.subject.as_ref()),
            // webpki returns a reference into `self.anchors`.
            pin: match self.anchors.iter().position(|a| core::ptr::eq(a, anchor)) {
                Some(i) => self.anchor_pins[i],
                None => Pin::of_spki(&wrap_der_sequence(anchor.subject_public_key_info.as_ref())),
            },
        });
        Ok(entries)
    }

    fn report(
        &self,
        d: &PinDecision,
        rule: &DomainRule,
        port: u16,
        served: &[CertificateDer<'_>],
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
            enforce_pinning: d.outcome == Outcome::Block,
            validated_certificate_chain: if d.chain_verified {
                // Leaf and intermediates as served, then the anchor when its
                // certificate is known (custom anchors; the Mozilla roots
                // carry only a name and a key).
                let mut pems = served_path_pems(served, &d.chain);
                let anchor_pem = d
                    .chain
                    .iter()
                    .filter(|e| e.position == Position::Anchor)
                    .find_map(|e| {
                        self.anchor_pins
                            .iter()
                            .zip(&self.anchor_certs)
                            .find_map(|(pin, pem)| (*pin == e.pin).then_some(pem.clone())?)
                    });
                pems.extend(anchor_pem);
                pems
            } else {
                Vec::new()
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

/// PEMs of the presented certificates that are in the verified path, in path
/// order.
fn served_path_pems(served: &[CertificateDer<'_>], path: &[ChainEntry]) -> Vec<String> {
    let mut out = Vec::new();
    for entry in path.iter().filter(|e| e.position != Position::Anchor) {
        if let Some(c) = served
            .iter()
            .find(|c| Pin::of_certificate(c.as_ref()).ok() == Some(entry.pin))
        {
            out.push(to_pem(c.as_ref()));
        }
    }
    out
}

/// Subject names as text, memoised by their DER contents. Formatting a Name
/// (RFC 4514) costs about 1.5 µs, three times the SHA-256 of a key, and a
/// client meets the same few names on every connection; without the memo
/// the decision record would cost more than the pin check it explains.
/// Bounded: cleared when full.
#[derive(Default)]
struct NameCache(std::sync::Mutex<std::collections::HashMap<Vec<u8>, String>>);

impl NameCache {
    const MAX: usize = 256;

    /// The text of a Name given as the contents of its SEQUENCE (webpki's
    /// representation).
    fn describe(&self, contents: &[u8]) -> String {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = map.get(contents) {
            return s.clone();
        }
        let text = name_to_string(&wrap_der_sequence(contents));
        if map.len() >= Self::MAX {
            map.clear();
        }
        map.insert(contents.to_vec(), text.clone());
        text
    }
}

fn name_to_string(der: &[u8]) -> String {
    use x509_parser::prelude::FromDer;
    x509_parser::x509::X509Name::from_der(der)
        .map(|(_, n)| n.to_string())
        .unwrap_or_default()
}

fn describe_presented(chain: &[CertificateDer<'_>]) -> Vec<ChainEntry> {
    chain
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let s = CertificateSummary::of(c.as_ref()).ok()?;
            Some(ChainEntry {
                position: if i == 0 {
                    Position::Leaf
                } else {
                    Position::Intermediate
                },
                subject: s.subject,
                pin: s.pin,
            })
        })
        .collect()
}
