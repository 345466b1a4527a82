package jp.mamori.android

import android.app.KeyguardManager
import android.content.Context
import android.content.pm.PackageInfo
import android.content.pm.PackageManager
import android.content.pm.Signature
import android.content.pm.SigningInfo
import android.hardware.biometrics.BiometricManager
import android.provider.Settings
import jp.mamori.MamoriDevice
import jp.mamori.TestPki
import jp.mamori.ffi.DeviceFact
import jp.mamori.ffi.FactState
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.robolectric.shadow.api.Shadow
import org.robolectric.shadows.ShadowBiometricManager
import org.robolectric.shadows.ShadowBuild
import org.robolectric.shadows.ShadowSigningInfo
import java.security.MessageDigest

/**
 * [DeviceCollector] on Robolectric's SDK 26, 28 and 34 frameworks (a method may name its levels):
 * every fact comes from the Android API it names (Build, Settings.Global, KeyguardManager,
 * BiometricManager, PackageManager), driven through Robolectric's shadows; an API the level
 * lacks gives an unknown fact, never a clean one.
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [26, 28, 34], manifest = Config.NONE)
class DeviceCollectorTest {
    private lateinit var context: Context

    @Before
    fun setUp() {
        context = RuntimeEnvironment.getApplication()
        ShadowBuild.setBrand("google")
        ShadowBuild.setDevice("tokay")
        ShadowBuild.setProduct("tokay")
        ShadowBuild.setHardware("tokay")
        ShadowBuild.setModel("Pixel 9")
        ShadowBuild.setManufacturer("Google")
        ShadowBuild.setFingerprint("google/tokay/tokay:14/AP2A/12345:user/release-keys")
        ShadowBuild.setVersionSecurityPatch("2026-10-05")
    }

    private fun facts() = runBlocking { DeviceCollector(context, packagesVisible = true).platformFacts() }

    private fun assertFact(state: FactState, fact: DeviceFact, value: String? = null) {
        assertEquals(fact.toString(), state, fact.state)
        if (value != null) assertEquals(value, fact.value)
    }

    @Test
    fun `an unset developer or adb setting is unknown, not clean`() {
        // Settings.Global.getInt throws SettingNotFoundException for a key never written.
        val facts = facts()
        assertFact(FactState.UNKNOWN, facts.developerOptions)
        assertFact(FactState.UNKNOWN, facts.adbEnabled)
    }

    @Test
    fun `developer options and adb flags are read from Settings Global`() {
        Settings.Global.putInt(context.contentResolver, Settings.Global.DEVELOPMENT_SETTINGS_ENABLED, 1)
        Settings.Global.putInt(context.contentResolver, Settings.Global.ADB_ENABLED, 0)
        val facts = facts()
        assertFact(FactState.PRESENT, facts.developerOptions)
        assertFact(FactState.ABSENT, facts.adbEnabled)
        assertEquals("Settings.Global.DEVELOPMENT_SETTINGS_ENABLED", facts.developerOptions.evidence.single().property)
    }

    @Test
    fun `os version, api level and patch come from Build`() {
        val facts = facts()
        assertFact(FactState.PRESENT, facts.androidApiLevel, android.os.Build.VERSION.SDK_INT.toString())
        assertFact(FactState.PRESENT, facts.securityPatch, "2026-10-05")
        assertFact(FactState.PRESENT, facts.osVersion, android.os.Build.VERSION.RELEASE)
    }

    @Test
    fun `screen lock follows KeyguardManager isDeviceSecure`() {
        val keyguard = shadowOf(context.getSystemService(KeyguardManager::class.java))
        keyguard.setIsDeviceSecure(true)
        assertFact(FactState.PRESENT, facts().screenLock)
        keyguard.setIsDeviceSecure(false)
        assertFact(FactState.ABSENT, facts().screenLock)
    }

    @Test
    @Config(sdk = [34])
    fun `biometrics follow BiometricManager canAuthenticate`() {
        val biometrics: ShadowBiometricManager = Shadow.extract(context.getSystemService(BiometricManager::class.java))
        biometrics.setCanAuthenticate(true)
        assertFact(FactState.PRESENT, facts().biometricsEnrolled)
        biometrics.setCanAuthenticate(false)
        assertFact(FactState.ABSENT, facts().biometricsEnrolled)
    }

    @Test
    @Config(sdk = [26, 28])
    fun `before API 30 biometrics are unknown`() {
        assertFact(FactState.UNKNOWN, facts().biometricsEnrolled)
    }

    @Test
    @Config(sdk = [34])
    fun `keystore level follows the StrongBox and hardware keystore features`() {
        val pm = shadowOf(context.packageManager)
        pm.setSystemFeature(PackageManager.FEATURE_STRONGBOX_KEYSTORE, true)
        assertEquals("strongbox", facts().keystoreLevel.value)
        pm.setSystemFeature(PackageManager.FEATURE_STRONGBOX_KEYSTORE, false)
        pm.setSystemFeature(PackageManager.FEATURE_HARDWARE_KEYSTORE, true)
        assertEquals("tee", facts().keystoreLevel.value)
        pm.setSystemFeature(PackageManager.FEATURE_HARDWARE_KEYSTORE, false)
        assertEquals("none", facts().keystoreLevel.value)
    }

    @Test
    @Config(sdk = [26, 28])
    fun `before API 31 only StrongBox is known, a TEE or no keystore is unknown`() {
        val pm = shadowOf(context.packageManager)
        // FEATURE_HARDWARE_KEYSTORE does not exist before S: even if set it proves nothing.
        // The features by value: the constants (API 31 and 28) are fields these levels lack,
        // and the instrumented jar the tests compile against does not let kotlinc inline them.
        pm.setSystemFeature("android.hardware.hardware_keystore", true)
        assertFact(FactState.UNKNOWN, facts().keystoreLevel)
        pm.setSystemFeature("android.hardware.strongbox_keystore", true)
        val expected = if (android.os.Build.VERSION.SDK_INT >= 28) "strongbox" else null
        assertEquals(expected, facts().keystoreLevel.value)
    }

    @Test
    fun `emulator build properties are reported with the fingerprint`() {
        assertFact(FactState.ABSENT, facts().emulator)
        ShadowBuild.setFingerprint("generic/sdk_gphone64_x86_64/emu64x:14/UE1A/1:userdebug/dev-keys")
        ShadowBuild.setProduct("sdk_gphone64_x86_64")
        val emulator = facts().emulator
        assertFact(FactState.PRESENT, emulator)
        assertTrue(emulator.evidence.toString(), emulator.evidence.any { it.detail?.startsWith("generic/") == true })
    }

    @Test
    @Config(sdk = [34])
    fun `installer comes from getInstallSourceInfo, sideloaded is absent`() {
        val pm = shadowOf(context.packageManager)
        pm.setInstallSourceInfo(context.packageName, "com.android.vending", "com.android.vending")
        assertFact(FactState.PRESENT, facts().installer, "com.android.vending")
        pm.setInstallSourceInfo(context.packageName, null, null)
        assertFact(FactState.ABSENT, facts().installer)
    }

    @Test
    @Config(sdk = [26, 28])
    fun `before API 30 the installer comes from getInstallerPackageName`() {
        @Suppress("DEPRECATION") // the API of these levels (Robolectric implements it)
        fun installedBy(installer: String?) = context.packageManager.setInstallerPackageName(context.packageName, installer)
        installedBy("com.android.vending")
        val installer = facts().installer
        assertFact(FactState.PRESENT, installer, "com.android.vending")
        assertEquals("PackageManager.getInstallerPackageName", installer.evidence.single().property)
        installedBy(null)
        assertFact(FactState.ABSENT, facts().installer)
    }

    @Test
    @Config(sdk = [26])
    fun `before API 28 the signing certificate is unknown`() {
        assertFact(FactState.UNKNOWN, facts().signingCertSha256)
    }

    @Test
    @Config(sdk = [28, 34])
    fun `the signing certificate is the SHA-256 of the current signer`() {
        val der = TestPki().leaf.certificate.encoded
        val info = context.packageManager.getPackageInfo(context.packageName, 0)
        info.signingInfo = SigningInfo().also {
            Shadow.extract<ShadowSigningInfo>(it).setSignatures(arrayOf(Signature(der)))
        }
        shadowOf(context.packageManager).installPackage(info)
        val expected = MessageDigest.getInstance("SHA-256").digest(der).joinToString("") { "%02x".format(it) }
        assertFact(FactState.PRESENT, facts().signingCertSha256, expected)
    }

    @Test
    fun `known root packages are seen only when the app may see packages`() {
        val magisk = MamoriDevice.knownPackages.first { it.contains("magisk") }
        shadowOf(context.packageManager).installPackage(PackageInfo().apply { packageName = magisk })
        val visible = runBlocking { DeviceCollector(context, packagesVisible = true).snapshot() }
        val hidden = runBlocking { DeviceCollector(context, packagesVisible = false).snapshot() }
        val seen = visible.indicators.filter { it.state == FactState.PRESENT }.map { it.toString() }
        assertTrue(seen.toString(), seen.any { magisk in it })
        assertTrue(hidden.indicators.none { magisk in it.toString() && it.state == FactState.PRESENT })
    }

    @Test
    fun `evaluate applies the default policy to the collected facts`() {
        shadowOf(context.getSystemService(KeyguardManager::class.java)).setIsDeviceSecure(false)
        val verdict = runBlocking { DeviceCollector(context, packagesVisible = true).evaluate() }
        val lock = verdict.findings.single { it.rule == "device.screen_lock" }
        assertEquals("DEV-3", lock.guideline)
        assertNull(verdict.findings.firstOrNull { it.rule == "device.screen_lock" && it.guideline != "DEV-3" })
    }
    @Test
    fun `the app id is the package name from Context getPackageName`() {
        val appId = facts().appId
        assertFact(FactState.PRESENT, appId, context.packageName)
        // Robolectric's application without a manifest: a name this test did not pass in.
        assertEquals("org.robolectric.default", appId.value)
        assertEquals("Context.getPackageName", appId.evidence.single().property)
    }

    /** The default policy with `[app] ids` set: the package name decides the `app.ids` rule. */
    private fun appIdsPolicy(vararg ids: String): String {
        val commented = "# ids = [\"jp.bank.app\", \"ABCDE12345.jp.bank.app\"]"
        assertTrue("default policy changed", commented in MamoriDevice.defaultPolicy)
        return MamoriDevice.defaultPolicy.replace(commented, "ids = [${ids.joinToString { "\"$it\"" }}]")
    }

    @Test
    fun `a policy's app ids are matched against the collected package name`() {
        val collector = DeviceCollector(context, packagesVisible = true)
        val listed = runBlocking { collector.evaluate(appIdsPolicy("jp.bank.app", context.packageName)) }
        assertNull(listed.findings.firstOrNull { it.rule == "app.ids" })
        val other = runBlocking { collector.evaluate(appIdsPolicy("jp.bank.app")) }
        val mismatch = other.findings.single { it.rule == "app.ids" }
        assertEquals(jp.mamori.ffi.DeviceDecision.BLOCK, mismatch.decision)
        assertTrue(mismatch.criterion, mismatch.criterion.contains("app id is org.robolectric.default"))
    }
}
