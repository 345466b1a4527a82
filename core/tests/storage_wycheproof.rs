//! Wycheproof AES-GCM vectors through Mamori's AEAD layer (`storage::aead`), the
//! same code path envelopes and streams use.

use mamori::storage::AeadKey;
use mamori::storage::StorageError;
use wycheproof::TestResult;
use wycheproof::aead::{TestName, TestSet};

#[test]
fn wycheproof_aes_gcm() {
    let set = TestSet::load(TestName::AesGcm).expect("vectors load");
    let (mut checked, mut refused_params) = (0, 0);
    for group in &set.test_groups {
        for t in &group.tests {
            let supported =
                group.key_size == 256 && group.nonce_size == 96 && group.tag_size == 128;
            let key = AeadKey::new(&t.key);
            if group.key_size != 256 {
                assert!(
                    matches!(key, Err(StorageError::InvalidInput { .. })),
                    "tc {}: non-256-bit key accepted",
                    t.tc_id
                );
                refused_params += 1;
                continue;
            }
            let key = key.unwrap();
            let mut ct_tag = t.ct.to_vec();
            ct_tag.extend_from_slice(&t.tag);
            let opened = key
                .open_in_place(&t.nonce, &t.aad, &mut ct_tag)
                .map(|p| p.to_vec());
            if !supported {
                // Other nonce or tag sizes must never be accepted.
                assert!(
                    opened.is_err(),
                    "tc {}: unsupported parameters accepted",
                    t.tc_id
                );
                refused_params += 1;
                continue;
            }
            match t.result {
                TestResult::Valid | TestResult::Acceptable => {
                    assert_eq!(opened.unwrap(), t.pt.to_vec(), "tc {} open", t.tc_id);
                    let sealed = key.seal(&t.nonce, &t.aad, &t.pt).unwrap();
                    let mut expected = t.ct.to_vec();
                    expected.extend_from_slice(&t.tag);
                    assert_eq!(sealed, expected, "tc {} seal", t.tc_id);
                }
                TestResult::Invalid => {
                    assert!(opened.is_err(), "tc {} ({}) accepted", t.tc_id, t.comment)
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 50, "only {checked} 256-bit/96-bit vectors");
    assert!(refused_params > 0);
    eprintln!(
        "wycheproof AES-GCM: {checked} vectors checked, {refused_params} with unsupported parameters refused"
    );
}
