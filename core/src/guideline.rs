//! The catalogue of guideline items that Mamori's checks cite.
//!
//! Japanese FinTech teams must show their partner banks which item of the
//! FinTech security guideline every control serves. Findings, audit rules and
//! reports therefore carry a [`GuidelineId`] rather than free text, so the
//! mapping is checked by the compiler and rendered the same way everywhere.

use serde::{Deserialize, Serialize};

/// One item of the guideline (see `GUIDELINE.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum GuidelineId {
    /// Encrypt sensitive on-device data with a hardware-held key.
    #[serde(rename = "DEV-1")]
    Dev1,
    /// Run only on OS versions that support current security hardening.
    #[serde(rename = "DEV-2")]
    Dev2,
    /// Require app-level authentication where sensitive data is on the device.
    #[serde(rename = "DEV-3")]
    Dev3,
    /// Use certificate pinning over TLS between the app and its servers.
    #[serde(rename = "DEV-4")]
    Dev4,
    /// Encrypt data both in transit and at rest.
    #[serde(rename = "DATA-1")]
    Data1,
    /// Run key management properly and rotate keys periodically.
    #[serde(rename = "DATA-2")]
    Data2,
    /// Do not store more sensitive data than needed.
    #[serde(rename = "DATA-3")]
    Data3,
    /// Have measures for data leaking outside the rules; record incidents.
    #[serde(rename = "DATA-4")]
    Data4,
    /// Never store user passwords in plain form.
    #[serde(rename = "APP-1")]
    App1,
    /// Do not build your own authentication framework.
    #[serde(rename = "APP-2")]
    App2,
    /// Log enough to reconstruct incidents.
    #[serde(rename = "LOG-1")]
    Log1,
    /// Do not log sensitive data.
    #[serde(rename = "LOG-2")]
    Log2,
    /// Notify automatically when a sensitive operation happens.
    #[serde(rename = "LOG-4")]
    Log4,
    /// Envelope encryption: data keys stored only wrapped, erased promptly.
    #[serde(rename = "NEW-1")]
    New1,
    /// Defence in depth.
    #[serde(rename = "BP-1")]
    Bp1,
    /// Hand lower layers to proven vendors.
    #[serde(rename = "BP-3")]
    Bp3,
    /// Allow no single point of failure in security.
    #[serde(rename = "BP-5")]
    Bp5,
}

impl GuidelineId {
    /// Every item in the catalogue, in document order.
    pub const ALL: &'static [GuidelineId] = &[
        Self::Dev1,
        Self::Dev2,
        Self::Dev3,
        Self::Dev4,
        Self::Data1,
        Self::Data2,
        Self::Data3,
        Self::Data4,
        Self::App1,
        Self::App2,
        Self::Log1,
        Self::Log2,
        Self::Log4,
        Self::New1,
        Self::Bp1,
        Self::Bp3,
        Self::Bp5,
    ];

    /// The stable identifier, e.g. `"DEV-4"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dev1 => "DEV-1",
            Self::Dev2 => "DEV-2",
            Self::Dev3 => "DEV-3",
            Self::Dev4 => "DEV-4",
            Self::Data1 => "DATA-1",
            Self::Data2 => "DATA-2",
            Self::Data3 => "DATA-3",
            Self::Data4 => "DATA-4",
            Self::App1 => "APP-1",
            Self::App2 => "APP-2",
            Self::Log1 => "LOG-1",
            Self::Log2 => "LOG-2",
            Self::Log4 => "LOG-4",
            Self::New1 => "NEW-1",
            Self::Bp1 => "BP-1",
            Self::Bp3 => "BP-3",
            Self::Bp5 => "BP-5",
        }
    }

    /// The item's criterion in English, as worded in the guideline.
    pub fn criterion(self) -> &'static str {
        match self {
            Self::Dev1 => {
                "Where sensitive data is on the device, encrypt it with a key held in the hardware keystore."
            }
            Self::Dev2 => {
                "Let the app run only on OS versions that support current security hardening."
            }
            Self::Dev3 => {
                "Where sensitive data is on the device, require app-level authentication (biometrics, passcode, out-of-band)."
            }
            Self::Dev4 => {
                "For smartphone-to-server communication, use certificate pinning over TLS."
            }
            Self::Data1 => "Encrypt data both in transit and at rest.",
            Self::Data2 => "Run key management properly and rotate keys periodically.",
            Self::Data3 => "Do not store more sensitive data than needed.",
            Self::Data4 => {
                "Have measures for data leaking outside the rules, and record incidents."
            }
            Self::App1 => "Never store user passwords in plain form (hash them).",
            Self::App2 => "Do not build your own authentication framework; use proven tools.",
            Self::Log1 => "Assume incidents will happen; log enough to reconstruct what happened.",
            Self::Log2 => "Do not log sensitive data.",
            Self::Log4 => "Notify automatically when a sensitive operation happens.",
            Self::New1 => {
                "Envelope encryption: store data keys only in encrypted form; give the plaintext data key only to the intended recipient and erase it promptly."
            }
            Self::Bp1 => "Defence in depth: layered controls and layered encryption.",
            Self::Bp3 => {
                "Hand the lower layers of the stack to proven vendors rather than building them yourself."
            }
            Self::Bp5 => "Allow no single point of failure in security.",
        }
    }

    /// The risk the item reduces, where the guideline states one.
    pub fn risk(self) -> Option<&'static str> {
        match self {
            Self::Dev1 => Some("Data read off a lost, stolen or compromised phone."),
            Self::Dev2 => Some(
                "Known OS vulnerabilities; rooted/jailbroken or outdated devices bypassing protections.",
            ),
            Self::Dev3 => Some("Someone holding an unlocked phone uses the app."),
            Self::Dev4 => Some(
                "Interception by a rogue or mis-issued certificate, or by a CA the user was tricked into installing.",
            ),
            _ => None,
        }
    }
}

impl core::fmt::Display for GuidelineId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_name_equals_display() {
        for id in GuidelineId::ALL {
            let json = serde_json::to_string(id).unwrap();
            assert_eq!(json, format!("\"{id}\""));
            let back: GuidelineId = serde_json::from_str(&json).unwrap();
            assert_eq!(back, *id);
        }
    }
}
