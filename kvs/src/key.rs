//! Item keys: a partition value and, for stores with a sort key, a sort value.

use std::fmt;

use crate::{Number, Value};

/// The key of one item: the partition key value, and the sort key value when the store
/// has a sort key.
///
/// Convert into a key from the values themselves: a string, a number, or a pair for a
/// store with a sort key.
///
/// ```
/// use kvs::Key;
/// let simple: Key = "u-1".into();
/// let composite: Key = ("u-1", 42).into();
/// assert_eq!(composite.sort(), Some(&kvs::Value::from(42)));
/// assert_eq!(simple.to_string(), "\"u-1\"");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Key {
    partition: Value,
    sort: Option<Value>,
}

impl Key {
    /// A key of a store without a sort key.
    pub fn new(partition: impl Into<Value>) -> Self {
        Key {
            partition: partition.into(),
            sort: None,
        }
    }

    /// A key of a store with a sort key.
    pub fn with_sort(partition: impl Into<Value>, sort: impl Into<Value>) -> Self {
        Key {
            partition: partition.into(),
            sort: Some(sort.into()),
        }
    }

    /// A key of binary values.
    pub fn bytes(partition: impl Into<Vec<u8>>) -> Self {
        Key::new(Value::Bytes(partition.into()))
    }

    /// The partition key value.
    pub fn partition(&self) -> &Value {
        &self.partition
    }

    /// The sort key value, if the store has a sort key.
    pub fn sort(&self) -> Option<&Value> {
        self.sort.as_ref()
    }

    /// The two values.
    pub fn into_parts(self) -> (Value, Option<Value>) {
        (self.partition, self.sort)
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.partition)?;
        if let Some(sort) = &self.sort {
            write!(f, "/{sort}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({self})")
    }
}

macro_rules! key_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Key {
            fn from(v: $t) -> Self {
                Key::new(v)
            }
        }
    )*};
}
key_from!(
    &str, String, &String, i8, i16, i32, i64, u8, u16, u32, f64, Number, Value
);

impl<A: Into<Value>, B: Into<Value>> From<(A, B)> for Key {
    fn from((a, b): (A, B)) -> Self {
        Key::with_sort(a, b)
    }
}

impl From<&Key> for Key {
    fn from(k: &Key) -> Self {
        k.clone()
    }
}
