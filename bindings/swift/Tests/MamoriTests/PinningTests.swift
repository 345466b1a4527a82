import Foundation
import MamoriFFI
import Security
import XCTest
@testable import Mamori

/// The bundled example PKI (examples/pinning: a private root, a legitimate chain and a
/// mis-issued chain from the same root), as `SecTrust`s and policies.
enum ExamplePki {
    /// The example certificates are valid on this date (as in scripts/demo.sh).
    static let at = ISO8601DateFormatter().date(from: "2027-01-01T00:00:00Z")!
    static let host = "api.example.com"
    static let spare = "sha256/ZOrvJdSKzA1pMB/NkuqW3Kyiocce7I5f1cTvodiloww="
    static let spare2 = "sha256/Y/AjEkrVNQ2RVwJFnvD5EcD9a5r5IF+GFuZO3G42sYo="

    static var directory: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // MamoriTests
            .deletingLastPathComponent()  // Tests
            .deletingLastPathComponent()  // swift
            .deletingLastPathComponent()  // bindings
            .deletingLastPathComponent()  // repository root
            .appendingPathComponent("examples/pinning")
    }

    static var policyFile: String { directory.appendingPathComponent("policy.toml").path }

    static func certificates(_ name: String) throws -> [SecCertificate] {
        let pem = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
        return pem.components(separatedBy: "-----END CERTIFICATE-----").compactMap { block in
            guard let begin = block.range(of: "-----BEGIN CERTIFICATE-----") else { return nil }
            let body = block[begin.upperBound...].components(separatedBy: .whitespacesAndNewlines).joined()
            guard let der = Data(base64Encoded: body) else { return nil }
            return SecCertificateCreateWithData(nil, der as CFData)
        }
    }

    /// A server trust for `chain`, as URLSession hands it over: no anchors set by the test
    /// (the system roots), unless `anchoredAtExampleRoot`.
    static func trust(_ chain: String, anchoredAtExampleRoot: Bool = false) throws -> SecTrust {
        var trust: SecTrust?
        let status = SecTrustCreateWithCertificates(
            try certificates(chain) as CFArray, SecPolicyCreateSSL(true, host as CFString), &trust)
        XCTAssertEqual(status, errSecSuccess)
        let created = try XCTUnwrap(trust)
        if anchoredAtExampleRoot {
            XCTAssertEqual(SecTrustSetAnchorCertificates(created, try certificates("root.pem") as CFArray), errSecSuccess)
            XCTAssertEqual(SecTrustSetAnchorCertificatesOnly(created, true), errSecSuccess)
        }
        return created
    }

    /// A TOML policy anchored at the example root only, with `rules`.
    static func policy(_ rules: String) throws -> String {
        let root = try String(contentsOf: directory.appendingPathComponent("root.pem"), encoding: .utf8)
        return "[trust]\nmozilla_roots = false\nanchors_pem = \"\"\"\n\(root)\"\"\"\n\n\(rules)\n"
    }

    static func rule(_ host: String, _ pins: [String], reportOnly: Bool = false) -> String {
        let list = pins.map { "\"\($0)\"" }.joined(separator: ", ")
        return "[[domain]]\nhost = \"\(host)\"\nreport_only = \(reportOnly)\npins = [\(list)]\n"
    }
}

/// Thread-safe collector of what a closure receives.
final class Collected<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [T] = []
    func add(_ item: T) { lock.lock(); items.append(item); lock.unlock() }
    var all: [T] { lock.lock(); defer { lock.unlock() }; return items }
}

/// Mirrors `MamoriTrustManagerTest.kt` and `ConcurrencyTest.kt` at the trust-evaluation level:
/// the system evaluates the `SecTrust` (anchored by the validator at the policy's own roots),
/// then Mamori, through ``MamoriPinningValidator``. Decisions are read through `outcome`,
/// `host` and `reason` only.
final class PinningTests: XCTestCase {
    private let host = ExamplePki.host
    private let at = ExamplePki.at

    func testPrivatePkiPinnedHostPassesWithThePolicysOwnAnchors() throws {
        // The trust has no anchors of its own: only the validator's SecTrustSetAnchorCertificates
        // (from the policy's anchor_files) lets the system accept the private root.
        let engine = try PinningEngine.fromFile(path: ExamplePki.policyFile)
        XCTAssertTrue(engine.isPinned(host: host))
        XCTAssertEqual(engine.anchorCertificates().count, 1)
        XCTAssertFalse(engine.trustsPublicRoots())
        let reports = Collected<PinFailureReport>()
        let validator = MamoriPinningValidator(engine: engine, onReport: { reports.add($0) })
        let decision = try validator.evaluate(trust: try ExamplePki.trust("chain.pem"), host: host, port: 443, at: at)
        XCTAssertEqual(decision.outcome, .allow)
        XCTAssertEqual(decision.host, host)
        XCTAssertTrue(reports.all.isEmpty)
    }

    func testWrongPinsBlockWithAClearErrorAndAReport() throws {
        let engine = try PinningEngine.fromFile(path: ExamplePki.policyFile)
        let reports = Collected<PinFailureReport>()
        let blocked = Collected<MamoriPinningError>()
        let validator = MamoriPinningValidator(
            engine: engine, onReport: { reports.add($0) }, onBlocked: { blocked.add($0) })
        XCTAssertThrowsError(
            try validator.evaluate(trust: try ExamplePki.trust("misissued-chain.pem"), host: host, port: 443, at: at)
        ) { error in
            guard case let .blocked(decision)? = error as? MamoriPinningError else {
                return XCTFail("expected MamoriPinningError.blocked, got \(error)")
            }
            XCTAssertEqual(decision.outcome, .block)
            XCTAssertEqual(decision.host, self.host)
            XCTAssertTrue(decision.reason.contains("no pin of \(self.host) matched"), decision.reason)
            XCTAssertTrue("\(error)".hasPrefix("Mamori blocked \(self.host): "), "\(error)")
        }
        XCTAssertEqual(reports.all.count, 1, "one report, to this validator's listener")
        XCTAssertTrue(blocked.all.isEmpty, "evaluate throws; onBlocked is for handle(challenge:)")
    }

    func testReportOnlyRulePassesAndReports() throws {
        let engine = try PinningEngine.fromToml(
            text: try ExamplePki.policy(ExamplePki.rule(host, [ExamplePki.spare, ExamplePki.spare2], reportOnly: true)))
        let reports = Collected<PinFailureReport>()
        let validator = MamoriPinningValidator(engine: engine, onReport: { reports.add($0) })
        let decision = try validator.evaluate(trust: try ExamplePki.trust("misissued-chain.pem"), host: host, port: 443, at: at)
        XCTAssertEqual(decision.outcome, .report)
        XCTAssertEqual(reports.all.count, 1)
    }

    func testUnpinnedHostPassesWhileAnotherHostIsPinnedWrongly() throws {
        let engine = try PinningEngine.fromToml(
            text: try ExamplePki.policy(ExamplePki.rule("other.example.com", [ExamplePki.spare, ExamplePki.spare2])))
        let validator = MamoriPinningValidator(engine: engine)
        let decision = try validator.evaluate(trust: try ExamplePki.trust("misissued-chain.pem"), host: host, port: 443, at: at)
        XCTAssertEqual(decision.outcome, .allow)
        XCTAssertFalse(engine.isPinned(host: host))
    }

    func testThePlatformEvaluationRunsFirstAndItsRefusalStands() throws {
        // A policy on the public roots only: the validator sets no anchors, and the system,
        // which does not know the example root, refuses before Mamori is consulted.
        let engine = try PinningEngine.fromToml(
            text: "[trust]\nmozilla_roots = true\n\n" + ExamplePki.rule(host, [ExamplePki.spare, ExamplePki.spare2]))
        XCTAssertTrue(engine.anchorCertificates().isEmpty)
        let reports = Collected<PinFailureReport>()
        let validator = MamoriPinningValidator(engine: engine, onReport: { reports.add($0) })
        XCTAssertThrowsError(try validator.evaluate(trust: try ExamplePki.trust("chain.pem"), host: host, port: 443, at: at)) { error in
            guard case .platformRejected? = error as? MamoriPinningError else {
                return XCTFail("expected platformRejected, got \(error)")
            }
        }
        XCTAssertTrue(reports.all.isEmpty, "Mamori is not consulted after a system refusal")
    }

    func testMamoriRefusesAChainOutsideThePolicysAnchorsEvenIfThePlatformTrustsIt() throws {
        // The system trusts the example root (set on the trust, as a device with the root
        // installed by the user would); the policy trusts the public roots only: Mamori blocks.
        let engine = try PinningEngine.fromToml(
            text: "[trust]\nmozilla_roots = true\n\n" + ExamplePki.rule(host, [ExamplePki.spare, ExamplePki.spare2]))
        let validator = MamoriPinningValidator(engine: engine)
        let trust = try ExamplePki.trust("chain.pem", anchoredAtExampleRoot: true)
        XCTAssertThrowsError(try validator.evaluate(trust: trust, host: host, port: 443, at: at)) { error in
            guard case let .blocked(decision)? = error as? MamoriPinningError else {
                return XCTFail("expected blocked, got \(error)")
            }
            XCTAssertEqual(decision.outcome, .block)
        }
    }

    func testAnInvalidPolicyIsRefusedWithTheDomainAndField() {
        XCTAssertThrowsError(try PinningEngine.fromToml(text: """
            [[domain]]
            host = "api.example.com"
            pins = ["sha256/ZOrvJdSKzA1pMB/NkuqW3Kyiocce7I5f1cTvodiloww="]
            """)) { error in
            guard case let .InvalidPolicy(origin, problems, _)? = error as? PinPolicyError else {
                return XCTFail("expected PinPolicyError.InvalidPolicy, got \(error)")
            }
            XCTAssertEqual(origin, "<inline>")
            XCTAssertTrue(problems.contains { $0.contains("api.example.com") && $0.contains("two distinct pins") })
        }
    }

    // MARK: - URLSession integration

    /// A protection space carrying a server trust, as URLSession builds it.
    private final class TrustSpace: URLProtectionSpace {
        private let trust: SecTrust?
        init(host: String, trust: SecTrust?, method: String) {
            self.trust = trust
            super.init(host: host, port: 443, protocol: NSURLProtectionSpaceHTTPS, realm: nil, authenticationMethod: method)
        }
        required init?(coder: NSCoder) { nil }
        override var serverTrust: SecTrust? { trust }
    }

    private final class NoSender: NSObject, URLAuthenticationChallengeSender {
        func use(_ credential: URLCredential, for challenge: URLAuthenticationChallenge) {}
        func continueWithoutCredential(for challenge: URLAuthenticationChallenge) {}
        func cancel(_ challenge: URLAuthenticationChallenge) {}
    }

    private func challenge(_ space: URLProtectionSpace) -> URLAuthenticationChallenge {
        URLAuthenticationChallenge(
            protectionSpace: space, proposedCredential: nil, previousFailureCount: 0,
            failureResponse: nil, error: nil, sender: NoSender())
    }

    func testTheValidatorAnswersServerTrustChallengesOnlyAndReportsRefusals() throws {
        let engine = try PinningEngine.fromFile(path: ExamplePki.policyFile)
        let blocked = Collected<MamoriPinningError>()
        let validator = MamoriPinningValidator(engine: engine, onBlocked: { blocked.add($0) })
        let dispositions = Collected<URLSession.AuthChallengeDisposition>()

        // HTTP basic auth is the app's: not handled, completion handler not called.
        let basic = challenge(TrustSpace(host: host, trust: nil, method: NSURLAuthenticationMethodHTTPBasic))
        XCTAssertFalse(validator.handle(challenge: basic) { disposition, _ in dispositions.add(disposition) })
        XCTAssertTrue(dispositions.all.isEmpty)

        // The mis-issued chain, evaluated now (not at the examples' date): refused by the
        // system (dates) or by Mamori (pins); refused either way, and onBlocked hears it once.
        let misissued = challenge(TrustSpace(
            host: host, trust: try ExamplePki.trust("misissued-chain.pem"), method: NSURLAuthenticationMethodServerTrust))
        XCTAssertTrue(validator.handle(challenge: misissued) { disposition, _ in dispositions.add(disposition) })
        XCTAssertEqual(dispositions.all, [.cancelAuthenticationChallenge])
        XCTAssertEqual(blocked.all.count, 1)
    }

    func testTheDelegateIsATaskDelegateForDataForDelegate() throws {
        let engine = try PinningEngine.fromFile(path: ExamplePki.policyFile)
        let delegate = MamoriPinningDelegate(engine: engine)
        // `URLSession.data(for:delegate:)` takes a URLSessionTaskDelegate.
        let taskDelegate: URLSessionTaskDelegate = delegate
        XCTAssertTrue(taskDelegate === delegate)
        XCTAssertTrue(delegate.validator.engine.isPinned(host: host))
    }

    // MARK: - ConcurrencyTest.kt

    func testConcurrentEvaluationsAgreeAndARepeatedFailureIsReportedOnce() throws {
        let engine = try PinningEngine.fromToml(
            text: try ExamplePki.policy(ExamplePki.rule(host, [ExamplePki.spare, ExamplePki.spare2])))
        let reports = Collected<PinFailureReport>()
        let validator = MamoriPinningValidator(engine: engine, onReport: { reports.add($0) })
        let outcomes = Collected<PinOutcome?>()
        let trusts = try (0..<64).map { _ in try ExamplePki.trust("chain.pem") }
        DispatchQueue.concurrentPerform(iterations: 64) { i in
            do {
                let decision = try validator.evaluate(trust: trusts[i], host: ExamplePki.host, port: 443, at: ExamplePki.at)
                outcomes.add(decision.outcome)
            } catch let MamoriPinningError.blocked(decision) {
                outcomes.add(decision.outcome)
            } catch {
                outcomes.add(nil)
            }
        }
        XCTAssertEqual(outcomes.all, Array(repeating: Optional(PinOutcome.block), count: 64))
        // 64 identical failures (same host, chain, result) within 24 h: one report.
        XCTAssertEqual(reports.all.count, 1)
    }

    func testEachValidatorKeepsItsOwnReportListener() throws {
        let engine = try PinningEngine.fromToml(
            text: try ExamplePki.policy(ExamplePki.rule(host, [ExamplePki.spare, ExamplePki.spare2])))
        let first = Collected<PinFailureReport>()
        let second = Collected<PinFailureReport>()
        let one = MamoriPinningValidator(engine: engine, onReport: { first.add($0) })
        let two = MamoriPinningValidator(engine: engine, onReport: { second.add($0) })
        for validator in [one, two] {
            XCTAssertThrowsError(
                try validator.evaluate(trust: try ExamplePki.trust("chain.pem"), host: host, port: 443, at: at))
        }
        XCTAssertEqual(first.all.count, 1)
        XCTAssertEqual(second.all.count, 1)
        // The shared engine itself has no listener.
        XCTAssertThrowsError(try MamoriPinningValidator(engine: engine).evaluate(
            trust: try ExamplePki.trust("chain.pem"), host: host, port: 443, at: at))
        XCTAssertEqual(first.all.count + second.all.count, 2)
    }
}
