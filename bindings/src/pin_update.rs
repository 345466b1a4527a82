//! Signed pin-set updates over the FFI (issue 14, `docs/pin-updates.md`).
//!
//! The app fetches the update document itself (OkHttp, URLSession) and hands
//! the bytes to [`PinUpdater::apply`]; [`PinUpdater::engine`] returns a
//! [`PinningEngine`] for the effective policy, to be swapped in for new
//! connections. The core's `apply` needs `&mut self`: the FFI object keeps the
//! core updater behind a mutex, which is never held across a foreign call
//! (apply verifies and persists in Rust only).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use mamori::PolicyFormat;
use mamori::pinning::{self as core, PolicyDocument, PolicySource, UpdateVerifier};
use time::OffsetDateTime;

use crate::pinning::PinningEngine;

/// Where the effective policy comes from.
#[uniffi::remote(Enum)]
pub enum PolicySource {
    /// The policy shipped with the app.
    Base,
    /// An accepted update.
    Update {
        /// Its version.
        version: u64,
    },
}

/// Why an updater could not be built or an update was refused
/// (`PinUpdateException` in Kotlin, `PinUpdateError` in Swift). The effective
/// policy never changes on an error.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[non_exhaustive]
pub enum PinUpdateError {
    /// The base policy is invalid or has no usable `[updates]` table.
    #[error("{reason}")]
    InvalidBase {
        /// Every problem, as one text.
        reason: String,
    },
    /// The update was refused (signature, key, version, validity window, merge
    /// rules) or could not be persisted; the last good policy stays in effect.
    #[error("{reason}")]
    Refused {
        /// Why, in one sentence.
        reason: String,
    },
}

/// The base policy plus the last good signed update, persisted atomically in a
/// state file. Thread-safe: share one per app.
#[derive(uniffi::Object)]
pub struct PinUpdater {
    inner: Mutex<core::PinUpdater>,
}

impl PinUpdater {
    fn lock(&self) -> MutexGuard<'_, core::PinUpdater> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[uniffi::export]
impl PinUpdater {
    /// An updater for `base_policy` (TOML or JSON text with an `[updates]`
    /// table: the verification keys and merge rules) whose state lives in
    /// `state_file` (its directory must exist). A state that no longer
    /// verifies is not fatal: the base policy applies and
    /// [`PinUpdater::restore_error`] says why.
    #[uniffi::constructor]
    pub fn new(base_policy: String, state_file: String) -> Result<Arc<Self>, PinUpdateError> {
        let invalid = |e: &dyn std::fmt::Display| PinUpdateError::InvalidBase {
            reason: e.to_string(),
        };
        let doc = PolicyDocument::parse(&base_policy, PolicyFormat::detect(&base_policy), "base")
            .map_err(|e| invalid(&e))?;
        let verifier = UpdateVerifier::from_base(doc, "base", None).map_err(|e| invalid(&e))?;
        let store = Box::new(core::FileUpdateStore::new(state_file));
        Ok(Arc::new(Self {
            inner: Mutex::new(core::PinUpdater::new(verifier, store)),
        }))
    }

    /// Verifies `update` (the envelope bytes as fetched) at `now`, persists it,
    /// then makes it effective; returns its version. On any error nothing
    /// changes, in memory or on disk.
    pub fn apply(&self, update: Vec<u8>, now: SystemTime) -> Result<u64, PinUpdateError> {
        let mut inner = self.lock();
        inner
            .apply(&update, OffsetDateTime::from(now))
            .map(|acc| acc.version())
            .map_err(|e| PinUpdateError::Refused {
                reason: e.to_string(),
            })
    }

    /// An engine for the effective policy at `now`, for new connections (TLS
    /// sessions already established keep the engine they were made with). An
    /// update's report-only downgrades end at its `not_after` in this engine
    /// too, however long the client holding it lives.
    pub fn engine(&self, now: SystemTime) -> Arc<PinningEngine> {
        let now = OffsetDateTime::from(now);
        let inner = self.lock();
        match inner.current() {
            Some(acc) if now < acc.not_after() && !acc.downgraded().is_empty() => {
                let at = u64::try_from(acc.not_after().unix_timestamp()).unwrap_or(0);
                PinningEngine::lapsing(
                    acc.policy_at(now).clone(),
                    at,
                    acc.policy_at(acc.not_after()).clone(),
                )
            }
            _ => PinningEngine::new(inner.policy(now).clone()),
        }
    }

    /// Where the effective policy comes from.
    pub fn source(&self) -> PolicySource {
        self.lock().source()
    }

    /// When to fetch the next update (sooner as the nearest expiry approaches).
    pub fn next_fetch(&self, now: SystemTime) -> SystemTime {
        self.lock().next_fetch(OffsetDateTime::from(now)).into()
    }

    /// Why the persisted state was not restored at start, if it was not.
    pub fn restore_error(&self) -> Option<String> {
        self.lock().restore_error().map(ToString::to_string)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use ring::signature::{Ed25519KeyPair, KeyPair as _};
    use rustls_pki_types::UnixTime;

    const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

    fn pin(b: u8) -> String {
        format!("sha256/{}", B64.encode([b; 32]))
    }

    /// Two update keys and a base policy pinning api.bank.example that
    /// embeds them, with `rules` added to its `[updates]` table.
    fn base(rules: &str) -> (Vec<Ed25519KeyPair>, String) {
        let rng = ring::rand::SystemRandom::new();
        let keys: Vec<_> = (0..2)
            .map(|_| {
                let p = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
                Ed25519KeyPair::from_pkcs8(p.as_ref()).unwrap()
            })
            .collect();
        let base = format!(
            "[[domain]]\nhost = \"api.bank.example\"\npins = [\"{}\", \"{}\"]\n\n[updates]\n{rules}keys = [{{ id = \"primary\", ed25519 = \"{}\" }}, {{ id = \"backup\", ed25519 = \"{}\" }}]\n",
            pin(1),
            pin(2),
            B64.encode(keys[0].public_key().as_ref()),
            B64.encode(keys[1].public_key().as_ref()),
        );
        (keys, base)
    }

    #[test]
    fn apply_swaps_the_effective_policy_and_survives_a_restart() {
        let (keys, base) = base("");
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("pins.json").display().to_string();
        let up = PinUpdater::new(base.clone(), state.clone()).unwrap();
        assert_eq!(up.source(), PolicySource::Base);
        let payload = serde_json::to_vec(&serde_json::json!({
            "format": "mamori-pin-update/1", "version": 3,
            "issued_at": "2026-01-01T00:00:00Z", "not_after": "2099-01-01T00:00:00Z",
            "key_id": "backup",
            "domain": [{ "host": "api.bank.example", "pins": [pin(2), pin(3)] }],
        }))
        .unwrap();
        let envelope = core::sign_update(&payload, "backup", &keys[1]);
        let now = SystemTime::now();
        assert_eq!(up.apply(envelope.clone(), now).unwrap(), 3);
        assert_eq!(up.source(), PolicySource::Update { version: 3 });
        assert!(up.engine(now).is_pinned("api.bank.example".into()));
        // Replay of the same version: refused, nothing changes.
        assert!(matches!(
            up.apply(envelope, now),
            Err(PinUpdateError::Refused { .. })
        ));
        assert!(matches!(
            up.apply(b"{}".to_vec(), now),
            Err(PinUpdateError::Refused { .. })
        ));
        drop(up);
        let up = PinUpdater::new(base, state).unwrap();
        assert_eq!(up.source(), PolicySource::Update { version: 3 });
        assert_eq!(up.restore_error(), None);
        // A base policy without [updates] is refused.
        let bare = format!(
            "[[domain]]\nhost = \"a.example\"\npins = [\"{}\", \"{}\"]\n",
            pin(1),
            pin(2)
        );
        assert!(matches!(
            PinUpdater::new(bare, dir.path().join("x").display().to_string()),
            Err(PinUpdateError::InvalidBase { .. })
        ));
    }

    /// A kill switch (a report-only downgrade) ends at the update's
    /// `not_after` in an engine built before it, as a long-lived HTTP client
    /// keeps one: before, that engine stayed report-only for good.
    #[test]
    fn a_kill_switch_ends_in_an_engine_built_before_not_after() {
        let (keys, base) = base("max_report_only_hours = 72\n");
        let dir = tempfile::tempdir().unwrap();
        let up = PinUpdater::new(base, dir.path().join("pins.json").display().to_string()).unwrap();
        let payload = serde_json::to_vec(&serde_json::json!({
            "format": "mamori-pin-update/1", "version": 1,
            "issued_at": "2026-12-01T00:00:00Z", "not_after": "2026-12-01T03:00:00Z",
            "key_id": "primary",
            "domain": [{ "host": "api.bank.example", "pins": [pin(1), pin(2)], "report_only": true }],
        }))
        .unwrap();
        let at = |rfc: &str| {
            let t =
                OffsetDateTime::parse(rfc, &time::format_description::well_known::Rfc3339).unwrap();
            (
                SystemTime::from(t),
                UnixTime::since_unix_epoch(std::time::Duration::from_secs(
                    t.unix_timestamp() as u64
                )),
            )
        };
        let (start, start_unix) = at("2026-12-01T01:00:00Z");
        up.apply(core::sign_update(&payload, "primary", &keys[0]), start)
            .unwrap();
        let engine = up.engine(start);
        let report_only = |t: UnixTime| {
            let host = mamori::pinning::Host::parse("api.bank.example").unwrap();
            engine
                .verifier_at(t)
                .policy()
                .rule_for(&host)
                .unwrap()
                .report_only()
        };
        assert!(report_only(start_unix), "the kill switch is on");
        let (_, after) = at("2026-12-01T03:00:00Z");
        assert!(
            !report_only(after),
            "and ends at not_after in the same engine"
        );
        // An engine built after not_after has only the enforced policy.
        let (later, later_unix) = at("2026-12-01T04:00:00Z");
        let fresh = up.engine(later);
        let host = mamori::pinning::Host::parse("api.bank.example").unwrap();
        assert!(
            !fresh
                .verifier_at(later_unix)
                .policy()
                .rule_for(&host)
                .unwrap()
                .report_only()
        );
    }
}
