//! `mamori config`: resolve which rule applies to a host, and check policies.

use std::path::PathBuf;

use clap::Subcommand;
use mamori::pinning::{Host, PinPolicy};
use serde::Serialize;

use crate::output::{Format, bad_input, print_json};

/// `mamori config` subcommands.
#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Which domain rule applies to HOST (longest match).
    Resolve {
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// The policy file.
        policy: PathBuf,
        /// The host to resolve.
        host: String,
    },
    /// Validate a policy: exit 0 when valid, 2 with every error otherwise.
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
                crate::outln!(
                    "{}: valid ({} domain rule(s), {} pin(s), profile {:?})",
                    policy.display(),
                    p.domains().len(),
                    pins,
                    p.profile()
                );
                0
            }
            Err(e) => bad_input(e),
        },
        ConfigCommand::Resolve {
            format,
            policy,
            host,
        } => {
            let p = match PinPolicy::load(&policy) {
                Ok(p) => p,
                Err(e) => return bad_input(e),
            };
            let h = match Host::parse(&host) {
                Ok(h) => h,
                Err(e) => return bad_input(format!("host: {e}")),
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
