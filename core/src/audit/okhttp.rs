//! OkHttp `CertificatePinner` pins: a plain list (`pattern pin [pin...]` per
//! line, `#` comments) or Kotlin/Java source with `.add("pattern", "sha256/…")`
//! calls, and export back to the list form. Source code is read by
//! [`super::source`]; this module holds OkHttp's own rules for `add`.
//!
//! OkHttp's refusals are reproduced ("Unexpected pattern", "Invalid pattern",
//! "pins must start with 'sha256/' or 'sha1/'", "Invalid pin hash"), with
//! okio's base64 decoder. Pins OkHttp accepts that can never match a SHA-256
//! SPKI hash (not 32 bytes) or a SHA-1 one (not 20) are kept as
//! [`LenientPin`]s, which the audit reports, not as refusals.

use std::collections::HashMap;
use std::sync::Arc;

use super::base64::{self, Base64Dialect};
use super::error::ImportError;
use super::model::{
    AuditConfig, DomainEntry, LenientPin, Location, PinScope, Sha1Pin, SourceFormat,
};
use crate::pinning::Pin;

pub(crate) fn refuse(loc: Location, reason: impl Into<String>) -> ImportError {
    ImportError::refused(loc, "OkHttp", reason)
}

/// Imports a `pattern pin [pin...]` list.
pub(crate) fn import_str(text: &str, file: &str) -> Result<AuditConfig, ImportError> {
    let mut cfg = AuditConfig::new(file, SourceFormat::OkHttp);
    let mut index = HashMap::new();
    let name: Arc<str> = Arc::from(file);
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("");
        let line = line.trim();
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        let mut words = line.split_whitespace();
        let pattern = words.next().expect("non-empty line").to_owned();
        let loc = Location::in_file(&name, Some(i as u32 + 1));
        let pins: Vec<(String, Location)> = words.map(|w| (w.to_owned(), loc.clone())).collect();
        if pins.is_empty() {
            return Err(ImportError::Syntax {
                location: loc,
                what: "OkHttp pin list",
                reason: format!("{pattern:?} has no pin; each line is `pattern sha256/…`"),
            });
        }
        // A list is one CertificatePinner: one group.
        add(&mut cfg, &pattern, &pins, loc, 0, &mut index)?;
    }
    Ok(cfg)
}

/// `CertificatePinner.Builder.add(pattern, pins)` as OkHttp validates it,
/// into the pinner `group` of `cfg`. Returns the pattern as stored.
pub(crate) fn add(
    cfg: &mut AuditConfig,
    pattern: &str,
    pins: &[(String, Location)],
    loc: Location,
    group: usize,
    index: &mut HashMap<(usize, String), usize>,
) -> Result<String, ImportError> {
    let ok_wildcard = (pattern.starts_with("*.") && !pattern[1..].contains('*'))
        || (pattern.starts_with("**.") && !pattern[2..].contains('*'))
        || !pattern.contains('*');
    if !ok_wildcard {
        return Err(refuse(loc, format!("Unexpected pattern: {pattern}")));
    }
    let host = to_canonical_host(pattern)
        .ok_or_else(|| refuse(loc.clone(), format!("Invalid pattern: {pattern}")))?;
    let mut entries = Vec::new();
    let mut lenient_pins = Vec::new();
    let mut sha1_pins = Vec::new();
    for (p, ploc) in pins {
        if !(p.starts_with("sha256/") || p.starts_with("sha1/")) {
            return Err(refuse(
                ploc.clone(),
                format!("pins must start with 'sha256/' or 'sha1/': {p}"),
            ));
        }
        // OkHttp: `pin.substring(7).decodeBase64() ?: throw
        // IllegalArgumentException("Invalid pin hash: $pin")`, no length
        // check; a `sha1/` pin works on OkHttp but nowhere else.
        if let Some(b64) = p.strip_prefix("sha256/") {
            let (entry, lenient) = LenientPin::read(Base64Dialect::Okio, b64, PinScope::Any, ploc)
                .map_err(|_| refuse(ploc.clone(), format!("Invalid pin hash: {p}")))?;
            entries.extend(entry);
            lenient_pins.extend(lenient);
        } else {
            let b64 = &p["sha1/".len()..];
            let decoded = base64::decode(Base64Dialect::Okio, b64)
                .map_err(|_| refuse(ploc.clone(), format!("Invalid pin hash: {p}")))?;
            match <[u8; 20]>::try_from(decoded.bytes.as_slice()) {
                Ok(hash) => sha1_pins.push(Sha1Pin {
                    hash,
                    text: p.clone(),
                    location: ploc.clone(),
                }),
                Err(_) => lenient_pins.push(LenientPin {
                    text: p.clone(),
                    decoder: Base64Dialect::Okio.decoder_name(),
                    leniency: decoded.leniency.iter().map(ToString::to_string).collect(),
                    decoded_len: decoded.len(),
                    never_matches: Some(format!(
                        "a sha1/ pin of {} bytes: an SPKI SHA-1 hash has 20",
                        decoded.len()
                    )),
                    location: ploc.clone(),
                }),
            }
        }
    }
    // OkHttp merges every `add` for the same pattern of one pinner into one set.
    if let Some(&i) = index.get(&(group, host.clone())) {
        cfg.domains[i].pins.extend(entries);
        cfg.domains[i].lenient_pins.extend(lenient_pins);
        cfg.domains[i].sha1_pins.extend(sha1_pins);
        return Ok(host);
    }
    index.insert((group, host.clone()), cfg.domains.len());
    let mut d = DomainEntry::new(&host, SourceFormat::OkHttp, loc);
    d.include_subdomains = host.starts_with("**.");
    d.has_pin_set = true;
    d.pins = entries;
    d.lenient_pins = lenient_pins;
    d.sha1_pins = sha1_pins;
    d.group = group;
    cfg.domains.push(d);
    Ok(host)
}

/// OkHttp's `String.toCanonicalHost()` on a pattern: an address with `:` is
/// IPv6 (brackets dropped, written in canonical form, or as IPv4 when
/// IPv4-mapped); anything else goes through IDNA (lower case, punycode) and
/// must then have no control, space or `#%/:?@[\]` characters, labels of
/// 1 to 63 characters and 1 to 253 in all. A final dot is kept (the pattern
/// then matches only a host written with one); a leading hyphen, a digit
/// label or five numeric labels are accepted, as OkHttp accepts them.
fn to_canonical_host(host: &str) -> Option<String> {
    if host.contains(':') {
        let inner = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let ip: std::net::Ipv6Addr = inner.parse().ok()?;
        return Some(match ip.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => ip.to_string(),
        });
    }
    let ascii = idna::domain_to_ascii(host).ok()?;
    if ascii
        .bytes()
        .any(|c| c <= 0x1f || c >= 0x7f || b" #%/:?@[\\]".contains(&c))
    {
        return None;
    }
    if !(1..=253).contains(&ascii.len()) {
        return None;
    }
    let body = ascii.strip_suffix('.').unwrap_or(&ascii);
    body.split('.')
        .all(|l| (1..=63).contains(&l.len()))
        .then_some(ascii)
}

/// Renders the pinned domains as an OkHttp pin list (`pattern pin` lines).
pub(crate) fn export(cfg: &AuditConfig) -> (String, Vec<String>) {
    let mut notes = Vec::new();
    let mut out = String::from("# OkHttp CertificatePinner pins: one `pattern pin` per line\n");
    for d in cfg.domains.iter().filter(|d| !d.pins.is_empty()) {
        let host = export_pattern(d);
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

/// A host for which OkHttp accepts more pins than its own rule lists,
/// because another pattern of the same pinner also matches it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Widening {
    /// The rule meant for the host (the most specific pattern matching it).
    pub narrow: usize,
    /// The other pattern whose pins OkHttp adds.
    pub wide: usize,
    /// A host both patterns match.
    pub host: String,
    /// The pins of `wide` that `narrow` lacks.
    pub extra: Vec<Pin>,
}

/// How specific a pattern is, by Mamori's (and NSC's, TrustKit's) choice of
/// the rule for a host: an exact name, then `*.` (one label), then `**.`
/// with the longer base first.
fn specificity(pattern: &str) -> (u8, usize) {
    if let Some(base) = pattern.strip_prefix("**.") {
        (1, base.len())
    } else if let Some(base) = pattern.strip_prefix("*.") {
        (2, base.len())
    } else {
        (3, pattern.len())
    }
}

/// The patterns (as OkHttp writes them) that match `host`:
/// `CertificatePinner.Pin.matchesHostname`, where `**.x` matches `x` and
/// every name under it and `*.x` exactly one label under `x`.
fn matching_patterns(host: &str) -> Vec<String> {
    let mut out = vec![host.to_owned(), format!("**.{host}")];
    let mut rest = host;
    let mut first = true;
    while let Some((_, parent)) = rest.split_once('.') {
        if first {
            out.push(format!("*.{parent}"));
            first = false;
        }
        out.push(format!("**.{parent}"));
        rest = parent;
    }
    out
}

/// The widenings among the rules of one pinner (`(pattern, pins)`): for each
/// host two patterns share, OkHttp accepts the union of their pins, while
/// the platform Mamori emulates applies the most specific one. Linear in the
/// number of rules times labels (a map from pattern to rule, no pairwise
/// comparison).
pub(crate) fn widenings(rules: &[(String, Vec<Pin>)]) -> Vec<Widening> {
    let mut by_pattern: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, (p, _)) in rules.iter().enumerate() {
        by_pattern.entry(p.as_str()).or_default().push(i);
    }
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (i, (p, _)) in rules.iter().enumerate() {
        // Hosts this pattern matches that others may match too.
        let witnesses = match (p.strip_prefix("**."), p.strip_prefix("*.")) {
            (Some(base), _) => vec![base.to_owned(), format!("w.{base}")],
            (None, Some(base)) => vec![format!("w.{base}")],
            _ => vec![p.clone()],
        };
        for host in witnesses {
            for q in matching_patterns(&host) {
                for &j in by_pattern.get(q.as_str()).into_iter().flatten() {
                    if j == i {
                        continue;
                    }
                    let (narrow, wide) = if specificity(&rules[i].0) >= specificity(&rules[j].0) {
                        (i, j)
                    } else {
                        (j, i)
                    };
                    if !seen.insert((narrow, wide)) {
                        continue;
                    }
                    let extra: Vec<Pin> = rules[wide]
                        .1
                        .iter()
                        .filter(|p| !rules[narrow].1.contains(p))
                        .copied()
                        .collect();
                    if !extra.is_empty() {
                        out.push(Widening {
                            narrow,
                            wide,
                            host: host.clone(),
                            extra,
                        });
                    }
                }
            }
        }
    }
    out.sort_by_key(|w| (w.narrow, w.wide));
    out
}

/// The OkHttp pattern an exported domain becomes.
fn export_pattern(d: &DomainEntry) -> String {
    if d.include_subdomains && !d.host.starts_with('*') {
        format!("**.{}", d.host)
    } else {
        d.host.clone()
    }
}

/// Hosts whose pins a conversion to OkHttp would widen (issue 9, item 10):
/// the policy's most specific rule becomes one pattern among several that
/// OkHttp unions. Empty for a configuration that already is OkHttp's (its
/// meaning does not change).
pub(crate) fn export_widenings(cfg: &AuditConfig) -> Vec<String> {
    if cfg.format == SourceFormat::OkHttp {
        return Vec::new();
    }
    let exported: Vec<&DomainEntry> = cfg.domains.iter().filter(|d| !d.pins.is_empty()).collect();
    let rules: Vec<(String, Vec<Pin>)> = exported
        .iter()
        .map(|d| (export_pattern(d), d.distinct_pins()))
        .collect();
    widenings(&rules)
        .into_iter()
        .map(|w| {
            format!(
                "{}: OkHttp would also accept {} pin(s) of {} for {} (it unions every matching pattern; {} applies only the most specific rule)",
                rules[w.narrow].0,
                w.extra.len(),
                rules[w.wide].0,
                w.host,
                cfg.format.as_str()
            )
        })
        .collect()
}
