package jp.mamori

import jp.mamori.ffi.ChainValidation
import jp.mamori.ffi.PinDecision
import jp.mamori.ffi.PinOutcome
import jp.mamori.ffi.PinFailureReport
import jp.mamori.ffi.PinReportListener
import jp.mamori.ffi.PinningEngine
import jp.mamori.ffi.AppInfo
import java.net.Socket
import java.security.KeyStore
import java.security.cert.CertificateException
import java.security.cert.X509Certificate
import java.time.Clock
import java.util.logging.Level
import java.util.logging.Logger
import javax.net.ssl.ExtendedSSLSession
import javax.net.ssl.SNIHostName
import javax.net.ssl.SSLParameters
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
 * get chain validation. When the client sent an SNI name other than the peer host (an app that
 * connects to an IP address and names the server by SNI), that name's pins are checked too.
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
 *
 * The platform check runs on every handshake. The engine's *allow* for a host and the exact
 * certificates it was given is reused for later handshakes with the same server, without
 * crossing the FFI again, until the earliest `notAfter` of those certificates or the time the
 * engine says its policy may decide otherwise (a pin-set expiry, the end of a signed update's
 * report-only downgrade), whichever comes first; a block or a report is asked of the engine
 * every time. The rules themselves are only in the engine.
 *
 * A resumed TLS session is not checked again: TLS stacks call no trust manager when they resume
 * one, so a session made while a rule was report-only (or before a pin update) can be resumed
 * until the stack's session cache lets it go (about 8 hours on Conscrypt, 24 on the JDK). Each
 * [sslContext] and each [mamoriPinning] client has its own context and cache: after a pin update
 * that tightens a rule, build new clients from the new engine, so no old session outlives the
 * change (a shorter `SSLContext.clientSessionContext.sessionTimeout` bounds it too).
 */
public class MamoriTrustManager private constructor(
    /** The engine deciding on each chain (with this trust manager's own report listener, if any). */
    public val engine: PinningEngine,
    private val platform: X509TrustManager,
    private val platformCheck: PlatformTrustCheck?,
    /** Who validates the chain before the pins ([Builder.chainValidation]). */
    public val chainValidation: ChainValidation,
    private val clock: Clock,
) : X509ExtendedTrustManager() {
    /** The engine's allows for the chains seen, reused while they hold ([DecisionCache]). */
    private val decisions = DecisionCache()

    /** Builds the platform-verified path on the JVM (no host-aware platform check). */
    private val pathBuilder: VerifiedPathBuilder? =
        if (chainValidation == ChainValidation.PLATFORM && platformCheck == null) VerifiedPathBuilder(platform) else null

    /**
     * The platform's trust evaluation for a host, when the platform offers a host-aware one that
     * returns the chain it verified (Android's `X509TrustManagerExtensions`, which applies the
     * app's network security config). Mamori then pins against that verified chain. Throw a
     * `CertificateException` to refuse the chain.
     */
    public fun interface PlatformTrustCheck {
        /** Checks [chain] for [host]; returns the chain to pin against, leaf first. */
        public fun verifiedChain(chain: Array<X509Certificate>, authType: String, host: String): List<X509Certificate>
    }

    /** Builds a [MamoriTrustManager]. */
    public class Builder {
        private var engine: PinningEngine? = null
        private var platform: X509TrustManager? = null
        private var listener: ((PinFailureReport) -> Unit)? = null
        private var appInfo: AppInfo = AppInfo()
        private var platformCheck: PlatformTrustCheck? = null
        private var chainValidation: ChainValidation = ChainValidation.MAMORI
        private var clock: Clock = Clock.systemUTC()

        /** The pinning engine (its policy). Required. */
        public fun policy(engine: PinningEngine): Builder = apply { this.engine = engine }

        /** Loads the policy from a TOML or JSON file. Throws `PinPolicyException` if invalid. */
        public fun policyFile(path: String): Builder = policy(PinningEngine.fromFile(path))

        /** Parses a TOML policy. Throws `PinPolicyException` if invalid. */
        public fun policyToml(text: String): Builder = policy(PinningEngine.fromToml(text))

        /**
         * The trust manager that checks every chain first (default: the platform's default,
         * from `TrustManagerFactory` with the system key store).
         */
        public fun platformTrustManager(trustManager: X509TrustManager): Builder =
            apply { this.platform = trustManager }

        /**
         * A host-aware platform evaluation that returns the verified chain (see
         * [PlatformTrustCheck]); it replaces the `checkServerTrusted` call on the platform trust
         * manager. `jp.mamori.android.AndroidPinning` sets Android's.
         */
        public fun platformTrustCheck(check: PlatformTrustCheck): Builder = apply { this.platformCheck = check }

        /**
         * Receives pin failure reports (TrustKit's shape; `report.json` is ready to upload),
         * at most once per host, chain and result per 24 h. Called on the handshake thread:
         * queue and return. An exception thrown here is logged and never affects the connection.
         * The listener belongs to this trust manager: other trust managers built from the same
         * engine keep their own listeners and deduplication.
         */
        public fun reportListener(listener: (PinFailureReport) -> Unit): Builder = apply { this.listener = listener }

        /**
         * Who validates the chain before the pins are checked:
         * - [ChainValidation.MAMORI] (default): after the platform accepted the chain, Mamori
         *   validates it again against the policy's anchors (rustls-webpki) and pins the path it
         *   verified itself. Defence in depth (BP-1); the mode for private PKI and the strict
         *   profile.
         * - [ChainValidation.PLATFORM]: Mamori pins the path the platform verified (Android's
         *   `X509TrustManagerExtensions`; on the JVM the path from the presented certificates to
         *   one of the platform's accepted issuers, by signature), after checking the host name.
         *   No signature is verified twice: several times cheaper per handshake. Under the
         *   strict profile the engine still validates itself.
         */
        public fun chainValidation(validation: ChainValidation): Builder = apply { this.chainValidation = validation }

        /**
         * The clock Mamori's check uses (default: the system clock): the time certificates and
         * pin sets are checked at, and the time a remembered allow is reused until. The
         * platform trust manager keeps its own clock.
         */
        public fun clock(clock: Clock): Builder = apply { this.clock = clock }

        /** App facts reports carry (bundle id, version, platform). None by default (LOG-2). */
        public fun appInfo(appInfo: AppInfo): Builder = apply { this.appInfo = appInfo }

        /** The trust manager. */
        public fun build(): MamoriTrustManager {
            val engine = checkNotNull(engine) { "MamoriTrustManager.Builder: policy(...) is required" }
            val own = listener?.let { engine.withReportListener(SafeListener(it), appInfo) } ?: engine
            return MamoriTrustManager(own, platform ?: defaultPlatformTrustManager(), platformCheck, chainValidation, clock)
        }
    }

    /** A TLS `SSLContext` whose only trust manager is this one. */
    public fun sslContext(protocol: String = "TLS"): SSLContext =
        SSLContext.getInstance(protocol).apply { init(null, arrayOf(this@MamoriTrustManager), null) }

    override fun checkServerTrusted(chain: Array<X509Certificate>, authType: String, socket: Socket?) {
        val session = (socket as? SSLSocket)?.handshakeSession
        val host = hostOf(session)
        check(chain, authType, host, session?.peerPort ?: 0) {
            if (platform is X509ExtendedTrustManager) {
                platform.checkServerTrusted(chain, authType, socket)
            } else {
                platform.checkServerTrusted(chain, authType)
            }
        }
        otherServerName(session, (socket as? SSLSocket)?.sslParameters, host)?.let { name -> check(chain, authType, name, session?.peerPort ?: 0) {} }
    }

    override fun checkServerTrusted(chain: Array<X509Certificate>, authType: String, engine: SSLEngine?) {
        val session = engine?.handshakeSession
        val host = hostOf(session) ?: engine?.peerHost
        val port = session?.peerPort ?: engine?.peerPort ?: 0
        check(chain, authType, host, port) {
            if (platform is X509ExtendedTrustManager) {
                platform.checkServerTrusted(chain, authType, engine)
            } else {
                platform.checkServerTrusted(chain, authType)
            }
        }
        otherServerName(session, engine?.sslParameters, host)?.let { name -> check(chain, authType, name, port) {} }
    }

    /**
     * Without a socket or engine there is no host to pin for: this fails closed. TLS stacks call
     * the socket/engine variants; other callers use [checkServerTrusted] with a host.
     */
    override fun checkServerTrusted(chain: Array<X509Certificate>, authType: String) {
        check(chain, authType, null, 0) { platform.checkServerTrusted(chain, authType) }
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
    ): PinDecision = check(chain, authType, host, port) { platform.checkServerTrusted(chain, authType) }

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

    /**
     * The one server check of every variant: the platform first ([platformCheck] when set, else
     * [plainPlatformCheck]), then the pins on the chain the platform verified.
     */
    private inline fun check(
        chain: Array<X509Certificate>,
        authType: String,
        host: String?,
        port: Int,
        plainPlatformCheck: () -> Unit,
    ): PinDecision {
        if (host.isNullOrEmpty()) {
            // Still let the platform refuse first, so its error wins for an untrusted chain.
            if (platformCheck == null) plainPlatformCheck()
            throw CertificateException(
                "Mamori: no server host in the handshake, cannot apply the pin policy " +
                    "(use the SSLSocket/SSLEngine variants or checkServerTrusted(chain, authType, host, port))",
            )
        }
        val now = clock.millis()
        // The engine's answer for the same host and certificates is reused while it holds: keyed
        // by the path the platform returned (Android), else by the chain as presented (on the
        // JVM the path built from it is a function of the chain and the platform's fixed issuers).
        val key: List<X509Certificate>
        val toPin: List<X509Certificate>
        if (platformCheck != null) {
            toPin = platformCheck.verifiedChain(chain, authType, host)
            key = toPin
            decisions.get(host, key, now)?.let { return it }
        } else {
            plainPlatformCheck()
            key = chain.asList()
            decisions.get(host, key, now)?.let { return it }
            toPin = pathBuilder?.build(chain) ?: key
        }
        val checked = engine.check(
            host,
            port.coerceIn(0, 65535).toUShort(),
            toPin.map { it.encoded },
            chainValidation,
            Math.floorDiv(now, 1000L).coerceAtLeast(0).toULong(),
        )
        decisions.put(host, key, toPin, checked)
        val decision = checked.decision
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
            return serverName(session)
        }

        /**
         * The SNI host name the client sent in [session], if any. Conscrypt's client-side
         * handshake session does not implement `getRequestedServerNames` (it throws
         * `UnsupportedOperationException`): no name, then.
         */
        private fun serverName(session: SSLSession?): String? {
            val names = try {
                (session as? ExtendedSSLSession)?.requestedServerNames
            } catch (e: UnsupportedOperationException) {
                null
            }
            return names?.firstOrNull { it.type == StandardConstants.SNI_HOST_NAME }
                ?.let { (it as? SNIHostName)?.asciiName }
        }

        /**
         * The SNI host name when it names another host than [host] (the peer host checked
         * first): an app that connects to an address (its own DNS-over-HTTPS, a fixed IP) and
         * names the server by SNI asks that server to prove the SNI name, so that name's pins
         * apply too; either host's rule can block (DEV-4).
         */
        private fun otherServerName(session: SSLSession?, parameters: SSLParameters?, host: String?): String? {
            // What the client sends in this handshake (its parameters) first: the handshake
            // session of a client may still carry the names of the session it tried to resume.
            val name = parameters?.serverNames?.firstOrNull { it.type == StandardConstants.SNI_HOST_NAME }
                ?.let { (it as? SNIHostName)?.asciiName }
                ?: serverName(session)
                ?: return null
            fun canonical(h: String) = h.trimEnd('.').lowercase(java.util.Locale.ROOT)
            return name.takeIf { host == null || canonical(it) != canonical(host) }
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
private class SafeListener(private val listener: (PinFailureReport) -> Unit) : PinReportListener {
    override fun onReport(report: PinFailureReport) {
        try {
            listener(report)
        } catch (e: Exception) {
            Logger.getLogger("jp.mamori").log(Level.WARNING, "Mamori report listener threw; ignored", e)
        }
    }
}
