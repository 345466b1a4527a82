//! `mamori report`: the evidence document (Markdown or HTML) a FinTech team
//! hands to its partner bank. It walks DEV-1..4 and the related items
//! (DATA-1, NEW-1, BP-5, LOG-2), states how the app meets each from the
//! pinning configurations and, when given, the device policy and the storage
//! settings, and lists the open audit findings (docs/evidence-report.md).
//!
//! Every input is validated by the code of its own command: a Mamori pin
//! policy as `mamori config check` does, the device policy as `mamori device
//! check` does, the storage settings by their schema
//! (`mamori::storage::StorageSettings`); a refused input fails the report
//! with that error.
//!
//! Reproducible: with `--at` the output depends only on the inputs; without
//! it, the current time (UTC) is printed in the document.
//!
//! Exit status ([`crate::exit`]): 0 written, 2 bad usage or bad input,
//! 4 a `--live` chain could not be fetched.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, ValueEnum};
use mamori::audit::AuditOptions;
use mamori::audit::SuppliedChain;
use mamori::audit::package;
use mamori::audit::report::{self, AppIdentity, InputFile, InputRole, ReportInput};
use mamori::audit::{self, NscOptions, SourceFormat};
use mamori::device::{DeviceFacts, DevicePolicy};
use mamori::pinning::PinPolicy;
use mamori::storage::StorageSettings;

use super::audit::{LangArg, min_sdk, target_sdk};
use crate::output::{bad_input, write_out};

/// Document formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Markdown.
    Markdown,
    /// A self-contained HTML page.
    Html,
}

/// Arguments of `mamori report`.
#[derive(Args, Debug)]
#[command(after_help = crate::exit::help(&[
    "mamori report --app \"Example Pay\" --at 2026-01-01 -o evidence.md res/xml/network_security_config.xml Info.plist",
    "mamori report --format html --lang ja --device examples/device/bank-policy.toml -o evidence.html examples/pinning/policy.toml",
]))]
pub struct ReportArgs {
    /// Document format.
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: ReportFormat,
    /// Language of the document.
    #[arg(long, value_enum, default_value = "en")]
    pub lang: LangArg,
    /// Report time, YYYY-MM-DD or RFC 3339 (default: now, UTC).
    #[arg(long, value_parser = crate::args::at)]
    pub at: Option<time::OffsetDateTime>,
    /// App name for the title.
    #[arg(long)]
    pub app: Option<String>,
    /// Device policy (TOML or JSON), as `mamori device check --policy` takes.
    #[arg(long)]
    pub device: Option<PathBuf>,
    /// Storage settings (TOML or JSON; schema in docs/evidence-report.md).
    #[arg(long)]
    pub storage: Option<PathBuf>,
    /// A certificate chain for a host: host=FILE.pem. Repeatable.
    #[arg(long = "chain", value_name = "HOST=FILE")]
    pub chains: Vec<String>,
    /// Fetch a server's chain: host[:port]. Repeatable.
    #[arg(long = "live", value_name = "HOST[:PORT]")]
    pub live: Vec<String>,
    /// Android target SDK, for the platform-default rules of configuration files (a
    /// package's configurations always follow its own targetSdkVersion).
    #[arg(long)]
    pub android_target_sdk: Option<u32>,
    /// Write the document here instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Pinning configurations or packages (anything `mamori audit` reads).
    #[arg(value_name = "CONFIG")]
    pub configs: Vec<PathBuf>,
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path)
        .map_err(|e| format!("{}: cannot read: {}", path.display(), mamori::io_reason(&e)))
}

/// Runs `mamori report`.
pub fn run(args: ReportArgs) -> u8 {
    match build(&args) {
        Ok(doc) => match write_out(args.output.as_deref(), &doc) {
            Ok(()) => 0,
            Err(status) => status,
        },
        Err(Failure::Input(e)) => bad_input(e),
        Err(Failure::Network(e)) => {
            bad_input(e);
            crate::exit::NETWORK
        }
    }
}

/// Why no report was written: bad input, or a `--live` fetch that failed.
enum Failure {
    Input(String),
    Network(String),
}

impl std::convert::From<String> for Failure {
    fn from(e: String) -> Self {
        Self::Input(e)
    }
}

impl std::convert::From<&str> for Failure {
    fn from(e: &str) -> Self {
        Self::Input(e.to_owned())
    }
}

/// A word for a POSIX shell: as is when safe, single-quoted otherwise.
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./=:@,+-".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The command line that reproduces the document (the output file left out;
/// `--at` fixed to the time used).
fn command_line(args: &ReportArgs, at: time::OffsetDateTime) -> String {
    let mut w: Vec<String> = vec!["mamori".into(), "report".into()];
    let mut opt = |name: &str, value: String| {
        w.push(name.to_owned());
        w.push(value);
    };
    opt(
        "--format",
        match args.format {
            ReportFormat::Markdown => "markdown",
            ReportFormat::Html => "html",
        }
        .into(),
    );
    opt(
        "--lang",
        match args.lang.lang() {
            mamori::audit::Lang::Ja => "ja",
            _ => "en",
        }
        .into(),
    );
    opt(
        "--at",
        at.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    );
    if let Some(a) = &args.app {
        opt("--app", a.clone());
    }
    if let Some(p) = &args.device {
        opt("--device", p.display().to_string());
    }
    if let Some(p) = &args.storage {
        opt("--storage", p.display().to_string());
    }
    for c in &args.chains {
        opt("--chain", c.clone());
    }
    for l in &args.live {
        opt("--live", l.clone());
    }
    if let Some(n) = args.android_target_sdk {
        opt("--android-target-sdk", n.to_string());
    }
    w.extend(args.configs.iter().map(|p| p.display().to_string()));
    w.iter()
        .map(|s| shell_word(s))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The device policy, loaded as `mamori device check` loads it; a facts
/// snapshot given by mistake gets a hint.
fn device_policy(p: &Path) -> Result<DevicePolicy, String> {
    DevicePolicy::load(p).map_err(|e| {
        let looks_like_facts = std::fs::read_to_string(p)
            .ok()
            .is_some_and(|t| DeviceFacts::from_json(&t).is_ok());
        if looks_like_facts {
            format!(
                "{e}\nhint: {} is a device facts snapshot (what `mamori device probe` writes and `mamori device check --facts` reads); --device takes a device policy, such as `mamori device default-policy` prints",
                p.display()
            )
        } else {
            e.to_string()
        }
    })
}

fn build(args: &ReportArgs) -> Result<String, Failure> {
    if args.configs.is_empty() && args.device.is_none() && args.storage.is_none() {
        return Err(
            "nothing to report on: give pinning configurations, --device or --storage".into(),
        );
    }
    let at = match args.at {
        Some(at) => at,
        None => time::OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .expect("0 is a valid nanosecond"),
    };
    let mut files = Vec::new();
    let mut configs = Vec::new();
    let mut packages = Vec::new();
    let mut apps = Vec::new();
    for p in &args.configs {
        let name = p.display().to_string();
        if package::is_package(p) {
            // The package's digest was streamed when it was read; its signing
            // certificates name the build exactly.
            let mut k = package::load_package(p).map_err(|e| e.to_string())?;
            files.push(InputFile {
                path: name.clone(),
                role: InputRole::Package,
                sha256: k.sha256.clone(),
            });
            for c in &k.signing_certificates {
                files.push(InputFile {
                    path: format!("{name} ({} {})", c.scheme, c.subject),
                    role: InputRole::SigningCertificate(name.clone()),
                    sha256: c.sha256.clone(),
                });
            }
            apps.extend(AppIdentity::from_package(&k));
            configs.append(&mut k.configs);
            packages.push(k);
            continue;
        }
        let bytes = read(p)?;
        files.push(InputFile::new(&name, InputRole::Pinning, &bytes));
        let format = audit::detect(&bytes, &name).map_err(|e| e.to_string())?;
        if format == SourceFormat::Mamori {
            // The same check as `mamori config check`.
            PinPolicy::load(p).map_err(|e| e.to_string())?;
        }
        let cfg = audit::load(p, None, NscOptions::default()).map_err(|e| e.to_string())?;
        // Files the configuration depends on.
        let base = p.parent().unwrap_or(Path::new(""));
        for a in &cfg.anchor_files {
            let path = base.join(a);
            files.push(InputFile::new(
                &path.display().to_string(),
                InputRole::DependsOn(name.clone()),
                &read(&path)?,
            ));
        }
        if let Some(d) = cfg.debug_overrides.as_ref().filter(|d| d.from_companion) {
            let path = PathBuf::from(&*d.location.file);
            files.push(InputFile::new(
                &d.location.file,
                InputRole::DependsOn(name.clone()),
                &read(&path)?,
            ));
        }
        if matches!(format, SourceFormat::TrustKit | SourceFormat::Ats) {
            apps.extend(AppIdentity::from_info_plist(&bytes, &name));
        }
        configs.push(cfg);
    }
    let device = match &args.device {
        Some(p) => {
            files.push(InputFile::new(
                &p.display().to_string(),
                InputRole::DevicePolicy,
                &read(p)?,
            ));
            Some(device_policy(p)?)
        }
        None => None,
    };
    let storage = match &args.storage {
        Some(p) => {
            files.push(InputFile::new(
                &p.display().to_string(),
                InputRole::StorageSettings,
                &read(p)?,
            ));
            Some(StorageSettings::load(p).map_err(|e| e.to_string())?)
        }
        None => None,
    };
    let mut chains = Vec::new();
    for c in &args.chains {
        let ch = SuppliedChain::from_arg(c).map_err(|e| format!("--chain: {e}"))?;
        if let Some((_, f)) = c.split_once('=') {
            files.push(InputFile::new(f, InputRole::Chain, &read(Path::new(f))?));
        }
        chains.push(ch);
    }
    for l in &args.live {
        chains.push(
            SuppliedChain::live(l, Duration::from_secs(5))
                .map_err(|e| Failure::Network(format!("--live: {e}")))?,
        );
    }
    let lang = args.lang.lang();
    let opts = AuditOptions {
        at,
        expiry_days: 30,
        android_target_sdk: target_sdk(args.android_target_sdk, &packages),
        android_min_sdk: min_sdk(&packages),
        chains: chains.clone(),
        lang,
    };
    let findings = audit::audit_packages(&configs, &packages, &opts);
    let input = ReportInput {
        // Without --app, the title names the first package's app and version.
        app: args.app.clone().or_else(|| {
            packages.iter().find_map(|p| {
                let id = p.app_id.as_deref()?;
                Some(match &p.version {
                    Some(v) => format!("{id} {v}"),
                    None => id.to_owned(),
                })
            })
        }),
        at,
        lang,
        command_line: command_line(args, at),
        files,
        apps,
        configs: &configs,
        findings: &findings,
        device: device.as_ref(),
        storage: storage.as_ref(),
        chains: chains.len(),
    };
    Ok(match args.format {
        ReportFormat::Markdown => report::markdown(&input),
        ReportFormat::Html => report::html(&input),
    })
}
