//! Output helpers shared by the subcommands: stdout that tolerates a closed
//! pipe, JSON written as it is produced, and the one error format of every
//! command (`mamori <command>: <what>: <why>`, then a hint where one helps).

use std::sync::OnceLock;

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

/// Prints `value` as pretty JSON, streamed to stdout through a buffer (no
/// copy of the whole document in memory).
pub fn print_json(value: &impl serde::Serialize) {
    use std::io::Write as _;
    let mut w = std::io::BufWriter::new(std::io::stdout().lock());
    // A closed stdout is not an error (see `outln!`).
    let _ = serde_json::to_writer_pretty(&mut w, value);
    let _ = w.write_all(b"\n");
    let _ = w.flush();
}

/// Streams output to `path`, or to stdout when there is none: `write` gets a
/// buffered writer. A closed stdout is not an error; a file that cannot be
/// written is reported and gives exit status 2.
pub fn write_with(
    path: Option<&std::path::Path>,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<(), u8> {
    use std::io::Write as _;
    match path {
        Some(p) => {
            let res = std::fs::File::create(p).and_then(|f| {
                let mut w = std::io::BufWriter::new(f);
                write(&mut w)?;
                w.flush()
            });
            res.map_err(|e| fail(p.display(), io_reason(&e)))
        }
        None => {
            let mut w = std::io::BufWriter::new(std::io::stdout().lock());
            let _ = write(&mut w).and_then(|()| w.flush());
            Ok(())
        }
    }
}

/// Writes `text` to `path`, or to stdout when there is none.
pub fn write_out(path: Option<&std::path::Path>, text: &str) -> Result<(), u8> {
    write_with(path, |w| w.write_all(text.as_bytes()))
}

static COMMAND: OnceLock<String> = OnceLock::new();

/// Records the running command (`audit`, `device check`) for error messages.
pub fn set_command(name: String) {
    let _ = COMMAND.set(name);
}

/// `mamori <command>`: the prefix of every message.
pub fn prefix() -> String {
    match COMMAND.get() {
        Some(c) if !c.is_empty() => format!("mamori {c}"),
        _ => "mamori".to_owned(),
    }
}

/// Reports `what: why` as the running command and returns exit status 2.
pub fn fail(what: impl std::fmt::Display, why: impl std::fmt::Display) -> u8 {
    bad_input(format_args!("{what}: {why}"))
}

/// Reports bad input (`msg` is `what: why`) and returns exit status 2.
pub fn bad_input(msg: impl std::fmt::Display) -> u8 {
    eprintln!("{}: {msg}", prefix());
    crate::exit::INPUT
}

/// Like [`bad_input`], then a hint when the file at `path` is something other
/// than what the command expected (`expected`).
pub fn bad_file(
    path: &std::path::Path,
    expected: crate::hint::Kind,
    msg: impl std::fmt::Display,
) -> u8 {
    let code = bad_input(msg);
    if let Some(h) = crate::hint::for_file(path, expected) {
        eprintln!("  hint: {h}");
    }
    code
}

pub use mamori::io_reason;

/// Reads a file; the error is `FILE: reason` in plain words.
pub fn read(path: &std::path::Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {}", path.display(), io_reason(&e)))
}
