//! The checks, one file per subject. Each pushes findings through [`Out`],
//! naming its rule by a constant of [`id`]; [`audit`] runs them all and sorts
//! the result.

mod anchors;
mod ats;
mod chains;
mod cleartext;
mod cross_platform;
mod expiry;
mod package;
mod pins;
mod source;

use std::collections::{BTreeMap, HashMap, HashSet};

use time::OffsetDateTime;

use super::id;
use super::table::{AuditFinding, Lang, Severity, rule};
use crate::audit::chain::SuppliedChain;
use crate::audit::model::{
    self as model, AuditConfig, DomainEntry, DomainIndex, Location, SourceFormat,
};
use crate::audit::package::AppPackage;

/// What an audit needs besides the configurations.
#[derive(Clone, Debug)]
pub struct AuditOptions {
    /// The audit date (expiry checks).
    pub at: OffsetDateTime,
    /// Warn about expiry this many days ahead.
    pub expiry_days: i64,
    /// The app's Android target SDK, when known (default-trust rules), for
    /// configurations that do not carry their own
    /// ([`AuditConfig::android_target_sdk`]: those from a package do).
    pub android_target_sdk: Option<u32>,
    /// The app's Android minimum SDK, when known (which devices skip newer
    /// NSC elements).
    pub android_min_sdk: Option<u32>,
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
            android_min_sdk: None,
            chains: Vec::new(),
            lang: Lang::En,
        }
    }
}

/// Where the checks of one configuration put their findings.
struct Out<'a> {
    findings: Vec<AuditFinding>,
    cfg: &'a AuditConfig,
    /// Supplied chains (indices into `AuditOptions::chains`) by the host of
    /// the domain entry that applies to them, found once through a
    /// [`DomainIndex`] rather than by a scan per domain.
    chains_by_entry: HashMap<&'a str, Vec<usize>>,
    /// Hosts with pins that could not be read from source (looked up once
    /// per domain, so a set rather than a scan of `cfg.unresolved`).
    unresolved_hosts: std::collections::HashSet<&'a str>,
    /// The domains by name, to find every OkHttp pattern matching a host
    /// without a scan per domain.
    by_name: HashMap<&'a str, Vec<usize>>,
}

impl<'a> Out<'a> {
    /// The entries of `d`'s pinner (OkHttp) whose pattern matches `host`,
    /// found by the names that can match it: `host`, its parents, and their
    /// `*.`/`**.` forms.
    fn okhttp_matching(&self, d: &DomainEntry, host: &str) -> Vec<&'a DomainEntry> {
        let cfg = self.cfg;
        let mut out = Vec::new();
        let mut suffix = host;
        loop {
            for name in [
                suffix.to_owned(),
                format!("*.{suffix}"),
                format!("**.{suffix}"),
            ] {
                for &i in self.by_name.get(name.as_str()).into_iter().flatten() {
                    let e = &cfg.domains[i];
                    if e.mechanism == SourceFormat::OkHttp
                        && e.group == d.group
                        && model::covers(e, host)
                    {
                        out.push(e);
                    }
                }
            }
            match suffix.find('.') {
                Some(p) => suffix = &suffix[p + 1..],
                None => break,
            }
        }
        out
    }
}

impl Out<'_> {
    fn push(
        &mut self,
        id: &str,
        location: &Location,
        host: Option<&str>,
        detail: impl Into<String>,
    ) {
        self.findings.push(finding(
            id,
            location,
            host.map(str::to_owned),
            detail.into(),
        ));
    }

    fn file_loc(&self) -> Location {
        Location::new(&self.cfg.file, None)
    }
}

fn finding(id: &str, location: &Location, host: Option<String>, detail: String) -> AuditFinding {
    let r = rule(id);
    AuditFinding {
        rule: r.id.clone(),
        severity: r.severity,
        guideline: r.guideline,
        location: location.clone(),
        host,
        detail,
    }
}

/// `en` or `ja`, by the output language.
fn ja(lang: Lang, en: String, ja: String) -> String {
    if lang == Lang::Ja { ja } else { en }
}

/// Effective pins of a domain: NSC nested configs inherit the nearest pin-set.
/// Returns the index of the entry that declares them and whether one does.
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

/// Audits configurations together. Findings are sorted by severity (highest
/// first), then file, line and rule, so output is deterministic.
pub fn audit(configs: &[AuditConfig], opts: &AuditOptions) -> Vec<AuditFinding> {
    let mut all = Vec::new();
    for cfg in configs {
        // A package's configuration follows that package's target SDK (two
        // apps audited together may target different levels).
        let own;
        let opts = match cfg.android_target_sdk {
            Some(t) if opts.android_target_sdk != Some(t) => {
                own = AuditOptions {
                    android_target_sdk: Some(t),
                    ..opts.clone()
                };
                &own
            }
            _ => opts,
        };
        let index = DomainIndex::new(cfg);
        let mut chains_by_entry: HashMap<&str, Vec<usize>> = HashMap::new();
        for (ci, chain) in opts.chains.iter().enumerate() {
            if let Some(i) = index.domain_for(&chain.host) {
                chains_by_entry
                    .entry(cfg.domains[i].host.as_str())
                    .or_default()
                    .push(ci);
            }
        }
        let mut out = Out {
            findings: Vec::new(),
            cfg,
            chains_by_entry,
            unresolved_hosts: cfg
                .unresolved
                .iter()
                .filter_map(|u| u.host.as_deref())
                .collect(),
            by_name: {
                let mut m: HashMap<&str, Vec<usize>> = HashMap::new();
                for (i, d) in cfg.domains.iter().enumerate() {
                    m.entry(d.host.as_str()).or_default().push(i);
                }
                m
            },
        };
        check_config(&mut out, opts);
        all.extend(out.findings);
    }
    cross_platform::check(configs, opts, &mut all);
    sort(&mut all);
    all
}

/// Audits the configurations found in packages (and any others) together,
/// adding what the packages themselves declare (a debuggable build,
/// unreadable bundled anchors).
pub fn audit_packages(
    configs: &[AuditConfig],
    packages: &[AppPackage],
    opts: &AuditOptions,
) -> Vec<AuditFinding> {
    let mut all = audit(configs, opts);
    for p in packages {
        package::check(p, opts.lang, &mut all);
    }
    sort(&mut all);
    all
}

fn sort(all: &mut Vec<AuditFinding>) {
    // Unstable is deterministic here: findings equal in every compared field
    // are equal (the guideline follows from the rule) and `dedup` drops them.
    all.sort_unstable_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.location.cmp(&b.location))
            .then_with(|| a.rule.cmp(&b.rule))
            .then_with(|| a.host.cmp(&b.host))
            .then_with(|| a.detail.cmp(&b.detail))
    });
    all.dedup();
}

fn check_config(out: &mut Out, opts: &AuditOptions) {
    let cfg = out.cfg;
    if !cfg.has_pins() {
        let loc = out.file_loc();
        out.push(id::PIN_NONE, &loc, None, cfg.file.clone());
    }
    for ig in &cfg.ignored {
        out.push(id::CONFIG_IGNORED, &ig.location, None, ig.name.clone());
    }
    for nb in &cfg.not_boolean {
        let detail = format!(
            "{}=\"{}\" is not a boolean: {}",
            nb.attribute, nb.text, nb.how
        );
        out.push(id::NSC_NOT_BOOLEAN, &nb.location, None, detail);
    }
    source::unresolved(out);
    source::okhttp_union(out);
    cleartext::base(out, opts);
    anchors::base(out, opts);
    anchors::certificate_transparency(out, opts);
    ats::exceptions(out, opts);
    let mut seen_groups = HashSet::new();
    for (i, d) in cfg.domains.iter().enumerate() {
        // Declared trust and cleartext are checked once per NSC domain-config.
        let first_of_group = seen_groups.insert((d.mechanism, d.group));
        let (pin_idx, pinned) = effective_pins(cfg, i);
        if first_of_group {
            cleartext::domain(out, opts, d);
        }
        anchors::domain(out, d, first_of_group, pinned);
        if d.excluded_from_parent {
            out.push(
                id::TRUSTKIT_EXCLUDED_SUBDOMAIN,
                &d.location,
                Some(&d.host),
                "",
            );
        }
        pins::scope(out, d, pinned);
        pins::trustkit_android(out, d);
        if pin_idx == i && d.has_pin_set && d.unusable_name().is_none() {
            // Pins are checked on the entry that declares them (not on a
            // name no host selects: PIN-DOMAIN-NEVER-MATCHES says why).
            pins::pin_set(out, opts, d);
        }
    }
}

/// Counts of findings per severity.
pub fn counts(findings: &[AuditFinding]) -> BTreeMap<Severity, usize> {
    let mut m = BTreeMap::new();
    for f in findings {
        *m.entry(f.severity).or_insert(0) += 1;
    }
    m
}
