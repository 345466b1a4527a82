package jp.mamori

import jp.mamori.ffi.PinUpdateException
import jp.mamori.ffi.PinUpdater
import jp.mamori.ffi.PinningEngine
import jp.mamori.ffi.PolicySource
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.suspendCancellableCoroutine
import kotlinx.coroutines.withContext
import okhttp3.Call
import okhttp3.Callback
import okhttp3.OkHttpClient
import okhttp3.Request
import okhttp3.Response
import okio.Buffer
import java.io.IOException
import java.nio.file.Path
import java.time.Clock
import java.time.Instant
import kotlin.coroutines.resume
import kotlin.coroutines.resumeWithException

/**
 * Signed pin-set updates (guideline DEV-4, BP-5; `docs/pin-updates.md`): rotate pins without an
 * app release, never brick the app, never let an attacker in.
 *
 * The base policy shipped with the app names at least two Ed25519 update keys in its `[updates]`
 * table. A server signs each new pin set (`mamori pin-update sign`); the app fetches it with
 * [fetch] (or with its own client and [apply]). Mamori verifies the signature, the version (never
 * older than the last accepted: anti-rollback), the validity window and the merge rules (every
 * enforced domain keeps two pins, nothing is unpinned, a report-only kill switch is capped by the
 * base policy), persists the document atomically in the state file, and only then makes it
 * effective. A refused or unreachable update changes nothing: the last good policy stays.
 *
 * ```kotlin
 * val updates = PinUpdates.Builder(basePolicyToml, context.noBackupFilesDir.toPath().resolve("pin-update.json"))
 *     .build()
 * // A client pinned by the policy in effect (the update server is pinned by it too).
 * val client = OkHttpClient.Builder().mamoriPinning(updates.engine()).build()
 * try {
 *     val version = updates.fetch(client, "https://pins.bank.example/v1/update.json")
 * } catch (e: PinUpdateException.Refused) {
 *     log("update refused, still on ${updates.source}: ${e.reason}")
 * } catch (e: IOException) {
 *     log("no update this time: $e")
 * }
 * // New connections use the new pins; schedule the next fetch:
 * val pinned = OkHttpClient.Builder().mamoriPinning(updates.engine()).build()
 * scheduler.at(updates.nextFetch())
 * ```
 *
 * An update takes effect for clients built from a later [engine]: connections (and TLS sessions)
 * already made keep the engine they were made with. Thread-safe: share one instance per app and
 * state file. Time comes from the builder's [Clock] (default: the system clock in UTC); pass a
 * trusted one if the device clock cannot be trusted.
 */
public class PinUpdates private constructor(
    private val updater: PinUpdater,
    private val clock: Clock,
) : AutoCloseable {

    /**
     * Builds [PinUpdates] for [basePolicy] (TOML or JSON text with an `[updates]` table) whose
     * state lives in [stateFile] (its directory must exist; use app-private, non-backed-up storage).
     */
    public class Builder(private val basePolicy: String, private val stateFile: Path) {
        private var clock: Clock = Clock.systemUTC()

        /** The clock every check and [engine] use (default: the system clock). */
        public fun clock(clock: Clock): Builder = apply { this.clock = clock }

        /**
         * Loads the base policy and restores the persisted update, if any (verified again; one
         * that no longer verifies leaves the base policy in effect and [restoreError] set).
         *
         * @throws PinUpdateException.InvalidBase when the base policy is invalid or has no usable
         *   `[updates]` table (fewer than two keys, a malformed key, ...).
         */
        @Throws(PinUpdateException::class)
        public fun build(): PinUpdates = PinUpdates(PinUpdater(basePolicy, stateFile.toString()), clock)
    }

    /** Where the effective policy comes from: the base policy or the accepted update's version. */
    public val source: PolicySource get() = updater.source()

    /** The version of the update in effect, or null while the base policy applies. */
    public val version: Long? get() = (source as? PolicySource.Update)?.version?.toLong()

    /** Why the persisted update was not restored at start (tampered, key removed, ...), if it was not. */
    public val restoreError: String? get() = updater.restoreError()

    /**
     * An engine for the policy in effect now, to build the trust manager of *new* connections
     * ([mamoriPinning], [MamoriTrustManager]). A report-only downgrade ends at its document's
     * `not_after`: an engine made after that enforces the update's pins again.
     */
    public fun engine(): PinningEngine = updater.engine(clock.instant())

    /** When to fetch the next update: sooner as the nearest expiry approaches (15 min ..= 24 h ahead). */
    public fun nextFetch(): Instant = updater.nextFetch(clock.instant())

    /**
     * Verifies [update] (the envelope bytes as served), persists it, then makes it effective;
     * returns its version. Runs on [Dispatchers.IO] (signature check and an fsync'd write).
     *
     * @throws PinUpdateException.Refused naming the check that failed (signature, unknown key,
     *   rollback, expired, merge rules, ...) or why it could not be persisted. Nothing changes.
     */
    @Throws(PinUpdateException::class)
    public suspend fun apply(update: ByteArray): Long = withContext(Dispatchers.IO) {
        updater.apply(update, clock.instant()).toLong()
    }

    /**
     * Fetches the update at [url] with [client] (normally pinned by [engine], so the update server
     * is pinned by the policy in effect) and [apply]s it. The body is read up to
     * [MAX_UPDATE_BYTES] + 1 bytes: a longer one is refused without reading further. Cancelling
     * the coroutine cancels the call.
     *
     * @throws IOException when the server cannot be reached, the TLS handshake fails (for example
     *   a pin mismatch), a redirect leaves HTTPS, or the response is not 2xx or too large:
     *   nothing changes.
     * @throws IllegalArgumentException when [url] is not `https://`.
     * @throws PinUpdateException.Refused when the document is refused: nothing changes.
     */
    @Throws(IOException::class, PinUpdateException::class)
    public suspend fun fetch(client: OkHttpClient, url: String): Long {
        require(url.startsWith("https://", ignoreCase = true)) { "pin updates are fetched over HTTPS only: ${url.substringBefore('?')}" }
        // A redirect may not leave HTTPS: an update fetched over plain HTTP could be withheld
        // or replayed by anyone on the path (the signature and the sequence number still hold).
        val https = client.newBuilder().followSslRedirects(false).build()
        val body = https.newCall(Request.Builder().url(url).build()).await().use { response ->
            if (!response.request.url.isHttps) {
                throw IOException("pin update fetch from ${url.substringBefore('?')} was redirected off HTTPS")
            }
            if (!response.isSuccessful) {
                throw IOException("pin update fetch from ${response.request.url.redact()}: HTTP ${response.code}")
            }
            withContext(Dispatchers.IO) { readBounded(response) }
        }
        return apply(body)
    }

    /** Releases the native updater. The state file stays. */
    override fun close(): Unit = updater.close()

    public companion object {
        /** The largest update envelope accepted (`docs/pin-updates.md`, §1). */
        public const val MAX_UPDATE_BYTES: Long = 65_536

        private fun readBounded(response: Response): ByteArray {
            val declared = response.body.contentLength()
            if (declared > MAX_UPDATE_BYTES) throw tooLarge(response)
            val buffer = Buffer()
            val source = response.body.source()
            while (buffer.size <= MAX_UPDATE_BYTES) {
                if (source.read(buffer, MAX_UPDATE_BYTES + 1 - buffer.size) == -1L) break
            }
            if (buffer.size > MAX_UPDATE_BYTES) throw tooLarge(response)
            return buffer.readByteArray()
        }

        private fun tooLarge(response: Response) = IOException(
            "pin update from ${response.request.url.redact()} is larger than $MAX_UPDATE_BYTES bytes",
        )
    }
}

/** Enqueues the call and suspends until its response; cancelling the coroutine cancels the call. */
private suspend fun Call.await(): Response = suspendCancellableCoroutine { continuation ->
    continuation.invokeOnCancellation { cancel() }
    enqueue(
        object : Callback {
            override fun onResponse(call: Call, response: Response) {
                continuation.resume(response) { _, value, _ -> value.close() }
            }

            override fun onFailure(call: Call, e: IOException) {
                continuation.resumeWithException(e)
            }
        },
    )
}
