//! The indicator table: versioned data, not code scattered in `if`s.
//!
//! `indicators.json` (beside this file, compiled in with `include_str!`) lists
//! every root, jailbreak, hooking, emulator and debugger indicator the probes
//! and platform collectors look for: an id, a class, a strength, a kind (what
//! to look at) and a target. It was derived from the 2026-11-25 research facts
//! (RootBeer, IOSSecuritySuite, Magisk docs, anti-emulator, OWASP MASTG); see
//! its `derived_from` field. Updating detection means editing data and bumping
//! `version`, which every verdict records.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::facts::DevicePlatform;

/// What an indicator says about the device when present.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorClass {
    /// Android root (su, Magisk, KernelSU, APatch, rw system).
    Root,
    /// iOS jailbreak (rootful or rootless).
    Jailbreak,
    /// Instrumentation / hooking frameworks (Frida, Xposed/LSPosed, Substrate/ElleKit).
    Hooking,
    /// Emulator or simulator.
    Emulator,
    /// A debugger is tracing the process.
    Debugger,
}

impl IndicatorClass {
    /// Every class, in evaluation order.
    pub const ALL: [IndicatorClass; 5] = [
        Self::Root,
        Self::Jailbreak,
        Self::Hooking,
        Self::Emulator,
        Self::Debugger,
    ];

    /// The schema name (`"root"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Root => "root",
            Self::Jailbreak => "jailbreak",
            Self::Hooking => "hooking",
            Self::Emulator => "emulator",
            Self::Debugger => "debugger",
        }
    }
}

/// How much one indicator proves on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorStrength {
    /// Decides alone (a Magisk database, frida-agent mapped in the process).
    Strong,
    /// Known false positives (OEM busybox, `ro.debuggable` on custom ROMs,
    /// `/bin/bash` on a restored device): needs corroboration.
    Weak,
}

/// Where a probe or collector looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum IndicatorKind {
    /// A path exists (lstat, so a symlink counts).
    Path,
    /// A system property equals `equals`.
    Property,
    /// A system property contains `equals`.
    PropertyContains,
    /// A line of `/proc/self/maps` contains `target`.
    Maps,
    /// A line of `/proc/self/mountinfo` contains `target`.
    Mountinfo,
    /// The mount point `target` is mounted read-write (`/proc/self/mountinfo`).
    MountRw,
    /// `TracerPid` in `/proc/self/status` is non-zero.
    TracerPid,
    /// Something listens on loopback port `target`.
    Port,
    /// A loaded image (iOS dyld image list, handed in by the Swift collector) contains `target`.
    LoadedImage,
    /// An installed package (queried by the Kotlin collector).
    Package,
}

/// Which platform an indicator applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorPlatform {
    /// Android only.
    Android,
    /// iOS only.
    Ios,
    /// Every platform.
    Any,
}

impl IndicatorPlatform {
    /// Whether this indicator is checked on `p`. `DevicePlatform::Other` (a desktop
    /// running the CLI) runs the Android set: same kernel interfaces.
    pub fn applies_to(self, p: DevicePlatform) -> bool {
        matches!(
            (self, p),
            (Self::Any, _)
                | (
                    Self::Android,
                    DevicePlatform::Android | DevicePlatform::Other
                )
                | (Self::Ios, DevicePlatform::Ios)
        )
    }
}

/// One row of the table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    /// Stable id, cited in evidence, allow-lists and verdicts.
    pub id: String,
    /// Class.
    pub class: IndicatorClass,
    /// Platform.
    pub platform: IndicatorPlatform,
    /// IndicatorStrength.
    pub strength: IndicatorStrength,
    /// Where to look.
    pub kind: IndicatorKind,
    /// Path, property name, substring or port.
    pub target: String,
    /// Expected property value (for property kinds).
    #[serde(default)]
    pub equals: Option<String>,
    /// Where the indicator comes from.
    pub source: String,
}

/// The whole table.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorTable {
    /// Table format (1).
    pub format: u32,
    /// Data version, recorded in every verdict.
    pub version: String,
    /// Provenance.
    pub derived_from: String,
    /// Property files read by the property probe, in precedence order.
    pub property_files: Vec<String>,
    /// The indicators.
    pub indicators: Vec<Indicator>,
}

impl IndicatorTable {
    /// The table compiled into this crate.
    pub fn builtin() -> &'static IndicatorTable {
        static TABLE: OnceLock<IndicatorTable> = OnceLock::new();
        TABLE.get_or_init(|| {
            serde_json::from_str(include_str!("indicators.json"))
                .expect("built-in indicators.json is valid (checked by tests)")
        })
    }

    /// The class and strength the built-in table gives indicator `id`
    /// (authoritative over what a facts source claims), by a hash lookup.
    pub fn builtin_label(id: &str) -> Option<(IndicatorClass, IndicatorStrength)> {
        static LABELS: OnceLock<HashMap<&'static str, (IndicatorClass, IndicatorStrength)>> =
            OnceLock::new();
        LABELS
            .get_or_init(|| {
                Self::builtin()
                    .indicators
                    .iter()
                    .map(|i| (i.id.as_str(), (i.class, i.strength)))
                    .collect()
            })
            .get(id)
            .copied()
    }

    /// Looks an indicator up by id.
    pub fn get(&self, id: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.id == id)
    }

    /// Indicators checked on `platform`.
    pub fn for_platform(&self, platform: DevicePlatform) -> impl Iterator<Item = &Indicator> {
        self.indicators
            .iter()
            .filter(move |i| i.platform.applies_to(platform))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn builtin_table_is_consistent() {
        let t = IndicatorTable::builtin();
        assert_eq!(t.format, 1);
        let mut ids = HashSet::new();
        for i in &t.indicators {
            assert!(ids.insert(&i.id), "duplicate id {}", i.id);
            match i.kind {
                IndicatorKind::Path | IndicatorKind::MountRw => {
                    assert!(i.target.starts_with('/'), "{}", i.id)
                }
                IndicatorKind::Property | IndicatorKind::PropertyContains => {
                    assert!(i.equals.is_some(), "{}", i.id)
                }
                IndicatorKind::Port => {
                    i.target.parse::<u16>().unwrap();
                }
                _ => {}
            }
        }
        // The research's key signals are in the data.
        for (id, target) in [
            ("android.magisk.magisk_db", "/data/adb/magisk.db"),
            ("android.kernelsu.ksu", "/data/adb/ksu"),
            ("ios.path.var_jb", "/var/jb"),
            (
                "ios.path.applications_dopamine_app",
                "/Applications/Dopamine.app",
            ),
            ("android.maps.frida_agent", "frida-agent"),
            ("any.port.frida", "27042"),
        ] {
            assert_eq!(t.get(id).map(|i| i.target.as_str()), Some(target), "{id}");
        }
        assert_eq!(
            t.get("android.bin.busybox.system_xbin").unwrap().strength,
            IndicatorStrength::Weak
        );
    }
}
