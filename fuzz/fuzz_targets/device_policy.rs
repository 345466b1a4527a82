//! Device policy text (TOML or JSON).
#![no_main]
use libfuzzer_sys::fuzz_target;
use mamori::device::DevicePolicy;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = DevicePolicy::from_text(text, "fuzz");
    }
});
