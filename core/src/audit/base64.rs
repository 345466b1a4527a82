//! Base64 as each platform decodes a pin (issue 12, item 1).
//!
//! The same pin text means different things on different platforms: Android
//! loads an unpadded 43-character NSC pin, okio (OkHttp) also takes the
//! URL-safe alphabet and has no length check, Apple's `Data(base64Encoded:)`
//! requires padding and refuses whitespace. Mamori reads each importer's pins
//! with the decoder of the platform that reads them in the app, and reports
//! how far the text relied on that decoder's leniency ([`Leniency`]), so that
//! a pin the platform accepts but that can never match becomes an audit
//! finding instead of a refusal.
//!
//! | dialect | source of the rules | alphabet | padding | other characters |
//! |---|---|---|---|---|
//! | [`Base64Dialect::Android`] | AOSP `android.util.Base64.Decoder` with `DEFAULT` flags | standard | optional; `=` alone after two symbols, or after one, is refused | every byte outside the alphabet (whitespace, `-`, `_`, `.`, non-ASCII UTF-8) is skipped silently |
//! | [`Base64Dialect::Okio`] | okio `String.decodeBase64()` (`-Base64.kt`) | standard and URL-safe, mixed | any number of trailing `=` (mixed with whitespace) is dropped; `=` elsewhere is refused | `\n`, `\r`, space, tab skipped; anything else refused |
//! | [`Base64Dialect::Apple`] | Foundation `Data(base64Encoded:)` without options (swift-foundation `Base64._decode`) | standard | required up to the next multiple of 4; extra `=` after it is ignored | refused, whitespace included |
//! | [`Base64Dialect::Strict`] | RFC 4648 §4, Mamori's own policy format | standard | canonical | refused; trailing bits must be zero |
//!
//! None of the three platform decoders checks that the unused trailing bits
//! of the last symbol are zero.
//!
//! The alphabet, padding and trailing-bit rules are the `base64` crate's
//! configurable engine ([`GeneralPurpose`]). What the crate cannot express
//! is written here by hand, before the text reaches the engine: Android's
//! silent skipping of every non-alphabet byte, okio's whitespace skipping,
//! trailing-padding stripping and mixed alphabets, and Apple's tolerance of
//! extra trailing `=` (plus its quirk that a text of four or more `=` only
//! decodes to one zero byte). A property test checks the Android decoder
//! against a port of the AOSP state machine.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use crate::pinning::Pin;

/// Whose base64 rules decode a pin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Base64Dialect {
    /// `android.util.Base64.decode(s, Base64.DEFAULT)`: NSC pins (AOSP
    /// `XmlConfigSource`) and TrustKit-Android's NSC extensions.
    Android,
    /// okio `String.decodeBase64()`: OkHttp `CertificatePinner` pins.
    Okio,
    /// Foundation `Data(base64Encoded:)` with no options: TrustKit
    /// (`initWithBase64EncodedString:options:0`) and ATS `NSPinnedDomains`.
    Apple,
    /// RFC 4648 with canonical padding and zero trailing bits: Mamori policies.
    Strict,
}

impl Base64Dialect {
    /// The decoder's name, for findings (`android.util.Base64`, ...).
    pub fn decoder_name(self) -> &'static str {
        match self {
            Self::Android => "android.util.Base64 (DEFAULT)",
            Self::Okio => "okio decodeBase64()",
            Self::Apple => "Data(base64Encoded:)",
            Self::Strict => "RFC 4648 (strict)",
        }
    }
}

/// A liberty the platform's decoder took that a strict RFC 4648 decoder
/// would refuse.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Leniency {
    /// The `=` padding was missing (Android, okio). The value is unchanged.
    MissingPadding,
    /// More `=` than needed followed the data (okio, Apple). The value is
    /// unchanged.
    ExtraPadding,
    /// Whitespace inside or around the text was skipped (Android, okio). The
    /// value is unchanged.
    Whitespace,
    /// URL-safe symbols (`-`, `_`) were read as `+`, `/` (okio). The value
    /// is the one the URL-safe text encodes.
    UrlSafeAlphabet,
    /// The last symbol's unused bits were not zero: no encoder writes this
    /// text, it was edited by hand. The value is what the platform reads.
    NonCanonicalTrailingBits,
    /// Characters outside the alphabet were dropped without an error
    /// (Android skips every such byte: quotes or a stray `.` around a pin
    /// copied from code). The value is what the remaining symbols encode;
    /// had the characters replaced symbols, the length would no longer be
    /// 32 bytes and Android would refuse the pin.
    SkippedCharacters(String),
}

impl core::fmt::Display for Leniency {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::MissingPadding => f.write_str("the `=` padding is missing"),
            Self::ExtraPadding => f.write_str("extra `=` padding follows the data"),
            Self::Whitespace => f.write_str("whitespace inside the value was skipped"),
            Self::UrlSafeAlphabet => f.write_str("URL-safe symbols (`-`, `_`) were used"),
            Self::NonCanonicalTrailingBits => {
                f.write_str("the last symbol's unused bits are not zero")
            }
            Self::SkippedCharacters(c) => {
                write!(f, "the characters {c:?} are not base64 and were dropped")
            }
        }
    }
}

/// What a platform's decoder made of a pin text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedPin {
    /// The decoded bytes (the platform's value, whatever its length).
    pub bytes: Vec<u8>,
    /// The liberties taken, in a fixed order; empty when a strict decoder
    /// gives the same bytes.
    pub leniency: Vec<Leniency>,
}

impl DecodedPin {
    /// The decoded length in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether nothing was decoded.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The SHA-256 pin, when the value is 32 bytes.
    pub fn pin(&self) -> Option<Pin> {
        let arr: [u8; 32] = self.bytes.as_slice().try_into().ok()?;
        Some(Pin::from_digest(arr))
    }

    /// Whether the text is exactly RFC 4648 (no leniency was needed).
    pub fn is_strict(&self) -> bool {
        self.leniency.is_empty()
    }

    /// Why the pin can never match a SHA-256 SPKI hash: it is not 32 bytes.
    /// `None` when it can. Leniency alone does not make a pin unmatchable:
    /// the platform matches the key whose hash it decoded (see
    /// [`Leniency`]), so such pins are findings of their own, and convert
    /// writes them canonically.
    pub fn never_matches(&self) -> Option<String> {
        (self.len() != 32)
            .then(|| format!("it decodes to {} bytes; a SHA-256 hash has 32", self.len()))
    }
}

/// Why a platform's decoder refused a pin text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Base64Error {
    /// A character the decoder does not accept.
    #[error("{decoder}: invalid character {ch:?} at offset {offset}")]
    InvalidCharacter {
        /// The decoder's name.
        decoder: &'static str,
        /// The character.
        ch: char,
        /// Its byte offset in the text.
        offset: usize,
    },
    /// The data ends with a single symbol (6 bits: no whole byte), or the
    /// padding is misplaced or incomplete.
    #[error("{decoder}: {reason}")]
    Malformed {
        /// The decoder's name.
        decoder: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
}

/// Decodes `text` with `dialect`'s rules, exactly as the platform would be
/// given it (callers apply the platform's own trimming first, e.g. AOSP
/// trims NSC pin text, TrustKit does not trim plist strings).
pub fn decode(dialect: Base64Dialect, text: &str) -> Result<DecodedPin, Base64Error> {
    match dialect {
        Base64Dialect::Android => android(text),
        Base64Dialect::Okio => okio(text),
        Base64Dialect::Apple => apple(text),
        Base64Dialect::Strict => strict(text),
    }
}

/// Standard alphabet, padding optional, trailing bits allowed: the platform
/// decoders' shared core once their own pre-processing has run.
const LENIENT_CORE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Standard alphabet, canonical padding, trailing bits allowed (Apple).
const PADDED_CORE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

fn is_symbol(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

/// Whether `data` (symbols only, no padding) ends in a symbol whose unused
/// bits are set.
fn trailing_bits_set(data: &[u8]) -> bool {
    let unused = match data.len() % 4 {
        2 => 4,
        3 => 2,
        _ => return false,
    };
    let last = data[data.len() - 1];
    let value = match last {
        b'A'..=b'Z' => last - b'A',
        b'a'..=b'z' => last - b'a' + 26,
        b'0'..=b'9' => last - b'0' + 52,
        b'+' | b'-' => 62,
        _ => 63,
    };
    value & ((1 << unused) - 1) != 0
}

fn malformed(decoder: Base64Dialect, reason: &'static str) -> Base64Error {
    Base64Error::Malformed {
        decoder: decoder.decoder_name(),
        reason,
    }
}

fn invalid(dialect: Base64Dialect, text: &str, offset: usize) -> Base64Error {
    Base64Error::InvalidCharacter {
        decoder: dialect.decoder_name(),
        ch: text[offset..].chars().next().unwrap_or('\u{fffd}'),
        offset,
    }
}

/// Maps the crate's error on pre-processed input to the dialect's error.
fn engine_error(dialect: Base64Dialect, e: base64::DecodeError) -> Base64Error {
    use base64::DecodeError as E;
    match e {
        E::InvalidLength(_) => malformed(dialect, "a single trailing symbol encodes no whole byte"),
        E::InvalidPadding => malformed(dialect, "the padding is incomplete or misplaced"),
        E::InvalidByte(_, b'=') => malformed(dialect, "the padding is incomplete or misplaced"),
        E::InvalidByte(..) | E::InvalidLastSymbol(..) => {
            malformed(dialect, "symbols follow the padding")
        }
    }
}

/// AOSP `Base64.Decoder.process` with `DEFAULT`: its `DECODE` table maps
/// every byte outside the alphabet and `=` to `SKIP`, so they vanish; the
/// remaining symbols and `=` follow RFC 4648 with optional padding, except
/// that a lone `=` after two symbols is refused (state 4 at the end) and
/// nothing but skipped bytes may follow the padding. `String.getBytes()` is
/// UTF-8, so non-ASCII characters are skipped byte by byte.
fn android(text: &str) -> Result<DecodedPin, Base64Error> {
    let d = Base64Dialect::Android;
    let mut kept = Vec::with_capacity(text.len());
    let mut skipped = String::new();
    let mut whitespace = false;
    for c in text.chars() {
        let b = c as u32;
        if b < 0x80 && (is_symbol(b as u8) || b == u32::from(b'=')) {
            kept.push(b as u8);
        } else if matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{b}' | '\u{c}') {
            whitespace = true;
        } else {
            skipped.push(c);
        }
    }
    let data_len = kept.iter().take_while(|b| **b != b'=').count();
    let pad = kept.len() - data_len;
    // Android's end states: a quantum of one symbol is refused (state 1);
    // two symbols take "==" or nothing, three take "=" or nothing.
    match (data_len % 4, pad) {
        (1, _) => {
            return Err(malformed(
                d,
                "a single trailing symbol encodes no whole byte",
            ));
        }
        (0, p) if p > 0 => return Err(malformed(d, "the padding is incomplete or misplaced")),
        (2, 1) => return Err(malformed(d, "the padding is incomplete or misplaced")),
        _ => {}
    }
    let bytes = LENIENT_CORE.decode(&kept).map_err(|e| engine_error(d, e))?;
    let mut leniency = Vec::new();
    if pad == 0 && data_len % 4 != 0 {
        leniency.push(Leniency::MissingPadding);
    }
    if whitespace {
        leniency.push(Leniency::Whitespace);
    }
    if trailing_bits_set(&kept[..data_len]) {
        leniency.push(Leniency::NonCanonicalTrailingBits);
    }
    if !skipped.is_empty() {
        leniency.push(Leniency::SkippedCharacters(skipped));
    }
    Ok(DecodedPin { bytes, leniency })
}

/// okio `String.decodeBase64ToArray`: trailing `=` and whitespace
/// (`\n \r space tab`) are dropped from the end in any mix; the rest may
/// hold symbols of either alphabet and those four whitespace characters;
/// a final quantum of one symbol returns null; no length check.
fn okio(text: &str) -> Result<DecodedPin, Base64Error> {
    let d = Base64Dialect::Okio;
    let ws = |b: u8| matches!(b, b'\n' | b'\r' | b' ' | b'\t');
    let bytes = text.as_bytes();
    let mut limit = bytes.len();
    while limit > 0 && (bytes[limit - 1] == b'=' || ws(bytes[limit - 1])) {
        limit -= 1;
    }
    let pads = bytes[limit..].iter().filter(|b| **b == b'=').count();
    let mut whitespace = bytes[limit..].iter().any(|b| ws(*b));
    let mut url_safe = false;
    let mut data = Vec::with_capacity(limit);
    for (i, &b) in bytes[..limit].iter().enumerate() {
        match b {
            b'-' => {
                url_safe = true;
                data.push(b'+');
            }
            b'_' => {
                url_safe = true;
                data.push(b'/');
            }
            b if is_symbol(b) => data.push(b),
            b if ws(b) => whitespace = true,
            _ => return Err(invalid(d, text, i)),
        }
    }
    if data.len() % 4 == 1 {
        return Err(malformed(
            d,
            "a single trailing symbol encodes no whole byte",
        ));
    }
    let out = LENIENT_CORE.decode(&data).map_err(|e| engine_error(d, e))?;
    let canonical_pads = (4 - data.len() % 4) % 4;
    let mut leniency = Vec::new();
    if pads < canonical_pads {
        leniency.push(Leniency::MissingPadding);
    } else if pads > canonical_pads {
        leniency.push(Leniency::ExtraPadding);
    }
    if whitespace {
        leniency.push(Leniency::Whitespace);
    }
    if url_safe {
        leniency.push(Leniency::UrlSafeAlphabet);
    }
    if trailing_bits_set(&data) {
        leniency.push(Leniency::NonCanonicalTrailingBits);
    }
    Ok(DecodedPin {
        bytes: out,
        leniency,
    })
}

/// swift-foundation `Base64._decode` (no options): the data runs to the last
/// non-`=` byte; rounded up to a multiple of 4 it must fit in the text (so
/// padding is required); bytes past that are ignored; every byte of the
/// data must be a standard symbol; trailing bits are not checked. A text of
/// four or more `=` and nothing else decodes to one zero byte.
fn apple(text: &str) -> Result<DecodedPin, Base64Error> {
    let d = Base64Dialect::Apple;
    let bytes = text.as_bytes();
    if bytes.is_empty() {
        return Ok(DecodedPin {
            bytes: Vec::new(),
            leniency: Vec::new(),
        });
    }
    let Some(last) = bytes.iter().rposition(|b| *b != b'=') else {
        if bytes.len() >= 4 {
            return Ok(DecodedPin {
                bytes: vec![0],
                leniency: vec![Leniency::ExtraPadding],
            });
        }
        return Err(malformed(d, "the padding is incomplete or misplaced"));
    };
    let data_len = last + 1;
    let padded_len = data_len.div_ceil(4) * 4;
    if padded_len > bytes.len() {
        if let Some(i) = bytes[..data_len].iter().position(|b| !is_symbol(*b)) {
            return Err(invalid(d, text, i));
        }
        return Err(malformed(d, "the `=` padding is required"));
    }
    if let Some(i) = bytes[..data_len].iter().position(|b| !is_symbol(*b)) {
        return Err(invalid(d, text, i));
    }
    let out = PADDED_CORE
        .decode(&bytes[..padded_len])
        .map_err(|e| engine_error(d, e))?;
    let mut leniency = Vec::new();
    if padded_len < bytes.len() {
        leniency.push(Leniency::ExtraPadding);
    }
    if trailing_bits_set(&bytes[..data_len]) {
        leniency.push(Leniency::NonCanonicalTrailingBits);
    }
    Ok(DecodedPin {
        bytes: out,
        leniency,
    })
}

/// RFC 4648 §4: the `base64` crate's `STANDARD` engine (canonical padding,
/// zero trailing bits), the engine [`Pin::parse_base64`] uses.
fn strict(text: &str) -> Result<DecodedPin, Base64Error> {
    let d = Base64Dialect::Strict;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map(|bytes| DecodedPin {
            bytes,
            leniency: Vec::new(),
        })
        .map_err(|e| match e {
            base64::DecodeError::InvalidByte(i, b) if b != b'=' => invalid(d, text, i),
            base64::DecodeError::InvalidLastSymbol(..) => {
                malformed(d, "the last symbol's unused bits are not zero")
            }
            base64::DecodeError::InvalidLength(_) => malformed(
                d,
                "the length is not a multiple of 4 with canonical padding",
            ),
            _ => malformed(d, "the padding is incomplete or misplaced"),
        })
}

#[cfg(test)]
#[path = "base64_tests.rs"]
mod tests;
