//! `attestation::ChallengeStore` (issue 16): single use, expiry, bounded size,
//! and one winner when two threads present the same challenge.

use std::sync::Arc;

use mamori::attestation::{CHALLENGE_BYTES, ChallengeError, ChallengeStore};
use time::{Duration, OffsetDateTime};

fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
}

#[test]
fn a_challenge_is_accepted_once() {
    let store = ChallengeStore::new(Duration::minutes(5), 16).unwrap();
    let c = store.issue(t0()).unwrap();
    assert_eq!(c.expires_at, t0() + Duration::minutes(5));
    assert_eq!(store.len(), 1);
    store
        .consume(&c.bytes, t0() + Duration::seconds(1))
        .unwrap();
    assert_eq!(
        store.consume(&c.bytes, t0() + Duration::seconds(2)),
        Err(ChallengeError::Unknown)
    );
    assert!(store.is_empty());
}

#[test]
fn challenges_are_random_and_never_issued_ones_are_unknown() {
    let store = ChallengeStore::new(Duration::minutes(5), 1024).unwrap();
    let a = store.issue(t0()).unwrap();
    let b = store.issue(t0()).unwrap();
    assert_ne!(a.bytes, b.bytes);
    assert_ne!(a.bytes, [0; CHALLENGE_BYTES]);
    let mut forged = a.bytes;
    forged[0] ^= 1;
    assert_eq!(store.consume(&forged, t0()), Err(ChallengeError::Unknown));
    assert_eq!(
        store.consume(&a.bytes[..31], t0()),
        Err(ChallengeError::Length(31))
    );
    assert_eq!(store.consume(&[], t0()), Err(ChallengeError::Length(0)));
    // The refused attempts used up nothing.
    store.consume(&a.bytes, t0()).unwrap();
    store.consume(&b.bytes, t0()).unwrap();
}

#[test]
fn a_challenge_expires_at_its_ttl_and_is_gone_after() {
    let store = ChallengeStore::new(Duration::seconds(60), 16).unwrap();
    let late = store.issue(t0()).unwrap();
    let just_in_time = store.issue(t0()).unwrap();
    store
        .consume(&just_in_time.bytes, t0() + Duration::seconds(59))
        .unwrap();
    let err = store
        .consume(&late.bytes, t0() + Duration::seconds(60))
        .unwrap_err();
    assert!(matches!(err, ChallengeError::Expired { .. }), "{err:?}");
    assert!(err.to_string().contains("expired"), "{err}");
    // An expired challenge was removed when presented.
    assert_eq!(
        store.consume(&late.bytes, t0()),
        Err(ChallengeError::Unknown)
    );
}

#[test]
fn the_store_is_bounded_and_drops_the_oldest() {
    let store = ChallengeStore::new(Duration::minutes(5), 100).unwrap();
    let issued: Vec<_> = (0..250)
        .map(|i| store.issue(t0() + Duration::milliseconds(i)).unwrap())
        .collect();
    assert_eq!(store.len(), 100);
    for c in &issued[..150] {
        assert_eq!(
            store.consume(&c.bytes, t0() + Duration::seconds(1)),
            Err(ChallengeError::Unknown)
        );
    }
    for c in &issued[150..] {
        store
            .consume(&c.bytes, t0() + Duration::seconds(1))
            .unwrap();
    }
    assert!(store.is_empty());
}

#[test]
fn purge_drops_only_expired_challenges() {
    let store = ChallengeStore::new(Duration::seconds(10), 100).unwrap();
    let old: Vec<_> = (0..5).map(|_| store.issue(t0()).unwrap()).collect();
    let fresh = store.issue(t0() + Duration::seconds(8)).unwrap();
    assert_eq!(store.purge_expired(t0() + Duration::seconds(10)), 5);
    assert_eq!(store.len(), 1);
    assert_eq!(
        store.consume(&old[0].bytes, t0()),
        Err(ChallengeError::Unknown)
    );
    store
        .consume(&fresh.bytes, t0() + Duration::seconds(17))
        .unwrap();
}

#[test]
fn two_threads_presenting_one_challenge_get_one_success() {
    let store = Arc::new(ChallengeStore::new(Duration::minutes(5), 4096).unwrap());
    for _ in 0..50 {
        let c = store.issue(t0()).unwrap();
        let results: Vec<_> = (0..4)
            .map(|_| {
                let (store, bytes) = (Arc::clone(&store), c.bytes);
                std::thread::spawn(move || store.consume(&bytes, t0()).is_ok())
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect();
        assert_eq!(results.iter().filter(|ok| **ok).count(), 1, "{results:?}");
    }
}

#[test]
fn parameters_are_bounded_and_debug_hides_the_challenges() {
    assert!(ChallengeStore::new(Duration::ZERO, 10).is_err());
    assert!(ChallengeStore::new(Duration::hours(2), 10).is_err());
    assert!(ChallengeStore::new(Duration::minutes(1), 0).is_err());
    assert!(ChallengeStore::new(Duration::minutes(1), ChallengeStore::MAX_CAPACITY + 1).is_err());
    let store = ChallengeStore::new(Duration::minutes(1), 10).unwrap();
    let c = store.issue(t0()).unwrap();
    let debug = format!("{store:?}");
    assert!(debug.contains("outstanding: 1"), "{debug}");
    assert!(!debug.contains(&format!("{:?}", c.bytes)), "{debug}");
}
