//! The strict profile: FinTech hardening beyond the Web PKI baseline.
//!
//! webpki implements what browsers accept; a bank's API can ask for more.
//! These checks run only after webpki accepted the path, on the verified
//! path (leaf, intermediates) and its anchor's key, so they never widen what
//! is trusted, only narrow it. Each refusal is one [`StrictViolation`]
//! variant, so the rule that fired is data, not a sentence. The profile is
//! chosen in the policy (`profile = "strict"`, [`super::Profile::Strict`]).

use super::failure::StrictViolation;
use super::host::{Host, is_public_suffix};
use super::verify::Position;

// OIDs the strict profile refuses.
const OID_DSA: &str = "1.2.840.10040.4.1";
const OID_P192: &str = "1.2.840.10045.3.1.1";

/// The strict profile (FinTech hardening beyond the Web PKI baseline).
///
/// Runs after webpki accepted the path, on the verified path (leaf,
/// intermediates) and its anchor's key:
/// - keys: no DSA, no P-192, RSA of at least 2048 bits and a whole number
///   of bytes, for every key of the path including the anchor's;
/// - the leaf names serverAuth and not anyExtendedKeyUsage, may not sign
///   certificates, and does not cover the host only through a wildcard
///   directly under a public suffix;
/// - every leaf and intermediate is well formed: all extensions parse, and
///   the serial number is positive and at most 20 octets.
pub(super) fn check_path(
    host: &Host,
    path: &[(Position, Vec<u8>)],
    anchor_spki: &[u8],
) -> Result<(), StrictViolation> {
    use x509_parser::prelude::FromDer;
    let (_, anchor_key) =
        x509_parser::x509::SubjectPublicKeyInfo::from_der(anchor_spki).map_err(|e| {
            StrictViolation::AnchorKeyUnreadable {
                detail: e.to_string(),
            }
        })?;
    check_key(Position::Anchor, &anchor_key)?;
    for (pos, der) in path {
        let (_, cert) =
            x509_parser::parse_x509_certificate(der).map_err(|e| StrictViolation::Unparseable {
                detail: e.to_string(),
            })?;
        check_key(*pos, &cert.tbs_certificate.subject_pki)?;
        well_formed(*pos, &cert)?;
        if *pos != Position::Leaf {
            continue;
        }
        match cert.extended_key_usage() {
            // CABF BR 7.1.2.7.10: a server certificate must not allow every
            // usage; anyExtendedKeyUsage next to serverAuth defeats the EKU.
            Ok(Some(eku)) if eku.value.any => {
                return Err(StrictViolation::AnyExtendedKeyUsage);
            }
            Ok(Some(eku)) if eku.value.server_auth => {}
            Ok(_) => {
                return Err(StrictViolation::NoServerAuth);
            }
            Err(e) => {
                return Err(StrictViolation::EkuUnreadable {
                    detail: e.to_string(),
                });
            }
        }
        // RFC 5280 4.2.1.3: keyCertSign is for CA certificates only. A leaf
        // that may sign certificates is one key compromise away from a
        // private CA for any name. (webpki already refuses CA:TRUE leaves.)
        if let Ok(Some(ku)) = cert.key_usage() {
            if ku.value.key_cert_sign() {
                return Err(StrictViolation::LeafSignsCertificates);
            }
        }
        if let Host::Dns(name) = host {
            relies_on_public_suffix_wildcard(&cert, name)?;
        }
    }
    Ok(())
}

/// Key strength for one key of the path. RSA moduli must be at least 2048
/// bits and a multiple of 8 bits (CABF BR 6.1.5): odd sizes come from broken
/// or hand-rolled key generation.
fn check_key(
    pos: Position,
    spki: &x509_parser::x509::SubjectPublicKeyInfo<'_>,
) -> Result<(), StrictViolation> {
    use x509_parser::public_key::PublicKey;
    let alg = spki.algorithm.algorithm.to_id_string();
    if alg == OID_DSA {
        return Err(StrictViolation::DsaKey { position: pos });
    }
    if let Some(params) = &spki.algorithm.parameters {
        if let Ok(oid) = params.as_oid() {
            if oid.to_id_string() == OID_P192 {
                return Err(StrictViolation::P192Key { position: pos });
            }
        }
    }
    if let Ok(PublicKey::RSA(rsa)) = spki.parsed() {
        let bits = rsa_modulus_bits(rsa.modulus);
        if bits < 2048 {
            return Err(StrictViolation::RsaKeyTooShort {
                position: pos,
                bits,
            });
        }
        if bits % 8 != 0 {
            return Err(StrictViolation::RsaKeyOddLength {
                position: pos,
                bits,
            });
        }
    }
    Ok(())
}

/// The bit length of an RSA modulus given as a DER INTEGER's content bytes.
/// (x509-parser's `RSAPublicKey::key_size` counts whole bytes after one
/// assumed sign byte, so it reports a 2052-bit modulus as 2048 bits.)
fn rsa_modulus_bits(modulus: &[u8]) -> u32 {
    let significant: &[u8] = match modulus.iter().position(|b| *b != 0) {
        Some(i) => &modulus[i..],
        None => return 0,
    };
    // A modulus longer than 512 MiB is not a key: saturate rather than wrap.
    u32::try_from(significant.len() * 8)
        .unwrap_or(u32::MAX)
        .saturating_sub(significant[0].leading_zeros())
}

/// Well-formedness webpki tolerates: every extension of a path certificate
/// must parse (a malformed extension is one that another stack, such as the
/// platform verifier running beside Mamori, may read differently), and the
/// serial number must be positive and at most 20 octets (RFC 5280 4.1.2.2).
fn well_formed(
    pos: Position,
    cert: &x509_parser::certificate::X509Certificate<'_>,
) -> Result<(), StrictViolation> {
    for ext in cert.extensions() {
        if let x509_parser::extensions::ParsedExtension::ParseError { error } =
            ext.parsed_extension()
        {
            return Err(StrictViolation::MalformedExtension {
                position: pos,
                oid: ext.oid.to_id_string(),
                detail: error.to_string(),
            });
        }
    }
    let serial = cert.raw_serial();
    let positive = serial.first().is_some_and(|b| b & 0x80 == 0) && serial.iter().any(|b| *b != 0);
    if !positive || serial.len() > 20 {
        return Err(StrictViolation::BadSerialNumber { position: pos });
    }
    Ok(())
}

/// Refuses a connection to `host` that is only covered by a leaf wildcard
/// sitting directly under a public suffix (`*.co.uk`, `*.s3.amazonaws.com`):
/// such a name spans many unrelated owners, so CAs must not issue it (CABF BR
/// 3.2.2.6). The name the connection relies on is what is judged: a
/// certificate that also carries such a wildcard but names `host` exactly
/// (Amazon's own `s3.amazonaws.com` certificate) is not refused for it.
fn relies_on_public_suffix_wildcard(
    cert: &x509_parser::certificate::X509Certificate<'_>,
    host: &str,
) -> Result<(), StrictViolation> {
    use x509_parser::extensions::GeneralName;
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return Ok(());
    };
    let dns_names: Vec<String> = san
        .value
        .general_names
        .iter()
        .filter_map(|n| match n {
            GeneralName::DNSName(d) => Some(d.to_ascii_lowercase()),
            _ => None,
        })
        .collect();
    if dns_names.iter().any(|d| d.trim_end_matches('.') == host) {
        return Ok(());
    }
    let Some((_, parent)) = host.split_once('.') else {
        return Ok(());
    };
    for dns in &dns_names {
        if dns
            .strip_prefix("*.")
            .is_some_and(|base| base.trim_end_matches('.') == parent)
            && is_public_suffix(parent)
        {
            return Err(StrictViolation::PublicSuffixWildcard {
                host: host.to_owned(),
                wildcard: dns.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::rsa_modulus_bits;

    #[test]
    fn rsa_modulus_bits_counts_significant_bits() {
        // DER content of a 2048-bit modulus: a sign byte then 256 bytes.
        let mut m2048 = vec![0u8];
        m2048.extend([0x80; 256]);
        assert_eq!(rsa_modulus_bits(&m2048), 2048);
        // 2052 bits: 257 bytes, the first holding 4 bits, no sign byte.
        let mut m2052 = vec![0x0f];
        m2052.extend([0xff; 256]);
        assert_eq!(rsa_modulus_bits(&m2052), 2052);
        assert_eq!(rsa_modulus_bits(&[0x00, 0x01]), 1);
        assert_eq!(rsa_modulus_bits(&[]), 0);
        assert_eq!(rsa_modulus_bits(&[0, 0]), 0);
    }
}
