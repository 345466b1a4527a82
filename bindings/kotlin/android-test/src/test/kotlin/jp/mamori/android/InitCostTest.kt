package jp.mamori.android

import jp.mamori.InitCost
import jp.mamori.PINNED_HOST
import jp.mamori.TestPki
import jp.mamori.android.testing.FakeAndroidKeyStoreProvider
import jp.mamori.pin
import jp.mamori.rule
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.annotation.Config

/**
 * SDK initialisation under Robolectric (figures in the README, "Android"): the store is opened
 * through [AndroidSecureStorage] over the test keystore, so the figure is Mamori's share without
 * the device's keystore latency.
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [34], manifest = Config.NONE)
class InitCostTest {
    @After
    fun tearDown() = FakeAndroidKeyStoreProvider.uninstall()

    @Test
    fun `initialisation stays well under a second per step`() {
        FakeAndroidKeyStoreProvider.install()
        val context = RuntimeEnvironment.getApplication()
        val pki = TestPki()
        val figures = InitCost.measure(pki.policy(rule(PINNED_HOST, pin(pki.intermediate), pin(pki.spare1)))) { dir ->
            runBlocking {
                val kek = AndroidKeystoreKek.Builder(context, "init").create()
                AndroidSecureStorage.open(context, kek, dir.toFile())
            }
        }
        println("mamori-init (Robolectric): $figures")
        assertTrue(figures.toString(), figures.allUnder(1_000.0))
    }
}
