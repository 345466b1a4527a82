import Foundation
import Mamori
import MamoriFFI
import XCTest
@testable import ExampleCore

/// The example's non-UI logic: its policy, its screen texts, its refusal log.
final class ExampleCoreTests: XCTestCase {
    func testThePolicyPinsTheBlockedHostOnly() throws {
        let engine = try PinningEngine.fromToml(text: ExamplePolicy.toml)
        XCTAssertTrue(engine.isPinned(host: ExamplePolicy.blockedHost))
        XCTAssertFalse(engine.isPinned(host: ExamplePolicy.allowedHost))
        XCTAssertTrue(engine.trustsPublicRoots())
        XCTAssertNoThrow(try PinnedClient())
    }

    func testPasscodeTexts() {
        XCTAssertEqual(ExampleText.passcode(.verified), "Passcode accepted")
        XCTAssertEqual(
            ExampleText.passcode(.rejected(failures: 2, retryAfter: 30, attemptsBeforeWipe: 3)),
            "Wrong passcode (2 failure(s)), retry in 30 s, 3 attempt(s) before the vault is wiped")
        XCTAssertEqual(
            ExampleText.passcode(.rejected(failures: 1, retryAfter: 0, attemptsBeforeWipe: nil)),
            "Wrong passcode (1 failure(s))")
    }

    func testARefusalNamesTheHostAndWhy() {
        let refused = MamoriPinningError.platformRejected(host: "github.com", reason: "not trusted")
        let log = BlockedLog()
        log.record(refused)
        let result = ExampleText.failure(host: "github.com", error: URLError(.cancelled), blocked: log.take("github.com"))
        XCTAssertFalse(result.allowed)
        XCTAssertEqual(result.detail, "the system does not trust github.com: not trusted")
        XCTAssertNil(log.take("github.com"), "taken once")
        let plain = ExampleText.failure(host: "h", error: URLError(.notConnectedToInternet), blocked: nil)
        XCTAssertFalse(plain.allowed)
    }

    func testTheVerdictLinesCiteTheGuideline() async throws {
        var facts = DeviceCollector().platformFacts()
        facts.screenLock = DeviceFact(state: .absent, value: nil, evidence: [])
        let verdict = try await MamoriDevice.evaluate(facts: facts, runProbes: false)
        let lines = ExampleText.verdictLines(verdict)
        XCTAssertTrue(lines[0].hasPrefix("Device: "), lines[0])
        XCTAssertTrue(lines.contains { $0.contains("device.screen_lock [DEV-3]") }, "\(lines)")
    }
}
