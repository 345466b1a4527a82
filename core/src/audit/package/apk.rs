//! APKs (and, through the same [`configure`], App Bundles): what the
//! manifest declares and the network security config Android will load.
//!
//! Android's order (AOSP `ManifestConfigSource`): when the manifest's
//! `<application>` names a `networkSecurityConfig` resource, that file is
//! the configuration and `usesCleartextTraffic` is ignored; otherwise the
//! platform default applies, with cleartext permitted when
//! `usesCleartextTraffic` says so (its default is `targetSdkVersion < 28`)
//! and user CAs trusted below target SDK 24. `targetSdkVersion` defaults to
//! `minSdkVersion`. A debuggable build also applies `debug-overrides` (from
//! the file or its `<name>_debug` resource).

use super::arsc::ResourceTable;
use super::axml::{self, Event, XmlDoc, attr_id};
use super::res::{Malformed, Res, Value};
use super::zip::Archive;
use super::{AppPackage, BundledAnchor, PackageError, entry_location, signing};
use crate::audit::model::{AnchorSource, AuditConfig, Location, SourceFormat};
use crate::audit::nsc::{self, NscOptions};

/// Where an APK keeps its manifest.
pub(crate) const MANIFEST: &str = "AndroidManifest.xml";

/// Resource lookups, from `resources.arsc` (APK) or `resources.pb` (AAB).
pub(crate) trait Resources {
    /// `type/name` of an id.
    fn name(&self, id: u32) -> Option<String>;
    /// The file an id resolves to (following references, bounded).
    fn file(&self, id: u32) -> Res<String>;
    /// The id of `type/name`.
    fn id_of(&self, type_name: &str, key: &str) -> Option<u32>;
    /// The table's entry in the archive (for errors).
    fn entry(&self) -> &'static str;
}

impl Resources for ResourceTable {
    fn name(&self, id: u32) -> Option<String> {
        ResourceTable::name(self, id)
    }
    fn file(&self, id: u32) -> Res<String> {
        ResourceTable::file(self, id)
    }
    fn id_of(&self, type_name: &str, key: &str) -> Option<u32> {
        ResourceTable::id_of(self, type_name, key)
    }
    fn entry(&self) -> &'static str {
        "resources.arsc"
    }
}

pub(crate) fn malformed(
    file: &str,
    entry: &str,
    what: &'static str,
) -> impl Fn(Malformed) -> PackageError {
    move |Malformed(reason)| PackageError::Malformed {
        file: file.to_owned(),
        entry: entry.to_owned(),
        what,
        reason,
    }
}

/// A decoder of the package's compiled XML files.
pub(crate) type Decode = fn(&[u8]) -> Res<XmlDoc>;

/// Reads an APK.
pub(crate) fn read_apk(a: &mut Archive, pkg: &mut AppPackage) -> Result<(), PackageError> {
    let file = a.file.clone();
    let bytes = a.read(MANIFEST)?.unwrap_or_default();
    let manifest = axml::decode(&bytes).map_err(malformed(&file, MANIFEST, "binary XML"))?;
    let table = match a.read("resources.arsc")? {
        Some(b) => ResourceTable::parse(&b).map_err(malformed(
            &file,
            "resources.arsc",
            "resource table",
        ))?,
        None => ResourceTable::default(),
    };
    signing::read_apk_signatures(a, pkg)?;
    super::dex::scan(a, pkg)?;
    configure(a, pkg, MANIFEST, &manifest, &table, axml::decode)
}

/// Reads the manifest's fields into `pkg` and imports the configuration.
pub(crate) fn configure(
    a: &mut Archive,
    pkg: &mut AppPackage,
    manifest_entry: &str,
    manifest: &XmlDoc,
    res: &dyn Resources,
    decode: Decode,
) -> Result<(), PackageError> {
    let file = a.file.clone();
    let mut depth = 0usize;
    let mut nsc_ref = None;
    let mut app_line = None;
    for ev in &manifest.events {
        match ev {
            Event::Start { name, attrs, line } => {
                depth += 1;
                let get = |id: u32, n: &str| attrs.iter().find(|a| a.is(id, n)).map(|a| &a.value);
                match (depth, name.as_str()) {
                    (1, "manifest") => {
                        pkg.app_id = attrs
                            .iter()
                            .find(|a| a.ns.is_none() && a.name == "package")
                            .map(|a| a.value.display(&|id| res.name(id)));
                        pkg.version = get(attr_id::VERSION_NAME, "versionName")
                            .map(|v| v.display(&|id| res.name(id)));
                        pkg.build = get(attr_id::VERSION_CODE, "versionCode")
                            .map(|v| v.display(&|id| res.name(id)));
                    }
                    (2, "uses-sdk") => {
                        let sdk = |v: Option<&Value>| {
                            v.and_then(Value::as_int)
                                .and_then(|i| u32::try_from(i).ok())
                        };
                        pkg.min_sdk = sdk(get(attr_id::MIN_SDK_VERSION, "minSdkVersion"));
                        pkg.target_sdk = sdk(get(attr_id::TARGET_SDK_VERSION, "targetSdkVersion"));
                    }
                    (2, "application") => {
                        app_line = Some(*line);
                        pkg.debuggable = get(attr_id::DEBUGGABLE, "debuggable")
                            .and_then(Value::as_bool)
                            .unwrap_or(false);
                        pkg.allow_backup =
                            get(attr_id::ALLOW_BACKUP, "allowBackup").and_then(Value::as_bool);
                        pkg.uses_cleartext_traffic =
                            get(attr_id::USES_CLEARTEXT_TRAFFIC, "usesCleartextTraffic")
                                .and_then(Value::as_bool);
                        nsc_ref =
                            get(attr_id::NETWORK_SECURITY_CONFIG, "networkSecurityConfig").cloned();
                    }
                    _ => {}
                }
            }
            Event::End => depth = depth.saturating_sub(1),
            Event::Text(_) => {}
        }
    }
    // targetSdkVersion defaults to minSdkVersion, which defaults to 1.
    pkg.target_sdk = pkg.target_sdk.or(pkg.min_sdk).or(Some(1));
    pkg.manifest_line = app_line;
    let manifest_loc = Location::new(&entry_location(&file, manifest_entry), app_line);
    let opts = NscOptions {
        debuggable: pkg.debuggable,
    };
    let cfg = match nsc_ref {
        Some(Value::Reference(id)) => {
            let entry = res
                .file(id)
                .map_err(malformed(&file, res.entry(), "resource table"))?;
            let text = xml_text(a, &entry, res, decode)?;
            // The `<name>_debug` companion, looked up as Android does: by
            // resource name, next to the configuration.
            let companion = res
                .name(id)
                .and_then(|n| n.strip_prefix("xml/").map(|k| format!("{k}_debug")))
                .and_then(|k| res.id_of("xml", &k))
                .and_then(|cid| res.file(cid).ok());
            let companion = match companion {
                Some(e) => Some((entry_location(&file, &e), xml_text(a, &e, res, decode)?)),
                None => None,
            };
            let loc = entry_location(&file, &entry);
            pkg.network_security_config = Some(entry);
            let cfg = nsc::import_with_companion(
                &text,
                &loc,
                companion.as_ref().map(|(f, t)| (f.as_str(), t.as_str())),
                opts,
            )?;
            read_anchors(a, pkg, &cfg, res)?;
            cfg
        }
        Some(other) => {
            return Err(PackageError::Malformed {
                file,
                entry: manifest_entry.to_owned(),
                what: "manifest",
                reason: format!(
                    "android:networkSecurityConfig is {other:?}, not a resource reference"
                ),
            });
        }
        None => {
            // The platform default configuration.
            let mut cfg = AuditConfig::new(&manifest_loc.file, SourceFormat::Nsc);
            cfg.base.cleartext_permitted = pkg.uses_cleartext_traffic;
            if pkg.uses_cleartext_traffic.is_some() {
                cfg.base_location = Some(manifest_loc);
            }
            cfg
        }
    };
    pkg.configs.push(cfg);
    Ok(())
}

/// Decodes a compiled XML entry back to text.
fn xml_text(
    a: &mut Archive,
    entry: &str,
    res: &dyn Resources,
    decode: Decode,
) -> Result<String, PackageError> {
    let file = a.file.clone();
    let bytes = a.read(entry)?.ok_or_else(|| PackageError::Malformed {
        file: file.clone(),
        entry: entry.to_owned(),
        what: "resource",
        reason: "the resource table names this file but the package has no such entry".into(),
    })?;
    let doc = decode(&bytes).map_err(malformed(&file, entry, "binary XML"))?;
    Ok(axml::to_xml(&doc, &|id| res.name(id)))
}

/// Reads the `@raw/...` certificates a configuration trusts.
fn read_anchors(
    a: &mut Archive,
    pkg: &mut AppPackage,
    cfg: &AuditConfig,
    res: &dyn Resources,
) -> Result<(), PackageError> {
    let mut names: Vec<String> = Vec::new();
    let declared = std::iter::once(&cfg.base)
        .chain(cfg.domains.iter().map(|d| &d.declared))
        .chain(cfg.debug_overrides.iter().map(|d| &d.declared));
    for d in declared {
        for anchor in d.trust_anchors.iter().flatten() {
            if let AnchorSource::Bundled(n) = &anchor.source {
                if !names.contains(n) {
                    names.push(n.clone());
                }
            }
        }
    }
    for name in names {
        let mut anchor = BundledAnchor {
            resource: name.clone(),
            entry: None,
            pins: Vec::new(),
            error: None,
        };
        let found = name
            .strip_prefix('@')
            .and_then(|n| n.split_once('/'))
            .and_then(|(t, k)| res.id_of(t, k))
            .map(|id| res.file(id));
        match found {
            None => anchor.error = Some("no such resource in the package".into()),
            Some(Err(Malformed(m))) => anchor.error = Some(m),
            Some(Ok(entry)) => {
                match a.read(&entry)? {
                    None => anchor.error = Some(format!("{entry} is missing")),
                    Some(bytes) => match certificates(&bytes) {
                        Ok(pins) => anchor.pins = pins,
                        Err(e) => anchor.error = Some(e),
                    },
                }
                anchor.entry = Some(entry);
            }
        }
        pkg.bundled_anchors.push(anchor);
    }
    Ok(())
}

/// SPKI pins of the certificates in a PEM or DER file (Android's
/// `CertificateFactory.generateCertificates` accepts both, several per file).
fn certificates(bytes: &[u8]) -> Result<Vec<String>, String> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject as _;
    let ders: Vec<Vec<u8>> = if bytes.windows(10).any(|w| w == b"-----BEGIN") {
        CertificateDer::pem_slice_iter(bytes)
            .map(|c| c.map(|c| c.to_vec()).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?
    } else {
        vec![bytes.to_vec()]
    };
    if ders.is_empty() {
        return Err("no certificate in the file".into());
    }
    ders.iter()
        .map(|d| {
            x509_parser::parse_x509_certificate(d)
                .map(|(_, c)| {
                    crate::pinning::Pin::of_spki(c.tbs_certificate.subject_pki.raw).to_string()
                })
                .map_err(|e| format!("not a certificate: {e}"))
        })
        .collect()
}
