//! # kvs
//!
//! One API over NoSQL key-value and document stores: the same code runs on an in-memory
//! store (tests), a durable local file (the embedded default), and the cloud stores.
//! What every backend promises is one contract, checked by one conformance suite.
//!
//! ## The typed API
//!
//! Declare a model with [`#[derive(KeyValueStore)]`](KeyValueStore): its store, its keys
//! and its secondary indexes. The derive generates the model's key type, typed paths for
//! its fields and one query accessor per index, so that a filter value of the wrong
//! type, an update that does not fit a field, or a query on an index the model does not
//! declare does not compile. [`Kvs::store`] gives the typed handle, [`Store`], whose
//! operations take and return models.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> kvs::Result<()> {
//! use kvs::prelude::*;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Nested, Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
//! #[serde(rename_all = "lowercase")]
//! enum Status { Pending, Shipped }
//!
//! #[derive(KeyValueStore, Serialize, Deserialize, Debug, Clone, PartialEq)]
//! #[serde(rename_all = "camelCase")]
//! #[kvs(store = "orders", partition_key = order_id)]
//! #[kvs(index(name = "byUser", partition_key = user_id, sort_key = created_at))]
//! #[kvs(index(name = "byCoupon", partition_key = coupon))] // sparse: only orders with one
//! struct Order {
//!     order_id: String,
//!     user_id: String,
//!     created_at: i64,
//!     total: f64,
//!     status: Status,
//!     coupon: Option<String>,
//! }
//!
//! let kvs = Kvs::memory(); // or Kvs::open("data/app.redb")?
//! let orders = kvs.store::<Order>();
//! orders.ensure().await?;
//! for (i, total) in [250.0, 1200.0, 80.0].into_iter().enumerate() {
//!     let order = Order {
//!         order_id: format!("o-{i}"),
//!         user_id: "u-1".into(),
//!         created_at: 10 * i as i64,
//!         total,
//!         status: Status::Pending,
//!         coupon: (i == 1).then(|| "WELCOME".into()),
//!     };
//!     orders.insert(&order).await?;
//! }
//!
//! // Get by key, update with typed ops (the whole new item comes back).
//! let order = orders.get("o-1").await?.expect("o-1 exists");
//! assert_eq!(order.total, 1200.0);
//! let f = Order::fields();
//! let shipped = orders
//!     .update("o-1")
//!     .set(f.status(), Status::Shipped)
//!     .add(f.total(), -200)
//!     .when(f.status().eq(Status::Pending))
//!     .await?;
//! assert_eq!((shipped.status, shipped.total), (Status::Shipped, 1000.0));
//!
//! // Query an index with a sort key condition and a filter.
//! let recent_big = orders
//!     .query(Order::by_user("u-1").sort_ge(10))
//!     .filter(f.total().ge(500))
//!     .await?;
//! assert_eq!(recent_big.items, vec![shipped]);
//! // Only the order with a coupon is in the sparse index.
//! assert_eq!(orders.query(Order::by_coupon("WELCOME")).await?.items.len(), 1);
//!
//! // Upsert replaces the whole item; delete returns what was there.
//! orders.upsert(&Order { total: 90.0, ..order.clone() }).await?;
//! assert_eq!(orders.delete("o-2").await?.map(|o| o.total), Some(80.0));
//! assert_eq!(orders.get("o-2").await?, None);
//! # Ok(()) }
//! ```
//!
//! ## The dynamic layer
//!
//! Underneath, every operation also exists on untyped items: [`Kvs`] takes store names,
//! [`Item`]s and [`Condition`]s built from attribute paths. It is what the typed API
//! turns into, and what to use where no model fits (tools, migrations, data written by
//! other programs).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> kvs::Result<()> {
//! use kvs::{attr, item, IndexSchema, KeyAttr, Kvs, SortCondition, StoreSchema};
//!
//! let kvs = Kvs::memory();
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
//! ## Sharing a store with other programs
//!
//! A typed upsert writes the whole item as the model describes it, so it removes the
//! attributes the model does not declare, as any whole-item write does. A model that
//! shares its store with other programs (or with older and newer versions of itself)
//! keeps them in a catch-all field: an [`Item`] marked `#[kvs(catch_all)]` and
//! `#[serde(flatten)]`. A typed read puts every attribute no other field takes there,
//! with its stored type (sets, bytes, nested maps), and an upsert writes them back
//! unchanged beside the model's own fields.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> kvs::Result<()> {
//! use kvs::prelude::*;
//! use kvs::{item, Item, Value};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(KeyValueStore, Serialize, Deserialize, Debug)]
//! #[kvs(store = "users", partition_key = id)]
//! struct User {
//!     id: String,
//!     name: String,
//!     #[kvs(catch_all)]
//!     #[serde(flatten)]
//!     extra: Item,
//! }
//!
//! let kvs = Kvs::memory();
//! let users = kvs.store::<User>();
//! users.ensure().await?;
//! // Another program writes an attribute `User` does not declare.
//! kvs.upsert("users", item! { "id" => "u-1", "name" => "Ada", "roles" => Value::string_set(["admin"]) })
//!     .await?;
//!
//! let mut user = users.get("u-1").await?.expect("u-1");
//! assert_eq!(user.extra, item! { "roles" => Value::string_set(["admin"]) });
//! user.name = "Ada L.".into();
//! users.upsert(&user).await?; // `roles` is kept
//! let stored = kvs.get("users", "u-1").await?.expect("u-1");
//! assert_eq!(stored["roles"], Value::string_set(["admin"]));
//! # Ok(()) }
//! ```
//!
//! ## The pieces
//! - [`#[derive(KeyValueStore)]`](KeyValueStore) and [`#[derive(Nested)]`](Nested)
//!   (feature `derive`, on by default): models with compile-time checked keys, field
//!   paths, conditions, updates and queries.
//! - The typed API ([`typed`]): [`Store`] (`kvs.store::<Order>()`), [`Field`] paths,
//!   [`Cond`] conditions, and the [`Model`] trait the derive implements.
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
#[cfg(feature = "cosmos")]
pub mod cosmos;
mod decimal;
#[cfg(feature = "dynamodb")]
pub mod dynamodb;
mod error;
mod expr;
#[cfg(feature = "firestore")]
pub mod firestore;
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

/// The shared evaluator, at its old path (it lives in the [backend kit](backend)).
pub use backend::eval;
/// The retry policy, at its old path (it lives in the [backend kit](backend)).
pub use backend::retry;
pub use builders::{Delete, Put, Query, Scan, Update};
pub use client::{Kvs, KvsBuilder, Options, Request, TransactRequest};
pub use decimal::Decimal;
pub use error::{BoxError, Error, ErrorKind, Result};
pub use expr::{
    CompareOp, Condition, IntoPath, MAX_CONDITION_DEPTH, Path, Segment, SortCondition, UpdateOp,
    Updates, attr,
};
pub use key::Key;
pub use page::{Page, PageToken};
pub use request::{
    CountRequest, DeleteManyRequest, DeleteRequest, GetManyRequest, GetRequest, PutMode,
    PutRequest, QueryRequest, ScanRequest, TransactWrite, UpdateRequest, UpsertManyRequest,
    WriteOp,
};
pub use schema::{IndexSchema, KeyAttr, KeyType, StoreSchema};
pub use serde_impl::{Bytes, Set, from_item, from_value, to_item, to_value};
pub use typed::{Cond, Field, Model, Projection, Store, TypedPath};
pub use value::{Item, Number, Value, ValueType};

/// Declares a struct as a model stored in a kvs store, with compile-time checked keys,
/// field paths, conditions, updates and queries.
///
/// # Attributes
///
/// On the struct (several `#[kvs(..)]` attributes may be given; they add up):
///
/// | attribute | meaning |
/// |---|---|
/// | `store = "orders"` | the store's name (required) |
/// | `partition_key = field` | the field that is the partition key (required) |
/// | `sort_key = field` | the field that is the sort key (optional) |
/// | `index(name = "byUser", partition_key = field, sort_key = field)` | a secondary index; `sort_key` optional; any number of them |
/// | `ttl = field` | the items expire at this field's time (optional; see below) |
///
/// Each of `store`, `partition_key`, `sort_key` and `ttl` (and each option of an
/// `index(..)`) is given once: a repeat is an error.
///
/// `ttl = expires_at` names a field of type `std::time::SystemTime` (or
/// `Option<SystemTime>`: `None` never expires) at which each item expires: from then on
/// it is invisible to every read and write on every backend (see
/// [`StoreSchema::ttl`]), and its storage is reclaimed by the backend (DynamoDB's TTL,
/// Cosmos DB's per-item `ttl`, Firestore's TTL policy, the embedded engine itself). It
/// is stored as whole seconds since the Unix epoch, rounded up (an item never expires
/// early), which is what DynamoDB's TTL reads; it has no typed path and cannot be a
/// key. `SystemTime` because it is the standard wall-clock time every program has,
/// which `chrono` and `time` convert to and from.
///
/// On a field:
/// - `#[kvs(opaque)]` gives the field no typed path (for types kvs does not know; the
///   field is still stored by serde).
/// - `#[kvs(version)]` on an integer field: the model's version attribute, which makes
///   every typed write optimistic (see [`VersionedModel`](typed::VersionedModel)).
/// - `#[kvs(catch_all)]`, with `#[serde(flatten)]`, on a field of type [`Item`]: the
///   catch-all, which keeps the attributes the model does not declare through a typed
///   read and upsert (see [Sharing a store with other programs](crate#sharing-a-store-with-other-programs)).
///   A model has at most one; it is not a key, has no typed path, and comes after any
///   other flattened field (serde gives a flattened map what the flattened fields
///   before it leave). It must hold no attribute the model declares: an upsert that
///   would write one twice is refused (`Serialization`). The typed store fills it with
///   the stored values; serde alone (`kvs::from_item`, or the model inside another
///   model) would read a set in it as a list.
///
/// Key fields (of the store and of the indexes) must be of key types: `String`, the
/// integers `i8` to `i64` and `u8` to `u32`, `f32`/`f64`, [`Bytes`], or a unit-only enum
/// with `#[derive(Nested)]`. An index key field may also be an `Option` of a key type
/// (spelled `Option<..>`): the index is then sparse, an item whose field is `None` is
/// not in it, and its accessor takes the type inside (`Order::by_coupon("c-1")` for
/// `coupon: Option<String>`). The store's own keys cannot be optional. Other fields may
/// be of any type kvs knows (numbers, `String`, `bool`, `Option`, `Vec`, maps with string
/// keys, [`Set`], [`Bytes`], [`Value`]) or types with `#[derive(Nested)]`.
///
/// Stored attribute names follow serde: `#[serde(rename = "..")]` and
/// `#[serde(rename_all = "..")]` decide them, and the typed paths use the same names.
/// serde attributes the derive cannot honour are compile errors that say so:
/// `flatten`, `skip`, `skip_serializing_if` or `with` on a key field, and `transparent`,
/// `from`, `into` on the model. (A `flatten`, `skip` or `with` field that is not a key gets
/// no typed path.) The model must also derive `Serialize` and `Deserialize`.
///
/// # What it generates
///
/// For `struct Order`:
/// - `OrderKey`, the key type (its key fields), built from the key values:
///   `store.get("o-1")`, `store.get(("u-1", 42))` for a sort key, or `store.get(order.key())`;
/// - `Order::fields()`, the typed path of every field: nested structs' fields
///   (`.address().city()`), list positions (`.lines().at(0)`), map entries
///   (`.extra().entry("k")`) and the value inside an `Option` (`.note().some()`);
/// - `Order::partition(value)`, a query on one partition of the store, and one accessor per
///   index, named in snake_case (`byUser` gives `Order::by_user(value)`), each taking a
///   value of its partition key's type and offering only its own sort key's conditions;
/// - `impl Model for Order`, which gives the runtime the schema;
/// - the typed paths of `Order` as a field of another model (`OrderNestedFields<M>`), so
///   that a model can be kept inside another (a cache entry holding an order) without
///   `#[derive(Nested)]`, which a model must not also derive.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> kvs::Result<()> {
/// use kvs::prelude::*;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Nested, Serialize, Deserialize, Debug, Clone, PartialEq)]
/// struct Address { city: String, zip: Option<String> }
///
/// #[derive(KeyValueStore, Serialize, Deserialize, Debug, Clone, PartialEq)]
/// #[serde(rename_all = "camelCase")]
/// #[kvs(store = "posts", partition_key = user_id, sort_key = post_id)]
/// #[kvs(index(name = "byTitle", partition_key = title))]
/// struct Post { user_id: String, post_id: String, title: String, likes: i64, tags: Set<String>, address: Address }
///
/// let kvs = Kvs::memory();
/// let posts = kvs.store::<Post>();
/// posts.ensure().await?;
/// let post = Post {
///     user_id: "u-1".into(), post_id: "2026-01-hello".into(), title: "Hello".into(),
///     likes: 0, tags: Set::new(), address: Address { city: "Paris".into(), zip: None },
/// };
/// posts.insert(&post).await?;
///
/// let f = Post::fields();
/// let liked = posts
///     .update(("u-1", "2026-01-hello"))
///     .add(f.likes(), 1)
///     .add(f.tags(), ["intro"])
///     .set(f.address().zip(), Some("75001".to_string()))
///     .await?;
/// assert_eq!(liked.likes, 1);
///
/// let page = posts.query(Post::partition("u-1").sort_begins_with("2026-")).await?;
/// assert_eq!(page.items, vec![liked.clone()]);
/// let by_title = posts.query(Post::by_title("Hello")).filter(f.likes().ge(1)).await?;
/// assert_eq!(by_title.items.len(), 1);
/// assert_eq!(posts.delete(liked.key()).await?, Some(liked));
/// # Ok(()) }
/// ```
///
/// Mistakes do not compile: a filter value of the wrong type, `begins_with` on a number,
/// `type_of` on a field whose type the model fixes (it is for [`Value`] fields), ADD on
/// a string or a list, APPEND on a non-list, DELETE of elements from a scalar, REMOVE of
/// a field that is not an `Option` or a set (the item could not be read back; a map
/// entry or a list position may be removed), SET or REMOVE of a key field, a query on
/// an index the model does not declare, a sort condition on an index without a sort key
/// or of the wrong type, a condition made of another model's fields, and keys or indexes
/// naming missing fields or of types that cannot be keys (all reported at once). The
/// `kvs-derive/tests/ui/fail` directory of the repository holds one case of each, with
/// the message. After an error in its attributes, the derive still generates the
/// model's items (with stand-ins for what it could not read), so that the code using
/// the model shows the derive's errors alone.
#[cfg(feature = "derive")]
pub use kvs_derive::KeyValueStore;

/// Gives a struct or an enum used inside a model typed paths and conditions.
///
/// On a struct, it generates `AddressFields<M>`, the typed paths of its fields within a
/// model `M` (`Order::fields().address().city()`); it dereferences to the path of the
/// whole value, so `Order::fields().address().exists()` works too. Stored names follow
/// serde's `rename` / `rename_all`, as for models.
///
/// On an enum, it makes the enum a plain value that conditions compare with its own
/// variants; a unit-only enum (stored as its variant name, a string) can also be a key,
/// such as the partition key of a `byStatus` index.
///
/// ```
/// use kvs::Nested;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Nested, Serialize, Deserialize)]
/// #[serde(rename_all = "lowercase")]
/// enum Status { Pending, Completed }
///
/// #[derive(Nested, Serialize, Deserialize)]
/// struct Line { sku: String, qty: i64 }
/// ```
#[cfg(feature = "derive")]
pub use kvs_derive::Nested;

/// Makes a struct a projection of a model: a second struct that reads only some of the
/// model's fields, with `Store::get_projected`, `Store::get_many_projected` and
/// `.project()` on a typed query or scan (see the trait [`Projection`]).
///
/// `#[kvs(model = Order)]` names the model. Each field must be a field of the model of
/// the same name, with the same type and stored under the same name (give the
/// projection the model's serde `rename_all`); the compiler checks each, at the field.
/// A projection field cannot be flattened, skipped, read `with` a function, or a kvs
/// field attribute, and the struct cannot `deny_unknown_fields` (a store without
/// native projections hands it the whole item).
///
/// ```
/// use kvs::{KeyValueStore, Projection};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(KeyValueStore, Serialize, Deserialize)]
/// #[kvs(store = "orders", partition_key = order_id)]
/// struct Order { order_id: String, status: String, lines: Vec<String> }
///
/// #[derive(Projection, Deserialize)]
/// #[kvs(model = Order)]
/// struct OrderStatus { order_id: String, status: String }
/// ```
#[cfg(feature = "derive")]
pub use kvs_derive::Projection;

/// The names most programs use: `use kvs::prelude::*;`.
pub mod prelude {
    pub use crate::{Bytes, Error, ErrorKind, Kvs, Model, Projection, Result, Set, Store};
    #[cfg(feature = "derive")]
    pub use crate::{KeyValueStore, Nested};
}
