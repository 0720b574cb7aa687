use kvs::KeyValueStore;
use serde::{Deserialize, Serialize};

// Repeated across two attributes: they add up, and a model has one sort key.
#[derive(KeyValueStore, Serialize, Deserialize)]
#[kvs(store = "posts", partition_key = user_id, sort_key = created_at)]
#[kvs(sort_key = post_id)]
struct Post {
    user_id: String,
    post_id: String,
    created_at: i64,
}

fn main() {}
