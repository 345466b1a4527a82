package jp.mamori

import jp.mamori.ffi.ChainError
import jp.mamori.ffi.ChainValidation
import jp.mamori.ffi.PinFailure
import jp.mamori.ffi.PinFailureReport
import jp.mamori.ffi.PinOutcome
import jp.mamori.ffi.PinningEngine
import okhttp3.tls.HandshakeCertificates
import okhttp3.tls.HeldCertificate
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotSame
import org.junit.jupiter.api.Assertions.assertSame
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.EnumSource
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.security.cert.X509Certificate
import java.time.Clock
import java.time.Instant
import java.time.LocalDate
import java.time.ZoneOffset
import java.time.temporal.ChronoUnit
import java.util.Collections

/**
 * [MamoriTrustManager] reuses the engine's allow for the same host and certificates
 * ([DecisionCache]) and asks the engine again whenever the answer could differ: another chain,
 * a time past a certificate's `notAfter` or the rule's pin-set expiry, a clock set back, a
 * decision with a report. A reused decision is the very object the engine returned (an FFI
 * call returns a new one each time), which is how these tests see the reuse.
 */
class DecisionCacheTest {
    /** Root -> intermediate -> leaf, valid from 2 days ago to 3 days ahead (the tests move a clock inside that). */
    private class Pki(name: String) {
        val notBefore: Instant = Instant.now().minus(2, ChronoUnit.DAYS).truncatedTo(ChronoUnit.SECONDS)
        val notAfter: Instant = Instant.now().plus(3, ChronoUnit.DAYS).truncatedTo(ChronoUnit.SECONDS)
        private fun HeldCertificate.Builder.valid() =
            validityInterval(notBefore.toEpochMilli(), notAfter.toEpochMilli())
        val root: HeldCertificate = HeldCertificate.Builder().valid().certificateAuthority(1).commonName("$name Root").build()
        val intermediate: HeldCertificate =
            HeldCertificate.Builder().valid().certificateAuthority(0).commonName("$name Intermediate").signedBy(root).build()
        val otherIntermediate: HeldCertificate =
            HeldCertificate.Builder().valid().certificateAuthority(0).commonName("$name Other").signedBy(root).build()

        fun leaf(issuer: HeldCertificate, notAfter: Instant = this.notAfter): HeldCertificate = HeldCertificate.Builder()
            .validityInterval(notBefore.toEpochMilli(), notAfter.toEpochMilli())
            .commonName(PINNED_HOST)
            .addSubjectAlternativeName(PINNED_HOST)
            .addSubjectAlternativeName(UNPINNED_HOST)
            .signedBy(issuer)
            .build()

        val platform = HandshakeCertificates.Builder().addTrustedCertificate(root.certificate).build().trustManager
        val spare: HeldCertificate = HeldCertificate.Builder().build()

        fun policy(rule: String): String = buildString {
            append("[trust]\nmozilla_roots = false\nanchors_pem = \"\"\"\n").append(root.certificatePem()).append("\"\"\"\n")
            append(rule.trimIndent())
        }
    }

    private val pki = Pki("Cache")

    /** A clock the test moves. */
    private class MovableClock(var now: Instant) : Clock() {
        override fun getZone(): ZoneOffset = ZoneOffset.UTC
        override fun withZone(zone: java.time.ZoneId?): Clock = this
        override fun instant(): Instant = now
    }

    private val clock = MovableClock(Instant.now())

    private fun trustManager(policy: String, mode: ChainValidation, reports: MutableList<PinFailureReport>? = null) =
        MamoriTrustManager.Builder()
            .policy(PinningEngine.fromToml(policy))
            .platformTrustManager(pki.platform)
            .chainValidation(mode)
            .clock(clock)
            .apply { reports?.let { list -> reportListener { list += it } } }
            .build()

    private fun chain(vararg certificates: HeldCertificate): Array<X509Certificate> =
        certificates.map { it.certificate }.toTypedArray()

    private fun MamoriTrustManager.check(chain: Array<X509Certificate>) =
        checkServerTrusted(chain, "ECDHE_ECDSA", PINNED_HOST, 443)

    @ParameterizedTest
    @EnumSource(ChainValidation::class)
    fun `a repeated chain is answered from the first decision, another chain is asked again`(mode: ChainValidation) {
        val tm = trustManager(pki.policy(rule(PINNED_HOST, pin(pki.intermediate), pin(pki.spare))), mode)
        val leaf = pki.leaf(pki.intermediate)
        val first = tm.check(chain(leaf, pki.intermediate))
        assertTrue(first.pinMatched)
        assertSame(first, tm.check(chain(leaf, pki.intermediate)), "the same chain: the engine's allow is reused")
        // The same certificates parsed again (new objects, same bytes) are the same chain.
        val reparsed = chain(leaf, pki.intermediate).map { certificateFactory.reparse(it) }.toTypedArray()
        assertSame(first, tm.check(reparsed))

        // A chain through an intermediate the rule does not pin, from the same root: blocked.
        val other = pki.leaf(pki.otherIntermediate)
        val blocked = assertThrows<PinningFailureException> { tm.check(chain(other, pki.otherIntermediate)) }
        assertEquals(PinFailure.PinMismatch(PINNED_HOST), blocked.decision.failure)
        // And the other host of the same chain is its own question.
        val unpinned = tm.checkServerTrusted(chain(leaf, pki.intermediate), "ECDHE_ECDSA", UNPINNED_HOST, 443)
        assertNotSame(first, unpinned)
    }

    @Test
    fun `an allow is not reused past the chain's notAfter`() {
        // Mamori's own validation (MAMORI) checks the validity time at the trust manager's clock.
        val tm = trustManager(pki.policy(rule(PINNED_HOST, pin(pki.intermediate), pin(pki.spare))), ChainValidation.MAMORI)
        val leafEnd = Instant.now().plus(1, ChronoUnit.DAYS).truncatedTo(ChronoUnit.SECONDS)
        val leaf = pki.leaf(pki.intermediate, notAfter = leafEnd)
        clock.now = leafEnd.minusSeconds(10)
        val allowed = tm.check(chain(leaf, pki.intermediate))
        assertEquals(PinOutcome.ALLOW, allowed.outcome)
        clock.now = leafEnd.minusSeconds(1)
        assertSame(allowed, tm.check(chain(leaf, pki.intermediate)))
        clock.now = leafEnd.plusSeconds(1)
        val expired = assertThrows<PinningFailureException> { tm.check(chain(leaf, pki.intermediate)) }
        assertEquals(PinFailure.Chain(ChainError.Expired), expired.decision.failure)
    }

    @ParameterizedTest
    @EnumSource(ChainValidation::class)
    fun `an allow is not reused past the rule's pin-set expiry`(mode: ChainValidation) {
        val expires = LocalDate.ofInstant(Instant.now().plus(2, ChronoUnit.DAYS), ZoneOffset.UTC)
        val midnight = expires.atStartOfDay().toInstant(ZoneOffset.UTC)
        val tm = trustManager(
            pki.policy(
                """
                [[domain]]
                host = "$PINNED_HOST"
                pins = ["${pin(pki.intermediate)}", "${pin(pki.spare)}"]
                expires = "$expires"
                """,
            ),
            mode,
        )
        val leaf = pki.leaf(pki.intermediate)
        clock.now = midnight.minusSeconds(30)
        val before = tm.check(chain(leaf, pki.intermediate))
        assertFalse(before.pinSetExpired)
        clock.now = midnight.minusSeconds(1)
        assertSame(before, tm.check(chain(leaf, pki.intermediate)))
        clock.now = midnight.plusSeconds(1)
        val after = tm.check(chain(leaf, pki.intermediate))
        assertTrue(after.pinSetExpired, "the engine was asked again at the expiry: ${after.reason}")
    }

    @Test
    fun `a clock set back asks the engine again`() {
        val tm = trustManager(pki.policy(rule(PINNED_HOST, pin(pki.intermediate), pin(pki.spare))), ChainValidation.MAMORI)
        val leaf = pki.leaf(pki.intermediate)
        val first = tm.check(chain(leaf, pki.intermediate))
        clock.now = clock.now.minusSeconds(3600)
        assertNotSame(first, tm.check(chain(leaf, pki.intermediate)))
    }

    @Test
    fun `report-only decisions are asked of the engine every time, reported once`() {
        val reports: MutableList<PinFailureReport> = Collections.synchronizedList(mutableListOf())
        val tm = trustManager(pki.policy(rule(PINNED_HOST, pin(pki.spare), reportOnly = true)), ChainValidation.MAMORI, reports)
        val leaf = pki.leaf(pki.intermediate)
        val first = tm.check(chain(leaf, pki.intermediate))
        val second = tm.check(chain(leaf, pki.intermediate))
        assertEquals(PinOutcome.REPORT, second.outcome)
        assertNotSame(first, second)
        // Each carries its report with the validated chain; the listener got one (deduplicated).
        assertEquals(3, second.report!!.validatedCertificateChain.size)
        assertEquals(1, reports.size)
    }

    @Test
    fun `a trust manager for a new policy decides afresh`() {
        val leaf = pki.leaf(pki.intermediate)
        val pinned = trustManager(pki.policy(rule(PINNED_HOST, pin(pki.intermediate), pin(pki.spare))), ChainValidation.PLATFORM)
        assertTrue(pinned.check(chain(leaf, pki.intermediate)).pinMatched)
        val changed = trustManager(pki.policy(rule(PINNED_HOST, pin(pki.spare), pin(pki.otherIntermediate))), ChainValidation.PLATFORM)
        assertThrows<PinningFailureException> { changed.check(chain(leaf, pki.intermediate)) }
    }

    private val certificateFactory = java.security.cert.CertificateFactory.getInstance("X.509")

    private fun java.security.cert.CertificateFactory.reparse(c: X509Certificate): X509Certificate =
        generateCertificate(c.encoded.inputStream()) as X509Certificate
}
