//! The `Backend` trait every store implements, and what the library hands to it.
//!
//! The [`Kvs`](crate::Kvs) handle does everything that is the same on every backend
//! before a backend sees a request: it finds the store's schema, validates keys, items,
//! conditions and update ops, decodes and checks page tokens, and refuses duplicate
//! keys in batches. A backend receives requests that are already valid, translates them
//! to its native calls, and uses [`eval`](crate::eval) for whatever it cannot do
//! natively.

use async_trait::async_trait;

pub use crate::raw_item::RawItem;
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
#[derive(Debug, Clone, Default)]
pub struct RawPage {
    /// The items, at most `limit`, every one matching the filter.
    pub items: Vec<RawItem>,
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

/// What a backend can hold exactly. The contract lets a backend refuse (with
/// `Validation`, naming the attribute) a value it cannot store exactly; these say which,
/// so that callers and the conformance suite know what to expect.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Capabilities {
    /// The magnitudes of floats it can store, `(smallest non-zero, largest)`; `None`
    /// for every finite f64.
    pub float_range: Option<(f64, f64)>,
    /// Whether a float that is a whole number (`2.0`) reads back as a float; where not,
    /// it reads back as the equal integer (`1 == 1.0`, so nothing is lost).
    pub keeps_number_kind: bool,
    /// Whether `-0.0` reads back with its sign (it equals `0.0` either way).
    pub keeps_negative_zero: bool,
    /// Whether a read of a secondary index right after a write sees it.
    pub consistent_index_reads: bool,
    /// Whether it holds exact decimals of up to 38 digits (numbers neither an `i64`
    /// nor an `f64` holds: [`Number::is_decimal`](crate::Number::is_decimal)); where
    /// not, writing one is `Validation` naming the attribute, never a rounding.
    pub exact_decimals: bool,
}

impl Default for Capabilities {
    /// Everything exact, as the embedded engine keeps it.
    fn default() -> Self {
        Capabilities {
            float_range: None,
            keeps_number_kind: true,
            keeps_negative_zero: true,
            consistent_index_reads: true,
            exact_decimals: true,
        }
    }
}

impl Capabilities {
    /// Whether a float can be stored.
    pub fn stores_float(&self, f: f64) -> bool {
        f.is_finite()
            && (f == 0.0
                || self
                    .float_range
                    .is_none_or(|(min, max)| (min..max).contains(&f.abs())))
    }
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

    /// What the backend can hold exactly.
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }

    /// Creates the store if it does not exist (and its indexes), and waits until it can
    /// be used. A store that exists with another key schema is a validation error.
    async fn ensure_store(&self, schema: &StoreSchema) -> Result<()>;

    /// Reads one item, strongly consistent.
    async fn get(&self, schema: &StoreSchema, key: &Key) -> Result<Option<RawItem>>;

    /// Reads many items: one answer per key, in the order given. The keys are distinct.
    async fn get_many(&self, schema: &StoreSchema, keys: &[Key]) -> Result<Vec<Option<RawItem>>>;

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
    ) -> Result<RawItem>;

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

/// One chunk a backend read natively: items in order, and where to continue (`None` at
/// the end of the range).
#[derive(Debug)]
pub struct Chunk<C> {
    /// The items read, in order (already filtered if the backend filtered natively).
    pub items: Vec<RawItem>,
    /// The backend's own position after the chunk, or `None` if the range is done.
    pub next: Option<C>,
}

/// Fills one page from chunks, for a backend whose native limit counts items read rather
/// than items returned (DynamoDB), or that cannot evaluate a filter natively: it keeps
/// reading until `limit` items pass `local_filter` or the range ends, and never skips an
/// item it read but did not return (the page token is made from the last item returned).
///
/// `read` is called with the backend's position to continue from (`None` for the
/// query's own start) and the number of items still wanted.
pub async fn fill_page<C, F, Fut>(
    limit: usize,
    local_filter: Option<&Condition>,
    mut read: F,
) -> Result<RawPage>
where
    F: FnMut(Option<C>, usize) -> Fut,
    Fut: std::future::Future<Output = Result<Chunk<C>>>,
{
    let mut items = Vec::with_capacity(limit.min(1024));
    let mut position = None;
    loop {
        let chunk = read(position.take(), limit - items.len()).await?;
        for item in chunk.items {
            let item = match local_filter {
                Some(f) => {
                    let item = item.into_item()?;
                    if !crate::eval::matches(f, Some(&item)) {
                        continue;
                    }
                    RawItem::from(item)
                }
                None => item,
            };
            if items.len() == limit {
                return Ok(RawPage { items, more: true });
            }
            items.push(item);
        }
        match chunk.next {
            None => return Ok(RawPage { items, more: false }),
            Some(_) if items.len() == limit => return Ok(RawPage { items, more: true }),
            Some(next) => position = Some(next),
        }
    }
}
