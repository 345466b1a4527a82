import CryptoKit
import DeviceCheck
import Foundation

/// Apple App Attest on the device (guideline DEV-2): the app side of the round trip that
/// `mamori attest verify --platform apple` and `mamori device check --attestation` verify on
/// the server (docs/attestation.md).
///
/// 1. The server issues a fresh, random, single-use challenge.
/// 2. The app calls ``generateKey()`` once, then ``attestKey(_:clientData:)`` with client data
///    that contains the challenge, and sends the attestation object, the key id and the client
///    data to the server, which verifies them (nonce, App ID, counter 0) and stores the key.
/// 3. Later requests are signed with ``generateAssertion(_:clientData:)``; the server checks
///    the signature with the stored key and that the counter increases.
///
/// `DCAppAttestService` calls the Secure Enclave and Apple's servers: they are slow and can
/// fail, so every call is `async throws` and runs off the caller's actor.
@available(iOS 14.0, macOS 11.0, *)
public struct AppAttest: Sendable {
    /// Why App Attest could not be used.
    public enum Failure: Error, Sendable, Equatable {
        /// `DCAppAttestService.isSupported` is false (simulator, old device, App Extension).
        case unsupported
        /// The service failed; `code` is the `DCError.Code` raw value (for example
        /// `invalidKey` after a reinstall: generate and attest a new key).
        case service(code: Int, message: String)
    }

    /// Whether this device and app can use App Attest.
    public static var isSupported: Bool { DCAppAttestService.shared.isSupported }

    public init() {}

    /// Creates a Secure Enclave key for App Attest and returns its key id (base64, what the
    /// server passes as `--key-id`). Keep the id in the keychain: it is the handle to the key.
    public func generateKey() async throws -> String {
        try Self.requireSupport()
        return try await withCheckedThrowingContinuation { continuation in
            DCAppAttestService.shared.generateKey { keyId, error in
                if let keyId {
                    continuation.resume(returning: keyId)
                } else {
                    continuation.resume(throwing: Self.failure(error))
                }
            }
        }
    }

    /// Asks Apple to attest the key `keyId` for `clientData` (which must contain the server's
    /// challenge): returns the attestation object (CBOR) for the server. The server computes
    /// `clientDataHash = SHA-256(clientData)` (`--client-data FILE`).
    public func attestKey(_ keyId: String, clientData: Data) async throws -> Data {
        try Self.requireSupport()
        let hash = Data(SHA256.hash(data: clientData))
        return try await withCheckedThrowingContinuation { continuation in
            DCAppAttestService.shared.attestKey(keyId, clientDataHash: hash) { object, error in
                if let object {
                    continuation.resume(returning: object)
                } else {
                    continuation.resume(throwing: Self.failure(error))
                }
            }
        }
    }

    /// Signs `clientData` (a request, with a server challenge in it) with the attested key:
    /// returns the assertion (CBOR) that `mamori attest assert` checks.
    public func generateAssertion(_ keyId: String, clientData: Data) async throws -> Data {
        try Self.requireSupport()
        let hash = Data(SHA256.hash(data: clientData))
        return try await withCheckedThrowingContinuation { continuation in
            DCAppAttestService.shared.generateAssertion(keyId, clientDataHash: hash) { assertion, error in
                if let assertion {
                    continuation.resume(returning: assertion)
                } else {
                    continuation.resume(throwing: Self.failure(error))
                }
            }
        }
    }

    private static func requireSupport() throws {
        guard DCAppAttestService.shared.isSupported else { throw Failure.unsupported }
    }

    private static func failure(_ error: Error?) -> Failure {
        guard let error = error as NSError? else {
            return .service(code: -1, message: "DCAppAttestService returned neither a value nor an error")
        }
        return .service(code: error.code, message: error.localizedDescription)
    }
}
