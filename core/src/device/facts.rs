//! The cross-platform fact schema: what is known about a device, and how.
//!
//! Every fact is tri-state ([`FactState`]): a check that could not run (a path the
//! sandbox refuses, a property file that is not there, a time budget spent)
//! says [`FactState::Unknown`], never "absent". RootBeer-style booleans read
//! "could not check" as "clean"; here the policy decides what unknown means.
//!
//! Each fact carries its [`DeviceEvidence`] (path, property, value and whether a
//! Rust probe or the platform collector saw it), so a verdict can be explained
//! to an auditor and re-evaluated from an exported snapshot.

use serde::{Deserialize, Serialize};

use super::indicators::{IndicatorClass, IndicatorStrength, IndicatorTable};

/// Version of the facts JSON schema written by this crate.
pub const FACTS_SCHEMA: u32 = 1;

/// FactState-state outcome of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactState {
    /// The check ran and found the thing (or the value is known).
    Present,
    /// The check ran and did not find it.
    Absent,
    /// The check could not run or could not be read: never "clean".
    Unknown,
}

impl FactState {
    /// Combines two observations of the same thing: present wins over absent,
    /// absent over unknown (one source that could look beats one that could not).
    pub fn combine(self, other: FactState) -> FactState {
        match (self, other) {
            (FactState::Present, _) | (_, FactState::Present) => FactState::Present,
            (FactState::Absent, _) | (_, FactState::Absent) => FactState::Absent,
            _ => FactState::Unknown,
        }
    }
}

/// Who observed a fact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceSource {
    /// A Rust probe in this crate (files, /proc, loopback ports).
    Probe,
    /// The Kotlin or Swift collector (OS APIs only the platform can call).
    Platform,
    /// Signed by the device's secure hardware: a verified Android Key
    /// Attestation or Apple App Attest result (`device::android_attested_facts`).
    Attestation,
}

/// What was looked at and what was seen.
///
/// Ordered (source, path, property, value, detail) so that normalised
/// evidence lists have one order whatever order the sources reported in.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceEvidence {
    /// Who looked.
    pub source: EvidenceSource,
    /// File or directory looked at, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// System property or API looked at (e.g. `ro.debuggable`, `KeyguardManager.isDeviceSecure`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property: Option<String>,
    /// The value seen (a property value, a matching line, a port).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Why the state is what it is, e.g. the error that made it unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl DeviceEvidence {
    /// DeviceEvidence from a Rust probe.
    pub fn probe() -> Self {
        Self {
            source: EvidenceSource::Probe,
            path: None,
            property: None,
            value: None,
            detail: None,
        }
    }

    /// DeviceEvidence from the platform collector.
    pub fn platform() -> Self {
        Self {
            source: EvidenceSource::Platform,
            ..Self::probe()
        }
    }

    /// Sets the path.
    pub fn path(mut self, p: impl Into<String>) -> Self {
        self.path = Some(p.into());
        self
    }

    /// Sets the property.
    pub fn property(mut self, p: impl Into<String>) -> Self {
        self.property = Some(p.into());
        self
    }

    /// Sets the value.
    pub fn value(mut self, v: impl Into<String>) -> Self {
        self.value = Some(v.into());
        self
    }

    /// Sets the detail.
    pub fn detail(mut self, d: impl Into<String>) -> Self {
        self.detail = Some(d.into());
        self
    }
}

/// One fact: its state, its value when it has one, and the evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceFact {
    /// Present / absent / unknown.
    pub state: FactState,
    /// The value, for valued facts (OS version, API level, patch level,
    /// keystore level, installer, certificate digest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// How it was established.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<DeviceEvidence>,
}

impl Default for DeviceFact {
    fn default() -> Self {
        Self::unknown()
    }
}

impl DeviceFact {
    /// Nothing is known.
    pub fn unknown() -> Self {
        Self {
            state: FactState::Unknown,
            value: None,
            evidence: Vec::new(),
        }
    }

    /// Unknown with no value and no evidence: nothing was even looked at.
    pub fn is_blank(&self) -> bool {
        self.state == FactState::Unknown && self.value.is_none() && self.evidence.is_empty()
    }

    /// A boolean fact.
    pub fn flag(state: FactState, evidence: DeviceEvidence) -> Self {
        Self {
            state,
            value: None,
            evidence: vec![evidence],
        }
    }

    /// A valued fact that is known.
    pub fn known(value: impl Into<String>, evidence: DeviceEvidence) -> Self {
        Self {
            state: FactState::Present,
            value: Some(value.into()),
            evidence: vec![evidence],
        }
    }

    /// Merges a second observation of the same fact into this one.
    ///
    /// States combine with [`FactState::combine`]. For valued facts, two sources
    /// that report *different* values make the fact unknown: a property file
    /// that disagrees with the OS API is a sign of spoofing (Magisk
    /// `resetprop`), and the policy must not pick the convenient one.
    pub fn merge(&mut self, other: DeviceFact) {
        let state = self.state.combine(other.state);
        let value = match (self.value.take(), other.value) {
            (Some(a), Some(b)) if a != b => {
                self.evidence.extend(other.evidence);
                // Sorted, so the note is the same whichever side merged first.
                let (lo, hi) = if a < b { (a, b) } else { (b, a) };
                self.evidence.push(
                    DeviceEvidence::probe()
                        .value(format!("{lo} != {hi}"))
                        .detail("sources disagree; value treated as unknown"),
                );
                self.state = FactState::Unknown;
                self.value = None;
                return;
            }
            (a, b) => a.or(b),
        };
        self.evidence.extend(other.evidence);
        self.state = state;
        self.value = value;
    }
}

/// Operating system family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DevicePlatform {
    /// Android.
    Android,
    /// iOS / iPadOS.
    Ios,
    /// Anything else (a desktop running `mamori device probe`).
    Other,
}

/// Hardware keystore level, weakest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum KeystoreLevel {
    /// Software keys only.
    None,
    /// Android Keystore in the TEE.
    Tee,
    /// Android StrongBox (discrete secure element). Spelled `strongbox` in
    /// the facts schema.
    #[serde(rename = "strongbox")]
    StrongBox,
    /// Apple Secure Enclave.
    SecureEnclave,
}

impl KeystoreLevel {
    /// IndicatorStrength rank: a StrongBox or Secure Enclave key satisfies a TEE requirement.
    pub fn rank(self) -> u8 {
        match self {
            Self::None => 0,
            Self::Tee => 1,
            Self::StrongBox | Self::SecureEnclave => 2,
        }
    }

    /// The schema name (`"tee"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Tee => "tee",
            Self::StrongBox => "strongbox",
            Self::SecureEnclave => "secure_enclave",
        }
    }

    /// Parses a schema name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "none" => Self::None,
            "tee" => Self::Tee,
            "strongbox" => Self::StrongBox,
            "secure_enclave" => Self::SecureEnclave,
            _ => return None,
        })
    }
}

/// One indicator from the table, as observed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorObservation {
    /// Indicator id from the table (e.g. `android.magisk.magisk`), or a
    /// platform-defined id (`platform.*`).
    pub id: String,
    /// Indicator class.
    pub class: IndicatorClass,
    /// Strong signals decide alone; weak ones need corroboration.
    pub strength: IndicatorStrength,
    /// What was seen.
    pub state: FactState,
    /// How.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<DeviceEvidence>,
}

/// Everything known about one device at one moment.
///
/// Produced by [`super::probe::run_probes`] (Rust side), by the platform
/// collectors (Kotlin/Swift), and merged with [`DeviceFacts::merge`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceFacts {
    /// Schema version ([`FACTS_SCHEMA`]).
    pub schema: u32,
    /// OS family.
    pub platform: DevicePlatform,
    /// OS version string (`"15"`, `"18.1.1"`).
    #[serde(default)]
    pub os_version: DeviceFact,
    /// Android API level (`Build.VERSION.SDK_INT`).
    #[serde(default)]
    pub android_api_level: DeviceFact,
    /// Android security patch level, `YYYY-MM-DD` (unparseable = unknown).
    #[serde(default)]
    pub security_patch: DeviceFact,
    /// A screen lock (PIN, pattern, password, passcode) is set.
    #[serde(default)]
    pub screen_lock: DeviceFact,
    /// Strong biometrics are enrolled.
    #[serde(default)]
    pub biometrics_enrolled: DeviceFact,
    /// Best hardware keystore level available (value: `none`, `tee`, `strongbox`, `secure_enclave`).
    #[serde(default)]
    pub keystore_level: DeviceFact,
    /// A debugger is attached to the app process.
    #[serde(default)]
    pub debugger_attached: DeviceFact,
    /// Running on an emulator or simulator.
    #[serde(default)]
    pub emulator: DeviceFact,
    /// Developer options are enabled.
    #[serde(default)]
    pub developer_options: DeviceFact,
    /// ADB (USB or wireless) is enabled.
    #[serde(default)]
    pub adb_enabled: DeviceFact,
    /// Package that installed the app (value), absent when sideloaded.
    #[serde(default)]
    pub installer: DeviceFact,
    /// SHA-256 of the app signing certificate, lowercase hex (value).
    #[serde(default)]
    pub signing_cert_sha256: DeviceFact,
    /// The app's identity (value): the Android package name, or the Apple
    /// App ID `TEAMID.bundle.id`. Attestation proves it (Key Attestation's
    /// `attestationApplicationId`, App Attest's rpIdHash); left out of the
    /// JSON while nothing is known, so older snapshots keep their hash.
    #[serde(default, skip_serializing_if = "DeviceFact::is_blank")]
    pub app_id: DeviceFact,
    /// Root, jailbreak, hooking, emulator and debugger indicators, sorted by id.
    #[serde(default)]
    pub indicators: Vec<IndicatorObservation>,
}

impl DeviceFacts {
    /// Nothing known yet about a device of this platform.
    pub fn new(platform: DevicePlatform) -> Self {
        Self {
            schema: FACTS_SCHEMA,
            platform,
            os_version: DeviceFact::unknown(),
            android_api_level: DeviceFact::unknown(),
            security_patch: DeviceFact::unknown(),
            screen_lock: DeviceFact::unknown(),
            biometrics_enrolled: DeviceFact::unknown(),
            keystore_level: DeviceFact::unknown(),
            debugger_attached: DeviceFact::unknown(),
            emulator: DeviceFact::unknown(),
            developer_options: DeviceFact::unknown(),
            adb_enabled: DeviceFact::unknown(),
            installer: DeviceFact::unknown(),
            signing_cert_sha256: DeviceFact::unknown(),
            app_id: DeviceFact::unknown(),
            indicators: Vec::new(),
        }
    }

    fn facts(&self) -> [&DeviceFact; 13] {
        self.named_facts().map(|(_, f)| f)
    }

    /// Every fact with its schema name, in schema order.
    pub(super) fn named_facts(&self) -> [(&'static str, &DeviceFact); 13] {
        [
            ("os_version", &self.os_version),
            ("android_api_level", &self.android_api_level),
            ("security_patch", &self.security_patch),
            ("screen_lock", &self.screen_lock),
            ("biometrics_enrolled", &self.biometrics_enrolled),
            ("keystore_level", &self.keystore_level),
            ("debugger_attached", &self.debugger_attached),
            ("emulator", &self.emulator),
            ("developer_options", &self.developer_options),
            ("adb_enabled", &self.adb_enabled),
            ("installer", &self.installer),
            ("signing_cert_sha256", &self.signing_cert_sha256),
            ("app_id", &self.app_id),
        ]
    }

    pub(super) fn facts_mut(&mut self) -> [&mut DeviceFact; 13] {
        [
            &mut self.os_version,
            &mut self.android_api_level,
            &mut self.security_patch,
            &mut self.screen_lock,
            &mut self.biometrics_enrolled,
            &mut self.keystore_level,
            &mut self.debugger_attached,
            &mut self.emulator,
            &mut self.developer_options,
            &mut self.adb_enabled,
            &mut self.installer,
            &mut self.signing_cert_sha256,
            &mut self.app_id,
        ]
    }

    /// Merges another snapshot of the same device (typically platform facts
    /// into probe facts). Facts merge with [`DeviceFact::merge`]; indicators with the
    /// same id combine their states and evidence. The result is normalised.
    pub fn merge(mut self, other: DeviceFacts) -> DeviceFacts {
        if self.platform == DevicePlatform::Other {
            self.platform = other.platform;
        }
        let DeviceFacts {
            os_version,
            android_api_level,
            security_patch,
            screen_lock,
            biometrics_enrolled,
            keystore_level,
            debugger_attached,
            emulator,
            developer_options,
            adb_enabled,
            installer,
            signing_cert_sha256,
            app_id,
            indicators,
            ..
        } = other;
        let theirs = [
            os_version,
            android_api_level,
            security_patch,
            screen_lock,
            biometrics_enrolled,
            keystore_level,
            debugger_attached,
            emulator,
            developer_options,
            adb_enabled,
            installer,
            signing_cert_sha256,
            app_id,
        ];
        for (mine, theirs) in self.facts_mut().into_iter().zip(theirs) {
            mine.merge(theirs);
        }
        self.indicators.extend(indicators);
        self.normalize();
        self
    }

    /// Puts the snapshot in canonical form: indicators sorted by id, duplicate
    /// ids folded together, every evidence list sorted and free of repeats.
    /// Hashing and evaluation always see this form, so the order in which
    /// sources reported does not change a verdict or the facts hash.
    ///
    /// Every step is order-independent: states fold with the commutative
    /// [`FactState::combine`]; the built-in indicator table decides the class
    /// and strength of the indicators it lists (a source cannot relabel a
    /// strong Magisk indicator as a weak emulator one); an id the table does
    /// not know takes the first class in [`IndicatorClass`] order and the
    /// stronger strength its observations name.
    pub fn normalize(&mut self) {
        self.indicators.sort_by(|a, b| a.id.cmp(&b.id));
        let mut out: Vec<IndicatorObservation> = Vec::with_capacity(self.indicators.len());
        for o in self.indicators.drain(..) {
            match out.last_mut() {
                Some(last) if last.id == o.id => {
                    last.state = last.state.combine(o.state);
                    last.class = last.class.min(o.class);
                    last.strength = last.strength.min(o.strength);
                    last.evidence.extend(o.evidence);
                }
                _ => out.push(o),
            }
        }
        for o in &mut out {
            if let Some((class, strength)) = IndicatorTable::builtin_label(&o.id) {
                (o.class, o.strength) = (class, strength);
            }
            canonical_evidence(&mut o.evidence);
        }
        self.indicators = out;
        for f in self.facts_mut() {
            canonical_evidence(&mut f.evidence);
        }
    }

    /// Canonical JSON (compact, normalised) used for hashing and export.
    pub fn canonical_json(&self) -> Vec<u8> {
        if self.is_normalized() {
            return serde_json::to_vec(self).expect("facts always serialise");
        }
        let mut c = self.clone();
        c.normalize();
        serde_json::to_vec(&c).expect("facts always serialise")
    }

    /// SHA-256 of [`Self::canonical_json`], lowercase hex.
    pub fn sha256(&self) -> String {
        if self.is_normalized() {
            super::json_sha256_hex(self)
        } else {
            let mut c = self.clone();
            c.normalize();
            super::json_sha256_hex(&c)
        }
    }

    /// Whether the snapshot is already in canonical form ([`Self::normalize`]
    /// would not change it).
    pub fn is_normalized(&self) -> bool {
        let sorted = |e: &[DeviceEvidence]| e.windows(2).all(|w| w[0] < w[1]);
        self.indicators.windows(2).all(|w| w[0].id < w[1].id)
            && self.indicators.iter().all(|o| {
                sorted(&o.evidence)
                    && IndicatorTable::builtin_label(&o.id)
                        .is_none_or(|label| label == (o.class, o.strength))
            })
            && self.facts().iter().all(|f| sorted(&f.evidence))
    }

    /// Parses a facts snapshot (JSON) as a device sent it, normalising it.
    ///
    /// Evidence that claims `"source": "attestation"` and every
    /// `attestation.*` indicator are dropped: a device cannot attest itself
    /// by saying so. Attested facts come only from an attestation verified
    /// here ([`DeviceFacts::with_attested`]), or from a snapshot the server
    /// stored itself after verifying one ([`DeviceFacts::from_stored_json`]).
    pub fn from_json(json: &str) -> Result<Self, FactsError> {
        let mut f = Self::from_stored_json(json)?;
        f.drop_claimed_attestation();
        f.normalize();
        Ok(f)
    }

    /// Parses a facts snapshot (JSON) that the caller produced and stored
    /// itself (for example after [`DeviceFacts::with_attested`]), keeping its
    /// attested evidence, so that re-evaluating it gives the same verdict and
    /// facts hash. Never use it for what a device sent: use
    /// [`DeviceFacts::from_json`].
    pub fn from_stored_json(json: &str) -> Result<Self, FactsError> {
        crate::limits::check_json(json.as_bytes()).map_err(FactsError::Limit)?;
        let mut f: DeviceFacts = serde_json::from_str(json).map_err(|e| FactsError::Parse {
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        if f.schema != FACTS_SCHEMA {
            return Err(FactsError::Schema { found: f.schema });
        }
        f.normalize();
        Ok(f)
    }
}

/// Sorts an evidence list and drops exact repeats (they add nothing).
fn canonical_evidence(e: &mut Vec<DeviceEvidence>) {
    e.sort();
    e.dedup();
}

/// A facts snapshot that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum FactsError {
    /// Not valid facts JSON.
    #[error("facts JSON invalid at line {line} column {column}: {message}")]
    Parse {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What serde said.
        message: String,
    },
    /// The JSON exceeds a size or nesting limit ([`crate::limits`]).
    #[error("facts JSON refused: {0}")]
    Limit(crate::limits::LimitError),
    /// A schema version this build does not read.
    #[error("facts schema {found} is not supported (expected {FACTS_SCHEMA})")]
    Schema {
        /// The version in the file.
        found: u32,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combine_prefers_present_then_absent() {
        use FactState::*;
        assert_eq!(Present.combine(Unknown), Present);
        assert_eq!(Unknown.combine(Absent), Absent);
        assert_eq!(Absent.combine(Present), Present);
        assert_eq!(Unknown.combine(Unknown), Unknown);
    }

    #[test]
    fn conflicting_values_become_unknown() {
        let mut a = DeviceFact::known(
            "34",
            DeviceEvidence::platform().property("Build.VERSION.SDK_INT"),
        );
        a.merge(DeviceFact::known(
            "35",
            DeviceEvidence::probe().property("ro.build.version.sdk"),
        ));
        assert_eq!(a.state, FactState::Unknown);
        assert_eq!(a.value, None);
        assert_eq!(a.evidence.len(), 3);
        let mut b = DeviceFact::known("34", DeviceEvidence::platform());
        b.merge(DeviceFact::known("34", DeviceEvidence::probe()));
        assert_eq!(
            (b.state, b.value.as_deref()),
            (FactState::Present, Some("34"))
        );
    }

    #[test]
    fn streamed_hash_is_sha256_of_canonical_json() {
        let mut f = DeviceFacts::new(DevicePlatform::Android);
        f.screen_lock = DeviceFact::flag(FactState::Present, DeviceEvidence::platform());
        for id in ["b", "a"] {
            f.indicators.push(IndicatorObservation {
                id: id.into(),
                class: IndicatorClass::Root,
                strength: IndicatorStrength::Weak,
                state: FactState::Absent,
                evidence: Vec::new(),
            });
        }
        assert!(!f.is_normalized());
        let bytes = f.canonical_json();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.find("\"id\":\"a\"").unwrap() < text.find("\"id\":\"b\"").unwrap());
        let d = ring::digest::digest(&ring::digest::SHA256, &bytes);
        let want = hex::encode(d);
        assert_eq!(f.sha256(), want);
        f.normalize();
        assert_eq!(f.sha256(), want);
    }

    #[test]
    fn unknown_fields_and_schema_are_rejected() {
        let e = DeviceFacts::from_json(r#"{"schema":1,"platform":"android","rooted":true}"#)
            .unwrap_err();
        assert!(matches!(e, FactsError::Parse { .. }), "{e}");
        assert!(e.to_string().contains("rooted"), "{e}");
        let e = DeviceFacts::from_json(r#"{"schema":9,"platform":"ios"}"#).unwrap_err();
        assert_eq!(e, FactsError::Schema { found: 9 });
    }
}
