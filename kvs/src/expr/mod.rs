//! Expressions: paths, conditions and update operations, as plain data.

mod condition;
mod path;
mod update;

pub use condition::{CompareOp, Condition, MAX_CONDITION_DEPTH, SortCondition, attr};
pub(crate) use condition::{conjoin, validate_between, validate_prefix};
pub use path::{Path, Segment};
pub use update::{IntoPath, UpdateOp, Updates};
