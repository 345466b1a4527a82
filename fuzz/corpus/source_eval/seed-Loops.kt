import okhttp3.CertificatePinner

private val HOSTS = listOf("a.example.com", "b.example.com")
private val PINS = listOf("sha256/K87oWBWM9UZfyddvDfoxL+8lpNyoUB2ptGtn0fv6G2Q=", "sha256/PL1/TTDEe9Cm2lb2X0tixyQC7zaPREm/V0IHJscTCmw=")

fun pinner(): CertificatePinner = CertificatePinner.Builder().apply {
    HOSTS.forEach { host ->
        PINS.forEach { add(host, it) }
    }
}.build()
