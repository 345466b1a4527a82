//! TrustKit and ATS property lists: XML, binary (and JSON dictionaries).
#![no_main]
use libfuzzer_sys::fuzz_target;
use mamori::audit::{self, NscOptions, SourceFormat};

fuzz_target!(|data: &[u8]| {
    for from in [SourceFormat::TrustKit, SourceFormat::Ats] {
        let _ = audit::import_bytes(data, "fuzz.plist", Some(from), NscOptions::default(), None);
    }
});
