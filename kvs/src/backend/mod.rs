//! The backend kit: what every store engine is built from, in one folder.
//!
//! - [`Backend`], the trait the [`Kvs`](crate::Kvs) handle calls: a few required
//!   methods (read an item, write one, read a page) and provided defaults for the rest
//!   (batches over single operations, transactions `Unsupported`), which a backend with
//!   native power overrides.
//! - [`VersionedBackend`], for a store without condition expressions but with a version
//!   per item (Firestore's update time, Cosmos DB's ETag): it implements a versioned
//!   read, a write if the version is unchanged and plain range reads, and is a
//!   [`Backend`] with every conditional write, update op, exact page and (given a
//!   versioned multi-write) transaction of the contract.
//! - [`plan`]: the validated requests a backend receives; [`RawItem`]: an item as a
//!   backend read it; [`caps`]: what a backend declares it can hold and do; [`eval`]:
//!   the shared evaluator of conditions and update ops; [`retry`]: backoff with jitter;
//!   [`record`]: the records of values a store has no type for;
//!   [`emulate`]: page filling, the batch runner, the versioned conditional write,
//!   transaction reasons and the outcome errors, each written once.
//!
//! The handle does everything that is the same on every backend before a backend sees
//! a request: it finds the store's schema, validates keys, items, conditions and update
//! ops, checks them against the backend's [`Capabilities`], decodes and checks page
//! tokens, and refuses duplicate keys in batches.

/// The attribute macro the backend traits are written with (`async fn` in a trait that
/// is used as `dyn Backend`), re-exported so that a backend of your own uses the same
/// version: put `#[kvs::backend::async_trait]` on your `impl`.
pub use async_trait::async_trait;

pub mod caps;
pub mod emulate;
pub mod eval;
pub mod names;
pub mod plan;
mod raw_item;
pub mod record;
pub mod retry;

/// Where a page token points: the key attributes of a page's last item.
pub use crate::page::cursor_of;
pub use caps::{Capabilities, TransactionScope};
pub use emulate::{Chunk, fill_page};
pub use plan::{PlannedOp, PlannedWrite, QueryPlan, RawPage, ScanPlan, WritePlan, Written};
pub use raw_item::RawItem;

use crate::retry::Backoff;
use crate::{Error, Item, Key, Result, StoreSchema};

/// A store engine: in-memory, local file, DynamoDB, Firestore, Cosmos DB.
///
/// Every method receives requests the library has already validated against the
/// store's schema and the backend's [`capabilities`](Backend::capabilities). Each must
/// keep the contract of SEMANTICS.md exactly, which the shared conformance suite
/// (`kvs::conformance`, feature `conformance`) checks.
///
/// A store with a version per item and no condition expressions implements
/// [`VersionedBackend`] instead, and gets this trait from the kit.
#[async_trait]
pub trait Backend: Send + Sync + std::fmt::Debug + 'static {
    /// A short name for logs and errors: `"memory"`, `"local"`, `"dynamodb"`, ...
    fn name(&self) -> &'static str;

    /// What the backend can hold and do; checked by the library before anything is
    /// sent.
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }

    /// Creates the store if it does not exist (and its indexes), and waits until it can
    /// be used. A store that exists with another key schema is a validation error.
    async fn ensure_store(&self, schema: &StoreSchema) -> Result<()>;

    /// The stores the backend knows without sending a request (a local store records
    /// them in its file), which a [`Kvs`](crate::Kvs) handle registers when it is built.
    /// None by default: a service's stores are registered, ensured, or made known by a
    /// typed store's model.
    fn known_stores(&self) -> Vec<StoreSchema> {
        Vec::new()
    }

    /// Reads one item, strongly consistent.
    async fn get(&self, schema: &StoreSchema, key: &Key) -> Result<Option<RawItem>>;

    /// Reads one item at once, for a backend that answers without waiting (an
    /// in-memory store, a local file's read snapshot): exactly the answer
    /// [`get`](Self::get) would give, without the boxed future every call of an `async`
    /// trait method makes. `None`, the default, says the backend must wait, and the
    /// library calls `get`.
    ///
    /// The library spends a unit of tokio's cooperative scheduling budget on each answer
    /// (as tokio's own sockets do per read), so that a task reading in a loop still gives
    /// its worker thread back. A backend wrapping another that adds to `get` (faults,
    /// counting) must add the same here, or leave this the default.
    fn get_now(&self, schema: &StoreSchema, key: &Key) -> Option<Result<Option<RawItem>>> {
        let _ = (schema, key);
        None
    }

    /// Reads one item, strongly consistent, needing only the top-level `attributes`
    /// (which hold the key attributes): a backend with native projections reads and
    /// sends only those; by default the whole item ([`get`](Self::get)). The library
    /// decodes only what it asked for.
    async fn get_projected(
        &self,
        schema: &StoreSchema,
        key: &Key,
        attributes: &[&str],
    ) -> Result<Option<RawItem>> {
        let _ = attributes;
        self.get(schema, key).await
    }

    /// Does one write: a put (upsert or insert), an update, or a delete, if its
    /// condition holds. Gives back the old item of a delete and the whole new item of
    /// an update ([`Written`]).
    ///
    /// Errors: `AlreadyExists` (an insert that finds an item), `NotFound` (an update of
    /// a missing item; nothing created), `ConditionFailed`, `Validation` (ops that do
    /// not fit the item), `Conflict` (lost to concurrent writers past the retries).
    async fn write(&self, plan: &WritePlan<'_>) -> Result<Written>;

    /// Reads one page of a query.
    async fn query(&self, plan: &QueryPlan<'_>) -> Result<RawPage>;

    /// Reads one page of a scan.
    async fn scan(&self, plan: &ScanPlan<'_>) -> Result<RawPage>;

    /// The number of items the query matches, its filter applied, over every page
    /// (`plan.limit` and `plan.after` are the kit's to use). By default the kit reads the
    /// pages through [`query`](Self::query) with a projection of the keys
    /// ([`emulate::count`]); a backend that counts natively overrides it.
    async fn count_query(&self, plan: &QueryPlan<'_>) -> Result<u64> {
        emulate::count::query(self, plan).await
    }

    /// The number of items the scan matches, its filter applied, as
    /// [`count_query`](Self::count_query).
    async fn count_scan(&self, plan: &ScanPlan<'_>) -> Result<u64> {
        emulate::count::scan(self, plan).await
    }

    /// Reads many items: one answer per key, in the order given. The keys are distinct.
    /// By default, single reads run concurrently by the kit's
    /// [batch runner](emulate::BatchRunner::singles), each tried once there: a backend's
    /// single operations make its own retries (throttling, a connection refused), and the
    /// runner does not multiply them.
    async fn get_many(&self, schema: &StoreSchema, keys: &[Key]) -> Result<Vec<Option<RawItem>>> {
        emulate::batch::get_each(self, schema, keys).await
    }

    /// Reads many items needing only the top-level `attributes`, as
    /// [`get_projected`](Self::get_projected); by default whole
    /// ([`get_many`](Self::get_many)).
    async fn get_many_projected(
        &self,
        schema: &StoreSchema,
        keys: &[Key],
        attributes: &[&str],
    ) -> Result<Vec<Option<RawItem>>> {
        let _ = attributes;
        self.get_many(schema, keys).await
    }

    /// Writes many (valid, distinct-keyed) items, not atomically. A partial failure names
    /// the keys not written. By default, single upserts run by the batch runner, each
    /// tried once there (see [`get_many`](Self::get_many)).
    async fn upsert_many(&self, schema: &StoreSchema, items: &[Item]) -> Result<()> {
        emulate::batch::upsert_each(self, schema, items).await
    }

    /// Deletes many (distinct) keys, not atomically. A partial failure names the keys not
    /// deleted. By default, single deletes run by the batch runner, each tried once there
    /// (see [`get_many`](Self::get_many)).
    async fn delete_many(&self, schema: &StoreSchema, keys: &[Key]) -> Result<()> {
        emulate::batch::delete_each(self, schema, keys).await
    }

    /// Applies all writes or none; on failure, `TransactionCanceled` with a reason per
    /// write. No two writes touch the same item, and the writes fit the declared
    /// [`TransactionScope`]. By default `Unsupported` (declare
    /// [`TransactionScope::None`], so that the library says so before anything else).
    async fn transact(&self, writes: &[WritePlan<'_>]) -> Result<()> {
        let _ = writes;
        Err(Error::unsupported(format!(
            "the {} backend has no transactions",
            self.name()
        )))
    }
}

/// The version of an item as a [`VersionedBackend`] read it: opaque to the kit, which
/// only hands it back to say "write if the item still has this version". Any value that
/// changes with every write of the item will do (an update time, an ETag, a counter).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Version(Vec<u8>);

impl Version {
    /// A version from the backend's own token.
    pub fn new(token: impl Into<Vec<u8>>) -> Self {
        Version(token.into())
    }

    /// The backend's token.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl From<u64> for Version {
    fn from(n: u64) -> Self {
        Version(n.to_be_bytes().to_vec())
    }
}

/// An item read with its version.
#[derive(Debug, Clone)]
pub struct Versioned {
    /// The item.
    pub item: RawItem,
    /// Its version.
    pub version: Version,
}

/// What a versioned write expects to find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// Anything: write unconditionally.
    Any,
    /// No item.
    Absent,
    /// The item, still at this version.
    Version(Version),
}

/// What a versioned write does to its item.
#[derive(Debug, Clone, Copy)]
pub enum Change<'a> {
    /// Store this whole item (valid for the store).
    Put(&'a Item),
    /// Remove the item.
    Delete,
    /// Change nothing, but only if the expectation holds (a transaction's condition
    /// check, which must still hold when the others are written).
    Keep,
}

/// One write guarded by a version, as the kit asks a [`VersionedBackend`] for it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct VersionedWrite<'a> {
    /// The store written.
    pub schema: &'a StoreSchema,
    /// The key of the item.
    pub key: &'a Key,
    /// What the item must be for the write to happen.
    pub expected: Expected,
    /// What to do.
    pub change: Change<'a>,
}

impl<'a> VersionedWrite<'a> {
    pub(crate) fn new(plan: &'a WritePlan<'_>, expected: Expected, change: Change<'a>) -> Self {
        VersionedWrite {
            schema: plan.schema,
            key: &plan.key,
            expected,
            change,
        }
    }
}

/// A store engine with a version per item and no condition expressions (Firestore,
/// Cosmos DB, a test engine): implement the required primitives and the kit makes it a
/// [`Backend`] that keeps the whole contract, through the shared evaluator's exact rules.
/// The repository's `tests/minimal.rs` is one, in 200 lines, that passes the whole
/// conformance suite.
///
/// - `put`, `insert`, `update` (every op) and `delete` (returning the old item): read
///   the item and its version ([`get_versioned`](Self::get_versioned)), decide with the
///   shared [`eval`], write if the version is unchanged
///   ([`write_if_version`](Self::write_if_version)), and on a lost race retry with
///   [`conflict_backoff`](Self::conflict_backoff); past the budget, `Conflict`.
/// - `query` and `scan`: range reads ([`read_query`](Self::read_query),
///   [`read_scan`](Self::read_scan)) filled to exact pages, the filter applied by the
///   kit.
/// - batches: single operations run by the batch runner.
/// - transactions: `Unsupported`, unless the engine writes several items at once under
///   their versions ([`write_all_if_versions`](Self::write_all_if_versions)) and
///   declares a [`TransactionScope`] other than `None`.
#[async_trait]
pub trait VersionedBackend: Send + Sync + std::fmt::Debug + 'static {
    /// A short name for logs and errors.
    fn name(&self) -> &'static str;

    /// What the engine can hold and do. By default everything exact, and no
    /// transactions (say which it has if it writes several items at once).
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            transactions: TransactionScope::None,
            ..Capabilities::default()
        }
    }

    /// How often and how patiently a write that lost a race is tried again.
    fn conflict_backoff(&self) -> Backoff {
        Backoff::conflicts()
    }

    /// Creates the store if it does not exist, as [`Backend::ensure_store`].
    async fn ensure_store(&self, schema: &StoreSchema) -> Result<()>;

    /// The stores the backend knows without sending a request (a local store records
    /// them in its file), which a [`Kvs`](crate::Kvs) handle registers when it is built.
    /// None by default: a service's stores are registered, ensured, or made known by a
    /// typed store's model.
    fn known_stores(&self) -> Vec<StoreSchema> {
        Vec::new()
    }

    /// Reads one item and its version, strongly consistent.
    async fn get_versioned(&self, schema: &StoreSchema, key: &Key) -> Result<Option<Versioned>>;

    /// Reads one item needing only the top-level `attributes`, as
    /// [`Backend::get_projected`]; by default the whole item (`get_versioned`). A
    /// `get_many` of some attributes runs these by the kit's batch runner.
    async fn get_projected(
        &self,
        schema: &StoreSchema,
        key: &Key,
        attributes: &[&str],
    ) -> Result<Option<RawItem>> {
        let _ = attributes;
        Ok(self.get_versioned(schema, key).await?.map(|v| v.item))
    }

    /// Does `write.change` atomically if the item is as `write.expected` says: `true`
    /// if it did, `false` if the item was not (another writer came first; nothing
    /// changed). Every write gives the item a new version.
    async fn write_if_version(&self, write: &VersionedWrite<'_>) -> Result<bool>;

    /// Reads up to `plan.limit` items of the query's key range (partition, sort
    /// condition, index, direction), strictly after `plan.after`, in order; `more`
    /// says whether the range goes on. The filter need not be applied: the kit applies
    /// it (and reads on until the page is full).
    async fn read_query(&self, plan: &QueryPlan<'_>) -> Result<RawPage>;

    /// Reads up to `plan.limit` items of the store in key order, strictly after
    /// `plan.after`; the filter need not be applied.
    async fn read_scan(&self, plan: &ScanPlan<'_>) -> Result<RawPage>;

    /// The number of items in the query's key range, if the engine counts natively (a
    /// count aggregation): called only for a query without a filter. `None` (the
    /// default): the kit counts by reading the range's keys.
    async fn count_range(&self, plan: &QueryPlan<'_>) -> Result<Option<u64>> {
        let _ = plan;
        Ok(None)
    }

    /// The number of items in the store, if the engine counts natively: called only for
    /// a scan without a filter. `None` (the default): the kit counts by reading keys.
    async fn count_all(&self, plan: &ScanPlan<'_>) -> Result<Option<u64>> {
        let _ = plan;
        Ok(None)
    }

    /// Does every write atomically if every item is as its write expects: `true` if it
    /// did, `false` if any was not (nothing changed). By default `Unsupported`.
    async fn write_all_if_versions(&self, writes: &[VersionedWrite<'_>]) -> Result<bool> {
        let _ = writes;
        Err(Error::unsupported(format!(
            "the {} backend has no transactions",
            VersionedBackend::name(self)
        )))
    }
}

#[async_trait]
impl<T: VersionedBackend> Backend for T {
    fn name(&self) -> &'static str {
        VersionedBackend::name(self)
    }

    fn capabilities(&self) -> Capabilities {
        VersionedBackend::capabilities(self)
    }

    async fn ensure_store(&self, schema: &StoreSchema) -> Result<()> {
        VersionedBackend::ensure_store(self, schema).await
    }

    fn known_stores(&self) -> Vec<StoreSchema> {
        VersionedBackend::known_stores(self)
    }

    async fn get(&self, schema: &StoreSchema, key: &Key) -> Result<Option<RawItem>> {
        Ok(self.get_versioned(schema, key).await?.map(|v| v.item))
    }

    async fn get_projected(
        &self,
        schema: &StoreSchema,
        key: &Key,
        attributes: &[&str],
    ) -> Result<Option<RawItem>> {
        VersionedBackend::get_projected(self, schema, key, attributes).await
    }

    async fn get_many_projected(
        &self,
        schema: &StoreSchema,
        keys: &[Key],
        attributes: &[&str],
    ) -> Result<Vec<Option<RawItem>>> {
        emulate::batch::get_each_projected(self, schema, keys, Some(attributes)).await
    }

    async fn write(&self, plan: &WritePlan<'_>) -> Result<Written> {
        emulate::versioned::write(self, plan).await
    }

    async fn query(&self, plan: &QueryPlan<'_>) -> Result<RawPage> {
        emulate::page::query_by_ranges(self, plan).await
    }

    async fn scan(&self, plan: &ScanPlan<'_>) -> Result<RawPage> {
        emulate::page::scan_by_ranges(self, plan).await
    }

    async fn count_query(&self, plan: &QueryPlan<'_>) -> Result<u64> {
        emulate::count::query_natively(self, self, plan).await
    }

    async fn count_scan(&self, plan: &ScanPlan<'_>) -> Result<u64> {
        emulate::count::scan_natively(self, self, plan).await
    }

    async fn transact(&self, writes: &[WritePlan<'_>]) -> Result<()> {
        emulate::versioned::transact(self, writes).await
    }
}
