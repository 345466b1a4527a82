//! `mamori convert`: translate a pinning configuration between Android NSC,
//! TrustKit, Apple ATS, OkHttp and Mamori policies.
//!
//! Exit status ([`crate::exit`]): 0 converted (notes about meaning that
//! changed go to stderr), 2 bad usage, an input the source platform would
//! refuse (the error names the file, line and the platform's reason), or a
//! conversion to OkHttp that would widen a host's pins (without
//! `--allow-widening`).

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use mamori::audit::{self, ExportFormat, NscOptions, SourceFormat};

use crate::hint::Kind;
use crate::output::{bad_file, write_out};

/// Input formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum From {
    /// Android network_security_config.xml.
    Nsc,
    /// TrustKit (Info.plist TSKConfiguration, a JSON dictionary, or Swift/Objective-C
    /// initSharedInstance code).
    Trustkit,
    /// Apple ATS NSPinnedDomains (Info.plist).
    Ats,
    /// OkHttp pins (`pattern pin` lines, or Kotlin/Java CertificatePinner.Builder code).
    Okhttp,
    /// Mamori policy (TOML or JSON).
    Mamori,
}

impl From {
    /// What a file read with `--from` (or without) should look like.
    pub(crate) fn expected(from: Option<Self>) -> Kind {
        match from {
            None | Some(Self::Okhttp) => Kind::PinningConfig,
            Some(Self::Nsc) => Kind::Nsc,
            Some(Self::Trustkit | Self::Ats) => Kind::Plist,
            Some(Self::Mamori) => Kind::PinPolicy,
        }
    }

    pub(crate) fn format(self) -> SourceFormat {
        match self {
            Self::Nsc => SourceFormat::Nsc,
            Self::Trustkit => SourceFormat::TrustKit,
            Self::Ats => SourceFormat::Ats,
            Self::Okhttp => SourceFormat::OkHttp,
            Self::Mamori => SourceFormat::Mamori,
        }
    }
}

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum To {
    /// Mamori policy, TOML.
    Mamori,
    /// Mamori policy, JSON.
    Json,
    /// Android network_security_config.xml.
    Nsc,
    /// OkHttp `pattern pin` list.
    Okhttp,
    /// TrustKit Info.plist fragment (TSKConfiguration).
    Trustkit,
}

/// Arguments of `mamori convert`.
#[derive(Args, Debug)]
#[command(after_help = crate::exit::help(&[
    "mamori convert --to mamori res/xml/network_security_config.xml",
    "mamori convert --from trustkit --to nsc -o network_security_config.xml Info.plist",
    "mamori convert --to okhttp examples/pinning/policy.toml",
]))]
pub struct ConvertArgs {
    /// Input format (detected from the content when omitted).
    #[arg(long, value_enum)]
    pub from: Option<From>,
    /// Output format.
    #[arg(long, value_enum)]
    pub to: To,
    /// Read an NSC file as a debuggable app would (debug-overrides and the
    /// `_debug.xml` companion must then be valid).
    #[arg(long)]
    pub debuggable: bool,
    /// Convert to OkHttp even when OkHttp would accept more pins for a host
    /// than the policy's most specific rule (OkHttp unions every matching
    /// pattern); the widened hosts are then listed as warnings.
    #[arg(long)]
    pub allow_widening: bool,
    /// Write here instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// The configuration file.
    pub file: PathBuf,
}

/// Runs `mamori convert`.
pub fn run(args: ConvertArgs) -> u8 {
    let cfg = match audit::load(
        &args.file,
        args.from.map(From::format),
        NscOptions {
            debuggable: args.debuggable,
        },
    ) {
        Ok(c) => c,
        Err(e) => return bad_file(&args.file, From::expected(args.from), e),
    };
    let to = match args.to {
        To::Mamori => ExportFormat::MamoriToml,
        To::Json => ExportFormat::MamoriJson,
        To::Nsc => ExportFormat::Nsc,
        To::Okhttp => ExportFormat::OkHttp,
        To::Trustkit => ExportFormat::TrustKit,
    };
    if to == ExportFormat::OkHttp {
        let widened = audit::okhttp_widenings(&cfg);
        for w in &widened {
            if args.allow_widening {
                eprintln!("WARNING: pins widened: {w}");
            } else {
                eprintln!("mamori convert: {w}");
            }
        }
        if !widened.is_empty() && !args.allow_widening {
            eprintln!(
                "mamori convert: refusing to convert to OkHttp: {} host(s) would accept pins their own rule does not list; \
                 pin the same keys in the overlapping rules, or pass --allow-widening",
                widened.len()
            );
            return 2;
        }
    }
    let (text, notes) = audit::export(&cfg, to);
    for n in &notes {
        eprintln!("{}: note: {n}", crate::output::prefix());
    }
    match write_out(args.output.as_deref(), &text) {
        Ok(()) => 0,
        Err(status) => status,
    }
}
