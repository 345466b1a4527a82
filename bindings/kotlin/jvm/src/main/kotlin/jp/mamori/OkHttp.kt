package jp.mamori

import jp.mamori.ffi.PinFailureReport
import jp.mamori.ffi.PinningEngine
import okhttp3.OkHttpClient
import okhttp3.internal.tls.OkHostnameVerifier
import javax.net.ssl.HostnameVerifier
import javax.net.ssl.SSLSession
import javax.net.ssl.X509TrustManager

/**
 * Pins this OkHttp client with Mamori: installs a [MamoriTrustManager] (platform trust
 * manager first, then [engine]) through `sslSocketFactory(socketFactory, trustManager)`, and
 * [MamoriHostnameVerifier] so that every host gets its own handshake (see there).
 *
 * ```
 * val client = OkHttpClient.Builder()
 *     .mamoriPinning(engine) { report -> uploader.enqueue(report.json) }
 *     .build()
 * ```
 * A blocked server fails the call with an `SSLHandshakeException` caused by
 * [PinningFailureException].
 */
public fun OkHttpClient.Builder.mamoriPinning(
    engine: PinningEngine,
    platformTrustManager: X509TrustManager = MamoriTrustManager.defaultPlatformTrustManager(),
    onReport: ((PinFailureReport) -> Unit)? = null,
): OkHttpClient.Builder {
    val builder = MamoriTrustManager.Builder().policy(engine).platformTrustManager(platformTrustManager)
    onReport?.let { builder.reportListener(it) }
    return mamoriPinning(builder.build())
}

/**
 * Pins this OkHttp client with an existing [MamoriTrustManager] (on Android:
 * `AndroidPinning.trustManager(engine)`), and sets [MamoriHostnameVerifier]. Do not set
 * OkHttp's own `OkHostnameVerifier` afterwards: it re-enables connection coalescing across hosts.
 */
public fun OkHttpClient.Builder.mamoriPinning(trustManager: MamoriTrustManager): OkHttpClient.Builder =
    sslSocketFactory(trustManager.sslContext().socketFactory, trustManager)
        .hostnameVerifier(MamoriHostnameVerifier)

/**
 * OkHttp's own hostname check (`OkHostnameVerifier`) under another identity, and that is the
 * point: OkHttp sends a request for host B over an open HTTP/2 connection made for host A
 * (connection coalescing) when the certificate covers both, both resolve to the same address and
 * the client's verifier *is* `OkHostnameVerifier`; then it re-checks only its own
 * `CertificatePinner`. The trust manager, and so Mamori's pins, ran for A's handshake only, so a
 * pinned B could ride a connection that was checked as an unpinned A (DEV-4). With any other
 * verifier OkHttp never coalesces: every host gets its own handshake and its own pin check.
 */
public object MamoriHostnameVerifier : HostnameVerifier {
    override fun verify(hostname: String, session: SSLSession): Boolean =
        OkHostnameVerifier.verify(hostname, session)
}
