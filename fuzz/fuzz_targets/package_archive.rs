//! Package audits (issue 13): a whole APK, App Bundle or IPA, written to a
//! file and read as `mamori audit app.apk` reads it (`load_package`): the zip
//! bounds (entry names, sizes, ratios, directory) and every decoder behind
//! them, reached through the real archive. Filesystem-bound, so slower per
//! input than the single-decoder targets.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("app.apk");
    std::fs::write(&path, data).expect("write package");
    if let Ok(p) = mamori::audit::package::load_package(&path) {
        let opts = mamori::audit::AuditOptions::at(time::OffsetDateTime::UNIX_EPOCH);
        let _ = mamori::audit::audit_packages(&p.configs, std::slice::from_ref(&p), &opts);
    }
});
