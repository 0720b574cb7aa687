use kvs::KeyValueStore;
use serde::{Deserialize, Serialize};

// A second `partition_key` is an error at the repeat, not a silent replacement.
#[derive(KeyValueStore, Serialize, Deserialize)]
#[kvs(store = "users", partition_key = id, partition_key = email)]
struct User {
    id: String,
    email: String,
}

fn main() {}
