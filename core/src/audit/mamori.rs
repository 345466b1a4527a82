//! Mamori pin policies in the audit model, and the model as a Mamori policy.
//!
//! Import goes through [`PolicyDocument::validate`], so a policy the SDK would
//! refuse is refused here with the SDK's reasons. Export builds a
//! [`PolicyDocument`] and validates it too: anything Mamori would refuse (a
//! single pin, for instance) is returned as a note.

use std::collections::HashMap;
use std::path::Path;

use super::error::ImportError;
use super::model::{
    AfterExpiry, AnchorSource, AuditConfig, DeclaredAnchor, DomainEntry, Expiry, ExpiryZone,
    Location, PinEntry, PinScope, SourceFormat,
};
use crate::PolicyFormat;
use crate::pinning::policy::{DomainDocument, ExpiryMode, TrustDocument};
use crate::pinning::{Pin, PolicyDocument};

/// Imports a Mamori policy (TOML or JSON, detected from the content).
pub(crate) fn import_str(
    text: &str,
    file: &str,
    base_dir: Option<&Path>,
) -> Result<AuditConfig, ImportError> {
    let doc = PolicyDocument::parse(text, PolicyFormat::detect(text), file).map_err(|e| {
        ImportError::Syntax {
            location: Location::new(file, None),
            what: "Mamori policy",
            reason: e
                .problems
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        }
    })?;
    let policy = doc.validate(file, base_dir).map_err(|e| {
        ImportError::refused(
            Location::new(file, None),
            "Mamori",
            e.problems
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    let mut cfg = AuditConfig::new(file, SourceFormat::Mamori);
    let mut anchors = Vec::new();
    if policy.trust().mozilla_roots() {
        anchors.push(DeclaredAnchor {
            source: AnchorSource::System,
            override_pins: None,
            location: Location::new(file, None),
        });
    }
    let strings = QuotedStrings::new(text);
    if let Some(t) = &doc.trust {
        for f in &t.anchor_files {
            anchors.push(DeclaredAnchor {
                source: AnchorSource::Bundled(f.clone()),
                override_pins: None,
                location: Location::new(file, strings.line_of(f)),
            });
            cfg.anchor_files.push(f.clone());
        }
        if t.anchors_pem.is_some() {
            anchors.push(DeclaredAnchor {
                source: AnchorSource::Bundled("anchors_pem".into()),
                override_pins: None,
                location: Location::new(file, line_of(text, "anchors_pem")),
            });
        }
    }
    cfg.base.trust_anchors = Some(anchors);
    for (i, (rule, d)) in policy.domains().iter().zip(&doc.domains).enumerate() {
        let loc = Location::new(file, strings.line_of(&d.host));
        let host = d.host.trim().to_lowercase();
        let mut e = DomainEntry::new(&host, SourceFormat::Mamori, loc.clone());
        e.group = i;
        e.include_subdomains = d.include_subdomains || host.starts_with("**.");
        e.has_pin_set = true;
        e.pins = rule
            .pins()
            .iter()
            .map(|p| PinEntry {
                pin: *p,
                scope: PinScope::Any,
                location: loc.clone(),
            })
            .collect();
        e.enforce = !rule.report_only();
        e.report_uris = rule.report_uris().to_vec();
        if let (Some(at), Some(text)) = (rule.expires(), rule.expires_text()) {
            e.expiry = Some(Expiry {
                text: text.to_owned(),
                at,
                zone: if text.trim().len() > 10 {
                    ExpiryZone::Explicit
                } else {
                    ExpiryZone::Utc
                },
                after: match rule.on_expiry() {
                    ExpiryMode::FailOpen => AfterExpiry::FailOpenReported,
                    ExpiryMode::Enforce => AfterExpiry::Enforce,
                },
            });
        }
        cfg.domains.push(e);
    }
    Ok(cfg)
}

/// The 1-based line of the first occurrence of `needle`.
pub(crate) fn line_of(text: &str, needle: &str) -> Option<u32> {
    text.find(needle)
        .map(|pos| text[..pos].bytes().filter(|b| *b == b'\n').count() as u32 + 1)
}

/// The line of each quoted string of a TOML or JSON text (`"…"` or `'…'`,
/// first occurrence), from one scan. Finding each domain's host by
/// searching the text from its start was quadratic in the domains (issue 9,
/// item 7). Neither format lets a one-line string span lines, so the scan
/// is per line, and a `#` outside a string starts a TOML comment; the text
/// between quotes is kept as written (escapes are not decoded: a host
/// spelled with escapes has no line, as before).
struct QuotedStrings<'a>(HashMap<&'a str, u32>);

impl<'a> QuotedStrings<'a> {
    fn new(text: &'a str) -> Self {
        let mut first = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            let b = line.as_bytes();
            let mut i = 0;
            while i < b.len() {
                match b[i] {
                    b'#' => break,
                    q @ (b'"' | b'\'') => {
                        let start = i + 1;
                        let mut j = start;
                        while j < b.len() && b[j] != q {
                            j += if q == b'"' && b[j] == b'\\' { 2 } else { 1 };
                        }
                        let end = j.min(b.len());
                        // Quotes are ASCII: both ends are char boundaries.
                        first.entry(&line[start..end]).or_insert(n as u32 + 1);
                        i = end + 1;
                    }
                    _ => i += 1,
                }
            }
        }
        Self(first)
    }

    fn line_of(&self, s: &str) -> Option<u32> {
        self.0.get(s).copied()
    }
}

/// Builds a Mamori policy document from a configuration. Returns the document
/// and notes on everything that changed meaning or could not be carried.
pub(crate) fn export(cfg: &AuditConfig) -> (PolicyDocument, Vec<String>) {
    let mut notes = Vec::new();
    let mut doc = PolicyDocument {
        version: Some(1),
        ..PolicyDocument::default()
    };
    let mut files = Vec::new();
    let mut user = false;
    let mut system = cfg.base.trust_anchors.is_none();
    for a in cfg.base.trust_anchors.iter().flatten() {
        match &a.source {
            AnchorSource::System => system = true,
            AnchorSource::User => user = true,
            AnchorSource::Bundled(n) => files.push(n.clone()),
            AnchorSource::Wfa => notes.push(
                "the Wi-Fi Alliance CA store (src=\"wfa\") is trusted by the source; a Mamori policy has no such store".into(),
            ),
        }
    }
    if user
        || cfg.domains.iter().any(|d| {
            d.declared
                .trust_anchors
                .iter()
                .flatten()
                .any(|a| a.source == AnchorSource::User)
        })
    {
        notes.push("user-installed CAs are trusted by the source; Mamori never trusts them".into());
    }
    if cfg.format == SourceFormat::Mamori {
        doc.trust = Some(TrustDocument {
            mozilla_roots: Some(system),
            anchor_files: cfg.anchor_files.clone(),
            anchors_pem: None,
        });
    } else if !files.is_empty() {
        notes.push(format!(
            "bundled trust anchors {} are not exported; list their PEM files in trust.anchor_files",
            files.join(", ")
        ));
    }
    for d in &cfg.domains {
        if d.pins.is_empty() {
            if d.mechanism == SourceFormat::Nsc {
                notes.push(format!(
                    "{}: no pins (domain-config without pin-set); not exported",
                    d.host
                ));
            }
            continue;
        }
        let distinct = d.distinct_pins();
        if distinct.len() != d.pins.len() {
            notes.push(format!("{}: duplicate pins dropped", d.host));
        }
        if d.pins.iter().any(|p| p.scope == PinScope::Leaf) {
            notes.push(format!("{}: ATS leaf-only scope is lost; Mamori pins match any certificate of the verified path", d.host));
        }
        let expires = d.expiry.as_ref().map(|e| match e.zone {
            ExpiryZone::DeviceLocal => {
                notes.push(format!(
                    "{}: expiry {} was device-local midnight (NSC); Mamori reads it as 00:00 UTC",
                    d.host, e.text
                ));
                e.at.date().to_string()
            }
            ExpiryZone::Utc => e.at.date().to_string(),
            ExpiryZone::Explicit => e.text.clone(),
        });
        if d.expiry
            .as_ref()
            .is_some_and(|e| e.after == AfterExpiry::FailOpenSilent)
        {
            notes.push(format!("{}: after expiry the source stops checking silently; Mamori keeps reporting mismatches (fail-open, reported)", d.host));
        }
        doc.domains.push(DomainDocument {
            host: d.host.clone(),
            include_subdomains: d.include_subdomains && !d.host.starts_with('*'),
            pins: distinct.iter().map(Pin::to_string).collect(),
            expires,
            on_expiry: d
                .expiry
                .as_ref()
                .and_then(|e| (e.after == AfterExpiry::Enforce).then_some(ExpiryMode::Enforce)),
            report_only: !d.enforce,
            report_uris: d.report_uris.clone(),
        });
    }
    if let Err(e) = doc.validate(&cfg.file, None) {
        for p in e.problems {
            notes.push(format!("Mamori would refuse the result: {p}"));
        }
    }
    (doc, notes)
}
