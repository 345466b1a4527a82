package jp.mamori.bench

import jp.mamori.PINNED_HOST
import jp.mamori.rule
import okhttp3.CertificatePinner
import okhttp3.tls.HandshakeCertificates
import okhttp3.tls.HeldCertificate
import java.io.ByteArrayInputStream
import java.security.KeyPair
import java.security.cert.CertificateFactory
import java.security.cert.X509Certificate
import javax.net.ssl.X509TrustManager

/**
 * The trust-evaluation benchmark's shared parts (issue 17), used by the desktop JVM run
 * ([PinningBenchmark], `cargo xtask kotlin-bench`) and the Robolectric one with Conscrypt
 * (bindings/kotlin/android-test, `cargo xtask kotlin-bench --android`) through the test-jar.
 *
 * Ratios must survive a loaded machine (2 cores shared by several builds): every contender runs
 * in **the same rounds**, one batch each, in an order that rotates from round to round, and a
 * ratio is the median over rounds of the two contenders' times *in that round*, so a change of
 * load between rounds moves both sides of each ratio alike.
 */
public object TrustBench {
    /** One way to evaluate a chain; [op] gets the chain as DER, leaf first, and parses it itself. */
    public class Contender(public val name: String, public val op: (List<ByteArray>) -> Unit)

    /** Per contender, its time per operation in each round (µs), rounds in order. */
    public class Result(public val contenders: List<Contender>, public val micros: List<DoubleArray>) {
        /** The median time per operation of [name]. */
        public fun median(name: String): Double = micros[index(name)].sorted().let { it[it.size / 2] }

        /** The median over rounds of `time(of) / time(over)` within each round. */
        public fun ratio(of: String, over: String): Double {
            val a = micros[index(of)]
            val b = micros[index(over)]
            return a.indices.map { a[it] / b[it] }.sorted().let { it[it.size / 2] }
        }

        /** The smallest and largest per-round ratio (how much the rounds agree). */
        public fun ratioRange(of: String, over: String): Pair<Double, Double> {
            val a = micros[index(of)]
            val b = micros[index(over)]
            val r = a.indices.map { a[it] / b[it] }
            return r.min() to r.max()
        }

        private fun index(name: String) = contenders.indexOfFirst { it.name == name }.also { require(it >= 0) { name } }
    }

    /**
     * Warms every contender up (interleaved), then runs [rounds] rounds; in each, every contender
     * evaluates one batch of the same number of chains from [chains] (called outside the timing:
     * the same chain every time for a repeated chain, new ones for a first-seen chain), the
     * contenders in an order rotated by one each round. The batch size aims at [batchMillis] for
     * the slowest contender. The warm-up runs at least [warmupMillis] and until every contender
     * ran [warmupOps] times (capped at a minute): on a loaded machine a time alone can end
     * before the JIT compiled anything, and the rounds would time the interpreter.
     */
    public fun paired(
        title: String,
        contenders: List<Contender>,
        chains: (Int) -> List<List<ByteArray>>,
        rounds: Int = 11,
        batchMillis: Long = 120,
        warmupMillis: Long = 2_000,
        warmupOps: Int = 10_000,
    ): Result {
        // Warm-up in slices, interleaved, so the JIT sees every contender before any is timed.
        val slowest = DoubleArray(contenders.size)
        val warmStart = System.nanoTime()
        val warmEnd = warmStart + warmupMillis * 1_000_000
        val warmCap = warmStart + 60_000_000_000L
        var warmed = 0
        while ((System.nanoTime() < warmEnd || warmed < warmupOps) && System.nanoTime() < warmCap) {
            warmed += 50
            for ((i, c) in contenders.withIndex()) {
                val input = chains(50)
                val start = System.nanoTime()
                for (der in input) c.op(der)
                slowest[i] = (System.nanoTime() - start) / 50.0
            }
        }
        val opNanos = slowest.max()
        val batch = (batchMillis * 1_000_000 / opNanos).toInt().coerceIn(20, 20_000)
        val micros = List(contenders.size) { DoubleArray(rounds) }
        for (round in 0 until rounds) {
            for (k in contenders.indices) {
                val i = (k + round) % contenders.size
                val input = chains(batch)
                val start = System.nanoTime()
                for (der in input) contenders[i].op(der)
                micros[i][round] = (System.nanoTime() - start) / 1000.0 / batch
            }
        }
        val result = Result(contenders, micros)
        println("  $title ($rounds paired rounds of $batch operations each)")
        for ((i, c) in contenders.withIndex()) {
            println(
                "    %-58s %9.1f µs/op  (rounds: %s)".format(
                    c.name, result.median(c.name), micros[i].joinToString(" ") { "%.1f".format(it) },
                ),
            )
        }
        return result
    }

    /** A ratio line: median of paired per-round ratios, with their range. */
    public fun ratioLine(result: Result, of: String, over: String): String {
        val (lo, hi) = result.ratioRange(of, over)
        return "%.2fx (rounds %.2f-%.2f)".format(result.ratio(of, over), lo, hi)
    }

    private val certificateFactory: CertificateFactory by lazy { CertificateFactory.getInstance("X.509") }

    /** The chain parsed from DER (as a TLS stack does on every handshake). */
    public fun parse(der: List<ByteArray>): Array<X509Certificate> =
        Array(der.size) { certificateFactory.generateCertificate(ByteArrayInputStream(der[it])) as X509Certificate }

    /** Where [parse]'s certificates come from (the JDK's or Conscrypt's factory). */
    public val certificateProvider: String get() = certificateFactory.provider.name
}

/** Root -> intermediate -> leaf with okhttp-tls, P-256 or RSA-2048 throughout. */
public class BenchPki(private val rsa: Boolean) {
    private fun HeldCertificate.Builder.key(): HeldCertificate.Builder = if (rsa) rsa2048() else ecdsa256()

    public val label: String = if (rsa) "RSA-2048" else "ECDSA P-256"
    public val root: HeldCertificate =
        HeldCertificate.Builder().key().certificateAuthority(1).commonName("Bench Root").build()
    public val intermediate: HeldCertificate =
        HeldCertificate.Builder().key().certificateAuthority(0).commonName("Bench Intermediate").signedBy(root).build()
    private val leafKey: KeyPair = HeldCertificate.Builder().key().build().keyPair
    private var serial = 1L
    private val intermediateDer: ByteArray = intermediate.certificate.encoded

    /** A leaf for [PINNED_HOST] with the same key and a new serial number: new DER every time. */
    @Synchronized
    public fun newLeaf(): HeldCertificate = HeldCertificate.Builder()
        .keyPair(leafKey)
        .serialNumber(serial++)
        .commonName(PINNED_HOST)
        .addSubjectAlternativeName(PINNED_HOST)
        .signedBy(intermediate)
        .build()

    /** A chain (leaf, intermediate) whose leaf was never seen before. */
    public fun chainDer(): List<ByteArray> = listOf(newLeaf().certificate.encoded, intermediateDer)

    /** [n] times the same chain: a repeated handshake with one server. */
    public fun repeated(): (Int) -> List<List<ByteArray>> {
        val der = chainDer()
        return { n -> List(n) { der } }
    }

    /** [n] chains never seen before, made outside the timing. */
    public fun firstSeen(): (Int) -> List<List<ByteArray>> = { n -> List(n) { chainDer() } }

    public val platformTrustManager: X509TrustManager =
        HandshakeCertificates.Builder().addTrustedCertificate(root.certificate).build().trustManager
    public val authType: String = if (rsa) "ECDHE_RSA" else "ECDHE_ECDSA"

    /** The pins: the intermediate's, and a backup that matches nothing. */
    public val pins: List<String> =
        listOf(CertificatePinner.pin(intermediate.certificate), CertificatePinner.pin(HeldCertificate.Builder().build().certificate))

    /** The Mamori policy: this PKI's root as the only anchor, [pins] for [PINNED_HOST]. */
    public fun policyToml(): String = buildString {
        append("[trust]\nmozilla_roots = false\nanchors_pem = \"\"\"\n").append(root.certificatePem()).append("\"\"\"\n")
        append(rule(PINNED_HOST, *pins.toTypedArray()))
    }
}
