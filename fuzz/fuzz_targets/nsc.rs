//! Android network security config XML.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mamori::audit::{self, NscOptions, SourceFormat};

fuzz_target!(|data: &[u8]| {
    let _ = audit::import_bytes(
        data,
        "fuzz.xml",
        Some(SourceFormat::Nsc),
        NscOptions::default(),
        None,
    );
});
