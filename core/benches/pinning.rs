//! Pin check overhead: a 3-certificate chain (root → intermediate → leaf;
//! the server presents leaf + intermediate, the root is the anchor) verified
//! by bare rustls-webpki (`verify_for_usage` + name check) and by
//! `PinVerifier::verify` with a pinned policy, on the same chain in the same
//! run. The difference is what Mamori adds: host normalisation, rule lookup,
//! the SPKI hash of every path certificate and the decision record. Twice:
//! with the verifier warmed by earlier connections (its memo of subject
//! names and SPKI pins filled: a repeated chain) and first-seen (a fresh
//! verifier per call: every name formatted, every key hashed).
//!
//! `cargo bench -p mamori --bench pinning`. Chains come from the shared test
//! PKI builder (`mamori-tests`): P-256 keys from rcgen; the
//! RSA-2048 chain's keys come from the `openssl` CLI (rcgen's ring backend
//! cannot generate RSA keys) and is skipped when openssl is not installed.

use std::hint::black_box;
use std::process::Command;
#[path = "common/paired.rs"]
mod paired;

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use mamori::pinning::{DomainDocument, TrustDocument};
use mamori::pinning::{PinOutcome, PinPolicy, PinVerifier, PolicyDocument, Profile};
use mamori_tests::{KeyKind, LeafSpec, Pki, spare_pin};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, TrustAnchor, UnixTime};

const HOST: &str = "api.example.com";

struct Chain {
    presented: Vec<CertificateDer<'static>>,
    root_pem: String,
    pins: Vec<String>,
}

/// Root → intermediate → leaf from the shared test PKI builder, all keys of
/// `kind`, with the root as the anchor.
fn chain(kind: KeyKind) -> Chain {
    let spec = LeafSpec {
        key: kind,
        ..LeafSpec::new(&[HOST])
    };
    let pki = Pki::with_leaf("Bench", kind, &spec);
    Chain {
        presented: pki.chain(),
        root_pem: pki.root.pem.clone(),
        // A backup pin first, so the match is found on the anchor: the worst case.
        pins: vec![spare_pin(), pki.root.pin()],
    }
}

fn openssl_available() -> bool {
    Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn pinned_policy(c: &Chain) -> PinPolicy {
    PolicyDocument {
        profile: Profile::Default,
        trust: Some(TrustDocument {
            mozilla_roots: Some(false),
            anchors_pem: Some(c.root_pem.clone()),
            ..TrustDocument::default()
        }),
        domains: vec![DomainDocument {
            host: HOST.to_owned(),
            pins: c.pins.clone(),
            ..DomainDocument::default()
        }],
        updates: None,
        ..PolicyDocument::default()
    }
    .validate("bench", None)
    .expect("valid policy")
}

fn bench_chain(cr: &mut Criterion, label: &str, c: &Chain) {
    let now = UnixTime::now();
    let root_der = CertificateDer::from_pem_slice(c.root_pem.as_bytes()).expect("PEM root");
    let anchors: Vec<TrustAnchor<'_>> =
        vec![webpki::anchor_from_trusted_cert(&root_der).expect("anchor")];
    let name = ServerName::try_from(HOST).expect("name");
    let verifier = PinVerifier::new(pinned_policy(c));
    let d = verifier.verify(HOST, 443, &c.presented, now);
    assert_eq!(d.outcome, PinOutcome::Allow, "{}", d.reason);
    assert!(d.pin_matched);

    let webpki_once = || {
        let ee = webpki::EndEntityCert::try_from(black_box(&c.presented[0])).expect("leaf");
        ee.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &anchors,
            &c.presented[1..],
            now,
            webpki::KeyUsage::server_auth(),
            None,
            None,
        )
        .expect("valid path");
        ee.verify_is_valid_for_subject_name(&name).expect("name");
    };
    let mamori_once = || {
        let d = verifier.verify(black_box(HOST), 443, black_box(&c.presented), now);
        assert!(d.pin_matched);
        black_box(d);
    };

    // First-seen: a verifier that never saw any certificate of the chain (its
    // memo of names and pins empty), so nothing computed for an earlier
    // connection helps. Verifiers are made ahead, outside the timing, and
    // dropped outside it too.
    let policy = pinned_policy(c);
    let fresh = std::cell::RefCell::new(Vec::<PinVerifier>::new());
    let used = std::cell::RefCell::new(Vec::<PinVerifier>::new());
    let refill = |n: usize| {
        used.borrow_mut().clear();
        let mut f = fresh.borrow_mut();
        f.clear();
        f.extend((0..n).map(|_| PinVerifier::new(policy.clone())));
    };
    let mamori_first_seen_once = || {
        let v = fresh.borrow_mut().pop().expect("a fresh verifier");
        let d = v.verify(black_box(HOST), 443, black_box(&c.presented), now);
        assert!(d.pin_matched);
        black_box(d);
        used.borrow_mut().push(v);
    };

    let mut group = cr.benchmark_group(format!("pinning/{label}"));
    group.bench_function("webpki_only", |b| b.iter(webpki_once));
    group.bench_function("mamori_pinned", |b| b.iter(mamori_once));
    group.bench_function("mamori_pinned_first_seen", |b| {
        b.iter_batched(
            || PinVerifier::new(policy.clone()),
            |v| {
                let d = v.verify(black_box(HOST), 443, black_box(&c.presented), now);
                assert!(d.pin_matched);
                (v, d)
            },
            criterion::BatchSize::SmallInput,
        )
    });
    group.finish();

    // Criterion measures the two functions one after the other; on a shared
    // machine the load changes in between. The ratio is therefore also
    // measured paired: short alternating batches, median of per-round ratios.
    let (ratio, webpki_us, mamori_us) =
        paired::paired_ratio(&webpki_once, &mamori_once, ROUNDS, BATCH);
    println!(
        "pinning/{label}: paired median webpki {webpki_us:.1} µs, mamori {mamori_us:.1} µs, \
         mamori/webpki = {ratio:.3} (pinning adds {:+.1} %)",
        (ratio - 1.0) * 100.0
    );
    refill(ROUNDS * BATCH as usize);
    let (ratio, webpki_us, mamori_us) =
        paired::paired_ratio(&webpki_once, &mamori_first_seen_once, ROUNDS, BATCH);
    println!(
        "pinning/{label} first-seen: paired median webpki {webpki_us:.1} µs, mamori {mamori_us:.1} µs, \
         mamori/webpki = {ratio:.3} (pinning adds {:+.1} %)",
        (ratio - 1.0) * 100.0
    );
}

const ROUNDS: usize = 300;
const BATCH: u32 = 10;

fn benches(cr: &mut Criterion) {
    bench_chain(cr, "p256", &chain(KeyKind::P256));
    if openssl_available() {
        bench_chain(cr, "rsa2048", &chain(KeyKind::Rsa(2048)));
    } else {
        eprintln!("openssl not available: skipping the RSA-2048 chain");
    }
}

criterion_group! {
    name = pinning;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = benches
}
criterion_main!(pinning);
