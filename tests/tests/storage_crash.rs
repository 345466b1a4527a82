//! Crash safety of the secure store: a child process writes and rotates in a loop
//! and is killed with SIGKILL at random points, hundreds of times. After every
//! kill the store must open, and every item must read back as its last confirmed
//! value or the value being written when the child died.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mamori::storage::{Kek, SecureStore, SoftwareKek, StorageError, StoreOptions, StorePolicy};
use zeroize::Zeroizing;

const ITEMS: u64 = 8;
const ITERATIONS: u64 = 300;

fn kek(byte: u8) -> Arc<dyn Kek> {
    Arc::new(SoftwareKek::from_bytes(&Zeroizing::new([byte; 32])))
}

#[derive(Default, Clone)]
struct ItemState {
    committed: Option<u64>,
    pending: Option<u64>,
}

#[test]
fn sigkill_during_writes_and_rotations_leaves_old_or_new_values() {
    let dir = tempfile::tempdir().unwrap();
    let store_dir = dir.path().join("store");
    let mut items: HashMap<u64, ItemState> = HashMap::new();
    let mut rng: u64 = 0x5EED_1234_ABCD_0001;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let started = Instant::now();
    let (mut writes_confirmed, mut killed_mid_write, mut killed_mid_rotation, mut rotations) =
        (0, 0, 0, 0);
    for iteration in 0..ITERATIONS {
        let mut child = Command::new(env!("CARGO_BIN_EXE_store_crasher"))
            .arg(&store_dir)
            .arg(next().to_string())
            .arg((iteration * 1_000_000).to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            let mut lines = Vec::new();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line.clone());
                lines.push(line);
            }
            lines
        });
        // Most kills land in the write/rotate loop: wait until the child has opened the
        // store, then a random delay. One in five lands anywhere, including inside open
        // (which may itself be finishing or performing a rotation).
        if next() % 5 != 0 {
            let opened = rx.recv_timeout(Duration::from_secs(30));
            assert_eq!(
                opened.as_deref(),
                Ok("O"),
                "iteration {iteration}: child did not open the store"
            );
            std::thread::sleep(Duration::from_micros(next() % 50_000));
        } else {
            std::thread::sleep(Duration::from_micros(next() % 30_000));
        }
        child.kill().unwrap(); // SIGKILL on Unix
        let status = child.wait().unwrap();
        let lines = reader.join().unwrap();
        // The child never stops by itself: a panic (a failed put or rotate) would end it early.
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        assert!(
            !status.success() && err.is_empty(),
            "iteration {iteration}: child failed: {err}"
        );
        let mut in_rotation = false;
        for line in &lines {
            let parts: Vec<&str> = line.split(' ').collect();
            match parts.as_slice() {
                ["W", i, g] => {
                    items.entry(i.parse().unwrap()).or_default().pending = Some(g.parse().unwrap())
                }
                ["D", i, g] => {
                    let st = items.entry(i.parse().unwrap()).or_default();
                    st.committed = Some(g.parse().unwrap());
                    st.pending = None;
                    writes_confirmed += 1;
                }
                ["R", "start"] => in_rotation = true,
                ["R", "done"] => {
                    in_rotation = false;
                    rotations += 1;
                }
                _ => {}
            }
        }
        killed_mid_rotation += in_rotation as u32;
        killed_mid_write += items.values().any(|s| s.pending.is_some()) as u32;

        // Reopen as a restarted app would (with both keys; this may itself finish
        // or perform a rotation) and check every item.
        let primary = if next() % 2 == 0 {
            (kek(0xA1), kek(0xB2))
        } else {
            (kek(0xB2), kek(0xA1))
        };
        let options = StoreOptions {
            policy: StorePolicy::allow_software(),
            previous_keks: vec![primary.1],
            ..StoreOptions::default()
        };
        let store = match SecureStore::open(&store_dir, primary.0, options) {
            Ok(s) => s,
            Err(e) => panic!("iteration {iteration}: store does not open after SIGKILL: {e}"),
        };
        for i in 0..ITEMS {
            let st = items.get(&i).cloned().unwrap_or_default();
            match store.get(&format!("item{i}")) {
                Ok(v) => {
                    let v = String::from_utf8(v.to_vec()).unwrap();
                    let mut f = v.split(':');
                    assert_eq!(
                        f.next(),
                        Some(format!("item{i}").as_str()),
                        "iteration {iteration}: value of another item"
                    );
                    let g: u64 = f.next().unwrap().parse().unwrap();
                    assert!(
                        Some(g) == st.committed || Some(g) == st.pending,
                        "iteration {iteration}: item{i} holds generation {g}, expected {:?} or {:?}",
                        st.committed,
                        st.pending
                    );
                    items.insert(
                        i,
                        ItemState {
                            committed: Some(g),
                            pending: None,
                        },
                    );
                }
                Err(StorageError::NotFound { .. }) => {
                    assert!(
                        st.committed.is_none(),
                        "iteration {iteration}: item{i} lost (was {:?})",
                        st.committed
                    );
                    items.insert(i, ItemState::default());
                }
                Err(e) => panic!("iteration {iteration}: item{i}: {e}"),
            }
        }
        // No temporary files survive a reopen.
        for d in [store_dir.clone(), store_dir.join("items")] {
            for e in std::fs::read_dir(d).unwrap() {
                let name = e.unwrap().file_name();
                assert!(
                    !name.to_string_lossy().starts_with(".mamori-tmp"),
                    "{name:?} left behind"
                );
            }
        }
    }
    eprintln!(
        "{ITERATIONS} kills in {:?}: {writes_confirmed} confirmed writes, {rotations} completed rotations, \
         {killed_mid_write} kills with a write in flight, {killed_mid_rotation} kills mid-rotation",
        started.elapsed()
    );
    assert!(
        writes_confirmed > ITERATIONS,
        "the child barely wrote: {writes_confirmed}"
    );
    assert!(
        killed_mid_write > 10,
        "too few kills landed during a write: {killed_mid_write}"
    );
    assert!(killed_mid_rotation > 0, "no kill landed during a rotation");
}
