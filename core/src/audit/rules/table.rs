//! The rule table: `rules.toml`, compiled in and parsed once.
//!
//! The table is data so that the text a bank's auditor reads is reviewed as
//! text, and so that the SARIF rule metadata, the terminal output and the
//! evidence report all come from one place. The checks refer to rules by the
//! constants in [`id`]; a test holds the constants and the table to the same
//! set, so a check cannot emit an ID the table lacks, and the table has no rule
//! that no check emits.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::audit::model::Location;
use crate::guideline::GuidelineId;

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// For the record.
    Info,
    /// Worth fixing.
    Low,
    /// Fix before release unless accepted.
    Medium,
    /// Fix before release.
    High,
    /// The app will break or is not protected at all.
    Critical,
}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Severity; 5] = [
        Self::Info,
        Self::Low,
        Self::Medium,
        Self::High,
        Self::Critical,
    ];

    /// `info` … `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    /// The name in `lang`.
    pub fn label(self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => self.as_str(),
            Lang::Ja => match self {
                Self::Info => "情報",
                Self::Low => "低",
                Self::Medium => "中",
                Self::High => "高",
                Self::Critical => "重大",
            },
        }
    }
}

impl core::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("unknown severity {s:?}; expected info, low, medium, high or critical")
            })
    }
}

/// Output language.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Japanese.
    Ja,
}

/// The explanation of a rule in one language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleText {
    /// Short title.
    pub title: String,
    /// AuditFinding message template (`{host}`, `{detail}`).
    pub message: String,
    /// What good looks like (the guideline's criterion as applied).
    pub criterion: String,
    /// What goes wrong otherwise.
    pub risk: String,
    /// When the rule applies.
    pub applies: String,
    /// How to fix it.
    pub remediation: String,
    /// A configuration that triggers it.
    pub bad: String,
}

/// One rule of the table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Stable identifier, e.g. `PIN-BACKUP-MISSING`.
    pub id: String,
    /// Severity of its findings.
    pub severity: Severity,
    /// The guideline item it serves.
    pub guideline: GuidelineId,
    /// OWASP MASTG tests that check the same thing (Android and iOS tests
    /// where both platforms apply), possibly none.
    #[serde(default)]
    pub mastg: Vec<String>,
    /// OWASP MASWE weakness, where one exists.
    #[serde(default)]
    pub maswe: Option<String>,
    /// Other tools that flag the same thing.
    #[serde(default)]
    pub also_flagged_by: Vec<String>,
    /// English text.
    pub en: RuleText,
    /// Japanese text.
    pub ja: RuleText,
}

impl Rule {
    /// The text in `lang`.
    pub fn text(&self, lang: Lang) -> &RuleText {
        match lang {
            Lang::En => &self.en,
            Lang::Ja => &self.ja,
        }
    }
}

#[derive(Deserialize)]
struct Table {
    rule: Vec<Rule>,
}

/// The rule table as compiled in.
const SOURCE: &str = include_str!("../rules.toml");

/// SHA-256 of the rule table (`rules.toml`) compiled into this build,
/// lowercase hex: reports cite it so a reader knows which rules judged them.
pub fn rules_sha256() -> String {
    hex::encode(ring::digest::digest(
        &ring::digest::SHA256,
        SOURCE.as_bytes(),
    ))
}

/// Every rule, in table order.
pub fn rules() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| {
        toml::from_str::<Table>(SOURCE)
            .expect("rules.toml is valid (checked by tests)")
            .rule
    })
}

/// The rule with `id` (through an index built once: every finding looks
/// its rule up, and a 10 MB configuration yields 100,000 findings).
pub fn rule(id: &str) -> &'static Rule {
    static INDEX: OnceLock<std::collections::HashMap<&'static str, &'static Rule>> =
        OnceLock::new();
    INDEX
        .get_or_init(|| rules().iter().map(|r| (r.id.as_str(), r)).collect())
        .get(id)
        .copied()
        .unwrap_or_else(|| panic!("no rule {id}"))
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditFinding {
    /// The rule's id.
    pub rule: String,
    /// The rule's severity.
    pub severity: Severity,
    /// The guideline item.
    pub guideline: GuidelineId,
    /// Where.
    pub location: Location,
    /// The host concerned, if any.
    pub host: Option<String>,
    /// The `{detail}` of the message.
    pub detail: String,
}

impl AuditFinding {
    /// The rule.
    pub fn rule(&self) -> &'static Rule {
        rule(&self.rule)
    }

    /// The message in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        self.rule()
            .text(lang)
            .message
            .replace("{host}", self.host.as_deref().unwrap_or(""))
            .replace("{detail}", &self.detail)
    }
}

/// The identifiers of the rules, one constant per rule of `rules.toml`.
pub(crate) mod id {
    pub(crate) const APP_ANCHOR_UNREADABLE: &str = "APP-ANCHOR-UNREADABLE";
    pub(crate) const APP_ALLOW_BACKUP: &str = "APP-ALLOW-BACKUP";
    pub(crate) const APP_DEBUGGABLE: &str = "APP-DEBUGGABLE";
    pub(crate) const APP_MANIFEST_AMBIGUOUS: &str = "APP-MANIFEST-AMBIGUOUS";
    pub(crate) const APP_NSC_VARIANT: &str = "APP-NSC-VARIANT";
    pub(crate) const ATS_EXCEPTION_SUBDOMAINS: &str = "ATS-EXCEPTION-SUBDOMAINS";
    pub(crate) const ATS_GLOBAL_EXCEPTION: &str = "ATS-GLOBAL-EXCEPTION";
    pub(crate) const ATS_LEAF_IDENTITIES_ONLY: &str = "ATS-LEAF-IDENTITIES-ONLY";
    pub(crate) const ATS_NO_FORWARD_SECRECY: &str = "ATS-NO-FORWARD-SECRECY";
    pub(crate) const ATS_WEAK_TLS: &str = "ATS-WEAK-TLS";
    pub(crate) const CLEARTEXT_BASE: &str = "CLEARTEXT-BASE";
    pub(crate) const CLEARTEXT_DEFAULT: &str = "CLEARTEXT-DEFAULT";
    pub(crate) const CLEARTEXT_DOMAIN: &str = "CLEARTEXT-DOMAIN";
    pub(crate) const CONFIG_IGNORED: &str = "CONFIG-IGNORED";
    pub(crate) const CT_DISABLED_BY_ANCHORS: &str = "CT-DISABLED-BY-ANCHORS";
    pub(crate) const CT_IGNORED_BELOW_API_36: &str = "CT-IGNORED-BELOW-API-36";
    pub(crate) const DEBUG_OVERRIDES: &str = "DEBUG-OVERRIDES";
    pub(crate) const EXPIRY_TIMEZONE: &str = "EXPIRY-TIMEZONE";
    pub(crate) const NSC_NOT_BOOLEAN: &str = "NSC-NOT-BOOLEAN";
    pub(crate) const OKHTTP_PIN_SHA1: &str = "OKHTTP-PIN-SHA1";
    pub(crate) const OKHTTP_PIN_UNION: &str = "OKHTTP-PIN-UNION";
    pub(crate) const PIN_BACKUP_DUPLICATE: &str = "PIN-BACKUP-DUPLICATE";
    pub(crate) const PIN_BACKUP_EQUALS_PRIMARY: &str = "PIN-BACKUP-EQUALS-PRIMARY";
    pub(crate) const PIN_BACKUP_MISSING: &str = "PIN-BACKUP-MISSING";
    pub(crate) const PIN_BACKUP_PLACEHOLDER: &str = "PIN-BACKUP-PLACEHOLDER";
    pub(crate) const PIN_BUILDCONFIG_ONLY: &str = "PIN-BUILDCONFIG-ONLY";
    pub(crate) const PIN_CHAIN_MISMATCH: &str = "PIN-CHAIN-MISMATCH";
    pub(crate) const PIN_DOMAIN_NEVER_MATCHES: &str = "PIN-DOMAIN-NEVER-MATCHES";
    pub(crate) const PIN_DOMAIN_UNPINNED: &str = "PIN-DOMAIN-UNPINNED";
    pub(crate) const PIN_EMPTY_SET: &str = "PIN-EMPTY-SET";
    pub(crate) const PIN_EXPIRED: &str = "PIN-EXPIRED";
    pub(crate) const PIN_EXPIRING: &str = "PIN-EXPIRING";
    pub(crate) const PIN_EXPIRY_FAIL_OPEN: &str = "PIN-EXPIRY-FAIL-OPEN";
    pub(crate) const PIN_LEAF_ONLY_SHORT_LIVED: &str = "PIN-LEAF-ONLY-SHORT-LIVED";
    pub(crate) const PIN_NO_EXPIRY: &str = "PIN-NO-EXPIRY";
    pub(crate) const PIN_LENIENT_ENCODING: &str = "PIN-LENIENT-ENCODING";
    pub(crate) const PIN_NEVER_MATCHES: &str = "PIN-NEVER-MATCHES";
    pub(crate) const PIN_NONE: &str = "PIN-NONE";
    pub(crate) const PIN_REPORT_ONLY: &str = "PIN-REPORT-ONLY";
    pub(crate) const PIN_SET_UNMATCHABLE: &str = "PIN-SET-UNMATCHABLE";
    pub(crate) const REPORT_URI_INSECURE: &str = "REPORT-URI-INSECURE";
    pub(crate) const REPORT_URI_VENDOR_DEFAULT: &str = "REPORT-URI-VENDOR-DEFAULT";
    pub(crate) const SOURCE_UNRESOLVED: &str = "SOURCE-UNRESOLVED";
    pub(crate) const SUBDOMAINS_PUBLIC_SUFFIX: &str = "SUBDOMAINS-PUBLIC-SUFFIX";
    pub(crate) const SUBDOMAINS_WIDE: &str = "SUBDOMAINS-WIDE";
    pub(crate) const TRUST_BUNDLED_CA: &str = "TRUST-BUNDLED-CA";
    pub(crate) const TRUST_OVERRIDE_PINS: &str = "TRUST-OVERRIDE-PINS";
    pub(crate) const TRUST_SYSTEM: &str = "TRUST-SYSTEM";
    pub(crate) const TRUST_USER_CA: &str = "TRUST-USER-CA";
    pub(crate) const TRUST_USER_CA_DEFAULT: &str = "TRUST-USER-CA-DEFAULT";
    pub(crate) const TRUSTKIT_ANDROID_NOT_ENFORCED: &str = "TRUSTKIT-ANDROID-NOT-ENFORCED";
    pub(crate) const TRUSTKIT_EXCLUDED_SUBDOMAIN: &str = "TRUSTKIT-EXCLUDED-SUBDOMAIN";
    pub(crate) const XPLAT_PINS_DIFFER: &str = "XPLAT-PINS-DIFFER";
    pub(crate) const XPLAT_UNPINNED: &str = "XPLAT-UNPINNED";

    /// Every identifier above (checked against the table by a test).
    #[cfg(test)]
    pub(crate) const ALL: &[&str] = &[
        APP_ANCHOR_UNREADABLE,
        APP_ALLOW_BACKUP,
        APP_DEBUGGABLE,
        APP_MANIFEST_AMBIGUOUS,
        APP_NSC_VARIANT,
        ATS_EXCEPTION_SUBDOMAINS,
        ATS_GLOBAL_EXCEPTION,
        ATS_LEAF_IDENTITIES_ONLY,
        ATS_NO_FORWARD_SECRECY,
        ATS_WEAK_TLS,
        CLEARTEXT_BASE,
        CLEARTEXT_DEFAULT,
        CLEARTEXT_DOMAIN,
        CONFIG_IGNORED,
        CT_DISABLED_BY_ANCHORS,
        CT_IGNORED_BELOW_API_36,
        DEBUG_OVERRIDES,
        EXPIRY_TIMEZONE,
        NSC_NOT_BOOLEAN,
        OKHTTP_PIN_SHA1,
        OKHTTP_PIN_UNION,
        PIN_BACKUP_DUPLICATE,
        PIN_BACKUP_EQUALS_PRIMARY,
        PIN_BACKUP_MISSING,
        PIN_BACKUP_PLACEHOLDER,
        PIN_BUILDCONFIG_ONLY,
        PIN_CHAIN_MISMATCH,
        PIN_DOMAIN_NEVER_MATCHES,
        PIN_DOMAIN_UNPINNED,
        PIN_EMPTY_SET,
        PIN_EXPIRED,
        PIN_EXPIRING,
        PIN_EXPIRY_FAIL_OPEN,
        PIN_LEAF_ONLY_SHORT_LIVED,
        PIN_NO_EXPIRY,
        PIN_LENIENT_ENCODING,
        PIN_NEVER_MATCHES,
        PIN_NONE,
        PIN_REPORT_ONLY,
        PIN_SET_UNMATCHABLE,
        REPORT_URI_INSECURE,
        REPORT_URI_VENDOR_DEFAULT,
        SOURCE_UNRESOLVED,
        SUBDOMAINS_PUBLIC_SUFFIX,
        SUBDOMAINS_WIDE,
        TRUST_BUNDLED_CA,
        TRUST_OVERRIDE_PINS,
        TRUST_SYSTEM,
        TRUST_USER_CA,
        TRUST_USER_CA_DEFAULT,
        TRUSTKIT_ANDROID_NOT_ENFORCED,
        TRUSTKIT_EXCLUDED_SUBDOMAIN,
        XPLAT_PINS_DIFFER,
        XPLAT_UNPINNED,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_constant_is_a_rule_and_every_rule_a_constant() {
        let table: Vec<&str> = rules().iter().map(|r| r.id.as_str()).collect();
        for c in id::ALL {
            assert!(table.contains(c), "{c} is emitted but not in rules.toml");
        }
        for t in &table {
            assert!(
                id::ALL.contains(t),
                "{t} is in rules.toml but no check emits it"
            );
        }
        let mut sorted = table.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), table.len(), "rules.toml has a duplicate id");
    }

    #[test]
    fn no_check_spells_an_id_as_a_literal() {
        // The checks must go through `id`, so the test above covers them.
        for (name, text) in [
            ("checks/mod.rs", include_str!("checks/mod.rs")),
            ("checks/package.rs", include_str!("checks/package.rs")),
            ("checks/anchors.rs", include_str!("checks/anchors.rs")),
            ("checks/ats.rs", include_str!("checks/ats.rs")),
            ("checks/chains.rs", include_str!("checks/chains.rs")),
            ("checks/cleartext.rs", include_str!("checks/cleartext.rs")),
            (
                "checks/cross_platform.rs",
                include_str!("checks/cross_platform.rs"),
            ),
            ("checks/expiry.rs", include_str!("checks/expiry.rs")),
            ("checks/pins.rs", include_str!("checks/pins.rs")),
        ] {
            for r in rules() {
                assert!(
                    !text.contains(&format!("\"{}\"", r.id)),
                    "{name} spells {} as a literal; use rules::id",
                    r.id
                );
            }
        }
    }
}
