//! Writes: PutItem, UpdateItem, DeleteItem and TransactWriteItems, with the conditions
//! that make them keep the contract, and the emulation of what DynamoDB cannot do.
//!
//! Every condition kvs adds is built as a [`Condition`] and translated like the user's,
//! so that when DynamoDB says "a condition failed" the old item it returns can be
//! checked against each one with the shared evaluator, to tell `NotFound`,
//! `AlreadyExists`, `ConditionFailed`, a conflict (retried) and an overflow apart.

use std::collections::HashMap;

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
use super::convert::{attrs_to_item, into_item, item_to_attrs, key_attrs, to_attr};
use super::error::sdk_error;
use super::expr::Expr;
use crate::backend::{PlannedOp, PlannedWrite, RawItem};
use crate::expr::{CompareOp, Condition, Path};
use crate::{
    Error, ErrorKind, Item, Key, PutMode, Result, StoreSchema, UpdateOp, Value, ValueType, eval,
};

/// How many times an emulated update is tried again after another writer changed a
/// value it read.
const CONFLICT_RETRIES: u32 = 8;

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

impl Guards<'_> {
    /// Every guard, to be sent as one conjunction.
    fn parts(&self) -> impl Iterator<Item = &Condition> + Clone {
        self.existence
            .iter()
            .chain(self.user)
            .chain(&self.unchanged)
            .chain(&self.in_range)
    }

    /// Why the write was refused, judged on the item as DynamoDB found it.
    fn classify(&self, op: &PlannedOp<'_>, old: Option<&Item>, what: &str) -> Error {
        let holds = |c: &Condition| eval::matches(c, old);
        if let Some(e) = &self.existence
            && !holds(e)
        {
            return match op {
                PlannedOp::Put {
                    mode: PutMode::Insert,
                    ..
                } => Error::new(ErrorKind::AlreadyExists, format!("{what} already exists")),
                _ => Error::new(
                    ErrorKind::NotFound,
                    format!("{what} does not exist, so it cannot be updated"),
                ),
            };
        }
        if self.user.is_some_and(|c| !holds(c)) {
            return Error::new(
                ErrorKind::ConditionFailed,
                format!("the condition on {what} is false"),
            );
        }
        if self.unchanged.iter().any(|c| !holds(c)) {
            return Error::new(
                ErrorKind::Throttled,
                format!("{what} kept changing while it was updated"),
            )
            .transient(true);
        }
        if self.in_range.iter().any(|c| !holds(c)) {
            return Error::validation(format!("an ADD on {what} would overflow the i64 range"));
        }
        // Every condition holds on the item returned: it changed between the check and
        // the answer. Trying again is safe.
        Error::new(
            ErrorKind::Throttled,
            format!("{what} changed while it was written"),
        )
        .transient(true)
    }
}

/// Whether DynamoDB cannot do an op natively, so that kvs reads the value, computes the
/// new one with the shared evaluator, and writes it under a condition that it did not
/// change: DELETE (of set or list elements: only the item says which), ADD of a float
/// (DynamoDB's decimal sum could need rounding to read back), ADD of a set to a nested
/// path (DynamoDB's ADD is top-level only), ADD of an empty set.
fn emulated(op: &UpdateOp) -> bool {
    match op {
        UpdateOp::Delete { .. } => true,
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
    // by itself, and `classify` says why from the type of the value.
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
            let new = eval::apply(current, std::slice::from_ref(op))?;
            guards.unchanged.push(match old {
                Some(v) => Condition::Compare {
                    path: path.clone(),
                    op: CompareOp::Eq,
                    value: v,
                },
                None => Condition::NotExists(path.clone()),
            });
            match path.resolve(&new) {
                Some(v) => {
                    next(&mut set);
                    expr.path(&mut set, path);
                    set.push_str(" = ");
                    expr.value(&mut set, v, path)?;
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
                    guards.in_range.extend(overflow_guard(path, n));
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

/// The condition expression of a write.
fn condition_expression(expr: &mut Expr, guards: &Guards<'_>) -> Result<Option<String>> {
    expr.condition(guards.parts())
}

/// Asks for the old item with a failed condition (to say which guard failed), where
/// there is a condition: an unconditional write never fails one, and sends less.
fn on_condition_failure(condition: Option<&str>) -> Option<ReturnValuesOnConditionCheckFailure> {
    condition.map(|_| ReturnValuesOnConditionCheckFailure::AllOld)
}

fn describe(schema: &StoreSchema, key: &Key) -> String {
    format!("{}/{key}", schema.name)
}

fn exists(schema: &StoreSchema) -> Condition {
    Condition::Exists(Path::attr(schema.partition_key.name.clone()))
}

/// The old item DynamoDB returned with a failed condition.
fn old_item(attrs: Option<&Attrs>) -> Result<Option<Item>> {
    attrs.map(attrs_to_item).transpose()
}

impl DynamoDbBackend {
    // Each attempt builds its request afresh from the borrowed input, rather than
    // building it once and cloning it for every attempt: a retry is rare, and this way
    // the common case moves everything into the request and copies nothing.

    pub(crate) async fn put_item(
        &self,
        schema: &StoreSchema,
        item: &Item,
        mode: PutMode,
        condition: Option<&Condition>,
    ) -> Result<()> {
        let table = self.table_name(&schema.name);
        let key = schema.key_of(item)?;
        let guards = Guards {
            existence: (mode == PutMode::Insert).then(|| !exists(schema)),
            user: condition,
            ..Guards::default()
        };
        // Writing the same whole item twice is harmless unless a condition could see
        // the first write.
        let idempotent = guards.existence.is_none() && guards.user.is_none();
        let op = PlannedOp::Put { item, mode };
        self.backoff
            .run(idempotent, || async {
                let mut expr = Expr::default();
                let condition_expression = condition_expression(&mut expr, &guards)?;
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
                        let old = old_item(ccf.item.as_ref())?;
                        Err(guards.classify(&op, old.as_ref(), &describe(schema, &key)))
                    }
                    Err(e) => Err(sdk_error("PutItem", &table, e)),
                }
            })
            .await
    }

    pub(crate) async fn update_item(
        &self,
        schema: &StoreSchema,
        key: &Key,
        ops: &[UpdateOp],
        condition: Option<&Condition>,
    ) -> Result<RawItem> {
        let needs_read = ops.iter().any(emulated);
        let idempotent = ops.iter().all(UpdateOp::is_idempotent);
        for attempt in 1..=CONFLICT_RETRIES {
            if attempt > 1 {
                // Another writer changed the value read: give it time to finish.
                tokio::time::sleep(self.backoff.delay(attempt - 1)).await;
            }
            let current = if needs_read {
                match self.get_item(schema, key).await? {
                    Some(item) => Some(item),
                    None => {
                        return Err(Error::new(
                            ErrorKind::NotFound,
                            format!(
                                "{} does not exist, so it cannot be updated",
                                describe(schema, key)
                            ),
                        ));
                    }
                }
            } else {
                None
            };
            match self
                .update_once(schema, key, ops, condition, current.as_ref(), idempotent)
                .await
            {
                Err(e) if needs_read && e.is(&ErrorKind::Throttled) && e.is_retryable(true) => {
                    continue;
                }
                other => return other,
            }
        }
        Err(Error::new(
            ErrorKind::Throttled,
            format!(
                "{} kept changing while it was updated; gave up",
                describe(schema, key)
            ),
        ))
    }

    async fn update_once(
        &self,
        schema: &StoreSchema,
        key: &Key,
        ops: &[UpdateOp],
        condition: Option<&Condition>,
        current: Option<&Item>,
        idempotent: bool,
    ) -> Result<RawItem> {
        let table = self.table_name(&schema.name);
        let op = PlannedOp::Update { ops };
        self.backoff
            .run(idempotent, || async {
                let mut guards = Guards {
                    existence: Some(exists(schema)),
                    user: condition,
                    ..Guards::default()
                };
                let mut expr = Expr::default();
                let update = update_expression(&mut expr, ops, current, &mut guards)?;
                let condition_expression = condition_expression(&mut expr, &guards)?;
                let (names, values) = expr.into_maps();
                let result = self
                    .client
                    .update_item()
                    .table_name(&table)
                    .set_key(Some(key_attrs(schema, key)?))
                    .update_expression(update)
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
                        let old = old_item(ccf.item.as_ref())?;
                        Err(guards.classify(&op, old.as_ref(), &describe(schema, key)))
                    }
                    Err(e) => Err(sdk_error("UpdateItem", &table, e)),
                }
            })
            .await
    }

    pub(crate) async fn delete_item(
        &self,
        schema: &StoreSchema,
        key: &Key,
        condition: Option<&Condition>,
    ) -> Result<Option<Item>> {
        let table = self.table_name(&schema.name);
        let guards = Guards {
            user: condition,
            ..Guards::default()
        };
        self.backoff
            .run(condition.is_none(), || async {
                let mut expr = Expr::default();
                let condition_expression = condition_expression(&mut expr, &guards)?;
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
                    Ok(out) => out.attributes.map(into_item).transpose(),
                    Err(SdkError::ServiceError(se))
                        if matches!(
                            se.err(),
                            DeleteItemError::ConditionalCheckFailedException(_)
                        ) =>
                    {
                        let DeleteItemError::ConditionalCheckFailedException(ccf) = se.err() else {
                            unreachable!()
                        };
                        let old = old_item(ccf.item.as_ref())?;
                        Err(guards.classify(
                            &PlannedOp::Delete,
                            old.as_ref(),
                            &describe(schema, key),
                        ))
                    }
                    Err(e) => Err(sdk_error("DeleteItem", &table, e)),
                }
            })
            .await
    }

    pub(crate) async fn transact_writes(&self, writes: &[PlannedWrite<'_>]) -> Result<()> {
        for attempt in 1..=CONFLICT_RETRIES {
            if attempt > 1 {
                tokio::time::sleep(self.backoff.delay(attempt - 1)).await;
            }
            // A new token for each attempt, since each builds its writes afresh (emulated
            // ops read again) and DynamoDB refuses a token reused with other parameters;
            // within an attempt the token makes a resent transaction apply at most once.
            match self.transact_once(writes, &request_token()).await {
                Err(e) if e.is(&ErrorKind::Throttled) && e.is_retryable(true) => continue,
                other => return other,
            }
        }
        Err(Error::new(
            ErrorKind::Throttled,
            "the transaction kept conflicting with other writes; gave up",
        ))
    }

    async fn transact_once(&self, writes: &[PlannedWrite<'_>], token: &str) -> Result<()> {
        let mut items = Vec::with_capacity(writes.len());
        let mut all_guards = Vec::with_capacity(writes.len());
        for w in writes {
            let (item, guards) = self.transact_item(w).await?;
            items.push(item);
            all_guards.push(guards);
        }
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
                .set_transact_items(Some(items.clone()))
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
                    // The token makes a resent transaction apply at most once.
                    if e.is_retryable(true) && attempt < self.backoff.attempts {
                        tokio::time::sleep(self.backoff.delay(attempt)).await;
                        attempt += 1;
                        continue;
                    }
                    if e.is(&ErrorKind::Validation) {
                        // Some servers answer a write that cannot be done with a plain
                        // ValidationException instead of a cancellation: find which.
                        if let Some(reasons) = self.reasons_by_reading(writes).await? {
                            return Err(Error::new(
                                ErrorKind::TransactionCanceled { reasons },
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
            return Err(match self.reasons_by_reading(writes).await? {
                Some(reasons) => Error::new(ErrorKind::TransactionCanceled { reasons }, message),
                None => Error::new(ErrorKind::Backend, message),
            });
        }
        let mut reasons = Vec::with_capacity(writes.len());
        let mut retry = false;
        for ((w, guards), reason) in writes
            .iter()
            .zip(&all_guards)
            .zip(canceled.cancellation_reasons())
        {
            reasons.push(match reason.code() {
                None | Some("None") => None,
                Some("ConditionalCheckFailed") => {
                    let old = old_item(reason.item.as_ref())?;
                    let e = guards.classify(&w.op, old.as_ref(), &describe(w.schema, &w.key));
                    if e.is(&ErrorKind::Throttled) {
                        retry = true;
                    }
                    Some(e.kind().clone())
                }
                Some("ValidationError") => Some(ErrorKind::Validation),
                Some(
                    "TransactionConflict" | "ThrottlingError" | "ProvisionedThroughputExceeded",
                ) => {
                    retry = true;
                    Some(ErrorKind::Throttled)
                }
                Some(_) => Some(ErrorKind::Backend),
            });
        }
        if retry {
            return Err(
                Error::new(ErrorKind::Throttled, "the transaction met a conflict").transient(true),
            );
        }
        let failed = reasons.iter().filter(|r| r.is_some()).count();
        Err(Error::new(
            ErrorKind::TransactionCanceled { reasons },
            format!(
                "{failed} of {} writes could not be done; nothing was written",
                writes.len()
            ),
        ))
    }

    /// Each write's reason, judged by the shared evaluator on the items as they are now;
    /// `None` if every write looks possible.
    async fn reasons_by_reading(
        &self,
        writes: &[PlannedWrite<'_>],
    ) -> Result<Option<Vec<Option<ErrorKind>>>> {
        let mut reasons = Vec::with_capacity(writes.len());
        for w in writes {
            let current = self.get_item(w.schema, &w.key).await?;
            let outcome = eval::decide(w.schema, &w.key, &w.op, w.condition, current.as_ref());
            reasons.push(outcome.err().map(|e| e.kind().clone()));
        }
        Ok(reasons.iter().any(Option::is_some).then_some(reasons))
    }

    /// One write of a transaction, with its guards (reading the item first if an update
    /// has emulated ops).
    async fn transact_item<'w>(
        &self,
        w: &PlannedWrite<'w>,
    ) -> Result<(TransactWriteItem, Guards<'w>)> {
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
                let c = condition_expression(&mut expr, &guards)?;
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
                let current = if ops.iter().any(emulated) {
                    self.get_item(w.schema, &w.key).await?
                } else {
                    None
                };
                let update = if ops.iter().any(emulated) && current.is_none() {
                    // Missing: the existence guard fails and says NotFound; SET a
                    // placeholder so that the expression is valid.
                    let mut update = String::from("SET ");
                    expr.path(&mut update, ops[0].path());
                    update.push_str(" = ");
                    expr.raw(&mut update, AttributeValue::Null(true));
                    update
                } else {
                    update_expression(&mut expr, ops, current.as_ref(), &mut guards)?
                };
                let c = condition_expression(&mut expr, &guards)?;
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
                let c = condition_expression(&mut expr, &guards)?;
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
                let c = match condition_expression(&mut expr, &guards)? {
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
        Ok((item, guards))
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
