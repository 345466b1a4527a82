//! The app-defined device policy (TOML or JSON), validated at load.
//!
//! RootBeer and IOSSecuritySuite hard-code their verdicts; freeRASP has no
//! thresholds at all. Here the app (or its partner bank) states which OS
//! floors, patch age, indicator classes, allow-lists and corroboration
//! thresholds apply, and the policy's SHA-256 travels with every verdict.
//!
//! A policy is checked completely when it is loaded: unknown keys, missing
//! classes, impossible thresholds and unknown allow-listed indicator ids are
//! errors naming the field, never silently ignored.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::facts::KeystoreLevel;
use super::indicators::{IndicatorClass, IndicatorTable};
use crate::PolicyFormat;
use crate::policy_format::{FormatError, write_problems};

/// What a rule does to the verdict when it fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceDecision {
    /// Let the app proceed.
    Allow,
    /// Proceed, but tell the app (step-up auth, limited features, server flag).
    Warn,
    /// Refuse sensitive operations on this device.
    Block,
}

impl DeviceDecision {
    /// `"allow"`, `"warn"` or `"block"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Warn => "warn",
            Self::Block => "block",
        }
    }
}

/// Android floors.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AndroidPolicy {
    /// Lowest accepted API level (`Build.VERSION.SDK_INT`); below it: block.
    pub min_api_level: u32,
    /// Oldest accepted security patch, in days before the evaluation date; older: block.
    pub max_patch_age_days: u32,
    /// Patch older than this (but within the maximum): warn.
    #[serde(default)]
    pub warn_patch_age_days: Option<u32>,
}

/// iOS floors.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IosPolicy {
    /// Lowest accepted iOS version (`"18.0"`); below it: block.
    pub min_version: String,
}

/// Device-wide requirements: the decision taken when each is not met.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceRequirements {
    /// No screen lock / passcode set.
    pub screen_lock: DeviceDecision,
    /// No strong biometrics enrolled.
    pub biometrics: DeviceDecision,
    /// Weakest accepted hardware keystore level.
    pub min_keystore: KeystoreLevel,
    /// Keystore weaker than `min_keystore`.
    pub keystore: DeviceDecision,
    /// Developer options enabled.
    pub developer_options: DeviceDecision,
    /// ADB enabled.
    pub adb_enabled: DeviceDecision,
}

/// Rule for one indicator class.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassRule {
    /// DeviceDecision when the class is detected (one strong indicator, or
    /// `weak_threshold` weak ones agreeing).
    pub action: DeviceDecision,
    /// Weak indicators needed to corroborate; fewer give at most `warn`.
    pub weak_threshold: u32,
}

/// App identity checks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppRequirements {
    /// Accepted installer packages (`com.android.vending`); empty: not checked.
    #[serde(default)]
    pub installers: Vec<String>,
    /// DeviceDecision when the installer is not in `installers`.
    #[serde(default = "block")]
    pub untrusted_installer: DeviceDecision,
    /// Accepted signing-certificate SHA-256 digests (lowercase hex); empty: not checked.
    #[serde(default)]
    pub signing_cert_sha256: Vec<String>,
    /// DeviceDecision when the signing certificate is not in the list.
    #[serde(default = "block")]
    pub signature_mismatch: DeviceDecision,
}

fn block() -> DeviceDecision {
    DeviceDecision::Block
}

impl Default for AppRequirements {
    fn default() -> Self {
        Self {
            installers: Vec::new(),
            untrusted_installer: DeviceDecision::Block,
            signing_cert_sha256: Vec::new(),
            signature_mismatch: DeviceDecision::Block,
        }
    }
}

/// Allow-lists.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowLists {
    /// Indicator ids that never count (e.g. busybox an OEM ships).
    #[serde(default)]
    pub indicators: Vec<String>,
}

/// A validated device policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevicePolicy {
    /// Policy format (1).
    pub format: u32,
    /// Name shown in verdicts.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// DeviceDecision when a fact a rule needs is unknown.
    pub unknown: DeviceDecision,
    /// Android floors.
    pub android: AndroidPolicy,
    /// iOS floors.
    pub ios: IosPolicy,
    /// Device requirements.
    pub device: DeviceRequirements,
    /// One rule per indicator class (all classes required).
    pub indicators: BTreeMap<IndicatorClass, ClassRule>,
    /// App identity.
    #[serde(default)]
    pub app: AppRequirements,
    /// Allow-lists.
    #[serde(default)]
    pub allow: AllowLists,
}

/// One problem found in a device policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Dotted field path, e.g. `android.max_patch_age_days`.
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

/// A policy that cannot be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The file could not be read (an I/O failure, not a fault of the text).
    #[error("{origin}: cannot read policy: {message}")]
    Read {
        /// File name.
        origin: String,
        /// The I/O error.
        message: String,
    },
    /// Not valid TOML/JSON for the policy schema (unknown key, wrong type...).
    #[error("{origin}: {message}")]
    Parse {
        /// File name or `<inline>`.
        origin: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// The text exceeds a size or nesting limit ([`crate::limits`]).
    #[error("{origin}: {limit}")]
    Limit {
        /// File name or `<inline>`.
        origin: String,
        /// Which limit.
        limit: crate::limits::LimitError,
    },
    /// Well-formed, but values are not acceptable: every problem found.
    #[error("{}", InvalidDisplay(origin, problems))]
    Invalid {
        /// File name or `<inline>`.
        origin: String,
        /// Every problem, in document order.
        problems: Vec<Problem>,
    },
}

struct InvalidDisplay<'a>(&'a str, &'a [Problem]);

impl fmt::Display for InvalidDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_problems(f, format_args!("invalid device policy {}:", self.0), self.1)
    }
}

impl DevicePolicy {
    /// The FinTech default shipped with the crate (`default-policy.toml`).
    pub fn fintech_default() -> DevicePolicy {
        Self::parse(
            DEFAULT_POLICY_TOML,
            PolicyFormat::Toml,
            "default-policy.toml",
        )
        .expect("shipped default policy is valid (checked by tests)")
    }

    /// Loads a policy file, TOML or JSON (told by the content, as
    /// [`Self::from_text`] does).
    pub fn load(path: &Path) -> Result<DevicePolicy, PolicyError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| PolicyError::Read {
            origin: origin.clone(),
            message: crate::io_reason(&e),
        })?;
        Self::from_text(&text, &origin)
    }

    /// Parses and validates policy text whose format (TOML or JSON) is told
    /// by its content. `origin` names it in errors.
    pub fn from_text(text: &str, origin: &str) -> Result<DevicePolicy, PolicyError> {
        Self::parse(text, PolicyFormat::detect(text), origin)
    }

    /// Parses and validates policy text. `origin` names it in errors.
    pub fn parse(
        text: &str,
        format: PolicyFormat,
        origin: &str,
    ) -> Result<DevicePolicy, PolicyError> {
        let p: DevicePolicy = format.deserialize(text).map_err(|e| match e {
            FormatError::Syntax(message) => PolicyError::Parse {
                origin: origin.to_owned(),
                message,
            },
            FormatError::Limit(limit) => PolicyError::Limit {
                origin: origin.to_owned(),
                limit,
            },
        })?;
        let problems = p.problems();
        if !problems.is_empty() {
            return Err(PolicyError::Invalid {
                origin: origin.to_owned(),
                problems,
            });
        }
        Ok(p)
    }

    /// Every problem of the policy, in document order.
    fn problems(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut bad = |field: &str, reason: String| {
            problems.push(Problem {
                field: field.to_owned(),
                reason,
            })
        };
        if self.format != 1 {
            bad(
                "format",
                format!("unsupported policy format {} (expected 1)", self.format),
            );
        }
        if self.name.trim().is_empty() {
            bad("name", "must not be empty".into());
        }
        let a = &self.android;
        if !(21..=100).contains(&a.min_api_level) {
            bad(
                "android.min_api_level",
                format!(
                    "{} is not a plausible API level (21..=100)",
                    a.min_api_level
                ),
            );
        }
        if !(1..=3650).contains(&a.max_patch_age_days) {
            bad(
                "android.max_patch_age_days",
                format!("{} must be between 1 and 3650 days", a.max_patch_age_days),
            );
        }
        if let Some(w) = a.warn_patch_age_days
            && w >= a.max_patch_age_days
        {
            bad(
                "android.warn_patch_age_days",
                format!(
                    "{w} must be lower than max_patch_age_days ({})",
                    a.max_patch_age_days
                ),
            );
        }
        if super::parse_ios_version(&self.ios.min_version).is_none() {
            bad(
                "ios.min_version",
                format!("{:?} is not a version like \"18.0\"", self.ios.min_version),
            );
        }
        for class in IndicatorClass::ALL {
            match self.indicators.get(&class) {
                None => bad(
                    &format!("indicators.{}", class.as_str()),
                    "missing: every indicator class needs a rule".into(),
                ),
                Some(r) if r.weak_threshold == 0 => bad(
                    &format!("indicators.{}.weak_threshold", class.as_str()),
                    "must be at least 1".into(),
                ),
                Some(_) => {}
            }
        }
        let table = IndicatorTable::builtin();
        for (i, id) in self.allow.indicators.iter().enumerate() {
            if table.get(id).is_none() {
                bad(
                    &format!("allow.indicators[{i}]"),
                    format!("unknown indicator id {id:?} (table {})", table.version),
                );
            }
        }
        for (i, s) in self.app.installers.iter().enumerate() {
            if s.trim().is_empty() {
                bad(&format!("app.installers[{i}]"), "must not be empty".into());
            }
        }
        for (i, d) in self.app.signing_cert_sha256.iter().enumerate() {
            if d.len() != 64
                || !d
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            {
                bad(
                    &format!("app.signing_cert_sha256[{i}]"),
                    "must be 64 lowercase hex digits (SHA-256)".into(),
                );
            }
        }
        problems
    }

    /// Canonical JSON of the validated policy: the same policy in TOML or
    /// JSON, with any key order or comments, has the same bytes.
    pub fn canonical_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("policy always serialises")
    }

    /// SHA-256 of [`Self::canonical_json`], lowercase hex.
    pub fn sha256(&self) -> String {
        super::json_sha256_hex(self)
    }
}

/// The shipped FinTech default policy text.
pub const DEFAULT_POLICY_TOML: &str = include_str!("default-policy.toml");

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid(text: &str) -> (String, String) {
        match DevicePolicy::parse(text, PolicyFormat::Toml, "p.toml") {
            Err(PolicyError::Invalid { problems, .. }) if !problems.is_empty() => {
                (problems[0].field.clone(), problems[0].reason.clone())
            }
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    fn default_with(from: &str, to: &str) -> String {
        assert!(DEFAULT_POLICY_TOML.contains(from), "{from}");
        DEFAULT_POLICY_TOML.replacen(from, to, 1)
    }

    #[test]
    fn default_policy_loads() {
        let p = DevicePolicy::fintech_default();
        assert_eq!(p.android.min_api_level, 34);
        assert_eq!(p.indicators.len(), IndicatorClass::ALL.len());
    }

    #[test]
    fn invalid_values_name_the_field() {
        let (f, r) = invalid(&default_with(
            "max_patch_age_days = 365",
            "max_patch_age_days = 0",
        ));
        assert_eq!(f, "android.max_patch_age_days");
        assert!(r.contains("between 1 and 3650"), "{r}");
        let (f, _) = invalid(&default_with(
            "warn_patch_age_days = 120",
            "warn_patch_age_days = 400",
        ));
        assert_eq!(f, "android.warn_patch_age_days");
        let (f, _) = invalid(&default_with(
            "min_version = \"18.0\"",
            "min_version = \"eighteen\"",
        ));
        assert_eq!(f, "ios.min_version");
        let (f, r) = invalid(&default_with(
            "indicators = [\"android.bin.busybox.system_xbin\"",
            "indicators = [\"android.bin.busybox.system_xbin\", \"no.such\"",
        ));
        assert_eq!(f, "allow.indicators[1]");
        assert!(r.contains("no.such"), "{r}");
        let (f, _) = invalid(&default_with(
            "[indicators.emulator]\naction = \"block\"\nweak_threshold = 3",
            "",
        ));
        assert_eq!(f, "indicators.emulator");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let text = default_with("max_patch_age_days = 365", "max_patch_age_days = 3651").replacen(
            "min_version = \"18.0\"",
            "min_version = \"eighteen\"",
            1,
        );
        let e = DevicePolicy::parse(&text, PolicyFormat::Toml, "p.toml").unwrap_err();
        let PolicyError::Invalid { problems, .. } = &e else {
            panic!("{e:?}");
        };
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["android.max_patch_age_days", "ios.min_version"]);
        let text = e.to_string();
        assert!(
            text.starts_with("invalid device policy p.toml:\n  - "),
            "{text}"
        );
    }

    #[test]
    fn format_is_told_by_content_not_by_file_name() {
        let dir = tempfile::tempdir().unwrap();
        let json = serde_json::to_string(&DevicePolicy::fintech_default()).unwrap();
        // JSON in a file named .toml, TOML in a file named .json.
        let as_toml = dir.path().join("policy.toml");
        std::fs::write(&as_toml, &json).unwrap();
        let as_json = dir.path().join("policy.json");
        std::fs::write(&as_json, DEFAULT_POLICY_TOML).unwrap();
        assert_eq!(
            DevicePolicy::load(&as_toml).unwrap(),
            DevicePolicy::fintech_default()
        );
        assert_eq!(
            DevicePolicy::load(&as_json).unwrap(),
            DevicePolicy::fintech_default()
        );
    }

    #[test]
    fn unknown_key_is_a_parse_error_with_position() {
        let text = default_with("[android]\n", "[android]\nmin_sdk = 30\n");
        match DevicePolicy::parse(&text, PolicyFormat::Toml, "p.toml") {
            Err(e @ PolicyError::Parse { .. }) => {
                let s = e.to_string();
                assert!(s.starts_with("p.toml: "), "{s}");
                assert!(s.contains("min_sdk"), "{s}");
                assert!(s.contains("line"), "{s}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn toml_and_json_forms_hash_the_same() {
        let p = DevicePolicy::fintech_default();
        let json = serde_json::to_string_pretty(&p).unwrap();
        let q = DevicePolicy::parse(&json, PolicyFormat::Json, "p.json").unwrap();
        assert_eq!(p, q);
        assert_eq!(p.sha256(), q.sha256());
        let mut r = p.clone();
        r.android.max_patch_age_days += 1;
        assert_ne!(p.sha256(), r.sha256());
    }
}
