//! `mamori attest`: verify Android Key Attestation chains and Apple App Attest
//! objects and assertions offline, as a bank's back end or a security team
//! would.
//!
//! `verify` reports the attested values; it does not judge them (that is the
//! device policy's job). Exit status: 0 verified, 1 verification failed (the
//! output names the step), 2 bad input.

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use clap::{Args, Subcommand, ValueEnum};
use mamori::attestation::{
    AndroidAttestation, AndroidError, AndroidOptions, AppAttestation, AppleError, AppleOptions,
    AssertionOptions, Environment, GoogleRoots, RevocationList, apple_app_attestation_root,
    verify_android_pem, verify_app_attest, verify_assertion,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, SubjectPublicKeyInfoDer, UnixTime};
use serde_json::{Value, json};

use crate::output::{Format, print_json};

/// Arguments of `mamori attest`.
#[derive(Args, Debug)]
pub struct AttestArgs {
    #[command(subcommand)]
    command: AttestCommand,
}

#[derive(Subcommand, Debug)]
enum AttestCommand {
    /// Verify an attestation: an Android chain (PEM, leaf first) or an App
    /// Attest object (raw CBOR or base64).
    ///
    /// Exit status: 0 verified, 1 verification failed, 2 bad input.
    #[command(after_help = crate::exit::help(&[
        "mamori attest verify --platform android --challenge-b64 SERVER_NONCE_B64 --format json chain.pem",
        "mamori attest verify --platform apple --app-id TEAMID.com.example.pay --key-id KEY_ID_B64 --client-data challenge.bin attestation.cbor",
    ]))]
    Verify(VerifyArgs),
    /// Verify an App Attest assertion with the key stored at attestation.
    ///
    /// Exit status: 0 verified, 1 verification failed, 2 bad input.
    #[command(after_help = crate::exit::help(&[
        "mamori attest assert --platform apple --public-key key.pem --app-id TEAMID.com.example.pay --client-data request.json --previous-counter 0 assertion.cbor",
    ]))]
    Assert(AssertArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum PlatformArg {
    Android,
    Apple,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum EnvironmentArg {
    Production,
    Development,
}

#[derive(Args, Debug)]
struct VerifyArgs {
    /// Which attestation INPUT holds.
    #[arg(long, value_enum)]
    platform: PlatformArg,
    /// Android: the chain as PEM, leaf first. Apple: the attestation object.
    input: PathBuf,
    #[command(flatten)]
    checks: Checks,
    /// Verification time, YYYY-MM-DD (00:00 UTC) or RFC 3339 (default: now).
    #[arg(long, value_parser = crate::args::at)]
    at: Option<time::OffsetDateTime>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// What an attestation is checked against: shared by `attest verify` and
/// `device check --attestation`.
#[derive(Args, Debug)]
pub(crate) struct Checks {
    /// Android: expected challenge, base64.
    #[arg(long, conflicts_with = "challenge")]
    challenge_b64: Option<String>,
    /// Android: expected challenge, as text (its UTF-8 bytes).
    #[arg(long)]
    challenge: Option<String>,
    /// Trusted roots: a PEM bundle, or (Android) a JSON array of PEM strings.
    /// Default: Google's roots or the Apple App Attestation root, bundled.
    #[arg(long)]
    roots: Option<PathBuf>,
    /// Android: accept Google's software roots and software-level attestations.
    #[arg(long)]
    allow_software_root: bool,
    /// Android: revocation status list (Google's status JSON).
    #[arg(long)]
    revocation: Option<PathBuf>,
    /// Apple: `TEAMID.bundle`.
    #[arg(long)]
    app_id: Option<String>,
    /// Apple: the key id the app reported, base64.
    #[arg(long)]
    key_id: Option<String>,
    /// Apple: the client data; its SHA-256 is the clientDataHash.
    #[arg(long, conflicts_with = "client_data_hash")]
    client_data: Option<PathBuf>,
    /// Apple: clientDataHash, base64, used as given.
    #[arg(long)]
    client_data_hash: Option<String>,
    /// Apple: require this environment (default: accept either, report it).
    #[arg(long, value_enum)]
    environment: Option<EnvironmentArg>,
}

impl Checks {
    /// Whether an Android challenge flag was given.
    pub(crate) fn has_challenge(&self) -> bool {
        self.challenge_b64.is_some() || self.challenge.is_some()
    }
}

#[derive(Args, Debug)]
struct AssertArgs {
    /// Only `apple`.
    #[arg(long, value_enum)]
    platform: PlatformArg,
    /// The assertion, raw CBOR or base64.
    input: PathBuf,
    /// The credential public key stored at attestation (PEM `PUBLIC KEY`).
    #[arg(long)]
    public_key: PathBuf,
    /// `TEAMID.bundle`.
    #[arg(long)]
    app_id: String,
    /// The client data the app signed.
    #[arg(long)]
    client_data: PathBuf,
    /// The counter stored after the previous assertion (0 after attestation).
    #[arg(long)]
    previous_counter: u32,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// Runs `mamori attest`.
pub fn run(args: AttestArgs) -> u8 {
    let result = match args.command {
        AttestCommand::Verify(a) => match a.platform {
            PlatformArg::Android => android(&a),
            PlatformArg::Apple => apple(&a),
        },
        AttestCommand::Assert(a) => assert(&a),
    };
    match result {
        Ok(code) => code,
        Err(msg) => crate::output::bad_input(msg),
    }
}

/// The verification time: `--at`, or now.
pub(crate) fn time_of(at: Option<time::OffsetDateTime>) -> Result<UnixTime, String> {
    match at {
        Some(t) => u64::try_from(t.unix_timestamp())
            .map(|s| UnixTime::since_unix_epoch(Duration::from_secs(s)))
            .map_err(|_| format!("--at {t}: before 1970")),
        None => Ok(UnixTime::now()),
    }
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    crate::output::read(path)
}

fn b64(flag: &str, s: &str) -> Result<Vec<u8>, String> {
    B64.decode(s.trim())
        .map_err(|e| format!("--{flag} is not base64: {e}"))
}

fn rfc3339(t: UnixTime) -> String {
    time::OffsetDateTime::from_unix_timestamp(t.as_secs() as i64)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// Raw CBOR (a map: major type 5) or base64 text of it.
fn cbor_or_base64(bytes: Vec<u8>) -> Result<Vec<u8>, String> {
    if bytes.first().is_some_and(|b| b >> 5 == 5) {
        return Ok(bytes);
    }
    let text: String = String::from_utf8(bytes)
        .map_err(|_| "input is neither CBOR nor base64 text".to_owned())?
        .split_whitespace()
        .collect();
    B64.decode(text)
        .map_err(|e| format!("input is neither CBOR nor base64: {e}"))
}

fn reject_flags(flags: &[(&str, bool)], platform: &str) -> Result<(), String> {
    match flags.iter().find(|(_, set)| *set) {
        Some((name, _)) => Err(format!("--{name} does not apply to --platform {platform}")),
        None => Ok(()),
    }
}

fn finish(format: Format, verified: bool, report: Value, text: &[(&str, String)]) -> u8 {
    match format {
        Format::Json => print_json(&report),
        Format::Text => {
            match report["failed_step"].as_str() {
                None => crate::outln!("verified"),
                Some(step) => crate::outln!(
                    "verification failed at {step}: {}",
                    report["error"].as_str().unwrap_or("")
                ),
            }
            for (k, v) in text {
                crate::outln!("  {k}: {v}");
            }
        }
    }
    if verified {
        crate::exit::OK
    } else {
        crate::exit::FAIL
    }
}

fn android(v: &VerifyArgs) -> Result<u8, String> {
    let time = time_of(v.at)?;
    let result = verify_android_file(&v.checks, &v.input, time)?;
    let report = android_report(&result, time);
    let text = match &result {
        Ok(v) => vec![
            ("security level", v.security_level.as_str().to_owned()),
            ("verified boot", v.verified_boot_state.as_str().to_owned()),
            ("device locked", v.device_locked.to_string()),
            ("os patch level", report["os_patch_level"].to_string()),
            ("challenge (base64)", report["challenge_b64"].to_string()),
            ("challenge checked", v.challenge_checked.to_string()),
        ],
        Err(_) => Vec::new(),
    };
    Ok(finish(v.format, result.is_ok(), report, &text))
}

/// Verifies an Android chain file with `a`'s checks at `time`; `Err` is bad
/// input, `Ok(Err)` a verification failure.
pub(crate) fn verify_android_file(
    a: &Checks,
    input: &Path,
    time: UnixTime,
) -> Result<Result<AndroidAttestation, AndroidError>, String> {
    reject_flags(
        &[
            ("app-id", a.app_id.is_some()),
            ("key-id", a.key_id.is_some()),
            ("client-data", a.client_data.is_some()),
            ("client-data-hash", a.client_data_hash.is_some()),
            ("environment", a.environment.is_some()),
        ],
        "android",
    )?;
    let pem = read(input)?;
    let roots = match &a.roots {
        Some(p) => GoogleRoots::from_bytes(&read(p)?).map_err(|e| e.to_string())?,
        None => GoogleRoots::bundled(),
    };
    let revocation = match &a.revocation {
        Some(p) => Some(RevocationList::from_json(&read(p)?).map_err(|e| e.to_string())?),
        None => None,
    };
    let challenge = match (&a.challenge_b64, &a.challenge) {
        (Some(b), _) => Some(b64("challenge-b64", b)?),
        (None, Some(t)) => Some(t.as_bytes().to_vec()),
        (None, None) => None,
    };
    if challenge.as_ref().is_some_and(Vec::is_empty) {
        return Err("the expected challenge is empty: pass the challenge the server issued".into());
    }
    let mut opts = AndroidOptions::new(&roots, time);
    opts.challenge = challenge.as_deref();
    opts.allow_software_root = a.allow_software_root;
    opts.revocation = revocation.as_ref();
    let result = verify_android_pem(&pem, &opts);
    if let Err(AndroidError::Input(msg)) = &result {
        return Err(format!("{}: {msg}", input.display()));
    }
    Ok(result)
}

fn android_report(result: &Result<AndroidAttestation, AndroidError>, time: UnixTime) -> Value {
    let v = match result {
        Err(e) => {
            return json!({
                "verified": false, "failed_step": e.step(), "error": e.to_string(),
                "at": rfc3339(time), "security_level": null, "verified_boot_state": null,
                "device_locked": null, "os_patch_level": null, "attestation_version": null,
                "challenge_b64": null, "challenge_checked": false,
            });
        }
        Ok(v) => v,
    };
    let kd = &v.key_description;
    let hw = &kd.hardware_enforced;
    let sw = &kd.software_enforced;
    let app = v.attestation_application_id.as_ref().map(|app| {
        json!({
            "packages": app.packages.iter()
                .map(|p| json!({"name": p.name, "version": p.version})).collect::<Vec<_>>(),
            "signature_digests_b64": app.signature_digests.iter()
                .map(|d| B64.encode(d)).collect::<Vec<_>>(),
        })
    });
    let key_list = if hw.algorithm.is_some() { hw } else { sw };
    json!({
        "verified": true,
        "failed_step": null,
        "at": rfc3339(time),
        "security_level": v.security_level.as_str(),
        "attestation_security_level": kd.attestation_security_level.as_str(),
        "keymint_security_level": kd.key_mint_security_level.as_str(),
        "verified_boot_state": v.verified_boot_state.as_str(),
        "device_locked": v.device_locked,
        "verified_boot_key_b64": v.root_of_trust.as_ref().map(|r| B64.encode(&r.verified_boot_key)),
        "verified_boot_hash_b64": v.root_of_trust.as_ref()
            .and_then(|r| r.verified_boot_hash.as_ref()).map(|h| B64.encode(h)),
        "os_version": v.os_version,
        "os_patch_level": v.os_patch_level,
        "vendor_patch_level": v.vendor_patch_level,
        "boot_patch_level": v.boot_patch_level,
        "attestation_version": kd.attestation_version,
        "keymint_version": kd.key_mint_version,
        "challenge_b64": B64.encode(&kd.attestation_challenge),
        "challenge_checked": v.challenge_checked,
        "attestation_application_id": app,
        "key": {
            "hardware_enforced": std::ptr::eq(key_list, hw),
            "purposes": key_list.purposes,
            "algorithm": key_list.algorithm,
            "key_size": key_list.key_size,
            "ec_curve": key_list.ec_curve,
            "origin": key_list.origin,
            "no_auth_required": key_list.no_auth_required,
            "user_auth_type": key_list.user_auth_type,
            "auth_timeout": key_list.auth_timeout,
        },
        "provisioning": v.provisioning,
        "root_kind": v.root_kind,
        "root_sha256": hex(&v.root_sha256),
        "serials": v.serials,
        "revocation_list_sha256": v.revocation_list_sha256.map(|h| hex(&h)),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .to_vec()
}

/// A failure keeps every key of the success report, null (as Android's does).
fn apple_failure(e: &AppleError) -> Value {
    json!({"verified": false, "failed_step": e.step(), "error": e.to_string(),
        "environment": null, "app_id": null, "key_id_b64": null, "counter": null})
}

fn apple(v: &VerifyArgs) -> Result<u8, String> {
    let time = time_of(v.at)?;
    let result = verify_apple_file(&v.checks, &v.input, time)?;
    let (report, text) = match &result {
        Ok(v) => {
            let pem = spki_pem(&v.public_key_spki);
            (
                json!({
                    "verified": true, "failed_step": null, "at": rfc3339(time),
                    "environment": v.environment.as_str(), "app_id": v.app_id,
                    "key_id_b64": B64.encode(v.key_id), "counter": v.counter,
                    "public_key_pem": pem, "receipt_b64": B64.encode(&v.receipt),
                }),
                vec![
                    ("environment", v.environment.as_str().to_owned()),
                    ("app id", v.app_id.clone()),
                    ("key id (base64)", B64.encode(v.key_id)),
                    ("counter", v.counter.to_string()),
                ],
            )
        }
        Err(e) => {
            let mut r = apple_failure(e);
            r["at"] = rfc3339(time).into();
            (r, Vec::new())
        }
    };
    Ok(finish(v.format, result.is_ok(), report, &text))
}

/// Verifies an App Attest object file with `a`'s checks at `time`; `Err` is
/// bad input, `Ok(Err)` a verification failure.
pub(crate) fn verify_apple_file(
    a: &Checks,
    input: &Path,
    time: UnixTime,
) -> Result<Result<AppAttestation, AppleError>, String> {
    reject_flags(
        &[
            ("challenge-b64", a.challenge_b64.is_some()),
            ("challenge", a.challenge.is_some()),
            ("allow-software-root", a.allow_software_root),
            ("revocation", a.revocation.is_some()),
        ],
        "apple",
    )?;
    let app_id = a
        .app_id
        .as_deref()
        .ok_or("--platform apple needs --app-id")?;
    let key_id = b64(
        "key-id",
        a.key_id
            .as_deref()
            .ok_or("--platform apple needs --key-id")?,
    )?;
    let client_data_hash = match (&a.client_data, &a.client_data_hash) {
        (Some(p), _) => sha256(&read(p)?),
        (None, Some(h)) => b64("client-data-hash", h)?,
        (None, None) => {
            return Err("--platform apple needs --client-data or --client-data-hash".into());
        }
    };
    let roots = match &a.roots {
        Some(p) => certificates(&read(p)?)?,
        None => vec![apple_app_attestation_root()],
    };
    let object = cbor_or_base64(read(input)?)?;
    let mut opts = AppleOptions::new(&roots, time, app_id, &key_id, &client_data_hash);
    opts.environment = a.environment.map(|e| match e {
        EnvironmentArg::Production => Environment::Production,
        EnvironmentArg::Development => Environment::Development,
    });
    Ok(verify_app_attest(&object, &opts))
}

fn assert(a: &AssertArgs) -> Result<u8, String> {
    if a.platform != PlatformArg::Apple {
        return Err("assertions exist only for --platform apple".into());
    }
    let key_pem = read(&a.public_key)?;
    let key = SubjectPublicKeyInfoDer::from_pem_slice(&key_pem)
        .map_err(|e| format!("{}: not a PEM PUBLIC KEY: {e}", a.public_key.display()))?;
    let client_data_hash = sha256(&read(&a.client_data)?);
    let assertion = cbor_or_base64(read(&a.input)?)?;
    let opts = AssertionOptions::new(
        key.as_ref(),
        &a.app_id,
        &client_data_hash,
        a.previous_counter,
    );
    let result = verify_assertion(&assertion, &opts);
    let (report, text) = match &result {
        Ok(v) => (
            json!({"verified": true, "failed_step": null, "app_id": a.app_id, "counter": v.counter}),
            vec![("counter", v.counter.to_string())],
        ),
        Err(e) => (apple_failure(e), Vec::new()),
    };
    Ok(finish(a.format, result.is_ok(), report, &text))
}

/// PEM certificates, or one DER certificate.
fn certificates(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    if !bytes.starts_with(b"-----") && bytes.first() == Some(&0x30) {
        return Ok(vec![bytes.to_vec()]);
    }
    let certs = CertificateDer::pem_slice_iter(bytes)
        .map(|c| c.map(|c| c.as_ref().to_vec()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("--roots: {e}"))?;
    if certs.is_empty() {
        return Err("--roots holds no certificate".into());
    }
    Ok(certs)
}

fn spki_pem(der: &[u8]) -> String {
    let b64 = B64.encode(der);
    let mut out = String::from("-----BEGIN PUBLIC KEY-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str("-----END PUBLIC KEY-----\n");
    out
}
