//! Pin policy text (TOML or JSON, told by the content), then each format forced.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mamori::pinning::PinPolicy;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = PinPolicy::from_text(text, "fuzz", None);
        let _ = PinPolicy::from_toml(text);
        let _ = PinPolicy::from_json(text);
    }
});
