//! The evidence report for partner banks: from the pinning configurations
//! (and, when given, the device policy and storage settings), a document that
//! walks the device-layer guideline items, states how the app meets each and
//! lists the open findings.
//!
//! The report is reproducible: it reads no clock (the date is passed in),
//! lists inputs with their SHA-256 so an auditor can tie the document to the
//! exact files, and orders everything deterministically. Values of settings
//! whose names suggest secrets are redacted (LOG-2).
//!
//! The document is written once, as CommonMark with GFM tables; the HTML page
//! is that Markdown rendered by `pulldown-cmark`, so the two cannot disagree.
//! Every piece of text that comes from an input (hosts such as
//! `**.cdn.example.com`, file names, setting values, finding details) and the
//! rule table's prose go through [`md_text`] or [`md_code`], so none of it is
//! read as Markdown or HTML; raw HTML is rendered as text in any case.

use pulldown_cmark::{Event, Options, Parser};
use ring::digest;

use super::model::{AuditConfig, Platform};
use super::rules::{AuditFinding, Lang, Severity};
use crate::guideline::GuidelineId;

/// One input file, identified by its digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputFile {
    /// The path as given.
    pub path: String,
    /// What it is (pinning configuration, device policy, storage settings).
    pub role: &'static str,
    /// Lower-case hex SHA-256 of its bytes.
    pub sha256: String,
}

impl InputFile {
    /// Describes `bytes` read from `path`.
    pub fn new(path: &str, role: &'static str, bytes: &[u8]) -> Self {
        let d = digest::digest(&digest::SHA256, bytes);
        Self {
            path: path.to_owned(),
            role,
            sha256: hex::encode(d),
        }
    }
}

/// A settings file (device policy, storage settings) flattened to
/// `dotted.key = value` pairs, sorted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The file.
    pub file: String,
    /// The pairs, sensitive values redacted.
    pub entries: Vec<(String, String)>,
}

/// Why a settings file could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {reason}")]
pub struct SettingsError {
    /// The file.
    pub file: String,
    /// Why.
    pub reason: String,
}

const SENSITIVE: [&str; 6] = [
    "secret",
    "password",
    "passphrase",
    "token",
    "private",
    "key_material",
];

impl Settings {
    /// Parses TOML or JSON (detected from the content).
    pub fn parse(text: &str, file: &str) -> Result<Self, SettingsError> {
        let value: serde_json::Value = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| SettingsError {
                file: file.into(),
                reason: format!("not valid JSON: {e}"),
            })?
        } else {
            let t: toml::Value = toml::from_str(text).map_err(|e| SettingsError {
                file: file.into(),
                reason: format!("not valid TOML: {}", e.to_string().trim()),
            })?;
            serde_json::to_value(t).map_err(|e| SettingsError {
                file: file.into(),
                reason: e.to_string(),
            })?
        };
        let mut entries = Vec::new();
        flatten("", &value, &mut entries);
        entries.sort();
        Ok(Self {
            file: file.to_owned(),
            entries,
        })
    }
}

fn flatten(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        other => {
            let lower = prefix.to_ascii_lowercase();
            let shown = if SENSITIVE.iter().any(|s| lower.contains(s)) {
                "(redacted)".to_owned()
            } else {
                match other {
                    serde_json::Value::String(s) => s.clone(),
                    x => x.to_string(),
                }
            };
            out.push((prefix.to_owned(), shown));
        }
    }
}

/// Everything the report is made from.
#[derive(Clone, Debug)]
pub struct ReportInput<'a> {
    /// App name for the title, if given.
    pub app: Option<String>,
    /// The report date (`YYYY-MM-DD`).
    pub date: String,
    /// Language.
    pub lang: Lang,
    /// Inputs with digests, in the order given.
    pub files: Vec<InputFile>,
    /// Pinning configurations.
    pub configs: &'a [AuditConfig],
    /// Audit findings.
    pub findings: &'a [AuditFinding],
    /// Device policy, if given.
    pub device: Option<Settings>,
    /// Storage settings, if given.
    pub storage: Option<Settings>,
    /// Number of certificate chains the pins were checked against.
    pub chains: usize,
    /// The device policy was validated as a Mamori device policy
    /// (`mamori::device`), which the SDK enforces at run time.
    pub device_validated: bool,
}

/// Whether an item is met.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Met, no open finding.
    Met,
    /// Met, with open findings below high.
    MetWithFindings,
    /// Open findings of high severity or above.
    NotMet,
    /// Settings declared but not verifiable by this tool.
    Declared,
    /// No input covers the item.
    NotAssessed,
}

impl Status {
    fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Self::Met, Lang::En) => "Met",
            (Self::Met, Lang::Ja) => "充足",
            (Self::MetWithFindings, Lang::En) => "Met, with open findings",
            (Self::MetWithFindings, Lang::Ja) => "充足 (未対応の指摘あり)",
            (Self::NotMet, Lang::En) => "Not met",
            (Self::NotMet, Lang::Ja) => "未充足",
            (Self::Declared, Lang::En) => "Declared (settings supplied; not verified by this tool)",
            (Self::Declared, Lang::Ja) => "申告 (設定の提出あり、本ツールでは未検証)",
            (Self::NotAssessed, Lang::En) => "Not assessed (no input covers it)",
            (Self::NotAssessed, Lang::Ja) => "未評価 (対象の入力なし)",
        }
    }
}

enum Block {
    H(u8, String),
    P(String),
    List(Vec<String>),
    Table(Vec<String>, Vec<Vec<String>>),
}

fn t(lang: Lang, en: &str, ja: &str) -> String {
    if lang == Lang::Ja {
        ja.to_owned()
    } else {
        en.to_owned()
    }
}

fn status_from_findings(fs: &[&AuditFinding]) -> Status {
    if fs.iter().any(|f| f.severity >= Severity::High) {
        Status::NotMet
    } else if fs.is_empty() {
        Status::Met
    } else {
        Status::MetWithFindings
    }
}

fn pinning_evidence(r: &ReportInput) -> Vec<String> {
    let lang = r.lang;
    let mut out = Vec::new();
    for c in r.configs {
        let platform = match c.platform {
            Platform::Android => "Android",
            Platform::Ios => "iOS",
            Platform::Any => "Mamori",
        };
        let pinned: Vec<String> = c
            .domains
            .iter()
            .filter(|d| !d.pins.is_empty())
            .map(|d| {
                let n = d.distinct_pins().len();
                let host = md_text(&d.host);
                let exp = d.expiry.as_ref().map(|e| md_text(&e.text));
                match (lang, exp) {
                    (Lang::En, Some(e)) => format!("{host} ({n} pins, expires {e})"),
                    (Lang::En, None) => format!("{host} ({n} pins)"),
                    (Lang::Ja, Some(e)) => format!("{host} (ピン {n} 個、期限 {e})"),
                    (Lang::Ja, None) => format!("{host} (ピン {n} 個)"),
                }
            })
            .collect();
        let list = if pinned.is_empty() {
            t(lang, "no pinned domain", "ピン留めしたドメインなし")
        } else {
            pinned.join(", ")
        };
        out.push(format!(
            "{platform} — {} ({}): {list}",
            md_code(&c.file),
            c.format.as_str()
        ));
    }
    if r.chains > 0 {
        out.push(match lang {
            Lang::En => format!("Pins were checked against {} certificate chain(s) served or supplied for the pinned hosts.", r.chains),
            Lang::Ja => format!("ピンは、ピン留めホストの証明書チェーン {} 件と照合しました。", r.chains),
        });
    } else {
        out.push(t(lang, "Pins were not checked against server chains (run with --chain or --live).", "ピンはサーバーのチェーンと照合していません (--chain または --live で実行してください)。"));
    }
    out
}

fn settings_evidence(s: &Option<Settings>, prefixes: &[&str], lang: Lang) -> (Status, Vec<String>) {
    match s {
        None => (Status::NotAssessed, Vec::new()),
        Some(s) => {
            let rows: Vec<String> = s
                .entries
                .iter()
                .filter(|(k, _)| {
                    prefixes.is_empty()
                        || prefixes.iter().any(|p| k.to_ascii_lowercase().contains(p))
                })
                .map(|(k, v)| format!("{} = {} ({})", md_code(k), md_code(v), md_text(&s.file)))
                .collect();
            if rows.is_empty() {
                (
                    Status::NotAssessed,
                    vec![match lang {
                        Lang::En => format!("{} has no setting for this item.", md_text(&s.file)),
                        Lang::Ja => {
                            format!("{} にはこの項目の設定がありません。", md_text(&s.file))
                        }
                    }],
                )
            } else {
                (Status::Declared, rows)
            }
        }
    }
}

/// The document's title, as plain text.
fn title(r: &ReportInput) -> String {
    match (&r.app, r.lang) {
        (Some(a), Lang::En) => format!("Device-layer security evidence: {a}"),
        (Some(a), Lang::Ja) => format!("端末層セキュリティ対応状況報告書: {a}"),
        (None, Lang::En) => "Device-layer security evidence".to_owned(),
        (None, Lang::Ja) => "端末層セキュリティ対応状況報告書".to_owned(),
    }
}

fn build(r: &ReportInput) -> Vec<Block> {
    let lang = r.lang;
    let mut b = Vec::new();
    b.push(Block::H(1, md_text(&title(r))));
    b.push(Block::P(match lang {
        Lang::En => format!("Date: {}. Generated by mamori {} from the inputs below; the same inputs and date give the same document.", r.date, env!("CARGO_PKG_VERSION")),
        Lang::Ja => format!("日付: {}。以下の入力から mamori {} で生成しました。同じ入力と日付からは同じ文書が得られます。", r.date, env!("CARGO_PKG_VERSION")),
    }));
    b.push(Block::H(2, t(lang, "Inputs", "入力")));
    b.push(Block::Table(
        vec![
            t(lang, "File", "ファイル"),
            t(lang, "Role", "種類"),
            "SHA-256".into(),
        ],
        r.files
            .iter()
            .map(|f| vec![md_code(&f.path), role(f.role, lang), md_code(&f.sha256)])
            .collect(),
    ));
    // Summary table.
    let items: [(GuidelineId, &str); 8] = [
        (GuidelineId::Dev1, "storage"),
        (GuidelineId::Dev2, "device"),
        (GuidelineId::Dev3, "auth"),
        (GuidelineId::Dev4, "pinning"),
        (GuidelineId::Data1, "pinning"),
        (GuidelineId::New1, "storage"),
        (GuidelineId::Bp5, "pinning"),
        (GuidelineId::Log2, "pinning"),
    ];
    let mut sections = Vec::new();
    for (id, source) in items {
        let fs: Vec<&AuditFinding> = r.findings.iter().filter(|f| f.guideline == id).collect();
        let (status, evidence) = match source {
            "pinning" if r.configs.is_empty() => (Status::NotAssessed, Vec::new()),
            "pinning" => {
                let ev = if id == GuidelineId::Dev4 {
                    pinning_evidence(r)
                } else {
                    Vec::new()
                };
                (status_from_findings(&fs), ev)
            }
            "device" => {
                let (status, mut ev) = settings_evidence(&r.device, &[], lang);
                if r.device_validated {
                    ev.insert(0, t(lang, "Validated as a Mamori device policy: the SDK evaluates it on the device at run time (mamori device).", "Mamori の端末ポリシーとして検証済み: SDK が実行時に端末上で評価します (mamori device)。"));
                }
                (status, ev)
            }
            "auth" => {
                let (s1, mut e1) = settings_evidence(
                    &r.storage,
                    &["auth", "biometric", "passcode", "user_presence"],
                    lang,
                );
                let (s2, e2) =
                    settings_evidence(&r.device, &["auth", "biometric", "passcode"], lang);
                e1.extend(e2);
                (
                    if s1 == Status::Declared || s2 == Status::Declared {
                        Status::Declared
                    } else {
                        Status::NotAssessed
                    },
                    e1,
                )
            }
            _ => settings_evidence(&r.storage, &[], lang),
        };
        sections.push((id, status, evidence, fs));
    }
    b.push(Block::H(2, t(lang, "Summary", "概要")));
    b.push(Block::Table(
        vec![
            t(lang, "Item", "項目"),
            t(lang, "Status", "状況"),
            t(lang, "Open findings", "未対応の指摘"),
        ],
        sections
            .iter()
            .map(|(id, s, _, fs)| {
                vec![
                    id.as_str().to_owned(),
                    s.label(lang).to_owned(),
                    fs.len().to_string(),
                ]
            })
            .collect(),
    ));
    for (id, status, evidence, fs) in &sections {
        b.push(Block::H(2, format!("{id}")));
        b.push(Block::P(format!(
            "**{}**: {}",
            t(lang, "Criterion", "基準"),
            md_text(&criterion(*id, lang))
        )));
        if let Some(risk) = id.risk().filter(|_| lang == Lang::En) {
            b.push(Block::P(format!("**Risk**: {}", md_text(risk))));
        }
        b.push(Block::P(format!(
            "**{}**: {}",
            t(lang, "Status", "状況"),
            status.label(lang)
        )));
        if !evidence.is_empty() {
            b.push(Block::P(format!(
                "**{}**:",
                t(lang, "How the app meets it", "対応内容")
            )));
            b.push(Block::List(evidence.clone()));
        }
        if !fs.is_empty() {
            b.push(Block::P(format!(
                "**{}**:",
                t(lang, "Open findings", "未対応の指摘")
            )));
            b.push(Block::Table(
                vec![
                    t(lang, "Severity", "重大度"),
                    t(lang, "Rule", "ルール"),
                    t(lang, "Location", "場所"),
                    t(lang, "Finding", "内容"),
                    t(lang, "Remediation", "対処"),
                ],
                fs.iter()
                    .map(|f| {
                        vec![
                            f.severity.label(lang).to_owned(),
                            md_text(&f.rule),
                            md_code(&f.location.to_string()),
                            md_text(&f.message(lang)),
                            md_text(&f.rule().text(lang).remediation),
                        ]
                    })
                    .collect(),
            ));
        }
    }
    if r.device.is_some() || r.storage.is_some() {
        b.push(Block::H(
            2,
            t(lang, "Settings as supplied", "提出された設定"),
        ));
        for s in [&r.device, &r.storage].into_iter().flatten() {
            b.push(Block::H(3, md_code(&s.file)));
            b.push(Block::Table(
                vec![t(lang, "Setting", "設定"), t(lang, "Value", "値")],
                s.entries
                    .iter()
                    .map(|(k, v)| vec![md_code(k), md_code(v)])
                    .collect(),
            ));
        }
    }
    b
}

fn role(r: &str, lang: Lang) -> String {
    match (r, lang) {
        ("pinning", Lang::En) => "pinning configuration".into(),
        ("pinning", Lang::Ja) => "ピン留め設定".into(),
        ("device", Lang::En) => "device policy".into(),
        ("device", Lang::Ja) => "端末ポリシー".into(),
        ("storage", Lang::En) => "storage settings".into(),
        ("storage", Lang::Ja) => "ストレージ設定".into(),
        ("chain", Lang::En) => "certificate chain".into(),
        ("chain", Lang::Ja) => "証明書チェーン".into(),
        ("package", Lang::En) => "app package".into(),
        ("package", Lang::Ja) => "アプリパッケージ".into(),
        ("signing certificate", Lang::Ja) => "署名証明書".into(),
        (other, _) => other.into(),
    }
}

fn criterion(id: GuidelineId, lang: Lang) -> String {
    if lang == Lang::En {
        return id.criterion().to_owned();
    }
    match id {
        GuidelineId::Dev1 => "端末内に機微なデータを置く場合は、ハードウェアキーストアに保持した鍵で暗号化する。",
        GuidelineId::Dev2 => "最新のセキュリティ強化に対応した OS バージョンでのみアプリを動作させる。",
        GuidelineId::Dev3 => "端末内に機微なデータを置く場合は、アプリ独自の認証 (生体認証、パスコード、別経路) を求める。",
        GuidelineId::Dev4 => "スマートフォンとサーバー間の通信では、TLS に加えて証明書ピンニングを用いる。",
        GuidelineId::Data1 => "通信中と保存時の両方でデータを暗号化する。",
        GuidelineId::New1 => "エンベロープ暗号化: データ鍵は暗号化した形でのみ保存し、平文のデータ鍵は意図した受け手にのみ渡して速やかに消去する。",
        GuidelineId::Bp5 => "セキュリティに単一障害点を作らない。",
        GuidelineId::Log2 => "機微なデータをログに残さない。",
        other => other.criterion(),
    }
    .to_owned()
}

/// Renders the report as Markdown.
pub fn markdown(r: &ReportInput) -> String {
    let mut out = String::new();
    for b in build(r) {
        match b {
            Block::H(l, s) => out.push_str(&format!("{} {s}\n\n", "#".repeat(l as usize))),
            Block::P(s) => out.push_str(&format!("{s}\n\n")),
            Block::List(items) => {
                for i in items {
                    out.push_str(&format!("- {i}\n"));
                }
                out.push('\n');
            }
            Block::Table(head, rows) => {
                let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
                out.push_str(&format!(
                    "| {} |\n",
                    head.iter().map(|h| cell(h)).collect::<Vec<_>>().join(" | ")
                ));
                out.push_str(&format!("|{}\n", "---|".repeat(head.len())));
                for row in rows {
                    out.push_str(&format!(
                        "| {} |\n",
                        row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | ")
                    ));
                }
                out.push('\n');
            }
        }
    }
    out
}

/// Plain text as Markdown: the characters that CommonMark could read as
/// emphasis, code, links, HTML, entities or headings are backslash-escaped,
/// and line breaks become spaces (a cell or list item is one line). `|` is
/// left to the table writer, which escapes it in cells.
fn md_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '&' | '~' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Plain text as a Markdown code span: a backtick fence longer than any run
/// of backticks inside, padded when the text starts or ends with one.
fn md_code(s: &str) -> String {
    let s = s.replace(['\n', '\r'], " ");
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if s.is_empty() || s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// Renders the report as a self-contained HTML page: the Markdown of
/// [`markdown`], rendered by `pulldown-cmark` (raw HTML shown as text).
pub fn html(r: &ReportInput) -> String {
    let md = markdown(r);
    let events = Parser::new_ext(&md, Options::ENABLE_TABLES).map(|e| match e {
        Event::Html(s) | Event::InlineHtml(s) => Event::Text(s),
        e => e,
    });
    let mut body = String::new();
    pulldown_cmark::html::push_html(&mut body, events);
    let mut title_html = String::new();
    pulldown_cmark::html::push_html(&mut title_html, [Event::Text(title(r).into())].into_iter());
    let lang = if r.lang == Lang::Ja { "ja" } else { "en" };
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title_html}</title>\n<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.5}}table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #999;padding:.3em .6em;text-align:left;vertical-align:top}}code{{font-size:90%}}</style>\n</head>\n<body>\n{body}</body>\n</html>\n"
    )
}
