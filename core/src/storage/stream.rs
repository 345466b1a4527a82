//! Streaming encryption of files of any size in constant memory.
//!
//! A segmented AEAD in the style of STREAM (Hoang, Reyhanitabar, Rogaway, Vizár)
//! and Tink's AES-GCM-HKDF streaming, with a versioned header that Tink's lacks:
//!
//! ```text
//! "MMRS" ‖ version=1 ‖ alg=1 ‖ log2(segment size) ‖ salt(16) ‖ nonce_prefix(7)   fixed part (30 bytes)
//! ‖ K(1) ‖ kek_id(K) ‖ W(2, BE) ‖ wrapped_dek(W)                                key part
//! ‖ segment 0 ‖ segment 1 ‖ … ‖ last segment                                   each: ciphertext ‖ tag(16)
//! ```
//!
//! The stream key is HKDF-SHA256(salt, DEK, info = "mamori stream v1" ‖ fixed part ‖
//! u32 BE len(context) ‖ context), so the header and the caller's context are bound
//! to every segment. Segment *i* is sealed with nonce `prefix ‖ u32 BE i ‖ last`,
//! where `last` is 1 only for the final segment: a dropped tail (truncation),
//! swapped segments (reordering) and appended segments (extension) all fail
//! authentication. Every segment but the last holds exactly one segment size of
//! plaintext; the last holds 0..=segment size (an empty input is one empty last
//! segment). Memory use is one segment buffer, whatever the file size.
//!
//! Output written by [`decrypt_stream`] before a failure was authenticated segment
//! by segment, but the whole stream was not: [`decrypt_file`] therefore writes to a
//! temporary file and renames it only after the last segment verified.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;

use ring::aead::AES_256_GCM;
use ring::hkdf;
use zeroize::Zeroizing;

use super::aead::{AeadKey, NONCE_SIZE, TAG_LEN};
use super::envelope::{Dek, EnvelopeCipher, KeyPart};
use super::error::StorageError;
use super::fsutil;

/// Magic bytes of a stream.
pub(super) const STREAM_MAGIC: [u8; 4] = *b"MMRS";
/// Stream format version.
pub(super) const STREAM_VERSION: u8 = 1;
/// Algorithm 1: AES-256-GCM segments, key from HKDF-SHA256.
pub(super) const ALG_AES256_GCM_HKDF: u8 = 1;
/// Default segment size: 64 KiB of plaintext.
pub const DEFAULT_SEGMENT_LOG2: u8 = 16;
/// Smallest and largest accepted segment sizes (4 KiB ..= 16 MiB).
pub const SEGMENT_LOG2_RANGE: std::ops::RangeInclusive<u8> = 12..=24;
const SALT_LEN: usize = 16;
const PREFIX_LEN: usize = 7;
/// Length of the fixed part of a stream header.
pub(super) const STREAM_FIXED_LEN: usize = 4 + 1 + 1 + 1 + SALT_LEN + PREFIX_LEN;
const INFO_DOMAIN: &[u8] = b"mamori stream v1";

struct StreamKey {
    key: AeadKey,
    prefix: [u8; PREFIX_LEN],
}

impl StreamKey {
    fn derive(dek: &Dek, fixed: &[u8], context: &[u8]) -> Self {
        let salt = hkdf::Salt::new(hkdf::HKDF_SHA256, &fixed[7..7 + SALT_LEN]);
        let ctx_len = (context.len() as u32).to_be_bytes();
        let info = [INFO_DOMAIN, fixed, &ctx_len, context];
        let prk = salt.extract(dek.bytes.as_ref());
        let okm = prk
            .expand(&info, &AES_256_GCM)
            .expect("HKDF output of one AES key is within limits");
        let mut prefix = [0u8; PREFIX_LEN];
        prefix.copy_from_slice(&fixed[7 + SALT_LEN..]);
        Self {
            key: AeadKey::from_unbound(okm.into()),
            prefix,
        }
    }

    fn nonce(&self, index: u32, last: bool) -> [u8; NONCE_SIZE] {
        let mut n = [0u8; NONCE_SIZE];
        n[..PREFIX_LEN].copy_from_slice(&self.prefix);
        n[PREFIX_LEN..PREFIX_LEN + 4].copy_from_slice(&index.to_be_bytes());
        n[NONCE_SIZE - 1] = last as u8;
        n
    }
}

/// Reads until `buf` is full or the reader is at its end; returns the bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Fills `buf` (already holding `buf.len()` carried bytes) up to `target` bytes and
/// reports whether the input ended there, carrying one look-ahead byte otherwise.
fn fill_segment(
    r: &mut impl Read,
    buf: &mut Vec<u8>,
    target: usize,
    carry: &mut Option<u8>,
) -> io::Result<bool> {
    buf.clear();
    if let Some(b) = carry.take() {
        buf.push(b);
    }
    let have = buf.len();
    buf.resize(target, 0);
    let n = have + read_full(r, &mut buf[have..])?;
    buf.truncate(n);
    if n < target {
        return Ok(true);
    }
    let mut one = [0u8; 1];
    if read_full(r, &mut one)? == 0 {
        Ok(true)
    } else {
        *carry = Some(one[0]);
        Ok(false)
    }
}

fn segment_log2_checked(log2: u8) -> Result<usize, StorageError> {
    if !SEGMENT_LOG2_RANGE.contains(&log2) {
        return Err(StorageError::InvalidInput {
            what: "segment size",
            reason: format!("2^{log2} is outside 2^12..=2^24"),
        });
    }
    Ok(1usize << log2)
}

/// Where I/O errors are attributed (paths for files, a label for generic streams).
struct Labels<'a> {
    input: &'a Path,
    output: &'a Path,
}

fn generic() -> Labels<'static> {
    Labels {
        input: Path::new("<input stream>"),
        output: Path::new("<output stream>"),
    }
}

/// Encrypts everything `reader` yields into `writer`; returns the plaintext length.
pub fn encrypt_stream(
    cipher: &EnvelopeCipher,
    context: &[u8],
    segment_log2: u8,
    reader: impl Read,
    writer: impl Write,
) -> Result<u64, StorageError> {
    encrypt_impl(cipher, context, segment_log2, reader, writer, &generic())
}

fn encrypt_impl(
    cipher: &EnvelopeCipher,
    context: &[u8],
    segment_log2: u8,
    mut reader: impl Read,
    mut writer: impl Write,
    labels: &Labels<'_>,
) -> Result<u64, StorageError> {
    let seg = segment_log2_checked(segment_log2)?;
    let (mut header, key) = cipher.with_sealing_dek(|dek, wrapped, _nonce| {
        let mut header =
            Vec::with_capacity(STREAM_FIXED_LEN + 3 + cipher.kek_id().len() + wrapped.len());
        header.extend_from_slice(&STREAM_MAGIC);
        header.extend_from_slice(&[STREAM_VERSION, ALG_AES256_GCM_HKDF, segment_log2]);
        let mut random = [0u8; SALT_LEN + PREFIX_LEN];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut random).map_err(
            |_| {
                StorageError::Kek(super::error::KekError::Backend {
                    reason: "system random generator failed".into(),
                })
            },
        )?;
        header.extend_from_slice(&random);
        let key = StreamKey::derive(dek, &header, context);
        KeyPart::encode_into(cipher.kek_id(), wrapped, &mut header);
        Ok((header, key))
    })?;
    writer
        .write_all(&header)
        .map_err(StorageError::io(labels.output))?;
    header.clear();

    let mut buf = Zeroizing::new(Vec::with_capacity(seg + TAG_LEN));
    let mut carry = None;
    let mut index: u32 = 0;
    let mut total: u64 = 0;
    loop {
        let last = fill_segment(&mut reader, &mut buf, seg, &mut carry)
            .map_err(StorageError::io(labels.input))?;
        total += buf.len() as u64;
        let nonce = key.nonce(index, last);
        key.key.seal_in_place_from(&nonce, &[], &mut buf, 0)?;
        writer
            .write_all(&buf)
            .map_err(StorageError::io(labels.output))?;
        if last {
            break;
        }
        index = index.checked_add(1).ok_or(StorageError::InvalidInput {
            what: "stream",
            reason: "more than 2^32 segments".into(),
        })?;
    }
    writer.flush().map_err(StorageError::io(labels.output))?;
    Ok(total)
}

/// Parsed stream header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamHeader {
    /// log2 of the plaintext segment size.
    pub segment_log2: u8,
    /// KEK id and wrapped DEK.
    pub key: KeyPart,
    /// The fixed part, as bound into the stream key.
    pub fixed: [u8; STREAM_FIXED_LEN],
}

impl StreamHeader {
    /// Reads and parses a stream header from `reader`.
    pub fn read(reader: &mut impl Read) -> Result<Self, StorageError> {
        Self::read_labelled(reader, generic().input)
    }

    fn read_labelled(reader: &mut impl Read, label: &Path) -> Result<Self, StorageError> {
        let mut fixed = [0u8; STREAM_FIXED_LEN];
        if read_full(reader, &mut fixed).map_err(StorageError::io(label))? < STREAM_FIXED_LEN {
            return Err(StorageError::Malformed {
                reason: "stream shorter than its header",
            });
        }
        if fixed[..4] != STREAM_MAGIC {
            return Err(StorageError::Malformed {
                reason: "bad stream magic",
            });
        }
        if fixed[4] != STREAM_VERSION {
            return Err(StorageError::Malformed {
                reason: "unsupported stream version",
            });
        }
        if fixed[5] != ALG_AES256_GCM_HKDF {
            return Err(StorageError::Malformed {
                reason: "unsupported stream algorithm",
            });
        }
        let segment_log2 = fixed[6];
        if !SEGMENT_LOG2_RANGE.contains(&segment_log2) {
            return Err(StorageError::Malformed {
                reason: "segment size out of range",
            });
        }
        // The key part has variable length: read K, then the id and W, then the key.
        let mut kb = vec![0u8; 1];
        let short = || StorageError::Malformed {
            reason: "stream header truncated",
        };
        if read_full(reader, &mut kb).map_err(StorageError::io(label))? < 1 {
            return Err(short());
        }
        let k = kb[0] as usize;
        kb.resize(1 + k + 2, 0);
        if read_full(reader, &mut kb[1..]).map_err(StorageError::io(label))? < k + 2 {
            return Err(short());
        }
        let w = u16::from_be_bytes([kb[1 + k], kb[2 + k]]) as usize;
        if w > super::envelope::MAX_WRAPPED_LEN {
            return Err(StorageError::Malformed {
                reason: "wrapped key length out of range",
            });
        }
        kb.resize(3 + k + w, 0);
        if read_full(reader, &mut kb[3 + k..]).map_err(StorageError::io(label))? < w {
            return Err(short());
        }
        let (key, _) = KeyPart::parse(&kb)?;
        Ok(Self {
            segment_log2,
            key,
            fixed,
        })
    }
}

/// Decrypts a stream from `reader` into `writer`; returns the plaintext length.
///
/// On error, `writer` may already hold a prefix of the plaintext: discard it
/// (or use [`decrypt_file`], which does).
pub fn decrypt_stream(
    cipher: &EnvelopeCipher,
    context: &[u8],
    reader: impl Read,
    writer: impl Write,
) -> Result<u64, StorageError> {
    decrypt_impl(cipher, context, reader, writer, &generic())
}

fn decrypt_impl(
    cipher: &EnvelopeCipher,
    context: &[u8],
    mut reader: impl Read,
    mut writer: impl Write,
    labels: &Labels<'_>,
) -> Result<u64, StorageError> {
    let header = StreamHeader::read_labelled(&mut reader, labels.input)?;
    cipher.check_kek(&header.key.kek_id)?;
    let dek = cipher.unwrap_dek(&header.key.wrapped_dek)?;
    let key = StreamKey::derive(&dek, &header.fixed, context);
    drop(dek);
    let seg = 1usize << header.segment_log2;
    let mut buf = Zeroizing::new(Vec::with_capacity(seg + TAG_LEN));
    let mut carry = None;
    let mut index: u32 = 0;
    let mut total: u64 = 0;
    loop {
        let last = fill_segment(&mut reader, &mut buf, seg + TAG_LEN, &mut carry)
            .map_err(StorageError::io(labels.input))?;
        if buf.len() < TAG_LEN {
            return Err(StorageError::Malformed {
                reason: "truncated segment",
            });
        }
        let nonce = key.nonce(index, last);
        let n = key.key.open_in_place(&nonce, &[], &mut buf)?.len();
        writer
            .write_all(&buf[..n])
            .map_err(StorageError::io(labels.output))?;
        total += n as u64;
        if last {
            break;
        }
        index = index.checked_add(1).ok_or(StorageError::Malformed {
            reason: "more than 2^32 segments",
        })?;
    }
    writer.flush().map_err(StorageError::io(labels.output))?;
    Ok(total)
}

/// Encrypts the file `src` into `dst` atomically (temporary file, fsync, rename).
pub fn encrypt_file(
    cipher: &EnvelopeCipher,
    context: &[u8],
    src: &Path,
    dst: &Path,
) -> Result<u64, StorageError> {
    let input = File::open(src).map_err(StorageError::io(src))?;
    fsutil::write_atomically(dst, |out| {
        let labels = Labels {
            input: src,
            output: dst,
        };
        encrypt_impl(
            cipher,
            context,
            DEFAULT_SEGMENT_LOG2,
            BufReader::new(input),
            BufWriter::new(out),
            &labels,
        )
    })
}

/// Decrypts the file `src` into `dst`; `dst` appears only if the whole stream
/// authenticated.
pub fn decrypt_file(
    cipher: &EnvelopeCipher,
    context: &[u8],
    src: &Path,
    dst: &Path,
) -> Result<u64, StorageError> {
    let input = File::open(src).map_err(StorageError::io(src))?;
    fsutil::write_atomically(dst, |out| {
        let labels = Labels {
            input: src,
            output: dst,
        };
        decrypt_impl(
            cipher,
            context,
            BufReader::new(input),
            BufWriter::new(out),
            &labels,
        )
    })
}

/// Re-wraps the data key of the stream file at `path` from `from`'s KEK to `to`'s,
/// in place and atomically; the segments are copied unchanged (nothing is
/// re-encrypted, memory stays constant). Returns `false` if the file is already
/// under `to`.
pub fn rewrap_file(
    from: &EnvelopeCipher,
    to: &EnvelopeCipher,
    path: &Path,
) -> Result<bool, StorageError> {
    let mut input = BufReader::new(File::open(path).map_err(StorageError::io(path))?);
    let header = StreamHeader::read_labelled(&mut input, path)?;
    if header.key.kek_id == to.kek_id() {
        return Ok(false);
    }
    let wrapped = from.rewrap_key_part(&header.key, to)?;
    fsutil::write_atomically(path, |out| {
        let mut out = BufWriter::new(out);
        let mut head = header.fixed.to_vec();
        KeyPart::encode_into(to.kek_id(), &wrapped, &mut head);
        out.write_all(&head).map_err(StorageError::io(path))?;
        io::copy(&mut input, &mut out).map_err(StorageError::io(path))?;
        out.flush().map_err(StorageError::io(path))
    })?;
    Ok(true)
}
