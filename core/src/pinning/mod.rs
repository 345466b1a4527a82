//! TLS certificate pinning (guideline DEV-4, with backup pins for BP-5).
//!
//! One policy format and one set of semantics for every platform:
//!
//! - [`policy`]: the document (TOML/JSON), validated once at load.
//! - [`host`]: host names and the `*` / `**` / `include_subdomains` grammar.
//! - [`pin`]: `sha256/` SPKI pins.
//! - [`verify`]: webpki path validation, then pins on the verified path.
//! - [`tls`]: a rustls `ServerCertVerifier` for Rust clients.
//! - [`report`]: TrustKit-shaped failure reports, deduplicated.
//! - [`certs`]: reading and describing certificates.

pub mod certs;
pub mod host;
pub mod pin;
pub mod policy;
pub mod report;
pub mod tls;
pub mod verify;

pub use host::{Host, HostError, HostPattern};
pub use pin::{Pin, PinParseError};
pub use policy::{
    DomainRule, ExpiryMode, PinPolicy, PolicyDocument, PolicyError, Problem, ProblemKind, Profile,
};
pub use report::{AppInfo, PinFailureReport, ReportListener};
pub use tls::{PinningServerVerifier, client_config};
pub use verify::{Decision, Failure, Outcome, PinVerifier, Position};

#[cfg(test)]
mod policy_tests;
