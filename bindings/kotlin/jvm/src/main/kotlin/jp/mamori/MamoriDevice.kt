package jp.mamori

import java.time.LocalDate
import java.time.ZoneOffset
import jp.mamori.ffi.DeviceException
import jp.mamori.ffi.PlatformInputs
import jp.mamori.ffi.collectDeviceFacts
import jp.mamori.ffi.deviceDefaultPolicy
import jp.mamori.ffi.deviceFactsFromJson
import jp.mamori.ffi.deviceFactsToJson
import jp.mamori.ffi.deviceKnownPackages
import jp.mamori.ffi.evaluateDevice
import jp.mamori.ffi.evaluateDeviceFacts
import jp.mamori.ffi.validateDevicePolicy
import jp.mamori.ffi.DeviceEvidence
import jp.mamori.ffi.DeviceFact
import jp.mamori.ffi.DeviceFacts
import jp.mamori.ffi.DevicePlatform
import jp.mamori.ffi.DeviceVerdict
import jp.mamori.ffi.EvidenceSource
import jp.mamori.ffi.FactState

/** Hardware keystore levels, as the device policy names them. */
public enum class KeystoreLevel(internal val wire: String) {
    NONE("none"),
    TEE("tee"),
    STRONG_BOX("strongbox"),
    SECURE_ENCLAVE("secure_enclave"),
}

/**
 * Builds the facts only the platform knows (OS APIs), each with its evidence: the API that
 * was asked and the value it answered. A `null` answer means the API could not tell; it is
 * recorded as *unknown*, never as "fine".
 */
public class PlatformFactsBuilder(private val platform: DevicePlatform) {
    private var osVersion = unknown()
    private var apiLevel = unknown()
    private var securityPatch = unknown()
    private var screenLock = unknown()
    private var biometrics = unknown()
    private var keystore = unknown()
    private var debugger = unknown()
    private var emulator = unknown()
    private var developerOptions = unknown()
    private var adb = unknown()
    private var installer = unknown()
    private var signingCert = unknown()
    private var appId = unknown()

    /** OS version string (`Build.VERSION.RELEASE`, `UIDevice.systemVersion`). */
    public fun osVersion(value: String?, api: String): PlatformFactsBuilder = apply { osVersion = valued(value, api) }

    /** Android API level (`Build.VERSION.SDK_INT`). */
    public fun apiLevel(value: Int?, api: String = "Build.VERSION.SDK_INT"): PlatformFactsBuilder =
        apply { apiLevel = valued(value?.toString(), api) }

    /** Security patch level `YYYY-MM-DD` (`Build.VERSION.SECURITY_PATCH`); unparseable = unknown in the core. */
    public fun securityPatch(value: String?, api: String = "Build.VERSION.SECURITY_PATCH"): PlatformFactsBuilder =
        apply { securityPatch = valued(value?.takeIf { it.isNotBlank() }, api) }

    /** Whether a screen lock / passcode is set. */
    public fun screenLock(set: Boolean?, api: String): PlatformFactsBuilder = apply { screenLock = flag(set, api) }

    /** Whether strong biometrics are enrolled; [detail] is the API's raw answer. */
    public fun biometricsEnrolled(enrolled: Boolean?, api: String, detail: String? = null): PlatformFactsBuilder =
        apply { biometrics = flag(enrolled, api, detail) }

    /** Best hardware keystore level available. */
    public fun keystore(level: KeystoreLevel?, api: String): PlatformFactsBuilder =
        apply { keystore = valued(level?.wire, api) }

    /** Whether a debugger is attached. */
    public fun debuggerAttached(attached: Boolean?, api: String): PlatformFactsBuilder =
        apply { debugger = flag(attached, api) }

    /** Whether this is an emulator or simulator; [detail] is e.g. the build fingerprint. */
    public fun emulator(isEmulator: Boolean?, api: String, detail: String? = null): PlatformFactsBuilder =
        apply { emulator = flag(isEmulator, api, detail) }

    /** Whether developer options are enabled. */
    public fun developerOptions(enabled: Boolean?, api: String): PlatformFactsBuilder =
        apply { developerOptions = flag(enabled, api) }

    /** Whether ADB is enabled. */
    public fun adbEnabled(enabled: Boolean?, api: String): PlatformFactsBuilder = apply { adb = flag(enabled, api) }

    /**
     * The installing package. [known] false = the API could not tell (unknown);
     * [known] true with a `null` package = sideloaded (absent).
     */
    public fun installer(pkg: String?, api: String, known: Boolean = true): PlatformFactsBuilder = apply {
        installer = when {
            !known -> DeviceFact(FactState.UNKNOWN, null, listOf(evidence(api, null)))
            pkg == null -> DeviceFact(FactState.ABSENT, null, listOf(evidence(api, "none")))
            else -> valued(pkg, api)
        }
    }

    /** SHA-256 of the app signing certificate (lowercase hex). */
    public fun signingCertSha256(hex: String?, api: String): PlatformFactsBuilder =
        apply { signingCert = valued(hex?.lowercase(), api) }

    /**
     * The app's package name (`Context.getPackageName()`), matched against the policy's `app.ids`;
     * a Key Attestation of the app's key proves (and overrides) it on the server.
     */
    public fun appId(packageName: String?, api: String): PlatformFactsBuilder =
        apply { appId = valued(packageName, api) }

    /** The facts record handed to the core. */
    public fun build(): DeviceFacts = DeviceFacts(
        schema = 1u,
        platform = platform,
        osVersion = osVersion,
        androidApiLevel = apiLevel,
        securityPatch = securityPatch,
        screenLock = screenLock,
        biometricsEnrolled = biometrics,
        keystoreLevel = keystore,
        debuggerAttached = debugger,
        emulator = emulator,
        developerOptions = developerOptions,
        adbEnabled = adb,
        installer = installer,
        signingCertSha256 = signingCert,
        appId = appId,
        indicators = emptyList(),
    )

    private companion object {
        fun unknown() = DeviceFact(FactState.UNKNOWN, null, emptyList())

        fun evidence(api: String, value: String?, detail: String? = null) =
            DeviceEvidence(EvidenceSource.PLATFORM, null, api, value, detail)

        fun valued(value: String?, api: String) = if (value == null) {
            DeviceFact(FactState.UNKNOWN, null, listOf(evidence(api, null, "not available")))
        } else {
            DeviceFact(FactState.PRESENT, value, listOf(evidence(api, value)))
        }

        fun flag(value: Boolean?, api: String, detail: String? = null) = when (value) {
            null -> DeviceFact(FactState.UNKNOWN, null, listOf(evidence(api, null, detail ?: "not available")))
            true -> DeviceFact(FactState.PRESENT, null, listOf(evidence(api, "true", detail)))
            false -> DeviceFact(FactState.ABSENT, null, listOf(evidence(api, "false", detail)))
        }
    }
}

/**
 * Device OS security level (guideline DEV-2): one suspend call from platform facts to a verdict.
 *
 * The Rust side runs its probes and the policy on its own worker thread, so calling these from
 * `Dispatchers.Main` never blocks the UI thread. Failures throw [DeviceException]
 * (`Policy`, `Facts`, `Date`, `Internal`).
 */
public object MamoriDevice {
    /** The shipped FinTech default policy (TOML). */
    @JvmStatic
    public val defaultPolicy: String
        get() = deviceDefaultPolicy()

    /** Package names the collector should look up (root managers, hiding and hooking apps). */
    @JvmStatic
    public val knownPackages: List<String>
        get() = deviceKnownPackages()

    /** Throws [DeviceException.Policy] naming the field if [policy] (TOML or JSON) is invalid. */
    @JvmStatic
    @Throws(DeviceException::class)
    public fun validatePolicy(policy: String) {
        validateDevicePolicy(policy)
    }

    /**
     * Collects (platform facts + Rust probes), then evaluates [policy] as of [at].
     * [at] should come from a trusted clock (e.g. the server's date).
     */
    @Throws(DeviceException::class)
    public suspend fun evaluate(
        facts: DeviceFacts,
        policy: String = defaultPolicy,
        at: LocalDate = LocalDate.now(ZoneOffset.UTC),
        installedPackages: List<String>? = null,
        loadedImages: List<String> = emptyList(),
        runProbes: Boolean = true,
    ): DeviceVerdict = evaluateDevice(
        PlatformInputs(facts, loadedImages, installedPackages, runProbes),
        policy,
        at.toString(),
    )

    /** Collects the merged facts without evaluating (to export them with [exportFacts]). */
    @Throws(DeviceException::class)
    public suspend fun collect(
        facts: DeviceFacts,
        installedPackages: List<String>? = null,
        loadedImages: List<String> = emptyList(),
        runProbes: Boolean = true,
    ): DeviceFacts = collectDeviceFacts(PlatformInputs(facts, loadedImages, installedPackages, runProbes))

    /** Re-evaluates a facts snapshot, e.g. one imported with [importFacts]. */
    @Throws(DeviceException::class)
    public suspend fun reevaluate(facts: DeviceFacts, policy: String, at: LocalDate): DeviceVerdict =
        evaluateDeviceFacts(facts, policy, at.toString())

    /** Canonical facts JSON: the input of `mamori device check --facts`. */
    @JvmStatic
    public fun exportFacts(facts: DeviceFacts): String = deviceFactsToJson(facts)

    /** Parses exported facts JSON. */
    @JvmStatic
    @Throws(DeviceException::class)
    public fun importFacts(json: String): DeviceFacts = deviceFactsFromJson(json)
}
