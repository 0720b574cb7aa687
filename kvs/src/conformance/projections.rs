//! A check for backends that project natively (not one of the shared cases, which hold
//! on every backend): a read with a projection brings only the attributes it asks for,
//! the keys, and what its filter reads.

use super::fresh_store;
use crate::backend::{QueryPlan, ScanPlan};
use crate::{Item, KeyAttr, Kvs, Path, StoreSchema, Value, item};

/// Reads of a store holding a large attribute, with a projection that leaves it out: the
/// backend's answers lack it (gets too where `gets` says the backend projects them).
pub async fn native_projections_read_only_what_they_ask(kvs: Kvs, gets: bool) {
    let store = fresh_store(
        &kvs,
        StoreSchema::new("projected", KeyAttr::string("pk")).sort_key(KeyAttr::number("n")),
    )
    .await;
    let items: Vec<Item> = (0..5)
        .map(|n| item! { "pk" => "a", "n" => n, "small" => n * 10, "big" => "x".repeat(5_000), "other" => true })
        .collect();
    kvs.upsert_many(&store, items).await.unwrap();
    let schema = kvs.schema(&store).unwrap();
    let backend = kvs.backend();
    let asked = ["small"];
    let only = |item: Item, extra: &[&str]| {
        let mut names: Vec<&str> = item.keys().map(String::as_str).collect();
        names.sort_unstable();
        let mut expected = vec!["n", "pk", "small"];
        expected.extend(extra);
        expected.sort_unstable();
        assert_eq!(names, expected, "the attributes of a projected read");
    };
    if gets {
        let key = crate::Key::with_sort("a", 2);
        let attributes = ["n", "pk", "small"];
        let got = backend
            .get_projected(&schema, &key, &attributes)
            .await
            .unwrap();
        only(got.expect("the item").into_item().unwrap(), &[]);
        let many = backend
            .get_many_projected(&schema, &[key], &attributes)
            .await
            .unwrap();
        only(many[0].clone().expect("the item").into_item().unwrap(), &[]);
    }
    let partition = Value::from("a");
    let filter = Path::attr("other").eq(true);
    let plan = QueryPlan {
        schema: &schema,
        index: None,
        partition: &partition,
        sort: None,
        filter: Some(&filter),
        limit: 3,
        after: None,
        descending: false,
        consistent: true,
        projection: Some(&asked),
    };
    let page = backend.query(&plan).await.unwrap();
    assert_eq!(page.items.len(), 3);
    for raw in page.items {
        only(raw.into_item().unwrap(), &["other"]);
    }
    let plan = ScanPlan {
        schema: &schema,
        filter: None,
        limit: 10,
        after: None,
        projection: Some(&asked),
    };
    let page = backend.scan(&plan).await.unwrap();
    assert_eq!(page.items.len(), 5);
    for raw in page.items {
        only(raw.into_item().unwrap(), &[]);
    }
}
