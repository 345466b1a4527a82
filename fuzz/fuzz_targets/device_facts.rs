//! Device facts JSON: parse, normalise, and the canonical hash.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mamori::device::DeviceFacts;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(f) = DeviceFacts::from_json(text) {
            assert!(f.is_normalized());
        }
    }
});
