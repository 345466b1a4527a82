//! Bounded reading of APK, AAB and IPA archives (all three are zip files).
//!
//! The archive is streamed from disk with the `zip` crate: only the central
//! directory is held in memory, and only the few entries an audit needs
//! (manifest, resource table, NSC files, plists, dex string tables) are ever
//! decompressed, each into a buffer bounded before it is filled.
//!
//! Refused with a typed error, before anything is decompressed:
//! * a central directory larger than [`MAX_CENTRAL_DIRECTORY`] or more
//!   entries than [`MAX_ENTRIES`] (memory for the directory itself);
//! * an entry name that is absolute, climbs out with `..`, uses `\` or holds
//!   a NUL (path traversal: never legitimate in a package, and a sign of a
//!   crafted file that other tools would extract outside their folder);
//! * a truncated or inconsistent directory (the `zip` crate's own checks).
//!
//! And when an entry is read: more than [`MAX_ENTRY_BYTES`] after
//! decompression, whatever its header claims (the header is not trusted:
//! the read stops one byte past the limit), a compression ratio above
//! [`MAX_RATIO`] for entries over 1 MiB (zip bombs), or more than
//! [`MAX_TOTAL_BYTES`] decompressed over the whole audit.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use super::PackageError;
use crate::limits::LimitError;

/// The most entries an archive may have (large games have ~60,000).
pub const MAX_ENTRIES: usize = 500_000;
/// The largest central directory read, in bytes.
pub const MAX_CENTRAL_DIRECTORY: u64 = 128 << 20;
/// The largest entry decompressed, in bytes (64 MiB).
pub const MAX_ENTRY_BYTES: u64 = 64 << 20;
/// The most bytes decompressed over one audit (512 MiB).
pub const MAX_TOTAL_BYTES: u64 = 512 << 20;
/// The highest compression ratio accepted for entries over 1 MiB: deflate of
/// real XML and DEX stays under 20, a zip bomb reaches ~1,000.
pub const MAX_RATIO: u64 = 200;

/// An open package archive.
pub(crate) struct Archive {
    zip: zip::ZipArchive<BufReader<File>>,
    /// The archive as named in locations (`app.apk`).
    pub(crate) file: String,
    /// Offset of the central directory (the APK signing block ends there).
    pub(crate) cd_offset: u64,
    path: std::path::PathBuf,
    read_total: u64,
    /// What may be decompressed over the audit ([`MAX_TOTAL_BYTES`]).
    total_budget: u64,
}

fn zip_err(file: &str, e: impl std::fmt::Display) -> PackageError {
    PackageError::Zip {
        file: file.to_owned(),
        reason: e.to_string(),
    }
}

/// Whether an entry name could escape the folder it is extracted to.
pub(crate) fn unsafe_name(name: &str) -> bool {
    name.starts_with('/')
        || name.contains('\\')
        || name.contains('\0')
        || name.as_bytes().get(1) == Some(&b':')
        || name.split('/').any(|c| c == "..")
}

/// The end-of-central-directory record: where the directory starts, its size
/// and its entry count (zip64 records followed).
fn directory_bounds(f: &mut File, file: &str) -> Result<(u64, u64, u64), PackageError> {
    let len = f.seek(SeekFrom::End(0)).map_err(|e| io(file, e))?;
    let tail_len = len.min(22 + 65_535);
    f.seek(SeekFrom::Start(len - tail_len))
        .map_err(|e| io(file, e))?;
    let mut tail = vec![0u8; tail_len as usize];
    f.read_exact(&mut tail).map_err(|e| io(file, e))?;
    let Some(pos) = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| tail[i..].starts_with(b"PK\x05\x06"))
    else {
        return Err(zip_err(
            file,
            "no end-of-central-directory record (truncated, or not a zip file)",
        ));
    };
    let r = &tail[pos..];
    let le16 = |o: usize| u64::from(u16::from_le_bytes([r[o], r[o + 1]]));
    let le32 = |o: usize| u64::from(u32::from_le_bytes([r[o], r[o + 1], r[o + 2], r[o + 3]]));
    let (mut entries, mut size, mut offset) = (le16(10), le32(12), le32(16));
    if entries == 0xFFFF || size == 0xFFFF_FFFF || offset == 0xFFFF_FFFF {
        // zip64: the locator sits just before the record.
        let loc_at = (len - tail_len) + pos as u64;
        let loc_at = loc_at
            .checked_sub(20)
            .ok_or_else(|| zip_err(file, "zip64 locator missing"))?;
        let mut loc = [0u8; 20];
        f.seek(SeekFrom::Start(loc_at)).map_err(|e| io(file, e))?;
        f.read_exact(&mut loc).map_err(|e| io(file, e))?;
        if &loc[..4] != b"PK\x06\x07" {
            return Err(zip_err(file, "zip64 locator missing"));
        }
        let rec_at = u64::from_le_bytes(loc[8..16].try_into().unwrap_or_default());
        let mut rec = [0u8; 56];
        f.seek(SeekFrom::Start(rec_at)).map_err(|e| io(file, e))?;
        f.read_exact(&mut rec)
            .map_err(|_| zip_err(file, "zip64 end record truncated"))?;
        if &rec[..4] != b"PK\x06\x06" {
            return Err(zip_err(file, "zip64 end record missing"));
        }
        let le64 = |o: usize| u64::from_le_bytes(rec[o..o + 8].try_into().unwrap_or_default());
        (entries, size, offset) = (le64(32), le64(40), le64(48));
    }
    if offset.checked_add(size).is_none_or(|e| e > len) {
        return Err(zip_err(
            file,
            format!(
                "central directory of {size} bytes at offset {offset} runs past the end of the {len}-byte file (truncated)"
            ),
        ));
    }
    Ok((offset, size, entries))
}

/// The first name the central directory lists twice (read only when the
/// zip crate's count of distinct names says there is one).
fn duplicate_name(f: &mut File, offset: u64, size: u64) -> Option<String> {
    f.seek(SeekFrom::Start(offset)).ok()?;
    let mut cd = vec![0u8; usize::try_from(size).ok()?];
    f.read_exact(&mut cd).ok()?;
    let mut seen = std::collections::HashSet::new();
    let mut at = 0usize;
    while cd.get(at..at + 4) == Some(b"PK\x01\x02".as_slice()) {
        let le16 = |o: usize| {
            cd.get(at + o..at + o + 2)
                .map(|s| usize::from(u16::from_le_bytes([s[0], s[1]])))
        };
        let (n, m, k) = (le16(28)?, le16(30)?, le16(32)?);
        let name = cd.get(at + 46..at + 46 + n)?;
        if !seen.insert(name) {
            return Some(String::from_utf8_lossy(name).into_owned());
        }
        at += 46 + n + m + k;
    }
    None
}

fn io(file: &str, e: std::io::Error) -> PackageError {
    PackageError::Io {
        file: file.to_owned(),
        reason: e.to_string(),
    }
}

fn limit(file: &str, entry: &str, limit: LimitError) -> PackageError {
    PackageError::Limit {
        file: file.to_owned(),
        entry: entry.to_owned(),
        limit,
    }
}

impl Archive {
    /// Opens `path`, checking the directory's bounds and every entry name;
    /// at most `total_budget` bytes will be decompressed from it.
    pub(crate) fn open(path: &Path, file: &str, total_budget: u64) -> Result<Self, PackageError> {
        let mut f = File::open(path).map_err(|e| io(file, e))?;
        let (cd_offset, cd_size, entries) = directory_bounds(&mut f, file)?;
        if cd_size > MAX_CENTRAL_DIRECTORY {
            return Err(limit(
                file,
                "",
                LimitError::PackageTooLarge {
                    what: "central directory",
                    name: "MAX_CENTRAL_DIRECTORY",
                    size: cd_size,
                    limit: MAX_CENTRAL_DIRECTORY,
                },
            ));
        }
        if entries > MAX_ENTRIES as u64 {
            return Err(limit(
                file,
                "",
                LimitError::TooMany {
                    what: "zip entries",
                    name: "MAX_ENTRIES",
                    limit: MAX_ENTRIES,
                },
            ));
        }
        f.seek(SeekFrom::Start(0)).map_err(|e| io(file, e))?;
        let zip = zip::ZipArchive::new(BufReader::new(f)).map_err(|e| zip_err(file, e))?;
        if let Some(bad) = zip.file_names().find(|n| unsafe_name(n)) {
            return Err(PackageError::UnsafeName {
                file: file.to_owned(),
                entry: bad.to_owned(),
            });
        }
        // The zip crate keeps the last of entries sharing a name; Android's
        // libziparchive refuses the archive ("Duplicate entry"), since two
        // tools reading different copies is how the 2013 "Master Key"
        // signature bypass worked.
        if (zip.len() as u64) < entries {
            let mut f = File::open(path).map_err(|e| io(file, e))?;
            let dup = duplicate_name(&mut f, cd_offset, cd_size).unwrap_or_default();
            return Err(zip_err(
                file,
                format!(
                    "{} duplicate entry name(s) (first: {dup:?}); Android refuses a package with duplicate entries",
                    entries - zip.len() as u64
                ),
            ));
        }
        Ok(Self {
            file: file.to_owned(),
            cd_offset,
            path: path.to_owned(),
            zip,
            read_total: 0,
            total_budget,
        })
    }

    /// The entry names, in directory order.
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.zip.file_names()
    }

    /// The uncompressed size an entry's header claims.
    pub(crate) fn size(&mut self, name: &str) -> Option<u64> {
        let idx = self.zip.index_for_name(name)?;
        self.zip.by_index_raw(idx).ok().map(|e| e.size())
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.zip.index_for_name(name).is_some()
    }

    /// Decompresses `name` (`None` when absent), within the limits above.
    pub(crate) fn read(&mut self, name: &str) -> Result<Option<Vec<u8>>, PackageError> {
        let Some(idx) = self.zip.index_for_name(name) else {
            return Ok(None);
        };
        let file = self.file.clone();
        let mut e = self.zip.by_index(idx).map_err(|e| zip_err(&file, e))?;
        let claimed = e.size();
        let compressed = e.compressed_size().max(1);
        if claimed > MAX_ENTRY_BYTES {
            return Err(limit(
                &file,
                name,
                LimitError::PackageTooLarge {
                    what: "entry (as its header claims)",
                    name: "MAX_ENTRY_BYTES",
                    size: claimed,
                    limit: MAX_ENTRY_BYTES,
                },
            ));
        }
        let ratio_cap = |n: u64| {
            if n > (1 << 20) && n / compressed > MAX_RATIO {
                Err(limit(
                    &file,
                    name,
                    LimitError::TooCompressed {
                        ratio: n / compressed,
                        limit: MAX_RATIO,
                    },
                ))
            } else {
                Ok(())
            }
        };
        ratio_cap(claimed)?;
        let budget = MAX_ENTRY_BYTES.min(self.total_budget.saturating_sub(self.read_total));
        let mut out = Vec::with_capacity(claimed.min(budget) as usize);
        (&mut e)
            .take(budget + 1)
            .read_to_end(&mut out)
            .map_err(|err| PackageError::Malformed {
                file: file.clone(),
                entry: name.to_owned(),
                what: "zip entry",
                reason: err.to_string(),
            })?;
        let n = out.len() as u64;
        if n > budget {
            let lim = if budget < MAX_ENTRY_BYTES {
                LimitError::PackageTooLarge {
                    what: "decompression over the audit",
                    name: "MAX_TOTAL_BYTES",
                    size: self.read_total + n,
                    limit: self.total_budget,
                }
            } else {
                LimitError::PackageTooLarge {
                    what: "entry after decompression (more than its header claims)",
                    name: "MAX_ENTRY_BYTES",
                    size: n,
                    limit: MAX_ENTRY_BYTES,
                }
            };
            return Err(limit(&file, name, lim));
        }
        ratio_cap(n)?;
        drop(e);
        self.read_total += n;
        Ok(Some(out))
    }

    /// Reads `len` raw bytes of the archive file at `offset` (the signing
    /// block), bounded by [`MAX_ENTRY_BYTES`].
    pub(crate) fn raw(&mut self, offset: u64, len: u64) -> Result<Vec<u8>, PackageError> {
        let file = self.file.clone();
        if len > MAX_ENTRY_BYTES {
            return Err(limit(
                &file,
                "APK signing block",
                LimitError::PackageTooLarge {
                    what: "signing block",
                    name: "MAX_ENTRY_BYTES",
                    size: len,
                    limit: MAX_ENTRY_BYTES,
                },
            ));
        }
        let mut f = File::open(&self.path).map_err(|e| io(&file, e))?;
        f.seek(SeekFrom::Start(offset)).map_err(|e| io(&file, e))?;
        let mut buf = vec![0u8; len as usize];
        f.read_exact(&mut buf).map_err(|e| io(&file, e))?;
        Ok(buf)
    }
}
