package jp.mamori

import jp.mamori.ffi.PinDecision
import jp.mamori.ffi.PinOutcome
import jp.mamori.ffi.PinReport
import jp.mamori.ffi.PinReportListener
import jp.mamori.ffi.PinningEngine
import jp.mamori.ffi.ReportAppInfo
import java.net.Socket
import java.security.KeyStore
import java.security.cert.CertificateException
import java.security.cert.X509Certificate
import java.util.logging.Level
import java.util.logging.Logger
import javax.net.ssl.ExtendedSSLSession
import javax.net.ssl.SNIHostName
import javax.net.ssl.SSLContext
import javax.net.ssl.SSLEngine
import javax.net.ssl.SSLSession
import javax.net.ssl.SSLSocket
import javax.net.ssl.StandardConstants
import javax.net.ssl.TrustManagerFactory
import javax.net.ssl.X509ExtendedTrustManager
import javax.net.ssl.X509TrustManager

/**
 * An `X509TrustManager` that pins server certificates with Mamori (guideline DEV-4).
 *
 * Defence in depth (BP-1): every server chain is first checked by the **platform** trust
 * manager (the JDK's, or Android's with its network security config), and only if that
 * accepts it, by Mamori's engine: path validation against the policy's anchors, then the pins
 * on the *verified* path. Either one can refuse the connection.
 *
 * The host is taken from the handshake (the peer host the client connected to, else the SNI
 * name), so the same trust manager serves every host of an app; hosts without a pin rule only
 * get chain validation.
 *
 * Use it with OkHttp ([mamoriPinning]) or with `HttpsURLConnection` through [sslContext]:
 * ```
 * val trustManager = MamoriTrustManager.Builder()
 *     .policy(PinningEngine.fromFile("pins.toml"))
 *     .reportListener { report -> uploader.enqueue(report.json) }
 *     .build()
 * connection.sslSocketFactory = trustManager.sslContext().socketFactory
 * ```
 *
 * A blocked chain raises [PinningFailureException] (a `CertificateException`) carrying the
 * engine's [PinDecision]: the reason, the chain's pins and the rule's pins.
 */
public class MamoriTrustManager private constructor(
    /** The engine deciding on each chain. */
    public val engine: PinningEngine,
    private val platform: X509TrustManager,
) : X509ExtendedTrustManager() {

    /** Builds a [MamoriTrustManager]. */
    public class Builder {
        private var engine: PinningEngine? = null
        private var platform: X509TrustManager? = null
        private var listener: ((PinReport) -> Unit)? = null
        private var appInfo: ReportAppInfo = ReportAppInfo()

        /** The pinning engine (its policy). Required. */
        public fun policy(engine: PinningEngine): Builder = apply { this.engine = engine }

        /** Loads the policy from a TOML or JSON file. Throws `PinningException` if invalid. */
        public fun policyFile(path: String): Builder = policy(PinningEngine.fromFile(path))

        /** Parses a TOML policy. Throws `PinningException` if invalid. */
        public fun policyToml(text: String): Builder = policy(PinningEngine.fromToml(text))

        /**
         * The trust manager that checks every chain first (default: the platform's default,
         * from `TrustManagerFactory` with the system key store).
         */
        public fun platformTrustManager(trustManager: X509TrustManager): Builder =
            apply { this.platform = trustManager }

        /**
         * Receives pin failure reports (TrustKit's shape; `report.json` is ready to upload),
         * at most once per host, chain and result per 24 h. Called on the handshake thread:
         * queue and return. An exception thrown here is logged and never affects the connection.
         * Registering a listener replaces the engine's previous one.
         */
        public fun reportListener(listener: (PinReport) -> Unit): Builder = apply { this.listener = listener }

        /** App facts reports carry (bundle id, version, platform). None by default (LOG-2). */
        public fun appInfo(appInfo: ReportAppInfo): Builder = apply { this.appInfo = appInfo }

        /** The trust manager. */
        public fun build(): MamoriTrustManager {
            val engine = checkNotNull(engine) { "MamoriTrustManager.Builder: policy(...) is required" }
            listener?.let { engine.setReportListener(SafeListener(it), appInfo) }
            return MamoriTrustManager(engine, platform ?: defaultPlatformTrustManager())
        }
    }

    /** A TLS `SSLContext` whose only trust manager is this one. */
    public fun sslContext(protocol: String = "TLS"): SSLContext =
        SSLContext.getInstance(protocol).apply { init(null, arrayOf(this@MamoriTrustManager), null) }

    override fun checkServerTrusted(chain: Array<X509Certificate>, authType: String, socket: Socket?) {
        if (platform is X509ExtendedTrustManager) {
            platform.checkServerTrusted(chain, authType, socket)
        } else {
            platform.checkServerTrusted(chain, authType)
        }
        val session = (socket as? SSLSocket)?.handshakeSession
        checkPins(chain, hostOf(session), session?.peerPort ?: 0)
    }

    override fun checkServerTrusted(chain: Array<X509Certificate>, authType: String, engine: SSLEngine?) {
        if (platform is X509ExtendedTrustManager) {
            platform.checkServerTrusted(chain, authType, engine)
        } else {
            platform.checkServerTrusted(chain, authType)
        }
        val session = engine?.handshakeSession
        checkPins(chain, hostOf(session) ?: engine?.peerHost, session?.peerPort ?: engine?.peerPort ?: 0)
    }

    /**
     * Without a socket or engine there is no host to pin for: this fails closed. TLS stacks call
     * the socket/engine variants; other callers use [checkServerTrusted] with a host.
     */
    override fun checkServerTrusted(chain: Array<X509Certificate>, authType: String) {
        platform.checkServerTrusted(chain, authType)
        checkPins(chain, null, 0)
    }

    /**
     * Checks [chain] for [host]:[port] (platform first, then Mamori) and returns the engine's
     * decision; throws [PinningFailureException] when it blocks. For TLS stacks that give the
     * host explicitly (e.g. Android's `X509TrustManagerExtensions` path, custom sockets).
     */
    public fun checkServerTrusted(
        chain: Array<X509Certificate>,
        authType: String,
        host: String,
        port: Int,
    ): PinDecision {
        platform.checkServerTrusted(chain, authType)
        return checkPins(chain, host, port)
    }

    override fun checkClientTrusted(chain: Array<X509Certificate>, authType: String, socket: Socket?) {
        if (platform is X509ExtendedTrustManager) {
            platform.checkClientTrusted(chain, authType, socket)
        } else {
            platform.checkClientTrusted(chain, authType)
        }
    }

    override fun checkClientTrusted(chain: Array<X509Certificate>, authType: String, engine: SSLEngine?) {
        if (platform is X509ExtendedTrustManager) {
            platform.checkClientTrusted(chain, authType, engine)
        } else {
            platform.checkClientTrusted(chain, authType)
        }
    }

    override fun checkClientTrusted(chain: Array<X509Certificate>, authType: String) {
        platform.checkClientTrusted(chain, authType)
    }

    override fun getAcceptedIssuers(): Array<X509Certificate> = platform.acceptedIssuers

    private fun checkPins(chain: Array<X509Certificate>, host: String?, port: Int): PinDecision {
        if (host.isNullOrEmpty()) {
            throw CertificateException(
                "Mamori: no server host in the handshake, cannot apply the pin policy " +
                    "(use the SSLSocket/SSLEngine variants or checkServerTrusted(chain, authType, host, port))",
            )
        }
        val decision = engine.verify(host, port.coerceIn(0, 65535).toUShort(), chain.map { it.encoded })
        if (decision.outcome == PinOutcome.BLOCK) {
            throw PinningFailureException(decision)
        }
        return decision
    }

    public companion object {
        /** The platform's default X509 trust manager (system key store). */
        @JvmStatic
        public fun defaultPlatformTrustManager(): X509TrustManager {
            val factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm())
            factory.init(null as KeyStore?)
            return factory.trustManagers.filterIsInstance<X509TrustManager>().firstOrNull()
                ?: error("the platform has no X509TrustManager")
        }

        /**
         * The host the client asked for in a handshake: the session's peer host (what the
         * client connected to), else the SNI host name; null when neither is known.
         */
        @JvmStatic
        public fun hostOf(session: SSLSession?): String? {
            if (session == null) return null
            session.peerHost?.takeIf { it.isNotEmpty() }?.let { return it }
            return (session as? ExtendedSSLSession)?.requestedServerNames
                ?.firstOrNull { it.type == StandardConstants.SNI_HOST_NAME }
                ?.let { (it as? SNIHostName)?.asciiName }
        }
    }
}

/**
 * Mamori blocked a server chain. The message is the engine's reason (with the chain's pins);
 * [decision] has everything else (rule, known pins, chain, report).
 */
public class PinningFailureException(public val decision: PinDecision) :
    CertificateException(
        buildString {
            append("Mamori blocked ").append(decision.host).append(": ").append(decision.reason)
            if (decision.knownPins.isNotEmpty()) {
                append("; pinned: ").append(decision.knownPins.joinToString(", "))
            }
        },
    )

/** Shields the TLS handshake from a throwing app listener. */
private class SafeListener(private val listener: (PinReport) -> Unit) : PinReportListener {
    override fun onReport(report: PinReport) {
        try {
            listener(report)
        } catch (e: Exception) {
            Logger.getLogger("jp.mamori").log(Level.WARNING, "Mamori report listener threw; ignored", e)
        }
    }
}
