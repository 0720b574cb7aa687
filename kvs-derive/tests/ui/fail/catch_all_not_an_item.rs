use std::collections::BTreeMap;

use kvs::{KeyValueStore, Value};
use serde::{Deserialize, Serialize};

#[derive(KeyValueStore, Serialize, Deserialize)]
#[kvs(store = "users", partition_key = id)]
struct User {
    id: String,
    #[kvs(catch_all)]
    #[serde(flatten)]
    extra: BTreeMap<String, Value>,
}

fn main() {}
