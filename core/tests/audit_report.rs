//! The evidence report escapes what comes from its inputs: the Markdown
//! renders every host, file name and value as written, and the HTML page
//! (the same Markdown, rendered) carries no markup that an input brought in.

use mamori::audit::report::{self, InputFile, InputRole, ReportInput};
use mamori::audit::{self, AuditOptions, NscOptions, SourceFormat};
use mamori::device::DevicePolicy;
use time::macros::datetime;

const A: &str = "K87oWBWM9UZfyddvDfoxL+8lpNyoUB2ptGtn0fv6G2Q=";
const B: &str = "PL1/TTDEe9Cm2lb2X0tixyQC7zaPREm/V0IHJscTCmw=";

const XSS: &str = "<img src=x onerror=alert(1)>";

fn input<'a>(
    configs: &'a [audit::AuditConfig],
    findings: &'a [audit::AuditFinding],
    device: &'a DevicePolicy,
) -> ReportInput<'a> {
    ReportInput {
        app: Some(format!("Bank {XSS}")),
        at: datetime!(2026-06-01 00:00 UTC),
        lang: audit::Lang::En,
        command_line: "mamori report a`b``c".into(),
        files: vec![InputFile::new("policy*_1_.toml", InputRole::Pinning, b"x")],
        apps: Vec::new(),
        configs,
        findings,
        device: Some(device),
        storage: None,
        chains: 0,
    }
}

fn device() -> DevicePolicy {
    let text = mamori::device::DEFAULT_POLICY_TOML.replace(
        "name = \"mamori-fintech-default\"",
        &format!("name = \"device_<b>{XSS}\""),
    );
    DevicePolicy::from_text(&text, "device_<b>.toml").unwrap()
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
    let dev = device();
    let md = report::markdown(&input(&cfgs, &findings, &dev));
    // A wildcard host is a code span, never emphasis.
    assert!(md.contains("| `**.cdn.example.com` |"), "{md}");
    assert!(!md.contains(" **.cdn"), "{md}");
    // Angle brackets from inputs and from the rule table are not HTML.
    assert!(md.contains(r"put it in \<debug-overrides\> only"), "{md}");
    assert!(md.contains(r"Bank \<img src=x onerror=alert(1)\>"), "{md}");
    // Outside code spans, every `<` is escaped.
    let count = |needle: &str| md.matches(needle).count();
    assert_eq!(
        count("<img"),
        count(r"\<img") + count("`device_<b><img src=x onerror=alert(1)>`"),
        "{md}"
    );
    // Code spans hold any text, backticks included; file names with
    // emphasis characters stay as written.
    assert!(md.contains("```mamori report a`b``c```"), "{md}");
    assert!(
        md.contains("| `policy*_1_.toml` | pinning configuration |"),
        "{md}"
    );
}

#[test]
fn html_carries_no_input_markup() {
    let cfgs = configs();
    let findings = audit::audit(&cfgs, &AuditOptions::at(datetime!(2026-06-01 00:00 UTC)));
    let dev = device();
    let html = report::html(&input(&cfgs, &findings, &dev));
    assert!(html.starts_with("<!DOCTYPE html>\n<html "), "{html}");
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
    assert!(
        html.contains("<span class=\"host\">**.cdn.example.com</span>"),
        "{html}"
    );
    assert!(!html.contains("<strong>.cdn"), "{html}");
    assert!(html.contains("<code>mamori report a`b``c</code>"), "{html}");
    // The report's own markup is rendered.
    assert!(
        html.contains("<h2 id=\"dev-4\">DEV-4 — Certificate pinning</h2>"),
        "{html}"
    );
    assert!(html.contains("<strong>Status</strong>"), "{html}");
    assert!(html.trim_end().ends_with("</html>"));
}
