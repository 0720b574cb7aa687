use kvs::KeyValueStore;
use serde::{Deserialize, Serialize};

#[derive(KeyValueStore, Serialize, Deserialize)]
#[kvs(store = "users", partition_key = tags)]
struct User {
    tags: Vec<String>,
    name: String,
}

fn main() {}
