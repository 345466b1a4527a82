//! `mamori report` as a real process on real files: every input validated by
//! its own command's code, statuses from what was verified, settings through
//! their schema (no secret, no unknown key in the document), escaping in
//! Markdown and HTML, provenance that ties the document to `mamori device
//! check`, and a complete Japanese edition.

mod common;

use std::path::Path;
use std::process::Output;

use common::{mamori, mamori_in, repo, stderr, stdout, write};

const A: &str = "K87oWBWM9UZfyddvDfoxL+8lpNyoUB2ptGtn0fv6G2Q=";
const B: &str = "PL1/TTDEe9Cm2lb2X0tixyQC7zaPREm/V0IHJscTCmw=";

fn two_pin_nsc() -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<network-security-config>\n  <domain-config>\n    <domain>a.example.com</domain>\n    <pin-set>\n      <pin digest=\"SHA-256\">{A}</pin>\n      <pin digest=\"SHA-256\">{B}</pin>\n    </pin-set>\n  </domain-config>\n</network-security-config>\n"
    )
}

fn bank_policy() -> String {
    std::fs::read_to_string(repo().join("examples/device/bank-policy.toml")).unwrap()
}

const STORAGE: &str = "format = 1\n[kek]\nmin_security_level = \"strongbox\"\nuser_authentication = true\nauth_timeout_seconds = 300\n";

/// The status cell of `item` in the Markdown summary table.
fn status<'a>(md: &'a str, item: &str) -> &'a str {
    let line = md
        .lines()
        .find(|l| l.starts_with(&format!("| {item} | ")))
        .unwrap_or_else(|| panic!("no summary row for {item}: {md}"));
    line.split(" | ").nth(1).unwrap()
}

fn report(dir: &Path, args: &[&str]) -> Output {
    let mut all = vec!["report", "--at", "2026-06-01"];
    all.extend_from_slice(args);
    mamori_in(dir, &all)
}

fn ok(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(0), "{}", stderr(o));
    stdout(o)
}

#[test]
fn a_device_policy_device_check_refuses_fails_the_report_with_the_same_error() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "nsc.xml", two_pin_nsc());
    write(
        tmp.path(),
        "typo.toml",
        bank_policy().replace("min_api_level", "min_api_levle"),
    );
    let o = report(tmp.path(), &["--device", "typo.toml", "nsc.xml"]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    let why = stderr(&o);
    assert!(why.contains("min_api_levle"), "{why}");
    // `device check` says the same thing about the same file.
    std::fs::copy(
        repo().join("examples/device/pixel-clean.json"),
        tmp.path().join("facts.json"),
    )
    .unwrap();
    let d = mamori_in(
        tmp.path(),
        &[
            "device",
            "check",
            "--facts",
            "facts.json",
            "--policy",
            "typo.toml",
        ],
    );
    assert_eq!(d.status.code(), Some(2));
    let theirs = stderr(&d);
    let reason = |s: &str| {
        s.split_once(": ")
            .map(|(_, r)| r.trim().to_owned())
            .unwrap()
    };
    assert_eq!(reason(&why), reason(&theirs));
}

#[test]
fn a_facts_file_given_as_the_policy_gets_a_hint() {
    let o = report(
        &repo(),
        &[
            "--device",
            "examples/device/pixel-clean.json",
            "examples/audit/network_security_config.xml",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("hint: examples/device/pixel-clean.json is a device facts snapshot"),
        "{e}"
    );
    assert!(e.contains("mamori device default-policy"), "{e}");
}

#[test]
fn a_pin_policy_config_check_refuses_fails_the_report() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "pins.toml",
        format!(
            "[[domain]]\nhost = \"a.example.com\"\npins = [\"sha256/{A}\", \"sha256/{B}\"]\nexpires = \"2027-02-30\"\n"
        ),
    );
    let check = mamori_in(tmp.path(), &["config", "check", "pins.toml"]);
    assert_eq!(check.status.code(), Some(2));
    let o = report(tmp.path(), &["pins.toml"]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(stderr(&o).contains("pins.toml"), "{}", stderr(&o));
}

#[test]
fn storage_files_are_read_through_their_schema_and_secrets_never_leak() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "nsc.xml", two_pin_nsc());
    // Any other file is refused (it used to make DEV-1 and NEW-1 "Declared").
    write(
        tmp.path(),
        "loose.json",
        "{\"keystore\": \"hardware\", \"envelope_encryption\": true}\n",
    );
    let o = report(tmp.path(), &["--storage", "loose.json", "nsc.xml"]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("unknown field `keystore`"),
        "{}",
        stderr(&o)
    );
    // Secrets in a settings file reach neither the document nor the error.
    let secrets = ["sk_live_51H8", "Bearer eyJhbGci", "postgres://u:pw@db"];
    write(
        tmp.path(),
        "secret.toml",
        format!(
            "{STORAGE}api_key = \"{}\"\nauth_header = \"{}\"\ndb_credentials = \"{}\"\n",
            secrets[0], secrets[1], secrets[2]
        ),
    );
    let o = report(tmp.path(), &["--storage", "secret.toml", "nsc.xml"]);
    assert_eq!(o.status.code(), Some(2));
    for s in secrets {
        assert!(
            !stderr(&o).contains(s) && !stdout(&o).contains(s),
            "{s}: {}",
            stderr(&o)
        );
    }
    // A valid file is shown as statements, not keys.
    write(tmp.path(), "storage.toml", STORAGE);
    let md = ok(&report(
        tmp.path(),
        &["--storage", "storage.toml", "nsc.xml"],
    ));
    assert!(md.contains("| Key-encryption key | held in StrongBox / Secure Enclave or stronger (the store refuses a weaker key) |"), "{md}");
    assert!(
        !md.contains("min_security_level") && !md.contains("user_authentication"),
        "{md}"
    );
    assert_eq!(status(&md, "DEV-1"), "Configured");
    assert_eq!(status(&md, "NEW-1"), "Configured");
    // Software keys are not hardware: DEV-1 is not met.
    write(
        tmp.path(),
        "soft.toml",
        STORAGE.replace("strongbox", "software"),
    );
    let md = ok(&report(tmp.path(), &["--storage", "soft.toml", "nsc.xml"]));
    assert_eq!(status(&md, "DEV-1"), "Not met");
}

#[test]
fn dev3_comes_from_authentication_settings_never_from_a_key_name() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "nsc.xml", two_pin_nsc());
    // A policy that does not require biometrics, and no storage settings:
    // nothing says the app authenticates its user.
    write(
        tmp.path(),
        "device.toml",
        bank_policy().replace("biometrics = \"warn\"", "biometrics = \"allow\""),
    );
    let md = ok(&report(tmp.path(), &["--device", "device.toml", "nsc.xml"]));
    assert_eq!(status(&md, "DEV-3"), "Not assessed");
    assert_eq!(status(&md, "DEV-2"), "Configured");
    // Storage settings without user authentication or passcode: not met.
    write(
        tmp.path(),
        "noauth.toml",
        "format = 1\n[kek]\nmin_security_level = \"tee\"\n",
    );
    let md = ok(&report(
        tmp.path(),
        &["--storage", "noauth.toml", "nsc.xml"],
    ));
    assert_eq!(status(&md, "DEV-3"), "Not met");
    write(tmp.path(), "auth.toml", STORAGE);
    let md = ok(&report(tmp.path(), &["--storage", "auth.toml", "nsc.xml"]));
    assert_eq!(status(&md, "DEV-3"), "Configured");
}

#[test]
fn a_device_policy_weaker_than_the_fintech_default_does_not_meet_dev2() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "nsc.xml", two_pin_nsc());
    let weak = bank_policy()
        .replace("min_api_level = 35", "min_api_level = 29")
        .replace(
            "[indicators.root]\naction = \"block\"",
            "[indicators.root]\naction = \"warn\"",
        );
    write(tmp.path(), "weak.toml", &weak);
    let md = ok(&report(tmp.path(), &["--device", "weak.toml", "nsc.xml"]));
    assert_eq!(status(&md, "DEV-2"), "Not met");
    assert!(
        md.contains(
            "accepts Android 10+ (API level 29) (the default requires Android 14+ (API level 34))"
        ),
        "{md}"
    );
    assert!(
        md.contains("Rooted devices (Android): warning (the item requires blocking)."),
        "{md}"
    );
    // Shown through the schema: statements, not a dump of keys.
    assert!(
        md.contains("| Android version | Android 10+ (API level 29); otherwise: blocked |"),
        "{md}"
    );
    assert!(
        !md.contains("android.min_api_level") && !md.contains("weak_threshold"),
        "{md}"
    );
}

#[test]
fn cleartext_and_insecure_report_uris_are_not_met() {
    let repo = repo();
    // The example pair: a cleartext domain and an http:// report URI.
    let md = ok(&report(
        &repo,
        &[
            "examples/audit/network_security_config.xml",
            "examples/audit/Info.plist",
        ],
    ));
    assert_eq!(status(&md, "DATA-1"), "Not met");
    assert_eq!(status(&md, "LOG-2"), "Not met");
    // Clean transport, no storage settings: only half of DATA-1 is assessed,
    // and LOG-2 covers only the report channel.
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "nsc.xml", two_pin_nsc());
    let md = ok(&report(tmp.path(), &["nsc.xml"]));
    assert_eq!(status(&md, "DATA-1"), "Partly assessed");
    assert_eq!(status(&md, "LOG-2"), "Partly assessed");
    assert_eq!(status(&md, "DEV-4"), "Met");
    write(tmp.path(), "storage.toml", STORAGE);
    let md = ok(&report(
        tmp.path(),
        &["--storage", "storage.toml", "nsc.xml"],
    ));
    assert_eq!(status(&md, "DATA-1"), "Configured");
}

const XSS: &str = "<img src=x onerror=alert(1)>";

#[test]
fn user_and_config_text_is_escaped_in_markdown_and_html() {
    let repo = repo();
    let args = [
        "--app",
        XSS,
        "examples/audit/network_security_config.xml",
        "examples/pinning/policy.toml",
    ];
    let md = ok(&report(&repo, &args));
    assert!(
        md.starts_with(r"# Device-layer security evidence: \<img src=x onerror=alert(1)\>"),
        "{md}"
    );
    assert!(md.contains("| `**.cdn.example.com` |"), "{md}");
    assert!(md.contains(r"put it in \<debug-overrides\> only"), "{md}");
    // Outside code spans no `<` is left unescaped.
    for line in md.lines() {
        let mut in_code = false;
        let mut prev = ' ';
        for c in line.chars() {
            if c == '`' {
                in_code = !in_code;
            }
            assert!(in_code || c != '<' || prev == '\\', "unescaped < in {line}");
            prev = c;
        }
    }
    let mut html_args = vec!["--format", "html"];
    html_args.extend_from_slice(&args);
    let html = ok(&report(&repo, &html_args));
    let doc = roxmltree::Document::parse_with_options(
        &html,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        },
    )
    .expect("well-formed");
    assert!(!doc.descendants().any(|n| n.has_tag_name("img")));
    assert!(!doc.descendants().any(|n| n.has_tag_name("debug-overrides")));
    let h1 = doc.descendants().find(|n| n.has_tag_name("h1")).unwrap();
    assert_eq!(
        h1.text(),
        Some(format!("Device-layer security evidence: {XSS}").as_str())
    );
    let hosts: Vec<&str> = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("host"))
        .filter_map(|n| n.text())
        .collect();
    assert!(hosts.contains(&"**.cdn.example.com"), "{hosts:?}");
    assert!(
        !doc.descendants()
            .any(|n| n.has_tag_name("strong") && n.text() == Some(".cdn.example.com"))
    );
    // No input reaches the stylesheet unescaped (the running header quotes the title).
    let style = doc
        .descendants()
        .find(|n| n.has_tag_name("style"))
        .unwrap()
        .text()
        .unwrap();
    assert!(!style.contains("<img"), "{style}");
}

#[test]
fn provenance_ties_the_report_to_its_inputs_and_to_device_check() {
    let repo = repo();
    let md = ok(&report(
        &repo,
        &[
            "--device",
            "examples/device/bank-policy.toml",
            "examples/audit/Info.plist",
            "examples/pinning/policy.toml",
        ],
    ));
    // The canonical policy hash is device check's.
    let v = mamori_in(
        &repo,
        &[
            "device",
            "check",
            "--format",
            "json",
            "--at",
            "2026-06-01",
            "--facts",
            "examples/device/pixel-clean.json",
            "--policy",
            "examples/device/bank-policy.toml",
        ],
    );
    let verdict: serde_json::Value = serde_json::from_slice(&v.stdout).unwrap();
    let policy_sha = verdict["policy_sha256"].as_str().unwrap();
    assert!(
        md.contains(&format!(
            "(the policy\\_sha256 of mamori device check): `{policy_sha}`"
        )),
        "{md}"
    );
    // Every input and every file one depends on, with the SHA-256 of its bytes.
    let sha = |p: &str| {
        hex::encode(ring::digest::digest(
            &ring::digest::SHA256,
            &std::fs::read(repo.join(p)).unwrap(),
        ))
    };
    for (file, role) in [
        ("examples/audit/Info.plist", "pinning configuration"),
        ("examples/pinning/policy.toml", "pinning configuration"),
        (
            "examples/pinning/root.pem",
            "used by `examples/pinning/policy.toml`",
        ),
        ("examples/device/bank-policy.toml", "device policy"),
    ] {
        let row = format!("| `{file}` | {role} | `{}` |", sha(file));
        assert!(md.contains(&row), "{row}\n{md}");
    }
    // App identity from the Info.plist, tool and rule-table versions, time with zone, command line.
    assert!(md.contains("- App: `jp.co.example-bank.app` (iOS, version `3.2.0`, build `412`, from `examples/audit/Info.plist`)"), "{md}");
    assert!(md.contains("- Rule table (rules.toml) SHA-256: `"), "{md}");
    assert!(md.contains("- Time: 2026-06-01T00:00:00Z (UTC)"), "{md}");
    assert!(md.contains("- Command line: `mamori report --format markdown --lang en --at 2026-06-01T00:00:00Z --device examples/device/bank-policy.toml examples/audit/Info.plist examples/pinning/policy.toml`"), "{md}");
    // Same inputs and time: byte-identical.
    let again = ok(&report(
        &repo,
        &[
            "--device",
            "examples/device/bank-policy.toml",
            "examples/audit/Info.plist",
            "examples/pinning/policy.toml",
        ],
    ));
    assert_eq!(md, again);
}

#[test]
fn the_japanese_edition_is_complete_and_polite() {
    let repo = repo();
    let md = ok(&report(
        &repo,
        &[
            "--lang",
            "ja",
            "--device",
            "examples/device/bank-policy.toml",
            "--storage",
            "examples/storage/storage-settings.toml",
            "examples/audit/network_security_config.xml",
            "examples/audit/Info.plist",
        ],
    ));
    // Natural summary line.
    assert!(
        md.contains("未対応の指摘は 16 件です (高 3 件、中 6 件、低 3 件、情報 4 件)。"),
        "{md}"
    );
    // Every item has its criterion and risk, in Japanese.
    assert_eq!(md.matches("**リスク**: ").count(), 8, "{md}");
    assert_eq!(md.matches("**基準**: ").count(), 8, "{md}");
    for en in [
        "Risk",
        "Criterion",
        "Evidence",
        "Status",
        "References",
        "not configured",
        "blocked",
    ] {
        assert!(!md.contains(en), "English {en:?} in the Japanese edition");
    }
    // One register: sentences of the report end in です・ます, never in the
    // plain form (する。/ ない。/ である。).
    for plain in ["する。", "ない。", "である。", "だ。", "使う。", "残す。"] {
        assert!(
            !md.contains(plain),
            "plain form {plain:?} in: {}",
            md.lines().find(|l| l.contains(plain)).unwrap()
        );
    }
    assert!(
        md.contains("参照**: FinTech セキュリティガイドライン DEV-4 項"),
        "{md}"
    );
}

#[test]
fn nothing_to_report_on_is_bad_usage() {
    let o = mamori(&["report"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("nothing to report on"),
        "{}",
        stderr(&o)
    );
}

/// A host pinned by OkHttp `sha1/` pins only is pinned (OkHttp checks
/// them): the report's host table and DEV-4 count it, and the
/// cross-platform comparison does not call it unpinned on Android.
#[test]
fn a_host_with_only_sha1_okhttp_pins_is_pinned_in_the_report_and_comparison() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "pins.txt",
        "a.example.com sha1/sBFctHESptDWli2yIHtOVZJ3in4= sha1/AAECAwQFBgcICQoLDA0ODxAREhM=\n",
    );
    write(
        tmp.path(),
        "tk.json",
        format!(
            r#"{{"TSKPinnedDomains":{{"a.example.com":{{"TSKPublicKeyHashes":["{A}","{B}"],"TSKDisableDefaultReportUri":true}}}}}}"#
        ),
    );
    let md = ok(&report(tmp.path(), &["pins.txt", "tk.json"]));
    let row = md
        .lines()
        .find(|l| l.starts_with("| `a.example.com` |"))
        .unwrap_or_else(|| panic!("{md}"));
    assert!(!row.contains("not pinned"), "{row}");
    assert!(row.matches("2 pins").count() == 2, "{row}");
    assert!(md.contains("2 pinned domain entries"), "{md}");
    let o = mamori_in(
        tmp.path(),
        &[
            "audit",
            "--format",
            "json",
            "--at",
            "2026-06-01",
            "--fail-on",
            "never",
            "pins.txt",
            "tk.json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let pinned: Vec<(&str, u64)> = v["configs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["format"].as_str().unwrap(),
                c["pinned_domains"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(pinned, [("okhttp", 1), ("trustkit", 1)], "{v}");
    let rules: Vec<(&str, &str)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"].as_str().unwrap().starts_with("XPLAT"))
        .map(|f| (f["rule"].as_str().unwrap(), f["message"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rules,
        [(
            "XPLAT-PINS-DIFFER",
            "a.example.com: Android pins 0 key(s) and 2 by SHA-1 (not comparable with SHA-256 pins), iOS 2 key(s), 0 in common"
        )],
        "{v}"
    );
}
