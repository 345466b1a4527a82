//! Android against iOS: a host pinned on one platform only, pinned to
//! different keys, or with expiry dates that end pinning at different
//! instants.

use super::{AuditOptions, effective_pins, finding, id, ja};
use crate::audit::model::{AuditConfig, DomainIndex, ExpiryZone, Location, Platform};
use crate::audit::rules::table::{AuditFinding, Lang};
use crate::pinning::Pin;

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

/// A pinned host on one side: host, pins, expiry (date, zone), location,
/// and the number of OkHttp `sha1/` pins (real pins, not comparable with
/// the other side's SHA-256 ones).
type PinnedEntry = (
    String,
    Vec<Pin>,
    Option<(String, ExpiryZone)>,
    Location,
    usize,
);

pub(super) fn check(configs: &[AuditConfig], opts: &AuditOptions, out: &mut Vec<AuditFinding>) {
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
    let push =
        |out: &mut Vec<AuditFinding>, id: &str, loc: &Location, host: &str, detail: String| {
            out.push(finding(id, loc, Some(host.to_owned()), detail));
        };
    // Pinned entries per side: (host, pins, expiry, location, platform).
    let pinned = |side: &[&AuditConfig]| -> Vec<PinnedEntry> {
        let mut v = Vec::new();
        for c in side {
            for (i, d) in c.domains.iter().enumerate() {
                let (pi, has) = effective_pins(c, i);
                let pd = &c.domains[pi];
                if has && pd.is_pinned() {
                    v.push((
                        d.host.clone(),
                        pd.distinct_pins(),
                        pd.expiry
                            .as_ref()
                            .map(|e| (e.at.date().to_string(), e.zone)),
                        d.location.clone(),
                        pd.sha1_pins.len(),
                    ));
                }
            }
        }
        v
    };
    let a = pinned(&android);
    let i = pinned(&ios);
    // Indexed once: a lookup per host instead of a scan of every domain.
    let android_index: Vec<DomainIndex> = android.iter().map(|c| DomainIndex::new(c)).collect();
    let ios_index: Vec<DomainIndex> = ios.iter().map(|c| DomainIndex::new(c)).collect();
    let covered = |side: &[&AuditConfig], idx: &[DomainIndex], host: &str| -> Option<Vec<Pin>> {
        for (c, index) in side.iter().zip(idx) {
            if let Some(idx) =
                index.domain_for(host.trim_start_matches("**.").trim_start_matches("*."))
            {
                let (pi, has) = effective_pins(c, idx);
                if has && c.domains[pi].is_pinned() {
                    return Some(c.domains[pi].distinct_pins());
                }
            }
        }
        None
    };
    for (mine, other, other_index, mine_p, other_p) in [
        (&a, &ios, &ios_index, Platform::Android, Platform::Ios),
        (
            &i,
            &android,
            &android_index,
            Platform::Ios,
            Platform::Android,
        ),
    ] {
        for (host, pins, _, loc, sha1) in mine.iter() {
            match covered(other, other_index, host) {
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
                    push(out, id::XPLAT_UNPINNED, loc, host, detail);
                }
                Some(theirs) if mine_p == Platform::Android => {
                    let mut x = pins.clone();
                    x.sort();
                    let mut y = theirs.clone();
                    y.sort();
                    if x != y {
                        let common = x.iter().filter(|p| y.contains(p)).count();
                        let (sha1_en, sha1_ja) = if *sha1 > 0 {
                            (
                                format!(" and {sha1} by SHA-1 (not comparable with SHA-256 pins)"),
                                format!(" (他に SHA-1 で {sha1} 個、SHA-256 のピンとは比較不能)"),
                            )
                        } else {
                            (String::new(), String::new())
                        };
                        let detail = ja(
                            lang,
                            format!(
                                "Android pins {} key(s){sha1_en}, iOS {} key(s), {common} in common",
                                x.len(),
                                y.len(),
                            ),
                            format!(
                                "Android は {} 個{sha1_ja}、iOS は {} 個の鍵をピン留めし、共通は {common} 個です",
                                x.len(),
                                y.len(),
                            ),
                        );
                        push(out, id::XPLAT_PINS_DIFFER, loc, host, detail);
                    }
                }
                Some(_) => {}
            }
        }
    }
    // Expiry mismatch for the same host (iOS entries by host: no scan).
    let mut ios_by_host: std::collections::HashMap<&str, Vec<&PinnedEntry>> =
        std::collections::HashMap::new();
    for e in &i {
        ios_by_host.entry(e.0.as_str()).or_default().push(e);
    }
    for (host, _, ea, loc, _) in &a {
        for (_, _, eb, _, _) in ios_by_host.get(host.as_str()).into_iter().flatten() {
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
                push(out, id::EXPIRY_TIMEZONE, loc, host, detail);
            }
        }
    }
}
