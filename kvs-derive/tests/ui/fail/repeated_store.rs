use kvs::KeyValueStore;
use serde::{Deserialize, Serialize};

#[derive(KeyValueStore, Serialize, Deserialize)]
#[kvs(store = "users")]
#[kvs(store = "people", partition_key = id)]
struct User {
    id: String,
}

fn main() {}
