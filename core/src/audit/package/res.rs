//! The building blocks shared by Android's two binary resource formats, the
//! compiled XML of `AndroidManifest.xml` / `res/xml/*.xml` ([`super::axml`])
//! and the resource table `resources.arsc` ([`super::arsc`]): chunk headers,
//! string pools and typed values (AOSP `ResourceTypes.h`).
//!
//! Everything here reads attacker-controlled bytes: every offset and length is
//! checked against the enclosing chunk before use, a chunk must be at least its
//! header long (so a walk over chunks always advances: no loops), and nothing
//! recurses. A failure is a [`Malformed`] naming what was wrong; the caller
//! adds the file and entry.

/// A structural defect in binary resource data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Malformed(pub(crate) String);

pub(crate) type Res<T> = Result<T, Malformed>;

/// Bytes a decoder may copy out of one binary input: a few times its size.
/// Pool strings may overlap and be referenced any number of times, so
/// without a budget a manifest of a few KiB deflated can ask for gigabytes
/// (254k offsets naming one 32 KiB string: 7.8 GiB).
#[derive(Debug)]
pub(crate) struct CopyBudget(usize);

impl CopyBudget {
    /// Eight times `len`, and 1 MiB for small inputs.
    pub(crate) fn for_input(len: usize) -> Self {
        Self(len.saturating_mul(8).saturating_add(1 << 20))
    }

    /// Spends `n` bytes, or fails once the budget is gone.
    pub(crate) fn take(&mut self, n: usize) -> Res<()> {
        self.0 = self.0.checked_sub(n).ok_or_else(|| {
            Malformed(
                "decoding would copy more than 8 times the input's size (strings shared or overlapping)"
                    .into(),
            )
        })?;
        Ok(())
    }
}

pub(crate) fn bad<T>(what: impl Into<String>) -> Res<T> {
    Err(Malformed(what.into()))
}

pub(crate) fn u16_at(b: &[u8], at: usize) -> Res<u16> {
    match at.checked_add(2).and_then(|end| b.get(at..end)) {
        Some(s) => Ok(u16::from_le_bytes([s[0], s[1]])),
        _ => bad(format!(
            "read of 2 bytes at offset {at} beyond {} bytes",
            b.len()
        )),
    }
}

pub(crate) fn u32_at(b: &[u8], at: usize) -> Res<u32> {
    match at.checked_add(4).and_then(|end| b.get(at..end)) {
        Some(s) => Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]])),
        None => bad(format!(
            "read of 4 bytes at offset {at} beyond {} bytes",
            b.len()
        )),
    }
}

pub(crate) fn usize_at(b: &[u8], at: usize) -> Res<usize> {
    u32_at(b, at).map(|v| v as usize)
}

/// Chunk types (`ResChunk_header.type`).
pub(crate) mod chunk_type {
    pub(crate) const STRING_POOL: u16 = 0x0001;
    pub(crate) const TABLE: u16 = 0x0002;
    pub(crate) const XML: u16 = 0x0003;
    pub(crate) const XML_START_NAMESPACE: u16 = 0x0100;
    pub(crate) const XML_END_NAMESPACE: u16 = 0x0101;
    pub(crate) const XML_START_ELEMENT: u16 = 0x0102;
    pub(crate) const XML_END_ELEMENT: u16 = 0x0103;
    pub(crate) const XML_CDATA: u16 = 0x0104;
    pub(crate) const XML_RESOURCE_MAP: u16 = 0x0180;
    pub(crate) const TABLE_PACKAGE: u16 = 0x0200;
    pub(crate) const TABLE_TYPE: u16 = 0x0201;
    pub(crate) const TABLE_TYPE_SPEC: u16 = 0x0202;
}

/// One chunk: its type, where it starts, its header size and total size.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Chunk {
    pub(crate) kind: u16,
    pub(crate) start: usize,
    pub(crate) header_size: usize,
    pub(crate) size: usize,
}

impl Chunk {
    /// Reads the chunk header at `start`, which must fit within `end`.
    pub(crate) fn at(b: &[u8], start: usize, end: usize) -> Res<Self> {
        let kind = u16_at(b, start)?;
        let header_size = usize::from(u16_at(b, start + 2)?);
        let size = usize_at(b, start + 4)?;
        if header_size < 8 || size < header_size {
            return bad(format!(
                "chunk 0x{kind:04x} at offset {start}: header size {header_size}, size {size}"
            ));
        }
        match start.checked_add(size) {
            Some(e) if e <= end && e <= b.len() => {}
            _ => {
                return bad(format!(
                    "chunk 0x{kind:04x} at offset {start} of {size} bytes runs past its container (ends at {end})"
                ));
            }
        }
        Ok(Self {
            kind,
            start,
            header_size,
            size,
        })
    }

    pub(crate) fn end(&self) -> usize {
        self.start + self.size
    }

    pub(crate) fn body(&self) -> usize {
        self.start + self.header_size
    }

    /// The header must be at least `n` bytes (the fields read from it).
    pub(crate) fn need_header(&self, n: usize) -> Res<()> {
        if self.header_size < n {
            return bad(format!(
                "chunk 0x{:04x} at offset {}: header of {} bytes, at least {n} needed",
                self.kind, self.start, self.header_size
            ));
        }
        Ok(())
    }
}

/// The chunks laid one after another in `b[start..end]`. Each chunk is at
/// least 8 bytes, so the walk ends after at most `(end - start) / 8` steps.
pub(crate) fn chunks(b: &[u8], start: usize, end: usize) -> Res<Vec<Chunk>> {
    let mut out = Vec::new();
    let mut at = start;
    while at < end {
        if end - at < 8 {
            // Trailing padding shorter than a header: AOSP ignores it.
            break;
        }
        let c = Chunk::at(b, at, end)?;
        at = c.end();
        out.push(c);
    }
    Ok(out)
}

/// A string pool (`ResStringPool`), decoded eagerly: pools are bounded by the
/// entry size, and each string is decoded once.
#[derive(Debug, Default)]
pub(crate) struct StringPool {
    strings: Vec<String>,
}

const UTF8_FLAG: u32 = 0x100;

impl StringPool {
    /// Parses the string pool chunk `c` of `b`.
    pub(crate) fn parse(b: &[u8], c: &Chunk) -> Res<Self> {
        if c.kind != chunk_type::STRING_POOL {
            return bad(format!(
                "expected a string pool at offset {}, found chunk 0x{:04x}",
                c.start, c.kind
            ));
        }
        c.need_header(28)?;
        let count = usize_at(b, c.start + 8)?;
        let flags = u32_at(b, c.start + 16)?;
        let strings_start = usize_at(b, c.start + 20)?;
        let utf8 = flags & UTF8_FLAG != 0;
        // Each string needs a 4-byte offset: a count beyond the chunk is a lie.
        if count > (c.size - c.header_size) / 4 {
            return bad(format!(
                "string pool claims {count} strings in {} bytes",
                c.size
            ));
        }
        let data = c
            .start
            .checked_add(strings_start)
            .filter(|&d| d <= c.end() && (count == 0 || strings_start >= c.header_size))
            .map_or_else(
                || {
                    bad(format!(
                        "string data offset {strings_start} outside the pool"
                    ))
                },
                Ok,
            )?;
        let mut strings = Vec::with_capacity(count);
        let mut budget = CopyBudget::for_input(c.size);
        for i in 0..count {
            let off = usize_at(b, c.body() + 4 * i)?;
            let at = data.checked_add(off).filter(|&a| a < c.end()).map_or_else(
                || bad(format!("string {i} at offset {off} outside the pool")),
                Ok,
            )?;
            let s = if utf8 {
                utf8_string(&b[..c.end()], at)
            } else {
                utf16_string(&b[..c.end()], at)
            }
            .map_err(|Malformed(m)| Malformed(format!("string {i}: {m}")))?;
            budget.take(s.len())?;
            strings.push(s);
        }
        Ok(Self { strings })
    }

    /// The string at `idx` (`None` for the "no string" index 0xFFFFFFFF or an
    /// index past the end).
    pub(crate) fn get(&self, idx: u32) -> Option<&str> {
        self.strings.get(idx as usize).map(String::as_str)
    }
}

/// A UTF-8 pool string: its UTF-16 length, its byte length (each 1 or 2
/// bytes, high bit = two bytes), the bytes.
fn utf8_string(b: &[u8], mut at: usize) -> Res<String> {
    let len8 = |b: &[u8], at: &mut usize| -> Res<usize> {
        let first = *b
            .get(*at)
            .ok_or_else(|| Malformed("length past the pool".into()))?;
        *at += 1;
        if first & 0x80 == 0 {
            return Ok(usize::from(first));
        }
        let second = *b
            .get(*at)
            .ok_or_else(|| Malformed("length past the pool".into()))?;
        *at += 1;
        Ok((usize::from(first & 0x7f) << 8) | usize::from(second))
    };
    let _utf16_len = len8(b, &mut at)?;
    let n = len8(b, &mut at)?;
    let bytes = at
        .checked_add(n)
        .and_then(|e| b.get(at..e))
        .ok_or_else(|| Malformed(format!("{n} bytes at offset {at} run past the pool")))?;
    // aapt wrote Java's "modified UTF-8" in old tools; take what decodes.
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

/// A UTF-16 pool string: its length in code units (one unit, or two with the
/// high bit set), the units.
fn utf16_string(b: &[u8], mut at: usize) -> Res<String> {
    let first = usize::from(u16_at(b, at)?);
    at += 2;
    let n = if first & 0x8000 != 0 {
        let second = usize::from(u16_at(b, at)?);
        at += 2;
        ((first & 0x7fff) << 16) | second
    } else {
        first
    };
    let units = n
        .checked_mul(2)
        .and_then(|l| at.checked_add(l))
        .and_then(|e| b.get(at..e))
        .ok_or_else(|| Malformed(format!("{n} UTF-16 units at offset {at} run past the pool")))?;
    let units: Vec<u16> = units
        .chunks_exact(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]))
        .collect();
    Ok(String::from_utf16_lossy(&units))
}

/// A typed value (`Res_value`) as far as configurations use them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Value {
    /// A string (from the pool).
    String(String),
    /// A reference to a resource (`@type/name`), by id.
    Reference(u32),
    /// A reference to a theme attribute (`?attr`), by id.
    Attribute(u32),
    /// A decimal or hex integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// Anything else, kept as the data word and type for display.
    Other(u8, u32),
    /// No value.
    Null,
}

impl Value {
    /// The bytes of text this value holds (for a [`CopyBudget`]).
    pub(crate) fn text_len(&self) -> usize {
        match self {
            Value::String(s) => s.len(),
            _ => 0,
        }
    }
}

pub(crate) mod value_type {
    pub(crate) const NULL: u8 = 0x00;
    pub(crate) const REFERENCE: u8 = 0x01;
    pub(crate) const ATTRIBUTE: u8 = 0x02;
    pub(crate) const STRING: u8 = 0x03;
    pub(crate) const DYNAMIC_REFERENCE: u8 = 0x07;
    pub(crate) const INT_DEC: u8 = 0x10;
    pub(crate) const INT_HEX: u8 = 0x11;
    pub(crate) const INT_BOOLEAN: u8 = 0x12;
}

impl Value {
    /// Reads the 8-byte `Res_value` at `at`.
    pub(crate) fn read(b: &[u8], at: usize, pool: &StringPool) -> Res<Self> {
        let kind = *b
            .get(at + 3)
            .ok_or_else(|| Malformed(format!("value at offset {at} past the end")))?;
        let data = u32_at(b, at + 4)?;
        Ok(Self::from_parts(kind, data, pool))
    }

    pub(crate) fn from_parts(kind: u8, data: u32, pool: &StringPool) -> Self {
        use value_type::*;
        match kind {
            NULL => Self::Null,
            REFERENCE | DYNAMIC_REFERENCE => Self::Reference(data),
            ATTRIBUTE => Self::Attribute(data),
            STRING => pool
                .get(data)
                .map_or(Self::Other(kind, data), |s| Self::String(s.to_owned())),
            INT_DEC => Self::Int(i64::from(data as i32)),
            INT_HEX => Self::Int(i64::from(data)),
            INT_BOOLEAN => Self::Bool(data != 0),
            _ => Self::Other(kind, data),
        }
    }

    /// The value as text, as `aapt dump xmltree` would show it, with
    /// references resolved through `names` (`@raw/ca`) when possible.
    pub(crate) fn display(&self, names: &dyn Fn(u32) -> Option<String>) -> String {
        match self {
            Self::String(s) => s.clone(),
            Self::Reference(id) => names(*id)
                .map(|n| format!("@{n}"))
                .unwrap_or_else(|| format!("@0x{id:08x}")),
            Self::Attribute(id) => format!("?0x{id:08x}"),
            Self::Int(i) => i.to_string(),
            Self::Bool(v) => v.to_string(),
            // Colours (`TYPE_INT_COLOR_*`) as aapt writes them: the text
            // compiles back to the same integer, which is what Android's
            // `getAttributeBooleanValue` reads (NSC booleans).
            Self::Other(0x1c..=0x1f, d) => format!("#{d:08x}"),
            Self::Other(t, d) => format!("(type 0x{t:02x})0x{d:x}"),
            Self::Null => String::new(),
        }
    }

    pub(crate) fn as_bool(&self) -> Option<bool> {
        match self {
            Self::Bool(b) => Some(*b),
            Self::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    pub(crate) fn as_int(&self) -> Option<i64> {
        match self {
            Self::Int(i) => Some(*i),
            Self::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A string pool chunk holding `strings`.
    pub(crate) fn pool_chunk(strings: &[&str], utf8: bool) -> Vec<u8> {
        let mut data = Vec::new();
        let mut offs = Vec::new();
        for s in strings {
            offs.push(data.len() as u32);
            if utf8 {
                data.push(s.chars().count() as u8);
                data.push(s.len() as u8);
                data.extend_from_slice(s.as_bytes());
                data.push(0);
            } else {
                let u: Vec<u16> = s.encode_utf16().collect();
                data.extend_from_slice(&(u.len() as u16).to_le_bytes());
                for x in u {
                    data.extend_from_slice(&x.to_le_bytes());
                }
                data.extend_from_slice(&[0, 0]);
            }
        }
        while data.len() % 4 != 0 {
            data.push(0);
        }
        let start = 28 + 4 * strings.len();
        let size = start + data.len();
        let mut b = Vec::new();
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&28u16.to_le_bytes());
        b.extend_from_slice(&(size as u32).to_le_bytes());
        b.extend_from_slice(&(strings.len() as u32).to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&(if utf8 { UTF8_FLAG } else { 0 }).to_le_bytes());
        b.extend_from_slice(&(start as u32).to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        for o in offs {
            b.extend_from_slice(&o.to_le_bytes());
        }
        b.extend_from_slice(&data);
        b
    }

    #[test]
    fn pools_in_both_encodings() {
        for utf8 in [true, false] {
            let b = pool_chunk(&["manifest", "日本", ""], utf8);
            let c = Chunk::at(&b, 0, b.len()).unwrap();
            let p = StringPool::parse(&b, &c).unwrap();
            assert_eq!(p.get(1), Some("日本"));
            assert_eq!(p.get(2), Some(""));
            assert_eq!(p.get(3), None);
            assert_eq!(p.get(u32::MAX), None);
        }
    }

    #[test]
    fn bad_string_offsets_are_malformed() {
        let mut b = pool_chunk(&["a", "b"], true);
        // the second offset points far outside the pool
        b[32..36].copy_from_slice(&0x7fff_fff0u32.to_le_bytes());
        let c = Chunk::at(&b, 0, b.len()).unwrap();
        let e = StringPool::parse(&b, &c).unwrap_err();
        assert!(e.0.contains("string 1"), "{e:?}");
        // a count that cannot fit
        let mut b = pool_chunk(&["a"], false);
        b[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        let c = Chunk::at(&b, 0, b.len()).unwrap();
        assert!(StringPool::parse(&b, &c).is_err());
        // a length running past the end
        let mut b = pool_chunk(&["abc"], false);
        b[32..34].copy_from_slice(&0x7fffu16.to_le_bytes());
        let c = Chunk::at(&b, 0, b.len()).unwrap();
        assert!(StringPool::parse(&b, &c).is_err());
    }

    #[test]
    fn chunk_sizes_are_checked() {
        // size smaller than the header, size past the container
        let mut b = vec![1, 0, 8, 0, 4, 0, 0, 0];
        assert!(Chunk::at(&b, 0, 8).is_err());
        b[4] = 64;
        assert!(Chunk::at(&b, 0, 8).is_err());
        assert!(chunks(&b, 0, 8).is_err());
    }

    #[test]
    fn offsets_sharing_one_string_cannot_multiply_memory() {
        // 100,000 offsets all naming one 120-byte string: 12 MB decoded from
        // a pool of about 0.7 MB. Once accepted (and, with a 32 KiB string,
        // 7.8 GiB from a 1 MiB manifest); now over the copy budget.
        let big = "x".repeat(120);
        let mut strings = vec![big.as_str()];
        strings.extend(std::iter::repeat_n("", 99_999));
        let mut b = pool_chunk(&strings, true);
        for i in 0..strings.len() {
            b[28 + 4 * i..32 + 4 * i].copy_from_slice(&0u32.to_le_bytes());
        }
        let c = Chunk::at(&b, 0, b.len()).unwrap();
        let err = StringPool::parse(&b, &c).unwrap_err();
        assert!(err.0.contains("8 times"), "{}", err.0);
        // The same pool with its own offsets is fine.
        let b = pool_chunk(&strings, true);
        let c = Chunk::at(&b, 0, b.len()).unwrap();
        assert!(StringPool::parse(&b, &c).is_ok());
    }
}
