package jp.mamori.android

import android.app.KeyguardManager
import android.content.Context
import android.content.pm.PackageManager
import android.hardware.biometrics.BiometricManager
import android.os.Build
import android.os.Debug
import android.provider.Settings
import java.security.MessageDigest
import java.time.LocalDate
import java.time.ZoneOffset
import jp.mamori.KeystoreLevel
import jp.mamori.MamoriDevice
import jp.mamori.PlatformFactsBuilder
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext
import jp.mamori.ffi.DeviceFacts
import jp.mamori.ffi.DevicePlatform
import jp.mamori.ffi.DeviceVerdict

/**
 * Collects the device facts only Android APIs know and hands them to the Mamori core, which adds
 * its own probes (files, `/proc`, loopback ports) and evaluates the app's device policy.
 *
 * Every call is a `suspend` function that runs off the main thread (Binder calls to
 * PackageManager here are Binder calls and run on [Dispatchers.IO]; probes and evaluation on a Rust worker).
 * An API that cannot answer yields an *unknown* fact, never a clean one.
 *
 * ```
 * val verdict = DeviceCollector(context).evaluate(policyToml, serverDate)
 * if (verdict.decision == DeviceDecision.BLOCK) showBlockedScreen(verdict.findings)
 * ```
 *
 * @param packagesVisible whether the app can see other packages: on Android 11+ only with a
 *   `<queries>` entry for [MamoriDevice.knownPackages] (or QUERY_ALL_PACKAGES). When false the
 *   package indicators are reported as unknown instead of a misleading "not installed".
 */
public class DeviceCollector @JvmOverloads constructor(
    context: Context,
    private val packagesVisible: Boolean = Build.VERSION.SDK_INT < Build.VERSION_CODES.R,
) {
    private val context: Context = context.applicationContext

    /** Collects the platform facts (no probes, no evaluation). */
    public suspend fun platformFacts(): DeviceFacts = withContext(Dispatchers.IO) { collect() }

    /** Collects everything and evaluates [policy] (TOML or JSON) as of [at] (use a trusted date). */
    public suspend fun evaluate(
        policy: String = MamoriDevice.defaultPolicy,
        at: LocalDate = LocalDate.now(ZoneOffset.UTC),
    ): DeviceVerdict {
        val (facts, packages) = withContext(Dispatchers.IO) { collect() to installedPackages() }
        return MamoriDevice.evaluate(facts, policy, at, installedPackages = packages)
    }

    /** Collects platform facts plus probes, for export with [MamoriDevice.exportFacts]. */
    public suspend fun snapshot(): DeviceFacts {
        val (facts, packages) = withContext(Dispatchers.IO) { collect() to installedPackages() }
        return MamoriDevice.collect(facts, installedPackages = packages)
    }

    private fun collect(): DeviceFacts {
        val pm = context.packageManager
        val resolver = context.contentResolver
        return PlatformFactsBuilder(DevicePlatform.ANDROID)
            .osVersion(Build.VERSION.RELEASE, "Build.VERSION.RELEASE")
            .apiLevel(Build.VERSION.SDK_INT, "Build.VERSION.SDK_INT")
            .securityPatch(Build.VERSION.SECURITY_PATCH, "Build.VERSION.SECURITY_PATCH")
            .screenLock(
                context.getSystemService(KeyguardManager::class.java)?.isDeviceSecure,
                "KeyguardManager.isDeviceSecure",
            )
            .biometricsEnrolled(biometrics(), "BiometricManager.canAuthenticate(BIOMETRIC_STRONG)")
            .keystore(keystoreLevel(pm), "PackageManager.hasSystemFeature(FEATURE_STRONGBOX_KEYSTORE/FEATURE_HARDWARE_KEYSTORE)")
            .debuggerAttached(Debug.isDebuggerConnected(), "Debug.isDebuggerConnected")
            .emulator(looksLikeEmulator(), "Build.FINGERPRINT/MODEL/HARDWARE/PRODUCT", Build.FINGERPRINT)
            .developerOptions(
                globalFlag(resolver, Settings.Global.DEVELOPMENT_SETTINGS_ENABLED),
                "Settings.Global.DEVELOPMENT_SETTINGS_ENABLED",
            )
            .adbEnabled(globalFlag(resolver, Settings.Global.ADB_ENABLED), "Settings.Global.ADB_ENABLED")
            .let { b -> installer(pm)?.let { (pkg, api) -> b.installer(pkg, api) } ?: b.installer(null, "PackageManager", known = false) }
            .signingCertSha256(signingCertSha256(pm), "PackageManager.GET_SIGNING_CERTIFICATES")
            .appId(context.packageName, "Context.getPackageName")
            .build()
    }

    private fun biometrics(): Boolean? {
        if (Build.VERSION.SDK_INT < Build.VERSION_CODES.R) return null
        val bm = context.getSystemService(BiometricManager::class.java) ?: return null
        return when (bm.canAuthenticate(BiometricManager.Authenticators.BIOMETRIC_STRONG)) {
            BiometricManager.BIOMETRIC_SUCCESS -> true
            BiometricManager.BIOMETRIC_ERROR_NONE_ENROLLED,
            BiometricManager.BIOMETRIC_ERROR_NO_HARDWARE -> false
            else -> null
        }
    }

    private fun keystoreLevel(pm: PackageManager): KeystoreLevel? = when {
        Build.VERSION.SDK_INT >= Build.VERSION_CODES.P &&
            pm.hasSystemFeature(PackageManager.FEATURE_STRONGBOX_KEYSTORE) -> KeystoreLevel.STRONG_BOX
        Build.VERSION.SDK_INT >= Build.VERSION_CODES.S &&
            pm.hasSystemFeature(PackageManager.FEATURE_HARDWARE_KEYSTORE) -> KeystoreLevel.TEE
        Build.VERSION.SDK_INT >= Build.VERSION_CODES.S -> KeystoreLevel.NONE
        else -> null // Before Android 12 the feature flag does not exist: unknown.
    }

    /**
     * A `Settings.Global` flag; null (unknown) when the setting was never written: an absent key
     * says nothing about the device, so it must not count as "disabled" (a clean finding).
     */
    private fun globalFlag(resolver: android.content.ContentResolver, name: String): Boolean? =
        try {
            Settings.Global.getInt(resolver, name) != 0
        } catch (_: Settings.SettingNotFoundException) {
            null
        } catch (_: SecurityException) {
            null
        }

    /** Returns (installer package or null when sideloaded, API used), or null when unknown. */
    private fun installer(pm: PackageManager): Pair<String?, String>? = try {
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) {
            pm.getInstallSourceInfo(context.packageName).installingPackageName to
                "PackageManager.getInstallSourceInfo"
        } else {
            @Suppress("DEPRECATION")
            pm.getInstallerPackageName(context.packageName) to "PackageManager.getInstallerPackageName"
        }
    } catch (_: PackageManager.NameNotFoundException) {
        null
    } catch (_: IllegalArgumentException) {
        null
    }

    private fun signingCertSha256(pm: PackageManager): String? {
        if (Build.VERSION.SDK_INT < Build.VERSION_CODES.P) return null
        return try {
            val info = pm.getPackageInfo(context.packageName, PackageManager.GET_SIGNING_CERTIFICATES)
            val signing = info.signingInfo ?: return null
            val certs = if (signing.hasMultipleSigners()) signing.apkContentsSigners else signing.signingCertificateHistory
            // With rotation (v3), the current certificate is the last of the history.
            val current = certs?.lastOrNull() ?: return null
            MessageDigest.getInstance("SHA-256").digest(current.toByteArray())
                .joinToString("") { "%02x".format(it) }
        } catch (_: PackageManager.NameNotFoundException) {
            null
        }
    }

    /** Which of [MamoriDevice.knownPackages] are installed; null when the app cannot see packages. */
    private fun installedPackages(): List<String>? {
        if (!packagesVisible) return null
        val pm = context.packageManager
        return MamoriDevice.knownPackages.filter { name ->
            try {
                pm.getPackageInfo(name, 0)
                true
            } catch (_: PackageManager.NameNotFoundException) {
                false
            }
        }
    }

    /** The device_info_plus `isEmulator` rules (research: android_emulator). */
    private fun looksLikeEmulator(): Boolean =
        (Build.BRAND.startsWith("generic") && Build.DEVICE.startsWith("generic")) ||
            Build.FINGERPRINT.startsWith("generic") || Build.FINGERPRINT.startsWith("unknown") ||
            Build.HARDWARE.contains("goldfish") || Build.HARDWARE.contains("ranchu") ||
            Build.MODEL.contains("google_sdk") || Build.MODEL.contains("Emulator") ||
            Build.MODEL.contains("Android SDK built for x86") ||
            Build.MANUFACTURER.contains("Genymotion") ||
            Build.PRODUCT.contains("sdk_google") || Build.PRODUCT.contains("google_sdk") ||
            Build.PRODUCT.contains("sdk") || Build.PRODUCT.contains("sdk_x86") ||
            Build.PRODUCT.contains("vbox86p") || Build.PRODUCT.contains("emulator") ||
            Build.PRODUCT.contains("simulator")
}
