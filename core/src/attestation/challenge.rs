//! Server-side attestation challenges: random, single-use, expiring, and
//! bounded in number.
//!
//! An attestation proves what the hardware said *when it signed*. Without a
//! fresh challenge inside it, an attacker replays an attestation recorded on
//! a clean device (or on this device before it was rooted). The server
//! therefore issues a random challenge, the app puts it into the attestation
//! (`setAttestationChallenge` on Android, the client data hashed into the App
//! Attest nonce on iOS), and the server accepts the attestation only if the
//! challenge is one it issued, not yet used and not expired.
//!
//! [`ChallengeStore`] keeps the challenges in memory:
//!
//! - 32 bytes from the operating system's CSPRNG (`ring::rand::SystemRandom`);
//! - [`ChallengeStore::consume`] removes a challenge as it checks it, so a
//!   second use of the same challenge is refused (single use), even from two
//!   threads at once (one lock around check and removal);
//! - a challenge expires `ttl` after it was issued;
//! - at most `capacity` challenges are outstanding: issuing one more drops
//!   expired ones first, then the oldest. Memory is bounded whatever a client
//!   sends or requests; a client whose challenge was dropped gets
//!   [`ChallengeError::Unknown`] and asks for a new one. (Refusing to issue
//!   instead would let anyone stop every other client by requesting
//!   challenges.)
//!
//! Time is always passed in, as in the verifiers: no wall clock inside. A
//! server with several instances needs a shared store (a database with the
//! same rules); this one serves one process.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use ring::rand::{SecureRandom as _, SystemRandom};
use time::{Duration, OffsetDateTime};

/// Bytes in a challenge.
pub const CHALLENGE_BYTES: usize = 32;

/// A challenge as issued: its bytes (to send to the app, e.g. in base64) and
/// when it expires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// The random bytes.
    pub bytes: [u8; CHALLENGE_BYTES],
    /// The instant from which it is refused.
    pub expires_at: OffsetDateTime,
}

/// Why a challenge was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChallengeError {
    /// Never issued, already used, or dropped to keep the store bounded.
    #[error("unknown challenge: not issued by this server, already used, or dropped")]
    Unknown,
    /// Issued, but used at or after its expiry (it is removed now).
    #[error("challenge expired at {expires_at} (now {now})")]
    Expired {
        /// When it expired.
        expires_at: OffsetDateTime,
        /// The time it was presented.
        now: OffsetDateTime,
    },
    /// Not [`CHALLENGE_BYTES`] long: it cannot be one of ours.
    #[error("a challenge is {CHALLENGE_BYTES} bytes, got {0}")]
    Length(usize),
    /// The operating system's random generator failed.
    #[error("the system random generator failed")]
    Random,
    /// A store parameter is out of range.
    #[error("{0}")]
    Config(&'static str),
}

#[derive(Default)]
struct Inner {
    /// Challenge -> (issue sequence number, expiry).
    live: HashMap<[u8; CHALLENGE_BYTES], (u64, OffsetDateTime)>,
    /// Issue sequence number -> challenge: oldest first.
    order: BTreeMap<u64, [u8; CHALLENGE_BYTES]>,
    next: u64,
}

impl Inner {
    fn remove(&mut self, bytes: &[u8; CHALLENGE_BYTES]) -> Option<OffsetDateTime> {
        let (seq, expires_at) = self.live.remove(bytes)?;
        self.order.remove(&seq);
        Some(expires_at)
    }
}

/// Outstanding challenges of one server process. Thread-safe: share it (in an
/// `Arc`) between request handlers.
pub struct ChallengeStore {
    ttl: Duration,
    capacity: usize,
    rng: SystemRandom,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for ChallengeStore {
    // The outstanding challenges are bearer values: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChallengeStore")
            .field("ttl", &self.ttl)
            .field("capacity", &self.capacity)
            .field("outstanding", &self.len())
            .finish()
    }
}

impl ChallengeStore {
    /// Largest `capacity` accepted.
    pub const MAX_CAPACITY: usize = 1 << 24;
    /// Longest `ttl` accepted: an attestation round trip takes seconds.
    pub const MAX_TTL: Duration = Duration::hours(1);

    /// A store whose challenges expire `ttl` after issue, holding at most
    /// `capacity` of them. `ttl` must be positive and at most
    /// [`Self::MAX_TTL`]; `capacity` between 1 and [`Self::MAX_CAPACITY`].
    pub fn new(ttl: Duration, capacity: usize) -> Result<Self, ChallengeError> {
        if !ttl.is_positive() || ttl > Self::MAX_TTL {
            return Err(ChallengeError::Config(
                "challenge ttl must be positive and at most one hour",
            ));
        }
        if capacity == 0 || capacity > Self::MAX_CAPACITY {
            return Err(ChallengeError::Config(
                "challenge capacity must be between 1 and 2^24",
            ));
        }
        Ok(Self {
            ttl,
            capacity,
            rng: SystemRandom::new(),
            inner: Mutex::new(Inner::default()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The state stays consistent across a panic (every change is one
        // insert or remove pair), so a poisoned lock is used as is.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Issues a fresh challenge at `now`.
    pub fn issue(&self, now: OffsetDateTime) -> Result<Challenge, ChallengeError> {
        let mut bytes = [0u8; CHALLENGE_BYTES];
        self.rng
            .fill(&mut bytes)
            .map_err(|_| ChallengeError::Random)?;
        let expires_at = now + self.ttl;
        let mut inner = self.lock();
        // Full: drop the oldest. With one ttl and time moving forward the
        // oldest are also the first to expire, so expired ones go first.
        while inner.live.len() >= self.capacity {
            let Some((&seq, &oldest)) = inner.order.iter().next() else {
                break;
            };
            inner.order.remove(&seq);
            inner.live.remove(&oldest);
        }
        let seq = inner.next;
        inner.next += 1;
        // 2^-256: a collision with a live challenge is not a case to handle.
        inner.live.insert(bytes, (seq, expires_at));
        inner.order.insert(seq, bytes);
        Ok(Challenge { bytes, expires_at })
    }

    /// Checks and uses up `challenge` at `now`: `Ok` once for each issued,
    /// unexpired challenge, an error for anything else. The challenge is gone
    /// afterwards either way.
    pub fn consume(&self, challenge: &[u8], now: OffsetDateTime) -> Result<(), ChallengeError> {
        let bytes: &[u8; CHALLENGE_BYTES] = challenge
            .try_into()
            .map_err(|_| ChallengeError::Length(challenge.len()))?;
        let expires_at = self.lock().remove(bytes).ok_or(ChallengeError::Unknown)?;
        if now >= expires_at {
            return Err(ChallengeError::Expired { expires_at, now });
        }
        Ok(())
    }

    /// Drops every challenge expired at `now`; returns how many. Issuing does
    /// this as needed; call it from a timer to release memory sooner.
    pub fn purge_expired(&self, now: OffsetDateTime) -> usize {
        let mut inner = self.lock();
        let expired: Vec<[u8; CHALLENGE_BYTES]> = inner
            .live
            .iter()
            .filter(|(_, (_, e))| now >= *e)
            .map(|(b, _)| *b)
            .collect();
        for b in &expired {
            inner.remove(b);
        }
        expired.len()
    }

    /// Outstanding challenges (expired ones not yet purged included).
    pub fn len(&self) -> usize {
        self.lock().live.len()
    }

    /// Whether no challenge is outstanding.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
