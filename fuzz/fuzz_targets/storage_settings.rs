//! Storage settings text (TOML or JSON), as `mamori report --storage` reads
//! it: the schema, the SDK's floors, and the redaction of quoted values.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mamori::storage::StorageSettings;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = StorageSettings::from_text(text, "fuzz");
    }
});
