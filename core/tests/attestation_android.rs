//! Android Key Attestation against the shared real-device vectors
//! (`../shared/testdata/keyattestation/`, from android/keyattestation): every
//! chain verifies with exactly the values its expectation file lists, and
//! the negative cases built from them fail at the step they should.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use mamori::attestation::{
    AndroidError, AndroidOptions, AuthorizationList, GoogleRoots, KeyDescription, Origin,
    Provisioning, RevocationList, RootKind, SecurityLevel, VerifiedBootState, leaf_key_description,
    verify_android_pem,
};
use rustls_pki_types::UnixTime;
use rustls_pki_types::pem::PemObject;
use serde_json::{Map, Value, json};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata/keyattestation")
}

fn read(rel: &str) -> Vec<u8> {
    fs::read(data().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn at(rfc3339: &str) -> UnixTime {
    let t = time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .unwrap();
    UnixTime::since_unix_epoch(Duration::from_secs(t.unix_timestamp() as u64))
}

fn at_ms(ms: u64) -> UnixTime {
    UnixTime::since_unix_epoch(Duration::from_millis(ms))
}

/// The device vectors: every `testdata/<model>/sdk<N>/*.pem` with its `.json`.
fn device_vectors() -> Vec<(String, Vec<u8>, Value)> {
    let mut out = Vec::new();
    for model in fs::read_dir(data().join("testdata")).unwrap() {
        let model = model.unwrap().path();
        if !model.is_dir() || model.ends_with("invalid") {
            continue;
        }
        for sdk in fs::read_dir(&model).unwrap() {
            for f in fs::read_dir(sdk.unwrap().path()).unwrap() {
                let pem = f.unwrap().path();
                if pem.extension().is_some_and(|e| e == "pem") {
                    let json: Value =
                        serde_json::from_slice(&fs::read(pem.with_extension("json")).unwrap())
                            .unwrap();
                    let name = pem.strip_prefix(data()).unwrap().display().to_string();
                    out.push((name, fs::read(&pem).unwrap(), json));
                }
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

// ---- The upstream JSON form of a KeyDescription, built from the parsed value.

fn level(l: SecurityLevel) -> &'static str {
    match l {
        SecurityLevel::Software => "SOFTWARE",
        SecurityLevel::TrustedEnvironment => "TRUSTED_ENVIRONMENT",
        SecurityLevel::StrongBox => "STRONG_BOX",
        _ => unreachable!(),
    }
}

fn upstream_json(kd: &KeyDescription) -> Value {
    json!({
        "attestationVersion": kd.attestation_version.to_string(),
        "attestationSecurityLevel": level(kd.attestation_security_level),
        "keyMintVersion": kd.key_mint_version.to_string(),
        "keyMintSecurityLevel": level(kd.key_mint_security_level),
        "attestationChallenge": B64.encode(&kd.attestation_challenge),
        "uniqueId": B64.encode(&kd.unique_id),
        "softwareEnforced": list_json(&kd.software_enforced),
        "hardwareEnforced": list_json(&kd.hardware_enforced),
    })
}

fn list_json(l: &AuthorizationList) -> Value {
    let mut m = Map::new();
    let mut num = |k: &str, v: Option<u64>| {
        if let Some(v) = v {
            m.insert(k.into(), Value::String(v.to_string()));
        }
    };
    num("algorithms", l.algorithm);
    num("keySize", l.key_size);
    num("ecCurve", l.ec_curve);
    num("mlDsaVariant", l.ml_dsa_variant);
    num("rsaPublicExponent", l.rsa_public_exponent);
    num("activeDateTime", l.active_date_time);
    num("originationExpireDateTime", l.origination_expire_date_time);
    num("usageExpireDateTime", l.usage_expire_date_time);
    num("usageCountLimit", l.usage_count_limit);
    num("userAuthType", l.user_auth_type);
    num("authTimeout", l.auth_timeout);
    num("creationDateTime", l.creation_date_time);
    num("osVersion", l.os_version);
    num("osPatchLevel", l.os_patch_level);
    num("vendorPatchLevel", l.vendor_patch_level);
    num("bootPatchLevel", l.boot_patch_level);
    let mut set = |k: &str, v: &Option<Vec<u64>>| {
        if let Some(v) = v {
            m.insert(k.into(), v.iter().map(|i| i.to_string()).collect());
        }
    };
    set("purposes", &l.purposes);
    set("blockModes", &l.block_modes);
    set("digests", &l.digests);
    set("paddings", &l.paddings);
    set("rsaOaepMgfDigests", &l.rsa_oaep_mgf_digests);
    for (k, v) in [
        ("noAuthRequired", l.no_auth_required),
        ("allowWhileOnBody", l.allow_while_on_body),
        (
            "trustedUserPresenceRequired",
            l.trusted_user_presence_required,
        ),
        (
            "trustedConfirmationRequired",
            l.trusted_confirmation_required,
        ),
        ("unlockedDeviceRequired", l.unlocked_device_required),
        ("rollbackResistant", l.rollback_resistant),
        ("rollbackResistance", l.rollback_resistance),
        ("earlyBootOnly", l.early_boot_only),
        ("allApplications", l.all_applications),
        ("deviceUniqueAttestation", l.device_unique_attestation),
    ] {
        if v {
            m.insert(k.into(), Value::Bool(true));
        }
    }
    for (k, v) in [
        ("attestationIdBrand", &l.attestation_id_brand),
        ("attestationIdDevice", &l.attestation_id_device),
        ("attestationIdProduct", &l.attestation_id_product),
        ("attestationIdSerial", &l.attestation_id_serial),
        ("attestationIdImei", &l.attestation_id_imei),
        ("attestationIdMeid", &l.attestation_id_meid),
        ("attestationIdManufacturer", &l.attestation_id_manufacturer),
        ("attestationIdModel", &l.attestation_id_model),
        ("attestationIdSecondImei", &l.attestation_id_second_imei),
    ] {
        if let Some(v) = v {
            m.insert(k.into(), String::from_utf8(v.clone()).unwrap().into());
        }
    }
    if let Some(v) = &l.module_hash {
        m.insert("moduleHash".into(), B64.encode(v).into());
    }
    if let Some(v) = &l.application_id {
        m.insert("applicationId".into(), B64.encode(v).into());
    }
    if let Some(o) = l.origin {
        let word = match o {
            Origin::Generated => "GENERATED".to_owned(),
            Origin::Derived => "DERIVED".to_owned(),
            Origin::Imported => "IMPORTED".to_owned(),
            Origin::Reserved => "RESERVED".to_owned(),
            Origin::SecurelyImported => "SECURELY_IMPORTED".to_owned(),
            other => format!("{other:?}"),
        };
        m.insert("origin".into(), word.into());
    }
    if let Some(r) = &l.root_of_trust {
        let state = match r.verified_boot_state {
            VerifiedBootState::Verified => "VERIFIED",
            VerifiedBootState::SelfSigned => "SELF_SIGNED",
            VerifiedBootState::Unverified => "UNVERIFIED",
            VerifiedBootState::Failed => "FAILED",
            _ => unreachable!(),
        };
        let mut rot = json!({
            "verifiedBootKey": B64.encode(&r.verified_boot_key),
            "deviceLocked": r.device_locked,
            "verifiedBootState": state,
        });
        if let Some(h) = &r.verified_boot_hash {
            rot["verifiedBootHash"] = B64.encode(h).into();
        }
        m.insert("rootOfTrust".into(), rot);
    }
    if let Some(a) = &l.attestation_application_id {
        m.insert(
            "attestationApplicationId".into(),
            json!({
                "packages": a.packages.iter()
                    .map(|p| json!({"name": p.name, "version": p.version.to_string()}))
                    .collect::<Vec<_>>(),
                "signatures": a.signature_digests.iter().map(|d| B64.encode(d)).collect::<Vec<_>>(),
            }),
        );
    }
    Value::Object(m)
}

fn reported_level(word: &str) -> SecurityLevel {
    match word {
        "SOFTWARE" => SecurityLevel::Software,
        "TRUSTED_ENVIRONMENT" => SecurityLevel::TrustedEnvironment,
        "STRONG_BOX" => SecurityLevel::StrongBox,
        w => panic!("level {w}"),
    }
}

fn creation_ms(json: &Value) -> u64 {
    json["softwareEnforced"]["creationDateTime"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn every_device_chain_verifies_with_the_expected_values() {
    let roots = GoogleRoots::bundled();
    let vectors = device_vectors();
    assert_eq!(
        vectors.len(),
        14,
        "the EXPECTED.md table lists 14 device chains"
    );
    for (name, pem, json) in &vectors {
        let mut opts = AndroidOptions::new(&roots, at_ms(creation_ms(json)));
        opts.allow_software_root = true;
        let a = verify_android_pem(pem, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            upstream_json(&a.key_description),
            *json,
            "{name}: KeyDescription"
        );
        assert!(
            a.key_description.software_enforced.unknown_tags.is_empty(),
            "{name}"
        );
        assert!(
            a.key_description.hardware_enforced.unknown_tags.is_empty(),
            "{name}"
        );
        assert_eq!(
            a.security_level,
            reported_level(json["attestationSecurityLevel"].as_str().unwrap()),
            "{name}"
        );
        let rot = &json["hardwareEnforced"]["rootOfTrust"];
        let (state, locked) = match rot["verifiedBootState"].as_str() {
            Some("VERIFIED") => (VerifiedBootState::Verified, rot["deviceLocked"].as_bool()),
            Some("UNVERIFIED") | None => {
                (VerifiedBootState::Unverified, rot["deviceLocked"].as_bool())
            }
            Some(s) => panic!("{name}: state {s}"),
        };
        assert_eq!(a.verified_boot_state, state, "{name}");
        assert_eq!(a.device_locked, locked.unwrap_or(false), "{name}");
        assert_eq!(
            B64.encode(&a.key_description.attestation_challenge),
            json["attestationChallenge"].as_str().unwrap(),
            "{name}"
        );
        assert!(!a.challenge_checked);
        let (provisioning, kind) = if name.contains("marlin") {
            (Provisioning::Unknown, RootKind::Software)
        } else if name.contains("blueline") {
            (Provisioning::Factory, RootKind::Hardware)
        } else {
            (Provisioning::Remote, RootKind::Hardware)
        };
        assert_eq!(a.provisioning, provisioning, "{name}");
        assert_eq!(a.root_kind, kind, "{name}");
        let hw = &json["hardwareEnforced"];
        let num = |k: &str| hw[k].as_str().map(|s| s.parse::<u64>().unwrap());
        assert_eq!(a.os_version, num("osVersion"), "{name}");
        assert_eq!(a.os_patch_level, num("osPatchLevel"), "{name}");
        assert_eq!(a.vendor_patch_level, num("vendorPatchLevel"), "{name}");
        assert_eq!(a.boot_patch_level, num("bootPatchLevel"), "{name}");
    }
}

#[test]
fn table_values_from_expected_md() {
    // Spot checks of EXPECTED.md section 3, typed in from the table.
    let roots = GoogleRoots::bundled();
    let caiman = read("testdata/caiman/sdk36/SB_EC_RKP.pem");
    let a = verify_android_pem(
        &caiman,
        &AndroidOptions::new(&roots, at("2025-09-26T15:30:46Z")),
    )
    .unwrap();
    assert_eq!(a.security_level, SecurityLevel::StrongBox);
    assert_eq!(a.verified_boot_state, VerifiedBootState::Verified);
    assert!(a.device_locked);
    assert_eq!(a.os_version, Some(160000));
    assert_eq!(a.os_patch_level, Some(202511));
    assert_eq!(a.vendor_patch_level, Some(20251105));
    assert_eq!(a.key_description.attestation_version, 300);
    assert_eq!(
        a.key_description.attestation_challenge,
        b"7ccac1ea-4845-482e-858d-f6fa9aa8c295"
    );
    let app = a.attestation_application_id.unwrap();
    assert_eq!(app.packages[0].name, "com.google.android.attestation");

    let blueline = read("testdata/blueline/sdk28/TEE_RSA_BASE+IMEI.pem");
    let a = verify_android_pem(
        &blueline,
        &AndroidOptions::new(&roots, at("2024-10-20T00:00:00Z")),
    )
    .unwrap();
    let hw = &a.key_description.hardware_enforced;
    assert_eq!(
        hw.attestation_id_imei.as_deref(),
        Some(&b"990012001354866"[..])
    );
    assert_eq!(hw.attestation_id_model.as_deref(), Some(&b"Pixel 3"[..]));
    assert_eq!(hw.attestation_id_serial, None);
    assert_eq!(
        a.attestation_application_id.unwrap().packages[0].name,
        "AndroidSystem"
    );
}

#[test]
fn challenge_is_checked_when_given() {
    let roots = GoogleRoots::bundled();
    let pem = read("testdata/blueline/sdk28/TEE_EC_NONE.pem");
    let mut opts = AndroidOptions::new(&roots, at("2024-10-20T00:00:00Z"));
    opts.challenge = Some(b"challenge");
    assert!(verify_android_pem(&pem, &opts).unwrap().challenge_checked);
    opts.challenge = Some(b"foo");
    let e = verify_android_pem(&pem, &opts).unwrap_err();
    assert_eq!(e, AndroidError::ChallengeMismatch);
    assert_eq!(e.step(), "challenge");
}

#[test]
fn factory_chains_tolerate_expiry_and_rkp_chains_do_not() {
    let roots = GoogleRoots::bundled();
    let blueline = read("testdata/blueline/sdk28/TEE_EC_NONE.pem");
    verify_android_pem(
        &blueline,
        &AndroidOptions::new(&roots, at("2030-01-01T00:00:00Z")),
    )
    .unwrap();
    let caiman = read("testdata/caiman/sdk36/TEE_EC_RKP.pem");
    for time in ["2030-01-01T00:00:00Z", "2026-12-01T00:00:00Z"] {
        let e = verify_android_pem(&caiman, &AndroidOptions::new(&roots, at(time))).unwrap_err();
        assert!(matches!(e, AndroidError::Expired { .. }), "{time}: {e}");
        assert_eq!(e.step(), "validity");
    }
    // The device's root copy repeated: it must not become the top of the
    // path, pass for a factory intermediate and switch expiry off.
    let mut repeated = caiman.clone();
    let last = String::from_utf8_lossy(&caiman)
        .rfind("-----BEGIN")
        .unwrap();
    repeated.push(b'\n');
    repeated.extend_from_slice(&caiman[last..]);
    for time in ["2030-01-01T00:00:00Z", "2025-09-26T16:00:00Z"] {
        let e = verify_android_pem(&repeated, &AndroidOptions::new(&roots, at(time))).unwrap_err();
        assert!(matches!(e, AndroidError::ChainShape(_)), "{time}: {e}");
        assert_eq!(e.step(), "chain");
    }
    // Not yet valid is fatal even in factory chains (intermediates from 2018-07).
    let e = verify_android_pem(
        &blueline,
        &AndroidOptions::new(&roots, at("2018-01-01T00:00:00Z")),
    )
    .unwrap_err();
    assert!(matches!(e, AndroidError::NotYetValid { .. }), "{e}");
}

#[test]
fn software_attestation_needs_permission() {
    let roots = GoogleRoots::bundled();
    let pem = read("testdata/marlin/sdk29/TEE_EC_NONE.pem");
    let opts = AndroidOptions::new(&roots, at("2019-10-29T00:21:52Z"));
    let e = verify_android_pem(&pem, &opts).unwrap_err();
    assert_eq!(e, AndroidError::SoftwareRoot);
    assert_eq!(e.step(), "security_level");
    // Only Google's hardware roots as anchors (roots.json): the software
    // root is still recognised as such, not as unknown.
    let hw = GoogleRoots::from_bytes(&read("roots.json")).unwrap();
    let e = verify_android_pem(&pem, &AndroidOptions::new(&hw, at("2019-10-29T00:21:52Z")))
        .unwrap_err();
    assert_eq!(e.step(), "security_level");
}

#[test]
fn a_flipped_byte_fails_the_signature() {
    let roots = GoogleRoots::bundled();
    let pem = read("testdata/blueline/sdk28/TEE_EC_NONE.pem");
    let mut ders: Vec<Vec<u8>> = rustls_pki_types::CertificateDer::pem_slice_iter(&pem)
        .map(|c| c.unwrap().as_ref().to_vec())
        .collect();
    let opts = AndroidOptions::new(&roots, at("2024-10-20T00:00:00Z"));
    for index in 0..3 {
        let mut chain = ders.clone();
        // The last byte of a certificate is inside its signature value.
        *chain[index].last_mut().unwrap() ^= 0x01;
        let e = mamori::attestation::verify_android(&chain, &opts).unwrap_err();
        if index == 2 {
            // The top intermediate is checked against the roots' keys.
            assert_eq!(e, AndroidError::UntrustedRoot, "cert {index}");
        } else {
            assert!(
                matches!(e, AndroidError::Signature { index: i, .. } if i == index),
                "cert {index}: {e}"
            );
        }
    }
    // A flipped byte in the attested data (inside the leaf's TBS).
    let leaf = &mut ders[0];
    let pos = leaf.windows(9).position(|w| w == b"challenge").unwrap();
    leaf[pos] ^= 0x20;
    let e = mamori::attestation::verify_android(&ders, &opts).unwrap_err();
    assert!(matches!(e, AndroidError::Signature { index: 0, .. }), "{e}");
}

#[test]
fn chain_to_another_root_fails_at_the_root() {
    let pem = read("testdata/p256_sha384_intermediate.pem");
    let google = GoogleRoots::bundled();
    let e = verify_android_pem(
        &pem,
        &AndroidOptions::new(&google, at("2024-10-20T00:00:00Z")),
    )
    .unwrap_err();
    assert_eq!(e, AndroidError::UntrustedRoot);
    assert_eq!(e.step(), "root");
    // With its own root trusted, the path verifies (ECDSA P-256 with
    // SHA-384) and the 6-byte placeholder extension is what fails.
    let last = pem.split(|b| *b == b'\n').collect::<Vec<_>>();
    let begin = last
        .iter()
        .rposition(|l| l.starts_with(b"-----BEGIN"))
        .unwrap();
    let root_pem = last[begin..].join(&b'\n');
    let own = GoogleRoots::from_bytes(&root_pem).unwrap();
    let e = verify_android_pem(&pem, &AndroidOptions::new(&own, at("2024-10-20T00:00:00Z")))
        .unwrap_err();
    assert_eq!(e.step(), "key_description", "{e}");
}

#[test]
fn edited_leaf_with_unordered_tags_is_rejected_but_parses() {
    let roots = GoogleRoots::bundled();
    let pem = read("testdata/invalid/tags_not_in_ascending_order.pem");
    let e = verify_android_pem(
        &pem,
        &AndroidOptions::new(&roots, at("2027-09-16T17:26:24Z")),
    )
    .unwrap_err();
    assert!(matches!(e, AndroidError::Signature { index: 0, .. }), "{e}");
    let leaf = rustls_pki_types::CertificateDer::pem_slice_iter(&pem)
        .next()
        .unwrap()
        .unwrap();
    let kd = leaf_key_description(leaf.as_ref()).unwrap();
    assert!(!kd.hardware_enforced.tags_in_order);
    assert!(kd.software_enforced.tags_in_order);
    assert_eq!(kd.attestation_version, 300);
    assert_eq!(kd.attestation_challenge, b"challenge");
    assert_eq!(kd.hardware_enforced.os_patch_level, Some(202408));
}

#[test]
fn single_leaf_parses_but_has_no_chain() {
    let pem = read("testdata/allow_while_on_body.pem");
    let roots = GoogleRoots::bundled();
    let e = verify_android_pem(
        &pem,
        &AndroidOptions::new(&roots, at("2025-04-01T00:00:00Z")),
    )
    .unwrap_err();
    assert_eq!(e, AndroidError::ChainTooShort);
    let leaf = rustls_pki_types::CertificateDer::from_pem_slice(&pem).unwrap();
    let kd = leaf_key_description(leaf.as_ref()).unwrap();
    assert!(kd.software_enforced.allow_while_on_body);
    assert_eq!(
        B64.encode(&kd.attestation_challenge),
        "Bh3iGX9iAP+Mg7R3lwUIuw=="
    );
    assert_eq!(kd.attestation_version, 3);
    let rot = kd.hardware_enforced.root_of_trust.unwrap();
    assert!(rot.device_locked);
    assert_eq!(rot.verified_boot_state, VerifiedBootState::Verified);
    assert_eq!(kd.hardware_enforced.os_version, Some(110000));
    assert_eq!(kd.hardware_enforced.os_patch_level, Some(202212));
    assert_eq!(kd.hardware_enforced.vendor_patch_level, Some(20221205));
    assert_eq!(kd.hardware_enforced.boot_patch_level, Some(20221205));
}

#[test]
fn revocation_list_sample() {
    let bytes = read("revocation/status.json");
    let list = RevocationList::from_json(&bytes).unwrap();
    assert_eq!(list.len(), 5);
    let suspended = list.entry("cc66e9a93713b6e643b26c15879786f7").unwrap();
    assert_eq!(suspended.status, "SUSPENDED");
    assert_eq!(suspended.comment.as_deref(), Some("Entry for testing only"));
    assert!(list.revoked("cc66e9a93713b6e643b26c15879786f7").is_none());
    assert_eq!(
        list.revoked("8350192447815228107")
            .unwrap()
            .reason
            .as_deref(),
        Some("KEY_COMPROMISE")
    );
    assert!(list.entry("badbeef").is_none());
    assert_eq!(
        list.sha256().as_slice(),
        ring::digest::digest(&ring::digest::SHA256, &bytes).as_ref()
    );

    // No shared chain is listed: all still verify, and the list is recorded.
    let roots = GoogleRoots::bundled();
    for (name, pem, json) in device_vectors() {
        let mut opts = AndroidOptions::new(&roots, at_ms(creation_ms(&json)));
        opts.allow_software_root = true;
        opts.revocation = Some(&list);
        let a = verify_android_pem(&pem, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(a.revocation_list_sha256, Some(list.sha256()));
    }
}

#[test]
fn a_revoked_serial_fails_revocation() {
    // The blueline TEE_EC_NONE attestation certificate's serial is
    // 05:01:41:31:95:08:68:98:30:53 (openssl): hex, although all digits.
    let list = RevocationList::from_json(
        br#"{"entries": {"5014131950868983053": {"status": "REVOKED", "reason": "KEY_COMPROMISE"}}}"#,
    )
    .unwrap();
    let roots = GoogleRoots::bundled();
    let pem = read("testdata/blueline/sdk28/TEE_EC_NONE.pem");
    let mut opts = AndroidOptions::new(&roots, at("2024-10-20T00:00:00Z"));
    opts.revocation = Some(&list);
    let e = verify_android_pem(&pem, &opts).unwrap_err();
    assert_eq!(
        e,
        AndroidError::Revoked {
            index: 1,
            serial: "5014131950868983053".into(),
            reason: Some("KEY_COMPROMISE".into()),
        }
    );
    assert_eq!(e.step(), "revocation");
    // The same serial SUSPENDED does not revoke.
    let suspended = RevocationList::from_json(
        br#"{"entries": {"5014131950868983053": {"status": "SUSPENDED"}}}"#,
    )
    .unwrap();
    opts.revocation = Some(&suspended);
    verify_android_pem(&pem, &opts).unwrap();
}

#[test]
fn bundled_roots_are_googles_published_roots() {
    let published: Vec<Vec<u8>> = serde_json::from_slice::<Vec<String>>(&read("roots.json"))
        .unwrap()
        .iter()
        .map(|p| {
            rustls_pki_types::CertificateDer::from_pem_slice(p.as_bytes())
                .unwrap()
                .as_ref()
                .to_vec()
        })
        .collect();
    let software: Vec<Vec<u8>> =
        rustls_pki_types::CertificateDer::pem_slice_iter(&read("software_roots.pem"))
            .map(|c| c.unwrap().as_ref().to_vec())
            .collect();
    let bundled = GoogleRoots::bundled();
    let hw: Vec<Vec<u8>> = bundled
        .roots()
        .filter(|(_, k)| *k == RootKind::Hardware)
        .map(|(d, _)| d.to_vec())
        .collect();
    let sw: Vec<Vec<u8>> = bundled
        .roots()
        .filter(|(_, k)| *k == RootKind::Software)
        .map(|(d, _)| d.to_vec())
        .collect();
    assert_eq!(hw, published);
    assert_eq!(sw, software);
}

#[test]
fn hostile_input_fails_cleanly() {
    let roots = GoogleRoots::bundled();
    let opts = AndroidOptions::new(&roots, at("2024-10-20T00:00:00Z"));
    let one = read("testdata/blueline/sdk28/TEE_EC_NONE.pem");
    let many: Vec<u8> = std::iter::repeat_n(one.as_slice(), 3)
        .flatten()
        .copied()
        .collect();
    assert_eq!(
        verify_android_pem(&many, &opts).unwrap_err().step(),
        "input"
    );
    assert_eq!(
        verify_android_pem(b"not pem", &opts).unwrap_err().step(),
        "input"
    );
    let truncated = vec![vec![0x30, 0x82, 0x01, 0x00, 0x02], vec![0x30, 0x00]];
    assert_eq!(
        mamori::attestation::verify_android(&truncated, &opts)
            .unwrap_err()
            .step(),
        "certificate"
    );
}

/// A leaf whose own key is ML-DSA-44 (as KeyMint 500 issues on SDK 37):
/// ring cannot use that key, and does not need to. The chain is synthetic
/// (rcgen root and intermediate; the leaf's TBS written with yasna and
/// signed with ring) and carries the real KeyDescription of a caiman leaf.
#[test]
fn a_leaf_with_an_ml_dsa_key_still_verifies() {
    use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};
    use yasna::models::ObjectIdentifier;

    let mut root_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    root_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    root_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Test Root");
    let root_key = rcgen::KeyPair::generate().unwrap();
    let root = root_params.self_signed(&root_key).unwrap();
    let root_issuer = rcgen::Issuer::new(root_params, root_key);
    let mut int_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    int_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    int_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Test Attestation");
    let int_key = rcgen::KeyPair::generate().unwrap();
    let intermediate = int_params.signed_by(&int_key, &root_issuer).unwrap();

    let (_, int_cert) = x509_parser::parse_x509_certificate(intermediate.der()).unwrap();
    let caiman = read("testdata/caiman/sdk36/TEE_EC_RKP.pem");
    let caiman_leaf = rustls_pki_types::CertificateDer::from_pem_slice(&caiman).unwrap();
    let (_, caiman_cert) = x509_parser::parse_x509_certificate(caiman_leaf.as_ref()).unwrap();
    let kd_oid: x509_parser::oid_registry::Oid = "1.3.6.1.4.1.11129.2.1.17".parse().unwrap();
    let kd = caiman_cert
        .extensions()
        .iter()
        .find(|e| e.oid == kd_oid)
        .unwrap()
        .value;

    let oid = |arcs: &[u64]| ObjectIdentifier::from_slice(arcs);
    let ecdsa_sha256 = oid(&[1, 2, 840, 10045, 4, 3, 2]);
    let utc = |s: &[u8]| [&[0x17, 13][..], s].concat();
    let ml_dsa_key = vec![0x5a; 1312];
    let tbs = yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next()
                .write_tagged(yasna::Tag::context(0), |w| w.write_u8(2));
            w.next().write_u8(1);
            w.next()
                .write_sequence(|w| w.next().write_oid(&ecdsa_sha256));
            w.next().write_der(int_cert.subject().as_raw());
            w.next().write_sequence(|w| {
                w.next().write_der(&utc(b"700101000000Z"));
                w.next().write_der(&utc(b"491231235959Z"));
            });
            w.next().write_sequence(|w| {
                w.next().write_set(|w| {
                    w.next().write_sequence(|w| {
                        w.next().write_oid(&oid(&[2, 5, 4, 3]));
                        w.next().write_utf8_string("Android Keystore Key");
                    })
                })
            });
            w.next().write_sequence(|w| {
                w.next().write_sequence(|w| {
                    w.next().write_oid(&oid(&[2, 16, 840, 1, 101, 3, 4, 3, 17]))
                });
                w.next()
                    .write_bitvec_bytes(&ml_dsa_key, ml_dsa_key.len() * 8);
            });
            w.next().write_tagged(yasna::Tag::context(3), |w| {
                w.write_sequence(|w| {
                    w.next().write_sequence(|w| {
                        w.next()
                            .write_oid(&oid(&[1, 3, 6, 1, 4, 1, 11129, 2, 1, 17]));
                        w.next().write_bytes(kd);
                    })
                })
            });
        })
    });
    let signer = EcdsaKeyPair::from_pkcs8(
        &ECDSA_P256_SHA256_ASN1_SIGNING,
        &int_key.serialize_der(),
        &ring::rand::SystemRandom::new(),
    )
    .unwrap();
    let sig = signer.sign(&ring::rand::SystemRandom::new(), &tbs).unwrap();
    let leaf = yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next().write_der(&tbs);
            w.next()
                .write_sequence(|w| w.next().write_oid(&ecdsa_sha256));
            w.next()
                .write_bitvec_bytes(sig.as_ref(), sig.as_ref().len() * 8);
        })
    });

    let roots = GoogleRoots::from_bytes(root.pem().as_bytes()).unwrap();
    let chain = vec![
        leaf.clone(),
        intermediate.der().to_vec(),
        root.der().to_vec(),
    ];
    let opts = AndroidOptions::new(&roots, at("2026-01-01T00:00:00Z"));
    let a = mamori::attestation::verify_android(&chain, &opts).unwrap();
    assert_eq!(a.key_description.attestation_version, 400);
    assert!(
        a.leaf_public_key
            .windows(ml_dsa_key.len())
            .any(|w| w == ml_dsa_key)
    );
    // And the same leaf with a flipped signature byte fails, so the
    // signature was really checked.
    let mut bad = chain.clone();
    *bad[0].last_mut().unwrap() ^= 1;
    assert_eq!(
        mamori::attestation::verify_android(&bad, &opts)
            .unwrap_err()
            .step(),
        "signature"
    );
}

/// What an attested fact rests on is in its evidence: whether the challenge
/// was checked, and which revocation list (by hash) was applied. A
/// software-level attestation gives no attested fact at all.
#[test]
fn attested_facts_record_the_checks_and_software_gives_none() {
    use mamori::device::{DeviceFacts, android_attested_facts};
    let roots = GoogleRoots::bundled();
    let caiman = read("testdata/caiman/sdk36/TEE_EC_RKP.pem");
    let list = RevocationList::from_json(&read("revocation/status.json")).unwrap();
    let mut opts = AndroidOptions::new(&roots, at("2025-09-26T15:31:21Z"));
    let detail = |opts: &AndroidOptions<'_>| {
        let facts = android_attested_facts(&verify_android_pem(&caiman, opts).unwrap());
        facts.keystore_level.evidence[0].detail.clone().unwrap()
    };
    assert_eq!(
        detail(&opts),
        "challenge NOT checked (replayable); no revocation list applied"
    );
    opts.challenge = Some(b"d688d763-6118-4ca6-94b2-e6cd9ed7e4e4");
    opts.revocation = Some(&list);
    assert_eq!(
        detail(&opts),
        format!(
            "challenge checked; revocation list sha256 {}",
            hex::encode(list.sha256())
        )
    );

    let marlin = read("testdata/marlin/sdk29/TEE_EC_NONE.pem");
    let mut opts = AndroidOptions::new(&roots, at("2019-10-29T00:21:52Z"));
    opts.allow_software_root = true;
    let software = android_attested_facts(&verify_android_pem(&marlin, &opts).unwrap());
    assert!(software.attested().is_empty(), "{:?}", software.attested());
    assert_eq!(
        software,
        DeviceFacts::new(mamori::device::DevicePlatform::Android)
    );
}

/// `DeviceFacts::from_json` reads what a device sent: evidence claiming an
/// attestation, and `attestation.*` indicators, are dropped;
/// `from_stored_json` (a snapshot the server stored itself) keeps them.
#[test]
fn device_facts_cannot_attest_themselves() {
    use mamori::device::DeviceFacts;
    let json = r#"{"schema":1,"platform":"android",
        "security_patch":{"state":"present","value":"2026-11-05",
            "evidence":[{"source":"attestation","property":"KeyDescription.osPatchLevel"}]},
        "indicators":[{"id":"attestation.android.verified_boot","class":"root","strength":"strong",
            "state":"absent","evidence":[{"source":"attestation"}]}]}"#;
    let sent = DeviceFacts::from_json(json).unwrap();
    assert!(sent.attested().is_empty(), "{:?}", sent.attested());
    assert!(sent.indicators.is_empty());
    assert_eq!(sent.security_patch.value.as_deref(), Some("2026-11-05"));
    let stored = DeviceFacts::from_stored_json(json).unwrap();
    assert_eq!(
        stored.attested(),
        ["attestation.android.verified_boot", "security_patch"]
    );
}
