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
            let key = serial.to_ascii_lowercase();
            if key.is_empty() || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(RevocationError::Malformed(format!(
                    "serial {serial:?} is not hexadecimal"
                )));
            }
            entries.insert(key.trim_start_matches('0').to_owned(), entry);
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

    /// The entry for a serial number given as hex (any case, leading zeros allowed).
    pub fn entry(&self, serial_hex: &str) -> Option<&RevocationEntry> {
        let key = serial_hex.to_ascii_lowercase();
        self.entries.get(key.trim_start_matches('0'))
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
