use kvs::{KeyValueStore, Projection};
use serde::{Deserialize, Serialize};

#[derive(KeyValueStore, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[kvs(store = "orders", partition_key = order_id)]
struct Order {
    order_id: String,
    total: f64,
    note: Option<String>,
}

// `status` is not a field of `Order`.
#[derive(Projection, Deserialize)]
#[serde(rename_all = "camelCase")]
#[kvs(model = Order)]
struct OrderStatus {
    order_id: String,
    status: String,
}

fn main() {}
