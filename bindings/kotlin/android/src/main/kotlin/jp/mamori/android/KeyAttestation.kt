package jp.mamori.android

import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import android.security.keystore.StrongBoxUnavailableException
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext
import java.security.KeyPairGenerator
import java.security.KeyStore
import java.security.ProviderException
import java.security.spec.ECGenParameterSpec
import java.util.Base64

/**
 * Android Key Attestation on the device (guideline DEV-2): the app side of the round trip that
 * `mamori attest verify --platform android` and `mamori device check --attestation` verify on
 * the server (docs/attestation.md).
 *
 * 1. The server issues a fresh, random, single-use challenge (16 to 128 bytes).
 * 2. The app calls [attest] with it: a new EC P-256 signing key is generated in the Android
 *    Keystore with `setAttestationChallenge(challenge)` (in StrongBox when [Builder.preferStrongBox]
 *    and the device has one, else in the TEE), and the key's certificate chain is returned, leaf
 *    first, as PEM.
 * 3. The app sends the PEM to the server, which verifies it against Google's roots with the
 *    challenge it issued (`--challenge-b64`) and merges the attested facts into the verdict.
 *
 * The chain proves what the secure hardware saw (boot state, bootloader lock, patch levels, the
 * app's package and signing certificate); it is only as fresh as the challenge, so never reuse
 * one. Key generation takes hundreds of milliseconds (seconds on StrongBox): [attest] runs on
 * `Dispatchers.IO`.
 */
class KeyAttestation private constructor(
    private val alias: String,
    private val preferStrongBox: Boolean,
) {
    /** What [attest] produced. */
    class Attestation(
        /** The certificate chain, leaf first, as concatenated PEM `CERTIFICATE` blocks. */
        val chainPem: String,
        /** Number of certificates in the chain. */
        val certificates: Int,
        /** Whether the key was generated in StrongBox (false: the TEE). */
        val strongBox: Boolean,
        /** StrongBox was asked for but the device has none, so the TEE was used. */
        val strongBoxFellBack: Boolean,
    )

    /** Builds a [KeyAttestation]. */
    class Builder(private val alias: String) {
        private var preferStrongBox = true

        /** Generate the attested key in StrongBox when the device has one (default true). */
        fun preferStrongBox(prefer: Boolean): Builder = apply { preferStrongBox = prefer }

        fun build(): KeyAttestation {
            require(alias.isNotEmpty()) { "the keystore alias is empty" }
            return KeyAttestation(alias, preferStrongBox)
        }
    }

    /**
     * Generates a fresh attested key under the alias (replacing a previous one) for the server's
     * [challenge] and returns its certificate chain.
     *
     * @throws IllegalArgumentException for an empty challenge or one over 128 bytes (the
     *   keystore's limit).
     * @throws java.security.GeneralSecurityException when the keystore refuses (e.g.
     *   `KeyStoreException`, `InvalidAlgorithmParameterException`), and
     *   [java.security.ProviderException] when its daemon fails (StrongBox being unavailable is
     *   not one: the key is then made in the TEE and [Attestation] says so).
     */
    suspend fun attest(challenge: ByteArray): Attestation = withContext(Dispatchers.IO) { attestBlocking(challenge) }

    /** [attest] on the calling thread (never the main thread). */
    fun attestBlocking(challenge: ByteArray): Attestation {
        require(challenge.isNotEmpty()) { "the attestation challenge is empty" }
        require(challenge.size <= MAX_CHALLENGE_BYTES) { "the attestation challenge is over $MAX_CHALLENGE_BYTES bytes" }
        val wantStrongBox = preferStrongBox && Build.VERSION.SDK_INT >= Build.VERSION_CODES.P
        val strongBox = try {
            generate(challenge, wantStrongBox)
            wantStrongBox
        } catch (e: ProviderException) {
            // StrongBoxUnavailableException (a ProviderException) is API 28: catching it by type
            // makes this class fail verification on API 26-27 (lint NewApi), so it is tested
            // inside, as AndroidKeystoreKek does.
            if (!wantStrongBox || e !is StrongBoxUnavailableException) throw e
            generate(challenge, false)
            false
        }
        val keyStore = KeyStore.getInstance(PROVIDER).apply { load(null) }
        val chain = keyStore.getCertificateChain(alias)
            ?: throw java.security.KeyStoreException("the keystore returned no certificate chain for $alias")
        val encoder = Base64.getMimeEncoder(64, "\n".toByteArray())
        val pem = chain.joinToString("") { cert ->
            "-----BEGIN CERTIFICATE-----\n${encoder.encodeToString(cert.encoded)}\n-----END CERTIFICATE-----\n"
        }
        return Attestation(pem, chain.size, strongBox, wantStrongBox && !strongBox)
    }

    private fun generate(challenge: ByteArray, strongBox: Boolean) {
        val spec = KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_SIGN)
            .setAlgorithmParameterSpec(ECGenParameterSpec("secp256r1"))
            .setDigests(KeyProperties.DIGEST_SHA256)
            .setAttestationChallenge(challenge)
            .apply { if (strongBox) setIsStrongBoxBacked(true) }
            .build()
        KeyPairGenerator.getInstance(KeyProperties.KEY_ALGORITHM_EC, PROVIDER).apply {
            initialize(spec)
            generateKeyPair()
        }
    }

    private companion object {
        const val PROVIDER = "AndroidKeyStore"
        const val MAX_CHALLENGE_BYTES = 128
    }
}
