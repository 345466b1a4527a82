package jp.mamori.android

import android.app.Activity
import android.app.KeyguardManager
import android.content.Context
import android.hardware.biometrics.BiometricManager
import android.hardware.biometrics.BiometricPrompt
import android.os.Build
import android.security.keystore.KeyProperties
import jp.mamori.android.testing.FakeAndroidKeyStoreProvider
import jp.mamori.android.testing.TestBiometricPrompt
import jp.mamori.ffi.KekException
import jp.mamori.ffi.SecurityLevel
import jp.mamori.ffi.StorageException
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Deferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotEquals
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertNull
import org.junit.Assert.assertSame
import org.junit.Assert.assertThrows
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.robolectric.shadows.ShadowSystemClock
import org.robolectric.shadow.api.Shadow
import org.robolectric.shadows.ShadowBiometricManager
import java.io.File
import java.nio.file.Files
import java.time.Duration
import java.util.Date
import jp.mamori.SecureStorage

/**
 * [AndroidKeystoreKek] and [AndroidSecureStorage] with the real Rust store (JNA) over the test
 * double of the platform keystore ([FakeAndroidKeyStoreProvider]) and of the biometric dialog
 * ([TestBiometricPrompt]).
 *
 * Every test runs on SDK 26 (minSdk: no StrongBox, BiometricPrompt or authentication types, and
 * the pre-S `KeyInfo`), SDK 28 (StrongBox and BiometricPrompt, still no authentication types or
 * device credential in the prompt) and SDK 34, except where a method names its levels.
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [26, 28, 34], manifest = Config.NONE) // shadows: robolectric.properties
class AndroidKeystoreKekTest {
    private lateinit var keystore: FakeAndroidKeyStoreProvider
    private lateinit var context: Context
    private lateinit var dir: File

    @Before
    fun setUp() {
        keystore = FakeAndroidKeyStoreProvider.install()
        context = RuntimeEnvironment.getApplication()
        dir = Files.createTempDirectory("mamori-android").toFile()
        TestBiometricPrompt.requests.clear()
        shadowOf(context.getSystemService(KeyguardManager::class.java)).setIsDeviceSecure(true)
    }

    @After
    fun tearDown() {
        FakeAndroidKeyStoreProvider.uninstall()
        dir.deleteRecursively()
    }

    private fun builder(alias: String = "vault") = AndroidKeystoreKek.Builder(context, alias)

    private fun open(kek: AndroidKeystoreKek, configure: SecureStorage.Builder.() -> Unit = {}) =
        runBlocking { AndroidSecureStorage.open(context, kek, dir, configure) }

    private fun activity(): Activity = Robolectric.buildActivity(Activity::class.java).setup().get()

    /** Runs [block] off the main thread, as an app would from a coroutine. */
    private fun <T> background(block: suspend CoroutineScope.() -> T): Deferred<T> =
        CoroutineScope(Dispatchers.IO).async(block = block)

    private fun <T> Deferred<T>.awaitDrivingMainLooper(): T {
        TestBiometricPrompt.idleUntil({ isCompleted })
        return runBlocking { await() }
    }

    @Test
    fun `a new key is AES-256-GCM in the TEE and round-trips through the store`() {
        val kek = runBlocking { builder().create() }
        val entry = keystore.entry("vault")
        assertEquals(256, entry.material.encoded.size * 8)
        assertArrayEquals(arrayOf(KeyProperties.BLOCK_MODE_GCM), entry.spec.blockModes)
        assertTrue(entry.spec.isRandomizedEncryptionRequired)
        assertEquals(SecurityLevel.TEE, kek.securityLevel())
        assertFalse(kek.strongBoxFellBack)
        assertEquals(AndroidKeystoreKek.UserAuth.None, kek.userAuth)

        open(kek).use { vault ->
            runBlocking { vault.putString("token", "s3cret") }
            assertEquals("s3cret", runBlocking { vault.getString("token") })
        }
        // A second build finds the same key, and the store opens under it.
        open(runBlocking { builder().create() }).use { assertEquals("s3cret", runBlocking { it.getString("token") }) }
    }

    @Test
    fun `the key id does not change when the keystore rewrites the creation date`() {
        val kek = builder().build()
        open(kek).use { runBlocking { it.putString("token", "kept") } }
        val id = kek.keyId()

        // What a blob upgrade after an OS update (API <= 30) or the Android 12 migration does.
        keystore.rewriteCreationDate("vault", Date(0))
        val afterUpdate = builder().build()

        assertEquals(id, afterUpdate.keyId())
        assertEquals("android-keystore:vault", id)
        open(afterUpdate).use { assertEquals("kept", runBlocking { it.getString("token") }) }
    }

    @Test
    fun `a re-created alias is detected by the store's canary`() {
        open(builder().build()).use { runBlocking { it.putString("token", "old") } }
        keystore.storedKeys.remove("vault")
        val recreated = builder().build()
        assertThrows(StorageException.KeyInvalidated::class.java) { open(recreated) }
    }

    @Test
    @Config(sdk = [28, 34])
    fun `StrongBox is used when present and falls back to the TEE when not`() {
        keystore.strongBoxAvailable = true
        val strong = builder("strong").preferStrongBox(true).build()
        assertEquals(SecurityLevel.STRONG_BOX, strong.securityLevel())
        assertFalse(strong.strongBoxFellBack)
        // Re-opened: API 31+ KeyInfo names StrongBox; on 28-30 it cannot, so the TEE is reported.
        val reopened = builder("strong").preferStrongBox(true).build()
        val readBack = if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.S) SecurityLevel.STRONG_BOX else SecurityLevel.TEE
        assertEquals(readBack, reopened.securityLevel())

        keystore.strongBoxAvailable = false
        val fallback = builder("fallback").preferStrongBox(true).build()
        assertEquals(SecurityLevel.TEE, fallback.securityLevel())
        assertTrue(fallback.strongBoxFellBack)
        assertFalse(keystore.entry("fallback").spec.isStrongBoxBacked)
    }

    @Test
    @Config(sdk = [26])
    fun `before API 28 a StrongBox request gets the TEE and reports the fallback`() {
        keystore.strongBoxAvailable = true // the double could, but the platform has no StrongBox API yet
        val kek = builder().preferStrongBox(true).build()
        assertEquals(SecurityLevel.TEE, kek.securityLevel())
        assertTrue("StrongBox was asked for and not obtained", kek.strongBoxFellBack)
        assertEquals(KeyProperties.SECURITY_LEVEL_TRUSTED_ENVIRONMENT, keystore.entry("vault").securityLevel)
    }

    @Test
    fun `the level is read back from KeyInfo, and a software key is refused by the store`() {
        keystore.hardwareBacked = false
        val soft = builder().build()
        assertEquals(SecurityLevel.SOFTWARE, soft.securityLevel())
        assertThrows(StorageException.InsecureKek::class.java) { open(soft) }
    }

    @Test
    fun `a KeyInfo failure is a typed error, not a SOFTWARE level`() {
        keystore.keyInfoFailure = java.security.ProviderException("keystore daemon died")
        val error = assertThrows(KeystoreKekException.KeystoreFailure::class.java) { builder().build() }
        assertTrue(error.cause is java.security.ProviderException)
    }

    @Test
    fun `an invalidated key is reported as KeyInvalidated, never regenerated`() {
        val kek = builder().build()
        open(kek).use { runBlocking { it.putString("token", "x") } }
        keystore.invalidate("vault")
        assertThrows(KekException.KeyInvalidated::class.java) { kek.unwrap(ByteArray(60), ByteArray(0)) }
        assertThrows(StorageException.KeyInvalidated::class.java) { open(kek) }
        assertTrue(keystore.entry("vault").invalidated)
    }

    @Test
    fun `an existing alias with other options is reported, not reused`() {
        builder().build()
        val error = assertThrows(KeystoreKekException.OptionsMismatch::class.java) {
            builder().userAuthentication(300).build()
        }
        assertEquals("vault", error.alias)
        assertTrue(error.differences.toString(), error.differences.single().startsWith("user authentication None"))

        builder("timed").userAuthentication(300).build()
        val timeout = assertThrows(KeystoreKekException.OptionsMismatch::class.java) {
            builder("timed").userAuthentication(30).build()
        }
        assertTrue(timeout.message!!, "TimeBound(timeoutSeconds=300" in timeout.message!!)
        // The same options find the key.
        assertEquals(AndroidKeystoreKek.UserAuth.TimeBound(300, KeyProperties.AUTH_DEVICE_CREDENTIAL or KeyProperties.AUTH_BIOMETRIC_STRONG),
            builder("timed").userAuthentication(300).build().userAuth)
    }

    @Test
    fun `an auth-bound key without a secure lock screen is a typed error`() {
        shadowOf(context.getSystemService(KeyguardManager::class.java)).setIsDeviceSecure(false)
        assertThrows(KeystoreKekException.SecureLockScreenRequired::class.java) { builder().userAuthentication(60).build() }
        assertTrue(keystore.storedKeys.isEmpty())
    }

    @Test
    fun `the platform's own lock-screen refusal is translated too`() {
        // Our precheck passes (KeyguardManager says secure), the keystore still refuses.
        keystore.secureLockScreen = false
        assertThrows(KeystoreKekException.SecureLockScreenRequired::class.java) { builder().userAuthentication(60).build() }
    }

    @Test
    @Config(sdk = [34])
    fun `a biometric-only key without enrolled biometrics is a typed error`() {
        Shadow.extract<ShadowBiometricManager>(context.getSystemService(BiometricManager::class.java)).setCanAuthenticate(false)
        assertThrows(KeystoreKekException.BiometricsNotEnrolled::class.java) {
            builder().userAuthentication(0, KeyProperties.AUTH_BIOMETRIC_STRONG).build()
        }
    }

    @Test
    @Config(sdk = [26, 28])
    fun `before API 30 a per-use key without enrolled biometrics is the platform's refusal, typed`() {
        // No authentication types before R: the platform makes every per-use key biometric-only.
        keystore.biometricsEnrolled = false
        val error = assertThrows(KeystoreKekException.BiometricsNotEnrolled::class.java) { builder().userAuthentication(0).build() }
        assertEquals("vault", error.alias)
        assertTrue(keystore.storedKeys.isEmpty())
        // A time-bound key accepts the lock-screen credential: no biometrics needed.
        assertEquals(Duration.ofSeconds(60), builder("timed").userAuthentication(60).build().keyCacheLimit)
    }

    @Test
    @Config(sdk = [26])
    fun `before API 28 unlock has no BiometricPrompt and says so, the key stays locked`() {
        val kek = builder().userAuthentication(300).build()
        val error = assertThrows(UserAuthenticationException::class.java) { runBlocking { kek.unlock(activity()) } }
        assertEquals(UserAuthenticationException.UNSUPPORTED, error.errorCode)
        assertTrue(TestBiometricPrompt.requests.isEmpty())
        assertThrows(StorageException.KekUnavailable::class.java) { open(kek) }
    }

    @Test
    @Config(sdk = [28, 34])
    fun `a time-bound key needs unlock, which shows BiometricPrompt, then works for its timeout`() {
        val kek = builder().userAuthentication(300).build()
        assertEquals(Duration.ofSeconds(300), kek.keyCacheLimit)
        assertThrows(StorageException.KekUnavailable::class.java) { open(kek) }

        val activity = activity()
        val unlocked = background { kek.unlock(activity, PromptText(title = "Unlock your vault", subtitle = "Mamori")) }
        val request = TestBiometricPrompt.awaitNext(0)
        assertNull("a time-bound key authenticates without a CryptoObject", request.crypto)
        request.succeed(keystore)
        unlocked.awaitDrivingMainLooper()

        open(kek).use { vault ->
            runBlocking { vault.putString("token", "after unlock") }
            assertEquals("after unlock", runBlocking { vault.getString("token") })
            // Later (the window expired), the app unlocks again through the store.
            val again = background { vault.unlock(activity) }
            TestBiometricPrompt.awaitNext(1).succeed(keystore)
            again.awaitDrivingMainLooper()
        }
    }

    @Test
    @Config(sdk = [28, 34])
    fun `a time-bound key's cached data key expires with the authentication window, not a timeout after the unwrap`() {
        val kek = builder().userAuthentication(10).build()
        val activity = activity()
        val unlocked = background { kek.unlock(activity) }
        TestBiometricPrompt.awaitNext(0).succeed(keystore)
        unlocked.awaitDrivingMainLooper()
        // The store is created, and its data key made (and cached), well inside the window...
        ShadowSystemClock.advanceBy(Duration.ofSeconds(6))
        open(kek).use { vault ->
            runBlocking { vault.putString("token", "inside the window") }
            assertEquals("inside the window", runBlocking { vault.getString("token") })
            // ...and the window, which counts from the authentication, closes before a cache
            // age of one timeout after that unwrap would: the platform refuses the key now, so
            // the store must not answer from memory (DEV-3).
            ShadowSystemClock.advanceBy(Duration.ofSeconds(5))
            assertThrows(StorageException.KekUnavailable::class.java) { runBlocking { vault.getString("token") } }
            // Unlocking again opens a new window.
            val again = background { vault.unlock(activity) }
            TestBiometricPrompt.awaitNext(1).succeed(keystore)
            again.awaitDrivingMainLooper()
            assertEquals("inside the window", runBlocking { vault.getString("token") })
        }
    }

    @Test
    @Config(sdk = [28, 34])
    fun `deep sleep counts towards a time-bound key's window, as the Keystore counts it`() {
        val kek = builder().userAuthentication(300).build()
        val activity = activity()
        val unlocked = background { kek.unlock(activity) }
        TestBiometricPrompt.awaitNext(0).succeed(keystore)
        unlocked.awaitDrivingMainLooper()
        open(kek).use { vault ->
            runBlocking { vault.putString("token", "t") }
            assertEquals("t", runBlocking { vault.getString("token") })
            // The phone sleeps for an hour with the app alive: the monotonic clock stands
            // still, the boot-time clock (the Keystore's) does not.
            ShadowSystemClock.simulateDeepSleep(Duration.ofHours(1))
            assertThrows(StorageException.KekUnavailable::class.java) { runBlocking { vault.getString("token") } }
        }
    }

    @Test
    @Config(sdk = [28, 34])
    fun `a time-bound key authenticated outside unlock caches nothing, the Keystore decides each use`() {
        val kek = builder().userAuthentication(10).build()
        // The app authenticated the user its own way: the store cannot know when the window opened.
        keystore.userAuthenticated()
        ShadowSystemClock.advanceBy(Duration.ofSeconds(6))
        open(kek).use { vault ->
            runBlocking { vault.putString("token", "t") }
            assertEquals("t", runBlocking { vault.getString("token") })
            ShadowSystemClock.advanceBy(Duration.ofSeconds(5))
            assertThrows(StorageException.KekUnavailable::class.java) { runBlocking { vault.getString("token") } }
        }
    }

    @Test
    @Config(sdk = [28, 34])
    fun `an unlockedDeviceRequired key's cached data key is not served while the device is locked`() {
        val keyguard = shadowOf(context.getSystemService(KeyguardManager::class.java))
        val kek = builder().unlockedDeviceRequired(true).build()
        open(kek).use { vault ->
            runBlocking { vault.putString("token", "t") }
            assertEquals("t", runBlocking { vault.getString("token") })
            keyguard.setIsDeviceLocked(true)
            assertThrows(StorageException.KekUnavailable::class.java) { runBlocking { vault.getString("token") } }
            assertThrows(StorageException.KekUnavailable::class.java) { vault.storage.getString("token") }
            keyguard.setIsDeviceLocked(false)
            assertEquals("t", runBlocking { vault.getString("token") })
        }
    }

    @Test
    @Config(sdk = [28, 34])
    fun `a cancelled prompt is a UserAuthenticationException and the key stays locked`() {
        val kek = builder().userAuthentication(300).build()
        val activity = activity()
        val unlocked = background { runCatching { kek.unlock(activity) } }
        TestBiometricPrompt.awaitNext(0).fail()
        val error = unlocked.awaitDrivingMainLooper().exceptionOrNull()
        assertTrue(error.toString(), error is UserAuthenticationException)
        assertEquals(BiometricPrompt.BIOMETRIC_ERROR_USER_CANCELED, (error as UserAuthenticationException).errorCode)
        assertThrows(StorageException.KekUnavailable::class.java) { open(kek) }
    }

    @Test
    @Config(sdk = [28, 34])
    fun `a per-use key unwraps only with the Cipher its BiometricPrompt authorised, and caches nothing`() {
        val kek = builder().userAuthentication(0).build()
        assertEquals(Duration.ZERO, kek.keyCacheLimit)
        assertThrows(StorageException.KekUnavailable::class.java) { open(kek) }

        val activity = activity()
        val answer = { request: TestBiometricPrompt.Request ->
            val cipher = request.crypto?.cipher ?: throw AssertionError("a per-use key needs a CryptoObject")
            assertTrue("the prompt holds the operation waiting for it", keystore.isPending(cipher))
            request.succeed(keystore)
        }

        // Creating the store wraps a data key and checks the canary: each use is a prompt.
        val created = background {
            kek.withUserAuthentication(activity) { AndroidSecureStorage.open(context, kek, dir).also { it.putString("token", "per use") } }
        }
        assertTrue(TestBiometricPrompt.answerUntil({ created.isCompleted }, answer) >= 2)
        val vault = runBlocking { created.await() }

        // Two reads, no cache: one prompt each.
        repeat(2) {
            val read = background { vault.withUserAuthentication(activity) { getString("token") } }
            assertEquals(1, TestBiometricPrompt.answerUntil({ read.isCompleted }, answer))
            assertEquals("per use", runBlocking { read.await() })
        }

        // Outside withUserAuthentication the key is unavailable, not silently opened.
        assertThrows(StorageException.KekUnavailable::class.java) { runBlocking { vault.getString("token") } }
        vault.close()
    }

    @Test
    @Config(sdk = [28, 34])
    fun `the negative button ends a per-use operation with a typed error and frees the key`() {
        // A biometric-only prompt has a negative button; the framework reports a press only to
        // its listener (never onAuthenticationError). Before, the storage call waited forever
        // and the key's one-block-at-a-time lock was never released.
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) {
            Shadow.extract<ShadowBiometricManager>(context.getSystemService(BiometricManager::class.java)).setCanAuthenticate(true)
        }
        val kek = builder().userAuthentication(0, KeyProperties.AUTH_BIOMETRIC_STRONG).build()
        val activity = activity()
        val first = background { runCatching { kek.withUserAuthentication(activity) { AndroidSecureStorage.open(context, kek, dir) } } }
        TestBiometricPrompt.awaitNext(0).pressNegative()
        val error = first.awaitDrivingMainLooper().exceptionOrNull()
        assertTrue("$error", error is StorageException.KekUnavailable)
        // The key is free again: the next block runs (and its own prompt is answered).
        val second = background { kek.withUserAuthentication(activity) { AndroidSecureStorage.open(context, kek, dir).also { it.close() }; 1 } }
        TestBiometricPrompt.answerUntil({ second.isCompleted }) { it.succeed(keystore) }
        assertEquals(1, runBlocking { second.await() })
    }

    @Test
    @Config(sdk = [28, 34]) // BiometricPrompt is API 28
    fun `a per-use authorisation serves only the block that asked for it`() {
        val kek = builder().userAuthentication(0).build()
        val activity = activity()
        val created = background {
            kek.withUserAuthentication(activity) { AndroidSecureStorage.open(context, kek, dir).also { it.putString("token", "mine") } }
        }
        TestBiometricPrompt.answerUntil({ created.isCompleted }) { it.succeed(keystore) }
        val vault = runBlocking { created.await() }
        // While the user's block waits on its prompt, another coroutine (a background sync)
        // reads the same store: it must not get a prompt of its own on the user's screen.
        val outsider = CompletableDeferred<Result<String>>()
        val seen = TestBiometricPrompt.requests.size
        val users = background {
            vault.withUserAuthentication(activity) {
                val other = CoroutineScope(Dispatchers.IO).async { runCatching { vault.getString("token") } }
                outsider.complete(other.await())
                getString("token")
            }
        }
        TestBiometricPrompt.idleUntil({ outsider.isCompleted })
        val outcome = runBlocking { outsider.await() }
        assertTrue("$outcome", outcome.exceptionOrNull() is StorageException.KekUnavailable)
        assertEquals("no prompt for the outsider", seen, TestBiometricPrompt.requests.size)
        assertEquals(1, TestBiometricPrompt.answerUntil({ users.isCompleted }) { it.succeed(keystore) })
        assertEquals("mine", runBlocking { users.await() })
        vault.close()
    }

    @Test
    fun `an explicit key cache longer than the authentication is refused`() {
        val kek = builder().userAuthentication(0).build()
        assertThrows(IllegalArgumentException::class.java) {
            SecureStorage.builder(dir.toPath(), kek).keyCache(Duration.ofSeconds(600)).build()
        }
    }

    @Test
    fun `unlock and withUserAuthentication refuse the wrong kind of key`() {
        val plain = builder().build()
        assertThrows(IllegalArgumentException::class.java) { runBlocking { plain.unlock(activity()) } }
        assertThrows(IllegalArgumentException::class.java) { runBlocking { plain.withUserAuthentication(activity()) { } } }
    }

    @Test
    fun `AndroidSecureStorage runs every store call, and the keystore, off the main thread`() {
        val kek = builder().build()
        val main = android.os.Looper.getMainLooper().thread
        assertSame("tests run on the main looper thread", main, Thread.currentThread())
        open(kek).use { vault ->
            assertSame(kek, vault.kek)
            runBlocking {
                vault.put("a", byteArrayOf(1, 2))
                vault.putString("b", "two")
                assertArrayEquals(byteArrayOf(1, 2), vault.get("a"))
                assertEquals(listOf("a", "b"), vault.names())
                assertTrue(vault.delete("a"))
                assertNull(vault.getOrNull("a"))
                assertFalse(vault.delete("a"))
            }
            vault.clearKeyCache() // the next read must ask the keystore again
            keystore.lastOperationThread = null
            assertEquals("two", runBlocking { vault.getString("b") })
            val worker = keystore.lastOperationThread ?: throw AssertionError("the read did not reach the keystore")
            assertNotEquals(main, worker)
        }
    }

    @Test
    fun `deleteKey removes the alias`() {
        val kek = builder().build()
        assertTrue(kek.deleteKey())
        assertFalse(keystore.storedKeys.containsKey("vault"))
        assertThrows(KekException.KeyInvalidated::class.java) { kek.wrap(ByteArray(32), ByteArray(0)) }
    }
}
