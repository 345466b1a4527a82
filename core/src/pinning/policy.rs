//! The pin policy document: schema, loading and validation.
//!
//! A policy is validated completely when it is loaded and is immutable
//! afterwards: an app never runs with half of a configuration. Every problem
//! is reported at once, each naming the file, the domain and the field, so a
//! security team fixes a policy in one round (the lesson of TrustKit apps that
//! crashed at start-up on one bad pin, TrustKit#228).
//!
//! ```toml
//! profile = "default"          # or "strict"
//! on_expiry = "fail-open"      # or "enforce"; the default for every domain
//!
//! [trust]
//! mozilla_roots = true         # default: true unless custom anchors are given
//! anchor_files = ["private-ca.pem"]   # relative to the policy file
//!
//! [[domain]]
//! host = "api.example.com"     # exact; "*.example.com"; "**.example.com"; an IP
//! include_subdomains = false
//! pins = ["sha256/…", "sha256/…"]
//! expires = "2027-06-30"       # optional; pins stop applying at 00:00 UTC that day
//! report_only = false
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::host::{HostError, HostPattern, is_public_suffix};
use super::pin::{Pin, PinParseError};
use crate::PolicyFormat;
use crate::policy_format::{FormatError, write_problems};

/// Which validation rules apply beyond pin matching.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// The Web PKI baseline as rustls-webpki implements it.
    #[default]
    Default,
    /// FinTech hardening on top of the baseline: no DSA or P-192 keys and RSA
    /// keys of at least 2048 bits anywhere in the path (anchor included); a
    /// leaf that names serverAuth (not anyExtendedKeyUsage), cannot sign
    /// certificates, and does not cover the host only through a wildcard
    /// directly under a public suffix; well-formed extensions and serial
    /// numbers (see `pinning::strict`).
    Strict,
}

/// What happens to a domain's pins after its `expires` date.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExpiryMode {
    /// Like Android NSC and TrustKit: a mismatch is no longer blocked, but
    /// unlike them it is still reported, so the expiry is never silent.
    #[default]
    FailOpen,
    /// Keep enforcing the pins after the date (the app must ship new pins).
    Enforce,
}

/// One domain rule of a validated policy. Read-only: rules come from
/// [`PolicyDocument::validate`], which checked them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainRule {
    host: String,
    pattern: HostPattern,
    include_subdomains: bool,
    pins: Vec<Pin>,
    expires: Option<OffsetDateTime>,
    expires_text: Option<String>,
    on_expiry: ExpiryMode,
    report_only: bool,
    report_uris: Vec<String>,
}

impl DomainRule {
    /// Whether the pin set is expired at `now`.
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.expires.is_some_and(|e| now >= e)
    }

    /// The host as written in the policy (for messages and reports).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The parsed pattern.
    pub fn pattern(&self) -> &HostPattern {
        &self.pattern
    }

    /// Whether subdomains are covered (`include_subdomains` or `**.`).
    pub fn include_subdomains(&self) -> bool {
        self.include_subdomains
    }

    /// The distinct pins, in policy order.
    pub fn pins(&self) -> &[Pin] {
        &self.pins
    }

    /// Instant from which the pins are expired, if any.
    pub fn expires(&self) -> Option<OffsetDateTime> {
        self.expires
    }

    /// The expiry as written in the policy.
    pub fn expires_text(&self) -> Option<&str> {
        self.expires_text.as_deref()
    }

    /// Behaviour after expiry.
    pub fn on_expiry(&self) -> ExpiryMode {
        self.on_expiry
    }

    /// Whether mismatches are reported but not blocked.
    pub fn report_only(&self) -> bool {
        self.report_only
    }

    /// Where the app should send failure reports (informational for the SDK,
    /// checked by audits).
    pub fn report_uris(&self) -> &[String] {
        &self.report_uris
    }
}

/// Where trust anchors come from. Never empty: built by validation, by
/// [`TrustConfig::mozilla`] or by [`TrustConfig::custom`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustConfig {
    mozilla_roots: bool,
    custom_anchors: Vec<Vec<u8>>,
    anchor_sources: Vec<String>,
}

impl TrustConfig {
    /// The Mozilla root program (webpki-roots), nothing else.
    pub fn mozilla() -> Self {
        Self {
            mozilla_roots: true,
            custom_anchors: Vec::new(),
            anchor_sources: Vec::new(),
        }
    }

    /// Only the certificates in `bytes` (PEM, any number, or one DER), read
    /// from `source` (a file name, for messages). Refused when `bytes` holds
    /// no certificate or one that does not parse.
    pub fn custom(source: &str, bytes: &[u8]) -> Result<Self, PolicyError> {
        let mut trust = Self {
            mozilla_roots: false,
            custom_anchors: Vec::new(),
            anchor_sources: Vec::new(),
        };
        trust
            .add_anchors(source.to_owned(), bytes)
            .map_err(|kind| PolicyError::whole(source, kind))?;
        Ok(trust)
    }

    /// Adds the certificates of `bytes` as anchors from `label`.
    fn add_anchors(&mut self, label: String, bytes: &[u8]) -> Result<(), ProblemKind> {
        match super::certs::certificates_from_bytes(bytes) {
            Ok(certs) if !certs.is_empty() => {
                self.custom_anchors.extend(certs);
                self.anchor_sources.push(label);
                Ok(())
            }
            Ok(_) => Err(ProblemKind::Anchor(label, "no certificate found".into())),
            Err(e) => Err(ProblemKind::Anchor(label, e.to_string())),
        }
    }

    /// Whether the Mozilla root program is trusted.
    pub fn mozilla_roots(&self) -> bool {
        self.mozilla_roots
    }

    /// DER certificates of the custom anchors (private PKI).
    pub fn custom_anchors(&self) -> &[Vec<u8>] {
        &self.custom_anchors
    }

    /// Where the custom anchors came from (files, `anchors_pem`), in order.
    pub fn anchor_sources(&self) -> &[String] {
        &self.anchor_sources
    }

    /// The anchors in words, for explanations: `the Mozilla roots and
    /// private-ca.pem`.
    pub fn describe(&self) -> String {
        let mut parts: Vec<&str> = Vec::new();
        if self.mozilla_roots {
            parts.push("the Mozilla roots");
        }
        parts.extend(self.anchor_sources.iter().map(String::as_str));
        match parts.as_slice() {
            [] => "no anchors".to_owned(),
            [one] => (*one).to_owned(),
            [init @ .., last] => format!("{} and {last}", init.join(", ")),
        }
    }
}

/// A validated pin policy. Immutable once validated; [`Self::with_profile`]
/// and [`Self::with_trust`] derive another valid policy from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PinPolicy {
    profile: Profile,
    trust: TrustConfig,
    domains: Vec<DomainRule>,
    updates: Option<UpdateSettings>,
}

/// The validated `[updates]` table: who may sign pin-set updates and what an
/// update may change (`docs/pin-updates.md`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateSettings {
    /// The embedded verification keys (at least two, BP-5).
    pub keys: super::update::UpdateKeys,
    /// The merge rules.
    pub rules: super::update::UpdateRules,
}

/// The `[updates]` table as written: signed pin-set updates are accepted only
/// when the base policy has one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdatesDocument {
    /// Update-verification public keys: at least two, held apart (BP-5).
    #[serde(default)]
    pub keys: Vec<UpdateKeyDocument>,
    /// Updates may pin domains the base policy does not name (default false).
    #[serde(default)]
    pub allow_new_domains: bool,
    /// Longest report-only downgrade (kill switch) of an enforced domain, in
    /// hours, measured as the update's `not_after - issued_at`; absent: no
    /// downgrade is accepted. At most 720 (30 days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_report_only_hours: Option<u32>,
}

/// One update key as written: `{ id = "primary-2026", ed25519 = "<base64>" }`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateKeyDocument {
    /// The key id that update envelopes name.
    pub id: String,
    /// Standard base64 of the 32-byte Ed25519 public key (as printed by
    /// `mamori pin-update keygen`).
    pub ed25519: String,
}

/// The longest report-only cap a base policy may set, in hours (30 days).
pub const MAX_REPORT_ONLY_HOURS: u32 = 720;

/// One problem found in a policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The domain rule concerned (its `host`, or `domain[i]`), if any.
    pub domain: Option<String>,
    /// The field concerned, if any.
    pub field: Option<String>,
    /// What is wrong.
    pub kind: ProblemKind,
}

/// What is wrong with a policy.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProblemKind {
    /// The file could not be read (an I/O failure, not a fault of the text).
    #[error("cannot read file: {0}")]
    Read(String),
    /// The document is not valid TOML/JSON or does not follow the schema.
    #[error("{0}")]
    Syntax(String),
    /// The document exceeds a size or nesting limit ([`crate::limits`]).
    #[error(transparent)]
    Limit(#[from] crate::limits::LimitError),
    /// A host is not acceptable.
    #[error(transparent)]
    Host(#[from] HostError),
    /// A pin is not acceptable.
    #[error("{pin:?}: {error}")]
    Pin {
        /// The pin as written.
        pin: String,
        /// Why.
        error: PinParseError,
    },
    /// Two rules cover the same host pattern.
    #[error("duplicate domain: {0} is already configured (rule {1})")]
    DuplicateDomain(String, usize),
    /// `include_subdomains` (or a wildcard) on a public suffix such as `com`.
    #[error("{0} is a public suffix: pinning all of its subdomains would pin unrelated sites")]
    PublicSuffix(String),
    /// An enforced domain lacks a backup pin.
    #[error(
        "an enforced domain needs at least two distinct pins (a backup pin for a spare key; BP-5), found {0}"
    )]
    NoBackupPin(usize),
    /// A domain rule without any pin.
    #[error("a domain rule needs pins")]
    NoPins,
    /// The same pin is listed twice.
    #[error("pin {0} is listed twice")]
    DuplicatePin(String),
    /// A date could not be parsed.
    #[error("{0:?} is not a date (YYYY-MM-DD) or an RFC 3339 date-time")]
    Date(String),
    /// A report URI is not an http(s) URL.
    #[error("{0:?} is not an http(s) URL")]
    ReportUri(String),
    /// An anchor file could not be read or holds no certificate.
    #[error("trust anchor {0}: {1}")]
    Anchor(String, String),
    /// The `[updates]` keys are unusable (fewer than two, duplicates, bad key).
    #[error("update keys: {0}")]
    UpdateKeys(String),
    /// `max_report_only_hours` above [`MAX_REPORT_ONLY_HOURS`].
    #[error("a report-only downgrade of {0} hours exceeds the cap of {MAX_REPORT_ONLY_HOURS}")]
    ReportOnlyCap(u32),
    /// No trust anchors at all.
    #[error("no trust anchors: enable mozilla_roots or give anchor_files / anchors_pem")]
    NoAnchors,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.domain, &self.field) {
            (Some(d), Some(field)) => write!(f, "domain {d:?}, field `{field}`: {}", self.kind),
            (Some(d), None) => write!(f, "domain {d:?}: {}", self.kind),
            (None, Some(field)) => write!(f, "field `{field}`: {}", self.kind),
            (None, None) => write!(f, "{}", self.kind),
        }
    }
}

/// A policy was refused. Lists every problem found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct PolicyError {
    /// The file (or `<inline>`) the policy came from.
    pub origin: String,
    /// Every problem, in document order.
    pub problems: Vec<Problem>,
}

impl PolicyError {
    /// An error with one problem that concerns the whole document.
    fn whole(origin: &str, kind: ProblemKind) -> Self {
        Self {
            origin: origin.to_owned(),
            problems: vec![Problem {
                domain: None,
                field: None,
                kind,
            }],
        }
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_problems(
            f,
            format_args!("invalid pin policy {}:", self.origin),
            &self.problems,
        )
    }
}

/// The policy document as written (before validation). Public so that
/// importers and exporters (NSC, TrustKit, OkHttp) can build one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyDocument {
    /// Schema version; 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// Validation profile.
    #[serde(default)]
    pub profile: Profile,
    /// Default expiry behaviour for every domain.
    #[serde(default)]
    pub on_expiry: ExpiryMode,
    /// Trust anchors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust: Option<TrustDocument>,
    /// Domain rules.
    #[serde(default, rename = "domain")]
    pub domains: Vec<DomainDocument>,
    /// Signed pin-set updates: keys and merge rules (absent: no updates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updates: Option<UpdatesDocument>,
}

/// The `[trust]` table as written.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustDocument {
    /// Trust the Mozilla roots; defaults to true unless custom anchors are given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mozilla_roots: Option<bool>,
    /// PEM or DER files of custom anchors, relative to the policy file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub anchor_files: Vec<String>,
    /// Inline PEM of custom anchors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchors_pem: Option<String>,
}

/// One `[[domain]]` as written.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainDocument {
    /// Host or host pattern.
    pub host: String,
    /// Cover subdomains.
    #[serde(default)]
    pub include_subdomains: bool,
    /// `sha256/…` pins.
    #[serde(default)]
    pub pins: Vec<String>,
    /// `YYYY-MM-DD` (00:00 UTC) or RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// Overrides the document's `on_expiry`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_expiry: Option<ExpiryMode>,
    /// Report but do not block.
    #[serde(default)]
    pub report_only: bool,
    /// Report endpoints.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub report_uris: Vec<String>,
}

impl PolicyDocument {
    /// Parses a document without validating it.
    pub fn parse(text: &str, format: PolicyFormat, origin: &str) -> Result<Self, PolicyError> {
        format.deserialize(text).map_err(|e| {
            let kind = match e {
                FormatError::Syntax(msg) => ProblemKind::Syntax(msg),
                FormatError::Limit(l) => ProblemKind::Limit(l),
            };
            PolicyError::whole(origin, kind)
        })
    }

    /// Renders the document as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("policy documents always serialise")
    }

    /// Renders the document as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("policy documents always serialise")
    }

    /// Validates the document. `base_dir` resolves relative anchor files.
    pub fn validate(
        &self,
        origin: &str,
        base_dir: Option<&Path>,
    ) -> Result<PinPolicy, PolicyError> {
        let mut problems = Vec::new();
        let mut push = |domain: Option<String>, field: Option<&str>, kind: ProblemKind| {
            problems.push(Problem {
                domain,
                field: field.map(str::to_owned),
                kind,
            })
        };

        let trust = self.trust.clone().unwrap_or_default();
        let mut anchors = TrustConfig {
            mozilla_roots: false,
            custom_anchors: Vec::new(),
            anchor_sources: Vec::new(),
        };
        for file in &trust.anchor_files {
            let path = match base_dir {
                Some(dir) => dir.join(file),
                None => PathBuf::from(file),
            };
            let label = path.display().to_string();
            let added = match std::fs::read(&path) {
                Ok(bytes) => anchors.add_anchors(label, &bytes),
                Err(e) => Err(ProblemKind::Anchor(label, e.to_string())),
            };
            if let Err(kind) = added {
                push(None, Some("trust.anchor_files"), kind);
            }
        }
        if let Some(pem) = &trust.anchors_pem {
            if let Err(kind) = anchors.add_anchors("anchors_pem".into(), pem.as_bytes()) {
                push(None, Some("trust.anchors_pem"), kind);
            }
        }
        let has_custom = !trust.anchor_files.is_empty() || trust.anchors_pem.is_some();
        anchors.mozilla_roots = trust.mozilla_roots.unwrap_or(!has_custom);
        if !anchors.mozilla_roots && !has_custom {
            push(None, Some("trust"), ProblemKind::NoAnchors);
        }

        let mut domains = Vec::with_capacity(self.domains.len());
        let mut seen: BTreeMap<HostPattern, usize> = BTreeMap::new();
        for (i, d) in self.domains.iter().enumerate() {
            let name = if d.host.trim().is_empty() {
                format!("domain[{i}]")
            } else {
                d.host.clone()
            };
            let dom = Some(name.clone());
            let pattern = match HostPattern::parse(&d.host, d.include_subdomains) {
                Ok(p) => Some(p),
                Err(e) => {
                    push(dom.clone(), Some("host"), e.into());
                    None
                }
            };
            if let Some(p) = &pattern {
                if let Some(first) = seen.get(p) {
                    push(
                        dom.clone(),
                        Some("host"),
                        ProblemKind::DuplicateDomain(p.to_string(), *first),
                    );
                } else {
                    seen.insert(p.clone(), i);
                }
                if p.covers_subdomains() && is_public_suffix(&p.base()) {
                    let field = if d.include_subdomains {
                        "include_subdomains"
                    } else {
                        "host"
                    };
                    push(
                        dom.clone(),
                        Some(field),
                        ProblemKind::PublicSuffix(p.base()),
                    );
                }
            }
            let mut pins = Vec::new();
            let mut distinct = BTreeSet::new();
            for raw in &d.pins {
                match Pin::parse(raw) {
                    Ok(pin) => {
                        if distinct.insert(pin) {
                            pins.push(pin);
                        } else {
                            push(
                                dom.clone(),
                                Some("pins"),
                                ProblemKind::DuplicatePin(pin.to_string()),
                            );
                        }
                    }
                    Err(error) => push(
                        dom.clone(),
                        Some("pins"),
                        ProblemKind::Pin {
                            pin: raw.clone(),
                            error,
                        },
                    ),
                }
            }
            if d.pins.is_empty() {
                push(dom.clone(), Some("pins"), ProblemKind::NoPins);
            } else if !d.report_only && distinct.len() < 2 {
                push(
                    dom.clone(),
                    Some("pins"),
                    ProblemKind::NoBackupPin(distinct.len()),
                );
            }
            let expires = match &d.expires {
                None => None,
                Some(text) => match parse_expiry(text) {
                    Some(t) => Some(t),
                    None => {
                        push(
                            dom.clone(),
                            Some("expires"),
                            ProblemKind::Date(text.clone()),
                        );
                        None
                    }
                },
            };
            for uri in &d.report_uris {
                let lower = uri.to_ascii_lowercase();
                let ok = (lower.starts_with("https://") || lower.starts_with("http://"))
                    && uri.len() > "https://".len();
                if !ok {
                    push(
                        dom.clone(),
                        Some("report_uris"),
                        ProblemKind::ReportUri(uri.clone()),
                    );
                }
            }
            if let Some(pattern) = pattern {
                domains.push(DomainRule {
                    host: d.host.clone(),
                    include_subdomains: pattern.covers_subdomains(),
                    pattern,
                    pins,
                    expires,
                    expires_text: d.expires.clone(),
                    on_expiry: d.on_expiry.unwrap_or(self.on_expiry),
                    report_only: d.report_only,
                    report_uris: d.report_uris.clone(),
                });
            }
        }
        let updates = self.updates.as_ref().and_then(|u| {
            let keys = u
                .keys
                .iter()
                .map(|k| {
                    use base64::Engine as _;
                    let raw = base64::engine::general_purpose::STANDARD
                        .decode(k.ed25519.trim())
                        .map_err(|_| super::update::KeyError::BadKey(k.id.clone()))?;
                    super::update::UpdateKey::ed25519(&k.id, &raw)
                })
                .collect::<Result<Vec<_>, _>>()
                .and_then(super::update::UpdateKeys::new);
            let keys = match keys {
                Ok(k) => Some(k),
                Err(e) => {
                    push(
                        None,
                        Some("updates.keys"),
                        ProblemKind::UpdateKeys(e.to_string()),
                    );
                    None
                }
            };
            let cap = match u.max_report_only_hours {
                Some(h) if h > MAX_REPORT_ONLY_HOURS => {
                    push(
                        None,
                        Some("updates.max_report_only_hours"),
                        ProblemKind::ReportOnlyCap(h),
                    );
                    None
                }
                h => Some(h.map(|h| time::Duration::hours(i64::from(h)))),
            };
            Some(UpdateSettings {
                keys: keys?,
                rules: super::update::UpdateRules {
                    allow_new_domains: u.allow_new_domains,
                    max_report_only: cap?,
                },
            })
        });
        if !problems.is_empty() {
            return Err(PolicyError {
                origin: origin.to_owned(),
                problems,
            });
        }
        Ok(PinPolicy {
            profile: self.profile,
            trust: anchors,
            domains,
            updates,
        })
    }
}

/// `YYYY-MM-DD` means 00:00 UTC of that day (TrustKit's reading; Android NSC
/// uses device-local midnight, which audits flag). RFC 3339 is taken as is.
fn parse_expiry(text: &str) -> Option<OffsetDateTime> {
    crate::date::parse_instant(text.trim()).ok()
}

impl PinPolicy {
    /// Parses and validates TOML.
    pub fn from_toml(text: &str) -> Result<Self, PolicyError> {
        PolicyDocument::parse(text, PolicyFormat::Toml, "<inline>")?.validate("<inline>", None)
    }

    /// Parses and validates JSON.
    pub fn from_json(text: &str) -> Result<Self, PolicyError> {
        PolicyDocument::parse(text, PolicyFormat::Json, "<inline>")?.validate("<inline>", None)
    }

    /// Parses and validates text whose format is detected from its content.
    pub fn from_text(
        text: &str,
        origin: &str,
        base_dir: Option<&Path>,
    ) -> Result<Self, PolicyError> {
        PolicyDocument::parse(text, PolicyFormat::detect(text), origin)?.validate(origin, base_dir)
    }

    /// Loads a policy file (TOML or JSON, detected from the content); anchor
    /// files are resolved relative to the policy's directory.
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| PolicyError::whole(&origin, ProblemKind::Read(crate::io_reason(&e))))?;
        Self::from_text(&text, &origin, path.parent())
    }

    /// An empty policy: no pins, Mozilla roots, default profile.
    pub fn unpinned() -> Self {
        Self {
            profile: Profile::Default,
            trust: TrustConfig::mozilla(),
            domains: Vec::new(),
            updates: None,
        }
    }

    /// This policy with another validation profile.
    pub fn with_profile(mut self, profile: Profile) -> Self {
        self.profile = profile;
        self
    }

    /// This policy with its trust anchors replaced by `trust` (already
    /// validated: a [`TrustConfig`] is never empty).
    pub fn with_trust(mut self, trust: TrustConfig) -> Self {
        self.trust = trust;
        self
    }

    /// The validation profile.
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// The trust anchors.
    pub fn trust(&self) -> &TrustConfig {
        &self.trust
    }

    /// The validated `[updates]` table (keys and merge rules), if the policy
    /// accepts signed updates.
    pub fn updates(&self) -> Option<&UpdateSettings> {
        self.updates.as_ref()
    }

    /// The domain rules, in policy order.
    pub fn domains(&self) -> &[DomainRule] {
        &self.domains
    }

    /// The rule that applies to `host`: an exact rule first, else the most
    /// specific wildcard (longest base); `None` when the host is not pinned.
    pub fn rule_for(&self, host: &super::host::Host) -> Option<&DomainRule> {
        self.domains
            .iter()
            .filter(|r| r.pattern.matches(host))
            .max_by_key(|r| r.pattern.specificity())
    }
}
