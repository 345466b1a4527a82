package jp.mamori.android

import android.app.Activity
import android.app.KeyguardManager
import android.content.Context
import android.hardware.biometrics.BiometricManager
import android.hardware.biometrics.BiometricPrompt
import android.os.Build
import android.os.Looper
import android.os.SystemClock
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyInfo
import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.KeyProperties
import android.security.keystore.StrongBoxUnavailableException
import android.security.keystore.UserNotAuthenticatedException
import jp.mamori.KeyCacheLimit
import jp.mamori.ffi.KekException
import jp.mamori.ffi.KeyEncryptionKey
import jp.mamori.ffi.SecurityLevel
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.asContextElement
import kotlinx.coroutines.currentCoroutineContext
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock
import kotlinx.coroutines.withContext
import java.security.GeneralSecurityException
import java.security.KeyStore
import java.security.ProviderException
import java.time.Duration
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.IllegalBlockSizeException
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.SecretKeyFactory
import javax.crypto.spec.GCMParameterSpec
import kotlin.coroutines.EmptyCoroutineContext

/**
 * A key-encryption key in the Android Keystore (guideline DEV-1): an AES-256-GCM key that never
 * leaves the TEE (or StrongBox), used only to wrap Mamori's 32-byte data keys.
 *
 * Explicit choices, each a trap in the field:
 * - the key size is set to **256** (AES keys default to 128 bits without `setKeySize`);
 * - StrongBox is **opt-in** ([Builder.preferStrongBox]) and falls back to the TEE on
 *   `StrongBoxUnavailableException` ([strongBoxFellBack]); the level actually obtained is read
 *   back from `KeyInfo` when the key is built ([securityLevel]; before API 31 `KeyInfo` only
 *   tells secure hardware from software); a failure to read it is an error, never a silent
 *   SOFTWARE;
 * - the key id is **stable**: `android-keystore:<alias>`. It does not contain the key's creation
 *   date, which the keystore rewrites when it upgrades key blobs (OS updates, API <= 30) and
 *   resets in the Android 12 migration: a date-based id reported a healthy key as lost after an
 *   OS update. A truly re-created alias is still detected, by the store's canary
 *   (`StorageException.KeyInvalidated`);
 * - an existing alias whose options differ from the ones asked for is reported
 *   ([KeystoreKekException.OptionsMismatch]), never silently reused;
 * - an unusable key is reported as [KekException.KeyInvalidated] and **never** silently
 *   regenerated;
 * - user authentication (DEV-3, see [Builder.userAuthentication]): a time-bound key is opened by
 *   [unlock], a per-use key only inside [withUserAuthentication], whose `BiometricPrompt`
 *   authorises the very `Cipher` that unwraps. The store's data-key cache follows the mode
 *   ([keyCacheLimit], [keyCacheUsable]): none for per-use keys; for a time-bound key only
 *   inside the window of the last [unlock] (counted from its prompt, as the platform counts from
 *   the authentication), none when the user authenticated some other way; none while the device
 *   is locked for an [Builder.unlockedDeviceRequired] key. A cached data key therefore does not
 *   serve a call the Keystore would refuse for its window or the lock state; a key invalidated
 *   meanwhile (a new biometric enrolment) is noticed at the next Keystore call, within the window.
 *
 * Keystore calls can take hundreds of milliseconds (StrongBox): build with [Builder.create]
 * (suspend, off the main thread) or call [Builder.build] from a background thread.
 *
 * ```kotlin
 * val kek = AndroidKeystoreKek.Builder(context, "mamori.vault")
 *     .preferStrongBox(true)
 *     .unlockedDeviceRequired(true)
 *     .create()
 * val storage = AndroidSecureStorage.open(context, kek)
 * ```
 */
public class AndroidKeystoreKek private constructor(
    private val alias: String,
    /** How this key is bound to user authentication. */
    public val userAuth: UserAuth,
    private val level: SecurityLevel,
    /** Whether StrongBox was requested but unavailable, so the key lives in the TEE. */
    public val strongBoxFellBack: Boolean,
    /** For an `unlockedDeviceRequired` key (API 28+): whether the device is locked now. */
    private val deviceLocked: (() -> Boolean)?,
) : KeyEncryptionKey, KeyCacheLimit {

    /** How a key is bound to user authentication (guideline DEV-3). */
    public sealed class UserAuth {
        /** Usable whenever the device allows it (see [Builder.unlockedDeviceRequired]). */
        public object None : UserAuth() {
            override fun toString(): String = "None"
        }

        /** Usable for [timeoutSeconds] after the user authenticated with one of [types] ([unlock]). */
        public data class TimeBound(val timeoutSeconds: Int, val types: Int) : UserAuth()

        /** Every operation needs its own authentication ([withUserAuthentication]). */
        public data class PerUse(val types: Int) : UserAuth()
    }

    /** Options for creating (or finding) the key. */
    public class Builder(context: Context, private val alias: String) {
        private val context: Context = context.applicationContext
        private var preferStrongBox = false
        private var unlockedDeviceRequired = false
        private var userAuth: UserAuth = UserAuth.None
        private var invalidatedByBiometricEnrollment = true

        init {
            require(alias.isNotEmpty()) { "empty alias" }
        }

        /**
         * Ask for a StrongBox key (API 28+); falls back to the TEE if the device has none, or
         * runs API 26-27 (which have no StrongBox API): [strongBoxFellBack] says so.
         */
        public fun preferStrongBox(prefer: Boolean): Builder = apply { preferStrongBox = prefer }

        /** Refuse use while the device is locked (API 28+). Not readable back from `KeyInfo`. */
        public fun unlockedDeviceRequired(required: Boolean): Builder = apply { unlockedDeviceRequired = required }

        /**
         * Require user authentication (DEV-3): with [timeoutSeconds] > 0 the key is usable for that
         * long after [unlock]; with 0 every use needs its own prompt ([withUserAuthentication]).
         * [types] are `KeyProperties.AUTH_BIOMETRIC_STRONG` and/or `AUTH_DEVICE_CREDENTIAL`; the
         * default accepts both, so the user can always fall back to the PIN.
         */
        @JvmOverloads
        public fun userAuthentication(
            timeoutSeconds: Int,
            types: Int = KeyProperties.AUTH_DEVICE_CREDENTIAL or KeyProperties.AUTH_BIOMETRIC_STRONG,
        ): Builder = apply {
            require(timeoutSeconds >= 0) { "negative timeout" }
            require(types != 0 && types and (KeyProperties.AUTH_DEVICE_CREDENTIAL or KeyProperties.AUTH_BIOMETRIC_STRONG).inv() == 0) {
                "types must be AUTH_BIOMETRIC_STRONG and/or AUTH_DEVICE_CREDENTIAL"
            }
            userAuth = if (timeoutSeconds == 0) UserAuth.PerUse(types) else UserAuth.TimeBound(timeoutSeconds, types)
        }

        /**
         * Asks the Keystore to invalidate an auth-bound key when a new biometric is enrolled
         * (`KeyGenParameterSpec.setInvalidatedByBiometricEnrollment`; Android's default: true).
         *
         * The platform honours it only for keys that biometrics alone can unlock: when the
         * device credential is among the key's [userAuthentication] types (Mamori's default
         * types include it) the key is bound to the lock screen and survives a new enrolment,
         * and before Android 12 it applies only to per-use keys (`timeoutSeconds` 0). An app
         * whose policy is "a changed biometric set forces a new login" needs
         * `userAuthentication(0, KeyProperties.AUTH_BIOMETRIC_STRONG)`: then a new enrolment
         * makes every use fail with `KekException.KeyInvalidated`.
         */
        public fun invalidatedByBiometricEnrollment(invalidated: Boolean): Builder =
            apply { invalidatedByBiometricEnrollment = invalidated }

        /** [build] on `Dispatchers.IO`: keystore and StrongBox calls never run on the main thread. */
        public suspend fun create(): AndroidKeystoreKek = withContext(Dispatchers.IO) { build() }

        /**
         * Finds the key under the alias, or generates it. Blocking: call from a background thread
         * (or use [create]).
         *
         * @throws KeystoreKekException.SecureLockScreenRequired an auth-bound key, no secure lock screen;
         * @throws KeystoreKekException.BiometricsNotEnrolled a biometric-only key, none enrolled;
         * @throws KeystoreKekException.OptionsMismatch the alias exists with other options;
         * @throws KeystoreKekException.KeystoreFailure any other keystore failure (with its cause).
         */
        public fun build(): AndroidKeystoreKek = translated {
            val keyStore = keyStore()
            if (keyStore.containsAlias(alias)) {
                val info = keyInfo(keyStore)
                val differences = differences(info)
                if (differences.isNotEmpty()) throw KeystoreKekException.OptionsMismatch(alias, differences)
                return@translated AndroidKeystoreKek(alias, userAuth, levelOf(info, generatedInStrongBox = false), strongBoxFellBack = false, lockCheck())
            }
            checkAuthPreconditions()
            // Before API 28 there is no StrongBox to ask for: a request for it falls back at once.
            var fellBack = preferStrongBox && Build.VERSION.SDK_INT < Build.VERSION_CODES.P
            try {
                generate(strongBox = preferStrongBox)
            } catch (e: ProviderException) {
                // StrongBoxUnavailableException is API 28: catching it by type makes the class
                // fail verification on older runtimes (lint NewApi), so it is tested inside.
                if (Build.VERSION.SDK_INT < Build.VERSION_CODES.P || e !is StrongBoxUnavailableException) throw e
                fellBack = true
                generate(strongBox = false)
            }
            val inStrongBox = preferStrongBox && !fellBack
            AndroidKeystoreKek(alias, userAuth, levelOf(keyInfo(keyStore), inStrongBox), fellBack, lockCheck())
        }

        /** `KeyguardManager.isDeviceLocked` for an `unlockedDeviceRequired` key (the option is API 28+). */
        private fun lockCheck(): (() -> Boolean)? {
            if (!unlockedDeviceRequired || Build.VERSION.SDK_INT < Build.VERSION_CODES.P) return null
            val keyguard = context.getSystemService(KeyguardManager::class.java)
            return { keyguard.isDeviceLocked }
        }

        private fun keyInfo(keyStore: KeyStore): KeyInfo {
            val key = keyStore.getKey(alias, null) as? SecretKey
                ?: throw KeystoreKekException.KeystoreFailure("alias $alias is not a secret key", null)
            return SecretKeyFactory.getInstance(key.algorithm, ANDROID_KEYSTORE).getKeySpec(key, KeyInfo::class.java) as KeyInfo
        }

        /** What the existing key does differently from this builder (empty: it matches). */
        private fun differences(info: KeyInfo): List<String> {
            val found = mutableListOf<String>()
            if (info.keySize != KEY_BITS) found += "key size ${info.keySize} (asked $KEY_BITS)"
            val existing: UserAuth = when {
                !info.isUserAuthenticationRequired -> UserAuth.None
                info.userAuthenticationValidityDurationSeconds <= 0 -> UserAuth.PerUse(authTypes(info))
                else -> UserAuth.TimeBound(info.userAuthenticationValidityDurationSeconds, authTypes(info))
            }
            if (existing != userAuth) found += "user authentication $existing (asked $userAuth)"
            if (userAuth != UserAuth.None && info.isInvalidatedByBiometricEnrollment != invalidatedByBiometricEnrollment) {
                found += "invalidatedByBiometricEnrollment ${info.isInvalidatedByBiometricEnrollment} (asked $invalidatedByBiometricEnrollment)"
            }
            return found
        }

        private fun authTypes(info: KeyInfo): Int =
            if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) info.userAuthenticationType else userAuthTypes()

        private fun userAuthTypes(): Int = when (val auth = userAuth) {
            is UserAuth.TimeBound -> auth.types
            is UserAuth.PerUse -> auth.types
            UserAuth.None -> 0
        }

        private fun checkAuthPreconditions() {
            if (userAuth == UserAuth.None) return
            val keyguard = context.getSystemService(KeyguardManager::class.java)
            if (keyguard != null && !keyguard.isDeviceSecure) throw KeystoreKekException.SecureLockScreenRequired(alias)
            val biometricOnly = userAuthTypes() and KeyProperties.AUTH_DEVICE_CREDENTIAL == 0
            if (biometricOnly && Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) {
                val biometrics = context.getSystemService(BiometricManager::class.java)
                if (biometrics?.canAuthenticate(BiometricManager.Authenticators.BIOMETRIC_STRONG) != BiometricManager.BIOMETRIC_SUCCESS) {
                    throw KeystoreKekException.BiometricsNotEnrolled(alias)
                }
            }
        }

        private fun generate(strongBox: Boolean) {
            val spec = KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
                .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
                .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
                .setKeySize(KEY_BITS)
                .setRandomizedEncryptionRequired(true)
            if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.P) {
                if (strongBox) spec.setIsStrongBoxBacked(true)
                spec.setUnlockedDeviceRequired(unlockedDeviceRequired)
            }
            val timeout = when (val auth = userAuth) {
                UserAuth.None -> null
                is UserAuth.TimeBound -> auth.timeoutSeconds
                is UserAuth.PerUse -> 0
            }
            if (timeout != null) {
                spec.setUserAuthenticationRequired(true)
                spec.setInvalidatedByBiometricEnrollment(invalidatedByBiometricEnrollment)
                if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) {
                    spec.setUserAuthenticationParameters(timeout, userAuthTypes())
                } else {
                    @Suppress("DEPRECATION")
                    spec.setUserAuthenticationValidityDurationSeconds(if (timeout == 0) -1 else timeout)
                }
            }
            val generator = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, ANDROID_KEYSTORE)
            generator.init(spec.build())
            generator.generateKey()
        }

        /**
         * Platform exceptions of key creation -> [KeystoreKekException]. The platform refuses
         * user-authentication parameters it cannot honour in `KeyGenerator.init`, as an
         * `InvalidAlgorithmParameterException` wrapping an `IllegalStateException` (AOSP
         * `AndroidKeyStoreKeyGeneratorSpi.engineInit`), and again in `generateKey` as the bare
         * `IllegalStateException` when the device changed in between; both are read here.
         */
        private inline fun <T> translated(block: () -> T): T =
            try {
                block()
            } catch (e: KeystoreKekException) {
                throw e
            } catch (e: IllegalStateException) {
                throw refusal(e, e)
            } catch (e: GeneralSecurityException) {
                val cause = generateSequence(e.cause) { it.cause }.take(8).filterIsInstance<IllegalStateException>().firstOrNull()
                if (cause != null) throw refusal(cause, e)
                throw KeystoreKekException.KeystoreFailure("keystore: ${e.javaClass.simpleName} for $alias", e)
            } catch (e: ProviderException) {
                throw KeystoreKekException.KeystoreFailure("keystore: ${e.javaClass.simpleName} for $alias", e)
            }

        /**
         * The typed error for the platform's own refusal [state] (thrown as [thrown]). The
         * platform names the cause only in its message ("Secure lock screen must be enabled…",
         * "At least one biometric must be enrolled…"); an unrecognised one stays a failure.
         */
        private fun refusal(state: IllegalStateException, thrown: Exception): KeystoreKekException {
            val message = state.message.orEmpty().lowercase()
            return when {
                "lock screen" in message -> KeystoreKekException.SecureLockScreenRequired(alias)
                "biometric" in message -> KeystoreKekException.BiometricsNotEnrolled(alias)
                else -> KeystoreKekException.KeystoreFailure("keystore refused to create $alias", thrown)
            }
        }
    }

    /** The authoriser of the [withUserAuthentication] block running on this thread, if any. */
    private val currentAuthorizer = ThreadLocal<Authorizer?>()
    private val authorizing = Mutex()

    override fun keyId(): String = "android-keystore:$alias"

    /**
     * The level the Keystore reported for this key (`KeyInfo`) when it was built, not the level
     * asked for. On API 28-30, whose `KeyInfo` cannot name StrongBox, a key generated in
     * StrongBox by this build is STRONG_BOX and an existing one TEE.
     */
    override fun securityLevel(): SecurityLevel = level

    /** No cache for per-use keys, at most the timeout for time-bound ones: a cached data key must not outlive the authentication. */
    override val keyCacheLimit: Duration?
        get() = when (val auth = userAuth) {
            UserAuth.None -> null
            is UserAuth.TimeBound -> Duration.ofSeconds(auth.timeoutSeconds.toLong())
            is UserAuth.PerUse -> Duration.ZERO
        }

    /**
     * When the last successful [unlock] showed its prompt (`SystemClock.elapsedRealtimeNanos`,
     * which keeps counting in deep sleep as the Keystore's own clock does; `System.nanoTime`
     * stops there, so a phone asleep for an hour would still look inside a 5-minute window).
     * Null before one.
     */
    @Volatile private var unlockedAt: Long? = null

    /**
     * Whether the store's cached data keys may serve a call now (DEV-3), as the Keystore would
     * let the key itself: not while the device is locked for an `unlockedDeviceRequired` key,
     * and for a time-bound key only inside the window of the last [unlock], counted from when
     * its prompt was shown (never later than the platform's own count, which starts at the
     * authentication). A time-bound key authenticated some other way (the app's own prompt or
     * `KeyguardManager` confirmation) gets no cache: the store cannot know when that window
     * opened, so each use asks the Keystore, which knows.
     */
    override fun keyCacheUsable(): Boolean {
        if (deviceLocked?.invoke() == true) return false
        return when (val auth = userAuth) {
            UserAuth.None -> true
            is UserAuth.PerUse -> false
            is UserAuth.TimeBound -> {
                val since = unlockedAt ?: return false
                SystemClock.elapsedRealtimeNanos() - since < auth.timeoutSeconds * 1_000_000_000L
            }
        }
    }

    override fun wrap(dek: ByteArray, aad: ByteArray): ByteArray = guarded {
        try {
            val cipher = Cipher.getInstance(TRANSFORMATION)
            cipher.init(Cipher.ENCRYPT_MODE, key()) // the Keystore picks a random IV
            authorize(cipher)
            cipher.updateAAD(aad)
            val sealed = cipher.doFinal(dek)
            val iv = cipher.iv
            if (iv.size != IV_LEN) throw KekException.Backend("unexpected IV length ${iv.size}")
            iv + sealed
        } finally {
            dek.fill(0)
        }
    }

    override fun unwrap(wrapped: ByteArray, aad: ByteArray): ByteArray = guarded {
        if (wrapped.size <= IV_LEN + TAG_BITS / 8) throw KekException.UnwrapFailed("wrapped key too short")
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.DECRYPT_MODE, key(), GCMParameterSpec(TAG_BITS, wrapped, 0, IV_LEN))
        authorize(cipher)
        cipher.updateAAD(aad)
        cipher.doFinal(wrapped, IV_LEN, wrapped.size - IV_LEN)
    }

    /** Deletes the alias (crypto-shredding). */
    override fun deleteKey(): Boolean = guarded {
        keyStore().deleteEntry(alias)
        true
    }

    /**
     * Opens a time-bound key ([UserAuth.TimeBound]) for its timeout: shows the framework
     * `BiometricPrompt` on [activity] with the key's authenticator types (DEV-3). Returns when
     * the user authenticated; throws [UserAuthenticationException] when they cancel or fail.
     * Call it when a storage call failed with `StorageException.KekUnavailable`, or before.
     */
    public suspend fun unlock(activity: Activity, prompt: PromptText = PromptText()) {
        val auth = userAuth
        require(auth is UserAuth.TimeBound) { "unlock() is for time-bound keys; this key is $auth" }
        val shown = SystemClock.elapsedRealtimeNanos()
        BiometricAuthentication.authenticate(activity, prompt, auth.types, crypto = null)
        unlockedAt = shown
    }

    /**
     * Runs [block] with this per-use key ([UserAuth.PerUse]) usable: each wrap or unwrap inside
     * it initialises its `Cipher`, shows `BiometricPrompt` on [activity] with that cipher as the
     * `CryptoObject`, and completes with the cipher the user authorised. Storage calls in [block]
     * must run off the main thread (the `AndroidSecureStorage` suspend functions do). One block
     * at a time per key.
     *
     * The authorisation belongs to [block] alone: only storage calls made by [block]'s coroutine
     * and the coroutines it starts (they inherit its context) can show the prompt. A call from
     * any other coroutine or thread meanwhile (a background sync on the same store) fails with
     * `KekUnavailable` as it would outside the block, so the user never authorises an operation
     * they did not start (DEV-3). Cancelling the caller cancels a prompt that is showing; the
     * storage call then fails with `KekUnavailable`.
     */
    public suspend fun <T> withUserAuthentication(
        activity: Activity,
        prompt: PromptText = PromptText(),
        block: suspend () -> T,
    ): T {
        val auth = userAuth
        require(auth is UserAuth.PerUse) { "withUserAuthentication() is for per-use keys; this key is $auth" }
        val caller = currentCoroutineContext()[Job]
        return authorizing.withLock {
            val authorizer = Authorizer { cipher ->
                check(Looper.myLooper() != Looper.getMainLooper()) {
                    "a per-use key's operation on the main thread would wait for a prompt shown there"
                }
                // The prompt's coroutine is a child of the caller's job: cancelling the caller
                // cancels the prompt. Its outcome is caught inside, so a refusal never cancels the caller.
                runBlocking(caller ?: EmptyCoroutineContext) {
                    runCatching { BiometricAuthentication.authenticate(activity, prompt, auth.types, BiometricPrompt.CryptoObject(cipher)) }
                }.getOrThrow()
            }
            withContext(currentAuthorizer.asContextElement(authorizer)) { block() }
        }
    }

    override fun toString(): String = "AndroidKeystoreKek(${keyId()}, $userAuth, $level)"

    private fun interface Authorizer {
        /** Blocks until the user authorised [cipher]'s operation. */
        fun authorize(cipher: Cipher)
    }

    private fun authorize(cipher: Cipher) {
        if (userAuth !is UserAuth.PerUse) return
        val current = currentAuthorizer.get()
            ?: throw KekException.Unavailable("per-use key $alias: run the storage call inside withUserAuthentication(activity)")
        try {
            current.authorize(cipher)
        } catch (e: UserAuthenticationException) {
            throw KekException.Unavailable("user authentication failed: ${e.message}")
        } catch (e: CancellationException) {
            throw KekException.Unavailable("user authentication cancelled")
        } catch (e: IllegalStateException) {
            throw KekException.Unavailable("per-use key $alias: ${e.message}")
        }
    }

    private fun key(): SecretKey =
        keyStore().getKey(alias, null) as? SecretKey
            ?: throw KekException.KeyInvalidated("alias $alias no longer exists")

    /** Maps platform failures onto the typed [KekException]s the store understands. */
    private inline fun <T> guarded(block: () -> T): T =
        try {
            block()
        } catch (e: KekException) {
            throw e
        } catch (e: KeyPermanentlyInvalidatedException) {
            throw KekException.KeyInvalidated("key permanently invalidated (lock screen or biometrics changed)")
        } catch (e: UserNotAuthenticatedException) {
            throw KekException.Unavailable("user authentication required: call unlock(activity)")
        } catch (e: AEADBadTagException) {
            throw KekException.UnwrapFailed("authentication tag mismatch")
        } catch (e: IllegalBlockSizeException) {
            // A per-use key's operation without an authorised CryptoObject fails here.
            if (userAuth is UserAuth.PerUse) throw KekException.Unavailable("user authentication required")
            throw KekException.Backend("keystore: ${e.javaClass.simpleName}")
        } catch (e: GeneralSecurityException) {
            throw KekException.Backend("keystore: ${e.javaClass.simpleName}")
        } catch (e: ProviderException) {
            throw KekException.Backend("keystore: ${e.javaClass.simpleName}")
        } catch (e: IllegalStateException) {
            // e.g. "device locked" on API 28+ with unlockedDeviceRequired.
            throw KekException.Unavailable("keystore refused: ${e.javaClass.simpleName}")
        }

    public companion object {
        private const val ANDROID_KEYSTORE = "AndroidKeyStore"
        private const val TRANSFORMATION = "AES/GCM/NoPadding"
        private const val KEY_BITS = 256
        private const val IV_LEN = 12
        private const val TAG_BITS = 128

        private fun keyStore(): KeyStore = KeyStore.getInstance(ANDROID_KEYSTORE).apply { load(null) }

        /**
         * The level of the key [info] describes. `KeyInfo.getSecurityLevel` is API 31; before it,
         * `KeyInfo` only says whether the key is in secure hardware. A key just generated with
         * `setIsStrongBoxBacked(true)` without `StrongBoxUnavailableException`
         * ([generatedInStrongBox]) is in StrongBox (API 28-30); an existing key's StrongBox
         * backing cannot be read there, so it is reported as the TEE, never more than is known.
         */
        private fun levelOf(info: KeyInfo, generatedInStrongBox: Boolean): SecurityLevel {
            if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.S) {
                return when (info.securityLevel) {
                    KeyProperties.SECURITY_LEVEL_STRONGBOX -> SecurityLevel.STRONG_BOX
                    KeyProperties.SECURITY_LEVEL_TRUSTED_ENVIRONMENT, KeyProperties.SECURITY_LEVEL_UNKNOWN_SECURE -> SecurityLevel.TEE
                    else -> SecurityLevel.SOFTWARE
                }
            }
            @Suppress("DEPRECATION")
            return when {
                !info.isInsideSecureHardware -> SecurityLevel.SOFTWARE
                generatedInStrongBox -> SecurityLevel.STRONG_BOX
                else -> SecurityLevel.TEE
            }
        }
    }
}

/** Why [AndroidKeystoreKek.Builder.build] could not give a key. Messages never contain key material. */
public sealed class KeystoreKekException(message: String, cause: Throwable? = null) : Exception(message, cause) {
    /** A key requiring user authentication needs a secure lock screen (PIN, pattern, password). */
    public class SecureLockScreenRequired(public val alias: String) :
        KeystoreKekException("$alias requires user authentication: set a secure lock screen first")

    /** A biometric-only key needs at least one enrolled strong biometric. */
    public class BiometricsNotEnrolled(public val alias: String) :
        KeystoreKekException("$alias accepts biometrics only and none is enrolled")

    /**
     * The alias exists with other options than the ones asked for (e.g. no user authentication
     * where it is now required). Keystore keys cannot be changed: create a key under a new alias
     * and move the store to it (`SecureStorage.rotate`, DATA-2), then delete the old alias.
     */
    public class OptionsMismatch(public val alias: String, public val differences: List<String>) :
        KeystoreKekException("$alias exists with other options: ${differences.joinToString("; ")}")

    /** Any other keystore failure; [cause] is the platform's exception. */
    public class KeystoreFailure(message: String, cause: Throwable?) : KeystoreKekException(message, cause)
}
