//! [`Value`] -> `Deserialize`.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{
    self, Deserialize, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess,
    Visitor,
};

use super::{DECIMAL_TOKEN, SET_TOKEN};
use crate::{Error, Item, Number, Result, Value};

/// Converts a [`Value`] into any `Deserialize` type.
///
/// Numbers convert only where that is exact: `2.0` reads as an `i64`, but `2.5` does not,
/// and an integer beyond 2^53 does not read as an `f64`.
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T> {
    T::deserialize(value)
}

/// Converts an [`Item`] into any `Deserialize` type.
///
/// ```
/// #[derive(serde::Deserialize, Debug, PartialEq)]
/// struct User { id: String, nick: Option<String> }
/// let user: User = kvs::from_item(kvs::item! { "id" => "u1" }).unwrap();
/// assert_eq!(user, User { id: "u1".into(), nick: None });
/// ```
pub fn from_item<T: DeserializeOwned>(item: Item) -> Result<T> {
    T::deserialize(Value::Map(item.into_map()))
}

fn invalid(value: &Value, expected: &str) -> Error {
    Error::serialization(format!(
        "expected {expected}, found a {}",
        value.value_type()
    ))
}

/// The rules by which a number becomes a Rust number: exactly or not at all. Shared by
/// the `Value` deserializer and the stored-item reader, which reads a number without a
/// `Value` around it.
pub(crate) mod numbers {
    use serde::de::Visitor;

    use crate::{Error, Number, Result};

    fn exact_int(n: &Number, target: &str) -> Result<i64> {
        n.as_i64().ok_or_else(|| {
            Error::serialization(format!("{n} is not an integer that fits {target}"))
        })
    }

    macro_rules! signed {
        ($($method:ident: $t:ty),*) => {$(
            pub(crate) fn $method<'de, V: Visitor<'de>>(n: &Number, visitor: V) -> Result<V::Value> {
                let i = exact_int(n, stringify!($t))?;
                let v = <$t>::try_from(i).map_err(|_| {
                    Error::serialization(format!("{i} does not fit {}", stringify!($t)))
                })?;
                visitor.visit_i64(v as i64)
            }
        )*};
    }

    signed!(i8: i8, i16: i16, i32: i32, i64: i64);

    /// The number as a whole number, its sign and magnitude: integers beyond an `i64`
    /// (a decimal, or a whole float) read into the fields wide enough to hold them.
    fn whole(n: &Number, target: &str) -> Result<(bool, u128)> {
        n.integer_parts().ok_or_else(|| {
            Error::serialization(format!("{n} is not an integer that fits {target}"))
        })
    }

    /// The magnitude of a number that must not be below zero.
    fn not_negative(n: &Number, target: &str) -> Result<u128> {
        match whole(n, target)? {
            (true, m) if m != 0 => Err(Error::serialization(format!("{n} is negative"))),
            (_, m) => Ok(m),
        }
    }

    /// Any unsigned target: the visitor checks the range of the narrower types.
    pub(crate) fn unsigned<'de, V: Visitor<'de>>(n: &Number, visitor: V) -> Result<V::Value> {
        let target = "an unsigned integer";
        let u = u64::try_from(not_negative(n, target)?).map_err(|_| {
            Error::serialization(format!("{n} is not an integer that fits {target}"))
        })?;
        visitor.visit_u64(u)
    }

    pub(crate) fn i128<'de, V: Visitor<'de>>(n: &Number, visitor: V) -> Result<V::Value> {
        let (negative, m) = whole(n, "i128")?;
        let i = if negative {
            0i128.checked_sub_unsigned(m)
        } else {
            i128::try_from(m).ok()
        };
        let i = i.ok_or_else(|| Error::serialization(format!("{n} does not fit i128")))?;
        visitor.visit_i128(i)
    }

    pub(crate) fn u128<'de, V: Visitor<'de>>(n: &Number, visitor: V) -> Result<V::Value> {
        visitor.visit_u128(not_negative(n, "u128")?)
    }

    pub(crate) fn f32<'de, V: Visitor<'de>>(n: &Number, visitor: V) -> Result<V::Value> {
        let exact = n
            .as_f64()
            .or_else(|| n.decimal_value().and_then(|d| d.exact_f64()))
            .filter(|f| f64::from(*f as f32) == *f)
            .ok_or_else(|| Error::serialization(format!("{n} cannot be an f32 exactly")))?;
        visitor.visit_f32(exact as f32)
    }

    pub(crate) fn f64<'de, V: Visitor<'de>>(n: &Number, visitor: V) -> Result<V::Value> {
        visitor.visit_f64(
            n.as_f64()
                // A decimal that is an f64's exact value (`2^63` written as an integer by
                // another program) is that f64 to an f64 field.
                .or_else(|| n.decimal_value().and_then(|d| d.exact_f64()))
                .ok_or_else(|| Error::serialization(format!("{n} cannot be an f64 exactly")))?,
        )
    }
}

/// Number methods: a number by [`numbers`]' rules, anything else `expected`.
macro_rules! deserialize_number {
    ($($method:ident => $rule:ident, $expected:expr;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            match self {
                Value::Number(n) => numbers::$rule(&n, visitor),
                other => Err(invalid(&other, $expected)),
            }
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Value {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Number(n) => {
                if let Some(f) = n.float() {
                    visitor.visit_f64(f)
                } else if let Some(i) = n.as_i64() {
                    visitor.visit_i64(i)
                } else {
                    // A decimal: as its text, in a map only kvs's visitors know.
                    visitor.visit_map(DecimalText(Some(n.to_string())))
                }
            }
            Value::String(s) => visitor.visit_string(s),
            Value::Bytes(b) => visitor.visit_byte_buf(b),
            Value::List(l) => visitor.visit_seq(Seq(l.into_iter())),
            Value::Map(m) => visitor.visit_map(Map::new(m)),
            Value::StringSet(s) => visitor.visit_seq(Seq(s.into_iter().map(Value::String))),
            Value::NumberSet(s) => visitor.visit_seq(Seq(s.into_iter().map(Value::Number))),
            Value::BytesSet(s) => visitor.visit_seq(Seq(s.into_iter().map(Value::Bytes))),
        }
    }

    deserialize_number! {
        deserialize_i8 => i8, "i8";
        deserialize_i16 => i16, "i16";
        deserialize_i32 => i32, "i32";
        deserialize_i64 => i64, "i64";
        deserialize_u8 => unsigned, "an unsigned integer";
        deserialize_u16 => unsigned, "an unsigned integer";
        deserialize_u32 => unsigned, "an unsigned integer";
        deserialize_u64 => unsigned, "an unsigned integer";
        deserialize_i128 => i128, "i128";
        deserialize_u128 => u128, "u128";
        deserialize_f32 => f32, "a number";
        deserialize_f64 => f64, "a number";
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(other),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        if name == SET_TOKEN {
            return self.deserialize_seq(visitor);
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self {
            Value::List(l) => visitor.visit_seq(Seq(l.into_iter())),
            Value::StringSet(s) => visitor.visit_seq(Seq(s.into_iter().map(Value::String))),
            Value::NumberSet(s) => visitor.visit_seq(Seq(s.into_iter().map(Value::Number))),
            Value::BytesSet(s) => visitor.visit_seq(Seq(s.into_iter().map(Value::Bytes))),
            Value::Bytes(b) => visitor.visit_seq(Seq(b.into_iter().map(Value::from))),
            other => Err(invalid(&other, "a list")),
        }
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_byte_buf(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self {
            Value::Bytes(b) => visitor.visit_byte_buf(b),
            Value::List(l) => visitor.visit_seq(Seq(l.into_iter())),
            Value::String(s) => visitor.visit_string(s),
            other => Err(invalid(&other, "bytes")),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self {
            Value::String(s) => visitor.visit_enum(s.into_deserializer()),
            Value::Map(m) if m.len() == 1 => {
                let (variant, value) = m.into_iter().next().expect("one entry");
                visitor.visit_enum(Enum { variant, value })
            }
            other => Err(invalid(&other, "an enum (a string or a map of one entry)")),
        }
    }

    serde::forward_to_deserialize_any! {
        bool char str string unit unit_struct tuple tuple_struct map struct identifier
        ignored_any
    }
}

impl IntoDeserializer<'_, Error> for Value {
    type Deserializer = Value;
    fn into_deserializer(self) -> Value {
        self
    }
}

/// A decimal number as `deserialize_any` gives it: a map of one entry, from
/// [`DECIMAL_TOKEN`] to the decimal's text, which the `Value` and
/// [`Decimal`](crate::Decimal) visitors turn back into the number (others see a map).
pub(crate) struct DecimalText(pub(crate) Option<String>);

impl<'de> MapAccess<'de> for DecimalText {
    type Error = Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        if self.0.is_none() {
            return Ok(None);
        }
        seed.deserialize(KeyDeserializer(DECIMAL_TOKEN)).map(Some)
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let text = self
            .0
            .take()
            .ok_or_else(|| Error::serialization("a map value was asked for before its key"))?;
        seed.deserialize(Value::String(text))
    }
    fn size_hint(&self) -> Option<usize> {
        Some(usize::from(self.0.is_some()))
    }
}

/// The elements of a list or set, each made a value only when it is read.
struct Seq<I>(I);

impl<'de, I: ExactSizeIterator<Item = Value>> SeqAccess<'de> for Seq<I> {
    type Error = Error;
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        self.0.next().map(|v| seed.deserialize(v)).transpose()
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Map {
    entries: std::collections::btree_map::IntoIter<String, Value>,
    /// The entry whose key was just read, kept to name it in errors.
    current: Option<(String, Value)>,
}

impl Map {
    fn new(m: BTreeMap<String, Value>) -> Self {
        Map {
            entries: m.into_iter(),
            current: None,
        }
    }
}

impl<'de> MapAccess<'de> for Map {
    type Error = Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        match self.entries.next() {
            Some((k, v)) => {
                let key = seed.deserialize(KeyDeserializer(&k))?;
                self.current = Some((k, v));
                Ok(Some(key))
            }
            None => Ok(None),
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let (k, v) = self
            .current
            .take()
            .ok_or_else(|| Error::serialization("a map value was asked for before its key"))?;
        seed.deserialize(v)
            .map_err(|e| e.context(format_args!("attribute {k:?}")))
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// A map key: text, read as text or parsed for integer and bool keys (which the
/// serializer stored as text).
pub(crate) struct KeyDeserializer<'a>(pub(crate) &'a str);

macro_rules! parse_key {
    ($($method:ident: $t:ty => $visit:ident),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            let v: $t = self.0.parse().map_err(|_| {
                Error::serialization(format!("map key {:?} is not a {}", self.0, stringify!($t)))
            })?;
            visitor.$visit(v)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for KeyDeserializer<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_str(self.0)
    }

    parse_key!(deserialize_bool: bool => visit_bool, deserialize_i8: i8 => visit_i8,
               deserialize_i16: i16 => visit_i16, deserialize_i32: i32 => visit_i32,
               deserialize_i64: i64 => visit_i64, deserialize_i128: i128 => visit_i128,
               deserialize_u8: u8 => visit_u8, deserialize_u16: u16 => visit_u16,
               deserialize_u32: u32 => visit_u32, deserialize_u64: u64 => visit_u64,
               deserialize_u128: u128 => visit_u128);

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_enum(de::value::StrDeserializer::<Error>::new(self.0))
    }

    serde::forward_to_deserialize_any! {
        f32 f64 char str string bytes byte_buf option unit unit_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

struct Enum {
    variant: String,
    value: Value,
}

impl<'de> de::EnumAccess<'de> for Enum {
    type Error = Error;
    type Variant = Value;
    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Value)> {
        let v = seed.deserialize(Value::String(self.variant))?;
        Ok((v, self.value))
    }
}

impl<'de> de::VariantAccess<'de> for Value {
    type Error = Error;
    fn unit_variant(self) -> Result<()> {
        match self {
            Value::Null => Ok(()),
            other => Err(invalid(&other, "a unit variant")),
        }
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        seed.deserialize(self)
    }
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        de::Deserializer::deserialize_seq(self, visitor)
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        de::Deserializer::deserialize_any(self, visitor)
    }
}

impl<'de> Deserialize<'de> for Value {
    /// Reads any self-describing data as a value. Through serde, sets arrive as lists
    /// (serde has no set type); read an [`Item`] directly to keep them.
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> std::result::Result<Value, D::Error> {
        struct ValueVisitor;

        impl<'de> Visitor<'de> for ValueVisitor {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> std::result::Result<Value, E> {
                Ok(Value::Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Value, E> {
                Ok(Value::from(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Value, E> {
                Number::try_from(v).map(Value::Number).map_err(E::custom)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Value, E> {
                Ok(Value::from(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Value, E> {
                Ok(Value::from(v))
            }
            fn visit_string<E: de::Error>(self, v: String) -> std::result::Result<Value, E> {
                Ok(Value::String(v))
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> std::result::Result<Value, E> {
                Ok(Value::Bytes(v.to_vec()))
            }
            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> std::result::Result<Value, E> {
                Ok(Value::Bytes(v))
            }
            fn visit_unit<E: de::Error>(self) -> std::result::Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_none<E: de::Error>(self) -> std::result::Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_some<D: de::Deserializer<'de>>(
                self,
                d: D,
            ) -> std::result::Result<Value, D::Error> {
                Value::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Value, A::Error> {
                let mut l = Vec::new();
                while let Some(v) = seq.next_element()? {
                    l.push(v);
                }
                Ok(Value::List(l))
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Value, A::Error> {
                let mut m = BTreeMap::new();
                while let Some(k) = map.next_key::<String>()? {
                    if m.is_empty() && k == DECIMAL_TOKEN {
                        let text: String = map.next_value()?;
                        let d = text.parse::<crate::Decimal>().map_err(de::Error::custom)?;
                        return Ok(Value::from(d));
                    }
                    let v = map.next_value()?;
                    m.insert(k, v);
                }
                Ok(Value::Map(m))
            }
        }

        d.deserialize_any(ValueVisitor)
    }
}

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> std::result::Result<Number, D::Error> {
        match Value::deserialize(d)? {
            Value::Number(n) => Ok(n),
            other => Err(de::Error::custom(format!(
                "expected a number, found a {}",
                other.value_type()
            ))),
        }
    }
}

impl<'de> Deserialize<'de> for Item {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> std::result::Result<Item, D::Error> {
        BTreeMap::<String, Value>::deserialize(d).map(Item::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn n(text: &str) -> Value {
        Value::Number(text.parse().expect("a number"))
    }

    fn refused<T: DeserializeOwned + fmt::Debug>(v: Value, why: &str) {
        let e = from_value::<T>(v.clone()).expect_err(&format!("{v:?} read"));
        assert_eq!(*e.kind(), ErrorKind::Serialization, "{e}");
        assert!(e.message().contains(why), "{v:?}: {e}");
    }

    /// An integer held exactly is read by any field that can hold it, whether it is held
    /// as an `i64`, a whole float or a decimal; and refused, saying why, by one that
    /// cannot.
    #[test]
    fn integers_beyond_i64_read_into_fields_that_hold_them() {
        let u64_max = n("18446744073709551615");
        assert!(matches!(&u64_max, Value::Number(x) if x.is_decimal()));
        assert_eq!(from_value::<u64>(u64_max.clone()).unwrap(), u64::MAX);
        assert_eq!(
            from_value::<u128>(u64_max.clone()).unwrap(),
            18446744073709551615
        );
        assert_eq!(
            from_value::<i128>(u64_max.clone()).unwrap(),
            18446744073709551615
        );
        refused::<i64>(u64_max, "fits i64");
        // Whole floats beyond i64: 1e19 (a u64), 2^64 (no u64), -1e19.
        assert_eq!(
            from_value::<u64>(Value::from(1e19)).unwrap(),
            10_000_000_000_000_000_000
        );
        refused::<u64>(
            Value::from(18446744073709551616.0),
            "fits an unsigned integer",
        );
        assert_eq!(
            from_value::<u128>(Value::from(18446744073709551616.0)).unwrap(),
            1 << 64
        );
        assert_eq!(
            from_value::<i128>(Value::from(-1e19)).unwrap(),
            -10_000_000_000_000_000_000
        );
        refused::<u64>(Value::from(-1e19), "is negative");
        refused::<u128>(Value::from(-1.0), "is negative");
        // -0.0 is zero to an unsigned field.
        assert_eq!(from_value::<u64>(Value::from(-0.0)).unwrap(), 0);
        // Beyond i64, as decimals (38 digits, no float's shortest text) and floats.
        let wide = 12345678901234567890123456789012345678i128;
        assert_eq!(from_value::<i128>(n(&wide.to_string())).unwrap(), wide);
        assert_eq!(from_value::<i128>(n(&(-wide).to_string())).unwrap(), -wide);
        assert_eq!(
            from_value::<u128>(n(&wide.to_string())).unwrap(),
            wide as u128
        );
        let past_i128 = n("2.0000000000000000000000000000000000001e38");
        assert!(matches!(&past_i128, Value::Number(x) if x.is_decimal()));
        refused::<i128>(past_i128.clone(), "does not fit i128");
        assert_eq!(
            from_value::<u128>(past_i128).unwrap(),
            200000000000000000000000000000000000010
        );
        refused::<u128>(n("4.0000000000000000000000000000000000001e38"), "fits u128");
        // 1e38 is a float (its shortest text), whose value is not 10^38.
        assert_eq!(
            from_value::<i128>(n("1e38")).unwrap(),
            99999999999999997748809823456034029568
        );
        assert_eq!(
            from_value::<i128>(Value::from(-170141183460469231731687303715884105728.0)).unwrap(),
            i128::MIN
        );
        refused::<i128>(
            Value::from(170141183460469231731687303715884105728.0),
            "does not fit i128",
        );
        assert_eq!(
            from_value::<u128>(Value::from(3.402823669209384e38)).unwrap(),
            3.402823669209384e38 as u128
        );
        refused::<u128>(Value::from(f64::MAX), "fits u128");
        // Fractions stay refused, whatever the width.
        refused::<u64>(n("18446744073709551614.5"), "fits an unsigned integer");
        refused::<i128>(Value::from(2.5), "fits i128");
        refused::<u128>(n("1e-5"), "fits u128");
        // The narrow types are unchanged.
        assert_eq!(from_value::<u8>(Value::from(255.0)).unwrap(), 255);
        assert!(from_value::<u8>(Value::from(256)).is_err());
        assert_eq!(from_value::<i64>(Value::from(-2.0)).unwrap(), -2);
    }
}
