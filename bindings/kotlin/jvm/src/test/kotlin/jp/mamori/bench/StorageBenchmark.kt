package jp.mamori.bench

import com.google.crypto.tink.Aead
import com.google.crypto.tink.KeyTemplates
import com.google.crypto.tink.KeysetHandle
import com.google.crypto.tink.RegistryConfiguration
import com.google.crypto.tink.StreamingAead
import com.google.crypto.tink.aead.AeadConfig
import com.google.crypto.tink.streamingaead.StreamingAeadConfig
import jp.mamori.JvmAesGcmKek
import jp.mamori.SecureStorage
import jp.mamori.ffi.SecurityLevel
import java.lang.management.ManagementFactory
import java.lang.management.MemoryType
import java.nio.channels.FileChannel
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardCopyOption
import java.nio.file.StandardOpenOption
import java.security.SecureRandom
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.spec.GCMParameterSpec

/**
 * Storage through the Kotlin API against Tink Java and raw `javax.crypto`, all doing the same
 * durable round trip: encrypt, write atomically (temporary file, fsync, rename, fsync of the
 * directory, as Mamori's `put` does), read back, decrypt. Then a 256 MiB file streamed through
 * Mamori's `encryptFile`/`decryptFile` and through Tink's `StreamingAead`
 * (AES256_GCM_HKDF_1MB), with throughput and the peak heap of each.
 */
internal fun storageBenchmark() {
    println("\n== Storage: seal + open of one item (encrypt, atomic durable write, read, decrypt) ==")
    AeadConfig.register()
    StreamingAeadConfig.register()
    val dir = Files.createTempDirectory("mamori-bench")
    try {
        val storage = SecureStorage.builder(dir.resolve("vault"), JvmAesGcmKek.generate())
            .minSecurityLevel(SecurityLevel.SOFTWARE)
            .build()
        val tink = KeysetHandle.generateNew(KeyTemplates.get("AES256_GCM"))
            .getPrimitive(RegistryConfiguration.get(), Aead::class.java)
        val jcaKey = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()
        val random = SecureRandom()
        val ratios = mutableListOf<String>()
        for ((label, size, ops) in listOf(Triple("1 KiB", 1024, 400), Triple("1 MiB", 1 shl 20, 10))) {
            val data = ByteArray(size).also(random::nextBytes)
            val aad = "item".toByteArray()
            val contenders = listOf(
                "$label Mamori SecureStorage put + get" to {
                    storage.put("item", data)
                    check(storage.get("item").size == size)
                },
                "$label Tink Aead (AES256_GCM) + atomic file" to {
                    atomicWrite(dir, "tink.bin", tink.encrypt(data, aad))
                    check(tink.decrypt(Files.readAllBytes(dir.resolve("tink.bin")), aad).size == size)
                },
                "$label javax.crypto AES/GCM + atomic file" to {
                    val iv = ByteArray(12).also(random::nextBytes)
                    val enc = Cipher.getInstance("AES/GCM/NoPadding").apply {
                        init(Cipher.ENCRYPT_MODE, jcaKey, GCMParameterSpec(128, iv)); updateAAD(aad)
                    }
                    atomicWrite(dir, "jca.bin", iv + enc.doFinal(data))
                    val sealed = Files.readAllBytes(dir.resolve("jca.bin"))
                    val dec = Cipher.getInstance("AES/GCM/NoPadding").apply {
                        init(Cipher.DECRYPT_MODE, jcaKey, GCMParameterSpec(128, sealed, 0, 12)); updateAAD(aad)
                    }
                    check(dec.doFinal(sealed, 12, sealed.size - 12).size == size)
                },
            )
            val (perOpUs, ratio) = interleaved(contenders, opsPerRound = ops, rounds = 25)
            ratios += ("%s: Tink / Mamori = %.2fx (>= 1: Mamori at least as fast); Mamori / javax.crypto = %.2fx " +
                "(medians of per-round ratios; per op: Mamori %.1f µs, Tink %.1f µs, javax.crypto %.1f µs)")
                .format(label, ratio[1], 1 / ratio[2], perOpUs[0], perOpUs[1], perOpUs[2])
        }

        println("\n== Storage: 256 MiB file, encrypt + decrypt streaming ==")
        val plain = dir.resolve("plain.bin")
        Files.newOutputStream(plain).use { out ->
            val chunk = ByteArray(1 shl 20)
            repeat(256) { random.nextBytes(chunk); out.write(chunk) }
        }
        val streaming = KeysetHandle.generateNew(KeyTemplates.get("AES256_GCM_HKDF_1MB"))
            .getPrimitive(RegistryConfiguration.get(), StreamingAead::class.java)
        val mib = 256.0
        val (mamoriS, mamoriHeap) = timedWithHeap {
            storage.encryptFile("big", plain, dir.resolve("big.mamori"))
            storage.decryptFile("big", dir.resolve("big.mamori"), dir.resolve("big.out"))
        }
        println("  %-62s %9.0f MiB/s  peak heap %d MiB".format("Mamori encryptFile + decryptFile", 2 * mib / mamoriS, mamoriHeap shr 20))
        val (tinkS, tinkHeap) = timedWithHeap {
            val aad = "big".toByteArray()
            Files.newInputStream(plain).use { input ->
                streaming.newEncryptingStream(Files.newOutputStream(dir.resolve("big.tink")), aad).use { input.copyTo(it, 1 shl 16) }
            }
            streaming.newDecryptingStream(Files.newInputStream(dir.resolve("big.tink")), aad).use { input ->
                Files.newOutputStream(dir.resolve("big.tink.out")).use { input.copyTo(it, 1 shl 16) }
            }
        }
        println("  %-62s %9.0f MiB/s  peak heap %d MiB".format("Tink StreamingAead AES256_GCM_HKDF_1MB", 2 * mib / tinkS, tinkHeap shr 20))
        check(Files.mismatch(plain, dir.resolve("big.out")) == -1L && Files.mismatch(plain, dir.resolve("big.tink.out")) == -1L)
        ratios += "256 MiB file: Mamori / Tink throughput = %.2fx; peak heap Mamori %d MiB, Tink %d MiB"
            .format(tinkS / mamoriS, mamoriHeap shr 20, tinkHeap shr 20)
        storage.close()
        println("ratios:")
        ratios.forEach { println("  $it") }
    } finally {
        dir.toFile().deleteRecursively()
    }
}

/**
 * Runs the contenders interleaved: each round times [opsPerRound] calls of every contender, in an
 * order that rotates from round to round, so that a change of the machine's load hits all of them
 * alike. Returns each contender's median µs per op and, per contender, the median over rounds of
 * (its time / the first contender's time) in the same round.
 */
internal fun interleaved(contenders: List<Pair<String, () -> Unit>>, opsPerRound: Int, rounds: Int): Pair<List<Double>, List<Double>> {
    val warmupEnd = System.nanoTime() + 3_000_000_000L
    do { contenders.forEach { (_, op) -> repeat(opsPerRound) { op() } } } while (System.nanoTime() < warmupEnd)
    val times = List(contenders.size) { mutableListOf<Double>() }
    val ratios = List(contenders.size) { mutableListOf<Double>() }
    repeat(rounds) { round ->
        val us = DoubleArray(contenders.size)
        for (k in contenders.indices) {
            val i = (k + round) % contenders.size
            val start = System.nanoTime()
            repeat(opsPerRound) { contenders[i].second() }
            us[i] = (System.nanoTime() - start) / 1000.0 / opsPerRound
        }
        us.forEachIndexed { i, t -> times[i] += t; ratios[i] += t / us[0] }
    }
    fun median(v: List<Double>) = v.sorted()[v.size / 2]
    contenders.forEachIndexed { i, (name, _) ->
        println("  %-62s %9.1f µs/op  (median of %d interleaved rounds; / first: %.2f)".format(name, median(times[i]), rounds, median(ratios[i])))
    }
    return times.map(::median) to ratios.map(::median)
}

/** Writes [bytes] to [dir]/[name] as Mamori's store does: temporary file, fsync, rename, fsync of the directory. */
internal fun atomicWrite(dir: Path, name: String, bytes: ByteArray) {
    val tmp = dir.resolve("$name.tmp")
    FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING).use {
        it.write(java.nio.ByteBuffer.wrap(bytes)); it.force(true)
    }
    Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING)
    FileChannel.open(dir, StandardOpenOption.READ).use { it.force(true) }
}

/** Seconds [block] took and the heap's peak use while it ran (after a GC, peaks reset). */
private fun timedWithHeap(block: () -> Unit): Pair<Double, Long> {
    val pools = ManagementFactory.getMemoryPoolMXBeans().filter { it.type == MemoryType.HEAP }
    System.gc()
    pools.forEach { it.resetPeakUsage() }
    val start = System.nanoTime()
    block()
    val seconds = (System.nanoTime() - start) / 1e9
    return seconds to pools.sumOf { it.peakUsage.used }
}
