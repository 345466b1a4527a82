import CryptoKit
import Foundation
import MamoriFFI
import XCTest
@testable import Mamori

/// ``PinUpdates`` with documents signed the way a server can sign them without Mamori: CryptoKit's
/// Ed25519 over the exact payload bytes, wrapped in the envelope of `docs/pin-updates.md` §1.
final class PinUpdatesTests: XCTestCase {
    private let primary = Curve25519.Signing.PrivateKey()
    private let backup = Curve25519.Signing.PrivateKey()
    private let now = Date()

    private var stateFile: URL {
        FileManager.default.temporaryDirectory
            .appendingPathComponent("mamori-pin-updates-\(UUID().uuidString).json")
    }

    private func basePolicy(keys: [(String, Curve25519.Signing.PrivateKey)]) throws -> String {
        let list = keys.map { "{ id = \"\($0.0)\", ed25519 = \"\($0.1.publicKey.rawRepresentation.base64EncodedString())\" }" }
        return try ExamplePki.policy(ExamplePki.rule(ExamplePki.host, [ExamplePki.spare, ExamplePki.spare2]))
            + "\n[updates]\nkeys = [\(list.joined(separator: ", "))]\nmax_report_only_hours = 72\n"
    }

    private func envelope(version: Int, keyId: String, key: Curve25519.Signing.PrivateKey, pins: [String]) throws -> Data {
        let iso = ISO8601DateFormatter()
        let payload = """
            {"format": "mamori-pin-update/1", "version": \(version),
             "issued_at": "\(iso.string(from: now.addingTimeInterval(-300)))",
             "not_after": "\(iso.string(from: now.addingTimeInterval(14 * 86_400)))",
             "key_id": "\(keyId)",
             "domain": [{"host": "\(ExamplePki.host)", "pins": [\(pins.map { "\"\($0)\"" }.joined(separator: ", "))]}]}
            """
        let bytes = Data(payload.utf8)
        let signature = try key.signature(for: bytes)
        let json = "{\"key_id\": \"\(keyId)\", \"payload\": \"\(bytes.base64EncodedString())\", \"signature\": \"\(signature.base64EncodedString())\"}"
        return Data(json.utf8)
    }

    func testAppliesRefusesRollbackAndRestores() async throws {
        let base = try basePolicy(keys: [("primary", primary), ("backup", backup)])
        let file = stateFile
        let clock: @Sendable () -> Date = { [now] in now }
        let updates = try PinUpdates(basePolicy: base, stateFile: file, clock: clock)
        XCTAssertEqual(updates.source, PolicySource.base)
        XCTAssertNil(updates.version)

        let v1 = try envelope(version: 1, keyId: "primary", key: primary, pins: [ExamplePki.spare, ExamplePki.spare2])
        let v2 = try envelope(version: 2, keyId: "backup", key: backup, pins: [ExamplePki.spare2, ExamplePki.spare])
        let applied = try await updates.apply(v1)
        XCTAssertEqual(applied, 1)
        XCTAssertEqual(try await updates.apply(v2), 2)
        do {
            try await updates.apply(v1)
            XCTFail("rollback accepted")
        } catch PinUpdateError.Refused(let reason) {
            XCTAssertTrue(reason.contains("version"), reason)
        }
        XCTAssertEqual(updates.version, 2)
        XCTAssertTrue(updates.engine().isPinned(host: ExamplePki.host))

        let restarted = try PinUpdates(basePolicy: base, stateFile: file, clock: clock)
        XCTAssertEqual(restarted.source, PolicySource.update(version: 2))
        XCTAssertNil(restarted.restoreError)
    }

    func testRefusesAKeyTheAppDoesNotEmbed() async throws {
        let rogue = Curve25519.Signing.PrivateKey()
        let updates = try PinUpdates(basePolicy: try basePolicy(keys: [("primary", primary), ("backup", backup)]), stateFile: stateFile)
        let forged = try envelope(version: 1, keyId: "primary", key: rogue, pins: [ExamplePki.spare, ExamplePki.spare2])
        do {
            try await updates.apply(forged)
            XCTFail("forged update accepted")
        } catch PinUpdateError.Refused(let reason) {
            XCTAssertTrue(reason.contains("signature"), reason)
        }
        XCTAssertEqual(updates.source, PolicySource.base)
    }

    func testABasePolicyWithOneKeyIsRefused() throws {
        XCTAssertThrowsError(try PinUpdates(basePolicy: try basePolicy(keys: [("primary", primary)]), stateFile: stateFile)) { error in
            guard case PinUpdateError.InvalidBase = error else {
                return XCTFail("expected InvalidBase, got \(error)")
            }
        }
    }
}
