//! `mamori`: audit pinning configurations, verify chains and produce evidence
//! for partner banks (guideline DEV-4 and related items).
//!
//! Exit status: 0 success (allow / report / valid), 1 a blocking result,
//! 2 bad usage or bad input; subcommands document any other codes.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod args;
mod cmd;
mod output;

/// Mamori: TLS pinning, device security level and evidence for FinTech apps.
#[derive(Parser, Debug)]
#[command(name = "mamori", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print the SPKI pin of every certificate in PEM or DER files.
    Pin(cmd::pin::PinArgs),
    /// Signed pin-set updates: keygen, sign, verify (docs/pin-updates.md).
    #[command(subcommand)]
    PinUpdate(cmd::pin_update::PinUpdateCommand),
    /// Verify a certificate chain for a host against a pin policy.
    Verify(cmd::verify::VerifyArgs),
    /// Inspect and validate pin policies.
    #[command(subcommand)]
    Config(cmd::config::ConfigCommand),
    /// Device OS security level: evaluate facts against a policy, or probe this machine.
    Device(cmd::device::DeviceArgs),
    /// Convert a pinning configuration (NSC, TrustKit, ATS, OkHttp, Mamori).
    Convert(cmd::convert::ConvertArgs),
    /// Audit pinning configurations: findings as text, JSON or SARIF.
    Audit(cmd::audit::AuditArgs),
    /// Render the evidence report (Markdown or HTML) for partner banks.
    Report(cmd::report::ReportArgs),
    /// Verify hardware attestations: Android Key Attestation, Apple App Attest.
    Attest(cmd::attest::AttestArgs),
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
        Command::Pin(args) => cmd::pin::run(args),
        Command::PinUpdate(c) => cmd::pin_update::run(c),
        Command::Verify(args) => cmd::verify::run(args),
        Command::Config(c) => cmd::config::run(c),
        Command::Device(args) => cmd::device::run(args),
        Command::Convert(args) => cmd::convert::run(args),
        Command::Audit(args) => cmd::audit::run(args),
        Command::Report(args) => cmd::report::run(args),
        Command::Attest(args) => cmd::attest::run(args),
    };
    ExitCode::from(code)
}
