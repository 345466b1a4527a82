//! OkHttp `CertificatePinner` pins: a plain list (`pattern pin [pin...]` per
//! line, `#` comments) or Kotlin/Java source with `.add("pattern", "sha256/…")`
//! calls, and export back to the list form.
//!
//! OkHttp's refusals are reproduced ("Unexpected pattern", "Invalid pattern",
//! "pins must start with 'sha256/' or 'sha1/'", "Invalid pin hash"). Mamori
//! additionally refuses `sha1/` pins and digests that are not 32 bytes, which
//! OkHttp accepts but which can never match a SHA-256 SPKI hash.
//!
//! The `.add(` scanner is hand-written (string literals only, no
//! interpolation or constants); a Kotlin parser would be the library
//! alternative.

use super::error::ImportError;
use super::model::{AuditConfig, DomainEntry, Location, PinEntry, PinScope, SourceFormat};
use crate::pinning::host::HostPattern;
use crate::pinning::{Pin, PinParseError};

fn refuse(loc: Location, reason: impl Into<String>) -> ImportError {
    ImportError::refused(loc, "OkHttp", reason)
}

/// Whether the text looks like Kotlin/Java source with `.add(` calls.
pub(crate) fn looks_like_code(text: &str) -> bool {
    text.contains(".add(") && (text.contains("CertificatePinner") || text.contains("\"sha256/"))
}

/// Imports a pin list or source code.
pub(crate) fn import_str(text: &str, file: &str) -> Result<AuditConfig, ImportError> {
    let mut entries: Vec<(String, Vec<String>, Location)> = Vec::new();
    if looks_like_code(text) {
        scan_code(text, file, &mut entries)?;
    } else {
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("");
            let line = line.trim();
            if line.is_empty() || line.starts_with("//") {
                continue;
            }
            let mut words = line.split_whitespace();
            let pattern = words.next().expect("non-empty line").to_owned();
            let pins: Vec<String> = words.map(str::to_owned).collect();
            let loc = Location::new(file, Some(i as u32 + 1));
            if pins.is_empty() {
                return Err(ImportError::Syntax {
                    location: loc,
                    what: "OkHttp pin list",
                    reason: format!("{pattern:?} has no pin; each line is `pattern sha256/…`"),
                });
            }
            entries.push((pattern, pins, loc));
        }
    }
    let mut cfg = AuditConfig::new(file, SourceFormat::OkHttp);
    for (pattern, pins, loc) in entries {
        add(&mut cfg, &pattern, &pins, loc)?;
    }
    Ok(cfg)
}

fn add(
    cfg: &mut AuditConfig,
    pattern: &str,
    pins: &[String],
    loc: Location,
) -> Result<(), ImportError> {
    let ok_wildcard = (pattern.starts_with("*.") && !pattern[1..].contains('*'))
        || (pattern.starts_with("**.") && !pattern[2..].contains('*'))
        || !pattern.contains('*');
    if !ok_wildcard {
        return Err(refuse(loc, format!("Unexpected pattern: {pattern}")));
    }
    let parsed = HostPattern::parse(pattern, false)
        .map_err(|e| refuse(loc.clone(), format!("Invalid pattern: {pattern} ({e})")))?;
    let host = parsed.to_string();
    let mut entries = Vec::new();
    for p in pins {
        if !(p.starts_with("sha256/") || p.starts_with("sha1/")) {
            return Err(refuse(
                loc,
                format!("pins must start with 'sha256/' or 'sha1/': {p}"),
            ));
        }
        let pin = Pin::parse(p).map_err(|e| match e {
            PinParseError::Base64 => refuse(loc.clone(), format!("Invalid pin hash: {p}")),
            other => ImportError::refused(loc.clone(), "Mamori", format!("{p}: {other}")),
        })?;
        entries.push(PinEntry {
            pin,
            scope: PinScope::Any,
            location: loc.clone(),
        });
    }
    // OkHttp merges every `add` for the same pattern into one set.
    if let Some(d) = cfg.domains.iter_mut().find(|d| d.host == host) {
        d.pins.extend(entries);
        return Ok(());
    }
    let mut d = DomainEntry::new(&host, SourceFormat::OkHttp, loc);
    d.include_subdomains = host.starts_with("**.");
    d.has_pin_set = true;
    d.pins = entries;
    d.group = cfg.domains.len();
    cfg.domains.push(d);
    Ok(())
}

fn scan_code(
    text: &str,
    file: &str,
    out: &mut Vec<(String, Vec<String>, Location)>,
) -> Result<(), ImportError> {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(off) = text[from..].find(".add(") {
        let start = from + off;
        let line = text[..start].bytes().filter(|b| *b == b'\n').count() as u32 + 1;
        let mut i = start + ".add(".len();
        let mut args: Vec<String> = Vec::new();
        let mut literal_only = true;
        loop {
            while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b',') {
                i += 1;
            }
            if i >= bytes.len() {
                break;
            }
            if bytes[i] == b')' {
                i += 1;
                break;
            }
            if bytes[i] == b'"' {
                let end = text[i + 1..].find('"').map(|e| i + 1 + e);
                let Some(end) = end else {
                    return Err(ImportError::Syntax {
                        location: Location::new(file, Some(line)),
                        what: "Kotlin/Java source",
                        reason: "unterminated string literal in .add(".into(),
                    });
                };
                args.push(text[i + 1..end].to_owned());
                i = end + 1;
            } else {
                // A constant or expression: not something we can read.
                literal_only = false;
                while i < bytes.len() && bytes[i] != b',' && bytes[i] != b')' {
                    i += 1;
                }
            }
        }
        from = i.min(text.len());
        // Only CertificatePinner calls: every argument after the pattern is a
        // pin (`headers.add("Accept", "application/json")` is not).
        let pin_like = |a: &String| {
            a.contains('/')
                && a.split('/')
                    .next()
                    .is_some_and(|alg| alg.starts_with("sha"))
        };
        if !literal_only || args.len() < 2 || !args[1..].iter().all(pin_like) {
            continue;
        }
        let loc = Location::new(file, Some(line));
        out.push((args[0].clone(), args[1..].to_vec(), loc));
    }
    if out.is_empty() {
        return Err(ImportError::UnknownFormat {
            file: file.to_owned(),
            reason: "no CertificatePinner .add(\"host\", \"sha256/…\") call with string literals"
                .into(),
        });
    }
    Ok(())
}

/// Renders the pinned domains as an OkHttp pin list (`pattern pin` lines).
pub(crate) fn export(cfg: &AuditConfig) -> (String, Vec<String>) {
    let mut notes = Vec::new();
    let mut out = String::from("# OkHttp CertificatePinner pins: one `pattern pin` per line\n");
    for d in cfg.domains.iter().filter(|d| !d.pins.is_empty()) {
        let host = if d.include_subdomains && !d.host.starts_with('*') {
            format!("**.{}", d.host)
        } else {
            d.host.clone()
        };
        if d.expiry.is_some() {
            notes.push(format!(
                "{host}: OkHttp has no pin expiry; the expiry is dropped"
            ));
        }
        if !d.enforce {
            notes.push(format!(
                "{host}: OkHttp has no report-only mode; the pins will be enforced"
            ));
        }
        for p in d.distinct_pins() {
            out.push_str(&format!("{host} {p}\n"));
        }
    }
    (out, notes)
}
