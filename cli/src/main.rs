//! `mamori`: audit pinning configurations, verify chains and produce evidence
//! for partner banks (guideline DEV-4 and related items).
//!
//! Every command shares one `--at` grammar ([`args::at`]), one error format
//! ([`output`]) and one exit-status table ([`exit`]).

use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

mod args;
mod cmd;
mod exit;
mod hint;
mod output;

/// Mamori: TLS pinning, device security level and evidence for FinTech apps.
#[derive(Parser, Debug)]
#[command(name = "mamori", version, about, long_about = None, after_help = exit::help(&[
    "mamori pin examples/pinning/chain.pem",
    "mamori audit --fail-on high app/src/main/res/xml/network_security_config.xml Info.plist",
    "mamori device check --facts facts.json --policy examples/device/bank-policy.toml",
]))]
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

/// The subcommand path named on the command line (`device check`), as far
/// as it names subcommands: the prefix of every error message.
fn command_path(args: &[std::ffi::OsString]) -> String {
    let mut cmd = Cli::command();
    let mut path = Vec::new();
    for a in args.iter().skip(1) {
        let Some(a) = a.to_str() else { break };
        if a.starts_with('-') {
            continue;
        }
        match cmd.find_subcommand(a) {
            Some(sub) => {
                path.push(sub.get_name().to_owned());
                let sub = sub.clone();
                cmd = sub;
            }
            None => break,
        }
    }
    path.join(" ")
}

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    output::set_command(command_path(&args));
    let parsed = Cli::command()
        .try_get_matches_from(&args)
        .and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help, --version: stdout, success.
            let _ = e.print();
            return ExitCode::from(exit::OK);
        }
        Err(e) => {
            // clap's message in the one format: `mamori <command>: <what>: <why>`.
            let text = e.render().to_string();
            let text = text.strip_prefix("error: ").unwrap_or(&text);
            eprint!("{}: {text}", output::prefix());
            return ExitCode::from(exit::INPUT);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every leaf command, as its path (`device check`), with its clap command.
    fn leaves() -> Vec<(String, clap::Command)> {
        fn walk(prefix: &str, cmd: &clap::Command, out: &mut Vec<(String, clap::Command)>) {
            for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
                let path = format!("{prefix}{}", sub.get_name()).trim().to_owned();
                if sub.has_subcommands() {
                    walk(&format!("{path} "), sub, out);
                } else {
                    out.push((path, sub.clone()));
                }
            }
        }
        let mut out = Vec::new();
        walk("", &Cli::command(), &mut out);
        out
    }

    /// The README's CLI table: (command path, flags named in its first cell).
    fn readme_rows() -> Vec<(String, Vec<String>)> {
        let readme = include_str!("../../README.md");
        let table = readme
            .split("\n## CLI\n")
            .nth(1)
            .expect("the README has a CLI section");
        let names: Vec<String> = leaves().into_iter().map(|(p, _)| p).collect();
        let mut rows = Vec::new();
        for line in table.lines().take_while(|l| !l.starts_with("## ")) {
            let Some(cell) = line.strip_prefix("| `mamori ") else {
                continue;
            };
            let cell = &cell[..cell.find("` |").expect("a command cell ends with ` |")];
            let words: Vec<&str> = cell.split_whitespace().collect();
            let path = (1..=2)
                .rev()
                .map(|n| words[..n.min(words.len())].join(" "))
                .find(|p| names.contains(p))
                .unwrap_or_else(|| panic!("README row `mamori {cell}` names no command"));
            let flags = cell
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .filter(|w| w.starts_with("--") && w.len() > 2)
                .map(|w| w.trim_start_matches('-').to_owned())
                .collect();
            rows.push((path, flags));
        }
        rows
    }

    #[test]
    fn readme_cli_table_matches_the_commands_and_their_flags() {
        let rows = readme_rows();
        let mut wrong = Vec::new();
        for (path, cmd) in leaves() {
            let documented: Vec<&String> = rows
                .iter()
                .filter(|(p, _)| *p == path)
                .flat_map(|(_, f)| f)
                .collect();
            if !rows.iter().any(|(p, _)| *p == path) {
                wrong.push(format!("no row for `mamori {path}`"));
            }
            let flags: Vec<String> = cmd
                .get_arguments()
                .filter(|a| !a.is_hide_set())
                .filter_map(|a| a.get_long().map(str::to_owned))
                .filter(|l| l != "help")
                .collect();
            for f in &flags {
                if !documented.contains(&f) {
                    wrong.push(format!("`mamori {path}` lacks --{f}"));
                }
            }
            for f in documented {
                if !flags.contains(f) {
                    wrong.push(format!(
                        "`mamori {path}` names --{f}, which it does not take"
                    ));
                }
            }
        }
        assert!(wrong.is_empty(), "README's CLI table: {wrong:#?}");
    }

    #[test]
    fn every_command_help_has_an_example_and_the_exit_table() {
        for (path, cmd) in leaves() {
            let help = cmd
                .get_after_help()
                .map(|h| h.to_string())
                .unwrap_or_default();
            assert!(
                help.contains(&format!("Examples:\n  mamori {path}")),
                "`mamori {path} --help` has no example of itself: {help}"
            );
            assert!(help.contains(exit::TABLE), "`mamori {path} --help`");
        }
    }

    #[test]
    fn command_path_names_the_subcommands_only() {
        let args = |v: &[&str]| v.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        assert_eq!(
            command_path(&args(&["mamori", "device", "check", "--facts", "f"])),
            "device check"
        );
        assert_eq!(command_path(&args(&["mamori", "--version"])), "");
        assert_eq!(command_path(&args(&["mamori", "pin", "device"])), "pin");
    }
}
