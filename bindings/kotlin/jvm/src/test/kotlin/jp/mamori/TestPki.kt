package jp.mamori

import mockwebserver3.MockResponse
import mockwebserver3.MockWebServer
import okhttp3.CertificatePinner
import okhttp3.Dns
import okhttp3.tls.HandshakeCertificates
import okhttp3.tls.HeldCertificate
import java.net.InetAddress
import java.security.cert.X509Certificate
import javax.net.ssl.X509TrustManager

/**
 * Shared with the Robolectric tests (bindings/kotlin/android-test) through this module's test-jar,
 * hence public.
 *
 * Host names the tests use; every one resolves to loopback through [LoopbackDns]. */
public const val PINNED_HOST = "api.mamori.test"
public const val UNPINNED_HOST = "other.mamori.test"

/**
 * A private PKI made fresh for each test class: root -> intermediate -> leaf (ECDSA P-256,
 * okhttp-tls), the leaf valid for [PINNED_HOST], [UNPINNED_HOST], `localhost` and 127.0.0.1.
 * Pins are computed by OkHttp's `CertificatePinner.pin`, an implementation independent of Mamori.
 */
public class TestPki(name: String = "Mamori Test") {
    val root: HeldCertificate = HeldCertificate.Builder()
        .certificateAuthority(1)
        .commonName("$name Root")
        .build()
    val intermediate: HeldCertificate = HeldCertificate.Builder()
        .certificateAuthority(0)
        .commonName("$name Intermediate")
        .signedBy(root)
        .build()
    val leaf: HeldCertificate = HeldCertificate.Builder()
        .commonName(PINNED_HOST)
        .addSubjectAlternativeName(PINNED_HOST)
        .addSubjectAlternativeName(UNPINNED_HOST)
        .addSubjectAlternativeName("localhost")
        .addSubjectAlternativeName("127.0.0.1")
        .signedBy(intermediate)
        .build()

    /** Spare keys never used by the server: backup pins and wrong pins. */
    val spare1: HeldCertificate = HeldCertificate.Builder().commonName("spare 1").build()
    val spare2: HeldCertificate = HeldCertificate.Builder().commonName("spare 2").build()

    val serverCertificates: HandshakeCertificates = HandshakeCertificates.Builder()
        .heldCertificate(leaf, intermediate.certificate)
        .build()

    /** The "platform" trust manager of the tests: it trusts exactly this PKI's root. */
    val platformTrustManager: X509TrustManager = HandshakeCertificates.Builder()
        .addTrustedCertificate(root.certificate)
        .build()
        .trustManager

    /** The chain as the server presents it (leaf, intermediate). */
    val presentedChain: Array<X509Certificate> = arrayOf(leaf.certificate, intermediate.certificate)

    /** A policy whose only anchor is this PKI's root, with [rules] as `[[domain]]` tables. */
    fun policy(vararg rules: String): String = buildString {
        append("[trust]\nmozilla_roots = false\nanchors_pem = \"\"\"\n")
        append(root.certificatePem())
        append("\"\"\"\n")
        for (rule in rules) append("\n").append(rule.trimIndent()).append("\n")
    }

    /** A TLS server on loopback presenting this PKI's leaf + intermediate, answering "ok". */
    fun server(responses: Int = 1): MockWebServer = MockWebServer().apply {
        useHttps(serverCertificates.sslSocketFactory())
        repeat(responses) { enqueue(MockResponse.Builder().body("ok").build()) }
        start(InetAddress.getByName("127.0.0.1"), 0)
    }
}

public fun pin(certificate: HeldCertificate): String = CertificatePinner.pin(certificate.certificate)

public fun rule(host: String, vararg pins: String, reportOnly: Boolean = false): String = """
    [[domain]]
    host = "$host"
    pins = [${pins.joinToString(", ") { "\"$it\"" }}]
    report_only = $reportOnly
"""

/** Resolves every host name to 127.0.0.1, so tests can use real names with a loopback server. */
public object LoopbackDns : Dns {
    override fun lookup(hostname: String): List<InetAddress> = listOf(InetAddress.getByName("127.0.0.1"))
}

/** The first cause of type [T] in the chain of [this], or null. */
public inline fun <reified T : Throwable> Throwable.causeOfType(): T? =
    generateSequence(this) { it.cause }.filterIsInstance<T>().firstOrNull()
