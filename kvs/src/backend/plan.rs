//! Validated requests, as a backend receives them: the [`Kvs`](crate::Kvs) handle has
//! checked each against the store's schema and the backend's declared
//! [`Capabilities`](super::Capabilities) before building it.
//!
//! Plans are `#[non_exhaustive]`: only the library builds them, so that a field added
//! later (a projection, a consistency level) breaks no backend.

use crate::{
    Condition, IndexSchema, Item, Key, PutMode, SortCondition, StoreSchema, UpdateOp, Value,
};

use super::RawItem;

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
    /// The top-level attributes the caller needs, or `None` for whole items. A backend
    /// may read only [`attributes_read`](Self::attributes_read) (native projections:
    /// less is read and sent) or whole items: the caller decodes only what it asked for.
    pub projection: Option<&'a [&'a str]>,
}

impl QueryPlan<'_> {
    /// With a projection, the top-level attributes a read must hold: those projected,
    /// the key attributes of the table and of the index read (page tokens are made of
    /// them), and those the filter reads (which the kit evaluates after reading where a
    /// backend does not); `None`: whole items.
    pub fn attributes_read(&self) -> Option<Vec<&str>> {
        attributes_read(self.schema, self.index, self.projection, self.filter)
    }
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
    /// The top-level attributes the caller needs, or `None` for whole items, as
    /// [`QueryPlan::projection`].
    pub projection: Option<&'a [&'a str]>,
}

impl ScanPlan<'_> {
    /// With a projection, the top-level attributes a read must hold, as
    /// [`QueryPlan::attributes_read`].
    pub fn attributes_read(&self) -> Option<Vec<&str>> {
        attributes_read(self.schema, None, self.projection, self.filter)
    }
}

/// The top-level attributes a read with `projection` must hold: those projected, the key
/// attributes of the table and of `index`, and those `filter` reads; `None` without a
/// projection.
pub(crate) fn attributes_read<'a>(
    schema: &'a StoreSchema,
    index: Option<&'a IndexSchema>,
    projection: Option<&'a [&'a str]>,
    filter: Option<&'a Condition>,
) -> Option<Vec<&'a str>> {
    let projection = projection?;
    let mut names: Vec<&str> = projection.to_vec();
    let keys = [
        Some(&schema.partition_key),
        schema.sort_key.as_ref(),
        index.map(|i| &i.partition_key),
        index.and_then(|i| i.sort_key.as_ref()),
    ];
    names.extend(keys.into_iter().flatten().map(|k| k.name.as_str()));
    // Whether an item is expired is decided on what was read.
    names.extend(schema.ttl.as_deref());
    if let Some(filter) = filter {
        names.extend(filter.paths().into_iter().map(|p| p.root()));
    }
    names.sort_unstable();
    names.dedup();
    Some(names)
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

/// A validated write: a put, an update, a delete or a condition check of one item, alone
/// or as one write of a transaction.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WritePlan<'a> {
    /// The store written.
    pub schema: &'a StoreSchema,
    /// The key of the item written.
    pub key: Key,
    /// What to do.
    pub op: PlannedOp<'a>,
    /// The condition on the existing item.
    pub condition: Option<&'a Condition>,
}

/// The name the transaction API used for a [`WritePlan`].
pub type PlannedWrite<'a> = WritePlan<'a>;

impl<'a> WritePlan<'a> {
    pub(crate) fn new(
        schema: &'a StoreSchema,
        key: Key,
        op: PlannedOp<'a>,
        condition: Option<&'a Condition>,
    ) -> Self {
        WritePlan {
            schema,
            key,
            op,
            condition,
        }
    }

    /// `store/key`, to name the item in a message.
    pub fn describe(&self) -> String {
        format!("{}/{}", self.schema.name, self.key)
    }
}

/// What a write does.
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
        /// The ops (validated against each other, operands normalized).
        ops: &'a [UpdateOp],
    },
    /// Delete the item.
    Delete,
    /// Only check the condition.
    Check,
}

/// What a single write gives back.
#[derive(Debug, Clone, Default)]
pub struct Written {
    /// For a delete: the item deleted, if there was one. Other writes may leave it out.
    pub old: Option<RawItem>,
    /// For an update: the whole new item. Other writes may leave it out.
    pub new: Option<RawItem>,
}
