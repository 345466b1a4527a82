//! The secure store: an encrypted key-value store in an app directory.
//!
//! Layout (see `docs/envelope-format.md`):
//!
//! ```text
//! <dir>/store.json            manifest: format, store id, KEK id, rotation state
//! <dir>/canary.mme            envelope of a fixed value: tells key loss from corruption
//! <dir>/items/<hex(name)>.mme one envelope per item
//! <dir>/passcode.mme          passcode verifier state (see `passcode`)
//! ```
//!
//! **Crash safety.** Every file is replaced atomically (temporary file, fsync,
//! rename, directory fsync), so after a crash each item holds its old or its new
//! value. The manifest is the commit record: it is written last when a store is
//! created, first (with the rotation state) when a KEK rotation starts and last
//! when it ends.
//!
//! **Key loss is a typed state, never a silent regeneration** (the failure the
//! Jetpack Security and Tink anchors show). When a data key cannot be unwrapped,
//! the canary is unwrapped *without the cache*: if the KEK rejects it too, the
//! store reports [`StorageError::KeyInvalidated`]; if the canary is fine, only the
//! item is damaged ([`StorageError::Corrupted`]); a missing item is
//! [`StorageError::NotFound`].
//!
//! **Rotation** (DATA-2) re-wraps each file's data key under the new KEK; payloads
//! are not re-encrypted. The manifest lists every KEK id that files may still be
//! under, so a rotation interrupted by a crash is finished when the store is next
//! opened with the new KEK and the old one as a previous key.
//!
//! **Wipe** is crypto-shredding: the KEK is destroyed first (where the KEK supports
//! it), then the manifest is marked `wiping` and the files are removed, the
//! manifest last; an interrupted wipe is finished by the next open. Flash storage
//! does not reliably overwrite in place, so destroying the key is what makes
//! remnants unreadable.
//!
//! **One instance per directory.** `open` takes an exclusive advisory lock
//! (`flock(2)` through `fs4`) on `<dir>/store.lock` and holds it until the store is
//! dropped, so two instances, in one process or in two, can never interleave
//! passcode attempt counters or rotate under each other. A second `open` waits
//! up to [`StoreOptions::lock_timeout`] (default: zero, one try) and then fails
//! with [`StorageError::Locked`]; it never blocks indefinitely. The kernel drops
//! the lock when the process dies, so a crash leaves no stale lock.
//!
//! **Locks and foreign calls.** A KEK may be slow (StrongBox, a biometric prompt)
//! and may call back into the store. No in-process lock is held across a KEK
//! call (issue 9 item 12). `put` and `get` seal and open without any store lock
//! held (they take the read lock only to check the key and to write the file),
//! and the data-key cache mutex is never held across the KEK. A rotation works in
//! rounds: it first unwraps and re-wraps every data key the files use with no
//! lock held (puts and gets go on meanwhile, under the old key), then takes the
//! write lock and, with no KEK call, commits only if the store is still under the
//! key it started from and every file's data key was re-wrapped; a put made in
//! between under a fresh data key makes another round, and after
//! [`ROTATION_ATTEMPTS`] rounds the rotation fails with
//! [`StorageError::RotationContended`] having changed nothing. Stream
//! encryption works on a snapshot of the key, and `wipe` calls `destroy` after
//! marking the store wiped, with no lock held. Passcode operations serialise on
//! the passcode mutex (see `passcode`).
//!
//! The *cross-process* lock (`store.lock`) is held for the store's whole
//! lifetime, KEK calls included: that is inherent, since it is what makes one
//! instance own the directory; it is never taken inside an operation, so a KEK
//! that calls back into the same instance cannot wait for it.
//!
//! **Missing files are never a fresh start.** Only an empty or absent directory
//! (or the canary alone, left by an interrupted creation) creates a store; a
//! directory with items or a passcode but no manifest is
//! [`StorageError::Corrupted`]. Whether a passcode is set is recorded in the
//! authenticated canary, so a deleted passcode file is `Corrupted` too.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use super::envelope::{CachePolicy, EnvelopeCipher, EnvelopeHeader, HeldKey};
use super::error::{KekError, KeyLossReason, StorageError};
use super::fsutil::{self, TEMP_PREFIX};
use super::kek::{Kek, SecurityLevel};
use super::plaintext::Plaintext;
use super::stream;

const MANIFEST: &str = "store.json";
const LOCK_FILE: &str = "store.lock";
const CANARY: &str = "canary.mme";
const ITEMS: &str = "items";
pub(crate) const PASSCODE_FILE: &str = "passcode.mme";
const ITEM_EXT: &str = ".mme";
/// The canary of stores written before the passcode record (read, then upgraded).
const LEGACY_CANARY_VALUE: &[u8] = b"mamori canary v1";
/// The canary: a fixed prefix and the authenticated passcode record.
const CANARY_NO_PASSCODE: &[u8] = b"mamori canary v2\0passcode=0";
const CANARY_PASSCODE: &[u8] = b"mamori canary v2\0passcode=1";
const STORE_FORMAT: u32 = 1;
/// Longest item name in bytes (hex-encoded it must fit a 255-byte file name).
pub const MAX_NAME_LEN: usize = 120;
/// Rounds a KEK rotation tries before [`StorageError::RotationContended`]: each
/// round re-wraps the data keys that writes made since the previous one.
pub const ROTATION_ATTEMPTS: u32 = 4;

/// Which KEKs a store accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorePolicy {
    /// The weakest KEK security level accepted.
    pub min_security_level: SecurityLevel,
}

impl Default for StorePolicy {
    /// Refuses software KEKs: at least the OS keyring (DEV-1).
    fn default() -> Self {
        Self {
            min_security_level: SecurityLevel::OsKeyring,
        }
    }
}

impl StorePolicy {
    /// Accepts any KEK, including software keys (tests, development).
    pub fn allow_software() -> Self {
        Self {
            min_security_level: SecurityLevel::Software,
        }
    }

    /// Checks a KEK against the policy.
    pub fn check(&self, kek: &dyn Kek) -> Result<(), StorageError> {
        let offered = kek.security_level();
        if offered.satisfies(self.min_security_level) {
            Ok(())
        } else {
            Err(StorageError::InsecureKek {
                kek_id: kek.key_id(),
                offered,
                required: self.min_security_level,
            })
        }
    }
}

/// Options for [`SecureStore::open`].
#[derive(Clone, Default)]
pub struct StoreOptions {
    /// Which KEKs are acceptable.
    pub policy: StorePolicy,
    /// DEK reuse bounds.
    pub cache: CachePolicy,
    /// KEKs the store may still be under (an earlier key, or both sides of an
    /// interrupted rotation). Opening with a new KEK and the old one here rotates.
    pub previous_keks: Vec<Arc<dyn Kek>>,
    /// How long `open` waits for another instance to release the store
    /// directory before failing with [`StorageError::Locked`]. Zero (the
    /// default): one try, never a wait.
    pub lock_timeout: Duration,
}

impl fmt::Debug for StoreOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<String> = self.previous_keks.iter().map(|k| k.key_id()).collect();
        f.debug_struct("StoreOptions")
            .field("policy", &self.policy)
            .field("cache", &self.cache)
            .field("previous_keks", &ids)
            .field("lock_timeout", &self.lock_timeout)
            .finish()
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
struct Manifest {
    format: u32,
    store_id: String,
    kek_id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    rotating_from: Vec<String>,
    /// A wipe has started: the next open finishes it and creates a new store.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    wiping: bool,
}

fn canary_value(passcode: bool) -> &'static [u8] {
    if passcode {
        CANARY_PASSCODE
    } else {
        CANARY_NO_PASSCODE
    }
}

/// The passcode record in a canary value: `Some(None)` for a legacy canary
/// (no record), `None` for a value that is not a canary.
fn parse_canary(v: &[u8]) -> Option<Option<bool>> {
    match v {
        LEGACY_CANARY_VALUE => Some(None),
        CANARY_NO_PASSCODE => Some(Some(false)),
        CANARY_PASSCODE => Some(Some(true)),
        _ => None,
    }
}

/// What a rotation did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RotationReport {
    /// Files whose data key was re-wrapped.
    pub rewrapped: u64,
    /// Files already under the new KEK (a resumed rotation).
    pub already_rotated: u64,
    /// Damaged files that could not be re-wrapped (they read as `Corrupted`).
    pub skipped_corrupted: u64,
}

/// What a wipe did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WipeReport {
    /// Whether the KEK was destroyed (false if it does not support destruction).
    pub kek_destroyed: bool,
    /// How many files were removed.
    pub files_removed: u64,
}

/// A rotation's re-wrapped data keys: `(old KEK id, old wrapped key)` to the key
/// wrapped under the new KEK, or `None` if the old KEK rejected it. Wrapped keys
/// only: no plaintext key is kept.
type RewrappedKeys = HashMap<(String, Vec<u8>), Option<Vec<u8>>>;

/// What a rotation's commit does to one file.
enum Rewrap {
    /// The new bytes (the key part replaced).
    To(Vec<u8>),
    /// Already under the new KEK.
    Already,
    /// Damaged (unparsable, or a key no supplied KEK opens): left as it is.
    Skipped,
}

/// The data keys a passcode operation holds, got from the KEK before it takes
/// the passcode lock (see `passcode`): the canary's and one file's, under the
/// store id and cipher of one snapshot.
pub(crate) struct HeldKeys {
    store_id: String,
    cipher: Arc<EnvelopeCipher>,
    canary: HeldKey,
    /// The key of the file asked for, if it exists.
    pub(crate) file: Option<HeldKey>,
}

impl HeldKeys {
    /// The current sealing key of the held cipher (a KEK call if none is cached),
    /// for a file that has no key yet.
    pub(crate) fn sealing_key(&self) -> Result<HeldKey, StorageError> {
        self.cipher.hold_sealing_key()
    }
}

struct Inner {
    store_id: String,
    cipher: Arc<EnvelopeCipher>,
    wiped: bool,
}

/// An encrypted, crash-safe key-value store.
pub struct SecureStore {
    dir: PathBuf,
    options_policy: StorePolicy,
    cache: CachePolicy,
    inner: RwLock<Inner>,
    passcode: Mutex<()>,
    /// The advisory lock on the directory, held for the store's lifetime.
    _dir_lock: std::fs::File,
}

impl fmt::Debug for SecureStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        f.debug_struct("SecureStore")
            .field("dir", &self.dir)
            .field("kek_id", &inner.cipher.kek_id())
            .field("wiped", &inner.wiped)
            .finish_non_exhaustive()
    }
}

fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    hex::decode(s).ok()
}

fn validate_name(name: &str) -> Result<(), StorageError> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(StorageError::InvalidInput {
            what: "item name",
            reason: format!("{} bytes, expected 1..={MAX_NAME_LEN}", name.len()),
        });
    }
    Ok(())
}

fn context(store_id: &str, kind: &str, name: &str) -> Vec<u8> {
    let mut c = Vec::with_capacity(24 + store_id.len() + kind.len() + name.len());
    c.extend_from_slice(b"mamori store v1\0");
    c.extend_from_slice(store_id.as_bytes());
    c.push(0);
    c.extend_from_slice(kind.as_bytes());
    c.push(0);
    c.extend_from_slice(name.as_bytes());
    c
}

fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, StorageError> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StorageError::io(path)(e)),
    }
}

fn key_loss(kek_id: &str, reason: KeyLossReason) -> StorageError {
    StorageError::KeyInvalidated {
        kek_id: kek_id.to_owned(),
        reason,
    }
}

/// The one classification of KEK failures for every store operation, reads
/// and writes alike: a KEK that reports its key invalidated means the store's
/// key is lost ([`StorageError::KeyInvalidated`]), whatever the operation.
fn classify_kek_failure(kek_id: &str, e: StorageError) -> StorageError {
    match e {
        StorageError::Kek(KekError::KeyInvalidated) => {
            key_loss(kek_id, KeyLossReason::ReportedByKek)
        }
        other => other,
    }
}

impl SecureStore {
    /// Opens the store in `dir` (creating it if there is none) under `kek`.
    ///
    /// Errors: [`StorageError::InsecureKek`] if the policy refuses a KEK,
    /// [`StorageError::KeyInvalidated`] if the store belongs to a lost key,
    /// [`StorageError::RotationIncomplete`] if an interrupted rotation needs a key
    /// that was not supplied, [`StorageError::Corrupted`] for a damaged manifest
    /// or canary.
    pub fn open(
        dir: impl Into<PathBuf>,
        kek: Arc<dyn Kek>,
        options: StoreOptions,
    ) -> Result<Self, StorageError> {
        let dir = dir.into();
        options.policy.check(kek.as_ref())?;
        for k in &options.previous_keks {
            options.policy.check(k.as_ref())?;
        }
        std::fs::create_dir_all(dir.join(ITEMS)).map_err(StorageError::io(&dir))?;
        let dir_lock = Self::lock_dir(&dir, options.lock_timeout)?;
        Self::remove_temp_files(&dir)?;
        Self::remove_temp_files(&dir.join(ITEMS))?;

        let cipher = Arc::new(EnvelopeCipher::new(kek, options.cache)?);
        let manifest_path = dir.join(MANIFEST);
        let manifest = match read_optional(&manifest_path)? {
            Some(bytes) => {
                let m = serde_json::from_slice::<Manifest>(&bytes).map_err(|_| {
                    StorageError::Corrupted {
                        what: manifest_path.display().to_string(),
                        reason: "manifest is not valid JSON of the expected shape",
                    }
                })?;
                if m.wiping {
                    // An interrupted wipe: finish it, then start afresh.
                    Self::remove_files(&dir)?;
                    Self::create(&dir, &cipher)?
                } else {
                    m
                }
            }
            None if Self::holds_store_data(&dir)? => {
                return Err(StorageError::Corrupted {
                    what: manifest_path.display().to_string(),
                    reason: "manifest missing from a directory that holds items or a passcode",
                });
            }
            None => Self::create(&dir, &cipher)?,
        };
        if manifest.format != STORE_FORMAT {
            return Err(StorageError::Corrupted {
                what: manifest_path.display().to_string(),
                reason: "unsupported store format",
            });
        }
        let store = Self {
            dir,
            options_policy: options.policy,
            cache: options.cache,
            inner: RwLock::new(Inner {
                store_id: manifest.store_id.clone(),
                cipher: cipher.clone(),
                wiped: false,
            }),
            passcode: Mutex::new(()),
            _dir_lock: dir_lock,
        };

        let mut present = vec![manifest.kek_id.clone()];
        present.extend(manifest.rotating_from.iter().cloned());
        present.retain(|id| id != cipher.kek_id());
        if present.is_empty() {
            let record = store.verify_canary(&manifest.store_id, &cipher)?;
            store.upgrade_legacy_canary(record)?;
            return Ok(store);
        }
        // The store is (partly) under other keys: rotate to `kek`.
        let mut from = Vec::new();
        for id in &present {
            match options.previous_keks.iter().find(|k| &k.key_id() == id) {
                Some(k) => from.push(Arc::new(EnvelopeCipher::new(k.clone(), options.cache)?)),
                None if manifest.rotating_from.is_empty() => {
                    return Err(key_loss(
                        &manifest.kek_id,
                        KeyLossReason::DifferentKeyId {
                            expected: manifest.kek_id.clone(),
                            offered: cipher.kek_id().to_owned(),
                        },
                    ));
                }
                None => {
                    return Err(StorageError::RotationIncomplete {
                        from: id.clone(),
                        to: manifest.kek_id.clone(),
                    });
                }
            }
        }
        // Nobody else holds this store yet: no write can make another round.
        let mut rewrapped = RewrappedKeys::new();
        if store
            .try_rotation(&manifest.store_id, &from, &cipher, &cipher, &mut rewrapped)?
            .is_none()
        {
            return Err(StorageError::RotationContended { attempts: 1 });
        }
        let record = store.passcode_record_raw()?;
        store.upgrade_legacy_canary(record)?;
        Ok(store)
    }

    /// Takes the exclusive advisory lock on `<dir>/store.lock`, retrying every
    /// 10 ms for up to `timeout`.
    fn lock_dir(dir: &Path, timeout: Duration) -> Result<std::fs::File, StorageError> {
        let path = dir.join(LOCK_FILE);
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(StorageError::io(&path))?;
        let started = Instant::now();
        loop {
            // Fully qualified: std's own `File::try_lock` (Rust 1.89) would
            // shadow the trait method, and the workspace supports 1.85.
            match fs4::FileExt::try_lock(&file) {
                Ok(()) => return Ok(file),
                Err(fs4::TryLockError::WouldBlock) => {}
                Err(fs4::TryLockError::Error(e)) => return Err(StorageError::io(&path)(e)),
            }
            let waited = started.elapsed();
            if waited >= timeout {
                return Err(StorageError::Locked { path, waited });
            }
            std::thread::sleep(Duration::from_millis(10).min(timeout - waited));
        }
    }

    /// Whether a directory without a manifest holds anything but the leftovers of
    /// an interrupted creation (a canary, temporary files): items or a passcode
    /// file mean a store lost its manifest, which is never a fresh start.
    fn holds_store_data(dir: &Path) -> Result<bool, StorageError> {
        let items = dir.join(ITEMS);
        let has_items = std::fs::read_dir(&items)
            .map_err(StorageError::io(&items))?
            .next()
            .is_some();
        Ok(has_items || dir.join(PASSCODE_FILE).exists())
    }

    /// A store written before the passcode record gets one, from whether its
    /// passcode file exists (trusted once, on the first open after the upgrade).
    fn upgrade_legacy_canary(&self, record: Option<bool>) -> Result<(), StorageError> {
        if record.is_none() {
            let _guard = self.passcode_lock();
            self.record_passcode(self.passcode_path().exists())?;
        }
        Ok(())
    }

    /// The passcode record in the (authenticated) canary; `None` for a legacy canary.
    ///
    /// Opened from a snapshot, with no lock held across the KEK: a rotation that
    /// committed in between leaves the canary under a newer key than the
    /// snapshot's, so a key mismatch is read once more from a new snapshot.
    fn passcode_record_raw(&self) -> Result<Option<bool>, StorageError> {
        let (store_id, cipher) = self.snapshot()?;
        match self.check_canary(&store_id, &cipher, false) {
            Err(StorageError::KeyInvalidated {
                reason: KeyLossReason::DifferentKeyId { .. },
                ..
            }) => {
                let (store_id, cipher) = self.snapshot()?;
                self.check_canary(&store_id, &cipher, false)
            }
            other => other,
        }
    }

    /// Whether the store records that a passcode is set (see `passcode`).
    pub(crate) fn passcode_recorded(&self) -> Result<bool, StorageError> {
        Ok(self.passcode_record_raw()?.unwrap_or(false))
    }

    /// Rewrites the canary with the passcode record; the caller holds the
    /// passcode lock.
    pub(crate) fn record_passcode(&self, set: bool) -> Result<(), StorageError> {
        self.write_sealed(&self.dir.join(CANARY), "canary", "", canary_value(set))
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The id of the KEK the store is under.
    pub fn kek_id(&self) -> Result<String, StorageError> {
        Ok(self.read_inner()?.cipher.kek_id().to_owned())
    }

    /// The security level of the store's KEK.
    pub fn security_level(&self) -> Result<SecurityLevel, StorageError> {
        Ok(self.read_inner()?.cipher.kek().security_level())
    }

    fn remove_temp_files(dir: &Path) -> Result<(), StorageError> {
        let rd = std::fs::read_dir(dir).map_err(StorageError::io(dir))?;
        for entry in rd {
            let entry = entry.map_err(StorageError::io(dir))?;
            if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
                std::fs::remove_file(entry.path()).map_err(StorageError::io(entry.path()))?;
            }
        }
        Ok(())
    }

    /// Creates a new store: random id, canary, then the manifest (commit point).
    fn create(dir: &Path, cipher: &EnvelopeCipher) -> Result<Manifest, StorageError> {
        // Leftovers without a manifest are unreadable (their context holds a store
        // id that no longer exists): an interrupted creation or wipe. (`open` only
        // gets here for a directory without items or passcode, or a marked wipe.)
        let items = dir.join(ITEMS);
        for entry in std::fs::read_dir(&items).map_err(StorageError::io(&items))? {
            let entry = entry.map_err(StorageError::io(&items))?;
            std::fs::remove_file(entry.path()).map_err(StorageError::io(entry.path()))?;
        }
        for f in [CANARY, PASSCODE_FILE] {
            fsutil::remove_durably(&dir.join(f))?;
        }
        let mut id = [0u8; 16];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut id).map_err(
            |_| {
                StorageError::Kek(KekError::Backend {
                    reason: "system random generator failed".into(),
                })
            },
        )?;
        let manifest = Manifest {
            format: STORE_FORMAT,
            store_id: hex(&id),
            kek_id: cipher.kek_id().to_owned(),
            rotating_from: Vec::new(),
            wiping: false,
        };
        let canary = cipher.seal(
            &context(&manifest.store_id, "canary", ""),
            canary_value(false),
        )?;
        fsutil::write_bytes_atomically(&dir.join(CANARY), &canary)?;
        Self::write_manifest(dir, &manifest)?;
        Ok(manifest)
    }

    fn write_manifest(dir: &Path, m: &Manifest) -> Result<(), StorageError> {
        let bytes = serde_json::to_vec_pretty(m).expect("manifest serialises");
        fsutil::write_bytes_atomically(&dir.join(MANIFEST), &bytes)
    }

    /// Opens the canary. With `uncached`, the KEK itself is asked (used to decide
    /// between key loss and item corruption).
    fn check_canary(
        &self,
        store_id: &str,
        cipher: &EnvelopeCipher,
        uncached: bool,
    ) -> Result<Option<bool>, StorageError> {
        let path = self.dir.join(CANARY);
        let bytes = read_optional(&path)?.ok_or(StorageError::Corrupted {
            what: path.display().to_string(),
            reason: "canary missing",
        })?;
        self.check_canary_bytes(store_id, cipher, uncached, &bytes)
    }

    /// [`Self::check_canary`] of canary bytes (read, or as a rotation will write them).
    fn check_canary_bytes(
        &self,
        store_id: &str,
        cipher: &EnvelopeCipher,
        uncached: bool,
        bytes: &[u8],
    ) -> Result<Option<bool>, StorageError> {
        let path = self.dir.join(CANARY);
        let corrupted = |reason| StorageError::Corrupted {
            what: path.display().to_string(),
            reason,
        };
        self.check_canary_header(cipher, bytes)?;
        let result = if uncached {
            cipher.open_uncached(&context(store_id, "canary", ""), bytes)
        } else {
            cipher.open(&context(store_id, "canary", ""), bytes)
        };
        match result {
            Ok(v) => parse_canary(&v).ok_or_else(|| corrupted("canary has the wrong value")),
            Err(e) => Err(self.canary_failure(cipher, e)),
        }
    }

    /// The canary names `cipher`'s KEK, or the store's key is lost.
    fn check_canary_header(
        &self,
        cipher: &EnvelopeCipher,
        bytes: &[u8],
    ) -> Result<(), StorageError> {
        let header = EnvelopeHeader::parse(bytes).map_err(|_| StorageError::Corrupted {
            what: self.dir.join(CANARY).display().to_string(),
            reason: "canary unreadable",
        })?;
        if header.key.kek_id != cipher.kek_id() {
            return Err(key_loss(
                cipher.kek_id(),
                KeyLossReason::DifferentKeyId {
                    expected: header.key.kek_id,
                    offered: cipher.kek_id().to_owned(),
                },
            ));
        }
        Ok(())
    }

    /// What a failure to open the canary means.
    fn canary_failure(&self, cipher: &EnvelopeCipher, e: StorageError) -> StorageError {
        match e {
            StorageError::Kek(KekError::UnwrapFailed) => {
                key_loss(cipher.kek_id(), KeyLossReason::CanaryRejected)
            }
            StorageError::AuthenticationFailed | StorageError::Malformed { .. } => {
                StorageError::Corrupted {
                    what: self.dir.join(CANARY).display().to_string(),
                    reason: "canary failed authentication",
                }
            }
            e => classify_kek_failure(cipher.kek_id(), e),
        }
    }

    /// Step 1 of a passcode operation (no lock held; KEK calls): the data keys of
    /// the canary and of `path` (none if not asked for or if it does not exist),
    /// from a snapshot.
    /// `Ok(None)`: a rotation committed since the snapshot; take another.
    pub(crate) fn hold_keys(
        &self,
        path: Option<&Path>,
        what: &str,
    ) -> Result<Option<HeldKeys>, StorageError> {
        let (store_id, cipher) = self.snapshot()?;
        let stale = |store: &Self| -> Result<bool, StorageError> {
            Ok(!Arc::ptr_eq(&store.snapshot()?.1, &cipher))
        };
        let canary_path = self.dir.join(CANARY);
        let canary = read_optional(&canary_path)?.ok_or_else(|| StorageError::Corrupted {
            what: canary_path.display().to_string(),
            reason: "canary missing",
        })?;
        if let Err(e) = self.check_canary_header(&cipher, &canary) {
            return if stale(self)? { Ok(None) } else { Err(e) };
        }
        let canary = cipher
            .hold_key_of(&canary)
            .map_err(|e| self.canary_failure(&cipher, e))?;
        let file = match path.map(read_optional).transpose()?.flatten() {
            None => None,
            Some(bytes) => {
                let header = EnvelopeHeader::parse(&bytes).map_err(|e| match e {
                    StorageError::Malformed { reason } => StorageError::Corrupted {
                        what: what.to_owned(),
                        reason,
                    },
                    other => other,
                })?;
                if header.key.kek_id != cipher.kek_id() {
                    if stale(self)? {
                        return Ok(None);
                    }
                    return Err(StorageError::Corrupted {
                        what: what.to_owned(),
                        reason: "the header names a key this store does not use",
                    });
                }
                match cipher.hold_key_of(&bytes) {
                    Ok(key) => Some(key),
                    Err(e) => return Err(self.sealed_failure(&store_id, &cipher, what, e)),
                }
            }
        };
        Ok(Some(HeldKeys {
            store_id,
            cipher,
            canary,
            file,
        }))
    }

    /// Step 2 (under the caller's lock, no KEK call): the passcode record of the
    /// canary, opened with the held key. `Ok(None)`: the canary is no longer under
    /// it (a rotation); start again from [`Self::hold_keys`].
    pub(crate) fn passcode_record_with(
        &self,
        keys: &HeldKeys,
    ) -> Result<Option<bool>, StorageError> {
        let path = self.dir.join(CANARY);
        let bytes = read_optional(&path)?.ok_or_else(|| StorageError::Corrupted {
            what: path.display().to_string(),
            reason: "canary missing",
        })?;
        let opened = keys
            .cipher
            .open_with(&keys.canary, &context(&keys.store_id, "canary", ""), &bytes)
            .map_err(|e| self.canary_failure(&keys.cipher, e))?;
        let Some(v) = opened else {
            return Ok(None);
        };
        let record = parse_canary(&v).ok_or_else(|| StorageError::Corrupted {
            what: path.display().to_string(),
            reason: "canary has the wrong value",
        })?;
        Ok(Some(record.unwrap_or(false)))
    }

    /// Step 2: opens `path` with `key` (held in step 1). `Ok(Some(None))`: no such
    /// file; `Ok(None)`: the file is no longer under `key`.
    pub(crate) fn read_with(
        &self,
        keys: &HeldKeys,
        key: &HeldKey,
        path: &Path,
        kind: &str,
        name: &str,
        what: &str,
    ) -> Result<Option<Option<Plaintext>>, StorageError> {
        let Some(bytes) = read_optional(path)? else {
            return Ok(Some(None));
        };
        match keys
            .cipher
            .open_with(key, &context(&keys.store_id, kind, name), &bytes)
        {
            Ok(opened) => Ok(opened.map(Some)),
            Err(e) => Err(self.sealed_failure(&keys.store_id, &keys.cipher, what, e)),
        }
    }

    /// Step 2: seals `value` with `key` and writes it to `path` atomically, if the
    /// store is still under the held keys' KEK (`Ok(false)` otherwise: nothing
    /// written). No KEK call.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn write_with(
        &self,
        keys: &HeldKeys,
        key: &HeldKey,
        path: &Path,
        kind: &str,
        name: &str,
        value: &[u8],
    ) -> Result<bool, StorageError> {
        let sealed = keys
            .cipher
            .seal_with(key, &context(&keys.store_id, kind, name), value)?;
        let inner = self.read_inner()?;
        if !Arc::ptr_eq(&inner.cipher, &keys.cipher) {
            return Ok(false);
        }
        fsutil::write_bytes_atomically(path, &sealed)?;
        Ok(true)
    }

    /// Step 2: rewrites the canary with the passcode record, under its held key.
    pub(crate) fn record_passcode_with(
        &self,
        keys: &HeldKeys,
        set: bool,
    ) -> Result<bool, StorageError> {
        self.write_with(
            keys,
            &keys.canary,
            &self.dir.join(CANARY),
            "canary",
            "",
            canary_value(set),
        )
    }

    fn verify_canary(
        &self,
        store_id: &str,
        cipher: &EnvelopeCipher,
    ) -> Result<Option<bool>, StorageError> {
        self.check_canary(store_id, cipher, false)
    }

    fn read_inner(&self) -> Result<RwLockReadGuard<'_, Inner>, StorageError> {
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        if inner.wiped {
            return Err(StorageError::Wiped);
        }
        Ok(inner)
    }

    fn item_path(&self, name: &str) -> PathBuf {
        self.dir
            .join(ITEMS)
            .join(format!("{}{ITEM_EXT}", hex(name.as_bytes())))
    }

    /// Seals `value` under the store's KEK and writes it to `path`, atomically.
    pub(crate) fn write_sealed(
        &self,
        path: &Path,
        kind: &str,
        name: &str,
        value: &[u8],
    ) -> Result<(), StorageError> {
        loop {
            // Seal without any store lock (the KEK may be slow or call back in).
            let (store_id, cipher) = self.snapshot()?;
            let sealed = cipher
                .seal(&context(&store_id, kind, name), value)
                .map_err(|e| classify_kek_failure(cipher.kek_id(), e))?;
            // Write under the read lock, if the store is still under that key: a
            // rotation (write lock) cannot run in between and miss this file.
            let inner = self.read_inner()?;
            if Arc::ptr_eq(&inner.cipher, &cipher) {
                return fsutil::write_bytes_atomically(path, &sealed);
            }
            // Rotated meanwhile: seal again under the new key.
        }
    }

    /// The store id and current cipher, without keeping the lock.
    fn snapshot(&self) -> Result<(String, Arc<EnvelopeCipher>), StorageError> {
        let inner = self.read_inner()?;
        Ok((inner.store_id.clone(), inner.cipher.clone()))
    }

    /// Reads and opens a sealed file, classifying failures (see the module docs).
    pub(crate) fn read_sealed(
        &self,
        path: &Path,
        kind: &str,
        name: &str,
        what: &str,
    ) -> Result<Option<Plaintext>, StorageError> {
        let corrupted = |reason| StorageError::Corrupted {
            what: what.to_owned(),
            reason,
        };
        // Opened without any store lock (the KEK may be slow or call back in). A
        // file under another key than the snapshot's was re-wrapped by a rotation
        // since: take a new snapshot (it waits for the rotation) and read again.
        let mut retried = false;
        let (store_id, cipher, bytes) = loop {
            let (store_id, cipher) = self.snapshot()?;
            let Some(bytes) = read_optional(path)? else {
                return Ok(None);
            };
            let header = EnvelopeHeader::parse(&bytes).map_err(|e| match e {
                StorageError::Malformed { reason } => corrupted(reason),
                other => other,
            })?;
            if header.key.kek_id == cipher.kek_id() {
                break (store_id, cipher, bytes);
            }
            if retried {
                return Err(corrupted("the header names a key this store does not use"));
            }
            retried = true;
        };
        match cipher.open(&context(&store_id, kind, name), &bytes) {
            Ok(v) => Ok(Some(v)),
            Err(e) => Err(self.sealed_failure(&store_id, &cipher, what, e)),
        }
    }

    /// What a failure to open a sealed file (not the canary) means.
    fn sealed_failure(
        &self,
        store_id: &str,
        cipher: &EnvelopeCipher,
        what: &str,
        e: StorageError,
    ) -> StorageError {
        let corrupted = |reason| StorageError::Corrupted {
            what: what.to_owned(),
            reason,
        };
        match e {
            StorageError::AuthenticationFailed => {
                corrupted("authentication failed: altered, or moved from another item")
            }
            StorageError::Kek(KekError::UnwrapFailed) => {
                match self.check_canary(store_id, cipher, true) {
                    Err(e) => e,
                    Ok(_) => {
                        corrupted("its wrapped data key was rejected while the store key is fine")
                    }
                }
            }
            e => classify_kek_failure(cipher.kek_id(), e),
        }
    }

    /// Stores `value` under `name`, replacing any previous value atomically.
    pub fn put(&self, name: &str, value: &[u8]) -> Result<(), StorageError> {
        validate_name(name)?;
        self.write_sealed(&self.item_path(name), "item", name, value)
    }

    /// Reads the value stored under `name`.
    pub fn get(&self, name: &str) -> Result<Plaintext, StorageError> {
        validate_name(name)?;
        self.read_sealed(&self.item_path(name), "item", name, name)?
            .ok_or_else(|| StorageError::NotFound {
                name: name.to_owned(),
            })
    }

    /// Whether an item named `name` exists (without decrypting it).
    pub fn contains(&self, name: &str) -> Result<bool, StorageError> {
        validate_name(name)?;
        let _inner = self.read_inner()?;
        Ok(self.item_path(name).exists())
    }

    /// Deletes `name`; returns whether it existed.
    pub fn delete(&self, name: &str) -> Result<bool, StorageError> {
        validate_name(name)?;
        let _inner = self.read_inner()?;
        fsutil::remove_durably(&self.item_path(name))
    }

    /// The names of all items, sorted. Names are not secret (they are file names).
    pub fn list(&self) -> Result<Vec<String>, StorageError> {
        let _inner = self.read_inner()?;
        let mut names = Vec::new();
        for (_, name) in self.item_files()? {
            names.push(name);
        }
        names.sort();
        Ok(names)
    }

    fn item_files(&self) -> Result<Vec<(PathBuf, String)>, StorageError> {
        let items = self.dir.join(ITEMS);
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&items).map_err(StorageError::io(&items))? {
            let entry = entry.map_err(StorageError::io(&items))?;
            let file = entry.file_name();
            let file = file.to_string_lossy();
            let Some(stem) = file.strip_suffix(ITEM_EXT) else {
                continue;
            };
            if let Some(name) = unhex(stem).and_then(|b| String::from_utf8(b).ok()) {
                out.push((entry.path(), name));
            }
        }
        Ok(out)
    }

    /// Encrypts the file `src` into `dst` in constant memory, bound to this store
    /// and to `label` (the same label must be given to decrypt).
    ///
    /// Works on a snapshot of the store's key, with no lock held (the KEK may be
    /// slow or call back in): a file encrypted while a rotation commits is under
    /// the old key, like one encrypted just before it ([`Self::rewrap_file`]).
    pub fn encrypt_file(&self, label: &str, src: &Path, dst: &Path) -> Result<u64, StorageError> {
        let (store_id, cipher) = self.snapshot()?;
        stream::encrypt_file(&cipher, &context(&store_id, "stream", label), src, dst)
    }

    /// Decrypts a file written by [`SecureStore::encrypt_file`] with the same label;
    /// `dst` appears only if the whole stream authenticated.
    pub fn decrypt_file(&self, label: &str, src: &Path, dst: &Path) -> Result<u64, StorageError> {
        let (store_id, cipher) = self.snapshot()?;
        stream::decrypt_file(&cipher, &context(&store_id, "stream", label), src, dst)
    }

    /// Re-wraps a file written by [`SecureStore::encrypt_file`] under an earlier
    /// KEK (`previous`) so that it opens under the store's current KEK. A store
    /// rotation only covers the store directory: apps that keep encrypted files
    /// elsewhere call this for each of them while they still hold the old key.
    /// Returns `false` if the file was already under the current KEK.
    pub fn rewrap_file(&self, path: &Path, previous: Arc<dyn Kek>) -> Result<bool, StorageError> {
        let (_, cipher) = self.snapshot()?;
        let from = EnvelopeCipher::new(previous, CachePolicy::disabled())?;
        stream::rewrap_file(&from, &cipher, path)
    }

    /// Drops cached plaintext data keys now (e.g. when the app goes to background).
    pub fn clear_key_cache(&self) {
        if let Ok(inner) = self.read_inner() {
            inner.cipher.clear_cache();
        }
    }

    /// Rotates the store to `new_kek`: every data key is re-wrapped, no payload is
    /// re-encrypted. Crash-safe: an interrupted rotation is finished by
    /// [`SecureStore::open`] with `new_kek` and the old KEK in `previous_keks`.
    ///
    /// No lock is held across a KEK call (see the module docs): gets and puts go
    /// on during the KEK calls, and the commit happens only if nothing changed
    /// that it would miss. Errors: [`StorageError::RotationContended`] if writes
    /// under fresh data keys kept landing for [`ROTATION_ATTEMPTS`] rounds (the
    /// store is unchanged, under its old key); a KEK failure leaves the store
    /// unchanged too.
    pub fn rotate_kek(&self, new_kek: Arc<dyn Kek>) -> Result<RotationReport, StorageError> {
        self.options_policy.check(new_kek.as_ref())?;
        let new = Arc::new(EnvelopeCipher::new(new_kek, self.cache)?);
        let mut rewrapped = RewrappedKeys::new();
        for _ in 0..ROTATION_ATTEMPTS {
            // A concurrent rotation that commits first makes this one start again
            // from the key that one rotated to.
            let (store_id, old) = self.snapshot()?;
            if old.kek_id() == new.kek_id() {
                return Ok(RotationReport::default());
            }
            match self.verify_canary(&store_id, &old) {
                // Another rotation committed since the snapshot: start from its key.
                Err(StorageError::KeyInvalidated {
                    reason: KeyLossReason::DifferentKeyId { .. },
                    ..
                }) if !Arc::ptr_eq(&self.snapshot()?.1, &old) => continue,
                other => {
                    other?;
                }
            }
            let from = [old.clone()];
            if let Some(report) = self.try_rotation(&store_id, &from, &new, &old, &mut rewrapped)? {
                return Ok(report);
            }
        }
        Err(StorageError::RotationContended {
            attempts: ROTATION_ATTEMPTS,
        })
    }

    /// The files a rotation re-wraps: the canary first, then items and the passcode file.
    fn rotation_files(&self) -> Result<Vec<PathBuf>, StorageError> {
        let mut files = vec![self.dir.join(CANARY)];
        files.extend(self.item_files()?.into_iter().map(|(p, _)| p));
        files.push(self.dir.join(PASSCODE_FILE));
        Ok(files)
    }

    /// One round of a rotation of every file from `from` to `to`.
    ///
    /// 1. With no lock held, every data key the files use is unwrapped and
    ///    re-wrapped (the KEK calls; `rewrapped` keeps them across rounds), and
    ///    the canary as it will be written is opened with `to`, uncached: proof
    ///    that the new KEK opens what it wrapped.
    /// 2. Under the write lock, with no KEK call: if the store still holds
    ///    `expected` and every file's key is in `rewrapped`, the manifest records
    ///    the rotation, the files are rewritten, the manifest commits. Otherwise
    ///    nothing is written and `None` asks for another round.
    fn try_rotation(
        &self,
        store_id: &str,
        from: &[Arc<EnvelopeCipher>],
        to: &Arc<EnvelopeCipher>,
        expected: &Arc<EnvelopeCipher>,
        rewrapped: &mut RewrappedKeys,
    ) -> Result<Option<RotationReport>, StorageError> {
        for path in self.rotation_files()? {
            Self::prepare_rewrap(&path, from, to, rewrapped)?;
        }
        let canary_path = self.dir.join(CANARY);
        let canary = read_optional(&canary_path)?.ok_or_else(|| StorageError::Corrupted {
            what: canary_path.display().to_string(),
            reason: "canary missing",
        })?;
        match Self::rewrapped_file(&canary, to, rewrapped) {
            Some(Rewrap::To(bytes)) => {
                self.check_canary_bytes(store_id, to, true, &bytes)?;
            }
            // Already under `to`, or a canary no supplied key opens: it must open
            // with `to` as it is, or the rotation stops here, having written nothing.
            Some(Rewrap::Already | Rewrap::Skipped) => {
                self.check_canary_bytes(store_id, to, true, &canary)?;
            }
            None => {} // rewritten since step 1: the commit check asks for another round
        }

        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        if inner.wiped {
            return Err(StorageError::Wiped);
        }
        if !Arc::ptr_eq(&inner.cipher, expected) {
            return Ok(None);
        }
        // Every file as it is now (no write runs under the write lock): any key
        // not re-wrapped yet (a put since step 1) means another round.
        let files = self.rotation_files()?;
        for path in &files {
            if let Some(bytes) = read_optional(path)? {
                if Self::rewrapped_file(&bytes, to, rewrapped).is_none() {
                    return Ok(None);
                }
            }
        }
        let mut rotating_from: Vec<String> = from.iter().map(|c| c.kek_id().to_owned()).collect();
        rotating_from.sort();
        rotating_from.dedup();
        Self::write_manifest(
            &self.dir,
            &Manifest {
                format: STORE_FORMAT,
                store_id: store_id.to_owned(),
                kek_id: to.kek_id().to_owned(),
                rotating_from,
                wiping: false,
            },
        )?;
        let mut report = RotationReport::default();
        for path in &files {
            let Some(bytes) = read_optional(path)? else {
                continue;
            };
            match Self::rewrapped_file(&bytes, to, rewrapped) {
                Some(Rewrap::To(new)) => {
                    fsutil::write_bytes_atomically(path, &new)?;
                    report.rewrapped += 1;
                }
                Some(Rewrap::Already) => report.already_rotated += 1,
                Some(Rewrap::Skipped) => report.skipped_corrupted += 1,
                None => unreachable!("checked above under the same write lock"),
            }
        }
        Self::write_manifest(
            &self.dir,
            &Manifest {
                format: STORE_FORMAT,
                store_id: store_id.to_owned(),
                kek_id: to.kek_id().to_owned(),
                rotating_from: Vec::new(),
                wiping: false,
            },
        )?;
        for c in from {
            c.clear_cache();
        }
        inner.cipher = to.clone();
        Ok(Some(report))
    }

    /// Step 1 of a rotation round for one file: re-wraps its data key unless done
    /// before (the KEK calls; no lock held).
    fn prepare_rewrap(
        path: &Path,
        from: &[Arc<EnvelopeCipher>],
        to: &EnvelopeCipher,
        rewrapped: &mut RewrappedKeys,
    ) -> Result<(), StorageError> {
        let Some(bytes) = read_optional(path)? else {
            return Ok(());
        };
        let Ok(header) = EnvelopeHeader::parse(&bytes) else {
            return Ok(()); // counted as skipped when committed
        };
        let key = (header.key.kek_id.clone(), header.key.wrapped_dek.clone());
        if header.key.kek_id == to.kek_id() || rewrapped.contains_key(&key) {
            return Ok(());
        }
        let Some(old) = from.iter().find(|c| c.kek_id() == header.key.kek_id) else {
            rewrapped.insert(key, None); // under a key no supplied KEK is: damaged
            return Ok(());
        };
        let new_wrapped = match old.rewrap_key_part(&header.key, to) {
            Ok(w) => Some(w),
            Err(StorageError::Kek(KekError::UnwrapFailed)) => None,
            Err(e) => return Err(e),
        };
        rewrapped.insert(key, new_wrapped);
        Ok(())
    }

    /// What committing a rotation does to a file's bytes; `None` if its data key
    /// has not been re-wrapped yet.
    fn rewrapped_file(
        bytes: &[u8],
        to: &EnvelopeCipher,
        rewrapped: &RewrappedKeys,
    ) -> Option<Rewrap> {
        let Ok(header) = EnvelopeHeader::parse(bytes) else {
            return Some(Rewrap::Skipped);
        };
        if header.key.kek_id == to.kek_id() {
            return Some(Rewrap::Already);
        }
        let key = (header.key.kek_id.clone(), header.key.wrapped_dek.clone());
        match rewrapped.get(&key) {
            Some(Some(new_wrapped)) => Some(Rewrap::To(super::envelope::replace_key_part(
                bytes,
                &header,
                to.kek_id(),
                new_wrapped,
            ))),
            // The old KEK rejected it, or no supplied KEK is its key: damaged.
            Some(None) => Some(Rewrap::Skipped),
            None => None,
        }
    }

    /// Wipes the store (crypto-shredding): destroys the KEK where supported, then
    /// removes every file. The object refuses all further use with
    /// [`StorageError::Wiped`].
    ///
    /// The files are removed whatever the KEK says (a wipe never fails open): if
    /// the KEK refuses destruction, the files are still removed and the failure is
    /// reported afterwards as [`StorageError::KekNotDestroyed`].
    pub fn wipe(&self) -> Result<WipeReport, StorageError> {
        // Mark the object wiped under the write lock (no put is writing a file
        // then, and none starts after), then work without the lock: the KEK's
        // `destroy` is a foreign call.
        let (store_id, cipher) = {
            let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
            if inner.wiped {
                return Err(StorageError::Wiped);
            }
            inner.wiped = true;
            inner.cipher.clear_cache();
            (inner.store_id.clone(), inner.cipher.clone())
        };
        let (kek_destroyed, kek_failure) = match cipher.kek().destroy() {
            Ok(()) => (true, None),
            Err(KekError::Unsupported { .. }) => (false, None),
            Err(e) => (false, Some(e)),
        };
        // Commit point of the wipe: a crash from here on is finished by `open`.
        Self::write_manifest(
            &self.dir,
            &Manifest {
                format: STORE_FORMAT,
                store_id,
                kek_id: cipher.kek_id().to_owned(),
                rotating_from: Vec::new(),
                wiping: true,
            },
        )?;
        let files_removed = Self::remove_files(&self.dir)?;
        if let Some(source) = kek_failure {
            return Err(StorageError::KekNotDestroyed {
                files_removed,
                source,
            });
        }
        Ok(WipeReport {
            kek_destroyed,
            files_removed,
        })
    }

    /// Removes the items, the passcode file and the canary, then the manifest
    /// last (it holds the wipe marker until nothing else is left).
    fn remove_files(dir: &Path) -> Result<u64, StorageError> {
        let mut files_removed = 0;
        let items = dir.join(ITEMS);
        for entry in std::fs::read_dir(&items).map_err(StorageError::io(&items))? {
            let entry = entry.map_err(StorageError::io(&items))?;
            std::fs::remove_file(entry.path()).map_err(StorageError::io(entry.path()))?;
            files_removed += 1;
        }
        fsutil::sync_dir(&items)?;
        for f in [PASSCODE_FILE, CANARY, MANIFEST] {
            files_removed += fsutil::remove_durably(&dir.join(f))? as u64;
        }
        Ok(files_removed)
    }

    pub(crate) fn passcode_lock(&self) -> MutexGuard<'_, ()> {
        self.passcode.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn passcode_path(&self) -> PathBuf {
        self.dir.join(PASSCODE_FILE)
    }

    pub(crate) fn remove_file(&self, path: &Path) -> Result<bool, StorageError> {
        let _inner = self.read_inner()?;
        fsutil::remove_durably(path)
    }
}
