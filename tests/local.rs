//! The whole conformance suite on the durable local file engine.

/// A store in a fresh file of its own. The file is unlinked once open: the engine keeps
/// using it, and nothing is left behind when the test ends.
async fn kvs() -> kvs::Kvs {
    let path = std::env::temp_dir().join(format!(
        "{}.redb",
        kvs::conformance::fresh_name("kvs-conformance")
    ));
    let kvs = kvs::Kvs::open(&path).expect("open a local store");
    std::fs::remove_file(&path).expect("unlink the store file");
    kvs
}

// Each write waits for the disk: fewer random inputs than in memory.
kvs::conformance_tests!(kvs, random = kvs::conformance::Random::cases(16));
