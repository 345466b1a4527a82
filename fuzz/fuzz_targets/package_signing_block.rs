//! Package audits (issue 13): `audit::package` decoder `signing_block` on raw bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mamori::audit::package::fuzzing::signing_block(data);
});
