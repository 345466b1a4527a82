//! JSON and SARIF audit output is written as it is produced: the heap it
//! needs is one finding's, not the document's (issue 15: SARIF for a 20 MB
//! NSC file peaked at 2 GB). Measured with a counting global allocator, in
//! its own test binary so no other test allocates meanwhile.

use mamori::audit::output::{AuditResult, write_json, write_sarif};
use mamori::audit::{self, AuditOptions, Lang, NscOptions, SourceFormat};
use peak_alloc::PeakAlloc;

#[global_allocator]
static HEAP: PeakAlloc = PeakAlloc;

/// An NSC file with `n` domains pinned to a single key each: one finding
/// per domain at least (a single pin has no backup, BP-5).
fn nsc(n: usize) -> String {
    let mut s = String::from("<network-security-config>\n");
    for i in 0..n {
        s.push_str(&format!(
            "<domain-config><domain>host{i}.example.com</domain><pin-set>\
             <pin digest=\"SHA-256\">AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=</pin>\
             </pin-set></domain-config>\n"
        ));
    }
    s.push_str("</network-security-config>\n");
    s
}

/// Peak heap growth, in bytes, while writing the audit of `n` domains.
fn peak_while_writing(
    n: usize,
    write: fn(&AuditResult, &mut dyn std::io::Write) -> std::io::Result<()>,
) -> (usize, usize) {
    let text = nsc(n);
    let cfg = audit::import_bytes(
        text.as_bytes(),
        "big.xml",
        Some(SourceFormat::Nsc),
        NscOptions::default(),
        None,
    )
    .expect("the generated NSC imports");
    let configs = [cfg];
    let at = time::macros::datetime!(2026-01-15 00:00 UTC);
    let findings = audit::audit(&configs, &AuditOptions::at(at));
    let result = AuditResult {
        configs: &configs,
        chains: &[],
        findings: &findings,
        at: "2026-01-15".into(),
        lang: Lang::En,
    };
    let mut written = 0usize;
    struct Count<'a>(&'a mut usize);
    impl std::io::Write for Count<'_> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            *self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let before = HEAP.current_usage();
    HEAP.reset_peak_usage();
    write(&result, &mut Count(&mut written)).unwrap();
    let peak = HEAP.peak_usage().saturating_sub(before);
    assert!(
        findings.len() >= n,
        "{} findings for {n} domains",
        findings.len()
    );
    (peak, written)
}

#[test]
fn json_and_sarif_heap_does_not_grow_with_the_findings() {
    for (name, write) in [
        (
            "json",
            write_json as fn(&AuditResult, &mut dyn std::io::Write) -> std::io::Result<()>,
        ),
        ("sarif", write_sarif),
    ] {
        let (small, small_out) = peak_while_writing(500, write);
        let (large, large_out) = peak_while_writing(8_000, write);
        assert!(
            large_out > 10 * small_out / 2,
            "{name}: {small_out} -> {large_out} bytes"
        );
        // 16x the findings (and megabytes more output): the peak stays
        // within a buffer's and a finding's worth of the small run's.
        assert!(
            large < small + 256 * 1024,
            "{name}: peak heap {small} B for 500 domains, {large} B for 8000 ({large_out} B written)"
        );
    }
}
