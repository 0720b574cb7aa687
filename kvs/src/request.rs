//! A request value for every operation: plain data, loggable and testable, that the
//! builders lower to and [`Kvs::execute`](crate::Kvs::execute) runs.

use crate::{Condition, Item, Key, PageToken, SortCondition, UpdateOp, Value};

/// Read one item by key (strongly consistent).
#[derive(Debug, Clone, PartialEq)]
pub struct GetRequest {
    /// The store.
    pub store: String,
    /// The item's key.
    pub key: Key,
}

/// Read many items by key; one answer per key, in the order asked.
#[derive(Debug, Clone, PartialEq)]
pub struct GetManyRequest {
    /// The store.
    pub store: String,
    /// The keys; duplicates are allowed.
    pub keys: Vec<Key>,
}

/// Whether a put may replace an existing item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PutMode {
    /// Write the whole item, whether or not one exists.
    #[default]
    Upsert,
    /// Write only if no item has the key; otherwise `AlreadyExists`.
    Insert,
}

/// Write a whole item.
#[derive(Debug, Clone, PartialEq)]
pub struct PutRequest {
    /// The store.
    pub store: String,
    /// The item, key attributes included.
    pub item: Item,
    /// Upsert or insert.
    pub mode: PutMode,
    /// A condition on the existing item, checked atomically with the write.
    pub condition: Option<Condition>,
}

/// Apply update ops to an existing item and return the whole new item.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateRequest {
    /// The store.
    pub store: String,
    /// The item's key.
    pub key: Key,
    /// The ops, applied in order.
    pub ops: Vec<UpdateOp>,
    /// A condition on the existing item, checked atomically with the write.
    pub condition: Option<Condition>,
}

/// Delete an item and return it (or `None` if there was none).
#[derive(Debug, Clone, PartialEq)]
pub struct DeleteRequest {
    /// The store.
    pub store: String,
    /// The item's key.
    pub key: Key,
    /// A condition on the existing item, checked atomically with the delete.
    pub condition: Option<Condition>,
}

/// Read one page of the items of one partition of a store or index, in sort key order.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryRequest {
    /// The store.
    pub store: String,
    /// A secondary index, or `None` for the store's own key.
    pub index: Option<String>,
    /// The partition key value.
    pub partition: Value,
    /// A condition on the sort key.
    pub sort: Option<SortCondition>,
    /// A condition every returned item meets.
    pub filter: Option<Condition>,
    /// The most items in the page, counted after the filter (default 1,000).
    pub limit: Option<usize>,
    /// Where the previous page ended.
    pub page_token: Option<PageToken>,
    /// Highest sort key first.
    pub descending: bool,
    /// Strongly consistent (base table only).
    pub consistent: bool,
}

/// Read one page of all the items of a store, in no promised order.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanRequest {
    /// The store.
    pub store: String,
    /// A condition every returned item meets.
    pub filter: Option<Condition>,
    /// The most items in the page, counted after the filter (default 1,000).
    pub limit: Option<usize>,
    /// Where the previous page ended.
    pub page_token: Option<PageToken>,
}

/// Count the items a query or scan matches, its filter applied, over every page.
///
/// Natively where the backend counts (DynamoDB's `Select=COUNT`, Firestore's count
/// aggregation and Cosmos DB's `COUNT` when the filter is none), otherwise by reading
/// the keys (and what the filter reads) page by page. The request's page limit and
/// page token must be unset: `Validation` otherwise.
#[derive(Debug, Clone, PartialEq)]
pub enum CountRequest {
    /// The items of a query.
    Query(QueryRequest),
    /// The items of a scan.
    Scan(ScanRequest),
}

/// One write of a transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOp {
    /// Write a whole item.
    Put {
        /// The item.
        item: Item,
        /// Upsert or insert.
        mode: PutMode,
        /// A condition on the existing item.
        condition: Option<Condition>,
    },
    /// Update an existing item.
    Update {
        /// The item's key.
        key: Key,
        /// The ops.
        ops: Vec<UpdateOp>,
        /// A condition on the existing item.
        condition: Option<Condition>,
    },
    /// Delete an item.
    Delete {
        /// The item's key.
        key: Key,
        /// A condition on the existing item.
        condition: Option<Condition>,
    },
    /// Write nothing, but cancel the transaction unless the condition holds.
    Check {
        /// The item's key.
        key: Key,
        /// The condition.
        condition: Condition,
    },
}

/// One write of a transaction, with its store.
///
/// ```
/// use kvs::{attr, item, TransactWrite, Updates};
/// let writes = [
///     TransactWrite::update("accounts", "alice", Updates::new().add("balance", -10))
///         .when(attr("balance").ge(10)),
///     TransactWrite::update("accounts", "bob", Updates::new().add("balance", 10)),
///     TransactWrite::insert("transfers", item! { "id" => "t-1", "amount" => 10 }),
/// ];
/// assert_eq!(writes.len(), 3);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TransactWrite {
    /// The store.
    pub store: String,
    /// The write.
    pub op: WriteOp,
    /// An error found while building the write (a path that did not parse), reported when
    /// the transaction runs.
    pub(crate) error: Option<crate::Error>,
}

impl TransactWrite {
    fn new(store: impl Into<String>, op: WriteOp) -> Self {
        TransactWrite {
            store: store.into(),
            op,
            error: None,
        }
    }

    /// Upsert a whole item.
    pub fn put(store: impl Into<String>, item: Item) -> Self {
        Self::new(
            store,
            WriteOp::Put {
                item,
                mode: PutMode::Upsert,
                condition: None,
            },
        )
    }

    /// Insert an item that must not exist yet.
    pub fn insert(store: impl Into<String>, item: Item) -> Self {
        Self::new(
            store,
            WriteOp::Put {
                item,
                mode: PutMode::Insert,
                condition: None,
            },
        )
    }

    /// Update an existing item.
    pub fn update(store: impl Into<String>, key: impl Into<Key>, updates: crate::Updates) -> Self {
        let (ops, error) = updates.into_parts();
        let mut w = Self::new(
            store,
            WriteOp::Update {
                key: key.into(),
                ops,
                condition: None,
            },
        );
        w.error = error;
        w
    }

    /// Delete an item.
    pub fn delete(store: impl Into<String>, key: impl Into<Key>) -> Self {
        Self::new(
            store,
            WriteOp::Delete {
                key: key.into(),
                condition: None,
            },
        )
    }

    /// Cancel the transaction unless the item meets the condition.
    pub fn check(store: impl Into<String>, key: impl Into<Key>, condition: Condition) -> Self {
        Self::new(
            store,
            WriteOp::Check {
                key: key.into(),
                condition,
            },
        )
    }

    /// Adds a condition on the existing item (for a check, it is combined with `and`).
    pub fn when(mut self, condition: Condition) -> Self {
        match &mut self.op {
            WriteOp::Put { condition: c, .. }
            | WriteOp::Update { condition: c, .. }
            | WriteOp::Delete { condition: c, .. } => crate::expr::conjoin(c, condition),
            WriteOp::Check { condition: c, .. } => *c = c.clone().and(condition),
        }
        self
    }
}

/// Write many items; not atomic, chunked and retried by the backend.
#[derive(Debug, Clone, PartialEq)]
pub struct UpsertManyRequest {
    /// The store.
    pub store: String,
    /// The items; two with the same key are a validation error.
    pub items: Vec<Item>,
}

/// Delete many items; not atomic, chunked and retried by the backend.
#[derive(Debug, Clone, PartialEq)]
pub struct DeleteManyRequest {
    /// The store.
    pub store: String,
    /// The keys; duplicates are a validation error.
    pub keys: Vec<Key>,
}
