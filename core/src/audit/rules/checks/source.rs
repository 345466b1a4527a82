//! Pinning configured in code: values the evaluator could not read
//! (BuildConfig fields without their build.gradle, function results), and
//! OkHttp's union of the pins of every matching pattern.

use super::{Out, id};
use crate::audit::model::SourceFormat;
use crate::audit::okhttp::widenings;
use crate::pinning::Pin;

/// Unresolved values of source code.
pub(super) fn unresolved(out: &mut Out) {
    let cfg = out.cfg;
    for u in &cfg.unresolved {
        let what = match &u.host {
            Some(h) => format!("a pin of {h} is `{}`: {}", u.expression, u.hint),
            None => format!("`{}`: {}", u.expression, u.hint),
        };
        let rule = if u.build_config {
            id::PIN_BUILDCONFIG_ONLY
        } else {
            id::SOURCE_UNRESOLVED
        };
        out.push(rule, &u.location, u.host.as_deref(), what);
    }
}

/// Patterns of one OkHttp pinner whose pins OkHttp adds to a more specific
/// pattern's host.
pub(super) fn okhttp_union(out: &mut Out) {
    let cfg = out.cfg;
    if cfg.format != SourceFormat::OkHttp {
        return;
    }
    let mut groups: Vec<usize> = cfg.domains.iter().map(|d| d.group).collect();
    groups.sort_unstable();
    groups.dedup();
    let mut by_group: std::collections::HashMap<usize, Vec<usize>> = Default::default();
    for (i, d) in cfg.domains.iter().enumerate() {
        by_group.entry(d.group).or_default().push(i);
    }
    for g in groups {
        let idx = &by_group[&g];
        let rules: Vec<(String, Vec<Pin>)> = idx
            .iter()
            .map(|&i| (cfg.domains[i].host.clone(), cfg.domains[i].distinct_pins()))
            .collect();
        for w in widenings(&rules) {
            let narrow = &cfg.domains[idx[w.narrow]];
            let wide = &cfg.domains[idx[w.wide]];
            out.push(
                id::OKHTTP_PIN_UNION,
                &narrow.location,
                Some(&narrow.host),
                format!(
                    "for {} OkHttp also accepts {} pin(s) of {} ({})",
                    w.host,
                    w.extra.len(),
                    wide.host,
                    wide.location
                ),
            );
        }
    }
}
