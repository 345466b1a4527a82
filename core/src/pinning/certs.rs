//! Reading certificates from PEM or DER files, and describing them.

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use super::pin::Pin;

/// A certificate (PEM or DER) could not be parsed.
///
/// Named for what failed, not `CertificateError`, so that it does not shadow
/// `rustls::CertificateError` (a certificate that parsed but was refused).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("certificate could not be parsed: {detail}")]
pub struct CertParseError {
    detail: String,
}

impl CertParseError {
    pub(crate) fn new(detail: impl core::fmt::Display) -> Self {
        Self {
            detail: detail.to_string(),
        }
    }

    /// x509-parser's error in plain words: its `Display` is the parser's
    /// internals (`Der(UnexpectedTag { .. })`, `NomError(Eof)`), which mean
    /// nothing to the person holding the file.
    pub(crate) fn x509(e: x509_parser::nom::Err<x509_parser::error::X509Error>) -> Self {
        use x509_parser::error::X509Error;
        let detail = match e {
            x509_parser::nom::Err::Incomplete(_) => "the data ends before the certificate does",
            x509_parser::nom::Err::Error(e) | x509_parser::nom::Err::Failure(e) => match e {
                X509Error::Der(x509_parser::der_parser::error::BerError::UnexpectedTag {
                    ..
                }) => "not a DER-encoded X.509 certificate",
                X509Error::Der(x509_parser::der_parser::error::BerError::Incomplete(_)) => {
                    "the data ends before the certificate does"
                }
                X509Error::NomError(x509_parser::nom::error::ErrorKind::Eof) => {
                    "the data ends before the certificate does"
                }
                X509Error::InvalidVersion => "unsupported certificate version",
                X509Error::InvalidSerial => "invalid serial number",
                X509Error::InvalidAlgorithmIdentifier => "invalid signature algorithm",
                X509Error::InvalidDate => "invalid validity date",
                X509Error::InvalidExtensions => "invalid extensions",
                _ => "malformed DER: not an X.509 certificate",
            },
        };
        Self::new(detail)
    }
}

/// Reads every certificate from PEM text (any number of `CERTIFICATE`
/// blocks) or from a single DER certificate.
pub fn certificates_from_bytes(bytes: &[u8]) -> Result<Vec<Vec<u8>>, CertParseError> {
    let looks_pem = bytes.windows(11).any(|w| w == b"-----BEGIN ");
    if looks_pem {
        let mut out = Vec::new();
        for item in CertificateDer::pem_slice_iter(bytes) {
            let der = item.map_err(|e| CertParseError::new(format_args!("bad PEM: {e}")))?;
            out.push(der.as_ref().to_vec());
        }
        for der in &out {
            Pin::of_certificate(der)?;
        }
        return Ok(out);
    }
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    Pin::of_certificate(bytes)?;
    Ok(vec![bytes.to_vec()])
}

/// PEM text of one DER certificate.
pub fn to_pem(der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(core::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// What a certificate is, for humans: subject, validity end and pin.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CertificateSummary {
    /// The subject distinguished name (RFC 4514 form).
    pub subject: String,
    /// The issuer distinguished name.
    pub issuer: String,
    /// End of validity, RFC 3339.
    pub not_after: String,
    /// The SPKI pin.
    pub pin: Pin,
}

impl CertificateSummary {
    /// Describes a DER certificate.
    pub fn of(der: &[u8]) -> Result<Self, CertParseError> {
        let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(CertParseError::x509)?;
        let not_after = cert
            .validity()
            .not_after
            .to_datetime()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|_| cert.validity().not_after.to_string());
        Ok(Self {
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            not_after,
            pin: Pin::of_spki(cert.tbs_certificate.subject_pki.raw),
        })
    }
}
