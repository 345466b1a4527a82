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
//! One `#[test]` only: the allocator is global to the binary, and a second test
//! running in parallel would free its own secrets into the same counters.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use mamori::storage::{
    CachePolicy, DEK_LEN, EnvelopeCipher, Kek, KekError, SecureStore, SecurityLevel, SoftwareKek,
    StoreOptions, StorePolicy,
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
        store.put(format!("item{i}"), v.to_vec()).unwrap();
    }
    for (i, v) in values.iter().enumerate() {
        // The returned buffer is the platform's (lifted into a ByteArray / Data):
        // the app wipes it.
        let got = Zeroizing::new(store.get(format!("item{i}")).unwrap());
        assert_eq!(*got, **v);
    }
    store.rotate_kek(k2.clone()).unwrap();
    store.clear_key_cache();
    drop(store);
    let store = mamori_ffi::storage::SecureStore::open(d, k2, vec![], config).unwrap();
    let got = Zeroizing::new(store.get("item1".into()).unwrap());
    assert_eq!(*got, *values[1]);
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
    let scanned = freed_scan::scanned();
    freed_scan::stop();
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
}
