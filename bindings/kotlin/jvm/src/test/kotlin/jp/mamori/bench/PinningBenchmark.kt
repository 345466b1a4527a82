package jp.mamori.bench

import jp.mamori.MamoriTrustManager
import jp.mamori.PINNED_HOST
import jp.mamori.LoopbackDns
import jp.mamori.TestPki
import jp.mamori.ffi.PinningEngine
import jp.mamori.pin
import jp.mamori.rule
import okhttp3.ConnectionPool
import okhttp3.OkHttpClient
import okhttp3.Request
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
    val pki = TestPki("Bench")
    val policy = pki.policy(rule(PINNED_HOST, pin(pki.intermediate), pin(pki.spare1)))
    val engine = PinningEngine.fromToml(policy)
    val mamori = MamoriTrustManager.Builder().policy(engine).platformTrustManager(pki.platformTrustManager).build()
    val chain = pki.presentedChain
    val der = chain.map { it.encoded }
    val authType = "ECDHE_ECDSA"

    println("Mamori JVM pinning benchmark (${System.getProperty("java.vm.name")} ${System.getProperty("java.version")})")
    println("chain: leaf + intermediate (ECDSA P-256), anchor = test root; pinned host $PINNED_HOST")
    val platformOnly = perOp("platform X509TrustManager.checkServerTrusted") {
        pki.platformTrustManager.checkServerTrusted(chain, authType)
    }
    val engineOnly = perOp("PinningEngine.verify (JNA call + Rust webpki + pins)") {
        engine.verify(PINNED_HOST, 443u, der)
    }
    val full = perOp("MamoriTrustManager.checkServerTrusted (platform + Mamori)") {
        mamori.checkServerTrusted(chain, authType, PINNED_HOST, 443)
    }
    println("  => Mamori adds %.1f µs per handshake (engine %.1f µs + DER/JNA glue)".format(full - platformOnly, engineOnly))

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

/** Median time per operation in microseconds over [rounds] rounds of [ops], after [warmup]. */
private fun perOp(name: String, warmup: Int = 20_000, ops: Int = 20_000, rounds: Int = 7, op: () -> Unit): Double {
    repeat(warmup) { op() }
    val samples = (1..rounds).map {
        val start = System.nanoTime()
        repeat(ops) { op() }
        (System.nanoTime() - start) / 1000.0 / ops
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
