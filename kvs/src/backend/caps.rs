//! What a backend declares it can hold and do, and the checks of every request against
//! that declaration, which the [`Kvs`](crate::Kvs) handle runs before anything is sent
//! (single writes, batches and transactions alike), so that an impossible request is
//! `Validation` or `Unsupported` at once and never half done.
//!
//! The portable limits every backend keeps ([`limits`](crate::limits)) are the default
//! declaration; a backend declares only where it is stricter.

use crate::limits::{MAX_DEPTH, MAX_ITEM_SIZE, MAX_TRANSACTION_WRITES, item_size};
use crate::{Error, Item, Key, Number, Path, Result, Segment, StoreSchema, UpdateOp, Value};

/// Which writes one transaction may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransactionScope {
    /// Any items of any stores.
    Any,
    /// Items of one store that share one partition key value (Cosmos DB).
    OnePartition,
    /// No transactions: `transact` is `Unsupported`.
    None,
}

/// What a backend can hold exactly and do. The contract lets a backend refuse (with
/// `Validation`, naming the attribute) a value it cannot store exactly; these say which,
/// so that the library refuses it before sending anything and the conformance suite
/// knows what to expect.
///
/// A backend starts from [`Capabilities::default`] (everything exact, the portable
/// limits) and changes what it must:
///
/// ```
/// use kvs::backend::{Capabilities, TransactionScope};
/// let mut caps = Capabilities::default();
/// caps.max_depth = 20;
/// caps.transactions = TransactionScope::None;
/// assert!(caps.check_item(&kvs::item! { "a" => 1 }).is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Capabilities {
    /// The magnitudes of floats it can store, `(smallest non-zero, largest)`; `None`
    /// for every finite f64.
    pub float_range: Option<(f64, f64)>,
    /// The integers it can store exactly, `(lowest, highest)`; `None` for every i64.
    pub integer_range: Option<(i64, i64)>,
    /// Whether it holds exact decimals: numbers that are no i64 and no f64's shortest
    /// text (a decimal that is an f64's exact binary value is one too, as it would read
    /// back as the f64's shortest text).
    pub exact_decimals: bool,
    /// Whether a float that is a whole number (`2.0`) reads back as a float; where not,
    /// it reads back as the equal integer (`1 == 1.0`, so nothing is lost).
    pub keeps_number_kind: bool,
    /// Whether `-0.0` reads back with its sign (it equals `0.0` either way).
    pub keeps_negative_zero: bool,
    /// How deep maps and lists may nest, the item itself counting as the first level;
    /// at most [`MAX_DEPTH`].
    pub max_depth: usize,
    /// The largest item, in bytes as [`item_size`] counts them; at most
    /// [`MAX_ITEM_SIZE`].
    pub max_item_size: usize,
    /// Which writes one transaction may hold.
    pub transactions: TransactionScope,
    /// The most writes in one transaction; at most [`MAX_TRANSACTION_WRITES`].
    pub max_transaction_writes: usize,
    /// Whether a read of a secondary index right after a write sees it.
    pub consistent_index_reads: bool,
    /// Whether every store exists without being created, empty until written (a
    /// Firestore collection): such a backend cannot tell a store never ensured from an
    /// empty one, so a typed store whose model names it reads and writes it at once
    /// rather than answering `StoreNotFound`. A dynamic store must still be registered
    /// or ensured on the handle first, on every backend.
    pub implicit_stores: bool,
    /// The longest string or bytes value, in bytes, the backend orders items by (a
    /// Firestore index compares only its first 1,500 bytes); `None` for any length. It
    /// limits the attributes queries order by: a store's sort key and, in a store with
    /// indexes, its partition key and its indexes' sort keys (an index query orders ties
    /// by the table's key). A write of a longer value there is `Validation`, so that
    /// every item written can be queried in order.
    pub max_ordered_key_bytes: Option<usize>,
}

impl Default for Capabilities {
    /// Everything exact, as the embedded engine keeps it, within the portable limits.
    fn default() -> Self {
        Capabilities {
            float_range: None,
            integer_range: None,
            exact_decimals: true,
            keeps_number_kind: true,
            keeps_negative_zero: true,
            max_depth: MAX_DEPTH,
            max_item_size: MAX_ITEM_SIZE,
            transactions: TransactionScope::Any,
            max_transaction_writes: MAX_TRANSACTION_WRITES,
            consistent_index_reads: true,
            implicit_stores: false,
            max_ordered_key_bytes: None,
        }
    }
}

impl Capabilities {
    /// Whether a float can be stored.
    pub fn stores_float(&self, f: f64) -> bool {
        f.is_finite()
            && (f == 0.0
                || self
                    .float_range
                    .is_none_or(|(min, max)| (min..max).contains(&f.abs())))
    }

    /// Whether a number can be stored exactly.
    pub fn stores_number(&self, n: &Number) -> bool {
        if let Some(f) = n.float() {
            return self.stores_float(f);
        }
        match n.as_i64() {
            Some(i) if n.is_integer() => self
                .integer_range
                .is_none_or(|(low, high)| (low..=high).contains(&i)),
            // Neither an i64 nor an f64's shortest text: an exact decimal.
            _ => self.exact_decimals,
        }
    }

    /// Whether values must be walked to be checked against this declaration beyond
    /// the portable limits that [`StoreSchema::check_item`] already checks.
    pub(crate) fn is_stricter_than_portable(&self) -> bool {
        self.float_range.is_some()
            || self.integer_range.is_some()
            || !self.exact_decimals
            || self.max_depth < MAX_DEPTH
            || self.max_item_size < MAX_ITEM_SIZE
            || self.max_ordered_key_bytes.is_some()
    }

    /// This declaration held to the portable limits too, where it is looser: what
    /// [`check_item`](Self::check_item) must enforce for an item to be both portable and
    /// storable here, in one walk.
    pub(crate) fn within_portable(&self) -> Capabilities {
        Capabilities {
            max_depth: self.max_depth.min(MAX_DEPTH),
            max_item_size: self.max_item_size.min(MAX_ITEM_SIZE),
            ..*self
        }
    }

    /// Checks what every value of an item must be: numbers finite and storable, names
    /// non-empty, nesting no deeper than [`max_depth`](Self::max_depth), no empty set
    /// in a list, and the whole no larger than [`max_item_size`](Self::max_item_size).
    /// The error (`Validation`) names the attribute at fault.
    pub fn check_item(&self, item: &Item) -> Result<()> {
        let mut at = Vec::new();
        for (name, value) in item.iter() {
            if name.is_empty() {
                return Err(Error::validation("an attribute name cannot be empty"));
            }
            at.push(Step::Key(name));
            self.check_value(value, &mut at)?;
            at.pop();
        }
        let size = item_size(item);
        if size > self.max_item_size {
            return Err(Error::validation(format!(
                "the item is {size} bytes, over the {}-byte limit",
                self.max_item_size
            )));
        }
        Ok(())
    }

    /// Checks the values of a key as [`check_item`](Self::check_item) checks attributes,
    /// named by the schema's key attributes.
    pub fn check_key(&self, schema: &StoreSchema, key: &Key) -> Result<()> {
        let parts = std::iter::once((&schema.partition_key, Some(key.partition())))
            .chain(schema.sort_key.iter().map(|s| (s, key.sort())));
        for (attr, value) in parts {
            if let Some(value) = value {
                self.check_value(value, &mut vec![Step::Key(&attr.name)])?;
            }
        }
        Ok(())
    }

    /// Checks the attributes of an item of `schema` that queries order by against
    /// [`max_ordered_key_bytes`](Self::max_ordered_key_bytes): `Validation` naming the
    /// first that is longer.
    pub fn check_ordered_keys(&self, schema: &StoreSchema, item: &Item) -> Result<()> {
        let Some(max) = self.max_ordered_key_bytes else {
            return Ok(());
        };
        let indexed = !schema.indexes.is_empty();
        let ordered = schema
            .sort_key
            .iter()
            .chain(indexed.then_some(&schema.partition_key))
            .chain(schema.indexes.iter().filter_map(|i| i.sort_key.as_ref()));
        for attr in ordered {
            if let Some(value) = item.get(&attr.name) {
                self.check_ordered_value(&attr.name, value, max)?;
            }
        }
        Ok(())
    }

    /// `Validation` for a string or bytes value longer than `max` at attribute `name`,
    /// one that queries order by.
    fn check_ordered_value(&self, name: &str, value: &Value, max: usize) -> Result<()> {
        let len = match value {
            Value::String(s) => s.len(),
            Value::Bytes(b) => b.len(),
            _ => 0,
        };
        if len > max {
            return Err(Error::validation(format!(
                "attribute {name:?} is {len} bytes: queries order items by it, and this \
                 backend orders by at most {max} bytes of a value"
            )));
        }
        Ok(())
    }

    /// Checks what an update op sets at the top level of an attribute that queries order
    /// by (an index's sort key: the table's keys cannot be updated), as
    /// [`check_ordered_keys`](Self::check_ordered_keys) checks an item.
    pub(crate) fn check_ordered_op(&self, schema: &StoreSchema, op: &UpdateOp) -> Result<()> {
        let (Some(max), UpdateOp::Set { path, value }) = (self.max_ordered_key_bytes, op) else {
            return Ok(());
        };
        let ordered = path.is_top_level()
            && schema
                .indexes
                .iter()
                .filter_map(|i| i.sort_key.as_ref())
                .any(|k| k.name == path.root());
        if ordered {
            self.check_ordered_value(path.root(), value, max)?;
        }
        Ok(())
    }

    /// Checks a value written at `path` (an update operand, a condition value) as
    /// [`check_item`](Self::check_item) checks an attribute; it lands at the path's
    /// depth, so a value set at a nested path is held to the same nesting limit.
    pub fn check_operand(&self, path: &Path, value: &Value) -> Result<()> {
        self.check_value(value, &mut steps(path))
    }

    /// Checks the values an update op writes, each where it lands: a SET's or ADD's
    /// value at the op's path, an APPEND's or PREPEND's elements one level below it (in
    /// the list), as [`check_operand`](Self::check_operand) does.
    pub fn check_op(&self, op: &UpdateOp) -> Result<()> {
        let path = op.path();
        match op {
            UpdateOp::Append { values, .. } | UpdateOp::Prepend { values, .. } => {
                // The elements as the list they make at the path (an error names an
                // element by its place among those added).
                let mut at = steps(path);
                for (i, v) in values.iter().enumerate() {
                    at.push(Step::Index(i));
                    self.check_value(v, &mut at)?;
                    at.pop();
                }
                Ok(())
            }
            _ => op
                .operands()
                .iter()
                .try_for_each(|v| self.check_operand(path, v)),
        }
    }

    fn check_number(&self, n: &Number, at: &[Step<'_>]) -> Result<()> {
        if !n.is_finite() {
            return Err(Error::validation(format!(
                "attribute {} holds {n}: only finite numbers can be stored",
                path_of(at)
            )));
        }
        if self.stores_number(n) {
            return Ok(());
        }
        let range = match (n.float(), self.float_range, self.integer_range) {
            (Some(_), Some((min, max)), _) => {
                format!("its floats range from {min:e} to {max:e} in magnitude")
            }
            (None, _, Some((low, high))) if n.is_integer() => {
                format!("its integers range from {low} to {high}")
            }
            _ => "it holds no exact decimals".to_owned(),
        };
        Err(Error::validation(format!(
            "attribute {} holds {n:?}, which this backend cannot store exactly ({range})",
            path_of(at)
        )))
    }

    fn check_value<'a>(&self, value: &'a Value, at: &mut Vec<Step<'a>>) -> Result<()> {
        match value {
            Value::Number(n) => self.check_number(n, at),
            Value::NumberSet(s) => s.iter().try_for_each(|n| self.check_number(n, at)),
            Value::List(_) | Value::Map(_) if at.len() >= self.max_depth => {
                Err(Error::validation(format!(
                    "attribute {} nests deeper than {} levels",
                    path_of(at),
                    self.max_depth
                )))
            }
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
                    self.check_value(e, at)?;
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
                    self.check_value(e, at)?;
                    at.pop();
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

/// A step of the path to the value being checked, borrowed so that checking allocates
/// nothing unless it fails.
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// The steps down to `path`.
fn steps(path: &Path) -> Vec<Step<'_>> {
    path.segments()
        .iter()
        .map(|s| match s {
            Segment::Attr(name) => Step::Key(name),
            Segment::Index(i) => Step::Index(*i),
        })
        .collect()
}

fn path_of(steps: &[Step<'_>]) -> Path {
    let mut segments = steps.iter().map(|s| match s {
        Step::Key(k) => Segment::Attr((*k).to_owned()),
        Step::Index(i) => Segment::Index(*i),
    });
    let mut path = match segments.next() {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ErrorKind, item};

    #[test]
    fn a_declared_limit_refuses_what_the_portable_one_allows() {
        let mut caps = Capabilities::default();
        let deep = item! { "a" => item! { "b" => item! { "c" => 1 } } };
        assert!(caps.check_item(&deep).is_ok());
        caps.max_depth = 2;
        let e = caps.check_item(&deep).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Validation);
        assert!(e.to_string().contains("a.b"), "{e}");
        caps.integer_range = Some((-10, 10));
        assert!(caps.check_item(&item! { "n" => 10 }).is_ok());
        let e = caps.check_item(&item! { "n" => 11 }).unwrap_err();
        assert!(e.to_string().contains("from -10 to 10"), "{e}");
        caps.max_item_size = 8;
        assert!(caps.check_item(&item! { "s" => "0123456789" }).is_err());
        // A float is judged by the float range, not the integer range.
        assert!(caps.check_item(&item! { "f" => 12.5 }).is_ok());
    }
}
