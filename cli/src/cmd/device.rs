//! `mamori device`: evaluate a device facts snapshot against a policy, or
//! probe this machine.
//!
//! `check` is what a security team or a partner bank runs on a facts file
//! exported from a phone: the same facts, policy and date give the same
//! verdict (and the same hashes) as on the device.
//!
//! Exit status of `check` ([`crate::exit`]): 0 allow, 3 warn, 1 block, 2 bad input.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use mamori::device::{
    DEFAULT_POLICY_TOML, DeviceDecision, DeviceEvidence, DeviceFact, DeviceFacts, DevicePlatform,
    DevicePolicy, DeviceVerdict, FactState, ProbeConfig, android_attested_facts,
    apple_attested_facts, evaluate, failed_attestation, run_probes,
};

use crate::hint::Kind;
use crate::output::{Format, bad_file, bad_input};

/// Arguments of `mamori device`.
#[derive(Args, Debug)]
pub struct DeviceArgs {
    #[command(subcommand)]
    command: DeviceCommand,
}

#[derive(Subcommand, Debug)]
enum DeviceCommand {
    /// Evaluate a facts snapshot (JSON) against a device policy (TOML or JSON).
    ///
    /// Exit status: 0 allow, 3 warn, 1 block, 2 bad input.
    #[command(after_help = crate::exit::help(&[
        "mamori device check --facts examples/device/pixel-clean.json --policy examples/device/bank-policy.toml --at 2026-01-15",
        "mamori device check --facts facts.json --policy policy.toml --format json",
        "mamori device check --facts facts.json --policy policy.toml --attestation chain.pem --challenge-b64 SERVER_NONCE_B64",
    ]))]
    Check {
        /// Facts snapshot, as written by `mamori device probe --format json`
        /// or exported by the SDK.
        #[arg(long)]
        facts: PathBuf,
        /// Device policy; `.json` is read as JSON, anything else as TOML.
        #[arg(long)]
        policy: PathBuf,
        /// Evaluation date, YYYY-MM-DD or RFC 3339 (its UTC date); default: today.
        /// Also the attestation's verification time.
        #[arg(long, value_parser = crate::args::at)]
        at: Option<time::OffsetDateTime>,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// A hardware attestation of the same device, verified here and merged
        /// into the facts (attested values win; contradictions block): an
        /// Android Key Attestation chain (PEM, leaf first) or an App Attest
        /// object (CBOR or base64). Checked with the flags below, as
        /// `mamori attest verify` does.
        #[arg(long)]
        attestation: Option<PathBuf>,
        /// With an Android `--attestation`: accept it without checking its
        /// challenge (a replayed chain then verifies). Without this flag a
        /// challenge flag is required.
        #[arg(long, requires = "attestation")]
        no_challenge: bool,
        /// The facts file is a snapshot this server stored itself after
        /// verifying its attestation: keep its attested evidence. Without it
        /// evidence claiming `"source": "attestation"` is the device's word
        /// and is dropped.
        #[arg(long, conflicts_with = "attestation")]
        stored_snapshot: bool,
        #[command(flatten)]
        checks: Box<super::attest::Checks>,
    },
    /// Run the Rust probes on this machine and print the facts.
    ///
    /// The JSON output is valid `--facts` input for `check`.
    #[command(after_help = crate::exit::help(&[
        "mamori device probe",
        "mamori device probe --format json --no-ports > facts.json",
    ]))]
    Probe {
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Platform whose indicators are checked (default: this build's).
        #[arg(long, value_enum)]
        platform: Option<PlatformArg>,
        /// Filesystem root to probe (default `/`).
        #[arg(long, default_value = "/")]
        fs_root: PathBuf,
        /// Proc root to probe (default `/proc`).
        #[arg(long, default_value = "/proc")]
        proc_root: PathBuf,
        /// Skip the loopback port probes.
        #[arg(long)]
        no_ports: bool,
        /// Total time budget in milliseconds.
        #[arg(long, default_value_t = 250)]
        budget_ms: u64,
    },
    /// Print the shipped FinTech default policy (TOML).
    #[command(after_help = crate::exit::help(&["mamori device default-policy > device-policy.toml"]))]
    DefaultPolicy,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum PlatformArg {
    Android,
    Ios,
    Other,
}

fn out(text: &str) {
    crate::outln!("{text}");
}

/// Runs `mamori device`; returns the exit status.
pub fn run(args: DeviceArgs) -> u8 {
    match args.command {
        DeviceCommand::Check {
            facts,
            policy,
            at,
            format,
            attestation,
            no_challenge,
            stored_snapshot,
            checks,
        } => {
            let load = if stored_snapshot {
                DeviceFacts::from_stored_json
            } else {
                DeviceFacts::from_json
            };
            check(
                facts,
                policy,
                at,
                format,
                load,
                attestation.map(|a| (a, *checks, no_challenge)),
            )
        }
        DeviceCommand::Probe {
            format,
            platform,
            fs_root,
            proc_root,
            no_ports,
            budget_ms,
        } => {
            let mut cfg = ProbeConfig::system();
            cfg.fs_root = fs_root;
            cfg.proc_root = proc_root;
            cfg.probe_ports = !no_ports;
            cfg.budget = Duration::from_millis(budget_ms);
            if let Some(p) = platform {
                cfg.platform = match p {
                    PlatformArg::Android => DevicePlatform::Android,
                    PlatformArg::Ios => DevicePlatform::Ios,
                    PlatformArg::Other => DevicePlatform::Other,
                };
            }
            if !cfg.fs_root.is_dir() {
                return bad_input(format!("{}: not a directory", cfg.fs_root.display()));
            }
            let facts = run_probes(&cfg);
            match format {
                Format::Json => {
                    out(&serde_json::to_string_pretty(&facts).expect("facts serialise"))
                }
                Format::Text => print_facts(&facts),
            }
            0
        }
        DeviceCommand::DefaultPolicy => {
            out(DEFAULT_POLICY_TOML.trim_end());
            0
        }
    }
}

fn check(
    facts: PathBuf,
    policy: PathBuf,
    at_time: Option<time::OffsetDateTime>,
    format: Format,
    load: fn(&str) -> Result<DeviceFacts, mamori::device::FactsError>,
    attestation: Option<(PathBuf, super::attest::Checks, bool)>,
) -> u8 {
    let at = at_time.map(|t| t.date());
    let text = match crate::output::read(&facts).and_then(|b| {
        String::from_utf8(b).map_err(|_| format!("{}: not UTF-8 text", facts.display()))
    }) {
        Ok(t) => t,
        Err(e) => return bad_file(&facts, Kind::Facts, e),
    };
    let f = match load(&text) {
        Ok(f) => f,
        Err(e) => {
            return bad_file(
                &facts,
                Kind::Facts,
                format_args!("{}: {e}", facts.display()),
            );
        }
    };
    let p = match DevicePolicy::load(&policy) {
        Ok(p) => p,
        Err(e) => return bad_file(&policy, Kind::DevicePolicy, e),
    };
    let f = match attestation {
        None => f,
        Some((file, checks, no_challenge)) => match attested(&file, &checks, no_challenge, at_time)
        {
            Ok(a) => f.with_attested(a),
            Err(e) => return bad_input(e),
        },
    };
    // The only clock read: evaluation itself takes the date as input.
    let at = at.unwrap_or_else(|| time::OffsetDateTime::now_utc().date());
    let v = evaluate(&f, &p, at);
    match format {
        Format::Json => out(&v.to_json()),
        Format::Text => {
            print_verdict(&v);
            let attested = f.attested();
            if !attested.is_empty() {
                out(&format!("attested:      {}", attested.join(", ")));
                out("self-reported: every other fact");
            }
        }
    }
    match v.decision {
        DeviceDecision::Allow => crate::exit::OK,
        DeviceDecision::Block => crate::exit::FAIL,
        DeviceDecision::Warn => crate::exit::WARN,
    }
}

/// The facts an attestation file proves, verified with `checks` at `at`
/// (default now); one that fails verification gives the
/// `attestation.failed` indicator. `Err` is bad input.
fn attested(
    file: &std::path::Path,
    checks: &super::attest::Checks,
    no_challenge: bool,
    at: Option<time::OffsetDateTime>,
) -> Result<DeviceFacts, String> {
    let time = super::attest::time_of(at)?;
    let head = crate::output::read(file)?;
    if head.windows(11).any(|w| w == b"-----BEGIN ") {
        if !checks.has_challenge() && !no_challenge {
            return Err(format!(
                "{}: an Android attestation is checked against the challenge the server issued: \
                 pass --challenge-b64 or --challenge (or --no-challenge to accept a replayable one)",
                file.display()
            ));
        }
        Ok(
            match super::attest::verify_android_file(checks, file, time)? {
                Ok(a) => android_attested_facts(&a),
                Err(e) => failed_attestation(DevicePlatform::Android, e.step(), &e.to_string()),
            },
        )
    } else {
        Ok(
            match super::attest::verify_apple_file(checks, file, time)? {
                Ok(a) => apple_attested_facts(&a),
                Err(e) => failed_attestation(DevicePlatform::Ios, e.step(), &e.to_string()),
            },
        )
    }
}

fn upper(d: DeviceDecision) -> String {
    d.as_str().to_uppercase()
}

fn evidence_line(e: &DeviceEvidence) -> String {
    use mamori::device::EvidenceSource as S;
    let mut parts = vec![format!(
        "[{}]",
        match e.source {
            S::Probe => "probe",
            S::Platform => "platform",
            S::Attestation => "attestation",
        }
    )];
    for (k, v) in [
        ("path", &e.path),
        ("property", &e.property),
        ("value", &e.value),
        ("detail", &e.detail),
    ] {
        if let Some(v) = v {
            parts.push(format!("{k}={v}"));
        }
    }
    parts.join(" ")
}

fn print_verdict(v: &DeviceVerdict) {
    out(&format!(
        "verdict: {}  (policy {}, evaluated {}, indicators {})",
        upper(v.decision),
        v.policy_name,
        v.evaluated_at,
        v.indicator_table
    ));
    out(&format!("facts sha256:  {}", v.facts_sha256));
    out(&format!("policy sha256: {}", v.policy_sha256));
    for f in &v.findings {
        out("");
        let mut refs = vec![f.guideline.to_string()];
        refs.extend(f.masvs.iter().cloned());
        refs.extend(f.maswe.iter().cloned());
        out(&format!(
            "{} {} [{}]",
            upper(f.decision),
            f.rule,
            refs.join(", ")
        ));
        out(&format!("  criterion:   {}", f.criterion));
        out(&format!("  risk:        {}", f.risk));
        for e in &f.evidence {
            out(&format!("  evidence:    {}", evidence_line(e)));
        }
        out(&format!("  remediation: {}", f.remediation));
    }
    out("");
    for c in &v.coverage {
        out(&format!(
            "coverage {:<9} present {:>3}  absent {:>3}  unknown {:>3}  allow-listed {}",
            c.class.as_str(),
            c.present,
            c.absent,
            c.unknown,
            c.allowlisted
        ));
    }
}

fn print_facts(f: &DeviceFacts) {
    let show = |name: &str, fact: &DeviceFact| {
        let state = match fact.state {
            FactState::Present => "present",
            FactState::Absent => "absent",
            FactState::Unknown => "unknown",
        };
        let value = fact
            .value
            .as_deref()
            .map(|v| format!(" = {v}"))
            .unwrap_or_default();
        out(&format!("{name:<20} {state}{value}"));
    };
    out(&format!("platform             {:?}", f.platform).to_lowercase());
    show("os_version", &f.os_version);
    show("android_api_level", &f.android_api_level);
    show("security_patch", &f.security_patch);
    let mut present = 0;
    let mut unknown = 0;
    for o in &f.indicators {
        match o.state {
            FactState::Present => {
                present += 1;
                out(&format!(
                    "indicator present    {} ({}, {:?}) {}",
                    o.id,
                    o.class.as_str(),
                    o.strength,
                    o.evidence.first().map(evidence_line).unwrap_or_default()
                ));
            }
            FactState::Unknown => unknown += 1,
            FactState::Absent => {}
        }
    }
    out(&format!(
        "indicators: {} checked, {present} present, {unknown} unknown",
        f.indicators.len()
    ));
}
