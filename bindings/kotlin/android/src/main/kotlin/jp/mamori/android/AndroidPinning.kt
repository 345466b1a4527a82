package jp.mamori.android

import android.net.http.X509TrustManagerExtensions
import jp.mamori.MamoriTrustManager
import jp.mamori.PinningFailureException
import jp.mamori.ffi.PinDecision
import jp.mamori.ffi.PinOutcome
import jp.mamori.ffi.PinningEngine
import java.net.Socket
import java.security.KeyStore
import java.security.cert.CertificateException
import java.security.cert.X509Certificate
import javax.net.ssl.SSLContext
import javax.net.ssl.SSLEngine
import javax.net.ssl.SSLSocket
import javax.net.ssl.TrustManagerFactory
import javax.net.ssl.X509ExtendedTrustManager
import javax.net.ssl.X509TrustManager

/**
 * Android pinning: the platform check through `X509TrustManagerExtensions`, then Mamori.
 *
 * `X509TrustManagerExtensions.checkServerTrusted(chain, authType, host)` runs the platform's
 * full, host-aware evaluation (the app's network security config included: its trust anchors,
 * its own pins, user-CA rules) and returns the chain it actually *verified*, leaf first. Mamori
 * then checks that chain against the policy's anchors and pins (defence in depth, BP-1).
 * Pins are never matched against the presented list (CVE-2016-2402).
 *
 * ```
 * val engine = PinningEngine.fromFile(File(context.filesDir, "pins.toml").path)
 * val trustManager = AndroidPinning.trustManager(engine)
 * val client = OkHttpClient.Builder()
 *     .sslSocketFactory(AndroidPinning.sslContext(trustManager).socketFactory, trustManager)
 *     .build()
 * ```
 */
public object AndroidPinning {
    /** A trust manager pinning with [engine] after the platform's check of [platform]. */
    @JvmStatic
    @JvmOverloads
    public fun trustManager(
        engine: PinningEngine,
        platform: X509TrustManager = defaultTrustManager(),
    ): X509ExtendedTrustManager = AndroidPinningTrustManager(engine, platform)

    /** A TLS `SSLContext` whose only trust manager is [trustManager]. */
    @JvmStatic
    public fun sslContext(trustManager: X509TrustManager): SSLContext =
        SSLContext.getInstance("TLS").apply { init(null, arrayOf(trustManager), null) }

    /**
     * Runs the platform trust manager (network security config included) for [host] and returns
     * the verified chain, leaf first. Throws `CertificateException` when the platform rejects it.
     */
    @JvmStatic
    @JvmOverloads
    public fun platformVerifiedChain(
        chain: Array<X509Certificate>,
        authType: String,
        host: String,
        platform: X509TrustManager = defaultTrustManager(),
    ): List<X509Certificate> = X509TrustManagerExtensions(platform).checkServerTrusted(chain, authType, host)

    /** The platform's default X509 trust manager. */
    @JvmStatic
    public fun defaultTrustManager(): X509TrustManager {
        val factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm())
        factory.init(null as KeyStore?)
        return factory.trustManagers.filterIsInstance<X509TrustManager>().single()
    }
}

/** See [AndroidPinning]. */
internal class AndroidPinningTrustManager(
    private val engine: PinningEngine,
    private val platform: X509TrustManager,
) : X509ExtendedTrustManager() {
    private val extensions = X509TrustManagerExtensions(platform)

    override fun checkServerTrusted(chain: Array<X509Certificate>, authType: String, socket: Socket?) {
        val session = (socket as? SSLSocket)?.handshakeSession
        check(chain, authType, MamoriTrustManager.hostOf(session), session?.peerPort ?: 0)
    }

    override fun checkServerTrusted(chain: Array<X509Certificate>, authType: String, engine: SSLEngine?) {
        val session = engine?.handshakeSession
        check(chain, authType, MamoriTrustManager.hostOf(session) ?: engine?.peerHost, session?.peerPort ?: 0)
    }

    /** No host: fail closed (Android's TLS stack always calls the socket/engine variants). */
    override fun checkServerTrusted(chain: Array<X509Certificate>, authType: String) {
        check(chain, authType, null, 0)
    }

    private fun check(chain: Array<X509Certificate>, authType: String, host: String?, port: Int): PinDecision {
        if (host.isNullOrEmpty()) {
            throw CertificateException("Mamori: no server host in the handshake, cannot apply the pin policy")
        }
        val verified = extensions.checkServerTrusted(chain, authType, host)
        val decision = engine.verify(host, port.coerceIn(0, 65535).toUShort(), verified.map { it.encoded })
        if (decision.outcome == PinOutcome.BLOCK) throw PinningFailureException(decision)
        return decision
    }

    override fun checkClientTrusted(chain: Array<X509Certificate>, authType: String, socket: Socket?) =
        platform.checkClientTrusted(chain, authType)

    override fun checkClientTrusted(chain: Array<X509Certificate>, authType: String, engine: SSLEngine?) =
        platform.checkClientTrusted(chain, authType)

    override fun checkClientTrusted(chain: Array<X509Certificate>, authType: String) =
        platform.checkClientTrusted(chain, authType)

    override fun getAcceptedIssuers(): Array<X509Certificate> = platform.acceptedIssuers
}
