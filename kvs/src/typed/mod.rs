//! The typed API: models declared with `#[derive(KeyValueStore)]`, whose keys, field
//! paths, conditions, updates and queries are checked by the compiler.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> kvs::Result<()> {
//! use kvs::{KeyValueStore, Nested};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Nested, Serialize, Deserialize, Debug, Clone, PartialEq)]
//! #[serde(rename_all = "lowercase")]
//! enum Status { Open, Paid }
//!
//! #[derive(KeyValueStore, Serialize, Deserialize, Debug, Clone, PartialEq)]
//! #[serde(rename_all = "camelCase")]
//! #[kvs(store = "orders", partition_key = order_id)]
//! #[kvs(index(name = "byUser", partition_key = user_id, sort_key = created_at))]
//! struct Order { order_id: String, user_id: String, created_at: i64, total: f64, status: Status }
//!
//! let kvs = kvs::Kvs::memory();
//! let orders = kvs.store::<Order>();
//! orders.ensure().await?;
//! for (i, total) in [250.0, 1200.0, 80.0].into_iter().enumerate() {
//!     let o = Order { order_id: format!("o-{i}"), user_id: "u-1".into(), created_at: i as i64, total, status: Status::Open };
//!     orders.upsert(&o).await?;
//! }
//! let f = Order::fields();
//! let big = orders
//!     .query(Order::by_user("u-1").sort_ge(1))
//!     .filter(f.total().gt(100).and(f.status().eq(Status::Open)))
//!     .await?;
//! assert_eq!(big.items.len(), 1);
//! let paid = orders.update("o-1").set(f.status(), Status::Paid).add(f.total(), 5).await?;
//! assert_eq!(paid.total, 1205.0);
//! # Ok(()) }
//! ```

mod field;
mod model;
mod projection;
mod query;
mod store;
mod traits;

pub use field::{
    Cond, Element, Entry, Field, IntoCond, KeyRole, Place, Plain, TypedPath, Writable,
};
pub use model::{
    ExpiryField, IntoKey, KeyFrom, Model, NoSortKey, VersionAttr, VersionField, VersionedModel,
    into_key_value,
};
pub use projection::Projection;
pub use query::{KeyQuery, SortKeyType};
pub use store::{Store, TypedDelete, TypedPut, TypedQuery, TypedScan, TypedUpdate};
pub use traits::{
    Addable, CollectionField, Containable, DynamicField, FieldType, IntoFieldValue, KeyField,
    ListField, Removable, StringField,
};
