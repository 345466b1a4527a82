//! The pinning conformance suite (`tests/conformance/pinning/`) through
//! Mamori's Rust API: `PolicyDocument` → `PinVerifier::verify` at the case's
//! time. Every case must get the outcome the platforms' documented semantics
//! give, except the disagreements `docs/conformance.md` lists for `mamori-rust`.

use mamori::PolicyFormat;
use mamori::pinning::{PinVerifier, PolicyDocument, certificates_from_bytes};
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
