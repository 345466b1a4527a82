//! `mamori audit`: audit pinning configurations (Android NSC, TrustKit, ATS,
//! OkHttp, Mamori), optionally against real certificate chains, and gate CI.
//!
//! Exit status ([`crate::exit`]): 0 no finding at or above `--fail-on`
//! (default `high`; `never` disables); 1 at least one; 2 bad usage or bad
//! input (a configuration the platform would refuse, an unreadable chain
//! file, a bad date); 4 a `--live` chain could not be fetched (name
//! resolution, connection refused, timeout, TLS failure).

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use mamori::audit::SuppliedChain;
use mamori::audit::output::{self, AuditResult};
use mamori::audit::package::{AppPackage, PackageKind};
use mamori::audit::{self, NscOptions};
use mamori::audit::{AuditOptions, Lang, Severity};

use super::convert::From;
use crate::output::{bad_file, bad_input, write_with};

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    /// A table for people (colour when stdout is a terminal).
    Text,
    /// JSON for tools.
    Json,
    /// SARIF 2.1.0 for code scanning.
    Sarif,
}

/// Output languages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LangArg {
    /// English.
    En,
    /// Japanese (日本語).
    Ja,
}

impl LangArg {
    pub(crate) fn lang(self) -> Lang {
        match self {
            Self::En => Lang::En,
            Self::Ja => Lang::Ja,
        }
    }
}

/// Arguments of `mamori audit`.
#[derive(Args, Debug)]
#[command(after_help = crate::exit::help(&[
    "mamori audit examples/audit/network_security_config.xml examples/audit/Info.plist",
    "mamori audit --format sarif -o mamori.sarif --fail-on medium res/xml/network_security_config.xml",
    "mamori audit --at 2026-01-01 --chain api.example.com=examples/pinning/chain.pem examples/pinning/policy.toml",
    "mamori audit --live api.example.com Info.plist",
]))]
pub struct AuditArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: AuditFormat,
    /// Language of titles and messages.
    #[arg(long, value_enum, default_value = "en")]
    pub lang: LangArg,
    /// Audit date, YYYY-MM-DD or RFC 3339 (default: now), for reproducible output.
    #[arg(long, value_parser = crate::args::at)]
    pub at: Option<time::OffsetDateTime>,
    /// Exit 1 when a finding has this severity or higher
    /// (info, low, medium, high, critical, or never).
    #[arg(long, default_value = "high")]
    pub fail_on: String,
    /// A certificate chain for a host (PEM, leaf first): host=FILE.pem. Repeatable.
    #[arg(long = "chain", value_name = "HOST=FILE")]
    pub chains: Vec<String>,
    /// Fetch the chain a server presents: host[:port]. Repeatable.
    #[arg(long = "live", value_name = "HOST[:PORT]")]
    pub live: Vec<String>,
    /// Connect and read timeout for --live, in seconds.
    #[arg(long, default_value_t = 5)]
    pub live_timeout: u64,
    /// Warn about pin sets expiring within this many days.
    #[arg(long, default_value_t = 30)]
    pub expiry_days: i64,
    /// The Android app's target SDK, for the platform-default rules of configuration files
    /// (a package's configurations always follow its own targetSdkVersion).
    #[arg(long)]
    pub android_target_sdk: Option<u32>,
    /// Read every CONFIG as this format instead of detecting it.
    #[arg(long, value_enum)]
    pub from: Option<From>,
    /// Read NSC files as a debuggable app would.
    #[arg(long)]
    pub debuggable: bool,
    /// Write the output to this file instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Configuration files or packages (`app.apk`, `app.aab`, `app.ipa`); an Android and
    /// an iOS configuration or package may be audited together.
    /// Kotlin, Java, Swift, Objective-C and build.gradle(.kts) files given together are
    /// read as one program: constants and buildConfigFields resolve across them.
    #[arg(required = true, value_name = "CONFIG")]
    pub configs: Vec<PathBuf>,
}

/// The target SDK the platform-default rules use for configuration files:
/// the flag when given, else the first Android package's own. A package's
/// configurations carry their package's own (`AuditConfig::android_target_sdk`).
pub(crate) fn target_sdk(flag: Option<u32>, packages: &[AppPackage]) -> Option<u32> {
    flag.or_else(|| {
        packages
            .iter()
            .find(|p| p.kind != PackageKind::Ipa)
            .and_then(|p| p.target_sdk)
    })
}

/// The Android package's minSdkVersion, when a package is audited.
pub(crate) fn min_sdk(packages: &[AppPackage]) -> Option<u32> {
    packages
        .iter()
        .find(|p| p.kind != PackageKind::Ipa)
        .and_then(|p| p.min_sdk)
}

/// Runs `mamori audit`.
pub fn run(args: AuditArgs) -> u8 {
    let threshold = if args.fail_on.eq_ignore_ascii_case("never") {
        None
    } else {
        match args.fail_on.parse::<Severity>() {
            Ok(s) => Some(s),
            Err(e) => return bad_input(format_args!("--fail-on: {e} (or never)")),
        }
    };
    let at = args.at.unwrap_or_else(time::OffsetDateTime::now_utc);
    // Packages contribute the configurations they ship; source files given
    // together are read as one program (constants and buildConfigFields
    // resolve across them).
    let audit::Loaded { configs, packages } = match audit::load_all(
        &args.configs,
        args.from.map(From::format),
        NscOptions {
            debuggable: args.debuggable,
        },
    ) {
        Ok(c) => c,
        Err(e) => {
            // The hint is for the file the error names (sources are read together).
            let text = e.to_string();
            return match args
                .configs
                .iter()
                .find(|p| text.contains(&p.display().to_string()))
            {
                Some(path) => bad_file(path, From::expected(args.from), e),
                None => bad_input(e),
            };
        }
    };
    let mut chains = Vec::new();
    for c in &args.chains {
        match SuppliedChain::from_arg(c) {
            Ok(ch) => chains.push(ch),
            Err(e) => return bad_input(format_args!("--chain: {e}")),
        }
    }
    for l in &args.live {
        match SuppliedChain::live(l, Duration::from_secs(args.live_timeout.max(1))) {
            Ok(ch) => chains.push(ch),
            Err(e) => {
                bad_input(format_args!("--live: {e}"));
                return crate::exit::NETWORK;
            }
        }
    }
    let lang = args.lang.lang();
    let opts = AuditOptions {
        at,
        expiry_days: args.expiry_days,
        android_target_sdk: target_sdk(args.android_target_sdk, &packages),
        android_min_sdk: min_sdk(&packages),
        chains: chains.clone(),
        lang,
    };
    let findings = audit::audit_packages(&configs, &packages, &opts);
    let result = AuditResult {
        configs: &configs,
        chains: &chains,
        findings: &findings,
        at: at.date().to_string(),
        lang,
        packages: &packages,
    };
    // JSON and SARIF stream, one finding at a time.
    let written = write_with(args.output.as_deref(), |w| match args.format {
        AuditFormat::Text => {
            let colour = args.output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none();
            w.write_all(output::text(&result, colour).as_bytes())
        }
        AuditFormat::Json => output::write_json(&result, w),
        AuditFormat::Sarif => output::write_sarif(&result, w),
    });
    if let Err(status) = written {
        return status;
    }
    match threshold {
        Some(t) if findings.iter().any(|f| f.severity >= t) => crate::exit::FAIL,
        _ => crate::exit::OK,
    }
}
