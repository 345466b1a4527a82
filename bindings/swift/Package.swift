// swift-tools-version:5.9
//
// Mamori for iOS / macOS: the LOCAL-DEVELOPMENT package (a checkout, after `cargo xtask ios`).
//
// Three targets, the usual uniffi layout:
//   MamoriFFIFFI  the Rust static library + the one C header + the one modulemap, as the
//                 XCFramework that `cargo xtask ios` builds on a Mac (Xcode 16+) into
//                 bindings/swift/MamoriFFIFFI.xcframework (git-ignored build output).
//   MamoriFFI     the generated Swift of the one uniffi component, mamori-ffi (MamoriFFI.swift,
//                 copied to Sources/MamoriFFI/ by `cargo xtask bindings` / `cargo xtask ios`;
//                 build output, not committed). One component: one Swift file, one header
//                 (MamoriFFIFFI.h), one modulemap, no duplicate `RustBuffer`.
//   Mamori        the hand-written facade (MamoriPinningValidator, SecureEnclaveKek, ...).
//
// Apps do not add this directory by URL (SwiftPM needs Package.swift at a repository's root,
// and the generated sources and the XCFramework are not committed): `cargo xtask ios
// --release-url <zip URL>` writes a release package whose Package.swift downloads the zipped
// XCFramework with `binaryTarget(url:checksum:)`; that directory is pushed to the distribution
// repository, which apps add by URL. See README.md.
//
// No Swift toolchain exists on the Linux build machines: there, `cargo xtask swift-check`
// parses every file of this package (and the generated bindings) with tree-sitter-swift and
// checks the facade's and the tests' uses of the generated API (names, argument labels), and
// that the module names here, in the modulemap and in the generated Swift agree.
import PackageDescription

let package = Package(
    name: "Mamori",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "Mamori", targets: ["Mamori"]),
    ],
    targets: [
        .binaryTarget(name: "MamoriFFIFFI", path: "MamoriFFIFFI.xcframework"),
        .target(name: "MamoriFFI", dependencies: ["MamoriFFIFFI"], path: "Sources/MamoriFFI"),
        .target(name: "Mamori", dependencies: ["MamoriFFI"], path: "Sources/Mamori"),
        .testTarget(name: "MamoriTests", dependencies: ["Mamori", "MamoriFFI"], path: "Tests/MamoriTests"),
    ]
)
