//! Bounds on untrusted input, shared by every importer (issue 9, item 1).
//!
//! Configurations come from APKs, IPAs, servers and users: any of them may be
//! hostile. Two shapes of input must never reach a parser unchecked:
//!
//! * **Deep nesting.** Recursive parsers, importers and even the `Drop` of a
//!   parsed tree (`plist::Value`, `serde_json::Value`) use stack per level; a
//!   few hundred thousand nested arrays overflow it, and a stack overflow is
//!   an abort that neither `catch_unwind` nor uniffi can stop. Every text is
//!   therefore scanned iteratively for its nesting depth *before* it is
//!   parsed, and refused beyond [`MAX_NESTING_DEPTH`].
//! * **Size.** Inputs over [`MAX_INPUT_BYTES`] are refused before parsing.
//!
//! | limit | value | applies to |
//! |---|---|---|
//! | [`MAX_NESTING_DEPTH`] | 128 levels | NSC XML elements, plist (XML and binary) arrays/dicts, TOML and JSON arrays/tables of pin policies, device policies and device facts |
//! | [`MAX_INPUT_BYTES`] | 64 MiB | every importer's input |
//! | [`MAX_SOURCE_BYTES`] | 16 MiB | each Kotlin, Java, Swift, Objective-C or Gradle file read by `audit` (a syntax tree takes about 10 times the text) |
//! | [`MAX_PARSE_STEPS_PER_BYTE`], [`PARSE_STEPS_BASE`] | 16 per byte + 20,000 | tree-sitter parse actions on each source file (real code takes 0.8 to 1.9 per byte) |
//! | [`PARSE_SECONDS_BASE`], [`PARSE_SECONDS_PER_MIB`] | 60 s + 10 s per MiB | wall-clock time of each source file's parse, a backstop for the step budget (generous: a loaded machine or valgrind must not refuse real code) |
//! | [`MAX_UNCLOSED_BRACKETS`] | 256 | brackets a source file leaves unclosed (tree-sitter's recovery slows with each) |
//! | [`MAX_XML_NODES`] | 4,000,000 | NSC XML nodes (roxmltree's `nodes_limit`) |
//! | [`MAX_PLIST_EVENTS`] | 4,000,000 | plist values after expanding shared binary-plist references |
//! | `audit::package` `MAX_ENTRIES`, `MAX_ENTRY_BYTES`, `MAX_TOTAL_BYTES`, `MAX_RATIO` | 500,000 entries, 64 MiB, 512 MiB, 200:1 | APK / AAB / IPA archives (zip) |
//!
//! Real configurations nest fewer than 10 levels; serde_json's own default
//! recursion limit is 128 too, so JSON depth errors read the same whatever
//! the parser.

/// The deepest nesting (elements, arrays, dictionaries, tables) accepted.
pub const MAX_NESTING_DEPTH: usize = 128;
/// The largest input accepted, in bytes (64 MiB).
pub const MAX_INPUT_BYTES: usize = 64 << 20;
/// The largest source-code file accepted by the audit, in bytes (16 MiB).
pub const MAX_SOURCE_BYTES: usize = 16 << 20;
/// Parse actions the grammar may take per byte of a source file. Real Kotlin,
/// Java, Swift and Objective-C take about one action per byte (0.8 to 1.3
/// measured on 300 files on this machine; 1.9 on Swift templates full of
/// `{% %}` the grammar recovers from; at most 2.7 on the fuzz corpus); tree-sitter's
/// error recovery on some garbled texts takes 50,000 per byte (990 bytes of
/// Kotlin: 48 million actions, 107 s), so without a budget a 1 KB file hangs
/// the audit.
pub const MAX_PARSE_STEPS_PER_BYTE: u64 = 16;
/// Parse actions every source file may take whatever its size.
pub const PARSE_STEPS_BASE: u64 = 20_000;
/// Seconds every source file's parse may take whatever its size: a backstop
/// for the step budget (tree-sitter actions whose lexing scans far), so the
/// bound holds whatever the text. Generous on purpose, since wall-clock time
/// depends on the machine: a well-formed 10 MB file parses in about 1.5 s
/// here, and the linearity tests parse under valgrind (about 50 times
/// slower) on a loaded 2-core machine, where a 5 s backstop refused a 100 KB
/// file. The step budget, which does not depend on the machine, is the bound
/// that refuses garbled text.
pub const PARSE_SECONDS_BASE: u64 = 60;
/// Further seconds of parsing per MiB of source.
pub const PARSE_SECONDS_PER_MIB: u64 = 10;
/// The most brackets a source file may leave unclosed before it is parsed.
/// Code a compiler accepts leaves none; tree-sitter's error recovery slows
/// with each (superlinearly: 2,500 unclosed `(` in 25 KB took 1.2 s, 5,000
/// in 50 KB 3.6 s), in few parse actions, so the step budget does not see it.
pub const MAX_UNCLOSED_BRACKETS: usize = 256;
/// The most XML nodes (elements, text, comments...) accepted in one document.
pub const MAX_XML_NODES: u32 = 4_000_000;
/// The most plist values accepted, counting every use of a shared object in
/// a binary plist (which can otherwise expand exponentially).
pub const MAX_PLIST_EVENTS: usize = 4_000_000;

/// An input exceeded one of the limits above.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LimitError {
    /// Nested deeper than [`MAX_NESTING_DEPTH`].
    #[error("nesting deeper than {limit} levels (MAX_NESTING_DEPTH) is refused")]
    TooDeep {
        /// The limit.
        limit: usize,
    },
    /// Larger than [`MAX_INPUT_BYTES`].
    #[error("input of {size} bytes exceeds the limit of {limit} bytes (MAX_INPUT_BYTES)")]
    TooLarge {
        /// The input's size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A package archive's size limit (`audit::package`: one entry after
    /// decompression, the whole audit's decompression, the central
    /// directory, the signing block), named by its constant.
    #[error("{what} of {size} bytes exceeds the limit of {limit} bytes ({name})")]
    PackageTooLarge {
        /// What was measured.
        what: &'static str,
        /// The constant's name.
        name: &'static str,
        /// The size (as far as it was read).
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A zip entry that decompresses more than `limit` times its size (a zip
    /// bomb; package audits, `audit::package`).
    #[error("compression ratio {ratio}:1 exceeds {limit}:1 (MAX_RATIO): a zip bomb?")]
    TooCompressed {
        /// The entry's ratio.
        ratio: u64,
        /// The limit.
        limit: u64,
    },
    /// A source file larger than [`MAX_SOURCE_BYTES`].
    #[error("source file of {size} bytes exceeds the limit of {limit} bytes (MAX_SOURCE_BYTES)")]
    SourceTooLarge {
        /// The file's size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A source file whose parse spent its budget
    /// ([`MAX_PARSE_STEPS_PER_BYTE`] and [`PARSE_STEPS_BASE`] parse actions,
    /// or [`PARSE_SECONDS_BASE`] and [`PARSE_SECONDS_PER_MIB`] seconds):
    /// the grammar's error recovery does not settle on this text.
    #[error(
        "parsing {size} bytes of source spent its budget of {steps} parse actions or {seconds} s \
         (MAX_PARSE_STEPS_PER_BYTE, PARSE_SECONDS_PER_MIB): the text is not code the grammar recovers from"
    )]
    ParseBudget {
        /// The file's size.
        size: usize,
        /// The step budget.
        steps: u64,
        /// The time budget, in seconds.
        seconds: u64,
    },
    /// A source file with more than [`MAX_UNCLOSED_BRACKETS`] brackets that
    /// never close: not code a compiler accepts, and slow to recover from.
    #[error(
        "{unclosed} brackets never close (more than {limit}, MAX_UNCLOSED_BRACKETS): not code a compiler accepts"
    )]
    Unbalanced {
        /// The brackets left open.
        unclosed: usize,
        /// The limit.
        limit: usize,
    },
    /// More nodes or values than [`MAX_XML_NODES`] / [`MAX_PLIST_EVENTS`].
    #[error("more than {limit} {what} ({name}) is refused")]
    TooMany {
        /// What was counted.
        what: &'static str,
        /// The constant's name.
        name: &'static str,
        /// The limit.
        limit: usize,
    },
}

const TOO_DEEP: LimitError = LimitError::TooDeep {
    limit: MAX_NESTING_DEPTH,
};

/// Refuses inputs over [`MAX_INPUT_BYTES`].
pub(crate) fn check_size(len: usize) -> Result<(), LimitError> {
    if len > MAX_INPUT_BYTES {
        return Err(LimitError::TooLarge {
            size: len,
            limit: MAX_INPUT_BYTES,
        });
    }
    Ok(())
}

/// Refuses source files over [`MAX_SOURCE_BYTES`].
#[cfg(feature = "source")]
pub(crate) fn check_source(len: usize) -> Result<(), LimitError> {
    if len > MAX_SOURCE_BYTES {
        return Err(LimitError::SourceTooLarge {
            size: len,
            limit: MAX_SOURCE_BYTES,
        });
    }
    Ok(())
}

/// The parse budget of a source file of `len` bytes: (parse actions,
/// wall-clock time).
#[cfg(feature = "source")]
pub(crate) fn parse_budget(len: usize) -> (u64, std::time::Duration) {
    let len = len as u64;
    let steps = PARSE_STEPS_BASE.saturating_add(len.saturating_mul(MAX_PARSE_STEPS_PER_BYTE));
    let secs = PARSE_SECONDS_BASE + len.div_ceil(1 << 20) * PARSE_SECONDS_PER_MIB;
    (steps, std::time::Duration::from_secs(secs))
}

/// Size and nesting of a JSON text: `[` and `{` outside strings. Malformed
/// text is left to the parser.
pub(crate) fn check_json(text: &[u8]) -> Result<(), LimitError> {
    check_size(text.len())?;
    check_brackets(text, b"[{", b"]}", b'"')
}

/// Size and nesting of a TOML text: inline arrays and tables (`[`, `{`)
/// outside strings and comments. Table headers (`[a]`, `[[a]]`) count too,
/// which only over-counts by two. Malformed text is left to the parser.
pub(crate) fn check_toml(text: &str) -> Result<(), LimitError> {
    check_size(text.len())?;
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            q @ (b'"' | b'\'') => {
                let multi = b[i..].starts_with(if q == b'"' { b"\"\"\"" } else { b"'''" });
                i += if multi { 3 } else { 1 };
                while i < b.len() {
                    if q == b'"' && b[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if multi {
                        if b[i..].starts_with(if q == b'"' { b"\"\"\"" } else { b"'''" }) {
                            i += 2;
                            break;
                        }
                    } else if b[i] == q || b[i] == b'\n' {
                        break;
                    }
                    i += 1;
                }
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING_DEPTH {
                    return Err(TOO_DEEP);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

#[cfg(feature = "audit")] // XML and plist are read by the audit only
/// Size and element nesting of an XML text, scanned without parsing: start
/// tags open a level, end tags and `/>` close one; comments, CDATA,
/// declarations and processing instructions are skipped, as are quoted
/// attribute values. Malformed text is left to the parser.
pub(crate) fn check_xml(b: &[u8]) -> Result<(), LimitError> {
    check_size(b.len())?;
    let mut depth = 0usize;
    let mut i = 0;
    let skip_to = |from: usize, end: &[u8]| -> usize {
        b[from..]
            .windows(end.len())
            .position(|w| w == end)
            .map_or(b.len(), |p| from + p + end.len())
    };
    while i < b.len() {
        if b[i] != b'<' {
            i += 1;
            continue;
        }
        let rest = &b[i..];
        if rest.starts_with(b"<!--") {
            i = skip_to(i + 4, b"-->");
        } else if rest.starts_with(b"<![CDATA[") {
            i = skip_to(i + 9, b"]]>");
        } else if rest.starts_with(b"<?") {
            i = skip_to(i + 2, b"?>");
        } else if rest.starts_with(b"<!") {
            // DOCTYPE and friends: skip to the matching `>` (internal
            // subsets nest `[...]`; roxmltree refuses DTDs anyway).
            i = skip_to(i + 2, b">");
        } else if rest.starts_with(b"</") {
            depth = depth.saturating_sub(1);
            i = skip_to(i + 2, b">");
        } else {
            // A start tag: find its end, skipping quoted attribute values.
            let mut j = i + 1;
            let mut quote = None;
            while j < b.len() {
                match (quote, b[j]) {
                    (Some(q), c) if c == q => quote = None,
                    (Some(_), _) => {}
                    (None, c @ (b'"' | b'\'')) => quote = Some(c),
                    (None, b'>') => break,
                    _ => {}
                }
                j += 1;
            }
            let self_closing = j < b.len() && b[j - 1] == b'/';
            if !self_closing {
                depth += 1;
                if depth > MAX_NESTING_DEPTH {
                    return Err(TOO_DEEP);
                }
            }
            i = j + 1;
        }
    }
    Ok(())
}

#[cfg(feature = "audit")] // XML and plist are read by the audit only
/// Size, nesting and value count of a property list: binary (walking its
/// object table iteratively), XML (as [`check_xml`]) or ASCII/OpenStep
/// (`(`/`{` outside quoted strings). No value tree is built: the `Drop` of a
/// deep `plist::Value` alone overflows the stack. Malformed input is left to
/// the parser.
pub(crate) fn check_plist(bytes: &[u8]) -> Result<(), LimitError> {
    check_size(bytes.len())?;
    if bytes.starts_with(b"bplist00") {
        return check_binary_plist(bytes);
    }
    check_xml(bytes)?;
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'<') {
        check_brackets(bytes, b"({", b")}", b'"')?;
    }
    Ok(())
}

/// Nesting of `open`/`close` brackets outside `quote`d strings (with `\`
/// escapes).
fn check_brackets(text: &[u8], open: &[u8], close: &[u8], quote: u8) -> Result<(), LimitError> {
    let mut depth = 0usize;
    let mut in_str = false;
    let mut escaped = false;
    for &b in text {
        if in_str {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, c) if c == quote => in_str = false,
                _ => {}
            }
            continue;
        }
        if b == quote {
            in_str = true;
        } else if open.contains(&b) {
            depth += 1;
            if depth > MAX_NESTING_DEPTH {
                return Err(TOO_DEEP);
            }
        } else if close.contains(&b) {
            depth = depth.saturating_sub(1);
        }
    }
    Ok(())
}

#[cfg(feature = "audit")] // XML and plist are read by the audit only
fn be_uint(b: &[u8]) -> Option<u64> {
    (b.len() <= 8).then(|| b.iter().fold(0u64, |a, &x| (a << 8) | u64::from(x)))
}

#[cfg(feature = "audit")] // XML and plist are read by the audit only
/// Walks a binary plist's object graph from its top object, depth first
/// with an explicit stack, as the `plist` reader expands it.
fn check_binary_plist(b: &[u8]) -> Result<(), LimitError> {
    let Some(trailer) = b.len().checked_sub(32).map(|t| &b[t..]) else {
        return Ok(());
    };
    let off_size = usize::from(trailer[6]);
    let ref_size = usize::from(trailer[7]);
    let (Some(num), Some(top), Some(table)) = (
        be_uint(&trailer[8..16]),
        be_uint(&trailer[16..24]),
        be_uint(&trailer[24..32]),
    ) else {
        return Ok(());
    };
    if off_size == 0 || off_size > 8 || ref_size == 0 || ref_size > 8 {
        return Ok(());
    }
    let offset_of = |obj: u64| -> Option<usize> {
        if obj >= num {
            return None;
        }
        let at = usize::try_from(table)
            .ok()?
            .checked_add(usize::try_from(obj).ok()?.checked_mul(off_size)?)?;
        usize::try_from(be_uint(b.get(at..at.checked_add(off_size)?)?)?).ok()
    };
    // The refs of a collection object: (first ref's position, how many).
    let refs_of = |at: usize| -> Option<(usize, usize, bool)> {
        let marker = *b.get(at)?;
        let per = match marker >> 4 {
            0xA | 0xC => 1,
            0xD => 2,
            _ => return Some((0, 0, false)),
        };
        let (count, start) = if marker & 0xF == 0xF {
            let int = *b.get(at + 1)?;
            if int >> 4 != 1 {
                return None;
            }
            let n = 1usize << (int & 0xF);
            let c = be_uint(b.get(at + 2..at.checked_add(2 + n)?)?)?;
            (usize::try_from(c).ok()?, at + 2 + n)
        } else {
            (usize::from(marker & 0xF), at + 1)
        };
        // A dictionary's keys are strings: only its values nest.
        let refs = count.checked_mul(per)?;
        let skip = if per == 2 { count } else { 0 };
        b.get(start..start.checked_add(refs.checked_mul(ref_size)?)?)?;
        Some((start + skip * ref_size, count, true))
    };
    let mut stack = vec![(top, 1usize)];
    let mut visited = 0usize;
    while let Some((obj, depth)) = stack.pop() {
        visited += 1;
        if visited > MAX_PLIST_EVENTS {
            return Err(LimitError::TooMany {
                what: "property-list values",
                name: "MAX_PLIST_EVENTS",
                limit: MAX_PLIST_EVENTS,
            });
        }
        let Some((start, count, collection)) = offset_of(obj).and_then(refs_of) else {
            continue; // malformed: the parser will say so
        };
        if collection && depth > MAX_NESTING_DEPTH {
            return Err(TOO_DEEP);
        }
        for k in 0..count {
            let at = start + k * ref_size;
            if let Some(child) = be_uint(&b[at..at + ref_size]) {
                stack.push((child, depth + 1));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deep(open: &str, close: &str, n: usize) -> String {
        format!("{}{}", open.repeat(n), close.repeat(n))
    }

    #[test]
    #[cfg(feature = "audit")]
    fn scanners_count_nesting() {
        let n = MAX_NESTING_DEPTH;
        assert!(check_json(deep("[", "]", n).as_bytes()).is_ok());
        assert_eq!(check_json(deep("[", "]", n + 1).as_bytes()), Err(TOO_DEEP));
        // brackets inside strings do not count
        let s = format!("[\"{}\\\"{}\"]", "[".repeat(500), "{".repeat(500));
        assert!(check_json(s.as_bytes()).is_ok());
        assert!(check_toml(&format!("x = {}", deep("[", "]", n))).is_ok());
        assert_eq!(
            check_toml(&format!("x = {}", deep("[", "]", n + 1))),
            Err(TOO_DEEP)
        );
        let s = format!(
            "# {}\na = \"{}\"\nb = '{}'\nc = \"\"\"\n{}\"\"\"\n",
            "[".repeat(500),
            "[".repeat(500),
            "[".repeat(500),
            "[".repeat(500)
        );
        assert!(check_toml(&s).is_ok());
        assert!(check_xml(deep("<a>", "</a>", n).as_bytes()).is_ok());
        assert_eq!(
            check_xml(deep("<a>", "</a>", n + 1).as_bytes()),
            Err(TOO_DEEP)
        );
        let s = format!(
            "<?xml version=\"1.0\"?><!-- {} --><r a=\"/>\">{}<![CDATA[{}]]></r>",
            "<a>".repeat(500),
            "<b/>".repeat(500),
            "<a>".repeat(500)
        );
        assert!(check_xml(s.as_bytes()).is_ok());
        assert!(check_size(MAX_INPUT_BYTES).is_ok());
        assert!(check_size(MAX_INPUT_BYTES + 1).is_err());
    }
}
