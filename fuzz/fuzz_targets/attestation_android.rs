//! Android key attestation: the `KeyDescription` decoder (DER), a leaf
//! certificate's extension, PEM chains through the verifier, and the
//! revocation status list (JSON from Google's server).
#![no_main]
use libfuzzer_sys::fuzz_target;
use mamori::attestation::{
    AndroidOptions, GoogleRoots, RevocationList, leaf_key_description, parse_key_description,
    verify_android_pem,
};
use rustls_pki_types::UnixTime;

fuzz_target!(|data: &[u8]| {
    if data.starts_with(b"-----") {
        let roots = GoogleRoots::bundled();
        // A fixed instant inside the shared chains' validity.
        let opts = AndroidOptions::new(
            &roots,
            UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_700_000_000)),
        );
        let _ = verify_android_pem(data, &opts);
    } else if data.starts_with(b"{") {
        let _ = RevocationList::from_json(data);
    } else {
        let _ = parse_key_description(data);
        let _ = leaf_key_description(data);
    }
});
