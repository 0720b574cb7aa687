//! The one error type of kvs, with a kind to match on.

use std::fmt;

/// A boxed error from a backend or a library underneath, kept as the [`Error`]'s source.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The result type of every fallible kvs operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, in terms a caller can act on.
///
/// Match on [`Error::kind`]; the message, the source and, for a canceled transaction,
/// [`Error::reasons`] say the details. Every kind is a plain value (`Copy`, no fields),
/// so it can be matched, compared and stored like [`std::io::ErrorKind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The item an update needed does not exist (nothing was created).
    NotFound,
    /// An insert found an item with the same key.
    AlreadyExists,
    /// A write's condition was false; nothing changed.
    ConditionFailed,
    /// A transaction wrote nothing. [`Error::reasons`] holds, by position, `None` for a
    /// write that would have succeeded, else the kind of error it met.
    TransactionCanceled,
    /// The request or an item in it breaks a rule of the contract (bad key, wrong type,
    /// oversize item, bad limit, ...). Nothing was written.
    Validation,
    /// The store or index was never defined.
    StoreNotFound,
    /// A page token is malformed, tampered with, or belongs to another query.
    InvalidPageToken,
    /// The backend refused the work for lack of capacity, after retries. The keys that
    /// were not processed are in [`Error::keys`].
    Throttled,
    /// A write lost to concurrent writers of the same item more often than the retry
    /// budget allows. Nothing changed; sending the request again is safe.
    Conflict,
    /// The backend refused the credentials, or there were none: missing, expired,
    /// malformed or unknown. Nothing was done.
    Unauthenticated,
    /// The credentials are valid but may not do this (an access policy refused it).
    /// Nothing was done.
    PermissionDenied,
    /// The backend could not be reached, or the outcome of a write is unknown.
    Unavailable,
    /// The backend cannot do this at all; nothing was sent.
    Unsupported,
    /// A value could not be converted between a Rust type and a kvs [`Value`](crate::Value).
    Serialization,
    /// Any other backend failure; the backend's own error is the source.
    Backend,
}

impl ErrorKind {
    /// A short stable name of the kind, as used in messages and logs.
    pub fn name(&self) -> &'static str {
        match self {
            ErrorKind::NotFound => "NotFound",
            ErrorKind::AlreadyExists => "AlreadyExists",
            ErrorKind::ConditionFailed => "ConditionFailed",
            ErrorKind::TransactionCanceled => "TransactionCanceled",
            ErrorKind::Validation => "Validation",
            ErrorKind::StoreNotFound => "StoreNotFound",
            ErrorKind::InvalidPageToken => "InvalidPageToken",
            ErrorKind::Throttled => "Throttled",
            ErrorKind::Conflict => "Conflict",
            ErrorKind::Unauthenticated => "Unauthenticated",
            ErrorKind::PermissionDenied => "PermissionDenied",
            ErrorKind::Unavailable => "Unavailable",
            ErrorKind::Unsupported => "Unsupported",
            ErrorKind::Serialization => "Serialization",
            ErrorKind::Backend => "Backend",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of every kvs operation: a [`ErrorKind`], a message, and where the backend
/// failed, its own error as the [source](std::error::Error::source).
///
/// ```
/// use kvs::{Error, ErrorKind};
///
/// fn describe(err: &Error) -> &'static str {
///     match err.kind() {
///         ErrorKind::NotFound => "no such item",
///         ErrorKind::ConditionFailed => "someone else changed it",
///         ErrorKind::TransactionCanceled => "nothing was written",
///         ErrorKind::Throttled | ErrorKind::Conflict => "try again later",
///         _ => "something else",
///     }
/// }
/// let err = Error::new(ErrorKind::NotFound, "users/u-1");
/// assert_eq!(describe(&err), "no such item");
///
/// // A canceled transaction says why, write by write.
/// let err = Error::transaction_canceled(vec![None, Some(ErrorKind::ConditionFailed)], "2 writes");
/// assert_eq!(describe(&err), "nothing was written");
/// assert_eq!(err.reasons(), Some(&[None, Some(ErrorKind::ConditionFailed)][..]));
/// ```
#[derive(Clone)]
pub struct Error(
    // Boxed so that every `Result` of the library is small: an error is rare, and a
    // `Result` the size of its fields would be copied through every level of every
    // serializer, deserializer and request (measured: about 5% of a typed get).
    Box<Inner>,
);

#[derive(Clone)]
struct Inner {
    kind: ErrorKind,
    message: String,
    keys: Vec<crate::Key>,
    /// For [`ErrorKind::TransactionCanceled`], the reason of each write; empty otherwise.
    reasons: Vec<Option<ErrorKind>>,
    retry: Retry,
    /// How long the service asked to wait before another try (a 429's retry-after).
    retry_after: Option<std::time::Duration>,
    // An `Arc` so that errors can be cloned (a builder keeps one until it runs).
    source: Option<std::sync::Arc<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    /// An error of `kind` with a message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error(Box::new(Inner {
            kind,
            message: message.into(),
            keys: Vec::new(),
            reasons: Vec::new(),
            retry: Retry::No,
            retry_after: None,
            source: None,
        }))
    }

    /// A [`ErrorKind::TransactionCanceled`] error with, by position, `None` for a write
    /// that would have succeeded, else the kind of error it met.
    pub fn transaction_canceled(
        reasons: Vec<Option<ErrorKind>>,
        message: impl Into<String>,
    ) -> Self {
        let mut e = Error::new(ErrorKind::TransactionCanceled, message);
        e.0.reasons = reasons;
        e
    }

    /// A [`ErrorKind::Validation`] error.
    pub fn validation(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Validation, message)
    }

    /// A [`ErrorKind::Unsupported`] error.
    pub fn unsupported(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Unsupported, message)
    }

    /// A [`ErrorKind::Serialization`] error.
    pub fn serialization(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Serialization, message)
    }

    /// A [`ErrorKind::InvalidPageToken`] error.
    pub fn invalid_page_token(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidPageToken, message)
    }

    /// A [`ErrorKind::Backend`] error wrapping the backend's own error.
    pub fn backend(message: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Error::new(ErrorKind::Backend, message).with_source(source)
    }

    /// Keeps `source` as the cause of this error.
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.0.source = Some(std::sync::Arc::from(source.into()));
        self
    }

    /// Attaches the keys this error is about (the keys a batch did not process).
    pub fn with_keys(mut self, keys: Vec<crate::Key>) -> Self {
        self.0.keys = keys;
        self
    }

    /// Marks the error as transient: `changed_nothing` when the backend said the request
    /// had no effect (throttling, a refused connection), so any request may be sent
    /// again; otherwise the outcome is unknown (the connection broke after sending), and
    /// only an idempotent request may be.
    pub fn transient(mut self, changed_nothing: bool) -> Self {
        self.0.retry = if changed_nothing {
            Retry::Safe
        } else {
            Retry::IfIdempotent
        };
        self
    }

    /// Records how long the service asked to wait before another try (a throttled
    /// request's retry-after): the retry policy waits at least that long.
    pub fn with_retry_after(mut self, after: std::time::Duration) -> Self {
        self.0.retry_after = Some(after);
        self
    }

    /// How long the service asked to wait before another try, if it said.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        self.0.retry_after
    }

    /// Whether sending the request again may succeed and cannot apply it twice, given
    /// whether the request is idempotent (an update with ADD, APPEND or PREPEND is not).
    ///
    /// A [`ErrorKind::Conflict`] always is: it changed nothing, and another try may come
    /// at a quieter moment.
    pub fn is_retryable(&self, idempotent: bool) -> bool {
        if self.0.kind == ErrorKind::Conflict {
            return true;
        }
        match self.0.retry {
            Retry::No => false,
            Retry::Safe => true,
            Retry::IfIdempotent => idempotent,
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    /// The human-readable message, without the kind.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The keys the error is about: for a batch operation that gave up, the keys that
    /// were not read or written. Empty otherwise.
    pub fn keys(&self) -> &[crate::Key] {
        &self.0.keys
    }

    /// For [`ErrorKind::TransactionCanceled`], the reason of each write by position:
    /// `None` for a write that would have succeeded, else the kind of error it met.
    /// `None` for every other kind.
    pub fn reasons(&self) -> Option<&[Option<ErrorKind>]> {
        (self.0.kind == ErrorKind::TransactionCanceled).then_some(self.0.reasons.as_slice())
    }

    /// Whether the error is of the given kind: `err.is(&ErrorKind::NotFound)` is
    /// `*err.kind() == ErrorKind::NotFound`.
    pub fn is(&self, kind: &ErrorKind) -> bool {
        self.0.kind == *kind
    }

    /// Prefixes the message with context, keeping kind, keys and source.
    pub(crate) fn context(mut self, context: impl fmt::Display) -> Self {
        self.0.message = format!("{context}: {}", self.0.message);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.0.kind, self.0.message)?;
        if let Some(reasons) = self.reasons() {
            f.write_str(" [")?;
            for (i, r) in reasons.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                match r {
                    Some(k) => write!(f, "{i}: {k}")?,
                    None => write!(f, "{i}: ok")?,
                }
            }
            f.write_str("]")?;
        }
        if !self.0.keys.is_empty() {
            write!(f, " (keys: ")?;
            for (i, k) in self.0.keys.iter().take(10).enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{k}")?;
            }
            if self.0.keys.len() > 10 {
                write!(f, ", and {} more", self.0.keys.len() - 10)?;
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.0.kind)
            .field("message", &self.0.message);
        if !self.0.keys.is_empty() {
            d.field("keys", &self.0.keys);
        }
        if let Some(reasons) = self.reasons() {
            d.field("reasons", &reasons);
        }
        if let Some(source) = &self.0.source {
            d.field("source", source);
        }
        d.finish()
    }
}

/// Whether a failed request may be sent again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Retry {
    /// No: the error is final.
    No,
    /// Yes: the backend said nothing changed.
    Safe,
    /// Only if the request is idempotent: the outcome is unknown.
    IfIdempotent,
}

/// Two errors are equal when kind, message, keys and transaction reasons are (sources
/// are not compared).
impl PartialEq for Error {
    fn eq(&self, other: &Self) -> bool {
        self.0.kind == other.0.kind
            && self.0.message == other.0.message
            && self.0.keys == other.0.keys
            && self.0.reasons == other.0.reasons
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_ref()
            .map(|s| s.as_ref() as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conflict_is_safe_to_retry_even_when_not_idempotent() {
        let e = Error::new(ErrorKind::Conflict, "kept changing");
        assert!(e.is_retryable(false));
        assert!(e.is_retryable(true));
        for kind in [
            ErrorKind::Unauthenticated,
            ErrorKind::PermissionDenied,
            ErrorKind::Throttled,
        ] {
            assert!(!Error::new(kind, "x").is_retryable(true), "{kind}");
        }
    }

    #[test]
    fn a_canceled_transaction_carries_its_reasons() {
        let reasons = vec![None, Some(ErrorKind::ConditionFailed)];
        let e = Error::transaction_canceled(reasons.clone(), "2 writes");
        assert_eq!(*e.kind(), ErrorKind::TransactionCanceled);
        assert!(e.is(&ErrorKind::TransactionCanceled));
        assert_eq!(e.reasons(), Some(reasons.as_slice()));
        assert_eq!(
            e.to_string(),
            "TransactionCanceled: 2 writes [0: ok, 1: ConditionFailed]"
        );
        assert_ne!(e, Error::transaction_canceled(vec![None, None], "2 writes"));
        // Other kinds have no reasons, and a plain TransactionCanceled has an empty list.
        assert_eq!(Error::new(ErrorKind::NotFound, "x").reasons(), None);
        assert_eq!(
            Error::new(ErrorKind::TransactionCanceled, "x").reasons(),
            Some(&[][..])
        );
    }

    #[test]
    fn a_result_is_no_bigger_than_its_value_and_a_pointer() {
        // What the box is for: every serializer and deserializer step returns one.
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
        assert!(std::mem::size_of::<Result<String>>() <= 4 * std::mem::size_of::<usize>());
    }

    #[test]
    fn every_kind_has_a_distinct_name() {
        let kinds = [
            ErrorKind::NotFound,
            ErrorKind::AlreadyExists,
            ErrorKind::ConditionFailed,
            ErrorKind::TransactionCanceled,
            ErrorKind::Validation,
            ErrorKind::StoreNotFound,
            ErrorKind::InvalidPageToken,
            ErrorKind::Throttled,
            ErrorKind::Conflict,
            ErrorKind::Unauthenticated,
            ErrorKind::PermissionDenied,
            ErrorKind::Unavailable,
            ErrorKind::Unsupported,
            ErrorKind::Serialization,
            ErrorKind::Backend,
        ];
        let names: std::collections::HashSet<_> = kinds.iter().map(ErrorKind::name).collect();
        assert_eq!(names.len(), kinds.len());
        assert_eq!(ErrorKind::Conflict.to_string(), "Conflict");
    }
}
