//! Envelope format: round trips, tamper detection, key binding, the DEK cache,
//! redaction, and an independent decoder written from docs/envelope-format.md.

mod storage_common;

use std::sync::Arc;
use std::time::Duration;

use mamori::storage::{CachePolicy, EnvelopeCipher, Kek, KekError, SoftwareKek, StorageError};
use mamori::storage::{EnvelopeHeader, FIXED_HEADER_LEN};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use storage_common::{CountingKek, fixed_kek};
use zeroize::Zeroizing;

fn cipher_with(kek: Arc<dyn Kek>, policy: CachePolicy) -> EnvelopeCipher {
    EnvelopeCipher::new(kek, policy).unwrap()
}

fn cipher() -> EnvelopeCipher {
    cipher_with(fixed_kek(0x11), CachePolicy::default())
}

#[test]
fn round_trips_empty_small_and_one_mib() {
    let c = cipher();
    let big: Vec<u8> = (0..1 << 20).map(|i| (i * 31 % 251) as u8).collect();
    for pt in [&b""[..], b"x", b"refresh-token-0123456789", &big] {
        let env = c.seal(b"item:a", pt).unwrap();
        assert_eq!(
            env.len(),
            FIXED_HEADER_LEN + 3 + c.kek_id().len() + 60 + pt.len() + 16
        );
        assert_eq!(c.open(b"item:a", &env).unwrap().as_slice(), pt);
    }
}

#[test]
fn every_single_bit_flip_is_rejected() {
    for policy in [CachePolicy::default(), CachePolicy::disabled()] {
        let c = cipher_with(fixed_kek(0x22), policy);
        let env = c.seal(b"ctx", b"small secret value").unwrap();
        let header_len = EnvelopeHeader::parse(&env).unwrap().body_offset;
        assert!(header_len > FIXED_HEADER_LEN);
        for bit in 0..env.len() * 8 {
            let mut bad = env.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            let r = c.open(b"ctx", &bad);
            assert!(
                r.is_err(),
                "bit {bit} (byte {}, header {header_len} bytes) accepted",
                bit / 8
            );
        }
        // The original still opens (the cache was not poisoned).
        assert_eq!(
            c.open(b"ctx", &env).unwrap().as_slice(),
            b"small secret value"
        );
    }
}

#[test]
fn ciphertext_moved_to_another_context_is_rejected() {
    let c = cipher();
    let env = c.seal(b"item:pin", b"1234").unwrap();
    assert!(matches!(
        c.open(b"item:other", &env),
        Err(StorageError::AuthenticationFailed)
    ));
    assert!(matches!(
        c.open(b"", &env),
        Err(StorageError::AuthenticationFailed)
    ));
}

#[test]
fn rewrapped_under_another_kek_is_rejected_and_rewrap_keeps_the_payload() {
    let a = cipher_with(fixed_kek(0x33), CachePolicy::default());
    let b = cipher_with(fixed_kek(0x44), CachePolicy::default());
    let env = a.seal(b"ctx", b"value").unwrap();
    let moved = a.rewrap(&env, &b).unwrap();
    // The fixed part and the ciphertext are byte-for-byte unchanged.
    let (ha, hb) = (
        EnvelopeHeader::parse(&env).unwrap(),
        EnvelopeHeader::parse(&moved).unwrap(),
    );
    assert_eq!(env[..FIXED_HEADER_LEN], moved[..FIXED_HEADER_LEN]);
    assert_eq!(env[ha.body_offset..], moved[hb.body_offset..]);
    assert_eq!(hb.key.kek_id, b.kek_id());
    assert_eq!(b.open(b"ctx", &moved).unwrap().as_slice(), b"value");
    match a.open(b"ctx", &moved) {
        Err(StorageError::WrongKek { expected, found }) => {
            assert_eq!(expected, a.kek_id());
            assert_eq!(found, b.kek_id());
        }
        other => panic!("expected WrongKek, got {other:?}"),
    }
    // Forge the KEK id to A's while keeping B's wrapped key: A's KEK rejects it.
    let forged = {
        let mut out = moved[..FIXED_HEADER_LEN].to_vec();
        out.push(a.kek_id().len() as u8);
        out.extend_from_slice(a.kek_id().as_bytes());
        out.extend_from_slice(&(hb.key.wrapped_dek.len() as u16).to_be_bytes());
        out.extend_from_slice(&hb.key.wrapped_dek);
        out.extend_from_slice(&moved[hb.body_offset..]);
        out
    };
    assert!(matches!(
        a.open(b"ctx", &forged),
        Err(StorageError::Kek(KekError::UnwrapFailed))
    ));
}

#[test]
fn cache_bounds_kek_calls() {
    let counting = CountingKek::software();
    let c = cipher_with(counting.clone(), CachePolicy::default());
    let envs: Vec<_> = (0..500)
        .map(|i| c.seal(b"c", format!("v{i}").as_bytes()).unwrap())
        .collect();
    for e in &envs {
        c.open(b"c", e).unwrap();
    }
    assert_eq!(counting.calls(), 1, "one wrap for 1,000 operations");
    // A fresh cipher (new session) unwraps the shared DEK once.
    let counting2 = CountingKek::new(counting.inner.clone());
    let c2 = cipher_with(counting2.clone(), CachePolicy::default());
    for e in &envs {
        c2.open(b"c", e).unwrap();
    }
    assert_eq!(counting2.calls(), 1);

    let uncached = CountingKek::software();
    let c = cipher_with(uncached.clone(), CachePolicy::disabled());
    for i in 0..10 {
        let e = c.seal(b"c", &[i]).unwrap();
        c.open(b"c", &e).unwrap();
    }
    assert_eq!(uncached.calls(), 20);
}

#[test]
fn cached_keys_expire() {
    let counting = CountingKek::software();
    let c = cipher_with(
        counting.clone(),
        CachePolicy {
            max_age: Duration::from_millis(100),
            ..CachePolicy::default()
        },
    );
    let e1 = c.seal(b"c", b"1").unwrap();
    c.open(b"c", &e1).unwrap();
    assert_eq!(counting.calls(), 1);
    std::thread::sleep(Duration::from_millis(150));
    c.open(b"c", &e1).unwrap();
    assert_eq!(
        counting.unwraps.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "expired DEK is unwrapped again"
    );
    let e2 = c.seal(b"c", b"2").unwrap();
    assert_ne!(
        EnvelopeHeader::parse(&e1).unwrap().key.wrapped_dek,
        EnvelopeHeader::parse(&e2).unwrap().key.wrapped_dek,
        "an expired sealing DEK is replaced"
    );
    c.clear_cache();
    c.open(b"c", &e2).unwrap();
    assert_eq!(
        counting.unwraps.load(std::sync::atomic::Ordering::SeqCst),
        2
    );
}

#[test]
fn key_material_never_in_debug_or_errors() {
    let key_bytes = Zeroizing::new([0xA5u8; 32]);
    let kek: Arc<dyn Kek> = Arc::new(SoftwareKek::from_bytes(&key_bytes));
    let c = cipher_with(kek.clone(), CachePolicy::default());
    let env = c.seal(b"ctx", b"TOPSECRETVALUE").unwrap();
    let mut texts = vec![
        format!("{c:?}"),
        format!("{:?}", SoftwareKek::from_bytes(&key_bytes)),
        format!("{:?}", mamori::storage::AeadKey::new(&[0xA5; 32]).unwrap()),
    ];
    let mut bad = env.clone();
    *bad.last_mut().unwrap() ^= 1;
    let e = c.open(b"ctx", &bad).unwrap_err();
    texts.push(format!("{e:?}"));
    texts.push(e.to_string());
    let e = c.open(b"other", &env).unwrap_err();
    texts.push(format!("{e:?} {e}"));
    for t in &texts {
        assert!(
            !t.contains("165") && !t.to_lowercase().contains("a5a5"),
            "key bytes in {t}"
        );
        assert!(!t.contains("TOPSECRET"), "plaintext in {t}");
    }
}

/// A second implementation of the format, written from docs/envelope-format.md
/// with ring alone: parses the header, unwraps the DEK the way `SoftwareKek`
/// documents, and opens the payload.
#[test]
fn independent_decoder_following_the_spec() {
    let kek_key = [0x5Au8; 32];
    let c = cipher_with(
        Arc::new(SoftwareKek::from_bytes(&Zeroizing::new(kek_key))),
        CachePolicy::default(),
    );
    let context = b"store\0item\0pin";
    let env = c.seal(context, b"hello spec").unwrap();

    assert_eq!(&env[0..4], b"MMRE");
    assert_eq!(env[4], 1, "version");
    assert_eq!(env[5], 1, "algorithm");
    assert_eq!(env[6], 0, "flags");
    let nonce: [u8; 12] = env[7..19].try_into().unwrap();
    let k = env[19] as usize;
    let kek_id = std::str::from_utf8(&env[20..20 + k]).unwrap();
    let w = u16::from_be_bytes([env[20 + k], env[21 + k]]) as usize;
    let wrapped = &env[22 + k..22 + k + w];
    let body = &env[22 + k + w..];

    // DEK unwrap: SoftwareKek = nonce(12) ‖ AES-256-GCM(kek, dek) ‖ tag, with
    // AAD = "mamori dek v1" ‖ K ‖ kek_id.
    let mut wrap_aad = b"mamori dek v1".to_vec();
    wrap_aad.push(k as u8);
    wrap_aad.extend_from_slice(kek_id.as_bytes());
    let kek = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &kek_key).unwrap());
    let mut dek = wrapped[12..].to_vec();
    let dek = kek
        .open_in_place(
            Nonce::try_assume_unique_for_key(&wrapped[..12]).unwrap(),
            Aad::from(&wrap_aad),
            &mut dek,
        )
        .unwrap()
        .to_vec();

    // Payload: AAD = fixed header (19 bytes) ‖ u32 BE len(context) ‖ context.
    let mut aad = env[..19].to_vec();
    aad.extend_from_slice(&(context.len() as u32).to_be_bytes());
    aad.extend_from_slice(context);
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &dek).unwrap());
    let mut buf = body.to_vec();
    let pt = key
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(&aad),
            &mut buf,
        )
        .unwrap();
    assert_eq!(pt, b"hello spec");
}

#[test]
fn malformed_headers_get_typed_errors() {
    let c = cipher();
    let env = c.seal(b"", b"v").unwrap();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (vec![], "shorter than the fixed header"),
        (
            b"XXXX".iter().chain(&env[4..]).copied().collect(),
            "bad magic",
        ),
        (
            [&env[..4], &[2], &env[5..]].concat(),
            "unsupported format version",
        ),
        (
            [&env[..5], &[9], &env[6..]].concat(),
            "unsupported algorithm",
        ),
        ([&env[..6], &[1], &env[7..]].concat(), "unknown flags set"),
        (env[..25].to_vec(), "truncated key id"),
    ];
    for (bytes, reason) in cases {
        match c.open(b"", &bytes) {
            Err(StorageError::Malformed { reason: r }) => assert_eq!(r, reason),
            other => panic!("expected Malformed({reason}), got {other:?}"),
        }
    }
}

#[test]
fn open_in_place_decrypts_in_the_callers_buffer() {
    let c = cipher();
    let mut env = c.seal(b"ctx", b"in place").unwrap();
    let mut bad = env.clone();
    assert_eq!(c.open_in_place(b"ctx", &mut env).unwrap(), b"in place");
    bad[FIXED_HEADER_LEN - 1] ^= 4; // the nonce
    assert!(matches!(
        c.open_in_place(b"ctx", &mut bad),
        Err(StorageError::AuthenticationFailed)
    ));
    let mut reused = Vec::new();
    c.seal_into(b"ctx", b"one", &mut reused).unwrap();
    let first = reused.len();
    c.seal_into(b"ctx", b"two", &mut reused).unwrap();
    assert_eq!(c.open(b"ctx", &reused[first..]).unwrap().as_slice(), b"two");
    assert_eq!(c.open(b"ctx", &reused[..first]).unwrap().as_slice(), b"one");
}
