//! The secure store, streaming and passcode over the FFI (DEV-1, NEW-1, DATA-2, DEV-3).
//!
//! The key-encryption key is a *foreign trait*: Kotlin implements
//! [`KeyEncryptionKey`] with the Android Keystore, Swift with the Secure Enclave,
//! and Rust calls it only to wrap or unwrap a 32-byte data key, about once per
//! session (the core's DEK cache). Everything else runs in Rust. Bulk data never
//! crosses the FFI: files are encrypted by path.
//!
//! One known limit: the plaintext DEK handed to a foreign KEK travels as a uniffi
//! byte buffer, which uniffi frees without zeroizing; the Kotlin and Swift KEKs
//! wipe their copies after use.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use mamori::storage as core;
use mamori::storage::{KeyLossReason, PasscodeCheck, RotationReport, SecurityLevel, WipeReport};
use zeroize::Zeroizing;

/// An item value crossing the FFI (`ByteArray` in Kotlin, `Data` in Swift):
/// moved with one copy at most and wiped in bulk when dropped (NEW-1, issue 17).
///
/// Why not `Vec<u8>`: uniffi 0.32 serialises a `Vec<u8>` as a sequence, one
/// `u8` at a time, into a buffer that grows by doubling (every step a
/// reallocation that the wiping allocator must copy and wipe), and lifts it
/// back one byte at a time; and a `Zeroizing<Vec<u8>>` wipes one byte at a
/// time. For a 1 MiB value that cost several times the encryption itself.
/// `ItemBytes` has the same wire format (a big-endian `i32` length, then the
/// bytes) and the same type metadata, so the generated Kotlin and Swift are
/// unchanged: a lifted value is the foreign-filled buffer itself (no copy; the
/// length prefix is skipped), a lowered one is built in one allocation of the
/// exact size and one copy.
pub struct ItemBytes {
    buf: Vec<u8>,
    start: usize,
}

impl ItemBytes {
    /// The value.
    pub fn as_slice(&self) -> &[u8] {
        &self.buf[self.start..]
    }
}

impl From<Vec<u8>> for ItemBytes {
    fn from(buf: Vec<u8>) -> Self {
        Self { buf, start: 0 }
    }
}

impl Drop for ItemBytes {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        // Bulk fills (zeroize's slice impls), contents and spare capacity.
        self.buf.spare_capacity_mut().zeroize();
        self.buf.as_mut_slice().zeroize();
    }
}

impl std::fmt::Debug for ItemBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ItemBytes({} bytes, redacted)", self.as_slice().len())
    }
}

// SAFETY: the wire format and metadata are those of uniffi's own `Vec<u8>`
// converter (`uniffi_core::ffi_converter_impls`): an `i32` length then the bytes
// in a `RustBuffer`, lifted from buffers the foreign side got from
// `rustbuffer_alloc` and lowered into one it frees with `rustbuffer_free`.
unsafe impl uniffi::FfiConverter<crate::UniFfiTag> for ItemBytes {
    type FfiType = uniffi::RustBuffer;

    fn lower(obj: Self) -> uniffi::RustBuffer {
        let mut buf = Vec::with_capacity(4 + obj.as_slice().len());
        Self::write(obj, &mut buf);
        uniffi::RustBuffer::from_vec(buf)
    }

    fn try_lift(v: uniffi::RustBuffer) -> uniffi::Result<Self> {
        let buf = v.destroy_into_vec();
        let value = Self { buf, start: 4 };
        let Some(prefix) = value.buf.first_chunk::<4>() else {
            uniffi::deps::anyhow::bail!("byte buffer without its length");
        };
        let len = usize::try_from(i32::from_be_bytes(*prefix))?;
        if len != value.buf.len() - 4 {
            uniffi::deps::anyhow::bail!("byte buffer length {len} does not match its content");
        }
        Ok(value)
    }

    fn write(obj: Self, buf: &mut Vec<u8>) {
        let bytes = obj.as_slice();
        let len = i32::try_from(bytes.len()).expect("item values are below 2 GiB");
        buf.extend_from_slice(&len.to_be_bytes());
        buf.extend_from_slice(bytes);
    }

    fn try_read(buf: &mut &[u8]) -> uniffi::Result<Self> {
        let Some((prefix, rest)) = buf.split_first_chunk::<4>() else {
            uniffi::deps::anyhow::bail!("byte buffer without its length");
        };
        let len = usize::try_from(i32::from_be_bytes(*prefix))?;
        if rest.len() < len {
            uniffi::deps::anyhow::bail!("byte buffer shorter than its length {len}");
        }
        let (value, rest) = rest.split_at(len);
        *buf = rest;
        Ok(Self::from(value.to_vec()))
    }

    const TYPE_ID_META: uniffi::MetadataBuffer =
        <Vec<u8> as uniffi::TypeId<crate::UniFfiTag>>::TYPE_ID_META;
}

uniffi::derive_ffi_traits!(local ItemBytes);

/// Where a key-encryption key lives, from weakest to strongest.
#[uniffi::remote(Enum)]
pub enum SecurityLevel {
    /// Key bytes in process memory (tests, or a key from a KDF).
    Software,
    /// The OS credential store.
    OsKeyring,
    /// A trusted execution environment (Android Keystore/KeyMint in the TEE).
    Tee,
    /// Android StrongBox (a dedicated secure element).
    StrongBox,
    /// The Apple Secure Enclave.
    SecureEnclave,
}

/// Why the store concluded that its key-encryption key is lost.
#[uniffi::remote(Enum)]
#[non_exhaustive]
pub enum KeyLossReason {
    /// The KEK itself reported that it was invalidated or deleted.
    ReportedByKek,
    /// The KEK could not unwrap the store's canary: it is not the key that created the store.
    CanaryRejected,
    /// The store was created under a KEK with another id, not offered as a previous key.
    DifferentKeyId {
        /// The key id recorded in the store.
        expected: String,
        /// The key id of the KEK that was offered.
        offered: String,
    },
}

/// The outcome of a passcode check that was allowed to run.
#[uniffi::remote(Enum)]
pub enum PasscodeCheck {
    /// The passcode is right; the failure counter was reset.
    Verified,
    /// The passcode is wrong.
    Rejected {
        /// Consecutive failures so far.
        failures: u32,
        /// How long until the next attempt is accepted.
        retry_after: Duration,
        /// Failures left before the store is wiped, if a wipe is configured.
        attempts_before_wipe: Option<u32>,
    },
}

/// What a rotation did.
#[uniffi::remote(Record)]
pub struct RotationReport {
    /// Files whose data key was re-wrapped.
    pub rewrapped: u64,
    /// Files already under the new KEK (a resumed rotation).
    pub already_rotated: u64,
    /// Damaged files that could not be re-wrapped.
    pub skipped_corrupted: u64,
}

/// What a wipe did.
#[uniffi::remote(Record)]
pub struct WipeReport {
    /// Whether the KEK was destroyed.
    pub kek_destroyed: bool,
    /// How many files were removed.
    pub files_removed: u64,
}

/// A failure thrown by a foreign KEK (`KekException` in Kotlin, `KekError` in Swift).
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum KekError {
    /// The key is permanently gone (deleted alias, new biometric enrolment,
    /// lock screen removed; Android `KeyPermanentlyInvalidatedException`).
    #[error("key invalidated: {reason}")]
    KeyInvalidated {
        /// The platform's description.
        reason: String,
    },
    /// The key cannot be used now (device locked, user authentication required).
    #[error("key unavailable: {reason}")]
    Unavailable {
        /// The platform's description.
        reason: String,
    },
    /// Unwrapping failed authentication (Android `AEADBadTagException`).
    #[error("unwrap failed: {reason}")]
    UnwrapFailed {
        /// The platform's description.
        reason: String,
    },
    /// Any other keystore failure.
    #[error("keystore failure: {reason}")]
    Backend {
        /// The platform's description.
        reason: String,
    },
}

/// An exception the foreign KEK threw that is not a `KekError` (a bug in a custom KEK, or a
/// platform exception it did not translate). uniffi hands over the whole foreign text (a Kotlin
/// stack trace: class names, file paths, nested messages): only its first line is kept, so no
/// more than the exception's own message can reach a storage error and the app's logs (LOG-2).
impl From<uniffi::UnexpectedUniFFICallbackError> for KekError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        let first = e.reason.lines().next().unwrap_or_default().trim();
        let reason: String = first.chars().take(200).collect();
        KekError::Backend {
            reason: format!("unexpected KEK exception: {reason}"),
        }
    }
}

/// A key-encryption key implemented on the platform side.
///
/// `wrap` must be authenticated encryption binding `aad`; `unwrap` must fail
/// (`UnwrapFailed`) for anything `wrap` did not produce with the same `aad`.
#[uniffi::export(foreign)]
pub trait KeyEncryptionKey: Send + Sync {
    /// A stable id of the key: the same across restarts, new for a regenerated key.
    fn key_id(&self) -> String;
    /// Where the key lives, as read back from the platform (e.g. Android `KeyInfo`).
    fn security_level(&self) -> SecurityLevel;
    /// Wraps a 32-byte data key.
    fn wrap(&self, dek: Vec<u8>, aad: Vec<u8>) -> Result<Vec<u8>, KekError>;
    /// Unwraps a data key.
    fn unwrap(&self, wrapped: Vec<u8>, aad: Vec<u8>) -> Result<Vec<u8>, KekError>;
    /// Deletes the key (crypto-shredding); returns false if the key cannot be deleted.
    /// (Not `destroy`: uniffi's generated Kotlin classes already have `destroy()`.)
    fn delete_key(&self) -> Result<bool, KekError>;
}

/// Adapts a foreign KEK to the core trait.
struct ForeignKek(Arc<dyn KeyEncryptionKey>);

impl From<KekError> for core::KekError {
    fn from(e: KekError) -> Self {
        match e {
            KekError::KeyInvalidated { .. } => core::KekError::KeyInvalidated,
            KekError::Unavailable { reason } => core::KekError::Unavailable { reason },
            KekError::UnwrapFailed { .. } => core::KekError::UnwrapFailed,
            KekError::Backend { reason } => core::KekError::Backend { reason },
        }
    }
}

impl core::Kek for ForeignKek {
    fn key_id(&self) -> String {
        self.0.key_id()
    }

    fn security_level(&self) -> SecurityLevel {
        self.0.security_level()
    }

    fn wrap(&self, dek: &[u8; core::DEK_LEN], aad: &[u8]) -> Result<Vec<u8>, core::KekError> {
        Ok(self.0.wrap(dek.to_vec(), aad.to_vec())?)
    }

    fn unwrap(
        &self,
        wrapped: &[u8],
        aad: &[u8],
    ) -> Result<Zeroizing<[u8; core::DEK_LEN]>, core::KekError> {
        let plain = Zeroizing::new(self.0.unwrap(wrapped.to_vec(), aad.to_vec())?);
        if plain.len() != core::DEK_LEN {
            return Err(core::KekError::InvalidInput {
                reason: format!("the KEK returned a {}-byte data key", plain.len()),
            });
        }
        let mut dek = Zeroizing::new([0u8; core::DEK_LEN]);
        dek.copy_from_slice(&plain);
        Ok(dek)
    }

    fn destroy(&self) -> Result<(), core::KekError> {
        match self.0.delete_key()? {
            true => Ok(()),
            false => Err(core::KekError::Unsupported {
                operation: "destroy",
            }),
        }
    }
}

/// A storage failure (`StorageException` in Kotlin, `StorageError` in Swift).
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum StorageError {
    /// No item with this name.
    #[error("no item named {name:?}")]
    NotFound {
        /// The item name.
        name: String,
    },
    /// The store's KEK is lost: re-provision (wipe and recreate).
    #[error("key {kek_id:?} lost: {reason:?}")]
    KeyInvalidated {
        /// The key id the store expected.
        kek_id: String,
        /// How the loss was detected.
        reason: KeyLossReason,
    },
    /// The item or file is damaged, tampered with or moved; the key is fine.
    #[error("{what} is corrupted: {reason}")]
    Corrupted {
        /// Item name or path.
        what: String,
        /// The check that failed.
        reason: String,
    },
    /// The ciphertext is under another KEK.
    #[error("wrapped under {found:?}, expected {expected:?}")]
    WrongKek {
        /// The KEK in use.
        expected: String,
        /// The KEK named by the ciphertext.
        found: String,
    },
    /// The KEK is temporarily unavailable (locked device, authentication needed).
    #[error("key unavailable: {reason}")]
    KekUnavailable {
        /// The platform's reason.
        reason: String,
    },
    /// Another KEK failure.
    #[error("key-encryption key failure: {reason}")]
    KekFailure {
        /// What failed.
        reason: String,
    },
    /// The store policy refuses the KEK's security level.
    #[error("KEK {kek_id:?} offers {offered:?}, policy requires {required:?}")]
    InsecureKek {
        /// The KEK's id.
        kek_id: String,
        /// The level the KEK reports.
        offered: SecurityLevel,
        /// The minimum required.
        required: SecurityLevel,
    },
    /// An argument was refused.
    #[error("invalid {what}: {reason}")]
    InvalidInput {
        /// The argument.
        what: String,
        /// Why.
        reason: String,
    },
    /// An interrupted rotation needs the old key too.
    #[error("rotation from {from:?} to {to:?} incomplete")]
    RotationIncomplete {
        /// The old key id.
        from: String,
        /// The new key id.
        to: String,
    },
    /// A KEK rotation did not settle: in each of `attempts` rounds, writes under
    /// fresh data keys (or another rotation) landed between re-wrapping the keys
    /// and the commit. Nothing changed: the store is still under its old key.
    /// Retry when the store is quieter.
    #[error("the KEK rotation did not settle in {attempts} rounds; the store is unchanged")]
    RotationContended {
        /// Rounds tried.
        attempts: u32,
    },
    /// Passcode attempts are locked for a while.
    #[error("locked for {retry_after:?}")]
    LockedOut {
        /// Time until the next attempt is accepted.
        retry_after: Duration,
    },
    /// No passcode is set.
    #[error("no passcode set")]
    NoPasscode,
    /// The store was wiped.
    #[error("the store has been wiped")]
    Wiped,
    /// The store was wiped, but the KEK refused to be destroyed: copies of the files
    /// taken earlier stay decryptable while the key exists.
    #[error("store wiped ({files_removed} files removed), key not destroyed: {reason}")]
    KekNotDestroyed {
        /// How many files were removed.
        files_removed: u64,
        /// What the KEK reported.
        reason: String,
    },
    /// Another instance or process has this store directory open: share one
    /// `SecureStore` per directory, or retry after the other one is closed.
    #[error("the store in {path} is open in another instance or process")]
    Locked {
        /// The lock file.
        path: String,
    },
    /// A file-system error.
    #[error("I/O error on {path}: {detail}")]
    Io {
        /// The file or directory.
        path: String,
        /// The OS error.
        detail: String,
    },
}

impl From<core::StorageError> for StorageError {
    fn from(e: core::StorageError) -> Self {
        use core::StorageError as E;
        match e {
            E::NotFound { name } => Self::NotFound { name },
            E::KeyInvalidated { kek_id, reason } => Self::KeyInvalidated { kek_id, reason },
            E::Corrupted { what, reason } => Self::Corrupted {
                what,
                reason: reason.into(),
            },
            E::Malformed { reason } => Self::Corrupted {
                what: "ciphertext".into(),
                reason: reason.into(),
            },
            E::AuthenticationFailed => Self::Corrupted {
                what: "ciphertext".into(),
                reason: "authentication failed".into(),
            },
            E::WrongKek { expected, found } => Self::WrongKek { expected, found },
            E::KekUnavailable { reason } => Self::KekUnavailable { reason },
            E::InsecureKek {
                kek_id,
                offered,
                required,
            } => Self::InsecureKek {
                kek_id,
                offered,
                required,
            },
            E::InvalidInput { what, reason } => Self::InvalidInput {
                what: what.into(),
                reason,
            },
            E::RotationIncomplete { from, to } => Self::RotationIncomplete { from, to },
            E::RotationContended { attempts } => Self::RotationContended { attempts },
            E::LockedOut { retry_after } => Self::LockedOut { retry_after },
            E::NoPasscode => Self::NoPasscode,
            E::Wiped => Self::Wiped,
            E::KekNotDestroyed {
                files_removed,
                source,
            } => Self::KekNotDestroyed {
                files_removed,
                reason: source.to_string(),
            },
            E::Locked { path, .. } => Self::Locked {
                path: path.display().to_string(),
            },
            E::Io { path, source } => Self::Io {
                path: path.display().to_string(),
                detail: source.to_string(),
            },
            other => Self::KekFailure {
                reason: other.to_string(),
            },
        }
    }
}

/// How a store is opened.
///
/// Hand-written rather than a mirror of the core's `StorePolicy`/`CachePolicy`: the
/// core models "no cache" as an enum variant, the FFI as a zero duration, which is what
/// `java.time.Duration` / `TimeInterval` callers pass.
#[derive(Debug, Clone, uniffi::Record)]
pub struct StoreConfig {
    /// The weakest KEK accepted. Production apps: `Tee` or better.
    pub min_security_level: SecurityLevel,
    /// How long a plaintext data key stays cached, to the nanosecond (zero disables
    /// caching; sub-second values are kept, never rounded down to zero).
    pub key_cache: Duration,
}

/// Passcode verifier parameters.
///
/// Hand-written rather than a mirror of the core's `PasscodePolicy`: the core uses
/// `NonZeroU32` (iterations, wipe threshold), which has no FFI shape; zero is refused
/// for `iterations` and means "never" for `wipe_after`. The core's floors (600,000
/// iterations, `min_length` at least 4, no empty passcode) always apply: the core's
/// test-only waiver is not exposed.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PasscodePolicy {
    /// PBKDF2-HMAC-SHA256 iterations (default and floor 600,000).
    pub iterations: u32,
    /// Shortest passcode accepted (at least 4; default 6).
    pub min_length: u32,
    /// Failures before the back-off starts.
    pub free_attempts: u32,
    /// First lock-out; doubles with each further failure.
    pub base_delay: Duration,
    /// Longest lock-out.
    pub max_delay: Duration,
    /// Wipe the store after this many consecutive failures (0: never).
    pub wipe_after: u32,
}

/// The defaults of the core passcode policy.
#[uniffi::export]
pub fn default_passcode_policy() -> PasscodePolicy {
    let p = core::PasscodePolicy::default();
    PasscodePolicy {
        iterations: p.iterations.get(),
        min_length: p.min_length as u32,
        free_attempts: p.free_attempts,
        base_delay: p.base_delay,
        max_delay: p.max_delay,
        wipe_after: p.wipe_after.map_or(0, |n| n.get()),
    }
}

impl TryFrom<PasscodePolicy> for core::PasscodePolicy {
    type Error = StorageError;
    fn try_from(p: PasscodePolicy) -> Result<Self, StorageError> {
        Ok(core::PasscodePolicy {
            iterations: std::num::NonZeroU32::new(p.iterations).ok_or(
                StorageError::InvalidInput {
                    what: "iterations".into(),
                    reason: "must be at least 1".into(),
                },
            )?,
            min_length: p.min_length as usize,
            free_attempts: p.free_attempts,
            base_delay: p.base_delay,
            max_delay: p.max_delay,
            wipe_after: std::num::NonZeroU32::new(p.wipe_after),
            // The floors always apply over the FFI: apps cannot waive them.
            floors: core::PolicyFloors::Enforced,
        })
    }
}

/// An encrypted, crash-safe key-value store in an app directory.
#[derive(uniffi::Object)]
pub struct SecureStore {
    inner: core::SecureStore,
}

#[uniffi::export]
impl SecureStore {
    /// Opens (or creates) the store in `dir` under `kek`. `previous_keks` are keys
    /// the store may still be under: opening with a new key and the old one here
    /// rotates, and finishes a rotation a crash interrupted.
    #[uniffi::constructor]
    pub fn open(
        dir: String,
        kek: Arc<dyn KeyEncryptionKey>,
        previous_keks: Vec<Arc<dyn KeyEncryptionKey>>,
        config: StoreConfig,
    ) -> Result<Arc<Self>, StorageError> {
        let options = core::StoreOptions {
            policy: core::StorePolicy {
                min_security_level: config.min_security_level,
            },
            cache: if config.key_cache.is_zero() {
                core::CachePolicy::disabled()
            } else {
                core::CachePolicy {
                    max_age: config.key_cache,
                    ..core::CachePolicy::default()
                }
            },
            previous_keks: previous_keks
                .into_iter()
                .map(|k| Arc::new(ForeignKek(k)) as Arc<dyn core::Kek>)
                .collect(),
            // A second instance on the same directory fails at once with `Locked`
            // (never blocks the calling thread).
            lock_timeout: Duration::ZERO,
        };
        let inner = core::SecureStore::open(dir, Arc::new(ForeignKek(kek)), options)?;
        Ok(Arc::new(Self { inner }))
    }

    /// Stores `value` under `name` (atomic replace).
    pub fn put(&self, name: String, value: ItemBytes) -> Result<(), StorageError> {
        Ok(self.inner.put(&name, value.as_slice())?)
    }

    /// Reads `name` (one copy of the plaintext, into the buffer handed to the
    /// caller; the store's own is wiped).
    pub fn get(&self, name: String) -> Result<ItemBytes, StorageError> {
        // The decrypted buffer itself, moved (not copied): ItemBytes wipes it.
        Ok(ItemBytes::from(self.inner.get(&name)?.into_ffi_buffer()))
    }

    /// Whether `name` exists.
    pub fn contains(&self, name: String) -> Result<bool, StorageError> {
        Ok(self.inner.contains(&name)?)
    }

    /// Deletes `name`; returns whether it existed.
    pub fn delete(&self, name: String) -> Result<bool, StorageError> {
        Ok(self.inner.delete(&name)?)
    }

    /// All item names, sorted.
    pub fn list(&self) -> Result<Vec<String>, StorageError> {
        Ok(self.inner.list()?)
    }

    /// The id of the KEK the store is under.
    pub fn kek_id(&self) -> Result<String, StorageError> {
        Ok(self.inner.kek_id()?)
    }

    /// The security level of the store's KEK.
    pub fn security_level(&self) -> Result<SecurityLevel, StorageError> {
        Ok(self.inner.security_level()?)
    }

    /// Re-wraps every data key under `new_kek` (no payload is re-encrypted).
    ///
    /// Errors: [`StorageError::RotationContended`] when writes under fresh data
    /// keys kept landing during the rotation (nothing changed; retry later); a
    /// KEK failure leaves the store unchanged too.
    pub fn rotate_kek(
        &self,
        new_kek: Arc<dyn KeyEncryptionKey>,
    ) -> Result<RotationReport, StorageError> {
        Ok(self.inner.rotate_kek(Arc::new(ForeignKek(new_kek)))?)
    }

    /// Crypto-shreds the store: destroys the KEK, removes the files.
    pub fn wipe(&self) -> Result<WipeReport, StorageError> {
        Ok(self.inner.wipe()?)
    }

    /// Drops cached plaintext data keys (call when the app goes to background).
    pub fn clear_key_cache(&self) {
        self.inner.clear_key_cache();
    }

    /// Encrypts the file at `src` into `dst` in constant memory; returns the
    /// plaintext size. `label` binds the file to its purpose (give it to decrypt).
    pub fn encrypt_file(
        &self,
        label: String,
        src: String,
        dst: String,
    ) -> Result<u64, StorageError> {
        Ok(self
            .inner
            .encrypt_file(&label, Path::new(&src), Path::new(&dst))?)
    }

    /// Decrypts a file from [`SecureStore::encrypt_file`]; `dst` appears only if
    /// the whole file authenticated.
    pub fn decrypt_file(
        &self,
        label: String,
        src: String,
        dst: String,
    ) -> Result<u64, StorageError> {
        Ok(self
            .inner
            .decrypt_file(&label, Path::new(&src), Path::new(&dst))?)
    }

    /// Re-wraps a file from [`SecureStore::encrypt_file`] written under
    /// `previous_kek` so it opens under the current key (call for each such file
    /// when rotating, while the old key still exists). False if already current.
    pub fn rewrap_file(
        &self,
        path: String,
        previous_kek: Arc<dyn KeyEncryptionKey>,
    ) -> Result<bool, StorageError> {
        Ok(self
            .inner
            .rewrap_file(Path::new(&path), Arc::new(ForeignKek(previous_kek)))?)
    }

    /// Sets or replaces the app passcode.
    pub fn set_passcode(
        &self,
        passcode: String,
        policy: PasscodePolicy,
    ) -> Result<(), StorageError> {
        let passcode = Zeroizing::new(passcode);
        Ok(self.inner.set_passcode(&passcode, &policy.try_into()?)?)
    }

    /// Checks the passcode at time `now` (pass the current time; tests pass others).
    pub fn verify_passcode(
        &self,
        passcode: String,
        now: SystemTime,
    ) -> Result<PasscodeCheck, StorageError> {
        let passcode = Zeroizing::new(passcode);
        Ok(self.inner.verify_passcode(&passcode, now)?)
    }

    /// Whether a passcode is set.
    pub fn has_passcode(&self) -> Result<bool, StorageError> {
        Ok(self.inner.has_passcode()?)
    }

    /// Removes the passcode; returns whether one was set.
    pub fn remove_passcode(&self) -> Result<bool, StorageError> {
        Ok(self.inner.remove_passcode()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Rust implementation of the foreign trait (what Kotlin/Swift do).
    struct TestKek(core::SoftwareKek);

    impl KeyEncryptionKey for TestKek {
        fn key_id(&self) -> String {
            core::Kek::key_id(&self.0)
        }
        fn security_level(&self) -> SecurityLevel {
            SecurityLevel::Tee
        }
        fn wrap(&self, dek: Vec<u8>, aad: Vec<u8>) -> Result<Vec<u8>, KekError> {
            let dek: [u8; 32] = dek.try_into().map_err(|_| KekError::Backend {
                reason: "len".into(),
            })?;
            core::Kek::wrap(&self.0, &dek, &aad).map_err(|e| KekError::Backend {
                reason: e.to_string(),
            })
        }
        fn unwrap(&self, wrapped: Vec<u8>, aad: Vec<u8>) -> Result<Vec<u8>, KekError> {
            core::Kek::unwrap(&self.0, &wrapped, &aad)
                .map(|d| d.to_vec())
                .map_err(|_| KekError::UnwrapFailed {
                    reason: "tag".into(),
                })
        }
        fn delete_key(&self) -> Result<bool, KekError> {
            Ok(false)
        }
    }

    fn kek() -> Arc<dyn KeyEncryptionKey> {
        Arc::new(TestKek(core::SoftwareKek::generate().unwrap()))
    }

    fn config() -> StoreConfig {
        StoreConfig {
            min_security_level: SecurityLevel::Tee,
            key_cache: Duration::from_secs(60),
        }
    }

    #[test]
    fn store_through_the_ffi_surface() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap().to_owned();
        let (k1, k2) = (kek(), kek());
        let s = SecureStore::open(d.clone(), k1.clone(), vec![], config()).unwrap();
        s.put("a".into(), b"1".to_vec().into()).unwrap();
        assert_eq!(s.get("a".into()).unwrap().as_slice(), b"1");
        assert!(matches!(
            s.get("b".into()),
            Err(StorageError::NotFound { .. })
        ));
        let r = s.rotate_kek(k2.clone()).unwrap();
        assert_eq!(r.rewrapped, 2);
        assert_eq!(s.kek_id().unwrap(), k2.key_id());
        drop(s);
        assert!(matches!(
            SecureStore::open(d.clone(), k1, vec![], config()),
            Err(StorageError::KeyInvalidated { .. })
        ));
        let strict = StoreConfig {
            min_security_level: SecurityLevel::StrongBox,
            ..config()
        };
        assert!(matches!(
            SecureStore::open(d.clone(), k2.clone(), vec![], strict),
            Err(StorageError::InsecureKek { .. })
        ));
        let s = SecureStore::open(d, k2, vec![], config()).unwrap();
        assert_eq!(s.get("a".into()).unwrap().as_slice(), b"1");
        let w = s.wipe().unwrap();
        assert!(!w.kek_destroyed);
        assert!(matches!(s.get("a".into()), Err(StorageError::Wiped)));
    }

    /// A new KEK whose every `wrap` first writes an item of the same store under a
    /// fresh data key of the old one (per-use keys): each rotation round finds a
    /// data key it has not re-wrapped, so the rotation never settles.
    struct Churning {
        kek: TestKek,
        store: std::sync::OnceLock<std::sync::Weak<SecureStore>>,
    }

    impl KeyEncryptionKey for Churning {
        fn key_id(&self) -> String {
            self.kek.key_id()
        }
        fn security_level(&self) -> SecurityLevel {
            self.kek.security_level()
        }
        fn wrap(&self, dek: Vec<u8>, aad: Vec<u8>) -> Result<Vec<u8>, KekError> {
            if let Some(store) = self.store.get().and_then(std::sync::Weak::upgrade) {
                store
                    .put(
                        "from-kek".into(),
                        b"written inside a KEK call".to_vec().into(),
                    )
                    .map_err(|e| KekError::Backend {
                        reason: e.to_string(),
                    })?;
            }
            self.kek.wrap(dek, aad)
        }
        fn unwrap(&self, wrapped: Vec<u8>, aad: Vec<u8>) -> Result<Vec<u8>, KekError> {
            self.kek.unwrap(wrapped, aad)
        }
        fn delete_key(&self) -> Result<bool, KekError> {
            Ok(false)
        }
    }

    #[test]
    fn a_rotation_that_never_settles_is_rotation_contended_not_a_kek_failure() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap().to_owned();
        let old = kek();
        let per_use = StoreConfig {
            key_cache: Duration::ZERO,
            ..config()
        };
        let s = SecureStore::open(d.clone(), old.clone(), vec![], per_use.clone()).unwrap();
        s.put("item".into(), b"value".to_vec().into()).unwrap();
        let churn = Arc::new(Churning {
            kek: TestKek(core::SoftwareKek::generate().unwrap()),
            store: std::sync::OnceLock::new(),
        });
        churn.store.set(Arc::downgrade(&s)).unwrap();
        match s.rotate_kek(churn) {
            Err(StorageError::RotationContended { attempts }) => assert!(attempts >= 2),
            other => panic!("expected RotationContended, got {other:?}"),
        }
        assert_eq!(s.kek_id().unwrap(), old.key_id());
        assert_eq!(s.get("item".into()).unwrap().as_slice(), b"value");
        drop(s);
        let s = SecureStore::open(d, old, vec![], per_use).unwrap();
        assert_eq!(s.get("item".into()).unwrap().as_slice(), b"value");
    }

    #[test]
    fn item_bytes_cross_the_ffi_exactly_as_uniffis_own_vec_u8() {
        use uniffi::{Lift, Lower};
        for value in [
            vec![],
            vec![7u8],
            (0..=255u8).cycle().take(70_000).collect(),
        ] {
            // Lowered: the same buffer uniffi's converter makes (what Kotlin and Swift read).
            let ours = <ItemBytes as Lower<crate::UniFfiTag>>::lower(value.clone().into());
            let theirs = <Vec<u8> as Lower<crate::UniFfiTag>>::lower(value.clone());
            assert_eq!(ours.destroy_into_vec(), theirs.destroy_into_vec());
            // Lifted from the buffer uniffi's converter (the foreign side's format) fills.
            let wire = <Vec<u8> as Lower<crate::UniFfiTag>>::lower(value.clone());
            let lifted = <ItemBytes as Lift<crate::UniFfiTag>>::try_lift(wire).unwrap();
            assert_eq!(lifted.as_slice(), &value[..]);
            // Read from inside a larger buffer (a record field), leaving the rest.
            let mut buf = Vec::new();
            <Vec<u8> as Lower<crate::UniFfiTag>>::write(value.clone(), &mut buf);
            buf.extend_from_slice(b"next");
            let mut rest = &buf[..];
            let read = <ItemBytes as Lift<crate::UniFfiTag>>::try_read(&mut rest).unwrap();
            assert_eq!((read.as_slice(), rest), (&value[..], &b"next"[..]));
        }
        assert_eq!(
            <ItemBytes as uniffi::TypeId<crate::UniFfiTag>>::TYPE_ID_META.as_ref(),
            <Vec<u8> as uniffi::TypeId<crate::UniFfiTag>>::TYPE_ID_META.as_ref(),
        );
        // A length that does not match the content is refused, never read past.
        let mut bad = 10i32.to_be_bytes().to_vec();
        bad.extend_from_slice(b"short");
        let bad = uniffi::RustBuffer::from_vec(bad);
        assert!(<ItemBytes as Lift<crate::UniFfiTag>>::try_lift(bad).is_err());
        let mut short = &[0u8, 0, 0, 9, 1, 2][..];
        assert!(<ItemBytes as Lift<crate::UniFfiTag>>::try_read(&mut short).is_err());
        let negative = uniffi::RustBuffer::from_vec((-1i32).to_be_bytes().to_vec());
        assert!(<ItemBytes as Lift<crate::UniFfiTag>>::try_lift(negative).is_err());
    }

    #[test]
    fn a_wrong_length_key_from_the_platform_is_refused() {
        struct Short;
        impl KeyEncryptionKey for Short {
            fn key_id(&self) -> String {
                "short".into()
            }
            fn security_level(&self) -> SecurityLevel {
                SecurityLevel::Tee
            }
            fn wrap(&self, _: Vec<u8>, _: Vec<u8>) -> Result<Vec<u8>, KekError> {
                Ok(vec![1; 40])
            }
            fn unwrap(&self, _: Vec<u8>, _: Vec<u8>) -> Result<Vec<u8>, KekError> {
                Ok(vec![0; 16])
            }
            fn delete_key(&self) -> Result<bool, KekError> {
                Ok(false)
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap().to_owned();
        // Creation seals the canary (wrap works), reopening unwraps it (16 bytes: refused).
        drop(SecureStore::open(d.clone(), Arc::new(Short), vec![], config()).unwrap());
        match SecureStore::open(d, Arc::new(Short), vec![], config()) {
            Err(StorageError::KekFailure { reason }) => {
                assert!(reason.contains("16-byte"), "{reason}")
            }
            Err(other) => panic!("{other:?}"),
            Ok(_) => panic!("accepted a 16-byte data key"),
        }
    }
}
