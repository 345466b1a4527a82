//! `buildConfigField(type, name, value)` in `build.gradle` (Groovy) and
//! `build.gradle.kts` (Kotlin DSL), read with a small tokenizer that knows
//! both dialects' string literals and comments (no grammar crate for Groovy
//! builds against the `tree-sitter` version Mamori uses).
//!
//! The Android Gradle Plugin writes each field into the generated
//! `BuildConfig.java` as `public static final TYPE NAME = VALUE;`, VALUE
//! being Java source. [`java_source`] does the same, so `BuildConfig.NAME`
//! is then an ordinary constant for the evaluator.

/// One `buildConfigField` call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Field {
    pub ty: String,
    pub name: String,
    /// The value: Java source.
    pub value: String,
    /// 1-based line of the call.
    pub line: u32,
    /// The blocks it is in, outermost first, without `android`:
    /// `defaultConfig`, `buildTypes.release`, `productFlavors.free`
    /// (Kotlin DSL `create("free")` / `getByName("release")` named by their
    /// string).
    pub variant: String,
}

#[derive(Debug, PartialEq)]
enum Tok {
    Ident(String),
    /// A string literal; `None` when it interpolates (`"${x}"`, `"$x"`).
    Str(Option<String>),
    Punct(char),
}

/// Tokenizes Groovy / Kotlin DSL text: identifiers, string literals (single,
/// double, triple quoted; slashy strings are not supported), punctuation;
/// comments and whitespace skipped. Linear; each token carries its line.
fn tokens(text: &str) -> Vec<(Tok, u32)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1u32;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\n' => {
                line += 1;
                i += 1;
            }
            _ if c.is_ascii_whitespace() => i += 1,
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                    if b[i] == b'\n' {
                        line += 1;
                    }
                    i += 1;
                }
                i += 2;
            }
            b'"' | b'\'' => {
                let start_line = line;
                let triple = b[i..].starts_with(&[c, c, c]);
                let q = if triple { 3 } else { 1 };
                i += q;
                let mut s = String::new();
                let mut interpolated = false;
                loop {
                    if i >= b.len() {
                        break;
                    }
                    if b[i..].starts_with(&[c, c, c][..q]) {
                        i += q;
                        break;
                    }
                    match b[i] {
                        b'\\' if i + 1 < b.len() => {
                            let e = b[i + 1];
                            s.push(match e {
                                b'n' => '\n',
                                b't' => '\t',
                                b'r' => '\r',
                                _ => e as char,
                            });
                            i += 2;
                            continue;
                        }
                        b'$' if c == b'"' => interpolated = true,
                        b'\n' => line += 1,
                        _ => {}
                    }
                    // Copy one UTF-8 character.
                    let len = utf8_len(b[i]);
                    s.push_str(&text[i..(i + len).min(b.len())]);
                    i += len;
                }
                out.push((Tok::Str((!interpolated).then_some(s)), start_line));
            }
            _ if c.is_ascii_alphanumeric() || c == b'_' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                out.push((Tok::Ident(text[start..i].to_owned()), line));
            }
            _ => {
                let len = utf8_len(c);
                out.push((Tok::Punct(c as char), line));
                i += len;
            }
        }
    }
    out
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// The `buildConfigField` calls of a Gradle file, and the calls whose
/// arguments are not three plain string literals (by line).
pub(crate) fn fields(text: &str) -> (Vec<Field>, Vec<u32>) {
    let toks = tokens(text);
    let mut out = Vec::new();
    let mut unread = Vec::new();
    // Each `{` and the name of its block (`None`: an unnamed block).
    let mut blocks: Vec<Option<String>> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        match &toks[i].0 {
            Tok::Punct('{') => {
                blocks.push(block_name(&toks[..i]));
                i += 1;
                continue;
            }
            Tok::Punct('}') => {
                blocks.pop();
                i += 1;
                continue;
            }
            _ => {}
        }
        if toks[i].0 != Tok::Ident("buildConfigField".into()) {
            i += 1;
            continue;
        }
        let variant = blocks
            .iter()
            .flatten()
            .filter(|b| *b != "android")
            .cloned()
            .collect::<Vec<_>>()
            .join(".");
        let line = toks[i].1;
        let mut j = i + 1;
        if toks.get(j).map(|t| &t.0) == Some(&Tok::Punct('(')) {
            j += 1;
        }
        let mut args = Vec::new();
        while args.len() < 3 {
            match toks.get(j).map(|t| &t.0) {
                Some(Tok::Str(s)) => args.push(s.clone()),
                _ => break,
            }
            j += 1;
            if args.len() < 3 {
                if toks.get(j).map(|t| &t.0) != Some(&Tok::Punct(',')) {
                    break;
                }
                j += 1;
            }
        }
        match args.as_slice() {
            [Some(ty), Some(name), Some(value)] => out.push(Field {
                ty: ty.clone(),
                name: name.clone(),
                value: value.clone(),
                line,
                variant,
            }),
            _ => unread.push(line),
        }
        i = j.max(i + 1);
    }
    (out, unread)
}

/// The name of the block a `{` opens, from the tokens before it: `release {`,
/// `create("free") {`, `getByName("release") {` (the string names it).
fn block_name(before: &[(Tok, u32)]) -> Option<String> {
    match before.last().map(|t| &t.0) {
        Some(Tok::Ident(n)) => Some(n.clone()),
        Some(Tok::Punct(')')) => {
            // Back to the matching `(`: the first string inside names it.
            // Bounded: a run of `)` in hostile input costs at most this much.
            let mut depth = 0usize;
            for j in (before.len().saturating_sub(256)..before.len()).rev() {
                match &before[j].0 {
                    Tok::Punct(')') => depth += 1,
                    Tok::Punct('(') => {
                        depth -= 1;
                        if depth == 0 {
                            let inside = &before[j + 1..];
                            if let Some(s) = inside.iter().find_map(|t| match &t.0 {
                                Tok::Str(Some(s)) => Some(s.clone()),
                                _ => None,
                            }) {
                                return Some(s);
                            }
                            return match before[..j].last().map(|t| &t.0) {
                                Some(Tok::Ident(n)) => Some(n.clone()),
                                _ => None,
                            };
                        }
                    }
                    _ => {}
                }
            }
            None
        }
        _ => None,
    }
}

/// The generated `BuildConfig.java` for `fields`: one field per line, so
/// line `n + 2` is `fields[n]`.
pub(crate) fn java_source(fields: &[Field]) -> String {
    let mut s = String::from("final class BuildConfig {\n");
    for f in fields {
        let ty = match f.ty.as_str() {
            "String" | "String[]" | "boolean" | "int" | "long" => f.ty.as_str(),
            _ => "Object",
        };
        // The value is Java source on one line (newlines would shift lines).
        let value = f.value.replace(['\n', '\r'], " ");
        s.push_str(&format!("static final {ty} {} = {value};\n", f.name));
    }
    s.push_str("}\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groovy_and_kotlin_dsl_fields() {
        let groovy = "android {\n  defaultConfig {\n    // buildConfigField \"String\", \"X\", \"\\\"no\\\"\"\n    buildConfigField \"String\", \"PIN\", '\"sha256/AAAA\"'\n    buildConfigField 'String', 'HOST', \"\\\"api.example.com\\\"\"\n  }\n}\n";
        let (f, unread) = fields(groovy);
        assert_eq!(unread, Vec::<u32>::new());
        assert_eq!(f.len(), 2);
        assert_eq!(
            (f[0].name.as_str(), f[0].value.as_str(), f[0].line),
            ("PIN", "\"sha256/AAAA\"", 4)
        );
        assert_eq!(
            (f[1].name.as_str(), f[1].value.as_str(), f[1].line),
            ("HOST", "\"api.example.com\"", 5)
        );
        assert_eq!(f[1].variant, "defaultConfig");
        let kts = "android {\n    defaultConfig {\n        buildConfigField(\n            \"String\",\n            \"PIN\",\n            \"\\\"sha256/BBBB\\\"\",\n        )\n        buildConfigField(\"String\", \"T\", \"\\\"${pin}\\\"\")\n    }\n}\n";
        let (f, unread) = fields(kts);
        assert_eq!(f.len(), 1);
        assert_eq!(
            (f[0].name.as_str(), f[0].value.as_str(), f[0].line),
            ("PIN", "\"sha256/BBBB\"", 3)
        );
        assert_eq!(unread, vec![8]);
    }

    #[test]
    fn generated_source_has_one_field_per_line() {
        let f = vec![Field {
            ty: "String".into(),
            name: "PIN".into(),
            value: "\"a\"\n+ \"b\"".into(),
            line: 9,
            variant: String::new(),
        }];
        assert_eq!(
            java_source(&f),
            "final class BuildConfig {\nstatic final String PIN = \"a\" + \"b\";\n}\n"
        );
    }
}
