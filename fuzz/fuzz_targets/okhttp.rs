//! OkHttp `CertificatePinner` sources (Kotlin/Java) and pin lists.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mamori::audit::{self, NscOptions, SourceFormat};

fuzz_target!(|data: &[u8]| {
    let _ = audit::import_bytes(
        data,
        "fuzz.kt",
        Some(SourceFormat::OkHttp),
        NscOptions::default(),
        None,
    );
});
