//! Reads: one document (a point read), and the key ranges of queries and scans (one
//! parameterized SQL range over an order key).

use std::num::NonZeroU32;
use std::ops::Bound;

use azure_data_cosmos::options::{ItemReadOptions, MaxItemCountHint, QueryOptions};
use azure_data_cosmos::{FeedScope, Query};
use futures::TryStreamExt as _;

use azure_core::Bytes;
use serde_json::value::RawValue;

use super::value::{
    Document, INDEXES, KEY, ORDER_DIGITS, TYPES, document, index_property, order_text,
    property_name,
};
use super::{CosmosBackend, cosmos_error, item_id, partition_key};
use crate::backend::{QueryPlan, RawItem, RawPage, ScanPlan, Version, Versioned};
use crate::codec::{self, KeyRange};
use crate::{Error, Key, Result, StoreSchema};

/// One range read: the order key property (`c._kvsKey`, `c._kvsIx.i…`: names of kvs's
/// own, never the user's), its bounds, and the partition or the whole container.
struct Range {
    property: String,
    keys: KeyRange,
    scope: FeedScope,
    descending: bool,
    /// The stored names of the properties to read (`None`: whole documents).
    select: Option<Vec<String>>,
}

/// The alias of the record of bytes and sets in a projected query.
const TYPES_ALIAS: &str = "t";

impl Range {
    /// The query of the first `n` documents of the range, in order: the bounds as
    /// parameters (order texts), the text made only of kvs's own names. A bounded range
    /// is one `BETWEEN` (inclusive bounds, see [`between`]), so that the order key is
    /// read once per document rather than once per comparison.
    ///
    /// With a projection, it selects each property by a parameter (`c[@p0] AS p0`, the
    /// names never in the text) and the record of bytes and sets.
    fn query(&self, n: usize) -> Result<Query> {
        let p = &self.property;
        let direction = if self.descending { "DESC" } else { "ASC" };
        let text = format!(
            "SELECT TOP @n {} FROM c WHERE {} ORDER BY {p} {direction}",
            select_list(self.select.as_deref()),
            self.condition()
        );
        let query = self
            .with_bounds(Query::from(text))?
            .with_parameter("@n", i64::try_from(n).unwrap_or(i64::MAX))
            .map_err(|e| cosmos_error("query", "parameters", e))?;
        with_names(query, self.select.as_deref())
    }

    /// The query of the number of documents of the range: `COUNT` (`aggregate`), or a
    /// `1` per document, to be added up.
    fn count(&self, aggregate: bool) -> Result<Query> {
        let select = if aggregate { "COUNT(1)" } else { "1" };
        let text = format!("SELECT VALUE {select} FROM c WHERE {}", self.condition());
        self.with_bounds(Query::from(text))
    }

    /// The range as a condition on the order key, its bounds the parameters `@lo` and
    /// `@hi`.
    fn condition(&self) -> String {
        let p = &self.property;
        // Every order key is a string, and only documents that have one are read
        // (Cosmos DB's ORDER BY would put the others first): an open range starts at "".
        match between(&self.keys).1 {
            Some(_) => format!("{p} BETWEEN @lo AND @hi"),
            None => format!("{p} >= @lo"),
        }
    }

    /// `query` with the bounds of the range as its parameters.
    fn with_bounds(&self, query: Query) -> Result<Query> {
        let (lo, hi) = between(&self.keys);
        let mut query = query
            .with_parameter("@lo", lo)
            .map_err(|e| cosmos_error("query", "parameters", e))?;
        if let Some(hi) = hi {
            query = query
                .with_parameter("@hi", hi)
                .map_err(|e| cosmos_error("query", "parameters", e))?;
        }
        Ok(query)
    }
}

/// A key range as the inclusive bounds of its order texts (`None`: no upper bound).
/// Order texts are made of [`ORDER_DIGITS`] only, all above `,` and below `~`, so that
/// past `l` means at least `l` then the smallest digit, and before `u` means at most `u`
/// with its last digit one less then `~` (any text of digits starting so is smaller than
/// `u`, and any other one below `u` is smaller than that). A range that can hold nothing
/// (before "") gives bounds no text is between.
fn between(keys: &KeyRange) -> (String, Option<String>) {
    if matches!(&keys.upper, Bound::Excluded(u) if u.is_empty()) {
        return (String::from("~"), Some(String::from("!")));
    }
    let lo = match &keys.lower {
        Bound::Included(l) => order_text(l),
        Bound::Excluded(l) => {
            let mut t = order_text(l);
            t.push(char::from(ORDER_DIGITS[0]));
            t
        }
        Bound::Unbounded => String::new(),
    };
    let hi = match &keys.upper {
        Bound::Included(u) => Some(order_text(u)),
        Bound::Excluded(u) => {
            let mut t = order_text(u).into_bytes();
            // Not empty (above); ASCII, so one less is ASCII too.
            let last = t.pop().unwrap_or(b'-');
            t.extend([last - 1, b'~']);
            Some(t.into_iter().map(char::from).collect())
        }
        Bound::Unbounded => None,
    };
    (lo, hi)
}

impl CosmosBackend {
    /// One document's JSON text as read, and its ETag from the response's headers;
    /// `None` where there is none.
    async fn read_json(
        &self,
        schema: &StoreSchema,
        key: &Key,
    ) -> Result<Option<(Bytes, Option<String>)>> {
        let container = self.container_client(schema).await?;
        let pk = partition_key(key.partition())?;
        let id = item_id(key);
        let what = || format!("{}/{key}", schema.name);
        let options = ItemReadOptions::default().with_operation_options(self.inner.options.clone());
        self.inner
            .backoff
            .run(true, || async {
                match container
                    .read_item(pk.clone(), &id, Some(options.clone()))
                    .await
                {
                    Ok(r) => {
                        let etag = r.headers().etag().map(|e| e.to_string());
                        let body = r
                            .into_body()
                            .single()
                            .map_err(|e| cosmos_error("read", &what(), e))?;
                        Ok(Some((json_text(body)?, etag)))
                    }
                    Err(e) if not_found(&e) => Ok(None),
                    Err(e) => Err(cosmos_error("read", &what(), e)),
                }
            })
            .await
    }

    /// One item of only `attributes`: a query of the document by its id within its
    /// partition, selecting them (a point read would bring the whole document).
    pub(super) async fn read_projected(
        &self,
        schema: &StoreSchema,
        key: &Key,
        attributes: &[&str],
    ) -> Result<Option<RawItem>> {
        let container = self.container_client(schema).await?;
        let names = select(Some(attributes.to_vec()));
        let text = format!(
            "SELECT {} FROM c WHERE c.id = @id",
            select_list(names.as_deref())
        );
        let query = Query::from(text)
            .with_parameter("@id", item_id(key))
            .map_err(|e| cosmos_error("query", "parameters", e))?;
        let query = with_names(query, names.as_deref())?;
        let scope = FeedScope::partition(partition_key(key.partition())?);
        let what = || format!("{}/{key}", schema.name);
        let found: Vec<Box<RawValue>> = self
            .inner
            .backoff
            .run(true, || async {
                let options =
                    QueryOptions::default().with_operation_options(self.inner.options.clone());
                container
                    .query_items::<Box<RawValue>>(query.clone(), scope.clone(), Some(options))
                    .await
                    .map_err(|e| cosmos_error("read", &what(), e))?
                    .try_collect()
                    .await
                    .map_err(|e| cosmos_error("read", &what(), e))
            })
            .await?;
        found
            .into_iter()
            .next()
            .map(|d| projected_document(names.as_deref(), d).map(RawItem::cosmos))
            .transpose()
    }

    /// One document as read (its item, ETag and write token); `None` where there is
    /// none.
    pub(super) async fn read_document(
        &self,
        schema: &StoreSchema,
        key: &Key,
    ) -> Result<Option<Document>> {
        let Some((json, etag)) = self.read_json(schema, key).await? else {
            return Ok(None);
        };
        let mut doc = document(&json)?;
        if etag.is_some() {
            doc.etag = etag;
        }
        Ok(Some(doc))
    }

    /// One item, as its document's JSON text (decoded only when the caller says into
    /// what), and its version (ETag); `None` where there is none.
    pub(super) async fn read_item(
        &self,
        schema: &StoreSchema,
        key: &Key,
    ) -> Result<Option<Versioned>> {
        let Some((json, header)) = self.read_json(schema, key).await? else {
            return Ok(None);
        };
        let etag = match header {
            Some(etag) => etag,
            None => document(&json)?.etag.ok_or_else(|| {
                Error::backend(
                    format!("Cosmos DB gave item {}/{key} without an ETag", schema.name),
                    "no ETag",
                )
            })?,
        };
        Ok(Some(Versioned {
            item: RawItem::cosmos(json),
            version: Version::new(etag),
        }))
    }

    /// Reads the first `limit` documents of `range`, and whether more follow.
    async fn read_range(
        &self,
        schema: &StoreSchema,
        range: &Range,
        limit: usize,
    ) -> Result<RawPage> {
        if range.keys.is_empty() {
            return Ok(RawPage::default());
        }
        let container = self.container_client(schema).await?;
        let what = self.container(&schema.name);
        // One more than the page, to learn whether the range goes on.
        let wanted = limit.saturating_add(1);
        let query = range.query(wanted)?;
        let page_size = u32::try_from(wanted).ok().and_then(NonZeroU32::new);
        let docs: Vec<Box<RawValue>> = self
            .inner
            .backoff
            .run(true, || async {
                let mut options =
                    QueryOptions::default().with_operation_options(self.inner.options.clone());
                if let Some(n) = page_size {
                    options = options.with_max_item_count(MaxItemCountHint::Limit(n));
                }
                let options = Some(options);
                let stream = container
                    .query_items::<Box<RawValue>>(query.clone(), range.scope.clone(), options)
                    .await
                    .map_err(|e| cosmos_error("query", &what, e))?;
                stream
                    .try_collect()
                    .await
                    .map_err(|e| cosmos_error("query", &what, e))
            })
            .await?;
        let more = docs.len() > limit;
        let items = docs
            .into_iter()
            .take(limit)
            .map(|d| projected_document(range.select.as_deref(), d).map(RawItem::cosmos))
            .collect::<Result<_>>()?;
        Ok(RawPage { items, more })
    }

    /// A query's key range: the base table within the partition (by `_kvsKey`), or an
    /// index across partitions (by its member of `_kvsIx`), the sort condition and the
    /// cursor as bounds of the order key.
    pub(super) async fn query_range(&self, plan: &QueryPlan<'_>) -> Result<RawPage> {
        let range = query_range(plan)?;
        self.read_range(plan.schema, &range, plan.limit).await
    }

    /// The number of documents in a query's key range, counted on the server.
    pub(super) async fn count_query_range(&self, plan: &QueryPlan<'_>) -> Result<u64> {
        let range = query_range(plan)?;
        self.count_range(plan.schema, &range).await
    }

    /// The number of documents of the container.
    pub(super) async fn count_container(&self, plan: &ScanPlan<'_>) -> Result<u64> {
        let range = scan_range(plan)?;
        self.count_range(plan.schema, &range).await
    }

    /// The number of documents of `range`: `COUNT` on the server within a partition;
    /// across partitions, where the SDK runs no aggregate (it refuses one with
    /// sub-status 20113, even per feed range), a `1` for each document of the range,
    /// counted here (the range is still evaluated on the server, and no document is
    /// sent).
    async fn count_range(&self, schema: &StoreSchema, range: &Range) -> Result<u64> {
        if range.keys.is_empty() {
            return Ok(0);
        }
        let container = self.container_client(schema).await?;
        let what = self.container(&schema.name);
        let aggregate = matches!(range.scope, FeedScope::Partition(_));
        let query = range.count(aggregate)?;
        self.inner
            .backoff
            .run(true, || async {
                let options =
                    QueryOptions::default().with_operation_options(self.inner.options.clone());
                let stream = container
                    .query_items::<u64>(query.clone(), range.scope.clone(), Some(options))
                    .await
                    .map_err(|e| cosmos_error("count", &what, e))?;
                stream
                    .try_fold(0u64, |n, v| async move { Ok(n + v) })
                    .await
                    .map_err(|e| cosmos_error("count", &what, e))
            })
            .await
    }

    /// A scan's range: the whole container in key order.
    pub(super) async fn scan_range(&self, plan: &ScanPlan<'_>) -> Result<RawPage> {
        let range = scan_range(plan)?;
        self.read_range(plan.schema, &range, plan.limit).await
    }
}

/// The range of a query: the base table within the partition (by `_kvsKey`), or an index
/// across partitions (by its member of `_kvsIx`), the sort condition and the cursor as
/// bounds of the order key.
fn query_range(plan: &QueryPlan<'_>) -> Result<Range> {
    let schema = plan.schema;
    let mut partition = Vec::with_capacity(32);
    codec::encode_key_value(plan.partition, &mut partition);
    let mut keys = KeyRange::partition(&partition, plan.sort);
    let (property, scope) = match plan.index {
        Some(index) => {
            if let Some(after) = plan.after {
                let table_key = codec::table_key(&schema.key_of(after)?);
                let index_key = index.key_of(after)?.ok_or_else(|| {
                    Error::invalid_page_token("the page token has no position in the index")
                })?;
                keys = keys.after(codec::index_key(&index_key, &table_key), plan.descending);
            }
            (
                format!("c.{INDEXES}.{}", index_property(index)),
                FeedScope::full_container(),
            )
        }
        None => {
            if let Some(after) = plan.after {
                keys = keys.after(codec::table_key(&schema.key_of(after)?), plan.descending);
            }
            (
                format!("c.{KEY}"),
                FeedScope::partition(partition_key(plan.partition)?),
            )
        }
    };
    Ok(Range {
        property,
        keys,
        scope,
        descending: plan.descending,
        select: select(plan.attributes_read()),
    })
}

/// The select list of a read of `names` (`None`: whole documents): each property by a
/// parameter (`c[@p0] AS p0`, so that no name is ever in the text) and the record of
/// bytes and sets.
fn select_list(names: Option<&[String]>) -> String {
    let Some(names) = names else {
        return String::from("*");
    };
    let mut list: Vec<String> = (0..names.len())
        .map(|i| format!("c[@p{i}] AS p{i}"))
        .collect();
    list.push(format!("c.{TYPES} AS {TYPES_ALIAS}"));
    list.join(", ")
}

/// `query` with the property names of [`select_list`] as its parameters.
fn with_names(mut query: Query, names: Option<&[String]>) -> Result<Query> {
    for (i, name) in names.into_iter().flatten().enumerate() {
        query = query
            .with_parameter(format!("@p{i}"), name)
            .map_err(|e| cosmos_error("query", "parameters", e))?;
    }
    Ok(query)
}

/// A result of a read of `names` (`None`: whole documents) as the document it projects:
/// each alias back to its property's stored name.
fn projected_document(names: Option<&[String]>, result: Box<RawValue>) -> Result<Bytes> {
    let json = Box::<str>::from(result).into_boxed_bytes();
    let Some(names) = names else {
        return Ok(Bytes::from(json));
    };
    let projected: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&json)
        .map_err(|e| Error::backend(format!("Cosmos DB gave a result kvs cannot read: {e}"), e))?;
    let mut doc = serde_json::Map::with_capacity(projected.len());
    for (alias, value) in projected {
        let name = match alias
            .strip_prefix('p')
            .and_then(|i| i.parse::<usize>().ok())
        {
            Some(i) => names.get(i).cloned(),
            None => (alias == TYPES_ALIAS).then(|| TYPES.to_owned()),
        };
        if let Some(name) = name {
            doc.insert(name, value);
        }
    }
    serde_json::to_vec(&doc)
        .map(Bytes::from)
        .map_err(|e| Error::backend(format!("a projected Cosmos DB document: {e}"), e))
}

/// The stored names of the properties a projected read selects.
fn select(attributes: Option<Vec<&str>>) -> Option<Vec<String>> {
    Some(
        attributes?
            .into_iter()
            .map(|name| property_name(name).into_owned())
            .collect(),
    )
}

/// The range of a scan: the whole container in key order, after the cursor.
fn scan_range(plan: &ScanPlan<'_>) -> Result<Range> {
    let lower = match plan.after {
        Some(after) => Bound::Excluded(codec::table_key(&plan.schema.key_of(after)?)),
        None => Bound::Unbounded,
    };
    Ok(Range {
        property: format!("c.{KEY}"),
        keys: KeyRange {
            lower,
            upper: Bound::Unbounded,
        },
        scope: FeedScope::full_container(),
        descending: false,
        select: select(plan.attributes_read()),
    })
}

/// Whether an error says the item is missing (not its container: a missing container
/// is 404 with sub-status 1003, and is `StoreNotFound`).
pub(super) fn not_found(e: &azure_data_cosmos::CosmosError) -> bool {
    let status = e.status();
    status.is_not_found() && status.sub_status().is_none_or(|s| s.value() != 1003)
}

/// A response body as JSON text: kvs asks for text (see `CosmosBackend::new`), and
/// turns Cosmos DB's binary JSON into text should a response hold it anyway.
fn json_text(body: Bytes) -> Result<Bytes> {
    if !azure_data_cosmos_driver::binary_json::is_binary(&body) {
        return Ok(body);
    }
    azure_data_cosmos_driver::binary_json::transcode_to_text(&body)
        .map(Bytes::from)
        .map_err(|e| Error::backend(format!("Cosmos DB gave a document kvs cannot read: {e}"), e))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn bytes() -> impl Strategy<Value = Vec<u8>> {
        // Few distinct bytes, so that prefixes and near ties are common.
        proptest::collection::vec(proptest::sample::select(vec![0u8, 1, 63, 64, 255]), 0..6)
    }

    fn bound() -> impl Strategy<Value = Bound<Vec<u8>>> {
        prop_oneof![
            bytes().prop_map(Bound::Included),
            bytes().prop_map(Bound::Excluded),
            Just(Bound::Unbounded),
        ]
    }

    proptest! {
        /// A key is in the range exactly when its order text is between the bounds.
        #[test]
        fn between_holds_what_the_range_holds(key in bytes(), lower in bound(), upper in bound()) {
            let range = KeyRange { lower, upper };
            let (lo, hi) = between(&range);
            let text = order_text(&key);
            let inside = text >= lo && hi.as_ref().is_none_or(|hi| text <= *hi);
            let above = match &range.lower {
                Bound::Included(l) => key >= *l,
                Bound::Excluded(l) => key > *l,
                Bound::Unbounded => true,
            };
            let below = match &range.upper {
                Bound::Included(u) => key <= *u,
                Bound::Excluded(u) => key < *u,
                Bound::Unbounded => true,
            };
            prop_assert_eq!(inside, above && below);
        }
    }
}
