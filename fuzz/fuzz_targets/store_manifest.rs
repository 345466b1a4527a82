//! The secure-store manifest (`store.json`), read by `SecureStore::open` from
//! a store directory: written to a fresh directory, then opened under a
//! software KEK. Filesystem-bound, so slower per input than the others.
#![no_main]
use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use mamori::storage::{SecureStore, SoftwareKek, StoreOptions, StorePolicy};
use zeroize::Zeroizing;

fn kek() -> Arc<SoftwareKek> {
    static K: OnceLock<Arc<SoftwareKek>> = OnceLock::new();
    K.get_or_init(|| Arc::new(SoftwareKek::from_bytes(&Zeroizing::new([9u8; 32]))))
        .clone()
}

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("store.json"), data).expect("write manifest");
    let options = StoreOptions {
        policy: StorePolicy::allow_software(),
        ..StoreOptions::default()
    };
    let _ = SecureStore::open(dir.path(), kek(), options);
});
