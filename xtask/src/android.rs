//! `cargo xtask android`: the Android library (AAR).
//!
//! 1. checks every prerequisite first and fails naming all that is missing (cargo-ndk, the NDK,
//!    the Rust targets, Gradle and the Android SDK; none exists on the project's build machines);
//! 2. `cargo ndk` builds `libmamori_ffi.so` per ABI with the `mobile` profile into
//!    `<target>/android/jniLibs` (build output, never `src/`), linked for 16 KB pages
//!    (`.cargo/config.toml`), and each library's ELF `LOAD` alignment is checked;
//! 3. the Kotlin bindings are generated (`cargo xtask bindings`);
//! 4. Gradle builds the library module (`bindings/kotlin/android`) and publishes the AAR to the
//!    local Maven repository `<target>/android/maven`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The ABIs of an AAR: Android name and Rust target triple.
pub const ABIS: [(&str, &str); 4] = [
    ("arm64-v8a", "aarch64-linux-android"),
    ("armeabi-v7a", "armv7-linux-androideabi"),
    ("x86_64", "x86_64-linux-android"),
    ("x86", "i686-linux-android"),
];

/// Play requires 16 KB page alignment for native libraries of new apps (Android 15+ devices).
pub const PAGE_SIZE: u64 = 16 * 1024;

/// The minimum API level (bindings/kotlin/android/build.gradle.kts `minSdk`).
pub const MIN_SDK: u32 = 26;

/// The Rust target triple of an Android ABI name.
pub fn triple(abi: &str) -> Option<&'static str> {
    ABIS.iter().find(|(name, _)| *name == abi).map(|(_, t)| *t)
}

/// clap value parser for `--abi`.
pub fn parse_abi(value: &str) -> Result<String, String> {
    match triple(value) {
        Some(_) => Ok(value.to_owned()),
        None => Err(format!(
            "unknown ABI `{value}` (one of: {})",
            ABIS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
        )),
    }
}

/// What the machine offers, so the checks can be tested with a made-up machine.
pub trait Machine {
    /// An environment variable.
    fn var(&self, name: &str) -> Option<OsString>;
    /// Whether a program is on `PATH`.
    fn has_program(&self, name: &str) -> bool;
    /// The installed rustup targets, or None when rustup is not there.
    fn installed_targets(&self) -> Option<Vec<String>>;
    /// Whether a path is a directory.
    fn is_dir(&self, path: &Path) -> bool;
}

/// Where the Android toolchain is, once [check_prerequisites] accepted the machine.
#[derive(Debug, PartialEq, Eq)]
pub struct Toolchain {
    pub ndk: PathBuf,
    pub sdk: Option<PathBuf>,
}

/// Every missing prerequisite, each with how to get it; `Ok` only when all are present.
/// `need_gradle` is false with `--no-gradle` (native libraries and bindings only).
pub fn check_prerequisites(
    machine: &dyn Machine,
    abis: &[String],
    need_gradle: bool,
) -> Result<Toolchain, Vec<String>> {
    let mut missing = Vec::new();
    if !machine.has_program("cargo-ndk") {
        missing.push(
            "cargo-ndk is not installed: `cargo install cargo-ndk --version ^4` \
             (https://github.com/bbqsrc/cargo-ndk)"
                .to_owned(),
        );
    }
    let ndk = ["ANDROID_NDK_HOME", "ANDROID_NDK_ROOT"]
        .iter()
        .find_map(|name| machine.var(name).map(PathBuf::from));
    match &ndk {
        None => missing.push(
            "the Android NDK is not set: install NDK r28 or newer (Android Studio > SDK Manager > \
             NDK, or `sdkmanager \"ndk;28.2.13676358\"`) and set ANDROID_NDK_HOME"
                .to_owned(),
        ),
        Some(dir) if !machine.is_dir(dir) => missing.push(format!(
            "ANDROID_NDK_HOME={} is not a directory",
            dir.display()
        )),
        Some(_) => {}
    }
    match machine.installed_targets() {
        None => missing.push("rustup is not installed (needed to add the Android targets)".into()),
        Some(installed) => {
            let absent: Vec<&str> = abis
                .iter()
                .filter_map(|abi| triple(abi))
                .filter(|t| !installed.iter().any(|i| i == t))
                .collect();
            if !absent.is_empty() {
                missing.push(format!(
                    "Rust targets not installed: `rustup target add {}`",
                    absent.join(" ")
                ));
            }
        }
    }
    let sdk = ["ANDROID_HOME", "ANDROID_SDK_ROOT"]
        .iter()
        .find_map(|name| machine.var(name).map(PathBuf::from));
    if need_gradle {
        if !machine.has_program("gradle") {
            missing.push(
                "Gradle is not on PATH: install Gradle 8.14 (https://gradle.org/install/); \
                 it downloads the Android Gradle Plugin 8.13.0 from Google's Maven"
                    .to_owned(),
            );
        }
        match &sdk {
            None => missing.push(
                "the Android SDK is not set: install it (platform 36, build-tools) and set \
                 ANDROID_HOME"
                    .to_owned(),
            ),
            Some(dir) if !machine.is_dir(dir) => {
                missing.push(format!("ANDROID_HOME={} is not a directory", dir.display()))
            }
            Some(_) => {}
        }
    }
    match ndk {
        Some(ndk) if missing.is_empty() => Ok(Toolchain { ndk, sdk }),
        _ => Err(missing),
    }
}

/// The real machine.
pub struct Host;

impl Machine for Host {
    fn var(&self, name: &str) -> Option<OsString> {
        std::env::var_os(name).filter(|v| !v.is_empty())
    }

    fn has_program(&self, name: &str) -> bool {
        std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(name).is_file()))
    }

    fn installed_targets(&self) -> Option<Vec<String>> {
        let out = std::process::Command::new("rustup")
            .args(["target", "list", "--installed"])
            .output()
            .ok()?;
        out.status.success().then(|| {
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::to_owned)
                .collect()
        })
    }

    fn is_dir(&self, path: &Path) -> bool {
        path.is_dir()
    }
}

/// The smallest alignment of the ELF `PT_LOAD` segments of a shared library (32- or 64-bit,
/// little-endian), or an error for anything else. A library linked for 16 KB pages has 16384.
pub fn min_load_alignment(elf: &[u8]) -> Result<u64, String> {
    if elf.len() < 52 || &elf[..4] != b"\x7fELF" {
        return Err("not an ELF file".into());
    }
    if elf[5] != 1 {
        return Err("not a little-endian ELF file".into());
    }
    let u16_at = |at: usize| -> Result<u64, String> {
        elf.get(at..at + 2)
            .map(|b| u64::from(u16::from_le_bytes([b[0], b[1]])))
            .ok_or_else(|| "truncated ELF header".to_owned())
    };
    let u32_at = |at: usize| -> Result<u64, String> {
        elf.get(at..at + 4)
            .map(|b| u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])))
            .ok_or_else(|| "truncated ELF header".to_owned())
    };
    let u64_at = |at: usize| -> Result<u64, String> {
        elf.get(at..at + 8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
            .ok_or_else(|| "truncated ELF header".to_owned())
    };
    // (offset of e_phoff, e_phentsize, e_phnum; offset of p_align within a program header)
    let (phoff, entsize, count, align_at) = match elf[4] {
        1 => (u32_at(28)?, u16_at(42)?, u16_at(44)?, 28),
        2 => (u64_at(32)?, u16_at(54)?, u16_at(56)?, 48),
        _ => return Err("unknown ELF class".into()),
    };
    let mut smallest: Option<u64> = None;
    for i in 0..count {
        let header =
            usize::try_from(phoff + i * entsize).map_err(|_| "bad program header offset")?;
        const PT_LOAD: u64 = 1;
        if u32_at(header)? != PT_LOAD {
            continue;
        }
        let align = if elf[4] == 1 {
            u32_at(header + align_at)?
        } else {
            u64_at(header + align_at)?
        };
        smallest = Some(smallest.map_or(align, |s| s.min(align)));
    }
    smallest.ok_or_else(|| "no LOAD segment".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[derive(Default)]
    struct FakeMachine {
        vars: HashMap<&'static str, &'static str>,
        programs: Vec<&'static str>,
        targets: Option<Vec<String>>,
    }

    impl Machine for FakeMachine {
        fn var(&self, name: &str) -> Option<OsString> {
            self.vars.get(name).map(OsString::from)
        }
        fn has_program(&self, name: &str) -> bool {
            self.programs.contains(&name)
        }
        fn installed_targets(&self) -> Option<Vec<String>> {
            self.targets.clone()
        }
        fn is_dir(&self, path: &Path) -> bool {
            path.starts_with("/opt")
        }
    }

    fn all_abis() -> Vec<String> {
        ABIS.iter().map(|(n, _)| (*n).to_owned()).collect()
    }

    fn complete() -> FakeMachine {
        FakeMachine {
            vars: HashMap::from([
                ("ANDROID_NDK_HOME", "/opt/ndk/28"),
                ("ANDROID_HOME", "/opt/sdk"),
            ]),
            programs: vec!["cargo-ndk", "gradle"],
            targets: Some(ABIS.iter().map(|(_, t)| (*t).to_owned()).collect()),
        }
    }

    #[test]
    fn a_bare_machine_gets_every_missing_piece_named_at_once() {
        let missing = check_prerequisites(
            &FakeMachine {
                targets: Some(vec!["x86_64-unknown-linux-gnu".into()]),
                ..FakeMachine::default()
            },
            &all_abis(),
            true,
        )
        .unwrap_err();
        let text = missing.join("\n");
        for needle in [
            "cargo install cargo-ndk",
            "ANDROID_NDK_HOME",
            "rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android i686-linux-android",
            "Gradle 8.14",
            "ANDROID_HOME",
        ] {
            assert!(text.contains(needle), "{needle:?} not in:\n{text}");
        }
        assert_eq!(missing.len(), 5, "{text}");
    }

    #[test]
    fn a_complete_machine_passes_and_names_its_ndk() {
        let toolchain = check_prerequisites(&complete(), &all_abis(), true).unwrap();
        assert_eq!(toolchain.ndk, PathBuf::from("/opt/ndk/28"));
        assert_eq!(toolchain.sdk, Some(PathBuf::from("/opt/sdk")));
    }

    #[test]
    fn only_the_requested_abis_need_targets() {
        let mut machine = complete();
        machine.targets = Some(vec!["aarch64-linux-android".into()]);
        assert!(check_prerequisites(&machine, &["arm64-v8a".into()], true).is_ok());
        let missing =
            check_prerequisites(&machine, &["arm64-v8a".into(), "x86".into()], true).unwrap_err();
        assert_eq!(
            missing,
            ["Rust targets not installed: `rustup target add i686-linux-android`"]
        );
    }

    #[test]
    fn no_gradle_skips_gradle_and_sdk_but_not_the_ndk() {
        let mut machine = complete();
        machine.programs = vec!["cargo-ndk"];
        machine.vars.remove("ANDROID_HOME");
        assert!(check_prerequisites(&machine, &all_abis(), false).is_ok());
        assert_eq!(
            check_prerequisites(&machine, &all_abis(), true)
                .unwrap_err()
                .len(),
            2
        );
        machine.vars.insert("ANDROID_NDK_HOME", "/missing/ndk");
        let missing = check_prerequisites(&machine, &all_abis(), false).unwrap_err();
        assert_eq!(
            missing,
            ["ANDROID_NDK_HOME=/missing/ndk is not a directory"]
        );
    }

    #[test]
    fn abi_names_are_validated() {
        assert_eq!(parse_abi("arm64-v8a").unwrap(), "arm64-v8a");
        let error = parse_abi("arm64").unwrap_err();
        assert!(
            error.contains("arm64-v8a, armeabi-v7a, x86_64, x86"),
            "{error}"
        );
        assert_eq!(triple("armeabi-v7a"), Some("armv7-linux-androideabi"));
    }

    fn elf64_with_loads(aligns: &[u64]) -> Vec<u8> {
        let mut elf = vec![0u8; 64 + 56 * (aligns.len() + 1)];
        elf[..4].copy_from_slice(b"\x7fELF");
        elf[4] = 2;
        elf[5] = 1;
        elf[32..40].copy_from_slice(&64u64.to_le_bytes());
        elf[54..56].copy_from_slice(&56u16.to_le_bytes());
        elf[56..58].copy_from_slice(&u16::try_from(aligns.len() + 1).unwrap().to_le_bytes());
        // A non-LOAD header (PT_DYNAMIC, alignment 8) first: it must be ignored.
        elf[64..68].copy_from_slice(&2u32.to_le_bytes());
        elf[64 + 48..64 + 56].copy_from_slice(&8u64.to_le_bytes());
        for (i, align) in aligns.iter().enumerate() {
            let at = 64 + 56 * (i + 1);
            elf[at..at + 4].copy_from_slice(&1u32.to_le_bytes());
            elf[at + 48..at + 56].copy_from_slice(&align.to_le_bytes());
        }
        elf
    }

    #[test]
    fn load_alignment_is_the_smallest_load_segment() {
        assert_eq!(
            min_load_alignment(&elf64_with_loads(&[16384, 16384])),
            Ok(16384)
        );
        assert_eq!(
            min_load_alignment(&elf64_with_loads(&[16384, 4096])),
            Ok(4096)
        );
        assert!(
            min_load_alignment(b"not an elf file at all, not even close to one......").is_err()
        );
    }

    #[test]
    fn load_alignment_of_a_real_library() {
        // This test binary's own target directory holds the host cdylib when it was built; the
        // xtask binary itself is an ELF on Linux and is always there.
        let exe = std::env::current_exe().unwrap();
        let bytes = std::fs::read(&exe).unwrap();
        if cfg!(target_os = "linux") {
            let align = min_load_alignment(&bytes).unwrap();
            assert!(align.is_power_of_two() && align >= 4096, "{align}");
        }
    }
}
