//! Which certificate signed an APK, so an evidence report names exactly the
//! build that was audited (the digest `apksigner verify --print-certs` and
//! Play Console show).
//!
//! * v2 / v3 / v3.1: the APK Signing Block, which sits between the last
//!   entry and the central directory: `size, (len, id, value)*, size, "APK
//!   Sig Block 42"`. Each scheme's value is a length-prefixed list of
//!   signers, each with its signed data holding length-prefixed DER
//!   certificates. Every length is checked against its container, and the
//!   block against [`super::zip::MAX_ENTRY_BYTES`].
//! * v1 (JAR signing): the PKCS#7 `SignedData` in `META-INF/*.RSA|EC|DSA`,
//!   walked with `asn1-rs` to its `certificates` field.
//!
//! This reads certificates; it does not verify signatures (Android does
//! that at install time, and an audit of a tampered file is still an audit
//! of that file: its SHA-256 is reported too).

use x509_parser::asn1_rs::{Any, FromBer as _};

use super::res::{Malformed, Res, bad};
use super::zip::Archive;
use super::{AppPackage, PackageError, SigningCertificate};

const MAGIC: &[u8; 16] = b"APK Sig Block 42";
const SCHEMES: [(u32, &str); 3] = [
    (0x7109_871a, "v2"),
    (0xf053_68c0, "v3"),
    (0x1b93_ad61, "v3.1"),
];

fn le32(b: &[u8], at: usize) -> Res<u32> {
    super::res::u32_at(b, at)
}

fn le64(b: &[u8], at: usize) -> Res<u64> {
    match at.checked_add(8).and_then(|e| b.get(at..e)) {
        Some(s) => Ok(u64::from_le_bytes(s.try_into().unwrap_or_default())),
        None => bad(format!(
            "read of 8 bytes at offset {at} beyond {} bytes",
            b.len()
        )),
    }
}

/// A u32-length-prefixed slice at `*at` within `b`; advances `*at`.
fn prefixed<'a>(b: &'a [u8], at: &mut usize) -> Res<&'a [u8]> {
    let n = le32(b, *at)? as usize;
    let start = *at + 4;
    let s = start
        .checked_add(n)
        .and_then(|e| b.get(start..e))
        .ok_or_else(|| {
            Malformed(format!(
                "{n} bytes at offset {start} run past their container"
            ))
        })?;
    *at = start + n;
    Ok(s)
}

/// The id → value pairs of a signing block (the bytes between its two size
/// fields).
pub(crate) fn block_pairs(block: &[u8]) -> Res<Vec<(u32, &[u8])>> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < block.len() {
        let len = le64(block, at)?;
        let len = usize::try_from(len).map_err(|_| Malformed(format!("pair length {len}")))?;
        if len < 4 {
            return bad(format!("pair of {len} bytes at offset {at}"));
        }
        let start = at + 8;
        let v = start
            .checked_add(len)
            .and_then(|e| block.get(start..e))
            .ok_or_else(|| {
                Malformed(format!(
                    "pair of {len} bytes at offset {at} runs past the block"
                ))
            })?;
        out.push((le32(v, 0)?, &v[4..]));
        at = start + len;
    }
    Ok(out)
}

/// The first certificate (DER) of each signer of a v2/v3 scheme value.
pub(crate) fn scheme_certificates(value: &[u8]) -> Res<Vec<Vec<u8>>> {
    let mut at = 0;
    let signers = prefixed(value, &mut at)?;
    let mut out = Vec::new();
    let mut s_at = 0;
    while s_at < signers.len() {
        let signer = prefixed(signers, &mut s_at)?;
        let mut p = 0;
        let signed = prefixed(signer, &mut p)?;
        let mut q = 0;
        let _digests = prefixed(signed, &mut q)?;
        let certs = prefixed(signed, &mut q)?;
        let mut c = 0;
        if c < certs.len() {
            out.push(prefixed(certs, &mut c)?.to_vec());
        }
    }
    Ok(out)
}

/// The signing block's bytes (between the size fields), if the APK has one.
fn signing_block(a: &mut Archive) -> Result<Option<Vec<u8>>, PackageError> {
    let cd = a.cd_offset;
    if cd < 32 {
        return Ok(None);
    }
    let footer = a.raw(cd - 24, 24)?;
    if &footer[8..] != MAGIC {
        return Ok(None);
    }
    let size = u64::from_le_bytes(footer[..8].try_into().unwrap_or_default());
    let file = a.file.clone();
    let malformed = |reason: String| PackageError::Malformed {
        file: file.clone(),
        entry: "APK Signing Block".into(),
        what: "APK signing block",
        reason,
    };
    if size < 24 || size.checked_add(8).is_none_or(|t| t > cd) {
        return Err(malformed(format!(
            "block size {size} does not fit before the central directory at {cd}"
        )));
    }
    let start = cd - size - 8;
    let block = a.raw(start, size + 8)?;
    if le64(&block, 0).ok() != Some(size) {
        return Err(malformed("the two block sizes differ".into()));
    }
    // Pairs sit between the leading size and the trailing size + magic.
    Ok(Some(block[8..block.len() - 24].to_vec()))
}

pub(crate) fn describe(scheme: &str, der: &[u8]) -> SigningCertificate {
    let subject = x509_parser::parse_x509_certificate(der)
        .map(|(_, c)| c.subject().to_string())
        .unwrap_or_else(|e| format!("(unparsable certificate: {e})"));
    SigningCertificate {
        scheme: scheme.to_owned(),
        sha256: hex::encode(ring::digest::digest(&ring::digest::SHA256, der)),
        subject,
        verified: false,
    }
}

/// The certificates of a PKCS#7 `SignedData` (`ContentInfo` → `[0]` →
/// `SignedData` → `certificates [0] IMPLICIT`).
pub(crate) fn pkcs7_certificates(b: &[u8]) -> Res<Vec<Vec<u8>>> {
    let fields = signed_data_fields(b)?;
    // version, digestAlgorithms, encapContentInfo, then [0] certificates.
    let Some(certs) = fields
        .iter()
        .skip(3)
        .find(|f| f.header.is_contextspecific() && f.header.tag().0 == 0)
    else {
        return bad("no certificates in the PKCS#7 signature");
    };
    let mut out = Vec::new();
    let mut rest = certs.data;
    while !rest.is_empty() {
        let (after, _c) = Any::from_ber(rest).map_err(asn1_err)?;
        let n = rest.len() - after.len();
        out.push(rest[..n].to_vec());
        rest = after;
    }
    Ok(out)
}

/// The fields of a PKCS#7 / CMS `SignedData` (`ContentInfo` → `[0]` →
/// `SignedData`), in order.
fn signed_data_fields(b: &[u8]) -> Res<Vec<Any<'_>>> {
    let (_, info) = Any::from_ber(b).map_err(asn1_err)?;
    let (rest, _oid) = Any::from_ber(info.data).map_err(asn1_err)?;
    let (_, explicit) = Any::from_ber(rest).map_err(asn1_err)?;
    let (_, signed) = Any::from_ber(explicit.data).map_err(asn1_err)?;
    let mut inner = signed.data;
    let mut out = Vec::new();
    // SignedData has six fields; more is not SignedData.
    while !inner.is_empty() && out.len() < 8 {
        let (rest, field) = Any::from_ber(inner).map_err(asn1_err)?;
        out.push(field);
        inner = rest;
    }
    Ok(out)
}

fn asn1_err(e: x509_parser::asn1_rs::Err<x509_parser::asn1_rs::Error>) -> Malformed {
    Malformed(e.to_string())
}

/// The signed content of a CMS `SignedData` (`encapContentInfo` →
/// `eContent`): the plist inside an `embedded.mobileprovision`.
pub(crate) fn pkcs7_content(b: &[u8]) -> Res<Vec<u8>> {
    let fields = signed_data_fields(b)?;
    let encap = fields
        .get(2)
        .ok_or_else(|| Malformed("SignedData without encapContentInfo".into()))?;
    let (rest, _oid) = Any::from_ber(encap.data).map_err(asn1_err)?;
    let (_, explicit) = Any::from_ber(rest).map_err(asn1_err)?;
    let (_, octets) = Any::from_ber(explicit.data).map_err(asn1_err)?;
    Ok(octets.data.to_vec())
}

/// Fills `pkg.signing_certificates` from the signing block and the v1
/// signature files.
pub(crate) fn read_apk_signatures(
    a: &mut Archive,
    pkg: &mut AppPackage,
) -> Result<(), PackageError> {
    let file = a.file.clone();
    if let Some(block) = signing_block(a)? {
        let bad_block = |Malformed(reason)| PackageError::Malformed {
            file: file.clone(),
            entry: "APK Signing Block".into(),
            what: "APK signing block",
            reason,
        };
        for (id, value) in block_pairs(&block).map_err(bad_block)? {
            if let Some((_, scheme)) = SCHEMES.iter().find(|(i, _)| *i == id) {
                for der in scheme_certificates(value).map_err(bad_block)? {
                    pkg.signing_certificates.push(describe(scheme, &der));
                }
            }
        }
    }
    let v1: Vec<String> = a
        .names()
        .filter(|n| {
            n.starts_with("META-INF/")
                && !n[9..].contains('/')
                && [".RSA", ".EC", ".DSA"]
                    .iter()
                    .any(|x| n.to_ascii_uppercase().ends_with(x))
        })
        .map(str::to_owned)
        .collect();
    for name in v1 {
        if let Some(bytes) = a.read(&name)? {
            let certs = pkcs7_certificates(&bytes).map_err(super::apk::malformed(
                &file,
                &name,
                "PKCS#7 signature",
            ))?;
            // The signer's certificate is the first one jarsigner/apksigner write.
            if let Some(der) = certs.first() {
                pkg.signing_certificates.push(describe("v1", der));
            }
        }
    }
    Ok(())
}
