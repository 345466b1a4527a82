//! TrustKit, ATS, OkHttp and Mamori importers, format detection, refusals
//! and round trips through every exporter.

mod audit_common;

use audit_common::{K87, NDC, PL1, fixture, load};
use mamori::audit::{self, ExportFormat, ImportError, NscOptions};
use mamori::audit::{AuditConfig, ExpiryZone, PinScope, SourceFormat};

/// (host, include_subdomains, pins as base64, enforce, expiry date)
type Summary = (String, bool, Vec<String>, bool, Option<String>);

fn summary(cfg: &AuditConfig) -> Vec<Summary> {
    cfg.domains
        .iter()
        .map(|d| {
            (
                d.host.clone(),
                d.include_subdomains,
                d.distinct_pins().iter().map(|p| p.base64()).collect(),
                d.enforce,
                d.expiry.as_ref().map(|e| e.at.date().to_string()),
            )
        })
        .collect()
}

/// Imports `text` as the file `name`.
fn import_text(text: &str, name: &str) -> Result<AuditConfig, ImportError> {
    audit::import_bytes(text.as_bytes(), name, None, NscOptions::default(), None)
}

/// The refusal of `text` read as the file `name`.
fn refusal(text: &str, name: &str) -> String {
    import_text(text, name).unwrap_err().to_string()
}

fn s(x: &str) -> String {
    x.to_owned()
}

#[test]
fn trustkit_info_plist() {
    let cfg = load("trustkit-info.plist").unwrap();
    assert_eq!(cfg.format, SourceFormat::TrustKit);
    // plist dictionaries are kept in key order of the file.
    assert_eq!(
        summary(&cfg),
        vec![
            (
                s("www.good.com"),
                true,
                vec![
                    s("TwyNzy19zZi7cKfPsucs1E+h8ODOCPMrT8681sFWJvw="),
                    s("S5z3Fz5ZfZAGJOBZjK6TYBquyLLKO+BndKXBlL3nPjo=")
                ],
                true,
                Some(s("2030-01-15"))
            ),
            (s("www.globalsign.com"), false, vec![s(NDC)], false, None),
        ]
    );
    let good = &cfg.domains[0];
    assert_eq!(good.expiry.as_ref().unwrap().zone, ExpiryZone::Utc);
    assert_eq!(good.report_uris, vec![s("https://reports.good.com/pin")]);
    assert!(!good.default_report_uri);
    assert!(cfg.domains[1].default_report_uri);
    // Line of the domain's <key> in the XML plist.
    assert_eq!(good.location.line, Some(11));
}

#[test]
fn trustkit_binary_plist_and_json_forms() {
    let dir = tempfile::tempdir().unwrap();
    let value = plist::Value::from_file(fixture("trustkit-info.plist")).unwrap();
    let bin = dir.path().join("Info.plist");
    value.to_file_binary(&bin).unwrap();
    let from_bin = audit::load(&bin, None, NscOptions::default()).unwrap();
    let from_xml = load("trustkit-info.plist").unwrap();
    assert_eq!(summary(&from_bin), summary(&from_xml));
    assert_eq!(from_bin.domains[0].location.line, None);

    let json = load("trustkit.json").unwrap();
    assert_eq!(json.format, SourceFormat::TrustKit);
    assert_eq!(
        summary(&json),
        vec![(
            s("api.example.com"),
            false,
            vec![s(K87), s(PL1)],
            true,
            None
        )]
    );
}

#[test]
fn trustkit_refusals_use_trustkits_reasons() {
    let err = load("trustkit-one-pin.json").unwrap_err().to_string();
    assert!(
        err.contains(
            "TrustKit refuses this configuration: TrustKit was initialized with less than 2 pins (ie. no backup pins)"
        ),
        "{err}"
    );
    let err = load("trustkit-suffix.json").unwrap_err().to_string();
    assert!(
        err.contains("includeSubdomains for a domain suffix co.jp"),
        "{err}"
    );
    let bad = br#"{"TSKPinnedDomains":{"a.example.com":{"TSKPublicKeyHashes":["AAAA","BBBB"]}}}"#;
    let err = audit::import_bytes(bad, "bad.json", None, NscOptions::default(), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("invalid Public Key Hash \"AAAA\""), "{err}");
    let bad = format!(
        r#"{{"TSKPinnedDomains":{{"a.example.com":{{"TSKPublicKeyHashes":["{K87}","{PL1}"],"TSKExpirationDate":"30/06/2027"}}}}}}"#
    );
    // TrustKit's NSDateFormatter returns nil: no expiry, not a refusal.
    let cfg = import_text(&bad, "bad.json").unwrap();
    assert!(cfg.domains[0].expiry.is_none());
    assert!(
        cfg.ignored[0]
            .name
            .contains("TSKExpirationDate \"30/06/2027\"")
    );
    // Report-only domains may have a single pin (TrustKit requires two only when enforcing).
    let ok = format!(
        r#"{{"TSKPinnedDomains":{{"a.example.com":{{"TSKPublicKeyHashes":["{K87}"],"TSKEnforcePinning":false}}}}}}"#
    );
    assert!(
        audit::import_bytes(ok.as_bytes(), "ok.json", None, NscOptions::default(), None).is_ok()
    );
}

/// `TSKAdditionalTrustAnchors` is read by no current TrustKit (1.6.0 removed
/// it; 1.5.x read it in debug builds only): ignored, saying so, never taken
/// as anchors that would change the audit.
#[test]
fn trustkit_additional_trust_anchors_are_ignored_as_trustkit_does() {
    let with = format!(
        r#"{{"TSKPinnedDomains":{{"a.example.com":{{"TSKPublicKeyHashes":["{K87}","{PL1}"],"TSKAdditionalTrustAnchors":["-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"]}}}}}}"#
    );
    let cfg = audit::import_bytes(
        with.as_bytes(),
        "tk.json",
        None,
        NscOptions::default(),
        None,
    )
    .unwrap();
    let ignored: Vec<&str> = cfg.ignored.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(ignored.len(), 1, "{ignored:?}");
    assert!(
        ignored[0].starts_with("a.example.com: TSKAdditionalTrustAnchors")
            && ignored[0].contains("1.6.0 removed it")
            && ignored[0].contains("debug builds"),
        "{ignored:?}"
    );
    assert_eq!(cfg.domains[0].pins.len(), 2);
}

#[test]
fn ats_pinned_domains() {
    let cfg = load("ats-pinned.plist").unwrap();
    assert_eq!(cfg.format, SourceFormat::Ats);
    let d = &cfg.domains[0];
    assert_eq!(d.host, "api.example.com");
    assert_eq!(d.location.line, Some(9));
    assert_eq!(
        d.pins
            .iter()
            .map(|p| (p.pin.base64(), p.scope))
            .collect::<Vec<_>>(),
        vec![(s(K87), PinScope::Ca), (s(NDC), PinScope::Leaf)]
    );
    let bad = br#"{"NSAppTransportSecurity":{"NSPinnedDomains":{"a.example.com":{"NSIncludesSubdomains":true}}}}"#;
    // Apple documents that one identity list is required; iOS refuses no
    // Info.plist, so the domain is an empty pin set (PIN-EMPTY-SET).
    let cfg = audit::import_bytes(bad, "ats.json", None, NscOptions::default(), None).unwrap();
    assert!(cfg.domains[0].has_pin_set && cfg.domains[0].pins.is_empty());
}

#[test]
fn okhttp_list_and_kotlin() {
    let cfg = load("okhttp-pins.txt").unwrap();
    assert_eq!(cfg.format, SourceFormat::OkHttp);
    assert_eq!(
        summary(&cfg),
        vec![
            (
                s("api.example.com"),
                false,
                vec![s(K87), s(PL1)],
                true,
                None
            ),
            (
                s("**.cdn.example.com"),
                true,
                vec![s(NDC), s(K87)],
                true,
                None
            ),
        ]
    );
    assert_eq!(cfg.domains[1].location.line, Some(4));
    let kt = load("Pinning.kt").unwrap();
    assert_eq!(
        summary(&kt),
        vec![
            (
                s("api.example.com"),
                false,
                vec![s(K87), s(PL1)],
                true,
                None
            ),
            (s("*.static.example.com"), false, vec![s(NDC)], true, None)
        ]
    );
    assert_eq!(kt.domains[0].location.line, Some(8));
    assert_eq!(kt.domains[1].location.line, Some(13));
    let err = audit::load(
        &fixture("okhttp-bad-pattern.txt"),
        Some(SourceFormat::OkHttp),
        NscOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("okhttp-bad-pattern.txt:1: OkHttp refuses this configuration: Invalid pattern: https://api.example.com/v1"), "{err}");
    let err = audit::import_bytes(
        b"a.example.com md5/AAAA\n",
        "p.txt",
        Some(SourceFormat::OkHttp),
        NscOptions::default(),
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("pins must start with 'sha256/' or 'sha1/': md5/AAAA"),
        "{err}"
    );
}

#[test]
fn mamori_policy() {
    let cfg = load("policy.toml").unwrap();
    assert_eq!(cfg.format, SourceFormat::Mamori);
    assert_eq!(
        summary(&cfg),
        vec![(
            s("api.example.com"),
            false,
            vec![s(K87), s(PL1)],
            true,
            Some(s("2030-06-30"))
        )]
    );
    assert_eq!(cfg.domains[0].location.line, Some(4));
    let err = audit::import_bytes(b"[[domain]]\nhost = \"a.example.com\"\npins = [\"sha256/K87oWBWM9UZfyddvDfoxL+8lpNyoUB2ptGtn0fv6G2Q=\"]\n", "one.toml", None, NscOptions::default(), None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("Mamori refuses") && err.contains("backup pin"),
        "{err}"
    );
}

#[test]
fn mamori_policy_domain_lines_in_every_string_spelling() {
    // Each domain's line comes from one scan of the quoted strings: TOML
    // basic and literal strings, JSON strings; a quote in a comment or an
    // earlier mention of the host in a comment does not move it.
    let pins = format!("[\"sha256/{K87}\", \"sha256/{PL1}\"]");
    let toml = format!(
        "# the host's \"a.example.com\" rule comes later; don't move it\n\n[[domain]]\nhost = \"a.example.com\"\npins = {pins}\n\n[[domain]]\nhost = 'b.example.com'\npins = {pins}\n"
    );
    let json = format!(
        "{{\n  \"domain\": [\n    {{\"host\": \"a.example.com\", \"pins\": {pins}}},\n\n    {{\"host\": \"b.example.com\", \"pins\": {pins}}}\n  ]\n}}\n"
    );
    for (text, name, lines) in [(toml, "p.toml", [4, 8]), (json, "p.json", [3, 5])] {
        let cfg = audit::import_bytes(
            text.as_bytes(),
            name,
            Some(SourceFormat::Mamori),
            NscOptions::default(),
            None,
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        let got: Vec<_> = cfg.domains.iter().map(|d| d.location.line).collect();
        assert_eq!(got, lines.map(Some), "{name}:\n{text}");
    }
}

#[test]
fn detection_and_unknown_formats() {
    for (name, f) in [
        ("trustkit-info.plist", SourceFormat::TrustKit),
        ("trustkit.json", SourceFormat::TrustKit),
        ("ats-pinned.plist", SourceFormat::Ats),
        ("okhttp-pins.txt", SourceFormat::OkHttp),
        ("Pinning.kt", SourceFormat::OkHttp),
        ("policy.toml", SourceFormat::Mamori),
    ] {
        let bytes = std::fs::read(fixture(name)).unwrap();
        assert_eq!(audit::detect(&bytes, name).unwrap(), f, "{name}");
    }
    let err = audit::detect(b"hello world\n", "x.txt").unwrap_err();
    assert!(matches!(err, ImportError::UnknownFormat { .. }));
    assert!(err.to_string().contains("pass --from"));
}

fn roundtrip(cfg: &AuditConfig, to: ExportFormat, name: &str) -> AuditConfig {
    let (text, _) = audit::export(cfg, to);
    import_text(&text, name).unwrap_or_else(|e| panic!("{name}: {e}\n{text}"))
}

#[test]
fn round_trips() {
    // TrustKit -> Mamori -> TrustKit keeps hosts, pins, enforcement and expiry.
    let tk = load("trustkit-info.plist").unwrap();
    // www.globalsign.com is report-only with one pin: Mamori accepts it as report-only.
    let m = roundtrip(&tk, ExportFormat::MamoriToml, "tk.toml");
    assert_eq!(summary(&m), summary(&tk));
    let back = roundtrip(&m, ExportFormat::TrustKit, "tk.plist");
    assert_eq!(summary(&back), summary(&tk));
    let j = roundtrip(&tk, ExportFormat::MamoriJson, "tk.json");
    assert_eq!(summary(&j), summary(&tk));

    // OkHttp -> OkHttp and OkHttp -> Mamori -> OkHttp.
    let ok = load("okhttp-pins.txt").unwrap();
    assert_eq!(
        summary(&roundtrip(&ok, ExportFormat::OkHttp, "o.txt")),
        summary(&ok)
    );
    let m = roundtrip(&ok, ExportFormat::MamoriToml, "o.toml");
    assert_eq!(
        summary(&roundtrip(&m, ExportFormat::OkHttp, "o2.txt")),
        summary(&ok)
    );

    // Mamori -> NSC -> Mamori: the date survives, its zone changes (noted).
    let pol = load("policy.toml").unwrap();
    let (xml, notes) = audit::export(&pol, ExportFormat::Nsc);
    assert!(
        notes.iter().any(|n| n.contains("device's time zone")),
        "{notes:?}"
    );
    let nsc = import_text(&xml, "n.xml").unwrap();
    let mut expect = summary(&pol);
    expect[0].4 = Some(s("2030-06-30"));
    assert_eq!(summary(&nsc), expect);
    assert_eq!(
        nsc.domains[0].expiry.as_ref().unwrap().zone,
        ExpiryZone::DeviceLocal
    );
}

#[test]
fn export_notes_what_cannot_be_carried() {
    let ok = load("Pinning.kt").unwrap();
    let (xml, notes) = audit::export(&ok, ExportFormat::Nsc);
    assert!(
        xml.contains("<domain includeSubdomains=\"true\">static.example.com</domain>"),
        "{xml}"
    );
    assert!(
        notes.iter().any(|n| n.contains("exactly one label")),
        "{notes:?}"
    );
    let (_, notes) = audit::export(&ok, ExportFormat::MamoriToml);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("Mamori would refuse the result")
                && n.contains("*.static.example.com")),
        "{notes:?}"
    );
}

#[test]
fn plain_info_plist_is_ats_defaults_without_pins() {
    let plist = br#"<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict><key>CFBundleIdentifier</key><string>jp.example.app</string></dict></plist>"#;
    let cfg = audit::import_bytes(plist, "Info.plist", None, NscOptions::default(), None).unwrap();
    assert_eq!(cfg.format, SourceFormat::Ats);
    assert!(cfg.domains.is_empty());
    // A dictionary that is not an Info.plist is still unknown.
    let other = br#"<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict><key>Colour</key><string>blue</string></dict></plist>"#;
    assert!(matches!(
        audit::import_bytes(other, "x.plist", None, NscOptions::default(), None),
        Err(ImportError::UnknownFormat { .. })
    ));
}

#[test]
fn trustkit_android_config_in_nsc() {
    let xml = format!(
        r#"<network-security-config><domain-config><domain>a.example.com</domain><pin-set><pin digest="SHA-256">{K87}</pin><pin digest="SHA-256">{PL1}</pin></pin-set><trustkit-config enforcePinning="true"><report-uri>http://r.example.com/</report-uri></trustkit-config></domain-config></network-security-config>"#
    );
    let cfg = import_text(&xml, "n.xml").unwrap();
    assert_eq!(cfg.domains[0].report_uris, vec![s("http://r.example.com/")]);
    assert!(cfg.domains[0].default_report_uri);
    assert!(cfg.ignored.is_empty());
}

/// An Info.plist laid out as TrustKit's README and getting-started guide
/// show it: the keys are the strings of TrustKit's constants
/// (`TSKTrustKitConfig.m`: `kTSKPublicKeyHashes = @"TSKPublicKeyHashes"`).
const TRUSTKIT_README_STYLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>CFBundleIdentifier</key>
	<string>com.example.shop</string>
	<key>TSKConfiguration</key>
	<dict>
		<key>TSKSwizzleNetworkDelegates</key>
		<false/>
		<key>TSKPinnedDomains</key>
		<dict>
			<key>shop.example.net</key>
			<dict>
				<key>TSKEnforcePinning</key>
				<true/>
				<key>TSKIncludeSubdomains</key>
				<true/>
				<key>TSKPublicKeyHashes</key>
				<array>
					<string>K87oWBWM9UZfyddvDfoxL+8lpNyoUB2ptGtn0fv6G2Q=</string>
					<string>PL1/TTDEe9Cm2lb2X0tixyQC7zaPREm/V0IHJscTCmw=</string>
				</array>
				<key>TSKDisableDefaultReportUri</key>
				<true/>
				<key>TSKReportUris</key>
				<array>
					<string>https://pins.example.net/report</string>
				</array>
				<key>TSKExpirationDate</key>
				<string>2031-03-31</string>
			</dict>
			<key>cdn.example.org</key>
			<dict>
				<key>TSKEnforcePinning</key>
				<false/>
				<key>TSKPublicKeyHashes</key>
				<array>
					<string>NDCIt6TrQnfOk+lquunrmlPQB3K/7CLOCmSS5kW+KCc=</string>
				</array>
			</dict>
		</dict>
	</dict>
</dict>
</plist>
"#;

#[test]
fn trustkit_readme_style_info_plist_imports_and_round_trips() {
    let cfg = import_text(TRUSTKIT_README_STYLE, "Info.plist").unwrap();
    assert_eq!(cfg.format, SourceFormat::TrustKit);
    let expected = vec![
        (
            s("shop.example.net"),
            true,
            vec![s(K87), s(PL1)],
            true,
            Some(s("2031-03-31")),
        ),
        (s("cdn.example.org"), false, vec![s(NDC)], false, None),
    ];
    assert_eq!(summary(&cfg), expected);
    assert_eq!(
        cfg.domains[0].report_uris,
        vec![s("https://pins.example.net/report")]
    );
    assert!(!cfg.domains[0].default_report_uri);
    assert!(cfg.domains[1].default_report_uri);
    assert!(cfg.ignored.is_empty(), "{:?}", cfg.ignored);

    // convert --to trustkit writes the keys TrustKit looks up, and reads back.
    let (text, _) = audit::export(&cfg, ExportFormat::TrustKit);
    for key in [
        "TSKConfiguration",
        "TSKPinnedDomains",
        "TSKPublicKeyHashes",
        "TSKIncludeSubdomains",
        "TSKEnforcePinning",
        "TSKExpirationDate",
        "TSKReportUris",
        "TSKDisableDefaultReportUri",
    ] {
        assert!(text.contains(&format!("<key>{key}</key>")), "{key}\n{text}");
    }
    assert!(!text.contains("kTSK"), "{text}");
    let back = roundtrip(&cfg, ExportFormat::TrustKit, "back.plist");
    assert_eq!(summary(&back), expected);
}

#[test]
fn trustkit_constant_names_as_plist_keys_are_not_trustkits_keys() {
    // The Objective-C constants' names are not keys TrustKit reads: it finds
    // no TSKPublicKeyHashes and raises.
    let bad = format!(
        r#"{{"TSKPinnedDomains":{{"a.example.com":{{"kTSKPublicKeyHashes":["{K87}","{PL1}"],"kTSKIncludeSubdomains":true}}}}}}"#
    );
    let err = refusal(&bad, "bad.json");
    assert!(err.contains("for domain a.example.com"), "{err}");
    assert!(
        err.contains(
            "TrustKit reads `TSKPublicKeyHashes`; `kTSKPublicKeyHashes` is the Objective-C constant's name"
        ),
        "{err}"
    );
    let plist = TRUSTKIT_README_STYLE.replace(
        "<key>TSKPinnedDomains</key>",
        "<key>kTSKPinnedDomains</key>",
    );
    let err = refusal(&plist, "Info.plist");
    assert!(
        err.contains("TrustKit reads `TSKPinnedDomains`; `kTSKPinnedDomains` is the Objective-C constant's name"),
        "{err}"
    );
    // With the real hashes key, a constant's name elsewhere is a key TrustKit
    // never reads: the domain keeps TrustKit's defaults and the key is listed
    // as ignored, with the key that was meant.
    let half = format!(
        r#"{{"TSKPinnedDomains":{{"a.example.com":{{"TSKPublicKeyHashes":["{K87}","{PL1}"],"kTSKIncludeSubdomains":true}}}}}}"#
    );
    let cfg = import_text(&half, "half.json").unwrap();
    assert!(!cfg.domains[0].include_subdomains);
    assert_eq!(cfg.ignored.len(), 1);
    assert!(
        cfg.ignored[0]
            .name
            .contains("TrustKit reads `TSKIncludeSubdomains`"),
        "{:?}",
        cfg.ignored
    );
}

#[test]
fn trustkit_excluded_subdomain_is_unpinned_and_alone() {
    // The key's string is TrustKit's own typo: kSKExcludeSubdomainFromParentPolicy.
    let ok = format!(
        r#"{{"TSKPinnedDomains":{{"example.com":{{"TSKPublicKeyHashes":["{K87}","{PL1}"],"TSKIncludeSubdomains":true}},"open.example.com":{{"kSKExcludeSubdomainFromParentPolicy":true}}}}}}"#
    );
    let cfg = import_text(&ok, "ok.json").unwrap();
    let open = cfg
        .domains
        .iter()
        .find(|d| d.host == "open.example.com")
        .unwrap();
    assert!(open.pins.is_empty());
    assert!(!open.include_subdomains);
    assert!(cfg.ignored.is_empty(), "{:?}", cfg.ignored);
    // convert --to trustkit keeps the exclusion, under TrustKit's key string.
    let (text, _) = audit::export(&cfg, ExportFormat::TrustKit);
    assert!(
        text.contains("<key>open.example.com</key>\n\t\t\t<dict>\n\t\t\t\t<key>kSKExcludeSubdomainFromParentPolicy</key>\n\t\t\t\t<true/>\n\t\t\t</dict>"),
        "{text}"
    );
    let back = roundtrip(&cfg, ExportFormat::TrustKit, "back.plist");
    assert_eq!(summary(&back), summary(&cfg));
    let bad = format!(
        r#"{{"TSKPinnedDomains":{{"open.example.com":{{"kSKExcludeSubdomainFromParentPolicy":true,"TSKPublicKeyHashes":["{K87}","{PL1}"]}}}}}}"#
    );
    let err = refusal(&bad, "bad.json");
    assert!(
        err.contains("but detected additional configuration keys"),
        "{err}"
    );
}
