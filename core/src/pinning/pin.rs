//! SPKI pins: `sha256/<base64>` of a certificate's SubjectPublicKeyInfo.
//!
//! Pinning the public key rather than the certificate survives certificate
//! renewal with the same key, which is what lets an app keep a backup pin for
//! a spare key (BP-5). The textual form is OkHttp's (`sha256/…`); TrustKit,
//! Android's network security config and Apple's `NSPinnedDomains` carry the
//! same 32-byte digest in bare base64.

use core::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::digest;

use super::certs::CertParseError;

/// A SHA-256 digest of a DER-encoded SubjectPublicKeyInfo.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pin([u8; 32]);

/// Why a pin string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PinParseError {
    /// `sha1/` pins are refused: SHA-1 is broken for this purpose and OkHttp
    /// dropped them too.
    #[error("sha1/ pins are not accepted; use the sha256/ pin of the same key")]
    Sha1,
    /// A hash algorithm other than SHA-256 was named.
    #[error("unsupported pin algorithm {0:?}; only sha256/ is supported")]
    UnsupportedAlgorithm(String),
    /// The pin does not start with `sha256/`.
    #[error("a pin must look like \"sha256/<base64 of 32 bytes>\"")]
    MissingPrefix,
    /// The text after `sha256/` is not valid standard base64.
    #[error("pin is not valid base64")]
    Base64,
    /// The base64 decodes to the wrong number of bytes.
    #[error("pin decodes to {0} bytes; a SHA-256 pin has 32")]
    Length(usize),
}

impl Pin {
    /// The pin of a DER-encoded SubjectPublicKeyInfo (outer SEQUENCE included).
    pub fn of_spki(spki_der: &[u8]) -> Self {
        let d = digest::digest(&digest::SHA256, spki_der);
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_ref());
        Self(out)
    }

    /// The pin of a DER-encoded X.509 certificate's public key.
    pub fn of_certificate(cert_der: &[u8]) -> Result<Self, CertParseError> {
        let (_, cert) =
            x509_parser::parse_x509_certificate(cert_der).map_err(CertParseError::x509)?;
        Ok(Self::of_spki(cert.tbs_certificate.subject_pki.raw))
    }

    /// Builds a pin from its raw 32-byte digest.
    pub fn from_digest(digest: [u8; 32]) -> Self {
        Self(digest)
    }

    /// Parses a `sha256/<base64>` pin.
    pub fn parse(text: &str) -> Result<Self, PinParseError> {
        let text = text.trim();
        let Some((alg, b64)) = text.split_once('/') else {
            return Err(PinParseError::MissingPrefix);
        };
        // A bare base64 digest can itself contain '/': say what is missing.
        if STANDARD.decode(text).is_ok() {
            return Err(PinParseError::MissingPrefix);
        }
        // Base64 itself may contain '/', so the split above takes the first one:
        // a bare base64 pin whose first '/' comes late shows up as a long "alg".
        if alg.len() > 10 || alg.chars().any(|c| !c.is_ascii_alphanumeric()) {
            return Err(PinParseError::MissingPrefix);
        }
        match alg.to_ascii_lowercase().as_str() {
            "sha256" => Self::parse_base64(b64),
            "sha1" => Err(PinParseError::Sha1),
            other => Err(PinParseError::UnsupportedAlgorithm(other.to_owned())),
        }
    }

    /// Parses a bare base64 SHA-256 digest, as TrustKit, NSC and ATS write it.
    pub fn parse_base64(b64: &str) -> Result<Self, PinParseError> {
        let bytes = STANDARD
            .decode(b64.trim())
            .map_err(|_| PinParseError::Base64)?;
        let arr: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| PinParseError::Length(bytes.len()))?;
        Ok(Self(arr))
    }

    /// The bare base64 digest (TrustKit / NSC form).
    pub fn base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// The raw digest.
    pub fn digest(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Encoded on the stack: a pin is printed in every decision's reason.
        let mut b64 = [0u8; 44];
        let n = STANDARD
            .encode_slice(self.0, &mut b64)
            .map_err(|_| fmt::Error)?;
        f.write_str("sha256/")?;
        f.write_str(core::str::from_utf8(&b64[..n]).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pin({self})")
    }
}

impl core::str::FromStr for Pin {
    type Err = PinParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for Pin {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Pin {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Wraps DER contents back into an outer SEQUENCE. webpki's trust anchors
/// keep only the contents of their SubjectPublicKeyInfo and subject Name, but
/// pins are defined over the full SPKI encoding.
pub(crate) fn wrap_der_sequence(contents: &[u8]) -> Vec<u8> {
    let len = contents.len();
    let mut out = Vec::with_capacity(len + 6);
    out.push(0x30);
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(contents);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let p = Pin::parse("sha256/r/mIkG3eEpVdm+u/ko/cwxzOMo1bk4TyHIlByibiA5E=").unwrap();
        assert_eq!(
            p.to_string(),
            "sha256/r/mIkG3eEpVdm+u/ko/cwxzOMo1bk4TyHIlByibiA5E="
        );
        assert_eq!(p.base64(), "r/mIkG3eEpVdm+u/ko/cwxzOMo1bk4TyHIlByibiA5E=");
    }

    #[test]
    fn refuses_bad_pins() {
        assert_eq!(
            Pin::parse("sha1/BOGUSPIN0000000000000000000="),
            Err(PinParseError::Sha1)
        );
        assert_eq!(
            Pin::parse("sha512/AAAA"),
            Err(PinParseError::UnsupportedAlgorithm("sha512".into()))
        );
        assert_eq!(
            Pin::parse("r/mIkG3eEpVdm+u/ko/cwxzOMo1bk4TyHIlByibiA5E="),
            Err(PinParseError::MissingPrefix)
        );
        assert_eq!(Pin::parse("sha256/not base64!"), Err(PinParseError::Base64));
        assert_eq!(Pin::parse("sha256/AAAA"), Err(PinParseError::Length(3)));
        assert_eq!(Pin::parse("no-slash"), Err(PinParseError::MissingPrefix));
    }

    #[test]
    fn spki_wrap_matches_der_lengths() {
        assert_eq!(wrap_der_sequence(&[1, 2]), vec![0x30, 2, 1, 2]);
        let long = vec![7u8; 300];
        let w = wrap_der_sequence(&long);
        assert_eq!(&w[..4], &[0x30, 0x82, 0x01, 0x2c]);
        assert_eq!(w.len(), 304);
    }
}
