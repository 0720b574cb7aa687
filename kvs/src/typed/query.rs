//! Typed queries: a partition of the store or of one of its indexes, with a sort key
//! condition of the sort key's type.

use std::marker::PhantomData;

use super::field::field_value;
use super::traits::{IntoFieldValue, KeyField, StringField};
use crate::{Error, SortCondition, Value};

/// The sort key types a sort condition can be made of: every key type, and not
/// [`NoSortKey`](super::NoSortKey).
#[diagnostic::on_unimplemented(
    message = "this index (or store) has no sort key, so a query on it takes no sort condition",
    label = "no sort key here"
)]
pub trait SortKeyType {
    /// The sort key's type: `Self`. The sort conditions take an
    /// `impl IntoFieldValue<S::Value>` rather than `impl IntoFieldValue<S>`, so that on a
    /// query without a sort key the compiler reports the missing sort key alone: the
    /// value's bound names a type that does not exist and is not checked.
    type Value: KeyField;
}

/// One partition of a model's store (`Model::partition(..)`) or of one of its indexes
/// (`Model::by_user(..)`), with an optional sort key condition. `S` is the sort key's
/// type, or [`NoSortKey`](super::NoSortKey).
pub struct KeyQuery<M, S> {
    pub(crate) index: Option<&'static str>,
    pub(crate) partition: crate::Result<Value>,
    pub(crate) sort: Option<crate::Result<SortCondition>>,
    _types: PhantomData<fn() -> (M, S)>,
}

impl<M, S> std::fmt::Debug for KeyQuery<M, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyQuery")
            .field("index", &self.index)
            .field("partition", &self.partition)
            .field("sort", &self.sort)
            .finish()
    }
}

impl<M, S> KeyQuery<M, S> {
    /// Used by generated code: a query on `index` (or the store) for `partition`.
    #[doc(hidden)]
    pub fn new<P: serde::Serialize>(index: Option<&'static str>, partition: &P) -> Self {
        KeyQuery {
            index,
            partition: field_value(partition).and_then(|v| {
                v.ok_or_else(|| Error::validation("a partition key value cannot be missing"))
            }),
            sort: None,
            _types: PhantomData,
        }
    }

    /// The same query without its sort key type (checked already).
    pub(crate) fn erase(self) -> KeyQuery<M, ()> {
        KeyQuery {
            index: self.index,
            partition: self.partition,
            sort: self.sort,
            _types: PhantomData,
        }
    }

    fn with_sort(mut self, make: impl FnOnce() -> crate::Result<SortCondition>) -> Self {
        self.sort = Some(make());
        self
    }
}

fn sort_value<S: serde::Serialize>(v: S) -> crate::Result<Value> {
    crate::to_value(&v)
}

/// Sort key conditions; each takes a value of the sort key's type, and none compiles on
/// an index (or store) without a sort key.
impl<M, S> KeyQuery<M, S> {
    /// Sort key `= value`.
    pub fn sort_eq(self, value: impl IntoFieldValue<S::Value>) -> Self
    where
        S: SortKeyType,
    {
        self.with_sort(|| Ok(SortCondition::Eq(sort_value(value.into_field())?)))
    }

    /// Sort key `< value`.
    pub fn sort_lt(self, value: impl IntoFieldValue<S::Value>) -> Self
    where
        S: SortKeyType,
    {
        self.with_sort(|| Ok(SortCondition::Lt(sort_value(value.into_field())?)))
    }

    /// Sort key `<= value`.
    pub fn sort_le(self, value: impl IntoFieldValue<S::Value>) -> Self
    where
        S: SortKeyType,
    {
        self.with_sort(|| Ok(SortCondition::Le(sort_value(value.into_field())?)))
    }

    /// Sort key `> value`.
    pub fn sort_gt(self, value: impl IntoFieldValue<S::Value>) -> Self
    where
        S: SortKeyType,
    {
        self.with_sort(|| Ok(SortCondition::Gt(sort_value(value.into_field())?)))
    }

    /// Sort key `>= value`.
    pub fn sort_ge(self, value: impl IntoFieldValue<S::Value>) -> Self
    where
        S: SortKeyType,
    {
        self.with_sort(|| Ok(SortCondition::Ge(sort_value(value.into_field())?)))
    }

    /// `low <= sort key <= high`.
    pub fn sort_between(
        self,
        low: impl IntoFieldValue<S::Value>,
        high: impl IntoFieldValue<S::Value>,
    ) -> Self
    where
        S: SortKeyType,
    {
        self.with_sort(|| {
            Ok(SortCondition::Between(
                sort_value(low.into_field())?,
                sort_value(high.into_field())?,
            ))
        })
    }

    /// The (string) sort key starts with `prefix`.
    pub fn sort_begins_with(self, prefix: impl IntoFieldValue<String>) -> Self
    where
        S: SortKeyType,
        S::Value: StringField,
    {
        self.with_sort(|| {
            Ok(SortCondition::BeginsWith(Value::String(
                prefix.into_field(),
            )))
        })
    }
}
