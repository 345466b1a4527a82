import Foundation
import MamoriFFI
import Security

/// Why ``MamoriPinningValidator`` refused a server.
public enum MamoriPinningError: Error, CustomStringConvertible, Sendable {
    /// The system's trust evaluation (`SecTrustEvaluateWithError`, anchored at the policy's own
    /// roots when it names any) refused the chain; Mamori's engine was not consulted.
    case platformRejected(host: String, reason: String)
    /// Mamori's engine blocked the chain (guideline DEV-4); `decision.reason` says why.
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

/// Certificate pinning for `URLSession` that an app calls from its own delegate (guideline
/// DEV-4), as TrustKit's `TSKPinningValidator` and Alamofire's `ServerTrustManager` do.
///
/// Defence in depth (BP-1): for a server-trust challenge the system evaluates the trust first,
/// with an SSL policy for the host and, when the pin policy names its own anchors (a private
/// PKI: `anchor_files`, `anchors_pem`), with exactly those anchors set on the `SecTrust`
/// (`SecTrustSetAnchorCertificates`; `SecTrustSetAnchorCertificatesOnly` unless the policy also
/// trusts the public roots). Only a chain the system accepts goes to Mamori's engine, which
/// validates it against the same anchors and matches the pins on the *verified* path.
///
/// ```swift
/// func urlSession(_ session: URLSession, didReceive challenge: URLAuthenticationChallenge,
///                 completionHandler: @escaping (URLSession.AuthChallengeDisposition, URLCredential?) -> Void) {
///     if validator.handle(challenge: challenge, completionHandler: completionHandler) { return }
///     completionHandler(.performDefaultHandling, nil)  // not a server-trust challenge: yours
/// }
/// ```
///
/// Immutable and `Sendable`: every stored property is a `let` of a `Sendable` type, so one
/// validator serves every session and thread.
public final class MamoriPinningValidator: Sendable {
    /// The engine deciding on each chain (with this validator's own report listener, if any).
    public let engine: PinningEngine
    /// Called with the reason whenever a server is refused (on the thread of the challenge).
    public let onBlocked: (@Sendable (MamoriPinningError) -> Void)?
    /// The policy's custom anchors, DER (empty: the system roots only).
    private let anchors: [Data]
    /// Whether the system roots stay trusted next to `anchors`.
    private let trustsPublicRoots: Bool
    /// Who validates the chain before the pins: `.mamori` (the engine validates the chain the
    /// system evaluated again, defence in depth, BP-1) or `.platform` (the engine pins the
    /// system-verified chain, `SecTrustCopyCertificateChain`, after checking the host name).
    public let chainValidation: ChainValidation

    /// Creates a validator pinning with `engine`.
    ///
    /// - Parameters:
    ///   - engine: The pinning engine (its policy).
    ///   - appInfo: App facts that reports carry; none by default (LOG-2).
    ///   - onReport: Receives pin failure reports (LOG-1, LOG-4), at most once per host, chain
    ///     and result per 24 hours. Called on the handshake thread: queue the upload and return.
    ///     The listener belongs to this validator: others built from the same engine keep theirs.
    ///   - onBlocked: Called with the error whenever a server is refused, for logging.
    ///   - chainValidation: ``chainValidation``; `.mamori` by default.
    public init(
        engine: PinningEngine,
        appInfo: AppInfo = AppInfo(),
        onReport: (@Sendable (PinFailureReport) -> Void)? = nil,
        onBlocked: (@Sendable (MamoriPinningError) -> Void)? = nil,
        chainValidation: ChainValidation = .mamori
    ) {
        self.chainValidation = chainValidation
        if let onReport {
            self.engine = engine.withReportListener(
                listener: ClosureReportListener(onReport), app: appInfo)
        } else {
            self.engine = engine
        }
        self.onBlocked = onBlocked
        self.anchors = engine.anchorCertificates()
        self.trustsPublicRoots = engine.trustsPublicRoots()
    }

    /// Handles `challenge` if it is a server-trust challenge: evaluates it and calls
    /// `completionHandler` with `.useCredential` (accepted) or `.cancelAuthenticationChallenge`
    /// (refused; the task fails with `NSURLErrorCancelled` and ``onBlocked`` hears why).
    ///
    /// - Returns: `true` when it called `completionHandler`; `false` for any other challenge
    ///   (client certificates, HTTP auth), which stays the app's to answer.
    @discardableResult
    public func handle(
        challenge: URLAuthenticationChallenge,
        completionHandler: @escaping (URLSession.AuthChallengeDisposition, URLCredential?) -> Void
    ) -> Bool {
        let space = challenge.protectionSpace
        guard space.authenticationMethod == NSURLAuthenticationMethodServerTrust,
              let trust = space.serverTrust
        else {
            return false
        }
        do {
            _ = try evaluate(trust: trust, host: space.host, port: space.port)
            completionHandler(.useCredential, URLCredential(trust: trust))
        } catch let error as MamoriPinningError {
            onBlocked?(error)
            completionHandler(.cancelAuthenticationChallenge, nil)
        } catch {
            onBlocked?(.platformRejected(host: space.host, reason: "\(error)"))
            completionHandler(.cancelAuthenticationChallenge, nil)
        }
        return true
    }

    /// Evaluates `trust` for `host`: the system's evaluation first (anchored at the policy's
    /// roots), then Mamori's engine on the chain the system evaluated
    /// (`SecTrustCopyCertificateChain`).
    ///
    /// - Parameters:
    ///   - trust: The server trust of the challenge.
    ///   - host: The host the client connected to.
    ///   - port: The port (0 if unknown).
    ///   - date: Evaluate at this time instead of now (tests, replays).
    /// - Returns: Mamori's decision: `decision.outcome` is `.allow` or `.report`.
    /// - Throws: ``MamoriPinningError/platformRejected(host:reason:)`` or
    ///   ``MamoriPinningError/blocked(_:)``.
    public func evaluate(trust: SecTrust, host: String, port: Int = 0, at date: Date? = nil) throws
        -> PinDecision
    {
        try prepare(trust: trust, host: host, at: date)
        var trustError: CFError?
        guard SecTrustEvaluateWithError(trust, &trustError) else {
            let reason = trustError.map { ($0 as Error).localizedDescription } ?? "not trusted"
            throw MamoriPinningError.platformRejected(host: host, reason: reason)
        }
        let certificates = (SecTrustCopyCertificateChain(trust) as? [SecCertificate]) ?? []
        let chain = certificates.map { SecCertificateCopyData($0) as Data }
        let clampedPort = UInt16(clamping: port)
        let seconds = date.map { UInt64(max(0, $0.timeIntervalSince1970)) }
        let decision = engine.verifyWith(
            host: host, port: clampedPort, chain: chain, validation: chainValidation,
            unixSeconds: seconds)
        if decision.outcome == .block {
            throw MamoriPinningError.blocked(decision)
        }
        return decision
    }

    /// Sets the SSL policy for `host`, the policy's anchors and the verify date on `trust`.
    private func prepare(trust: SecTrust, host: String, at date: Date?) throws {
        var status = SecTrustSetPolicies(trust, SecPolicyCreateSSL(true, host as CFString))
        guard status == errSecSuccess else {
            throw MamoriPinningError.platformRejected(
                host: host, reason: "SecTrustSetPolicies failed: \(Self.message(status))")
        }
        if !anchors.isEmpty {
            let roots = anchors.compactMap { SecCertificateCreateWithData(nil, $0 as CFData) }
            guard roots.count == anchors.count else {
                throw MamoriPinningError.platformRejected(
                    host: host, reason: "a policy anchor is not a DER certificate")
            }
            status = SecTrustSetAnchorCertificates(trust, roots as CFArray)
            if status == errSecSuccess {
                status = SecTrustSetAnchorCertificatesOnly(trust, !trustsPublicRoots)
            }
            guard status == errSecSuccess else {
                throw MamoriPinningError.platformRejected(
                    host: host, reason: "cannot set the policy's anchors: \(Self.message(status))")
            }
        }
        if let date {
            status = SecTrustSetVerifyDate(trust, date as CFDate)
            guard status == errSecSuccess else {
                throw MamoriPinningError.platformRejected(
                    host: host, reason: "SecTrustSetVerifyDate failed: \(Self.message(status))")
            }
        }
    }

    static func message(_ status: OSStatus) -> String {
        let text = SecCopyErrorMessageString(status, nil) as String? ?? "OSStatus"
        return "\(text) (\(status))"
    }
}

/// A `URLSessionTaskDelegate` that pins with a ``MamoriPinningValidator`` (guideline DEV-4).
///
/// Use it as the delegate of a session of your own, used for the pinned hosts:
///
/// ```swift
/// let pinning = MamoriPinningDelegate(engine: try PinningEngine.fromFile(path: pinsPath))
/// let session = URLSession(configuration: .ephemeral, delegate: pinning, delegateQueue: nil)
/// let (data, _) = try await session.data(from: url)
/// ```
///
/// Not per request on a shared session (`URLSession.shared.data(for:delegate:)`): a request
/// that reuses a pooled connection or a resumed TLS session raises no server-trust challenge, so
/// a connection another request opened to the pinned host without this delegate (an SDK, an
/// image load) would carry the pinned request unchecked. It adopts `URLSessionTaskDelegate` so
/// that a task delegate on *your* pinned session also works.
///
/// Apps with a delegate of their own call ``MamoriPinningValidator/handle(challenge:completionHandler:)``
/// from it instead. Immutable and `Sendable` (its only stored property is the validator).
///
/// - Note: URLSession caches TLS sessions (per process, Apple QA1727): a follow-up request on a
///   resumed TLS session may not raise a new challenge. Pin from the first request of the
///   session, and keep the pinned hosts on sessions whose delegate is Mamori's.
public final class MamoriPinningDelegate: NSObject, URLSessionTaskDelegate, Sendable {
    /// The validator answering server-trust challenges.
    public let validator: MamoriPinningValidator

    /// A delegate for `validator`.
    public init(validator: MamoriPinningValidator) {
        self.validator = validator
        super.init()
    }

    /// A delegate with its own validator; the parameters are those of
    /// ``MamoriPinningValidator/init(engine:appInfo:onReport:onBlocked:chainValidation:)``.
    public convenience init(
        engine: PinningEngine,
        appInfo: AppInfo = AppInfo(),
        onReport: (@Sendable (PinFailureReport) -> Void)? = nil,
        onBlocked: (@Sendable (MamoriPinningError) -> Void)? = nil,
        chainValidation: ChainValidation = .mamori
    ) {
        self.init(
            validator: MamoriPinningValidator(
                engine: engine, appInfo: appInfo, onReport: onReport, onBlocked: onBlocked,
                chainValidation: chainValidation))
    }

    /// Session-level challenges (the session's delegate).
    public func urlSession(
        _ session: URLSession,
        didReceive challenge: URLAuthenticationChallenge,
        completionHandler: @escaping (URLSession.AuthChallengeDisposition, URLCredential?) -> Void
    ) {
        if !validator.handle(challenge: challenge, completionHandler: completionHandler) {
            completionHandler(.performDefaultHandling, nil)
        }
    }

    /// Task-level challenges (a task delegate, e.g. `URLSession.data(for:delegate:)`).
    public func urlSession(
        _ session: URLSession,
        task: URLSessionTask,
        didReceive challenge: URLAuthenticationChallenge,
        completionHandler: @escaping (URLSession.AuthChallengeDisposition, URLCredential?) -> Void
    ) {
        if !validator.handle(challenge: challenge, completionHandler: completionHandler) {
            completionHandler(.performDefaultHandling, nil)
        }
    }
}

/// Adapts a Swift closure to the engine's report listener. `@unchecked` is not needed: its
/// only stored property is a `let` `@Sendable` closure.
final class ClosureReportListener: PinReportListener, Sendable {
    private let handler: @Sendable (PinFailureReport) -> Void

    init(_ handler: @escaping @Sendable (PinFailureReport) -> Void) {
        self.handler = handler
    }

    func onReport(report: PinFailureReport) {
        handler(report)
    }
}
