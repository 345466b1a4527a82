package jp.mamori.android

import android.net.http.X509TrustManagerExtensions
import jp.mamori.MamoriTrustManager
import jp.mamori.ffi.PinningEngine
import java.security.KeyStore
import java.security.cert.X509Certificate
import javax.net.ssl.SSLContext
import javax.net.ssl.TrustManagerFactory
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
 * The trust manager is a [MamoriTrustManager] with Android's platform step: the same host
 * extraction, pin check, failure exception and per-trust-manager report listener as on the JVM.
 *
 * ```
 * val engine = PinningEngine.fromFile(File(context.filesDir, "pins.toml").path)
 * val trustManager = AndroidPinning.trustManager(engine)
 * val client = OkHttpClient.Builder()
 *     .mamoriPinning(trustManager) // also sets MamoriHostnameVerifier: no cross-host coalescing
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
    ): MamoriTrustManager = builder(engine, platform).build()

    /**
     * A [MamoriTrustManager.Builder] with Android's platform step already set, for adding a
     * report listener or app facts: `AndroidPinning.builder(engine).reportListener { ... }.build()`.
     */
    @JvmStatic
    @JvmOverloads
    public fun builder(
        engine: PinningEngine,
        platform: X509TrustManager = defaultTrustManager(),
    ): MamoriTrustManager.Builder {
        val extensions = X509TrustManagerExtensions(platform)
        return MamoriTrustManager.Builder()
            .policy(engine)
            .platformTrustManager(platform)
            .platformTrustCheck { chain, authType, host -> extensions.checkServerTrusted(chain, authType, host) }
    }

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
