//! Every operation of the typed API compiles and does what it says.

use std::collections::HashMap;

use futures::TryStreamExt;
use kvs::{ErrorKind, KeyValueStore, Model, Nested, Set, Value, ValueType};
use serde::{Deserialize, Serialize};

#[derive(Nested, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Status {
    Pending,
    Completed,
}

#[derive(Nested, Serialize, Deserialize, Clone, Debug, PartialEq)]
struct Address {
    city: String,
    zip: Option<String>,
}

#[derive(Nested, Serialize, Deserialize, Clone, Debug, PartialEq)]
struct Line {
    sku: String,
    qty: i64,
}

#[derive(KeyValueStore, Serialize, Deserialize, Clone, Debug, PartialEq)]
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
    tags: Set<String>,
    lines: Vec<Line>,
    notes: Vec<String>,
    address: Address,
    extra: HashMap<String, i64>,
    coupon: Option<String>,
    meta: Value,
}

#[derive(KeyValueStore, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kvs(store = "posts", partition_key = user_id, sort_key = post_id)]
struct Post {
    user_id: String,
    post_id: String,
    title: String,
}

fn order(i: i64) -> Order {
    Order {
        order_id: format!("o-{i}"),
        user_id: "u-1".into(),
        created_at: i,
        total: i as f64 * 100.0,
        status: if i % 2 == 0 { Status::Pending } else { Status::Completed },
        tags: Set::from(["new".to_string()]),
        lines: vec![Line { sku: "a".into(), qty: 1 }],
        notes: vec![],
        address: Address { city: "Paris".into(), zip: None },
        extra: HashMap::from([("points".to_string(), 1)]),
        coupon: None,
        meta: Value::from(i),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> kvs::Result<()> {
    let kvs = kvs::Kvs::memory();
    let orders = kvs.store::<Order>();
    let posts = kvs.store::<Post>();
    orders.ensure().await?;
    posts.ensure().await?;
    let f = Order::fields();

    // upsert, insert, get, get_many, upsert_many; conditional upsert and insert
    orders.upsert(&order(1)).await?;
    orders.insert(&order(2)).await?;
    let err = orders.upsert(&order(1)).when(f.total().gt(1000)).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::ConditionFailed);
    orders.upsert(&order(1)).when(f.total().eq(100)).await?;
    orders.upsert(&order(6)).when(f.order_id().not_exists()).await?;
    let err = orders.insert(&order(6)).when(f.total().gt(0)).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::AlreadyExists);
    orders.delete("o-6").await?;
    orders.upsert_many(&[order(3), order(4)]).await?;
    assert_eq!(orders.get("o-1").await?, Some(order(1)));
    assert_eq!(orders.get(order(2).key()).await?, Some(order(2)));
    let many = orders.get_many(["o-1", "o-9", "o-1"]).await?;
    assert_eq!(many.len(), 3);
    assert!(many[1].is_none());

    // every update op, on nested paths, list positions, map entries and options
    let updated = orders
        .update("o-1")
        .set(f.address().city(), "Lyon")
        .set(f.address().zip().some(), "69001")
        .set(f.lines().at(0).qty(), 3)
        .set(f.extra().entry("points"), 10)
        .add(f.total(), 5)
        .add(f.tags(), ["vip"])
        .append(f.notes(), ["first"])
        .set(f.status(), Status::Completed)
        .set(f.coupon(), Some("SAVE".to_string()))
        .when(f.total().ge(100).and(f.status().eq(Status::Completed)))
        .await?;
    assert_eq!(updated.address.city, "Lyon");
    assert_eq!(updated.address.zip.as_deref(), Some("69001"));
    assert_eq!(updated.total, 105.0);
    assert_eq!(updated.lines[0].qty, 3);
    let updated = orders.update("o-1").prepend(f.lines(), [Line { sku: "b".into(), qty: 2 }]).await?;
    assert_eq!(updated.lines[0].sku, "b");
    assert_eq!(updated.lines[1].qty, 3);
    assert_eq!(updated.extra["points"], 10);
    assert!(updated.tags.contains("vip") && updated.tags.contains("new"));
    let updated = orders.update("o-1").delete(f.tags(), ["new"]).await?;
    assert!(updated.tags.contains("vip") && !updated.tags.contains("new"));
    let updated = orders.update("o-1").remove(f.coupon()).delete(f.notes(), ["first"]).await?;
    assert_eq!(updated.coupon, None);
    assert!(updated.notes.is_empty());
    // SET to None removes
    let updated = orders.update("o-1").set(f.address().zip(), None::<String>).await?;
    assert_eq!(updated.address.zip, None);
    // REMOVE of a map entry and of a list position: the item still reads back
    let updated = orders
        .update("o-1")
        .set(f.extra().entry("bonus"), 2)
        .append(f.notes(), ["a", "b"])
        .await?;
    assert_eq!(updated.extra.len(), 2);
    let updated = orders
        .update("o-1")
        .remove(f.extra().entry("points"))
        .remove(f.notes().at(0))
        .remove(f.lines().at(1))
        .await?;
    assert_eq!(updated.extra, HashMap::from([("bonus".to_string(), 2)]));
    assert_eq!(updated.notes, ["b"]);
    assert_eq!(updated.lines.len(), 1);

    // queries: base table, index with each sort condition, filters, pages, streams
    let page = orders.query(Order::partition("o-2")).await?;
    assert_eq!(page.items, vec![order(2)]);
    for (q, n) in [
        (Order::by_user("u-1").sort_eq(2), 1),
        (Order::by_user("u-1").sort_lt(3), 2),
        (Order::by_user("u-1").sort_le(3), 3),
        (Order::by_user("u-1").sort_gt(1), 3),
        (Order::by_user("u-1").sort_ge(2), 3),
        (Order::by_user("u-1").sort_between(2, 3), 2),
    ] {
        assert_eq!(orders.query(q).await?.items.len(), n);
    }
    let pending = orders.query(Order::by_status(Status::Pending)).await?;
    assert_eq!(pending.items.len(), 2);
    let filtered = orders
        .query(Order::by_user("u-1"))
        .filter(f.total().between(150, 350))
        .filter(f.address().city().begins_with("Par"))
        .filter(f.tags().contains("new"))
        .filter(f.coupon().not_exists())
        .filter(!f.status().is_in([Status::Completed]))
        .limit(1)
        .descending()
        .await?;
    assert_eq!(filtered.items.len(), 1);
    // type_of on a field whose type the model leaves open, exists on any field
    let numeric = orders.scan().filter(f.meta().type_of(ValueType::Number).and(f.address().exists())).await?;
    assert_eq!(numeric.items.len(), 4);
    // a strongly consistent read of the base table
    let page = orders.query(Order::partition("o-3")).consistent().await?;
    assert_eq!(page.items, vec![order(3)]);
    let all: Vec<Order> = orders.query(Order::by_user("u-1")).limit(1).stream().try_collect().await?;
    assert_eq!(all.len(), 4);
    let scanned: Vec<Order> = orders.scan().filter(f.lines().at(0).sku().eq("a")).stream().try_collect().await?;
    assert_eq!(scanned.len(), 3);
    let page = orders.scan().limit(2).await?;
    let next = orders.scan().limit(2).page_token(page.next_page_token).await?;
    assert_eq!(next.items.len(), 2);

    // composite keys
    posts.upsert(&Post { user_id: "u-1".into(), post_id: "p-1".into(), title: "Hi".into() }).await?;
    assert!(posts.get(("u-1", "p-1")).await?.is_some());
    let mine = posts.query(Post::partition("u-1").sort_begins_with("p-")).await?;
    assert_eq!(mine.items.len(), 1);

    // transactions
    kvs.transact([
        orders.update("o-3").add(f.total(), 1).when(f.total().gt(0)).into_transact_write(),
        orders.delete("o-4").into_transact_write(),
        orders.insert(&order(5)).into_transact_write(),
        orders.check("o-2", f.order_id().exists()),
        posts.upsert(&Post { user_id: "u-2".into(), post_id: "p-2".into(), title: "Yo".into() }).into_transact_write(),
    ])
    .await?;
    assert_eq!(orders.get("o-3").await?.map(|o| o.total), Some(301.0));

    // delete, delete_many
    assert_eq!(orders.delete("o-5").when(f.total().gt(0)).await?, Some(order(5)));
    orders.delete_many(["o-1", "o-2"]).await?;
    assert_eq!(orders.get("o-1").await?, None);
    Ok(())
}
