//! Pins against supplied certificate chains: no pin matches the chain the
//! host serves, or only the leaf matches and the leaf is short-lived (so the
//! pin breaks at its next renewal).

use super::{AuditOptions, Out, id};
use crate::audit::model::{DomainEntry, PinScope, covers};

pub(super) fn check(out: &mut Out, opts: &AuditOptions, d: &DomainEntry) {
    let loc = &d.location;
    // The most specific entry of this config decides for a chain's host:
    // only the chains whose deciding entry is named like `d` are checked.
    let mine = out.chains_by_entry.get(d.host.as_str()).cloned();
    for chain in mine.iter().flatten().map(|i| &opts.chains[*i]) {
        if !covers(d, &chain.host) {
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
