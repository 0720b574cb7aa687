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

// A store without native projections gives a projection the whole item.
#[derive(Projection, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[kvs(model = Order)]
struct OrderTotal {
    order_id: String,
    total: f64,
}

fn main() {}
