use kvs::KeyValueStore;
use serde::{Deserialize, Serialize};

// Every item has its store keys, so they cannot be optional (an index key may be).
#[derive(KeyValueStore, Serialize, Deserialize)]
#[kvs(store = "posts", partition_key = user_id, sort_key = post_id)]
struct Post {
    user_id: Option<String>,
    post_id: std::option::Option<i64>,
}

fn main() {}
