import Foundation
import LocalAuthentication
import MamoriFFI

/// A ``KeyEncryptionKey`` whose use is bound to user authentication (DEV-3) caps and vetoes the
/// store's data-key cache, so a cached plaintext data key does not serve a call the key itself
/// would refuse for its authentication window (mirrors Kotlin's `KeyCacheLimit`).
/// ``SecureEnclaveKek`` conforms.
public protocol KeyCacheLimit: Sendable {
    /// The longest a store may keep a data key this key unwrapped, in seconds (`.infinity`: no
    /// limit, 0: no cache). Counts from the unwrap.
    var keyCacheLimit: TimeInterval { get }
    /// Whether data keys the store already holds may serve a call now. ``SecureStorage`` asks
    /// before every call and drops its cache on `false`, so the call goes to the key, which
    /// answers as it would uncached (e.g. `KekError.Unavailable` once the authentication window
    /// closed). Called on the caller's thread: keep it cheap.
    var keyCacheUsable: Bool { get }
}

/// The current key's ``KeyCacheLimit``, replaced by a rotation.
private final class CacheGuard: @unchecked Sendable {
    private let lock = NSLock()
    private var value: KeyCacheLimit?

    init(_ value: KeyCacheLimit?) { self.value = value }

    var current: KeyCacheLimit? {
        get { lock.lock(); defer { lock.unlock() }; return value }
        set { lock.lock(); value = newValue; lock.unlock() }
    }
}

/// An encrypted, crash-safe key-value store in an app directory (guideline DEV-1, NEW-1, DATA-2).
///
/// Values are sealed in Rust (AES-256-GCM) under data keys that only the ``KeyEncryptionKey``
/// (e.g. ``SecureEnclaveKek``) can unwrap; the enclave is asked about once per session. Every
/// failure is a typed `StorageError`: `.NotFound`, `.KeyInvalidated` (the key is lost:
/// re-provision), `.Corrupted` (this item only), `.KekUnavailable` (locked, retry later),
/// `.InsecureKek`, `.Wiped`, `.LockedOut`, ...
///
/// Put the directory under Application Support with `isExcludedFromBackup`: the key cannot follow a
/// backup to another device.
///
/// Its calls are synchronous and may reach the key (the Secure Enclave: milliseconds) and the
/// disk: from the main actor use ``AsyncSecureStorage``, which runs each call off the calling
/// thread. `Sendable`: its only stored property is the (thread-safe) Rust store.
public final class SecureStorage: Sendable {
    private let inner: SecureStore
    private let cacheGuard: CacheGuard

    /// The store, its data-key cache dropped first when the key says cached keys may not serve
    /// now (``KeyCacheLimit/keyCacheUsable``).
    private var store: SecureStore {
        if cacheGuard.current?.keyCacheUsable == false { inner.clearKeyCache() }
        return inner
    }

    /// Opens or creates the store in `directory` under `kek`.
    ///
    /// - Parameters:
    ///   - previousKeks: keys the store may still be under; opening with a new key and the old one
    ///     here rotates (and finishes a rotation a crash interrupted).
    ///   - minSecurityLevel: the weakest key accepted (tests pass `.software`).
    ///   - keyCache: how long an unwrapped data key stays cached, in seconds (fractions kept;
    ///     0: ask the key every time). Under a ``SecureEnclaveKek`` it is capped at the key's
    ///     ``SecureEnclaveKek/Options/keyCacheLimit`` (0 for a per-use key), so a cached data
    ///     key never outlives the user's authentication.
    public init(
        directory: URL,
        kek: KeyEncryptionKey,
        previousKeks: [KeyEncryptionKey] = [],
        minSecurityLevel: SecurityLevel = .tee,
        keyCache: TimeInterval = 600
    ) throws {
        let limit = (kek as? KeyCacheLimit)?.keyCacheLimit ?? .infinity
        let config = StoreConfig(minSecurityLevel: minSecurityLevel, keyCache: min(keyCache, limit))
        inner = try SecureStore.open(dir: directory.path, kek: kek, previousKeks: previousKeks, config: config)
        cacheGuard = CacheGuard(kek as? KeyCacheLimit)
    }

    /// Opens the store off the calling thread (opening unwraps the canary: it reaches the key).
    /// The parameters are those of ``init(directory:kek:previousKeks:minSecurityLevel:keyCache:)``.
    public static func open(
        directory: URL,
        kek: KeyEncryptionKey,
        previousKeks: [KeyEncryptionKey] = [],
        minSecurityLevel: SecurityLevel = .tee,
        keyCache: TimeInterval = 600
    ) async throws -> SecureStorage {
        try await Task.detached {
            try SecureStorage(
                directory: directory,
                kek: kek,
                previousKeks: previousKeks,
                minSecurityLevel: minSecurityLevel,
                keyCache: keyCache
            )
        }.value
    }

    /// Stores `value` under `name`, replacing any previous value atomically.
    public func set(_ value: Data, for name: String) throws {
        try store.put(name: name, value: value)
    }

    /// Stores a UTF-8 string.
    public func set(_ value: String, for name: String) throws {
        try set(Data(value.utf8), for: name)
    }

    /// Reads `name`; throws `StorageError.NotFound` if there is no such item.
    public func data(for name: String) throws -> Data {
        try store.get(name: name)
    }

    /// Reads a UTF-8 string.
    public func string(for name: String) throws -> String {
        String(decoding: try data(for: name), as: UTF8.self)
    }

    /// Reads `name`, or `nil` when there is no such item (other failures still throw).
    public func dataIfPresent(for name: String) throws -> Data? {
        do {
            return try store.get(name: name)
        } catch StorageError.NotFound {
            return nil
        }
    }

    /// The security level of the key the store is under.
    public func securityLevel() throws -> SecurityLevel {
        try store.securityLevel()
    }

    /// Deletes `name`; returns whether it existed.
    @discardableResult
    public func delete(_ name: String) throws -> Bool {
        try store.delete(name: name)
    }

    /// Whether `name` exists.
    public func contains(_ name: String) throws -> Bool {
        try store.contains(name: name)
    }

    /// All item names, sorted.
    public func names() throws -> [String] {
        try store.list()
    }

    /// The id of the key the store is under.
    public func kekId() throws -> String {
        try store.kekId()
    }

    /// Re-wraps every data key under `newKek` (payloads are not re-encrypted).
    ///
    /// Throws `StorageError.RotationContended` when writes under fresh data keys kept
    /// landing during the rotation: nothing changed (the store is still under its old
    /// key); retry later. A KEK failure leaves the store unchanged too.
    @discardableResult
    public func rotate(to newKek: KeyEncryptionKey) async throws -> RotationReport {
        let store = self.store
        let report = try await Task.detached { try store.rotateKek(newKek: newKek) }.value
        cacheGuard.current = newKek as? KeyCacheLimit
        return report
    }

    /// Crypto-shreds the store: deletes the key, removes the files.
    @discardableResult
    public func wipe() throws -> WipeReport {
        try store.wipe()
    }

    /// Drops cached plaintext data keys (call when the app enters the background).
    public func clearKeyCache() {
        inner.clearKeyCache()
    }

    /// Encrypts the file at `source` into `destination` in constant memory.
    @discardableResult
    public func encryptFile(label: String, from source: URL, to destination: URL) throws -> UInt64 {
        try store.encryptFile(label: label, src: source.path, dst: destination.path)
    }

    /// Decrypts a file from ``encryptFile(label:from:to:)``; `destination` appears only if the
    /// whole file authenticated.
    @discardableResult
    public func decryptFile(label: String, from source: URL, to destination: URL) throws -> UInt64 {
        try store.decryptFile(label: label, src: source.path, dst: destination.path)
    }

    /// Re-wraps a file from ``encryptFile(label:from:to:)`` written under `previousKek` so that it
    /// opens under the current key (a rotation covers only the store directory).
    @discardableResult
    public func rewrapFile(at url: URL, previousKek: KeyEncryptionKey) throws -> Bool {
        try store.rewrapFile(path: url.path, previousKek: previousKek)
    }

    /// Sets the app passcode (DEV-3); `policy` defaults to 600,000 PBKDF2 iterations.
    public func setPasscode(_ passcode: String, policy: PasscodePolicy = defaultPasscodePolicy()) throws {
        try store.setPasscode(passcode: passcode, policy: policy)
    }

    /// Checks the passcode at `now`; throws `StorageError.LockedOut` during a back-off and
    /// `StorageError.Wiped` when the failure limit wiped the store.
    public func verifyPasscode(_ passcode: String, now: Date = Date()) throws -> PasscodeCheck {
        try store.verifyPasscode(passcode: passcode, now: now)
    }

    /// Whether an app passcode is set.
    public func hasPasscode() throws -> Bool {
        try store.hasPasscode()
    }

    /// Removes the app passcode; returns whether one was set.
    @discardableResult
    public func removePasscode() throws -> Bool {
        try store.removePasscode()
    }
}

/// ``SecureStorage`` for app code on the main actor (DEV-1, DEV-3): every call is `async` and
/// runs the synchronous store on a detached task, never on the caller's thread, because each
/// may reach the Secure Enclave and the disk. Mirrors `AndroidSecureStorage` (suspend functions
/// on `Dispatchers.IO`).
///
/// Prompts never happen inside these calls: a ``SecureEnclaveKek`` that requires user
/// authentication is opened with its `async` ``SecureEnclaveKek/unlock(reason:context:)``
/// (the system prompt, awaited, not blocking), which ``unlock(reason:context:)`` forwards.
///
/// ```swift
/// let kek = try SecureEnclaveKek.loadOrCreate(tag: "jp.example.vault",
///                                             options: .init(flags: [.privateKeyUsage, .userPresence]))
/// let vault = try await AsyncSecureStorage.open(directory: vaultURL, kek: kek)
/// try await vault.unlock(reason: "Unlock your account")
/// try await vault.set("rt-123", for: "refresh_token")
/// ```
public final class AsyncSecureStorage: Sendable {
    /// The synchronous store, for code already off the main thread.
    public let storage: SecureStorage
    /// The Secure Enclave key, when the store is under one (for ``unlock(reason:context:)``).
    public let enclaveKek: SecureEnclaveKek?

    /// Wraps an open store.
    public init(storage: SecureStorage, enclaveKek: SecureEnclaveKek? = nil) {
        self.storage = storage
        self.enclaveKek = enclaveKek
    }

    /// Opens the store off the calling thread; the parameters are those of
    /// ``SecureStorage/init(directory:kek:previousKeks:minSecurityLevel:keyCache:)``.
    public static func open(
        directory: URL,
        kek: KeyEncryptionKey,
        previousKeks: [KeyEncryptionKey] = [],
        minSecurityLevel: SecurityLevel = .tee,
        keyCache: TimeInterval = 600
    ) async throws -> AsyncSecureStorage {
        let storage = try await SecureStorage.open(
            directory: directory, kek: kek, previousKeks: previousKeks,
            minSecurityLevel: minSecurityLevel, keyCache: keyCache)
        return AsyncSecureStorage(storage: storage, enclaveKek: kek as? SecureEnclaveKek)
    }

    private func run<T: Sendable>(_ body: @escaping @Sendable (SecureStorage) throws -> T) async throws -> T {
        let storage = self.storage
        return try await Task.detached(priority: .userInitiated) { try body(storage) }.value
    }

    /// Shows the system prompt for the store's Secure Enclave key (``SecureEnclaveKek/unlock(reason:context:)``);
    /// nothing to do for other keys.
    public func unlock(reason: String, context: LAContext = LAContext()) async throws {
        try await enclaveKek?.unlock(reason: reason, context: context)
    }

    /// Runs `body` on the synchronous store, off the caller's thread, with the store's per-use
    /// Secure Enclave key authorised by one system prompt (DEV-3,
    /// ``SecureEnclaveKek/withUserAuthentication(reason:context:_:)``); the authentication ends
    /// and the cached data key is dropped when `body` returns. Without an enclave key, or under
    /// one that is not per-use, it runs `body` as the other calls do (a time-bound key still
    /// needs ``unlock(reason:context:)``). Mirrors `AndroidSecureStorage.withUserAuthentication`.
    ///
    /// ```swift
    /// let token = try await vault.withUserAuthentication(reason: "Send ¥50,000") { store in
    ///     try store.string(for: "signing_token")
    /// }
    /// ```
    public func withUserAuthentication<T: Sendable>(
        reason: String,
        context: LAContext = LAContext(),
        _ body: @escaping @Sendable (SecureStorage) throws -> T
    ) async throws -> T {
        guard let enclave = enclaveKek, enclave.options.isPerUse else {
            return try await run(body)
        }
        defer { storage.clearKeyCache() }
        return try await enclave.withUserAuthentication(reason: reason, context: context) {
            try await self.run(body)
        }
    }

    /// Stores `value` under `name`.
    public func set(_ value: Data, for name: String) async throws {
        try await run { try $0.set(value, for: name) }
    }

    /// Stores a UTF-8 string.
    public func set(_ value: String, for name: String) async throws {
        try await run { try $0.set(value, for: name) }
    }

    /// Reads `name`; throws `StorageError.NotFound` if there is no such item.
    public func data(for name: String) async throws -> Data {
        try await run { try $0.data(for: name) }
    }

    /// Reads a UTF-8 string.
    public func string(for name: String) async throws -> String {
        try await run { try $0.string(for: name) }
    }

    /// Reads `name`, or `nil` when there is no such item.
    public func dataIfPresent(for name: String) async throws -> Data? {
        try await run { try $0.dataIfPresent(for: name) }
    }

    /// Deletes `name`; returns whether it existed.
    @discardableResult
    public func delete(_ name: String) async throws -> Bool {
        try await run { try $0.delete(name) }
    }

    /// All item names, sorted.
    public func names() async throws -> [String] {
        try await run { try $0.names() }
    }

    /// Checks the app passcode (DEV-3, APP-1); see ``SecureStorage/verifyPasscode(_:now:)``.
    public func verifyPasscode(_ passcode: String, now: Date = Date()) async throws -> PasscodeCheck {
        try await run { try $0.verifyPasscode(passcode, now: now) }
    }

    /// Sets the app passcode; see ``SecureStorage/setPasscode(_:policy:)``.
    public func setPasscode(_ passcode: String, policy: PasscodePolicy = defaultPasscodePolicy()) async throws {
        try await run { try $0.setPasscode(passcode, policy: policy) }
    }

    /// Drops cached plaintext data keys and ends the enclave key's authentication (call when
    /// the app enters the background).
    public func lock() {
        storage.clearKeyCache()
        enclaveKek?.invalidateAuthentication()
    }
}
