package jp.mamori

import jp.mamori.ffi.KekException
import jp.mamori.ffi.KeyEncryptionKey
import jp.mamori.ffi.SecurityLevel
import java.security.GeneralSecurityException
import java.security.MessageDigest
import java.security.SecureRandom
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec
import javax.crypto.spec.SecretKeySpec

/**
 * A key-encryption key on `javax.crypto` AES-256-GCM with the key in process memory.
 *
 * For desktop JVM tests and tools: it reports [SecurityLevel.SOFTWARE], which a store refuses
 * unless its `minSecurityLevel` is `SOFTWARE`. On Android use [jp.mamori.android.AndroidKeystoreKek].
 *
 * Wrapped format: `iv(12) ‖ ciphertext(32) ‖ tag(16)`, with the store's associated data bound.
 * The key id is `jvm:` followed by 16 hex digits of SHA-256("mamori kek id v1" ‖ key), so a
 * different key always has a different id.
 */
public class JvmAesGcmKek(private val key: SecretKey) : KeyEncryptionKey {
    init {
        require(key.algorithm == "AES" && key.encoded?.size == 32) { "an AES-256 key is required" }
    }

    private val id: String = run {
        val digest = MessageDigest.getInstance("SHA-256")
        digest.update("mamori kek id v1".toByteArray())
        val encoded = key.encoded
        try {
            digest.update(encoded)
        } finally {
            encoded.fill(0)
        }
        "jvm:" + digest.digest().take(8).joinToString("") { "%02x".format(it) }
    }

    override fun keyId(): String = id

    override fun securityLevel(): SecurityLevel = SecurityLevel.SOFTWARE

    override fun wrap(dek: ByteArray, aad: ByteArray): ByteArray {
        try {
            if (dek.size != 32) throw KekException.Backend("data key must be 32 bytes, got ${dek.size}")
            val iv = ByteArray(IV_LEN).also { random.nextBytes(it) }
            val cipher = Cipher.getInstance(TRANSFORMATION)
            cipher.init(Cipher.ENCRYPT_MODE, key, GCMParameterSpec(TAG_BITS, iv))
            cipher.updateAAD(aad)
            return iv + cipher.doFinal(dek)
        } catch (e: GeneralSecurityException) {
            throw KekException.Backend("AES-GCM wrap failed: ${e.javaClass.simpleName}")
        } finally {
            dek.fill(0)
        }
    }

    override fun unwrap(wrapped: ByteArray, aad: ByteArray): ByteArray {
        if (wrapped.size != IV_LEN + 32 + TAG_BITS / 8) throw KekException.UnwrapFailed("wrapped key has ${wrapped.size} bytes")
        try {
            val cipher = Cipher.getInstance(TRANSFORMATION)
            cipher.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(TAG_BITS, wrapped, 0, IV_LEN))
            cipher.updateAAD(aad)
            return cipher.doFinal(wrapped, IV_LEN, wrapped.size - IV_LEN)
        } catch (e: AEADBadTagException) {
            throw KekException.UnwrapFailed("authentication tag mismatch")
        } catch (e: GeneralSecurityException) {
            throw KekException.Backend("AES-GCM unwrap failed: ${e.javaClass.simpleName}")
        }
    }

    /** An in-memory key cannot be destroyed reliably on the JVM: reports `false`. */
    override fun deleteKey(): Boolean = false

    override fun toString(): String = "JvmAesGcmKek(id=$id)"

    public companion object {
        private const val TRANSFORMATION = "AES/GCM/NoPadding"
        private const val IV_LEN = 12
        private const val TAG_BITS = 128
        private val random = SecureRandom()

        /** A KEK with a fresh random AES-256 key. */
        @JvmStatic
        public fun generate(): JvmAesGcmKek =
            JvmAesGcmKek(KeyGenerator.getInstance("AES").apply { init(256, random) }.generateKey())

        /** A KEK from 32 raw key bytes (the array is wiped after use). */
        @JvmStatic
        public fun fromBytes(bytes: ByteArray): JvmAesGcmKek =
            try {
                JvmAesGcmKek(SecretKeySpec(bytes, "AES"))
            } finally {
                bytes.fill(0)
            }
    }
}
