//! Pin check overhead: a 3-certificate chain (root → intermediate → leaf;
//! the server presents leaf + intermediate, the root is the anchor) verified
//! by bare rustls-webpki (`verify_for_usage` + name check) and by
//! `PinVerifier::verify` with a pinned policy, on the same chain in the same
//! run. The difference is what Mamori adds: host normalisation, rule lookup,
//! the SPKI hash of every path certificate and the decision record.
//!
//! `cargo bench -p mamori --bench pinning`. P-256 chains come from rcgen; the
//! RSA-2048 chain's keys come from the `openssl` CLI (rcgen's ring backend
//! cannot generate RSA keys) and is skipped when openssl is not installed.

use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use mamori::pinning::{DomainDocument, TrustDocument};
use mamori::pinning::{Outcome, Pin, PinPolicy, PinVerifier, PolicyDocument, Profile};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, TrustAnchor, UnixTime};

const HOST: &str = "api.example.com";

struct Chain {
    presented: Vec<CertificateDer<'static>>,
    root_pem: String,
    pins: Vec<String>,
}

fn ca(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p
}

fn chain(keys: [KeyPair; 3]) -> Chain {
    let [root_key, int_key, leaf_key] = keys;
    let root_params = ca("Bench Root");
    let root = root_params.self_signed(&root_key).expect("root");
    let int_params = ca("Bench Issuing CA");
    let int = int_params
        .signed_by(&int_key, &Issuer::from_params(&root_params, &root_key))
        .expect("intermediate");
    let mut leaf_params = CertificateParams::new(vec![HOST.to_owned()]).expect("SAN");
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, HOST);
    leaf_params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let leaf = leaf_params
        .signed_by(&leaf_key, &Issuer::from_params(&int_params, &int_key))
        .expect("leaf");
    // A backup pin first, so the match is found on the anchor: the worst case.
    let spare = KeyPair::generate().expect("spare key");
    let spare_pin = Pin::of_spki(&rcgen::PublicKeyData::subject_public_key_info(&spare));
    let root_pin = Pin::of_certificate(root.der()).expect("root pin");
    Chain {
        presented: vec![leaf.der().clone(), int.der().clone()],
        root_pem: root.pem(),
        pins: vec![spare_pin.to_string(), root_pin.to_string()],
    }
}

fn p256() -> KeyPair {
    KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("P-256 key")
}

fn rsa2048() -> Option<KeyPair> {
    let out = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
        ])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    KeyPair::from_pem(std::str::from_utf8(&out.stdout).ok()?).ok()
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
    assert_eq!(d.outcome, Outcome::Allow, "{}", d.reason);
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

    let mut group = cr.benchmark_group(format!("pinning/{label}"));
    group.bench_function("webpki_only", |b| b.iter(webpki_once));
    group.bench_function("mamori_pinned", |b| b.iter(mamori_once));
    group.finish();

    // Criterion measures the two functions one after the other; on a shared
    // machine the load changes in between. The ratio is therefore also
    // measured paired: short alternating batches, median of per-round ratios.
    let (ratio, webpki_us, mamori_us) = paired_ratio(&webpki_once, &mamori_once);
    println!(
        "pinning/{label}: paired median webpki {webpki_us:.1} µs, mamori {mamori_us:.1} µs, \
         mamori/webpki = {ratio:.3} (pinning adds {:+.1} %)",
        (ratio - 1.0) * 100.0
    );
}

/// Median over rounds of (time of `b`) / (time of `a`), each round timing a
/// short batch of each in alternating order.
fn paired_ratio(a: &dyn Fn(), b: &dyn Fn()) -> (f64, f64, f64) {
    const ROUNDS: usize = 300;
    const BATCH: u32 = 10;
    let time = |f: &dyn Fn()| {
        let t = Instant::now();
        for _ in 0..BATCH {
            f();
        }
        t.elapsed().as_secs_f64() * 1e6 / f64::from(BATCH)
    };
    let (mut ratios, mut ta, mut tb) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let (x, y) = if round % 2 == 0 {
            let x = time(a);
            (x, time(b))
        } else {
            let y = time(b);
            (time(a), y)
        };
        ratios.push(y / x);
        ta.push(x);
        tb.push(y);
    }
    (median(&mut ratios), median(&mut ta), median(&mut tb))
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn benches(cr: &mut Criterion) {
    bench_chain(cr, "p256", &chain([p256(), p256(), p256()]));
    match (rsa2048(), rsa2048(), rsa2048()) {
        (Some(a), Some(b), Some(c)) => bench_chain(cr, "rsa2048", &chain([a, b, c])),
        _ => eprintln!("openssl not available: skipping the RSA-2048 chain"),
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
