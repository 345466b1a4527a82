//! Importing and auditing large generated configurations (issue 9, item 7):
//! an NSC file and a TrustKit XML plist of 10 MB and 50 MB (under
//! `MAX_INPUT_BYTES`, 64 MiB), each against its parser alone (roxmltree,
//! the `plist` crate) as the contender measured in the same run, and an
//! OkHttp pin list against splitting its lines into words. Target:
//! under a second per 10 MB, i.e. linear in the input size.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mamori::audit::{self, AuditOptions, NscOptions, SourceFormat};
use mamori::pinning::Pin;

const MB: usize = 1 << 20;

fn pin(i: usize, salt: u8) -> String {
    let mut d = [salt; 32];
    d[..8].copy_from_slice(&(i as u64).to_le_bytes());
    Pin::from_digest(d).base64()
}

/// An NSC file of about `size` bytes: one `domain-config` per host, two
/// pins each (every tenth unpadded, as real files have them).
fn nsc(size: usize) -> String {
    let mut s = String::with_capacity(size + 1024);
    s.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<network-security-config>\n");
    let mut i = 0;
    while s.len() < size {
        let (a, b) = (pin(i, 1), pin(i, 2));
        let a = if i % 10 == 0 {
            a.trim_end_matches('=')
        } else {
            &a
        };
        s.push_str(&format!(
            "<domain-config><domain includeSubdomains=\"true\">h{i}.example.com</domain><pin-set expiration=\"2030-01-01\"><pin digest=\"SHA-256\">{a}</pin><pin digest=\"SHA-256\">{b}</pin></pin-set></domain-config>\n"
        ));
        i += 1;
    }
    s.push_str("</network-security-config>\n");
    s
}

/// A TrustKit Info.plist of about `size` bytes: one pinned domain per host.
fn plist(size: usize) -> String {
    let mut s = String::with_capacity(size + 1024);
    s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\">\n<dict>\n<key>TSKConfiguration</key>\n<dict>\n<key>TSKPinnedDomains</key>\n<dict>\n");
    let mut i = 0;
    while s.len() < size {
        s.push_str(&format!(
            "<key>h{i}.example.com</key>\n<dict>\n<key>TSKIncludeSubdomains</key>\n<true/>\n<key>TSKPublicKeyHashes</key>\n<array>\n<string>{}</string>\n<string>{}</string>\n</array>\n</dict>\n",
            pin(i, 1),
            pin(i, 2)
        ));
        i += 1;
    }
    s.push_str("</dict>\n</dict>\n</dict>\n</plist>\n");
    s
}

/// An OkHttp pin list (`pattern sha256/… sha256/…` per line) of about
/// `size` bytes: one host per line, two pins each.
fn okhttp_list(size: usize) -> String {
    let mut s = String::with_capacity(size + 1024);
    s.push_str("# CertificatePinner pins\n");
    let mut i = 0;
    while s.len() < size {
        s.push_str(&format!(
            "h{i}.example.com sha256/{} sha256/{}\n",
            pin(i, 1),
            pin(i, 2)
        ));
        i += 1;
    }
    s
}

fn bench(c: &mut Criterion) {
    let at = time::macros::datetime!(2026-06-01 00:00 UTC);
    let opts = AuditOptions::at(at);
    for (format, make) in [
        (SourceFormat::Nsc, nsc as fn(usize) -> String),
        (SourceFormat::TrustKit, plist),
        (SourceFormat::OkHttp, okhttp_list),
    ] {
        let mut g = c.benchmark_group(format!("large {}", format.as_str()));
        g.sample_size(10);
        g.measurement_time(Duration::from_secs(20));
        for mb in [10, 50] {
            let text = make(mb * MB);
            g.throughput(Throughput::Bytes(text.len() as u64));
            g.bench_with_input(
                BenchmarkId::new("import and audit", format!("{mb} MB")),
                &text,
                |b, text| {
                    b.iter(|| {
                        let cfg = audit::import_bytes(
                            text.as_bytes(),
                            "large",
                            Some(format),
                            NscOptions::default(),
                            None,
                        )
                        .unwrap();
                        audit::audit(std::slice::from_ref(&cfg), &opts)
                    })
                },
            );
            g.bench_with_input(
                BenchmarkId::new("parser alone", format!("{mb} MB")),
                &text,
                |b, text| {
                    b.iter(|| match format {
                        SourceFormat::Nsc => {
                            let opts = roxmltree::ParsingOptions {
                                nodes_limit: mamori::limits::MAX_XML_NODES,
                                ..Default::default()
                            };
                            black_box(
                                roxmltree::Document::parse_with_options(text, opts)
                                    .unwrap()
                                    .descendants()
                                    .count(),
                            );
                        }
                        SourceFormat::OkHttp => {
                            // No parser to compare with: the words of each
                            // line, which any reader of the list splits.
                            black_box(
                                text.lines()
                                    .map(|l| l.split_whitespace().count())
                                    .sum::<usize>(),
                            );
                        }
                        _ => {
                            black_box(
                                plist::Value::from_reader(std::io::Cursor::new(text.as_bytes()))
                                    .unwrap(),
                            );
                        }
                    })
                },
            );
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
