package jp.mamori.android

import android.app.Activity
import android.content.Context
import jp.mamori.SecureStorage
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext
import java.io.File

/**
 * [SecureStorage] for Android apps (DEV-1, DEV-3): every call is a `suspend` function that runs
 * on [Dispatchers.IO], because each may reach the Keystore (tens to hundreds of milliseconds,
 * more with StrongBox) and the disk. Safe to call from `Dispatchers.Main`.
 *
 * The data-key cache follows the key's user authentication ([AndroidKeystoreKek.keyCacheUsable]):
 * none for a per-use key, only inside the [unlock] window for a time-bound key, none while the
 * device is locked for an `unlockedDeviceRequired` key.
 *
 * ```kotlin
 * val kek = AndroidKeystoreKek.Builder(context, "vault").userAuthentication(300).create()
 * val vault = AndroidSecureStorage.open(context, kek)
 * vault.unlock(activity)                 // BiometricPrompt: the key is usable for 300 s
 * vault.putString("refresh_token", token)
 * ```
 *
 * The store lives in `noBackupFilesDir`: the Keystore key cannot follow a backup, so backed-up
 * ciphertext could never be opened elsewhere.
 */
public class AndroidSecureStorage private constructor(
    /** The blocking store, for code already on a background thread. */
    public val storage: SecureStorage,
    /** The key the store is under. */
    public val kek: AndroidKeystoreKek,
    private val io: CoroutineDispatcher,
) : AutoCloseable {

    /** Stores [value] under [name]. @throws jp.mamori.ffi.StorageException */
    public suspend fun put(name: String, value: ByteArray): Unit = io { storage.put(name, value) }

    /** Stores a UTF-8 string. */
    public suspend fun putString(name: String, value: String): Unit = io { storage.putString(name, value) }

    /** Reads [name]. @throws jp.mamori.ffi.StorageException.NotFound if there is no such item. */
    public suspend fun get(name: String): ByteArray = io { storage.get(name) }

    /** Reads a UTF-8 string. */
    public suspend fun getString(name: String): String = io { storage.getString(name) }

    /** Reads [name], or null when there is no such item. */
    public suspend fun getOrNull(name: String): ByteArray? = io { storage.getOrNull(name) }

    /** Deletes [name]; returns whether it existed. */
    public suspend fun delete(name: String): Boolean = io { storage.delete(name) }

    /** All item names, sorted. */
    public suspend fun names(): List<String> = io { storage.names() }

    /** Time-bound keys: [AndroidKeystoreKek.unlock]. */
    public suspend fun unlock(activity: Activity, prompt: PromptText = PromptText()): Unit = kek.unlock(activity, prompt)

    /** Per-use keys: runs [block] with each key use authorised by a prompt ([AndroidKeystoreKek.withUserAuthentication]). */
    public suspend fun <T> withUserAuthentication(
        activity: Activity,
        prompt: PromptText = PromptText(),
        block: suspend AndroidSecureStorage.() -> T,
    ): T = kek.withUserAuthentication(activity, prompt) { block() }

    /** Drops cached plaintext data keys (call when the app goes to the background). */
    public fun clearKeyCache(): Unit = storage.clearKeyCache()

    override fun close(): Unit = storage.close()

    private suspend fun <T> io(block: () -> T): T = withContext(io) { block() }

    public companion object {
        /**
         * Opens (or creates) the store in [dir] (default `noBackupFilesDir/mamori`) under [kek], on
         * [Dispatchers.IO]; [configure] adjusts the [SecureStorage.Builder] (minimum level,
         * previous keys). A per-use key must be opened inside [AndroidKeystoreKek.withUserAuthentication]
         * (opening checks the store's canary with the key).
         * @throws jp.mamori.ffi.StorageException
         */
        public suspend fun open(
            context: Context,
            kek: AndroidKeystoreKek,
            dir: File = File(context.noBackupFilesDir, "mamori"),
            configure: SecureStorage.Builder.() -> Unit = {},
        ): AndroidSecureStorage = withContext(Dispatchers.IO) {
            AndroidSecureStorage(SecureStorage.builder(dir.toPath(), kek).apply(configure).build(), kek, Dispatchers.IO)
        }
    }
}
