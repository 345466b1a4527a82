//! Every importer bounds the nesting depth and size of its input (issue 9,
//! item 1): a hostile file gets a typed error naming the limit, never a stack
//! overflow (an abort that neither `catch_unwind` nor uniffi can stop).
//!
//! A stack overflow kills the whole process, so each case runs in a child
//! process (this test binary re-run with one exact test name): the parent
//! sees a signal as a failure instead of dying with it.

use std::process::Command;

use mamori::audit::{self, ImportError, NscOptions};
use mamori::device::{DeviceFacts, DevicePolicy, FactsError, PolicyError as DevicePolicyError};
use mamori::limits::{
    LimitError, MAX_INPUT_BYTES, MAX_NESTING_DEPTH, MAX_PARSE_STEPS_PER_BYTE, PARSE_STEPS_BASE,
};
use mamori::pinning::{PinPolicy, ProblemKind};

const CHILD: &str = "MAMORI_INPUT_LIMITS_CHILD";

/// Runs `body` in a child process (with a 1 MiB stack thread, so the
/// inputs below overflow it without a limit) and fails if the child fails.
fn isolated(name: &str, body: fn()) {
    if std::env::var(CHILD).as_deref() == Ok(name) {
        std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(body)
            .unwrap()
            .join()
            .unwrap();
        return;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--test-threads=1", "--nocapture"])
        .env(CHILD, name)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{name} failed in the child process ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

fn nested(open: &str, close: &str, n: usize, inner: &str) -> String {
    let mut s = String::with_capacity((open.len() + close.len()) * n + inner.len());
    for _ in 0..n {
        s.push_str(open);
    }
    s.push_str(inner);
    for _ in 0..n {
        s.push_str(close);
    }
    s
}

fn assert_depth_limit(limit: &LimitError) {
    assert!(
        matches!(limit, LimitError::TooDeep { limit } if *limit == MAX_NESTING_DEPTH),
        "{limit:?}"
    );
    assert!(limit.to_string().contains(&MAX_NESTING_DEPTH.to_string()));
}

fn import(bytes: &[u8]) -> Result<audit::AuditConfig, ImportError> {
    audit::import_bytes(bytes, "hostile", None, NscOptions::default(), None)
}

fn expect_import_limit(bytes: &[u8]) -> LimitError {
    match import(bytes) {
        Err(ImportError::Limit { limit, .. }) => limit,
        other => panic!("expected a limit error, got {:.300}", format!("{other:?}")),
    }
}

fn deep_nsc() {
    let n = 20_000;
    let mut body: String = (0..n)
        .map(|i| format!("<domain-config><domain>d{i}.example.com</domain>"))
        .collect();
    body.push_str(&"</domain-config>".repeat(n));
    let xml = format!("<network-security-config>{body}</network-security-config>");
    assert_depth_limit(&expect_import_limit(xml.as_bytes()));
}

#[test]
fn nsc_nesting_is_bounded() {
    isolated("nsc_nesting_is_bounded", deep_nsc);
}

fn deep_xml_plist() {
    let body = nested("<array>", "</array>", 300_000, "");
    let xml = format!(
        "<?xml version=\"1.0\"?><plist version=\"1.0\"><dict><key>TSKConfiguration</key>{body}</dict></plist>"
    );
    assert_depth_limit(&expect_import_limit(xml.as_bytes()));
}

#[test]
fn xml_plist_nesting_is_bounded() {
    isolated("xml_plist_nesting_is_bounded", deep_xml_plist);
}

/// A binary plist: a top dictionary `{"a": [[[...[]...]]]}` nested `n` deep.
fn binary_plist(n: usize) -> Vec<u8> {
    let mut out = b"bplist00".to_vec();
    let mut offsets = Vec::new();
    // object 0: the dictionary {1: 2}
    offsets.push(out.len());
    out.extend_from_slice(&[0xD1, 0, 0, 0, 1, 0, 0, 0, 2]);
    // object 1: the key "a"
    offsets.push(out.len());
    out.extend_from_slice(&[0x51, b'a']);
    // objects 2..2+n: one-element arrays, each holding the next
    for i in 0..n {
        offsets.push(out.len());
        out.push(0xA1);
        out.extend_from_slice(&((i + 3) as u32).to_be_bytes());
    }
    // the innermost: an empty array
    offsets.push(out.len());
    out.push(0xA0);
    let table = out.len();
    for o in &offsets {
        out.extend_from_slice(&(*o as u32).to_be_bytes());
    }
    out.extend_from_slice(&[0; 6]);
    out.extend_from_slice(&[4, 4]);
    out.extend_from_slice(&(offsets.len() as u64).to_be_bytes());
    out.extend_from_slice(&0u64.to_be_bytes());
    out.extend_from_slice(&(table as u64).to_be_bytes());
    out
}

fn deep_binary_plist() {
    assert!(import(&binary_plist(3)).is_err_and(|e| !matches!(e, ImportError::Limit { .. })));
    assert_depth_limit(&expect_import_limit(&binary_plist(300_000)));
}

#[test]
fn binary_plist_nesting_is_bounded() {
    isolated("binary_plist_nesting_is_bounded", deep_binary_plist);
}

fn pin_limit(r: Result<PinPolicy, mamori::pinning::PolicyError>) -> LimitError {
    let e = r.unwrap_err();
    match &e.problems[..] {
        [p] => match &p.kind {
            ProblemKind::Limit(l) => l.clone(),
            other => panic!(
                "expected a limit problem, got {:.300}",
                format!("{other:?}")
            ),
        },
        other => panic!("expected one problem, got {other:?}"),
    }
}

fn deep_pin_policy() {
    let toml = format!("x = {}", nested("[", "]", 100_000, ""));
    assert_depth_limit(&pin_limit(PinPolicy::from_toml(&toml)));
    let toml = format!("x = {}", nested("{a = ", "}", 100_000, "1"));
    assert_depth_limit(&pin_limit(PinPolicy::from_toml(&toml)));
    let json = format!("{{\"x\": {}}}", nested("[", "]", 100_000, ""));
    assert_depth_limit(&pin_limit(PinPolicy::from_json(&json)));
}

#[test]
fn pin_policy_nesting_is_bounded() {
    isolated("pin_policy_nesting_is_bounded", deep_pin_policy);
}

fn deep_device_inputs() {
    let json = format!("{{\"x\": {}}}", nested("[", "]", 100_000, ""));
    match DeviceFacts::from_json(&json) {
        Err(FactsError::Limit(l)) => assert_depth_limit(&l),
        other => panic!("expected a limit error, got {:.300}", format!("{other:?}")),
    }
    let toml = format!("x = {}", nested("[", "]", 100_000, ""));
    for text in [json.as_str(), toml.as_str()] {
        match DevicePolicy::from_text(text, "hostile") {
            Err(DevicePolicyError::Limit { limit, .. }) => assert_depth_limit(&limit),
            other => panic!("expected a limit error, got {:.300}", format!("{other:?}")),
        }
    }
}

#[test]
fn device_inputs_nesting_is_bounded() {
    isolated("device_inputs_nesting_is_bounded", deep_device_inputs);
}

#[test]
fn oversized_inputs_are_refused() {
    let mut big = "<network-security-config>".to_string();
    big.push_str(&" ".repeat(MAX_INPUT_BYTES));
    big.push_str("</network-security-config>");
    let limit = expect_import_limit(big.as_bytes());
    assert!(matches!(limit, LimitError::TooLarge { limit, .. } if limit == MAX_INPUT_BYTES));
    let e = pin_limit(PinPolicy::from_toml(&big));
    assert!(matches!(e, LimitError::TooLarge { .. }));
    assert!(matches!(
        DeviceFacts::from_json(&big),
        Err(FactsError::Limit(LimitError::TooLarge { .. }))
    ));
}

#[test]
fn realistic_nesting_still_parses() {
    // Just inside the limit: the importers still read it (and refuse it for
    // its content, not its shape).
    let body = nested("<array>", "</array>", MAX_NESTING_DEPTH - 3, "");
    let xml = format!("<plist version=\"1.0\"><dict><key>k</key>{body}</dict></plist>");
    assert!(!matches!(
        import(xml.as_bytes()),
        Err(ImportError::Limit { .. })
    ));
    let json = format!("{{\"x\": {}}}", nested("[", "]", MAX_NESTING_DEPTH - 2, ""));
    assert!(!matches!(
        DeviceFacts::from_json(&json),
        Err(FactsError::Limit(_))
    ));
}

/// A fuzzer's find (issue 9): 990 bytes of garbled Kotlin on which
/// tree-sitter's error recovery took 48 million parse actions (107 s in a
/// release build) before a budget existed. It is refused with the budget
/// named, whether read as OkHttp code or detected.
#[test]
fn a_source_file_the_grammar_cannot_recover_from_spends_its_parse_budget() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/data/audit/source/hostile/garbled-recovery.kt"
    );
    let text = std::fs::read(path).unwrap();
    for from in [Some(audit::SourceFormat::OkHttp), None] {
        let r = audit::import_bytes(&text, "Garbled.kt", from, NscOptions::default(), None);
        match r {
            Err(ImportError::Limit {
                limit: limit @ LimitError::ParseBudget { size, steps, .. },
                ..
            }) => {
                assert_eq!(size, text.len());
                assert_eq!(
                    steps,
                    PARSE_STEPS_BASE + MAX_PARSE_STEPS_PER_BYTE * text.len() as u64
                );
                assert!(limit.to_string().contains("MAX_PARSE_STEPS_PER_BYTE"));
            }
            other => panic!("{from:?}: expected the parse budget, got {other:.300?}"),
        }
    }
}

/// A review's find (issue 9): a pinner followed by lines of `val a = (`, on
/// which tree-sitter's recovery took 3.6 s for 50 KB in only 45,000 parse
/// actions (each one slower with every bracket left open), under the step
/// budget. Refused before parsing; a few unclosed brackets are still read.
#[test]
fn a_source_file_with_hundreds_of_unclosed_brackets_is_refused_before_parsing() {
    let head = "package a.b\nimport okhttp3.CertificatePinner\nfun f() {\nCertificatePinner.Builder().add(\"api.example.com\", \"sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\", \"sha256/BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=\").build()\n";
    let hostile = format!("{head}{}", "val a = (\n".repeat(5_000));
    let r = audit::import_bytes(
        hostile.as_bytes(),
        "Garbled.kt",
        Some(audit::SourceFormat::OkHttp),
        NscOptions::default(),
        None,
    );
    match r {
        Err(ImportError::Limit {
            limit: limit @ LimitError::Unbalanced { unclosed, .. },
            ..
        }) => {
            // The function's `{` and the 5,000 `(`.
            assert_eq!(unclosed, 5_001);
            assert!(limit.to_string().contains("MAX_UNCLOSED_BRACKETS"));
        }
        other => panic!("expected the unclosed-bracket limit, got {other:.300?}"),
    }
    let few = format!("{head}{}", "val a = (\n".repeat(3));
    let cfg = audit::import_bytes(
        few.as_bytes(),
        "Garbled.kt",
        Some(audit::SourceFormat::OkHttp),
        NscOptions::default(),
        None,
    )
    .expect("a few unclosed brackets are still read");
    assert!(!cfg.domains.is_empty());
}

/// Files given together are one import: the file that spends its budget
/// stops the others' parses and its error is the group's, whichever order
/// the files come in.
#[test]
fn a_hostile_file_among_others_fails_the_group_with_its_own_budget_error() {
    let garbled = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/data/audit/source/hostile/garbled-recovery.kt"
    ))
    .unwrap();
    let mut big =
        String::from("package a.b\n\nimport okhttp3.CertificatePinner\n\nobject Pins {\n");
    for i in 0..20_000 {
        big.push_str(&format!("    const val P{i} = \"sha256/{i}\"\n"));
    }
    big.push_str("}\n");
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("A.kt"), dir.path().join("Garbled.kt"));
    std::fs::write(&a, big).unwrap();
    std::fs::write(&b, &garbled).unwrap();
    for paths in [vec![a.clone(), b.clone()], vec![b.clone(), a.clone()]] {
        match audit::load_all(&paths, None, NscOptions::default()) {
            Err(ImportError::Limit {
                file,
                limit: LimitError::ParseBudget { size, .. },
            }) => {
                assert!(file.ends_with("Garbled.kt"), "{file}");
                assert_eq!(size, garbled.len());
            }
            other => panic!("expected Garbled.kt's parse budget, got {other:.300?}"),
        }
    }
}
