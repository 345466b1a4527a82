package com.example.app.net

/** Pins shared by every client (constants, a list, a template). */
object Pins {
    const val API_HOST = "api.example.com"
    private const val PREFIX = "sha256/"
    const val PRIMARY = "${PREFIX}K87oWBWM9UZfyddvDfoxL+8lpNyoUB2ptGtn0fv6G2Q="
    const val BACKUP = PREFIX + "PL1/TTDEe9Cm2lb2X0tixyQC7zaPREm/V0IHJscTCmw="
    val CDN_PINS = listOf(
        "sha256/NDCIt6TrQnfOk+lquunrmlPQB3K/7CLOCmSS5kW+KCc=",
        "sha256/" +
            "lCppFqbkrlJ3EcVFAkeip0+44VaoJUymbnOaEUk7tEU=",
    )
    val CDN_HOSTS = arrayOf("cdn.example.com", "img.example.com")

    object Legacy {
        const val HOST = "legacy.example.com"
    }
}
