use kvs::prelude::*;
use serde::{Deserialize, Serialize};

// The derive reports its errors (a repeated partition key; a sort key and an index key
// naming missing fields; a bool index key), and still generates the model's items: the
// code below that uses them shows no error of its own.
#[derive(KeyValueStore, Serialize, Deserialize, Clone)]
#[kvs(store = "orders", partition_key = order_id, partition_key = user_id)]
#[kvs(sort_key = created)]
#[kvs(index(name = "byUser", partition_key = user, sort_key = created_at))]
#[kvs(index(name = "byActive", partition_key = active))]
struct Order {
    order_id: String,
    user_id: String,
    created_at: i64,
    total: f64,
    active: bool,
}

async fn uses(kvs: kvs::Kvs) -> kvs::Result<()> {
    let orders = kvs.store::<Order>();
    let f = Order::fields();
    let order = orders.get("o-1").await?.expect("there");
    orders.upsert(&order).when(f.total().gt(10)).await?;
    orders.update(("o-1", 5)).set(f.total(), 3.5).await?;
    orders.delete(order.key()).await?;
    orders.query(Order::partition("o-1").sort_ge(10)).await?;
    orders
        .query(Order::by_user("u-1").sort_between(1, 2))
        .filter(f.active().eq(true))
        .await?;
    orders.query(Order::by_active(true)).await?;
    Ok(())
}

fn main() {
    let _ = uses;
}
