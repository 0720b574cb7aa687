//! Conformance cases of models through `Store<M>`: typed update results, conditional writes, `type_of` and `exists`.

// `#[derive(KeyValueStore)]` and `#[derive(Nested)]` give every field of a private model
// an accessor, and a case uses only some of them, so the unused ones would warn as dead
// code.
#![allow(dead_code)]

use super::*;

#[derive(crate::Nested, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
struct RtStats {
    views: i64,
    score: f64,
    last: Option<String>,
}

#[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
#[kvs(store = "typed_rt_updates", partition_key = id)]
struct RtCounter {
    id: String,
    count: i64,
    small: u8,
    ratio: f32,
    label: String,
    tags: Set<String>,
    history: Vec<String>,
    stats: RtStats,
    extra: HashMap<String, i64>,
    maybe: Option<f64>,
}

/// A typed update returns the whole new item as the model, equal to a typed get after
/// it: every op, f32 and f64 values set exactly, conditions; a failed condition changes
/// nothing; `insert` refuses an existing item and `delete` returns the model. Setting
/// an f64 outside the backend's `float_range` is refused (`Validation` naming the
/// field) and changes nothing; the nearest float it stores is set in its place. Where
/// the backend does not keep the sign of zero, `-0.0` reads back as `0.0`.
pub async fn typed_rt_update_results(kvs: Kvs) {
    let caps = kvs.capabilities();
    let (big, tiny) = (1e308, 5e-324);
    let store = fresh_typed_store::<RtCounter>(&kvs).await;
    let f = RtCounter::fields();
    let start = RtCounter {
        id: "c".into(),
        count: 0,
        small: 250,
        ratio: 1.5,
        label: String::new(),
        tags: Set::new(),
        history: vec![],
        stats: RtStats {
            views: 0,
            score: 0.25,
            last: None,
        },
        extra: HashMap::new(),
        maybe: None,
    };
    store.insert(&start).await.unwrap();
    expect_kind(store.insert(&start).await, ErrorKind::AlreadyExists);
    let mut expected = start.clone();

    for refused in [big, tiny].into_iter().filter(|f| !caps.stores_float(*f)) {
        let err = expect_kind(
            store
                .update("c")
                .add(f.count(), 1)
                .set(f.maybe(), Some(refused))
                .await,
            ErrorKind::Validation,
        );
        assert_mentions(&err, "maybe");
        assert_eq!(store.get("c").await.unwrap(), Some(expected.clone()));
    }
    let (big, tiny) = (
        storable_stand_in(&caps, big),
        storable_stand_in(&caps, tiny),
    );

    let updated = store
        .update("c")
        .add(f.count(), 5)
        .add(f.small(), 5u8)
        .set(f.ratio(), 0.1f32)
        .set(f.label(), "\u{e9}t\u{e9} \u{1F600}")
        .add(f.tags(), ["a", "b"])
        .append(f.history(), ["one", "two"])
        .add(f.stats().views(), 1)
        .add(f.stats().score(), 0.5)
        .set(f.stats().last(), Some("now".to_owned()))
        .set(f.extra().entry("k"), i64::from(i32::MIN))
        .set(f.maybe(), Some(big))
        .await
        .unwrap();
    expected.count = 5;
    expected.small = 255;
    expected.ratio = 0.1;
    expected.label = "\u{e9}t\u{e9} \u{1F600}".into();
    expected.tags = ["a", "b"].map(String::from).into();
    expected.history = vec!["one".into(), "two".into()];
    expected.stats = RtStats {
        views: 1,
        score: 0.75,
        last: Some("now".into()),
    };
    expected.extra.insert("k".into(), i64::from(i32::MIN));
    expected.maybe = Some(big);
    assert_eq!(updated, expected);
    assert_eq!(updated.ratio.to_bits(), 0.1f32.to_bits());
    assert_eq!(store.get("c").await.unwrap(), Some(expected.clone()));

    let updated = store
        .update("c")
        .add(f.count(), -7)
        .set(f.ratio(), -0.0f32)
        .set(f.maybe(), Some(tiny))
        .delete(f.tags(), ["a"])
        .prepend(f.history(), ["zero"])
        .remove(f.stats().last())
        .when(f.count().eq(5).and(f.tags().contains("a")))
        .await
        .unwrap();
    expected.count = -2;
    expected.ratio = -0.0;
    expected.maybe = Some(tiny);
    expected.tags.remove("a");
    expected.history.insert(0, "zero".into());
    expected.stats.last = None;
    assert_eq!(updated, expected);
    if caps.keeps_negative_zero {
        assert!(updated.ratio.is_sign_negative());
    }
    assert_same_float(&caps, updated.ratio.into(), -0.0, "ratio");
    assert_eq!(updated.maybe.map(f64::to_bits), Some(tiny.to_bits()));
    assert_eq!(store.get("c").await.unwrap(), Some(expected.clone()));

    expect_kind(
        store
            .update("c")
            .set(f.label(), "lost")
            .when(f.count().gt(0))
            .await,
        ErrorKind::ConditionFailed,
    );
    expect_kind(
        store.update("missing").set(f.label(), "x").await,
        ErrorKind::NotFound,
    );
    assert_eq!(store.get("missing").await.unwrap(), None);
    assert_eq!(store.get("c").await.unwrap(), Some(expected.clone()));
    assert_eq!(store.delete("c").await.unwrap(), Some(expected));
}

#[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
#[kvs(store = "typed_rt_versioned", partition_key = id, sort_key = rev)]
#[kvs(index(name = "byOwner", partition_key = owner))]
struct RtVersioned {
    id: String,
    rev: i64,
    owner: String,
    version: i64,
}

/// Conditional typed writes and strongly consistent typed queries: `upsert(..).when`
/// writes only if the existing item (or its absence) meets the condition, else
/// `ConditionFailed` and nothing changes; `insert(..).when` adds a condition to
/// "must not exist" (an existing item is still `AlreadyExists`); `.consistent()`
/// reads the base table's latest writes, and is `Validation` on an index.
pub async fn typed_rt_conditional_puts_and_consistent_queries(kvs: Kvs) {
    let store = fresh_typed_store::<RtVersioned>(&kvs).await;
    let f = RtVersioned::fields();
    let doc = |rev: i64, version: i64| RtVersioned {
        id: "d".into(),
        rev,
        owner: "o".into(),
        version,
    };
    store.insert(&doc(1, 1)).await.unwrap();

    // upsert when: true writes, false refuses and changes nothing.
    store
        .upsert(&doc(1, 2))
        .when(f.version().eq(1))
        .await
        .unwrap();
    assert_eq!(store.get(("d", 1)).await.unwrap(), Some(doc(1, 2)));
    expect_kind(
        store.upsert(&doc(1, 3)).when(f.version().eq(1)).await,
        ErrorKind::ConditionFailed,
    );
    assert_eq!(store.get(("d", 1)).await.unwrap(), Some(doc(1, 2)));
    // Two conditions combine with `and`.
    expect_kind(
        store
            .upsert(&doc(1, 3))
            .when(f.version().eq(2))
            .when(f.owner().eq("someone else"))
            .await,
        ErrorKind::ConditionFailed,
    );
    // On a missing item, a condition on its attributes is false: nothing is created.
    expect_kind(
        store.upsert(&doc(2, 1)).when(f.version().ge(0)).await,
        ErrorKind::ConditionFailed,
    );
    assert_eq!(store.get(("d", 2)).await.unwrap(), None);
    // "does not exist yet" as an upsert condition is an insert.
    store
        .upsert(&doc(2, 1))
        .when(f.id().not_exists())
        .await
        .unwrap();
    expect_kind(
        store.upsert(&doc(2, 9)).when(f.id().not_exists()).await,
        ErrorKind::ConditionFailed,
    );
    assert_eq!(store.get(("d", 2)).await.unwrap(), Some(doc(2, 1)));

    // insert when: an existing item is AlreadyExists whatever the condition; on a
    // missing item the condition decides.
    expect_kind(
        store.insert(&doc(2, 5)).when(f.version().eq(1)).await,
        ErrorKind::AlreadyExists,
    );
    expect_kind(
        store.insert(&doc(3, 1)).when(f.version().eq(1)).await,
        ErrorKind::ConditionFailed,
    );
    assert_eq!(store.get(("d", 3)).await.unwrap(), None);
    store
        .insert(&doc(3, 1))
        .when(f.version().not_exists())
        .await
        .unwrap();
    // In a transaction, a failed put condition is its reason.
    let err = expect_kind(
        kvs.transact([
            store
                .upsert(&doc(3, 2))
                .when(f.version().eq(1))
                .into_transact_write(),
            store
                .upsert(&doc(1, 9))
                .when(f.version().eq(7))
                .into_transact_write(),
        ])
        .await,
        ErrorKind::TransactionCanceled,
    );
    assert_eq!(
        err.reasons().map(<[_]>::to_vec),
        Some(vec![None, Some(ErrorKind::ConditionFailed)])
    );
    assert_eq!(store.get(("d", 3)).await.unwrap(), Some(doc(3, 1)));

    // A consistent query of the base table sees every write just made, with a sort
    // condition, a filter and in either order.
    let revs = |page: crate::Page<RtVersioned>| -> Vec<i64> {
        page.items.into_iter().map(|d| d.rev).collect()
    };
    let page = store
        .query(RtVersioned::partition("d"))
        .consistent()
        .await
        .unwrap();
    assert_eq!(page.items, vec![doc(1, 2), doc(2, 1), doc(3, 1)]);
    let page = store
        .query(RtVersioned::partition("d").sort_ge(2))
        .filter(f.version().eq(1))
        .consistent()
        .descending()
        .await
        .unwrap();
    assert_eq!(revs(page), [3, 2]);
    store.update(("d", 3)).set(f.version(), 4).await.unwrap();
    let page = store
        .query(RtVersioned::partition("d").sort_eq(3))
        .consistent()
        .await
        .unwrap();
    assert_eq!(page.items, vec![doc(3, 4)]);
    // Consistent reads are for the base table only.
    expect_kind(
        store.query(RtVersioned::by_owner("o")).consistent().await,
        ErrorKind::Validation,
    );
    assert_eq!(
        store
            .query(RtVersioned::by_owner("o"))
            .await
            .unwrap()
            .items
            .len(),
        3
    );
}

#[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
#[kvs(store = "typed_rt_dynamic", partition_key = id)]
struct RtDynamic {
    id: String,
    meta: Value,
    extra: Option<Value>,
    attrs: HashMap<String, Value>,
    list: Vec<Value>,
}

/// `type_of` on fields whose type the model leaves open (`kvs::Value`, an `Option`
/// of one, map entries and list elements of `Value`), and `exists` / `not_exists` on
/// typed fields, in filters and in conditions.
pub async fn typed_rt_type_of_and_exists(kvs: Kvs) {
    let store = fresh_typed_store::<RtDynamic>(&kvs).await;
    let f = RtDynamic::fields();
    let values = [
        ("num", Value::from(1)),
        ("str", Value::from("s")),
        ("map", Value::from(item! { "k" => true })),
        ("list", Value::list([Value::from(1)])),
        ("bool", Value::from(false)),
        ("null", Value::Null),
    ];
    for (id, v) in &values {
        store
            .upsert(&RtDynamic {
                id: (*id).into(),
                meta: v.clone(),
                extra: (*id == "num").then(|| v.clone()),
                attrs: HashMap::from([("k".to_owned(), v.clone())]),
                list: vec![v.clone()],
            })
            .await
            .unwrap();
    }
    let matching = async |cond: crate::Cond<RtDynamic>| -> Vec<String> {
        let items: Vec<RtDynamic> = store
            .scan()
            .filter(cond)
            .stream()
            .try_collect()
            .await
            .unwrap();
        sorted_ids(&items, |d| d.id.clone())
    };
    for (ty, id) in [
        (ValueType::Number, "num"),
        (ValueType::String, "str"),
        (ValueType::Map, "map"),
        (ValueType::List, "list"),
        (ValueType::Bool, "bool"),
        (ValueType::Null, "null"),
    ] {
        assert_eq!(matching(f.meta().type_of(ty)).await, [id], "meta {ty:?}");
        assert_eq!(
            matching(f.attrs().entry("k").type_of(ty)).await,
            [id],
            "entry {ty:?}"
        );
        assert_eq!(
            matching(f.list().at(0).type_of(ty)).await,
            [id],
            "element {ty:?}"
        );
    }
    assert_eq!(
        matching(f.extra().type_of(ValueType::Number)).await,
        ["num"]
    );
    assert!(
        matching(f.extra().type_of(ValueType::String))
            .await
            .is_empty()
    );
    // A missing attribute is of no type; a null one exists.
    assert!(
        matching(f.attrs().entry("other").type_of(ValueType::Null))
            .await
            .is_empty()
    );
    assert_eq!(matching(f.meta().exists()).await.len(), values.len());
    assert_eq!(matching(f.extra().exists()).await, ["num"]);
    assert_eq!(
        matching(f.extra().not_exists()).await.len(),
        values.len() - 1
    );
    assert_eq!(
        matching(f.list().at(1).not_exists()).await.len(),
        values.len()
    );
    assert_eq!(
        matching(
            f.meta()
                .type_of(ValueType::Number)
                .or(f.meta().type_of(ValueType::String))
        )
        .await,
        ["num", "str"]
    );
    assert_eq!(
        matching(!f.meta().type_of(ValueType::Null).and(f.meta().exists()))
            .await
            .len(),
        values.len() - 1
    );
    // As a write condition.
    store
        .update("str")
        .set(f.meta(), Value::from(2))
        .when(f.meta().type_of(ValueType::String))
        .await
        .unwrap();
    expect_kind(
        store
            .update("str")
            .set(f.meta(), Value::from(3))
            .when(f.meta().type_of(ValueType::String))
            .await,
        ErrorKind::ConditionFailed,
    );
    assert_eq!(
        store.get("str").await.unwrap().map(|d| d.meta),
        Some(Value::from(2))
    );
}
