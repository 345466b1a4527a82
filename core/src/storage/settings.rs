//! Storage settings: how an app configures the secure store, as a document
//! (TOML or JSON) that the app ships and that `mamori report` reads.
//!
//! The evidence report must not describe a storage set-up it cannot check.
//! So the settings are a schema, not free text: unknown keys are refused, the
//! values become the SDK's own types ([`StorePolicy`], [`CachePolicy`],
//! [`PasscodePolicy`]) and are checked with the SDK's own floors
//! ([`PasscodePolicy::check_floors`]), and a report describes them only
//! through these fields. Nothing in the schema holds key material, so no
//! secret can reach a report (LOG-2).

use core::fmt;
use std::num::NonZeroU32;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{CachePolicy, PasscodePolicy, SecurityLevel, StorePolicy};
use crate::PolicyFormat;
use crate::policy_format::{FormatError, write_problems};

/// Where the key-encryption key must live (the weakest accepted level).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum KekLevel {
    /// Key bytes in process memory (development only).
    Software,
    /// The OS credential store.
    OsKeyring,
    /// A trusted execution environment (Android Keystore in the TEE).
    Tee,
    /// A dedicated secure element: Android StrongBox or the Apple Secure Enclave
    /// (spelled as in the device policy).
    #[serde(rename = "strongbox")]
    StrongBox,
}

impl KekLevel {
    /// The SDK's level.
    pub fn security_level(self) -> SecurityLevel {
        match self {
            Self::Software => SecurityLevel::Software,
            Self::OsKeyring => SecurityLevel::OsKeyring,
            Self::Tee => SecurityLevel::Tee,
            Self::StrongBox => SecurityLevel::StrongBox,
        }
    }

    /// Whether the key is held in hardware (TEE or secure element), as DEV-1 asks.
    pub fn is_hardware(self) -> bool {
        matches!(self, Self::Tee | Self::StrongBox)
    }
}

/// The key-encryption key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KekSettings {
    /// Weakest accepted level; the store refuses a weaker KEK.
    pub min_security_level: KekLevel,
    /// The KEK can only be used after the user authenticates (biometrics or
    /// device credential: Android `setUserAuthenticationRequired`, iOS
    /// `SecAccessControl` `.userPresence`).
    #[serde(default)]
    pub user_authentication: bool,
    /// Seconds an authentication stays valid; 0 means every use (Android
    /// per-use keys). Only with `user_authentication`.
    #[serde(default)]
    pub auth_timeout_seconds: Option<u32>,
}

/// Bounds on plaintext data keys in memory (NEW-1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSettings {
    /// Seconds a plaintext data key stays in memory; 0 disables caching.
    pub max_age_seconds: u64,
    /// Values one data key may seal.
    pub max_seals_per_dek: u64,
    /// Unwrapped data keys kept for opening.
    pub max_entries: usize,
}

impl Default for CacheSettings {
    fn default() -> Self {
        let c = CachePolicy::default();
        Self {
            max_age_seconds: c.max_age.as_secs(),
            max_seals_per_dek: c.max_seals_per_dek,
            max_entries: c.max_entries,
        }
    }
}

/// The app passcode kept by the store (DEV-3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasscodeSettings {
    /// The app asks for its passcode before sensitive data is shown.
    pub required: bool,
    /// Shortest passcode, in characters.
    pub min_length: usize,
    /// PBKDF2-HMAC-SHA256 iterations.
    pub iterations: u32,
    /// Failures allowed before the back-off starts.
    pub free_attempts: u32,
    /// First lock-out, seconds (doubles each time).
    pub base_delay_seconds: u64,
    /// Longest lock-out, seconds.
    pub max_delay_seconds: u64,
    /// Wipe the store after this many consecutive failures.
    #[serde(default)]
    pub wipe_after: Option<u32>,
}

/// Validated storage settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSettings {
    /// Settings format (1).
    pub format: u32,
    /// The key-encryption key.
    pub kek: KekSettings,
    /// Data-key cache bounds (default: the SDK's [`CachePolicy::default`]).
    #[serde(default)]
    pub cache: CacheSettings,
    /// The app passcode, if the app uses one.
    #[serde(default)]
    pub passcode: Option<PasscodeSettings>,
}

/// One problem found in storage settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingsProblem {
    /// Dotted field path, e.g. `passcode.iterations`.
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for SettingsProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

/// Storage settings that cannot be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageSettingsError {
    /// The file could not be read.
    #[error("{origin}: cannot read storage settings: {message}")]
    Read {
        /// File name.
        origin: String,
        /// The I/O error.
        message: String,
    },
    /// Not valid TOML/JSON for the schema (unknown key, wrong type...).
    #[error("{origin}: {message}")]
    Parse {
        /// File name.
        origin: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// The text exceeds a size or nesting limit.
    #[error("{origin}: {limit}")]
    Limit {
        /// File name.
        origin: String,
        /// Which limit.
        limit: crate::limits::LimitError,
    },
    /// Well-formed, but values the SDK refuses: every problem found.
    #[error("{}", InvalidDisplay(origin, problems))]
    Invalid {
        /// File name.
        origin: String,
        /// Every problem, in document order.
        problems: Vec<SettingsProblem>,
    },
}

struct InvalidDisplay<'a>(&'a str, &'a [SettingsProblem]);

impl fmt::Display for InvalidDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_problems(
            f,
            format_args!("invalid storage settings {}:", self.0),
            self.1,
        )
    }
}

/// `line 3, column 1: unknown field `api_key`, expected ...`: the TOML
/// error without the quoted source line.
fn toml_message(text: &str, e: &toml::de::Error) -> String {
    let reason = e.message().trim();
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("line {line}, column {column}: {}", without_values(reason))
        }
        None => without_values(reason),
    }
}

/// Serde quotes a mistyped value (`invalid type: string "…"`); the value
/// may be a secret, so it is left out.
fn without_values(message: &str) -> String {
    let mut out = String::new();
    let mut rest = message;
    while let Some(i) = rest.find("string \"") {
        out.push_str(&rest[..i]);
        out.push_str("a string");
        let after = &rest[i + "string \"".len()..];
        rest = after.find('"').map_or("", |j| &after[j + 1..]);
    }
    out.push_str(rest);
    out
}

impl StorageSettings {
    /// Loads a settings file, TOML or JSON (told by the content).
    pub fn load(path: &Path) -> Result<Self, StorageSettingsError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| StorageSettingsError::Read {
            origin: origin.clone(),
            message: e.to_string(),
        })?;
        Self::from_text(&text, &origin)
    }

    /// Parses and validates settings text. `origin` names it in errors.
    pub fn from_text(text: &str, origin: &str) -> Result<Self, StorageSettingsError> {
        let format = PolicyFormat::detect(text);
        let s: StorageSettings = match format {
            // The TOML parser's message quotes the offending line, which may
            // hold a secret someone put in the wrong file: keep only the
            // position and the reason (LOG-2).
            PolicyFormat::Toml => {
                crate::limits::check_toml(text).map_err(|limit| StorageSettingsError::Limit {
                    origin: origin.to_owned(),
                    limit,
                })?;
                toml::from_str(text).map_err(|e| StorageSettingsError::Parse {
                    origin: origin.to_owned(),
                    message: toml_message(text, &e),
                })?
            }
            PolicyFormat::Json => format.deserialize(text).map_err(|e| match e {
                FormatError::Syntax(message) => StorageSettingsError::Parse {
                    origin: origin.to_owned(),
                    message: without_values(&message),
                },
                FormatError::Limit(limit) => StorageSettingsError::Limit {
                    origin: origin.to_owned(),
                    limit,
                },
            })?,
        };
        let problems = s.problems();
        if problems.is_empty() {
            Ok(s)
        } else {
            Err(StorageSettingsError::Invalid {
                origin: origin.to_owned(),
                problems,
            })
        }
    }

    fn problems(&self) -> Vec<SettingsProblem> {
        let mut out = Vec::new();
        let mut bad = |field: &str, reason: String| {
            out.push(SettingsProblem {
                field: field.to_owned(),
                reason,
            })
        };
        if self.format != 1 {
            bad(
                "format",
                format!("unsupported settings format {} (expected 1)", self.format),
            );
        }
        if self.kek.auth_timeout_seconds.is_some() && !self.kek.user_authentication {
            bad(
                "kek.auth_timeout_seconds",
                "set without kek.user_authentication = true".into(),
            );
        }
        if self.cache.max_seals_per_dek == 0 {
            bad("cache.max_seals_per_dek", "must be at least 1".into());
        }
        if let Some(p) = &self.passcode {
            match self.passcode_policy() {
                Some(Ok(policy)) => {
                    // The SDK's own floors, worded by the SDK.
                    if let Err(e) = policy.check_floors() {
                        let field = if p.iterations < super::MIN_PBKDF2_ITERATIONS {
                            "passcode.iterations"
                        } else {
                            "passcode.min_length"
                        };
                        bad(field, e.to_string());
                    }
                }
                Some(Err(reason)) => bad("passcode.iterations", reason),
                None => {}
            }
            if p.max_delay_seconds < p.base_delay_seconds {
                bad(
                    "passcode.max_delay_seconds",
                    format!(
                        "{} is below base_delay_seconds ({})",
                        p.max_delay_seconds, p.base_delay_seconds
                    ),
                );
            }
            if p.wipe_after == Some(0) {
                bad("passcode.wipe_after", "must be at least 1".into());
            }
        }
        out
    }

    /// The store policy these settings ask for.
    pub fn store_policy(&self) -> StorePolicy {
        StorePolicy {
            min_security_level: self.kek.min_security_level.security_level(),
        }
    }

    /// The data-key cache bounds.
    pub fn cache_policy(&self) -> CachePolicy {
        CachePolicy {
            max_age: Duration::from_secs(self.cache.max_age_seconds),
            max_seals_per_dek: self.cache.max_seals_per_dek,
            max_entries: self.cache.max_entries,
        }
    }

    /// The passcode verifier's parameters, if a passcode is configured
    /// (`Err` when the iteration count is zero).
    pub fn passcode_policy(&self) -> Option<Result<PasscodePolicy, String>> {
        let p = self.passcode.as_ref()?;
        Some(
            NonZeroU32::new(p.iterations)
                .ok_or_else(|| "must be at least 1".to_owned())
                .map(|iterations| PasscodePolicy {
                    iterations,
                    min_length: p.min_length,
                    free_attempts: p.free_attempts,
                    base_delay: Duration::from_secs(p.base_delay_seconds),
                    max_delay: Duration::from_secs(p.max_delay_seconds),
                    wipe_after: p.wipe_after.and_then(NonZeroU32::new),
                    ..PasscodePolicy::default()
                }),
        )
    }

    /// SHA-256 of the canonical JSON of the settings (TOML and JSON forms
    /// hash the same), lowercase hex.
    pub fn sha256(&self) -> String {
        crate::device::json_sha256_hex(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_field_never_the_value() {
        let e = StorageSettings::from_text(
            "format = 1\napi_key = \"sk_live_123\"\n[kek]\nmin_security_level = \"tee\"\n",
            "s.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("s.toml: line 2, column 1: unknown field `api_key`"),
            "{e}"
        );
        assert!(!e.contains("sk_live_123"), "{e}");
        let e = StorageSettings::from_text(
            "{\"format\": 1, \"kek\": {\"min_security_level\": \"tee\"}, \"cache\": {\"max_age_seconds\": \"hunter2\", \"max_seals_per_dek\": 1, \"max_entries\": 1}}",
            "s.json",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("invalid type: a string, expected u64"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn passcode_floors_are_the_sdks() {
        let text = "format = 1\n[kek]\nmin_security_level = \"strongbox\"\n[passcode]\nrequired = true\nmin_length = 6\niterations = 1000\nfree_attempts = 3\nbase_delay_seconds = 30\nmax_delay_seconds = 10\n";
        let e = StorageSettings::from_text(text, "s.toml").unwrap_err();
        let StorageSettingsError::Invalid { problems, .. } = &e else {
            panic!("{e}")
        };
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            ["passcode.iterations", "passcode.max_delay_seconds"],
            "{e}"
        );
        let floor = PasscodePolicy {
            iterations: NonZeroU32::new(1000).unwrap(),
            ..PasscodePolicy::default()
        }
        .check_floors()
        .unwrap_err()
        .to_string();
        assert_eq!(problems[0].reason, floor);
    }

    #[test]
    fn toml_and_json_forms_hash_the_same() {
        let t = StorageSettings::from_text(
            "format = 1\n[kek]\nmin_security_level = \"tee\"\nuser_authentication = true\n",
            "t",
        )
        .unwrap();
        let j = StorageSettings::from_text(
            "{\"kek\": {\"user_authentication\": true, \"min_security_level\": \"tee\"}, \"format\": 1}",
            "j",
        )
        .unwrap();
        assert_eq!(t.sha256(), j.sha256());
        assert_eq!(t.store_policy().min_security_level, SecurityLevel::Tee);
        assert_eq!(t.cache_policy(), CachePolicy::default());
    }
}
