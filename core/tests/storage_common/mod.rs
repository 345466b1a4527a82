//! Helpers shared by the storage integration tests.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use mamori::storage::{
    DEK_LEN, Kek, KekError, SecurityLevel, SoftwareKek, StoreOptions, StorePolicy,
};
use zeroize::Zeroizing;

/// A KEK wrapper that counts calls, and can be told to fail.
pub struct CountingKek {
    pub inner: Arc<dyn Kek>,
    pub wraps: AtomicUsize,
    pub unwraps: AtomicUsize,
    /// Fail every wrap after this many successful ones (usize::MAX: never).
    pub fail_wraps_after: AtomicUsize,
    /// Report this id instead of the inner one.
    pub id_override: Option<String>,
    /// Every call fails with KeyInvalidated.
    pub invalidated: std::sync::atomic::AtomicBool,
    /// `destroy()` fails with a backend error (a keystore that refuses deletion).
    pub refuse_destroy: std::sync::atomic::AtomicBool,
}

impl CountingKek {
    pub fn new(inner: Arc<dyn Kek>) -> Arc<Self> {
        Arc::new(Self {
            inner,
            wraps: AtomicUsize::new(0),
            unwraps: AtomicUsize::new(0),
            fail_wraps_after: AtomicUsize::new(usize::MAX),
            id_override: None,
            invalidated: Default::default(),
            refuse_destroy: Default::default(),
        })
    }

    pub fn software() -> Arc<Self> {
        Self::new(Arc::new(SoftwareKek::generate().unwrap()))
    }

    pub fn calls(&self) -> usize {
        self.wraps.load(Ordering::SeqCst) + self.unwraps.load(Ordering::SeqCst)
    }
}

impl Kek for CountingKek {
    fn key_id(&self) -> String {
        self.id_override
            .clone()
            .unwrap_or_else(|| self.inner.key_id())
    }
    fn security_level(&self) -> SecurityLevel {
        self.inner.security_level()
    }
    fn wrap(&self, dek: &[u8; DEK_LEN], aad: &[u8]) -> Result<Vec<u8>, KekError> {
        if self.invalidated.load(Ordering::SeqCst) {
            return Err(KekError::KeyInvalidated);
        }
        let n = self.wraps.fetch_add(1, Ordering::SeqCst);
        if n >= self.fail_wraps_after.load(Ordering::SeqCst) {
            return Err(KekError::Unavailable {
                reason: "test: keystore busy".into(),
            });
        }
        self.inner.wrap(dek, aad)
    }
    fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> Result<Zeroizing<[u8; DEK_LEN]>, KekError> {
        if self.invalidated.load(Ordering::SeqCst) {
            return Err(KekError::KeyInvalidated);
        }
        self.unwraps.fetch_add(1, Ordering::SeqCst);
        self.inner.unwrap(wrapped, aad)
    }
    fn destroy(&self) -> Result<(), KekError> {
        if self.refuse_destroy.load(Ordering::SeqCst) {
            return Err(KekError::Backend {
                reason: "test: keystore refuses deletion".into(),
            });
        }
        self.inner.destroy()
    }
}

/// Options that accept software KEKs.
pub fn soft_options() -> StoreOptions {
    StoreOptions {
        policy: StorePolicy::allow_software(),
        ..StoreOptions::default()
    }
}

/// A software KEK from fixed bytes.
pub fn fixed_kek(byte: u8) -> Arc<dyn Kek> {
    Arc::new(SoftwareKek::from_bytes(&Zeroizing::new([byte; DEK_LEN])))
}
