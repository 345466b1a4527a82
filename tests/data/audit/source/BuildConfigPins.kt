import okhttp3.CertificatePinner

val pinner = CertificatePinner.Builder()
    .add("api.example.com", BuildConfig.PIN_PRIMARY, BuildConfig.PIN_BACKUP)
    .build()
