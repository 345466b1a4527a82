//! `mamori pin-update`: make update keys, sign pin-set updates and verify
//! them against a base policy as the app would (docs/pin-updates.md).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use clap::Subcommand;
use mamori::PolicyFormat;
use mamori::pinning::{
    PolicyDocument, UpdateKeys, UpdatePayload, UpdateRules, UpdateVerifier, sign_update,
};
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::output::{Format, bad_input, print_json, write_out};

const PEM_LABEL: &str = "PRIVATE KEY";

/// `mamori pin-update` subcommands.
#[derive(Subcommand, Debug)]
pub enum PinUpdateCommand {
    /// Make an Ed25519 update key: the private key (PKCS#8 PEM) goes to a
    /// new file with mode 0600; `KEY_ID BASE64_PUBLIC_KEY` is printed for
    /// the app's key list.
    #[command(after_help = crate::exit::help(&[
        "mamori pin-update keygen --out update-key.pem --key-id primary",
    ]))]
    Keygen {
        /// The private key file to create (never overwritten).
        #[arg(long)]
        out: PathBuf,
        /// The id printed with the public key.
        #[arg(long, default_value = "primary")]
        key_id: String,
    },
    /// Sign the exact bytes of a payload file; prints the envelope.
    #[command(after_help = crate::exit::help(&[
        "mamori pin-update sign --key update-key.pem --key-id primary --out update.json payload.json",
    ]))]
    Sign {
        /// Private key (PKCS#8, PEM or DER).
        #[arg(long)]
        key: PathBuf,
        /// The key id; must equal the payload's `key_id`.
        #[arg(long)]
        key_id: String,
        /// Write the envelope here instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
        /// The payload (JSON, `mamori-pin-update/1`).
        payload: PathBuf,
    },
    /// Verify an update as the app would: exit 0 accepted, 1 refused (with
    /// the check that failed), 2 bad input.
    #[command(after_help = crate::exit::help(&[
        "mamori pin-update verify --keys keys.txt --base examples/pinning/policy.toml --last-version 3 update.json",
    ]))]
    Verify {
        /// The embedded keys: `KEY_ID BASE64_PUBLIC_KEY` per line (two at least).
        #[arg(long)]
        keys: PathBuf,
        /// The base policy (TOML or JSON).
        #[arg(long)]
        base: PathBuf,
        /// The last accepted version on the device (refuse <= N).
        #[arg(long)]
        last_version: Option<u64>,
        /// The base policy allows updates to add domains.
        #[arg(long)]
        allow_new_domains: bool,
        /// The base policy allows report-only downgrades up to DAYS long.
        #[arg(long, value_name = "DAYS")]
        max_report_only: Option<u32>,
        /// Verification time, YYYY-MM-DD (00:00 UTC) or RFC 3339; default: now.
        #[arg(long, value_parser = crate::args::at)]
        at: Option<OffsetDateTime>,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// The update envelope.
        update: PathBuf,
    },
}

/// Runs a `mamori pin-update` subcommand.
pub fn run(cmd: PinUpdateCommand) -> u8 {
    match cmd {
        PinUpdateCommand::Keygen { out, key_id } => keygen(&out, &key_id),
        PinUpdateCommand::Sign {
            key,
            key_id,
            out,
            payload,
        } => sign(&key, &key_id, out.as_deref(), &payload),
        PinUpdateCommand::Verify {
            keys,
            base,
            last_version,
            allow_new_domains,
            max_report_only,
            at,
            format,
            update,
        } => {
            let rules = UpdateRules {
                allow_new_domains,
                max_report_only: max_report_only.map(|d| time::Duration::days(d.into())),
            };
            let now = at.unwrap_or_else(OffsetDateTime::now_utc);
            verify(&keys, &base, &update, rules, last_version, now, format)
        }
    }
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn keygen(out: &Path, key_id: &str) -> u8 {
    let pkcs8 = match Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()) {
        Ok(k) => k,
        Err(_) => return bad_input("key generation failed"),
    };
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("ring reads its own PKCS#8");
    let body = B64.encode(pkcs8.as_ref());
    let pem = format!("-----BEGIN {PEM_LABEL}-----\n{body}\n-----END {PEM_LABEL}-----\n");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let written = opts
        .open(out)
        .and_then(|mut f| f.write_all(pem.as_bytes()).and_then(|()| f.sync_all()));
    if let Err(e) = written {
        return bad_input(format_args!(
            "{}: {}",
            out.display(),
            crate::output::io_reason(&e)
        ));
    }
    crate::outln!("{key_id} {}", B64.encode(pair.public_key().as_ref()));
    0
}

/// PKCS#8 from PEM (`PRIVATE KEY`) or DER.
fn load_key(path: &Path) -> Result<Ed25519KeyPair, String> {
    let bytes = read(path)?;
    let der = match std::str::from_utf8(&bytes) {
        Ok(text) if text.contains("-----BEGIN") => {
            let body: String = text
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .collect::<Vec<_>>()
                .concat();
            B64.decode(body.trim())
                .map_err(|e| format!("{}: bad PEM: {e}", path.display()))?
        }
        _ => bytes,
    };
    Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
        .map_err(|e| format!("{}: not an Ed25519 PKCS#8 key: {e}", path.display()))
}

fn sign(key: &Path, key_id: &str, out: Option<&Path>, payload: &Path) -> u8 {
    let pair = match load_key(key) {
        Ok(k) => k,
        Err(e) => return bad_input(e),
    };
    let bytes = match read(payload) {
        Ok(b) => b,
        Err(e) => return bad_input(e),
    };
    // Refuse to sign what no app would accept for its form.
    match serde_json::from_slice::<UpdatePayload>(&bytes) {
        Ok(p) if p.key_id != key_id => {
            return bad_input(format!(
                "{}: key_id is {:?}, signing as {key_id:?}",
                payload.display(),
                p.key_id
            ));
        }
        Ok(_) => {}
        Err(e) => return bad_input(format!("{}: {e}", payload.display())),
    }
    let envelope = sign_update(&bytes, key_id, &pair);
    let text = String::from_utf8(envelope).expect("JSON is UTF-8");
    match write_out(out, &text) {
        Ok(()) => 0,
        Err(code) => code,
    }
}

#[derive(Serialize)]
struct Verdict {
    accepted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    not_after: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    downgraded: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    domains: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

fn verify(
    keys: &Path,
    base: &Path,
    update: &Path,
    rules: UpdateRules,
    last_version: Option<u64>,
    now: OffsetDateTime,
    format: Format,
) -> u8 {
    let keys = match read(keys).and_then(|b| {
        UpdateKeys::from_text(&String::from_utf8_lossy(&b))
            .map_err(|e| format!("{}: {e}", keys.display()))
    }) {
        Ok(k) => k,
        Err(e) => return bad_input(e),
    };
    let origin = base.display().to_string();
    let verifier = read(base)
        .and_then(|b| {
            let text = String::from_utf8(b).map_err(|e| format!("{origin}: {e}"))?;
            PolicyDocument::parse(&text, PolicyFormat::detect(&text), &origin)
                .map_err(|e| e.to_string())
        })
        .and_then(|doc| {
            UpdateVerifier::new(doc, &origin, base.parent(), keys, rules).map_err(|e| e.to_string())
        });
    let verifier = match verifier {
        Ok(v) => v,
        Err(e) => return bad_input(e),
    };
    let bytes = match read(update) {
        Ok(b) => b,
        Err(e) => return bad_input(e),
    };
    let (code, verdict) = match verifier.verify(&bytes, now, last_version) {
        Ok(acc) => (
            0,
            Verdict {
                accepted: true,
                version: Some(acc.version()),
                key_id: Some(acc.key_id().to_owned()),
                not_after: acc.not_after().format(&Rfc3339).ok(),
                downgraded: acc.downgraded().to_vec(),
                domains: acc
                    .policy_at(now)
                    .domains()
                    .iter()
                    .map(|d| format!("{} ({} pins)", d.pattern(), d.pins().len()))
                    .collect(),
                reason: None,
            },
        ),
        Err(e) => (
            1,
            Verdict {
                accepted: false,
                version: None,
                key_id: None,
                not_after: None,
                downgraded: Vec::new(),
                domains: Vec::new(),
                reason: Some(e.to_string()),
            },
        ),
    };
    match format {
        Format::Json => print_json(&verdict),
        Format::Text => match &verdict.reason {
            None => {
                crate::outln!(
                    "accepted: version {} signed by {}, not after {}",
                    verdict.version.unwrap_or_default(),
                    verdict.key_id.as_deref().unwrap_or_default(),
                    verdict.not_after.as_deref().unwrap_or_default()
                );
                for d in &verdict.domains {
                    crate::outln!("  {d}");
                }
                for d in &verdict.downgraded {
                    crate::outln!("  report-only until not_after: {d}");
                }
            }
            Some(reason) => crate::outln!("refused: {reason}"),
        },
    }
    code
}
