use kvs::KeyValueStore;
use serde::{Deserialize, Serialize};

#[derive(KeyValueStore, Serialize, Deserialize)]
#[kvs(store = "docs", partition_key = id)]
struct Doc {
    id: String,
    #[kvs(version)]
    version: u64,
    #[kvs(version)]
    revision: u64,
}

fn main() {}
