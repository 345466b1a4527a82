//! The passcode verifier: hashing, back-off with time as an input, the counter
//! persisted in the store before the check, and wipe after N failures.

mod storage_common;

use std::num::NonZeroU32;
use std::time::{Duration, SystemTime};

use mamori::storage::{PasscodeCheck, PasscodePolicy, PolicyFloors, SecureStore, StorageError};
use storage_common::{CountingKek, fixed_kek, soft_options};

fn policy() -> PasscodePolicy {
    PasscodePolicy {
        iterations: NonZeroU32::new(2000).unwrap(),
        min_length: 4,
        free_attempts: 2,
        base_delay: Duration::from_secs(30),
        max_delay: Duration::from_secs(300),
        wipe_after: None,
        // Fast tests: the named test-only escape, not a weaker floor.
        floors: PolicyFloors::WaivedForTestsOnly,
    }
}

fn t(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs)
}

#[test]
fn verifies_and_never_stores_the_passcode() {
    let dir = tempfile::tempdir().unwrap();
    let s = SecureStore::open(dir.path(), fixed_kek(1), soft_options()).unwrap();
    assert!(matches!(
        s.verify_passcode("1234", t(0)),
        Err(StorageError::NoPasscode)
    ));
    assert!(!s.has_passcode().unwrap());
    assert!(matches!(
        s.set_passcode("123", &policy()),
        Err(StorageError::InvalidInput {
            what: "passcode",
            ..
        })
    ));
    s.set_passcode("2468", &policy()).unwrap();
    assert!(s.has_passcode().unwrap());
    assert_eq!(
        s.verify_passcode("2468", t(0)).unwrap(),
        PasscodeCheck::Verified
    );
    let raw = std::fs::read(dir.path().join("passcode.mme")).unwrap();
    assert!(!raw.windows(4).any(|w| w == b"2468"));
    assert!(
        !raw.windows(10).any(|w| w == b"pbkdf2-hma"),
        "state is sealed"
    );
    assert!(s.remove_passcode().unwrap());
    assert!(!s.has_passcode().unwrap());
}

#[test]
fn back_off_grows_and_uses_the_given_time() {
    let dir = tempfile::tempdir().unwrap();
    let s = SecureStore::open(dir.path(), fixed_kek(1), soft_options()).unwrap();
    s.set_passcode("2468", &policy()).unwrap();
    let rejected = |f, secs| PasscodeCheck::Rejected {
        failures: f,
        retry_after: Duration::from_secs(secs),
        attempts_before_wipe: None,
    };
    assert_eq!(s.verify_passcode("0000", t(0)).unwrap(), rejected(1, 0));
    assert_eq!(s.verify_passcode("0000", t(1)).unwrap(), rejected(2, 0));
    assert_eq!(s.verify_passcode("0000", t(2)).unwrap(), rejected(3, 30));
    // Locked: even the right passcode is refused, and the attempt is not counted.
    match s.verify_passcode("2468", t(20)) {
        Err(StorageError::LockedOut { retry_after }) => {
            assert_eq!(retry_after, Duration::from_secs(12))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.verify_passcode("0000", t(32)).unwrap(), rejected(4, 60));
    assert!(matches!(
        s.verify_passcode("0000", t(91)),
        Err(StorageError::LockedOut { .. })
    ));
    assert_eq!(s.verify_passcode("0000", t(92)).unwrap(), rejected(5, 120));
    // The counter survives a restart (it is in the store).
    drop(s);
    let s = SecureStore::open(dir.path(), fixed_kek(1), soft_options()).unwrap();
    assert!(matches!(
        s.verify_passcode("2468", t(100)),
        Err(StorageError::LockedOut { .. })
    ));
    assert_eq!(
        s.verify_passcode("2468", t(212)).unwrap(),
        PasscodeCheck::Verified
    );
    // Success resets the counter.
    assert_eq!(s.verify_passcode("0000", t(213)).unwrap(), rejected(1, 0));
}

#[test]
fn the_attempt_is_persisted_before_the_check() {
    // The failure counter and lock-out are written to the store as part of the
    // attempt: a second store object (a restarted app) sees the lock at once.
    let dir = tempfile::tempdir().unwrap();
    let s = SecureStore::open(dir.path(), fixed_kek(1), soft_options()).unwrap();
    let p = PasscodePolicy {
        free_attempts: 0,
        ..policy()
    };
    s.set_passcode("2468", &p).unwrap();
    let before = std::fs::read(dir.path().join("passcode.mme")).unwrap();
    s.verify_passcode("0000", t(0)).unwrap();
    let after = std::fs::read(dir.path().join("passcode.mme")).unwrap();
    assert_ne!(before, after);
    drop(s); // the app restarts (one instance per directory)
    let s2 = SecureStore::open(dir.path(), fixed_kek(1), soft_options()).unwrap();
    assert!(matches!(
        s2.verify_passcode("2468", t(1)),
        Err(StorageError::LockedOut { .. })
    ));
}

#[test]
fn wipes_the_store_after_n_failures() {
    let dir = tempfile::tempdir().unwrap();
    let s = SecureStore::open(dir.path(), fixed_kek(1), soft_options()).unwrap();
    s.put("account", b"secret").unwrap();
    let p = PasscodePolicy {
        free_attempts: 10,
        wipe_after: NonZeroU32::new(3),
        ..policy()
    };
    s.set_passcode("2468", &p).unwrap();
    match s.verify_passcode("0000", t(0)).unwrap() {
        PasscodeCheck::Rejected {
            attempts_before_wipe,
            ..
        } => assert_eq!(attempts_before_wipe, Some(2)),
        other => panic!("{other:?}"),
    }
    s.verify_passcode("0000", t(1)).unwrap();
    assert!(matches!(
        s.verify_passcode("0000", t(2)),
        Err(StorageError::Wiped)
    ));
    assert!(matches!(s.get("account"), Err(StorageError::Wiped)));
    assert!(!dir.path().join("store.json").exists());
    assert!(
        std::fs::read_dir(dir.path().join("items"))
            .unwrap()
            .next()
            .is_none()
    );
}

#[test]
fn wipe_after_deletes_everything_even_when_the_kek_refuses_destruction() {
    // Issue 9 item 2: a KEK whose destroy() fails must not stop the wipe, or the
    // item stays readable and every restart grants another guess.
    let dir = tempfile::tempdir().unwrap();
    let kek = CountingKek::new(fixed_kek(1));
    kek.refuse_destroy
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let s = SecureStore::open(dir.path(), kek.clone(), soft_options()).unwrap();
    s.put("account", b"secret").unwrap();
    let p = PasscodePolicy {
        wipe_after: NonZeroU32::new(1),
        ..policy()
    };
    s.set_passcode("2468", &p).unwrap();
    match s.verify_passcode("0000", t(0)) {
        Err(StorageError::KekNotDestroyed { files_removed, .. }) => {
            assert_eq!(files_removed, 4, "manifest, canary, passcode, one item")
        }
        other => panic!("expected KekNotDestroyed, got {other:?}"),
    }
    assert!(matches!(s.get("account"), Err(StorageError::Wiped)));
    assert!(!dir.path().join("store.json").exists());
    assert!(!dir.path().join("passcode.mme").exists());
    assert!(
        std::fs::read_dir(dir.path().join("items"))
            .unwrap()
            .next()
            .is_none()
    );
    // Reopening finds an empty store: the item is gone, no passcode to guess.
    drop(s);
    let s2 = SecureStore::open(dir.path(), kek.clone(), soft_options()).unwrap();
    assert!(matches!(
        s2.get("account"),
        Err(StorageError::NotFound { .. })
    ));
    assert!(!s2.has_passcode().unwrap());
    // An explicit wipe reports the KEK failure after removing the files.
    s2.put("b", b"2").unwrap();
    match s2.wipe() {
        Err(StorageError::KekNotDestroyed {
            files_removed,
            source,
        }) => {
            assert_eq!(files_removed, 3);
            assert!(matches!(source, mamori::storage::KekError::Backend { .. }));
        }
        other => panic!("expected KekNotDestroyed, got {other:?}"),
    }
    assert!(!dir.path().join("store.json").exists());
}

#[test]
fn passcode_policy_floors_are_enforced() {
    // Issue 9 item 11: 1 PBKDF2 iteration, minimum length 0 and an empty
    // passcode were accepted.
    let dir = tempfile::tempdir().unwrap();
    let s = SecureStore::open(dir.path(), fixed_kek(1), soft_options()).unwrap();
    let refused = |r: Result<(), StorageError>, field: &str| match r {
        Err(StorageError::InvalidInput { what, .. }) => assert_eq!(what, field),
        other => panic!("expected InvalidInput for {field}, got {other:?}"),
    };
    let weak = PasscodePolicy {
        iterations: NonZeroU32::new(1).unwrap(),
        ..PasscodePolicy::default()
    };
    refused(s.set_passcode("246813", &weak), "passcode policy");
    let below = PasscodePolicy {
        iterations: NonZeroU32::new(599_999).unwrap(),
        ..PasscodePolicy::default()
    };
    refused(s.set_passcode("246813", &below), "passcode policy");
    let short = PasscodePolicy {
        min_length: 0,
        ..PasscodePolicy::default()
    };
    refused(s.set_passcode("246813", &short), "passcode policy");
    refused(s.set_passcode("", &short), "passcode policy");
    assert!(!s.has_passcode().unwrap(), "nothing was set");
    // The test-only escape waives the floors, never the empty-passcode check.
    let waived = PasscodePolicy {
        min_length: 0,
        ..PasscodePolicy::fast_for_tests_only()
    };
    refused(s.set_passcode("", &waived), "passcode");
    s.set_passcode("1", &waived).unwrap();
    assert!(s.has_passcode().unwrap());
    // The default policy meets the floors.
    assert!(PasscodePolicy::default().check_floors().is_ok());
}
