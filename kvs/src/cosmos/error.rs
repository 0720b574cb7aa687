//! Cosmos DB's errors as kvs errors, with the SDK error kept as the source.
//!
//! | Cosmos DB | kvs |
//! |---|---|
//! | 400 | `Validation` (Cosmos DB refused a value or a request) |
//! | 401 | `Unauthenticated` (the key or token is missing, wrong or expired) |
//! | 403 | `PermissionDenied` |
//! | 404 (a database or container) | `StoreNotFound`; a missing item is not an error |
//! | 409 | `AlreadyExists` |
//! | 412 | `Conflict` (an item changed under a guarded write; the kit reads and tries again) |
//! | 413 | `Validation` (the item or batch is too large) |
//! | 429 | `Throttled`, retried by kvs's policy (nothing was done); the message has the retry-after |
//! | 503, 408, 449, 500, a transport failure | `Unavailable`: retried if nothing reached the service (a refused connection); otherwise the outcome is unknown, and a guarded write is not sent again |

use azure_data_cosmos::CosmosError;

use crate::backend::retry::connection_refused;
use crate::{Error, ErrorKind};

/// The first line of an SDK error (its `Display` adds a multi-line diagnostics block).
pub(crate) fn first_line(e: &CosmosError) -> String {
    e.to_string().lines().next().unwrap_or_default().to_owned()
}

/// The SDK's sub-status of a transport failure before the request was sent (the
/// connection could not be made); a failure after sending is 20011.
const TRANSPORT_CONNECTION_FAILED: u32 = 20010;

/// Whether the SDK says, anywhere in the error's chain, that the connection failed
/// before the request was sent: nothing reached the service.
fn connection_failed(e: &CosmosError) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = current {
        if let Some(c) = err.downcast_ref::<CosmosError>()
            && c.status().sub_status().map(|s| u32::from(s.value()))
                == Some(TRANSPORT_CONNECTION_FAILED)
        {
            return true;
        }
        current = err.source();
    }
    false
}

/// The kvs error of a Cosmos DB error from `op` (`"read"`, `"replace"`, ...) on `what`
/// (a container or an item).
pub fn cosmos_error(op: &str, what: &str, e: CosmosError) -> Error {
    let status = e.status();
    let code = u16::from(status.status_code());
    let sub = status.sub_status().map(|s| s.value());
    let detail = first_line(&e);
    let text = |kind: ErrorKind, more: &str| {
        Error::new(
            kind,
            format!(
                "Cosmos DB {op} on {what}: {more}{detail} (HTTP {code}{})",
                sub.map(|s| format!("/{s}")).unwrap_or_default()
            ),
        )
    };
    let mapped = match code {
        400 => text(ErrorKind::Validation, ""),
        401 => text(
            ErrorKind::Unauthenticated,
            "the key or token is missing, wrong or expired: ",
        ),
        403 => text(
            ErrorKind::PermissionDenied,
            "the credentials may not do this: ",
        ),
        404 => text(ErrorKind::StoreNotFound, "not found: "),
        409 => text(ErrorKind::AlreadyExists, ""),
        412 => text(ErrorKind::Conflict, "the item changed: "),
        413 => text(ErrorKind::Validation, "too large: "),
        429 => {
            let after = e
                .response()
                .and_then(|r| r.headers().retry_after_ms)
                .map(std::time::Duration::from_millis);
            let said = after
                .map(|d| format!("retry after {d:?}: "))
                .unwrap_or_default();
            let mapped = text(ErrorKind::Throttled, &said).transient(true);
            match after {
                Some(d) => mapped.with_retry_after(d),
                None => mapped,
            }
        }
        _ if !e.is_from_wire() || code == 0 => {
            // Nothing came back: the request may or may not have reached the service.
            let nothing_sent = connection_refused(&e) || connection_failed(&e);
            text(ErrorKind::Unavailable, "no answer: ").transient(nothing_sent)
        }
        408 | 449 | 500 | 502 | 503 | 504 => {
            text(ErrorKind::Unavailable, "the outcome is unknown: ").transient(false)
        }
        _ => text(ErrorKind::Backend, ""),
    };
    mapped.with_source(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use azure_core::http::StatusCode;
    use azure_data_cosmos::CosmosStatus;

    fn error(code: u16) -> CosmosError {
        CosmosError::builder()
            .with_status(CosmosStatus::new(StatusCode::from(code)))
            .with_message("test")
            .build()
    }

    #[test]
    fn statuses_map_to_kinds() {
        let kind = |code| *cosmos_error("read", "c/x", error(code)).kind();
        assert_eq!(kind(400), ErrorKind::Validation);
        assert_eq!(kind(401), ErrorKind::Unauthenticated);
        assert_eq!(kind(403), ErrorKind::PermissionDenied);
        assert_eq!(kind(404), ErrorKind::StoreNotFound);
        assert_eq!(kind(409), ErrorKind::AlreadyExists);
        assert_eq!(kind(412), ErrorKind::Conflict);
        assert_eq!(kind(413), ErrorKind::Validation);
        assert_eq!(kind(429), ErrorKind::Throttled);
        // Throttling changed nothing; a 503 may have applied a write.
        assert!(cosmos_error("w", "x", error(429)).is_retryable(false));
        let e = cosmos_error("w", "x", error(503));
        assert_eq!(e.kind(), &ErrorKind::Unavailable);
        assert!(!e.is_retryable(false) && e.is_retryable(true));
        assert!(std::error::Error::source(&e).is_some());
    }
}
