//! What a package says beyond its pinning configuration: a debuggable
//! build (which applies `debug-overrides`), app data allowed into backups
//! (`android:allowBackup`, true unless set to false), and `@raw/` anchors
//! that Android could not load; and what the package reader could not
//! settle ([`PackageNote`]): a second `<application>`, a reference-valued
//! attribute that does not resolve to one value, network security config
//! variants by device configuration.

use super::{AuditFinding, Lang, finding, id, ja};
use crate::audit::model::Location;
use crate::audit::package::{AppPackage, PackageKind, PackageNote, entry_location};

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
    for n in &p.notes {
        note(p, n, lang, &manifest, all);
    }
}

fn note(
    p: &AppPackage,
    n: &PackageNote,
    lang: Lang,
    manifest: &Location,
    all: &mut Vec<AuditFinding>,
) {
    match n {
        PackageNote::DuplicateApplication { line, first_line } => {
            let at = Location::new(&manifest.file, Some(*line));
            let detail = ja(
                lang,
                format!(
                    "a second <application> (line {line}) is ignored by Android, which reads the first (line {first_line}); only the first was audited"
                ),
                format!(
                    "二つ目の <application> ({line} 行目) は Android が無視し、最初の要素 ({first_line} 行目) を読みます。監査したのは最初の要素だけです"
                ),
            );
            all.push(finding(id::APP_MANIFEST_AMBIGUOUS, &at, None, detail));
        }
        PackageNote::UnresolvedAttribute {
            attribute,
            reference,
            resolved,
            other_values,
        } => {
            let detail = match (resolved, other_values.is_empty(), lang) {
                (None, _, Lang::Ja) => format!(
                    "{attribute} は {reference} で、リソーステーブルでこの属性の値に解決できません。端末での値は不明で、監査は属性がないものとして読みました"
                ),
                (None, _, _) => format!(
                    "{attribute} is {reference}, which the resource table does not resolve to a value of this attribute: its value on a device is unknown, and the audit read it as not set"
                ),
                (Some(v), _, Lang::Ja) => format!(
                    "{attribute} は {reference} で、既定の構成では {v}、他の構成では {} です。端末の構成で値が決まり、監査は既定の構成の値を使いました",
                    other_values.join("、")
                ),
                (Some(v), _, _) => format!(
                    "{attribute} is {reference}: {v} in the default configuration, {} in others; the device's configuration decides, the audit used the default",
                    other_values.join(", ")
                ),
            };
            all.push(finding(id::APP_MANIFEST_AMBIGUOUS, manifest, None, detail));
        }
        PackageNote::NscVariants { entry, variants } => {
            let at = Location::new(&entry_location(&p.file, entry), None);
            let detail = ja(
                lang,
                format!(
                    "{entry} (default configuration) has variants whose content differs: {}; each is audited too",
                    variants.join(", ")
                ),
                format!(
                    "{entry} (既定の構成) には内容の異なる版があります: {}。それぞれの版も監査しました",
                    variants.join("、")
                ),
            );
            all.push(finding(id::APP_NSC_VARIANT, &at, None, detail));
        }
    }
}
