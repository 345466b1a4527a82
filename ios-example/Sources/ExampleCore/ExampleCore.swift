import Foundation
import Mamori
import MamoriFFI

/// The example's pin policy (guideline DEV-4): the public roots, one host pinned to two keys
/// that are *not* its keys, so that a call to it is blocked visibly; every other host is only
/// validated. A real app pins its own API host to its CA's key and a backup key (BP-5).
public enum ExamplePolicy {
    /// A host whose pins deliberately do not match: its call is blocked.
    public static let blockedHost = "github.com"
    /// A host without a pin rule: its call is allowed after chain validation.
    public static let allowedHost = "www.apple.com"

    public static let toml = """
        [trust]
        mozilla_roots = true

        [[domain]]
        host = "github.com"
        pins = [
          "sha256/ZOrvJdSKzA1pMB/NkuqW3Kyiocce7I5f1cTvodiloww=",
          "sha256/Y/AjEkrVNQ2RVwJFnvD5EcD9a5r5IF+GFuZO3G42sYo=",
        ]
        """
}

/// What the screen shows for one pinned HTTPS call.
public struct PinnedCallResult: Equatable, Sendable {
    /// The host called.
    public let host: String
    /// Whether the request went through.
    public let allowed: Bool
    /// The HTTP status, or why the call was refused.
    public let detail: String
}

/// Screen texts, kept out of the views so that they are tested.
public enum ExampleText {
    /// One line per finding: decision, rule, guideline item and what to do.
    public static func verdictLines(_ verdict: DeviceVerdict) -> [String] {
        let head = "Device: \(verdict.decision) (policy \(verdict.policyName))"
        let findings = verdict.findings.map { finding in
            "\(finding.decision) \(finding.rule) [\(finding.guideline)]: \(finding.remediation)"
        }
        return [head] + findings
    }

    /// The result of a call that failed with `error`; `blocked` is what the pinning validator
    /// reported for the host, if anything.
    public static func failure(host: String, error: Error, blocked: MamoriPinningError?) -> PinnedCallResult {
        if let blocked {
            return PinnedCallResult(host: host, allowed: false, detail: blocked.description)
        }
        return PinnedCallResult(host: host, allowed: false, detail: error.localizedDescription)
    }

    /// The app passcode check (DEV-3) as a sentence.
    public static func passcode(_ check: PasscodeCheck) -> String {
        switch check {
        case .verified:
            return "Passcode accepted"
        case let .rejected(failures, retryAfter, attemptsBeforeWipe):
            var text = "Wrong passcode (\(failures) failure(s))"
            if retryAfter > 0 { text += ", retry in \(Int(retryAfter)) s" }
            if let left = attemptsBeforeWipe { text += ", \(left) attempt(s) before the vault is wiped" }
            return text
        }
    }
}

/// Thread-safe record of the last refusal per host (the validator calls back on the handshake
/// thread).
final class BlockedLog: @unchecked Sendable {
    private let lock = NSLock()
    private var last: [String: MamoriPinningError] = [:]

    func record(_ error: MamoriPinningError) {
        let host: String
        switch error {
        case let .platformRejected(name, _):
            host = name
        case let .blocked(decision):
            host = decision.host
        }
        lock.lock()
        last[host] = error
        lock.unlock()
    }

    func take(_ host: String) -> MamoriPinningError? {
        lock.lock()
        defer { lock.unlock() }
        return last.removeValue(forKey: host)
    }
}

/// The example's pinned `URLSession` (DEV-4).
public final class PinnedClient: Sendable {
    private let log: BlockedLog
    private let session: URLSession
    /// The delegate pinning every request of `session`.
    public let pinning: MamoriPinningDelegate

    /// A client pinning with `policyToml`; reports go to `onReport` (LOG-1).
    public init(policyToml: String = ExamplePolicy.toml, onReport: (@Sendable (PinFailureReport) -> Void)? = nil) throws {
        let engine = try PinningEngine.fromToml(text: policyToml)
        let log = BlockedLog()
        self.log = log
        pinning = MamoriPinningDelegate(engine: engine, onReport: onReport, onBlocked: { log.record($0) })
        session = URLSession(configuration: .ephemeral, delegate: pinning, delegateQueue: nil)
    }

    /// GETs `https://host/` and says whether the pinning let it through.
    public func call(host: String) async -> PinnedCallResult {
        guard let url = URL(string: "https://\(host)/") else {
            return PinnedCallResult(host: host, allowed: false, detail: "not a host name")
        }
        do {
            let (_, response) = try await session.data(from: url)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            return PinnedCallResult(host: host, allowed: true, detail: "HTTP \(status)")
        } catch {
            return ExampleText.failure(host: host, error: error, blocked: log.take(host))
        }
    }
}

/// The example's vault: a token behind Face ID, Touch ID or the device passcode (DEV-1, DEV-3).
///
/// On a device the key is a ``SecureEnclaveKek`` that requires user presence; in the Simulator
/// (no Secure Enclave) a ``SoftwareKek``, which the store accepts only because this example
/// opens it with `minSecurityLevel: .software` there.
public enum ExampleVault {
    /// Opens (or creates) the vault in Application Support, excluded from backups.
    public static func open() async throws -> AsyncSecureStorage {
        var directory = try FileManager.default.url(
            for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true
        ).appendingPathComponent("vault", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var values = URLResourceValues()
        values.isExcludedFromBackup = true
        try directory.setResourceValues(values)
        #if targetEnvironment(simulator)
            let kek = try SoftwareKek.loadOrCreate(account: "jp.mamori.example.vault")
            return try await AsyncSecureStorage.open(directory: directory, kek: kek, minSecurityLevel: .software, keyCache: 60)
        #else
            let kek = try SecureEnclaveKek.loadOrCreate(
                tag: "jp.mamori.example.vault",
                options: SecureEnclaveKek.Options(flags: [.privateKeyUsage, .userPresence], authenticationValidity: 60))
            return try await AsyncSecureStorage.open(directory: directory, kek: kek, keyCache: 60)
        #endif
    }
}
