//! Pinning-configuration audits (guideline DEV-4, BP-5, DATA-1, LOG-2).
//!
//! Security teams audit pinning before every release and must show partner
//! banks how the app meets the guideline. This module reads every common
//! pinning configuration into one model, [`AuditConfig`] (Android network
//! security config, TrustKit, Apple ATS `NSPinnedDomains`, OkHttp
//! `CertificatePinner`, Mamori policies), converts between them, checks them
//! against [`rules`] that subsume Android Lint, semgrep, MobSF and OWASP
//! MASTG, checks pins against real certificate chains ([`SuppliedChain`]),
//! and renders findings as text, JSON or SARIF ([`output`]) and an evidence document ([`report`]).
//!
//! The importers, the model, the rules and the chain capture are private
//! modules: their API is re-exported here, so each item has one public path.
//! `output` and `report` stay public namespaces because their functions are
//! named by what they render (`output::sarif`, `report::html`).
#![warn(unreachable_pub)]

mod apple;
mod chain;
mod error;
mod mamori;
mod model;
mod nsc;
mod okhttp;
pub mod output;
pub mod package;
pub mod report;
mod rules;

use std::path::Path;

pub use chain::{CertInfo, ChainError, SuppliedChain};
pub use error::ImportError;
pub use model::{
    AfterExpiry, AnchorSource, AtsException, AtsSettings, AuditConfig, DebugOverrides, Declared,
    DeclaredAnchor, DomainEntry, Expiry, ExpiryZone, Ignored, Location, PinEntry, PinScope,
    Platform, SourceFormat,
};
pub use nsc::NscOptions;
pub use rules::{
    AuditFinding, AuditOptions, Lang, Rule, RuleText, Severity, audit, audit_packages, counts,
    rule, rules,
};

/// Guesses the format of a configuration from its content.
pub fn detect(bytes: &[u8], file: &str) -> Result<SourceFormat, ImportError> {
    if bytes.starts_with(b"bplist") {
        return Ok(SourceFormat::TrustKit); // refined by the plist importer
    }
    let text = std::str::from_utf8(bytes).map_err(|_| ImportError::UnknownFormat {
        file: file.to_owned(),
        reason: "binary content that is not a binary property list".into(),
    })?;
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.starts_with('<') {
        if text.contains("<network-security-config") {
            return Ok(SourceFormat::Nsc);
        }
        if text.contains("<plist") || text.contains("<dict") {
            return Ok(if text.contains("TSKPinnedDomains") {
                SourceFormat::TrustKit
            } else {
                SourceFormat::Ats
            });
        }
        // A root that is not network-security-config: let the NSC importer
        // give Android's message.
        if text.contains("<debug-overrides") || text.contains("<domain-config") {
            return Ok(SourceFormat::Nsc);
        }
        return Err(ImportError::UnknownFormat {
            file: file.to_owned(),
            reason: "XML that is neither a network security config nor a property list".into(),
        });
    }
    if t.starts_with('{') {
        if ["TSKPinnedDomains", "TSKConfiguration"]
            .iter()
            .any(|k| text.contains(k))
        {
            return Ok(SourceFormat::TrustKit);
        }
        if ["NSAppTransportSecurity", "NSPinnedDomains"]
            .iter()
            .any(|k| text.contains(k))
        {
            return Ok(SourceFormat::Ats);
        }
        return Ok(SourceFormat::Mamori);
    }
    if okhttp::looks_like_code(text) {
        return Ok(SourceFormat::OkHttp);
    }
    if text.contains("[[domain]]") || text.lines().any(|l| l.trim_start().starts_with("host =")) {
        return Ok(SourceFormat::Mamori);
    }
    let pin_lines = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>();
    if !pin_lines.is_empty()
        && pin_lines
            .iter()
            .all(|l| l.split_whitespace().skip(1).all(|w| w.contains('/')))
    {
        return Ok(SourceFormat::OkHttp);
    }
    Err(ImportError::UnknownFormat {
        file: file.to_owned(),
        reason: "no known keys or elements".into(),
    })
}

/// Reads a configuration. `from` overrides format detection.
pub fn import_bytes(
    bytes: &[u8],
    file: &str,
    from: Option<SourceFormat>,
    nsc: NscOptions,
    base_dir: Option<&Path>,
) -> Result<AuditConfig, ImportError> {
    crate::limits::check_size(bytes.len()).map_err(|limit| ImportError::Limit {
        file: file.to_owned(),
        limit,
    })?;
    let format = match from {
        Some(f) => f,
        None => detect(bytes, file)?,
    };
    let text = || {
        std::str::from_utf8(bytes).map_err(|_| ImportError::Syntax {
            location: Location::new(file, None),
            what: "UTF-8 text",
            reason: "the file is not UTF-8".into(),
        })
    };
    match format {
        SourceFormat::Nsc => nsc::import_str(text()?, file, nsc),
        SourceFormat::TrustKit | SourceFormat::Ats => apple::import_plist(bytes, file, from),
        SourceFormat::OkHttp => okhttp::import_str(text()?, file),
        SourceFormat::Mamori => mamori::import_str(text()?, file, base_dir),
    }
}

/// Reads a configuration file. NSC files also pick up their `_debug.xml`
/// companion; Mamori anchor files resolve relative to the file.
pub fn load(
    path: &Path,
    from: Option<SourceFormat>,
    nsc: NscOptions,
) -> Result<AuditConfig, ImportError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| ImportError::Io {
        file: file.clone(),
        reason: e.to_string(),
    })?;
    let format = match from {
        Some(f) => f,
        None => detect(&bytes, &file)?,
    };
    if format == SourceFormat::Nsc {
        return nsc::import_file(path, nsc);
    }
    import_bytes(
        &bytes,
        &file,
        Some(format).filter(|_| from.is_some()).or(match format {
            SourceFormat::TrustKit | SourceFormat::Ats => None,
            f => Some(f),
        }),
        nsc,
        path.parent(),
    )
}

/// Output formats of `convert`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// Mamori policy, TOML.
    MamoriToml,
    /// Mamori policy, JSON.
    MamoriJson,
    /// Android network security config XML.
    Nsc,
    /// OkHttp pin list.
    OkHttp,
    /// TrustKit Info.plist fragment.
    TrustKit,
}

/// Converts a configuration; returns the text and notes about meaning that
/// changed or could not be carried.
pub fn export(cfg: &AuditConfig, to: ExportFormat) -> (String, Vec<String>) {
    match to {
        ExportFormat::MamoriToml => {
            let (doc, notes) = mamori::export(cfg);
            (doc.to_toml(), notes)
        }
        ExportFormat::MamoriJson => {
            let (doc, notes) = mamori::export(cfg);
            let mut s = doc.to_json();
            s.push('\n');
            (s, notes)
        }
        ExportFormat::Nsc => nsc::export(cfg),
        ExportFormat::OkHttp => okhttp::export(cfg),
        ExportFormat::TrustKit => apple::export_trustkit(cfg),
    }
}
