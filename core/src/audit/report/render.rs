//! The two renderings of the report's blocks: CommonMark with GFM tables,
//! and a self-contained, printable HTML page (well-formed XHTML syntax, an
//! A4 print stylesheet with running header, footer and page numbers, an
//! inline SVG chart; no script, no network).
//!
//! Every inline piece is escaped for its format here and only here: input
//! text can never become markup in either document.

use super::{Block, Inline, ReportInput, Status, build, time_line, title};
use crate::audit::rules::{Lang, Severity};

/// Renders the report as Markdown.
pub fn markdown(r: &ReportInput) -> String {
    let mut out = String::new();
    for b in build(r) {
        match b {
            Block::H(l, s, _) => {
                out.push_str(&format!("{} {}\n\n", "#".repeat(l as usize), md_text(&s)))
            }
            Block::P(line) => out.push_str(&format!("{}\n\n", md_line(&line))),
            Block::List(items) => {
                for i in items {
                    out.push_str(&format!("- {}\n", md_line(&i)));
                }
                out.push('\n');
            }
            Block::Table { head, rows, .. } => {
                let cell = |s: String| s.replace('|', "\\|");
                let head: Vec<String> = head.iter().map(|h| cell(md_text(h))).collect();
                out.push_str(&format!("| {} |\n", head.join(" | ")));
                out.push_str(&format!("|{}\n", "---|".repeat(head.len())));
                for row in rows {
                    let cells: Vec<String> = row.iter().map(|c| cell(md_line(c))).collect();
                    out.push_str(&format!("| {} |\n", cells.join(" | ")));
                }
                out.push('\n');
            }
            Block::Chart(_) => {}
        }
    }
    out
}

fn md_line(line: &[Inline]) -> String {
    let mut out = String::new();
    for i in line {
        match i {
            Inline::Text(s) => out.push_str(&md_text(s)),
            Inline::Strong(s) => out.push_str(&format!("**{}**", md_text(s))),
            Inline::Code(s) | Inline::Host(s) => out.push_str(&md_code(s)),
            Inline::Status(_, s) => out.push_str(&md_text(s)),
            Inline::Break => out.push_str(" / "),
        }
    }
    out
}

/// Plain text as Markdown: the characters that CommonMark could read as
/// emphasis, code, links, HTML, entities or headings are backslash-escaped,
/// and line breaks become spaces (a cell or list item is one line). `|` is
/// left to the table writer, which escapes it in cells.
pub(super) fn md_text(s: &str) -> String {
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
pub(super) fn md_code(s: &str) -> String {
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

/// Text as HTML character data or attribute value.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Characters XML 1.0 does not allow are dropped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// Text as a CSS string literal: everything but letters, digits and spaces
/// as a hex escape, so no input can close the string or the `<style>`
/// element.
fn css_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        if c.is_alphanumeric() && (c as u32) > 0x7f || c.is_ascii_alphanumeric() || c == ' ' {
            out.push(c);
        } else {
            // The space ends the escape (and is consumed with it), so a
            // real space after it survives.
            out.push_str(&format!("\\{:06x} ", c as u32));
        }
    }
    out.push('"');
    out
}

fn html_line(line: &[Inline]) -> String {
    let mut out = String::new();
    for i in line {
        match i {
            Inline::Text(s) => out.push_str(&esc(s)),
            Inline::Strong(s) => out.push_str(&format!("<strong>{}</strong>", esc(s))),
            Inline::Code(s) => out.push_str(&format!("<code>{}</code>", esc(s))),
            Inline::Host(s) => out.push_str(&format!("<span class=\"host\">{}</span>", esc(s))),
            Inline::Status(st, s) => out.push_str(&format!(
                "<span class=\"status {}\">{}</span>",
                match st {
                    Status::Met | Status::MetWithFindings => "met",
                    Status::Configured => "configured",
                    Status::Partial => "partial",
                    Status::NotMet => "not-met",
                    Status::NotAssessed => "not-assessed",
                },
                esc(s)
            )),
            Inline::Break => out.push_str("<br/>"),
        }
    }
    out
}

const COLOURS: [&str; 5] = ["#8d8d8d", "#2f7fb5", "#e08a00", "#c62828", "#6a1b9a"];

/// The severity counts per item as stacked horizontal bars.
fn chart(rows: &[(crate::guideline::GuidelineId, [usize; 5])], lang: Lang) -> String {
    let max = rows
        .iter()
        .map(|(_, c)| c.iter().sum::<usize>())
        .max()
        .unwrap_or(0)
        .max(1);
    let (left, width, row_h) = (70.0, 470.0, 20.0);
    let height = row_h * rows.len() as f64 + 34.0;
    let label = match lang {
        Lang::En => "Open findings per guideline item, by severity",
        Lang::Ja => "項目別・重大度別の未対応の指摘数",
    };
    let mut s = format!(
        "<figure class=\"chart\"><svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"{}\" viewBox=\"0 0 600 {height}\" width=\"100%\"><title>{}</title>",
        esc(label),
        esc(label)
    );
    for (i, (id, counts)) in rows.iter().enumerate() {
        let y = row_h * i as f64 + 4.0;
        s.push_str(&format!(
            "<text x=\"0\" y=\"{}\" font-size=\"11\">{}</text>",
            y + 11.0,
            esc(id.as_str())
        ));
        let mut x = left;
        for (sev, n) in counts.iter().enumerate().rev() {
            if *n == 0 {
                continue;
            }
            let w = width * *n as f64 / max as f64;
            s.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"{y}\" width=\"{w:.1}\" height=\"14\" fill=\"{}\"/>",
                COLOURS[sev]
            ));
            x += w;
        }
        let total: usize = counts.iter().sum();
        s.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{}\" font-size=\"11\">{total}</text>",
            x + 4.0,
            y + 11.0
        ));
    }
    let mut x = left;
    let y = row_h * rows.len() as f64 + 14.0;
    for (sev, c) in Severity::ALL.iter().zip(COLOURS).rev() {
        s.push_str(&format!(
            "<rect x=\"{x:.1}\" y=\"{y}\" width=\"10\" height=\"10\" fill=\"{c}\"/><text x=\"{:.1}\" y=\"{}\" font-size=\"10\">{}</text>",
            x + 14.0,
            y + 9.0,
            esc(sev.label(lang))
        ));
        x += 80.0;
    }
    s.push_str("</svg></figure>\n");
    s
}

const STYLE: &str = r#"
:root { color-scheme: light; }
html { font-family: "Noto Sans CJK JP", "Noto Sans JP", "IPAexGothic", "DejaVu Sans", sans-serif; font-size: 9.5pt; line-height: 1.45; color: #111; }
body { margin: 0; }
@media screen { body { max-width: 180mm; margin: 1.5em auto; padding: 0 1em; } }
h1 { font-size: 17pt; margin: 0 0 .4em; line-height: 1.25; }
h2 { font-size: 12.5pt; margin: 1.4em 0 .4em; padding-bottom: .15em; border-bottom: .6pt solid #777; break-after: avoid; page-break-after: avoid; }
h1, h2 { overflow-wrap: anywhere; }
p { margin: .35em 0; }
ul { margin: .3em 0 .6em; padding-left: 1.4em; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; margin: .4em 0 .9em; font-size: 8pt; line-height: 1.35; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
th, td { border: .5pt solid #9a9a9a; padding: 2pt 4pt; text-align: left; vertical-align: top; overflow-wrap: break-word; }
th { background: #eceff4; font-weight: bold; white-space: nowrap; overflow: hidden; }
td { hyphens: manual; }
code { font-family: "DejaVu Sans Mono", "Noto Sans Mono CJK JP", monospace; font-size: 92%; overflow-wrap: anywhere; }
.host { white-space: nowrap; font-weight: 600; }
table.summary td:nth-child(n+3), table.summary th:nth-child(n+3) { text-align: right; }
table.inputs code { font-size: 7pt; }
.status { font-weight: 600; }
.status.met { color: #1b5e20; }
.status.configured { color: #0d47a1; }
.status.partial, .status.not-assessed { color: #6d4c00; }
.status.not-met { color: #b71c1c; }
figure.chart { margin: .2em 0 .8em; break-inside: avoid; }
figure.chart svg { max-width: 150mm; font-family: inherit; }
"#;

/// Renders the report as a self-contained HTML page.
pub fn html(r: &ReportInput) -> String {
    let lang = r.lang;
    let mut body = String::new();
    for b in build(r) {
        match b {
            Block::H(l, s, id) => {
                let id = id
                    .map(|i| format!(" id=\"{}\"", esc(&i)))
                    .unwrap_or_default();
                body.push_str(&format!("<h{l}{id}>{}</h{l}>\n", esc(&s)));
            }
            Block::P(line) => body.push_str(&format!("<p>{}</p>\n", html_line(&line))),
            Block::List(items) => {
                body.push_str("<ul>\n");
                for i in items {
                    body.push_str(&format!("<li>{}</li>\n", html_line(&i)));
                }
                body.push_str("</ul>\n");
            }
            Block::Table {
                class,
                widths,
                head,
                rows,
            } => {
                body.push_str(&format!("<table class=\"{class}\">\n<colgroup>"));
                for w in widths {
                    body.push_str(&format!("<col style=\"width:{w}%\"/>"));
                }
                body.push_str("</colgroup>\n<thead><tr>");
                for h in head {
                    body.push_str(&format!("<th>{}</th>", esc(&h)));
                }
                body.push_str("</tr></thead>\n<tbody>\n");
                for row in rows {
                    body.push_str("<tr>");
                    for c in row {
                        body.push_str(&format!("<td>{}</td>", html_line(&c)));
                    }
                    body.push_str("</tr>\n");
                }
                body.push_str("</tbody>\n</table>\n");
            }
            Block::Chart(rows) => body.push_str(&chart(&rows, lang)),
        }
    }
    let doc_title = title(r);
    let stamp = time_line(r.at, lang);
    let footer_left = format!(
        "mamori {} \u{b7} rules {}",
        env!("CARGO_PKG_VERSION"),
        &crate::audit::rules::rules_sha256()[..12]
    );
    let page = match lang {
        Lang::En => r#""Page " counter(page) " of " counter(pages)"#.to_owned(),
        Lang::Ja => r#"counter(page) " / " counter(pages) " ページ""#.to_owned(),
    };
    let page_css = format!(
        "@page {{ size: A4; margin: 20mm 15mm 18mm 15mm;\n  @top-left {{ content: {}; font-size: 7.5pt; color: #555; vertical-align: bottom; padding-bottom: 3mm; }}\n  @top-right {{ content: {}; font-size: 7.5pt; color: #555; vertical-align: bottom; padding-bottom: 3mm; }}\n  @bottom-left {{ content: {}; font-size: 7.5pt; color: #555; vertical-align: top; padding-top: 3mm; }}\n  @bottom-right {{ content: {page}; font-size: 7.5pt; color: #555; vertical-align: top; padding-top: 3mm; }}\n}}",
        css_string(&doc_title),
        css_string(&stamp),
        css_string(&footer_left),
    );
    let html_lang = if lang == Lang::Ja { "ja" } else { "en" };
    format!(
        "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"{html_lang}\" xml:lang=\"{html_lang}\">\n<head>\n<meta charset=\"utf-8\"/>\n<meta name=\"generator\" content=\"mamori {}\"/>\n<title>{}</title>\n<style>{STYLE}{page_css}\n</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        esc(&doc_title),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn css_strings_cannot_close_the_string_or_the_style_element() {
        let s = css_string("a\"b</style><img>\\ 端末");
        assert_eq!(
            s,
            "\"a\\000022 b\\00003c \\00002f style\\00003e \\00003c img\\00003e \\00005c  端末\""
        );
    }

    #[test]
    fn html_escaping_covers_markup_and_control_characters() {
        assert_eq!(
            esc("<a href='x'>&\"\u{1}"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;"
        );
    }
}
