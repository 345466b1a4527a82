//! `mamori audit app.apk | app.aab | app.ipa` (issue 13) on real packages:
//! APKs compiled by Debian's `aapt` against the real `framework-res.apk` and
//! signed by `apksigner`, App Bundles from `aapt2 link --proto-format`
//! (re-laid into the bundle's `base/` layout: no bundletool in Debian), and
//! IPAs built as zips with binary plists and an `openssl cms` provisioning
//! profile. The tests fail, naming `scripts/install-deps.sh`, when a tool
//! is missing.

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::mamori;
use mamori_tests::{Cert, KeyKind, openssl, root_ca};
use serde_json::Value;

const FRAMEWORK: &str = "/usr/share/android-framework-res/framework-res.apk";
const AT: &str = "2026-12-01";
const PIN_A: &str = "7HIpactkIAq2Y49orFOOQKurWxmmSFZhBCoQYcRhJ3Y=";
const PIN_B: &str = "fwza0LRMXouZHRC8Ei+4PyuldPDcf3UKgO/04cDM1oE=";

fn tool(name: &str) -> String {
    let ok = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok && Path::new(FRAMEWORK).is_file(),
        "{name} (or {FRAMEWORK}) is missing: run scripts/install-deps.sh (scripts/deps/android-packages.apt)"
    );
    name.to_owned()
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("tool runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A manifest with the given `uses-sdk` target and `<application>` attributes
/// (and backups off, as a bank's release build has them; see
/// [`allow_backup_true_or_left_out_is_reported`]).
fn manifest(target: u32, app_attrs: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<manifest xmlns:android="http://schemas.android.com/apk/res/android"
    package="jp.example.bank" android:versionCode="42" android:versionName="1.2.3">
    <uses-sdk android:minSdkVersion="21" android:targetSdkVersion="{target}"/>
    <application android:label="Bank" android:allowBackup="false"
        {app_attrs}>
    </application>
</manifest>
"#
    )
}

fn nsc_two_pins(extra: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<network-security-config>
    <domain-config>
        <domain includeSubdomains="true">api.example.com</domain>
        <pin-set expiration="2027-06-01">
            <pin digest="SHA-256">{PIN_A}</pin>
            <pin digest="SHA-256">{PIN_B}</pin>
        </pin-set>
        <trust-anchors>
            <certificates src="@raw/ca"/>
        </trust-anchors>
    </domain-config>
{extra}</network-security-config>
"#
    )
}

/// An app's sources laid out for aapt: the manifest and `res/` files.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new(manifest: &str, files: &[(&str, &[u8])]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("AndroidManifest.xml"), manifest).unwrap();
        for (path, content) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, content).unwrap();
        }
        Self { dir }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    /// `aapt package` → an unsigned APK.
    fn apk(&self) -> PathBuf {
        let out = self.path("unsigned.apk");
        let mut cmd = Command::new(tool("aapt"));
        cmd.args(["package", "-f", "-M"])
            .arg(self.path("AndroidManifest.xml"))
            .arg("-I")
            .arg(FRAMEWORK)
            .arg("-F")
            .arg(&out);
        if self.path("res").is_dir() {
            cmd.arg("-S").arg(self.path("res"));
        }
        run(&mut cmd);
        out
    }

    /// The APK signed by `apksigner` with a fresh P-256 key; returns it and
    /// the signing certificate's SHA-256 (computed here, from the DER).
    fn signed_apk(&self) -> (PathBuf, String) {
        let unsigned = self.apk();
        let signer = root_ca("Mamori test signer", KeyKind::P256);
        let key = self.path("signer.pk8");
        let cert = self.path("signer.der");
        std::fs::write(&key, signer.key.as_ref().unwrap().serialize_der()).unwrap();
        std::fs::write(&cert, signer.der.as_ref()).unwrap();
        let out = self.path("app.apk");
        run(Command::new(tool("apksigner"))
            .args(["sign", "--key"])
            .arg(&key)
            .arg("--cert")
            .arg(&cert)
            .arg("--out")
            .arg(&out)
            .arg(&unsigned));
        let digest = hex::encode(ring::digest::digest(
            &ring::digest::SHA256,
            signer.der.as_ref(),
        ));
        (out, digest)
    }

    /// `aapt2 compile` + `link --proto-format`, re-laid as an App Bundle's
    /// base module.
    fn aab(&self) -> PathBuf {
        let aapt2 = tool("aapt2");
        let compiled = self.path("compiled.zip");
        run(Command::new(&aapt2)
            .args(["compile", "--dir"])
            .arg(self.path("res"))
            .arg("-o")
            .arg(&compiled));
        let proto = self.path("proto.apk");
        run(Command::new(&aapt2)
            .args(["link", "--proto-format", "-o"])
            .arg(&proto)
            .arg("-I")
            .arg(FRAMEWORK)
            .arg("--manifest")
            .arg(self.path("AndroidManifest.xml"))
            .arg(&compiled));
        let mut src = zip::ZipArchive::new(std::fs::File::open(&proto).unwrap()).unwrap();
        let out = self.path("app.aab");
        let mut dst = zip::ZipWriter::new(std::fs::File::create(&out).unwrap());
        for i in 0..src.len() {
            let mut e = src.by_index(i).unwrap();
            let name = e.name().to_owned();
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut bytes).unwrap();
            let target = if name == "AndroidManifest.xml" {
                "base/manifest/AndroidManifest.xml".to_owned()
            } else {
                format!("base/{name}")
            };
            dst.start_file(target, zip::write::SimpleFileOptions::default())
                .unwrap();
            dst.write_all(&bytes).unwrap();
        }
        dst.start_file("BundleConfig.pb", zip::write::SimpleFileOptions::default())
            .unwrap();
        dst.finish().unwrap();
        out
    }
}

/// An app whose manifest names an NSC pinning api.example.com with two pins
/// and trusting `@raw/ca` (`anchor`).
fn pinned_app(target: u32, anchor: &str) -> Project {
    Project::new(
        &manifest(
            target,
            r#"android:networkSecurityConfig="@xml/network_security_config""#,
        ),
        &[
            (
                "res/xml/network_security_config.xml",
                nsc_two_pins("").as_bytes(),
            ),
            ("res/raw/ca.pem", anchor.as_bytes()),
        ],
    )
}

fn audit_json(args: &[&str]) -> (i32, Value, String) {
    let mut all = vec![
        "audit",
        "--format",
        "json",
        "--at",
        AT,
        "--fail-on",
        "never",
    ];
    all.extend_from_slice(args);
    let out = mamori(&all);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), v, stderr)
}

/// (rule, file name, line, host, message), sorted: the order of findings
/// across files follows the file paths, which differ between a package and
/// its sources.
type Found = (String, String, Option<u64>, Option<String>, String);

fn findings(v: &Value) -> Vec<Found> {
    let mut out: Vec<Found> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let file = f["file"].as_str().unwrap();
            let short = file
                .rsplit_once("!/")
                .map_or(file.rsplit('/').next().unwrap(), |(_, e)| e);
            let short = short.rsplit('/').next().unwrap().to_owned();
            (
                f["rule"].as_str().unwrap().to_owned(),
                short,
                f["line"].as_u64(),
                f["host"].as_str().map(str::to_owned),
                f["message"].as_str().unwrap().replace(file, "FILE"),
            )
        })
        .collect();
    out.sort();
    out
}

fn rules(v: &Value) -> Vec<String> {
    findings(v).into_iter().map(|f| f.0).collect()
}

#[test]
fn nsc_referenced_from_the_manifest_reads_as_its_source() {
    let ca = root_ca("Bundled Test CA", KeyKind::P256);
    let nsc = nsc_two_pins("");
    let p = Project::new(
        &manifest(
            34,
            r#"android:networkSecurityConfig="@xml/network_security_config""#,
        ),
        &[
            ("res/xml/network_security_config.xml", nsc.as_bytes()),
            ("res/raw/ca.pem", ca.pem.as_bytes()),
        ],
    );
    let (apk, signer) = p.signed_apk();
    let (code, v, err) = audit_json(&[apk.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let pkg = &v["packages"][0];
    assert_eq!(pkg["kind"], "apk");
    assert_eq!(pkg["app_id"], "jp.example.bank");
    assert_eq!(pkg["version"], "1.2.3");
    assert_eq!(pkg["build"], "42");
    assert_eq!(pkg["target_sdk"], 34);
    assert_eq!(pkg["min_sdk"], 21);
    assert_eq!(pkg["allow_backup"], false);
    assert_eq!(pkg["debuggable"], false);
    assert_eq!(
        pkg["network_security_config"],
        "res/xml/network_security_config.xml"
    );
    let file_digest = hex::encode(ring::digest::digest(
        &ring::digest::SHA256,
        &std::fs::read(&apk).unwrap(),
    ));
    assert_eq!(pkg["sha256"], file_digest.as_str());
    // apksigner with minSdk 21 signs with v1 (JAR), v2 and v3.
    let schemes: Vec<&str> = pkg["signing_certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert_eq!(c["sha256"], signer.as_str(), "{c}");
            // Read from the signature block, not verified: said so.
            assert_eq!(c["verified"], false, "{c}");
            c["scheme"].as_str().unwrap()
        })
        .collect();
    for s in ["v1", "v2", "v3"] {
        assert!(schemes.contains(&s), "{schemes:?}");
    }
    // The @raw anchor was read from the package: its SPKI pin is the CA's.
    assert_eq!(pkg["bundled_anchors"][0]["resource"], "@raw/ca");
    assert_eq!(pkg["bundled_anchors"][0]["entry"], "res/raw/ca.pem");
    assert_eq!(pkg["bundled_anchors"][0]["pins"][0], ca.pin().as_str());
    assert_eq!(pkg["bundled_anchors"][0]["error"], Value::Null);

    // The same findings, lines included, as auditing the source file with
    // the manifest's target SDK.
    let (_, src, err) = audit_json(&[
        "--android-target-sdk",
        "34",
        p.path("res/xml/network_security_config.xml")
            .to_str()
            .unwrap(),
    ]);
    assert!(err.is_empty(), "{err}");
    assert_eq!(findings(&v), findings(&src));
    assert!(rules(&v).contains(&"TRUST-BUNDLED-CA".to_owned()));
    let files: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    let expected = format!("{}!/res/xml/network_security_config.xml", apk.display());
    assert!(files.iter().all(|f| *f == expected), "{files:?}");

    // The evidence report names the exact build: the package's digest and
    // its signing certificate's.
    for lang in ["en", "ja"] {
        let out = mamori(&["report", "--lang", lang, "--at", AT, apk.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let doc = String::from_utf8(out.stdout).unwrap();
        assert!(doc.contains(&file_digest), "{doc}");
        assert!(doc.contains(&signer), "{doc}");
        assert!(doc.contains("jp.example.bank 1.2.3"), "{doc}");
        let (role, signer_role) = if lang == "en" {
            ("app package", "signing certificate (read, not verified) of")
        } else {
            ("アプリパッケージ", "の署名証明書 (読み取りのみ・未検証)")
        };
        assert!(doc.contains(role), "{doc}");
        assert!(doc.contains(signer_role), "{doc}");
        // The app identity comes from the manifest (Android).
        assert!(doc.contains("`jp.example.bank` (Android"), "{doc}");
    }
    let text = mamori(&[
        "audit",
        "--at",
        AT,
        "--fail-on",
        "never",
        apk.to_str().unwrap(),
    ]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains(&format!("signer v2 {signer} (unverified)")),
        "{text}"
    );
}

#[test]
fn sarif_and_japanese_name_the_decoded_entry_and_line() {
    let ca = root_ca("Bundled Test CA", KeyKind::P256);
    let p = Project::new(
        &manifest(
            34,
            r#"android:networkSecurityConfig="@xml/network_security_config""#,
        ),
        &[
            (
                "res/xml/network_security_config.xml",
                nsc_two_pins("")
                    .replace(&format!("<pin digest=\"SHA-256\">{PIN_B}</pin>"), "")
                    .as_bytes(),
            ),
            ("res/raw/ca.pem", ca.pem.as_bytes()),
        ],
    );
    let apk = p.apk();
    let out = mamori(&[
        "audit",
        "--format",
        "sarif",
        "--at",
        AT,
        apk.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "single pin is high");
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let backup = results
        .iter()
        .find(|r| r["ruleId"] == "PIN-BACKUP-MISSING")
        .expect("single-pin finding");
    let loc = &backup["locations"][0]["physicalLocation"];
    assert!(
        loc["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("unsigned.apk!/res/xml/network_security_config.xml"),
        "{loc}"
    );
    // <domain> is on line 4 of the source XML.
    assert_eq!(loc["region"]["startLine"], 4);
    assert_eq!(
        sarif["runs"][0]["properties"]["packages"][0]["app_id"],
        "jp.example.bank"
    );
    let ja = mamori(&["audit", "--lang", "ja", "--at", AT, apk.to_str().unwrap()]);
    let text = String::from_utf8(ja.stdout).unwrap();
    assert!(text.contains("重大度"), "{text}");
    assert!(text.contains("network_security_config.xml:4"), "{text}");
}

#[test]
fn without_nsc_the_platform_default_follows_the_target_sdk() {
    // Target 27: cleartext permitted and (below 24: no) user CAs by default.
    let cases: [(u32, &str, &[&str], &[&str]); 4] = [
        (
            27,
            "",
            &["CLEARTEXT-DEFAULT", "PIN-NONE"],
            &["TRUST-USER-CA-DEFAULT"],
        ),
        (
            28,
            "",
            &["PIN-NONE"],
            &["CLEARTEXT-DEFAULT", "CLEARTEXT-BASE"],
        ),
        (23, "", &["CLEARTEXT-DEFAULT", "TRUST-USER-CA-DEFAULT"], &[]),
        (
            34,
            r#"android:usesCleartextTraffic="true""#,
            &["CLEARTEXT-BASE"],
            &["CLEARTEXT-DEFAULT"],
        ),
    ];
    for (target, attrs, present, absent) in cases {
        let p = Project::new(&manifest(target, attrs), &[]);
        let apk = p.apk();
        let (code, v, err) = audit_json(&[apk.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(v["packages"][0]["target_sdk"], target);
        assert_eq!(v["packages"][0]["network_security_config"], Value::Null);
        let r = rules(&v);
        for want in present {
            assert!(r.contains(&(*want).to_owned()), "target {target}: {r:?}");
        }
        for no in absent {
            assert!(!r.contains(&(*no).to_owned()), "target {target}: {r:?}");
        }
    }
}

#[test]
fn usescleartexttraffic_is_ignored_when_an_nsc_is_present() {
    let ca = root_ca("CA", KeyKind::P256);
    let p = Project::new(
        &manifest(
            34,
            r#"android:usesCleartextTraffic="true" android:networkSecurityConfig="@xml/network_security_config""#,
        ),
        &[
            (
                "res/xml/network_security_config.xml",
                nsc_two_pins("").as_bytes(),
            ),
            ("res/raw/ca.pem", ca.pem.as_bytes()),
        ],
    );
    let (_, v, err) = audit_json(&[p.apk().to_str().unwrap()]);
    assert!(
        !rules(&v).contains(&"CLEARTEXT-BASE".to_owned()),
        "{err}{v}"
    );
    assert_eq!(v["packages"][0]["uses_cleartext_traffic"], true);
}

const NSC_ATTR: &str = r#"android:networkSecurityConfig="@xml/network_security_config""#;

/// An app (target SDK 34, `app_attrs` on `<application>`) pinned as
/// [`nsc_two_pins`] says, with `debug` as its `_debug` companion.
fn companion_app(app_attrs: &str, debug: &str, ca: &Cert) -> Project {
    let nsc = nsc_two_pins("");
    Project::new(
        &manifest(34, app_attrs),
        &[
            ("res/xml/network_security_config.xml", nsc.as_bytes()),
            (
                "res/xml/network_security_config_debug.xml",
                debug.as_bytes(),
            ),
            ("res/raw/ca.pem", ca.pem.as_bytes()),
        ],
    )
}

#[test]
fn a_debuggable_build_applies_debug_overrides_from_its_companion() {
    let ca = root_ca("CA", KeyKind::P256);
    let debug = r#"<?xml version="1.0" encoding="utf-8"?>
<network-security-config>
    <debug-overrides>
        <trust-anchors>
            <certificates src="user"/>
        </trust-anchors>
    </debug-overrides>
</network-security-config>
"#;
    let p = companion_app(
        &format!("{NSC_ATTR} android:debuggable=\"true\""),
        debug,
        &ca,
    );
    let (_, v, err) = audit_json(&[p.apk().to_str().unwrap()]);
    let r = rules(&v);
    assert!(r.contains(&"APP-DEBUGGABLE".to_owned()), "{err}{r:?}");
    assert!(r.contains(&"DEBUG-OVERRIDES".to_owned()), "{r:?}");
    assert_eq!(v["packages"][0]["debuggable"], true);
    let debuggable = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "APP-DEBUGGABLE")
        .unwrap();
    assert!(
        debuggable["file"]
            .as_str()
            .unwrap()
            .ends_with("!/AndroidManifest.xml")
    );
    // <application> starts on line 5 of the manifest.
    assert_eq!(debuggable["line"], 5);
    // The same companion, audited from source as a debuggable build.
    let (_, src, _) = audit_json(&[
        "--debuggable",
        "--android-target-sdk",
        "34",
        p.path("res/xml/network_security_config.xml")
            .to_str()
            .unwrap(),
    ]);
    let from_pkg: Vec<_> = findings(&v)
        .into_iter()
        .filter(|f| f.0 != "APP-DEBUGGABLE")
        .collect();
    assert_eq!(from_pkg, findings(&src));
    // The release build of the same app: no debuggable finding.
    let release = companion_app(NSC_ATTR, debug, &ca);
    let (_, v, _) = audit_json(&[release.apk().to_str().unwrap()]);
    assert!(!rules(&v).contains(&"APP-DEBUGGABLE".to_owned()));
}

#[test]
fn a_missing_raw_anchor_is_a_finding() {
    let p = pinned_app(
        34,
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    );
    let (_, v, err) = audit_json(&[p.apk().to_str().unwrap()]);
    assert!(
        rules(&v).contains(&"APP-ANCHOR-UNREADABLE".to_owned()),
        "{err}{v}"
    );
    assert!(v["packages"][0]["bundled_anchors"][0]["error"].is_string());
}

#[test]
fn an_app_bundle_reads_as_its_apk() {
    let ca = root_ca("Bundled Test CA", KeyKind::P256);
    let p = pinned_app(27, &ca.pem);
    let aab = p.aab();
    let (code, v, err) = audit_json(&[aab.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let pkg = &v["packages"][0];
    assert_eq!(pkg["kind"], "aab");
    assert_eq!(pkg["app_id"], "jp.example.bank");
    assert_eq!(pkg["target_sdk"], 27);
    assert_eq!(
        pkg["network_security_config"],
        "base/res/xml/network_security_config.xml"
    );
    assert_eq!(pkg["bundled_anchors"][0]["pins"][0], ca.pin().as_str());
    let (_, apk, _) = audit_json(&[p.apk().to_str().unwrap()]);
    assert_eq!(findings(&v), findings(&apk));
}

fn zip_with(entries: &[(&str, &[u8])], method: zip::CompressionMethod) -> tempfile::NamedTempFile {
    let f = tempfile::Builder::new().suffix(".apk").tempfile().unwrap();
    let mut w = zip::ZipWriter::new(f.reopen().unwrap());
    for (name, data) in entries {
        w.start_file(
            *name,
            zip::write::SimpleFileOptions::default().compression_method(method),
        )
        .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap();
    f
}

/// An APK of a manifest-only app, and its binary manifest.
fn compiled_manifest() -> (Vec<u8>, Vec<u8>) {
    let p = Project::new(&manifest(34, ""), &[]);
    let apk = std::fs::read(p.apk()).unwrap();
    let mut src = zip::ZipArchive::new(std::io::Cursor::new(&apk)).unwrap();
    let mut axml = Vec::new();
    std::io::Read::read_to_end(&mut src.by_name("AndroidManifest.xml").unwrap(), &mut axml)
        .unwrap();
    (apk, axml)
}

fn refused(path: &Path) -> String {
    let out = mamori(&["audit", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(out.stdout.is_empty());
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn hostile_archives_are_refused_with_typed_errors() {
    // A zip bomb: 8 MiB of zeros deflate to ~8 KiB.
    let zeros = vec![0u8; 8 << 20];
    let bomb = zip_with(
        &[("AndroidManifest.xml", &zeros)],
        zip::CompressionMethod::Deflated,
    );
    let e = refused(bomb.path());
    assert!(
        e.contains("compression ratio") && e.contains("MAX_RATIO"),
        "{e}"
    );

    // Path traversal, next to a real manifest.
    let (apk, real) = compiled_manifest();
    for evil in [
        "../../lib/evil.so",
        "/etc/passwd",
        "assets\\..\\x",
        "a/../../b",
    ] {
        let z = zip_with(
            &[("AndroidManifest.xml", &real), (evil, b"x")],
            zip::CompressionMethod::Stored,
        );
        let e = refused(z.path());
        assert!(e.contains("unsafe name"), "{evil}: {e}");
    }

    // Truncated: the end record gone, or the directory cut off.
    let t = tempfile::Builder::new().suffix(".apk").tempfile().unwrap();
    std::fs::write(t.path(), &apk[..apk.len() / 2]).unwrap();
    let e = refused(t.path());
    assert!(e.contains("not a valid zip archive"), "{e}");
    let eocd = apk.len() - 22;
    let mut cut = apk[..40].to_vec();
    cut.extend_from_slice(&apk[eocd..]);
    std::fs::write(t.path(), &cut).unwrap();
    let e = refused(t.path());
    assert!(e.contains("truncated"), "{e}");

    // A zip that is no package.
    let z = zip_with(&[("hello.txt", b"hi")], zip::CompressionMethod::Stored);
    let e = refused(z.path());
    assert!(e.contains("not an APK, App Bundle or IPA"), "{e}");
}

#[test]
fn bad_string_pool_offsets_and_resource_loops_are_malformed() {
    let (_, axml) = compiled_manifest();
    // The string pool follows the 8-byte XML header; its offsets start 28
    // bytes into it. Point string 1 far outside the pool.
    assert_eq!(&axml[8..10], &[1, 0], "string pool chunk");
    let mut bad = axml.clone();
    bad[8 + 28 + 4..8 + 28 + 8].copy_from_slice(&0x00ff_fff0u32.to_le_bytes());
    let z = zip_with(
        &[("AndroidManifest.xml", &bad)],
        zip::CompressionMethod::Deflated,
    );
    let e = refused(z.path());
    assert!(
        e.contains("malformed binary XML") && e.contains("string 1"),
        "{e}"
    );
    // A string count larger than the pool.
    let mut bad = axml.clone();
    bad[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
    let z = zip_with(
        &[("AndroidManifest.xml", &bad)],
        zip::CompressionMethod::Deflated,
    );
    assert!(refused(z.path()).contains("malformed binary XML"));
    // Every truncation of the manifest is an error, never a crash.
    for n in (0..axml.len()).step_by(97) {
        let z = zip_with(
            &[("AndroidManifest.xml", &axml[..n])],
            zip::CompressionMethod::Stored,
        );
        let out = mamori(&["audit", z.path().to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "truncated at {n}");
    }

    // Two resources that alias each other, compiled by aapt itself.
    let loops = Project::new(
        &manifest(34, r#"android:networkSecurityConfig="@xml/a""#),
        &[(
            "res/values/loop.xml",
            br#"<resources><item type="xml" name="a">@xml/b</item><item type="xml" name="b">@xml/a</item></resources>"#,
        )],
    );
    let e = refused(&loops.apk());
    assert!(
        e.contains("resources.arsc") && e.contains("references loop"),
        "{e}"
    );
}

fn binary_plist(v: &plist::Value) -> Vec<u8> {
    let mut out = Vec::new();
    v.to_writer_binary(&mut out).unwrap();
    out
}

fn info_plist(pins: &[&str]) -> plist::Value {
    let mut pinned = plist::Dictionary::new();
    let mut domain = plist::Dictionary::new();
    domain.insert("NSIncludesSubdomains".into(), true.into());
    domain.insert(
        "NSPinnedCAIdentities".into(),
        plist::Value::Array(
            pins.iter()
                .map(|p| {
                    let mut d = plist::Dictionary::new();
                    d.insert("SPKI-SHA256-BASE64".into(), (*p).into());
                    plist::Value::Dictionary(d)
                })
                .collect(),
        ),
    );
    pinned.insert("api.example.com".into(), domain.into());
    let mut ats = plist::Dictionary::new();
    ats.insert("NSPinnedDomains".into(), pinned.into());
    let mut d = plist::Dictionary::new();
    d.insert("CFBundleIdentifier".into(), "jp.example.bank".into());
    d.insert("CFBundleShortVersionString".into(), "1.2.3".into());
    d.insert("CFBundleVersion".into(), "420".into());
    d.insert("NSAppTransportSecurity".into(), ats.into());
    plist::Value::Dictionary(d)
}

fn trustkit_plist(host: &str) -> plist::Value {
    let mut dom = plist::Dictionary::new();
    dom.insert(
        // TrustKit's key strings (the values of its `kTSK…` constants).
        "TSKPublicKeyHashes".into(),
        plist::Value::Array(vec![PIN_A.into(), PIN_B.into()]),
    );
    dom.insert("TSKEnforcePinning".into(), true.into());
    let mut domains = plist::Dictionary::new();
    domains.insert(host.into(), dom.into());
    let mut tk = plist::Dictionary::new();
    tk.insert("TSKPinnedDomains".into(), domains.into());
    let mut d = plist::Dictionary::new();
    d.insert("TSKConfiguration".into(), tk.into());
    plist::Value::Dictionary(d)
}

/// A provisioning profile: a plist signed as CMS by `openssl cms`.
fn mobileprovision(dir: &Path, team: &str) -> (Vec<u8>, String) {
    let dev = root_ca("Apple Development: Test", KeyKind::P256);
    let mut d = plist::Dictionary::new();
    d.insert(
        "TeamIdentifier".into(),
        plist::Value::Array(vec![team.into()]),
    );
    d.insert(
        "DeveloperCertificates".into(),
        plist::Value::Array(vec![plist::Value::Data(dev.der.to_vec())]),
    );
    let mut xml = Vec::new();
    plist::Value::Dictionary(d).to_writer_xml(&mut xml).unwrap();
    (
        signed_cms(dir, &dev, &xml),
        hex::encode(ring::digest::digest(
            &ring::digest::SHA256,
            dev.der.as_ref(),
        )),
    )
}

/// `content` in a CMS SignedData by `signer` (as `embedded.mobileprovision`
/// wraps its plist), made by openssl.
fn signed_cms(dir: &Path, signer: &Cert, content: &[u8]) -> Vec<u8> {
    let cert = dir.join("dev.pem");
    let key = dir.join("dev.key");
    std::fs::write(&cert, &signer.pem).unwrap();
    std::fs::write(&key, signer.key.as_ref().unwrap().serialize_pem()).unwrap();
    openssl(
        &[
            "cms",
            "-sign",
            "-nodetach",
            "-binary",
            "-outform",
            "DER",
            "-signer",
            cert.to_str().unwrap(),
            "-inkey",
            key.to_str().unwrap(),
        ],
        content,
    )
}

/// An IPA of `entries` at `path`.
fn write_ipa(path: &Path, entries: &[(&str, &[u8])]) {
    let mut w = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, data) in entries {
        w.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap();
}

#[test]
fn a_spoofed_bundle_name_is_not_the_apps_info_plist() {
    let dir = tempfile::tempdir().unwrap();
    // `Payload/Evil.appInfo.plist` (no folder) first, with pins; the
    // bundle's real Info.plist allows arbitrary loads.
    let pinned = binary_plist(&info_plist(&[PIN_A]));
    let mut open = plist::Dictionary::new();
    open.insert("CFBundleIdentifier".into(), "jp.example.bank".into());
    let mut ats = plist::Dictionary::new();
    ats.insert("NSAllowsArbitraryLoads".into(), true.into());
    open.insert(
        "NSAppTransportSecurity".into(),
        plist::Value::Dictionary(ats),
    );
    let open = binary_plist(&plist::Value::Dictionary(open));
    let ipa = dir.path().join("Spoof.ipa");
    write_ipa(
        &ipa,
        &[
            ("Payload/Evil.appInfo.plist", pinned.as_slice()),
            ("Payload/Bank.app/Info.plist", open.as_slice()),
        ],
    );
    let (_, v, err) = audit_json(&[ipa.to_str().unwrap()]);
    assert!(err.is_empty(), "{err}");
    assert_eq!(v["packages"][0]["app_id"], "jp.example.bank");
    assert!(
        rules(&v).contains(&"CLEARTEXT-BASE".to_owned())
            && rules(&v).contains(&"PIN-NONE".to_owned()),
        "{:?}",
        rules(&v)
    );
}

#[test]
fn a_deeply_nested_provisioning_profile_is_refused_not_a_stack_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let info = binary_plist(&info_plist(&[PIN_A]));
    let depth = 100_000;
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?><plist version=\"1.0\">");
    xml.push_str(&"<array>".repeat(depth));
    xml.push_str(&"</array>".repeat(depth));
    xml.push_str("</plist>");
    let signer = root_ca("Apple Development: Test", KeyKind::P256);
    let prov = signed_cms(dir.path(), &signer, xml.as_bytes());
    let ipa = dir.path().join("Deep.ipa");
    write_ipa(
        &ipa,
        &[
            ("Payload/Bank.app/Info.plist", info.as_slice()),
            ("Payload/Bank.app/embedded.mobileprovision", prov.as_slice()),
        ],
    );
    let err = refused(&ipa);
    assert!(err.contains("embedded.mobileprovision"), "{err}");
}

/// The decoded sources of an APK and an IPA audited together: the app's NSC
/// file (target SDK 34, as its manifest says) and the IPA's plists as files.
fn audit_decoded(p: &Project, info: &Path, trustkit: &Path) -> Value {
    let (_, v, err) = audit_json(&[
        "--android-target-sdk",
        "34",
        p.path("res/xml/network_security_config.xml")
            .to_str()
            .unwrap(),
        info.to_str().unwrap(),
        trustkit.to_str().unwrap(),
    ]);
    assert!(err.is_empty(), "{err}");
    v
}

#[test]
fn an_ipa_reads_ats_trustkit_and_the_team_and_audits_with_its_apk() {
    let dir = tempfile::tempdir().unwrap();
    let info = binary_plist(&info_plist(&[PIN_A]));
    let tk = binary_plist(&trustkit_plist("cdn.example.com"));
    let (prov, dev_digest) = mobileprovision(dir.path(), "ABCDE12345");
    let ipa_path = dir.path().join("Bank.ipa");
    {
        let mut w = zip::ZipWriter::new(std::fs::File::create(&ipa_path).unwrap());
        for (name, data) in [
            ("Payload/Bank.app/Info.plist", info.as_slice()),
            (
                "Payload/Bank.app/Frameworks/Net.framework/TrustKit.plist",
                tk.as_slice(),
            ),
            ("Payload/Bank.app/embedded.mobileprovision", prov.as_slice()),
            ("Payload/Bank.app/Bank", b"\xcf\xfa\xed\xfe".as_slice()),
        ] {
            w.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap();
    }
    let (code, v, err) = audit_json(&[ipa_path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let pkg = &v["packages"][0];
    assert_eq!(pkg["kind"], "ipa");
    assert_eq!(pkg["app_id"], "jp.example.bank");
    assert_eq!(pkg["version"], "1.2.3");
    assert_eq!(pkg["build"], "420");
    assert_eq!(pkg["team_id"], "ABCDE12345");
    assert_eq!(pkg["signing_certificates"][0]["scheme"], "provisioning");
    assert_eq!(
        pkg["signing_certificates"][0]["sha256"],
        dev_digest.as_str()
    );
    let formats: Vec<&str> = v["configs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["format"].as_str().unwrap())
        .collect();
    assert_eq!(formats, ["ats", "trustkit"]);

    // The decoded sources: the same binary plists as files.
    let info_file = dir.path().join("Info.plist");
    let tk_file = dir.path().join("TrustKit.plist");
    std::fs::write(&info_file, &info).unwrap();
    std::fs::write(&tk_file, &tk).unwrap();
    let (_, src, err) = audit_json(&[info_file.to_str().unwrap(), tk_file.to_str().unwrap()]);
    assert!(err.is_empty(), "{err}");
    assert_eq!(findings(&v), findings(&src));
    assert!(rules(&v).contains(&"PIN-BACKUP-MISSING".to_owned()));

    // An Info.plist holding ATS and TrustKit: read once, as both.
    let mut both_keys = info_plist(&[PIN_A]);
    let tk_root = trustkit_plist("cdn.example.com");
    both_keys.as_dictionary_mut().unwrap().insert(
        "TSKConfiguration".into(),
        tk_root.as_dictionary().unwrap()["TSKConfiguration"].clone(),
    );
    let both_bytes = binary_plist(&both_keys);
    let one = dir.path().join("One.ipa");
    {
        let mut w = zip::ZipWriter::new(std::fs::File::create(&one).unwrap());
        w.start_file(
            "Payload/One.app/Info.plist",
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        w.write_all(&both_bytes).unwrap();
        w.finish().unwrap();
    }
    std::fs::create_dir(dir.path().join("both")).unwrap();
    let both_file = dir.path().join("both/Info.plist");
    std::fs::write(&both_file, &both_bytes).unwrap();
    let (_, v1, err) = audit_json(&[one.to_str().unwrap()]);
    assert!(err.is_empty(), "{err}");
    let (_, s1, _) = audit_json(&[both_file.to_str().unwrap()]);
    assert_eq!(findings(&v1), findings(&s1));
    assert_eq!(v1["configs"].as_array().unwrap().len(), 1);

    // Android and iOS builds together get the cross-platform rules:
    // cdn.example.com is pinned on iOS only; api.example.com pins differ.
    let ca = root_ca("CA", KeyKind::P256);
    let p = pinned_app(34, &ca.pem);
    let apk = p.apk();
    let (_, both, err) = audit_json(&[apk.to_str().unwrap(), ipa_path.to_str().unwrap()]);
    assert!(err.is_empty(), "{err}");
    let r = rules(&both);
    assert!(r.contains(&"XPLAT-UNPINNED".to_owned()), "{r:?}");
    assert!(r.contains(&"XPLAT-PINS-DIFFER".to_owned()), "{r:?}");
    let src_both = audit_decoded(&p, &info_file, &tk_file);
    assert_eq!(findings(&both), findings(&src_both));
}

#[test]
fn the_newest_target_sdks_keep_cleartext_off_and_require_ct_from_37() {
    // Cleartext: off by default from target 28 on, 36 and 37 included (Android
    // 17 only plans to deprecate usesCleartextTraffic; the default is unchanged).
    for target in [36, 37] {
        let p = Project::new(&manifest(target, ""), &[]);
        let (code, v, err) = audit_json(&[p.apk().to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(v["packages"][0]["target_sdk"], target);
        let r = rules(&v);
        assert!(
            !r.contains(&"CLEARTEXT-DEFAULT".to_owned()),
            "{target}: {r:?}"
        );
        assert!(!r.contains(&"CLEARTEXT-BASE".to_owned()), "{target}: {r:?}");
    }
    // Certificate transparency: required by default for apps targeting 37
    // and later (AOSP DEFAULT_ENABLE_CERTIFICATE_TRANSPARENCY), so user CAs in
    // base-config switch off a check the platform would make; at 36 there is
    // nothing to switch off. The package's own targetSdkVersion decides.
    let nsc = r#"<?xml version="1.0" encoding="utf-8"?>
<network-security-config>
    <base-config>
        <trust-anchors>
            <certificates src="system"/>
            <certificates src="user"/>
        </trust-anchors>
    </base-config>
</network-security-config>
"#;
    for (target, ct_finding) in [(36, false), (37, true)] {
        let p = Project::new(
            &manifest(
                target,
                r#"android:networkSecurityConfig="@xml/network_security_config""#,
            ),
            &[("res/xml/network_security_config.xml", nsc.as_bytes())],
        );
        let (_, v, err) = audit_json(&[p.apk().to_str().unwrap()]);
        assert!(err.is_empty(), "{err}");
        let r = rules(&v);
        assert_eq!(
            r.contains(&"CT-DISABLED-BY-ANCHORS".to_owned()),
            ct_finding,
            "target {target}: {r:?}"
        );
        // The same findings as the decoded source with that target SDK.
        let (_, src, _) = audit_json(&[
            "--android-target-sdk",
            &target.to_string(),
            p.path("res/xml/network_security_config.xml")
                .to_str()
                .unwrap(),
        ]);
        assert_eq!(findings(&v), findings(&src), "target {target}");
    }
}

#[test]
fn android_and_ios_builds_whose_expiry_instants_differ_are_reported() {
    // The APK pins api.example.com until 2027-06-01 (device-local midnight,
    // Android); the IPA's TrustKit plist until the same date, which TrustKit
    // reads as midnight UTC: pinning ends at different instants.
    let dir = tempfile::tempdir().unwrap();
    let mut tk = trustkit_plist("api.example.com");
    tk.as_dictionary_mut().unwrap()["TSKConfiguration"]
        .as_dictionary_mut()
        .unwrap()["TSKPinnedDomains"]
        .as_dictionary_mut()
        .unwrap()["api.example.com"]
        .as_dictionary_mut()
        .unwrap()
        .insert("TSKExpirationDate".into(), "2027-06-01".into());
    let tk = binary_plist(&tk);
    let info = binary_plist(&info_plist(&[PIN_A, PIN_B]));
    let ipa = dir.path().join("Bank.ipa");
    {
        let mut w = zip::ZipWriter::new(std::fs::File::create(&ipa).unwrap());
        for (name, data) in [
            ("Payload/Bank.app/Info.plist", info.as_slice()),
            ("Payload/Bank.app/TrustKit.plist", tk.as_slice()),
        ] {
            w.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap();
    }
    let ca = root_ca("CA", KeyKind::P256);
    let p = pinned_app(34, &ca.pem);
    let apk = p.apk();
    let (_, v, err) = audit_json(&[apk.to_str().unwrap(), ipa.to_str().unwrap()]);
    assert!(err.is_empty(), "{err}");
    let expiry: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "EXPIRY-TIMEZONE")
        .filter(|f| f["message"].as_str().unwrap().contains("vs iOS expiry"))
        .collect();
    assert_eq!(expiry.len(), 1, "{v}");
    assert!(
        expiry[0]["message"]
            .as_str()
            .unwrap()
            .contains("(device-local midnight) vs iOS expiry 2027-06-01 (midnight UTC)"),
        "{}",
        expiry[0]
    );
    assert_eq!(expiry[0]["host"], "api.example.com");
    assert!(
        expiry[0]["file"]
            .as_str()
            .unwrap()
            .ends_with("unsigned.apk!/res/xml/network_security_config.xml"),
        "{}",
        expiry[0]
    );
    // The decoded sources give the same findings.
    let info_file = dir.path().join("Info.plist");
    let tk_file = dir.path().join("TrustKit.plist");
    std::fs::write(&info_file, &info).unwrap();
    std::fs::write(&tk_file, &tk).unwrap();
    let src = audit_decoded(&p, &info_file, &tk_file);
    assert_eq!(findings(&v), findings(&src));
    // In Japanese too, with the same locations.
    let out = mamori(&[
        "audit",
        "--lang",
        "ja",
        "--at",
        AT,
        "--fail-on",
        "never",
        apk.to_str().unwrap(),
        ipa.to_str().unwrap(),
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("ピン留めが切れる時刻が異なります"), "{text}");
}

#[test]
fn allow_backup_true_or_left_out_is_reported() {
    // android:allowBackup defaults to true: left out, the app's data is
    // backed up as with "true"; only "false" keeps it on the device.
    let off = r#" android:allowBackup="false""#;
    let cases = [
        (
            manifest(34, "").replace(off, r#" android:allowBackup="true""#),
            Some(true),
            Some("sets android:allowBackup=\"true\""),
        ),
        (
            manifest(34, "").replace(off, ""),
            None,
            Some("leaves android:allowBackup unset"),
        ),
        (manifest(34, ""), Some(false), None),
    ];
    for (m, declared, message) in cases {
        let p = Project::new(&m, &[]);
        let apk = p.apk();
        let (_, v, err) = audit_json(&[apk.to_str().unwrap()]);
        assert!(err.is_empty(), "{err}");
        assert_eq!(
            v["packages"][0]["allow_backup"],
            serde_json::json!(declared)
        );
        let found: Vec<&Value> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "APP-ALLOW-BACKUP")
            .collect();
        match message {
            None => assert!(found.is_empty(), "{found:?}"),
            Some(m) => {
                assert_eq!(found.len(), 1, "{v}");
                let f = found[0];
                assert!(f["message"].as_str().unwrap().contains(m), "{f}");
                assert_eq!(f["severity"], "low");
                assert_eq!(f["guideline"], "DATA-1");
                assert_eq!(
                    f["file"].as_str().unwrap(),
                    format!("{}!/AndroidManifest.xml", apk.display())
                );
                // <application> is on line 5 of the source manifest.
                assert_eq!(f["line"], 5);
            }
        }
    }
}

/// The bytes of `name` in the zip at `path`.
fn entry_of(path: &Path, name: &str) -> Vec<u8> {
    let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut z.by_name(name).unwrap(), &mut out).unwrap();
    out
}

/// A copy of the zip at `path` (at `out`) with the entries named in
/// `replace` holding other bytes.
fn rezip(path: &Path, out: &Path, replace: &[(&str, &[u8])]) {
    let mut src = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut dst = zip::ZipWriter::new(std::fs::File::create(out).unwrap());
    for i in 0..src.len() {
        let mut e = src.by_index(i).unwrap();
        let name = e.name().to_owned();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut bytes).unwrap();
        if let Some((_, b)) = replace.iter().find(|(n, _)| *n == name) {
            bytes = b.to_vec();
        }
        dst.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        dst.write_all(&bytes).unwrap();
    }
    dst.finish().unwrap();
}

fn with_rule<'a>(v: &'a Value, rule: &str) -> Vec<&'a Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

#[test]
fn a_second_application_element_is_ignored_as_android_does() {
    // PackageParser reads the first <application> and skips the others:
    // the second's debuggable and cleartext must not count (review M4).
    let m = manifest(34, "").replace(
        "    </application>\n",
        "    </application>\n    <application android:debuggable=\"true\" android:usesCleartextTraffic=\"true\" android:allowBackup=\"true\"/>\n",
    );
    let p = Project::new(&m, &[]);
    let (code, v, err) = audit_json(&[p.apk().to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let pkg = &v["packages"][0];
    assert_eq!(pkg["debuggable"], false, "{pkg}");
    assert_eq!(pkg["allow_backup"], false, "{pkg}");
    assert_eq!(pkg["uses_cleartext_traffic"], Value::Null, "{pkg}");
    assert_eq!(pkg["manifest_line"], 5);
    let r = rules(&v);
    assert!(!r.contains(&"APP-DEBUGGABLE".to_owned()), "{r:?}");
    assert!(!r.contains(&"CLEARTEXT-BASE".to_owned()), "{r:?}");
    let dup = with_rule(&v, "APP-MANIFEST-AMBIGUOUS");
    assert_eq!(dup.len(), 1, "{v}");
    // Line 8 of the source manifest; the first is on line 5.
    assert_eq!(dup[0]["line"], 8);
    assert!(
        dup[0]["message"].as_str().unwrap().contains(
            "a second <application> (line 8) is ignored by Android, which reads the first (line 5)"
        ),
        "{}",
        dup[0]
    );
}

#[test]
fn reference_valued_manifest_attributes_resolve_through_the_resource_table() {
    // android:debuggable="@bool/dbg" is true through resources.arsc (it was
    // read as false); usesCleartextTraffic="@bool/ct" is false by default
    // and true from API 28: noted; allowBackup as a theme attribute cannot
    // be resolved from the package: noted, never read as false (review M7).
    let m = manifest(34, "")
        .replace(
            r#"android:allowBackup="false""#,
            r#"android:allowBackup="?android:attr/windowNoTitle""#,
        )
        .replace(
            "        >",
            r#"        android:debuggable="@bool/dbg" android:usesCleartextTraffic="@bool/ct">"#,
        );
    let p = Project::new(
        &m,
        &[
            (
                "res/values/bools.xml",
                br#"<resources><bool name="dbg">true</bool><bool name="ct">false</bool></resources>"#,
            ),
            (
                "res/values-v28/bools.xml",
                br#"<resources><bool name="ct">true</bool></resources>"#,
            ),
        ],
    );
    for pkg_path in [p.apk(), p.aab()] {
        let (code, v, err) = audit_json(&[pkg_path.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        let pkg = &v["packages"][0];
        assert_eq!(pkg["debuggable"], true, "{pkg}");
        assert_eq!(pkg["uses_cleartext_traffic"], false, "{pkg}");
        assert_eq!(pkg["allow_backup"], Value::Null, "{pkg}");
        assert!(rules(&v).contains(&"APP-DEBUGGABLE".to_owned()), "{v}");
        let notes: Vec<String> = with_rule(&v, "APP-MANIFEST-AMBIGUOUS")
            .iter()
            .map(|f| f["message"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(
            notes.iter().any(|n| n.contains(
                "android:usesCleartextTraffic is @bool/ct: false in the default configuration, true in others"
            )),
            "{notes:?}"
        );
        assert!(
            notes
                .iter()
                .any(|n| n.starts_with("android:allowBackup is ?0x01010056, which")),
            "{notes:?}"
        );
    }
}

#[test]
fn each_package_follows_its_own_target_sdk() {
    // Two apps audited together: the one targeting 27 has cleartext by
    // default, the one targeting 34 does not. One target SDK (the first
    // package's) was applied to both (review M9).
    let old = Project::new(&manifest(27, ""), &[]);
    let new = Project::new(&manifest(34, ""), &[]);
    let (old_apk, new_apk) = (old.apk(), new.apk());
    for order in [[&old_apk, &new_apk], [&new_apk, &old_apk]] {
        let (code, v, err) = audit_json(&[order[0].to_str().unwrap(), order[1].to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        let files: Vec<&str> = with_rule(&v, "CLEARTEXT-DEFAULT")
            .iter()
            .map(|f| f["file"].as_str().unwrap())
            .collect();
        assert_eq!(
            files,
            [format!("{}!/AndroidManifest.xml", old_apk.display())],
            "{v}"
        );
    }
}

#[test]
fn nsc_variants_by_configuration_are_audited_and_flagged() {
    // res/xml-v24/ replaces the default file on API 24+: it drops the pins
    // (review M6). Both files are audited and the variant is named.
    let ca = root_ca("CA", KeyKind::P256);
    let unpinned = r#"<?xml version="1.0" encoding="utf-8"?>
<network-security-config>
    <domain-config cleartextTrafficPermitted="true">
        <domain includeSubdomains="true">api.example.com</domain>
        <trust-anchors>
            <certificates src="@raw/ca"/>
        </trust-anchors>
    </domain-config>
</network-security-config>
"#;
    let same = nsc_two_pins("");
    let p = Project::new(
        &manifest(
            34,
            r#"android:networkSecurityConfig="@xml/network_security_config""#,
        ),
        &[
            ("res/xml/network_security_config.xml", same.as_bytes()),
            (
                "res/xml-v24/network_security_config.xml",
                unpinned.as_bytes(),
            ),
            // The same content under another qualifier: not a variant worth a finding.
            ("res/xml-v23/network_security_config.xml", same.as_bytes()),
            ("res/raw/ca.pem", ca.pem.as_bytes()),
        ],
    );
    for pkg_path in [p.apk(), p.aab()] {
        let (code, v, err) = audit_json(&[pkg_path.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        let base = if pkg_path.extension().unwrap() == "aab" {
            "base/"
        } else {
            ""
        };
        assert_eq!(
            v["packages"][0]["network_security_config"],
            format!("{base}res/xml/network_security_config.xml")
        );
        let var = with_rule(&v, "APP-NSC-VARIANT");
        assert_eq!(var.len(), 1, "{v}");
        let msg = var[0]["message"].as_str().unwrap();
        assert!(
            msg.contains(&format!(
                "variants whose content differs: {base}res/xml-v24/network_security_config.xml;"
            )),
            "{msg}"
        );
        assert!(!msg.contains("xml-v23"), "{msg}");
        let v24 = format!(
            "{}!/{base}res/xml-v24/network_security_config.xml",
            pkg_path.display()
        );
        let in_v24: Vec<&str> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["file"] == v24.as_str())
            .map(|f| f["rule"].as_str().unwrap())
            .collect();
        assert!(in_v24.contains(&"CLEARTEXT-DOMAIN"), "{in_v24:?}");
        assert!(in_v24.contains(&"PIN-NONE"), "{in_v24:?}");
        // The anchor both pinned files name is listed once.
        assert_eq!(
            v["packages"][0]["bundled_anchors"]
                .as_array()
                .unwrap()
                .len(),
            1,
            "{v}"
        );
    }
}

#[test]
fn a_broken_debug_companion_fails_only_the_debuggable_build() {
    // Android reads `<name>_debug` only in a debuggable build: a release
    // build whose companion does not decode audits on, with the companion
    // listed as ignored (it failed the whole audit: review L4).
    let ca = root_ca("CA", KeyKind::P256);
    let debug = "<network-security-config><debug-overrides/></network-security-config>";
    for debuggable in [false, true] {
        let attrs = if debuggable {
            format!("{NSC_ATTR} android:debuggable=\"true\"")
        } else {
            NSC_ATTR.to_owned()
        };
        let p = companion_app(&attrs, debug, &ca);
        let apk = p.apk();
        let broken = p.path("broken.apk");
        rezip(
            &apk,
            &broken,
            &[(
                "res/xml/network_security_config_debug.xml",
                b"\x03\x00\x08\x00garbage",
            )],
        );
        if debuggable {
            let e = refused(&broken);
            assert!(e.contains("network_security_config_debug"), "{e}");
            continue;
        }
        let (code, v, err) = audit_json(&[broken.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        let ignored = with_rule(&v, "CONFIG-IGNORED");
        assert_eq!(ignored.len(), 1, "{v}");
        let m = ignored[0]["message"].as_str().unwrap();
        assert!(
            m.contains("network_security_config_debug.xml (read only by debuggable builds: ")
                && m.contains("malformed binary XML"),
            "{m}"
        );
        // The rest of the audit is the intact package's (whose companion's
        // overrides are reported).
        let (_, intact, _) = audit_json(&[apk.to_str().unwrap()]);
        let without = |v: &Value, rule: &str| -> Vec<Found> {
            findings(v).into_iter().filter(|f| f.0 != rule).collect()
        };
        assert_eq!(
            without(&v, "CONFIG-IGNORED"),
            without(&intact, "DEBUG-OVERRIDES")
        );
    }
}

#[test]
fn raw_anchors_are_read_as_certificate_factory_reads_them() {
    // CertificateFactory.generateCertificates accepts PEM sequences, DER
    // certificates back to back and PKCS#7 (DER or PEM): every certificate
    // counts (review L3). Only the first of two DER certificates was read,
    // and PKCS#7 was "not a certificate".
    let a = root_ca("Anchor A", KeyKind::P256);
    let b = root_ca("Anchor B", KeyKind::P256);
    let dir = tempfile::tempdir().unwrap();
    let (pa, pb) = (dir.path().join("a.pem"), dir.path().join("b.pem"));
    std::fs::write(&pa, &a.pem).unwrap();
    std::fs::write(&pb, &b.pem).unwrap();
    let p7 = |form: &str| {
        openssl(
            &[
                "crl2pkcs7",
                "-nocrl",
                "-certfile",
                pa.to_str().unwrap(),
                "-certfile",
                pb.to_str().unwrap(),
                "-outform",
                form,
            ],
            b"",
        )
    };
    let mut ders = a.der.to_vec();
    ders.extend_from_slice(b.der.as_ref());
    let pems = format!("{}{}", a.pem, b.pem);
    let cases: [(&str, Vec<u8>); 4] = [
        ("PEM sequence", pems.into_bytes()),
        ("DER back to back", ders),
        ("PKCS#7 DER", p7("DER")),
        ("PKCS#7 PEM", p7("PEM")),
    ];
    for (what, bytes) in cases {
        let p = pinned_app(34, "");
        std::fs::write(p.path("res/raw/ca.pem"), &bytes).unwrap();
        let (code, v, err) = audit_json(&[p.apk().to_str().unwrap()]);
        assert_eq!(code, 0, "{what}: {err}");
        let anchor = &v["packages"][0]["bundled_anchors"][0];
        assert_eq!(anchor["error"], Value::Null, "{what}: {anchor}");
        let pins: Vec<&str> = anchor["pins"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        assert_eq!(pins, [a.pin().as_str(), b.pin().as_str()], "{what}");
    }
}

#[test]
fn duplicate_entry_names_are_refused_as_android_refuses_them() {
    // libziparchive refuses an archive listing a name twice ("Master Key");
    // the zip crate kept the last copy silently (review L1). The second
    // copy is written under a name of the same length, then renamed in
    // place (local and central headers).
    let (_, real) = compiled_manifest();
    let z = zip_with(
        &[
            ("AndroidManifest.xml", &real),
            ("AndroidManifesX.xml", b"x"),
        ],
        zip::CompressionMethod::Stored,
    );
    let bytes = std::fs::read(z.path()).unwrap();
    let mut patched = Vec::new();
    let mut rest = bytes.as_slice();
    while let Some(i) = rest.windows(19).position(|w| w == b"AndroidManifesX.xml") {
        patched.extend_from_slice(&rest[..i]);
        patched.extend_from_slice(b"AndroidManifest.xml");
        rest = &rest[i + 19..];
    }
    patched.extend_from_slice(rest);
    std::fs::write(z.path(), &patched).unwrap();
    let e = refused(z.path());
    assert!(
        e.contains("duplicate entry name") && e.contains("\"AndroidManifest.xml\""),
        "{e}"
    );
}

#[test]
fn an_ipa_with_several_app_bundles_is_refused() {
    // An IPA installs one app; which of two bundles the evidence names
    // would be a guess (the first was audited silently: review M8).
    let dir = tempfile::tempdir().unwrap();
    let info = binary_plist(&info_plist(&[PIN_A]));
    let ipa = dir.path().join("Two.ipa");
    write_ipa(
        &ipa,
        &[
            ("Payload/Bank.app/Info.plist", info.as_slice()),
            ("Payload/Other.app/Info.plist", info.as_slice()),
        ],
    );
    let e = refused(&ipa);
    assert!(
        e.contains("holds 2 app bundles (Payload/Bank.app/, Payload/Other.app/)"),
        "{e}"
    );
}

#[test]
fn framework_attributes_count_by_resource_id_only() {
    // Android matches manifest attributes by resource id: an
    // android:debuggable whose id is gone from the resource map is not the
    // attribute (it counted, by name: review M5), and one whose name string
    // is renamed but keeps its id still is.
    let p = Project::new(&manifest(34, r#"android:debuggable="true""#), &[]);
    let apk = p.apk();
    let axml = entry_of(&apk, "AndroidManifest.xml");
    // The resource map chunk (type 0x0180) follows the string pool.
    let map = axml
        .windows(4)
        .position(|w| w[..2] == [0x80, 0x01] && w[2..] == [8, 0])
        .expect("resource map");
    let size = u32::from_le_bytes(axml[map + 4..map + 8].try_into().unwrap()) as usize;
    let mut no_id = axml.clone();
    let mut found = false;
    for at in (map + 8..map + size).step_by(4) {
        if no_id[at..at + 4] == 0x0101_000fu32.to_le_bytes() {
            no_id[at..at + 4].copy_from_slice(&0u32.to_le_bytes());
            found = true;
        }
    }
    assert!(found, "debuggable's id in the resource map");
    // aapt writes manifest pools as UTF-16.
    let utf16 = |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(u16::to_le_bytes).collect() };
    let (from, to) = (utf16("debuggable"), utf16("xebuggable"));
    let at = axml
        .windows(from.len())
        .position(|w| w == from.as_slice())
        .expect("the name string");
    let mut renamed = axml.clone();
    renamed[at..at + to.len()].copy_from_slice(&to);
    for (bytes, debuggable) in [(no_id, false), (renamed, true), (axml, true)] {
        let out = p.path("patched.apk");
        rezip(&apk, &out, &[("AndroidManifest.xml", &bytes)]);
        let (code, v, err) = audit_json(&[out.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(v["packages"][0]["debuggable"], debuggable, "{v}");
    }
}

#[test]
fn the_configuration_is_read_before_dex_can_spend_the_budget() {
    // The decompression budget is shared by the whole audit. DEX was read
    // before the network security config, so dex files could spend it and
    // leave the configuration unread: the audit failed (review M3). Here
    // the budget is cut (load_package_within) so that one 1 MiB dex plus
    // the configuration's files do not both fit.
    let ca = root_ca("CA", KeyKind::P256);
    let p = pinned_app(34, &ca.pem);
    let apk = p.apk();
    let dex: Vec<u8> = b"dex\n035\0"
        .iter()
        .copied()
        .chain((0..(1u32 << 20) - 8).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8))
        .collect();
    let with_dex = p.path("dex.apk");
    {
        let mut src = zip::ZipArchive::new(std::fs::File::open(&apk).unwrap()).unwrap();
        let mut dst = zip::ZipWriter::new(std::fs::File::create(&with_dex).unwrap());
        for i in 0..src.len() {
            dst.raw_copy_file(src.by_index_raw(i).unwrap()).unwrap();
        }
        dst.start_file("classes.dex", zip::write::SimpleFileOptions::default())
            .unwrap();
        dst.write_all(&dex).unwrap();
        dst.finish().unwrap();
    }
    let size = |name: &str| entry_of(&apk, name).len() as u64;
    let nsc = size("res/xml/network_security_config.xml");
    // Enough for the manifest, the table and the dex, and one byte short
    // of the NSC after them; enough for all the configuration's files and
    // not the dex.
    let budget = size("AndroidManifest.xml") + size("resources.arsc") + dex.len() as u64 + nsc - 1;
    assert!(size("res/raw/ca.pem") < dex.len() as u64);
    let pkg = mamori::audit::package::load_package_within(&with_dex, budget)
        .unwrap_or_else(|e| panic!("the configuration fits the budget: {e}"));
    assert_eq!(
        pkg.network_security_config.as_deref(),
        Some("res/xml/network_security_config.xml")
    );
    assert_eq!(pkg.bundled_anchors[0].pins, [ca.pin()]);
    // The full budget reads everything.
    assert!(mamori::audit::package::load_package(&with_dex).is_ok());
}

/// One entry of a zip written byte by byte, for what the zip crate's writer
/// does not produce: sizes that lie, data descriptors, ZIP64 records.
struct RawEntry {
    name: String,
    /// The bytes as stored (deflated when `deflated`).
    data: Vec<u8>,
    deflated: bool,
    crc: u32,
    /// The uncompressed size the headers declare.
    size: u64,
    /// Sizes and CRC after the data (general-purpose flag bit 3).
    descriptor: bool,
    /// Sizes and offset in ZIP64 extra fields.
    zip64: bool,
}

impl RawEntry {
    /// `content` stored or deflated, with its true size and CRC.
    fn of(name: &str, content: &[u8], deflated: bool) -> Self {
        let data = if deflated {
            let mut e =
                flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(content).unwrap();
            e.finish().unwrap()
        } else {
            content.to_vec()
        };
        let mut crc = flate2::Crc::new();
        crc.update(content);
        Self {
            name: name.to_owned(),
            data,
            deflated,
            crc: crc.sum(),
            size: content.len() as u64,
            descriptor: false,
            zip64: false,
        }
    }
}

/// A zip of `entries`, its end records in ZIP64 form when `zip64_end`.
fn raw_zip(entries: &[RawEntry], zip64_end: bool) -> Vec<u8> {
    fn u16le(v: &mut Vec<u8>, x: u16) {
        v.extend_from_slice(&x.to_le_bytes());
    }
    fn u32le(v: &mut Vec<u8>, x: u32) {
        v.extend_from_slice(&x.to_le_bytes());
    }
    fn u64le(v: &mut Vec<u8>, x: u64) {
        v.extend_from_slice(&x.to_le_bytes());
    }
    let mut out = Vec::new();
    let mut central = Vec::new();
    for e in entries {
        let offset = out.len() as u64;
        let (csize, size) = (e.data.len() as u64, e.size);
        let version = if e.zip64 { 45 } else { 20 };
        let flags = if e.descriptor { 8 } else { 0 };
        let method = if e.deflated { 8 } else { 0 };
        let small = |x: u64| if e.zip64 { u32::MAX } else { x as u32 };
        // Local header.
        u32le(&mut out, 0x0403_4b50);
        u16le(&mut out, version);
        u16le(&mut out, flags);
        u16le(&mut out, method);
        u32le(&mut out, 0x0021_0000); // 1980-01-01 00:00
        let (lcrc, lc, lu) = if e.descriptor {
            (0, 0, 0)
        } else {
            (e.crc, small(csize), small(size))
        };
        u32le(&mut out, lcrc);
        u32le(&mut out, lc);
        u32le(&mut out, lu);
        u16le(&mut out, e.name.len() as u16);
        u16le(&mut out, if e.zip64 { 20 } else { 0 });
        out.extend_from_slice(e.name.as_bytes());
        if e.zip64 {
            u16le(&mut out, 1);
            u16le(&mut out, 16);
            u64le(&mut out, if e.descriptor { 0 } else { size });
            u64le(&mut out, if e.descriptor { 0 } else { csize });
        }
        out.extend_from_slice(&e.data);
        if e.descriptor {
            u32le(&mut out, 0x0807_4b50);
            u32le(&mut out, e.crc);
            if e.zip64 {
                u64le(&mut out, csize);
                u64le(&mut out, size);
            } else {
                u32le(&mut out, csize as u32);
                u32le(&mut out, size as u32);
            }
        }
        // Central directory record.
        u32le(&mut central, 0x0201_4b50);
        u16le(&mut central, version);
        u16le(&mut central, version);
        u16le(&mut central, flags);
        u16le(&mut central, method);
        u32le(&mut central, 0x0021_0000);
        u32le(&mut central, e.crc);
        u32le(&mut central, small(csize));
        u32le(&mut central, small(size));
        u16le(&mut central, e.name.len() as u16);
        u16le(&mut central, if e.zip64 { 28 } else { 0 });
        u16le(&mut central, 0); // comment
        u16le(&mut central, 0); // disk
        u16le(&mut central, 0); // internal attributes
        u32le(&mut central, 0); // external attributes
        u32le(&mut central, small(offset));
        central.extend_from_slice(e.name.as_bytes());
        if e.zip64 {
            u16le(&mut central, 1);
            u16le(&mut central, 24);
            u64le(&mut central, size);
            u64le(&mut central, csize);
            u64le(&mut central, offset);
        }
    }
    let cd_offset = out.len() as u64;
    let cd_size = central.len() as u64;
    out.extend_from_slice(&central);
    let n = entries.len() as u64;
    if zip64_end {
        let end64 = out.len() as u64;
        u32le(&mut out, 0x0606_4b50);
        u64le(&mut out, 44);
        u16le(&mut out, 45);
        u16le(&mut out, 45);
        u32le(&mut out, 0);
        u32le(&mut out, 0);
        u64le(&mut out, n);
        u64le(&mut out, n);
        u64le(&mut out, cd_size);
        u64le(&mut out, cd_offset);
        u32le(&mut out, 0x0706_4b50);
        u32le(&mut out, 0);
        u64le(&mut out, end64);
        u32le(&mut out, 1);
    }
    u32le(&mut out, 0x0605_4b50);
    u16le(&mut out, 0);
    u16le(&mut out, 0);
    let (count, size, offset) = if zip64_end {
        (u16::MAX, u32::MAX, u32::MAX)
    } else {
        (n as u16, cd_size as u32, cd_offset as u32)
    };
    u16le(&mut out, count);
    u16le(&mut out, count);
    u32le(&mut out, size);
    u32le(&mut out, offset);
    u16le(&mut out, 0);
    out
}

/// The entries of the zip at `path`: (name, uncompressed bytes).
fn entries_of(path: &Path) -> Vec<(String, Vec<u8>)> {
    let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..z.len())
        .map(|i| {
            let mut e = z.by_index(i).unwrap();
            let mut b = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut b).unwrap();
            (e.name().to_owned(), b)
        })
        .collect()
}

#[test]
fn zip64_and_data_descriptor_entries_read_as_plain_ones() {
    // The same APK re-laid with ZIP64 extra fields and end records, and
    // with data descriptors (deflated, sizes after the data, as streaming
    // writers lay them out): the same package, the same findings.
    let ca = root_ca("CA", KeyKind::P256);
    let p = pinned_app(34, &ca.pem);
    let apk = p.apk();
    let (_, plain, err) = audit_json(&[apk.to_str().unwrap()]);
    assert!(err.is_empty(), "{err}");
    let layouts: [(&str, bool, bool, bool); 3] = [
        ("zip64", true, false, true),
        ("descriptor", false, true, false),
        ("zip64 descriptor", true, true, true),
    ];
    for (what, zip64, descriptor, zip64_end) in layouts {
        let entries: Vec<RawEntry> = entries_of(&apk)
            .iter()
            .map(|(n, b)| RawEntry {
                zip64,
                descriptor,
                ..RawEntry::of(n, b, descriptor)
            })
            .collect();
        let out = p.path("relaid.apk");
        std::fs::write(&out, raw_zip(&entries, zip64_end)).unwrap();
        let (code, v, err) = audit_json(&[out.to_str().unwrap()]);
        assert_eq!(code, 0, "{what}: {err}");
        assert_eq!(v["packages"][0]["app_id"], "jp.example.bank", "{what}");
        assert_eq!(
            v["packages"][0]["bundled_anchors"][0]["pins"][0],
            ca.pin().as_str(),
            "{what}"
        );
        assert_eq!(findings(&v), findings(&plain), "{what}");
    }
}

/// A raw deflate stream that inflates to `n` zero bytes (n > 1) in
/// ~13 bits per 258 bytes: a fixed-Huffman block of one literal and
/// length-258, distance-1 copies.
fn deflate_zeros(n: u64) -> Vec<u8> {
    struct Bits {
        out: Vec<u8>,
        acc: u64,
        len: u32,
    }
    impl Bits {
        fn put(&mut self, v: u64, n: u32) {
            self.acc |= v << self.len;
            self.len += n;
            while self.len >= 8 {
                self.out.push(self.acc as u8);
                self.acc >>= 8;
                self.len -= 8;
            }
        }
        /// A Huffman code, most significant bit first.
        fn code(&mut self, c: u32, n: u32) {
            let r = (0..n).fold(0u64, |r, i| r | (u64::from((c >> i) & 1) << (n - 1 - i)));
            self.put(r, n);
        }
    }
    let mut b = Bits {
        out: Vec::new(),
        acc: 0,
        len: 0,
    };
    b.put(1, 1); // final block
    b.put(1, 2); // fixed Huffman
    b.code(0x30, 8); // literal 0
    let mut left = n - 1;
    while left >= 258 {
        b.code(0xc5, 8); // length code 285: 258
        b.code(0, 5); // distance code 0: 1
        left -= 258;
    }
    for _ in 0..left {
        b.code(0x30, 8);
    }
    b.code(0, 7); // end of block
    b.put(0, 7);
    b.out
}

#[test]
fn a_zip_header_that_lies_about_the_size_is_not_trusted() {
    // The local and central headers say 100 bytes; the deflate stream
    // inflates to 80 MiB at a ratio (~160) below MAX_RATIO. The read stops
    // one byte past MAX_ENTRY_BYTES, whatever the headers claim.
    let (_, real) = compiled_manifest();
    let real_size = 80u64 << 20;
    let bomb = RawEntry {
        name: "resources.arsc".into(),
        data: deflate_zeros(real_size),
        deflated: true,
        crc: 0,
        size: 100,
        descriptor: false,
        zip64: false,
    };
    let ratio = real_size / bomb.data.len() as u64;
    assert!(ratio < 200 && ratio > 100, "ratio {ratio}");
    let t = tempfile::Builder::new().suffix(".apk").tempfile().unwrap();
    std::fs::write(
        t.path(),
        raw_zip(
            &[RawEntry::of("AndroidManifest.xml", &real, true), bomb],
            false,
        ),
    )
    .unwrap();
    let e = refused(t.path());
    assert!(e.contains("resources.arsc"), "{e}");
    assert!(
        e.contains("entry after decompression (more than its header claims) of 67108865 bytes exceeds the limit of 67108864 bytes (MAX_ENTRY_BYTES)"),
        "{e}"
    );
}

#[test]
fn nsc_booleans_compiled_by_aapt2_read_as_their_source() {
    // aapt2 compiles attributes without namespace as any type: "1" to an
    // integer, "#0000" to a colour (0), "no" stays a string. Android reads
    // integers as `!= 0` and strings as the default (review finding 5):
    // the package and its source give the same findings.
    let nsc = format!(
        r##"<?xml version="1.0" encoding="utf-8"?>
<network-security-config>
    <base-config cleartextTrafficPermitted="no"/>
    <domain-config cleartextTrafficPermitted="#0000" hstsEnforced="1">
        <domain includeSubdomains="1">api.example.com</domain>
        <pin-set expiration="2027-06-01">
            <pin digest="SHA-256">{PIN_A}</pin>
            <pin digest="SHA-256">{PIN_B}</pin>
        </pin-set>
    </domain-config>
</network-security-config>
"##
    );
    let p = Project::new(
        &manifest(
            34,
            r#"android:networkSecurityConfig="@xml/network_security_config""#,
        ),
        &[("res/xml/network_security_config.xml", nsc.as_bytes())],
    );
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("network_security_config.xml");
    std::fs::write(&src, &nsc).unwrap();
    let (code, v, err) = audit_json(&["--android-target-sdk", "34", src.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let from_source: Vec<Found> = findings(&v)
        .into_iter()
        .filter(|f| f.0 == "NSC-NOT-BOOLEAN" || f.0.starts_with("CLEARTEXT"))
        .collect();
    assert_eq!(
        from_source
            .iter()
            .map(|f| (f.0.as_str(), f.2))
            .collect::<Vec<_>>(),
        [
            ("CLEARTEXT-BASE", Some(3)),
            ("NSC-NOT-BOOLEAN", Some(3)),
            ("NSC-NOT-BOOLEAN", Some(4)),
            ("NSC-NOT-BOOLEAN", Some(4)),
            ("NSC-NOT-BOOLEAN", Some(5)),
        ],
        "{from_source:#?}"
    );
    let lines = |v: &Value| -> Vec<(String, Option<u64>)> {
        findings(v)
            .into_iter()
            .filter(|f| f.0 == "NSC-NOT-BOOLEAN" || f.0.starts_with("CLEARTEXT"))
            .map(|f| (f.0, f.2))
            .collect()
    };
    for pkg in [p.apk(), p.aab()] {
        let (code, pv, err) = audit_json(&[pkg.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        // "#0000" is the colour 0: cleartext off for the domain, as in the
        // source; "1" is the integer 1.
        assert_eq!(lines(&pv), lines(&v), "{pv}");
    }
}
