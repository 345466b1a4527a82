//! Issue 9 item 12: locks. No lock is held across a KEK call on the get/put
//! path (a slow KEK does not stall other readers, a KEK that calls back into the
//! store does not deadlock), and one store directory has one instance at a time,
//! across threads and across processes (advisory `flock` on `store.lock`).
//! A KEK rotation holds no in-process lock across its KEK calls either: gets and
//! puts run during a slow rotation, a KEK that calls back into the store while it
//! is rotated to does not deadlock, and a put made during the rotation is not lost.

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

#[test]
fn a_slow_kek_wrap_does_not_stall_reads_of_cached_keys() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        SecureStore::open(
            dir.path(),
            Arc::new(SlowKek(
                SoftwareKek::generate().unwrap(),
                Duration::from_secs(1),
            )),
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

fn reentrant_kek(key: u8) -> Arc<ReentrantKek> {
    Arc::new(ReentrantKek {
        inner: SoftwareKek::from_bytes(&Zeroizing::new([key; 32])),
        store: OnceLock::new(),
        inside: AtomicBool::new(false),
        reentered: Mutex::new(0),
    })
}

#[test]
fn a_kek_that_calls_back_into_the_store_during_a_rotation_does_not_deadlock() {
    let dir = tempfile::tempdir().unwrap();
    // Rotated from one re-entrant KEK (its `unwrap` calls back) to another (its
    // `wrap` calls back): before the fix the rotation held the store's write lock
    // across both, and the nested `get` waited for it on the same thread forever.
    let (old, new) = (reentrant_kek(0x11), reentrant_kek(0x22));
    let store = Arc::new(SecureStore::open(dir.path(), old.clone(), options()).unwrap());
    for i in 0..5 {
        store.clear_key_cache(); // one data key per item: one KEK round trip each
        store.put(&format!("item{i}"), b"value").unwrap();
    }
    store.put("other", b"x").unwrap();
    store.clear_key_cache();
    old.store.set(Arc::downgrade(&store)).unwrap();
    new.store.set(Arc::downgrade(&store)).unwrap();
    let (s, k) = (store.clone(), new.clone());
    let report = within(
        Duration::from_secs(30),
        "a rotation whose KEKs call back into the store",
        move || s.rotate_kek(k).unwrap(),
    );
    assert!(report.rewrapped >= 6, "{report:?}");
    assert!(
        *new.reentered.lock().unwrap() >= 1,
        "the new KEK never called back"
    );
    assert!(
        *old.reentered.lock().unwrap() >= 1,
        "the old KEK never called back"
    );
    assert_eq!(store.kek_id().unwrap(), new.key_id());
    drop(store);
    // Every file, including the one written from inside the KEK during the
    // rotation, is under the new key: it opens with the new key alone.
    let plain: Arc<dyn Kek> = Arc::new(SoftwareKek::from_bytes(&Zeroizing::new([0x22; 32])));
    let store = SecureStore::open(dir.path(), plain, options()).unwrap();
    for i in 0..5 {
        assert_eq!(&*store.get(&format!("item{i}")).unwrap(), b"value");
    }
    assert_eq!(
        &*store.get("from-kek").unwrap(),
        b"written inside a KEK call"
    );
}

/// A KEK whose `wrap` and `unwrap` each take the given time (a StrongBox call, a
/// biometric prompt).
struct SlowKek(SoftwareKek, Duration);

impl Kek for SlowKek {
    fn key_id(&self) -> String {
        self.0.key_id()
    }
    fn security_level(&self) -> SecurityLevel {
        SecurityLevel::Software
    }
    fn wrap(&self, dek: &[u8; DEK_LEN], aad: &[u8]) -> Result<Vec<u8>, KekError> {
        std::thread::sleep(self.1);
        self.0.wrap(dek, aad)
    }
    fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> Result<Zeroizing<[u8; DEK_LEN]>, KekError> {
        std::thread::sleep(self.1);
        self.0.unwrap(wrapped, aad)
    }
}

/// Options under which every put makes (and wraps) a fresh data key: one a
/// rotation running meanwhile has not re-wrapped.
fn key_per_put() -> StoreOptions {
    StoreOptions {
        cache: mamori::storage::CachePolicy {
            max_seals_per_dek: 1,
            ..mamori::storage::CachePolicy::default()
        },
        ..options()
    }
}

#[test]
fn gets_and_puts_run_during_a_slow_rotation_and_no_put_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let old: Arc<dyn Kek> = Arc::new(SoftwareKek::from_bytes(&Zeroizing::new([0x31; 32])));
    let store = Arc::new(SecureStore::open(dir.path(), old, key_per_put()).unwrap());
    for i in 0..3 {
        store.put(&format!("before{i}"), b"old").unwrap();
    }
    assert_eq!(&*store.get("before0").unwrap(), b"old"); // its key is cached now
    let new_key = || SoftwareKek::from_bytes(&Zeroizing::new([0x32; 32]));
    let slow = Arc::new(SlowKek(new_key(), Duration::from_millis(400)));
    let s = store.clone();
    let rotation = std::thread::spawn(move || s.rotate_kek(slow).unwrap());
    std::thread::sleep(Duration::from_millis(150)); // the rotation is inside the slow KEK
    let started = Instant::now();
    for _ in 0..10 {
        assert_eq!(&*store.get("before0").unwrap(), b"old");
    }
    let reads = started.elapsed();
    // Puts during the rotation: each under a fresh data key of the old KEK.
    store.put("during0", b"new").unwrap();
    store.put("before1", b"replaced").unwrap();
    let writes = started.elapsed() - reads;
    let report = rotation.join().unwrap();
    assert!(
        reads < Duration::from_millis(300),
        "10 reads waited {reads:?} for a rotation's KEK calls"
    );
    assert!(
        writes < Duration::from_millis(300),
        "2 puts waited {writes:?} for a rotation's KEK calls"
    );
    // The canary, three items from before, one put during the rotation.
    assert_eq!(report.rewrapped, 5, "{report:?}");
    drop(store);
    // Everything, the puts made during the rotation too, opens under the new key alone.
    let store = SecureStore::open(dir.path(), Arc::new(new_key()), options()).unwrap();
    assert_eq!(&*store.get("before0").unwrap(), b"old");
    assert_eq!(&*store.get("before1").unwrap(), b"replaced");
    assert_eq!(&*store.get("before2").unwrap(), b"old");
    assert_eq!(&*store.get("during0").unwrap(), b"new");
}

#[test]
fn a_rotation_that_never_settles_fails_typed_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let old: Arc<dyn Kek> = Arc::new(SoftwareKek::from_bytes(&Zeroizing::new([0x41; 32])));
    let store = Arc::new(SecureStore::open(dir.path(), old.clone(), key_per_put()).unwrap());
    store.put("item", b"value").unwrap();
    // Every call of the new KEK writes an item under a fresh data key of the old
    // one: each round of the rotation finds a key it has not re-wrapped.
    let churn = reentrant_kek(0x42);
    churn.store.set(Arc::downgrade(&store)).unwrap();
    let s = store.clone();
    let result = within(
        Duration::from_secs(30),
        "a rotation under constant writes",
        move || s.rotate_kek(churn),
    );
    match result {
        Err(StorageError::RotationContended { attempts }) => assert!(attempts >= 2),
        other => panic!("expected RotationContended, got {other:?}"),
    }
    assert_eq!(store.kek_id().unwrap(), old.key_id());
    assert_eq!(&*store.get("item").unwrap(), b"value");
    drop(store);
    let store = SecureStore::open(dir.path(), old, options()).unwrap();
    assert_eq!(&*store.get("item").unwrap(), b"value");
    assert_eq!(
        &*store.get("from-kek").unwrap(),
        b"written inside a KEK call"
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

/// A KEK that, while wrapping or unwrapping, makes a wrong passcode guess on the
/// store it serves (once per outermost call), as a platform KEK whose callback
/// runs app code might.
struct GuessingKek {
    inner: SoftwareKek,
    store: OnceLock<Weak<SecureStore>>,
    inside: AtomicBool,
    guesses: Mutex<u32>,
}

impl GuessingKek {
    fn call_back(&self) {
        if self.inside.swap(true, Ordering::SeqCst) {
            return; // the nested operation's own KEK use: do not recurse again
        }
        if let Some(store) = self.store.get().and_then(Weak::upgrade) {
            match store.verify_passcode("wrong inside the KEK", SystemTime::now()) {
                Ok(PasscodeCheck::Rejected { .. }) => *self.guesses.lock().unwrap() += 1,
                other => panic!("the nested guess: {other:?}"),
            }
        }
        self.inside.store(false, Ordering::SeqCst);
    }
}

impl Kek for GuessingKek {
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

/// No back-off: every attempt is counted and checked.
fn guessing_policy() -> PasscodePolicy {
    PasscodePolicy {
        free_attempts: 100_000,
        ..PasscodePolicy::fast_for_tests_only()
    }
}

fn failures(check: PasscodeCheck) -> u32 {
    match check {
        PasscodeCheck::Rejected { failures, .. } => failures,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[test]
fn a_kek_that_makes_a_passcode_guess_from_inside_its_call_does_not_deadlock() {
    let dir = tempfile::tempdir().unwrap();
    let kek = Arc::new(GuessingKek {
        inner: SoftwareKek::generate().unwrap(),
        store: OnceLock::new(),
        inside: AtomicBool::new(false),
        guesses: Mutex::new(0),
    });
    // No key cache: every passcode operation asks the KEK.
    let store = Arc::new(
        SecureStore::open(
            dir.path(),
            kek.clone(),
            StoreOptions {
                cache: mamori::storage::CachePolicy::disabled(),
                ..options()
            },
        )
        .unwrap(),
    );
    store
        .set_passcode("right passcode", &guessing_policy())
        .unwrap();
    kek.store.set(Arc::downgrade(&store)).unwrap();
    // Before the fix each of these held the passcode mutex across the KEK call,
    // and the nested guess waited for it on the same thread forever.
    let s = store.clone();
    let outer = within(
        Duration::from_secs(30),
        "passcode operations whose KEK makes a passcode guess",
        move || {
            let mut outer = Vec::new();
            for _ in 0..3 {
                outer.push(failures(
                    s.verify_passcode("wrong outside", SystemTime::now())
                        .unwrap(),
                ));
            }
            assert_eq!(
                s.verify_passcode("right passcode", SystemTime::now())
                    .unwrap(),
                PasscodeCheck::Verified
            );
            s.set_passcode("another passcode", &guessing_policy())
                .unwrap();
            assert!(s.remove_passcode().unwrap());
            outer
        },
    );
    let nested = *kek.guesses.lock().unwrap();
    assert!(nested >= 3, "the KEK made {nested} guesses");
    // Every guess counted, nested ones included: the outer guesses' counts grow by
    // at least the nested guess made during each.
    assert!(outer.windows(2).all(|w| w[1] >= w[0] + 2), "{outer:?}");
}

#[test]
fn concurrent_wrong_guesses_lose_no_increment_even_while_the_store_rotates() {
    const THREADS: u32 = 6;
    const PER_THREAD: u32 = 8;
    let dir = tempfile::tempdir().unwrap();
    let keks: Vec<Arc<dyn Kek>> = (0..3u8)
        .map(|i| Arc::new(SoftwareKek::from_bytes(&Zeroizing::new([0x50 + i; 32]))) as _)
        .collect();
    let store = Arc::new(SecureStore::open(dir.path(), keks[0].clone(), options()).unwrap());
    store
        .set_passcode("right passcode", &guessing_policy())
        .unwrap();
    let guessers: Vec<_> = (0..THREADS)
        .map(|t| {
            let s = store.clone();
            std::thread::spawn(move || {
                (0..PER_THREAD)
                    .map(|i| {
                        failures(
                            s.verify_passcode(&format!("wrong {t} {i}"), SystemTime::now())
                                .unwrap(),
                        )
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    // Rotations commit between the steps of the guesses: their held keys go stale
    // and they start again, counting nothing twice and losing nothing.
    let mut rotations = 0;
    for round in 1..=6 {
        store.rotate_kek(keks[round % 3].clone()).unwrap();
        rotations += 1;
    }
    let mut counts: Vec<u32> = guessers
        .into_iter()
        .flat_map(|g| g.join().unwrap())
        .collect();
    counts.sort_unstable();
    let total = THREADS * PER_THREAD;
    assert_eq!(
        counts,
        (1..=total).collect::<Vec<_>>(),
        "each guess must see its own count ({rotations} rotations)"
    );
    assert_eq!(
        failures(store.verify_passcode("last", SystemTime::now()).unwrap()),
        total + 1
    );
}

/// A KEK that is slow (2 s) only for calls made on one chosen thread.
struct SlowOnOneThread {
    inner: SoftwareKek,
    slow: Mutex<Option<std::thread::ThreadId>>,
}

impl SlowOnOneThread {
    fn maybe_sleep(&self) {
        if *self.slow.lock().unwrap() == Some(std::thread::current().id()) {
            std::thread::sleep(Duration::from_secs(2));
        }
    }
}

impl Kek for SlowOnOneThread {
    fn key_id(&self) -> String {
        self.inner.key_id()
    }
    fn security_level(&self) -> SecurityLevel {
        SecurityLevel::Software
    }
    fn wrap(&self, dek: &[u8; DEK_LEN], aad: &[u8]) -> Result<Vec<u8>, KekError> {
        self.maybe_sleep();
        self.inner.wrap(dek, aad)
    }
    fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> Result<Zeroizing<[u8; DEK_LEN]>, KekError> {
        self.maybe_sleep();
        self.inner.unwrap(wrapped, aad)
    }
}

#[test]
fn a_slow_kek_call_does_not_stall_another_threads_passcode_check() {
    let dir = tempfile::tempdir().unwrap();
    let kek = Arc::new(SlowOnOneThread {
        inner: SoftwareKek::generate().unwrap(),
        slow: Mutex::new(None),
    });
    let store = Arc::new(SecureStore::open(dir.path(), kek.clone(), options()).unwrap());
    store
        .set_passcode("right passcode", &guessing_policy())
        .unwrap();
    let (s, k) = (store.clone(), kek.clone());
    let slow = std::thread::spawn(move || {
        *k.slow.lock().unwrap() = Some(std::thread::current().id());
        s.clear_key_cache(); // its keys must come from the (slow) KEK
        failures(s.verify_passcode("wrong", SystemTime::now()).unwrap())
    });
    std::thread::sleep(Duration::from_millis(300)); // the slow thread is inside the KEK
    let started = Instant::now();
    assert_eq!(
        store
            .verify_passcode("right passcode", SystemTime::now())
            .unwrap(),
        PasscodeCheck::Verified
    );
    let took = started.elapsed();
    assert_eq!(slow.join().unwrap(), 1);
    assert!(
        took < Duration::from_millis(1200),
        "a passcode check waited {took:?} for another thread's KEK call"
    );
}
