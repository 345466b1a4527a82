//! Envelope encryption of one value: the format, the data-key cache and
//! [`EnvelopeCipher`].
//!
//! The byte layout is specified in `docs/envelope-format.md`. In short:
//!
//! ```text
//! "MMRE" ‖ version=1 ‖ alg=1 ‖ flags=0 ‖ nonce(12)        fixed part (19 bytes)
//! ‖ K(1) ‖ kek_id(K) ‖ W(2, BE) ‖ wrapped_dek(W)           key part
//! ‖ ciphertext ‖ tag(16)                                   AES-256-GCM under the DEK
//! ```
//!
//! Two bindings protect it, and why there are two is the main design choice:
//! the payload's associated data is the *fixed part* plus the caller's context
//! (item name, store id), so a ciphertext cannot be moved to another item; the
//! *key part* is bound by the KEK's own AEAD (the KEK id is in the wrap's
//! associated data). Keeping the key part out of the payload's AAD is what lets a
//! KEK rotation re-wrap data keys without re-encrypting payloads (DATA-2).
//!
//! A DEK is reused for a bounded time and number of messages ([`CachePolicy`]) so
//! that bulk work touches the hardware KEK once per session, not once per item
//! (NEW-1: plaintext DEKs live only in `Zeroizing` buffers and are dropped when
//! they expire). Nonces under a reused DEK come from a per-DEK counter masked by a
//! random base, so they never repeat while the DEK seals.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use super::aead::{AeadKey, NONCE_SIZE, TAG_LEN};
use super::error::{KekError, StorageError};
use super::kek::{DEK_LEN, Kek};
use super::plaintext::Plaintext;

/// Magic bytes of a single-value envelope.
pub(super) const ENVELOPE_MAGIC: [u8; 4] = *b"MMRE";
/// Current format version.
pub(super) const FORMAT_VERSION: u8 = 1;
/// Algorithm 1: AES-256-GCM, 96-bit nonce, 128-bit tag, DEK wrapped by a KEK.
pub(super) const ALG_AES256_GCM: u8 = 1;
/// Length of the fixed part of the header.
pub const FIXED_HEADER_LEN: usize = 4 + 1 + 1 + 1 + NONCE_SIZE;
/// Largest wrapped DEK accepted (ECIES on P-256 is 113 bytes; RSA-4096 OAEP 512).
pub(super) const MAX_WRAPPED_LEN: usize = 1024;
/// Domain separator of the associated data given to the KEK when wrapping a DEK.
pub(super) const WRAP_AAD_DOMAIN: &[u8] = b"mamori dek v1";

/// A plaintext data key and its expanded AES key. Zeroized on drop.
pub(crate) struct Dek {
    pub(crate) bytes: Zeroizing<[u8; DEK_LEN]>,
    pub(crate) key: AeadKey,
}

impl fmt::Debug for Dek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Dek(<redacted>)")
    }
}

impl Dek {
    fn new(bytes: Zeroizing<[u8; DEK_LEN]>) -> Self {
        let key = AeadKey::new(bytes.as_ref()).expect("32-byte key");
        Self { bytes, key }
    }
}

/// How long and how much a data key may be reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachePolicy {
    /// How long a plaintext DEK stays in memory after it was created or unwrapped.
    /// Zero disables caching: every seal wraps a fresh DEK, every open unwraps.
    pub max_age: Duration,
    /// How many values one DEK may seal before a fresh one is made.
    pub max_seals_per_dek: u64,
    /// How many unwrapped DEKs are kept for opening.
    pub max_entries: usize,
}

impl Default for CachePolicy {
    /// Ten minutes, a million seals, 64 unwrapped keys.
    fn default() -> Self {
        Self {
            max_age: Duration::from_secs(600),
            max_seals_per_dek: 1 << 20,
            max_entries: 64,
        }
    }
}

impl CachePolicy {
    /// No caching: the KEK is called for every seal and every open.
    pub fn disabled() -> Self {
        Self {
            max_age: Duration::ZERO,
            max_seals_per_dek: 1,
            max_entries: 0,
        }
    }

    fn enabled(&self) -> bool {
        !self.max_age.is_zero() && self.max_entries > 0
    }
}

/// The DEK currently used for sealing.
pub(crate) struct SealingDek {
    pub(crate) dek: Arc<Dek>,
    pub(crate) wrapped: Arc<[u8]>,
    nonce_base: [u8; NONCE_SIZE],
    next: u64,
    created: Instant,
}

impl SealingDek {
    fn next_nonce(&mut self) -> [u8; NONCE_SIZE] {
        let mut nonce = self.nonce_base;
        for (n, c) in nonce[4..].iter_mut().zip(self.next.to_be_bytes()) {
            *n ^= c;
        }
        self.next += 1;
        nonce
    }
}

#[derive(Default)]
struct CacheState {
    sealing: Option<SealingDek>,
    opened: HashMap<Arc<[u8]>, (Arc<Dek>, Instant)>,
}

/// A data key held for the length of one operation, with its wrapped form:
/// sealing and opening under it need no KEK call. The passcode operations get
/// their keys this way before they take the passcode lock (issue 9 item 12).
#[derive(Clone)]
pub(crate) struct HeldKey {
    dek: Arc<Dek>,
    wrapped: Arc<[u8]>,
}

impl fmt::Debug for HeldKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HeldKey(<redacted>)")
    }
}

/// Parsed key part of a header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPart {
    /// Id of the KEK that wrapped the DEK.
    pub kek_id: String,
    /// The wrapped DEK (opaque to Mamori: its format is the KEK's).
    pub wrapped_dek: Vec<u8>,
}

impl KeyPart {
    pub(crate) fn encode_into(kek_id: &str, wrapped: &[u8], out: &mut Vec<u8>) {
        out.push(kek_id.len() as u8);
        out.extend_from_slice(kek_id.as_bytes());
        out.extend_from_slice(&(wrapped.len() as u16).to_be_bytes());
        out.extend_from_slice(wrapped);
    }

    /// Parses a key part at the start of `bytes`; returns it and its length.
    pub(crate) fn parse(bytes: &[u8]) -> Result<(Self, usize), StorageError> {
        let (kek_id, wrapped, len) = Self::parse_ref(bytes)?;
        Ok((
            Self {
                kek_id: kek_id.to_owned(),
                wrapped_dek: wrapped.to_vec(),
            },
            len,
        ))
    }

    /// Borrowing parse: `(kek_id, wrapped_dek, length of the key part)`.
    pub(crate) fn parse_ref(bytes: &[u8]) -> Result<(&str, &[u8], usize), StorageError> {
        let k = *bytes.first().ok_or(StorageError::Malformed {
            reason: "truncated before the key id length",
        })? as usize;
        if k == 0 {
            return Err(StorageError::Malformed {
                reason: "empty key id",
            });
        }
        let id = bytes.get(1..1 + k).ok_or(StorageError::Malformed {
            reason: "truncated key id",
        })?;
        let kek_id = std::str::from_utf8(id).map_err(|_| StorageError::Malformed {
            reason: "key id is not UTF-8",
        })?;
        let w = bytes.get(1 + k..3 + k).ok_or(StorageError::Malformed {
            reason: "truncated before the wrapped key length",
        })?;
        let w = u16::from_be_bytes([w[0], w[1]]) as usize;
        if w == 0 || w > MAX_WRAPPED_LEN {
            return Err(StorageError::Malformed {
                reason: "wrapped key length out of range",
            });
        }
        let wrapped = bytes.get(3 + k..3 + k + w).ok_or(StorageError::Malformed {
            reason: "truncated wrapped key",
        })?;
        Ok((kek_id, wrapped, 3 + k + w))
    }
}

/// A parsed envelope header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopeHeader {
    /// The payload nonce.
    pub nonce: [u8; NONCE_SIZE],
    /// KEK id and wrapped DEK.
    pub key: KeyPart,
    /// Offset of the ciphertext in the envelope.
    pub body_offset: usize,
}

impl EnvelopeHeader {
    /// Parses the header of an envelope without using any key.
    pub fn parse(envelope: &[u8]) -> Result<Self, StorageError> {
        let h = HeaderRef::parse(envelope)?;
        Ok(Self {
            nonce: h.nonce,
            key: KeyPart {
                kek_id: h.kek_id.to_owned(),
                wrapped_dek: h.wrapped.to_vec(),
            },
            body_offset: h.body_offset,
        })
    }
}

/// A parsed header borrowing from the envelope (no allocation on the hot path).
pub(crate) struct HeaderRef<'a> {
    pub(crate) nonce: [u8; NONCE_SIZE],
    pub(crate) kek_id: &'a str,
    pub(crate) wrapped: &'a [u8],
    pub(crate) body_offset: usize,
}

impl<'a> HeaderRef<'a> {
    pub(crate) fn parse(envelope: &'a [u8]) -> Result<Self, StorageError> {
        if envelope.len() < FIXED_HEADER_LEN {
            return Err(StorageError::Malformed {
                reason: "shorter than the fixed header",
            });
        }
        if envelope[..4] != ENVELOPE_MAGIC {
            return Err(StorageError::Malformed {
                reason: "bad magic",
            });
        }
        if envelope[4] != FORMAT_VERSION {
            return Err(StorageError::Malformed {
                reason: "unsupported format version",
            });
        }
        if envelope[5] != ALG_AES256_GCM {
            return Err(StorageError::Malformed {
                reason: "unsupported algorithm",
            });
        }
        if envelope[6] != 0 {
            return Err(StorageError::Malformed {
                reason: "unknown flags set",
            });
        }
        let mut nonce = [0u8; NONCE_SIZE];
        nonce.copy_from_slice(&envelope[7..FIXED_HEADER_LEN]);
        let (kek_id, wrapped, len) = KeyPart::parse_ref(&envelope[FIXED_HEADER_LEN..])?;
        let body_offset = FIXED_HEADER_LEN + len;
        if envelope.len() < body_offset + TAG_LEN {
            return Err(StorageError::Malformed {
                reason: "shorter than the authentication tag",
            });
        }
        Ok(Self {
            nonce,
            kek_id,
            wrapped,
            body_offset,
        })
    }
}

/// The associated data of the payload: fixed header ‖ u32 BE len(context) ‖ context.
fn payload_aad(fixed: &[u8], context: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(fixed.len() + 4 + context.len());
    aad.extend_from_slice(fixed);
    aad.extend_from_slice(&(context.len() as u32).to_be_bytes());
    aad.extend_from_slice(context);
    aad
}

/// The associated data given to the KEK: domain ‖ K ‖ kek_id.
pub(crate) fn wrap_aad(kek_id: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(WRAP_AAD_DOMAIN.len() + 1 + kek_id.len());
    aad.extend_from_slice(WRAP_AAD_DOMAIN);
    aad.push(kek_id.len() as u8);
    aad.extend_from_slice(kek_id.as_bytes());
    aad
}

/// A copy of `envelope` with its key part replaced; fixed part and ciphertext unchanged.
pub(crate) fn replace_key_part(
    envelope: &[u8],
    header: &EnvelopeHeader,
    kek_id: &str,
    wrapped: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(envelope.len() + 64);
    out.extend_from_slice(&envelope[..FIXED_HEADER_LEN]);
    KeyPart::encode_into(kek_id, wrapped, &mut out);
    out.extend_from_slice(&envelope[header.body_offset..]);
    out
}

/// Seals and opens envelopes under one KEK, with a bounded DEK cache.
pub struct EnvelopeCipher {
    kek: Arc<dyn Kek>,
    kek_id: String,
    wrap_aad: Vec<u8>,
    policy: CachePolicy,
    state: Mutex<CacheState>,
    rng: SystemRandom,
}

impl fmt::Debug for EnvelopeCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvelopeCipher")
            .field("kek_id", &self.kek_id)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl EnvelopeCipher {
    /// A cipher for `kek`. Fails if the KEK id is empty or longer than 255 bytes.
    pub fn new(kek: Arc<dyn Kek>, policy: CachePolicy) -> Result<Self, StorageError> {
        let kek_id = kek.key_id();
        if kek_id.is_empty() || kek_id.len() > 255 {
            return Err(StorageError::InvalidInput {
                what: "KEK id",
                reason: format!("{} bytes, expected 1..=255", kek_id.len()),
            });
        }
        Ok(Self {
            wrap_aad: wrap_aad(&kek_id),
            kek,
            kek_id,
            policy,
            state: Mutex::new(CacheState::default()),
            rng: SystemRandom::new(),
        })
    }

    /// The KEK's id.
    pub fn kek_id(&self) -> &str {
        &self.kek_id
    }

    /// The KEK.
    pub fn kek(&self) -> &Arc<dyn Kek> {
        &self.kek
    }

    /// Drops every cached plaintext DEK now (e.g. when the app goes to background).
    pub fn clear_cache(&self) {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.sealing = None;
        st.opened.clear();
    }

    fn random<const N: usize>(&self) -> Result<[u8; N], StorageError> {
        let mut b = [0u8; N];
        self.rng.fill(&mut b).map_err(|_| {
            StorageError::Kek(KekError::Backend {
                reason: "system random generator failed".into(),
            })
        })?;
        Ok(b)
    }

    /// Runs `f` with the current sealing DEK (making and wrapping a fresh one if
    /// there is none, or it expired), and a fresh nonce under it.
    ///
    /// The cache mutex is never held across the KEK call (issue 9 item 12): a
    /// hardware KEK may take seconds (StrongBox, a biometric prompt) and must not
    /// stall every other seal and open, and a KEK that calls back into the store
    /// must not deadlock. Two threads that both find the sealing key expired may
    /// both make one; the last installed seals from then on, and each seals its
    /// own value with the key it made (nonces are per key, so none repeats).
    pub(crate) fn with_sealing_dek<T>(
        &self,
        f: impl FnOnce(&Dek, &[u8], [u8; NONCE_SIZE]) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let (dek, wrapped, nonce) = self.sealing_dek()?;
        f(&dek, &wrapped, nonce)
    }

    /// The current sealing DEK, its wrapped form and a fresh nonce under it (see
    /// [`Self::with_sealing_dek`]).
    #[allow(clippy::type_complexity)]
    fn sealing_dek(&self) -> Result<(Arc<Dek>, Arc<[u8]>, [u8; NONCE_SIZE]), StorageError> {
        let now = Instant::now();
        let current = {
            let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            match &mut st.sealing {
                Some(s)
                    if now.duration_since(s.created) < self.policy.max_age
                        && s.next < self.policy.max_seals_per_dek =>
                {
                    Some((s.dek.clone(), s.wrapped.clone(), s.next_nonce()))
                }
                _ => None,
            }
        };
        if let Some(current) = current {
            return Ok(current);
        }
        // A fresh key, wrapped without the lock.
        let bytes = Zeroizing::new(self.random::<DEK_LEN>()?);
        let wrapped: Arc<[u8]> = self.kek.wrap(&bytes, &self.wrap_aad)?.into();
        if wrapped.is_empty() || wrapped.len() > MAX_WRAPPED_LEN {
            return Err(StorageError::Kek(KekError::Backend {
                reason: format!("KEK returned a {}-byte wrapped key", wrapped.len()),
            }));
        }
        let dek = Arc::new(Dek::new(bytes));
        let mut sealing = SealingDek {
            dek: dek.clone(),
            wrapped: wrapped.clone(),
            nonce_base: self.random()?,
            next: 0,
            created: now,
        };
        let nonce = sealing.next_nonce();
        if self.policy.enabled() {
            let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            Self::insert_opened(
                &mut st.opened,
                &self.policy,
                wrapped.clone(),
                dek.clone(),
                now,
            );
            st.sealing = Some(sealing);
        }
        Ok((dek, wrapped, nonce))
    }

    /// The data key of `envelope`, held for one operation (a KEK call unless it
    /// is cached). Errors as [`EnvelopeCipher::open`]'s key part.
    pub(crate) fn hold_key_of(&self, envelope: &[u8]) -> Result<HeldKey, StorageError> {
        let header = HeaderRef::parse(envelope)?;
        self.check_kek(header.kek_id)?;
        Ok(HeldKey {
            dek: self.unwrap_dek(header.wrapped)?,
            wrapped: header.wrapped.into(),
        })
    }

    /// The current sealing key (a fresh one, wrapped by the KEK, if none is
    /// cached), held for one operation.
    pub(crate) fn hold_sealing_key(&self) -> Result<HeldKey, StorageError> {
        let (dek, wrapped, _) = self.sealing_dek()?;
        Ok(HeldKey { dek, wrapped })
    }

    /// Seals under a held key with a random nonce: no KEK call. The key may have
    /// sealed other envelopes (it is the key of the file being replaced): random
    /// 96-bit nonces, as NIST SP 800-38D allows for up to 2^32 messages a key.
    pub(crate) fn seal_with(
        &self,
        key: &HeldKey,
        context: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, StorageError> {
        let mut out = Vec::new();
        self.seal_parts(
            &key.dek,
            &key.wrapped,
            self.random()?,
            context,
            plaintext,
            &mut out,
        )?;
        Ok(out)
    }

    /// Opens `envelope` with a held key: no KEK call. `Ok(None)` when the
    /// envelope is not under that key (rewritten or rotated since it was held).
    pub(crate) fn open_with(
        &self,
        key: &HeldKey,
        context: &[u8],
        envelope: &[u8],
    ) -> Result<Option<Plaintext>, StorageError> {
        let header = HeaderRef::parse(envelope)?;
        if header.kek_id != self.kek_id || header.wrapped != &*key.wrapped {
            return Ok(None);
        }
        self.decrypt_copy(
            &key.dek,
            header.nonce,
            header.body_offset,
            context,
            envelope,
        )
        .map(Some)
    }

    fn insert_opened(
        opened: &mut HashMap<Arc<[u8]>, (Arc<Dek>, Instant)>,
        policy: &CachePolicy,
        wrapped: Arc<[u8]>,
        dek: Arc<Dek>,
        now: Instant,
    ) {
        opened.retain(|_, (_, t)| now.duration_since(*t) < policy.max_age);
        if opened.len() >= policy.max_entries {
            opened.clear();
        }
        opened.insert(wrapped, (dek, now));
    }

    /// Unwraps a DEK, from the cache when possible.
    pub(crate) fn unwrap_dek(&self, wrapped: &[u8]) -> Result<Arc<Dek>, StorageError> {
        let now = Instant::now();
        if self.policy.enabled() {
            let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(s) = &st.sealing {
                if &*s.wrapped == wrapped && now.duration_since(s.created) < self.policy.max_age {
                    return Ok(s.dek.clone());
                }
            }
            if let Some((dek, t)) = st.opened.get(wrapped) {
                if now.duration_since(*t) < self.policy.max_age {
                    return Ok(dek.clone());
                }
                st.opened.remove(wrapped);
            }
        }
        let bytes = self.kek.unwrap(wrapped, &self.wrap_aad)?;
        let dek = Arc::new(Dek::new(bytes));
        if self.policy.enabled() {
            let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            Self::insert_opened(
                &mut st.opened,
                &self.policy,
                wrapped.into(),
                dek.clone(),
                now,
            );
        }
        Ok(dek)
    }

    /// Wraps an existing DEK under this cipher's KEK (used by rotation).
    pub(crate) fn wrap_dek(&self, dek: &Dek) -> Result<Vec<u8>, StorageError> {
        Ok(self.kek.wrap(&dek.bytes, &self.wrap_aad)?)
    }

    /// Checks that a header names this cipher's KEK.
    pub(crate) fn check_kek(&self, kek_id: &str) -> Result<(), StorageError> {
        if kek_id != self.kek_id {
            return Err(StorageError::WrongKek {
                expected: self.kek_id.clone(),
                found: kek_id.to_owned(),
            });
        }
        Ok(())
    }

    /// Encrypts `plaintext`, binding `context` (e.g. the item name) to it.
    pub fn seal(&self, context: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, StorageError> {
        let mut out = Vec::new();
        self.seal_into(context, plaintext, &mut out)?;
        Ok(out)
    }

    /// [`EnvelopeCipher::seal`] appending the envelope to `out` (reuse a buffer).
    pub fn seal_into(
        &self,
        context: &[u8],
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), StorageError> {
        self.with_sealing_dek(|dek, wrapped, nonce| {
            self.seal_parts(dek, wrapped, nonce, context, plaintext, out)
        })
    }

    /// Appends the envelope of `plaintext` under `dek` (wrapped as `wrapped`) and `nonce`.
    fn seal_parts(
        &self,
        dek: &Dek,
        wrapped: &[u8],
        nonce: [u8; NONCE_SIZE],
        context: &[u8],
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), StorageError> {
        let start = out.len();
        out.reserve(
            FIXED_HEADER_LEN + 3 + self.kek_id.len() + wrapped.len() + plaintext.len() + TAG_LEN,
        );
        out.extend_from_slice(&ENVELOPE_MAGIC);
        out.extend_from_slice(&[FORMAT_VERSION, ALG_AES256_GCM, 0]);
        out.extend_from_slice(&nonce);
        let aad = payload_aad(&out[start..start + FIXED_HEADER_LEN], context);
        KeyPart::encode_into(&self.kek_id, wrapped, out);
        let body = out.len();
        out.extend_from_slice(plaintext);
        dek.key.seal_in_place_from(&nonce, &aad, out, body)
    }

    /// Decrypts an envelope sealed with the same `context` into a new, zeroizing
    /// buffer.
    ///
    /// Errors: [`StorageError::Malformed`] before any key is used,
    /// [`StorageError::WrongKek`] if the envelope names another KEK,
    /// [`StorageError::Kek`] with [`KekError::UnwrapFailed`] if the wrapped DEK is
    /// rejected, [`StorageError::AuthenticationFailed`] if the payload is.
    pub fn open(&self, context: &[u8], envelope: &[u8]) -> Result<Plaintext, StorageError> {
        self.open_copy(context, envelope, false)
    }

    /// Decrypts in the caller's buffer (no allocation, no copy); returns the
    /// plaintext, a sub-slice of `envelope`. The caller owns the buffer and its
    /// zeroization. Same errors as [`EnvelopeCipher::open`].
    pub fn open_in_place<'a>(
        &self,
        context: &[u8],
        envelope: &'a mut [u8],
    ) -> Result<&'a mut [u8], StorageError> {
        let (nonce, offset, dek) = self.prepare_open(envelope, false)?;
        let aad = payload_aad(&envelope[..FIXED_HEADER_LEN], context);
        dek.key.open_in_place(&nonce, &aad, &mut envelope[offset..])
    }

    /// [`EnvelopeCipher::open`] that asks the KEK even if the DEK is cached.
    pub(crate) fn open_uncached(
        &self,
        context: &[u8],
        envelope: &[u8],
    ) -> Result<Plaintext, StorageError> {
        self.open_copy(context, envelope, true)
    }

    /// Copies only the ciphertext into a zeroizing buffer and decrypts it there.
    fn open_copy(
        &self,
        context: &[u8],
        envelope: &[u8],
        uncached: bool,
    ) -> Result<Plaintext, StorageError> {
        let (nonce, offset, dek) = self.prepare_open(envelope, uncached)?;
        self.decrypt_copy(&dek, nonce, offset, context, envelope)
    }

    /// Copies the ciphertext at `offset` into a zeroizing buffer and decrypts it there.
    fn decrypt_copy(
        &self,
        dek: &Dek,
        nonce: [u8; NONCE_SIZE],
        offset: usize,
        context: &[u8],
        envelope: &[u8],
    ) -> Result<Plaintext, StorageError> {
        let aad = payload_aad(&envelope[..FIXED_HEADER_LEN], context);
        let mut buf = Plaintext::new(envelope[offset..].to_vec());
        let len = dek.key.open_in_place(&nonce, &aad, buf.bytes_mut())?.len();
        buf.truncate(len);
        Ok(buf)
    }

    /// Parses the header, checks the KEK id and gets the DEK (cached unless `uncached`).
    fn prepare_open(
        &self,
        envelope: &[u8],
        uncached: bool,
    ) -> Result<([u8; NONCE_SIZE], usize, Arc<Dek>), StorageError> {
        let header = HeaderRef::parse(envelope)?;
        self.check_kek(header.kek_id)?;
        let dek = if uncached {
            Arc::new(Dek::new(self.kek.unwrap(header.wrapped, &self.wrap_aad)?))
        } else {
            self.unwrap_dek(header.wrapped)?
        };
        Ok((header.nonce, header.body_offset, dek))
    }

    /// Re-wraps the envelope's DEK under `to`'s KEK. The fixed part and the
    /// ciphertext are copied unchanged: no payload is re-encrypted.
    pub fn rewrap(&self, envelope: &[u8], to: &EnvelopeCipher) -> Result<Vec<u8>, StorageError> {
        let header = EnvelopeHeader::parse(envelope)?;
        let new_wrapped = self.rewrap_key_part(&header.key, to)?;
        Ok(replace_key_part(
            envelope,
            &header,
            &to.kek_id,
            &new_wrapped,
        ))
    }

    /// Unwraps a key part with this cipher and wraps the DEK with `to`.
    pub(crate) fn rewrap_key_part(
        &self,
        key: &KeyPart,
        to: &EnvelopeCipher,
    ) -> Result<Vec<u8>, StorageError> {
        self.check_kek(&key.kek_id)?;
        let dek = self.unwrap_dek(&key.wrapped_dek)?;
        to.wrap_dek(&dek)
    }
}

#[cfg(test)]
mod tests {
    use super::super::kek::SoftwareKek;
    use super::*;

    fn cipher(policy: CachePolicy) -> EnvelopeCipher {
        EnvelopeCipher::new(Arc::new(SoftwareKek::generate().unwrap()), policy).unwrap()
    }

    #[test]
    fn nonces_do_not_repeat_under_one_dek() {
        let c = cipher(CachePolicy::default());
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1000 {
            let env = c.seal(b"x", b"v").unwrap();
            let h = EnvelopeHeader::parse(&env).unwrap();
            assert!(seen.insert(h.nonce));
        }
    }

    #[test]
    fn sealing_dek_is_replaced_after_max_seals() {
        let c = cipher(CachePolicy {
            max_seals_per_dek: 3,
            ..CachePolicy::default()
        });
        let wrapped: Vec<_> = (0..7)
            .map(|_| {
                EnvelopeHeader::parse(&c.seal(b"", b"").unwrap())
                    .unwrap()
                    .key
                    .wrapped_dek
            })
            .collect();
        assert_eq!(wrapped[0], wrapped[2]);
        assert_ne!(wrapped[2], wrapped[3]);
        assert_eq!(wrapped[3], wrapped[5]);
        assert_ne!(wrapped[5], wrapped[6]);
    }

    #[test]
    fn disabled_cache_uses_a_fresh_dek_each_time() {
        let c = cipher(CachePolicy::disabled());
        let a = EnvelopeHeader::parse(&c.seal(b"", b"a").unwrap()).unwrap();
        let b = EnvelopeHeader::parse(&c.seal(b"", b"b").unwrap()).unwrap();
        assert_ne!(a.key.wrapped_dek, b.key.wrapped_dek);
    }
}
