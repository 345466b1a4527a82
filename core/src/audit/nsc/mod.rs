//! Android `network_security_config.xml`: import with Android's semantics and
//! refusals (AOSP `XmlConfigSource`), and export.
//!
//! The importer ([`import`]) and the exporter ([`export`]) share only the
//! model and [`NscOptions`]: they are read and reviewed separately, the one
//! against AOSP, the other against what Android accepts back.
//!
//! What Android refuses is refused here with Android's own message: an
//! unsupported pin digest, a digest that is not 32 bytes, a duplicate domain,
//! a second `pin-set`/`trust-anchors`/`base-config`/`debug-overrides`, a
//! `domain` or `pin-set` outside `domain-config`, a `domain-config` without a
//! domain, a bad `expiration` date, `certificates` without a known `src`.
//! What Android silently ignores (unknown elements and attributes, usually
//! typos) is kept in [`AuditConfig::ignored`] so an audit can flag it.
//!
//! `debug-overrides` is read from the file, or, when the file has none, from
//! the `<name>_debug.xml` companion resource next to it, as Android does for
//! debuggable apps. A release build never parses either, so a broken
//! debug-overrides only refuses the file when [`NscOptions::debuggable`] is set.

mod export;
mod import;

pub(crate) use export::export;
pub(crate) use import::{ignored_companion, import_file, import_str, import_with_companion};

/// How to read an NSC file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NscOptions {
    /// Read it as a debuggable app would: `debug-overrides` (and the
    /// `_debug.xml` companion) must then be valid.
    pub debuggable: bool,
}
