package jp.mamori

import java.nio.file.Files
import java.time.LocalDate
import java.util.concurrent.Executors
import jp.mamori.TestFiles
import jp.mamori.ffi.DeviceException
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.async
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import jp.mamori.ffi.DeviceDecision
import jp.mamori.ffi.DevicePlatform
import jp.mamori.ffi.EvidenceSource
import jp.mamori.ffi.FactState

/** Kotlin -> Rust -> Kotlin: platform facts in, a typed verdict out, asynchronously. */
class DeviceTest {
    private val day = LocalDate.of(2026, 11, 25)

    private fun pixel(screenLock: Boolean = true) = PlatformFactsBuilder(DevicePlatform.ANDROID)
        .osVersion("16", "Build.VERSION.RELEASE")
        .apiLevel(36)
        .securityPatch("2026-10-05")
        .screenLock(screenLock, "KeyguardManager.isDeviceSecure")
        .biometricsEnrolled(true, "BiometricManager.canAuthenticate(BIOMETRIC_STRONG)", "BIOMETRIC_SUCCESS")
        .keystore(KeystoreLevel.STRONG_BOX, "PackageManager.FEATURE_STRONGBOX_KEYSTORE")
        .debuggerAttached(false, "Debug.isDebuggerConnected")
        .emulator(false, "Build.FINGERPRINT", "google/tokay/tokay:16/user/release-keys")
        .developerOptions(false, "Settings.Global.DEVELOPMENT_SETTINGS_ENABLED")
        .adbEnabled(false, "Settings.Global.ADB_ENABLED")
        .installer("com.android.vending", "PackageManager.getInstallSourceInfo")
        .build()

    /** Probes of this JVM host are switched off: the verdict depends on the facts given only. */
    private suspend fun verdictOf(facts: jp.mamori.ffi.DeviceFacts, packages: List<String> = emptyList()) =
        MamoriDevice.evaluate(facts, at = day, installedPackages = packages, runProbes = false)

    @Test
    fun `healthy device is allowed`() = runBlocking {
        val v = verdictOf(pixel())
        assertEquals(DeviceDecision.ALLOW, v.decision, v.findings.toString())
        assertEquals("2026-11-25", v.evaluatedAt)
        assertEquals("mamori-fintech-default", v.policyName)
        assertEquals(64, v.factsSha256.length)
    }

    @Test
    fun `missing screen lock and a root manager block with explained findings`() = runBlocking {
        val v = verdictOf(pixel(screenLock = false), packages = listOf("com.topjohnwu.magisk"))
        assertEquals(DeviceDecision.BLOCK, v.decision)
        val lock = v.findings.single { it.rule == "device.screen_lock" }
        assertEquals("DEV-3", lock.guideline)
        assertTrue(lock.criterion.startsWith("DEV-3: "), lock.criterion)
        assertEquals("KeyguardManager.isDeviceSecure", lock.evidence.single().property)
        assertEquals(EvidenceSource.PLATFORM, lock.evidence.single().source)
        assertTrue(lock.remediation.isNotBlank())
        val root = v.findings.single { it.rule == "indicators.root" }
        assertEquals(listOf("android.pkg.com_topjohnwu_magisk"), root.indicators)
        assertEquals(listOf("MASVS-RESILIENCE-1"), root.masvs)
    }

    @Test
    fun `package visibility denied is unknown, not clean`() = runBlocking {
        val facts = MamoriDevice.collect(pixel(), installedPackages = null, runProbes = false)
        val packages = facts.indicators.filter { it.id.startsWith("android.pkg.") }
        assertEquals(MamoriDevice.knownPackages.size, packages.size)
        assertTrue(packages.all { it.state == FactState.UNKNOWN })
    }

    @Test
    fun `exported facts re-evaluate to the identical verdict`() = runBlocking {
        val facts = MamoriDevice.collect(pixel(screenLock = false), installedPackages = emptyList(), runProbes = false)
        val json = MamoriDevice.exportFacts(facts)
        val again = MamoriDevice.importFacts(json)
        assertEquals(facts, again)
        val a = MamoriDevice.reevaluate(facts, MamoriDevice.defaultPolicy, day)
        val b = MamoriDevice.reevaluate(again, MamoriDevice.defaultPolicy, day)
        assertEquals(a, b)
        assertEquals(DeviceDecision.BLOCK, a.decision)
    }

    @Test
    fun `example facts from the repository evaluate as the CLI does`() = runBlocking {
        val json = Files.readString(TestFiles.repoRoot.resolve("examples/device/pixel-magisk.json"))
        val v = MamoriDevice.reevaluate(MamoriDevice.importFacts(json), MamoriDevice.defaultPolicy, day)
        assertEquals(DeviceDecision.BLOCK, v.decision)
        val root = v.findings.single { it.rule == "indicators.root" }
        assertTrue("android.magisk.magisk_db" in root.indicators, root.indicators.toString())
        assertTrue(root.evidence.any { it.path == "/data/adb/magisk.db" && it.source == EvidenceSource.PROBE })
    }

    @Test
    fun `invalid policy and facts throw typed exceptions naming the problem`() {
        val bad = MamoriDevice.defaultPolicy.replace("max_patch_age_days = 365", "max_patch_age_days = 0")
        val e = assertThrows<DeviceException.Policy> { MamoriDevice.validatePolicy(bad) }
        assertTrue(e.detail.contains("android.max_patch_age_days"), e.detail)
        assertThrows<DeviceException.Policy> { runBlocking { verdictOfPolicy(bad) } }
        val f = assertThrows<DeviceException.Facts> { MamoriDevice.importFacts("""{"schema":1,"platform":"android","rooted":true}""") }
        assertTrue(f.detail.contains("rooted"), f.detail)
    }

    private suspend fun verdictOfPolicy(policy: String) =
        MamoriDevice.evaluate(pixel(), policy = policy, at = day, runProbes = false)

    @Test
    fun `evaluation with probes suspends instead of blocking the calling thread`() {
        // One thread plays the UI thread. If Rust probed and evaluated on the polling thread,
        // `evaluate` would finish before any other coroutine of that thread could run, every
        // time. Offloaded to the Rust worker, the UI thread runs other work meanwhile. (A
        // single round can still finish first when the OS deschedules the caller right after
        // spawning the worker on a loaded machine, so this counts over several rounds.)
        val ui = Executors.newSingleThreadExecutor { r -> Thread(r, "ui") }.asCoroutineDispatcher()
        ui.use { dispatcher ->
            runBlocking(dispatcher) {
                var interleaved = 0
                repeat(20) {
                    val verdict = async { MamoriDevice.evaluate(pixel(), at = day, installedPackages = emptyList()) }
                    launch { if (!verdict.isCompleted) interleaved++ }.join()
                    val v = verdict.await()
                    assertTrue(Thread.currentThread().name.startsWith("ui"), Thread.currentThread().name)
                    // The host's probes contributed (this is a Linux JVM host, not a phone).
                    assertNotEquals(0, v.coverage.sumOf { (it.absent + it.present + it.unknown).toInt() })
                }
                assertTrue(interleaved > 0, "the UI thread was blocked until every verdict was ready")
            }
        }
    }
}
