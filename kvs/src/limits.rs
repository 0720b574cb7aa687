//! Limits every backend keeps, so that an item valid on one is valid on all.

use crate::backend::Capabilities;
use crate::{Error, Item, Key, Path, Result, Segment, StoreSchema, Value};

/// The largest item, in bytes as DynamoDB counts them (attribute names plus values):
/// 400 KB, the limit of the strictest backend, kept on every backend.
pub const MAX_ITEM_SIZE: usize = 400 * 1024;

/// How deep maps and lists may nest, the item itself counting as the first level
/// (DynamoDB's limit): an attribute may hold 31 maps or lists inside one another.
pub const MAX_DEPTH: usize = 32;

/// The most writes in one transaction.
pub const MAX_TRANSACTION_WRITES: usize = 100;

/// The most items a page holds when the query sets no limit.
pub const DEFAULT_PAGE_LIMIT: usize = 1000;

/// The size of an item as DynamoDB counts it.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

fn number_size(n: &crate::Number) -> usize {
    // DynamoDB: about one byte per two significant digits, plus one; at most 21.
    let digits = n.to_string().bytes().filter(u8::is_ascii_digit).count();
    (digits.div_ceil(2) + 1).min(21)
}

fn value_size(v: &Value) -> usize {
    match v {
        Value::Null | Value::Bool(_) => 1,
        Value::Number(n) => number_size(n),
        Value::String(s) => s.len(),
        Value::Bytes(b) => b.len(),
        Value::List(l) => 3 + l.iter().map(|e| 1 + value_size(e)).sum::<usize>(),
        Value::Map(m) => {
            3 + m
                .iter()
                .map(|(k, e)| 1 + k.len() + value_size(e))
                .sum::<usize>()
        }
        Value::StringSet(s) => s.iter().map(String::len).sum(),
        Value::NumberSet(s) => s.iter().map(number_size).sum(),
        Value::BytesSet(s) => s.iter().map(Vec::len).sum(),
    }
}

/// Checks what every value of an item must be: numbers finite, names non-empty, nesting
/// no deeper than [`MAX_DEPTH`], and the whole no larger than [`MAX_ITEM_SIZE`]. The
/// error names the attribute at fault.
pub fn check_values(item: &Item) -> Result<()> {
    let mut at = Vec::new();
    for (name, value) in item.iter() {
        if name.is_empty() {
            return Err(Error::validation("an attribute name cannot be empty"));
        }
        at.push(Step::Key(name));
        check_value(value, &mut at)?;
        at.pop();
    }
    let size = item_size(item);
    if size > MAX_ITEM_SIZE {
        return Err(Error::validation(format!(
            "the item is {size} bytes, over the {MAX_ITEM_SIZE}-byte limit"
        )));
    }
    Ok(())
}

/// Checks that every float of `item` is one the backend can store
/// ([`Capabilities::stores_float`]), naming the attribute. Run on every item of a batch
/// before any is sent, so that a float the backend refuses fails the whole call and
/// nothing is written (a backend finds out only as it converts each chunk).
pub(crate) fn check_floats(item: &Item, caps: &Capabilities) -> Result<()> {
    if caps.float_range.is_none() && caps.exact_decimals {
        return Ok(());
    }
    let mut at = Vec::new();
    for (name, value) in item.iter() {
        at.push(Step::Key(name));
        floats_in(value, caps, &mut at)?;
        at.pop();
    }
    Ok(())
}

/// [`check_floats`] of the values of a key, named by the schema's key attributes.
pub(crate) fn check_key_floats(schema: &StoreSchema, key: &Key, caps: &Capabilities) -> Result<()> {
    if caps.float_range.is_none() && caps.exact_decimals {
        return Ok(());
    }
    let parts = std::iter::once((&schema.partition_key, Some(key.partition())))
        .chain(schema.sort_key.iter().map(|s| (s, key.sort())));
    for (attr, value) in parts {
        if let Some(value) = value {
            floats_in(value, caps, &mut vec![Step::Key(&attr.name)])?;
        }
    }
    Ok(())
}

fn floats_in<'a>(value: &'a Value, caps: &Capabilities, at: &mut Vec<Step<'a>>) -> Result<()> {
    let refused = |n: &crate::Number| n.float().filter(|f| !caps.stores_float(*f));
    let found = match value {
        Value::Number(n) => refused(n),
        Value::NumberSet(s) => s.iter().find_map(refused),
        Value::List(l) => {
            for (i, e) in l.iter().enumerate() {
                at.push(Step::Index(i));
                floats_in(e, caps, at)?;
                at.pop();
            }
            None
        }
        Value::Map(m) => {
            for (k, e) in m {
                at.push(Step::Key(k));
                floats_in(e, caps, at)?;
                at.pop();
            }
            None
        }
        _ => None,
    };
    if let Some(d) = decimal_in(value).filter(|_| !caps.exact_decimals) {
        return Err(Error::validation(format!(
            "attribute {} holds the decimal {d}, which this backend cannot store exactly \
             (it holds integers and floats only)",
            path_of(at)
        )));
    }
    match (found, caps.float_range) {
        (Some(f), Some((min, max))) => Err(Error::validation(format!(
            "attribute {} holds {f:?}, which this backend cannot store exactly (its floats \
             range from {min:e} to {max:e} in magnitude)",
            path_of(at)
        ))),
        _ => Ok(()),
    }
}

/// A decimal held in `value` itself or, for a number set, in one of its elements.
fn decimal_in(value: &Value) -> Option<crate::Number> {
    match value {
        Value::Number(n) if n.is_decimal() => Some(*n),
        Value::NumberSet(s) => s.iter().find(|n| n.is_decimal()).copied(),
        _ => None,
    }
}

/// A step of the path to the value being checked, borrowed so that checking allocates
/// nothing unless it fails.
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

fn path_of(steps: &[Step<'_>]) -> Path {
    let mut segments = steps.iter().map(|s| match s {
        Step::Key(k) => Segment::Attr((*k).to_owned()),
        Step::Index(i) => Segment::Index(*i),
    });
    let first = segments.next();
    let mut path = match first {
        Some(Segment::Attr(name)) => Path::attr(name),
        _ => Path::attr("?"),
    };
    for seg in segments {
        path = match seg {
            Segment::Attr(k) => path.key(k),
            Segment::Index(i) => path.index(i),
        };
    }
    path
}

fn check_value<'a>(value: &'a Value, at: &mut Vec<Step<'a>>) -> Result<()> {
    match value {
        Value::Number(n) if !n.is_finite() => Err(Error::validation(format!(
            "attribute {} is {n}: only finite numbers can be stored",
            path_of(at)
        ))),
        Value::NumberSet(s) if s.iter().any(|n| !n.is_finite()) => Err(Error::validation(format!(
            "attribute {} holds a number that is not finite",
            path_of(at)
        ))),
        Value::List(_) | Value::Map(_) if at.len() >= MAX_DEPTH => Err(Error::validation(format!(
            "attribute {} nests deeper than {MAX_DEPTH} levels",
            path_of(at)
        ))),
        Value::List(l) => {
            if l.iter().any(Value::is_empty_set) {
                // In a map it would be a missing attribute; in a list there is no
                // attribute to leave out, and DynamoDB refuses empty sets.
                return Err(Error::validation(format!(
                    "attribute {} holds an empty set in a list",
                    path_of(at)
                )));
            }
            for (i, e) in l.iter().enumerate() {
                at.push(Step::Index(i));
                check_value(e, at)?;
                at.pop();
            }
            Ok(())
        }
        Value::Map(m) => {
            for (k, e) in m {
                if k.is_empty() {
                    return Err(Error::validation(format!(
                        "attribute {} holds a map with an empty key",
                        path_of(at)
                    )));
                }
                at.push(Step::Key(k));
                check_value(e, at)?;
                at.pop();
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Checks an update operand as [`check_values`] checks an attribute (finite numbers,
/// depth), naming the op's path.
pub(crate) fn check_operand(path: &Path, value: &Value) -> Result<()> {
    // The value lands at the path's depth: start from there, so that a value set at a
    // nested path is held to the same nesting limit as the whole item.
    let mut at: Vec<Step<'_>> = path
        .segments()
        .iter()
        .map(|s| match s {
            Segment::Attr(name) => Step::Key(name),
            Segment::Index(i) => Step::Index(*i),
        })
        .collect();
    check_value(value, &mut at)
}
