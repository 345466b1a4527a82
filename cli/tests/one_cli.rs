//! One CLI (issue 15, item 4): every command reads `--at` with one grammar,
//! reports errors as `mamori <command>: <what>: <why>` without parser
//! internals (with a hint where one helps), and returns the codes of one
//! exit-status table. `mamori pin` pins certificates, public keys, CSRs and
//! private keys, checked against OpenSSL's own computation of each pin.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::mamori;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn ex(path: &str) -> String {
    root().join("examples").join(path).display().to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Parser internals that must never reach a person.
const INTERNALS: &[&str] = &[
    "os error",
    "Der(",
    "NomError",
    "UnexpectedTag",
    "UnknownXmlElement",
    "(offset",
    "TOML parse error",
    "^^^",
    "XML with DTD",
    "error: ",
];

/// Asserts exit `code` and, for failures, the one message format.
fn expect(o: &Output, code: i32, command: &str) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "mamori {command}: stdout {}\nstderr {}",
        stdout(o),
        stderr(o)
    );
    if code == 2 || code == 4 {
        let err = stderr(o);
        let first = err.lines().next().unwrap_or("");
        let prefix = format!("mamori {command}: ");
        assert!(first.starts_with(&prefix), "{first:?} lacks {prefix:?}");
        assert!(first.len() > prefix.len(), "{first:?}");
        for bad in INTERNALS {
            assert!(!err.contains(bad), "{bad:?} leaks into: {err}");
        }
    }
}

fn write(dir: &Path, name: &str, text: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// Every command that takes `--at`, with the arguments it needs around it.
fn at_commands(dir: &Path) -> Vec<(&'static str, Vec<String>)> {
    let facts = ex("device/pixel-clean.json");
    let policy = ex("device/bank-policy.toml");
    let keys = write(dir, "keys.txt", b"a AAAA\nb BBBB\n");
    let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        (
            "audit",
            s(&["audit", &ex("audit/network_security_config.xml")]),
        ),
        (
            "report",
            s(&["report", &ex("audit/network_security_config.xml")]),
        ),
        (
            "verify",
            s(&[
                "verify",
                "--host",
                "api.example.com",
                "--chain",
                &ex("pinning/chain.pem"),
            ]),
        ),
        (
            "device check",
            s(&["device", "check", "--facts", &facts, "--policy", &policy]),
        ),
        (
            "pin-update verify",
            s(&[
                "pin-update",
                "verify",
                "--keys",
                &keys,
                "--base",
                &ex("pinning/policy.toml"),
                &keys,
            ]),
        ),
        (
            "attest verify",
            s(&[
                "attest",
                "verify",
                "--platform",
                "android",
                &ex("pinning/chain.pem"),
            ]),
        ),
    ]
}

/// Before: `verify` and `attest verify` took RFC 3339 only, `device check`
/// a date only. Now each takes both, and refuses a bad date with the same
/// words.
#[test]
fn at_has_one_grammar_in_every_command() {
    let dir = tempfile::tempdir().unwrap();
    for (command, args) in at_commands(dir.path()) {
        for good in [
            "2026-01-15",
            "2026-01-15T09:30:00+09:00",
            "2026-01-15T00:30:00Z",
        ] {
            let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
            a.extend(["--at", good]);
            let o = mamori(&a);
            assert!(
                !stderr(&o).contains("--at"),
                "mamori {command} --at {good}: {}",
                stderr(&o)
            );
        }
        let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
        a.extend(["--at", "2026-13-01"]);
        let o = mamori(&a);
        expect(&o, 2, command);
        assert!(
            stderr(&o).contains(
                "'2026-13-01' for '--at <AT>': \"2026-13-01\" is not a day of the calendar"
            ),
            "mamori {command}: {}",
            stderr(&o)
        );
    }
}

/// Before: `mamori:`, `mamori audit:` and `error:` prefixes; x509-parser,
/// plist, roxmltree and TOML internals in the messages.
#[test]
fn errors_have_one_format_without_parser_internals() {
    let dir = tempfile::tempdir().unwrap();
    let truncated = write(dir.path(), "t.der", b"\x30\x82\x01\x00\x02\x01");
    let wrong_tag = write(dir.path(), "w.der", b"\x30\x03\x01\x01\x00");
    let bad_toml = write(
        dir.path(),
        "p.toml",
        b"[[domain]]\nhost = \"a.example\"\npins = 3\n",
    );
    let nsc = ex("audit/network_security_config.xml");
    let plist = ex("audit/Info.plist");
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("pin", vec!["pin", &truncated]),
        ("pin", vec!["pin", &wrong_tag]),
        (
            "verify",
            vec!["verify", "--host", "a.example", "--chain", &wrong_tag],
        ),
        ("verify", vec!["verify", "--host", "a.example"]),
        ("config check", vec!["config", "check", &bad_toml]),
        (
            "config resolve",
            vec!["config", "resolve", &bad_toml, "a.example"],
        ),
        ("audit", vec!["audit", "--from", "nsc", &plist]),
        ("audit", vec!["audit", "--from", "trustkit", &nsc]),
        ("audit", vec!["audit", "--fail-on", "severe", &nsc]),
        (
            "convert",
            vec!["convert", "--to", "nsc", "--from", "ats", &nsc],
        ),
        ("report", vec!["report", "--format", "pdf", &nsc]),
        (
            "device check",
            vec!["device", "check", "--facts", &nsc, "--policy", &nsc],
        ),
        (
            "attest verify",
            vec!["attest", "verify", "--platform", "apple", &nsc],
        ),
        (
            "attest assert",
            vec!["attest", "assert", "--platform", "android", &nsc],
        ),
        (
            "pin-update verify",
            vec!["pin-update", "verify", "--keys", &nsc, "--base", &nsc, &nsc],
        ),
    ];
    for (command, args) in cases {
        let o = mamori(&args);
        expect(&o, 2, command);
    }
    // TOML errors keep the line and column, in one line.
    let o = mamori(&["config", "check", &bad_toml]);
    assert!(stderr(&o).contains("line 3, column 8: "), "{}", stderr(&o));
}

/// A URL where a file belongs, a plist read as NSC, a facts file given as a
/// policy (and the other way round): the error says what the file looks like.
#[test]
fn refused_files_get_a_hint() {
    let facts = ex("device/pixel-clean.json");
    let policy = ex("device/bank-policy.toml");
    let (plist, nsc) = (
        ex("audit/Info.plist"),
        ex("audit/network_security_config.xml"),
    );
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["pin", "https://example.com/ca.pem"],
            "this is a URL, not a file",
        ),
        (
            vec!["audit", "https://example.com/Info.plist"],
            "this is a URL, not a file",
        ),
        (
            vec!["audit", "--from", "nsc", &plist],
            "looks like an Apple property list",
        ),
        (
            vec!["convert", "--from", "trustkit", "--to", "mamori", &nsc],
            "looks like an Android network_security_config.xml",
        ),
        (
            vec!["device", "check", "--facts", &facts, "--policy", &facts],
            "looks like a device facts snapshot",
        ),
        (
            vec!["device", "check", "--facts", &policy, "--policy", &policy],
            "looks like a device policy",
        ),
        (
            vec!["config", "check", &facts],
            "looks like a device facts snapshot",
        ),
        (
            vec!["config", "check", &policy],
            "looks like a device policy",
        ),
    ];
    for (args, hint) in cases {
        let o = mamori(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&o)
                .lines()
                .any(|l| l.starts_with("  hint: ") && l.contains(hint)),
            "{args:?}: {}",
            stderr(&o)
        );
    }
}

/// The exit-status table, command by command. Before: `audit --live` used
/// 3, which `device check` uses for warn; `config check` called an empty
/// file a valid policy (0).
#[test]
fn exit_codes_are_one_table() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write(dir.path(), "empty.toml", b"");
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("127.0.0.1:{}", l.local_addr().unwrap().port())
    };
    let nsc = ex("audit/network_security_config.xml");
    let policy = ex("pinning/policy.toml");
    let chain = ex("pinning/chain.pem");
    let misissued = ex("pinning/misissued-chain.pem");
    let facts = ex("device/pixel-clean.json");
    let magisk = ex("device/pixel-magisk.json");
    // The clean Pixel with a patch level 5 months old: the default policy warns.
    let mut old: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&facts).unwrap()).unwrap();
    old["security_patch"] = serde_json::json!({"state": "present", "value": "2026-06-05"});
    let old_patch = write(dir.path(), "old-patch.json", old.to_string().as_bytes());
    let default_policy = write(
        dir.path(),
        "default.toml",
        &mamori(&["device", "default-policy"]).stdout,
    );
    // Command lines as words (no path here has a space).
    let (dp, at) = (&default_policy, "--at 2026-11-25");
    let cases: Vec<(&str, String, i32)> = vec![
        ("pin", format!("pin {chain}"), 0),
        ("pin", format!("pin {nsc}"), 2),
        (
            "verify",
            format!(
                "verify --config {policy} --host api.example.com --chain {chain} --at 2027-01-01"
            ),
            0,
        ),
        (
            "verify",
            format!(
                "verify --config {policy} --host api.example.com --chain {misissued} --at 2027-01-01"
            ),
            1,
        ),
        ("config check", format!("config check {policy}"), 0),
        ("config check", format!("config check {empty}"), 3),
        ("config check", format!("config check {nsc}"), 2),
        (
            "config resolve",
            format!("config resolve {policy} api.example.com"),
            0,
        ),
        (
            "device check",
            format!("device check --facts {facts} --policy {dp} {at}"),
            0,
        ),
        (
            "device check",
            format!("device check --facts {magisk} --policy {dp} {at}"),
            1,
        ),
        (
            "device check",
            format!("device check --facts {old_patch} --policy {dp} {at}"),
            3,
        ),
        (
            "device check",
            format!("device check --facts {facts} --policy {facts}"),
            2,
        ),
        ("device default-policy", "device default-policy".into(), 0),
        ("audit", format!("audit --fail-on never {nsc}"), 0),
        ("audit", format!("audit --fail-on info {nsc}"), 1),
        ("audit", format!("audit {empty}"), 2),
        ("audit", format!("audit --live {closed} {nsc}"), 4),
        ("convert", format!("convert --to mamori {nsc}"), 0),
        ("convert", format!("convert --to mamori {empty}"), 2),
        ("report", format!("report {at} {nsc}"), 0),
        ("report", format!("report --live {closed} {nsc}"), 4),
        (
            "attest verify",
            format!("attest verify --platform android {chain}"),
            1,
        ),
        (
            "attest verify",
            format!("attest verify --platform android {nsc}"),
            2,
        ),
    ];
    for (command, line, code) in cases {
        let args: Vec<&str> = line.split_whitespace().collect();
        expect(&mamori(&args), code, command);
    }
}

/// Every `--help` ends with examples and the one exit table.
#[test]
fn help_of_every_command_has_examples_and_the_exit_table() {
    for args in [
        vec!["--help"],
        vec!["pin", "--help"],
        vec!["pin-update", "keygen", "--help"],
        vec!["pin-update", "sign", "--help"],
        vec!["pin-update", "verify", "--help"],
        vec!["verify", "--help"],
        vec!["config", "resolve", "--help"],
        vec!["config", "check", "--help"],
        vec!["device", "check", "--help"],
        vec!["device", "probe", "--help"],
        vec!["device", "default-policy", "--help"],
        vec!["convert", "--help"],
        vec!["audit", "--help"],
        vec!["report", "--help"],
        vec!["attest", "verify", "--help"],
        vec!["attest", "assert", "--help"],
    ] {
        let o = mamori(&args);
        assert_eq!(o.status.code(), Some(0), "{args:?}");
        let help = stdout(&o);
        assert!(help.contains("Examples:\n  mamori "), "{args:?}: {help}");
        assert!(help.contains("4  network failure"), "{args:?}: {help}");
    }
}

// ---- mamori pin: keys, CSRs and private keys, against OpenSSL ----------

fn openssl(dir: &Path, args: &[&str]) -> Vec<u8> {
    let o = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "openssl is needed (scripts/deps/pin-keys.apt): run scripts/install-deps.sh ({e})"
            )
        });
    assert!(o.status.success(), "openssl {args:?}: {}", stderr(&o));
    o.stdout
}

/// OpenSSL's own pin of a key file: SHA-256 of the DER SPKI, base64.
fn openssl_pin(dir: &Path, key: &str, private: bool) -> String {
    let mut args = vec!["pkey", "-in", key, "-outform", "DER"];
    if private {
        args.push("-pubout");
    } else {
        args.push("-pubin");
    }
    let spki = openssl(dir, &args);
    let digest = ring::digest::digest(&ring::digest::SHA256, &spki);
    use base64::Engine as _;
    format!(
        "sha256/{}",
        base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
    )
}

fn pins_of(dir: &Path, file: &str) -> Vec<(String, String)> {
    let o = mamori(&[
        "pin",
        "--format",
        "json",
        &dir.join(file).display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{file}: {}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap().to_owned(),
                r["pin"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn pin_reads_keys_requests_and_private_keys_like_openssl() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // EC P-256 and P-384 (SEC1 "EC PRIVATE KEY"), RSA (PKCS#1 "RSA PRIVATE KEY"), Ed25519 (PKCS#8).
    openssl(
        d,
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "ec256.sec1.pem",
        ],
    );
    openssl(
        d,
        &[
            "ecparam",
            "-name",
            "secp384r1",
            "-genkey",
            "-noout",
            "-out",
            "ec384.sec1.pem",
        ],
    );
    openssl(
        d,
        &["genrsa", "-traditional", "-out", "rsa.pkcs1.pem", "2048"],
    );
    openssl(
        d,
        &["genpkey", "-algorithm", "ed25519", "-out", "ed.pkcs8.pem"],
    );
    for key in ["ec256", "ec384", "rsa"] {
        let sec1_or_pkcs1 = if key == "rsa" {
            "rsa.pkcs1.pem".to_owned()
        } else {
            format!("{key}.sec1.pem")
        };
        let want = openssl_pin(d, &sec1_or_pkcs1, true);
        openssl(
            d,
            &[
                "pkcs8",
                "-topk8",
                "-nocrypt",
                "-in",
                &sec1_or_pkcs1,
                "-out",
                &format!("{key}.pkcs8.pem"),
            ],
        );
        openssl(
            d,
            &[
                "pkcs8",
                "-topk8",
                "-nocrypt",
                "-in",
                &sec1_or_pkcs1,
                "-outform",
                "DER",
                "-out",
                &format!("{key}.pkcs8.der"),
            ],
        );
        openssl(
            d,
            &[
                "pkey",
                "-in",
                &sec1_or_pkcs1,
                "-outform",
                "DER",
                "-out",
                &format!("{key}.legacy.der"),
            ],
        );
        openssl(
            d,
            &[
                "pkey",
                "-in",
                &sec1_or_pkcs1,
                "-pubout",
                "-out",
                &format!("{key}.pub.pem"),
            ],
        );
        openssl(
            d,
            &[
                "pkey",
                "-in",
                &sec1_or_pkcs1,
                "-pubout",
                "-outform",
                "DER",
                "-out",
                &format!("{key}.pub.der"),
            ],
        );
        openssl(
            d,
            &[
                "req",
                "-new",
                "-key",
                &sec1_or_pkcs1,
                "-subj",
                "/CN=backup.example",
                "-out",
                &format!("{key}.csr.pem"),
            ],
        );
        openssl(
            d,
            &[
                "req",
                "-new",
                "-key",
                &sec1_or_pkcs1,
                "-subj",
                "/CN=backup.example",
                "-outform",
                "DER",
                "-out",
                &format!("{key}.csr.der"),
            ],
        );
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-new",
                "-key",
                &sec1_or_pkcs1,
                "-subj",
                "/CN=backup.example",
                "-days",
                "30",
                "-out",
                &format!("{key}.crt.pem"),
            ],
        );
        let mut files = vec![
            (sec1_or_pkcs1.clone(), "private_key"),
            (format!("{key}.pkcs8.pem"), "private_key"),
            (format!("{key}.pkcs8.der"), "private_key"),
            (format!("{key}.legacy.der"), "private_key"),
            (format!("{key}.pub.pem"), "public_key"),
            (format!("{key}.pub.der"), "public_key"),
            (format!("{key}.csr.pem"), "certificate_request"),
            (format!("{key}.csr.der"), "certificate_request"),
            (format!("{key}.crt.pem"), "certificate"),
        ];
        if key == "rsa" {
            openssl(
                d,
                &[
                    "rsa",
                    "-in",
                    "rsa.pkcs1.pem",
                    "-RSAPublicKey_out",
                    "-out",
                    "rsa.pkcs1pub.pem",
                ],
            );
            files.push(("rsa.pkcs1pub.pem".into(), "public_key"));
        }
        for (file, kind) in files {
            assert_eq!(
                pins_of(d, &file),
                vec![(kind.to_owned(), want.clone())],
                "{file}"
            );
        }
        // The private key is never printed, in either format.
        let secret = std::fs::read_to_string(d.join(&sec1_or_pkcs1)).unwrap();
        let body: String = secret.lines().filter(|l| !l.starts_with("-----")).collect();
        for fmt in ["text", "json"] {
            let o = mamori(&[
                "pin",
                "--format",
                fmt,
                &d.join(&sec1_or_pkcs1).display().to_string(),
            ]);
            let out = stdout(&o) + &stderr(&o);
            assert!(!out.contains(&body[..40]), "{fmt}: {out}");
            assert!(!out.contains("PRIVATE"), "{fmt}: {out}");
        }
    }
    let want = openssl_pin(d, "ed.pkcs8.pem", true);
    assert_eq!(
        pins_of(d, "ed.pkcs8.pem"),
        vec![("private_key".to_owned(), want)]
    );
    // An encrypted key is refused with what to do.
    openssl(
        d,
        &[
            "pkcs8",
            "-topk8",
            "-in",
            "ec256.sec1.pem",
            "-passout",
            "pass:x",
            "-out",
            "enc.pem",
        ],
    );
    let o = mamori(&["pin", &d.join("enc.pem").display().to_string()]);
    expect(&o, 2, "pin");
    assert!(
        stderr(&o).contains("the private key is encrypted: decrypt it first"),
        "{}",
        stderr(&o)
    );
}

/// The project's own backup key (examples/pinning/spare-key.pub.pem), which
/// the audit tells users to pin, now pins: to the policy's backup pin.
#[test]
fn the_example_spare_key_pins_to_the_policy_backup_pin() {
    let o = mamori(&["pin", "--format", "json", &ex("pinning/spare-key.pub.pem")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let pin = v[0]["pin"].as_str().unwrap().to_owned();
    let policy = std::fs::read_to_string(ex("pinning/policy.toml")).unwrap();
    assert!(policy.contains(&pin), "{pin} not in the example policy");
}
