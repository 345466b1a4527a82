//! `cargo xtask ios`: the XCFramework and the Swift package, on a Mac with Xcode.
//!
//! Steps (see [`plan`]): build the `mamori-ffi` static library for every Apple target, `lipo`
//! the simulator slices (arm64 + x86_64) and the macOS slices into one library each, put the
//! one header and the one modulemap (renamed `module.modulemap`) into a headers directory,
//! `xcodebuild -create-xcframework` into `bindings/swift/MamoriFFIFFI.xcframework` (what the
//! local-development `Package.swift` points at), and copy the generated Swift into the
//! package. With `--release-url`, also zip the XCFramework and write a release package
//! directory (`target/ios/release/`) whose `Package.swift` has a
//! `binaryTarget(url:checksum:)`: the contents of the distribution repository that apps add
//! by URL.
//!
//! Nothing of this can run on the Linux build machines: [`missing_prerequisites`] fails early,
//! naming every missing piece (macOS, `xcodebuild`, `lipo`, `swift`, the Rust targets) and the
//! command that fixes it. The argument handling, the prerequisite checks, the plan and the
//! release manifest are unit-tested here.

use std::path::{Path, PathBuf};

/// The Rust targets of the XCFramework.
pub const DEVICE_TARGET: &str = "aarch64-apple-ios";
/// The simulator targets (Apple silicon and Intel Macs), merged with `lipo`.
pub const SIMULATOR_TARGETS: [&str; 2] = ["aarch64-apple-ios-sim", "x86_64-apple-ios"];
/// The macOS targets (for `swift test` on a Mac), merged with `lipo`.
pub const MACOS_TARGETS: [&str; 2] = ["aarch64-apple-darwin", "x86_64-apple-darwin"];

/// Oldest OS versions the package supports (`Package.swift` platforms).
pub const IOS_DEPLOYMENT_TARGET: &str = "15.0";
/// See [`IOS_DEPLOYMENT_TARGET`].
pub const MACOS_DEPLOYMENT_TARGET: &str = "12.0";

/// Options of `cargo xtask ios`.
#[derive(clap::Args, Clone, Debug, Default, PartialEq, Eq)]
pub struct IosOpts {
    /// Build the static libraries with the debug profile (default: release).
    #[arg(long)]
    pub debug: bool,
    /// Also zip the XCFramework and write a release package (target/ios/release/) whose
    /// Package.swift downloads the zip from this URL (an https URL ending in .zip).
    #[arg(long, value_name = "URL")]
    pub release_url: Option<String>,
    /// Print the plan and the prerequisite check, run nothing.
    #[arg(long)]
    pub dry_run: bool,
}

impl IosOpts {
    /// Every Rust target needed.
    pub fn targets(&self) -> Vec<&'static str> {
        let mut all = vec![DEVICE_TARGET];
        all.extend(SIMULATOR_TARGETS);
        all.extend(MACOS_TARGETS);
        all
    }

    fn profile(&self) -> &'static str {
        if self.debug { "debug" } else { "release" }
    }

    /// Checks the options themselves (before any tool is looked for).
    pub fn validate(&self) -> Result<(), String> {
        if let Some(url) = &self.release_url
            && (!url.starts_with("https://") || !url.ends_with(".zip"))
        {
            return Err(format!(
                "--release-url must be an https URL of the zipped XCFramework (…/MamoriFFIFFI.xcframework.zip), got `{url}`"
            ));
        }
        Ok(())
    }
}

/// What the machine has, as far as `cargo xtask ios` cares.
#[derive(Debug, Clone, Default)]
pub struct Machine {
    /// `std::env::consts::OS` (`macos`, `linux`, ...).
    pub os: String,
    /// Tools found on `PATH` (`xcodebuild`, `lipo`, `swift`, `rustup`).
    pub tools: Vec<String>,
    /// `rustup target list --installed`.
    pub installed_targets: Vec<String>,
}

/// Every missing prerequisite, each with what fixes it; empty when the task can run.
pub fn missing_prerequisites(machine: &Machine, opts: &IosOpts) -> Vec<String> {
    let mut missing = Vec::new();
    if machine.os != "macos" {
        missing.push(format!(
            "this is {}: building the XCFramework needs macOS with Xcode 16 or newer \
             (xcodebuild, lipo and the iOS SDKs exist only there)",
            machine.os
        ));
    }
    let has = |tool: &str| machine.tools.iter().any(|t| t == tool);
    for (tool, fix) in [
        (
            "xcodebuild",
            "install Xcode 16+ and run `sudo xcode-select -s /Applications/Xcode.app`",
        ),
        (
            "lipo",
            "install the Xcode command line tools (`xcode-select --install`)",
        ),
        (
            "swift",
            "install Xcode 16+ (it brings the Swift 6 compiler)",
        ),
        ("rustup", "install rustup (https://rustup.rs)"),
    ] {
        if !has(tool) {
            missing.push(format!("`{tool}` not found on PATH: {fix}"));
        }
    }
    if has("rustup") {
        let absent: Vec<&str> = opts
            .targets()
            .into_iter()
            .filter(|t| !machine.installed_targets.iter().any(|i| i == t))
            .collect();
        if !absent.is_empty() {
            missing.push(format!(
                "Rust targets not installed: {} (run `rustup target add {}`)",
                absent.join(", "),
                absent.join(" ")
            ));
        }
    }
    missing
}

/// Looks at this machine.
pub fn this_machine() -> Machine {
    let on_path = |tool: &str| {
        std::env::var_os("PATH")
            .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()))
    };
    let tools = ["xcodebuild", "lipo", "swift", "rustup"]
        .into_iter()
        .filter(|t| on_path(t))
        .map(str::to_owned)
        .collect();
    let installed_targets = std::process::Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(|l| l.trim().to_owned())
                .collect()
        })
        .unwrap_or_default();
    Machine {
        os: std::env::consts::OS.to_owned(),
        tools,
        installed_targets,
    }
}

/// One step of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Run a program (with extra environment variables).
    Run {
        /// What it does, for messages.
        what: String,
        /// The program.
        program: String,
        /// Its arguments.
        args: Vec<String>,
        /// Extra environment.
        env: Vec<(String, String)>,
    },
    /// Copy a file (creating the parent directory).
    Copy {
        /// From.
        from: PathBuf,
        /// To.
        to: PathBuf,
    },
    /// Remove a directory if it exists (stale output).
    Clean(PathBuf),
    /// Write the release `Package.swift` for the zip at the URL, with the checksum of `zip`
    /// (computed by `swift package compute-checksum` when the step runs).
    ReleaseManifest {
        /// The zipped XCFramework.
        zip: PathBuf,
        /// Its download URL.
        url: String,
        /// Where the manifest goes.
        to: PathBuf,
    },
}

fn run(what: &str, program: &str, args: Vec<String>, env: Vec<(String, String)>) -> Step {
    Step::Run {
        what: what.to_owned(),
        program: program.to_owned(),
        args,
        env,
    }
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

/// The steps, in order. `root` is the repository, `target` the Cargo target directory,
/// `generated` where `cargo xtask bindings` wrote the Swift, header and modulemap.
pub fn plan(root: &Path, target: &Path, generated: &Path, opts: &IosOpts) -> Vec<Step> {
    let profile = opts.profile();
    let library = |t: &str| target.join(t).join(profile).join("libmamori_ffi.a");
    let out = target.join("ios");
    let headers = out.join("headers");
    let package = root.join("bindings/swift");
    let xcframework = package.join("MamoriFFIFFI.xcframework");
    let mut steps = Vec::new();
    for t in opts.targets() {
        let mut args = vec![
            "build".to_owned(),
            "-p".into(),
            "mamori-ffi".into(),
            "--lib".into(),
            "--features".into(),
            "wipe-freed-memory".into(),
        ];
        args.extend(["--target".into(), t.to_owned()]);
        if !opts.debug {
            args.push("--release".into());
        }
        let env = if t.ends_with("-darwin") {
            vec![(
                "MACOSX_DEPLOYMENT_TARGET".to_owned(),
                MACOS_DEPLOYMENT_TARGET.to_owned(),
            )]
        } else {
            vec![(
                "IPHONEOS_DEPLOYMENT_TARGET".to_owned(),
                IOS_DEPLOYMENT_TARGET.to_owned(),
            )]
        };
        steps.push(run(
            &format!("building the static library for {t}"),
            "cargo",
            args,
            env,
        ));
    }
    let fat = |name: &str, targets: &[&str]| {
        let output = out.join(name).join("libmamori_ffi.a");
        let mut args = vec!["-create".to_owned()];
        args.extend(targets.iter().map(|t| path(&library(t))));
        args.extend(["-output".to_owned(), path(&output)]);
        (output, args)
    };
    let (simulator, lipo_sim) = fat("ios-simulator", &SIMULATOR_TARGETS);
    let (macos, lipo_macos) = fat("macos", &MACOS_TARGETS);
    steps.push(Step::Clean(out.clone()));
    for dir in ["ios-simulator", "macos"] {
        steps.push(run(
            &format!("creating {}", path(&out.join(dir))),
            "mkdir",
            vec!["-p".into(), path(&out.join(dir))],
            vec![],
        ));
    }
    steps.push(run(
        "merging the simulator slices",
        "lipo",
        lipo_sim,
        vec![],
    ));
    steps.push(run("merging the macOS slices", "lipo", lipo_macos, vec![]));
    steps.push(Step::Copy {
        from: generated.join("MamoriFFIFFI.h"),
        to: headers.join("MamoriFFIFFI.h"),
    });
    // Inside an XCFramework the modulemap must be named module.modulemap.
    steps.push(Step::Copy {
        from: generated.join("MamoriFFIFFI.modulemap"),
        to: headers.join("module.modulemap"),
    });
    steps.push(Step::Clean(xcframework.clone()));
    let mut args = vec!["-create-xcframework".to_owned()];
    for lib in [library(DEVICE_TARGET), simulator, macos] {
        args.extend([
            "-library".to_owned(),
            path(&lib),
            "-headers".to_owned(),
            path(&headers),
        ]);
    }
    args.extend(["-output".to_owned(), path(&xcframework)]);
    steps.push(run("creating the XCFramework", "xcodebuild", args, vec![]));
    steps.push(Step::Copy {
        from: generated.join("MamoriFFI.swift"),
        to: package.join("Sources/MamoriFFI/MamoriFFI.swift"),
    });
    if let Some(url) = &opts.release_url {
        let release = out.join("release");
        let zip = out.join("MamoriFFIFFI.xcframework.zip");
        steps.push(run(
            "zipping the XCFramework",
            "ditto",
            vec![
                "-c".into(),
                "-k".into(),
                "--sequesterRsrc".into(),
                "--keepParent".into(),
                path(&xcframework),
                path(&zip),
            ],
            vec![],
        ));
        let swift = "Sources/MamoriFFI/MamoriFFI.swift";
        steps.push(Step::Copy {
            from: package.join(swift),
            to: release.join(swift),
        });
        steps.push(run(
            "copying the facade into the release package",
            "cp",
            vec![
                "-R".into(),
                path(&package.join("Sources/Mamori")),
                path(&release.join("Sources/")),
            ],
            vec![],
        ));
        steps.push(Step::ReleaseManifest {
            zip,
            url: url.clone(),
            to: release.join("Package.swift"),
        });
    }
    steps
}

/// The release `Package.swift`: the facade and the generated Swift as source targets, the
/// XCFramework as a downloaded binary target.
pub fn release_manifest(url: &str, checksum: &str) -> String {
    format!(
        r#"// swift-tools-version:5.9
// Mamori for iOS and macOS: the release package, written by `cargo xtask ios --release-url`.
// Push this directory to the distribution repository and tag it; apps add that repository by URL.
import PackageDescription

let package = Package(
    name: "Mamori",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "Mamori", targets: ["Mamori"]),
    ],
    targets: [
        .binaryTarget(
            name: "MamoriFFIFFI",
            url: "{url}",
            checksum: "{checksum}"
        ),
        .target(name: "MamoriFFI", dependencies: ["MamoriFFIFFI"], path: "Sources/MamoriFFI"),
        .target(name: "Mamori", dependencies: ["MamoriFFI"], path: "Sources/Mamori"),
    ]
)
"#
    )
}

/// A SwiftPM checksum is the SHA-256 of the zip, 64 lowercase hex digits.
pub fn valid_checksum(checksum: &str) -> bool {
    checksum.len() == 64
        && checksum
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        opts: IosOpts,
    }

    fn parse(args: &[&str]) -> Result<IosOpts, String> {
        Cli::try_parse_from(std::iter::once("ios").chain(args.iter().copied()))
            .map(|c| c.opts)
            .map_err(|e| e.to_string())
    }

    fn mac() -> Machine {
        Machine {
            os: "macos".into(),
            tools: ["xcodebuild", "lipo", "swift", "rustup"]
                .map(String::from)
                .to_vec(),
            installed_targets: IosOpts::default()
                .targets()
                .into_iter()
                .map(String::from)
                .collect(),
        }
    }

    #[test]
    fn arguments_parse_and_are_validated() {
        assert_eq!(parse(&[]).unwrap(), IosOpts::default());
        let opts = parse(&["--debug", "--dry-run"]).unwrap();
        assert!(opts.debug && opts.dry_run && opts.release_url.is_none());
        let url = "https://github.com/example/mamori-swift/releases/download/0.1.0/MamoriFFIFFI.xcframework.zip";
        let opts = parse(&["--release-url", url]).unwrap();
        assert_eq!(opts.release_url.as_deref(), Some(url));
        assert_eq!(opts.validate(), Ok(()));
        assert!(
            parse(&["--release-url"]).is_err(),
            "the URL is required after the flag"
        );
        assert!(
            parse(&["--target", "x"]).is_err(),
            "unknown flags are refused"
        );
        for bad in ["http://example.com/a.zip", "https://example.com/a.tar.gz"] {
            let opts = parse(&["--release-url", bad]).unwrap();
            let err = opts.validate().unwrap_err();
            assert!(err.contains("--release-url"), "{err}");
        }
    }

    #[test]
    fn a_mac_with_xcode_and_the_targets_has_everything() {
        assert_eq!(
            missing_prerequisites(&mac(), &IosOpts::default()),
            Vec::<String>::new()
        );
    }

    #[test]
    fn linux_without_xcode_fails_early_naming_every_missing_piece() {
        let linux = Machine {
            os: "linux".into(),
            tools: vec!["rustup".into()],
            installed_targets: vec!["x86_64-unknown-linux-gnu".into()],
        };
        let missing = missing_prerequisites(&linux, &IosOpts::default());
        assert_eq!(missing.len(), 5, "{missing:#?}");
        assert!(missing[0].contains("this is linux") && missing[0].contains("Xcode 16"));
        assert!(
            missing
                .iter()
                .any(|m| m.starts_with("`xcodebuild` not found"))
        );
        assert!(missing.iter().any(|m| m.starts_with("`lipo` not found")));
        assert!(missing.iter().any(|m| m.starts_with("`swift` not found")));
        let targets = missing
            .iter()
            .find(|m| m.starts_with("Rust targets"))
            .unwrap();
        assert!(targets.contains(
            "rustup target add aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios aarch64-apple-darwin x86_64-apple-darwin"
        ), "{targets}");
    }

    #[test]
    fn one_missing_target_is_named_alone() {
        let mut machine = mac();
        machine
            .installed_targets
            .retain(|t| t != "x86_64-apple-ios");
        let missing = missing_prerequisites(&machine, &IosOpts::default());
        assert_eq!(missing, vec!["Rust targets not installed: x86_64-apple-ios (run `rustup target add x86_64-apple-ios`)".to_owned()]);
    }

    fn commands(steps: &[Step]) -> Vec<(String, Vec<String>)> {
        steps
            .iter()
            .filter_map(|s| match s {
                Step::Run { program, args, .. } => Some((program.clone(), args.clone())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_plan_builds_five_slices_merges_three_libraries_and_one_header() {
        let root = Path::new("/repo");
        let steps = plan(
            root,
            Path::new("/repo/target"),
            Path::new("/repo/target/uniffi/swift"),
            &IosOpts::default(),
        );
        let all = commands(&steps);
        let builds: Vec<_> = all.iter().filter(|(p, _)| p == "cargo").collect();
        assert_eq!(builds.len(), 5);
        assert!(
            builds.iter().all(
                |(_, a)| a.contains(&"--release".to_owned()) && a.contains(&"--lib".to_owned())
            )
        );
        let lipos: Vec<_> = all.iter().filter(|(p, _)| p == "lipo").collect();
        assert_eq!(lipos.len(), 2);
        assert!(
            lipos[0]
                .1
                .contains(&"/repo/target/aarch64-apple-ios-sim/release/libmamori_ffi.a".to_owned())
        );
        assert!(
            lipos[0]
                .1
                .contains(&"/repo/target/x86_64-apple-ios/release/libmamori_ffi.a".to_owned())
        );
        let (_, xcodebuild) = all.iter().find(|(p, _)| p == "xcodebuild").unwrap();
        assert_eq!(xcodebuild.iter().filter(|a| *a == "-library").count(), 3);
        assert_eq!(
            xcodebuild
                .iter()
                .filter(|a| *a == "/repo/target/ios/headers")
                .count(),
            3
        );
        assert_eq!(
            xcodebuild.last().unwrap(),
            "/repo/bindings/swift/MamoriFFIFFI.xcframework"
        );
        assert!(steps.contains(&Step::Copy {
            from: PathBuf::from("/repo/target/uniffi/swift/MamoriFFIFFI.modulemap"),
            to: PathBuf::from("/repo/target/ios/headers/module.modulemap"),
        }));
        assert!(steps.contains(&Step::Copy {
            from: PathBuf::from("/repo/target/uniffi/swift/MamoriFFI.swift"),
            to: PathBuf::from("/repo/bindings/swift/Sources/MamoriFFI/MamoriFFI.swift"),
        }));
        assert!(
            !steps
                .iter()
                .any(|s| matches!(s, Step::ReleaseManifest { .. }))
        );
        // Debug builds drop --release and read target/<t>/debug.
        let debug = plan(
            root,
            Path::new("/repo/target"),
            Path::new("/g"),
            &IosOpts {
                debug: true,
                ..IosOpts::default()
            },
        );
        let debug = commands(&debug);
        assert!(
            debug
                .iter()
                .filter(|(p, _)| p == "cargo")
                .all(|(_, a)| !a.contains(&"--release".to_owned()))
        );
        assert!(
            debug
                .iter()
                .any(|(p, a)| p == "lipo" && a.iter().any(|x| x.contains("/debug/")))
        );
    }

    #[test]
    fn a_release_plan_zips_and_writes_a_url_manifest() {
        let opts = IosOpts {
            release_url: Some("https://h/MamoriFFIFFI.xcframework.zip".into()),
            ..IosOpts::default()
        };
        let steps = plan(Path::new("/repo"), Path::new("/t"), Path::new("/g"), &opts);
        assert!(commands(&steps).iter().any(
            |(p, a)| p == "ditto" && a.last().unwrap() == "/t/ios/MamoriFFIFFI.xcframework.zip"
        ));
        assert!(
            matches!(steps.last(), Some(Step::ReleaseManifest { url, .. }) if url == "https://h/MamoriFFIFFI.xcframework.zip")
        );
    }

    #[test]
    fn the_release_manifest_names_the_modules_the_generated_swift_imports() {
        let checksum = "a".repeat(64);
        assert!(valid_checksum(&checksum));
        assert!(!valid_checksum("ABC"));
        let manifest = release_manifest("https://h/x.zip", &checksum);
        assert!(manifest.contains(".binaryTarget(\n            name: \"MamoriFFIFFI\",\n            url: \"https://h/x.zip\""));
        let names = crate::swift_symbols::ModuleNames {
            swift_module: "MamoriFFI".into(),
            c_module: "MamoriFFIFFI".into(),
            header: "MamoriFFIFFI.h".into(),
        };
        let generated = "#if canImport(MamoriFFIFFI)\nimport MamoriFFIFFI\n#endif\n";
        let modulemap = "module MamoriFFIFFI {\n    header \"MamoriFFIFFI.h\"\n}\n";
        assert_eq!(
            crate::swift_symbols::check_module_names(&names, generated, modulemap, true, &manifest),
            Vec::<String>::new()
        );
        // And it is Swift the grammar accepts.
        let mut parser = crate::swift_check::swift_parser().unwrap();
        assert_eq!(
            crate::swift_check::check_source(&mut parser, Path::new("Package.swift"), &manifest),
            vec![]
        );
    }
}
