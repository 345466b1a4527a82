import Foundation
import MamoriFFI
import Security
import XCTest
@testable import Mamori

/// Mirrors `MamoriTrustManagerTest.kt` at the trust-evaluation level: the bundled example PKI
/// (examples/pinning: a private root, a legitimate chain and a mis-issued chain from the same
/// root) evaluated by the system (`SecTrust` with the example root as its only anchor), then by
/// Mamori, through ``MamoriPinningDelegate/evaluate(trust:host:port:at:)``.
final class PinningTests: XCTestCase {
    /// The example certificates are valid on this date (as in scripts/demo.sh).
    private let at = ISO8601DateFormatter().date(from: "2027-01-01T00:00:00Z")!
    private let host = "api.example.com"

    private var examples: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // MamoriTests
            .deletingLastPathComponent()  // Tests
            .deletingLastPathComponent()  // swift
            .deletingLastPathComponent()  // bindings
            .deletingLastPathComponent()  // repository root
            .appendingPathComponent("examples/pinning")
    }

    private func certificates(_ name: String) throws -> [SecCertificate] {
        let pem = try String(contentsOf: examples.appendingPathComponent(name), encoding: .utf8)
        return pem.components(separatedBy: "-----END CERTIFICATE-----").compactMap { block in
            guard let begin = block.range(of: "-----BEGIN CERTIFICATE-----") else { return nil }
            let body = block[begin.upperBound...].components(separatedBy: .whitespacesAndNewlines).joined()
            guard let der = Data(base64Encoded: body) else { return nil }
            return SecCertificateCreateWithData(nil, der as CFData)
        }
    }

    /// A server trust for `chain` whose only anchor is the example root (or the system roots).
    private func trust(_ chain: String, anchoredAtExampleRoot: Bool = true) throws -> SecTrust {
        var trust: SecTrust?
        let status = SecTrustCreateWithCertificates(
            try certificates(chain) as CFArray, SecPolicyCreateSSL(true, host as CFString), &trust)
        XCTAssertEqual(status, errSecSuccess)
        if anchoredAtExampleRoot {
            SecTrustSetAnchorCertificates(trust!, try certificates("root.pem") as CFArray)
            SecTrustSetAnchorCertificatesOnly(trust!, true)
        }
        return trust!
    }

    private func policy(_ rules: String) throws -> String {
        let root = try String(contentsOf: examples.appendingPathComponent("root.pem"), encoding: .utf8)
        return "[trust]\nmozilla_roots = false\nanchors_pem = \"\"\"\n\(root)\"\"\"\n\n\(rules)\n"
    }

    private final class Reports: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [PinFailureReport] = []
        func add(_ report: PinFailureReport) { lock.lock(); items.append(report); lock.unlock() }
        var all: [PinFailureReport] { lock.lock(); defer { lock.unlock() }; return items }
    }

    func testPinnedHostWithMatchingPinPasses() throws {
        let engine = try PinningEngine.fromFile(path: examples.appendingPathComponent("policy.toml").path)
        let reports = Reports()
        let delegate = MamoriPinningDelegate(engine: engine) { reports.add($0) }
        let decision = try delegate.evaluate(trust: try trust("chain.pem"), host: host, port: 443, at: at)
        XCTAssertEqual(decision.outcome, .allow)
        XCTAssertTrue(decision.pinMatched)
        XCTAssertTrue(reports.all.isEmpty)
    }

    func testMisissuedCertificateIsBlockedWithReport() throws {
        let engine = try PinningEngine.fromFile(path: examples.appendingPathComponent("policy.toml").path)
        let reports = Reports()
        let delegate = MamoriPinningDelegate(engine: engine) { reports.add($0) }
        XCTAssertThrowsError(
            try delegate.evaluate(trust: try trust("misissued-chain.pem"), host: host, port: 443, at: at)
        ) { error in
            guard case let .blocked(decision)? = error as? MamoriPinningError else {
                return XCTFail("expected MamoriPinningError.blocked, got \(error)")
            }
            XCTAssertEqual(decision.failure, .pinMismatch)
            XCTAssertTrue(decision.chainValid)
            XCTAssertTrue(decision.reason.contains("no pin of"), decision.reason)
        }
        XCTAssertEqual(reports.all.count, 1)
        XCTAssertEqual(reports.all.first?.hostname, host)
        XCTAssertEqual(reports.all.first?.enforcePinning, true)
        XCTAssertTrue(reports.all.first?.json.contains("\"validation-result\":1") ?? false)
    }

    func testReportOnlyRulePassesAndReports() throws {
        let spare = "sha256/ZOrvJdSKzA1pMB/NkuqW3Kyiocce7I5f1cTvodiloww="
        let engine = try PinningEngine.fromToml(text: try policy("""
            [[domain]]
            host = "\(host)"
            report_only = true
            pins = ["\(spare)"]
            """))
        let reports = Reports()
        let delegate = MamoriPinningDelegate(engine: engine) { reports.add($0) }
        let decision = try delegate.evaluate(trust: try trust("misissued-chain.pem"), host: host, port: 443, at: at)
        XCTAssertEqual(decision.outcome, .report)
        XCTAssertEqual(reports.all.count, 1)
        XCTAssertEqual(reports.all.first?.enforcePinning, false)
    }

    func testUnpinnedHostPasses() throws {
        let engine = try PinningEngine.fromToml(text: try policy("""
            [[domain]]
            host = "other.example.com"
            pins = ["sha256/ZOrvJdSKzA1pMB/NkuqW3Kyiocce7I5f1cTvodiloww=",
                    "sha256/Y/AjEkrVNQ2RVwJFnvD5EcD9a5r5IF+GFuZO3G42sYo="]
            """))
        let delegate = MamoriPinningDelegate(engine: engine)
        let decision = try delegate.evaluate(trust: try trust("misissued-chain.pem"), host: host, port: 443, at: at)
        XCTAssertEqual(decision.outcome, .allow)
        XCTAssertFalse(decision.pinned)
    }

    func testSystemEvaluationRunsFirstAndItsRefusalStands() throws {
        let engine = try PinningEngine.fromFile(path: examples.appendingPathComponent("policy.toml").path)
        let reports = Reports()
        let delegate = MamoriPinningDelegate(engine: engine) { reports.add($0) }
        // Without the example root as anchor the system refuses the private PKI.
        let systemOnly = try trust("chain.pem", anchoredAtExampleRoot: false)
        XCTAssertThrowsError(try delegate.evaluate(trust: systemOnly, host: host, port: 443, at: at)) { error in
            guard case .platformRejected? = error as? MamoriPinningError else {
                return XCTFail("expected platformRejected, got \(error)")
            }
        }
        XCTAssertTrue(reports.all.isEmpty, "Mamori is not consulted after a system refusal")
    }

    func testInvalidPolicyIsRefusedWithDomainAndField() {
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
}
