use kvs::{Item, KeyValueStore};
use serde::{Deserialize, Serialize};

#[derive(KeyValueStore, Serialize, Deserialize)]
#[kvs(store = "users", partition_key = id)]
struct User {
    #[kvs(catch_all)]
    #[serde(flatten)]
    id: Item,
    name: String,
}

fn main() {}
