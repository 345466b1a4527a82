//! Crash-safe file replacement: write a temporary file in the same directory,
//! fsync it, rename it over the target, fsync the directory.
//!
//! `rename(2)` within one directory is atomic on POSIX file systems, so a reader
//! (or a process restarted after a crash) sees the old file or the new one, never
//! a mix. The file fsync makes the new content durable before it becomes visible;
//! the directory fsync makes the rename itself durable. The temporary file comes
//! from `tempfile` (unique name, created with `O_EXCL`, removed if we fail).

use std::fs::File;
use std::io::Write;
use std::path::Path;

use super::error::StorageError;

/// Prefix of temporary files, so that leftovers of a crash can be recognised.
pub(crate) const TEMP_PREFIX: &str = ".mamori-tmp";

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Fsyncs a directory so that renames and unlinks in it are durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(StorageError::io(dir))
}

/// Replaces `path` with what `fill` writes, atomically and durably.
pub(crate) fn write_atomically<T>(
    path: &Path,
    fill: impl FnOnce(&mut File) -> Result<T, StorageError>,
) -> Result<T, StorageError> {
    let dir = parent(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)
        .map_err(StorageError::io(dir))?;
    let value = fill(tmp.as_file_mut())?;
    tmp.as_file()
        .sync_all()
        .map_err(StorageError::io(tmp.path()))?;
    tmp.persist(path).map_err(|e| StorageError::Io {
        path: path.to_owned(),
        source: e.error,
    })?;
    sync_dir(dir)?;
    Ok(value)
}

/// [`write_atomically`] for a byte buffer.
pub(crate) fn write_bytes_atomically(path: &Path, bytes: &[u8]) -> Result<(), StorageError> {
    write_atomically(path, |f| f.write_all(bytes).map_err(StorageError::io(path)))
}

/// Removes a file (missing is fine) and fsyncs its directory.
pub(crate) fn remove_durably(path: &Path) -> Result<bool, StorageError> {
    let existed = match std::fs::remove_file(path) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(StorageError::io(path)(e)),
    };
    sync_dir(parent(path))?;
    Ok(existed)
}
