//! Auditing the app as shipped: an Android APK or App Bundle, or an iOS IPA.
//!
//! Security teams are often handed a vendor's build without its source. This
//! module reads the package directly (no apktool, no external tool at run
//! time), finds the pinning configuration the platform will load, and hands
//! it, decoded back to text, to the same importers that read source files
//! (`audit::nsc`, `audit::apple`): one set of semantics, whatever the input.
//!
//! * APK ([`apk`]): binary `AndroidManifest.xml` ([`axml`]) → the
//!   `android:networkSecurityConfig` resource id → `resources.arsc`
//!   ([`arsc`]) → the compiled NSC file → XML text with the source's line
//!   numbers → the NSC importer, with the manifest's `debuggable` and target
//!   SDK (which change the platform defaults). `@raw/` trust anchors are read
//!   from the package. The signing certificate comes from the v2/v3 signing
//!   block or the v1 PKCS#7 signature ([`signing`]).
//! * AAB: the same, from aapt2's protobuf XML and resource table
//!   ([`proto`]).
//! * IPA ([`ipa`]): `Payload/*.app/Info.plist` (ATS, TrustKit), TrustKit
//!   plists and embedded frameworks' Info.plists, the bundle id, version and
//!   team.
//!
//! Packages are hostile input: the archive is streamed with bounds on every
//! entry ([`zip`]), every decoder is iterative and bounded, and each failure
//! is a typed [`PackageError`].

mod apk;
mod arsc;
mod axml;
mod dex;
mod ipa;
mod proto;
mod res;
mod signing;
mod zip;

use std::io::Read as _;
use std::path::Path;

use serde::Serialize;

use super::error::ImportError;
use super::model::AuditConfig;
pub use zip::{MAX_CENTRAL_DIRECTORY, MAX_ENTRIES, MAX_ENTRY_BYTES, MAX_RATIO, MAX_TOTAL_BYTES};

/// What kind of package.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageKind {
    /// An Android APK.
    Apk,
    /// An Android App Bundle.
    Aab,
    /// An iOS app archive.
    Ipa,
}

/// A certificate that signed the package.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SigningCertificate {
    /// Where it was found: `v1` (JAR signature), `v2`, `v3`, `v3.1` (APK
    /// signing block), `provisioning` (IPA).
    pub scheme: String,
    /// SHA-256 of the certificate (DER), lower-case hex: what `apksigner
    /// verify --print-certs` and Play Console show.
    pub sha256: String,
    /// The certificate's subject.
    pub subject: String,
    /// Always `false`: the certificate is read from the signature block,
    /// the signature itself is not checked (Android does that at install
    /// time). It names the signer the package claims, which a tampered
    /// file may claim falsely.
    pub verified: bool,
}

/// A certificate bundled as a trust anchor (`@raw/...`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BundledAnchor {
    /// As referenced (`@raw/ca`).
    pub resource: String,
    /// The package entry it resolved to (`res/raw/ca.pem`), if any.
    pub entry: Option<String>,
    /// SPKI SHA-256 pins of the certificates in it.
    pub pins: Vec<String>,
    /// Why it could not be read, when it could not (Android fails to load
    /// the configuration then).
    pub error: Option<String>,
}

/// A `sha256/` pin found in a DEX string table: a heuristic, not a parse
/// of the code (it may be dead code or belong to a library).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HeuristicPin {
    /// The dex file.
    pub entry: String,
    /// The pin as found.
    pub pin: String,
    /// Host-like strings next to it in the string table.
    pub nearby_hosts: Vec<String>,
}

/// Something in a package the audit could not read the way every device
/// will, or had to leave out; each becomes a finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum PackageNote {
    /// A second `<application>` in the manifest: Android's parser reads
    /// the first and ignores the others.
    DuplicateApplication {
        /// The line of the one ignored.
        line: u32,
        /// The line of the first, which applies.
        first_line: u32,
    },
    /// A manifest attribute given as a resource reference (`@bool/x`)
    /// whose value the resource table does not settle: no such resource,
    /// not a value of the attribute's type, or one that differs by
    /// configuration (the device's configuration decides).
    UnresolvedAttribute {
        /// `android:debuggable`.
        attribute: String,
        /// The reference as written (`@bool/debug`, or its id).
        reference: String,
        /// The value read, from the default configuration, if any.
        resolved: Option<String>,
        /// Values other configurations give it.
        other_values: Vec<String>,
    },
    /// The network security config has variants for other configurations
    /// (`res/xml-v24/…`) whose content differs from the one in the default
    /// configuration: a device matching them loads them instead. Each
    /// variant is audited too.
    NscVariants {
        /// The file of the default configuration, the one named as the
        /// package's `network_security_config`.
        entry: String,
        /// The differing variants' files.
        variants: Vec<String>,
    },
}

/// What an audit learned from a package.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AppPackage {
    /// The package file, as given.
    pub file: String,
    /// Its kind.
    pub kind: PackageKind,
    /// SHA-256 of the package file, lower-case hex.
    pub sha256: String,
    /// Android package name / iOS bundle identifier.
    pub app_id: Option<String>,
    /// `versionName` / `CFBundleShortVersionString`.
    pub version: Option<String>,
    /// `versionCode` / `CFBundleVersion`.
    pub build: Option<String>,
    /// `minSdkVersion` (Android).
    pub min_sdk: Option<u32>,
    /// `targetSdkVersion` (Android): changes the NSC defaults.
    pub target_sdk: Option<u32>,
    /// `android:debuggable`: a debuggable build applies `debug-overrides`.
    pub debuggable: bool,
    /// `android:allowBackup` as declared.
    pub allow_backup: Option<bool>,
    /// `android:usesCleartextTraffic` as declared (ignored by Android when
    /// a network security config is present).
    pub uses_cleartext_traffic: Option<bool>,
    /// The NSC entry the manifest points to.
    pub network_security_config: Option<String>,
    /// Signing certificates.
    pub signing_certificates: Vec<SigningCertificate>,
    /// The code-signing team (IPA `TeamIdentifier`).
    pub team_id: Option<String>,
    /// `@raw` trust anchors the configuration names.
    pub bundled_anchors: Vec<BundledAnchor>,
    /// OkHttp-style pins found in DEX string tables (heuristic).
    pub heuristic_pins: Vec<HeuristicPin>,
    /// The line of the manifest's `<application>` element.
    pub manifest_line: Option<u32>,
    /// What the audit could not settle (each is a finding).
    pub notes: Vec<PackageNote>,
    /// The configurations found, ready for [`crate::audit::audit_packages`].
    #[serde(skip)]
    pub configs: Vec<AuditConfig>,
}

impl AppPackage {
    fn new(file: &str, kind: PackageKind, sha256: String) -> Self {
        Self {
            file: file.to_owned(),
            kind,
            sha256,
            app_id: None,
            version: None,
            build: None,
            min_sdk: None,
            target_sdk: None,
            debuggable: false,
            allow_backup: None,
            uses_cleartext_traffic: None,
            network_security_config: None,
            signing_certificates: Vec::new(),
            team_id: None,
            bundled_anchors: Vec::new(),
            heuristic_pins: Vec::new(),
            manifest_line: None,
            notes: Vec::new(),
            configs: Vec::new(),
        }
    }
}

impl AppPackage {
    /// The manifest's entry in the archive.
    pub fn manifest_entry(&self) -> &'static str {
        match self.kind {
            PackageKind::Aab => proto::MANIFEST,
            _ => apk::MANIFEST,
        }
    }
}

/// Why a package could not be audited.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PackageError {
    /// The file could not be read.
    #[error("{file}: cannot read: {reason}")]
    Io {
        /// The package.
        file: String,
        /// The operating system's message.
        reason: String,
    },
    /// Not a readable zip archive (truncated, inconsistent directory).
    #[error("{file}: not a valid zip archive: {reason}")]
    Zip {
        /// The package.
        file: String,
        /// What is wrong.
        reason: String,
    },
    /// An entry name that would escape an extraction folder.
    #[error("{file}: entry {entry:?} has an unsafe name (absolute, `..`, `\\` or NUL): refused")]
    UnsafeName {
        /// The package.
        file: String,
        /// The entry name.
        entry: String,
    },
    /// A size, count or compression-ratio limit.
    #[error("{file}!/{entry}: {limit}")]
    Limit {
        /// The package.
        file: String,
        /// The entry (empty for the archive itself).
        entry: String,
        /// Which limit.
        limit: crate::limits::LimitError,
    },
    /// An entry that does not decode.
    #[error("{file}!/{entry}: malformed {what}: {reason}")]
    Malformed {
        /// The package.
        file: String,
        /// The entry.
        entry: String,
        /// What it should have been (`binary XML`, `resource table`, ...).
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A zip archive that is none of the three package kinds.
    #[error("{file}: not an APK, App Bundle or IPA: {reason}")]
    NotAPackage {
        /// The package.
        file: String,
        /// What was missing.
        reason: String,
    },
    /// An IPA with more than one `Payload/*.app` bundle. An IPA installs
    /// one app, and an audit's evidence names one build (its identity,
    /// version and signer): which bundle the findings belong to would be a
    /// guess, so the archive is refused rather than one bundle picked.
    #[error(
        "{file}: holds {} app bundles ({}): an IPA carries one app; audit each app's own IPA",
        apps.len(),
        apps.join(", ")
    )]
    SeveralApps {
        /// The package.
        file: String,
        /// The bundles (`Payload/A.app/`).
        apps: Vec<String>,
    },
    /// A configuration in the package that its platform would refuse.
    #[error(transparent)]
    Import(#[from] ImportError),
}

/// Whether `path` looks like a package: a zip file (local header magic).
pub fn is_package(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && &magic == b"PK\x03\x04"
}

/// SHA-256 of a file, streamed.
fn file_sha256(path: &Path, file: &str) -> Result<String, PackageError> {
    let io = |e: std::io::Error| PackageError::Io {
        file: file.to_owned(),
        reason: e.to_string(),
    };
    let mut f = std::fs::File::open(path).map_err(io)?;
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        ctx.update(&buf[..n]);
    }
    Ok(hex::encode(ctx.finish()))
}

/// Reads a package: its identity, signing certificates and pinning
/// configurations. `file` is how locations name it (usually the path as
/// given).
pub fn load_package(path: &Path) -> Result<AppPackage, PackageError> {
    load_package_within(path, MAX_TOTAL_BYTES)
}

/// [`load_package`] with at most `total_bytes` decompressed over the audit
/// instead of [`MAX_TOTAL_BYTES`]: lets a test show what the budget
/// reaches without building a 512 MiB package. Not a stable API.
#[doc(hidden)]
pub fn load_package_within(path: &Path, total_bytes: u64) -> Result<AppPackage, PackageError> {
    let file = path.display().to_string();
    let mut archive = zip::Archive::open(path, &file, total_bytes)?;
    let sha256 = file_sha256(path, &file)?;
    if archive.has(apk::MANIFEST) {
        let mut pkg = AppPackage::new(&file, PackageKind::Apk, sha256);
        apk::read_apk(&mut archive, &mut pkg)?;
        return Ok(pkg);
    }
    if archive.has(proto::MANIFEST) {
        let mut pkg = AppPackage::new(&file, PackageKind::Aab, sha256);
        proto::read_aab(&mut archive, &mut pkg)?;
        return Ok(pkg);
    }
    let apps = ipa::app_dirs(&archive);
    if apps.len() > 1 {
        return Err(PackageError::SeveralApps { file, apps });
    }
    if let Some(app) = apps.first() {
        let mut pkg = AppPackage::new(&file, PackageKind::Ipa, sha256);
        ipa::read_ipa(&mut archive, app, &mut pkg)?;
        return Ok(pkg);
    }
    Err(PackageError::NotAPackage {
        file,
        reason: format!(
            "no {}, {} or Payload/*.app/Info.plist",
            apk::MANIFEST,
            proto::MANIFEST
        ),
    })
}

/// `app.apk!/res/xml/nsc.xml`: how a package entry is named in locations
/// (the `jar:` URL convention).
pub fn entry_location(file: &str, entry: &str) -> String {
    format!("{file}!/{entry}")
}

/// Entry points for the `cargo fuzz` targets (`fuzz/fuzz_targets/package_*`):
/// each decoder on raw bytes. Not a stable API.
#[doc(hidden)]
pub mod fuzzing {
    /// Binary XML, and its rendering back to text.
    pub fn axml(b: &[u8]) {
        if let Ok(doc) = super::axml::decode(b) {
            let _ = super::axml::to_xml(&doc, &|_| None);
        }
    }

    /// `resources.arsc`, and a reference walk from every id it holds.
    pub fn arsc(b: &[u8]) {
        if let Ok(t) = super::arsc::ResourceTable::parse(b) {
            for id in [0x7f01_0000u32, 0x7f02_0000, 0x7f03_0000, 0x7f0f_0000] {
                let _ = t.file(id);
                let _ = t.name(id);
            }
        }
    }

    /// aapt2 protobuf XML.
    pub fn proto_xml(b: &[u8]) {
        if let Ok(doc) = super::proto::decode_xml(b) {
            let _ = super::axml::to_xml(&doc, &|_| None);
        }
    }

    /// aapt2 `resources.pb`.
    pub fn proto_table(b: &[u8]) {
        use super::apk::Resources as _;
        if let Ok(t) = super::proto::ProtoTable::parse(b) {
            let _ = t.file(0x7f01_0000);
        }
    }

    /// The pairs of an APK signing block and their v2/v3 certificates.
    pub fn signing_block(b: &[u8]) {
        if let Ok(pairs) = super::signing::block_pairs(b) {
            for (_, v) in pairs {
                let _ = super::signing::scheme_certificates(v);
            }
        }
    }

    /// A PKCS#7 / CMS signature (v1 signature files, provisioning profiles).
    pub fn pkcs7(b: &[u8]) {
        let _ = super::signing::pkcs7_certificates(b);
        let _ = super::signing::pkcs7_content(b);
    }

    /// A dex file's string table and the pin heuristic: (pin, hosts nearby).
    pub fn dex(b: &[u8]) -> Vec<(String, Vec<String>)> {
        super::dex::scan_dex(b).unwrap_or_default()
    }
}
