package jp.mamori.android

import android.net.http.X509TrustManagerExtensions
import java.security.KeyStore
import java.security.cert.X509Certificate
import javax.net.ssl.TrustManagerFactory
import javax.net.ssl.X509TrustManager

/**
 * Android-only pinning helpers.
 *
 * On Android the platform trust manager can return the chain it actually *verified*
 * (`X509TrustManagerExtensions.checkServerTrusted(chain, authType, host)`), which is what pins
 * must be matched against (CVE-2016-2402: never pin against the presented list).
 */
public object AndroidPinning {
    /**
     * Runs the platform trust manager (network security config included) for [host] and returns
     * the verified chain, leaf first. Throws `CertificateException` when the platform rejects it.
     */
    @JvmStatic
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
