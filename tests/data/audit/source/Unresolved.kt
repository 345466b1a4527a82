import okhttp3.CertificatePinner

fun pinner(context: Context) = CertificatePinner.Builder()
    .add("api.example.com", "sha256/K87oWBWM9UZfyddvDfoxL+8lpNyoUB2ptGtn0fv6G2Q=", context.getString(R.string.backup_pin))
    .add(remoteHost(), "sha256/K87oWBWM9UZfyddvDfoxL+8lpNyoUB2ptGtn0fv6G2Q=", "sha256/PL1/TTDEe9Cm2lb2X0tixyQC7zaPREm/V0IHJscTCmw=")
    .build()
