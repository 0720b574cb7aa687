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

// Without the model's `rename_all`, `order_id` would be read as "order_id", which the
// model stores as "orderId".
#[derive(Projection, Deserialize)]
#[kvs(model = Order)]
struct OrderTotal {
    order_id: String,
    total: f64,
}

fn main() {}
