//! The tool's one error: a kind, a one-line message, what to do, and an exit status.
//!
//! Printed as `kvs: <kind>: <message> (<what to do>)`. Exit statuses: 2 a usage error,
//! 3 not found or invalid (a store, an item, a filter, a key, a damaged stream), 4 the
//! backend could not be reached or refused the credentials, 5 anything else, 130 an
//! interrupted copy (its checkpoint saved).

use kvs::ErrorKind;

/// The tool's error.
#[derive(Debug)]
pub struct CliError {
    kind: Kind,
    message: String,
    hint: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Usage,
    Interrupted,
    Kvs(ErrorKind),
}

impl CliError {
    /// An error of a kvs kind.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        CliError {
            kind: Kind::Kvs(kind),
            message: message.into(),
            hint: None,
        }
    }

    /// A usage error (exit status 2).
    pub fn usage(message: impl Into<String>) -> Self {
        CliError {
            kind: Kind::Usage,
            message: message.into(),
            hint: None,
        }
    }

    /// An interrupted copy (exit status 130); `message` says how to resume.
    pub fn interrupted(message: impl Into<String>) -> Self {
        CliError {
            kind: Kind::Interrupted,
            message: message.into(),
            hint: None,
        }
    }

    /// A validation error (exit status 3).
    pub fn validation(message: impl Into<String>) -> Self {
        CliError::new(ErrorKind::Validation, message)
    }

    /// Says what to do about it, replacing the kind's default advice.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Prefixes the message with where it happened.
    pub fn context(mut self, context: impl std::fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    /// The process exit status.
    pub fn exit_code(&self) -> u8 {
        match self.kind {
            Kind::Usage => 2,
            Kind::Interrupted => 130,
            Kind::Kvs(k) => match k {
                ErrorKind::NotFound
                | ErrorKind::StoreNotFound
                | ErrorKind::Validation
                | ErrorKind::InvalidPageToken
                | ErrorKind::Serialization
                | ErrorKind::Unsupported
                | ErrorKind::AlreadyExists
                | ErrorKind::ConditionFailed => 3,
                ErrorKind::Unavailable
                | ErrorKind::Unauthenticated
                | ErrorKind::PermissionDenied => 4,
                _ => 5,
            },
        }
    }

    fn kind_name(&self) -> &'static str {
        match self.kind {
            Kind::Usage => "Usage",
            Kind::Interrupted => "Interrupted",
            Kind::Kvs(k) => k.name(),
        }
    }

    fn default_hint(&self) -> &'static str {
        match self.kind {
            Kind::Usage => "see `kvs --help`",
            Kind::Interrupted => "run the same command again to resume",
            Kind::Kvs(k) => match k {
                ErrorKind::StoreNotFound => "`kvs stores URL` lists the stores",
                ErrorKind::NotFound => "check the name",
                ErrorKind::Validation => "check the arguments and the data against the contract",
                ErrorKind::Serialization => "the data holds a value this format cannot hold",
                ErrorKind::InvalidPageToken => {
                    "the position does not belong to this store: start again without it"
                }
                ErrorKind::Unsupported => "this backend cannot hold or do this",
                ErrorKind::Unavailable => {
                    "check that the backend is running and reachable at the URL's address, then retry"
                }
                ErrorKind::Unauthenticated => "check the credentials the backend is given",
                ErrorKind::PermissionDenied => "the credentials may not do this: ask for the right",
                ErrorKind::Throttled => "lower --rate or --concurrency, or retry later",
                ErrorKind::Conflict => "another writer got there first: retry",
                _ => "retry; if it persists, report it with this line",
            },
        }
    }

    /// The one line printed on standard error.
    pub fn line(&self) -> String {
        let one_line = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        let hint = self.hint.as_deref().unwrap_or_else(|| self.default_hint());
        format!(
            "kvs: {}: {} ({})",
            self.kind_name(),
            one_line(&self.message),
            one_line(hint)
        )
    }
}

impl From<kvs::Error> for CliError {
    fn from(e: kvs::Error) -> Self {
        // The message with the keys a batch error names (kvs's Display, less the kind).
        let text = e.to_string();
        let message = text
            .strip_prefix(&format!("{}: ", e.kind()))
            .unwrap_or(&text)
            .to_owned();
        let error = CliError::new(*e.kind(), message);
        if *e.kind() == ErrorKind::Unsupported && e.message().contains("needs TLS") {
            // The library names its own features; the tool has one for both.
            return error.hint(
                "build the tool with TLS for the cloud services: cargo install --path kvs-cli \
                 --features tls (or name a local emulator's http:// address)",
            );
        }
        error
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::new(ErrorKind::Backend, e.to_string()).hint("check the files and the pipe")
    }
}
