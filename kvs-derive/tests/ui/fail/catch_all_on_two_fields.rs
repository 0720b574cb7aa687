use kvs::{Item, KeyValueStore};
use serde::{Deserialize, Serialize};

#[derive(KeyValueStore, Serialize, Deserialize)]
#[kvs(store = "users", partition_key = id)]
struct User {
    id: String,
    #[kvs(catch_all)]
    #[serde(flatten)]
    extra: Item,
    #[kvs(catch_all)]
    #[serde(flatten)]
    more: Item,
}

fn main() {}
