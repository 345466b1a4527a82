//! Generates the pinning conformance suite, `tests/conformance/pinning/cases.json`.
//!
//! Usage (from the repository root):
//! `cargo run -p mamori-tests --bin gen_pinning_conformance [OUT]`
//!
//! Every PKI is made here with rcgen (RSA keys by the `openssl` CLI), every
//! pin is the SHA-256 of an SPKI computed here with ring (not by Mamori),
//! and every expected outcome is written by hand next to the case with the
//! documented platform rule it follows. Nothing in the output comes from
//! running Mamori: the suite judges Mamori like any other pinner.
//! `tests/conformance/pinning/README.md` documents the format.

use base64::Engine as _;
use mamori_tests::{Cert, KeyKind, LeafSpec, cross_sign, intermediate_ca, leaf_cert, root_ca};
use rcgen::PublicKeyData;
use serde::Serialize;
use serde_json::{Value, json};

/// The validation time of every case. The expected outcomes hold for any
/// time in [2026-01-01, 2040-01-01): CA certificates are valid 2020..2045,
/// leaves 2024..2040, the one expired leaf ends 2025-06-01, "expired" pin
/// sets end 2020-01-01 and live ones 2099-01-01. Runners that cannot set the
/// clock (JVM trust managers) may therefore use the wall clock.
const TIME: &str = "2026-06-01T00:00:00Z";
const PAST: &str = "2020-01-01";
const FUTURE: &str = "2099-01-01";

/// `sha256/` + base64 of the SHA-256 of the certificate's key (its DER
/// SubjectPublicKeyInfo), the pin format of OkHttp, TrustKit and HPKP
/// (RFC 7469 §2.4), computed with ring from rcgen's key.
fn pin_of(key: &impl PublicKeyData) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, &key.subject_public_key_info());
    format!(
        "sha256/{}",
        base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
    )
}

fn pin(cert: &Cert) -> String {
    pin_of(
        cert.key
            .as_ref()
            .expect("generator certificates keep their keys"),
    )
}

/// A key that is in no chain: a backup pin (BP-5) that never matches.
fn spare() -> String {
    pin_of(&mamori_tests::signing_key(KeyKind::P256))
}

#[derive(Serialize)]
struct Domain {
    host: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    include_subdomains: bool,
    pins: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    on_expiry: Option<&'static str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    report_only: bool,
}

fn rule(host: &str, pins: &[String]) -> Domain {
    Domain {
        host: host.to_owned(),
        include_subdomains: false,
        pins: pins.to_vec(),
        expires: None,
        on_expiry: None,
        report_only: false,
    }
}

/// The peers whose policy language can state a case's policy (the README
/// explains each rule). OkHttp's `CertificatePinner` has no expiry and no
/// report-only mode; `include_subdomains` is its `**.` pattern. Android's
/// network security config has `includeSubdomains` (= `**.`) but no
/// one-label `*.` pattern, fail-open expiry only (`<pin-set expiration>`),
/// no report-only.
fn expressible_by(domains: &[Domain]) -> Vec<&'static str> {
    let mut peers = Vec::new();
    if domains
        .iter()
        .all(|d| d.expires.is_none() && !d.report_only)
    {
        peers.push("okhttp");
    }
    if domains.iter().all(|d| {
        !d.host.starts_with("*.") && !d.report_only && d.on_expiry.is_none_or(|m| m == "fail-open")
    }) {
        peers.push("android-nsc");
    }
    peers
}

struct Suite {
    cases: Vec<Value>,
}

impl Suite {
    /// Adds one case. `decision` is `allow`, `block` or `report` (proceed,
    /// and a failure report is due); `reason` is the class of the outcome
    /// (`ok`, `pin-mismatch`, `untrusted-chain`, `expired-certificate`,
    /// `name-mismatch`); `semantics` cites the documented rule that decides it.
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        id: &str,
        feature: &str,
        description: &str,
        semantics: &str,
        host: &str,
        chain: &[&Cert],
        anchors: &[&Cert],
        domains: Vec<Domain>,
        decision: &str,
        reason: &str,
    ) {
        assert!(
            !self.cases.iter().any(|c| c["id"] == id),
            "duplicate case id {id}"
        );
        let peers = expressible_by(&domains);
        self.cases.push(json!({
            "id": id,
            "feature": feature,
            "description": description,
            "semantics": semantics,
            "host": host,
            "time": TIME,
            "chain": chain.iter().map(|c| c.pem.clone()).collect::<Vec<_>>(),
            "anchors": anchors.iter().map(|c| c.pem.clone()).collect::<Vec<_>>(),
            "policy": { "domains": domains },
            "expected": { "decision": decision, "reason": reason },
            "expressible_by": peers,
        }));
    }
}

const POSITION: &str = "Pins are SPKI hashes of any certificate of the validated path, leaf to trust anchor \
     (OkHttp CertificatePinner KDoc: pins of the cleaned chain incl. its trusted root; Android NSC docs: \
     'a pin-set ... of public key digests of a certificate in the chain'; TrustKit: 'any of the public keys \
     in the certificate chain')";
const VERIFIED_PATH: &str = "Pins are checked against the path the platform validated, not the list the server sent \
     (CVE-2016-2402; OkHttp 3.1.2+ cleans the chain first; Android NSC pins the chain Conscrypt built)";
const SUBDOMAIN: &str = "OkHttp CertificatePinner KDoc: '*.example.com' matches exactly one label in front, '**.example.com' \
     any number including none; NSC/TrustKit includeSubdomains covers the domain and all its subdomains; \
     matching is on whole labels";
const MOST_SPECIFIC: &str = "Android NSC docs: the most specific <domain> rule applies (an exact rule beats includeSubdomains \
     of a parent); OkHttp instead unions the pins of every matching pattern (CertificatePinner.findMatchingPins)";
const HOST_CANON: &str = "Host names compare in their canonical ASCII form: case-insensitive (RFC 4343), IDNs as A-labels \
     (RFC 5890; OkHttp toCanonicalHost), an absolute name's trailing dot dropped (RFC 1034 §3.1)";
const IP: &str = "An IP host matches a rule for the same address (any textual form) and a leaf with that iPAddress SAN \
     (RFC 6125 §1.7.2, RFC 5280 §4.2.1.6)";
const EXPIRY: &str = "After a pin set's expiration date its pins no longer block (Android NSC <pin-set expiration>, \
     TrustKit kTSKExpirationDate); Mamori's on_expiry = enforce keeps enforcing them (policy.rs ExpiryMode)";
const REPORT_ONLY: &str = "A report-only rule (TrustKit kTSKEnforcePinning = NO, HPKP Public-Key-Pins-Report-Only) lets a \
     pin mismatch through and reports it; the chain must still validate";
const PATH: &str = "The platform validates the chain first (RFC 5280 §6 path to a configured anchor, validity period, \
     host name per RFC 6125): pins never make an invalid chain valid (Android NSC, OkHttp, TrustKit)";
const ANCHORS: &str = "Trust anchors come from the configuration (NSC <trust-anchors>, a private PKI): a chain to an anchor \
     is trusted, any other is not";
const CROSS: &str = "A cross-certificate (new root's name and key, issued by the old root) joins the path when only the \
     old root is trusted; when the new root itself is trusted the path ends there (RFC 4158 path building)";

fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "tests/conformance/pinning/cases.json".to_owned());
    let mut s = Suite { cases: Vec::new() };

    // The site's PKI: root A -> issuing CA A -> leaf.
    let names = [
        "api.example.com",
        "example.com",
        "*.example.com",
        "a.b.example.com",
        "notexample.com",
        "api.example.com.evil.test",
        "xn--bcher-kva.example",
        "192.0.2.10",
        "2001:db8::1",
    ];
    let root_a = root_ca("Conformance Root A", KeyKind::P256);
    let int_a = intermediate_ca("Conformance Issuing CA A", KeyKind::P256, &root_a);
    let leaf_a = leaf_cert(&LeafSpec::new(&names), &int_a);
    // Another trusted CA (a compromised or user-installed CA, the MitM of
    // CVE-2016-2402): root B -> issuing CA B -> a leaf for the same host.
    let root_b = root_ca("Conformance Root B", KeyKind::P256);
    let int_b = intermediate_ca("Conformance Issuing CA B", KeyKind::P256, &root_b);
    let leaf_b = leaf_cert(&LeafSpec::new(&["api.example.com"]), &int_b);
    // A root nobody trusts, and a chain to it.
    let root_x = root_ca("Conformance Untrusted Root", KeyKind::P256);
    let int_x = intermediate_ca("Conformance Untrusted CA", KeyKind::P256, &root_x);
    let leaf_x = leaf_cert(&LeafSpec::new(&["api.example.com"]), &int_x);
    // An expired leaf under A.
    let mut expired_spec = LeafSpec::new(&["api.example.com"]);
    expired_spec.not_before = rcgen::date_time_ymd(2024, 1, 1);
    expired_spec.not_after = rcgen::date_time_ymd(2025, 6, 1);
    let leaf_expired = leaf_cert(&expired_spec, &int_a);
    // RSA-2048 PKI.
    let mut rsa_spec = LeafSpec::new(&["rsa.example.com"]);
    rsa_spec.key = KeyKind::Rsa(2048);
    let root_r = root_ca("Conformance RSA Root", KeyKind::Rsa(2048));
    let int_r = intermediate_ca("Conformance RSA Issuing CA", KeyKind::Rsa(2048), &root_r);
    let leaf_r = leaf_cert(&rsa_spec, &int_r);
    // Cross-signing: new root N (self-signed) and the same name and key
    // certified by the old root A.
    let root_n = root_ca("Conformance New Root", KeyKind::P256);
    let cross_n = cross_sign(&root_n, &root_a);
    let int_n = intermediate_ca("Conformance Issuing CA N", KeyKind::P256, &root_n);
    let leaf_n = leaf_cert(&LeafSpec::new(&["cross.example.com"]), &int_n);

    let a = [&leaf_a, &int_a];
    let h = "api.example.com";
    let two_spares = || vec![spare(), spare()];

    // --- Pins at each position, backup pins ---
    s.add(
        "pin-leaf",
        "pin-position",
        "The leaf's key is pinned.",
        POSITION,
        h,
        &a,
        &[&root_a],
        vec![rule(h, &[pin(&leaf_a), spare()])],
        "allow",
        "ok",
    );
    s.add(
        "pin-intermediate",
        "pin-position",
        "The issuing CA's key is pinned.",
        POSITION,
        h,
        &a,
        &[&root_a],
        vec![rule(h, &[pin(&int_a), spare()])],
        "allow",
        "ok",
    );
    s.add(
        "pin-root-not-presented",
        "pin-position",
        "The root's key is pinned; the server does not send the root (it is the trust anchor).",
        POSITION,
        h,
        &a,
        &[&root_a],
        vec![rule(h, &[pin(&root_a), spare()])],
        "allow",
        "ok",
    );
    s.add(
        "pin-root-presented",
        "pin-position",
        "The root's key is pinned and the server also sends the root.",
        POSITION,
        h,
        &[&leaf_a, &int_a, &root_a],
        &[&root_a],
        vec![rule(h, &[pin(&root_a), spare()])],
        "allow",
        "ok",
    );
    s.add(
        "pin-none-matches",
        "pin-position",
        "Neither pin is in the chain.",
        POSITION,
        h,
        &a,
        &[&root_a],
        vec![rule(h, &two_spares())],
        "block",
        "pin-mismatch",
    );
    s.add("backup-pin-matches", "backup-pins",
        "The first pin is a spare key; the second (the backup) matches the issuing CA: any one pin suffices.",
        "A pin set matches when any of its pins matches (OkHttp, NSC, TrustKit; RFC 7469 §2.6 backup pins)",
        h, &a, &[&root_a], vec![rule(h, &[spare(), pin(&int_a)])], "allow", "ok");
    s.add(
        "pin-rsa-intermediate",
        "pin-position",
        "RSA-2048 chain, the issuing CA's key pinned.",
        POSITION,
        "rsa.example.com",
        &[&leaf_r, &int_r],
        &[&root_r],
        vec![rule("rsa.example.com", &[pin(&int_r), spare()])],
        "allow",
        "ok",
    );
    s.add(
        "pin-rsa-none-matches",
        "pin-position",
        "RSA-2048 chain, no pin matches.",
        POSITION,
        "rsa.example.com",
        &[&leaf_r, &int_r],
        &[&root_r],
        vec![rule("rsa.example.com", &two_spares())],
        "block",
        "pin-mismatch",
    );

    // --- Chain injection (CVE-2016-2402) and unrelated certificates ---
    s.add("injected-pinned-intermediate", "chain-injection",
        "A leaf from another trusted CA (B), with the pinned issuing CA A appended to the chain it sends.",
        VERIFIED_PATH, h, &[&leaf_b, &int_b, &int_a], &[&root_a, &root_b],
        vec![rule(h, &[pin(&int_a), spare()])], "block", "pin-mismatch");
    s.add(
        "injected-pinned-root",
        "chain-injection",
        "A leaf from another trusted CA (B), with the pinned root A appended.",
        VERIFIED_PATH,
        h,
        &[&leaf_b, &int_b, &root_a],
        &[&root_a, &root_b],
        vec![rule(h, &[pin(&root_a), spare()])],
        "block",
        "pin-mismatch",
    );
    s.add(
        "injected-pinned-leaf",
        "chain-injection",
        "A leaf from another trusted CA (B) sent with the genuine pinned leaf A after it.",
        VERIFIED_PATH,
        h,
        &[&leaf_b, &int_b, &leaf_a],
        &[&root_a, &root_b],
        vec![rule(h, &[pin(&leaf_a), spare()])],
        "block",
        "pin-mismatch",
    );
    s.add(
        "unrelated-root-appended",
        "unrelated-certificate",
        "The genuine chain with an unrelated root (B) appended; the issuing CA A is pinned.",
        "Extra certificates a server sends that are not on the path are ignored (RFC 8446 §4.4.2: \
         certificates not needed for the path MAY be sent and are ignored)",
        h,
        &[&leaf_a, &int_a, &root_b],
        &[&root_a, &root_b],
        vec![rule(h, &[pin(&int_a), spare()])],
        "allow",
        "ok",
    );
    s.add(
        "unrelated-root-pinned",
        "unrelated-certificate",
        "The genuine chain with an unrelated trusted root (B) appended, and only B pinned.",
        VERIFIED_PATH,
        h,
        &[&leaf_a, &int_a, &root_b],
        &[&root_a, &root_b],
        vec![rule(h, &[pin(&root_b), spare()])],
        "block",
        "pin-mismatch",
    );
    s.add("intermediates-out-of-order", "unrelated-certificate",
        "The genuine chain with an unrelated root first and the issuing CA last; issuing CA pinned.",
        "Intermediates may arrive in any order (RFC 8446 §4.4.2); the path is built from them",
        h, &[&leaf_a, &root_b, &int_a], &[&root_a, &root_b], vec![rule(h, &[pin(&int_a), spare()])], "allow", "ok");

    // --- Path validation comes first ---
    s.add(
        "untrusted-chain-pinned-leaf",
        "path-first",
        "The chain leads to an untrusted root although its leaf is pinned.",
        PATH,
        h,
        &[&leaf_x, &int_x],
        &[&root_a],
        vec![rule(h, &[pin(&leaf_x), spare()])],
        "block",
        "untrusted-chain",
    );
    s.add(
        "expired-leaf-pinned",
        "path-first",
        "The leaf expired (2025-06-01) although its issuing CA is pinned.",
        PATH,
        h,
        &[&leaf_expired, &int_a],
        &[&root_a],
        vec![rule(h, &[pin(&int_a), spare()])],
        "block",
        "expired-certificate",
    );
    s.add(
        "name-mismatch-pinned",
        "path-first",
        "The leaf does not name the host although the issuing CA is pinned for it.",
        PATH,
        "other.test",
        &a,
        &[&root_a],
        vec![rule("other.test", &[pin(&int_a), spare()])],
        "block",
        "name-mismatch",
    );
    s.add(
        "unpinned-host-valid-chain",
        "path-first",
        "No rule for the host: a valid chain is enough.",
        PATH,
        h,
        &a,
        &[&root_a],
        vec![rule("other.test", &two_spares())],
        "allow",
        "ok",
    );

    // --- Private anchors ---
    s.add(
        "private-anchor-unpinned",
        "private-anchors",
        "A private root is the only anchor; the host has no rule.",
        ANCHORS,
        h,
        &a,
        &[&root_a],
        vec![],
        "allow",
        "ok",
    );
    s.add(
        "private-anchor-other-root",
        "private-anchors",
        "A private root is the only anchor; the chain leads to another root.",
        ANCHORS,
        h,
        &[&leaf_b, &int_b],
        &[&root_a],
        vec![],
        "block",
        "untrusted-chain",
    );
    s.add(
        "private-anchor-pinned",
        "private-anchors",
        "A private root is the only anchor and it is pinned.",
        ANCHORS,
        h,
        &a,
        &[&root_a],
        vec![rule(h, &[pin(&root_a), spare()])],
        "allow",
        "ok",
    );

    // --- Cross-signed paths ---
    let c = "cross.example.com";
    s.add(
        "cross-signed-old-root-pinned",
        "cross-signed",
        "Chain leaf <- CA N <- cross-certificate (N by old root A); only A trusted, A pinned.",
        CROSS,
        c,
        &[&leaf_n, &int_n, &cross_n],
        &[&root_a],
        vec![rule(c, &[pin(&root_a), spare()])],
        "allow",
        "ok",
    );
    s.add(
        "cross-signed-new-key-pinned",
        "cross-signed",
        "Same chain, only A trusted, new root N's key (carried by the cross-certificate) pinned.",
        CROSS,
        c,
        &[&leaf_n, &int_n, &cross_n],
        &[&root_a],
        vec![rule(c, &[pin(&root_n), spare()])],
        "allow",
        "ok",
    );
    s.add("cross-signed-new-root-trusted-old-pinned", "cross-signed",
        "Same chain, only new root N trusted: the path ends at N, so a pin on old root A matches nothing.",
        CROSS, c, &[&leaf_n, &int_n, &cross_n], &[&root_n], vec![rule(c, &[pin(&root_a), spare()])], "block",
        "pin-mismatch");

    // --- Wildcard and subdomain grammar. Rules pin two spare keys, so a
    // covered host is blocked and an uncovered one allowed (valid chain). ---
    let grammar: [(&str, &str, bool, &str, bool); 11] = [
        (
            "wildcard-one-label",
            "*.example.com",
            false,
            "api.example.com",
            true,
        ),
        (
            "wildcard-not-base",
            "*.example.com",
            false,
            "example.com",
            false,
        ),
        (
            "wildcard-not-two-labels",
            "*.example.com",
            false,
            "a.b.example.com",
            false,
        ),
        (
            "wildcard-not-suffix-of-other-domain",
            "*.example.com",
            false,
            "api.example.com.evil.test",
            false,
        ),
        (
            "double-wildcard-base",
            "**.example.com",
            false,
            "example.com",
            true,
        ),
        (
            "double-wildcard-deep",
            "**.example.com",
            false,
            "a.b.example.com",
            true,
        ),
        (
            "include-subdomains-deep",
            "example.com",
            true,
            "a.b.example.com",
            true,
        ),
        (
            "include-subdomains-base",
            "example.com",
            true,
            "example.com",
            true,
        ),
        (
            "include-subdomains-label-boundary",
            "example.com",
            true,
            "notexample.com",
            false,
        ),
        (
            "exact-not-subdomain",
            "example.com",
            false,
            "api.example.com",
            false,
        ),
        ("exact-base", "example.com", false, "example.com", true),
    ];
    for (id, pattern, subdomains, host, covered) in grammar {
        let mut r = rule(pattern, &two_spares());
        r.include_subdomains = subdomains;
        let desc = format!(
            "Rule {pattern}{} pinning two spare keys; host {host} is {}covered.",
            if subdomains {
                " with include_subdomains"
            } else {
                ""
            },
            if covered { "" } else { "not " }
        );
        let (decision, reason) = if covered {
            ("block", "pin-mismatch")
        } else {
            ("allow", "ok")
        };
        s.add(
            id,
            "host-grammar",
            &desc,
            SUBDOMAIN,
            host,
            &a,
            &[&root_a],
            vec![r],
            decision,
            reason,
        );
    }
    s.add("most-specific-rule-wins", "host-grammar",
        "Exact rule api.example.com pins two spare keys; **.example.com pins the issuing CA. The exact rule \
         decides.",
        MOST_SPECIFIC, h, &a, &[&root_a],
        vec![rule(h, &two_spares()), rule("**.example.com", &[pin(&int_a), spare()])], "block", "pin-mismatch");

    // --- IDN, case, trailing dots ---
    s.add(
        "host-uppercase",
        "host-canonical",
        "Host API.Example.COM, rule api.example.com pinning spare keys.",
        HOST_CANON,
        "API.Example.COM",
        &a,
        &[&root_a],
        vec![rule(h, &two_spares())],
        "block",
        "pin-mismatch",
    );
    s.add(
        "rule-uppercase",
        "host-canonical",
        "Host api.example.com, rule API.EXAMPLE.com pinning spare keys.",
        HOST_CANON,
        h,
        &a,
        &[&root_a],
        vec![rule("API.EXAMPLE.com", &two_spares())],
        "block",
        "pin-mismatch",
    );
    s.add("idn-rule-unicode-host-alabel", "host-canonical",
        "Rule bücher.example (U-label) pinning spare keys; host xn--bcher-kva.example (its A-label).",
        HOST_CANON, "xn--bcher-kva.example", &a, &[&root_a], vec![rule("bücher.example", &two_spares())],
        "block", "pin-mismatch");
    s.add(
        "idn-rule-alabel-host-unicode",
        "host-canonical",
        "Rule xn--bcher-kva.example pinning spare keys; host bücher.example (U-label).",
        HOST_CANON,
        "bücher.example",
        &a,
        &[&root_a],
        vec![rule("xn--bcher-kva.example", &two_spares())],
        "block",
        "pin-mismatch",
    );
    s.add(
        "idn-alabel-pinned-match",
        "host-canonical",
        "Rule bücher.example pinning the issuing CA; host xn--bcher-kva.example.",
        HOST_CANON,
        "xn--bcher-kva.example",
        &a,
        &[&root_a],
        vec![rule("bücher.example", &[pin(&int_a), spare()])],
        "allow",
        "ok",
    );
    s.add(
        "host-trailing-dot",
        "host-canonical",
        "Host api.example.com. (absolute), rule api.example.com pinning spare keys.",
        HOST_CANON,
        "api.example.com.",
        &a,
        &[&root_a],
        vec![rule(h, &two_spares())],
        "block",
        "pin-mismatch",
    );
    s.add(
        "rule-trailing-dot",
        "host-canonical",
        "Host api.example.com, rule api.example.com. pinning spare keys.",
        HOST_CANON,
        h,
        &a,
        &[&root_a],
        vec![rule("api.example.com.", &two_spares())],
        "block",
        "pin-mismatch",
    );
    s.add(
        "host-trailing-dot-match",
        "host-canonical",
        "Host api.example.com., rule api.example.com pinning the issuing CA.",
        HOST_CANON,
        "api.example.com.",
        &a,
        &[&root_a],
        vec![rule(h, &[pin(&int_a), spare()])],
        "allow",
        "ok",
    );

    // --- IP hosts ---
    s.add(
        "ipv4-pinned-mismatch",
        "ip-host",
        "Host 192.0.2.10, rule 192.0.2.10 pinning spare keys.",
        IP,
        "192.0.2.10",
        &a,
        &[&root_a],
        vec![rule("192.0.2.10", &two_spares())],
        "block",
        "pin-mismatch",
    );
    s.add(
        "ipv4-pinned-match",
        "ip-host",
        "Host 192.0.2.10, rule pinning the issuing CA.",
        IP,
        "192.0.2.10",
        &a,
        &[&root_a],
        vec![rule("192.0.2.10", &[pin(&int_a), spare()])],
        "allow",
        "ok",
    );
    s.add(
        "ipv6-other-spelling",
        "ip-host",
        "Host 2001:db8::1, rule 2001:DB8:0:0::1 (same address) pinning spare keys.",
        IP,
        "2001:db8::1",
        &a,
        &[&root_a],
        vec![rule("2001:DB8:0:0::1", &two_spares())],
        "block",
        "pin-mismatch",
    );
    s.add(
        "ip-not-in-leaf",
        "ip-host",
        "Host 192.0.2.11, which the leaf does not name; rule pins the issuing CA.",
        IP,
        "192.0.2.11",
        &a,
        &[&root_a],
        vec![rule("192.0.2.11", &[pin(&int_a), spare()])],
        "block",
        "name-mismatch",
    );

    // --- Pin-set expiry, in both modes ---
    let expiring = |pins: Vec<String>, expires: &'static str, mode: Option<&'static str>| {
        let mut r = rule(h, &pins);
        r.expires = Some(expires);
        r.on_expiry = mode;
        r
    };
    s.add("expired-pins-fail-open", "pin-expiry",
        "The pin set expired (2020-01-01), fail-open (the default): a mismatch proceeds and is reported.",
        EXPIRY, h, &a, &[&root_a], vec![expiring(two_spares(), PAST, None)], "report", "pin-mismatch");
    s.add(
        "expired-pins-enforce",
        "pin-expiry",
        "The pin set expired (2020-01-01), on_expiry = enforce: a mismatch still blocks.",
        EXPIRY,
        h,
        &a,
        &[&root_a],
        vec![expiring(two_spares(), PAST, Some("enforce"))],
        "block",
        "pin-mismatch",
    );
    s.add(
        "live-pins-mismatch",
        "pin-expiry",
        "The pin set expires 2099-01-01: a mismatch blocks.",
        EXPIRY,
        h,
        &a,
        &[&root_a],
        vec![expiring(two_spares(), FUTURE, None)],
        "block",
        "pin-mismatch",
    );
    s.add(
        "expired-pins-match",
        "pin-expiry",
        "The pin set expired but its pin matches: allowed.",
        EXPIRY,
        h,
        &a,
        &[&root_a],
        vec![expiring(vec![pin(&int_a), spare()], PAST, None)],
        "allow",
        "ok",
    );
    s.add(
        "expired-pins-invalid-chain",
        "pin-expiry",
        "The pin set expired (fail-open) and the chain leads to an untrusted root: still blocked.",
        PATH,
        h,
        &[&leaf_x, &int_x],
        &[&root_a],
        vec![expiring(two_spares(), PAST, None)],
        "block",
        "untrusted-chain",
    );

    // --- Report-only ---
    let report_only = |pins: Vec<String>| {
        let mut r = rule(h, &pins);
        r.report_only = true;
        r
    };
    s.add(
        "report-only-mismatch",
        "report-only",
        "Report-only rule, no pin matches: proceeds, reported.",
        REPORT_ONLY,
        h,
        &a,
        &[&root_a],
        vec![report_only(two_spares())],
        "report",
        "pin-mismatch",
    );
    s.add(
        "report-only-match",
        "report-only",
        "Report-only rule, a pin matches.",
        REPORT_ONLY,
        h,
        &a,
        &[&root_a],
        vec![report_only(vec![pin(&int_a), spare()])],
        "allow",
        "ok",
    );
    s.add("report-only-untrusted-chain", "report-only",
        "Report-only rule, chain to an untrusted root: blocked (report-only relaxes pins, not validation).",
        REPORT_ONLY, h, &[&leaf_x, &int_x], &[&root_a], vec![report_only(two_spares())], "block", "untrusted-chain");

    let doc = json!({
        "format": "mamori-pinning-conformance/1",
        "generator": "cargo run -p mamori-tests --bin gen_pinning_conformance",
        "valid_between": ["2026-01-01T00:00:00Z", "2040-01-01T00:00:00Z"],
        "cases": s.cases,
    });
    let text = serde_json::to_string_pretty(&doc).expect("serialises") + "\n";
    std::fs::write(&out, text).unwrap_or_else(|e| panic!("write {out}: {e}"));
    println!(
        "wrote {} cases to {out}",
        doc["cases"].as_array().map_or(0, Vec::len)
    );
}
