package jp.mamori.android

import android.os.Build
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.annotation.Config

/**
 * The SDK matrix is real: each run of an `@Config(sdk = [26, 28, 34])` test sees the framework
 * of its own level, not SDK 34's, whose jar is also on surefire's classpath (JUnit needs the
 * android types to read the test classes). Classes added in API 28 (StrongBox, BiometricPrompt)
 * and API 34 (CredentialManager) must be absent below those levels; were the classpath's SDK 34
 * classes leaking into the sandbox, the SDK 26/28 runs of the KEK and device tests would test
 * SDK 34's code paths under another name.
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [26, 28, 34], manifest = Config.NONE)
class SdkMatrixTest {
    private fun present(name: String): Boolean = runCatching { Class.forName(name) }.isSuccess

    @Test
    fun `the framework classes are the running level's`() {
        val level = Build.VERSION.SDK_INT
        assertTrue("unexpected level $level", level in setOf(26, 28, 34))
        assertEquals("StrongBox (API 28) on $level", level >= 28, present("android.security.keystore.StrongBoxUnavailableException"))
        assertEquals("BiometricPrompt (API 28) on $level", level >= 28, present("android.hardware.biometrics.BiometricPrompt"))
        assertEquals("CredentialManager (API 34) on $level", level >= 34, present("android.credentials.CredentialManager"))
    }
}
