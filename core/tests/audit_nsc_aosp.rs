//! The AOSP network-security-config test resources (Apache-2.0), read from
//! `../shared/testdata/nsc-aosp/`: every file Android accepts imports to the
//! declared semantics recorded in `expected.json`; every file Android refuses
//! is refused. Resolution tests re-express XmlConfigTests' assertions offline.

use std::path::{Path, PathBuf};

use mamori::audit::{self, ExportFormat, ImportError, NscOptions, SourceFormat};
use mamori::audit::{AnchorSource, AuditConfig, Declared, DeclaredAnchor};
use serde_json::{Value, json};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata/nsc-aosp")
}

fn load(name: &str, debuggable: bool) -> Result<AuditConfig, ImportError> {
    audit::load(
        &data().join("xml").join(name),
        Some(SourceFormat::Nsc),
        NscOptions { debuggable },
    )
}

fn anchors_json(a: &Option<Vec<DeclaredAnchor>>) -> Value {
    match a {
        None => Value::Null,
        Some(v) => Value::Array(
            v.iter()
                .map(|t| json!({"src": t.source.nsc_src(), "overridePins": t.override_pins}))
                .collect(),
        ),
    }
}

fn declared_json(d: &Declared, expected: &Value) -> Value {
    // Only compare the keys expected.json records for this block.
    let mut out = serde_json::Map::new();
    for key in expected.as_object().unwrap().keys() {
        let v = match key.as_str() {
            "cleartextPermitted" => json!(d.cleartext_permitted),
            "hstsEnforced" => json!(d.hsts_enforced),
            "trustAnchors" => anchors_json(&d.trust_anchors),
            "certificateTransparency" => json!(d.certificate_transparency),
            other => panic!("unexpected key {other}"),
        };
        out.insert(key.clone(), v);
    }
    Value::Object(out)
}

fn domains_json(cfg: &AuditConfig, expected: &[Value]) -> Value {
    let mut out = Vec::new();
    for (d, e) in cfg.domains.iter().zip(expected) {
        let mut m = serde_json::Map::new();
        m.insert("domain".into(), json!(d.host));
        m.insert("includeSubdomains".into(), json!(d.include_subdomains));
        m.insert(
            "pins".into(),
            json!(d.pins.iter().map(|p| p.pin.base64()).collect::<Vec<_>>()),
        );
        m.insert(
            "expiration".into(),
            json!(d.expiry.as_ref().map(|x| x.text.clone())),
        );
        m.insert(
            "cleartextPermitted".into(),
            json!(d.declared.cleartext_permitted),
        );
        m.insert(
            "trustAnchors".into(),
            anchors_json(&d.declared.trust_anchors),
        );
        let override_pins = d
            .declared
            .trust_anchors
            .iter()
            .flatten()
            .find_map(|a| a.override_pins);
        m.insert("overridePins".into(), json!(override_pins));
        if e.get("certificateTransparency").is_some() {
            m.insert(
                "certificateTransparency".into(),
                json!(d.declared.certificate_transparency),
            );
        }
        if e.get("parent").is_some() {
            m.insert(
                "parent".into(),
                json!(d.parent.map(|p| cfg.domains[p].host.clone())),
            );
        }
        out.push(Value::Object(m));
    }
    Value::Array(out)
}

#[test]
fn every_aosp_file_matches_expected_json() {
    let expected: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(data().join("expected.json")).unwrap())
            .unwrap();
    assert_eq!(expected.len(), 30);
    let mut accepted = 0;
    let mut refused = 0;
    for e in &expected {
        let file = e["file"].as_str().unwrap();
        let parses = e["parses"].as_bool().unwrap();
        let res = load(file, false);
        if !parses {
            let err = res.expect_err(file);
            assert!(
                matches!(
                    err,
                    ImportError::Refused {
                        platform: "Android",
                        ..
                    }
                ),
                "{file}: {err}"
            );
            refused += 1;
            continue;
        }
        let cfg = res.unwrap_or_else(|err| panic!("{file}: {err}"));
        accepted += 1;
        let exp_domains: Vec<Value> = e["domains"].as_array().unwrap().clone();
        assert_eq!(cfg.domains.len(), exp_domains.len(), "{file}: domain count");
        let mut exp_clean = Vec::new();
        for d in &exp_domains {
            let mut d = d.clone();
            d.as_object_mut().unwrap().remove("digest");
            exp_clean.push(d);
        }
        assert_eq!(
            domains_json(&cfg, &exp_clean),
            Value::Array(exp_clean.clone()),
            "{file}: domains"
        );
        if let Some(base) = e.get("baseConfig") {
            assert_eq!(declared_json(&cfg.base, base), *base, "{file}: baseConfig");
        }
        if let Some(dbg) = e.get("debugOverrides") {
            let d = cfg
                .debug_overrides
                .as_ref()
                .unwrap_or_else(|| panic!("{file}: no debug-overrides"));
            assert_eq!(
                declared_json(&d.declared, dbg),
                *dbg,
                "{file}: debugOverrides"
            );
        } else if !file.starts_with("bad_extra") {
            assert!(cfg.debug_overrides.is_none(), "{file}");
        }
        assert!(
            cfg.ignored.is_empty() || file.starts_with("bad_extra"),
            "{file}: {:?}",
            cfg.ignored
        );
    }
    assert_eq!((accepted, refused), (23, 7));
}

fn refusal(name: &str, debuggable: bool) -> String {
    match load(name, debuggable) {
        Err(ImportError::Refused {
            reason, location, ..
        }) => format!("{}: {reason}", location.line.unwrap_or(0)),
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn refusals_carry_androids_reason_and_line() {
    assert_eq!(
        refusal("bad_config0.xml", false),
        "7: Unsupported pin digest algorithm: I am probably not an algorithm"
    );
    assert_eq!(
        refusal("bad_config1.xml", false),
        "7: Unsupported pin digest algorithm: null"
    );
    assert_eq!(refusal("bad_config2.xml", false), "7: Missing pin digest");
    assert!(refusal("bad_config3.xml", false).ends_with("Duplicate domain name android.com"));
    assert!(
        refusal("bad_config4.xml", false).ends_with("domain element not allowed in base-config")
    );
    assert!(
        refusal("bad_config5.xml", false).ends_with("pin-set element not allowed in base-config")
    );
    assert!(
        refusal("bad_extra_debug_resource_debug.xml", false).ends_with(
            "unexpected start tag: found debug-overrides, expected network-security-config"
        )
    );
}

#[test]
fn debug_companion_is_read_only_for_debuggable_apps() {
    // Release: the malformed companion is ignored (and recorded as ignored).
    let cfg = load("bad_extra_debug_resource.xml", false).unwrap();
    assert!(cfg.debug_overrides.is_none());
    assert_eq!(cfg.ignored.len(), 1);
    assert!(
        cfg.ignored[0]
            .name
            .contains("bad_extra_debug_resource_debug.xml")
    );
    // Debuggable: Android throws, so do we.
    let err = load("bad_extra_debug_resource.xml", true).unwrap_err();
    assert!(
        err.to_string().contains("expected network-security-config"),
        "{err}"
    );
}

#[test]
fn inheritance_resolves_like_xml_config_tests() {
    // nested_domains: developer.android.com inherits the parent's anchors and
    // base-config's cleartext=false, and adds its own pin.
    let cfg = load("nested_domains.xml", false).unwrap();
    let dev = cfg.domain_for("developer.android.com").unwrap();
    assert_eq!(cfg.domains[dev].host, "developer.android.com");
    assert_eq!(
        cfg.effective_anchors(dev)
            .iter()
            .map(|a| a.source.clone())
            .collect::<Vec<_>>(),
        vec![AnchorSource::System]
    );
    assert!(!cfg.effective_cleartext(dev));
    assert_eq!(cfg.domains[dev].pins.len(), 1);
    let parent = cfg.domain_for("android.com").unwrap();
    assert!(cfg.domains[parent].pins.is_empty());
    // A name under android.com other than developer uses android.com's config.
    assert_eq!(cfg.domain_for("www.android.com"), Some(parent));

    let cfg = load("nested_domains_override.xml", false).unwrap();
    assert!(cfg.effective_cleartext(cfg.domain_for("android.com").unwrap()));
    assert!(!cfg.effective_cleartext(cfg.domain_for("developer.android.com").unwrap()));

    // subdomains / domain1: includeSubdomains decides whether
    // developer.android.com falls back to base-config.
    let cfg = load("subdomains.xml", false).unwrap();
    assert_eq!(cfg.domain_for("developer.android.com"), Some(0));
    assert_eq!(cfg.domain_for("google.com"), None);
    let cfg = load("domain1.xml", false).unwrap();
    assert_eq!(cfg.domain_for("developer.android.com"), None);
    assert!(cfg.base.trust_anchors.as_ref().unwrap().is_empty());

    // multiple_domains: one domain-config, two names, one group.
    let cfg = load("multiple_domains.xml", false).unwrap();
    assert_eq!(cfg.domains[0].group, cfg.domains[1].group);
    let cfg = load("multiple_configs.xml", false).unwrap();
    assert_ne!(cfg.domains[0].group, cfg.domains[1].group);

    // empty_config: platform defaults (system anchors, no cleartext).
    let cfg = load("empty_config.xml", false).unwrap();
    assert!(cfg.domains.is_empty());
    assert!(!cfg.base.cleartext_permitted.unwrap_or(false));
}

#[test]
fn debug_overrides_add_overriding_anchors() {
    // debug_basic: release has no anchors; debuggable adds system with overridePins.
    let cfg = load("debug_basic.xml", false).unwrap();
    assert!(cfg.base.trust_anchors.as_ref().unwrap().is_empty());
    assert_eq!(
        cfg.effective_debug_anchors(None),
        vec![(AnchorSource::System, true)]
    );
    // override_dedup: the debug system anchor replaces overridePins=false.
    let cfg = load("override_dedup.xml", false).unwrap();
    assert_eq!(
        cfg.effective_debug_anchors(Some(0)),
        vec![(AnchorSource::System, true)]
    );
    // debug_domain: the debug CA is added on top of the domain's anchors.
    let cfg = load("debug_domain.xml", false).unwrap();
    let a = cfg.effective_debug_anchors(Some(0));
    assert_eq!(a.len(), 2);
    assert!(a.contains(&(AnchorSource::Bundled("@raw/test_debug_ca".into()), true)));
    // override_pins: declared outside debug.
    let cfg = load("override_pins.xml", false).unwrap();
    assert_eq!(cfg.effective_anchors(0)[0].override_pins, Some(true));
}

#[test]
fn expired_pin_keeps_its_pins_and_date() {
    let cfg = load("expired_pin.xml", false).unwrap();
    let e = cfg.domains[0].expiry.as_ref().unwrap();
    assert_eq!(e.text, "2015-01-01");
    assert_eq!(e.zone, mamori::audit::ExpiryZone::DeviceLocal);
    assert_eq!(cfg.domains[0].pins.len(), 1);
}

#[test]
fn every_accepted_file_round_trips_through_nsc_export() {
    let expected: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(data().join("expected.json")).unwrap())
            .unwrap();
    for e in expected.iter().filter(|e| e["parses"] == true) {
        let file = e["file"].as_str().unwrap();
        let cfg = load(file, false).unwrap();
        let (xml, _notes) = audit::export(&cfg, ExportFormat::Nsc);
        let back = audit::import_bytes(
            xml.as_bytes(),
            file,
            Some(SourceFormat::Nsc),
            NscOptions { debuggable: true },
            None,
        )
        .unwrap_or_else(|err| panic!("{file}: {err}\n{xml}"));
        let strip = |c: &AuditConfig| {
            let mut c = c.clone();
            c.ignored.clear();
            c.file.clear();
            c.base_location = None;
            for d in &mut c.domains {
                d.location = Default::default();
                d.pins
                    .iter_mut()
                    .for_each(|p| p.location = Default::default());
                for a in d.declared.trust_anchors.iter_mut().flatten() {
                    a.location = Default::default();
                }
            }
            for a in c.base.trust_anchors.iter_mut().flatten() {
                a.location = Default::default();
            }
            if let Some(d) = &mut c.debug_overrides {
                d.location = Default::default();
                d.from_companion = false;
                for a in d.declared.trust_anchors.iter_mut().flatten() {
                    a.location = Default::default();
                }
            }
            c
        };
        assert_eq!(strip(&back), strip(&cfg), "{file}\n{xml}");
    }
}

#[test]
fn certificate_transparency_requirement_matches_ct_tests() {
    let expected: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(data().join("expected.json")).unwrap())
            .unwrap();
    let mut checked = 0;
    for e in &expected {
        let Some(ct) = e["expected"].get("ctRequired") else {
            continue;
        };
        let file = e["file"].as_str().unwrap();
        let cfg = load(file, false).unwrap();
        for (host, want) in ct.as_object().unwrap() {
            let idx = if host.is_empty() {
                None
            } else {
                Some(cfg.domain_for(host).unwrap())
            };
            assert_eq!(
                cfg.ct_required(idx),
                want.as_bool().unwrap(),
                "{file} {host:?}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 9);
}
