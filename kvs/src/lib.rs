//! # kvs
//!
//! One API over NoSQL key-value and document stores: the same code runs on an in-memory
//! store (tests), a durable local file (the embedded default), and the cloud stores.
//! What every backend promises is one contract, checked by one conformance suite.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> kvs::Result<()> {
//! use kvs::{attr, item, IndexSchema, KeyAttr, Kvs, SortCondition, StoreSchema};
//!
//! let kvs = Kvs::memory(); // or Kvs::open("data/app.redb")?
//! kvs.ensure_store(
//!     StoreSchema::new("orders", KeyAttr::string("orderId")).index(
//!         IndexSchema::new("byUser", KeyAttr::string("userId"))
//!             .sort_key(KeyAttr::number("createdAt")),
//!     ),
//! )
//! .await?;
//! for (id, at, total) in [("o-1", 10, 250.0), ("o-2", 20, 1200.0), ("o-3", 30, 80.0)] {
//!     kvs.upsert("orders", item! { "orderId" => id, "userId" => "u-1", "createdAt" => at, "total" => total })
//!         .await?;
//! }
//! let page = kvs
//!     .query("orders", "u-1")
//!     .index("byUser")
//!     .sort(SortCondition::ge(15))
//!     .filter(attr("total").gt(100))
//!     .await?;
//! assert_eq!(page.items.len(), 1);
//! assert_eq!(page.items[0]["orderId"], "o-2".into());
//! # Ok(()) }
//! ```
//!
//! The pieces:
//! - [`Value`], [`Item`], [`Key`]: the dynamic data model; [`to_item`] / [`from_item`]
//!   convert any serde type.
//! - [`Path`], [`Condition`], [`UpdateOp`]: expressions as plain data; [`eval`] evaluates
//!   them the same way for every backend.
//! - [`StoreSchema`]: a store's keys and secondary indexes.
//! - [`Kvs`]: the handle with every operation; [`backend::Backend`]: the trait a store
//!   engine implements.
//! - [`Error`] with an [`ErrorKind`] to match on.
#![warn(missing_docs)]

// Lets the derive's generated `::kvs::...` paths resolve inside this crate too (its
// own conformance suite uses the derive).
extern crate self as kvs;

#[doc(hidden)]
pub mod __private;

pub mod backend;
mod builders;
mod client;
pub mod codec;
#[cfg(feature = "conformance")]
pub mod conformance;
mod decimal;
mod error;
pub mod eval;
mod expr;
mod key;
pub mod limits;
#[cfg(feature = "local")]
pub mod local;
pub mod page;
mod request;
mod schema;
mod serde_impl;
pub mod typed;
mod value;

pub use builders::{Delete, Put, Query, Scan, Update};
pub use client::{Kvs, KvsBuilder, Request, TransactRequest};
pub use error::{BoxError, Error, ErrorKind, Result};
pub use expr::{
    CompareOp, Condition, IntoPath, Path, Segment, SortCondition, UpdateOp, Updates, attr,
};
pub use key::Key;
pub use page::{Page, PageToken};
pub use request::{
    DeleteManyRequest, DeleteRequest, GetManyRequest, GetRequest, PutMode, PutRequest,
    QueryRequest, ScanRequest, TransactWrite, UpdateRequest, UpsertManyRequest, WriteOp,
};
pub use schema::{IndexSchema, KeyAttr, KeyType, StoreSchema};
pub use serde_impl::{Bytes, Set, from_item, from_value, to_item, to_value};
pub use typed::{Cond, Field, Model, Store, TypedPath};
pub use value::{Item, Number, Value, ValueType};

#[cfg(feature = "derive")]
pub use kvs_derive::{KeyValueStore, Nested};

/// The names most programs use: `use kvs::prelude::*;`.
pub mod prelude {
    #[cfg(feature = "derive")]
    pub use crate::{KeyValueStore, Nested};
    pub use crate::{Bytes, Error, ErrorKind, Kvs, Model, Result, Set, Store};
}
