//! The AEAD layer: AES-256-GCM from ring, behind one small type.
//!
//! Everything in this module that encrypts goes through [`AeadKey`], so the
//! Wycheproof vectors (`core/tests/storage_wycheproof.rs`) exercise exactly the
//! code path that envelopes and streams use. Only 256-bit keys, 96-bit nonces and
//! 128-bit tags are accepted; anything else is a typed error, never a fallback.

use std::fmt;

use mamori_wipe::WipeOnDrop;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

use super::error::StorageError;

/// Key length in bytes (AES-256).
pub(super) const KEY_LEN: usize = 32;
/// Nonce length in bytes.
pub(super) const NONCE_SIZE: usize = NONCE_LEN;
/// Tag length in bytes.
pub(super) const TAG_LEN: usize = 16;

/// An AES-256-GCM key, expanded once and reused.
///
/// ring's key schedule starts with the raw key and ring does not wipe it, so it
/// lives in a [`WipeOnDrop`] box: one heap copy, zeroed before it is freed (NEW-1,
/// `docs/memory.md`).
pub struct AeadKey {
    key: WipeOnDrop<LessSafeKey>,
}

impl fmt::Debug for AeadKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AeadKey(<redacted>)")
    }
}

impl AeadKey {
    /// A key from raw bytes; only 32 bytes are accepted.
    pub fn new(bytes: &[u8]) -> Result<Self, StorageError> {
        if bytes.len() != KEY_LEN {
            return Err(StorageError::InvalidInput {
                what: "AES key",
                reason: format!("{} bytes, expected {KEY_LEN}", bytes.len()),
            });
        }
        let unbound =
            UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| StorageError::InvalidInput {
                what: "AES key",
                reason: "rejected by ring".into(),
            })?;
        Ok(Self::from_unbound(unbound))
    }

    pub(crate) fn from_unbound(unbound: UnboundKey) -> Self {
        Self {
            key: WipeOnDrop::new(LessSafeKey::new(unbound)),
        }
    }

    fn nonce(nonce: &[u8]) -> Result<Nonce, StorageError> {
        Nonce::try_assume_unique_for_key(nonce).map_err(|_| StorageError::InvalidInput {
            what: "nonce",
            reason: format!("{} bytes, expected {NONCE_SIZE}", nonce.len()),
        })
    }

    /// Encrypts `buf[from..]` in place and appends the tag. Bytes before `from`
    /// (e.g. a header) are left alone, so callers build header and ciphertext in
    /// one allocation.
    pub fn seal_in_place_from(
        &self,
        nonce: &[u8],
        aad: &[u8],
        buf: &mut Vec<u8>,
        from: usize,
    ) -> Result<(), StorageError> {
        let nonce = Self::nonce(nonce)?;
        let tag = self
            .key
            .seal_in_place_separate_tag(nonce, Aad::from(aad), &mut buf[from..])
            .map_err(|_| StorageError::InvalidInput {
                what: "plaintext",
                reason: "too long for AES-GCM".into(),
            })?;
        buf.extend_from_slice(tag.as_ref());
        Ok(())
    }

    /// Encrypts `plaintext`, returning `ciphertext ‖ tag`.
    pub fn seal(
        &self,
        nonce: &[u8],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, StorageError> {
        let mut buf = Vec::with_capacity(plaintext.len() + TAG_LEN);
        buf.extend_from_slice(plaintext);
        self.seal_in_place_from(nonce, aad, &mut buf, 0)?;
        Ok(buf)
    }

    /// Decrypts `ciphertext ‖ tag` in place; returns the plaintext slice.
    pub fn open_in_place<'a>(
        &self,
        nonce: &[u8],
        aad: &[u8],
        buf: &'a mut [u8],
    ) -> Result<&'a mut [u8], StorageError> {
        let nonce = Self::nonce(nonce)?;
        if buf.len() < TAG_LEN {
            return Err(StorageError::AuthenticationFailed);
        }
        self.key
            .open_in_place(nonce, Aad::from(aad), buf)
            .map_err(|_| StorageError::AuthenticationFailed)
    }
}
