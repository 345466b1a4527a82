package jp.mamori.android

import com.android.tools.r8.ClassFileConsumer
import com.android.tools.r8.CompilationMode
import com.android.tools.r8.Diagnostic
import com.android.tools.r8.DiagnosticsHandler
import com.android.tools.r8.JdkClassFileProvider
import com.android.tools.r8.R8
import com.android.tools.r8.R8Command
import com.android.tools.r8.origin.Origin
import jp.mamori.android.r8app.ShrunkApp
import org.junit.AfterClass
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNotEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import java.io.File
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.TimeUnit
import java.util.jar.JarEntry
import java.util.jar.JarOutputStream

/**
 * The AAR's R8 consumer rules (bindings/kotlin/android/consumer-rules.pro) applied by the real R8
 * (`com.android.tools:r8`, the shrinker of the Android Gradle Plugin) to a minimal app
 * ([ShrunkApp]) with Mamori's JVM facade, the uniffi-generated bindings, JNA, Kotlin,
 * coroutines and OkHttp as program input, in release mode (tree shaking, optimisation,
 * obfuscation), written as class files; the shrunk app then runs in a fresh JVM against the real
 * `libmamori_ffi` through JNA. Without the consumer rules the same app fails, so this test fails
 * when the rules miss what JNA and uniffi reach by name.
 *
 * Not covered: DEX and ART (R8 writes class files for the JVM here; the keep decisions, which are
 * what the rules are about, are the same for both back ends) and the `jp.mamori.android` classes,
 * which need an Android runtime (they reach JNA only through the same generated bindings).
 */
class ConsumerRulesR8Test {
    private val repo = File(System.getProperty("mamori.repo.root") ?: error("mamori.repo.root not set")).canonicalFile
    private val consumerRules = repo.resolve("bindings/kotlin/android/consumer-rules.pro").toPath()

    /** What the app itself keeps: its entry point. Warnings about the libraries' optional dependencies are theirs. */
    private val appRules = listOf(
        "-keep class ${ShrunkApp::class.java.name} { public static void main(java.lang.String[]); }",
        "-dontwarn org.conscrypt.**", "-dontwarn org.bouncycastle.**", "-dontwarn org.openjsse.**",
        "-dontwarn android.**", "-dontwarn dalvik.**", "-dontwarn kotlinx.coroutines.debug.**",
        "-dontwarn java.lang.instrument.**", "-dontwarn sun.misc.**", "-dontwarn javax.annotation.**",
        "-dontwarn org.codehaus.mojo.animal_sniffer.**", "-dontwarn java.awt.**",
    )

    @Test
    fun `the app shrunk with the consumer rules runs against the native library`() {
        val run = runShrunk(withConsumerRules = true)
        assertEquals(run.output, 0, run.exit)
        assertTrue(run.output, "mamori r8 app ok" in run.output)
        assertTrue("R8 renamed something (obfuscation is on): ${run.renamed}", run.renamed > 0)
    }

    @Test
    fun `without the consumer rules the shrunk app fails, so the rules are what keeps it working`() {
        val run = runShrunk(withConsumerRules = false)
        assertNotEquals("the app must break without the JNA/uniffi keep rules:\n${run.output}", 0, run.exit)
    }

    private class Run(val exit: Int, val output: String, val renamed: Int)

    private fun runShrunk(withConsumerRules: Boolean): Run {
        val dir = Files.createTempDirectory(work, if (withConsumerRules) "with" else "without")
        val out = dir.resolve("app-shrunk.jar")
        val mapping = dir.resolve("mapping.txt")
        val errors = mutableListOf<String>()
        val command = R8Command.builder(object : DiagnosticsHandler {
            override fun error(diagnostic: Diagnostic) {
                errors += diagnostic.diagnosticMessage
            }
        })
            // listOf: a Path is an Iterable of its name segments, so `list + path` would add those.
            .addProgramFiles(programJars() + listOf(appJar(dir)))
            .addLibraryResourceProvider(JdkClassFileProvider.fromSystemJdk())
            .addProguardConfiguration(appRules, Origin.unknown())
            .apply { if (withConsumerRules) addProguardConfigurationFiles(consumerRules) }
            .setMode(CompilationMode.RELEASE)
            .setProguardMapOutputPath(mapping)
            .setProgramConsumer(ClassFileConsumer.ArchiveConsumer(out, true))
            .build()
        // R8 reports its errors to the handler, then throws: the message names them.
        runCatching { R8.run(command) }.onFailure { throw AssertionError("R8 failed: $errors", it) }
        assertTrue("R8 errors: $errors", errors.isEmpty())
        val renamed = Files.readAllLines(mapping).count { line ->
            !line.startsWith(" ") && !line.startsWith("#") && "->" in line && line.substringBefore(" ->") != line.substringAfter("-> ").removeSuffix(":")
        }
        val java = File(System.getProperty("java.home"), "bin/java").path
        val process = ProcessBuilder(
            java, "-cp", out.toString(),
            "-Djna.library.path=${System.getProperty("jna.library.path") ?: error("jna.library.path not set")}",
            ShrunkApp::class.java.name,
        ).redirectErrorStream(true).start()
        val output = process.inputStream.bufferedReader().readText()
        check(process.waitFor(120, TimeUnit.SECONDS)) { "the shrunk app did not finish" }
        return Run(process.exitValue(), output, renamed)
    }

    /** The jars an app would ship with Mamori: each found by a class it must contain. */
    private fun programJars(): List<Path> = listOf(
        "jp.mamori.SecureStorage", "jp.mamori.ffi.SecureStore", "com.sun.jna.Native", "kotlin.Unit",
        "kotlinx.coroutines.Job", "okhttp3.OkHttpClient", "okio.Buffer",
        // kotlin-stdlib's dependency org.jetbrains:annotations, which an app's build ships too.
        "org.jetbrains.annotations.NotNull",
    ).map { name ->
        // Not initialised: the bindings' native registration belongs to the shrunk app's JVM.
        File(Class.forName(name, false, javaClass.classLoader).protectionDomain.codeSource.location.toURI()).toPath()
    }.distinct()
        .also { jars -> jars.forEach { check(Files.isRegularFile(it)) { "not a jar (run mvn verify, not test): $it" } } }

    /** [ShrunkApp]'s class files (from the test classes) as a jar of their own. */
    private fun appJar(dir: Path): Path {
        val classes = File(ShrunkApp::class.java.protectionDomain.codeSource.location.toURI())
        val pkg = ShrunkApp::class.java.packageName.replace('.', '/')
        val jar = dir.resolve("app.jar")
        JarOutputStream(Files.newOutputStream(jar)).use { zip ->
            classes.resolve(pkg).listFiles { f -> f.extension == "class" }!!.forEach { f ->
                zip.putNextEntry(JarEntry("$pkg/${f.name}"))
                zip.write(f.readBytes())
                zip.closeEntry()
            }
        }
        return jar
    }

    companion object {
        private val work: Path = Files.createTempDirectory("mamori-r8-test")

        @JvmStatic
        @AfterClass
        fun cleanUp() {
            work.toFile().deleteRecursively()
        }
    }
}
