package jp.mamori.android

import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Test
import java.io.File
import java.lang.reflect.Modifier
import java.nio.file.Files
import java.util.jar.JarFile

/**
 * The Android build files (bindings/kotlin/android: build.gradle.kts, consumer-rules.pro) cannot
 * be run here (no Android Gradle Plugin, no R8): these tests check what they promise against the
 * compiled classes and the sources that go into the AAR.
 */
class BuildFilesTest {
    private val repo = File(System.getProperty("mamori.repo.root") ?: error("mamori.repo.root not set")).canonicalFile
    private val android = repo.resolve("bindings/kotlin/android")
    private val gradle = android.resolve("build.gradle.kts").readText()
    private val generatedKotlin = File(System.getProperty("uniffi.kotlin.dir") ?: error("uniffi.kotlin.dir not set"))

    /** Every class that goes into the AAR: the facade + generated bindings (mamori-jvm) and jp.mamori.android. */
    private val aarClasses: List<Class<*>> by lazy {
        listOf(jp.mamori.SecureStorage::class.java, AndroidPinning::class.java).flatMap { anchor ->
            val location = File(anchor.protectionDomain.codeSource.location.toURI())
            classNames(location).map { Class.forName(it, false, anchor.classLoader) }
        }.distinct()
    }

    private fun classNames(location: File): List<String> =
        if (location.isDirectory) {
            location.walk().filter { it.name.endsWith(".class") }
                .map { it.relativeTo(location).path.removeSuffix(".class").replace(File.separatorChar, '.') }.toList()
        } else {
            JarFile(location).use { jar ->
                jar.entries().toList().map { it.name }.filter { it.endsWith(".class") && !it.startsWith("META-INF") }
                    .map { it.removeSuffix(".class").replace('/', '.') }
            }
        }

    @Test
    fun `minSdk covers the API level of the types in the public API`() {
        val minSdk = Regex("""minSdk\s*=\s*(\d+)""").find(gradle)?.groupValues?.get(1)?.toInt() ?: error("no minSdk")
        val api26 = aarClasses.filter { Modifier.isPublic(it.modifiers) }.flatMap { type ->
            val signatures = type.methods.filter { it.declaringClass == type }.flatMap { it.parameterTypes.toList() + it.returnType } +
                type.constructors.flatMap { it.parameterTypes.toList() }
            signatures.filter { it.name.startsWith("java.time.") || it.name.startsWith("java.nio.file.") }.map { "${type.name}: ${it.name}" }
        }.distinct()
        assertTrue("the public API uses java.time / java.nio.file", api26.isNotEmpty())
        assertTrue("minSdk $minSdk, but the public API needs API 26 for: ${api26.take(5)}", minSdk >= 26)
    }

    @Test
    fun `the Gradle build declares every library the Kotlin sources import`() {
        val sources = listOf(android.resolve("src/main/kotlin"), repo.resolve("bindings/kotlin/jvm/src/main/kotlin"), generatedKotlin)
            .flatMap { dir -> dir.walk().filter { it.extension == "kt" }.toList() }
        assertTrue(sources.size > 5)
        val imports = sources.flatMap { file -> file.readLines().filter { it.startsWith("import ") } }.toSet()
        val needs = mapOf(
            "kotlinx.coroutines" to "org.jetbrains.kotlinx:kotlinx-coroutines-",
            "com.sun.jna" to "net.java.dev.jna:jna:",
            "okhttp3" to "com.squareup.okhttp3:okhttp:",
        )
        for ((pkg, artifact) in needs) {
            assertTrue("some source imports $pkg", imports.any { it.startsWith("import $pkg.") })
            assertTrue("build.gradle.kts must declare $artifact (imported: $pkg)", artifact in gradle)
        }
    }

    @Test
    fun `native libraries and bindings come from build output, never from src`() {
        assertFalse("jniLibs must not be written into src/", "src/main/jniLibs" in gradle)
        assertTrue(Regex("""jniLibs\.srcDirs\(jniLibsDir""").containsMatchIn(gradle))
        assertTrue("target/android/jniLibs" in gradle)
        assertFalse(android.resolve("src/main/jniLibs").exists())
    }

    @Test
    fun `consumer rules keep every class JNA reaches by name or reflection`() {
        val rules = ProguardRules(android.resolve("consumer-rules.pro").readText())
        val structure = Class.forName("com.sun.jna.Structure")
        val callback = Class.forName("com.sun.jna.Callback")
        val library = Class.forName("com.sun.jna.Library")
        val reached = aarClasses.mapNotNull { type ->
            when {
                structure.isAssignableFrom(type) -> type to "extends com.sun.jna.Structure"
                callback.isAssignableFrom(type) -> type to "implements com.sun.jna.Callback"
                library.isAssignableFrom(type) -> type to "implements com.sun.jna.Library"
                type.declaredMethods.any { Modifier.isNative(it.modifiers) } -> type to "native"
                else -> null
            }
        }
        assertTrue("the bindings have JNA structures, callbacks and native methods", reached.size > 10)
        assertTrue(reached.any { it.second == "native" })
        val missing = reached.filterNot { (type, how) -> rules.keeps(type.name, how) }
        assertEquals("classes JNA needs that R8 may rename or remove", emptyList<Any>(), missing.map { it.first.name })
        assertTrue("JNA itself", rules.keeps("com.sun.jna.Native", ""))
    }

    /**
     * The subset of ProGuard/R8 syntax the consumer rules use: `-keep class <pattern>` (with `*`
     * and `**`) keeps classes by name, `class * extends|implements <type>` keeps members of
     * subtypes, `class * { native <methods>; }` keeps native method names.
     */
    private class ProguardRules(text: String) {
        private val rules = text.lines().map { it.trim() }.filter { it.startsWith("-keep") }

        fun keeps(name: String, how: String): Boolean = rules.any { rule ->
            val byName = Regex("""^-keep\S*\s+class\s+([\w.*$]+)\s*(\{|$)""").find(rule)?.groupValues?.get(1)
            when {
                byName != null && byName != "*" && matches(byName, name) -> true
                how == "native" -> "native <methods>" in rule
                how.isNotEmpty() -> Regex("""class \* ${Regex.escape(how)}\b""").containsMatchIn(rule)
                else -> false
            }
        }

        private fun matches(pattern: String, name: String): Boolean {
            val regex = pattern.split("**").joinToString(".*") { part -> part.split("*").joinToString("[^.]*") { Regex.escape(it) } }
            return Regex(regex).matches(name)
        }
    }
}
