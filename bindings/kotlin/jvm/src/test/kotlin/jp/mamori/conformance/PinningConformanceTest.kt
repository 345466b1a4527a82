package jp.mamori.conformance

import jp.mamori.MamoriTrustManager
import jp.mamori.ffi.ChainValidation
import jp.mamori.ffi.PinningEngine
import okhttp3.CertificatePinner
import okhttp3.HttpUrl.Companion.toHttpUrl
import okhttp3.OkHttpClient
import okhttp3.internal.tls.OkHostnameVerifier
import org.junit.jupiter.api.Test
import java.security.cert.CertificateException
import javax.net.ssl.SSLContext
import javax.net.ssl.SSLPeerUnverifiedException
import org.junit.jupiter.api.Assertions.assertTrue

/**
 * The pinning conformance suite (`tests/conformance/pinning/`) on the JVM, against the JDK's
 * PKIX trust manager trusting exactly each case's anchors (wall clock: the suite's outcomes hold
 * until 2040):
 * - `mamori-kotlin`: [MamoriTrustManager] (platform first, then Mamori's engine), every case;
 * - `mamori-kotlin-platform`: the same with `ChainValidation.PLATFORM` (Mamori pins the path the
 *   platform verified), every case;
 * - `okhttp`: what an OkHttp client does, for the cases OkHttp's pinner can express: the
 *   platform trust manager, OkHttp's `OkHostnameVerifier` on the URL's canonical host, then the
 *   client's `CertificatePinner` (with the chain cleaner OkHttp installs for that trust manager).
 * Each runner's disagreements must be exactly its rows of `docs/conformance.md`.
 */
class PinningConformanceTest {
    @Test
    fun mamoriTrustManagerAgreesWithTheSuite() {
        ConformanceSuite.assertConformance("mamori-kotlin") { case ->
            val trustManager = MamoriTrustManager.Builder()
                .policy(PinningEngine.fromJson(case.mamoriPolicyJson()))
                .platformTrustManager(ConformanceSuite.platformTrustManager(case.anchors))
                .build()
            ConformanceSuite.mamoriOutcome(trustManager, case)
        }
    }

    @Test
    fun mamoriTrustManagerOnThePlatformPathAgreesWithTheSuite() {
        ConformanceSuite.assertConformance("mamori-kotlin-platform") { case ->
            val trustManager = MamoriTrustManager.Builder()
                .policy(PinningEngine.fromJson(case.mamoriPolicyJson()))
                .platformTrustManager(ConformanceSuite.platformTrustManager(case.anchors))
                .chainValidation(ChainValidation.PLATFORM)
                .build()
            ConformanceSuite.mamoriOutcome(trustManager, case)
        }
    }

    @Test
    fun okHttpCertificatePinnerAgreesWithTheSuite() {
        val ran = ConformanceSuite.assertConformance("okhttp", expresses = { "okhttp" in it.expressibleBy }) { case ->
            okHttpDecision(case)
        }
        assertTrue(ran >= 40) { "OkHttp ran $ran cases" }
    }

    private fun okHttpDecision(case: ConformanceCase): Outcome {
        val platform = ConformanceSuite.platformTrustManager(case.anchors)
        val pinner = try {
            CertificatePinner.Builder().apply {
                for (d in case.domains) {
                    add(if (d.includeSubdomains) "**.${d.host}" else d.host, *d.pins.toTypedArray())
                }
            }.build()
        } catch (e: IllegalArgumentException) {
            return Outcome("policy-refused", e.message ?: "")
        }
        val context = SSLContext.getInstance("TLS").apply { init(null, arrayOf(platform), null) }
        // OkHttpClient attaches the chain cleaner for `platform` to the pinner it is given.
        val client = OkHttpClient.Builder()
            .sslSocketFactory(context.socketFactory, platform)
            .certificatePinner(pinner)
            .build()
        val literal = if (':' in case.host) "[${case.host}]" else case.host
        val host = "https://$literal/".toHttpUrl().host
        val chain = case.chain
        try {
            platform.checkServerTrusted(chain.toTypedArray(), ConformanceSuite.authType(chain[0]))
        } catch (e: CertificateException) {
            return ConformanceSuite.platformRefusal(e)
        }
        if (!OkHostnameVerifier.verify(host, chain[0])) return Outcome("block", "name-mismatch")
        return try {
            client.certificatePinner.check(host, chain)
            Outcome("allow", "ok")
        } catch (e: SSLPeerUnverifiedException) {
            Outcome("block", "pin-mismatch")
        }
    }

}
