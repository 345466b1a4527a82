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
mod base64;
mod chain;
mod error;
mod lines;
mod mamori;
mod model;
mod nsc;
mod okhttp;
pub mod output;
pub mod package;
pub mod report;
mod rules;
#[cfg(feature = "source")]
mod source;

use std::path::Path;

pub use base64::{Base64Dialect, Base64Error, DecodedPin, Leniency, decode as decode_base64};
pub use chain::{CertInfo, ChainError, SuppliedChain};
pub use error::ImportError;
pub use model::{
    AfterExpiry, AnchorSource, AtsException, AtsSettings, AuditConfig, DebugOverrides, Declared,
    DeclaredAnchor, DomainEntry, Expiry, ExpiryZone, Ignored, LenientPin, Location, NotBoolean,
    PinEntry, PinScope, Platform, Sha1Pin, SourceFormat, TrustKitAndroid,
};
pub use nsc::NscOptions;
pub use rules::{
    AuditFinding, AuditOptions, Lang, Rule, RuleText, Severity, audit, audit_packages, counts,
    rule, rules, rules_sha256,
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
    #[cfg(feature = "source")]
    if let Some(kind) = source::detect(text) {
        return source::format_of(kind).ok_or_else(|| ImportError::UnknownFormat {
            file: file.to_owned(),
            reason: "a Gradle build file holds no pinning by itself; give it together with the \
                     Kotlin or Java sources that read its BuildConfig fields"
                .into(),
        });
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
    #[cfg(feature = "source")]
    if matches!(format, SourceFormat::OkHttp | SourceFormat::TrustKit) {
        if let Some(input) = source_input(bytes, file, Some(format)) {
            let mut cfgs = source::import_group(&[input])?;
            return Ok(cfgs.remove(0));
        }
    }
    match format {
        SourceFormat::Nsc => nsc::import_str(text()?, file, nsc),
        SourceFormat::TrustKit | SourceFormat::Ats => apple::import_plist(bytes, file, from),
        SourceFormat::OkHttp => okhttp::import_str(text()?, file),
        SourceFormat::Mamori => mamori::import_str(text()?, file, base_dir),
    }
}

/// The file as source code, when it is Kotlin, Java, Swift, Objective-C or
/// Gradle (detected from content; `from` settles the language when the
/// content is not conclusive).
#[cfg(feature = "source")]
fn source_input(bytes: &[u8], file: &str, from: Option<SourceFormat>) -> Option<source::Input> {
    let text = std::str::from_utf8(bytes).ok()?;
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.starts_with('<') || t.starts_with('{') || bytes.starts_with(b"bplist") {
        return None;
    }
    let kind = match (source::detect(text), from) {
        (Some(k), None) => k,
        (Some(k), Some(f)) if source::format_of(k).is_none_or(|kf| kf == f) => k,
        (_, Some(SourceFormat::OkHttp)) if text.contains('(') => {
            source::Kind::Code(if text.contains(';') {
                source::Lang::Java
            } else {
                source::Lang::Kotlin
            })
        }
        (_, Some(SourceFormat::TrustKit)) if text.contains('(') || text.contains('[') => {
            source::Kind::Code(if text.contains("@{") || text.contains("@\"") {
                source::Lang::ObjC
            } else {
                source::Lang::Swift
            })
        }
        _ => return None,
    };
    Some(source::Input {
        file: file.to_owned(),
        text: text.to_owned(),
        kind,
    })
}

/// What [`load_all`] read: the configurations, and the packages some of them
/// came from.
#[derive(Clone, Debug, Default)]
pub struct Loaded {
    /// Every configuration, those found in packages included.
    pub configs: Vec<AuditConfig>,
    /// The packages given (APK, AAB, IPA), for [`audit_packages`] and the
    /// evidence report (their digests and signing certificates).
    pub packages: Vec<package::AppPackage>,
}

/// Reads configuration files and packages given together. A package (APK,
/// AAB, IPA: told by its zip magic) contributes the configurations it ships.
/// Source files (Kotlin, Java, Swift, Objective-C, Gradle) are read as one
/// program, so a constant or a `buildConfigField` in one resolves in another;
/// each file that builds a pinner or initialises TrustKit gives one
/// configuration. Other files are read as [`load`] reads them.
pub fn load_all(
    paths: &[std::path::PathBuf],
    from: Option<SourceFormat>,
    nsc: NscOptions,
) -> Result<Loaded, ImportError> {
    let mut out = Loaded::default();
    #[cfg(feature = "source")]
    let mut group = Vec::new();
    for path in paths {
        if package::is_package(path) {
            let mut p = package::load_package(path)?;
            out.configs.append(&mut p.configs);
            out.packages.push(p);
            continue;
        }
        #[cfg(feature = "source")]
        if from.is_none_or(|f| matches!(f, SourceFormat::OkHttp | SourceFormat::TrustKit)) {
            let file = path.display().to_string();
            let bytes = std::fs::read(path).map_err(|e| ImportError::Io {
                file: file.clone(),
                reason: crate::io_reason(&e),
            })?;
            crate::limits::check_size(bytes.len()).map_err(|limit| ImportError::Limit {
                file: file.clone(),
                limit,
            })?;
            if let Some(input) = source_input(&bytes, &file, from) {
                group.push(input);
                continue;
            }
        }
        out.configs.push(load(path, from, nsc)?);
    }
    #[cfg(feature = "source")]
    if !group.is_empty() {
        out.configs.extend(source::import_group(&group)?);
    }
    Ok(out)
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
        reason: crate::io_reason(&e),
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

/// Hosts whose pins a conversion of `cfg` to OkHttp would widen: OkHttp
/// accepts the union of the pins of every pattern matching a host, where
/// `cfg`'s platform applies only the most specific rule (issue 9, item 10).
/// `mamori convert --to okhttp` refuses such a policy unless told otherwise.
pub fn okhttp_widenings(cfg: &AuditConfig) -> Vec<String> {
    okhttp::export_widenings(&usable_only(cfg).0)
}

/// `cfg` without the names no host can select on its platform
/// ([`DomainEntry::unusable_name`]), and a note per name left out: a
/// conversion must not give `*.example.com` of an NSC file the wildcard
/// meaning OkHttp would, nor pin hosts the source app never pinned.
/// Nested NSC configs keep their parent: the first name left of the
/// parent's block, else the block above it.
/// ATS `NSIncludesSubdomains` covers the domain and names exactly one label
/// below it. OkHttp and a Mamori policy say so with two rules (`host` and
/// `*.host`); NSC and TrustKit only have "every depth", which is wider.
fn ats_one_label(
    cfg: &AuditConfig,
    to: ExportFormat,
) -> (std::borrow::Cow<'_, AuditConfig>, Vec<String>) {
    let ats = |d: &DomainEntry| d.mechanism == SourceFormat::Ats && d.include_subdomains;
    if !cfg.domains.iter().any(ats) {
        return (std::borrow::Cow::Borrowed(cfg), Vec::new());
    }
    let mut notes = Vec::new();
    let split = matches!(
        to,
        ExportFormat::OkHttp | ExportFormat::MamoriToml | ExportFormat::MamoriJson
    );
    let mut out = cfg.clone();
    out.domains.clear();
    for d in &cfg.domains {
        if !ats(d) {
            out.domains.push(d.clone());
            continue;
        }
        if split {
            notes.push(format!(
                "{}: {}: ATS NSIncludesSubdomains covers exactly one more label; written as {} and *.{}",
                d.location, d.host, d.host, d.host
            ));
            let mut exact = d.clone();
            exact.include_subdomains = false;
            let mut one = exact.clone();
            one.host = format!("*.{}", d.host);
            out.domains.push(exact);
            out.domains.push(one);
        } else {
            notes.push(format!(
                "{}: {}: ATS NSIncludesSubdomains covers exactly one more label; the output's subdomain flag covers every depth (wider: deeper names are pinned too)",
                d.location, d.host
            ));
            out.domains.push(d.clone());
        }
    }
    if split {
        // Indices moved: nested parents are NSC's only, never ATS's.
        for d in &mut out.domains {
            d.parent = None;
        }
    }
    (std::borrow::Cow::Owned(out), notes)
}

fn usable_only(cfg: &AuditConfig) -> (std::borrow::Cow<'_, AuditConfig>, Vec<String>) {
    if cfg.domains.iter().all(|d| d.unusable_name().is_none()) {
        return (std::borrow::Cow::Borrowed(cfg), Vec::new());
    }
    let mut notes = Vec::new();
    let mut new_index = vec![None; cfg.domains.len()];
    let mut kept = Vec::new();
    for (i, d) in cfg.domains.iter().enumerate() {
        match d.unusable_name() {
            Some(why) => notes.push(format!(
                "{}: {:?} left out: no host matches it ({why}), so the source pins nothing with it",
                d.location, d.host
            )),
            None => {
                new_index[i] = Some(kept.len());
                kept.push(d.clone());
            }
        }
    }
    let parent_of = |mut p: Option<usize>| {
        while let Some(i) = p {
            let g = cfg.domains[i].group;
            let m = cfg.domains[i].mechanism;
            if let Some(n) = (0..cfg.domains.len())
                .filter(|&j| cfg.domains[j].group == g && cfg.domains[j].mechanism == m)
                .find_map(|j| new_index[j])
            {
                return Some(n);
            }
            p = cfg.domains[i].parent;
        }
        None
    };
    for d in &mut kept {
        d.parent = parent_of(d.parent);
    }
    let mut out = cfg.clone();
    out.domains = kept;
    (std::borrow::Cow::Owned(out), notes)
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
/// changed or could not be carried. Pins that can never match are left out
/// (the importers keep them out of [`DomainEntry::pins`]) and named in a
/// note; pins read with leniency are written canonically, with a note.
pub fn export(cfg: &AuditConfig, to: ExportFormat) -> (String, Vec<String>) {
    let (cfg, mut dropped) = usable_only(cfg);
    let cfg = cfg.as_ref();
    // The written rules may split an entry; the notes below are about the
    // source's entries, once each.
    let (rules, one_label) = ats_one_label(cfg, to);
    dropped.extend(one_label);
    let (text, mut notes) = export_pins(rules.as_ref(), to);
    notes.splice(0..0, dropped);
    let lenient: Vec<String> = cfg
        .domains
        .iter()
        .filter(|d| d.has_pin_set)
        .flat_map(|d| {
            d.lenient_pins.iter().map(move |l| match &l.never_matches {
                Some(why) => format!(
                    "{}: {}: pin {:?} left out: it can never match ({why}; read by {})",
                    l.location, d.host, l.text, l.decoder
                ),
                None => format!(
                    "{}: {}: pin {:?} written in canonical form ({} read it only because {})",
                    l.location,
                    d.host,
                    l.text,
                    l.decoder,
                    l.leniency.join("; ")
                ),
            })
        })
        .collect();
    notes.splice(0..0, lenient);
    if matches!(
        to,
        ExportFormat::OkHttp | ExportFormat::MamoriToml | ExportFormat::MamoriJson
    ) {
        for d in cfg.domains.iter().filter(|d| d.excluded_from_parent) {
            notes.push(format!(
                "{}: {}: excluded from its parent's TrustKit policy (TSKExcludeSubdomainFromParentPolicy), so not pinned by the source; {} cannot exclude a host from a rule covering its subdomains, so the output pins it with the parent's pins (stricter: connections to it fail if its server uses other keys)",
                d.location,
                d.host,
                match to {
                    ExportFormat::OkHttp => "OkHttp",
                    _ => "a Mamori policy",
                }
            ));
        }
    }
    for d in cfg.domains.iter().filter(|d| d.has_pin_set) {
        for p in &d.sha1_pins {
            notes.push(format!(
                "{}: {}: pin {:?} left out: a SHA-1 pin, which OkHttp checks (deprecated) and no other format can express",
                p.location, d.host, p.text
            ));
        }
        if d.pins.is_empty() && !d.sha1_pins.is_empty() {
            notes.push(format!(
                "{}: {}: only SHA-1 pins: the output does not pin this host",
                d.location, d.host
            ));
        }
        if d.pins.iter().any(|p| p.scope == PinScope::Leaf)
            && d.pins.iter().any(|p| p.scope == PinScope::Ca)
        {
            notes.push(format!(
                "{}: {}: ATS requires a match in NSPinnedLeafIdentities AND in NSPinnedCAIdentities; the output accepts a match of any one pin, so the both-must-match requirement is lost (weaker)",
                d.location, d.host
            ));
        }
    }
    (text, notes)
}

fn export_pins(cfg: &AuditConfig, to: ExportFormat) -> (String, Vec<String>) {
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
