//! x509-limbo conformance (C2SP/x509-limbo, Apache-2.0) for the pinning
//! verifier's path validation, with rustls/webpki's pattern of a documented
//! exceptions file.
//!
//! Every SERVER case that names a DNS or IP peer runs through
//! `PinVerifier::verify` with a policy whose only anchors are the case's
//! trusted certificates and no pins, at the case's validation time, once per
//! profile. Bare rustls-webpki (`verify_for_usage` with serverAuth, then the
//! subject-name check) runs on the same cases as the baseline.
//!
//! `tests/limbo-exceptions.json` lists each case where Mamori disagrees with
//! limbo's expectation, with the reason. The test fails when a case diverges
//! without an exception, and when an exception no longer diverges, so the
//! file always describes the engine as it is. Set `LIMBO_WRITE_DIVERGENCES`
//! to a path to dump the current divergences (with each case's description)
//! when updating the file.

use std::collections::BTreeMap;
use std::io::Read;

use mamori::pinning::TrustDocument;
use mamori::pinning::{Outcome, PinVerifier, PolicyDocument, Profile};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct Limbo {
    version: u32,
    testcases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    id: String,
    description: String,
    validation_kind: String,
    trusted_certs: Vec<String>,
    untrusted_intermediates: Vec<String>,
    peer_certificate: String,
    validation_time: Option<String>,
    expected_result: Expected,
    expected_peer_name: Option<PeerName>,
}

#[derive(Deserialize)]
struct PeerName {
    kind: String,
    value: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "UPPERCASE")]
enum Expected {
    Success,
    Failure,
}

/// One documented divergence.
#[derive(Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Exception {
    expected: Expected,
    actual: Expected,
    /// `default`, `strict` or `both`.
    profile: String,
    reason: String,
}

fn load_cases() -> Vec<Case> {
    let path = mamori_tests::repo_root().join("../shared/testdata/limbo/limbo-server.json.gz");
    let file = std::fs::File::open(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (the shared test data)", path.display()));
    let mut json = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut json)
        .expect("gzip JSON");
    let limbo: Limbo = serde_json::from_str(&json).expect("limbo schema");
    assert_eq!(limbo.version, 1);
    limbo.testcases
}

fn der(pem: &str) -> CertificateDer<'static> {
    CertificateDer::from_pem_slice(pem.as_bytes()).expect("PEM certificate")
}

fn time_of(case: &Case) -> UnixTime {
    match &case.validation_time {
        Some(t) => {
            let t = time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                .expect("RFC 3339 validation_time");
            UnixTime::since_unix_epoch(std::time::Duration::from_secs(t.unix_timestamp() as u64))
        }
        None => UnixTime::now(),
    }
}

fn chain_of(case: &Case) -> Vec<CertificateDer<'static>> {
    let mut chain = vec![der(&case.peer_certificate)];
    chain.extend(case.untrusted_intermediates.iter().map(|p| der(p)));
    chain
}

/// Mamori: a policy trusting exactly the case's anchors, no pins.
fn mamori(case: &Case, profile: Profile) -> Expected {
    let doc = PolicyDocument {
        profile,
        trust: Some(TrustDocument {
            mozilla_roots: Some(false),
            anchors_pem: Some(case.trusted_certs.concat()),
            ..TrustDocument::default()
        }),
        ..PolicyDocument::default()
    };
    // A policy whose anchors cannot be loaded is refused at load: no
    // connection is ever made with it.
    let Ok(policy) = doc.validate(&case.id, None) else {
        return Expected::Failure;
    };
    let host = &case.expected_peer_name.as_ref().expect("peer name").value;
    let d = PinVerifier::new(policy).verify(host, 443, &chain_of(case), time_of(case));
    match d.outcome {
        Outcome::Allow => Expected::Success,
        Outcome::Block | Outcome::Report => Expected::Failure,
    }
}

/// Bare rustls-webpki: serverAuth path validation, then the name check.
fn bare_webpki(case: &Case) -> Expected {
    let trusted: Vec<_> = case.trusted_certs.iter().map(|p| der(p)).collect();
    let anchors: Vec<_> = trusted
        .iter()
        .filter_map(|c| webpki::anchor_from_trusted_cert(c).ok())
        .collect();
    let chain = chain_of(case);
    let Ok(ee) = webpki::EndEntityCert::try_from(&chain[0]) else {
        return Expected::Failure;
    };
    let peer = case.expected_peer_name.as_ref().expect("peer name");
    let Ok(name) = ServerName::try_from(peer.value.as_str()) else {
        return Expected::Failure;
    };
    let ok = ee
        .verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &anchors,
            &chain[1..],
            time_of(case),
            webpki::KeyUsage::server_auth(),
            None,
            None,
        )
        .is_ok()
        && ee.verify_is_valid_for_subject_name(&name).is_ok();
    if ok {
        Expected::Success
    } else {
        Expected::Failure
    }
}

#[test]
fn limbo_server_cases_agree_or_are_documented_exceptions() {
    let cases: Vec<Case> = load_cases()
        .into_iter()
        .filter(|c| c.validation_kind == "SERVER")
        .filter(|c| {
            c.expected_peer_name
                .as_ref()
                .is_some_and(|p| p.kind == "DNS" || p.kind == "IP")
        })
        .collect();
    assert!(cases.len() >= 190, "only {} cases", cases.len());

    let exceptions_path = mamori_tests::repo_root().join("tests/limbo-exceptions.json");
    let exceptions: BTreeMap<String, Exception> =
        serde_json::from_str(&std::fs::read_to_string(&exceptions_path).unwrap())
            .expect("exceptions file: {id: {expected, actual, profile, reason}}");

    let (mut agree_default, mut agree_strict, mut agree_bare) = (0, 0, 0);
    let mut divergences: BTreeMap<String, (Expected, Expected, String, String)> = BTreeMap::new();
    for case in &cases {
        let expected = case.expected_result;
        let default = mamori(case, Profile::Default);
        let strict = mamori(case, Profile::Strict);
        agree_default += usize::from(default == expected);
        agree_strict += usize::from(strict == expected);
        agree_bare += usize::from(bare_webpki(case) == expected);
        let profile = match (default == expected, strict == expected) {
            (true, true) => continue,
            (false, false) => {
                assert_eq!(default, strict);
                "both"
            }
            (false, true) => "default",
            (true, false) => "strict",
        };
        let actual = if default != expected { default } else { strict };
        divergences.insert(
            case.id.clone(),
            (
                expected,
                actual,
                profile.to_owned(),
                case.description.clone(),
            ),
        );
    }

    let total = cases.len();
    println!(
        "limbo: default {agree_default}/{total}, strict {agree_strict}/{total}, bare webpki {agree_bare}/{total}"
    );

    if let Ok(out) = std::env::var("LIMBO_WRITE_DIVERGENCES") {
        let dump: BTreeMap<_, _> = divergences
            .iter()
            .map(|(id, (expected, actual, profile, description))| {
                let reason = exceptions
                    .get(id)
                    .map(|e| e.reason.clone())
                    .unwrap_or_else(|| format!("TODO: {description}"));
                (
                    id.clone(),
                    Exception {
                        expected: *expected,
                        actual: *actual,
                        profile: profile.clone(),
                        reason,
                    },
                )
            })
            .collect();
        std::fs::write(&out, serde_json::to_string_pretty(&dump).unwrap()).unwrap();
    }

    let mut problems = Vec::new();
    for (id, (expected, actual, profile, _)) in &divergences {
        match exceptions.get(id) {
            None => problems.push(format!(
                "{id}: expected {expected:?}, got {actual:?} ({profile}) and no exception"
            )),
            Some(e) if e.expected != *expected || e.actual != *actual || &e.profile != profile => {
                problems.push(format!(
                    "{id}: the exception says {:?}->{:?} ({}), now {expected:?}->{actual:?} ({profile})",
                    e.expected, e.actual, e.profile
                ))
            }
            Some(e) if e.reason.trim().is_empty() || e.reason.starts_with("TODO") => {
                problems.push(format!("{id}: the exception needs a reason"))
            }
            Some(_) => {}
        }
    }
    for id in exceptions.keys() {
        if !divergences.contains_key(id) {
            problems.push(format!(
                "{id}: listed as an exception but no longer diverges; remove it"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "limbo divergences out of date ({}):\n{}",
        problems.len(),
        problems.join("\n")
    );

    assert!(
        agree_default >= agree_bare,
        "the default profile must agree at least as often as bare webpki"
    );
    assert!(
        agree_strict > agree_default,
        "the strict profile must agree more often than the default"
    );
}
