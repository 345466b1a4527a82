//! Apple ATS exceptions: global exception keys, and per-domain exceptions
//! that allow HTTP, old TLS or no forward secrecy (and spread them to
//! subdomains).

use super::cleartext::although_pinned;
use super::{AuditOptions, Out, id};
use crate::audit::model::covers;

/// Whether an ATS `NSExceptionMinimumTLSVersion` allows TLS 1.0 or 1.1.
fn weak_tls(v: &str) -> bool {
    v.contains("1.0") || v.contains("1.1")
}

pub(super) fn exceptions(out: &mut Out, opts: &AuditOptions) {
    let cfg = out.cfg;
    let Some(ats) = &cfg.ats else {
        return;
    };
    for (key, loc) in &ats.global_exceptions {
        if key != "NSAllowsArbitraryLoads" {
            out.push(id::ATS_GLOBAL_EXCEPTION, loc, None, key.clone());
        }
    }
    for e in &ats.exception_domains {
        let host = Some(e.host.as_str());
        if e.allows_insecure_http {
            let pinned = cfg
                .domains
                .iter()
                .any(|d| !d.pins.is_empty() && covers(d, &e.host));
            let extra = although_pinned(opts, pinned);
            out.push(id::CLEARTEXT_DOMAIN, &e.location, host, extra);
        }
        let weak = e.minimum_tls.as_deref().filter(|v| weak_tls(v));
        if let Some(v) = weak {
            out.push(id::ATS_WEAK_TLS, &e.location, host, v);
        }
        if e.no_forward_secrecy {
            out.push(id::ATS_NO_FORWARD_SECRECY, &e.location, host, "");
        }
        let weakens = e.allows_insecure_http || e.no_forward_secrecy || weak.is_some();
        if e.include_subdomains && weakens {
            out.push(id::ATS_EXCEPTION_SUBDOMAINS, &e.location, host, "");
        }
    }
}
