//! `mamori pin`: the SPKI pin of every certificate in each file.

use std::path::PathBuf;

use clap::Args;
use mamori::pinning::{CertificateSummary, certificates_from_bytes};
use serde::Serialize;

use crate::output::{Format, bad_input, print_json};

/// Arguments of `mamori pin`.
#[derive(Args, Debug)]
pub struct PinArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// PEM (any number of certificates) or DER files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

#[derive(Serialize)]
struct Row {
    file: String,
    index: usize,
    subject: String,
    issuer: String,
    not_after: String,
    pin: String,
}

/// Runs `mamori pin`.
pub fn run(args: PinArgs) -> u8 {
    let mut rows = Vec::new();
    for file in &args.files {
        let name = file.display().to_string();
        let bytes = match std::fs::read(file) {
            Ok(b) => b,
            Err(e) => return bad_input(format!("{name}: {e}")),
        };
        let certs = match certificates_from_bytes(&bytes) {
            Ok(c) if c.is_empty() => return bad_input(format!("{name}: no certificate found")),
            Ok(c) => c,
            Err(e) => return bad_input(format!("{name}: {e}")),
        };
        for (index, der) in certs.iter().enumerate() {
            match CertificateSummary::of(der) {
                Ok(s) => rows.push(Row {
                    file: name.clone(),
                    index,
                    subject: s.subject,
                    issuer: s.issuer,
                    not_after: s.not_after,
                    pin: s.pin.to_string(),
                }),
                Err(e) => return bad_input(format!("{name} certificate {index}: {e}")),
            }
        }
    }
    match args.format {
        Format::Json => print_json(&rows),
        Format::Text => {
            for r in &rows {
                crate::outln!("{}[{}]  {}", r.file, r.index, r.pin);
                crate::outln!("    subject:   {}", r.subject);
                crate::outln!("    not after: {}", r.not_after);
            }
        }
    }
    0
}
