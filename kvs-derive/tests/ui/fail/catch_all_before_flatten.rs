use kvs::{Item, KeyValueStore};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Audit {
    created_by: String,
}

// serde gives a flattened map what the flattened fields before it leave: here the
// catch-all would also hold (and write a second time) `created_by`.
#[derive(KeyValueStore, Serialize, Deserialize)]
#[kvs(store = "users", partition_key = id)]
struct User {
    id: String,
    #[kvs(catch_all)]
    #[serde(flatten)]
    extra: Item,
    #[serde(flatten)]
    audit: Audit,
}

fn main() {}
