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

#[derive(Deserialize)]
struct Rest {
    total: f64,
}

// A projection field reads the model's field of its name, as it is stored.
#[derive(Projection, Deserialize)]
#[serde(rename_all = "camelCase")]
#[kvs(model = Order)]
struct OrderTotal {
    order_id: String,
    #[serde(flatten)]
    rest: Rest,
}

fn main() {}
