//! Package audits (issue 13): `audit::package` decoder `pkcs7` on raw bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mamori::audit::package::fuzzing::pkcs7(data);
});
