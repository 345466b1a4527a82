//! `cargo xtask`: project automation.
//!
//! One place that knows how the pieces fit together, so the README, CI (`.ci/run`) and a
//! developer run exactly the same steps:
//!
//! - `cargo xtask bindings [--release]`: build the `mamori-ffi` cdylib and generate the Kotlin
//!   and Swift bindings from it (uniffi library mode) into `target/uniffi/{kotlin,swift}`;
//!   the Swift source is also copied into the Swift package (`bindings/swift/Sources/MamoriFFI/`).
//!   Generated code is build output and never committed.
//! - `cargo xtask kotlin-test [--release]`: `bindings`, then `mvn verify` of the Kotlin
//!   multi-module project (`bindings/kotlin`) against the freshly built cdylib: the JVM tests
//!   and the Robolectric suite of the Android sources (`bindings/kotlin/android-test`).
//! - `cargo xtask swift-check`: `bindings`, then parse every Swift file with tree-sitter-swift
//!   (no Swift toolchain exists on the build machines) and fail on any syntax error; then check
//!   every use of the generated API in the hand-written Swift (facade, tests, ios-example)
//!   against the generated `MamoriFFI.swift`: names and argument labels (`swift_symbols`), and
//!   that the generated Swift, modulemap, header and `Package.swift` agree on module names.
//! - `cargo xtask ios [--debug] [--release-url URL] [--dry-run]`: on a Mac with Xcode 16+, the
//!   XCFramework (`bindings/swift/MamoriFFIFFI.xcframework`) and the Swift package; with
//!   `--release-url`, a release package for the distribution repository (see `ios.rs`). Fails
//!   early, naming every missing prerequisite, anywhere else (e.g. on the Linux build machines).
//! - `cargo xtask kotlin-bench`: the JVM pinning benchmark (release cdylib), figures only;
//!   `--android`: the trust-evaluation one under Robolectric with Conscrypt.
//!   `--init`: SDK initialisation instead (library load in fresh JVMs, pinning engine, store
//!   create and open, each beside a JDK contender), on the JVM and under Robolectric, with the
//!   `mobile` library.
//! - `cargo xtask android [--abi ABI]... [--no-gradle]`: the Android AAR (cargo-ndk for each
//!   ABI, 16 KB pages, jniLibs under the target dir, Kotlin bindings, Gradle library module,
//!   published to `target/android/maven`); fails first naming every missing prerequisite.
//!   See `android.rs`.
//! - `cargo xtask mobile-size`: builds the host library with the `mobile` profile and fails if
//!   it exceeds its budget (3 MiB stripped; see `mobile_size.rs`).
//! - `cargo xtask fuzz-smoke [--seconds N]`: builds the cargo-fuzz crate (`fuzz/`, its own
//!   workspace and target dir; libFuzzer + ASan, `RUSTC_BOOTSTRAP=1` on the stable toolchain)
//!   once, then runs every target `cargo fuzz list` names for N seconds (default 4) from its
//!   seed corpus plus seeds from `../shared/testdata`. A crash fails the step and leaves the
//!   input in `fuzz/artifacts/<target>/`. Needs cargo-fuzz (`scripts/install-deps.sh`).
//! - `cargo xtask fuzz-campaign --seconds N`: the longer campaign (not part of `test`): the same
//!   build and seeds, every target for N seconds one after another, each run's libFuzzer log in
//!   `fuzz/target/campaign/<target>.log`; a crash does not stop the campaign. Prints a Markdown
//!   table (executions, seconds, exec/s, coverage, crashes) and fails if any target crashed.
//! - `cargo xtask test`: everything, fail-fast: fmt, clippy, `cargo test --workspace`,
//!   fuzz-smoke, kotlin-test, swift-check.

mod android;
mod ios;
mod mobile_size;
mod swift_check;
mod swift_symbols;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Mamori project automation")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Build the mamori-ffi cdylib and generate Kotlin and Swift bindings from it.
    Bindings(BuildOpts),
    /// Generate bindings, then run `mvn verify` on bindings/kotlin (JVM tests, and the Android
    /// sources under Robolectric in android-test).
    KotlinTest(BuildOpts),
    /// Generate bindings, parse every Swift file with tree-sitter-swift, and check the
    /// hand-written Swift's uses of the generated API (names, argument labels, module names).
    SwiftCheck,
    /// Build the XCFramework and the Swift package (macOS with Xcode 16+ only).
    Ios(ios::IosOpts),
    /// JVM pinning benchmark (release cdylib): checkServerTrusted cost and its share of a
    /// loopback HTTPS request. Prints figures; not part of `test`.
    KotlinBench(BenchOpts),
    /// The Android library: cargo-ndk per ABI (16 KB pages), bindings, Gradle AAR published to
    /// target/android/maven. Needs cargo-ndk, the NDK, Gradle and the Android SDK.
    Android(AndroidOpts),
    /// Build the host library with the `mobile` profile; fail if it exceeds 3 MiB.
    MobileSize,
    /// Build the fuzz targets once and run each for a few seconds (a crash fails).
    FuzzSmoke(FuzzOpts),
    /// The longer fuzz campaign: every target for N seconds, then a table of executions,
    /// exec/s and crashes (a crash fails, after every target ran). Not part of `test`.
    FuzzCampaign(FuzzOpts),
    /// Everything CI runs: fmt, clippy, cargo test, fuzz-smoke, kotlin-test, swift-check
    /// (fail-fast).
    Test,
}

#[derive(clap::Args, Clone, Copy)]
struct FuzzOpts {
    /// Seconds each target runs.
    #[arg(long, default_value_t = FUZZ_SMOKE_SECONDS)]
    seconds: u64,
}

/// Seconds per target in the CI smoke run (documented in fuzz/README.md).
const FUZZ_SMOKE_SECONDS: u64 = 4;

#[derive(clap::Args, Clone, Debug, PartialEq, Eq)]
struct AndroidOpts {
    /// An ABI to build (repeatable): arm64-v8a, armeabi-v7a, x86_64, x86. Default: all four.
    #[arg(long = "abi", value_parser = android::parse_abi)]
    abis: Vec<String>,
    /// Stop after the native libraries and the bindings (no Gradle, no Android SDK needed).
    #[arg(long)]
    no_gradle: bool,
}

#[derive(clap::Args, Clone, Copy)]
struct BenchOpts {
    /// Instead: SDK initialisation (library load, pinning engine, store create and open) with
    /// the shipped `mobile` library, on the JVM and under Robolectric.
    #[arg(long)]
    init: bool,
    /// Instead: trust evaluation per handshake under Robolectric SDK 34 with Conscrypt
    /// (`X509TrustManagerExtensions` as the platform step), release cdylib.
    #[arg(long, conflicts_with = "init")]
    android: bool,
}

#[derive(clap::Args, Clone, Copy)]
struct BuildOpts {
    /// Build the cdylib with the release profile (default: debug, faster to build).
    #[arg(long)]
    release: bool,
}

/// A failed step: what was being done, and why it failed.
#[derive(Debug)]
struct Failure(String);

type Result<T = ()> = std::result::Result<T, Failure>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Task::Bindings(opts) => bindings(opts).map(|_| ()),
        Task::KotlinTest(opts) => kotlin_test(opts),
        Task::SwiftCheck => swift_check_task(),
        Task::Ios(opts) => ios_task(&opts),
        Task::KotlinBench(opts) => kotlin_bench(opts),
        Task::Android(opts) => android_task(&opts),
        Task::MobileSize => mobile_size_task(),
        Task::FuzzSmoke(opts) => fuzz_smoke(opts),
        Task::FuzzCampaign(opts) => fuzz_campaign(opts),
        Task::Test => test_all(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(message)) => {
            eprintln!("\nxtask: FAILED: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The repository root (the parent of this crate's directory).
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the repository root")
        .to_path_buf()
}

/// The Cargo target directory (honours `CARGO_TARGET_DIR`).
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                repo_root().join(dir)
            }
        }
        None => repo_root().join("target"),
    }
}

/// The cargo that runs us (so `cargo +nightly xtask` stays on nightly).
fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(repo_root());
    command
}

/// Runs `command`, echoing it first; a non-zero exit (or a missing program) is a [`Failure`].
fn run(what: &str, command: &mut Command) -> Result {
    eprintln!("xtask: $ {}", render(command));
    let status = command.status().map_err(|e| {
        Failure(format!(
            "{what}: cannot start `{}`: {e}",
            command.get_program().to_string_lossy()
        ))
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(Failure(format!(
            "{what}: `{}` exited with {status}",
            render(command)
        )))
    }
}

fn render(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|part| part.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where the generated bindings go (all under the target dir: build output, not committed).
struct Generated {
    /// Directory holding `lib mamori_ffi` (the JNA library path).
    lib_dir: PathBuf,
    /// Generated Kotlin source root (`jp/mamori/ffi/mamori_ffi.kt`).
    kotlin: PathBuf,
    /// Generated Swift source, C header and modulemap.
    swift: PathBuf,
}

fn bindings(opts: BuildOpts) -> Result<Generated> {
    let profile = if opts.release { "release" } else { "debug" };
    let mut build = cargo();
    build.args([
        "build",
        "-p",
        "mamori-ffi",
        "--features",
        "wipe-freed-memory",
    ]);
    if opts.release {
        build.arg("--release");
    }
    run("building the mamori-ffi cdylib", &mut build)?;

    let lib_dir = target_dir().join(profile);
    let library = lib_dir.join(format!(
        "{}mamori_ffi{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ));
    if !library.is_file() {
        return Err(Failure(format!(
            "cargo build succeeded but {} does not exist",
            library.display()
        )));
    }

    let out = target_dir().join("uniffi");
    let generated = Generated {
        lib_dir,
        kotlin: out.join("kotlin"),
        swift: out.join("swift"),
    };
    for (language, dir) in [("kotlin", &generated.kotlin), ("swift", &generated.swift)] {
        // Start empty: a type removed from the Rust side must not linger in stale output.
        if dir.exists() {
            std::fs::remove_dir_all(dir)
                .map_err(|e| Failure(format!("cannot clear {}: {e}", dir.display())))?;
        }
        // bindings/uniffi.toml (Kotlin package jp.mamori.ffi, Swift module MamoriFFI,
        // omit_checksums) is found by uniffi through cargo metadata. mamori-ffi is the only
        // uniffi component: core types cross as remote types declared in bindings/src.
        run(
            &format!("generating {language} bindings"),
            cargo()
                .args([
                    "run",
                    "--quiet",
                    "-p",
                    "xtask",
                    "--bin",
                    "uniffi-bindgen",
                    "--",
                ])
                .args(["generate", "--no-format", "--language", language])
                .arg("--out-dir")
                .arg(dir)
                .arg(&library),
        )?;
    }

    check_one_component(&generated)?;

    // SwiftPM only compiles sources inside the package: copy the generated Swift next to the
    // facade (git-ignored). The header and modulemap go into the xcframework on a Mac.
    let swift_package_dir = repo_root().join("bindings/swift/Sources/MamoriFFI");
    if swift_package_dir.exists() {
        std::fs::remove_dir_all(&swift_package_dir)
            .map_err(|e| Failure(format!("cannot clear {}: {e}", swift_package_dir.display())))?;
    }
    std::fs::create_dir_all(&swift_package_dir).map_err(|e| {
        Failure(format!(
            "cannot create {}: {e}",
            swift_package_dir.display()
        ))
    })?;
    let entries = std::fs::read_dir(&generated.swift)
        .map_err(|e| Failure(format!("cannot list {}: {e}", generated.swift.display())))?;
    for entry in entries {
        let path = entry
            .map_err(|e| Failure(format!("cannot list {}: {e}", generated.swift.display())))?
            .path();
        if path.extension().is_some_and(|ext| ext == "swift") {
            let target = swift_package_dir.join(path.file_name().expect("a file name"));
            std::fs::copy(&path, &target).map_err(|e| {
                Failure(format!(
                    "cannot copy {} into the Swift package: {e}",
                    path.display()
                ))
            })?;
        }
    }

    eprintln!(
        "xtask: bindings generated: Kotlin in {}, Swift in {}",
        generated.kotlin.display(),
        generated.swift.display()
    );
    Ok(generated)
}

/// One uniffi component means one generated Kotlin file, and one Swift file, one C header
/// and one modulemap: two components would give Swift two modules that each define
/// `RustBuffer`, which does not compile (uniffi-rs issues 2557, 2653).
fn check_one_component(generated: &Generated) -> Result {
    fn files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                files(&path, out)?;
            } else {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut all = Vec::new();
    for dir in [&generated.kotlin, &generated.swift] {
        files(dir, &mut all).map_err(|e| Failure(format!("cannot list {}: {e}", dir.display())))?;
    }
    let expected = [
        generated.kotlin.join("jp/mamori/ffi/mamori_ffi.kt"),
        generated.swift.join("MamoriFFI.swift"),
        generated.swift.join("MamoriFFIFFI.h"),
        generated.swift.join("MamoriFFIFFI.modulemap"),
    ];
    all.sort();
    let mut want = expected.to_vec();
    want.sort();
    if all != want {
        return Err(Failure(format!(
            "expected exactly one uniffi component's bindings ({}), found: {}",
            render_paths(&want),
            render_paths(&all)
        )));
    }
    Ok(())
}

fn render_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn kotlin_test(opts: BuildOpts) -> Result {
    let release = opts.release;
    let generated = bindings(opts)?;
    // PinUpdatesTest signs updates with the CLI, as a server does; it runs it from jna.library.path.
    let mut cli = cargo();
    cli.args(["build", "-p", "mamori-cli"]);
    if release {
        cli.arg("--release");
    }
    run(
        "building the mamori CLI (pin-update signing in the tests)",
        &mut cli,
    )?;
    let root = repo_root();
    let mut mvn = Command::new("mvn");
    mvn.current_dir(root.join("bindings/kotlin"))
        .args(["-B", "verify"])
        .arg(format!("-Dmamori.repo.root={}", root.display()))
        .arg(format!(
            "-Djna.library.path={}",
            generated.lib_dir.display()
        ))
        .arg(format!(
            "-Duniffi.kotlin.dir={}",
            generated.kotlin.display()
        ));
    run(
        "Kotlin build and tests (mvn verify in bindings/kotlin)",
        &mut mvn,
    )
}

fn kotlin_bench(opts: BenchOpts) -> Result {
    // The initialisation benchmark runs on the mobile library: the bindings may come from the
    // debug one (the same interface).
    let generated = bindings(BuildOpts {
        release: !opts.init,
    })?;
    let root = repo_root();
    let mut lib_dir = generated.lib_dir.clone();
    if opts.init {
        // The start-up figures are those of the library an app ships.
        run(
            "building the mobile library for the host",
            cargo().args(mobile_size::BUILD_ARGS),
        )?;
        lib_dir = mobile_size::library_path(&target_dir())
            .parent()
            .expect("the library is in a directory")
            .to_path_buf();
    }
    let mvn = |args: &[&str]| {
        let mut mvn = Command::new("mvn");
        mvn.current_dir(root.join("bindings/kotlin"))
            .arg("-B")
            .args(args)
            .arg(format!("-Dmamori.repo.root={}", root.display()))
            .arg(format!("-Djna.library.path={}", lib_dir.display()))
            .arg(format!(
                "-Duniffi.kotlin.dir={}",
                generated.kotlin.display()
            ));
        mvn
    };
    if opts.android {
        // A JUnit class outside surefire's default name patterns, as the initialisation one.
        let mut robolectric = mvn(&[
            "-pl",
            "android-test",
            "-am",
            "test-compile",
            "surefire:test@default-test",
            "-Dtest=TrustBenchmark",
            "-Dsurefire.failIfNoSpecifiedTests=false",
            "-Dmamori.failIfNoTests=false",
        ]);
        return run(
            "Robolectric trust-evaluation benchmark with Conscrypt (bindings/kotlin/android-test)",
            &mut robolectric,
        );
    }
    let mut jvm = mvn(&["-q", "-pl", "jvm", "test-compile", "exec:java"]);
    jvm.arg("-Dexec.mainClass=jp.mamori.bench.PinningBenchmarkKt")
        .arg("-Dexec.classpathScope=test");
    if !opts.init {
        return run("JVM pinning benchmark (bindings/kotlin/jvm)", &mut jvm);
    }
    jvm.arg("-Dmamori.bench=init");
    run(
        "JVM initialisation benchmark (bindings/kotlin/jvm)",
        &mut jvm,
    )?;
    // The Robolectric one is a JUnit class outside surefire's default name patterns: named
    // here, in the SDK 34 execution only.
    let mut robolectric = mvn(&[
        "-pl",
        "android-test",
        "-am",
        "test-compile",
        "surefire:test@default-test",
        "-Dtest=InitBenchmark",
        "-Dsurefire.failIfNoSpecifiedTests=false",
        "-Dmamori.failIfNoTests=false",
    ]);
    run(
        "Robolectric initialisation benchmark (bindings/kotlin/android-test)",
        &mut robolectric,
    )
}

fn android_task(opts: &AndroidOpts) -> Result {
    let abis: Vec<String> = if opts.abis.is_empty() {
        android::ABIS
            .iter()
            .map(|(abi, _)| (*abi).to_owned())
            .collect()
    } else {
        opts.abis.clone()
    };
    let toolchain = android::check_prerequisites(&android::Host, &abis, !opts.no_gradle).map_err(
        |missing| {
            Failure(format!(
                "cargo xtask android: this machine lacks what the Android build needs:\n  - {}\n\
                 (README, section \"Android\", lists the versions; `--no-gradle` needs only the \
                 first three)",
                missing.join("\n  - ")
            ))
        },
    )?;

    let jni_libs = target_dir().join("android/jniLibs");
    if jni_libs.exists() {
        std::fs::remove_dir_all(&jni_libs)
            .map_err(|e| Failure(format!("cannot clear {}: {e}", jni_libs.display())))?;
    }
    let mut ndk = cargo();
    ndk.env("ANDROID_NDK_HOME", &toolchain.ndk).args([
        "ndk",
        "--platform",
        &android::MIN_SDK.to_string(),
    ]);
    for abi in &abis {
        ndk.args(["-t", abi]);
    }
    // 16 KB pages: the linker flag is set per Android target in .cargo/config.toml. The shared
    // library alone (`rustc --crate-type cdylib`, as `cargo xtask mobile-size` measures it):
    // built together with the package's `lib` and `staticlib`, it is much larger.
    ndk.arg("-o").arg(&jni_libs).args(mobile_size::BUILD_ARGS);
    run(
        "building libmamori_ffi.so for Android (cargo ndk)",
        &mut ndk,
    )?;
    for abi in &abis {
        let library = jni_libs.join(abi).join("libmamori_ffi.so");
        let bytes = std::fs::read(&library)
            .map_err(|e| Failure(format!("cannot read {}: {e}", library.display())))?;
        let align = android::min_load_alignment(&bytes)
            .map_err(|e| Failure(format!("{}: {e}", library.display())))?;
        if align < android::PAGE_SIZE {
            return Err(Failure(format!(
                "{} is aligned to {align} bytes, Play requires {} (16 KB pages)",
                library.display(),
                android::PAGE_SIZE
            )));
        }
        eprintln!(
            "xtask: {abi}: {} bytes, LOAD alignment {align}",
            bytes.len()
        );
    }

    let generated = bindings(BuildOpts { release: false })?;
    if opts.no_gradle {
        eprintln!(
            "xtask: --no-gradle: native libraries in {}, Kotlin bindings in {}",
            jni_libs.display(),
            generated.kotlin.display()
        );
        return Ok(());
    }
    let mut gradle = Command::new("gradle");
    gradle
        .current_dir(repo_root().join("bindings/kotlin/android"))
        .args([
            "--no-daemon",
            "assembleRelease",
            "publishReleasePublicationToMamoriLocalRepository",
        ])
        .arg(format!("-Pmamori.jniLibsDir={}", jni_libs.display()))
        .arg(format!(
            "-Pmamori.uniffiKotlinDir={}",
            generated.kotlin.display()
        ));
    if let Some(sdk) = &toolchain.sdk {
        gradle.env("ANDROID_HOME", sdk);
    }
    run(
        "building the AAR (Gradle, bindings/kotlin/android)",
        &mut gradle,
    )?;
    eprintln!(
        "xtask: AAR published to {}",
        target_dir().join("android/maven").display()
    );
    Ok(())
}

fn mobile_size_task() -> Result {
    run(
        "building the mobile library for the host",
        cargo().args(mobile_size::BUILD_ARGS),
    )?;
    let library = mobile_size::library_path(&target_dir());
    let bytes = std::fs::metadata(&library)
        .map_err(|e| Failure(format!("cannot read {}: {e}", library.display())))?
        .len();
    let line = mobile_size::check(&library, bytes, mobile_size::MAX_BYTES).map_err(Failure)?;
    eprintln!("xtask: mobile-size: {line}");
    Ok(())
}

fn swift_check_task() -> Result {
    let generated = bindings(BuildOpts { release: false })?;
    let root = repo_root();
    // The package's copy of the generated bindings is skipped in favour of the generated
    // directory itself (the same file).
    let copy_dir = root.join("bindings/swift/Sources/MamoriFFI");
    let mut files = Vec::new();
    for dir in [
        root.join("bindings/swift"),
        root.join("ios-example"),
        generated.swift.clone(),
    ] {
        swift_check::collect_swift_files(&dir, &mut files)
            .map_err(|e| Failure(format!("cannot list Swift files in {}: {e}", dir.display())))?;
    }
    files.retain(|f| !f.starts_with(&copy_dir));
    let generated_main = generated.swift.join("MamoriFFI.swift");
    if !files.contains(&generated_main) {
        return Err(Failure(format!(
            "generated Swift bindings missing: {}",
            generated_main.display()
        )));
    }
    files.sort();
    files.dedup();
    let report = swift_check::check_files(&files).map_err(Failure)?;
    for error in &report.errors {
        eprintln!("{error}");
    }
    eprintln!(
        "xtask: swift-check: {} file(s) parsed, {} syntax error(s)",
        report.files,
        report.errors.len()
    );
    if report.files == 0 {
        return Err(Failure("swift-check found no Swift files".into()));
    }
    if !report.errors.is_empty() {
        return Err(Failure(format!(
            "swift-check: {} syntax error(s) in Swift sources",
            report.errors.len()
        )));
    }
    symbol_check(&generated, &files)
}

/// The symbol and label check ([`swift_symbols`]) of every hand-written Swift file against the
/// generated `MamoriFFI.swift`, and the module-name agreement of the generated Swift, the
/// modulemap, the header and `Package.swift`.
fn symbol_check(generated: &Generated, files: &[PathBuf]) -> Result {
    let read = |path: &Path| {
        std::fs::read_to_string(path)
            .map_err(|e| Failure(format!("cannot read {}: {e}", path.display())))
    };
    let names = swift_symbols::ModuleNames {
        swift_module: "MamoriFFI".into(),
        c_module: "MamoriFFIFFI".into(),
        header: "MamoriFFIFFI.h".into(),
    };
    let generated_source = read(
        &generated
            .swift
            .join(format!("{}.swift", names.swift_module)),
    )?;
    let mut problems = Vec::new();
    for package in [
        "bindings/swift/Package.swift",
        "bindings/swift/Package.local.swift",
    ] {
        let path = repo_root().join(package);
        if !path.is_file() {
            continue;
        }
        for problem in swift_symbols::check_module_names(
            &names,
            &generated_source,
            &read(
                &generated
                    .swift
                    .join(format!("{}.modulemap", names.c_module)),
            )?,
            generated.swift.join(&names.header).is_file(),
            &read(&path)?,
        ) {
            problems.push(format!("{package}: {problem}"));
        }
    }
    let mut parser = swift_check::swift_parser().map_err(Failure)?;
    let api = swift_symbols::generated_api(&mut parser, &generated_source).map_err(Failure)?;
    let mut hand_written = Vec::new();
    for file in files {
        if file.starts_with(&generated.swift) || file.ends_with("Package.swift") {
            continue;
        }
        hand_written.push((file.clone(), read(file)?));
    }
    let uses = swift_symbols::check_uses(&mut parser, &api, &hand_written).map_err(Failure)?;
    let errors = uses.errors;
    for problem in &problems {
        eprintln!("{problem}");
    }
    for error in &errors {
        eprintln!("{error}");
    }
    eprintln!(
        "xtask: swift-check: {} hand-written file(s) checked against {} generated types and {} \
         functions: {} use(s) resolved and right, {} symbol error(s), {} module-name problem(s)",
        hand_written.len(),
        api.types.len(),
        api.functions.len(),
        uses.checked,
        errors.len(),
        problems.len()
    );
    if errors.is_empty() && problems.is_empty() {
        Ok(())
    } else {
        Err(Failure(format!(
            "swift-check: {} symbol error(s), {} module-name problem(s)",
            errors.len(),
            problems.len()
        )))
    }
}

fn ios_task(opts: &ios::IosOpts) -> Result {
    opts.validate().map_err(Failure)?;
    let target = target_dir();
    let steps = ios::plan(&repo_root(), &target, &target.join("uniffi/swift"), opts);
    let missing = ios::missing_prerequisites(&ios::this_machine(), opts);
    if opts.dry_run {
        eprintln!("xtask: ios: the plan (after `cargo xtask bindings`):");
        for step in &steps {
            eprintln!("  {step:?}");
        }
        for problem in &missing {
            eprintln!("xtask: ios: missing: {problem}");
        }
        return Ok(());
    }
    if !missing.is_empty() {
        return Err(Failure(format!(
            "cargo xtask ios cannot run on this machine:\n  - {}\n(see bindings/swift/README.md)",
            missing.join("\n  - ")
        )));
    }
    bindings(BuildOpts {
        release: !opts.debug,
    })?;
    for step in steps {
        match step {
            ios::Step::Run {
                what,
                program,
                args,
                env,
            } => {
                let mut command = if program == "cargo" {
                    cargo()
                } else {
                    Command::new(&program)
                };
                command.args(&args).envs(env);
                run(&what, &mut command)?;
            }
            ios::Step::Copy { from, to } => {
                if let Some(parent) = to.parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| Failure(format!("cannot create {}: {e}", parent.display())))?;
                }
                std::fs::copy(&from, &to).map_err(|e| {
                    Failure(format!(
                        "cannot copy {} to {}: {e}",
                        from.display(),
                        to.display()
                    ))
                })?;
            }
            ios::Step::Clean(dir) => {
                if dir.exists() {
                    std::fs::remove_dir_all(&dir)
                        .map_err(|e| Failure(format!("cannot clear {}: {e}", dir.display())))?;
                }
            }
            ios::Step::ReleaseManifest { zip, url, to } => {
                let output = Command::new("swift")
                    .args(["package", "compute-checksum"])
                    .arg(&zip)
                    .output()
                    .map_err(|e| {
                        Failure(format!("cannot run `swift package compute-checksum`: {e}"))
                    })?;
                let checksum = String::from_utf8_lossy(&output.stdout).trim().to_owned();
                if !output.status.success() || !ios::valid_checksum(&checksum) {
                    return Err(Failure(format!(
                        "`swift package compute-checksum {}` gave `{checksum}`",
                        zip.display()
                    )));
                }
                std::fs::write(&to, ios::release_manifest(&url, &checksum))
                    .map_err(|e| Failure(format!("cannot write {}: {e}", to.display())))?;
                eprintln!(
                    "xtask: ios: release package in {} (upload {} to {url})",
                    to.parent().unwrap_or(&to).display(),
                    zip.display()
                );
            }
        }
    }
    eprintln!(
        "xtask: ios: bindings/swift/MamoriFFIFFI.xcframework and the package are ready (`swift build` in bindings/swift)"
    );
    Ok(())
}

/// `cargo fuzz` in `fuzz/` (its own workspace, so its own `fuzz/target`: the sanitizer
/// flags would otherwise rebuild the main target dir), with nightly flags allowed on stable.
fn cargo_fuzz() -> Command {
    let mut command = cargo();
    command
        .current_dir(repo_root().join("fuzz"))
        .arg("fuzz")
        .env("RUSTC_BOOTSTRAP", "1")
        .env_remove("CARGO_TARGET_DIR");
    command
}

/// The targets of fuzz/Cargo.toml, as `cargo fuzz list` reads them.
fn fuzz_targets() -> std::result::Result<Vec<String>, Failure> {
    let out = cargo_fuzz()
        .arg("list")
        .output()
        .map_err(|e| Failure(format!("cannot run `cargo fuzz list`: {e}")))?;
    if !out.status.success() {
        return Err(Failure(format!(
            "`cargo fuzz list` failed (is cargo-fuzz installed? run scripts/install-deps.sh): {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let targets: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    if targets.is_empty() {
        return Err(Failure("`cargo fuzz list` names no target".into()));
    }
    Ok(targets)
}

/// Seeds that are the repository's own examples and test data: `(target, prefix, file)`,
/// copied as `fuzz/corpus/<target>/repo-<name>` (the prefix first: a target's selector
/// byte) at each run, so the corpus never keeps a second copy of a file the repository
/// already holds. `.gitignore` keeps them out of git.
const REPO_FUZZ_SEEDS: &[(&str, &[u8], &str)] = &[
    ("audit_detect", b"", "tests/data/audit/Pinning.kt"),
    ("audit_detect", b"", "tests/data/audit/ats-pinned.plist"),
    ("audit_detect", b"", "examples/pinning/policy.toml"),
    (
        "audit_detect",
        b"",
        "examples/audit/network_security_config.xml",
    ),
    ("device_facts", b"", "examples/device/pixel-clean.json"),
    ("device_facts", b"", "examples/device/pixel-magisk.json"),
    ("device_policy", b"", "examples/device/bank-policy.toml"),
    (
        "storage_settings",
        b"",
        "examples/storage/storage-settings.toml",
    ),
    ("nsc", b"", "examples/audit/network_security_config.xml"),
    ("okhttp", b"", "tests/data/audit/Pinning.kt"),
    ("okhttp", b"", "tests/data/audit/okhttp-pins.txt"),
    ("pin_policy", b"", "tests/data/audit/policy.toml"),
    ("pin_policy", b"", "examples/pinning/policy.toml"),
    ("plist", b"", "tests/data/audit/ats-pinned.plist"),
    ("plist", b"", "tests/data/audit/trustkit.json"),
    ("plist", b"", "tests/data/audit/trustkit-info.plist"),
    // source_eval's first byte: 0 detected, 1 OkHttp code, 2 TrustKit code.
    (
        "source_eval",
        b"\x00",
        "tests/data/audit/source/PinningModule.java",
    ),
    (
        "source_eval",
        b"\x01",
        "tests/data/audit/source/BuildConfigPins.kt",
    ),
    ("source_eval", b"\x01", "tests/data/audit/source/Client.kt"),
    ("source_eval", b"\x01", "tests/data/audit/source/Loops.kt"),
    ("source_eval", b"\x01", "tests/data/audit/source/Union.kt"),
    (
        "source_eval",
        b"\x01",
        "tests/data/audit/source/Unresolved.kt",
    ),
    (
        "source_eval",
        b"\x02",
        "tests/data/audit/source/AppDelegate.m",
    ),
    (
        "source_eval",
        b"\x02",
        "tests/data/audit/source/AppDelegate.swift",
    ),
];

fn repo_fuzz_seeds() -> Result {
    let root = repo_root();
    for (target, prefix, file) in REPO_FUZZ_SEEDS {
        let fail = |what: &str, e: &dyn std::fmt::Display| {
            Failure(format!("fuzz seed {file} for {target}: {what}: {e}"))
        };
        let mut bytes = prefix.to_vec();
        bytes.extend(std::fs::read(root.join(file)).map_err(|e| fail("read", &e))?);
        let dir = root.join("fuzz/corpus").join(target);
        std::fs::create_dir_all(&dir).map_err(|e| fail("create corpus dir", &e))?;
        let name = format!("repo-{}", file.replace('/', "_"));
        std::fs::write(dir.join(name), bytes).map_err(|e| fail("write", &e))?;
    }
    Ok(())
}

/// Seeds that come from `../shared/testdata` (never copied into the repository): written
/// under `fuzz/corpus/<target>/shared-*`, which `.gitignore` keeps out of git.
fn shared_fuzz_seeds() -> Result {
    use base64::Engine as _;
    let shared = repo_root().join("../shared/testdata");
    let corpus = repo_root().join("fuzz/corpus");
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        Failure(format!("fuzz seeds from {}: {what}: {e}", shared.display()))
    };
    let android = corpus.join("attestation_android");
    std::fs::create_dir_all(&android).map_err(|e| fail("create corpus dir", &e))?;
    let chains = shared.join("keyattestation/testdata");
    let mut n = 0;
    for entry in walkdir::WalkDir::new(&chains) {
        let entry = entry.map_err(|e| fail("read keyattestation/testdata", &e))?;
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "pem" || e == "json") {
            let rel = path.strip_prefix(&chains).unwrap_or(path);
            let name = format!("shared-{}", rel.to_string_lossy().replace('/', "_"));
            std::fs::copy(path, android.join(name)).map_err(|e| fail("copy seed", &e))?;
            n += 1;
        }
    }
    let status = shared.join("keyattestation/revocation/status.json");
    std::fs::copy(&status, android.join("shared-revocation-status.json"))
        .map_err(|e| fail("copy revocation list", &e))?;
    let apple = corpus.join("attestation_apple");
    std::fs::create_dir_all(&apple).map_err(|e| fail("create corpus dir", &e))?;
    let vectors_path = shared.join("appattest/vectors.json");
    let text = std::fs::read_to_string(&vectors_path).map_err(|e| fail("read vectors.json", &e))?;
    let vectors: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| fail("parse vectors.json", &e))?;
    // First byte: 0 = attestation object, 1 = assertion (see the target).
    for (list, field, mode) in [
        ("attestations", "attestation_object_b64", 0u8),
        ("assertions", "assertion_b64", 1),
    ] {
        for v in vectors[list].as_array().into_iter().flatten() {
            let (Some(id), Some(b64)) = (v["id"].as_str(), v[field].as_str()) else {
                continue;
            };
            let mut bytes = vec![mode];
            bytes.extend(
                base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map_err(|e| fail(field, &e))?,
            );
            std::fs::write(apple.join(format!("shared-{list}-{id}")), bytes)
                .map_err(|e| fail("write seed", &e))?;
            n += 1;
        }
    }
    eprintln!("xtask: {n} fuzz seeds from {}", shared.display());
    Ok(())
}

/// Seeds written and targets built: what smoke run and campaign share. Returns the targets.
fn fuzz_prepare() -> std::result::Result<Vec<String>, Failure> {
    let targets = fuzz_targets()?;
    repo_fuzz_seeds()?;
    shared_fuzz_seeds()?;
    let t = Instant::now();
    run("build the fuzz targets", cargo_fuzz().arg("build"))?;
    eprintln!("xtask: fuzz build {:.1} s", t.elapsed().as_secs_f64());
    Ok(targets)
}

/// `cargo fuzz run <target> corpus/<target> -- -max_total_time=N -seed=1 -timeout=10`.
fn fuzz_run(target: &str, seconds: u64) -> std::result::Result<Command, Failure> {
    let corpus = format!("corpus/{target}");
    std::fs::create_dir_all(repo_root().join("fuzz").join(&corpus))
        .map_err(|e| Failure(format!("create fuzz/{corpus}: {e}")))?;
    let mut command = cargo_fuzz();
    command.args([
        "run",
        target,
        &corpus,
        "--",
        &format!("-max_total_time={seconds}"),
        // A fixed seed: every run mutates in the same order, so a slower machine runs a
        // prefix of what a faster one runs and CI does not fail on a new random find (the
        // campaign, `fuzz-campaign`, explores with fresh seeds).
        "-seed=1",
        // One input slower than this is a hang: fail on it too.
        "-timeout=10",
    ]);
    Ok(command)
}

fn fuzz_smoke(opts: FuzzOpts) -> Result {
    for target in &fuzz_prepare()? {
        run(
            &format!("fuzz target {target} (crash input in fuzz/artifacts/{target}/)"),
            &mut fuzz_run(target, opts.seconds)?,
        )?;
    }
    Ok(())
}

/// One campaign row, read from libFuzzer's `-print_final_stats=1` lines and its last
/// `#N DONE`/`#N` status line.
#[derive(Debug, Default, PartialEq, Eq)]
struct CampaignRow {
    executions: Option<u64>,
    exec_per_sec: Option<u64>,
    seconds: Option<u64>,
    coverage: Option<u64>,
    crashed: bool,
}

fn campaign_row(log: &str, success: bool) -> CampaignRow {
    let stat = |name: &str| {
        log.lines()
            .filter_map(|l| l.trim().strip_prefix(name)?.trim().parse::<u64>().ok())
            .next_back()
    };
    // `#123456\tDONE   cov: 1892 ft: ...` (or the last `#N ... cov:` line if it stopped early).
    let status = log
        .lines()
        .rfind(|l| l.starts_with('#') && l.contains("cov:"));
    let field = |line: &str, name: &str| {
        let mut words = line.split_whitespace();
        words.find(|w| *w == name)?;
        words.next()?.parse::<u64>().ok()
    };
    CampaignRow {
        executions: stat("stat::number_of_executed_units:")
            .or_else(|| status.and_then(|l| l[1..].split_whitespace().next()?.parse().ok())),
        exec_per_sec: stat("stat::average_exec_per_sec:"),
        seconds: log
            .lines()
            .filter_map(|l| l.strip_prefix("Done ")?.split(" in ").nth(1))
            .filter_map(|t| t.trim().strip_suffix("second(s)")?.trim().parse().ok())
            .next_back(),
        coverage: status.and_then(|l| field(l, "cov:")),
        crashed: !success,
    }
}

/// Where `cargo fuzz build` puts the targets: `fuzz/target/<host triple>/release/`.
fn fuzz_bin_dir() -> std::result::Result<PathBuf, Failure> {
    let out = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
        .arg("-vV")
        .output()
        .map_err(|e| Failure(format!("cannot run `rustc -vV`: {e}")))?;
    let info = String::from_utf8_lossy(&out.stdout);
    let host = info
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .ok_or_else(|| Failure("`rustc -vV` names no host triple".into()))?;
    Ok(repo_root().join("fuzz/target").join(host).join("release"))
}

fn fuzz_campaign(opts: FuzzOpts) -> Result {
    let targets = fuzz_prepare()?;
    let logs = repo_root().join("fuzz/target/campaign");
    std::fs::create_dir_all(&logs)
        .map_err(|e| Failure(format!("create {}: {e}", logs.display())))?;
    let started = Instant::now();
    let mut rows = Vec::new();
    let bin = fuzz_bin_dir()?;
    for target in &targets {
        // The binaries of the one build above, run directly (as `cargo fuzz run` does after
        // its build): a source edit during a long campaign must not rebuild between targets.
        let corpus = format!("corpus/{target}");
        let artifacts = format!("artifacts/{target}/");
        for dir in [&corpus, &artifacts] {
            std::fs::create_dir_all(repo_root().join("fuzz").join(dir))
                .map_err(|e| Failure(format!("create fuzz/{dir}: {e}")))?;
        }
        let mut command = Command::new(bin.join(target));
        command.current_dir(repo_root().join("fuzz")).args([
            &format!("-artifact_prefix={artifacts}"),
            &format!("-max_total_time={}", opts.seconds),
            "-timeout=10",
            "-print_final_stats=1",
            &corpus,
        ]);
        eprintln!("xtask: $ {}", render(&command));
        let out = command
            .output()
            .map_err(|e| Failure(format!("cannot run cargo fuzz for {target}: {e}")))?;
        let log = String::from_utf8_lossy(&out.stderr);
        let path = logs.join(format!("{target}.log"));
        std::fs::write(&path, log.as_bytes())
            .map_err(|e| Failure(format!("write {}: {e}", path.display())))?;
        let row = campaign_row(&log, out.status.success());
        eprintln!("xtask: {target}: {row:?} (log {})", path.display());
        rows.push((target.clone(), row));
    }
    let show = |v: Option<u64>| v.map_or("?".to_owned(), |v| v.to_string());
    println!(
        "{} targets, {} s each, {:.0} s wall time\n",
        rows.len(),
        opts.seconds,
        started.elapsed().as_secs_f64()
    );
    println!("| target | executions | seconds | exec/s | coverage (cov) | crashes |");
    println!("|---|---|---|---|---|---|");
    for (target, row) in &rows {
        println!(
            "| `{target}` | {} | {} | {} | {} | {} |",
            show(row.executions),
            show(row.seconds),
            show(row.exec_per_sec),
            show(row.coverage),
            if row.crashed {
                format!("1 (fuzz/artifacts/{target}/)")
            } else {
                "0".to_owned()
            }
        );
    }
    let crashed: Vec<&str> = rows
        .iter()
        .filter(|(_, row)| row.crashed)
        .map(|(t, _)| t.as_str())
        .collect();
    if crashed.is_empty() {
        Ok(())
    } else {
        Err(Failure(format!(
            "fuzz campaign: crash, leak, ASan report or hang in {} (inputs in fuzz/artifacts/)",
            crashed.join(", ")
        )))
    }
}

fn test_all() -> Result {
    let started = Instant::now();
    let mut timings = Vec::new();
    let mut step = |name: &str, f: &mut dyn FnMut() -> Result| -> Result {
        eprintln!("\n==== xtask test: {name} ====");
        let t = Instant::now();
        f().map_err(|Failure(m)| Failure(format!("step `{name}` failed: {m}")))?;
        timings.push((name.to_owned(), t.elapsed()));
        Ok(())
    };
    step("cargo fmt --all --check", &mut || {
        run(
            "formatting check (fix with `cargo fmt --all`)",
            cargo().args(["fmt", "--all", "--check"]),
        )
    })?;
    step("cargo clippy", &mut || {
        run(
            "clippy",
            cargo().args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]),
        )
    })?;
    step("cargo test --workspace", &mut || {
        run("Rust tests", cargo().args(["test", "--workspace"]))
    })?;
    step("fuzz-smoke", &mut || {
        fuzz_smoke(FuzzOpts {
            seconds: FUZZ_SMOKE_SECONDS,
        })
    })?;
    step("kotlin-test", &mut || {
        kotlin_test(BuildOpts { release: false })
    })?;
    step("swift-check", &mut swift_check_task)?;

    eprintln!("\n==== xtask test: all steps passed ====");
    for (name, elapsed) in &timings {
        eprintln!("  {name:<28} {:>7.1} s", elapsed.as_secs_f64());
    }
    eprintln!(
        "  {:<28} {:>7.1} s",
        "total",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tail of a real libFuzzer run with `-print_final_stats=1` (envelope_header, 61 s).
    const LIBFUZZER_TAIL: &str =
        "#262144\tpulse  cov: 69 ft: 118 corp: 15/210b lim: 4096 exec/s: 4681 rss: 48Mb
#291207\tDONE   cov: 69 ft: 120 corp: 15/212b lim: 4096 exec/s: 4773 rss: 50Mb
Done 291207 runs in 61 second(s)
stat::number_of_executed_units: 291207
stat::average_exec_per_sec:     4773
stat::new_units_added:          0
stat::slowest_unit_time_sec:    0
stat::peak_rss_mb:              50
";

    #[test]
    fn campaign_row_reads_libfuzzer_final_stats() {
        assert_eq!(
            campaign_row(LIBFUZZER_TAIL, true),
            CampaignRow {
                executions: Some(291_207),
                exec_per_sec: Some(4773),
                seconds: Some(61),
                coverage: Some(69),
                crashed: false,
            }
        );
    }

    #[test]
    fn campaign_row_of_a_crash_keeps_the_last_status_line() {
        let log = "#1024\tpulse  cov: 40 ft: 50 corp: 3/9b lim: 4 exec/s: 512 rss: 30Mb
==42== ERROR: libFuzzer: deadly signal
";
        let row = campaign_row(log, false);
        assert_eq!(row.executions, Some(1024));
        assert_eq!(row.coverage, Some(40));
        assert_eq!(row.seconds, None);
        assert!(row.crashed);
    }

    fn android_opts(args: &[&str]) -> std::result::Result<AndroidOpts, clap::Error> {
        let cli = Cli::try_parse_from(["cargo xtask", "android"].iter().chain(args))?;
        match cli.command {
            Task::Android(opts) => Ok(opts),
            _ => unreachable!("parsed another task"),
        }
    }

    #[test]
    fn android_defaults_to_every_abi_and_gradle() {
        assert_eq!(
            android_opts(&[]).unwrap(),
            AndroidOpts {
                abis: vec![],
                no_gradle: false
            }
        );
    }

    #[test]
    fn android_takes_repeated_abis_and_no_gradle() {
        let opts = android_opts(&["--abi", "arm64-v8a", "--abi", "x86_64", "--no-gradle"]).unwrap();
        assert_eq!(opts.abis, ["arm64-v8a", "x86_64"]);
        assert!(opts.no_gradle);
    }

    #[test]
    fn android_rejects_an_unknown_abi_naming_the_valid_ones() {
        let error = android_opts(&["--abi", "mips"]).unwrap_err().to_string();
        assert!(error.contains("unknown ABI `mips`"), "{error}");
        assert!(error.contains("arm64-v8a"), "{error}");
    }
}
