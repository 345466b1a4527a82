//! Apple App Attest against the shared vectors (`../shared/testdata/appattest/
//! vectors.json`): every attestation and assertion verifies end to end, and
//! every negative case listed there fails at its step.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use mamori::attestation::{
    AppleError, AppleOptions, AssertionOptions, Environment, apple_app_attestation_root,
    verify_app_attest, verify_assertion,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{SubjectPublicKeyInfoDer, UnixTime};
use serde_json::Value;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata/appattest")
}

fn vectors() -> Value {
    serde_json::from_slice(&fs::read(data().join("vectors.json")).unwrap()).unwrap()
}

fn b64(v: &Value) -> Vec<u8> {
    B64.decode(v.as_str().unwrap()).unwrap()
}

fn at(rfc3339: &str) -> UnixTime {
    let t = time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .unwrap();
    UnixTime::since_unix_epoch(Duration::from_secs(t.unix_timestamp() as u64))
}

fn sha256(b: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, b)
        .as_ref()
        .to_vec()
}

fn spki(pem: &str) -> Vec<u8> {
    SubjectPublicKeyInfoDer::from_pem_slice(pem.as_bytes())
        .unwrap()
        .as_ref()
        .to_vec()
}

/// The inputs of one attestation, possibly mutated.
struct Attest {
    object: Vec<u8>,
    app_id: String,
    key_id: Vec<u8>,
    client_data_hash: Vec<u8>,
    time: UnixTime,
    environment: Option<Environment>,
}

impl Attest {
    fn from(v: &Value) -> Self {
        Self {
            object: b64(&v["attestation_object_b64"]),
            app_id: v["app_id"].as_str().unwrap().to_owned(),
            key_id: b64(&v["key_id_b64"]),
            client_data_hash: b64(&v["client_data_hash_b64"]),
            time: at(v["verify_at"].as_str().unwrap()),
            environment: None,
        }
    }

    fn run(&self) -> Result<mamori::attestation::AppAttestation, AppleError> {
        let roots = [apple_app_attestation_root()];
        let mut o = AppleOptions::new(
            &roots,
            self.time,
            &self.app_id,
            &self.key_id,
            &self.client_data_hash,
        );
        o.environment = self.environment;
        verify_app_attest(&self.object, &o)
    }
}

fn attestation(v: &Value, id: &str) -> Value {
    v["attestations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id)
        .unwrap()
        .clone()
}

#[test]
fn bundled_root_is_the_published_root() {
    let v = vectors();
    let fp = sha256(&apple_app_attestation_root());
    let hex: String = fp.iter().map(|b| format!("{b:02X}")).collect();
    assert_eq!(hex, v["root_ca_sha256_fingerprint"].as_str().unwrap());
}

#[test]
fn every_attestation_verifies_end_to_end() {
    let v = vectors();
    let list = v["attestations"].as_array().unwrap();
    assert_eq!(list.len(), 9);
    for a in list {
        let id = a["id"].as_str().unwrap();
        assert_eq!(a["expected"], "VALID");
        // clientDataHash is SHA-256(clientData) in every vector.
        assert_eq!(
            sha256(&b64(&a["client_data_b64"])),
            b64(&a["client_data_hash_b64"])
        );
        let r = Attest::from(a)
            .run()
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        let env = match a["environment"].as_str().unwrap() {
            "production" => Environment::Production,
            "development" => Environment::Development,
            e => panic!("{e}"),
        };
        assert_eq!(r.environment, env, "{id}");
        assert_eq!(r.key_id.to_vec(), b64(&a["key_id_b64"]), "{id}");
        assert_eq!(r.counter, 0);
        assert_eq!(r.app_id, a["app_id"].as_str().unwrap());
        assert_eq!(
            r.public_key_spki,
            spki(a["expected_public_key_pem"].as_str().unwrap()),
            "{id}"
        );
        assert!(!r.receipt.is_empty());
    }
}

#[test]
fn every_assertion_verifies() {
    let v = vectors();
    let list = v["assertions"].as_array().unwrap();
    assert_eq!(list.len(), 7);
    for s in list {
        let id = s["id"].as_str().unwrap();
        let key = spki(s["public_key_pem"].as_str().unwrap());
        let hash = sha256(&b64(&s["client_data_b64"]));
        let prev = s["previous_counter"].as_u64().unwrap() as u32;
        let o = AssertionOptions::new(&key, s["app_id"].as_str().unwrap(), &hash, prev);
        let r =
            verify_assertion(&b64(&s["assertion_b64"]), &o).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(
            u64::from(r.counter),
            s["expected_counter"].as_u64().unwrap()
        );
    }
}

/// The step each `expected_failure` of vectors.json names.
fn step_of(expected_failure: &str) -> &'static str {
    match expected_failure {
        f if f.starts_with("nonce mismatch") => "nonce",
        f if f.starts_with("rpIdHash") => "app_id",
        f if f.starts_with("SHA256(credCert public key) != keyId") => "key_id",
        "aaguid mismatch" => "environment",
        "credCert expired" => "validity",
        "ECDSA signature invalid" => "signature",
        "counter not greater than stored counter" => "counter",
        f => panic!("unknown expected_failure {f:?}"),
    }
}

#[test]
fn every_negative_case_fails_at_its_step() {
    let v = vectors();
    let cases = v["negative_cases"].as_array().unwrap();
    assert_eq!(cases.len(), 66);
    for case in cases {
        let base = case["base"].as_str().unwrap();
        let mutation = case["mutation"].as_str().unwrap();
        let step = step_of(case["expected_failure"].as_str().unwrap());
        let got = match case["kind"].as_str().unwrap() {
            "attestation" => {
                let mut a = Attest::from(&attestation(&v, base));
                match mutation {
                    "client_data_hash = SHA256(b'fporfplezruw')" => {
                        a.client_data_hash = sha256(b"fporfplezruw")
                    }
                    "app_id = 'WURZELPFRO.PF'" => a.app_id = "WURZELPFRO.PF".into(),
                    "key_id = base64(SHA256(b'fporfplezruw'))" => {
                        a.key_id = sha256(b"fporfplezruw")
                    }
                    "environment = production" => a.environment = Some(Environment::Production),
                    "environment = development" => a.environment = Some(Environment::Development),
                    "verify_at = 2026-12-01T00:00:00Z" => a.time = at("2026-12-01T00:00:00Z"),
                    m => panic!("unknown mutation {m}"),
                }
                a.run().map(|_| ())
            }
            "assertion" => {
                let s = v["assertions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|s| s["id"] == base)
                    .unwrap();
                let key = spki(s["public_key_pem"].as_str().unwrap());
                let mut app_id = s["app_id"].as_str().unwrap().to_owned();
                let mut client_data = b64(&s["client_data_b64"]);
                let mut prev = s["previous_counter"].as_u64().unwrap() as u32;
                match mutation {
                    "app_id = 'WURZELPFRO.PF'" => app_id = "WURZELPFRO.PF".into(),
                    "client_data = b'fporfplezruw'" => client_data = b"fporfplezruw".to_vec(),
                    "previous_counter = expected_counter (replay)" => {
                        prev = s["expected_counter"].as_u64().unwrap() as u32
                    }
                    m => panic!("unknown mutation {m}"),
                }
                let hash = sha256(&client_data);
                let o = AssertionOptions::new(&key, &app_id, &hash, prev);
                verify_assertion(&b64(&s["assertion_b64"]), &o).map(|_| ())
            }
            k => panic!("kind {k}"),
        };
        let e = got.expect_err(&format!("{base} / {mutation} must fail"));
        assert_eq!(e.step(), step, "{base} / {mutation}: {e}");
    }
}

#[test]
fn built_negative_cases() {
    let v = vectors();
    let good = Attest::from(&attestation(&v, "node-app-attest-production"));
    assert_eq!(good.run().unwrap().environment, Environment::Production);

    // A flipped byte in the credential certificate's signature.
    let mut a = Attest::from(&attestation(&v, "node-app-attest-production"));
    // The credential certificate: find its DER in the object and flip its last byte.
    let cred = first_x5c(&a.object);
    let pos = find(&a.object, &cred).unwrap() + cred.len() - 1;
    a.object[pos] ^= 0x01;
    assert_eq!(a.run().unwrap_err().step(), "chain");

    // A flipped byte in authData changes the nonce.
    let mut a = Attest::from(&attestation(&v, "node-app-attest-production"));
    let auth = auth_data(&a.object);
    let pos = find(&a.object, &auth).unwrap() + 40;
    a.object[pos] ^= 0x01;
    assert_eq!(a.run().unwrap_err().step(), "nonce");

    // Another root: the receipt root (Apple Root CA - G3) instead.
    let g3 = fs::read(data().join("roots/AppleRootCA-G3.cer")).unwrap();
    let a = Attest::from(&attestation(&v, "node-app-attest-production"));
    let roots = [g3];
    let o = AppleOptions::new(&roots, a.time, &a.app_id, &a.key_id, &a.client_data_hash);
    assert_eq!(verify_app_attest(&a.object, &o).unwrap_err().step(), "root");

    // Before the credential certificate's validity.
    let mut a = Attest::from(&attestation(&v, "veehaitch-ios-14.2"));
    a.time = at("2020-11-19T00:00:00Z");
    assert_eq!(a.run().unwrap_err().step(), "validity");

    // Not an attestation object at all.
    let mut a = Attest::from(&attestation(&v, "veehaitch-ios-14.2"));
    a.object.truncate(100);
    assert_eq!(a.run().unwrap_err().step(), "decode");

    // An assertion signed for another counter: flip the counter byte.
    let s = &v["assertions"][0];
    let key = spki(s["public_key_pem"].as_str().unwrap());
    let hash = sha256(&b64(&s["client_data_b64"]));
    let mut assertion = b64(&s["assertion_b64"]);
    let n = assertion.len();
    assertion[n - 1] ^= 0x02;
    let o = AssertionOptions::new(&key, s["app_id"].as_str().unwrap(), &hash, 0);
    assert_eq!(
        verify_assertion(&assertion, &o).unwrap_err().step(),
        "signature"
    );
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn object_map(object: &[u8]) -> Vec<(ciborium::Value, ciborium::Value)> {
    ciborium::de::from_reader::<ciborium::Value, _>(object)
        .unwrap()
        .into_map()
        .unwrap()
}

fn get<'a>(m: &'a [(ciborium::Value, ciborium::Value)], k: &str) -> &'a ciborium::Value {
    &m.iter()
        .find(|(key, _)| key.as_text() == Some(k))
        .unwrap()
        .1
}

fn first_x5c(object: &[u8]) -> Vec<u8> {
    let m = object_map(object);
    let stmt = get(&m, "attStmt").as_map().unwrap();
    get(stmt, "x5c").as_array().unwrap()[0]
        .as_bytes()
        .unwrap()
        .clone()
}

fn auth_data(object: &[u8]) -> Vec<u8> {
    get(&object_map(object), "authData")
        .as_bytes()
        .unwrap()
        .clone()
}
