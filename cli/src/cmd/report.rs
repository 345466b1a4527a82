//! `mamori report`: the evidence document (Markdown or HTML) a FinTech team
//! hands to its partner bank. It walks DEV-1..4 and the related items
//! (DATA-1, NEW-1, BP-5, LOG-2), states how the app meets each from the
//! pinning configurations and, when given, the device policy and storage
//! settings (TOML or JSON, shown as supplied with secrets redacted), and
//! lists the open audit findings.
//!
//! Reproducible: with `--at` the output depends only on the inputs; without
//! it, today's date (UTC) is printed in the document.
//!
//! Exit status: 0 written, 2 bad usage or bad input.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use mamori::audit::AuditOptions;
use mamori::audit::SuppliedChain;
use mamori::audit::report::{self, InputFile, ReportInput, Settings};
use mamori::audit::{self, NscOptions};

use super::audit::{LangArg, load_all, target_sdk};
use crate::output::write_out;

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
pub struct ReportArgs {
    /// Document format.
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: ReportFormat,
    /// Language of the document.
    #[arg(long, value_enum, default_value = "en")]
    pub lang: LangArg,
    /// Report date, YYYY-MM-DD or RFC 3339 (default: today, UTC).
    #[arg(long, value_parser = crate::args::at)]
    pub at: Option<time::OffsetDateTime>,
    /// App name for the title.
    #[arg(long)]
    pub app: Option<String>,
    /// Device policy settings (TOML or JSON).
    #[arg(long)]
    pub device: Option<PathBuf>,
    /// Storage settings (TOML or JSON).
    #[arg(long)]
    pub storage: Option<PathBuf>,
    /// A certificate chain for a host: host=FILE.pem. Repeatable.
    #[arg(long = "chain", value_name = "HOST=FILE")]
    pub chains: Vec<String>,
    /// Fetch a server's chain: host[:port]. Repeatable.
    #[arg(long = "live", value_name = "HOST[:PORT]")]
    pub live: Vec<String>,
    /// Android target SDK, for the platform-default rules.
    #[arg(long)]
    pub android_target_sdk: Option<u32>,
    /// Write the document here instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Pinning configurations or packages (anything `mamori audit` reads).
    #[arg(value_name = "CONFIG")]
    pub configs: Vec<PathBuf>,
}

fn read(path: &PathBuf) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))
}

/// Runs `mamori report`.
pub fn run(args: ReportArgs) -> u8 {
    match build(&args) {
        Ok(doc) => match write_out("report", args.output.as_deref(), &doc) {
            Ok(()) => 0,
            Err(status) => status,
        },
        Err(e) => {
            eprintln!("mamori report: {e}");
            2
        }
    }
}

fn build(args: &ReportArgs) -> Result<String, String> {
    if args.configs.is_empty() && args.device.is_none() && args.storage.is_none() {
        return Err(
            "nothing to report on: give pinning configurations, --device or --storage".into(),
        );
    }
    let at = args.at.unwrap_or_else(time::OffsetDateTime::now_utc);
    let mut files = Vec::new();
    let (configs, packages) = load_all(&args.configs, None, NscOptions::default())?;
    for p in &args.configs {
        let path = p.display().to_string();
        match packages.iter().find(|k| k.file == path) {
            // The package's digest was streamed when it was read; its signing
            // certificates name the build exactly.
            Some(k) => {
                files.push(InputFile {
                    path: path.clone(),
                    role: "package",
                    sha256: k.sha256.clone(),
                });
                for c in &k.signing_certificates {
                    files.push(InputFile {
                        path: format!("{path} ({} {})", c.scheme, c.subject),
                        role: "signing certificate",
                        sha256: c.sha256.clone(),
                    });
                }
            }
            None => files.push(InputFile::new(&path, "pinning", &read(p)?)),
        }
    }
    let settings = |p: &Option<PathBuf>,
                    role: &'static str,
                    files: &mut Vec<InputFile>|
     -> Result<Option<Settings>, String> {
        let Some(p) = p else { return Ok(None) };
        let bytes = read(p)?;
        files.push(InputFile::new(&p.display().to_string(), role, &bytes));
        let text =
            String::from_utf8(bytes).map_err(|_| format!("{}: not UTF-8 text", p.display()))?;
        Settings::parse(&text, &p.display().to_string())
            .map(Some)
            .map_err(|e| e.to_string())
    };
    let device = settings(&args.device, "device", &mut files)?;
    // A file shaped like a Mamori device policy must be a valid one.
    let device_validated = match (&args.device, &device) {
        (Some(p), Some(s)) => {
            let shaped = s.entries.iter().any(|(k, _)| k == "format")
                && s.entries.iter().any(|(k, _)| {
                    k.starts_with("android.")
                        || k.starts_with("ios.")
                        || k.starts_with("indicators.")
                });
            match mamori::device::DevicePolicy::load(p) {
                Ok(_) => true,
                Err(e) if shaped => return Err(e.to_string()),
                Err(_) => false,
            }
        }
        _ => false,
    };
    let storage = settings(&args.storage, "storage", &mut files)?;
    let mut chains = Vec::new();
    for c in &args.chains {
        let ch = SuppliedChain::from_arg(c).map_err(|e| format!("--chain: {e}"))?;
        if let Some((_, f)) = c.split_once('=') {
            files.push(InputFile::new(f, "chain", &read(&PathBuf::from(f))?));
        }
        chains.push(ch);
    }
    for l in &args.live {
        chains.push(
            SuppliedChain::live(l, Duration::from_secs(5)).map_err(|e| format!("--live: {e}"))?,
        );
    }
    let lang = args.lang.lang();
    let opts = AuditOptions {
        at,
        expiry_days: 30,
        android_target_sdk: target_sdk(args.android_target_sdk, &packages),
        chains: chains.clone(),
        lang,
    };
    let findings = audit::audit_packages(&configs, &packages, &opts);
    let input = ReportInput {
        app: args.app.clone().or_else(|| {
            packages.iter().find_map(|p| {
                let id = p.app_id.as_deref()?;
                Some(match &p.version {
                    Some(v) => format!("{id} {v}"),
                    None => id.to_owned(),
                })
            })
        }),
        date: at.date().to_string(),
        lang,
        files,
        configs: &configs,
        findings: &findings,
        device,
        storage,
        chains: chains.len(),
        device_validated,
    };
    Ok(match args.format {
        ReportFormat::Markdown => report::markdown(&input),
        ReportFormat::Html => report::html(&input),
    })
}
