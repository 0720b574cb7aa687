use kvs::{Item, KeyValueStore};
use serde::{Deserialize, Serialize};

// Without `flatten`, serde would look for one attribute named `extra`.
#[derive(KeyValueStore, Serialize, Deserialize)]
#[kvs(store = "users", partition_key = id)]
struct User {
    id: String,
    #[kvs(catch_all)]
    extra: Item,
}

fn main() {}
