package jp.mamori.android

import android.net.http.X509TrustManagerExtensions
import jp.mamori.PINNED_HOST
import jp.mamori.bench.BenchPki
import jp.mamori.bench.TrustBench
import jp.mamori.ffi.ChainValidation
import jp.mamori.ffi.PinningEngine
import okhttp3.CertificatePinner
import okhttp3.internal.tls.OkHostnameVerifier
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.annotation.Config
import org.robolectric.annotation.ConscryptMode
import java.security.Security

/**
 * Trust evaluation per handshake under Robolectric with Conscrypt (issue 17): a benchmark, not a
 * test (its name keeps it out of `cargo xtask kotlin-test`; `cargo xtask kotlin-bench --android`
 * runs it, figures in the README). The same cases and paired rounds as the JVM run
 * ([TrustBench]), with Android's platform step,
 * `X509TrustManagerExtensions.checkServerTrusted(chain, authType, host)` over Conscrypt's
 * `TrustManagerImpl`, and certificates parsed by the default `CertificateFactory` (Conscrypt's).
 *
 * The contenders, each as it runs on a device:
 * - platform alone: the host-aware platform evaluation, once;
 * - platform + OkHttp: that evaluation (the handshake's), then what OkHttp's
 *   `AndroidCertificateChainCleaner` does to clean the chain (the same evaluation again, with
 *   authType "RSA"), the host name check and `CertificatePinner.check` on the cleaned chain
 *   (OkHttp's Android artifact builds that cleaner; the JVM artifact on this classpath would
 *   build the JVM one, so the cleaner's call is written out here, as OkHttp makes it);
 * - platform + Mamori: `AndroidPinning`'s trust manager in each mode (one platform evaluation,
 *   whose verified chain Mamori pins).
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [34], manifest = Config.NONE)
@ConscryptMode(ConscryptMode.Mode.ON)
class TrustBenchmark {
    @Test
    fun trustEvaluation() {
        val providers = Security.getProviders().take(3).joinToString { it.name }
        println(
            "\n== Trust evaluation per handshake, Robolectric SDK 34 with Conscrypt " +
                "(providers: $providers; certificates: ${TrustBench.certificateProvider}) ==",
        )
        assertTrue("Conscrypt must be the first provider, got $providers", Security.getProviders()[0].name.contains("Conscrypt"))
        val ratios = mutableListOf<String>()
        for (rsa in listOf(false, true)) {
            val pki = BenchPki(rsa)
            val contenders = contenders(pki)
            for ((case, chains, warmupOps) in listOf(Triple("repeated chain", pki.repeated(), 10_000), Triple("first-seen chain", pki.firstSeen(), 2_000))) {
                val result = TrustBench.paired("${pki.label}, $case", contenders, chains, warmupOps = warmupOps)
                ratios += "%s, %s: Mamori MAMORI / (platform + OkHttp) = %s; Mamori PLATFORM / (platform + OkHttp) = %s; (platform + OkHttp) / platform = %s".format(
                    pki.label, case,
                    TrustBench.ratioLine(result, MAMORI, OKHTTP),
                    TrustBench.ratioLine(result, MAMORI_PLATFORM, OKHTTP),
                    TrustBench.ratioLine(result, OKHTTP, PLATFORM),
                )
            }
        }
        println("ratios (median of per-round ratios, same rounds):")
        ratios.forEach { println("  $it") }
    }

    private fun contenders(pki: BenchPki): List<TrustBench.Contender> {
        val tm = pki.platformTrustManager
        val extensions = X509TrustManagerExtensions(tm)
        val pinner = CertificatePinner.Builder().add(PINNED_HOST, *pki.pins.toTypedArray()).build()
        val engine = PinningEngine.fromToml(pki.policyToml())
        val mamori = AndroidPinning.builder(engine, tm).build()
        val mamoriPlatform = AndroidPinning.builder(engine, tm).chainValidation(ChainValidation.PLATFORM).build()
        return listOf(
            TrustBench.Contender(PLATFORM) { extensions.checkServerTrusted(TrustBench.parse(it), pki.authType, PINNED_HOST) },
            TrustBench.Contender(OKHTTP) {
                val chain = TrustBench.parse(it)
                extensions.checkServerTrusted(chain, pki.authType, PINNED_HOST)
                val cleaned = extensions.checkServerTrusted(chain, "RSA", PINNED_HOST)
                check(OkHostnameVerifier.verify(PINNED_HOST, chain[0]))
                pinner.check(PINNED_HOST, cleaned)
            },
            TrustBench.Contender(MAMORI) {
                check(mamori.checkServerTrusted(TrustBench.parse(it), pki.authType, PINNED_HOST, 443).pinMatched)
            },
            TrustBench.Contender(MAMORI_PLATFORM) {
                check(mamoriPlatform.checkServerTrusted(TrustBench.parse(it), pki.authType, PINNED_HOST, 443).pinMatched)
            },
        )
    }

    private companion object {
        const val PLATFORM = "platform X509TrustManagerExtensions"
        const val OKHTTP = "platform + OkHttp CertificatePinner (Android cleaner)"
        const val MAMORI = "platform + Mamori, ChainValidation.MAMORI"
        const val MAMORI_PLATFORM = "platform + Mamori, ChainValidation.PLATFORM"
    }
}
