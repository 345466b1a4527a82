//! Pin sets: none at all, an unpinned NSC domain, a subdomain scope that
//! reaches a public suffix or a whole registrable domain, an empty set, no
//! distinct backup, duplicate or placeholder backups, leaf-only ATS
//! identities, report-only mode and report URIs. Expiry and live chains have
//! their own files.

use super::{AuditOptions, Out, chains, expiry, id, ja};
use std::collections::HashSet;

use crate::audit::model::{DomainEntry, PinScope, SourceFormat};
use crate::pinning::Pin;
use crate::pinning::host::{is_public_suffix, is_registrable_domain};

/// A digest of one repeated byte: a placeholder, not a key.
fn is_placeholder(p: &Pin) -> bool {
    let d = p.digest();
    d.iter().all(|b| *b == d[0])
}

/// Whether a domain is pinned at all, and how far its pins reach.
pub(super) fn scope(out: &mut Out, d: &DomainEntry, pinned: bool) {
    let host = d.host.as_str();
    let loc = &d.location;
    if let Some(why) = d.unusable_name() {
        out.push(
            id::PIN_DOMAIN_NEVER_MATCHES,
            loc,
            Some(host),
            format!("{host:?} has {why}"),
        );
        return;
    }
    if d.mechanism == SourceFormat::Nsc && !pinned {
        out.push(id::PIN_DOMAIN_UNPINNED, loc, Some(host), "");
    }
    let wide = d.include_subdomains || host.starts_with("**.") || host.starts_with("*.");
    let base = host.trim_start_matches("**.").trim_start_matches("*.");
    if wide && pinned {
        if is_public_suffix(base) {
            out.push(id::SUBDOMAINS_PUBLIC_SUFFIX, loc, Some(base), "");
        } else if is_registrable_domain(base) {
            out.push(id::SUBDOMAINS_WIDE, loc, Some(host), "");
        }
    }
}

/// The pin set a domain declares.
pub(super) fn pin_set(out: &mut Out, opts: &AuditOptions, d: &DomainEntry) {
    let host = d.host.as_str();
    let loc = &d.location;
    // Pins that could not be read from source are reported on their own
    // (SOURCE-UNRESOLVED, PIN-BUILDCONFIG-ONLY): the set is not known empty.
    let unknown = out.unresolved_hosts.contains(host);
    let mut dead = 0;
    for l in &d.lenient_pins {
        match &l.never_matches {
            Some(why) => {
                dead += 1;
                out.push(
                    id::PIN_NEVER_MATCHES,
                    &l.location,
                    Some(host),
                    format!("{:?} ({}; read by {})", l.text, why, l.decoder),
                );
            }
            None => out.push(
                id::PIN_LENIENT_ENCODING,
                &l.location,
                Some(host),
                format!("{:?} ({}: {})", l.text, l.decoder, l.leniency.join("; ")),
            ),
        }
    }
    for p in &d.sha1_pins {
        out.push(id::OKHTTP_PIN_SHA1, &p.location, Some(host), p.text.clone());
    }
    if d.pins.is_empty() && d.sha1_pins.is_empty() {
        if dead == 0 && !unknown {
            out.push(id::PIN_EMPTY_SET, loc, Some(host), "");
        } else if dead > 0 && !unknown && d.enforce {
            out.push(id::PIN_SET_UNMATCHABLE, loc, Some(host), "");
        }
        return;
    }
    // OkHttp accepts the pins of every pattern matching a host (see
    // OKHTTP-PIN-UNION): a backup may come from a wider pattern.
    let (distinct, sha1) = chains::accepted_for_all(out, d);
    // ATS has no report-only mode: one identity is always a missing backup.
    let backup_checked = !unknown && (d.enforce || d.mechanism == SourceFormat::Ats);
    if distinct.len() + sha1.len() == 1 && backup_checked {
        out.push(id::PIN_BACKUP_MISSING, loc, Some(host), "");
    }
    // ATS with both lists requires a match in each (Apple: "If you include
    // both, then both must produce a match"): each list needs its backup.
    if d.mechanism == SourceFormat::Ats && backup_checked && distinct.len() > 1 {
        for (scope, key) in [
            (PinScope::Leaf, "NSPinnedLeafIdentities"),
            (PinScope::Ca, "NSPinnedCAIdentities"),
        ] {
            let of_scope: HashSet<Pin> = d
                .pins
                .iter()
                .filter(|p| p.scope == scope)
                .map(|p| p.pin)
                .collect();
            if of_scope.len() == 1 && d.pins.iter().any(|p| p.scope != scope) {
                let detail = ja(
                    opts.lang,
                    format!(
                        " in {key}: with both identity lists present ATS requires a match in each"
                    ),
                    format!("{key} で (両方のリストがあると ATS はそれぞれでの一致を要求します) "),
                );
                out.push(id::PIN_BACKUP_MISSING, loc, Some(host), detail);
            }
        }
    }
    if let Some(first) = d.pins.first() {
        // (A set of only OkHttp sha1/ pins has no SHA-256 primary.)
        let primary = first.pin;
        if d.pins[1..].iter().any(|p| p.pin == primary) {
            out.push(
                id::PIN_BACKUP_EQUALS_PRIMARY,
                &first.location,
                Some(host),
                primary.to_string(),
            );
        }
        // Sets, not `Vec::contains`: 40,000 pins took 16 s (issue 9, item 7).
        let mut seen: HashSet<Pin> = HashSet::new();
        let mut reported: HashSet<Pin> = HashSet::new();
        for p in &d.pins[1..] {
            if p.pin != primary && !seen.insert(p.pin) && reported.insert(p.pin) {
                out.push(
                    id::PIN_BACKUP_DUPLICATE,
                    &p.location,
                    Some(host),
                    p.pin.to_string(),
                );
            }
        }
    }
    // Each placeholder once, at its first occurrence.
    let mut placeholders: HashSet<Pin> = HashSet::new();
    for e in &d.pins {
        if is_placeholder(&e.pin) && placeholders.insert(e.pin) {
            out.push(
                id::PIN_BACKUP_PLACEHOLDER,
                &e.location,
                Some(host),
                e.pin.to_string(),
            );
        }
    }
    if d.mechanism == SourceFormat::Ats && d.pins.iter().all(|p| p.scope == PinScope::Leaf) {
        out.push(id::ATS_LEAF_IDENTITIES_ONLY, loc, Some(host), "");
    }
    if !d.enforce {
        out.push(id::PIN_REPORT_ONLY, loc, Some(host), "");
    }
    for u in &d.report_uris {
        if !u.trim().to_ascii_lowercase().starts_with("https://") {
            out.push(id::REPORT_URI_INSECURE, loc, Some(host), u.clone());
        }
    }
    if d.default_report_uri {
        out.push(id::REPORT_URI_VENDOR_DEFAULT, loc, Some(host), "");
    }
    expiry::check(out, opts, d);
    chains::check(out, opts, d);
}

/// TrustKit-Android's `enforcePinning`, false explicitly or by default.
pub(super) fn trustkit_android(out: &mut Out, d: &DomainEntry) {
    let Some(tk) = &d.trustkit_android else {
        return;
    };
    if tk.enforce_pinning {
        return;
    }
    let detail = if tk.enforce_declared {
        "enforcePinning is false: below API 24 mismatches are only reported; from API 24 Android blocks them anyway"
    } else {
        "enforcePinning is not set and TrustKit-Android's default is false: below API 24 mismatches are only reported; from API 24 Android blocks them anyway"
    };
    out.push(
        id::TRUSTKIT_ANDROID_NOT_ENFORCED,
        &tk.location,
        Some(&d.host),
        detail,
    );
}
