package jp.mamori.android

import jp.mamori.LoopbackDns
import jp.mamori.MamoriHostnameVerifier
import jp.mamori.PINNED_HOST
import jp.mamori.PinningFailureException
import jp.mamori.TestPki
import jp.mamori.causeOfType
import jp.mamori.mamoriPinning
import jp.mamori.ffi.PinOutcome
import jp.mamori.ffi.PinningEngine
import jp.mamori.pin
import jp.mamori.rule
import mockwebserver3.MockWebServer
import okhttp3.ConnectionPool
import okhttp3.OkHttpClient
import okhttp3.Request
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertSame
import org.junit.Assert.assertThrows
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.annotation.Config
import java.security.KeyStore
import java.security.cert.CertificateException
import java.util.concurrent.TimeUnit
import javax.net.ssl.SSLHandshakeException
import javax.net.ssl.TrustManagerFactory
import javax.net.ssl.X509TrustManager

/**
 * [AndroidPinning] on Android's own TLS trust stack (Conscrypt's `TrustManagerImpl` behind
 * `X509TrustManagerExtensions`, from Robolectric's SDK 34 framework) against a real TLS server
 * on loopback, with the Rust engine loaded through JNA.
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [34], manifest = Config.NONE)
class AndroidPinningTest {
    private val pki = TestPki()
    private val servers = mutableListOf<MockWebServer>()

    @After
    fun closeServers() = servers.forEach { it.close() }

    private fun server(): MockWebServer = pki.server().also { servers += it }

    /** Android's platform trust manager (Conscrypt) trusting exactly [trusted]'s root. */
    private fun conscryptTrusting(trusted: TestPki): X509TrustManager {
        val anchors = KeyStore.getInstance(KeyStore.getDefaultType()).apply {
            load(null)
            setCertificateEntry("root", trusted.root.certificate)
        }
        val factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm())
        factory.init(anchors)
        return factory.trustManagers.filterIsInstance<X509TrustManager>().single()
    }

    private fun get(server: MockWebServer, trustManager: X509TrustManager): String {
        val client = OkHttpClient.Builder()
            .dns(LoopbackDns)
            .connectionPool(ConnectionPool(0, 1, TimeUnit.SECONDS))
            .sslSocketFactory(AndroidPinning.sslContext(trustManager).socketFactory, trustManager)
            .build()
        val request = Request.Builder().url("https://$PINNED_HOST:${server.port}/").build()
        client.newCall(request).execute().use { return it.body.string() }
    }

    @Test
    fun `the platform trust manager is Conscrypt's, as on a device`() {
        assertEquals("org.conscrypt.TrustManagerImpl", conscryptTrusting(pki).javaClass.name)
        assertEquals("org.conscrypt.TrustManagerImpl", AndroidPinning.defaultTrustManager().javaClass.name)
    }

    @Test
    fun `a matching pin on the platform-verified chain is allowed`() {
        val server = server()
        val engine = PinningEngine.fromToml(pki.policy(rule(PINNED_HOST, pin(pki.intermediate), pin(pki.spare1))))
        val trustManager = AndroidPinning.trustManager(engine, conscryptTrusting(pki))

        assertEquals("ok", get(server, trustManager))
        assertEquals(1, server.requestCount)
    }

    @Test
    fun `wrong pins block the handshake with the engine's decision`() {
        val server = server()
        val engine = PinningEngine.fromToml(pki.policy(rule(PINNED_HOST, pin(pki.spare1), pin(pki.spare2))))
        val trustManager = AndroidPinning.trustManager(engine, conscryptTrusting(pki))

        val error = assertThrows(SSLHandshakeException::class.java) { get(server, trustManager) }
        val failure = error.causeOfType<PinningFailureException>()
            ?: throw AssertionError("the cause chain must hold PinningFailureException", error)
        assertEquals(PinOutcome.BLOCK, failure.decision.outcome)
        assertEquals(PINNED_HOST, failure.decision.host)
        assertTrue(failure.decision.reason, failure.decision.reason.isNotEmpty())
        assertEquals(0, server.requestCount)
    }

    @Test
    fun `a chain the platform does not trust is refused before Mamori looks at it`() {
        val server = server()
        val engine = PinningEngine.fromToml(pki.policy(rule(PINNED_HOST, pin(pki.intermediate), pin(pki.spare1))))
        val trustManager = AndroidPinning.trustManager(engine, conscryptTrusting(TestPki("Other")))

        val error = assertThrows(SSLHandshakeException::class.java) { get(server, trustManager) }
        assertEquals(null, error.causeOfType<PinningFailureException>())
        assertNotNull(error.causeOfType<CertificateException>())
    }

    @Test
    fun `platformVerifiedChain returns the chain Conscrypt built, up to the anchor`() {
        val chain = AndroidPinning.platformVerifiedChain(pki.presentedChain, "ECDHE_ECDSA", PINNED_HOST, conscryptTrusting(pki))
        assertEquals(
            listOf(pki.leaf.certificate, pki.intermediate.certificate, pki.root.certificate),
            chain,
        )
    }

    @Test
    fun `mamoriPinning pins an OkHttp client on Conscrypt, allowing the right pins and blocking others`() {
        fun client(engine: PinningEngine): OkHttpClient {
            val trustManager = AndroidPinning.trustManager(engine, conscryptTrusting(pki))
            val client = OkHttpClient.Builder()
                .dns(LoopbackDns)
                .connectionPool(ConnectionPool(0, 1, TimeUnit.SECONDS))
                .mamoriPinning(trustManager)
                .build()
            assertSame(trustManager, client.x509TrustManager)
            assertSame(MamoriHostnameVerifier, client.hostnameVerifier)
            return client
        }
        fun call(client: OkHttpClient, server: MockWebServer): String =
            client.newCall(Request.Builder().url("https://$PINNED_HOST:${server.port}/").build()).execute().use { it.body.string() }

        val good = server()
        val allowed = client(PinningEngine.fromToml(pki.policy(rule(PINNED_HOST, pin(pki.intermediate), pin(pki.spare1)))))
        assertEquals("ok", call(allowed, good))
        assertEquals(1, good.requestCount)

        val bad = server()
        val blocked = client(PinningEngine.fromToml(pki.policy(rule(PINNED_HOST, pin(pki.spare1), pin(pki.spare2)))))
        val error = assertThrows(SSLHandshakeException::class.java) { call(blocked, bad) }
        val failure = error.causeOfType<PinningFailureException>()
            ?: throw AssertionError("the cause chain must hold PinningFailureException", error)
        assertEquals(PinOutcome.BLOCK, failure.decision.outcome)
        assertEquals(0, bad.requestCount)
    }

    @Test
    fun `builder adds a report listener for report-only rules`() {
        val server = server()
        val reports = mutableListOf<String>()
        val engine = PinningEngine.fromToml(pki.policy(rule(PINNED_HOST, pin(pki.spare1), pin(pki.spare2), reportOnly = true)))
        val trustManager = AndroidPinning.builder(engine, conscryptTrusting(pki))
            .reportListener { reports += PINNED_HOST }
            .build()

        assertEquals("ok", get(server, trustManager))
        assertEquals(listOf(PINNED_HOST), reports)
    }
}
