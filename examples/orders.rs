//! Orders with two secondary indexes, byUser and byStatus: the seed's `getUserOrders`
//! (a user's orders, optionally filtered by status), `getRecentHighValueOrders` (status
//! = completed, total > 1000 and created in the last 30 days, at most 100) and
//! `getAllOrders` (every page of a status, walked with `.stream()`).
//!
//! Run it with `cargo run --example orders`.

use futures::TryStreamExt;
use kvs::prelude::*;
use serde::{Deserialize, Serialize};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Stored as its lowercase name ("completed"); a unit-only enum can be an index key.
#[derive(Nested, Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pending,
    Completed,
    Shipped,
}

/// The seed's orders store, with its two indexes.
#[derive(KeyValueStore, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
#[kvs(store = "orders", partition_key = order_id)]
#[kvs(index(name = "byUser", partition_key = user_id, sort_key = created_at))]
#[kvs(index(name = "byStatus", partition_key = status, sort_key = updated_at))]
pub struct Order {
    order_id: String,
    user_id: String,
    status: Status,
    total: f64,
    created_at: i64,
    updated_at: i64,
}

/// The seed's `getUserOrders`: the byUser index, with a status filter if one is given.
/// Oldest first (byUser sorts by createdAt).
async fn get_user_orders(
    orders: &Store<Order>,
    user_id: &str,
    status: Option<Status>,
) -> Result<Vec<Order>> {
    let mut query = orders.query(Order::by_user(user_id));
    if let Some(status) = status {
        query = query.filter(Order::fields().status().eq(status));
    }
    query.stream().try_collect().await
}

/// The seed's `getRecentHighValueOrders`: completed orders (byStatus) whose total is
/// over 1000 and that were created in the last 30 days; one page of at most 100.
async fn get_recent_high_value_orders(orders: &Store<Order>, now: i64) -> Result<Vec<Order>> {
    let f = Order::fields();
    let thirty_days_ago = now - 30 * DAY_MS;
    let page = orders
        .query(Order::by_status(Status::Completed))
        .filter(f.total().gt(1000).and(f.created_at().gt(thirty_days_ago)))
        .limit(100)
        .await?;
    Ok(page.items)
}

/// The seed's `getAllOrders`: every order of a status, 100 per page. `.stream()`
/// follows the page tokens itself.
async fn get_all_orders(orders: &Store<Order>, status: Status) -> Result<Vec<Order>> {
    orders
        .query(Order::by_status(status))
        .limit(100)
        .stream()
        .try_collect()
        .await
}

#[tokio::main]
async fn main() -> kvs::Result<()> {
    // The embedded store in kvs-data/orders.redb, or the backend KVS_BACKEND names.
    let kvs = kvs_examples::open("orders").await?;
    let orders = kvs.store::<Order>();
    orders.ensure().await?;
    kvs_examples::empty(&orders).await?;

    // 300 orders of 3 users over the last 100 days, made up deterministically.
    let now: i64 = 1_767_225_600_000; // 2026-01-01
    let all: Vec<Order> = (0..300)
        .map(|i: i64| Order {
            order_id: format!("o-{i:03}"),
            user_id: format!("u-{}", i % 3),
            status: [Status::Pending, Status::Completed, Status::Shipped][(i % 7 % 3) as usize],
            total: ((i * 37) % 2000) as f64 + 0.5,
            created_at: now - (i % 100) * DAY_MS - i,
            updated_at: now - (i % 50) * DAY_MS + i,
        })
        .collect();
    orders.upsert_many(&all).await?;
    println!("wrote {} orders", all.len());

    // A user's orders, then only the shipped ones.
    let mine = get_user_orders(&orders, "u-1", None).await?;
    let shipped = get_user_orders(&orders, "u-1", Some(Status::Shipped)).await?;
    println!("u-1: {} orders, {} shipped", mine.len(), shipped.len());
    let expected: Vec<_> = all.iter().filter(|o| o.user_id == "u-1").collect();
    assert_eq!(mine.len(), expected.len());
    assert!(
        mine.windows(2).all(|w| w[0].created_at <= w[1].created_at),
        "byUser sorts by createdAt"
    );
    assert!(!shipped.is_empty() && shipped.iter().all(|o| o.status == Status::Shipped));
    assert_eq!(
        shipped.len(),
        expected
            .iter()
            .filter(|o| o.status == Status::Shipped)
            .count()
    );

    // Recent high-value completed orders, in byStatus order (by updatedAt).
    let recent = get_recent_high_value_orders(&orders, now).await?;
    for o in &recent {
        println!(
            "  recent high-value: {} total {:>7.1} created {} days ago",
            o.order_id,
            o.total,
            (now - o.created_at) / DAY_MS
        );
    }
    let mut expected: Vec<_> = all
        .iter()
        .filter(|o| {
            o.status == Status::Completed && o.total > 1000.0 && o.created_at > now - 30 * DAY_MS
        })
        .collect();
    expected.sort_by_key(|o| o.updated_at);
    println!("recent high-value completed orders: {}", recent.len());
    assert!(
        !expected.is_empty(),
        "the seed data has recent high-value orders"
    );
    assert!(recent.len() <= 100, "one page of at most 100");
    assert_eq!(recent.iter().collect::<Vec<_>>(), expected);

    // Every pending order, page after page.
    let pending = get_all_orders(&orders, Status::Pending).await?;
    let expected = all.iter().filter(|o| o.status == Status::Pending).count();
    println!(
        "all pending orders, in pages of 100: {} (expected {expected})",
        pending.len()
    );
    assert_eq!(pending.len(), expected);
    assert!(expected > 100, "more than one page");
    assert!(
        pending
            .windows(2)
            .all(|w| w[0].updated_at <= w[1].updated_at),
        "byStatus sorts by updatedAt"
    );

    // Moving an order to another status moves it between byStatus partitions.
    let f = Order::fields();
    let order = orders
        .update("o-000")
        .set(f.status(), Status::Shipped)
        .set(f.updated_at(), now + 1)
        .when(f.status().eq(Status::Pending))
        .await?;
    println!("o-000 is now {:?}", order.status);
    assert_eq!((order.status, order.updated_at), (Status::Shipped, now + 1));
    assert_eq!(
        get_all_orders(&orders, Status::Pending).await?.len(),
        expected - 1
    );
    let shipped = get_all_orders(&orders, Status::Shipped).await?;
    assert!(
        shipped.contains(&order),
        "o-000 moved to the shipped partition"
    );
    assert_eq!(
        shipped.len(),
        all.iter().filter(|o| o.status == Status::Shipped).count() + 1
    );

    // The update's condition no longer holds: nothing changes the second time.
    let again = orders
        .update("o-000")
        .set(f.status(), Status::Completed)
        .when(f.status().eq(Status::Pending))
        .await;
    assert_eq!(
        again.map_err(|e| *e.kind()),
        Err(ErrorKind::ConditionFailed)
    );
    assert_eq!(orders.get("o-000").await?, Some(order));
    Ok(())
}
