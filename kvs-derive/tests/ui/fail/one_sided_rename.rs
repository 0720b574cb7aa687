use kvs::KeyValueStore;
use serde::{Deserialize, Serialize};

// One stored name is written and another read: the item could never be read back.
#[derive(KeyValueStore, Serialize, Deserialize)]
#[kvs(store = "users", partition_key = id)]
struct User {
    id: String,
    #[serde(rename(serialize = "shown"))]
    hidden: i64,
}

fn main() {}
