import Foundation
import MamoriFFI

/// Why ``PinUpdates/fetch(from:session:)`` got no update document. Nothing changed.
///
/// A document that was fetched but refused throws the generated `PinUpdateError.Refused`
/// instead, naming the check that failed (signature, unknown key, rollback, expiry, merge rules).
public enum PinUpdateFetchError: Error, Sendable, Equatable {
    /// The response is not HTTP (for example a `file:` URL).
    case notHTTP
    /// The server answered with a status other than 2xx.
    case status(Int)
    /// The body is longer than ``PinUpdates/maxUpdateBytes``; it was not read further.
    case tooLarge
}

/// Signed pin-set updates (guideline DEV-4, BP-5; `docs/pin-updates.md`): rotate pins without an
/// app release, never brick the app, never let an attacker in.
///
/// The base policy shipped with the app names at least two Ed25519 update keys in its `[updates]`
/// table. A server signs each new pin set (`mamori pin-update sign`); the app fetches it with
/// ``fetch(from:session:)`` (or with its own code and ``apply(_:)``). Mamori verifies the signature,
/// the version (never older than the last accepted: anti-rollback), the validity window and the
/// merge rules (every enforced domain keeps two pins, nothing is unpinned, a report-only kill
/// switch is capped by the base policy), persists the document atomically in the state file, and
/// only then makes it effective. A refused or unreachable update changes nothing: the last good
/// policy stays.
///
/// ```swift
/// let updates = try PinUpdates(basePolicy: basePolicyText, stateFile: supportDir.appendingPathComponent("pin-update.json"))
/// let validator = MamoriPinningValidator(engine: updates.engine())
/// // `session`'s delegate calls `validator.handle(challenge:completionHandler:)`.
/// do {
///     let version = try await updates.fetch(from: URL(string: "https://pins.bank.example/v1/update.json")!, session: session)
/// } catch let error as PinUpdateError {
///     log("update refused: \(error)")
/// } catch {
///     log("no update this time: \(error)")
/// }
/// // New sessions use the new pins; schedule the next fetch at `updates.nextFetch()`.
/// let next = MamoriPinningValidator(engine: updates.engine())
/// ```
///
/// An update takes effect for validators built from a later ``engine()``: `URLSession` keeps TLS
/// sessions, so existing sessions keep the pins they were made with until they are invalidated.
///
/// `Sendable`: its stored properties are the thread-safe Rust updater (its own lock, never held
/// across a call into Swift) and a `@Sendable` clock.
public final class PinUpdates: Sendable {
    /// The largest update envelope accepted (`docs/pin-updates.md`, §1).
    public static let maxUpdateBytes = 65_536

    private let updater: PinUpdater
    private let clock: @Sendable () -> Date

    /// Loads `basePolicy` (TOML or JSON text with an `[updates]` table) and restores the update
    /// persisted in `stateFile`, if any (verified again; one that no longer verifies leaves the
    /// base policy in effect and ``restoreError`` set).
    ///
    /// - Parameters:
    ///   - stateFile: where the accepted update is kept; its directory must exist. Use
    ///     Application Support with `isExcludedFromBackup`.
    ///   - clock: the time every check and ``engine()`` use (default: the system clock); pass a
    ///     trusted one if the device clock cannot be trusted.
    /// - Throws: `PinUpdateError.InvalidBase` when the base policy is invalid or has no usable
    ///   `[updates]` table (fewer than two keys, a malformed key).
    public init(basePolicy: String, stateFile: URL, clock: @escaping @Sendable () -> Date = { Date() }) throws {
        updater = try PinUpdater(basePolicy: basePolicy, stateFile: stateFile.path)
        self.clock = clock
    }

    /// Where the effective policy comes from: the base policy or the accepted update's version.
    public var source: PolicySource { updater.source() }

    /// The version of the update in effect, or `nil` while the base policy applies.
    public var version: UInt64? {
        if case let .update(version) = updater.source() {
            return version
        }
        return nil
    }

    /// Why the persisted update was not restored at start (tampered, key removed), if it was not.
    public var restoreError: String? { updater.restoreError() }

    /// An engine for the policy in effect now, for the validator of *new* sessions
    /// (``MamoriPinningValidator``). A report-only downgrade ends at its document's `not_after`:
    /// an engine made after that enforces the update's pins again.
    public func engine() -> PinningEngine {
        updater.engine(now: clock())
    }

    /// When to fetch the next update: sooner as the nearest expiry approaches (15 minutes to 24
    /// hours ahead).
    public func nextFetch() -> Date {
        updater.nextFetch(now: clock())
    }

    /// Verifies `update` (the envelope bytes as served), persists it, then makes it effective;
    /// returns its version. Runs off the caller's actor (a signature check and an fsync'd write).
    ///
    /// - Throws: `PinUpdateError.Refused` naming the check that failed, or why the update could
    ///   not be persisted. Nothing changes.
    @discardableResult
    public func apply(_ update: Data) async throws -> UInt64 {
        let updater = self.updater
        let now = clock()
        return try await Task.detached {
            try updater.apply(update: update, now: now)
        }.value
    }

    /// Fetches the update at `url` with `session` (whose delegate pins with ``engine()``, so the
    /// update server is pinned by the policy in effect) and applies it. The body is read up to
    /// ``maxUpdateBytes`` + 1 bytes: a longer one is refused without reading further. Cancelling
    /// the task cancels the request.
    ///
    /// - Throws: `URLError` when the server cannot be reached or the handshake fails (a pin
    ///   mismatch), ``PinUpdateFetchError`` for a non-2xx or oversized response, and
    ///   `PinUpdateError.Refused` when the document is refused. Nothing changes on any of them.
    @discardableResult
    public func fetch(from url: URL, session: URLSession) async throws -> UInt64 {
        var request = URLRequest(url: url)
        request.cachePolicy = .reloadIgnoringLocalCacheData
        let (bytes, response) = try await session.bytes(for: request)
        guard let http = response as? HTTPURLResponse else {
            throw PinUpdateFetchError.notHTTP
        }
        guard (200 ..< 300).contains(http.statusCode) else {
            throw PinUpdateFetchError.status(http.statusCode)
        }
        if http.expectedContentLength > Int64(Self.maxUpdateBytes) {
            throw PinUpdateFetchError.tooLarge
        }
        var body = Data()
        for try await byte in bytes {
            body.append(byte)
            if body.count > Self.maxUpdateBytes {
                bytes.task.cancel()
                throw PinUpdateFetchError.tooLarge
            }
        }
        return try await apply(body)
    }
}
