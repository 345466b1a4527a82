//! Streaming encryption: round trips at segment boundaries, and truncation,
//! reordering, extension and tampering all rejected.

mod storage_common;

use std::io::Cursor;

use mamori::storage::{CachePolicy, EnvelopeCipher, StorageError};
use mamori::storage::{StreamHeader, decrypt_file, decrypt_stream, encrypt_file, encrypt_stream};
use storage_common::fixed_kek;

const LOG2: u8 = 12; // 4 KiB segments: many segments from small inputs
const SEG: usize = 1 << LOG2;
const CT_SEG: usize = SEG + 16;

fn cipher() -> EnvelopeCipher {
    EnvelopeCipher::new(fixed_kek(0x77), CachePolicy::default()).unwrap()
}

fn data(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 253) as u8 ^ (i >> 8) as u8).collect()
}

fn enc(c: &EnvelopeCipher, pt: &[u8]) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    encrypt_stream(c, b"file:a", LOG2, Cursor::new(pt), &mut out).unwrap();
    let header_len = {
        let mut r = Cursor::new(&out);
        StreamHeader::read(&mut r).unwrap();
        r.position() as usize
    };
    (out, header_len)
}

fn dec(c: &EnvelopeCipher, ct: &[u8]) -> Result<Vec<u8>, StorageError> {
    let mut out = Vec::new();
    decrypt_stream(c, b"file:a", Cursor::new(ct), &mut out)?;
    Ok(out)
}

#[test]
fn round_trips_around_segment_boundaries() {
    let c = cipher();
    for n in [
        0,
        1,
        SEG - 1,
        SEG,
        SEG + 1,
        3 * SEG,
        3 * SEG + 5,
        (1 << 20) + 7,
    ] {
        let pt = data(n);
        let (ct, h) = enc(&c, &pt);
        let segments = if n == 0 { 1 } else { n.div_ceil(SEG) };
        assert_eq!(ct.len(), h + n + 16 * segments, "size {n}");
        assert_eq!(dec(&c, &ct).unwrap(), pt, "size {n}");
    }
}

#[test]
fn truncation_is_rejected() {
    let c = cipher();
    let (ct, h) = enc(&c, &data(3 * SEG + 100));
    // Drop the last segment exactly at a segment boundary.
    assert!(dec(&c, &ct[..h + 3 * CT_SEG]).is_err());
    // Cut inside a segment, inside a tag, and inside the header.
    for cut in [
        ct.len() - 1,
        ct.len() - 20,
        h + CT_SEG + 5,
        h + 3,
        h - 1,
        10,
    ] {
        assert!(dec(&c, &ct[..cut]).is_err(), "cut at {cut}");
    }
    // A stream cut down to its header alone.
    assert!(dec(&c, &ct[..h]).is_err());
}

#[test]
fn reordering_is_rejected() {
    let c = cipher();
    let (ct, h) = enc(&c, &data(4 * SEG));
    let seg = |i: usize| &ct[h + i * CT_SEG..h + (i + 1) * CT_SEG];
    let swapped = [&ct[..h], seg(1), seg(0), seg(2), &ct[h + 3 * CT_SEG..]].concat();
    assert!(matches!(
        dec(&c, &swapped),
        Err(StorageError::AuthenticationFailed)
    ));
    // Moving the (full) last segment before another one.
    let moved = [&ct[..h], seg(0), seg(1), &ct[h + 3 * CT_SEG..], seg(2)].concat();
    assert!(dec(&c, &moved).is_err());
}

#[test]
fn extension_is_rejected() {
    let c = cipher();
    let (ct, h) = enc(&c, &data(2 * SEG + 10));
    let last = ct[h + 2 * CT_SEG..].to_vec();
    // Appending a copy of a middle segment, of the last segment, or junk.
    for tail in [
        ct[h..h + CT_SEG].to_vec(),
        last.clone(),
        vec![0u8; 40],
        vec![1],
    ] {
        let extended = [&ct[..], &tail[..]].concat();
        assert!(dec(&c, &extended).is_err());
    }
    // Splicing two streams of the same key.
    let (other, h2) = enc(&c, &data(SEG + 1));
    let spliced = [&ct[..h + CT_SEG], &other[h2 + CT_SEG..]].concat();
    assert!(dec(&c, &spliced).is_err());
}

#[test]
fn every_bit_flip_of_a_small_stream_is_rejected() {
    let c = cipher();
    let (ct, _) = enc(&c, b"tiny file contents");
    for bit in 0..ct.len() * 8 {
        let mut bad = ct.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        assert!(dec(&c, &bad).is_err(), "bit {bit}");
    }
}

#[test]
fn context_and_key_are_bound() {
    let c = cipher();
    let (ct, _) = enc(&c, &data(100));
    let mut out = Vec::new();
    assert!(matches!(
        decrypt_stream(&c, b"file:b", Cursor::new(&ct), &mut out),
        Err(StorageError::AuthenticationFailed)
    ));
    let other = EnvelopeCipher::new(fixed_kek(0x78), CachePolicy::default()).unwrap();
    assert!(matches!(
        dec(&other, &ct),
        Err(StorageError::WrongKek { .. })
    ));
}

#[test]
fn segment_size_is_validated() {
    let c = cipher();
    for bad in [0u8, 11, 25, 64] {
        let r = encrypt_stream(&c, b"", bad, Cursor::new(b"x"), Vec::new());
        assert!(matches!(
            r,
            Err(StorageError::InvalidInput {
                what: "segment size",
                ..
            })
        ));
    }
}

#[test]
fn file_helpers_are_atomic_and_leave_nothing_on_failure() {
    let dir = tempfile::tempdir().unwrap();
    let c = cipher();
    let src = dir.path().join("plain.bin");
    let pt = data(300_000);
    std::fs::write(&src, &pt).unwrap();
    let enc_path = dir.path().join("plain.bin.mmrs");
    assert_eq!(
        encrypt_file(&c, b"f", &src, &enc_path).unwrap(),
        pt.len() as u64
    );
    let out = dir.path().join("out.bin");
    assert_eq!(
        decrypt_file(&c, b"f", &enc_path, &out).unwrap(),
        pt.len() as u64
    );
    assert_eq!(std::fs::read(&out).unwrap(), pt);

    // Corrupt the last byte: no output file appears, no temporary file is left.
    let mut bytes = std::fs::read(&enc_path).unwrap();
    *bytes.last_mut().unwrap() ^= 0x80;
    std::fs::write(&enc_path, &bytes).unwrap();
    let out2 = dir.path().join("out2.bin");
    assert!(decrypt_file(&c, b"f", &enc_path, &out2).is_err());
    assert!(!out2.exists());
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");

    // A missing input names its path.
    match encrypt_file(&c, b"f", &dir.path().join("missing"), &out) {
        Err(StorageError::Io { path, .. }) => assert!(path.ends_with("missing")),
        other => panic!("{other:?}"),
    }
}
