//! Conformance cases of models through `Store<M>`: `None` and empty sets are missing attributes.

// `#[derive(KeyValueStore)]` and `#[derive(Nested)]` give every field of a private model
// an accessor, and a case uses only some of them, so the unused ones would warn as dead
// code.
#![allow(dead_code)]

use super::*;

#[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
#[kvs(store = "typed_rt_options", partition_key = id)]
struct RtMaybe {
    id: String,
    nick: Option<String>,
    age: Option<i64>,
    ratio: Option<f64>,
    ok: Option<bool>,
    note: Option<RtNote>,
    words: Option<Vec<String>>,
    blob: Option<Bytes>,
    slots: Vec<Option<i64>>,
}

/// `None` is written as a missing attribute (checked with a dynamic get) and reads back as
/// `None`; `Some` of an empty or zero value is stored. Typed updates that set `None` or
/// REMOVE leave the attribute missing, and return `None`.
pub async fn typed_rt_option_none_is_missing(kvs: Kvs) {
    let store = fresh_typed_store::<RtMaybe>(&kvs).await;
    let f = RtMaybe::fields();
    let options = ["nick", "age", "ratio", "ok", "note", "words", "blob"];
    let none = RtMaybe {
        id: "none".into(),
        nick: None,
        age: None,
        ratio: None,
        ok: None,
        note: None,
        words: None,
        blob: None,
        slots: vec![None, Some(0), None],
    };
    let stored = typed_round_trip(&store, &none).await;
    assert_missing(&stored, &options);
    assert_eq!(stored.len(), 2, "only id and slots: {stored:?}");
    assert_eq!(stored["slots"].as_list().map(<[Value]>::len), Some(3));

    let zero = RtMaybe {
        id: "zero".into(),
        nick: Some(String::new()),
        age: Some(0),
        ratio: Some(0.0),
        ok: Some(false),
        note: Some(RtNote {
            text: String::new(),
            stars: None,
        }),
        words: Some(vec![]),
        blob: Some(Bytes(vec![])),
        slots: vec![],
    };
    let stored = typed_round_trip(&store, &zero).await;
    for name in options {
        assert!(
            stored.contains_key(name),
            "Some(..) of an empty or zero value must be stored: {name}"
        );
    }
    assert_eq!(stored.get_path("note.stars").unwrap(), None);
    assert_eq!(
        stored.get_path("note.text").unwrap(),
        Some(&Value::from(""))
    );

    let updated = store
        .update("zero")
        .set(f.nick(), None::<String>)
        .remove(f.age())
        .set(f.note().some().stars(), Some(5u8))
        .await
        .unwrap();
    let expected = RtMaybe {
        nick: None,
        age: None,
        note: Some(RtNote {
            text: String::new(),
            stars: Some(5),
        }),
        ..zero.clone()
    };
    assert_eq!(updated, expected);
    assert_eq!(store.get("zero").await.unwrap(), Some(expected));
    let stored = kvs.get(store.name(), "zero").await.unwrap().unwrap();
    assert_missing(&stored, &["nick", "age"]);
    assert_eq!(
        stored.get_path("note.stars").unwrap(),
        Some(&Value::from(5))
    );

    let updated = store
        .update("none")
        .set(f.nick().some(), "n")
        .set(f.age(), Some(7))
        .set(f.note(), None::<RtNote>)
        .await
        .unwrap();
    assert_eq!(
        updated,
        RtMaybe {
            nick: Some("n".into()),
            age: Some(7),
            ..none.clone()
        }
    );
    let page = store.scan().filter(f.nick().not_exists()).await.unwrap();
    assert_eq!(sorted_ids(&page.items, |v| v.id.clone()), ["zero"]);
    let page = store.scan().filter(f.age().exists()).await.unwrap();
    assert_eq!(sorted_ids(&page.items, |v| v.id.clone()), ["none"]);
}

#[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
#[kvs(store = "typed_rt_empty_sets", partition_key = id)]
struct RtSetBag {
    id: String,
    tags: Set<String>,
    nums: Set<i64>,
    blobs: Set<Bytes>,
}

#[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
#[kvs(store = "typed_rt_empty_sets_in_lists", partition_key = id)]
struct RtSetRows {
    id: String,
    rows: Vec<Set<String>>,
}

/// An empty set is written as a missing attribute (checked with a dynamic get) and reads
/// back empty; a set emptied by a typed update (DELETE of every element, SET to empty,
/// REMOVE) is missing too and reads back empty. An empty set in a list reads back empty.
pub async fn typed_rt_empty_set_is_missing(kvs: Kvs) {
    let store = fresh_typed_store::<RtSetBag>(&kvs).await;
    let f = RtSetBag::fields();
    let empty = RtSetBag {
        id: "empty".into(),
        tags: Set::new(),
        nums: Set::new(),
        blobs: Set::new(),
    };
    let stored = typed_round_trip(&store, &empty).await;
    assert_eq!(stored, item! { "id" => "empty" });
    kvs.upsert(store.name(), item! { "id" => "bare" })
        .await
        .unwrap();
    assert_eq!(
        store.get("bare").await.unwrap(),
        Some(RtSetBag {
            id: "bare".into(),
            ..empty.clone()
        })
    );

    let full = RtSetBag {
        id: "full".into(),
        tags: ["a", "b"].map(String::from).into(),
        nums: [1].into(),
        blobs: [Bytes(vec![1])].into(),
    };
    typed_round_trip(&store, &full).await;
    let updated = store
        .update("full")
        .delete(f.tags(), ["a", "b"])
        .set(f.nums(), Set::new())
        .remove(f.blobs())
        .await
        .unwrap();
    let expected = RtSetBag {
        id: "full".into(),
        ..empty.clone()
    };
    assert_eq!(updated, expected);
    assert_eq!(store.get("full").await.unwrap(), Some(expected));
    let stored = kvs.get(store.name(), "full").await.unwrap().unwrap();
    assert_eq!(stored, item! { "id" => "full" });
    let page = store.scan().filter(f.tags().not_exists()).await.unwrap();
    assert_eq!(page.items.len(), 3);

    let rows_store = fresh_typed_store::<RtSetRows>(&kvs).await;
    let rows = RtSetRows {
        id: "r".into(),
        rows: vec![Set::new(), ["x".to_owned()].into(), Set::new()],
    };
    let stored = typed_round_trip(&rows_store, &rows).await;
    assert_eq!(stored["rows"].as_list().map(<[Value]>::len), Some(3));
}
