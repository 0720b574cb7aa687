//! Projections: a second struct that reads only some fields of a model's items.

use serde::de::DeserializeOwned;

use super::model::Model;
use crate::Result;
use crate::backend::RawItem;

/// A struct that reads some fields of a model's items: implemented by
/// `#[derive(Projection)]` with `#[kvs(model = Order)]`.
///
/// Its fields are fields of the model, with the same names and types (and the same
/// stored names): the derive checks each at compile time. A projected read sends the
/// attribute names natively, so that less is read and sent (DynamoDB's
/// `ProjectionExpression`, Firestore's field mask, Cosmos DB's `SELECT` of the
/// properties); the in-memory and local stores decode only these fields. Filters still
/// see the whole item.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> kvs::Result<()> {
/// use kvs::{KeyValueStore, Projection};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(KeyValueStore, Serialize, Deserialize)]
/// #[serde(rename_all = "camelCase")]
/// #[kvs(store = "docs", partition_key = doc_id)]
/// struct Doc { doc_id: String, title: String, body: String }
///
/// #[derive(Projection, Deserialize, Debug, PartialEq)]
/// #[serde(rename_all = "camelCase")]
/// #[kvs(model = Doc)]
/// struct DocTitle { doc_id: String, title: String }
///
/// let kvs = kvs::Kvs::memory();
/// let docs = kvs.store::<Doc>();
/// docs.ensure().await?;
/// docs.upsert(&Doc { doc_id: "d-1".into(), title: "Hi".into(), body: "x".repeat(10_000) })
///     .await?;
/// let title = docs.get_projected::<DocTitle>("d-1").await?;
/// assert_eq!(title, Some(DocTitle { doc_id: "d-1".into(), title: "Hi".into() }));
/// # Ok(()) }
/// ```
pub trait Projection: DeserializeOwned + Send + 'static {
    /// The model projected.
    type Model: Model;
    /// The stored names of the attributes the projection reads.
    const ATTRIBUTES: &'static [&'static str];
}

/// Reads a projection from an item of `store`.
pub(crate) fn from_projection<P: Projection>(store: &str, raw: RawItem) -> Result<P> {
    raw.deserialize().map_err(|e: crate::Error| {
        e.context(format_args!(
            "an item of store {store:?} does not read as the projection {}",
            std::any::type_name::<P>()
        ))
    })
}
