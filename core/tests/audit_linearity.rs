//! The importers and rule checks are linear in their input (issue 9, item 7),
//! proven by counting work, not by timing it.
//!
//! Each case runs the same import (and audit) on an input of size N and of
//! size 4N, each in its own process under valgrind's callgrind, which counts
//! the instructions executed inside the measured function, exactly, whatever
//! the machine's load. One-time set-up (suffix list, rule table) is paid by
//! a warm-up on a one-item input before the measured call. Linear work grows
//! about 4x from N to 4N; the three quadratic versions the review found grow
//! towards 16x as the quadratic term dominates (the reverted backup-pin
//! checks measured 7.96x at the sizes below); the bound is 6x:
//! - OkHttp source: counting lines from the start of the file at every
//!   `.add(` (3.3 MB: 36 s);
//! - TrustKit plist: finding each key's line by rescanning the text (4 MB:
//!   32 s);
//! - rule checks: duplicate and placeholder backups searched in `Vec`s
//!   (40,000 pins: 16 s);
//! - Mamori policy: each domain's line found by searching the text from its
//!   start and counting the newlines before the match (8,000 domains,
//!   1.3 MB: 152 s in a debug build, 2,000: 7.7 s; found by the fuzzing
//!   round's audit, not by the fuzzer, whose inputs stay under 4 KB);
//! - a `CertificatePinner.Builder()` chain of N `.add(` calls: each call
//!   walked the chain below it to find its builder (10,000 calls: 20 s;
//!   found by an adversarial review);
//! - a Java declaration of N declarators (`int a0, a1, ...;`): the evaluator
//!   searched the whole declaration's text for `CertificatePinner` once per
//!   declarator (14.31x at these sizes before the fix), and the lexical
//!   pre-pass scanned from each declarator to the `;`.
//!
//! The counts are instructions of the whole import and audit, so a quadratic
//! loop put back anywhere on that path fails the test, not only where these
//! were. Needs valgrind (`scripts/deps/linearity.apt`, installed by
//! `scripts/install-deps.sh`); without it the tests fail.

use std::path::Path;
use std::process::Command;

use mamori::audit::{self, AuditOptions, NscOptions, SourceFormat};
use mamori::pinning::Pin;

/// The most `4N / N` may cost (linear: about 4; the reverted backup-pin
/// quadratic measured 7.96x at these sizes).
const MAX_GROWTH: f64 = 6.0;

/// The variable that makes [`workload`] run instead of being skipped.
const WORKLOAD: &str = "MAMORI_LINEARITY_WORKLOAD";

fn pin(i: usize, salt: u8) -> String {
    let mut d = [salt; 32];
    d[..8].copy_from_slice(&(i as u64).to_le_bytes());
    Pin::from_digest(d).base64()
}

/// A Kotlin `CertificatePinner` with `n` multi-line `.add(` calls (as the
/// `audit_source` bench writes them).
fn okhttp_source(n: usize) -> String {
    let mut s = String::from(
        "package com.example.net\n\nimport okhttp3.CertificatePinner\n\nclass Client {\n    fun pinner(): CertificatePinner {\n        val b = CertificatePinner.Builder()\n",
    );
    for i in 0..n {
        s.push_str(&format!(
            "        b.add(\n            \"h{i}.api.example.com\",\n            \"sha256/{}\",\n            \"sha256/{}\",\n        )\n",
            pin(i, 1),
            pin(i, 2)
        ));
    }
    s.push_str("        return b.build()\n    }\n}\n");
    s
}

/// One `CertificatePinner.Builder()` chain of `n` `.add(` calls: every call
/// walked the whole chain below it to find its builder (10,000 calls: 20 s).
fn okhttp_chain(n: usize) -> String {
    let mut s = String::from(
        "package com.example.net\n\nimport okhttp3.CertificatePinner\n\nval pinner = CertificatePinner.Builder()\n",
    );
    for i in 0..n {
        s.push_str(&format!(
            "    .add(\"h{i}.api.example.com\", \"sha256/{}\", \"sha256/{}\")\n",
            pin(i, 1),
            pin(i, 2)
        ));
    }
    s.push_str("    .build()\n");
    s
}

/// A Java pinner next to one declaration of `n` declarators
/// (`int a0, a1, ...;`): the lexical pre-pass scanned from every declarator
/// to the `;`.
fn java_declarators(n: usize) -> String {
    let mut s = String::from(
        "import okhttp3.CertificatePinner;\n\nclass Pins {\n    static final CertificatePinner PINNER = new CertificatePinner.Builder()\n        .add(\"api.example.com\", \"sha256/",
    );
    s.push_str(&format!(
        "{}\", \"sha256/{}\")\n        .build();\n    int a",
        pin(0, 1),
        pin(0, 2)
    ));
    for i in 0..n {
        s.push_str(&format!(",\n        a{i}"));
    }
    s.push_str(";\n}\n");
    s
}

/// A TrustKit Info.plist with `n` pinned domains (as the `audit_large`
/// bench writes them).
fn trustkit_plist(n: usize) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">\n<dict>\n<key>TSKConfiguration</key>\n<dict>\n<key>TSKPinnedDomains</key>\n<dict>\n",
    );
    for i in 0..n {
        s.push_str(&format!(
            "<key>h{i}.example.com</key>\n<dict>\n<key>TSKIncludeSubdomains</key>\n<true/>\n<key>TSKPublicKeyHashes</key>\n<array>\n<string>{}</string>\n<string>{}</string>\n</array>\n</dict>\n",
            pin(i, 1),
            pin(i, 2)
        ));
    }
    s.push_str("</dict>\n</dict>\n</dict>\n</plist>\n");
    s
}

/// One OkHttp list line: a host with `n` backup pins, a quarter of them
/// repeated and every tenth a placeholder (one repeated byte), which the
/// duplicate and placeholder checks report.
fn many_pins(n: usize) -> String {
    let mut s = String::from("api.example.com");
    for i in 0..n {
        let p = match i {
            _ if i % 10 == 9 => Pin::from_digest([(i / 10 % 251) as u8; 32]).base64(),
            _ if i % 4 == 3 => pin(i / 2, 3),
            _ => pin(i, 3),
        };
        s.push_str(" sha256/");
        s.push_str(&p);
    }
    s.push('\n');
    s
}

/// A Mamori pin policy (TOML) with `n` pinned domains.
fn mamori_policy(n: usize) -> String {
    let mut s = String::from("version = 1\n\n[trust]\nmozilla_roots = true\n");
    for i in 0..n {
        s.push_str(&format!(
            "\n[[domain]]\nhost = \"h{i}.api.example.com\"\npins = [\"sha256/{}\", \"sha256/{}\"]\n",
            pin(i, 1),
            pin(i, 2)
        ));
    }
    s
}

/// `(generator, file name, format)` of each case.
fn case(name: &str) -> (fn(usize) -> String, &'static str, SourceFormat) {
    match name {
        "okhttp" => (okhttp_source, "Client.kt", SourceFormat::OkHttp),
        "chain" => (okhttp_chain, "Pinner.kt", SourceFormat::OkHttp),
        "declarators" => (java_declarators, "Pins.java", SourceFormat::OkHttp),
        "plist" => (trustkit_plist, "Info.plist", SourceFormat::TrustKit),
        "pins" => (many_pins, "pins.txt", SourceFormat::OkHttp),
        "mamori" | "report" => (mamori_policy, "policy.toml", SourceFormat::Mamori),
        other => panic!("unknown linearity case {other}"),
    }
}

/// Runs in the child process: imports (and, for `pins`, audits) the file
/// `MAMORI_LINEARITY_WORKLOAD` names (`case:path`), after a warm-up on a
/// one-item input that pays the one-time costs (suffix list, rule table).
/// Without the variable (a normal test run) it does nothing.
#[test]
fn workload() {
    let Ok(spec) = std::env::var(WORKLOAD) else {
        return;
    };
    let (name, path) = spec.split_once(':').expect("case:path");
    let (make, _, _) = case(name);
    run(name, make(1).as_bytes());
    let bytes = std::fs::read(path).expect("workload input");
    if name == "report" {
        let (_, file, format) = case(name);
        let cfg = audit::import_bytes(&bytes, file, Some(format), NscOptions::default(), None)
            .expect("the generated input imports");
        let configs = std::slice::from_ref(&cfg);
        let findings = audit::audit(configs, &AuditOptions::at(REPORT_AT));
        measured_work_report(configs, &findings);
    } else {
        measured_work(name, &bytes);
    }
}

/// The work counted: callgrind collects only inside this function.
#[inline(never)]
fn measured_work(name: &str, bytes: &[u8]) {
    run(name, bytes);
}

#[inline(never)]
fn run(name: &str, bytes: &[u8]) {
    let (_, file, format) = case(name);
    let cfg = audit::import_bytes(bytes, file, Some(format), NscOptions::default(), None)
        .expect("the generated input imports");
    assert!(!cfg.domains.is_empty());
    if name == "pins" {
        let opts = AuditOptions::at(time::macros::datetime!(2026-06-01 00:00 UTC));
        std::hint::black_box(audit::audit(std::slice::from_ref(&cfg), &opts));
    }
    if name == "report" {
        let configs = std::slice::from_ref(&cfg);
        let findings = audit::audit(configs, &AuditOptions::at(REPORT_AT));
        report(configs, &findings);
    }
    std::hint::black_box(cfg);
}

const REPORT_AT: time::OffsetDateTime = time::macros::datetime!(2026-06-01 00:00 UTC);

fn report(configs: &[audit::AuditConfig], findings: &[audit::AuditFinding]) {
    let input = audit::report::ReportInput {
        app: None,
        at: REPORT_AT,
        lang: audit::Lang::En,
        command_line: "mamori report policy.toml".into(),
        files: Vec::new(),
        apps: Vec::new(),
        configs,
        findings,
        device: None,
        storage: None,
        chains: 0,
    };
    std::hint::black_box(audit::report::markdown(&input));
}

/// The work counted for the `report` case: the report only (its import
/// and audit, counted by the other cases, run before collection starts).
#[inline(never)]
fn measured_work_report(configs: &[audit::AuditConfig], findings: &[audit::AuditFinding]) {
    report(configs, findings);
}

/// One valgrind child at a time: the counts do not depend on load, but the
/// source parser's wall-clock backstop (`PARSE_SECONDS_BASE`) does, and
/// six callgrind runs of the debug build sharing two cores made the 4N
/// OkHttp source (195 KB) spend its 6 s and fail with `ParseBudget`.
static ONE_VALGRIND: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Instructions [`measured_work`] executes on an input of `n` items.
fn instructions(name: &str, n: usize, dir: &Path) -> u64 {
    let _one = ONE_VALGRIND
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (make, file, _) = case(name);
    let input = dir.join(format!("{n}-{file}"));
    std::fs::write(&input, make(n)).unwrap();
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("valgrind")
        .args([
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            "--collect-atstart=no",
            "--toggle-collect=*measured_work*",
        ])
        .arg(&exe)
        .args(["workload", "--exact", "--test-threads=1", "--quiet"])
        .env(WORKLOAD, format!("{name}:{}", input.display()))
        .output()
        .unwrap_or_else(|e| {
            panic!("valgrind is needed for the linearity tests ({e}): run scripts/install-deps.sh")
        });
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "workload {name} n={n} failed:\n{}\n{stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    // `==123== Collected : 1234567`
    let line = stderr
        .lines()
        .find(|l| l.contains("Collected :"))
        .unwrap_or_else(|| panic!("no instruction count in valgrind's output:\n{stderr}"));
    line.rsplit(':')
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("instruction count in {line:?}: {e}"))
}

/// Fails unless the work for `4n` items is at most [`MAX_GROWTH`] times the
/// work for `n`.
fn assert_linear(name: &str, n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let small = instructions(name, n, dir.path());
    let large = instructions(name, 4 * n, dir.path());
    let growth = large as f64 / small as f64;
    println!("{name}: n={n}: {small}, 4n: {large} instructions; growth {growth:.2}x");
    assert!(
        growth <= MAX_GROWTH,
        "{name}: 4x the input cost {growth:.2}x the instructions (n={n}: {small}, 4n: {large}); \
         linear work grows about 4x"
    );
    assert!(
        growth >= 3.0,
        "{name}: growth {growth:.2}x: the input did not scale"
    );
}

#[test]
fn okhttp_source_lines_are_found_in_linear_work() {
    assert_linear("okhttp", 250);
}

#[test]
fn a_long_builder_chain_is_read_in_linear_work() {
    assert_linear("chain", 250);
}

#[test]
fn the_lexical_pre_pass_is_linear_in_the_declarators() {
    assert_linear("declarators", 1_000);
}

#[test]
fn trustkit_plist_key_lines_are_found_in_linear_work() {
    assert_linear("plist", 125);
}

#[test]
fn mamori_policy_domain_lines_are_found_in_linear_work() {
    // Each domain's line was found by searching the text from its start and
    // counting the newlines before the match: quadratic in the domains.
    assert_linear("mamori", 500);
}

#[test]
fn the_report_of_a_large_policy_is_linear_work() {
    // The per-host table collected hosts with a `Vec::contains` and found
    // each host's rule by scanning every domain: quadratic in the domains.
    assert_linear("report", 500);
}

#[test]
fn duplicate_and_placeholder_backup_checks_are_linear_in_the_pins() {
    assert_linear("pins", 1_000);
}
