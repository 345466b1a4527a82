import CryptoKit
import Foundation
import LocalAuthentication
import Security
import XCTest
@testable import Mamori
import MamoriFFI

/// Counts calls into a KEK and can simulate a locked keychain or a KEK bug; Swift-side, like a
/// platform KEK (mirrors `CountingKek` in `SecureStorageTest.kt`).
final class CountingKek: KeyEncryptionKey, @unchecked Sendable {
    private let inner: KeyEncryptionKey
    private let lock = NSLock()
    private var count = 0
    private var isLocked = false
    private var isCrashing = false

    init(_ inner: KeyEncryptionKey) { self.inner = inner }

    var calls: Int { lock.lock(); defer { lock.unlock() }; return count }
    var locked: Bool {
        get { lock.lock(); defer { lock.unlock() }; return isLocked }
        set { lock.lock(); isLocked = newValue; lock.unlock() }
    }
    var crash: Bool {
        get { lock.lock(); defer { lock.unlock() }; return isCrashing }
        set { lock.lock(); isCrashing = newValue; lock.unlock() }
    }

    func keyId() -> String { inner.keyId() }
    func securityLevel() -> SecurityLevel { inner.securityLevel() }
    func deleteKey() throws -> Bool { try inner.deleteKey() }

    func wrap(dek: Data, aad: Data) throws -> Data {
        try check()
        return try inner.wrap(dek: dek, aad: aad)
    }

    func unwrap(wrapped: Data, aad: Data) throws -> Data {
        try check()
        return try inner.unwrap(wrapped: wrapped, aad: aad)
    }

    private func check() throws {
        lock.lock()
        count += 1
        let (crashing, lockedNow) = (isCrashing, isLocked)
        lock.unlock()
        if crashing { throw CocoaError(.featureUnsupported) }
        if lockedNow { throw KekError.Unavailable(reason: "device locked") }
    }
}

/// A platform key whose authentication window can close (mirrors `WindowKek` in
/// `SecureStorageTest.kt`).
final class WindowKek: KeyEncryptionKey, KeyCacheLimit, @unchecked Sendable {
    let counting: CountingKek
    private let lock = NSLock()
    private var isUsable = true

    init(_ counting: CountingKek) { self.counting = counting }

    var usable: Bool {
        get { lock.lock(); defer { lock.unlock() }; return isUsable }
        set { lock.lock(); isUsable = newValue; lock.unlock() }
    }
    var keyCacheLimit: TimeInterval { .infinity }
    var keyCacheUsable: Bool { usable }

    func keyId() -> String { counting.keyId() }
    func securityLevel() -> SecurityLevel { counting.securityLevel() }
    func deleteKey() throws -> Bool { try counting.deleteKey() }
    func wrap(dek: Data, aad: Data) throws -> Data { try counting.wrap(dek: dek, aad: aad) }
    func unwrap(wrapped: Data, aad: Data) throws -> Data { try counting.unwrap(wrapped: wrapped, aad: aad) }
}

/// A new KEK whose every `wrap` first writes an item of the store under a fresh data key of the
/// old one (mirrors the churning KEK of `SecureStorageTest.kt`).
final class ChurningKek: KeyEncryptionKey, @unchecked Sendable {
    private let inner: KeyEncryptionKey
    private weak var storage: SecureStorage?

    init(_ inner: KeyEncryptionKey, storage: SecureStorage) {
        self.inner = inner
        self.storage = storage
    }

    func keyId() -> String { inner.keyId() }
    func securityLevel() -> SecurityLevel { inner.securityLevel() }
    func deleteKey() throws -> Bool { try inner.deleteKey() }

    func wrap(dek: Data, aad: Data) throws -> Data {
        try storage?.set("written inside a KEK call", for: "from-kek")
        return try inner.wrap(dek: dek, aad: aad)
    }

    func unwrap(wrapped: Data, aad: Data) throws -> Data {
        try inner.unwrap(wrapped: wrapped, aad: aad)
    }
}

/// Mirrors `SecureStorageTest.kt`, with ``SoftwareKek`` (the Simulator's KEK) for `JvmAesGcmKek`.
final class SecureStoreTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private var vault: URL { directory.appendingPathComponent("vault") }

    private func open(_ kek: KeyEncryptionKey, previous: [KeyEncryptionKey] = [], keyCache: TimeInterval = 600) throws -> SecureStorage {
        try SecureStorage(directory: vault, kek: kek, previousKeks: previous, minSecurityLevel: .software, keyCache: keyCache)
    }

    func testStoresAndReadsBackThroughASwiftKekAcrossReopen() throws {
        let kek = SoftwareKek.ephemeral()
        let big = Data((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0) })
        do {
            let storage = try open(kek)
            try storage.set("rt-123", for: "refresh_token")
            try storage.set(Data(), for: "empty")
            try storage.set(big, for: "big")
            XCTAssertEqual(try storage.string(for: "refresh_token"), "rt-123")
            XCTAssertEqual(try storage.names(), ["big", "empty", "refresh_token"])
            XCTAssertEqual(try storage.kekId(), kek.keyId())
            XCTAssertEqual(try storage.securityLevel(), .software)
        }
        let storage = try open(kek)
        XCTAssertEqual(try storage.string(for: "refresh_token"), "rt-123")
        XCTAssertEqual(try storage.data(for: "big"), big)
        XCTAssertEqual(try storage.data(for: "empty").count, 0)
        XCTAssertTrue(try storage.contains("empty"))
        XCTAssertTrue(try storage.delete("empty"))
        XCTAssertNil(try storage.dataIfPresent(for: "empty"))
    }

    func testRotationRewrapsUnderTheNewKeyAndTheOldKeyIsRefused() async throws {
        let old = SoftwareKek.ephemeral()
        let new = SoftwareKek.ephemeral()
        let storage = try open(old)
        for i in 0..<10 {
            try storage.set("value\(i)", for: "item\(i)")
        }
        let report = try await storage.rotate(to: new)
        XCTAssertEqual(report.rewrapped, 11, "10 items and the canary")
        XCTAssertEqual(try storage.kekId(), new.keyId())
        XCTAssertEqual(try storage.string(for: "item3"), "value3")
        XCTAssertThrowsError(try open(old)) { error in
            guard case let StorageError.KeyInvalidated(_, reason) = error,
                  case let .differentKeyId(expected, offered) = reason
            else { return XCTFail("\(error)") }
            XCTAssertEqual(expected, new.keyId())
            XCTAssertEqual(offered, old.keyId())
        }
        XCTAssertEqual(try open(new).string(for: "item9"), "value9")
    }

    func testARotationThatNeverSettlesIsRotationContendedAndChangesNothing() async throws {
        let old = SoftwareKek.ephemeral()
        let storage = try open(old, keyCache: 0)
        try storage.set("value", for: "item")
        // Every wrap of the new key first writes an item under a fresh data key of the old one
        // (per-use keys): each rotation round finds a data key it has not re-wrapped.
        let churning = ChurningKek(SoftwareKek.ephemeral(), storage: storage)
        do {
            try await storage.rotate(to: churning)
            XCTFail("a rotation under constant writes settled")
        } catch let StorageError.RotationContended(attempts) {
            XCTAssertGreaterThanOrEqual(attempts, 2)
        }
        XCTAssertEqual(try storage.kekId(), old.keyId())
        XCTAssertEqual(try storage.string(for: "item"), "value")
    }

    func testOpeningWithANewKeyAndTheOldOneAsPreviousRotates() throws {
        let old = SoftwareKek.ephemeral()
        let new = SoftwareKek.ephemeral()
        try open(old).set("1", for: "a")
        let storage = try open(new, previous: [old])
        XCTAssertEqual(try storage.kekId(), new.keyId())
        XCTAssertEqual(try storage.string(for: "a"), "1")
    }

    func testTypedErrorsReachSwift() throws {
        let kek = CountingKek(SoftwareKek.ephemeral())
        // The default policy requires a TEE: a software key is refused.
        XCTAssertThrowsError(try SecureStorage(directory: directory.appendingPathComponent("strict"), kek: kek)) { error in
            guard case let StorageError.InsecureKek(_, offered, required) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(offered, .software)
            XCTAssertEqual(required, .tee)
        }
        let storage = try open(kek)
        XCTAssertThrowsError(try storage.data(for: "missing")) { error in
            guard case let StorageError.NotFound(name) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(name, "missing")
        }
        XCTAssertThrowsError(try storage.set("x", for: "")) { error in
            guard case StorageError.InvalidInput = error else { return XCTFail("\(error)") }
        }

        // A bit flip in the item file: corruption of that item only.
        try storage.set("1234", for: "pin")
        let items = vault.appendingPathComponent("items")
        let file = try XCTUnwrap(FileManager.default.contentsOfDirectory(at: items, includingPropertiesForKeys: nil).first)
        var bytes = try Data(contentsOf: file)
        bytes[bytes.count - 1] ^= 1
        try bytes.write(to: file)
        XCTAssertThrowsError(try storage.data(for: "pin")) { error in
            guard case let StorageError.Corrupted(what, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(what, "pin")
        }

        // The Swift KEK throws KekError.Unavailable: a typed, retryable failure.
        try storage.set("1234", for: "pin")
        storage.clearKeyCache()
        kek.locked = true
        XCTAssertThrowsError(try storage.data(for: "pin")) { error in
            guard case let StorageError.KekUnavailable(reason) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(reason, "device locked")
        }
        kek.locked = false
        XCTAssertEqual(try storage.string(for: "pin"), "1234")

        // Any other error thrown by the KEK is a failure, never a crash or a silent success.
        storage.clearKeyCache()
        kek.crash = true
        XCTAssertThrowsError(try storage.data(for: "pin")) { error in
            guard case StorageError.KekFailure = error else { return XCTFail("\(error)") }
        }
        kek.crash = false

        try storage.wipe()
        XCTAssertThrowsError(try storage.data(for: "pin")) { error in
            guard case StorageError.Wiped = error else { return XCTFail("\(error)") }
        }
    }

    func testTheKekIsAskedAboutOncePerSessionNotPerItem() throws {
        let base = SoftwareKek.ephemeral()
        _ = try open(base)
        let kek = CountingKek(base)
        let storage = try open(kek)
        let atOpen = kek.calls
        for i in 0..<500 {
            try storage.set("v\(i)", for: "k\(i % 20)")
            _ = try storage.string(for: "k\(i % 20)")
        }
        XCTAssertEqual(atOpen, 1, "canary unwrap")
        XCTAssertEqual(kek.calls - atOpen, 1, "one wrap for 1,000 operations")
    }

    func testAKekThatSaysItsCacheMayNotServeNowMakesEveryCallAskItThenTheCacheServesAgain() throws {
        let base = SoftwareKek.ephemeral()
        try open(base).set("t", for: "token")
        let kek = WindowKek(CountingKek(base))
        let storage = try open(kek)
        XCTAssertEqual(try storage.string(for: "token"), "t")
        let warm = kek.counting.calls
        for _ in 0..<3 { XCTAssertEqual(try storage.string(for: "token"), "t") }
        XCTAssertEqual(kek.counting.calls, warm, "served from the cache")
        kek.usable = false
        kek.counting.locked = true
        for _ in 0..<3 {
            XCTAssertThrowsError(try storage.string(for: "token")) { error in
                guard case StorageError.KekUnavailable = error else { return XCTFail("\(error)") }
            }
        }
        XCTAssertEqual(kek.counting.calls, warm + 3, "each call asked the key, which refused")
        kek.usable = true
        kek.counting.locked = false
        for _ in 0..<3 { XCTAssertEqual(try storage.string(for: "token"), "t") }
        XCTAssertEqual(kek.counting.calls, warm + 4, "one unwrap, then the cache again")
    }

    func testASubSecondKeyCacheIsKeptNotTruncatedToZero() throws {
        let base = SoftwareKek.ephemeral()
        _ = try open(base)
        let kek = CountingKek(base)
        do {
            let storage = try open(kek, keyCache: 0.5)
            let atOpen = kek.calls
            for i in 0..<20 { try storage.set("v\(i)", for: "k\(i)") }
            XCTAssertEqual(kek.calls - atOpen, 1, "one wrap within the 500 ms cache")
        }
        let storage = try open(kek, keyCache: 0)
        let atOpen = kek.calls
        for i in 0..<5 { try storage.set("v\(i)", for: "z\(i)") }
        XCTAssertEqual(kek.calls - atOpen, 5, "no cache: one wrap per put")
    }

    func testFilesAreEncryptedByPathAndBoundToTheirLabel() async throws {
        let kek = SoftwareKek.ephemeral()
        let source = directory.appendingPathComponent("statement.pdf")
        let data = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        try data.write(to: source)
        let storage = try open(kek)
        let encrypted = directory.appendingPathComponent("statement.enc")
        XCTAssertEqual(try storage.encryptFile(label: "statement", from: source, to: encrypted), UInt64(data.count))
        XCTAssertNil(try Data(contentsOf: encrypted).range(of: data.prefix(16)))
        let out = directory.appendingPathComponent("out.pdf")
        XCTAssertThrowsError(try storage.decryptFile(label: "other", from: encrypted, to: out)) { error in
            guard case StorageError.Corrupted = error else { return XCTFail("\(error)") }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
        try storage.decryptFile(label: "statement", from: encrypted, to: out)
        XCTAssertEqual(try Data(contentsOf: out), data)

        // After a rotation the file is re-wrapped, not re-encrypted.
        try await storage.rotate(to: SoftwareKek.ephemeral())
        XCTAssertThrowsError(try storage.decryptFile(label: "statement", from: encrypted, to: directory.appendingPathComponent("x"))) { error in
            guard case StorageError.WrongKek = error else { return XCTFail("\(error)") }
        }
        XCTAssertTrue(try storage.rewrapFile(at: encrypted, previousKek: kek))
        let again = directory.appendingPathComponent("again.pdf")
        try storage.decryptFile(label: "statement", from: encrypted, to: again)
        XCTAssertEqual(try Data(contentsOf: again), data)
    }

    func testPasscodeWithBackOffAndWipe() throws {
        let storage = try open(SoftwareKek.ephemeral())
        try storage.set("secret", for: "account")
        var policy = defaultPasscodePolicy()
        policy.minLength = 4
        policy.freeAttempts = 1
        policy.baseDelay = 30
        policy.wipeAfter = 4
        try storage.setPasscode("2468", policy: policy)
        XCTAssertTrue(try storage.hasPasscode())
        let t0 = ISO8601DateFormatter().date(from: "2027-01-01T00:00:00Z")!
        XCTAssertEqual(try storage.verifyPasscode("2468", now: t0), .verified)
        guard case let .rejected(failures, _, attemptsBeforeWipe) = try storage.verifyPasscode("0000", now: t0) else {
            return XCTFail("a wrong passcode must be rejected")
        }
        XCTAssertEqual(failures, 1)
        XCTAssertEqual(attemptsBeforeWipe, 3)
        guard case let .rejected(_, retryAfter, _) = try storage.verifyPasscode("0000", now: t0) else {
            return XCTFail("a wrong passcode must be rejected")
        }
        XCTAssertEqual(retryAfter, 30)
        XCTAssertThrowsError(try storage.verifyPasscode("2468", now: t0.addingTimeInterval(10))) { error in
            guard case let StorageError.LockedOut(retryAfter) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(retryAfter, 20)
        }
        _ = try storage.verifyPasscode("0000", now: t0.addingTimeInterval(30))
        XCTAssertThrowsError(try storage.verifyPasscode("0000", now: t0.addingTimeInterval(100))) { error in
            guard case StorageError.Wiped = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try storage.string(for: "account")) { error in
            guard case StorageError.Wiped = error else { return XCTFail("\(error)") }
        }
    }

    func testTheSoftwareKekBindsAssociatedData() throws {
        let kek = try SoftwareKek.fromKeyData(Data(repeating: 0x5A, count: 32))
        let dek = Data(repeating: 1, count: 32)
        let wrapped = try kek.wrap(dek: dek, aad: Data("aad".utf8))
        XCTAssertEqual(try kek.unwrap(wrapped: wrapped, aad: Data("aad".utf8)), dek)
        XCTAssertThrowsError(try kek.unwrap(wrapped: wrapped, aad: Data("other".utf8))) { error in
            guard case KekError.UnwrapFailed = error else { return XCTFail("\(error)") }
        }
        XCTAssertNotEqual(SoftwareKek.ephemeral().keyId(), kek.keyId())
        XCTAssertEqual(try SoftwareKek.fromKeyData(Data(repeating: 0x5A, count: 32)).keyId(), kek.keyId())
        XCTAssertFalse(kek.keyId().contains("5a5a"), "the id never shows key bytes")
        XCTAssertThrowsError(try SoftwareKek.fromKeyData(Data(count: 16)))
    }

    func testTheAsyncStoreRunsOffTheCallersThreadAndUnlockIsANoOpWithoutAnEnclaveKey() async throws {
        let vault = try await AsyncSecureStorage.open(directory: vault, kek: SoftwareKek.ephemeral(), minSecurityLevel: .software)
        XCTAssertNil(vault.enclaveKek)
        try await vault.unlock(reason: "not shown: no enclave key")
        try await vault.set("rt-123", for: "refresh_token")
        // XCTest's assertions take autoclosures, which cannot `await`: read first.
        let token = try await vault.string(for: "refresh_token")
        XCTAssertEqual(token, "rt-123")
        let names = try await vault.names()
        XCTAssertEqual(names, ["refresh_token"])
        let missing = try await vault.dataIfPresent(for: "missing")
        XCTAssertNil(missing)
        vault.lock()
        let again = try await vault.string(for: "refresh_token")
        XCTAssertEqual(again, "rt-123")
    }

    func testEnclaveOptionsNameTheAccessibilityTheyMean() {
        XCTAssertEqual(KeyAccessibility.whenUnlocked.attribute as String, kSecAttrAccessibleWhenUnlockedThisDeviceOnly as String)
        XCTAssertEqual(KeyAccessibility.whenPasscodeSet.attribute as String, kSecAttrAccessibleWhenPasscodeSetThisDeviceOnly as String)
        XCTAssertEqual(KeyAccessibility.afterFirstUnlock.attribute as String, kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly as String)
        let plain = SecureEnclaveKek.Options()
        XCTAssertFalse(plain.requiresUserAuthentication)
        XCTAssertTrue(plain.flags.contains(.privateKeyUsage))
        let presence = SecureEnclaveKek.Options(flags: [.userPresence])
        XCTAssertTrue(presence.requiresUserAuthentication)
        XCTAssertTrue(presence.flags.contains(.privateKeyUsage), "always added")
        XCTAssertEqual(presence.policy, .deviceOwnerAuthentication)
        XCTAssertEqual(SecureEnclaveKek.Options(flags: [.biometryCurrentSet]).policy, .deviceOwnerAuthenticationWithBiometrics)
    }

    func testPerUseAndTimeBoundKeysCapTheDataKeyCache() {
        // Mirrors AndroidKeystoreKekTest's keyCacheLimit cases.
        let plain = SecureEnclaveKek.Options()
        XCTAssertFalse(plain.isPerUse)
        XCTAssertEqual(plain.keyCacheLimit, .infinity)
        let timed = SecureEnclaveKek.Options(flags: [.biometryCurrentSet], authenticationValidity: 60)
        XCTAssertFalse(timed.isPerUse)
        XCTAssertEqual(timed.keyCacheLimit, 60)
        let perUse = SecureEnclaveKek.Options(flags: [.biometryCurrentSet], authenticationValidity: 0)
        XCTAssertTrue(perUse.isPerUse)
        XCTAssertEqual(perUse.keyCacheLimit, 0)
        XCTAssertFalse(SecureEnclaveKek.Options(authenticationValidity: 0).isPerUse, "no user authentication, no per-use")
    }

    func testWithUserAuthenticationRunsTheBodyOffTheCallerWithoutAnEnclaveKey() async throws {
        let vault = try await AsyncSecureStorage.open(directory: vault, kek: SoftwareKek.ephemeral(), minSecurityLevel: .software)
        try await vault.set("sig-1", for: "signing_token")
        let token = try await vault.withUserAuthentication(reason: "not shown: no enclave key") { store in
            try store.string(for: "signing_token")
        }
        XCTAssertEqual(token, "sig-1")
    }
}
