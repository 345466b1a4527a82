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
            ("app package", "signing certificate of")
        } else {
            ("アプリパッケージ", "の署名証明書")
        };
        assert!(doc.contains(role), "{doc}");
        assert!(doc.contains(signer_role), "{doc}");
        // The app identity comes from the manifest (Android).
        assert!(doc.contains("`jp.example.bank` (Android"), "{doc}");
    }
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
    let nsc = nsc_two_pins("");
    let files: [(&str, &[u8]); 3] = [
        ("res/xml/network_security_config.xml", nsc.as_bytes()),
        (
            "res/xml/network_security_config_debug.xml",
            debug.as_bytes(),
        ),
        ("res/raw/ca.pem", ca.pem.as_bytes()),
    ];
    let nsc_attr = r#"android:networkSecurityConfig="@xml/network_security_config""#;
    let p = Project::new(
        &manifest(34, &format!("{nsc_attr} android:debuggable=\"true\"")),
        &files,
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
    let release = Project::new(&manifest(34, nsc_attr), &files);
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
