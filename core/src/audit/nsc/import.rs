//! Reading NSC XML with Android's semantics. Refusals carry Android's own
//! message; silently ignored elements are kept for the audit.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use roxmltree::{Document, Node};
use time::{Date, Month};

use super::NscOptions;
use crate::audit::base64::Base64Dialect;
use crate::audit::error::ImportError;
use crate::audit::lines::LineIndex;
use crate::audit::model::{
    AfterExpiry, AnchorSource, AuditConfig, DebugOverrides, Declared, DeclaredAnchor, DomainEntry,
    Expiry, ExpiryZone, Ignored, LenientPin, Location, PinEntry, PinScope, SourceFormat,
    TrustKitAndroid,
};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Base,
    Domain,
    Debug,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Base => "base-config",
            Kind::Domain => "domain-config",
            Kind::Debug => "debug-overrides",
        }
    }
}

/// TrustKit-Android's `<trustkit-config>` as its `DomainPinningPolicy.Builder`
/// holds it: `None` fields are inherited from the enclosing `domain-config`.
#[derive(Clone, Default)]
struct TrustKitRaw {
    /// `enforcePinning`: a `trustkit-config` without the attribute sets
    /// false (TrustKit's `TrustkitConfigTag` starts at `false`, not null).
    enforce: Option<(bool, bool, Location)>,
    /// `report-uri` texts: set (possibly empty) by any `trustkit-config`.
    report_uris: Option<Vec<String>>,
    /// `disableDefaultReportUri`: null unless written.
    disable_default: Option<bool>,
}

/// One pin-set: pins that can match, the raw texts (TrustKit-Android counts
/// distinct strings), the expiry, and pins read with leniency.
struct PinSet {
    pins: Vec<PinEntry>,
    texts: Vec<String>,
    expiry: Option<Expiry>,
    lenient: Vec<LenientPin>,
}

struct Parser {
    /// The file name every location shares.
    file: Arc<str>,
    cfg: AuditConfig,
    seen_domains: HashSet<String>,
    next_group: usize,
    /// Whether the file carries TrustKit-Android's elements (then TrustKit
    /// reads every `domain-config` too).
    trustkit: bool,
    /// Per group: the effective pin texts, as TrustKit-Android sees them
    /// (`None`: no pin-set, own or inherited).
    group_pin_texts: Vec<Option<Vec<String>>>,
    /// Per group: the index of its last domain entry and that `<domain>`'s
    /// text as written (TrustKit-Android keeps only the last one).
    group_last_domain: Vec<(usize, String)>,
    /// The first `<pin>` whose `digest` is not exactly `SHA-256`: Android
    /// compares it case-insensitively, TrustKit-Android's
    /// `TrustKitConfigurationParser.readPinSet` with `equals`.
    tk_bad_digest: Option<(Location, String)>,
    /// Where lines start (roxmltree's `text_pos_at` rescans the text on
    /// every call, which is quadratic on large files).
    lines: LineIndex,
}

fn refuse(loc: Location, reason: impl Into<String>) -> ImportError {
    ImportError::refused(loc, "Android", reason)
}

fn parse_xml<'a>(text: &'a str, file: &str) -> Result<Document<'a>, ImportError> {
    // The importer walks elements recursively: bound the depth first.
    crate::limits::check_xml(text.as_bytes()).map_err(|limit| ImportError::Limit {
        file: file.to_owned(),
        limit,
    })?;
    let opts = roxmltree::ParsingOptions {
        nodes_limit: crate::limits::MAX_XML_NODES,
        ..roxmltree::ParsingOptions::default()
    };
    Document::parse_with_options(text, opts).map_err(|e| {
        if matches!(e, roxmltree::Error::NodesLimitReached) {
            return ImportError::Limit {
                file: file.to_owned(),
                limit: crate::limits::LimitError::TooMany {
                    what: "XML nodes",
                    name: "MAX_XML_NODES",
                    limit: crate::limits::MAX_XML_NODES as usize,
                },
            };
        }
        let pos = e.pos();
        let reason = match e {
            // roxmltree refuses DTDs (entity expansion); Info.plist files have one.
            roxmltree::Error::DtdDetected => {
                "it has a DOCTYPE declaration, which network security configs never have".into()
            }
            e => e.to_string(),
        };
        ImportError::Syntax {
            location: Location::new(file, Some(pos.row)),
            what: "XML",
            reason,
        }
    })
}

/// Reads NSC XML text. `file` names it in locations and errors. The
/// `_debug.xml` companion is not consulted (see [`import_file`]).
pub(crate) fn import_str(
    text: &str,
    file: &str,
    opts: NscOptions,
) -> Result<AuditConfig, ImportError> {
    import_with_companion(text, file, None, opts)
}

/// Reads an NSC file and, when it declares no `debug-overrides`, its
/// `<name>_debug.xml` companion.
pub(crate) fn import_file(path: &Path, opts: NscOptions) -> Result<AuditConfig, ImportError> {
    let file = path.display().to_string();
    let text = read(path)?;
    let companion = companion_path(path).filter(|p| p.is_file());
    let comp = match &companion {
        Some(p) => Some((p.display().to_string(), read(p)?)),
        None => None,
    };
    import_with_companion(
        &text,
        &file,
        comp.as_ref().map(|(f, t)| (f.as_str(), t.as_str())),
        opts,
    )
}

fn read(path: &Path) -> Result<String, ImportError> {
    std::fs::read_to_string(path).map_err(|e| ImportError::Io {
        file: path.display().to_string(),
        reason: crate::io_reason(&e),
    })
}

/// `res/xml/foo.xml` → `res/xml/foo_debug.xml` (not for a file that is
/// itself a companion).
fn companion_path(path: &Path) -> Option<std::path::PathBuf> {
    let stem = path.file_stem()?.to_str()?;
    if stem.ends_with("_debug") {
        return None;
    }
    Some(path.with_file_name(format!("{stem}_debug.xml")))
}

/// Reads NSC XML text with its `_debug.xml` companion's text, if any
/// (`(file, text)`): what a package audit hands in.
pub(crate) fn import_with_companion(
    text: &str,
    file: &str,
    companion: Option<(&str, &str)>,
    opts: NscOptions,
) -> Result<AuditConfig, ImportError> {
    let doc = parse_xml(text, file)?;
    let (mut p, root) = Parser::open(&doc, file)?;
    p.check_attrs(root, &[]);
    let mut seen_base = false;
    let mut seen_debug = false;
    for child in root.children().filter(Node::is_element) {
        match child.tag_name().name() {
            "base-config" => {
                if seen_base {
                    return Err(refuse(p.loc(child), "Only one base-config allowed"));
                }
                seen_base = true;
                p.cfg.base_location = Some(p.loc(child));
                p.cfg.base = p.entry(child, Kind::Base, None, &TrustKitRaw::default())?;
            }
            "domain-config" => {
                p.entry(child, Kind::Domain, None, &TrustKitRaw::default())?;
            }
            "debug-overrides" => {
                if seen_debug {
                    return Err(refuse(p.loc(child), "Only one debug-overrides allowed"));
                }
                seen_debug = true;
                p.debug_overrides(child, false, opts)?;
            }
            other => p.ignore(other, child),
        }
    }
    p.trustkit_android()?;
    if let (false, Some((cfile, ctext))) = (seen_debug, companion) {
        match companion_overrides(ctext, cfile) {
            Ok(Some(d)) => p.cfg.debug_overrides = Some(d),
            Ok(None) => {}
            Err(e) if opts.debuggable => return Err(e),
            Err(e) => p.cfg.ignored.push(ignored_companion(cfile, &e)),
        }
    }
    Ok(p.cfg)
}

/// Parses a `_debug.xml` companion: a `network-security-config` whose only
/// meaningful child is one `debug-overrides`.
/// A `<name>_debug` companion that does not parse, in a release build:
/// Android never reads it there, so it is listed as ignored, not refused.
pub(crate) fn ignored_companion(cfile: &str, why: &dyn std::fmt::Display) -> Ignored {
    Ignored {
        name: format!("{cfile} (read only by debuggable builds: {why})"),
        location: Location::new(cfile, None),
    }
}

fn companion_overrides(text: &str, file: &str) -> Result<Option<DebugOverrides>, ImportError> {
    let doc = parse_xml(text, file)?;
    let (mut p, root) = Parser::open(&doc, file)?;
    let mut seen = false;
    for child in root.children().filter(Node::is_element) {
        if child.tag_name().name() == "debug-overrides" {
            if seen {
                return Err(refuse(p.loc(child), "Only one debug-overrides allowed"));
            }
            seen = true;
            p.debug_overrides(child, true, NscOptions { debuggable: true })?;
        }
    }
    Ok(p.cfg.debug_overrides)
}

impl Parser {
    /// A parser for `doc`, and its root, which must be
    /// `network-security-config` (Android's first check).
    fn open<'d, 'i>(
        doc: &'d Document<'i>,
        file: &str,
    ) -> Result<(Self, Node<'d, 'i>), ImportError> {
        let p = Parser {
            file: Arc::from(file),
            cfg: AuditConfig::new(file, SourceFormat::Nsc),
            seen_domains: HashSet::new(),
            next_group: 0,
            trustkit: false,
            group_pin_texts: Vec::new(),
            group_last_domain: Vec::new(),
            tk_bad_digest: None,
            lines: LineIndex::new(doc.input_text()),
        };
        let root = doc.root_element();
        if root.tag_name().name() != "network-security-config" {
            return Err(refuse(
                p.loc(root),
                format!(
                    "unexpected start tag: found {}, expected network-security-config",
                    root.tag_name().name()
                ),
            ));
        }
        Ok((p, root))
    }

    fn loc(&self, n: Node) -> Location {
        Location::in_file(&self.file, Some(self.lines.line_of(n.range().start)))
    }

    fn ignore(&mut self, name: &str, n: Node) {
        let location = self.loc(n);
        self.cfg.ignored.push(Ignored {
            name: format!("<{name}>"),
            location,
        });
    }

    fn check_attrs(&mut self, n: Node, known: &[&str]) {
        for a in n.attributes() {
            if a.namespace().is_some() {
                continue; // tools:ignore and friends
            }
            if !known.contains(&a.name()) {
                let location = self.loc(n);
                self.cfg.ignored.push(Ignored {
                    name: format!("{}@{}", n.tag_name().name(), a.name()),
                    location,
                });
            }
        }
    }

    /// A boolean attribute as Android reads it: aapt2 compiles the text
    /// ([`aapt_any`]) and `getAttributeBooleanValue(…, default)` reads an
    /// integer-typed value as `data != 0`, anything else as `default`.
    /// `None` when the attribute is absent, or when it is not a boolean and
    /// `default` is `None` (the context decides, as for an absent one).
    /// A value that is not one of aapt2's booleans is kept in
    /// [`AuditConfig::not_boolean`].
    fn bool_attr(&mut self, n: Node, name: &str, default: Option<bool>) -> Option<bool> {
        let text = n.attribute(name)?;
        let (read_as, how) = match aapt_any(text) {
            Aapt::Bool(b) => return Some(b),
            Aapt::Int(data) => (
                Some(data != 0),
                format!(
                    "aapt2 compiles it to the integer {data:#x}, which Android reads as {}",
                    data != 0
                ),
            ),
            Aapt::Other(what) => (
                default,
                match default {
                    Some(d) => format!(
                        "aapt2 compiles it to {what}, so Android applies the attribute's default, {d}"
                    ),
                    None => format!(
                        "aapt2 compiles it to {what}, so Android applies the default, as if it were not written"
                    ),
                },
            ),
        };
        let location = self.loc(n);
        self.cfg.not_boolean.push(crate::audit::model::NotBoolean {
            attribute: format!("{}@{name}", n.tag_name().name()),
            text: text.to_owned(),
            read_as,
            how,
            location,
        });
        read_as
    }

    fn debug_overrides(
        &mut self,
        n: Node,
        from_companion: bool,
        opts: NscOptions,
    ) -> Result<(), ImportError> {
        let location = self.loc(n);
        let saved = self.cfg.ignored.len();
        match self.entry(n, Kind::Debug, None, &TrustKitRaw::default()) {
            Ok(declared) => {
                self.cfg.debug_overrides = Some(DebugOverrides {
                    declared,
                    location,
                    from_companion,
                });
                Ok(())
            }
            Err(e) if opts.debuggable => Err(e),
            Err(e) => {
                self.cfg.ignored.truncate(saved);
                self.cfg.ignored.push(Ignored {
                    name: format!("<debug-overrides> (read only by debuggable builds: {e})"),
                    location,
                });
                Ok(())
            }
        }
    }

    /// Parses a base-config, domain-config or debug-overrides element. For a
    /// domain-config, pushes its domains (and nested configs) into the config.
    fn entry(
        &mut self,
        n: Node,
        kind: Kind,
        parent: Option<usize>,
        parent_tk: &TrustKitRaw,
    ) -> Result<Declared, ImportError> {
        let mut declared = Declared::default();
        match kind {
            Kind::Debug => self.check_attrs(n, &[]),
            _ => self.check_attrs(n, &["cleartextTrafficPermitted", "hstsEnforced"]),
        }
        if kind != Kind::Debug {
            // AOSP `parseConfigEntry`: the defaults are
            // `DEFAULT_CLEARTEXT_TRAFFIC_PERMITTED` (true) and
            // `DEFAULT_HSTS_ENFORCED` (false); a written attribute is set.
            declared.cleartext_permitted =
                self.bool_attr(n, "cleartextTrafficPermitted", Some(true));
            declared.hsts_enforced = self.bool_attr(n, "hstsEnforced", Some(false));
        }
        let mut names: Vec<(String, bool, Location)> = Vec::new();
        let mut last_raw = String::new();
        let mut pins: Option<PinSet> = None;
        let mut nested: Vec<Node> = Vec::new();
        let mut tk = parent_tk.clone();
        for c in n.children().filter(Node::is_element) {
            let name = c.tag_name().name();
            match name {
                "domain" => {
                    if kind != Kind::Domain {
                        return Err(refuse(
                            self.loc(c),
                            format!("domain element not allowed in {}", kind.name()),
                        ));
                    }
                    names.push(self.domain(c)?);
                    last_raw = element_text(c);
                }
                "trust-anchors" => {
                    if declared.trust_anchors.is_some() {
                        return Err(refuse(
                            self.loc(c),
                            "Multiple trust-anchor elements not allowed",
                        ));
                    }
                    declared.trust_anchors = Some(self.anchors(c)?);
                }
                "pin-set" => {
                    if kind != Kind::Domain {
                        return Err(refuse(
                            self.loc(c),
                            format!("pin-set element not allowed in {}", kind.name()),
                        ));
                    }
                    if pins.is_some() {
                        return Err(refuse(self.loc(c), "Multiple pin-set elements not allowed"));
                    }
                    pins = Some(self.pin_set(c)?);
                }
                "domain-config" => {
                    if kind != Kind::Domain {
                        return Err(refuse(
                            self.loc(c),
                            format!("Nested domain-config not allowed in {}", kind.name()),
                        ));
                    }
                    nested.push(c);
                }
                "certificateTransparency" => {
                    if kind == Kind::Debug {
                        return Err(refuse(
                            self.loc(c),
                            "certificateTransparency not allowed in debug-overrides",
                        ));
                    }
                    self.check_attrs(c, &["enabled"]);
                    // `getAttributeBooleanValue(null, "enabled", false)`:
                    // the element without the attribute switches CT off.
                    declared.certificate_transparency =
                        Some(self.bool_attr(c, "enabled", Some(false)).unwrap_or(false));
                }
                "trustkit-config" if kind == Kind::Domain => {
                    // Android skips this element; TrustKit-Android reads it
                    // with `Boolean.parseBoolean` (anything but "true" is
                    // false) and never refuses a value.
                    self.check_attrs(c, &["enforcePinning", "disableDefaultReportUri"]);
                    self.trustkit = true;
                    // On the compiled value: `getAttributeValue` gives a
                    // boolean aapt2 typed (` True `) as "true", an
                    // integer as its digits (false), a string as written.
                    let parse = |v: &str| match aapt_any(v) {
                        Aapt::Bool(b) => b,
                        _ => v.eq_ignore_ascii_case("true"),
                    };
                    let loc = self.loc(c);
                    tk.enforce = Some(match c.attribute("enforcePinning") {
                        Some(v) => (parse(v), true, loc),
                        None => (false, false, loc),
                    });
                    if let Some(v) = c.attribute("disableDefaultReportUri") {
                        tk.disable_default = Some(parse(v));
                    }
                    tk.report_uris = Some(
                        c.descendants()
                            .filter(|u| u.has_tag_name("report-uri"))
                            .map(|u| u.text().unwrap_or("").trim().to_owned())
                            .collect(),
                    );
                }
                other => self.ignore(other, c),
            }
        }
        if kind != Kind::Domain {
            return Ok(declared);
        }
        if names.is_empty() {
            return Err(refuse(self.loc(n), "No domain elements in domain-config"));
        }
        let group = self.next_group;
        self.next_group += 1;
        let first = self.cfg.domains.len();
        let inherited_texts = parent.and_then(|p| {
            let g = self.cfg.domains[p].group;
            self.group_pin_texts[g].clone()
        });
        self.group_pin_texts.push(
            pins.as_mut()
                .map(|p| std::mem::take(&mut p.texts))
                .or(inherited_texts),
        );
        let count = names.len();
        self.group_last_domain.push((first + count - 1, last_raw));
        for (k, (host, include_subdomains, location)) in names.into_iter().enumerate() {
            let mut d = DomainEntry::new(&host, SourceFormat::Nsc, location);
            d.include_subdomains = include_subdomains;
            d.declared = declared.clone();
            d.parent = parent;
            d.group = group;
            // The last name takes the pin-set; the others copy it.
            let own = if k + 1 == count {
                pins.take()
            } else {
                pins.as_ref().map(|p| PinSet {
                    pins: p.pins.clone(),
                    texts: Vec::new(),
                    expiry: p.expiry.clone(),
                    lenient: p.lenient.clone(),
                })
            };
            if let Some(p) = own {
                d.has_pin_set = true;
                d.pins = p.pins;
                d.expiry = p.expiry;
                d.lenient_pins = p.lenient;
            }
            if let Some((enforce, declared_attr, loc)) = &tk.enforce {
                d.trustkit_android = Some(TrustKitAndroid {
                    enforce_pinning: *enforce,
                    enforce_declared: *declared_attr,
                    location: loc.clone(),
                });
            }
            d.report_uris = tk.report_uris.clone().unwrap_or_default();
            // Settled by `trustkit_android` once the whole file is read.
            d.default_report_uri = tk.disable_default != Some(true);
            self.cfg.domains.push(d);
        }
        for c in nested {
            self.entry(c, Kind::Domain, Some(first), &tk)?;
        }
        Ok(declared)
    }

    fn domain(&mut self, n: Node) -> Result<(String, bool, Location), ImportError> {
        self.check_attrs(n, &["includeSubdomains"]);
        let loc = self.loc(n);
        if n.children().any(|c| c.is_element()) {
            return Err(refuse(loc, "domain contains additional elements"));
        }
        let name = element_text(n).trim().to_lowercase();
        if name.is_empty() {
            return Err(refuse(loc, "Domain name missing"));
        }
        if !self.seen_domains.insert(name.clone()) {
            return Err(refuse(loc, format!("Duplicate domain name {name}")));
        }
        let include = self
            .bool_attr(n, "includeSubdomains", Some(false))
            .unwrap_or(false);
        Ok((name, include, loc))
    }

    fn anchors(&mut self, n: Node) -> Result<Vec<DeclaredAnchor>, ImportError> {
        self.check_attrs(n, &[]);
        let mut out = Vec::new();
        for c in n.children().filter(Node::is_element) {
            if c.tag_name().name() != "certificates" {
                self.ignore(c.tag_name().name(), c);
                continue;
            }
            self.check_attrs(c, &["src", "overridePins"]);
            let loc = self.loc(c);
            // The default depends on the block (true in debug-overrides).
            let override_pins = self.bool_attr(c, "overridePins", None);
            // AOSP `parseCertificatesEntry`: a reference (aapt2 parses the
            // trimmed text) is a resource; otherwise the string is compared
            // exactly, untrimmed, with `system`, `user` and `wfa`.
            let source = match c.attribute("src") {
                None => return Err(refuse(loc, "certificates element missing src attribute")),
                Some(s) if s.trim().starts_with('@') && s.trim().len() > 1 => {
                    AnchorSource::Bundled(s.trim().to_owned())
                }
                Some("system") => AnchorSource::System,
                Some("user") => AnchorSource::User,
                Some("wfa") => AnchorSource::Wfa,
                Some(other) => {
                    return Err(refuse(
                        loc,
                        format!(
                            "Unknown certificates src {other:?}. Should be one of system|user|@resourceVal"
                        ),
                    ));
                }
            };
            out.push(DeclaredAnchor {
                source,
                override_pins,
                location: loc,
            });
        }
        Ok(out)
    }

    fn pin_set(&mut self, n: Node) -> Result<PinSet, ImportError> {
        self.check_attrs(n, &["expiration"]);
        let loc = self.loc(n);
        let expiry = match n.attribute("expiration") {
            None => None,
            Some(text) => {
                let at = parse_android_date(text)
                    .ok_or_else(|| refuse(loc.clone(), "Invalid expiration date in pin-set"))?;
                Some(Expiry {
                    text: text.to_owned(),
                    at: at.midnight().assume_utc(),
                    zone: ExpiryZone::DeviceLocal,
                    after: AfterExpiry::FailOpenSilent,
                })
            }
        };
        let mut set = PinSet {
            pins: Vec::new(),
            texts: Vec::new(),
            expiry,
            lenient: Vec::new(),
        };
        for c in n.children().filter(Node::is_element) {
            if c.tag_name().name() != "pin" {
                self.ignore(c.tag_name().name(), c);
                continue;
            }
            self.check_attrs(c, &["digest"]);
            let loc = self.loc(c);
            let digest = c.attribute("digest");
            if !digest.is_some_and(|d| d.eq_ignore_ascii_case("SHA-256")) {
                return Err(refuse(
                    loc,
                    format!(
                        "Unsupported pin digest algorithm: {}",
                        digest.unwrap_or("null")
                    ),
                ));
            }
            if let (None, Some(d)) = (&self.tk_bad_digest, digest.filter(|d| *d != "SHA-256")) {
                self.tk_bad_digest = Some((loc.clone(), d.to_owned()));
            }
            if c.children().any(|x| x.is_element()) {
                return Err(refuse(loc, "pin contains additional elements"));
            }
            let text = element_text(c);
            let text = text.as_str();
            if text.is_empty() {
                return Err(refuse(loc, "Missing pin digest"));
            }
            // AOSP `parsePin`: `getText().trim()`, then
            // `Base64.decode(digest, DEFAULT)`, then the length check.
            let digest = text.trim_matches(|c: char| c <= ' ');
            let (entry, lenient) =
                LenientPin::read(Base64Dialect::Android, digest, PinScope::Any, &loc)
                    .map_err(|e| refuse(loc.clone(), format!("Invalid pin digest ({e})")))?;
            if let Some(l) = &lenient {
                if l.decoded_len != 32 {
                    return Err(refuse(
                        loc,
                        format!(
                            "digest length {} does not match expected length for SHA-256 of 32",
                            l.decoded_len
                        ),
                    ));
                }
            }
            set.texts.push(text.to_owned());
            set.pins.extend(entry);
            set.lenient.extend(lenient);
        }
        Ok(set)
    }

    /// TrustKit-Android's own reading of the file, when it carries
    /// `trustkit-config`: TrustKit reads every `pin-set` (throwing on a
    /// `digest` that is not exactly `SHA-256`), and builds a policy for every
    /// `domain-config` with a pin-set, own or inherited (one without is
    /// skipped: `DomainPinningPolicy.Builder.build` returns null), in
    /// document order, with `enforcePinning` false by default and the vendor
    /// report URI unless `disableDefaultReportUri`. Building a policy throws
    /// (at `TrustKit.initializeWithNetworkSecurityConfiguration`) on an
    /// invalid host, an empty pin-set that is enforced, or an enforced
    /// policy with fewer than two distinct pin strings.
    fn trustkit_android(&mut self) -> Result<(), ImportError> {
        if !self.trustkit {
            for d in &mut self.cfg.domains {
                d.default_report_uri = false;
            }
            return Ok(());
        }
        let tk_refuse = |loc: &Location, reason: String| {
            ImportError::refused(loc.clone(), "TrustKit-Android", reason)
        };
        if let Some((loc, digest)) = &self.tk_bad_digest {
            return Err(tk_refuse(loc, format!("Unexpected digest value: {digest}")));
        }
        // `readDomainConfig` calls `setHostname` for every `<domain>`: the
        // last one of a domain-config is the only host TrustKit pins there.
        let mut kept = vec![false; self.cfg.domains.len()];
        for (i, _) in &self.group_last_domain {
            kept[*i] = true;
        }
        let last_raw: std::collections::HashMap<usize, &str> = self
            .group_last_domain
            .iter()
            .map(|(i, raw)| (*i, raw.as_str()))
            .collect();
        for (i, d) in self.cfg.domains.iter_mut().enumerate() {
            let texts = self.group_pin_texts[d.group].as_ref();
            if !kept[i] || texts.is_none() {
                d.trustkit_android = None;
                d.report_uris.clear();
                d.default_report_uri = false;
            }
            if !kept[i] {
                self.cfg.ignored.push(Ignored {
                    name: format!(
                        "<domain>{}</domain> for TrustKit-Android, which keeps only the last <domain> of a domain-config (no TrustKit policy or reports for this host; Android's own pin-set still applies from API 24)",
                        d.host
                    ),
                    location: d.location.clone(),
                });
                continue;
            }
            let Some(texts) = texts else {
                // No pin-set, own or inherited: no TrustKit policy.
                continue;
            };
            let raw = last_raw.get(&i).copied().unwrap_or_default();
            if !trustkit_android_valid_host(raw) {
                return Err(tk_refuse(
                    &d.location,
                    format!("Tried to pin an invalid domain: {raw}"),
                ));
            }
            let tk = d.trustkit_android.get_or_insert_with(|| TrustKitAndroid {
                enforce_pinning: false,
                enforce_declared: false,
                location: d.location.clone(),
            });
            let enforce = tk.enforce_pinning;
            let distinct: HashSet<&String> = texts.iter().collect();
            if enforce && distinct.is_empty() {
                return Err(tk_refuse(
                    &d.location,
                    format!(
                        "An empty pin-set was supplied for domain {} with the enforcePinning set to true. An empty pin-set disables pinning and can't be use with enforcePinning set to true.",
                        d.host
                    ),
                ));
            }
            if enforce && distinct.len() < 2 {
                return Err(tk_refuse(
                    &d.location,
                    format!(
                        "Less than two pins were supplied for domain {}. This might brick your App",
                        d.host
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// TrustKit-Android's host check (`DomainPinningPolicy`: Apache Commons
/// `DomainValidator.getInstance(false).isValid`, on the `<domain>` text as
/// the XML parser returns it, before any trim): after IDN conversion at
/// most 253 characters; two or more labels of letters, digits and inner
/// hyphens (at most 63 each), the last starting with a letter, an optional
/// final dot; and a known top-level domain. No whitespace around the name,
/// no wildcard, no IP address, no single-label (local) name. TrustKit
/// checks the TLD against IANA's list of April 2016; Mamori uses the Public
/// Suffix List's top-level entries, so a TLD delegated since then is
/// accepted here and refused by TrustKit-Android.
fn trustkit_android_valid_host(raw: &str) -> bool {
    let ascii = if raw.is_ascii() {
        raw.to_owned()
    } else {
        match idna::domain_to_ascii_strict(raw) {
            Ok(a) => a,
            Err(_) => return false,
        }
    };
    if ascii.len() > 253 {
        return false;
    }
    let name = ascii.strip_suffix('.').unwrap_or(&ascii);
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() < 2 {
        return false;
    }
    let label_ok = |l: &str| {
        let b = l.as_bytes();
        !b.is_empty()
            && b.len() <= 63
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
    };
    let tld = labels[labels.len() - 1];
    if !labels.iter().all(|l| label_ok(l)) || !tld.as_bytes()[0].is_ascii_alphabetic() {
        return false;
    }
    let tld = tld.to_ascii_lowercase();
    crate::pinning::host::is_listed_tld(&tld)
}

/// An element's text as Android reads it: aapt2 drops comments (and
/// processing instructions) when it compiles the file, so the text on both
/// sides of a comment is one text node.
fn element_text(n: Node) -> String {
    n.children()
        .filter(|c| c.is_text())
        .filter_map(|c| c.text())
        .collect()
}

/// What aapt2 makes of an attribute value without namespace: it parses it
/// as any type (`ResourceUtils::TryParseItemForAttribute` with `TYPE_ANY`:
/// `@null`/`@empty`, a reference, a colour, a boolean, an integer, a float,
/// else a string). Only the integer types matter to
/// `getAttributeBooleanValue`.
#[derive(Debug, PartialEq, Eq)]
enum Aapt {
    /// `true`/`TRUE`/`True`/`false`/`FALSE`/`False` (`ParseBool`).
    Bool(bool),
    /// An integer-typed value: a decimal or hex integer, or a colour.
    Int(u32),
    /// Any other type, named.
    Other(&'static str),
}

fn aapt_any(v: &str) -> Aapt {
    // aapt2's `TrimWhitespace` (C `isspace`).
    let t = v.trim_matches(|c: char| matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r'));
    if t == "@null" || t == "@empty" {
        return Aapt::Other("a null value");
    }
    if t.starts_with('@') || t.starts_with('?') {
        return Aapt::Other("a reference, which the parser does not resolve");
    }
    if let Some(hex) = t.strip_prefix('#') {
        // `TryParseColor`: #rgb, #argb, #rrggbb, #aarrggbb.
        if matches!(hex.len(), 3 | 4 | 6 | 8) && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            let digits: Vec<u32> = hex.chars().filter_map(|c| c.to_digit(16)).collect();
            let mut argb = if hex.len() % 3 == 0 { 0xff00_0000 } else { 0 };
            let short = hex.len() <= 4;
            let n = digits.len();
            for (k, d) in digits.iter().enumerate() {
                let shift = if short {
                    8 * (n - 1 - k)
                } else {
                    4 * (n - 1 - k)
                };
                let d = if short { d * 0x11 } else { *d };
                argb |= d << shift;
            }
            return Aapt::Int(argb);
        }
    }
    match t {
        "true" | "TRUE" | "True" => return Aapt::Bool(true),
        "false" | "FALSE" | "False" => return Aapt::Bool(false),
        _ => {}
    }
    if let Some(i) = string_to_int(t) {
        return Aapt::Int(i);
    }
    if t.parse::<f32>().is_ok() && t.bytes().any(|b| b.is_ascii_digit()) {
        return Aapt::Other("a float");
    }
    let unit = t.trim_end_matches(|c: char| c.is_ascii_alphabetic() || c == '%');
    if unit.len() < t.len() && !unit.is_empty() && unit.parse::<f32>().is_ok() {
        return Aapt::Other("a dimension or fraction");
    }
    Aapt::Other("a string")
}

/// `ResTable::stringToInt` on trimmed text: decimal (an optional `-`,
/// within `i32`) or `0x` hex (within `u32`), the 32-bit data word.
fn string_to_int(t: &str) -> Option<u32> {
    if let Some(hex) = t.strip_prefix("0x") {
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        return u32::from_str_radix(hex, 16).ok();
    }
    let digits = t.strip_prefix('-').unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse::<i32>().ok().map(|i| i as u32)
}

/// `SimpleDateFormat("yyyy-MM-dd")` with `setLenient(false)`: numeric year,
/// month and day separated by `-`, month and day in range. (Java would ignore
/// trailing text after the day; Mamori refuses it, as Lint does.)
fn parse_android_date(text: &str) -> Option<Date> {
    // Digits only: `SimpleDateFormat` reads no sign and no whitespace.
    let mut parts = text.split('-');
    let mut field = || {
        let p = parts.next()?;
        (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())).then_some(p)
    };
    let y: i32 = field()?.parse().ok()?;
    let m: u8 = field()?.parse().ok()?;
    let d: u8 = field()?.parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    Date::from_calendar_date(y, Month::try_from(m).ok()?, d).ok()
}
