//! Known-answer SPKI pins: Mamori's pin of a certificate equals what the
//! `openssl` CLI computes with the pipeline every pinning guide gives
//! (`x509 -pubkey | pkey -pubin -outform der | dgst -sha256 -binary | base64`).
//!
//! Keys and certificates are made by openssl itself into a temporary
//! directory, and the expected pin comes from a real shell pipeline of
//! openssl processes: nothing in the expected value is computed by Mamori.

use std::path::Path;
use std::process::Command;

use mamori::pinning::Pin;
use mamori::pinning::certificates_from_bytes;

/// Makes a self-signed certificate with a fresh key via `openssl req`.
fn openssl_cert(dir: &Path, name: &str, newkey: &[&str]) -> (String, String) {
    let pem = dir.join(format!("{name}.pem"));
    let der = dir.join(format!("{name}.der"));
    let key = dir.join(format!("{name}.key"));
    let mut args = vec!["req", "-x509", "-nodes", "-days", "30", "-subj"];
    let subj = format!("/CN={name}.example.com");
    args.push(&subj);
    args.extend_from_slice(newkey);
    let (pem_s, der_s, key_s) = (
        pem.to_str().unwrap(),
        der.to_str().unwrap(),
        key.to_str().unwrap(),
    );
    args.extend_from_slice(&["-keyout", key_s, "-out", pem_s]);
    let status = Command::new("openssl").args(&args).output().unwrap();
    assert!(
        status.status.success(),
        "openssl req: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    let status = Command::new("openssl")
        .args(["x509", "-in", pem_s, "-outform", "der", "-out", der_s])
        .output()
        .unwrap();
    assert!(status.status.success());
    (pem_s.to_owned(), der_s.to_owned())
}

/// The documented pipeline, run by `sh` as a user would type it.
fn openssl_pin(cert_pem: &str) -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg(
            "openssl x509 -in \"$1\" -pubkey -noout \
             | openssl pkey -pubin -outform der \
             | openssl dgst -sha256 -binary \
             | base64",
        )
        .arg("sh")
        .arg(cert_pem)
        .output()
        .expect("sh runs");
    assert!(
        out.status.success(),
        "pipeline failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let b64 = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(b64.len(), 44, "a base64 SHA-256 is 44 characters: {b64:?}");
    b64
}

fn check(name: &str, newkey: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let (pem_path, der_path) = openssl_cert(dir.path(), name, newkey);
    let expected = openssl_pin(&pem_path);

    let der = std::fs::read(&der_path).unwrap();
    let pin = Pin::of_certificate(&der).unwrap();
    assert_eq!(pin.base64(), expected, "{name}: DER certificate");
    assert_eq!(pin.to_string(), format!("sha256/{expected}"));
    assert_eq!(Pin::parse(&format!("sha256/{expected}")).unwrap(), pin);

    // The same certificate read from its PEM file.
    let from_pem = certificates_from_bytes(&std::fs::read(&pem_path).unwrap()).unwrap();
    assert_eq!(from_pem, vec![der.clone()]);
    assert_eq!(Pin::of_certificate(&from_pem[0]).unwrap(), pin);
}

#[test]
fn rsa_2048() {
    check("rsa2048", &["-newkey", "rsa:2048"]);
}

#[test]
fn rsa_4096() {
    check("rsa4096", &["-newkey", "rsa:4096"]);
}

#[test]
fn ecdsa_p256() {
    check(
        "p256",
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
    );
}

#[test]
fn ecdsa_p384() {
    check(
        "p384",
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"],
    );
}

#[test]
fn ed25519() {
    check("ed25519", &["-newkey", "ed25519"]);
}

/// The pin is of the key, not the certificate: two certificates for the same
/// key (a renewal) have one pin, which is what makes a backup pin for a spare
/// key work (BP-5).
#[test]
fn renewal_with_the_same_key_keeps_the_pin() {
    let dir = tempfile::tempdir().unwrap();
    let (first_pem, first_der) = openssl_cert(dir.path(), "first", &["-newkey", "rsa:2048"]);
    let key = dir.path().join("first.key");
    let renewed = dir.path().join("renewed.pem");
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-days",
            "90",
            "-subj",
            "/CN=renewed.example.com",
        ])
        .arg("-key")
        .arg(&key)
        .arg("-out")
        .arg(&renewed)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a = std::fs::read(&first_der).unwrap();
    let b = certificates_from_bytes(&std::fs::read(&renewed).unwrap()).unwrap();
    assert_ne!(a, b[0], "two different certificates");
    assert_eq!(
        Pin::of_certificate(&a).unwrap(),
        Pin::of_certificate(&b[0]).unwrap()
    );
    assert_eq!(
        Pin::of_certificate(&b[0]).unwrap().base64(),
        openssl_pin(&first_pem)
    );
}
