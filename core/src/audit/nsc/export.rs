//! Writing a configuration as NSC XML, with notes for what NSC cannot
//! express.

use crate::audit::model::{AuditConfig, Declared, DomainEntry, ExpiryZone, PinScope, SourceFormat};

/// Renders a configuration as NSC XML. Domains keep their `domain-config`
/// grouping and nesting; declared settings are written as declared. Returns
/// the XML and notes about anything NSC cannot express.
pub(crate) fn export(cfg: &AuditConfig) -> (String, Vec<String>) {
    // An OkHttp entry's `group` is its CertificatePinner (for the pin union),
    // not a block: each pattern has its own pins, so its own domain-config.
    let owned;
    let cfg = if cfg
        .domains
        .iter()
        .any(|d| d.mechanism == SourceFormat::OkHttp)
    {
        let mut c = cfg.clone();
        let base = c.domains.iter().map(|d| d.group).max().unwrap_or(0) + 1;
        for (i, d) in c.domains.iter_mut().enumerate() {
            if d.mechanism == SourceFormat::OkHttp {
                d.group = base + i;
            }
        }
        owned = c;
        &owned
    } else {
        cfg
    };
    let mut notes = Vec::new();
    let mut out =
        String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<network-security-config>\n");
    if cfg.base != Declared::default() {
        out.push_str("    <base-config");
        attrs(&mut out, &cfg.base);
        out.push_str(">\n");
        body(&mut out, &cfg.base, 2);
        out.push_str("    </base-config>\n");
    }
    // Groups in order of first appearance.
    let mut groups: Vec<usize> = Vec::new();
    for d in &cfg.domains {
        if !groups.contains(&d.group) {
            groups.push(d.group);
        }
    }
    for g in &groups {
        let first = cfg
            .domains
            .iter()
            .position(|d| d.group == *g)
            .expect("group exists");
        if cfg.domains[first].parent.is_none() {
            write_group(cfg, *g, 1, &mut out, &mut notes);
        }
    }
    if let Some(d) = &cfg.debug_overrides {
        out.push_str("    <debug-overrides>\n");
        body(&mut out, &d.declared, 2);
        out.push_str("    </debug-overrides>\n");
    }
    out.push_str("</network-security-config>\n");
    (out, notes)
}

fn indent(n: usize) -> String {
    "    ".repeat(n)
}

fn attrs(out: &mut String, d: &Declared) {
    if let Some(v) = d.cleartext_permitted {
        out.push_str(&format!(" cleartextTrafficPermitted=\"{v}\""));
    }
    if let Some(v) = d.hsts_enforced {
        out.push_str(&format!(" hstsEnforced=\"{v}\""));
    }
}

fn body(out: &mut String, d: &Declared, depth: usize) {
    if let Some(ct) = d.certificate_transparency {
        out.push_str(&format!(
            "{}<certificateTransparency enabled=\"{ct}\" />\n",
            indent(depth)
        ));
    }
    if let Some(anchors) = &d.trust_anchors {
        out.push_str(&format!("{}<trust-anchors>\n", indent(depth)));
        for a in anchors {
            out.push_str(&format!(
                "{}<certificates src=\"{}\"",
                indent(depth + 1),
                xml_escape(&a.source.nsc_src())
            ));
            if let Some(o) = a.override_pins {
                out.push_str(&format!(" overridePins=\"{o}\""));
            }
            out.push_str(" />\n");
        }
        out.push_str(&format!("{}</trust-anchors>\n", indent(depth)));
    }
}

fn write_group(
    cfg: &AuditConfig,
    g: usize,
    depth: usize,
    out: &mut String,
    notes: &mut Vec<String>,
) {
    let members: Vec<(usize, &DomainEntry)> = cfg
        .domains
        .iter()
        .enumerate()
        .filter(|(_, d)| d.group == g)
        .collect();
    let head = members[0].1;
    out.push_str(&format!("{}<domain-config", indent(depth)));
    attrs(out, &head.declared);
    out.push_str(">\n");
    for (_, d) in &members {
        let (host, include) = nsc_host(d, notes);
        out.push_str(&format!(
            "{}<domain includeSubdomains=\"{include}\">{}</domain>\n",
            indent(depth + 1),
            xml_escape(&host)
        ));
    }
    body(out, &head.declared, depth + 1);
    if head.has_pin_set || !head.pins.is_empty() {
        if !head.enforce {
            notes.push(format!(
                "{}: NSC has no report-only mode; the pins are written and Android will enforce them",
                head.host
            ));
        }
        if !head.report_uris.is_empty() {
            notes.push(format!(
                "{}: NSC has no failure reporting; report URIs dropped",
                head.host
            ));
        }
        if head.pins.iter().any(|p| p.scope == PinScope::Leaf) {
            notes.push(format!(
                "{}: NSC pins match any certificate in the chain; ATS leaf-only scope is lost",
                head.host
            ));
        }
        out.push_str(&format!("{}<pin-set", indent(depth + 1)));
        if let Some(e) = &head.expiry {
            let date = e.at.date();
            out.push_str(&format!(" expiration=\"{date}\""));
            if e.zone != ExpiryZone::DeviceLocal {
                notes.push(format!(
                    "{}: expiry {} was UTC; NSC reads {date} in the device's time zone",
                    head.host, e.text
                ));
            }
        }
        out.push_str(">\n");
        for p in &head.pins {
            out.push_str(&format!(
                "{}<pin digest=\"SHA-256\">{}</pin>\n",
                indent(depth + 2),
                p.pin.base64()
            ));
        }
        out.push_str(&format!("{}</pin-set>\n", indent(depth + 1)));
    }
    let member_idx: Vec<usize> = members.iter().map(|(i, _)| *i).collect();
    let mut child_groups: Vec<usize> = Vec::new();
    for d in &cfg.domains {
        if d.parent.is_some_and(|p| member_idx.contains(&p)) && !child_groups.contains(&d.group) {
            child_groups.push(d.group);
        }
    }
    for c in child_groups {
        write_group(cfg, c, depth + 1, out, notes);
    }
    out.push_str(&format!("{}</domain-config>\n", indent(depth)));
}

/// NSC has only exact names and `includeSubdomains`.
fn nsc_host(d: &DomainEntry, notes: &mut Vec<String>) -> (String, bool) {
    if let Some(rest) = d.host.strip_prefix("**.") {
        return (rest.to_owned(), true);
    }
    if let Some(rest) = d.host.strip_prefix("*.") {
        notes.push(format!(
            "{}: NSC cannot express \"exactly one label\"; written as {rest} with includeSubdomains, which also covers {rest} itself and deeper names",
            d.host
        ));
        return (rest.to_owned(), true);
    }
    (d.host.clone(), d.include_subdomains)
}

pub(crate) fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
