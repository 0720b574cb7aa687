//! `Serialize` -> [`Value`].

use std::collections::BTreeMap;

use serde::ser::{self, Serialize};

use super::{DECIMAL_TOKEN, SET_TOKEN};
use crate::{Error, Item, Number, Result, Value};

/// Converts any `Serialize` value into a [`Value`].
///
/// ```
/// #[derive(serde::Serialize)]
/// struct User { id: String, age: u32, nick: Option<String> }
/// let v = kvs::to_value(&User { id: "u1".into(), age: 30, nick: None }).unwrap();
/// assert_eq!(v, kvs::Value::from(kvs::item! { "id" => "u1", "age" => 30 }));
/// ```
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value> {
    Ok(value.serialize(ValueSerializer)?.unwrap_or(Value::Null))
}

/// Converts a value, giving `None` where it is absent (`None`, an empty `Set`): what a
/// struct field leaves out.
pub(crate) fn to_value_opt<T: Serialize + ?Sized>(value: &T) -> Result<Option<Value>> {
    value.serialize(ValueSerializer)
}

/// Converts a `Serialize` struct or map into an [`Item`].
pub fn to_item<T: Serialize + ?Sized>(value: &T) -> Result<Item> {
    match to_value(value)? {
        Value::Map(m) => Ok(Item::from(m)),
        other => Err(Error::serialization(format!(
            "an item must serialize as a struct or a map, not a {}",
            other.value_type()
        ))),
    }
}

/// Serializes into `Some(value)`, or `None` for an absent value (`None`, an empty
/// `Set`), which a struct field leaves out.
struct ValueSerializer;

type Out = Option<Value>;

fn int<T: TryInto<i64> + std::fmt::Display + Copy>(v: T) -> Result<Out> {
    v.try_into().map(|i| Some(Value::from(i))).map_err(|_| {
        Error::serialization(format!(
            "{v} is beyond the i64 range numbers can hold exactly"
        ))
    })
}

impl ser::Serializer for ValueSerializer {
    type Ok = Out;
    type Error = Error;
    type SerializeSeq = SeqSerializer;
    type SerializeTuple = SeqSerializer;
    type SerializeTupleStruct = SeqSerializer;
    type SerializeTupleVariant = VariantSerializer<SeqSerializer>;
    type SerializeMap = MapSerializer;
    type SerializeStruct = MapSerializer;
    type SerializeStructVariant = VariantSerializer<MapSerializer>;

    fn serialize_bool(self, v: bool) -> Result<Out> {
        Ok(Some(Value::Bool(v)))
    }
    fn serialize_i8(self, v: i8) -> Result<Out> {
        Ok(Some(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Out> {
        Ok(Some(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Out> {
        Ok(Some(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<Out> {
        Ok(Some(v.into()))
    }
    fn serialize_i128(self, v: i128) -> Result<Out> {
        int(v)
    }
    fn serialize_u8(self, v: u8) -> Result<Out> {
        Ok(Some(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Out> {
        Ok(Some(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Out> {
        Ok(Some(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Out> {
        int(v)
    }
    fn serialize_u128(self, v: u128) -> Result<Out> {
        int(v)
    }
    fn serialize_f32(self, v: f32) -> Result<Out> {
        Ok(Some(Value::Number(Number::from(v))))
    }
    fn serialize_f64(self, v: f64) -> Result<Out> {
        // NaN and infinities become values here and are rejected, naming the attribute,
        // when written.
        Ok(Some(Value::Number(Number::from(v))))
    }
    fn serialize_char(self, v: char) -> Result<Out> {
        Ok(Some(Value::String(v.to_string())))
    }
    fn serialize_str(self, v: &str) -> Result<Out> {
        Ok(Some(Value::String(v.to_owned())))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Out> {
        Ok(Some(Value::Bytes(v.to_vec())))
    }
    fn serialize_none(self) -> Result<Out> {
        Ok(None)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Out> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Out> {
        Ok(Some(Value::Null))
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Out> {
        Ok(Some(Value::Null))
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<Out> {
        Ok(Some(Value::String(variant.to_owned())))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<Out> {
        let inner = value.serialize(self)?;
        if name == DECIMAL_TOKEN {
            return match inner {
                Some(Value::String(text)) => Ok(Some(text.parse::<crate::Decimal>()?.into())),
                _ => Err(Error::serialization(
                    "a kvs::Decimal must serialize as its text",
                )),
            };
        }
        if name != SET_TOKEN {
            return Ok(inner);
        }
        match inner {
            Some(Value::List(elements)) => list_to_set(elements).map(Some),
            _ => Err(Error::serialization(
                "a kvs::Set must serialize as a sequence",
            )),
        }
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Out> {
        let inner = to_value(value)?;
        Ok(Some(Value::Map(BTreeMap::from([(
            variant.to_owned(),
            inner,
        )]))))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqSerializer> {
        Ok(SeqSerializer(Vec::with_capacity(
            len.unwrap_or(0).min(4096),
        )))
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqSerializer> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<SeqSerializer> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantSerializer<SeqSerializer>> {
        Ok(VariantSerializer {
            variant,
            inner: self.serialize_seq(Some(len))?,
        })
    }
    fn serialize_map(self, len: Option<usize>) -> Result<MapSerializer> {
        Ok(MapSerializer {
            map: BTreeMap::new(),
            key: None,
            // A map of known length is a real map (`HashMap`, `BTreeMap`: serde's
            // `collect_map`), whose `None` values must read back. A struct with
            // `#[serde(flatten)]` fields is serialized as a map of unknown length, and its
            // fields, like any struct's, leave `None` out.
            struct_like: len.is_none(),
        })
    }
    fn serialize_struct(self, _: &'static str, _len: usize) -> Result<MapSerializer> {
        Ok(MapSerializer {
            map: BTreeMap::new(),
            key: None,
            struct_like: true,
        })
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantSerializer<MapSerializer>> {
        Ok(VariantSerializer {
            variant,
            inner: self.serialize_map(Some(len))?,
        })
    }
}

/// The elements of a `Set` become a string, number or bytes set; duplicates fold.
fn list_to_set(elements: Vec<Value>) -> Result<Value> {
    let first = elements.first().map(Value::value_type);
    let mixed = || Error::serialization("a kvs::Set holds strings, numbers or bytes of one type");
    Ok(match first {
        None => Value::StringSet(Default::default()),
        Some(crate::ValueType::String) => Value::StringSet(
            elements
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s),
                    _ => Err(mixed()),
                })
                .collect::<Result<_>>()?,
        ),
        Some(crate::ValueType::Number) => Value::NumberSet(
            elements
                .into_iter()
                .map(|v| match v {
                    Value::Number(n) => Ok(n),
                    _ => Err(mixed()),
                })
                .collect::<Result<_>>()?,
        ),
        Some(crate::ValueType::Bytes) => Value::BytesSet(
            elements
                .into_iter()
                .map(|v| match v {
                    Value::Bytes(b) => Ok(b),
                    _ => Err(mixed()),
                })
                .collect::<Result<_>>()?,
        ),
        Some(_) => return Err(mixed()),
    })
}

struct SeqSerializer(Vec<Value>);

impl SeqSerializer {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.0.push(to_value(value)?);
        Ok(())
    }
}

impl ser::SerializeSeq for SeqSerializer {
    type Ok = Out;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.push(value)
    }
    fn end(self) -> Result<Out> {
        Ok(Some(Value::List(self.0)))
    }
}

impl ser::SerializeTuple for SeqSerializer {
    type Ok = Out;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.push(value)
    }
    fn end(self) -> Result<Out> {
        Ok(Some(Value::List(self.0)))
    }
}

impl ser::SerializeTupleStruct for SeqSerializer {
    type Ok = Out;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.push(value)
    }
    fn end(self) -> Result<Out> {
        Ok(Some(Value::List(self.0)))
    }
}

struct MapSerializer {
    map: BTreeMap<String, Value>,
    key: Option<String>,
    /// Whether absent values are left out (a struct) or kept as null (a map).
    struct_like: bool,
}

impl ser::SerializeMap for MapSerializer {
    type Ok = Out;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        self.key = Some(match to_value(key)? {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => {
                return Err(Error::serialization(format!(
                    "a map key must be a string, a number or a bool, not a {}",
                    other.value_type()
                )));
            }
        });
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let key = self
            .key
            .take()
            .ok_or_else(|| Error::serialization("a map value came before its key"))?;
        // A struct with flattened fields: a flattened map (a catch-all) holding an
        // attribute the struct declares would silently replace (or be replaced by) it.
        if self.struct_like && self.map.contains_key(&key) {
            return Err(Error::serialization(format!(
                "the attribute {key:?} is written twice: a flattened field (a catch-all) holds an attribute the struct also declares"
            )));
        }
        let value = value
            .serialize(ValueSerializer)
            .map_err(|e| e.context(format_args!("attribute {key:?}")))?;
        match value {
            Some(v) => {
                self.map.insert(key, v);
            }
            None if !self.struct_like => {
                self.map.insert(key, Value::Null);
            }
            None => {}
        }
        Ok(())
    }
    fn end(self) -> Result<Out> {
        Ok(Some(Value::Map(self.map)))
    }
}

impl ser::SerializeStruct for MapSerializer {
    type Ok = Out;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<()> {
        // `None` and empty sets are left out: a missing attribute.
        let value = value
            .serialize(ValueSerializer)
            .map_err(|e| e.context(format_args!("attribute {name:?}")))?;
        if let Some(v) = value {
            self.map.insert(name.to_owned(), v);
        }
        Ok(())
    }
    fn end(self) -> Result<Out> {
        Ok(Some(Value::Map(self.map)))
    }
}

struct VariantSerializer<S> {
    variant: &'static str,
    inner: S,
}

impl<S> VariantSerializer<S> {
    fn wrap(variant: &'static str, inner: Out) -> Out {
        Some(Value::Map(BTreeMap::from([(
            variant.to_owned(),
            inner.unwrap_or(Value::Null),
        )])))
    }
}

impl ser::SerializeTupleVariant for VariantSerializer<SeqSerializer> {
    type Ok = Out;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.inner.push(value)
    }
    fn end(self) -> Result<Out> {
        let inner = ser::SerializeSeq::end(self.inner)?;
        Ok(Self::wrap(self.variant, inner))
    }
}

impl ser::SerializeStructVariant for VariantSerializer<MapSerializer> {
    type Ok = Out;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<()> {
        ser::SerializeStruct::serialize_field(&mut self.inner, name, value)
    }
    fn end(self) -> Result<Out> {
        let inner = ser::SerializeStruct::end(self.inner)?;
        Ok(Self::wrap(self.variant, inner))
    }
}

impl Serialize for Value {
    fn serialize<S: ser::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use ser::{SerializeMap, SerializeSeq};
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Number(n) => n.serialize(s),
            Value::String(v) => s.serialize_str(v),
            Value::Bytes(b) => s.serialize_bytes(b),
            Value::List(l) => {
                let mut seq = s.serialize_seq(Some(l.len()))?;
                for e in l {
                    seq.serialize_element(e)?;
                }
                seq.end()
            }
            Value::Map(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
            Value::StringSet(set) => s.serialize_newtype_struct(SET_TOKEN, set),
            Value::NumberSet(set) => s.serialize_newtype_struct(SET_TOKEN, set),
            Value::BytesSet(set) => {
                let as_bytes: Vec<crate::Bytes> =
                    set.iter().map(|b| crate::Bytes(b.clone())).collect();
                s.serialize_newtype_struct(SET_TOKEN, &as_bytes)
            }
        }
    }
}

impl Serialize for Number {
    fn serialize<S: ser::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        if let Some(f) = self.float() {
            s.serialize_f64(f)
        } else if let Some(i) = self.as_i64() {
            s.serialize_i64(i)
        } else {
            // A decimal: every number that is neither converts to one.
            self.to_decimal()
                .unwrap_or(crate::Decimal::ZERO)
                .serialize(s)
        }
    }
}

impl Serialize for Item {
    fn serialize<S: ser::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.as_map().serialize(s)
    }
}
