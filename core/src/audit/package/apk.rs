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
//!
//! Read as PackageParser reads the manifest: the first `<application>` only
//! (a second is noted, [`PackageNote::DuplicateApplication`]); framework
//! attributes by resource id only; reference values (`@bool/x`) through the
//! resource table's default configuration, noting what does not resolve or
//! differs by configuration. The NSC's variants for other configurations
//! (`res/xml-v24/`) that differ are imported too, and noted.

use super::arsc::ResourceTable;
use super::axml::{self, Event, XmlDoc, attr_id};
use super::res::{Malformed, Res, Value};
use super::zip::Archive;
use super::{AppPackage, BundledAnchor, PackageError, PackageNote, entry_location, signing};
use crate::audit::model::{AnchorSource, AuditConfig, Location, SourceFormat};
use crate::audit::nsc::{self, NscOptions};
use std::collections::{HashMap, HashSet};

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
    /// The ids of several `type/name`s, from one pass over the table.
    fn ids_of(&self, wanted: &[(&str, &str)]) -> Vec<Option<u32>>;
    /// The values of an id, one per configuration: (whether it is the
    /// default configuration, the value).
    fn values(&self, id: u32) -> Vec<(bool, Value)>;
    /// The archive entry of a file value (`res/xml/a.xml`).
    fn path(&self, stored: &str) -> String;
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
    fn ids_of(&self, wanted: &[(&str, &str)]) -> Vec<Option<u32>> {
        ResourceTable::ids_of(self, wanted)
    }
    fn values(&self, id: u32) -> Vec<(bool, Value)> {
        ResourceTable::values(self, id)
    }
    fn path(&self, stored: &str) -> String {
        stored.to_owned()
    }
    fn entry(&self) -> &'static str {
        "resources.arsc"
    }
}

/// For each of `wanted` (`type`, `name`), the smallest id among `entries`
/// (`(id, type, name)`) with that type and name: one pass over the table
/// whatever the number of names.
pub(crate) fn ids_by_name<'e>(
    entries: impl Iterator<Item = (u32, &'e str, &'e str)>,
    wanted: &[(&str, &str)],
) -> Vec<Option<u32>> {
    let mut index: HashMap<(&str, &str), Option<u32>> = wanted.iter().map(|w| (*w, None)).collect();
    for (id, t, k) in entries {
        if let Some(best) = index.get_mut(&(t, k)) {
            *best = Some(best.map_or(id, |b| b.min(id)));
        }
    }
    wanted.iter().map(|w| index[w]).collect()
}

/// A value as the device reads it: references followed (at most
/// [`super::arsc::MAX_REFERENCE_HOPS`]) through the default configuration,
/// or the first one. Returns the value and the different values other
/// configurations give the last resource of the chain; `None` when the
/// chain ends in no value.
fn resolve(res: &dyn Resources, id: u32) -> Option<(Value, Vec<Value>)> {
    let mut cur = id;
    for _ in 0..=super::arsc::MAX_REFERENCE_HOPS {
        let values = res.values(cur);
        let v = values
            .iter()
            .find(|(d, _)| *d)
            .or_else(|| values.first())
            .map(|(_, v)| v.clone())?;
        if let Value::Reference(next) = v {
            cur = next;
            continue;
        }
        let mut others: Vec<Value> = Vec::new();
        for (_, o) in values {
            if o != v && !others.contains(&o) {
                others.push(o);
            }
        }
        return Some((v, others));
    }
    None
}

/// The files of every configuration of a file resource (`res/xml/a.xml`,
/// `res/xml-v24/a.xml`), default first.
fn variant_files(res: &dyn Resources, id: u32) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut values = res.values(id);
    values.sort_by_key(|(d, _)| !*d);
    for (_, v) in values {
        let f = match v {
            Value::String(s) => Some(res.path(&s)),
            Value::Reference(n) => res.file(n).ok(),
            _ => None,
        };
        if let Some(f) = f.filter(|f| !out.contains(f)) {
            out.push(f);
        }
    }
    out
}

/// Reads manifest attributes as Android does: a framework attribute by its
/// resource id only (the name may be obfuscated, and one without the id is
/// not the attribute), references through the resource table. What the
/// table does not settle is noted.
struct AttrReader<'a> {
    res: &'a dyn Resources,
    notes: Vec<PackageNote>,
}

impl AttrReader<'_> {
    fn read<T>(
        &mut self,
        attrs: &[axml::Attr],
        id: u32,
        name: &str,
        want: impl Fn(&Value) -> Option<T>,
    ) -> Option<T> {
        let v = attrs.iter().find(|a| a.res_id == Some(id))?.value.clone();
        let names = |i: u32| self.res.name(i);
        let (reference, resolved, others) = match &v {
            Value::Reference(rid) => match resolve(self.res, *rid) {
                Some((r, others)) => (v.display(&names), Some(r), others),
                None => (v.display(&names), None, Vec::new()),
            },
            // A theme attribute: not resolvable from the package alone.
            Value::Attribute(_) => (v.display(&names), None, Vec::new()),
            _ => return want(&v),
        };
        let out = resolved.as_ref().and_then(want);
        if out.is_none() || !others.is_empty() {
            self.notes.push(PackageNote::UnresolvedAttribute {
                attribute: format!("android:{name}"),
                reference,
                resolved: out
                    .as_ref()
                    .and(resolved.as_ref())
                    .map(|r| r.display(&names)),
                other_values: others.iter().map(|o| o.display(&names)).collect(),
            });
        }
        out
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

/// Reads an APK: the manifest, resource table and configuration first, so
/// the decompression budget of the archive cannot be spent on DEX before
/// the configuration is read; then the signatures and the DEX heuristic.
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
    configure(a, pkg, MANIFEST, &manifest, &table, axml::decode)?;
    signing::read_apk_signatures(a, pkg)?;
    super::dex::scan(a, pkg)
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
    let mut r = AttrReader {
        res,
        notes: Vec::new(),
    };
    let sdk = |v: &Value| v.as_int().and_then(|i| u32::try_from(i).ok());
    let text = |v: &Value| Some(v.display(&|id| res.name(id)));
    for ev in &manifest.events {
        match ev {
            Event::Start { name, attrs, line } => {
                depth += 1;
                match (depth, name.as_str()) {
                    (1, "manifest") => {
                        pkg.app_id = attrs
                            .iter()
                            .find(|a| a.ns.is_none() && a.name == "package")
                            .map(|a| a.value.display(&|id| res.name(id)));
                        pkg.version = r.read(attrs, attr_id::VERSION_NAME, "versionName", text);
                        pkg.build = r.read(attrs, attr_id::VERSION_CODE, "versionCode", text);
                    }
                    (2, "uses-sdk") => {
                        pkg.min_sdk = r.read(attrs, attr_id::MIN_SDK_VERSION, "minSdkVersion", sdk);
                        pkg.target_sdk =
                            r.read(attrs, attr_id::TARGET_SDK_VERSION, "targetSdkVersion", sdk);
                    }
                    // Android's parser reads the first <application> and
                    // skips the others (PackageParser: "<manifest> has more
                    // than one <application>").
                    (2, "application") if app_line.is_some() => {
                        r.notes.push(PackageNote::DuplicateApplication {
                            line: *line,
                            first_line: app_line.unwrap_or_default(),
                        });
                    }
                    (2, "application") => {
                        app_line = Some(*line);
                        pkg.debuggable = r
                            .read(attrs, attr_id::DEBUGGABLE, "debuggable", Value::as_bool)
                            .unwrap_or(false);
                        pkg.allow_backup =
                            r.read(attrs, attr_id::ALLOW_BACKUP, "allowBackup", Value::as_bool);
                        pkg.uses_cleartext_traffic = r.read(
                            attrs,
                            attr_id::USES_CLEARTEXT_TRAFFIC,
                            "usesCleartextTraffic",
                            Value::as_bool,
                        );
                        nsc_ref = attrs
                            .iter()
                            .find(|a| a.res_id == Some(attr_id::NETWORK_SECURITY_CONFIG))
                            .map(|a| a.value.clone());
                    }
                    _ => {}
                }
            }
            Event::End => depth = depth.saturating_sub(1),
            Event::Text(_) => {}
        }
    }
    pkg.notes.append(&mut r.notes);
    // targetSdkVersion defaults to minSdkVersion, which defaults to 1.
    pkg.target_sdk = pkg.target_sdk.or(pkg.min_sdk).or(Some(1));
    pkg.manifest_line = app_line;
    let manifest_loc = Location::new(&entry_location(&file, manifest_entry), app_line);
    let opts = NscOptions {
        debuggable: pkg.debuggable,
    };
    let mut cfgs = match nsc_ref {
        Some(Value::Reference(id)) => {
            let entry = res
                .file(id)
                .map_err(malformed(&file, res.entry(), "resource table"))?;
            let text = xml_text(a, &entry, res, decode)?;
            let companion = companion(a, pkg, id, res, decode)?;
            let mut cfgs = vec![nsc::import_with_companion(
                &text,
                &entry_location(&file, &entry),
                companion.text(),
                opts,
            )?];
            // Other configurations' files (`res/xml-v24/…`): a device that
            // matches them loads them instead, so each that differs is
            // audited too and named.
            let mut differing = Vec::new();
            for v in variant_files(res, id).into_iter().filter(|v| *v != entry) {
                let vtext = xml_text(a, &v, res, decode)?;
                if vtext != text {
                    cfgs.push(nsc::import_with_companion(
                        &vtext,
                        &entry_location(&file, &v),
                        companion.text(),
                        opts,
                    )?);
                    differing.push(v);
                }
            }
            if !differing.is_empty() {
                pkg.notes.push(PackageNote::NscVariants {
                    entry: entry.clone(),
                    variants: differing,
                });
            }
            pkg.network_security_config = Some(entry);
            for cfg in &mut cfgs {
                companion.note(cfg);
                read_anchors(a, pkg, cfg, res)?;
            }
            cfgs
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
            vec![cfg]
        }
    };
    for cfg in &mut cfgs {
        cfg.android_target_sdk = pkg.target_sdk;
    }
    pkg.configs.append(&mut cfgs);
    Ok(())
}

/// The `<name>_debug` companion of a configuration.
enum Companion {
    /// None in the package.
    None,
    /// Its location and decoded text.
    Text(String, String),
    /// Its location, and why it does not decode.
    Broken(String, String),
}

impl Companion {
    fn text(&self) -> Option<(&str, &str)> {
        match self {
            Self::Text(f, t) => Some((f, t)),
            _ => None,
        }
    }

    /// Records a broken companion of a release build in `cfg`.
    fn note(&self, cfg: &mut AuditConfig) {
        if let Self::Broken(f, why) = self {
            cfg.ignored.push(nsc::ignored_companion(f, why));
        }
    }
}

/// The `<name>_debug` companion of the configuration `id`, looked up as
/// Android does: by resource name, next to the configuration. Android reads
/// it only in a debuggable build: there a companion that does not decode is
/// an error, as on the device; in a release build it is listed as ignored
/// (`CONFIG-IGNORED`, as the importer lists a source companion it cannot
/// parse) and the audit goes on.
fn companion(
    a: &mut Archive,
    pkg: &AppPackage,
    id: u32,
    res: &dyn Resources,
    decode: Decode,
) -> Result<Companion, PackageError> {
    let file = a.file.clone();
    let Some(cid) = res
        .name(id)
        .and_then(|n| n.strip_prefix("xml/").map(|k| format!("{k}_debug")))
        .and_then(|k| res.id_of("xml", &k))
    else {
        return Ok(Companion::None);
    };
    let (loc, found) = match res.file(cid) {
        Ok(e) => (
            entry_location(&file, &e),
            xml_text(a, &e, res, decode).map_err(|e| e.to_string()),
        ),
        Err(Malformed(m)) => (
            entry_location(&file, res.entry()),
            Err(format!("{}: {m}", res.name(cid).unwrap_or_default())),
        ),
    };
    match found {
        Ok(t) => Ok(Companion::Text(loc, t)),
        Err(why) if pkg.debuggable => Err(PackageError::Malformed {
            file,
            entry: res.name(cid).unwrap_or_default(),
            what: "debug companion of the network security config",
            reason: why,
        }),
        Err(why) => Ok(Companion::Broken(loc, why)),
    }
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
    // Once per package, whichever NSC variant names it (sets, and one pass
    // over the resource table for all names: an NSC can name many anchors).
    let mut names: Vec<String> = Vec::new();
    let mut listed: HashSet<String> = pkg
        .bundled_anchors
        .iter()
        .map(|b| b.resource.clone())
        .collect();
    let declared = std::iter::once(&cfg.base)
        .chain(cfg.domains.iter().map(|d| &d.declared))
        .chain(cfg.debug_overrides.iter().map(|d| &d.declared));
    for d in declared {
        for anchor in d.trust_anchors.iter().flatten() {
            if let AnchorSource::Bundled(n) = &anchor.source {
                if listed.insert(n.clone()) {
                    names.push(n.clone());
                }
            }
        }
    }
    let wanted: Vec<(&str, &str)> = names
        .iter()
        .map(|name| {
            name.strip_prefix('@')
                .and_then(|n| n.split_once('/'))
                .unwrap_or(("", ""))
        })
        .collect();
    let ids = res.ids_of(&wanted);
    for (name, id) in names.iter().cloned().zip(ids) {
        let mut anchor = BundledAnchor {
            resource: name.clone(),
            entry: None,
            pins: Vec::new(),
            error: None,
        };
        let found = id.map(|id| res.file(id));
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

/// SPKI pins of the certificates in a file, read as Android's
/// `CertificateFactory.generateCertificates` (Conscrypt) reads a `@raw/`
/// anchor: PEM (`CERTIFICATE` blocks, several per file, or a `PKCS7`
/// block), DER (one certificate or several concatenated) or a DER PKCS#7
/// `SignedData` (`.p7b`, certificates only).
fn certificates(bytes: &[u8]) -> Result<Vec<String>, String> {
    let p7 =
        |b: &[u8]| signing::pkcs7_certificates(b).map_err(|Malformed(m)| format!("PKCS#7: {m}"));
    let mut ders: Vec<Vec<u8>> = Vec::new();
    if bytes.windows(10).any(|w| w == b"-----BEGIN") {
        for pem in x509_parser::pem::Pem::iter_from_buffer(bytes) {
            let pem = pem.map_err(|e| format!("PEM: {e}"))?;
            match pem.label.as_str() {
                "CERTIFICATE" | "X509 CERTIFICATE" => ders.push(pem.contents),
                "PKCS7" => ders.extend(p7(&pem.contents)?),
                // Other blocks (keys, parameters) are skipped, as OpenSSL's
                // PEM reader skips them looking for a certificate.
                _ => {}
            }
        }
    } else if x509_parser::parse_x509_certificate(bytes).is_err() && !bytes.is_empty() {
        ders = p7(bytes).map_err(|e| format!("neither a certificate nor {e}"))?;
    } else {
        let mut rest = bytes;
        while !rest.is_empty() {
            let (after, _) = x509_parser::parse_x509_certificate(rest)
                .map_err(|e| format!("not a certificate: {e}"))?;
            ders.push(rest[..rest.len() - after.len()].to_vec());
            rest = after;
        }
    }
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

#[cfg(test)]
mod tests {
    #[test]
    fn ids_by_name_gives_the_smallest_id_of_each_name_in_one_pass() {
        let entries = [
            (0x7f02_0001, "raw", "b"),
            (0x7f02_0000, "raw", "a"),
            (0x7f03_0000, "xml", "a"),
            (0x7f01_0009, "raw", "a"),
        ];
        let ids = super::ids_by_name(
            entries.into_iter(),
            &[("raw", "a"), ("raw", "missing"), ("xml", "a"), ("raw", "a")],
        );
        assert_eq!(
            ids,
            [
                Some(0x7f01_0009),
                None,
                Some(0x7f03_0000),
                Some(0x7f01_0009)
            ]
        );
    }
}
