//! A local passcode verifier (DEV-3, APP-1) kept inside the secure store.
//!
//! The passcode itself is never stored: only a PBKDF2-HMAC-SHA256 hash (ring) with
//! a random salt and a configurable iteration count (at least
//! [`MIN_PBKDF2_ITERATIONS`], OWASP 2023; the floors can be waived only by the
//! test-only [`PolicyFloors::WaivedForTestsOnly`]), and ring's verification
//! compares in constant time. Empty passcodes are always refused. The verifier state, including the failure counter,
//! lives in the store (sealed like any item), so it is protected by the KEK and
//! written atomically.
//!
//! The failure counter is incremented and persisted *before* the (slow) hash is
//! checked and reset only after a success, so killing the app during a wrong
//! attempt does not erase the attempt. After `free_attempts` failures each further
//! failure doubles the lock-out, up to `max_delay`; optionally the whole store is
//! wiped after `wipe_after` failures. Time is an input (`now`), which keeps the
//! policy testable; the app should pass wall-clock time. Limits: an attacker who
//! can roll the store directory back to an older copy also rolls back the counter
//! (only a hardware counter prevents that), and moving the clock forward shortens
//! a lock-out.
//!
//! **Locks.** No lock is held across a KEK call (issue 9 item 12). Each of set,
//! remove and verify runs in two steps. Step 1, with no lock held, gets the data
//! keys it needs from the KEK: the canary's and the passcode file's (or, for a
//! first passcode, the current sealing key). Step 2 takes the store's passcode
//! mutex and, with those keys and no foreign call, reads the canary and the
//! verifier state, checks the lock-out, counts the attempt and writes the state
//! back atomically under the *same* data key (a fresh random nonce), so that
//! nothing another thread holds goes stale. If a file is no longer under a held
//! key (a rotation committed in between, or a concurrent set made the file under
//! a new key), step 2 writes nothing and the operation starts again from step 1;
//! after `PASSCODE_ROUNDS` rounds it fails with
//! [`StorageError::RotationContended`], having counted nothing. Attempts are
//! counted one at a time under the mutex, so concurrent guesses never lose an
//! increment (two processes cannot share a store: see `store`). PBKDF2 runs after
//! the attempt is durable and without the mutex; a success then clears the
//! failures counted up to and including itself (guesses counted after it stay),
//! unless the passcode was replaced meanwhile. A KEK may therefore be slow, or
//! call a passcode operation of the same store from inside its own
//! `wrap`/`unwrap`, without stalling or deadlocking the others. The wipe after
//! too many failures runs after the mutex is released.

use std::num::NonZeroU32;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ring::pbkdf2;
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::{Zeroize, Zeroizing};

use super::error::{KekError, StorageError};
use super::store::{HeldKeys, SecureStore};

const KDF_NAME: &str = "pbkdf2-hmac-sha256";

/// The fewest PBKDF2-HMAC-SHA256 iterations [`SecureStore::set_passcode`] accepts
/// (OWASP Password Storage Cheat Sheet, 2023).
pub const MIN_PBKDF2_ITERATIONS: u32 = 600_000;

/// The smallest `min_length` [`SecureStore::set_passcode`] accepts: a 4-digit PIN,
/// the shortest lock-screen PIN Android and iOS allow. With the back-off and an
/// optional wipe this bounds on-device guessing; an attacker with a copy of the
/// store still needs the KEK. The default policy asks for 6.
pub const MIN_PASSCODE_LENGTH_FLOOR: usize = 4;

/// Whether the floors on a [`PasscodePolicy`] apply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyFloors {
    /// Production: at least [`MIN_PBKDF2_ITERATIONS`] iterations and a
    /// `min_length` of at least [`MIN_PASSCODE_LENGTH_FLOOR`].
    #[default]
    Enforced,
    /// **Tests only**: accept fewer iterations and a shorter `min_length`, so that
    /// test suites run fast. Never use this in an app; the FFI does not expose it.
    /// An empty passcode is refused even here.
    WaivedForTestsOnly,
}
const SALT_LEN: usize = 16;
const HASH_LEN: usize = 32;
/// Rounds a passcode operation tries when the store's key keeps changing under
/// it (rotations committing between its steps).
const PASSCODE_ROUNDS: u32 = 8;

/// Which key of the passcode file step 1 of an operation gets.
#[derive(Clone, Copy, PartialEq, Eq)]
enum FileKey {
    /// None (the operation does not read or write the file).
    None,
    /// The file's own, if it exists.
    Existing,
    /// The file's own, or the current sealing key for a file that does not exist yet.
    ExistingOrFresh,
}

/// Parameters of the passcode verifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasscodePolicy {
    /// PBKDF2-HMAC-SHA256 iterations (OWASP 2023: 600,000).
    pub iterations: NonZeroU32,
    /// Shortest passcode accepted by [`SecureStore::set_passcode`], in characters.
    pub min_length: usize,
    /// Failures allowed before the back-off starts.
    pub free_attempts: u32,
    /// Lock-out after the first failure past `free_attempts`; doubles each time.
    pub base_delay: Duration,
    /// Longest lock-out.
    pub max_delay: Duration,
    /// Wipe the store after this many consecutive failures.
    pub wipe_after: Option<NonZeroU32>,
    /// Whether the iteration and length floors apply (always, except in tests).
    pub floors: PolicyFloors,
}

impl Default for PasscodePolicy {
    /// 600,000 iterations, at least 6 characters, 3 free attempts, then 30 s
    /// doubling up to 1 h, no wipe.
    fn default() -> Self {
        Self {
            iterations: NonZeroU32::new(600_000).expect("non-zero"),
            min_length: 6,
            free_attempts: 3,
            base_delay: Duration::from_secs(30),
            max_delay: Duration::from_secs(3600),
            wipe_after: None,
            floors: PolicyFloors::Enforced,
        }
    }
}

impl PasscodePolicy {
    /// **Tests only**: the default policy with 1,000 iterations and the floors
    /// waived ([`PolicyFloors::WaivedForTestsOnly`]).
    pub fn fast_for_tests_only() -> Self {
        Self {
            iterations: NonZeroU32::new(1000).expect("non-zero"),
            floors: PolicyFloors::WaivedForTestsOnly,
            ..Self::default()
        }
    }

    /// Checks the floors (unless waived for tests).
    ///
    /// Errors: [`StorageError::InvalidInput`] (`what: "passcode policy"`) naming
    /// the floor that was not met.
    pub fn check_floors(&self) -> Result<(), StorageError> {
        if self.floors == PolicyFloors::WaivedForTestsOnly {
            return Ok(());
        }
        if self.iterations.get() < MIN_PBKDF2_ITERATIONS {
            return Err(StorageError::InvalidInput {
                what: "passcode policy",
                reason: format!(
                    "{} PBKDF2 iterations, the floor is {MIN_PBKDF2_ITERATIONS} (OWASP 2023)",
                    self.iterations
                ),
            });
        }
        if self.min_length < MIN_PASSCODE_LENGTH_FLOOR {
            return Err(StorageError::InvalidInput {
                what: "passcode policy",
                reason: format!(
                    "minimum length {}, the floor is {MIN_PASSCODE_LENGTH_FLOOR}",
                    self.min_length
                ),
            });
        }
        Ok(())
    }

    /// The lock-out after `failures` consecutive failures.
    pub fn delay_after(&self, failures: u32) -> Duration {
        if failures <= self.free_attempts {
            return Duration::ZERO;
        }
        let doublings = (failures - self.free_attempts - 1).min(63);
        self.base_delay
            .checked_mul(1u32.checked_shl(doublings).unwrap_or(u32::MAX))
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }
}

/// The outcome of a passcode check that was allowed to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasscodeCheck {
    /// The passcode is right; the failure counter was reset.
    Verified,
    /// The passcode is wrong.
    Rejected {
        /// Consecutive failures so far.
        failures: u32,
        /// How long until the next attempt is accepted.
        retry_after: Duration,
        /// Failures left before the store is wiped, if a wipe is configured.
        attempts_before_wipe: Option<u32>,
    },
}

/// The verifier state, as sealed JSON in the passcode file. `hash` (the PBKDF2
/// output, base64) and `salt` are wiped when the state is dropped (NEW-1; the
/// freed-memory test in `tests/tests/storage_freed_memory.rs` looks for them).
#[derive(serde::Serialize, serde::Deserialize)]
struct State {
    kdf: String,
    iterations: u32,
    salt: String,
    hash: String,
    failures: u32,
    locked_until_ms: u64,
    min_length: usize,
    free_attempts: u32,
    base_delay_ms: u64,
    max_delay_ms: u64,
    wipe_after: Option<u32>,
}

impl Drop for State {
    fn drop(&mut self) {
        self.salt.zeroize();
        self.hash.zeroize();
    }
}

/// Room for the verifier state's JSON (about 300 bytes: bounded numbers, a
/// 24-character salt and a 44-character hash), so that serialising it never
/// reallocates and leaves a partial copy of the hash in a freed block.
const STATE_JSON_CAPACITY: usize = 1024;

impl State {
    fn policy(&self) -> PasscodePolicy {
        PasscodePolicy {
            iterations: NonZeroU32::new(self.iterations).unwrap_or(NonZeroU32::MIN),
            min_length: self.min_length,
            free_attempts: self.free_attempts,
            base_delay: Duration::from_millis(self.base_delay_ms),
            max_delay: Duration::from_millis(self.max_delay_ms),
            wipe_after: self.wipe_after.and_then(NonZeroU32::new),
            // Floors are checked when a passcode is set; a stored state is
            // authenticated and verified with the parameters it was set with.
            floors: PolicyFloors::WaivedForTestsOnly,
        }
    }
}

/// Parses and checks a verifier state.
fn parse_state(bytes: &[u8]) -> Result<State, StorageError> {
    let state: State = serde_json::from_slice(bytes).map_err(|_| StorageError::Corrupted {
        what: "passcode verifier".into(),
        reason: "state does not parse",
    })?;
    if state.kdf != KDF_NAME || state.iterations == 0 {
        return Err(StorageError::Corrupted {
            what: "passcode verifier".into(),
            reason: "unknown key-derivation parameters",
        });
    }
    Ok(state)
}

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl SecureStore {
    /// The verifier state. The canary records (authenticated) whether a passcode
    /// is set: a recorded passcode whose file is missing is tampering or data loss
    /// ([`StorageError::Corrupted`]); a file without the record is a set or a
    /// removal that a crash interrupted, and reads as no passcode.
    fn load_passcode(&self) -> Result<Option<State>, StorageError> {
        if !self.passcode_recorded()? {
            return Ok(None);
        }
        let path = self.passcode_path();
        let Some(bytes) = self.read_sealed(&path, "passcode", "", "passcode verifier")? else {
            return Err(StorageError::Corrupted {
                what: "passcode verifier".into(),
                reason: "missing although the store records a passcode",
            });
        };
        parse_state(&bytes).map(Some)
    }

    /// Runs one passcode operation in the two steps of the module docs: the keys
    /// from the KEK with no lock held, then `locked` under the passcode mutex with
    /// no KEK call. `locked` returns `Ok(None)` when a file is no longer under a
    /// held key, having written nothing the next round does not write again.
    fn passcode_op<T>(
        &self,
        file_key: FileKey,
        mut locked: impl FnMut(&HeldKeys) -> Result<Option<T>, StorageError>,
    ) -> Result<T, StorageError> {
        let path = self.passcode_path();
        let path = (file_key != FileKey::None).then_some(path.as_path());
        for _ in 0..PASSCODE_ROUNDS {
            let Some(mut keys) = self.hold_keys(path, "passcode verifier")? else {
                continue;
            };
            if file_key == FileKey::ExistingOrFresh && keys.file.is_none() {
                keys.file = Some(keys.sealing_key()?);
            }
            let _guard = self.passcode_lock();
            if let Some(value) = locked(&keys)? {
                return Ok(value);
            }
        }
        Err(StorageError::RotationContended {
            attempts: PASSCODE_ROUNDS,
        })
    }

    /// The verifier state, opened with held keys (step 2). `Ok(None)`: a file is
    /// no longer under its held key.
    fn load_passcode_with(&self, keys: &HeldKeys) -> Result<Option<Option<State>>, StorageError> {
        let Some(recorded) = self.passcode_record_with(keys)? else {
            return Ok(None);
        };
        if !recorded {
            return Ok(Some(None));
        }
        let path = self.passcode_path();
        let missing = || StorageError::Corrupted {
            what: "passcode verifier".into(),
            reason: "missing although the store records a passcode",
        };
        let Some(key) = &keys.file else {
            // Written since step 1 found no file: another round.
            return if path.exists() {
                Ok(None)
            } else {
                Err(missing())
            };
        };
        match self.read_with(keys, key, &path, "passcode", "", "passcode verifier")? {
            None => Ok(None),
            Some(None) => Err(missing()),
            Some(Some(bytes)) => parse_state(&bytes).map(|s| Some(Some(s))),
        }
    }

    /// Writes the verifier state under the held key of the passcode file (step 2).
    /// `Ok(false)`: the store was rotated since step 1; nothing written.
    fn save_passcode_with(&self, keys: &HeldKeys, state: &State) -> Result<bool, StorageError> {
        let key = keys
            .file
            .as_ref()
            .expect("operations that write the state hold the file's key");
        let mut bytes = Zeroizing::new(Vec::with_capacity(STATE_JSON_CAPACITY));
        serde_json::to_writer(&mut *bytes, state).expect("state serialises");
        debug_assert!(
            bytes.len() <= STATE_JSON_CAPACITY,
            "state JSON outgrew its buffer"
        );
        self.write_with(keys, key, &self.passcode_path(), "passcode", "", &bytes)
    }

    /// Sets (or replaces) the passcode.
    ///
    /// Errors: [`StorageError::InvalidInput`] for a policy below the floors
    /// (`what: "passcode policy"`, see [`PasscodePolicy::check_floors`]), an empty
    /// passcode or one shorter than `policy.min_length` (`what: "passcode"`).
    pub fn set_passcode(
        &self,
        passcode: &str,
        policy: &PasscodePolicy,
    ) -> Result<(), StorageError> {
        policy.check_floors()?;
        if passcode.is_empty() {
            return Err(StorageError::InvalidInput {
                what: "passcode",
                reason: "empty".into(),
            });
        }
        if passcode.chars().count() < policy.min_length {
            return Err(StorageError::InvalidInput {
                what: "passcode",
                reason: format!("shorter than {} characters", policy.min_length),
            });
        }
        // The hash first, with no lock held (PBKDF2 is slow, and not a KEK call).
        let mut salt = [0u8; SALT_LEN];
        SystemRandom::new().fill(&mut salt).map_err(|_| {
            StorageError::Kek(KekError::Backend {
                reason: "system random generator failed".into(),
            })
        })?;
        let mut hash = Zeroizing::new([0u8; HASH_LEN]);
        pbkdf2::derive(
            pbkdf2::PBKDF2_HMAC_SHA256,
            policy.iterations,
            &salt,
            passcode.as_bytes(),
            hash.as_mut(),
        );
        let state = State {
            kdf: KDF_NAME.into(),
            iterations: policy.iterations.get(),
            salt: B64.encode(salt),
            hash: B64.encode(hash.as_ref()),
            failures: 0,
            locked_until_ms: 0,
            min_length: policy.min_length,
            free_attempts: policy.free_attempts,
            base_delay_ms: policy.base_delay.as_millis() as u64,
            max_delay_ms: policy.max_delay.as_millis() as u64,
            wipe_after: policy.wipe_after.map(NonZeroU32::get),
        };
        self.passcode_op(FileKey::ExistingOrFresh, |keys| {
            let Some(recorded) = self.passcode_record_with(keys)? else {
                return Ok(None);
            };
            // The file first, then the record: a crash in between reads as no passcode.
            if !self.save_passcode_with(keys, &state)? {
                return Ok(None);
            }
            if !recorded && !self.record_passcode_with(keys, true)? {
                return Ok(None);
            }
            Ok(Some(()))
        })
    }

    /// Whether a passcode is set.
    pub fn has_passcode(&self) -> Result<bool, StorageError> {
        Ok(self.load_passcode()?.is_some())
    }

    /// Removes the passcode; returns whether one was set.
    pub fn remove_passcode(&self) -> Result<bool, StorageError> {
        self.passcode_op(FileKey::None, |keys| {
            let Some(recorded) = self.passcode_record_with(keys)? else {
                return Ok(None);
            };
            // The record first, then the file: a crash in between reads as no passcode.
            if recorded && !self.record_passcode_with(keys, false)? {
                return Ok(None);
            }
            let existed = self.remove_file(&self.passcode_path())?;
            Ok(Some(recorded && existed))
        })
    }

    /// Checks `passcode` at time `now`.
    ///
    /// Errors: [`StorageError::LockedOut`] during a back-off (the attempt is not
    /// counted), [`StorageError::NoPasscode`], and [`StorageError::Wiped`] when this
    /// failure reached the configured wipe threshold (the store is gone), or
    /// [`StorageError::KekNotDestroyed`] if the store is gone but its KEK refused
    /// destruction; [`StorageError::RotationContended`] if the store's key kept
    /// changing under the operation (see the module docs; nothing was counted).
    pub fn verify_passcode(
        &self,
        passcode: &str,
        now: SystemTime,
    ) -> Result<PasscodeCheck, StorageError> {
        let now_ms = unix_ms(now);
        // Count the attempt, durably, before it is checked.
        let (state, policy, delay) = self.passcode_op(FileKey::Existing, |keys| {
            let Some(state) = self.load_passcode_with(keys)? else {
                return Ok(None);
            };
            let mut state = state.ok_or(StorageError::NoPasscode)?;
            if now_ms < state.locked_until_ms {
                return Err(StorageError::LockedOut {
                    retry_after: Duration::from_millis(state.locked_until_ms - now_ms),
                });
            }
            let policy = state.policy();
            state.failures = state.failures.saturating_add(1);
            let delay = policy.delay_after(state.failures);
            // No lock-out without a delay: a concurrent attempt whose `now` was
            // taken a moment earlier must not find itself locked out until now.
            state.locked_until_ms = match delay.is_zero() {
                true => 0,
                false => now_ms.saturating_add(delay.as_millis() as u64),
            };
            if !self.save_passcode_with(keys, &state)? {
                return Ok(None);
            }
            Ok(Some((state, policy, delay)))
        })?;

        // Checked with no lock held.
        let salt = B64
            .decode(&state.salt)
            .map_err(|_| StorageError::Corrupted {
                what: "passcode verifier".into(),
                reason: "salt is not base64",
            })?;
        let hash =
            Zeroizing::new(
                B64.decode(&state.hash)
                    .map_err(|_| StorageError::Corrupted {
                        what: "passcode verifier".into(),
                        reason: "hash is not base64",
                    })?,
            );
        let ok = pbkdf2::verify(
            pbkdf2::PBKDF2_HMAC_SHA256,
            policy.iterations,
            &salt,
            passcode.as_bytes(),
            &hash,
        )
        .is_ok();
        if ok {
            self.passcode_op(FileKey::Existing, |keys| {
                let Some(current) = self.load_passcode_with(keys)? else {
                    return Ok(None);
                };
                // Removed, or replaced by a new passcode, meanwhile: nothing to clear.
                let Some(mut current) = current.filter(|c| c.salt == state.salt) else {
                    return Ok(Some(()));
                };
                // Clears the failures counted up to and including this attempt;
                // guesses counted after it (other threads) stay counted.
                current.failures = current.failures.saturating_sub(state.failures);
                if current.failures == 0 {
                    current.locked_until_ms = 0;
                }
                Ok(self.save_passcode_with(keys, &current)?.then_some(()))
            })?;
            return Ok(PasscodeCheck::Verified);
        }
        if let Some(limit) = policy.wipe_after {
            if state.failures >= limit.get() {
                // The attempt is persisted; the wipe's `destroy` is a foreign call,
                // made without the passcode lock. A KEK that refuses destruction
                // surfaces as `KekNotDestroyed`, after the files are gone.
                self.wipe()?;
                return Err(StorageError::Wiped);
            }
        }
        Ok(PasscodeCheck::Rejected {
            failures: state.failures,
            retry_after: delay,
            attempts_before_wipe: policy.wipe_after.map(|l| l.get() - state.failures),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_and_caps() {
        let p = PasscodePolicy {
            free_attempts: 2,
            base_delay: Duration::from_secs(10),
            max_delay: Duration::from_secs(60),
            ..PasscodePolicy::default()
        };
        let d: Vec<u64> = (0..=8).map(|f| p.delay_after(f).as_secs()).collect();
        assert_eq!(d, vec![0, 0, 0, 10, 20, 40, 60, 60, 60]);
        assert_eq!(p.delay_after(u32::MAX).as_secs(), 60);
    }
}
