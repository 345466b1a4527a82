//! Settings in words: a validated device policy or storage settings, field
//! by field of their schema, as statements a bank's reviewer reads ("blocks
//! rooted devices; Android 15+; StrongBox required"). Only schema fields are
//! read, so nothing else in the files (unknown keys were refused at load,
//! and no field holds a secret) can reach the document (LOG-2).

use super::{Block, t, text, thousands};
use crate::audit::rules::Lang;
use crate::device::{DeviceDecision, DevicePolicy, IndicatorClass, KeystoreLevel};
use crate::storage::{KekLevel, StorageSettings};

/// A requirement and what the settings say about it.
pub(super) type Statement = (String, String);

/// The statements as a two-column table.
pub(super) fn table(rows: &[Statement], lang: Lang) -> Block {
    Block::Table {
        class: "settings",
        widths: &[34, 66],
        head: vec![t(lang, "Requirement", "要件"), t(lang, "Setting", "設定")],
        rows: rows
            .iter()
            .map(|(k, v)| vec![text(k.clone()), text(v.clone())])
            .collect(),
    }
}

/// `Android 15 (API level 35)`; the version name where the level has one.
fn android_version(api: u32, lang: Lang) -> String {
    let name = match api {
        21 => "5.0",
        22 => "5.1",
        23 => "6.0",
        24 => "7.0",
        25 => "7.1",
        26 => "8.0",
        27 => "8.1",
        28 => "9",
        29 => "10",
        30 => "11",
        31 => "12",
        32 => "12L",
        33 => "13",
        34 => "14",
        35 => "15",
        36 => "16",
        _ => "",
    };
    match (name, lang) {
        ("", Lang::En) => format!("API level {api} or later"),
        ("", Lang::Ja) => format!("API レベル {api} 以上"),
        (n, Lang::En) => format!("Android {n}+ (API level {api})"),
        (n, Lang::Ja) => format!("Android {n} 以上 (API レベル {api})"),
    }
}

fn decision(d: DeviceDecision, lang: Lang) -> String {
    match (d, lang) {
        (DeviceDecision::Allow, Lang::En) => "allowed".into(),
        (DeviceDecision::Warn, Lang::En) => "warning".into(),
        (DeviceDecision::Block, Lang::En) => "blocked".into(),
        (DeviceDecision::Allow, Lang::Ja) => "許可".into(),
        (DeviceDecision::Warn, Lang::Ja) => "警告".into(),
        (DeviceDecision::Block, Lang::Ja) => "ブロック".into(),
    }
}

fn class_name(c: IndicatorClass, lang: Lang) -> &'static str {
    match (c, lang) {
        (IndicatorClass::Root, Lang::En) => "Rooted devices (Android)",
        (IndicatorClass::Root, Lang::Ja) => "root 化された端末 (Android)",
        (IndicatorClass::Jailbreak, Lang::En) => "Jailbroken devices (iOS)",
        (IndicatorClass::Jailbreak, Lang::Ja) => "脱獄された端末 (iOS)",
        (IndicatorClass::Hooking, Lang::En) => "Hooking frameworks (Frida, Xposed, Substrate)",
        (IndicatorClass::Hooking, Lang::Ja) => "フッキングツール (Frida、Xposed、Substrate)",
        (IndicatorClass::Emulator, Lang::En) => "Emulators and simulators",
        (IndicatorClass::Emulator, Lang::Ja) => "エミュレーター・シミュレーター",
        (IndicatorClass::Debugger, Lang::En) => "Attached debugger",
        (IndicatorClass::Debugger, Lang::Ja) => "デバッガーの接続",
    }
}

fn keystore(k: KeystoreLevel, lang: Lang) -> &'static str {
    match (k, lang) {
        (KeystoreLevel::None, Lang::En) => "any keystore (software keys accepted)",
        (KeystoreLevel::None, Lang::Ja) => "任意のキーストア (ソフトウェア鍵も可)",
        (KeystoreLevel::Tee, Lang::En) => "a TEE-backed keystore or better",
        (KeystoreLevel::Tee, Lang::Ja) => "TEE 以上のキーストア",
        (KeystoreLevel::StrongBox | KeystoreLevel::SecureEnclave, Lang::En) => {
            "StrongBox / Secure Enclave"
        }
        (KeystoreLevel::StrongBox | KeystoreLevel::SecureEnclave, Lang::Ja) => {
            "StrongBox または Secure Enclave"
        }
    }
}

/// "otherwise: blocked" / 「満たさない場合: ブロック」
fn otherwise(d: DeviceDecision, lang: Lang) -> String {
    match lang {
        Lang::En => format!("otherwise: {}", decision(d, lang)),
        Lang::Ja => format!("満たさない場合は{}", decision(d, lang)),
    }
}

/// The device policy, field by field.
pub(super) fn device(p: &DevicePolicy, lang: Lang) -> Vec<Statement> {
    let mut out = Vec::new();
    let a = &p.android;
    out.push((
        t(lang, "Android version", "Android のバージョン"),
        format!(
            "{}; {}",
            android_version(a.min_api_level, lang),
            otherwise(DeviceDecision::Block, lang)
        ),
    ));
    out.push((
        t(
            lang,
            "Android security patch",
            "Android のセキュリティパッチ",
        ),
        match (a.warn_patch_age_days, lang) {
            (Some(w), Lang::En) => format!(
                "at most {} days old (older: blocked; older than {w} days: warning)",
                a.max_patch_age_days
            ),
            (None, Lang::En) => {
                format!("at most {} days old (older: blocked)", a.max_patch_age_days)
            }
            (Some(w), Lang::Ja) => format!(
                "{} 日以内 (超えるとブロック、{w} 日を超えると警告)",
                a.max_patch_age_days
            ),
            (None, Lang::Ja) => format!("{} 日以内 (超えるとブロック)", a.max_patch_age_days),
        },
    ));
    out.push((
        t(lang, "iOS version", "iOS のバージョン"),
        match lang {
            Lang::En => format!("iOS {}+; otherwise: blocked", p.ios.min_version),
            Lang::Ja => format!("iOS {} 以上、満たさない場合はブロック", p.ios.min_version),
        },
    ));
    for class in IndicatorClass::ALL {
        if let Some(rule) = p.indicators.get(&class) {
            out.push((
                class_name(class, lang).to_owned(),
                match lang {
                    Lang::En => format!(
                        "{} (one strong indicator, or {} weak one{} agreeing)",
                        decision(rule.action, lang),
                        rule.weak_threshold,
                        if rule.weak_threshold == 1 { "" } else { "s" }
                    ),
                    Lang::Ja => format!(
                        "{} (強い兆候 1 件、または弱い兆候 {} 件の一致で判定)",
                        decision(rule.action, lang),
                        rule.weak_threshold
                    ),
                },
            ));
        }
    }
    let d = &p.device;
    out.push((
        t(lang, "Hardware keystore", "ハードウェアキーストア"),
        match lang {
            Lang::En => format!(
                "{} required ({})",
                keystore(d.min_keystore, lang),
                otherwise(d.keystore, lang)
            ),
            Lang::Ja => format!(
                "{} が必須 ({})",
                keystore(d.min_keystore, lang),
                otherwise(d.keystore, lang)
            ),
        },
    ));
    out.push((
        t(lang, "Screen lock", "画面ロック"),
        required(d.screen_lock, lang),
    ));
    out.push((
        t(lang, "Enrolled biometrics", "生体認証の登録"),
        required(d.biometrics, lang),
    ));
    out.push((
        t(lang, "Developer options on", "開発者向けオプションの有効化"),
        decision(d.developer_options, lang),
    ));
    out.push((
        t(
            lang,
            "USB debugging (ADB) on",
            "USB デバッグ (ADB) の有効化",
        ),
        decision(d.adb_enabled, lang),
    ));
    out.push((
        t(
            lang,
            "A fact that cannot be determined",
            "判定できない項目がある場合",
        ),
        decision(p.unknown, lang),
    ));
    let app = &p.app;
    out.push((
        t(lang, "Installer", "インストール元"),
        if app.installers.is_empty() {
            t(lang, "not checked", "確認しない")
        } else {
            match lang {
                Lang::En => format!(
                    "only {} ({})",
                    app.installers.join(", "),
                    otherwise(app.untrusted_installer, lang)
                ),
                Lang::Ja => format!(
                    "{} のみ ({})",
                    app.installers.join("、"),
                    otherwise(app.untrusted_installer, lang)
                ),
            }
        },
    ));
    out.push((
        t(lang, "App signing certificate", "アプリの署名証明書"),
        if app.signing_cert_sha256.is_empty() {
            t(lang, "not checked", "確認しない")
        } else {
            let n = app.signing_cert_sha256.len();
            match lang {
                Lang::En => format!(
                    "{n} accepted SHA-256 digest{} ({})",
                    if n == 1 { "" } else { "s" },
                    otherwise(app.signature_mismatch, lang)
                ),
                Lang::Ja => format!(
                    "許可した SHA-256 ダイジェスト {n} 件のいずれか ({})",
                    otherwise(app.signature_mismatch, lang)
                ),
            }
        },
    ));
    if !p.allow.indicators.is_empty() {
        out.push((
            t(lang, "Indicators never counted", "判定から除外する兆候"),
            p.allow
                .indicators
                .join(if lang == Lang::Ja { "、" } else { ", " }),
        ));
    }
    out
}

fn required(d: DeviceDecision, lang: Lang) -> String {
    match (d, lang) {
        (DeviceDecision::Allow, Lang::En) => "not required".into(),
        (DeviceDecision::Allow, Lang::Ja) => "必須としない".into(),
        (d, Lang::En) => format!("required ({})", otherwise(d, lang)),
        (d, Lang::Ja) => format!("必須 ({})", otherwise(d, lang)),
    }
}

/// One line: "blocks rooted devices; Android 15+; StrongBox required".
pub(super) fn device_summary(p: &DevicePolicy, lang: Lang) -> String {
    let blocked: Vec<&str> = IndicatorClass::ALL
        .iter()
        .filter(|c| {
            p.indicators
                .get(c)
                .is_some_and(|r| r.action == DeviceDecision::Block)
        })
        .map(|c| match (c, lang) {
            (IndicatorClass::Root, Lang::En) => "rooted",
            (IndicatorClass::Jailbreak, Lang::En) => "jailbroken",
            (IndicatorClass::Hooking, Lang::En) => "hooked",
            (IndicatorClass::Emulator, Lang::En) => "emulated",
            (IndicatorClass::Debugger, Lang::En) => "debugged",
            (IndicatorClass::Root, Lang::Ja) => "root 化",
            (IndicatorClass::Jailbreak, Lang::Ja) => "脱獄",
            (IndicatorClass::Hooking, Lang::Ja) => "フッキング",
            (IndicatorClass::Emulator, Lang::Ja) => "エミュレーター",
            (IndicatorClass::Debugger, Lang::Ja) => "デバッガー接続",
        })
        .collect();
    let mut parts = Vec::new();
    if !blocked.is_empty() {
        parts.push(match lang {
            Lang::En => format!("blocks {} devices", join_and(&blocked)),
            Lang::Ja => format!("{}の端末をブロック", blocked.join("・")),
        });
    }
    parts.push(android_version(p.android.min_api_level, lang));
    parts.push(match lang {
        Lang::En => format!("patch at most {} days old", p.android.max_patch_age_days),
        Lang::Ja => format!("パッチは {} 日以内", p.android.max_patch_age_days),
    });
    parts.push(match lang {
        Lang::En => format!("iOS {}+", p.ios.min_version),
        Lang::Ja => format!("iOS {} 以上", p.ios.min_version),
    });
    if p.device.keystore != DeviceDecision::Allow && p.device.min_keystore != KeystoreLevel::None {
        parts.push(match lang {
            Lang::En => format!("{} required", keystore(p.device.min_keystore, lang)),
            Lang::Ja => format!("{} 必須", keystore(p.device.min_keystore, lang)),
        });
    }
    match lang {
        Lang::En => {
            let mut s = format!("Policy: {}.", parts.join("; "));
            s[8..9].make_ascii_uppercase();
            s
        }
        Lang::Ja => format!("ポリシーの内容: {}。", parts.join("、")),
    }
}

fn join_and(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Where the device policy is weaker than the shipped FinTech default, one
/// line per field (empty: at least as strict).
pub(super) fn weaker_than_default(p: &DevicePolicy, lang: Lang) -> Vec<String> {
    let d = DevicePolicy::fintech_default();
    let mut out = Vec::new();
    if p.android.min_api_level < d.android.min_api_level {
        out.push(match lang {
            Lang::En => format!(
                "Weaker than the FinTech default: accepts {} (the default requires {}).",
                android_version(p.android.min_api_level, lang),
                android_version(d.android.min_api_level, lang)
            ),
            Lang::Ja => format!(
                "FinTech 既定より緩い設定: {} を許可しています (既定は {})。",
                android_version(p.android.min_api_level, lang),
                android_version(d.android.min_api_level, lang)
            ),
        });
    }
    if p.android.max_patch_age_days > d.android.max_patch_age_days {
        out.push(match lang {
            Lang::En => format!("Weaker than the FinTech default: accepts security patches up to {} days old (the default: {}).", p.android.max_patch_age_days, d.android.max_patch_age_days),
            Lang::Ja => format!("FinTech 既定より緩い設定: {} 日前までのセキュリティパッチを許可しています (既定は {} 日)。", p.android.max_patch_age_days, d.android.max_patch_age_days),
        });
    }
    let ios = |s: &str| crate::device::parse_ios_version(s).unwrap_or((0, 0, 0));
    if ios(&p.ios.min_version) < ios(&d.ios.min_version) {
        out.push(match lang {
            Lang::En => format!(
                "Weaker than the FinTech default: accepts iOS {} (the default requires {}).",
                p.ios.min_version, d.ios.min_version
            ),
            Lang::Ja => format!(
                "FinTech 既定より緩い設定: iOS {} を許可しています (既定は {} 以上)。",
                p.ios.min_version, d.ios.min_version
            ),
        });
    }
    for c in [
        IndicatorClass::Root,
        IndicatorClass::Jailbreak,
        IndicatorClass::Hooking,
    ] {
        let action = p.indicators.get(&c).map(|r| r.action);
        if action != Some(DeviceDecision::Block) {
            out.push(match lang {
                Lang::En => format!(
                    "{}: {} (the item requires blocking).",
                    class_name(c, lang),
                    decision(action.unwrap_or(DeviceDecision::Allow), lang)
                ),
                Lang::Ja => format!(
                    "{}: {} (この項目ではブロックが必要です)。",
                    class_name(c, lang),
                    decision(action.unwrap_or(DeviceDecision::Allow), lang)
                ),
            });
        }
    }
    out
}

/// The device policy's screen-lock and biometrics requirements (DEV-3
/// supporting evidence).
pub(super) fn device_auth_support(p: &DevicePolicy, lang: Lang) -> String {
    match lang {
        Lang::En => format!(
            "Supporting (device policy, not app-level authentication): screen lock {}; enrolled biometrics {}.",
            required(p.device.screen_lock, lang),
            required(p.device.biometrics, lang)
        ),
        Lang::Ja => format!(
            "補足 (端末ポリシー。アプリ独自の認証ではありません): 画面ロックは{}、生体認証の登録は{}です。",
            required(p.device.screen_lock, lang),
            required(p.device.biometrics, lang)
        ),
    }
}

/// The KEK level in words.
pub(super) fn kek_level(k: KekLevel, lang: Lang) -> String {
    match (k, lang) {
        (KekLevel::Software, Lang::En) => "process memory (software)".into(),
        (KekLevel::Software, Lang::Ja) => "プロセスのメモリ (ソフトウェア)".into(),
        (KekLevel::OsKeyring, Lang::En) => "the OS keyring".into(),
        (KekLevel::OsKeyring, Lang::Ja) => "OS のキーリング".into(),
        (KekLevel::Tee, Lang::En) => "a TEE (Android Keystore)".into(),
        (KekLevel::Tee, Lang::Ja) => "TEE (Android Keystore)".into(),
        (KekLevel::StrongBox, Lang::En) => "StrongBox / Secure Enclave".into(),
        (KekLevel::StrongBox, Lang::Ja) => "StrongBox または Secure Enclave".into(),
    }
}

/// " or stronger" / 「以上」, except for the strongest level.
pub(super) fn or_stronger(k: KekLevel, lang: Lang) -> &'static str {
    match (k, lang) {
        (KekLevel::StrongBox, Lang::En) => "",
        (KekLevel::StrongBox, Lang::Ja) => " ",
        (_, Lang::En) => " or stronger",
        (_, Lang::Ja) => " 以上",
    }
}

/// User authentication for the KEK, in words.
pub(super) fn user_auth(s: &StorageSettings, lang: Lang) -> String {
    match (s.kek.user_authentication, s.kek.auth_timeout_seconds, lang) {
        (false, _, Lang::En) => "Using the key-encryption key does not require user authentication.".into(),
        (false, _, Lang::Ja) => "鍵暗号化鍵の利用に利用者認証は不要です。".into(),
        (true, Some(0), Lang::En) => "Every use of the key-encryption key requires user authentication (biometrics or device credential).".into(),
        (true, Some(0), Lang::Ja) => "鍵暗号化鍵を使うたびに利用者認証 (生体認証または端末の認証情報) が必要です。".into(),
        (true, Some(n), Lang::En) => format!("The key-encryption key requires user authentication (biometrics or device credential), valid for {n} s."),
        (true, Some(n), Lang::Ja) => format!("鍵暗号化鍵の利用には利用者認証 (生体認証または端末の認証情報) が必要で、認証は {n} 秒間有効です。"),
        (true, None, Lang::En) => "The key-encryption key requires user authentication (biometrics or device credential).".into(),
        (true, None, Lang::Ja) => "鍵暗号化鍵の利用には利用者認証 (生体認証または端末の認証情報) が必要です。".into(),
    }
}

/// The app passcode, in words.
pub(super) fn passcode(s: &StorageSettings, lang: Lang) -> String {
    match (&s.passcode, lang) {
        (None, Lang::En) => "No app passcode is configured.".into(),
        (None, Lang::Ja) => "アプリのパスコードは設定されていません。".into(),
        (Some(p), Lang::En) => format!(
            "App passcode {}: at least {} characters, PBKDF2-HMAC-SHA256 with {} iterations, lock-out after {} failures ({} s, doubling up to {} s){}.",
            if p.required { "required" } else { "optional" },
            p.min_length,
            thousands(p.iterations.into()),
            p.free_attempts,
            thousands(p.base_delay_seconds),
            thousands(p.max_delay_seconds),
            p.wipe_after
                .map(|n| format!(", store wiped after {n} failures"))
                .unwrap_or_default()
        ),
        (Some(p), Lang::Ja) => format!(
            "アプリのパスコードは{}です。{} 文字以上、PBKDF2-HMAC-SHA256 の反復 {} 回で、{} 回失敗するとロックします (最初は {} 秒で、倍増して最長 {} 秒){}。",
            if p.required { "必須" } else { "任意" },
            p.min_length,
            thousands(p.iterations.into()),
            p.free_attempts,
            thousands(p.base_delay_seconds),
            thousands(p.max_delay_seconds),
            p.wipe_after
                .map(|n| format!("。{n} 回失敗するとストアを消去します"))
                .unwrap_or_default()
        ),
    }
}

/// The data-key cache, in words.
pub(super) fn cache(s: &StorageSettings, lang: Lang) -> String {
    let c = &s.cache;
    match (c.max_age_seconds == 0 || c.max_entries == 0, lang) {
        (true, Lang::En) => "Plaintext data keys are not cached: every value is sealed and opened with a fresh unwrap.".into(),
        (true, Lang::Ja) => "平文のデータ鍵はキャッシュしません。値ごとに鍵暗号化鍵で包み直し、開くたびに取り出します。".into(),
        (false, Lang::En) => format!(
            "Plaintext data keys stay in memory at most {} s ({} keys at most, {} values per key), then are erased.",
            c.max_age_seconds,
            c.max_entries,
            thousands(c.max_seals_per_dek)
        ),
        (false, Lang::Ja) => format!(
            "平文のデータ鍵をメモリに保持するのは最長 {} 秒 (最大 {} 個、1 個あたり {} 件まで) で、その後消去します。",
            c.max_age_seconds,
            c.max_entries,
            thousands(c.max_seals_per_dek)
        ),
    }
}

/// The storage settings, field by field.
pub(super) fn storage(s: &StorageSettings, lang: Lang) -> Vec<Statement> {
    vec![
        (
            t(lang, "Key-encryption key", "鍵暗号化鍵"),
            match lang {
                Lang::En => format!(
                    "held in {} or stronger (the store refuses a weaker key)",
                    kek_level(s.kek.min_security_level, lang)
                ),
                Lang::Ja => format!(
                    "{} 以上に保持 (それより弱い鍵はストアが拒否)",
                    kek_level(s.kek.min_security_level, lang)
                ),
            },
        ),
        (
            t(lang, "User authentication", "利用者認証"),
            user_auth(s, lang),
        ),
        (
            t(lang, "App passcode", "アプリのパスコード"),
            passcode(s, lang),
        ),
        (
            t(lang, "Data-key cache", "データ鍵のキャッシュ"),
            cache(s, lang),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_reads_as_a_sentence() {
        let p = DevicePolicy::fintech_default();
        let s = device_summary(&p, Lang::En);
        assert!(
            s.starts_with("Policy: Blocks rooted, jailbroken, hooked, emulated and debugged devices; Android 14+ (API level 34);"),
            "{s}"
        );
    }
}
