//! What every CLI process test shares: running the real `mamori` binary.

use std::process::{Command, Output};

/// Runs the built `mamori` binary with `args` and collects its exit status and output.
pub fn mamori(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mamori"))
        .args(args)
        .output()
        .expect("the mamori binary runs")
}
