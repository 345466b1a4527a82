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

/// Reports bad input and returns exit status 2.
pub fn bad_input(msg: impl std::fmt::Display) -> u8 {
    eprintln!("mamori: {msg}");
    2
}
