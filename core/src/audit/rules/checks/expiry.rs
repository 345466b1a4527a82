//! Pin expiry: none declared where the platform supports one, expired or
//! expiring at the audit date, failing open silently, and a date read in each
//! device's own time zone.

use time::Duration;

use super::{AuditOptions, Out, id, ja};
use crate::audit::model::{AfterExpiry, DomainEntry, ExpiryZone, SourceFormat};

pub(super) fn check(out: &mut Out, opts: &AuditOptions, d: &DomainEntry) {
    let host = Some(d.host.as_str());
    let loc = &d.location;
    let Some(e) = &d.expiry else {
        if matches!(d.mechanism, SourceFormat::Nsc | SourceFormat::TrustKit) {
            out.push(id::PIN_NO_EXPIRY, loc, host, "");
        }
        return;
    };
    if opts.at >= e.at {
        out.push(id::PIN_EXPIRED, loc, host, e.text.clone());
    } else if e.at - opts.at <= Duration::days(opts.expiry_days) {
        out.push(id::PIN_EXPIRING, loc, host, e.text.clone());
    }
    if e.after == AfterExpiry::FailOpenSilent {
        out.push(id::PIN_EXPIRY_FAIL_OPEN, loc, host, e.text.clone());
    }
    if e.zone == ExpiryZone::DeviceLocal {
        let detail = ja(
            opts.lang,
            format!(
                "expiration {} is read at midnight in each device's time zone (up to 26 h apart between devices)",
                e.text
            ),
            format!(
                "期限 {} は各端末のタイムゾーンの午前 0 時として読まれます (端末間で最大 26 時間の差)",
                e.text
            ),
        );
        out.push(id::EXPIRY_TIMEZONE, loc, host, detail);
    }
}
