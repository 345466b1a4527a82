//! End-to-end pinning over real TLS on loopback (DEV-4, BP-5).
//!
//! Every test runs a real rustls server (tests/src/lib.rs) presenting an
//! rcgen chain, and a real rustls client whose `ClientConfig` comes from
//! `mamori::pinning::client_config`. Where the decision's details matter the
//! same chain also goes through `PinVerifier::verify`, which is what the
//! Kotlin and Swift facades call.

use std::sync::Arc;

use mamori::pinning::DomainDocument;
use mamori::pinning::{
    AppInfo, CertificatePosition, ChainError, ExpiryMode, NameError, PinFailure, PinOutcome,
    PinPolicy, PinVerifier, Profile, StrictViolation, client_config,
};
use mamori_tests::*;
use rustls::CertificateError;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, UnixTime};

fn now() -> UnixTime {
    UnixTime::now()
}

/// A PKI, a loopback server presenting its chain, and a default-profile
/// pinning client (with a report listener) whose rules `rules` makes from
/// the PKI.
struct Setup {
    pki: Pki,
    server: TlsServer,
    verifier: Arc<PinVerifier>,
    config: Arc<rustls::ClientConfig>,
    listener: Arc<CollectingListener>,
}

fn setup(name: &str, names: &[&str], rules: impl FnOnce(&Pki) -> Vec<DomainDocument>) -> Setup {
    let pki = Pki::new(name, names);
    let server = pki.serve();
    let (verifier, config, listener) =
        pinned_client_with_listener(policy(Profile::Default, &[&pki.root], rules(&pki)), {
            server.addr.port()
        });
    Setup {
        pki,
        server,
        verifier,
        config,
        listener,
    }
}

/// Handshake must succeed.
fn assert_allowed(config: &Arc<rustls::ClientConfig>, host: &str, server: &TlsServer) {
    if let Err(e) = handshake(config, host, server.addr) {
        panic!("handshake to {host} should succeed, got {e:?}");
    }
}

/// Handshake must be refused by Mamori with a typed `HandshakeBlocked`; returns
/// its failure.
fn assert_pinning_blocked(
    config: &Arc<rustls::ClientConfig>,
    host: &str,
    server: &TlsServer,
) -> PinFailure {
    let err = handshake(config, host, server.addr).expect_err("handshake should be refused");
    let pe =
        pinning_error(&err).unwrap_or_else(|| panic!("expected a HandshakeBlocked inside {err:?}"));
    assert_eq!(pe.decision.outcome, PinOutcome::Block);
    pe.decision
        .failure
        .clone()
        .expect("a blocked decision names its failure")
}

#[test]
fn leaf_pin_from_policy_file_on_disk_allows() {
    let pki = Pki::new("Leaf", &["api.example.com"]);
    let server = pki.serve();
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), "private-ca.pem", pki.root.pem.as_bytes());
    let policy_path = write_file(
        dir.path(),
        "pins.toml",
        format!(
            r#"
[trust]
mozilla_roots = false
anchor_files = ["private-ca.pem"]

[[domain]]
host = "api.example.com"
pins = ["{}", "{}"]
"#,
            pki.leaf.pin(),
            spare_pin()
        )
        .as_bytes(),
    );
    let policy = PinPolicy::load(std::path::Path::new(&policy_path)).unwrap();
    let (verifier, config) = pinned_client(policy);
    assert_allowed(&config, "api.example.com", &server);

    let d = verifier.verify("api.example.com", 443, &pki.chain(), now());
    assert_eq!(d.outcome, PinOutcome::Allow);
    assert!(d.chain_valid && d.pinned && d.pin_matched && d.chain_verified);
    assert_eq!(d.matched_pin.unwrap().to_string(), pki.leaf.pin());
    assert!(d.reason.contains("of the leaf"), "{}", d.reason);
    // The verified path is leaf, intermediate, anchor, each with its pin.
    let positions: Vec<_> = d.chain.iter().map(|e| e.position).collect();
    assert_eq!(
        positions,
        [
            CertificatePosition::Leaf,
            CertificatePosition::Intermediate,
            CertificatePosition::Anchor
        ]
    );
    assert_eq!(
        d.chain_pins(),
        [pki.leaf.pin(), pki.intermediate.pin(), pki.root.pin()]
    );
    // Subjects are named, the same on a repeat (memoised) verification.
    for _ in 0..2 {
        let d = verifier.verify("api.example.com", 443, &pki.chain(), now());
        let subjects: Vec<_> = d.chain.iter().map(|e| e.subject.as_str()).collect();
        assert_eq!(
            subjects,
            [
                "CN=api.example.com",
                "CN=Leaf Issuing CA",
                "CN=Leaf Root CA"
            ]
        );
    }
}

#[test]
fn intermediate_pin_allows() {
    let Setup {
        pki,
        server,
        verifier,
        config,
        ..
    } = setup("Inter", &["api.example.com"], |pki| {
        vec![domain(
            "api.example.com",
            &[pki.intermediate.pin(), spare_pin()],
        )]
    });
    assert_allowed(&config, "api.example.com", &server);
    let d = verifier.verify("api.example.com", 443, &pki.chain(), now());
    assert_eq!(d.matched_pin.unwrap().to_string(), pki.intermediate.pin());
    assert!(d.reason.contains("of the intermediate"), "{}", d.reason);
}

#[test]
fn root_pin_matches_the_anchor_even_though_the_server_does_not_send_it() {
    let pki = Pki::new("Anchor", &["api.example.com"]);
    let server = pki.serve();
    assert!(!pki.chain().contains(&pki.root.der));
    let (verifier, config) = pinned_client(policy(
        Profile::Default,
        &[&pki.root],
        vec![domain("api.example.com", &[spare_pin(), pki.root.pin()])],
    ));
    assert_allowed(&config, "api.example.com", &server);
    let d = verifier.verify("api.example.com", 443, &pki.chain(), now());
    assert_eq!(d.matched_pin.unwrap().to_string(), pki.root.pin());
    assert!(d.reason.contains("of the anchor"), "{}", d.reason);
}

#[test]
fn backup_pin_allows_when_the_first_pin_is_wrong() {
    let first = spare_pin();
    let Setup {
        pki,
        server,
        verifier,
        config,
        ..
    } = setup("Backup", &["api.example.com"], |pki| {
        vec![domain("api.example.com", &[first.clone(), pki.leaf.pin()])]
    });
    assert_allowed(&config, "api.example.com", &server);
    let d = verifier.verify("api.example.com", 443, &pki.chain(), now());
    assert_eq!(d.matched_pin.unwrap().to_string(), pki.leaf.pin());
    assert_ne!(d.matched_pin.unwrap().to_string(), first);
}

#[test]
fn wrong_pins_block_with_a_typed_error_listing_the_chain_pins() {
    let Setup {
        pki,
        server,
        config,
        ..
    } = setup("Wrong", &["api.example.com"], |_| {
        vec![domain("api.example.com", &[spare_pin(), spare_pin()])]
    });
    let err = handshake(&config, "api.example.com", server.addr).unwrap_err();
    let pe = pinning_error(&err).expect("HandshakeBlocked inside CertificateError::Other");
    assert_eq!(pe.host, "api.example.com");
    let d = &pe.decision;
    assert_eq!(
        d.failure,
        Some(PinFailure::PinMismatch {
            rule: "api.example.com".into()
        })
    );
    assert!(d.chain_valid && d.pinned && !d.pin_matched && d.chain_verified);
    // The error is debuggable from its text alone: every chain pin is named.
    let text = err.to_string();
    for pin in [pki.leaf.pin(), pki.intermediate.pin(), pki.root.pin()] {
        assert!(text.contains(&pin), "{pin} missing from {text}");
    }
}

/// CVE-2016-2402: the pinned root of PKI B appended to a chain of PKI A (both
/// trusted) must not satisfy B's pins; pins apply to the verified path only.
#[test]
fn pinned_certificate_injected_into_the_presented_chain_does_not_satisfy_the_pin() {
    let attacker = Pki::new("Attacker", &["api.example.com"]);
    let genuine = Pki::new("Genuine", &["api.example.com"]);
    let mut chain = attacker.chain();
    chain.push(genuine.intermediate.der.clone());
    chain.push(genuine.root.der.clone());
    let server = TlsServer::start(chain.clone(), attacker.leaf.private_key());
    let (verifier, config) = pinned_client(policy(
        Profile::Default,
        &[&attacker.root, &genuine.root],
        vec![domain(
            "api.example.com",
            &[genuine.root.pin(), genuine.intermediate.pin()],
        )],
    ));
    let failure = assert_pinning_blocked(&config, "api.example.com", &server);
    assert!(matches!(failure, PinFailure::PinMismatch { .. }));

    let d = verifier.verify("api.example.com", 443, &chain, now());
    assert!(d.chain_valid && d.chain_verified);
    assert_eq!(
        d.chain_pins(),
        [
            attacker.leaf.pin(),
            attacker.intermediate.pin(),
            attacker.root.pin()
        ],
        "the decision lists the verified path, not the presented list"
    );
    // Control: the same presented list with the genuine chain passes.
    let d = verifier.verify("api.example.com", 443, &genuine.chain(), now());
    assert_eq!(d.outcome, PinOutcome::Allow);
}

#[test]
fn hostname_mismatch_blocks_pinned_and_unpinned_hosts() {
    let Setup {
        pki,
        server,
        verifier,
        config,
        ..
    } = setup("Name", &["api.example.com"], |pki| {
        vec![domain("**.example.net", &[pki.leaf.pin(), spare_pin()])]
    });
    for host in ["www.example.net", "unpinned.example.org"] {
        let err = handshake(&config, host, server.addr).unwrap_err();
        assert_eq!(
            err,
            rustls::Error::InvalidCertificate(CertificateError::NotValidForName),
            "{host}"
        );
        let d = verifier.verify(host, 443, &pki.chain(), now());
        assert!(
            matches!(
                &d.failure,
                Some(PinFailure::Name(NameError::NotValidForName { presented }))
                    if presented == &["api.example.com"]
            ),
            "{d:?}"
        );
        assert!(!d.chain_valid);
    }
    // A mismatching host is blocked even though the pin itself matches.
    let d = verifier.verify("www.example.net", 443, &pki.chain(), now());
    assert_eq!(d.outcome, PinOutcome::Block);
}

#[test]
fn expired_leaf_blocks_even_when_pinned() {
    let mut spec = LeafSpec::new(&["api.example.com"]);
    spec.not_before = rcgen::date_time_ymd(2019, 1, 1);
    spec.not_after = rcgen::date_time_ymd(2021, 1, 1);
    let pki = Pki::with_leaf("Expired", KeyKind::P256, &spec);
    let server = pki.serve();
    let (verifier, config) = pinned_client(policy(
        Profile::Default,
        &[&pki.root],
        vec![domain("api.example.com", &[pki.leaf.pin(), pki.root.pin()])],
    ));
    let err = handshake(&config, "api.example.com", server.addr).unwrap_err();
    assert_eq!(
        err,
        rustls::Error::InvalidCertificate(CertificateError::Expired)
    );
    // At a time inside its validity the same chain passes.
    let d = verifier.verify(
        "api.example.com",
        443,
        &pki.chain(),
        UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_600_000_000)),
    );
    assert_eq!(d.outcome, PinOutcome::Allow, "{}", d.reason);
}

#[test]
fn untrusted_root_blocks_with_unknown_issuer() {
    let pki = Pki::new("Untrusted", &["api.example.com"]);
    let other = Pki::new("Other", &["api.example.com"]);
    let server = pki.serve();
    let (verifier, config) = pinned_client(policy(Profile::Default, &[&other.root], vec![]));
    let err = handshake(&config, "api.example.com", server.addr).unwrap_err();
    assert_eq!(
        err,
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)
    );
    // The explanation names the anchors that were tried (the policy's
    // `anchor_sources`): the usual cause is a CA the policy does not list.
    let d = verifier.verify("api.example.com", 443, &pki.chain(), now());
    assert_eq!(
        d.failure,
        Some(PinFailure::Chain(ChainError::UnknownIssuer))
    );
    assert!(d.reason.ends_with("; trusted: anchors_pem"), "{}", d.reason);
}

fn expired_rule(host: &str, pins: &[String], mode: ExpiryMode) -> DomainDocument {
    DomainDocument {
        expires: Some("2020-01-01".into()),
        on_expiry: Some(mode),
        ..domain(host, pins)
    }
}

#[test]
fn expired_pin_set_fail_open_allows_and_reports() {
    let Setup {
        pki,
        server,
        verifier,
        config,
        listener,
        ..
    } = setup("FailOpen", &["api.example.com"], |_| {
        vec![expired_rule(
            "api.example.com",
            &[spare_pin(), spare_pin()],
            ExpiryMode::FailOpen,
        )]
    });
    assert_allowed(&config, "api.example.com", &server);
    let reports = listener.reports();
    assert_eq!(reports.len(), 1, "fail-open expiry is never silent");
    assert!(!reports[0].enforce_pinning);
    assert_eq!(reports[0].expiration_date.as_deref(), Some("2020-01-01"));

    let d = verifier.verify("api.example.com", 443, &pki.chain(), now());
    assert_eq!(d.outcome, PinOutcome::Report);
    assert!(d.pin_set_expired && !d.pin_matched);
    assert!(d.reason.contains("fail-open"), "{}", d.reason);
    // Before the expiry date the same rule blocks.
    let before = UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_577_836_799));
    let mut spec = LeafSpec::new(&["api.example.com"]);
    spec.not_before = rcgen::date_time_ymd(2019, 1, 1);
    let old = Pki::with_leaf("FailOpenBefore", KeyKind::P256, &spec);
    let (v2, _) = pinned_client(policy(
        Profile::Default,
        &[&old.root],
        vec![expired_rule(
            "api.example.com",
            &[spare_pin(), spare_pin()],
            ExpiryMode::FailOpen,
        )],
    ));
    assert_eq!(
        v2.verify("api.example.com", 443, &old.chain(), before)
            .outcome,
        PinOutcome::Block
    );
}

#[test]
fn expired_pin_set_in_enforce_mode_still_blocks() {
    let Setup {
        server,
        config,
        listener,
        ..
    } = setup("Enforce", &["api.example.com"], |_| {
        vec![expired_rule(
            "api.example.com",
            &[spare_pin(), spare_pin()],
            ExpiryMode::Enforce,
        )]
    });
    let failure = assert_pinning_blocked(&config, "api.example.com", &server);
    assert!(matches!(failure, PinFailure::PinMismatch { .. }));
    let reports = listener.reports();
    assert_eq!(reports.len(), 1);
    assert!(reports[0].enforce_pinning);
}

#[test]
fn expired_pin_set_with_matching_pins_allows_silently() {
    let Setup {
        pki,
        server,
        verifier,
        config,
        listener,
        ..
    } = setup("ExpiredOk", &["api.example.com"], |pki| {
        vec![expired_rule(
            "api.example.com",
            &[pki.leaf.pin(), spare_pin()],
            ExpiryMode::Enforce,
        )]
    });
    assert_allowed(&config, "api.example.com", &server);
    assert!(listener.reports().is_empty());
    let d = verifier.verify("api.example.com", 443, &pki.chain(), now());
    assert!(d.pin_set_expired && d.pin_matched);
}

#[test]
fn report_only_allows_delivers_a_trustkit_report_and_deduplicates() {
    let pins = [spare_pin(), spare_pin()];
    let Setup {
        pki,
        server,
        config,
        listener,
        ..
    } = setup(
        "ReportOnly",
        &["api.example.com", "www.example.com"],
        |_| {
            vec![DomainDocument {
                report_only: true,
                include_subdomains: true,
                ..domain("example.com", &pins)
            }]
        },
    );
    assert_allowed(&config, "api.example.com", &server);
    assert_allowed(&config, "api.example.com", &server);
    let reports = listener.reports();
    assert_eq!(reports.len(), 1, "second identical failure is deduplicated");
    let r = &reports[0];
    assert_eq!(r.hostname, "api.example.com");
    // The port the client connected to, not a default 443.
    assert_eq!(r.port, server.addr.port());
    assert_eq!(r.noted_hostname, "**.example.com");
    assert!(r.include_subdomains);
    assert!(!r.enforce_pinning);
    assert_eq!(r.validation_result, 1);
    assert_eq!(
        r.known_pins,
        pins.iter()
            .map(|p| format!("pin-sha256=\"{}\"", p.trim_start_matches("sha256/")))
            .collect::<Vec<_>>()
    );
    let validated = validated_ders(r);
    // The verified path as TrustKit reports it: leaf, intermediate, and the
    // (custom) anchor, which the server did not present.
    let mut expected = pki.chain();
    expected.push(pki.root.der.clone());
    assert_eq!(validated, expected);
    assert_eq!(r.served_certificate_chain.len(), 2);
    // Another host of the same rule is a different report.
    assert_allowed(&config, "www.example.com", &server);
    assert_eq!(listener.reports().len(), 2);
}

/// The PEMs of a report's validated chain, as DER.
fn validated_ders(r: &mamori::pinning::PinFailureReport) -> Vec<CertificateDer<'static>> {
    r.validated_certificate_chain
        .iter()
        .map(|pem| CertificateDer::from_pem_slice(pem.as_bytes()).expect("PEM certificate"))
        .collect()
}

/// Issue 9 item 6: a served certificate carrying the intermediate's key
/// under another subject, served before the real intermediate, is not on the
/// verified path and must not appear in the report's validated chain (which
/// was rebuilt by matching pins against the served list).
#[test]
fn report_validated_chain_is_the_path_webpki_used_not_a_same_key_decoy() {
    let pki = Pki::new("Decoy", &["api.example.com"]);
    let decoy = same_key_other_subject("Forged Subject CA", &pki.intermediate);
    assert_eq!(decoy.pin(), pki.intermediate.pin(), "same key, same pin");
    let served = vec![
        pki.leaf.der.clone(),
        decoy.der.clone(),
        pki.intermediate.der.clone(),
    ];
    let server = TlsServer::start(served.clone(), pki.leaf.private_key());
    let (verifier, config, listener) = pinned_client_with_listener(
        policy(
            Profile::Default,
            &[&pki.root],
            vec![DomainDocument {
                report_only: true,
                ..domain("api.example.com", &[spare_pin(), spare_pin()])
            }],
        ),
        server.addr.port(),
    );
    assert_allowed(&config, "api.example.com", &server);
    let reports = listener.reports();
    assert_eq!(reports.len(), 1);
    let r = &reports[0];
    assert_eq!(
        validated_ders(r),
        vec![
            pki.leaf.der.clone(),
            pki.intermediate.der.clone(),
            pki.root.der.clone()
        ],
        "the validated chain is leaf, the real intermediate, the anchor"
    );
    assert_eq!(r.served_certificate_chain.len(), 3);
    let d = verifier.verify("api.example.com", 443, &served, now());
    assert!(d.chain_verified);
    let subjects: Vec<&str> = d.chain.iter().map(|c| c.subject.as_str()).collect();
    assert_eq!(
        subjects,
        [
            "CN=api.example.com",
            "CN=Decoy Issuing CA",
            "CN=Decoy Root CA"
        ]
    );
}

/// Two configured anchors with one key and different subjects: the report
/// carries the anchor certificate webpki ended the path at, not the first
/// anchor with a matching pin.
#[test]
fn report_anchor_is_the_anchor_webpki_used_not_a_same_key_alias() {
    let pki = Pki::new("Alias", &["api.example.com"]);
    let alias = same_key_other_subject("Alias Other Root", &pki.root);
    let verifier = PinVerifier::new(policy(
        Profile::Default,
        &[&alias, &pki.root],
        vec![domain("api.example.com", &[spare_pin(), spare_pin()])],
    ));
    let d = verifier.verify("api.example.com", 443, &pki.chain(), now());
    assert_eq!(d.outcome, PinOutcome::Block);
    let r = d.report.expect("a pin mismatch produces a report");
    let mut expected = pki.chain();
    expected.push(pki.root.der.clone());
    assert_eq!(validated_ders(&r), expected);
}

/// TrustKit's report fields, by name, and nothing identifying the device.
#[test]
fn report_json_has_trustkit_field_names_and_no_device_identifier() {
    let pki = Pki::new("Json", &["api.example.com"]);
    let verifier = PinVerifier::new(policy(
        Profile::Default,
        &[&pki.root],
        vec![domain("api.example.com", &[spare_pin(), spare_pin()])],
    ));
    let t = now();
    let d = verifier.verify("api.example.com", 8443, &pki.chain(), t);
    let report = d.report.expect("a blocked pinned host produces a report");
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    let obj = json.as_object().unwrap();
    for field in [
        "hostname",
        "port",
        "noted-hostname",
        "include-subdomains",
        "enforce-pinning",
        "validated-certificate-chain",
        "known-pins",
        "validation-result",
        "date-time",
    ] {
        assert!(obj.contains_key(field), "missing {field} in {json}");
    }
    assert_eq!(obj["hostname"], "api.example.com");
    assert_eq!(obj["port"], 8443);
    assert_eq!(obj["enforce-pinning"], true);
    assert_eq!(obj["validation-result"], 1);
    assert!(
        obj["validated-certificate-chain"][0]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----\n")
    );
    let when = time::OffsetDateTime::parse(
        obj["date-time"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(when.unix_timestamp() as u64, t.as_secs());
    for key in obj.keys() {
        let k = key.to_ascii_lowercase();
        assert!(
            !k.starts_with("app-") && !k.contains("vendor") && !k.contains("device"),
            "unexpected identifying field {key} by default"
        );
    }
    // What the app registers is what the report carries.
    let app = AppInfo {
        bundle_id: Some("jp.example.bank".into()),
        ..AppInfo::default()
    };
    let verifier = PinVerifier::new(verifier.policy().clone())
        .with_listener(Arc::new(CollectingListener::default()), app);
    let d = verifier.verify("api.example.com", 443, &pki.chain(), t);
    let json: serde_json::Value = serde_json::from_str(&d.report.unwrap().to_json()).unwrap();
    assert_eq!(json["app-bundle-id"], "jp.example.bank");
    assert!(json.get("app-vendor-id").is_none());
}

/// OkHttp's `*` / `**` grammar and NSC's include_subdomains, over real
/// handshakes: each rule carries wrong pins, so a covered host is blocked and
/// an uncovered host passes on its valid chain.
#[test]
fn subdomain_and_wildcard_matrix() {
    let hosts = [
        "example.com",
        "a.example.com",
        "b.a.example.com",
        "evil-example.com",
        "example.com.evil.net",
        "co.uk",
        "example.co.uk",
        "x.example.co.uk",
        "anotherexample.co.uk",
    ];
    let pki = Pki::new("Matrix", &hosts);
    let server = pki.serve();
    let matrix: &[(&str, bool, &[&str])] = &[
        ("example.com", false, &["example.com"]),
        (
            "example.com",
            true,
            &["example.com", "a.example.com", "b.a.example.com"],
        ),
        ("*.example.com", false, &["a.example.com"]),
        (
            "**.example.com",
            false,
            &["example.com", "a.example.com", "b.a.example.com"],
        ),
        ("*.a.example.com", false, &["b.a.example.com"]),
        (
            "**.example.co.uk",
            false,
            &["example.co.uk", "x.example.co.uk"],
        ),
        ("*.example.co.uk", false, &["x.example.co.uk"]),
    ];
    let wrong = [spare_pin(), spare_pin()];
    for (pattern, include_subdomains, covered) in matrix {
        let (_, config) = pinned_client(policy(
            Profile::Default,
            &[&pki.root],
            vec![DomainDocument {
                include_subdomains: *include_subdomains,
                ..domain(pattern, &wrong)
            }],
        ));
        for host in hosts {
            let result = handshake(&config, host, server.addr);
            if covered.contains(&host) {
                let err = result.expect_err(&format!("{pattern} should pin {host}"));
                let pe = pinning_error(&err).expect("HandshakeBlocked");
                assert!(matches!(
                    pe.decision.failure,
                    Some(PinFailure::PinMismatch { .. })
                ));
            } else if let Err(e) = result {
                panic!(
                    "{pattern} (include_subdomains={include_subdomains}) must not pin {host}: {e}"
                );
            }
        }
    }
}

#[test]
fn longest_match_wins_and_names_are_normalised() {
    let Setup {
        pki,
        server,
        verifier,
        config,
        ..
    } = setup(
        "Longest",
        &[
            "api.example.com",
            "www.example.com",
            "xn--bcher-kva.example",
        ],
        |pki| {
            vec![
                domain("**.example.com", &[spare_pin(), spare_pin()]),
                domain("api.example.com", &[pki.leaf.pin(), spare_pin()]),
                domain("bücher.example", &[spare_pin(), spare_pin()]),
            ]
        },
    );
    assert_allowed(&config, "api.example.com", &server);
    assert_pinning_blocked(&config, "www.example.com", &server);
    assert_pinning_blocked(&config, "xn--bcher-kva.example", &server);
    // Case, trailing dot and Unicode forms reach the same rules.
    let chain = pki.chain();
    let d = verifier.verify("API.Example.COM.", 443, &chain, now());
    assert_eq!(d.outcome, PinOutcome::Allow, "{}", d.reason);
    assert_eq!(d.rule.as_deref(), Some("api.example.com"));
    let d = verifier.verify("BÜCHER.example", 443, &chain, now());
    assert_eq!(d.rule.as_deref(), Some("bücher.example"));
    assert_eq!(d.outcome, PinOutcome::Block);
}

#[test]
fn ip_address_host_is_pinned_by_its_ip_rule() {
    let Setup {
        pki,
        server,
        verifier,
        config,
        ..
    } = setup("Ip", &["127.0.0.1"], |pki| {
        vec![domain("127.0.0.1", &[pki.intermediate.pin(), spare_pin()])]
    });
    assert_allowed(&config, "127.0.0.1", &server);
    let d = verifier.verify("127.0.0.1", 443, &pki.chain(), now());
    assert_eq!(d.rule.as_deref(), Some("127.0.0.1"));
    assert!(d.pin_matched);

    let (_, wrong) = pinned_client(policy(
        Profile::Default,
        &[&pki.root],
        vec![domain("127.0.0.1", &[spare_pin(), spare_pin()])],
    ));
    assert_pinning_blocked(&wrong, "127.0.0.1", &server);
}

#[test]
fn unpinned_host_passes_on_a_valid_chain() {
    let Setup {
        pki,
        server,
        verifier,
        config,
        ..
    } = setup("Unpinned", &["cdn.example.org"], |_| {
        vec![domain("api.example.com", &[spare_pin(), spare_pin()])]
    });
    assert_allowed(&config, "cdn.example.org", &server);
    let d = verifier.verify("cdn.example.org", 443, &pki.chain(), now());
    assert!(!d.pinned && d.chain_valid && d.report.is_none());
}

fn both_profiles(pki: &Pki) -> [Arc<rustls::ClientConfig>; 2] {
    [Profile::Default, Profile::Strict].map(|profile| {
        Arc::new(client_config(
            Arc::new(PinVerifier::new(policy(profile, &[&pki.root], vec![]))),
            0,
        ))
    })
}

/// A leaf with an RSA key of `bits` (ring cannot sign with it, so it is
/// checked with `verify` rather than served): allowed by the default profile,
/// refused by strict with the rule that fired.
fn strict_refuses_rsa_leaf_of(bits: u32) -> StrictViolation {
    let mut spec = LeafSpec::new(&["api.example.com"]);
    spec.key = KeyKind::Rsa(bits);
    spec.public_key_only = true;
    let pki = Pki::with_leaf(&format!("Rsa{bits}"), KeyKind::P256, &spec);
    let lenient = PinVerifier::new(policy(Profile::Default, &[&pki.root], vec![]));
    let strict = PinVerifier::new(policy(Profile::Strict, &[&pki.root], vec![]));
    let d = lenient.verify("api.example.com", 443, &pki.chain(), now());
    assert_eq!(d.outcome, PinOutcome::Allow, "{}", d.reason);
    let d = strict.verify("api.example.com", 443, &pki.chain(), now());
    assert_eq!(d.outcome, PinOutcome::Block);
    match d.failure {
        Some(PinFailure::Strict(v)) => v,
        other => panic!("expected a strict-profile failure, got {other:?}"),
    }
}

#[test]
fn strict_profile_refuses_a_1024_bit_rsa_leaf() {
    let v = strict_refuses_rsa_leaf_of(1024);
    assert_eq!(
        v,
        StrictViolation::RsaKeyTooShort {
            position: CertificatePosition::Leaf,
            bits: 1024
        }
    );
    assert!(v.to_string().contains("1024 bits (minimum 2048)"), "{v}");
}

#[test]
fn strict_profile_refuses_an_rsa_key_that_is_not_whole_bytes() {
    let v = strict_refuses_rsa_leaf_of(2052);
    assert_eq!(
        v,
        StrictViolation::RsaKeyOddLength {
            position: CertificatePosition::Leaf,
            bits: 2052
        }
    );
}

#[test]
fn strict_profile_accepts_a_2048_bit_rsa_chain_over_tls() {
    let mut spec = LeafSpec::new(&["api.example.com"]);
    spec.key = KeyKind::Rsa(2048);
    let pki = Pki::with_leaf("Rsa2048", KeyKind::Rsa(2048), &spec);
    let server = pki.serve();
    for config in both_profiles(&pki) {
        assert_allowed(&config, "api.example.com", &server);
    }
}

#[test]
fn leaf_without_server_auth_eku_is_refused_only_by_strict() {
    let mut spec = LeafSpec::new(&["api.example.com"]);
    spec.server_auth_eku = false;
    let pki = Pki::with_leaf("NoEku", KeyKind::P256, &spec);
    let server = pki.serve();
    let [default, strict] = both_profiles(&pki);
    assert_allowed(&default, "api.example.com", &server);
    let failure = assert_pinning_blocked(&strict, "api.example.com", &server);
    assert!(
        matches!(&failure, PinFailure::Strict(StrictViolation::NoServerAuth)),
        "{failure:?}"
    );
}

#[test]
fn wildcard_directly_under_a_public_suffix_is_refused_only_by_strict() {
    let pki = Pki::new("PslWildcard", &["*.co.uk", "shop.example.co.uk"]);
    let server = pki.serve();
    let [default, strict] = both_profiles(&pki);
    assert_allowed(&default, "shop.co.uk", &server);
    let failure = assert_pinning_blocked(&strict, "shop.co.uk", &server);
    assert!(
        matches!(
            &failure,
            PinFailure::Strict(StrictViolation::PublicSuffixWildcard { wildcard, .. })
                if wildcard == "*.co.uk"
        ),
        "{failure:?}"
    );
    // What is judged is the name the connection relies on: the same
    // certificate also names shop.example.co.uk under its organisation's own
    // domain (as Amazon's s3.amazonaws.com certificate carries
    // *.s3.amazonaws.com next to its exact name).
    assert_allowed(&strict, "shop.example.co.uk", &server);

    let fine = Pki::new("OrgWildcard", &["*.example.co.uk"]);
    let server = fine.serve();
    let [_, strict] = both_profiles(&fine);
    assert_allowed(&strict, "shop.example.co.uk", &server);
}

/// Strict-profile refusal of a leaf shaped by `tweak`, which the default
/// profile (the Web PKI baseline) accepts; returns the strict rule that fired.
fn strict_only_refuses(name: &str, tweak: fn(&mut rcgen::CertificateParams)) -> StrictViolation {
    let mut spec = LeafSpec::new(&["api.example.com"]);
    spec.tweak = tweak;
    let pki = Pki::with_leaf(name, KeyKind::P256, &spec);
    let server = pki.serve();
    let [default, strict] = both_profiles(&pki);
    assert_allowed(&default, "api.example.com", &server);
    match assert_pinning_blocked(&strict, "api.example.com", &server) {
        PinFailure::Strict(v) => v,
        other => panic!("expected a strict-profile failure, got {other:?}"),
    }
}

#[test]
fn leaf_with_any_extended_key_usage_is_refused_only_by_strict() {
    let msg = strict_only_refuses("AnyEku", |p| {
        p.extended_key_usages
            .push(rcgen::ExtendedKeyUsagePurpose::Any)
    });
    assert_eq!(msg, StrictViolation::AnyExtendedKeyUsage);
}

#[test]
fn leaf_that_may_sign_certificates_is_refused_only_by_strict() {
    let msg = strict_only_refuses("KeyCertSign", |p| {
        p.key_usages.push(rcgen::KeyUsagePurpose::KeyCertSign)
    });
    assert_eq!(msg, StrictViolation::LeafSignsCertificates);
}

#[test]
fn leaf_with_a_zero_serial_number_is_refused_only_by_strict() {
    let msg = strict_only_refuses("SerialZero", |p| {
        p.serial_number = Some(rcgen::SerialNumber::from_slice(&[0]))
    });
    assert_eq!(
        msg,
        StrictViolation::BadSerialNumber {
            position: CertificatePosition::Leaf
        }
    );
}

#[test]
fn leaf_with_a_malformed_extension_is_refused_only_by_strict() {
    // authorityInfoAccess (1.3.6.1.5.5.7.1.1) whose content is not a
    // SEQUENCE of AccessDescription.
    let msg = strict_only_refuses("MalformedAia", |p| {
        p.custom_extensions
            .push(rcgen::CustomExtension::from_oid_content(
                &[1, 3, 6, 1, 5, 5, 7, 1, 1],
                vec![0x04, 0x02, 0xde, 0xad],
            ))
    });
    assert!(
        matches!(
            &msg,
            StrictViolation::MalformedExtension { position: CertificatePosition::Leaf, oid, .. }
                if oid == "1.3.6.1.5.5.7.1.1"
        ),
        "{msg:?}"
    );
    assert!(
        msg.to_string()
            .contains("malformed extension 1.3.6.1.5.5.7.1.1"),
        "{msg}"
    );
}
