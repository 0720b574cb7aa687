use kvs::KeyValueStore;
use serde::{Deserialize, Serialize};

#[derive(KeyValueStore, Serialize, Deserialize)]
#[kvs(store = "users", partition_key = id)]
#[kvs(index(name = "byActive", partition_key = active))]
struct User {
    id: String,
    active: bool,
}

fn main() {}
