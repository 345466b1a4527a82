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
use super::host::{Host, is_public_suffix};
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

/// Why a check failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", content = "detail", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Failure {
    /// The host name given by the TLS stack is not a host.
    #[error("invalid host: {0}")]
    InvalidHost(String),
    /// The server presented no certificate.
    #[error("the server presented no certificate")]
    EmptyChain,
    /// The chain does not validate against the configured anchors.
    #[error("certificate chain not trusted: {0}")]
    Chain(String),
    /// The leaf is not valid for the host.
    #[error("certificate is not valid for the host: {0}")]
    Name(String),
    /// The strict profile refused a certificate.
    #[error("refused by the strict profile: {0}")]
    Strict(String),
    /// No pin of the rule matched the verified path.
    #[error("no pin of {rule} matched the verified chain")]
    PinMismatch {
        /// The rule's host.
        rule: String,
    },
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
pub struct Decision {
    /// Allow, block or report.
    pub decision: Outcome,
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

impl Decision {
    /// Whether the connection may proceed.
    pub fn is_allowed(&self) -> bool {
        self.decision != Outcome::Block
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
            .field("domains", &self.policy.domains.len())
            .field("anchors", &self.anchors.len())
            .field("profile", &self.policy.profile)
            .finish()
    }
}

impl PinVerifier {
    /// A verifier for `policy`, with no report listener.
    pub fn new(policy: PinPolicy) -> Self {
        let mut anchors: Vec<TrustAnchor<'static>> = Vec::new();
        if policy.trust.mozilla_roots {
            anchors.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        // Mozilla anchors come without their certificates; custom ones keep
        // theirs so reports can show the whole validated chain, as TrustKit does.
        let mut anchor_certs: Vec<Option<String>> = vec![None; anchors.len()];
        for der in &policy.trust.custom_anchors {
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
    ) -> Decision {
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
            d.rule = rule.map(|r| r.host.clone());
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

        let mut d = Decision {
            decision: Outcome::Allow,
            host: host_s.clone(),
            chain_valid,
            pinned: rule.is_some(),
            pin_matched: false,
            matched_pin: None,
            rule: rule.map(|r| r.host.clone()),
            pin_set_expired: rule.is_some_and(|r| r.is_expired(now_dt)),
            reason: String::new(),
            failure: None,
            chain: entries,
            chain_verified,
            known_pins: rule.map(|r| r.pins.clone()).unwrap_or_default(),
            report: None,
        };

        if let Some(f) = failure {
            d.decision = Outcome::Block;
            d.reason = f.to_string();
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
        if let Some(entry) = d.chain.iter().find(|e| rule.pins.contains(&e.pin)) {
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
                rule.host,
                if d.pin_set_expired {
                    " (pin set expired)"
                } else {
                    ""
                }
            );
            return d;
        }
        let failure = Failure::PinMismatch {
            rule: rule.host.clone(),
        };
        let pins = d.chain_pins().join(", ");
        if rule.report_only {
            d.decision = Outcome::Report;
            d.reason =
                format!("{failure} (report-only rule: allowed and reported); chain pins: {pins}");
        } else if d.pin_set_expired && rule.on_expiry == ExpiryMode::FailOpen {
            d.decision = Outcome::Report;
            d.reason = format!(
                "{failure}, but the pin set expired on {} (fail-open: allowed and reported); chain pins: {pins}",
                rule.expires_text.as_deref().unwrap_or("?")
            );
        } else {
            d.decision = Outcome::Block;
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
    ) -> Decision {
        Decision {
            decision: Outcome::Block,
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
        let ee =
            EndEntityCert::try_from(&chain[0]).map_err(|e| Failure::Chain(format!("leaf: {e}")))?;
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
            .map_err(|e| Failure::Chain(describe_webpki(&e)))?;
        let server_name = match host {
            Host::Dns(d) => ServerName::try_from(d.as_str())
                .map_err(|e| Failure::Name(e.to_string()))?
                .to_owned(),
            Host::Ip(ip) => ServerName::IpAddress((*ip).into()),
        };
        ee.verify_is_valid_for_subject_name(&server_name)
            .map_err(|e| Failure::Name(describe_webpki(&e)))?;

        // Describe the path from webpki's own parse of it: re-parsing each
        // certificate with x509-parser would cost more than the pin check
        // itself (about 10 µs per certificate against 0.5 µs per SHA-256).
        let mut path_certs: Vec<(Position, &webpki::Cert<'_>)> = vec![(Position::Leaf, &*ee)];
        path_certs.extend(
            path.intermediate_certificates()
                .map(|c| (Position::Intermediate, c)),
        );
        let anchor = path.anchor();
        if self.policy.profile == Profile::Strict {
            let ders: Vec<(Position, Vec<u8>)> = path_certs
                .iter()
                .map(|(pos, c)| (*pos, c.der().as_ref().to_vec()))
                .collect();
            let anchor_spki = wrap_der_sequence(anchor.subject_public_key_info.as_ref());
            strict_checks(host, &ders, &anchor_spki)?;
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
        d: &Decision,
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
            noted_hostname: rule.pattern.to_string(),
            include_subdomains: rule.include_subdomains,
            enforce_pinning: d.decision == Outcome::Block,
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
            known_pins: PinFailureReport::format_known_pins(&rule.pins),
            validation_result: result.code(),
            date_time: OffsetDateTime::from_unix_timestamp(now.as_secs() as i64)
                .ok()
                .and_then(|t| {
                    t.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .unwrap_or_default(),
            expiration_date: rule.expires_text.clone(),
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

fn describe_webpki(e: &webpki::Error) -> String {
    use webpki::Error as E;
    match e {
        E::CertExpired { .. } => "certificate expired".into(),
        E::CertNotValidYet { .. } => "certificate not valid yet".into(),
        E::UnknownIssuer => "unknown issuer (no path to a configured trust anchor)".into(),
        E::CertNotValidForName(_) => "certificate is not valid for this host name".into(),
        E::RequiredEkuNotFoundContext(_) => {
            "certificate lacks the serverAuth extended key usage".into()
        }
        other => format!("{other:?}"),
    }
}

// OIDs the strict profile refuses.
const OID_DSA: &str = "1.2.840.10040.4.1";
const OID_P192: &str = "1.2.840.10045.3.1.1";

/// The strict profile (FinTech hardening beyond the Web PKI baseline).
///
/// Runs after webpki accepted the path, on the verified path (leaf,
/// intermediates) and its anchor's key:
/// - keys: no DSA, no P-192, RSA of at least 2048 bits and a whole number
///   of bytes, for every key of the path including the anchor's;
/// - the leaf names serverAuth and not anyExtendedKeyUsage, may not sign
///   certificates, and does not cover the host only through a wildcard
///   directly under a public suffix;
/// - every leaf and intermediate is well formed: all extensions parse, and
///   the serial number is positive and at most 20 octets.
fn strict_checks(
    host: &Host,
    path: &[(Position, Vec<u8>)],
    anchor_spki: &[u8],
) -> Result<(), Failure> {
    use x509_parser::prelude::FromDer;
    let (_, anchor_key) = x509_parser::x509::SubjectPublicKeyInfo::from_der(anchor_spki)
        .map_err(|e| Failure::Strict(format!("anchor key unreadable: {e}")))?;
    check_key(Position::Anchor, &anchor_key)?;
    for (pos, der) in path {
        let (_, cert) = x509_parser::parse_x509_certificate(der)
            .map_err(|e| Failure::Strict(format!("unparseable certificate: {e}")))?;
        check_key(*pos, &cert.tbs_certificate.subject_pki)?;
        well_formed(*pos, &cert)?;
        if *pos != Position::Leaf {
            continue;
        }
        match cert.extended_key_usage() {
            // CABF BR 7.1.2.7.10: a server certificate must not allow every
            // usage; anyExtendedKeyUsage next to serverAuth defeats the EKU.
            Ok(Some(eku)) if eku.value.any => {
                return Err(Failure::Strict(
                    "leaf allows any extended key usage (anyExtendedKeyUsage)".into(),
                ));
            }
            Ok(Some(eku)) if eku.value.server_auth => {}
            Ok(_) => {
                return Err(Failure::Strict(
                    "leaf has no serverAuth extended key usage".into(),
                ));
            }
            Err(e) => return Err(Failure::Strict(format!("leaf EKU unreadable: {e}"))),
        }
        // RFC 5280 4.2.1.3: keyCertSign is for CA certificates only. A leaf
        // that may sign certificates is one key compromise away from a
        // private CA for any name. (webpki already refuses CA:TRUE leaves.)
        if let Ok(Some(ku)) = cert.key_usage() {
            if ku.value.key_cert_sign() {
                return Err(Failure::Strict(
                    "leaf may sign certificates (keyUsage keyCertSign)".into(),
                ));
            }
        }
        if let Host::Dns(name) = host {
            relies_on_public_suffix_wildcard(&cert, name)?;
        }
    }
    Ok(())
}

/// Key strength for one key of the path. RSA moduli must be at least 2048
/// bits and a multiple of 8 bits (CABF BR 6.1.5): odd sizes come from broken
/// or hand-rolled key generation.
fn check_key(
    pos: Position,
    spki: &x509_parser::x509::SubjectPublicKeyInfo<'_>,
) -> Result<(), Failure> {
    use x509_parser::public_key::PublicKey;
    let alg = spki.algorithm.algorithm.to_id_string();
    if alg == OID_DSA {
        return Err(Failure::Strict(format!("{pos:?} has a DSA key")));
    }
    if let Some(params) = &spki.algorithm.parameters {
        if let Ok(oid) = params.as_oid() {
            if oid.to_id_string() == OID_P192 {
                return Err(Failure::Strict(format!("{pos:?} has a P-192 key")));
            }
        }
    }
    if let Ok(PublicKey::RSA(rsa)) = spki.parsed() {
        let bits = rsa_modulus_bits(rsa.modulus);
        if bits < 2048 {
            return Err(Failure::Strict(format!(
                "{pos:?} has an RSA key of {bits} bits (minimum 2048)"
            )));
        }
        if bits % 8 != 0 {
            return Err(Failure::Strict(format!(
                "{pos:?} has an RSA key of {bits} bits, not a whole number of bytes"
            )));
        }
    }
    Ok(())
}

/// The bit length of an RSA modulus given as a DER INTEGER's content bytes.
/// (x509-parser's `RSAPublicKey::key_size` counts whole bytes after one
/// assumed sign byte, so it reports a 2052-bit modulus as 2048 bits.)
fn rsa_modulus_bits(modulus: &[u8]) -> usize {
    let significant: &[u8] = match modulus.iter().position(|b| *b != 0) {
        Some(i) => &modulus[i..],
        None => return 0,
    };
    significant.len() * 8 - significant[0].leading_zeros() as usize
}

/// Well-formedness webpki tolerates: every extension of a path certificate
/// must parse (a malformed extension is one that another stack, such as the
/// platform verifier running beside Mamori, may read differently), and the
/// serial number must be positive and at most 20 octets (RFC 5280 4.1.2.2).
fn well_formed(
    pos: Position,
    cert: &x509_parser::certificate::X509Certificate<'_>,
) -> Result<(), Failure> {
    for ext in cert.extensions() {
        if let x509_parser::extensions::ParsedExtension::ParseError { error } =
            ext.parsed_extension()
        {
            return Err(Failure::Strict(format!(
                "{pos:?} has a malformed extension {}: {error}",
                ext.oid.to_id_string()
            )));
        }
    }
    let serial = cert.raw_serial();
    let positive = serial.first().is_some_and(|b| b & 0x80 == 0) && serial.iter().any(|b| *b != 0);
    if !positive || serial.len() > 20 {
        return Err(Failure::Strict(format!(
            "{pos:?} has a serial number that is not a positive integer of at most 20 octets"
        )));
    }
    Ok(())
}

/// Refuses a connection to `host` that is only covered by a leaf wildcard
/// sitting directly under a public suffix (`*.co.uk`, `*.s3.amazonaws.com`):
/// such a name spans many unrelated owners, so CAs must not issue it (CABF BR
/// 3.2.2.6). The name the connection relies on is what is judged: a
/// certificate that also carries such a wildcard but names `host` exactly
/// (Amazon's own `s3.amazonaws.com` certificate) is not refused for it.
fn relies_on_public_suffix_wildcard(
    cert: &x509_parser::certificate::X509Certificate<'_>,
    host: &str,
) -> Result<(), Failure> {
    use x509_parser::extensions::GeneralName;
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return Ok(());
    };
    let dns_names: Vec<String> = san
        .value
        .general_names
        .iter()
        .filter_map(|n| match n {
            GeneralName::DNSName(d) => Some(d.to_ascii_lowercase()),
            _ => None,
        })
        .collect();
    if dns_names.iter().any(|d| d.trim_end_matches('.') == host) {
        return Ok(());
    }
    let Some((_, parent)) = host.split_once('.') else {
        return Ok(());
    };
    for dns in &dns_names {
        if dns
            .strip_prefix("*.")
            .is_some_and(|base| base.trim_end_matches('.') == parent)
            && is_public_suffix(parent)
        {
            return Err(Failure::Strict(format!(
                "the leaf covers {host} only through the wildcard {dns}, which sits directly under a public suffix"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::rsa_modulus_bits;

    #[test]
    fn rsa_modulus_bits_counts_significant_bits() {
        // DER content of a 2048-bit modulus: a sign byte then 256 bytes.
        let mut m2048 = vec![0u8];
        m2048.extend([0x80; 256]);
        assert_eq!(rsa_modulus_bits(&m2048), 2048);
        // 2052 bits: 257 bytes, the first holding 4 bits, no sign byte.
        let mut m2052 = vec![0x0f];
        m2052.extend([0xff; 256]);
        assert_eq!(rsa_modulus_bits(&m2052), 2052);
        assert_eq!(rsa_modulus_bits(&[0x00, 0x01]), 1);
        assert_eq!(rsa_modulus_bits(&[]), 0);
        assert_eq!(rsa_modulus_bits(&[0, 0]), 0);
    }
}
