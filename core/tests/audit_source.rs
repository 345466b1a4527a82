//! Pinning configured in code (`audit::source`): OkHttp `CertificatePinner`
//! in Kotlin and Java, TrustKit dictionaries in Swift and Objective-C, and
//! `buildConfigField`s, from fixtures in the shapes real apps use
//! (tests/data/audit/source, written for these tests). Each expected value
//! is written out by hand from the fixture.

use std::path::PathBuf;

use mamori::audit::{self, AuditConfig, AuditOptions, ImportError, NscOptions, SourceFormat};
use time::macros::datetime;

const A: &str = "K87oWBWM9UZfyddvDfoxL+8lpNyoUB2ptGtn0fv6G2Q=";
const B: &str = "PL1/TTDEe9Cm2lb2X0tixyQC7zaPREm/V0IHJscTCmw=";
const C: &str = "NDCIt6TrQnfOk+lquunrmlPQB3K/7CLOCmSS5kW+KCc=";
const D: &str = "lCppFqbkrlJ3EcVFAkeip0+44VaoJUymbnOaEUk7tEU=";

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/audit/source")
        .join(name)
}

/// Imports one source text as the file `name`.
fn import_text(text: &str, name: &str) -> Result<AuditConfig, ImportError> {
    audit::import_bytes(text.as_bytes(), name, None, NscOptions::default(), None)
}

fn load(names: &[&str]) -> Result<Vec<AuditConfig>, ImportError> {
    let paths: Vec<PathBuf> = names.iter().map(|n| path(n)).collect();
    audit::load_all(&paths, None, NscOptions::default()).map(|l| l.configs)
}

/// (host, line, pins, include_subdomains, enforce) of each domain.
type Row = (String, Option<u32>, Vec<String>, bool, bool);

fn rows(cfg: &AuditConfig) -> Vec<Row> {
    cfg.domains
        .iter()
        .map(|d| {
            (
                d.host.clone(),
                d.location.line,
                d.pins.iter().map(|p| p.pin.base64()).collect(),
                d.include_subdomains,
                d.enforce,
            )
        })
        .collect()
}

fn row(host: &str, line: u32, pins: &[&str], sub: bool, enforce: bool) -> Row {
    (
        host.into(),
        Some(line),
        pins.iter().map(|p| (*p).to_owned()).collect(),
        sub,
        enforce,
    )
}

fn rules(cfgs: &[AuditConfig]) -> Vec<(String, Option<u32>, String)> {
    audit::audit(cfgs, &AuditOptions::at(datetime!(2026-06-01 00:00 UTC)))
        .into_iter()
        .map(|f| (f.rule, f.location.line, f.detail))
        .collect()
}

#[test]
fn kotlin_constants_lists_spread_templates_and_loops_across_files() {
    let cfgs = load(&["Pins.kt", "Client.kt"]).unwrap();
    assert_eq!(cfgs.len(), 1, "only Client.kt builds a pinner");
    let c = &cfgs[0];
    assert_eq!(c.format, SourceFormat::OkHttp);
    assert!(c.file.ends_with("Client.kt"));
    assert_eq!(
        rows(c),
        vec![
            row("api.example.com", 13, &[A, B], false, true),
            row("legacy.example.com", 14, &[A, C, D], false, true),
            row("cdn.example.com", 20, &[C, D], false, true),
            row("img.example.com", 20, &[C, D], false, true),
        ]
    );
    // Pins keep the line of their own argument (a multi-line call).
    let legacy = &c.domains[1];
    let lines: Vec<Option<u32>> = legacy.pins.iter().map(|p| p.location.line).collect();
    assert_eq!(lines, vec![Some(16), Some(17), Some(17)]);
    assert!(c.unresolved.is_empty(), "{:#?}", c.unresolved);
}

#[test]
fn kotlin_apply_and_nested_for_each() {
    let cfgs = load(&["Loops.kt"]).unwrap();
    assert_eq!(
        rows(&cfgs[0]),
        vec![
            row("a.example.com", 8, &[A, B], false, true),
            row("b.example.com", 8, &[A, B], false, true),
        ]
    );
}

#[test]
fn build_config_without_and_with_gradle() {
    // Alone: the pins are unverifiable; the host is known.
    let cfgs = load(&["BuildConfigPins.kt"]).unwrap();
    let c = &cfgs[0];
    assert_eq!(rows(c), vec![row("api.example.com", 4, &[], false, true)]);
    let r = rules(&cfgs);
    let bc: Vec<_> = r.iter().filter(|f| f.0 == "PIN-BUILDCONFIG-ONLY").collect();
    assert_eq!(bc.len(), 2, "{r:#?}");
    assert_eq!(bc[0].1, Some(4));
    assert!(
        bc.iter()
            .any(|f| f.2.contains("`BuildConfig.PIN_PRIMARY`") && f.2.contains("buildConfigField")),
        "{bc:#?}"
    );
    // Unknown pins are not reported as an empty set or a missing backup.
    assert!(
        r.iter()
            .all(|f| f.0 != "PIN-EMPTY-SET" && f.0 != "PIN-BACKUP-MISSING" && f.0 != "PIN-NONE"),
        "{r:#?}"
    );
    // With build.gradle (Groovy) and build.gradle.kts (Kotlin DSL).
    let g = load(&["BuildConfigPins.kt", "build.gradle"]).unwrap();
    assert_eq!(
        rows(&g[0]),
        vec![row("api.example.com", 4, &[A, B], false, true)]
    );
    assert!(rules(&g).iter().all(|f| f.0 != "PIN-BUILDCONFIG-ONLY"));
    let k = load(&["BuildConfigPins.kt", "build.gradle.kts"]).unwrap();
    assert_eq!(
        rows(&k[0]),
        vec![row("api.example.com", 4, &[A, C], false, true)]
    );
    // Both: PIN_BACKUP differs between them (as between two flavors).
    let both = load(&["BuildConfigPins.kt", "build.gradle", "build.gradle.kts"]).unwrap();
    assert_eq!(
        rows(&both[0]),
        vec![row("api.example.com", 4, &[A], false, true)]
    );
    let u = &both[0].unresolved;
    assert_eq!(u.len(), 1, "{u:#?}");
    assert!(u[0].build_config, "{u:#?}");
    assert_eq!(
        u[0].hint.replace(&path("").display().to_string(), ""),
        format!(
            "BuildConfig.PIN_BACKUP has 2 different values in the build variants given; \
             the pin in the app depends on the variant built: \
             \"sha256/{B}\" in defaultConfig (build.gradle:5), \
             \"sha256/{C}\" in defaultConfig (build.gradle.kts:4)"
        )
    );
    let r = rules(&both);
    assert_eq!(
        r.iter()
            .filter(|f| f.0 == "PIN-BUILDCONFIG-ONLY" || f.0 == "SOURCE-UNRESOLVED")
            .map(|f| (f.0.as_str(), f.1))
            .collect::<Vec<_>>(),
        vec![("PIN-BUILDCONFIG-ONLY", Some(4))],
        "{r:#?}"
    );
}

/// A `BuildConfig` field defined per build type (Groovy `buildTypes`) or per
/// product flavor (Kotlin DSL `create("...")`): AGP generates one
/// `BuildConfig` per variant, so the pin the app ships depends on the
/// variant. The audit names each candidate value and where it is defined,
/// as `PIN-BUILDCONFIG-ONLY` (before: `SOURCE-UNRESOLVED`, "several
/// different definitions").
#[test]
fn build_config_fields_per_build_type_or_flavor_list_each_candidate() {
    for (gradle, expected) in [
        (
            "variants/build.gradle",
            format!(
                "\"sha256/{B}\" in buildTypes.debug (variants/build.gradle:7), \
                 \"sha256/{C}\" in buildTypes.release (variants/build.gradle:11)"
            ),
        ),
        (
            "variants/build.gradle.kts",
            format!(
                "\"sha256/{B}\" in productFlavors.free (variants/build.gradle.kts:9), \
                 \"sha256/{D}\" in productFlavors.paid (variants/build.gradle.kts:13)"
            ),
        ),
    ] {
        let cfgs = load(&["BuildConfigPins.kt", gradle]).unwrap();
        // The agreed field is read; the varying one is not guessed.
        assert_eq!(
            rows(&cfgs[0]),
            vec![row("api.example.com", 4, &[A], false, true)],
            "{gradle}"
        );
        let r = rules(&cfgs);
        let bc: Vec<_> = r
            .iter()
            .filter(|f| f.0 == "PIN-BUILDCONFIG-ONLY" || f.0 == "SOURCE-UNRESOLVED")
            .collect();
        assert_eq!(bc.len(), 1, "{gradle}: {r:#?}");
        assert_eq!(bc[0].0, "PIN-BUILDCONFIG-ONLY", "{gradle}");
        assert_eq!(bc[0].1, Some(4), "{gradle}");
        let want = format!(
            "a pin of api.example.com is `BuildConfig.PIN_BACKUP`: BuildConfig.PIN_BACKUP has 2 \
             different values in the build variants given; the pin in the app depends on the \
             variant built: {expected}"
        );
        // Locations carry the directory given on the command line.
        let got = bc[0].2.replace(&path("").display().to_string(), "");
        assert_eq!(got, want, "{gradle}");
        // Unknown pins are not a missing backup.
        assert!(r.iter().all(|f| f.0 != "PIN-BACKUP-MISSING"), "{r:#?}");
    }
}

#[test]
fn java_static_final_arrays_varargs_and_enhanced_for() {
    let cfgs = load(&["PinningModule.java"]).unwrap();
    assert_eq!(
        rows(&cfgs[0]),
        vec![
            row("api.example.com", 15, &[A, B], false, true),
            row("cdn.example.com", 17, &[C, D], false, true),
            row("img.example.com", 17, &[C, D], false, true),
        ]
    );
}

#[test]
fn unresolvable_values_become_findings_naming_the_expression() {
    let cfgs = load(&["Unresolved.kt"]).unwrap();
    let c = &cfgs[0];
    assert_eq!(rows(c), vec![row("api.example.com", 4, &[A], false, true)]);
    let r = rules(&cfgs);
    let un: Vec<_> = r.iter().filter(|f| f.0 == "SOURCE-UNRESOLVED").collect();
    assert_eq!(un.len(), 2, "{r:#?}");
    assert_eq!(un[0].1, Some(4));
    assert!(
        un[0].2.contains("context.getString(R.string.backup_pin)")
            && un[0].2.contains("res/values"),
        "{}",
        un[0].2
    );
    assert_eq!(un[1].1, Some(5));
    assert!(un[1].2.contains("remoteHost()"), "{}", un[1].2);
}

#[test]
fn okhttp_pattern_union_is_flagged() {
    let cfgs = load(&["Union.kt"]).unwrap();
    let r = rules(&cfgs);
    let u: Vec<_> = r.iter().filter(|f| f.0 == "OKHTTP-PIN-UNION").collect();
    assert_eq!(u.len(), 1, "{r:#?}");
    assert_eq!(u[0].1, Some(4));
    assert!(u[0].2.contains("2 pin(s) of **.example.com"), "{}", u[0].2);
}

#[test]
fn trustkit_swift_dictionary() {
    let cfgs = load(&["AppDelegate.swift"]).unwrap();
    let c = &cfgs[0];
    assert_eq!(c.format, SourceFormat::TrustKit);
    assert_eq!(
        rows(c),
        vec![
            row("api.example.com", 12, &[A, B], true, true),
            row("report-only.example.com", 22, &[C], false, false),
        ]
    );
    let api = &c.domains[0];
    assert_eq!(
        api.expiry.as_ref().map(|e| e.text.as_str()),
        Some("2027-01-01")
    );
    assert_eq!(
        api.report_uris,
        vec!["https://report.example.com/pins".to_owned()]
    );
    assert!(!api.default_report_uri);
    assert!(c.domains[1].default_report_uri);
}

#[test]
fn trustkit_objc_dictionary_with_define_and_const() {
    let cfgs = load(&["AppDelegate.m"]).unwrap();
    let c = &cfgs[0];
    assert_eq!(
        rows(c),
        vec![
            row("api.example.com", 15, &[A, B], true, true),
            row("one-pin.example.com", 23, &[C], false, false),
        ]
    );
}

fn kotlin(body: &str) -> Result<AuditConfig, ImportError> {
    let text = format!(
        "import okhttp3.CertificatePinner\n\nval pinner = CertificatePinner.Builder()\n{body}\n    .build()\n"
    );
    audit::import_bytes(text.as_bytes(), "P.kt", None, NscOptions::default(), None)
}

#[test]
fn okio_decoding_a_pin_that_never_matches_is_kept_as_a_finding_not_a_refusal() {
    // okio decodes "AAAA" to 3 bytes and OkHttp has no length check: the app
    // loads, the pin can never match.
    let c = kotlin(&format!(
        "    .add(\"a.example.com\", \"sha256/{A}\", \"sha256/AAAA\")"
    ))
    .unwrap();
    let d = &c.domains[0];
    assert_eq!(d.pins.len(), 1);
    assert_eq!(d.lenient_pins.len(), 1);
    assert_eq!(d.lenient_pins[0].text, "AAAA");
    assert_eq!(d.lenient_pins[0].decoded_len, 3);
    assert!(d.lenient_pins[0].never_matches.is_some());
    assert_eq!(d.lenient_pins[0].location.line, Some(4));
    // okio takes the URL-safe alphabet and missing padding: the same key.
    let url_safe = B.replace('/', "_").trim_end_matches('=').to_owned();
    let c = kotlin(&format!(
        "    .add(\"a.example.com\", \"sha256/{A}\", \"sha256/{url_safe}\")"
    ))
    .unwrap();
    let pins: Vec<String> = c.domains[0].pins.iter().map(|p| p.pin.base64()).collect();
    assert_eq!(pins, vec![A.to_owned(), B.to_owned()]);
    // What okio refuses, OkHttp refuses: "Invalid pin hash".
    let e = kotlin("    .add(\"a.example.com\", \"sha256/not*base64\")").unwrap_err();
    assert!(
        e.to_string().contains(
            "P.kt:4: OkHttp refuses this configuration: Invalid pin hash: sha256/not*base64"
        ),
        "{e}"
    );
    // A sha1/ pin of 20 bytes is a pin OkHttp checks (`CertificatePinner.check`): kept as
    // one, not as a pin that never matches.
    let c = kotlin(&format!(
        "    .add(\"a.example.com\", \"sha256/{A}\", \"sha1/2jmj7l5rSw0yVb/vlWAYkK/YBwk=\")"
    ))
    .unwrap();
    assert_eq!(c.domains[0].sha1_pins.len(), 1);
    assert_eq!(
        c.domains[0].sha1_pins[0].text,
        "sha1/2jmj7l5rSw0yVb/vlWAYkK/YBwk="
    );
    assert!(c.domains[0].lenient_pins.is_empty());
}

#[test]
fn okhttp_refusals_name_the_line_of_the_add() {
    let e = kotlin(&format!(
        "\n\n    .add(\"a.*.example.com\", \"sha256/{A}\")"
    ))
    .unwrap_err();
    assert!(
        e.to_string().contains(
            "P.kt:6: OkHttp refuses this configuration: Unexpected pattern: a.*.example.com"
        ),
        "{e}"
    );
}

#[test]
fn cycles_doubling_and_deep_nesting_are_bounded() {
    // A constant defined through itself.
    let text = format!(
        "import okhttp3.CertificatePinner\nconst val X = Y\nconst val Y = X\nval p = CertificatePinner.Builder().add(\"a.example.com\", \"sha256/{A}\", X).build()\n"
    );
    let c =
        audit::import_bytes(text.as_bytes(), "C.kt", None, NscOptions::default(), None).unwrap();
    assert!(
        c.unresolved[0].hint.contains("in terms of itself"),
        "{:?}",
        c.unresolved
    );
    // Constants that double: 2^40 bytes if built.
    let mut text = String::from("import okhttp3.CertificatePinner\nconst val S0 = \"sha256/\"\n");
    for i in 1..=40 {
        text.push_str(&format!("const val S{i} = S{} + S{}\n", i - 1, i - 1));
    }
    text.push_str(&format!(
        "val p = CertificatePinner.Builder().add(\"a.example.com\", \"sha256/{A}\", S40).build()\n"
    ));
    let c =
        audit::import_bytes(text.as_bytes(), "D.kt", None, NscOptions::default(), None).unwrap();
    assert!(
        c.unresolved[0].hint.contains("bounds"),
        "{:?}",
        c.unresolved
    );
    // 20,000 nested parentheses and a 20,000-term concatenation: no stack
    // overflow (the walk is iterative, evaluation depth is bounded, `+`
    // chains are flattened without recursion).
    let deep = format!("{}\"sha256/{A}\"{}", "(".repeat(20_000), ")".repeat(20_000));
    let long = vec!["\"a\""; 20_000].join(" + ");
    let text = format!(
        "import okhttp3.CertificatePinner\nval p = CertificatePinner.Builder().add(\"a.example.com\", \"sha256/{A}\", {deep}, {long}).build()\n"
    );
    let e = audit::import_bytes(text.as_bytes(), "N.kt", None, NscOptions::default(), None)
        .unwrap_err();
    // The concatenation was evaluated (20,000 `a`s) and refused as OkHttp would.
    assert!(
        e.to_string()
            .contains("pins must start with 'sha256/' or 'sha1/': aaaa"),
        "{e}"
    );
}

#[test]
fn source_files_over_the_limit_are_refused() {
    let mut text = String::from("import okhttp3.CertificatePinner\n");
    text.push_str(
        &"// padding padding padding padding\n".repeat(mamori::limits::MAX_SOURCE_BYTES / 35 + 1),
    );
    let e = audit::import_bytes(
        text.as_bytes(),
        "Big.kt",
        Some(SourceFormat::OkHttp),
        NscOptions::default(),
        None,
    )
    .unwrap_err();
    assert!(e.to_string().contains("MAX_SOURCE_BYTES"), "{e}");
}

#[test]
fn formats_are_detected_from_content() {
    for (name, want) in [
        ("Client.kt", Some(SourceFormat::OkHttp)),
        ("PinningModule.java", Some(SourceFormat::OkHttp)),
        ("AppDelegate.swift", Some(SourceFormat::TrustKit)),
        ("AppDelegate.m", Some(SourceFormat::TrustKit)),
        ("build.gradle", None),
        ("build.gradle.kts", None),
    ] {
        let bytes = std::fs::read(path(name)).unwrap();
        // Renamed: the extension plays no part.
        let got = audit::detect(&bytes, "attachment.txt").ok();
        assert_eq!(got, want, "{name}");
    }
    let e = audit::detect(
        &std::fs::read(path("build.gradle")).unwrap(),
        "build.gradle",
    )
    .unwrap_err();
    assert!(e.to_string().contains("Gradle build file"), "{e}");
}

#[test]
fn a_gradle_file_alone_or_constants_alone_hold_no_pinner() {
    let e = load(&["Pins.kt", "build.gradle"]).unwrap_err();
    assert!(
        e.to_string()
            .contains("without a CertificatePinner.Builder().add(...) call"),
        "{e}"
    );
}

#[test]
fn swift_interpolation_and_objc_adjacent_literals() {
    let (a1, a2) = A.split_at(20);
    let swift = format!(
        "import TrustKit\nlet head = \"{a1}\"\nlet config: [String: Any] = [\n  kTSKSwizzleNetworkDelegates: false,\n  kTSKPinnedDomains: [\n    \"a.example.com\": [kTSKPublicKeyHashes: [\"\\(head){a2}\", \"{B}\"]],\n  ],\n]\nTrustKit.initSharedInstance(withConfiguration: config)\n"
    );
    let c = import_text(&swift, "A.swift").unwrap();
    assert_eq!(
        rows(&c),
        vec![row("a.example.com", 6, &[A, B], false, true)]
    );
    let objc = format!(
        "#import <TrustKit/TrustKit.h>\nvoid setup(void) {{\n  NSDictionary *c = @{{ kTSKSwizzleNetworkDelegates: @NO, kTSKPinnedDomains: @{{ @\"a.example.com\": @{{ kTSKPublicKeyHashes: @[ @\"{a1}\" \"{a2}\", @\"{B}\" ] }} }} }};\n  [TrustKit initSharedInstanceWithConfiguration:c];\n}}\n"
    );
    let c = import_text(&objc, "A.m").unwrap();
    assert_eq!(
        rows(&c),
        vec![row("a.example.com", 3, &[A, B], false, true)]
    );
}

#[test]
fn trustkit_keys_as_constants_or_their_strings() {
    // TrustKit looks up the constants' strings; code may write either the
    // constant (kTSKIncludeSubdomains) or its string ("TSKEnforcePinning").
    let swift = format!(
        "import TrustKit\nlet config: [String: Any] = [\n  \"TSKPinnedDomains\": [\n    \"a.example.com\": [\n      kTSKIncludeSubdomains: true,\n      \"TSKEnforcePinning\": false,\n      \"TSKPublicKeyHashes\": [\"{A}\", \"{B}\"],\n    ],\n  ],\n]\nTrustKit.initSharedInstance(withConfiguration: config)\n"
    );
    let c = import_text(&swift, "K.swift").unwrap();
    assert_eq!(
        rows(&c),
        vec![row("a.example.com", 4, &[A, B], true, false)]
    );
    assert!(c.ignored.is_empty(), "{:?}", c.ignored);
    // A string spelled like the constant's name is not a key TrustKit reads.
    let wrong = swift.replace("\"TSKPublicKeyHashes\"", "\"kTSKPublicKeyHashes\"");
    let e = import_text(&wrong, "K.swift").unwrap_err().to_string();
    assert!(
        e.contains("TrustKit reads `TSKPublicKeyHashes`; `kTSKPublicKeyHashes` is the Objective-C constant's name"),
        "{e}"
    );
}

#[test]
fn each_builder_is_its_own_pinner_and_locals_are_scoped() {
    let text = format!(
        "import okhttp3.CertificatePinner\n\
         object Release {{ const val PIN = \"sha256/{A}\" }}\n\
         object Debug {{ const val PIN = \"sha256/{C}\" }}\n\
         fun release(): CertificatePinner {{\n    val pin = Release.PIN\n    val b = CertificatePinner.Builder()\n    b.add(\"api.example.com\", pin, \"sha256/{B}\")\n    return b.build()\n}}\n\
         fun debug(): CertificatePinner {{\n    val pin = Debug.PIN\n    val b = CertificatePinner.Builder()\n    b.add(\"**.example.com\", pin, \"sha256/{D}\")\n    return b.build()\n}}\n"
    );
    let c =
        audit::import_bytes(text.as_bytes(), "Two.kt", None, NscOptions::default(), None).unwrap();
    assert_eq!(
        rows(&c),
        vec![
            row("api.example.com", 7, &[A, B], false, true),
            row("**.example.com", 13, &[C, D], true, true),
        ]
    );
    assert_ne!(c.domains[0].group, c.domains[1].group);
    // Two pinners: OkHttp never unions across them.
    assert!(rules(&[c]).iter().all(|f| f.0 != "OKHTTP-PIN-UNION"));
}

#[test]
fn a_variable_initialised_with_a_builder_chain_is_the_same_pinner() {
    let cfgs = load(&["PinningModule.java"]).unwrap();
    let groups: Vec<usize> = cfgs[0].domains.iter().map(|d| d.group).collect();
    assert!(groups.iter().all(|g| *g == groups[0]), "{groups:?}");
}

#[test]
fn trustkit_objc_number_literals_are_read_with_boolvalue() {
    // `@0` / `@1` are NSNumbers: TrustKit's boolValue reads them as NO / YES
    // (review finding 9; Mamori refused "must be a boolean").
    let objc = format!(
        "#import <TrustKit/TrustKit.h>\nvoid setup(void) {{\n  NSDictionary *c = @{{ kTSKPinnedDomains: @{{ @\"a.example.com\": @{{ kTSKIncludeSubdomains: @1, kTSKEnforcePinning: @0, kTSKPublicKeyHashes: @[ @\"{A}\", @\"{B}\" ] }} }} }};\n  [TrustKit initSharedInstanceWithConfiguration:c];\n}}\n"
    );
    let c = import_text(&objc, "B.m").unwrap();
    assert_eq!(
        rows(&c),
        vec![row("a.example.com", 3, &[A, B], true, false)]
    );
}
