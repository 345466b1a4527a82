//! The envelope header, parsed without a key.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mamori::storage::EnvelopeHeader;

fuzz_target!(|data: &[u8]| {
    if let Ok(h) = EnvelopeHeader::parse(data) {
        assert!(h.body_offset <= data.len());
    }
});
