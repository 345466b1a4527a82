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
import okhttp3.tls.HandshakeCertificates
import okhttp3.tls.HeldCertificate
import java.io.ByteArrayInputStream
import java.security.KeyPair
import java.security.cert.CertificateFactory
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
}

/**
 * Per-handshake trust evaluation, the chain parsed from DER on every call (as a TLS stack does):
 * the platform trust manager alone, platform + OkHttp (OkHostnameVerifier and the client's
 * `CertificatePinner` with the chain cleaner OkHttp installs), platform + Mamori. For a
 * repeated P-256 chain, a repeated RSA-2048 chain, and a first-seen P-256 chain (a leaf never
 * seen before on every call: no certificate, signature or path cache can help).
 */
private fun trustEvaluationBenchmark() {
    println("\n== Trust evaluation per handshake (chain parsed from DER on each call) ==")
    val ratios = mutableListOf<String>()
    for (rsa in listOf(false, true)) {
        val chainPki = BenchPki(rsa)
        val label = if (rsa) "RSA-2048" else "ECDSA P-256"
        println("chain: leaf + intermediate ($label), anchor = test root; pinned host $PINNED_HOST (pin: intermediate)")
        val der = chainPki.chainDer()
        val c = chainPki.contenders()
        val platform = perOp("$label platform X509TrustManager") { c.platform(parse(der)) }
        val okhttp = perOp("$label platform + OkHttp CertificatePinner") { c.okhttp(parse(der)) }
        val mamori = perOp("$label platform + Mamori, ChainValidation.MAMORI") { c.mamori(parse(der)) }
        val mamoriPlatform = perOp("$label platform + Mamori, ChainValidation.PLATFORM") { c.mamoriPlatform(parse(der)) }
        ratios += "%s repeated chain: Mamori MAMORI / (platform + OkHttp) = %.2fx, Mamori PLATFORM / (platform + OkHttp) = %.2fx; (platform + OkHttp) / platform = %.2fx".format(
            label, mamori / okhttp, mamoriPlatform / okhttp, okhttp / platform,
        )
    }
    val fresh = BenchPki(rsa = false)
    val c = fresh.contenders()
    println("first-seen chain: a new leaf (ECDSA P-256, same issuer) on every call")
    val platform = perOpFresh("first-seen platform X509TrustManager", fresh) { c.platform(it) }
    val okhttp = perOpFresh("first-seen platform + OkHttp CertificatePinner", fresh) { c.okhttp(it) }
    val mamori = perOpFresh("first-seen platform + Mamori, ChainValidation.MAMORI", fresh) { c.mamori(it) }
    val mamoriPlatform = perOpFresh("first-seen platform + Mamori, ChainValidation.PLATFORM", fresh) { c.mamoriPlatform(it) }
    ratios += "first-seen chain: Mamori MAMORI / (platform + OkHttp) = %.2fx, Mamori PLATFORM / (platform + OkHttp) = %.2fx; (platform + OkHttp) / platform = %.2fx".format(
        mamori / okhttp, mamoriPlatform / okhttp, okhttp / platform,
    )
    println("ratios:")
    ratios.forEach { println("  $it") }
}

private val certificateFactory: CertificateFactory = CertificateFactory.getInstance("X.509")

private fun parse(der: List<ByteArray>): Array<X509Certificate> =
    Array(der.size) { certificateFactory.generateCertificate(ByteArrayInputStream(der[it])) as X509Certificate }

/** Root -> intermediate -> leaf with okhttp-tls, P-256 or RSA-2048 throughout. */
private class BenchPki(private val rsa: Boolean) {
    private fun HeldCertificate.Builder.key(): HeldCertificate.Builder = if (rsa) rsa2048() else ecdsa256()
    val root: HeldCertificate = HeldCertificate.Builder().key().certificateAuthority(1).commonName("Bench Root").build()
    val intermediate: HeldCertificate =
        HeldCertificate.Builder().key().certificateAuthority(0).commonName("Bench Intermediate").signedBy(root).build()
    private val leafKey: KeyPair = HeldCertificate.Builder().key().build().keyPair
    private var serial = 1L

    /** A leaf for [PINNED_HOST] with the same key and a new serial number: new DER every time. */
    fun newLeaf(): HeldCertificate = HeldCertificate.Builder()
        .keyPair(leafKey)
        .serialNumber(serial++)
        .commonName(PINNED_HOST)
        .addSubjectAlternativeName(PINNED_HOST)
        .signedBy(intermediate)
        .build()

    fun chainDer(): List<ByteArray> = listOf(newLeaf().certificate.encoded, intermediate.certificate.encoded)

    fun contenders(): Contenders = Contenders(this)

    val platformTrustManager: X509TrustManager =
        HandshakeCertificates.Builder().addTrustedCertificate(root.certificate).build().trustManager
    val authType: String = if (rsa) "ECDHE_RSA" else "ECDHE_ECDSA"
    val pins: List<String> = listOf(CertificatePinner.pin(intermediate.certificate), CertificatePinner.pin(HeldCertificate.Builder().build().certificate))
}

/** The three ways to evaluate one chain, each as a client would configure it. */
private class Contenders(private val pki: BenchPki) {
    private val tm = pki.platformTrustManager
    private val okHttpPinner: CertificatePinner = OkHttpClient.Builder()
        .sslSocketFactory(SSLContext.getInstance("TLS").apply { init(null, arrayOf(tm), null) }.socketFactory, tm)
        .certificatePinner(CertificatePinner.Builder().add(PINNED_HOST, *pki.pins.toTypedArray()).build())
        .build()
        .certificatePinner // carries the chain cleaner for tm
    private val engine = PinningEngine.fromToml(policyToml())
    private val mamoriTm = MamoriTrustManager.Builder().policy(engine).platformTrustManager(tm).build()
    private val mamoriPlatformTm = MamoriTrustManager.Builder().policy(engine).platformTrustManager(tm)
        .chainValidation(ChainValidation.PLATFORM)
        .build()

    private fun policyToml(): String = buildString {
        append("[trust]\nmozilla_roots = false\nanchors_pem = \"\"\"\n").append(pki.root.certificatePem()).append("\"\"\"\n")
        append(rule(PINNED_HOST, *pki.pins.toTypedArray()))
    }

    fun platform(chain: Array<X509Certificate>) = tm.checkServerTrusted(chain, pki.authType)

    fun okhttp(chain: Array<X509Certificate>) {
        tm.checkServerTrusted(chain, pki.authType)
        check(OkHostnameVerifier.verify(PINNED_HOST, chain[0]))
        okHttpPinner.check(PINNED_HOST, chain.asList()) // throws on a mismatch
    }

    fun mamori(chain: Array<X509Certificate>) {
        check(mamoriTm.checkServerTrusted(chain, pki.authType, PINNED_HOST, 443).pinMatched)
    }

    fun mamoriPlatform(chain: Array<X509Certificate>) {
        check(mamoriPlatformTm.checkServerTrusted(chain, pki.authType, PINNED_HOST, 443).pinMatched)
    }
}

/** Like [perOp], each call on a chain whose leaf was never seen before (made ahead, outside the timing). */
private fun perOpFresh(name: String, pki: BenchPki, warmup: Int = 1_000, ops: Int = 1_000, rounds: Int = 5, op: (Array<X509Certificate>) -> Unit): Double {
    val intermediate = pki.intermediate.certificate.encoded
    fun batch(n: Int) = List(n) { listOf(pki.newLeaf().certificate.encoded, intermediate) }
    batch(warmup).forEach { op(parse(it)) }
    val samples = (1..rounds).map {
        val chains = batch(ops)
        val start = System.nanoTime()
        for (der in chains) op(parse(der))
        (System.nanoTime() - start) / 1000.0 / ops
    }.sorted()
    val median = samples[samples.size / 2]
    println("  %-62s %9.1f µs/op  (rounds: %s)".format(name, median, samples.joinToString(" ") { "%.1f".format(it) }))
    return median
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
