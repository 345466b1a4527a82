android {
    defaultConfig {
        buildConfigField("String", "PIN_PRIMARY", "\"sha256/K87oWBWM9UZfyddvDfoxL+8lpNyoUB2ptGtn0fv6G2Q=\"")
        buildConfigField(
            "String",
            "PIN_BACKUP",
            "\"sha256/NDCIt6TrQnfOk+lquunrmlPQB3K/7CLOCmSS5kW+KCc=\"",
        )
    }
}
