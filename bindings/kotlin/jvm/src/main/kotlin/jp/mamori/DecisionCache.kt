package jp.mamori

import jp.mamori.ffi.PinCheck
import jp.mamori.ffi.PinDecision
import jp.mamori.ffi.PinOutcome
import java.security.cert.X509Certificate
import java.util.concurrent.ConcurrentHashMap

/**
 * The engine's allows, remembered per host and chain, so that a repeated handshake with the same
 * server does not cross the FFI again (issue 17: one JNA call with its records costs more than
 * the whole pin check of OkHttp's `CertificatePinner`).
 *
 * Only the answer Rust gave is stored; the rules stay in Rust. An entry is the decision of one
 * [MamoriTrustManager] (one engine, so one policy and one [jp.mamori.ffi.ChainValidation] mode:
 * a policy change is a new engine, hence a new trust manager and an empty cache) for an exact
 * host string and exact certificates (`Certificate.equals`: the same encoded bytes). It is
 * served only while nothing it depends on can have changed:
 * - from the time it was decided (a clock set back misses) until the earliest `notAfter` of the
 *   certificates checked (Mamori's own validation would refuse an expired one);
 * - until the time the engine says its policy may decide otherwise
 *   ([PinCheck.policyChangesAt]: the rule's pin-set expiry, the end of a signed update's
 *   report-only downgrade).
 *
 * Only allows without a failure report are kept: a block or a report-only decision is asked of
 * the engine every time, so its report (with the validated chain) and its deduplication stay the
 * engine's. Bounded: cleared when full, like the core's memo of names and pins.
 */
internal class DecisionCache(private val capacity: Int = 128) {
    private data class Key(val host: String, val chain: List<X509Certificate>)

    private class Entry(val decision: PinDecision, val fromMillis: Long, val untilMillis: Long)

    private val entries = ConcurrentHashMap<Key, Entry>()

    /** The decision remembered for [host] and [chain] if it still holds at [nowMillis]. */
    fun get(host: String, chain: List<X509Certificate>, nowMillis: Long): PinDecision? {
        val entry = entries[Key(host, chain)] ?: return null
        return entry.decision.takeIf { nowMillis >= entry.fromMillis && nowMillis < entry.untilMillis }
    }

    /**
     * Remembers [check] for [host] and [chain] when it is an allow without a report. [checked]
     * are every certificate the decision looked at (the chain given to the engine), whose
     * earliest `notAfter` ends the entry.
     */
    fun put(host: String, chain: List<X509Certificate>, checked: List<X509Certificate>, check: PinCheck) {
        val decision = check.decision
        if (decision.outcome != PinOutcome.ALLOW || decision.report != null) return
        var until = check.policyChangesAt?.let { seconds(it) } ?: Long.MAX_VALUE
        for (certificate in checked) until = minOf(until, certificate.notAfter.time)
        val from = seconds(check.checkedAt)
        if (until <= from) return
        if (entries.size >= capacity) entries.clear()
        entries[Key(host, chain.toList())] = Entry(decision, from, until)
    }

    private fun seconds(unix: ULong): Long =
        if (unix > (Long.MAX_VALUE / 1000).toULong()) Long.MAX_VALUE else unix.toLong() * 1000
}
