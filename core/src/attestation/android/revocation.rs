//! Google's attestation revocation status list, read from a file.
//!
//! Google publishes the list at `https://android.googleapis.com/attestation/status`;
//! Mamori never fetches it (verification stays offline and reproducible).
//! A server downloads it on its own schedule and passes the bytes in; the
//! SHA-256 of those bytes goes into the result so that a verdict records
//! which list it was checked against.
//!
//! The schema is `{"entries": {"<serial>": {"status": ..., "reason": ...}}}`,
//! where `<serial>` is the certificate serial in lowercase hexadecimal without
//! leading zeros (also when it contains only decimal digits). As in Google's
//! current verifier, only `REVOKED` entries revoke; `SUSPENDED` and other
//! statuses are kept but do not fail verification.

use std::collections::BTreeMap;

use serde::Deserialize;

/// Largest revocation list accepted (the live list is a few hundred KiB).
const MAX_LIST_BYTES: usize = 16 * 1024 * 1024;

/// Why a revocation list could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RevocationError {
    /// The file is not the expected JSON.
    #[error("revocation list: {0}")]
    Malformed(String),
    /// The file is larger than the bound.
    #[error("revocation list is {0} bytes (limit {MAX_LIST_BYTES})")]
    TooLarge(usize),
}

/// One entry of the list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[non_exhaustive]
pub struct RevocationEntry {
    /// `REVOKED`, `SUSPENDED`, or another word.
    pub status: String,
    /// `KEY_COMPROMISE`, `CA_COMPROMISE`, `SUPERSEDED`, `SOFTWARE_FLAW`, `UNSPECIFIED`.
    #[serde(default)]
    pub reason: Option<String>,
    /// Free text.
    #[serde(default)]
    pub comment: Option<String>,
}

#[derive(Deserialize)]
struct Wire {
    entries: BTreeMap<String, RevocationEntry>,
}

/// A parsed revocation status list and the SHA-256 of the bytes it came from.
#[derive(Debug, Clone)]
pub struct RevocationList {
    entries: BTreeMap<String, RevocationEntry>,
    sha256: [u8; 32],
}

impl RevocationList {
    /// Parses the JSON list.
    pub fn from_json(bytes: &[u8]) -> Result<Self, RevocationError> {
        if bytes.len() > MAX_LIST_BYTES {
            return Err(RevocationError::TooLarge(bytes.len()));
        }
        let wire: Wire =
            serde_json::from_slice(bytes).map_err(|e| RevocationError::Malformed(e.to_string()))?;
        let mut entries = BTreeMap::new();
        for (serial, entry) in wire.entries {
            let key = normalized(&serial).ok_or_else(|| {
                RevocationError::Malformed(format!("serial {serial:?} is not hexadecimal"))
            })?;
            entries.insert(key, entry);
        }
        Ok(Self {
            entries,
            sha256: super::super::sha256(&[bytes]),
        })
    }

    /// SHA-256 of the list's bytes.
    pub fn sha256(&self) -> [u8; 32] {
        self.sha256
    }

    /// The entry for a serial number given as hex (any case, leading zeros
    /// allowed, a `-` for a negative serial as Java's
    /// `BigInteger.toString(16)` writes it, which is how Google keys the list).
    pub fn entry(&self, serial_hex: &str) -> Option<&RevocationEntry> {
        self.entries.get(&normalized(serial_hex)?)
    }

    /// The entry for `serial_hex` if its status is `REVOKED`.
    pub fn revoked(&self, serial_hex: &str) -> Option<&RevocationEntry> {
        self.entry(serial_hex).filter(|e| e.status == "REVOKED")
    }

    /// Number of entries, whatever their status.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the list has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Lower case, without leading zeros, keeping a leading `-`; `None` unless
/// hexadecimal digits follow the optional sign.
fn normalized(serial: &str) -> Option<String> {
    let (sign, digits) = match serial.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", serial),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let digits = digits.trim_start_matches('0').to_ascii_lowercase();
    Some(match (sign, digits.is_empty()) {
        (_, true) => "0".to_owned(),
        _ => format!("{sign}{digits}"),
    })
}

/// A certificate serial (the DER INTEGER's two's-complement content bytes)
/// as Google's list keys it: Java's `BigInteger.toString(16)`, so a negative
/// serial (which real, non-conforming devices emit) is `-` and the magnitude.
pub(super) fn serial_key(raw: &[u8]) -> String {
    let negative = raw.first().is_some_and(|b| b & 0x80 != 0);
    let magnitude: Vec<u8> = if negative {
        // Two's complement: invert, then add one.
        let mut m: Vec<u8> = raw.iter().map(|b| !b).collect();
        for b in m.iter_mut().rev() {
            let (v, carry) = b.overflowing_add(1);
            *b = v;
            if !carry {
                break;
            }
        }
        m
    } else {
        raw.to_vec()
    };
    let digits = hex::encode(magnitude);
    let digits = digits.trim_start_matches('0');
    match (negative, digits.is_empty()) {
        (_, true) => "0".to_owned(),
        (true, false) => format!("-{digits}"),
        (false, false) => digits.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_are_keyed_as_java_biginteger_writes_them() {
        assert_eq!(serial_key(&[0x00, 0xab, 0xcd]), "abcd");
        assert_eq!(serial_key(&[0x01]), "1");
        assert_eq!(serial_key(&[0x00]), "0");
        // -1, -256, -0x80: BigInteger.toString(16) gives "-1", "-100", "-80".
        assert_eq!(serial_key(&[0xff]), "-1");
        assert_eq!(serial_key(&[0xff, 0x00]), "-100");
        assert_eq!(serial_key(&[0x80]), "-80");
        assert_eq!(normalized("-00AB").as_deref(), Some("-ab"));
        assert_eq!(normalized("000").as_deref(), Some("0"));
        assert_eq!(normalized("-"), None);
        assert_eq!(normalized("0x12"), None);
        let list = RevocationList::from_json(
            br#"{"entries":{"-1f":{"status":"REVOKED","reason":"KEY_COMPROMISE"}}}"#,
        )
        .unwrap();
        assert!(list.revoked(&serial_key(&[0xe1])).is_some(), "-0x1f");
        assert!(list.revoked("1f").is_none());
    }
}
