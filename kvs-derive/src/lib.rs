//! The `#[derive(KeyValueStore)]` macro of `kvs`.
//!
//! This crate is a skeleton for now: the derive lands with its own issue. It is part of
//! the workspace so that the crate layout users will depend on exists from the start.
