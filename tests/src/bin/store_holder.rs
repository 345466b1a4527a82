//! Test helper for `tests/storage_locks.rs`: a second process on a secure store.
//!
//! - `store_holder hold <dir>`: opens the store, prints `O`, then waits to be killed.
//! - `store_holder guess <dir> <n>`: opens the store (waiting up to 60 s for the
//!   directory lock), prints `O`, makes `n` wrong passcode attempts, prints `D`.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use mamori::storage::{Kek, SecureStore, SoftwareKek, StoreOptions, StorePolicy};
use zeroize::Zeroizing;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let kek: Arc<dyn Kek> = Arc::new(SoftwareKek::from_bytes(&Zeroizing::new([0xC3; 32])));
    let options = StoreOptions {
        policy: StorePolicy::allow_software(),
        lock_timeout: Duration::from_secs(60),
        ..StoreOptions::default()
    };
    let store = SecureStore::open(&args[2], kek, options).expect("open");
    let mut out = std::io::stdout().lock();
    writeln!(out, "O").unwrap();
    out.flush().unwrap();
    match args[1].as_str() {
        "hold" => loop {
            std::thread::sleep(Duration::from_secs(60));
        },
        "guess" => {
            let n: u32 = args[3].parse().unwrap();
            for _ in 0..n {
                store
                    .verify_passcode("wrong passcode", SystemTime::now())
                    .expect("verify");
            }
            writeln!(out, "D").unwrap();
        }
        other => panic!("unknown mode {other}"),
    }
}
