//! kvs values as Firestore values and back.
//!
//! Plain values stay plain: null, booleans, integers (`integerValue`), floats
//! (`doubleValue`), strings, bytes, maps and lists are Firestore's own types, so other
//! programs read a document as any other. What Firestore has no type or room for is
//! encoded so that it reads back exactly:
//!
//! - **sets** are sorted, deduplicated native arrays; the document's field [`SETS`]
//!   (present only when the item holds sets) lists, for each, its type and path
//!   (`SS:.tags`, `NS:.m.scores`), so that kvs reads them back as sets while other
//!   programs see arrays;
//! - **a list or set directly inside a list** (Firestore refuses arrays in arrays) is
//!   wrapped in a map of one entry, [`LIST`];
//! - **names** (attribute names and map keys at every depth) that Firestore reserves
//!   (`__.*__`) or that start with `~` get one more `~` in front (`__id__` is stored as
//!   `~__id__`, `~x` as `~~x`), so the names kvs uses for its own records (`~sets`,
//!   `~list`) never meet a user's; every other name is stored as it is.
//!
//! Refused with `Validation` before anything is sent (the backend declares it, see
//! [`FirestoreBackend`](super::FirestoreBackend)): exact decimals, numbers that are
//! neither an int64 nor a double's shortest text (Firestore holds nothing else exactly),
//! and nesting deeper than Firestore's 20 levels. Empty names are refused by the library
//! for every backend.
//!
//! Read from documents other programs wrote: a timestamp as its RFC 3339 string, a
//! reference as its document name, a geo point as a map of `latitude` and `longitude`.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use firestore::gcloud_sdk::google::firestore::v1::{
    ArrayValue, MapValue, Value as FsValue, value::ValueType,
};

use crate::backend::record::{self, Step, path_string};
use crate::{Error, Item, Number, Result, Value};

/// The field that lists the sets of an item, by type and path.
pub const SETS: &str = "~sets";

/// The key of the one-entry map that wraps a list or set held directly in a list.
pub const LIST: &str = "~list";

/// The field holding, as a Firestore timestamp, when an item of a store whose items
/// expire expires: Firestore's TTL policies delete by a timestamp field only, and the
/// item's own expiry attribute is a number (seconds since the Unix epoch, as on every
/// backend). `kvs::firestore::index_file` declares the policy.
pub const EXPIRES: &str = "~expires";

/// A Firestore document's fields.
pub type Fields = HashMap<String, FsValue>;

/// The name a kvs attribute name or map key is stored under (see the module docs).
pub fn field_name(name: &str) -> String {
    if name.starts_with('~') || super::id::is_reserved(name) || name.is_empty() {
        format!("~{name}")
    } else {
        name.to_owned()
    }
}

/// The kvs name of a stored field name; `None` for kvs's own records. Takes the name
/// Firestore gave, so that a plain name (nearly all) is kept without a copy.
fn kvs_name(stored: String) -> Option<String> {
    match stored.strip_prefix('~') {
        None => Some(stored),
        Some(rest) if rest.is_empty() || rest.starts_with('~') || super::id::is_reserved(rest) => {
            Some(rest.to_owned())
        }
        // `~sets`, `~list`, or a name of another program's that kvs never writes: a
        // record of kvs's is read by the caller; anything else is kept as it is.
        Some(_) if stored == SETS || stored == LIST || stored == EXPIRES => None,
        Some(_) => Some(stored),
    }
}

fn fs(value_type: ValueType) -> FsValue {
    FsValue {
        value_type: Some(value_type),
    }
}

/// Firestore's most nested maps and arrays in a field (measured on the emulator: 20
/// nested maps in an attribute are accepted, 21 refused).
pub const MAX_FIRESTORE_DEPTH: usize = 20;

struct Encoder<'a> {
    at: Vec<Step<'a>>,
    sets: Vec<String>,
}

impl<'a> Encoder<'a> {
    fn error(&self, what: &str) -> Error {
        Error::validation(format!(
            "attribute {} {what}",
            path_string(&self.at).trim_start_matches('.')
        ))
    }

    /// Encodes `value` at nesting `depth` (maps and arrays around it); `None` for an
    /// empty set, which is a missing attribute.
    fn value(&mut self, value: &'a Value, in_array: bool, depth: usize) -> Result<Option<FsValue>> {
        let nested = |depth: usize, e: &Self| {
            if depth >= MAX_FIRESTORE_DEPTH {
                Err(e.error(&format!(
                    "nests deeper than Firestore's {MAX_FIRESTORE_DEPTH} levels \
                     (a list directly in a list takes two)"
                )))
            } else {
                Ok(())
            }
        };
        let encoded = match value {
            Value::Null => fs(ValueType::NullValue(0)),
            Value::Bool(b) => fs(ValueType::BooleanValue(*b)),
            Value::Number(n) => number(n).ok_or_else(|| self.number_error(n))?,
            Value::String(s) => fs(ValueType::StringValue(s.clone())),
            Value::Bytes(b) => fs(ValueType::BytesValue(b.clone())),
            Value::Map(m) => {
                nested(depth, self)?;
                let mut fields = HashMap::with_capacity(m.len());
                for (k, v) in m {
                    self.at.push(Step::Name(Cow::Borrowed(k)));
                    if let Some(e) = self.value(v, false, depth + 1)? {
                        fields.insert(field_name(k), e);
                    }
                    self.at.pop();
                }
                fs(ValueType::MapValue(MapValue { fields }))
            }
            Value::List(l) => {
                let depth = self.array_depth(in_array, depth)?;
                nested(depth, self)?;
                let mut values = Vec::with_capacity(l.len());
                for (i, v) in l.iter().enumerate() {
                    self.at.push(Step::Index(i));
                    match self.value(v, true, depth + 1)? {
                        Some(e) => values.push(e),
                        None => return Err(self.error("holds an empty set in a list")),
                    }
                    self.at.pop();
                }
                return Ok(Some(wrap(in_array, values)));
            }
            Value::StringSet(s) => {
                return self.set(
                    in_array,
                    depth,
                    "SS",
                    s.iter().map(|s| Ok(fs(ValueType::StringValue(s.clone())))),
                );
            }
            Value::NumberSet(s) => {
                let values: Vec<Result<FsValue>> = s
                    .iter()
                    .map(|n| number(n).ok_or_else(|| self.number_error(n)))
                    .collect();
                return self.set(in_array, depth, "NS", values.into_iter());
            }
            Value::BytesSet(s) => {
                return self.set(
                    in_array,
                    depth,
                    "BS",
                    s.iter().map(|b| Ok(fs(ValueType::BytesValue(b.clone())))),
                );
            }
        };
        Ok(Some(encoded))
    }

    /// The depth of an array's elements' container: a wrapped array (in an array) sits
    /// inside its wrapping map.
    fn array_depth(&self, in_array: bool, depth: usize) -> Result<usize> {
        Ok(if in_array { depth + 1 } else { depth })
    }

    fn set(
        &mut self,
        in_array: bool,
        depth: usize,
        kind: &str,
        elements: impl Iterator<Item = Result<FsValue>>,
    ) -> Result<Option<FsValue>> {
        let values: Vec<FsValue> = elements.collect::<Result<_>>()?;
        if values.is_empty() {
            return Ok(None);
        }
        let depth = self.array_depth(in_array, depth)?;
        if depth >= MAX_FIRESTORE_DEPTH {
            return Err(self.error(&format!(
                "nests deeper than Firestore's {MAX_FIRESTORE_DEPTH} levels"
            )));
        }
        self.sets.push(record::entry(kind, &self.at));
        Ok(Some(wrap(in_array, values)))
    }

    fn number_error(&self, n: &Number) -> Error {
        self.error(&format!(
            "holds {n}, which Firestore cannot store exactly (it holds int64 and double)"
        ))
    }
}

/// An array, wrapped in a one-entry map where it is itself in an array.
fn wrap(in_array: bool, values: Vec<FsValue>) -> FsValue {
    let array = fs(ValueType::ArrayValue(ArrayValue { values }));
    if in_array {
        fs(ValueType::MapValue(MapValue {
            fields: HashMap::from([(LIST.to_owned(), array)]),
        }))
    } else {
        array
    }
}

/// A finite number as an `integerValue` or a `doubleValue`, as it was written.
fn number(n: &Number) -> Option<FsValue> {
    if !n.is_finite() {
        return None;
    }
    if n.is_integer() {
        return n.as_i64().map(|i| fs(ValueType::IntegerValue(i)));
    }
    n.as_f64().map(|f| fs(ValueType::DoubleValue(f)))
}

/// An item as a document's fields (see the module docs). `Validation`, naming the
/// attribute, for what Firestore cannot hold.
pub fn encode_item(item: &Item) -> Result<Fields> {
    let mut enc = Encoder {
        at: Vec::new(),
        sets: Vec::new(),
    };
    let mut fields = HashMap::with_capacity(item.len() + 1);
    for (name, value) in item.iter() {
        enc.at.push(Step::Name(Cow::Borrowed(name)));
        if let Some(v) = enc.value(value, false, 0)? {
            fields.insert(field_name(name), v);
        }
        enc.at.pop();
    }
    if !enc.sets.is_empty() {
        let values = enc
            .sets
            .into_iter()
            .map(|s| fs(ValueType::StringValue(s)))
            .collect();
        fields.insert(
            SETS.to_owned(),
            fs(ValueType::ArrayValue(ArrayValue { values })),
        );
    }
    Ok(fields)
}

/// An item of `schema` as a document's fields: [`encode_item`], and [`EXPIRES`] where
/// the store's items expire and the item's expiry attribute is a number.
pub fn encode_document(schema: &crate::StoreSchema, item: &Item) -> Result<Fields> {
    let mut fields = encode_item(item)?;
    // Firestore's timestamps run from year 1 to 9999.
    if let Some(at) = schema
        .expiry_second(item)
        .filter(|at| (-62_135_596_800..=253_402_300_799).contains(at))
    {
        let timestamp = firestore::gcloud_sdk::prost_types::Timestamp {
            seconds: at,
            nanos: 0,
        };
        fields.insert(EXPIRES.to_owned(), fs(ValueType::TimestampValue(timestamp)));
    }
    Ok(fields)
}

/// One value of the attribute `name` as Firestore holds it (a key value, a cursor value,
/// a bound of a range): a value it cannot hold is `Validation` naming the attribute.
pub fn encode_value<'a>(name: &'a str, value: &'a Value) -> Result<FsValue> {
    let mut enc = Encoder {
        at: vec![Step::Name(Cow::Borrowed(name))],
        sets: Vec::new(),
    };
    Ok(enc
        .value(value, false, 0)?
        .unwrap_or_else(|| fs(ValueType::ArrayValue(ArrayValue::default()))))
}

/// A document's fields as an item: plain values as they are, sets and wrapped lists
/// restored from kvs's records, names unescaped. Never fails for one odd value.
pub fn decode_fields(mut fields: Fields) -> Item {
    let sets = fields.remove(SETS);
    let mut map = BTreeMap::new();
    for (name, v) in fields {
        if let Some(name) = kvs_name(name) {
            map.insert(name, decode_value(v));
        }
    }
    let mut item = Item::from(map);
    if let Some(FsValue {
        value_type: Some(ValueType::ArrayValue(records)),
    }) = sets
    {
        for record in records.values {
            if let Some(ValueType::StringValue(s)) = record.value_type {
                restore_set(&mut item, &s);
            }
        }
    }
    item
}

/// Turns the list a record entry names back into a set of the recorded type.
fn restore_set(item: &mut Item, entry: &str) {
    record::restore(item, entry, |kind, at| {
        let Value::List(elements) = at else {
            return;
        };
        let set = match kind {
            "SS" => elements
                .iter()
                .map(|e| e.as_str().map(str::to_owned))
                .collect::<Option<BTreeSet<String>>>()
                .map(Value::StringSet),
            "NS" => elements
                .iter()
                .map(Value::as_number)
                .collect::<Option<BTreeSet<Number>>>()
                .map(Value::NumberSet),
            "BS" => elements
                .iter()
                .map(|e| e.as_bytes().map(<[u8]>::to_vec))
                .collect::<Option<BTreeSet<Vec<u8>>>>()
                .map(Value::BytesSet),
            _ => None,
        };
        if let Some(set) = set {
            *at = set;
        }
    });
}

/// One Firestore value as a kvs value.
pub fn decode_value(value: FsValue) -> Value {
    match value.value_type {
        None | Some(ValueType::NullValue(_)) => Value::Null,
        Some(ValueType::BooleanValue(b)) => Value::Bool(b),
        Some(ValueType::IntegerValue(i)) => Value::from(i),
        Some(ValueType::DoubleValue(f)) => Value::from(f),
        Some(ValueType::StringValue(s)) => Value::String(s),
        Some(ValueType::BytesValue(b)) => Value::Bytes(b),
        Some(ValueType::ReferenceValue(r)) => Value::String(r),
        Some(ValueType::TimestampValue(t)) => Value::String(
            firestore::jiff::Timestamp::new(t.seconds, t.nanos)
                .ok()
                .map(|ts| ts.to_string())
                .unwrap_or_else(|| format!("{}.{:09}", t.seconds, t.nanos)),
        ),
        Some(ValueType::GeoPointValue(p)) => Value::Map(BTreeMap::from([
            ("latitude".to_owned(), Value::from(p.latitude)),
            ("longitude".to_owned(), Value::from(p.longitude)),
        ])),
        Some(ValueType::ArrayValue(a)) => {
            Value::List(a.values.into_iter().map(decode_value).collect())
        }
        Some(ValueType::MapValue(mut m)) => {
            if m.fields.len() == 1
                && let Some(FsValue {
                    value_type: Some(ValueType::ArrayValue(_)),
                }) = m.fields.get(LIST)
                && let Some(list) = m.fields.remove(LIST)
            {
                return decode_value(list);
            }
            Value::Map(
                m.fields
                    .into_iter()
                    .filter_map(|(k, v)| kvs_name(k).map(|k| (k, decode_value(v))))
                    .collect(),
            )
        }
        // Pipeline expressions are never stored in documents.
        Some(_) => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item;

    fn round_trip(item: Item) {
        let fields = encode_item(&item).unwrap();
        assert_eq!(decode_fields(fields), item);
    }

    #[test]
    fn plain_values_stay_plain() {
        let fields = encode_item(&item! {
            "i" => 7, "f" => 2.0, "s" => "x", "l" => Value::list([1, 2]),
            "m" => item! { "k" => Value::Null },
        })
        .unwrap();
        assert_eq!(fields["i"].value_type, Some(ValueType::IntegerValue(7)));
        assert_eq!(fields["f"].value_type, Some(ValueType::DoubleValue(2.0)));
        assert!(matches!(
            fields["l"].value_type,
            Some(ValueType::ArrayValue(_))
        ));
        assert!(!fields.contains_key(SETS));
    }

    #[test]
    fn what_firestore_lacks_round_trips() {
        round_trip(item! {
            "tags" => Value::string_set(["b", "a"]),
            "ns" => Value::number_set([3, 1]),
            "bs" => Value::bytes_set([vec![1u8], vec![0u8]]),
            "ll" => Value::list([Value::list([1, 2]), Value::list([Value::list(["x"])])]),
            "ls" => Value::list([Value::string_set(["q"]), Value::from(1)]),
            "m" => item! { "__x__" => 1, "~y" => 2, "a.b[0]" => Value::number_set([1.5]) },
            "__id__" => "v", "~sets" => "mine", "~list" => Value::list([1]),
            "~" => "tilde",
        });
        let fields = encode_item(&item! { "__id__" => 1, "~a" => 2 }).unwrap();
        assert!(fields.contains_key("~__id__") && fields.contains_key("~~a"));
    }

    #[test]
    fn empty_sets_are_missing_and_non_finite_numbers_refused() {
        let fields = encode_item(&item! { "e" => Value::StringSet(BTreeSet::new()) }).unwrap();
        assert!(fields.is_empty());
        let e = encode_item(&item! { "n" => Value::from(f64::NAN) }).unwrap_err();
        assert!(e.to_string().contains('n'), "{e}");
    }

    #[test]
    fn too_deep_for_firestore_is_validation() {
        let mut v = Value::from(1);
        for _ in 0..MAX_FIRESTORE_DEPTH {
            v = Value::list([v]);
        }
        let e = encode_item(&item! { "deep" => v }).unwrap_err();
        assert!(e.to_string().contains("deep"), "{e}");
    }
}
