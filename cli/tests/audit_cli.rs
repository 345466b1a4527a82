//! `mamori convert` and `mamori audit`, run as a real process on real files,
//! with real TLS on loopback for `--live`.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod common;
use common::{mamori_in, repo, stderr, stdout, write};

const A: &str = "K87oWBWM9UZfyddvDfoxL+8lpNyoUB2ptGtn0fv6G2Q=";
const B: &str = "PL1/TTDEe9Cm2lb2X0tixyQC7zaPREm/V0IHJscTCmw=";

fn one_pin_nsc() -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<network-security-config>\n  <domain-config>\n    <domain>a.example.com</domain>\n    <pin-set>\n      <pin digest=\"SHA-256\">{A}</pin>\n    </pin-set>\n  </domain-config>\n</network-security-config>\n"
    )
}

#[test]
fn convert_okhttp_to_mamori_json() {
    let dir = repo();
    let o = mamori_in(
        &dir,
        &[
            "convert",
            "--to",
            "json",
            "tests/data/audit/okhttp-pins.txt",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let got: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let expected = json!({
        "version": 1,
        "profile": "default",
        "on_expiry": "fail-open",
        "domain": [
            {
                "host": "api.example.com",
                "include_subdomains": false,
                "pins": [format!("sha256/{A}"), format!("sha256/{B}")],
                "report_only": false
            },
            {
                "host": "**.cdn.example.com",
                "include_subdomains": false,
                "pins": ["sha256/NDCIt6TrQnfOk+lquunrmlPQB3K/7CLOCmSS5kW+KCc=", format!("sha256/{A}")],
                "report_only": false
            }
        ]
    });
    assert_eq!(got, expected);
}

#[test]
fn convert_nsc_to_mamori_toml_notes_the_time_zone() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "nsc.xml",
        format!(
            "<network-security-config><domain-config><domain includeSubdomains=\"true\">api.example.com</domain><pin-set expiration=\"2027-06-30\"><pin digest=\"SHA-256\">{A}</pin><pin digest=\"SHA-256\">{B}</pin></pin-set></domain-config></network-security-config>"
        ),
    );
    let o = mamori_in(
        tmp.path(),
        &["convert", "--from", "nsc", "--to", "mamori", "nsc.xml"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let got: toml::Value = toml::from_str(&stdout(&o)).unwrap();
    let expected: toml::Value = toml::from_str(&format!(
        "version = 1\nprofile = \"default\"\non_expiry = \"fail-open\"\n[[domain]]\nhost = \"api.example.com\"\ninclude_subdomains = true\npins = [\"sha256/{A}\", \"sha256/{B}\"]\nexpires = \"2027-06-30\"\nreport_only = false\n"
    ))
    .unwrap();
    assert_eq!(got, expected);
    assert!(stderr(&o).contains("note: api.example.com: expiry 2027-06-30 was device-local midnight (NSC); Mamori reads it as 00:00 UTC"), "{}", stderr(&o));
    // And back to NSC.
    let o = mamori_in(tmp.path(), &["convert", "--to", "nsc", "nsc.xml"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains(&format!("<pin digest=\"SHA-256\">{B}</pin>")));
    assert!(stdout(&o).contains("<pin-set expiration=\"2027-06-30\">"));
}

#[test]
fn convert_keeps_pins_that_can_never_match_out_and_says_so() {
    let dir = repo();
    let o = mamori_in(
        &dir,
        &[
            "convert",
            "--to",
            "nsc",
            "tests/data/audit/ats-unmatchable.plist",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    // Only the one real pin survives; the unpadded one (refused by Apple's
    // decoder) and the 30-byte one are left out, each with a note.
    assert!(
        out.contains("PL1/TTDEe9Cm2lb2X0tixyQC7zaPREm/V0IHJscTCmw="),
        "{out}"
    );
    assert!(!out.contains("K87oWBWM"), "{out}");
    assert!(!out.contains("NDCIt6Tr"), "{out}");
    let err = stderr(&o);
    assert!(
        err.contains("note: tests/data/audit/ats-unmatchable.plist:17: api.example.com: pin \"K87oWBWM9UZfyddvDfoxL+8lpNyoUB2ptGtn0fv6G2Q\" left out: it can never match"),
        "{err}"
    );
    assert!(
        err.contains("note: tests/data/audit/ats-unmatchable.plist:31: legacy.example.com: pin \"NDCIt6TrQnfOk+lquunrmlPQB3K/7CLOCmSS5kW+\" left out: it can never match (it decodes to 30 bytes; a SHA-256 hash has 32; read by Data(base64Encoded:))"),
        "{err}"
    );
    // Lenient NSC pins are written canonically, with a note each.
    let o = mamori_in(
        &dir,
        &[
            "convert",
            "--to",
            "mamori",
            "tests/data/audit/nsc-lenient-pins.xml",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("\"sha256/K87oWBWM9UZfyddvDfoxL+8lpNyoUB2ptGtn0fv6G2Q=\""),
        "{}",
        stdout(&o)
    );
    assert_eq!(stderr(&o).matches("written in canonical form").count(), 3);
}

#[test]
fn convert_refuses_what_the_platform_refuses() {
    let dir = repo();
    let bad3 = "../shared/testdata/nsc-aosp/xml/bad_config3.xml";
    let o = mamori_in(&dir, &["convert", "--to", "mamori", bad3]);
    assert_eq!(o.status.code(), Some(2));
    let line = std::fs::read_to_string(dir.join(bad3))
        .unwrap()
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("<domain>android.com"))
        .nth(1)
        .unwrap()
        .0
        + 1;
    assert_eq!(
        stderr(&o).trim(),
        format!(
            "mamori convert: {bad3}:{line}: Android refuses this configuration: Duplicate domain name android.com"
        )
    );
    let o = mamori_in(
        &dir,
        &[
            "convert",
            "--to",
            "nsc",
            "tests/data/audit/trustkit-one-pin.json",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("TrustKit refuses this configuration"));
    let o = mamori_in(&dir, &["convert", "--to", "nsc", "no-such-file.xml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no-such-file.xml: cannot read"));
    let o = mamori_in(
        &dir,
        &["convert", "--to", "yaml", "tests/data/audit/policy.toml"],
    );
    assert_eq!(o.status.code(), Some(2), "clap usage errors exit 2");
}

#[test]
fn audit_text_table_golden() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "nsc.xml", one_pin_nsc());
    let o = mamori_in(tmp.path(), &["audit", "--at", "2026-06-01", "nsc.xml"]);
    assert_eq!(o.status.code(), Some(1));
    let expected = "\
SEVERITY  RULE                GUIDELINE  LOCATION   MESSAGE
high      PIN-BACKUP-MISSING  BP-5       nsc.xml:4  a.example.com is pinned to a single key
info      PIN-NO-EXPIRY       BP-5       nsc.xml:4  a.example.com: pins never expire
2 findings (1 high, 1 info) in 1 configuration, 1 domain, 0 chains checked, at 2026-06-01
";
    assert_eq!(stdout(&o), expected);
    let o = mamori_in(
        tmp.path(),
        &["audit", "--lang", "ja", "--at", "2026-06-01", "nsc.xml"],
    );
    let ja = stdout(&o);
    assert!(
        ja.contains("a.example.com は単一の鍵にピン留めされています"),
        "{ja}"
    );
    assert!(ja.ends_with("指摘 2 件 (1 高, 1 情報): 設定 1 件、ドメイン 1 件、チェーン 0 件を確認 (監査日 2026-06-01)\n"), "{ja}");
}

#[test]
fn audit_exit_codes_follow_fail_on() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "nsc.xml", one_pin_nsc());
    let code = |args: &[&str]| mamori_in(tmp.path(), args).status.code();
    assert_eq!(
        code(&[
            "audit",
            "--at",
            "2026-06-01",
            "--fail-on",
            "high",
            "nsc.xml"
        ]),
        Some(1)
    );
    assert_eq!(
        code(&[
            "audit",
            "--at",
            "2026-06-01",
            "--fail-on",
            "critical",
            "nsc.xml"
        ]),
        Some(0)
    );
    assert_eq!(
        code(&[
            "audit",
            "--at",
            "2026-06-01",
            "--fail-on",
            "never",
            "nsc.xml"
        ]),
        Some(0)
    );
    assert_eq!(
        code(&[
            "audit",
            "--at",
            "2026-06-01",
            "--fail-on",
            "info",
            "nsc.xml"
        ]),
        Some(1)
    );
    assert_eq!(code(&["audit", "--fail-on", "severe", "nsc.xml"]), Some(2));
    assert_eq!(code(&["audit", "--at", "June", "nsc.xml"]), Some(2));
    assert_eq!(code(&["audit", "--chain", "nohost", "nsc.xml"]), Some(2));
    assert_eq!(code(&["audit"]), Some(2));
    write(
        tmp.path(),
        "bad.xml",
        "<network-security-config><base-config><domain>x.com</domain></base-config></network-security-config>",
    );
    let o = mamori_in(tmp.path(), &["audit", "bad.xml"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o).trim(),
        "mamori audit: bad.xml:1: Android refuses this configuration: domain element not allowed in base-config"
    );
}

#[test]
fn audit_json_output() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "nsc.xml", one_pin_nsc());
    let o = mamori_in(
        tmp.path(),
        &["audit", "--format", "json", "--at", "2026-06-01", "nsc.xml"],
    );
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["at"], "2026-06-01");
    assert_eq!(
        v["summary"],
        json!({"critical": 0, "high": 1, "medium": 0, "low": 0, "info": 1, "total": 2})
    );
    assert_eq!(
        v["findings"][0],
        json!({
            "rule": "PIN-BACKUP-MISSING",
            "severity": "high",
            "guideline": "BP-5",
            "mastg": [],
            "maswe": "MASWE-0047",
            "file": "nsc.xml",
            "line": 4,
            "host": "a.example.com",
            "title": "No backup pin",
            "message": "a.example.com is pinned to a single key"
        })
    );
    assert_eq!(
        v["configs"][0],
        json!({"file": "nsc.xml", "format": "nsc", "platform": "android", "domains": 1, "pinned_domains": 1})
    );
}

fn sarif_validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("tests/data/audit/sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    jsonschema::draft4::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles")
}

#[test]
fn sarif_output_validates_against_the_sarif_2_1_0_schema() {
    let validator = sarif_validator();
    let dir = repo();
    for lang in ["en", "ja"] {
        let o = mamori_in(
            &dir,
            &[
                "audit",
                "--format",
                "sarif",
                "--lang",
                lang,
                "--at",
                "2026-11-25",
                "examples/audit/network_security_config.xml",
                "examples/audit/Info.plist",
            ],
        );
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&v)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
        let results = v["runs"][0]["results"].as_array().unwrap();
        assert!(!results.is_empty());
        let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), mamori::audit::rules().len());
        for r in results {
            let idx = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[idx]["id"], r["ruleId"]);
        }
        let backup = results
            .iter()
            .find(|r| r["ruleId"] == "PIN-BACKUP-MISSING")
            .unwrap();
        assert_eq!(backup["level"], "error");
        assert_eq!(
            backup["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "examples/audit/network_security_config.xml"
        );
        assert_eq!(
            backup["locations"][0]["physicalLocation"]["region"]["startLine"],
            23
        );
    }
    // The validator does reject a broken log (so the check above can fail).
    let broken = json!({"version": "2.0.0", "runs": []});
    assert!(!validator.is_valid(&broken));
}

#[test]
fn audit_of_an_android_ios_pair_flags_cross_platform_gaps() {
    let dir = repo();
    let o = mamori_in(
        &dir,
        &[
            "audit",
            "--format",
            "json",
            "--at",
            "2026-11-25",
            "examples/audit/network_security_config.xml",
            "examples/audit/Info.plist",
        ],
    );
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let rules: Vec<(&str, &str)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap(),
                f["host"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(
        rules.contains(&("XPLAT-UNPINNED", "pay.example-bank.co.jp")),
        "{rules:?}"
    );
    assert!(rules.contains(&("EXPIRY-TIMEZONE", "api.example-bank.co.jp")));
    assert!(rules.contains(&("REPORT-URI-INSECURE", "api.example-bank.co.jp")));
    assert!(rules.contains(&("TRUST-USER-CA", "campaign.example-bank.co.jp")));
}

// --- chains: offline and live ---

struct Pki {
    ca_pin: String,
    leaf_der: Vec<u8>,
    ca_der: Vec<u8>,
    leaf_key: Vec<u8>,
}

fn pki(host: &str) -> Pki {
    use mamori_tests::{KeyKind, LeafSpec, leaf_cert, root_ca};
    let ca = root_ca("Audit Test CA", KeyKind::P256);
    let leaf = leaf_cert(&LeafSpec::new(&[host]), &ca);
    Pki {
        ca_pin: mamori::pinning::Pin::of_certificate(&ca.der)
            .unwrap()
            .base64(),
        leaf_der: leaf.der.to_vec(),
        ca_der: ca.der.to_vec(),
        leaf_key: leaf.key.as_ref().expect("leaf key").serialize_der(),
    }
}

fn pem(ders: &[&[u8]]) -> String {
    ders.iter().map(|d| mamori::pinning::to_pem(d)).collect()
}

fn nsc_for(host: &str, pins: &[&str]) -> String {
    let p: String = pins
        .iter()
        .map(|p| format!("<pin digest=\"SHA-256\">{p}</pin>"))
        .collect();
    format!(
        "<network-security-config><domain-config><domain>{host}</domain><pin-set>{p}</pin-set></domain-config></network-security-config>"
    )
}

#[test]
fn offline_chain_check() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = pki("a.example.com");
    write(tmp.path(), "chain.pem", pem(&[&pki.leaf_der, &pki.ca_der]));
    write(
        tmp.path(),
        "good.xml",
        nsc_for("a.example.com", &[&pki.ca_pin, B]),
    );
    write(tmp.path(), "stale.xml", nsc_for("a.example.com", &[A, B]));
    let o = mamori_in(
        tmp.path(),
        &[
            "audit",
            "--format",
            "json",
            "--fail-on",
            "critical",
            "--chain",
            "a.example.com=chain.pem",
            "good.xml",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let o = mamori_in(
        tmp.path(),
        &[
            "audit",
            "--format",
            "json",
            "--fail-on",
            "critical",
            "--chain",
            "a.example.com=chain.pem",
            "stale.xml",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["findings"][0]["rule"], "PIN-CHAIN-MISMATCH");
    assert_eq!(
        v["findings"][0]["message"],
        "a.example.com: no configured pin matches the chain from chain.pem"
    );
    let o = mamori_in(
        tmp.path(),
        &["audit", "--chain", "a.example.com=missing.pem", "good.xml"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("missing.pem"), "{}", stderr(&o));
}

/// A loopback TLS server that serves `leaf, ca` to one client, on a thread.
fn tls_server(pki: &Pki) -> u16 {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![
                CertificateDer::from(pki.leaf_der.clone()),
                CertificateDer::from(pki.ca_der.clone()),
            ],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.leaf_key.clone())),
        )
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for _ in 0..2 {
            let Ok((mut sock, _)) = listener.accept() else {
                return;
            };
            sock.set_read_timeout(Some(Duration::from_secs(5))).ok();
            let mut conn = rustls::ServerConnection::new(config.clone()).unwrap();
            while conn.is_handshaking() {
                if conn.complete_io(&mut sock).is_err() {
                    break;
                }
            }
        }
    });
    port
}

#[test]
fn live_chain_over_loopback_tls() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = pki("localhost");
    let port = tls_server(&pki);
    let live = format!("127.0.0.1:{port}");
    // The chain is fetched for host 127.0.0.1; pin the config on that name.
    write(
        tmp.path(),
        "good.xml",
        nsc_for("127.0.0.1", &[&pki.ca_pin, B]),
    );
    write(tmp.path(), "stale.xml", nsc_for("127.0.0.1", &[A, B]));
    let o = mamori_in(
        tmp.path(),
        &[
            "audit",
            "--format",
            "json",
            "--fail-on",
            "critical",
            "--live",
            &live,
            "good.xml",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["chains"][0]["source"], format!("live 127.0.0.1:{port}"));
    assert_eq!(v["chains"][0]["pins"][1], format!("sha256/{}", pki.ca_pin));
    let o = mamori_in(
        tmp.path(),
        &[
            "audit",
            "--format",
            "json",
            "--fail-on",
            "critical",
            "--live",
            &live,
            "stale.xml",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["findings"][0]["rule"], "PIN-CHAIN-MISMATCH");
}

#[test]
fn live_closed_port_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "c.xml", nsc_for("127.0.0.1", &[A, B]));
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    }; // closed again
    let start = Instant::now();
    let o = mamori_in(
        tmp.path(),
        &["audit", "--live", &format!("127.0.0.1:{port}"), "c.xml"],
    );
    assert_eq!(o.status.code(), Some(4));
    assert!(
        stderr(&o).starts_with(&format!(
            "mamori audit: --live: 127.0.0.1:{port}: cannot connect:"
        )),
        "{}",
        stderr(&o)
    );
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn live_silent_server_times_out() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "c.xml", nsc_for("127.0.0.1", &[A, B]));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accepts, reads the ClientHello, never answers.
    let handle = std::thread::spawn(move || {
        if let Ok((mut s, _)) = listener.accept() {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            std::thread::sleep(Duration::from_secs(3));
            let _ = s.write_all(b"");
        }
    });
    let start = Instant::now();
    let o = mamori_in(
        tmp.path(),
        &[
            "audit",
            "--live-timeout",
            "1",
            "--live",
            &format!("127.0.0.1:{port}"),
            "c.xml",
        ],
    );
    let took = start.elapsed();
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert_eq!(
        stderr(&o).trim(),
        format!(
            "mamori audit: --live: 127.0.0.1:{port}: timed out after 1 s waiting for the TLS handshake"
        )
    );
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(3),
        "{took:?}"
    );
    handle.join().unwrap();
}

// --- mamori report: cli/tests/report_cli.rs ---

#[test]
fn audit_and_report_at_take_a_date_or_an_rfc3339_timestamp() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "nsc.xml", one_pin_nsc());
    for cmd in ["audit", "report"] {
        let run = |at: &str| {
            let o = mamori_in(tmp.path(), &[cmd, "--at", at, "nsc.xml"]);
            assert!(
                matches!(o.status.code(), Some(0 | 1)),
                "{cmd} --at {at}: {}",
                stderr(&o)
            );
            o.stdout
        };
        // The same instant written three ways gives the same output.
        let day = run("2026-06-01");
        assert_eq!(run("2026-06-01T00:00:00Z"), day, "{cmd}");
        assert_eq!(run("2026-06-01T09:00:00+09:00"), day, "{cmd}");
        assert!(
            String::from_utf8_lossy(&day).contains("2026-06-01"),
            "{cmd}"
        );
        for bad in ["June", "2026-06-01T00:00:00", "2026-02-30"] {
            let o = mamori_in(tmp.path(), &[cmd, "--at", bad, "nsc.xml"]);
            assert_eq!(o.status.code(), Some(2), "{cmd} --at {bad}");
        }
    }
}

/// An NSC policy whose nested rule pins other keys than its parent: Android
/// applies the nested rule only; OkHttp would union both patterns' pins.
fn nested_nsc() -> String {
    let c = "NDCIt6TrQnfOk+lquunrmlPQB3K/7CLOCmSS5kW+KCc=";
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<network-security-config>\n  <domain-config>\n    <domain includeSubdomains=\"true\">example.com</domain>\n    <pin-set>\n      <pin digest=\"SHA-256\">{A}</pin>\n      <pin digest=\"SHA-256\">{B}</pin>\n    </pin-set>\n    <domain-config>\n      <domain>api.example.com</domain>\n      <pin-set>\n        <pin digest=\"SHA-256\">{c}</pin>\n        <pin digest=\"SHA-256\">{A}</pin>\n      </pin-set>\n    </domain-config>\n  </domain-config>\n</network-security-config>\n"
    )
}

#[test]
fn convert_to_okhttp_refuses_a_policy_whose_nested_rules_would_widen() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "nsc.xml", nested_nsc());
    let o = mamori_in(dir.path(), &["convert", "--to", "okhttp", "nsc.xml"]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(
        err.contains("api.example.com: OkHttp would also accept 1 pin(s) of **.example.com for api.example.com"),
        "{err}"
    );
    assert!(err.contains("--allow-widening"), "{err}");
    assert!(stdout(&o).is_empty());
    // Told to, it converts and warns.
    let o = mamori_in(
        dir.path(),
        &["convert", "--to", "okhttp", "--allow-widening", "nsc.xml"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("WARNING: pins widened: api.example.com"),
        "{}",
        stderr(&o)
    );
    assert!(
        stdout(&o).contains("api.example.com sha256/NDCIt6"),
        "{}",
        stdout(&o)
    );
    // Without overlap there is nothing to refuse.
    write(dir.path(), "one.xml", nsc_for("a.example.com", &[A, B]));
    let o = mamori_in(dir.path(), &["convert", "--to", "okhttp", "one.xml"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

fn source(name: &str) -> String {
    format!("tests/data/audit/source/{name}")
}

#[test]
fn convert_detects_okhttp_and_trustkit_sources() {
    let dir = repo();
    // Kotlin (constants in the same file) to a Mamori policy, no --from.
    let o = mamori_in(&dir, &["convert", "--to", "json", &source("Loops.kt")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let got: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let hosts: Vec<&str> = got["domain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["host"].as_str().unwrap())
        .collect();
    assert_eq!(hosts, vec!["a.example.com", "b.example.com"], "{got:#}");
    // Swift TrustKit to OkHttp.
    let o = mamori_in(
        &dir,
        &["convert", "--to", "okhttp", &source("AppDelegate.swift")],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains(&format!("**.api.example.com sha256/{A}")),
        "{out}"
    );
    assert!(
        out.contains(&format!("**.api.example.com sha256/{B}")),
        "{out}"
    );
    // Objective-C TrustKit to NSC; Java OkHttp to TrustKit.
    let o = mamori_in(&dir, &["convert", "--to", "nsc", &source("AppDelegate.m")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("one-pin.example.com"), "{}", stdout(&o));
    let o = mamori_in(
        &dir,
        &["convert", "--to", "trustkit", &source("PinningModule.java")],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("cdn.example.com"), "{}", stdout(&o));
    // The keys TrustKit looks up are its constants' strings, not their names.
    assert!(
        stdout(&o).contains("<key>TSKPublicKeyHashes</key>"),
        "{}",
        stdout(&o)
    );
    assert!(!stdout(&o).contains("kTSK"), "{}", stdout(&o));
}

#[test]
fn audit_reads_sources_and_build_gradle_together() {
    let dir = repo();
    let alone = mamori_in(
        &dir,
        &[
            "audit",
            "--format",
            "json",
            "--at",
            "2026-06-01",
            &source("BuildConfigPins.kt"),
        ],
    );
    assert_eq!(alone.status.code(), Some(0), "{}", stderr(&alone));
    let j: Value = serde_json::from_str(&stdout(&alone)).unwrap();
    let rules: Vec<&str> = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        vec!["PIN-BUILDCONFIG-ONLY", "PIN-BUILDCONFIG-ONLY"],
        "{j:#}"
    );
    let with = mamori_in(
        &dir,
        &[
            "audit",
            "--format",
            "json",
            "--at",
            "2026-06-01",
            &source("BuildConfigPins.kt"),
            &source("build.gradle"),
        ],
    );
    assert_eq!(with.status.code(), Some(0), "{}", stderr(&with));
    let j: Value = serde_json::from_str(&stdout(&with)).unwrap();
    assert_eq!(j["findings"].as_array().unwrap().len(), 0, "{j:#}");
    assert_eq!(j["configs"][0]["pinned_domains"], 1);
    // The union of OkHttp patterns fails the default --fail-on high.
    let u = mamori_in(&dir, &["audit", &source("Union.kt")]);
    assert_eq!(u.status.code(), Some(1), "{}", stdout(&u));
    assert!(stdout(&u).contains("OKHTTP-PIN-UNION"), "{}", stdout(&u));
}

/// Review finding 1: `*.` has a wildcard meaning in OkHttp only. Android,
/// TrustKit and ATS compare names literally, so a wildcard, URL, port or a
/// leading or trailing dot selects no host: a high finding, never
/// SUBDOMAINS-WIDE, and `convert` leaves the name out with a note instead
/// of writing coverage the app never had.
#[test]
fn names_no_host_matches_are_reported_and_never_converted() {
    let dir = repo();
    let findings = |file: &str| {
        let o = mamori_in(
            &dir,
            &["audit", "--format", "json", "--at", "2026-12-01", file],
        );
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["rule"].as_str().unwrap().to_owned(),
                    f["host"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect::<Vec<_>>()
    };
    let nsc = findings("tests/data/audit/nsc-unusable-names.xml");
    let never: Vec<&str> = nsc
        .iter()
        .filter(|(r, _)| r == "PIN-DOMAIN-NEVER-MATCHES")
        .map(|(_, h)| h.as_str())
        .collect();
    assert_eq!(
        never,
        [
            "*.example.com",
            "api.example.com.",
            "https://pay.example.com",
            ".login.example.com",
            "auth.example.com:443"
        ]
    );
    assert!(
        !nsc.iter().any(|(r, _)| r.starts_with("SUBDOMAINS-")),
        "{nsc:?}"
    );
    // The one real name keeps its pin-set checks; the dead ones get none.
    assert!(
        nsc.iter()
            .filter(|(r, _)| r == "PIN-EXPIRY-FAIL-OPEN")
            .all(|(_, h)| h == "ok.example.com"),
        "{nsc:?}"
    );
    let apple = findings("tests/data/audit/trustkit-wildcard.plist");
    let never: Vec<&str> = apple
        .iter()
        .filter(|(r, _)| r == "PIN-DOMAIN-NEVER-MATCHES")
        .map(|(_, h)| h.as_str())
        .collect();
    assert_eq!(never, ["*.example.com", "*.example.org"]);

    let o = mamori_in(
        &dir,
        &[
            "convert",
            "--to",
            "okhttp",
            "tests/data/audit/nsc-unusable-names.xml",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let pins: Vec<&str> = out
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(pins, ["ok.example.com", "ok.example.com"]);
    assert!(
        stderr(&o).contains(
            "note: tests/data/audit/nsc-unusable-names.xml:7: \"*.example.com\" left out: no host matches it"
        ),
        "{}",
        stderr(&o)
    );
    for to in ["nsc", "okhttp", "mamori", "trustkit"] {
        let o = mamori_in(
            &dir,
            &[
                "convert",
                "--to",
                to,
                "tests/data/audit/trustkit-wildcard.plist",
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{to}: {}", stderr(&o));
        let out = stdout(&o);
        assert!(
            !out.contains("example.com") && !out.contains("example.org"),
            "{to}: {out}"
        );
        assert_eq!(
            stderr(&o).matches("left out: no host matches it").count(),
            2
        );
    }
}

/// Review finding 3: OkHttp's `findMatchingPins` accepts the pins of every
/// pattern matching a host. A chain pinned by the wider `**.` pattern
/// passes OkHttp's check for `api.example.com`, and that host has two
/// distinct accepted pins: no PIN-CHAIN-MISMATCH, no PIN-BACKUP-MISSING
/// (the union itself is OKHTTP-PIN-UNION). A host only the wide pattern
/// covers keeps its own count.
#[test]
fn okhttp_checks_use_the_union_of_matching_patterns() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = pki("api.example.com");
    write(tmp.path(), "chain.pem", pem(&[&pki.leaf_der, &pki.ca_der]));
    write(
        tmp.path(),
        "pins.txt",
        format!(
            "**.example.com sha256/{}\napi.example.com sha256/{A}\n*.other.example sha256/{B}\nx.other.example sha256/{A}\n",
            pki.ca_pin
        ),
    );
    let got = audit_chain(tmp.path(), "okhttp", "pins.txt");
    let has = |r: &str, h: &str| got.iter().any(|(a, b, _)| a == r && b == h);
    assert!(!has("PIN-CHAIN-MISMATCH", "api.example.com"), "{got:?}");
    assert!(!has("PIN-BACKUP-MISSING", "api.example.com"), "{got:?}");
    assert!(has("OKHTTP-PIN-UNION", "api.example.com"), "{got:?}");
    // Hosts the `**.` pattern alone covers get one pin: no backup.
    assert!(has("PIN-BACKUP-MISSING", "**.example.com"), "{got:?}");
    // `x.other.example` gets its own pin and `*.other.example`'s; the other
    // hosts of `*.other.example` get only B.
    assert!(!has("PIN-BACKUP-MISSING", "x.other.example"), "{got:?}");
    assert!(has("PIN-BACKUP-MISSING", "*.other.example"), "{got:?}");
}

/// `(rule, host, message)` of `mamori audit --from FROM --format json
/// --chain api.example.com=chain.pem FILE` in `dir`.
fn audit_chain(dir: &std::path::Path, from: &str, file: &str) -> Vec<(String, String, String)> {
    let o = mamori_in(
        dir,
        &[
            "audit",
            "--from",
            from,
            "--format",
            "json",
            "--at",
            "2026-12-01",
            "--chain",
            "api.example.com=chain.pem",
            file,
        ],
    );
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap_or_else(|e| panic!("{e}: {o:?}"));
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["host"].as_str().unwrap_or("").to_owned(),
                f["message"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// The base64 SHA-1 of a certificate's SPKI as OkHttp's `sha1/` pins spell
/// it, from rcgen's own encoding of the public key (not Mamori's parser).
fn sha1_pin(key: &[u8]) -> String {
    use base64::Engine as _;
    let d = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, key);
    format!(
        "sha1/{}",
        base64::engine::general_purpose::STANDARD.encode(d.as_ref())
    )
}

/// Review finding 4: OkHttp's `CertificatePinner.check` accepts a `sha1/`
/// pin equal to the SHA-1 of a certificate's SPKI. A 20-byte `sha1/` pin
/// is a pin that can match and a backup (OKHTTP-PIN-SHA1 says it is
/// deprecated); only one that does not decode to 20 bytes never matches.
/// With a chain, a sha1 pin of the CA key matches; `convert` leaves sha1
/// pins out with a note.
#[test]
fn okhttp_sha1_pins_are_pins() {
    let tmp = tempfile::tempdir().unwrap();
    let ca = mamori_tests::root_ca("Audit Test CA", mamori_tests::KeyKind::P256);
    let leaf = mamori_tests::leaf_cert(&mamori_tests::LeafSpec::new(&["api.example.com"]), &ca);
    let ca_sha1 = sha1_pin(&rcgen::PublicKeyData::subject_public_key_info(
        ca.key.as_ref().unwrap(),
    ));
    write(tmp.path(), "chain.pem", pem(&[&leaf.der, &ca.der]));
    // The SHA-1 of a whole certificate, not of its SPKI: matches nothing.
    let other = sha1_pin(&leaf.der);
    write(
        tmp.path(),
        "pins.txt",
        format!(
            "api.example.com {ca_sha1} {other}\npay.example.com sha256/{A} {other}\nshort.example.com sha1/AAAAAAAAAAAAAAAAAAAAAAAAAA== sha256/{B}\n"
        ),
    );
    write(
        tmp.path(),
        "stale.txt",
        format!("api.example.com {other} sha256/{A}\n"),
    );
    let audit = |file: &str| audit_chain(tmp.path(), "okhttp", file);
    let got = audit("pins.txt");
    let has = |r: &str, h: &str| got.iter().any(|(a, b, _)| a == r && b == h);
    for h in ["api.example.com", "pay.example.com"] {
        assert!(!has("PIN-SET-UNMATCHABLE", h), "{got:?}");
        assert!(!has("PIN-NEVER-MATCHES", h), "{got:?}");
        assert!(!has("PIN-BACKUP-MISSING", h), "{got:?}");
    }
    assert!(!has("PIN-CHAIN-MISMATCH", "api.example.com"), "{got:?}");
    assert_eq!(
        got.iter().filter(|f| f.0 == "OKHTTP-PIN-SHA1").count(),
        3,
        "{got:?}"
    );
    // 19 bytes: never matches, and its host is left with one pin.
    assert!(has("PIN-NEVER-MATCHES", "short.example.com"), "{got:?}");
    assert!(has("PIN-BACKUP-MISSING", "short.example.com"), "{got:?}");
    // A sha1 pin of another key does not match the chain.
    let got = audit("stale.txt");
    assert!(
        got.iter()
            .any(|(r, h, _)| r == "PIN-CHAIN-MISMATCH" && h == "api.example.com"),
        "{got:?}"
    );

    for to in ["nsc", "okhttp", "trustkit", "mamori"] {
        let o = mamori_in(
            tmp.path(),
            &["convert", "--from", "okhttp", "--to", to, "pins.txt"],
        );
        assert_eq!(o.status.code(), Some(0), "{to}: {}", stderr(&o));
        assert!(!stdout(&o).contains(&ca_sha1[5..]), "{to}: {}", stdout(&o));
        assert!(
            stderr(&o).contains(&format!(
                "note: pins.txt:1: api.example.com: pin \"{ca_sha1}\" left out: a SHA-1 pin"
            )),
            "{to}: {}",
            stderr(&o)
        );
        assert!(
            stderr(&o).contains(
                "note: pins.txt:1: api.example.com: only SHA-1 pins: the output does not pin this host"
            ),
            "{to}: {}",
            stderr(&o)
        );
    }
}

fn ats_both(host: &str, ca: &[&str], leaf: &[&str]) -> String {
    let ids = |v: &[&str]| -> String {
        v.iter()
            .map(|p| format!("<dict><key>SPKI-SHA256-BASE64</key><string>{p}</string></dict>"))
            .collect()
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict><key>NSAppTransportSecurity</key><dict><key>NSPinnedDomains</key><dict>\n<key>{host}</key><dict>\n<key>NSPinnedCAIdentities</key><array>{}</array>\n<key>NSPinnedLeafIdentities</key><array>{}</array>\n</dict></dict></dict></dict></plist>\n",
        ids(ca),
        ids(leaf)
    )
}

/// Review finding 2: Apple, on `NSPinnedDomains`: "If you include both
/// [NSPinnedCAIdentities and NSPinnedLeafIdentities], then both must produce
/// a match". A chain whose CA matches but whose leaf matches no leaf
/// identity fails; each list needs its own backup; `convert` says the
/// requirement is lost.
#[test]
fn ats_with_both_identity_lists_needs_a_match_in_each() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = pki("api.example.com");
    let leaf_pin = mamori::pinning::Pin::of_certificate(&pki.leaf_der)
        .unwrap()
        .base64();
    write(tmp.path(), "chain.pem", pem(&[&pki.leaf_der, &pki.ca_der]));
    write(
        tmp.path(),
        "wrong-leaf.plist",
        ats_both("api.example.com", &[&pki.ca_pin, A], &[A, B]),
    );
    write(
        tmp.path(),
        "both.plist",
        ats_both("api.example.com", &[&pki.ca_pin, A], &[&leaf_pin, B]),
    );
    write(
        tmp.path(),
        "one-each.plist",
        ats_both("api.example.com", &[&pki.ca_pin], &[&leaf_pin, B]),
    );
    let audit = |file: &str| audit_chain(tmp.path(), "ats", file);
    let got = audit("wrong-leaf.plist");
    let mismatch: Vec<_> = got.iter().filter(|f| f.0 == "PIN-CHAIN-MISMATCH").collect();
    assert_eq!(mismatch.len(), 1, "{got:?}");
    assert!(
        mismatch[0]
            .2
            .contains("NSPinnedLeafIdentities has no match"),
        "{got:?}"
    );
    let got = audit("both.plist");
    assert!(!got.iter().any(|f| f.0 == "PIN-CHAIN-MISMATCH"), "{got:?}");
    assert!(!got.iter().any(|f| f.0 == "PIN-BACKUP-MISSING"), "{got:?}");
    // Three distinct identities, but one CA identity: no CA backup.
    let got = audit("one-each.plist");
    let backup: Vec<_> = got.iter().filter(|f| f.0 == "PIN-BACKUP-MISSING").collect();
    assert_eq!(backup.len(), 1, "{got:?}");
    assert!(backup[0].2.contains("NSPinnedCAIdentities"), "{got:?}");

    for to in ["nsc", "okhttp", "trustkit", "mamori"] {
        let o = mamori_in(
            tmp.path(),
            &["convert", "--from", "ats", "--to", to, "both.plist"],
        );
        assert_eq!(o.status.code(), Some(0), "{to}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("both-must-match requirement is lost"),
            "{to}: {}",
            stderr(&o)
        );
    }
}

/// Every pattern of an OkHttp pinner keeps its own pins in NSC: the pinner
/// is one group for OkHttp's pin union, not one `domain-config` (b.example.com
/// used to be written with a.example.com's pins).
#[test]
fn convert_okhttp_to_nsc_keeps_each_patterns_pins() {
    let tmp = tempfile::tempdir().unwrap();
    let c = "NDCIt6TrQnfOk+lquunrmlPQB3K/7CLOCmSS5kW+abc=";
    write(
        tmp.path(),
        "pins.txt",
        format!("a.example.com sha256/{A} sha256/{B}\nb.example.com sha256/{c} sha256/{A}\n"),
    );
    let o = mamori_in(
        tmp.path(),
        &["convert", "--from", "okhttp", "--to", "nsc", "pins.txt"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let xml = stdout(&o);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let mut got: Vec<(String, Vec<String>)> = Vec::new();
    for dc in doc
        .descendants()
        .filter(|n| n.has_tag_name("domain-config"))
    {
        let pins: Vec<String> = dc
            .descendants()
            .filter(|n| n.has_tag_name("pin"))
            .map(|n| n.text().unwrap().to_owned())
            .collect();
        for d in dc.children().filter(|n| n.has_tag_name("domain")) {
            got.push((d.text().unwrap().to_owned(), pins.clone()));
        }
    }
    assert_eq!(
        got,
        [
            ("a.example.com".to_owned(), vec![A.to_owned(), B.to_owned()]),
            ("b.example.com".to_owned(), vec![c.to_owned(), A.to_owned()]),
        ],
        "{xml}"
    );
}
