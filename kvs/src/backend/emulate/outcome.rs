//! The errors that say how a write came out, worded once for every backend.

use crate::{Error, ErrorKind};

/// An insert found an item: `AlreadyExists`. `what` names the item (`store/key`).
pub fn already_exists(what: &str) -> Error {
    Error::new(ErrorKind::AlreadyExists, format!("{what} already exists"))
}

/// An update found no item: `NotFound` (nothing was created).
pub fn not_found_for_update(what: &str) -> Error {
    Error::new(
        ErrorKind::NotFound,
        format!("{what} does not exist, so it cannot be updated"),
    )
}

/// A write's condition was false: `ConditionFailed`.
pub fn condition_failed(what: &str) -> Error {
    Error::new(
        ErrorKind::ConditionFailed,
        format!("the condition on {what} is false"),
    )
}

/// A write lost a race with another writer: `Conflict`. Nothing changed; trying again
/// may succeed ([`retry_conflicts`](super::retry_conflicts) does, within its budget).
pub fn conflict(what: &str) -> Error {
    Error::new(
        ErrorKind::Conflict,
        format!("{what} changed while it was written"),
    )
}

/// A transaction wrote nothing: `TransactionCanceled`, with a reason per write by
/// position (`None` where the write would have succeeded).
pub fn transaction_canceled(reasons: Vec<Option<ErrorKind>>) -> Error {
    let failed = reasons.iter().filter(|r| r.is_some()).count();
    let total = reasons.len();
    Error::transaction_canceled(
        reasons,
        format!("{failed} of {total} writes could not be done; nothing was written"),
    )
}
