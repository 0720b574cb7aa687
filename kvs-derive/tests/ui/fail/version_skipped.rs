use kvs::KeyValueStore;
use serde::{Deserialize, Serialize};

// The store reads and writes the version under its name: serde must too.
#[derive(KeyValueStore, Serialize, Deserialize)]
#[kvs(store = "docs", partition_key = id)]
struct Doc {
    id: String,
    #[kvs(version)]
    #[serde(skip)]
    version: u64,
}

fn main() {}
