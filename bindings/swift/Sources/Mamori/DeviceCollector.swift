import CryptoKit
import Darwin
import Foundation
import LocalAuthentication
import MachO
import MamoriFFI

/// Hardware keystore levels, as the device policy names them.
public enum KeystoreLevel: String {
    case none
    case tee
    case strongBox = "strongbox"
    case secureEnclave = "secure_enclave"
}

/// Device OS security level (guideline DEV-2): from platform facts to a verdict in one
/// `async` call.
///
/// The Rust side runs its probes and the policy on its own worker thread, so awaiting these
/// from the main actor never blocks the UI. Failures throw ``DeviceError``
/// (`.Policy`, `.Facts`, `.Date`, `.Internal`), whose `detail` names the problem.
public enum MamoriDevice {
    /// The shipped FinTech default policy (TOML).
    public static var defaultPolicy: String { deviceDefaultPolicy() }

    /// Throws ``DeviceError`` naming the field if `policy` (TOML or JSON) is invalid.
    public static func validatePolicy(_ policy: String) throws {
        try validateDevicePolicy(policy: policy)
    }

    /// Merges `facts` with the Rust probes and evaluates `policy` as of `date`
    /// (take it from a trusted clock, e.g. the server's).
    public static func evaluate(
        facts: DeviceFacts,
        policy: String = MamoriDevice.defaultPolicy,
        at date: Date = Date(),
        loadedImages: [String] = [],
        runProbes: Bool = true
    ) async throws -> DeviceVerdict {
        let inputs = PlatformInputs(
            facts: facts, loadedImages: loadedImages, installedPackages: nil, runProbes: runProbes)
        return try await evaluateDevice(inputs: inputs, policy: policy, at: dayString(date))
    }

    /// Collects the merged facts without evaluating them (to export with ``exportFacts(_:)``).
    public static func collect(
        facts: DeviceFacts, loadedImages: [String] = [], runProbes: Bool = true
    ) async throws -> DeviceFacts {
        let inputs = PlatformInputs(
            facts: facts, loadedImages: loadedImages, installedPackages: nil, runProbes: runProbes)
        return try await collectDeviceFacts(inputs: inputs)
    }

    /// Re-evaluates a facts snapshot, e.g. one imported with ``importFacts(_:)``.
    public static func reevaluate(facts: DeviceFacts, policy: String, at date: Date) async throws
        -> DeviceVerdict
    {
        try await evaluateDeviceFacts(facts: facts, policy: policy, at: dayString(date))
    }

    /// Canonical facts JSON: the input of `mamori device check --facts`.
    public static func exportFacts(_ facts: DeviceFacts) -> String {
        deviceFactsToJson(facts: facts)
    }

    /// Parses exported facts JSON.
    public static func importFacts(_ json: String) throws -> DeviceFacts {
        try deviceFactsFromJson(json: json)
    }

    /// `YYYY-MM-DD` in UTC.
    static func dayString(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.formatOptions = [.withFullDate]
        return formatter.string(from: date)
    }
}

/// Collects what only iOS APIs know (OS version, LAContext, Secure Enclave, simulator,
/// `P_TRACED`, loaded images) and hands it to the Mamori core.
///
/// An API that cannot answer yields an *unknown* fact, never a clean one.
///
/// ```swift
/// let verdict = try await DeviceCollector().evaluate(policy: policyToml, at: serverDate)
/// if verdict.decision == .block { showBlockedScreen(verdict.findings) }
/// ```
public struct DeviceCollector {
    /// The App ID (`TEAMID.bundle.id`) the app reports as its `app_id` fact, or `nil`.
    public let appId: String?

    /// - Parameter appId: the app's App ID, `TEAMID.bundle.id` (the policy's `app.ids` and App
    ///   Attest name apps this way). iOS gives an app its bundle id
    ///   (`Bundle.main.bundleIdentifier`) but not its Team ID, and a bare bundle id would
    ///   contradict the App ID an App Attest object proves (`attestation.contradiction.app_id`),
    ///   so the collector reports only what the app passes here; `nil` leaves the fact unknown,
    ///   for App Attest to prove on the server.
    public init(appId: String? = nil) {
        self.appId = appId
    }

    /// Collects the platform facts (no probes, no evaluation).
    public func platformFacts() -> DeviceFacts {
        let version = ProcessInfo.processInfo.operatingSystemVersion
        let os = "\(version.majorVersion).\(version.minorVersion).\(version.patchVersion)"
        return DeviceFacts(
            schema: 1,
            platform: .ios,
            osVersion: Self.valued(os, api: "ProcessInfo.operatingSystemVersion"),
            androidApiLevel: Self.unknown(),
            securityPatch: Self.unknown(),
            screenLock: Self.flag(
                Self.passcodeSet(), api: "LAContext.canEvaluatePolicy(.deviceOwnerAuthentication)"),
            biometricsEnrolled: Self.flag(
                Self.biometricsEnrolled(),
                api: "LAContext.canEvaluatePolicy(.deviceOwnerAuthenticationWithBiometrics)"),
            keystoreLevel: Self.valued(
                (SecureEnclave.isAvailable ? KeystoreLevel.secureEnclave : KeystoreLevel.none).rawValue,
                api: "SecureEnclave.isAvailable"),
            debuggerAttached: Self.flag(Self.traced(), api: "sysctl(KERN_PROC_PID).p_flag & P_TRACED"),
            emulator: Self.flag(Self.isSimulator, api: "targetEnvironment(simulator)"),
            developerOptions: Self.unknown(),
            adbEnabled: Self.unknown(),
            installer: Self.unknown(),
            signingCertSha256: Self.unknown(),
            appId: appId.map { Self.valued($0, api: "DeviceCollector(appId:)") } ?? Self.unknown(),
            indicators: []
        )
    }

    /// Collects everything and evaluates `policy` as of `date`.
    public func evaluate(policy: String = MamoriDevice.defaultPolicy, at date: Date = Date())
        async throws -> DeviceVerdict
    {
        try await MamoriDevice.evaluate(
            facts: platformFacts(), policy: policy, at: date, loadedImages: Self.loadedImages())
    }

    /// Platform facts plus probes, for export with ``MamoriDevice/exportFacts(_:)``.
    public func snapshot() async throws -> DeviceFacts {
        try await MamoriDevice.collect(facts: platformFacts(), loadedImages: Self.loadedImages())
    }

    // MARK: - Platform probes

    static var isSimulator: Bool {
        #if targetEnvironment(simulator)
            return true
        #else
            return false
        #endif
    }

    /// `true` when a passcode is set, `false` when not, `nil` when LAContext cannot tell.
    static func passcodeSet() -> Bool? {
        var error: NSError?
        if LAContext().canEvaluatePolicy(.deviceOwnerAuthentication, error: &error) { return true }
        if let code = error?.code, code == LAError.passcodeNotSet.rawValue { return false }
        return nil
    }

    static func biometricsEnrolled() -> Bool? {
        var error: NSError?
        if LAContext().canEvaluatePolicy(.deviceOwnerAuthenticationWithBiometrics, error: &error) {
            return true
        }
        switch error?.code {
        case LAError.biometryNotEnrolled.rawValue, LAError.biometryNotAvailable.rawValue:
            return false
        default:
            return nil
        }
    }

    /// `P_TRACED` of this process via sysctl; `nil` if sysctl fails.
    static func traced() -> Bool? {
        var info = kinfo_proc()
        var size = MemoryLayout<kinfo_proc>.stride
        var mib: [Int32] = [CTL_KERN, KERN_PROC, KERN_PROC_PID, getpid()]
        let rc = sysctl(&mib, UInt32(mib.count), &info, &size, nil, 0)
        guard rc == 0 else { return nil }
        return (info.kp_proc.p_flag & P_TRACED) != 0
    }

    /// Names of the loaded dyld images, matched by the core against its indicator table.
    static func loadedImages() -> [String] {
        (0..<_dyld_image_count()).compactMap { index in
            _dyld_get_image_name(index).map { String(cString: $0) }
        }
    }

    // MARK: - Fact construction

    static func unknown() -> DeviceFact {
        DeviceFact(state: .unknown, value: nil, evidence: [])
    }

    static func evidence(_ api: String, _ value: String?, _ detail: String? = nil) -> DeviceEvidence {
        DeviceEvidence(source: .platform, path: nil, property: api, value: value, detail: detail)
    }

    static func valued(_ value: String?, api: String) -> DeviceFact {
        guard let value = value else {
            return DeviceFact(state: .unknown, value: nil, evidence: [evidence(api, nil, "not available")])
        }
        return DeviceFact(state: .present, value: value, evidence: [evidence(api, value)])
    }

    static func flag(_ value: Bool?, api: String) -> DeviceFact {
        switch value {
        case .some(true):
            return DeviceFact(state: .present, value: nil, evidence: [evidence(api, "true")])
        case .some(false):
            return DeviceFact(state: .absent, value: nil, evidence: [evidence(api, "false")])
        case .none:
            return DeviceFact(state: .unknown, value: nil, evidence: [evidence(api, nil, "not available")])
        }
    }
}
