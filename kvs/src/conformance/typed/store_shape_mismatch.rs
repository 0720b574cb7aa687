//! Conformance cases of models through `Store<M>`: a stored item that does not fit the model is `Serialization`.

// `#[derive(KeyValueStore)]` and `#[derive(Nested)]` give every field of a private model
// an accessor, and a case uses only some of them, so the unused ones would warn as dead
// code.
#![allow(dead_code)]

use super::*;
use crate::conformance::errors::assert_mentions;

#[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
#[kvs(store = "typed_rt_mismatch", partition_key = id)]
#[kvs(index(name = "byKind", partition_key = kind))]
struct RtStrict {
    id: String,
    kind: String,
    count: u8,
    tags: Set<String>,
    when: Option<i64>,
    phase: RtPhase,
}

/// A typed read of an item whose stored shape does not fit the model (wrong type, missing
/// required field, number out of range or fractional for an integer, unknown enum
/// variant) is `Serialization`: from get, get_many, query, scan and streams.
pub async fn typed_rt_shape_mismatch_is_serialization(kvs: Kvs) {
    let store = fresh_typed_store::<RtStrict>(&kvs).await;
    let good = RtStrict {
        id: "good".into(),
        kind: "good".into(),
        count: 1,
        tags: ["t".to_owned()].into(),
        when: Some(1),
        phase: RtPhase::Draft,
    };
    typed_round_trip(&store, &good).await;
    let base = || item! { "kind" => "bad", "count" => 1, "phase" => "draft" };
    let mut bad: Vec<(&str, &str, Item)> = Vec::new();
    for (id, name, value) in [
        ("text-count", "count", Value::from("seven")),
        ("big-count", "count", Value::from(256)),
        ("negative-count", "count", Value::from(-1)),
        ("fraction-count", "count", Value::from(1.5)),
        ("null-count", "count", Value::Null),
        ("number-tags", "tags", Value::from(5)),
        ("text-when", "when", Value::from("yesterday")),
        ("unknown-phase", "phase", Value::from("Draft")),
        ("map-phase", "phase", Value::from(item! { "draft" => true })),
    ] {
        let mut it = base();
        it.set("id", id);
        it.set(name, value);
        bad.push((id, name, it));
    }
    let mut missing = base();
    missing.remove("count");
    missing.set("id", "missing-count");
    bad.push(("missing-count", "count", missing));
    // Each error names the attribute that does not fit (SEMANTICS.md: "a typed read
    // fails with `Serialization` naming the attribute"), whichever backend decoded it.
    for (id, name, it) in &bad {
        kvs.upsert(store.name(), it.clone()).await.unwrap();
        let err = expect_kind(store.get(*id).await, ErrorKind::Serialization);
        assert_mentions(&err, name);
        let err = expect_kind(
            store.get_many(["good", *id]).await,
            ErrorKind::Serialization,
        );
        assert_mentions(&err, name);
        let err = expect_kind(
            store.query(RtStrict::partition(*id)).await,
            ErrorKind::Serialization,
        );
        assert_mentions(&err, name);
    }
    // Every bad item and none other in the index, once it has them all.
    crate::conformance::settle_index(&kvs, store.name(), "byKind", "bad", bad.len()).await;
    expect_kind(
        store.query(RtStrict::by_kind("bad")).await,
        ErrorKind::Serialization,
    );
    expect_kind(store.scan().await, ErrorKind::Serialization);
    let streamed: Vec<crate::Result<RtStrict>> = store.scan().stream().collect().await;
    assert_eq!(streamed.len(), bad.len() + 1);
    assert_eq!(
        streamed
            .iter()
            .filter(|r| r.as_ref().is_err_and(|e| e.is(&ErrorKind::Serialization)))
            .count(),
        bad.len()
    );
    // The items that fit still read back.
    assert_eq!(store.get("good").await.unwrap(), Some(good.clone()));
    assert_eq!(
        store.query(RtStrict::by_kind("good")).await.unwrap().items,
        vec![good]
    );
}
