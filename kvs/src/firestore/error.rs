//! gRPC statuses from Firestore as kvs errors, with the status kept as the source.
//!
//! | Firestore | kvs |
//! |---|---|
//! | `ABORTED` (contention) | `Conflict`; the kit tries the write again |
//! | `FAILED_PRECONDITION` on a commit (the `update_time` or `exists` guard) | the write is lost to another writer: tried again by the kit, `Conflict` past the budget |
//! | `FAILED_PRECONDITION ... requires an index` on a query | `StoreNotFound`, naming the index to create (see [`index_file`](super::index_file)) |
//! | `FAILED_PRECONDITION ... Datastore Mode` | `Unsupported`: the database is in Datastore mode, which the Firestore API does not serve; never retried |
//! | `RESOURCE_EXHAUSTED` | `Throttled`, retried with backoff (nothing was done) |
//! | `UNAVAILABLE` | `Unavailable`: retried if nothing reached the service (a refused connection); otherwise the outcome is unknown, and a write is not sent again |
//! | `DEADLINE_EXCEEDED`, `INTERNAL`, `UNKNOWN`, `CANCELLED` | `Unavailable`, outcome unknown |
//! | `UNAUTHENTICATED` | `Unauthenticated` (never `Unavailable`) |
//! | `PERMISSION_DENIED` | `PermissionDenied` |
//! | `NOT_FOUND` of a document (a get, or a commit's `exists` guard) | a missing item, or a write lost to another writer (tried again by the kit) |
//! | `NOT_FOUND`, "The database ... does not exist" | `StoreNotFound`; never a missing item nor a lost race |
//! | `ALREADY_EXISTS` | `AlreadyExists` |
//! | `INVALID_ARGUMENT`, `OUT_OF_RANGE` | `Validation` (Firestore refused a value or a request) |

use firestore::gcloud_sdk::tonic::{Code, Status};

use crate::backend::retry::connection_refused;
use crate::{Error, ErrorKind};

/// The kvs error of a Firestore status from `op` (`"Commit"`, `"RunQuery"`, ...) on
/// `what` (a collection or document).
pub fn status_error(op: &str, what: &str, status: Status) -> Error {
    let detail = status.message().to_owned();
    let text = |kind: ErrorKind, more: &str| {
        Error::new(
            kind,
            format!(
                "Firestore {op} on {what}: {more}{detail} ({:?})",
                status.code()
            ),
        )
    };
    let mapped = match status.code() {
        Code::Aborted => text(ErrorKind::Conflict, "lost to a concurrent transaction: "),
        Code::FailedPrecondition if detail.contains("index") => text(
            ErrorKind::StoreNotFound,
            "the query needs a composite index that does not exist yet; create the \
             indexes of `kvs::firestore::index_file` (Firestore says: ",
        ),
        Code::FailedPrecondition if detail.contains("Datastore Mode") => text(
            ErrorKind::Unsupported,
            "the database is in Datastore mode, which the Firestore API kvs uses does not \
             serve; use a database in Firestore Native mode (Firestore says: ",
        ),
        Code::FailedPrecondition => text(ErrorKind::Conflict, "the document changed: "),
        Code::ResourceExhausted => text(ErrorKind::Throttled, "").transient(true),
        Code::Unavailable => {
            let nothing_sent = connection_refused(&status);
            text(ErrorKind::Unavailable, "").transient(nothing_sent)
        }
        Code::DeadlineExceeded | Code::Internal | Code::Unknown | Code::Cancelled => {
            text(ErrorKind::Unavailable, "the outcome is unknown: ").transient(false)
        }
        Code::Unauthenticated => text(
            ErrorKind::Unauthenticated,
            "the credentials are missing, expired or refused (UNAUTHENTICATED): ",
        ),
        Code::PermissionDenied => text(
            ErrorKind::PermissionDenied,
            "the credentials may not do this (PERMISSION_DENIED): ",
        ),
        Code::NotFound => text(ErrorKind::StoreNotFound, "not found: "),
        Code::AlreadyExists => text(ErrorKind::AlreadyExists, ""),
        Code::InvalidArgument | Code::OutOfRange => text(ErrorKind::Validation, ""),
        _ => text(ErrorKind::Backend, ""),
    };
    mapped.with_source(status)
}

/// Whether a NOT_FOUND is about the database itself (it does not exist, or is not one
/// this API serves), not a document: Firestore says so only in its message.
pub fn missing_database(status: &Status) -> bool {
    let m = status.message();
    // "The database (default) does not exist for project p ..."; a document's own
    // NOT_FOUND names it by a path that holds `databases/`, never these words.
    status.code() == Code::NotFound && m.contains("The database") && m.contains("does not exist")
}

/// Whether a FAILED_PRECONDITION is about the database, not the document: a query that
/// needs an index, or a database in Datastore mode, which the Firestore API does not
/// serve. Neither changes by trying again.
fn misconfigured(status: &Status) -> bool {
    let m = status.message();
    status.code() == Code::FailedPrecondition
        && (m.contains("requires an index") || m.contains("Datastore Mode"))
}

/// Whether a commit's failure means its precondition did not hold (another writer came
/// first, or the document appeared or went): the write was not done, and the kit reads
/// and tries again.
pub fn lost_race(status: &Status) -> bool {
    match status.code() {
        Code::FailedPrecondition => !misconfigured(status),
        Code::NotFound => !missing_database(status),
        Code::AlreadyExists | Code::Aborted => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_kinds() {
        let kind = |code, msg: &str| *status_error("Op", "x", Status::new(code, msg)).kind();
        assert_eq!(
            kind(Code::Aborted, "too much contention"),
            ErrorKind::Conflict
        );
        assert_eq!(
            kind(
                Code::FailedPrecondition,
                "The query requires an index. You can create it here: https://..."
            ),
            ErrorKind::StoreNotFound
        );
        assert_eq!(kind(Code::ResourceExhausted, "quota"), ErrorKind::Throttled);
        assert_eq!(kind(Code::Unavailable, "down"), ErrorKind::Unavailable);
        assert_eq!(kind(Code::DeadlineExceeded, "slow"), ErrorKind::Unavailable);
        assert_eq!(kind(Code::InvalidArgument, "bad"), ErrorKind::Validation);
        assert_eq!(kind(Code::AlreadyExists, "there"), ErrorKind::AlreadyExists);
        assert_eq!(kind(Code::NotFound, "no db"), ErrorKind::StoreNotFound);
        let e = status_error("Op", "x", Status::new(Code::Unauthenticated, "no token"));
        assert_eq!(e.kind(), &ErrorKind::Unauthenticated);
        assert!(e.to_string().contains("UNAUTHENTICATED"), "{e}");
        assert_eq!(
            kind(Code::PermissionDenied, "rules"),
            ErrorKind::PermissionDenied
        );
        // Throttling changed nothing and may be resent; a deadline may have applied it.
        assert!(
            status_error("Op", "x", Status::new(Code::ResourceExhausted, "")).is_retryable(false)
        );
        assert!(
            !status_error("Op", "x", Status::new(Code::DeadlineExceeded, "")).is_retryable(false)
        );
        assert!(
            status_error("Op", "x", Status::new(Code::DeadlineExceeded, "")).is_retryable(true)
        );
        assert!(
            std::error::Error::source(&status_error("Op", "x", Status::new(Code::Internal, "")))
                .is_some()
        );
    }

    #[test]
    fn lost_races_are_told_apart_from_missing_indexes() {
        assert!(lost_race(&Status::new(
            Code::FailedPrecondition,
            "update_time mismatch"
        )));
        assert!(!lost_race(&Status::new(
            Code::FailedPrecondition,
            "The query requires an index"
        )));
        assert!(lost_race(&Status::new(Code::AlreadyExists, "exists")));
        // The database, not the document: nothing a retry changes.
        let no_db = Status::new(
            Code::NotFound,
            "The database (default) does not exist for project p Please visit ...",
        );
        assert!(missing_database(&no_db) && !lost_race(&no_db));
        assert!(lost_race(&Status::new(
            Code::NotFound,
            "no entity to update"
        )));
        let datastore = Status::new(
            Code::FailedPrecondition,
            "The Cloud Firestore API is not available for Firestore in Datastore Mode database projects/p/databases/(default).",
        );
        assert!(!lost_race(&datastore));
        assert_eq!(
            *status_error("Commit", "x", datastore).kind(),
            ErrorKind::Unsupported
        );
        assert!(!lost_race(&Status::new(Code::InvalidArgument, "bad")));
    }
}
