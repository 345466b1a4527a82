package jp.mamori

import jp.mamori.ffi.PinningEngine
import java.nio.file.Files
import java.nio.file.Path

/**
 * SDK initialisation cost, measured the way an app pays it at start-up: the first call into the
 * native library (JNA loads and links `libmamori_ffi`), building a pinning engine from a policy,
 * creating a secure store and opening it again. Shared with the Robolectric suite (test-jar).
 */
public object InitCost {
    public class Figures(public val loadMillis: Double, public val engineMillis: Double, public val createStoreMillis: Double, public val openStoreMillis: Double) {
        override fun toString(): String =
            "first native call (library load) %.1f ms, pinning engine %.1f ms, store create %.1f ms, store open %.1f ms"
                .format(loadMillis, engineMillis, createStoreMillis, openStoreMillis)

        /** Every step under [limitMillis]: a start-up cost an app can afford on its main path. */
        public fun allUnder(limitMillis: Double): Boolean =
            listOf(loadMillis, engineMillis, createStoreMillis, openStoreMillis).all { it < limitMillis }
    }

    /** Measures the four steps; [openStore] opens (or creates) a store in the directory it is given. */
    public fun measure(policy: String, openStore: (Path) -> AutoCloseable): Figures {
        val load = millis { check(Mamori.nativeVersion.isNotEmpty()) }
        val engine = millis { PinningEngine.fromToml(policy).close() }
        val dir = Files.createTempDirectory("mamori-init")
        try {
            val create = millis { openStore(dir).close() }
            val open = millis { openStore(dir).close() }
            return Figures(load, engine, create, open)
        } finally {
            dir.toFile().deleteRecursively()
        }
    }

    private inline fun millis(block: () -> Unit): Double {
        val start = System.nanoTime()
        block()
        return (System.nanoTime() - start) / 1e6
    }
}
