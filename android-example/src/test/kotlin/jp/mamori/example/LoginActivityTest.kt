package jp.mamori.example

import android.app.KeyguardManager
import android.content.Intent
import android.widget.Button
import android.widget.EditText
import android.widget.LinearLayout
import jp.mamori.TestPki
import jp.mamori.android.testing.FakeAndroidKeyStoreProvider
import jp.mamori.android.testing.TestBiometricPrompt
import jp.mamori.pin
import jp.mamori.rule
import mockwebserver3.MockWebServer
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.android.controller.ActivityController
import org.robolectric.annotation.Config
import java.security.KeyStore
import javax.net.ssl.TrustManagerFactory
import javax.net.ssl.X509TrustManager

/**
 * The example's screen under Robolectric: launch, enter the passcode, tap, and read what the
 * screen shows, against a real TLS server on loopback (allowed and blocked by pinning).
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [34], manifest = Config.NONE)
class LoginActivityTest {
    private val pki = TestPki()
    private lateinit var server: MockWebServer
    private lateinit var controller: ActivityController<LoginActivity>

    @Before
    fun setUp() {
        FakeAndroidKeyStoreProvider.install()
        server = pki.server(responses = 2)
        shadowOf(RuntimeEnvironment.getApplication().getSystemService(KeyguardManager::class.java)).setIsDeviceSecure(true)
        // Android's trust manager (Conscrypt) trusting the test CA, as a debug network security config would.
        val anchors = KeyStore.getInstance(KeyStore.getDefaultType()).apply { load(null); setCertificateEntry("ca", pki.root.certificate) }
        LoginActivity.platformTrustManager = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm())
            .apply { init(anchors) }.trustManagers.filterIsInstance<X509TrustManager>().single()
    }

    @After
    fun tearDown() {
        controller.pause().stop().destroy()
        server.close()
        LoginActivity.platformTrustManager = null
        FakeAndroidKeyStoreProvider.uninstall()
    }

    private fun launch(vararg pins: String): LoginActivity {
        // The server's certificate names 127.0.0.1; the pin rule is for that host.
        val intent = Intent(RuntimeEnvironment.getApplication(), LoginActivity::class.java)
            .putExtra(LoginActivity.EXTRA_API_URL, "https://127.0.0.1:${server.port}/me")
            .putExtra(LoginActivity.EXTRA_POLICY, pki.policy(rule("127.0.0.1", *pins)))
        controller = Robolectric.buildActivity(LoginActivity::class.java, intent).setup()
        return controller.get()
    }

    private fun LoginActivity.signIn(passcode: String): String {
        val form = (window.decorView.findViewById<android.view.ViewGroup>(android.R.id.content).getChildAt(0) as LinearLayout)
        (form.getChildAt(0) as EditText).setText(passcode)
        (form.getChildAt(1) as Button).performClick()
        assertEquals(LoginActivity.WORKING, status.text.toString())
        TestBiometricPrompt.idleUntil({ status.text.toString() != LoginActivity.WORKING }, timeoutMillis = 30_000)
        return status.text.toString()
    }

    @Test
    fun `a matching pin signs in and shows the API's answer with the stored token`() {
        val activity = launch(pin(pki.intermediate), pin(pki.spare1))
        assertEquals("API says: ok", activity.signIn("246810"))
        assertEquals("Bearer demo-refresh-token", server.takeRequest().headers["Authorization"])
        // Second sign-in: the passcode is now verified, a wrong one is refused.
        assertEquals("Wrong passcode", activity.signIn("111111"))
        assertEquals("API says: ok", activity.signIn("246810"))
        TestBiometricPrompt.idleUntil({ activity.device.text.startsWith("Device: ") })
    }

    @Test
    fun `a too short passcode is refused without storing anything`() {
        val activity = launch(pin(pki.intermediate), pin(pki.spare1))
        val shown = activity.signIn("12")
        assertTrue(shown, shown.startsWith("Passcode refused: "))
        assertTrue(shown, "shorter than" in shown)
        assertEquals(0, server.requestCount)
    }

    @Test
    fun `wrong pins show the pin failure and send nothing`() {
        val activity = launch(pin(pki.spare1), pin(pki.spare2))
        val shown = activity.signIn("246810")
        assertTrue(shown, shown.startsWith("Blocked by pinning: 127.0.0.1: "))
        assertEquals(0, server.requestCount)
    }

    @Test
    fun `the device verdict and its findings are shown`() {
        shadowOf(RuntimeEnvironment.getApplication().getSystemService(KeyguardManager::class.java)).setIsDeviceSecure(false)
        val activity = launch(pin(pki.intermediate), pin(pki.spare1))
        TestBiometricPrompt.idleUntil({ activity.device.text.startsWith("Device: ") })
        val shown = activity.device.text.toString()
        assertTrue(shown, "DEV-3 device.screen_lock" in shown)
    }
}
