//! `cargo xtask mobile-size`: the size budget of the app's native library (issue 10, item 4).
//!
//! Every byte of `libmamori_ffi` ships in each app, once per ABI. The budget is checked on the
//! host build of the `mobile` profile (fat LTO, one codegen unit, stripped, unwinding panics;
//! `Cargo.toml`), with the features the Android and iOS builds use, as a proxy for one ABI: the
//! NDK cannot be installed on the build machines, and an x86_64 build is within a few per cent
//! of arm64-v8a's. It is built as `cargo xtask android` builds it: `cargo rustc --crate-type
//! cdylib`, the shared library alone. With the package's other crate types in the same rustc
//! run (`lib` for Rust users, `staticlib` for iOS), the library came out about 480 KB larger.

use std::path::{Path, PathBuf};

/// The most bytes the stripped host library may have: 3 MiB.
pub(crate) const MAX_BYTES: u64 = 3 * 1024 * 1024;

/// The cargo arguments of the measured build (the features are those of `cargo xtask android`).
pub(crate) const BUILD_ARGS: [&str; 9] = [
    "rustc",
    "--profile",
    "mobile",
    "-p",
    "mamori-ffi",
    "--features",
    "wipe-freed-memory",
    "--crate-type",
    "cdylib",
];

/// Where the host build of the `mobile` profile puts the shared library.
pub(crate) fn library_path(target_dir: &Path) -> PathBuf {
    let name = format!(
        "{}mamori_ffi{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    target_dir.join("mobile").join(name)
}

/// `Ok` with a line to print when `bytes` is within `max`, else the failure's message.
pub(crate) fn check(library: &Path, bytes: u64, max: u64) -> Result<String, String> {
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    let line = format!(
        "{}: {bytes} bytes ({:.2} MiB), budget {max} bytes ({:.2} MiB)",
        library.display(),
        mib(bytes),
        mib(max)
    );
    if bytes <= max {
        Ok(line)
    } else {
        Err(format!(
            "{line}: {} bytes over. `nm -C --size-sort -S` on a build with \
             CARGO_PROFILE_MOBILE_STRIP=none shows what grew (README, \"Size and start-up figures\")",
            bytes - max
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_the_budget_passes_and_one_byte_over_fails() {
        let lib = Path::new("target/mobile/libmamori_ffi.so");
        assert!(check(lib, MAX_BYTES, MAX_BYTES).is_ok());
        assert!(check(lib, 1, MAX_BYTES).is_ok());
        let over = check(lib, MAX_BYTES + 1, MAX_BYTES).unwrap_err();
        assert!(over.contains("1 bytes over"), "{over}");
        assert!(over.contains("3145729 bytes"), "{over}");
    }

    #[test]
    fn the_library_is_the_mobile_profile_s() {
        let path = library_path(Path::new("/t"));
        assert!(path.starts_with("/t/mobile"), "{}", path.display());
        assert!(
            path.file_name()
                .unwrap()
                .to_string_lossy()
                .contains("mamori_ffi")
        );
    }
}
