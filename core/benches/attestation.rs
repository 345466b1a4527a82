//! Attestation verification, on the shared real-device vectors.
//!
//! Target (issue 16): one Android chain (4 certificates) and one App Attest
//! object each verified in under 2 ms. The vectors are read from
//! `../shared/testdata/` (never copied into the repository).
//!
//! Contenders, measured in the same run: bare rustls-webpki path validation
//! of the *same* chains (`webpki_chain_*`: the chain's signatures and
//! validity only, anchored at its own root, none of the attestation
//! parsing, root pinning, revocation or nonce checks). The ratio
//! `verify / webpki` is what Mamori's checks cost over the signatures alone.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use criterion::{Criterion, criterion_group, criterion_main};
use mamori::attestation::*;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, UnixTime};

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata")
}

fn bench(c: &mut Criterion) {
    // blueline/sdk28/TEE_EC_NONE: a factory chain of 4 (RSA-4096 root and
    // intermediate, two P-256 links), verified at 2024-10-20.
    let pem =
        std::fs::read(shared().join("keyattestation/testdata/blueline/sdk28/TEE_EC_NONE.pem"))
            .unwrap();
    let roots = GoogleRoots::bundled();
    let mut opts = AndroidOptions::new(
        &roots,
        UnixTime::since_unix_epoch(Duration::from_secs(1_729_382_400)),
    );
    opts.challenge = Some(b"challenge");
    verify_android_pem(&pem, &opts).unwrap();
    c.bench_function("android_chain_4_certs", |b| {
        b.iter(|| verify_android_pem(black_box(&pem), &opts).unwrap())
    });
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
        .map(|c| c.unwrap())
        .collect();
    assert_eq!(chain.len(), 4);
    c.bench_function("webpki_chain_android_4_certs", webpki_contender(chain));

    let vectors: serde_json::Value =
        serde_json::from_slice(&std::fs::read(shared().join("appattest/vectors.json")).unwrap())
            .unwrap();
    let v = vectors["attestations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "node-app-attest-production")
        .unwrap();
    let b64 = |k: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(v[k].as_str().unwrap())
            .unwrap()
    };
    let (object, key_id, hash) = (
        b64("attestation_object_b64"),
        b64("key_id_b64"),
        b64("client_data_hash_b64"),
    );
    let app_id = v["app_id"].as_str().unwrap();
    // verify_at 2024-02-07T21:08:56Z
    let time = UnixTime::since_unix_epoch(Duration::from_secs(1_707_340_136));
    let apple_roots = [apple_app_attestation_root()];
    let opts = AppleOptions::new(&apple_roots, time, app_id, &key_id, &hash);
    verify_app_attest(&object, &opts).unwrap();
    c.bench_function("app_attest_object", |b| {
        b.iter(|| verify_app_attest(black_box(&object), &opts).unwrap())
    });
    // The same object's x5c (credential certificate, intermediate), anchored
    // at Apple's App Attestation root as the verifier does.
    let decoded: ciborium::Value = ciborium::from_reader(object.as_slice()).unwrap();
    let field = |v: &ciborium::Value, k: &str| -> ciborium::Value {
        v.as_map()
            .unwrap()
            .iter()
            .find(|(key, _)| key.as_text() == Some(k))
            .unwrap()
            .1
            .clone()
    };
    let mut chain: Vec<CertificateDer<'static>> = field(&field(&decoded, "attStmt"), "x5c")
        .as_array()
        .unwrap()
        .iter()
        .map(|c| CertificateDer::from(c.as_bytes().unwrap().clone()))
        .collect();
    chain.push(CertificateDer::from(apple_roots[0].clone()));
    c.bench_function("webpki_chain_app_attest_2_certs", webpki_contender(chain));
}

/// Bare webpki validation of `chain` (leaf first, its root last), at a time
/// when every certificate in it is valid.
fn webpki_contender(chain: Vec<CertificateDer<'static>>) -> impl FnMut(&mut criterion::Bencher) {
    let (mut from, mut to) = (i64::MIN, i64::MAX);
    for c in &chain {
        let (_, cert) = x509_parser::parse_x509_certificate(c).unwrap();
        from = from.max(cert.validity().not_before.timestamp());
        to = to.min(cert.validity().not_after.timestamp());
    }
    assert!(from < to, "no instant at which every certificate is valid");
    let time = UnixTime::since_unix_epoch(Duration::from_secs(u64::try_from(from + 1).unwrap()));
    let root = chain.last().unwrap().clone();
    let verify = move || {
        let anchors = [webpki::anchor_from_trusted_cert(&root).unwrap()];
        let ee = webpki::EndEntityCert::try_from(&chain[0]).unwrap();
        ee.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &anchors,
            &chain[1..chain.len() - 1],
            time,
            webpki::KeyUsage::client_auth(),
            None,
            None,
        )
        .map(|_| ())
    };
    verify().expect("webpki accepts the chain");
    move |b| b.iter(|| black_box(verify()).unwrap())
}

criterion_group!(benches, bench);
criterion_main!(benches);
