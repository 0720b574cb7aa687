//! Conformance cases of serde types through `to_item` and `from_item`: query results convert.

use super::*;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Order {
    #[serde(rename = "userId")]
    user_id: String,
    seq: i64,
    total: f64,
    lines: Vec<String>,
    note: Option<String>,
}

/// Typed items come back from a query in sort order equal to the originals; updates convert.
pub async fn typed_query_results_convert(kvs: Kvs) {
    let store = fresh_store(
        &kvs,
        StoreSchema::new("orders", KeyAttr::string("userId")).sort_key(KeyAttr::number("seq")),
    )
    .await;
    let orders: Vec<Order> = (0..5)
        .rev()
        .map(|i| Order {
            user_id: "u-1".into(),
            seq: i,
            total: i as f64 * 1.5,
            lines: (0..i).map(|l| format!("line {l}")).collect(),
            note: (i % 2 == 0).then(|| format!("note {i}")),
        })
        .collect();
    let items: Vec<Item> = orders.iter().map(|o| to_item(o).unwrap()).collect();
    kvs.upsert_many(&store, items).await.unwrap();
    let page = kvs
        .query(&store, "u-1")
        .sort(SortCondition::ge(1))
        .await
        .unwrap()
        .try_map(from_item::<Order>)
        .unwrap();
    let mut expected: Vec<Order> = orders.iter().filter(|o| o.seq >= 1).cloned().collect();
    expected.sort_by_key(|o| o.seq);
    assert_eq!(page.items, expected);

    let updated = kvs
        .update(&store, ("u-1", 3))
        .set("note", "changed")
        .append("lines", Value::list(["extra"]))
        .await
        .unwrap();
    let updated: Order = from_item(updated).unwrap();
    assert_eq!(updated.note.as_deref(), Some("changed"));
    assert_eq!(updated.lines.last().map(String::as_str), Some("extra"));
    assert_eq!(updated.lines.len(), 4);
}
