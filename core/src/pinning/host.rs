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
        let unbracketed = s
            .strip_prefix('[')
            .and_then(|r| r.strip_suffix(']'))
            .unwrap_or(s);
        if let Ok(ip) = unbracketed.parse::<IpAddr>() {
            return Ok(Self::Ip(ip));
        }
        Ok(Self::Dns(normalize_dns(s)?))
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

/// Lowercase, drop one trailing dot, IDNA (UTS 46) to ASCII, check labels.
fn normalize_dns(s: &str) -> Result<String, HostError> {
    reject_url_parts(s)?;
    let trimmed = s.strip_suffix('.').unwrap_or(s);
    if trimmed.is_empty() {
        return Err(HostError::Empty);
    }
    let ascii = idna::domain_to_ascii_strict(trimmed)
        .or_else(|_| idna::domain_to_ascii(trimmed))
        .map_err(|_| HostError::Invalid(s.to_owned()))?;
    if ascii.is_empty()
        || ascii.len() > 253
        || ascii.split('.').any(|l| {
            l.is_empty()
                || l.len() > 63
                || !l
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
    {
        return Err(HostError::Invalid(s.to_owned()));
    }
    Ok(ascii)
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
            return Ok(Self::Exact(Host::Ip(ip)));
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
        if kind != 0 && rest.parse::<IpAddr>().is_ok() {
            return Err(HostError::IpWildcard(s.to_owned()));
        }
        let base = normalize_dns(rest)?;
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

/// Whether `name` (ASCII, normalised) is itself a public suffix such as `com`,
/// `co.uk` or `github.io`, per the Public Suffix List compiled into `psl`.
pub(crate) fn is_public_suffix(name: &str) -> bool {
    match psl::suffix(name.as_bytes()) {
        Some(suffix) => suffix.as_bytes() == name.as_bytes(),
        None => true,
    }
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
        assert!(matches!(
            Host::parse("https://a.com"),
            Err(HostError::Url(_))
        ));
        assert!(matches!(Host::parse("a.com:443"), Err(HostError::Port(_))));
        assert!(matches!(Host::parse("a.com/x"), Err(HostError::Path(_))));
        assert!(matches!(Host::parse("a..com"), Err(HostError::Invalid(_))));
        assert!(matches!(Host::parse(""), Err(HostError::Empty)));
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
    fn public_suffixes() {
        assert!(is_public_suffix("com"));
        assert!(is_public_suffix("co.uk"));
        assert!(!is_public_suffix("example.com"));
        assert!(!is_public_suffix("example.co.uk"));
    }
}
