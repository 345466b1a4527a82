package com.example.app;

import java.util.Arrays;
import java.util.List;
import okhttp3.CertificatePinner;

public final class PinningModule {
    static final String HOST = "api.example.com";
    private static final String PREFIX = "sha256/";
    private static final String[] PINS = {PREFIX + "K87oWBWM9UZfyddvDfoxL+8lpNyoUB2ptGtn0fv6G2Q=", "sha256/PL1/TTDEe9Cm2lb2X0tixyQC7zaPREm/V0IHJscTCmw="};
    private static final List<String> CDN = Arrays.asList("cdn.example.com", "img.example.com");

    public CertificatePinner pinner() {
        CertificatePinner.Builder builder = new CertificatePinner.Builder()
                .add(HOST, PINS);
        for (String host : CDN) {
            builder.add(host, "sha256/NDCIt6TrQnfOk+lquunrmlPQB3K/7CLOCmSS5kW+KCc=", "sha256/lCppFqbkrlJ3EcVFAkeip0+44VaoJUymbnOaEUk7tEU=");
        }
        return builder.build();
    }
}
