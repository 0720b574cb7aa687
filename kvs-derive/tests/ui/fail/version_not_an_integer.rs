use kvs::KeyValueStore;
use serde::{Deserialize, Serialize};

// A version counts writes: it is an integer, which a string is not.
#[derive(KeyValueStore, Serialize, Deserialize)]
#[kvs(store = "docs", partition_key = id)]
struct Doc {
    id: String,
    #[kvs(version)]
    version: String,
}

fn main() {}
