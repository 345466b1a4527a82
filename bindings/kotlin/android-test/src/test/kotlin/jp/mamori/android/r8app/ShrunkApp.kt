package jp.mamori.android.r8app

import jp.mamori.JvmAesGcmKek
import jp.mamori.Mamori
import jp.mamori.MamoriDevice
import jp.mamori.ffi.SecurityLevel
import jp.mamori.SecureStorage
import java.nio.file.Files

/**
 * A minimal "app" for [jp.mamori.android.ConsumerRulesR8Test]: R8 shrinks and obfuscates it
 * together with Mamori, JNA and their libraries, keeping only this `main` and what Mamori's
 * consumer rules keep; the test then runs the result in a fresh JVM. Each step crosses the JNA
 * boundary a different way: a returned string (RustBuffer structure), an object handle, a Kotlin
 * callback interface the Rust store calls (the uniffi vtable of JNA callbacks), and typed errors
 * lifted from Rust.
 */
object ShrunkApp {
    @JvmStatic
    fun main(args: Array<String>) {
        check(Mamori.nativeVersion.isNotEmpty()) { "no native version" }
        val dir = Files.createTempDirectory("mamori-r8")
        try {
            SecureStorage.builder(dir, JvmAesGcmKek.generate()).minSecurityLevel(SecurityLevel.SOFTWARE).build().use { store ->
                store.putString("token", "shrunk")
                check(store.getString("token") == "shrunk") { "store round trip" }
                check(store.names() == listOf("token")) { "names" }
            }
            val refused = runCatching { MamoriDevice.validatePolicy("this is = not [ a policy") }.exceptionOrNull()
            check(refused != null && refused.javaClass.name.startsWith("jp.mamori.ffi.")) { "typed policy error, got $refused" }
        } finally {
            dir.toFile().deleteRecursively()
        }
        println("mamori r8 app ok")
    }
}
