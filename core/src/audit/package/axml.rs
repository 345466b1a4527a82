//! Android binary XML ("AXML"): the compiled form of `AndroidManifest.xml`
//! and `res/xml/*.xml` inside an APK (AOSP `ResXMLTree`).
//!
//! A file is one `RES_XML_TYPE` chunk holding a string pool, an optional
//! resource map (the attribute resource id of each of the first pool
//! strings), and a flat list of node chunks: namespace start/end, element
//! start/end, text. Each node carries the line it had in the source XML.
//!
//! The decoder is a single loop over those chunks with an explicit depth
//! counter (no recursion on attacker data), bounded by
//! [`crate::limits::MAX_NESTING_DEPTH`]. An attribute is named as Android
//! resolves it: by its resource id when the resource map gives one (so an
//! obfuscator that renames the `android:networkSecurityConfig` string does
//! not hide it), by its pool string otherwise.
//!
//! [`to_xml`] turns a decoded file back into XML text whose elements sit on
//! the lines they had in the source, so the NSC importer's findings carry the
//! developer's own line numbers.

use super::res::{
    Chunk, CopyBudget, Malformed, Res, StringPool, Value, bad, chunk_type, u16_at, u32_at,
    value_type,
};

/// The Android resource namespace.
pub(crate) const ANDROID_NS: &str = "http://schemas.android.com/apk/res/android";

/// One attribute of an element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Attr {
    /// Namespace URI, if any.
    pub(crate) ns: Option<String>,
    /// The name as written in the pool (may be obfuscated).
    pub(crate) name: String,
    /// The attribute's resource id (framework attributes: `0x0101xxxx`).
    pub(crate) res_id: Option<u32>,
    /// The typed value.
    pub(crate) value: Value,
}

/// One node of a decoded document, in document order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Event {
    /// An element starts.
    Start {
        name: String,
        attrs: Vec<Attr>,
        line: u32,
    },
    /// The innermost open element ends.
    End,
    /// Character data.
    Text(String),
}

/// A decoded document: its nodes, in order, balanced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct XmlDoc {
    pub(crate) events: Vec<Event>,
}

/// Framework attribute ids the audit reads (AOSP `public.xml`).
pub(crate) mod attr_id {
    pub(crate) const DEBUGGABLE: u32 = 0x0101_000f;
    pub(crate) const MIN_SDK_VERSION: u32 = 0x0101_020c;
    pub(crate) const VERSION_CODE: u32 = 0x0101_021b;
    pub(crate) const VERSION_NAME: u32 = 0x0101_021c;
    pub(crate) const TARGET_SDK_VERSION: u32 = 0x0101_0270;
    pub(crate) const ALLOW_BACKUP: u32 = 0x0101_0280;
    pub(crate) const USES_CLEARTEXT_TRAFFIC: u32 = 0x0101_04ec;
    pub(crate) const NETWORK_SECURITY_CONFIG: u32 = 0x0101_0527;
}

impl XmlDoc {}

/// Decodes a binary XML file.
pub(crate) fn decode(b: &[u8]) -> Res<XmlDoc> {
    let root = Chunk::at(b, 0, b.len())?;
    if root.kind != chunk_type::XML {
        return bad(format!("not binary XML (chunk type 0x{:04x})", root.kind));
    }
    let mut pool: Option<StringPool> = None;
    let mut res_map: Vec<u32> = Vec::new();
    let mut events = Vec::new();
    let mut depth = 0usize;
    let mut budget = CopyBudget::for_input(b.len());
    let mut at = root.body();
    while at < root.end() {
        if root.end() - at < 8 {
            break;
        }
        let c = Chunk::at(b, at, root.end())?;
        at = c.end();
        match c.kind {
            chunk_type::STRING_POOL => {
                if pool.is_some() {
                    return bad("a second string pool");
                }
                pool = Some(StringPool::parse(b, &c)?);
            }
            chunk_type::XML_RESOURCE_MAP => {
                let n = (c.size - c.header_size) / 4;
                res_map = (0..n)
                    .map(|i| u32_at(b, c.body() + 4 * i))
                    .collect::<Res<_>>()?;
            }
            chunk_type::XML_START_NAMESPACE | chunk_type::XML_END_NAMESPACE => {}
            chunk_type::XML_START_ELEMENT => {
                let pool = pool
                    .as_ref()
                    .ok_or_else(|| Malformed("an element before the string pool".into()))?;
                depth += 1;
                if depth > crate::limits::MAX_NESTING_DEPTH {
                    return bad(format!(
                        "elements nested deeper than {} levels (MAX_NESTING_DEPTH)",
                        crate::limits::MAX_NESTING_DEPTH
                    ));
                }
                events.push(start_element(b, &c, pool, &res_map, &mut budget)?);
            }
            chunk_type::XML_END_ELEMENT => {
                if depth == 0 {
                    return bad(format!(
                        "an element end at offset {} with none open",
                        c.start
                    ));
                }
                depth -= 1;
                events.push(Event::End);
            }
            chunk_type::XML_CDATA => {
                let pool = pool
                    .as_ref()
                    .ok_or_else(|| Malformed("text before the string pool".into()))?;
                c.need_header(16)?;
                let idx = u32_at(b, c.body())?;
                let text = pool.get(idx).unwrap_or_default();
                budget.take(text.len())?;
                events.push(Event::Text(text.to_owned()));
            }
            // Unknown chunks are skipped, as ResXMLParser does.
            _ => {}
        }
    }
    if depth != 0 {
        return bad(format!("{depth} element(s) not closed"));
    }
    if !events.iter().any(|e| matches!(e, Event::Start { .. })) {
        return bad("no element");
    }
    Ok(XmlDoc { events })
}

/// Decodes one element, spending `budget` on each string *before* copying
/// it: 65,535 attributes naming one long pool string once copied gigabytes
/// (an abort on allocation failure) before the element's cost was checked.
fn start_element(
    b: &[u8],
    c: &Chunk,
    pool: &StringPool,
    res_map: &[u32],
    budget: &mut CopyBudget,
) -> Res<Event> {
    let len = |idx: u32| pool.get(idx).map_or(0, str::len);
    // ResXMLTree_node: header, lineNumber, comment; then ResXMLTree_attrExt.
    c.need_header(16)?;
    let line = u32_at(b, c.start + 8)?;
    let ext = c.body();
    let name_idx = u32_at(b, ext + 4)?;
    let attr_start = usize::from(u16_at(b, ext + 8)?);
    let attr_size = usize::from(u16_at(b, ext + 10)?);
    let attr_count = usize::from(u16_at(b, ext + 12)?);
    if attr_count > 0 && attr_size < 20 {
        return bad(format!("attribute size {attr_size} (at least 20)"));
    }
    budget.take(len(name_idx))?;
    let name = pool
        .get(name_idx)
        .ok_or_else(|| Malformed(format!("element name string {name_idx} not in the pool")))?
        .to_owned();
    let mut attrs = Vec::with_capacity(attr_count.min(256));
    for i in 0..attr_count {
        let a = ext + attr_start + i * attr_size;
        if a + 20 > c.end() {
            return bad(format!("attribute {i} of <{name}> runs past its element"));
        }
        let ns = u32_at(b, a)?;
        let an = u32_at(b, a + 4)?;
        let raw = u32_at(b, a + 8)?;
        // What the lines below copy: the namespace, the name, and the
        // value's string (its data index when it names a pool string,
        // else the raw value for a string or null type).
        let (kind, data) = (b.get(a + 15).copied(), u32_at(b, a + 16)?);
        let value_len = match kind {
            Some(value_type::STRING) if pool.get(data).is_some() => len(data),
            Some(value_type::STRING | value_type::NULL) => len(raw),
            _ => 0,
        };
        budget.take(len(ns) + len(an) + value_len)?;
        let mut value = Value::read(b, a + 12, pool)?;
        // A string-typed attribute keeps its text in rawValue.
        if matches!(value, Value::Other(0x03, _)) || value == Value::Null {
            if let Some(s) = pool.get(raw) {
                value = Value::String(s.to_owned());
            }
        }
        let res_id = res_map.get(an as usize).copied().filter(|&id| id != 0);
        attrs.push(Attr {
            ns: pool.get(ns).map(str::to_owned),
            name: pool.get(an).unwrap_or_default().to_owned(),
            res_id,
            value,
        });
    }
    Ok(Event::Start { name, attrs, line })
}

impl Attr {
    /// The name to write back as XML (`android:` prefix for framework ones).
    fn xml_name(&self) -> String {
        let local = if self.name.is_empty() || !is_xml_name(&self.name) {
            self.res_id
                .map_or_else(|| "unnamed".to_owned(), |id| format!("attr_0x{id:08x}"))
        } else {
            self.name.clone()
        };
        match self.ns.as_deref() {
            Some(ANDROID_NS) => format!("android:{local}"),
            Some(_) => format!("ns:{local}"),
            None => local,
        }
    }
}

fn is_xml_name(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
        && !s.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.')
}

fn escape(s: &str, out: &mut String) {
    for ch in s.chars() {
        match ch {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {
                out.push_str(&format!("&#x{:x};", c as u32));
            }
            c => out.push(c),
        }
    }
}

/// XML text for a decoded document, each element starting on its source line
/// when lines increase (otherwise on the next line). References are named
/// through `names` (`@raw/ca`).
pub(crate) fn to_xml(doc: &XmlDoc, names: &dyn Fn(u32) -> Option<String>) -> String {
    let mut out = String::new();
    let mut line = 1u32;
    let mut stack: Vec<&str> = Vec::new();
    let namespaced = doc.events.iter().any(|e| match e {
        Event::Start { attrs, .. } => attrs.iter().any(|a| a.ns.is_some()),
        _ => false,
    });
    let mut i = 0;
    while i < doc.events.len() {
        match &doc.events[i] {
            Event::Start {
                name,
                attrs,
                line: l,
            } => {
                if *l > line {
                    // Cap padding: a hostile line number must not allocate
                    // gigabytes, per element nor over the document (the
                    // text is refused past MAX_INPUT_BYTES anyway).
                    let room = crate::limits::MAX_INPUT_BYTES.saturating_sub(out.len()) as u32;
                    let pad = (*l - line).min(1_000_000).min(room);
                    out.extend(std::iter::repeat_n('\n', pad as usize));
                    line += pad;
                }
                out.push('<');
                out.push_str(name);
                if stack.is_empty() && namespaced {
                    out.push_str(" xmlns:android=\"");
                    out.push_str(ANDROID_NS);
                    out.push_str("\" xmlns:ns=\"urn:mamori:other-namespace\"");
                }
                for a in attrs {
                    out.push(' ');
                    out.push_str(&a.xml_name());
                    out.push_str("=\"");
                    escape(&a.value.display(names), &mut out);
                    out.push('"');
                }
                if matches!(doc.events.get(i + 1), Some(Event::End)) {
                    out.push_str("/>");
                    i += 1;
                } else {
                    out.push('>');
                    stack.push(name);
                }
            }
            Event::End => {
                if let Some(n) = stack.pop() {
                    out.push_str("</");
                    out.push_str(n);
                    out.push('>');
                }
            }
            Event::Text(t) => {
                line = line.saturating_add(t.matches('\n').count() as u32);
                escape(t, &mut out);
            }
        }
        i += 1;
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::{Event, XmlDoc, to_xml};

    #[test]
    fn line_padding_is_bounded_over_the_whole_document() {
        // 200 elements, each a million lines below the previous one: the
        // padding once grew to 200 M newlines; it stops at the input limit.
        let mut events = Vec::new();
        for i in 1..=200u32 {
            events.push(Event::Start {
                name: "domain".into(),
                attrs: Vec::new(),
                line: i.saturating_mul(1_000_000),
            });
            events.push(Event::End);
        }
        events.push(Event::Text("\n".repeat(10)));
        let text = to_xml(&XmlDoc { events }, &|_| None);
        assert!(
            text.len() <= crate::limits::MAX_INPUT_BYTES + 200 * 16,
            "{} bytes",
            text.len()
        );
    }
}
