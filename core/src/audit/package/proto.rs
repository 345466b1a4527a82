//! Android App Bundles: aapt2's protobuf formats.
//!
//! An AAB stores its manifest (`base/manifest/AndroidManifest.xml`) and its
//! compiled XML resources as a protobuf `XmlNode`, and its resource table as
//! `base/resources.pb` (a protobuf `ResourceTable`), both defined in aapt2's
//! `Resources.proto`. The messages below declare only the fields the audit
//! reads, with aapt2's field numbers; prost skips the rest. prost's decoder
//! limits message nesting to 100 levels, so a deeply nested `XmlNode` is an
//! error, not a stack overflow; the tree is then flattened into the same
//! [`XmlDoc`] events as binary XML with an explicit stack.

use std::collections::HashMap;

use prost::Message;

use super::apk::{self, Resources};
use super::axml::{Attr, Event, XmlDoc};
use super::res::{CopyBudget, Malformed, Res, Value, bad};
use super::zip::Archive;
use super::{AppPackage, PackageError};

/// Where an App Bundle keeps its base module's manifest.
pub(crate) const MANIFEST: &str = "base/manifest/AndroidManifest.xml";
const TABLE: &str = "base/resources.pb";

/// `aapt.pb.XmlNode`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct XmlNode {
    #[prost(message, optional, tag = "1")]
    pub(crate) element: Option<XmlElement>,
    #[prost(string, optional, tag = "2")]
    pub(crate) text: Option<String>,
    #[prost(message, optional, tag = "3")]
    pub(crate) source: Option<SourcePosition>,
}

/// `aapt.pb.SourcePosition`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct SourcePosition {
    #[prost(uint32, tag = "1")]
    pub(crate) line_number: u32,
}

/// `aapt.pb.XmlElement`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct XmlElement {
    #[prost(string, tag = "2")]
    pub(crate) namespace_uri: String,
    #[prost(string, tag = "3")]
    pub(crate) name: String,
    #[prost(message, repeated, tag = "4")]
    pub(crate) attribute: Vec<XmlAttribute>,
    #[prost(message, repeated, tag = "5")]
    pub(crate) child: Vec<XmlNode>,
}

/// `aapt.pb.XmlAttribute`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct XmlAttribute {
    #[prost(string, tag = "1")]
    pub(crate) namespace_uri: String,
    #[prost(string, tag = "2")]
    pub(crate) name: String,
    #[prost(string, tag = "3")]
    pub(crate) value: String,
    #[prost(uint32, tag = "5")]
    pub(crate) resource_id: u32,
    #[prost(message, optional, tag = "6")]
    pub(crate) compiled_item: Option<Item>,
}

/// `aapt.pb.Item` (the variants the audit reads).
#[derive(Clone, PartialEq, Message)]
pub(crate) struct Item {
    #[prost(message, optional, tag = "1")]
    pub(crate) r#ref: Option<Reference>,
    #[prost(message, optional, tag = "2")]
    pub(crate) str: Option<StringValue>,
    #[prost(message, optional, tag = "3")]
    pub(crate) raw_str: Option<StringValue>,
    #[prost(message, optional, tag = "5")]
    pub(crate) file: Option<FileReference>,
    #[prost(message, optional, tag = "7")]
    pub(crate) prim: Option<Primitive>,
}

/// `aapt.pb.Reference`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct Reference {
    /// 0 reference, 1 attribute.
    #[prost(int32, tag = "1")]
    pub(crate) r#type: i32,
    #[prost(uint32, tag = "2")]
    pub(crate) id: u32,
    #[prost(string, tag = "3")]
    pub(crate) name: String,
}

/// `aapt.pb.String` / `aapt.pb.RawString`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct StringValue {
    #[prost(string, tag = "1")]
    pub(crate) value: String,
}

/// `aapt.pb.FileReference`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct FileReference {
    #[prost(string, tag = "1")]
    pub(crate) path: String,
}

/// `aapt.pb.Primitive` (integers and booleans).
#[derive(Clone, PartialEq, Message)]
pub(crate) struct Primitive {
    #[prost(int32, optional, tag = "6")]
    pub(crate) int_decimal_value: Option<i32>,
    #[prost(uint32, optional, tag = "7")]
    pub(crate) int_hexadecimal_value: Option<u32>,
    #[prost(bool, optional, tag = "8")]
    pub(crate) boolean_value: Option<bool>,
}

/// `aapt.pb.ResourceTable`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct ResourceTable {
    #[prost(message, repeated, tag = "2")]
    pub(crate) package: Vec<Package>,
}

/// `aapt.pb.Package`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct Package {
    #[prost(message, optional, tag = "1")]
    pub(crate) package_id: Option<Id>,
    #[prost(message, repeated, tag = "3")]
    pub(crate) r#type: Vec<Type>,
}

/// `aapt.pb.PackageId` / `TypeId` / `EntryId`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct Id {
    #[prost(uint32, tag = "1")]
    pub(crate) id: u32,
}

/// `aapt.pb.Type`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct Type {
    #[prost(message, optional, tag = "1")]
    pub(crate) type_id: Option<Id>,
    #[prost(string, tag = "2")]
    pub(crate) name: String,
    #[prost(message, repeated, tag = "3")]
    pub(crate) entry: Vec<Entry>,
}

/// `aapt.pb.Entry`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct Entry {
    #[prost(message, optional, tag = "1")]
    pub(crate) entry_id: Option<Id>,
    #[prost(string, tag = "2")]
    pub(crate) name: String,
    #[prost(message, repeated, tag = "6")]
    pub(crate) config_value: Vec<ConfigValue>,
}

/// `aapt.pb.ConfigValue`; the configuration is kept as its encoded bytes
/// (empty: the default configuration).
#[derive(Clone, PartialEq, Message)]
pub(crate) struct ConfigValue {
    #[prost(bytes = "vec", tag = "1")]
    pub(crate) config: Vec<u8>,
    #[prost(message, optional, tag = "2")]
    pub(crate) value: Option<ValueMsg>,
}

/// `aapt.pb.Value` (its `item` variant).
#[derive(Clone, PartialEq, Message)]
pub(crate) struct ValueMsg {
    #[prost(message, optional, tag = "4")]
    pub(crate) item: Option<Item>,
}

fn item_value(item: &Item, raw: &str) -> Value {
    if let Some(r) = &item.r#ref {
        return if r.r#type == 1 {
            Value::Attribute(r.id)
        } else {
            Value::Reference(r.id)
        };
    }
    if let Some(p) = &item.prim {
        if let Some(b) = p.boolean_value {
            return Value::Bool(b);
        }
        if let Some(i) = p.int_decimal_value {
            return Value::Int(i64::from(i));
        }
        if let Some(i) = p.int_hexadecimal_value {
            return Value::Int(i64::from(i));
        }
    }
    if let Some(s) = item.str.as_ref().or(item.raw_str.as_ref()) {
        return Value::String(s.value.clone());
    }
    if let Some(f) = &item.file {
        return Value::String(f.path.clone());
    }
    Value::String(raw.to_owned())
}

/// The messages declared above, for [`decoded_cost`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Msg {
    XmlNode,
    XmlElement,
    XmlAttribute,
    Item,
    /// `Reference`, `String`, `RawString`, `FileReference`: a message
    /// whose field `.0` is a string (0: none, as `Primitive`).
    Leaf(u32),
    ResourceTable,
    Package,
    Type,
    Entry,
    ConfigValue,
    Value,
}

/// What a declared field of `m` holds: a nested message (with the bytes
/// its struct takes when it is a new element of a `Vec`, 0 when it sits
/// inline in its parent), text, or nothing prost keeps.
enum Field {
    Message(Msg, usize),
    Text,
    Skip,
}

fn field(m: Msg, f: u32) -> Field {
    use std::mem::size_of;
    match (m, f) {
        (Msg::XmlNode, 1) => Field::Message(Msg::XmlElement, 0),
        (Msg::XmlNode, 2) => Field::Text,
        (Msg::XmlElement, 2 | 3) => Field::Text,
        (Msg::XmlElement, 4) => Field::Message(Msg::XmlAttribute, size_of::<XmlAttribute>()),
        (Msg::XmlElement, 5) => Field::Message(Msg::XmlNode, size_of::<XmlNode>()),
        (Msg::XmlAttribute, 1..=3) => Field::Text,
        (Msg::XmlAttribute, 6) | (Msg::Value, 4) => Field::Message(Msg::Item, 0),
        (Msg::Item, 1) => Field::Message(Msg::Leaf(3), 0),
        (Msg::Item, 2 | 3 | 5) => Field::Message(Msg::Leaf(1), 0),
        (Msg::Leaf(t), f) if t == f => Field::Text,
        (Msg::ResourceTable, 2) => Field::Message(Msg::Package, size_of::<Package>()),
        (Msg::Package, 3) => Field::Message(Msg::Type, size_of::<Type>()),
        (Msg::Type, 2) | (Msg::Entry, 2) | (Msg::ConfigValue, 1) => Field::Text,
        (Msg::Type, 3) => Field::Message(Msg::Entry, size_of::<Entry>()),
        (Msg::Entry, 6) => Field::Message(Msg::ConfigValue, size_of::<ConfigValue>()),
        (Msg::ConfigValue, 2) => Field::Message(Msg::Value, 0),
        // Ids, line numbers, primitives: fixed-size fields of their parent.
        _ => Field::Skip,
    }
}

fn varint(b: &[u8], at: &mut usize) -> Res<u64> {
    let mut v = 0u64;
    for i in 0..10 {
        let byte = *b
            .get(*at)
            .ok_or_else(|| Malformed("varint past the end".into()))?;
        *at += 1;
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(v);
        }
    }
    bad("varint longer than 10 bytes")
}

/// Checks, before anything is decoded, what prost would allocate decoding
/// `b` as the message `root` (the structs of the repeated messages and the
/// text of the strings) against a [`CopyBudget`] of 8 times the input, as
/// the binary XML, resource table and DEX decoders do. The wire format
/// lets a 2-byte empty child stand for a whole `XmlNode` (~64 times its
/// size), so without this a 64 MiB entry could ask for gigabytes. The walk
/// is iterative, over the wire format only.
fn decoded_cost(b: &[u8], root: Msg) -> Res<()> {
    const MAX_FRAMES: usize = 4 * crate::limits::MAX_NESTING_DEPTH;
    let mut budget = CopyBudget::for_input(b.len());
    // (message, where it ends)
    let mut stack: Vec<(Msg, usize)> = vec![(root, b.len())];
    let mut at = 0usize;
    while let Some(&(m, end)) = stack.last() {
        if at >= end {
            stack.pop();
            continue;
        }
        let key = varint(b, &mut at)?;
        let (f, wire) = ((key >> 3) as u32, key & 7);
        match wire {
            0 => {
                varint(b, &mut at)?;
            }
            1 => at += 8,
            5 => at += 4,
            2 => {
                let n = usize::try_from(varint(b, &mut at)?)
                    .map_err(|_| Malformed("length beyond memory".into()))?;
                let e = at.checked_add(n).filter(|&e| e <= end).ok_or_else(|| {
                    Malformed(format!("{n} bytes at offset {at} past their message"))
                })?;
                match field(m, f) {
                    Field::Message(inner, size) => {
                        budget.take(size)?;
                        if stack.len() >= MAX_FRAMES {
                            return bad("messages nested deeper than MAX_NESTING_DEPTH");
                        }
                        stack.push((inner, e));
                        continue;
                    }
                    Field::Text => budget.take(n)?,
                    Field::Skip => {}
                }
                at = e;
            }
            w => return bad(format!("wire type {w} at offset {at}")),
        }
        if at > end {
            return bad(format!("field {f} runs past its message"));
        }
    }
    Ok(())
}

/// Decodes a protobuf `XmlNode` into document events, iteratively.
pub(crate) fn decode_xml(b: &[u8]) -> Res<XmlDoc> {
    decoded_cost(b, Msg::XmlNode)?;
    let root = XmlNode::decode(b).map_err(|e| Malformed(e.to_string()))?;
    let mut events = Vec::new();
    // (node, whether its end is due)
    let mut stack: Vec<(&XmlNode, bool)> = vec![(&root, false)];
    let mut depth = 0usize;
    while let Some((node, closing)) = stack.pop() {
        if closing {
            events.push(Event::End);
            depth -= 1;
            continue;
        }
        if let Some(t) = &node.text {
            events.push(Event::Text(t.clone()));
            continue;
        }
        let Some(el) = &node.element else { continue };
        depth += 1;
        if depth > crate::limits::MAX_NESTING_DEPTH {
            return bad("elements nested deeper than MAX_NESTING_DEPTH");
        }
        let attrs = el
            .attribute
            .iter()
            .map(|a| Attr {
                ns: Some(a.namespace_uri.clone()).filter(|n| !n.is_empty()),
                name: a.name.clone(),
                res_id: Some(a.resource_id).filter(|&r| r != 0),
                value: a.compiled_item.as_ref().map_or_else(
                    || Value::String(a.value.clone()),
                    |i| item_value(i, &a.value),
                ),
            })
            .collect();
        events.push(Event::Start {
            name: el.name.clone(),
            attrs,
            line: node.source.as_ref().map_or(0, |s| s.line_number),
        });
        stack.push((node, true));
        for c in el.child.iter().rev() {
            stack.push((c, false));
        }
    }
    if !events.iter().any(|e| matches!(e, Event::Start { .. })) {
        return bad("no element");
    }
    Ok(XmlDoc { events })
}

/// `resources.pb` as lookups: (type, name, the value in each
/// configuration, default first) by id.
#[derive(Debug, Default)]
pub(crate) struct ProtoTable {
    entries: HashMap<u32, ProtoEntry>,
}

type ProtoEntry = (String, String, Vec<(bool, Value)>);

impl ProtoTable {
    pub(crate) fn parse(b: &[u8]) -> Res<Self> {
        decoded_cost(b, Msg::ResourceTable)?;
        let t = ResourceTable::decode(b).map_err(|e| Malformed(e.to_string()))?;
        let mut entries = HashMap::new();
        for p in &t.package {
            let pid = p.package_id.as_ref().map_or(0, |i| i.id);
            for ty in &p.r#type {
                let tid = ty.type_id.as_ref().map_or(0, |i| i.id);
                for e in &ty.entry {
                    let eid = e.entry_id.as_ref().map_or(0, |i| i.id);
                    if pid > 0xff || tid > 0xff || eid > 0xffff {
                        return bad(format!("resource id {pid:x}/{tid:x}/{eid:x} out of range"));
                    }
                    let mut values: Vec<(bool, Value)> = e
                        .config_value
                        .iter()
                        .filter_map(|c| {
                            let item = c.value.as_ref()?.item.as_ref()?;
                            Some((c.config.is_empty(), item_value(item, "")))
                        })
                        .collect();
                    values.sort_by_key(|(d, _)| !*d);
                    entries.insert(
                        (pid << 24) | (tid << 16) | eid,
                        (ty.name.clone(), e.name.clone(), values),
                    );
                }
            }
        }
        Ok(Self { entries })
    }
}

impl Resources for ProtoTable {
    fn name(&self, id: u32) -> Option<String> {
        self.entries.get(&id).map(|(t, k, _)| format!("{t}/{k}"))
    }

    fn file(&self, id: u32) -> Res<String> {
        let mut cur = id;
        let mut seen = Vec::new();
        for _ in 0..=super::arsc::MAX_REFERENCE_HOPS {
            if seen.contains(&cur) {
                return bad(format!("resource 0x{id:08x}: references loop"));
            }
            seen.push(cur);
            match self.entries.get(&cur) {
                Some((t, k, v)) => match v.first() {
                    Some((_, Value::String(p))) => return Ok(self.path(p)),
                    Some((_, Value::Reference(n))) => cur = *n,
                    _ => return bad(format!("resource {t}/{k} is not a file")),
                },
                None => return bad(format!("resource 0x{cur:08x} is not in the table")),
            }
        }
        bad(format!("resource 0x{id:08x}: too many references"))
    }

    fn values(&self, id: u32) -> Vec<(bool, Value)> {
        self.entries
            .get(&id)
            .map_or_else(Vec::new, |(_, _, v)| v.clone())
    }

    fn path(&self, stored: &str) -> String {
        format!("base/{stored}")
    }

    fn ids_of(&self, wanted: &[(&str, &str)]) -> Vec<Option<u32>> {
        super::apk::ids_by_name(
            self.entries
                .iter()
                .map(|(id, (t, k, _))| (*id, t.as_str(), k.as_str())),
            wanted,
        )
    }

    fn id_of(&self, type_name: &str, key: &str) -> Option<u32> {
        self.entries
            .iter()
            .filter(|(_, (t, k, _))| t == type_name && k == key)
            .map(|(id, _)| *id)
            .min()
    }

    fn entry(&self) -> &'static str {
        TABLE
    }
}

/// Reads an App Bundle.
pub(crate) fn read_aab(a: &mut Archive, pkg: &mut AppPackage) -> Result<(), PackageError> {
    let file = a.file.clone();
    let bytes = a.read(MANIFEST)?.unwrap_or_default();
    let manifest = decode_xml(&bytes).map_err(apk::malformed(&file, MANIFEST, "protobuf XML"))?;
    let table = match a.read(TABLE)? {
        Some(b) => ProtoTable::parse(&b).map_err(apk::malformed(&file, TABLE, "resource table"))?,
        None => ProtoTable::default(),
    };
    // The configuration first, DEX last (see `apk::read_apk`).
    apk::configure(a, pkg, MANIFEST, &manifest, &table, decode_xml)?;
    super::signing::read_apk_signatures(a, pkg)?;
    super::dex::scan(a, pkg)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A length-delimited field: its key byte, length, body.
    fn wrap(key: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![key];
        let mut len = body.len();
        while len >= 0x80 {
            out.push((len as u8) | 0x80);
            len >>= 7;
        }
        out.push(len as u8);
        out.extend_from_slice(body);
        out
    }

    /// `XmlNode { element: XmlElement { name: "a", child: [XmlNode {}; n] } }`:
    /// each empty child is 2 bytes on the wire.
    fn empty_children(n: usize) -> Vec<u8> {
        let mut el = vec![0x1a, 0x01, b'a'];
        for _ in 0..n {
            el.extend_from_slice(&[0x2a, 0x00]);
        }
        wrap(0x0a, &el)
    }

    #[test]
    fn empty_children_cannot_multiply_memory() {
        // 500,000 empty children: 1 MB on the wire, each a whole XmlNode
        // once decoded (size_of::<XmlNode>() bytes, ~64 times the 2 bytes):
        // prost allocated ~70 MB for it before the cost was checked.
        let n = 500_000;
        let b = empty_children(n);
        assert!(n * std::mem::size_of::<XmlNode>() > 32 * b.len());
        let e = decode_xml(&b).unwrap_err();
        assert!(e.0.contains("8 times"), "{}", e.0);
        // A few empty children are fine (and read as nothing).
        let doc = decode_xml(&empty_children(10)).unwrap();
        assert_eq!(doc.events.len(), 2);
    }

    #[test]
    fn empty_table_entries_cannot_multiply_memory() {
        // ResourceTable { package: [Package { type: [Type { entry: [Entry {}; n] }] }] }
        let ty: Vec<u8> = std::iter::repeat_n([0x1a, 0x00], 500_000)
            .flatten()
            .collect();
        let table = wrap(0x12, &wrap(0x1a, &ty));
        let e = ProtoTable::parse(&table).unwrap_err();
        assert!(e.0.contains("8 times"), "{}", e.0);
    }

    #[test]
    fn nesting_and_lengths_are_checked_on_the_wire() {
        // A child claiming more bytes than its parent holds.
        assert!(decode_xml(&[0x0a, 0x04, 0x2a, 0x10, 0, 0]).is_err());
        // 10,000 nested elements (XmlNode.element.child.element...), built
        // from the inside out: refused by the walk, not a deep decode.
        let mut b: Vec<u8> = Vec::new();
        for _ in 0..10_000 {
            b = wrap(0x0a, &wrap(0x2a, &b));
        }
        let e = decode_xml(&b).unwrap_err();
        assert!(e.0.contains("nested"), "{}", e.0);
    }
}
