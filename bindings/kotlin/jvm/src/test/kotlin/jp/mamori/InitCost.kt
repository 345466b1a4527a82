package jp.mamori

import jp.mamori.bench.atomicWrite
import jp.mamori.bench.perOp
import jp.mamori.ffi.KeyEncryptionKey
import jp.mamori.ffi.PinningEngine
import okhttp3.CertificatePinner
import java.io.ByteArrayInputStream
import java.nio.file.Files
import java.nio.file.Path
import java.security.KeyStore
import java.security.SecureRandom
import java.security.cert.CertificateFactory
import javax.crypto.Cipher
import javax.crypto.spec.GCMParameterSpec
import javax.crypto.spec.SecretKeySpec
import javax.net.ssl.TrustManagerFactory

/**
 * SDK initialisation as a benchmark (`cargo xtask kotlin-bench --init`, figures in the README,
 * "Size and start-up figures"), shared by the desktop JVM run and the Robolectric one
 * (test-jar). Each step is a warmed loop (median of rounds, [perOp]) beside a contender doing the
 * same job with the JDK alone, in the same run:
 *
 * - pinning engine from a policy (its trust anchor in PEM, two pins, a `**.` rule, so the
 *   public-suffix check runs) against a `TrustManagerFactory` over a `KeyStore` holding the same
 *   anchor parsed from the same PEM plus OkHttp's `CertificatePinner` with the same pins;
 * - store creation plus the first item against a plain store: a random data key wrapped by the
 *   same KEK, the item sealed with AES-GCM, both written atomically and durably (temporary
 *   file, fsync, rename, fsync of the directory, as Mamori writes);
 * - store open plus the first read against reading both files back and unwrapping/decrypting.
 *
 * The first native call (JNA loading and linking `libmamori_ffi`) happens once per process:
 * [firstNativeCallMillis] times it where it happens, and the JVM benchmark repeats it in fresh
 * processes. Nothing here asserts a time.
 */
public object InitCost {
    /** The policy the engine step builds: [pki]'s anchor, two pins, one host and one `**.` rule. */
    public fun policy(pki: TestPki): String = pki.policy(
        rule(PINNED_HOST, pin(pki.intermediate), pin(pki.spare1)),
        rule("**.mamori.test", pin(pki.intermediate), pin(pki.spare1)),
    )

    /** Milliseconds of this process's first call into the native library (call it first). */
    public fun firstNativeCallMillis(): Double {
        val start = System.nanoTime()
        check(Mamori.nativeVersion.isNotEmpty())
        return (System.nanoTime() - start) / 1e6
    }

    /** One Mamori store, as the platform under test builds it. */
    public interface Store {
        /** Creates a store in the empty directory [dir] and puts [value] under [name]. */
        public fun create(dir: Path, name: String, value: ByteArray)

        /** Opens the store in [dir] and reads [name]. */
        public fun openAndGet(dir: Path, name: String): ByteArray
    }

    /**
     * Runs the three steps and prints each figure and the Mamori / contender ratios under
     * [label]. [kek] is the one the Mamori store uses; the contender wraps its data key with it.
     */
    public fun benchmark(label: String, pki: TestPki, kek: KeyEncryptionKey, store: Store, ops: Int = 200) {
        println("\n== Initialisation ($label): warmed loops, median of 5 rounds of $ops ==")
        val policy = policy(pki)
        val pins = listOf(pin(pki.intermediate), pin(pki.spare1))
        val anchorPem = pki.root.certificatePem()
        val engine = perOp("Mamori PinningEngine.fromToml", warmup = ops, ops = ops, rounds = 5) {
            PinningEngine.fromToml(policy).close()
        }
        val jdkEngine = perOp("JDK TrustManagerFactory(KeyStore) + OkHttp CertificatePinner", warmup = ops, ops = ops, rounds = 5) {
            val anchor = CertificateFactory.getInstance("X.509").generateCertificate(ByteArrayInputStream(anchorPem.toByteArray()))
            val keyStore = KeyStore.getInstance(KeyStore.getDefaultType()).apply { load(null, null); setCertificateEntry("anchor", anchor) }
            val tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm()).apply { init(keyStore) }
            check(tmf.trustManagers.isNotEmpty())
            CertificatePinner.Builder().add(PINNED_HOST, *pins.toTypedArray()).add("**.mamori.test", *pins.toTypedArray()).build()
        }

        val root = Files.createTempDirectory("mamori-init-bench")
        try {
            val value = ByteArray(64).also(random::nextBytes)
            var n = 0
            fun fresh(): Path = root.resolve("s${n++}").also { Files.createDirectory(it) }
            val mamoriDir = fresh().also { store.create(it, "token", value) }
            val plainDir = fresh().also { PlainStore.create(it, kek, value) }
            val create = perOp("Mamori store create + first put", warmup = ops, ops = ops, rounds = 5) {
                store.create(fresh(), "token", value)
            }
            val plainCreate = perOp("javax.crypto: data key wrapped by the KEK + item, atomic files", warmup = ops, ops = ops, rounds = 5) {
                PlainStore.create(fresh(), kek, value)
            }
            val open = perOp("Mamori store open + first get", warmup = ops, ops = ops, rounds = 5) {
                check(store.openAndGet(mamoriDir, "token").contentEquals(value))
            }
            val plainOpen = perOp("javax.crypto: read + unwrap the data key, read + decrypt the item", warmup = ops, ops = ops, rounds = 5) {
                check(PlainStore.openAndGet(plainDir, kek).contentEquals(value))
            }
            println("ratios ($label, Mamori / contender; the contender does less: no canary, settings or lock):")
            println("  pinning engine: %.2fx; store create: %.2fx; store open + get: %.2fx"
                .format(engine / jdkEngine, create / plainCreate, open / plainOpen))
        } finally {
            root.toFile().deleteRecursively()
        }
    }

    private val random = SecureRandom()

    /** The contender: the least a store does with javax.crypto and files. */
    private object PlainStore {
        private val aad = "plain-store".toByteArray()

        fun create(dir: Path, kek: KeyEncryptionKey, value: ByteArray) {
            val dek = ByteArray(32).also(random::nextBytes)
            val sealed = aesGcm(Cipher.ENCRYPT_MODE, dek, value)
            atomicWrite(dir, "key", kek.wrap(dek, aad))
            atomicWrite(dir, "token", sealed)
        }

        fun openAndGet(dir: Path, kek: KeyEncryptionKey): ByteArray {
            val dek = kek.unwrap(Files.readAllBytes(dir.resolve("key")), aad)
            try {
                return aesGcm(Cipher.DECRYPT_MODE, dek, Files.readAllBytes(dir.resolve("token")))
            } finally {
                dek.fill(0)
            }
        }

        private fun aesGcm(mode: Int, key: ByteArray, input: ByteArray): ByteArray {
            val cipher = Cipher.getInstance("AES/GCM/NoPadding")
            return if (mode == Cipher.ENCRYPT_MODE) {
                val iv = ByteArray(12).also(random::nextBytes)
                cipher.init(mode, SecretKeySpec(key, "AES"), GCMParameterSpec(128, iv))
                iv + cipher.doFinal(input)
            } else {
                cipher.init(mode, SecretKeySpec(key, "AES"), GCMParameterSpec(128, input, 0, 12))
                cipher.doFinal(input, 12, input.size - 12)
            }
        }
    }
}
