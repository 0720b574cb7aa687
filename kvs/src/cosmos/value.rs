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
//! hex of the item's key in the order-preserving key encoding, and [`INDEXES`], the
//! same for each index the item is in, see [`index_property`]) and the token of the
//! write that made it ([`WRITE`]).
//!
//! Refused with `Validation` before anything is sent (the backend declares it): numbers
//! that are neither an integer within +-2^53 nor a double.

use std::borrow::Cow;
use std::collections::BTreeSet;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value as Json};
use sha2::{Digest, Sha256};

use super::id::item_id;
use crate::backend::record::{self, Step};
use crate::{Error, IndexSchema, Item, Key, Number, Result, StoreSchema, Value, codec};

/// The property that lists the bytes and sets of an item, by kind and path.
pub const TYPES: &str = "_kvsTypes";

/// The property holding the item's key in the order-preserving key encoding (hex): what
/// base-table queries and scans order by.
pub const KEY: &str = "_kvsKey";

/// The object holding, for each index the item is in, its index key and table key in
/// the order-preserving key encoding (hex), under [`index_property`].
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

/// The kvs name of a stored top-level property; `None` for Cosmos DB's and kvs's own.
fn kvs_name(stored: String) -> Option<String> {
    if let Some(name) = stored.strip_prefix(ESCAPE) {
        return Some(name.to_owned());
    }
    if stored == KEY
        || stored == INDEXES
        || stored == TYPES
        || stored == WRITE
        || stored == PARTITION
        || SYSTEM.contains(&stored.as_str())
    {
        return None;
    }
    Some(stored)
}

/// The member of [`INDEXES`] that holds an index's order key: `i` and 16 hex digits of
/// the SHA-256 of the index's name, so that query text names it without holding
/// anything the user wrote.
pub fn index_property(index: &IndexSchema) -> String {
    let digest = Sha256::digest(index.name.as_bytes());
    format!("i{}", hex::encode(&digest[..8]))
}

/// Bytes as the base64 string a document holds.
pub fn base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// The order key of an item in the base table (the value of [`KEY`]).
pub fn table_order_key(key: &Key) -> String {
    hex::encode(codec::table_key(key))
}

struct Encoder<'a> {
    at: Vec<Step<'a>>,
    types: Vec<String>,
}

impl<'a> Encoder<'a> {
    fn error(&self, what: &str) -> Error {
        Error::validation(format!(
            "attribute {} {what}",
            record::path_string(&self.at).trim_start_matches('.')
        ))
    }

    fn number(&self, n: &Number) -> Result<Json> {
        if let Some(f) = n.float() {
            return serde_json::Number::from_f64(f)
                .map(Json::Number)
                .ok_or_else(|| {
                    self.error(&format!("holds {n}: only finite numbers can be stored"))
                });
        }
        match n.as_i64() {
            Some(i) if n.is_integer() && i.unsigned_abs() <= super::MAX_SAFE_INTEGER as u64 => {
                Ok(Json::from(i))
            }
            _ => Err(self.error(&format!(
                "holds {n:?}, which Cosmos DB cannot store exactly (it holds numbers as \
                 doubles: integers within +-2^53)"
            ))),
        }
    }

    /// Encodes `value`; `None` for an empty set, which is a missing attribute.
    fn value(&mut self, value: &'a Value) -> Result<Option<Json>> {
        Ok(Some(match value {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => self.number(n)?,
            Value::String(s) => Json::String(s.clone()),
            Value::Bytes(b) => {
                self.types.push(record::entry("B", &self.at));
                Json::String(base64(b))
            }
            Value::Map(m) => {
                let mut object = Map::with_capacity(m.len());
                for (k, v) in m {
                    self.at.push(Step::Name(Cow::Borrowed(k)));
                    if let Some(e) = self.value(v)? {
                        object.insert(k.clone(), e);
                    }
                    self.at.pop();
                }
                Json::Object(object)
            }
            Value::List(l) => {
                let mut array = Vec::with_capacity(l.len());
                for (i, v) in l.iter().enumerate() {
                    self.at.push(Step::Index(i));
                    match self.value(v)? {
                        Some(e) => array.push(e),
                        None => return Err(self.error("holds an empty set in a list")),
                    }
                    self.at.pop();
                }
                Json::Array(array)
            }
            Value::StringSet(s) if s.is_empty() => return Ok(None),
            Value::NumberSet(s) if s.is_empty() => return Ok(None),
            Value::BytesSet(s) if s.is_empty() => return Ok(None),
            Value::StringSet(s) => {
                self.types.push(record::entry("SS", &self.at));
                Json::Array(s.iter().map(|s| Json::String(s.clone())).collect())
            }
            Value::NumberSet(s) => {
                let array = s.iter().map(|n| self.number(n)).collect::<Result<_>>()?;
                self.types.push(record::entry("NS", &self.at));
                Json::Array(array)
            }
            Value::BytesSet(s) => {
                self.types.push(record::entry("BS", &self.at));
                Json::Array(s.iter().map(|b| Json::String(base64(b))).collect())
            }
        }))
    }
}

/// An item as the document that holds it (see the module docs): its id, its attributes,
/// its records and its order keys. `Validation`, naming the attribute, for what Cosmos
/// DB cannot hold.
pub fn encode_document(schema: &StoreSchema, key: &Key, item: &Item) -> Result<Map<String, Json>> {
    let mut enc = Encoder {
        at: Vec::new(),
        types: Vec::new(),
    };
    let mut doc = Map::with_capacity(item.len() + 4);
    doc.insert("id".to_owned(), Json::String(item_id(key)));
    for (name, value) in item.iter() {
        enc.at.push(Step::Name(Cow::Borrowed(name)));
        if let Some(v) = enc.value(value)? {
            doc.insert(property_name(name).into_owned(), v);
        }
        enc.at.pop();
    }
    if let Cow::Borrowed(PARTITION) = partition_property(schema) {
        doc.insert(PARTITION.to_owned(), encode_value(key.partition())?);
    }
    if !enc.types.is_empty() {
        let entries = enc.types.into_iter().map(Json::String).collect();
        doc.insert(TYPES.to_owned(), Json::Array(entries));
    }
    let table_key = codec::table_key(key);
    let mut indexes = Map::new();
    for index in &schema.indexes {
        if let Some(index_key) = index.key_of(item)? {
            let order = hex::encode(codec::index_key(&index_key, &table_key));
            indexes.insert(index_property(index), Json::String(order));
        }
    }
    doc.insert(KEY.to_owned(), Json::String(hex::encode(&table_key)));
    doc.insert(
        WRITE.to_owned(),
        Json::String(format!("{:016x}", rand::random::<u64>())),
    );
    if !indexes.is_empty() {
        doc.insert(INDEXES.to_owned(), Json::Object(indexes));
    }
    Ok(doc)
}

/// A document as an item: plain values as they are, bytes and sets restored from kvs's
/// record, names unescaped, Cosmos DB's and kvs's own properties left out. Never fails
/// for one odd value.
pub fn decode_document(mut doc: Map<String, Json>) -> Item {
    let types = doc.remove(TYPES);
    let mut item = Item::new();
    for (name, v) in doc {
        if let Some(name) = kvs_name(name) {
            item.insert(name, decode_value(v));
        }
    }
    if let Some(Json::Array(entries)) = types {
        for entry in entries {
            if let Json::String(entry) = entry {
                record::restore(&mut item, &entry, restore);
            }
        }
    }
    item
}

/// Turns the value a record entry names back into bytes or a set of the recorded kind.
fn restore(kind: &str, at: &mut Value) {
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
    match value {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(b),
        // An integer beyond +-2^53 is a double that Cosmos DB wrote without a fraction
        // (kvs never writes such an integer): read it as the double it is, so that it is
        // written back as one.
        Json::Number(n) => match n.as_i64() {
            Some(i) if i.unsigned_abs() <= super::MAX_SAFE_INTEGER as u64 => Value::from(i),
            _ => Value::from(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::String(s),
        Json::Array(a) => Value::List(a.into_iter().map(decode_value).collect()),
        Json::Object(o) => Value::Map(o.into_iter().map(|(k, v)| (k, decode_value(v))).collect()),
    }
}

/// A value as JSON (a query parameter): plain values as [`encode_document`] writes them.
pub fn encode_value(value: &Value) -> Result<Json> {
    let mut enc = Encoder {
        at: Vec::new(),
        types: Vec::new(),
    };
    Ok(enc.value(value)?.unwrap_or(Json::Array(Vec::new())))
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
        assert_eq!(decode_document(doc), item);
    }

    #[test]
    fn plain_values_stay_plain() {
        let item = item! { "id" => "a", "i" => 7, "f" => 2.5, "s" => "x", "l" => Value::list([1, 2]),
        "m" => item! { "k" => Value::Null } };
        let key = schema().key_of(&item).unwrap();
        let doc = encode_document(&schema(), &key, &item).unwrap();
        assert_eq!(doc["i"], Json::from(7));
        assert_eq!(doc["f"], Json::from(2.5));
        assert_eq!(doc["l"], serde_json::json!([1, 2]));
        assert_eq!(doc["_kvs_id"], Json::from("a"));
        assert_eq!(doc["id"], Json::from("sa"));
        assert!(!doc.contains_key(TYPES));
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

    #[test]
    fn wide_integers_read_back_are_doubles() {
        let v = decode_value(serde_json::json!(-9223372036854775808i64));
        assert_eq!(v.as_number().and_then(|n| n.float()), Some(-(2f64.powi(63))));
        assert_eq!(decode_value(serde_json::json!(7)), Value::from(7));
    }

    #[test]
    fn wide_numbers_are_refused_by_name() {
        let item = item! { "id" => "a", "big" => (1i64 << 53) + 1 };
        let key = schema().key_of(&item).unwrap();
        let e = encode_document(&schema(), &key, &item).unwrap_err();
        assert!(e.to_string().contains("big"), "{e}");
        let ok = item! { "id" => "a", "edge" => 1i64 << 53 };
        assert!(encode_document(&schema(), &key, &ok).is_ok());
    }
}
