//! The whole conformance suite on the in-memory engine.

async fn kvs() -> kvs::Kvs {
    kvs::Kvs::memory()
}

// In memory a random input takes milliseconds: many of them.
kvs::conformance_tests!(kvs, random = kvs::conformance::Random::cases(256));
