//! The evidence report for partner banks: from the pinning configurations
//! and, when given, the device policy and the storage settings, a document
//! that walks the device-layer guideline items, states how the app meets each
//! and lists the open findings.
//!
//! Why it is built this way:
//! - **Only validated inputs.** The caller passes the values the SDK's own
//!   loaders produced ([`DevicePolicy`], [`StorageSettings`], audited
//!   [`AuditConfig`]s), never free text, so a file the SDK would refuse cannot
//!   reach the document, and settings are described through their schema
//!   (`"blocks rooted devices; Android 15+"`), never as a key dump: unknown
//!   keys and secrets have nowhere to appear (LOG-2).
//! - **Statuses from what was verified.** Each item has one small rule
//!   ([`assess`]), written in the document next to the status and in
//!   `docs/evidence-report.md`.
//! - **One document, two renderings.** The content is built once as blocks of
//!   typed inline text ([`Inline`]); the Markdown and HTML writers escape
//!   every piece for their format, so a host such as `**.cdn.example.com`, a
//!   file name or an `--app` value like `<img onerror=…>` is shown as written.
//! - **Reproducible.** No clock is read (the time is passed in); inputs are
//!   listed with their SHA-256, canonical hashes equal `mamori device check`'s.

mod assess;
mod render;
mod statements;

use ring::digest;
use time::OffsetDateTime;

use super::model::{AuditConfig, DomainIndex, Platform};
use super::rules::{AuditFinding, Lang, Severity};
use crate::device::DevicePolicy;
use crate::guideline::GuidelineId;
use crate::storage::StorageSettings;

pub use assess::Status;
pub use render::{html, markdown};

/// What an input file is.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputRole {
    /// A pinning configuration (any format `mamori audit` reads).
    Pinning,
    /// A file a pinning configuration depends on (a Mamori policy's
    /// `anchor_files`, an NSC `_debug.xml` companion), and which one.
    DependsOn(String),
    /// The device policy.
    DevicePolicy,
    /// The storage settings.
    StorageSettings,
    /// A certificate chain the pins were checked against.
    Chain,
    /// An app package (APK, AAB, IPA) as shipped; its digest is of the whole
    /// file, streamed when it was read.
    Package,
    /// A certificate that signed the package named (its digest is of the
    /// certificate's DER: what `apksigner verify --print-certs` shows).
    SigningCertificate(String),
}

/// One input file, identified by its digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputFile {
    /// The path as given.
    pub path: String,
    /// What it is.
    pub role: InputRole,
    /// Lower-case hex SHA-256 of its bytes.
    pub sha256: String,
}

impl InputFile {
    /// Describes `bytes` read from `path`.
    pub fn new(path: &str, role: InputRole, bytes: &[u8]) -> Self {
        Self {
            path: path.to_owned(),
            role,
            sha256: hex::encode(digest::digest(&digest::SHA256, bytes)),
        }
    }
}

/// An app identity stated by a configuration (an Info.plist's bundle id and
/// versions).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppIdentity {
    /// The platform.
    pub platform: Platform,
    /// Bundle identifier or package name.
    pub id: String,
    /// Marketing version (`CFBundleShortVersionString`).
    pub version: Option<String>,
    /// Build number (`CFBundleVersion`).
    pub build: Option<String>,
    /// The file it was read from.
    pub file: String,
}

impl AppIdentity {
    /// The identity a package declares (Android manifest, the IPA's
    /// Info.plist), if it names one.
    pub fn from_package(p: &super::package::AppPackage) -> Option<Self> {
        Some(Self {
            platform: match p.kind {
                super::package::PackageKind::Ipa => Platform::Ios,
                _ => Platform::Android,
            },
            id: p.app_id.clone()?,
            version: p.version.clone(),
            build: p.build.clone(),
            file: p.file.clone(),
        })
    }

    /// The identity in an Info.plist (XML or binary), if it names one.
    pub fn from_info_plist(bytes: &[u8], file: &str) -> Option<Self> {
        let v = plist::Value::from_reader(std::io::Cursor::new(bytes)).ok()?;
        let d = v.as_dictionary()?;
        let s = |k: &str| d.get(k).and_then(|v| v.as_string()).map(str::to_owned);
        Some(Self {
            platform: Platform::Ios,
            id: s("CFBundleIdentifier")?,
            version: s("CFBundleShortVersionString"),
            build: s("CFBundleVersion"),
            file: file.to_owned(),
        })
    }
}

/// Everything the report is made from. Build it from validated values only.
#[derive(Clone, Debug)]
pub struct ReportInput<'a> {
    /// App name for the title, if given.
    pub app: Option<String>,
    /// When the report was made (shown with its zone).
    pub at: OffsetDateTime,
    /// Language.
    pub lang: Lang,
    /// The command line that reproduces the document.
    pub command_line: String,
    /// Inputs with digests, in the order given, dependent files included.
    pub files: Vec<InputFile>,
    /// App identities stated by the configurations.
    pub apps: Vec<AppIdentity>,
    /// Pinning configurations.
    pub configs: &'a [AuditConfig],
    /// Audit findings.
    pub findings: &'a [AuditFinding],
    /// The device policy, validated by `DevicePolicy`'s loader.
    pub device: Option<&'a DevicePolicy>,
    /// The storage settings, validated by `StorageSettings`' loader.
    pub storage: Option<&'a StorageSettings>,
    /// Number of certificate chains the pins were checked against.
    pub chains: usize,
}

/// The guideline items the report walks, in document order.
pub const ITEMS: [GuidelineId; 8] = [
    GuidelineId::Dev1,
    GuidelineId::Dev2,
    GuidelineId::Dev3,
    GuidelineId::Dev4,
    GuidelineId::Data1,
    GuidelineId::New1,
    GuidelineId::Bp5,
    GuidelineId::Log2,
];

/// Inline text of the document; each writer escapes it for its format.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Inline {
    /// Plain text.
    Text(String),
    /// Bold plain text.
    Strong(String),
    /// Monospace text (file names, digests, setting names).
    Code(String),
    /// A host name or pattern: monospace, never broken across lines.
    Host(String),
    /// A status label, marked for colour in HTML.
    Status(Status, String),
    /// A line break inside a table cell (` / ` in Markdown).
    Break,
}

type Line = Vec<Inline>;

fn text(s: impl Into<String>) -> Line {
    vec![Inline::Text(s.into())]
}

/// One block of the document.
#[derive(Clone, Debug)]
enum Block {
    /// Heading: level, text, anchor id.
    H(u8, String, Option<String>),
    P(Line),
    List(Vec<Line>),
    /// A table: CSS class, column widths (percent), head, rows.
    Table {
        class: &'static str,
        widths: &'static [u8],
        head: Vec<String>,
        rows: Vec<Vec<Line>>,
    },
    /// The severity chart (HTML only; the table before it carries the numbers).
    Chart(Vec<(GuidelineId, [usize; 5])>),
}

fn t(lang: Lang, en: &str, ja: &str) -> String {
    if lang == Lang::Ja {
        ja.to_owned()
    } else {
        en.to_owned()
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

/// The report time, RFC 3339 with its offset, and the zone in words.
fn time_line(at: OffsetDateTime, lang: Lang) -> String {
    let stamp = at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.to_string());
    let off = at.offset();
    let zone = if off.is_utc() {
        "UTC".to_owned()
    } else {
        let (h, m, _) = off.as_hms();
        format!(
            "UTC{}{:02}:{:02}",
            if h < 0 || m < 0 { '-' } else { '+' },
            h.abs(),
            m.abs()
        )
    };
    match lang {
        Lang::En => format!("{stamp} ({zone})"),
        Lang::Ja => format!("{stamp} (タイムゾーン {zone})"),
    }
}

/// Severity counts, lowest first (the order of [`Severity::ALL`]).
fn severity_counts(fs: &[&AuditFinding]) -> [usize; 5] {
    let mut c = [0; 5];
    for f in fs {
        let i = Severity::ALL
            .iter()
            .position(|s| *s == f.severity)
            .expect("every severity is in ALL");
        c[i] += 1;
    }
    c
}

/// "16 open findings: 3 high, 6 medium, 3 low, 4 info." /
/// 「未対応の指摘は 16 件です (高 3 件、中 6 件、低 3 件、情報 4 件)。」
fn findings_sentence(counts: [usize; 5], lang: Lang) -> String {
    let total: usize = counts.iter().sum();
    let parts: Vec<String> = Severity::ALL
        .iter()
        .zip(counts)
        .rev()
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| match lang {
            Lang::En => format!("{n} {}", s.label(lang)),
            Lang::Ja => format!("{} {n} 件", s.label(lang)),
        })
        .collect();
    match (lang, total) {
        (Lang::En, 0) => "No open findings.".to_owned(),
        (Lang::Ja, 0) => "未対応の指摘はありません。".to_owned(),
        (Lang::En, 1) => format!("1 open finding: {}.", parts.join(", ")),
        (Lang::En, n) => format!("{n} open findings: {}.", parts.join(", ")),
        (Lang::Ja, n) => format!("未対応の指摘は {n} 件です ({})。", parts.join("、")),
    }
}

fn platform_name(p: Platform) -> &'static str {
    match p {
        Platform::Android => "Android",
        Platform::Ios => "iOS",
        Platform::Any => "Mamori",
    }
}

/// A finding's message with every occurrence of its host as an
/// [`Inline::Host`] (never broken across lines).
fn message_line(f: &AuditFinding, lang: Lang) -> Line {
    let message = f.message(lang);
    let Some(host) = f.host.as_deref().filter(|h| !h.is_empty()) else {
        return text(message);
    };
    let mut out = Vec::new();
    for (i, part) in message.split(host).enumerate() {
        if i > 0 {
            out.push(Inline::Host(host.to_owned()));
        }
        if !part.is_empty() {
            out.push(Inline::Text(part.to_owned()));
        }
    }
    out
}

/// `600000` → `600,000`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn role_line(role: &InputRole, lang: Lang) -> Line {
    match role {
        InputRole::Pinning => text(t(lang, "pinning configuration", "ピン留め設定")),
        InputRole::DevicePolicy => text(t(lang, "device policy", "端末ポリシー")),
        InputRole::StorageSettings => text(t(lang, "storage settings", "ストレージ設定")),
        InputRole::Chain => text(t(lang, "certificate chain", "証明書チェーン")),
        InputRole::Package => text(t(lang, "app package", "アプリパッケージ")),
        InputRole::SigningCertificate(of) => match lang {
            Lang::En => vec![
                Inline::Text("signing certificate (read, not verified) of ".into()),
                Inline::Code(of.clone()),
            ],
            Lang::Ja => vec![
                Inline::Code(of.clone()),
                Inline::Text(" の署名証明書 (読み取りのみ・未検証)".into()),
            ],
        },
        InputRole::DependsOn(of) => match lang {
            Lang::En => vec![Inline::Text("used by ".into()), Inline::Code(of.clone())],
            Lang::Ja => vec![Inline::Code(of.clone()), Inline::Text(" が参照".into())],
        },
    }
}

/// The per-host table: host × Android / iOS / Mamori.
fn host_table(r: &ReportInput) -> Option<Block> {
    let lang = r.lang;
    // Linear in the domains (issue 9, item 7): a set for the hosts seen and
    // an index per configuration for the rule of each host (a `Vec` search
    // and `domain_for`'s scan of every domain made the table quadratic).
    let mut hosts: Vec<&str> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for c in r.configs {
        for d in &c.domains {
            if seen.insert(d.host.as_str()) {
                hosts.push(&d.host);
            }
        }
    }
    let indexes: Vec<DomainIndex> = r.configs.iter().map(DomainIndex::new).collect();
    if hosts.is_empty() {
        return None;
    }
    let platforms = [Platform::Android, Platform::Ios, Platform::Any];
    let present: Vec<Platform> = platforms
        .into_iter()
        .filter(|p| r.configs.iter().any(|c| c.platform == *p))
        .collect();
    let rows = hosts
        .iter()
        .map(|h| {
            let mut row = vec![vec![Inline::Host((*h).to_owned())]];
            for p in &present {
                let entry = r
                    .configs
                    .iter()
                    .zip(&indexes)
                    .filter(|(c, _)| c.platform == *p)
                    .find_map(|(c, index)| index.domain_for(h).map(|i| &c.domains[i]));
                row.push(match entry {
                    None => text(t(lang, "not configured", "設定なし")),
                    Some(d) if !d.is_pinned() => text(t(lang, "not pinned", "ピンなし")),
                    Some(d) => {
                        // OkHttp's sha1/ pins are pins OkHttp checks.
                        let n = d.distinct_pins().len() + d.sha1_pins.len();
                        let mut cell = vec![Inline::Text(match lang {
                            Lang::En => format!("{n} pin{}", if n == 1 { "" } else { "s" }),
                            Lang::Ja => format!("ピン {n} 個"),
                        })];
                        cell.push(Inline::Break);
                        cell.push(Inline::Text(if n >= 2 {
                            t(lang, "backup pin: yes", "予備ピン: あり")
                        } else {
                            t(lang, "backup pin: no", "予備ピン: なし")
                        }));
                        cell.push(Inline::Break);
                        cell.push(Inline::Text(match (&d.expiry, lang) {
                            (Some(e), Lang::En) => format!("expires {}", e.text),
                            (Some(e), Lang::Ja) => format!("期限 {}", e.text),
                            (None, _) => t(lang, "no expiry", "期限なし"),
                        }));
                        cell.push(Inline::Break);
                        cell.push(Inline::Text(if d.enforce {
                            t(lang, "enforced", "強制")
                        } else {
                            t(lang, "report-only", "レポートのみ")
                        }));
                        if d.host != *h {
                            cell.push(Inline::Break);
                            cell.push(Inline::Text(t(lang, "via ", "適用: ")));
                            cell.push(Inline::Host(d.host.clone()));
                        }
                        cell
                    }
                });
            }
            row
        })
        .collect();
    let mut head = vec![t(lang, "Host", "ホスト")];
    head.extend(present.iter().map(|p| platform_name(*p).to_owned()));
    const W2: &[u8] = &[50, 50];
    const W3: &[u8] = &[40, 30, 30];
    const W4: &[u8] = &[34, 22, 22, 22];
    Some(Block::Table {
        class: "hosts",
        widths: match present.len() {
            1 => W2,
            2 => W3,
            _ => W4,
        },
        head,
        rows,
    })
}

fn build(r: &ReportInput) -> Vec<Block> {
    let lang = r.lang;
    let mut b = Vec::new();
    b.push(Block::H(1, title(r), None));
    b.push(Block::P(text(match lang {
        Lang::En => format!(
            "Prepared {} by mamori {} from the inputs listed under Provenance. The same inputs and time give the same document.",
            time_line(r.at, lang),
            env!("CARGO_PKG_VERSION")
        ),
        Lang::Ja => format!(
            "{} に mamori {} で、「来歴」に示す入力から作成しました。同じ入力と時刻からは同じ文書が得られます。",
            time_line(r.at, lang),
            env!("CARGO_PKG_VERSION")
        ),
    })));

    let sections: Vec<(GuidelineId, assess::Assessment, Vec<&AuditFinding>)> = ITEMS
        .iter()
        .map(|id| {
            let fs: Vec<&AuditFinding> = r.findings.iter().filter(|f| f.guideline == *id).collect();
            (*id, assess::assess(*id, r, &fs), fs)
        })
        .collect();

    // Summary.
    b.push(Block::H(
        2,
        t(lang, "Summary", "概要"),
        Some("summary".into()),
    ));
    let all: Vec<&AuditFinding> = r.findings.iter().collect();
    b.push(Block::P(text(findings_sentence(
        severity_counts(&all),
        lang,
    ))));
    let mut head = vec![t(lang, "Item", "項目"), t(lang, "Status", "状況")];
    head.extend(Severity::ALL.iter().rev().map(|s| s.label(lang).to_owned()));
    b.push(Block::Table {
        class: "summary",
        widths: &[14, 46, 8, 8, 8, 8, 8],
        head,
        rows: sections
            .iter()
            .map(|(id, a, fs)| {
                let c = severity_counts(fs);
                let mut row = vec![
                    text(id.as_str()),
                    vec![Inline::Status(a.status, a.status.label(lang).to_owned())],
                ];
                row.extend(c.iter().rev().map(|n| text(n.to_string())));
                row
            })
            .collect(),
    });
    b.push(Block::Chart(
        sections
            .iter()
            .map(|(id, _, fs)| (*id, severity_counts(fs)))
            .collect(),
    ));
    b.push(Block::P(text(t(
        lang,
        "Statuses: Met — verified by this tool, no open finding; Met, with open findings — verified, only findings below high (below medium where the item says so); Configured — validated settings that the SDK enforces at run time, not observed on a device; Partly assessed — only part of the item can be checked from the inputs; Not met — a finding or a setting contradicts the item; Not assessed — no input covers the item.",
        "状況の区分: 充足 — 本ツールで確認済みで、未対応の指摘はありません。充足 (指摘あり) — 確認済みで、高未満 (項目により中未満) の指摘だけが残っています。設定済み — SDK が実行時に適用する検証済みの設定があります (端末上では確認していません)。一部のみ評価 — 入力から確認できるのは項目の一部です。未充足 — 指摘または設定が項目に反しています。未評価 — 項目に対応する入力がありません。",
    ))));

    // Hosts.
    if let Some(table) = host_table(r) {
        b.push(Block::H(
            2,
            t(lang, "Pinning per host", "ホスト別のピン留め"),
            Some("hosts".into()),
        ));
        b.push(table);
        b.push(Block::P(text(if r.chains > 0 {
            match lang {
                Lang::En => format!(
                    "Pins were checked against {} certificate chain(s) served or supplied for the pinned hosts.",
                    r.chains
                ),
                Lang::Ja => format!(
                    "ピンは、ピン留めしたホストの証明書チェーン {} 件と照合しました。",
                    r.chains
                ),
            }
        } else {
            t(
                lang,
                "Pins were not checked against server chains (run with --chain or --live).",
                "ピンはサーバーの証明書チェーンと照合していません (--chain または --live を指定すると照合します)。",
            )
        })));
    }

    // One section per item.
    for (id, a, fs) in &sections {
        b.push(Block::H(
            2,
            format!("{id} — {}", short_name(*id, lang)),
            Some(id.as_str().to_lowercase()),
        ));
        b.push(Block::P(vec![
            Inline::Strong(t(lang, "Criterion", "基準")),
            Inline::Text(format!(": {}", criterion(*id, lang))),
        ]));
        if let Some(risk) = risk(*id, lang) {
            b.push(Block::P(vec![
                Inline::Strong(t(lang, "Risk", "リスク")),
                Inline::Text(format!(": {risk}")),
            ]));
        }
        b.push(Block::P(vec![
            Inline::Strong(t(lang, "Status", "状況")),
            Inline::Text(format!(": {}", a.status.label(lang))),
        ]));
        b.push(Block::P(vec![
            Inline::Strong(t(lang, "How the status is decided", "判定の方法")),
            Inline::Text(format!(": {}", assess::rule_text(*id, lang))),
        ]));
        if !a.evidence.is_empty() {
            b.push(Block::P(vec![Inline::Strong(t(lang, "Evidence", "根拠"))]));
            b.push(Block::List(a.evidence.clone()));
        }
        if !fs.is_empty() {
            b.push(Block::P(vec![Inline::Strong(t(
                lang,
                "Open findings",
                "未対応の指摘",
            ))]));
            b.push(Block::Table {
                class: "findings",
                widths: &[8, 19, 17, 28, 28],
                head: vec![
                    t(lang, "Severity", "重大度"),
                    t(lang, "Rule", "ルール"),
                    t(lang, "Location", "場所"),
                    t(lang, "Finding", "内容"),
                    t(lang, "Remediation", "対処"),
                ],
                rows: fs
                    .iter()
                    .map(|f| {
                        vec![
                            text(f.severity.label(lang)),
                            vec![Inline::Code(f.rule.clone())],
                            vec![Inline::Code(f.location.to_string())],
                            message_line(f, lang),
                            text(f.rule().text(lang).remediation.clone()),
                        ]
                    })
                    .collect(),
            });
        }
        b.push(Block::P(vec![
            Inline::Strong(t(lang, "References", "参照")),
            Inline::Text(format!(": {}", references(*id, fs, lang))),
        ]));
    }

    // Settings through their schema.
    if let Some(p) = r.device {
        b.push(Block::H(
            2,
            t(lang, "Device policy", "端末ポリシー"),
            Some("device-policy".into()),
        ));
        b.push(Block::P(vec![
            Inline::Text(t(lang, "Policy ", "ポリシー ")),
            Inline::Code(p.name.clone()),
            Inline::Text(t(
                lang,
                ", validated by the SDK's device-policy loader (as mamori device check does) and evaluated on the device at run time:",
                " は、SDK の端末ポリシー読み込み処理 (mamori device check と同じ処理) で検証済みで、実行時に端末上で評価されます。",
            )),
        ]));
        b.push(statements::table(&statements::device(p, lang), lang));
    }
    if let Some(s) = r.storage {
        b.push(Block::H(
            2,
            t(lang, "Storage settings", "ストレージ設定"),
            Some("storage-settings".into()),
        ));
        b.push(Block::P(text(t(
            lang,
            "Validated by the SDK's storage-settings schema (unknown keys are refused; the passcode floors are the SDK's own):",
            "SDK のストレージ設定スキーマで検証済みです (未知のキーは拒否し、パスコードの下限は SDK 自身の基準で確認しています)。",
        ))));
        b.push(statements::table(&statements::storage(s, lang), lang));
    }

    // Provenance.
    b.push(Block::H(
        2,
        t(lang, "Provenance", "来歴"),
        Some("provenance".into()),
    ));
    let mut prov: Vec<Line> = vec![
        vec![
            Inline::Text(t(lang, "Tool: ", "ツール: ")),
            Inline::Code(format!("mamori {}", env!("CARGO_PKG_VERSION"))),
        ],
        vec![
            Inline::Text(t(
                lang,
                "Rule table (rules.toml) SHA-256: ",
                "ルール表 (rules.toml) の SHA-256: ",
            )),
            Inline::Code(super::rules::rules_sha256()),
        ],
        vec![
            Inline::Text(t(lang, "Time: ", "時刻: ")),
            Inline::Text(time_line(r.at, lang)),
        ],
        vec![
            Inline::Text(t(lang, "Command line: ", "コマンドライン: ")),
            Inline::Code(r.command_line.clone()),
        ],
    ];
    if r.apps.is_empty() {
        prov.push(text(t(
            lang,
            "App: no configuration states an app identifier (an Info.plist's CFBundleIdentifier, or a package's manifest, is read when given).",
            "アプリ: 識別子を記載した設定はありません (Info.plist を入力すると CFBundleIdentifier を、パッケージを入力するとマニフェストを読み取ります)。",
        )));
    }
    for a in &r.apps {
        let mut l = vec![
            Inline::Text(format!("{}: ", t(lang, "App", "アプリ"))),
            Inline::Code(a.id.clone()),
            Inline::Text(format!(" ({}", platform_name(a.platform))),
        ];
        if let Some(v) = &a.version {
            l.push(Inline::Text(format!(
                ", {} ",
                t(lang, "version", "バージョン")
            )));
            l.push(Inline::Code(v.clone()));
        }
        if let Some(v) = &a.build {
            l.push(Inline::Text(format!(", {} ", t(lang, "build", "ビルド"))));
            l.push(Inline::Code(v.clone()));
        }
        l.push(Inline::Text(t(lang, ", from ", "、出典 ")));
        l.push(Inline::Code(a.file.clone()));
        l.push(Inline::Text(")".into()));
        prov.push(l);
    }
    if let Some(p) = r.device {
        prov.push(vec![
            Inline::Text(t(
                lang,
                "Device policy, canonical SHA-256 (the policy_sha256 of mamori device check): ",
                "端末ポリシーの正規形 SHA-256 (mamori device check の policy_sha256 と同じ値): ",
            )),
            Inline::Code(p.sha256()),
        ]);
    }
    if let Some(s) = r.storage {
        prov.push(vec![
            Inline::Text(t(
                lang,
                "Storage settings, canonical SHA-256: ",
                "ストレージ設定の正規形 SHA-256: ",
            )),
            Inline::Code(s.sha256()),
        ]);
    }
    b.push(Block::List(prov));
    b.push(Block::Table {
        class: "inputs",
        widths: &[36, 18, 46],
        head: vec![
            t(lang, "File", "ファイル"),
            t(lang, "Role", "種類"),
            t(lang, "SHA-256 of the bytes", "内容の SHA-256"),
        ],
        rows: r
            .files
            .iter()
            .map(|f| {
                vec![
                    vec![Inline::Code(f.path.clone())],
                    role_line(&f.role, lang),
                    vec![Inline::Code(f.sha256.clone())],
                ]
            })
            .collect(),
    });
    b
}

fn short_name(id: GuidelineId, lang: Lang) -> &'static str {
    match (id, lang) {
        (GuidelineId::Dev1, Lang::En) => "Hardware-backed encryption on the device",
        (GuidelineId::Dev1, Lang::Ja) => "端末内データのハードウェア鍵による暗号化",
        (GuidelineId::Dev2, Lang::En) => "OS security level",
        (GuidelineId::Dev2, Lang::Ja) => "OS のセキュリティ水準",
        (GuidelineId::Dev3, Lang::En) => "App-level authentication",
        (GuidelineId::Dev3, Lang::Ja) => "アプリ独自の認証",
        (GuidelineId::Dev4, Lang::En) => "Certificate pinning",
        (GuidelineId::Dev4, Lang::Ja) => "証明書ピンニング",
        (GuidelineId::Data1, Lang::En) => "Encryption in transit and at rest",
        (GuidelineId::Data1, Lang::Ja) => "通信時と保存時の暗号化",
        (GuidelineId::New1, Lang::En) => "Envelope encryption",
        (GuidelineId::New1, Lang::Ja) => "エンベロープ暗号化",
        (GuidelineId::Bp5, Lang::En) => "No single point of failure",
        (GuidelineId::Bp5, Lang::Ja) => "単一障害点の排除",
        (GuidelineId::Log2, Lang::En) => "No sensitive data in logs",
        (GuidelineId::Log2, Lang::Ja) => "ログへの機微データの不記録",
        (_, _) => "",
    }
}

fn criterion(id: GuidelineId, lang: Lang) -> String {
    if lang == Lang::En {
        return id.criterion().to_owned();
    }
    match id {
        GuidelineId::Dev1 => "端末内に機微なデータを置く場合は、ハードウェアキーストアに保持した鍵で暗号化します。",
        GuidelineId::Dev2 => "最新のセキュリティ強化に対応した OS バージョンでのみアプリを動作させます。",
        GuidelineId::Dev3 => "端末内に機微なデータを置く場合は、アプリ独自の認証 (生体認証、パスコード、別経路での確認) を求めます。",
        GuidelineId::Dev4 => "スマートフォンとサーバー間の通信では、TLS に加えて証明書ピンニングを用います。",
        GuidelineId::Data1 => "データは通信時と保存時の両方で暗号化します。",
        GuidelineId::New1 => "エンベロープ暗号化: データ鍵は暗号化した形でのみ保存し、平文のデータ鍵は意図した受け手にだけ渡して速やかに消去します。",
        GuidelineId::Bp5 => "セキュリティ上の単一障害点を作りません。",
        GuidelineId::Log2 => "機微なデータをログに残しません。",
        other => other.criterion(),
    }
    .to_owned()
}

fn risk(id: GuidelineId, lang: Lang) -> Option<&'static str> {
    match (id, lang) {
        (_, Lang::En) => match id {
            GuidelineId::Data1 => Some(
                "Data read in transit by an attacker on the network, or off the device's storage.",
            ),
            GuidelineId::New1 => Some(
                "A data key exposed in storage or lingering in memory decrypts everything it protects.",
            ),
            GuidelineId::Bp5 => Some(
                "One lost or rotated key, or one failed component, breaks the app or its protection.",
            ),
            GuidelineId::Log2 => Some(
                "Logs and reports copied to places with weaker protection disclose what they contain.",
            ),
            other => other.risk(),
        },
        (GuidelineId::Dev1, Lang::Ja) => {
            Some("紛失・盗難・侵害された端末からデータを読み取られます。")
        }
        (GuidelineId::Dev2, Lang::Ja) => Some(
            "既知の OS 脆弱性を突かれたり、root 化・脱獄された端末や古い端末で保護を回避されたりします。",
        ),
        (GuidelineId::Dev3, Lang::Ja) => {
            Some("ロック解除された端末を手にした第三者にアプリを使われます。")
        }
        (GuidelineId::Dev4, Lang::Ja) => Some(
            "不正な証明書や誤発行された証明書、利用者がだまされて追加した CA によって通信を傍受されます。",
        ),
        (GuidelineId::Data1, Lang::Ja) => Some(
            "ネットワーク上の攻撃者に通信中のデータを読まれたり、端末の保存領域から読み取られたりします。",
        ),
        (GuidelineId::New1, Lang::Ja) => Some(
            "保存領域に露出したデータ鍵やメモリに残ったデータ鍵から、それが守るデータがすべて復号されます。",
        ),
        (GuidelineId::Bp5, Lang::Ja) => {
            Some("鍵の紛失や更新、部品一つの故障で、アプリまたはその保護が機能しなくなります。")
        }
        (GuidelineId::Log2, Lang::Ja) => {
            Some("保護の弱い場所へ複製されたログやレポートから、その内容が漏えいします。")
        }
        _ => None,
    }
}

/// The guideline item, the OWASP MASVS controls it corresponds to, and the
/// MASTG tests / MASWE weaknesses of the open findings.
fn references(id: GuidelineId, fs: &[&AuditFinding], lang: Lang) -> String {
    let masvs: &[&str] = match id {
        GuidelineId::Dev1 => &["MASVS-STORAGE-1", "MASVS-CRYPTO-2"],
        GuidelineId::Dev2 => &["MASVS-RESILIENCE-1", "MASVS-RESILIENCE-4"],
        GuidelineId::Dev3 => &["MASVS-AUTH-2", "MASVS-AUTH-3"],
        GuidelineId::Dev4 => &["MASVS-NETWORK-2"],
        GuidelineId::Data1 => &["MASVS-NETWORK-1", "MASVS-STORAGE-1"],
        GuidelineId::New1 => &["MASVS-CRYPTO-2"],
        GuidelineId::Bp5 => &["MASVS-NETWORK-2"],
        GuidelineId::Log2 => &["MASVS-STORAGE-2"],
        _ => &[],
    };
    let mut tests: Vec<String> = Vec::new();
    for f in fs {
        let rule = f.rule();
        for r in rule.mastg.iter().chain(rule.maswe.iter()) {
            if !tests.contains(r) {
                tests.push(r.clone());
            }
        }
    }
    tests.sort();
    let mut parts = vec![match lang {
        Lang::En => format!("FinTech security guideline, item {id}"),
        Lang::Ja => format!("FinTech セキュリティガイドライン {id} 項"),
    }];
    parts.push(match lang {
        Lang::En => format!("OWASP MASVS {}", masvs.join(", ")),
        Lang::Ja => format!(
            "OWASP MASVS (モバイルアプリのセキュリティ検証標準) {}",
            masvs.join("、")
        ),
    });
    if !tests.is_empty() {
        parts.push(match lang {
            Lang::En => format!("OWASP MASTG / MASWE {}", tests.join(", ")),
            Lang::Ja => format!(
                "OWASP MASTG (テストガイド) / MASWE (弱点一覧) {}",
                tests.join("、")
            ),
        });
    }
    parts.join(if lang == Lang::Ja { " / " } else { "; " })
}
