//! Conformance cases: stores, keys and key validation.

use super::errors::assert_mentions;
use super::values::{
    assert_same_number, assert_unstorable, storable_int, storable_stand_in, stores_int,
};
use super::{expect_kind, fresh_name, fresh_store};
use crate::{
    ErrorKind, IndexSchema, Item, Key, KeyAttr, Kvs, SortCondition, StoreSchema, Value, item,
};

/// A simple store keyed by the string attribute `id`.
async fn users(kvs: &Kvs) -> String {
    fresh_store(kvs, StoreSchema::new("users", KeyAttr::string("id"))).await
}

/// A store keyed by the number attribute `n`.
async fn numbers(kvs: &Kvs) -> String {
    fresh_store(kvs, StoreSchema::new("numbers", KeyAttr::number("num"))).await
}

/// A store keyed by the bytes attribute `b`.
async fn blobs(kvs: &Kvs) -> String {
    fresh_store(kvs, StoreSchema::new("blobs", KeyAttr::bytes("blob"))).await
}

/// A store keyed by `pk` (string) and `sk` (number).
async fn composite(kvs: &Kvs) -> String {
    fresh_store(
        kvs,
        StoreSchema::new("composite", KeyAttr::string("pk")).sort_key(KeyAttr::number("sk")),
    )
    .await
}

/// A store keyed by `id` with the index `byOwner` on `owner` (string) and `rank` (number).
async fn indexed(kvs: &Kvs) -> String {
    fresh_store(
        kvs,
        StoreSchema::new("indexed", KeyAttr::string("id")).index(
            IndexSchema::new("byOwner", KeyAttr::string("owner")).sort_key(KeyAttr::number("rank")),
        ),
    )
    .await
}

/// Every item of a store, by scanning all pages.
async fn all_items(kvs: &Kvs, store: &str) -> Vec<Item> {
    use futures::TryStreamExt as _;
    kvs.scan(store).stream().try_collect().await.unwrap()
}

/// Asserts that the store holds no item at all.
async fn assert_empty(kvs: &Kvs, store: &str) {
    let items = all_items(kvs, store).await;
    assert!(items.is_empty(), "expected an empty store, found {items:?}");
}

/// The `id`s of the items an index query returns, in order.
/// The ids in the `byOwner` index under `owner`, once it holds `expected` of them where
/// index reads are eventually consistent.
async fn owner_ids(kvs: &Kvs, store: &str, owner: &str, expected: usize) -> Vec<String> {
    super::settle_index(kvs, store, "byOwner", owner, expected).await;
    let page = kvs.query(store, owner).index("byOwner").await.unwrap();
    assert!(page.next_page_token.is_none());
    page.items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

/// An upserted item reads back equal, and a missing key reads as `None`.
pub async fn key_put_then_get(kvs: Kvs) {
    let store = users(&kvs).await;
    let it: Item = item! { "id" => "u-1", "name" => "Ada" };
    kvs.upsert(&store, it.clone()).await.unwrap();
    assert_eq!(kvs.get(&store, "u-1").await.unwrap(), Some(it));
    assert_eq!(kvs.get(&store, "u-2").await.unwrap(), None);
}

/// An empty string is not a key value: `Validation`, and nothing is written.
pub async fn key_empty_string_rejected(kvs: Kvs) {
    let store = users(&kvs).await;
    expect_kind(
        kvs.upsert(&store, item! { "id" => "", "name" => "x" })
            .await,
        ErrorKind::Validation,
    );
    let page = kvs.scan(&store).await.unwrap();
    assert!(page.items.is_empty());
}

/// String keys are exact: case, spaces, normalization forms, NUL and emoji are distinct keys.
pub async fn key_string_keys_are_exact(kvs: Kvs) {
    let store = users(&kvs).await;
    let mut ids: Vec<String> = [
        "a",
        "A",
        "a ",
        " a",
        "\u{e9}",
        "e\u{301}",
        "a\0b",
        "\u{1F600}",
        "日本",
    ]
    .map(String::from)
    .to_vec();
    ids.push("x".repeat(1000));
    for (i, id) in ids.iter().enumerate() {
        kvs.upsert(&store, item! { "id" => id, "i" => i as i64 })
            .await
            .unwrap();
    }
    for (i, id) in ids.iter().enumerate() {
        let got = kvs.get(&store, id).await.unwrap();
        assert_eq!(
            got,
            Some(item! { "id" => id, "i" => i as i64 }),
            "key {id:?}"
        );
    }
    assert_eq!(all_items(&kvs, &store).await.len(), ids.len());
    assert_eq!(kvs.get(&store, "a\0").await.unwrap(), None);
}

/// Number keys (i64 extremes, zero, negatives, floats) are distinct and round-trip exactly.
/// A float key outside the backend's `float_range`, or an integer key outside its
/// `integer_range`, is refused (`Validation` naming the key attribute, nothing written),
/// and the nearest number it stores is a key in its place.
pub async fn key_number_keys_round_trip(kvs: Kvs) {
    let caps = kvs.capabilities();
    let store = numbers(&kvs).await;
    let wanted: Vec<Value> = vec![
        i64::MIN.into(),
        (i64::MIN + 1).into(),
        (-1).into(),
        0.into(),
        1.into(),
        9_007_199_254_740_993_i64.into(),
        i64::MAX.into(),
        0.5.into(),
        (-2.25).into(),
        1e300.into(),
        5e-324.into(),
        (-1e-300).into(),
    ];
    let refused = |k: &&Value| !caps.stores_number(&k.as_number().unwrap());
    for k in wanted.iter().filter(refused) {
        assert_unstorable(
            &kvs,
            &store,
            item! { "num" => k.clone(), "i" => 0 },
            &["num"],
        )
        .await;
        match kvs.get(&store, k.clone()).await {
            Ok(got) => assert_eq!(got, None, "key {k}"),
            Err(e) => assert!(e.is(&ErrorKind::Validation), "key {k}: {e}"),
        }
    }
    let mut keys: Vec<Value> = Vec::new();
    for k in &wanted {
        let k = match k.as_number().unwrap() {
            n if n.is_integer() => Value::from(storable_int(&caps, n.as_i64().unwrap())),
            n => Value::from(storable_stand_in(&caps, n.as_f64().unwrap())),
        };
        // Two integers outside a declared range (i64::MIN and i64::MIN + 1) stand in as
        // one edge: one key. Where nothing is refused, every key is its own.
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    for (i, k) in keys.iter().enumerate() {
        kvs.upsert(&store, item! { "num" => k.clone(), "i" => i as i64 })
            .await
            .unwrap();
    }
    assert_eq!(all_items(&kvs, &store).await.len(), keys.len());
    for (i, k) in keys.iter().enumerate() {
        let got = kvs
            .get(&store, k.clone())
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("key {k} not found"));
        assert_eq!(got["i"], Value::from(i as i64), "key {k}");
        let n = got["num"].as_number().unwrap();
        let expected = k.as_number().unwrap();
        assert_same_number(&caps, n, expected, &format!("key {k}"));
    }
    assert_eq!(kvs.get(&store, 2).await.unwrap(), None);
}

/// `1` and `1.0` are the same key: written with one, read and replaced with the other.
pub async fn key_number_int_and_float_are_one_key(kvs: Kvs) {
    let store = numbers(&kvs).await;
    kvs.upsert(&store, item! { "num" => 1, "v" => "int" })
        .await
        .unwrap();
    let got = kvs.get(&store, 1.0).await.unwrap().expect("found by 1.0");
    assert_eq!(got["v"], Value::from("int"));
    kvs.upsert(&store, item! { "num" => 1.0, "v" => "float" })
        .await
        .unwrap();
    let items = all_items(&kvs, &store).await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["v"], Value::from("float"));
    let got = kvs.get(&store, 1).await.unwrap().expect("found by 1");
    assert_eq!(got["v"], Value::from("float"));
    expect_kind(
        kvs.insert(&store, item! { "num" => 1, "v" => "again" })
            .await,
        ErrorKind::AlreadyExists,
    );
    assert!(kvs.delete(&store, 1.0).await.unwrap().is_some());
    assert_empty(&kvs, &store).await;
    // Zero and negative zero are one number too.
    kvs.upsert(&store, item! { "num" => 0, "v" => "zero" })
        .await
        .unwrap();
    let got = kvs.get(&store, -0.0).await.unwrap().expect("found by -0.0");
    assert_eq!(got["v"], Value::from("zero"));
}

/// Bytes keys: distinct byte strings (including NUL and 0xFF) are distinct keys.
pub async fn key_bytes_keys_round_trip(kvs: Kvs) {
    let store = blobs(&kvs).await;
    let keys: Vec<Vec<u8>> = vec![
        vec![0],
        vec![0, 0],
        vec![0xFF],
        vec![1, 2, 3],
        vec![1, 2],
        (0..=255).collect(),
    ];
    for (i, k) in keys.iter().enumerate() {
        kvs.upsert(
            &store,
            item! { "blob" => Value::bytes(k.clone()), "i" => i as i64 },
        )
        .await
        .unwrap();
    }
    assert_eq!(all_items(&kvs, &store).await.len(), keys.len());
    for (i, k) in keys.iter().enumerate() {
        let got = kvs.get(&store, Key::bytes(k.clone())).await.unwrap();
        assert_eq!(
            got,
            Some(item! { "blob" => Value::bytes(k.clone()), "i" => i as i64 })
        );
    }
    assert_eq!(kvs.get(&store, Key::bytes(vec![1])).await.unwrap(), None);
}

/// Composite keys: each (partition, sort) pair names one item; a query returns sort order.
pub async fn key_composite_keys(kvs: Kvs) {
    let store = composite(&kvs).await;
    for (pk, sk) in [("a", 3), ("a", 1), ("b", 1), ("a", 2)] {
        kvs.upsert(
            &store,
            item! { "pk" => pk, "sk" => sk, "v" => format!("{pk}{sk}") },
        )
        .await
        .unwrap();
    }
    let got = kvs.get(&store, ("a", 2)).await.unwrap().unwrap();
    assert_eq!(got, item! { "pk" => "a", "sk" => 2, "v" => "a2" });
    assert_eq!(
        kvs.get(&store, ("b", 1)).await.unwrap().unwrap()["v"],
        Value::from("b1")
    );
    assert_eq!(kvs.get(&store, ("b", 2)).await.unwrap(), None);
    assert_eq!(kvs.get(&store, ("c", 1)).await.unwrap(), None);
    let page = kvs.query(&store, "a").await.unwrap();
    let sks: Vec<i64> = page
        .items
        .iter()
        .map(|i| i["sk"].as_i64().unwrap())
        .collect();
    assert_eq!(sks, [1, 2, 3]);
    assert!(kvs.delete(&store, ("a", 1)).await.unwrap().is_some());
    assert_eq!(kvs.get(&store, ("a", 1)).await.unwrap(), None);
    assert!(kvs.get(&store, ("a", 2)).await.unwrap().is_some());
}

/// A composite key of a number partition and a bytes sort value round-trips.
pub async fn key_composite_number_and_bytes(kvs: Kvs) {
    let store = fresh_store(
        &kvs,
        StoreSchema::new("numbytes", KeyAttr::number("p")).sort_key(KeyAttr::bytes("s")),
    )
    .await;
    let it = item! { "p" => -7.5, "s" => Value::bytes([0u8, 1, 255]), "x" => true };
    kvs.upsert(&store, it.clone()).await.unwrap();
    let key = Key::with_sort(-7.5, Value::bytes([0u8, 1, 255]));
    assert_eq!(kvs.get(&store, key).await.unwrap(), Some(it));
    let other = Key::with_sort(-7.5, Value::bytes([0u8, 1]));
    assert_eq!(kvs.get(&store, other).await.unwrap(), None);
}

/// An item without its partition key is `Validation` naming it; nothing is written.
pub async fn key_missing_partition_attribute_rejected(kvs: Kvs) {
    let store = users(&kvs).await;
    let err = expect_kind(
        kvs.upsert(&store, item! { "name" => "x" }).await,
        ErrorKind::Validation,
    );
    assert_mentions(&err, "id");
    expect_kind(
        kvs.insert(&store, item! { "ID" => "x" }).await,
        ErrorKind::Validation,
    );
    assert_empty(&kvs, &store).await;
}

/// An item without its sort key attribute is `Validation` naming it; nothing is written.
pub async fn key_missing_sort_attribute_rejected(kvs: Kvs) {
    let store = composite(&kvs).await;
    let err = expect_kind(
        kvs.upsert(&store, item! { "pk" => "a", "v" => 1 }).await,
        ErrorKind::Validation,
    );
    assert_mentions(&err, "sk");
    assert_empty(&kvs, &store).await;
}

/// A key attribute of another type than declared is `Validation` naming it; nothing written.
pub async fn key_wrong_type_rejected(kvs: Kvs) {
    let store = users(&kvs).await;
    let err = expect_kind(
        kvs.upsert(&store, item! { "id" => 42, "v" => 1 }).await,
        ErrorKind::Validation,
    );
    assert_mentions(&err, "id");
    expect_kind(
        kvs.upsert(&store, item! { "id" => Value::bytes(*b"42") })
            .await,
        ErrorKind::Validation,
    );
    expect_kind(kvs.get(&store, 42).await, ErrorKind::Validation);
    assert_empty(&kvs, &store).await;

    let nums = numbers(&kvs).await;
    expect_kind(
        kvs.upsert(&nums, item! { "num" => "42" }).await,
        ErrorKind::Validation,
    );
    expect_kind(kvs.get(&nums, "42").await, ErrorKind::Validation);
    assert_empty(&kvs, &nums).await;

    let comp = composite(&kvs).await;
    let err = expect_kind(
        kvs.upsert(&comp, item! { "pk" => "a", "sk" => "1" }).await,
        ErrorKind::Validation,
    );
    assert_mentions(&err, "sk");
    assert_empty(&kvs, &comp).await;
}

/// Null, bool, list, map or set as a key value is `Validation`; nothing is written.
pub async fn key_non_key_types_rejected(kvs: Kvs) {
    let store = users(&kvs).await;
    for bad in [
        Value::Null,
        Value::Bool(true),
        Value::list(["a"]),
        Value::from(item! { "a" => "b" }),
        Value::string_set(["a"]),
    ] {
        expect_kind(
            kvs.upsert(&store, item! { "id" => bad.clone() }).await,
            ErrorKind::Validation,
        );
        expect_kind(kvs.get(&store, bad).await, ErrorKind::Validation);
    }
    assert_empty(&kvs, &store).await;
}

/// Empty bytes are not a key value: `Validation`, and nothing is written.
pub async fn key_empty_bytes_rejected(kvs: Kvs) {
    let store = blobs(&kvs).await;
    let err = expect_kind(
        kvs.upsert(&store, item! { "blob" => Value::bytes(Vec::new()) })
            .await,
        ErrorKind::Validation,
    );
    assert_mentions(&err, "blob");
    expect_kind(
        kvs.get(&store, Key::bytes(Vec::new())).await,
        ErrorKind::Validation,
    );
    assert_empty(&kvs, &store).await;
}

/// An empty string as a sort key value is `Validation`; nothing is written.
pub async fn key_empty_sort_string_rejected(kvs: Kvs) {
    let store = fresh_store(
        &kvs,
        StoreSchema::new("strsort", KeyAttr::string("pk")).sort_key(KeyAttr::string("sk")),
    )
    .await;
    expect_kind(
        kvs.upsert(&store, item! { "pk" => "a", "sk" => "" }).await,
        ErrorKind::Validation,
    );
    expect_kind(kvs.get(&store, ("a", "")).await, ErrorKind::Validation);
    assert_empty(&kvs, &store).await;
}

/// NaN and infinite keys are `Validation` on write and read; nothing is written.
pub async fn key_non_finite_number_rejected(kvs: Kvs) {
    let store = numbers(&kvs).await;
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let err = expect_kind(
            kvs.upsert(&store, item! { "num" => bad }).await,
            ErrorKind::Validation,
        );
        assert_mentions(&err, "num");
        expect_kind(kvs.get(&store, bad).await, ErrorKind::Validation);
        expect_kind(kvs.delete(&store, bad).await, ErrorKind::Validation);
    }
    assert_empty(&kvs, &store).await;
}

/// A sort value on a store without sort key is `Validation` for every keyed operation.
pub async fn key_sort_value_without_sort_key_rejected(kvs: Kvs) {
    let store = users(&kvs).await;
    kvs.upsert(&store, item! { "id" => "a", "v" => 1 })
        .await
        .unwrap();
    expect_kind(kvs.get(&store, ("a", 1)).await, ErrorKind::Validation);
    expect_kind(
        kvs.update(&store, ("a", 1)).set("v", 2).await,
        ErrorKind::Validation,
    );
    expect_kind(kvs.delete(&store, ("a", 1)).await, ErrorKind::Validation);
    expect_kind(
        kvs.get_many(&store, [Key::with_sort("a", 1)]).await,
        ErrorKind::Validation,
    );
    assert_eq!(
        kvs.get(&store, "a").await.unwrap(),
        Some(item! { "id" => "a", "v" => 1 })
    );
}

/// A key without sort value on a store with a sort key is `Validation` for every operation.
pub async fn key_missing_sort_value_rejected(kvs: Kvs) {
    let store = composite(&kvs).await;
    kvs.upsert(&store, item! { "pk" => "a", "sk" => 1, "v" => 1 })
        .await
        .unwrap();
    expect_kind(kvs.get(&store, "a").await, ErrorKind::Validation);
    expect_kind(
        kvs.update(&store, "a").set("v", 2).await,
        ErrorKind::Validation,
    );
    expect_kind(kvs.delete(&store, "a").await, ErrorKind::Validation);
    expect_kind(kvs.delete_many(&store, ["a"]).await, ErrorKind::Validation);
    assert_eq!(
        kvs.get(&store, ("a", 1)).await.unwrap(),
        Some(item! { "pk" => "a", "sk" => 1, "v" => 1 })
    );
}

/// A store that was never defined is `StoreNotFound`, naming it.
pub async fn key_unknown_store(kvs: Kvs) {
    let name = fresh_name("never_defined");
    let err = expect_kind(kvs.get(&name, "a").await, ErrorKind::StoreNotFound);
    assert_mentions(&err, &name);
    let err = expect_kind(
        kvs.upsert(&name, item! { "id" => "a" }).await,
        ErrorKind::StoreNotFound,
    );
    assert_mentions(&err, &name);
    let err = expect_kind(kvs.scan(&name).await, ErrorKind::StoreNotFound);
    assert_mentions(&err, &name);
    let err = expect_kind(kvs.query(&name, "a").await, ErrorKind::StoreNotFound);
    assert_mentions(&err, &name);
}

/// A query on an index that was never defined is `StoreNotFound`, naming the index.
pub async fn key_unknown_index(kvs: Kvs) {
    let store = indexed(&kvs).await;
    let err = expect_kind(
        kvs.query(&store, "o-1").index("byNothing").await,
        ErrorKind::StoreNotFound,
    );
    assert_mentions(&err, "byNothing");
    // An index of another store does not count either.
    let other = users(&kvs).await;
    let err = expect_kind(
        kvs.query(&other, "o-1").index("byOwner").await,
        ErrorKind::StoreNotFound,
    );
    assert_mentions(&err, "byOwner");
}

/// The same key in two stores names two different items.
pub async fn key_stores_are_separate(kvs: Kvs) {
    let one = users(&kvs).await;
    let two = users(&kvs).await;
    kvs.upsert(&one, item! { "id" => "a", "store" => 1 })
        .await
        .unwrap();
    kvs.upsert(&two, item! { "id" => "a", "store" => 2 })
        .await
        .unwrap();
    assert_eq!(
        kvs.get(&one, "a").await.unwrap().unwrap()["store"],
        1.into()
    );
    assert_eq!(
        kvs.get(&two, "a").await.unwrap().unwrap()["store"],
        2.into()
    );
    kvs.delete(&one, "a").await.unwrap();
    assert_eq!(kvs.get(&one, "a").await.unwrap(), None);
    assert!(kvs.get(&two, "a").await.unwrap().is_some());
}

/// An index key attribute that is a map, list, bool or null is `Validation`; nothing written.
pub async fn key_index_attribute_non_key_type_rejected(kvs: Kvs) {
    let store = indexed(&kvs).await;
    for bad in [
        Value::from(item! { "a" => 1 }),
        Value::list([1]),
        Value::Bool(false),
        Value::Null,
    ] {
        let err = expect_kind(
            kvs.upsert(
                &store,
                item! { "id" => "x", "owner" => bad.clone(), "rank" => 1 },
            )
            .await,
            ErrorKind::Validation,
        );
        assert_mentions(&err, "owner");
        let err = expect_kind(
            kvs.upsert(
                &store,
                item! { "id" => "y", "owner" => "o-1", "rank" => bad },
            )
            .await,
            ErrorKind::Validation,
        );
        assert_mentions(&err, "rank");
    }
    assert_empty(&kvs, &store).await;
    assert!(owner_ids(&kvs, &store, "o-1", 0).await.is_empty());
}

/// An index key attribute of the wrong key type or empty is `Validation`; nothing written.
pub async fn key_index_attribute_wrong_key_type_rejected(kvs: Kvs) {
    let store = indexed(&kvs).await;
    for bad in [
        item! { "id" => "x", "owner" => 5, "rank" => 1 },
        item! { "id" => "x", "owner" => "o-1", "rank" => "1" },
        item! { "id" => "x", "owner" => "", "rank" => 1 },
        item! { "id" => "x", "owner" => 5 },
        item! { "id" => "x", "rank" => "1" },
        item! { "id" => "x", "owner" => "o-1", "rank" => f64::INFINITY },
    ] {
        expect_kind(kvs.upsert(&store, bad).await, ErrorKind::Validation);
    }
    assert_empty(&kvs, &store).await;
}

/// An update giving an index key attribute a non-key type is `Validation`; item unchanged.
pub async fn key_index_attribute_update_to_bad_type_rejected(kvs: Kvs) {
    let store = indexed(&kvs).await;
    let it = item! { "id" => "x", "owner" => "o-1", "rank" => 1 };
    kvs.upsert(&store, it.clone()).await.unwrap();
    expect_kind(
        kvs.update(&store, "x")
            .set("owner", item! { "a" => 1 })
            .await,
        ErrorKind::Validation,
    );
    expect_kind(
        kvs.update(&store, "x").set("rank", "high").await,
        ErrorKind::Validation,
    );
    expect_kind(
        kvs.update(&store, "x").set("owner", Value::Null).await,
        ErrorKind::Validation,
    );
    assert_eq!(kvs.get(&store, "x").await.unwrap(), Some(it));
    assert_eq!(owner_ids(&kvs, &store, "o-1", 1).await, ["x"]);
}

/// Indexes are sparse: an item without an index key attribute is in the index once it has it.
pub async fn key_sparse_index(kvs: Kvs) {
    let store = indexed(&kvs).await;
    kvs.upsert_many(
        &store,
        [
            item! { "id" => "full", "owner" => "o-1", "rank" => 2 },
            item! { "id" => "no-owner", "rank" => 1 },
            item! { "id" => "no-rank", "owner" => "o-1" },
            item! { "id" => "nothing" },
        ],
    )
    .await
    .unwrap();
    assert_eq!(owner_ids(&kvs, &store, "o-1", 1).await, ["full"]);

    kvs.update(&store, "no-rank").set("rank", 1).await.unwrap();
    assert_eq!(owner_ids(&kvs, &store, "o-1", 2).await, ["no-rank", "full"]);

    kvs.update(&store, "no-owner")
        .set("owner", "o-1")
        .await
        .unwrap();
    kvs.update(&store, "full")
        .set("owner", "o-2")
        .set("rank", 0)
        .await
        .unwrap();
    let ids = owner_ids(&kvs, &store, "o-1", 2).await;
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(ids.contains(&"no-rank".to_owned()) && ids.contains(&"no-owner".to_owned()));
    assert_eq!(owner_ids(&kvs, &store, "o-2", 1).await, ["full"]);

    kvs.update(&store, "no-rank").remove("rank").await.unwrap();
    assert_eq!(owner_ids(&kvs, &store, "o-1", 1).await, ["no-owner"]);
    kvs.delete(&store, "no-owner").await.unwrap();
    assert!(owner_ids(&kvs, &store, "o-1", 0).await.is_empty());
    assert_eq!(all_items(&kvs, &store).await.len(), 3);
}

/// An index query orders by the index sort key and reads only its partition.
pub async fn key_index_query_by_index_key(kvs: Kvs) {
    let store = indexed(&kvs).await;
    for (id, owner, rank) in [
        ("a", "o-1", 3),
        ("b", "o-2", 1),
        ("c", "o-1", 1),
        ("d", "o-1", 2),
    ] {
        kvs.upsert(
            &store,
            item! { "id" => id, "owner" => owner, "rank" => rank },
        )
        .await
        .unwrap();
    }
    assert_eq!(owner_ids(&kvs, &store, "o-1", 3).await, ["c", "d", "a"]);
    let page = kvs
        .query(&store, "o-1")
        .index("byOwner")
        .sort(SortCondition::ge(2))
        .await
        .unwrap();
    let ids: Vec<&str> = page
        .items
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["d", "a"]);
    // The float 2.0 finds the integer rank 2.
    let page = kvs
        .query(&store, "o-1")
        .index("byOwner")
        .sort(SortCondition::eq(2.0))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0]["id"], Value::from("d"));
    // Whole items are projected.
    assert_eq!(
        page.items[0],
        item! { "id" => "d", "owner" => "o-1", "rank" => 2 }
    );
}

/// An update cannot SET, REMOVE or ADD the partition key: `Validation`, item unchanged.
pub async fn key_update_cannot_change_partition_key(kvs: Kvs) {
    let store = numbers(&kvs).await;
    let it = item! { "num" => 1, "v" => 1 };
    kvs.upsert(&store, it.clone()).await.unwrap();
    let err = expect_kind(
        kvs.update(&store, 1).set("num", 2).await,
        ErrorKind::Validation,
    );
    assert_mentions(&err, "num");
    expect_kind(
        kvs.update(&store, 1).remove("num").await,
        ErrorKind::Validation,
    );
    expect_kind(
        kvs.update(&store, 1).add("num", 1).await,
        ErrorKind::Validation,
    );
    expect_kind(
        kvs.update(&store, 1).set("v", 2).set("num", 5).await,
        ErrorKind::Validation,
    );
    assert_eq!(kvs.get(&store, 1).await.unwrap(), Some(it));
    assert_eq!(kvs.get(&store, 2).await.unwrap(), None);
    assert_eq!(all_items(&kvs, &store).await.len(), 1);
}

/// An update cannot SET, REMOVE or ADD the sort key: `Validation`, item unchanged.
pub async fn key_update_cannot_change_sort_key(kvs: Kvs) {
    let store = composite(&kvs).await;
    let it = item! { "pk" => "a", "sk" => 1, "v" => 1 };
    kvs.upsert(&store, it.clone()).await.unwrap();
    let err = expect_kind(
        kvs.update(&store, ("a", 1)).set("sk", 2).await,
        ErrorKind::Validation,
    );
    assert_mentions(&err, "sk");
    expect_kind(
        kvs.update(&store, ("a", 1)).remove("sk").await,
        ErrorKind::Validation,
    );
    expect_kind(
        kvs.update(&store, ("a", 1)).add("sk", 1).await,
        ErrorKind::Validation,
    );
    expect_kind(
        kvs.update(&store, ("a", 1)).set("pk", "b").await,
        ErrorKind::Validation,
    );
    assert_eq!(kvs.get(&store, ("a", 1)).await.unwrap(), Some(it));
    assert_eq!(all_items(&kvs, &store).await.len(), 1);
}

/// Two indexes of one name are `Validation` from `ensure_store`; the store is not defined.
pub async fn key_duplicate_index_names_rejected(kvs: Kvs) {
    let name = fresh_name("dupindex");
    let schema = StoreSchema::new(name.clone(), KeyAttr::string("id"))
        .index(IndexSchema::new("byA", KeyAttr::string("a")))
        .index(IndexSchema::new("byA", KeyAttr::string("b")));
    let err = expect_kind(kvs.ensure_store(schema).await, ErrorKind::Validation);
    assert_mentions(&err, "byA");
    expect_kind(kvs.get(&name, "x").await, ErrorKind::StoreNotFound);
}

/// One attribute declared with two key types is `Validation` from `ensure_store`.
pub async fn key_conflicting_key_types_rejected(kvs: Kvs) {
    let name = fresh_name("conflict");
    let schema = StoreSchema::new(name.clone(), KeyAttr::string("id"))
        .index(IndexSchema::new("byId", KeyAttr::number("id")));
    let err = expect_kind(kvs.ensure_store(schema).await, ErrorKind::Validation);
    assert_mentions(&err, "id");
    let name = fresh_name("conflict");
    let schema = StoreSchema::new(name.clone(), KeyAttr::string("id"))
        .index(IndexSchema::new("one", KeyAttr::string("x")))
        .index(IndexSchema::new("two", KeyAttr::bytes("x")));
    expect_kind(kvs.ensure_store(schema).await, ErrorKind::Validation);
    expect_kind(kvs.get(&name, "x").await, ErrorKind::StoreNotFound);
}

/// `ensure_store` of an existing store with the same schema keeps its items.
pub async fn key_ensure_store_again_keeps_items(kvs: Kvs) {
    let store = users(&kvs).await;
    kvs.upsert(&store, item! { "id" => "a" }).await.unwrap();
    kvs.ensure_store(StoreSchema::new(store.clone(), KeyAttr::string("id")))
        .await
        .unwrap();
    assert_eq!(
        kvs.get(&store, "a").await.unwrap(),
        Some(item! { "id" => "a" })
    );
}

/// A query partition value of the wrong type for the (index) partition key is `Validation`.
pub async fn key_query_partition_wrong_type_rejected(kvs: Kvs) {
    let store = composite(&kvs).await;
    expect_kind(kvs.query(&store, 1).await, ErrorKind::Validation);
    expect_kind(kvs.query(&store, "").await, ErrorKind::Validation);
    let idx = indexed(&kvs).await;
    expect_kind(
        kvs.query(&idx, 1).index("byOwner").await,
        ErrorKind::Validation,
    );
    expect_kind(
        kvs.query(&idx, Value::Null).index("byOwner").await,
        ErrorKind::Validation,
    );
}

/// Writes one item per sort value into partition `p` of a store with sort key `s`, in
/// a scrambled order, and asserts that queries return them in `sorted` order (and in
/// reverse when descending).
async fn assert_sort_order(kvs: &Kvs, sort_key: KeyAttr, sorted: Vec<Value>) {
    let store = fresh_store(
        kvs,
        StoreSchema::new("order", KeyAttr::string("pk")).sort_key(sort_key),
    )
    .await;
    // Odd positions first, each half reversed.
    let scrambled = sorted
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .rev()
        .chain(sorted.iter().enumerate().filter(|(i, _)| i % 2 == 0).rev());
    for (_, s) in scrambled {
        kvs.upsert(&store, item! { "pk" => "p", "s" => s.clone() })
            .await
            .unwrap();
    }
    let keys =
        |items: Vec<Item>| -> Vec<Value> { items.into_iter().map(|i| i["s"].clone()).collect() };
    let up = kvs.query(&store, "p").await.unwrap();
    assert_eq!(keys(up.items), sorted);
    let down = kvs.query(&store, "p").descending().await.unwrap();
    let mut reversed = sorted;
    reversed.reverse();
    assert_eq!(keys(down.items), reversed);
}

/// String sort keys sort by their UTF-8 bytes (not UTF-16 units, not by locale).
pub async fn key_string_sort_order_is_utf8_bytes(kvs: Kvs) {
    let sorted: Vec<Value> = [
        "\0",
        "B",
        "Z",
        "a",
        "a\0",
        "aa",
        "ab",
        "\u{7f}",
        "\u{e9}",
        "\u{ffff}",
        "\u{1F600}",
    ]
    .into_iter()
    .map(Value::from)
    .collect();
    assert_sort_order(&kvs, KeyAttr::string("s"), sorted).await;
}

/// Number sort keys sort numerically, integers and floats together. A float outside the
/// backend's `float_range`, or an integer outside its `integer_range`, is refused
/// (`Validation` naming the sort key, nothing written), and the nearest number it stores
/// sorts in its place.
pub async fn key_number_sort_order_is_numeric(kvs: Kvs) {
    let caps = kvs.capabilities();
    let wanted: Vec<f64> = vec![-1e300, -1e19, -4.5, -1e-300, 5e-324, 0.5, 1.5, 1e300];
    let wanted_ints: Vec<i64> = vec![
        i64::MIN,
        i64::MIN + 1,
        9_007_199_254_740_992,
        9_007_199_254_740_993,
        i64::MAX - 1,
        i64::MAX,
    ];
    let stand_in = |f: f64| Value::from(storable_stand_in(&caps, f));
    let int = |i: i64| Value::from(storable_int(&caps, i));
    let mut sorted: Vec<Value> = vec![
        stand_in(-1e300),
        stand_in(-1e19),
        int(i64::MIN),
        int(i64::MIN + 1),
        (-5).into(),
        stand_in(-4.5),
        stand_in(-1e-300),
        0.into(),
        stand_in(5e-324),
        stand_in(0.5),
        1.into(),
        stand_in(1.5),
        2.into(),
        10.into(),
        int(9_007_199_254_740_992),
        int(9_007_199_254_740_993),
        int(i64::MAX - 1),
        int(i64::MAX),
        stand_in(1e300),
    ];
    // Integers outside a declared range stand in as its edge: neighbours in the order,
    // one key. Where the backend declares no range, nothing is folded.
    sorted.dedup();
    assert_sort_order(&kvs, KeyAttr::number("s"), sorted).await;
    let refused: Vec<Value> = wanted
        .into_iter()
        .filter(|f| !caps.stores_float(*f))
        .map(Value::from)
        .chain(
            wanted_ints
                .into_iter()
                .filter(|&i| !stores_int(&caps, i))
                .map(Value::from),
        )
        .collect();
    if !refused.is_empty() {
        let store = fresh_store(
            &kvs,
            StoreSchema::new("order", KeyAttr::string("pk")).sort_key(KeyAttr::number("s")),
        )
        .await;
        for n in refused {
            let it = item! { "pk" => "p", "s" => n };
            assert_unstorable(&kvs, &store, it, &["s"]).await;
        }
    }
}

/// Bytes sort keys sort by their bytes, a prefix before its extensions.
pub async fn key_bytes_sort_order_is_bytewise(kvs: Kvs) {
    let sorted: Vec<Value> = [
        vec![0u8],
        vec![0, 0],
        vec![0, 1],
        vec![1],
        vec![1, 0],
        vec![127],
        vec![128],
        vec![255],
        vec![255, 255],
    ]
    .into_iter()
    .map(Value::Bytes)
    .collect();
    assert_sort_order(&kvs, KeyAttr::bytes("s"), sorted).await;
}

/// Key values as long as the backend orders by (`max_ordered_key_bytes`; 1,000 bytes
/// where it declares no limit) are written and queried in their exact order, though
/// they differ only in their last byte: a store's sort key, an index's sort key. Where
/// the backend declares a limit, a value one byte longer in an attribute queries order
/// by (the sort key; with indexes, the partition key and the index sort keys) is
/// `Validation` naming it, from a put, an update, a batch and a transaction, and nothing
/// is written; elsewhere it is written and read back.
pub async fn key_ordered_values_within_declared_length(kvs: Kvs) {
    let caps = kvs.capabilities();
    let max = caps.max_ordered_key_bytes.unwrap_or(1000);
    let store = fresh_store(
        &kvs,
        StoreSchema::new("ordered", KeyAttr::string("pk"))
            .sort_key(KeyAttr::string("sk"))
            .index(IndexSchema::new("byG", KeyAttr::string("g")).sort_key(KeyAttr::string("gs"))),
    )
    .await;
    let long = |last: char, len: usize| format!("{}{last}", "x".repeat(len - 1));
    // At the limit: exact order, on the table and on the index.
    for (sk, gs) in [
        (long('b', max), long('a', max)),
        (long('a', max), long('b', max)),
    ] {
        let it = item! { "pk" => "p", "sk" => sk, "g" => "x", "gs" => gs };
        kvs.upsert(&store, it).await.unwrap();
    }
    let page = kvs.query(&store, "p").await.unwrap();
    let sks: Vec<&str> = page
        .items
        .iter()
        .map(|i| i["sk"].as_str().unwrap())
        .collect();
    assert_eq!(sks, [long('a', max), long('b', max)]);
    let page = kvs
        .query(&store, "x")
        .index("byG")
        .descending()
        .await
        .unwrap();
    let gss: Vec<&str> = page
        .items
        .iter()
        .map(|i| i["gs"].as_str().unwrap())
        .collect();
    assert_eq!(gss, [long('b', max), long('a', max)]);
    let before = page.items.len();
    let over = long('z', max + 1);
    let puts = [
        ("sk", item! { "pk" => "p", "sk" => over.as_str() }),
        ("pk", item! { "pk" => over.as_str(), "sk" => "s" }),
        (
            "gs",
            item! { "pk" => "p", "sk" => "t", "g" => "x", "gs" => over.as_str() },
        ),
    ];
    if caps.max_ordered_key_bytes.is_none() {
        for (_, it) in puts {
            kvs.upsert(&store, it.clone()).await.unwrap();
            let key = Key::with_sort(it["pk"].clone(), it["sk"].clone());
            assert_eq!(kvs.get(&store, key).await.unwrap(), Some(it));
        }
        return;
    }
    for (attribute, it) in puts {
        let e = expect_kind(kvs.upsert(&store, it.clone()).await, ErrorKind::Validation);
        assert_mentions(&e, attribute);
        let e = expect_kind(
            kvs.upsert_many(&store, vec![it.clone()]).await,
            ErrorKind::Validation,
        );
        assert_mentions(&e, attribute);
        let e = expect_kind(
            kvs.transact([crate::TransactWrite::put(&store, it)]).await,
            ErrorKind::Validation,
        );
        assert_mentions(&e, attribute);
    }
    let e = expect_kind(
        kvs.update(&store, Key::with_sort("p", long('a', max)))
            .set("gs", over.as_str())
            .await,
        ErrorKind::Validation,
    );
    assert_mentions(&e, "gs");
    // Nothing was written: the two items as they were.
    let all: Vec<Item> = kvs.scan(&store).await.unwrap().items;
    assert_eq!(all.len(), before);
    assert!(
        all.iter()
            .all(|i| i["gs"].as_str().is_some_and(|g| g.len() == max))
    );
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases_keys {
    ($cb:path, $make:tt) => {
        $cb!($make, keys::key_put_then_get);
        $cb!($make, keys::key_ordered_values_within_declared_length);
        $cb!($make, keys::key_empty_string_rejected);
        $cb!($make, keys::key_string_keys_are_exact);
        $cb!($make, keys::key_number_keys_round_trip);
        $cb!($make, keys::key_number_int_and_float_are_one_key);
        $cb!($make, keys::key_bytes_keys_round_trip);
        $cb!($make, keys::key_composite_keys);
        $cb!($make, keys::key_composite_number_and_bytes);
        $cb!($make, keys::key_missing_partition_attribute_rejected);
        $cb!($make, keys::key_missing_sort_attribute_rejected);
        $cb!($make, keys::key_wrong_type_rejected);
        $cb!($make, keys::key_non_key_types_rejected);
        $cb!($make, keys::key_empty_bytes_rejected);
        $cb!($make, keys::key_empty_sort_string_rejected);
        $cb!($make, keys::key_non_finite_number_rejected);
        $cb!($make, keys::key_sort_value_without_sort_key_rejected);
        $cb!($make, keys::key_missing_sort_value_rejected);
        $cb!($make, keys::key_unknown_store);
        $cb!($make, keys::key_unknown_index);
        $cb!($make, keys::key_stores_are_separate);
        $cb!($make, keys::key_index_attribute_non_key_type_rejected);
        $cb!($make, keys::key_index_attribute_wrong_key_type_rejected);
        $cb!($make, keys::key_index_attribute_update_to_bad_type_rejected);
        $cb!($make, keys::key_sparse_index);
        $cb!($make, keys::key_index_query_by_index_key);
        $cb!($make, keys::key_update_cannot_change_partition_key);
        $cb!($make, keys::key_update_cannot_change_sort_key);
        $cb!($make, keys::key_duplicate_index_names_rejected);
        $cb!($make, keys::key_conflicting_key_types_rejected);
        $cb!($make, keys::key_ensure_store_again_keeps_items);
        $cb!($make, keys::key_query_partition_wrong_type_rejected);
        $cb!($make, keys::key_string_sort_order_is_utf8_bytes);
        $cb!($make, keys::key_number_sort_order_is_numeric);
        $cb!($make, keys::key_bytes_sort_order_is_bytewise);
    };
}
