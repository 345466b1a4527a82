//! Key-encryption keys (KEKs): the keys that wrap data keys.
//!
//! Only a 32-byte data key (DEK) ever crosses into a KEK; bulk data is encrypted in
//! Rust with ring. That is the whole point: Android Keystore, StrongBox and the
//! Secure Enclave cost milliseconds to seconds per operation (see
//! `docs/envelope-format.md`), so they are asked once per session, not per item.
//!
//! A KEK reports its [`SecurityLevel`] so that a store policy can refuse keys that
//! are too weak (DEV-1: a software key is fine for tests, not for production), and a
//! stable [`Kek::key_id`] so that a ciphertext names the key that can open it.

use std::fmt;

use mamori_wipe::WipeOnDrop;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::digest;
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use super::error::KekError;

/// Length in bytes of a data key.
pub const DEK_LEN: usize = 32;

/// Where a key-encryption key lives, from weakest to strongest.
///
/// The order is meaningful: `a >= b` means "at least as strong as". StrongBox and
/// the Secure Enclave are both dedicated secure elements and rank equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum SecurityLevel {
    /// Key bytes in process memory (tests, or a key from a KDF).
    Software,
    /// The OS credential store (Secret Service, macOS/iOS keychain, Windows
    /// Credential Manager): protected by the OS, but usable by software.
    OsKeyring,
    /// A trusted execution environment (Android Keystore/KeyMint in the TEE).
    Tee,
    /// Android StrongBox (a dedicated secure element).
    StrongBox,
    /// The Apple Secure Enclave.
    SecureEnclave,
}

impl SecurityLevel {
    fn rank(self) -> u8 {
        match self {
            SecurityLevel::Software => 0,
            SecurityLevel::OsKeyring => 1,
            SecurityLevel::Tee => 2,
            SecurityLevel::StrongBox | SecurityLevel::SecureEnclave => 3,
        }
    }

    /// Whether this level is at least as strong as `required`.
    pub fn satisfies(self, required: SecurityLevel) -> bool {
        self.rank() >= required.rank()
    }
}

/// A key-encryption key: wraps and unwraps 32-byte data keys.
///
/// Implementations must be authenticated encryption: `unwrap` of anything that
/// `wrap` did not produce with the same `aad` must fail (with
/// [`KekError::UnwrapFailed`]). Platform implementations come through the FFI
/// (Kotlin: Android Keystore, Swift: Secure Enclave).
pub trait Kek: Send + Sync {
    /// A stable identifier of this key (the same across process restarts, different
    /// for a regenerated key). Recorded in every ciphertext header; at most 255 bytes.
    fn key_id(&self) -> String;

    /// Where the key lives.
    fn security_level(&self) -> SecurityLevel;

    /// Wraps a data key, binding `aad` to it.
    fn wrap(&self, dek: &[u8; DEK_LEN], aad: &[u8]) -> Result<Vec<u8>, KekError>;

    /// Unwraps a data key wrapped with the same `aad`.
    fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> Result<Zeroizing<[u8; DEK_LEN]>, KekError>;

    /// Destroys the key (crypto-shredding). The default says it is unsupported.
    fn destroy(&self) -> Result<(), KekError> {
        Err(KekError::Unsupported {
            operation: "destroy",
        })
    }
}

/// AES-256-GCM wrap shared by the Rust KEKs: `nonce(12) ‖ ciphertext(32) ‖ tag(16)`.
pub(crate) fn gcm_wrap(
    key: &LessSafeKey,
    dek: &[u8; DEK_LEN],
    aad: &[u8],
) -> Result<Vec<u8>, KekError> {
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| KekError::Backend {
            reason: "system random generator failed".into(),
        })?;
    let mut out = Vec::with_capacity(NONCE_LEN + DEK_LEN + 16);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(dek);
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut out[NONCE_LEN..],
        )
        .map_err(|_| KekError::Backend {
            reason: "AES-GCM seal failed".into(),
        })?;
    out.extend_from_slice(tag.as_ref());
    Ok(out)
}

/// Inverse of [`gcm_wrap`].
pub(crate) fn gcm_unwrap(
    key: &LessSafeKey,
    wrapped: &[u8],
    aad: &[u8],
) -> Result<Zeroizing<[u8; DEK_LEN]>, KekError> {
    if wrapped.len() != NONCE_LEN + DEK_LEN + 16 {
        return Err(KekError::UnwrapFailed);
    }
    let nonce = Nonce::try_assume_unique_for_key(&wrapped[..NONCE_LEN])
        .map_err(|_| KekError::UnwrapFailed)?;
    let mut buf = Zeroizing::new(wrapped[NONCE_LEN..].to_vec());
    let plain = key
        .open_in_place(nonce, Aad::from(aad), &mut buf)
        .map_err(|_| KekError::UnwrapFailed)?;
    let mut dek = Zeroizing::new([0u8; DEK_LEN]);
    dek.copy_from_slice(plain);
    Ok(dek)
}

/// An expanded AES-256-GCM key in a box that is wiped before it is freed (ring's
/// key schedule begins with the raw key; see `mamori-wipe`).
pub(crate) fn aes_key(bytes: &[u8; DEK_LEN]) -> WipeOnDrop<LessSafeKey> {
    // ring only fails for a wrong key length, which the type rules out.
    WipeOnDrop::new(LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, bytes).expect("32-byte AES-256 key"),
    ))
}

/// A stable, non-secret id for key bytes: `prefix` + 16 hex digits of
/// SHA-256("mamori kek id v1" ‖ key). One-way, so it reveals nothing usable.
pub(crate) fn fingerprint_id(prefix: &str, key: &[u8]) -> String {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(b"mamori kek id v1");
    ctx.update(key);
    let d = ctx.finish();
    format!("{prefix}{}", hex::encode(&d.as_ref()[..8]))
}

/// A software KEK (AES-256-GCM with key bytes in process memory).
///
/// For tests and for keys derived elsewhere. It reports [`SecurityLevel::Software`],
/// which the default [`StorePolicy`](super::store::StorePolicy) refuses.
pub struct SoftwareKek {
    id: String,
    key: WipeOnDrop<LessSafeKey>,
}

impl SoftwareKek {
    /// A KEK from 32 key bytes; its id is derived from the key (`sw:` + fingerprint).
    pub fn from_bytes(key: &Zeroizing<[u8; DEK_LEN]>) -> Self {
        Self {
            id: fingerprint_id("sw:", key.as_ref()),
            key: aes_key(key),
        }
    }

    /// A KEK with a fresh random key.
    pub fn generate() -> Result<Self, KekError> {
        let mut key = Zeroizing::new([0u8; DEK_LEN]);
        SystemRandom::new()
            .fill(key.as_mut())
            .map_err(|_| KekError::Backend {
                reason: "system random generator failed".into(),
            })?;
        Ok(Self::from_bytes(&key))
    }
}

impl fmt::Debug for SoftwareKek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SoftwareKek")
            .field("id", &self.id)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl Kek for SoftwareKek {
    fn key_id(&self) -> String {
        self.id.clone()
    }

    fn security_level(&self) -> SecurityLevel {
        SecurityLevel::Software
    }

    fn wrap(&self, dek: &[u8; DEK_LEN], aad: &[u8]) -> Result<Vec<u8>, KekError> {
        gcm_wrap(&self.key, dek, aad)
    }

    fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> Result<Zeroizing<[u8; DEK_LEN]>, KekError> {
        gcm_unwrap(&self.key, wrapped, aad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_ordered() {
        assert!(SecurityLevel::StrongBox.satisfies(SecurityLevel::Tee));
        assert!(SecurityLevel::SecureEnclave.satisfies(SecurityLevel::StrongBox));
        assert!(!SecurityLevel::Software.satisfies(SecurityLevel::OsKeyring));
        assert!(!SecurityLevel::OsKeyring.satisfies(SecurityLevel::Tee));
    }

    #[test]
    fn software_kek_round_trip_binds_aad() {
        let kek = SoftwareKek::generate().unwrap();
        let dek = [7u8; DEK_LEN];
        let w = kek.wrap(&dek, b"ctx").unwrap();
        assert_eq!(*kek.unwrap(&w, b"ctx").unwrap(), dek);
        assert_eq!(kek.unwrap(&w, b"other"), Err(KekError::UnwrapFailed));
        let other = SoftwareKek::generate().unwrap();
        assert_eq!(other.unwrap(&w, b"ctx"), Err(KekError::UnwrapFailed));
        assert_ne!(kek.key_id(), other.key_id());
        assert!(kek.key_id().starts_with("sw:"));
        assert!(!format!("{kek:?}").contains("key: ["));
    }

    #[test]
    fn id_is_stable_for_the_same_key() {
        let key = Zeroizing::new([3u8; DEK_LEN]);
        assert_eq!(
            SoftwareKek::from_bytes(&key).key_id(),
            SoftwareKek::from_bytes(&key).key_id()
        );
    }
}
