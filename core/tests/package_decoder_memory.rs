//! A package decoder's heap is bounded by its input's copy budget while it
//! decodes, not only checked afterwards: binary XML whose attributes all
//! name one long pool string once copied every string of an element before
//! the element's cost was compared with the budget (65,535 attributes and a
//! 1 MB string: tens of gigabytes, an abort when the allocation fails).
//! Measured with a counting global allocator, in its own test binary so no
//! other test allocates meanwhile.

use peak_alloc::PeakAlloc;

#[global_allocator]
static HEAP: PeakAlloc = PeakAlloc;

/// The regression seed: a UTF-16 pool holding one string of 2,000
/// characters, and one element with 1,000 attributes whose namespace, name
/// and string value are all that string (AOSP `ResourceTypes.h` layout).
fn seed() -> Vec<u8> {
    let path = format!(
        "{}/../fuzz/corpus/package_axml/seed-regress-attribute-copies",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Peak heap growth while decoding (and rendering) `b`.
fn peak(b: &[u8]) -> usize {
    let before = HEAP.current_usage();
    HEAP.reset_peak_usage();
    mamori::audit::package::fuzzing::axml(b);
    HEAP.peak_usage().saturating_sub(before)
}

#[test]
fn attributes_sharing_one_long_string_stay_within_the_copy_budget() {
    let input = seed();
    assert_eq!(input.len(), 24_104);
    // 1,000 attributes x 3 copies of the 2,000-byte string: 6 MB once
    // copied before the check; the budget is 8 x 24 KB + 1 MiB.
    let refused = peak(&input);
    assert!(
        refused < 3 << 20,
        "decoding {} bytes of binary XML peaked at {refused} bytes of heap",
        input.len()
    );
    // The element's attribute count (after the XML header, the pool
    // chunk and the element's 16-byte header, 12 bytes into its
    // extension) set to 100: 600 KB of copies, within the budget, are
    // made, so the seed is refused for its size, not for its layout.
    let pool = u32::from_le_bytes(input[12..16].try_into().unwrap()) as usize;
    let count = 8 + pool + 16 + 12;
    assert_eq!(input[count..count + 2], 1000u16.to_le_bytes());
    let mut within = input.clone();
    within[count..count + 2].copy_from_slice(&100u16.to_le_bytes());
    let decoded = peak(&within);
    assert!(
        decoded > 600_000,
        "{decoded} bytes: the attributes were not decoded"
    );
}
