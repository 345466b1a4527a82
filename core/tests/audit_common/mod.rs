//! Helpers shared by the audit integration tests: real SPKI pins and the
//! fixtures in `tests/data/audit`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use mamori::audit::{self, AuditConfig, ImportError, NscOptions};

pub const K87: &str = "K87oWBWM9UZfyddvDfoxL+8lpNyoUB2ptGtn0fv6G2Q=";
pub const PL1: &str = "PL1/TTDEe9Cm2lb2X0tixyQC7zaPREm/V0IHJscTCmw=";
pub const NDC: &str = "NDCIt6TrQnfOk+lquunrmlPQB3K/7CLOCmSS5kW+KCc=";

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/audit")
        .join(name)
}

pub fn load(name: &str) -> Result<AuditConfig, ImportError> {
    audit::load(&fixture(name), None, NscOptions::default())
}
