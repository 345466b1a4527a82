import Foundation
import MamoriFFI

/// Facts about the native Mamori library linked into the app.
public enum Mamori {
    /// The version of the native library (the `mamori-ffi` crate version).
    ///
    /// Log it next to the app version so that a pinning report names the exact SDK build.
    public static var nativeVersion: String {
        mamoriVersion()
    }
}

extension PinFailureReport {
    /// This report as JSON in TrustKit's shape (kebab-case keys such as `noted-hostname` and
    /// `validation-result`), ready to upload to a report endpoint.
    public var json: String {
        pinFailureReportJson(report: self)
    }
}
