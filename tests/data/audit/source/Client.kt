package com.example.app.net

import okhttp3.CertificatePinner
import okhttp3.OkHttpClient

class ApiClient {
    companion object {
        private const val OLD_PIN = Pins.PRIMARY
    }

    fun client(): OkHttpClient {
        val builder = CertificatePinner.Builder()
            .add(Pins.API_HOST, Pins.PRIMARY, Pins.BACKUP)
            .add(
                Pins.Legacy.HOST,
                OLD_PIN,
                *Pins.CDN_PINS.toTypedArray(),
            )
        for (host in Pins.CDN_HOSTS) {
            builder.add(host, *Pins.CDN_PINS.toTypedArray())
        }
        return OkHttpClient.Builder()
            .certificatePinner(builder.build())
            .build()
    }
}
