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

/**
 * This report as JSON in TrustKit's shape (kebab-case keys such as `noted-hostname` and
 * `validation-result`), ready to upload to a report endpoint.
 */
public val jp.mamori.ffi.PinFailureReport.json: String
    get() = jp.mamori.ffi.pinFailureReportJson(this)
