import Foundation
import XCTest
@testable import Mamori

/// Mirrors `VersionTest.kt`: proves the FFI round trip Swift -> Rust -> Swift by comparing the
/// native version with the version in the repository's Cargo.toml.
final class VersionTests: XCTestCase {
    func testNativeVersionEqualsTheCargoVersion() throws {
        XCTAssertEqual(Mamori.nativeVersion, try cargoVersion())
    }

    /// bindings/Cargo.toml says `version.workspace = true`; the number is in the root Cargo.toml.
    private func cargoVersion() throws -> String {
        // This file is bindings/swift/Tests/MamoriTests/VersionTests.swift.
        let root = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // MamoriTests
            .deletingLastPathComponent()  // Tests
            .deletingLastPathComponent()  // swift
            .deletingLastPathComponent()  // bindings
            .deletingLastPathComponent()  // repository root
        let manifest = try String(contentsOf: root.appendingPathComponent("Cargo.toml"), encoding: .utf8)
        guard let section = manifest.components(separatedBy: "[workspace.package]").dropFirst().first else {
            XCTFail("no [workspace.package] in Cargo.toml")
            return ""
        }
        for line in section.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("[") { break }
            if trimmed.hasPrefix("version") {
                let parts = trimmed.split(separator: "\"")
                if parts.count >= 2 { return String(parts[1]) }
            }
        }
        XCTFail("no version in [workspace.package] of Cargo.toml")
        return ""
    }
}
