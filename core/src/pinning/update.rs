//! Signed pin-set updates: rotate pins without an app release, never brick,
//! never let an attacker in (guideline DEV-4; two update keys for BP-5).
//!
//! The format and the rules are specified in `docs/pin-updates.md`; this
//! module is one implementation of it. In short:
//!
//! - an update is a JSON envelope `{key_id, payload, signature}` whose
//!   `payload` is the base64 of the exact payload bytes and whose `signature`
//!   is a detached Ed25519 signature over those bytes (ring; the bytes are
//!   verified before they are parsed, and never re-serialised);
//! - the payload names `version`, `issued_at`, `not_after`, `key_id` and the
//!   `domain` rules, in the schema of the base policy;
//! - [`UpdateVerifier`] checks one document against the base policy, the
//!   embedded keys and the [`UpdateRules`] and yields an [`AcceptedUpdate`];
//! - [`PinUpdater`] adds anti-rollback state, kept in an [`UpdateStore`]
//!   ([`FileUpdateStore`]: atomic replace), and keeps the last good policy on
//!   any error.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ring::signature::{ED25519, Ed25519KeyPair, UnparsedPublicKey};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::host::Host;
use super::policy::{
    DomainDocument, DomainRule, ExpiryMode, PinPolicy, PolicyDocument, PolicyError,
};

/// The largest update envelope accepted, in bytes (checked before parsing).
pub const MAX_UPDATE_BYTES: usize = 64 * 1024;

/// The `format` of a version-1 payload.
pub const PAYLOAD_FORMAT: &str = "mamori-pin-update/1";

/// The largest `version` (2^53 − 1, so every JSON reader holds it exactly).
pub const MAX_VERSION: u64 = (1 << 53) - 1;

/// Prefix of the temporary files a [`FileUpdateStore`] writes before renaming.
const STATE_TEMP_PREFIX: &str = ".mamori-pin-update-tmp";

/// The format tag of the state a [`FileUpdateStore`] writes.
const STATE_FORMAT: &str = "mamori-pin-update-state/1";

/// Longest interval [`PinUpdater::next_fetch`] suggests.
const FETCH_MAX: Duration = Duration::hours(24);
/// Shortest interval [`PinUpdater::next_fetch`] suggests.
const FETCH_MIN: Duration = Duration::minutes(15);

// ---------------------------------------------------------------- keys ----

/// A problem with the embedded update-verification keys.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// A key id is empty, longer than 64 bytes or uses other characters than
    /// `A-Z a-z 0-9 . _ -`.
    #[error("{0:?} is not a key id (1 to 64 of A-Z a-z 0-9 . _ -)")]
    BadId(String),
    /// A public key is not 32 bytes of base64.
    #[error("key {0:?}: an Ed25519 public key is 32 bytes, base64")]
    BadKey(String),
    /// Two keys share an id.
    #[error("key id {0:?} is used twice")]
    DuplicateId(String),
    /// The same public key is listed under two ids.
    #[error("keys {0:?} and {1:?} are the same key")]
    DuplicateKey(String, String),
    /// Fewer than two keys: one update key is a single point of failure (BP-5).
    #[error(
        "at least two update keys are needed (a primary and a backup held apart; BP-5), found {0}"
    )]
    TooFew(usize),
    /// A line of a key list is not `ID BASE64`.
    #[error("line {0}: expected `KEY_ID BASE64_PUBLIC_KEY`")]
    Syntax(usize),
}

/// One embedded update-verification key: an id and an Ed25519 public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateKey {
    id: String,
    public_key: [u8; 32],
}

fn valid_key_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

impl UpdateKey {
    /// A key from its id and the 32 raw bytes of its Ed25519 public key.
    pub fn ed25519(id: &str, public_key: &[u8]) -> Result<Self, KeyError> {
        if !valid_key_id(id) {
            return Err(KeyError::BadId(id.to_owned()));
        }
        let public_key: [u8; 32] = public_key
            .try_into()
            .map_err(|_| KeyError::BadKey(id.to_owned()))?;
        Ok(Self {
            id: id.to_owned(),
            public_key,
        })
    }

    /// The key id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The raw public key.
    pub fn public_key(&self) -> &[u8; 32] {
        &self.public_key
    }
}

/// The embedded update keys: at least two distinct keys with distinct ids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateKeys(Vec<UpdateKey>);

impl UpdateKeys {
    /// Checks that there are at least two keys, with distinct ids and
    /// distinct public keys.
    pub fn new(keys: Vec<UpdateKey>) -> Result<Self, KeyError> {
        for (i, k) in keys.iter().enumerate() {
            for earlier in &keys[..i] {
                if earlier.id == k.id {
                    return Err(KeyError::DuplicateId(k.id.clone()));
                }
                if earlier.public_key == k.public_key {
                    return Err(KeyError::DuplicateKey(earlier.id.clone(), k.id.clone()));
                }
            }
        }
        if keys.len() < 2 {
            return Err(KeyError::TooFew(keys.len()));
        }
        Ok(Self(keys))
    }

    /// Reads a key list: one `KEY_ID BASE64_PUBLIC_KEY` per line; blank lines
    /// and lines starting with `#` are ignored.
    pub fn from_text(text: &str) -> Result<Self, KeyError> {
        let mut keys = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split_whitespace();
            let (Some(id), Some(key), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err(KeyError::Syntax(n + 1));
            };
            let raw = B64
                .decode(key)
                .map_err(|_| KeyError::BadKey(id.to_owned()))?;
            keys.push(UpdateKey::ed25519(id, &raw)?);
        }
        Self::new(keys)
    }

    /// The keys, in order.
    pub fn keys(&self) -> &[UpdateKey] {
        &self.0
    }

    fn get(&self, id: &str) -> Option<&UpdateKey> {
        self.0.iter().find(|k| k.id == id)
    }
}

// ------------------------------------------------------------- format ----

/// The signed envelope as it travels (JSON).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateEnvelope {
    /// The id of the key that signed (repeated, signed, inside the payload).
    pub key_id: String,
    /// Standard base64 (with padding) of the exact payload bytes.
    pub payload: String,
    /// Standard base64 of the 64-byte Ed25519 signature over the payload bytes.
    pub signature: String,
}

/// The payload: a versioned set of domain rules in the base policy's schema.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdatePayload {
    /// [`PAYLOAD_FORMAT`].
    pub format: String,
    /// Monotonic version, 1 ..= [`MAX_VERSION`].
    pub version: u64,
    /// RFC 3339: not valid before.
    pub issued_at: String,
    /// RFC 3339: not accepted from this instant on; report-only downgrades
    /// end here.
    pub not_after: String,
    /// The signing key's id; must equal the envelope's.
    pub key_id: String,
    /// Default expiry behaviour of the rules below (as in the base policy).
    #[serde(default)]
    pub on_expiry: ExpiryMode,
    /// Domain rules, in the base policy's `[[domain]]` schema.
    #[serde(default)]
    pub domain: Vec<DomainDocument>,
}

/// Signs `payload` (the exact bytes that will be verified) with `key` and
/// returns the JSON envelope. For tools (`mamori pin-update sign`) and
/// servers; apps only verify.
pub fn sign_update(payload: &[u8], key_id: &str, key: &Ed25519KeyPair) -> Vec<u8> {
    let envelope = UpdateEnvelope {
        key_id: key_id.to_owned(),
        payload: B64.encode(payload),
        signature: B64.encode(key.sign(payload).as_ref()),
    };
    let mut out = serde_json::to_vec_pretty(&envelope).expect("envelopes serialise");
    out.push(b'\n');
    out
}

// ------------------------------------------------------------- errors ----

/// One merge rule an update broke (see `docs/pin-updates.md`, "Merge rules").
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MergeViolation {
    /// The update names a domain the base policy does not, and the base does
    /// not allow new domains.
    #[error("{0}: not in the base policy, and new domains are not allowed")]
    NewDomain(String),
    /// The update names a base domain with another scope (subdomains or
    /// wildcard added or removed).
    #[error("{host}: the base policy pins {base}; an update may not change a domain's scope")]
    ScopeChanged {
        /// The host as written in the update.
        host: String,
        /// The base rule's pattern.
        base: String,
    },
    /// An enforced base domain would keep fewer than two distinct pins.
    #[error("{host}: enforced in the base policy, needs two distinct pins, found {found}")]
    BackupPinDropped {
        /// The host.
        host: String,
        /// Distinct pins in the update.
        found: usize,
    },
    /// A report-only downgrade, but the base policy allows none.
    #[error("{0}: downgrade to report-only, which these update rules do not allow")]
    KillSwitchNotAllowed(String),
    /// A report-only downgrade for longer than the cap.
    #[error(
        "{host}: downgrade to report-only for {window_secs} s (issued_at..not_after), cap {cap_secs} s"
    )]
    KillSwitchTooLong {
        /// The host.
        host: String,
        /// `not_after - issued_at`, seconds.
        window_secs: i64,
        /// The cap, seconds.
        cap_secs: i64,
    },
    /// A fail-open expiry that would stop enforcing pins earlier than the
    /// base policy does.
    #[error("{0}: a fail-open expiry earlier than the base policy's would switch pinning off")]
    ExpiryWeakened(String),
}

/// Why an update was refused. Each variant names the check that failed, in
/// the order the checks run.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UpdateError {
    /// The base policy itself is invalid.
    #[error("base policy: {0}")]
    Base(PolicyError),
    /// The embedded keys are unusable.
    #[error("update keys: {0}")]
    Keys(#[from] KeyError),
    /// Larger than [`MAX_UPDATE_BYTES`].
    #[error("update is {size} bytes, the limit is {max}")]
    TooLarge {
        /// Size given.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// Not a JSON envelope, or bad base64.
    #[error("not an update envelope: {0}")]
    Envelope(String),
    /// Signed with a key id the app does not embed.
    #[error("unknown update key {0:?}")]
    UnknownKey(String),
    /// The signature does not verify with the named key (tampered payload,
    /// wrong key).
    #[error("bad signature for key {0:?}")]
    BadSignature(String),
    /// The signed payload is not the schema.
    #[error("payload: {0}")]
    Payload(String),
    /// The payload's `format` is not [`PAYLOAD_FORMAT`].
    #[error("unsupported payload format {0:?}")]
    UnsupportedFormat(String),
    /// The envelope's key id differs from the signed one.
    #[error("envelope key id {envelope:?} differs from the signed key id {payload:?}")]
    KeyIdMismatch {
        /// Envelope.
        envelope: String,
        /// Payload.
        payload: String,
    },
    /// `version` is 0 or above [`MAX_VERSION`].
    #[error("version {0} is outside 1..=2^53-1")]
    BadVersion(u64),
    /// A timestamp is not RFC 3339.
    #[error("{field}: {text:?} is not an RFC 3339 timestamp")]
    BadTime {
        /// `issued_at` or `not_after`.
        field: &'static str,
        /// As written.
        text: String,
    },
    /// `not_after` is not after `issued_at`.
    #[error("not_after is not after issued_at")]
    BadWindow,
    /// Not valid yet (`now < issued_at`).
    #[error("not valid before {issued_at} (now {now})")]
    NotYetValid {
        /// RFC 3339.
        issued_at: String,
        /// RFC 3339.
        now: String,
    },
    /// Expired (`now >= not_after`).
    #[error("expired at {not_after} (now {now})")]
    Expired {
        /// RFC 3339.
        not_after: String,
        /// RFC 3339.
        now: String,
    },
    /// `version <= last accepted` (rollback or replay).
    #[error("version {version} is not newer than the last accepted version {last_accepted}")]
    Rollback {
        /// The update's version.
        version: u64,
        /// The highest version accepted so far.
        last_accepted: u64,
    },
    /// The update's rules, or the merged policy, fail policy validation
    /// (one pin on an enforced domain, bad pin, duplicate domain, ...).
    #[error("{0}")]
    InvalidPolicy(PolicyError),
    /// Merge rules broken; every violation is listed.
    #[error("refused by the merge rules: {}", join(.0))]
    Refused(Vec<MergeViolation>),
    /// The accepted state could not be persisted; nothing changed.
    #[error("cannot persist the update: {0}")]
    Store(#[from] StoreError),
}

fn join(v: &[MergeViolation]) -> String {
    v.iter()
        .map(|m| m.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

// ---------------------------------------------------------- verifier ----

/// What the base policy lets updates do beyond rotating pins.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UpdateRules {
    /// Updates may pin domains the base policy does not name.
    pub allow_new_domains: bool,
    /// Longest report-only downgrade of an enforced domain (measured as the
    /// update's `not_after - issued_at`); `None`: no downgrade allowed.
    pub max_report_only: Option<Duration>,
}

/// An update that passed every check, with the policies it yields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcceptedUpdate {
    version: u64,
    key_id: String,
    issued_at: OffsetDateTime,
    not_after: OffsetDateTime,
    downgraded: Vec<String>,
    active: PinPolicy,
    lapsed: PinPolicy,
    envelope: Vec<u8>,
}

impl AcceptedUpdate {
    /// The version.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The key that signed it.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// `issued_at`.
    pub fn issued_at(&self) -> OffsetDateTime {
        self.issued_at
    }

    /// `not_after`.
    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }

    /// Hosts of enforced base domains this update downgrades to report-only
    /// until `not_after`.
    pub fn downgraded(&self) -> &[String] {
        &self.downgraded
    }

    /// The envelope bytes as received (what is persisted).
    pub fn envelope(&self) -> &[u8] {
        &self.envelope
    }

    /// The effective policy at `now`: before `not_after` the update as
    /// written; from `not_after` on the same pins with every report-only
    /// downgrade ended (the pins stay: falling back to rotated-away base
    /// pins would brick the app).
    pub fn policy_at(&self, now: OffsetDateTime) -> &PinPolicy {
        if now < self.not_after {
            &self.active
        } else {
            &self.lapsed
        }
    }
}

/// Checks update documents against a base policy, embedded keys and rules.
/// Stateless: rollback protection needs the last accepted version, which
/// [`PinUpdater`] keeps.
#[derive(Clone, Debug)]
pub struct UpdateVerifier {
    base_doc: PolicyDocument,
    base_dir: Option<PathBuf>,
    base: PinPolicy,
    keys: UpdateKeys,
    rules: UpdateRules,
}

impl UpdateVerifier {
    /// Validates the base policy document (`base_dir` resolves its anchor
    /// files) and keeps it with the keys and rules.
    pub fn new(
        base: PolicyDocument,
        origin: &str,
        base_dir: Option<&Path>,
        keys: UpdateKeys,
        rules: UpdateRules,
    ) -> Result<Self, UpdateError> {
        let policy = base.validate(origin, base_dir).map_err(UpdateError::Base)?;
        Ok(Self {
            base_doc: base,
            base_dir: base_dir.map(Path::to_path_buf),
            base: policy,
            keys,
            rules,
        })
    }

    /// A verifier whose keys and rules come from the base policy's own
    /// `[updates]` table (validated with the rest of the policy at load).
    ///
    /// Errors: [`UpdateError::Base`] for an invalid base policy,
    /// [`UpdateError::Keys`] with [`KeyError::TooFew`]`(0)` if it has no
    /// `[updates]` table (it does not accept updates).
    pub fn from_base(
        base: PolicyDocument,
        origin: &str,
        base_dir: Option<&Path>,
    ) -> Result<Self, UpdateError> {
        let policy = base.validate(origin, base_dir).map_err(UpdateError::Base)?;
        let settings = policy.updates().cloned().ok_or(KeyError::TooFew(0))?;
        Ok(Self {
            base_doc: base,
            base_dir: base_dir.map(Path::to_path_buf),
            base: policy,
            keys: settings.keys,
            rules: settings.rules,
        })
    }

    /// The validated base policy.
    pub fn base(&self) -> &PinPolicy {
        &self.base
    }

    /// Runs every check on `bytes` at `now`; `last_accepted` is the highest
    /// version accepted so far (rollback and replay are refused).
    pub fn verify(
        &self,
        bytes: &[u8],
        now: OffsetDateTime,
        last_accepted: Option<u64>,
    ) -> Result<AcceptedUpdate, UpdateError> {
        let (payload, key_id) = self.authenticate(bytes)?;
        let (version, issued_at, not_after) = check_header(&payload)?;
        if now < issued_at {
            return Err(UpdateError::NotYetValid {
                issued_at: payload.issued_at.clone(),
                now: rfc3339(now),
            });
        }
        if now >= not_after {
            return Err(UpdateError::Expired {
                not_after: payload.not_after.clone(),
                now: rfc3339(now),
            });
        }
        if let Some(last) = last_accepted {
            if version <= last {
                return Err(UpdateError::Rollback {
                    version,
                    last_accepted: last,
                });
            }
        }
        self.merge(&payload, key_id, version, issued_at, not_after, bytes)
    }

    /// Re-checks a persisted update at start-up: signature, key (it may have
    /// been removed from the app since) and merge rules against the current
    /// base, but not time or version (it was accepted when it was fresh).
    pub fn restore(&self, bytes: &[u8]) -> Result<AcceptedUpdate, UpdateError> {
        let (payload, key_id) = self.authenticate(bytes)?;
        let (version, issued_at, not_after) = check_header(&payload)?;
        self.merge(&payload, key_id, version, issued_at, not_after, bytes)
    }

    /// Size, envelope, key, signature over the exact bytes, then the payload
    /// schema and the signed key id.
    fn authenticate(&self, bytes: &[u8]) -> Result<(UpdatePayload, String), UpdateError> {
        if bytes.len() > MAX_UPDATE_BYTES {
            return Err(UpdateError::TooLarge {
                size: bytes.len(),
                max: MAX_UPDATE_BYTES,
            });
        }
        let env: UpdateEnvelope =
            serde_json::from_slice(bytes).map_err(|e| UpdateError::Envelope(e.to_string()))?;
        let key = self
            .keys
            .get(&env.key_id)
            .ok_or_else(|| UpdateError::UnknownKey(env.key_id.clone()))?;
        let payload_bytes = B64
            .decode(&env.payload)
            .map_err(|e| UpdateError::Envelope(format!("payload: {e}")))?;
        let signature = B64
            .decode(&env.signature)
            .map_err(|e| UpdateError::Envelope(format!("signature: {e}")))?;
        UnparsedPublicKey::new(&ED25519, key.public_key)
            .verify(&payload_bytes, &signature)
            .map_err(|_| UpdateError::BadSignature(env.key_id.clone()))?;
        let payload: UpdatePayload = serde_json::from_slice(&payload_bytes)
            .map_err(|e| UpdateError::Payload(e.to_string()))?;
        if payload.format != PAYLOAD_FORMAT {
            return Err(UpdateError::UnsupportedFormat(payload.format));
        }
        if payload.key_id != env.key_id {
            return Err(UpdateError::KeyIdMismatch {
                envelope: env.key_id,
                payload: payload.key_id,
            });
        }
        Ok((payload, env.key_id))
    }

    fn merge(
        &self,
        p: &UpdatePayload,
        key_id: String,
        version: u64,
        issued_at: OffsetDateTime,
        not_after: OffsetDateTime,
        envelope: &[u8],
    ) -> Result<AcceptedUpdate, UpdateError> {
        let origin = format!("update v{version}");
        // The update's rules alone, validated by the base schema's rules.
        let own = PolicyDocument {
            on_expiry: p.on_expiry,
            domains: p.domain.clone(),
            ..PolicyDocument::default()
        }
        .validate(&origin, None)
        .map_err(UpdateError::InvalidPolicy)?;

        let base_rules = self.base.domains();
        let mut replaced: Vec<Option<DomainDocument>> = vec![None; base_rules.len()];
        let mut added = Vec::new();
        let mut downgraded = Vec::new();
        let mut violations = Vec::new();
        // What an update may do to an enforced base rule `b` that `u` replaces
        // or, being more specific, takes hosts from.
        let mut check_downgrade = |b: &DomainRule, u: &DomainRule, violations: &mut Vec<_>| {
            if b.report_only() {
                return;
            }
            if u.pins().len() < 2 {
                violations.push(MergeViolation::BackupPinDropped {
                    host: u.host().to_owned(),
                    found: u.pins().len(),
                });
            }
            if u.report_only() {
                let window = not_after - issued_at;
                match self.rules.max_report_only {
                    None => {
                        violations.push(MergeViolation::KillSwitchNotAllowed(u.host().to_owned()))
                    }
                    Some(cap) if window > cap => {
                        violations.push(MergeViolation::KillSwitchTooLong {
                            host: u.host().to_owned(),
                            window_secs: window.whole_seconds(),
                            cap_secs: cap.whole_seconds(),
                        })
                    }
                    Some(_) => {
                        if !downgraded.iter().any(|h| h == u.host()) {
                            downgraded.push(u.host().to_owned());
                        }
                    }
                }
            }
            if let (Some(ue), ExpiryMode::FailOpen) = (u.expires(), u.on_expiry()) {
                let base_allows =
                    b.on_expiry() == ExpiryMode::FailOpen && b.expires().is_some_and(|be| be <= ue);
                if !base_allows {
                    violations.push(MergeViolation::ExpiryWeakened(u.host().to_owned()));
                }
            }
        };
        for (doc, u) in p.domain.iter().zip(own.domains()) {
            let mut resolved = doc.clone();
            resolved.on_expiry = Some(u.on_expiry());
            let Some(i) = base_rules.iter().position(|b| b.pattern() == u.pattern()) else {
                if let Some(b) = base_rules
                    .iter()
                    .find(|b| b.pattern().base() == u.pattern().base())
                {
                    violations.push(MergeViolation::ScopeChanged {
                        host: u.host().to_owned(),
                        base: b.pattern().to_string(),
                    });
                } else if !self.rules.allow_new_domains {
                    violations.push(MergeViolation::NewDomain(u.host().to_owned()));
                }
                // A new rule more specific than a base rule wins for the hosts
                // they share (NSC's most-specific rule): it is a change of that
                // base rule for them, held to the same limits.
                let shared = Host::parse(&u.pattern().base()).ok();
                for b in base_rules.iter().filter(|b| {
                    shared.as_ref().is_some_and(|h| b.pattern().matches(h))
                        && b.pattern().specificity() < u.pattern().specificity()
                }) {
                    check_downgrade(b, u, &mut violations);
                }
                added.push(resolved);
                continue;
            };
            check_downgrade(&base_rules[i], u, &mut violations);
            replaced[i] = Some(resolved);
        }
        if !violations.is_empty() {
            return Err(UpdateError::Refused(violations));
        }

        let build = |end_downgrades: bool| -> Result<PinPolicy, UpdateError> {
            let mut domains: Vec<DomainDocument> = self
                .base_doc
                .domains
                .iter()
                .zip(&replaced)
                .map(|(base, upd)| upd.clone().unwrap_or_else(|| base.clone()))
                .collect();
            domains.extend(added.iter().cloned());
            if end_downgrades {
                for d in &mut domains {
                    if downgraded.contains(&d.host) {
                        d.report_only = false;
                    }
                }
            }
            PolicyDocument {
                domains,
                ..self.base_doc.clone()
            }
            .validate(&origin, self.base_dir.as_deref())
            .map_err(UpdateError::InvalidPolicy)
        };
        Ok(AcceptedUpdate {
            version,
            key_id,
            issued_at,
            not_after,
            active: build(false)?,
            lapsed: build(true)?,
            downgraded,
            envelope: envelope.to_vec(),
        })
    }
}

fn check_header(p: &UpdatePayload) -> Result<(u64, OffsetDateTime, OffsetDateTime), UpdateError> {
    if p.version == 0 || p.version > MAX_VERSION {
        return Err(UpdateError::BadVersion(p.version));
    }
    let parse = |field: &'static str, text: &str| {
        OffsetDateTime::parse(text, &Rfc3339).map_err(|_| UpdateError::BadTime {
            field,
            text: text.to_owned(),
        })
    };
    let issued_at = parse("issued_at", &p.issued_at)?;
    let not_after = parse("not_after", &p.not_after)?;
    if not_after <= issued_at {
        return Err(UpdateError::BadWindow);
    }
    Ok((p.version, issued_at, not_after))
}

// ------------------------------------------------------------- store ----

/// The persisted state: the highest version accepted (the rollback floor)
/// and the envelope of the update in effect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredUpdate {
    /// Highest version ever accepted.
    pub highest_version: u64,
    /// The accepted envelope, byte for byte.
    pub envelope: Vec<u8>,
}

/// The state could not be read or written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// An I/O failure.
    #[error("I/O: {0}")]
    Io(String),
    /// The stored state is not what this module writes.
    #[error("corrupt state: {0}")]
    Corrupt(String),
}

/// Where [`PinUpdater`] keeps its state. `save` must be atomic: after a
/// crash at any point, `load` returns the old state or the new one.
pub trait UpdateStore: Send {
    /// The state, or `None` before the first accepted update.
    fn load(&self) -> Result<Option<StoredUpdate>, StoreError>;
    /// Replaces the state atomically.
    fn save(&self, state: &StoredUpdate) -> Result<(), StoreError>;
}

/// A JSON state file replaced atomically: written to a temporary file in the
/// same directory, synced, renamed over the old file, directory synced.
#[derive(Clone, Debug)]
pub struct FileUpdateStore {
    path: PathBuf,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateFile {
    format: String,
    highest_version: u64,
    envelope: String,
}

impl FileUpdateStore {
    /// A store at `path` (its directory must exist).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The state file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn io(e: impl fmt::Display) -> StoreError {
    StoreError::Io(e.to_string())
}

impl UpdateStore for FileUpdateStore {
    fn load(&self) -> Result<Option<StoredUpdate>, StoreError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        // The envelope, base64, plus a little JSON.
        if bytes.len() > 2 * MAX_UPDATE_BYTES {
            return Err(StoreError::Corrupt("too large".into()));
        }
        let s: StateFile =
            serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        if s.format != STATE_FORMAT {
            return Err(StoreError::Corrupt(format!("format {:?}", s.format)));
        }
        let envelope = B64
            .decode(&s.envelope)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(Some(StoredUpdate {
            highest_version: s.highest_version,
            envelope,
        }))
    }

    fn save(&self, state: &StoredUpdate) -> Result<(), StoreError> {
        let text = serde_json::to_vec(&StateFile {
            format: STATE_FORMAT.to_owned(),
            highest_version: state.highest_version,
            envelope: B64.encode(&state.envelope),
        })
        .map_err(io)?;
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        // Temporary files a crash left between write and rename: removed here,
        // so they never accumulate (the prefix is ours alone).
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                if e.file_name()
                    .to_string_lossy()
                    .starts_with(STATE_TEMP_PREFIX)
                {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        let mut tmp = tempfile::Builder::new()
            .prefix(STATE_TEMP_PREFIX)
            .tempfile_in(dir)
            .map_err(io)?;
        tmp.write_all(&text).map_err(io)?;
        tmp.as_file().sync_all().map_err(io)?;
        tmp.persist(&self.path).map_err(|e| io(e.error))?;
        // Make the rename itself durable (best effort where directories
        // cannot be opened).
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

// ----------------------------------------------------------- updater ----

/// Where the effective policy comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicySource {
    /// The policy shipped with the app.
    Base,
    /// An accepted update.
    Update {
        /// Its version.
        version: u64,
    },
}

impl fmt::Display for PolicySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Base => f.write_str("base"),
            Self::Update { version } => write!(f, "update {version}"),
        }
    }
}

/// The base policy plus the last good update, with anti-rollback state kept
/// in an [`UpdateStore`]. Every error leaves the effective policy as it was.
pub struct PinUpdater {
    verifier: UpdateVerifier,
    store: Box<dyn UpdateStore>,
    current: Option<AcceptedUpdate>,
    highest_version: Option<u64>,
    restore_error: Option<UpdateError>,
}

impl fmt::Debug for PinUpdater {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PinUpdater")
            .field("source", &self.source())
            .field("highest_version", &self.highest_version)
            .field("restore_error", &self.restore_error)
            .finish_non_exhaustive()
    }
}

impl PinUpdater {
    /// Restores the persisted state. A state that cannot be read or no
    /// longer verifies is not fatal: the base policy applies and
    /// [`Self::restore_error`] says why (the stored rollback floor is kept
    /// whenever it could be read).
    pub fn new(verifier: UpdateVerifier, store: Box<dyn UpdateStore>) -> Self {
        let mut updater = Self {
            verifier,
            store,
            current: None,
            highest_version: None,
            restore_error: None,
        };
        match updater.store.load() {
            Ok(None) => {}
            Ok(Some(state)) => {
                updater.highest_version = Some(state.highest_version);
                match updater.verifier.restore(&state.envelope) {
                    Ok(acc) => {
                        updater.highest_version = Some(state.highest_version.max(acc.version));
                        updater.current = Some(acc);
                    }
                    Err(e) => updater.restore_error = Some(e),
                }
            }
            Err(e) => updater.restore_error = Some(UpdateError::Store(e)),
        }
        updater
    }

    /// Verifies `bytes` at `now`, persists it, then makes it the effective
    /// policy. On any error nothing changes (in memory or on disk).
    pub fn apply(
        &mut self,
        bytes: &[u8],
        now: OffsetDateTime,
    ) -> Result<&AcceptedUpdate, UpdateError> {
        let acc = self.verifier.verify(bytes, now, self.highest_version)?;
        self.store.save(&StoredUpdate {
            highest_version: acc.version,
            envelope: acc.envelope.clone(),
        })?;
        self.highest_version = Some(acc.version);
        self.restore_error = None;
        Ok(self.current.insert(acc))
    }

    /// The effective policy at `now`.
    pub fn policy(&self, now: OffsetDateTime) -> &PinPolicy {
        match &self.current {
            Some(acc) => acc.policy_at(now),
            None => self.verifier.base(),
        }
    }

    /// Where [`Self::policy`] comes from.
    pub fn source(&self) -> PolicySource {
        match &self.current {
            Some(acc) => PolicySource::Update {
                version: acc.version,
            },
            None => PolicySource::Base,
        }
    }

    /// The update in effect, if any.
    pub fn current(&self) -> Option<&AcceptedUpdate> {
        self.current.as_ref()
    }

    /// The highest version accepted so far (the rollback floor).
    pub fn highest_version(&self) -> Option<u64> {
        self.highest_version
    }

    /// Why the persisted state was not restored, if it was not.
    pub fn restore_error(&self) -> Option<&UpdateError> {
        self.restore_error.as_ref()
    }

    /// When to fetch the next update: a quarter of the time left before the
    /// nearest future expiry (the update's `not_after`, a pin set's
    /// `expires`), between 15 minutes and 24 hours; one hour when the
    /// update in effect is past its `not_after`.
    pub fn next_fetch(&self, now: OffsetDateTime) -> OffsetDateTime {
        let stale = self.current.as_ref().is_some_and(|a| now >= a.not_after);
        let nearest = self
            .current
            .iter()
            .map(|a| a.not_after)
            .chain(
                self.policy(now)
                    .domains()
                    .iter()
                    .filter_map(|d| d.expires()),
            )
            .filter(|e| *e > now)
            .min();
        let wait = match nearest {
            Some(e) => {
                let left: Duration = e - now;
                (left / 4_i32).clamp(FETCH_MIN, FETCH_MAX)
            }
            None => FETCH_MAX,
        };
        let wait = if stale {
            wait.min(Duration::hours(1))
        } else {
            wait
        };
        now + wait
    }
}
