//! One small rule per guideline item: which status the inputs support, and
//! the evidence lines behind it. The rules are printed in the report next to
//! each status ([`rule_text`]) and listed in `docs/evidence-report.md`; a
//! status never comes from a key name or from a file merely being present.

use super::statements;
use super::{Inline, Line, ReportInput, t, text};
use crate::audit::rules::{AuditFinding, Lang, Severity};
use crate::guideline::GuidelineId;

/// Whether an item is met.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Status {
    /// Verified by this tool, no open finding.
    Met,
    /// Verified, with open findings below the item's threshold.
    MetWithFindings,
    /// Validated settings that the SDK enforces at run time (not observed on
    /// a device).
    Configured,
    /// Only part of the item can be checked from the inputs.
    Partial,
    /// A finding at or above the item's threshold, or a setting that
    /// contradicts the item.
    NotMet,
    /// No input covers the item.
    NotAssessed,
}

impl Status {
    /// The label in `lang`.
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Self::Met, Lang::En) => "Met",
            (Self::Met, Lang::Ja) => "充足",
            (Self::MetWithFindings, Lang::En) => "Met, with open findings",
            (Self::MetWithFindings, Lang::Ja) => "充足 (指摘あり)",
            (Self::Configured, Lang::En) => "Configured",
            (Self::Configured, Lang::Ja) => "設定済み",
            (Self::Partial, Lang::En) => "Partly assessed",
            (Self::Partial, Lang::Ja) => "一部のみ評価",
            (Self::NotMet, Lang::En) => "Not met",
            (Self::NotMet, Lang::Ja) => "未充足",
            (Self::NotAssessed, Lang::En) => "Not assessed",
            (Self::NotAssessed, Lang::Ja) => "未評価",
        }
    }
}

/// An item's status and the evidence behind it.
#[derive(Clone, Debug)]
pub(super) struct Assessment {
    pub(super) status: Status,
    pub(super) evidence: Vec<Line>,
}

/// The rule of each item, as printed in the report.
pub(super) fn rule_text(id: GuidelineId, lang: Lang) -> String {
    let (en, ja) = match id {
        GuidelineId::Dev1 => (
            "from the storage settings: Configured when the key-encryption key must be in hardware (TEE, StrongBox or Secure Enclave); Not met when software or OS-keyring keys are accepted; Not assessed without storage settings.",
            "ストレージ設定から判定します。鍵暗号化鍵にハードウェア (TEE、StrongBox、Secure Enclave) を必須としていれば「設定済み」、ソフトウェア鍵や OS キーリングの鍵を許していれば「未充足」、ストレージ設定がなければ「未評価」です。",
        ),
        GuidelineId::Dev2 => (
            "from the device policy: Configured when it is at least as strict as the shipped FinTech default (mamori device default-policy) on the Android API level, the security-patch age, the iOS version, and blocks rooted, jailbroken and hooked devices; otherwise Not met; Not assessed without a device policy.",
            "端末ポリシーから判定します。Android の API レベル、セキュリティパッチの経過日数、iOS のバージョンが同梱の FinTech 既定ポリシー (mamori device default-policy) 以上に厳しく、root 化・脱獄・フッキングされた端末をブロックしていれば「設定済み」、そうでなければ「未充足」、端末ポリシーがなければ「未評価」です。",
        ),
        GuidelineId::Dev3 => (
            "from the storage settings: Configured when the key-encryption key requires user authentication or an app passcode is required; Not met when neither is; Not assessed without storage settings. The device policy's screen-lock and biometrics requirements are listed as supporting evidence only: they are not app-level authentication.",
            "ストレージ設定から判定します。鍵暗号化鍵の利用に利用者認証を求めるか、アプリのパスコードを必須としていれば「設定済み」、どちらもなければ「未充足」、ストレージ設定がなければ「未評価」です。端末ポリシーの画面ロックや生体認証の要件はアプリ独自の認証ではないため、補足の根拠として示すだけです。",
        ),
        GuidelineId::Dev4 => (
            "from the audit of the pinning configurations: Not met with a finding of high severity or above; Met, with open findings with lower findings; Met without findings; Not assessed without configurations.",
            "ピン留め設定の監査結果から判定します。重大度が高以上の指摘があれば「未充足」、それ未満の指摘だけなら「充足 (指摘あり)」、指摘がなければ「充足」、設定がなければ「未評価」です。",
        ),
        GuidelineId::Data1 => (
            "in transit from the pinning configurations, at rest from the storage settings: Not met with a finding of medium severity or above (cleartext or weakened TLS is what the item forbids); Configured (or Met, with open findings) when both halves are covered; Partly assessed when only one half is; Not assessed when neither is.",
            "通信時はピン留め設定から、保存時はストレージ設定から判定します。重大度が中以上の指摘 (項目が禁じる平文通信や弱い TLS) があれば「未充足」、両方を確認できれば「設定済み」(指摘が残れば「充足 (指摘あり)」)、片方だけなら「一部のみ評価」、どちらもなければ「未評価」です。",
        ),
        GuidelineId::New1 => (
            "from the storage settings: the SDK stores data keys only wrapped by the key-encryption key (docs/envelope-format.md); Configured when plaintext data keys stay in memory at most one hour; Not met when longer; Not assessed without storage settings.",
            "ストレージ設定から判定します。SDK はデータ鍵を鍵暗号化鍵で包んだ形でのみ保存します (docs/envelope-format.md)。平文のデータ鍵をメモリに保持する時間が 1 時間以内なら「設定済み」、それより長ければ「未充足」、ストレージ設定がなければ「未評価」です。",
        ),
        GuidelineId::Bp5 => (
            "from the audit of the pinning configurations (backup pins, cross-platform consistency): Not met with a finding of high severity or above; Met, with open findings with lower findings; Met without findings; Not assessed without configurations.",
            "ピン留め設定の監査結果 (予備ピン、プラットフォーム間の一致) から判定します。重大度が高以上の指摘があれば「未充足」、それ未満の指摘だけなら「充足 (指摘あり)」、指摘がなければ「充足」、設定がなければ「未評価」です。",
        ),
        GuidelineId::Log2 => (
            "this tool checks only where pin-failure reports are sent: Not met with a finding of medium severity or above (a report sent over http:// or to a vendor's default endpoint leaves the app's control); otherwise Partly assessed, since the app's own logging is not in the inputs; Not assessed without configurations.",
            "本ツールが確認できるのはピン検証失敗レポートの送信先だけです。重大度が中以上の指摘 (http:// やベンダー既定の送信先へのレポート送信) があれば「未充足」、なければアプリ自身のログは入力に含まれないため「一部のみ評価」、設定がなければ「未評価」です。",
        ),
        _ => ("", ""),
    };
    t(lang, en, ja)
}

fn worst(fs: &[&AuditFinding]) -> Option<Severity> {
    fs.iter().map(|f| f.severity).max()
}

/// Met / with findings / not met, from the findings and a threshold.
fn from_findings(fs: &[&AuditFinding], threshold: Severity) -> Status {
    match worst(fs) {
        Some(s) if s >= threshold => Status::NotMet,
        Some(_) => Status::MetWithFindings,
        None => Status::Met,
    }
}

fn configs_line(r: &ReportInput) -> Line {
    let lang = r.lang;
    let mut l = vec![Inline::Text(match lang {
        Lang::En => format!("{} pinning configuration(s) audited: ", r.configs.len()),
        Lang::Ja => format!("監査したピン留め設定 {} 件: ", r.configs.len()),
    })];
    for (i, c) in r.configs.iter().enumerate() {
        if i > 0 {
            l.push(Inline::Text(t(lang, ", ", "、")));
        }
        l.push(Inline::Code(c.file.clone()));
        l.push(Inline::Text(format!(" ({})", c.format.as_str())));
    }
    l
}

pub(super) fn assess(id: GuidelineId, r: &ReportInput, fs: &[&AuditFinding]) -> Assessment {
    let lang = r.lang;
    let none = || Assessment {
        status: Status::NotAssessed,
        evidence: Vec::new(),
    };
    match id {
        GuidelineId::Dev4 | GuidelineId::Bp5 => {
            if r.configs.is_empty() {
                return none();
            }
            let mut evidence = vec![configs_line(r)];
            if id == GuidelineId::Dev4 {
                let pinned: usize = r
                    .configs
                    .iter()
                    .map(|c| c.domains.iter().filter(|d| d.is_pinned()).count())
                    .sum();
                evidence.push(text(match lang {
                    Lang::En => format!(
                        "{pinned} pinned domain entr{} (see Pinning per host).",
                        if pinned == 1 { "y" } else { "ies" }
                    ),
                    Lang::Ja => format!(
                        "ピン留めしたドメインは {pinned} 件です (「ホスト別のピン留め」を参照)。"
                    ),
                }));
            }
            Assessment {
                status: from_findings(fs, Severity::High),
                evidence,
            }
        }
        GuidelineId::Log2 => {
            if r.configs.is_empty() {
                return none();
            }
            let uris: Vec<&str> = r
                .configs
                .iter()
                .flat_map(|c| c.domains.iter())
                .flat_map(|d| d.report_uris.iter().map(String::as_str))
                .collect();
            let mut evidence = Vec::new();
            if uris.is_empty() {
                evidence.push(text(t(
                    lang,
                    "No pin-failure report URI is configured.",
                    "ピン検証失敗レポートの送信先は設定されていません。",
                )));
            } else {
                let mut l = text(t(
                    lang,
                    "Pin-failure reports go to: ",
                    "ピン検証失敗レポートの送信先: ",
                ));
                let mut seen = Vec::new();
                for u in uris {
                    if seen.contains(&u) {
                        continue;
                    }
                    if !seen.is_empty() {
                        l.push(Inline::Text(t(lang, ", ", "、")));
                    }
                    seen.push(u);
                    l.push(Inline::Code(u.to_owned()));
                }
                evidence.push(l);
            }
            evidence.push(text(t(
                lang,
                "The app's own logging is not among the inputs and is not assessed here.",
                "アプリ自身のログは入力に含まれないため、ここでは評価していません。",
            )));
            let status = match from_findings(fs, Severity::Medium) {
                Status::NotMet => Status::NotMet,
                _ => Status::Partial,
            };
            Assessment { status, evidence }
        }
        GuidelineId::Data1 => {
            let transit = !r.configs.is_empty();
            let rest = r.storage.is_some();
            if !transit && !rest {
                return none();
            }
            let mut evidence = Vec::new();
            if transit {
                evidence.push(configs_line(r));
            } else {
                evidence.push(text(t(
                    lang,
                    "In transit: not assessed (no pinning configuration given).",
                    "通信時: ピン留め設定の入力がないため未評価です。",
                )));
            }
            if rest {
                evidence.push(text(t(
                    lang,
                    "At rest: the secure store seals every value with AES-256-GCM under a data key wrapped by the key-encryption key (see Storage settings).",
                    "保存時: セキュアストアがすべての値を AES-256-GCM で暗号化し、そのデータ鍵は鍵暗号化鍵で包んで保存します (「ストレージ設定」を参照)。",
                )));
            } else {
                evidence.push(text(t(
                    lang,
                    "At rest: not assessed (no storage settings given).",
                    "保存時: ストレージ設定の入力がないため未評価です。",
                )));
            }
            let status = match from_findings(fs, Severity::Medium) {
                Status::NotMet => Status::NotMet,
                _ if !(transit && rest) => Status::Partial,
                Status::MetWithFindings => Status::MetWithFindings,
                _ => Status::Configured,
            };
            Assessment { status, evidence }
        }
        GuidelineId::Dev2 => match r.device {
            None => none(),
            Some(p) => {
                let weaker = statements::weaker_than_default(p, lang);
                let mut evidence = vec![text(statements::device_summary(p, lang))];
                let status = if weaker.is_empty() {
                    Status::Configured
                } else {
                    for w in &weaker {
                        evidence.push(text(w.clone()));
                    }
                    Status::NotMet
                };
                Assessment { status, evidence }
            }
        },
        GuidelineId::Dev1 => match r.storage {
            None => none(),
            Some(s) => {
                let base = statements::kek_level(s.kek.min_security_level, lang);
                let level = format!(
                    "{base}{}",
                    statements::or_stronger(s.kek.min_security_level, lang)
                );
                let hw = s.kek.min_security_level.is_hardware();
                Assessment {
                    status: if hw {
                        Status::Configured
                    } else {
                        Status::NotMet
                    },
                    evidence: vec![text(match (lang, hw) {
                        (Lang::En, true) => format!(
                            "The store accepts only a key-encryption key held in {level}; it refuses weaker keys at open."
                        ),
                        (Lang::En, false) => format!(
                            "The store also accepts a key-encryption key held in {base}: not a hardware keystore."
                        ),
                        (Lang::Ja, true) => format!(
                            "ストアは {level}に保持した鍵暗号化鍵だけを受け入れ、それより弱い鍵はオープン時に拒否します。"
                        ),
                        (Lang::Ja, false) => format!(
                            "ストアは {base} に保持した鍵暗号化鍵も受け入れます。これはハードウェアキーストアではありません。"
                        ),
                    })],
                }
            }
        },
        GuidelineId::Dev3 => match r.storage {
            None => {
                let mut a = none();
                if let Some(p) = r.device {
                    a.evidence
                        .push(text(statements::device_auth_support(p, lang)));
                }
                a
            }
            Some(s) => {
                let user_auth = s.kek.user_authentication;
                let passcode = s.passcode.as_ref().is_some_and(|p| p.required);
                let mut evidence = Vec::new();
                evidence.push(text(statements::user_auth(s, lang)));
                evidence.push(text(statements::passcode(s, lang)));
                if let Some(p) = r.device {
                    evidence.push(text(statements::device_auth_support(p, lang)));
                }
                Assessment {
                    status: if user_auth || passcode {
                        Status::Configured
                    } else {
                        Status::NotMet
                    },
                    evidence,
                }
            }
        },
        GuidelineId::New1 => match r.storage {
            None => none(),
            Some(s) => {
                let ok = s.cache.max_age_seconds <= 3600;
                Assessment {
                    status: if ok {
                        Status::Configured
                    } else {
                        Status::NotMet
                    },
                    evidence: vec![
                        text(t(
                            lang,
                            "Data keys are stored only wrapped by the key-encryption key (the envelope format, docs/envelope-format.md).",
                            "データ鍵は鍵暗号化鍵で包んだ形でのみ保存します (エンベロープ形式、docs/envelope-format.md)。",
                        )),
                        text(statements::cache(s, lang)),
                    ],
                }
            }
        },
        _ => none(),
    }
}
