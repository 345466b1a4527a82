//! Auditing a 100 MB APK (issue 13): the manifest, resource table and NSC
//! compiled by Debian's aapt (the fuzz seeds), a 10 MB `classes.dex`, and
//! other assets: 65 MiB stored (random bytes, like media) and 45 MiB of
//! 16-letter text deflated to about half. Target: under 2 s with bounded memory (the
//! archive is streamed; only the manifest, table, NSC, anchor and dex are
//! decompressed). Contender in the same run: streaming SHA-256 of the same
//! file, which any audit that names the package by its digest must pay.

use std::io::{Read as _, Write as _};

use criterion::{Criterion, criterion_group, criterion_main};
use mamori::audit::{self, package};

fn seed(target: &str, name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../fuzz/corpus/{target}/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fuzz seed")
}

/// xorshift: incompressible filler without a dependency.
fn noise(n: usize, mut s: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        out.extend_from_slice(&s.to_le_bytes());
    }
    out.truncate(n);
    out
}

fn build(path: &std::path::Path) {
    use zip::write::SimpleFileOptions;
    let stored = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let deflated =
        SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut w = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let ca = mamori_tests::root_ca("Bench CA", mamori_tests::KeyKind::P256);
    for (name, data) in [
        (
            "AndroidManifest.xml",
            seed("package_axml", "seed-manifest.axml"),
        ),
        (
            "resources.arsc",
            seed("package_arsc", "seed-resources.arsc"),
        ),
        (
            "res/xml/network_security_config.xml",
            seed("package_axml", "seed-nsc.axml"),
        ),
        ("res/raw/ca.pem", ca.pem.into_bytes()),
    ] {
        w.start_file(name, deflated).unwrap();
        w.write_all(&data).unwrap();
    }
    // A dex: the tiny seed's header and strings, then 10 MB of code units.
    let mut dex = seed("package_dex", "seed-tiny.dex");
    dex.extend(noise(10 << 20, 1));
    w.start_file("classes.dex", deflated).unwrap();
    w.write_all(&dex).unwrap();
    for i in 0..65 {
        w.start_file(format!("assets/media/{i}.bin"), stored)
            .unwrap();
        w.write_all(&noise(1 << 20, i + 2)).unwrap();
    }
    for i in 0..45 {
        // Text-like (16 letters): compresses about 2:1.
        let text: Vec<u8> = noise(1 << 20, i + 100)
            .iter()
            .map(|b| b"abcdefghijklmnop"[usize::from(b & 0x0f)])
            .collect();
        w.start_file(format!("assets/text/{i}.txt"), deflated)
            .unwrap();
        w.write_all(&text).unwrap();
    }
    w.finish().unwrap();
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let apk = dir.path().join("big.apk");
    build(&apk);
    let size = std::fs::metadata(&apk).unwrap().len();
    eprintln!("bench APK: {:.1} MB", size as f64 / 1e6);
    let p = package::load_package(&apk).expect("the bench APK reads");
    assert_eq!(p.configs.len(), 2, "NSC and the DEX heuristic");
    let mut g = c.benchmark_group("package");
    g.sample_size(10);
    // Read the package and run every rule on it: what `mamori audit app.apk`
    // does before printing.
    let opts = audit::AuditOptions::at(time::OffsetDateTime::UNIX_EPOCH);
    g.bench_function("audit a 100 MB APK", |b| {
        b.iter(|| {
            let p = package::load_package(&apk).unwrap();
            let findings = audit::audit_packages(&p.configs, std::slice::from_ref(&p), &opts);
            (p, findings)
        })
    });
    g.bench_function("contender: SHA-256 of the same file", |b| {
        b.iter(|| {
            let mut f = std::fs::File::open(&apk).unwrap();
            let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
            let mut buf = vec![0u8; 1 << 16];
            loop {
                let n = f.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                ctx.update(&buf[..n]);
            }
            ctx.finish()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
