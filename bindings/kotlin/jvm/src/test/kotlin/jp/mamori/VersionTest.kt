package jp.mamori

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test
import java.nio.file.Files
import java.nio.file.Path

/** Proves the FFI round trip: Kotlin -> JNA -> the Rust cdylib -> a Rust `String` back. */
class VersionTest {
    @Test
    fun `native version equals the Cargo version of mamori-ffi`() {
        assertEquals(cargoVersion(), Mamori.nativeVersion)
    }

    /** The crate version from bindings/Cargo.toml, following `version.workspace = true`. */
    private fun cargoVersion(): String {
        val root = TestFiles.repoRoot
        val crate = Files.readString(root.resolve("bindings/Cargo.toml"))
        if (Regex("""(?m)^version\.workspace\s*=\s*true""").containsMatchIn(crate)) {
            val workspace = Files.readString(root.resolve("Cargo.toml"))
            val section = workspace.substringAfter("[workspace.package]").substringBefore("\n[")
            return versionIn(section) ?: error("no version in [workspace.package] of Cargo.toml")
        }
        return versionIn(crate) ?: error("no version in bindings/Cargo.toml")
    }

    private fun versionIn(toml: String): String? =
        Regex("""(?m)^version\s*=\s*"([^"]+)"""").find(toml)?.groupValues?.get(1)
}

/** Locates files of the repository (the Surefire property `mamori.repo.root`). */
internal object TestFiles {
    val repoRoot: Path by lazy {
        val configured = System.getProperty("mamori.repo.root")
            ?: error("system property mamori.repo.root is not set (run through `cargo xtask kotlin-test`)")
        Path.of(configured).toAbsolutePath().normalize()
    }
}
