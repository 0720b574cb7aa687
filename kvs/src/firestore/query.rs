//! Reads: one document, many documents (`BatchGetDocuments`), and the key ranges of
//! queries and scans (`RunQuery`).

use std::collections::HashMap;

use firestore::gcloud_sdk::google::firestore::v1::{
    BatchGetDocumentsRequest, Cursor, Document, DocumentMask, GetDocumentRequest,
    RunAggregationQueryRequest, RunQueryRequest, StructuredAggregationQuery, StructuredQuery,
    Value as FsValue, batch_get_documents_response, run_aggregation_query_request,
    run_query_request,
    structured_aggregation_query::{self, Aggregation, aggregation},
    structured_query::{
        self, CollectionSelector, CompositeFilter, FieldFilter, FieldReference, Filter, Order,
        Projection, composite_filter, field_filter, filter,
    },
    value::ValueType,
};
use firestore::gcloud_sdk::tonic::{Code, Status};

use super::error::{missing_database, status_error};
use super::id::field_path;
use super::index::IndexDefinition;
use super::value::{decode_fields, encode_value, field_name};
use super::{Engine, version_of};
use crate::backend::emulate::batch::{BatchRunner, Pending, Round, in_order};
use crate::backend::{QueryPlan, RawItem, RawPage, ScanPlan, Versioned};
use crate::{
    Condition, Decimal, Error, ErrorKind, Key, KeyAttr, Number, Path, Result, SortCondition,
    StoreSchema, Value, eval,
};

/// The most documents in one `BatchGetDocuments` request.
const GET_CHUNK: usize = 100;

/// The largest string or bytes value Firestore indexes whole: it counts a string as its
/// UTF-8 bytes plus one and indexes 1,500 bytes, refuses longer values in a query
/// ("value ... is too large to be used in a query") and orders documents by the first
/// 1,500 bytes only.
pub const MAX_QUERY_VALUE: usize = 1499;

/// `Unsupported` for a key value Firestore cannot query or order by.
fn check_queryable(what: &str, attr: &str, value: &Value) -> Result<()> {
    let len = match value {
        Value::String(s) => s.len(),
        Value::Bytes(b) => b.len(),
        _ => 0,
    };
    if len > MAX_QUERY_VALUE {
        return Err(Error::unsupported(format!(
            "{what} of key attribute {attr:?} is {len} bytes: Firestore queries and orders \
             key values of at most {MAX_QUERY_VALUE} bytes (get, write, scan and batches \
             work with any key)"
        )));
    }
    Ok(())
}

/// A document as an item and its version.
pub(super) fn versioned(doc: Document) -> Result<Versioned> {
    let Some(update_time) = doc.update_time.as_ref() else {
        return Err(Error::new(
            ErrorKind::Backend,
            format!(
                "Firestore gave document {} without an update time",
                doc.name
            ),
        ));
    };
    let version = version_of(update_time);
    Ok(Versioned {
        item: RawItem::from(decode_fields(doc.fields)),
        version,
    })
}

fn reference(name: String) -> FsValue {
    FsValue {
        value_type: Some(ValueType::ReferenceValue(name)),
    }
}

fn field(path: &str) -> Option<FieldReference> {
    Some(FieldReference {
        field_path: path.to_owned(),
    })
}

fn compare(path: &str, op: field_filter::Operator, value: FsValue) -> Filter {
    Filter {
        filter_type: Some(filter::FilterType::FieldFilter(FieldFilter {
            field: field(path),
            op: op as i32,
            value: Some(value),
        })),
    }
}

fn order(path: &str, descending: bool) -> Order {
    let direction = if descending {
        structured_query::Direction::Descending
    } else {
        structured_query::Direction::Ascending
    };
    Order {
        field: field(path),
        direction: direction as i32,
    }
}

/// The smallest string above every string that starts with `prefix`, if there is one:
/// the prefix with its last character that can be raised raised by one (strings order
/// by UTF-8 bytes, which is the order of code points).
fn string_successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (u32::from(last) + 1..=0x10FFFF).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// The smallest byte string above every one that starts with `prefix`, if any.
fn bytes_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut bytes = prefix.to_vec();
    while let Some(last) = bytes.pop() {
        if last < u8::MAX {
            bytes.push(last + 1);
            return Some(bytes);
        }
    }
    None
}

/// The doubles just below and just above a decimal that no int64 or double holds.
fn doubles_around(d: Decimal) -> (f64, f64) {
    let f = d.to_f64_lossy();
    if Number::from(f) < Number::from(d) {
        (f, f.next_up())
    } else {
        (f.next_down(), f)
    }
}

/// Whether [`sort_filters`] widens the condition (a bound is a decimal no int64 or
/// double holds): then only a read, which checks each item, answers it exactly.
pub(super) fn widens(sort: &SortCondition) -> bool {
    let decimal = |v: &Value| matches!(v, Value::Number(n) if n.decimal_value().is_some());
    match sort {
        SortCondition::Eq(v)
        | SortCondition::Lt(v)
        | SortCondition::Le(v)
        | SortCondition::Gt(v)
        | SortCondition::Ge(v) => decimal(v),
        SortCondition::Between(a, b) => decimal(a) || decimal(b),
        SortCondition::BeginsWith(_) => false,
    }
}

/// The sort condition as range filters on `path` (a superset of the condition's items;
/// the caller checks each item against the condition itself).
fn sort_filters(name: &str, path: &str, sort: &SortCondition) -> Result<Vec<Filter>> {
    use field_filter::Operator as Op;
    let f = |op, v: &Value| Ok::<_, Error>(compare(path, op, encode_value(name, v)?));
    // A decimal that no int64 or double holds cannot be sent, and no stored number
    // equals it: a bound on one is widened to the double beyond it, which keeps every
    // number the condition can match (Firestore compares numbers by value), and the
    // caller's check of each item drops the rest.
    let around = |v: &Value| match v {
        Value::Number(n) => n.decimal_value().map(doubles_around),
        _ => None,
    };
    let from = |op, v: &Value| match around(v) {
        Some((below, _)) => f(Op::GreaterThanOrEqual, &Value::from(below)),
        None => f(op, v),
    };
    let to = |op, v: &Value| match around(v) {
        Some((_, above)) => f(Op::LessThanOrEqual, &Value::from(above)),
        None => f(op, v),
    };
    Ok(match sort {
        SortCondition::Eq(v) if around(v).is_some() => {
            vec![
                from(Op::GreaterThanOrEqual, v)?,
                to(Op::LessThanOrEqual, v)?,
            ]
        }
        SortCondition::Eq(v) => vec![f(Op::Equal, v)?],
        SortCondition::Lt(v) => vec![to(Op::LessThan, v)?],
        SortCondition::Le(v) => vec![to(Op::LessThanOrEqual, v)?],
        SortCondition::Gt(v) => vec![from(Op::GreaterThan, v)?],
        SortCondition::Ge(v) => vec![from(Op::GreaterThanOrEqual, v)?],
        SortCondition::Between(a, b) => {
            vec![
                from(Op::GreaterThanOrEqual, a)?,
                to(Op::LessThanOrEqual, b)?,
            ]
        }
        SortCondition::BeginsWith(p) => {
            let upper = match p {
                Value::String(s) if s.is_empty() => return Ok(Vec::new()),
                Value::Bytes(b) if b.is_empty() => return Ok(Vec::new()),
                Value::String(s) => string_successor(s).map(Value::String),
                Value::Bytes(b) => bytes_successor(b).map(Value::Bytes),
                _ => None,
            };
            let mut filters = vec![f(Op::GreaterThanOrEqual, p)?];
            if let Some(upper) = upper {
                filters.push(f(Op::LessThan, &upper)?);
            }
            filters
        }
    })
}

fn all_of(mut filters: Vec<Filter>) -> Option<Filter> {
    match filters.len() {
        0 => None,
        1 => filters.pop(),
        _ => Some(Filter {
            filter_type: Some(filter::FilterType::CompositeFilter(CompositeFilter {
                op: composite_filter::Operator::And as i32,
                filters,
            })),
        }),
    }
}

/// One range read: the query's filters and order, from a cursor.
struct Range {
    collection: String,
    filter: Option<Filter>,
    order_by: Vec<Order>,
    /// The order-by fields (without `__name__`) whose values make the cursor.
    cursor_fields: Vec<String>,
    /// A field mask: only these fields are read and sent (`None`: whole documents).
    select: Option<Projection>,
    /// The composite index the query needs in production, to name it if it is missing.
    needs: Option<IndexDefinition>,
}

impl Range {
    /// The structured query of the range, from a cursor, of at most `limit` documents.
    fn query(&self, after: Option<&[FsValue]>, limit: Option<usize>) -> StructuredQuery {
        StructuredQuery {
            from: vec![CollectionSelector {
                collection_id: self.collection.clone(),
                all_descendants: false,
            }],
            select: self.select.clone(),
            r#where: self.filter.clone(),
            order_by: self.order_by.clone(),
            start_at: after.map(|values| Cursor {
                values: values.to_vec(),
                before: false,
            }),
            limit: limit.map(|n| i32::try_from(n).unwrap_or(i32::MAX)),
            ..Default::default()
        }
    }
}

/// A document mask of the attributes a read must hold, if it projects.
fn mask(attributes: Option<&[&str]>) -> Option<DocumentMask> {
    Some(DocumentMask {
        field_paths: masked_paths(attributes?.iter().copied()),
    })
}

/// A field mask of the attributes a read must hold, if the plan projects.
fn select(attributes: Option<Vec<&str>>) -> Option<Projection> {
    Some(Projection {
        fields: masked_paths(attributes?)
            .into_iter()
            .map(|field_path| FieldReference { field_path })
            .collect(),
    })
}

/// The field paths of a projected read of `attributes`: theirs, and the record of the
/// item's sets ([`SETS`](super::value::SETS)), without which a set would read back as a
/// list.
fn masked_paths<'a>(attributes: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    attributes
        .into_iter()
        .map(|name| field_path(&field_name(name)))
        .chain(std::iter::once(field_path(super::value::SETS)))
        .collect()
}

/// A query's range and what each document read is checked against: the key condition
/// (Firestore compares only the first 1,500 bytes of a string), the sort key and the
/// table's key fields that order ties.
struct QueryShape<'p> {
    range: Range,
    key_condition: Condition,
    sk: Option<&'p KeyAttr>,
    tie_breakers: Vec<&'p KeyAttr>,
}

/// The error of a query Firestore refused for want of a composite index, naming the
/// index; `None` for any other failure.
fn missing_index(range: &Range, status: &Status) -> Option<Error> {
    let needs = range.needs.as_ref()?;
    (status.code() == Code::FailedPrecondition && status.message().contains("index")).then(|| {
        Error::new(
            ErrorKind::StoreNotFound,
            format!(
                "Firestore RunQuery on {}: the query needs the composite index {needs}, which \
                 the database does not have (yet); create it (`kvs::firestore::index_file`, or \
                 `with_indexes` and `ensure`). Firestore says: {}",
                range.collection,
                status.message()
            ),
        )
        .with_source(status.clone())
    })
}

impl Engine {
    /// One document and its version; `None` where there is none.
    pub(super) async fn get_document(
        &self,
        schema: &StoreSchema,
        key: &Key,
    ) -> Result<Option<Versioned>> {
        self.get_masked(schema, key, None).await
    }

    /// One document, only the fields of `attributes` (all with `None`), and its version;
    /// `None` where there is none.
    pub(super) async fn get_masked(
        &self,
        schema: &StoreSchema,
        key: &Key,
        attributes: Option<&[&str]>,
    ) -> Result<Option<Versioned>> {
        let name = self.document_name(schema, key);
        let mask = mask(attributes);
        let doc = self
            .backoff
            .run(true, || async {
                let request = GetDocumentRequest {
                    name: name.clone(),
                    mask: mask.clone(),
                    ..Default::default()
                };
                match self.client().get_document(request).await {
                    Ok(doc) => Ok(Some(doc.into_inner())),
                    // A missing document; but a missing database is the store's.
                    Err(s) if s.code() == Code::NotFound && !missing_database(&s) => Ok(None),
                    Err(s) => Err(status_error("GetDocument", &name, s)),
                }
            })
            .await?;
        doc.map(versioned).transpose()
    }

    /// `get_many` on `BatchGetDocuments`, in concurrent chunks; the answers, which
    /// come in any order, are put back in the order of `keys`.
    pub(super) async fn batch_get(
        &self,
        schema: &StoreSchema,
        keys: &[Key],
        attributes: Option<&[&str]>,
    ) -> Result<Vec<Option<RawItem>>> {
        let mask = mask(attributes);
        let mask = &mask;
        let runner = BatchRunner {
            chunk: GET_CHUNK,
            concurrency: self.concurrency,
            backoff: self.backoff,
        };
        let found = runner
            .run(
                keys,
                "read",
                |p: &Pending<'_, Key, Key>| {
                    Ok(match p {
                        Pending::Asked(a) => a.to_vec(),
                        Pending::Left(l) => l.clone(),
                    })
                },
                |p| {
                    let chunk: Vec<Key> = match p {
                        Pending::Asked(a) => a.to_vec(),
                        Pending::Left(l) => l.clone(),
                    };
                    self.get_chunk(schema, chunk, mask.clone())
                },
            )
            .await?;
        Ok(in_order(keys, found))
    }

    async fn get_chunk(
        &self,
        schema: &StoreSchema,
        keys: Vec<Key>,
        mask: Option<DocumentMask>,
    ) -> Result<Round<(Key, RawItem), Key>> {
        let mut by_name: HashMap<String, Key> = keys
            .into_iter()
            .map(|k| (self.document_name(schema, &k), k))
            .collect();
        let request = BatchGetDocumentsRequest {
            database: self.database(),
            documents: by_name.keys().cloned().collect(),
            mask,
            ..Default::default()
        };
        let what = self.collection(schema);
        let err = |s| status_error("BatchGetDocuments", &what, s);
        let mut stream = self
            .client()
            .batch_get_documents(request)
            .await
            .map_err(err)?
            .into_inner();
        let mut found = Vec::new();
        while let Some(answer) = stream.message().await.map_err(err)? {
            if let Some(batch_get_documents_response::Result::Found(doc)) = answer.result
                && let Some(key) = by_name.remove(&doc.name)
            {
                found.push((key, RawItem::from(decode_fields(doc.fields))));
            }
        }
        Ok(Round::all(found))
    }

    /// Runs one structured query; the documents in order.
    async fn run_query(
        &self,
        range: &Range,
        after: Option<&[FsValue]>,
        limit: usize,
    ) -> Result<Vec<Document>> {
        let query = range.query(after, Some(limit));
        let request = RunQueryRequest {
            parent: self.documents().to_owned(),
            query_type: Some(run_query_request::QueryType::StructuredQuery(query)),
            ..Default::default()
        };
        let what = &range.collection;
        self.backoff
            .run(true, || async {
                let err = |s| {
                    missing_index(range, &s).unwrap_or_else(|| status_error("RunQuery", what, s))
                };
                let mut stream = self
                    .client()
                    .run_query(request.clone())
                    .await
                    .map_err(err)?
                    .into_inner();
                let mut docs = Vec::new();
                while let Some(answer) = stream.message().await.map_err(err)? {
                    docs.extend(answer.document);
                }
                Ok(docs)
            })
            .await
    }

    /// Reads up to `limit` documents of `range` that `keep`, strictly after `after`,
    /// and whether more follow.
    async fn read_range(
        &self,
        range: &Range,
        mut after: Option<Vec<FsValue>>,
        limit: usize,
        keep: impl Fn(&crate::Item) -> Result<bool>,
    ) -> Result<RawPage> {
        let mut items = Vec::new();
        loop {
            // One more than the page still wants, to learn whether more follow (a
            // limit of `usize::MAX` is "all of them").
            let wanted = (limit - items.len()).saturating_add(1);
            let docs = self.run_query(range, after.as_deref(), wanted).await?;
            let ended = docs.len() < wanted;
            for doc in docs {
                let mut cursor: Vec<FsValue> = range
                    .cursor_fields
                    .iter()
                    .map(|f| doc.fields.get(f).cloned().unwrap_or_default())
                    .collect();
                cursor.push(reference(doc.name.clone()));
                after = Some(cursor);
                let item = decode_fields(doc.fields);
                if !keep(&item)? {
                    continue;
                }
                if items.len() == limit {
                    return Ok(RawPage { items, more: true });
                }
                items.push(RawItem::from(item));
            }
            if ended {
                return Ok(RawPage { items, more: false });
            }
        }
    }

    /// A query's key range: the partition key `==` and the sort condition as filters on
    /// the server, ordered by the sort key and the document name; each document is
    /// checked against the key condition again here (Firestore compares only the first
    /// 1,500 bytes of a string).
    pub(super) async fn query_range(&self, plan: &QueryPlan<'_>) -> Result<RawPage> {
        let schema = plan.schema;
        let QueryShape {
            range,
            key_condition,
            sk,
            tie_breakers,
        } = self.query_shape(plan)?;
        let after = match plan.after {
            None => None,
            Some(after) => {
                let mut values = Vec::new();
                if let Some(sk) = sk {
                    let v = after.get(&sk.name).ok_or_else(|| {
                        Error::invalid_page_token("the page token lacks the sort key")
                    })?;
                    check_queryable("the sort value of the page token", &sk.name, v)?;
                    values.push(encode_value(&sk.name, v)?);
                }
                for attr in &tie_breakers {
                    let v = after.get(&attr.name).ok_or_else(|| {
                        Error::invalid_page_token("the page token lacks a key attribute")
                    })?;
                    check_queryable("a key value of the page token", &attr.name, v)?;
                    values.push(encode_value(&attr.name, v)?);
                }
                values.push(reference(
                    self.document_name(schema, &schema.key_of(after)?),
                ));
                Some(values)
            }
        };
        let keep = |item: &crate::Item| -> Result<bool> {
            // An item whose sort value Firestore ordered by a truncation would come in
            // the wrong place: say so rather than return a wrong order.
            if let Some((sk, v)) = sk.and_then(|sk| item.get(&sk.name).map(|v| (sk, v))) {
                check_queryable("an item's sort value", &sk.name, v)?;
            }
            for attr in &tie_breakers {
                if let Some(v) = item.get(&attr.name) {
                    check_queryable("an item's key value", &attr.name, v)?;
                }
            }
            Ok(eval::matches(&key_condition, Some(item))
                && plan
                    .index
                    .is_none_or(|index| matches!(index.key_of(item), Ok(Some(_)))))
        };
        self.read_range(&range, after, plan.limit, keep).await
    }

    /// A query's count without a filter: Firestore's count aggregation over the query's
    /// key range (the documents a read of the range would give).
    pub(super) async fn count_query_range(&self, plan: &QueryPlan<'_>) -> Result<u64> {
        let shape = self.query_shape(&QueryPlan {
            projection: None,
            ..plan.clone()
        })?;
        self.count(&shape.range).await
    }

    /// A scan's count without a filter: Firestore's count aggregation of the collection.
    pub(super) async fn count_collection(&self, plan: &ScanPlan<'_>) -> Result<u64> {
        let range = Range {
            collection: self.collection(plan.schema),
            filter: None,
            order_by: Vec::new(),
            cursor_fields: Vec::new(),
            select: None,
            needs: None,
        };
        self.count(&range).await
    }

    /// The number of documents of `range`, by `RunAggregationQuery`.
    async fn count(&self, range: &Range) -> Result<u64> {
        let query = StructuredAggregationQuery {
            aggregations: vec![Aggregation {
                alias: String::from("n"),
                operator: Some(aggregation::Operator::Count(aggregation::Count {
                    up_to: None,
                })),
            }],
            query_type: Some(structured_aggregation_query::QueryType::StructuredQuery(
                range.query(None, None),
            )),
        };
        let request = RunAggregationQueryRequest {
            parent: self.documents().to_owned(),
            query_type: Some(
                run_aggregation_query_request::QueryType::StructuredAggregationQuery(query),
            ),
            ..Default::default()
        };
        let what = &range.collection;
        self.backoff
            .run(true, || async {
                let err = |s| {
                    missing_index(range, &s)
                        .unwrap_or_else(|| status_error("RunAggregationQuery", what, s))
                };
                let mut stream = self
                    .client()
                    .run_aggregation_query(request.clone())
                    .await
                    .map_err(err)?
                    .into_inner();
                let mut n = 0u64;
                while let Some(answer) = stream.message().await.map_err(err)? {
                    let counted = answer
                        .result
                        .and_then(|r| r.aggregate_fields.get("n").cloned())
                        .and_then(|v| v.value_type);
                    if let Some(ValueType::IntegerValue(c)) = counted {
                        n += u64::try_from(c).unwrap_or(0);
                    }
                }
                Ok(n)
            })
            .await
    }

    /// The range a query reads, and what each document read is checked against.
    fn query_shape<'p>(&self, plan: &QueryPlan<'p>) -> Result<QueryShape<'p>> {
        let schema = plan.schema;
        let (pk, sk) = match plan.index {
            Some(index) => (&index.partition_key, index.sort_key.as_ref()),
            None => (&schema.partition_key, schema.sort_key.as_ref()),
        };
        check_queryable("the partition value", &pk.name, plan.partition)?;
        if let (Some(sort), Some(sk)) = (plan.sort, sk) {
            for v in sort.values() {
                check_queryable("a sort condition value", &sk.name, v)?;
            }
        }
        let pk_field = field_path(&field_name(&pk.name));
        let mut filters = vec![compare(
            &pk_field,
            field_filter::Operator::Equal,
            encode_value(&pk.name, plan.partition)?,
        )];
        let mut order_by = Vec::new();
        let mut cursor_fields = Vec::new();
        let mut key_condition: Condition = Path::attr(&pk.name).eq(plan.partition.clone());
        if let Some(sk) = sk {
            let stored = field_name(&sk.name);
            let sk_field = field_path(&stored);
            if let Some(sort) = plan.sort {
                filters.extend(sort_filters(&sk.name, &sk_field, sort)?);
                key_condition = key_condition.and(sort.to_condition(Path::attr(&sk.name)));
            }
            order_by.push(order(&sk_field, plan.descending));
            cursor_fields.push(stored);
        }
        // Items that tie in an index come in the order of their table keys (the
        // contract's), which the document name does not keep (`a~..` sorts after
        // `ab~..`, `n10` before `n9`): order by the table's key fields next, each held
        // natively and ordered by Firestore as the contract orders key values. A field
        // the order already has, or the index partition key (fixed by `==`), is left out.
        // (`index::order_fields` gives them, the same the index file declares.)
        let order_fields = super::index::order_fields(schema, plan.index);
        let collection = self.collection(schema);
        let needs = super::index::shape(&collection, pk, &order_fields)
            .into_iter()
            .nth(usize::from(plan.descending));
        let tie_breakers: Vec<&KeyAttr> = order_fields
            .iter()
            .copied()
            .skip(usize::from(sk.is_some()))
            .collect();
        for attr in &tie_breakers {
            let stored = field_name(&attr.name);
            order_by.push(order(&field_path(&stored), plan.descending));
            cursor_fields.push(stored);
        }
        // With no order field, the key is the partition key alone and the query finds at
        // most one document: ascending name order serves either direction, from the
        // automatic single-field index (no composite index).
        let by_name_descending = plan.descending && !order_fields.is_empty();
        order_by.push(order("__name__", by_name_descending));
        let range = Range {
            collection,
            filter: all_of(filters),
            order_by,
            cursor_fields,
            select: select(plan.attributes_read()),
            needs,
        };
        Ok(QueryShape {
            range,
            key_condition,
            sk,
            tie_breakers,
        })
    }

    /// A scan's range: the whole collection by document name.
    pub(super) async fn scan_range(&self, plan: &ScanPlan<'_>) -> Result<RawPage> {
        let schema = plan.schema;
        let range = Range {
            collection: self.collection(schema),
            filter: None,
            order_by: vec![order("__name__", false)],
            cursor_fields: Vec::new(),
            select: select(plan.attributes_read()),
            // Scans by name use Firestore's built-in order.
            needs: None,
        };
        let after = plan
            .after
            .map(|a| -> Result<Vec<FsValue>> {
                Ok(vec![reference(
                    self.document_name(schema, &schema.key_of(a)?),
                )])
            })
            .transpose()?;
        self.read_range(&range, after, plan.limit, |_| Ok(true))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_around_a_decimal_are_the_nearest_on_each_side() {
        for text in [
            "1.0000000000000000000000000000000000001",
            "0.99999999999999999999999999999999999999",
            "-1.0000000000000000000000000000000000001",
            "0.1000000000000000000000000000000000001",
            "1.0000000000000000000000000000000000001e-130",
            "-1.0000000000000000000000000000000000001e-130",
            "9.9999999999999999999999999999999999999e125",
            "12345678901234567890123456789012345678",
        ] {
            let d: Decimal = text.parse().unwrap();
            let (below, above) = doubles_around(d);
            let n = Number::from(d);
            assert!(n.is_decimal(), "{text} is a float's shortest text");
            assert!(Number::from(below) < n && n < Number::from(above), "{text}");
            assert_eq!(below.next_up(), above, "{text}: nothing between them");
        }
    }

    #[test]
    fn successors_bound_every_string_with_the_prefix() {
        assert_eq!(string_successor("ab").as_deref(), Some("ac"));
        assert_eq!(string_successor("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(string_successor("\u{10FFFF}"), None);
        // Surrogates are skipped.
        assert_eq!(string_successor("\u{D7FF}").as_deref(), Some("\u{E000}"));
        let bound = string_successor("p").unwrap();
        assert!("p\u{10FFFF}\u{10FFFF}".as_bytes() < bound.as_bytes());
        assert_eq!(bytes_successor(&[1, 255]), Some(vec![2]));
        assert_eq!(bytes_successor(&[255]), None);
    }
}
