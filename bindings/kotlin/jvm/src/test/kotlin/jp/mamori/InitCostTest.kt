package jp.mamori

import jp.mamori.ffi.SecurityLevel
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/** SDK initialisation on the desktop JVM (figures in the README, "Android"). */
class InitCostTest {
    @Test
    fun `initialisation stays well under a second per step`() {
        val pki = TestPki()
        val kek = JvmAesGcmKek.generate()
        val figures = InitCost.measure(pki.policy(rule(PINNED_HOST, pin(pki.intermediate), pin(pki.spare1)))) { dir ->
            SecureStorage.builder(dir, kek).minSecurityLevel(SecurityLevel.SOFTWARE).build()
        }
        println("mamori-init (JVM): $figures")
        assertTrue(figures.allUnder(1_000.0), figures.toString())
    }
}
