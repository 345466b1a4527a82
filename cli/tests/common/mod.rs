//! What every CLI process test shares: running the real `mamori` binary.

use std::process::{Command, Output};

/// Runs the built `mamori` binary with `args` and collects its exit status and output.
pub fn mamori(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mamori"))
        .args(args)
        .output()
        .expect("the mamori binary runs")
}

/// Runs the built `mamori` binary in `dir` (relative paths in `args` resolve there).
#[allow(dead_code)] // not every test file runs in a directory
pub fn mamori_in(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mamori"))
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .expect("the mamori binary runs")
}
