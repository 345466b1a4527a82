//! `Host::parse` against rustls' `ServerName::try_from` (issue 9, item 5).
//!
//! A pin rule for an IP address must apply whenever rustls (and so webpki)
//! treats the connection's host as that IP address, and a host Mamori calls
//! a DNS name must be a DNS name to rustls too. Spellings such as a trailing
//! dot or fullwidth digits once parsed as DNS names, so no IP rule applied
//! while webpki checked the IP certificate: the pin was skipped.

use std::net::IpAddr;

use mamori::pinning::{Host, HostError, HostPattern};
use proptest::prelude::*;
use rustls_pki_types::ServerName;

fn ip(s: &str) -> Host {
    Host::Ip(s.parse().unwrap())
}

#[test]
fn ip_spellings_are_ip_addresses() {
    for s in [
        "192.0.2.1",
        "192.0.2.1.",
        "\u{ff11}\u{ff19}\u{ff12}.\u{ff10}.\u{ff12}.\u{ff11}", // fullwidth digits
        "192\u{3002}0\u{3002}2\u{3002}1",                      // ideographic full stops
        "\u{ff11}92.0.2.1\u{ff0e}",                            // fullwidth digit and dot
    ] {
        assert_eq!(Host::parse(s), Ok(ip("192.0.2.1")), "{s:?}");
    }
    // A rule written with a trailing dot is the same IP rule.
    assert_eq!(
        HostPattern::parse("192.0.2.1.", false),
        Ok(HostPattern::Exact(ip("192.0.2.1")))
    );
    assert!(matches!(
        HostPattern::parse("192.0.2.1.", true),
        Err(HostError::IpWildcard(_))
    ));
}

#[test]
fn numeric_forms_that_are_not_addresses_are_refused() {
    // WHATWG URL parsers read these as IPv4 addresses; rustls refuses them
    // as DNS names. Mamori refuses them rather than guess.
    for s in [
        "127.1",
        "0x7f.0.0.1",
        "0177.0.0.1",
        "1.2.3.4.5",
        "example.123",
        "example.0x1f",
        "\u{ff11}27.1",
    ] {
        assert!(
            matches!(Host::parse(s), Err(HostError::AmbiguousNumeric(_))),
            "{s:?}: {:?}",
            Host::parse(s)
        );
        assert!(HostPattern::parse(s, false).is_err(), "{s:?}");
    }
    // Numeric labels before the last are ordinary DNS names.
    assert_eq!(
        Host::parse("123.example.com"),
        Ok(Host::Dns("123.example.com".into()))
    );
}

/// The differential property: see the module comment.
fn check(s: &str) -> Result<(), TestCaseError> {
    let ours = Host::parse(s);
    match ServerName::try_from(s) {
        Ok(ServerName::IpAddress(a)) => {
            // Mamori reads an IPv4-mapped IPv6 address as the IPv4 address.
            let a: IpAddr = IpAddr::from(a).to_canonical();
            prop_assert_eq!(&ours, &Ok(Host::Ip(a)), "rustls: IP {}", a);
        }
        Ok(ServerName::DnsName(d)) => {
            if let Ok(h) = &ours {
                prop_assert_eq!(h, &Host::Dns(d.as_ref().to_ascii_lowercase()));
            }
        }
        _ => {}
    }
    if let Ok(Host::Dns(name)) = &ours {
        let theirs = ServerName::try_from(name.as_str());
        prop_assert!(
            matches!(theirs, Ok(ServerName::DnsName(_))),
            "{:?} is a DNS name to Mamori but {:?} to rustls",
            name,
            theirs
        );
    }
    Ok(())
}

const PIECES: &[&str] = &[
    "0",
    "1",
    "9",
    "00",
    "01",
    "127",
    "192",
    "255",
    "256",
    "4294967295",
    "0x",
    "0x7f",
    "x",
    "a",
    "f",
    "z",
    "ex",
    "-",
    "_",
    ".",
    ".",
    ".",
    ":",
    "::",
    "[",
    "]",
    "\u{3002}",
    "\u{ff0e}",
    "\u{ff10}",
    "\u{ff11}",
    "\u{ff19}",
    "\u{ff41}",
    "\u{ff1a}",
    "xn--",
    "\u{fc}",
    "A",
    "e5",
    " ",
];

fn host_string() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(prop::sample::select(PIECES), 1..12).prop_map(|v| v.concat()),
        (
            prop::collection::vec(0u16..300, 1..6),
            prop::bool::ANY,
            prop::bool::ANY
        )
            .prop_map(|(n, dot, wide)| {
                let mut s = n.iter().map(u16::to_string).collect::<Vec<_>>().join(".");
                if dot {
                    s.push('.');
                }
                if wide {
                    s = s
                        .chars()
                        .map(|c| match c {
                            '0'..='9' => char::from_u32(c as u32 - '0' as u32 + 0xff10).unwrap(),
                            c => c,
                        })
                        .collect();
                }
                s
            }),
        "[0-9a-fx.:\\-_\u{3002}\u{ff10}-\u{ff19}]{1,24}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]
    #[test]
    fn host_parse_agrees_with_rustls(s in host_string()) {
        check(&s)?;
    }
}

#[test]
fn differential_regressions() {
    for s in [
        "192.0.2.1.",
        "1.1",
        "a.b",
        "::1",
        "0",
        "_.a",
        "a-.b",
        "A.COM.",
    ] {
        check(s).unwrap();
    }
}
