// swift-tools-version:5.9
//
// Mamori for iOS / macOS: a thin Swift facade over the uniffi-generated bindings.
//
// Three targets, the usual uniffi layout:
//   MamoriFFIFFI  the Rust static library + C header + modulemap, as an xcframework built on a Mac
//                 (cargo build for aarch64-apple-ios, aarch64-apple-ios-sim, aarch64-apple-darwin,
//                 then `xcodebuild -create-xcframework` with the header and modulemap that
//                 `cargo xtask bindings` writes to target/uniffi/swift/).
//   MamoriFFI     the generated Swift of the one uniffi component, mamori-ffi (MamoriFFI.swift,
//                 copied to Sources/MamoriFFI/ by `cargo xtask bindings`; build output, not
//                 committed). One component means one Swift file, one header (MamoriFFIFFI.h)
//                 and one modulemap: nothing to merge, no duplicate `RustBuffer`.
//   Mamori        the hand-written facade (PinningDelegate, ...).
//
// No Swift toolchain exists on the Linux build machines: there, `cargo xtask swift-check`
// parses every file of this package (and the generated bindings) with tree-sitter-swift.
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
        .testTarget(name: "MamoriTests", dependencies: ["Mamori"], path: "Tests/MamoriTests"),
    ]
)
