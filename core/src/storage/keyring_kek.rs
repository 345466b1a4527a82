//! A KEK held in the OS credential store, through `keyring-core` (keyring v4).
//!
//! keyring v4 split into `keyring-core` (the API) and one crate per credential
//! store; its README tells applications to depend on `keyring-core` and the store
//! crates they want. This KEK therefore takes any `keyring_core::CredentialStore`
//! (Secret Service over D-Bus, the macOS/iOS keychain, Windows Credential Manager,
//! Android's keyring store) or the process-wide default store.
//!
//! The keyring holds a random 32-byte AES-256-GCM key; wrapping happens in Rust
//! with ring. The key is read from the keyring on every wrap/unwrap (the DEK cache
//! keeps that to about once per session), so deleting the credential takes effect
//! at once. The key id contains a fingerprint of the key, so a credential that was
//! deleted and re-created is a *different* key and the store reports the loss
//! instead of silently using a fresh key.

use std::fmt;
use std::sync::Arc;

use keyring_core::{CredentialStore, Entry};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use super::error::KekError;
use super::kek::{DEK_LEN, Kek, SecurityLevel, aes_key, fingerprint_id, gcm_unwrap, gcm_wrap};

/// A KEK stored as a secret in an OS credential store.
pub struct OsKeyringKek {
    entry: Entry,
    id: String,
}

impl fmt::Debug for OsKeyringKek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OsKeyringKek")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Maps a keyring error without ever formatting its payload: some variants
/// (`BadEncoding`, `BadDataFormat`) carry the secret bytes themselves.
fn map_keyring_error(e: keyring_core::Error) -> KekError {
    use keyring_core::Error as E;
    match e {
        E::NoEntry => KekError::KeyInvalidated,
        E::NoStorageAccess(_) => KekError::Unavailable {
            reason: "the credential store is locked or access was denied".into(),
        },
        E::PlatformFailure(_) => KekError::Backend {
            reason: "credential store platform failure".into(),
        },
        E::BadEncoding(_) | E::BadDataFormat(..) => KekError::Backend {
            reason: "the stored key has an unexpected format".into(),
        },
        E::NoDefaultStore => KekError::Backend {
            reason: "no default keyring credential store is set".into(),
        },
        E::Ambiguous(_) => KekError::Backend {
            reason: "several credentials match the key's service and account".into(),
        },
        _ => KekError::Backend {
            reason: "credential store error".into(),
        },
    }
}

impl OsKeyringKek {
    /// Opens the key stored under `service`/`account`, creating a random key if
    /// there is none. `store` selects the credential store; `None` uses the default
    /// store set with `keyring_core::set_default_store`.
    pub fn open_or_create(
        store: Option<&Arc<CredentialStore>>,
        service: &str,
        account: &str,
    ) -> Result<Self, KekError> {
        let entry = Self::entry(store, service, account)?;
        let key = match entry.get_secret() {
            Ok(secret) => Self::check(Zeroizing::new(secret))?,
            Err(keyring_core::Error::NoEntry) => {
                let mut key = Zeroizing::new([0u8; DEK_LEN]);
                SystemRandom::new()
                    .fill(key.as_mut())
                    .map_err(|_| KekError::Backend {
                        reason: "system random generator failed".into(),
                    })?;
                entry.set_secret(key.as_ref()).map_err(map_keyring_error)?;
                key
            }
            Err(e) => return Err(map_keyring_error(e)),
        };
        Ok(Self::with_key(entry, service, account, &key))
    }

    /// Opens an existing key; a missing credential is [`KekError::KeyInvalidated`].
    pub fn open(
        store: Option<&Arc<CredentialStore>>,
        service: &str,
        account: &str,
    ) -> Result<Self, KekError> {
        let entry = Self::entry(store, service, account)?;
        let key = Self::check(Zeroizing::new(
            entry.get_secret().map_err(map_keyring_error)?,
        ))?;
        Ok(Self::with_key(entry, service, account, &key))
    }

    fn entry(
        store: Option<&Arc<CredentialStore>>,
        service: &str,
        account: &str,
    ) -> Result<Entry, KekError> {
        match store {
            Some(s) => Entry::new_in_store(s, service, account),
            None => Entry::new(service, account),
        }
        .map_err(map_keyring_error)
    }

    fn with_key(entry: Entry, service: &str, account: &str, key: &[u8; DEK_LEN]) -> Self {
        let id = fingerprint_id(&format!("keyring:{service}/{account}:"), key);
        Self { entry, id }
    }

    fn check(secret: Zeroizing<Vec<u8>>) -> Result<Zeroizing<[u8; DEK_LEN]>, KekError> {
        if secret.len() != DEK_LEN {
            return Err(KekError::Backend {
                reason: format!(
                    "the stored key is {} bytes, expected {DEK_LEN}",
                    secret.len()
                ),
            });
        }
        let mut key = Zeroizing::new([0u8; DEK_LEN]);
        key.copy_from_slice(&secret);
        Ok(key)
    }

    /// Reads the key and checks it is still the one this KEK was opened with.
    fn load(&self) -> Result<mamori_wipe::WipeOnDrop<ring::aead::LessSafeKey>, KekError> {
        let key = Self::check(Zeroizing::new(
            self.entry.get_secret().map_err(map_keyring_error)?,
        ))?;
        let (service, account) = self.entry.get_specifiers().unwrap_or_default();
        if fingerprint_id(&format!("keyring:{service}/{account}:"), key.as_ref()) != self.id {
            // The credential was replaced behind our back: the key we were opened
            // with is gone.
            return Err(KekError::KeyInvalidated);
        }
        Ok(aes_key(&key))
    }
}

impl Kek for OsKeyringKek {
    fn key_id(&self) -> String {
        self.id.clone()
    }

    fn security_level(&self) -> SecurityLevel {
        SecurityLevel::OsKeyring
    }

    fn wrap(&self, dek: &[u8; DEK_LEN], aad: &[u8]) -> Result<Vec<u8>, KekError> {
        gcm_wrap(&*self.load()?, dek, aad)
    }

    fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> Result<Zeroizing<[u8; DEK_LEN]>, KekError> {
        gcm_unwrap(&*self.load()?, wrapped, aad)
    }

    fn destroy(&self) -> Result<(), KekError> {
        match self.entry.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_keyring_error(e)),
        }
    }
}
