package jp.mamori.android

import jp.mamori.InitCost
import jp.mamori.TestPki
import jp.mamori.android.testing.FakeAndroidKeyStoreProvider
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.annotation.Config
import java.nio.file.Path

/**
 * SDK initialisation under Robolectric: a benchmark, not a test (its name keeps it out of
 * `cargo xtask kotlin-test`; `cargo xtask kotlin-bench --init` runs it, figures in the README).
 * The store is [AndroidSecureStorage] over an [AndroidKeystoreKek] on the test keystore, so the
 * figures are Mamori's share without a device keystore's latency; the contender wraps its data
 * key with the same KEK. The sandbox's first native call is timed once, where it happens.
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [34], manifest = Config.NONE)
class InitBenchmark {
    @After
    fun tearDown() = FakeAndroidKeyStoreProvider.uninstall()

    @Test
    fun initialisation() {
        println("\n== Initialisation (Robolectric SDK 34): first native call in this sandbox, once: %.1f ms =="
            .format(InitCost.firstNativeCallMillis()))
        FakeAndroidKeyStoreProvider.install()
        val context = RuntimeEnvironment.getApplication()
        val kek = runBlocking { AndroidKeystoreKek.Builder(context, "init-bench").create() }
        InitCost.benchmark("Robolectric SDK 34", TestPki(), kek, object : InitCost.Store {
            override fun create(dir: Path, name: String, value: ByteArray) = runBlocking {
                AndroidSecureStorage.open(context, kek, dir.toFile()).use { it.put(name, value) }
            }

            override fun openAndGet(dir: Path, name: String): ByteArray = runBlocking {
                AndroidSecureStorage.open(context, kek, dir.toFile()).use { it.get(name) }
            }
        })
    }
}
