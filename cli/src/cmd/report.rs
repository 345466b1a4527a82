//! `mamori report` (placeholder until the evidence report lands).

use clap::Args;

/// Arguments of `mamori report`.
#[derive(Args, Debug)]
pub struct ReportArgs {}

/// Runs `mamori report`.
pub fn run(_args: ReportArgs) -> u8 {
    2
}
