use kvs::{KeyValueStore, Nested};
use serde::{Deserialize, Serialize};

#[derive(Nested, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Status {
    Pending,
    Completed,
}

#[derive(KeyValueStore, Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
#[kvs(store = "orders", partition_key = order_id)]
#[kvs(index(name = "byUser", partition_key = user_id, sort_key = created_at))]
#[kvs(index(name = "byStatus", partition_key = status))]
struct Order {
    order_id: String,
    user_id: String,
    created_at: i64,
    total: f64,
    status: Status,
    lines: Vec<String>,
    note: Option<String>,
}

fn main() {
    let kvs = kvs::Kvs::memory();
    let _ = kvs.store::<Order>().update("o-1").remove(Order::fields().order_id());
}
