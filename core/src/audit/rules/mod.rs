//! The audit rules: a table of identities, severities, guideline items, OWASP
//! references and bilingual explanations ([`table`], from `rules.toml`), and
//! the checks that produce [`AuditFinding`]s from imported configurations
//! ([`checks`], one file per subject).
//!
//! The two are apart because they change for different reasons: the table
//! when an auditor's wording or a severity changes, a check when a platform's
//! semantics do.

mod checks;
mod table;

pub use checks::{AuditOptions, audit, counts};
pub(crate) use table::id;
pub use table::{AuditFinding, Lang, Rule, RuleText, Severity, rule, rules, rules_sha256};
