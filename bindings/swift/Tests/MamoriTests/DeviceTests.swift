import Foundation
import XCTest
@testable import Mamori
import MamoriFFI

/// Mirrors `DeviceTest.kt`: platform facts in, a typed verdict out, asynchronously.
final class DeviceTests: XCTestCase {
    private let day = ISO8601DateFormatter().date(from: "2026-11-25T12:00:00Z")!

    private func iphone(passcode: Bool = true, version: String = "18.1") -> DeviceFacts {
        DeviceFacts(
            schema: 1,
            platform: .ios,
            osVersion: DeviceCollector.valued(version, api: "ProcessInfo.operatingSystemVersion"),
            androidApiLevel: DeviceCollector.unknown(),
            securityPatch: DeviceCollector.unknown(),
            screenLock: DeviceCollector.flag(passcode, api: "LAContext.canEvaluatePolicy(.deviceOwnerAuthentication)"),
            biometricsEnrolled: DeviceCollector.flag(true, api: "LAContext.biometryType"),
            keystoreLevel: DeviceCollector.valued("secure_enclave", api: "SecureEnclave.isAvailable"),
            debuggerAttached: DeviceCollector.flag(false, api: "sysctl P_TRACED"),
            emulator: DeviceCollector.flag(false, api: "targetEnvironment(simulator)"),
            developerOptions: DeviceCollector.unknown(),
            adbEnabled: DeviceCollector.unknown(),
            installer: DeviceCollector.unknown(),
            signingCertSha256: DeviceCollector.unknown(),
            appId: DeviceCollector.unknown(),
            indicators: []
        )
    }

    func testAppIdIsReportedOnlyWhenTheAppPassesIt() {
        let given = DeviceCollector(appId: "ABCDE12345.jp.bank.app").platformFacts().appId
        XCTAssertEqual(given.state, .present)
        XCTAssertEqual(given.value, "ABCDE12345.jp.bank.app")
        XCTAssertEqual(given.evidence.first?.property, "DeviceCollector(appId:)")
        // No bare bundle id: it would contradict the App ID App Attest proves.
        XCTAssertEqual(DeviceCollector().platformFacts().appId.state, .unknown)
    }

    func testDayStringIsUtcDate() {
        XCTAssertEqual(MamoriDevice.dayString(day), "2026-11-25")
    }

    func testHealthyIphoneIsAllowed() async throws {
        let verdict = try await MamoriDevice.evaluate(
            facts: iphone(), at: day, loadedImages: ["/usr/lib/libSystem.B.dylib"], runProbes: false)
        XCTAssertEqual(verdict.decision, .allow)
        XCTAssertEqual(verdict.evaluatedAt, "2026-11-25")
    }

    func testNoPasscodeAndElleKitBlockWithExplainedFindings() async throws {
        let verdict = try await MamoriDevice.evaluate(
            facts: iphone(passcode: false), at: day,
            loadedImages: ["/private/preboot/ABC/jb-1/procursus/usr/lib/libellekit.dylib"], runProbes: false)
        XCTAssertEqual(verdict.decision, .block)
        let lock = try XCTUnwrap(verdict.findings.first { $0.rule == "device.screen_lock" })
        XCTAssertEqual(lock.guideline, "DEV-3")
        let jailbreak = try XCTUnwrap(verdict.findings.first { $0.rule == "indicators.jailbreak" })
        XCTAssertTrue(jailbreak.indicators.contains("ios.image.libellekit_dylib"))
        XCTAssertEqual(jailbreak.masvs, ["MASVS-RESILIENCE-1"])
    }

    func testOldIosIsBlocked() async throws {
        let verdict = try await MamoriDevice.evaluate(
            facts: iphone(version: "17.7.2"), at: day, runProbes: false)
        XCTAssertEqual(verdict.findings.map(\.rule), ["ios.min_version"])
    }

    func testExportedFactsReevaluateIdentically() async throws {
        let facts = try await MamoriDevice.collect(facts: iphone(passcode: false), runProbes: false)
        let again = try MamoriDevice.importFacts(MamoriDevice.exportFacts(facts))
        XCTAssertEqual(facts, again)
        let a = try await MamoriDevice.reevaluate(facts: facts, policy: MamoriDevice.defaultPolicy, at: day)
        let b = try await MamoriDevice.reevaluate(facts: again, policy: MamoriDevice.defaultPolicy, at: day)
        XCTAssertEqual(a, b)
    }

    func testExampleFactsFromTheRepositoryEvaluateAsTheCliDoes() async throws {
        let json = try String(contentsOf: ExamplePki.directory
            .deletingLastPathComponent()  // examples
            .appendingPathComponent("device/pixel-magisk.json"), encoding: .utf8)
        let verdict = try await MamoriDevice.reevaluate(
            facts: try MamoriDevice.importFacts(json), policy: MamoriDevice.defaultPolicy, at: day)
        XCTAssertEqual(verdict.decision, .block)
        let root = try XCTUnwrap(verdict.findings.first { $0.rule == "indicators.root" })
        XCTAssertTrue(root.indicators.contains("android.magisk.magisk_db"), "\(root.indicators)")
        XCTAssertTrue(root.evidence.contains { $0.path == "/data/adb/magisk.db" && $0.source == .probe })
    }

    func testInvalidFactsThrowNamingTheField() {
        XCTAssertThrowsError(try MamoriDevice.importFacts(#"{"schema":1,"platform":"android","rooted":true}"#)) { error in
            guard case let DeviceError.Facts(detail) = error else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertTrue(detail.contains("rooted"), detail)
        }
    }

    func testInvalidPolicyThrowsNamingTheField() {
        let bad = MamoriDevice.defaultPolicy.replacingOccurrences(
            of: "max_patch_age_days = 365", with: "max_patch_age_days = 0")
        XCTAssertThrowsError(try MamoriDevice.validatePolicy(bad)) { error in
            guard case let DeviceError.Policy(detail) = error else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertTrue(detail.contains("android.max_patch_age_days"), detail)
        }
    }
}
