//! The evidence report in a real browser: the English and Japanese reports
//! of the bundled examples (`examples/`) are printed to PDF by Chromium
//! (headless, offline), and the layout is checked with poppler's
//! `pdftotext -bbox-layout`: no text outside the printable width of the A4
//! page, every host unbroken, every guideline item of the summary on the
//! first page, the running footer with page numbers. A PNG of each first
//! page is left in `target/report-print/` for people to look at.
//!
//! Needs `chromium`, `poppler-utils` and a Japanese font
//! (`scripts/deps/report-print.apt`); without them the test fails, naming
//! `scripts/install-deps.sh`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A4 in PDF points, and the stylesheet's left/right margin (15 mm).
const A4: (f64, f64) = (595.0, 842.0);
const SIDE_MARGIN: f64 = 15.0 / 25.4 * 72.0;
/// pdftotext's word boxes are glyph boxes: a glyph may overhang its advance
/// by a fraction of a point (0.7 mm is far less than any overflowing cell).
const TOLERANCE: f64 = 2.0;

const ITEMS: [&str; 8] = [
    "DEV-1", "DEV-2", "DEV-3", "DEV-4", "DATA-1", "NEW-1", "BP-5", "LOG-2",
];

/// Every host the example configurations name.
const HOSTS: [&str; 6] = [
    "api.example-bank.co.jp",
    "pay.example-bank.co.jp",
    "campaign.example-bank.co.jp",
    "legacy-status.example-bank.co.jp",
    "api.example.com",
    "**.cdn.example.com",
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn out_dir() -> PathBuf {
    // CARGO_TARGET_TMPDIR is <target>/tmp.
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .join("report-print");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn require(tool: &str, arg: &str) {
    let ok = Command::new(tool)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "`{tool}` is missing: run ./scripts/install-deps.sh (scripts/deps/report-print.apt)"
    );
}

fn require_japanese_font() {
    let o = Command::new("fc-list")
        .args([":lang=ja", "family"])
        .output()
        .expect("fc-list (fontconfig) runs: run ./scripts/install-deps.sh");
    assert!(
        !String::from_utf8_lossy(&o.stdout).trim().is_empty(),
        "no Japanese font: run ./scripts/install-deps.sh (fonts-noto-cjk in scripts/deps/report-print.apt)"
    );
}

/// Runs a command to completion within `limit`, killing it after.
fn run(cmd: &mut Command, limit: Duration) {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            use std::io::Read as _;
            child.stderr.take().unwrap().read_to_string(&mut err).ok();
            assert!(status.success(), "{cmd:?} failed: {err}");
            return;
        }
        if start.elapsed() > limit {
            child.kill().ok();
            child.wait().ok();
            panic!("{cmd:?} took longer than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The report of the bundled examples, as HTML.
fn report_html(lang: &str) -> String {
    let repo = repo();
    let args = [
        "report",
        "--format",
        "html",
        "--lang",
        lang,
        "--at",
        "2026-12-01",
        "--app",
        "Example Bank",
        "--device",
        "examples/device/bank-policy.toml",
        "--storage",
        "examples/storage/storage-settings.toml",
        "--chain",
        "api.example.com=examples/pinning/chain.pem",
        "examples/audit/network_security_config.xml",
        "examples/audit/Info.plist",
        "examples/pinning/policy.toml",
    ];
    let o = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .current_dir(&repo)
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// Well-formed (XHTML syntax), the document's own structure, no active
/// content.
fn check_html(html: &str, lang: &str) {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    let doc = roxmltree::Document::parse_with_options(html, opts)
        .unwrap_or_else(|e| panic!("{lang}: the HTML is not well-formed: {e}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "html");
    assert_eq!(root.attribute("lang"), Some(lang));
    for n in doc.descendants().filter(|n| n.is_element()) {
        let name = n.tag_name().name();
        assert!(
            !matches!(
                name,
                "script" | "img" | "iframe" | "link" | "object" | "embed"
            ),
            "{lang}: <{name}> in the report"
        );
        assert!(
            n.attributes().all(|a| !a.name().starts_with("on")),
            "{lang}: event handler on <{name}>"
        );
    }
    assert!(
        doc.descendants().any(|n| n.tag_name().name() == "svg"),
        "{lang}: the severity chart is inline SVG"
    );
}

struct Word {
    text: String,
    x_min: f64,
    x_max: f64,
    y_min: f64,
    y_max: f64,
}

struct Page {
    width: f64,
    height: f64,
    /// Lines of words, in reading order.
    lines: Vec<Vec<Word>>,
}

fn pages(bbox_xhtml: &str) -> Vec<Page> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    let doc = roxmltree::Document::parse_with_options(bbox_xhtml, opts)
        .expect("pdftotext -bbox-layout writes XHTML");
    let f = |n: &roxmltree::Node, a: &str| -> f64 { n.attribute(a).unwrap().parse().unwrap() };
    doc.descendants()
        .filter(|n| n.tag_name().name() == "page")
        .map(|p| Page {
            width: f(&p, "width"),
            height: f(&p, "height"),
            lines: p
                .descendants()
                .filter(|n| n.tag_name().name() == "line")
                .map(|l| {
                    l.children()
                        .filter(|w| w.tag_name().name() == "word")
                        .map(|w| Word {
                            text: w.text().unwrap_or("").to_owned(),
                            x_min: f(&w, "xMin"),
                            x_max: f(&w, "xMax"),
                            y_min: f(&w, "yMin"),
                            y_max: f(&w, "yMax"),
                        })
                        .collect()
                })
                .collect(),
        })
        .collect()
}

fn print_and_check(lang: &str) {
    let dir = out_dir();
    let html = report_html(lang);
    check_html(&html, lang);
    let html_path = dir.join(format!("report-{lang}.html"));
    let pdf_path = dir.join(format!("report-{lang}.pdf"));
    std::fs::write(&html_path, &html).unwrap();
    let _ = std::fs::remove_file(&pdf_path);
    let profile = tempfile::tempdir().unwrap();
    run(
        Command::new("chromium")
            .env("TZ", "UTC")
            .env("LANG", "C.UTF-8")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-sync",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-default-apps",
                "--font-render-hinting=none",
                "--no-pdf-header-footer",
                "--run-all-compositor-stages-before-draw",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(format!("--print-to-pdf={}", pdf_path.display()))
            .arg(format!("file://{}", html_path.display())),
        Duration::from_secs(180),
    );
    let bbox_path = dir.join(format!("report-{lang}.bbox.html"));
    run(
        Command::new("pdftotext")
            .arg("-bbox-layout")
            .arg(&pdf_path)
            .arg(&bbox_path),
        Duration::from_secs(60),
    );
    let png_root = dir.join(format!("report-{lang}-page1"));
    run(
        Command::new("pdftoppm")
            .args(["-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile"])
            .arg(&pdf_path)
            .arg(&png_root),
        Duration::from_secs(60),
    );
    let png = std::fs::read(png_root.with_extension("png")).unwrap();
    assert!(png.starts_with(b"\x89PNG"), "{lang}: first page as PNG");

    let pages = pages(&std::fs::read_to_string(&bbox_path).unwrap());
    assert!(pages.len() >= 2, "{lang}: {} page(s)", pages.len());
    let n = pages.len();
    for (i, p) in pages.iter().enumerate() {
        assert!(
            (p.width - A4.0).abs() < 2.0 && (p.height - A4.1).abs() < 2.0,
            "{lang}: page {} is {}x{} pt, not A4",
            i + 1,
            p.width,
            p.height
        );
        // No text outside the printable width, none off the page.
        for w in p.lines.iter().flatten() {
            assert!(
                w.x_min >= SIDE_MARGIN - TOLERANCE && w.x_max <= p.width - SIDE_MARGIN + TOLERANCE,
                "{lang}: page {}: {:?} at x {:.1}..{:.1} is outside the printable area {:.1}..{:.1}",
                i + 1,
                w.text,
                w.x_min,
                w.x_max,
                SIDE_MARGIN,
                p.width - SIDE_MARGIN
            );
            assert!(
                w.y_min >= 0.0 && w.y_max <= p.height,
                "{lang}: page {}: {:?} is off the page",
                i + 1,
                w.text
            );
        }
        // The running footer numbers the pages.
        let line_texts: Vec<String> = p
            .lines
            .iter()
            .map(|l| {
                l.iter()
                    .map(|w| w.text.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        let footer = match lang {
            "ja" => format!("{} / {n} ページ", i + 1),
            _ => format!("Page {} of {n}", i + 1),
        };
        // The running header carries the title, in the top margin (20 mm).
        let header: Vec<String> = p
            .lines
            .iter()
            .filter(|l| l.iter().all(|w| w.y_max < 20.0 / 25.4 * 72.0))
            .map(|l| {
                l.iter()
                    .map(|w| w.text.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        let title = match lang {
            "ja" => "端末層セキュリティ対応状況報告書: Example Bank",
            _ => "Device-layer security evidence: Example Bank",
        };
        assert!(
            header.iter().any(|l| l == title),
            "{lang}: page {} has no {title:?} header: {header:?}",
            i + 1
        );
        assert!(
            line_texts.iter().any(|l| l.contains(&footer)),
            "{lang}: page {} has no {footer:?} footer: {line_texts:?}",
            i + 1
        );
    }
    // Every guideline item of the summary is on the first page.
    let first: Vec<&str> = pages[0]
        .lines
        .iter()
        .flatten()
        .map(|w| w.text.as_str())
        .collect();
    for item in ITEMS {
        assert!(
            first.contains(&item),
            "{lang}: {item} is not on page 1: {first:?}"
        );
    }
    // Every host appears in one piece, and no line break splits one.
    let words: Vec<&Word> = pages
        .iter()
        .flat_map(|p| p.lines.iter().flatten())
        .collect();
    for host in HOSTS {
        assert!(
            words.iter().any(|w| w.text.contains(host)),
            "{lang}: {host} never appears unbroken"
        );
        // A piece of a host as a word of its own is a host broken across
        // lines (pdftotext orders table cells by row, so the other piece is
        // not necessarily on the next line).
        for w in &words {
            let t = w
                .text
                .trim_matches(|c: char| ":,;()「」、。".contains(c) || c == '.');
            let fragment = t.len() >= 4
                && t.len() < host.len()
                && (host.starts_with(t) || host.ends_with(t))
                && !HOSTS.contains(&t);
            assert!(
                !fragment,
                "{lang}: {host} is broken across lines: {:?}",
                w.text
            );
        }
    }
    if lang == "ja" {
        // Real glyphs with a Unicode mapping: the Japanese text reads back.
        let all: String = words.iter().map(|w| w.text.as_str()).collect();
        for s in [
            "端末層セキュリティ対応状況報告書",
            "概要",
            "来歴",
            "未対応の指摘",
        ] {
            assert!(
                all.contains(s),
                "{lang}: {s} does not read back from the PDF"
            );
        }
    }
}

#[test]
fn english_and_japanese_reports_print_on_a4_with_every_host_and_item() {
    require("chromium", "--version");
    require("pdftotext", "-v");
    require("pdftoppm", "-v");
    require_japanese_font();
    print_and_check("en");
    print_and_check("ja");
}
