//! `mamori attest`: the real binary on the shared attestation vectors.

use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;

mod common;
use common::mamori;

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata")
}

fn ka(rel: &str) -> String {
    shared()
        .join("keyattestation")
        .join(rel)
        .display()
        .to_string()
}

fn json_run(args: &[&str]) -> (i32, Value) {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let out = mamori(&all);
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), v)
}

const CAIMAN: &str = "testdata/caiman/sdk36/TEE_EC_RKP.pem";
const CAIMAN_AT: &str = "2025-09-26T15:31:21Z";

#[test]
fn android_verified_chain_reports_the_attested_values() {
    let (code, v) = json_run(&[
        "attest",
        "verify",
        "--platform",
        "android",
        &ka(CAIMAN),
        "--challenge",
        "d688d763-6118-4ca6-94b2-e6cd9ed7e4e4",
        "--at",
        CAIMAN_AT,
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["verified"], true);
    assert_eq!(v["failed_step"], Value::Null);
    assert_eq!(v["security_level"], "trusted_environment");
    assert_eq!(v["verified_boot_state"], "verified");
    assert_eq!(v["device_locked"], true);
    assert_eq!(v["os_patch_level"], 202511);
    assert_eq!(v["attestation_version"], 400);
    assert_eq!(
        v["challenge_b64"],
        B64.encode("d688d763-6118-4ca6-94b2-e6cd9ed7e4e4")
    );
    assert_eq!(v["challenge_checked"], true);
}

#[test]
fn android_challenge_b64_roots_json_and_revocation_file() {
    let status = ka("revocation/status.json");
    let (code, v) = json_run(&[
        "attest",
        "verify",
        "--platform",
        "android",
        &ka("testdata/blueline/sdk28/TEE_EC_NONE.pem"),
        "--challenge-b64",
        "Y2hhbGxlbmdl",
        "--roots",
        &ka("roots.json"),
        "--revocation",
        &status,
        "--at",
        "2024-10-20T00:00:00Z",
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["challenge_checked"], true);
    assert_eq!(v["verified_boot_state"], "unverified");
    assert_eq!(v["device_locked"], false);
    let digest = ring::digest::digest(&ring::digest::SHA256, &fs::read(&status).unwrap());
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(v["revocation_list_sha256"], hex);
}

#[test]
fn android_failures_name_the_step_and_exit_1() {
    let cases: &[(&[&str], &str)] = &[
        (
            &[&ka(CAIMAN), "--challenge", "foo", "--at", CAIMAN_AT],
            "challenge",
        ),
        (&[&ka(CAIMAN), "--at", "2030-01-01T00:00:00Z"], "validity"),
        (
            &[
                &ka("testdata/marlin/sdk29/TEE_EC_NONE.pem"),
                "--at",
                "2019-10-29T00:21:52Z",
            ],
            "security_level",
        ),
        (
            &[
                &ka("testdata/p256_sha384_intermediate.pem"),
                "--at",
                "2024-10-20T00:00:00Z",
            ],
            "root",
        ),
        (
            &[
                &ka("testdata/invalid/tags_not_in_ascending_order.pem"),
                "--at",
                "2027-09-16T17:26:24Z",
            ],
            "signature",
        ),
    ];
    for (extra, step) in cases {
        let mut args = vec!["attest", "verify", "--platform", "android"];
        args.extend_from_slice(extra);
        let (code, v) = json_run(&args);
        assert_eq!(code, 1, "{step}: {v}");
        assert_eq!(v["verified"], false);
        assert_eq!(v["failed_step"], *step, "{v}");
        assert_eq!(v["challenge_checked"], false);
    }
}

#[test]
fn android_software_root_only_when_allowed() {
    let (code, v) = json_run(&[
        "attest",
        "verify",
        "--platform",
        "android",
        &ka("testdata/marlin/sdk29/TEE_RSA_NONE.pem"),
        "--allow-software-root",
        "--at",
        "2019-10-29T00:21:50Z",
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["security_level"], "software");
    assert_eq!(v["root_kind"], "software");
}

#[test]
fn bad_input_exits_2() {
    let caiman = ka(CAIMAN);
    let roots_json = ka("roots.json");
    let cases: &[&[&str]] = &[
        &["android", "/nonexistent.pem"],
        &["android", &caiman, "--app-id", "X.y"],
        &["android", &caiman, "--at", "soon"],
        &["android", &roots_json, "--at", CAIMAN_AT],
        &[
            "apple",
            &caiman,
            "--app-id",
            "X.y",
            "--client-data-hash",
            "AA==",
        ],
    ];
    for extra in cases {
        let mut args = vec!["attest", "verify", "--platform"];
        args.extend_from_slice(extra);
        assert_eq!(mamori(&args).status.code(), Some(2), "{extra:?}");
    }
}

struct Apple {
    _dir: tempfile::TempDir,
    object_b64: PathBuf,
    object_cbor: PathBuf,
    app_id: String,
    key_id: String,
    client_data_hash: String,
    at: String,
}

impl Apple {
    /// `attest verify --platform apple` on `object` with this vector's key id and time.
    fn verify(&self, object: &Path, app_id: &str, client: [&str; 2]) -> (i32, Value) {
        json_run(&[
            "attest",
            "verify",
            "--platform",
            "apple",
            object.to_str().unwrap(),
            "--app-id",
            app_id,
            "--key-id",
            &self.key_id,
            client[0],
            client[1],
            "--at",
            &self.at,
        ])
    }
}

fn apple(id: &str) -> Apple {
    let v: Value =
        serde_json::from_slice(&fs::read(shared().join("appattest/vectors.json")).unwrap())
            .unwrap();
    let a = v["attestations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let object_b64 = dir.path().join("object.b64");
    let object_cbor = dir.path().join("object.cbor");
    let b64 = a["attestation_object_b64"].as_str().unwrap();
    fs::write(&object_b64, b64).unwrap();
    fs::write(&object_cbor, B64.decode(b64).unwrap()).unwrap();
    Apple {
        _dir: dir,
        object_b64,
        object_cbor,
        app_id: a["app_id"].as_str().unwrap().into(),
        key_id: a["key_id_b64"].as_str().unwrap().into(),
        client_data_hash: a["client_data_hash_b64"].as_str().unwrap().into(),
        at: a["verify_at"].as_str().unwrap().into(),
    }
}

#[test]
fn apple_attestation_base64_and_raw_cbor() {
    let a = apple("node-app-attest-production");
    for object in [&a.object_b64, &a.object_cbor] {
        let (code, v) = a.verify(
            object,
            &a.app_id,
            ["--client-data-hash", &a.client_data_hash],
        );
        assert_eq!(code, 0, "{v}");
        assert_eq!(v["verified"], true);
        assert_eq!(v["failed_step"], Value::Null);
        assert_eq!(v["environment"], "production");
        assert_eq!(v["app_id"], a.app_id);
        assert_eq!(v["key_id_b64"], a.key_id);
        assert_eq!(v["counter"], 0);
    }
    let (code, v) = a.verify(
        &a.object_b64,
        "WURZELPFRO.PF",
        ["--client-data-hash", &a.client_data_hash],
    );
    assert_eq!(code, 1);
    assert_eq!(v["failed_step"], "app_id");
    // The failure keeps the keys the issue names, null.
    for key in ["environment", "app_id", "key_id_b64", "counter"] {
        assert_eq!(v.get(key), Some(&Value::Null), "{key}: {v}");
    }
}

#[test]
fn apple_client_data_file_and_assertion() {
    let a = apple("veehaitch-ios-14.2");
    let dir = tempfile::tempdir().unwrap();
    let client_data = dir.path().join("client-data");
    fs::write(&client_data, b"wurzelpfropf").unwrap();
    let cd = client_data.to_str().unwrap();
    let (code, v) = a.verify(&a.object_b64, &a.app_id, ["--client-data", cd]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["environment"], "development");
    let key = dir.path().join("key.pem");
    fs::write(&key, v["public_key_pem"].as_str().unwrap()).unwrap();

    let vectors: Value =
        serde_json::from_slice(&fs::read(shared().join("appattest/vectors.json")).unwrap())
            .unwrap();
    let s = &vectors["assertions"][0];
    assert_eq!(s["attestation_id"], "veehaitch-ios-14.2");
    let assertion = dir.path().join("assertion.b64");
    fs::write(&assertion, s["assertion_b64"].as_str().unwrap()).unwrap();
    let run = |prev: &str| {
        json_run(&[
            "attest",
            "assert",
            "--platform",
            "apple",
            assertion.to_str().unwrap(),
            "--public-key",
            key.to_str().unwrap(),
            "--app-id",
            &a.app_id,
            "--client-data",
            cd,
            "--previous-counter",
            prev,
        ])
    };
    let (code, v) = run("0");
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["counter"], 1);
    let (code, v) = run("1");
    assert_eq!(code, 1);
    assert_eq!(v["failed_step"], "counter");
}
