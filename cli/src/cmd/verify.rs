//! `mamori verify`: run the pinning verifier on a chain from a file.

use std::path::PathBuf;
use std::time::SystemTime;

use clap::Args;
use mamori::pinning::certificates_from_bytes;
use mamori::pinning::{PinOutcome, PinPolicy, PinVerifier, Profile, TrustConfig};
use rustls_pki_types::{CertificateDer, UnixTime};
use serde::Serialize;

use crate::hint::Kind;
use crate::output::{Format, bad_file, bad_input, print_json};

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
#[command(after_help = crate::exit::help(&[
    "mamori verify --config examples/pinning/policy.toml --host api.example.com --chain examples/pinning/chain.pem --at 2026-06-01",
    "mamori verify --host example.com --chain served.pem --format json",
]))]
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
    /// Validation time, YYYY-MM-DD (00:00 UTC) or RFC 3339; default: now.
    #[arg(long, value_parser = crate::args::at)]
    at: Option<time::OffsetDateTime>,
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
            Err(e) => return bad_file(path, Kind::PinPolicy, e),
        },
        None => PinPolicy::unpinned(),
    };
    if let Some(roots) = &args.roots {
        let trust = crate::output::read(roots).and_then(|b| {
            TrustConfig::custom(&roots.display().to_string(), &b).map_err(|e| e.to_string())
        });
        match trust {
            Ok(trust) => policy = policy.with_trust(trust),
            Err(e) => return bad_file(roots, Kind::Certificates, e),
        }
    }
    match args.profile {
        Some(ProfileArg::Default) => policy = policy.with_profile(Profile::Default),
        Some(ProfileArg::Strict) => policy = policy.with_profile(Profile::Strict),
        None => {}
    }
    let now = match &args.at {
        Some(t) => match u64::try_from(t.unix_timestamp()) {
            Ok(secs) => UnixTime::since_unix_epoch(std::time::Duration::from_secs(secs)),
            Err(_) => return bad_input(format!("--at {t}: validation time is before 1970")),
        },
        None => UnixTime::since_unix_epoch(
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default(),
        ),
    };
    let chain = match crate::output::read(&args.chain).and_then(|b| {
        certificates_from_bytes(&b).map_err(|e| format!("{}: {e}", args.chain.display()))
    }) {
        Ok(c) if !c.is_empty() => c,
        Ok(_) => {
            return bad_file(
                &args.chain,
                Kind::Certificates,
                format_args!("{}: no certificate found", args.chain.display()),
            );
        }
        Err(e) => return bad_file(&args.chain, Kind::Certificates, e),
    };
    let chain: Vec<CertificateDer<'static>> = chain.into_iter().map(CertificateDer::from).collect();
    if let Err(e) = mamori::pinning::Host::parse(&args.host) {
        return bad_input(format_args!("--host {}: {e}", args.host));
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
    if d.outcome == PinOutcome::Block {
        crate::exit::FAIL
    } else {
        crate::exit::OK
    }
}
