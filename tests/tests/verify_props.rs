//! Property tests: `PinVerifier::verify` is total. Whatever bytes arrive as
//! a chain and whatever string arrives as a host (a TLS stack hands both over
//! from the network), it returns a decision and never panics; and a chain
//! that was tampered with is never allowed.

use std::sync::OnceLock;

use mamori::pinning::{Outcome, PinVerifier, Profile};
use mamori_tests::{Pki, domain, policy};
use proptest::prelude::*;
use rustls::pki_types::{CertificateDer, UnixTime};

struct Fixture {
    pki: Pki,
    verifiers: Vec<PinVerifier>,
}

/// One PKI and verifiers for both profiles, pinned and report-only, shared
/// by every generated case.
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let pki = Pki::new("Props", &["api.example.com", "127.0.0.1"]);
        let pins = [pki.leaf.pin(), pki.root.pin()];
        let mut verifiers = Vec::new();
        for profile in [Profile::Default, Profile::Strict] {
            verifiers.push(PinVerifier::new(policy(
                profile,
                &[&pki.root],
                vec![domain("**.example.com", &pins), domain("127.0.0.1", &pins)],
            )));
            let mut report_only = domain("api.example.com", &[pki.intermediate.pin()]);
            report_only.report_only = true;
            verifiers.push(PinVerifier::new(policy(
                profile,
                &[&pki.root],
                vec![report_only],
            )));
        }
        Fixture { pki, verifiers }
    })
}

fn at() -> UnixTime {
    UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_800_000_000))
}

fn host_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9.*_:/\\[\\]-]{0,40}",
        Just("api.example.com".to_owned()),
        Just("127.0.0.1".to_owned()),
        Just("[::1]".to_owned()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn arbitrary_bytes_and_hosts_never_panic(
        host in host_strategy(),
        chain in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..600), 0..4),
        port in any::<u16>(),
        secs in any::<u64>(),
    ) {
        let f = fixture();
        let chain: Vec<CertificateDer<'_>> = chain.into_iter().map(CertificateDer::from).collect();
        let now = UnixTime::since_unix_epoch(std::time::Duration::from_secs(secs));
        for v in &f.verifiers {
            let d = v.verify(&host, port, &chain, now);
            prop_assert_eq!(d.outcome, Outcome::Block);
            prop_assert!(!d.reason.is_empty());
        }
    }

    #[test]
    fn tampered_chains_are_never_allowed(
        which in 0usize..2,
        index in any::<prop::sample::Index>(),
        flip in 1u8..=255,
        truncate in any::<bool>(),
    ) {
        let f = fixture();
        let mut chain: Vec<Vec<u8>> = f.pki.chain().iter().map(|c| c.to_vec()).collect();
        let cert = &mut chain[which];
        let i = index.index(cert.len());
        if truncate {
            cert.truncate(i);
        } else {
            cert[i] ^= flip;
        }
        let chain: Vec<CertificateDer<'_>> = chain.into_iter().map(CertificateDer::from).collect();
        for v in &f.verifiers {
            for host in ["api.example.com", "127.0.0.1"] {
                let d = v.verify(host, 443, &chain, at());
                prop_assert_eq!(d.outcome, Outcome::Block, "{} {}", host, d.reason);
            }
        }
    }
}

/// The control for the tampering property: the untouched chain passes.
#[test]
fn untampered_chain_is_allowed() {
    let f = fixture();
    for v in &f.verifiers {
        for host in ["api.example.com", "127.0.0.1"] {
            let d = v.verify(host, 443, &f.pki.chain(), at());
            assert!(d.is_allowed(), "{host}: {}", d.reason);
        }
    }
}
