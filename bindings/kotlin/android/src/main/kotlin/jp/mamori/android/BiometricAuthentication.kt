package jp.mamori.android

import android.app.Activity
import android.hardware.biometrics.BiometricManager
import android.hardware.biometrics.BiometricPrompt
import android.os.Build
import android.os.CancellationSignal
import android.security.keystore.KeyProperties
import kotlinx.coroutines.suspendCancellableCoroutine

/** What the system authentication dialog says. Shown by the platform, never drawn by Mamori (APP-2). */
public data class PromptText @JvmOverloads constructor(
    val title: String = "Unlock",
    val subtitle: String? = null,
    /** The button that cancels a biometric-only prompt (unused when the device credential is allowed). */
    val negativeButton: String = "Cancel",
)

/**
 * The user did not authenticate: cancelled, too many attempts, no hardware, ... [errorCode] is
 * the `BiometricPrompt.BIOMETRIC_ERROR_*` code, or [UNSUPPORTED] below API 28.
 */
public class UserAuthenticationException(public val errorCode: Int, message: String) : Exception(message) {
    public companion object {
        /** No framework BiometricPrompt (API < 28), or the platform refused to show it. */
        public const val UNSUPPORTED: Int = -1

        /**
         * The user pressed the prompt's negative button ([PromptText.negativeButton]). The same
         * value as androidx.biometric's `ERROR_NEGATIVE_BUTTON` (the framework reports the
         * button only to its listener, with no public code).
         */
        public const val NEGATIVE_BUTTON: Int = 13
    }
}

/**
 * The framework `android.hardware.biometrics.BiometricPrompt` (API 28+; androidx.biometric is
 * deliberately not a dependency), as one suspend call. Biometrics are the platform's, never
 * home-made (APP-2, DEV-3).
 */
internal object BiometricAuthentication {
    /**
     * Shows the prompt on [activity] for [types] (`KeyProperties.AUTH_*`) and returns when the
     * user authenticated; [crypto] is the operation the authentication unlocks (per-use keys).
     * Cancelling the coroutine cancels the prompt.
     */
    suspend fun authenticate(
        activity: Activity,
        text: PromptText,
        types: Int,
        crypto: BiometricPrompt.CryptoObject?,
    ): BiometricPrompt.AuthenticationResult {
        if (Build.VERSION.SDK_INT < Build.VERSION_CODES.P) {
            throw UserAuthenticationException(UserAuthenticationException.UNSUPPORTED, "BiometricPrompt needs Android 9 (API 28)")
        }
        // Whether the prompt itself offers the PIN/pattern/password: API 30+ always; API 29 only
        // without a CryptoObject (setDeviceCredentialAllowed refuses one); API 28 never (no such
        // option). Otherwise the prompt is biometric-only and needs its negative button. Before
        // API 30 a key has no authentication types: a time-bound key accepts either kind, a
        // per-use key only biometrics (the platform's rule), so a biometric prompt opens both.
        val credentialInPrompt = types and KeyProperties.AUTH_DEVICE_CREDENTIAL != 0 && when {
            Build.VERSION.SDK_INT >= Build.VERSION_CODES.R -> true
            Build.VERSION.SDK_INT >= Build.VERSION_CODES.Q -> crypto == null
            else -> false
        }
        val builder = BiometricPrompt.Builder(activity).setTitle(text.title)
        text.subtitle?.let { builder.setSubtitle(it) }
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) {
            var authenticators = 0
            if (types and KeyProperties.AUTH_BIOMETRIC_STRONG != 0) authenticators = authenticators or BiometricManager.Authenticators.BIOMETRIC_STRONG
            if (credentialInPrompt) authenticators = authenticators or BiometricManager.Authenticators.DEVICE_CREDENTIAL
            builder.setAllowedAuthenticators(authenticators)
        } else if (credentialInPrompt) {
            @Suppress("DEPRECATION")
            builder.setDeviceCredentialAllowed(true)
        }
        val executor = activity.mainExecutor
        return suspendCancellableCoroutine { continuation ->
            // Every path resumes at most once: the platform may still deliver a callback after
            // the prompt was cancelled or answered.
            fun finish(outcome: Result<BiometricPrompt.AuthenticationResult>) {
                if (continuation.isActive) continuation.resumeWith(outcome)
            }
            // The framework prompt (unlike androidx.biometric) reports its negative button only
            // to this listener, never as onAuthenticationError: without it the call would never end.
            if (!credentialInPrompt) {
                builder.setNegativeButton(text.negativeButton, executor) { _, _ ->
                    finish(Result.failure(UserAuthenticationException(UserAuthenticationException.NEGATIVE_BUTTON, "the user pressed ${text.negativeButton}")))
                }
            }
            val cancel = CancellationSignal()
            continuation.invokeOnCancellation { cancel.cancel() }
            val callback = object : BiometricPrompt.AuthenticationCallback() {
                override fun onAuthenticationSucceeded(result: BiometricPrompt.AuthenticationResult) {
                    finish(Result.success(result))
                }

                override fun onAuthenticationError(errorCode: Int, errString: CharSequence) {
                    finish(Result.failure(UserAuthenticationException(errorCode, errString.toString())))
                }
                // onAuthenticationFailed (one rejected finger) is not final: the prompt stays up.
            }
            executor.execute {
                // A refusal by the platform (e.g. an IllegalArgumentException for an
                // authenticator combination this device does not offer) ends the call; thrown on
                // the main looper it would crash the app and leave the caller waiting.
                try {
                    val prompt = builder.build()
                    if (crypto == null) {
                        prompt.authenticate(cancel, executor, callback)
                    } else {
                        prompt.authenticate(crypto, cancel, executor, callback)
                    }
                } catch (e: RuntimeException) {
                    finish(Result.failure(UserAuthenticationException(UserAuthenticationException.UNSUPPORTED, "BiometricPrompt refused: ${e.javaClass.simpleName}")))
                }
            }
        }
    }
}
