use kvs::KeyValueStore;
use serde::{Deserialize, Serialize};

#[derive(KeyValueStore, Serialize, Deserialize)]
#[kvs(store = "users", partition_key = user_idd)]
struct User {
    user_id: String,
    name: String,
}

fn main() {}
