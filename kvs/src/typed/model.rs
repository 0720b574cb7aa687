//! The `Model` trait the derive implements, and typed keys.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::backend::RawItem;
use crate::{Item, Key, Result, StoreSchema};

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
    /// The model's catch-all field (`#[kvs(catch_all)]`), which keeps the attributes the
    /// model does not declare through a typed read and upsert; `None` (the default) for
    /// a model without one, whose upsert removes them.
    ///
    /// The typed store fills the field with the stored values themselves: serde alone
    /// would hand a flattened map its values through its own buffer, which has no set
    /// type, so that a string set would come back as a list.
    const CATCH_ALL: Option<fn(&mut Self) -> &mut Item> = None;
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
    read_model(item.into()).map_err(|e| {
        e.context(format_args!(
            "an item of store {store:?} does not read back as a {}",
            std::any::type_name::<M>()
        ))
    })
}

/// Reads a model; a catch-all gets the stored values of the attributes serde gave it.
fn read_model<M: Model>(raw: RawItem) -> Result<M> {
    let Some(catch_all) = M::CATCH_ALL else {
        return raw.deserialize();
    };
    let mut item = raw.into_item()?;
    let mut model: M = crate::from_item(item.clone())?;
    // serde decides which attributes are the catch-all's (those no other field took);
    // their values come from the item, which keeps what serde's buffer cannot (sets).
    for (name, value) in catch_all(&mut model).iter_mut() {
        if let Some(stored) = item.remove(name) {
            *value = stored;
        }
    }
    Ok(model)
}
