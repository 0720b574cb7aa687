use kvs::KeyValueStore;
use serde::{Deserialize, Serialize};

#[derive(KeyValueStore, Serialize, Deserialize)]
#[kvs(store = "sessions", partition_key = id, ttl = expires)]
struct Session {
    id: String,
    expires_after: u64,
}

fn main() {}
