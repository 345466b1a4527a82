//! The audit rules: a table (in `rules.toml`, compiled in) of identities,
//! severities, guideline items, OWASP references and bilingual explanations,
//! and the checks that produce [`Finding`]s from imported configurations.
//!
//! The table is data so that the text a bank's auditor reads is reviewed as
//! text, and so that the SARIF rule metadata, the terminal output and the
//! evidence report all come from one place.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::chain::SuppliedChain;
use super::model::{
    AfterExpiry, AnchorSource, AuditConfig, ExpiryZone, Location, PinScope, Platform, SourceFormat,
    covers,
};
use crate::guideline::GuidelineId;
use crate::pinning::Pin;
use crate::pinning::host::is_public_suffix;

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
    /// Finding message template (`{host}`, `{detail}`).
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
    /// OWASP MASTG test, where one exists.
    #[serde(default)]
    pub mastg: Option<String>,
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

/// Every rule, in table order.
pub fn rules() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| {
        toml::from_str::<Table>(include_str!("rules.toml"))
            .expect("rules.toml is valid (checked by tests)")
            .rule
    })
}

/// The rule with `id`.
pub fn rule(id: &str) -> &'static Rule {
    rules()
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("no rule {id}"))
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
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

impl Finding {
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

/// What an audit needs besides the configurations.
#[derive(Clone, Debug)]
pub struct AuditOptions {
    /// The audit date (expiry checks).
    pub at: OffsetDateTime,
    /// Warn about expiry this many days ahead.
    pub expiry_days: i64,
    /// The app's Android target SDK, when known (default-trust rules).
    pub android_target_sdk: Option<u32>,
    /// Chains to check pins against.
    pub chains: Vec<SuppliedChain>,
    /// Output language of generated details.
    pub lang: Lang,
}

impl AuditOptions {
    /// Options for an audit at `at`, with defaults otherwise.
    pub fn at(at: OffsetDateTime) -> Self {
        Self {
            at,
            expiry_days: 30,
            android_target_sdk: None,
            chains: Vec::new(),
            lang: Lang::En,
        }
    }
}

struct Out<'a> {
    findings: Vec<Finding>,
    cfg: &'a AuditConfig,
}

impl Out<'_> {
    fn push(
        &mut self,
        id: &str,
        location: &Location,
        host: Option<&str>,
        detail: impl Into<String>,
    ) {
        let r = rule(id);
        self.findings.push(Finding {
            rule: r.id.clone(),
            severity: r.severity,
            guideline: r.guideline,
            location: location.clone(),
            host: host.map(str::to_owned),
            detail: detail.into(),
        });
    }

    fn file_loc(&self) -> Location {
        Location::new(&self.cfg.file, None)
    }
}

fn ja(lang: Lang, en: String, ja: String) -> String {
    if lang == Lang::Ja { ja } else { en }
}

/// Effective pins of a domain: NSC nested configs inherit the nearest pin-set.
fn effective_pins(cfg: &AuditConfig, idx: usize) -> (usize, bool) {
    let mut cur = Some(idx);
    while let Some(i) = cur {
        if cfg.domains[i].has_pin_set {
            return (i, true);
        }
        cur = cfg.domains[i].parent;
    }
    (idx, false)
}

fn is_placeholder(p: &Pin) -> bool {
    let d = p.digest();
    d.iter().all(|b| *b == d[0])
}

fn registrable(name: &str) -> bool {
    psl::domain_str(name) == Some(name)
}

/// Audits configurations together. Findings are sorted by severity (highest
/// first), then file, line and rule, so output is deterministic.
pub fn audit(configs: &[AuditConfig], opts: &AuditOptions) -> Vec<Finding> {
    let mut all = Vec::new();
    for cfg in configs {
        let mut out = Out {
            findings: Vec::new(),
            cfg,
        };
        check_config(&mut out, opts);
        all.extend(out.findings);
    }
    cross_platform(configs, opts, &mut all);
    all.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.location.cmp(&b.location))
            .then_with(|| a.rule.cmp(&b.rule))
            .then_with(|| a.host.cmp(&b.host))
            .then_with(|| a.detail.cmp(&b.detail))
    });
    all.dedup();
    all
}

fn check_config(out: &mut Out, opts: &AuditOptions) {
    let cfg = out.cfg;
    let lang = opts.lang;
    if !cfg.has_pins() {
        let loc = out.file_loc();
        out.push("PIN-NONE", &loc, None, cfg.file.clone());
    }
    for ig in &cfg.ignored {
        out.push("CONFIG-IGNORED", &ig.location, None, ig.name.clone());
    }
    // Base-level settings.
    let base_loc = cfg.base_location.clone().unwrap_or_else(|| out.file_loc());
    if cfg.base.cleartext_permitted == Some(true) {
        let what = if cfg.format == SourceFormat::Nsc {
            "base-config".to_owned()
        } else {
            "NSAllowsArbitraryLoads".to_owned()
        };
        out.push("CLEARTEXT-BASE", &base_loc, None, what);
    }
    if let (SourceFormat::Nsc, Some(sdk)) = (cfg.format, opts.android_target_sdk) {
        if sdk <= 23 && cfg.base.trust_anchors.is_none() {
            out.push("TRUST-USER-CA-DEFAULT", &base_loc, None, sdk.to_string());
        }
        if sdk <= 27 && cfg.base.cleartext_permitted.is_none() {
            out.push("CLEARTEXT-DEFAULT", &base_loc, None, sdk.to_string());
        }
    }
    anchor_rules(
        out,
        cfg.base.trust_anchors.as_deref().unwrap_or(&[]),
        "base-config",
        None,
    );
    if let Some(d) = &cfg.debug_overrides {
        let mut parts = Vec::new();
        for a in d.declared.trust_anchors.iter().flatten() {
            parts.push(format!(
                "{}{}",
                a.source.nsc_src(),
                if a.override_pins.unwrap_or(true) {
                    " (overridePins)"
                } else {
                    ""
                }
            ));
        }
        let src = if d.from_companion {
            ja(
                lang,
                "companion _debug.xml".into(),
                "付随リソース _debug.xml".into(),
            )
        } else {
            "debug-overrides".into()
        };
        let detail = ja(
            lang,
            format!(
                "{src} trusts {} in debuggable builds",
                if parts.is_empty() {
                    "nothing extra".into()
                } else {
                    parts.join(", ")
                }
            ),
            format!(
                "{src} はデバッグ可能なビルドで {} を信頼します",
                if parts.is_empty() {
                    "追加のものなし".into()
                } else {
                    parts.join(", ")
                }
            ),
        );
        out.push("DEBUG-OVERRIDES", &d.location, None, detail);
    }
    if let Some(ats) = &cfg.ats {
        for (key, loc) in &ats.global_exceptions {
            if key != "NSAllowsArbitraryLoads" {
                out.push("ATS-GLOBAL-EXCEPTION", loc, None, key.clone());
            }
        }
        for e in &ats.exception_domains {
            let pinned = cfg
                .domains
                .iter()
                .any(|d| !d.pins.is_empty() && covers(d, &e.host));
            if e.allows_insecure_http {
                let extra = if pinned {
                    ja(
                        lang,
                        " although it is pinned".into(),
                        " (ピン留めされているにもかかわらず)".into(),
                    )
                } else {
                    String::new()
                };
                out.push("CLEARTEXT-DOMAIN", &e.location, Some(&e.host), extra);
            }
            if let Some(v) = e
                .minimum_tls
                .as_ref()
                .filter(|v| v.contains("1.0") || v.contains("1.1"))
            {
                out.push("ATS-WEAK-TLS", &e.location, Some(&e.host), v.clone());
            }
            if e.no_forward_secrecy {
                out.push("ATS-NO-FORWARD-SECRECY", &e.location, Some(&e.host), "");
            }
            let weakens = e.allows_insecure_http
                || e.no_forward_secrecy
                || e.minimum_tls
                    .as_ref()
                    .is_some_and(|v| v.contains("1.0") || v.contains("1.1"));
            if e.include_subdomains && weakens {
                out.push("ATS-EXCEPTION-SUBDOMAINS", &e.location, Some(&e.host), "");
            }
        }
    }
    let mut seen_groups = Vec::new();
    for (i, d) in cfg.domains.iter().enumerate() {
        let host = d.host.as_str();
        let loc = &d.location;
        let first_of_group = !seen_groups.contains(&(d.mechanism, d.group));
        seen_groups.push((d.mechanism, d.group));
        // Declared trust / cleartext (once per NSC domain-config).
        if first_of_group {
            if d.declared.cleartext_permitted == Some(true) {
                let pinned = !d.pins.is_empty();
                let extra = if pinned {
                    ja(
                        lang,
                        " although it is pinned".into(),
                        " (ピン留めされているにもかかわらず)".into(),
                    )
                } else {
                    String::new()
                };
                out.push("CLEARTEXT-DOMAIN", loc, Some(host), extra);
            }
            if let Some(a) = &d.declared.trust_anchors {
                anchor_rules(out, a, "domain-config", Some(host));
            }
        }
        let (pin_idx, pinned) = effective_pins(cfg, i);
        if d.mechanism == SourceFormat::Nsc && !pinned {
            out.push("PIN-DOMAIN-UNPINNED", loc, Some(host), "");
            if first_of_group
                && d.declared
                    .trust_anchors
                    .iter()
                    .flatten()
                    .any(|a| a.source == AnchorSource::System)
            {
                out.push("TRUST-SYSTEM", loc, Some(host), "");
            }
        }
        // Subdomain scope.
        let wide = d.include_subdomains || host.starts_with("**.") || host.starts_with("*.");
        let base = host.trim_start_matches("**.").trim_start_matches("*.");
        if wide && pinned {
            if is_public_suffix(base) {
                out.push("SUBDOMAINS-PUBLIC-SUFFIX", loc, Some(base), "");
            } else if registrable(base) {
                out.push("SUBDOMAINS-WIDE", loc, Some(host), "");
            }
        }
        if pin_idx != i || !d.has_pin_set {
            continue; // pins are checked on the entry that declares them
        }
        // From here: the domain declares a pin set.
        if d.pins.is_empty() {
            out.push("PIN-EMPTY-SET", loc, Some(host), "");
            continue;
        }
        let distinct = d.distinct_pins();
        if d.enforce && distinct.len() == 1 && d.mechanism != SourceFormat::Ats {
            out.push("PIN-BACKUP-MISSING", loc, Some(host), "");
        }
        if d.mechanism == SourceFormat::Ats && distinct.len() == 1 {
            out.push("PIN-BACKUP-MISSING", loc, Some(host), "");
        }
        let primary = d.pins[0].pin;
        if d.pins[1..].iter().any(|p| p.pin == primary) {
            out.push(
                "PIN-BACKUP-EQUALS-PRIMARY",
                &d.pins[0].location,
                Some(host),
                primary.to_string(),
            );
        }
        let mut seen: Vec<Pin> = Vec::new();
        let mut reported: Vec<Pin> = Vec::new();
        for p in &d.pins[1..] {
            if p.pin != primary && seen.contains(&p.pin) && !reported.contains(&p.pin) {
                out.push(
                    "PIN-BACKUP-DUPLICATE",
                    &p.location,
                    Some(host),
                    p.pin.to_string(),
                );
                reported.push(p.pin);
            }
            seen.push(p.pin);
        }
        for p in &distinct {
            if is_placeholder(p) {
                let l = d
                    .pins
                    .iter()
                    .find(|e| e.pin == *p)
                    .map(|e| e.location.clone())
                    .unwrap_or_else(|| loc.clone());
                out.push("PIN-BACKUP-PLACEHOLDER", &l, Some(host), p.to_string());
            }
        }
        if d.mechanism == SourceFormat::Ats && d.pins.iter().all(|p| p.scope == PinScope::Leaf) {
            out.push("ATS-LEAF-IDENTITIES-ONLY", loc, Some(host), "");
        }
        if !d.enforce {
            out.push("PIN-REPORT-ONLY", loc, Some(host), "");
        }
        for u in &d.report_uris {
            if !u.trim().to_ascii_lowercase().starts_with("https://") {
                out.push("REPORT-URI-INSECURE", loc, Some(host), u.clone());
            }
        }
        if d.default_report_uri {
            out.push("REPORT-URI-VENDOR-DEFAULT", loc, Some(host), "");
        }
        match &d.expiry {
            None => {
                if matches!(d.mechanism, SourceFormat::Nsc | SourceFormat::TrustKit) {
                    out.push("PIN-NO-EXPIRY", loc, Some(host), "");
                }
            }
            Some(e) => {
                if opts.at >= e.at {
                    out.push("PIN-EXPIRED", loc, Some(host), e.text.clone());
                } else if e.at - opts.at <= Duration::days(opts.expiry_days) {
                    out.push("PIN-EXPIRING", loc, Some(host), e.text.clone());
                }
                if e.after == AfterExpiry::FailOpenSilent {
                    out.push("PIN-EXPIRY-FAIL-OPEN", loc, Some(host), e.text.clone());
                }
                if e.zone == ExpiryZone::DeviceLocal {
                    let detail = ja(
                        lang,
                        format!(
                            "expiration {} is read at midnight in each device's time zone (up to 26 h apart between devices)",
                            e.text
                        ),
                        format!(
                            "期限 {} は各端末のタイムゾーンの午前 0 時として読まれます (端末間で最大 26 時間の差)",
                            e.text
                        ),
                    );
                    out.push("EXPIRY-TIMEZONE", loc, Some(host), detail);
                }
            }
        }
        chain_rules(out, opts, d, loc);
    }
}

fn anchor_rules(
    out: &mut Out,
    anchors: &[super::model::TrustAnchor],
    block: &str,
    host: Option<&str>,
) {
    let label = match host {
        Some(h) => format!("{block} {h}"),
        None => block.to_owned(),
    };
    for a in anchors {
        match &a.source {
            AnchorSource::User => out.push("TRUST-USER-CA", &a.location, host, label.clone()),
            AnchorSource::Bundled(n) if out.cfg.format == SourceFormat::Nsc => out.push(
                "TRUST-BUNDLED-CA",
                &a.location,
                host,
                format!("{label} ({n})"),
            ),
            _ => {}
        }
        if a.override_pins == Some(true) {
            out.push(
                "TRUST-OVERRIDE-PINS",
                &a.location,
                host,
                format!("{label}, src=\"{}\"", a.source.nsc_src()),
            );
        }
    }
}

fn chain_rules(out: &mut Out, opts: &AuditOptions, d: &super::model::DomainEntry, loc: &Location) {
    for chain in &opts.chains {
        if !covers(d, &chain.host) {
            continue;
        }
        // The most specific entry of this config decides for the host.
        if out
            .cfg
            .domain_for(&chain.host)
            .map(|i| &out.cfg.domains[i].host)
            != Some(&d.host)
        {
            continue;
        }
        let matches: Vec<usize> = chain
            .certs
            .iter()
            .enumerate()
            .filter(|(i, c)| {
                d.pins.iter().any(|p| {
                    p.pin == c.pin
                        && match p.scope {
                            PinScope::Any => true,
                            PinScope::Leaf => *i == 0,
                            PinScope::Ca => *i > 0,
                        }
                })
            })
            .map(|(i, _)| i)
            .collect();
        if matches.is_empty() {
            out.push(
                "PIN-CHAIN-MISMATCH",
                loc,
                Some(&chain.host),
                chain.source.clone(),
            );
        } else if let (true, Some(leaf)) = (matches == [0], chain.leaf()) {
            let days = (leaf.not_after - leaf.not_before).whole_days();
            if days <= 100 {
                out.push(
                    "PIN-LEAF-ONLY-SHORT-LIVED",
                    loc,
                    Some(&chain.host),
                    days.to_string(),
                );
            }
        }
    }
}

fn zone_name(z: ExpiryZone, lang: Lang) -> &'static str {
    match (z, lang) {
        (ExpiryZone::DeviceLocal, Lang::En) => "device-local midnight",
        (ExpiryZone::DeviceLocal, Lang::Ja) => "端末ローカルの午前 0 時",
        (ExpiryZone::Utc, Lang::En) => "midnight UTC",
        (ExpiryZone::Utc, Lang::Ja) => "UTC の午前 0 時",
        (ExpiryZone::Explicit, Lang::En) => "explicit offset",
        (ExpiryZone::Explicit, Lang::Ja) => "明示的なオフセット",
    }
}

fn platform_name(p: Platform, lang: Lang) -> &'static str {
    match (p, lang) {
        (Platform::Android, _) => "Android",
        (Platform::Ios, _) => "iOS",
        (Platform::Any, Lang::En) => "the Mamori policy",
        (Platform::Any, Lang::Ja) => "Mamori ポリシー",
    }
}

/// A pinned host on one side: host, pins, expiry (date, zone), location.
type PinnedEntry = (String, Vec<Pin>, Option<(String, ExpiryZone)>, Location);

fn cross_platform(configs: &[AuditConfig], opts: &AuditOptions, out: &mut Vec<Finding>) {
    let lang = opts.lang;
    let android: Vec<&AuditConfig> = configs
        .iter()
        .filter(|c| c.platform == Platform::Android)
        .collect();
    let ios: Vec<&AuditConfig> = configs
        .iter()
        .filter(|c| c.platform == Platform::Ios)
        .collect();
    if android.is_empty() || ios.is_empty() {
        return;
    }
    let push = |out: &mut Vec<Finding>, id: &str, loc: &Location, host: &str, detail: String| {
        let r = rule(id);
        out.push(Finding {
            rule: r.id.clone(),
            severity: r.severity,
            guideline: r.guideline,
            location: loc.clone(),
            host: Some(host.to_owned()),
            detail,
        });
    };
    // Pinned entries per side: (host, pins, expiry, location, platform).
    let pinned = |side: &[&AuditConfig]| -> Vec<PinnedEntry> {
        let mut v = Vec::new();
        for c in side {
            for (i, d) in c.domains.iter().enumerate() {
                let (pi, has) = effective_pins(c, i);
                let pd = &c.domains[pi];
                if has && !pd.pins.is_empty() {
                    v.push((
                        d.host.clone(),
                        pd.distinct_pins(),
                        pd.expiry
                            .as_ref()
                            .map(|e| (e.at.date().to_string(), e.zone)),
                        d.location.clone(),
                    ));
                }
            }
        }
        v
    };
    let a = pinned(&android);
    let i = pinned(&ios);
    let covered = |side: &[&AuditConfig], host: &str| -> Option<Vec<Pin>> {
        for c in side {
            if let Some(idx) = c.domain_for(host.trim_start_matches("**.").trim_start_matches("*."))
            {
                let (pi, has) = effective_pins(c, idx);
                if has && !c.domains[pi].pins.is_empty() {
                    return Some(c.domains[pi].distinct_pins());
                }
            }
        }
        None
    };
    for (mine, other, mine_p, other_p) in [
        (&a, &ios, Platform::Android, Platform::Ios),
        (&i, &android, Platform::Ios, Platform::Android),
    ] {
        for (host, pins, _, loc) in mine.iter() {
            match covered(other, host) {
                None => {
                    let detail = ja(
                        lang,
                        format!(
                            "{} but not on {}",
                            platform_name(mine_p, lang),
                            platform_name(other_p, lang)
                        ),
                        format!(
                            "{} ではピン留めされていますが {} ではされていません",
                            platform_name(mine_p, lang),
                            platform_name(other_p, lang)
                        ),
                    );
                    push(out, "XPLAT-UNPINNED", loc, host, detail);
                }
                Some(theirs) if mine_p == Platform::Android => {
                    let mut x = pins.clone();
                    x.sort();
                    let mut y = theirs.clone();
                    y.sort();
                    if x != y {
                        let detail = ja(
                            lang,
                            format!(
                                "Android pins {} key(s), iOS {} key(s), {} in common",
                                x.len(),
                                y.len(),
                                x.iter().filter(|p| y.contains(p)).count()
                            ),
                            format!(
                                "Android は {} 個、iOS は {} 個の鍵をピン留めし、共通は {} 個です",
                                x.len(),
                                y.len(),
                                x.iter().filter(|p| y.contains(p)).count()
                            ),
                        );
                        push(out, "XPLAT-PINS-DIFFER", loc, host, detail);
                    }
                }
                Some(_) => {}
            }
        }
    }
    // Expiry mismatch for the same host.
    for (host, _, ea, loc) in &a {
        for (h2, _, eb, _) in &i {
            if host != h2 {
                continue;
            }
            if let (Some((da, za)), Some((db, zb))) = (ea, eb) {
                if da == db && za == zb {
                    continue;
                }
                let (za, zb) = (zone_name(*za, lang), zone_name(*zb, lang));
                let detail = ja(
                    lang,
                    format!(
                        "Android expiry {da} ({za}) vs iOS expiry {db} ({zb}): pinning ends at different instants"
                    ),
                    format!(
                        "Android の期限 {da} ({za}) と iOS の期限 {db} ({zb}) で、ピン留めが切れる時刻が異なります"
                    ),
                );
                push(out, "EXPIRY-TIMEZONE", loc, host, detail);
            }
        }
    }
}

/// Counts of findings per severity.
pub fn counts(findings: &[Finding]) -> BTreeMap<Severity, usize> {
    let mut m = BTreeMap::new();
    for f in findings {
        *m.entry(f.severity).or_insert(0) += 1;
    }
    m
}
