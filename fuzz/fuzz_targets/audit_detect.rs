//! Format detection, then the detected importer, then every exporter.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mamori::audit::{self, ExportFormat, NscOptions};

fuzz_target!(|data: &[u8]| {
    if let Ok(cfg) = audit::import_bytes(data, "fuzz", None, NscOptions::default(), None) {
        for to in [
            ExportFormat::MamoriToml,
            ExportFormat::MamoriJson,
            ExportFormat::Nsc,
            ExportFormat::OkHttp,
            ExportFormat::TrustKit,
        ] {
            let _ = audit::export(&cfg, to);
        }
    }
});
