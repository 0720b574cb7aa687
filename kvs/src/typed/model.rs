//! The `Model` trait the derive implements, and typed keys.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::backend::RawItem;
use crate::{Key, Result, StoreSchema};

/// A struct stored in a kvs store: implemented by `#[derive(KeyValueStore)]`.
///
/// It gives the runtime the store's schema and the item's key; the derive also
/// generates, as inherent items of the model, `fields()` (typed field paths),
/// `partition(..)` (a query on the store's own key) and one accessor per index.
pub trait Model: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The generated key type (`OrderKey` for `Order`).
    type Key: Into<Key> + Clone + Send + KeyFrom<Self::Key> + 'static;
    /// The type of the store's sort key field, or [`NoSortKey`].
    type SortKey;
    /// The store name.
    const STORE: &'static str;
    /// The store's schema: keys and secondary indexes.
    fn schema() -> StoreSchema;
    /// The item's key.
    fn key(&self) -> Self::Key;
}

/// The sort key type of a store or index that has no sort key.
#[derive(Debug)]
pub enum NoSortKey {}

/// Converts into the key type `Self` (generated for each model's key type).
pub trait KeyFrom<V>: Sized {
    /// The key.
    fn key_from(value: V) -> Self;
}

/// Anything that names one item of model `M`: its key type, or the key values (`"u-1"`,
/// `("u-1", 42)`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a key of `{M}`",
    label = "expected the key of `{M}`: its key field values, or its key type"
)]
pub trait IntoKey<M: Model> {
    /// The dynamic key.
    fn into_key(self) -> Key;
}

// Not recommended: a wrong key is reported as not a key of `M`, without the generated
// conversions it failed to match.
#[diagnostic::do_not_recommend]
impl<M: Model, V> IntoKey<M> for V
where
    M::Key: KeyFrom<V>,
{
    fn into_key(self) -> Key {
        M::Key::key_from(self).into()
    }
}

/// Converts a key field's typed value for the dynamic layer (used by generated code).
#[doc(hidden)]
pub fn key_value<T: Serialize>(value: &T) -> crate::Value {
    // Key field types (strings, numbers up to i64, f64, bytes, unit enums) always
    // serialize; anything else would be refused by the key check as a wrong type.
    crate::to_value(value).unwrap_or(crate::Value::Null)
}

/// Reads a model from an item of `store`.
pub(crate) fn from_item<M: Model>(store: &str, item: impl Into<RawItem>) -> Result<M> {
    item.into().deserialize().map_err(|e| {
        e.context(format_args!(
            "an item of store {store:?} does not read back as a {}",
            std::any::type_name::<M>()
        ))
    })
}
