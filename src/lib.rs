//! The workspace's root package: it owns the integration tests (`tests/`) and the
//! examples (`examples/`) of kvs. Nothing here is published.
