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

// `total` is an `f64` in the model.
#[derive(Projection, Deserialize)]
#[serde(rename_all = "camelCase")]
#[kvs(model = Order)]
struct OrderTotal {
    order_id: String,
    total: i64,
}

fn main() {}
