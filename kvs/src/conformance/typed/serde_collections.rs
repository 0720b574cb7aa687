//! Conformance cases of serde types through `to_item` and `from_item`: collections, maps, sets, bytes and nested structs.

use super::*;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Collections {
    id: String,
    names: Vec<String>,
    numbers: Vec<i64>,
    floats: Vec<f64>,
    empty: Vec<String>,
    inners: Vec<Inner>,
    grid: Vec<Vec<i64>>,
    pair: (i64, String),
    child: Child,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Child {
    label: String,
    grandchild: Grandchild,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Grandchild {
    depth: u8,
    tags: Vec<String>,
}

/// Vecs, tuples and nested structs round-trip, stored as lists and maps. An i64 outside
/// the backend's `integer_range` in a Vec is refused (`Validation` naming the field,
/// nothing written); the largest integer it stores round-trips in its place.
pub async fn typed_collections_and_nested_structs_round_trip(kvs: Kvs) {
    let caps = kvs.capabilities();
    let store = records(&kvs).await;
    let mut value = Collections {
        id: "c".into(),
        names: vec!["b".into(), "a".into(), "b".into()],
        numbers: vec![3, -1, i64::MAX, 3],
        floats: vec![0.5, 2.0, -0.1],
        empty: vec![],
        inners: vec![
            Inner {
                name: "x".into(),
                score: 1.0,
            },
            Inner {
                name: "y".into(),
                score: 2.5,
            },
        ],
        grid: vec![vec![1, 2], vec![], vec![3]],
        pair: (7, "seven".into()),
        child: Child {
            label: "child".into(),
            grandchild: Grandchild {
                depth: 2,
                tags: vec!["t".into()],
            },
        },
    };
    // Where the backend declares an integer range (doubles), i64::MAX is outside it.
    if !stores_int(&caps, i64::MAX) {
        let it = to_item(&value).expect("to_item");
        assert_unstorable(&kvs, &store, it, &["numbers"]).await;
        value.numbers[2] = storable_int(&caps, i64::MAX);
    }
    let stored = round_trip(&kvs, &store, &value).await;
    assert_eq!(stored["names"].value_type(), ValueType::List);
    assert_eq!(stored["child"].value_type(), ValueType::Map);
    assert_eq!(
        stored.get_path("child.grandchild.depth").unwrap(),
        Some(&Value::from(2))
    );
    // Duplicates in a Vec are kept: it is a list, not a set.
    assert_eq!(stored["names"].as_list().unwrap().len(), 3);
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Maps {
    id: String,
    counts: HashMap<String, i64>,
    inners: BTreeMap<String, Inner>,
    empty: HashMap<String, String>,
    nested: BTreeMap<String, BTreeMap<String, bool>>,
}

/// `HashMap` and `BTreeMap` with string keys (odd ones included) round-trip as maps.
pub async fn typed_maps_round_trip(kvs: Kvs) {
    let store = records(&kvs).await;
    let value = Maps {
        id: "m".into(),
        counts: HashMap::from([
            ("a".to_owned(), 1),
            ("a.b".to_owned(), 2),
            ("with space".to_owned(), -3),
            ("\u{1F600}".to_owned(), 4),
            ("#:$".to_owned(), 5),
        ]),
        inners: BTreeMap::from([(
            "one".to_owned(),
            Inner {
                name: "1".into(),
                score: 1.25,
            },
        )]),
        empty: HashMap::new(),
        nested: BTreeMap::from([(
            "outer".to_owned(),
            BTreeMap::from([("inner".to_owned(), true)]),
        )]),
    };
    let stored = round_trip(&kvs, &store, &value).await;
    assert_eq!(stored["counts"].value_type(), ValueType::Map);
    assert_eq!(
        stored["counts"].as_map().unwrap().get("a.b"),
        Some(&Value::from(2))
    );
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct OptionalValues {
    id: String,
    scores: HashMap<String, Option<i64>>,
}

/// `None` values of a map are kept (as null) so that their keys read back: a map
/// round-trips exactly, unlike a struct field, where `None` is a missing attribute.
pub async fn typed_map_none_values_round_trip(kvs: Kvs) {
    let store = records(&kvs).await;
    let value = OptionalValues {
        id: "o".into(),
        scores: HashMap::from([("played".to_owned(), Some(3)), ("skipped".to_owned(), None)]),
    };
    let stored = round_trip(&kvs, &store, &value).await;
    assert_eq!(
        stored["scores"].as_map().unwrap().get("skipped"),
        Some(&Value::Null)
    );
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Sets {
    id: String,
    tags: Set<String>,
    scores: Set<i64>,
    blobs: Set<Bytes>,
}

/// `Set<String>`, `Set<i64>` and `Set<Bytes>` round-trip, stored as native set types. A
/// `Set<i64>` holding an integer outside the backend's `integer_range` is refused
/// (`Validation` naming the field, nothing written); the edges of the range round-trip in
/// place of the i64 extremes.
pub async fn typed_sets_round_trip(kvs: Kvs) {
    let caps = kvs.capabilities();
    let store = records(&kvs).await;
    let mut value = Sets {
        id: "s".into(),
        tags: ["rust", "db", "\u{1F600}"].map(String::from).into(),
        scores: [i64::MIN, -1, 0, 42, i64::MAX].into(),
        blobs: [Bytes(vec![0]), Bytes(vec![255, 1]), Bytes(vec![0, 0])].into(),
    };
    // Where the backend declares an integer range (doubles), the extremes are outside it.
    if !stores_int(&caps, i64::MIN) || !stores_int(&caps, i64::MAX) {
        let it = to_item(&value).expect("to_item");
        assert_unstorable(&kvs, &store, it, &["scores"]).await;
        let edges = [i64::MIN, -1, 0, 42, i64::MAX].map(|i| storable_int(&caps, i));
        value.scores = edges.into();
    }
    let stored = round_trip(&kvs, &store, &value).await;
    assert_eq!(
        stored["tags"],
        Value::string_set(["rust", "db", "\u{1F600}"])
    );
    assert_eq!(stored["scores"].value_type(), ValueType::NumberSet);
    assert_eq!(stored["blobs"].value_type(), ValueType::BytesSet);
}

/// An empty `Set` is written as a missing attribute and reads back as an empty set.
pub async fn typed_empty_set_is_missing(kvs: Kvs) {
    let store = records(&kvs).await;
    let value = Sets {
        id: "empty".into(),
        tags: Set::new(),
        scores: Set::new(),
        blobs: Set::new(),
    };
    let stored = round_trip(&kvs, &store, &value).await;
    assert_eq!(stored, item! { "id" => "empty" });
    kvs.upsert(&store, item! { "id" => "bare" }).await.unwrap();
    let bare: Sets = from_item(kvs.get(&store, "bare").await.unwrap().unwrap()).unwrap();
    assert!(bare.tags.is_empty() && bare.scores.is_empty() && bare.blobs.is_empty());
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Blob {
    id: String,
    data: Bytes,
    empty: Bytes,
    list: Vec<Bytes>,
}

/// `kvs::Bytes` round-trips as binary data: all 256 byte values, empty, in a list.
pub async fn typed_bytes_round_trip(kvs: Kvs) {
    let store = records(&kvs).await;
    let value = Blob {
        id: "b".into(),
        data: Bytes((0..=255u8).collect()),
        empty: Bytes(Vec::new()),
        list: vec![Bytes(vec![1, 2]), Bytes(vec![])],
    };
    let stored = round_trip(&kvs, &store, &value).await;
    assert_eq!(
        stored["data"],
        Value::bytes((0..=255u8).collect::<Vec<_>>())
    );
    assert_eq!(stored["empty"].value_type(), ValueType::Bytes);
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Keyed {
    id: String,
    by_number: BTreeMap<i64, String>,
    by_small: HashMap<u32, bool>,
    by_flag: BTreeMap<bool, i64>,
}

/// Maps with integer or bool keys, which `to_item` accepts, round-trip through `from_item`.
pub async fn typed_map_non_string_keys_round_trip(kvs: Kvs) {
    let store = records(&kvs).await;
    let value = Keyed {
        id: "k".into(),
        by_number: BTreeMap::from([
            (-2, "minus two".to_owned()),
            (1, "one".to_owned()),
            (i64::MAX, "max".to_owned()),
        ]),
        by_small: HashMap::from([(7, true), (0, false)]),
        by_flag: BTreeMap::from([(true, 1), (false, 0)]),
    };
    round_trip(&kvs, &store, &value).await;
}
