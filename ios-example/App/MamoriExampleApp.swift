import SwiftUI

/// The Mamori iOS example: a token in a vault behind Face ID or the passcode, a pinned HTTPS
/// call that is allowed and one that is blocked, and the device verdict with its findings.
@main
struct MamoriExampleApp: App {
    var body: some Scene {
        WindowGroup {
            ContentView()
        }
    }
}
