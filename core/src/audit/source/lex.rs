//! The lexical pre-pass: which files of a group can matter (issue 12,
//! performance).
//!
//! Parsing is most of the time of reading a source tree, and in a real tree
//! most files neither build a pinner nor define a value one uses. Before any
//! file is parsed, each is tokenized (comments skipped, strings and their
//! templates read as the language reads them), and only these files are
//! parsed:
//!
//! - **seeds**, the files that can hold a call the evaluator reads: TrustKit
//!   initialisation (Swift, Objective-C: the name `TrustKit`), and for Kotlin
//!   and Java any file mentioning `CertificatePinner` or `Builder`, any
//!   `add(...)` with two or more arguments or a spread (OkHttp's shape), and
//!   any `add(...)` whose receiver chain starts with a name declared in a
//!   file that mentions `CertificatePinner` (a builder variable or
//!   parameter);
//! - the files that **declare a name that a parsed file's value can reach**:
//!   every name used in a seed, then, transitively, every name used in the
//!   declaration of a name reached.
//!
//! The tests are over-approximations of what the evaluator records (a
//! declared name is any name in a declaration position; a declaration's
//! text runs to the next declaration at its depth), so a file skipped here
//! has no call site and no binding the evaluation can look up: the findings
//! are those of parsing every file. The argument assumes files that the
//! grammar reads without syntax errors; tree-sitter's error recovery may
//! read a broken file differently from any tokenizer.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use super::eval::Lang;

/// A token: a name, a punctuation byte, a line break or a string literal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok {
    Ident,
    Punct(u8),
    Newline,
    Str,
}

/// The tokens of one file: kind and byte range.
pub(crate) struct Lexed<'t> {
    text: &'t str,
    toks: Vec<(Tok, Range<usize>)>,
    /// For each opener (`(`, `[`, `{`), the closer that ends its group (any
    /// closer: the depth counting of the scans below); `NONE` when the group
    /// never closes. For each closer, its opener, or `NONE`.
    mate: Vec<u32>,
    /// For each opener, whether a `,` or `*` stands directly inside its group.
    wide: Vec<bool>,
}

/// No matching bracket.
const NONE: u32 = u32::MAX;

/// The bracket tables of [`Lexed`], from one pass with a stack: every scan
/// that would count depth jumps over a group instead, so each is linear in
/// the tokens at its own depth (issue 9: the scans used to walk to the end of
/// the file once per declaration, quadratic on unclosed brackets).
fn brackets(toks: &[(Tok, Range<usize>)]) -> (Vec<u32>, Vec<bool>) {
    let mut mate = vec![NONE; toks.len()];
    let mut wide = vec![false; toks.len()];
    let mut stack: Vec<usize> = Vec::new();
    for (j, (k, _)) in toks.iter().enumerate() {
        match k {
            Tok::Punct(b'(' | b'[' | b'{') => stack.push(j),
            Tok::Punct(b')' | b']' | b'}') => {
                if let Some(o) = stack.pop() {
                    mate[o] = j as u32;
                    mate[j] = o as u32;
                }
            }
            Tok::Punct(b',' | b'*') => {
                if let Some(&o) = stack.last() {
                    wide[o] = true;
                }
            }
            _ => {}
        }
    }
    (mate, wide)
}

/// Where the tokenizer is: code (with the brace or parenthesis depth at
/// which an enclosing template began) or inside a string.
#[derive(Clone, Copy)]
enum Mode {
    /// Code inside a template: ends at the closer at depth 0.
    Template { depth: usize },
    /// A string: raw (no escapes), multi-line, the number of `#` of a Swift
    /// raw string.
    Str {
        raw: bool,
        multi: bool,
        hashes: usize,
    },
}

fn ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b'$' || b >= 0x80
}

fn ident_cont(b: u8) -> bool {
    ident_start(b) || b.is_ascii_digit()
}

/// Tokenizes `text` as `lang` (iteratively: templates in strings in
/// templates cost heap, not stack).
pub(crate) fn lex(text: &str, lang: Lang) -> Lexed<'_> {
    let b = text.as_bytes();
    let n = b.len();
    let mut toks = Vec::new();
    let mut stack: Vec<Mode> = Vec::new();
    // Depth of `{` (Kotlin templates) or `(` (Swift interpolation) in the
    // current code segment.
    let mut depth = 0usize;
    let nested_comments = matches!(lang, Lang::Kotlin | Lang::Swift);
    let mut i = 0;
    while i < n {
        if let Some(&Mode::Str { raw, multi, hashes }) = stack.last() {
            // Inside a string literal.
            let c = b[i];
            let closes = |i: usize| -> usize {
                // Length of the closing delimiter at i, 0 if none.
                let q = if multi { 3 } else { 1 };
                if b[i..].starts_with(&b"\"\"\""[..q])
                    && b.len() >= i + q + hashes
                    && b[i + q..i + q + hashes].iter().all(|&h| h == b'#')
                {
                    if multi {
                        // Kotlin and Swift: a run of more quotes ends with the last three.
                        let mut j = i + 3;
                        while hashes == 0 && j < b.len() && b[j] == b'"' {
                            j += 1;
                        }
                        return j - i + hashes;
                    }
                    return q + hashes;
                }
                0
            };
            let k = closes(i);
            if k > 0 {
                stack.pop();
                i += k;
                continue;
            }
            if c == b'\n' && !multi {
                // Unterminated: the line ends it.
                stack.pop();
                continue;
            }
            let esc = c == b'\\' && b[i + 1..].iter().take(hashes).all(|&h| h == b'#');
            if esc && lang == Lang::Swift && b.get(i + 1 + hashes) == Some(&b'(') {
                // `\(expr)`: code until the matching `)`.
                stack.push(Mode::Template { depth });
                depth = 0;
                i += 2 + hashes;
                continue;
            }
            if esc && !(raw && lang != Lang::Swift) {
                i += 2 + hashes;
                continue;
            }
            if c == b'$' && lang == Lang::Kotlin {
                if b.get(i + 1) == Some(&b'{') {
                    stack.push(Mode::Template { depth });
                    depth = 0;
                    i += 2;
                    continue;
                }
                if b.get(i + 1).is_some_and(|&x| ident_start(x) && x != b'$') {
                    let s = i + 1;
                    let mut j = s;
                    while j < n && ident_cont(b[j]) && b[j] != b'$' {
                        j += 1;
                    }
                    toks.push((Tok::Ident, s..j));
                    i = j;
                    continue;
                }
            }
            i += 1;
            continue;
        }
        let c = b[i];
        match c {
            b'\n' => {
                toks.push((Tok::Newline, i..i + 1));
                i += 1;
            }
            b' ' | b'\t' | b'\r' | 0x0c => i += 1,
            b'/' if b.get(i + 1) == Some(&b'/') => {
                // Line comment; in Objective-C a final `\` continues it.
                while i < n && b[i] != b'\n' {
                    if lang == Lang::ObjC && b[i] == b'\\' && b.get(i + 1) == Some(&b'\n') {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut level = 1;
                i += 2;
                while i < n && level > 0 {
                    if b[i..].starts_with(b"*/") {
                        level -= 1;
                        i += 2;
                    } else if nested_comments && b[i..].starts_with(b"/*") {
                        level += 1;
                        i += 2;
                    } else {
                        i += 1;
                    }
                }
            }
            b'"' | b'#' if c == b'"' || (lang == Lang::Swift && swift_raw_open(&b[i..])) => {
                let hashes = b[i..].iter().take_while(|&&h| h == b'#').count();
                let j = i + hashes;
                let multi = lang != Lang::ObjC && b[j..].starts_with(b"\"\"\"");
                toks.push((Tok::Str, i..i + 1));
                stack.push(Mode::Str {
                    raw: (lang == Lang::Kotlin && multi) || hashes > 0,
                    multi,
                    hashes,
                });
                i = j + if multi { 3 } else { 1 };
            }
            b'\'' if lang != Lang::Swift => {
                // A character literal.
                let mut j = i + 1;
                while j < n && b[j] != b'\'' && b[j] != b'\n' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                toks.push((Tok::Str, i..i + 1));
                i = (j + 1).min(n);
            }
            b'`' if matches!(lang, Lang::Kotlin | Lang::Swift) => {
                let mut j = i + 1;
                while j < n && b[j] != b'`' && b[j] != b'\n' {
                    j += 1;
                }
                toks.push((Tok::Ident, i + 1..j.min(n)));
                i = (j + 1).min(n);
            }
            _ if c.is_ascii_digit() => {
                while i < n && (ident_cont(b[i]) || b[i] == b'.') {
                    i += 1;
                }
            }
            _ if ident_start(c) => {
                let s = i;
                while i < n && ident_cont(b[i]) {
                    i += 1;
                }
                toks.push((Tok::Ident, s..i));
            }
            _ => {
                let in_template = matches!(stack.last(), Some(Mode::Template { .. }));
                let (open, close) = if lang == Lang::Swift {
                    (b'(', b')')
                } else {
                    (b'{', b'}')
                };
                if in_template && c == close && depth == 0 {
                    if let Some(Mode::Template { depth: d }) = stack.pop() {
                        depth = d;
                    }
                    i += 1;
                    continue;
                }
                if in_template && c == open {
                    depth += 1;
                } else if in_template && c == close {
                    depth -= 1;
                }
                toks.push((Tok::Punct(c), i..i + 1));
                i += 1;
            }
        }
    }
    let (mate, wide) = brackets(&toks);
    Lexed {
        text,
        toks,
        mate,
        wide,
    }
}

/// `#"`, `##"`...: a Swift raw string opens here.
fn swift_raw_open(b: &[u8]) -> bool {
    let h = b.iter().take_while(|&&x| x == b'#').count();
    h > 0 && b.get(h) == Some(&b'"')
}

/// Names that start a declaration or end one in Kotlin and Swift (a
/// declaration's text runs to the next of these at its depth).
const DECL_WORDS: &[&str] = &[
    "val",
    "var",
    "let",
    "fun",
    "func",
    "class",
    "object",
    "interface",
    "struct",
    "enum",
    "extension",
    "protocol",
    "init",
    "typealias",
];

/// Java words that precede an expression, not a declared name.
const JAVA_NOT_TYPES: &[&str] = &[
    "return",
    "throw",
    "new",
    "case",
    "else",
    "yield",
    "assert",
    "instanceof",
    "do",
    "goto",
];

/// The ends of declarations from each token ([`Lexed::ends`]).
struct Ends {
    statement: Vec<usize>,
    decl: Vec<usize>,
    line: Vec<usize>,
}

impl<'t> Lexed<'t> {
    fn name(&self, i: usize) -> &'t str {
        &self.text[self.toks[i].1.clone()]
    }

    fn is(&self, i: usize, t: Tok) -> bool {
        self.toks.get(i).is_some_and(|(k, _)| *k == t)
    }

    /// The next token that is not a line break.
    fn next_code(&self, i: usize) -> Option<usize> {
        (i + 1..self.toks.len()).find(|&j| !self.is(j, Tok::Newline))
    }

    fn prev_code(&self, i: usize) -> Option<usize> {
        (0..i).rev().find(|&j| !self.is(j, Tok::Newline))
    }

    /// The names of the file (every identifier token).
    fn idents(&self) -> impl Iterator<Item = &'t str> + '_ {
        self.toks
            .iter()
            .filter(|(k, _)| *k == Tok::Ident)
            .map(|(_, r)| &self.text[r.clone()])
    }

    /// The declared names (a superset of what the evaluator declares), each
    /// with the token range of its declaration's text.
    fn declarations(&self, lang: Lang) -> Vec<(&'t str, Range<usize>)> {
        let mut out = Vec::new();
        let toks = &self.toks;
        let ends = self.ends(lang);
        for i in 0..toks.len() {
            if toks[i].0 != Tok::Ident {
                continue;
            }
            let w = self.name(i);
            let next = self.next_code(i);
            let next_punct = next.and_then(|j| match toks[j].0 {
                Tok::Punct(p) => Some((j, p)),
                _ => None,
            });
            let followed = |p: u8| next_punct.is_some_and(|(_, q)| q == p);
            let double =
                |p: u8| next_punct.is_some_and(|(j, q)| q == p && self.is(j + 1, Tok::Punct(p)));
            match lang {
                Lang::Kotlin | Lang::Swift => {
                    let starts = matches!(w, "val" | "var") || (lang == Lang::Swift && w == "let");
                    if starts {
                        // The names up to `=`, `:`, `by`, a line break or a
                        // bracket: `val X`, `val String.x`, `let x`.
                        let end = ends.decl[i + 1];
                        let mut j = i + 1;
                        while j < toks.len() {
                            match toks[j].0 {
                                Tok::Ident if self.name(j) != "by" => {
                                    out.push((self.name(j), i..end));
                                }
                                Tok::Punct(b'.' | b'<' | b'>' | b',' | b'?') => {}
                                _ => break,
                            }
                            j += 1;
                        }
                    } else if lang == Lang::Kotlin && followed(b':') && !double(b':') {
                        // A parameter `x: T` (no value of its own).
                        out.push((w, i..i + 1));
                    }
                }
                Lang::Java => {
                    let declared = next_punct.is_some_and(|(_, q)| {
                        matches!(q, b';' | b',' | b')' | b'[' | b':')
                            || (q == b'=' && !double(b'='))
                    });
                    let typed = self.prev_code(i).is_some_and(|p| match toks[p].0 {
                        Tok::Ident => !JAVA_NOT_TYPES.contains(&self.name(p)),
                        Tok::Punct(q) => matches!(q, b'>' | b']'),
                        _ => false,
                    });
                    // `int a, b = 1;`: a later declarator.
                    let later = self
                        .prev_code(i)
                        .is_some_and(|p| toks[p].0 == Tok::Punct(b','))
                        && next_punct.is_some_and(|(_, q)| {
                            matches!(q, b';' | b',' | b'[') || (q == b'=' && !double(b'='))
                        });
                    if (declared && typed) || later {
                        out.push((w, i..ends.statement[i]));
                    }
                }
                Lang::ObjC => {
                    let after_define = self
                        .prev_code(i)
                        .is_some_and(|p| self.name(p) == "define" && toks[p].0 == Tok::Ident);
                    if after_define {
                        out.push((w, i..ends.line[i]));
                    } else if followed(b'=') && !double(b'=') {
                        out.push((w, i..ends.statement[i]));
                    }
                }
            }
        }
        out
    }

    /// Where the declarations starting at each token end, for all tokens at
    /// once (right to left, jumping over closed groups), so that reading the
    /// declarations is linear whatever their nesting:
    /// - `statement[i]`: a Java or Objective-C declaration from `i`: after the
    ///   `;` at its depth, or at the closer of the block it is in;
    /// - `decl[i]`: a Kotlin or Swift declaration whose body starts at `i`: the
    ///   next declaration word at its depth, after a `;` there, or at the
    ///   closer of its block;
    /// - `line[i]`: the end of the Objective-C line from `i` (a line break not
    ///   escaped by a `\\` just before it).
    ///
    /// An opener whose group never closes ends every scan through it at the
    /// end of the file (the depth never comes back).
    fn ends(&self, lang: Lang) -> Ends {
        let n = self.toks.len();
        let mut ends = Ends {
            statement: vec![n; n + 1],
            decl: vec![n; n + 1],
            line: vec![n; n + 1],
        };
        for j in (0..n).rev() {
            let (statement, decl) = match self.toks[j].0 {
                Tok::Punct(b'(' | b'[' | b'{') => match self.mate[j] {
                    NONE => (n, n),
                    c => (ends.statement[c as usize + 1], ends.decl[c as usize + 1]),
                },
                Tok::Punct(b')' | b']' | b'}') => (j, j),
                Tok::Punct(b';') => (j + 1, j + 1),
                Tok::Ident
                    if DECL_WORDS.contains(&self.name(j))
                        && (lang == Lang::Swift || self.name(j) != "let") =>
                {
                    (ends.statement[j + 1], j)
                }
                _ => (ends.statement[j + 1], ends.decl[j + 1]),
            };
            ends.statement[j] = statement;
            ends.decl[j] = decl;
            let escaped = j > 0 && self.is(j - 1, Tok::Punct(b'\\'));
            ends.line[j] = if self.is(j, Tok::Newline) && !escaped {
                j
            } else {
                ends.line[j + 1]
            };
        }
        ends
    }

    /// `add` calls: for each, whether it has two or more arguments (or a
    /// spread) and the name at the root of its receiver chain (`None` for a
    /// call without receiver).
    fn add_calls(&self) -> Vec<(bool, Option<&'t str>)> {
        let toks = &self.toks;
        let mut out = Vec::new();
        // Shared tails of receiver chains: `b.add(..).add(..)` walks each link once.
        let mut roots: HashMap<usize, Option<&'t str>> = HashMap::new();
        for i in 0..toks.len() {
            if toks[i].0 != Tok::Ident || self.name(i) != "add" {
                continue;
            }
            let Some(open) = self.next_code(i) else {
                continue;
            };
            let shaped = match toks[open].0 {
                // `add<T>(...)`: not read; counted as OkHttp's shape.
                Tok::Punct(b'<') => true,
                Tok::Punct(b'(') => self.wide[open],
                _ => continue,
            };
            out.push((shaped, self.chain_root(i, &mut roots)));
        }
        out
    }

    /// The name at the root of the receiver chain before token `i`
    /// (`b` in `b.x().add`); `None` when there is no receiver, `Some("")`
    /// when the root is not a name (`(expr).add`). `memo` holds, for each
    /// link already walked, the name the rest of its chain ends at.
    fn chain_root(&self, i: usize, memo: &mut HashMap<usize, Option<&'t str>>) -> Option<&'t str> {
        let toks = &self.toks;
        // The `.` (or `?.`) before token `j`, and the token before it.
        let dot_before = |j: usize| -> Option<usize> {
            let mut p = self.prev_code(j)?;
            if toks[p].0 == Tok::Punct(b'?') {
                p = self.prev_code(p)?;
            }
            (toks[p].0 == Tok::Punct(b'.')).then_some(p)
        };
        // Each step from link `x` sets the root to the name before it (or ""
        // for a group with no name before it); the answer is what the last
        // step set. Walk to a link already known, then fill the path in.
        let mut k = self.prev_code(dot_before(i)?);
        let mut path: Vec<(usize, &'t str)> = Vec::new();
        let mut tail: Option<&'t str> = None;
        while let Some(x) = k {
            if let Some(known) = memo.get(&x) {
                tail = *known;
                break;
            }
            let (head, root) = match toks[x].0 {
                Tok::Ident => (x, self.name(x)),
                Tok::Punct(b')' | b']') => {
                    // Jump over the balanced group back to its opener.
                    let y = match self.mate[x] {
                        NONE => 0,
                        o => o as usize,
                    };
                    match self.prev_code(y) {
                        Some(p) if toks[p].0 == Tok::Ident => (p, self.name(p)),
                        _ => (y, ""),
                    }
                }
                _ => break,
            };
            path.push((x, root));
            k = dot_before(head).and_then(|d| self.prev_code(d));
        }
        for &(x, root) in path.iter().rev() {
            let answer = tail.or(Some(root));
            memo.insert(x, answer);
            tail = answer;
        }
        Some(tail.unwrap_or(""))
    }
}

/// The names that can name a pinner-typed variable: a name declared in a
/// file that mentions `CertificatePinner`.
fn can_seed(lexed: &Lexed, text: &str, lang: Lang, pinner_names: &HashSet<&str>) -> bool {
    match lang {
        Lang::Swift | Lang::ObjC => lexed.idents().any(|w| w == "TrustKit"),
        Lang::Kotlin | Lang::Java => {
            // Whether the file names a pinner at all: asked once, not per call.
            let mut names_a_pinner: Option<bool> = None;
            text.contains("CertificatePinner")
                || lexed.idents().any(|w| w == "Builder")
                || lexed.add_calls().into_iter().any(|(shaped, root)| {
                    shaped
                        || match root {
                            // No receiver: an enclosing `apply`/`with` names it.
                            None => *names_a_pinner.get_or_insert_with(|| {
                                lexed.idents().any(|w| pinner_names.contains(w))
                            }),
                            Some(r) => pinner_names.contains(r),
                        }
                })
        }
    }
}

/// How many brackets of `text` open a group that never closes. Code a
/// compiler accepts has none; tree-sitter's error recovery slows down with
/// each one (the cost per parse action grows with them, so the step budget
/// does not catch it: 5,000 unclosed `(` in 50 KB took 3.6 s).
pub(crate) fn unclosed(text: &str, lang: Lang) -> usize {
    let x = lex(text, lang);
    x.toks
        .iter()
        .zip(&x.mate)
        .filter(|((k, _), m)| matches!(k, Tok::Punct(b'(' | b'[' | b'{')) && **m == NONE)
        .count()
}

/// Which of `files` (`(text, language)`) must be parsed for the findings
/// to be those of parsing them all.
pub(crate) fn needed(files: &[(&str, Lang)]) -> Vec<bool> {
    let lexed: Vec<Lexed> = files.iter().map(|(t, l)| lex(t, *l)).collect();
    let decls: Vec<Vec<(&str, Range<usize>)>> = lexed
        .iter()
        .zip(files)
        .map(|(x, (_, l))| x.declarations(*l))
        .collect();
    let mut pinner_names: HashSet<&str> = HashSet::new();
    for ((t, _), d) in files.iter().zip(&decls) {
        if t.contains("CertificatePinner") {
            pinner_names.extend(d.iter().map(|(n, _)| *n));
        }
    }
    let mut by_name: HashMap<&str, Vec<(usize, Range<usize>)>> = HashMap::new();
    for (f, d) in decls.iter().enumerate() {
        for (n, r) in d {
            by_name.entry(n).or_default().push((f, r.clone()));
        }
    }
    let mut need: Vec<bool> = lexed
        .iter()
        .zip(files)
        .map(|(x, (t, l))| can_seed(x, t, *l, &pinner_names))
        .collect();
    let mut seen: HashSet<&str> = HashSet::new();
    let mut work: Vec<&str> = Vec::new();
    for (f, x) in lexed.iter().enumerate() {
        if need[f] {
            work.extend(x.idents());
        }
    }
    // Each token's name is pushed at most once: declarations' ranges nest and
    // overlap (an unclosed bracket makes every later one reach the end of the
    // file), so pushing each range whole was quadratic in time and memory.
    let mut unread: Vec<Unread> = lexed.iter().map(|x| Unread::new(x.toks.len())).collect();
    while let Some(name) = work.pop() {
        if !seen.insert(name) {
            continue;
        }
        for (f, r) in by_name.get(name).into_iter().flatten() {
            need[*f] = true;
            let x = &lexed[*f];
            let mut j = unread[*f].next(r.start);
            while j < r.end {
                if x.toks[j].0 == Tok::Ident {
                    work.push(x.name(j));
                }
                unread[*f].read(j);
                j = unread[*f].next(j + 1);
            }
        }
    }
    need
}

/// The tokens of a file not read yet, as "next unread token from `i`" with
/// path compression (a disjoint-set forest over positions): reading every
/// range costs about the tokens read, not the ranges' total length.
struct Unread(Vec<usize>);

impl Unread {
    fn new(len: usize) -> Self {
        Self((0..=len).collect())
    }

    /// The first unread token at or after `i` (the token count when none).
    fn next(&mut self, i: usize) -> usize {
        let mut root = i.min(self.0.len() - 1);
        while self.0[root] != root {
            root = self.0[root];
        }
        let mut cur = i.min(self.0.len() - 1);
        while self.0[cur] != root {
            let up = self.0[cur];
            self.0[cur] = root;
            cur = up;
        }
        root
    }

    /// Marks token `i` read.
    fn read(&mut self, i: usize) {
        self.0[i] = i + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str, lang: Lang) -> Vec<String> {
        let l = lex(text, lang);
        l.idents().map(str::to_owned).collect()
    }

    #[test]
    fn comments_and_strings_hide_names_templates_do_not() {
        assert_eq!(
            names(
                "a /* b /* c */ d */ e // f\n\"g $h ${i + \"j${k}\"} l\" m",
                Lang::Kotlin
            ),
            ["a", "e", "h", "i", "k", "m"]
        );
        // Java block comments do not nest; text blocks and chars.
        assert_eq!(
            names(
                "a /* b /* c */ d */ e \"\"\"\nx \\\"\"\" y\n\"\"\" '\"' f",
                Lang::Java
            ),
            ["a", "d", "e", "f"]
        );
        // Swift interpolation and raw strings.
        assert_eq!(
            names(
                "a \"b \\(c + \"d\") e\" #\"f \\(g) \\#(h)\"# i",
                Lang::Swift
            ),
            ["a", "c", "h", "i"]
        );
        // Kotlin raw strings end at the last of a run of quotes; no escapes.
        assert_eq!(names("\"\"\"a \\\"\"\"\" b", Lang::Kotlin), ["b"]);
        // Objective-C: a `\` continues a line comment.
        assert_eq!(names("// a \\\nb\nc @\"d\"", Lang::ObjC), ["c"]);
    }

    #[test]
    fn declarations_are_found_in_each_language() {
        let d = |t: &str, l: Lang| -> Vec<String> {
            let x = lex(t, l);
            x.declarations(l)
                .into_iter()
                .map(|(n, _)| n.to_owned())
                .collect()
        };
        assert_eq!(
            d(
                "const val A = B\nfun f(x: Int, vararg y: String) {}\nval C get() = D",
                Lang::Kotlin
            ),
            // A superset: `get` is no declaration, but over-counting is safe.
            ["A", "x", "y", "C", "get"]
        );
        assert_eq!(
            d(
                "static final String[] A = {B};\nint c, e = 1; return f; g(h, i);\nvoid m(String p) {}",
                Lang::Java
            ),
            ["String", "A", "c", "e", "p"]
        );
        assert_eq!(
            d("let a = b\nvar c: Int = 1\nfoo(x: 1)", Lang::Swift),
            ["a", "c"]
        );
        assert_eq!(
            d(
                "#define K @\"x\"\nstatic NSString *const P = @\"y\";\nif (a == b) {}",
                Lang::ObjC
            ),
            ["K", "P"]
        );
    }

    #[test]
    fn only_files_that_can_matter_are_needed() {
        let pins = "object Pins { const val A = \"sha256/x\" + Other.B }";
        let other = "object Other { const val B = \"y\" }";
        let client = "val p = CertificatePinner.Builder().add(\"h\", Pins.A).build()";
        let unrelated =
            "class V { val items = mutableListOf<String>()\n fun f() { items.add(\"x\") } }";
        let headers = "fun g() { headers.add(\"name\", \"value\") }";
        let need = needed(&[
            (pins, Lang::Kotlin),
            (other, Lang::Kotlin),
            (client, Lang::Kotlin),
            (unrelated, Lang::Kotlin),
            (headers, Lang::Kotlin),
        ]);
        assert_eq!(need, [true, true, true, false, true]);
        // A one-argument add on a variable declared as a builder elsewhere.
        let decl = "val b = CertificatePinner.Builder()";
        let use_ = "fun h() { b.add(\"only\") }\nfun k() { x.add(1) }";
        assert_eq!(
            needed(&[(decl, Lang::Kotlin), (use_, Lang::Kotlin)]),
            [true, true]
        );
        assert_eq!(
            needed(&[(decl, Lang::Kotlin), ("fun k() { x.add(1) }", Lang::Kotlin)]),
            [true, false]
        );
    }
}
