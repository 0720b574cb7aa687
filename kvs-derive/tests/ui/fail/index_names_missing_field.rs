use kvs::KeyValueStore;
use serde::{Deserialize, Serialize};

#[derive(KeyValueStore, Serialize, Deserialize)]
#[kvs(store = "orders", partition_key = order_id)]
#[kvs(index(name = "byUser", partition_key = user, sort_key = created))]
struct Order {
    order_id: String,
    user_id: String,
    created_at: i64,
}

fn main() {}
