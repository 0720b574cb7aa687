use std::time::SystemTime;

use kvs::KeyValueStore;
use serde::{Deserialize, Serialize};

// A key never changes, so it cannot be the time an item expires.
#[derive(KeyValueStore, Serialize, Deserialize)]
#[kvs(store = "events", partition_key = stream, sort_key = at, ttl = at)]
struct Event {
    stream: String,
    at: SystemTime,
}

fn main() {}
