//! The condition AST: filters, write conditions and sort-key conditions.

use crate::{Error, Path, Result, Value, ValueType};

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// `=`
    Eq,
    /// `!=`, which is `not (=)`: true where the attribute is missing.
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CompareOp {
    /// The operator as written: `=`, `!=`, `<`, ...
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Eq => "=",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        }
    }
}

/// A condition over one item: a filter of a query or scan, or the condition of a write.
///
/// Comparing values of different types is false, never an error. Build conditions from
/// [`Path`] methods and combine them with [`and`](Condition::and), [`or`](Condition::or)
/// and `!`:
///
/// ```
/// use kvs::{attr, Condition, Path};
///
/// let c = attr("total").gt(1000)
///     .and(attr("status").is_in(["open", "paid"]))
///     .and(!Path::parse("address.country").unwrap().eq("FR"));
/// assert!(matches!(c, Condition::And(ref parts) if parts.len() == 3));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// `path op value`.
    Compare {
        /// The attribute compared.
        path: Path,
        /// The operator.
        op: CompareOp,
        /// The value compared with.
        value: Value,
    },
    /// `low <= path <= high`; `low > high` is a validation error.
    Between {
        /// The attribute compared.
        path: Path,
        /// Lowest value that matches.
        low: Value,
        /// Highest value that matches.
        high: Value,
    },
    /// The attribute equals one of the values.
    In {
        /// The attribute compared.
        path: Path,
        /// The candidates.
        values: Vec<Value>,
    },
    /// A string (or bytes) attribute starts with the prefix; `""` matches every string.
    BeginsWith {
        /// The attribute tested.
        path: Path,
        /// A string or bytes value.
        prefix: Value,
    },
    /// A substring of a string, an element of a list, or a member of a set.
    Contains {
        /// The attribute tested.
        path: Path,
        /// What it must contain.
        value: Value,
    },
    /// `not contains`: true where the attribute is missing.
    NotContains {
        /// The attribute tested.
        path: Path,
        /// What it must not contain.
        value: Value,
    },
    /// The attribute is present (a null attribute is present).
    Exists(Path),
    /// The attribute is missing.
    NotExists(Path),
    /// The attribute is present and of this type.
    TypeOf {
        /// The attribute tested.
        path: Path,
        /// The type it must have.
        ty: ValueType,
    },
    /// Every condition holds (true when empty).
    And(Vec<Condition>),
    /// At least one condition holds (false when empty).
    Or(Vec<Condition>),
    /// The condition does not hold.
    Not(Box<Condition>),
}

/// The most levels of `and`, `or` and `not` a condition nests: far more than any
/// condition written by hand or built by the typed API, few enough that walking one
/// never exhausts a thread's stack.
pub const MAX_CONDITION_DEPTH: usize = 64;

impl Condition {
    /// Both this and `other` hold. Nested `and`s are flattened.
    pub fn and(self, other: Condition) -> Condition {
        match self {
            Condition::And(mut parts) => {
                parts.push(other);
                Condition::And(parts)
            }
            first => Condition::And(vec![first, other]),
        }
    }

    /// This or `other` holds. Nested `or`s are flattened.
    pub fn or(self, other: Condition) -> Condition {
        match self {
            Condition::Or(mut parts) => {
                parts.push(other);
                Condition::Or(parts)
            }
            first => Condition::Or(vec![first, other]),
        }
    }

    /// All of the conditions hold.
    pub fn all(conditions: impl IntoIterator<Item = Condition>) -> Condition {
        Condition::And(conditions.into_iter().collect())
    }

    /// Any of the conditions holds.
    pub fn any(conditions: impl IntoIterator<Item = Condition>) -> Condition {
        Condition::Or(conditions.into_iter().collect())
    }

    /// Checks what can be checked without an item: paths are well formed, `between`
    /// bounds are ordered, prefixes are strings or bytes, and `and`, `or` and `not`
    /// nest at most [`MAX_CONDITION_DEPTH`] levels.
    pub fn validate(&self) -> Result<()> {
        self.validate_at(0)
    }

    fn validate_at(&self, depth: usize) -> Result<()> {
        if depth > MAX_CONDITION_DEPTH {
            // Every backend walks a condition recursively (to evaluate it, to write it
            // in its query language): a deeper one would exhaust the stack.
            return Err(Error::validation(format!(
                "the condition nests `and`, `or` and `not` deeper than {MAX_CONDITION_DEPTH} levels"
            )));
        }
        match self {
            Condition::Compare { path, value: v, .. }
            | Condition::Contains { path, value: v }
            | Condition::NotContains { path, value: v } => {
                path.validate()?;
                check_operand(path, v)
            }
            Condition::In { path, values } => {
                path.validate()?;
                values.iter().try_for_each(|v| check_operand(path, v))
            }
            Condition::Exists(path)
            | Condition::NotExists(path)
            | Condition::TypeOf { path, .. } => path.validate(),
            Condition::Between { path, low, high } => {
                path.validate()?;
                check_operand(path, low)?;
                check_operand(path, high)?;
                validate_between(low, high)
                    .map_err(|e| e.context(format_args!("between on {path}")))
            }
            Condition::BeginsWith { path, prefix } => {
                path.validate()?;
                validate_prefix(prefix)
            }
            Condition::And(parts) | Condition::Or(parts) => {
                parts.iter().try_for_each(|c| c.validate_at(depth + 1))
            }
            Condition::Not(inner) => inner.validate_at(depth + 1),
        }
    }

    /// Every path the condition reads.
    pub fn paths(&self) -> Vec<&Path> {
        let mut out = Vec::new();
        self.collect_paths(&mut out);
        out
    }

    fn collect_paths<'a>(&'a self, out: &mut Vec<&'a Path>) {
        match self {
            Condition::Compare { path, .. }
            | Condition::Between { path, .. }
            | Condition::In { path, .. }
            | Condition::BeginsWith { path, .. }
            | Condition::Contains { path, .. }
            | Condition::NotContains { path, .. }
            | Condition::Exists(path)
            | Condition::NotExists(path)
            | Condition::TypeOf { path, .. } => out.push(path),
            Condition::And(parts) | Condition::Or(parts) => {
                parts.iter().for_each(|c| c.collect_paths(out))
            }
            Condition::Not(inner) => inner.collect_paths(out),
        }
    }
}

/// A condition compares with finite numbers only: NaN is rejected, never matched.
fn check_operand(path: &Path, value: &Value) -> Result<()> {
    crate::limits::check_operand(path, value).map_err(|e| e.context("a condition value"))
}

/// Adds `condition` to an optional condition with `and`: how several `when` / `filter`
/// calls combine.
pub(crate) fn conjoin(slot: &mut Option<Condition>, condition: Condition) {
    *slot = Some(match slot.take() {
        Some(existing) => existing.and(condition),
        None => condition,
    });
}

pub(crate) fn validate_between(low: &Value, high: &Value) -> Result<()> {
    match low.partial_compare(high) {
        Some(std::cmp::Ordering::Greater) => Err(Error::validation(format!(
            "the lower bound {low} is greater than the upper bound {high}"
        ))),
        Some(_) => Ok(()),
        None => Err(Error::validation(format!(
            "between needs two numbers, two strings or two byte strings, not {} and {}",
            low.value_type(),
            high.value_type()
        ))),
    }
}

pub(crate) fn validate_prefix(prefix: &Value) -> Result<()> {
    match prefix {
        Value::String(_) | Value::Bytes(_) => Ok(()),
        other => Err(Error::validation(format!(
            "begins_with needs a string or bytes prefix, not a {}",
            other.value_type()
        ))),
    }
}

impl std::ops::Not for Condition {
    type Output = Condition;
    fn not(self) -> Condition {
        match self {
            Condition::Not(inner) => *inner,
            other => Condition::Not(Box::new(other)),
        }
    }
}

/// The path `path` says, to build conditions and filters on: text is read as everywhere
/// else ([`Path::parse`]): `address.country` is `address` -> `country`, `tags[0]` a list
/// position, and a backslash makes the next character literal.
///
/// Text that does not parse (`"a..b"`) makes a condition that is refused with
/// `Validation` when the request runs, before anything is sent. A name that holds a dot
/// or a bracket is named literally with [`Path::attr`], or escaped.
///
/// ```
/// use kvs::{attr, Path};
///
/// // The same text, the same path: in a condition and in an update.
/// assert_eq!(attr("address.country"), Path::attr("address").key("country"));
/// let _in_stock = attr("stock[0].count").gt(0);
/// // The attribute literally named "a.b".
/// let literal = Path::attr("a.b").exists();
/// assert_eq!(literal, attr(r"a\.b").exists());
/// ```
pub fn attr(path: impl AsRef<str>) -> Path {
    Path::parse_or_invalid(path.as_ref())
}

/// Condition builders on a path.
impl Path {
    fn compare(self, op: CompareOp, value: impl Into<Value>) -> Condition {
        Condition::Compare {
            path: self,
            op,
            value: value.into(),
        }
    }

    /// `self = value`
    #[allow(clippy::should_implement_trait)]
    pub fn eq(self, value: impl Into<Value>) -> Condition {
        self.compare(CompareOp::Eq, value)
    }

    /// `self != value` (true where the attribute is missing)
    #[allow(clippy::should_implement_trait)]
    pub fn ne(self, value: impl Into<Value>) -> Condition {
        self.compare(CompareOp::Ne, value)
    }

    /// `self < value`
    #[allow(clippy::should_implement_trait)]
    pub fn lt(self, value: impl Into<Value>) -> Condition {
        self.compare(CompareOp::Lt, value)
    }

    /// `self <= value`
    #[allow(clippy::should_implement_trait)]
    pub fn le(self, value: impl Into<Value>) -> Condition {
        self.compare(CompareOp::Le, value)
    }

    /// `self > value`
    #[allow(clippy::should_implement_trait)]
    pub fn gt(self, value: impl Into<Value>) -> Condition {
        self.compare(CompareOp::Gt, value)
    }

    /// `self >= value`
    #[allow(clippy::should_implement_trait)]
    pub fn ge(self, value: impl Into<Value>) -> Condition {
        self.compare(CompareOp::Ge, value)
    }

    /// `low <= self <= high`
    pub fn between(self, low: impl Into<Value>, high: impl Into<Value>) -> Condition {
        Condition::Between {
            path: self,
            low: low.into(),
            high: high.into(),
        }
    }

    /// `self` equals one of `values`
    pub fn is_in<V: Into<Value>>(self, values: impl IntoIterator<Item = V>) -> Condition {
        Condition::In {
            path: self,
            values: values.into_iter().map(Into::into).collect(),
        }
    }

    /// `self` is a string (or bytes) starting with `prefix`
    pub fn begins_with(self, prefix: impl Into<Value>) -> Condition {
        Condition::BeginsWith {
            path: self,
            prefix: prefix.into(),
        }
    }

    /// `self` contains `value` (substring, list element or set member)
    pub fn contains(self, value: impl Into<Value>) -> Condition {
        Condition::Contains {
            path: self,
            value: value.into(),
        }
    }

    /// `not (self contains value)`
    pub fn not_contains(self, value: impl Into<Value>) -> Condition {
        Condition::NotContains {
            path: self,
            value: value.into(),
        }
    }

    /// `self` is present (a null attribute is present)
    pub fn exists(self) -> Condition {
        Condition::Exists(self)
    }

    /// `self` is missing
    pub fn not_exists(self) -> Condition {
        Condition::NotExists(self)
    }

    /// `self` is present and of type `ty`
    pub fn type_of(self, ty: ValueType) -> Condition {
        Condition::TypeOf { path: self, ty }
    }
}

/// A condition on the sort key of a query's table or index.
#[derive(Debug, Clone, PartialEq)]
pub enum SortCondition {
    /// Sort key `=` value.
    Eq(Value),
    /// Sort key `<` value.
    Lt(Value),
    /// Sort key `<=` value.
    Le(Value),
    /// Sort key `>` value.
    Gt(Value),
    /// Sort key `>=` value.
    Ge(Value),
    /// `low <= sort key <= high`.
    Between(Value, Value),
    /// The (string or bytes) sort key starts with the prefix.
    BeginsWith(Value),
}

impl SortCondition {
    /// Sort key `= v`.
    pub fn eq(v: impl Into<Value>) -> Self {
        SortCondition::Eq(v.into())
    }
    /// Sort key `< v`.
    pub fn lt(v: impl Into<Value>) -> Self {
        SortCondition::Lt(v.into())
    }
    /// Sort key `<= v`.
    pub fn le(v: impl Into<Value>) -> Self {
        SortCondition::Le(v.into())
    }
    /// Sort key `> v`.
    pub fn gt(v: impl Into<Value>) -> Self {
        SortCondition::Gt(v.into())
    }
    /// Sort key `>= v`.
    pub fn ge(v: impl Into<Value>) -> Self {
        SortCondition::Ge(v.into())
    }
    /// `low <= sort key <= high`.
    pub fn between(low: impl Into<Value>, high: impl Into<Value>) -> Self {
        SortCondition::Between(low.into(), high.into())
    }
    /// The sort key starts with `prefix`.
    pub fn begins_with(prefix: impl Into<Value>) -> Self {
        SortCondition::BeginsWith(prefix.into())
    }

    /// The same test as a [`Condition`] on the sort key attribute `path`.
    pub fn to_condition(&self, path: Path) -> Condition {
        match self.clone() {
            SortCondition::Eq(v) => path.eq(v),
            SortCondition::Lt(v) => path.lt(v),
            SortCondition::Le(v) => path.le(v),
            SortCondition::Gt(v) => path.gt(v),
            SortCondition::Ge(v) => path.ge(v),
            SortCondition::Between(a, b) => path.between(a, b),
            SortCondition::BeginsWith(p) => path.begins_with(p),
        }
    }

    /// The values the condition compares with.
    pub fn values(&self) -> Vec<&Value> {
        match self {
            SortCondition::Eq(v)
            | SortCondition::Lt(v)
            | SortCondition::Le(v)
            | SortCondition::Gt(v)
            | SortCondition::Ge(v)
            | SortCondition::BeginsWith(v) => vec![v],
            SortCondition::Between(a, b) => vec![a, b],
        }
    }
}
