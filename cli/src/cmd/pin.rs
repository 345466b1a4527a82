//! `mamori pin`: the SPKI pin of every certificate, public key, certificate
//! request and private key in each file.
//!
//! A backup pin is the pin of a key that is not in use yet: teams keep it as
//! a bare public key, a CSR or the private key itself, so all of them pin
//! (a private key pins its public half; the private key is never printed).
//! Every format is read by a well-kept crate: x509-parser for certificates,
//! public keys and CSRs, `pem` for PEM sections, rcgen (ring) for PKCS#8, and the RustCrypto `sec1`,
//! `pkcs1` and `spki` crates for SEC1 and PKCS#1 keys.

use std::path::PathBuf;

use clap::Args;
use mamori::pinning::{CertificateSummary, Pin};
use serde::Serialize;
use spki::der::asn1::BitStringRef;
use spki::der::{AnyRef, Decode as _, Encode as _};
use x509_parser::prelude::FromDer as _;
use zeroize::Zeroizing;

use crate::hint::Kind;
use crate::output::{Format, bad_file, print_json};

/// Arguments of `mamori pin`.
#[derive(Args, Debug)]
#[command(after_help = crate::exit::help(&[
    "mamori pin examples/pinning/chain.pem",
    "mamori pin --format json examples/pinning/spare-key.pub.pem",
    "mamori pin backup-key.csr backup-key.pem   # a CSR and a private key pin their public key",
]))]
pub struct PinArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// PEM or DER files: certificates, public keys (SPKI, PKCS#1), certificate
    /// requests (PKCS#10) or private keys (PKCS#8, SEC1, PKCS#1).
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

#[derive(Serialize)]
struct Row {
    file: String,
    index: usize,
    /// `certificate`, `public_key`, `certificate_request` or `private_key`.
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    issuer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    not_after: Option<String>,
    pin: String,
}

/// One item of a file, with the DER of what it is.
enum Item {
    Certificate(Vec<u8>),
    PublicKey(Vec<u8>),
    RsaPublicKey(Vec<u8>),
    Request(Vec<u8>),
    Pkcs8(Zeroizing<Vec<u8>>),
    Sec1(Zeroizing<Vec<u8>>),
    Pkcs1(Zeroizing<Vec<u8>>),
}

/// The items of a PEM file (any number of sections) or of one DER object.
fn items(bytes: &[u8]) -> Result<Vec<Item>, String> {
    let text = String::from_utf8_lossy(bytes);
    if text.contains("-----BEGIN ") {
        if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            return Err("the private key is encrypted: decrypt it first \
                        (openssl pkcs8 -in KEY -out PLAIN.pem), or pin its certificate or public key"
                .into());
        }
        let mut out = Vec::new();
        for block in pem::parse_many(bytes).map_err(|e| format!("bad PEM: {e}"))? {
            let tag = block.tag().to_owned();
            let der = block.into_contents();
            out.push(match tag.as_str() {
                "CERTIFICATE" => Item::Certificate(der),
                "PUBLIC KEY" => Item::PublicKey(der),
                "RSA PUBLIC KEY" => Item::RsaPublicKey(der),
                "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" => Item::Request(der),
                "PRIVATE KEY" => Item::Pkcs8(Zeroizing::new(der)),
                "EC PRIVATE KEY" => Item::Sec1(Zeroizing::new(der)),
                "RSA PRIVATE KEY" => Item::Pkcs1(Zeroizing::new(der)),
                // Other sections (EC PARAMETERS, X509 CRL, ...) carry no key.
                _ => continue,
            });
        }
        return Ok(out);
    }
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    Ok(vec![der_item(bytes)?])
}

/// What a DER object is, trying each format in turn.
fn der_item(der: &[u8]) -> Result<Item, String> {
    let whole = |rest: &[u8]| rest.is_empty();
    if x509_parser::parse_x509_certificate(der).is_ok_and(|(r, _)| whole(r)) {
        return Ok(Item::Certificate(der.to_vec()));
    }
    if x509_parser::x509::SubjectPublicKeyInfo::from_der(der).is_ok_and(|(r, _)| whole(r)) {
        return Ok(Item::PublicKey(der.to_vec()));
    }
    if x509_parser::certification_request::X509CertificationRequest::from_der(der)
        .is_ok_and(|(r, _)| whole(r))
    {
        return Ok(Item::Request(der.to_vec()));
    }
    if rcgen::KeyPair::try_from(der).is_ok() {
        return Ok(Item::Pkcs8(Zeroizing::new(der.to_vec())));
    }
    if sec1::EcPrivateKey::from_der(der).is_ok() {
        return Ok(Item::Sec1(Zeroizing::new(der.to_vec())));
    }
    if pkcs1::RsaPrivateKey::from_der(der).is_ok() {
        return Ok(Item::Pkcs1(Zeroizing::new(der.to_vec())));
    }
    if pkcs1::RsaPublicKey::from_der(der).is_ok() {
        return Ok(Item::RsaPublicKey(der.to_vec()));
    }
    Err("not a DER certificate, public key, certificate request or private key".into())
}

fn spki_der(algorithm: spki::AlgorithmIdentifierRef<'_>, key: &[u8]) -> Result<Vec<u8>, String> {
    spki::SubjectPublicKeyInfoRef {
        algorithm,
        subject_public_key: BitStringRef::from_bytes(key).map_err(|e| e.to_string())?,
    }
    .to_der()
    .map_err(|e| e.to_string())
}

/// An RSA public key (PKCS#1 `RSAPublicKey` DER) as SPKI DER.
fn rsa_spki(pkcs1_public: &[u8]) -> Result<Vec<u8>, String> {
    spki_der(
        spki::AlgorithmIdentifierRef {
            oid: pkcs1::ALGORITHM_OID,
            parameters: Some(AnyRef::NULL),
        },
        pkcs1_public,
    )
}

/// Describes one item: its kind, the certificate fields, and the pin.
fn describe(item: &Item) -> Result<Row, String> {
    let row = |kind, spki: &[u8]| Row {
        file: String::new(),
        index: 0,
        kind,
        subject: None,
        issuer: None,
        not_after: None,
        pin: Pin::of_spki(spki).to_string(),
    };
    Ok(match item {
        Item::Certificate(der) => {
            let s = CertificateSummary::of(der).map_err(|e| e.to_string())?;
            Row {
                subject: Some(s.subject),
                issuer: Some(s.issuer),
                not_after: Some(s.not_after),
                pin: s.pin.to_string(),
                ..row("certificate", &[])
            }
        }
        Item::PublicKey(der) => {
            x509_parser::x509::SubjectPublicKeyInfo::from_der(der)
                .map_err(|_| "the PUBLIC KEY is not a DER SubjectPublicKeyInfo")?;
            row("public_key", der)
        }
        Item::RsaPublicKey(der) => {
            pkcs1::RsaPublicKey::from_der(der)
                .map_err(|_| "the RSA PUBLIC KEY is not a DER PKCS#1 public key")?;
            row("public_key", &rsa_spki(der)?)
        }
        Item::Request(der) => {
            let (_, csr) =
                x509_parser::certification_request::X509CertificationRequest::from_der(der)
                    .map_err(|_| "the CERTIFICATE REQUEST is not a DER PKCS#10 request")?;
            let info = &csr.certification_request_info;
            Row {
                subject: Some(info.subject.to_string()),
                ..row("certificate_request", info.subject_pki.raw)
            }
        }
        Item::Pkcs8(der) => {
            let key = rcgen::KeyPair::try_from(der.as_slice()).map_err(|_| {
                "the PRIVATE KEY is not a PKCS#8 Ed25519, ECDSA P-256/P-384 or RSA key \
                 (an EC key must carry its public key)"
            })?;
            row(
                "private_key",
                &rcgen::PublicKeyData::subject_public_key_info(&key),
            )
        }
        Item::Sec1(der) => {
            let key = sec1::EcPrivateKey::from_der(der)
                .map_err(|_| "the EC PRIVATE KEY is not a DER SEC1 key")?;
            let curve = match key.parameters {
                Some(sec1::EcParameters::NamedCurve(oid)) => oid,
                _ => return Err("the EC PRIVATE KEY does not name its curve".into()),
            };
            let public = key.public_key.ok_or(
                "the EC PRIVATE KEY does not carry its public key; pin its certificate or public key",
            )?;
            let spki = spki_der(
                spki::AlgorithmIdentifierRef {
                    oid: sec1::ALGORITHM_OID,
                    parameters: Some(AnyRef::from(&curve)),
                },
                public,
            )?;
            row("private_key", &spki)
        }
        Item::Pkcs1(der) => {
            let key = pkcs1::RsaPrivateKey::from_der(der)
                .map_err(|_| "the RSA PRIVATE KEY is not a DER PKCS#1 key")?;
            let public = pkcs1::RsaPublicKey {
                modulus: key.modulus,
                public_exponent: key.public_exponent,
            }
            .to_der()
            .map_err(|e| e.to_string())?;
            row("private_key", &rsa_spki(&public)?)
        }
    })
}

/// Runs `mamori pin`.
pub fn run(args: PinArgs) -> u8 {
    let mut rows = Vec::new();
    for file in &args.files {
        let name = file.display().to_string();
        let bad = |why: String| bad_file(file, Kind::Certificates, format_args!("{name}: {why}"));
        let bytes = match crate::output::read(file) {
            Ok(b) => Zeroizing::new(b),
            Err(e) => return bad_file(file, Kind::Certificates, e),
        };
        let found = match items(&bytes) {
            Ok(c) if c.is_empty() => {
                return bad(
                    "no certificate, public key, certificate request or private key found".into(),
                );
            }
            Ok(c) => c,
            Err(e) => return bad(e),
        };
        for (index, item) in found.iter().enumerate() {
            match describe(item) {
                Ok(r) => rows.push(Row {
                    file: name.clone(),
                    index,
                    ..r
                }),
                Err(e) => return bad(format!("item {index}: {e}")),
            }
        }
    }
    match args.format {
        Format::Json => print_json(&rows),
        Format::Text => {
            for r in &rows {
                crate::outln!("{}[{}]  {}", r.file, r.index, r.pin);
                match &r.subject {
                    Some(s) => crate::outln!("    subject:   {s}"),
                    None => crate::outln!("    {}", r.kind.replace('_', " ")),
                }
                if let Some(n) = &r.not_after {
                    crate::outln!("    not after: {n}");
                }
                if r.kind != "certificate" && r.subject.is_some() {
                    crate::outln!("    {}", r.kind.replace('_', " "));
                }
            }
        }
    }
    crate::exit::OK
}
