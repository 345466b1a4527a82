import Foundation
import MamoriFFI
import Security

/// Why ``MamoriPinningDelegate`` refused a server.
public enum MamoriPinningError: Error, CustomStringConvertible {
    /// The system's trust evaluation (`SecTrustEvaluateWithError`) refused the chain; Mamori
    /// was not consulted.
    case platformRejected(host: String, reason: String)
    /// Mamori's engine blocked the chain; the decision carries the reason, the chain's pins and
    /// the rule's pins.
    case blocked(PinDecision)

    public var description: String {
        switch self {
        case let .platformRejected(host, reason):
            return "the system does not trust \(host): \(reason)"
        case let .blocked(decision):
            return "Mamori blocked \(decision.host): \(decision.reason)"
        }
    }
}

/// A `URLSessionDelegate` that pins server certificates with Mamori (guideline DEV-4).
///
/// Defence in depth (BP-1): for every `NSURLAuthenticationMethodServerTrust` challenge the
/// system evaluates the server trust first (`SecTrustEvaluateWithError`, with an SSL policy for
/// the host); only a chain the system accepts goes to Mamori's engine, which validates it
/// against the policy's anchors and matches the pins on the *verified* path. Either one can
/// refuse the connection. Other challenges get the default handling.
///
/// ```swift
/// let engine = try PinningEngine.fromFile(path: pinsURL.path)
/// let delegate = MamoriPinningDelegate(engine: engine) { report in
///     uploader.enqueue(report.json)
/// }
/// let session = URLSession(configuration: .default, delegate: delegate, delegateQueue: nil)
/// ```
///
/// A refused server makes the task fail with `NSURLErrorCancelled`; ``onBlocked`` receives the
/// ``MamoriPinningError`` first, for logging.
///
/// - Note: URLSession caches TLS sessions: a follow-up request on a resumed session may not
///   raise a new challenge. Create the session with this delegate before the first request.
public final class MamoriPinningDelegate: NSObject, URLSessionDelegate, @unchecked Sendable {
    /// The engine deciding on each chain.
    public let engine: PinningEngine

    /// Called (on the delegate queue) with the reason whenever a server is refused.
    public var onBlocked: (@Sendable (MamoriPinningError) -> Void)?

    /// Creates a delegate pinning with `engine`.
    ///
    /// - Parameters:
    ///   - engine: The pinning engine (its policy).
    ///   - appInfo: App facts that reports carry; none by default (LOG-2).
    ///   - onReport: Receives pin failure reports (TrustKit's shape; `report.json` is ready to
    ///     upload), at most once per host, chain and result per 24 hours. Called on the
    ///     handshake thread: queue the upload and return. The listener belongs to this delegate:
    ///     other delegates built from the same engine keep their own.
    public init(
        engine: PinningEngine,
        appInfo: AppInfo = AppInfo(),
        onReport: (@Sendable (PinFailureReport) -> Void)? = nil
    ) {
        if let onReport {
            self.engine = engine.withReportListener(listener: ClosureReportListener(onReport), app: appInfo)
        } else {
            self.engine = engine
        }
        super.init()
    }

    /// Handles server-trust challenges: system evaluation, then Mamori.
    public func urlSession(
        _ session: URLSession,
        didReceive challenge: URLAuthenticationChallenge,
        completionHandler: @escaping (URLSession.AuthChallengeDisposition, URLCredential?) -> Void
    ) {
        guard challenge.protectionSpace.authenticationMethod == NSURLAuthenticationMethodServerTrust,
              let trust = challenge.protectionSpace.serverTrust
        else {
            completionHandler(.performDefaultHandling, nil)
            return
        }
        do {
            _ = try evaluate(
                trust: trust,
                host: challenge.protectionSpace.host,
                port: challenge.protectionSpace.port
            )
            completionHandler(.useCredential, URLCredential(trust: trust))
        } catch let error as MamoriPinningError {
            onBlocked?(error)
            completionHandler(.cancelAuthenticationChallenge, nil)
        } catch {
            completionHandler(.cancelAuthenticationChallenge, nil)
        }
    }

    /// Evaluates `trust` for `host`: the system's evaluation first, then Mamori's engine on the
    /// chain the system evaluated (`SecTrustCopyCertificateChain`).
    ///
    /// - Parameters:
    ///   - trust: The server trust of the challenge.
    ///   - host: The host the client connected to.
    ///   - port: The port (0 if unknown).
    ///   - date: Evaluate at this time instead of now (tests, replays).
    /// - Returns: Mamori's decision (`.allow` or `.report`).
    /// - Throws: ``MamoriPinningError/platformRejected(host:reason:)`` or
    ///   ``MamoriPinningError/blocked(_:)``.
    public func evaluate(trust: SecTrust, host: String, port: Int, at date: Date? = nil) throws -> PinDecision {
        SecTrustSetPolicies(trust, SecPolicyCreateSSL(true, host as CFString))
        if let date {
            SecTrustSetVerifyDate(trust, date as CFDate)
        }
        var trustError: CFError?
        guard SecTrustEvaluateWithError(trust, &trustError) else {
            let reason = trustError.map { CFErrorCopyDescription($0) as String } ?? "not trusted"
            throw MamoriPinningError.platformRejected(host: host, reason: reason)
        }
        let certificates = (SecTrustCopyCertificateChain(trust) as? [SecCertificate]) ?? []
        let chain = certificates.map { SecCertificateCopyData($0) as Data }
        let clampedPort = UInt16(clamping: port)
        let decision: PinDecision
        if let date {
            let seconds = UInt64(max(0, date.timeIntervalSince1970))
            decision = engine.verifyAt(host: host, port: clampedPort, chain: chain, unixSeconds: seconds)
        } else {
            decision = engine.verify(host: host, port: clampedPort, chain: chain)
        }
        if decision.outcome == .block {
            throw MamoriPinningError.blocked(decision)
        }
        return decision
    }
}

/// Adapts a Swift closure to the engine's report listener.
final class ClosureReportListener: PinReportListener, @unchecked Sendable {
    private let handler: @Sendable (PinFailureReport) -> Void

    init(_ handler: @escaping @Sendable (PinFailureReport) -> Void) {
        self.handler = handler
    }

    func onReport(report: PinFailureReport) {
        handler(report)
    }
}
