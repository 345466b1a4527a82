import CryptoKit
import Foundation
import MamoriFFI
import Security

/// A key-encryption key in the Secure Enclave (guideline DEV-1).
///
/// The Secure Enclave holds only P-256 private keys, so data keys are wrapped with ECIES
/// (`eciesEncryptionCofactorVariableIVX963SHA256AESGCM`): wrapping needs only the public key (no
/// prompt), unwrapping runs inside the enclave under the key's access control.
///
/// ECIES in the Security framework takes no associated data, so the wrapped plaintext is
/// `SHA-256(aad) ‖ dek`; `unwrap` checks the digest in constant time. ECIES-GCM authenticates the
/// whole plaintext, which binds the associated data as an AEAD would.
///
/// The private key is created `kSecAttrAccessibleWhenUnlockedThisDeviceOnly`: it never migrates to
/// another device or a backup. Its id contains a fingerprint of the public key, so a re-created
/// key is a different key and the store reports `KeyInvalidated` instead of using it silently.
///
/// ```swift
/// let kek = try SecureEnclaveKek.loadOrCreate(tag: "jp.example.vault", options: .init(flags: [.privateKeyUsage, .userPresence]))
/// let storage = try SecureStorage(directory: vaultURL, kek: kek)
/// ```
public final class SecureEnclaveKek: KeyEncryptionKey, @unchecked Sendable {
    /// How the enclave key is protected.
    public struct Options: Sendable {
        /// Access-control flags, e.g. `[.privateKeyUsage, .userPresence]` or `.biometryCurrentSet`.
        public var flags: SecAccessControlCreateFlags
        /// Keychain accessibility; the default never leaves this device.
        public var accessibleWhenUnlockedThisDeviceOnly: Bool

        /// Options with `.privateKeyUsage` (required for enclave keys) and ThisDeviceOnly.
        public init(flags: SecAccessControlCreateFlags = [.privateKeyUsage], accessibleWhenUnlockedThisDeviceOnly: Bool = true) {
            self.flags = flags.union(.privateKeyUsage)
            self.accessibleWhenUnlockedThisDeviceOnly = accessibleWhenUnlockedThisDeviceOnly
        }
    }

    private static let algorithm: SecKeyAlgorithm = .eciesEncryptionCofactorVariableIVX963SHA256AESGCM
    private let tag: Data
    private let privateKey: SecKey
    private let publicKey: SecKey
    private let id: String

    private init(tag: Data, privateKey: SecKey, publicKey: SecKey, id: String) {
        self.tag = tag
        self.privateKey = privateKey
        self.publicKey = publicKey
        self.id = id
    }

    /// Finds the enclave key with `tag`, or creates it with `options`.
    public static func loadOrCreate(tag: String, options: Options = Options()) throws -> SecureEnclaveKek {
        let tagData = Data(tag.utf8)
        let key = try existingKey(tag: tagData) ?? createKey(tag: tagData, options: options)
        guard let publicKey = SecKeyCopyPublicKey(key),
              let external = SecKeyCopyExternalRepresentation(publicKey, nil) as Data?
        else {
            throw KekError.Backend(reason: "cannot read the enclave public key")
        }
        let fingerprint = SHA256.hash(data: external).prefix(8).map { String(format: "%02x", $0) }.joined()
        return SecureEnclaveKek(tag: tagData, privateKey: key, publicKey: publicKey, id: "secure-enclave:\(tag):\(fingerprint)")
    }

    private static func query(tag: Data) -> [String: Any] {
        [
            kSecClass as String: kSecClassKey,
            kSecAttrApplicationTag as String: tag,
            kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom,
            kSecAttrTokenID as String: kSecAttrTokenIDSecureEnclave,
        ]
    }

    private static func existingKey(tag: Data) throws -> SecKey? {
        var q = query(tag: tag)
        q[kSecReturnRef as String] = true
        var item: CFTypeRef?
        let status = SecItemCopyMatching(q as CFDictionary, &item)
        switch status {
        case errSecSuccess:
            // swiftlint:disable:next force_cast
            return (item as! SecKey)
        case errSecItemNotFound:
            return nil
        case errSecInteractionNotAllowed:
            throw KekError.Unavailable(reason: "keychain locked (errSecInteractionNotAllowed)")
        default:
            throw KekError.Backend(reason: "SecItemCopyMatching failed: \(status)")
        }
    }

    private static func createKey(tag: Data, options: Options) throws -> SecKey {
        let accessibility = options.accessibleWhenUnlockedThisDeviceOnly
            ? kSecAttrAccessibleWhenUnlockedThisDeviceOnly
            : kSecAttrAccessibleWhenPasscodeSetThisDeviceOnly
        var error: Unmanaged<CFError>?
        guard let access = SecAccessControlCreateWithFlags(nil, accessibility, options.flags, &error) else {
            throw KekError.Backend(reason: "SecAccessControlCreateWithFlags failed")
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
            throw KekError.Backend(reason: "SecKeyCreateRandomKey failed (no Secure Enclave?)")
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
            throw KekError.Backend(reason: "ECIES wrap failed")
        }
        return wrapped
    }

    public func unwrap(wrapped: Data, aad: Data) throws -> Data {
        var error: Unmanaged<CFError>?
        guard var plaintext = SecKeyCreateDecryptedData(privateKey, Self.algorithm, wrapped as CFData, &error) as Data? else {
            let code = (error?.takeRetainedValue()).map { CFErrorGetCode($0) } ?? 0
            if code == Int(errSecUserCanceled) || code == Int(errSecAuthFailed) || code == Int(errSecInteractionNotAllowed) {
                throw KekError.Unavailable(reason: "user authentication required or device locked (\(code))")
            }
            if try Self.existingKey(tag: tag) == nil {
                throw KekError.KeyInvalidated(reason: "the enclave key no longer exists")
            }
            throw KekError.UnwrapFailed(reason: "ECIES unwrap failed (\(code))")
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
            throw KekError.Backend(reason: "SecItemDelete failed: \(status)")
        }
        return true
    }
}
