//! [`Set`] and [`Bytes`]: the types that make sets and binary data survive serde.

use std::collections::BTreeSet;
use std::fmt;
use std::ops::{Deref, DerefMut};

use serde::de::{Deserialize, Deserializer, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeSeq, Serializer};

use super::SET_TOKEN;

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
