//! Typed errors of the storage module.
//!
//! Two enums: [`KekError`] is what a key-encryption key (Rust or platform) reports,
//! [`StorageError`] is what the envelope, streaming, store and passcode layers report.
//! Neither ever carries key material or plaintext: only names, paths, key ids and
//! fixed reasons (LOG-2).

use std::path::PathBuf;
use std::time::Duration;

use super::kek::SecurityLevel;

/// A failure reported by a key-encryption key (KEK).
///
/// Platform implementations map their native failures onto these variants, e.g.
/// Android's `KeyPermanentlyInvalidatedException` and a missing alias become
/// [`KekError::KeyInvalidated`], `UserNotAuthenticatedException` or a locked device
/// become [`KekError::Unavailable`], `AEADBadTagException` becomes
/// [`KekError::UnwrapFailed`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KekError {
    /// The key is permanently gone or invalidated (deleted alias, new biometric
    /// enrolment, lock screen removed). Data wrapped by it cannot be recovered.
    #[error("the key-encryption key was permanently invalidated or deleted")]
    KeyInvalidated,
    /// The key exists but cannot be used right now (device locked, user
    /// authentication required, keystore busy). Retrying later may succeed.
    #[error("the key-encryption key is temporarily unavailable: {reason}")]
    Unavailable {
        /// Why, in words from the platform (never key material).
        reason: String,
    },
    /// Unwrapping failed authentication: the wrapped key was tampered with, the
    /// associated data differs, or this is not the key that wrapped it.
    #[error(
        "unwrapping the data key failed: wrong key, wrong associated data or tampered wrapped key"
    )]
    UnwrapFailed,
    /// The input to wrap or unwrap is malformed (e.g. a data key that is not 32 bytes).
    #[error("invalid input to the key-encryption key: {reason}")]
    InvalidInput {
        /// What was wrong.
        reason: String,
    },
    /// Any other backend failure (keyring service, keystore provider, FFI callback).
    #[error("key-encryption key backend failure: {reason}")]
    Backend {
        /// The backend's description (never key material).
        reason: String,
    },
    /// The KEK does not support this operation (e.g. destroying a software key).
    #[error("the key-encryption key does not support {operation}")]
    Unsupported {
        /// The operation that is not supported.
        operation: &'static str,
    },
}

/// Why the store concluded that its key-encryption key is lost.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyLossReason {
    /// The KEK itself reported that it was invalidated or deleted.
    ReportedByKek,
    /// The KEK could not unwrap the store's canary: it is not the key that
    /// created the store (e.g. the platform silently regenerated the alias).
    CanaryRejected,
    /// The store was created under a KEK with another id, and that KEK was not
    /// offered as a previous key.
    DifferentKeyId {
        /// The key id recorded in the store.
        expected: String,
        /// The key id of the KEK that was offered.
        offered: String,
    },
}

/// An error of the envelope, streaming, secure-store or passcode layers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// No item with this name exists in the store.
    #[error("no item named {name:?} in the store")]
    NotFound {
        /// The item name.
        name: String,
    },
    /// The store's key-encryption key is lost: nothing in the store can be read.
    /// The app must re-provision (wipe and recreate the store); the store never
    /// regenerates a key silently.
    #[error("the store's key-encryption key {kek_id:?} is lost or invalidated ({reason:?})")]
    KeyInvalidated {
        /// The key id the store expected.
        kek_id: String,
        /// How the loss was detected.
        reason: KeyLossReason,
    },
    /// The item (or store file) exists and the key is fine, but its bytes are
    /// damaged, truncated, tampered with, or were moved from another item or store.
    #[error("{what} is corrupted: {reason}")]
    Corrupted {
        /// Which item or file (item name or path, never content).
        what: String,
        /// A fixed description of the check that failed.
        reason: &'static str,
    },
    /// A ciphertext failed to parse as an envelope or stream (before any key was used).
    #[error("malformed ciphertext: {reason}")]
    Malformed {
        /// A fixed description of the check that failed.
        reason: &'static str,
    },
    /// AEAD authentication failed: wrong key, wrong context, or tampered bytes.
    #[error("authentication failed: the ciphertext, its header or its context was altered")]
    AuthenticationFailed,
    /// The ciphertext was written under a KEK this operation was not given.
    #[error("ciphertext is wrapped under key {found:?}, but this operation has key {expected:?}")]
    WrongKek {
        /// The key id of the KEK in use.
        expected: String,
        /// The key id recorded in the ciphertext.
        found: String,
    },
    /// The KEK is temporarily unavailable (locked device, authentication needed).
    #[error("the key-encryption key is temporarily unavailable: {reason}")]
    KekUnavailable {
        /// The platform's reason.
        reason: String,
    },
    /// Another KEK failure.
    #[error("key-encryption key failure: {0}")]
    Kek(#[source] KekError),
    /// The store policy refuses this KEK's security level.
    #[error(
        "store policy requires security level {required:?} or better, the KEK {kek_id:?} offers {offered:?}"
    )]
    InsecureKek {
        /// The KEK's id.
        kek_id: String,
        /// The level the KEK reports.
        offered: SecurityLevel,
        /// The minimum the policy requires.
        required: SecurityLevel,
    },
    /// An argument was invalid (item name, passcode length, segment size...).
    #[error("invalid {what}: {reason}")]
    InvalidInput {
        /// The argument.
        what: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// A KEK rotation was interrupted and cannot be resumed because the previous
    /// KEK was not supplied.
    #[error(
        "a rotation from key {from:?} to {to:?} is incomplete; open the store with both keys to finish it"
    )]
    RotationIncomplete {
        /// Id of the key being rotated away from.
        from: String,
        /// Id of the key being rotated to.
        to: String,
    },
    /// A KEK rotation did not settle: in each of `attempts` rounds, writes under
    /// fresh data keys (or another rotation) landed between re-wrapping the keys
    /// and the commit. Nothing was changed: the store is still under its old key.
    /// Retry when the store is quieter.
    #[error(
        "the KEK rotation did not settle in {attempts} rounds (concurrent writes under new data keys); the store is unchanged"
    )]
    RotationContended {
        /// Rounds tried.
        attempts: u32,
    },
    /// Too many wrong passcodes: verification is refused until the back-off ends.
    #[error("passcode entry locked for another {retry_after:?}")]
    LockedOut {
        /// How long until the next attempt is accepted.
        retry_after: Duration,
    },
    /// No passcode has been set in this store.
    #[error("no passcode is set")]
    NoPasscode,
    /// The store was wiped (explicitly or after too many wrong passcodes).
    #[error("the store has been wiped")]
    Wiped,
    /// The store was wiped (every file removed, the object refuses further use),
    /// but the KEK refused to be destroyed: copies of the files taken earlier stay
    /// decryptable for as long as the key exists. The app should delete the key by
    /// other means (e.g. remove the keystore alias) or report the device.
    #[error(
        "the store was wiped ({files_removed} files removed) but its key-encryption key was not destroyed: {source}"
    )]
    KekNotDestroyed {
        /// How many files were removed.
        files_removed: u64,
        /// What the KEK reported.
        #[source]
        source: KekError,
    },
    /// Another store instance (in this process or another) has the store
    /// directory open: its advisory lock was not released within the
    /// `lock_timeout` of [`StoreOptions`](super::StoreOptions). Retry later, or
    /// share one instance.
    #[error("the store in {path} is open in another instance or process (waited {waited:?})")]
    Locked {
        /// The lock file.
        path: PathBuf,
        /// How long `open` waited.
        waited: Duration,
    },
    /// A file-system operation failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl StorageError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> StorageError {
        let path = path.into();
        move |source| StorageError::Io { path, source }
    }
}

impl From<KekError> for StorageError {
    fn from(e: KekError) -> Self {
        match e {
            KekError::Unavailable { reason } => StorageError::KekUnavailable { reason },
            other => StorageError::Kek(other),
        }
    }
}
