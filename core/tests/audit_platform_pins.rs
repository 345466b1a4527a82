//! Real apps' pin shapes read as each platform reads them (issue 12): pins
//! that android.util.Base64 or Foundation accept with leniency, pins that can
//! never match, TrustKit-Android's NSC extensions, and Android 16's
//! certificate transparency lost to custom anchors.

mod audit_common;

use audit_common::{K87, NDC, PL1, load};
use mamori::audit::{self, AuditConfig, AuditFinding, AuditOptions, ExportFormat, ImportError};
use mamori::audit::{NscOptions, SourceFormat};
use time::macros::datetime;

fn run(cfg: &AuditConfig, target_sdk: Option<u32>) -> Vec<AuditFinding> {
    let mut opts = AuditOptions::at(datetime!(2026-06-01 00:00 UTC));
    opts.android_target_sdk = target_sdk;
    audit::audit(std::slice::from_ref(cfg), &opts)
}

/// (rule, line, host) of the findings of `rule`s, in output order.
fn of(findings: &[AuditFinding], rule: &str) -> Vec<(Option<u32>, Option<String>)> {
    findings
        .iter()
        .filter(|f| f.rule == rule)
        .map(|f| (f.location.line, f.host.clone()))
        .collect()
}

/// The platform and line of a refusal.
fn refusal(e: &ImportError) -> (&'static str, Option<u32>) {
    match e {
        ImportError::Refused {
            platform, location, ..
        } => (platform, location.line),
        other => panic!("not a refusal: {other}"),
    }
}

fn pins(cfg: &AuditConfig, host: &str) -> Vec<String> {
    let d = cfg.domains.iter().find(|d| d.host == host).unwrap();
    d.distinct_pins().iter().map(|p| p.base64()).collect()
}

#[test]
fn nsc_lenient_pins_load_as_android_reads_them() {
    let cfg = load("nsc-lenient-pins.xml").unwrap();
    assert_eq!(pins(&cfg, "api.example.com"), vec![K87, PL1, NDC]);
    let f = run(&cfg, None);
    let host = Some("api.example.com".to_owned());
    assert_eq!(
        of(&f, "PIN-LENIENT-ENCODING"),
        vec![
            (Some(9), host.clone()),
            (Some(10), host.clone()),
            (Some(12), host.clone())
        ]
    );
    let msgs: Vec<String> = f
        .iter()
        .filter(|f| f.rule == "PIN-LENIENT-ENCODING")
        .map(|f| f.detail.clone())
        .collect();
    assert!(msgs[0].contains("padding is missing"), "{msgs:?}");
    assert!(msgs[1].contains("whitespace"), "{msgs:?}");
    assert!(msgs[2].contains("\"\\\"\\\"\""), "{msgs:?}");
    assert!(of(&f, "PIN-NEVER-MATCHES").is_empty());
    // The converted policy carries the canonical pins, with a note each.
    let (toml, notes) = audit::export(&cfg, ExportFormat::MamoriToml);
    for p in [K87, PL1, NDC] {
        assert!(toml.contains(&format!("sha256/{p}")), "{toml}");
    }
    assert_eq!(notes.iter().filter(|n| n.contains("canonical")).count(), 3);
}

#[test]
fn nsc_pin_of_wrong_length_is_refused_as_android_refuses_it() {
    // Android checks the decoded length: the whole file fails to load.
    let xml = "<network-security-config><domain-config><domain>a.example.com</domain>\
               <pin-set><pin digest=\"SHA-256\">AAAA</pin></pin-set></domain-config>\
               </network-security-config>";
    let e = audit::import_bytes(xml.as_bytes(), "n.xml", None, NscOptions::default(), None)
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("digest length 3 does not match expected length for SHA-256 of 32"),
        "{e}"
    );
    // URL-safe symbols are skipped by DEFAULT flags, so a URL-safe pin
    // loses symbols and Android refuses it.
    let url = K87.replace('+', "-");
    let xml = xml.replace("AAAA", &url);
    let e = audit::import_bytes(xml.as_bytes(), "n.xml", None, NscOptions::default(), None)
        .unwrap_err();
    assert!(e.to_string().contains("Invalid pin digest"), "{e}");
}

#[test]
fn ats_pins_that_can_never_match_are_findings_not_refusals() {
    let cfg = load("ats-unmatchable.plist").unwrap();
    assert_eq!(cfg.format, SourceFormat::Ats);
    // The unpadded pin does not decode with Data(base64Encoded:): only PL1
    // is a real pin of api.example.com; legacy has none left.
    assert_eq!(pins(&cfg, "api.example.com"), vec![PL1]);
    assert!(pins(&cfg, "legacy.example.com").is_empty());
    let f = run(&cfg, None);
    assert_eq!(
        of(&f, "PIN-NEVER-MATCHES"),
        vec![
            (Some(17), Some("api.example.com".to_owned())),
            (Some(31), Some("legacy.example.com".to_owned()))
        ]
    );
    assert_eq!(
        of(&f, "PIN-SET-UNMATCHABLE"),
        vec![(Some(25), Some("legacy.example.com".to_owned()))]
    );
    assert_eq!(
        of(&f, "PIN-BACKUP-MISSING"),
        vec![(Some(9), Some("api.example.com".to_owned()))]
    );
    assert!(of(&f, "PIN-EMPTY-SET").is_empty());
    let detail = &f
        .iter()
        .find(|f| f.rule == "PIN-NEVER-MATCHES")
        .unwrap()
        .detail;
    assert!(detail.contains("padding is required"), "{detail}");
    // Converting keeps them out, and says so.
    let (toml, notes) = audit::export(&cfg, ExportFormat::MamoriToml);
    assert!(!toml.contains("K87oWBWM"), "{toml}");
    assert!(toml.contains(PL1), "{toml}");
    let left_out: Vec<&String> = notes.iter().filter(|n| n.contains("left out")).collect();
    assert_eq!(left_out.len(), 2, "{notes:?}");
    assert!(left_out[1].contains("30 bytes"), "{notes:?}");
}

#[test]
fn trustkit_refuses_a_pin_apple_cannot_decode() {
    // TrustKit raises at initialisation: Data(base64Encoded:) needs padding.
    let e = load("trustkit-unpadded.plist").unwrap_err();
    assert_eq!(refusal(&e), ("TrustKit", Some(14)));
    assert!(e.to_string().contains("padding is required"), "{e}");
}

#[test]
fn trustkit_accepts_extra_padding_and_an_empty_report_uri_array() {
    let json = format!(
        r#"{{"TSKPinnedDomains":{{"api.example.com":{{"TSKPublicKeyHashes":["{K87}=","{PL1}"],"TSKReportUris":[]}}}}}}"#
    );
    let cfg = audit::import_bytes(
        json.as_bytes(),
        "tk.json",
        None,
        NscOptions::default(),
        None,
    )
    .unwrap();
    assert_eq!(pins(&cfg, "api.example.com"), vec![K87, PL1]);
    let f = run(&cfg, None);
    assert_eq!(of(&f, "PIN-LENIENT-ENCODING").len(), 1);
}

#[test]
fn trustkit_android_elements_are_read_with_its_defaults_and_inheritance() {
    let cfg = load("nsc-trustkit-android.xml").unwrap();
    let d = |h: &str| cfg.domains.iter().find(|d| d.host == h).unwrap();
    let www = d("www.datatheorem.com");
    let tk = www.trustkit_android.as_ref().unwrap();
    assert!(!tk.enforce_pinning && tk.enforce_declared);
    assert_eq!(
        www.report_uris,
        vec!["http://report.datatheorem.com/log_report"]
    );
    assert!(!www.default_report_uri);
    // Android itself enforces the pin-set on API 24+.
    assert!(www.enforce);
    // The nested domain-config inherits trustkit-config.
    let api = d("api.datatheorem.com");
    assert_eq!(api.trustkit_android, www.trustkit_android);
    assert_eq!(api.report_uris, www.report_uris);
    assert!(!api.default_report_uri);
    // No trustkit-config: TrustKit's defaults (not enforced, vendor URI on).
    let cdn = d("cdn.example.com");
    let tk = cdn.trustkit_android.as_ref().unwrap();
    assert!(!tk.enforce_pinning && !tk.enforce_declared);
    assert!(cdn.default_report_uri);
    let pay = d("pay.example.com");
    assert!(pay.trustkit_android.as_ref().unwrap().enforce_pinning);

    let f = run(&cfg, None);
    assert_eq!(
        of(&f, "TRUSTKIT-ANDROID-NOT-ENFORCED"),
        vec![
            // Sorted by place, then host.
            (Some(12), Some("api.datatheorem.com".to_owned())),
            (Some(12), Some("www.datatheorem.com".to_owned())),
            (Some(21), Some("cdn.example.com".to_owned())),
        ]
    );
    assert_eq!(
        of(&f, "REPORT-URI-INSECURE"),
        vec![(Some(7), Some("www.datatheorem.com".to_owned()))]
    );
    assert_eq!(
        of(&f, "REPORT-URI-VENDOR-DEFAULT"),
        vec![(Some(21), Some("cdn.example.com".to_owned()))]
    );
    assert!(
        !f.iter().any(|f| f.rule == "CONFIG-IGNORED"),
        "trustkit-config is TrustKit's, not a typo"
    );
}

#[test]
fn an_nsc_without_trustkit_config_has_no_trustkit_semantics() {
    let cfg = load("nsc-ct-anchors.xml").unwrap();
    assert!(cfg.domains.iter().all(|d| d.trustkit_android.is_none()));
    assert!(cfg.domains.iter().all(|d| !d.default_report_uri));
}

#[test]
fn trustkit_android_refuses_an_enforced_single_pin() {
    let e = load("nsc-trustkit-one-pin.xml").unwrap_err();
    assert_eq!(refusal(&e), ("TrustKit-Android", Some(4)));
    assert!(e.to_string().contains("Less than two pins"), "{e}");
}

/// TrustKit-Android skips a `domain-config` without a pin-set (own or
/// inherited) and refuses only an empty pin-set that is enforced (review
/// finding 8).
#[test]
fn trustkit_android_skips_a_domain_config_without_pin_set() {
    let cfg = load("nsc-trustkit-android-no-pin-set.xml").unwrap();
    let d = |h: &str| cfg.domains.iter().find(|d| d.host == h).unwrap();
    assert!(
        d("api.example.com")
            .trustkit_android
            .as_ref()
            .unwrap()
            .enforce_pinning
    );
    // Not for pinning: no TrustKit policy, no reports, and its host
    // (invalid for TrustKit's DomainValidator) is never checked.
    let local = d("localhost");
    assert!(local.trustkit_android.is_none());
    assert!(!local.default_report_uri && local.report_uris.is_empty());
    // An empty pin-set not enforced is a policy without pins.
    let staging = d("staging.example.com");
    assert!(staging.has_pin_set && staging.pins.is_empty());
    assert!(staging.trustkit_android.is_some());
    assert!(staging.default_report_uri);
    let f = run(&cfg, None);
    assert_eq!(
        of(&f, "TRUSTKIT-ANDROID-NOT-ENFORCED"),
        vec![(Some(21), Some("staging.example.com".to_owned()))]
    );
}

fn import_nsc(xml: &str) -> Result<AuditConfig, ImportError> {
    audit::import_bytes(xml.as_bytes(), "n.xml", None, NscOptions::default(), None)
}

#[test]
fn trustkit_android_refuses_an_enforced_empty_pin_set() {
    let xml = "<network-security-config><domain-config><domain>a.example.com</domain>\
               <pin-set></pin-set><trustkit-config enforcePinning=\"true\"/></domain-config>\
               </network-security-config>";
    let e = import_nsc(xml).unwrap_err();
    assert_eq!(refusal(&e).0, "TrustKit-Android");
    assert!(
        e.to_string().contains(
            "An empty pin-set was supplied for domain a.example.com with the enforcePinning set to true"
        ),
        "{e}"
    );
    // Android alone reads it (an empty pin-set: no pinning).
    let plain = xml.replace("<trustkit-config enforcePinning=\"true\"/>", "");
    assert!(import_nsc(&plain).is_ok());
}

#[test]
fn trustkit_android_requires_the_digest_spelt_sha_256() {
    // Android compares the digest case-insensitively; TrustKit-Android's
    // parser with `equals("SHA-256")`, and throws on anything else.
    let xml = format!(
        "<network-security-config><domain-config><domain>a.example.com</domain>\
         <pin-set><pin digest=\"sha-256\">{K87}</pin><pin digest=\"SHA-256\">{PL1}</pin></pin-set>\
         <trustkit-config enforcePinning=\"true\"/></domain-config></network-security-config>"
    );
    let e = import_nsc(&xml).unwrap_err();
    assert_eq!(refusal(&e).0, "TrustKit-Android");
    assert!(
        e.to_string().contains("Unexpected digest value: sha-256"),
        "{e}"
    );
    let plain = xml.replace("<trustkit-config enforcePinning=\"true\"/>", "");
    assert_eq!(
        pins(&import_nsc(&plain).unwrap(), "a.example.com"),
        vec![K87, PL1]
    );
}

#[test]
fn ct_lost_to_user_anchors_follows_the_aosp_rule_order() {
    let cfg = load("nsc-ct-anchors.xml").unwrap();
    let idx = |h: &str| cfg.domain_for(h);
    assert!(cfg.ct_required(idx("api.example.com")));
    assert!(!cfg.ct_required(idx("staging.example.com")));
    assert!(cfg.ct_required(idx("partner.example.com")));
    let f = run(&cfg, None);
    assert_eq!(of(&f, "CT-DISABLED-BY-ANCHORS"), vec![(Some(20), None)]);
    let detail = &f
        .iter()
        .find(|f| f.rule == "CT-DISABLED-BY-ANCHORS")
        .unwrap()
        .detail;
    assert_eq!(
        detail,
        "domain-config staging.example.com: its src=\"user\" anchors switch CT off, where base-config requires CT"
    );
}

#[test]
fn ct_default_depends_on_the_target_sdk() {
    let cfg = load("nsc-inline-anchor.xml").unwrap();
    for (sdk, want) in [(None, 0), (Some(36), 0), (Some(37), 1)] {
        let f = run(&cfg, sdk);
        assert_eq!(of(&f, "CT-DISABLED-BY-ANCHORS").len(), want, "{sdk:?}");
    }
    assert!(!cfg.ct_required_for(None, Some(23)));
    assert!(cfg.ct_required_for(None, Some(37)));
    assert!(!cfg.ct_required_for(cfg.domain_for("partner.example.com"), Some(37)));
}

/// `<certificateTransparency>` is read from API 36 (Android 16); older
/// NSC parsers skip unknown elements, so below API 36 the blocks that
/// require CT do not. One finding per block declaring `enabled="true"`
/// (nsc-ct-anchors.xml: base-config at line 6, partner.example.com's
/// domain-config, its domain at line 24), none once minSdkVersion is 36.
#[test]
fn ct_element_is_skipped_by_devices_below_api_36() {
    let cfg = load("nsc-ct-anchors.xml").unwrap();
    for (min_sdk, devices) in [
        (
            None,
            "devices below API 36 skip the element (the app's minSdkVersion is not known)"
                .to_owned(),
        ),
        (
            Some(24),
            "the app's minSdkVersion 24 runs on devices that skip the element".to_owned(),
        ),
        (
            Some(35),
            "the app's minSdkVersion 35 runs on devices that skip the element".to_owned(),
        ),
    ] {
        let mut opts = AuditOptions::at(datetime!(2026-06-01 00:00 UTC));
        opts.android_min_sdk = min_sdk;
        let f = audit::audit(std::slice::from_ref(&cfg), &opts);
        let got: Vec<(Option<u32>, String)> = f
            .iter()
            .filter(|f| f.rule == "CT-IGNORED-BELOW-API-36")
            .map(|f| (f.location.line, f.detail.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    Some(6),
                    format!(
                        "base-config declares <certificateTransparency enabled=\"true\"/>; {devices}"
                    )
                ),
                (
                    Some(24),
                    format!(
                        "domain-config partner.example.com declares <certificateTransparency enabled=\"true\"/>; {devices}"
                    )
                ),
            ],
            "{min_sdk:?}"
        );
    }
    for min_sdk in [36, 37] {
        let mut opts = AuditOptions::at(datetime!(2026-06-01 00:00 UTC));
        opts.android_min_sdk = Some(min_sdk);
        let f = audit::audit(std::slice::from_ref(&cfg), &opts);
        assert!(
            f.iter().all(|f| f.rule != "CT-IGNORED-BELOW-API-36"),
            "{f:#?}"
        );
    }
    // `enabled="false"` is no requirement to lose.
    let xml = "<network-security-config><base-config><certificateTransparency enabled=\"false\"/>\
               </base-config></network-security-config>";
    let off =
        audit::import_bytes(xml.as_bytes(), "n.xml", None, NscOptions::default(), None).unwrap();
    assert!(
        run(&off, None)
            .iter()
            .all(|f| f.rule != "CT-IGNORED-BELOW-API-36")
    );
}

/// An NSC file with TrustKit-Android's `trustkit-config` around `host`
/// (written as is, between the `<domain>` tags).
fn trustkit_nsc(domains: &[&str]) -> String {
    let d: String = domains
        .iter()
        .map(|h| format!("<domain includeSubdomains=\"false\">{h}</domain>"))
        .collect();
    format!(
        "<network-security-config><domain-config>{d}<pin-set>\
         <pin digest=\"SHA-256\">{K87}</pin><pin digest=\"SHA-256\">{PL1}</pin></pin-set>\
         <trustkit-config enforcePinning=\"true\" disableDefaultReportUri=\"true\"/>\
         </domain-config></network-security-config>"
    )
}

/// TrustKit-Android checks each pinned host with Apache Commons'
/// `DomainValidator` (no local names) on the `<domain>` text before trimming
/// it, and throws at initialisation for an invalid one. Android itself only
/// trims and lower-cases, so these files load on Android without TrustKit.
#[test]
fn trustkit_android_refuses_hosts_its_domain_validator_rejects() {
    let accepted = [
        "api.example.com",
        "API.Example.COM",
        "api.example.com.",
        "a-b.example.co.jp",
        "1password.example.com",
        "bücher.example.de",
    ];
    let refused = [
        " api.example.com",
        "api.example.com\n",
        "*.example.com",
        "192.168.0.1",
        "localhost",
        "api.example.notarealtld",
        "-api.example.com",
        "api-.example.com",
        "a_b.example.com",
        "api..example.com",
        "api.example.123",
    ];
    for h in accepted {
        let xml = trustkit_nsc(&[h]);
        let cfg = audit::import_bytes(xml.as_bytes(), "n.xml", None, NscOptions::default(), None)
            .unwrap_or_else(|e| panic!("{h:?}: {e}"));
        assert!(cfg.domains[0].trustkit_android.is_some(), "{h:?}");
    }
    for h in refused {
        let xml = trustkit_nsc(&[h]);
        let e = audit::import_bytes(xml.as_bytes(), "n.xml", None, NscOptions::default(), None)
            .unwrap_err();
        assert_eq!(refusal(&e).0, "TrustKit-Android", "{h:?}: {e}");
        assert!(
            e.to_string()
                .contains(&format!("Tried to pin an invalid domain: {h}")),
            "{h:?}: {e}"
        );
        // Android alone reads the same host (trimmed, lower-cased).
        let android = xml.replace(
            "<trustkit-config enforcePinning=\"true\" disableDefaultReportUri=\"true\"/>",
            "",
        );
        audit::import_bytes(
            android.as_bytes(),
            "n.xml",
            None,
            NscOptions::default(),
            None,
        )
        .unwrap_or_else(|e| panic!("Android refuses {h:?}: {e}"));
    }
}

/// TrustKit-Android's `readDomainConfig` calls `setHostname` for each
/// `<domain>` of a domain-config: only the last one gets a TrustKit policy
/// (and its validation). The others keep Android's pin-set (API 24+) and
/// are reported as ignored by TrustKit.
#[test]
fn trustkit_android_keeps_only_the_last_domain_of_a_domain_config() {
    let xml = trustkit_nsc(&["first.example.com", "second.example.com"]);
    let cfg =
        audit::import_bytes(xml.as_bytes(), "n.xml", None, NscOptions::default(), None).unwrap();
    let tk: Vec<(&str, bool, usize)> = cfg
        .domains
        .iter()
        .map(|d| (d.host.as_str(), d.trustkit_android.is_some(), d.pins.len()))
        .collect();
    assert_eq!(
        tk,
        vec![
            ("first.example.com", false, 2),
            ("second.example.com", true, 2)
        ]
    );
    let f = run(&cfg, None);
    let ignored: Vec<&str> = f
        .iter()
        .filter(|f| f.rule == "CONFIG-IGNORED")
        .map(|f| f.detail.as_str())
        .collect();
    assert_eq!(ignored.len(), 1, "{f:#?}");
    assert!(
        ignored[0].starts_with("<domain>first.example.com</domain> for TrustKit-Android"),
        "{}",
        ignored[0]
    );
    // Only the last host is validated by TrustKit: an invalid first one
    // loads (Android reads it), an invalid last one is refused.
    let xml = trustkit_nsc(&["*.example.com", "second.example.com"]);
    audit::import_bytes(xml.as_bytes(), "n.xml", None, NscOptions::default(), None).unwrap();
    let xml = trustkit_nsc(&["first.example.com", "*.example.com"]);
    let e = audit::import_bytes(xml.as_bytes(), "n.xml", None, NscOptions::default(), None)
        .unwrap_err();
    assert!(
        e.to_string().contains("invalid domain: *.example.com"),
        "{e}"
    );
}

/// NSC booleans as aapt2 compiles them (`TYPE_ANY`: colour, boolean,
/// integer, else a string) and `getAttributeBooleanValue` reads them
/// (integer `!= 0`, anything else the attribute's default): review finding 5.
#[test]
fn nsc_booleans_are_read_as_aapt2_and_android_read_them() {
    let cfg = load("nsc-booleans.xml").unwrap();
    // "fAlse" is a string: the default, cleartext permitted.
    assert_eq!(cfg.base.cleartext_permitted, Some(true));
    // overridePins="yes": the context's default (false outside debug-overrides).
    assert_eq!(
        cfg.base.trust_anchors.as_ref().unwrap()[0].override_pins,
        None
    );
    let d = |h: &str| cfg.domains.iter().find(|d| d.host == h).unwrap();
    assert_eq!(
        d("api.example.com").declared.cleartext_permitted,
        Some(false)
    );
    assert_eq!(d("api.example.com").declared.hsts_enforced, Some(true));
    assert!(!d("api.example.com").include_subdomains);
    assert!(d("cdn.example.com").include_subdomains);
    assert!(d("img.example.com").include_subdomains);
    // "#000" is the colour 0xff000000: true.
    assert_eq!(
        d("legacy.example.com").declared.cleartext_permitted,
        Some(true)
    );
    // <certificateTransparency/> without `enabled` switches CT off.
    assert_eq!(
        d("legacy.example.com").declared.certificate_transparency,
        Some(false)
    );
    assert!(!cfg.ct_required_for(cfg.domain_for("legacy.example.com"), Some(37)));
    assert!(cfg.ct_required_for(cfg.domain_for("api.example.com"), Some(37)));
    let f = run(&cfg, None);
    assert_eq!(of(&f, "CLEARTEXT-BASE"), vec![(Some(4), None)]);
    assert_eq!(
        of(&f, "CLEARTEXT-DOMAIN"),
        vec![(Some(19), Some("legacy.example.com".to_owned()))]
    );
    let nb: Vec<(Option<u32>, String)> = f
        .iter()
        .filter(|f| f.rule == "NSC-NOT-BOOLEAN")
        .map(|f| (f.location.line, f.detail.clone()))
        .collect();
    assert_eq!(
        nb,
        vec![
            (Some(4), "base-config@cleartextTrafficPermitted=\"fAlse\" is not a boolean: aapt2 compiles it to a string, so Android applies the attribute's default, true".to_owned()),
            (Some(6), "certificates@overridePins=\"yes\" is not a boolean: aapt2 compiles it to a string, so Android applies the default, as if it were not written".to_owned()),
            (Some(9), "domain-config@cleartextTrafficPermitted=\"0\" is not a boolean: aapt2 compiles it to the integer 0x0, which Android reads as false".to_owned()),
            (Some(9), "domain-config@hstsEnforced=\"1\" is not a boolean: aapt2 compiles it to the integer 0x1, which Android reads as true".to_owned()),
            (Some(10), "domain@includeSubdomains=\"no\" is not a boolean: aapt2 compiles it to a string, so Android applies the attribute's default, false".to_owned()),
            (Some(11), "domain@includeSubdomains=\"0x1\" is not a boolean: aapt2 compiles it to the integer 0x1, which Android reads as true".to_owned()),
            (Some(18), "domain-config@cleartextTrafficPermitted=\"#000\" is not a boolean: aapt2 compiles it to the integer 0xff000000, which Android reads as true".to_owned()),
        ]
    );
}

#[test]
fn a_ct_element_without_enabled_is_an_explicit_false() {
    let xml = "<network-security-config><base-config><certificateTransparency/>\
               </base-config></network-security-config>";
    let cfg =
        audit::import_bytes(xml.as_bytes(), "n.xml", None, NscOptions::default(), None).unwrap();
    assert_eq!(cfg.base.certificate_transparency, Some(false));
    assert!(!cfg.ct_required_for(None, Some(37)));
}

/// TrustKit's `kTSKExcludeSubdomainFromParentPolicy`, read with `boolValue`:
/// the host is not pinned (no empty pin set, no PIN-EMPTY-SET), needs a
/// parent policy, and formats that cannot exclude it say so (review
/// finding 7).
#[test]
fn trustkit_exclusion_is_an_unpinned_host_under_a_parent_policy() {
    let cfg = load("trustkit-exclude.plist").unwrap();
    let d = |h: &str| cfg.domains.iter().find(|d| d.host == h).unwrap();
    let cdn = d("cdn.example.com");
    assert!(cdn.excluded_from_parent && !cdn.has_pin_set && cdn.pins.is_empty());
    assert!(!d("api.example.com").excluded_from_parent);
    assert_eq!(pins(&cfg, "api.example.com"), vec![K87, NDC]);
    // The exact key wins: the excluded host's entry, without pins.
    assert_eq!(cfg.domain_for("cdn.example.com"), Some(1));
    let f = run(&cfg, None);
    assert_eq!(
        of(&f, "TRUSTKIT-EXCLUDED-SUBDOMAIN"),
        vec![(Some(20), Some("cdn.example.com".to_owned()))]
    );
    assert!(of(&f, "PIN-EMPTY-SET").is_empty(), "{f:#?}");
    // NSC can say it exactly: a domain-config without pin-set wins over
    // the parent's includeSubdomains.
    let (xml, notes) = audit::export(&cfg, ExportFormat::Nsc);
    assert!(
        xml.contains(
            "<domain-config>\n        <domain includeSubdomains=\"false\">cdn.example.com</domain>\n    </domain-config>"
        ),
        "{xml}"
    );
    assert!(
        notes.iter().all(|n| !n.contains("cdn.example.com")),
        "{notes:?}"
    );
    let back =
        audit::import_bytes(xml.as_bytes(), "n.xml", None, NscOptions::default(), None).unwrap();
    let i = back.domain_for("cdn.example.com").unwrap();
    assert!(back.domains[i].pins.is_empty() && !back.domains[i].has_pin_set);
    // OkHttp unions every matching pattern: `**.example.com` pins it.
    for to in [ExportFormat::OkHttp, ExportFormat::MamoriToml] {
        let (_, notes) = audit::export(&cfg, to);
        assert!(
            notes.iter().any(|n| n
                .contains("cdn.example.com: excluded from its parent's TrustKit policy")
                && n.contains("stricter")),
            "{to:?}: {notes:?}"
        );
    }
    // A TrustKit round trip keeps the exclusion.
    let (plist, _) = audit::export(&cfg, ExportFormat::TrustKit);
    let again = audit::import_bytes(
        plist.as_bytes(),
        "t.plist",
        None,
        NscOptions::default(),
        None,
    )
    .unwrap();
    assert!(
        again
            .domains
            .iter()
            .any(|d| d.host == "cdn.example.com" && d.excluded_from_parent)
    );
}

#[test]
fn trustkit_refuses_an_exclusion_without_a_parent_policy() {
    let json = format!(
        r#"{{"TSKConfiguration":{{"TSKPinnedDomains":{{
            "example.com":{{"TSKPublicKeyHashes":["{K87}","{PL1}"]}},
            "cdn.example.com":{{"kSKExcludeSubdomainFromParentPolicy":true}}}}}}}}"#
    );
    // example.com does not include subdomains: no parent policy.
    let e = audit::import_bytes(json.as_bytes(), "t.json", None, NscOptions::default(), None)
        .unwrap_err();
    assert_eq!(refusal(&e).0, "TrustKit");
    assert!(
        e.to_string().contains(
            "TSKExcludeSubdomainFromParentPolicy for domain cdn.example.com but could not find a policy for a parent domain"
        ),
        "{e}"
    );
    let with_parent = json.replace(
        "\"example.com\":{",
        "\"example.com\":{\"TSKIncludeSubdomains\":true,",
    );
    assert!(
        audit::import_bytes(
            with_parent.as_bytes(),
            "t.json",
            None,
            NscOptions::default(),
            None
        )
        .is_ok()
    );
}

/// TrustKit's booleans (`boolValue`), expiry (`NSDateFormatter`, nil when
/// it does not parse) and pin minimum (2 when enforcing, else 1): review
/// finding 9.
#[test]
fn trustkit_reads_booleans_with_boolvalue_and_unparsed_dates_as_no_expiry() {
    let cfg = load("trustkit-boolvalue.plist").unwrap();
    let d = |h: &str| cfg.domains.iter().find(|d| d.host == h).unwrap();
    let a = d("a.example.com");
    assert!(!a.enforce, "<integer>0</integer> is NO");
    assert!(a.expiry.is_none(), "05/01/2027 is nil: no expiry");
    let b = d("b.example.com");
    assert!(b.include_subdomains && !b.enforce && !b.default_report_uri);
    assert_eq!(
        b.expiry.as_ref().unwrap().at,
        datetime!(2027-06-01 00:00 UTC),
        "ICU reads one-digit months and days"
    );
    let c = d("c.example.com");
    assert!(!c.enforce && c.expiry.is_none());
    assert_eq!(pins(&cfg, "c.example.com"), vec![K87]);
    let f = run(&cfg, None);
    let ignored: Vec<(Option<u32>, String)> = f
        .iter()
        .filter(|f| f.rule == "CONFIG-IGNORED")
        .map(|f| (f.location.line, f.detail.clone()))
        .collect();
    assert_eq!(
        ignored,
        vec![
            (Some(11), "a.example.com: TSKExpirationDate \"05/01/2027\" (not a yyyy-MM-dd date: TrustKit's NSDateFormatter returns nil, so these pins never expire)".to_owned()),
            (Some(39), "c.example.com: TSKExpirationDate \"2027-06-01T00:00:00Z\" (not a yyyy-MM-dd date: TrustKit's NSDateFormatter returns nil, so these pins never expire)".to_owned()),
        ]
    );
    assert_eq!(
        of(&f, "PIN-NO-EXPIRY"),
        vec![
            (Some(11), Some("a.example.com".to_owned())),
            (Some(39), Some("c.example.com".to_owned()))
        ]
    );
}

fn trustkit_json(domains: &str) -> String {
    format!(r#"{{"TSKConfiguration":{{"TSKPinnedDomains":{{{domains}}}}}}}"#)
}

fn trustkit_refusal(domains: &str) -> String {
    let json = trustkit_json(domains);
    let e = audit::import_bytes(json.as_bytes(), "t.json", None, NscOptions::default(), None)
        .unwrap_err();
    assert_eq!(refusal(&e).0, "TrustKit", "{e}");
    e.to_string()
}

#[test]
fn trustkit_refuses_what_parse_configuration_refuses() {
    let two = format!(r#""TSKPublicKeyHashes":["{K87}","{PL1}"]"#);
    assert!(trustkit_refusal("").contains("TrustKit was initialized with no pinned domains"));
    // GetRegistryLength == 0: no known public suffix, not ASCII, too long.
    let long = format!("{}.example.com", "a".repeat(250));
    for host in [
        "localhost",
        "api.internal",
        "10.0.0.1",
        "bücher.de",
        "API.EXAMPLE.COM",
        long.as_str(),
    ] {
        let e = trustkit_refusal(&format!(r#""{host}":{{{two}}}"#));
        assert!(
            e.contains(&format!(
                "TrustKit was initialized with an invalid domain {host}"
            )),
            "{e}"
        );
    }
    // Not enforcing still needs one pin; none at all (no TSKPublicKeyHashes) is refused.
    let e = trustkit_refusal(r#""a.example.com":{"TSKEnforcePinning":false}"#);
    assert!(
        e.contains("TrustKit was initialized with less than 1 pins (ie. no backup pins) for domain a.example.com"),
        "{e}"
    );
    // A value with no boolValue (an array) makes TrustKit raise.
    let e = trustkit_refusal(&format!(
        r#""a.example.com":{{{two},"TSKIncludeSubdomains":[]}}"#
    ));
    assert!(
        e.contains("TSKIncludeSubdomains must be a boolean, a number or a string"),
        "{e}"
    );
    // What TrustKit accepts: a known suffix, a final dot.
    for host in ["a.example.co.uk", "a.example.com."] {
        let json = trustkit_json(&format!(r#""{host}":{{{two}}}"#));
        assert!(
            audit::import_bytes(json.as_bytes(), "t.json", None, NscOptions::default(), None)
                .is_ok(),
            "{host}"
        );
    }
}

/// ATS `NSIncludesSubdomains` reaches one label below the domain, not
/// deeper (Apple's NSIncludesSubdomains page): review finding 6.
#[test]
fn ats_includes_subdomains_covers_exactly_one_more_label() {
    let cfg = load("ats-subdomains.plist").unwrap();
    assert_eq!(cfg.domain_for("example.com"), Some(0));
    assert_eq!(cfg.domain_for("math.example.com"), Some(0));
    assert_eq!(cfg.domain_for("advanced.math.example.com"), None);
    // OkHttp and a Mamori policy say "exactly one label" with `*.`.
    let (txt, notes) = audit::export(&cfg, ExportFormat::OkHttp);
    assert!(
        txt.contains(&format!("example.com sha256/{K87}\n")),
        "{txt}"
    );
    assert!(
        txt.contains(&format!("*.example.com sha256/{K87}\n")),
        "{txt}"
    );
    assert!(!txt.contains("**."), "{txt}");
    assert!(notes.iter().any(|n| n.contains("exactly one more label; written as example.com and *.example.com")), "{notes:?}");
    let (toml, _) = audit::export(&cfg, ExportFormat::MamoriToml);
    let policy =
        audit::import_bytes(toml.as_bytes(), "p.toml", None, NscOptions::default(), None).unwrap();
    assert!(policy.domain_for("math.example.com").is_some(), "{toml}");
    assert!(
        policy.domain_for("advanced.math.example.com").is_none(),
        "{toml}"
    );
    // NSC only has every depth: wider, with a note.
    let (_, notes) = audit::export(&cfg, ExportFormat::Nsc);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("covers every depth (wider")),
        "{notes:?}"
    );
}

/// AOSP `XmlConfigSource` details (review finding 10): `src="wfa"` (the
/// Wi-Fi Alliance store, which does not switch CT off), `src` compared
/// exactly, `certificateTransparency` refused in debug-overrides, comments
/// inside `<pin>` and `<domain>` (aapt2 drops them), and an expiry with a
/// sign refused by `SimpleDateFormat`.
#[test]
fn nsc_reads_src_ct_comments_and_dates_as_xml_config_source_does() {
    let wrap = |body: &str| format!("<network-security-config>{body}</network-security-config>");
    let anchors = |src: &str| {
        wrap(&format!(
            "<base-config><trust-anchors><certificates src=\"{src}\"/></trust-anchors></base-config>"
        ))
    };
    let cfg = import_nsc(&anchors("wfa")).unwrap();
    assert_eq!(
        cfg.base.trust_anchors.as_ref().unwrap()[0].source,
        mamori::audit::AnchorSource::Wfa
    );
    assert!(cfg.ct_required_for(None, Some(37)));
    assert!(
        !import_nsc(&anchors("user"))
            .unwrap()
            .ct_required_for(None, Some(37))
    );
    for src in [" system", "System", "managed"] {
        let e = import_nsc(&anchors(src)).unwrap_err();
        assert!(
            e.to_string().contains("Unknown certificates src"),
            "{src}: {e}"
        );
    }
    // A reference is parsed on trimmed text.
    assert!(import_nsc(&anchors(" @raw/ca ")).is_ok());

    let debug =
        wrap("<debug-overrides><certificateTransparency enabled=\"false\"/></debug-overrides>");
    let e = audit::import_bytes(
        debug.as_bytes(),
        "n.xml",
        None,
        NscOptions { debuggable: true },
        None,
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("certificateTransparency not allowed in debug-overrides"),
        "{e}"
    );
    // A release build never reads debug-overrides: listed as ignored.
    let cfg = import_nsc(&debug).unwrap();
    assert!(cfg.debug_overrides.is_none());
    assert!(
        cfg.ignored
            .iter()
            .any(|i| i.name.contains("certificateTransparency not allowed"))
    );

    let (k1, k2) = K87.split_at(20);
    let commented = wrap(&format!(
        "<domain-config><domain><!-- the API -->api.example.com</domain><pin-set>\
         <pin digest=\"SHA-256\"><!-- current -->{K87}</pin>\
         <pin digest=\"SHA-256\">{k1}<!-- split -->{k2}</pin></pin-set></domain-config>"
    ));
    let cfg = import_nsc(&commented).unwrap();
    assert_eq!(pins(&cfg, "api.example.com"), vec![K87]);
    assert_eq!(cfg.domains[0].pins.len(), 2);

    let dated = |date: &str| {
        wrap(&format!(
            "<domain-config><domain>a.example.com</domain><pin-set expiration=\"{date}\">\
             <pin digest=\"SHA-256\">{K87}</pin><pin digest=\"SHA-256\">{PL1}</pin></pin-set></domain-config>"
        ))
    };
    for bad in ["+2027-01-01", " 2027-01-01", "2027-+1-01"] {
        let e = import_nsc(&dated(bad)).unwrap_err();
        assert!(
            e.to_string().contains("Invalid expiration date in pin-set"),
            "{bad:?}: {e}"
        );
    }
    assert!(import_nsc(&dated("2027-1-5")).is_ok());
}

fn okhttp_list(text: &str) -> Result<AuditConfig, ImportError> {
    audit::import_bytes(
        text.as_bytes(),
        "pins.txt",
        Some(SourceFormat::OkHttp),
        NscOptions::default(),
        None,
    )
}

/// OkHttp patterns through `toCanonicalHost` (review finding 11): IPv6 in
/// brackets, names OkHttp's IDNA accepts, a kept trailing dot; a name with
/// a space refused; `.add(host)` without pins adds nothing.
#[test]
fn okhttp_patterns_are_canonicalised_as_okhttp_does() {
    let two = format!("sha256/{K87} sha256/{PL1}");
    for (pattern, stored) in [
        ("[::1]", "::1"),
        ("[::ffff:1.2.3.4]", "1.2.3.4"),
        ("1.2.3.4.5", "1.2.3.4.5"),
        ("-a.example.com", "-a.example.com"),
        ("API.Example.com", "api.example.com"),
        ("*.bücher.de", "*.xn--bcher-kva.de"),
        ("api.example.com.", "api.example.com."),
    ] {
        let cfg =
            okhttp_list(&format!("{pattern} {two}\n")).unwrap_or_else(|e| panic!("{pattern}: {e}"));
        assert_eq!(cfg.domains[0].host, stored, "{pattern}");
    }
    // The trailing dot is kept, not merged: it selects no ordinary host.
    let cfg = okhttp_list(&format!("api.example.com. {two}\n")).unwrap();
    assert_eq!(cfg.domain_for("api.example.com"), None);
    assert_eq!(of(&run(&cfg, None), "PIN-DOMAIN-NEVER-MATCHES").len(), 1);
    for bad in [
        ".example.com",
        "a..example.com",
        &format!("{}.com", "a".repeat(64)),
    ] {
        let e = okhttp_list(&format!("{bad} {two}\n")).unwrap_err();
        assert!(e.to_string().contains("Invalid pattern"), "{bad}: {e}");
    }
    // In code, a space inside the literal is OkHttp's refusal too.
    let kt = |body: &str| {
        format!(
            "import okhttp3.CertificatePinner\n\nval pinner = CertificatePinner.Builder()\n{body}\n    .build()\n"
        )
    };
    let src = kt(&format!(
        "    .add(\" api.example.com\", \"sha256/{K87}\", \"sha256/{PL1}\")"
    ));
    let e =
        audit::import_bytes(src.as_bytes(), "P.kt", None, NscOptions::default(), None).unwrap_err();
    assert!(
        e.to_string().contains("Invalid pattern:  api.example.com"),
        "{e}"
    );
    let src = kt(&format!(
        "    .add(\"a.example.com\", \"sha256/{K87}\", \"sha256/{PL1}\")\n    .add(\"b.example.com\")"
    ));
    let cfg =
        audit::import_bytes(src.as_bytes(), "P.kt", None, NscOptions::default(), None).unwrap();
    assert!(cfg.domains.iter().all(|d| d.host != "b.example.com"));
    assert!(
        cfg.ignored
            .iter()
            .any(|i| i.name.contains("add(\"b.example.com\") without pins")),
        "{:?}",
        cfg.ignored
    );
}

/// iOS refuses no Info.plist at install: an identity without the
/// (case-sensitive) `SPKI-SHA256-BASE64` key never matches, a pinned
/// domain without identities is an empty pin set (review finding 12).
#[test]
fn ats_malformed_identities_are_findings_not_refusals() {
    let cfg = load("ats-malformed-identities.plist").unwrap();
    assert_eq!(pins(&cfg, "api.example.com"), vec![K87]);
    let cdn = cfg
        .domains
        .iter()
        .find(|d| d.host == "cdn.example.com")
        .unwrap();
    assert!(cdn.has_pin_set && cdn.pins.is_empty());
    let f = run(&cfg, None);
    assert_eq!(
        of(&f, "PIN-NEVER-MATCHES"),
        vec![(Some(21), Some("api.example.com".to_owned()))]
    );
    let detail = &f
        .iter()
        .find(|f| f.rule == "PIN-NEVER-MATCHES")
        .unwrap()
        .detail;
    assert!(
        detail.contains("keys are case-sensitive; it has \"SPKI-SHA256-Base64\""),
        "{detail}"
    );
    assert_eq!(
        of(&f, "PIN-EMPTY-SET"),
        vec![(Some(25), Some("cdn.example.com".to_owned()))]
    );
    assert_eq!(
        of(&f, "PIN-BACKUP-MISSING"),
        vec![(Some(11), Some("api.example.com".to_owned()))]
    );
}

/// TrustKit looks `TSKPinnedDomains` keys up as written: a key with
/// surrounding whitespace selects no host (review finding 9).
#[test]
fn a_trustkit_key_with_whitespace_selects_no_host() {
    let json = trustkit_json(&format!(
        r#"" api.example.com":{{"TSKPublicKeyHashes":["{K87}","{PL1}"]}}"#
    ));
    let cfg =
        audit::import_bytes(json.as_bytes(), "t.json", None, NscOptions::default(), None).unwrap();
    assert_eq!(cfg.domains[0].host, " api.example.com");
    assert_eq!(cfg.domain_for("api.example.com"), None);
    let f = run(&cfg, None);
    let d = &f
        .iter()
        .find(|f| f.rule == "PIN-DOMAIN-NEVER-MATCHES")
        .unwrap()
        .detail;
    assert!(d.contains("surrounding whitespace"), "{d}");
}

/// TrustKit-Android reads `enforcePinning` with `Boolean.parseBoolean` on
/// the compiled attribute: aapt2 types ` True ` as the boolean true (so
/// "true"), and `1` as an integer (so "1", false).
#[test]
fn trustkit_android_reads_enforce_pinning_as_compiled() {
    for (value, enforced) in [
        (" True ", true),
        ("tRuE", true),
        ("1", false),
        ("yes", false),
    ] {
        let xml = format!(
            "<network-security-config><domain-config><domain>a.example.com</domain>\
             <pin-set><pin digest=\"SHA-256\">{K87}</pin><pin digest=\"SHA-256\">{PL1}</pin></pin-set>\
             <trustkit-config enforcePinning=\"{value}\"/></domain-config></network-security-config>"
        );
        let cfg = import_nsc(&xml).unwrap();
        assert_eq!(
            cfg.domains[0]
                .trustkit_android
                .as_ref()
                .unwrap()
                .enforce_pinning,
            enforced,
            "{value:?}"
        );
    }
}
