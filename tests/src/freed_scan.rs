//! A global allocator for tests that scans every freed block for secrets
//! (guideline NEW-1: "erase the plaintext data key promptly").
//!
//! A test binary installs [`ScanningAllocator`] as its `#[global_allocator]`,
//! registers the secrets it wants to never see in freed memory ([`watch`]: a data
//! key as the test KEK receives it, a plaintext value), and runs the code under
//! test. Every `dealloc` (and every block a `realloc` moves away from) is searched
//! for each 16-byte window of every registered secret *before* the memory is
//! returned to the system allocator; [`hits`] says what was found. A half key
//! (128 bits) in freed memory counts as a leak.
//!
//! The allocator itself never allocates: the watch list is a fixed array behind
//! a `std::sync::Mutex` (futex-based on Linux, no allocation), so it can run
//! inside `dealloc`.
//!
//! Some secrets are only known after the code ran (a passcode hash under a
//! random salt, read back from the store afterwards): between [`record_start`]
//! and [`record_stop`] every freed block is also copied into a fixed buffer, and
//! [`rescan_recorded`] searches those copies for the secrets watched since.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

const WINDOW: usize = 16;
const MAX_NEEDLES: usize = 8192;

/// The watched windows, sorted (binary search per scanned position).
struct Needles {
    len: usize,
    /// `(window as a big-endian u128, kind)`, sorted by window.
    sorted: [(u128, u8); MAX_NEEDLES],
    /// More secrets were watched than fit: the test must fail, not miss them.
    overflowed: bool,
}

static NEEDLES: Mutex<Needles> = Mutex::new(Needles {
    len: 0,
    sorted: [(0, 0); MAX_NEEDLES],
    overflowed: false,
});
static ACTIVE: AtomicBool = AtomicBool::new(false);
static HITS: [AtomicUsize; 4] = [const { AtomicUsize::new(0) }; 4];

/// Bytes of freed blocks [`record_start`] keeps for [`rescan_recorded`].
const RECORD_CAP: usize = 4 << 20;
/// Zero bytes between two recorded blocks, so no window spans two of them.
const RECORD_GAP: usize = WINDOW;

struct Recorded {
    len: usize,
    bytes: [u8; RECORD_CAP],
    /// More was freed than fits: the rescan must fail, not miss it.
    overflowed: bool,
}

static RECORDING: AtomicBool = AtomicBool::new(false);
static RECORD: Mutex<Recorded> = Mutex::new(Recorded {
    len: 0,
    bytes: [0; RECORD_CAP],
    overflowed: false,
});
static SCANNED: AtomicUsize = AtomicUsize::new(0);

/// What kind of secret was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secret {
    /// A plaintext data key.
    DataKey = 0,
    /// A plaintext item value.
    Plaintext = 1,
    /// The scanner's own self-test.
    SelfTest = 2,
    /// A passcode, or what is derived from it (the PBKDF2 hash, raw or base64).
    Passcode = 3,
}

/// The test's global allocator: [`System`] plus a scan of every freed block.
pub struct ScanningAllocator;

fn record(block: &[u8]) {
    let mut r = RECORD.lock().unwrap_or_else(|p| p.into_inner());
    let at = r.len;
    if at + block.len() + RECORD_GAP > RECORD_CAP {
        r.overflowed = true;
        return;
    }
    r.bytes[at..at + block.len()].copy_from_slice(block);
    r.bytes[at + block.len()..at + block.len() + RECORD_GAP].fill(0);
    r.len = at + block.len() + RECORD_GAP;
}

fn scan(block: &[u8]) {
    if RECORDING.load(Ordering::Relaxed) {
        record(block);
    }
    SCANNED.fetch_add(1, Ordering::Relaxed);
    let needles = NEEDLES.lock().unwrap_or_else(|p| p.into_inner());
    let sorted = &needles.sorted[..needles.len];
    if sorted.is_empty() || block.len() < WINDOW {
        return;
    }
    count_hits(block, sorted);
}

/// Counts every window of `block` found among the `sorted` needles.
fn count_hits(block: &[u8], sorted: &[(u128, u8)]) {
    for w in block.windows(WINDOW) {
        let v = u128::from_be_bytes(w.try_into().expect("16-byte window"));
        if let Ok(i) = sorted.binary_search_by(|(n, _)| n.cmp(&v)) {
            HITS[sorted[i].1 as usize].fetch_add(1, Ordering::Relaxed);
        }
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments; the scan
// only reads the block the caller hands back, before it is freed.
unsafe impl GlobalAlloc for ScanningAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ACTIVE.load(Ordering::Relaxed) {
            // SAFETY: `ptr` is a live block of `layout.size()` bytes until the call below.
            scan(unsafe { std::slice::from_raw_parts(ptr, layout.size()) });
        }
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Never let the system allocator move a block behind our back: allocate,
        // copy, then free the old block through `dealloc` (which scans it).
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            unsafe {
                std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        new
    }
}

/// Registers a secret: from now on, any freed block holding one of its 16-byte
/// windows (at offsets 0, 8, 16, ...) counts as a hit of `kind`. Never panics
/// (it may run while a panic is being handled); overflow is reported by [`hits`].
pub fn watch(kind: Secret, secret: &[u8]) {
    let mut n = NEEDLES.lock().unwrap_or_else(|p| p.into_inner());
    let mut at = 0;
    while at + WINDOW <= secret.len() {
        if n.len == MAX_NEEDLES {
            n.overflowed = true;
            return;
        }
        let mut w = [0u8; WINDOW];
        w.copy_from_slice(&secret[at..at + WINDOW]);
        let v = u128::from_be_bytes(w);
        let len = n.len;
        let pos = n.sorted[..len].partition_point(|(x, _)| *x < v);
        n.sorted.copy_within(pos..len, pos + 1);
        n.sorted[pos] = (v, kind as u8);
        n.len += 1;
        at += WINDOW / 2;
    }
}

/// Starts scanning freed blocks (and clears the counters).
pub fn start() {
    for h in &HITS {
        h.store(0, Ordering::Relaxed);
    }
    SCANNED.store(0, Ordering::Relaxed);
    ACTIVE.store(true, Ordering::SeqCst);
}

/// Starts keeping a copy of every freed block (scanning must be on: [`start`]),
/// dropping what an earlier recording kept.
pub fn record_start() {
    let mut r = RECORD.lock().unwrap_or_else(|p| p.into_inner());
    r.len = 0;
    r.overflowed = false;
    drop(r);
    RECORDING.store(true, Ordering::SeqCst);
}

/// Stops keeping copies.
pub fn record_stop() {
    RECORDING.store(false, Ordering::SeqCst);
}

/// Searches the blocks kept between [`record_start`] and [`record_stop`] for the
/// secrets watched now (counted by [`hits`] like any other find). Panics if the
/// recording overflowed.
pub fn rescan_recorded() {
    let r = RECORD.lock().unwrap_or_else(|p| p.into_inner());
    assert!(
        !r.overflowed,
        "freed_scan: more than {RECORD_CAP} bytes freed while recording"
    );
    let needles = NEEDLES.lock().unwrap_or_else(|p| p.into_inner());
    let sorted = &needles.sorted[..needles.len];
    count_hits(&r.bytes[..r.len], sorted);
}

/// Stops scanning.
pub fn stop() {
    ACTIVE.store(false, Ordering::SeqCst);
}

/// How many freed windows of `kind` were found since [`start`]. Panics if more
/// secrets were watched than the scanner holds (a scan that missed some must
/// not pass).
pub fn hits(kind: Secret) -> usize {
    let overflowed = NEEDLES.lock().unwrap_or_else(|p| p.into_inner()).overflowed;
    assert!(
        !overflowed,
        "freed_scan: more than {MAX_NEEDLES} watched windows"
    );
    HITS[kind as usize].load(Ordering::Relaxed)
}

/// How many freed blocks were scanned since [`start`].
pub fn scanned() -> usize {
    SCANNED.load(Ordering::Relaxed)
}
