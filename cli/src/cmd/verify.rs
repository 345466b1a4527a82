//! `mamori verify`: run the pinning verifier on a chain from a file.

use std::path::PathBuf;
use std::time::SystemTime;

use clap::Args;
use mamori::pinning::certificates_from_bytes;
use mamori::pinning::{Outcome, PinPolicy, PinVerifier, Profile, TrustConfig};
use rustls_pki_types::{CertificateDer, UnixTime};
use serde::Serialize;

use crate::output::{Format, bad_input, print_json};

/// Validation profile chosen on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ProfileArg {
    /// The Web PKI baseline.
    Default,
    /// FinTech hardening.
    Strict,
}

/// Arguments of `mamori verify`.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Pin policy (TOML or JSON). Without it no pins apply.
    #[arg(long)]
    config: Option<PathBuf>,
    /// The host the chain is for.
    #[arg(long)]
    host: String,
    /// Port written into failure reports.
    #[arg(long, default_value_t = 443)]
    port: u16,
    /// The chain as PEM, leaf first, intermediates after.
    #[arg(long)]
    chain: PathBuf,
    /// Trust anchors (PEM) replacing the policy's; default: the policy's, or
    /// the bundled Mozilla roots.
    #[arg(long)]
    roots: Option<PathBuf>,
    /// Validation time (RFC 3339); default: now.
    #[arg(long)]
    at: Option<String>,
    /// Validation profile; default: the policy's.
    #[arg(long, value_enum)]
    profile: Option<ProfileArg>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(Serialize)]
struct Output<'a> {
    #[serde(flatten)]
    decision: &'a mamori::pinning::PinDecision,
    chain_pins: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    report: Option<&'a mamori::pinning::PinFailureReport>,
}

/// Runs `mamori verify`.
pub fn run(args: VerifyArgs) -> u8 {
    let mut policy = match &args.config {
        Some(path) => match PinPolicy::load(path) {
            Ok(p) => p,
            Err(e) => return bad_input(e),
        },
        None => PinPolicy::unpinned(),
    };
    if let Some(roots) = &args.roots {
        let trust = std::fs::read(roots)
            .map_err(|e| format!("{}: {e}", roots.display()))
            .and_then(|b| {
                TrustConfig::custom(&roots.display().to_string(), &b).map_err(|e| e.to_string())
            });
        match trust {
            Ok(trust) => policy = policy.with_trust(trust),
            Err(e) => return bad_input(e),
        }
    }
    match args.profile {
        Some(ProfileArg::Default) => policy = policy.with_profile(Profile::Default),
        Some(ProfileArg::Strict) => policy = policy.with_profile(Profile::Strict),
        None => {}
    }
    let now = match &args.at {
        Some(text) => {
            match time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
            {
                Ok(t) if t.unix_timestamp() >= 0 => UnixTime::since_unix_epoch(
                    std::time::Duration::from_secs(t.unix_timestamp() as u64),
                ),
                _ => {
                    return bad_input(format!(
                        "--at {text:?} is not an RFC 3339 date-time after 1970 (e.g. 2027-01-01T00:00:00Z)"
                    ));
                }
            }
        }
        None => UnixTime::since_unix_epoch(
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default(),
        ),
    };
    let chain = match std::fs::read(&args.chain)
        .map_err(|e| e.to_string())
        .and_then(|b| certificates_from_bytes(&b).map_err(|e| e.to_string()))
    {
        Ok(c) if !c.is_empty() => c,
        Ok(_) => return bad_input(format!("{}: no certificate found", args.chain.display())),
        Err(e) => return bad_input(format!("{}: {e}", args.chain.display())),
    };
    let chain: Vec<CertificateDer<'static>> = chain.into_iter().map(CertificateDer::from).collect();
    if let Err(e) = mamori::pinning::Host::parse(&args.host) {
        return bad_input(format!("--host: {e}"));
    }
    let verifier = PinVerifier::new(policy);
    let d = verifier.verify(&args.host, args.port, &chain, now);
    match args.format {
        Format::Json => print_json(&Output {
            decision: &d,
            chain_pins: d.chain_pins(),
            report: d.report.as_ref(),
        }),
        Format::Text => {
            crate::outln!("decision:    {}", d.outcome.as_str());
            crate::outln!("host:        {}", d.host);
            crate::outln!("chain valid: {}", d.chain_valid);
            crate::outln!(
                "pinned:      {}",
                d.rule
                    .as_deref()
                    .map_or("no".to_owned(), |r| format!("yes (rule {r})"))
            );
            if d.pinned {
                crate::outln!("pin matched: {}", d.pin_matched);
            }
            crate::outln!("reason:      {}", d.reason);
            crate::outln!(
                "{}:",
                if d.chain_verified {
                    "verified path"
                } else {
                    "presented chain (not verified)"
                }
            );
            for c in &d.chain {
                let mark = if d.known_pins.contains(&c.pin) {
                    " *pinned*"
                } else {
                    ""
                };
                crate::outln!(
                    "  {:<12} {}  {}{mark}",
                    format!("{:?}", c.position).to_lowercase(),
                    c.pin,
                    c.subject
                );
            }
            if let Some(r) = &d.report {
                let mut v = serde_json::to_value(r).expect("reports serialise");
                for key in ["validated-certificate-chain", "served-certificate-chain"] {
                    let n = v[key].as_array().map_or(0, Vec::len);
                    v[key] = serde_json::Value::String(format!(
                        "<{n} PEM certificate(s); see --format json>"
                    ));
                }
                crate::outln!("failure report (TrustKit format):");
                crate::outln!(
                    "{}",
                    serde_json::to_string_pretty(&v).expect("reports serialise")
                );
            }
        }
    }
    if d.outcome == Outcome::Block { 1 } else { 0 }
}
