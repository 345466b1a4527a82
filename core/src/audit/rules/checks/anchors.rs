//! Trust anchors: user-installed or bundled CAs, anchors that override pins,
//! system trust on an unpinned domain, an old target SDK that trusts user CAs
//! by default, and `debug-overrides` (which a debuggable build trusts).

use std::collections::HashSet;

use super::{AuditOptions, Out, id, ja};
use crate::audit::model::{
    AnchorSource, Declared, DeclaredAnchor, DomainEntry, SourceFormat, android_default_ct,
};

/// `base-config` anchors, Android's pre-24 default, and `debug-overrides`.
pub(super) fn base(out: &mut Out, opts: &AuditOptions) {
    let cfg = out.cfg;
    if let (SourceFormat::Nsc, Some(sdk)) = (cfg.format, opts.android_target_sdk) {
        if sdk <= 23 && cfg.base.trust_anchors.is_none() {
            let base_loc = cfg.base_location.clone().unwrap_or_else(|| out.file_loc());
            out.push(id::TRUST_USER_CA_DEFAULT, &base_loc, None, sdk.to_string());
        }
    }
    declared(
        out,
        cfg.base.trust_anchors.as_deref().unwrap_or(&[]),
        "base-config",
        None,
    );
    debug_overrides(out, opts);
}

/// A domain's declared anchors (once per `domain-config`) and system trust on
/// an unpinned NSC domain.
pub(super) fn domain(out: &mut Out, d: &DomainEntry, first_of_group: bool, pinned: bool) {
    if !first_of_group {
        return;
    }
    if let Some(a) = &d.declared.trust_anchors {
        declared(out, a, "domain-config", Some(&d.host));
    }
    if d.mechanism == SourceFormat::Nsc
        && !pinned
        && d.declared
            .trust_anchors
            .iter()
            .flatten()
            .any(|a| a.source == AnchorSource::System)
    {
        out.push(id::TRUST_SYSTEM, &d.location, Some(&d.host), "");
    }
}

fn declared(out: &mut Out, anchors: &[DeclaredAnchor], block: &str, host: Option<&str>) {
    let label = match host {
        Some(h) => format!("{block} {h}"),
        None => block.to_owned(),
    };
    for a in anchors {
        match &a.source {
            AnchorSource::User => out.push(id::TRUST_USER_CA, &a.location, host, label.clone()),
            AnchorSource::Bundled(n) if out.cfg.format == SourceFormat::Nsc => out.push(
                id::TRUST_BUNDLED_CA,
                &a.location,
                host,
                format!("{label} ({n})"),
            ),
            _ => {}
        }
        if a.override_pins == Some(true) {
            out.push(
                id::TRUST_OVERRIDE_PINS,
                &a.location,
                host,
                format!("{label}, src=\"{}\"", a.source.nsc_src()),
            );
        }
    }
}

fn debug_overrides(out: &mut Out, opts: &AuditOptions) {
    let lang = opts.lang;
    let Some(d) = &out.cfg.debug_overrides else {
        return;
    };
    let parts: Vec<String> = d
        .declared
        .trust_anchors
        .iter()
        .flatten()
        .map(|a| {
            format!(
                "{}{}",
                a.source.nsc_src(),
                if a.override_pins.unwrap_or(true) {
                    " (overridePins)"
                } else {
                    ""
                }
            )
        })
        .collect();
    let src = if d.from_companion {
        ja(
            lang,
            "companion _debug.xml".into(),
            "付随リソース _debug.xml".into(),
        )
    } else {
        "debug-overrides".into()
    };
    let (what_en, what_ja) = if parts.is_empty() {
        ("nothing extra".to_owned(), "追加のものなし".to_owned())
    } else {
        (parts.join(", "), parts.join(", "))
    };
    let detail = ja(
        lang,
        format!("{src} trusts {what_en} in debuggable builds"),
        format!("{src} はデバッグ可能なビルドで {what_ja} を信頼します"),
    );
    out.push(id::DEBUG_OVERRIDES, &d.location, None, detail);
}

/// Certificate transparency lost to custom anchors (Android 16+): a block
/// whose own user or inline anchors disable CT where its parent would
/// require it. AOSP's order: an explicit `certificateTransparency` wins,
/// else the block's custom anchors disable CT, else the parent decides.
pub(super) fn certificate_transparency(out: &mut Out, opts: &AuditOptions) {
    let cfg = out.cfg;
    if cfg.format != SourceFormat::Nsc {
        return;
    }
    ct_below_api_36(out, opts);
    let sdk = opts.android_target_sdk;
    let lang = opts.lang;
    let default_cause = || {
        ja(
            lang,
            format!(
                "apps targeting API {} require CT by default",
                sdk.unwrap_or(37)
            ),
            format!(
                "API {} を対象とするアプリでは既定で CT が要求されます",
                sdk.unwrap_or(37)
            ),
        )
    };
    let report = |out: &mut Out, block: String, declared: &Declared, cause: String| {
        let Some(a) = declared
            .trust_anchors
            .iter()
            .flatten()
            .find(|a| a.source.disables_ct())
        else {
            return;
        };
        let src = a.source.nsc_src();
        let detail = ja(
            lang,
            format!("{block}: its src=\"{src}\" anchors switch CT off, where {cause}"),
            format!("{block}: src=\"{src}\" のアンカーが CT を無効にします ({cause})"),
        );
        out.push(id::CT_DISABLED_BY_ANCHORS, &a.location, None, detail);
    };
    let disables = |d: &Declared| d.certificate_transparency.is_none() && d.own_ct() == Some(false);
    if disables(&cfg.base) && android_default_ct(sdk) {
        report(out, "base-config".into(), &cfg.base, default_cause());
    }
    let mut seen = HashSet::new();
    for d in &cfg.domains {
        if !seen.insert(d.group) || !disables(&d.declared) {
            continue;
        }
        let (parent_ct, cause) = match d.parent {
            Some(p) => (
                cfg.ct_required_for(Some(p), sdk),
                ja(
                    lang,
                    format!(
                        "the enclosing domain-config {} requires CT",
                        cfg.domains[p].host
                    ),
                    format!(
                        "外側の domain-config {} は CT を要求します",
                        cfg.domains[p].host
                    ),
                ),
            ),
            None => match cfg.base.own_ct() {
                Some(v) => (
                    v,
                    ja(
                        lang,
                        "base-config requires CT".into(),
                        "base-config は CT を要求します".into(),
                    ),
                ),
                None => (android_default_ct(sdk), default_cause()),
            },
        };
        if parent_ct {
            report(out, format!("domain-config {}", d.host), &d.declared, cause);
        }
    }
}

/// The API level that reads `<certificateTransparency>` (Android 16).
const CT_ELEMENT_API: u32 = 36;

/// `<certificateTransparency enabled="true">` is read from API 36; older
/// NSC parsers skip unknown elements (AOSP `XmlConfigSource`), so on older
/// devices the block does not require CT. Once per block, unless the app's
/// minSdkVersion is known to be 36 or higher.
fn ct_below_api_36(out: &mut Out, opts: &AuditOptions) {
    if opts.android_min_sdk.is_some_and(|m| m >= CT_ELEMENT_API) {
        return;
    }
    let cfg = out.cfg;
    let devices = match opts.android_min_sdk {
        Some(m) => ja(
            opts.lang,
            format!("the app's minSdkVersion {m} runs on devices that skip the element"),
            format!("minSdkVersion {m} のアプリはこの要素を読み飛ばす端末でも動きます"),
        ),
        None => ja(
            opts.lang,
            "devices below API 36 skip the element (the app's minSdkVersion is not known)".into(),
            "API 36 未満の端末はこの要素を読み飛ばします (minSdkVersion は不明)".into(),
        ),
    };
    let report = |out: &mut Out, block: String, loc: &crate::audit::model::Location| {
        let detail = ja(
            opts.lang,
            format!("{block} declares <certificateTransparency enabled=\"true\"/>; {devices}"),
            format!("{block} は <certificateTransparency enabled=\"true\"/> を宣言; {devices}"),
        );
        out.push(id::CT_IGNORED_BELOW_API_36, loc, None, detail);
    };
    if cfg.base.certificate_transparency == Some(true) {
        let loc = cfg.base_location.clone().unwrap_or_else(|| out.file_loc());
        report(out, "base-config".into(), &loc);
    }
    let mut seen = HashSet::new();
    for d in &cfg.domains {
        if seen.insert(d.group) && d.declared.certificate_transparency == Some(true) {
            report(out, format!("domain-config {}", d.host), &d.location);
        }
    }
    if let Some(o) = &cfg.debug_overrides {
        if o.declared.certificate_transparency == Some(true) {
            report(out, "debug-overrides".into(), &o.location);
        }
    }
}
