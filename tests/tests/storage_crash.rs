//! Crash safety of the secure store: a child process writes, rotates, wipes and
//! changes the passcode in a loop and is killed with SIGKILL at random points.
//! After every kill the store must open, every item must read back as its last
//! confirmed value or the value being written when the child died (or be gone,
//! all together, after a wipe), and the passcode must be the old or the new one.
//!
//! Kills: `MAMORI_CRASH_KILLS` (default 200, the CI size; the long mode is
//! `MAMORI_CRASH_KILLS=1000`, README "Crash safety"). The figures are printed.

use std::collections::HashMap;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mamori::storage::{
    Kek, PasscodeCheck, SecureStore, SoftwareKek, StorageError, StoreOptions, StorePolicy,
};
use zeroize::Zeroizing;

const ITEMS: u64 = 8;
/// Kills in CI; `MAMORI_CRASH_KILLS` overrides (1000 for the long mode).
const DEFAULT_KILLS: u64 = 200;

fn kills() -> u64 {
    std::env::var("MAMORI_CRASH_KILLS")
        .ok()
        .map(|v| v.parse().expect("MAMORI_CRASH_KILLS is a number"))
        .unwrap_or(DEFAULT_KILLS)
}

fn kek(byte: u8) -> Arc<dyn Kek> {
    Arc::new(SoftwareKek::from_bytes(&Zeroizing::new([byte; 32])))
}

#[derive(Default, Clone)]
struct ItemState {
    committed: Option<u64>,
    pending: Option<u64>,
}

#[test]
fn sigkill_during_writes_rotations_wipes_and_passcode_updates_leaves_old_or_new() {
    let iterations = kills();
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
    let (mut wipes, mut killed_mid_wipe, mut passcodes_set, mut killed_mid_passcode) = (0, 0, 0, 0);
    // The passcode: last confirmed and in-flight generation.
    let mut passcode = ItemState::default();
    for iteration in 0..iterations {
        let (child, rx, reader) = mamori_tests::spawn_with_lines(
            Command::new(env!("CARGO_BIN_EXE_store_crasher"))
                .arg(&store_dir)
                .arg(next().to_string())
                .arg((iteration * 1_000_000).to_string()),
        );
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
        // The child never stops by itself: a panic (a failed operation) would end it early.
        let lines =
            mamori_tests::sigkill_and_collect(child, reader, &format!("iteration {iteration}"));
        let mut in_rotation = false;
        let mut in_wipe = false;
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
                ["X", "start"] => in_wipe = true,
                ["X", "done"] => {
                    in_wipe = false;
                    wipes += 1;
                    items.clear();
                    passcode = ItemState::default();
                }
                ["P", g] => passcode.pending = Some(g.parse().unwrap()),
                ["Q", g] => {
                    passcode.committed = Some(g.parse().unwrap());
                    passcode.pending = None;
                    passcodes_set += 1;
                }
                _ => {}
            }
        }
        killed_mid_rotation += in_rotation as u32;
        killed_mid_wipe += in_wipe as u32;
        killed_mid_passcode += passcode.pending.is_some() as u32;
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
        // A wipe in flight when the child died happened entirely or not at all.
        if in_wipe {
            let gone = store.list().unwrap().is_empty() && !store.has_passcode().unwrap();
            if gone {
                items.clear();
                passcode = ItemState::default();
            }
        }
        check_passcode(&store, &mut passcode, iteration);
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
        "{iterations} kills in {:?}: {writes_confirmed} confirmed writes, {rotations} rotations, \
         {wipes} wipes, {passcodes_set} passcode updates completed; kills with a write in flight: \
         {killed_mid_write}, mid-rotation: {killed_mid_rotation}, mid-wipe: {killed_mid_wipe}, \
         mid-passcode update: {killed_mid_passcode}",
        started.elapsed()
    );
    assert!(
        writes_confirmed > iterations,
        "the child barely wrote: {writes_confirmed}"
    );
    assert!(
        u64::from(killed_mid_write) > iterations / 20,
        "too few kills landed during a write: {killed_mid_write}"
    );
    assert!(killed_mid_rotation > 0, "no kill landed during a rotation");
    assert!(
        killed_mid_passcode > 0,
        "no kill landed during a passcode update"
    );
    if iterations >= 1000 {
        assert!(killed_mid_wipe > 0, "no kill landed during a wipe");
    }
}

/// The passcode after a kill is the last confirmed one or the one being set
/// (none if neither exists), never another or a lost one.
fn check_passcode(store: &SecureStore, passcode: &mut ItemState, iteration: u64) {
    let candidates: Vec<u64> = passcode
        .committed
        .into_iter()
        .chain(passcode.pending)
        .collect();
    if candidates.is_empty() {
        assert!(
            !store.has_passcode().unwrap(),
            "iteration {iteration}: a passcode appeared"
        );
        return;
    }
    for g in &candidates {
        match store.verify_passcode(&format!("passcode {g}"), std::time::SystemTime::now()) {
            Ok(PasscodeCheck::Verified) => {
                *passcode = ItemState {
                    committed: Some(*g),
                    pending: None,
                };
                return;
            }
            Ok(PasscodeCheck::Rejected { .. }) => {}
            // A first set that a crash interrupted: no passcode, which is the old state.
            Err(StorageError::NoPasscode) if passcode.committed.is_none() => break,
            Err(e) => panic!("iteration {iteration}: passcode check failed: {e}"),
        }
    }
    // Only a first set that a crash interrupted may leave no passcode at all.
    assert!(
        passcode.committed.is_none() && !store.has_passcode().unwrap(),
        "iteration {iteration}: passcode is neither {candidates:?}"
    );
    *passcode = ItemState::default();
}
