//! Pins against supplied certificate chains: no pin matches the chain the
//! host serves, or only the leaf matches and the leaf is short-lived (so the
//! pin breaks at its next renewal).

use super::{AuditOptions, Out, id};
use crate::audit::model::{DomainEntry, PinEntry, PinScope, SourceFormat, covers};
use crate::pinning::Pin;

/// The pins OkHttp accepts for `host`: `CertificatePinner.findMatchingPins`
/// returns the pins of *every* pattern of the pinner matching the host, not
/// only the most specific one. Other platforms apply one entry: `d`'s pins.
pub(super) fn accepted_pins<'a>(
    out: &Out<'a>,
    d: &'a DomainEntry,
    host: &str,
) -> Vec<&'a PinEntry> {
    if d.mechanism != SourceFormat::OkHttp {
        return d.pins.iter().collect();
    }
    let mut entries = out.okhttp_matching(d, host);
    if !entries.iter().any(|e| std::ptr::eq(*e, d)) {
        entries.push(d);
    }
    entries.into_iter().flat_map(|e| &e.pins).collect()
}

/// The distinct pins OkHttp accepts for every host `d` covers: the union of
/// the patterns of its pinner that match all of them (probed with `d`'s name
/// itself and a child label `-` that no exact name spells). Other
/// platforms: `d`'s own distinct pins.
pub(super) fn accepted_for_all(out: &Out<'_>, d: &DomainEntry) -> Vec<Pin> {
    if d.mechanism != SourceFormat::OkHttp {
        return d.distinct_pins();
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
    entries
        .into_iter()
        .flat_map(|e| e.pins.iter().map(|p| p.pin))
        .filter(|p| seen.insert(*p))
        .collect()
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
        let pins = accepted_pins(out, d, &chain.host);
        let matches: Vec<usize> = chain
            .certs
            .iter()
            .enumerate()
            .filter(|(i, c)| {
                pins.iter().any(|p| {
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
