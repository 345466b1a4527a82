//! The package decoders (issue 13) on hostile bytes: every truncation and
//! many byte flips of real aapt/aapt2/apksigner output (the fuzz seeds in
//! `fuzz/corpus/package_*`) end in an error or a result, never a panic, and
//! the DEX pin heuristic finds a `const-string` pin next to its host.

use mamori::audit::package::fuzzing;

/// The committed seeds of `target` (`corpus/<target>/seed-*`): not the
/// inputs libFuzzer adds to the same directory on every smoke run or
/// campaign (after a 60 s campaign: 388 more for `package_axml`, and a
/// failing `the_dex_seed_is_the_hand_built_dex`).
fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = format!("{}/../fuzz/corpus/{target}", env!("CARGO_MANIFEST_DIR"));
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("seed-"))
        })
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    assert!(!out.is_empty(), "{dir} has no seed");
    out.sort();
    out
}

/// Truncations at every 7th byte, and each 13th byte set to 0x00, 0xff and
/// its bit inverse (lengths and offsets become huge, zero or negative).
fn mutate(seed: &[u8], f: fn(&[u8])) {
    f(seed);
    for n in (0..seed.len()).step_by(7) {
        f(&seed[..n]);
    }
    for i in (0..seed.len()).step_by(13) {
        for v in [0x00, 0xff, !seed[i]] {
            let mut m = seed.to_vec();
            m[i] = v;
            f(&m);
        }
    }
}

type Decoder = fn(&[u8]);

#[test]
fn decoders_survive_truncation_and_byte_flips() {
    let targets: [(&str, Decoder); 6] = [
        ("package_axml", fuzzing::axml),
        ("package_arsc", fuzzing::arsc),
        ("package_proto_xml", fuzzing::proto_xml),
        ("package_proto_table", fuzzing::proto_table),
        ("package_signing_block", fuzzing::signing_block),
        ("package_pkcs7", fuzzing::pkcs7),
    ];
    for (target, f) in targets {
        for s in seeds(target) {
            mutate(&s, f);
        }
    }
    for s in seeds("package_dex") {
        mutate(&s, |b| drop(fuzzing::dex(b)));
    }
}

#[test]
fn the_dex_seed_is_the_hand_built_dex() {
    // Keeps the committed seed and the generator below in step.
    assert_eq!(seeds("package_dex"), vec![tiny_dex()]);
}

#[test]
fn a_const_string_pin_is_found_with_its_host() {
    let found = fuzzing::dex(&tiny_dex());
    assert_eq!(
        found,
        vec![(
            "sha256/7HIpactkIAq2Y49orFOOQKurWxmmSFZhBCoQYcRhJ3Y=".to_owned(),
            vec!["api.example.com".to_owned()]
        )]
    );
    // The class descriptor is no host; without the const-string the pin is
    // still listed (from the string table), with no host.
    let mut no_code = tiny_dex();
    no_code.truncate(no_code.len() - 8);
    assert_eq!(
        fuzzing::dex(&no_code),
        vec![(
            "sha256/7HIpactkIAq2Y49orFOOQKurWxmmSFZhBCoQYcRhJ3Y=".to_owned(),
            vec![]
        )]
    );
}

/// A minimal dex: header, string ids, string data, and code loading a host
/// then a pin with `const-string` (opcode 0x1a).
fn tiny_dex() -> Vec<u8> {
    let strings = [
        "api.example.com",
        "sha256/7HIpactkIAq2Y49orFOOQKurWxmmSFZhBCoQYcRhJ3Y=",
        "Lokhttp3/CertificatePinner$Builder;",
    ];
    let mut b = vec![0u8; 0x70];
    b[..8].copy_from_slice(b"dex\n035\0");
    b[0x38..0x3c].copy_from_slice(&(strings.len() as u32).to_le_bytes());
    b[0x3c..0x40].copy_from_slice(&0x70u32.to_le_bytes());
    let ids_end = 0x70 + 4 * strings.len();
    b.resize(ids_end, 0);
    for (i, s) in strings.iter().enumerate() {
        let at = b.len() as u32;
        b[0x70 + 4 * i..0x74 + 4 * i].copy_from_slice(&at.to_le_bytes());
        b.push(s.len() as u8); // uleb128 UTF-16 length (< 128)
        b.extend_from_slice(s.as_bytes());
        b.push(0);
    }
    while b.len() % 2 != 0 {
        b.push(0);
    }
    // const-string v0, "api.example.com"; const-string v1, "sha256/…"
    b.extend_from_slice(&[0x1a, 0x00, 0x00, 0x00, 0x1a, 0x01, 0x01, 0x00]);
    b
}
