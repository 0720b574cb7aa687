//! Sparse indexes: an index key field may be an `Option` of a key type. An item whose
//! index key is `None` is not in the index; the accessor and its sort conditions take
//! the type inside the `Option`.

use kvs::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Nested, Serialize, Deserialize, Clone, Debug, PartialEq)]
enum Tier {
    Gold,
    Silver,
}

#[derive(KeyValueStore, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[kvs(store = "orders", partition_key = order_id)]
// An optional partition key and an optional sort key.
#[kvs(index(name = "byCoupon", partition_key = coupon, sort_key = redeemed_at))]
// An optional enum partition key; serde may leave `None` out.
#[kvs(index(name = "byTier", partition_key = tier))]
struct Order {
    order_id: String,
    coupon: Option<String>,
    redeemed_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tier: Option<Tier>,
}

fn order(id: &str, coupon: Option<&str>, at: Option<i64>, tier: Option<Tier>) -> Order {
    Order {
        order_id: id.into(),
        coupon: coupon.map(Into::into),
        redeemed_at: at,
        tier,
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> kvs::Result<()> {
    let kvs = Kvs::memory();
    let orders = kvs.store::<Order>();
    orders.ensure().await?;
    let f = Order::fields();
    orders
        .upsert_many(&[
            order("o-1", Some("c-1"), Some(10), Some(Tier::Gold)),
            order("o-2", Some("c-1"), Some(20), None),
            order("o-3", None, None, None),
        ])
        .await?;

    // The accessors take the type inside the Option: a &str, an i64, a Tier.
    let page = orders.query(Order::by_coupon("c-1")).await?;
    assert_eq!(page.items.len(), 2);
    let page = orders.query(Order::by_coupon("c-1").sort_gt(15)).await?;
    assert_eq!(page.items, vec![order("o-2", Some("c-1"), Some(20), None)]);
    let gold = orders.query(Order::by_tier(Tier::Gold)).await?;
    assert_eq!(gold.items.len(), 1);

    // SET moves o-3 into the index, REMOVE (or SET None) takes it out again.
    orders
        .update("o-3")
        .set(f.coupon(), "c-1")
        .set(f.redeemed_at().some(), 30)
        .await?;
    assert_eq!(orders.query(Order::by_coupon("c-1")).await?.items.len(), 3);
    orders.update("o-3").remove(f.coupon()).set(f.redeemed_at(), None::<i64>).await?;
    assert_eq!(orders.query(Order::by_coupon("c-1")).await?.items.len(), 2);
    assert_eq!(orders.get("o-3").await?, Some(order("o-3", None, None, None)));
    Ok(())
}
