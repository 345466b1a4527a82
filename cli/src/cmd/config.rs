//! `mamori config`: resolve which rule applies to a host, and check policies.

use std::path::PathBuf;

use clap::Subcommand;
use mamori::pinning::{Host, PinPolicy};
use serde::Serialize;

use crate::hint::Kind;
use crate::output::{Format, bad_file, bad_input, print_json};

/// `mamori config` subcommands.
#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Which domain rule applies to HOST (longest match).
    #[command(after_help = crate::exit::help(&[
        "mamori config resolve examples/pinning/policy.toml api.example.com",
        "mamori config resolve --format json examples/pinning/policy.toml cdn.api.example.com",
    ]))]
    Resolve {
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// The policy file.
        policy: PathBuf,
        /// The host to resolve.
        host: String,
    },
    /// Validate a policy: exit 0 when valid, 3 when valid but it pins
    /// nothing, 2 with every error otherwise.
    #[command(after_help = crate::exit::help(&["mamori config check examples/pinning/policy.toml"]))]
    Check {
        /// The policy file.
        policy: PathBuf,
    },
}

#[derive(Serialize)]
struct Resolved {
    query: String,
    /// The matched rule's host as written, or null.
    host: Option<String>,
    pattern: Option<String>,
    include_subdomains: Option<bool>,
    pins: Vec<String>,
    expires: Option<String>,
    report_only: Option<bool>,
}

/// Runs a `mamori config` subcommand.
pub fn run(cmd: ConfigCommand) -> u8 {
    match cmd {
        ConfigCommand::Check { policy } => match PinPolicy::load(&policy) {
            Ok(p) => {
                let pins: usize = p.domains().iter().map(|d| d.pins().len()).sum();
                if pins == 0 {
                    // Valid, and useless: an app shipping it pins no host.
                    crate::outln!(
                        "{}: valid but pins nothing ({} domain rule(s), 0 pins)",
                        policy.display(),
                        p.domains().len()
                    );
                    eprintln!(
                        "{}: {}: warning: the policy pins no host; add [[domain]] rules with \
                         two pins each (DEV-4, BP-5)",
                        crate::output::prefix(),
                        policy.display()
                    );
                    return crate::exit::WARN;
                }
                crate::outln!(
                    "{}: valid ({} domain rule(s), {} pin(s), profile {:?})",
                    policy.display(),
                    p.domains().len(),
                    pins,
                    p.profile()
                );
                0
            }
            Err(e) => bad_file(&policy, Kind::PinPolicy, e),
        },
        ConfigCommand::Resolve {
            format,
            policy,
            host,
        } => {
            let p = match PinPolicy::load(&policy) {
                Ok(p) => p,
                Err(e) => return bad_file(&policy, Kind::PinPolicy, e),
            };
            let h = match Host::parse(&host) {
                Ok(h) => h,
                Err(e) => return bad_input(format_args!("{host}: {e}")),
            };
            let rule = p.rule_for(&h);
            let out = Resolved {
                query: h.to_string(),
                host: rule.map(|r| r.host().to_owned()),
                pattern: rule.map(|r| r.pattern().to_string()),
                include_subdomains: rule.map(|r| r.include_subdomains()),
                pins: rule
                    .map(|r| r.pins().iter().map(|p| p.to_string()).collect())
                    .unwrap_or_default(),
                expires: rule.and_then(|r| r.expires_text().map(str::to_owned)),
                report_only: rule.map(|r| r.report_only()),
            };
            match format {
                Format::Json => print_json(&out),
                Format::Text => match rule {
                    Some(r) => {
                        crate::outln!(
                            "{} -> rule {} (pattern {})",
                            out.query,
                            r.host(),
                            r.pattern()
                        );
                        for pin in &out.pins {
                            crate::outln!("  {pin}");
                        }
                    }
                    None => crate::outln!("{} -> no rule (not pinned)", out.query),
                },
            }
            0
        }
    }
}
