package com.example.app

import okhttp3.CertificatePinner
import okhttp3.OkHttpClient

object Pinning {
    val pinner = CertificatePinner.Builder()
        .add(
            "api.example.com",
            "sha256/K87oWBWM9UZfyddvDfoxL+8lpNyoUB2ptGtn0fv6G2Q=",
            "sha256/PL1/TTDEe9Cm2lb2X0tixyQC7zaPREm/V0IHJscTCmw=",
        )
        .add("*.static.example.com", "sha256/NDCIt6TrQnfOk+lquunrmlPQB3K/7CLOCmSS5kW+KCc=")
        .build()

    val client = OkHttpClient.Builder().certificatePinner(pinner).build()
}
