//! The workspace's root package, kvs-tests: it owns the integration tests (`tests/`) and
//! tests README's code. Nothing here is published.

// README's Rust blocks are this crate's doctests, so that they compile (and, unless
// marked `no_run` because they need a server, run) on every `cargo test`. They are
// here rather than in kvs because this package always builds every backend, which the
// DynamoDB section needs.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme {}
