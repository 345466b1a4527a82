package jp.mamori.android.testing

import android.content.DialogInterface
import android.hardware.biometrics.BiometricPrompt
import android.os.Build
import android.os.CancellationSignal
import android.os.Looper
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Implementation
import org.robolectric.annotation.Implements
import org.robolectric.annotation.RealObject
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.Executor

/**
 * **TEST DOUBLE of the Android platform**: a Robolectric shadow of the framework
 * `BiometricPrompt` (Robolectric has none) that records each `authenticate` call instead of
 * reaching the biometric service, so a test plays the user: [Request.succeed] (the platform then
 * tells the keystore, [FakeAndroidKeyStoreProvider.userAuthenticated]) or [Request.fail].
 * The prompt's builder, executor and callback are the framework's and Mamori's real ones.
 */
@Implements(className = "android.hardware.biometrics.BiometricPrompt", minSdk = 28) // BiometricPrompt is API 28
class TestBiometricPrompt {
    @RealObject
    private lateinit var prompt: BiometricPrompt

    class Request(
        val crypto: BiometricPrompt.CryptoObject?,
        val cancel: CancellationSignal,
        private val executor: Executor,
        private val callback: BiometricPrompt.AuthenticationCallback,
        private val prompt: BiometricPrompt,
    ) {
        /**
         * The user presses the negative button, as the framework handles it: only the
         * listener given to `Builder.setNegativeButton` runs, on its executor; the
         * authentication callback hears nothing (AOSP `BiometricPrompt.onDialogDismissed`).
         */
        fun pressNegative() {
            val info = BiometricPrompt::class.java.getDeclaredField("mNegativeButtonInfo").apply { isAccessible = true }.get(prompt)
                ?: throw AssertionError("this prompt has no negative button")
            fun <T> field(name: String): T = info.javaClass.getDeclaredField(name).apply { isAccessible = true }.get(info) as T
            val listenerExecutor: Executor = field("executor")
            val listener: DialogInterface.OnClickListener = field("listener")
            listenerExecutor.execute { listener.onClick(null, DialogInterface.BUTTON_NEGATIVE) }
        }

        fun succeed(keystore: FakeAndroidKeyStoreProvider) {
            keystore.userAuthenticated(crypto?.cipher)
            val result = authenticationResult(crypto)
            executor.execute { callback.onAuthenticationSucceeded(result) }
        }

        fun fail(code: Int = BiometricPrompt.BIOMETRIC_ERROR_USER_CANCELED) {
            executor.execute { callback.onAuthenticationError(code, "cancelled by the test user") }
        }
    }

    @Implementation
    fun authenticate(
        crypto: BiometricPrompt.CryptoObject,
        cancel: CancellationSignal,
        executor: Executor,
        callback: BiometricPrompt.AuthenticationCallback,
    ) {
        requests += Request(crypto, cancel, executor, callback, prompt)
    }

    @Implementation
    fun authenticate(cancel: CancellationSignal, executor: Executor, callback: BiometricPrompt.AuthenticationCallback) {
        requests += Request(null, cancel, executor, callback, prompt)
    }

    companion object {
        /** The framework's result: its hidden constructor is (crypto, identifier, userId) before API 30, (crypto, type) since. */
        private fun authenticationResult(crypto: BiometricPrompt.CryptoObject?): BiometricPrompt.AuthenticationResult {
            val type = BiometricPrompt.AuthenticationResult::class.java
            return if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) {
                type.getDeclaredConstructor(BiometricPrompt.CryptoObject::class.java, Int::class.javaPrimitiveType)
                    .newInstance(crypto, BiometricPrompt.AUTHENTICATION_RESULT_TYPE_BIOMETRIC)
            } else {
                type.constructors.single { it.parameterCount == 3 }.newInstance(crypto, null, 0) as BiometricPrompt.AuthenticationResult
            }
        }

        val requests: MutableList<Request> = CopyOnWriteArrayList()

        /**
         * Runs the main looper (where Mamori posts the prompt) until a new prompt is shown, then
         * returns it; fails after [timeoutMillis].
         */
        fun awaitNext(seen: Int, timeoutMillis: Long = 10_000): Request {
            val deadline = System.currentTimeMillis() + timeoutMillis
            while (requests.size <= seen) {
                check(System.currentTimeMillis() < deadline) { "no BiometricPrompt was shown" }
                shadowOf(Looper.getMainLooper()).idle()
                Thread.sleep(5)
            }
            return requests[seen]
        }

        /**
         * Plays the user for a background job: runs the main looper until [done], answering every
         * prompt shown meanwhile with [answer]. Returns how many prompts were shown.
         */
        fun answerUntil(done: () -> Boolean, answer: (Request) -> Unit): Int {
            val first = requests.size
            var handled = first
            idleUntil({
                while (requests.size > handled) answer(requests[handled++])
                done()
            })
            return handled - first
        }

        /** Runs the main looper until [done]. */
        fun idleUntil(done: () -> Boolean, timeoutMillis: Long = 10_000) {
            val deadline = System.currentTimeMillis() + timeoutMillis
            while (!done()) {
                check(System.currentTimeMillis() < deadline) { "timed out" }
                shadowOf(Looper.getMainLooper()).idle()
                Thread.sleep(5)
            }
        }
    }
}
