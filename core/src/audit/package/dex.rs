//! A best-effort, clearly heuristic look for OkHttp `CertificatePinner` pins
//! in `classes*.dex`.
//!
//! OkHttp pins are strings in code: `CertificatePinner.Builder().add("host",
//! "sha256/…")` compiles to two `const-string` instructions a few code units
//! apart. This scan reads each dex file's string table, keeps the strings
//! that look like pins (`sha256/` or `sha1/` + base64) and like host names,
//! then looks through the file, 16 bits at a time, for `const-string`
//! (`0x1a`, 16-bit index) and `const-string/jumbo` (`0x1b`, 32-bit index)
//! loading a pin, and for host strings loaded within [`WINDOW`] code units
//! of it. No instruction decoding, no control flow: a pin may be dead code,
//! belong to a library, or be paired with the wrong host. The result is
//! reported as heuristic and, for pins with a host, audited as an OkHttp
//! pin list whose location says `heuristic`.
//!
//! Bounded: string counts are checked against the file size, each string is
//! read once, and the scan is linear in the file. A dex over the archive's
//! size or ratio limits is skipped, not refused.

use super::res::{Res, bad, u16_at, u32_at, usize_at};
use super::zip::Archive;
use super::{AppPackage, HeuristicPin, PackageError, entry_location};
use crate::audit::okhttp;
use std::collections::HashMap;

/// Code units between a pin's `const-string` and a host's.
pub(crate) const WINDOW: usize = 24;
/// Dex files scanned (`classes.dex`, `classes2.dex`, ...).
const MAX_DEX: usize = 64;

fn uleb128(b: &[u8], at: &mut usize) -> Res<u32> {
    let mut v = 0u32;
    for i in 0..5 {
        let byte = *b
            .get(*at)
            .ok_or_else(|| super::res::Malformed("uleb128 past the end".into()))?;
        *at += 1;
        v |= u32::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(v);
        }
    }
    bad("uleb128 longer than 5 bytes")
}

/// The longest dex string read: longer than any host name (253) or pin.
const MAX_DEX_STRING: usize = 512;

/// The string table of a dex file (MUTF-8 read leniently; strings longer
/// than [`MAX_DEX_STRING`] bytes read as empty).
pub(crate) fn strings(b: &[u8]) -> Res<Vec<String>> {
    if b.len() < 0x70 || !b.starts_with(b"dex\n") {
        return bad("not a dex file");
    }
    let count = usize_at(b, 0x38)?;
    let off = usize_at(b, 0x3c)?;
    if count > b.len() / 4 {
        return bad(format!("{count} strings in {} bytes", b.len()));
    }
    let mut out = Vec::with_capacity(count);
    let mut budget = super::res::CopyBudget::for_input(b.len());
    for i in 0..count {
        let mut at = usize_at(b, off + 4 * i)?;
        let _utf16 = uleb128(b, &mut at)?;
        let rest = b.get(at..).unwrap_or_default();
        // Pins and host names are short: a longer string is none of them,
        // and scanning each to its NUL made overlapping strings quadratic.
        let window = &rest[..rest.len().min(MAX_DEX_STRING + 1)];
        let s = match window.iter().position(|&c| c == 0) {
            Some(end) => String::from_utf8_lossy(&window[..end]).into_owned(),
            None if window.len() <= MAX_DEX_STRING => String::from_utf8_lossy(window).into_owned(),
            None => String::new(),
        };
        budget.take(s.len())?;
        out.push(s);
    }
    Ok(out)
}

fn is_pin(s: &str) -> bool {
    let body = s
        .strip_prefix("sha256/")
        .or_else(|| s.strip_prefix("sha1/"));
    body.is_some_and(|b| {
        (27..=45).contains(&b.len())
            && b.bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=' | b'-' | b'_'))
    })
}

fn is_host(s: &str) -> bool {
    let h = s
        .strip_prefix("**.")
        .or_else(|| s.strip_prefix("*."))
        .unwrap_or(s);
    let labels: Vec<&str> = h.split('.').collect();
    labels.len() >= 2
        && h.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        })
        && labels
            .last()
            .is_some_and(|t| t.len() >= 2 && t.bytes().all(|c| c.is_ascii_lowercase()))
}

/// Pins (with nearby hosts) in one dex file.
pub(crate) fn scan_dex(b: &[u8]) -> Res<Vec<(String, Vec<String>)>> {
    let table = strings(b)?;
    let pins: Vec<bool> = table.iter().map(|s| is_pin(s)).collect();
    if !pins.contains(&true) {
        return Ok(Vec::new());
    }
    let hosts: Vec<bool> = table.iter().map(|s| is_host(s)).collect();
    // (code unit position, string index) of every const-string of interest.
    let mut loads: Vec<(usize, usize)> = Vec::new();
    let mut at = 0x70;
    while at + 4 <= b.len() {
        let op = b[at];
        if op == 0x1a || op == 0x1b {
            let idx = match op {
                0x1a => Some(usize::from(u16_at(b, at + 2)?)),
                0x1b if at + 6 <= b.len() => Some(u32_at(b, at + 2)? as usize),
                _ => None,
            };
            if let Some(i) = idx.filter(|&i| i < table.len() && (pins[i] || hosts[i])) {
                loads.push((at / 2, i));
            }
        }
        at += 2;
    }
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    // Pin text -> its row in `out`: a linear search per pin was quadratic
    // on a dex listing 200k pins.
    let mut row: HashMap<&str, usize> = HashMap::new();
    for (k, &(pos, idx)) in loads.iter().enumerate() {
        if !pins[idx] {
            continue;
        }
        let mut near: Vec<String> = Vec::new();
        let before = loads[..k]
            .iter()
            .rev()
            .take_while(|(p, _)| pos - p <= WINDOW);
        let after = loads[k + 1..].iter().take_while(|(p, _)| p - pos <= WINDOW);
        for &(_, j) in before.chain(after) {
            if hosts[j] && !near.contains(&table[j]) {
                near.push(table[j].clone());
            }
        }
        match row.get(table[idx].as_str()) {
            Some(&r) => {
                let h = &mut out[r].1;
                for n in near {
                    if !h.contains(&n) {
                        h.push(n);
                    }
                }
            }
            None => {
                row.insert(&table[idx], out.len());
                out.push((table[idx].clone(), near));
            }
        }
    }
    // Pins in the table that no const-string loads (reflection, arrays).
    for (i, s) in table.iter().enumerate() {
        if pins[i] && !row.contains_key(s.as_str()) {
            row.insert(s, out.len());
            out.push((s.clone(), Vec::new()));
        }
    }
    Ok(out)
}

/// Scans every `classes*.dex` of the package; pins paired with a host also
/// become an OkHttp configuration for the audit.
pub(crate) fn scan(a: &mut Archive, pkg: &mut AppPackage) -> Result<(), PackageError> {
    let file = a.file.clone();
    let dexes: Vec<String> = a
        .names()
        .filter(|n| {
            let base = n.rsplit('/').next().unwrap_or(n);
            base.starts_with("classes") && base.ends_with(".dex")
        })
        .take(MAX_DEX)
        .map(str::to_owned)
        .collect();
    for entry in dexes {
        let bytes = match a.read(&entry) {
            Ok(Some(b)) => b,
            Ok(None) => continue,
            // A dex over the size or ratio limits is not scanned: the
            // heuristic is best effort, the configuration audit goes on.
            Err(PackageError::Limit { .. }) => continue,
            Err(e) => return Err(e),
        };
        // A dex file that does not parse yields no heuristic pins; Android
        // itself would refuse to install it.
        let Ok(found) = scan_dex(&bytes) else {
            continue;
        };
        let mut lines = String::new();
        for (pin, hosts) in &found {
            for h in hosts {
                lines.push_str(&format!("{h} {pin}\n"));
            }
            pkg.heuristic_pins.push(HeuristicPin {
                entry: entry.clone(),
                pin: pin.clone(),
                nearby_hosts: hosts.clone(),
            });
        }
        if !lines.is_empty() {
            let loc = format!("{} (heuristic)", entry_location(&file, &entry));
            // A pair the OkHttp importer refuses (a pin OkHttp itself would
            // reject) stays listed in `heuristic_pins` only.
            if let Ok(cfg) = okhttp::import_str(&lines, &loc) {
                pkg.configs.push(cfg);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::strings;

    #[test]
    fn overlapping_strings_without_an_end_stay_bounded() {
        // 100,000 string ids all naming one 100 KB run without a NUL: read
        // to the end each, that was 10 GB and 10^10 byte comparisons.
        let count = 100_000usize;
        let ids = 0x70;
        let data = ids + 4 * count;
        let mut b = vec![0u8; data];
        b[..8].copy_from_slice(b"dex\n035\0");
        b[0x38..0x3c].copy_from_slice(&(count as u32).to_le_bytes());
        b[0x3c..0x40].copy_from_slice(&(ids as u32).to_le_bytes());
        for i in 0..count {
            b[ids + 4 * i..ids + 4 * i + 4].copy_from_slice(&(data as u32).to_le_bytes());
        }
        b.push(0x01); // uleb128 utf16 size
        b.extend(std::iter::repeat_n(b'a', 100_000));
        let s = strings(&b).unwrap();
        assert_eq!(s.len(), count);
        assert!(s.iter().all(String::is_empty));
    }
}
