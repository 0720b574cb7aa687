use kvs::KeyValueStore;
use serde::{Deserialize, Serialize};

// Every write changes the version; a key never changes.
#[derive(KeyValueStore, Serialize, Deserialize)]
#[kvs(store = "docs", partition_key = id, sort_key = version)]
struct Doc {
    id: String,
    #[kvs(version)]
    version: i64,
}

fn main() {}
