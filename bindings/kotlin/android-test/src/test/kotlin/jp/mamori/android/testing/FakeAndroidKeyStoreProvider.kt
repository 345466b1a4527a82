package jp.mamori.android.testing

import android.app.KeyguardManager
import android.os.Build
import android.os.SystemClock
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyInfo
import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.KeyProperties
import android.security.keystore.StrongBoxUnavailableException
import android.security.keystore.UserNotAuthenticatedException
import java.nio.ByteBuffer
import java.security.AlgorithmParameters
import java.security.InvalidAlgorithmParameterException
import java.security.InvalidKeyException
import java.security.Key
import java.security.KeyPair
import java.security.KeyPairGenerator
import java.security.KeyPairGeneratorSpi
import java.security.KeyStoreSpi
import java.security.Provider
import java.security.SecureRandom
import java.security.Security
import java.security.cert.Certificate
import java.security.spec.AlgorithmParameterSpec
import java.security.spec.KeySpec
import java.util.Collections
import java.util.Date
import java.util.Enumeration
import java.util.concurrent.ConcurrentHashMap
import javax.crypto.Cipher
import javax.crypto.CipherSpi
import javax.crypto.IllegalBlockSizeException
import javax.crypto.KeyGeneratorSpi
import javax.crypto.SecretKey
import javax.crypto.SecretKeyFactorySpi
import javax.crypto.spec.GCMParameterSpec
import javax.crypto.spec.SecretKeySpec
import org.robolectric.RuntimeEnvironment

/**
 * **TEST DOUBLE of the Android platform**, never of Mamori: a JCA `Provider` named
 * `"AndroidKeyStore"` standing in for the platform keystore, which Robolectric does not have
 * (Robolectric issue 1518). It lets the tests drive `AndroidKeystoreKek`'s real code: the KEK
 * calls `KeyStore.getInstance("AndroidKeyStore")`, `KeyGenerator.getInstance("AES",
 * "AndroidKeyStore")`, `SecretKeyFactory...getKeySpec(key, KeyInfo)` and
 * `Cipher.getInstance("AES/GCM/NoPadding")` exactly as on a device.
 *
 * What it reproduces from the platform (AOSP `AndroidKeyStoreProvider`, API 26-34 behaviour; it
 * runs on every SDK level the tests run on and uses only the framework APIs of that level, as the
 * platform's own provider would):
 * - keys are opaque (`getEncoded()` is null); the material stays in this object;
 * - the cipher provider sits first in the provider list and accepts only its own keys (as
 *   Android's `AndroidKeyStoreBCWorkaround` does), so other keys fall through to the JDK;
 * - `setRandomizedEncryptionRequired(true)`: encryption picks the IV, a caller IV is refused;
 * - StrongBox: `generateKey` throws `StrongBoxUnavailableException` when [strongBoxAvailable]
 *   is false; the level read back through `KeyInfo` is the one obtained;
 * - user authentication: key creation needs a secure lock screen ([secureLockScreen]) and, for
 *   biometric-only keys, enrolled biometrics ([biometricsEnrolled]) (checked at `KeyGenerator.init`
 *   as `InvalidAlgorithmParameterException` wrapping the `IllegalStateException`, and again at
 *   `generateKey` as the bare `IllegalStateException`, as the platform; before API 30 every per-use key is biometric-only); a time-bound key's `Cipher.init` throws `UserNotAuthenticatedException`
 *   outside the window opened by [userAuthenticated]; a per-use key's operation fails
 *   (`IllegalBlockSizeException`) unless that cipher was authorised by [userAuthenticated]
 *   while it was pending (BiometricPrompt with a `CryptoObject`);
 * - an `unlockedDeviceRequired` key's `Cipher.init` throws `UserNotAuthenticatedException`
 *   while `KeyguardManager.isDeviceLocked` (API 28+);
 * - [invalidate] makes `Cipher.init` throw `KeyPermanentlyInvalidatedException` (new biometric
 *   enrolled, lock screen removed);
 * - EC key pairs (`KeyPairGenerator.getInstance("EC", "AndroidKeyStore")` with a
 *   `KeyGenParameterSpec`) for Key Attestation: the spec is recorded ([keyPairSpecs]) and
 *   `getCertificateChain` returns what [attestationChain] makes of it (a test hands in a real
 *   device chain; the double cannot sign as Google's roots). Initialised any other way, the
 *   generator is the JDK's, so code asking for a plain "EC" generator is not affected;
 * - [rewriteCreationDate] changes what `KeyStore.getCreationDate` returns for an existing key,
 *   as the keystore does when it upgrades key blobs after an OS update (API <= 30) or migrates
 *   them (Android 12).
 */
class FakeAndroidKeyStoreProvider private constructor() : Provider("AndroidKeyStore", "1.0", "TEST DOUBLE of Android's AndroidKeyStore") {
    /** One key in the fake keystore. */
    class Entry(
        val alias: String,
        val material: SecretKeySpec,
        val spec: KeyGenParameterSpec,
        val securityLevel: Int,
        @Volatile var created: Date,
    ) {
        @Volatile var invalidated: Boolean = false
        val perUse: Boolean get() = spec.isUserAuthenticationRequired && spec.userAuthenticationValidityDurationSeconds <= 0
    }

    val storedKeys: MutableMap<String, Entry> = ConcurrentHashMap()
    /** Specs of the EC key pairs generated, by alias. */
    val keyPairSpecs: MutableMap<String, KeyGenParameterSpec> = ConcurrentHashMap()
    /** The certificate chain the keystore returns for a generated key pair's spec. */
    @Volatile var attestationChain: ((KeyGenParameterSpec) -> Array<Certificate>)? = null
    @Volatile var strongBoxAvailable: Boolean = false
    @Volatile var hardwareBacked: Boolean = true
    @Volatile var secureLockScreen: Boolean = true
    @Volatile var biometricsEnrolled: Boolean = true
    /** When set, `getKeySpec(KeyInfo)` throws it (a keystore daemon failure). */
    @Volatile var keyInfoFailure: RuntimeException? = null
    @Volatile private var lastUserAuthMillis: Long? = null
    /** The thread of the last cipher initialisation (the keystore's work must stay off the main thread). */
    @Volatile var lastOperationThread: Thread? = null
    private val pending = Collections.synchronizedSet(mutableSetOf<FakeCipherSpi>())

    /**
     * The user authenticated (biometrics or device credential): opens the window of time-bound
     * keys and, when [operation] is given (the `CryptoObject`'s cipher), authorises that one
     * pending per-use operation, as the platform binds the authentication token to it.
     */
    fun userAuthenticated(operation: Cipher? = null) {
        lastUserAuthMillis = SystemClock.elapsedRealtime()
        if (operation == null) return
        synchronized(pending) {
            val iv = operation.iv
            // The platform binds the token to the prompt's own operation; this double tells
            // operations apart by IV, and two unwraps of one wrapped key share it: the newest
            // (the prompt's) is the one, not an operation abandoned earlier without a prompt.
            val spi = pending.lastOrNull { it.iv().contentEquals(iv) } ?: error("the CryptoObject's cipher is not a pending operation")
            spi.authorized = true
            pending.remove(spi)
        }
    }

    /** Whether [operation] is an initialised per-use operation still waiting for authentication. */
    fun isPending(operation: Cipher): Boolean = synchronized(pending) {
        val iv = operation.iv
        pending.any { it.iv().contentEquals(iv) }
    }

    fun invalidate(alias: String) {
        entry(alias).invalidated = true
    }

    fun rewriteCreationDate(alias: String, date: Date) {
        entry(alias).created = date
    }

    /** What the (Robolectric-shadowed) `KeyguardManager` says. */
    private fun deviceLocked(): Boolean =
        RuntimeEnvironment.getApplication().getSystemService(KeyguardManager::class.java).isDeviceLocked

    fun entry(alias: String): Entry = storedKeys[alias] ?: error("no key $alias")

    init {
        putService(SpiService("KeyStore", "AndroidKeyStore") { FakeKeyStoreSpi() })
        putService(SpiService("KeyGenerator", "AES") { FakeKeyGeneratorSpi() })
        putService(SpiService("SecretKeyFactory", "AES") { FakeSecretKeyFactorySpi() })
        putService(SpiService("Cipher", "AES/GCM/NoPadding") { FakeCipherSpi() })
        putService(SpiService("KeyPairGenerator", "EC") { FakeKeyPairGeneratorSpi() })
    }

    private inner class SpiService(type: String, algorithm: String, private val make: () -> Any) :
        Service(this@FakeAndroidKeyStoreProvider, type, algorithm, "jp.mamori.android.testing.Fake$type", null, null) {
        override fun newInstance(constructorParameter: Any?): Any = make()
    }

    /** An opaque key handle, like the platform's `AndroidKeyStoreSecretKey`. */
    inner class FakeKeystoreKey(val alias: String) : SecretKey {
        override fun getAlgorithm(): String = KeyProperties.KEY_ALGORITHM_AES
        override fun getFormat(): String? = null
        override fun getEncoded(): ByteArray? = null
        val provider: FakeAndroidKeyStoreProvider get() = this@FakeAndroidKeyStoreProvider
    }

    private inner class FakeKeyStoreSpi : KeyStoreSpi() {
        override fun engineLoad(param: java.security.KeyStore.LoadStoreParameter?) = Unit
        override fun engineLoad(stream: java.io.InputStream?, password: CharArray?) = Unit
        override fun engineGetKey(alias: String, password: CharArray?): Key? = storedKeys[alias]?.let { FakeKeystoreKey(alias) }
        override fun engineContainsAlias(alias: String): Boolean = storedKeys.containsKey(alias)
        override fun engineGetCreationDate(alias: String): Date? = storedKeys[alias]?.created
        override fun engineDeleteEntry(alias: String) {
            storedKeys.remove(alias)
            keyPairSpecs.remove(alias)
        }
        override fun engineAliases(): Enumeration<String> = Collections.enumeration(storedKeys.keys.toList())
        override fun engineSize(): Int = storedKeys.size
        override fun engineIsKeyEntry(alias: String): Boolean = storedKeys.containsKey(alias)
        override fun engineIsCertificateEntry(alias: String): Boolean = false
        override fun engineGetCertificate(alias: String): Certificate? = null
        override fun engineGetCertificateChain(alias: String): Array<Certificate>? =
            keyPairSpecs[alias]?.let { spec -> attestationChain?.invoke(spec) }
        override fun engineGetCertificateAlias(cert: Certificate): String? = null
        override fun engineSetKeyEntry(alias: String, key: Key, password: CharArray?, chain: Array<out Certificate>?) =
            throw UnsupportedOperationException("import is not used by Mamori")
        override fun engineSetKeyEntry(alias: String, key: ByteArray, chain: Array<out Certificate>?) =
            throw UnsupportedOperationException("import is not used by Mamori")
        override fun engineSetCertificateEntry(alias: String, cert: Certificate) = throw UnsupportedOperationException()
        override fun engineStore(stream: java.io.OutputStream?, password: CharArray?) = throw UnsupportedOperationException()
    }

    private inner class FakeKeyGeneratorSpi : KeyGeneratorSpi() {
        private var spec: KeyGenParameterSpec? = null

        override fun engineInit(random: SecureRandom?) = throw IllegalStateException("AndroidKeyStore needs a KeyGenParameterSpec")
        override fun engineInit(keysize: Int, random: SecureRandom?) = throw IllegalStateException("AndroidKeyStore needs a KeyGenParameterSpec")
        override fun engineInit(params: AlgorithmParameterSpec?, random: SecureRandom?) {
            val asked = params as? KeyGenParameterSpec ?: throw InvalidAlgorithmParameterException("not a KeyGenParameterSpec")
            // AOSP AndroidKeyStoreKeyGeneratorSpi.engineInit checks the user authentication
            // parameters ahead of time and wraps the IllegalStateException of that check.
            try {
                checkUserAuthentication(asked)
            } catch (e: IllegalStateException) {
                throw InvalidAlgorithmParameterException(e)
            }
            spec = asked
        }

        override fun engineGenerateKey(): SecretKey {
            val spec = checkNotNull(spec) { "not initialised" }
            if (strongBoxAsked(spec) && !strongBoxAvailable) StrongBoxAbsence.fail()
            // The state can change between init and generate (the lock screen removed meanwhile):
            // the keystore refuses then with the bare IllegalStateException.
            checkUserAuthentication(spec)
            val size = if (spec.keySize > 0) spec.keySize else 128
            val level = when {
                !hardwareBacked -> KeyProperties.SECURITY_LEVEL_SOFTWARE
                strongBoxAsked(spec) -> KeyProperties.SECURITY_LEVEL_STRONGBOX
                else -> KeyProperties.SECURITY_LEVEL_TRUSTED_ENVIRONMENT
            }
            val material = ByteArray(size / 8).also { SecureRandom().nextBytes(it) }
            storedKeys[spec.keystoreAlias] = Entry(spec.keystoreAlias, SecretKeySpec(material, "AES"), spec, level, Date())
            return FakeKeystoreKey(spec.keystoreAlias)
        }

        /** The platform's refusals of user-authentication parameters (AOSP `addUserAuthArgs`). */
        private fun checkUserAuthentication(spec: KeyGenParameterSpec) {
            if (!spec.isUserAuthenticationRequired) return
            if (!secureLockScreen) {
                throw IllegalStateException("Secure lock screen must be enabled to create keys requiring user authentication")
            }
            // Before API 30 (no authentication types) a per-use key is biometric-only.
            val biometricOnly = if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) {
                spec.userAuthenticationType and KeyProperties.AUTH_DEVICE_CREDENTIAL == 0
            } else {
                spec.userAuthenticationValidityDurationSeconds <= 0
            }
            if (biometricOnly && !biometricsEnrolled) {
                throw IllegalStateException("At least one biometric must be enrolled to create keys requiring user authentication for every use")
            }
        }
    }

    private inner class FakeKeyPairGeneratorSpi : KeyPairGeneratorSpi() {
        private var spec: KeyGenParameterSpec? = null
        private val jdk: KeyPairGenerator = // SunEC has no curve table inside the Robolectric sandbox; Bouncy Castle
        // (a Robolectric dependency) stands in for the TEE key generator.
        KeyPairGenerator.getInstance("EC", org.bouncycastle.jce.provider.BouncyCastleProvider())

        override fun initialize(keysize: Int, random: SecureRandom?) = jdk.initialize(keysize, random)

        override fun initialize(params: AlgorithmParameterSpec?, random: SecureRandom?) {
            val s = params as? KeyGenParameterSpec
            if (s == null) {
                jdk.initialize(params, random ?: SecureRandom())
                return
            }
            spec = s
            jdk.initialize(s.algorithmParameterSpec ?: java.security.spec.ECGenParameterSpec("secp256r1"))
        }

        override fun generateKeyPair(): KeyPair {
            val s = spec ?: return jdk.generateKeyPair()
            if (s.isStrongBoxBacked && !strongBoxAvailable) throw StrongBoxUnavailableException("no StrongBox on this device")
            val pair = jdk.generateKeyPair()
            keyPairSpecs[s.keystoreAlias] = s
            return pair
        }
    }

    private inner class FakeSecretKeyFactorySpi : SecretKeyFactorySpi() {
        override fun engineGenerateSecret(keySpec: KeySpec?): SecretKey = throw UnsupportedOperationException()
        override fun engineTranslateKey(key: SecretKey?): SecretKey = throw UnsupportedOperationException()

        override fun engineGetKeySpec(key: SecretKey, keySpec: Class<*>): KeySpec {
            keyInfoFailure?.let { throw it }
            require(keySpec == KeyInfo::class.java) { "only KeyInfo" }
            return keyInfo(entry((key as FakeKeystoreKey).alias))
        }

        /**
         * The platform's `KeyInfo` of this SDK level. Its (hidden) constructor grew with the
         * levels, so it is called by reflection with the arguments of the running level.
         */
        private fun keyInfo(e: Entry): KeyInfo {
            val s = e.spec
            val secure = e.securityLevel != KeyProperties.SECURITY_LEVEL_SOFTWARE
            val head = arrayOf<Any?>(
                s.keystoreAlias, secure, KeyProperties.ORIGIN_GENERATED, e.material.encoded.size * 8, null, null, null,
                s.purposes, s.encryptionPaddings, s.signaturePaddings, arrayOf<String>(), s.blockModes,
                s.isUserAuthenticationRequired, s.userAuthenticationValidityDurationSeconds,
            )
            val auth = s.isUserAuthenticationRequired
            val byBiometrics = s.isInvalidatedByBiometricEnrollment
            val tail: Array<Any?> = when {
                // (..., authType, enforcedBySecureHw, validWhileOnBody, trustedUserPresence,
                //  invalidatedByBiometricEnrollment, userConfirmation, securityLevel, remainingUsageCount)
                Build.VERSION.SDK_INT >= Build.VERSION_CODES.S ->
                    arrayOf(s.userAuthenticationType, auth, false, false, byBiometrics, false, e.securityLevel, -1)
                Build.VERSION.SDK_INT >= Build.VERSION_CODES.R ->
                    arrayOf(s.userAuthenticationType, auth, false, false, byBiometrics, false)
                Build.VERSION.SDK_INT >= Build.VERSION_CODES.P ->
                    arrayOf(auth, false, false, byBiometrics, false)
                // (..., enforcedBySecureHw, validWhileOnBody, invalidatedByBiometricEnrollment)
                else -> arrayOf(auth, false, byBiometrics)
            }
            val args = arrayOf(*head, *tail)
            val constructor = KeyInfo::class.java.constructors.single { it.parameterCount == args.size }
            return constructor.newInstance(*args) as KeyInfo
        }
    }

    /** AES-GCM over the hidden material, with the keystore's rules around it. */
    inner class FakeCipherSpi : CipherSpi() {
        private val real: Cipher = Cipher.getInstance("AES/GCM/NoPadding", "SunJCE")
        private var entry: Entry? = null
        @Volatile internal var authorized = false

        internal fun iv(): ByteArray? = real.iv

        private fun admit(key: Key?, params: AlgorithmParameterSpec?, opmode: Int) {
            val fake = key as? FakeKeystoreKey ?: throw InvalidKeyException("not an AndroidKeyStore key")
            if (fake.provider !== this@FakeAndroidKeyStoreProvider) throw InvalidKeyException("key of another keystore")
            lastOperationThread = Thread.currentThread()
            val e = storedKeys[fake.alias] ?: throw InvalidKeyException("key ${fake.alias} was deleted")
            if (e.invalidated) throw KeyPermanentlyInvalidatedException()
            // API 28+: an unlockedDeviceRequired key is unusable while the device is locked.
            if (Build.VERSION.SDK_INT >= 28 && e.spec.isUnlockedDeviceRequired && deviceLocked()) {
                throw UserNotAuthenticatedException()
            }
            if (e.spec.isUserAuthenticationRequired && !e.perUse) {
                val since = lastUserAuthMillis
                val window = e.spec.userAuthenticationValidityDurationSeconds * 1000L
                // The keystore counts the window on the boot-time clock, which keeps running in
                // deep sleep (Robolectric's SystemClock: tests move it with ShadowSystemClock).
                if (since == null || SystemClock.elapsedRealtime() - since > window) throw UserNotAuthenticatedException()
            }
            val iv = when (opmode) {
                Cipher.ENCRYPT_MODE -> {
                    if (params != null && e.spec.isRandomizedEncryptionRequired) {
                        throw InvalidAlgorithmParameterException("Caller-provided IV not permitted")
                    }
                    ByteArray(12).also { SecureRandom().nextBytes(it) }
                }
                Cipher.DECRYPT_MODE -> (params as? GCMParameterSpec)?.iv ?: throw InvalidAlgorithmParameterException("IV required")
                else -> throw InvalidKeyException("mode $opmode not supported by the double")
            }
            real.init(opmode, e.material, GCMParameterSpec(128, iv))
            entry = e
            authorized = false
            if (e.perUse) pending += this
        }

        private fun <T> operation(block: () -> T): T {
            val e = checkNotNull(entry) { "not initialised" }
            if (e.perUse && !authorized) throw IllegalBlockSizeException("Key user not authenticated")
            return block()
        }

        override fun engineInit(opmode: Int, key: Key?, random: SecureRandom?) = admit(key, null, opmode)
        override fun engineInit(opmode: Int, key: Key?, params: AlgorithmParameterSpec?, random: SecureRandom?) = admit(key, params, opmode)
        override fun engineInit(opmode: Int, key: Key?, params: AlgorithmParameters?, random: SecureRandom?) =
            admit(key, params?.getParameterSpec(GCMParameterSpec::class.java), opmode)
        override fun engineSetMode(mode: String?) = Unit
        override fun engineSetPadding(padding: String?) = Unit
        override fun engineGetBlockSize(): Int = 16
        override fun engineGetOutputSize(inputLen: Int): Int = real.getOutputSize(inputLen)
        override fun engineGetIV(): ByteArray? = real.iv
        override fun engineGetParameters(): AlgorithmParameters? = real.parameters
        override fun engineUpdateAAD(src: ByteArray, offset: Int, len: Int) = real.updateAAD(src, offset, len)
        override fun engineUpdateAAD(src: ByteBuffer) = real.updateAAD(src)
        override fun engineUpdate(input: ByteArray?, inputOffset: Int, inputLen: Int): ByteArray? =
            operation { real.update(input, inputOffset, inputLen) }
        override fun engineUpdate(input: ByteArray?, inputOffset: Int, inputLen: Int, output: ByteArray?, outputOffset: Int): Int =
            operation { real.update(input, inputOffset, inputLen, output, outputOffset) }
        override fun engineDoFinal(input: ByteArray?, inputOffset: Int, inputLen: Int): ByteArray =
            operation { real.doFinal(input, inputOffset, inputLen) }
        override fun engineDoFinal(input: ByteArray?, inputOffset: Int, inputLen: Int, output: ByteArray?, outputOffset: Int): Int =
            operation { real.doFinal(input, inputOffset, inputLen, output, outputOffset) }
    }

    companion object {
        /** `KeyGenParameterSpec.isStrongBoxBacked` (API 28; no StrongBox before). */
        private fun strongBoxAsked(spec: KeyGenParameterSpec): Boolean =
            Build.VERSION.SDK_INT >= Build.VERSION_CODES.P && spec.isStrongBoxBacked

        /** Installs a fresh, empty double first in the provider list (replacing any previous one). */
        fun install(): FakeAndroidKeyStoreProvider {
            Security.removeProvider("AndroidKeyStore")
            return FakeAndroidKeyStoreProvider().also { Security.insertProviderAt(it, 1) }
        }

        fun uninstall() {
            Security.removeProvider("AndroidKeyStore")
        }
    }
}

/**
 * Throws the platform's `StrongBoxUnavailableException` (API 28). An object of its own: a `throw`
 * of that type in a class makes the JVM verifier load it when that class is loaded, and SDK 26
 * has no such class.
 */
private object StrongBoxAbsence {
    fun fail(): Nothing = throw StrongBoxUnavailableException("no StrongBox on this device")
}
