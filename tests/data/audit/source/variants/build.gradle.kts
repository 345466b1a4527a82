android {
    defaultConfig {
        buildConfigField("String", "PIN_PRIMARY", "\"sha256/K87oWBWM9UZfyddvDfoxL+8lpNyoUB2ptGtn0fv6G2Q=\"")
    }
    flavorDimensions += "tier"
    productFlavors {
        create("free") {
            dimension = "tier"
            buildConfigField("String", "PIN_BACKUP", "\"sha256/PL1/TTDEe9Cm2lb2X0tixyQC7zaPREm/V0IHJscTCmw=\"")
        }
        create("paid") {
            dimension = "tier"
            buildConfigField("String", "PIN_BACKUP", "\"sha256/lCppFqbkrlJ3EcVFAkeip0+44VaoJUymbnOaEUk7tEU=\"")
        }
    }
}
