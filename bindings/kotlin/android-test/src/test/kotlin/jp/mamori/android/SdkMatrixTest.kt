package jp.mamori.android

import android.os.Build
import org.junit.Assert.assertEquals
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.annotation.Config

/**
 * The SDK matrix is real: each surefire execution (pom.xml, one JVM per level, named by the
 * system property `robolectric.enabledSdks`) runs the `@Config(sdk = [26, 28, 34])` tests in a
 * sandbox of that level, not SDK 34's, whose jar is on every execution's classpath (JUnit and
 * Robolectric's shadows need the android types outside the sandbox). A sandbox reads its
 * framework from its own level's jar first, so `Build.VERSION.SDK_INT` is the level's.
 *
 * Not asserted: that a class added after the level (StrongBox, BiometricPrompt in API 28) is
 * absent. Robolectric resolves a class its level's jar lacks from the classpath, so such a
 * class loads on SDK 26 too; the code under test must branch on `SDK_INT`, as it does.
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [26, 28, 34], manifest = Config.NONE)
class SdkMatrixTest {
    @Test
    fun `the sandbox runs the execution's SDK level`() {
        val enabled = System.getProperty("robolectric.enabledSdks")
        val expected = requireNotNull(enabled?.toIntOrNull()) {
            "robolectric.enabledSdks must name one level (pom.xml surefire executions), was $enabled"
        }
        assertEquals("Build.VERSION.SDK_INT", expected, Build.VERSION.SDK_INT)
    }
}
