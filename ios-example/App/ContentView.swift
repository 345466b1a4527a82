import ExampleCore
import Mamori
import SwiftUI

/// The screen's state; every Mamori call is `async` and runs off the main thread.
@MainActor
final class ExampleModel: ObservableObject {
    @Published var vaultStatus = "Locked"
    @Published var token = ""
    @Published var calls: [PinnedCallResult] = []
    @Published var verdict: [String] = []

    private var vault: AsyncSecureStorage?
    private let client: PinnedClient? = try? PinnedClient()

    func unlock() async {
        do {
            let vault: AsyncSecureStorage
            if let open = self.vault {
                vault = open
            } else {
                vault = try await ExampleVault.open()
                self.vault = vault
            }
            try await vault.unlock(reason: "Unlock the example vault")
            vaultStatus = "Unlocked"
            let stored = try await vault.dataIfPresent(for: "token")
            token = stored.map { String(decoding: $0, as: UTF8.self) } ?? ""
        } catch {
            vaultStatus = "Error: \(error)"
        }
    }

    func save() async {
        guard let vault else { return }
        do {
            try await vault.set(token, for: "token")
            vaultStatus = "Saved"
        } catch {
            vaultStatus = "Error: \(error)"
        }
    }

    func lock() {
        vault?.lock()
        vaultStatus = "Locked"
        token = ""
    }

    func callHosts() async {
        guard let client else {
            calls = [PinnedCallResult(host: "-", allowed: false, detail: "the pin policy is invalid")]
            return
        }
        var results: [PinnedCallResult] = []
        for host in [ExamplePolicy.allowedHost, ExamplePolicy.blockedHost] {
            results.append(await client.call(host: host))
        }
        calls = results
    }

    func checkDevice() async {
        do {
            let evaluated = try await DeviceCollector().evaluate()
            verdict = ExampleText.verdictLines(evaluated)
        } catch {
            verdict = ["Error: \(error)"]
        }
    }
}

struct ContentView: View {
    @StateObject private var model = ExampleModel()

    var body: some View {
        NavigationStack {
            Form {
                Section("Vault (DEV-1, DEV-3)") {
                    Text(model.vaultStatus)
                    TextField("Token", text: $model.token)
                    HStack {
                        Button("Unlock") { Task { await model.unlock() } }
                        Button("Save") { Task { await model.save() } }
                        Button("Lock") { model.lock() }
                    }
                }
                Section("Pinned HTTPS (DEV-4)") {
                    Button("Call both hosts") { Task { await model.callHosts() } }
                    ForEach(model.calls, id: \.host) { call in
                        VStack(alignment: .leading) {
                            Text("\(call.allowed ? "allowed" : "blocked"): \(call.host)")
                            Text(call.detail).font(.caption)
                        }
                    }
                }
                Section("Device (DEV-2)") {
                    Button("Check this device") { Task { await model.checkDevice() } }
                    ForEach(model.verdict, id: \.self) { line in
                        Text(line).font(.caption)
                    }
                }
            }
            .navigationTitle("Mamori")
        }
    }
}
