import UIKit
import TrustKit

let backupPin = "PL1/TTDEe9Cm2lb2X0tixyQC7zaPREm/V0IHJscTCmw="

@main
class AppDelegate: UIResponder, UIApplicationDelegate {
    func application(_ application: UIApplication, didFinishLaunchingWithOptions launchOptions: [UIApplication.LaunchOptionsKey: Any]?) -> Bool {
        let trustKitConfig = [
            kTSKSwizzleNetworkDelegates: false,
            kTSKPinnedDomains: [
                "api.example.com": [
                    kTSKIncludeSubdomains: true,
                    kTSKExpirationDate: "2027-01-01",
                    kTSKPublicKeyHashes: [
                        "K87oWBWM9UZfyddvDfoxL+8lpNyoUB2ptGtn0fv6G2Q=",
                        backupPin,
                    ],
                    kTSKReportUris: ["https://report.example.com/pins"],
                    kTSKDisableDefaultReportUri: true,
                ],
                "report-only.example.com": [
                    kTSKEnforcePinning: false,
                    kTSKPublicKeyHashes: ["NDCIt6TrQnfOk+lquunrmlPQB3K/7CLOCmSS5kW+KCc="],
                ],
            ],
        ] as [String: Any]
        TrustKit.initSharedInstance(withConfiguration: trustKitConfig)
        return true
    }
}
