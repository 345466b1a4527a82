//! iOS configurations: TrustKit (`TSKConfiguration`) and App Transport
//! Security (`NSAppTransportSecurity`, including `NSPinnedDomains`), read from
//! an Info.plist (XML or binary, via the `plist` crate) or from a JSON
//! dictionary with the same keys.
//!
//! TrustKit's own refusals at initialisation (`parse_configuration.m`) are
//! reproduced: a pin that is not 32 bytes, fewer than two distinct pins on an
//! enforced domain, `TSKIncludeSubdomains` on a public suffix, a bad
//! `TSKExpirationDate`, a domain without `TSKPublicKeyHashes`.
//!
//! The keys are the *strings* TrustKit's Objective-C constants stand for
//! (`TSKTrustKitConfig.m`: `kTSKPublicKeyHashes = @"TSKPublicKeyHashes"`),
//! which is what an Info.plist holds and what TrustKit looks up. A plist that
//! uses the constants' names (`kTSKPublicKeyHashes`) as keys is one TrustKit
//! does not understand; the refusal says so ([`constant_hint`]).
//!
//! Property lists carry no positions; for XML plists the line of a domain is
//! found by searching the text for its `<key>` (first occurrence).

use std::cell::OnceCell;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use plist::{Dictionary, Value};
use time::Date;

use super::base64::Base64Dialect;
use super::error::ImportError;
use super::lines::LineIndex;
use super::model::{
    AfterExpiry, AtsException, AtsSettings, AuditConfig, DomainEntry, Expiry, ExpiryZone,
    LenientPin, Location, PinScope, SourceFormat,
};
use crate::pinning::host::is_public_suffix;

/// Parses a property list (XML or binary) or a JSON object into a dictionary.
pub(crate) fn parse_dictionary(bytes: &[u8], file: &str) -> Result<Dictionary, ImportError> {
    let limited = |limit| ImportError::Limit {
        file: file.to_owned(),
        limit,
    };
    let trimmed = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map(|i| &bytes[i..])
        .unwrap_or(&[]);
    if trimmed.first() == Some(&b'{') {
        crate::limits::check_json(bytes).map_err(limited)?;
        let json: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| ImportError::Syntax {
                location: Location::new(file, Some(e.line() as u32)),
                what: "JSON",
                reason: e.to_string(),
            })?;
        return match json_to_plist(json) {
            Value::Dictionary(d) => Ok(d),
            _ => unreachable!("a JSON object converts to a dictionary"),
        };
    }
    // Parsing, and dropping, a deep `plist::Value` recurses: check the
    // depth on the bytes first.
    crate::limits::check_plist(bytes).map_err(limited)?;
    let value =
        Value::from_reader(std::io::Cursor::new(bytes)).map_err(|e| ImportError::Syntax {
            location: Location::new(file, None),
            what: "property list",
            // The plist crate's message is its internal error kind and a
            // byte offset (`UnknownXmlElement (offset 472)`): say it plainly.
            reason: if e.is_eof() {
                "the file ends before the property list does".into()
            } else {
                "not an XML or binary property list (plist) with a dictionary at the top".into()
            },
        })?;
    match value {
        Value::Dictionary(d) => Ok(d),
        _ => Err(ImportError::Syntax {
            location: Location::new(file, None),
            what: "property list",
            reason: "the top level is not a dictionary".into(),
        }),
    }
}

fn json_to_plist(v: serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::String(String::new()),
        serde_json::Value::Bool(b) => Value::Boolean(b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Integer(i.into()),
            None => Value::Real(n.as_f64().unwrap_or(0.0)),
        },
        serde_json::Value::String(s) => Value::String(s),
        serde_json::Value::Array(a) => Value::Array(a.into_iter().map(json_to_plist).collect()),
        serde_json::Value::Object(o) => {
            Value::Dictionary(o.into_iter().map(|(k, v)| (k, json_to_plist(v))).collect())
        }
    }
}

/// TrustKit's configuration keys: the Objective-C constant's name and the
/// string it stands for (TrustKit's `TSKTrustKitConfig.m`). The string is
/// the Info.plist key; code (Swift / Objective-C) may use either. Note the
/// historical `kSK` spelling of the exclusion key's string.
pub(crate) const TSK_KEYS: &[(&str, &str)] = &[
    ("kTSKSwizzleNetworkDelegates", "TSKSwizzleNetworkDelegates"),
    ("kTSKPinnedDomains", TSK_PINNED_DOMAINS),
    (
        "kTSKIgnorePinningForUserDefinedTrustAnchors",
        "TSKIgnorePinningForUserDefinedTrustAnchors",
    ),
    ("kTSKPublicKeyHashes", TSK_PUBLIC_KEY_HASHES),
    ("kTSKEnforcePinning", TSK_ENFORCE_PINNING),
    (
        "kTSKExcludeSubdomainFromParentPolicy",
        TSK_EXCLUDE_SUBDOMAIN_FROM_PARENT_POLICY,
    ),
    ("kTSKIncludeSubdomains", TSK_INCLUDE_SUBDOMAINS),
    ("kTSKPublicKeyAlgorithms", TSK_PUBLIC_KEY_ALGORITHMS),
    ("kTSKReportUris", TSK_REPORT_URIS),
    (
        "kTSKDisableDefaultReportUri",
        TSK_DISABLE_DEFAULT_REPORT_URI,
    ),
    ("kTSKExpirationDate", TSK_EXPIRATION_DATE),
    // Read only by TrustKit 1.5.0-1.5.2 (debug builds), removed in 1.6.0: a
    // domain using it lists it as ignored, with that history.
    ("kTSKAdditionalTrustAnchors", TSK_ADDITIONAL_TRUST_ANCHORS),
    ("kTSKAlgorithmRsa2048", "TSKAlgorithmRsa2048"),
    ("kTSKAlgorithmRsa4096", "TSKAlgorithmRsa4096"),
    ("kTSKAlgorithmEcDsaSecp256r1", "TSKAlgorithmEcDsaSecp256r1"),
    ("kTSKAlgorithmEcDsaSecp384r1", "TSKAlgorithmEcDsaSecp384r1"),
];

/// `kTSKPinnedDomains`.
pub(crate) const TSK_PINNED_DOMAINS: &str = "TSKPinnedDomains";
/// `kTSKAdditionalTrustAnchors`: certificates TrustKit 1.5.0-1.5.2 added to
/// the system store as extra anchors, and only in debug builds
/// (`allowsAdditionalTrustAnchors`); TrustKit 1.6.0 removed the key (it did
/// not work on iOS 11), so every current TrustKit ignores it.
pub(crate) const TSK_ADDITIONAL_TRUST_ANCHORS: &str = "TSKAdditionalTrustAnchors";
/// `kTSKPublicKeyHashes`.
pub(crate) const TSK_PUBLIC_KEY_HASHES: &str = "TSKPublicKeyHashes";
/// `kTSKEnforcePinning`.
pub(crate) const TSK_ENFORCE_PINNING: &str = "TSKEnforcePinning";
/// `kTSKExcludeSubdomainFromParentPolicy` (TrustKit's own typo: `kSK`).
pub(crate) const TSK_EXCLUDE_SUBDOMAIN_FROM_PARENT_POLICY: &str =
    "kSKExcludeSubdomainFromParentPolicy";
/// `kTSKIncludeSubdomains`.
pub(crate) const TSK_INCLUDE_SUBDOMAINS: &str = "TSKIncludeSubdomains";
/// `kTSKPublicKeyAlgorithms` (deprecated; TrustKit ignores it).
pub(crate) const TSK_PUBLIC_KEY_ALGORITHMS: &str = "TSKPublicKeyAlgorithms";
/// `kTSKReportUris`.
pub(crate) const TSK_REPORT_URIS: &str = "TSKReportUris";
/// `kTSKDisableDefaultReportUri`.
pub(crate) const TSK_DISABLE_DEFAULT_REPORT_URI: &str = "TSKDisableDefaultReportUri";
/// `kTSKExpirationDate`.
pub(crate) const TSK_EXPIRATION_DATE: &str = "TSKExpirationDate";

/// The per-domain keys TrustKit reads.
const TSK_DOMAIN_KEYS: &[&str] = &[
    TSK_PUBLIC_KEY_HASHES,
    TSK_ENFORCE_PINNING,
    TSK_EXCLUDE_SUBDOMAIN_FROM_PARENT_POLICY,
    TSK_INCLUDE_SUBDOMAINS,
    TSK_PUBLIC_KEY_ALGORITHMS,
    TSK_REPORT_URIS,
    TSK_DISABLE_DEFAULT_REPORT_URI,
    TSK_EXPIRATION_DATE,
];

/// The string a TrustKit constant's name stands for (`kTSKPinnedDomains` →
/// `TSKPinnedDomains`).
pub(crate) fn tsk_string(constant: &str) -> Option<&'static str> {
    TSK_KEYS
        .iter()
        .find(|(c, _)| *c == constant)
        .map(|(_, s)| *s)
}

/// When `key` is a TrustKit constant's *name* used as a plist key, the
/// sentence that says which string TrustKit reads instead.
fn constant_hint(key: &str) -> Option<String> {
    tsk_string(key)
        .map(|real| format!("TrustKit reads `{real}`; `{key}` is the Objective-C constant's name"))
}

/// `reason`, followed by the hints for every key of `d` that is a TrustKit
/// constant's name.
fn with_hints(reason: String, d: &Dictionary) -> String {
    d.keys()
        .filter_map(|k| constant_hint(k))
        .fold(reason, |r, h| format!("{r} ({h})"))
}

/// Finds the TrustKit configuration: `TSKConfiguration` in an Info.plist, or a
/// dictionary that itself has `TSKPinnedDomains`.
pub(crate) fn trustkit_root(d: &Dictionary) -> Option<&Dictionary> {
    if let Some(Value::Dictionary(c)) = d.get("TSKConfiguration") {
        return Some(c);
    }
    d.contains_key(TSK_PINNED_DOMAINS).then_some(d)
}

/// Finds `NSAppTransportSecurity` (or a dictionary that has `NSPinnedDomains`).
pub(crate) fn ats_root(d: &Dictionary) -> Option<&Dictionary> {
    if let Some(Value::Dictionary(c)) = d.get("NSAppTransportSecurity") {
        return Some(c);
    }
    d.contains_key("NSPinnedDomains").then_some(d)
}

/// Lines of `<key>` elements in an XML plist, indexed once: every
/// `<key>name</key>` with its byte offset, the `<string>` elements in
/// document order, and where lines start. A key lookup is a hash lookup and
/// a binary search; a pin's `<string>` is looked for among the strings that
/// follow its domain's key (the next few: a domain's pins follow its key),
/// and only when it is not there through an index built on first need. So
/// locating every key and pin of a large plist stays linear in its size
/// (issue 9, item 7: the former per-key rescan took 32 s on a 4 MB plist).
struct Lines<'a> {
    /// The file name every location shares.
    file: Arc<str>,
    /// Key text → offsets of its `<key>` elements, in document order.
    keys: HashMap<&'a str, Vec<usize>>,
    /// `(offset, text)` of every `<string>` element, in document order.
    strings: Vec<(usize, &'a str)>,
    /// String text → offsets, built only if a scan falls short.
    string_index: OnceCell<HashMap<&'a str, Vec<usize>>>,
    lines: Option<LineIndex>,
}

/// How many `<string>` elements after a key are compared before the index
/// is used: more than the pins a domain lists in practice.
const STRING_SCAN: usize = 64;

impl<'a> Lines<'a> {
    fn new(text: Option<&'a str>, file: &str) -> Self {
        let mut keys: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut strings = Vec::new();
        if let Some(t) = text {
            for (open, close) in [("<key>", "</key>"), ("<string>", "</string>")] {
                let mut rest = 0;
                while let Some(o) = t[rest..].find(open) {
                    let at = rest + o;
                    let body = at + open.len();
                    let Some(c) = t[body..].find(close) else {
                        break;
                    };
                    let name = &t[body..body + c];
                    if open == "<key>" {
                        keys.entry(name).or_default().push(at);
                    } else {
                        strings.push((at, name));
                    }
                    rest = body + c + close.len();
                }
            }
        }
        Self {
            file: Arc::from(file),
            keys,
            strings,
            string_index: OnceCell::new(),
            lines: text.map(LineIndex::new),
        }
    }

    fn of_key(&self, key: &str) -> Location {
        self.of_key_in("", key)
    }

    /// The line of `<key>key</key>` after the first `<key>section</key>`
    /// (a host may appear both under TSKPinnedDomains and NSExceptionDomains).
    fn of_key_in(&self, section: &str, key: &str) -> Location {
        let pos = self.key_offset(section, key);
        Location::in_file(&self.file, pos.and_then(|p| self.line_of(p)))
    }

    /// The line of the first `<string>value</string>` after the key that
    /// [`Self::of_key_in`] finds (a pin of a domain), else the key's line.
    fn of_string_in(&self, section: &str, key: &str, value: &str) -> Location {
        let Some(k) = self.key_offset(section, key) else {
            return Location::in_file(&self.file, None);
        };
        let next = self.strings.partition_point(|(o, _)| *o < k);
        let near = self.strings[next..]
            .iter()
            .take(STRING_SCAN)
            .find(|(_, text)| *text == value)
            .map(|(o, _)| *o);
        let pos = near
            .or_else(|| {
                let index = self.string_index.get_or_init(|| {
                    let mut index: HashMap<&str, Vec<usize>> = HashMap::new();
                    for (o, text) in &self.strings {
                        index.entry(text).or_default().push(*o);
                    }
                    index
                });
                first_after(index.get(value)?, k)
            })
            .unwrap_or(k);
        Location::in_file(&self.file, self.line_of(pos))
    }

    fn first(&self, name: &str, from: usize) -> Option<usize> {
        first_after(self.keys.get(name)?, from)
    }

    fn key_offset(&self, section: &str, key: &str) -> Option<usize> {
        let start = if section.is_empty() {
            0
        } else {
            self.first(section, 0).unwrap_or(0)
        };
        self.first(key, start)
    }

    fn line_of(&self, offset: usize) -> Option<u32> {
        Some(self.lines.as_ref()?.line_of(offset))
    }
}

/// The first of `offsets` (ascending) at or after `from`.
fn first_after(offsets: &[usize], from: usize) -> Option<usize> {
    offsets.get(offsets.partition_point(|o| *o < from)).copied()
}

fn bool_of(
    v: Option<&Value>,
    key: &str,
    loc: &Location,
    platform: &'static str,
) -> Result<Option<bool>, ImportError> {
    match v {
        None => Ok(None),
        Some(Value::Boolean(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("yes") || s == "true" => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("no") || s == "false" => Ok(Some(false)),
        Some(_) => Err(ImportError::refused(
            loc.clone(),
            platform,
            format!("{key} must be a boolean"),
        )),
    }
}

fn string_list(
    v: Option<&Value>,
    key: &str,
    loc: &Location,
    platform: &'static str,
) -> Result<Vec<String>, ImportError> {
    match v {
        None => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| match x {
                Value::String(s) => Ok(s.clone()),
                _ => Err(ImportError::refused(
                    loc.clone(),
                    platform,
                    format!("{key} must be an array of strings"),
                )),
            })
            .collect(),
        Some(_) => Err(ImportError::refused(
            loc.clone(),
            platform,
            format!("{key} must be an array"),
        )),
    }
}

/// Imports a TrustKit configuration. `text` is the file's text when it is an
/// XML plist (for line numbers).
pub(crate) fn import_trustkit(
    root: &Dictionary,
    file: &str,
    text: Option<&str>,
) -> Result<AuditConfig, ImportError> {
    let mut cfg = AuditConfig::new(file, SourceFormat::TrustKit);
    add_trustkit(&mut cfg, root, file, text)?;
    Ok(cfg)
}

fn add_trustkit(
    cfg: &mut AuditConfig,
    root: &Dictionary,
    file: &str,
    text: Option<&str>,
) -> Result<(), ImportError> {
    let lines = Lines::new(text, file);
    let tk = trustkit_root(root).ok_or_else(|| {
        ImportError::refused(
            Location::new(file, None),
            "TrustKit",
            "no TSKConfiguration / TSKPinnedDomains dictionary",
        )
    })?;
    let loc = lines.of_key(TSK_PINNED_DOMAINS);
    let Some(Value::Dictionary(domains)) = tk.get(TSK_PINNED_DOMAINS) else {
        return Err(ImportError::refused(
            loc,
            "TrustKit",
            with_hints("TSKPinnedDomains must be a dictionary".into(), tk),
        ));
    };
    if domains.is_empty() {
        return Err(ImportError::refused(
            loc,
            "TrustKit",
            "TrustKit was initialized with no pinned domains",
        ));
    }
    for (host, v) in domains {
        let loc = lines.of_key_in(TSK_PINNED_DOMAINS, host);
        // `GetRegistryLength` on the key as written: 0 for a name longer
        // than 255 bytes, non-ASCII, or without a known public suffix
        // (`localhost`, `api.internal`, an IP address).
        if !trustkit_registry_known(host) {
            return Err(ImportError::refused(
                loc,
                "TrustKit",
                format!("TrustKit was initialized with an invalid domain {host}"),
            ));
        }
        let Value::Dictionary(dc) = v else {
            return Err(ImportError::refused(
                loc,
                "TrustKit",
                format!("the entry for {host} must be a dictionary"),
            ));
        };
        // TrustKit looks keys up as written: surrounding whitespace is kept
        // (such a key selects no host: `DomainEntry::unusable_name`).
        let name = host.to_lowercase();
        let mut d = DomainEntry::new(&name, SourceFormat::TrustKit, loc.clone());
        d.group = cfg.domains.len();
        // TrustKit reads the exclusion first: a subdomain taken out of its
        // parent's policy is not pinned, and may carry no other key.
        let exclude = match dc.get(TSK_EXCLUDE_SUBDOMAIN_FROM_PARENT_POLICY) {
            None => false,
            Some(v) => ns_bool_value(v)
                .ok_or_else(|| no_bool_value(&loc, TSK_EXCLUDE_SUBDOMAIN_FROM_PARENT_POLICY))?,
        };
        if exclude {
            if dc.len() > 1 {
                return Err(ImportError::refused(
                    loc,
                    "TrustKit",
                    format!(
                        "TrustKit was initialized with TSKExcludeSubdomainFromParentPolicy for domain {name} but detected additional configuration keys"
                    ),
                ));
            }
            // Not pinned: TrustKit's validator skips a host whose policy
            // (the exact key wins) is an exclusion. Its parent is checked
            // once every domain is read.
            d.excluded_from_parent = true;
            cfg.domains.push(d);
            continue;
        }
        d.include_subdomains = tk_bool(dc, TSK_INCLUDE_SUBDOMAINS, &loc)?.unwrap_or(false);
        if d.include_subdomains && is_public_suffix(&name) {
            return Err(ImportError::refused(
                loc,
                "TrustKit",
                format!(
                    "TrustKit was initialized with includeSubdomains for a domain suffix {name}"
                ),
            ));
        }
        d.enforce = tk_bool(dc, TSK_ENFORCE_PINNING, &loc)?.unwrap_or(true);
        let hashes = string_list(
            dc.get(TSK_PUBLIC_KEY_HASHES),
            TSK_PUBLIC_KEY_HASHES,
            &loc,
            "TrustKit",
        )?;
        let mut distinct = BTreeSet::new();
        for h in &hashes {
            // TrustKit: `initWithBase64EncodedString:h options:0`, then a
            // length check that raises at initialisation.
            let ploc = lines.of_string_in(TSK_PINNED_DOMAINS, host, h);
            let invalid = |why: String| {
                ImportError::refused(
                    ploc.clone(),
                    "TrustKit",
                    format!(
                        "TrustKit was initialized with an invalid Public Key Hash {h:?} for domain {name}: {why}"
                    ),
                )
            };
            let (entry, lenient) = LenientPin::read(Base64Dialect::Apple, h, PinScope::Any, &ploc)
                .map_err(|e| invalid(e.to_string()))?;
            if let Some(why) = lenient.as_ref().and_then(|l| l.never_matches.clone()) {
                return Err(invalid(why));
            }
            let entry = entry.expect("a pin that can match has an entry");
            distinct.insert(entry.pin);
            d.pins.push(entry);
            d.lenient_pins.extend(lenient);
        }
        d.has_pin_set = true;
        // An absent TSKPublicKeyHashes is no pins; one pin is enough only
        // when not enforcing.
        let required = if d.enforce { 2 } else { 1 };
        if distinct.len() < required {
            return Err(ImportError::refused(
                loc,
                "TrustKit",
                with_hints(
                    format!(
                        "TrustKit was initialized with less than {required} pins (ie. no backup pins) for domain {name}. This might brick your App"
                    ),
                    dc,
                ),
            ));
        }
        if let Some(v) = dc.get(TSK_EXPIRATION_DATE) {
            // `-[NSDateFormatter dateFromString:]` with `yyyy-MM-dd` in UTC;
            // nil (no expiry: the pins never expire) when it does not parse.
            let Value::String(text) = v else {
                return Err(ImportError::refused(
                    loc,
                    "TrustKit",
                    format!(
                        "{TSK_EXPIRATION_DATE} of {name} must be a string: TrustKit passes it to -[NSDateFormatter dateFromString:]"
                    ),
                ));
            };
            match parse_trustkit_date(text) {
                Some(date) => {
                    d.expiry = Some(Expiry {
                        text: text.clone(),
                        at: date.midnight().assume_utc(),
                        zone: ExpiryZone::Utc,
                        after: AfterExpiry::FailOpenSilent,
                    })
                }
                None => cfg.ignored.push(super::model::Ignored {
                    name: format!(
                        "{name}: {TSK_EXPIRATION_DATE} {text:?} (not a yyyy-MM-dd date: TrustKit's NSDateFormatter returns nil, so these pins never expire)"
                    ),
                    location: loc.clone(),
                }),
            }
        }
        d.report_uris = string_list(dc.get(TSK_REPORT_URIS), TSK_REPORT_URIS, &loc, "TrustKit")?;
        let disable_default = tk_bool(dc, TSK_DISABLE_DEFAULT_REPORT_URI, &loc)?.unwrap_or(false);
        // TrustKit also reports to its vendor's endpoint
        // (https://overmind.datatheorem.com/trustkit/report) unless disabled.
        d.default_report_uri = !disable_default;
        for key in dc.keys() {
            if !TSK_DOMAIN_KEYS.contains(&key.as_str()) {
                // TrustKit never looks at it; a constant's name used as a
                // key is the likely mistake, so say which key was meant.
                let name = if key == TSK_ADDITIONAL_TRUST_ANCHORS
                    || tsk_string(key) == Some(TSK_ADDITIONAL_TRUST_ANCHORS)
                {
                    format!(
                        "{name}: {key} (TrustKit 1.6.0 removed it; only 1.5.0-1.5.2 read it, and \
                         only in debug builds, as anchors added to the system store)"
                    )
                } else {
                    match constant_hint(key) {
                        Some(h) => format!("{name}: {key} ({h})"),
                        None => format!("{name}: {key}"),
                    }
                };
                cfg.ignored.push(super::model::Ignored {
                    name,
                    location: loc.clone(),
                });
            }
        }
        cfg.domains.push(d);
    }
    // TrustKit's last check: an excluded subdomain needs a parent policy,
    // looked up for `"a" + name` so that its own entry is not found.
    for d in cfg
        .domains
        .iter()
        .filter(|d| d.excluded_from_parent && d.mechanism == SourceFormat::TrustKit)
    {
        let probe = format!("a{}", d.host);
        let parent = cfg.domains.iter().any(|p| {
            p.mechanism == SourceFormat::TrustKit
                && !p.excluded_from_parent
                && super::model::covers(p, &probe)
        });
        if !parent {
            return Err(ImportError::refused(
                d.location.clone(),
                "TrustKit",
                format!(
                    "TrustKit was initialized with TSKExcludeSubdomainFromParentPolicy for domain {} but could not find a policy for a parent domain",
                    d.host
                ),
            ));
        }
    }
    Ok(())
}

/// `-[NSObject boolValue]` as TrustKit calls it on a configuration value:
/// an `NSNumber` is true when non-zero; an `NSString` when, after leading
/// whitespace and an optional sign and zeros, it starts with `Y`, `y`,
/// `T`, `t` or a digit 1-9 (Apple's `NSString.boolValue`). Other types have
/// no `boolValue` (TrustKit raises: `None`).
pub(crate) fn ns_bool_value(v: &Value) -> Option<bool> {
    match v {
        Value::Boolean(b) => Some(*b),
        // An integer beyond i64 is a large unsigned one: non-zero.
        Value::Integer(i) => Some(i.as_signed().is_none_or(|n| n != 0)),
        Value::Real(r) => Some(*r != 0.0),
        Value::String(s) => {
            let t = s.trim_start_matches(|c: char| c.is_whitespace());
            let t = t.strip_prefix(['+', '-']).unwrap_or(t);
            let t = t.trim_start_matches('0');
            Some(t.starts_with([
                'Y', 'y', 'T', 't', '1', '2', '3', '4', '5', '6', '7', '8', '9',
            ]))
        }
        _ => None,
    }
}

fn no_bool_value(loc: &Location, key: &str) -> ImportError {
    ImportError::refused(
        loc.clone(),
        "TrustKit",
        format!("{key} must be a boolean, a number or a string (TrustKit calls boolValue on it)"),
    )
}

/// TrustKit's `NSDateFormatter` (`yyyy-MM-dd`, UTC, not lenient) as ICU
/// parses it: the whole text, digits for the year, `-`, a month of one or
/// two digits, `-`, a day of one or two digits that exists in that month.
/// No whitespace, sign or time.
fn parse_trustkit_date(text: &str) -> Option<Date> {
    let mut parts = text.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = |p: &str, max: usize| {
        !p.is_empty() && p.len() <= max && p.bytes().all(|b| b.is_ascii_digit())
    };
    if parts.next().is_some() || !digits(y, 6) || !digits(m, 2) || !digits(d, 2) {
        return None;
    }
    let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()
}

/// A TrustKit domain setting read with `boolValue` ([`ns_bool_value`]).
fn tk_bool(dc: &Dictionary, key: &str, loc: &Location) -> Result<Option<bool>, ImportError> {
    dc.get(key)
        .map(|v| ns_bool_value(v).ok_or_else(|| no_bool_value(loc, key)))
        .transpose()
}

/// `GetRegistryLength(name) != 0` (TrustKit's domain_registry, built from
/// the Public Suffix List): at most 255 bytes, ASCII, and a suffix the list
/// names, compared case-sensitively as its trie does.
fn trustkit_registry_known(name: &str) -> bool {
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    name.len() <= 255
        && name.is_ascii()
        && !trimmed.is_empty()
        && crate::pinning::host::has_known_suffix(trimmed)
}

/// Imports App Transport Security settings and `NSPinnedDomains`.
pub(crate) fn import_ats(
    root: &Dictionary,
    file: &str,
    text: Option<&str>,
) -> Result<AuditConfig, ImportError> {
    let mut cfg = AuditConfig::new(file, SourceFormat::Ats);
    add_ats(&mut cfg, root, file, text)?;
    Ok(cfg)
}

fn add_ats(
    cfg: &mut AuditConfig,
    root: &Dictionary,
    file: &str,
    text: Option<&str>,
) -> Result<(), ImportError> {
    let lines = Lines::new(text, file);
    let ats = ats_root(root).ok_or_else(|| {
        ImportError::refused(
            Location::new(file, None),
            "ATS",
            "no NSAppTransportSecurity dictionary",
        )
    })?;
    let mut settings = AtsSettings::default();
    for key in [
        "NSAllowsArbitraryLoads",
        "NSAllowsArbitraryLoadsForMedia",
        "NSAllowsArbitraryLoadsInWebContent",
        "NSAllowsLocalNetworking",
    ] {
        let loc = lines.of_key(key);
        if bool_of(ats.get(key), key, &loc, "ATS")? == Some(true) {
            if key == "NSAllowsArbitraryLoads" {
                cfg.base.cleartext_permitted = Some(true);
                cfg.base_location = Some(loc.clone());
            }
            settings.global_exceptions.push((key.to_owned(), loc));
        }
    }
    if let Some(Value::Dictionary(ex)) = ats.get("NSExceptionDomains") {
        for (host, v) in ex {
            let loc = lines.of_key_in("NSExceptionDomains", host);
            let Value::Dictionary(e) = v else { continue };
            let b = |k: &str| bool_of(e.get(k), k, &loc, "ATS");
            let insecure = b("NSExceptionAllowsInsecureHTTPLoads")? == Some(true)
                || b("NSThirdPartyExceptionAllowsInsecureHTTPLoads")? == Some(true);
            let no_fs = b("NSExceptionRequiresForwardSecrecy")? == Some(false)
                || b("NSThirdPartyExceptionRequiresForwardSecrecy")? == Some(false);
            let min_tls = match e
                .get("NSExceptionMinimumTLSVersion")
                .or(e.get("NSThirdPartyExceptionMinimumTLSVersion"))
            {
                Some(Value::String(s)) => Some(s.clone()),
                _ => None,
            };
            settings.exception_domains.push(AtsException {
                host: host.trim().to_lowercase(),
                include_subdomains: b("NSIncludesSubdomains")?.unwrap_or(false),
                allows_insecure_http: insecure,
                minimum_tls: min_tls,
                no_forward_secrecy: no_fs,
                location: loc,
            });
        }
    }
    if let Some(v) = ats.get("NSPinnedDomains") {
        let loc = lines.of_key("NSPinnedDomains");
        let Value::Dictionary(domains) = v else {
            return Err(ImportError::refused(
                loc,
                "ATS",
                "NSPinnedDomains must be a dictionary",
            ));
        };
        for (host, v) in domains {
            let loc = lines.of_key_in("NSPinnedDomains", host);
            let Value::Dictionary(dc) = v else {
                return Err(ImportError::refused(
                    loc,
                    "ATS",
                    format!("the NSPinnedDomains entry for {host} must be a dictionary"),
                ));
            };
            let name = host.trim().to_lowercase();
            let mut d = DomainEntry::new(&name, SourceFormat::Ats, loc.clone());
            d.group = cfg.domains.len();
            d.include_subdomains = bool_of(
                dc.get("NSIncludesSubdomains"),
                "NSIncludesSubdomains",
                &loc,
                "ATS",
            )?
            .unwrap_or(false);
            for (key, scope) in [
                ("NSPinnedCAIdentities", PinScope::Ca),
                ("NSPinnedLeafIdentities", PinScope::Leaf),
            ] {
                let Some(list) = dc.get(key) else { continue };
                let Value::Array(items) = list else {
                    return Err(ImportError::refused(
                        loc,
                        "ATS",
                        format!("{key} must be an array"),
                    ));
                };
                for item in items {
                    let b64 = match item {
                        Value::Dictionary(i) => match i.get("SPKI-SHA256-BASE64") {
                            Some(Value::String(s)) => s.clone(),
                            // iOS refuses nothing at install: an identity
                            // without the (case-sensitive) key gives ATS no
                            // digest, so it can never match.
                            other => {
                                let found = i
                                    .keys()
                                    .map(|k| format!("{k:?}"))
                                    .collect::<Vec<_>>()
                                    .join(", ");
                                let why = match other {
                                    Some(_) => "its SPKI-SHA256-BASE64 is not a string".to_owned(),
                                    None if found.is_empty() => {
                                        "the identity dictionary has no SPKI-SHA256-BASE64 key"
                                            .to_owned()
                                    }
                                    None => format!(
                                        "the identity dictionary has no SPKI-SHA256-BASE64 key (keys are case-sensitive; it has {found})"
                                    ),
                                };
                                // The digest under a misspelt key, if any.
                                let text = i
                                    .values()
                                    .find_map(Value::as_string)
                                    .unwrap_or_default()
                                    .to_owned();
                                let loc = if text.is_empty() {
                                    loc.clone()
                                } else {
                                    lines.of_string_in("NSPinnedDomains", host, &text)
                                };
                                d.lenient_pins.push(LenientPin {
                                    text,
                                    decoder: "ATS's NSPinnedDomains reader",
                                    leniency: Vec::new(),
                                    decoded_len: 0,
                                    never_matches: Some(why),
                                    location: loc,
                                });
                                continue;
                            }
                        },
                        _ => {
                            return Err(ImportError::refused(
                                loc,
                                "ATS",
                                format!("{key} entries must be dictionaries"),
                            ));
                        }
                    };
                    // Apple documents no validation of the value: a text
                    // that does not decode to 32 bytes is a pin that can
                    // never match, not a refusal.
                    let ploc = lines.of_string_in("NSPinnedDomains", host, &b64);
                    let (entry, lenient) =
                        LenientPin::read_or_dead(Base64Dialect::Apple, &b64, scope, &ploc);
                    d.pins.extend(entry);
                    d.lenient_pins.extend(lenient);
                }
            }
            // Apple: "You must include this key or the NSPinnedCAIdentities
            // key or both"; iOS does not refuse the app without them, so a
            // domain with neither is an empty pin set (PIN-EMPTY-SET).
            d.has_pin_set = true;
            cfg.domains.push(d);
        }
    }
    cfg.ats = Some(settings);
    Ok(())
}

/// Imports an Info.plist that may hold TrustKit, ATS or both; `only` restricts
/// it to one of them.
pub(crate) fn import_plist(
    bytes: &[u8],
    file: &str,
    only: Option<SourceFormat>,
) -> Result<AuditConfig, ImportError> {
    let dict = parse_dictionary(bytes, file)?;
    let text = std::str::from_utf8(bytes)
        .ok()
        .filter(|t| t.contains("<plist"));
    let has_tk = trustkit_root(&dict).is_some();
    let has_ats = ats_root(&dict).is_some();
    match only {
        Some(SourceFormat::TrustKit) => import_trustkit(&dict, file, text),
        Some(SourceFormat::Ats) => import_ats(&dict, file, text),
        _ => {
            let info_plist = dict.keys().any(|k| k.starts_with("CFBundle"));
            if !has_tk && !has_ats && info_plist {
                // An app's Info.plist without ATS keys: ATS defaults, no pins.
                let mut cfg = AuditConfig::new(file, SourceFormat::Ats);
                cfg.ats = Some(AtsSettings::default());
                return Ok(cfg);
            }
            if !has_tk && !has_ats {
                return Err(ImportError::UnknownFormat {
                    file: file.to_owned(),
                    reason: "a dictionary without TSKConfiguration, TSKPinnedDomains or NSAppTransportSecurity".into(),
                });
            }
            let mut cfg = AuditConfig::new(
                file,
                if has_tk {
                    SourceFormat::TrustKit
                } else {
                    SourceFormat::Ats
                },
            );
            if has_tk {
                add_trustkit(&mut cfg, &dict, file, text)?;
            }
            if has_ats {
                add_ats(&mut cfg, &dict, file, text)?;
            }
            Ok(cfg)
        }
    }
}

/// Renders the pinned domains as a TrustKit configuration (an XML plist with
/// `TSKConfiguration`). Returns the plist and notes on what was lost.
pub(crate) fn export_trustkit(cfg: &AuditConfig) -> (String, Vec<String>) {
    let mut notes = Vec::new();
    let mut domains = Dictionary::new();
    for d in cfg.domains.iter().filter(|d| !d.pins.is_empty()) {
        let mut e = Dictionary::new();
        let (host, include) = match (d.host.strip_prefix("**."), d.host.strip_prefix("*.")) {
            (Some(r), _) => (r.to_owned(), true),
            (None, Some(r)) => {
                notes.push(format!("{}: TrustKit cannot express \"exactly one label\"; written as {r} with TSKIncludeSubdomains", d.host));
                (r.to_owned(), true)
            }
            _ => (d.host.clone(), d.include_subdomains),
        };
        e.insert(
            TSK_PUBLIC_KEY_HASHES.into(),
            Value::Array(
                d.distinct_pins()
                    .iter()
                    .map(|p| Value::String(p.base64()))
                    .collect(),
            ),
        );
        e.insert(TSK_INCLUDE_SUBDOMAINS.into(), Value::Boolean(include));
        e.insert(TSK_ENFORCE_PINNING.into(), Value::Boolean(d.enforce));
        if let Some(x) = &d.expiry {
            if x.zone == ExpiryZone::DeviceLocal {
                notes.push(format!(
                    "{host}: expiry {} was device-local (NSC); TrustKit reads it as UTC",
                    x.text
                ));
            }
            e.insert(
                TSK_EXPIRATION_DATE.into(),
                Value::String(x.at.date().to_string()),
            );
        }
        if !d.report_uris.is_empty() {
            e.insert(
                TSK_REPORT_URIS.into(),
                Value::Array(d.report_uris.iter().cloned().map(Value::String).collect()),
            );
        }
        e.insert(TSK_DISABLE_DEFAULT_REPORT_URI.into(), Value::Boolean(true));
        domains.insert(host, Value::Dictionary(e));
    }
    // A host with an explicit empty pin set under a pinned parent that
    // includes subdomains: TrustKit's exclusion says the same.
    let pinned_parent = |host: &str| {
        cfg.domains.iter().any(|p| {
            p.include_subdomains
                && !p.pins.is_empty()
                && host
                    .strip_suffix(p.host.as_str())
                    .is_some_and(|l| l.ends_with('.'))
        })
    };
    for d in cfg.domains.iter().filter(|d| {
        d.excluded_from_parent || (d.has_pin_set && d.pins.is_empty() && pinned_parent(&d.host))
    }) {
        let mut e = Dictionary::new();
        e.insert(
            TSK_EXCLUDE_SUBDOMAIN_FROM_PARENT_POLICY.into(),
            Value::Boolean(true),
        );
        domains.insert(d.host.clone(), Value::Dictionary(e));
    }
    let mut tk = Dictionary::new();
    tk.insert("TSKSwizzleNetworkDelegates".into(), Value::Boolean(false));
    tk.insert(TSK_PINNED_DOMAINS.into(), Value::Dictionary(domains));
    let mut root = Dictionary::new();
    root.insert("TSKConfiguration".into(), Value::Dictionary(tk));
    let mut buf = Vec::new();
    Value::Dictionary(root)
        .to_writer_xml(&mut buf)
        .expect("writing to memory");
    let mut s = String::from_utf8(buf).expect("plist XML is UTF-8");
    s.push('\n');
    (s, notes)
}

#[cfg(test)]
mod tests {
    use super::Lines;

    /// A plist with one domain listing `n` strings after its key, each on
    /// its own line (line 3 + i), and a second domain repeating one of them.
    fn plist(n: usize) -> String {
        let mut s = String::from("<dict>\n<key>TSKPinnedDomains</key>\n<key>a.example</key>\n");
        for i in 0..n {
            s.push_str(&format!("<string>pin{i}</string>\n"));
        }
        s.push_str("<key>b.example</key>\n<string>pin5</string>\n</dict>\n");
        s
    }

    #[test]
    fn pins_are_located_near_their_key_and_past_the_scan_window() {
        let text = plist(200);
        let lines = Lines::new(Some(&text), "f.plist");
        let line = |host: &str, pin: &str| lines.of_string_in("TSKPinnedDomains", host, pin).line;
        assert_eq!(line("a.example", "pin0"), Some(4));
        // Past the first STRING_SCAN strings: found through the index.
        assert_eq!(line("a.example", "pin150"), Some(154));
        // The same text under a later key is that key's occurrence.
        assert_eq!(line("b.example", "pin5"), Some(205));
        // Not written as such (e.g. entity-escaped): the key's line.
        assert_eq!(line("a.example", "absent"), Some(3));
        assert_eq!(
            lines.of_key_in("TSKPinnedDomains", "b.example").line,
            Some(204)
        );
    }
}
