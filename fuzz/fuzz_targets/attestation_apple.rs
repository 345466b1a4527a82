//! Apple App Attest: the CBOR attestation object (through the chain check to
//! Apple's root) and the CBOR assertion with its authenticator data. The
//! first byte picks which; the options are those of the shared vectors.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mamori::attestation::{
    AppleOptions, AssertionOptions, apple_app_attestation_root, verify_app_attest, verify_assertion,
};
use rustls_pki_types::UnixTime;

const APP_ID: &str = "6MURL8TA57.de.vincent-haupert.apple-appattest-poc";

/// A P-256 SubjectPublicKeyInfo (the shared assertion vector's key).
const SPKI_B64: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEuor73/hQPRnCYrAq2dG0VCNWuZM+/xSltvLo0gWbVf+Obuaew4j85OB+6B4wCzcSFJvQStNWMtRkbFefmkANCw==";

fuzz_target!(|data: &[u8]| {
    let Some((&mode, object)) = data.split_first() else {
        return;
    };
    let hash = [0u8; 32];
    if mode & 1 == 0 {
        let roots = vec![apple_app_attestation_root()];
        let time = UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_700_000_000));
        let opts = AppleOptions::new(&roots, time, APP_ID, &hash, &hash);
        let _ = verify_app_attest(object, &opts);
    } else {
        use base64::Engine as _;
        let spki = base64::engine::general_purpose::STANDARD
            .decode(SPKI_B64)
            .expect("valid base64");
        let _ = verify_assertion(object, &AssertionOptions::new(&spki, APP_ID, &hash, 0));
    }
});
