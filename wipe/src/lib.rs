//! The one `unsafe` shim of Mamori (guideline NEW-1: "erase the plaintext data
//! key promptly").
//!
//! The core is `#![forbid(unsafe_code)]`, yet it must wipe memory that is not its
//! own type: ring's `LessSafeKey` holds the expanded AES key schedule, whose first
//! round keys *are* the raw key, and ring neither zeroizes it nor lets anyone
//! reach its bytes. [`WipeOnDrop`] keeps such a value in a heap box of its own and
//! overwrites the whole box with zeros (volatile writes, from `zeroize`) before
//! the allocator gets the memory back.
//!
//! Why a box: a value that is moved leaves its old bytes behind, and Rust moves
//! freely. Boxed once, the key stays at one heap address for its whole life, so
//! there is exactly one copy to wipe. The move *into* the box may still leave a
//! copy on the stack of the constructing thread (the compiler decides); stack
//! memory is reused by the next calls, never returned to the allocator. That
//! residue is documented in `docs/memory.md`.
//!
//! [`WipingAllocator`] is the other half: a global allocator that zeroes every
//! block before freeing it. `mamori-ffi` installs it in the mobile library
//! (feature `wipe-freed-memory`, on by default), because uniffi serialises byte
//! arrays into buffers of its own (`RustBuffer`) and frees them without wiping:
//! the data key handed to a platform KEK, the key it returns, item values going
//! to and coming from the app. Only the allocator sees those frees.
//!
//! Soundness: the value lives in a `MaybeUninit<T>`, so writing zeros over it
//! never creates an invalid `T` (ring's key holds a `&'static` reference, which
//! must not be null). After the wipe the value is never read or dropped again;
//! `T`'s destructor does not run, which is why [`WipeOnDrop::new`] only accepts
//! types without drop glue (checked at compile time), so skipping it leaks
//! nothing.

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt;
use std::mem::MaybeUninit;
use std::ops::Deref;

use zeroize::Zeroize;

/// A `T` on the heap whose bytes are zeroed before the memory is freed.
///
/// Only for `T` without drop glue (no heap pointers, no destructor): ring's
/// AEAD key types are such values.
pub struct WipeOnDrop<T> {
    // Invariant: initialised from `new` until `drop` wipes it.
    slot: Box<MaybeUninit<T>>,
}

impl<T> WipeOnDrop<T> {
    const NO_DROP_GLUE: () = assert!(
        !std::mem::needs_drop::<T>(),
        "WipeOnDrop skips the destructor: T must not need one"
    );

    /// Moves `value` into its own heap box.
    pub fn new(value: T) -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::NO_DROP_GLUE;
        Self {
            slot: Box::new(MaybeUninit::new(value)),
        }
    }
}

impl<T> Deref for WipeOnDrop<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: `slot` was initialised in `new` and is only overwritten in
        // `drop`, after which no reference can exist.
        unsafe { self.slot.assume_init_ref() }
    }
}

impl<T> Drop for WipeOnDrop<T> {
    fn drop(&mut self) {
        // Volatile zeroing of every byte of the slot (zeroize's impl for
        // `MaybeUninit`, which is valid for any bytes); the box is freed after.
        self.slot.zeroize();
    }
}

impl<T> fmt::Debug for WipeOnDrop<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WipeOnDrop(<redacted>)")
    }
}

// `Box<MaybeUninit<T>>` is Send/Sync when `T` is; the wrapper adds no sharing.

/// A global allocator that zeroes every block before it is freed, and never
/// lets the inner allocator move a block (`realloc` is allocate, copy, wipe the
/// old block, free it), so no copy escapes unwiped.
///
/// Cost: one volatile write per freed byte (not measured yet; see `docs/memory.md`).
pub struct WipingAllocator<A = System>(pub A);

impl WipingAllocator<System> {
    /// Over the system allocator.
    pub const fn system() -> Self {
        Self(System)
    }
}

// SAFETY: allocation is the inner allocator's; `dealloc` only writes zeros into
// the block the caller hands back (it owns `layout.size()` bytes at `ptr`, per
// the `GlobalAlloc` contract) before passing it on unchanged.
unsafe impl<A: GlobalAlloc> GlobalAlloc for WipingAllocator<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { self.0.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        unsafe { self.0.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: see the impl comment; volatile writes, so the compiler cannot
        // drop them as dead stores before the free.
        unsafe { std::slice::from_raw_parts_mut(ptr, layout.size()) }.zeroize();
        unsafe { self.0.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `GlobalAlloc::realloc` guarantees `new_size` is valid for `layout.align()`.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        let new = unsafe { self.0.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks are live and distinct; the old one is freed
            // (wiped) only after the copy.
            unsafe {
                std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::Mutex;

    /// An inner allocator that records whether every block it frees is all zeros.
    struct Checking {
        nonzero_frees: Mutex<usize>,
        frees: Mutex<usize>,
    }

    unsafe impl GlobalAlloc for Checking {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            let bytes = unsafe { std::slice::from_raw_parts(ptr, layout.size()) };
            *self.frees.lock().unwrap() += 1;
            if bytes.iter().any(|&b| b != 0) {
                *self.nonzero_frees.lock().unwrap() += 1;
            }
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    #[test]
    fn freed_and_moved_blocks_are_zero_when_the_inner_allocator_gets_them() {
        let a = WipingAllocator(Checking {
            nonzero_frees: Mutex::new(0),
            frees: Mutex::new(0),
        });
        let layout = Layout::from_size_align(64, 8).unwrap();
        unsafe {
            let p = a.alloc(layout);
            std::ptr::write_bytes(p, 0xA5, 64);
            // Grown: the old block is wiped and freed, the content moves.
            let q = a.realloc(p, layout, 4096);
            assert_eq!(*q.add(63), 0xA5);
            a.dealloc(q, Layout::from_size_align(4096, 8).unwrap());
        }
        assert_eq!(*a.0.frees.lock().unwrap(), 2);
        assert_eq!(*a.0.nonzero_frees.lock().unwrap(), 0);
        // The check itself sees non-zero frees.
        unsafe {
            let p = a.0.alloc(layout);
            std::ptr::write_bytes(p, 1, 64);
            a.0.dealloc(p, layout);
        }
        assert_eq!(*a.0.nonzero_frees.lock().unwrap(), 1);
    }

    #[test]
    fn derefs_to_the_value() {
        let w = WipeOnDrop::new([7u8; 48]);
        assert_eq!(w[47], 7);
        assert_eq!(format!("{w:?}"), "WipeOnDrop(<redacted>)");
    }
}
