import CryptoKit
import Foundation
import LocalAuthentication
import MamoriFFI
import Security

/// When a Mamori key may be used. Every option is `ThisDeviceOnly`: the key never goes into a
/// backup and never to another device (guideline DEV-1).
public enum KeyAccessibility: Sendable {
    /// `kSecAttrAccessibleWhenUnlockedThisDeviceOnly`: only while the device is unlocked. The
    /// default.
    case whenUnlocked
    /// `kSecAttrAccessibleWhenPasscodeSetThisDeviceOnly`: only while the device is unlocked, and
    /// only while a device passcode is set: removing the passcode deletes the key (the store
    /// then reports `KeyInvalidated`).
    case whenPasscodeSet
    /// `kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly`: from the first unlock after a restart
    /// until shutdown, also while the device is locked (background work). Weaker: choose it only
    /// where background access is needed, and record why (the guideline's risk-based choice).
    case afterFirstUnlock

    /// The keychain constant.
    public var attribute: CFString {
        switch self {
        case .whenUnlocked:
            return kSecAttrAccessibleWhenUnlockedThisDeviceOnly
        case .whenPasscodeSet:
            return kSecAttrAccessibleWhenPasscodeSetThisDeviceOnly
        case .afterFirstUnlock:
            return kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly
        }
    }
}

/// A Security-framework failure as text: the `CFError` (domain, code, description) or the
/// `OSStatus` message, so that the store's `KekUnavailable` / `KekFailure` says what happened.
struct SecurityFailure {
    let code: Int
    let domain: String
    let message: String

    init(_ what: String, _ error: Unmanaged<CFError>?) {
        if let error = error?.takeRetainedValue() {
            let bridged = error as Error as NSError
            code = bridged.code
            domain = bridged.domain
            message = "\(what): \(bridged.localizedDescription) (\(bridged.domain) \(bridged.code))"
        } else {
            code = 0
            domain = ""
            message = "\(what): no error details"
        }
    }

    init(_ what: String, status: OSStatus) {
        code = Int(status)
        domain = NSOSStatusErrorDomain
        let text = SecCopyErrorMessageString(status, nil) as String? ?? "OSStatus"
        message = "\(what): \(text) (\(status))"
    }

    /// The user cancelled, authentication failed or is needed, or the device is locked:
    /// retryable after ``SecureEnclaveKek/unlock(reason:context:)``.
    var needsUser: Bool {
        let codes = [errSecUserCanceled, errSecAuthFailed, errSecInteractionNotAllowed].map { Int($0) }
        return codes.contains(code) || domain == LAErrorDomain
    }
}

/// A key-encryption key in the Secure Enclave (guidelines DEV-1, NEW-1; DEV-3 when it requires
/// user authentication).
///
/// The Secure Enclave holds only P-256 private keys, so data keys are wrapped with ECIES
/// (`eciesEncryptionCofactorVariableIVX963SHA256AESGCM`): wrapping needs only the public key (no
/// prompt), unwrapping runs inside the enclave under the key's access control. ECIES in the
/// Security framework takes no associated data, so the wrapped plaintext is
/// `SHA-256(aad) ‖ dek`; `unwrap` checks the digest in constant time (ECIES-GCM authenticates the
/// whole plaintext, which binds the associated data as an AEAD would).
///
/// **User authentication without prompts in callbacks.** The store calls `unwrap` synchronously
/// from Rust, on whatever thread called the store. This key therefore never shows UI there: its
/// key reference is bound (`kSecUseAuthenticationContext`) to an `LAContext` with
/// `interactionNotAllowed`, and a key that requires user presence or biometrics fails with
/// `KekError.Unavailable` ("call unlock") until the app has called the `async`
/// ``unlock(reason:context:)``, which shows the system prompt (Face ID, Touch ID or the
/// passcode) with the app's text and binds the authenticated context for
/// ``Options/authenticationValidity`` seconds. This mirrors `AndroidKeystoreKek.unlock` on
/// Android: unlock, then use the store; `KekUnavailable` means unlock again.
///
/// **Per-use keys** (``Options/authenticationValidity`` 0, the `PerUse` keys of
/// `AndroidKeystoreKek`): ``unlock(reason:context:)`` is refused; each use is authorised by
/// ``withUserAuthentication(reason:context:_:)``, one prompt per block, and the authentication
/// ends when the block returns, whatever it did. The data key is then never cached beyond the
/// block (``Options/keyCacheLimit`` is 0).
///
/// Its id contains a fingerprint of the public key, so a re-created key is a different key and
/// the store reports `KeyInvalidated` instead of using it silently.
///
/// ```swift
/// let kek = try SecureEnclaveKek.loadOrCreate(
///     tag: "jp.example.vault", options: .init(flags: [.privateKeyUsage, .userPresence]))
/// try await kek.unlock(reason: "Unlock your account")
/// let vault = try await AsyncSecureStorage.open(directory: vaultURL, kek: kek)
/// ```
///
/// There is no Secure Enclave in the Simulator: use ``SoftwareKek`` there (see
/// ``SecureEnclaveKek/isAvailable``).
///
/// `@unchecked Sendable`: `SecKey` and `LAContext` are not `Sendable`; the only mutable state
/// (the bound context, its key reference and the unlock time) is read and written under `lock`.
public final class SecureEnclaveKek: KeyEncryptionKey, KeyCacheLimit, @unchecked Sendable {
    /// How the enclave key is protected.
    public struct Options: Sendable {
        /// When the key may be used.
        public var accessibility: KeyAccessibility
        /// Access-control flags, e.g. `[.privateKeyUsage, .userPresence]` or
        /// `[.privateKeyUsage, .biometryCurrentSet]`; `.privateKeyUsage` is always added.
        public var flags: SecAccessControlCreateFlags
        /// How long one ``SecureEnclaveKek/unlock(reason:context:)`` keeps a key that requires
        /// user authentication usable, in seconds; 0 makes it a per-use key (see
        /// ``isPerUse``). The store's key cache is capped at this (``keyCacheLimit``).
        public var authenticationValidity: TimeInterval

        /// Options for a key usable while unlocked, without user authentication by default.
        public init(
            accessibility: KeyAccessibility = .whenUnlocked,
            flags: SecAccessControlCreateFlags = [.privateKeyUsage],
            authenticationValidity: TimeInterval = 300
        ) {
            self.accessibility = accessibility
            self.flags = flags.union(.privateKeyUsage)
            self.authenticationValidity = authenticationValidity
        }

        /// Whether using the key needs the user (presence, biometrics or passcode).
        public var requiresUserAuthentication: Bool {
            !flags.isDisjoint(with: [.userPresence, .biometryAny, .biometryCurrentSet, .devicePasscode])
        }

        /// Whether each use needs its own authentication: user authentication with an
        /// ``authenticationValidity`` of 0. Used through
        /// ``SecureEnclaveKek/withUserAuthentication(reason:context:_:)`` only.
        public var isPerUse: Bool { requiresUserAuthentication && authenticationValidity <= 0 }

        /// The longest a store under this key may cache an unwrapped data key, in seconds: no
        /// limit without user authentication, else ``authenticationValidity`` (0 for per-use
        /// keys), so a cached data key never outlives the authentication.
        public var keyCacheLimit: TimeInterval {
            requiresUserAuthentication ? max(0, authenticationValidity) : .infinity
        }

        /// The `LAPolicy` that satisfies these flags.
        var policy: LAPolicy {
            flags.isDisjoint(with: [.userPresence, .devicePasscode])
                ? .deviceOwnerAuthenticationWithBiometrics
                : .deviceOwnerAuthentication
        }
    }

    /// ``Options/keyCacheLimit``.
    public var keyCacheLimit: TimeInterval { options.keyCacheLimit }

    /// Whether the store's cached data keys may serve a call now (DEV-3): never for a per-use
    /// key outside its block, and for a key that requires user authentication only inside the
    /// window of the last ``unlock(reason:context:)``, exactly as ``unwrap(wrapped:aad:)``
    /// decides; always for a key without user authentication.
    public var keyCacheUsable: Bool {
        locked {
            if options.isPerUse { return inAuthenticatedBlock }
            guard options.requiresUserAuthentication else { return true }
            guard let at = unlockedAt else { return false }
            return Date().timeIntervalSince(at) < options.authenticationValidity
        }
    }

    /// Whether this device has a Secure Enclave (false in the Simulator).
    public static var isAvailable: Bool { SecureEnclave.isAvailable }

    private static let algorithm: SecKeyAlgorithm = .eciesEncryptionCofactorVariableIVX963SHA256AESGCM

    /// The key's protection.
    public let options: Options
    private let tag: Data
    private let publicKey: SecKey
    private let id: String
    private let lock = NSLock()
    /// Guarded by `lock`: the key reference bound to `context`.
    private var privateKey: SecKey
    /// Guarded by `lock`: non-interactive; authenticated after `unlock`.
    private var context: LAContext
    /// Guarded by `lock`: when `context` was authenticated.
    private var unlockedAt: Date?
    /// Guarded by `lock`: a per-use key's ``withUserAuthentication(reason:context:_:)`` block
    /// is running with an authenticated `context`.
    private var inAuthenticatedBlock = false

    private init(tag: Data, options: Options, privateKey: SecKey, publicKey: SecKey, context: LAContext, id: String) {
        self.tag = tag
        self.options = options
        self.privateKey = privateKey
        self.publicKey = publicKey
        self.context = context
        self.id = id
    }

    /// Finds the enclave key with `tag`, or creates it with `options`. Never prompts.
    ///
    /// - Throws: `KekError.Backend` with the Security framework's error (no Secure Enclave, no
    ///   passcode for `.whenPasscodeSet`, ...), `KekError.Unavailable` when the keychain is locked.
    public static func loadOrCreate(tag: String, options: Options = Options()) throws -> SecureEnclaveKek {
        let tagData = Data(tag.utf8)
        let context = nonInteractiveContext()
        if try existingKey(tag: tagData, context: context) == nil {
            _ = try createKey(tag: tagData, options: options)
        }
        guard let key = try existingKey(tag: tagData, context: context) else {
            throw KekError.Backend(reason: "the enclave key \(tag) was created but cannot be found")
        }
        guard let publicKey = SecKeyCopyPublicKey(key) else {
            throw KekError.Backend(reason: "cannot read the enclave public key")
        }
        var error: Unmanaged<CFError>?
        guard let external = SecKeyCopyExternalRepresentation(publicKey, &error) as Data? else {
            throw KekError.Backend(reason: SecurityFailure("exporting the public key", error).message)
        }
        let fingerprint = SHA256.hash(data: external).prefix(8).map { String(format: "%02x", $0) }.joined()
        return SecureEnclaveKek(
            tag: tagData, options: options, privateKey: key, publicKey: publicKey, context: context,
            id: "secure-enclave:\(tag):\(fingerprint)")
    }

    /// Shows the system authentication prompt (Face ID, Touch ID or passcode, as the key's
    /// flags allow) with `reason`, then keeps the key usable for
    /// ``Options/authenticationValidity`` seconds (DEV-3).
    ///
    /// `async`: the prompt is the system's, and awaiting it never blocks the caller's thread,
    /// the main thread included. Call it before the store calls that unwrap (or when one failed
    /// with `StorageError.KekUnavailable`).
    ///
    /// - Parameters:
    ///   - reason: The text the prompt shows (`localizedReason`).
    ///   - context: An `LAContext` the app configured (e.g. `localizedCancelTitle`,
    ///     `touchIDAuthenticationAllowableReuseDuration` to accept a recent device unlock), or a
    ///     fresh one. It must not be used for anything else afterwards.
    /// - Throws: `KekError.Unavailable` with the `LAError` when the user cancels or fails,
    ///   `KekError.KeyInvalidated` when the key no longer exists,
    ///   `KekError.Backend` for a per-use key (use ``withUserAuthentication(reason:context:_:)``).
    public func unlock(reason: String, context: LAContext = LAContext()) async throws {
        guard options.requiresUserAuthentication else { return }
        guard !options.isPerUse else {
            throw KekError.Backend(reason: "unlock(reason:context:) is for time-bound keys; this per-use key needs withUserAuthentication(reason:context:_:)")
        }
        let key = try await authenticate(reason: reason, context: context)
        locked {
            self.context.invalidate()
            self.context = context
            self.privateKey = key
            self.unlockedAt = Date()
        }
    }

    /// Runs `body` with this per-use key usable (DEV-3, a prompt per use): shows the system
    /// prompt with `reason`, binds the authenticated `context` for the duration of `body`, and
    /// ends the authentication when `body` returns or throws. Blocks run one at a time per key;
    /// a second one waits for the first. Mirrors `AndroidKeystoreKek.withUserAuthentication`.
    ///
    /// Store calls in `body` reach the key on the store's thread (``AsyncSecureStorage``'s
    /// ``AsyncSecureStorage/withUserAuthentication(reason:context:_:)`` runs them off the main
    /// thread and drops the cached data key afterwards).
    ///
    /// - Throws: `KekError.Backend` for a key that is not per-use, the errors of
    ///   ``unlock(reason:context:)`` for the prompt, and whatever `body` throws.
    public func withUserAuthentication<T: Sendable>(
        reason: String,
        context: LAContext = LAContext(),
        _ body: @Sendable () async throws -> T
    ) async throws -> T {
        guard options.isPerUse else {
            throw KekError.Backend(reason: "withUserAuthentication is for per-use keys (authenticationValidity 0); call unlock(reason:context:)")
        }
        await blocks.acquire()
        defer { blocks.release() }
        let key = try await authenticate(reason: reason, context: context)
        locked {
            self.context.invalidate()
            self.context = context
            self.privateKey = key
            self.inAuthenticatedBlock = true
        }
        defer { invalidateAuthentication() }
        return try await body()
    }

    /// Shows the prompt and returns the key reference bound to the authenticated `context`.
    private func authenticate(reason: String, context: LAContext) async throws -> SecKey {
        do {
            let accepted = try await context.evaluatePolicy(options.policy, localizedReason: reason)
            guard accepted else {
                throw KekError.Unavailable(reason: "user authentication was not accepted")
            }
        } catch let error as KekError {
            throw error
        } catch {
            let bridged = error as NSError
            throw KekError.Unavailable(
                reason: "user authentication failed: \(bridged.localizedDescription) (\(bridged.domain) \(bridged.code))")
        }
        context.interactionNotAllowed = true
        guard let key = try Self.existingKey(tag: tag, context: context) else {
            throw KekError.KeyInvalidated(reason: "the enclave key no longer exists")
        }
        return key
    }

    /// Ends the authentication of the last ``unlock(reason:context:)`` now (e.g. when the app
    /// goes to the background); call `clearKeyCache()` on the store too.
    public func invalidateAuthentication() {
        locked {
            context.invalidate()
            unlockedAt = nil
            inAuthenticatedBlock = false
        }
    }

    /// One ``withUserAuthentication(reason:context:_:)`` block at a time.
    private let blocks = AsyncGate()

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    private static func nonInteractiveContext() -> LAContext {
        let context = LAContext()
        context.interactionNotAllowed = true
        return context
    }

    private static func query(tag: Data) -> [String: Any] {
        [
            kSecClass as String: kSecClassKey,
            kSecAttrApplicationTag as String: tag,
            kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom,
            kSecAttrTokenID as String: kSecAttrTokenIDSecureEnclave,
        ]
    }

    private static func existingKey(tag: Data, context: LAContext) throws -> SecKey? {
        var lookup = Self.query(tag: tag)
        lookup[kSecReturnRef as String] = true
        lookup[kSecUseAuthenticationContext as String] = context
        var item: CFTypeRef?
        let status = SecItemCopyMatching(lookup as CFDictionary, &item)
        switch status {
        case errSecSuccess:
            guard let item, CFGetTypeID(item) == SecKeyGetTypeID() else {
                throw KekError.Backend(reason: "the keychain item for the enclave key is not a key")
            }
            return (item as! SecKey)  // swiftlint:disable:this force_cast
        case errSecItemNotFound:
            return nil
        case errSecInteractionNotAllowed:
            throw KekError.Unavailable(reason: SecurityFailure("the keychain is locked", status: status).message)
        default:
            throw KekError.Backend(reason: SecurityFailure("SecItemCopyMatching", status: status).message)
        }
    }

    private static func createKey(tag: Data, options: Options) throws -> SecKey {
        var error: Unmanaged<CFError>?
        guard let access = SecAccessControlCreateWithFlags(
            nil, options.accessibility.attribute, options.flags, &error)
        else {
            throw KekError.Backend(reason: SecurityFailure("SecAccessControlCreateWithFlags", error).message)
        }
        let attributes: [String: Any] = [
            kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom,
            kSecAttrKeySizeInBits as String: 256,
            kSecAttrTokenID as String: kSecAttrTokenIDSecureEnclave,
            kSecPrivateKeyAttrs as String: [
                kSecAttrIsPermanent as String: true,
                kSecAttrApplicationTag as String: tag,
                kSecAttrAccessControl as String: access,
            ] as [String: Any],
        ]
        guard let key = SecKeyCreateRandomKey(attributes as CFDictionary, &error) else {
            throw KekError.Backend(reason: SecurityFailure("SecKeyCreateRandomKey (no Secure Enclave?)", error).message)
        }
        return key
    }

    public func keyId() -> String { id }

    public func securityLevel() -> SecurityLevel { .secureEnclave }

    public func wrap(dek: Data, aad: Data) throws -> Data {
        var plaintext = Data(SHA256.hash(data: aad))
        plaintext.append(dek)
        defer { plaintext.resetBytes(in: 0..<plaintext.count) }
        var error: Unmanaged<CFError>?
        guard let wrapped = SecKeyCreateEncryptedData(publicKey, Self.algorithm, plaintext as CFData, &error) as Data? else {
            throw KekError.Backend(reason: SecurityFailure("ECIES wrap", error).message)
        }
        return wrapped
    }

    public func unwrap(wrapped: Data, aad: Data) throws -> Data {
        let key: SecKey = try locked {
            if options.isPerUse {
                guard inAuthenticatedBlock else {
                    throw KekError.Unavailable(reason: "per-use key: call the store inside withUserAuthentication(reason:context:_:)")
                }
            } else if options.requiresUserAuthentication {
                guard let at = unlockedAt, Date().timeIntervalSince(at) < options.authenticationValidity else {
                    context.invalidate()
                    unlockedAt = nil
                    throw KekError.Unavailable(reason: "user authentication required: call unlock(reason:context:)")
                }
            }
            return privateKey
        }
        var error: Unmanaged<CFError>?
        guard var plaintext = SecKeyCreateDecryptedData(key, Self.algorithm, wrapped as CFData, &error) as Data? else {
            let failure = SecurityFailure("ECIES unwrap", error)
            if failure.needsUser {
                throw KekError.Unavailable(reason: failure.message)
            }
            if try Self.existingKey(tag: tag, context: Self.nonInteractiveContext()) == nil {
                throw KekError.KeyInvalidated(reason: "the enclave key no longer exists")
            }
            throw KekError.UnwrapFailed(reason: failure.message)
        }
        defer { plaintext.resetBytes(in: 0..<plaintext.count) }
        let expected = Data(SHA256.hash(data: aad))
        guard plaintext.count == expected.count + 32 else {
            throw KekError.UnwrapFailed(reason: "unexpected plaintext length")
        }
        var difference: UInt8 = 0
        for (a, b) in zip(plaintext.prefix(expected.count), expected) {
            difference |= a ^ b
        }
        guard difference == 0 else {
            throw KekError.UnwrapFailed(reason: "associated data mismatch")
        }
        return Data(plaintext.suffix(32))
    }

    /// Deletes the enclave key (crypto-shredding).
    public func deleteKey() throws -> Bool {
        let status = SecItemDelete(Self.query(tag: tag) as CFDictionary)
        guard status == errSecSuccess || status == errSecItemNotFound else {
            throw KekError.Backend(reason: SecurityFailure("SecItemDelete", status: status).message)
        }
        return true
    }
}

/// A software key-encryption key: AES-256-GCM (CryptoKit) under a random 256-bit key kept in the
/// keychain as a `ThisDeviceOnly` generic password, or only in memory (``ephemeral()``).
///
/// For the **Simulator** (it has no Secure Enclave) and tests. It has no hardware protection:
/// its level is `.software`, so a store accepts it only when opened with
/// `minSecurityLevel: .software`, and it does not meet DEV-1 on a device. Mirrors
/// `JvmAesGcmKek` of the Kotlin tests.
///
/// ```swift
/// #if targetEnvironment(simulator)
/// let kek = try SoftwareKek.loadOrCreate(account: "vault")
/// #else
/// let kek = try SecureEnclaveKek.loadOrCreate(tag: "jp.example.vault")
/// #endif
/// ```
///
/// `@unchecked Sendable`: only immutable `let`s (`SymmetricKey` is not declared `Sendable` on
/// every SDK).
public final class SoftwareKek: KeyEncryptionKey, @unchecked Sendable {
    private static let service = "jp.mamori.software-kek"
    private let key: SymmetricKey
    private let account: String?
    private let id: String

    private init(key: SymmetricKey, account: String?) {
        self.key = key
        self.account = account
        let tag = HMAC<SHA256>.authenticationCode(for: Data("mamori kek id".utf8), using: key)
        let fingerprint = Data(tag).prefix(8).map { String(format: "%02x", $0) }.joined()
        self.id = "software:\(account ?? "ephemeral"):\(fingerprint)"
    }

    /// A key in memory only (tests): gone with the process.
    public static func ephemeral() -> SoftwareKek {
        SoftwareKek(key: SymmetricKey(size: .bits256), account: nil)
    }

    /// A key from 32 bytes (tests): the same bytes give the same key id.
    public static func fromKeyData(_ data: Data) throws -> SoftwareKek {
        guard data.count == 32 else {
            throw KekError.Backend(reason: "a software KEK needs 32 bytes, got \(data.count)")
        }
        return SoftwareKek(key: SymmetricKey(data: data), account: nil)
    }

    /// Finds the key stored under `account`, or creates and stores it with `accessibility`.
    public static func loadOrCreate(account: String, accessibility: KeyAccessibility = .whenUnlocked) throws -> SoftwareKek {
        var query: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: account,
        ]
        var lookup = query
        lookup[kSecReturnData as String] = true
        var item: CFTypeRef?
        let status = SecItemCopyMatching(lookup as CFDictionary, &item)
        switch status {
        case errSecSuccess:
            guard let data = item as? Data, data.count == 32 else {
                throw KekError.KeyInvalidated(reason: "the software KEK in the keychain is malformed")
            }
            return SoftwareKek(key: SymmetricKey(data: data), account: account)
        case errSecItemNotFound:
            let key = SymmetricKey(size: .bits256)
            query[kSecValueData as String] = key.withUnsafeBytes { Data($0) }
            query[kSecAttrAccessible as String] = accessibility.attribute
            let added = SecItemAdd(query as CFDictionary, nil)
            guard added == errSecSuccess else {
                throw KekError.Backend(reason: SecurityFailure("SecItemAdd", status: added).message)
            }
            return SoftwareKek(key: key, account: account)
        case errSecInteractionNotAllowed:
            throw KekError.Unavailable(reason: SecurityFailure("the keychain is locked", status: status).message)
        default:
            throw KekError.Backend(reason: SecurityFailure("SecItemCopyMatching", status: status).message)
        }
    }

    public func keyId() -> String { id }

    public func securityLevel() -> SecurityLevel { .software }

    public func wrap(dek: Data, aad: Data) throws -> Data {
        do {
            guard let combined = try AES.GCM.seal(dek, using: key, authenticating: aad).combined else {
                throw KekError.Backend(reason: "AES-GCM seal gave no combined form")
            }
            return combined
        } catch let error as KekError {
            throw error
        } catch {
            throw KekError.Backend(reason: "AES-GCM seal failed: \(error)")
        }
    }

    public func unwrap(wrapped: Data, aad: Data) throws -> Data {
        do {
            return try AES.GCM.open(AES.GCM.SealedBox(combined: wrapped), using: key, authenticating: aad)
        } catch {
            throw KekError.UnwrapFailed(reason: "AES-GCM open failed (tag mismatch or malformed)")
        }
    }

    /// Deletes the stored key (crypto-shredding); `false` for an in-memory key.
    public func deleteKey() throws -> Bool {
        guard let account else { return false }
        let query: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: Self.service,
            kSecAttrAccount as String: account,
        ]
        let status = SecItemDelete(query as CFDictionary)
        guard status == errSecSuccess || status == errSecItemNotFound else {
            throw KekError.Backend(reason: SecurityFailure("SecItemDelete", status: status).message)
        }
        return status == errSecSuccess
    }
}

/// A one-at-a-time gate for `async` code: ``acquire()`` suspends (never blocks a thread) until
/// the previous holder called ``release()``. Waiters are resumed in arrival order.
final class AsyncGate: @unchecked Sendable {
    /// Guarded by `lock`.
    private var held = false
    /// Guarded by `lock`.
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private let lock = NSLock()

    func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            lock.lock()
            if held {
                waiters.append(continuation)
                lock.unlock()
            } else {
                held = true
                lock.unlock()
                continuation.resume()
            }
        }
    }

    func release() {
        lock.lock()
        if waiters.isEmpty {
            held = false
            lock.unlock()
        } else {
            let next = waiters.removeFirst()
            lock.unlock()
            next.resume()
        }
    }
}
