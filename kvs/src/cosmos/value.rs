//! kvs items as Cosmos DB documents and back.
//!
//! Plain values stay plain JSON: null, booleans, numbers, strings, maps (objects) and
//! lists (arrays). What JSON has no type for is encoded so that it reads back exactly:
//!
//! - **bytes** are standard base64 strings, and **sets** sorted arrays (of strings,
//!   numbers, or base64 strings); the document's property [`TYPES`] (present only when
//!   the item holds bytes or sets) lists, for each, its kind and path (`B:.photo`,
//!   `SS:.tags`, `NS:.m.scores`), so that kvs reads them back while other programs see
//!   strings and arrays;
//! - **top-level names** that Cosmos DB uses for its own properties ([`SYSTEM`]) or that
//!   start with `_kvs` are stored as `_kvs_` and the name (`id` as `_kvs_id`), so that
//!   kvs's own properties ([`KEY`], [`INDEXES`], [`TYPES`]) never meet a user's.
//!
//! Beside the attributes, every document holds its id, kvs's order keys ([`KEY`], the
//! [`order_text`] of the item's key in the order-preserving key encoding, and [`INDEXES`], the
//! same for each index the item is in, see [`index_property`]) and the token of the
//! write that made it ([`WRITE`]).
//!
//! Refused with `Validation` before anything is sent (the backend declares it): numbers
//! that are neither an integer within +-2^53 nor a double.

use std::borrow::Cow;
use std::collections::BTreeSet;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value as Json};

use super::id::item_id;
use crate::backend::record::{self, Step};
use crate::{Error, IndexSchema, Item, Key, Number, Result, StoreSchema, Value, codec};

/// The property that lists the bytes and sets of an item, by kind and path.
pub const TYPES: &str = "_kvsTypes";

/// The property holding the item's key in the order-preserving key encoding (as [`order_text`]): what
/// base-table queries and scans order by.
pub const KEY: &str = "_kvsKey";

/// The object holding, for each index the item is in, its index key and table key in
/// the order-preserving key encoding (as [`order_text`]), under [`index_property`].
pub const INDEXES: &str = "_kvsIx";

/// The property holding a random token of the write that made the document: a write
/// that finds its item changed (412) or present (409) reads it to learn whether the
/// change was its own, sent twice by the SDK after a lost response.
pub const WRITE: &str = "_kvsWrite";

/// The property a container is partitioned on when the partition key attribute's name
/// cannot be a partition key path (it holds `/` or `"`, which Cosmos DB reads as a path
/// step or a quote): a copy of the partition key value, kept beside the attribute.
pub const PARTITION: &str = "_kvsPk";

/// The prefix of a stored name that is not the attribute's own.
const ESCAPE: &str = "_kvs_";

/// Cosmos DB's own top-level properties.
pub const SYSTEM: [&str; 8] = [
    "id",
    "_rid",
    "_self",
    "_etag",
    "_ts",
    "_attachments",
    "_lsn",
    "ttl",
];

/// The name a top-level attribute is stored under (see the module docs).
pub fn property_name(name: &str) -> Cow<'_, str> {
    if name.starts_with("_kvs") || SYSTEM.contains(&name) {
        Cow::Owned(format!("{ESCAPE}{name}"))
    } else {
        Cow::Borrowed(name)
    }
}

/// The top-level property the container of `schema` is partitioned on: the partition
/// key attribute's own (as stored), or [`PARTITION`] where its name cannot be a path.
pub fn partition_property(schema: &StoreSchema) -> Cow<'_, str> {
    let name = property_name(&schema.partition_key.name);
    if name.contains(['/', '"']) {
        Cow::Borrowed(PARTITION)
    } else {
        name
    }
}

/// What a stored top-level property is.
pub(super) enum Stored<'a> {
    /// The record of bytes and sets ([`TYPES`]).
    Types,
    /// Cosmos DB's or kvs's own (the id, order keys, ETag, ...).
    Own,
    /// An attribute, by its kvs name.
    Attribute(&'a str),
}

/// What the stored top-level property `stored` is (see the module docs).
pub(super) fn stored(stored: &str) -> Stored<'_> {
    if let Some(name) = stored.strip_prefix(ESCAPE) {
        return Stored::Attribute(name);
    }
    if stored == TYPES {
        return Stored::Types;
    }
    if stored == KEY
        || stored == INDEXES
        || stored == WRITE
        || stored == PARTITION
        || SYSTEM.contains(&stored)
    {
        return Stored::Own;
    }
    Stored::Attribute(stored)
}

/// The member of [`INDEXES`] that holds an index's order key: `i` and the 64-bit FNV-1a
/// hash of the index's name in hex, so that query text names it without holding
/// anything the user wrote (and a write computes it in a few instructions).
pub fn index_property(index: &IndexSchema) -> String {
    let hash = index.name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    hex_u64("i", hash)
}

/// Bytes as the base64 string a document holds.
pub fn base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// The order key of an item in the base table (the value of [`KEY`]).
pub fn table_order_key(key: &Key) -> String {
    order_text(&codec::table_key(key))
}

/// 64 ASCII characters in ASCII order: a digit of [`order_text`].
pub(super) const ORDER_DIGITS: &[u8; 64] =
    b"-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

/// Bytes as ASCII text that compares as the bytes do (Cosmos DB compares strings by
/// UTF-16 code units, which on ASCII is byte order): the bits six at a time, the last
/// group padded with zeros, each written as a digit of `ORDER_DIGITS`. A third shorter
/// than hex. Padding keeps the order: where one input is a prefix of another, its text
/// is a prefix of the other's or smaller at its last digit; elsewhere the first
/// differing bit decides in both.
pub fn order_text(bytes: &[u8]) -> String {
    let digit = |six: u32| ORDER_DIGITS[(six & 63) as usize];
    let mut out = Vec::with_capacity(bytes.len().div_ceil(3) * 4);
    // Three bytes are four digits: written a group at a time, as every write makes one
    // of these per order key.
    let mut groups = bytes.chunks_exact(3);
    for g in &mut groups {
        let acc = u32::from(g[0]) << 16 | u32::from(g[1]) << 8 | u32::from(g[2]);
        out.extend_from_slice(&[
            digit(acc >> 18),
            digit(acc >> 12),
            digit(acc >> 6),
            digit(acc),
        ]);
    }
    match *groups.remainder() {
        [a] => out.extend_from_slice(&[digit(u32::from(a) >> 2), digit(u32::from(a) << 4)]),
        [a, b] => {
            let acc = u32::from(a) << 8 | u32::from(b);
            out.extend_from_slice(&[digit(acc >> 10), digit(acc >> 4), digit(acc << 2)]);
        }
        _ => {}
    }
    String::from_utf8(out).expect("order digits are ASCII")
}

/// `n` as 16 lowercase hex digits after `prefix`, without the formatting machinery (a
/// write makes one for its token and one per index property).
fn hex_u64(prefix: &str, n: u64) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut digits = [0u8; 16];
    for (i, d) in digits.iter_mut().enumerate() {
        *d = HEX[(n >> (60 - 4 * i)) as usize & 15];
    }
    let mut out = String::with_capacity(prefix.len() + 16);
    out.push_str(prefix);
    out.push_str(std::str::from_utf8(&digits).expect("hex digits are ASCII"));
    out
}

/// Records where the bytes and sets are (and refuses an empty set in a list), in one walk
/// that allocates nothing unless it finds one (the document itself is written straight
/// from the item by [`Encoded`]'s `Serialize`).
struct Checker<'a> {
    at: Vec<Step<'a>>,
    types: Vec<String>,
}

impl<'a> Checker<'a> {
    fn error(&self, what: &str) -> Error {
        Error::validation(format!(
            "attribute {} {what}",
            record::path_string(&self.at).trim_start_matches('.')
        ))
    }

    fn value(&mut self, value: &'a Value) -> Result<()> {
        match value {
            Value::Bytes(_) => {
                self.types.push(record::entry("B", &self.at));
                Ok(())
            }
            Value::Map(m) => {
                for (k, v) in m {
                    self.at.push(Step::Name(Cow::Borrowed(k)));
                    self.value(v)?;
                    self.at.pop();
                }
                Ok(())
            }
            Value::List(l) => {
                for (i, v) in l.iter().enumerate() {
                    self.at.push(Step::Index(i));
                    if v.is_empty_set() {
                        return Err(self.error("holds an empty set in a list"));
                    }
                    self.value(v)?;
                    self.at.pop();
                }
                Ok(())
            }
            v if v.is_empty_set() => Ok(()),
            Value::StringSet(_) => {
                self.types.push(record::entry("SS", &self.at));
                Ok(())
            }
            Value::NumberSet(_) => {
                self.types.push(record::entry("NS", &self.at));
                Ok(())
            }
            Value::BytesSet(_) => {
                self.types.push(record::entry("BS", &self.at));
                Ok(())
            }
            // Numbers were checked against the backend's declaration before a plan
            // reached the backend (the library for what is sent, the kit for the item
            // an update makes): not again here.
            Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => Ok(()),
        }
    }
}

/// A value as plain JSON (checked first by [`Checker`]): bytes as base64 strings, sets
/// as arrays, maps without their empty sets.
struct Plain<'a>(&'a Value);

impl Serialize for Plain<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self.0 {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Number(n) => serialize_number(n, s),
            Value::String(v) => s.serialize_str(v),
            Value::Bytes(b) => s.serialize_str(&base64(b)),
            Value::Map(m) => {
                let mut map = s.serialize_map(None)?;
                for (k, v) in m.iter().filter(|(_, v)| !v.is_empty_set()) {
                    map.serialize_entry(k, &Plain(v))?;
                }
                map.end()
            }
            Value::List(l) => s.collect_seq(l.iter().map(Plain)),
            Value::StringSet(set) => s.collect_seq(set),
            Value::NumberSet(set) => s.collect_seq(set.iter().map(PlainNumber)),
            Value::BytesSet(set) => s.collect_seq(set.iter().map(|b| base64(b))),
        }
    }
}

struct PlainNumber<'a>(&'a Number);

impl Serialize for PlainNumber<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        serialize_number(self.0, s)
    }
}

fn serialize_number<S: Serializer>(n: &Number, s: S) -> std::result::Result<S::Ok, S::Error> {
    match (n.float(), n.as_i64()) {
        (Some(f), _) => s.serialize_f64(f),
        (None, Some(i)) if n.is_integer() => s.serialize_i64(i),
        _ => Err(serde::ser::Error::custom(format!(
            "{n:?} is not a number Cosmos DB holds"
        ))),
    }
}

/// A document ready to be written: an item (borrowed), checked, with its id, records
/// and order keys. Its `Serialize` writes the JSON document straight from the item.
#[derive(Debug)]
pub struct Encoded<'a> {
    id: String,
    item: &'a Item,
    types: Vec<String>,
    partition_copy: Option<Json>,
    key: String,
    indexes: Vec<(String, String)>,
    write: String,
    /// Cosmos DB's own `ttl` (seconds from this write) of an item that expires.
    ttl: Option<i64>,
}

impl Encoded<'_> {
    /// The document id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The token of this write ([`WRITE`]).
    pub fn write_token(&self) -> &str {
        &self.write
    }
}

impl Serialize for Encoded<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("id", &self.id)?;
        // The record before the attributes, so that a typed read meets it before the
        // values it describes and reads them straight into the model (`direct`).
        if !self.types.is_empty() {
            map.serialize_entry(TYPES, &self.types)?;
        }
        for (name, value) in self.item.iter().filter(|(_, v)| !v.is_empty_set()) {
            map.serialize_entry(&property_name(name), &Plain(value))?;
        }
        if let Some(pk) = &self.partition_copy {
            map.serialize_entry(PARTITION, pk)?;
        }
        map.serialize_entry(KEY, &self.key)?;
        if !self.indexes.is_empty() {
            map.serialize_entry(INDEXES, &IndexKeys(&self.indexes))?;
        }
        map.serialize_entry(WRITE, &self.write)?;
        if let Some(ttl) = self.ttl {
            map.serialize_entry("ttl", &ttl)?;
        }
        map.end()
    }
}

struct IndexKeys<'a>(&'a [(String, String)]);

impl Serialize for IndexKeys<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

/// An item as the document that holds it (see the module docs): its id, its attributes,
/// its records and its order keys. `Validation`, naming the attribute, for what Cosmos
/// DB cannot hold.
pub fn encode_document<'a>(schema: &StoreSchema, key: &Key, item: &'a Item) -> Result<Encoded<'a>> {
    let mut check = Checker {
        at: Vec::new(),
        types: Vec::new(),
    };
    for (name, value) in item.iter() {
        check.at.push(Step::Name(Cow::Borrowed(name)));
        check.value(value)?;
        check.at.pop();
    }
    let partition_copy = match partition_property(schema) {
        Cow::Borrowed(PARTITION) => Some(encode_value(key.partition())?),
        _ => None,
    };
    let table_key = codec::table_key(key);
    let mut indexes = Vec::new();
    for index in &schema.indexes {
        if let Some(index_key) = index.key_of(item)? {
            let order = order_text(&codec::index_key(&index_key, &table_key));
            indexes.push((index_property(index), order));
        }
    }
    Ok(Encoded {
        id: item_id(key),
        item,
        types: check.types,
        partition_copy,
        key: order_text(&table_key),
        indexes,
        write: hex_u64("", rand::random::<u64>()),
        ttl: native_ttl(schema, item),
    })
}

/// Cosmos DB's per-item `ttl` for an item of a store whose items expire: the seconds from
/// now to its expiry, plus [`CLOCK_MARGIN`], so that Cosmos DB deletes it once it has
/// expired (the container's default TTL is on, with no default: see
/// `container_definition`). Cosmos DB counts from its own clock (the document's `_ts`):
/// the margin keeps a client clock that runs ahead from having an item deleted before
/// it expires. None for an item that does not expire, or expires beyond what Cosmos DB
/// counts (2^31 - 1 seconds).
fn native_ttl(schema: &StoreSchema, item: &Item) -> Option<i64> {
    let at = schema.expiry_second(item)?;
    let left = at
        .saturating_sub(crate::schema::now_seconds())
        .saturating_add(CLOCK_MARGIN);
    (left <= i64::from(i32::MAX)).then_some(left.max(1))
}

/// Seconds added to a Cosmos DB `ttl` for the skew between the client's clock and the
/// server's: storage is reclaimed a minute late, never early.
const CLOCK_MARGIN: i64 = 60;

/// A document as read: the item (Cosmos DB's and kvs's own properties left out, names
/// unescaped, bytes and sets restored), and what kvs needs of the rest. Deserialized
/// straight from the response, with no intermediate JSON tree.
#[derive(Debug, Default)]
pub struct Document {
    /// The item.
    pub item: Item,
    /// Cosmos DB's ETag of the document (`_etag`).
    pub etag: Option<String>,
    /// The token of the write that made it ([`WRITE`]).
    pub write: Option<String>,
}

impl<'de> Deserialize<'de> for Document {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_map(DocumentVisitor)
    }
}

struct DocumentVisitor;

impl<'de> Visitor<'de> for DocumentVisitor {
    type Value = Document;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a Cosmos DB document")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Document, A::Error> {
        let mut doc = Document::default();
        let mut types: Vec<String> = Vec::new();
        while let Some(name) = map.next_key::<Cow<'de, str>>()? {
            match name.as_ref() {
                "_etag" => doc.etag = map.next_value()?,
                WRITE => doc.write = map.next_value()?,
                TYPES => types = map.next_value()?,
                other => match stored(other) {
                    Stored::Attribute(name) => {
                        let name = name.to_owned();
                        let JsonValue(v) = map.next_value()?;
                        doc.item.insert(name, v);
                    }
                    Stored::Own | Stored::Types => {
                        map.next_value::<IgnoredAny>()?;
                    }
                },
            }
        }
        for entry in &types {
            record::restore(&mut doc.item, entry, restore);
        }
        Ok(doc)
    }
}

/// A kvs value read from JSON as [`decode_value`] reads it.
pub(super) struct JsonValue(pub(super) Value);

impl JsonValue {
    /// A list, from its elements.
    pub(super) fn from_seq<'de, A: SeqAccess<'de>>(seq: A) -> std::result::Result<Self, A::Error> {
        JsonValueVisitor.visit_seq(seq)
    }

    /// A map, from its entries.
    pub(super) fn from_map<'de, A: MapAccess<'de>>(map: A) -> std::result::Result<Self, A::Error> {
        JsonValueVisitor.visit_map(map)
    }
}

impl<'de> Deserialize<'de> for JsonValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(JsonValueVisitor)
    }
}

struct JsonValueVisitor;

impl<'de> Visitor<'de> for JsonValueVisitor {
    type Value = JsonValue;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> std::result::Result<JsonValue, E> {
        Ok(JsonValue(Value::Null))
    }

    fn visit_none<E>(self) -> std::result::Result<JsonValue, E> {
        Ok(JsonValue(Value::Null))
    }

    fn visit_bool<E>(self, b: bool) -> std::result::Result<JsonValue, E> {
        Ok(JsonValue(Value::Bool(b)))
    }

    fn visit_i64<E>(self, i: i64) -> std::result::Result<JsonValue, E> {
        Ok(JsonValue(integer(i128::from(i))))
    }

    fn visit_u64<E>(self, u: u64) -> std::result::Result<JsonValue, E> {
        Ok(JsonValue(integer(i128::from(u))))
    }

    fn visit_f64<E>(self, f: f64) -> std::result::Result<JsonValue, E> {
        Ok(JsonValue(Value::from(f)))
    }

    fn visit_str<E>(self, s: &str) -> std::result::Result<JsonValue, E> {
        Ok(JsonValue(Value::String(s.to_owned())))
    }

    fn visit_string<E>(self, s: String) -> std::result::Result<JsonValue, E> {
        Ok(JsonValue(Value::String(s)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<JsonValue, A::Error> {
        let mut list = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(JsonValue(v)) = seq.next_element()? {
            list.push(v);
        }
        Ok(JsonValue(Value::List(list)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<JsonValue, A::Error> {
        let mut m = std::collections::BTreeMap::new();
        while let Some((k, JsonValue(v))) = map.next_entry::<String, JsonValue>()? {
            m.insert(k, v);
        }
        Ok(JsonValue(Value::Map(m)))
    }
}

/// A JSON integer: itself within +-2^53; beyond, the double Cosmos DB wrote without a
/// fraction (kvs never writes such an integer), read as the double it is so that it is
/// written back as one.
pub(super) fn integer(i: i128) -> Value {
    match i64::try_from(i) {
        Ok(i) if i.unsigned_abs() <= super::MAX_SAFE_INTEGER as u64 => Value::from(i),
        _ => Value::from(i as f64),
    }
}

/// A document as an item (see [`Document`]). Never fails for one odd value.
pub fn decode_document(doc: Map<String, Json>) -> Item {
    serde_json::from_value::<Document>(Json::Object(doc))
        .map(|d| d.item)
        .unwrap_or_default()
}

/// A document's JSON text as the document it is (see [`Document`]); `Backend` if it is
/// no JSON object.
pub fn document(json: &[u8]) -> Result<Document> {
    serde_json::from_slice(json)
        .map_err(|e| Error::backend(format!("Cosmos DB gave a document kvs cannot read: {e}"), e))
}

/// A document's JSON text as the item it holds (see [`Document`]).
pub fn document_item(json: &[u8]) -> Result<Item> {
    document(json).map(|d| d.item)
}

/// Turns the value a record entry names back into bytes or a set of the recorded kind.
pub(super) fn restore(kind: &str, at: &mut Value) {
    let bytes = |v: &Value| v.as_str().and_then(|s| STANDARD.decode(s).ok());
    let restored = match (kind, &*at) {
        ("B", v) => bytes(v).map(Value::Bytes),
        ("SS", Value::List(l)) => l
            .iter()
            .map(|e| e.as_str().map(str::to_owned))
            .collect::<Option<BTreeSet<String>>>()
            .map(Value::StringSet),
        ("NS", Value::List(l)) => l
            .iter()
            .map(Value::as_number)
            .collect::<Option<BTreeSet<Number>>>()
            .map(Value::NumberSet),
        ("BS", Value::List(l)) => l
            .iter()
            .map(bytes)
            .collect::<Option<BTreeSet<Vec<u8>>>>()
            .map(Value::BytesSet),
        _ => None,
    };
    if let Some(v) = restored {
        *at = v;
    }
}

/// One JSON value as a kvs value.
pub fn decode_value(value: Json) -> Value {
    serde_json::from_value::<JsonValue>(value)
        .map(|v| v.0)
        .unwrap_or(Value::Null)
}

/// A value as JSON (a partition key value, a query parameter): as documents hold it.
/// `Validation` for what Cosmos DB cannot hold.
pub fn encode_value(value: &Value) -> Result<Json> {
    let mut check = Checker {
        at: vec![Step::Name(Cow::Borrowed("value"))],
        types: Vec::new(),
    };
    check.value(value)?;
    serde_json::to_value(Plain(value)).map_err(|e| Error::validation(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{KeyAttr, item};

    fn schema() -> StoreSchema {
        StoreSchema::new("s", KeyAttr::string("id"))
    }

    fn round_trip(item: Item) {
        let key = schema().key_of(&item).unwrap();
        let doc = encode_document(&schema(), &key, &item).unwrap();
        let Json::Object(doc) = serde_json::to_value(&doc).unwrap() else {
            panic!("an object");
        };
        assert_eq!(decode_document(doc), item);
    }

    #[test]
    fn plain_values_stay_plain() {
        let item = item! { "id" => "a", "i" => 7, "f" => 2.5, "s" => "x", "l" => Value::list([1, 2]),
        "m" => item! { "k" => Value::Null } };
        let key = schema().key_of(&item).unwrap();
        let doc = serde_json::to_value(encode_document(&schema(), &key, &item).unwrap()).unwrap();
        assert_eq!(doc["i"], Json::from(7));
        assert_eq!(doc["f"], Json::from(2.5));
        assert_eq!(doc["l"], serde_json::json!([1, 2]));
        assert_eq!(doc["_kvs_id"], Json::from("a"));
        assert_eq!(doc["id"], Json::from("sa"));
        assert!(doc.get(TYPES).is_none());
    }

    #[test]
    fn what_json_lacks_round_trips() {
        round_trip(item! {
            "id" => "k",
            "tags" => Value::string_set(["b", "a"]),
            "ns" => Value::number_set([3, 1]),
            "bs" => Value::bytes_set([vec![1u8], vec![0u8]]),
            "bin" => Value::bytes([0, 255]),
            "ll" => Value::list([Value::list([1, 2]), Value::bytes([7])]),
            "m" => item! { "a.b[0]" => Value::number_set([1.5]), "_rid" => 1 },
            "_rid" => "mine", "_kvsKey" => "theirs", "ttl" => 5, "_kvs_x" => 1,
        });
    }

    proptest::proptest! {
        #[test]
        fn order_text_keeps_byte_order(
            // Few distinct bytes, so that prefixes and near ties are common.
            a in proptest::collection::vec(proptest::sample::select(vec![0u8, 1, 63, 64, 255]), 0..8),
            b in proptest::collection::vec(proptest::sample::select(vec![0u8, 1, 63, 64, 255]), 0..8),
        ) {
            proptest::prop_assert_eq!(a.cmp(&b), order_text(&a).cmp(&order_text(&b)));
        }
    }

    /// The order text as first written, six bits at a time: documents already stored
    /// hold it, so the grouped writer must give the same text for every input.
    fn order_text_bit_by_bit(bytes: &[u8]) -> String {
        let mut out = String::new();
        let (mut acc, mut bits) = (0u32, 0u32);
        for &b in bytes {
            acc = (acc << 8) | u32::from(b);
            bits += 8;
            while bits >= 6 {
                bits -= 6;
                out.push(char::from(ORDER_DIGITS[((acc >> bits) & 63) as usize]));
            }
        }
        if bits > 0 {
            out.push(char::from(
                ORDER_DIGITS[((acc << (6 - bits)) & 63) as usize],
            ));
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn order_text_is_the_stored_text(a in proptest::collection::vec(proptest::num::u8::ANY, 0..40)) {
            proptest::prop_assert_eq!(order_text(&a), order_text_bit_by_bit(&a));
        }

        #[test]
        fn hex_is_formatted_hex(n in proptest::num::u64::ANY) {
            proptest::prop_assert_eq!(hex_u64("i", n), format!("i{n:016x}"));
        }
    }

    #[test]
    fn order_text_is_ascii_in_order() {
        assert!(ORDER_DIGITS.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(order_text(&[]), "");
        assert_eq!(order_text(&[0]), "--");
        assert_eq!(order_text(&[0xFF, 0xFF, 0xFF]), "zzzz");
    }

    #[test]
    fn wide_integers_read_back_are_doubles() {
        let v = decode_value(serde_json::json!(-9223372036854775808i64));
        assert_eq!(
            v.as_number().and_then(|n| n.float()),
            Some(-(2f64.powi(63)))
        );
        assert_eq!(decode_value(serde_json::json!(7)), Value::from(7));
    }

    #[test]
    fn wide_numbers_are_refused_by_name() {
        let item = item! { "id" => "a", "big" => (1i64 << 53) + 1 };
        // Refused by the declaration, which the library and the kit check before a
        // document is encoded.
        let caps = super::super::capabilities();
        let e = caps.check_item(&item).unwrap_err();
        assert!(e.to_string().contains("big"), "{e}");
        let ok = item! { "id" => "a", "edge" => 1i64 << 53 };
        assert!(caps.check_item(&ok).is_ok());
        let key = schema().key_of(&ok).unwrap();
        assert!(encode_document(&schema(), &key, &ok).is_ok());
    }
}
