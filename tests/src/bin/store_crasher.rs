//! Test helper for `tests/storage_crash.rs`: writes and rotates a secure store in
//! a loop until it is killed. Each write is announced on stdout before it starts
//! (`W item gen`) and confirmed after it returned (`D item gen`); rotations, wipes
//! and passcode updates are announced the same way (`R start` / `R done`,
//! `X start` / `X done`, `P gen` / `Q gen`).
//!
//! Usage: `store_crasher <store dir> <seed> <first generation>`

use std::io::Write;
use std::sync::Arc;

use mamori::storage::{Kek, SecureStore, SoftwareKek, StoreOptions, StorePolicy};
use mamori_tests::crash_passcode_policy;
use zeroize::Zeroizing;

/// Number of items the crasher writes.
pub const ITEMS: u64 = 8;

fn kek(byte: u8) -> Arc<dyn Kek> {
    Arc::new(SoftwareKek::from_bytes(&Zeroizing::new([byte; 32])))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = &args[1];
    let mut rng: u64 = args[2].parse::<u64>().unwrap() | 1;
    let mut generation: u64 = args[3].parse().unwrap();
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let (a, b) = (kek(0xA1), kek(0xB2));
    let (mut current, mut other) = if next() % 2 == 0 { (a, b) } else { (b, a) };
    let options = StoreOptions {
        policy: StorePolicy::allow_software(),
        previous_keks: vec![other.clone()],
        ..StoreOptions::default()
    };
    // Opening with a primary KEK other than the store's rotates (or finishes an
    // interrupted rotation).
    let mut store = SecureStore::open(dir, current.clone(), options.clone()).expect("open");
    let mut out = std::io::stdout().lock();
    writeln!(out, "O").unwrap();
    out.flush().unwrap();
    loop {
        let r = next();
        if r % 10 == 0 {
            writeln!(out, "R start").unwrap();
            out.flush().unwrap();
            store.rotate_kek(other.clone()).expect("rotate");
            std::mem::swap(&mut current, &mut other);
            writeln!(out, "R done").unwrap();
        } else if r % 25 == 1 {
            writeln!(out, "X start").unwrap();
            out.flush().unwrap();
            store.wipe().expect("wipe");
            drop(store);
            let options = StoreOptions {
                previous_keks: vec![other.clone()],
                ..options.clone()
            };
            store = SecureStore::open(dir, current.clone(), options).expect("reopen after wipe");
            writeln!(out, "X done").unwrap();
        } else if r % 10 == 2 {
            generation += 1;
            writeln!(out, "P {generation}").unwrap();
            out.flush().unwrap();
            store
                .set_passcode(&format!("passcode {generation}"), &crash_passcode_policy())
                .expect("set passcode");
            writeln!(out, "Q {generation}").unwrap();
        } else {
            let item = (r >> 8) % ITEMS;
            generation += 1;
            writeln!(out, "W {item} {generation}").unwrap();
            out.flush().unwrap();
            // Values of varying size, so a torn write would show.
            let value = format!(
                "item{item}:{generation}:{}",
                "x".repeat((r >> 16) as usize % 3000)
            );
            store
                .put(&format!("item{item}"), value.as_bytes())
                .expect("put");
            writeln!(out, "D {item} {generation}").unwrap();
        }
        out.flush().unwrap();
    }
}
