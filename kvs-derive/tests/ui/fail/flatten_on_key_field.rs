use kvs::KeyValueStore;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Id {
    value: String,
}

#[derive(KeyValueStore, Serialize, Deserialize)]
#[kvs(store = "users", partition_key = id)]
struct User {
    #[serde(flatten)]
    id: Id,
    name: String,
}

fn main() {}
