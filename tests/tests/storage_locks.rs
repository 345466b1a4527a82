//! Issue 9 item 12: locks. No lock is held across a KEK call on the get/put
//! path (a slow KEK does not stall other readers, a KEK that calls back into the
//! store does not deadlock), and one store directory has one instance at a time,
//! across threads and across processes (advisory `flock` on `store.lock`).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant, SystemTime};

use mamori::storage::{
    DEK_LEN, Kek, KekError, PasscodeCheck, PasscodePolicy, SecureStore, SecurityLevel, SoftwareKek,
    StorageError, StoreOptions, StorePolicy,
};
use zeroize::Zeroizing;

fn options() -> StoreOptions {
    StoreOptions {
        policy: StorePolicy::allow_software(),
        ..StoreOptions::default()
    }
}

/// The key `store_holder` uses.
fn holder_kek() -> Arc<dyn Kek> {
    Arc::new(SoftwareKek::from_bytes(&Zeroizing::new([0xC3; 32])))
}

/// Runs `f` on a thread; fails the test if it does not finish in `limit` (a deadlock).
fn within<T: Send + 'static>(
    limit: Duration,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit)
        .unwrap_or_else(|_| panic!("{what} did not finish within {limit:?}: deadlock"))
}

/// A KEK that, while wrapping or unwrapping, reads and writes the store it serves
/// (as a platform KEK whose callback touches app state might), once per call.
struct ReentrantKek {
    inner: SoftwareKek,
    store: OnceLock<Weak<SecureStore>>,
    inside: AtomicBool,
    reentered: Mutex<u32>,
}

impl ReentrantKek {
    fn call_back(&self) {
        if self.inside.swap(true, Ordering::SeqCst) {
            return; // the nested call's own KEK use: do not recurse again
        }
        if let Some(store) = self.store.get().and_then(Weak::upgrade) {
            // Errors are fine (e.g. NotFound); a hang is not.
            let _ = store.get("other");
            let _ = store.put("from-kek", b"written inside a KEK call");
            *self.reentered.lock().unwrap() += 1;
        }
        self.inside.store(false, Ordering::SeqCst);
    }
}

impl Kek for ReentrantKek {
    fn key_id(&self) -> String {
        self.inner.key_id()
    }
    fn security_level(&self) -> SecurityLevel {
        SecurityLevel::Software
    }
    fn wrap(&self, dek: &[u8; DEK_LEN], aad: &[u8]) -> Result<Vec<u8>, KekError> {
        self.call_back();
        self.inner.wrap(dek, aad)
    }
    fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> Result<Zeroizing<[u8; DEK_LEN]>, KekError> {
        self.call_back();
        self.inner.unwrap(wrapped, aad)
    }
}

#[test]
fn a_kek_that_calls_back_into_the_store_does_not_deadlock() {
    let dir = tempfile::tempdir().unwrap();
    let kek = Arc::new(ReentrantKek {
        inner: SoftwareKek::generate().unwrap(),
        store: OnceLock::new(),
        inside: AtomicBool::new(false),
        reentered: Mutex::new(0),
    });
    let store = Arc::new(SecureStore::open(dir.path(), kek.clone(), options()).unwrap());
    store.put("other", b"x").unwrap();
    store.clear_key_cache();
    kek.store.set(Arc::downgrade(&store)).unwrap();
    let s = store.clone();
    within(
        Duration::from_secs(20),
        "put and get with a re-entrant KEK",
        move || {
            for i in 0..5 {
                s.clear_key_cache(); // every call needs the KEK
                s.put(&format!("item{i}"), b"value").unwrap();
                s.clear_key_cache();
                assert_eq!(&*s.get(&format!("item{i}")).unwrap(), b"value");
            }
        },
    );
    assert!(
        *kek.reentered.lock().unwrap() >= 5,
        "the KEK never called back"
    );
    assert_eq!(
        &*store.get("from-kek").unwrap(),
        b"written inside a KEK call"
    );
}

/// A KEK whose `wrap` takes a second (a StrongBox call, a biometric prompt).
struct SlowWrapKek(SoftwareKek);

impl Kek for SlowWrapKek {
    fn key_id(&self) -> String {
        self.0.key_id()
    }
    fn security_level(&self) -> SecurityLevel {
        SecurityLevel::Software
    }
    fn wrap(&self, dek: &[u8; DEK_LEN], aad: &[u8]) -> Result<Vec<u8>, KekError> {
        std::thread::sleep(Duration::from_secs(1));
        self.0.wrap(dek, aad)
    }
    fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> Result<Zeroizing<[u8; DEK_LEN]>, KekError> {
        self.0.unwrap(wrapped, aad)
    }
}

#[test]
fn a_slow_kek_wrap_does_not_stall_reads_of_cached_keys() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        SecureStore::open(
            dir.path(),
            Arc::new(SlowWrapKek(SoftwareKek::generate().unwrap())),
            StoreOptions {
                cache: mamori::storage::CachePolicy {
                    max_seals_per_dek: 1, // every put makes (and wraps) a new key
                    ..mamori::storage::CachePolicy::default()
                },
                ..options()
            },
        )
        .unwrap(),
    );
    store.put("a", b"1").unwrap();
    assert_eq!(&*store.get("a").unwrap(), b"1"); // its key is cached now
    let s = store.clone();
    let writer = std::thread::spawn(move || s.put("b", b"2").unwrap());
    std::thread::sleep(Duration::from_millis(200)); // the writer is inside `wrap`
    let started = Instant::now();
    for _ in 0..10 {
        assert_eq!(&*store.get("a").unwrap(), b"1");
    }
    let took = started.elapsed();
    writer.join().unwrap();
    assert!(
        took < Duration::from_millis(500),
        "reads waited {took:?} for a KEK wrap of another thread"
    );
}

#[test]
fn a_second_instance_on_one_directory_is_refused_until_the_first_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let kek: Arc<dyn Kek> = Arc::new(SoftwareKek::generate().unwrap());
    let first = SecureStore::open(dir.path(), kek.clone(), options()).unwrap();
    match SecureStore::open(dir.path(), kek.clone(), options()) {
        Err(StorageError::Locked { path, waited }) => {
            assert!(path.ends_with("store.lock"), "{path:?}");
            assert!(waited < Duration::from_secs(1));
        }
        other => panic!("second open: {other:?}"),
    }
    // With a timeout, the second open waits for the first to go away.
    let released = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        drop(first);
    });
    let second = SecureStore::open(
        dir.path(),
        kek,
        StoreOptions {
            lock_timeout: Duration::from_secs(20),
            ..options()
        },
    )
    .unwrap();
    released.join().unwrap();
    second.put("a", b"1").unwrap();
}

fn holder(args: &[&str]) -> (Child, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_store_holder"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, rx)
}

#[test]
fn another_process_holding_the_store_makes_open_fail_with_locked_until_it_dies() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let (mut child, rx) = holder(&["hold", d]);
    assert_eq!(rx.recv_timeout(Duration::from_secs(30)).as_deref(), Ok("O"));
    assert!(matches!(
        SecureStore::open(dir.path(), holder_kek(), options()),
        Err(StorageError::Locked { .. })
    ));
    // SIGKILL: the kernel releases the lock; no stale lock file blocks the store.
    child.kill().unwrap();
    child.wait().unwrap();
    let store = SecureStore::open(dir.path(), holder_kek(), options()).unwrap();
    store.put("a", b"1").unwrap();
}

#[test]
fn two_processes_guessing_passcodes_lose_no_attempt() {
    const PER_PROCESS: u32 = 15;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let policy = PasscodePolicy {
        free_attempts: 10_000, // no back-off: every attempt is counted and checked
        ..PasscodePolicy::fast_for_tests_only()
    };
    {
        let store = SecureStore::open(dir.path(), holder_kek(), options()).unwrap();
        store.set_passcode("right passcode", &policy).unwrap();
    }
    let n = PER_PROCESS.to_string();
    let (mut a, ra) = holder(&["guess", d, &n]);
    let (mut b, rb) = holder(&["guess", d, &n]);
    for rx in [&ra, &rb] {
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(120)).as_deref(),
            Ok("O")
        );
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(120)).as_deref(),
            Ok("D")
        );
    }
    assert!(a.wait().unwrap().success() && b.wait().unwrap().success());
    let store = SecureStore::open(dir.path(), holder_kek(), options()).unwrap();
    match store
        .verify_passcode("wrong again", SystemTime::now())
        .unwrap()
    {
        PasscodeCheck::Rejected { failures, .. } => {
            assert_eq!(failures, 2 * PER_PROCESS + 1, "attempts were lost")
        }
        other => panic!("{other:?}"),
    }
}
