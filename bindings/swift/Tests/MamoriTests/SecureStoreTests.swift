import CryptoKit
import Foundation
import XCTest
@testable import Mamori
import MamoriFFI

/// A software KEK on CryptoKit AES-GCM (mirrors `JvmAesGcmKek` in the Kotlin tests).
final class SoftwareKek: KeyEncryptionKey, @unchecked Sendable {
    private let key = SymmetricKey(size: .bits256)
    let id = "swift-test:\(UUID().uuidString)"
    var locked = false

    func keyId() -> String { id }
    func securityLevel() -> SecurityLevel { .software }

    func wrap(dek: Data, aad: Data) throws -> Data {
        if locked { throw KekError.Unavailable(reason: "device locked") }
        guard let combined = try AES.GCM.seal(dek, using: key, authenticating: aad).combined else {
            throw KekError.Backend(reason: "seal failed")
        }
        return combined
    }

    func unwrap(wrapped: Data, aad: Data) throws -> Data {
        if locked { throw KekError.Unavailable(reason: "device locked") }
        do {
            return try AES.GCM.open(AES.GCM.SealedBox(combined: wrapped), using: key, authenticating: aad)
        } catch {
            throw KekError.UnwrapFailed(reason: "tag mismatch")
        }
    }

    func deleteKey() throws -> Bool { false }
}

/// Mirrors `SecureStorageTest.kt`.
final class SecureStoreTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func open(_ kek: KeyEncryptionKey, previous: [KeyEncryptionKey] = []) throws -> SecureStorage {
        try SecureStorage(directory: directory, kek: kek, previousKeks: previous, minSecurityLevel: .software)
    }

    func testStoresAndReadsBackThroughASwiftKek() throws {
        let kek = SoftwareKek()
        try open(kek).set("rt-123", for: "refresh_token")
        let storage = try open(kek)
        XCTAssertEqual(try storage.string(for: "refresh_token"), "rt-123")
        XCTAssertEqual(try storage.names(), ["refresh_token"])
        XCTAssertEqual(try storage.kekId(), kek.id)
    }

    func testRotationAndTheOldKeyIsRefused() async throws {
        let old = SoftwareKek()
        let new = SoftwareKek()
        let storage = try open(old)
        try storage.set("v", for: "a")
        let report = try await storage.rotate(to: new)
        XCTAssertEqual(report.rewrapped, 2)
        XCTAssertEqual(try storage.string(for: "a"), "v")
        XCTAssertThrowsError(try open(old)) { error in
            guard case StorageError.KeyInvalidated = error else { return XCTFail("\(error)") }
        }
    }

    func testTypedErrors() throws {
        let kek = SoftwareKek()
        XCTAssertThrowsError(try SecureStorage(directory: directory, kek: kek)) { error in
            guard case StorageError.InsecureKek = error else { return XCTFail("\(error)") }
        }
        let storage = try open(kek)
        XCTAssertThrowsError(try storage.data(for: "missing")) { error in
            guard case StorageError.NotFound(let name) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(name, "missing")
        }
        try storage.set("1234", for: "pin")
        storage.clearKeyCache()
        kek.locked = true
        XCTAssertThrowsError(try storage.data(for: "pin")) { error in
            guard case StorageError.KekUnavailable = error else { return XCTFail("\(error)") }
        }
        kek.locked = false
        try storage.wipe()
        XCTAssertThrowsError(try storage.data(for: "pin")) { error in
            guard case StorageError.Wiped = error else { return XCTFail("\(error)") }
        }
    }

    func testPasscodeBackOff() throws {
        let storage = try open(SoftwareKek())
        var policy = defaultPasscodePolicy()
        policy.iterations = 2000
        policy.minLength = 4
        policy.freeAttempts = 1
        policy.baseDelay = 30
        try storage.setPasscode("2468", policy: policy)
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        XCTAssertEqual(try storage.verifyPasscode("2468", now: t0), .verified)
        _ = try storage.verifyPasscode("0000", now: t0)
        _ = try storage.verifyPasscode("0000", now: t0)
        XCTAssertThrowsError(try storage.verifyPasscode("2468", now: t0.addingTimeInterval(10))) { error in
            guard case StorageError.LockedOut = error else { return XCTFail("\(error)") }
        }
    }
}
