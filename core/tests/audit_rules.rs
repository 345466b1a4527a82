//! Golden tests for every audit rule: one minimal configuration that triggers
//! it (with the message written out by hand) and one that does not.

use mamori::audit::SuppliedChain;
use mamori::audit::{self, NscOptions};
use mamori::audit::{AuditFinding, AuditOptions, Lang};
use time::macros::datetime;

const A: &str = "K87oWBWM9UZfyddvDfoxL+8lpNyoUB2ptGtn0fv6G2Q=";
const B: &str = "PL1/TTDEe9Cm2lb2X0tixyQC7zaPREm/V0IHJscTCmw=";
const C: &str = "NDCIt6TrQnfOk+lquunrmlPQB3K/7CLOCmSS5kW+KCc=";
const ZERO: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

fn nsc(body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<network-security-config>\n{body}\n</network-security-config>\n"
    )
}

fn pinned(host: &str, pins: &[&str], attrs: &str) -> String {
    let p: String = pins
        .iter()
        .map(|p| format!("<pin digest=\"SHA-256\">{p}</pin>"))
        .collect();
    format!("<domain-config><domain>{host}</domain><pin-set{attrs}>{p}</pin-set></domain-config>")
}

fn tk(host: &str, pins: &[&str], extra: &str) -> String {
    let p: Vec<String> = pins.iter().map(|p| format!("\"{p}\"")).collect();
    format!(
        r#"{{"TSKPinnedDomains":{{"{host}":{{"TSKPublicKeyHashes":[{}]{extra}}}}}}}"#,
        p.join(",")
    )
}

fn ats(body: &str) -> String {
    format!(r#"{{"NSAppTransportSecurity":{{{body}}}}}"#)
}

fn findings(
    files: &[(&str, String)],
    sdk: Option<u32>,
    chains: Vec<SuppliedChain>,
) -> Vec<AuditFinding> {
    let configs: Vec<_> = files
        .iter()
        .map(|(name, text)| {
            audit::import_bytes(text.as_bytes(), name, None, NscOptions::default(), None)
                .unwrap_or_else(|e| panic!("{name}: {e}\n{text}"))
        })
        .collect();
    let mut opts = AuditOptions::at(datetime!(2026-06-01 00:00 UTC));
    opts.android_target_sdk = sdk;
    opts.chains = chains;
    audit::audit(&configs, &opts)
}

struct Case {
    rule: &'static str,
    trigger: Vec<(&'static str, String)>,
    message: &'static str,
    clean: Vec<(&'static str, String)>,
    sdk: Option<u32>,
    clean_sdk: Option<u32>,
}

fn case(
    rule: &'static str,
    trigger: Vec<(&'static str, String)>,
    message: &'static str,
    clean: Vec<(&'static str, String)>,
) -> Case {
    Case {
        rule,
        trigger,
        message,
        clean,
        sdk: None,
        clean_sdk: None,
    }
}

fn x(t: String) -> Vec<(&'static str, String)> {
    vec![("t.xml", t)]
}

fn j(t: String) -> Vec<(&'static str, String)> {
    vec![("t.json", t)]
}

fn cases() -> Vec<Case> {
    let good = nsc(&pinned(
        "a.example.com",
        &[A, B],
        " expiration=\"2027-01-01\"",
    ));
    let good_noexp = nsc(&pinned("a.example.com", &[A, B], ""));
    let mut v = vec![
        case(
            "PIN-NONE",
            x(nsc("<base-config/>")),
            "t.xml pins no domain",
            x(good.clone()),
        ),
        case(
            "PIN-DOMAIN-UNPINNED",
            x(nsc(
                "<domain-config><domain>a.example.com</domain></domain-config>",
            )),
            "a.example.com has a domain-config but no pins (own or inherited)",
            // A nested config inherits its parent's pin-set.
            x(nsc(&format!(
                "<domain-config><domain>a.example.com</domain><pin-set><pin digest=\"SHA-256\">{A}</pin><pin digest=\"SHA-256\">{B}</pin></pin-set><domain-config><domain>b.example.com</domain></domain-config></domain-config>"
            ))),
        ),
        case(
            "PIN-EMPTY-SET",
            x(nsc(&pinned("a.example.com", &[], ""))),
            "the pin-set of a.example.com contains no pin",
            x(good.clone()),
        ),
        case(
            "PIN-BACKUP-MISSING",
            x(nsc(&pinned("a.example.com", &[A], ""))),
            "a.example.com is pinned to a single key",
            x(good.clone()),
        ),
        case(
            "PIN-BACKUP-EQUALS-PRIMARY",
            x(nsc(&pinned("a.example.com", &[A, A], ""))),
            "a.example.com: the backup pin repeats the primary pin sha256/K87oWBWM9UZfyddvDfoxL+8lpNyoUB2ptGtn0fv6G2Q=",
            x(good.clone()),
        ),
        case(
            "PIN-BACKUP-DUPLICATE",
            x(nsc(&pinned("a.example.com", &[A, B, B], ""))),
            "a.example.com: backup pin sha256/PL1/TTDEe9Cm2lb2X0tixyQC7zaPREm/V0IHJscTCmw= is listed more than once",
            x(nsc(&pinned("a.example.com", &[A, B, C], ""))),
        ),
        case(
            "PIN-BACKUP-PLACEHOLDER",
            x(nsc(&pinned("a.example.com", &[A, ZERO], ""))),
            "a.example.com: pin sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= is a placeholder (every byte the same), not the hash of a key",
            x(good.clone()),
        ),
        case(
            "PIN-NO-EXPIRY",
            x(good_noexp.clone()),
            "a.example.com: pins never expire",
            x(good.clone()),
        ),
        case(
            "PIN-EXPIRED",
            x(nsc(&pinned(
                "a.example.com",
                &[A, B],
                " expiration=\"2026-05-01\"",
            ))),
            "a.example.com: pins expired on 2026-05-01; pinning is no longer enforced",
            x(good.clone()),
        ),
        case(
            "PIN-EXPIRING",
            x(nsc(&pinned(
                "a.example.com",
                &[A, B],
                " expiration=\"2026-06-20\"",
            ))),
            "a.example.com: pins expire on 2026-06-20",
            x(good.clone()),
        ),
        case(
            "PIN-EXPIRY-FAIL-OPEN",
            x(good.clone()),
            "a.example.com: after 2027-01-01 pinning stops without any report",
            vec![(
                "p.toml",
                format!(
                    "[[domain]]\nhost = \"a.example.com\"\npins = [\"sha256/{A}\", \"sha256/{B}\"]\nexpires = \"2027-01-01\"\n"
                ),
            )],
        ),
        case(
            "EXPIRY-TIMEZONE",
            x(good.clone()),
            "a.example.com: expiration 2027-01-01 is read at midnight in each device's time zone (up to 26 h apart between devices)",
            j(tk(
                "a.example.com",
                &[A, B],
                r#","TSKExpirationDate":"2027-01-01","TSKDisableDefaultReportUri":true"#,
            )),
        ),
        case(
            "PIN-REPORT-ONLY",
            j(tk(
                "a.example.com",
                &[A, B],
                r#","TSKEnforcePinning":false,"TSKDisableDefaultReportUri":true"#,
            )),
            "a.example.com: pin failures are reported but not blocked",
            j(tk(
                "a.example.com",
                &[A, B],
                r#","TSKEnforcePinning":true,"TSKDisableDefaultReportUri":true"#,
            )),
        ),
        case(
            "REPORT-URI-INSECURE",
            vec![(
                "p.toml",
                format!(
                    "[[domain]]\nhost = \"a.example.com\"\npins = [\"sha256/{A}\", \"sha256/{B}\"]\nreport_uris = [\"http://r.example.com/\"]\n"
                ),
            )],
            "a.example.com: report URI http://r.example.com/ is not HTTPS",
            vec![(
                "p.toml",
                format!(
                    "[[domain]]\nhost = \"a.example.com\"\npins = [\"sha256/{A}\", \"sha256/{B}\"]\nreport_uris = [\"https://r.example.com/\"]\n"
                ),
            )],
        ),
        case(
            "REPORT-URI-VENDOR-DEFAULT",
            j(tk("a.example.com", &[A, B], "")),
            "a.example.com: TrustKit also sends failure reports to its default vendor endpoint",
            j(tk(
                "a.example.com",
                &[A, B],
                r#","TSKDisableDefaultReportUri":true"#,
            )),
        ),
        case(
            "SUBDOMAINS-PUBLIC-SUFFIX",
            x(nsc(&format!(
                "<domain-config><domain includeSubdomains=\"true\">co.jp</domain><pin-set><pin digest=\"SHA-256\">{A}</pin><pin digest=\"SHA-256\">{B}</pin></pin-set></domain-config>"
            ))),
            "co.jp is a public suffix: includeSubdomains pins unrelated sites",
            x(nsc(&format!(
                "<domain-config><domain includeSubdomains=\"true\">example.co.jp</domain><pin-set><pin digest=\"SHA-256\">{A}</pin><pin digest=\"SHA-256\">{B}</pin></pin-set></domain-config>"
            ))),
        ),
        case(
            "SUBDOMAINS-WIDE",
            x(nsc(&format!(
                "<domain-config><domain includeSubdomains=\"true\">example.co.jp</domain><pin-set><pin digest=\"SHA-256\">{A}</pin><pin digest=\"SHA-256\">{B}</pin></pin-set></domain-config>"
            ))),
            "example.co.jp: pins apply to every subdomain of the registrable domain",
            x(nsc(&format!(
                "<domain-config><domain includeSubdomains=\"true\">api.example.co.jp</domain><pin-set><pin digest=\"SHA-256\">{A}</pin><pin digest=\"SHA-256\">{B}</pin></pin-set></domain-config>"
            ))),
        ),
        case(
            "ATS-LEAF-IDENTITIES-ONLY",
            j(ats(&format!(
                r#""NSPinnedDomains":{{"a.example.com":{{"NSPinnedLeafIdentities":[{{"SPKI-SHA256-BASE64":"{A}"}},{{"SPKI-SHA256-BASE64":"{B}"}}]}}}}"#
            ))),
            "a.example.com: NSPinnedLeafIdentities without NSPinnedCAIdentities",
            j(ats(&format!(
                r#""NSPinnedDomains":{{"a.example.com":{{"NSPinnedCAIdentities":[{{"SPKI-SHA256-BASE64":"{A}"}},{{"SPKI-SHA256-BASE64":"{B}"}}]}}}}"#
            ))),
        ),
        case(
            "TRUST-USER-CA",
            x(nsc(&format!(
                "<base-config><trust-anchors><certificates src=\"user\"/></trust-anchors></base-config>{}",
                pinned("a.example.com", &[A, B], "")
            ))),
            "base-config trusts user-installed CA certificates",
            x(nsc(&format!(
                "<debug-overrides><trust-anchors><certificates src=\"user\"/></trust-anchors></debug-overrides>{}",
                pinned("a.example.com", &[A, B], "")
            ))),
        ),
        case(
            "TRUST-SYSTEM",
            x(nsc(
                "<domain-config><domain>a.example.com</domain><trust-anchors><certificates src=\"system\"/></trust-anchors></domain-config>",
            )),
            "a.example.com trusts the system CA store and has no pins",
            x(nsc(&format!(
                "<domain-config><domain>a.example.com</domain><trust-anchors><certificates src=\"system\"/></trust-anchors><pin-set><pin digest=\"SHA-256\">{A}</pin><pin digest=\"SHA-256\">{B}</pin></pin-set></domain-config>"
            ))),
        ),
        case(
            "TRUST-BUNDLED-CA",
            x(nsc(&format!(
                "<domain-config><domain>a.example.com</domain><trust-anchors><certificates src=\"@raw/private_ca\"/></trust-anchors><pin-set><pin digest=\"SHA-256\">{A}</pin><pin digest=\"SHA-256\">{B}</pin></pin-set></domain-config>"
            ))),
            "domain-config a.example.com (@raw/private_ca) trusts CA certificates bundled in the app",
            x(good.clone()),
        ),
        case(
            "TRUST-OVERRIDE-PINS",
            x(nsc(&format!(
                "<domain-config><domain>a.example.com</domain><trust-anchors><certificates src=\"system\" overridePins=\"true\"/></trust-anchors><pin-set><pin digest=\"SHA-256\">{A}</pin><pin digest=\"SHA-256\">{B}</pin></pin-set></domain-config>"
            ))),
            "domain-config a.example.com, src=\"system\": overridePins=\"true\" disables pin checks for chains ending in this anchor",
            x(nsc(&format!(
                "{}<debug-overrides><trust-anchors><certificates src=\"system\" overridePins=\"true\"/></trust-anchors></debug-overrides>",
                pinned("a.example.com", &[A, B], "")
            ))),
        ),
        case(
            "DEBUG-OVERRIDES",
            x(nsc(&format!(
                "{}<debug-overrides><trust-anchors><certificates src=\"user\"/></trust-anchors></debug-overrides>",
                pinned("a.example.com", &[A, B], "")
            ))),
            "debug-overrides trusts user (overridePins) in debuggable builds",
            x(good.clone()),
        ),
        case(
            "CLEARTEXT-BASE",
            x(nsc(&format!(
                "<base-config cleartextTrafficPermitted=\"true\"/>{}",
                pinned("a.example.com", &[A, B], "")
            ))),
            "base-config permits cleartext HTTP for every domain",
            x(nsc(&format!(
                "<base-config cleartextTrafficPermitted=\"false\"/>{}",
                pinned("a.example.com", &[A, B], "")
            ))),
        ),
        case(
            "CLEARTEXT-DOMAIN",
            x(nsc(&format!(
                "<domain-config cleartextTrafficPermitted=\"true\"><domain>a.example.com</domain><pin-set><pin digest=\"SHA-256\">{A}</pin><pin digest=\"SHA-256\">{B}</pin></pin-set></domain-config>"
            ))),
            "a.example.com permits cleartext HTTP although it is pinned",
            x(nsc(&format!(
                "<domain-config cleartextTrafficPermitted=\"false\"><domain>a.example.com</domain><pin-set><pin digest=\"SHA-256\">{A}</pin><pin digest=\"SHA-256\">{B}</pin></pin-set></domain-config>"
            ))),
        ),
        case(
            "ATS-GLOBAL-EXCEPTION",
            j(ats(r#""NSAllowsArbitraryLoadsInWebContent":true"#)),
            "NSAllowsArbitraryLoadsInWebContent = YES weakens App Transport Security",
            j(ats(r#""NSAllowsArbitraryLoadsInWebContent":false"#)),
        ),
        case(
            "ATS-WEAK-TLS",
            j(ats(
                r#""NSExceptionDomains":{"a.example.com":{"NSExceptionMinimumTLSVersion":"TLSv1.1"}}"#,
            )),
            "a.example.com: NSExceptionMinimumTLSVersion = TLSv1.1",
            j(ats(
                r#""NSExceptionDomains":{"a.example.com":{"NSExceptionMinimumTLSVersion":"TLSv1.2"}}"#,
            )),
        ),
        case(
            "ATS-NO-FORWARD-SECRECY",
            j(ats(
                r#""NSExceptionDomains":{"a.example.com":{"NSExceptionRequiresForwardSecrecy":false}}"#,
            )),
            "a.example.com: NSExceptionRequiresForwardSecrecy = NO",
            j(ats(
                r#""NSExceptionDomains":{"a.example.com":{"NSExceptionRequiresForwardSecrecy":true}}"#,
            )),
        ),
        case(
            "ATS-EXCEPTION-SUBDOMAINS",
            j(ats(
                r#""NSExceptionDomains":{"a.example.com":{"NSIncludesSubdomains":true,"NSExceptionAllowsInsecureHTTPLoads":true}}"#,
            )),
            "a.example.com: the ATS exception applies to its subdomains too (those one label below it)",
            j(ats(
                r#""NSExceptionDomains":{"a.example.com":{"NSIncludesSubdomains":false,"NSExceptionAllowsInsecureHTTPLoads":true}}"#,
            )),
        ),
        case(
            "CONFIG-IGNORED",
            x(nsc(&format!(
                "<domain-config><domain>a.example.com</domain><pinset><pin digest=\"SHA-256\">{A}</pin></pinset></domain-config>"
            ))),
            "<pinset> is ignored by the platform (typo or unsupported)",
            x(good.clone()),
        ),
        case(
            "XPLAT-UNPINNED",
            vec![
                (
                    "t.xml",
                    nsc(&format!(
                        "{}{}",
                        pinned("a.example.com", &[A, B], " expiration=\"2027-01-01\""),
                        pinned("b.example.com", &[A, B], " expiration=\"2027-01-01\"")
                    )),
                ),
                // TrustKit refuses an empty TSKPinnedDomains: iOS pins
                // b.example.com only.
                (
                    "t.json",
                    tk(
                        "b.example.com",
                        &[A, B],
                        r#","TSKDisableDefaultReportUri":true"#,
                    ),
                ),
            ],
            "a.example.com is pinned on Android but not on iOS",
            vec![
                ("t.xml", good.clone()),
                (
                    "t.json",
                    tk(
                        "a.example.com",
                        &[A, B],
                        r#","TSKDisableDefaultReportUri":true"#,
                    ),
                ),
            ],
        ),
        case(
            "XPLAT-PINS-DIFFER",
            vec![
                ("t.xml", good.clone()),
                (
                    "t.json",
                    tk(
                        "a.example.com",
                        &[A, C],
                        r#","TSKDisableDefaultReportUri":true"#,
                    ),
                ),
            ],
            "a.example.com: Android pins 2 key(s), iOS 2 key(s), 1 in common",
            vec![
                ("t.xml", good.clone()),
                (
                    "t.json",
                    tk(
                        "a.example.com",
                        &[B, A],
                        r#","TSKDisableDefaultReportUri":true"#,
                    ),
                ),
            ],
        ),
    ];
    let ats_pins = |pins: &[&str]| {
        let items: Vec<String> = pins
            .iter()
            .map(|p| format!(r#"{{"SPKI-SHA256-BASE64":"{p}"}}"#))
            .collect();
        ats(&format!(
            r#""NSPinnedDomains":{{"a.example.com":{{"NSPinnedCAIdentities":[{}]}}}}"#,
            items.join(",")
        ))
    };
    let unpadded = A.trim_end_matches('=');
    v.push(case(
        "PIN-NEVER-MATCHES",
        j(ats_pins(&[unpadded, B, C])),
        "a pin of a.example.com can never match: \"K87oWBWM9UZfyddvDfoxL+8lpNyoUB2ptGtn0fv6G2Q\" (it does not decode: Data(base64Encoded:): the `=` padding is required; read by Data(base64Encoded:))",
        j(ats_pins(&[B, C])),
    ));
    v.push(case(
        "PIN-SET-UNMATCHABLE",
        j(ats_pins(&[unpadded])),
        "no pin of a.example.com can ever match: every connection to it fails",
        j(ats_pins(&[B, C])),
    ));
    v.push(case(
        "PIN-LENIENT-ENCODING",
        x(nsc(&pinned("a.example.com", &[unpadded, B], ""))),
        "a pin of a.example.com is not canonical base64: \"K87oWBWM9UZfyddvDfoxL+8lpNyoUB2ptGtn0fv6G2Q\" (android.util.Base64 (DEFAULT): the `=` padding is missing)",
        x(good_noexp.clone()),
    ));
    let ct = |anchors: &str, ct: &str| {
        nsc(&format!(
            "<base-config><certificateTransparency enabled=\"true\"/></base-config><domain-config><domain>a.example.com</domain>{ct}<trust-anchors>{anchors}</trust-anchors><pin-set><pin digest=\"SHA-256\">{A}</pin><pin digest=\"SHA-256\">{B}</pin></pin-set></domain-config>"
        ))
    };
    v.push(case(
        "CT-DISABLED-BY-ANCHORS",
        x(ct("<certificates src=\"@raw/ca\"/>", "")),
        "certificate transparency is not required for domain-config a.example.com: its src=\"@raw/ca\" anchors switch CT off, where base-config requires CT",
        x(ct(
            "<certificates src=\"@raw/ca\"/>",
            "<certificateTransparency enabled=\"true\"/>",
        )),
    ));
    v.push(case(
        "CT-IGNORED-BELOW-API-36",
        x(nsc(&format!(
            "<base-config><certificateTransparency enabled=\"true\"/></base-config>{}",
            pinned("a.example.com", &[A, B], "")
        ))),
        "certificate transparency is required only from Android 16 (API 36): base-config declares <certificateTransparency enabled=\"true\"/>; devices below API 36 skip the element (the app's minSdkVersion is not known)",
        x(good_noexp.clone()),
    ));
    let tka = |attrs: &str| {
        nsc(&format!(
            "<domain-config><domain>a.example.com</domain><pin-set><pin digest=\"SHA-256\">{A}</pin><pin digest=\"SHA-256\">{B}</pin></pin-set><trustkit-config{attrs} disableDefaultReportUri=\"true\"/></domain-config>"
        ))
    };
    v.push(case(
        "TRUSTKIT-ANDROID-NOT-ENFORCED",
        x(tka("")),
        "TrustKit-Android does not enforce the pins of a.example.com: enforcePinning is not set and TrustKit-Android's default is false: below API 24 mismatches are only reported; from API 24 Android blocks them anyway",
        x(tka(" enforcePinning=\"true\"")),
    ));
    // Pinning in code (audit::source): a Kotlin pinner.
    let kt = |body: &str| -> Vec<(&'static str, String)> {
        vec![(
            "Pins.kt",
            format!(
                "import okhttp3.CertificatePinner\n\nfun pinner() = CertificatePinner.Builder()\n{body}\n    .build()\n"
            ),
        )]
    };
    let both = format!("    .add(\"a.example.com\", \"sha256/{A}\", \"sha256/{B}\")");
    v.push(case(
        "SOURCE-UNRESOLVED",
        kt(&format!("    .add(\"a.example.com\", \"sha256/{A}\", loadPin())")),
        "a pin of a.example.com is `loadPin()`: the result of calling `loadPin` is not evaluated; use a constant, or check the function by hand",
        kt(&both),
    ));
    v.push(case(
        "PIN-BUILDCONFIG-ONLY",
        kt(&format!("    .add(\"a.example.com\", \"sha256/{A}\", BuildConfig.PIN_BACKUP)")),
        "a pin of a.example.com is `BuildConfig.PIN_BACKUP`: BuildConfig.PIN_BACKUP is generated from a `buildConfigField` in build.gradle(.kts); pass that file to `mamori audit` together with this one",
        kt(&both),
    ));
    v.push(case(
        "OKHTTP-PIN-UNION",
        kt(&format!(
            "{both}\n    .add(\"**.example.com\", \"sha256/{C}\", \"sha256/{A}\")"
        )),
        "a.example.com: for a.example.com OkHttp also accepts 1 pin(s) of **.example.com (Pins.kt:5)",
        kt(&format!(
            "{both}\n    .add(\"**.example.com\", \"sha256/{B}\", \"sha256/{A}\")"
        )),
    ));
    v.push(case(
        "OKHTTP-PIN-SHA1",
        kt(&format!(
            "    .add(\"a.example.com\", \"sha256/{A}\", \"sha1/sBFctHESptDWli2yIHtOVZJ3in4=\")"
        )),
        "a.example.com: sha1/sBFctHESptDWli2yIHtOVZJ3in4= is a SHA-1 pin",
        kt(&both),
    ));
    v.push(case(
        "NSC-NOT-BOOLEAN",
        x(nsc(&format!(
            "<base-config cleartextTrafficPermitted=\"no\"/>{}",
            pinned("a.example.com", &[A, B], "")
        ))),
        "base-config@cleartextTrafficPermitted=\"no\" is not a boolean: aapt2 compiles it to a string, so Android applies the attribute's default, true",
        x(nsc(&format!(
            "<base-config cleartextTrafficPermitted=\"False\"/>{}",
            pinned("a.example.com", &[A, B], "")
        ))),
    ));
    v.push(case(
        "TRUSTKIT-EXCLUDED-SUBDOMAIN",
        vec![(
            "t.json",
            format!(
                r#"{{"TSKPinnedDomains":{{"example.com":{{"TSKPublicKeyHashes":["{A}","{B}"],"TSKIncludeSubdomains":true}},"cdn.example.com":{{"kSKExcludeSubdomainFromParentPolicy":true}}}}}}"#
            ),
        )],
        "cdn.example.com is excluded from its parent domain's pinning policy (TSKExcludeSubdomainFromParentPolicy): TrustKit does not pin it",
        vec![("t.json", tk("example.com", &[A, B], ""))],
    ));
    v.push(case(
        "PIN-DOMAIN-NEVER-MATCHES",
        x(nsc(&pinned("*.example.com", &[A, B], ""))),
        "\"*.example.com\" has a literal `*`: only OkHttp has wildcard patterns: its pins and settings never apply",
        x(good_noexp.clone()),
    ));
    let mut sdk = case(
        "TRUST-USER-CA-DEFAULT",
        x(good.clone()),
        "target SDK 23 trusts user CAs by default and base-config declares no trust-anchors",
        x(good.clone()),
    );
    sdk.sdk = Some(23);
    sdk.clean_sdk = Some(24);
    v.push(sdk);
    let mut sdk = case(
        "CLEARTEXT-DEFAULT",
        x(good.clone()),
        "target SDK 27 permits cleartext by default and base-config does not forbid it",
        x(good),
    );
    sdk.sdk = Some(27);
    sdk.clean_sdk = Some(28);
    v.push(sdk);
    v
}

#[test]
fn every_rule_triggers_with_its_message_and_not_on_the_clean_config() {
    let cases = cases();
    for c in &cases {
        let got = findings(&c.trigger, c.sdk, Vec::new());
        let hits: Vec<&AuditFinding> = got.iter().filter(|f| f.rule == c.rule).collect();
        assert_eq!(hits.len(), 1, "{}: {:#?}", c.rule, got);
        assert_eq!(hits[0].message(Lang::En), c.message, "{}", c.rule);
        assert!(!hits[0].message(Lang::Ja).is_empty());
        let clean = findings(&c.clean, c.clean_sdk, Vec::new());
        assert!(
            clean.iter().all(|f| f.rule != c.rule),
            "{} on clean config: {:#?}",
            c.rule,
            clean
        );
    }
    // Every rule of the table is covered here or by the chain tests below.
    let chain_rules = ["PIN-CHAIN-MISMATCH", "PIN-LEAF-ONLY-SHORT-LIVED"];
    // Rules about a package itself fire on real APKs built by aapt:
    // cli/tests/package_cli.rs (a_debuggable_build…, a_missing_raw_anchor…,
    // allow_backup…, a_second_application_element…, reference_valued…,
    // nsc_variants…).
    let package_rules = [
        "APP-ALLOW-BACKUP",
        "APP-ANCHOR-UNREADABLE",
        "APP-DEBUGGABLE",
        "APP-MANIFEST-AMBIGUOUS",
        "APP-NSC-VARIANT",
    ];
    for r in audit::rules() {
        assert!(
            cases.iter().any(|c| c.rule == r.id)
                || chain_rules.contains(&r.id.as_str())
                || package_rules.contains(&r.id.as_str()),
            "no golden case for {}",
            r.id
        );
    }
}

#[test]
fn rule_table_is_complete_in_both_languages() {
    let all = audit::rules();
    assert_eq!(all.len(), 54);
    let mut ids: Vec<&str> = all.iter().map(|r| r.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), all.len(), "duplicate rule ids");
    for r in all {
        for t in [&r.en, &r.ja] {
            for (name, s) in [
                ("title", &t.title),
                ("message", &t.message),
                ("criterion", &t.criterion),
                ("risk", &t.risk),
                ("applies", &t.applies),
                ("remediation", &t.remediation),
                ("bad", &t.bad),
            ] {
                assert!(!s.trim().is_empty(), "{} {name}", r.id);
            }
        }
        // Japanese text is Japanese: it contains kana or kanji.
        assert!(
            r.ja.risk
                .chars()
                .any(|c| ('\u{3040}'..='\u{9fff}').contains(&c)),
            "{}",
            r.id
        );
    }
}

#[test]
fn cross_platform_expiry_mismatch() {
    let files = vec![
        (
            "t.xml",
            nsc(&pinned(
                "a.example.com",
                &[A, B],
                " expiration=\"2027-01-01\"",
            )),
        ),
        (
            "t.json",
            tk(
                "a.example.com",
                &[A, B],
                r#","TSKExpirationDate":"2027-01-01","TSKDisableDefaultReportUri":true"#,
            ),
        ),
    ];
    let got = findings(&files, None, Vec::new());
    let msgs: Vec<String> = got
        .iter()
        .filter(|f| f.rule == "EXPIRY-TIMEZONE")
        .map(|f| f.message(Lang::En))
        .collect();
    assert!(msgs.contains(&"a.example.com: Android expiry 2027-01-01 (device-local midnight) vs iOS expiry 2027-01-01 (midnight UTC): pinning ends at different instants".to_owned()), "{msgs:?}");
}

// Chains: generated with rcgen (a CA and leaves of chosen lifetimes).
struct Pki {
    ca_pin: String,
    leaf_pin: String,
    chain: Vec<Vec<u8>>,
}

fn pki(days: i64) -> Pki {
    use mamori_tests::{KeyKind, LeafSpec, leaf_cert, root_ca};
    let ca = root_ca("Test CA", KeyKind::P256);
    let mut spec = LeafSpec::new(&["a.example.com"]);
    spec.not_before = time::OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap();
    spec.not_after = spec.not_before + time::Duration::days(days);
    let leaf = leaf_cert(&spec, &ca);
    let pin = |der: &[u8]| mamori::pinning::Pin::of_certificate(der).unwrap().base64();
    Pki {
        ca_pin: pin(&ca.der),
        leaf_pin: pin(&leaf.der),
        chain: vec![leaf.der.to_vec(), ca.der.to_vec()],
    }
}

#[test]
fn chain_mismatch_and_match() {
    let pki = pki(365);
    let chain = SuppliedChain::from_der("a.example.com", "chain.pem", &pki.chain).unwrap();
    // Pins of unrelated keys: critical mismatch.
    let got = findings(
        &[("t.xml", nsc(&pinned("a.example.com", &[A, B], "")))],
        None,
        vec![chain.clone()],
    );
    let hit: Vec<_> = got
        .iter()
        .filter(|f| f.rule == "PIN-CHAIN-MISMATCH")
        .collect();
    assert_eq!(hit.len(), 1);
    assert_eq!(
        hit[0].message(Lang::En),
        "a.example.com: no configured pin matches the chain from chain.pem"
    );
    // The CA's pin plus a backup: no mismatch.
    let got = findings(
        &[(
            "t.xml",
            nsc(&pinned("a.example.com", &[&pki.ca_pin, B], "")),
        )],
        None,
        vec![chain.clone()],
    );
    assert!(
        got.iter().all(|f| f.rule != "PIN-CHAIN-MISMATCH"),
        "{got:#?}"
    );
    // A chain for a host the config does not pin is not a mismatch.
    let other = SuppliedChain::from_der("b.example.com", "other.pem", &pki.chain).unwrap();
    let got = findings(
        &[(
            "t.xml",
            nsc(&pinned("a.example.com", &[&pki.ca_pin, B], "")),
        )],
        None,
        vec![other],
    );
    assert!(got.iter().all(|f| f.rule != "PIN-CHAIN-MISMATCH"));
    // ATS leaf identities match only the leaf: the CA pin as a *leaf* identity does not count.
    let a = ats(&format!(
        r#""NSPinnedDomains":{{"a.example.com":{{"NSPinnedLeafIdentities":[{{"SPKI-SHA256-BASE64":"{}"}},{{"SPKI-SHA256-BASE64":"{B}"}}]}}}}"#,
        pki.ca_pin
    ));
    let got = findings(&[("t.json", a)], None, vec![chain]);
    assert!(
        got.iter().any(|f| f.rule == "PIN-CHAIN-MISMATCH"),
        "{got:#?}"
    );
}

#[test]
fn leaf_only_pinning_of_short_lived_certificates() {
    let short = pki(90);
    let chain = SuppliedChain::from_der("a.example.com", "chain.pem", &short.chain).unwrap();
    let got = findings(
        &[(
            "t.xml",
            nsc(&pinned("a.example.com", &[&short.leaf_pin, B], "")),
        )],
        None,
        vec![chain.clone()],
    );
    let hit: Vec<_> = got
        .iter()
        .filter(|f| f.rule == "PIN-LEAF-ONLY-SHORT-LIVED")
        .collect();
    assert_eq!(hit.len(), 1, "{got:#?}");
    assert_eq!(
        hit[0].message(Lang::En),
        "a.example.com: only the leaf matches, and it is valid for 90 days"
    );
    // Pinning the CA as well: fine.
    let got = findings(
        &[(
            "t.xml",
            nsc(&pinned(
                "a.example.com",
                &[&short.leaf_pin, &short.ca_pin],
                "",
            )),
        )],
        None,
        vec![chain],
    );
    assert!(got.iter().all(|f| f.rule != "PIN-LEAF-ONLY-SHORT-LIVED"));
    // A long-lived leaf: fine.
    let long = pki(397);
    let chain = SuppliedChain::from_der("a.example.com", "chain.pem", &long.chain).unwrap();
    let got = findings(
        &[(
            "t.xml",
            nsc(&pinned("a.example.com", &[&long.leaf_pin, B], "")),
        )],
        None,
        vec![chain],
    );
    assert!(got.iter().all(|f| f.rule != "PIN-LEAF-ONLY-SHORT-LIVED"));
}

#[test]
fn findings_are_sorted_and_deterministic() {
    let files = vec![(
        "t.xml",
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/audit/network_security_config.xml"
        ))
        .unwrap(),
    )];
    let a = findings(&files, None, Vec::new());
    let b = findings(&files, None, Vec::new());
    assert_eq!(a, b);
    assert!(a.windows(2).all(|w| w[0].severity >= w[1].severity));
}
