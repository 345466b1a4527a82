//! Attestation verification, on the shared real-device vectors.
//!
//! Target (issue 16): one Android chain (4 certificates) and one App Attest
//! object each verified in under 2 ms. The vectors are read from
//! `../shared/testdata/` (never copied into the repository).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use criterion::{Criterion, criterion_group, criterion_main};
use mamori::attestation::*;
use rustls_pki_types::UnixTime;

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
}

criterion_group!(benches, bench);
criterion_main!(benches);
