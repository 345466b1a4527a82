//! Pins against supplied certificate chains: no pin matches the chain the
//! host serves, or only the leaf matches and the leaf is short-lived (so the
//! pin breaks at its next renewal).

use super::{AuditOptions, Out, id};
use crate::audit::chain::CertInfo;
use crate::audit::model::{DomainEntry, PinEntry, PinScope, SourceFormat, covers};
use crate::pinning::Pin;

/// The entries whose pins OkHttp accepts for `host`:
/// `CertificatePinner.findMatchingPins` returns the pins of *every* pattern
/// of the pinner matching the host, not only the most specific one. Other
/// platforms apply one entry: `d`.
fn accepted_entries<'a>(out: &Out<'a>, d: &'a DomainEntry, host: &str) -> Vec<&'a DomainEntry> {
    if d.mechanism != SourceFormat::OkHttp {
        return vec![d];
    }
    let mut entries = out.okhttp_matching(d, host);
    if !entries.iter().any(|e| std::ptr::eq(*e, d)) {
        entries.push(d);
    }
    entries
}

/// The distinct pins (SHA-256, and OkHttp's `sha1/` ones) accepted for
/// every host `d` covers: for OkHttp the union of the patterns of its
/// pinner that match all of them (probed with `d`'s name itself and a child
/// label `-` that no exact name spells); other platforms: `d`'s own.
pub(super) fn accepted_for_all(out: &Out<'_>, d: &DomainEntry) -> (Vec<Pin>, Vec<[u8; 20]>) {
    if d.mechanism != SourceFormat::OkHttp {
        return (d.distinct_pins(), Vec::new());
    }
    let probes: Vec<String> = if let Some(base) = d.host.strip_prefix("**.") {
        vec![base.to_owned(), format!("-.{base}")]
    } else if let Some(base) = d.host.strip_prefix("*.") {
        vec![format!("-.{base}")]
    } else {
        vec![d.host.clone()]
    };
    let mut entries = out.okhttp_matching(d, &probes[0]);
    entries.retain(|e| probes[1..].iter().all(|h| covers(e, h)));
    if !entries.iter().any(|e| std::ptr::eq(*e, d)) {
        entries.push(d);
    }
    let mut seen = std::collections::HashSet::new();
    let mut seen1 = std::collections::HashSet::new();
    let pins = entries
        .iter()
        .flat_map(|e| e.pins.iter().map(|p| p.pin))
        .filter(|p| seen.insert(*p))
        .collect();
    let sha1 = entries
        .iter()
        .flat_map(|e| e.sha1_pins.iter().map(|p| p.hash))
        .filter(|h| seen1.insert(*h))
        .collect();
    (pins, sha1)
}

pub(super) fn check(out: &mut Out, opts: &AuditOptions, d: &DomainEntry) {
    let loc = &d.location;
    // The most specific entry of this config decides for a chain's host:
    // only the chains whose deciding entry is named like `d` are checked.
    let mine = out.chains_by_entry.get(d.host.as_str()).cloned();
    for chain in mine.iter().flatten().map(|i| &opts.chains[*i]) {
        if !covers(d, &chain.host) {
            continue;
        }
        let entries = accepted_entries(out, d, &chain.host);
        let pins: Vec<&PinEntry> = entries.iter().flat_map(|e| &e.pins).collect();
        let matched = |i: usize, c: &CertInfo, scope: Option<PinScope>| {
            pins.iter().any(|p| {
                p.pin == c.pin
                    && scope.is_none_or(|s| s == p.scope)
                    && match p.scope {
                        PinScope::Any => true,
                        PinScope::Leaf => i == 0,
                        PinScope::Ca => i > 0,
                    }
            }) || (scope.is_none()
                && entries
                    .iter()
                    .flat_map(|e| &e.sha1_pins)
                    .any(|p| p.hash == c.spki_sha1))
        };
        let matches: Vec<usize> = chain
            .certs
            .iter()
            .enumerate()
            .filter(|&(i, c)| matched(i, c, None))
            .map(|(i, _)| i)
            .collect();
        // ATS with both NSPinnedLeafIdentities and NSPinnedCAIdentities:
        // Apple, "If you include both, then both must produce a match".
        let both = d.pins.iter().any(|p| p.scope == PinScope::Leaf)
            && d.pins.iter().any(|p| p.scope == PinScope::Ca);
        if both && !matches.is_empty() {
            let missing: Vec<&str> = [
                (PinScope::Leaf, "NSPinnedLeafIdentities"),
                (PinScope::Ca, "NSPinnedCAIdentities"),
            ]
            .into_iter()
            .filter(|&(s, _)| {
                !chain
                    .certs
                    .iter()
                    .enumerate()
                    .any(|(i, c)| matched(i, c, Some(s)))
            })
            .map(|(_, k)| k)
            .collect();
            if !missing.is_empty() {
                out.push(
                    id::PIN_CHAIN_MISMATCH,
                    loc,
                    Some(&chain.host),
                    format!(
                        "{} ({} has no match there; with both lists present ATS requires a match in each)",
                        chain.source,
                        missing.join(" and ")
                    ),
                );
                continue;
            }
        }
        if matches.is_empty() {
            out.push(
                id::PIN_CHAIN_MISMATCH,
                loc,
                Some(&chain.host),
                chain.source.clone(),
            );
        } else if let (true, Some(leaf)) = (matches == [0], chain.leaf()) {
            let days = (leaf.not_after - leaf.not_before).whole_days();
            if days <= 100 {
                out.push(
                    id::PIN_LEAF_ONLY_SHORT_LIVED,
                    loc,
                    Some(&chain.host),
                    days.to_string(),
                );
            }
        }
    }
}
