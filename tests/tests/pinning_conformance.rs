//! The pinning conformance suite (`tests/conformance/pinning/`) through
//! Mamori's Rust API: `PolicyDocument` → `PinVerifier::verify` at the case's
//! time. Every case must get the outcome the platforms' documented semantics
//! give, except the disagreements `docs/conformance.md` lists for `mamori-rust`.

use mamori::PolicyFormat;
use mamori::pinning::{ChainValidation, PinVerifier, PolicyDocument, certificates_from_bytes};
use mamori_tests::conformance::{Expected, assert_conformance, reason_class};
use rustls_pki_types::{CertificateDer, UnixTime};

#[test]
fn rust_api_agrees_with_the_suite() {
    assert_conformance("mamori-rust", |case| {
        let policy =
            PolicyDocument::parse(&case.mamori_policy_json(), PolicyFormat::Json, &case.id)
                .and_then(|d| d.validate(&case.id, None))
                .unwrap_or_else(|e| panic!("{}: policy refused: {e}", case.id));
        let chain: Vec<CertificateDer<'static>> =
            certificates_from_bytes(case.chain.concat().as_bytes())
                .expect("PEM chain")
                .into_iter()
                .map(CertificateDer::from)
                .collect();
        let at = mamori::date::parse_instant(&case.time).expect("RFC 3339 time");
        let now = UnixTime::since_unix_epoch(std::time::Duration::from_secs(
            u64::try_from(at.unix_timestamp()).expect("after 1970"),
        ));
        let d = PinVerifier::new(policy).verify(&case.host, 443, &chain, now);
        Expected {
            decision: d.outcome.as_str().to_owned(),
            reason: reason_class(&serde_json::to_value(&d.failure).expect("serialises")),
        }
    });
}

/// The platform of `mamori-rust-platform`: bare rustls-webpki path building
/// against the case's anchors (a stand-in for Android's or Apple's trust
/// evaluation), returning the verified path leaf first with its anchor's
/// certificate last, or the reason class of its refusal.
fn platform_verified_path(
    chain: &[CertificateDer<'static>],
    anchors: &[CertificateDer<'static>],
    now: UnixTime,
) -> Result<Vec<CertificateDer<'static>>, String> {
    let trust: Vec<_> = anchors
        .iter()
        .map(|a| {
            webpki::anchor_from_trusted_cert(a)
                .expect("anchor")
                .to_owned()
        })
        .collect();
    let leaf = webpki::EndEntityCert::try_from(&chain[0]).map_err(|e| e.to_string())?;
    let path = leaf
        .verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &trust,
            &chain[1..],
            now,
            webpki::KeyUsage::server_auth(),
            None,
            None,
        )
        .map_err(|e| match e {
            webpki::Error::CertExpired { .. } | webpki::Error::CertNotValidYet { .. } => {
                "expired-certificate".to_owned()
            }
            _ => "untrusted-chain".to_owned(),
        })?;
    let mut out = vec![chain[0].clone()];
    out.extend(
        path.intermediate_certificates()
            .map(|c| c.der().into_owned()),
    );
    let anchor = path.anchor();
    out.extend(
        anchors
            .iter()
            .zip(&trust)
            .find(|(_, t)| {
                t.subject == anchor.subject
                    && t.subject_public_key_info == anchor.subject_public_key_info
            })
            .map(|(der, _)| der.clone()),
    );
    Ok(out)
}

#[test]
fn rust_api_on_the_platform_path_agrees_with_the_suite() {
    assert_conformance("mamori-rust-platform", |case| {
        let policy =
            PolicyDocument::parse(&case.mamori_policy_json(), PolicyFormat::Json, &case.id)
                .and_then(|d| d.validate(&case.id, None))
                .unwrap_or_else(|e| panic!("{}: policy refused: {e}", case.id));
        let der = |pems: &[String]| -> Vec<CertificateDer<'static>> {
            certificates_from_bytes(pems.concat().as_bytes())
                .expect("PEM")
                .into_iter()
                .map(CertificateDer::from)
                .collect()
        };
        let at = mamori::date::parse_instant(&case.time).expect("RFC 3339 time");
        let now = UnixTime::since_unix_epoch(std::time::Duration::from_secs(
            u64::try_from(at.unix_timestamp()).expect("after 1970"),
        ));
        let path = match platform_verified_path(&der(&case.chain), &der(&case.anchors), now) {
            Ok(path) => path,
            Err(reason) => {
                return Expected {
                    decision: "block".into(),
                    reason,
                };
            }
        };
        let d = PinVerifier::new(policy).verify_with(
            ChainValidation::Platform,
            &case.host,
            443,
            &path,
            now,
        );
        Expected {
            decision: d.outcome.as_str().to_owned(),
            reason: reason_class(&serde_json::to_value(&d.failure).expect("serialises")),
        }
    });
}
