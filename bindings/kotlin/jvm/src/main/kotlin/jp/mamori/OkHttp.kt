package jp.mamori

import jp.mamori.ffi.PinFailureReport
import jp.mamori.ffi.PinningEngine
import okhttp3.OkHttpClient
import javax.net.ssl.X509TrustManager

/**
 * Pins this OkHttp client with Mamori: installs a [MamoriTrustManager] (platform trust
 * manager first, then [engine]) through `sslSocketFactory(socketFactory, trustManager)`.
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

/** Pins this OkHttp client with an existing [MamoriTrustManager]. */
public fun OkHttpClient.Builder.mamoriPinning(trustManager: MamoriTrustManager): OkHttpClient.Builder =
    sslSocketFactory(trustManager.sslContext().socketFactory, trustManager)
