package jp.mamori.example

import android.app.Activity
import android.os.Bundle
import android.text.InputType
import android.view.View
import android.widget.Button
import android.widget.EditText
import android.widget.LinearLayout
import android.widget.TextView
import jp.mamori.PinningFailureException
import jp.mamori.android.AndroidKeystoreKek
import jp.mamori.android.AndroidPinning
import jp.mamori.android.AndroidSecureStorage
import jp.mamori.android.DeviceCollector
import jp.mamori.ffi.PasscodeCheck
import jp.mamori.ffi.PinningEngine
import jp.mamori.ffi.StorageException
import jp.mamori.mamoriPinning
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.launch
import okhttp3.OkHttpClient
import okhttp3.Request
import java.io.IOException
import javax.net.ssl.X509TrustManager

/**
 * A login-style screen on framework views only (no androidx), showing the three Mamori pieces:
 * - the refresh token lives in the secure store (Keystore key, DEV-1) behind the app passcode
 *   (PBKDF2 verifier with attempt limits, DEV-3);
 * - the API is called over OkHttp pinned with [AndroidPinning] (DEV-4); a pin failure is shown;
 * - the device verdict and its findings (DEV-2).
 *
 * The API URL and pin policy come from the launching intent ([EXTRA_API_URL], [EXTRA_POLICY]) so
 * the example runs against any server; a real app ships its policy as an asset.
 */
class LoginActivity : Activity() {
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.IO)
    private lateinit var passcode: EditText
    private lateinit var signIn: Button
    internal lateinit var status: TextView
    internal lateinit var device: TextView

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        passcode = EditText(this).apply {
            id = View.generateViewId()
            hint = "Passcode"
            inputType = InputType.TYPE_CLASS_NUMBER or InputType.TYPE_NUMBER_VARIATION_PASSWORD
        }
        signIn = Button(this).apply { text = "Sign in"; setOnClickListener { signIn() } }
        status = TextView(this).apply { text = "Enter your passcode" }
        device = TextView(this)
        setContentView(
            LinearLayout(this).apply {
                orientation = LinearLayout.VERTICAL
                addView(passcode)
                addView(signIn)
                addView(status)
                addView(device)
            },
        )
        scope.launch {
            val verdict = DeviceCollector(this@LoginActivity, packagesVisible = true).evaluate()
            val findings = verdict.findings.joinToString("\n") { "• ${it.guideline} ${it.rule}: ${it.decision}" }
            runOnUiThread { device.text = "Device: ${verdict.decision}\n$findings" }
        }
    }

    override fun onDestroy() {
        scope.cancel()
        super.onDestroy()
    }

    private fun signIn() {
        val entered = passcode.text.toString().toCharArray()
        passcode.text.clear()
        signIn.isEnabled = false
        status.text = WORKING
        scope.launch {
            val message = try {
                val token = unlockToken(entered) ?: return@launch show("Wrong passcode")
                "API says: ${callApi(token)}"
            } catch (e: IOException) {
                val pinning = generateSequence<Throwable>(e) { it.cause }.filterIsInstance<PinningFailureException>().firstOrNull()
                if (pinning != null) {
                    "Blocked by pinning: ${pinning.decision.host}: ${pinning.decision.reason}"
                } else {
                    "Network error: ${e.javaClass.simpleName}"
                }
            } catch (e: StorageException.InvalidInput) {
                "Passcode refused: ${e.message}" // e.g. too short; never echoes the passcode
            } catch (e: StorageException.LockedOut) {
                "Too many attempts: try again later"
            } catch (e: StorageException) {
                "Secure storage: ${e.javaClass.simpleName}"
            }
            show(message)
        }
    }

    private fun show(message: String) = runOnUiThread {
        status.text = message
        signIn.isEnabled = true
    }

    /** First sign-in sets the passcode and stores a token; later ones verify it and read the token. */
    private suspend fun unlockToken(entered: CharArray): String? {
        val kek = AndroidKeystoreKek.Builder(this, "example.vault").create()
        AndroidSecureStorage.open(this, kek).use { vault ->
            val storage = vault.storage
            if (!storage.passcode.isSet) {
                storage.passcode.set(entered)
                vault.putString("refresh_token", "demo-refresh-token")
            } else if (storage.passcode.verify(entered) !is PasscodeCheck.Verified) {
                return null
            }
            return vault.getString("refresh_token")
        }
    }

    private fun callApi(token: String): String {
        val engine = PinningEngine.fromToml(checkNotNull(intent.getStringExtra(EXTRA_POLICY)) { "no pin policy" })
        val trustManager = platformTrustManager?.let { AndroidPinning.trustManager(engine, it) } ?: AndroidPinning.trustManager(engine)
        val client = OkHttpClient.Builder()
            .mamoriPinning(trustManager)
            .build()
        val request = Request.Builder()
            .url(checkNotNull(intent.getStringExtra(EXTRA_API_URL)) { "no API URL" })
            .header("Authorization", "Bearer $token") // never logged (LOG-2)
            .build()
        client.newCall(request).execute().use { return it.body.string() }
    }

    companion object {
        const val EXTRA_API_URL = "jp.mamori.example.API_URL"
        const val EXTRA_POLICY = "jp.mamori.example.PIN_POLICY"
        const val WORKING = "Signing in…"

        /**
         * The platform trust manager to pin after; null (an app's case) is the system's, with the
         * app's network security config. Tests set one that trusts their private CA.
         */
        @Volatile
        var platformTrustManager: X509TrustManager? = null
    }
}
