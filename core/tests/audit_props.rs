//! Property tests: any configuration the model can hold survives a round trip
//! through NSC XML, Mamori TOML and OkHttp pin lists (for what each carries).

use mamori::audit::{self, ExportFormat, NscOptions};
use mamori::audit::{AuditConfig, DomainEntry, Location, PinEntry, PinScope, SourceFormat};
use mamori::pinning::Pin;
use proptest::prelude::*;

/// host, include_subdomains, pin digests, expiry (y, m, d).
type Gen = (String, bool, Vec<[u8; 32]>, Option<(i32, u8, u8)>);

fn domain() -> impl Strategy<Value = Gen> {
    (
        "[a-z]{1,8}(\\.[a-z]{1,8}){0,2}\\.example\\.com",
        any::<bool>(),
        prop::collection::vec(any::<[u8; 32]>(), 2..5),
        prop::option::of((2026i32..2040, 1u8..=12, 1u8..=28)),
    )
}

fn build(format: SourceFormat, domains: Vec<Gen>) -> AuditConfig {
    let mut cfg = AuditConfig::new("p", format);
    let mut seen = std::collections::HashSet::new();
    for (i, (host, sub, pins, exp)) in domains.into_iter().enumerate() {
        if !seen.insert(host.clone()) {
            continue;
        }
        let mut d = DomainEntry::new(&host, format, Location::default());
        d.include_subdomains = sub;
        d.group = i;
        d.has_pin_set = true;
        let mut distinct: Vec<[u8; 32]> = Vec::new();
        for p in pins {
            if !distinct.contains(&p) {
                distinct.push(p);
            }
        }
        d.pins = distinct
            .into_iter()
            .map(|p| PinEntry {
                pin: Pin::from_digest(p),
                scope: PinScope::Any,
                location: Location::default(),
            })
            .collect();
        if let Some((y, m, day)) = exp {
            let date =
                time::Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), day).unwrap();
            d.expiry = Some(mamori::audit::Expiry {
                text: date.to_string(),
                at: date.midnight().assume_utc(),
                zone: format.expiry_zone(),
                after: mamori::audit::AfterExpiry::FailOpenSilent,
            });
        }
        cfg.domains.push(d);
    }
    cfg
}

type Key = (String, bool, Vec<String>, Option<String>);

fn key(cfg: &AuditConfig) -> Vec<Key> {
    cfg.domains
        .iter()
        .map(|d| {
            (
                d.host.clone(),
                d.include_subdomains,
                d.pins.iter().map(|p| p.pin.base64()).collect(),
                d.expiry.as_ref().map(|e| e.at.date().to_string()),
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn nsc_round_trip(domains in prop::collection::vec(domain(), 0..6)) {
        let cfg = build(SourceFormat::Nsc, domains);
        let (xml, _) = audit::export(&cfg, ExportFormat::Nsc);
        let back = audit::import_bytes(xml.as_bytes(), "p.xml", None, NscOptions::default(), None).unwrap();
        prop_assert_eq!(key(&back), key(&cfg));
    }

    #[test]
    fn mamori_round_trip(domains in prop::collection::vec(domain(), 1..6)) {
        let cfg = build(SourceFormat::Mamori, domains);
        let (toml, notes) = audit::export(&cfg, ExportFormat::MamoriToml);
        prop_assert!(notes.iter().all(|n| !n.contains("would refuse")), "{:?}", notes);
        let back = audit::import_bytes(toml.as_bytes(), "p.toml", None, NscOptions::default(), None).unwrap();
        prop_assert_eq!(key(&back), key(&cfg));
    }

    #[test]
    fn okhttp_round_trip(domains in prop::collection::vec(domain(), 1..6)) {
        let mut cfg = build(SourceFormat::OkHttp, domains);
        for d in &mut cfg.domains {
            d.expiry = None; // OkHttp has no expiry
        }
        let (list, _) = audit::export(&cfg, ExportFormat::OkHttp);
        let back = audit::import_bytes(list.as_bytes(), "p.txt", Some(SourceFormat::OkHttp), NscOptions::default(), None).unwrap();
        // include_subdomains comes back as the `**.` form.
        let expect: Vec<Key> = key(&cfg).into_iter().map(|(h, sub, p, e)| (if sub { format!("**.{h}") } else { h }, sub, p, e)).collect();
        prop_assert_eq!(key(&back), expect);
    }
}
