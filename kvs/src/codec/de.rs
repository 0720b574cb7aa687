//! `Deserialize` straight from stored item bytes, read in one pass.
//!
//! Maps, lists and sets are walked in place: they are what an intermediate item costs (a
//! key string and a tree node per attribute, a set built only to be read again), and
//! reading them where they lie means no value is skipped over once to find its end and
//! then read again. A string asked for as text goes to the visitor as text, as the
//! `Value` deserializer does with one, and a number asked for as a number is converted
//! by that deserializer's own rules (`serde_impl::numbers`) without a `Value` made.
//! Every other value is decoded into a [`Value`] and handed to the `Value`
//! deserializer, and a container asked for as anything else is decoded whole into a
//! `Value` first, so the rules (exact numbers, sets, bytes, enums, the error messages)
//! live in one place: a typed read gives the same answer as reading the
//! [`Item`](crate::Item) and converting it (`a_typed_read_is_the_item_converted`).
//!
//! Errors in the bytes themselves are `Backend` errors, as everywhere stored bytes are
//! read: kvs wrote them, so they are corrupt.

use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use super::value::{
    BYTES_SET, Corrupt, DECIMAL, Decoded, FLOAT, FORMAT_VERSION, INT, LIST, MAP, MAX_DECODE_DEPTH,
    NULL, NUMBER_SET, Reader, STRING, STRING_SET, stored,
};
use crate::serde_impl::{KeyDeserializer, SET_TOKEN, numbers};
use crate::{Error, Number, Result, Value};

/// Reads what [`encode_item`](super::encode_item) wrote into any `Deserialize` type.
pub(crate) fn deserialize_stored<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    match bytes.first() {
        Some(&FORMAT_VERSION) => {}
        Some(&v) => return Err(stored(Corrupt::Version(v))),
        None => return Err(stored(Corrupt::Truncated)),
    }
    if bytes.get(1) != Some(&MAP) {
        return Err(stored(Corrupt::ItemNotAMap));
    }
    let mut r = Reader::at(bytes, 1);
    let out = T::deserialize(ValueDe {
        r: &mut r,
        depth: 0,
    })?;
    r.end().map_err(stored)?;
    Ok(out)
}

/// The value at the reader's position, read by whatever the visitor asks for.
struct ValueDe<'a, 'r> {
    r: &'r mut Reader<'a>,
    depth: usize,
}

/// The container at the reader's position, its tag and count read.
enum Container {
    Map(usize),
    List(usize),
    /// The set's tag, and its count.
    Set(u8, usize),
}

// The helpers return the decoder's small `Corrupt`, made an `Error` (which allocates)
// only by the serde methods that call them.
impl<'a> ValueDe<'a, '_> {
    /// Opens the list or set at the reader's position, or with `maps` the map; `None`
    /// (nothing read) for any other value.
    fn container(&mut self, maps: bool) -> Decoded<Option<Container>> {
        let tag = self.r.peek()?;
        if !(tag == MAP && maps || matches!(tag, LIST | STRING_SET | NUMBER_SET | BYTES_SET)) {
            return Ok(None);
        }
        if self.depth > MAX_DECODE_DEPTH {
            return Err(Corrupt::TooDeep);
        }
        self.r.byte()?;
        let n = self.r.count()?;
        Ok(Some(match tag {
            MAP => Container::Map(n),
            LIST => Container::List(n),
            set => Container::Set(set, n),
        }))
    }

    /// The whole value, decoded.
    fn value(self) -> Result<Value> {
        self.r.value(self.depth).map_err(stored)
    }

    /// The string at the reader's position, if that is what is there (the tag read).
    fn string(&mut self) -> Decoded<Option<&'a str>> {
        if self.r.peek()? != STRING {
            return Ok(None);
        }
        self.r.byte()?;
        self.r.str().map(Some)
    }

    /// The number at the reader's position, if that is what is there (the tag read).
    fn number(&mut self) -> Decoded<Option<Number>> {
        let tag = self.r.peek()?;
        if !matches!(tag, INT | FLOAT | DECIMAL) {
            return Ok(None);
        }
        self.r.byte()?;
        self.r.number(tag).map(Some)
    }

    /// Walks an opened container with the visitor, then moves past what it left unread.
    fn visit<'de, V: Visitor<'de>>(self, container: Container, visitor: V) -> Result<V::Value> {
        let depth = self.depth + 1;
        match container {
            Container::Map(left) => {
                let mut entries = Entries {
                    r: self.r,
                    left,
                    depth,
                    pending: None,
                };
                let out = visitor.visit_map(&mut entries)?;
                entries.finish()?;
                Ok(out)
            }
            Container::List(left) => {
                let mut elements = Elements {
                    r: self.r,
                    left,
                    depth,
                };
                let out = visitor.visit_seq(&mut elements)?;
                elements.finish()?;
                Ok(out)
            }
            Container::Set(tag, left) => {
                let mut elements = SetElements {
                    r: self.r,
                    tag,
                    left,
                };
                let out = visitor.visit_seq(&mut elements)?;
                elements.finish()?;
                Ok(out)
            }
        }
    }
}

/// Number methods: a number read and converted by the `Value` deserializer's rules
/// ([`numbers`]) with no `Value` made; anything else decoded whole and handed to the
/// `Value` deserializer, which says what was expected.
macro_rules! through_number {
    ($($method:ident => $rule:ident),*) => {$(
        fn $method<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value> {
            match self.number().map_err(stored)? {
                Some(n) => numbers::$rule(&n, visitor),
                None => de::Deserializer::$method(self.value()?, visitor),
            }
        }
    )*};
}

/// Methods whose every case the `Value` deserializer decides.
macro_rules! through_value {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            de::Deserializer::$method(self.value()?, visitor)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for ValueDe<'_, '_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value> {
        if let Some(s) = self.string().map_err(stored)? {
            return visitor.visit_str(s);
        }
        match self.container(true).map_err(stored)? {
            Some(container) => self.visit(container, visitor),
            None => de::Deserializer::deserialize_any(self.value()?, visitor),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value> {
        // A map asked for as a list is the `Value` deserializer's error.
        match self.container(false).map_err(stored)? {
            Some(container) => self.visit(container, visitor),
            None => de::Deserializer::deserialize_seq(self.value()?, visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.r.peek().map_err(stored)? == NULL {
            self.r.byte().map_err(stored)?;
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
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
        de::Deserializer::deserialize_enum(self.value()?, name, variants, visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        // An attribute the model does not read is moved past, not decoded.
        self.r.skip(self.depth).map_err(stored)?;
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        de::Deserializer::deserialize_unit_struct(self.value()?, name, visitor)
    }

    // The `Value` deserializer gives a string to any visitor that asks for text (through
    // `deserialize_any`); read here, the text goes to the visitor without a `Value`
    // around it, borrowed (a `String` visitor copies it once, as it would have been).
    fn deserialize_str<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value> {
        match self.string().map_err(stored)? {
            Some(s) => visitor.visit_str(s),
            None => de::Deserializer::deserialize_str(self.value()?, visitor),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    through_number! {
        deserialize_i8 => i8, deserialize_i16 => i16, deserialize_i32 => i32,
        deserialize_i64 => i64, deserialize_i128 => i128, deserialize_u8 => unsigned,
        deserialize_u16 => unsigned, deserialize_u32 => unsigned, deserialize_u64 => unsigned,
        deserialize_u128 => u128, deserialize_f32 => f32, deserialize_f64 => f64
    }

    through_value! {
        deserialize_bool deserialize_char deserialize_bytes deserialize_byte_buf
        deserialize_unit deserialize_identifier
    }

    // As in the `Value` deserializer, these read whatever is there.
    serde::forward_to_deserialize_any! { tuple tuple_struct map struct }
}

/// The entries of a map being read.
struct Entries<'a, 'r> {
    r: &'r mut Reader<'a>,
    left: usize,
    depth: usize,
    /// The key just read, whose value is next: kept to name it in errors.
    pending: Option<&'a str>,
}

impl<'a> Entries<'a, '_> {
    /// Moves past the entries the visitor did not read.
    fn finish(&mut self) -> Result<()> {
        if self.pending.take().is_some() {
            self.r.skip(self.depth).map_err(stored)?;
        }
        for _ in 0..std::mem::take(&mut self.left) {
            self.r.str().map_err(stored)?;
            self.r.skip(self.depth).map_err(stored)?;
        }
        Ok(())
    }
}

impl<'de> MapAccess<'de> for Entries<'_, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        if self.pending.take().is_some() {
            // The visitor skipped a value without asking for it.
            self.r.skip(self.depth).map_err(stored)?;
        }
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        let key = self.r.str().map_err(stored)?;
        let read = seed.deserialize(KeyDeserializer(key))?;
        self.pending = Some(key);
        Ok(Some(read))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let key = self
            .pending
            .take()
            .ok_or_else(|| Error::serialization("a map value was asked for before its key"))?;
        let value = ValueDe {
            r: self.r,
            depth: self.depth,
        };
        seed.deserialize(value)
            .map_err(|e| e.context(format_args!("attribute {key:?}")))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

/// The elements of a list being read.
struct Elements<'a, 'r> {
    r: &'r mut Reader<'a>,
    left: usize,
    depth: usize,
}

impl Elements<'_, '_> {
    /// Moves past the elements the visitor did not read.
    fn finish(&mut self) -> Result<()> {
        for _ in 0..std::mem::take(&mut self.left) {
            self.r.skip(self.depth).map_err(stored)?;
        }
        Ok(())
    }
}

impl<'de> SeqAccess<'de> for Elements<'_, '_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        let element = ValueDe {
            r: self.r,
            depth: self.depth,
        };
        seed.deserialize(element).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

/// The elements of a set being read, each as a [`Value`] (as the `Value` deserializer
/// gives them), without building the set.
struct SetElements<'a, 'r> {
    r: &'r mut Reader<'a>,
    tag: u8,
    left: usize,
}

impl SetElements<'_, '_> {
    fn finish(&mut self) -> Result<()> {
        for _ in 0..std::mem::take(&mut self.left) {
            self.r.set_element(self.tag).map_err(stored)?;
        }
        Ok(())
    }
}

impl<'de> SeqAccess<'de> for SetElements<'_, '_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        if self.tag == STRING_SET {
            let s = self.r.str().map_err(stored)?;
            return seed.deserialize(StrElement(s)).map(Some);
        }
        let element = self.r.set_element(self.tag).map_err(stored)?;
        seed.deserialize(element).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

/// An element of a string set, read in place: given to a visitor that asks for text (or
/// anything) as text, as the `Value` deserializer gives a string; asked for as anything
/// else, made the `Value` it is, whose deserializer decides.
struct StrElement<'a>(&'a str);

macro_rules! through_string_value {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            de::Deserializer::$method(Value::String(self.0.to_owned()), visitor)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for StrElement<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_str(self.0)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_str(self.0)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_str(self.0)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        de::Deserializer::deserialize_newtype_struct(
            Value::String(self.0.to_owned()),
            name,
            visitor,
        )
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        de::Deserializer::deserialize_enum(
            Value::String(self.0.to_owned()),
            name,
            variants,
            visitor,
        )
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        de::Deserializer::deserialize_unit_struct(Value::String(self.0.to_owned()), name, visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value> {
        de::Deserializer::deserialize_tuple(Value::String(self.0.to_owned()), len, visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value> {
        de::Deserializer::deserialize_tuple_struct(
            Value::String(self.0.to_owned()),
            name,
            len,
            visitor,
        )
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        de::Deserializer::deserialize_struct(
            Value::String(self.0.to_owned()),
            name,
            fields,
            visitor,
        )
    }

    through_string_value! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char deserialize_bytes
        deserialize_byte_buf deserialize_option deserialize_unit deserialize_seq
        deserialize_map deserialize_identifier deserialize_ignored_any
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde::Deserialize;

    use super::super::value::{DECIMAL, INT};
    use super::*;
    use crate::ErrorKind;

    /// An item whose attribute `b` holds a decimal of 39 digits, which no encoder
    /// writes: an attribute a model does not read is moved past, not decoded, so only a
    /// model that reads `b` fails.
    fn item_with_an_odd_attribute() -> Vec<u8> {
        let mut bytes = vec![FORMAT_VERSION, MAP, 2, 1, b'a', INT, 4, 1, b'b', DECIMAL, 0];
        let mut z = (10u128.pow(38) + 1) << 1;
        while z >= 0x80 {
            bytes.push((z as u8) | 0x80);
            z >>= 7;
        }
        bytes.push(z as u8);
        bytes
    }

    #[test]
    fn an_odd_attribute_fails_only_the_model_that_reads_it() {
        #[derive(Debug, Deserialize)]
        struct Narrow {
            a: i64,
        }
        #[derive(Debug, Deserialize)]
        struct Wide {
            #[allow(dead_code)]
            a: i64,
            #[allow(dead_code)]
            b: crate::Value,
        }
        let bytes = item_with_an_odd_attribute();
        assert_eq!(deserialize_stored::<Narrow>(&bytes).unwrap().a, 2);
        let e = deserialize_stored::<Wide>(&bytes).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Backend, "{e}");
        assert!(e.to_string().contains("decimal"), "{e}");
    }

    /// An item of one attribute `v` holding `T`.
    #[derive(Debug, PartialEq, Deserialize)]
    struct One<T> {
        v: T,
    }

    /// An enum of unit variants, which a string names.
    #[derive(Debug, PartialEq, Deserialize)]
    enum Unit {
        #[serde(rename = "a")]
        A,
        #[serde(rename = "")]
        Empty,
    }

    /// Read from stored bytes and converted from the decoded item: the same value, or
    /// errors of the same kind and message.
    fn read_alike<T>(value: &Value) -> std::result::Result<(), TestCaseError>
    where
        T: DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        let item = crate::item! { "v" => value.clone() };
        let stored = deserialize_stored::<One<T>>(&super::super::encode_item(&item));
        let converted = crate::from_item::<One<T>>(item);
        match (stored, converted) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
            (Err(a), Err(b)) => {
                prop_assert_eq!(a.kind(), b.kind());
                prop_assert_eq!(a.message(), b.message());
            }
            (a, b) => prop_assert!(false, "stored {a:?}, converted {b:?}"),
        }
        Ok(())
    }

    proptest! {
        /// The module's promise: a typed read from stored bytes gives the same answer as
        /// reading the item and converting it, for every kind of target.
        #[test]
        fn a_typed_read_is_the_item_converted(value in super::super::value::tests::any_value()) {
            // The value and each value nested in it, each as the attribute read: a
            // generated value is seldom a leaf at its top (about 1 in 100 a string set).
            let mut parts = vec![&value];
            let mut at = 0;
            while let Some(&part) = parts.get(at) {
                match part {
                    Value::List(l) => parts.extend(l),
                    Value::Map(m) => parts.extend(m.values()),
                    _ => {}
                }
                at += 1;
            }
            for v in parts {
                read_every_way(v)?;
            }
        }
    }

    /// `v` read as the attribute of an item, into every kind of target.
    fn read_every_way(v: &Value) -> std::result::Result<(), TestCaseError> {
        read_alike::<i8>(v)?;
        read_alike::<i32>(v)?;
        read_alike::<i64>(v)?;
        read_alike::<u8>(v)?;
        read_alike::<u32>(v)?;
        read_alike::<u64>(v)?;
        read_alike::<i128>(v)?;
        read_alike::<u128>(v)?;
        read_alike::<f32>(v)?;
        read_alike::<f64>(v)?;
        read_alike::<bool>(v)?;
        read_alike::<String>(v)?;
        read_alike::<Option<i64>>(v)?;
        read_alike::<Vec<Value>>(v)?;
        read_alike::<crate::Set<i64>>(v)?;
        // Elements of string sets are read in place (`StrElement`), asked for as
        // text, as other types, as options and as enum variants.
        read_alike::<crate::Set<String>>(v)?;
        read_alike::<Vec<String>>(v)?;
        read_alike::<Vec<bool>>(v)?;
        read_alike::<Vec<Option<String>>>(v)?;
        read_alike::<Vec<Unit>>(v)?;
        read_alike::<Vec<crate::Bytes>>(v)?;
        read_alike::<std::collections::BTreeMap<String, Value>>(v)?;
        read_alike::<crate::Bytes>(v)?;
        read_alike::<crate::Decimal>(v)?;
        read_alike::<Value>(v)?;
        Ok(())
    }
}
