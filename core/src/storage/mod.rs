//! Hardware-keystore-backed envelope encryption and a crash-safe secure store
//! (guideline DEV-1, NEW-1, DATA-2, DEV-3).
//!
//! The layers, bottom up:
//! - `aead`: AES-256-GCM from ring behind one type (the Wycheproof-tested path);
//! - `kek`: the key-encryption-key trait ([`Kek`]), security levels and a
//!   software KEK; `keyring_kek`: a KEK in the OS credential store (keyring v4);
//!   platform KEKs (Android Keystore, Secure Enclave) come through the FFI;
//! - `envelope`: the single-value format and [`EnvelopeCipher`] with its bounded
//!   data-key cache; `stream`: segmented encryption of files in constant memory;
//! - `store`: [`SecureStore`], atomic writes, canary, rotation, wipe;
//! - `passcode`: the passcode verifier kept in the store;
//! - `settings`: [`StorageSettings`], the document an app ships to say how it
//!   configures the store (read by `mamori report`).
//!
//! Why this shape: hardware keystores are slow (milliseconds to seconds per call)
//! and unreliable (keys vanish after restore, OS upgrade, biometric change), so
//! only 32-byte data keys go to the hardware, bulk crypto stays in Rust, and key
//! loss is a typed state the app handles, never a silent regeneration. The byte
//! formats are specified in `docs/envelope-format.md`.

mod aead;
mod envelope;
mod error;
mod fsutil;
mod kek;
mod keyring_kek;
mod passcode;
mod plaintext;
mod settings;
mod store;
mod stream;

pub use crate::FieldProblem;
pub use aead::AeadKey;
pub use envelope::{CachePolicy, EnvelopeCipher, EnvelopeHeader, FIXED_HEADER_LEN, KeyPart};
pub use error::{KekError, KeyLossReason, StorageError};
pub use kek::{DEK_LEN, Kek, SecurityLevel, SoftwareKek};
pub use keyring_kek::OsKeyringKek;
pub use passcode::{
    MIN_PASSCODE_LENGTH_FLOOR, MIN_PBKDF2_ITERATIONS, PasscodeCheck, PasscodePolicy, PolicyFloors,
};
pub use plaintext::Plaintext;
pub use settings::{
    CacheSettings, KekLevel, KekSettings, PasscodeSettings, StorageSettings, StorageSettingsError,
};
pub use store::{
    MAX_NAME_LEN, ROTATION_ATTEMPTS, RotationReport, SecureStore, StoreOptions, StorePolicy,
    WipeReport,
};
pub use stream::{
    DEFAULT_SEGMENT_LOG2, SEGMENT_LOG2_RANGE, StreamHeader, decrypt_file, decrypt_stream,
    encrypt_file, encrypt_stream, rewrap_file,
};
