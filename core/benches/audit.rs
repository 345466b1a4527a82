//! Auditing 1,000 domains with 3 pins each against 1,000 supplied chains:
//! import of the NSC file, chain parsing and every rule (target: under 1 s).

use criterion::{Criterion, criterion_group, criterion_main};
use mamori::audit::AuditOptions;
use mamori::audit::SuppliedChain;
use mamori::audit::{self, NscOptions, SourceFormat};
use mamori::pinning::Pin;

const N: usize = 1000;

fn setup() -> (String, Vec<Vec<u8>>) {
    use mamori_tests::{KeyKind, LeafSpec, leaf_cert, root_ca};
    let ca = root_ca("Bench CA", KeyKind::P256);
    let leaf = leaf_cert(&LeafSpec::new(&["bench.example.com"]), &ca);
    let ca_pin = Pin::of_certificate(&ca.der).unwrap().base64();
    let mut xml = String::from("<network-security-config>\n");
    for i in 0..N {
        let b1 = Pin::from_digest([(i % 251) as u8 + 1; 32]).base64();
        let mut d = [7u8; 32];
        d[0] = (i % 256) as u8;
        d[1] = (i / 256) as u8;
        let b2 = Pin::from_digest(d).base64();
        xml.push_str(&format!(
            "<domain-config><domain>h{i}.example.com</domain><pin-set expiration=\"2030-01-01\"><pin digest=\"SHA-256\">{ca_pin}</pin><pin digest=\"SHA-256\">{b1}</pin><pin digest=\"SHA-256\">{b2}</pin></pin-set></domain-config>\n"
        ));
    }
    xml.push_str("</network-security-config>\n");
    (xml, vec![leaf.der.to_vec(), ca.der.to_vec()])
}

fn bench(c: &mut Criterion) {
    let (xml, chain) = setup();
    let at = time::macros::datetime!(2026-06-01 00:00 UTC);
    c.bench_function("audit 1000 domains x 3 pins with 1000 chains", |b| {
        b.iter(|| {
            let cfg = audit::import_bytes(
                xml.as_bytes(),
                "bench.xml",
                Some(SourceFormat::Nsc),
                NscOptions::default(),
                None,
            )
            .unwrap();
            let chains: Vec<SuppliedChain> = (0..N)
                .map(|i| {
                    SuppliedChain::from_der(&format!("h{i}.example.com"), "bench.pem", &chain)
                        .unwrap()
                })
                .collect();
            let mut opts = AuditOptions::at(at);
            opts.chains = chains;
            let findings = audit::audit(std::slice::from_ref(&cfg), &opts);
            assert!(findings.iter().all(|f| f.rule != "PIN-CHAIN-MISMATCH"));
            findings
        })
    });
    // The parts, for the report: import alone, and chain parsing alone.
    c.bench_function("import NSC with 1000 domains", |b| {
        b.iter(|| {
            audit::import_bytes(
                xml.as_bytes(),
                "bench.xml",
                Some(SourceFormat::Nsc),
                NscOptions::default(),
                None,
            )
            .unwrap()
        })
    });
    c.bench_function("parse 1000 supplied chains", |b| {
        b.iter(|| {
            (0..N)
                .map(|i| {
                    SuppliedChain::from_der(&format!("h{i}.example.com"), "bench.pem", &chain)
                        .unwrap()
                })
                .collect::<Vec<_>>()
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
