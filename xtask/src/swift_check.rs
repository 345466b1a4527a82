//! A syntax check for Swift sources without a Swift toolchain.
//!
//! The build machines have no `swiftc`, so the Swift facade and tests would otherwise never be
//! looked at by a machine before a Mac user tries them. tree-sitter-swift is a full grammar of
//! the language: a file that parses without ERROR or MISSING nodes is at least syntactically
//! valid Swift. Type errors are out of reach here (no compiler); that is the known limit.
//!
//! The grammar (tree-sitter-swift 0.7.4, the newest release) lags the language in a few places.
//! Valid constructs it cannot parse are listed in [`GRAMMAR_GAPS`] and blanked out (replaced by
//! spaces, so lines and columns stay right) before parsing; a unit test proves each gap is still
//! real, so the list shrinks when the grammar catches up. Nothing else is tolerated.

use std::fmt;
use std::path::{Path, PathBuf};

use tree_sitter::{Node, Parser};

/// One syntax error: where it is and what the parser saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// The file (as given).
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// `ERROR` (unparseable text) or `MISSING <token>` (the parser had to invent a token).
    pub kind: String,
    /// The offending source line, trimmed.
    pub source_line: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: Swift syntax error ({}): {}",
            self.file.display(),
            self.line,
            self.column,
            self.kind,
            self.source_line
        )
    }
}

/// The outcome of checking a set of files.
#[derive(Debug, Default)]
pub struct Report {
    /// How many files were parsed.
    pub files: usize,
    /// Every syntax error found, in file order.
    pub errors: Vec<SyntaxError>,
}

/// Valid Swift that tree-sitter-swift 0.7.4 rejects: `(text, part)` pairs; in every occurrence
/// of `text`, `part` is blanked before parsing.
///
/// - The uniffi 0.32 Swift generator hides its internal helpers from DocC with
///   `#if swift(>=5.8)` / `@_documentation(visibility: private)` / `#endif` on the lines before
///   a declaration. The grammar cannot parse an attribute that stands alone in an `#if` block,
///   detached from its declaration; without the attribute the block is empty and parses.
/// - uniffi's foreign-trait glue writes `let writeReturn = { () }` (a closure returning the
///   empty tuple); the grammar rejects `()` as a closure's only statement.
pub const GRAMMAR_GAPS: &[(&str, &str)] = &[
    (
        "@_documentation(visibility: private)",
        "@_documentation(visibility: private)",
    ),
    (
        "@_documentation(visibility: internal)",
        "@_documentation(visibility: internal)",
    ),
    ("= { () }", "()"),
];

/// `source` with every [`GRAMMAR_GAPS`] occurrence blanked (same length, so lines and columns
/// stay right).
pub fn blank_grammar_gaps(source: &str) -> String {
    let mut out = source.to_owned();
    for (text, part) in GRAMMAR_GAPS {
        let blanked = text.replacen(part, &" ".repeat(part.len()), 1);
        out = out.replace(text, &blanked);
    }
    out
}

/// A parser for Swift; fails if the grammar's ABI does not fit the tree-sitter runtime.
pub fn swift_parser() -> Result<Parser, String> {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_swift::LANGUAGE.into())
        .map_err(|e| {
            format!("tree-sitter-swift is incompatible with the tree-sitter runtime: {e}")
        })?;
    Ok(parser)
}

/// Parses `source` (named `file` in messages) and returns its syntax errors, after blanking
/// the known [`GRAMMAR_GAPS`].
pub fn check_source(parser: &mut Parser, file: &Path, source: &str) -> Vec<SyntaxError> {
    check_exact(parser, file, &blank_grammar_gaps(source))
}

/// Parses `source` as it is (no gap blanking).
fn check_exact(parser: &mut Parser, file: &Path, source: &str) -> Vec<SyntaxError> {
    let Some(tree) = parser.parse(source, None) else {
        return vec![SyntaxError {
            file: file.to_path_buf(),
            line: 1,
            column: 1,
            kind: "parser gave up".into(),
            source_line: String::new(),
        }];
    };
    let mut errors = Vec::new();
    if tree.root_node().has_error() {
        collect_errors(tree.root_node(), file, source, &mut errors);
    }
    errors
}

fn collect_errors(node: Node<'_>, file: &Path, source: &str, errors: &mut Vec<SyntaxError>) {
    if node.is_error() || node.is_missing() {
        let position = node.start_position();
        let kind = if node.is_missing() {
            format!("MISSING {}", node.kind())
        } else {
            "ERROR".to_owned()
        };
        errors.push(SyntaxError {
            file: file.to_path_buf(),
            line: position.row + 1,
            column: position.column + 1,
            kind,
            source_line: source
                .lines()
                .nth(position.row)
                .unwrap_or_default()
                .trim()
                .to_owned(),
        });
        // Errors nested in an ERROR node are the same mistake: report the outermost only.
        if node.is_error() {
            return;
        }
    }
    if !node.has_error() {
        return;
    }
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        collect_errors(child, file, source, errors);
    }
}

/// Parses every file in `files`.
pub fn check_files(files: &[PathBuf]) -> Result<Report, String> {
    let mut parser = swift_parser()?;
    let mut report = Report::default();
    for file in files {
        let source = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        report.files += 1;
        report
            .errors
            .extend(check_source(&mut parser, file, &source));
    }
    Ok(report)
}

/// Adds every `*.swift` file below `dir` (if it exists) to `out`, skipping SwiftPM/Xcode
/// build directories.
pub fn collect_swift_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if !dir.is_dir() {
        return Ok(());
    }
    let build_dir = |e: &walkdir::DirEntry| {
        e.depth() > 0
            && e.file_type().is_dir()
            && matches!(
                e.file_name().to_str(),
                Some(".build" | "DerivedData" | ".swiftpm")
            )
    };
    for entry in walkdir::WalkDir::new(dir)
        .follow_links(true)
        .into_iter()
        .filter_entry(|e| !build_dir(e))
    {
        let entry = entry?;
        if !entry.file_type().is_dir() && entry.file_name().to_string_lossy().ends_with(".swift") {
            out.push(entry.into_path());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(source: &str) -> Vec<SyntaxError> {
        let mut parser = swift_parser().expect("grammar ABI fits the runtime");
        check_source(&mut parser, Path::new("snippet.swift"), source)
    }

    #[test]
    fn valid_swift_passes() {
        let source = r#"
import Foundation

/// A documented type.
public final class Greeter: NSObject, URLSessionDelegate {
    private let name: String
    public init(name: String) { self.name = name }

    public func greet() async throws -> String {
        guard !name.isEmpty else { throw CocoaError(.featureUnsupported) }
        return "hello \(name)"
    }
}
"#;
        assert_eq!(check(source), vec![]);
    }

    #[test]
    fn broken_swift_is_rejected_with_its_line() {
        // Line 3: an unbalanced parenthesis in a function signature.
        let source = "import Foundation\n\nfunc broken(a: Int -> Int {\n    return a\n}\n";
        let errors = check(source);
        assert!(!errors.is_empty(), "a broken snippet must be rejected");
        assert_eq!(errors[0].line, 3, "{errors:?}");
        assert!(errors[0].to_string().starts_with("snippet.swift:3:"));
    }

    #[test]
    fn grammar_gaps_are_still_gaps_and_blanking_keeps_other_errors() {
        let mut parser = swift_parser().unwrap();
        // The shapes uniffi generates (lines 1-6 each).
        let samples = [
            "extension S {\n#if swift(>=5.8)\n    @_documentation(visibility: private)\n#endif\n    func f() {}\n}\n",
            "extension S {\n#if swift(>=5.8)\n    @_documentation(visibility: internal)\n#endif\n    func f() {}\n}\n",
            "func f() {\n    let x = 1\n    let writeReturn = { () }\n    g(writeReturn)\n    _ = x\n}\n",
        ];
        assert_eq!(samples.len(), GRAMMAR_GAPS.len());
        for (source, (gap, _)) in samples.iter().zip(GRAMMAR_GAPS) {
            assert!(source.contains(gap));
            // If this fails, the grammar learned the construct: drop it from GRAMMAR_GAPS.
            assert!(
                !check_exact(&mut parser, Path::new("gap.swift"), source).is_empty(),
                "tree-sitter-swift now parses `{gap}`: remove it from GRAMMAR_GAPS"
            );
            assert_eq!(check(source), vec![], "{gap} must be tolerated");
            // An error on another line of the same file is still reported, at its line.
            let broken = format!("{source}let x = (1, \n");
            let errors = check(&broken);
            assert!(!errors.is_empty());
            assert!(errors.iter().all(|e| e.line >= 7), "{errors:?}");
        }
    }

    #[test]
    fn missing_closing_brace_is_rejected() {
        let errors = check("struct S {\n    var x = 1\n");
        assert!(!errors.is_empty(), "an unclosed struct must be rejected");
    }

    #[test]
    fn collects_swift_files_recursively_and_skips_build_dirs() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("Sources/A")).unwrap();
        std::fs::create_dir_all(dir.path().join(".build/x")).unwrap();
        std::fs::write(dir.path().join("Sources/A/a.swift"), "let a = 1\n").unwrap();
        std::fs::write(dir.path().join("Sources/A/notes.md"), "# no").unwrap();
        std::fs::write(dir.path().join(".build/x/b.swift"), "let b = (\n").unwrap();
        let mut files = Vec::new();
        collect_swift_files(dir.path(), &mut files).unwrap();
        assert_eq!(files, vec![dir.path().join("Sources/A/a.swift")]);
        let report = check_files(&files).unwrap();
        assert_eq!((report.files, report.errors.len()), (1, 0));
    }
}
