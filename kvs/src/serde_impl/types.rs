//! [`Set`] and [`Bytes`]: the types that make sets and binary data survive serde.

use std::collections::BTreeSet;
use std::fmt;
use std::ops::{Deref, DerefMut};

use serde::de::{Deserialize, Deserializer, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeSeq, Serializer};

use super::{DECIMAL_TOKEN, SET_TOKEN};

/// A set of strings, numbers or bytes, stored as the backend's set type (a DynamoDB
/// `SS`/`NS`/`BS`) where plain serde would give a list.
///
/// An empty set is written as a missing attribute and a missing attribute reads back as
/// an empty set, so a `Set` field needs no `#[serde(default)]`.
///
/// ```
/// use kvs::Set;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize, PartialEq, Debug)]
/// struct Post { id: String, tags: Set<String> }
///
/// let post = Post { id: "p1".into(), tags: ["rust", "db", "rust"].map(String::from).into_iter().collect() };
/// let item = kvs::to_item(&post).unwrap();
/// assert_eq!(item["tags"], kvs::Value::string_set(["db", "rust"]));
/// assert_eq!(kvs::from_item::<Post>(item).unwrap(), post);
///
/// let empty = Post { id: "p2".into(), tags: Set::new() };
/// let item = kvs::to_item(&empty).unwrap();
/// assert!(!item.contains_key("tags"));
/// assert_eq!(kvs::from_item::<Post>(item).unwrap(), empty);
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Set<T: Ord>(BTreeSet<T>);

impl<T: Ord> Set<T> {
    /// An empty set.
    pub fn new() -> Self {
        Set(BTreeSet::new())
    }

    /// The elements as a `BTreeSet`.
    pub fn into_inner(self) -> BTreeSet<T> {
        self.0
    }
}

impl<T: Ord> Default for Set<T> {
    fn default() -> Self {
        Set::new()
    }
}

impl<T: Ord> Deref for Set<T> {
    type Target = BTreeSet<T>;
    fn deref(&self) -> &BTreeSet<T> {
        &self.0
    }
}

impl<T: Ord> DerefMut for Set<T> {
    fn deref_mut(&mut self) -> &mut BTreeSet<T> {
        &mut self.0
    }
}

impl<T: Ord + fmt::Debug> fmt::Debug for Set<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<T: Ord> From<BTreeSet<T>> for Set<T> {
    fn from(s: BTreeSet<T>) -> Self {
        Set(s)
    }
}

impl<T: Ord> FromIterator<T> for Set<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Set(iter.into_iter().collect())
    }
}

impl<T: Ord, const N: usize> From<[T; N]> for Set<T> {
    fn from(a: [T; N]) -> Self {
        a.into_iter().collect()
    }
}

impl<T: Ord> IntoIterator for Set<T> {
    type Item = T;
    type IntoIter = std::collections::btree_set::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a, T: Ord> IntoIterator for &'a Set<T> {
    type Item = &'a T;
    type IntoIter = std::collections::btree_set::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

struct Elements<'a, T: Ord>(&'a BTreeSet<T>);

impl<T: Ord + Serialize> Serialize for Elements<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for e in self.0 {
            seq.serialize_element(e)?;
        }
        seq.end()
    }
}

impl<T: Ord + Serialize> Serialize for Set<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.is_empty() {
            // Written as a missing attribute, like `None`.
            s.serialize_none()
        } else {
            s.serialize_newtype_struct(SET_TOKEN, &Elements(&self.0))
        }
    }
}

impl<'de, T: Ord + Deserialize<'de>> Deserialize<'de> for Set<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct SetVisitor<T>(std::marker::PhantomData<T>);

        impl<'de, T: Ord + Deserialize<'de>> Visitor<'de> for SetVisitor<T> {
            type Value = Set<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a set")
            }

            // A missing attribute (serde asks for an option) or null is the empty set.
            fn visit_none<E: serde::de::Error>(self) -> Result<Set<T>, E> {
                Ok(Set::new())
            }

            fn visit_unit<E: serde::de::Error>(self) -> Result<Set<T>, E> {
                Ok(Set::new())
            }

            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Set<T>, D::Error> {
                d.deserialize_seq(self)
            }

            fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Set<T>, D::Error> {
                d.deserialize_seq(self)
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Set<T>, A::Error> {
                let mut out = BTreeSet::new();
                while let Some(e) = seq.next_element()? {
                    out.insert(e);
                }
                Ok(Set(out))
            }
        }

        d.deserialize_option(SetVisitor(std::marker::PhantomData))
    }
}

/// Binary data, stored as the backend's binary type rather than a list of numbers.
///
/// (A `Vec<u8>` field marked `#[serde(with = "serde_bytes")]` works the same way.)
///
/// ```
/// let item = kvs::to_value(&kvs::Bytes::from(vec![0u8, 255])).unwrap();
/// assert_eq!(item, kvs::Value::Bytes(vec![0, 255]));
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bytes(pub Vec<u8>);

impl Bytes {
    /// The bytes.
    pub fn into_inner(self) -> Vec<u8> {
        self.0
    }
}

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&crate::Value::Bytes(self.0.clone()), f)
    }
}

impl Deref for Bytes {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        &self.0
    }
}

impl DerefMut for Bytes {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Self {
        Bytes(v)
    }
}

impl From<&[u8]> for Bytes {
    fn from(v: &[u8]) -> Self {
        Bytes(v.to_vec())
    }
}

impl From<Bytes> for crate::Value {
    fn from(b: Bytes) -> Self {
        crate::Value::Bytes(b.0)
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct BytesVisitor;

        impl<'de> Visitor<'de> for BytesVisitor {
            type Value = Bytes;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("bytes")
            }

            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Bytes, E> {
                Ok(Bytes(v.to_vec()))
            }

            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Bytes, E> {
                Ok(Bytes(v))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Bytes, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
                while let Some(b) = seq.next_element()? {
                    out.push(b);
                }
                Ok(Bytes(out))
            }
        }

        d.deserialize_byte_buf(BytesVisitor)
    }
}

/// Through the kvs serializer a number, held exactly; through others (JSON) its text.
impl Serialize for crate::Decimal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct(DECIMAL_TOKEN, &self.to_string())
    }
}

/// Reads any number kvs holds (an integer, a float as the decimal it prints as, a
/// decimal), or decimal text; `Serialization` for a number a `Decimal` cannot hold.
impl<'de> Deserialize<'de> for crate::Decimal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<crate::Decimal, D::Error> {
        use serde::de::Error as _;
        struct DecimalVisitor;

        impl<'de> Visitor<'de> for DecimalVisitor {
            type Value = crate::Decimal;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal number")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<crate::Decimal, E> {
                Ok(crate::Decimal::from(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<crate::Decimal, E> {
                Ok(crate::Decimal::from(v))
            }
            fn visit_i128<E: serde::de::Error>(self, v: i128) -> Result<crate::Decimal, E> {
                crate::Decimal::try_from(v).map_err(E::custom)
            }
            fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<crate::Decimal, E> {
                let v = i128::try_from(v).map_err(E::custom)?;
                crate::Decimal::try_from(v).map_err(E::custom)
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<crate::Decimal, E> {
                crate::Decimal::try_from(v).map_err(E::custom)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<crate::Decimal, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<crate::Decimal, A::Error> {
                match map.next_key::<String>()? {
                    Some(k) if k == DECIMAL_TOKEN => {
                        let text: String = map.next_value()?;
                        text.parse().map_err(A::Error::custom)
                    }
                    _ => Err(A::Error::custom("expected a decimal number, found a map")),
                }
            }
        }

        d.deserialize_any(DecimalVisitor)
    }
}
