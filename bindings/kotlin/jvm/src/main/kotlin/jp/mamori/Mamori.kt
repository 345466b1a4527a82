package jp.mamori

/**
 * Entry point facts about the native Mamori library.
 *
 * The native code is the `mamori-ffi` cdylib loaded through JNA (`jna.library.path` on the
 * desktop JVM, `jniLibs` on Android); everything here is a thin call into it.
 */
public object Mamori {
    /** The version of the loaded native library (the `mamori-ffi` crate version). */
    @JvmStatic
    public val nativeVersion: String
        get() = jp.mamori.ffi.mamoriVersion()
}
