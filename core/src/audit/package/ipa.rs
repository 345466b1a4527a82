//! iOS app archives (IPA): `Payload/<Name>.app/`.
//!
//! * `Info.plist` (binary in a shipped app) is the configuration iOS applies:
//!   ATS (`NSAppTransportSecurity`, `NSPinnedDomains`, exception domains)
//!   and TrustKit's `TSKConfiguration` when TrustKit initialises from it. It
//!   goes to the same plist importer as a source Info.plist.
//! * Other property lists in the bundle, embedded frameworks' `Info.plist`
//!   included, are read only for TrustKit configurations (`TSKConfiguration`
//!   / `TSKPinnedDomains`), since an app may load any plist and hand it to
//!   `TrustKit.initSharedInstance`. Their ATS keys are not read: iOS applies
//!   ATS from the main bundle only.
//! * `embedded.mobileprovision` is a CMS `SignedData` whose content is an XML
//!   plist: its `TeamIdentifier` and developer certificates identify who
//!   signed the build.
//!
//! Plists over 1 MiB and more than [`MAX_PLISTS`] of them are not read.

use plist::Value;

use super::zip::Archive;
use super::{AppPackage, PackageError, entry_location, signing};
use crate::audit::apple;
use crate::audit::model::SourceFormat;

/// The most secondary plists opened in one bundle.
pub(crate) const MAX_PLISTS: usize = 2_000;
const MAX_PLIST_BYTES: u64 = 1 << 20;

/// Every `Payload/<Name>.app/` whose `Info.plist` the archive has.
pub(crate) fn app_dirs(a: &Archive) -> Vec<String> {
    a.names()
        .filter_map(|n| n.strip_suffix("Info.plist"))
        // `Payload/X.appInfo.plist` is not a bundle's Info.plist.
        .filter(|dir| dir.ends_with('/'))
        .filter(|dir| {
            let parts: Vec<&str> = dir.trim_end_matches('/').split('/').collect();
            parts.len() == 2 && parts[0] == "Payload" && parts[1].ends_with(".app")
        })
        .map(str::to_owned)
        .collect()
}

fn string(d: &plist::Dictionary, key: &str) -> Option<String> {
    d.get(key).and_then(Value::as_string).map(str::to_owned)
}

/// Reads an IPA whose bundle is `app` (`Payload/X.app/`).
pub(crate) fn read_ipa(
    a: &mut Archive,
    app: &str,
    pkg: &mut AppPackage,
) -> Result<(), PackageError> {
    let file = a.file.clone();
    let info_entry = format!("{app}Info.plist");
    let info = a.read(&info_entry)?.unwrap_or_default();
    let loc = entry_location(&file, &info_entry);
    let dict = apple::parse_dictionary(&info, &loc)?;
    pkg.app_id = string(&dict, "CFBundleIdentifier");
    pkg.version = string(&dict, "CFBundleShortVersionString");
    pkg.build = string(&dict, "CFBundleVersion");
    // One Info.plist may hold ATS and TrustKit: the importer reads both.
    pkg.configs.push(apple::import_plist(&info, &loc, None)?);

    let others: Vec<String> = a
        .names()
        .filter(|n| n.starts_with(app) && n.ends_with(".plist") && *n != info_entry)
        .take(MAX_PLISTS)
        .map(str::to_owned)
        .collect();
    for entry in others {
        let small = a.size(&entry).is_some_and(|s| s <= MAX_PLIST_BYTES);
        if !small {
            continue;
        }
        let Some(bytes) = a.read(&entry)? else {
            continue;
        };
        let loc = entry_location(&file, &entry);
        // A plist that does not parse is not a configuration iOS reads.
        let Ok(d) = apple::parse_dictionary(&bytes, &loc) else {
            continue;
        };
        if apple::trustkit_root(&d).is_some() {
            pkg.configs.push(apple::import_plist(
                &bytes,
                &loc,
                Some(SourceFormat::TrustKit),
            )?);
        }
    }

    let prov = format!("{app}embedded.mobileprovision");
    if let Some(bytes) = a.read(&prov)? {
        let content = signing::pkcs7_content(&bytes).map_err(super::apk::malformed(
            &file,
            &prov,
            "provisioning profile (CMS)",
        ))?;
        // Parsing and dropping a deep `plist::Value` recurses: bound the
        // depth on the bytes first, as every other plist path does.
        crate::limits::check_plist(&content).map_err(|e| PackageError::Malformed {
            file: file.clone(),
            entry: prov.clone(),
            what: "provisioning profile plist",
            reason: e.to_string(),
        })?;
        let p = Value::from_reader(std::io::Cursor::new(&content)).map_err(|e| {
            PackageError::Malformed {
                file: file.clone(),
                entry: prov.clone(),
                what: "provisioning profile plist",
                reason: e.to_string(),
            }
        })?;
        if let Some(d) = p.as_dictionary() {
            pkg.team_id = d
                .get("TeamIdentifier")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
                .and_then(Value::as_string)
                .map(str::to_owned);
            for der in d
                .get("DeveloperCertificates")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_data)
            {
                pkg.signing_certificates
                    .push(signing::describe("provisioning", der));
            }
        }
    }
    Ok(())
}
