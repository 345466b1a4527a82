package jp.mamori

import jp.mamori.ffi.PinFailureReport
import jp.mamori.ffi.PinUpdateException
import jp.mamori.ffi.PolicySource
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking
import mockwebserver3.MockResponse
import mockwebserver3.MockWebServer
import okhttp3.ConnectionPool
import okhttp3.OkHttpClient
import okhttp3.Request
import okhttp3.tls.HandshakeCertificates
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import java.io.IOException
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths
import java.time.Clock
import java.time.Duration
import java.time.Instant
import java.time.ZoneId
import java.time.ZoneOffset
import java.time.temporal.ChronoUnit
import java.util.Collections
import java.util.concurrent.TimeUnit
import javax.net.ssl.SSLHandshakeException

/**
 * [PinUpdates] end to end: update documents signed the way a server signs them (Ed25519 keys made
 * and used by the `mamori pin-update keygen` / `sign` CLI, as `docs/pin-updates.md` §5 tells a
 * server's CI to do), served by a real TLS server on loopback that the base policy pins, fetched
 * with OkHttp through [PinUpdates.fetch], and the effective policy checked on real connections.
 * Expected outcomes come from the document's rules (a flipped byte, an older version, ...), never
 * from Mamori's verifier.
 */
class PinUpdatesTest {
    @TempDir
    lateinit var dir: Path

    private val pki = TestPki("Pin Update")
    private val servers = mutableListOf<MockWebServer>()
    private val reports: MutableList<PinFailureReport> = Collections.synchronizedList(mutableListOf())
    private val start: Instant = Instant.now().truncatedTo(ChronoUnit.SECONDS)
    private val clock = TestClock(start)

    @AfterEach
    fun closeServers() = servers.forEach { it.close() }

    /** The CLI next to the native library (`cargo xtask kotlin-test` builds both into one directory). */
    private val cli: Path by lazy {
        val libDir = System.getProperty("jna.library.path")
            ?: throw AssertionError("jna.library.path is not set: run the tests with `cargo xtask kotlin-test`")
        Paths.get(libDir, "mamori").also {
            if (!Files.isExecutable(it)) {
                throw AssertionError("$it is missing: `cargo xtask kotlin-test` builds the mamori CLI (cargo build -p mamori-cli)")
            }
        }
    }

    private fun mamori(vararg args: String): String {
        val process = ProcessBuilder(cli.toString(), *args).redirectErrorStream(true).start()
        val output = process.inputStream.bufferedReader().readText()
        check(process.waitFor(60, TimeUnit.SECONDS)) { "mamori ${args.joinToString(" ")} hung" }
        check(process.exitValue() == 0) { "mamori ${args.joinToString(" ")} exited ${process.exitValue()}: $output" }
        return output
    }

    /** `mamori pin-update keygen`: the private key file and the printed `ID BASE64` public key. */
    private inner class UpdateKey(val id: String) {
        val file: Path = dir.resolve("$id.pem")
        val publicKey: String = mamori("pin-update", "keygen", "--out", file.toString(), "--key-id", id)
            .trim().split(" ").also { check(it[0] == id) }[1]
    }

    private val primary by lazy { UpdateKey("primary") }
    private val backup by lazy { UpdateKey("backup") }

    /** The app's base policy: the update server's host pinned to the intermediate + a spare. */
    private fun basePolicy(extra: String = "max_report_only_hours = 72\n"): String =
        pki.policy(rule(PINNED_HOST, pin(pki.intermediate), pin(pki.spare1))) +
            "\n[updates]\nkeys = [{ id = \"primary\", ed25519 = \"${primary.publicKey}\" }, " +
            "{ id = \"backup\", ed25519 = \"${backup.publicKey}\" }]\n" + extra

    private fun updates(base: String = basePolicy(), state: String = "pin-update.json"): PinUpdates =
        PinUpdates.Builder(base, dir.resolve(state)).clock(clock).build()

    /** A payload as a server writes it (`docs/pin-updates.md` §1). */
    private fun payload(
        version: Int,
        vararg pins: String,
        keyId: String = "primary",
        reportOnly: Boolean = false,
        issuedAt: Instant = start.minus(Duration.ofMinutes(5)),
        notAfter: Instant = start.plus(Duration.ofDays(14)),
    ): String = """
        {"format": "mamori-pin-update/1", "version": $version,
         "issued_at": "$issuedAt", "not_after": "$notAfter", "key_id": "$keyId",
         "domain": [{"host": "$PINNED_HOST", "report_only": $reportOnly,
                     "pins": [${pins.joinToString(", ") { "\"$it\"" }}]}]}
    """.trimIndent()

    /** `mamori pin-update sign`: the envelope bytes a server publishes. */
    private fun sign(payload: String, key: UpdateKey = primary, keyId: String = key.id): ByteArray {
        val name = "u${System.nanoTime()}"
        val payloadFile = Files.writeString(dir.resolve("$name.payload.json"), payload)
        val out = dir.resolve("$name.json")
        mamori("pin-update", "sign", "--key", key.file.toString(), "--key-id", keyId, "--out", out.toString(), payloadFile.toString())
        return Files.readAllBytes(out)
    }

    /** A TLS server on loopback (this PKI's leaf for [PINNED_HOST]) answering with [bodies] in turn. */
    private fun updateServer(vararg bodies: ByteArray, serverPki: TestPki = pki): MockWebServer =
        serverPki.server(0).also { server ->
            bodies.forEach { server.enqueue(MockResponse.Builder().body(String(it, Charsets.UTF_8)).build()) }
            servers += server
        }

    private fun client(updates: PinUpdates): OkHttpClient = OkHttpClient.Builder()
        .dns(LoopbackDns)
        .connectionPool(ConnectionPool(0, 1, TimeUnit.SECONDS))
        .mamoriPinning(updates.engine(), pki.platformTrustManager) { reports += it }
        .build()

    private fun url(server: MockWebServer) = "https://$PINNED_HOST:${server.port}/v1/pins.json"

    private fun OkHttpClient.get(server: MockWebServer): String =
        newCall(Request.Builder().url(url(server)).build()).execute().use { it.body.string() }

    /** The pins the effective policy holds for [PINNED_HOST] (from the engine's decision on the served chain). */
    private fun pinsInEffect(updates: PinUpdates): Set<String> = MamoriTrustManager.Builder()
        .policy(updates.engine())
        .platformTrustManager(pki.platformTrustManager)
        .build()
        .let { tm ->
            try {
                tm.checkServerTrusted(pki.presentedChain, "ECDHE_ECDSA", PINNED_HOST, 443).knownPins
            } catch (e: PinningFailureException) {
                e.decision.knownPins
            }
        }
        .toSet()

    @Test
    fun `a signed update fetched over the pinned connection rotates the pins of new connections`() = runBlocking<Unit> {
        val updates = updates()
        assertEquals(PolicySource.Base, updates.source)
        assertEquals(setOf(pin(pki.intermediate), pin(pki.spare1)), pinsInEffect(updates))

        val update = sign(payload(1, pin(pki.leaf), pin(pki.spare2)))
        val server = updateServer(update, "ok".toByteArray())
        val before = client(updates)
        assertEquals(1L, updates.fetch(before, url(server)))
        assertEquals(1, server.requestCount)

        assertEquals(PolicySource.Update(1uL), updates.source)
        assertEquals(1L, updates.version)
        assertNull(updates.restoreError)
        assertEquals(setOf(pin(pki.leaf), pin(pki.spare2)), pinsInEffect(updates))
        // A new connection is pinned by the update (the leaf's key matches) and passes.
        assertEquals("ok", client(updates).get(server))
        assertEquals(emptyList<PinFailureReport>(), reports)
        // Next fetch: a quarter of the 14 days left, clamped to 24 h.
        assertEquals(start.plus(Duration.ofHours(24)), updates.nextFetch())
    }

    @Test
    fun `an update that pins away from the server blocks new connections only`() = runBlocking<Unit> {
        val updates = updates()
        val server = updateServer(sign(payload(1, pin(pki.spare1), pin(pki.spare2))), "ok".toByteArray(), "ok".toByteArray())
        val before = client(updates)
        assertEquals(1L, updates.fetch(before, url(server)))
        // A client built before the update keeps its engine (documented: new connections only).
        assertEquals("ok", before.get(server))
        val error = assertThrows<SSLHandshakeException> { client(updates).get(server) }
        assertNotNull(error.causeOfType<PinningFailureException>(), "$error")
        assertEquals(PINNED_HOST, reports.single().hostname)
    }

    @Test
    fun `the update server is pinned by the base policy`() = runBlocking<Unit> {
        val updates = updates()
        // A server of another PKI that the platform trusts too, but the base policy does not:
        // Mamori refuses it in the handshake and no request is sent.
        val other = TestPki("Impostor")
        val impostor = updateServer(sign(payload(1, pin(pki.leaf), pin(pki.spare2))), serverPki = other)
        val platform = HandshakeCertificates.Builder()
            .addTrustedCertificate(pki.root.certificate)
            .addTrustedCertificate(other.root.certificate)
            .build()
            .trustManager
        val client = OkHttpClient.Builder()
            .dns(LoopbackDns)
            .mamoriPinning(updates.engine(), platform)
            .build()
        val error = assertThrows<SSLHandshakeException> { updates.fetch(client, url(impostor)) }
        assertNotNull(error.causeOfType<PinningFailureException>(), "$error")
        assertEquals(0, impostor.requestCount)
        assertEquals(PolicySource.Base, updates.source)
    }

    @Test
    fun `a bad signature or a key the app does not embed is refused and nothing changes`() = runBlocking<Unit> {
        val updates = updates()
        updates.apply(sign(payload(1, pin(pki.leaf), pin(pki.spare2))))
        val good = String(sign(payload(2, pin(pki.leaf), pin(pki.spare1))), Charsets.UTF_8)

        // One flipped bit in the signature (base64 character 'A' <-> 'B' changes one bit).
        val signature = Regex("\"signature\"\\s*:\\s*\"([^\"]+)\"").find(good)!!.groups[1]!!
        val i = signature.range.first + 10
        val flipped = good.substring(0, i) + (if (good[i] == 'A') 'B' else 'A') + good.substring(i + 1)
        val server = updateServer(flipped.toByteArray())
        val badSignature = assertThrows<PinUpdateException.Refused> { updates.fetch(client(updates), url(server)) }
        assertTrue(badSignature.reason.contains("signature"), badSignature.reason)

        // A valid Ed25519 signature by a key that is not embedded, under an embedded key's id.
        val rogue = UpdateKey("rogue")
        val wrongKey = assertThrows<PinUpdateException.Refused> {
            updates.apply(sign(payload(2, pin(pki.leaf), pin(pki.spare1)), key = rogue, keyId = "primary"))
        }
        assertTrue(wrongKey.reason.contains("signature"), wrongKey.reason)
        // ... and under its own id.
        val unknown = assertThrows<PinUpdateException.Refused> {
            updates.apply(sign(payload(2, pin(pki.leaf), pin(pki.spare1), keyId = "rogue"), key = rogue))
        }
        assertTrue(unknown.reason.contains("rogue"), unknown.reason)

        assertEquals(PolicySource.Update(1uL), updates.source)
        assertEquals(setOf(pin(pki.leaf), pin(pki.spare2)), pinsInEffect(updates))
        // The untampered document still applies: the refusals consumed nothing.
        assertEquals(2L, updates.apply(good.toByteArray()))
    }

    @Test
    fun `rollback and replay are refused and a restart keeps the newer version`() = runBlocking<Unit> {
        val v1 = sign(payload(1, pin(pki.leaf), pin(pki.spare2)))
        val v2 = sign(payload(2, pin(pki.leaf), pin(pki.spare1), keyId = "backup"), key = backup)
        updates().use { updates ->
            assertEquals(1L, updates.apply(v1))
            assertEquals(2L, updates.apply(v2))
            val rollback = assertThrows<PinUpdateException.Refused> { updates.apply(v1) }
            assertTrue(rollback.reason.contains("version"), rollback.reason)
            assertThrows<PinUpdateException.Refused> { updates.apply(v2) } // replay
            assertEquals(PolicySource.Update(2uL), updates.source)
        }
        // The app restarts: the persisted update is restored, and the rollback floor with it.
        updates().use { restarted ->
            assertEquals(PolicySource.Update(2uL), restarted.source)
            assertNull(restarted.restoreError)
            assertEquals(setOf(pin(pki.leaf), pin(pki.spare1)), pinsInEffect(restarted))
            assertThrows<PinUpdateException.Refused> { restarted.apply(v1) }
            assertEquals(PolicySource.Update(2uL), restarted.source)
        }
        // A base policy that no longer embeds the signing key (backup removed in a release): the
        // persisted update is not restored, the base applies and says why.
        val third = UpdateKey("third")
        val rotatedKeys = pki.policy(rule(PINNED_HOST, pin(pki.intermediate), pin(pki.spare1))) +
            "\n[updates]\nkeys = [{ id = \"primary\", ed25519 = \"${primary.publicKey}\" }, " +
            "{ id = \"third\", ed25519 = \"${third.publicKey}\" }]\n"
        updates(rotatedKeys).use { rotated ->
            assertEquals(PolicySource.Base, rotated.source)
            assertNotNull(rotated.restoreError)
        }
    }

    @Test
    fun `two threads applying at once leave the newest version, in memory and on disk`() = runBlocking<Unit> {
        val v2 = sign(payload(2, pin(pki.leaf), pin(pki.spare2)))
        val v3 = sign(payload(3, pin(pki.leaf), pin(pki.spare1), keyId = "backup"), key = backup)
        val base = basePolicy()
        repeat(20) { round ->
            val state = "race-$round.json"
            updates(base, state).use { updates ->
                val results = listOf(v2, v3).map { update ->
                    async(Dispatchers.Default) { runCatching { updates.apply(update) } }
                }.awaitAll()
                // v3 always wins; v2 is accepted only if it came first, else refused as a rollback.
                assertEquals(3L, results[1].getOrThrow())
                results[0].exceptionOrNull()?.let { assertTrue(it is PinUpdateException.Refused, "$it") }
                assertEquals(PolicySource.Update(3uL), updates.source)
            }
            updates(base, state).use { assertEquals(PolicySource.Update(3uL), it.source) }
        }
    }

    @Test
    fun `a report-only kill switch reports until not_after, then the update's pins are enforced`() = runBlocking<Unit> {
        val updates = updates()
        // Pins the server does not match, report-only for 3 hours (the base caps it at 72).
        val killSwitch = sign(
            payload(
                1, pin(pki.spare1), pin(pki.spare2), reportOnly = true,
                issuedAt = start.minus(Duration.ofHours(1)), notAfter = start.plus(Duration.ofHours(2)),
            ),
        )
        assertEquals(1L, updates.apply(killSwitch))
        val server = updateServer("ok".toByteArray())
        assertEquals("ok", client(updates).get(server))
        val report = reports.single()
        assertEquals(PINNED_HOST, report.hostname)
        assertEquals(false, report.enforcePinning)
        // The next fetch comes before the switch ends (a quarter of the 2 h left).
        assertEquals(start.plus(Duration.ofMinutes(30)), updates.nextFetch())

        clock.now = start.plus(Duration.ofHours(3))
        val error = assertThrows<SSLHandshakeException> { client(updates).get(server) }
        assertNotNull(error.causeOfType<PinningFailureException>(), "$error")
        assertEquals(PolicySource.Update(1uL), updates.source)

        // A kill switch longer than the base policy's cap is refused.
        val tooLong = assertThrows<PinUpdateException.Refused> {
            updates.apply(
                sign(
                    payload(
                        2, pin(pki.spare1), pin(pki.spare2), reportOnly = true,
                        issuedAt = clock.now.minus(Duration.ofHours(1)), notAfter = clock.now.plus(Duration.ofHours(72)),
                    ),
                ),
            )
        }
        assertTrue(tooLong.reason.contains("report"), tooLong.reason)
    }

    @Test
    fun `expired, not yet valid, oversized and failed fetches change nothing`() = runBlocking<Unit> {
        val updates = updates()
        val expired = sign(payload(1, pin(pki.leaf), pin(pki.spare2), issuedAt = start.minus(Duration.ofDays(2)), notAfter = start.minus(Duration.ofDays(1))))
        assertTrue(assertThrows<PinUpdateException.Refused> { updates.apply(expired) }.reason.contains("expired"))
        val future = sign(payload(1, pin(pki.leaf), pin(pki.spare2), issuedAt = start.plus(Duration.ofHours(1))))
        assertThrows<PinUpdateException.Refused> { updates.apply(future) }

        val server = pki.server(0).also { servers += it }
        server.enqueue(MockResponse.Builder().code(404).body("no update").build())
        server.enqueue(MockResponse.Builder().body("x".repeat(PinUpdates.MAX_UPDATE_BYTES.toInt() + 1)).build())
        val notFound = assertThrows<IOException> { updates.fetch(client(updates), url(server)) }
        assertTrue(notFound.message!!.contains("404"), notFound.message)
        val large = assertThrows<IOException> { updates.fetch(client(updates), url(server)) }
        assertTrue(large.message!!.contains("larger than"), large.message)
        assertEquals(PolicySource.Base, updates.source)
        assertEquals(false, Files.exists(dir.resolve("pin-update.json")))
    }

    @Test
    fun `a base policy without two update keys is refused at build`() {
        val bare = pki.policy(rule(PINNED_HOST, pin(pki.intermediate), pin(pki.spare1)))
        assertThrows<PinUpdateException.InvalidBase> { updates(bare) }
        val oneKey = bare + "\n[updates]\nkeys = [{ id = \"primary\", ed25519 = \"${primary.publicKey}\" }]\n"
        val error = assertThrows<PinUpdateException.InvalidBase> { updates(oneKey) }
        assertTrue(error.reason.contains("updates.keys"), error.reason)
    }
}

/** A clock the test moves. */
private class TestClock(@Volatile var now: Instant) : Clock() {
    override fun instant(): Instant = now
    override fun getZone(): ZoneId = ZoneOffset.UTC
    override fun withZone(zone: ZoneId?): Clock = this
}
