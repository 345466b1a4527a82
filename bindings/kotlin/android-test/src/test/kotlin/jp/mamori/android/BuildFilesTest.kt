package jp.mamori.android

import android.app.Activity
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Test
import java.io.File
import java.lang.reflect.Modifier
import java.nio.file.Files
import java.util.jar.JarFile

/**
 * The Android build files (bindings/kotlin/android: build.gradle.kts, consumer-rules.pro; the
 * example app's build.gradle.kts and AndroidManifest.xml) cannot be run here (no Android Gradle
 * Plugin, no R8, no aapt2): these tests check what they promise against the compiled classes and
 * the sources that go into the AAR and the app.
 */
class BuildFilesTest {
    private val repo = File(System.getProperty("mamori.repo.root") ?: error("mamori.repo.root not set")).canonicalFile
    private val android = repo.resolve("bindings/kotlin/android")
    private val example = repo.resolve("android-example")
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
        assertDeclaresImports(
            "bindings/kotlin/android/build.gradle.kts", gradle,
            listOf(android.resolve("src/main/kotlin"), repo.resolve("bindings/kotlin/jvm/src/main/kotlin"), generatedKotlin),
            mapOf(
                "kotlinx.coroutines" to "org.jetbrains.kotlinx:kotlinx-coroutines-",
                "com.sun.jna" to "net.java.dev.jna:jna:",
                "okhttp3" to "com.squareup.okhttp3:okhttp:",
                "okio" to "com.squareup.okhttp3:okhttp:", // an `api` dependency of OkHttp's
            ),
            own = "jp.mamori",
        )
    }

    /**
     * The example app's build declares what its sources import: the AAR's own dependencies are
     * `implementation` (runtime scope in its POM), so they are not on the app's compile classpath.
     */
    @Test
    fun `the example's Gradle build declares every library its sources import`() {
        assertDeclaresImports(
            "android-example/build.gradle.kts", example.resolve("build.gradle.kts").readText(),
            listOf(example.resolve("src/main/kotlin")),
            mapOf(
                "jp.mamori" to "jp.mamori:mamori-android:",
                "kotlinx.coroutines" to "org.jetbrains.kotlinx:kotlinx-coroutines-",
                "okhttp3" to "com.squareup.okhttp3:okhttp:",
            ),
            own = "jp.mamori.example",
        )
    }

    /** Every import of [dirs] is [own], the platform's, or a library of [needs] that [gradle] declares. */
    private fun assertDeclaresImports(name: String, gradle: String, dirs: List<File>, needs: Map<String, String>, own: String) {
        val sources = dirs.flatMap { dir -> dir.walk().filter { it.extension == "kt" }.toList() }
        assertTrue("$name: Kotlin sources in $dirs", sources.isNotEmpty())
        val imports = sources.flatMap { file -> file.readLines().filter { it.startsWith("import ") } }.toSet()
        for ((pkg, artifact) in needs) {
            assertTrue("some source imports $pkg", imports.any { it.startsWith("import $pkg.") })
            assertTrue("$name must declare $artifact (imported: $pkg)", artifact in gradle)
        }
        val known = needs.keys + listOf(own, "android", "java", "javax", "kotlin")
        val undeclared = imports.map { it.removePrefix("import ").trim() }
            .filterNot { import -> known.any { import.startsWith("$it.") } }
        assertEquals("$name: imports of libraries the test does not map to an artifact", emptyList<String>(), undeclared)
    }

    /**
     * The example's manifest (Robolectric runs its Activity without one): the launcher Activity
     * it names exists in the namespace build.gradle.kts gives, is exported (required from API 31
     * for an intent filter), the app may use the network (its pinned HTTPS call), and `<queries>`
     * names every package DeviceCollector looks up, as `packagesVisible = true` in the Activity
     * promises (on Android 11+ a package not named there is invisible, a misleading "absent").
     */
    @Test
    fun `the example's manifest launches its Activity and declares what it uses`() {
        val ns = "http://schemas.android.com/apk/res/android"
        val manifest = javax.xml.parsers.DocumentBuilderFactory.newInstance().apply { isNamespaceAware = true }
            .newDocumentBuilder().parse(example.resolve("src/main/AndroidManifest.xml")).documentElement
        fun elements(tag: String) = manifest.getElementsByTagName(tag).let { list -> (0 until list.length).map { list.item(it) as org.w3c.dom.Element } }
        val namespace = Regex("""namespace\s*=\s*"([\w.]+)"""").find(example.resolve("build.gradle.kts").readText())?.groupValues?.get(1)
            ?: error("no namespace in android-example/build.gradle.kts")
        val launcher = elements("activity").single { activity ->
            val actions = activity.getElementsByTagName("action").let { l -> (0 until l.length).map { (l.item(it) as org.w3c.dom.Element).getAttributeNS(ns, "name") } }
            "android.intent.action.MAIN" in actions
        }
        assertEquals("true", launcher.getAttributeNS(ns, "exported"))
        val name = launcher.getAttributeNS(ns, "name").let { if (it.startsWith(".")) namespace + it else it }
        val activity = Class.forName(name, false, javaClass.classLoader)
        assertTrue("$name is an Activity", Activity::class.java.isAssignableFrom(activity))
        assertTrue(elements("uses-permission").any { it.getAttributeNS(ns, "name") == "android.permission.INTERNET" })
        val queried = elements("package").map { it.getAttributeNS(ns, "name") }.toSet()
        // MamoriDevice.knownPackages reads this table; called here, outside a Robolectric sandbox,
        // it would bind the native library's callback tables to this class loader's bindings.
        val table = repo.resolve("core/src/device/indicators.json").readText()
        val known = Regex(""""kind":\s*"package",\s*"target":\s*"([\w.]+)"""").findAll(table).map { it.groupValues[1] }.toSet()
        assertTrue("${known.size} known packages", known.size > 10)
        assertEquals(known, queried)
        assertTrue(example.resolve("src/main/kotlin/jp/mamori/example/LoginActivity.kt").readText().contains("packagesVisible = true"))
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
