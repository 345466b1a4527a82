//! Custom types: core newtypes that cross the FFI as a builtin type.
//!
//! Each is lowered to its canonical text form, the one the core parses back, so a
//! value a Kotlin or Swift app holds is exactly what a policy file or a report
//! says. Lifting refuses anything the core would refuse, with the core's message.

use mamori::guideline::GuidelineId;
use mamori::pinning::Pin;

// A guideline item crosses as its stable ID ("DEV-2").
uniffi::custom_type!(GuidelineId, String, {
    remote,
    lower: |g| g.as_str().to_owned(),
    try_lift: |s| GuidelineId::ALL
        .iter()
        .copied()
        .find(|g| g.as_str() == s)
        .ok_or_else(|| uniffi::deps::anyhow::anyhow!("unknown guideline id {s}")),
});

// A pin crosses as its `sha256/<base64>` text, the form policies and reports use.
uniffi::custom_type!(Pin, String, {
    remote,
    lower: |pin| pin.to_string(),
    try_lift: |text| Pin::parse(&text).map_err(|e| uniffi::deps::anyhow::anyhow!("{e}")),
});
