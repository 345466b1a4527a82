//! The evidence report escapes what comes from its inputs: the Markdown
//! renders every host, file name and value as written, and the HTML page
//! (the same Markdown, rendered) carries no markup that an input brought in.

use mamori::audit::report::{self, InputFile, ReportInput, Settings};
use mamori::audit::{self, AuditOptions, NscOptions, SourceFormat};
use time::macros::datetime;

const A: &str = "K87oWBWM9UZfyddvDfoxL+8lpNyoUB2ptGtn0fv6G2Q=";
const B: &str = "PL1/TTDEe9Cm2lb2X0tixyQC7zaPREm/V0IHJscTCmw=";

const XSS: &str = "<img src=x onerror=alert(1)>";

fn input<'a>(
    configs: &'a [audit::AuditConfig],
    findings: &'a [audit::AuditFinding],
) -> ReportInput<'a> {
    ReportInput {
        app: Some(format!("Bank {XSS}")),
        date: "2026-06-01".into(),
        lang: audit::Lang::En,
        files: vec![InputFile::new("policy*_1_.toml", "pinning", b"x")],
        configs,
        findings,
        device: Some(Settings {
            file: "device_<b>.toml".into(),
            entries: vec![
                ("note".into(), XSS.into()),
                ("tick".into(), "a`b``c".into()),
            ],
        }),
        storage: None,
        chains: 0,
        device_validated: false,
    }
}

fn configs() -> Vec<audit::AuditConfig> {
    let toml = format!(
        "[[domain]]\nhost = \"**.cdn.example.com\"\npins = [\"sha256/{A}\", \"sha256/{B}\"]\n"
    );
    let nsc = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<network-security-config>\n<base-config><trust-anchors><certificates src=\"user\"/></trust-anchors></base-config>\n</network-security-config>\n";
    vec![
        audit::import_bytes(
            toml.as_bytes(),
            "policy*_1_.toml",
            Some(SourceFormat::Mamori),
            NscOptions::default(),
            None,
        )
        .unwrap(),
        audit::import_bytes(
            nsc.as_bytes(),
            "nsc.xml",
            Some(SourceFormat::Nsc),
            NscOptions::default(),
            None,
        )
        .unwrap(),
    ]
}

#[test]
fn markdown_escapes_input_text() {
    let cfgs = configs();
    let findings = audit::audit(&cfgs, &AuditOptions::at(datetime!(2026-06-01 00:00 UTC)));
    assert!(findings.iter().any(|f| f.rule == "TRUST-USER-CA"));
    let md = report::markdown(&input(&cfgs, &findings));
    // A wildcard host is not emphasis.
    assert!(md.contains(r"\*\*.cdn.example.com (2 pins)"), "{md}");
    assert!(!md.contains(" **.cdn"), "{md}");
    // Angle brackets from inputs and from the rule table are not HTML.
    assert!(md.contains(r"put it in \<debug-overrides\> only"), "{md}");
    assert!(md.contains(r"Bank \<img src=x onerror=alert(1)\>"), "{md}");
    // Outside code spans, every `<` is escaped.
    let count = |needle: &str| md.matches(needle).count();
    assert_eq!(
        count("<img"),
        count(r"\<img") + count("`<img src=x onerror=alert(1)>`"),
        "{md}"
    );
    assert_eq!(count("<b>"), count("`device_<b>.toml`"), "{md}");
    assert!(count(r"\<b\>") > 0, "{md}");
    // Code spans hold any text, backticks included.
    assert!(
        md.contains("`note` = `<img src=x onerror=alert(1)>`"),
        "{md}"
    );
    assert!(md.contains("| `tick` | ```a`b``c``` |"), "{md}");
    assert!(md.contains(r"(device\_\<b\>.toml)"), "{md}");
}

#[test]
fn html_is_the_markdown_rendered_and_carries_no_input_markup() {
    let cfgs = configs();
    let findings = audit::audit(&cfgs, &AuditOptions::at(datetime!(2026-06-01 00:00 UTC)));
    let html = report::html(&input(&cfgs, &findings));
    assert!(
        html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"),
        "{html}"
    );
    assert!(
        html.contains(
            "<title>Device-layer security evidence: Bank &lt;img src=x onerror=alert(1)&gt;</title>"
        ),
        "{html}"
    );
    assert!(!html.contains("<img"), "{html}");
    assert!(!html.contains("<b>"), "{html}");
    assert!(!html.contains("<debug-overrides>"), "{html}");
    assert!(html.contains("&lt;debug-overrides&gt;"), "{html}");
    assert!(html.contains("**.cdn.example.com (2 pins)"), "{html}");
    assert!(!html.contains("<strong>.cdn"), "{html}");
    assert!(
        html.contains("<code>&lt;img src=x onerror=alert(1)&gt;</code>"),
        "{html}"
    );
    assert!(html.contains("<code>a`b``c</code>"), "{html}");
    // The report's own markup is rendered.
    assert!(html.contains("<h2>DEV-4</h2>"), "{html}");
    assert!(html.contains("<strong>Status</strong>"), "{html}");
    assert!(html.trim_end().ends_with("</html>"));
}
