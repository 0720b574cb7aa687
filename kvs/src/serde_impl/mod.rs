//! serde between any `Serialize`/`Deserialize` type and [`Value`](crate::Value).
//!
//! A struct becomes a map; `None` fields and empty [`Set`]s are left out (a missing
//! attribute), and read back as `None` and an empty set; the fields of a
//! `#[serde(flatten)]` struct behave the same. In a map (`HashMap`, `BTreeMap`) a `None`
//! value is kept as null, so that the key reads back. Map keys must be strings, integers
//! or bools; integer and bool keys are stored as text and parsed back. (One case cannot
//! round-trip: an `Option<Set<T>>` holding an empty set reads back as `None`; use a plain
//! `Set<T>`.) [`Set`] becomes a string, number or bytes set, and [`Bytes`] (or a
//! `serde_bytes` field) binary data, so both
//! survive a round trip. A [`Decimal`](crate::Decimal) is a number, held exactly. Unit enum variants are strings, other variants one-entry maps,
//! as in serde_json.

mod de;
// The local engine has its own one-pass reader of its bytes (`codec::de`).
#[cfg(any(feature = "dynamodb", test))]
pub(crate) mod raw;
mod ser;
mod types;

pub(crate) use de::{KeyDeserializer, numbers};
pub use de::{from_item, from_value};
pub(crate) use ser::to_value_opt;
pub use ser::{to_item, to_value};
pub use types::{Bytes, Set};

/// The newtype-struct name [`Set`] serializes through, which the kvs serializer turns
/// into a set value (other serializers see a plain sequence).
pub(crate) const SET_TOKEN: &str = "$kvs::private::Set";

/// The newtype-struct name a [`Decimal`](crate::Decimal) serializes its text through,
/// which the kvs serializer turns into a number (other serializers see a string); and
/// the key of the one-entry map a decimal number is given to `deserialize_any` as, so
/// that a [`Value`](crate::Value) or a `Decimal` read through serde keeps it exactly
/// (serde's data model has no number beyond 64 bits of float or 128 of integer).
pub(crate) const DECIMAL_TOKEN: &str = "$kvs::private::Decimal";

impl serde::ser::Error for crate::Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        crate::Error::serialization(msg.to_string())
    }
}

impl serde::de::Error for crate::Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        crate::Error::serialization(msg.to_string())
    }
}
