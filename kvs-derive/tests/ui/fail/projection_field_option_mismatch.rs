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

// `note` is an `Option<String>` in the model: a projection cannot promise it is there.
#[derive(Projection, Deserialize)]
#[serde(rename_all = "camelCase")]
#[kvs(model = Order)]
struct OrderNote {
    order_id: String,
    note: String,
}

fn main() {}
