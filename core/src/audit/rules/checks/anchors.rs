//! Trust anchors: user-installed or bundled CAs, anchors that override pins,
//! system trust on an unpinned domain, an old target SDK that trusts user CAs
//! by default, and `debug-overrides` (which a debuggable build trusts).

use super::{AuditOptions, Out, id, ja};
use crate::audit::model::{AnchorSource, DeclaredAnchor, DomainEntry, SourceFormat};

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
