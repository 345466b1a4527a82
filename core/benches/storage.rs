//! Storage benchmarks: envelope vs raw ring AES-256-GCM on the same buffers in the
//! same run (1 MiB and 1 KiB, cached DEK), the store's put/get, and the number of
//! KEK calls per 1,000 store operations with caching on and off.
//!
//! The open of 1 MiB and 1 KiB is also measured *paired* against raw ring (the
//! two alternate within one measurement, `paired median` lines), since on a
//! loaded machine criterion's one-after-the-other groups move against each other.
//!
//! Run: `cargo bench -p mamori --bench storage`.

#[path = "common/paired.rs"]
mod paired;

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mamori::storage::{
    CachePolicy, DEK_LEN, EnvelopeCipher, Kek, KekError, SecureStore, SecurityLevel, SoftwareKek,
    StoreOptions, StorePolicy,
};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use zeroize::Zeroizing;

struct CountingKek(SoftwareKek, AtomicUsize);

impl Kek for CountingKek {
    fn key_id(&self) -> String {
        self.0.key_id()
    }
    fn security_level(&self) -> SecurityLevel {
        self.0.security_level()
    }
    fn wrap(&self, dek: &[u8; DEK_LEN], aad: &[u8]) -> Result<Vec<u8>, KekError> {
        self.1.fetch_add(1, Ordering::Relaxed);
        self.0.wrap(dek, aad)
    }
    fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> Result<Zeroizing<[u8; DEK_LEN]>, KekError> {
        self.1.fetch_add(1, Ordering::Relaxed);
        self.0.unwrap(wrapped, aad)
    }
}

fn raw_key() -> LessSafeKey {
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[9u8; 32]).unwrap())
}

fn compare(c: &mut Criterion, size: usize, label: &str) {
    let raw = raw_key();
    let env = EnvelopeCipher::new(
        Arc::new(SoftwareKek::generate().unwrap()),
        CachePolicy::default(),
    )
    .unwrap();
    let plaintext = vec![0x42u8; size];
    let context = b"mamori store v1\0store-id\0item\0name";
    let mut g = c.benchmark_group(format!("aead_{label}"));
    g.throughput(Throughput::Bytes(size as u64));

    // Seal. Raw ring: encrypt a copy of the plaintext in place (the copy stands for
    // the output buffer any API that leaves the input intact must fill).
    g.bench_function("seal/raw_ring", |b| {
        b.iter(|| {
            let mut buf = Vec::with_capacity(size + 16);
            buf.extend_from_slice(black_box(&plaintext));
            let tag = raw
                .seal_in_place_separate_tag(
                    Nonce::assume_unique_for_key([1; 12]),
                    Aad::from(&context[..]),
                    &mut buf,
                )
                .unwrap();
            buf.extend_from_slice(tag.as_ref());
            buf
        })
    });
    g.bench_function("seal/envelope", |b| {
        b.iter(|| env.seal(context, black_box(&plaintext)).unwrap())
    });

    // Open.
    let mut raw_ct = plaintext.clone();
    let tag = raw
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key([1; 12]),
            Aad::from(&context[..]),
            &mut raw_ct,
        )
        .unwrap();
    raw_ct.extend_from_slice(tag.as_ref());
    let env_ct = env.seal(context, &plaintext).unwrap();
    g.bench_function("open/raw_ring", |b| {
        b.iter(|| {
            let mut buf = black_box(&raw_ct).clone();
            let n = raw
                .open_in_place(
                    Nonce::assume_unique_for_key([1; 12]),
                    Aad::from(&context[..]),
                    &mut buf,
                )
                .unwrap()
                .len();
            buf.truncate(n);
            buf
        })
    });
    g.bench_function("open/envelope_zeroizing_copy", |b| {
        b.iter(|| env.open(context, black_box(&env_ct)).unwrap())
    });
    g.bench_function("open/envelope_in_place", |b| {
        b.iter(|| {
            let mut buf = black_box(&env_ct).clone();
            let n = env.open_in_place(context, &mut buf).unwrap().len();
            (buf, n)
        })
    });

    // Seal + open round trip.
    g.bench_function("seal_open/raw_ring", |b| {
        b.iter(|| {
            let mut buf = Vec::with_capacity(size + 16);
            buf.extend_from_slice(black_box(&plaintext));
            let tag = raw
                .seal_in_place_separate_tag(
                    Nonce::assume_unique_for_key([1; 12]),
                    Aad::from(&context[..]),
                    &mut buf,
                )
                .unwrap();
            buf.extend_from_slice(tag.as_ref());
            let n = raw
                .open_in_place(
                    Nonce::assume_unique_for_key([1; 12]),
                    Aad::from(&context[..]),
                    &mut buf,
                )
                .unwrap()
                .len();
            buf.truncate(n);
            buf
        })
    });
    g.bench_function("seal_open/envelope_in_place", |b| {
        b.iter(|| {
            let mut ct = env.seal(context, black_box(&plaintext)).unwrap();
            let n = env.open_in_place(context, &mut ct).unwrap().len();
            (ct, n)
        })
    });
    g.bench_function("seal_open/envelope_zeroizing_copy", |b| {
        b.iter(|| {
            let ct = env.seal(context, black_box(&plaintext)).unwrap();
            env.open(context, &ct).unwrap()
        })
    });
    g.finish();

    // Paired: raw ring on a copy vs the envelope's wiped copy, alternating.
    let raw_open = || {
        let mut buf = black_box(&raw_ct).clone();
        let n = raw
            .open_in_place(
                Nonce::assume_unique_for_key([1; 12]),
                Aad::from(&context[..]),
                &mut buf,
            )
            .unwrap()
            .len();
        buf.truncate(n);
        black_box(buf);
    };
    let env_open = || {
        black_box(env.open(context, black_box(&env_ct)).unwrap());
    };
    let batch = if size >= 1 << 20 { 4 } else { 400 };
    let (ratio, raw_us, env_us) = paired::paired_ratio(&raw_open, &env_open, 200, batch);
    println!(
        "aead_{label}/open: paired median raw ring {raw_us:.1} µs, envelope (wiped copy) {env_us:.1} µs, \
         envelope speed / raw ring = {:.3}x",
        1.0 / ratio
    );
}

fn envelope_1mib(c: &mut Criterion) {
    compare(c, 1 << 20, "1MiB");
}

fn envelope_1kib(c: &mut Criterion) {
    compare(c, 1 << 10, "1KiB");
}

fn store_ops(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    for (label, cache) in [
        ("cached", CachePolicy::default()),
        ("uncached", CachePolicy::disabled()),
    ] {
        let kek = Arc::new(CountingKek(
            SoftwareKek::generate().unwrap(),
            AtomicUsize::new(0),
        ));
        let options = StoreOptions {
            policy: StorePolicy::allow_software(),
            cache,
            ..StoreOptions::default()
        };
        // Create the store, then count from a fresh open (a new app session).
        drop(SecureStore::open(dir.path().join(label), kek.clone(), options.clone()).unwrap());
        let before = kek.1.load(Ordering::Relaxed);
        let store = SecureStore::open(dir.path().join(label), kek.clone(), options).unwrap();
        for i in 0..500 {
            let name = format!("item{}", i % 100);
            store.put(&name, &[7u8; 1024]).unwrap();
            store.get(&name).unwrap();
        }
        let calls = kek.1.load(Ordering::Relaxed) - before;
        println!(
            "KEK calls for open + 1,000 store operations (500 put + 500 get, 1 KiB), cache {label}: {calls}"
        );
        c.bench_function(&format!("store/get_1KiB/{label}"), |b| {
            b.iter(|| store.get(black_box("item1")).unwrap())
        });
    }
}

criterion_group!(benches, envelope_1mib, envelope_1kib, store_ops);
criterion_main!(benches);
