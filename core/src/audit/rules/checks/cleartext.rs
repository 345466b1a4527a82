//! Cleartext traffic: HTTP permitted for the whole app, by an old target SDK's
//! default, or for a domain (worse when that domain is also pinned, because
//! the pin then protects nothing on the HTTP path).

use super::{AuditOptions, Out, id, ja};
use crate::audit::model::{DomainEntry, SourceFormat};

/// `base-config` / `NSAllowsArbitraryLoads`, and Android's pre-28 default.
pub(super) fn base(out: &mut Out, opts: &AuditOptions) {
    let cfg = out.cfg;
    let base_loc = cfg.base_location.clone().unwrap_or_else(|| out.file_loc());
    if cfg.base.cleartext_permitted == Some(true) {
        let what = if cfg.format == SourceFormat::Nsc {
            "base-config"
        } else {
            "NSAllowsArbitraryLoads"
        };
        out.push(id::CLEARTEXT_BASE, &base_loc, None, what);
    }
    if let (SourceFormat::Nsc, Some(sdk)) = (cfg.format, opts.android_target_sdk) {
        if sdk <= 27 && cfg.base.cleartext_permitted.is_none() {
            out.push(id::CLEARTEXT_DEFAULT, &base_loc, None, sdk.to_string());
        }
    }
}

/// A domain that declares cleartext permitted.
pub(super) fn domain(out: &mut Out, opts: &AuditOptions, d: &DomainEntry) {
    if d.declared.cleartext_permitted == Some(true) {
        let extra = although_pinned(opts, d.is_pinned());
        out.push(id::CLEARTEXT_DOMAIN, &d.location, Some(&d.host), extra);
    }
}

/// The `{detail}` of `CLEARTEXT-DOMAIN`.
pub(super) fn although_pinned(opts: &AuditOptions, pinned: bool) -> String {
    if pinned {
        ja(
            opts.lang,
            " although it is pinned".into(),
            " (ピン留めされているにもかかわらず)".into(),
        )
    } else {
        String::new()
    }
}
