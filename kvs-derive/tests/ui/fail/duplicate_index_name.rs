use kvs::KeyValueStore;
use serde::{Deserialize, Serialize};

#[derive(KeyValueStore, Serialize, Deserialize)]
#[kvs(store = "orders", partition_key = order_id)]
#[kvs(index(name = "byUser", partition_key = user_id))]
#[kvs(index(name = "byUser", partition_key = status))]
struct Order {
    order_id: String,
    user_id: String,
    status: String,
}

fn main() {}
