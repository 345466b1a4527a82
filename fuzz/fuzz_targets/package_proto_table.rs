//! Package audits (issue 13): `audit::package` decoder `proto_table` on raw bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mamori::audit::package::fuzzing::proto_table(data);
});
