use kvs::KeyValueStore;
use serde::{Deserialize, Serialize};

// The expiry field is a `SystemTime` (or an `Option` of one), not seconds as a number.
#[derive(KeyValueStore, Serialize, Deserialize)]
#[kvs(store = "sessions", partition_key = id, ttl = expires_at)]
struct Session {
    id: String,
    expires_at: i64,
}

fn main() {}
