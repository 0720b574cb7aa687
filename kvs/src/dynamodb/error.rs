//! SDK errors as kvs errors, with the SDK error kept as the source.

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

use crate::{Error, ErrorKind};

/// Whether a failure happened before anything reached the service: a refused
/// connection, found anywhere in the source chain.
fn refused(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return true;
        }
        current = e.source();
    }
    false
}

/// Maps an SDK error of operation `op` on `table` to an error kind. Throttling and refused
/// connections changed nothing and may be retried; a broken connection or a server error
/// after sending has an unknown outcome.
pub(crate) fn sdk_error<E>(op: &str, table: &str, err: SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let code = err.code().map(str::to_owned);
    let detail = err
        .message()
        .map(str::to_owned)
        .unwrap_or_else(|| err.to_string());
    let what = |kind: ErrorKind, text: &str| {
        Error::new(kind, format!("DynamoDB {op} on table {table:?}: {text}"))
    };
    let mapped = match &err {
        SdkError::ConstructionFailure(_) => what(ErrorKind::Backend, &detail),
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            let nothing_sent = refused(&err);
            what(ErrorKind::Unavailable, &format!("{err}")).transient(nothing_sent)
        }
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            match code.as_deref() {
                Some("ConditionalCheckFailedException") => {
                    what(ErrorKind::ConditionFailed, &detail)
                }
                Some("ValidationException") | Some("ItemCollectionSizeLimitExceededException") => {
                    what(ErrorKind::Validation, &detail)
                }
                Some("ResourceNotFoundException") => what(ErrorKind::StoreNotFound, &detail),
                Some(
                    "ProvisionedThroughputExceededException"
                    | "ThrottlingException"
                    | "RequestLimitExceeded",
                ) => what(ErrorKind::Throttled, &detail).transient(true),
                // Contention, not capacity: a write met a transaction on its item (tried
                // again by the kit's `retry_conflicts`, which wraps every single write),
                // or a transaction's token is still being applied (resent as it is).
                Some("TransactionConflictException") => what(ErrorKind::Conflict, &detail),
                Some("TransactionInProgressException") => {
                    what(ErrorKind::Conflict, &detail).transient(true)
                }
                _ if status >= 500 => what(ErrorKind::Unavailable, &detail).transient(false),
                _ => what(
                    ErrorKind::Backend,
                    &format!("{} ({detail})", code.as_deref().unwrap_or("error")),
                ),
            }
        }
        _ => what(ErrorKind::Backend, &detail),
    };
    mapped.with_source(err)
}
