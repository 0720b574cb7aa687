//! Update operations.

use crate::{Path, Value};

/// One operation of an update. The ops of one update are applied in order, every path
/// naming a place in the item as it was before the update.
#[derive(Debug, Clone, PartialEq)]
pub enum UpdateOp {
    /// Creates or replaces the value at `path`. The parent of a nested path must exist;
    /// a list position past the end appends.
    Set {
        /// Where.
        path: Path,
        /// The new value.
        value: Value,
    },
    /// Removes the value at `path`; a missing attribute is fine.
    Remove {
        /// Where.
        path: Path,
    },
    /// Adds a number (a missing attribute counts as 0) or unions a set.
    Add {
        /// Where.
        path: Path,
        /// A number, or a set of the attribute's set type.
        value: Value,
    },
    /// Appends elements to a list (a missing attribute counts as an empty list).
    Append {
        /// Where.
        path: Path,
        /// The elements, in order.
        values: Vec<Value>,
    },
    /// Prepends elements to a list (a missing attribute counts as an empty list).
    Prepend {
        /// Where.
        path: Path,
        /// The elements, in order.
        values: Vec<Value>,
    },
    /// Removes elements: set difference for a set; for a list, every element equal to
    /// one of the values. A missing attribute is fine.
    Delete {
        /// Where.
        path: Path,
        /// The elements to take out.
        values: Vec<Value>,
    },
}

impl UpdateOp {
    /// The values the op writes (none for a REMOVE), each checked like an attribute.
    pub fn operands(&self) -> &[Value] {
        match self {
            UpdateOp::Set { value, .. } | UpdateOp::Add { value, .. } => {
                std::slice::from_ref(value)
            }
            UpdateOp::Append { values, .. }
            | UpdateOp::Prepend { values, .. }
            | UpdateOp::Delete { values, .. } => values,
            UpdateOp::Remove { .. } => &[],
        }
    }

    /// The path the op writes.
    pub fn path(&self) -> &Path {
        match self {
            UpdateOp::Set { path, .. }
            | UpdateOp::Remove { path }
            | UpdateOp::Add { path, .. }
            | UpdateOp::Append { path, .. }
            | UpdateOp::Prepend { path, .. }
            | UpdateOp::Delete { path, .. } => path,
        }
    }

    /// The op's name as the contract spells it: `SET`, `REMOVE`, ...
    pub fn name(&self) -> &'static str {
        match self {
            UpdateOp::Set { .. } => "SET",
            UpdateOp::Remove { .. } => "REMOVE",
            UpdateOp::Add { .. } => "ADD",
            UpdateOp::Append { .. } => "APPEND",
            UpdateOp::Prepend { .. } => "PREPEND",
            UpdateOp::Delete { .. } => "DELETE",
        }
    }

    /// Whether sending the op twice would apply it twice (ADD, APPEND, PREPEND): such an
    /// update is never resent after an ambiguous failure.
    pub fn is_idempotent(&self) -> bool {
        !matches!(
            self,
            UpdateOp::Add { .. } | UpdateOp::Append { .. } | UpdateOp::Prepend { .. }
        )
    }
}

/// The elements of a list or set value, for APPEND, PREPEND and DELETE; any other value
/// is one element.
fn elements(value: Value) -> Vec<Value> {
    match value {
        Value::List(l) => l,
        Value::StringSet(s) => s.into_iter().map(Value::String).collect(),
        Value::NumberSet(s) => s.into_iter().map(Value::Number).collect(),
        Value::BytesSet(s) => s.into_iter().map(Value::Bytes).collect(),
        other => vec![other],
    }
}

/// Anything that names a path: a [`Path`], or text that [`Path::parse`] reads.
pub trait IntoPath {
    /// The path, or a validation error for text that does not parse.
    fn into_path(self) -> crate::Result<Path>;
}

impl IntoPath for Path {
    fn into_path(self) -> crate::Result<Path> {
        self.validate()?;
        Ok(self)
    }
}

impl IntoPath for &Path {
    fn into_path(self) -> crate::Result<Path> {
        self.clone().into_path()
    }
}

impl IntoPath for &str {
    fn into_path(self) -> crate::Result<Path> {
        Path::parse(self)
    }
}

impl IntoPath for String {
    fn into_path(self) -> crate::Result<Path> {
        Path::parse(&self)
    }
}

impl IntoPath for &String {
    fn into_path(self) -> crate::Result<Path> {
        Path::parse(self)
    }
}

/// A list of update ops, built fluently. Paths given as text are parsed here; a path that
/// does not parse is reported (as `Validation`) when the update runs.
///
/// ```
/// use kvs::{Updates, Value};
/// let ops = Updates::new()
///     .set("address.city", "Paris")
///     .add("loginCount", 1)
///     .append("wishlist", Value::list(["p-9"]))
///     .remove("nickname");
/// assert_eq!(ops.ops().len(), 4);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Updates {
    ops: Vec<UpdateOp>,
    error: Option<crate::Error>,
}

impl Updates {
    /// No ops yet.
    pub fn new() -> Self {
        Updates::default()
    }

    fn push(mut self, path: impl IntoPath, make: impl FnOnce(Path) -> UpdateOp) -> Self {
        match path.into_path() {
            Ok(p) => self.ops.push(make(p)),
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
        self
    }

    /// SET: create or replace the value at `path`.
    pub fn set(self, path: impl IntoPath, value: impl Into<Value>) -> Self {
        let value = value.into();
        self.push(path, |path| UpdateOp::Set { path, value })
    }

    /// REMOVE the value at `path`.
    pub fn remove(self, path: impl IntoPath) -> Self {
        self.push(path, |path| UpdateOp::Remove { path })
    }

    /// ADD a number (missing counts as 0) or a set (union).
    pub fn add(self, path: impl IntoPath, value: impl Into<Value>) -> Self {
        let value = value.into();
        self.push(path, |path| UpdateOp::Add { path, value })
    }

    /// APPEND the elements of a list (or one value) to the list at `path`.
    pub fn append(self, path: impl IntoPath, values: impl Into<Value>) -> Self {
        let values = elements(values.into());
        self.push(path, |path| UpdateOp::Append { path, values })
    }

    /// PREPEND the elements of a list (or one value) to the list at `path`.
    pub fn prepend(self, path: impl IntoPath, values: impl Into<Value>) -> Self {
        let values = elements(values.into());
        self.push(path, |path| UpdateOp::Prepend { path, values })
    }

    /// DELETE the elements of a list or set (or one value) from the set or list at `path`.
    pub fn delete(self, path: impl IntoPath, values: impl Into<Value>) -> Self {
        let values = elements(values.into());
        self.push(path, |path| UpdateOp::Delete { path, values })
    }

    /// Adds an op built elsewhere.
    pub fn op(mut self, op: UpdateOp) -> Self {
        self.ops.push(op);
        self
    }

    /// The ops so far.
    pub fn ops(&self) -> &[UpdateOp] {
        &self.ops
    }

    /// The ops, or the first error met while building them.
    pub fn into_ops(self) -> crate::Result<Vec<UpdateOp>> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.ops),
        }
    }

    pub(crate) fn into_parts(self) -> (Vec<UpdateOp>, Option<crate::Error>) {
        (self.ops, self.error)
    }
}

impl From<Vec<UpdateOp>> for Updates {
    fn from(ops: Vec<UpdateOp>) -> Self {
        Updates { ops, error: None }
    }
}
