use kvs::KeyValueStore;
use serde::{Deserialize, Serialize};

#[derive(KeyValueStore, Serialize, Deserialize)]
#[kvs(store = "orders", partition_key = order_id)]
struct Order {
    order_id: String,
    total: f64,
}

#[derive(KeyValueStore, Serialize, Deserialize)]
#[kvs(store = "users", partition_key = user_id)]
struct User {
    user_id: String,
    name: String,
}

fn main() {
    let kvs = kvs::Kvs::memory();
    let _ = kvs.store::<Order>().scan().filter(User::fields().name().eq("Ada"));
}
