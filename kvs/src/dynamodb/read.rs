//! Reads: GetItem, and Query / Scan filled to exact page sizes.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Select};

use super::DynamoDbBackend;
use super::convert::{into_item, item_to_attrs, key_attrs};
use super::error::sdk_error;
use super::expr::{Cond, Expr};
use crate::backend::{Chunk, QueryPlan, RawItem, RawPage, ScanPlan, fill_page};
use crate::{Condition, Item, Key, Result, StoreSchema};

type Position = HashMap<String, AttributeValue>;

/// How many items to ask DynamoDB for when `wanted` should pass the filter: all of
/// them, plus one to learn whether more follow, when nothing is filtered; more when a
/// filter may drop some (DynamoDB's `Limit` counts items read, not returned).
fn read_limit(wanted: usize, filtered: bool) -> i32 {
    let n = if filtered {
        wanted.saturating_mul(4).clamp(25, 1000)
    } else {
        wanted.saturating_add(1).min(1000)
    };
    n as i32
}

/// A filter for DynamoDB: an expression, or nothing to filter, or "matches nothing".
enum Filter {
    None,
    Native(String),
    Nothing,
}

fn filter(expr: &mut Expr, condition: Option<&Condition>) -> Result<Filter> {
    let Some(c) = condition else {
        return Ok(Filter::None);
    };
    Ok(match expr.cond(c)? {
        Cond::True => Filter::None,
        Cond::False => Filter::Nothing,
        Cond::Expr(e) => {
            Expr::check(&e, "filter expression")?;
            Filter::Native(e)
        }
    })
}

/// The items of an answer, decoded later into what the caller asks for.
fn raw_items(items: Option<Vec<HashMap<String, AttributeValue>>>) -> Vec<RawItem> {
    items
        .unwrap_or_default()
        .into_iter()
        .map(RawItem::dynamodb)
        .collect()
}

/// A `ProjectionExpression` of the attributes a read must hold, if the plan projects.
pub(crate) fn projection(expr: &mut Expr, attributes: Option<Vec<&str>>) -> Option<String> {
    let attributes = attributes?;
    let mut out = String::new();
    for (i, name) in attributes.into_iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        expr.name(&mut out, name);
    }
    Some(out)
}

/// What a Query or Scan request is made of, built once for every request of a page or
/// a count.
struct Parts<'p> {
    table: String,
    key_condition: Option<String>,
    filter_expression: Option<String>,
    /// A filter DynamoDB cannot evaluate on this read, evaluated after reading.
    local_filter: Option<&'p Condition>,
    projection: Option<String>,
    names: Option<HashMap<String, String>>,
    values: Option<HashMap<String, AttributeValue>>,
}

impl<'p> Parts<'p> {
    /// The parts; `None` where the filter matches nothing.
    fn new(
        table: String,
        key_condition: Option<String>,
        filter: Filter,
        local_filter: Option<&'p Condition>,
        projection: Option<String>,
        expr: Expr,
    ) -> Result<Option<Self>> {
        let filter_expression = match filter {
            Filter::Nothing => return Ok(None),
            Filter::None => None,
            Filter::Native(e) => Some(e),
        };
        let (names, values) = expr.into_maps();
        Ok(Some(Parts {
            table,
            key_condition,
            filter_expression,
            local_filter,
            projection,
            names,
            values,
        }))
    }

    fn query(
        &self,
        client: &aws_sdk_dynamodb::Client,
        plan: &QueryPlan<'_>,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        client
            .query()
            .table_name(&self.table)
            .set_index_name(plan.index.map(|i| i.name.clone()))
            .set_key_condition_expression(self.key_condition.clone())
            .set_filter_expression(self.filter_expression.clone())
            .set_projection_expression(self.projection.clone())
            .set_expression_attribute_names(self.names.clone())
            .set_expression_attribute_values(self.values.clone())
            .scan_index_forward(!plan.descending)
            .consistent_read(plan.consistent)
    }

    fn scan(
        &self,
        client: &aws_sdk_dynamodb::Client,
    ) -> aws_sdk_dynamodb::operation::scan::builders::ScanFluentBuilder {
        client
            .scan()
            .table_name(&self.table)
            .set_filter_expression(self.filter_expression.clone())
            .set_projection_expression(self.projection.clone())
            .set_expression_attribute_names(self.names.clone())
            .set_expression_attribute_values(self.values.clone())
            .consistent_read(true)
    }
}

impl DynamoDbBackend {
    /// GetItem, strongly consistent, as DynamoDB answered it.
    pub(crate) async fn get_raw(
        &self,
        schema: &StoreSchema,
        key: &Key,
    ) -> Result<Option<HashMap<String, AttributeValue>>> {
        self.get_projected_raw(schema, key, None).await
    }

    /// GetItem, strongly consistent, of only `attributes` (all with `None`), as DynamoDB
    /// answered it.
    pub(crate) async fn get_projected_raw(
        &self,
        schema: &StoreSchema,
        key: &Key,
        attributes: Option<&[&str]>,
    ) -> Result<Option<HashMap<String, AttributeValue>>> {
        let table = self.table_name(&schema.name);
        let key = key_attrs(schema, key)?;
        let mut expr = Expr::default();
        let projection = projection(&mut expr, attributes.map(<[&str]>::to_vec));
        let (names, _) = expr.into_maps();
        let out = self
            .backoff
            .run(true, || async {
                self.client
                    .get_item()
                    .table_name(&table)
                    .set_key(Some(key.clone()))
                    .set_projection_expression(projection.clone())
                    .set_expression_attribute_names(names.clone())
                    .consistent_read(true)
                    .send()
                    .await
                    .map_err(|e| sdk_error("GetItem", &table, e))
            })
            .await?;
        Ok(out.item)
    }

    /// GetItem, strongly consistent, as an item.
    pub(crate) async fn get_item(&self, schema: &StoreSchema, key: &Key) -> Result<Option<Item>> {
        self.get_raw(schema, key).await?.map(into_item).transpose()
    }

    /// The parts of a Query request for `plan`; `None` where the filter matches nothing.
    fn query_parts<'p>(&self, plan: &QueryPlan<'p>) -> Result<Option<Parts<'p>>> {
        let schema = plan.schema;
        let (pk, sk) = match plan.index {
            Some(i) => (&i.partition_key, i.sort_key.as_ref()),
            None => (&schema.partition_key, schema.sort_key.as_ref()),
        };
        let mut expr = Expr::default();
        let key_condition = expr.key_condition(
            &pk.name,
            plan.partition,
            sk.map(|s| s.name.as_str()),
            plan.sort,
        )?;
        // DynamoDB refuses a query filter on the key attributes of what it reads: such a
        // filter is evaluated here, after reading, by the shared evaluator.
        let on_keys = plan.filter.is_some_and(|f| {
            f.paths()
                .iter()
                .any(|p| p.root() == pk.name || sk.is_some_and(|s| p.root() == s.name))
        });
        let local_filter = if on_keys { plan.filter } else { None };
        let filter = filter(&mut expr, if on_keys { None } else { plan.filter })?;
        let projection = projection(&mut expr, plan.attributes_read());
        Parts::new(
            self.table_name(&schema.name),
            Some(key_condition),
            filter,
            local_filter,
            projection,
            expr,
        )
    }

    pub(crate) async fn query_page(&self, plan: &QueryPlan<'_>) -> Result<RawPage> {
        let Some(parts) = self.query_parts(plan)? else {
            return Ok(RawPage::default());
        };
        let start = plan.after.map(item_to_attrs).transpose()?;
        let filtered = parts.filter_expression.is_some() || parts.local_filter.is_some();
        fill_page(
            plan.limit,
            parts.local_filter,
            |position: Option<Position>, wanted| {
                let exclusive_start = position.or_else(|| start.clone());
                let parts = &parts;
                async move {
                    let out = self
                        .backoff
                        .run(true, || async {
                            parts
                                .query(&self.client, plan)
                                .set_exclusive_start_key(exclusive_start.clone())
                                .limit(read_limit(wanted, filtered))
                                .send()
                                .await
                                .map_err(|e| sdk_error("Query", &parts.table, e))
                        })
                        .await?;
                    Ok(Chunk {
                        items: raw_items(out.items),
                        next: out.last_evaluated_key,
                    })
                }
            },
        )
        .await
    }

    /// A query's count: `Select=COUNT` page after page, where DynamoDB evaluates the
    /// whole filter; otherwise the kit reads the keys (and what the filter reads) and
    /// counts what passes.
    pub(crate) async fn count_query_items(&self, plan: &QueryPlan<'_>) -> Result<u64> {
        // A count sends no projection (`Select=COUNT` takes none).
        let whole = QueryPlan {
            projection: None,
            ..plan.clone()
        };
        let Some(parts) = self.query_parts(&whole)? else {
            return Ok(0);
        };
        if parts.local_filter.is_some() {
            return crate::backend::emulate::count::query(self, plan).await;
        }
        self.count_pages(|start| async {
            let out = parts
                .query(&self.client, plan)
                .select(Select::Count)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk_error("Query", &parts.table, e))?;
            Ok((out.count, out.last_evaluated_key))
        })
        .await
    }

    /// A scan's count: `Select=COUNT` page after page (DynamoDB evaluates every scan
    /// filter).
    pub(crate) async fn count_scan_items(&self, plan: &ScanPlan<'_>) -> Result<u64> {
        let whole = ScanPlan {
            projection: None,
            ..plan.clone()
        };
        let Some(parts) = self.scan_parts(&whole)? else {
            return Ok(0);
        };
        self.count_pages(|start| async {
            let out = parts
                .scan(&self.client)
                .select(Select::Count)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk_error("Scan", &parts.table, e))?;
            Ok((out.count, out.last_evaluated_key))
        })
        .await
    }

    /// Adds up the counts of the pages `page` reads (from each page's end), retrying each
    /// page as reads are.
    async fn count_pages<F, Fut>(&self, page: F) -> Result<u64>
    where
        F: Fn(Option<Position>) -> Fut,
        Fut: std::future::Future<Output = Result<(i32, Option<Position>)>>,
    {
        let mut start: Option<Position> = None;
        let mut n = 0u64;
        loop {
            let (count, next) = self.backoff.run(true, || page(start.clone())).await?;
            n += u64::try_from(count).unwrap_or(0);
            match next {
                Some(next) => start = Some(next),
                None => return Ok(n),
            }
        }
    }

    /// The parts of a Scan request for `plan`; `None` where the filter matches nothing.
    fn scan_parts<'p>(&self, plan: &ScanPlan<'p>) -> Result<Option<Parts<'p>>> {
        let mut expr = Expr::default();
        let filter = filter(&mut expr, plan.filter)?;
        let projection = projection(&mut expr, plan.attributes_read());
        Parts::new(
            self.table_name(&plan.schema.name),
            None,
            filter,
            None,
            projection,
            expr,
        )
    }

    pub(crate) async fn scan_page(&self, plan: &ScanPlan<'_>) -> Result<RawPage> {
        let Some(parts) = self.scan_parts(plan)? else {
            return Ok(RawPage::default());
        };
        let start = plan.after.map(item_to_attrs).transpose()?;
        let filtered = parts.filter_expression.is_some();
        fill_page(plan.limit, None, |position: Option<Position>, wanted| {
            let exclusive_start = position.or_else(|| start.clone());
            let parts = &parts;
            async move {
                let out = self
                    .backoff
                    .run(true, || async {
                        parts
                            .scan(&self.client)
                            .set_exclusive_start_key(exclusive_start.clone())
                            .limit(read_limit(wanted, filtered))
                            .send()
                            .await
                            .map_err(|e| sdk_error("Scan", &parts.table, e))
                    })
                    .await?;
                Ok(Chunk {
                    items: raw_items(out.items),
                    next: out.last_evaluated_key,
                })
            }
        })
        .await
    }
}
