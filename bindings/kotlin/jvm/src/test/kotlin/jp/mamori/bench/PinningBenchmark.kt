package jp.mamori.bench

import jp.mamori.MamoriTrustManager
import jp.mamori.PINNED_HOST
import jp.mamori.LoopbackDns
import jp.mamori.TestPki
import jp.mamori.ffi.ChainValidation
import jp.mamori.ffi.PinningEngine
import jp.mamori.pin
import jp.mamori.rule
import okhttp3.ConnectionPool
import okhttp3.OkHttpClient
import okhttp3.Request
import okhttp3.CertificatePinner
import okhttp3.internal.tls.OkHostnameVerifier
import java.io.IOException
import java.net.InetAddress
import java.net.Socket
import javax.net.ssl.SSLServerSocket
import kotlin.concurrent.thread
import java.security.cert.X509Certificate
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicLong
import javax.net.ssl.SSLContext
import javax.net.ssl.SSLEngine
import javax.net.ssl.X509ExtendedTrustManager
import javax.net.ssl.X509TrustManager

/**
 * JVM cost of Mamori pinning: one `checkServerTrusted` through [MamoriTrustManager], and its
 * share of a loopback HTTPS request on a fresh connection (full TLS handshake).
 *
 * Not a test (nothing asserts timings): a warmed-up measurement loop, run with
 * `cargo xtask kotlin-bench` (release cdylib). JMH would need annotation processing of Kotlin
 * (kapt) in the Maven build; a warmed-up loop with the median of several rounds is enough for
 * figures at the microsecond scale.
 */
fun main() {
    val sections = (System.getProperty("mamori.bench") ?: "trust,storage,loopback").split(',').map { it.trim() }.toSet()
    println("Mamori JVM benchmark (${System.getProperty("java.vm.name")} ${System.getProperty("java.version")}); sections: $sections")
    if ("trust" in sections) trustEvaluationBenchmark()
    if ("storage" in sections) storageBenchmark()
    if ("loopback" in sections) loopbackBenchmark()
    if ("init" in sections) initBenchmark()
    if ("profile" in sections) profileBenchmark()
}

/** Where the time of one check goes (P-256 and RSA-2048, repeated chain). */
private fun profileBenchmark() {
    for (rsa in listOf(false, true)) {
        val pki = BenchPki(rsa)
        val der = pki.chainDer()
        val tm = pki.platformTrustManager
        val chain = TrustBench.parse(der)
        val engine = PinningEngine.fromToml(pki.policyToml())
        val builder = jp.mamori.VerifiedPathBuilder(tm)
        val path = builder.build(chain)
        val pathDer = path.map { it.encoded }
        println("profile ${if (rsa) "RSA" else "P-256"}")
        perOp("parse") { TrustBench.parse(der) }
        perOp("platform check") { tm.checkServerTrusted(chain, pki.authType) }
        perOp("path builder") { builder.build(chain) }
        perOp("encoded") { path.map { it.encoded } }
        perOp("ffi isPinned") { engine.isPinned(PINNED_HOST) }
        perOp("ffi anchorCertificates") { engine.trustsPublicRoots() }
        perOp("ffi verifyWith PLATFORM") { engine.verifyWith(PINNED_HOST, 443u, pathDer, ChainValidation.PLATFORM, null) }
        perOp("ffi verifyWith MAMORI") { engine.verifyWith(PINNED_HOST, 443u, der, ChainValidation.MAMORI, null) }
        perOp("ffi check PLATFORM") { engine.check(PINNED_HOST, 443u, pathDer, ChainValidation.PLATFORM, null) }
    }
}

/**
 * Per-handshake trust evaluation, the chain parsed from DER on every call (as a TLS stack does):
 * the platform trust manager alone, platform + OkHttp (OkHostnameVerifier and the client's
 * `CertificatePinner` with the chain cleaner OkHttp installs), platform + Mamori in each mode.
 * For a repeated chain and a first-seen one (a leaf never seen before on every call: no
 * certificate, signature, path or decision cache can help), P-256 and RSA-2048. All contenders
 * of a case run in the same rounds ([TrustBench.paired]); ratios are per-round pairs.
 */
private fun trustEvaluationBenchmark() {
    println("\n== Trust evaluation per handshake (chain parsed from DER on each call; certificates: ${TrustBench.certificateProvider}) ==")
    val ratios = mutableListOf<String>()
    for (rsa in listOf(false, true)) {
        val pki = BenchPki(rsa)
        val c = jvmContenders(pki)
        for ((case, chains, warmupOps) in listOf(Triple("repeated chain", pki.repeated(), 10_000), Triple("first-seen chain", pki.firstSeen(), 2_000))) {
            val result = TrustBench.paired("${pki.label}, $case", c, chains, warmupOps = warmupOps)
            ratios += "%s, %s: Mamori MAMORI / (platform + OkHttp) = %s; Mamori PLATFORM / (platform + OkHttp) = %s; (platform + OkHttp) / platform = %s".format(
                pki.label, case,
                TrustBench.ratioLine(result, MAMORI, OKHTTP),
                TrustBench.ratioLine(result, MAMORI_PLATFORM, OKHTTP),
                TrustBench.ratioLine(result, OKHTTP, PLATFORM),
            )
        }
    }
    println("ratios (median of per-round ratios, same rounds):")
    ratios.forEach { println("  $it") }
}

private const val PLATFORM = "platform X509TrustManager"
private const val OKHTTP = "platform + OkHttp CertificatePinner"
private const val MAMORI = "platform + Mamori, ChainValidation.MAMORI"
private const val MAMORI_PLATFORM = "platform + Mamori, ChainValidation.PLATFORM"

/** The four ways to evaluate one chain on the JVM, each as a client would configure it. */
private fun jvmContenders(pki: BenchPki): List<TrustBench.Contender> {
    val tm = pki.platformTrustManager
    val okHttpPinner: CertificatePinner = OkHttpClient.Builder()
        .sslSocketFactory(SSLContext.getInstance("TLS").apply { init(null, arrayOf(tm), null) }.socketFactory, tm)
        .certificatePinner(CertificatePinner.Builder().add(PINNED_HOST, *pki.pins.toTypedArray()).build())
        .build()
        .certificatePinner // carries the chain cleaner for tm
    val engine = PinningEngine.fromToml(pki.policyToml())
    val mamoriTm = MamoriTrustManager.Builder().policy(engine).platformTrustManager(tm).build()
    val mamoriPlatformTm = MamoriTrustManager.Builder().policy(engine).platformTrustManager(tm)
        .chainValidation(ChainValidation.PLATFORM)
        .build()
    return listOf(
        TrustBench.Contender(PLATFORM) { tm.checkServerTrusted(TrustBench.parse(it), pki.authType) },
        TrustBench.Contender(OKHTTP) {
            val chain = TrustBench.parse(it)
            tm.checkServerTrusted(chain, pki.authType)
            check(OkHostnameVerifier.verify(PINNED_HOST, chain[0]))
            okHttpPinner.check(PINNED_HOST, chain.asList()) // throws on a mismatch
        },
        TrustBench.Contender(MAMORI) {
            check(mamoriTm.checkServerTrusted(TrustBench.parse(it), pki.authType, PINNED_HOST, 443).pinMatched)
        },
        TrustBench.Contender(MAMORI_PLATFORM) {
            check(mamoriPlatformTm.checkServerTrusted(TrustBench.parse(it), pki.authType, PINNED_HOST, 443).pinMatched)
        },
    )
}

/** The share of Mamori's check in a loopback HTTPS request on a fresh connection (full handshake). */
private fun loopbackBenchmark() {
    println("\n== Loopback HTTPS requests, full handshake each ==")
    val pki = TestPki("Bench")
    val policy = pki.policy(rule(PINNED_HOST, pin(pki.intermediate), pin(pki.spare1)))
    val engine = PinningEngine.fromToml(policy)
    val mamori = MamoriTrustManager.Builder().policy(engine).platformTrustManager(pki.platformTrustManager).build()
    val chain = pki.presentedChain
    val authType = "ECDHE_ECDSA"
    val platformOnly = perOp("platform X509TrustManager.checkServerTrusted") {
        pki.platformTrustManager.checkServerTrusted(chain, authType)
    }
    val full = perOp("MamoriTrustManager.checkServerTrusted (platform + Mamori)") {
        mamori.checkServerTrusted(chain, authType, PINNED_HOST, 443)
    }
    LoopbackHttpsServer(pki).use { server ->
        val plainCounting = CountingTrustManager(pki.platformTrustManager as X509ExtendedTrustManager)
        val plain = PinnedClient(plainCounting, plainCounting)
        val pinnedCounting = CountingTrustManager(pki.platformTrustManager as X509ExtendedTrustManager)
        val pinnedTm = MamoriTrustManager.Builder().policy(engine).platformTrustManager(pinnedCounting).build()
        val pinned = PinnedClient(pinnedTm, pinnedTm)
        val request = Request.Builder().url("https://$PINNED_HOST:${server.port}/").build()

        val plainUs = perOp("loopback HTTPS GET, full handshake, platform trust only", warmup = 500, ops = 500, rounds = 5) {
            plain.get(request)
        }
        val pinnedUs = perOp("loopback HTTPS GET, full handshake, pinned with Mamori", warmup = 500, ops = 500, rounds = 5) {
            pinned.get(request)
        }
        println(
            "  server-trust checks per request: platform %.2f, pinned %.2f (1.00 = a full handshake each time)".format(
                plainCounting.calls.get().toDouble() / plain.requests,
                pinnedCounting.calls.get().toDouble() / pinned.requests,
            ),
        )
        val added = full - platformOnly
        println(
            "  => Mamori's check: %.1f µs = %.1f%% of a pinned loopback request (%.1f µs); measured difference of the two clients: %.1f µs"
                .format(added, 100 * added / pinnedUs, pinnedUs, pinnedUs - plainUs),
        )
    }
}

/**
 * An OkHttp client that never reuses a connection or a TLS session, so every request pays a
 * full handshake (and one server-trust check).
 */
private class PinnedClient(trustManager: X509TrustManager, tmForContext: X509TrustManager) {
    private val context = SSLContext.getInstance("TLS").apply { init(null, arrayOf(tmForContext), null) }
    private val client = OkHttpClient.Builder()
        .dns(LoopbackDns)
        .connectionPool(ConnectionPool(0, 1, TimeUnit.MILLISECONDS))
        .sslSocketFactory(context.socketFactory, trustManager)
        .build()
    var requests = 0L
        private set

    fun get(request: Request) {
        client.newCall(request).execute().use { response -> check(response.body.string() == "ok") }
        requests++
        // Forget the TLS session: the next request must not resume it (resumption skips the check).
        val sessions = context.clientSessionContext
        for (id in sessions.ids.toList()) sessions.getSession(id)?.invalidate()
    }
}

/**
 * A minimal HTTPS/1.1 server on loopback: one response per connection, written in one go with
 * TCP_NODELAY (MockWebServer's separate header/body writes meet delayed ACKs and cost ~40 ms
 * per request on loopback, which would drown the figure being measured).
 */
private class LoopbackHttpsServer(pki: TestPki) : AutoCloseable {
    private val serverSocket: SSLServerSocket =
        pki.serverCertificates.sslContext().serverSocketFactory
            .createServerSocket(0, 50, InetAddress.getByName("127.0.0.1")) as SSLServerSocket
    val port: Int get() = serverSocket.localPort
    private val response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".toByteArray()
    private val thread = thread(isDaemon = true, name = "bench-https") {
        while (!serverSocket.isClosed) {
            val socket = try { serverSocket.accept() } catch (e: IOException) { break }
            try {
                socket.use {
                    it.tcpNoDelay = true
                    val input = it.getInputStream()
                    var last = 0
                    // Read the request head up to the blank line.
                    while (true) {
                        val b = input.read()
                        if (b < 0) break
                        last = (last shl 8) or b
                        if (last == 0x0d0a0d0a) break
                    }
                    it.getOutputStream().apply { write(response); flush() }
                }
            } catch (_: IOException) {
                // A client that went away; next.
            }
        }
    }

    override fun close() {
        serverSocket.close()
        thread.join(1000)
    }
}

/**
 * Median time per operation in microseconds over [rounds] rounds of [ops], after [warmup]. Both
 * counts are capped by time (about 2 s of warm-up, 0.4 s per round), so a slow operation on a
 * loaded machine does not stretch the run to many minutes.
 */
internal fun perOp(name: String, warmup: Int = 20_000, ops: Int = 20_000, rounds: Int = 7, op: () -> Unit): Double {
    val warmupEnd = System.nanoTime() + 2_000_000_000L
    var warmed = 0
    while (warmed < warmup && System.nanoTime() < warmupEnd) { op(); warmed++ }
    val perRound = run {
        val start = System.nanoTime()
        repeat(100) { op() }
        val opNs = (System.nanoTime() - start) / 100.0
        minOf(ops, maxOf(100, (400_000_000L / opNs).toInt()))
    }
    val samples = (1..rounds).map {
        val start = System.nanoTime()
        repeat(perRound) { op() }
        (System.nanoTime() - start) / 1000.0 / perRound
    }.sorted()
    val median = samples[samples.size / 2]
    println("  %-62s %9.1f µs/op  (rounds: %s)".format(name, median, samples.joinToString(" ") { "%.1f".format(it) }))
    return median
}

/** Forwards to [delegate], counting server-trust checks (to prove each request handshakes). */
private class CountingTrustManager(private val delegate: X509ExtendedTrustManager) : X509ExtendedTrustManager() {
    val calls = AtomicLong()

    override fun checkServerTrusted(chain: Array<X509Certificate>, authType: String, socket: Socket?) {
        calls.incrementAndGet(); delegate.checkServerTrusted(chain, authType, socket)
    }

    override fun checkServerTrusted(chain: Array<X509Certificate>, authType: String, engine: SSLEngine?) {
        calls.incrementAndGet(); delegate.checkServerTrusted(chain, authType, engine)
    }

    override fun checkServerTrusted(chain: Array<X509Certificate>, authType: String) {
        calls.incrementAndGet(); delegate.checkServerTrusted(chain, authType)
    }

    override fun checkClientTrusted(chain: Array<X509Certificate>, authType: String, socket: Socket?) =
        delegate.checkClientTrusted(chain, authType, socket)

    override fun checkClientTrusted(chain: Array<X509Certificate>, authType: String, engine: SSLEngine?) =
        delegate.checkClientTrusted(chain, authType, engine)

    override fun checkClientTrusted(chain: Array<X509Certificate>, authType: String) =
        delegate.checkClientTrusted(chain, authType)

    override fun getAcceptedIssuers(): Array<X509Certificate> = delegate.acceptedIssuers
}
