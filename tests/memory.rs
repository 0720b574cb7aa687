//! The whole conformance suite on the in-memory engine.

async fn kvs() -> kvs::Kvs {
    kvs::Kvs::memory()
}

kvs::conformance_tests!(kvs);
