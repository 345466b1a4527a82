//! `mamori`: audit pinning configurations and produce evidence.
//!
//! Exit status: 0 success, 1 a blocking result, 2 bad usage or bad input;
//! subcommands document any other codes.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

/// Mamori: TLS pinning, device security level and evidence for FinTech apps.
#[derive(Parser, Debug)]
#[command(name = "mamori", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Device OS security level: evaluate facts against a policy, or probe this machine.
    Device(cmd::device::DeviceArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let code = match cli.command {
        Command::Device(args) => cmd::device::run(args),
    };
    ExitCode::from(code)
}
