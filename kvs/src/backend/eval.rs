//! The shared evaluator: conditions and update operations over items.
//!
//! Every backend uses it for whatever it cannot do natively (the embedded engine uses it
//! for everything), so that a filter or an update means the same thing everywhere.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use crate::expr::{CompareOp, Condition, Path, Segment, UpdateOp};
use crate::{Error, Item, Result, Value};

/// Whether `item` satisfies `condition`. A missing item satisfies only conditions that
/// hold on missing attributes (`not_exists`, `!=`, `not_contains`, `not`).
///
/// The condition must have passed [`Condition::validate`]; evaluation itself never fails:
/// comparing values of different types is false.
///
/// ```
/// use kvs::{attr, eval, item};
/// let it = item! { "n" => 5, "s" => "abc" };
/// assert!(eval::matches(&attr("n").gt(4.5), Some(&it)));
/// assert!(!eval::matches(&attr("n").gt("4"), Some(&it))); // cross-type: false
/// assert!(eval::matches(&attr("missing").ne(1), Some(&it)));
/// ```
pub fn matches(condition: &Condition, item: Option<&Item>) -> bool {
    let get = |path: &Path| item.and_then(|it| path.resolve(it));
    match condition {
        Condition::Compare { path, op, value } => match op {
            CompareOp::Eq => get(path).is_some_and(|v| v == value),
            CompareOp::Ne => get(path).is_none_or(|v| v != value),
            op => get(path)
                .and_then(|v| v.partial_compare(value))
                .is_some_and(|ord| match op {
                    CompareOp::Lt => ord == Ordering::Less,
                    CompareOp::Le => ord != Ordering::Greater,
                    CompareOp::Gt => ord == Ordering::Greater,
                    CompareOp::Ge => ord != Ordering::Less,
                    CompareOp::Eq | CompareOp::Ne => unreachable!("handled above"),
                }),
        },
        Condition::Between { path, low, high } => get(path).is_some_and(|v| {
            v.partial_compare(low).is_some_and(|o| o != Ordering::Less)
                && v.partial_compare(high)
                    .is_some_and(|o| o != Ordering::Greater)
        }),
        Condition::In { path, values } => get(path).is_some_and(|v| values.contains(v)),
        Condition::BeginsWith { path, prefix } => get(path).is_some_and(|v| begins_with(v, prefix)),
        Condition::Contains { path, value } => get(path).is_some_and(|v| contains(v, value)),
        Condition::NotContains { path, value } => !get(path).is_some_and(|v| contains(v, value)),
        Condition::Exists(path) => get(path).is_some(),
        Condition::NotExists(path) => get(path).is_none(),
        Condition::TypeOf { path, ty } => get(path).is_some_and(|v| v.value_type() == *ty),
        Condition::And(parts) => parts.iter().all(|c| matches(c, item)),
        Condition::Or(parts) => parts.iter().any(|c| matches(c, item)),
        Condition::Not(inner) => !matches(inner, item),
    }
}

/// Whether a string (bytes) value starts with a string (bytes) prefix.
pub fn begins_with(value: &Value, prefix: &Value) -> bool {
    match (value, prefix) {
        (Value::String(s), Value::String(p)) => s.starts_with(p.as_str()),
        (Value::Bytes(b), Value::Bytes(p)) => b.starts_with(p),
        _ => false,
    }
}

/// Whether `haystack` contains `needle`: a substring of a string, an element of a list,
/// a member of a set.
pub fn contains(haystack: &Value, needle: &Value) -> bool {
    match (haystack, needle) {
        (Value::String(s), Value::String(n)) => s.contains(n.as_str()),
        (Value::Bytes(b), Value::Bytes(n)) => {
            n.is_empty() || b.windows(n.len()).any(|w| w == n.as_slice())
        }
        (Value::List(l), n) => l.contains(n),
        (Value::StringSet(s), Value::String(n)) => s.contains(n),
        (Value::NumberSet(s), Value::Number(n)) => s.contains(n),
        (Value::BytesSet(s), Value::Bytes(n)) => s.contains(n),
        _ => false,
    }
}

/// Checks the ops of one update against each other: paths are well formed, no two ops
/// touch overlapping paths (`a` and `a.b`), and each op's operand has a possible type.
pub fn validate_ops(ops: &[UpdateOp]) -> Result<()> {
    if ops.is_empty() {
        return Err(Error::validation("an update needs at least one operation"));
    }
    for (i, op) in ops.iter().enumerate() {
        op.path().validate()?;
        match op {
            UpdateOp::Add { path, value }
                if !matches!(value, Value::Number(_)) && !value.is_set() =>
            {
                return Err(Error::validation(format!(
                    "ADD {path}: the value must be a number or a set, not a {}",
                    value.value_type()
                )));
            }
            UpdateOp::Delete { path, values } if values.is_empty() => {
                return Err(Error::validation(format!(
                    "DELETE {path}: no values to delete"
                )));
            }
            _ => {}
        }
        for other in &ops[..i] {
            if op.path().overlaps(other.path()) {
                return Err(Error::validation(format!(
                    "{} {} and {} {} touch overlapping paths in one update",
                    other.name(),
                    other.path(),
                    op.name(),
                    op.path()
                )));
            }
        }
    }
    Ok(())
}

/// Puts the operands of an update in the form every backend writes, so that all of them
/// agree on what an empty set means (a missing attribute): SET of an empty set becomes
/// REMOVE, empty sets inside a SET, APPEND or PREPEND operand are left out, and an empty
/// set as a list element (a SET of a list position, an APPEND or PREPEND element) is
/// `Validation`, since a list has no attribute to leave out. Run once, before an update
/// reaches a backend; [`apply`] gives the same result with or without it.
pub fn normalize_ops(ops: &mut [UpdateOp]) -> Result<()> {
    for op in ops.iter_mut() {
        let name = op.name();
        match op {
            UpdateOp::Set { path, value } if value.is_empty_set() => {
                if matches!(path.last(), Segment::Index(_)) {
                    return Err(Error::validation(format!(
                        "SET {path}: an empty set cannot be a list element"
                    )));
                }
                *op = UpdateOp::Remove { path: path.clone() };
            }
            UpdateOp::Set { value, .. } => drop_empty_sets_in(value),
            UpdateOp::Append { path, values } | UpdateOp::Prepend { path, values } => {
                if values.iter().any(Value::is_empty_set) {
                    return Err(Error::validation(format!(
                        "{name} {path}: an empty set cannot be a list element"
                    )));
                }
                values.iter_mut().for_each(drop_empty_sets_in);
            }
            UpdateOp::Remove { .. } | UpdateOp::Add { .. } | UpdateOp::Delete { .. } => {}
        }
    }
    Ok(())
}

/// Applies update ops to an item and returns the new item; `item` is unchanged.
///
/// Every path names a place in the item as it was before the update, and every op reads
/// the value it changes from that item. Writes are then applied in three phases, so that
/// no op moves another's target: first replacements (of map entries and of list positions
/// that existed), then appends (list positions past the end, in the order of the
/// positions asked for), then removals,
/// deepest and highest position first, so that `REMOVE a[0], REMOVE a[1]` removes the
/// first two elements. Empty sets left by an op are removed (an empty set is a missing
/// attribute).
///
/// ```
/// use kvs::{attr, eval, item, UpdateOp, Value};
/// let before = item! { "n" => 1, "l" => Value::list([1, 2, 3]) };
/// let ops = [
///     UpdateOp::Add { path: attr("n"), value: 2.into() },
///     UpdateOp::Remove { path: attr("l").index(0) },
///     UpdateOp::Remove { path: attr("l").index(1) },
/// ];
/// let after = eval::apply(&before, &ops).unwrap();
/// assert_eq!(after, item! { "n" => 3, "l" => Value::list([3]) });
/// ```
pub fn apply(item: &Item, ops: &[UpdateOp]) -> Result<Item> {
    validate_ops(ops)?;
    let original = item.as_map();
    let mut replacements: Vec<(&Path, Value)> = Vec::new();
    let mut appends: Vec<(Path, usize, Value)> = Vec::new();
    let mut removals: Vec<&Path> = Vec::new();
    for op in ops {
        let effect = effect_of(original, op)
            .map_err(|e| e.context(format_args!("{} {}", op.name(), op.path())))?;
        let path = op.path();
        match effect {
            Effect::Nothing => {}
            Effect::Remove => removals.push(path),
            Effect::Write(value) => match (path.parent(), path.last()) {
                // A list position past the end appends.
                (Some(parent), Segment::Index(i)) if is_past_end(original, &parent, *i) => {
                    appends.push((parent, *i, value))
                }
                _ => replacements.push((path, value)),
            },
        }
    }
    let mut map = original.clone();
    for (path, value) in replacements {
        put(&mut map, path, value)?;
    }
    // Appends go in order of the positions asked for (as DynamoDB does), in op order
    // among equal positions.
    appends.sort_by_key(|(_, position, _)| *position);
    for (parent, _, value) in appends {
        if let Some(Value::List(list)) = slot_mut(&mut map, parent.segments()) {
            list.push(value);
        }
    }
    // Deepest paths and highest positions first: removing position k only moves the
    // elements after k, whose paths sort higher and are done already.
    removals.sort_by(|a, b| b.cmp(a));
    for path in removals {
        remove(&mut map, path);
    }
    drop_empty_sets(&mut map);
    Ok(Item::from(map))
}

/// Removes empty sets from a map and every map nested in it (an empty set is a missing
/// attribute).
pub(crate) fn drop_empty_sets(map: &mut BTreeMap<String, Value>) {
    // Every put comes through here, and an item rarely holds an empty set: looked for
    // first, as `retain` takes every entry out of the tree and puts it back.
    if map.values().any(Value::is_empty_set) {
        map.retain(|_, v| !v.is_empty_set());
    }
    for v in map.values_mut() {
        drop_empty_sets_in(v);
    }
}

fn drop_empty_sets_in(value: &mut Value) {
    match value {
        Value::Map(m) => drop_empty_sets(m),
        Value::List(l) => l.iter_mut().for_each(drop_empty_sets_in),
        _ => {}
    }
}

/// What one op does to its path, decided on the original item.
enum Effect {
    Write(Value),
    Remove,
    Nothing,
}

fn is_past_end(map: &BTreeMap<String, Value>, parent: &Path, i: usize) -> bool {
    matches!(parent.resolve_map(map), Some(Value::List(l)) if i >= l.len())
}

/// Checks that a write to `path` has somewhere to go in the original item: a top-level
/// attribute, a key of an existing map, or a position of an existing list.
fn check_parent(map: &BTreeMap<String, Value>, path: &Path) -> Result<()> {
    let Some(parent) = path.parent() else {
        return Ok(());
    };
    match (parent.resolve_map(map), path.last()) {
        (None, _) => Err(Error::validation(format!(
            "the parent {parent} does not exist"
        ))),
        (Some(Value::Map(_)), Segment::Attr(_)) | (Some(Value::List(_)), Segment::Index(_)) => {
            Ok(())
        }
        (Some(container), _) => Err(Error::validation(format!(
            "{parent} is a {}, which this path cannot step into",
            container.value_type()
        ))),
    }
}

fn effect_of(original: &BTreeMap<String, Value>, op: &UpdateOp) -> Result<Effect> {
    let path = op.path();
    let current = path.resolve_map(original);
    let value = match op {
        UpdateOp::Set { value, .. } => {
            check_parent(original, path)?;
            value.clone()
        }
        UpdateOp::Remove { .. } => {
            return Ok(if current.is_some() {
                Effect::Remove
            } else {
                Effect::Nothing
            });
        }
        UpdateOp::Add { value, .. } => {
            check_parent(original, path)?;
            add(current.cloned(), value)?
        }
        UpdateOp::Append { values, .. } | UpdateOp::Prepend { values, .. } => {
            check_parent(original, path)?;
            let mut list = match current {
                None => Vec::new(),
                Some(Value::List(l)) => l.clone(),
                Some(other) => {
                    return Err(Error::validation(format!(
                        "the attribute is a {}, not a list",
                        other.value_type()
                    )));
                }
            };
            if matches!(op, UpdateOp::Append { .. }) {
                list.extend(values.iter().cloned());
            } else {
                list.splice(0..0, values.iter().cloned());
            }
            Value::List(list)
        }
        UpdateOp::Delete { values, .. } => match current {
            None => return Ok(Effect::Nothing),
            Some(current) => delete_elements(current.clone(), values)?,
        },
    };
    Ok(if value.is_empty_set() {
        Effect::Remove
    } else {
        Effect::Write(value)
    })
}

fn add(current: Option<Value>, operand: &Value) -> Result<Value> {
    match (current, operand) {
        (None, v) => Ok(v.clone()),
        (Some(Value::Number(a)), Value::Number(b)) => {
            a.checked_add(b).map(Value::Number).ok_or_else(|| {
                Error::validation(format!(
                    "{a} + {b} cannot be stored exactly (it overflows, or a float would round it)"
                ))
            })
        }
        (Some(Value::StringSet(mut a)), Value::StringSet(b)) => {
            a.extend(b.iter().cloned());
            Ok(Value::StringSet(a))
        }
        (Some(Value::NumberSet(mut a)), Value::NumberSet(b)) => {
            a.extend(b.iter().copied());
            Ok(Value::NumberSet(a))
        }
        (Some(Value::BytesSet(mut a)), Value::BytesSet(b)) => {
            a.extend(b.iter().cloned());
            Ok(Value::BytesSet(a))
        }
        (Some(current), operand) => Err(Error::validation(format!(
            "cannot ADD a {} to a {}",
            operand.value_type(),
            current.value_type()
        ))),
    }
}

fn delete_elements(current: Value, values: &[Value]) -> Result<Value> {
    let wrong = |set: &str, v: &Value| {
        Error::validation(format!("cannot DELETE a {} from a {set}", v.value_type()))
    };
    Ok(match current {
        Value::List(l) => Value::List(l.into_iter().filter(|e| !values.contains(e)).collect()),
        Value::StringSet(mut s) => {
            for v in values {
                match v {
                    Value::String(x) => s.remove(x),
                    other => return Err(wrong("string set", other)),
                };
            }
            Value::StringSet(s)
        }
        Value::NumberSet(mut s) => {
            for v in values {
                match v {
                    Value::Number(x) => s.remove(x),
                    other => return Err(wrong("number set", other)),
                };
            }
            Value::NumberSet(s)
        }
        Value::BytesSet(mut s) => {
            for v in values {
                match v {
                    Value::Bytes(x) => s.remove(x),
                    other => return Err(wrong("bytes set", other)),
                };
            }
            Value::BytesSet(s)
        }
        other => {
            return Err(Error::validation(format!(
                "the attribute is a {}, not a list or a set",
                other.value_type()
            )));
        }
    })
}

/// The container a path's last segment lives in.
fn slot_mut<'a>(
    map: &'a mut BTreeMap<String, Value>,
    segments: &[Segment],
) -> Option<&'a mut Value> {
    let (first, rest) = segments.split_first()?;
    let Segment::Attr(name) = first else {
        return None;
    };
    let mut current = map.get_mut(name)?;
    for seg in rest {
        current = match (seg, current) {
            (Segment::Attr(name), Value::Map(m)) => m.get_mut(name)?,
            (Segment::Index(i), Value::List(l)) => l.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(current)
}

fn remove(map: &mut BTreeMap<String, Value>, path: &Path) {
    let Some(parent) = path.parent() else {
        map.remove(path.root());
        return;
    };
    match (slot_mut(map, parent.segments()), path.last()) {
        (Some(Value::Map(m)), Segment::Attr(name)) => {
            m.remove(name);
        }
        (Some(Value::List(l)), Segment::Index(i)) if *i < l.len() => {
            l.remove(*i);
        }
        _ => {}
    }
}

/// Replaces the value at a path whose parent exists (checked on the original item,
/// whose shape the replacements do not change).
fn put(map: &mut BTreeMap<String, Value>, path: &Path, value: Value) -> Result<()> {
    let Some(parent) = path.parent() else {
        map.insert(path.root().to_owned(), value);
        return Ok(());
    };
    match (slot_mut(map, parent.segments()), path.last()) {
        (Some(Value::Map(m)), Segment::Attr(name)) => {
            m.insert(name.clone(), value);
        }
        (Some(Value::List(l)), Segment::Index(i)) if *i < l.len() => l[*i] = value,
        _ => {
            return Err(Error::validation(format!(
                "{path}: the place to write no longer exists"
            )));
        }
    }
    Ok(())
}

/// What a write does to its item, decided against the item as it is.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteEffect<'a> {
    /// Store this whole item (validated against the schema): the item of a put, or the
    /// new item of an update.
    Put(std::borrow::Cow<'a, Item>),
    /// Remove the item.
    Delete,
    /// Change nothing (a condition check, or a delete of a missing item).
    Nothing,
}

/// Decides a write against the existing item: checks insert-must-not-exist, update
/// must-exist, and the condition, applies update ops, and validates the new item.
///
/// This is the write semantics of the contract in one place; the embedded engine uses it
/// for every write, and a backend that emulates conditional writes (read, decide, write
/// if unchanged) uses it the same way.
///
/// An item of a store whose items expire ([`StoreSchema::ttl`](crate::StoreSchema::ttl))
/// that is expired now is decided as missing.
///
/// Errors: `AlreadyExists`, `NotFound`, `ConditionFailed`, `Validation`.
pub fn decide<'a>(
    schema: &crate::StoreSchema,
    key: &crate::Key,
    op: &super::PlannedOp<'a>,
    condition: Option<&Condition>,
    existing: Option<&Item>,
) -> Result<WriteEffect<'a>> {
    use super::PlannedOp;
    use super::emulate::outcome;
    use crate::PutMode;

    let describe = || format!("{}/{key}", schema.name);
    // An expired item is no item: an insert over it succeeds, an update of it is
    // `NotFound`, and a condition sees it as missing.
    let existing = existing.filter(|i| !schema.is_expired(i));
    match (op, existing) {
        (
            PlannedOp::Put {
                mode: PutMode::Insert,
                ..
            },
            Some(_),
        ) => return Err(outcome::already_exists(&describe())),
        (PlannedOp::Update { .. }, None) => return Err(outcome::not_found_for_update(&describe())),
        _ => {}
    }
    if let Some(c) = condition
        && !matches(c, existing)
    {
        return Err(outcome::condition_failed(&describe()));
    }
    Ok(match op {
        PlannedOp::Put { item, .. } => WriteEffect::Put(std::borrow::Cow::Borrowed(*item)),
        PlannedOp::Update { ops } => {
            let old = existing.expect("checked above");
            let new = apply(old, ops).map_err(|e| e.context(describe()))?;
            schema.check_item(&new)?;
            WriteEffect::Put(std::borrow::Cow::Owned(new))
        }
        PlannedOp::Delete if existing.is_some() => WriteEffect::Delete,
        PlannedOp::Delete | PlannedOp::Check => WriteEffect::Nothing,
    })
}
