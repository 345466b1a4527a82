//! The source evaluator (`audit::source`): Kotlin, Java, Swift and
//! Objective-C pinning code and Gradle files. The first byte picks how the
//! rest is given (detected, as OkHttp code, as TrustKit code), so each
//! grammar and the evaluator behind it are reached.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mamori::audit::{self, NscOptions, SourceFormat};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let from = match sel % 3 {
        0 => None,
        1 => Some(SourceFormat::OkHttp),
        _ => Some(SourceFormat::TrustKit),
    };
    let _ = audit::import_bytes(rest, "fuzz.src", from, NscOptions::default(), None);
});
