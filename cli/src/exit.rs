//! The one exit-status table of every `mamori` command, and the help text
//! that documents it (each command's `--help` ends with it, and the README
//! repeats it).
//!
//! Tools drive `mamori` from CI and back ends: a status must mean the same
//! whichever command returned it, so "warn" and "the network failed" are
//! codes of their own rather than reusing each other's number.

/// Success: allow, verified, valid, accepted, no finding at or above `--fail-on`.
pub const OK: u8 = 0;
/// A blocking result: block, verification failed, update refused, findings
/// at or above `--fail-on`.
pub const FAIL: u8 = 1;
/// Bad usage or bad input (unreadable or invalid file, bad flag value).
pub const INPUT: u8 = 2;
/// Usable, with a warning: a device verdict of warn, a policy that pins nothing.
pub const WARN: u8 = 3;
/// A network failure: a `--live` chain could not be fetched.
pub const NETWORK: u8 = 4;

/// The table as printed at the end of every `--help`.
pub const TABLE: &str = "\
Exit status (the same for every mamori command):
  0  success: allow, verified, valid, accepted, no finding at or above --fail-on
  1  a blocking result: block, verification failed, update refused, findings at or above --fail-on
  2  bad usage or bad input (the message names the file and the reason)
  3  warn: a device verdict of warn; `config check` on a valid policy that pins nothing
  4  network failure: a --live chain could not be fetched";

/// `after_help` text: the examples of one command, then the exit table.
pub fn help(examples: &[&str]) -> String {
    let mut s = String::from("Examples:\n");
    for e in examples {
        s.push_str("  ");
        s.push_str(e);
        s.push('\n');
    }
    s.push('\n');
    s.push_str(TABLE);
    s
}
