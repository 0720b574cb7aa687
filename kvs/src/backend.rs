//! The `Backend` trait every store implements, and what the library hands to it.
//!
//! The [`Kvs`](crate::Kvs) handle does everything that is the same on every backend
//! before a backend sees a request: it finds the store's schema, validates keys, items,
//! conditions and update ops, decodes and checks page tokens, and refuses duplicate
//! keys in batches. A backend receives requests that are already valid, translates them
//! to its native calls, and uses [`eval`](crate::eval) for whatever it cannot do
//! natively.

use async_trait::async_trait;

use crate::{
    Condition, IndexSchema, Item, Key, PutMode, Result, SortCondition, StoreSchema, UpdateOp, Value,
};

/// A validated query, ready for a backend.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct QueryPlan<'a> {
    /// The store.
    pub schema: &'a StoreSchema,
    /// The index read, or `None` for the store's own key.
    pub index: Option<&'a IndexSchema>,
    /// The partition key value, of the declared type.
    pub partition: &'a Value,
    /// The sort key condition, if any; its values have the sort key's type.
    pub sort: Option<&'a SortCondition>,
    /// The filter, if any.
    pub filter: Option<&'a Condition>,
    /// The most items to return, counted after the filter; at least 1.
    pub limit: usize,
    /// Continue strictly after the item with these key attributes (see
    /// [`cursor_of`](crate::page::cursor_of)).
    pub after: Option<&'a Item>,
    /// Highest sort key first.
    pub descending: bool,
    /// Strongly consistent read (base table only).
    pub consistent: bool,
}

/// A validated scan, ready for a backend.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ScanPlan<'a> {
    /// The store.
    pub schema: &'a StoreSchema,
    /// The filter, if any.
    pub filter: Option<&'a Condition>,
    /// The most items to return, counted after the filter; at least 1.
    pub limit: usize,
    /// Continue strictly after the item with this key.
    pub after: Option<&'a Item>,
}

/// What a backend returns for a query or scan.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawPage {
    /// The items, at most `limit`, every one matching the filter.
    pub items: Vec<Item>,
    /// Whether matching items may follow the last one returned. The library makes the
    /// page token from the last item's key attributes.
    pub more: bool,
}

/// A validated write of a transaction, with its store's schema.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PlannedWrite<'a> {
    /// The store written.
    pub schema: &'a StoreSchema,
    /// The key of the item written.
    pub key: Key,
    /// What to do.
    pub op: PlannedOp<'a>,
    /// The condition on the existing item.
    pub condition: Option<&'a Condition>,
}

/// What a transaction write does.
#[derive(Debug, Clone)]
pub enum PlannedOp<'a> {
    /// Write a whole (valid) item.
    Put {
        /// The item.
        item: &'a Item,
        /// Upsert or insert.
        mode: PutMode,
    },
    /// Update the existing item.
    Update {
        /// The ops (validated against each other).
        ops: &'a [UpdateOp],
    },
    /// Delete the item.
    Delete,
    /// Only check the condition.
    Check,
}

/// A store engine: in-memory, local file, DynamoDB, Firestore, Cosmos DB.
///
/// Every method receives requests the library has already validated against the
/// store's schema. Each must keep the contract of SEMANTICS.md exactly, which the shared
/// conformance suite (`kvs::conformance`, feature `conformance`) checks.
#[async_trait]
pub trait Backend: Send + Sync + std::fmt::Debug + 'static {
    /// A short name for logs and errors: `"memory"`, `"local"`, `"dynamodb"`, ...
    fn name(&self) -> &'static str;

    /// Creates the store if it does not exist (and its indexes), and waits until it can
    /// be used. A store that exists with another key schema is a validation error.
    async fn ensure_store(&self, schema: &StoreSchema) -> Result<()>;

    /// Reads one item, strongly consistent.
    async fn get(&self, schema: &StoreSchema, key: &Key) -> Result<Option<Item>>;

    /// Reads many items: one answer per key, in the order given. The keys are distinct.
    async fn get_many(&self, schema: &StoreSchema, keys: &[Key]) -> Result<Vec<Option<Item>>>;

    /// Writes a whole item (already validated) if the condition holds.
    /// Errors: `AlreadyExists` for an insert that finds an item, `ConditionFailed`.
    async fn put(
        &self,
        schema: &StoreSchema,
        item: &Item,
        mode: PutMode,
        condition: Option<&Condition>,
    ) -> Result<()>;

    /// Applies update ops to an existing item and returns the whole new item.
    /// Errors: `NotFound` (nothing created), `ConditionFailed`, `Validation` for ops that
    /// do not fit the item.
    async fn update(
        &self,
        schema: &StoreSchema,
        key: &Key,
        ops: &[UpdateOp],
        condition: Option<&Condition>,
    ) -> Result<Item>;

    /// Deletes an item if the condition holds, returning the old item.
    async fn delete(
        &self,
        schema: &StoreSchema,
        key: &Key,
        condition: Option<&Condition>,
    ) -> Result<Option<Item>>;

    /// Reads one page of a query.
    async fn query(&self, plan: &QueryPlan<'_>) -> Result<RawPage>;

    /// Reads one page of a scan.
    async fn scan(&self, plan: &ScanPlan<'_>) -> Result<RawPage>;

    /// Applies all writes or none; on failure, `TransactionCanceled` with a reason per
    /// write. No two writes touch the same item.
    async fn transact(&self, writes: &[PlannedWrite<'_>]) -> Result<()>;

    /// Writes many (valid, distinct-keyed) items, not atomically. A partial failure names
    /// the keys not written.
    async fn put_many(&self, schema: &StoreSchema, items: &[Item]) -> Result<()>;

    /// Deletes many (distinct) keys, not atomically. A partial failure names the keys not
    /// deleted.
    async fn delete_many(&self, schema: &StoreSchema, keys: &[Key]) -> Result<()>;
}
