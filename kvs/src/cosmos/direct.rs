//! A typed model read straight from a document's JSON text, without the dynamic
//! [`Item`] in between: the typed road of a Cosmos DB read
//! ([`RawItem::deserialize`](crate::backend::RawItem::deserialize)).
//!
//! serde_json's own rules are not kvs's (an integer beyond 2^53 is not a double to it,
//! `2.0` is no `i64`, a base64 string is no bytes), so the model is not handed to
//! serde_json: [`Val`] stands between them. Maps and lists are walked in place (what the
//! item would cost: a key string and a tree node per attribute); every other value
//! becomes a [`Value`] when the model reads it and is read by the `Value` deserializer,
//! so the rules stay in one place. At the top level, Cosmos DB's and kvs's own properties
//! are skipped and escaped names restored, as [`Document`](super::value::Document)
//! does; an attribute the [`TYPES`](super::value::TYPES) record names (bytes, a set, or
//! one inside) is built as a `Value` and restored first.
//!
//! The road only ever gives a model the slow road would give: where anything is out of
//! the ordinary (an error of any kind, the record after an attribute, where another
//! writer put it) it gives up, and the caller takes the road through the item, whose
//! answer, right or wrong, is the one given.

use std::borrow::Cow;
use std::fmt;

use serde::de::{
    self, Deserialize, DeserializeOwned, DeserializeSeed, Deserializer, IgnoredAny, MapAccess,
    SeqAccess, Visitor,
};

use super::value::{self, JsonValue, Stored};
use crate::backend::record::{self, Step};
use crate::serde_impl::{KeyDeserializer, SET_TOKEN};
use crate::{Item, Value};

/// `T` read straight from a document's JSON text; `None` where the road gives up (see
/// the module docs).
pub(crate) fn deserialize<T: DeserializeOwned>(json: &[u8]) -> Option<T> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let model = T::deserialize(Top(&mut de)).ok()?;
    de.end().ok()?;
    Some(model)
}

/// The document: a map whose entries are the item's attributes among Cosmos DB's and
/// kvs's own properties.
struct Top<D>(D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Top<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_map(TopVisitor(visitor))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map struct
        enum identifier ignored_any
    }
}

struct TopVisitor<V>(V);

impl<'de, V: Visitor<'de>> Visitor<'de> for TopVisitor<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Cosmos DB document")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.0.visit_map(TopMap {
            map,
            types: Vec::new(),
            attributes: false,
            recorded: None,
        })
    }
}

/// The document's entries, as the item's attributes.
struct TopMap<A> {
    map: A,
    /// The record's entries, each with the attribute its path starts at.
    types: Vec<(String, String)>,
    /// Whether an attribute was given yet (the record must come before any).
    attributes: bool,
    /// The attribute just given, if the record names a value in it.
    recorded: Option<String>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for TopMap<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        loop {
            let Some(Key(stored)) = self.map.next_key::<Key<'de>>()? else {
                return Ok(None);
            };
            match value::stored(&stored) {
                Stored::Types if self.attributes => {
                    return Err(de::Error::custom("the record follows an attribute"));
                }
                Stored::Types => {
                    let entries: Vec<String> = self.map.next_value()?;
                    self.types = entries
                        .into_iter()
                        .filter_map(|entry| {
                            let (_, path) = entry.split_once(':')?;
                            match record::parse_path(path)?.into_iter().next()? {
                                Step::Name(first) => Some((first.into_owned(), entry)),
                                Step::Index(_) => None,
                            }
                        })
                        .collect();
                }
                Stored::Own => {
                    self.map.next_value::<IgnoredAny>()?;
                }
                Stored::Attribute(name) => {
                    self.attributes = true;
                    if self.types.iter().any(|(first, _)| first == name) {
                        self.recorded = Some(name.to_owned());
                    }
                    return seed
                        .deserialize(KeyDeserializer(name))
                        .map(Some)
                        .map_err(de::Error::custom);
                }
            }
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        let Some(name) = self.recorded.take() else {
            return self.map.next_value_seed(Plain(seed));
        };
        let JsonValue(v) = self.map.next_value()?;
        let mut item = Item::new();
        item.insert(name.clone(), v);
        for (_, entry) in self.types.iter().filter(|(first, _)| *first == name) {
            record::restore(&mut item, entry, value::restore);
        }
        let v = item.remove(&name).unwrap_or(Value::Null);
        seed.deserialize(v).map_err(de::Error::custom)
    }
}

/// A key as the JSON holds it: borrowed where it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a property name")
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Borrowed(s)))
    }

    fn visit_str<E>(self, s: &str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(s.to_owned())))
    }

    fn visit_string<E>(self, s: String) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(s)))
    }
}

/// A seed reading its value through [`Val`].
struct Plain<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Plain<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(Val(d))
    }
}

/// A map key read as the `Value` road reads keys ([`KeyDeserializer`]).
struct MapKey<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for MapKey<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        let Key(key) = Key::deserialize(d)?;
        self.0
            .deserialize(KeyDeserializer(&key))
            .map_err(de::Error::custom)
    }
}

/// A value below the top level, read by kvs's rules (see the module docs).
struct Val<D>(D);

/// What the model asked a [`Val`] for, to ask the `Value` deserializer the same.
#[derive(Clone, Copy)]
enum How {
    Any,
    Bool,
    I8,
    I16,
    I32,
    I64,
    I128,
    U8,
    U16,
    U32,
    U64,
    U128,
    F32,
    F64,
    Char,
    Str,
    String,
    Bytes,
    ByteBuf,
    Unit,
    UnitStruct(&'static str),
    Seq,
    Tuple(usize),
    TupleStruct(&'static str, usize),
    Map,
    Struct(&'static str, &'static [&'static str]),
    Enum(&'static str, &'static [&'static str]),
    Identifier,
}

impl How {
    /// The `Value` deserializer's answer.
    fn run<'de, V: Visitor<'de>>(self, v: Value, visitor: V) -> crate::Result<V::Value> {
        match self {
            How::Any => v.deserialize_any(visitor),
            How::Bool => v.deserialize_bool(visitor),
            How::I8 => v.deserialize_i8(visitor),
            How::I16 => v.deserialize_i16(visitor),
            How::I32 => v.deserialize_i32(visitor),
            How::I64 => v.deserialize_i64(visitor),
            How::I128 => v.deserialize_i128(visitor),
            How::U8 => v.deserialize_u8(visitor),
            How::U16 => v.deserialize_u16(visitor),
            How::U32 => v.deserialize_u32(visitor),
            How::U64 => v.deserialize_u64(visitor),
            How::U128 => v.deserialize_u128(visitor),
            How::F32 => v.deserialize_f32(visitor),
            How::F64 => v.deserialize_f64(visitor),
            How::Char => v.deserialize_char(visitor),
            How::Str => v.deserialize_str(visitor),
            How::String => v.deserialize_string(visitor),
            How::Bytes => v.deserialize_bytes(visitor),
            How::ByteBuf => v.deserialize_byte_buf(visitor),
            How::Unit => v.deserialize_unit(visitor),
            How::UnitStruct(name) => v.deserialize_unit_struct(name, visitor),
            How::Seq => v.deserialize_seq(visitor),
            How::Tuple(len) => v.deserialize_tuple(len, visitor),
            How::TupleStruct(name, len) => v.deserialize_tuple_struct(name, len, visitor),
            How::Map => v.deserialize_map(visitor),
            How::Struct(name, fields) => v.deserialize_struct(name, fields, visitor),
            How::Enum(name, variants) => v.deserialize_enum(name, variants, visitor),
            How::Identifier => v.deserialize_identifier(visitor),
        }
    }

    /// Whether the `Value` deserializer hands a list to the visitor as it is.
    fn walks_list(self) -> bool {
        matches!(
            self,
            How::Any | How::Seq | How::Tuple(_) | How::TupleStruct(..)
        )
    }

    /// Whether the `Value` deserializer hands a map to the visitor as it is.
    fn walks_map(self) -> bool {
        matches!(self, How::Any | How::Map | How::Struct(..))
    }
}

macro_rules! asked {
    ($($method:ident => $how:expr),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.0.deserialize_any(Answer { visitor, how: $how })
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Val<D> {
    type Error = D::Error;

    asked! {
        deserialize_any => How::Any, deserialize_bool => How::Bool,
        deserialize_i8 => How::I8, deserialize_i16 => How::I16, deserialize_i32 => How::I32,
        deserialize_i64 => How::I64, deserialize_i128 => How::I128,
        deserialize_u8 => How::U8, deserialize_u16 => How::U16, deserialize_u32 => How::U32,
        deserialize_u64 => How::U64, deserialize_u128 => How::U128,
        deserialize_f32 => How::F32, deserialize_f64 => How::F64,
        deserialize_char => How::Char, deserialize_str => How::Str,
        deserialize_string => How::String, deserialize_bytes => How::Bytes,
        deserialize_byte_buf => How::ByteBuf, deserialize_unit => How::Unit,
        deserialize_seq => How::Seq, deserialize_map => How::Map,
        deserialize_identifier => How::Identifier,
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let how = How::UnitStruct(name);
        self.0.deserialize_any(Answer { visitor, how })
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let how = How::Tuple(len);
        self.0.deserialize_any(Answer { visitor, how })
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let how = How::TupleStruct(name, len);
        self.0.deserialize_any(Answer { visitor, how })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let how = How::Struct(name, fields);
        self.0.deserialize_any(Answer { visitor, how })
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let how = How::Enum(name, variants);
        self.0.deserialize_any(Answer { visitor, how })
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_option(Optional(visitor))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        if name == SET_TOKEN {
            return self.deserialize_seq(visitor);
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_ignored_any(visitor)
    }
}

/// The JSON value, given to the model as the `Value` deserializer would give it.
struct Answer<V> {
    visitor: V,
    how: How,
}

impl<V> Answer<V> {
    fn value<'de, E: de::Error>(self, v: Value) -> Result<V::Value, E>
    where
        V: Visitor<'de>,
    {
        self.how.run(v, self.visitor).map_err(E::custom)
    }
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Answer<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.value(Value::Null)
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<V::Value, E> {
        self.value(Value::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, i: i64) -> Result<V::Value, E> {
        self.value(value::integer(i128::from(i)))
    }

    fn visit_u64<E: de::Error>(self, u: u64) -> Result<V::Value, E> {
        self.value(value::integer(i128::from(u)))
    }

    fn visit_f64<E: de::Error>(self, f: f64) -> Result<V::Value, E> {
        self.value(Value::from(f))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<V::Value, E> {
        self.value(Value::String(s.to_owned()))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<V::Value, E> {
        self.value(Value::String(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        if self.how.walks_list() {
            return self.visitor.visit_seq(List(seq));
        }
        let JsonValue(v) = JsonValue::from_seq(seq)?;
        self.value(v)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        if self.how.walks_map() {
            return self.visitor.visit_map(Map(map));
        }
        let JsonValue(v) = JsonValue::from_map(map)?;
        self.value(v)
    }
}

/// An optional value: null is none, as the `Value` deserializer has it.
struct Optional<V>(V);

impl<'de, V: Visitor<'de>> Visitor<'de> for Optional<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an optional value")
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_none()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.0.visit_some(Val(d))
    }
}

/// A list's elements, each read through [`Val`].
struct List<A>(A);

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for List<A> {
    type Error = A::Error;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, A::Error> {
        self.0.next_element_seed(Plain(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

/// A nested map's entries, keys read as the `Value` road reads them.
struct Map<A>(A);

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Map<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.0.next_key_seed(MapKey(seed))
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.0.next_value_seed(Plain(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;
    use crate::backend::RawItem;
    use crate::cosmos::value::encode_document;
    use crate::{Bytes, KeyAttr, Set, StoreSchema, item};

    #[derive(Debug, PartialEq, Deserialize)]
    struct Model {
        id: String,
        #[serde(rename = "_rid")]
        rid: String,
        count: i64,
        ratio: f32,
        tags: Set<String>,
        photo: Bytes,
        nested: Nested,
        maybe: Option<i64>,
        list: Vec<Option<String>>,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Nested {
        scores: Set<i64>,
        at: (u8, String),
    }

    fn json(item: &Item) -> Vec<u8> {
        let schema = StoreSchema::new("s", KeyAttr::string("id"));
        let key = schema.key_of(item).unwrap();
        serde_json::to_vec(&encode_document(&schema, &key, item).unwrap()).unwrap()
    }

    #[test]
    fn a_model_reads_straight_from_the_text_as_from_the_item() {
        let item = item! {
            "id" => "a", "_rid" => "mine", "count" => 2.0, "ratio" => 0.5,
            "tags" => Value::string_set(["b", "a"]), "photo" => Value::bytes([0, 255]),
            "nested" => item! { "scores" => Value::number_set([3, 1]), "at" => Value::list([Value::from(7), Value::from("x")]) },
            "maybe" => Value::Null, "list" => Value::list([Value::Null, Value::from("s")]),
            "ignored" => item! { "deep" => Value::list([1]) },
        };
        let text = json(&item);
        let direct: Model = deserialize(&text).expect("the direct road");
        assert_eq!(direct, crate::from_item::<Model>(item).unwrap());
        assert_eq!(direct.count, 2);
        assert_eq!(direct.rid, "mine");
    }

    #[test]
    fn numbers_follow_kvs_rules_not_serde_json() {
        #[derive(Debug, PartialEq, Deserialize)]
        struct N {
            i: i64,
            f: f64,
        }
        // 2.0 is the integer 2; an integer beyond 2^53 that another writer stored is a
        // double (serde_json would refuse the first and give the second as an integer).
        let n: N = deserialize(br#"{"id":"x","i":2.0,"f":9007199254740993}"#).unwrap();
        assert_eq!(
            n,
            N {
                i: 2,
                f: 9007199254740992.0
            }
        );
        // Not exactly an f32: the road gives up, and the item's road gives the error.
        #[derive(Debug, Deserialize)]
        struct F {
            #[allow(dead_code)]
            f: f32,
        }
        assert!(deserialize::<F>(br#"{"f":0.1}"#).is_none());
        let e = RawItem::cosmos(br#"{"f":0.1}"#.to_vec().into())
            .deserialize::<F>()
            .unwrap_err();
        assert!(e.to_string().contains("f32"), "{e}");
    }

    #[test]
    fn a_record_after_an_attribute_takes_the_item_road() {
        #[derive(Debug, PartialEq, Deserialize)]
        struct B {
            a: Bytes,
        }
        let text = br#"{"id":"x","a":"AAE=","_kvsTypes":["B:.a"]}"#;
        assert!(deserialize::<B>(text).is_none());
        let b: B = RawItem::cosmos(text.to_vec().into()).deserialize().unwrap();
        assert_eq!(b.a, Bytes::from(vec![0u8, 1]));
        // Before the attributes, as kvs writes it: read straight.
        let text = br#"{"id":"x","_kvsTypes":["B:.a"],"a":"AAE="}"#;
        assert_eq!(deserialize::<B>(text).unwrap().a, Bytes::from(vec![0u8, 1]));
    }
}
