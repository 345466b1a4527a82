//! Audit output: a terminal table, JSON for tools, and SARIF 2.1.0 for code
//! scanning in CI. All three are deterministic for the same inputs and `--at`.
//!
//! JSON and SARIF are written as they are produced ([`write_json`],
//! [`write_sarif`]): each finding becomes a JSON value only while it is
//! written, so memory holds one finding's value, not the whole document
//! (a 20 MB configuration with hundreds of thousands of findings must not
//! need gigabytes). Documents are structs whose fields are declared in the
//! order serde_json's maps sort keys, so the output is the same as a
//! `json!` tree's.

use std::io::{self, Write};

use serde::{Serialize, Serializer};
use serde_json::{Value, json};

use super::chain::SuppliedChain;
use super::model::AuditConfig;
use super::package::{AppPackage, PackageKind};
use super::rules::{AuditFinding, Lang, Rule, Severity, counts, rules};

/// Everything an audit produced.
#[derive(Clone, Debug)]
pub struct AuditResult<'a> {
    /// The configurations audited.
    pub configs: &'a [AuditConfig],
    /// Chains checked.
    pub chains: &'a [SuppliedChain],
    /// Findings, sorted.
    pub findings: &'a [AuditFinding],
    /// The audit date (`YYYY-MM-DD`).
    pub at: String,
    /// Language of messages.
    pub lang: Lang,
    /// The packages (APK, AAB, IPA) the configurations came from.
    pub packages: &'a [AppPackage],
}

/// One line per package: what was audited, exactly.
fn package_lines(r: &AuditResult) -> String {
    let mut out = String::new();
    for p in r.packages {
        let kind = match p.kind {
            PackageKind::Apk => "APK",
            PackageKind::Aab => "AAB",
            PackageKind::Ipa => "IPA",
        };
        let mut parts = vec![format!(
            "{} {}",
            p.app_id.as_deref().unwrap_or("?"),
            p.version.as_deref().unwrap_or("?")
        )];
        if let Some(b) = &p.build {
            parts.push(format!("build {b}"));
        }
        if let Some(t) = p.target_sdk {
            parts.push(format!("targetSdk {t}"));
        }
        if p.debuggable {
            parts.push("debuggable".into());
        }
        if let Some(t) = &p.team_id {
            parts.push(format!("team {t}"));
        }
        parts.push(format!("sha256 {}", p.sha256));
        for c in &p.signing_certificates {
            // Read from the signature block, not verified (issue 13, L2).
            parts.push(format!("signer {} {} (unverified)", c.scheme, c.sha256));
        }
        for h in &p.heuristic_pins {
            let hosts = if h.nearby_hosts.is_empty() {
                "no host nearby".to_owned()
            } else {
                h.nearby_hosts.join(" ")
            };
            parts.push(format!("heuristic pin in {}: {} ({hosts})", h.entry, h.pin));
        }
        out.push_str(&format!("{} [{kind}]: {}\n", p.file, parts.join(", ")));
    }
    out
}

const RESET: &str = "\x1b[0m";

fn colour(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "\x1b[1;35m",
        Severity::High => "\x1b[1;31m",
        Severity::Medium => "\x1b[33m",
        Severity::Low => "\x1b[36m",
        Severity::Info => "\x1b[2m",
    }
}

/// Display width in terminal columns: East Asian wide characters (the
/// Japanese labels and messages) take two.
fn width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

fn pad(s: &str, w: usize) -> String {
    let mut out = s.to_owned();
    for _ in width(s)..w {
        out.push(' ');
    }
    out
}

/// The terminal table. `colour` adds ANSI colours to severities.
pub fn text(r: &AuditResult, colour_on: bool) -> String {
    let lang = r.lang;
    let mut out = package_lines(r);
    let head = match lang {
        Lang::En => ["SEVERITY", "RULE", "GUIDELINE", "LOCATION", "MESSAGE"],
        Lang::Ja => ["重大度", "ルール", "ガイドライン", "場所", "内容"],
    };
    let sev_w = r
        .findings
        .iter()
        .map(|f| width(f.severity.label(lang)))
        .chain([width(head[0])])
        .max()
        .unwrap_or(8);
    let rule_w = r
        .findings
        .iter()
        .map(|f| f.rule.len())
        .chain([width(head[1])])
        .max()
        .unwrap_or(4);
    let gl_w = width(head[2]).max(9);
    let loc_w = r
        .findings
        .iter()
        .map(|f| width(&f.location.to_string()))
        .chain([width(head[3])])
        .max()
        .unwrap_or(8);
    if !r.findings.is_empty() {
        out.push_str(&format!(
            "{}  {}  {}  {}  {}\n",
            pad(head[0], sev_w),
            pad(head[1], rule_w),
            pad(head[2], gl_w),
            pad(head[3], loc_w),
            head[4]
        ));
    }
    for f in r.findings {
        let sev = pad(f.severity.label(lang), sev_w);
        let sev = if colour_on {
            format!("{}{sev}{RESET}", colour(f.severity))
        } else {
            sev
        };
        out.push_str(&format!(
            "{sev}  {}  {}  {}  {}\n",
            pad(&f.rule, rule_w),
            pad(f.guideline.as_str(), gl_w),
            pad(&f.location.to_string(), loc_w),
            f.message(lang)
        ));
    }
    let c = counts(r.findings);
    let parts: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .filter_map(|s| c.get(s).map(|n| format!("{n} {}", s.label(lang))))
        .collect();
    let files = r.configs.len();
    let domains: usize = r.configs.iter().map(|c| c.domains.len()).sum();
    match lang {
        Lang::En => out.push_str(&format!(
            "{} finding{} ({}) in {files} configuration{}, {domains} domain{}, {} chain{} checked, at {}\n",
            r.findings.len(),
            if r.findings.len() == 1 { "" } else { "s" },
            if parts.is_empty() { "none".to_owned() } else { parts.join(", ") },
            if files == 1 { "" } else { "s" },
            if domains == 1 { "" } else { "s" },
            r.chains.len(),
            if r.chains.len() == 1 { "" } else { "s" },
            r.at
        )),
        Lang::Ja => out.push_str(&format!(
            "指摘 {} 件 ({}): 設定 {files} 件、ドメイン {domains} 件、チェーン {} 件を確認 (監査日 {})\n",
            r.findings.len(),
            if parts.is_empty() { "なし".to_owned() } else { parts.join(", ") },
            r.chains.len(),
            r.at
        )),
    }
    out
}

fn finding_json(f: &AuditFinding, lang: Lang) -> Value {
    let rule = f.rule();
    json!({
        "rule": f.rule,
        "severity": f.severity,
        "guideline": f.guideline,
        "mastg": rule.mastg,
        "maswe": rule.maswe,
        "file": &*f.location.file,
        "line": f.location.line,
        "host": f.host,
        "title": rule.text(lang).title,
        "message": f.message(lang),
    })
}

/// Elements of a [`Lazy`] array, made while it is written.
type Elements<'a> = Box<dyn Iterator<Item = Value> + 'a>;

/// A JSON array whose elements are made one at a time while it is written.
struct Lazy<'a>(&'a dyn Fn() -> Elements<'a>);

impl Serialize for Lazy<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq((self.0)())
    }
}

/// Pretty JSON of `doc` and a final newline, into a buffer over `w`.
fn write_pretty(w: &mut dyn Write, doc: &impl Serialize) -> io::Result<()> {
    let mut w = io::BufWriter::with_capacity(64 * 1024, w);
    serde_json::to_writer_pretty(&mut w, doc)?;
    w.write_all(b"\n")?;
    w.flush()
}

fn to_string(write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> String {
    let mut out = Vec::new();
    write(&mut out).expect("writing to memory does not fail");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// The JSON document (see [`write_json`]).
pub fn json(r: &AuditResult) -> String {
    to_string(|w| write_json(r, w))
}

/// Writes the JSON document to `w`, one finding at a time.
pub fn write_json(r: &AuditResult, w: &mut dyn Write) -> io::Result<()> {
    // Fields in sorted order: the output of the former `json!` tree.
    #[derive(Serialize)]
    struct Doc<'a> {
        at: &'a str,
        chains: Lazy<'a>,
        configs: Lazy<'a>,
        findings: Lazy<'a>,
        lang: Lang,
        packages: &'a [AppPackage],
        summary: serde_json::Map<String, Value>,
        tool: &'static str,
        version: &'static str,
    }
    let c = counts(r.findings);
    let mut summary = serde_json::Map::new();
    for s in Severity::ALL.iter().rev() {
        summary.insert(s.as_str().into(), json!(c.get(s).copied().unwrap_or(0)));
    }
    summary.insert("total".into(), json!(r.findings.len()));
    let doc = Doc {
        at: &r.at,
        chains: Lazy(&|| {
            Box::new(r.chains.iter().map(|ch| {
                json!({
                    "host": ch.host,
                    "source": ch.source,
                    "pins": ch.certs.iter().map(|c| c.pin.to_string()).collect::<Vec<_>>(),
                })
            }))
        }),
        configs: Lazy(&|| {
            Box::new(r.configs.iter().map(|c| {
                json!({
                    "file": c.file,
                    "format": c.format,
                    "platform": c.platform,
                    "domains": c.domains.len(),
                    "pinned_domains": c.domains.iter().filter(|d| d.is_pinned()).count(),
                })
            }))
        }),
        findings: Lazy(&|| Box::new(r.findings.iter().map(|f| finding_json(f, r.lang)))),
        lang: r.lang,
        packages: r.packages,
        summary,
        tool: "mamori",
        version: env!("CARGO_PKG_VERSION"),
    };
    write_pretty(w, &doc)
}

/// SARIF `level` for a severity.
pub fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub code scanning's `security-severity` (CVSS-like score).
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.5",
    }
}

/// The rule's full help in Markdown.
pub fn rule_markdown(rule: &Rule, lang: Lang) -> String {
    let t = rule.text(lang);
    let (c, r, a, fix, bad, refs) = match lang {
        Lang::En => (
            "Criterion",
            "Risk",
            "When it applies",
            "Remediation",
            "Bad example",
            "References",
        ),
        Lang::Ja => ("基準", "リスク", "適用条件", "対処", "悪い例", "参照"),
    };
    let mut refs_v = vec![format!("guideline {}", rule.guideline)];
    refs_v.extend(rule.mastg.clone());
    refs_v.extend(rule.maswe.clone());
    refs_v.extend(rule.also_flagged_by.iter().cloned());
    format!(
        "**{c}**: {}\n\n**{r}**: {}\n\n**{a}**: {}\n\n**{fix}**: {}\n\n**{bad}**: `{}`\n\n**{refs}**: {}\n",
        t.criterion,
        t.risk,
        t.applies,
        t.remediation,
        t.bad,
        refs_v.join("; ")
    )
}

fn uri(file: &str) -> String {
    let mut out = String::new();
    for c in file.replace('\\', "/").chars() {
        match c {
            ' ' => out.push_str("%20"),
            '#' => out.push_str("%23"),
            '?' => out.push_str("%3F"),
            '%' => out.push_str("%25"),
            c => out.push(c),
        }
    }
    out
}

/// The SARIF 2.1.0 log (see [`write_sarif`]).
pub fn sarif(r: &AuditResult) -> String {
    to_string(|w| write_sarif(r, w))
}

/// Writes the SARIF 2.1.0 log to `w`: every rule as `reportingDescriptor`,
/// every finding as a `result` with its file and line, one at a time.
pub fn write_sarif(r: &AuditResult, w: &mut dyn Write) -> io::Result<()> {
    let lang = r.lang;
    let all = rules();
    let rules_json: Vec<Value> = all
        .iter()
        .map(|rule| {
            let t = rule.text(lang);
            let mut tags = vec!["security".to_owned(), rule.guideline.as_str().to_owned()];
            tags.extend(rule.mastg.clone());
            tags.extend(rule.maswe.clone());
            json!({
                "id": rule.id,
                "name": rule.id.split('-').map(|w| {
                    let mut c = w.chars();
                    match c.next() { Some(f) => f.to_uppercase().collect::<String>() + &c.as_str().to_lowercase(), None => String::new() }
                }).collect::<String>(),
                "shortDescription": { "text": t.title },
                "fullDescription": { "text": t.criterion },
                "help": { "text": format!("{} {} {}", t.risk, t.remediation, t.bad), "markdown": rule_markdown(rule, lang) },
                "defaultConfiguration": { "level": sarif_level(rule.severity) },
                "properties": {
                    "tags": tags,
                    "precision": "high",
                    "problem.severity": sarif_level(rule.severity),
                    "security-severity": security_severity(rule.severity),
                    "mamori-severity": rule.severity,
                    "guideline": rule.guideline,
                },
            })
        })
        .collect();
    let result = |f: &AuditFinding| {
        let idx = all
            .iter()
            .position(|x| x.id == f.rule)
            .expect("finding rules are in the table");
        let mut phys = json!({ "artifactLocation": { "uri": uri(&f.location.file) } });
        if let Some(line) = f.location.line.filter(|l| *l >= 1) {
            phys["region"] = json!({ "startLine": line });
        }
        json!({
            "ruleId": f.rule,
            "ruleIndex": idx,
            "level": sarif_level(f.severity),
            "message": { "text": f.message(lang) },
            "locations": [ { "physicalLocation": phys } ],
            "partialFingerprints": {
                "mamori/v1": format!("{}|{}|{}|{}", f.rule, f.location.file, f.host.as_deref().unwrap_or(""), f.detail),
            },
            "properties": { "severity": f.severity, "guideline": f.guideline, "host": f.host },
        })
    };
    // Fields in sorted order: the output of the former `json!` tree.
    #[derive(Serialize)]
    struct Run<'a> {
        language: &'static str,
        properties: Value,
        results: Lazy<'a>,
        tool: Value,
    }
    #[derive(Serialize)]
    struct Log<'a> {
        #[serde(rename = "$schema")]
        schema: &'static str,
        runs: [Run<'a>; 1],
        version: &'static str,
    }
    let doc = Log {
        schema: "https://json.schemastore.org/sarif-2.1.0.json",
        runs: [Run {
            language: match lang {
                Lang::En => "en",
                Lang::Ja => "ja",
            },
            properties: json!({ "at": r.at, "packages": r.packages }),
            results: Lazy(&|| Box::new(r.findings.iter().map(&result))),
            tool: json!({ "driver": {
                "name": "mamori",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://example.invalid/mamori",
                "rules": rules_json,
            }}),
        }],
        version: "2.1.0",
    };
    write_pretty(w, &doc)
}
