//! Certificate plumbing shared by both verifiers: bounded PEM/DER reading and
//! one signature check over a certificate's TBS bytes.
//!
//! Android chains cannot go through webpki as they are (factory chains keep
//! expired intermediates in service, the leaf's validity is set by the device
//! and ignored, and the included root may be an older copy of Google's root),
//! so the Android path walk checks each link itself, with ring doing the
//! cryptography.

use ring::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use x509_parser::certificate::X509Certificate;
use x509_parser::x509::SubjectPublicKeyInfo;

use super::{MAX_CERTIFICATE_BYTES, MAX_CHAIN_CERTIFICATES, MAX_INPUT_BYTES};

const OID_RSA_SHA256: &str = "1.2.840.113549.1.1.11";
const OID_RSA_SHA384: &str = "1.2.840.113549.1.1.12";
const OID_RSA_SHA512: &str = "1.2.840.113549.1.1.13";
const OID_ECDSA_SHA256: &str = "1.2.840.10045.4.3.2";
const OID_ECDSA_SHA384: &str = "1.2.840.10045.4.3.3";
const OID_ED25519: &str = "1.3.101.112";
const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_P384: &str = "1.3.132.0.34";

/// Every `CERTIFICATE` block of PEM text, in order, within the size and count
/// bounds of the module.
pub(crate) fn pem_certificates(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(format!(
            "input is {} bytes (limit {MAX_INPUT_BYTES})",
            bytes.len()
        ));
    }
    let mut out = Vec::new();
    for item in CertificateDer::pem_slice_iter(bytes) {
        let der = item.map_err(|e| format!("bad PEM: {e}"))?;
        if out.len() == MAX_CHAIN_CERTIFICATES {
            return Err(format!("more than {MAX_CHAIN_CERTIFICATES} certificates"));
        }
        out.push(der.as_ref().to_vec());
    }
    if out.is_empty() {
        return Err("no PEM CERTIFICATE block".into());
    }
    Ok(out)
}

/// One DER certificate, whole (no trailing bytes) and within the size bound.
pub(crate) fn parse_certificate(der: &[u8]) -> Result<X509Certificate<'_>, String> {
    if der.len() > MAX_CERTIFICATE_BYTES {
        return Err(format!(
            "certificate is {} bytes (limit {MAX_CERTIFICATE_BYTES})",
            der.len()
        ));
    }
    match x509_parser::parse_x509_certificate(der) {
        Ok((rest, _)) if !rest.is_empty() => Err("trailing bytes after the certificate".into()),
        Ok((_, cert)) => Ok(cert),
        Err(e) => Err(e.to_string()),
    }
}

/// Checks that `cert` is signed by the key in `issuer`. RSA keys under 2048
/// bits are accepted only with `legacy_rsa` (Google's RSA software root is
/// 1024 bits).
pub(crate) fn verify_signed_by(
    cert: &X509Certificate<'_>,
    issuer: &SubjectPublicKeyInfo<'_>,
    legacy_rsa: bool,
) -> Result<(), String> {
    let outer = &cert.signature_algorithm;
    let inner = &cert.tbs_certificate.signature;
    if outer.algorithm != inner.algorithm || outer.parameters != inner.parameters {
        return Err("signature algorithm differs inside and outside the TBS".into());
    }
    let sig_oid = outer.algorithm.to_id_string();
    let curve = issuer
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|o| o.to_id_string());
    let alg: &'static dyn VerificationAlgorithm = match (sig_oid.as_str(), curve.as_deref()) {
        (OID_RSA_SHA256, _) if legacy_rsa => {
            &signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY
        }
        (OID_RSA_SHA256, _) => &signature::RSA_PKCS1_2048_8192_SHA256,
        (OID_RSA_SHA384, _) => &signature::RSA_PKCS1_2048_8192_SHA384,
        (OID_RSA_SHA512, _) if legacy_rsa => {
            &signature::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY
        }
        (OID_RSA_SHA512, _) => &signature::RSA_PKCS1_2048_8192_SHA512,
        (OID_ECDSA_SHA256, Some(OID_P256)) => &signature::ECDSA_P256_SHA256_ASN1,
        (OID_ECDSA_SHA256, Some(OID_P384)) => &signature::ECDSA_P384_SHA256_ASN1,
        (OID_ECDSA_SHA384, Some(OID_P256)) => &signature::ECDSA_P256_SHA384_ASN1,
        (OID_ECDSA_SHA384, Some(OID_P384)) => &signature::ECDSA_P384_SHA384_ASN1,
        (OID_ED25519, _) => &signature::ED25519,
        (other, curve) => {
            return Err(format!(
                "unsupported signature algorithm {other} (issuer curve {})",
                curve.unwrap_or("none")
            ));
        }
    };
    UnparsedPublicKey::new(alg, &issuer.subject_public_key.data)
        .verify(cert.tbs_certificate.as_ref(), &cert.signature_value.data)
        .map_err(|_| "signature does not verify under the issuer's key".into())
}
