//! The resource table `resources.arsc` (AOSP `ResTable`): how an APK turns
//! the manifest's `@xml/network_security_config` (a resource id such as
//! `0x7f0f0001`) into the file `res/xml/network_security_config.xml`, and
//! `@raw/ca` into `res/raw/ca.pem`.
//!
//! Layout: a table chunk holding the global value string pool and one chunk
//! per package; a package holds its type-name and key-name pools, then type
//! specs and types, one type chunk per configuration (density, locale, ...),
//! each an offset table of entries. Only simple entries (a string, a
//! reference) are kept; bags (styles, arrays) are skipped.
//!
//! Bounded like [`super::res`]: chunks always advance, entry counts are
//! checked against their chunk before allocating, and a chain of references
//! (`@xml/a` → `@xml/b` → ...) is followed at most [`MAX_REFERENCE_HOPS`]
//! times, so a table whose references loop ends with an error, not a hang.

use std::collections::HashMap;

use super::res::{
    Chunk, CopyBudget, Malformed, Res, StringPool, Value, bad, chunk_type, chunks, u16_at, u32_at,
    usize_at,
};

/// References followed before giving up (AOSP gives up after 20).
pub(crate) const MAX_REFERENCE_HOPS: usize = 20;

/// One resource value in one configuration.
#[derive(Clone, Debug)]
struct ConfigValue {
    /// Whether the configuration is the default one (no qualifiers).
    default: bool,
    value: Value,
}

#[derive(Clone, Debug)]
struct Entry {
    type_name: String,
    key: String,
    values: Vec<ConfigValue>,
}

/// A decoded resource table: simple entries by resource id.
#[derive(Debug, Default)]
pub(crate) struct ResourceTable {
    entries: HashMap<u32, Entry>,
    /// What copying keys and values out of the pools may still cost.
    budget: Option<CopyBudget>,
}

const NO_ENTRY: u32 = 0xFFFF_FFFF;
const FLAG_SPARSE: u8 = 0x01;
const FLAG_OFFSET16: u8 = 0x02;
const ENTRY_FLAG_COMPLEX: u16 = 0x0001;
const ENTRY_FLAG_COMPACT: u16 = 0x0008;

impl ResourceTable {
    /// Parses `resources.arsc`.
    pub(crate) fn parse(b: &[u8]) -> Res<Self> {
        let root = Chunk::at(b, 0, b.len())?;
        if root.kind != chunk_type::TABLE {
            return bad(format!(
                "not a resource table (chunk type 0x{:04x})",
                root.kind
            ));
        }
        root.need_header(12)?;
        let mut values = None;
        let mut table = Self {
            budget: Some(CopyBudget::for_input(b.len())),
            ..Self::default()
        };
        for c in chunks(b, root.body(), root.end())? {
            match c.kind {
                chunk_type::STRING_POOL if values.is_none() => {
                    values = Some(StringPool::parse(b, &c)?);
                }
                chunk_type::TABLE_PACKAGE => {
                    let pool = values
                        .as_ref()
                        .ok_or_else(|| Malformed("a package before the value pool".into()))?;
                    table.package(b, &c, pool)?;
                }
                _ => {}
            }
        }
        Ok(table)
    }

    fn package(&mut self, b: &[u8], c: &Chunk, values: &StringPool) -> Res<()> {
        // ResTable_package: header, id, name[128] (UTF-16), typeStrings,
        // lastPublicType, keyStrings, lastPublicKey.
        c.need_header(8 + 4 + 256 + 16)?;
        let id = u32_at(b, c.start + 8)?;
        if id > 0xff {
            return bad(format!("package id 0x{id:x}"));
        }
        let type_off = usize_at(b, c.start + 268)?;
        let key_off = usize_at(b, c.start + 276)?;
        let pool_at = |off: usize| -> Res<StringPool> {
            let at = c
                .start
                .checked_add(off)
                .filter(|&a| a >= c.body() && a < c.end())
                .map_or_else(
                    || bad(format!("string pool offset {off} outside its package")),
                    Ok,
                )?;
            StringPool::parse(b, &Chunk::at(b, at, c.end())?)
        };
        let type_names = pool_at(type_off)?;
        let keys = pool_at(key_off)?;
        for t in chunks(b, c.body(), c.end())? {
            if t.kind == chunk_type::TABLE_TYPE {
                self.type_chunk(b, &t, id, &type_names, &keys, values)?;
            }
            // TYPE_SPEC (flags per entry), LIBRARY, OVERLAYABLE: not needed.
            let _ = chunk_type::TABLE_TYPE_SPEC;
        }
        Ok(())
    }

    fn type_chunk(
        &mut self,
        b: &[u8],
        t: &Chunk,
        package: u32,
        type_names: &StringPool,
        keys: &StringPool,
        values: &StringPool,
    ) -> Res<()> {
        // ResTable_type: header, id, flags, reserved, entryCount,
        // entriesStart, config (its first word is its size).
        t.need_header(8 + 4 + 8 + 4)?;
        let type_id = b[t.start + 8];
        let flags = b[t.start + 9];
        let count = usize_at(b, t.start + 12)?;
        let entries_start = usize_at(b, t.start + 16)?;
        if type_id == 0 {
            return bad("type id 0");
        }
        let config_size = usize_at(b, t.start + 20)?;
        // The size word counts itself: below 4 the configuration would end
        // before it starts (a slice panic once).
        if config_size < 4 {
            return bad(format!("configuration size {config_size} below 4"));
        }
        let config_end = (t.start + 20)
            .checked_add(config_size)
            .filter(|&e| e <= t.body())
            .map_or_else(
                || {
                    bad(format!(
                        "configuration of {config_size} bytes past its header"
                    ))
                },
                Ok,
            )?;
        // The default configuration is all zeros after its size word.
        let default = b[t.start + 24..config_end].iter().all(|&x| x == 0);
        let type_name = type_names
            .get(u32::from(type_id) - 1)
            .ok_or_else(|| Malformed(format!("type id {type_id} has no name")))?
            .to_owned();
        let data = t
            .start
            .checked_add(entries_start)
            .filter(|&d| d <= t.end())
            .map_or_else(
                || bad(format!("entries start {entries_start} outside the type")),
                Ok,
            )?;
        let width = if flags & (FLAG_SPARSE | FLAG_OFFSET16) != 0 {
            2
        } else {
            4
        };
        let per = if flags & FLAG_SPARSE != 0 { 4 } else { width };
        if count > (t.end() - t.body()) / per {
            return bad(format!("type {type_name} claims {count} entries"));
        }
        for i in 0..count {
            let slot = t.body() + i * per;
            let (index, offset) = if flags & FLAG_SPARSE != 0 {
                (
                    usize::from(u16_at(b, slot)?),
                    usize::from(u16_at(b, slot + 2)?) * 4,
                )
            } else if flags & FLAG_OFFSET16 != 0 {
                let o = u16_at(b, slot)?;
                if o == 0xFFFF {
                    continue;
                }
                (i, usize::from(o) * 4)
            } else {
                let o = u32_at(b, slot)?;
                if o == NO_ENTRY {
                    continue;
                }
                (i, o as usize)
            };
            if index > 0xFFFF {
                return bad(format!("entry index {index}"));
            }
            let at = data
                .checked_add(offset)
                .filter(|&a| a + 8 <= t.end())
                .map_or_else(
                    || bad(format!("entry {i} of {type_name} outside the type")),
                    Ok,
                )?;
            let size = u16_at(b, at)?;
            let eflags = u16_at(b, at + 2)?;
            let (key, value) = if eflags & ENTRY_FLAG_COMPACT != 0 {
                // Compact entry: the key index in `size`, the value type in
                // the high byte of the flags, the data word next.
                let v = Value::from_parts((eflags >> 8) as u8, u32_at(b, at + 4)?, values);
                (u32::from(size), Some(v))
            } else {
                let key = u32_at(b, at + 4)?;
                if eflags & ENTRY_FLAG_COMPLEX != 0 {
                    (key, None)
                } else {
                    let v_at = at + usize::from(size);
                    if v_at + 8 > t.end() {
                        return bad(format!(
                            "value of entry {i} of {type_name} outside the type"
                        ));
                    }
                    (key, Some(Value::read(b, v_at, values)?))
                }
            };
            let Some(value) = value else { continue };
            let id = (package << 24) | (u32::from(type_id) << 16) | index as u32;
            let key_len = if self.entries.contains_key(&id) {
                0
            } else {
                keys.get(key).map_or(0, str::len)
            };
            if let Some(budget) = self.budget.as_mut() {
                budget.take(key_len + value.text_len())?;
            }
            let entry = self.entries.entry(id).or_insert_with(|| Entry {
                type_name: type_name.clone(),
                key: keys.get(key).unwrap_or_default().to_owned(),
                values: Vec::new(),
            });
            entry.values.push(ConfigValue { default, value });
        }
        Ok(())
    }

    /// `type/name` of a resource id (`xml/network_security_config`).
    pub(crate) fn name(&self, id: u32) -> Option<String> {
        self.entries
            .get(&id)
            .map(|e| format!("{}/{}", e.type_name, e.key))
    }

    /// The values of `id`, one per configuration: (default configuration?,
    /// value).
    pub(crate) fn values(&self, id: u32) -> Vec<(bool, Value)> {
        self.entries.get(&id).map_or_else(Vec::new, |e| {
            e.values
                .iter()
                .map(|v| (v.default, v.value.clone()))
                .collect()
        })
    }

    /// The ids of several `type/name`s from one pass over the table (the
    /// smallest id of each, as [`ResourceTable::id_of`]).
    pub(crate) fn ids_of(&self, wanted: &[(&str, &str)]) -> Vec<Option<u32>> {
        super::apk::ids_by_name(
            self.entries
                .iter()
                .map(|(id, e)| (*id, e.type_name.as_str(), e.key.as_str())),
            wanted,
        )
    }

    /// The id of `type/name`.
    pub(crate) fn id_of(&self, type_name: &str, key: &str) -> Option<u32> {
        self.entries
            .iter()
            .filter(|(_, e)| e.type_name == type_name && e.key == key)
            .map(|(id, _)| *id)
            .min()
    }

    /// The file a resource resolves to in the default configuration (or the
    /// first configuration that has one), following references.
    pub(crate) fn file(&self, id: u32) -> Res<String> {
        let mut cur = id;
        let mut seen = Vec::new();
        for _ in 0..=MAX_REFERENCE_HOPS {
            if seen.contains(&cur) {
                return bad(format!(
                    "resource 0x{id:08x}: references loop ({})",
                    seen.iter()
                        .map(|r| format!("0x{r:08x}"))
                        .collect::<Vec<_>>()
                        .join(" → ")
                ));
            }
            seen.push(cur);
            let e = self
                .entries
                .get(&cur)
                .ok_or_else(|| Malformed(format!("resource 0x{cur:08x} is not in the table")))?;
            let v = e
                .values
                .iter()
                .find(|v| v.default)
                .or_else(|| e.values.first())
                .map(|v| &v.value);
            match v {
                Some(Value::String(s)) => return Ok(s.clone()),
                Some(Value::Reference(next)) => cur = *next,
                _ => {
                    return bad(format!("resource {}/{} is not a file", e.type_name, e.key));
                }
            }
        }
        bad(format!(
            "resource 0x{id:08x}: more than {MAX_REFERENCE_HOPS} references"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::package::res::tests::pool_chunk;

    fn chunk(kind: u16, header: &[u8], body: &[u8]) -> Vec<u8> {
        let mut c = Vec::new();
        c.extend_from_slice(&kind.to_le_bytes());
        c.extend_from_slice(&((8 + header.len()) as u16).to_le_bytes());
        c.extend_from_slice(&((8 + header.len() + body.len()) as u32).to_le_bytes());
        c.extend_from_slice(header);
        c.extend_from_slice(body);
        c
    }

    /// A table with one package 0x7f, type `xml` (id 1) and entry `a`
    /// whose value is the file `res/xml/a.xml`, its offsets written with
    /// `flags` (0 plain, FLAG_OFFSET16, FLAG_SPARSE).
    fn table(flags: u8) -> Vec<u8> {
        let mut header = vec![1u8, flags, 0, 0];
        header.extend_from_slice(&1u32.to_le_bytes()); // entry count
        let offsets: Vec<u8> = match flags {
            0 => 0u32.to_le_bytes().to_vec(),
            FLAG_OFFSET16 => vec![0, 0, 0, 0],
            _ => vec![0, 0, 0, 0], // sparse: index 0, offset 0
        };
        header.extend_from_slice(&((8 + 12 + 64 + offsets.len()) as u32).to_le_bytes());
        let mut config = vec![0u8; 64];
        config[..4].copy_from_slice(&64u32.to_le_bytes());
        header.extend_from_slice(&config);
        let mut body = offsets;
        // ResTable_entry: size 8, flags 0, key 0; Res_value: string 0.
        body.extend_from_slice(&[8, 0, 0, 0, 0, 0, 0, 0]);
        body.extend_from_slice(&[8, 0, 0, value_type_string(), 0, 0, 0, 0]);
        let ty = chunk(chunk_type::TABLE_TYPE, &header, &body);
        let types = pool_chunk(&["xml"], true);
        let keys = pool_chunk(&["a"], true);
        let mut pkg_header = 0x7fu32.to_le_bytes().to_vec();
        pkg_header.extend_from_slice(&[0u8; 256]);
        let type_off = 288u32;
        let key_off = type_off + types.len() as u32;
        for v in [type_off, 0, key_off, 0, 0] {
            pkg_header.extend_from_slice(&v.to_le_bytes());
        }
        let mut pkg_body = types;
        pkg_body.extend_from_slice(&keys);
        pkg_body.extend_from_slice(&ty);
        let pkg = chunk(chunk_type::TABLE_PACKAGE, &pkg_header, &pkg_body);
        let mut body = pool_chunk(&["res/xml/a.xml"], false);
        body.extend_from_slice(&pkg);
        chunk(chunk_type::TABLE, &1u32.to_le_bytes(), &body)
    }

    fn value_type_string() -> u8 {
        super::super::res::value_type::STRING
    }

    #[test]
    fn entries_resolve_in_every_offset_encoding() {
        for flags in [0, FLAG_OFFSET16, FLAG_SPARSE] {
            let t = ResourceTable::parse(&table(flags)).unwrap();
            assert_eq!(t.name(0x7f01_0000).as_deref(), Some("xml/a"), "{flags}");
            assert_eq!(t.id_of("xml", "a"), Some(0x7f01_0000));
            assert_eq!(t.file(0x7f01_0000).unwrap(), "res/xml/a.xml");
            assert!(t.file(0x7f01_0001).is_err());
        }
    }

    #[test]
    fn every_truncation_and_bad_count_is_an_error() {
        let b = table(0);
        for n in 0..b.len() {
            let _ = ResourceTable::parse(&b[..n]);
        }
        // An entry count far beyond the chunk.
        let mut bad = b.clone();
        let at = bad.len() - (12 + 64 + 4 + 16) - 8 + 12;
        bad[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(ResourceTable::parse(&bad).is_err());
    }

    #[test]
    fn a_configuration_size_below_its_own_word_is_an_error() {
        let b = table(0);
        // The type chunk: TABLE_TYPE, header size 8 + 12 + 64.
        let ty = b
            .windows(4)
            .position(|w| w == [0x01, 0x02, 84, 0])
            .expect("type chunk");
        for size in 0u32..4 {
            let mut bad = b.clone();
            bad[ty + 20..ty + 24].copy_from_slice(&size.to_le_bytes());
            assert!(ResourceTable::parse(&bad).is_err(), "{size}");
        }
    }
}
