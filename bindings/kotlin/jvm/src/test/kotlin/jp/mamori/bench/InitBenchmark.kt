package jp.mamori.bench

import com.sun.jna.Library
import com.sun.jna.Native
import jp.mamori.InitCost
import jp.mamori.JvmAesGcmKek
import jp.mamori.SecureStorage
import jp.mamori.TestPki
import jp.mamori.ffi.PinningEngine
import jp.mamori.ffi.SecurityLevel
import java.io.File
import java.net.URLClassLoader
import java.nio.file.Path

/**
 * SDK initialisation on the desktop JVM (`cargo xtask kotlin-bench --init`): the one-time
 * costs in fresh processes, then [InitCost]'s warmed steps with their contenders.
 *
 * A process pays the library load once, so it is measured in [processes] fresh JVMs (the same
 * classpath and `jna.library.path`), each timing its first call into Mamori and then its first
 * pinning engine (which also reads the bundled public-suffix list); the contender is JNA's
 * first call into libc in the same kind of fresh JVM, the share of the load that is JNA's own.
 */
internal fun initBenchmark() {
    val here = InitCost.firstNativeCallMillis()
    val processes = Integer.getInteger("mamori.bench.processes", 7)
    println("\n== Initialisation (JVM): first calls in $processes fresh JVMs, median ==")
    println("  (this JVM's own first native call: %.1f ms)".format(here))
    val mamori = (1..processes).map { firstCalls("mamori") }
    val jna = (1..processes).map { firstCalls("jna-libc") }
    val load = median(mamori.map { it[0] })
    val engine = median(mamori.map { it[1] })
    val libc = median(jna.map { it[0] })
    println("  %-62s %9.1f ms".format("first Mamori call (JNA loads libmamori_ffi, uniffi checks)", load))
    println("  %-62s %9.1f ms".format("first JNA call into libc (contender)", libc))
    println("  %-62s %9.1f ms".format("first PinningEngine.fromToml (incl. public-suffix list)", engine))
    println("ratios (JVM): first Mamori call / first JNA libc call = %.2fx".format(load / libc))

    val kek = JvmAesGcmKek.generate()
    InitCost.benchmark("JVM", TestPki(), kek, object : InitCost.Store {
        override fun create(dir: Path, name: String, value: ByteArray) =
            storage(dir, kek).use { it.put(name, value) }

        override fun openAndGet(dir: Path, name: String): ByteArray = storage(dir, kek).use { it.get(name) }
    })
}

private fun storage(dir: Path, kek: JvmAesGcmKek): SecureStorage =
    SecureStorage.builder(dir, kek).minSecurityLevel(SecurityLevel.SOFTWARE).build()

private fun median(values: List<Double>): Double = values.sorted()[values.size / 2]

/** Runs [firstCallMain] in a fresh JVM and returns the milliseconds it printed. */
private fun firstCalls(mode: String): List<Double> {
    val java = File(System.getProperty("java.home"), "bin/java").path
    val command = listOf(java, "-cp", classpath(), "-Djna.library.path=${System.getProperty("jna.library.path")}",
        "jp.mamori.bench.InitBenchmarkKt", mode)
    val process = ProcessBuilder(command).redirectErrorStream(true).start()
    val out = process.inputStream.bufferedReader().readText()
    check(process.waitFor() == 0) { "fresh JVM ($mode) failed: $out" }
    val line = out.lines().single { it.startsWith("first-calls ") }
    return line.removePrefix("first-calls ").split(' ').map { it.toDouble() }
}

/** The benchmark's classpath: exec:java runs it in a class loader of its own. */
private fun classpath(): String {
    var loader: ClassLoader? = InitCost::class.java.classLoader
    while (loader != null) {
        if (loader is URLClassLoader && loader.urLs.isNotEmpty()) {
            return loader.urLs.joinToString(File.pathSeparator) { File(it.toURI()).path }
        }
        loader = loader.parent
    }
    return System.getProperty("java.class.path")
}

private interface LibC : Library {
    fun getpid(): Int
}

/** The fresh JVM's side: times its first calls and prints them (milliseconds). */
fun main(args: Array<String>) {
    fun millis(block: () -> Unit): Double {
        val start = System.nanoTime()
        block()
        return (System.nanoTime() - start) / 1e6
    }
    when (args.single()) {
        "mamori" -> {
            val policy = InitCost.policy(TestPki())
            val load = InitCost.firstNativeCallMillis()
            val engine = millis { PinningEngine.fromToml(policy).close() }
            println("first-calls $load $engine")
        }
        "jna-libc" -> println("first-calls ${millis { check(Native.load("c", LibC::class.java).getpid() > 0) }}")
        else -> error("mode: mamori | jna-libc")
    }
}
