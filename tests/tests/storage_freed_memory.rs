//! NEW-1: no plaintext data key and no plaintext value survives in freed heap
//! memory, through the core store and through the FFI layer.
//!
//! This test binary's global allocator scans every freed block
//! (`mamori_tests::freed_scan`). The test KEK stands in for the platform keystore:
//! it sees each data key in `wrap`/`unwrap`, registers it as a secret to look for,
//! and wipes its own copies (as the Kotlin and Swift KEKs do). Then seal, open,
//! put, get, rotate, stream, passcode and wipe run, and every freed block is
//! searched for any 16-byte window of a data key or of the plaintext.
//!
//! The passcode paths (set, verify wrong and right, change, remove; core and FFI)
//! are searched for the passcodes and for the PBKDF2 hash, raw and in the base64
//! form the verifier state keeps. The hash is only known afterwards (random
//! salt): the blocks freed while a passcode is set are recorded, the hash is read
//! back from the store's file through its documented format, and the recording
//! is searched for it.
//!
//! One `#[test]` only: the allocator is global to the binary, and a second test
//! running in parallel would free its own secrets into the same counters.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use mamori::storage::{
    CachePolicy, DEK_LEN, EnvelopeCipher, Kek, KekError, PasscodeCheck, PasscodePolicy,
    SecureStore, SecurityLevel, SoftwareKek, StoreOptions, StorePolicy,
};
use mamori_tests::freed_scan::{self, ScanningAllocator, Secret};
use zeroize::Zeroizing;

#[global_allocator]
static ALLOC: ScanningAllocator = ScanningAllocator;

/// The platform stand-in: a software KEK that reports every data key it sees.
struct WatchingKek(SoftwareKek);

impl Kek for WatchingKek {
    fn key_id(&self) -> String {
        self.0.key_id()
    }
    fn security_level(&self) -> SecurityLevel {
        SecurityLevel::Software
    }
    fn wrap(&self, dek: &[u8; DEK_LEN], aad: &[u8]) -> Result<Vec<u8>, KekError> {
        freed_scan::watch(Secret::DataKey, dek);
        self.0.wrap(dek, aad)
    }
    fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> Result<Zeroizing<[u8; DEK_LEN]>, KekError> {
        let dek = self.0.unwrap(wrapped, aad)?;
        freed_scan::watch(Secret::DataKey, dek.as_ref());
        Ok(dek)
    }
}

/// The same stand-in behind the FFI's foreign trait: it owns the `Vec`s it is
/// given and wipes them, as `AndroidKeystoreKek` and the Swift KEK do.
struct WatchingForeignKek(SoftwareKek);

impl mamori_ffi::storage::KeyEncryptionKey for WatchingForeignKek {
    fn key_id(&self) -> String {
        self.0.key_id()
    }
    fn security_level(&self) -> SecurityLevel {
        SecurityLevel::Tee
    }
    fn wrap(&self, dek: Vec<u8>, aad: Vec<u8>) -> Result<Vec<u8>, mamori_ffi::storage::KekError> {
        let dek = Zeroizing::new(dek);
        freed_scan::watch(Secret::DataKey, &dek);
        let mut key = Zeroizing::new([0u8; DEK_LEN]);
        key.copy_from_slice(&dek);
        self.0
            .wrap(&key, &aad)
            .map_err(|e| mamori_ffi::storage::KekError::Backend {
                reason: e.to_string(),
            })
    }
    fn unwrap(
        &self,
        wrapped: Vec<u8>,
        aad: Vec<u8>,
    ) -> Result<Vec<u8>, mamori_ffi::storage::KekError> {
        let dek = self.0.unwrap(&wrapped, &aad).map_err(|_| {
            mamori_ffi::storage::KekError::UnwrapFailed {
                reason: "tag".into(),
            }
        })?;
        freed_scan::watch(Secret::DataKey, dek.as_ref());
        // Ownership passes to the FFI layer, which must wipe it.
        Ok(dek.to_vec())
    }
    fn delete_key(&self) -> Result<bool, mamori_ffi::storage::KekError> {
        Ok(false)
    }
}

fn software_kek() -> SoftwareKek {
    SoftwareKek::generate().unwrap()
}

/// A random plaintext, registered as a secret; returned in a zeroizing buffer.
fn secret_value() -> Zeroizing<Vec<u8>> {
    let mut v = Zeroizing::new(vec![0u8; 96]);
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut v).unwrap();
    freed_scan::watch(Secret::Plaintext, &v);
    v
}

fn core_store(dir: &Path, cache: CachePolicy) {
    let (k1, k2): (Arc<dyn Kek>, Arc<dyn Kek>) = (
        Arc::new(WatchingKek(software_kek())),
        Arc::new(WatchingKek(software_kek())),
    );
    let options = StoreOptions {
        policy: StorePolicy::allow_software(),
        cache,
        ..StoreOptions::default()
    };
    let store = SecureStore::open(dir, k1.clone(), options.clone()).unwrap();
    let values: Vec<_> = (0..4).map(|_| secret_value()).collect();
    for (i, v) in values.iter().enumerate() {
        store.put(&format!("item{i}"), v).unwrap();
    }
    for (i, v) in values.iter().enumerate() {
        assert_eq!(*store.get(&format!("item{i}")).unwrap(), **v);
    }
    store.rotate_kek(k2.clone()).unwrap();
    assert_eq!(*store.get("item0").unwrap(), *values[0]);
    let src = dir.join("plain.bin");
    std::fs::write(&src, [7u8; 5000]).unwrap();
    store.encrypt_file("f", &src, &dir.join("enc.bin")).unwrap();
    store
        .decrypt_file("f", &dir.join("enc.bin"), &dir.join("dec.bin"))
        .unwrap();
    store.clear_key_cache();
    drop(store);
    // Reopen (unwraps the canary), read, then wipe.
    let store = SecureStore::open(dir, k2, options).unwrap();
    assert_eq!(*store.get("item3").unwrap(), *values[3]);
    store.wipe().unwrap();
    drop(store);

    // The envelope layer on its own.
    let cipher = EnvelopeCipher::new(Arc::new(WatchingKek(software_kek())), cache).unwrap();
    let v = secret_value();
    let sealed = cipher.seal(b"ctx", &v).unwrap();
    assert_eq!(*cipher.open(b"ctx", &sealed).unwrap(), *v);
    drop(cipher);
}

/// A random 40-character passcode, registered as a secret.
fn secret_passcode() -> Zeroizing<String> {
    let mut bytes = Zeroizing::new([0u8; 20]);
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), bytes.as_mut()).unwrap();
    let mut s = Zeroizing::new(String::with_capacity(40));
    for b in bytes.iter() {
        for nibble in [b >> 4, b & 15] {
            s.push(char::from_digit(nibble.into(), 16).unwrap());
        }
    }
    freed_scan::watch(Secret::Passcode, s.as_bytes());
    s
}

/// Reads the PBKDF2 hash back from `<dir>/passcode.mme` (the envelope format and the
/// store's context of docs/envelope-format.md, under the store's KEK `key`) and
/// registers it, raw and base64, as a passcode secret. Our own copies stay wiped.
fn watch_passcode_hash(dir: &Path, key: u8) {
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("store.json")).unwrap()).unwrap();
    let mut context = b"mamori store v1\0".to_vec();
    context.extend_from_slice(manifest["store_id"].as_str().unwrap().as_bytes());
    context.extend_from_slice(b"\0passcode\0");
    let cipher = EnvelopeCipher::new(
        Arc::new(SoftwareKek::from_bytes(&Zeroizing::new([key; 32]))),
        CachePolicy::disabled(),
    )
    .unwrap();
    let state = cipher
        .open(&context, &std::fs::read(dir.join("passcode.mme")).unwrap())
        .unwrap();
    #[derive(serde::Deserialize)]
    struct State {
        hash: String,
    }
    impl Drop for State {
        fn drop(&mut self) {
            zeroize::Zeroize::zeroize(&mut self.hash);
        }
    }
    let state: State = serde_json::from_slice(&state).unwrap();
    let raw = Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(state.hash.as_bytes())
            .unwrap(),
    );
    assert_eq!(raw.len(), 32, "a PBKDF2-HMAC-SHA256 hash");
    freed_scan::watch(Secret::Passcode, &raw);
    freed_scan::watch(Secret::Passcode, state.hash.as_bytes());
}

/// Sets a passcode with `set`, recording what is freed meanwhile; then, with the
/// hash known, searches the recording for it.
fn set_recorded(dir: &Path, key: u8, set: impl FnOnce()) {
    freed_scan::record_start();
    set();
    freed_scan::record_stop();
    watch_passcode_hash(dir, key);
    freed_scan::rescan_recorded();
}

fn core_passcode(dir: &Path) {
    let kek: Arc<dyn Kek> = Arc::new(WatchingKek(SoftwareKek::from_bytes(&Zeroizing::new(
        [0x61; 32],
    ))));
    let options = StoreOptions {
        policy: StorePolicy::allow_software(),
        ..StoreOptions::default()
    };
    let store = SecureStore::open(dir, kek.clone(), options.clone()).unwrap();
    let policy = PasscodePolicy::fast_for_tests_only();
    let (first, wrong, second) = (secret_passcode(), secret_passcode(), secret_passcode());
    set_recorded(dir, 0x61, || store.set_passcode(&first, &policy).unwrap());
    let now = std::time::SystemTime::now();
    assert!(matches!(
        store.verify_passcode(&wrong, now).unwrap(),
        PasscodeCheck::Rejected { .. }
    ));
    assert_eq!(
        store.verify_passcode(&first, now).unwrap(),
        PasscodeCheck::Verified
    );
    // Change it: the old state is read and replaced.
    set_recorded(dir, 0x61, || store.set_passcode(&second, &policy).unwrap());
    drop(store);
    let store = SecureStore::open(dir, kek, options).unwrap();
    assert_eq!(
        store.verify_passcode(&second, now).unwrap(),
        PasscodeCheck::Verified
    );
    assert!(store.has_passcode().unwrap());
    assert!(store.remove_passcode().unwrap());
}

fn ffi_passcode(dir: &Path) {
    let kek = || -> Arc<dyn mamori_ffi::storage::KeyEncryptionKey> {
        Arc::new(WatchingForeignKek(SoftwareKek::from_bytes(
            &Zeroizing::new([0x62; 32]),
        )))
    };
    let config = mamori_ffi::storage::StoreConfig {
        min_security_level: SecurityLevel::Tee,
        key_cache: Duration::from_secs(60),
    };
    let d = dir.to_str().unwrap().to_owned();
    let store = mamori_ffi::storage::SecureStore::open(d, kek(), vec![], config).unwrap();
    // The FFI always applies the floors (600,000 iterations).
    let policy = mamori_ffi::storage::default_passcode_policy();
    let (first, wrong) = (secret_passcode(), secret_passcode());
    // The `String`s handed over are the FFI layer's (lifted from a RustBuffer): it wipes them.
    set_recorded(dir, 0x62, || {
        store
            .set_passcode((*first).clone(), policy.clone())
            .unwrap()
    });
    let now = std::time::SystemTime::now();
    assert!(matches!(
        store.verify_passcode((*wrong).clone(), now).unwrap(),
        PasscodeCheck::Rejected { .. }
    ));
    assert!(matches!(
        store.verify_passcode((*first).clone(), now).unwrap(),
        PasscodeCheck::Verified
    ));
    assert!(store.remove_passcode().unwrap());
}

fn ffi_store(dir: &Path, key_cache: Duration) {
    let kek = |_| -> Arc<dyn mamori_ffi::storage::KeyEncryptionKey> {
        Arc::new(WatchingForeignKek(software_kek()))
    };
    let (k1, k2) = (kek(1), kek(2));
    let config = mamori_ffi::storage::StoreConfig {
        min_security_level: SecurityLevel::Tee,
        key_cache,
    };
    let d = dir.to_str().unwrap().to_owned();
    let store =
        mamori_ffi::storage::SecureStore::open(d.clone(), k1, vec![], config.clone()).unwrap();
    let values: Vec<_> = (0..4).map(|_| secret_value()).collect();
    for (i, v) in values.iter().enumerate() {
        store.put(format!("item{i}"), v.to_vec().into()).unwrap();
    }
    for (i, v) in values.iter().enumerate() {
        // The returned buffer is the platform's (lifted into a ByteArray / Data):
        // the app wipes it.
        // `ItemBytes` wipes itself in bulk when dropped.
        let got = store.get(format!("item{i}")).unwrap();
        assert_eq!(got.as_slice(), &***v);
    }
    store.rotate_kek(k2.clone()).unwrap();
    store.clear_key_cache();
    drop(store);
    let store = mamori_ffi::storage::SecureStore::open(d, k2, vec![], config).unwrap();
    let got = store.get("item1".into()).unwrap();
    assert_eq!(got.as_slice(), &**values[1]);
    store.wipe().unwrap();
}

#[test]
fn no_data_key_or_plaintext_survives_in_freed_memory() {
    // The scanner works: a freed copy of a watched secret is found.
    freed_scan::start();
    let probe = [0x5Au8; 32];
    freed_scan::watch(Secret::SelfTest, &probe);
    drop(std::hint::black_box(probe.to_vec()));
    assert!(
        freed_scan::hits(Secret::SelfTest) > 0,
        "scanner missed a freed copy"
    );

    let dir = tempfile::tempdir().unwrap();
    freed_scan::start();
    core_store(&dir.path().join("cached"), CachePolicy::default());
    core_store(&dir.path().join("uncached"), CachePolicy::disabled());
    let core_hits = (
        freed_scan::hits(Secret::DataKey),
        freed_scan::hits(Secret::Plaintext),
    );
    freed_scan::start();
    ffi_store(&dir.path().join("ffi-cached"), Duration::from_secs(60));
    ffi_store(&dir.path().join("ffi-uncached"), Duration::ZERO);
    let ffi_hits = (
        freed_scan::hits(Secret::DataKey),
        freed_scan::hits(Secret::Plaintext),
    );
    let mut scanned = freed_scan::scanned();
    freed_scan::start();
    core_passcode(&dir.path().join("passcode"));
    ffi_passcode(&dir.path().join("ffi-passcode"));
    let passcode_hits = (
        freed_scan::hits(Secret::Passcode),
        freed_scan::hits(Secret::DataKey),
    );
    let passcode_scanned = freed_scan::scanned();
    scanned += passcode_scanned;
    freed_scan::stop();
    assert!(
        passcode_scanned > 100,
        "too few frees scanned on the passcode paths: {passcode_scanned}"
    );
    assert!(scanned > 1000, "too few frees scanned: {scanned}");
    assert_eq!(
        core_hits,
        (0, 0),
        "core: freed blocks held (data key, plaintext) windows"
    );
    assert_eq!(
        ffi_hits,
        (0, 0),
        "FFI layer: freed blocks held (data key, plaintext) windows"
    );
    assert_eq!(
        passcode_hits,
        (0, 0),
        "passcode paths: freed blocks held (passcode or its hash, data key) windows"
    );
}
