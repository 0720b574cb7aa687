use kvs::KeyValueStore;
use serde::{Deserialize, Serialize};

#[derive(KeyValueStore, Serialize, Deserialize)]
#[kvs(store = "users", partition_key = id)]
#[kvs(index(name = "byName", partition_key = name, partition_key = nick))]
struct User {
    id: String,
    name: String,
    nick: String,
}

fn main() {}
