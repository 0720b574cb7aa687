use std::time::SystemTime;

use kvs::KeyValueStore;
use serde::{Deserialize, Serialize};

// The expiry field must be stored for the store to see it.
#[derive(KeyValueStore, Serialize, Deserialize)]
#[kvs(store = "sessions", partition_key = id, ttl = expires_at)]
struct Session {
    id: String,
    #[serde(skip)]
    expires_at: Option<SystemTime>,
}

fn main() {}
