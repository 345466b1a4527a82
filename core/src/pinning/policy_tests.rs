//! Policy loading and validation, as facts.

use super::host::Host;
use super::policy::*;

const A: &str = "sha256/r/mIkG3eEpVdm+u/ko/cwxzOMo1bk4TyHIlByibiA5E=";
const B: &str = "sha256/YLh1dUR9y6Kja30RrAn7JKnbQG/uEtLMkBgFF2Fuihg=";

fn err(text: &str) -> PolicyError {
    PinPolicy::from_toml(text).expect_err("policy should be refused")
}

fn kinds(e: &PolicyError) -> Vec<&ProblemKind> {
    e.problems.iter().map(|p| &p.kind).collect()
}

#[test]
fn minimal_schema_loads() {
    let p = PinPolicy::from_toml(&format!(
        r#"
[[domain]]
host = "api.example.com"
include_subdomains = false
pins = ["{A}", "{B}"]
expires = "2027-06-30"
report_only = false
"#
    ))
    .unwrap();
    assert_eq!(p.domains().len(), 1);
    assert_eq!(p.domains()[0].pins().len(), 2);
    assert!(p.trust().mozilla_roots());
    assert_eq!(p.domains()[0].on_expiry(), ExpiryMode::FailOpen);
    let exp = p.domains()[0].expires().unwrap();
    assert_eq!(exp.unix_timestamp(), 1_814_313_600); // 2027-06-30T00:00:00Z
}

#[test]
fn json_is_equivalent() {
    let t = PinPolicy::from_toml(&format!(
        "[[domain]]\nhost = \"a.example.com\"\npins = [\"{A}\", \"{B}\"]\n"
    ))
    .unwrap();
    let j = PinPolicy::from_json(&format!(
        r#"{{"domain": [{{"host": "a.example.com", "pins": ["{A}", "{B}"]}}]}}"#
    ))
    .unwrap();
    assert_eq!(t, j);
}

#[test]
fn errors_name_domain_and_field_and_are_all_listed() {
    let e = err(&format!(
        r#"
[[domain]]
host = "https://api.example.com/v1"
pins = ["{A}", "{B}"]

[[domain]]
host = "pay.example.com"
pins = ["sha1/AAAAAAAAAAAAAAAAAAAAAAAAAAA=", "{A}"]

[[domain]]
host = "one.example.com"
pins = ["{A}"]
"#
    ));
    assert_eq!(e.problems.len(), 4, "{e}");
    assert_eq!(
        e.problems[0].domain.as_deref(),
        Some("https://api.example.com/v1")
    );
    assert_eq!(e.problems[0].field.as_deref(), Some("host"));
    assert!(matches!(e.problems[1].kind, ProblemKind::Pin { .. }));
    assert_eq!(e.problems[1].field.as_deref(), Some("pins"));
    assert!(matches!(e.problems[2].kind, ProblemKind::NoBackupPin(1)));
    assert_eq!(e.problems[3].domain.as_deref(), Some("one.example.com"));
    assert!(matches!(e.problems[3].kind, ProblemKind::NoBackupPin(1)));
    let text = e.to_string();
    assert!(text.contains("sha1/"), "{text}");
    assert!(text.contains("<inline>"), "{text}");
}

#[test]
fn refuses_short_pins_ports_duplicates_and_public_suffixes() {
    let e = err(&format!(
        r#"
[[domain]]
host = "a.example.com:8443"
pins = ["{A}", "{B}"]

[[domain]]
host = "b.example.com"
pins = ["sha256/AAAA", "{B}"]

[[domain]]
host = "B.Example.com."
pins = ["{A}", "{B}"]

[[domain]]
host = "co.uk"
include_subdomains = true
pins = ["{A}", "{B}"]

[[domain]]
host = "*.com"
pins = ["{A}", "{B}"]
"#
    ));
    let k = kinds(&e);
    assert!(
        matches!(k[0], ProblemKind::Host(super::HostError::Port(_))),
        "{e}"
    );
    assert!(
        matches!(
            k[1],
            ProblemKind::Pin {
                error: super::PinParseError::Length(3),
                ..
            }
        ),
        "{e}"
    );
    assert!(matches!(k[2], ProblemKind::NoBackupPin(1)), "{e}");
    assert!(matches!(k[3], ProblemKind::DuplicateDomain(_, 1)), "{e}");
    assert!(matches!(k[4], ProblemKind::PublicSuffix(_)), "{e}");
    assert_eq!(e.problems[4].field.as_deref(), Some("include_subdomains"));
    assert!(matches!(k[5], ProblemKind::PublicSuffix(_)), "{e}");
    assert_eq!(k.len(), 6, "{e}");
}

#[test]
fn report_only_may_have_one_pin_but_not_zero() {
    PinPolicy::from_toml(&format!(
        "[[domain]]\nhost = \"a.example.com\"\nreport_only = true\npins = [\"{A}\"]\n"
    ))
    .unwrap();
    let e = err("[[domain]]\nhost = \"a.example.com\"\nreport_only = true\npins = []\n");
    assert!(matches!(kinds(&e)[0], ProblemKind::NoPins));
}

#[test]
fn same_pin_twice_is_not_a_backup() {
    let e = err(&format!(
        "[[domain]]\nhost = \"a.example.com\"\npins = [\"{A}\", \"{A}\"]\n"
    ));
    let k = kinds(&e);
    assert!(matches!(k[0], ProblemKind::DuplicatePin(_)));
    assert!(matches!(k[1], ProblemKind::NoBackupPin(1)));
}

#[test]
fn unknown_fields_and_bad_dates_are_refused() {
    let e = err(&format!(
        "[[domain]]\nhost = \"a.example.com\"\npin = [\"{A}\"]\n"
    ));
    assert!(matches!(kinds(&e)[0], ProblemKind::Syntax(_)));
    let e = err(&format!(
        "[[domain]]\nhost = \"a.example.com\"\npins = [\"{A}\", \"{B}\"]\nexpires = \"30/06/2027\"\n"
    ));
    assert!(matches!(kinds(&e)[0], ProblemKind::Date(_)));
    assert_eq!(e.problems[0].field.as_deref(), Some("expires"));
}

#[test]
fn anchors_must_exist() {
    let e = err("[trust]\nmozilla_roots = false\n");
    assert!(matches!(kinds(&e)[0], ProblemKind::NoAnchors));
    let e = err("[trust]\nanchor_files = [\"/nonexistent/ca.pem\"]\n");
    assert!(matches!(kinds(&e)[0], ProblemKind::Anchor(..)));
    let e = err("[trust]\nanchors_pem = \"not a pem\"\n");
    assert!(matches!(kinds(&e)[0], ProblemKind::Anchor(..)), "{e}");
}

#[test]
fn longest_match_wins() {
    let p = PinPolicy::from_toml(&format!(
        r#"
[[domain]]
host = "example.com"
include_subdomains = true
pins = ["{A}", "{B}"]
[[domain]]
host = "*.api.example.com"
pins = ["{A}", "{B}"]
[[domain]]
host = "**.api.example.com"
pins = ["{A}", "{B}"]
[[domain]]
host = "v1.api.example.com"
pins = ["{A}", "{B}"]
[[domain]]
host = "192.0.2.7"
pins = ["{A}", "{B}"]
"#
    ))
    .unwrap();
    let rule = |h: &str| {
        p.rule_for(&Host::parse(h).unwrap())
            .map(|r| r.host().to_owned())
    };
    assert_eq!(
        rule("v1.api.example.com").as_deref(),
        Some("v1.api.example.com")
    );
    assert_eq!(
        rule("v2.api.example.com").as_deref(),
        Some("*.api.example.com")
    );
    assert_eq!(
        rule("a.v2.api.example.com").as_deref(),
        Some("**.api.example.com")
    );
    assert_eq!(
        rule("api.example.com").as_deref(),
        Some("**.api.example.com")
    );
    assert_eq!(rule("www.example.com").as_deref(), Some("example.com"));
    assert_eq!(rule("EXAMPLE.COM.").as_deref(), Some("example.com"));
    assert_eq!(rule("evil-example.com"), None);
    assert_eq!(rule("192.0.2.7").as_deref(), Some("192.0.2.7"));
    assert_eq!(rule("192.0.2.8"), None);
}

#[test]
fn document_round_trips_through_toml_and_json() {
    let doc = PolicyDocument {
        version: Some(1),
        profile: Profile::Strict,
        on_expiry: ExpiryMode::Enforce,
        trust: None,
        domains: vec![DomainDocument {
            host: "api.example.com".into(),
            include_subdomains: true,
            pins: vec![A.into(), B.into()],
            expires: Some("2027-01-01".into()),
            on_expiry: None,
            report_only: false,
            report_uris: vec!["https://r.example.com/report".into()],
        }],
        updates: None,
    };
    let t = PolicyDocument::parse(&doc.to_toml(), crate::PolicyFormat::Toml, "t").unwrap();
    let j = PolicyDocument::parse(&doc.to_json(), crate::PolicyFormat::Json, "j").unwrap();
    assert_eq!(t, doc);
    assert_eq!(j, doc);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parsing_never_panics(text in "\\PC{0,400}") {
            let _ = PinPolicy::from_toml(&text);
            let _ = PinPolicy::from_json(&text);
        }

        #[test]
        fn host_parsing_never_panics(text in "\\PC{0,80}") {
            let _ = Host::parse(&text);
            let _ = super::super::HostPattern::parse(&text, true);
        }

        // A pattern `**.base` matches `x.base` for any valid label x, and never
        // a name that merely ends with `base` without a dot boundary.
        #[test]
        fn label_boundary_respected(label in "[a-z0-9]{1,20}", base in "[a-z]{1,10}\\.(com|net|jp)") {
            let pat = super::super::HostPattern::parse(&format!("**.{base}"), false).unwrap();
            let sub = Host::parse(&format!("{label}.{base}")).unwrap();
            let glued = Host::parse(&format!("{label}{base}")).unwrap();
            let deep = Host::parse(&format!("{label}.{label}.{base}")).unwrap();
            prop_assert!(pat.matches(&sub));
            prop_assert!(!pat.matches(&glued));
            let one = super::super::HostPattern::parse(&format!("*.{base}"), false).unwrap();
            prop_assert!(one.matches(&sub));
            prop_assert!(!one.matches(&deep));
            prop_assert_eq!(
                Host::parse(&format!("{}.{}.", label.to_uppercase(), base)).unwrap(),
                Host::parse(&format!("{label}.{base}")).unwrap()
            );
        }
    }
}

#[test]
fn trust_is_replaced_only_by_validated_anchors() {
    let p = PinPolicy::unpinned();
    assert_eq!(p.trust().describe(), "the Mozilla roots");
    let e = TrustConfig::custom("empty.pem", b"").unwrap_err();
    assert_eq!(e.origin, "empty.pem");
    assert!(matches!(
        &e.problems[0].kind,
        ProblemKind::Anchor(label, _) if label == "empty.pem"
    ));
    assert!(
        TrustConfig::custom(
            "junk.pem",
            b"-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n"
        )
        .is_err()
    );
    let p = p.with_profile(Profile::Strict);
    assert_eq!(p.profile(), Profile::Strict);
    assert_eq!(
        p.with_trust(TrustConfig::mozilla()).trust(),
        &TrustConfig::mozilla()
    );
}

#[test]
fn a_missing_policy_file_is_a_read_problem_not_a_syntax_problem() {
    let e = PinPolicy::load(std::path::Path::new("/nonexistent/mamori-policy.toml")).unwrap_err();
    assert!(matches!(e.problems[0].kind, ProblemKind::Read(_)), "{e:?}");
}
