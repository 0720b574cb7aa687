use kvs::KeyValueStore;
use serde::{Deserialize, Serialize};

#[derive(KeyValueStore, Serialize, Deserialize)]
#[kvs(store = "users", partition_key = id)]
struct User {
    id: String,
    #[kvs(opaque)]
    #[kvs(opaque)]
    blob: Vec<u8>,
}

fn main() {}
