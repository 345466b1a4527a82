package jp.mamori.android

import jp.mamori.android.testing.FakeAndroidKeyStoreProvider
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.annotation.Config
import java.io.File
import java.security.cert.Certificate
import java.security.cert.CertificateFactory

/**
 * [KeyAttestation] over the test double of the platform keystore: the challenge reaches
 * `setAttestationChallenge`, StrongBox is preferred and falls back to the TEE, and the chain the
 * keystore returns comes back leaf first as PEM, byte for byte. The chain is a real device's
 * (Google's keyattestation vectors, caiman TEE): the double cannot make one signed by Google's
 * roots, so what the *keystore* puts in the certificate is not tested here; the Rust verifier's
 * tests (and `mamori device check --attestation`) check the chain itself.
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [34], manifest = Config.NONE)
class KeyAttestationTest {
    private lateinit var keystore: FakeAndroidKeyStoreProvider
    private val repo = File(System.getProperty("mamori.repo.root") ?: error("mamori.repo.root not set")).canonicalFile
    private val vector = repo.resolve("../shared/testdata/keyattestation/testdata/caiman/sdk36/TEE_EC_RKP.pem")
    private val challenge = "d688d763-6118-4ca6-94b2-e6cd9ed7e4e4".toByteArray()
    private lateinit var chain: Array<Certificate>

    @Before
    fun setUp() {
        keystore = FakeAndroidKeyStoreProvider.install()
        assertTrue("shared test data missing: ${vector.absolutePath}", vector.isFile)
        chain = vector.inputStream().use { CertificateFactory.getInstance("X.509").generateCertificates(it).toTypedArray() }
        keystore.attestationChain = { chain }
    }

    @After
    fun tearDown() = FakeAndroidKeyStoreProvider.uninstall()

    @Test
    fun challengeReachesTheKeystoreAndTheChainComesBackAsPem() = runBlocking {
        val a = KeyAttestation.Builder("mamori-attest").build().attest(challenge)
        val spec = keystore.keyPairSpecs.getValue("mamori-attest")
        assertArrayEquals(challenge, spec.attestationChallenge)
        assertEquals(android.security.keystore.KeyProperties.PURPOSE_SIGN, spec.purposes)
        assertEquals(chain.size, a.certificates)
        val parsed = a.chainPem.byteInputStream().use { CertificateFactory.getInstance("X.509").generateCertificates(it).toList() }
        assertEquals(chain.map { it.encoded.toList() }, parsed.map { it.encoded.toList() })
    }

    @Test
    fun strongBoxIsPreferredAndFallsBackToTheTee() {
        keystore.strongBoxAvailable = true
        val sb = KeyAttestation.Builder("k").build().attestBlocking(challenge)
        assertTrue(sb.strongBox)
        assertTrue(keystore.keyPairSpecs.getValue("k").isStrongBoxBacked)
        keystore.strongBoxAvailable = false
        val tee = KeyAttestation.Builder("k").build().attestBlocking(challenge)
        assertFalse(tee.strongBox)
        assertTrue(tee.strongBoxFellBack)
        assertFalse(keystore.keyPairSpecs.getValue("k").isStrongBoxBacked)
        val plain = KeyAttestation.Builder("k").preferStrongBox(false).build().attestBlocking(challenge)
        assertFalse(plain.strongBoxFellBack)
    }

    @Test
    fun challengeOutsideTheKeystoreLimitsIsRefused() {
        val k = KeyAttestation.Builder("k").build()
        for (bad in listOf(ByteArray(0), ByteArray(129))) {
            val e = runCatching { k.attestBlocking(bad) }.exceptionOrNull()
            assertTrue("$e", e is IllegalArgumentException)
        }
    }
}
