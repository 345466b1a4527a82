// swift-tools-version:5.9
//
// The non-UI logic of the Mamori iOS example (ExampleCore) and its XCTest target, as a package
// that depends on the local Mamori package (../bindings/swift, after `cargo xtask ios`). The
// SwiftUI app in App/ uses ExampleCore; project.yml generates its Xcode project (XcodeGen).
import PackageDescription

let package = Package(
    name: "MamoriExample",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "ExampleCore", targets: ["ExampleCore"]),
    ],
    dependencies: [
        .package(name: "Mamori", path: "../bindings/swift"),
    ],
    targets: [
        .target(name: "ExampleCore", dependencies: [.product(name: "Mamori", package: "Mamori")]),
        .testTarget(name: "ExampleCoreTests", dependencies: ["ExampleCore"]),
    ]
)
