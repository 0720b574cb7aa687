//! Writes: PutItem, UpdateItem, DeleteItem and TransactWriteItems, with the conditions
//! that make them keep the contract, and the emulation of what DynamoDB cannot do.
//!
//! Every condition kvs adds is built as a [`Condition`] and translated like the user's,
//! so that when DynamoDB says "a condition failed" the write can be decided again by
//! the shared evaluator on the old item DynamoDB returns, which tells `NotFound`,
//! `AlreadyExists`, `ConditionFailed` and an overflow (`Validation`) apart; where every
//! rule holds, another writer changed the item in between: a conflict, retried by the
//! kit's [`retry_conflicts`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, ReturnValue, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};

use super::DynamoDbBackend;
use super::convert::{attrs_to_item, item_to_attrs, key_attrs, to_attr};
use super::error::sdk_error;
use super::expr::Expr;
use crate::backend::emulate::{outcome, reasons_by_reading, retry_conflicts};
use crate::backend::{PlannedOp, RawItem, WritePlan, Written};
use crate::expr::{CompareOp, Condition, Path, Segment};
use crate::{
    Error, ErrorKind, Item, PutMode, Result, StoreSchema, UpdateOp, Value, ValueType, eval,
};

type Attrs = HashMap<String, AttributeValue>;

/// The conditions of one write, by role, to be checked together by DynamoDB and, after a
/// failure, one by one against the old item.
#[derive(Default)]
struct Guards<'a> {
    /// The item must exist (updates) or must not (inserts).
    existence: Option<Condition>,
    /// The user's condition.
    user: Option<&'a Condition>,
    /// The values emulated ops read are unchanged.
    unchanged: Vec<Condition>,
    /// ADDs of integers stay in the i64 range.
    in_range: Vec<Condition>,
}

/// How a write DynamoDB refused for a failed condition came out, judged on the item it
/// found: the contract's own answer if the shared evaluator refuses the write on that
/// item (the existence guard, the user's condition and the i64 range are all rules of
/// [`eval::decide`]), else a conflict: a value an emulated op read changed, or the item
/// changed between the check and the answer.
fn classify(write: &WritePlan<'_>, old: Option<&Item>) -> Error {
    match eval::decide(write.schema, &write.key, &write.op, write.condition, old) {
        Err(e) => e,
        Ok(_) => outcome::conflict(&write.describe()),
    }
}

impl Guards<'_> {
    /// Every guard, to be sent as one conjunction.
    fn parts(&self) -> impl Iterator<Item = &Condition> + Clone {
        self.existence
            .iter()
            .chain(self.user)
            .chain(&self.unchanged)
            .chain(&self.in_range)
    }
}

/// Whether DynamoDB cannot do an op natively, so that kvs reads the value, computes the
/// new one with the shared evaluator, and writes it under a condition that it did not
/// change: DELETE (of set or list elements: only the item says which), ADD of a float
/// (DynamoDB's decimal sum could need rounding to read back), ADD of a set to a nested
/// path (DynamoDB's ADD is top-level only), ADD of an empty set, REMOVE of a nested
/// path (DynamoDB refuses one whose parent is missing, where the contract removes
/// nothing).
fn emulated(op: &UpdateOp) -> bool {
    match op {
        UpdateOp::Delete { .. } => true,
        UpdateOp::Remove { path } => !path.is_top_level(),
        // DynamoDB refuses an empty set as an operand; the shared evaluator says what
        // adding nothing does (nothing, or `Validation` on a value of another type).
        UpdateOp::Add { value, .. } if value.is_empty_set() => true,
        UpdateOp::Add {
            value: Value::Number(n),
            ..
        } => !n.is_integer(),
        UpdateOp::Add { path, .. } => !path.is_top_level(),
        _ => false,
    }
}

/// The outermost place on `path` that `item` lacks, where a REMOVE of it is a valid
/// no-op: a top-level attribute, a key of a map, a position of a list. `None` where it
/// would be under a value of another type (a key of a string), or nothing is missing.
fn missing_place(path: &Path, item: &Item) -> Option<Path> {
    let segments = path.segments();
    for n in 1..=segments.len() {
        let place = Path::from_segments(segments[..n].to_vec()).ok()?;
        if place.resolve(item).is_some() {
            continue;
        }
        let removable = match place.parent() {
            None => true,
            Some(parent) => matches!(
                (parent.resolve(item), place.last()),
                (Some(Value::Map(_)), Segment::Attr(_)) | (Some(Value::List(_)), Segment::Index(_))
            ),
        };
        return removable.then_some(place);
    }
    None
}

/// The i64 bound an ADD of `n` must stay within.
fn overflow_guard(path: &Path, n: i64) -> Option<Condition> {
    // A number already beyond the i64 range (a float or a decimal) is not an integer
    // that could overflow: DynamoDB adds to it exactly, as the shared evaluator does.
    let (op, limit, beyond, end) = match n {
        0 => return None,
        n if n > 0 => (CompareOp::Le, i64::MAX - n, CompareOp::Gt, i64::MAX),
        n => (CompareOp::Ge, i64::MIN - n, CompareOp::Lt, i64::MIN),
    };
    // A value of another type must not reach the comparison: DynamoDB finds it false,
    // but moto answers HTTP 500 to a comparison across types. DynamoDB refuses that ADD
    // by itself.
    Some(Condition::Or(vec![
        Condition::NotExists(path.clone()),
        Condition::Not(Box::new(Condition::TypeOf {
            path: path.clone(),
            ty: ValueType::Number,
        })),
        Condition::Compare {
            path: path.clone(),
            op,
            value: Value::from(limit),
        },
        Condition::Compare {
            path: path.clone(),
            op: beyond,
            value: Value::from(end),
        },
    ]))
}

/// An update as an update expression and its guards. `current` is the item as read, when
/// some op is emulated.
fn update_expression(
    expr: &mut Expr,
    ops: &[UpdateOp],
    current: Option<&Item>,
    guards: &mut Guards<'_>,
) -> Result<String> {
    // One buffer per clause; each action is written straight into its clause.
    let (mut set, mut remove, mut add) = (String::new(), String::new(), String::new());
    let next = |clause: &mut String| {
        if !clause.is_empty() {
            clause.push_str(", ");
        }
    };
    for op in ops {
        let path = op.path();
        if emulated(op) {
            let current = current.expect("emulated ops are planned on the item read");
            let old = path.resolve(current).cloned();
            let old_missing = old.is_none();
            let new = eval::apply(current, std::slice::from_ref(op))?;
            guards.unchanged.push(match old {
                Some(v) => Condition::Compare {
                    path: path.clone(),
                    op: CompareOp::Eq,
                    value: v,
                },
                None => Condition::NotExists(path.clone()),
            });
            if matches!(op, UpdateOp::Remove { .. }) {
                // A REMOVE names a place in the item as it was (later list positions
                // shift into it in the new item, so the new item cannot say what to do):
                // where it exists, DynamoDB removes it as asked.
                let place = if old_missing {
                    missing_place(path, current)
                } else {
                    Some(path.clone())
                };
                if let Some(place) = place {
                    next(&mut remove);
                    expr.path(&mut remove, &place);
                    if old_missing {
                        guards.unchanged.push(Condition::NotExists(place));
                    }
                }
                continue;
            }
            match path.resolve(&new) {
                Some(v) => {
                    next(&mut set);
                    expr.path(&mut set, path);
                    set.push_str(" = ");
                    expr.value(&mut set, v, path)?;
                }
                // Missing before and after (a DELETE from a missing attribute): DynamoDB
                // refuses a REMOVE of a path whose parent is missing, so remove the
                // outermost missing place instead, a no-op, kept missing by its guard.
                None if old_missing => {
                    if let Some(place) = missing_place(path, current) {
                        next(&mut remove);
                        expr.path(&mut remove, &place);
                        guards.unchanged.push(Condition::NotExists(place));
                    }
                }
                None => {
                    next(&mut remove);
                    expr.path(&mut remove, path);
                }
            }
            continue;
        }
        match op {
            UpdateOp::Set { value, .. } => {
                next(&mut set);
                expr.path(&mut set, path);
                set.push_str(" = ");
                expr.value(&mut set, value, path)?;
            }
            UpdateOp::Remove { .. } => {
                next(&mut remove);
                expr.path(&mut remove, path);
            }
            UpdateOp::Add { value, .. } => {
                if let Some(n) = value.as_i64() {
                    match current.and_then(|c| path.resolve(c)) {
                        // Read, and a number that is no integer (a float or a decimal):
                        // there is no integer to overflow, the sum is exact. The range
                        // guard would refuse it near the i64 bounds, so guard instead
                        // that the value is still the one read.
                        Some(old @ Value::Number(v)) if !v.is_integer() => {
                            guards.unchanged.push(Condition::Compare {
                                path: path.clone(),
                                op: CompareOp::Eq,
                                value: old.clone(),
                            });
                        }
                        _ => guards.in_range.extend(overflow_guard(path, n)),
                    }
                }
                if path.is_top_level() {
                    next(&mut add);
                    expr.path(&mut add, path);
                    add.push(' ');
                    expr.value(&mut add, value, path)?;
                } else {
                    // DynamoDB's ADD is for top-level attributes only.
                    next(&mut set);
                    expr.path(&mut set, path);
                    set.push_str(" = if_not_exists(");
                    expr.path(&mut set, path);
                    set.push_str(", ");
                    expr.raw(&mut set, AttributeValue::N("0".into()));
                    set.push_str(") + ");
                    expr.value(&mut set, value, path)?;
                }
            }
            UpdateOp::Append { values, .. } | UpdateOp::Prepend { values, .. } => {
                let list = AttributeValue::L(
                    values
                        .iter()
                        .map(|v| to_attr(v, path))
                        .collect::<Result<_>>()?,
                );
                next(&mut set);
                expr.path(&mut set, path);
                set.push_str(" = list_append(");
                let existing = |expr: &mut Expr, set: &mut String| {
                    set.push_str("if_not_exists(");
                    expr.path(set, path);
                    set.push_str(", ");
                    expr.raw(set, AttributeValue::L(Vec::new()));
                    set.push(')');
                };
                if matches!(op, UpdateOp::Append { .. }) {
                    existing(expr, &mut set);
                    set.push_str(", ");
                    expr.raw(&mut set, list);
                } else {
                    expr.raw(&mut set, list);
                    set.push_str(", ");
                    existing(expr, &mut set);
                }
                set.push(')');
            }
            UpdateOp::Delete { .. } => unreachable!("DELETE is always emulated"),
        }
    }
    let mut expression = String::with_capacity(set.len() + remove.len() + add.len() + 20);
    for (keyword, clause) in [("SET ", set), ("REMOVE ", remove), ("ADD ", add)] {
        if !clause.is_empty() {
            if !expression.is_empty() {
                expression.push(' ');
            }
            expression.push_str(keyword);
            expression.push_str(&clause);
        }
    }
    Expr::check(&expression, "update expression")?;
    Ok(expression)
}

/// The condition expression of a write. In a store whose items expire, an expired item
/// must meet the guards as a missing one does (see [`expiring`]).
fn condition_expression(
    expr: &mut Expr,
    guards: &Guards<'_>,
    schema: &StoreSchema,
) -> Result<Option<String>> {
    match schema.unexpired() {
        None => expr.condition(guards.parts()),
        Some(live) => {
            let parts = expiring(guards, live);
            expr.condition(parts.iter())
        }
    }
}

/// The guards of a write in a store whose items expire, each made to treat an expired
/// item as missing: a guard a missing item meets (`attribute_not_exists` of an insert,
/// a user's condition true of nothing) is met by an expired item too (`OR expired`);
/// one a missing item fails (the existence of an update, any other user condition) is
/// failed by an expired item too (`AND NOT expired`). The guards on values read are
/// only reached on an item that is there.
fn expiring(guards: &Guards<'_>, live: Condition) -> Vec<Condition> {
    let expired = !live.clone();
    let as_missing = |c: &Condition| {
        if eval::matches(c, None) {
            c.clone().or(expired.clone())
        } else {
            c.clone().and(live.clone())
        }
    };
    guards
        .existence
        .iter()
        .chain(guards.user)
        .map(as_missing)
        .chain(guards.unchanged.iter().cloned())
        .chain(guards.in_range.iter().cloned())
        .collect()
}

/// Asks for the old item with a failed condition (to say which guard failed), where
/// there is a condition: an unconditional write never fails one, and sends less.
fn on_condition_failure(condition: Option<&str>) -> Option<ReturnValuesOnConditionCheckFailure> {
    condition.map(|_| ReturnValuesOnConditionCheckFailure::AllOld)
}

fn exists(schema: &StoreSchema) -> Condition {
    Condition::Exists(Path::attr(schema.partition_key.name.clone()))
}

impl DynamoDbBackend {
    // Each attempt builds its request afresh from the borrowed input, rather than
    // building it once and cloning it for every attempt: a retry is rare, and this way
    // the common case moves everything into the request and copies nothing.

    /// The old item of a failed condition, to decide the write on: as DynamoDB returned
    /// it, or, where a server returned none, as it is now (a missing item and a server
    /// that does not return old items look alike; reading tells them apart).
    async fn old_item(&self, write: &WritePlan<'_>, attrs: Option<&Attrs>) -> Result<Option<Item>> {
        match attrs {
            Some(attrs) => attrs_to_item(attrs).map(Some),
            None => self.get_item(write.schema, &write.key).await,
        }
    }

    /// A put, an update or a delete.
    pub(crate) async fn write_item(&self, write: &WritePlan<'_>) -> Result<Written> {
        match &write.op {
            PlannedOp::Put { item, mode } => {
                self.put_item(write, item, *mode).await?;
                Ok(Written::default())
            }
            PlannedOp::Update { ops } => Ok(Written {
                new: Some(self.update_item(write, ops).await?),
                old: None,
            }),
            PlannedOp::Delete => Ok(Written {
                old: self.delete_item(write).await?.map(RawItem::dynamodb),
                new: None,
            }),
            PlannedOp::Check => Err(Error::validation(
                "a condition check writes nothing: it belongs in a transaction",
            )),
        }
    }

    async fn put_item(&self, write: &WritePlan<'_>, item: &Item, mode: PutMode) -> Result<()> {
        let table = self.table_name(&write.schema.name);
        let guards = Guards {
            existence: (mode == PutMode::Insert).then(|| !exists(write.schema)),
            user: write.condition,
            ..Guards::default()
        };
        // Writing the same whole item twice is harmless unless a condition could see
        // the first write.
        let idempotent = guards.existence.is_none() && guards.user.is_none();
        retry_conflicts(&self.conflicts, || {
            self.backoff.run(idempotent, || async {
                let mut expr = Expr::default();
                let condition_expression = condition_expression(&mut expr, &guards, write.schema)?;
                let (names, values) = expr.into_maps();
                let on_fail = on_condition_failure(condition_expression.as_deref());
                let result = self
                    .client
                    .put_item()
                    .table_name(&table)
                    .set_item(Some(item_to_attrs(item)?))
                    .set_condition_expression(condition_expression)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .set_return_values_on_condition_check_failure(on_fail)
                    .send()
                    .await;
                match result {
                    Ok(_) => Ok(()),
                    Err(SdkError::ServiceError(se))
                        if matches!(se.err(), PutItemError::ConditionalCheckFailedException(_)) =>
                    {
                        let PutItemError::ConditionalCheckFailedException(ccf) = se.err() else {
                            unreachable!()
                        };
                        let old = self.old_item(write, ccf.item.as_ref()).await?;
                        Err(classify(write, old.as_ref()))
                    }
                    Err(e) => Err(sdk_error("PutItem", &table, e)),
                }
            })
        })
        .await
    }

    /// An update: native where DynamoDB can do every op; else the item is read, the
    /// emulated ops computed by the shared evaluator and written under the condition
    /// that the values they read did not change, and a lost race tried again.
    async fn update_item(&self, write: &WritePlan<'_>, ops: &[UpdateOp]) -> Result<RawItem> {
        // A conditional update is not sent again after an ambiguous failure either, as
        // a put or delete is not: applied, its condition may fail on what it wrote and
        // report `ConditionFailed` for a write that was made.
        let idempotent = write.condition.is_none() && ops.iter().all(UpdateOp::is_idempotent);
        // Read first where an op is emulated; and after a conflict, since a native ADD's
        // i64 range guard also fails on a number that is no integer but lies near the
        // bounds, which only the value read tells apart (then guarded as unchanged).
        let read = AtomicBool::new(ops.iter().any(emulated));
        retry_conflicts(&self.conflicts, || async {
            let current = if read.load(Ordering::Relaxed) {
                match self.get_item(write.schema, &write.key).await? {
                    Some(item) => {
                        // Decided on the item read, in the shared evaluator's order: a
                        // false condition is `ConditionFailed` even where an op would
                        // be `Validation` on this item. Failing changes nothing, so
                        // failing as of the read is as if no write came after it.
                        eval::decide(
                            write.schema,
                            &write.key,
                            &PlannedOp::Update { ops },
                            write.condition,
                            Some(&item),
                        )?;
                        Some(item)
                    }
                    None => return Err(outcome::not_found_for_update(&write.describe())),
                }
            } else {
                None
            };
            let result = self
                .update_once(write, ops, current.as_ref(), idempotent)
                .await;
            if matches!(&result, Err(e) if e.is(&ErrorKind::Conflict)) {
                read.store(true, Ordering::Relaxed);
            }
            result
        })
        .await
    }

    async fn update_once(
        &self,
        write: &WritePlan<'_>,
        ops: &[UpdateOp],
        current: Option<&Item>,
        idempotent: bool,
    ) -> Result<RawItem> {
        let (schema, key) = (write.schema, &write.key);
        let table = self.table_name(&schema.name);
        self.backoff
            .run(idempotent, || async {
                let mut guards = Guards {
                    existence: Some(exists(schema)),
                    user: write.condition,
                    ..Guards::default()
                };
                let mut expr = Expr::default();
                let update = update_expression(&mut expr, ops, current, &mut guards)?;
                let condition_expression = condition_expression(&mut expr, &guards, write.schema)?;
                let (names, values) = expr.into_maps();
                let result = self
                    .client
                    .update_item()
                    .table_name(&table)
                    .set_key(Some(key_attrs(schema, key)?))
                    // Empty where every op is a no-op on the item read: DynamoDB refuses
                    // an empty expression, and updates nothing without one.
                    .set_update_expression((!update.is_empty()).then_some(update))
                    .set_condition_expression(condition_expression)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .return_values(ReturnValue::AllNew)
                    .return_values_on_condition_check_failure(
                        ReturnValuesOnConditionCheckFailure::AllOld,
                    )
                    .send()
                    .await;
                match result {
                    Ok(out) => out.attributes.map(RawItem::dynamodb).ok_or_else(|| {
                        Error::new(ErrorKind::Backend, "DynamoDB UpdateItem returned no item")
                    }),
                    Err(SdkError::ServiceError(se))
                        if matches!(
                            se.err(),
                            UpdateItemError::ConditionalCheckFailedException(_)
                        ) =>
                    {
                        let UpdateItemError::ConditionalCheckFailedException(ccf) = se.err() else {
                            unreachable!()
                        };
                        let old = self.old_item(write, ccf.item.as_ref()).await?;
                        Err(classify(write, old.as_ref()))
                    }
                    Err(e) => Err(sdk_error("UpdateItem", &table, e)),
                }
            })
            .await
    }

    /// A delete; the old item as DynamoDB returned it.
    async fn delete_item(&self, write: &WritePlan<'_>) -> Result<Option<Attrs>> {
        let (schema, key) = (write.schema, &write.key);
        let table = self.table_name(&schema.name);
        let guards = Guards {
            user: write.condition,
            ..Guards::default()
        };
        retry_conflicts(&self.conflicts, || {
            // Never sent again after an ambiguous failure: a delete answers with the item
            // it removed, and a resend after one that was applied would find none and
            // answer that there was no item.
            self.backoff.run(false, || async {
                let mut expr = Expr::default();
                let condition_expression = condition_expression(&mut expr, &guards, write.schema)?;
                let (names, values) = expr.into_maps();
                let on_fail = on_condition_failure(condition_expression.as_deref());
                let result = self
                    .client
                    .delete_item()
                    .table_name(&table)
                    .set_key(Some(key_attrs(schema, key)?))
                    .set_condition_expression(condition_expression)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .return_values(ReturnValue::AllOld)
                    .set_return_values_on_condition_check_failure(on_fail)
                    .send()
                    .await;
                match result {
                    Ok(out) => Ok(out.attributes),
                    Err(SdkError::ServiceError(se))
                        if matches!(
                            se.err(),
                            DeleteItemError::ConditionalCheckFailedException(_)
                        ) =>
                    {
                        let DeleteItemError::ConditionalCheckFailedException(ccf) = se.err() else {
                            unreachable!()
                        };
                        let old = self.old_item(write, ccf.item.as_ref()).await?;
                        Err(classify(write, old.as_ref()))
                    }
                    Err(e) => Err(sdk_error("DeleteItem", &table, e)),
                }
            })
        })
        .await
    }

    /// A transaction: `TransactWriteItems`, tried again (with new reads for emulated
    /// ops) when it loses a race.
    pub(crate) async fn transact_writes(&self, writes: &[WritePlan<'_>]) -> Result<()> {
        // After a conflict every update reads its item first (see `update_item`).
        let read = AtomicBool::new(false);
        retry_conflicts(&self.conflicts, || async {
            let result = self
                .transact_once(writes, read.load(Ordering::Relaxed))
                .await;
            if matches!(&result, Err(e) if e.is(&ErrorKind::Conflict)) {
                read.store(true, Ordering::Relaxed);
            }
            result
        })
        .await
    }

    /// One attempt: the writes built (updates with emulated ops, or with `read` every
    /// update, read their items), then sent until DynamoDB answers for them; a lost race
    /// is `Conflict`.
    async fn transact_once(&self, writes: &[WritePlan<'_>], read: bool) -> Result<()> {
        let mut items = Vec::with_capacity(writes.len());
        for w in writes {
            match self.transact_item(w, read).await {
                Ok(item) => items.push(item),
                // An emulated op that cannot be done on the item read (the shared
                // evaluator's `Validation`): that write's reason, as if DynamoDB had
                // canceled the transaction.
                Err(e) if e.is(&ErrorKind::Validation) => {
                    return Err(match reasons_by_reading(self, writes).await? {
                        Some(reasons) => Error::transaction_canceled(
                            reasons,
                            format!("the transaction was refused: {}", e.message()),
                        )
                        .with_source(e),
                        None => e,
                    });
                }
                Err(e) => return Err(e),
            }
        }
        let mut throttled = 1;
        let mut ambiguous = false;
        loop {
            // A new token for each request (DynamoDB refuses a token reused with other
            // parameters, and an attempt after a conflict builds its writes afresh);
            // within a request the token makes a resent transaction apply at most once.
            let token = request_token();
            match self
                .send_transaction(writes, &items, &token, &mut ambiguous)
                .await
            {
                // Once a request may have been applied, only its own token can tell: a
                // new one would apply the writes again (an ADD twice). Not resolved under
                // that token (throttled, or still in progress, past the budget), the
                // outcome is unknown.
                Err(e) if ambiguous && !e.is(&ErrorKind::TransactionCanceled) => {
                    return Err(Error::new(
                        ErrorKind::Unavailable,
                        format!(
                            "the outcome of the transaction is unknown: a request may have \
                             been applied, and resending it did not tell ({})",
                            e.message()
                        ),
                    )
                    .with_source(e));
                }
                Err(e) if e.is(&ErrorKind::Throttled) && throttled < self.backoff.attempts => {
                    tokio::time::sleep(self.backoff.delay(throttled)).await;
                    throttled += 1;
                }
                other => return other,
            }
        }
    }

    /// Sends a transaction (resending it, under the same token, after a failure that
    /// changed nothing or was ambiguous) and says how it came out; sets `ambiguous` once
    /// a request failed in a way that may have applied it.
    async fn send_transaction(
        &self,
        writes: &[WritePlan<'_>],
        items: &[TransactWriteItem],
        token: &str,
        ambiguous: &mut bool,
    ) -> Result<()> {
        let tables = writes
            .iter()
            .map(|w| self.table_name(&w.schema.name))
            .collect::<Vec<_>>()
            .join(", ");
        let mut attempt = 1;
        let canceled = loop {
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.to_vec()))
                .client_request_token(token)
                .send()
                .await;
            match result {
                Ok(_) => return Ok(()),
                Err(SdkError::ServiceError(se))
                    if matches!(
                        se.err(),
                        TransactWriteItemsError::TransactionCanceledException(_)
                    ) =>
                {
                    let TransactWriteItemsError::TransactionCanceledException(tce) = se.into_err()
                    else {
                        unreachable!()
                    };
                    break tce;
                }
                Err(other) => {
                    let e = sdk_error("TransactWriteItems", &tables, other);
                    *ambiguous |= e.is_retryable(true) && !e.is_retryable(false);
                    // The token makes a resent transaction apply at most once.
                    if e.is_retryable(true) && attempt < self.backoff.attempts {
                        tokio::time::sleep(self.backoff.delay(attempt)).await;
                        attempt += 1;
                        continue;
                    }
                    if e.is(&ErrorKind::Validation) {
                        // Some servers answer a write that cannot be done with a plain
                        // ValidationException instead of a cancellation: find which.
                        if let Some(reasons) = reasons_by_reading(self, writes).await? {
                            return Err(Error::transaction_canceled(
                                reasons,
                                format!("the transaction was refused: {}", e.message()),
                            )
                            .with_source(e));
                        }
                    }
                    return Err(e);
                }
            }
        };
        if canceled.cancellation_reasons().len() != writes.len() {
            // A server that does not give one reason per write: judge them by reading.
            let message = format!(
                "the transaction was canceled with {} reasons for {} writes",
                canceled.cancellation_reasons().len(),
                writes.len()
            );
            return Err(match reasons_by_reading(self, writes).await? {
                Some(reasons) => Error::transaction_canceled(reasons, message),
                None => Error::new(ErrorKind::Backend, message),
            });
        }
        let mut reasons = Vec::with_capacity(writes.len());
        let mut retry: Option<Error> = None;
        for (w, reason) in writes.iter().zip(canceled.cancellation_reasons()) {
            reasons.push(match reason.code() {
                None | Some("None") => None,
                Some("ConditionalCheckFailed") => {
                    let old = self.old_item(w, reason.item.as_ref()).await?;
                    let e = classify(w, old.as_ref());
                    let kind = *e.kind();
                    if e.is(&ErrorKind::Conflict) {
                        retry = Some(e);
                    }
                    Some(kind)
                }
                Some("ValidationError") => Some(ErrorKind::Validation),
                Some("TransactionConflict") => {
                    retry = Some(outcome::conflict(&w.describe()));
                    Some(ErrorKind::Conflict)
                }
                Some("ThrottlingError" | "ProvisionedThroughputExceeded") => {
                    // Lack of capacity, not contention: tried again, and past the
                    // attempts `Throttled`.
                    return Err(Error::new(
                        ErrorKind::Throttled,
                        format!("the transaction was throttled at {}", w.describe()),
                    )
                    .transient(true));
                }
                Some(_) => Some(ErrorKind::Backend),
            });
        }
        if let Some(conflict) = retry {
            return Err(conflict);
        }
        Err(outcome::transaction_canceled(reasons))
    }

    /// One write of a transaction, with its guards (reading the item first if an update
    /// has emulated ops, or `read` says so).
    async fn transact_item(&self, w: &WritePlan<'_>, read: bool) -> Result<TransactWriteItem> {
        let table = self.table_name(&w.schema.name);
        let key_attrs = key_attrs(w.schema, &w.key)?;
        let mut expr = Expr::default();
        let mut guards = Guards {
            user: w.condition,
            ..Guards::default()
        };
        let on_fail = ReturnValuesOnConditionCheckFailure::AllOld;
        let build = |e: aws_sdk_dynamodb::error::BuildError| {
            Error::backend(format!("building a DynamoDB request: {e}"), e)
        };
        let item = match &w.op {
            PlannedOp::Put { item, mode } => {
                if *mode == PutMode::Insert {
                    guards.existence = Some(!exists(w.schema));
                }
                let c = condition_expression(&mut expr, &guards, w.schema)?;
                let (names, values) = expr.into_maps();
                TransactWriteItem::builder()
                    .put(
                        Put::builder()
                            .table_name(&table)
                            .set_item(Some(item_to_attrs(item)?))
                            .set_condition_expression(c)
                            .set_expression_attribute_names(names)
                            .set_expression_attribute_values(values)
                            .return_values_on_condition_check_failure(on_fail)
                            .build()
                            .map_err(build)?,
                    )
                    .build()
            }
            PlannedOp::Update { ops } => {
                guards.existence = Some(exists(w.schema));
                let current = if read || ops.iter().any(emulated) {
                    self.get_item(w.schema, &w.key).await?
                } else {
                    None
                };
                let update = if ops.iter().any(emulated) && current.is_none() {
                    // Missing when read: the write must fail whatever happened since, as
                    // its ops were not computed on any item (guarded to exist and not to
                    // exist). The item read with the failure says which: still missing,
                    // NotFound; written meanwhile, a lost race (Conflict, read again).
                    // SET a placeholder so that the expression is valid.
                    guards.existence = Some(exists(w.schema).and(!exists(w.schema)));
                    let mut update = String::from("SET ");
                    expr.path(&mut update, ops[0].path());
                    update.push_str(" = ");
                    expr.raw(&mut update, AttributeValue::Null(true));
                    update
                } else {
                    update_expression(&mut expr, ops, current.as_ref(), &mut guards)?
                };
                let c = condition_expression(&mut expr, &guards, w.schema)?;
                let (names, values) = expr.into_maps();
                TransactWriteItem::builder()
                    .update(
                        Update::builder()
                            .table_name(&table)
                            .set_key(Some(key_attrs))
                            .update_expression(update)
                            .set_condition_expression(c)
                            .set_expression_attribute_names(names)
                            .set_expression_attribute_values(values)
                            .return_values_on_condition_check_failure(on_fail)
                            .build()
                            .map_err(build)?,
                    )
                    .build()
            }
            PlannedOp::Delete => {
                let c = condition_expression(&mut expr, &guards, w.schema)?;
                let (names, values) = expr.into_maps();
                TransactWriteItem::builder()
                    .delete(
                        Delete::builder()
                            .table_name(&table)
                            .set_key(Some(key_attrs))
                            .set_condition_expression(c)
                            .set_expression_attribute_names(names)
                            .set_expression_attribute_values(values)
                            .return_values_on_condition_check_failure(on_fail)
                            .build()
                            .map_err(build)?,
                    )
                    .build()
            }
            PlannedOp::Check => {
                // DynamoDB needs a condition; "always true" becomes one on the key.
                let c = match condition_expression(&mut expr, &guards, w.schema)? {
                    Some(c) => c,
                    None => {
                        let mut p = String::new();
                        expr.name(&mut p, &w.schema.partition_key.name);
                        format!("attribute_exists({p}) OR attribute_not_exists({p})")
                    }
                };
                let (names, values) = expr.into_maps();
                TransactWriteItem::builder()
                    .condition_check(
                        ConditionCheck::builder()
                            .table_name(&table)
                            .set_key(Some(key_attrs))
                            .condition_expression(c)
                            .set_expression_attribute_names(names)
                            .set_expression_attribute_values(values)
                            .return_values_on_condition_check_failure(on_fail)
                            .build()
                            .map_err(build)?,
                    )
                    .build()
            }
        };
        Ok(item)
    }
}

/// A fresh client request token for one `TransactWriteItems` attempt.
fn request_token() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..32)
        .map(|_| char::from(b'a' + rng.random_range(0..26u8)))
        .collect()
}
