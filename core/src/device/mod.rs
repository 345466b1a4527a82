//! Device OS security level (guideline DEV-2): facts, probes, policy, verdict.
//!
//! Teams today paste RootBeer or IOSSecuritySuite booleans together: the
//! verdict is hard-coded, "could not check" reads as "clean", checks block the
//! main thread and nothing explains a verdict to an auditor. This module
//! splits the problem in four, each testable on its own:
//!
//! 1. `facts`: one cross-platform schema in which every fact is tri-state
//!    (present / absent / unknown) and carries its evidence.
//! 2. `probe`: Rust probes (files, property files, `/proc/self/*`, loopback
//!    ports) over an injectable filesystem and proc root, under a time budget.
//!    The platform collectors (Kotlin, Swift) add what only the OS API knows;
//!    [`DeviceFacts::merge`] fuses both.
//! 3. `policy`: the app's rules (OS floors, patch age, indicator classes,
//!    corroboration, allow-lists), validated at load.
//! 4. `verdict`: a pure, deterministic evaluation (time is an input) into
//!    allow / warn / block with findings citing guideline IDs and OWASP MASVS,
//!    plus SHA-256 hashes of the facts and policy so a server can re-evaluate.
//!
//! What to look for lives in data (`indicators`, `indicators.json`), not in
//! code.

mod attested;
mod facts;
mod indicators;
mod policy;
mod probe;
mod verdict;

pub use attested::{
    CONTRADICTION_PREFIX, android_attested_facts, apple_attested_facts, failed_attestation,
};
pub use facts::{
    DeviceEvidence, DeviceFact, DeviceFacts, DevicePlatform, EvidenceSource, FACTS_SCHEMA,
    FactState, FactsError, IndicatorObservation, KeystoreLevel,
};
pub use indicators::{
    Indicator, IndicatorClass, IndicatorKind, IndicatorPlatform, IndicatorStrength, IndicatorTable,
};
pub use policy::{
    AllowLists, AndroidPolicy, AppRequirements, ClassRule, DEFAULT_POLICY_TOML, DeviceDecision,
    DevicePolicy, DeviceRequirements, IosPolicy, PolicyError, Problem,
};
pub use probe::{
    ProbeConfig, observe_loaded_images, observe_packages, run_probes, run_probes_with,
};
pub use verdict::{
    DeviceFinding, DeviceVerdict, FactsSnapshot, IndicatorCoverage, VERDICT_FORMAT, evaluate,
    evaluate_snapshot,
};

use time::Date;

/// Lowercase hex SHA-256 of `value`'s compact JSON, streamed into the digest
/// (no intermediate buffer: evaluation hashes facts on every call).
pub(crate) fn json_sha256_hex(value: &impl serde::Serialize) -> String {
    struct Sink(ring::digest::Context);
    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.update(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    // serde_json writes token by token: buffer so the digest sees large blocks.
    let mut w = std::io::BufWriter::with_capacity(
        16 * 1024,
        Sink(ring::digest::Context::new(&ring::digest::SHA256)),
    );
    serde_json::to_writer(&mut w, value).expect("values serialise");
    let sink = w
        .into_inner()
        .unwrap_or_else(|_| unreachable!("the sink never fails"));
    hex::encode(sink.0.finish())
}

/// Parses an Android security patch level, strictly `YYYY-MM-DD`.
pub fn parse_patch_level(s: &str) -> Option<Date> {
    crate::date::parse_date(s).ok()
}

/// Parses a date given over the FFI (`YYYY-MM-DD`); `None` where
/// [`crate::date::parse_date`] gives the reason.
pub fn parse_date(s: &str) -> Option<Date> {
    crate::date::parse_date(s).ok()
}

/// Parses an iOS version (`"18"`, `"18.1"`, `"18.1.1"`) into comparable parts.
pub fn parse_ios_version(s: &str) -> Option<(u32, u32, u32)> {
    let mut parts = [0u32; 3];
    let mut n = 0;
    for p in s.split('.') {
        if n == 3 || p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || p.len() > 4 {
            return None;
        }
        parts[n] = p.parse().ok()?;
        n += 1;
    }
    (n > 0).then_some((parts[0], parts[1], parts[2]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_level_is_strict() {
        assert!(parse_patch_level("2025-10-05").is_some());
        for bad in [
            "2025-10",
            "2025-13-01",
            "20251005",
            "2025-10-5",
            " 2025-10-05",
            "",
        ] {
            assert!(parse_patch_level(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn ios_versions_compare() {
        assert_eq!(parse_ios_version("18"), Some((18, 0, 0)));
        assert!(parse_ios_version("17.7.2") < parse_ios_version("18.0"));
        assert!(parse_ios_version("18.0.1") > parse_ios_version("18.0"));
        for bad in ["", "18.", "a.1", "1.2.3.4", "-1"] {
            assert!(parse_ios_version(bad).is_none(), "{bad}");
        }
    }
}
