//! The streaming-encryption header, read from a byte stream.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mamori::storage::StreamHeader;

fuzz_target!(|data: &[u8]| {
    let mut r = data;
    let _ = StreamHeader::read(&mut r);
});
