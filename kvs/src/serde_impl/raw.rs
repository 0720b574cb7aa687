//! `Deserialize` straight from a backend's own form of an item (DynamoDB's attribute
//! maps), without building the dynamic [`Item`](crate::Item) first. (The local
//! engine's bytes have a reader of their own, `codec::de`, on the same rules.)
//!
//! Only maps and lists are walked in place: they are what an intermediate item costs
//! (a key string and a tree node per attribute, for fields a struct then looks up by
//! name). Every other value becomes a [`Value`] when a field reads it (an attribute the
//! model ignores is never converted, so an odd one fails nothing) and is read by the
//! `Value` deserializer,
//! and a map or list asked for as anything else is built as a `Value` whole first, so
//! the rules (exact numbers, sets, bytes, enums, the error messages) live in one place:
//! a typed read gives the same answer by either road.

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use super::SET_TOKEN;
use super::de::KeyDeserializer;
use crate::{Error, Result, Value};

/// A value in some backend's own form.
pub(crate) trait Source: Sized {
    /// A map key: borrowed or owned text.
    type Key: AsRef<str> + Into<String>;
    /// The entries of a map, in any order.
    type Entries: Iterator<Item = Result<(Self::Key, Self)>>;
    /// The elements of a list, in order.
    type Elements: Iterator<Item = Result<Self>>;

    /// Looks at the value: a map or list to walk, null, or anything else, unconverted.
    fn open(self) -> Result<Shape<Self>>;

    /// A value that [`open`](Source::open) found to be neither a map, a list nor null,
    /// as a [`Value`].
    fn scalar(self) -> Result<Value>;
}

/// An opened [`Source`] value; it is itself the deserializer.
pub(crate) enum Shape<S: Source> {
    /// A map (an item, a nested struct, a `HashMap`).
    Map(S::Entries),
    /// A list.
    List(S::Elements),
    /// Null.
    Null,
    /// Anything else, converted only when it is read.
    Other(S),
}

impl<S: Source> Shape<S> {
    /// The whole value as a [`Value`].
    pub(crate) fn into_value(self) -> Result<Value> {
        Ok(match self {
            Shape::Map(entries) => Value::Map(
                entries
                    .map(|entry| {
                        let (key, value) = entry?;
                        Ok((key.into(), value.open()?.into_value()?))
                    })
                    .collect::<Result<_>>()?,
            ),
            Shape::List(elements) => Value::List(
                elements
                    .map(|element| element?.open()?.into_value())
                    .collect::<Result<_>>()?,
            ),
            Shape::Null => Value::Null,
            Shape::Other(value) => value.scalar()?,
        })
    }
}

/// Methods whose every case the `Value` deserializer decides.
macro_rules! through_value {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            de::Deserializer::$method(self.into_value()?, visitor)
        }
    )*};
}

impl<'de, S: Source> de::Deserializer<'de> for Shape<S> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self {
            Shape::Map(entries) => visitor.visit_map(Entries::<S> {
                entries,
                current: None,
            }),
            Shape::List(elements) => visitor.visit_seq(Elements::<S>(elements)),
            Shape::Null => visitor.visit_unit(),
            Shape::Other(value) => de::Deserializer::deserialize_any(value.scalar()?, visitor),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self {
            Shape::List(elements) => visitor.visit_seq(Elements::<S>(elements)),
            other => de::Deserializer::deserialize_seq(other.into_value()?, visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self {
            Shape::Null => visitor.visit_none(),
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

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        de::Deserializer::deserialize_enum(self.into_value()?, name, variants, visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        // An attribute the model does not read is skipped, not decoded: each value is
        // its own slice or owned part, so nothing else depends on it.
        visitor.visit_unit()
    }

    through_value! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char deserialize_str
        deserialize_string deserialize_bytes deserialize_byte_buf deserialize_unit
        deserialize_identifier
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        de::Deserializer::deserialize_unit_struct(self.into_value()?, name, visitor)
    }

    // As in the `Value` deserializer, these read whatever is there.
    serde::forward_to_deserialize_any! { tuple tuple_struct map struct }
}

struct Entries<S: Source> {
    entries: S::Entries,
    /// The entry whose key was just read, kept to name it in errors.
    current: Option<(S::Key, S)>,
}

impl<'de, S: Source> MapAccess<'de> for Entries<S> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        let Some(entry) = self.entries.next() else {
            return Ok(None);
        };
        let (key, value) = entry?;
        let read = seed.deserialize(KeyDeserializer(key.as_ref()))?;
        self.current = Some((key, value));
        Ok(Some(read))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let (key, value) = self
            .current
            .take()
            .ok_or_else(|| Error::serialization("a map value was asked for before its key"))?;
        value
            .open()
            .and_then(|shape| seed.deserialize(shape))
            .map_err(|e| e.context(format_args!("attribute {:?}", key.as_ref())))
    }

    fn size_hint(&self) -> Option<usize> {
        match self.entries.size_hint() {
            (low, Some(high)) if low == high => Some(low),
            _ => None,
        }
    }
}

struct Elements<S: Source>(S::Elements);

impl<'de, S: Source> SeqAccess<'de> for Elements<S> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        match self.0.next() {
            Some(element) => seed.deserialize(element?.open()?).map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        match self.0.size_hint() {
            (low, Some(high)) if low == high => Some(low),
            _ => None,
        }
    }
}

/// A [`Value`] as a source, so that the walk above is tested against the plain
/// `Value` deserializer on the same data.
#[cfg(test)]
impl Source for Value {
    type Key = String;
    type Entries = std::iter::Map<
        std::collections::btree_map::IntoIter<String, Value>,
        fn((String, Value)) -> Result<(String, Value)>,
    >;
    type Elements = std::iter::Map<std::vec::IntoIter<Value>, fn(Value) -> Result<Value>>;

    fn open(self) -> Result<Shape<Self>> {
        Ok(match self {
            Value::Map(m) => Shape::Map(m.into_iter().map(Ok as fn(_) -> _)),
            Value::List(l) => Shape::List(l.into_iter().map(Ok as fn(_) -> _)),
            Value::Null => Shape::Null,
            other => Shape::Other(other),
        })
    }

    fn scalar(self) -> Result<Value> {
        Ok(self)
    }
}
