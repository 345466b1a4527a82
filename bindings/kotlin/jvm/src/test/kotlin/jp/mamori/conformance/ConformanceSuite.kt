package jp.mamori.conformance

import jp.mamori.MamoriTrustManager
import jp.mamori.PinningFailureException
import jp.mamori.ffi.ChainError
import jp.mamori.ffi.PinFailure
import org.json.JSONArray
import org.json.JSONObject
import java.io.ByteArrayInputStream
import java.io.File
import java.security.KeyStore
import java.security.cert.CertPathValidatorException
import java.security.cert.CertificateException
import java.security.cert.CertificateExpiredException
import java.security.cert.CertificateFactory
import java.security.cert.CertificateNotYetValidException
import java.security.cert.X509Certificate
import javax.net.ssl.TrustManagerFactory
import javax.net.ssl.X509TrustManager

/**
 * The pinning conformance suite (`tests/conformance/pinning/`, format in its README) as the JVM
 * runners see it. Shared with the Robolectric runner (android-test) through this module's
 * test-jar, hence public.
 */
public object ConformanceSuite {
    private val repoRoot: File =
        File(checkNotNull(System.getProperty("mamori.repo.root")) { "system property mamori.repo.root is not set" })

    /** Every case of `tests/conformance/pinning/cases.json`. */
    public val cases: List<ConformanceCase> by lazy {
        val doc = JSONObject(File(repoRoot, "tests/conformance/pinning/cases.json").readText())
        check(doc.getString("format") == "mamori-pinning-conformance/1") { "unknown suite format" }
        val array = doc.getJSONArray("cases")
        (0 until array.length()).map { ConformanceCase(array.getJSONObject(it)) }
    }

    /**
     * The case ids `docs/conformance.md` lists for [runner]: rows `| `runner` | `case` | ... |`
     * of the table under its `## Disagreements` heading.
     */
    public fun listedDisagreements(runner: String): Set<String> =
        File(repoRoot, "docs/conformance.md").readLines()
            .dropWhile { !it.startsWith("## Disagreements") }
            .map { line -> line.split('|').map { it.trim() } }
            .filter { it.size > 3 && it[1] == "`$runner`" }
            .map { it[2].trim('`') }
            .toSet()

    /**
     * Runs [decide] on every case [runner] can express ([expresses]) and fails unless the cases
     * where it differs from the expectation are exactly those `docs/conformance.md` lists for it.
     * A runner without a report outcome maps `report` to `allow` (see [Outcome.proceedsOnly]);
     * a runner without reason classes compares decisions only ([compareReason] false).
     */
    public fun assertConformance(
        runner: String,
        expresses: (ConformanceCase) -> Boolean = { true },
        compareReason: Boolean = true,
        decide: (ConformanceCase) -> Outcome,
    ): Int {
        val run = cases.filter(expresses)
        check(run.size >= 20) { "$runner runs only ${run.size} cases" }
        val differing = sortedSetOf<String>()
        val lines = mutableListOf<String>()
        for (case in run) {
            val got = try {
                decide(case)
            } catch (e: Exception) {
                throw AssertionError("$runner: case ${case.id} threw", e)
            }
            val expected = if (runner.startsWith("mamori")) case.expected else case.expected.proceedsOnly()
            val same = got.decision == expected.decision && (!compareReason || got.reason == expected.reason)
            if (!same) {
                differing += case.id
                lines += "  ${case.id}: expected ${expected.decision}/${expected.reason}, $runner said ${got.decision}/${got.reason}"
            }
        }
        val listed = listedDisagreements(runner)
        if (differing != listed) {
            throw AssertionError(
                "$runner: the disagreements ${differing} differ from docs/conformance.md's $listed\n" +
                    lines.joinToString("\n"),
            )
        }
        return run.size
    }

    /** A platform trust manager (the JDK's PKIX, or Conscrypt under Robolectric) trusting exactly [anchors]. */
    public fun platformTrustManager(anchors: List<X509Certificate>): X509TrustManager {
        val store = KeyStore.getInstance(KeyStore.getDefaultType()).apply { load(null, null) }
        anchors.forEachIndexed { i, cert -> store.setCertificateEntry("anchor$i", cert) }
        val factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm())
        factory.init(store)
        return factory.trustManagers.filterIsInstance<X509TrustManager>().first()
    }

    /** The reason class of a platform refusal: expired (or not yet valid) certificate, else untrusted chain. */
    public fun platformRefusal(e: CertificateException): Outcome {
        val causes = generateSequence(e as Throwable) { it.cause }.toList()
        val expired = causes.any {
            it is CertificateExpiredException || it is CertificateNotYetValidException ||
                (it is CertPathValidatorException && it.reason == CertPathValidatorException.BasicReason.EXPIRED) ||
                (it is CertPathValidatorException && it.reason == CertPathValidatorException.BasicReason.NOT_YET_VALID)
        }
        return Outcome("block", if (expired) "expired-certificate" else "untrusted-chain")
    }

    /**
     * What [trustManager] (platform first, then Mamori) decides on [case]: a Mamori decision, or
     * the platform's refusal.
     */
    public fun mamoriOutcome(trustManager: MamoriTrustManager, case: ConformanceCase): Outcome {
        val chain = case.chain.toTypedArray()
        return try {
            val decision = trustManager.checkServerTrusted(chain, authType(chain[0]), case.host, 443)
            Outcome(decision.outcome.name.lowercase(), reasonOf(decision.failure))
        } catch (e: PinningFailureException) {
            Outcome("block", reasonOf(e.decision.failure))
        } catch (e: CertificateException) {
            platformRefusal(e)
        }
    }

    /** The reason class of a Mamori failure. */
    public fun reasonOf(failure: PinFailure?): String = when (failure) {
        null -> "ok"
        is PinFailure.PinMismatch -> "pin-mismatch"
        is PinFailure.Name -> "name-mismatch"
        is PinFailure.Chain -> when (failure.v1) {
            is ChainError.Expired, is ChainError.NotYetValid -> "expired-certificate"
            else -> "untrusted-chain"
        }
        else -> failure.toString()
    }

    /** The `authType` a TLS stack passes for a leaf (ECDHE key exchange, signature by the leaf's key). */
    public fun authType(leaf: X509Certificate): String =
        if (leaf.publicKey.algorithm == "RSA") "ECDHE_RSA" else "ECDHE_ECDSA"
}

/** A decision and its reason class, in the suite's vocabulary. */
public data class Outcome(val decision: String, val reason: String) {
    /** This outcome for a runner that has no report: `report` proceeds, so it is `allow`. */
    public fun proceedsOnly(): Outcome = if (decision == "report") Outcome("allow", "ok") else this
}

/** One domain rule of a case's policy. */
public data class DomainSpec(
    val host: String,
    val includeSubdomains: Boolean,
    val pins: List<String>,
    val expires: String?,
    val onExpiry: String?,
    val reportOnly: Boolean,
)

/** One case. */
public class ConformanceCase internal constructor(private val json: JSONObject) {
    public val id: String = json.getString("id")
    public val host: String = json.getString("host")
    public val chain: List<X509Certificate> = certificates(json.getJSONArray("chain"))
    public val anchors: List<X509Certificate> = certificates(json.getJSONArray("anchors"))
    public val expected: Outcome = json.getJSONObject("expected").let { Outcome(it.getString("decision"), it.getString("reason")) }
    public val expressibleBy: Set<String> = json.getJSONArray("expressible_by").let { a -> (0 until a.length()).map { a.getString(it) }.toSet() }
    public val domains: List<DomainSpec> = json.getJSONObject("policy").getJSONArray("domains").let { a ->
        (0 until a.length()).map { i ->
            val d = a.getJSONObject(i)
            DomainSpec(
                host = d.getString("host"),
                includeSubdomains = d.optBoolean("include_subdomains", false),
                pins = d.getJSONArray("pins").let { p -> (0 until p.length()).map { p.getString(it) } },
                expires = d.optString("expires").ifEmpty { null },
                onExpiry = d.optString("on_expiry").ifEmpty { null },
                reportOnly = d.optBoolean("report_only", false),
            )
        }
    }

    /** The case's policy as a Mamori JSON policy: only its anchors, its rules field for field. */
    public fun mamoriPolicyJson(): String = JSONObject()
        .put("trust", JSONObject().put("mozilla_roots", false).put("anchors_pem", pems(json.getJSONArray("anchors"))))
        .put("domain", json.getJSONObject("policy").getJSONArray("domains"))
        .toString()

    override fun toString(): String = id

    private companion object {
        val factory: CertificateFactory = CertificateFactory.getInstance("X.509")

        fun pems(array: JSONArray): String = (0 until array.length()).joinToString("") { array.getString(it) }

        fun certificates(array: JSONArray): List<X509Certificate> =
            (0 until array.length()).map {
                factory.generateCertificate(ByteArrayInputStream(array.getString(it).toByteArray())) as X509Certificate
            }
    }
}
