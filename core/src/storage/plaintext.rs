//! Decrypted bytes handed to the caller, wiped in bulk when dropped.
//!
//! Why not `Zeroizing<Vec<u8>>`: zeroize's `Vec` implementation wipes
//! element by element (one volatile write per byte), which for a 1 MiB value
//! costs as much as decrypting it. Zeroize's slice implementation fills the
//! whole buffer at once and then keeps the compiler from eliding the fill
//! with an optimisation barrier: the same guarantee, at memset speed.

use core::fmt;
use core::ops::Deref;

use zeroize::{Zeroize, ZeroizeOnDrop};

/// A decrypted value ([`crate::storage::EnvelopeCipher::open`],
/// [`crate::storage::SecureStore::get`]): reads as the `Vec<u8>` it holds,
/// and is wiped (contents and spare capacity) when dropped. Read-only, so it
/// cannot grow and leave an unwiped copy behind a reallocation. `Debug`
/// prints the length only (LOG-2).
#[derive(Clone, PartialEq, Eq)]
pub struct Plaintext(Vec<u8>);

impl Plaintext {
    /// Takes ownership of `bytes` (they are wiped with the value).
    pub(crate) fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The bytes, to decrypt in place.
    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.0
    }

    /// Keeps the first `len` bytes; the rest stays in the allocation until
    /// the drop wipes it.
    pub(crate) fn truncate(&mut self, len: usize) {
        self.0.truncate(len);
    }
}

impl Deref for Plaintext {
    type Target = Vec<u8>;

    fn deref(&self) -> &Vec<u8> {
        &self.0
    }
}

impl AsRef<[u8]> for Plaintext {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Zeroize for Plaintext {
    fn zeroize(&mut self) {
        // Bulk fills (zeroize's slice impls), not the per-byte `Vec` impl.
        self.0.spare_capacity_mut().zeroize();
        self.0.as_mut_slice().zeroize();
        self.0.clear();
    }
}

impl Drop for Plaintext {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl ZeroizeOnDrop for Plaintext {}

impl Plaintext {
    /// The bytes, moved out without a copy, for the FFI layer's own wiped
    /// buffer (`mamori-ffi`'s `ItemBytes`). The caller takes over wiping them,
    /// contents and spare capacity, and must not grow the vector (a
    /// reallocation would leave an unwiped copy). Not for other uses: keep
    /// the `Plaintext`.
    #[doc(hidden)]
    pub fn into_ffi_buffer(mut self) -> Vec<u8> {
        std::mem::take(&mut self.0)
    }
}

impl fmt::Debug for Plaintext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Plaintext({} bytes, redacted)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeroize_empties_the_value_and_keeps_the_allocation() {
        let mut v = Vec::with_capacity(64);
        v.extend_from_slice(&[0xA5; 48]);
        v.truncate(32);
        let mut p = Plaintext::new(v);
        p.zeroize();
        assert!(p.is_empty());
        assert_eq!(p.capacity(), 64, "wiped where it lies, not reallocated");
    }

    #[test]
    fn the_ffi_buffer_is_the_allocation_itself() {
        let p = Plaintext::new(b"secret".to_vec());
        let at = p.as_ptr();
        let v = p.into_ffi_buffer();
        assert_eq!(v.as_ptr(), at, "moved, not copied");
        assert_eq!(v, b"secret");
    }

    #[test]
    fn debug_is_redacted() {
        let p = Plaintext::new(b"secret".to_vec());
        assert_eq!(format!("{p:?}"), "Plaintext(6 bytes, redacted)");
        assert_eq!(*p, b"secret");
    }
}
