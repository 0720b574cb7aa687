//! Reads: GetItem, and Query / Scan filled to exact page sizes.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

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
        (wanted * 4).clamp(25, 1000)
    } else {
        (wanted + 1).min(1000)
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

impl DynamoDbBackend {
    /// GetItem, strongly consistent, as DynamoDB answered it.
    pub(crate) async fn get_raw(
        &self,
        schema: &StoreSchema,
        key: &Key,
    ) -> Result<Option<HashMap<String, AttributeValue>>> {
        let table = self.table_name(&schema.name);
        let key = key_attrs(schema, key)?;
        let out = self
            .backoff
            .run(true, || async {
                self.client
                    .get_item()
                    .table_name(&table)
                    .set_key(Some(key.clone()))
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

    pub(crate) async fn query_page(&self, plan: &QueryPlan<'_>) -> Result<RawPage> {
        let schema = plan.schema;
        let table = self.table_name(&schema.name);
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
        if matches!(filter, Filter::Nothing) {
            return Ok(RawPage::default());
        }
        let filtered = matches!(filter, Filter::Native(_)) || local_filter.is_some();
        let filter_expression = match filter {
            Filter::Native(e) => Some(e),
            _ => None,
        };
        let start = plan.after.map(item_to_attrs).transpose()?;
        let (names, values) = expr.into_maps();
        fill_page(
            plan.limit,
            local_filter,
            |position: Option<Position>, wanted| {
                let exclusive_start = position.or_else(|| start.clone());
                let (table, key_condition, filter_expression, names, values) =
                    (&table, &key_condition, &filter_expression, &names, &values);
                async move {
                    let out = self
                        .backoff
                        .run(true, || async {
                            self.client
                                .query()
                                .table_name(table)
                                .set_index_name(plan.index.map(|i| i.name.clone()))
                                .key_condition_expression(key_condition)
                                .set_filter_expression(filter_expression.clone())
                                .set_expression_attribute_names(names.clone())
                                .set_expression_attribute_values(values.clone())
                                .set_exclusive_start_key(exclusive_start.clone())
                                .scan_index_forward(!plan.descending)
                                .consistent_read(plan.consistent)
                                .limit(read_limit(wanted, filtered))
                                .send()
                                .await
                                .map_err(|e| sdk_error("Query", table, e))
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

    pub(crate) async fn scan_page(&self, plan: &ScanPlan<'_>) -> Result<RawPage> {
        let table = self.table_name(&plan.schema.name);
        let mut expr = Expr::default();
        let filter = filter(&mut expr, plan.filter)?;
        if matches!(filter, Filter::Nothing) {
            return Ok(RawPage::default());
        }
        let filtered = matches!(filter, Filter::Native(_));
        let filter_expression = match filter {
            Filter::Native(e) => Some(e),
            _ => None,
        };
        let start = plan.after.map(item_to_attrs).transpose()?;
        let (names, values) = expr.into_maps();
        fill_page(plan.limit, None, |position: Option<Position>, wanted| {
            let exclusive_start = position.or_else(|| start.clone());
            let (table, filter_expression, names, values) =
                (&table, &filter_expression, &names, &values);
            async move {
                let out = self
                    .backoff
                    .run(true, || async {
                        self.client
                            .scan()
                            .table_name(table)
                            .set_filter_expression(filter_expression.clone())
                            .set_expression_attribute_names(names.clone())
                            .set_expression_attribute_values(values.clone())
                            .set_exclusive_start_key(exclusive_start.clone())
                            .consistent_read(true)
                            .limit(read_limit(wanted, filtered))
                            .send()
                            .await
                            .map_err(|e| sdk_error("Scan", table, e))
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
