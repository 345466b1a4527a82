package jp.mamori

import jp.mamori.ffi.PinOutcome
import jp.mamori.ffi.PinFailureReport
import jp.mamori.ffi.PinReportListener
import jp.mamori.ffi.PinningEngine
import jp.mamori.ffi.AppInfo
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Test
import java.util.concurrent.atomic.AtomicInteger

/** One engine shared by many threads, as an app shares it across its HTTP clients. */
class ConcurrencyTest {
    private val pki = TestPki()

    @Test
    fun `concurrent verifications agree and a repeated failure is reported once`() = runBlocking {
        val base = PinningEngine.fromToml(pki.policy(rule(PINNED_HOST, pin(pki.spare1), pin(pki.spare2))))
        val delivered = AtomicInteger()
        val engine = base.withReportListener(
            object : PinReportListener {
                override fun onReport(report: PinFailureReport) {
                    delivered.incrementAndGet()
                }
            },
            AppInfo(platform = "JVM"),
        )
        val chain = pki.presentedChain.map { it.encoded }
        val outcomes = (1..64).map { i ->
            async(Dispatchers.Default) {
                val host = if (i % 2 == 0) PINNED_HOST else UNPINNED_HOST
                host to engine.verify(host, 443u, chain).outcome
            }
        }.awaitAll()

        outcomes.forEach { (host, outcome) ->
            assertEquals(if (host == PINNED_HOST) PinOutcome.BLOCK else PinOutcome.ALLOW, outcome, host)
        }
        // 32 identical failures (same host, chain, result) within 24 h: one report (dedup).
        assertEquals(1, delivered.get())
    }

    @Test
    fun `each trust manager keeps its own report listener`() {
        val engine = PinningEngine.fromToml(pki.policy(rule(PINNED_HOST, pin(pki.spare1), pin(pki.spare2))))
        val first = mutableListOf<PinFailureReport>()
        val second = mutableListOf<PinFailureReport>()
        val tm1 = MamoriTrustManager.Builder().policy(engine).platformTrustManager(pki.platformTrustManager)
            .reportListener { synchronized(first) { first += it } }.build()
        val tm2 = MamoriTrustManager.Builder().policy(engine).platformTrustManager(pki.platformTrustManager)
            .reportListener { synchronized(second) { second += it } }.build()
        val chain = pki.presentedChain
        for (tm in listOf(tm1, tm2)) {
            assertThrows(PinningFailureException::class.java) {
                tm.checkServerTrusted(chain, "ECDHE_ECDSA", PINNED_HOST, 443)
            }
        }
        // Before, the second registration replaced the first on the shared engine: tm1's
        // failure went to the second listener and the first heard nothing.
        assertEquals(1, first.size, "tm1's failure reaches tm1's listener")
        assertEquals(1, second.size, "tm2's failure reaches tm2's listener, not deduplicated away by tm1's")
        // The shared engine itself has no listener: a direct verify reports to nobody.
        engine.verify(PINNED_HOST, 443u, chain.map { it.encoded })
        assertEquals(1, first.size)
        assertEquals(1, second.size)
    }
}
