//! The base policy's `[updates]` table (issue 14): update keys and merge
//! rules are parsed and validated at load with the rest of the pin policy,
//! every problem reported at once, and `UpdateVerifier::from_base` uses them.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use mamori::PolicyFormat;
use mamori::pinning::{
    KeyError, PinPolicy, PolicyDocument, ProblemKind, UpdateError, UpdateVerifier,
};
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use serde_json::json;
use time::Duration;
use time::macros::datetime;

const PIN_A: &str = "sha256/ERERERERERERERERERERERERERERERERERERERERERE=";
const PIN_B: &str = "sha256/IiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiI=";
const PIN_C: &str = "sha256/MzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzM=";

fn keypair() -> Ed25519KeyPair {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
    Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap()
}

fn pk(k: &Ed25519KeyPair) -> String {
    B64.encode(k.public_key().as_ref())
}

fn base(updates: &str) -> String {
    format!(
        "[[domain]]\nhost = \"api.bank.example\"\npins = [\"{PIN_A}\", \"{PIN_B}\"]\n\n{updates}"
    )
}

#[test]
fn a_valid_updates_table_yields_keys_and_rules() {
    let (p, b) = (keypair(), keypair());
    let text = base(&format!(
        "[updates]\nallow_new_domains = true\nmax_report_only_hours = 48\nkeys = [\n  {{ id = \"primary\", ed25519 = \"{}\" }},\n  {{ id = \"backup\", ed25519 = \"{}\" }},\n]\n",
        pk(&p),
        pk(&b)
    ));
    let policy = PinPolicy::from_toml(&text).unwrap();
    let u = policy.updates().expect("updates table");
    let ids: Vec<&str> = u.keys.keys().iter().map(|k| k.id()).collect();
    assert_eq!(ids, ["primary", "backup"]);
    assert_eq!(u.keys.keys()[1].public_key(), b.public_key().as_ref());
    assert!(u.rules.allow_new_domains);
    assert_eq!(u.rules.max_report_only, Some(Duration::hours(48)));
    // Defaults: no new domains, no kill switch.
    let text = base(&format!(
        "[updates]\nkeys = [{{ id = \"p\", ed25519 = \"{}\" }}, {{ id = \"b\", ed25519 = \"{}\" }}]\n",
        pk(&p),
        pk(&b)
    ));
    let rules = PinPolicy::from_toml(&text)
        .unwrap()
        .updates()
        .unwrap()
        .rules;
    assert!(!rules.allow_new_domains);
    assert_eq!(rules.max_report_only, None);
    // Without the table, the policy accepts no updates.
    assert!(PinPolicy::from_toml(&base("")).unwrap().updates().is_none());
}

#[test]
fn bad_updates_tables_are_refused_at_load_with_every_problem() {
    let (p, b) = (keypair(), keypair());
    let cases = [
        // One key is a single point of failure (BP-5).
        (
            format!(
                "[updates]\nkeys = [{{ id = \"p\", ed25519 = \"{}\" }}]\n",
                pk(&p)
            ),
            "at least",
        ),
        ("[updates]\n".to_owned(), "at least"),
        // The same key twice is one key.
        (
            format!(
                "[updates]\nkeys = [{{ id = \"p\", ed25519 = \"{0}\" }}, {{ id = \"b\", ed25519 = \"{0}\" }}]\n",
                pk(&p)
            ),
            "",
        ),
        (
            format!(
                "[updates]\nkeys = [{{ id = \"p\", ed25519 = \"not base64!\" }}, {{ id = \"b\", ed25519 = \"{}\" }}]\n",
                pk(&b)
            ),
            "",
        ),
        (
            format!(
                "[updates]\nkeys = [{{ id = \"p\", ed25519 = \"{}\" }}, {{ id = \"b\", ed25519 = \"{}\" }}]\n",
                B64.encode([1u8; 16]),
                pk(&b)
            ),
            "",
        ),
    ];
    for (table, needle) in &cases {
        let err = PinPolicy::from_toml(&base(table)).unwrap_err();
        assert_eq!(err.problems.len(), 1, "{table}: {err}");
        let pr = &err.problems[0];
        assert_eq!(pr.field.as_deref(), Some("updates.keys"), "{table}");
        assert!(
            matches!(pr.kind, ProblemKind::UpdateKeys(_)),
            "{table}: {err}"
        );
        assert!(err.to_string().contains(needle), "{err}");
    }
    // A cap beyond 30 days, and a bad key, reported together with a domain problem.
    let text = format!(
        "[[domain]]\nhost = \"x.bank.example\"\npins = [\"{PIN_C}\"]\n\n[updates]\nmax_report_only_hours = 721\nkeys = [{{ id = \"p\", ed25519 = \"{}\" }}]\n",
        pk(&p)
    );
    let err = PinPolicy::from_toml(&text).unwrap_err();
    let fields: Vec<_> = err
        .problems
        .iter()
        .map(|p| p.field.clone().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["pins", "updates.keys", "updates.max_report_only_hours"],
        "{err}"
    );
    // Unknown fields are refused, not ignored.
    let err = PinPolicy::from_toml(&base("[updates]\nallow_new_domain = true\n")).unwrap_err();
    assert!(err.to_string().contains("allow_new_domain"), "{err}");
}

#[test]
fn the_verifier_takes_keys_and_rules_from_the_base_policy() {
    let (p, b) = (keypair(), keypair());
    let text = base(&format!(
        "[updates]\nkeys = [{{ id = \"primary\", ed25519 = \"{}\" }}, {{ id = \"backup\", ed25519 = \"{}\" }}]\n",
        pk(&p),
        pk(&b)
    ));
    let doc = PolicyDocument::parse(&text, PolicyFormat::Toml, "base").unwrap();
    let verifier = UpdateVerifier::from_base(doc, "base", None).unwrap();
    let payload = |host: &str| {
        serde_json::to_vec(&json!({
            "format": "mamori-pin-update/1", "version": 1,
            "issued_at": "2026-12-01T00:00:00Z", "not_after": "2026-12-31T00:00:00Z",
            "key_id": "backup",
            "domain": [{ "host": host, "pins": [PIN_B, PIN_C] }],
        }))
        .unwrap()
    };
    let envelope = |bytes: &[u8]| {
        serde_json::to_vec(&json!({
            "key_id": "backup",
            "payload": B64.encode(bytes),
            "signature": B64.encode(b.sign(bytes).as_ref()),
        }))
        .unwrap()
    };
    let now = datetime!(2026-12-02 00:00 UTC);
    let acc = verifier
        .verify(&envelope(&payload("api.bank.example")), now, None)
        .expect("signed by the backup key of the base policy");
    assert_eq!(acc.key_id(), "backup");
    // allow_new_domains defaults to false: a domain the base does not name is refused.
    assert!(matches!(
        verifier.verify(&envelope(&payload("new.bank.example")), now, None),
        Err(UpdateError::Refused(_))
    ));
    // A base policy without [updates] accepts no updates.
    let doc = PolicyDocument::parse(&base(""), PolicyFormat::Toml, "base").unwrap();
    assert!(matches!(
        UpdateVerifier::from_base(doc, "base", None),
        Err(UpdateError::Keys(KeyError::TooFew(0)))
    ));
}
