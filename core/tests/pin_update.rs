//! Signed pin-set updates (docs/pin-updates.md): every refusal path, a real
//! rotation checked by the verifier on a test PKI, last-good and restart.
//!
//! The envelopes are built here with ring, base64 and serde_json, following
//! the document, never with `mamori::pinning::sign_update`.

use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use mamori::PolicyFormat;
use mamori::pinning::{
    FileUpdateStore, KeyError, MergeViolation, PinOutcome, PinPolicy, PinUpdater, PinVerifier,
    PolicyDocument, PolicySource, ProblemKind, StoreError, StoredUpdate, UpdateError, UpdateKey,
    UpdateKeys, UpdateRules, UpdateStore, UpdateVerifier,
};
use mamori_tests::{Pki, spare_pin};
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use rustls_pki_types::UnixTime;
use serde_json::{Value, json};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const HOST: &str = "api.bank.example";
const NOW: OffsetDateTime = datetime!(2026-12-01 12:00 UTC);
const ISSUED: &str = "2026-12-01T00:00:00Z";
const NOT_AFTER: &str = "2026-12-31T00:00:00Z";

fn keypair() -> Ed25519KeyPair {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).expect("keygen");
    Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("pkcs8")
}

/// The world of one test: a PKI, the embedded primary and backup keys, and
/// a base policy pinning HOST to two spare keys (so the live chain is
/// blocked until an update rotates to its intermediate).
struct World {
    pki: Pki,
    primary: Ed25519KeyPair,
    backup: Ed25519KeyPair,
    base_pins: [String; 2],
    dir: tempfile::TempDir,
}

impl World {
    fn new() -> Self {
        Self {
            pki: Pki::new("Bank", &[HOST]),
            primary: keypair(),
            backup: keypair(),
            base_pins: [spare_pin(), spare_pin()],
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn base_toml(&self) -> String {
        format!(
            "[trust]\nanchors_pem = '''\n{}'''\n\n[[domain]]\nhost = \"{HOST}\"\npins = [\"{}\", \"{}\"]\n\n[[domain]]\nhost = \"**.cdn.bank.example\"\npins = [\"{}\", \"{}\"]\n",
            self.pki.root.pem,
            self.base_pins[0],
            self.base_pins[1],
            self.base_pins[0],
            self.base_pins[1],
        )
    }

    fn keys(&self) -> UpdateKeys {
        UpdateKeys::new(vec![
            UpdateKey::ed25519("primary", self.primary.public_key().as_ref()).unwrap(),
            UpdateKey::ed25519("backup", self.backup.public_key().as_ref()).unwrap(),
        ])
        .unwrap()
    }

    fn verifier(&self, rules: UpdateRules) -> UpdateVerifier {
        let doc = PolicyDocument::parse(&self.base_toml(), PolicyFormat::Toml, "base").unwrap();
        UpdateVerifier::new(doc, "base", None, self.keys(), rules).unwrap()
    }

    fn store(&self) -> FileUpdateStore {
        FileUpdateStore::new(self.dir.path().join("pin-update.json"))
    }

    fn updater(&self) -> PinUpdater {
        PinUpdater::new(
            self.verifier(UpdateRules::default()),
            Box::new(self.store()),
        )
    }

    /// Version `version` of a rotation to [`Self::rotated_pins`], signed by
    /// the primary key.
    fn rotation(&self, version: u64) -> Vec<u8> {
        signed(
            &payload(version, "primary", &self.rotated_pins()),
            "primary",
            &self.primary,
        )
    }

    /// Pins of the rotated set: the live intermediate plus a spare.
    fn rotated_pins(&self) -> Vec<String> {
        vec![self.pki.intermediate.pin(), spare_pin()]
    }
}

/// A payload as the document describes it, with HOST pinned to `pins`.
fn payload(version: u64, key_id: &str, pins: &[String]) -> Value {
    json!({
        "format": "mamori-pin-update/1",
        "version": version,
        "issued_at": ISSUED,
        "not_after": NOT_AFTER,
        "key_id": key_id,
        "domain": [{ "host": HOST, "pins": pins }],
    })
}

/// Signs `payload_bytes` exactly as given and wraps them in an envelope.
fn envelope_bytes(payload_bytes: &[u8], key_id: &str, key: &Ed25519KeyPair) -> Vec<u8> {
    let sig = key.sign(payload_bytes);
    serde_json::to_vec_pretty(&json!({
        "key_id": key_id,
        "payload": B64.encode(payload_bytes),
        "signature": B64.encode(sig.as_ref()),
    }))
    .unwrap()
}

fn signed(p: &Value, key_id: &str, key: &Ed25519KeyPair) -> Vec<u8> {
    envelope_bytes(&serde_json::to_vec(p).unwrap(), key_id, key)
}

fn unix(t: OffsetDateTime) -> UnixTime {
    UnixTime::since_unix_epoch(std::time::Duration::from_secs(t.unix_timestamp() as u64))
}

fn outcome(policy: &PinPolicy, pki: &Pki) -> PinOutcome {
    PinVerifier::new(policy.clone())
        .verify(HOST, 443, &pki.chain(), unix(NOW))
        .outcome
}

#[test]
fn valid_rotation_is_accepted_and_pins_the_new_key() {
    let w = World::new();
    let mut up = w.updater();
    assert_eq!(up.source(), PolicySource::Base);
    assert_eq!(outcome(up.policy(NOW), &w.pki), PinOutcome::Block);

    let doc = w.rotation(1);
    let acc = up.apply(&doc, NOW).expect("valid update");
    assert_eq!(acc.version(), 1);
    assert_eq!(acc.key_id(), "primary");
    assert_eq!(up.source(), PolicySource::Update { version: 1 });
    assert_eq!(outcome(up.policy(NOW), &w.pki), PinOutcome::Allow);
    // Still pinned: the old pins are gone, so a chain from another PKI on
    // the same name is blocked.
    let other = Pki::new("Bank", &[HOST]);
    let p = up.policy(NOW).clone().with_trust(
        mamori::pinning::TrustConfig::custom("other", other.root.pem.as_bytes()).unwrap(),
    );
    assert_eq!(outcome(&p, &other), PinOutcome::Block);
    // The domain the update does not name keeps its base rule.
    let cdn = up
        .policy(NOW)
        .domains()
        .iter()
        .find(|d| d.host() == "**.cdn.bank.example")
        .unwrap();
    assert_eq!(cdn.pins().len(), 2);
    assert!(!cdn.report_only());

    // The backup key signs the next version.
    let doc2 = signed(
        &payload(2, "backup", &w.rotated_pins()),
        "backup",
        &w.backup,
    );
    up.apply(&doc2, NOW).expect("backup-signed update");
    assert_eq!(up.source(), PolicySource::Update { version: 2 });
}

#[test]
fn rollback_and_replay_are_refused() {
    let w = World::new();
    let mut up = w.updater();
    let v1 = w.rotation(1);
    let v5 = w.rotation(5);
    up.apply(&v5, NOW).unwrap();
    assert_eq!(
        up.apply(&v1, NOW).unwrap_err(),
        UpdateError::Rollback {
            version: 1,
            last_accepted: 5
        }
    );
    assert_eq!(
        up.apply(&v5, NOW).unwrap_err(),
        UpdateError::Rollback {
            version: 5,
            last_accepted: 5
        }
    );
    assert_eq!(up.source(), PolicySource::Update { version: 5 });
}

#[test]
fn expired_and_not_yet_valid_documents_are_refused() {
    let w = World::new();
    let mut up = w.updater();
    let doc = w.rotation(1);
    let early = datetime!(2026-11-30 23:59:59 UTC);
    assert!(matches!(
        up.apply(&doc, early),
        Err(UpdateError::NotYetValid { .. })
    ));
    // not_after itself is already expired.
    let late = datetime!(2026-12-31 00:00 UTC);
    assert!(matches!(
        up.apply(&doc, late),
        Err(UpdateError::Expired { .. })
    ));
    let mut p = payload(1, "primary", &w.rotated_pins());
    p["not_after"] = json!(ISSUED);
    assert_eq!(
        up.apply(&signed(&p, "primary", &w.primary), NOW)
            .unwrap_err(),
        UpdateError::BadWindow
    );
    p["not_after"] = json!("2026-12-31");
    assert!(matches!(
        up.apply(&signed(&p, "primary", &w.primary), NOW),
        Err(UpdateError::BadTime {
            field: "not_after",
            ..
        })
    ));
    assert_eq!(up.source(), PolicySource::Base);
    assert_eq!(up.highest_version(), None);
}

#[test]
fn unknown_and_wrong_keys_are_refused() {
    let w = World::new();
    let mut up = w.updater();
    let stranger = keypair();
    let p = payload(1, "stranger", &w.rotated_pins());
    assert_eq!(
        up.apply(&signed(&p, "stranger", &stranger), NOW)
            .unwrap_err(),
        UpdateError::UnknownKey("stranger".into())
    );
    // A valid signature by a key that is not embedded, under an embedded id.
    let p = payload(1, "primary", &w.rotated_pins());
    assert_eq!(
        up.apply(&signed(&p, "primary", &stranger), NOW)
            .unwrap_err(),
        UpdateError::BadSignature("primary".into())
    );
    // Signed by the backup but labelled primary.
    assert_eq!(
        up.apply(&signed(&p, "primary", &w.backup), NOW)
            .unwrap_err(),
        UpdateError::BadSignature("primary".into())
    );
    // The signed key id must equal the envelope's.
    let p = payload(1, "backup", &w.rotated_pins());
    assert_eq!(
        up.apply(&signed(&p, "primary", &w.primary), NOW)
            .unwrap_err(),
        UpdateError::KeyIdMismatch {
            envelope: "primary".into(),
            payload: "backup".into()
        }
    );
    assert_eq!(up.source(), PolicySource::Base);
}

#[test]
fn a_tampered_byte_anywhere_is_refused() {
    let w = World::new();
    let v = w.verifier(UpdateRules::default());
    let payload_bytes = serde_json::to_vec(&payload(1, "primary", &w.rotated_pins())).unwrap();
    let good = envelope_bytes(&payload_bytes, "primary", &w.primary);
    v.verify(&good, NOW, None).expect("the untampered document");

    // Every byte of the signed payload, re-wrapped with the original signature.
    let sig = B64.encode(w.primary.sign(&payload_bytes).as_ref());
    for i in 0..payload_bytes.len() {
        let mut t = payload_bytes.clone();
        t[i] ^= 0x01;
        let env = serde_json::to_vec(&json!({
            "key_id": "primary", "payload": B64.encode(&t), "signature": sig,
        }))
        .unwrap();
        assert_eq!(
            v.verify(&env, NOW, None).unwrap_err(),
            UpdateError::BadSignature("primary".into()),
            "payload byte {i}"
        );
    }
    // Every byte of the envelope as it travels.
    for i in 0..good.len() {
        let mut t = good.clone();
        t[i] ^= 0x01;
        assert!(v.verify(&t, NOW, None).is_err(), "envelope byte {i}");
    }
}

#[test]
fn removing_pinning_or_a_backup_pin_is_refused() {
    let w = World::new();
    let mut up = w.updater();
    let spare = spare_pin();

    // One pin on an enforced domain.
    let p = payload(1, "primary", std::slice::from_ref(&spare));
    match up.apply(&signed(&p, "primary", &w.primary), NOW) {
        Err(UpdateError::InvalidPolicy(e)) => {
            assert!(matches!(e.problems[0].kind, ProblemKind::NoBackupPin(1)))
        }
        other => panic!("{other:?}"),
    }
    // No pins at all.
    let p = payload(1, "primary", &[]);
    match up.apply(&signed(&p, "primary", &w.primary), NOW) {
        Err(UpdateError::InvalidPolicy(e)) => {
            assert!(matches!(e.problems[0].kind, ProblemKind::NoPins))
        }
        other => panic!("{other:?}"),
    }
    // Report-only with one pin: a kill switch, not allowed by default, and
    // a dropped backup pin.
    let mut p = payload(1, "primary", std::slice::from_ref(&spare));
    p["domain"][0]["report_only"] = json!(true);
    assert_eq!(
        up.apply(&signed(&p, "primary", &w.primary), NOW)
            .unwrap_err(),
        UpdateError::Refused(vec![
            MergeViolation::BackupPinDropped {
                host: HOST.into(),
                found: 1
            },
            MergeViolation::KillSwitchNotAllowed(HOST.into()),
        ])
    );
    // A fail-open expiry already past: pinning off without saying so.
    let mut p = payload(1, "primary", &w.rotated_pins());
    p["domain"][0]["expires"] = json!("2026-01-01");
    assert_eq!(
        up.apply(&signed(&p, "primary", &w.primary), NOW)
            .unwrap_err(),
        UpdateError::Refused(vec![MergeViolation::ExpiryWeakened(HOST.into())])
    );
    // The same expiry in enforce mode changes nothing about pinning.
    p["domain"][0]["on_expiry"] = json!("enforce");
    up.apply(&signed(&p, "primary", &w.primary), NOW)
        .expect("enforced expiry");
    assert_eq!(up.source(), PolicySource::Update { version: 1 });
}

#[test]
fn scope_and_new_domains_follow_the_base_rules() {
    let w = World::new();
    let two = w.rotated_pins();
    let mut wider = payload(1, "primary", &two);
    wider["domain"][0]["include_subdomains"] = json!(true);
    let mut new = payload(1, "primary", &two);
    new["domain"][0]["host"] = json!("login.bank.example");

    let strict = w.verifier(UpdateRules::default());
    assert!(matches!(
        strict.verify(&signed(&wider, "primary", &w.primary), NOW, None),
        Err(UpdateError::Refused(v)) if matches!(v[..], [MergeViolation::ScopeChanged { .. }])
    ));
    assert_eq!(
        strict
            .verify(&signed(&new, "primary", &w.primary), NOW, None)
            .unwrap_err(),
        UpdateError::Refused(vec![MergeViolation::NewDomain("login.bank.example".into())])
    );

    let open = w.verifier(UpdateRules {
        allow_new_domains: true,
        max_report_only: None,
    });
    let acc = open
        .verify(&signed(&new, "primary", &w.primary), NOW, None)
        .expect("new domains allowed");
    let hosts: Vec<&str> = acc
        .policy_at(NOW)
        .domains()
        .iter()
        .map(|d| d.host())
        .collect();
    assert_eq!(
        hosts,
        [HOST, "**.cdn.bank.example", "login.bank.example"],
        "base rules kept, the new one added"
    );
    // Scope changes stay refused even then.
    assert!(matches!(
        open.verify(&signed(&wider, "primary", &w.primary), NOW, None),
        Err(UpdateError::Refused(_))
    ));
}

/// A new rule more specific than an enforced base rule takes hosts from it
/// (the most specific rule wins), so it is held to the base rule's limits:
/// before, `api.cdn.bank.example` added as report-only with one pin switched
/// the enforced `**.cdn.bank.example` off for that host, without a cap.
#[test]
fn a_new_rule_inside_an_enforced_wildcard_is_a_downgrade_of_it() {
    let w = World::new();
    let mut p = payload(1, "primary", &[spare_pin()]);
    p["domain"][0]["host"] = json!("api.cdn.bank.example");
    p["domain"][0]["report_only"] = json!(true);
    let doc = signed(&p, "primary", &w.primary);
    let open = |cap| {
        w.verifier(UpdateRules {
            allow_new_domains: true,
            max_report_only: cap,
        })
    };
    assert_eq!(
        open(None).verify(&doc, NOW, None).unwrap_err(),
        UpdateError::Refused(vec![
            MergeViolation::BackupPinDropped {
                host: "api.cdn.bank.example".into(),
                found: 1
            },
            MergeViolation::KillSwitchNotAllowed("api.cdn.bank.example".into()),
        ])
    );
    // With two pins and a cap the downgrade is accepted, and lapses.
    let mut p = payload(1, "primary", &[spare_pin(), spare_pin()]);
    p["domain"][0]["host"] = json!("api.cdn.bank.example");
    p["domain"][0]["report_only"] = json!(true);
    let acc = open(Some(Duration::days(30)))
        .verify(&signed(&p, "primary", &w.primary), NOW, None)
        .expect("within the cap");
    assert_eq!(acc.downgraded(), ["api.cdn.bank.example".to_owned()]);
    let lapsed = acc.policy_at(datetime!(2026-12-31 00:00 UTC));
    let rule = lapsed
        .domains()
        .iter()
        .find(|d| d.host() == "api.cdn.bank.example")
        .unwrap();
    assert!(!rule.report_only(), "enforced again after not_after");
    // A new, unrelated domain is not held to another rule's limits.
    let mut other = payload(1, "primary", &[spare_pin()]);
    other["domain"][0]["host"] = json!("login.bank.example");
    other["domain"][0]["report_only"] = json!(true);
    open(None)
        .verify(&signed(&other, "primary", &w.primary), NOW, None)
        .expect("a new domain outside every base rule");
}

#[test]
fn a_kill_switch_is_bounded_by_the_cap_and_ends_at_not_after() {
    let w = World::new();
    // Live chain pinned, then downgraded to report-only: a mismatch is
    // reported, not blocked, and only until not_after.
    let mut p = payload(1, "primary", &[spare_pin(), spare_pin()]);
    p["domain"][0]["report_only"] = json!(true);
    let doc = signed(&p, "primary", &w.primary);

    let short_cap = w.verifier(UpdateRules {
        allow_new_domains: false,
        max_report_only: Some(Duration::days(7)),
    });
    assert_eq!(
        short_cap.verify(&doc, NOW, None).unwrap_err(),
        UpdateError::Refused(vec![MergeViolation::KillSwitchTooLong {
            host: HOST.into(),
            window_secs: 30 * 86_400,
            cap_secs: 7 * 86_400,
        }])
    );

    let cap = w.verifier(UpdateRules {
        allow_new_domains: false,
        max_report_only: Some(Duration::days(30)),
    });
    let acc = cap.verify(&doc, NOW, None).expect("within the cap");
    assert_eq!(acc.downgraded(), [HOST.to_owned()]);
    assert_eq!(outcome(acc.policy_at(NOW), &w.pki), PinOutcome::Report);
    let after = datetime!(2026-12-31 00:00 UTC);
    let lapsed = acc.policy_at(after);
    let rule = lapsed.domains().iter().find(|d| d.host() == HOST).unwrap();
    assert!(!rule.report_only(), "enforced again after not_after");
    assert_eq!(outcome(lapsed, &w.pki), PinOutcome::Block);
}

#[test]
fn last_good_is_kept_after_a_bad_update() {
    let w = World::new();
    let mut up = w.updater();
    up.apply(&w.rotation(1), NOW).unwrap();
    let on_disk = std::fs::read(w.store().path()).unwrap();

    let mut bad = signed(
        &payload(2, "primary", &[spare_pin(), spare_pin()]),
        "primary",
        &w.primary,
    );
    let i = bad.len() / 2;
    bad[i] ^= 0x01;
    assert!(up.apply(&bad, NOW).is_err());
    let one_pin = signed(
        &payload(3, "primary", &[spare_pin()]),
        "primary",
        &w.primary,
    );
    assert!(up.apply(&one_pin, NOW).is_err());

    assert_eq!(up.source(), PolicySource::Update { version: 1 });
    assert_eq!(outcome(up.policy(NOW), &w.pki), PinOutcome::Allow);
    assert_eq!(std::fs::read(w.store().path()).unwrap(), on_disk);
}

/// A store whose writes fail, as a full disk would.
struct FailingStore(Mutex<Option<StoredUpdate>>);

impl UpdateStore for FailingStore {
    fn load(&self) -> Result<Option<StoredUpdate>, StoreError> {
        Ok(self.0.lock().unwrap().clone())
    }
    fn save(&self, _: &StoredUpdate) -> Result<(), StoreError> {
        Err(StoreError::Io("no space left on device".into()))
    }
}

#[test]
fn a_failed_persist_changes_nothing() {
    let w = World::new();
    let mut up = PinUpdater::new(
        w.verifier(UpdateRules::default()),
        Box::new(FailingStore(Mutex::new(None))),
    );
    let doc = w.rotation(1);
    assert!(matches!(
        up.apply(&doc, NOW),
        Err(UpdateError::Store(StoreError::Io(_)))
    ));
    assert_eq!(up.source(), PolicySource::Base);
    assert_eq!(up.highest_version(), None);
}

#[test]
fn a_restart_restores_the_accepted_state() {
    let w = World::new();
    let v1 = w.rotation(1);
    {
        let mut up = w.updater();
        up.apply(&v1, NOW).unwrap();
    }
    // Weeks later, after not_after: still the last good pins.
    let later = datetime!(2027-02-01 00:00 UTC);
    let mut up = w.updater();
    assert!(up.restore_error().is_none(), "{:?}", up.restore_error());
    assert_eq!(up.source(), PolicySource::Update { version: 1 });
    assert_eq!(up.highest_version(), Some(1));
    assert_eq!(outcome(up.policy(later), &w.pki), PinOutcome::Allow);
    assert_eq!(
        up.apply(&v1, NOW).unwrap_err(),
        UpdateError::Rollback {
            version: 1,
            last_accepted: 1
        }
    );
}

#[test]
fn a_corrupt_or_tampered_state_falls_back_to_the_base_policy() {
    let w = World::new();
    std::fs::write(w.store().path(), b"{ not json").unwrap();
    let up = w.updater();
    assert_eq!(up.source(), PolicySource::Base);
    assert!(matches!(
        up.restore_error(),
        Some(UpdateError::Store(StoreError::Corrupt(_)))
    ));

    // A state whose envelope was signed by a key the app does not embed,
    // with its rollback floor: the base applies and the floor holds.
    let stranger = keypair();
    let forged = signed(
        &payload(9, "primary", &w.rotated_pins()),
        "primary",
        &stranger,
    );
    w.store()
        .save(&StoredUpdate {
            highest_version: 9,
            envelope: forged,
        })
        .unwrap();
    let mut up = w.updater();
    assert_eq!(up.source(), PolicySource::Base);
    assert_eq!(
        up.restore_error(),
        Some(&UpdateError::BadSignature("primary".into()))
    );
    let v3 = w.rotation(3);
    assert!(matches!(
        up.apply(&v3, NOW),
        Err(UpdateError::Rollback { .. })
    ));
}

#[test]
fn oversized_and_malformed_input_is_refused() {
    let w = World::new();
    let v = w.verifier(UpdateRules::default());
    let big = vec![b' '; 64 * 1024 + 1];
    assert_eq!(
        v.verify(&big, NOW, None).unwrap_err(),
        UpdateError::TooLarge {
            size: 64 * 1024 + 1,
            max: 64 * 1024
        }
    );
    assert!(matches!(
        v.verify(b"{}", NOW, None),
        Err(UpdateError::Envelope(_))
    ));
    // An update may not carry trust anchors or a profile.
    let mut p = payload(1, "primary", &w.rotated_pins());
    p["trust"] = json!({ "mozilla_roots": true });
    assert!(matches!(
        v.verify(&signed(&p, "primary", &w.primary), NOW, None),
        Err(UpdateError::Payload(_))
    ));
    let mut p = payload(0, "primary", &w.rotated_pins());
    assert_eq!(
        v.verify(&signed(&p, "primary", &w.primary), NOW, None)
            .unwrap_err(),
        UpdateError::BadVersion(0)
    );
    p["version"] = json!(1);
    p["format"] = json!("mamori-pin-update/2");
    assert!(matches!(
        v.verify(&signed(&p, "primary", &w.primary), NOW, None),
        Err(UpdateError::UnsupportedFormat(_))
    ));
}

#[test]
fn one_update_key_is_refused() {
    let k = keypair();
    let one = UpdateKey::ed25519("only", k.public_key().as_ref()).unwrap();
    assert_eq!(
        UpdateKeys::new(vec![one.clone()]).unwrap_err(),
        KeyError::TooFew(1)
    );
    let same = UpdateKey::ed25519("again", k.public_key().as_ref()).unwrap();
    assert_eq!(
        UpdateKeys::new(vec![one, same]).unwrap_err(),
        KeyError::DuplicateKey("only".into(), "again".into())
    );
    let text = format!(
        "# primary\nprimary {}\nbackup {}\n",
        B64.encode(k.public_key().as_ref()),
        B64.encode(keypair().public_key().as_ref())
    );
    assert_eq!(UpdateKeys::from_text(&text).unwrap().keys().len(), 2);
    assert!(UpdateKey::ed25519("bad id", &[0; 32]).is_err());
    assert!(UpdateKey::ed25519("short", &[0; 31]).is_err());
}

#[test]
fn the_next_fetch_comes_sooner_as_expiry_nears() {
    let w = World::new();
    let mut up = w.updater();
    assert_eq!(up.next_fetch(NOW), NOW + Duration::hours(24));
    up.apply(&w.rotation(1), NOW).unwrap();
    // 29.5 days left: the 24 h ceiling.
    assert_eq!(up.next_fetch(NOW), NOW + Duration::hours(24));
    // 2 hours left: a quarter of that.
    let t = datetime!(2026-12-30 22:00 UTC);
    assert_eq!(up.next_fetch(t), t + Duration::minutes(30));
    // 10 minutes left: the 15 minute floor.
    let t = datetime!(2026-12-30 23:50 UTC);
    assert_eq!(up.next_fetch(t), t + Duration::minutes(15));
    // Past not_after: hourly.
    let t = datetime!(2027-01-05 00:00 UTC);
    assert_eq!(up.next_fetch(t), t + Duration::hours(1));
}

/// One random update: a version, and for each base host either nothing (left
/// out) or a rule with 0 to 3 pins drawn from a small pool (so duplicates
/// happen), maybe report-only, maybe widened to subdomains; maybe a new host;
/// signed by the primary key, the backup key or an outside key; a validity
/// window of 1 to 200 hours.
#[derive(Debug, Clone)]
struct RandomUpdate {
    version: u64,
    rules: Vec<Option<(Vec<usize>, bool, bool)>>,
    new_host: bool,
    signer: u8,
    window_hours: i64,
}

fn random_update() -> impl proptest::strategy::Strategy<Value = RandomUpdate> {
    use proptest::prelude::*;
    let rule = proptest::option::of((
        proptest::collection::vec(0usize..4, 0..=3),
        any::<bool>(),
        proptest::bool::weighted(0.1),
    ));
    (
        1u64..12,
        proptest::collection::vec(rule, 2),
        proptest::bool::weighted(0.1),
        0u8..3,
        1i64..200,
    )
        .prop_map(
            |(version, rules, new_host, signer, window_hours)| RandomUpdate {
                version,
                rules,
                new_host,
                signer,
                window_hours,
            },
        )
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    /// Issue 14's property: no sequence of updates (accepted or refused, in
    /// any order, at any time) yields an effective policy that pins an
    /// enforced base domain to fewer than two distinct keys or unpins a
    /// domain the base pins; a report-only downgrade never outlives the cap.
    #[test]
    fn no_update_sequence_weakens_the_base_guarantees(
        updates in proptest::collection::vec(random_update(), 1..8),
        offsets in proptest::collection::vec(0i64..400, 8),
    ) {
        let w = World::new();
        let outsider = keypair();
        let cap = Duration::hours(72);
        let rules = UpdateRules { allow_new_domains: false, max_report_only: Some(cap) };
        let mut up = PinUpdater::new(w.verifier(rules), Box::new(w.store()));
        let pool = [w.pki.intermediate.pin(), w.pki.leaf.pin(), spare_pin(), spare_pin()];
        let hosts = [HOST, "**.cdn.bank.example"];
        let start = datetime!(2026-12-01 00:00 UTC);
        let base = PolicyDocument::parse(&w.base_toml(), PolicyFormat::Toml, "base").unwrap();
        let base_rules: Vec<(String, bool)> = base
            .validate("base", None)
            .unwrap()
            .domains()
            .iter()
            .map(|d| (d.host().to_owned(), d.include_subdomains()))
            .collect();
        for (i, u) in updates.iter().enumerate() {
            let issued = start + Duration::hours(offsets[i]);
            let mut domains = Vec::new();
            for (host, rule) in hosts.iter().zip(&u.rules) {
                if let Some((pins, report_only, widen)) = rule {
                    let pins: Vec<&String> = pins.iter().map(|p| &pool[*p]).collect();
                    let mut d = json!({ "host": host, "pins": pins, "report_only": report_only });
                    if *widen {
                        d["include_subdomains"] = json!(true);
                    }
                    domains.push(d);
                }
            }
            if u.new_host {
                domains.push(json!({ "host": "new.bank.example", "pins": [pool[2], pool[3]] }));
            }
            let (key_id, key) = match u.signer {
                0 => ("primary", &w.primary),
                1 => ("backup", &w.backup),
                _ => ("primary", &outsider),
            };
            let p = json!({
                "format": "mamori-pin-update/1",
                "version": u.version,
                "issued_at": issued.format(&time::format_description::well_known::Rfc3339).unwrap(),
                "not_after": (issued + Duration::hours(u.window_hours))
                    .format(&time::format_description::well_known::Rfc3339).unwrap(),
                "key_id": key_id,
                "domain": domains,
            });
            let now = issued + Duration::minutes(1);
            let _ = up.apply(&signed(&p, key_id, key), now);
            // Every document's window ends within 400 h + 200 h of the start:
            // 400 days on, no kill switch can still be in effect.
            let late = start + Duration::days(400);
            for at in [now, now + Duration::hours(100), late] {
                let policy = up.policy(at);
                for (host, subdomains) in &base_rules {
                    let rule = policy
                        .domains()
                        .iter()
                        .find(|d| d.host() == host)
                        .unwrap_or_else(|| panic!("{host} unpinned at {at}"));
                    let mut distinct: Vec<String> = rule.pins().iter().map(|p| p.to_string()).collect();
                    distinct.sort_unstable();
                    distinct.dedup();
                    proptest::prop_assert!(
                        distinct.len() >= 2,
                        "{host}: {} distinct pins at {at}", distinct.len()
                    );
                    proptest::prop_assert_eq!(rule.include_subdomains(), *subdomains, "{} scope changed", host);
                    proptest::prop_assert!(at != late || !rule.report_only(), "{host} still report-only at {at}");
                }
                proptest::prop_assert!(!policy.domains().iter().any(|d| d.host() == "new.bank.example"));
            }
        }
        // A restart restores the same effective policy.
        let version = up.source();
        drop(up);
        let restarted = PinUpdater::new(w.verifier(rules), Box::new(w.store()));
        proptest::prop_assert_eq!(restarted.source(), version);
    }
}
