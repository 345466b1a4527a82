//! Hints for a refused input: what the file looks like when it is not what
//! the command expected (a URL where a file belongs, an Info.plist read as a
//! network security config, a facts snapshot given as a policy).
//!
//! Only a hint: the error itself comes from the parser of the expected
//! format. Sniffing reads at most the first 64 KiB and never fails.

use std::io::Read as _;
use std::path::Path;

/// What a file looks like (or what a command expects).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A Mamori pin policy (`[[domain]]`, `[trust]`).
    PinPolicy,
    /// A device policy (`[android]`, `[ios]`, `[device]`).
    DevicePolicy,
    /// A device facts snapshot (`schema`, `platform`).
    Facts,
    /// An Apple property list (Info.plist).
    Plist,
    /// An Android network_security_config.xml.
    Nsc,
    /// PEM or DER certificates or keys.
    Certificates,
    /// Any pinning configuration `audit` and `convert` read.
    PinningConfig,
}

const SNIFF: u64 = 64 * 1024;

/// What `text` looks like, when it looks like one of the kinds at all.
pub fn sniff(bytes: &[u8]) -> Option<Kind> {
    if bytes.starts_with(b"bplist00") {
        return Some(Kind::Plist);
    }
    let text = String::from_utf8_lossy(bytes);
    if text.contains("<plist") || text.contains("DOCTYPE plist") {
        return Some(Kind::Plist);
    }
    if text.contains("<network-security-config") {
        return Some(Kind::Nsc);
    }
    if text.contains("-----BEGIN ") {
        return Some(Kind::Certificates);
    }
    let keys: Vec<String> = if text.trim_start().starts_with('{') {
        match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&text) {
            Ok(m) => m.keys().cloned().collect(),
            Err(_) => return None,
        }
    } else {
        match text.parse::<toml::Table>() {
            Ok(t) => t.keys().cloned().collect(),
            Err(_) => return None,
        }
    };
    let has = |k: &str| keys.iter().any(|x| x == k);
    if has("schema") && has("platform") {
        Some(Kind::Facts)
    } else if ["android", "ios", "device", "indicators", "app", "allow"]
        .iter()
        .any(|k| has(k))
    {
        Some(Kind::DevicePolicy)
    } else if ["domain", "trust", "on_expiry"].iter().any(|k| has(k)) {
        Some(Kind::PinPolicy)
    } else {
        None
    }
}

/// A hint for a file the command (expecting `expected`) refused.
pub fn for_file(path: &Path, expected: Kind) -> Option<String> {
    let name = path.to_string_lossy();
    if name.starts_with("http://") || name.starts_with("https://") {
        return Some(
            "this is a URL, not a file: download it first (curl -o FILE URL); \
             `mamori audit --live HOST` fetches a server's chain itself"
                .to_owned(),
        );
    }
    let mut head = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(SNIFF)
        .read_to_end(&mut head)
        .ok()?;
    let found = sniff(&head)?;
    if found == expected
        || (expected == Kind::PinningConfig
            && matches!(found, Kind::PinPolicy | Kind::Nsc | Kind::Plist))
    {
        // The file is of the expected kind, only invalid: the error says why.
        return None;
    }
    Some(match found {
        Kind::Facts => "this looks like a device facts snapshot: pass it as \
                        `mamori device check --facts FILE`"
            .to_owned(),
        Kind::DevicePolicy => "this looks like a device policy: pass it as \
                               `mamori device check --policy FILE`"
            .to_owned(),
        Kind::PinPolicy => "this looks like a Mamori pin policy: check it with \
                            `mamori config check FILE`"
            .to_owned(),
        Kind::Plist => "this looks like an Apple property list (Info.plist): \
                        read it with `--from trustkit` or `--from ats`"
            .to_owned(),
        Kind::Nsc => "this looks like an Android network_security_config.xml: \
                      read it with `--from nsc` (or without --from)"
            .to_owned(),
        Kind::Certificates => "this looks like PEM certificates or keys: \
                               `mamori pin FILE` prints their pins"
            .to_owned(),
        Kind::PinningConfig => return None,
    })
}
