package jp.mamori

import jp.mamori.ffi.KeyEncryptionKey
import jp.mamori.ffi.StorageException
import jp.mamori.ffi.StoreConfig
import jp.mamori.ffi.SecureStore
import jp.mamori.ffi.defaultPasscodePolicy
import jp.mamori.ffi.PasscodeCheck
import jp.mamori.ffi.RotationReport
import jp.mamori.ffi.SecurityLevel
import jp.mamori.ffi.WipeReport
import java.nio.file.Path
import java.time.Duration
import java.time.Instant

/**
 * A [KeyEncryptionKey] whose use is bound to user authentication (DEV-3) can cap the store's
 * data-key cache: a cached plaintext data key must not outlive the authentication that unwrapped
 * it. [keyCacheLimit] `Duration.ZERO` disables caching (per-use keys); null means no limit.
 */
public interface KeyCacheLimit {
    /** The longest the store may keep a data key this KEK unwrapped; null for no limit. */
    public val keyCacheLimit: Duration?

    /**
     * Whether data keys the store already holds may still serve a call now. [SecureStorage]
     * asks before every call and drops its cache on false, so the call goes to the KEK, which
     * answers as the platform does (e.g. `KekUnavailable` once a time-bound key's
     * authentication window has closed, or while the device is locked for a key that needs it
     * unlocked). [keyCacheLimit] counts from the unwrap; this counts from what the platform
     * counts from. Called on the caller's thread: keep it cheap. Default: always.
     */
    public fun keyCacheUsable(): Boolean = true
}

/**
 * An encrypted, crash-safe key-value store in an app directory (guideline DEV-1, NEW-1, DATA-2).
 *
 * Values are sealed in Rust (AES-256-GCM) under data keys that only the [KeyEncryptionKey]
 * (Android Keystore, Secure Enclave, ...) can unwrap; the key is asked about once per session.
 * Every failure is a typed [StorageException]:
 * - [StorageException.NotFound]: no such item;
 * - [StorageException.KeyInvalidated]: the KEK is lost, nothing can be read: re-provision;
 * - [StorageException.Corrupted]: this item is damaged or was moved from another item;
 * - [StorageException.KekUnavailable]: locked device or authentication needed: retry later;
 * - [StorageException.InsecureKek], [StorageException.Wiped], [StorageException.LockedOut], ...
 *
 * ```kotlin
 * val storage = SecureStorage.builder(context.noBackupFilesDir.toPath().resolve("vault"), AndroidKeystoreKek.Builder(context, "vault").build())
 *     .minSecurityLevel(SecurityLevel.TEE)
 *     .build()
 * storage.putString("refresh_token", token)
 * ```
 */
public class SecureStorage private constructor(
    private val inner: SecureStore,
    kek: KeyEncryptionKey,
) : AutoCloseable {
    /** The KEK's say on the data-key cache ([KeyCacheLimit.keyCacheUsable]); follows [rotate]. */
    @Volatile private var cacheGuard: KeyCacheLimit? = kek as? KeyCacheLimit

    /** The store, its cache dropped first when the KEK says cached keys may not serve now. */
    private val store: SecureStore
        get() {
            if (cacheGuard?.keyCacheUsable() == false) inner.clearKeyCache()
            return inner
        }

    /** Builds a [SecureStorage]; see [SecureStorage.builder]. */
    public class Builder internal constructor(private val dir: Path, private val kek: KeyEncryptionKey) {
        private val previous = mutableListOf<KeyEncryptionKey>()
        private var minLevel = SecurityLevel.TEE
        private var cache: Duration = DEFAULT_KEY_CACHE
        private var cacheSetExplicitly = false

        /** A key the store may still be under: opening rotates to the new key (and finishes an interrupted rotation). */
        public fun previousKek(kek: KeyEncryptionKey): Builder = apply { previous += kek }

        /** The weakest key accepted (default [SecurityLevel.TEE]; tests use [SecurityLevel.SOFTWARE]). */
        public fun minSecurityLevel(level: SecurityLevel): Builder = apply { minLevel = level }

        /**
         * How long an unwrapped data key stays cached (default 600 s; [Duration.ZERO] asks the KEK
         * every time). Kept to the nanosecond: `Duration.ofMillis(500)` caches for half a second.
         * A KEK bound to user authentication ([KeyCacheLimit]) lowers the default to its limit and
         * refuses a longer explicit value.
         */
        public fun keyCache(duration: Duration): Builder = apply {
            require(!duration.isNegative) { "negative cache duration" }
            cache = duration
            cacheSetExplicitly = true
        }

        /**
         * Opens or creates the store. @throws StorageException
         * @throws IllegalArgumentException when [keyCache] exceeds the KEK's [KeyCacheLimit].
         */
        public fun build(): SecureStorage {
            val limit = (kek as? KeyCacheLimit)?.keyCacheLimit
            val effective = when {
                limit == null || cache <= limit -> cache
                cacheSetExplicitly -> throw IllegalArgumentException(
                    "keyCache $cache exceeds $limit, the limit of the KEK's user authentication (DEV-3)",
                )
                else -> limit
            }
            return SecureStorage(SecureStore.open(dir.toString(), kek, previous.toList(), StoreConfig(minLevel, effective)), kek)
        }
    }

    /** Stores [value] under [name], replacing any previous value atomically. */
    public fun put(name: String, value: ByteArray): Unit = store.put(name, value)

    /** Stores a UTF-8 string. */
    public fun putString(name: String, value: String): Unit = put(name, value.toByteArray(Charsets.UTF_8))

    /** Reads [name]. @throws StorageException.NotFound if there is no such item. */
    public fun get(name: String): ByteArray = store.get(name)

    /** Reads a UTF-8 string. */
    public fun getString(name: String): String = get(name).toString(Charsets.UTF_8)

    /** Reads [name], or `null` if there is no such item (other failures still throw). */
    public fun getOrNull(name: String): ByteArray? =
        try {
            get(name)
        } catch (e: StorageException.NotFound) {
            null
        }

    /** Whether [name] exists. */
    public operator fun contains(name: String): Boolean = store.contains(name)

    /** Deletes [name]; returns whether it existed. */
    public fun delete(name: String): Boolean = store.delete(name)

    /** All item names, sorted. Names are not secret (they are file names). */
    public fun names(): List<String> = store.list()

    /** The id of the key the store is under. */
    public val kekId: String get() = store.kekId()

    /** The security level of the store's key. */
    public val securityLevel: SecurityLevel get() = store.securityLevel()

    /**
     * Re-wraps every data key under [newKek]; payloads are not re-encrypted.
     *
     * @throws StorageException.RotationContended when writes under fresh data keys kept landing
     *   during the rotation: nothing changed (the store is still under its old key); retry later.
     *   A KEK failure leaves the store unchanged too.
     */
    public fun rotate(newKek: KeyEncryptionKey): RotationReport =
        store.rotateKek(newKek).also { cacheGuard = newKek as? KeyCacheLimit }

    /** Crypto-shreds the store: destroys the key, removes the files. The object is unusable afterwards. */
    public fun wipe(): WipeReport = store.wipe()

    /** Drops cached plaintext data keys (call when the app goes to background). */
    public fun clearKeyCache(): Unit = inner.clearKeyCache()

    /** Encrypts the file [src] into [dst] in constant memory; [label] must be given again to decrypt. */
    public fun encryptFile(label: String, src: Path, dst: Path): Long = store.encryptFile(label, src.toString(), dst.toString()).toLong()

    /** Decrypts a file from [encryptFile]; [dst] appears only if the whole file authenticated. */
    public fun decryptFile(label: String, src: Path, dst: Path): Long = store.decryptFile(label, src.toString(), dst.toString()).toLong()

    /**
     * Re-wraps a file from [encryptFile] that was written under [previousKek] so it opens under
     * the current key; [rotate] covers only the store directory. Returns false if already current.
     */
    public fun rewrapFile(path: Path, previousKek: KeyEncryptionKey): Boolean = store.rewrapFile(path.toString(), previousKek)

    /** The local passcode (DEV-3). */
    public val passcode: Passcode = Passcode()

    /** The app passcode kept in this store: PBKDF2 hash, attempt counter, back-off, optional wipe. */
    public inner class Passcode internal constructor() {
        /** Sets the passcode; [configure] adjusts the default policy (600,000 iterations...). */
        public fun set(passcode: CharArray, configure: jp.mamori.ffi.PasscodePolicy.() -> Unit = {}) {
            val policy = defaultPasscodePolicy().apply(configure)
            try {
                store.setPasscode(String(passcode), policy)
            } finally {
                passcode.fill('\u0000')
            }
        }

        /**
         * Checks [passcode] at [now]. Returns [PasscodeCheck.Verified] or [PasscodeCheck.Rejected];
         * @throws StorageException.LockedOut during a back-off, [StorageException.Wiped] when the
         * failure limit wiped the store.
         */
        public fun verify(passcode: CharArray, now: Instant = Instant.now()): PasscodeCheck =
            try {
                store.verifyPasscode(String(passcode), now)
            } finally {
                passcode.fill('\u0000')
            }

        /** Whether a passcode is set. */
        public val isSet: Boolean get() = store.hasPasscode()

        /** Removes the passcode; returns whether one was set. */
        public fun remove(): Boolean = store.removePasscode()
    }

    override fun close(): Unit = inner.close()

    public companion object {
        /** The data-key cache of a KEK without [KeyCacheLimit]. */
        @JvmField
        public val DEFAULT_KEY_CACHE: Duration = Duration.ofSeconds(600)

        /** Starts building a store in [dir] under [kek]. */
        @JvmStatic
        public fun builder(dir: Path, kek: KeyEncryptionKey): Builder = Builder(dir, kek)
    }
}
