package jp.mamori

import jp.mamori.ffi.ChainError
import jp.mamori.ffi.PinFailure
import jp.mamori.ffi.PinOutcome
import jp.mamori.ffi.PinFailureReport
import jp.mamori.ffi.PinningEngine
import jp.mamori.ffi.PinPolicyException
import mockwebserver3.MockWebServer
import okhttp3.ConnectionPool
import okhttp3.OkHttpClient
import okhttp3.Protocol
import okhttp3.Request
import okhttp3.internal.tls.OkHostnameVerifier
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.io.IOException
import java.net.URL
import java.util.Collections
import java.util.concurrent.TimeUnit
import javax.net.ssl.HttpsURLConnection
import javax.net.ssl.SSLHandshakeException

/**
 * Real OkHttp and HttpsURLConnection clients against real TLS servers on loopback
 * (mockwebserver3), pinned through [MamoriTrustManager] and the Rust engine over JNA.
 */
class MamoriTrustManagerTest {
    private val pki = TestPki()
    private val reports: MutableList<PinFailureReport> = Collections.synchronizedList(mutableListOf())
    private val servers = mutableListOf<MockWebServer>()

    @AfterEach
    fun closeServers() = servers.forEach { it.close() }

    private fun server(responses: Int = 1): MockWebServer = pki.server(responses).also { servers += it }

    private fun client(policy: String): OkHttpClient = OkHttpClient.Builder()
        .dns(LoopbackDns)
        .connectionPool(ConnectionPool(0, 1, TimeUnit.SECONDS))
        .mamoriPinning(PinningEngine.fromToml(policy), pki.platformTrustManager) { reports += it }
        .build()

    private fun OkHttpClient.get(server: MockWebServer, host: String): String {
        val url = "https://$host:${server.port}/"
        newCall(Request.Builder().url(url).build()).execute().use { return it.body.string() }
    }

    /**
     * OkHttp coalesces HTTP/2 connections across hosts that share a certificate and an address;
     * before [MamoriHostnameVerifier], a request for the pinned host rode the connection made
     * (and pin-checked) for the unpinned one, and passed with wrong pins.
     */
    @Test
    fun `a pinned host never rides a connection checked for another host`() {
        val policy = pki.policy(rule(PINNED_HOST, pin(pki.spare1), pin(pki.spare2)))
        fun client(coalescing: Boolean) = OkHttpClient.Builder()
            .dns(LoopbackDns) // both hosts on 127.0.0.1; the default connection pool
            .mamoriPinning(PinningEngine.fromToml(policy), pki.platformTrustManager) { reports += it }
            .apply { if (coalescing) hostnameVerifier(OkHostnameVerifier) }
            .build()
        fun OkHttpClient.protocolOf(server: MockWebServer, host: String): Protocol =
            newCall(Request.Builder().url("https://$host:${server.port}/").build()).execute().use { it.protocol }

        // The control: with OkHttp's own verifier the pinned host rides the HTTP/2 connection.
        val control = server(responses = 2)
        val coalesced = client(coalescing = true)
        assertEquals(Protocol.HTTP_2, coalesced.protocolOf(control, UNPINNED_HOST))
        assertEquals(Protocol.HTTP_2, coalesced.protocolOf(control, PINNED_HOST), "the bypass this test guards against")
        assertEquals(emptyList<PinFailureReport>(), reports)

        val server = server(responses = 2)
        val pinned = client(coalescing = false)
        assertEquals(Protocol.HTTP_2, pinned.protocolOf(server, UNPINNED_HOST))
        val error = assertThrows<IOException> { pinned.protocolOf(server, PINNED_HOST) }
        assertNotNull(error.causeOfType<PinningFailureException>(), "$error")
        assertEquals(1, reports.size)
    }

    @Test
    fun `pinned host with a matching intermediate pin passes`() {
        val server = server()
        val policy = pki.policy(rule(PINNED_HOST, pin(pki.intermediate), pin(pki.spare1)))
        assertEquals("ok", client(policy).get(server, PINNED_HOST))
        assertEquals(1, server.requestCount)
        assertEquals(emptyList<PinFailureReport>(), reports)
    }

    @Test
    fun `pinned host with a matching backup leaf pin passes`() {
        val server = server()
        val policy = pki.policy(rule(PINNED_HOST, pin(pki.spare1), pin(pki.leaf)))
        assertEquals("ok", client(policy).get(server, PINNED_HOST))
        assertEquals(emptyList<PinFailureReport>(), reports)
    }

    @Test
    fun `wrong pins block with a clear exception and a report`() {
        val server = server()
        val policy = pki.policy(rule(PINNED_HOST, pin(pki.spare1), pin(pki.spare2)))
        val error = assertThrows<IOException> { client(policy).get(server, PINNED_HOST) }

        assertTrue(error is SSLHandshakeException, "handshake must fail, got $error")
        val failure = error.causeOfType<PinningFailureException>()
            ?: throw AssertionError("cause chain must hold PinningFailureException", error)
        assertEquals(PinOutcome.BLOCK, failure.decision.outcome)
        assertEquals(PinFailure.PinMismatch(PINNED_HOST), failure.decision.failure)
        assertTrue(failure.decision.chainValid)
        assertFalse(failure.decision.pinMatched)
        // The message names the host, says what failed and lists the pins actually served.
        val message = failure.message!!
        assertTrue(message.contains(PINNED_HOST), message)
        assertTrue(message.contains("no pin of $PINNED_HOST matched"), message)
        assertTrue(message.contains(pin(pki.leaf)), message)
        assertTrue(message.contains(pin(pki.intermediate)), message)
        assertTrue(message.contains(pin(pki.root)), message)
        assertEquals(0, server.requestCount, "no HTTP request may reach a blocked server")

        val report = reports.single()
        assertEquals(PINNED_HOST, report.hostname)
        assertEquals(server.port, report.port.toInt())
        assertEquals(PINNED_HOST, report.notedHostname)
        assertTrue(report.enforcePinning)
        assertEquals(1, report.validationResult.toInt())
        // The verified path as TrustKit reports it: leaf, intermediate and the policy's custom anchor
        // (the root), which the server did not present.
        assertEquals(3, report.validatedCertificateChain.size)
        assertEquals(2, report.servedCertificateChain.size)
        assertTrue(report.validatedCertificateChain[0].startsWith("-----BEGIN CERTIFICATE-----"))
        assertTrue(report.knownPins.contains("pin-sha256=\"${pin(pki.spare1).removePrefix("sha256/")}\""))
        assertTrue(report.json.contains("\"noted-hostname\":\"$PINNED_HOST\""), report.json)
        assertTrue(report.json.contains("\"validation-result\":1"), report.json)
    }

    @Test
    fun `report-only rule passes and reports`() {
        val server = server()
        val policy = pki.policy(rule(PINNED_HOST, pin(pki.spare1), reportOnly = true))
        assertEquals("ok", client(policy).get(server, PINNED_HOST))
        val report = reports.single()
        assertEquals(PINNED_HOST, report.hostname)
        assertFalse(report.enforcePinning)
        assertEquals(1, report.validationResult.toInt())
    }

    @Test
    fun `unpinned host passes while another host is pinned wrongly`() {
        val server = server()
        val policy = pki.policy(rule(PINNED_HOST, pin(pki.spare1), pin(pki.spare2)))
        assertEquals("ok", client(policy).get(server, UNPINNED_HOST))
        assertEquals(emptyList<PinFailureReport>(), reports)
    }

    @Test
    fun `the platform trust manager runs first and its refusal stands`() {
        val server = server()
        // Mamori would accept (matching pin), but the platform trusts another root only.
        val policy = pki.policy(rule(PINNED_HOST, pin(pki.intermediate), pin(pki.spare1)))
        val otherPlatform = TestPki("Other").platformTrustManager
        val client = OkHttpClient.Builder()
            .dns(LoopbackDns)
            .mamoriPinning(PinningEngine.fromToml(policy), otherPlatform) { reports += it }
            .build()
        val error = assertThrows<SSLHandshakeException> { client.get(server, PINNED_HOST) }
        assertNull(error.causeOfType<PinningFailureException>(), "the platform must refuse first: $error")
        assertEquals(emptyList<PinFailureReport>(), reports, "Mamori is not consulted after a platform refusal")
    }

    @Test
    fun `Mamori refuses a chain outside the policy's anchors even if the platform trusts it`() {
        val server = server()
        val policy = TestPki("Other").policy() // anchors: another root; no pins at all
        val error = assertThrows<SSLHandshakeException> { client(policy).get(server, UNPINNED_HOST) }
        val failure = error.causeOfType<PinningFailureException>()
        assertNotNull(failure, "$error")
        assertEquals(PinFailure.Chain(ChainError.UnknownIssuer), failure!!.decision.failure)
        assertFalse(failure.decision.chainValid)
    }

    @Test
    fun `HttpsURLConnection to a pinned IP address passes and wrong pins block`() {
        val good = pki.policy(rule("127.0.0.1", pin(pki.root), pin(pki.spare1)))
        val goodServer = server()
        val trustManager = MamoriTrustManager.Builder()
            .policy(PinningEngine.fromToml(good))
            .platformTrustManager(pki.platformTrustManager)
            .build()
        val connection = URL("https://127.0.0.1:${goodServer.port}/").openConnection() as HttpsURLConnection
        connection.sslSocketFactory = trustManager.sslContext().socketFactory
        assertEquals(200, connection.responseCode)
        assertEquals("ok", connection.inputStream.bufferedReader().readText())
        connection.disconnect()

        val bad = pki.policy(rule("127.0.0.1", pin(pki.spare1), pin(pki.spare2)))
        val badServer = server()
        val blocking = MamoriTrustManager.Builder()
            .policy(PinningEngine.fromToml(bad))
            .platformTrustManager(pki.platformTrustManager)
            .reportListener { reports += it }
            .build()
        val refused = URL("https://127.0.0.1:${badServer.port}/").openConnection() as HttpsURLConnection
        refused.sslSocketFactory = blocking.sslContext().socketFactory
        val error = assertThrows<SSLHandshakeException> { refused.responseCode }
        assertNotNull(error.causeOfType<PinningFailureException>(), "$error")
        assertEquals("127.0.0.1", reports.single().hostname)
    }

    @Test
    fun `an SNI name other than the connected address is pinned too`() {
        // Apps that resolve names themselves (DNS over HTTPS, fixed addresses) connect to an IP
        // and name the server by SNI; before, only the address was looked up and no pin applied.
        val policy = pki.policy(rule(PINNED_HOST, pin(pki.spare1), pin(pki.spare2)))
        val server = server()
        val factory = MamoriTrustManager.Builder()
            .policy(PinningEngine.fromToml(policy))
            .platformTrustManager(pki.platformTrustManager)
            .reportListener { reports += it }
            .build()
            .sslContext().socketFactory
        fun handshake(sni: String) {
            val plain = java.net.Socket("127.0.0.1", server.port)
            (factory.createSocket(plain, "127.0.0.1", server.port, true) as javax.net.ssl.SSLSocket).use { socket ->
                socket.sslParameters = socket.sslParameters.apply { serverNames = listOf(javax.net.ssl.SNIHostName(sni)) }
                socket.startHandshake()
            }
        }
        handshake(UNPINNED_HOST) // neither the address nor that name has a rule
        assertTrue(reports.isEmpty())
        val error = assertThrows<SSLHandshakeException> { handshake(PINNED_HOST) }
        assertNotNull(error.causeOfType<PinningFailureException>(), "$error")
        assertEquals(PINNED_HOST, reports.single().hostname)
    }

    @Test
    fun `a throwing report listener never breaks the connection`() {
        val server = server()
        val policy = pki.policy(rule(PINNED_HOST, pin(pki.spare1), reportOnly = true))
        val client = OkHttpClient.Builder()
            .dns(LoopbackDns)
            .mamoriPinning(PinningEngine.fromToml(policy), pki.platformTrustManager) {
                reports += it
                throw IllegalStateException("listener bug")
            }
            .build()
        assertEquals("ok", client.get(server, PINNED_HOST))
        assertEquals(1, reports.size)
    }

    @Test
    fun `checkServerTrusted without a host fails closed`() {
        val trustManager = MamoriTrustManager.Builder()
            .policy(PinningEngine.fromToml(pki.policy()))
            .platformTrustManager(pki.platformTrustManager)
            .build()
        val error = assertThrows<java.security.cert.CertificateException> {
            trustManager.checkServerTrusted(pki.presentedChain, "ECDHE_ECDSA")
        }
        assertTrue(error.message!!.contains("no server host"), error.message)
        // With an explicit host the same chain is allowed.
        val decision = trustManager.checkServerTrusted(pki.presentedChain, "ECDHE_ECDSA", UNPINNED_HOST, 443)
        assertEquals(PinOutcome.ALLOW, decision.outcome)
    }

    @Test
    fun `an invalid policy is refused with the domain and field`() {
        val error = assertThrows<PinPolicyException.InvalidPolicy> {
            PinningEngine.fromToml(pki.policy(rule(PINNED_HOST, pin(pki.spare1))))
        }
        assertEquals("<inline>", error.origin)
        val problem = error.problems.single()
        assertTrue(problem.contains(PINNED_HOST) && problem.contains("two distinct pins"), problem)
        assertThrows<PinPolicyException.InvalidPolicy> { PinningEngine.fromToml("[[domain]]\nhost = \"https://x.example/\"\n") }
        assertThrows<IllegalStateException> { MamoriTrustManager.Builder().build() }
    }

    @Test
    fun `a policy file is loaded and relative anchor files resolve against it`(@org.junit.jupiter.api.io.TempDir dir: java.nio.file.Path) {
        java.nio.file.Files.writeString(dir.resolve("root.pem"), pki.root.certificatePem())
        val policy = dir.resolve("pins.toml")
        java.nio.file.Files.writeString(
            policy,
            "[trust]\nanchor_files = [\"root.pem\"]\n" + rule(PINNED_HOST, pin(pki.intermediate), pin(pki.spare1)).trimIndent(),
        )
        val engine = PinningEngine.fromFile(policy.toString())
        assertTrue(engine.isPinned(PINNED_HOST))
        assertFalse(engine.isPinned(UNPINNED_HOST))
        val server = server()
        val client = OkHttpClient.Builder().dns(LoopbackDns).mamoriPinning(engine, pki.platformTrustManager).build()
        assertEquals("ok", client.get(server, PINNED_HOST))
    }
}
