package jp.mamori.android

import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyInfo
import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.KeyProperties
import android.security.keystore.StrongBoxUnavailableException
import android.security.keystore.UserNotAuthenticatedException
import jp.mamori.ffi.KekException
import jp.mamori.ffi.KeyEncryptionKey
import jp.mamori.ffi.SecurityLevel
import java.security.GeneralSecurityException
import java.security.KeyStore
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.SecretKeyFactory
import javax.crypto.spec.GCMParameterSpec

/**
 * A key-encryption key in the Android Keystore (guideline DEV-1): an AES-256-GCM key that never
 * leaves the TEE (or StrongBox), used only to wrap Mamori's 32-byte data keys.
 *
 * Explicit choices, each a trap in the field:
 * - the key size is set to **256** (AES keys default to 128 bits without `setKeySize`);
 * - StrongBox is **opt-in** ([Builder.preferStrongBox]) and falls back to the TEE on
 *   `StrongBoxUnavailableException`: StrongBox costs hundreds of milliseconds per operation and is
 *   missing on many devices; the level actually obtained is read back from `KeyInfo`
 *   ([securityLevel], `KeyInfo.securityLevel` on API 31+);
 * - an existing alias that became unusable is reported as [KekException.KeyInvalidated] and is
 *   **never** silently regenerated (the store then reports `KeyInvalidated` to the app);
 * - the key id contains the key's creation date, so a re-created alias is a different key.
 *
 * ```kotlin
 * val kek = AndroidKeystoreKek.Builder("mamori.vault")
 *     .preferStrongBox(true)
 *     .unlockedDeviceRequired(true)
 *     .build()
 * val storage = SecureStorage.builder(context.noBackupFilesDir.toPath().resolve("vault"), kek).build()
 * ```
 * Keep the store directory out of backups (`noBackupFilesDir`): the key cannot follow it.
 */
public class AndroidKeystoreKek private constructor(
    private val alias: String,
    private val creationMillis: Long,
    /** Whether StrongBox was requested but unavailable, so the key lives in the TEE. */
    public val strongBoxFellBack: Boolean,
) : KeyEncryptionKey {
    /** Options for creating (or finding) the key. */
    public class Builder(private val alias: String) {
        private var preferStrongBox = false
        private var unlockedDeviceRequired = false
        private var authTimeoutSeconds: Int? = null
        private var authTypes = KeyProperties.AUTH_DEVICE_CREDENTIAL or KeyProperties.AUTH_BIOMETRIC_STRONG
        private var invalidatedByBiometricEnrollment = true

        init {
            require(alias.isNotEmpty()) { "empty alias" }
        }

        /** Ask for a StrongBox key (API 28+); falls back to the TEE if the device has none. */
        public fun preferStrongBox(prefer: Boolean): Builder = apply { preferStrongBox = prefer }

        /** Refuse use while the device is locked (API 28+). */
        public fun unlockedDeviceRequired(required: Boolean): Builder = apply { unlockedDeviceRequired = required }

        /**
         * Require user authentication within [timeoutSeconds] before each use (0: every use, needs
         * a `CryptoObject`). [types] are `KeyProperties.AUTH_*` flags (API 30+); the default
         * accepts the device credential, so a new fingerprint does not invalidate the key.
         */
        public fun userAuthentication(
            timeoutSeconds: Int,
            types: Int = KeyProperties.AUTH_DEVICE_CREDENTIAL or KeyProperties.AUTH_BIOMETRIC_STRONG,
        ): Builder = apply {
            require(timeoutSeconds >= 0) { "negative timeout" }
            authTimeoutSeconds = timeoutSeconds
            authTypes = types
        }

        /** Whether enrolling a new biometric invalidates an auth-bound key (Android default: true). */
        public fun invalidatedByBiometricEnrollment(invalidated: Boolean): Builder =
            apply { invalidatedByBiometricEnrollment = invalidated }

        /** Finds the key under the alias, or generates it. */
        public fun build(): AndroidKeystoreKek {
            val keyStore = keyStore()
            if (keyStore.containsAlias(alias)) {
                val created = keyStore.getCreationDate(alias)?.time ?: 0L
                return AndroidKeystoreKek(alias, created, strongBoxFellBack = false)
            }
            var fellBack = false
            try {
                generate(strongBox = preferStrongBox)
            } catch (e: StrongBoxUnavailableException) {
                fellBack = true
                generate(strongBox = false)
            }
            val created = keyStore().getCreationDate(alias)?.time ?: 0L
            return AndroidKeystoreKek(alias, created, fellBack)
        }

        private fun generate(strongBox: Boolean) {
            val spec = KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
                .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
                .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
                .setKeySize(256)
                .setRandomizedEncryptionRequired(true)
            if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.P) {
                if (strongBox) spec.setIsStrongBoxBacked(true)
                spec.setUnlockedDeviceRequired(unlockedDeviceRequired)
            }
            authTimeoutSeconds?.let { timeout ->
                spec.setUserAuthenticationRequired(true)
                spec.setInvalidatedByBiometricEnrollment(invalidatedByBiometricEnrollment)
                if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) {
                    spec.setUserAuthenticationParameters(timeout, authTypes)
                } else {
                    @Suppress("DEPRECATION")
                    spec.setUserAuthenticationValidityDurationSeconds(if (timeout == 0) -1 else timeout)
                }
            }
            val generator = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, ANDROID_KEYSTORE)
            generator.init(spec.build())
            generator.generateKey()
        }
    }

    override fun keyId(): String = "android-keystore:$alias:$creationMillis"

    /** The level the Keystore reports for this key (`KeyInfo`), not the level that was asked for. */
    override fun securityLevel(): SecurityLevel {
        val info = try {
            val key = key()
            SecretKeyFactory.getInstance(key.algorithm, ANDROID_KEYSTORE).getKeySpec(key, KeyInfo::class.java) as KeyInfo
        } catch (e: GeneralSecurityException) {
            return SecurityLevel.SOFTWARE
        } catch (e: KekException) {
            return SecurityLevel.SOFTWARE
        }
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.S) {
            return when (info.securityLevel) {
                KeyProperties.SECURITY_LEVEL_STRONGBOX -> SecurityLevel.STRONG_BOX
                KeyProperties.SECURITY_LEVEL_TRUSTED_ENVIRONMENT, KeyProperties.SECURITY_LEVEL_UNKNOWN_SECURE -> SecurityLevel.TEE
                else -> SecurityLevel.SOFTWARE
            }
        }
        @Suppress("DEPRECATION")
        return if (info.isInsideSecureHardware) SecurityLevel.TEE else SecurityLevel.SOFTWARE
    }

    override fun wrap(dek: ByteArray, aad: ByteArray): ByteArray = guarded {
        try {
            val cipher = Cipher.getInstance(TRANSFORMATION)
            cipher.init(Cipher.ENCRYPT_MODE, key()) // the Keystore picks a random IV
            cipher.updateAAD(aad)
            val sealed = cipher.doFinal(dek)
            val iv = cipher.iv
            require(iv.size == IV_LEN) { "unexpected IV length ${iv.size}" }
            iv + sealed
        } finally {
            dek.fill(0)
        }
    }

    override fun unwrap(wrapped: ByteArray, aad: ByteArray): ByteArray = guarded {
        if (wrapped.size <= IV_LEN + TAG_BITS / 8) throw KekException.UnwrapFailed("wrapped key too short")
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.DECRYPT_MODE, key(), GCMParameterSpec(TAG_BITS, wrapped, 0, IV_LEN))
        cipher.updateAAD(aad)
        cipher.doFinal(wrapped, IV_LEN, wrapped.size - IV_LEN)
    }

    /** Deletes the alias (crypto-shredding). */
    override fun deleteKey(): Boolean = guarded {
        keyStore().deleteEntry(alias)
        true
    }

    override fun toString(): String = "AndroidKeystoreKek(${keyId()})"

    private fun key(): SecretKey {
        val keyStore = keyStore()
        val key = keyStore.getKey(alias, null) as? SecretKey
            ?: throw KekException.KeyInvalidated("alias $alias no longer exists")
        val created = keyStore.getCreationDate(alias)?.time ?: 0L
        if (created != creationMillis) throw KekException.KeyInvalidated("alias $alias was re-created")
        return key
    }

    /** Maps platform failures onto the typed [KekException]s the store understands. */
    private inline fun <T> guarded(block: () -> T): T =
        try {
            block()
        } catch (e: KekException) {
            throw e
        } catch (e: KeyPermanentlyInvalidatedException) {
            throw KekException.KeyInvalidated("key permanently invalidated (lock screen or biometrics changed)")
        } catch (e: UserNotAuthenticatedException) {
            throw KekException.Unavailable("user authentication required")
        } catch (e: AEADBadTagException) {
            throw KekException.UnwrapFailed("authentication tag mismatch")
        } catch (e: GeneralSecurityException) {
            throw KekException.Backend("keystore: ${e.javaClass.simpleName}")
        } catch (e: IllegalStateException) {
            // e.g. "device locked" on API 28+ with unlockedDeviceRequired.
            throw KekException.Unavailable("keystore refused: ${e.javaClass.simpleName}")
        }

    public companion object {
        private const val ANDROID_KEYSTORE = "AndroidKeyStore"
        private const val TRANSFORMATION = "AES/GCM/NoPadding"
        private const val IV_LEN = 12
        private const val TAG_BITS = 128

        private fun keyStore(): KeyStore = KeyStore.getInstance(ANDROID_KEYSTORE).apply { load(null) }
    }
}
