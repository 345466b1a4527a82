package jp.mamori.android

import android.security.net.config.ApplicationConfig
import android.security.net.config.CertificatesEntryRef
import android.security.net.config.ConfigSource
import android.security.net.config.Domain
import android.security.net.config.CertificateSource
import android.security.net.config.NetworkSecurityConfig
import android.security.net.config.Pin
import android.security.net.config.PinSet
import android.net.http.X509TrustManagerExtensions
import android.util.Pair
import jp.mamori.conformance.ConformanceCase
import jp.mamori.conformance.ConformanceSuite
import jp.mamori.conformance.Outcome
import jp.mamori.ffi.ChainValidation
import jp.mamori.ffi.PinningEngine
import okhttp3.internal.tls.OkHostnameVerifier
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.annotation.Config
import java.security.KeyStore
import java.security.MessageDigest
import java.security.cert.CertificateException
import java.time.LocalDate
import java.time.ZoneOffset
import java.util.Base64

/**
 * The pinning conformance suite (`tests/conformance/pinning/`) on Android's own stack, from
 * Robolectric's SDK 34 framework jar:
 * - `android-nsc`: Android's network security config classes (`android.security.net.config`:
 *   `ApplicationConfig` picks the most specific `Domain`, `NetworkSecurityConfig` with its
 *   `PinSet`), built from each case as `XmlConfigSource` would build them from
 *   `<domain-config>`/`<pin-set>`/`<trust-anchors>`; the trust evaluation by Conscrypt through
 *   `X509TrustManagerExtensions` and NSC's `checkPins` rule restated on the `PinSet` (NSC's
 *   `NetworkSecurityTrustManager` cannot be constructed under Robolectric: see below);
 *   NSC does not check host names (the HTTP stack's `HostnameVerifier` does: Android's is
 *   OkHttp's `OkHostnameVerifier`, applied here after NSC). Cases NSC can express only.
 * - `mamori-android`: [AndroidPinning] (Mamori after `X509TrustManagerExtensions` over
 *   Conscrypt trusting the case's anchors), every case; `mamori-android-platform` the same with
 *   `ChainValidation.PLATFORM` (Mamori pins the chain `X509TrustManagerExtensions` returned).
 * Each runner's disagreements must be exactly its rows of `docs/conformance.md`.
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [34], manifest = Config.NONE)
class NscConformanceTest {
    @Test
    fun androidNetworkSecurityConfigAgreesWithTheSuite() {
        val ran = ConformanceSuite.assertConformance("android-nsc", expresses = { "android-nsc" in it.expressibleBy }) { case ->
            nscDecision(case)
        }
        assertTrue("NSC ran $ran cases", ran >= 40)
    }

    @Test
    fun androidPinningAgreesWithTheSuite() {
        ConformanceSuite.assertConformance("mamori-android") { case ->
            val trustManager = AndroidPinning.trustManager(
                PinningEngine.fromJson(case.mamoriPolicyJson()),
                ConformanceSuite.platformTrustManager(case.anchors),
            )
            ConformanceSuite.mamoriOutcome(trustManager, case)
        }
    }

    @Test
    fun androidPinningOnThePlatformPathAgreesWithTheSuite() {
        ConformanceSuite.assertConformance("mamori-android-platform") { case ->
            val trustManager = AndroidPinning.builder(
                PinningEngine.fromJson(case.mamoriPolicyJson()),
                ConformanceSuite.platformTrustManager(case.anchors),
            ).chainValidation(ChainValidation.PLATFORM).build()
            ConformanceSuite.mamoriOutcome(trustManager, case)
        }
    }

    // The tests compile against compileSdk 36 and run on SDK 34's framework:
    // KeyStoreCertificateSource is package-private in the one and
    // CertificatesEntryRef's constructor gained `disableCT` in 36, so both
    // are reached by reflection, with the signature the running level has.
    private fun keyStoreSource(ks: KeyStore): CertificateSource =
        Class.forName("android.security.net.config.KeyStoreCertificateSource")
            .getDeclaredConstructor(KeyStore::class.java)
            .apply { isAccessible = true }
            .newInstance(ks) as CertificateSource

    private fun entryRef(source: CertificateSource): CertificatesEntryRef {
        val ctors = CertificatesEntryRef::class.java.declaredConstructors.onEach { it.isAccessible = true }
        val two = ctors.firstOrNull { it.parameterCount == 2 }
        val ref = two?.newInstance(source, false)
            ?: ctors.first { it.parameterCount == 3 }.newInstance(source, false, false)
        return ref as CertificatesEntryRef
    }

    private fun nscDecision(case: ConformanceCase): Outcome {
        val anchors = KeyStore.getInstance(KeyStore.getDefaultType()).apply {
            load(null)
            case.anchors.forEachIndexed { i, cert -> setCertificateEntry("anchor$i", cert) }
        }
        // <trust-anchors><certificates src="..."/></trust-anchors>, overridePins="false".
        val source = keyStoreSource(anchors)
        fun config(pins: PinSet?): NetworkSecurityConfig = NetworkSecurityConfig.Builder().apply {
            addCertificatesEntryRef(entryRef(source))
            if (pins != null) setPinSet(pins)
        }.build()
        // One <domain-config> per rule: <domain includeSubdomains=...>, <pin-set expiration=...>.
        val perDomain: Set<Pair<Domain, NetworkSecurityConfig>> = case.domains.map { d ->
            val (host, subdomains) = if (d.host.startsWith("**.")) d.host.removePrefix("**.") to true else d.host to d.includeSubdomains
            val pins = d.pins.map { Pin("SHA-256", Base64.getDecoder().decode(it.removePrefix("sha256/"))) }.toSet()
            // XmlConfigSource: expiration="yyyy-MM-dd", pins ignored from that day on.
            val expiration = d.expires?.let { LocalDate.parse(it).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli() }
                ?: Long.MAX_VALUE
            Pair(Domain(host, subdomains), config(PinSet(pins, expiration)))
        }.toSet()
        val configSource = object : ConfigSource {
            override fun getPerDomainConfigs(): Set<Pair<Domain, NetworkSecurityConfig>> = perDomain
            override fun getDefaultConfig(): NetworkSecurityConfig = config(null)
        }
        // NSC's own domain selection: the most specific <domain> for the host, else the base config.
        val config = ApplicationConfig(configSource).getConfigForHostname(case.host)
        val chain = case.chain.toTypedArray()
        // The trust evaluation. NSC's own NetworkSecurityTrustManager cannot be constructed under
        // Robolectric (see docs/conformance.md): its constructor builds the platform Conscrypt's
        // TrustManagerImpl, whose default CT log store calls NativeCrypto.EVP_parse_public_key, a
        // JNI method of libjavacrypto that Robolectric does not ship. The same validation comes
        // from Robolectric's Conscrypt through X509TrustManagerExtensions, trusting the anchors
        // the config names.
        val trusted = try {
            X509TrustManagerExtensions(ConformanceSuite.platformTrustManager(case.anchors))
                .checkServerTrusted(chain, ConformanceSuite.authType(chain[0]), case.host)
        } catch (e: CertificateException) {
            return ConformanceSuite.platformRefusal(e)
        }
        // NetworkSecurityTrustManager.checkPins, restated on NSC's own PinSet: no pins or an expired
        // set (System.currentTimeMillis() > expirationTime) pass; else some certificate of the
        // trusted chain must have a public key whose digest is in the set.
        val pinSet = config.pins
        if (pinSet.pins.isNotEmpty() && System.currentTimeMillis() <= pinSet.expirationTime) {
            val matched = trusted.any { cert ->
                pinSet.pins.map { it.digestAlgorithm }.toSet().any { alg ->
                    Pin(alg, MessageDigest.getInstance(alg).digest(cert.publicKey.encoded)) in pinSet.pins
                }
            }
            if (!matched) return Outcome("block", "pin-mismatch")
        }
        if (!OkHostnameVerifier.verify(case.host, chain[0])) return Outcome("block", "name-mismatch")
        return Outcome("allow", "ok")
    }

}
