package jp.mamori

import jp.mamori.ffi.KekException
import jp.mamori.ffi.KeyEncryptionKey
import jp.mamori.ffi.StorageException
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import jp.mamori.ffi.KeyLossReason
import jp.mamori.ffi.PasscodeCheck
import jp.mamori.ffi.SecurityLevel
import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration
import java.time.Instant
import java.util.concurrent.atomic.AtomicInteger

/** Counts calls into a KEK and can simulate a locked keystore; Kotlin-side, like a platform KEK. */
private class CountingKek(private val inner: KeyEncryptionKey) : KeyEncryptionKey by inner {
    val calls = AtomicInteger()
    @Volatile var locked = false
    @Volatile var crash = false

    override fun wrap(dek: ByteArray, aad: ByteArray): ByteArray {
        check()
        return inner.wrap(dek, aad)
    }

    override fun unwrap(wrapped: ByteArray, aad: ByteArray): ByteArray {
        check()
        return inner.unwrap(wrapped, aad)
    }

    private fun check() {
        calls.incrementAndGet()
        if (crash) throw IllegalStateException("simulated provider bug")
        if (locked) throw KekException.Unavailable("device locked")
    }
}

class SecureStorageTest {
    @TempDir
    lateinit var dir: Path

    private fun open(kek: KeyEncryptionKey, vararg previous: KeyEncryptionKey): SecureStorage =
        SecureStorage.builder(dir.resolve("vault"), kek)
            .minSecurityLevel(SecurityLevel.SOFTWARE)
            .apply { previous.forEach { previousKek(it) } }
            .build()

    @Test
    fun `stores and reads back through a Kotlin KEK, across reopen`() {
        val kek = JvmAesGcmKek.generate()
        open(kek).use { s ->
            s.putString("refresh_token", "rt-123")
            s.put("empty", ByteArray(0))
            s.put("big", ByteArray(1 shl 20) { it.toByte() })
            assertEquals("rt-123", s.getString("refresh_token"))
            assertEquals(listOf("big", "empty", "refresh_token"), s.names())
            assertEquals(kek.keyId(), s.kekId)
            assertEquals(SecurityLevel.SOFTWARE, s.securityLevel)
        }
        open(kek).use { s ->
            assertEquals("rt-123", s.getString("refresh_token"))
            assertArrayEquals(ByteArray(1 shl 20) { it.toByte() }, s.get("big"))
            assertEquals(0, s.get("empty").size)
            assertTrue("empty" in s)
            assertTrue(s.delete("empty"))
            assertNull(s.getOrNull("empty"))
        }
    }

    @Test
    fun `rotation re-wraps under the new Kotlin KEK and the old key is refused`() {
        val old = JvmAesGcmKek.generate()
        val new = JvmAesGcmKek.generate()
        open(old).use { s ->
            repeat(10) { s.putString("item$it", "value$it") }
            val report = s.rotate(new)
            assertEquals(11uL, report.rewrapped, "10 items and the canary")
            assertEquals(new.keyId(), s.kekId)
            assertEquals("value3", s.getString("item3"))
        }
        val e = assertThrows<StorageException.KeyInvalidated> { open(old) }
        val reason = e.reason as KeyLossReason.DifferentKeyId
        assertEquals(new.keyId(), reason.expected)
        assertEquals(old.keyId(), reason.offered)
        open(new).use { s -> assertEquals("value9", s.getString("item9")) }
    }

    @Test
    fun `opening with a new key and the old one as previous rotates`() {
        val old = JvmAesGcmKek.generate()
        val new = JvmAesGcmKek.generate()
        open(old).use { it.putString("a", "1") }
        open(new, old).use { s ->
            assertEquals(new.keyId(), s.kekId)
            assertEquals("1", s.getString("a"))
        }
    }

    @Test
    fun `a rotation that never settles is RotationContended and changes nothing`() {
        val old = JvmAesGcmKek.generate()
        val store = SecureStorage.builder(dir.resolve("vault"), old)
            .minSecurityLevel(SecurityLevel.SOFTWARE)
            .keyCache(Duration.ZERO)
            .build()
        store.use { s ->
            s.putString("item", "value")
            // Every wrap of the new key first writes an item under a fresh data key of the old one
            // (per-use keys): each rotation round finds a data key it has not re-wrapped.
            val newKek = JvmAesGcmKek.generate()
            val churning = object : KeyEncryptionKey by newKek {
                override fun wrap(dek: ByteArray, aad: ByteArray): ByteArray {
                    s.putString("from-kek", "written inside a KEK call")
                    return newKek.wrap(dek, aad)
                }
            }
            val e = assertThrows<StorageException.RotationContended> { s.rotate(churning) }
            assertTrue(e.attempts >= 2u, "attempts ${e.attempts}")
            assertEquals(old.keyId(), s.kekId)
            assertEquals("value", s.getString("item"))
        }
        open(old).use { assertEquals("value", it.getString("item")) }
    }

    @Test
    fun `typed exceptions reach Kotlin`() {
        val kek = CountingKek(JvmAesGcmKek.generate())
        // The default policy requires a TEE: a software key is refused.
        val insecure = assertThrows<StorageException.InsecureKek> { SecureStorage.builder(dir.resolve("strict"), kek).build() }
        assertEquals(SecurityLevel.SOFTWARE, insecure.offered)
        assertEquals(SecurityLevel.TEE, insecure.required)

        open(kek).use { s ->
            assertEquals("missing", assertThrows<StorageException.NotFound> { s.get("missing") }.name)
            assertThrows<StorageException.InvalidInput> { s.putString("", "x") }

            // A bit flip in the item file: corruption of that item only.
            s.putString("pin", "1234")
            val file = Files.list(dir.resolve("vault/items")).use { it.toList().single() }
            val bytes = Files.readAllBytes(file)
            bytes[bytes.size - 1] = (bytes[bytes.size - 1].toInt() xor 1).toByte()
            Files.write(file, bytes)
            assertEquals("pin", assertThrows<StorageException.Corrupted> { s.get("pin") }.what)

            // The Kotlin KEK throws KekException.Unavailable: a typed, retryable failure.
            s.putString("pin", "1234")
            s.clearKeyCache()
            kek.locked = true
            assertEquals("device locked", assertThrows<StorageException.KekUnavailable> { s.get("pin") }.reason)
            kek.locked = false
            assertEquals("1234", s.getString("pin"))

            // An unexpected exception in the KEK is a failure, never a crash or a silent success.
            s.clearKeyCache()
            kek.crash = true
            val failure = assertThrows<StorageException.KekFailure> { s.get("pin") }
            // Only the exception's first line crosses (LOG-2): no stack trace, no frames.
            assertTrue(failure.reason.contains("simulated provider bug"), failure.reason)
            assertFalse(failure.reason.contains("\n") || failure.reason.contains("SecureStorageTest"), failure.reason)
            kek.crash = false

            s.wipe()
            assertThrows<StorageException.Wiped> { s.get("pin") }
        }
    }

    @Test
    fun `the KEK is asked about once per session, not per item`() {
        val base = JvmAesGcmKek.generate()
        open(base).close()
        val kek = CountingKek(base)
        open(kek).use { s ->
            val atOpen = kek.calls.get()
            repeat(500) {
                s.putString("k${it % 20}", "v$it")
                s.getString("k${it % 20}")
            }
            assertEquals(1, atOpen, "canary unwrap")
            assertEquals(1, kek.calls.get() - atOpen, "one wrap for 1,000 operations")
        }
    }

    @Test
    fun `a KEK that says its cache may not serve now makes every call ask it, then the cache serves again`() {
        val base = JvmAesGcmKek.generate()
        open(base).use { it.putString("token", "t") }
        // A platform KEK whose authentication window closed (or whose device locked).
        class WindowKek(val counting: CountingKek) : KeyEncryptionKey by counting, KeyCacheLimit {
            @Volatile var usable = true
            override val keyCacheLimit: Duration? = null
            override fun keyCacheUsable(): Boolean = usable
        }
        val kek = WindowKek(CountingKek(base))
        open(kek).use { s ->
            assertEquals("t", s.getString("token"))
            val warm = kek.counting.calls.get()
            repeat(3) { assertEquals("t", s.getString("token")) }
            assertEquals(warm, kek.counting.calls.get(), "served from the cache")
            kek.usable = false
            kek.counting.locked = true
            repeat(3) { assertThrows<StorageException.KekUnavailable> { s.getString("token") } }
            assertEquals(warm + 3, kek.counting.calls.get(), "each call asked the KEK, which refused")
            kek.usable = true
            kek.counting.locked = false
            repeat(3) { assertEquals("t", s.getString("token")) }
            assertEquals(warm + 4, kek.counting.calls.get(), "one unwrap, then the cache again")
        }
    }

    @Test
    fun `a sub-second key cache is kept, not truncated to zero`() {
        val base = JvmAesGcmKek.generate()
        open(base).close()
        val kek = CountingKek(base)
        SecureStorage.builder(dir.resolve("vault"), kek)
            .minSecurityLevel(SecurityLevel.SOFTWARE)
            .keyCache(Duration.ofMillis(500))
            .build()
            .use { s ->
                val atOpen = kek.calls.get()
                // Well inside half a second: one wrap serves every put (a zero cache wraps each time).
                repeat(20) { s.putString("k$it", "v$it") }
                assertEquals(1, kek.calls.get() - atOpen, "one wrap within the 500 ms cache")
            }
        SecureStorage.builder(dir.resolve("vault"), kek)
            .minSecurityLevel(SecurityLevel.SOFTWARE)
            .keyCache(Duration.ZERO)
            .build()
            .use { s ->
                val atOpen = kek.calls.get()
                repeat(5) { s.putString("z$it", "v$it") }
                assertEquals(5, kek.calls.get() - atOpen, "no cache: one wrap per put")
            }
    }

    @Test
    fun `files are encrypted by path and bound to their label`() {
        val kek = JvmAesGcmKek.generate()
        val src = dir.resolve("statement.pdf")
        val data = ByteArray(300_000) { (it * 7).toByte() }
        Files.write(src, data)
        open(kek).use { s ->
            val enc = dir.resolve("statement.enc")
            assertEquals(data.size.toLong(), s.encryptFile("statement", src, enc))
            assertFalse(Files.readAllBytes(enc).asList().windowed(16).any { it == data.asList().subList(0, 16) })
            val out = dir.resolve("out.pdf")
            assertThrows<StorageException.Corrupted> { s.decryptFile("other", enc, out) }
            assertFalse(Files.exists(out))
            s.decryptFile("statement", enc, out)
            assertArrayEquals(data, Files.readAllBytes(out))

            // After a rotation the file is re-wrapped, not re-encrypted.
            val newKek = JvmAesGcmKek.generate()
            s.rotate(newKek)
            assertThrows<StorageException.WrongKek> { s.decryptFile("statement", enc, dir.resolve("x")) }
            assertTrue(s.rewrapFile(enc, kek))
            val again = dir.resolve("again.pdf")
            s.decryptFile("statement", enc, again)
            assertArrayEquals(data, Files.readAllBytes(again))
        }
    }

    @Test
    fun `passcode with back-off and wipe`() {
        val kek = JvmAesGcmKek.generate()
        open(kek).use { s ->
            s.putString("account", "secret")
            s.passcode.set("2468".toCharArray()) {
                minLength = 4u
                freeAttempts = 1u
                baseDelay = Duration.ofSeconds(30)
                wipeAfter = 4u
            }
            assertTrue(s.passcode.isSet)
            val t0 = Instant.parse("2027-01-01T00:00:00Z")
            assertEquals(PasscodeCheck.Verified, s.passcode.verify("2468".toCharArray(), t0))
            val first = s.passcode.verify("0000".toCharArray(), t0) as PasscodeCheck.Rejected
            assertEquals(1u, first.failures)
            assertEquals(3u, first.attemptsBeforeWipe)
            val second = s.passcode.verify("0000".toCharArray(), t0) as PasscodeCheck.Rejected
            assertEquals(Duration.ofSeconds(30), second.retryAfter)
            val locked = assertThrows<StorageException.LockedOut> { s.passcode.verify("2468".toCharArray(), t0.plusSeconds(10)) }
            assertEquals(Duration.ofSeconds(20), locked.retryAfter)
            s.passcode.verify("0000".toCharArray(), t0.plusSeconds(30))
            assertThrows<StorageException.Wiped> { s.passcode.verify("0000".toCharArray(), t0.plusSeconds(100)) }
            assertThrows<StorageException.Wiped> { s.getString("account") }
        }
    }

    @Test
    fun `the JVM KEK binds associated data and never prints its key`() {
        val kek = JvmAesGcmKek.fromBytes(ByteArray(32) { 0x5A })
        val wrapped = kek.wrap(ByteArray(32) { 1 }, "aad".toByteArray())
        assertArrayEquals(ByteArray(32) { 1 }, kek.unwrap(wrapped, "aad".toByteArray()))
        assertThrows<KekException.UnwrapFailed> { kek.unwrap(wrapped, "other".toByteArray()) }
        assertNotEquals(JvmAesGcmKek.generate().keyId(), kek.keyId())
        assertEquals(JvmAesGcmKek.fromBytes(ByteArray(32) { 0x5A }).keyId(), kek.keyId())
        assertFalse(kek.toString().contains("5a", ignoreCase = true) && kek.toString().contains("5a5a"))
    }
}
