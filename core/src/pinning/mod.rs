//! TLS certificate pinning (guideline DEV-4, with backup pins for BP-5).
//!
//! One policy format and one set of semantics for every platform. The API is
//! what this module re-exports; the submodules are private and only say where
//! each part lives:
//!
//! - `policy`: the document (TOML/JSON, [`PolicyDocument`]), validated once
//!   at load into an immutable [`PinPolicy`].
//! - `host`: host names and the `*` / `**` / `include_subdomains` grammar.
//! - `pin`: `sha256/` SPKI pins.
//! - `verify`: webpki path validation, then pins on the verified path
//!   ([`PinVerifier`], [`PinDecision`]).
//! - `strict`: the strict profile's extra rules on a verified path.
//! - `failure`: why a check failed, typed ([`PinFailure`]).
//! - `tls`: a rustls `ServerCertVerifier` for Rust clients.
//! - `report`: TrustKit-shaped failure reports, deduplicated.
//! - `certs`: reading and describing certificates.
//! - `update`: signed pin-set updates ([`PinUpdater`], `docs/pin-updates.md`).

pub(crate) mod certs;
mod failure;
pub(crate) mod host;
pub(crate) mod pin;
pub(crate) mod policy;
mod report;
mod strict;
pub(crate) mod tls;
pub(crate) mod update;
mod verify;

pub use certs::{CertParseError, CertificateSummary, certificates_from_bytes, to_pem};
pub use failure::{ChainError, NameError, PinFailure, StrictViolation};
pub use host::{Host, HostError, HostPattern};
pub use pin::{Pin, PinParseError};
pub use policy::{
    DomainDocument, DomainRule, ExpiryMode, MAX_REPORT_ONLY_HOURS, PinPolicy, PolicyDocument,
    PolicyError, Problem, ProblemKind, Profile, TrustConfig, TrustDocument, UpdateKeyDocument,
    UpdateSettings, UpdatesDocument,
};
pub use report::{AppInfo, DEDUP_WINDOW_SECS, PinFailureReport, ReportListener, ValidationResult};
pub use tls::{HandshakeBlocked, PinningServerVerifier, client_config};
pub use update::{
    AcceptedUpdate, FileUpdateStore, KeyError, MAX_UPDATE_BYTES, MAX_VERSION, MergeViolation,
    PAYLOAD_FORMAT, PinUpdater, PolicySource, StoreError, StoredUpdate, UpdateEnvelope,
    UpdateError, UpdateKey, UpdateKeys, UpdatePayload, UpdateRules, UpdateStore, UpdateVerifier,
    sign_update,
};
pub use verify::{CertificatePosition, ChainCertificate, PinDecision, PinOutcome, PinVerifier};

#[cfg(test)]
mod policy_tests;
