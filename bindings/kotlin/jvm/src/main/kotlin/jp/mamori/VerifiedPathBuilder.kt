package jp.mamori

import java.security.GeneralSecurityException
import java.security.cert.CertificateException
import java.security.cert.X509Certificate
import javax.net.ssl.X509TrustManager
import javax.security.auth.x500.X500Principal

/**
 * The path a JVM platform trust manager verified, rebuilt after it accepted a chain: the JDK's
 * `X509TrustManager` validates but does not return its path (Android's
 * `X509TrustManagerExtensions` does, and is used there instead).
 *
 * From the leaf, each next certificate is the one whose subject is the current issuer and whose
 * key verifies the current signature: first among the platform's accepted issuers (the path
 * ends there, at a trust anchor), else among the presented certificates. Certificates the
 * server sent that are not on the path are never part of it (CVE-2016-2402), as in OkHttp's
 * `BasicCertificateChainCleaner`. The JDK caches signature checks per certificate object, so
 * after the platform's validation this costs hash lookups, not signature verifications.
 */
internal class VerifiedPathBuilder(platform: X509TrustManager) {
    private val anchors: Map<X500Principal, List<X509Certificate>> =
        platform.acceptedIssuers.groupBy { it.subjectX500Principal }

    /** The verified path of [chain], leaf first, anchor last; throws when there is none. */
    fun build(chain: Array<X509Certificate>): List<X509Certificate> {
        if (chain.isEmpty()) throw CertificateException("Mamori: empty chain")
        val path = ArrayList<X509Certificate>(chain.size + 1)
        val unused = chain.toMutableList()
        var current = unused.removeAt(0)
        path += current
        repeat(MAX_PATH_LENGTH) {
            anchors[current.issuerX500Principal]?.firstOrNull { signed(current, it) }?.let { anchor ->
                if (anchor != current) path += anchor
                return path
            }
            val next = unused.firstOrNull { it.subjectX500Principal == current.issuerX500Principal && signed(current, it) }
                ?: throw CertificateException("Mamori: no path from the leaf to an accepted issuer of the platform")
            unused.remove(next)
            path += next
            current = next
        }
        throw CertificateException("Mamori: the path is longer than $MAX_PATH_LENGTH certificates")
    }

    private fun signed(certificate: X509Certificate, issuer: X509Certificate): Boolean = try {
        certificate.verify(issuer.publicKey)
        true
    } catch (e: GeneralSecurityException) {
        false
    }

    private companion object {
        /** More than any public path (leaf, up to 8 intermediates, anchor). */
        const val MAX_PATH_LENGTH = 10
    }
}
