//! The pinning conformance suite as the Rust runners see it
//! (`tests/conformance/pinning/`, README there): the cases, Mamori's policy
//! document for a case, the reason class of a Mamori decision, and the
//! disagreement table of `docs/conformance.md` that every runner asserts.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde::Deserialize;
use serde_json::{Value, json};

/// The suite file.
pub fn cases_path() -> PathBuf {
    crate::repo_root().join("tests/conformance/pinning/cases.json")
}

/// One case (the README documents every field).
#[derive(Debug, Deserialize)]
pub struct Case {
    /// Unique id.
    pub id: String,
    /// The host the client connects to.
    pub host: String,
    /// Validation time, RFC 3339.
    pub time: String,
    /// The presented chain, PEM, leaf first.
    pub chain: Vec<String>,
    /// Trust anchors, PEM.
    pub anchors: Vec<String>,
    /// `{"domains": [...]}`.
    pub policy: Value,
    /// `{"decision": ..., "reason": ...}`.
    pub expected: Expected,
}

/// What the documented semantics decide.
#[derive(Debug, Deserialize, PartialEq, Eq, Clone)]
pub struct Expected {
    /// `allow`, `block` or `report`.
    pub decision: String,
    /// `ok`, `pin-mismatch`, `untrusted-chain`, `expired-certificate`, `name-mismatch`.
    pub reason: String,
}

/// Every case of the suite.
pub fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(cases_path()).expect("tests/conformance/pinning/cases.json");
    let doc: Value = serde_json::from_str(&text).expect("the suite is JSON");
    assert_eq!(doc["format"], "mamori-pinning-conformance/1");
    serde_json::from_value(doc["cases"].clone()).expect("cases follow the README's format")
}

impl Case {
    /// The case's policy as a Mamori policy document (JSON): only the case's
    /// anchors, its domain rules field for field.
    pub fn mamori_policy_json(&self) -> String {
        json!({
            "trust": { "mozilla_roots": false, "anchors_pem": self.anchors.concat() },
            "domain": self.policy["domains"],
        })
        .to_string()
    }
}

/// The reason class of a Mamori decision, from its JSON form (`failure` as
/// `mamori verify --format json` and `serde_json::to_value(PinFailure)` give
/// it; `null` when there is none).
pub fn reason_class(failure: &Value) -> String {
    let kind = failure["kind"].as_str();
    let chain_reason = failure["detail"]["reason"].as_str();
    match (kind, chain_reason) {
        (None, _) => "ok",
        (Some("pin-mismatch"), _) => "pin-mismatch",
        (Some("chain"), Some("expired" | "not-yet-valid")) => "expired-certificate",
        (Some("chain"), _) => "untrusted-chain",
        (Some("name"), _) => "name-mismatch",
        (Some(other), _) => other,
    }
    .to_owned()
}

/// The case ids `docs/conformance.md` lists as disagreements of `runner`
/// with the suite's expectations: rows `| runner | case id | ... |` of the
/// table under its `## Disagreements` heading.
pub fn listed_disagreements(runner: &str) -> BTreeSet<String> {
    let doc = std::fs::read_to_string(crate::repo_root().join("docs/conformance.md"))
        .expect("docs/conformance.md");
    doc.lines()
        .skip_while(|line| !line.starts_with("## Disagreements"))
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            (cells.len() > 3 && cells[1] == format!("`{runner}`"))
                .then(|| cells[2].trim_matches('`').to_owned())
        })
        .collect()
}

/// Runs `decide` on every case and asserts that the cases where it differs
/// from the expectation are exactly those `docs/conformance.md` lists for
/// `runner`. `decide` returns (decision, reason class).
pub fn assert_conformance(runner: &str, mut decide: impl FnMut(&Case) -> Expected) {
    let cases = cases();
    assert!(cases.len() >= 50, "the suite has {} cases", cases.len());
    let mut differing = BTreeSet::new();
    let mut lines = Vec::new();
    for case in &cases {
        let got = decide(case);
        if got != case.expected {
            lines.push(format!(
                "  {}: expected {}/{}, {runner} said {}/{}",
                case.id, case.expected.decision, case.expected.reason, got.decision, got.reason
            ));
            differing.insert(case.id.clone());
        }
    }
    let listed = listed_disagreements(runner);
    assert_eq!(
        differing,
        listed,
        "{runner}: the disagreements differ from docs/conformance.md's table.\n{}",
        lines.join("\n")
    );
}
