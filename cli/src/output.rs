//! Output helpers shared by the subcommands.

use clap::ValueEnum;

/// Text for people, JSON for tools.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human-readable text.
    #[default]
    Text,
    /// JSON on stdout.
    Json,
}

/// Like `println!`, but a closed stdout (`mamori ... | head`) is not a panic.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// Prints `value` as pretty JSON.
pub fn print_json(value: &impl serde::Serialize) {
    crate::outln!(
        "{}",
        serde_json::to_string_pretty(value).expect("output values serialise")
    );
}

/// Writes `text` to `path`, or to stdout when there is none (a closed stdout
/// is not an error). A file that cannot be written is reported as `cmd` and
/// gives exit status 2.
pub fn write_out(cmd: &str, path: Option<&std::path::Path>, text: &str) -> Result<(), u8> {
    use std::io::Write as _;
    match path {
        Some(p) => std::fs::write(p, text).map_err(|e| {
            eprintln!("mamori {cmd}: cannot write {}: {e}", p.display());
            2
        }),
        None => {
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
            Ok(())
        }
    }
}

/// Reports bad input and returns exit status 2.
pub fn bad_input(msg: impl std::fmt::Display) -> u8 {
    eprintln!("mamori: {msg}");
    2
}
