//! What a package says beyond its pinning configuration: a debuggable
//! build (which applies `debug-overrides`), app data allowed into backups
//! (`android:allowBackup`, true unless set to false), and `@raw/` anchors
//! that Android could not load.

use super::{AuditFinding, Lang, finding, id};
use crate::audit::model::Location;
use crate::audit::package::{AppPackage, PackageKind, entry_location};

/// The findings of one package.
pub(super) fn check(p: &AppPackage, lang: Lang, all: &mut Vec<AuditFinding>) {
    if p.kind == PackageKind::Ipa {
        return;
    }
    let manifest = Location::new(
        &entry_location(&p.file, p.manifest_entry()),
        p.manifest_line,
    );
    if p.debuggable {
        all.push(finding(
            id::APP_DEBUGGABLE,
            &manifest,
            None,
            p.app_id.clone().unwrap_or_else(|| p.file.clone()),
        ));
    }
    // AOSP's default for an absent android:allowBackup is true.
    if p.allow_backup != Some(false) {
        let app = p.app_id.clone().unwrap_or_else(|| p.file.clone());
        let detail = match (p.allow_backup, lang) {
            (Some(true), Lang::Ja) => {
                format!("{app} は android:allowBackup=\"true\" で、データがバックアップされます")
            }
            (Some(true), _) => {
                format!("{app} sets android:allowBackup=\"true\": its data is backed up")
            }
            (_, Lang::Ja) => format!(
                "{app} は android:allowBackup を指定しておらず、既定値 true でデータがバックアップされます"
            ),
            _ => format!(
                "{app} leaves android:allowBackup unset: its data is backed up (the default is true)"
            ),
        };
        all.push(finding(id::APP_ALLOW_BACKUP, &manifest, None, detail));
    }
    let nsc = p.network_security_config.as_deref().map_or_else(
        || manifest.clone(),
        |e| Location::new(&entry_location(&p.file, e), None),
    );
    for a in &p.bundled_anchors {
        if let Some(e) = &a.error {
            let what = match &a.entry {
                Some(entry) => format!("{} ({entry}): {e}", a.resource),
                None => format!("{}: {e}", a.resource),
            };
            all.push(finding(id::APP_ANCHOR_UNREADABLE, &nsc, None, what));
        }
    }
}
