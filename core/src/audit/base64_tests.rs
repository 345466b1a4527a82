//! Facts about each platform's decoder, and a differential property test of
//! the Android decoder against a port of AOSP's state machine.

use proptest::prelude::*;

use super::{Base64Dialect as D, Leniency as L, decode};

/// A real pin (SHA-256 of an SPKI), canonical.
const PIN: &str = "r/mIkG3eEpVdm+u/ko/cwxzOMo1bk4TyHIlByibiA5E=";

fn bytes_of(d: D, s: &str) -> Option<Vec<u8>> {
    decode(d, s).ok().map(|p| p.bytes)
}

#[test]
fn canonical_pin_is_strict_everywhere() {
    for d in [D::Android, D::Okio, D::Apple, D::Strict] {
        let p = decode(d, PIN).unwrap();
        assert_eq!(p.len(), 32, "{d:?}");
        assert!(p.is_strict(), "{d:?}: {:?}", p.leniency);
        assert_eq!(p.never_matches(), None);
        assert_eq!(p.pin().unwrap().base64(), PIN);
    }
}

#[test]
fn unpadded_pin() {
    let unpadded = PIN.trim_end_matches('=');
    for d in [D::Android, D::Okio] {
        let p = decode(d, unpadded).unwrap();
        assert_eq!(p.pin().unwrap().base64(), PIN, "{d:?}");
        assert_eq!(p.leniency, vec![L::MissingPadding], "{d:?}");
        assert_eq!(p.never_matches(), None, "{d:?}");
    }
    assert!(decode(D::Apple, unpadded).is_err());
    assert!(decode(D::Strict, unpadded).is_err());
}

#[test]
fn android_skips_every_non_alphabet_byte() {
    // Line-wrapped: whitespace is skipped, value unchanged.
    let wrapped = format!("{}\n      {}", &PIN[..20], &PIN[20..]);
    let p = decode(D::Android, &wrapped).unwrap();
    assert_eq!(p.pin().unwrap().base64(), PIN);
    assert_eq!(p.leniency, vec![L::Whitespace]);
    assert_eq!(p.never_matches(), None);
    // Quotes copied from code are dropped: the value is the key's.
    let quoted = format!("\"{PIN}\"");
    let p = decode(D::Android, &quoted).unwrap();
    assert_eq!(p.pin().unwrap().base64(), PIN);
    assert_eq!(p.leniency, vec![L::SkippedCharacters("\"\"".into())]);
    assert_eq!(p.never_matches(), None);
    // URL-safe symbols are not in the DEFAULT alphabet: skipped, so a
    // URL-safe pin loses bytes.
    let url = "-_-_AAAA";
    let p = decode(D::Android, url).unwrap();
    assert_eq!(p.len(), 3);
    assert_eq!(p.leniency, vec![L::SkippedCharacters("-_-_".into())]);
    // Non-ASCII characters are skipped byte by byte (UTF-8).
    let p = decode(D::Android, "AAAA\u{e9}").unwrap();
    assert_eq!(p.bytes, vec![0, 0, 0]);
    assert_eq!(p.leniency, vec![L::SkippedCharacters("\u{e9}".into())]);
}

#[test]
fn android_padding_rules() {
    assert_eq!(bytes_of(D::Android, "AA=="), Some(vec![0]));
    assert_eq!(bytes_of(D::Android, "AA"), Some(vec![0]));
    assert_eq!(bytes_of(D::Android, "AAA="), Some(vec![0, 0]));
    assert_eq!(bytes_of(D::Android, "AA= ="), Some(vec![0]));
    assert_eq!(bytes_of(D::Android, "AA=="), Some(vec![0]));
    assert_eq!(bytes_of(D::Android, "AA="), None, "one = where two are due");
    assert_eq!(bytes_of(D::Android, "A"), None);
    assert_eq!(bytes_of(D::Android, "AAAA="), None);
    assert_eq!(bytes_of(D::Android, "AAA=="), None);
    assert_eq!(bytes_of(D::Android, "AA==AA"), None);
    assert_eq!(bytes_of(D::Android, "AA==."), Some(vec![0]));
    assert_eq!(bytes_of(D::Android, ""), Some(vec![]));
    // Trailing bits are not checked.
    let p = decode(D::Android, "AB==").unwrap();
    assert_eq!(p.bytes, vec![0]);
    assert_eq!(p.leniency, vec![L::NonCanonicalTrailingBits]);
}

#[test]
fn okio_rules() {
    // Both alphabets, mixed.
    let url = PIN.replace('+', "-").replace('/', "_");
    let p = decode(D::Okio, &url).unwrap();
    assert_eq!(p.pin().unwrap().base64(), PIN);
    assert_eq!(p.leniency, vec![L::UrlSafeAlphabet]);
    // Any amount of trailing padding and whitespace.
    let p = decode(D::Okio, &format!("{PIN}== \n=")).unwrap();
    assert_eq!(p.pin().unwrap().base64(), PIN);
    assert_eq!(p.leniency, vec![L::ExtraPadding, L::Whitespace]);
    // Inner whitespace skipped; other characters refused.
    assert_eq!(bytes_of(D::Okio, "AA AA"), Some(vec![0, 0, 0]));
    assert_eq!(bytes_of(D::Okio, "AA.AA"), None);
    assert_eq!(bytes_of(D::Okio, "AA=AA"), None);
    assert_eq!(bytes_of(D::Okio, "AAAAA"), None);
    // No length check: a short hash decodes.
    let p = decode(D::Okio, "AAAA").unwrap();
    assert_eq!(p.len(), 3);
    assert!(p.never_matches().unwrap().contains("3 bytes"));
    assert_eq!(bytes_of(D::Okio, ""), Some(vec![]));
    assert_eq!(bytes_of(D::Okio, "===="), Some(vec![]));
}

#[test]
fn apple_rules() {
    assert_eq!(bytes_of(D::Apple, "AA=="), Some(vec![0]));
    assert_eq!(bytes_of(D::Apple, "AA"), None, "padding required");
    assert_eq!(bytes_of(D::Apple, "AA="), None);
    assert_eq!(bytes_of(D::Apple, "AA AA"), None, "whitespace refused");
    assert_eq!(bytes_of(D::Apple, &format!("{PIN}\n")), None);
    assert_eq!(bytes_of(D::Apple, "-_AA"), None, "URL-safe refused");
    assert_eq!(bytes_of(D::Apple, ""), Some(vec![]));
    // Extra padding past the quantum is ignored.
    let p = decode(D::Apple, &format!("{PIN}==")).unwrap();
    assert_eq!(p.pin().unwrap().base64(), PIN);
    assert_eq!(p.leniency, vec![L::ExtraPadding]);
    // Trailing bits are not checked.
    assert_eq!(bytes_of(D::Apple, "AB=="), Some(vec![0]));
    // swift-foundation's quirk: only padding decodes to one zero byte.
    assert_eq!(bytes_of(D::Apple, "===="), Some(vec![0]));
    assert_eq!(bytes_of(D::Apple, "=="), None);
}

#[test]
fn strict_rules() {
    assert_eq!(bytes_of(D::Strict, "AA=="), Some(vec![0]));
    for bad in ["AA", "AB==", "AA===", " AA==", "AA==\n", "-_AA"] {
        assert_eq!(bytes_of(D::Strict, bad), None, "{bad:?}");
    }
}

/// AOSP `android.util.Base64.Decoder.process(input, 0, len, true)` with the
/// `DECODE` table, ported literally (states 0-6) as the oracle.
fn aosp_decode(input: &[u8]) -> Option<Vec<u8>> {
    const SKIP: i32 = -1;
    const EQUALS: i32 = -2;
    let table = |b: u8| -> i32 {
        match b {
            b'A'..=b'Z' => i32::from(b - b'A'),
            b'a'..=b'z' => i32::from(b - b'a') + 26,
            b'0'..=b'9' => i32::from(b - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => EQUALS,
            _ => SKIP,
        }
    };
    let mut state = 0;
    let mut value: i32 = 0;
    let mut out = Vec::new();
    for &b in input {
        let d = table(b);
        match state {
            0 => {
                if d >= 0 {
                    value = d;
                    state += 1;
                } else if d != SKIP {
                    return None;
                }
            }
            1 | 2 => {
                if d >= 0 {
                    value = (value << 6) | d;
                    state += 1;
                } else if d == EQUALS && state == 2 {
                    out.push((value >> 4) as u8);
                    state = 4;
                } else if d != SKIP {
                    return None;
                }
            }
            3 => {
                if d >= 0 {
                    value = (value << 6) | d;
                    out.extend([(value >> 16) as u8, (value >> 8) as u8, value as u8]);
                    state = 0;
                } else if d == EQUALS {
                    out.extend([(value >> 10) as u8, (value >> 2) as u8]);
                    state = 5;
                } else if d != SKIP {
                    return None;
                }
            }
            4 => {
                if d == EQUALS {
                    state += 1;
                } else if d != SKIP {
                    return None;
                }
            }
            _ => {
                if d != SKIP {
                    return None;
                }
            }
        }
    }
    match state {
        1 | 4 => None,
        2 => {
            out.push((value >> 4) as u8);
            Some(out)
        }
        3 => {
            out.extend([(value >> 10) as u8, (value >> 2) as u8]);
            Some(out)
        }
        _ => Some(out),
    }
}

/// okio's `decodeBase64ToArray`, ported literally, as the oracle.
fn okio_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut limit = b.len();
    while limit > 0 && matches!(b[limit - 1], b'=' | b'\n' | b'\r' | b' ' | b'\t') {
        limit -= 1;
    }
    let mut out = Vec::new();
    let (mut word, mut count) = (0u32, 0usize);
    for &c in &b[..limit] {
        let bits = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'\n' | b'\r' | b' ' | b'\t' => continue,
            _ => return None,
        };
        word = (word << 6) | u32::from(bits);
        count += 1;
        if count % 4 == 0 {
            out.extend([(word >> 16) as u8, (word >> 8) as u8, word as u8]);
        }
    }
    match count % 4 {
        1 => return None,
        2 => out.push(((word << 12) >> 16) as u8),
        3 => out.extend([((word << 6) >> 16) as u8, ((word << 6) >> 8) as u8]),
        _ => {}
    }
    Some(out)
}

fn pin_like() -> impl Strategy<Value = String> {
    // Mostly base64 symbols and padding, with the characters real files get
    // wrong: whitespace, URL-safe symbols, dots, quotes, non-ASCII.
    proptest::collection::vec(
        prop_oneof![
            8 => proptest::char::ranges(vec!['A'..='Z', 'a'..='z', '0'..='9'].into()),
            1 => Just('+'),
            1 => Just('/'),
            2 => Just('='),
            1 => prop_oneof![Just(' '), Just('\n'), Just('\t'), Just('\r')],
            1 => prop_oneof![Just('-'), Just('_'), Just('.'), Just('"'), Just('\u{e9}')],
        ],
        0..50,
    )
    .prop_map(|v| v.into_iter().collect())
}

proptest! {
    #[test]
    fn android_matches_aosp_state_machine(s in pin_like()) {
        prop_assert_eq!(bytes_of(D::Android, &s), aosp_decode(s.as_bytes()), "{:?}", s);
    }

    #[test]
    fn okio_matches_okio_port(s in pin_like()) {
        prop_assert_eq!(bytes_of(D::Okio, &s), okio_decode(&s), "{:?}", s);
    }

    #[test]
    fn lenient_decoders_accept_all_strict_text(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
        use base64::Engine as _;
        let s = base64::engine::general_purpose::STANDARD.encode(&bytes);
        for d in [D::Android, D::Okio, D::Apple, D::Strict] {
            let p = decode(d, &s).unwrap();
            prop_assert_eq!(&p.bytes, &bytes);
            prop_assert!(p.is_strict(), "{:?} {:?}", d, p.leniency);
        }
    }
}
