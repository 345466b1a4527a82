//! Host names and host patterns, and how a connection's host finds its rule.
//!
//! Three pinning systems disagree on subdomains (OkHttp `*`/`**`, NSC and
//! TrustKit `includeSubdomains`), and two historic bugs show what goes wrong:
//! OkHttp once matched `*.foo.com` against `bar.foo.com.notfoo.com`
//! (okhttp#3324), and string-suffix checks match `evil-example.com` against
//! `example.com`. Everything here therefore works on whole labels of the
//! normalised ASCII (IDNA/punycode) form of a name: lowercase, no trailing dot.

use core::fmt;
use std::net::IpAddr;

/// A host a connection is made to: a DNS name in ASCII form or an IP address.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Host {
    /// A DNS name, lowercase ASCII (IDNs in punycode), without trailing dot.
    Dns(String),
    /// An IPv4 or IPv6 address.
    Ip(IpAddr),
}

/// Why a host name or pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// Empty host.
    #[error("host is empty")]
    Empty,
    /// A URL was given where a host name belongs.
    #[error("{0:?} is a URL; give the bare host name (e.g. \"api.example.com\")")]
    Url(String),
    /// The host carries a port.
    #[error("{0:?} carries a port; pins apply to a host on every port, give the bare host")]
    Port(String),
    /// The host carries a path, query or user info.
    #[error("{0:?} carries a path or other URL parts; give the bare host")]
    Path(String),
    /// The name is not a valid DNS name (after IDNA processing).
    #[error("{0:?} is not a valid host name")]
    Invalid(String),
    /// A wildcard appears anywhere but as the whole leftmost label.
    #[error("{0:?}: a wildcard must be the whole leftmost label (\"*.\" or \"**.\")")]
    Wildcard(String),
    /// The name ends in a number (all digits, or `0x` hex) but is not an IP
    /// address: URL parsers read such names as IPv4 (`127.1`, `0x7f.1`),
    /// rustls refuses them as DNS names. Refused rather than guessed.
    #[error("{0:?} ends in a number but is not an IP address; it is ambiguous and refused")]
    AmbiguousNumeric(String),
    /// A wildcard pattern was used with an IP address.
    #[error("{0:?}: IP addresses cannot have wildcards or subdomains")]
    IpWildcard(String),
}

impl Host {
    /// Normalises a host as it arrives from a connection (SNI, URL host).
    /// A bracketed IPv6 literal (`[::1]`) is accepted here since URLs carry them.
    pub fn parse(input: &str) -> Result<Self, HostError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(HostError::Empty);
        }
        // A name already in canonical form (the usual case) needs no IDNA
        // processing; it cannot be an IP literal either.
        if let Some(name) = canonical_ldh(s) {
            return Ok(Self::Dns(name.to_owned()));
        }
        let unbracketed = s
            .strip_prefix('[')
            .and_then(|r| r.strip_suffix(']'))
            .unwrap_or(s);
        if let Ok(ip) = unbracketed.parse::<IpAddr>() {
            return Ok(Self::Ip(ip.to_canonical()));
        }
        canonical(s)
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Dns(d) => f.write_str(d),
            Self::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

fn reject_url_parts(s: &str) -> Result<(), HostError> {
    if s.contains("://") {
        return Err(HostError::Url(s.to_owned()));
    }
    if s.contains(['/', '?', '#', '@']) {
        return Err(HostError::Path(s.to_owned()));
    }
    if s.contains(':') {
        return Err(HostError::Port(s.to_owned()));
    }
    Ok(())
}

/// The canonical form of a host that is not a plain IP literal: IDNA
/// (UTS 46) to ASCII first, which lowercases and folds width (fullwidth
/// digits, `。` and `．` become ASCII), then one trailing dot dropped; only
/// then is IP versus DNS decided, so `192.0.2.1.` and `１９２.０.２.１` are the
/// IP address 192.0.2.1. A name whose last label is a number but that is no
/// address (`127.1`, `0x7f.1`, `a.123`) is refused as ambiguous, as rustls
/// refuses it as a DNS name.
fn canonical(s: &str) -> Result<Host, HostError> {
    reject_url_parts(s)?;
    let ascii = idna::domain_to_ascii_strict(s)
        .or_else(|_| idna::domain_to_ascii(s))
        .map_err(|_| HostError::Invalid(s.to_owned()))?;
    let ascii = match ascii.strip_suffix('.') {
        Some(t) => t.to_owned(),
        None => ascii,
    };
    if ascii.is_empty() {
        return Err(HostError::Empty);
    }
    if let Ok(ip) = ascii.parse::<IpAddr>() {
        return Ok(Host::Ip(ip.to_canonical()));
    }
    if ends_in_number(&ascii) {
        return Err(HostError::AmbiguousNumeric(s.to_owned()));
    }
    normalize_dns(&ascii, s).map(Host::Dns)
}

/// `s` when it is already what [`canonical`] would make of it, without
/// running IDNA: lowercase letters, digits and inner hyphens only, labels of
/// 1 to 63 bytes, 253 bytes at most, no trailing dot, no `--` anywhere (which
/// leaves `xn--` labels and UTS 46's hyphen rules to IDNA), and a last label
/// that is not a number (so no IPv4 literal or ambiguous numeric name; an IPv6
/// literal has a `:`). UTS 46 maps such a name to itself and accepts it in
/// strict mode, so [`canonical`] returns it unchanged: the test
/// `canonical_ldh_agrees_with_idna` checks that on generated names. Anything
/// else takes the full path.
fn canonical_ldh(s: &str) -> Option<&str> {
    let ldh_label = |l: &[u8]| {
        !l.is_empty()
            && l.len() <= 63
            && l[0] != b'-'
            && l[l.len() - 1] != b'-'
            && l.iter()
                .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.windows(2).any(|w| w == b"--")
    };
    (!s.is_empty()
        && s.len() <= 253
        && s.as_bytes().split(|&b| b == b'.').all(ldh_label)
        && !ends_in_number(s))
    .then_some(s)
}

/// The WHATWG URL "ends in a number" test: the last label is all decimal
/// digits or `0x` followed by hex digits.
fn ends_in_number(ascii: &str) -> bool {
    let last = ascii.rsplit('.').next().unwrap_or("");
    let hex = last.strip_prefix("0x").or_else(|| last.strip_prefix("0X"));
    match hex {
        Some(h) => h.bytes().all(|b| b.is_ascii_hexdigit()),
        None => !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()),
    }
}

/// Checks the labels of an IDNA-processed name (`ascii`, no trailing dot):
/// 1 to 63 letters, digits, `-` or `_`, not starting or ending with `-`,
/// 253 bytes at most (the names rustls accepts). `input` names it in errors.
fn normalize_dns(ascii: &str, input: &str) -> Result<String, HostError> {
    let bad_label = |l: &str| {
        l.is_empty()
            || l.len() > 63
            || l.starts_with('-')
            || l.ends_with('-')
            || !l
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if ascii.is_empty() || ascii.len() > 253 || ascii.split('.').any(bad_label) {
        return Err(HostError::Invalid(input.to_owned()));
    }
    Ok(ascii.to_owned())
}

/// Which names a rule covers.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HostPattern {
    /// Exactly this host.
    Exact(Host),
    /// `*.suffix`: exactly one more label in front of `suffix`.
    OneLabel(String),
    /// `**.suffix` (or `suffix` with `include_subdomains`): `suffix` itself
    /// and any number of labels in front of it.
    AnyLabels(String),
}

impl HostPattern {
    /// Parses a rule's host (`api.example.com`, `*.example.com`,
    /// `**.example.com`, an IP address) together with `include_subdomains`.
    pub fn parse(host: &str, include_subdomains: bool) -> Result<Self, HostError> {
        let s = host.trim();
        if s.is_empty() {
            return Err(HostError::Empty);
        }
        reject_url_parts_pattern(s)?;
        if s.starts_with('[') {
            return Err(HostError::Invalid(s.to_owned()));
        }
        if let Ok(ip) = s.parse::<IpAddr>() {
            if include_subdomains {
                return Err(HostError::IpWildcard(s.to_owned()));
            }
            return Ok(Self::Exact(Host::Ip(ip.to_canonical())));
        }
        let (kind, rest) = if let Some(rest) = s.strip_prefix("**.") {
            (2, rest)
        } else if let Some(rest) = s.strip_prefix("*.") {
            (1, rest)
        } else {
            (0, s)
        };
        if rest.contains('*') {
            return Err(HostError::Wildcard(s.to_owned()));
        }
        let base = match canonical(rest)? {
            Host::Ip(ip) if kind == 0 && !include_subdomains => {
                return Ok(Self::Exact(Host::Ip(ip)));
            }
            Host::Ip(_) => return Err(HostError::IpWildcard(s.to_owned())),
            Host::Dns(d) => d,
        };
        Ok(match (kind, include_subdomains) {
            (0, false) => Self::Exact(Host::Dns(base)),
            (0, true) | (2, _) => Self::AnyLabels(base),
            (1, false) => Self::OneLabel(base),
            // `*.x` with include_subdomains: one or more labels. Treat as `**.`
            // minus the bare name: express it as the wider pattern would be
            // surprising, so refuse the combination.
            _ => return Err(HostError::Wildcard(s.to_owned())),
        })
    }

    /// Whether `host` is covered. Matching is on whole labels only.
    pub fn matches(&self, host: &Host) -> bool {
        match (self, host) {
            (Self::Exact(h), other) => h == other,
            (Self::OneLabel(base), Host::Dns(name)) => {
                strip_label_suffix(name, base).is_some_and(|prefix| !prefix.contains('.'))
            }
            (Self::AnyLabels(base), Host::Dns(name)) => {
                name == base || strip_label_suffix(name, base).is_some()
            }
            _ => false,
        }
    }

    /// The base name (or address) of the pattern.
    pub fn base(&self) -> String {
        match self {
            Self::Exact(h) => h.to_string(),
            Self::OneLabel(b) | Self::AnyLabels(b) => b.clone(),
        }
    }

    /// How specific a match is: higher wins. Exact beats any wildcard; among
    /// wildcards a longer base (more labels) wins; `*.` beats `**.` on the
    /// same base since it covers less.
    pub fn specificity(&self) -> (u8, usize, u8) {
        match self {
            Self::Exact(_) => (1, 0, 0),
            Self::OneLabel(b) => (0, b.split('.').count(), 1),
            Self::AnyLabels(b) => (0, b.split('.').count(), 0),
        }
    }

    /// Whether the pattern extends to names other than its base.
    pub fn covers_subdomains(&self) -> bool {
        !matches!(self, Self::Exact(_))
    }
}

fn reject_url_parts_pattern(s: &str) -> Result<(), HostError> {
    if s.parse::<IpAddr>().is_ok() {
        return Ok(());
    }
    reject_url_parts(s)
}

/// If `name` ends with `.base` at a label boundary, the part in front.
fn strip_label_suffix<'a>(name: &'a str, base: &str) -> Option<&'a str> {
    let prefix = name.strip_suffix(base)?.strip_suffix('.')?;
    (!prefix.is_empty()).then_some(prefix)
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exact(h) => write!(f, "{h}"),
            Self::OneLabel(b) => write!(f, "*.{b}"),
            Self::AnyLabels(b) => write!(f, "**.{b}"),
        }
    }
}

/// The bundled list as `build.rs` packed it (deflate).
const PACKED_LIST: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/public_suffix_list.dat.deflate"));

/// The most bytes the packed list may unpack to (the text is about 150 KB).
const LIST_MAX_BYTES: usize = 1 << 20;

/// The bundled list's text, unpacked.
fn unpacked_list() -> String {
    let bytes = miniz_oxide::inflate::decompress_to_vec_with_limit(PACKED_LIST, LIST_MAX_BYTES)
        .expect("the bundled public suffix list unpacks (tested)");
    String::from_utf8(bytes).expect("the bundled public suffix list is UTF-8 (tested)")
}

/// The Public Suffix List, read once from the rules bundled as data.
///
/// The list is data rather than code on purpose: `psl` compiles the same rules
/// into a match tree of about 660 KB, a quarter of the mobile library, where
/// the text is 150 KB, 45 KB packed, and `publicsuffix`'s reader a few KB
/// (README, "Size and start-up figures"). It is unpacked and parsed on first
/// use (policy validation, strict mode), with each internationalised rule also
/// in its punycode form, as [`Host`] normalises names.
fn public_suffixes() -> &'static publicsuffix::List {
    static LIST: std::sync::LazyLock<publicsuffix::List> = std::sync::LazyLock::new(|| {
        unpacked_list()
            .parse()
            .expect("the bundled public suffix list parses (tested)")
    });
    &LIST
}

/// Whether `name` (ASCII, normalised) is itself a public suffix such as `com`,
/// `co.uk` or `github.io`, per the bundled Public Suffix List.
pub(crate) fn is_public_suffix(name: &str) -> bool {
    use publicsuffix::Psl;
    match public_suffixes().suffix(name.as_bytes()) {
        Some(suffix) => suffix.as_bytes() == name.as_bytes(),
        None => true,
    }
}

/// Whether `tld` (one ASCII label, lower case) is a top-level domain the
/// bundled list names (not only the list's implicit `*` rule).
#[cfg(feature = "audit")]
pub(crate) fn is_listed_tld(tld: &str) -> bool {
    use publicsuffix::Psl;
    public_suffixes()
        .suffix(tld.as_bytes())
        .is_some_and(|s| s.is_known() && s.as_bytes() == tld.as_bytes())
}

/// Whether the bundled list has a rule for `name`'s suffix (not only the
/// implicit `*` rule): `localhost`, `api.internal` and IP addresses have none.
#[cfg(feature = "audit")]
pub(crate) fn has_known_suffix(name: &str) -> bool {
    use publicsuffix::Psl;
    public_suffixes()
        .suffix(name.as_bytes())
        .is_some_and(|s| s.is_known())
}

/// Whether `name` (ASCII, normalised) is a registrable domain: one label in
/// front of a public suffix (`example.com`, `example.co.uk`).
#[cfg(feature = "audit")]
pub(crate) fn is_registrable_domain(name: &str) -> bool {
    use publicsuffix::Psl;
    public_suffixes()
        .domain(name.as_bytes())
        .is_some_and(|d| d.as_bytes() == name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Host {
        Host::parse(s).unwrap()
    }
    fn p(s: &str) -> HostPattern {
        HostPattern::parse(s, false).unwrap()
    }

    #[test]
    fn normalises_hosts() {
        assert_eq!(h("API.Example.COM."), Host::Dns("api.example.com".into()));
        assert_eq!(
            h("bücher.example"),
            Host::Dns("xn--bcher-kva.example".into())
        );
        assert_eq!(h("[::1]"), Host::Ip("::1".parse().unwrap()));
        assert_eq!(h("192.0.2.1"), Host::Ip("192.0.2.1".parse().unwrap()));
        // An IPv4-mapped IPv6 address is that IPv4 address (as OkHttp reads
        // it): before, `::ffff:192.0.2.1` missed the rule for 192.0.2.1.
        assert_eq!(h("::ffff:192.0.2.1"), h("192.0.2.1"));
        assert_eq!(h("[::ffff:c000:201]"), h("192.0.2.1"));
        assert_eq!(
            HostPattern::parse("::ffff:192.0.2.1", false).unwrap(),
            HostPattern::parse("192.0.2.1", false).unwrap()
        );
        assert!(matches!(
            Host::parse("https://a.com"),
            Err(HostError::Url(_))
        ));
        assert!(matches!(Host::parse("a.com:443"), Err(HostError::Port(_))));
        assert!(matches!(Host::parse("a.com/x"), Err(HostError::Path(_))));
        assert!(matches!(Host::parse("a..com"), Err(HostError::Invalid(_))));
        assert!(matches!(Host::parse(""), Err(HostError::Empty)));
    }

    proptest::proptest! {
        // The fast path of `Host::parse` is exactly the IDNA path on the names
        // it takes: same result, and never an IP literal. Labels are drawn
        // from the characters where the two could disagree (case, `-`, `_`,
        // digits, `x`/`n` for `xn--`, empty labels, hex numbers).
        #[test]
        fn canonical_ldh_agrees_with_idna(
            labels in proptest::collection::vec("[a-z0-9-]{1,10}|[a-zA-Z0-9xn_-]{0,8}|xn--[a-z0-9-]{0,6}|0x[0-9a-f]{1,3}|[0-9]{1,3}", 1..6)
        ) {
            let s = labels.join(".");
            if let Some(fast) = canonical_ldh(&s) {
                proptest::prop_assert!(s.parse::<IpAddr>().is_err());
                proptest::prop_assert_eq!(canonical(&s), Ok(Host::Dns(fast.to_owned())));
            }
        }
    }

    #[test]
    fn canonical_ldh_leaves_the_hard_cases_to_idna() {
        for s in [
            "API.example.com",
            "xn--bcher-kva.example",
            "a--b.example",
            "a.com.",
            "a..com",
            "-a.com",
            "a_b.com",
            "127.0.0.1",
            "a.123",
            "a.0x7f",
            "",
        ] {
            assert_eq!(canonical_ldh(s), None, "{s}");
        }
        assert_eq!(canonical_ldh("api.example.com"), Some("api.example.com"));
        assert_eq!(canonical_ldh("1.a-b.c0"), Some("1.a-b.c0"));
        let long = format!("{}.com", "a".repeat(64));
        assert_eq!(canonical_ldh(&long), None);
    }

    // The OkHttp CertificatePinnerTest host matrix, as facts.
    #[test]
    fn okhttp_wildcard_matrix() {
        let one = p("*.example.com");
        assert!(one.matches(&h("a.example.com")));
        assert!(!one.matches(&h("example.com")));
        assert!(!one.matches(&h("a.b.example.com")));
        let any = p("**.example.com");
        assert!(any.matches(&h("example.com")));
        assert!(any.matches(&h("a.example.com")));
        assert!(any.matches(&h("a.b.example.com")));
        let uk = p("**.example.co.uk");
        assert!(!uk.matches(&h("co.uk")));
        assert!(!uk.matches(&h("anotherexample.co.uk")));
        assert!(uk.matches(&h("www.example.co.uk")));
        // okhttp#3324
        assert!(!one.matches(&h("bar.example.com.notexample.com")));
        assert!(!p("example.com").matches(&h("evil-example.com")));
        assert!(!any.matches(&h("evil-example.com")));
    }

    #[test]
    fn include_subdomains_equals_double_star() {
        assert_eq!(
            HostPattern::parse("example.com", true).unwrap(),
            p("**.example.com")
        );
    }

    #[test]
    fn refuses_bad_patterns() {
        assert!(matches!(
            HostPattern::parse("a.*.com", false),
            Err(HostError::Wildcard(_))
        ));
        assert!(matches!(
            HostPattern::parse("*a.com", false),
            Err(HostError::Wildcard(_))
        ));
        assert!(matches!(
            HostPattern::parse("10.0.0.1", true),
            Err(HostError::IpWildcard(_))
        ));
        assert!(matches!(
            HostPattern::parse("*.10.0.0.1", false),
            Err(HostError::IpWildcard(_))
        ));
        assert!(matches!(
            HostPattern::parse("https://api.example.com/", false),
            Err(HostError::Url(_))
        ));
    }

    #[test]
    fn public_suffixes_of_the_list() {
        assert!(is_public_suffix("com"));
        assert!(is_public_suffix("co.uk"));
        assert!(!is_public_suffix("example.com"));
        assert!(!is_public_suffix("example.co.uk"));
        // Private rules count too.
        assert!(is_public_suffix("github.io"));
        // Wildcard and exception rules (`*.ck`, `!www.ck`, `*.kawasaki.jp`, `!city.kawasaki.jp`).
        assert!(is_public_suffix("anything.ck"));
        assert!(!is_public_suffix("www.ck"));
        assert!(is_public_suffix("anything.kawasaki.jp"));
        assert!(!is_public_suffix("city.kawasaki.jp"));
        // An internationalised rule (公司.cn) in the punycode form `Host` gives.
        assert!(is_public_suffix("xn--55qx5d.cn"));
        assert!(!is_public_suffix("xn--85x722f.xn--55qx5d.cn"));
        // A TLD the list does not name: the implicit `*` rule.
        assert!(is_public_suffix("mamori-unlisted"));
        assert!(!is_public_suffix("example.mamori-unlisted"));
    }

    #[cfg(feature = "audit")]
    #[test]
    fn registrable_domains_of_the_list() {
        assert!(is_registrable_domain("example.com"));
        assert!(is_registrable_domain("example.co.uk"));
        assert!(is_registrable_domain("www.ck"));
        assert!(!is_registrable_domain("api.example.com"));
        assert!(!is_registrable_domain("co.uk"));
        assert!(!is_registrable_domain("anything.kawasaki.jp"));
    }

    #[test]
    fn the_packed_list_unpacks_to_the_text() {
        assert_eq!(unpacked_list(), include_str!("public_suffix_list.dat"));
        assert!(PACKED_LIST.len() * 3 < include_str!("public_suffix_list.dat").len());
    }

    /// Every rule of the bundled list, and names one and two labels below it,
    /// get the answers of `psl`, which compiled the same list into code (the
    /// reference the data replaced in the library; pinned to the list's version).
    #[test]
    fn the_bundled_list_answers_as_the_psl_crate() {
        let reference_suffix = |n: &str| match psl::suffix(n.as_bytes()) {
            Some(s) => s.as_bytes() == n.as_bytes(),
            None => true,
        };
        let mut names = 0;
        let mut differ = Vec::new();
        let rules = include_str!("public_suffix_list.dat")
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with("//"));
        for rule in rules {
            let base = rule.trim_start_matches('!').trim_start_matches("*.");
            let Ok(Host::Dns(base)) = Host::parse(base) else {
                panic!("rule {rule:?} is no host name");
            };
            for name in [base.clone(), format!("m.{base}"), format!("a.m.{base}")] {
                names += 1;
                if is_public_suffix(&name) != reference_suffix(&name) {
                    differ.push(format!("{name} (suffix)"));
                }
                #[cfg(feature = "audit")]
                if is_registrable_domain(&name) != (psl::domain_str(&name) == Some(name.as_str())) {
                    differ.push(format!("{name} (registrable)"));
                }
            }
        }
        assert!(names > 30_000, "{names} names");
        assert!(
            differ.is_empty(),
            "{} of {names} names differ from psl (is the list the pinned psl's?): {:?}",
            differ.len(),
            &differ[..differ.len().min(20)]
        );
    }
}
