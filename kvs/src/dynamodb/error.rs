//! SDK errors as kvs errors, with the SDK error kept as the source.

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

use crate::backend::retry::connection_refused;
use crate::{Error, ErrorKind};

/// Error codes by which AWS refuses the credentials themselves: missing, malformed,
/// unknown, expired, or a signature that does not match them.
const UNAUTHENTICATED: &[&str] = &[
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "IncompleteSignatureException",
    "MissingAuthenticationTokenException",
    "MissingAuthenticationToken",
    "ExpiredTokenException",
    "ExpiredToken",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "RequestExpired",
];

/// Error codes by which AWS refuses valid credentials the action (an IAM policy).
const PERMISSION_DENIED: &[&str] = &["AccessDeniedException", "AccessDenied"];

/// Whether the request could not be signed for want of credentials: the credentials
/// provider failed (none found, expired, unreachable), or the client has none at all.
/// The SDK reports both as a dispatch failure, like a network fault.
fn no_credentials(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(e) = current {
        if e.is::<aws_credential_types::provider::error::CredentialsError>() {
            return true;
        }
        // A client built without a credentials provider: the SDK's error type for it is
        // private, so it is known by its name (a test pins it).
        if format!("{e:?}").starts_with("NoMatchingAuthSchemeError") {
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
        SdkError::DispatchFailure(_) if no_credentials(&err) => what(
            ErrorKind::Unauthenticated,
            &format!(
                "no credentials to sign the request with: {}",
                aws_sdk_dynamodb::error::DisplayErrorContext(&err)
            ),
        ),
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            let nothing_sent = connection_refused(&err);
            what(ErrorKind::Unavailable, &format!("{err}")).transient(nothing_sent)
        }
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            match code.as_deref() {
                Some("ConditionalCheckFailedException") => {
                    what(ErrorKind::ConditionFailed, &detail)
                }
                // A query of an index the table lacks (a handle that registered it, the
                // table never ensured with it): an index never defined, as on the other
                // backends. DynamoDB says so only in the message.
                Some("ValidationException")
                    if detail.contains("does not have the specified index") =>
                {
                    what(ErrorKind::StoreNotFound, &detail)
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
                Some(code) if UNAUTHENTICATED.contains(&code) => {
                    what(ErrorKind::Unauthenticated, &format!("{code}: {detail}"))
                }
                Some(code) if PERMISSION_DENIED.contains(&code) => {
                    what(ErrorKind::PermissionDenied, &format!("{code}: {detail}"))
                }
                _ if status == 401 => what(ErrorKind::Unauthenticated, &detail),
                _ if status == 403 => what(ErrorKind::PermissionDenied, &detail),
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

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::error::ErrorMetadata;
    use aws_sdk_dynamodb::operation::put_item::PutItemError;

    /// The error kvs makes of a DynamoDB error answer with `status` and `code`.
    fn service_error(status: u16, code: &str) -> Error {
        let err = PutItemError::generic(
            ErrorMetadata::builder()
                .code(code)
                .message("the service's message")
                .build(),
        );
        let response = HttpResponse::new(status.try_into().expect("a status"), "{}".into());
        sdk_error("PutItem", "items", SdkError::service_error(err, response))
    }

    #[test]
    fn refused_credentials_are_unauthenticated_and_final() {
        for code in UNAUTHENTICATED {
            let e = service_error(400, code);
            assert_eq!(e.kind(), &ErrorKind::Unauthenticated, "{code}: {e}");
            assert!(!e.is_retryable(true), "{code}: sending again cannot help");
            assert!(e.message().contains(code), "{code}: {e}");
        }
    }

    #[test]
    fn access_denied_is_permission_denied_and_final() {
        let e = service_error(400, "AccessDeniedException");
        assert_eq!(e.kind(), &ErrorKind::PermissionDenied, "{e}");
        assert!(!e.is_retryable(true));
        assert!(e.message().contains("items"), "names the table: {e}");
    }

    #[test]
    fn unknown_codes_go_by_http_status() {
        assert_eq!(
            service_error(401, "SomethingNew").kind(),
            &ErrorKind::Unauthenticated
        );
        assert_eq!(
            service_error(403, "SomethingNew").kind(),
            &ErrorKind::PermissionDenied
        );
        assert_eq!(
            service_error(400, "SomethingNew").kind(),
            &ErrorKind::Backend
        );
        let e = service_error(503, "SomethingNew");
        assert_eq!(e.kind(), &ErrorKind::Unavailable);
        assert!(!e.is_retryable(false), "the outcome is unknown");
    }

    #[test]
    fn contention_is_conflict_and_capacity_is_throttled() {
        for code in [
            "TransactionConflictException",
            "TransactionInProgressException",
        ] {
            let e = service_error(400, code);
            assert_eq!(e.kind(), &ErrorKind::Conflict, "{code}: {e}");
            assert!(e.is_retryable(false), "{code}: nothing changed");
        }
        for code in [
            "ProvisionedThroughputExceededException",
            "ThrottlingException",
            "RequestLimitExceeded",
        ] {
            let e = service_error(400, code);
            assert_eq!(e.kind(), &ErrorKind::Throttled, "{code}: {e}");
            assert!(e.is_retryable(false), "{code}: nothing changed");
        }
    }

    #[test]
    fn other_codes_keep_their_meaning() {
        for (code, kind) in [
            (
                "ConditionalCheckFailedException",
                ErrorKind::ConditionFailed,
            ),
            ("ValidationException", ErrorKind::Validation),
            ("ResourceNotFoundException", ErrorKind::StoreNotFound),
        ] {
            assert_eq!(service_error(400, code).kind(), &kind, "{code}");
        }
    }
}
