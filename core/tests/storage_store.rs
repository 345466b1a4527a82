//! The secure store on real directories: round trips, typed failures (NotFound,
//! Corrupted, KeyInvalidated), moved ciphertexts, rotation (also interrupted),
//! wipe, the OS-keyring KEK, and KEK calls per operation.

mod storage_common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use mamori::storage::{
    EnvelopeHeader, Kek, KeyLossReason, OsKeyringKek, SecureStore, SecurityLevel, StorageError,
    StoreOptions, StorePolicy,
};
use storage_common::{CountingKek, fixed_kek, soft_options};

fn item_file(dir: &Path, name: &str) -> std::path::PathBuf {
    dir.join("items").join(format!("{}.mme", hex::encode(name)))
}

fn open(dir: &Path, kek: Arc<dyn Kek>) -> Result<SecureStore, StorageError> {
    SecureStore::open(dir, kek, soft_options())
}

#[test]
fn put_get_delete_list_round_trip_and_persist() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path(), fixed_kek(1)).unwrap();
    let big: Vec<u8> = (0..1 << 20).map(|i| (i % 256) as u8).collect();
    s.put("empty", b"").unwrap();
    s.put("small", b"token-123").unwrap();
    s.put("big", &big).unwrap();
    s.put("日本語の名前", b"ok").unwrap();
    assert_eq!(s.get("empty").unwrap().as_slice(), b"");
    assert_eq!(s.get("small").unwrap().as_slice(), b"token-123");
    assert_eq!(s.get("big").unwrap().as_slice(), &big[..]);
    s.put("small", b"token-456").unwrap();
    assert_eq!(
        s.list().unwrap(),
        vec!["big", "empty", "small", "日本語の名前"]
    );
    assert!(s.delete("empty").unwrap());
    assert!(!s.delete("empty").unwrap());
    assert!(!s.contains("empty").unwrap());
    match s.get("empty") {
        Err(StorageError::NotFound { name }) => assert_eq!(name, "empty"),
        other => panic!("{other:?}"),
    }
    drop(s);
    let s = open(dir.path(), fixed_kek(1)).unwrap();
    assert_eq!(s.get("small").unwrap().as_slice(), b"token-456");
    assert_eq!(s.get("日本語の名前").unwrap().as_slice(), b"ok");
    // Plaintext never on disk.
    for entry in std::fs::read_dir(dir.path().join("items")).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(!bytes.windows(9).any(|w| w == b"token-456"));
    }
}

#[test]
fn names_are_validated() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path(), fixed_kek(1)).unwrap();
    for bad in [String::new(), "x".repeat(121)] {
        assert!(matches!(
            s.put(&bad, b"v"),
            Err(StorageError::InvalidInput {
                what: "item name",
                ..
            })
        ));
    }
    s.put(&"x".repeat(120), b"v").unwrap();
}

#[test]
fn default_policy_refuses_software_keks() {
    let dir = tempfile::tempdir().unwrap();
    match SecureStore::open(dir.path(), fixed_kek(1), StoreOptions::default()) {
        Err(StorageError::InsecureKek {
            offered, required, ..
        }) => {
            assert_eq!(offered, SecurityLevel::Software);
            assert_eq!(required, SecurityLevel::OsKeyring);
        }
        other => panic!("{other:?}"),
    }
    let strict = StoreOptions {
        policy: StorePolicy {
            min_security_level: SecurityLevel::Tee,
        },
        ..StoreOptions::default()
    };
    let store: Arc<keyring_core::CredentialStore> = keyring_core::mock::Store::new().unwrap();
    let kek =
        Arc::new(OsKeyringKek::open_or_create(Some(&store), "mamori-test", "policy").unwrap());
    assert!(matches!(
        SecureStore::open(dir.path(), kek, strict),
        Err(StorageError::InsecureKek { .. })
    ));
}

#[test]
fn moved_ciphertexts_are_rejected() {
    let d1 = tempfile::tempdir().unwrap();
    let d2 = tempfile::tempdir().unwrap();
    let s1 = open(d1.path(), fixed_kek(1)).unwrap();
    let s2 = open(d2.path(), fixed_kek(1)).unwrap();
    s1.put("pin", b"1234").unwrap();
    s1.put("other", b"x").unwrap();
    s2.put("pin", b"9999").unwrap();
    // Another item's ciphertext copied over this item.
    std::fs::copy(item_file(d1.path(), "pin"), item_file(d1.path(), "other")).unwrap();
    assert!(matches!(
        s1.get("other"),
        Err(StorageError::Corrupted { .. })
    ));
    // The same item name from another store under the same KEK.
    std::fs::copy(item_file(d1.path(), "pin"), item_file(d2.path(), "pin")).unwrap();
    assert!(matches!(s2.get("pin"), Err(StorageError::Corrupted { .. })));
    assert_eq!(s1.get("pin").unwrap().as_slice(), b"1234");
}

#[test]
fn every_bit_flip_of_an_item_file_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path(), fixed_kek(1)).unwrap();
    s.put("k", b"value").unwrap();
    let path = item_file(dir.path(), "k");
    let good = std::fs::read(&path).unwrap();
    for bit in 0..good.len() * 8 {
        let mut bad = good.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        std::fs::write(&path, &bad).unwrap();
        match s.get("k") {
            Err(StorageError::Corrupted { what, .. }) => assert_eq!(what, "k"),
            other => panic!("bit {bit}: {other:?}"),
        }
    }
    std::fs::write(&path, &good).unwrap();
    assert_eq!(s.get("k").unwrap().as_slice(), b"value");
}

#[test]
fn key_loss_is_told_apart_from_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path(), fixed_kek(1)).unwrap();
    s.put("a", b"1").unwrap();
    drop(s);
    // A different key (new id): the store refuses, naming both ids.
    match open(dir.path(), fixed_kek(2)) {
        Err(StorageError::KeyInvalidated {
            reason: KeyLossReason::DifferentKeyId { expected, offered },
            ..
        }) => {
            assert_eq!(expected, fixed_kek(1).key_id());
            assert_eq!(offered, fixed_kek(2).key_id());
        }
        other => panic!("{other:?}"),
    }
    // A regenerated key that kept its id (e.g. an alias re-created behind our back).
    let impostor = Arc::new(CountingKek {
        id_override: Some(fixed_kek(1).key_id()),
        ..Arc::into_inner(CountingKek::new(fixed_kek(3))).unwrap()
    });
    assert!(matches!(
        open(dir.path(), impostor),
        Err(StorageError::KeyInvalidated {
            reason: KeyLossReason::CanaryRejected,
            ..
        })
    ));
    // The platform reports the key invalidated (after the store was opened).
    let k = CountingKek::new(fixed_kek(1));
    let s = open(dir.path(), k.clone()).unwrap();
    s.clear_key_cache();
    k.invalidated.store(true, Ordering::SeqCst);
    assert!(matches!(
        s.get("a"),
        Err(StorageError::KeyInvalidated {
            reason: KeyLossReason::ReportedByKek,
            ..
        })
    ));
    k.invalidated.store(false, Ordering::SeqCst);
    // Only this item's wrapped key is damaged: the canary proves the key is fine.
    let path = item_file(dir.path(), "a");
    let mut bytes = std::fs::read(&path).unwrap();
    let h = EnvelopeHeader::parse(&bytes).unwrap();
    bytes[h.body_offset - 1] ^= 1; // last byte of the wrapped DEK
    std::fs::write(&path, &bytes).unwrap();
    assert!(matches!(s.get("a"), Err(StorageError::Corrupted { .. })));
    // A missing item is NotFound, not corruption.
    assert!(matches!(s.get("b"), Err(StorageError::NotFound { .. })));
    // A deleted canary or a damaged manifest is reported at open.
    drop(s);
    std::fs::remove_file(dir.path().join("canary.mme")).unwrap();
    assert!(matches!(
        open(dir.path(), fixed_kek(1)),
        Err(StorageError::Corrupted { .. })
    ));
    std::fs::write(dir.path().join("store.json"), b"{not json").unwrap();
    assert!(matches!(
        open(dir.path(), fixed_kek(1)),
        Err(StorageError::Corrupted { .. })
    ));
}

/// A write under a KEK the platform reports invalidated is the same typed
/// key loss as a read, not a generic KEK failure.
#[test]
fn put_under_an_invalidated_kek_is_key_invalidated() {
    let dir = tempfile::tempdir().unwrap();
    let k = CountingKek::new(fixed_kek(1));
    let s = open(dir.path(), k.clone()).unwrap();
    s.clear_key_cache();
    k.invalidated.store(true, Ordering::SeqCst);
    let put = s.put("b", b"value");
    assert!(
        matches!(
            put,
            Err(StorageError::KeyInvalidated {
                reason: KeyLossReason::ReportedByKek,
                ..
            })
        ),
        "{put:?}"
    );
    assert!(matches!(
        s.get("b"),
        Err(StorageError::NotFound { .. }) | Err(StorageError::KeyInvalidated { .. })
    ));
}

#[test]
fn rotation_rewraps_without_reencrypting() {
    let dir = tempfile::tempdir().unwrap();
    let old = CountingKek::new(fixed_kek(1));
    let s = open(dir.path(), old.clone()).unwrap();
    for i in 0..50 {
        s.put(&format!("item{i}"), format!("value{i}").as_bytes())
            .unwrap();
    }
    s.set_passcode("123456", &fast_passcode()).unwrap();
    let before = std::fs::read(item_file(dir.path(), "item7")).unwrap();
    let new = CountingKek::new(fixed_kek(2));
    let report = s.rotate_kek(new.clone()).unwrap();
    assert_eq!(report.rewrapped, 52, "50 items, canary, passcode");
    assert_eq!(report.skipped_corrupted, 0);
    // All items share one session DEK: one unwrap... and one wrap per distinct DEK.
    assert!(
        new.wraps.load(Ordering::SeqCst) <= 3,
        "{} wraps",
        new.wraps.load(Ordering::SeqCst)
    );
    let after = std::fs::read(item_file(dir.path(), "item7")).unwrap();
    let (hb, ha) = (
        EnvelopeHeader::parse(&before).unwrap(),
        EnvelopeHeader::parse(&after).unwrap(),
    );
    assert_eq!(before[..19], after[..19], "fixed header unchanged");
    assert_eq!(
        before[hb.body_offset..],
        after[ha.body_offset..],
        "payload not re-encrypted"
    );
    assert_eq!(ha.key.kek_id, fixed_kek(2).key_id());
    assert_eq!(s.get("item7").unwrap().as_slice(), b"value7");
    assert_eq!(s.kek_id().unwrap(), fixed_kek(2).key_id());
    drop(s);
    assert!(matches!(
        open(dir.path(), fixed_kek(1)),
        Err(StorageError::KeyInvalidated { .. })
    ));
    let s = open(dir.path(), fixed_kek(2)).unwrap();
    assert_eq!(s.get("item49").unwrap().as_slice(), b"value49");
    assert_eq!(
        s.verify_passcode("123456", std::time::SystemTime::now())
            .unwrap(),
        mamori::storage::PasscodeCheck::Verified
    );
}

fn fast_passcode() -> mamori::storage::PasscodePolicy {
    // The named test-only escape from the iteration floor.
    mamori::storage::PasscodePolicy::fast_for_tests_only()
}

/// A store under `fixed_kek(1)` with items `i0`..`i19` = `v0`..`v19`, each under
/// its own DEK (so that a rotation needs one wrap per item).
fn twenty_items(dir: &Path) -> SecureStore {
    let s = open(dir, fixed_kek(1)).unwrap();
    for i in 0..20 {
        s.clear_key_cache();
        s.put(&format!("i{i}"), format!("v{i}").as_bytes()).unwrap();
    }
    s
}

#[test]
fn a_kek_failure_during_a_rotation_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = twenty_items(dir.path());
    let new = CountingKek::new(fixed_kek(2));
    new.fail_wraps_after.store(8, Ordering::SeqCst); // the keystore fails mid-way
    assert!(matches!(
        s.rotate_kek(new.clone()),
        Err(StorageError::KekUnavailable { .. })
    ));
    // Every key is re-wrapped before any file is written: nothing moved.
    for e in std::fs::read_dir(dir.path().join("items")).unwrap() {
        let bytes = std::fs::read(e.unwrap().path()).unwrap();
        assert_eq!(
            EnvelopeHeader::parse(&bytes).unwrap().key.kek_id,
            fixed_kek(1).key_id()
        );
    }
    assert_eq!(s.kek_id().unwrap(), fixed_kek(1).key_id());
    s.put("after", b"still writable").unwrap();
    drop(s);
    let s = open(dir.path(), fixed_kek(1)).unwrap();
    assert_eq!(s.get("i7").unwrap().as_slice(), b"v7");
    assert_eq!(s.get("after").unwrap().as_slice(), b"still writable");
}

#[test]
fn interrupted_rotation_is_finished_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let s = twenty_items(dir.path());
    let before: Vec<(std::path::PathBuf, Vec<u8>)> = (10..20)
        .map(|i| {
            let p = item_file(dir.path(), &format!("i{i}"));
            let b = std::fs::read(&p).unwrap();
            (p, b)
        })
        .collect();
    s.rotate_kek(fixed_kek(2)).unwrap();
    drop(s);
    // What a crash in the middle of writing the re-wrapped files leaves (the
    // SIGKILL test in tests/tests/storage_crash.rs makes it for real): the
    // manifest names the new key and the old one, half the items are still
    // under the old key.
    for (p, b) in &before {
        std::fs::write(p, b).unwrap();
    }
    let manifest_path = dir.path().join("store.json");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    manifest["rotating_from"] = serde_json::json!([fixed_kek(1).key_id()]);
    std::fs::write(&manifest_path, serde_json::to_vec(&manifest).unwrap()).unwrap();
    // Opening with only the new key cannot finish.
    match open(dir.path(), fixed_kek(2)) {
        Err(StorageError::RotationIncomplete { from, to }) => {
            assert_eq!(from, fixed_kek(1).key_id());
            assert_eq!(to, fixed_kek(2).key_id());
        }
        other => panic!("{other:?}"),
    }
    // With both, open finishes the rotation.
    let opts = mamori::storage::StoreOptions {
        previous_keks: vec![fixed_kek(1)],
        ..soft_options()
    };
    let s = SecureStore::open(dir.path(), fixed_kek(2), opts).unwrap();
    for i in 0..20 {
        assert_eq!(
            s.get(&format!("i{i}")).unwrap().as_slice(),
            format!("v{i}").as_bytes()
        );
    }
    drop(s);
    let s = open(dir.path(), fixed_kek(2)).unwrap();
    assert_eq!(s.get("i19").unwrap().as_slice(), b"v19");
    assert_eq!(s.get("i3").unwrap().as_slice(), b"v3");
}

#[test]
fn opening_with_a_new_kek_and_the_old_one_as_previous_rotates() {
    let dir = tempfile::tempdir().unwrap();
    open(dir.path(), fixed_kek(1))
        .unwrap()
        .put("a", b"1")
        .unwrap();
    let opts = mamori::storage::StoreOptions {
        previous_keks: vec![fixed_kek(1)],
        ..soft_options()
    };
    let s = SecureStore::open(dir.path(), fixed_kek(5), opts).unwrap();
    assert_eq!(s.kek_id().unwrap(), fixed_kek(5).key_id());
    assert_eq!(s.get("a").unwrap().as_slice(), b"1");
}

#[test]
fn wipe_shreds_and_blocks_further_use() {
    let dir = tempfile::tempdir().unwrap();
    let ks: Arc<keyring_core::CredentialStore> = keyring_core::mock::Store::new().unwrap();
    let kek = Arc::new(OsKeyringKek::open_or_create(Some(&ks), "mamori-test", "wipe").unwrap());
    let s = SecureStore::open(dir.path(), kek.clone(), StoreOptions::default()).unwrap();
    s.put("a", b"1").unwrap();
    s.put("b", b"2").unwrap();
    let copy = std::fs::read(item_file(dir.path(), "a")).unwrap();
    let report = s.wipe().unwrap();
    assert!(report.kek_destroyed);
    assert_eq!(report.files_removed, 4, "manifest, canary, two items");
    assert!(matches!(s.get("a"), Err(StorageError::Wiped)));
    assert!(matches!(s.put("a", b"x"), Err(StorageError::Wiped)));
    assert!(
        std::fs::read_dir(dir.path().join("items"))
            .unwrap()
            .next()
            .is_none()
    );
    // A copy taken before the wipe is unreadable: the key is gone.
    assert!(matches!(
        OsKeyringKek::open(Some(&ks), "mamori-test", "wipe"),
        Err(mamori::storage::KekError::KeyInvalidated)
    ));
    assert!(kek.unwrap(&copy[40..100], b"").is_err());
    // A software KEK cannot be destroyed; the report says so.
    let d2 = tempfile::tempdir().unwrap();
    let s2 = open(d2.path(), fixed_kek(1)).unwrap();
    assert!(!s2.wipe().unwrap().kek_destroyed);
    // The directory can hold a new store afterwards (once the wiped instance,
    // which holds the directory's lock, is gone).
    drop(s2);
    let s3 = open(d2.path(), fixed_kek(1)).unwrap();
    assert!(s3.list().unwrap().is_empty());
}

#[test]
fn os_keyring_kek_round_trip_and_loss_detection() {
    let dir = tempfile::tempdir().unwrap();
    let backing = dir.path().join("keyring.ron");
    let backing = backing.to_str().unwrap();
    let store_dir = dir.path().join("store");
    let id;
    {
        let ks: Arc<keyring_core::CredentialStore> =
            keyring_core::sample::Store::new_with_backing(backing).unwrap();
        let kek =
            Arc::new(OsKeyringKek::open_or_create(Some(&ks), "jp.mamori.test", "kek").unwrap());
        assert_eq!(kek.security_level(), SecurityLevel::OsKeyring);
        id = kek.key_id();
        assert!(id.starts_with("keyring:jp.mamori.test/kek:"));
        assert!(format!("{kek:?}").contains(&id));
        let s = SecureStore::open(&store_dir, kek, StoreOptions::default()).unwrap();
        s.put("token", b"abc").unwrap();
    } // the sample store saves its backing file when dropped
    let ks: Arc<keyring_core::CredentialStore> =
        keyring_core::sample::Store::new_with_backing(backing).unwrap();
    let kek = Arc::new(OsKeyringKek::open(Some(&ks), "jp.mamori.test", "kek").unwrap());
    assert_eq!(kek.key_id(), id, "stable id across restarts");
    let s = SecureStore::open(&store_dir, kek.clone(), StoreOptions::default()).unwrap();
    assert_eq!(s.get("token").unwrap().as_slice(), b"abc");
    // The credential is deleted behind the store's back.
    keyring_core::Entry::new_in_store(&ks, "jp.mamori.test", "kek")
        .unwrap()
        .delete_credential()
        .unwrap();
    s.clear_key_cache();
    assert!(matches!(
        s.get("token"),
        Err(StorageError::KeyInvalidated {
            reason: KeyLossReason::ReportedByKek,
            ..
        })
    ));
    // open_or_create makes a new key: a different id, so the old store refuses it.
    let fresh = Arc::new(OsKeyringKek::open_or_create(Some(&ks), "jp.mamori.test", "kek").unwrap());
    assert_ne!(fresh.key_id(), id);
    assert!(matches!(
        kek.wrap(&[0; 32], b""),
        Err(mamori::storage::KekError::KeyInvalidated)
    ));
    drop(s);
    assert!(matches!(
        SecureStore::open(&store_dir, fresh, StoreOptions::default()),
        Err(StorageError::KeyInvalidated {
            reason: KeyLossReason::DifferentKeyId { .. },
            ..
        })
    ));
}

#[test]
fn kek_calls_per_thousand_operations() {
    let dir = tempfile::tempdir().unwrap();
    open(dir.path(), fixed_kek(1)).unwrap();
    let k = CountingKek::new(fixed_kek(1));
    let s = open(dir.path(), k.clone()).unwrap();
    let at_open = k.calls();
    for i in 0..500 {
        s.put(&format!("n{}", i % 50), b"value").unwrap();
        s.get(&format!("n{}", i % 50)).unwrap();
    }
    let per_1000 = k.calls() - at_open;
    eprintln!("KEK calls: {at_open} at open, {per_1000} for 1,000 store operations");
    assert_eq!(at_open, 1, "the canary is unwrapped once");
    assert_eq!(per_1000, 1, "one wrap of the session DEK");
}

#[test]
fn crash_leftovers_are_cleaned_and_streams_bound_to_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path(), fixed_kek(1)).unwrap();
    s.put("a", b"1").unwrap();
    drop(s);
    std::fs::write(dir.path().join("items").join(".mamori-tmpXYZ"), b"partial").unwrap();
    let s = open(dir.path(), fixed_kek(1)).unwrap();
    assert_eq!(
        std::fs::read_dir(dir.path().join("items")).unwrap().count(),
        1
    );

    let src = dir.path().join("photo.jpg");
    std::fs::write(&src, vec![7u8; 200_000]).unwrap();
    let enc = dir.path().join("photo.enc");
    s.encrypt_file("photo", &src, &enc).unwrap();
    let out = dir.path().join("photo.out");
    assert!(s.decrypt_file("other-label", &enc, &out).is_err());
    assert!(!out.exists());
    s.decrypt_file("photo", &enc, &out).unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), vec![7u8; 200_000]);
}

#[test]
fn concurrent_writers_and_readers() {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(open(dir.path(), fixed_kek(1)).unwrap());
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let s = s.clone();
            std::thread::spawn(move || {
                for i in 0..50 {
                    let name = format!("t{t}-{}", i % 5);
                    s.put(&name, format!("{t}:{i}").as_bytes()).unwrap();
                    let v = s.get(&name).unwrap();
                    assert!(v.starts_with(format!("{t}:").as_bytes()));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(s.list().unwrap().len(), 20);
}

#[test]
fn store_debug_and_errors_hold_no_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path(), fixed_kek(0xA5)).unwrap();
    s.put("name", b"SECRETVALUE").unwrap();
    let texts = [
        format!("{s:?}"),
        format!("{:?}", soft_options()),
        format!("{:?}", s.get("missing").unwrap_err()),
    ];
    for t in texts {
        assert!(
            !t.contains("SECRETVALUE") && !t.contains("165, 165") && !t.contains("a5a5"),
            "{t}"
        );
    }
}

#[test]
fn concurrent_rotations_leave_a_consistent_store() {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(open(dir.path(), fixed_kek(1)).unwrap());
    for i in 0..20 {
        s.put(&format!("i{i}"), b"v").unwrap();
    }
    let threads: Vec<_> = [2u8, 3]
        .into_iter()
        .map(|b| {
            let s = s.clone();
            std::thread::spawn(move || s.rotate_kek(fixed_kek(b)).unwrap())
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let last = s.kek_id().unwrap();
    drop(s);
    let kek = if last == fixed_kek(2).key_id() {
        fixed_kek(2)
    } else {
        fixed_kek(3)
    };
    let s = open(dir.path(), kek).unwrap();
    for i in 0..20 {
        assert_eq!(s.get(&format!("i{i}")).unwrap().as_slice(), b"v");
    }
}

#[test]
fn encrypted_files_are_rewrapped_after_a_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path().join("store").as_path(), fixed_kek(1)).unwrap();
    let src = dir.path().join("in.bin");
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&src, &data).unwrap();
    let enc = dir.path().join("in.enc");
    s.encrypt_file("doc", &src, &enc).unwrap();
    let before = std::fs::read(&enc).unwrap();
    s.rotate_kek(fixed_kek(2)).unwrap();
    let out = dir.path().join("out.bin");
    assert!(matches!(
        s.decrypt_file("doc", &enc, &out),
        Err(StorageError::WrongKek { .. })
    ));
    // The wrong previous key is refused and the file is left alone.
    assert!(s.rewrap_file(&enc, fixed_kek(9)).is_err());
    assert_eq!(std::fs::read(&enc).unwrap(), before);
    assert!(s.rewrap_file(&enc, fixed_kek(1)).unwrap());
    assert!(
        !s.rewrap_file(&enc, fixed_kek(1)).unwrap(),
        "already under the current key"
    );
    let after = std::fs::read(&enc).unwrap();
    // Same fixed header and segments: only the key part changed.
    assert_eq!(before[..30], after[..30]);
    let tail = data.len() + 16 * data.len().div_ceil(1 << 16);
    assert_eq!(before[before.len() - tail..], after[after.len() - tail..]);
    s.decrypt_file("doc", &enc, &out).unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), data);
}

#[test]
fn a_missing_manifest_or_passcode_file_is_an_error_not_a_fresh_start() {
    // Issue 9 item 3: deleting store.json re-created the store (deleting every
    // item and the passcode) and returned success; deleting passcode.mme read
    // as "no passcode set".
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path(), fixed_kek(1)).unwrap();
    s.put("account", b"secret").unwrap();
    s.set_passcode("123456", &fast_passcode()).unwrap();
    drop(s);
    std::fs::remove_file(dir.path().join("passcode.mme")).unwrap();
    let s = open(dir.path(), fixed_kek(1)).unwrap();
    assert!(
        matches!(s.has_passcode(), Err(StorageError::Corrupted { .. })),
        "{:?}",
        s.has_passcode()
    );
    assert!(matches!(
        s.verify_passcode("123456", std::time::SystemTime::now()),
        Err(StorageError::Corrupted { .. })
    ));
    drop(s);
    std::fs::remove_file(dir.path().join("store.json")).unwrap();
    match open(dir.path(), fixed_kek(1)) {
        Err(StorageError::Corrupted { what, .. }) => assert!(what.ends_with("store.json")),
        other => panic!("expected Corrupted, got {other:?}"),
    }
    assert!(item_file(dir.path(), "account").exists(), "nothing deleted");
    // Only an empty or absent directory creates a store.
    let empty = tempfile::tempdir().unwrap();
    assert!(open(empty.path(), fixed_kek(1)).is_ok());
    assert!(open(&empty.path().join("absent"), fixed_kek(1)).is_ok());
}

#[test]
fn an_interrupted_wipe_is_finished_on_open() {
    // A crash after the wipe marker: the next open removes what is left and
    // creates a new store (the missing-manifest rule must not brick it).
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path(), fixed_kek(1)).unwrap();
    s.put("account", b"secret").unwrap();
    drop(s);
    let path = dir.path().join("store.json");
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    m["wiping"] = serde_json::Value::Bool(true);
    std::fs::write(&path, serde_json::to_vec(&m).unwrap()).unwrap();
    let s = open(dir.path(), fixed_kek(1)).unwrap();
    assert!(s.list().unwrap().is_empty());
    assert!(!s.has_passcode().unwrap());
}
