//! Conformance cases: serde types through the store (`to_item`, `from_item`).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;

use futures::{StreamExt, TryStreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::errors::assert_mentions;
use super::values::{
    assert_mentions_any, assert_same_float, assert_same_number, assert_unstorable,
    storable_stand_in,
};
use super::{expect_kind, fresh_name, fresh_store};
use crate::typed::KeyFrom;
use crate::{
    Bytes, ErrorKind, IndexSchema, Item, Key, KeyAttr, Kvs, Model, Number, Set, SortCondition,
    Store, StoreSchema, Value, ValueType, attr, from_item, item, to_item,
};

/// A store keyed by the string attribute `id`.
async fn records(kvs: &Kvs) -> String {
    fresh_store(kvs, StoreSchema::new("records", KeyAttr::string("id"))).await
}

/// Writes `value` with `to_item`, reads it back with `get` and `from_item`, asserts it
/// equals the original, and returns the stored item.
async fn round_trip<T>(kvs: &Kvs, store: &str, value: &T) -> Item
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let it = to_item(value).expect("to_item");
    let id = it["id"].clone();
    kvs.upsert(store, it).await.unwrap();
    let stored = kvs.get(store, id).await.unwrap().expect("the item");
    let back: T = from_item(stored.clone()).expect("from_item");
    assert_eq!(&back, value);
    stored
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Scalars {
    id: String,
    text: String,
    letter: char,
    i8: i8,
    i16: i16,
    i32: i32,
    i64: i64,
    u8: u8,
    u16: u16,
    u32: u32,
    u64: u64,
    f32: f32,
    f64: f64,
    flag: bool,
}

/// Strings, chars, every integer type at its extremes, f32, f64 and bool round-trip. An
/// f64 outside the backend's `float_range` is refused (`Validation` naming the field,
/// nothing written); the nearest float it stores round-trips in its place.
pub async fn typed_scalars_round_trip(kvs: Kvs) {
    let caps = kvs.capabilities();
    let store = records(&kvs).await;
    let highs = Scalars {
        id: "highs".into(),
        text: "h\u{e9}llo \u{1F600} \0 end".into(),
        letter: '\u{1F600}',
        i8: i8::MAX,
        i16: i16::MAX,
        i32: i32::MAX,
        i64: i64::MAX,
        u8: u8::MAX,
        u16: u16::MAX,
        u32: u32::MAX,
        u64: i64::MAX as u64,
        f32: f32::MAX,
        f64: f64::MAX,
        flag: true,
    };
    let lows = Scalars {
        id: "lows".into(),
        text: String::new(),
        letter: 'a',
        i8: i8::MIN,
        i16: i16::MIN,
        i32: i32::MIN,
        i64: i64::MIN,
        u8: 0,
        u16: 0,
        u32: 0,
        u64: 0,
        f32: f32::MIN_POSITIVE,
        f64: 5e-324,
        flag: false,
    };
    let odd = Scalars {
        id: "odd".into(),
        text: "x".repeat(10_000),
        letter: '\0',
        i8: -1,
        i16: -300,
        i32: 70_000,
        i64: 9_007_199_254_740_993,
        u8: 7,
        u16: 300,
        u32: 70_000,
        u64: 9_007_199_254_740_993,
        f32: 0.1,
        f64: 0.1,
        flag: true,
    };
    for value in [&highs, &lows, &odd] {
        if !caps.stores_float(value.f64) {
            let it = to_item(value).expect("to_item");
            assert_unstorable(&kvs, &store, it, &["f64"]).await;
        }
        let value = &Scalars {
            f64: storable_stand_in(&caps, value.f64),
            ..value.clone()
        };
        let stored = round_trip(&kvs, &store, value).await;
        for int in ["i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64"] {
            let n = stored[int].as_number().expect("a number");
            assert!(n.is_integer(), "{int} must be stored as an integer");
        }
        for (float, expected) in [("f32", f64::from(value.f32)), ("f64", value.f64)] {
            let n = stored[float].as_number().expect("a number");
            assert_same_number(&caps, n, Number::from(expected), float);
            if caps.keeps_number_kind {
                assert!(!n.is_integer(), "{float} must be stored as a float");
            }
        }
        assert_eq!(stored["flag"].value_type(), ValueType::Bool);
        assert_eq!(stored["letter"].value_type(), ValueType::String);
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Inner {
    name: String,
    score: f64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Optional {
    id: String,
    nick: Option<String>,
    age: Option<i64>,
    inner: Option<Inner>,
    flags: Vec<Option<i64>>,
}

/// `None` is written as a missing attribute and a missing attribute reads back as `None`.
pub async fn typed_option_none_is_missing(kvs: Kvs) {
    let store = records(&kvs).await;
    let none = Optional {
        id: "none".into(),
        nick: None,
        age: None,
        inner: None,
        flags: vec![Some(1), None, Some(3)],
    };
    let stored = round_trip(&kvs, &store, &none).await;
    for name in ["nick", "age", "inner"] {
        assert!(
            !stored.contains_key(name),
            "{name} must be missing: {stored:?}"
        );
    }
    let some = Optional {
        id: "some".into(),
        nick: Some(String::new()),
        age: Some(0),
        inner: Some(Inner {
            name: "n".into(),
            score: -1.5,
        }),
        flags: vec![],
    };
    let stored = round_trip(&kvs, &store, &some).await;
    assert_eq!(stored["nick"], Value::from(""));
    assert_eq!(stored["age"], Value::from(0));

    kvs.upsert(
        &store,
        item! { "id" => "raw", "flags" => Value::List(vec![]) },
    )
    .await
    .unwrap();
    let raw = kvs.get(&store, "raw").await.unwrap().unwrap();
    let read: Optional = from_item(raw).unwrap();
    assert_eq!(
        read,
        Optional {
            id: "raw".into(),
            nick: None,
            age: None,
            inner: None,
            flags: vec![],
        }
    );
    // Only the items with an `age` have one.
    let page = kvs.scan(&store).filter(attr("age").exists()).await.unwrap();
    assert_eq!(page.items.len(), 1);
}

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

/// Vecs, tuples and nested structs round-trip, stored as lists and maps.
pub async fn typed_collections_and_nested_structs_round_trip(kvs: Kvs) {
    let store = records(&kvs).await;
    let value = Collections {
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

/// `Set<String>`, `Set<i64>` and `Set<Bytes>` round-trip, stored as native set types.
pub async fn typed_sets_round_trip(kvs: Kvs) {
    let store = records(&kvs).await;
    let value = Sets {
        id: "s".into(),
        tags: ["rust", "db", "\u{1F600}"].map(String::from).into(),
        scores: [i64::MIN, -1, 0, 42, i64::MAX].into(),
        blobs: [Bytes(vec![0]), Bytes(vec![255, 1]), Bytes(vec![0, 0])].into(),
    };
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

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
enum Status {
    Active,
    #[serde(rename = "on-hold")]
    OnHold,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Account {
    id: String,
    status: Status,
    history: Vec<Status>,
}

/// Unit enum variants are stored as strings (renames honoured) and round-trip.
pub async fn typed_unit_enum_stored_as_string(kvs: Kvs) {
    let store = records(&kvs).await;
    let active = Account {
        id: "a".into(),
        status: Status::Active,
        history: vec![Status::OnHold, Status::Active],
    };
    let held = Account {
        id: "h".into(),
        status: Status::OnHold,
        history: vec![],
    };
    let stored = round_trip(&kvs, &store, &active).await;
    assert_eq!(stored["status"], Value::from("Active"));
    assert_eq!(stored["history"], Value::list(["on-hold", "Active"]));
    let stored = round_trip(&kvs, &store, &held).await;
    assert_eq!(stored["status"], Value::from("on-hold"));
    let page = kvs
        .scan(&store)
        .filter(attr("status").eq("on-hold"))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(from_item::<Account>(page.items[0].clone()).unwrap(), held);
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
enum Shape {
    Circle { radius: f64 },
    Rect(i64, i64),
    Label(String),
    Nothing,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Drawing {
    id: String,
    main: Shape,
    shapes: Vec<Shape>,
    by_name: BTreeMap<String, Shape>,
}

/// Enums with data (struct, tuple, newtype variants) round-trip alongside unit variants.
pub async fn typed_data_enum_round_trip(kvs: Kvs) {
    let store = records(&kvs).await;
    let value = Drawing {
        id: "d".into(),
        main: Shape::Circle { radius: 2.0 },
        shapes: vec![
            Shape::Rect(3, -4),
            Shape::Label("hi".into()),
            Shape::Nothing,
            Shape::Circle { radius: 0.5 },
        ],
        by_name: BTreeMap::from([
            ("r".to_owned(), Shape::Rect(0, 0)),
            ("n".to_owned(), Shape::Nothing),
        ]),
    };
    round_trip(&kvs, &store, &value).await;
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Big {
    id: String,
    n: u64,
}

/// A u64 above `i64::MAX` is `Serialization` from `to_item` naming the number.
pub async fn typed_u64_above_i64_max_rejected(kvs: Kvs) {
    let store = records(&kvs).await;
    for n in [i64::MAX as u64 + 1, u64::MAX] {
        let err = expect_kind(
            to_item(&Big {
                id: "big".into(),
                n,
            }),
            ErrorKind::Serialization,
        );
        assert_mentions(&err, &n.to_string());
    }
    let ok = Big {
        id: "ok".into(),
        n: i64::MAX as u64,
    };
    round_trip(&kvs, &store, &ok).await;
    assert_eq!(kvs.get(&store, "big").await.unwrap(), None);
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Floaty {
    id: String,
    whole: f64,
    neg_zero: f64,
    count: i64,
}

/// A float field stays a float (even `2.0`), an integer field an integer; -0.0 keeps its sign.
/// Where the backend has one number type (`!keeps_number_kind`) `2.0` may be stored as the
/// equal integer, and where it does not keep the sign of zero `-0.0` reads back as `0.0`;
/// the typed field reads back the same f64 either way.
pub async fn typed_float_field_stays_float(kvs: Kvs) {
    let caps = kvs.capabilities();
    let store = records(&kvs).await;
    let value = Floaty {
        id: "f".into(),
        whole: 2.0,
        neg_zero: -0.0,
        count: 2,
    };
    let stored = round_trip(&kvs, &store, &value).await;
    let whole = stored["whole"].as_number().unwrap();
    if caps.keeps_number_kind {
        assert!(!whole.is_integer());
    }
    assert_same_number(&caps, whole, Number::from(2.0), "whole");
    assert!(stored["count"].as_number().unwrap().is_integer());
    let back: Floaty = from_item(stored).unwrap();
    assert_same_float(&caps, back.whole, 2.0, "whole");
    if caps.keeps_negative_zero {
        assert!(back.neg_zero.is_sign_negative());
    }
    assert_same_float(&caps, back.neg_zero, -0.0, "neg_zero");
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Renamed {
    id: String,
    #[serde(rename = "a.b")]
    dotted: i64,
    #[serde(rename = "#hash")]
    hash: String,
    #[serde(rename = "with space")]
    spaced: bool,
    #[serde(rename = "name")]
    reserved: String,
}

/// Fields renamed to odd names (`a.b`, `#hash`, spaces) are stored under exactly those names.
pub async fn typed_renamed_fields_round_trip(kvs: Kvs) {
    let store = records(&kvs).await;
    let value = Renamed {
        id: "r".into(),
        dotted: 1,
        hash: "h".into(),
        spaced: true,
        reserved: "Ada".into(),
    };
    let stored = round_trip(&kvs, &store, &value).await;
    assert_eq!(
        stored,
        item! { "id" => "r", "a.b" => 1, "#hash" => "h", "with space" => true, "name" => "Ada" }
    );
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Measured {
    id: String,
    reading: f64,
}

/// A NaN or infinite float field is rejected naming the field, and nothing is written.
pub async fn typed_non_finite_field_rejected(kvs: Kvs) {
    let store = records(&kvs).await;
    for reading in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let result = match to_item(&Measured {
            id: "m".into(),
            reading,
        }) {
            Ok(it) => kvs.upsert(&store, it).await,
            Err(e) => Err(e),
        };
        let err = match result {
            Ok(()) => panic!("a non-finite field was written"),
            Err(e) => e,
        };
        assert!(
            err.is(&ErrorKind::Validation) || err.is(&ErrorKind::Serialization),
            "expected Validation (or Serialization from to_item), got {err}"
        );
        assert_mentions(&err, "reading");
    }
    assert_eq!(kvs.get(&store, "m").await.unwrap(), None);
}

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

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Profile {
    nick: Option<String>,
    tags: Set<String>,
    level: i64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Member {
    id: String,
    #[serde(flatten)]
    profile: Profile,
}

/// In a `#[serde(flatten)]` struct too, `None` and an empty set are missing attributes.
pub async fn typed_flattened_none_is_missing(kvs: Kvs) {
    let store = fresh_store(
        &kvs,
        StoreSchema::new("members", KeyAttr::string("id"))
            .index(IndexSchema::new("byNick", KeyAttr::string("nick"))),
    )
    .await;
    let bare = Member {
        id: "bare".into(),
        profile: Profile {
            nick: None,
            tags: Set::new(),
            level: 1,
        },
    };
    let it = to_item(&bare).unwrap();
    assert_eq!(
        it,
        item! { "id" => "bare", "level" => 1 },
        "None and an empty set must be missing attributes"
    );
    let stored = round_trip(&kvs, &store, &bare).await;
    assert_eq!(stored, item! { "id" => "bare", "level" => 1 });
    let named = Member {
        id: "named".into(),
        profile: Profile {
            nick: Some("ada".into()),
            tags: ["x".to_owned()].into(),
            level: 2,
        },
    };
    round_trip(&kvs, &store, &named).await;
    let page = kvs.query(&store, "ada").index("byNick").await.unwrap();
    assert_eq!(page.items.len(), 1);
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind")]
enum Internal {
    Click {
        x: i64,
        y: i64,
        target: Option<String>,
    },
    Scroll {
        by: f64,
        tags: Set<i64>,
    },
    Blob {
        data: Bytes,
    },
    Quit,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "t", content = "c")]
enum Adjacent {
    Count(u32),
    Pair(String, f64),
    Empty,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
enum Loose {
    Int(i64),
    Float(f64),
    Text(String),
    List(Vec<Loose>),
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct UserId(String);

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Tagged {
    id: UserId,
    events: Vec<Internal>,
    adjacent: Vec<Adjacent>,
    loose: Vec<Loose>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    skipped: Vec<i64>,
}

/// Internally, adjacently and untagged enums and newtype structs round-trip. A float
/// outside the backend's `float_range` is refused (`Validation` naming the attribute,
/// nothing written). Where the backend has one number type (`!keeps_number_kind`), an
/// untagged `Float(2.0)` is stored as `2` and may read back as the untagged `Int(2)`,
/// which equals it as a number.
pub async fn typed_tagged_enums_round_trip(kvs: Kvs) {
    let caps = kvs.capabilities();
    let store = records(&kvs).await;
    let tiny = 1e-300;
    let value = Tagged {
        id: UserId("t".into()),
        events: vec![
            Internal::Click {
                x: i64::MIN,
                y: 2,
                target: None,
            },
            Internal::Scroll {
                by: 2.0,
                tags: [3, 1].into(),
            },
            Internal::Scroll {
                by: -0.5,
                tags: Set::new(),
            },
            Internal::Blob {
                data: Bytes(vec![0, 255]),
            },
            Internal::Quit,
        ],
        adjacent: vec![
            Adjacent::Count(u32::MAX),
            Adjacent::Pair("p".into(), tiny),
            Adjacent::Empty,
        ],
        loose: vec![
            Loose::Int(2),
            Loose::Float(2.0),
            Loose::Text("2".into()),
            Loose::List(vec![Loose::Int(i64::MAX), Loose::Float(0.1)]),
        ],
        skipped: vec![],
    };
    if !caps.stores_float(tiny) {
        let it = to_item(&value).expect("to_item");
        assert_unstorable(&kvs, &store, it, &["adjacent"]).await;
    }
    let mut value = value;
    value.adjacent[1] = Adjacent::Pair("p".into(), storable_stand_in(&caps, tiny));
    let stored = if caps.keeps_number_kind {
        round_trip(&kvs, &store, &value).await
    } else {
        kvs.upsert(&store, to_item(&value).expect("to_item"))
            .await
            .unwrap();
        let stored = kvs.get(&store, "t").await.unwrap().expect("the item");
        let back: Tagged = from_item(stored.clone()).expect("from_item");
        // The whole float may come back as the untagged integer; all else is exact.
        let mut folded = value.clone();
        folded.loose[1] = Loose::Int(2);
        assert!(back == value || back == folded, "{back:?} vs {value:?}");
        assert_eq!(
            stored.get_path("loose[1]").unwrap(),
            Some(&Value::from(2.0))
        );
        stored
    };
    assert_eq!(stored["id"], Value::from("t"));
    assert!(!stored.contains_key("skipped"));
    assert_eq!(
        stored.get_path("events[0].kind").unwrap(),
        Some(&Value::from("Click"))
    );
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

// ---------------------------------------------------------------------------------------
// Typed round trips through `Store<M>`: models declared with `#[derive(KeyValueStore)]`,
// each case with models of its own. The derive fixes a model's store name; a case keeps
// its models under fresh names (`Kvs::store_named`), so cases and runs can share a server.
pub use round_trips::{
    typed_rt_bytes, typed_rt_composite_key_number_string, typed_rt_composite_key_string_number,
    typed_rt_conditional_puts_and_consistent_queries, typed_rt_empty_set_is_missing,
    typed_rt_floats_and_bools, typed_rt_maps, typed_rt_nested_structs,
    typed_rt_option_none_is_missing, typed_rt_query_results, typed_rt_remove_entries_and_positions,
    typed_rt_serde_renames, typed_rt_sets, typed_rt_shape_mismatch_is_serialization,
    typed_rt_small_integer_extremes, typed_rt_sparse_index, typed_rt_strings,
    typed_rt_type_of_and_exists, typed_rt_unit_enum_as_string_and_index_key,
    typed_rt_update_results, typed_rt_vecs, typed_rt_wide_integers,
};

/// The typed round-trip cases. `#[derive(KeyValueStore)]` and `#[derive(Nested)]` give
/// every field of a private model an accessor, and a case uses only some of them, so the
/// unused ones would warn as dead code.
#[allow(dead_code)]
mod round_trips {
    use super::*;

    /// The typed store of `M` under a fresh name (the model's store name, the process id
    /// and a counter, by [`fresh_name`]), created: so that every case, and every run, has
    /// stores of its own on a shared server.
    async fn fresh_typed_store<M: Model>(kvs: &Kvs) -> Store<M> {
        let store = kvs.store_named::<M>(fresh_name(M::STORE));
        store.ensure().await.expect("ensure");
        store
    }

    /// Upserts `value` through the typed store, reads it back with a typed `get`, asserts it
    /// equals the original, and returns the item as stored (a dynamic `get`).
    async fn typed_round_trip<M>(store: &Store<M>, value: &M) -> Item
    where
        M: Model + PartialEq + Debug,
        M::Key: KeyFrom<M::Key>,
    {
        store.upsert(value).await.expect("typed upsert");
        let back = store.get(value.key()).await.expect("typed get");
        assert_eq!(
            back.as_ref(),
            Some(value),
            "the typed get must equal what was written"
        );
        store
            .kvs()
            .get(store.name(), value.key())
            .await
            .expect("dynamic get")
            .expect("the stored item")
    }

    /// Asserts that none of `names` is an attribute of `stored`.
    #[track_caller]
    fn assert_missing(stored: &Item, names: &[&str]) {
        for name in names {
            assert!(
                !stored.contains_key(*name),
                "{name:?} must be a missing attribute: {stored:?}"
            );
        }
    }

    /// The ids of a page of typed items, sorted.
    fn sorted_ids<M>(items: &[M], id: impl Fn(&M) -> String) -> Vec<String> {
        let mut ids: Vec<String> = items.iter().map(id).collect();
        ids.sort();
        ids
    }

    #[derive(
        crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq,
    )]
    #[kvs(store = "typed_rt_strings", partition_key = id)]
    struct RtText {
        id: String,
        text: String,
        empty: String,
        letter: char,
        lines: Vec<String>,
    }

    /// Strings round-trip exactly through `Store<M>`: any Unicode, NUL, long strings, Unicode
    /// keys; an empty string is stored as an empty string, not as a missing attribute.
    pub async fn typed_rt_strings(kvs: Kvs) {
        let store = fresh_typed_store::<RtText>(&kvs).await;
        let f = RtText::fields();
        // The model's own store name was never defined: the store has another name.
        assert_ne!(store.name(), RtText::STORE);
        expect_kind(
            kvs.store::<RtText>().get("nul").await,
            ErrorKind::StoreNotFound,
        );
        let texts = [
            RtText {
                id: "\u{1F600} key \u{e9}".into(),
                text: "h\u{e9}llo \u{1F600} \u{10FFFF} \u{FEFF}\r\n\t\"q\" \\ end".into(),
                empty: String::new(),
                letter: '\u{1F600}',
                lines: vec![
                    "\u{e9}".into(),
                    "e\u{301}".into(),
                    "\u{5e9}\u{5dc}\u{5d5}\u{5dd}".into(),
                    String::new(),
                ],
            },
            RtText {
                id: "nul".into(),
                text: "a\0b\0".into(),
                empty: String::new(),
                letter: '\0',
                lines: vec![],
            },
            RtText {
                id: "long".into(),
                text: "\u{1F600}x".repeat(20_000),
                empty: String::new(),
                letter: 'x',
                lines: vec!["x".repeat(1_000); 3],
            },
        ];
        for t in &texts {
            let stored = typed_round_trip(&store, t).await;
            assert_eq!(
                stored["empty"],
                Value::from(""),
                "an empty string is a value, not a missing attribute"
            );
            assert_eq!(stored["text"], Value::from(t.text.as_str()));
            assert_eq!(stored["letter"], Value::from(t.letter.to_string()));
        }
        // Precomposed and decomposed forms stay distinct: strings are kept byte for byte.
        let back = store.get("\u{1F600} key \u{e9}").await.unwrap().unwrap();
        assert_ne!(back.lines[0], back.lines[1]);
        assert_eq!(back.lines[3], "");
        let empties = store.scan().filter(f.empty().eq("")).await.unwrap();
        assert_eq!(empties.items.len(), texts.len());
        let page = store
            .scan()
            .filter(f.text().begins_with("h\u{e9}"))
            .await
            .unwrap();
        assert_eq!(page.items, vec![texts[0].clone()]);
    }

    #[derive(
        crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq,
    )]
    #[kvs(store = "typed_rt_small_ints", partition_key = id)]
    struct RtSmallInts {
        id: String,
        i8: i8,
        i16: i16,
        i32: i32,
        u8: u8,
        u16: u16,
        u32: u32,
    }

    /// i8, i16, i32, u8, u16 and u32 round-trip at their extremes, stored as integers, and
    /// typed conditions compare with the exact values.
    pub async fn typed_rt_small_integer_extremes(kvs: Kvs) {
        let store = fresh_typed_store::<RtSmallInts>(&kvs).await;
        let f = RtSmallInts::fields();
        let min = RtSmallInts {
            id: "min".into(),
            i8: i8::MIN,
            i16: i16::MIN,
            i32: i32::MIN,
            u8: u8::MIN,
            u16: u16::MIN,
            u32: u32::MIN,
        };
        let max = RtSmallInts {
            id: "max".into(),
            i8: i8::MAX,
            i16: i16::MAX,
            i32: i32::MAX,
            u8: u8::MAX,
            u16: u16::MAX,
            u32: u32::MAX,
        };
        let near = RtSmallInts {
            id: "near".into(),
            i8: -1,
            i16: 256,
            i32: (1 << 24) + 1,
            u8: 1,
            u16: 256,
            u32: 1 << 31,
        };
        for v in [&min, &max, &near] {
            let stored = typed_round_trip(&store, v).await;
            let expected: [(&str, i64); 6] = [
                ("i8", v.i8.into()),
                ("i16", v.i16.into()),
                ("i32", v.i32.into()),
                ("u8", v.u8.into()),
                ("u16", v.u16.into()),
                ("u32", v.u32.into()),
            ];
            for (name, n) in expected {
                let number = stored[name].as_number().expect("a number");
                assert!(number.is_integer(), "{name} must be stored as an integer");
                assert_eq!(number.as_i64(), Some(n), "{name}");
            }
        }
        let page = store
            .scan()
            .filter(f.i8().eq(i8::MIN).and(f.u32().eq(u32::MIN)))
            .await
            .unwrap();
        assert_eq!(page.items, vec![min.clone()]);
        let page = store
            .scan()
            .filter(f.u32().eq(u32::MAX).and(f.i32().eq(i32::MAX)))
            .await
            .unwrap();
        assert_eq!(page.items, vec![max.clone()]);
        let page = store.scan().filter(f.i16().lt(0i16)).await.unwrap();
        assert_eq!(sorted_ids(&page.items, |v| v.id.clone()), ["min"]);
        let page = store.scan().filter(f.u16().ge(256u16)).await.unwrap();
        assert_eq!(sorted_ids(&page.items, |v| v.id.clone()), ["max", "near"]);
    }

    #[derive(
        crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq,
    )]
    #[kvs(store = "typed_rt_wide_ints", partition_key = id)]
    struct RtWide {
        id: String,
        n: i64,
        u: u64,
    }

    /// i64 at its extremes and u64 up to `i64::MAX` round-trip exactly, or (on a backend
    /// that keeps numbers as doubles) are refused with `Validation` naming the attribute and
    /// nothing is written; they are never rounded. Within +-2^53 every backend keeps them.
    pub async fn typed_rt_wide_integers(kvs: Kvs) {
        let store = fresh_typed_store::<RtWide>(&kvs).await;
        let f = RtWide::fields();
        const SAFE: i64 = 1 << 53;
        let wide = |id: &str, n: i64, u: u64| RtWide {
            id: id.into(),
            n,
            u,
        };
        for v in [
            wide("zero", 0, 0),
            wide("safe-max", SAFE, SAFE as u64),
            wide("safe-min", -SAFE, 1),
        ] {
            let stored = typed_round_trip(&store, &v).await;
            assert_eq!(stored["n"].as_i64(), Some(v.n));
            assert!(stored["u"].as_number().unwrap().is_integer());
        }
        let mut kept = Vec::new();
        for (v, attribute) in [
            (wide("min", i64::MIN, 0), "n"),
            (wide("max", i64::MAX, 0), "n"),
            (wide("max-1", i64::MAX - 1, 0), "n"),
            (wide("odd", SAFE + 1, 0), "n"),
            (wide("u-max", 0, i64::MAX as u64), "u"),
            (wide("u-odd", 0, SAFE as u64 + 1), "u"),
        ] {
            match store.upsert(&v).await {
                Ok(()) => {
                    let stored = typed_round_trip(&store, &v).await;
                    let number = stored[attribute].as_number().expect("a number");
                    assert!(number.is_integer(), "{attribute} must stay an integer");
                    kept.push(v.id.clone());
                }
                Err(e) => {
                    assert!(
                        e.is(&ErrorKind::Validation),
                        "a wide integer must round-trip exactly or be Validation, got {e}"
                    );
                    assert_mentions(&e, attribute);
                    assert_eq!(store.get(&v.id).await.unwrap(), None, "nothing is written");
                }
            }
        }
        if kept.iter().any(|id| id == "max") && kept.iter().any(|id| id == "max-1") {
            let page = store.scan().filter(f.n().eq(i64::MAX)).await.unwrap();
            assert_eq!(sorted_ids(&page.items, |v| v.id.clone()), ["max"]);
            let page = store.scan().filter(f.n().gt(i64::MAX - 1)).await.unwrap();
            assert_eq!(sorted_ids(&page.items, |v| v.id.clone()), ["max"]);
        }
        if kept.iter().any(|id| id == "odd") {
            let page = store.scan().filter(f.n().eq(SAFE + 1)).await.unwrap();
            assert_eq!(sorted_ids(&page.items, |v| v.id.clone()), ["odd"]);
        }
    }

    #[derive(
        crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq,
    )]
    #[kvs(store = "typed_rt_floats", partition_key = id)]
    struct RtFloats {
        id: String,
        f64: f64,
        f32: f32,
        flag: bool,
        f64s: Vec<f64>,
        f32s: Vec<f32>,
    }

    /// f64 and f32 round-trip bit for bit (0.1, 1e308, 5e-324, -0.0, subnormal and extreme
    /// f32 values), bools as bools, and typed conditions find each exact value. An f64
    /// outside the backend's `float_range` is refused (`Validation` naming the field,
    /// nothing written) and the nearest float it stores round-trips in its place; where
    /// the backend does not keep the sign of zero, `-0.0` reads back as `0.0`.
    pub async fn typed_rt_floats_and_bools(kvs: Kvs) {
        let caps = kvs.capabilities();
        let store = fresh_typed_store::<RtFloats>(&kvs).await;
        let f = RtFloats::fields();
        let pairs: [(f64, f32); 11] = [
            (0.1, 0.1),
            (1e308, f32::MAX),
            (5e-324, f32::from_bits(1)),
            (-0.0, -0.0),
            (f64::MAX, f32::MIN_POSITIVE),
            (f64::MIN, f32::MIN),
            (f64::MIN_POSITIVE, 16_777_216.0),
            (2.0, 0.3),
            (-1e-300, 1e-40),
            (0.1 + 0.2, 1.1),
            (9_007_199_254_740_992.0, 3.0),
        ];
        let value = |i: usize, a: f64, b: f32| RtFloats {
            id: format!("f{i}"),
            f64: a,
            f32: b,
            flag: i.is_multiple_of(2),
            f64s: vec![a, -a, 0.5],
            f32s: vec![b, -b],
        };
        for (i, &(a, b)) in pairs.iter().enumerate() {
            if !caps.stores_float(a) {
                let refused = value(i, a, b);
                let err = expect_kind(store.upsert(&refused).await, ErrorKind::Validation);
                assert_mentions_any(&err, &["f64", "f64s"]);
                assert_eq!(store.get(&refused.id).await.unwrap(), None);
            }
        }
        let values: Vec<RtFloats> = pairs
            .iter()
            .enumerate()
            .map(|(i, &(a, b))| value(i, storable_stand_in(&caps, a), b))
            .collect();
        for v in &values {
            let stored = typed_round_trip(&store, v).await;
            let back = store.get(&v.id).await.unwrap().expect("the item");
            let at = format!("{:e} / {:e}f32 (the sign of zero too)", v.f64, v.f32);
            assert_same_float(&caps, back.f64, v.f64, &at);
            assert_same_float(&caps, back.f32.into(), v.f32.into(), &at);
            assert_eq!(back.f64s.len(), v.f64s.len());
            for (got, expected) in back.f64s.iter().zip(&v.f64s) {
                assert_same_float(&caps, *got, *expected, &at);
            }
            assert_eq!(back.f32s.len(), v.f32s.len());
            for (got, expected) in back.f32s.iter().zip(&v.f32s) {
                assert_same_float(&caps, (*got).into(), (*expected).into(), &at);
            }
            assert_eq!(stored["flag"], Value::from(v.flag));
            assert_eq!(stored["flag"].value_type(), ValueType::Bool);
            let page = store
                .scan()
                .filter(f.f64().eq(v.f64).and(f.f32().eq(v.f32)))
                .await
                .unwrap();
            assert_eq!(
                sorted_ids(&page.items, |v| v.id.clone()),
                [v.id.as_str()],
                "a typed condition finds {:e} / {:e}f32",
                v.f64,
                v.f32
            );
        }
        let page = store.scan().filter(f.flag().eq(true)).await.unwrap();
        assert_eq!(page.items.len(), values.iter().filter(|v| v.flag).count());
    }

    #[derive(crate::Nested, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
    struct RtNote {
        text: String,
        stars: Option<u8>,
    }

    #[derive(
        crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq,
    )]
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

    #[derive(
        crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq,
    )]
    #[kvs(store = "typed_rt_vecs", partition_key = id)]
    struct RtLists {
        id: String,
        words: Vec<String>,
        nums: Vec<i64>,
        empty: Vec<i64>,
        grid: Vec<Vec<i64>>,
        deep: Vec<Vec<Vec<String>>>,
        flags: Vec<bool>,
        floats: Vec<f64>,
        notes: Vec<RtNote>,
        blobs: Vec<Bytes>,
    }

    /// Vecs round-trip in order with duplicates, empty ones as empty lists (not missing),
    /// nested `Vec<Vec<i64>>` with empty rows; typed APPEND, PREPEND, SET of a position and
    /// DELETE of list elements return the model. A float outside the backend's
    /// `float_range` in a Vec is refused (`Validation` naming the field, nothing written).
    pub async fn typed_rt_vecs(kvs: Kvs) {
        let caps = kvs.capabilities();
        let store = fresh_typed_store::<RtLists>(&kvs).await;
        let f = RtLists::fields();
        let big = 1e308;
        let full = RtLists {
            id: "full".into(),
            words: vec!["b".into(), "a".into(), "b".into(), String::new()],
            nums: vec![3, -1, 3, 0],
            empty: vec![],
            grid: vec![vec![1, 2], vec![], vec![-3]],
            deep: vec![vec![], vec![vec![]], vec![vec!["x".into(), "y".into()]]],
            flags: vec![true, false, false, true],
            floats: vec![0.1, -0.0, big],
            notes: vec![
                RtNote {
                    text: "a".into(),
                    stars: None,
                },
                RtNote {
                    text: "b".into(),
                    stars: Some(3),
                },
            ],
            blobs: vec![Bytes(vec![0, 255]), Bytes(vec![])],
        };
        let bare = RtLists {
            id: "bare".into(),
            words: vec![],
            nums: vec![],
            empty: vec![],
            grid: vec![vec![]],
            deep: vec![],
            flags: vec![],
            floats: vec![],
            notes: vec![],
            blobs: vec![],
        };
        if !caps.stores_float(big) {
            let err = expect_kind(store.upsert(&full).await, ErrorKind::Validation);
            assert_mentions(&err, "floats");
            assert_eq!(store.get("full").await.unwrap(), None);
        }
        let full = RtLists {
            floats: vec![0.1, -0.0, storable_stand_in(&caps, big)],
            ..full
        };
        for v in [&full, &bare] {
            let stored = typed_round_trip(&store, v).await;
            assert_eq!(
                stored["empty"],
                Value::List(vec![]),
                "an empty Vec is an empty list, not a missing attribute"
            );
            assert_eq!(stored["grid"].value_type(), ValueType::List);
        }
        let stored = kvs.get(store.name(), "full").await.unwrap().unwrap();
        assert_eq!(
            stored.get_path("grid[1]").unwrap(),
            Some(&Value::List(vec![]))
        );
        assert_eq!(stored["words"].as_list().map(<[Value]>::len), Some(4));

        let updated = store
            .update("full")
            .append(f.grid(), [vec![7, 8]])
            .prepend(f.words(), ["first"])
            .set(f.nums().at(0), 42)
            .delete(f.flags(), [false])
            .append(
                f.notes(),
                [RtNote {
                    text: "c".into(),
                    stars: None,
                }],
            )
            .append(f.empty(), [5])
            .await
            .unwrap();
        let mut expected = full.clone();
        expected.grid.push(vec![7, 8]);
        expected.words.insert(0, "first".into());
        expected.nums[0] = 42;
        expected.flags.retain(|b| *b);
        expected.notes.push(RtNote {
            text: "c".into(),
            stars: None,
        });
        expected.empty.push(5);
        assert_eq!(updated, expected);
        assert_eq!(store.get("full").await.unwrap(), Some(expected));
        let page = store
            .scan()
            .filter(f.words().contains("first"))
            .await
            .unwrap();
        assert_eq!(sorted_ids(&page.items, |v| v.id.clone()), ["full"]);
    }

    #[derive(crate::Nested, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
    struct RtGeo {
        lat: f64,
        lon: f64,
        label: Option<String>,
    }

    #[derive(crate::Nested, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
    struct RtAddress {
        city: String,
        zip: Option<String>,
        geo: Option<RtGeo>,
        lines: Vec<String>,
    }

    #[derive(
        crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq,
    )]
    #[kvs(store = "typed_rt_nested", partition_key = id)]
    struct RtPerson {
        id: String,
        home: RtAddress,
        work: Option<RtAddress>,
        past: Vec<RtAddress>,
        by_tag: HashMap<String, RtAddress>,
    }

    /// Nested structs (`#[derive(Nested)]`) round-trip as maps; their own `None` fields are
    /// missing inside the map; typed updates of nested paths return the model.
    pub async fn typed_rt_nested_structs(kvs: Kvs) {
        let store = fresh_typed_store::<RtPerson>(&kvs).await;
        let f = RtPerson::fields();
        let paris = RtAddress {
            city: "Paris".into(),
            zip: Some("75001".into()),
            geo: Some(RtGeo {
                lat: 48.8566,
                lon: 2.3522,
                label: Some("centre".into()),
            }),
            lines: vec!["1 rue de Rivoli".into()],
        };
        let bare = RtAddress {
            city: "Nowhere".into(),
            zip: None,
            geo: Some(RtGeo {
                lat: -0.5,
                lon: 0.0,
                label: None,
            }),
            lines: vec![],
        };
        let full = RtPerson {
            id: "full".into(),
            home: paris.clone(),
            work: Some(bare.clone()),
            past: vec![bare.clone(), paris.clone()],
            by_tag: HashMap::from([("holiday".to_owned(), bare.clone())]),
        };
        let sparse = RtPerson {
            id: "sparse".into(),
            home: RtAddress {
                city: "Lyon".into(),
                zip: None,
                geo: None,
                lines: vec![],
            },
            work: None,
            past: vec![],
            by_tag: HashMap::new(),
        };
        let stored = typed_round_trip(&store, &full).await;
        assert_eq!(stored["home"].value_type(), ValueType::Map);
        assert_eq!(stored.get_path("work.zip").unwrap(), None);
        assert_eq!(stored.get_path("work.geo.label").unwrap(), None);
        assert_eq!(
            stored.get_path("home.geo.label").unwrap(),
            Some(&Value::from("centre"))
        );
        let stored = typed_round_trip(&store, &sparse).await;
        assert_missing(&stored, &["work"]);
        let home = stored["home"].as_map().expect("a map");
        assert!(
            !home.contains_key("zip") && !home.contains_key("geo"),
            "None inside a nested struct is a missing attribute: {home:?}"
        );

        let updated = store
            .update("sparse")
            .set(f.home().zip().some(), "69001")
            .set(
                f.home().geo(),
                Some(RtGeo {
                    lat: 45.76,
                    lon: 4.84,
                    label: None,
                }),
            )
            .set(f.work(), Some(paris.clone()))
            .append(f.past(), [bare.clone()])
            .set(f.by_tag().entry("x"), paris.clone())
            .await
            .unwrap();
        let mut expected = sparse.clone();
        expected.home.zip = Some("69001".into());
        expected.home.geo = Some(RtGeo {
            lat: 45.76,
            lon: 4.84,
            label: None,
        });
        expected.work = Some(paris.clone());
        expected.past.push(bare.clone());
        expected.by_tag.insert("x".into(), paris.clone());
        assert_eq!(updated, expected);
        assert_eq!(store.get("sparse").await.unwrap(), Some(expected.clone()));

        let updated = store
            .update("sparse")
            .set(f.home().geo().some().label(), Some("place".to_owned()))
            .set(f.work().some().zip(), None::<String>)
            .set(f.past().at(0).city(), "Lille")
            .await
            .unwrap();
        expected.home.geo.as_mut().unwrap().label = Some("place".into());
        expected.work.as_mut().unwrap().zip = None;
        expected.past[0].city = "Lille".into();
        assert_eq!(updated, expected);
        let stored = kvs.get(store.name(), "sparse").await.unwrap().unwrap();
        assert_eq!(stored.get_path("work.zip").unwrap(), None);
        assert_eq!(
            stored.get_path("home.geo.label").unwrap(),
            Some(&Value::from("place"))
        );
        let page = store
            .scan()
            .filter(f.home().geo().some().lat().gt(45.0))
            .await
            .unwrap();
        assert_eq!(
            sorted_ids(&page.items, |v| v.id.clone()),
            ["full", "sparse"]
        );
        let page = store
            .scan()
            .filter(f.work().some().city().eq("Paris"))
            .await
            .unwrap();
        assert_eq!(page.items, vec![expected]);
    }

    #[derive(
        crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq,
    )]
    #[kvs(store = "typed_rt_maps", partition_key = id)]
    struct RtMaps {
        id: String,
        counts: HashMap<String, i64>,
        notes: BTreeMap<String, RtNote>,
        lists: HashMap<String, Vec<String>>,
        nested: BTreeMap<String, BTreeMap<String, f64>>,
        sets: BTreeMap<String, Set<String>>,
        empty: HashMap<String, bool>,
    }

    /// `HashMap<String, _>` and `BTreeMap<String, _>` round-trip as maps, with odd keys
    /// (dots, `#`, `:`, `$`, spaces, brackets, emoji) kept as keys, not paths; an empty map is
    /// an empty map; typed updates of map entries return the model.
    pub async fn typed_rt_maps(kvs: Kvs) {
        let store = fresh_typed_store::<RtMaps>(&kvs).await;
        let f = RtMaps::fields();
        let odd = [
            "a.b",
            "#x",
            ":v",
            "$",
            "with space",
            "[0]",
            "\u{1F600}",
            "a",
        ];
        let value = RtMaps {
            id: "m".into(),
            counts: odd
                .iter()
                .enumerate()
                .map(|(i, k)| ((*k).to_owned(), i as i64 - 3))
                .collect(),
            notes: BTreeMap::from([
                (
                    "one".to_owned(),
                    RtNote {
                        text: "1".into(),
                        stars: Some(1),
                    },
                ),
                (
                    "none".to_owned(),
                    RtNote {
                        text: String::new(),
                        stars: None,
                    },
                ),
            ]),
            lists: HashMap::from([
                ("xs".to_owned(), vec!["x".into(), "x".into()]),
                ("empty".to_owned(), vec![]),
            ]),
            nested: BTreeMap::from([(
                "outer".to_owned(),
                BTreeMap::from([("inner".to_owned(), 0.1), ("neg".to_owned(), -2.5)]),
            )]),
            sets: BTreeMap::from([("s".to_owned(), ["b", "a"].map(String::from).into())]),
            empty: HashMap::new(),
        };
        let stored = typed_round_trip(&store, &value).await;
        let counts = stored["counts"].as_map().expect("a map");
        assert_eq!(counts.len(), odd.len());
        assert_eq!(counts.get("a.b"), Some(&Value::from(-3)));
        assert_eq!(stored["empty"], Value::Map(BTreeMap::new()));
        assert_eq!(
            stored.get_path("sets.s").unwrap(),
            Some(&Value::string_set(["a", "b"]))
        );
        assert_missing(&stored, &["a.b", "a"]);

        let updated = store
            .update("m")
            .set(f.counts().entry("a.b"), 20)
            .add(f.counts().entry("\u{1F600}"), 1)
            .set(f.counts().entry("new key"), 7)
            .set(
                f.notes().entry("two"),
                RtNote {
                    text: "2".into(),
                    stars: None,
                },
            )
            .set(f.nested().entry("outer").entry("more"), 1.5)
            .append(f.lists().entry("empty"), ["e"])
            .set(f.empty().entry("k.k"), true)
            .await
            .unwrap();
        let mut expected = value.clone();
        expected.counts.insert("a.b".into(), 20);
        *expected.counts.get_mut("\u{1F600}").unwrap() += 1;
        expected.counts.insert("new key".into(), 7);
        expected.notes.insert(
            "two".into(),
            RtNote {
                text: "2".into(),
                stars: None,
            },
        );
        expected
            .nested
            .get_mut("outer")
            .unwrap()
            .insert("more".into(), 1.5);
        expected.lists.get_mut("empty").unwrap().push("e".into());
        expected.empty.insert("k.k".into(), true);
        assert_eq!(updated, expected);
        assert_eq!(store.get("m").await.unwrap(), Some(expected));
        let stored = kvs.get(store.name(), "m").await.unwrap().unwrap();
        assert_missing(&stored, &["a.b", "a", "k.k", "k"]);
        assert_eq!(
            stored["counts"].as_map().unwrap().get("a.b"),
            Some(&Value::from(20))
        );
        let page = store
            .scan()
            .filter(
                f.counts()
                    .entry("a.b")
                    .eq(20)
                    .and(f.empty().entry("k.k").eq(true)),
            )
            .await
            .unwrap();
        assert_eq!(page.items.len(), 1);
    }

    #[derive(
        crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq,
    )]
    #[kvs(store = "typed_rt_sets", partition_key = id)]
    struct RtSets {
        id: String,
        tags: Set<String>,
        nums: Set<i64>,
        small: Set<u8>,
        blobs: Set<Bytes>,
    }

    /// `Set<String>`, `Set<i64>`, `Set<u8>` and `Set<Bytes>` round-trip as native sets (every
    /// single byte value as a bytes set element); typed ADD and DELETE of elements return
    /// the model; typed `contains` finds elements.
    pub async fn typed_rt_sets(kvs: Kvs) {
        let store = fresh_typed_store::<RtSets>(&kvs).await;
        let f = RtSets::fields();
        const SAFE: i64 = 1 << 53;
        let mut blobs: Set<Bytes> = (0..=255u8).map(|b| Bytes(vec![b])).collect();
        blobs.insert(Bytes(vec![0, 0]));
        blobs.insert(Bytes(vec![255; 3]));
        let value = RtSets {
            id: "s".into(),
            tags: ["rust", "db", "\u{1F600}", "Z", "a b"]
                .map(String::from)
                .into(),
            nums: [-SAFE, -1, 0, 1, 42, SAFE].into(),
            small: [0, 7, 255].into(),
            blobs: blobs.clone(),
        };
        let stored = typed_round_trip(&store, &value).await;
        assert_eq!(
            stored["tags"],
            Value::string_set(["rust", "db", "\u{1F600}", "Z", "a b"])
        );
        assert_eq!(
            stored["nums"],
            Value::number_set([-SAFE, -1, 0, 1, 42, SAFE])
        );
        assert_eq!(stored["small"].value_type(), ValueType::NumberSet);
        assert_eq!(
            stored["blobs"],
            Value::bytes_set(blobs.iter().map(|b| b.0.clone()))
        );

        let updated = store
            .update("s")
            .add(f.tags(), ["new", "rust"])
            .delete(f.nums(), [0, 99])
            .add(f.small(), [1u8])
            .delete(f.blobs(), [Bytes(vec![0]), Bytes(vec![255; 3])])
            .await
            .unwrap();
        let mut expected = value.clone();
        expected.tags.insert("new".into());
        expected.nums.remove(&0);
        expected.small.insert(1);
        expected.blobs.remove(&Bytes(vec![0]));
        expected.blobs.remove(&Bytes(vec![255; 3]));
        assert_eq!(updated, expected);
        assert_eq!(store.get("s").await.unwrap(), Some(expected));
        for (cond, found) in [
            (f.tags().contains("new"), true),
            (f.nums().contains(0), false),
            (f.nums().contains(SAFE), true),
            (f.small().contains(255u8), true),
            (f.blobs().contains(Bytes(vec![0, 0])), true),
            (f.blobs().contains(Bytes(vec![0])), false),
        ] {
            let page = store.scan().filter(cond.clone()).await.unwrap();
            assert_eq!(page.items.len(), usize::from(found), "{cond:?}");
        }
    }

    #[derive(
        crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq,
    )]
    #[kvs(store = "typed_rt_empty_sets", partition_key = id)]
    struct RtSetBag {
        id: String,
        tags: Set<String>,
        nums: Set<i64>,
        blobs: Set<Bytes>,
    }

    #[derive(
        crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq,
    )]
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

    #[derive(
        crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq,
    )]
    #[kvs(store = "typed_rt_bytes", partition_key = key)]
    struct RtBlob {
        key: Bytes,
        data: Bytes,
        empty: Bytes,
        chunks: Vec<Bytes>,
        maybe: Option<Bytes>,
        raw: Vec<u8>,
    }

    /// `kvs::Bytes` round-trips as binary data: all 256 byte values, empty, in lists and
    /// options, and as a partition key (gets, queries and typed conditions with bytes).
    pub async fn typed_rt_bytes(kvs: Kvs) {
        let store = fresh_typed_store::<RtBlob>(&kvs).await;
        let f = RtBlob::fields();
        let all: Vec<u8> = (0..=255u8).collect();
        let mut reversed = all.clone();
        reversed.reverse();
        let values = [
            RtBlob {
                key: Bytes(all.clone()),
                data: Bytes(all.clone()),
                empty: Bytes(vec![]),
                chunks: vec![Bytes(vec![0]), Bytes(vec![]), Bytes(vec![255, 0])],
                maybe: Some(Bytes(vec![0xff; 3])),
                raw: all.clone(),
            },
            RtBlob {
                key: Bytes(vec![0]),
                data: Bytes(reversed.clone()),
                empty: Bytes(vec![]),
                chunks: vec![],
                maybe: None,
                raw: vec![],
            },
            RtBlob {
                key: Bytes(vec![255, 255]),
                data: Bytes(vec![0, 0, 0]),
                empty: Bytes(vec![]),
                chunks: vec![Bytes(all.clone())],
                maybe: Some(Bytes(vec![])),
                raw: vec![0, 255],
            },
        ];
        for v in &values {
            let stored = typed_round_trip(&store, v).await;
            assert_eq!(stored["key"], Value::bytes(v.key.0.clone()));
            assert_eq!(stored["data"], Value::bytes(v.data.0.clone()));
            assert_eq!(stored["empty"], Value::bytes(Vec::<u8>::new()));
        }
        assert_missing(
            &kvs.get(store.name(), Key::bytes(vec![0]))
                .await
                .unwrap()
                .unwrap(),
            &["maybe"],
        );
        assert_eq!(
            store.get(all.clone()).await.unwrap(),
            Some(values[0].clone())
        );
        assert_eq!(
            store.get(&[0u8][..]).await.unwrap(),
            Some(values[1].clone())
        );
        let page = store
            .query(RtBlob::partition(Bytes(all.clone())))
            .await
            .unwrap();
        assert_eq!(page.items, vec![values[0].clone()]);
        let page = store
            .scan()
            .filter(f.data().eq(Bytes(reversed.clone())))
            .await
            .unwrap();
        assert_eq!(page.items, vec![values[1].clone()]);
        let page = store
            .scan()
            .filter(f.chunks().contains(Bytes(vec![255, 0])))
            .await
            .unwrap();
        assert_eq!(page.items, vec![values[0].clone()]);

        let updated = store
            .update(Bytes(vec![0]))
            .set(f.data(), Bytes(all.clone()))
            .set(f.maybe(), Some(Bytes(reversed.clone())))
            .append(f.chunks(), [Bytes(vec![])])
            .await
            .unwrap();
        let expected = RtBlob {
            data: Bytes(all.clone()),
            maybe: Some(Bytes(reversed.clone())),
            chunks: vec![Bytes(vec![])],
            ..values[1].clone()
        };
        assert_eq!(updated, expected);
        assert_eq!(store.get(vec![0u8]).await.unwrap(), Some(expected));
    }

    #[derive(
        crate::Nested, serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq,
    )]
    #[serde(rename_all = "kebab-case")]
    enum RtPhase {
        Draft,
        InReview,
        #[serde(rename = "done!")]
        Done,
    }

    #[derive(
        crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq,
    )]
    #[kvs(store = "typed_rt_unit_enums", partition_key = id)]
    #[kvs(index(name = "byPhase", partition_key = phase, sort_key = rank))]
    #[kvs(index(name = "byOwner", partition_key = owner, sort_key = phase))]
    struct RtTicket {
        id: String,
        owner: String,
        phase: RtPhase,
        rank: i64,
        history: Vec<RtPhase>,
        previous: Option<RtPhase>,
    }

    /// Unit enums (`#[derive(Nested)]`) are stored as strings (serde renames honoured) and
    /// round-trip; as an index partition key and as an index sort key they query by value,
    /// sorted by the stored strings' bytes.
    pub async fn typed_rt_unit_enum_as_string_and_index_key(kvs: Kvs) {
        let store = fresh_typed_store::<RtTicket>(&kvs).await;
        let f = RtTicket::fields();
        let ticket = |id: &str, owner: &str, phase: RtPhase, rank: i64| RtTicket {
            id: id.into(),
            owner: owner.into(),
            phase,
            rank,
            history: vec![RtPhase::Draft, phase],
            previous: (phase != RtPhase::Draft).then_some(RtPhase::Draft),
        };
        let tickets = [
            ticket("t1", "ann", RtPhase::InReview, 3),
            ticket("t2", "ann", RtPhase::Draft, -1),
            ticket("t3", "ann", RtPhase::Done, 10),
            ticket("t4", "bob", RtPhase::InReview, -5),
        ];
        for t in &tickets {
            let stored = typed_round_trip(&store, t).await;
            let name = match t.phase {
                RtPhase::Draft => "draft",
                RtPhase::InReview => "in-review",
                RtPhase::Done => "done!",
            };
            assert_eq!(stored["phase"], Value::from(name));
            assert_eq!(stored["history"], Value::list(["draft", name]));
            if t.previous.is_none() {
                assert_missing(&stored, &["previous"]);
            } else {
                assert_eq!(stored["previous"], Value::from("draft"));
            }
        }
        let page = store
            .query(RtTicket::by_phase(RtPhase::InReview))
            .await
            .unwrap();
        assert_eq!(page.items, vec![tickets[3].clone(), tickets[0].clone()]);
        let page = store
            .query(RtTicket::by_phase(RtPhase::InReview).sort_gt(0))
            .await
            .unwrap();
        assert_eq!(page.items, vec![tickets[0].clone()]);
        // Sorted by the stored strings: "done!" < "draft" < "in-review".
        let page = store.query(RtTicket::by_owner("ann")).await.unwrap();
        assert_eq!(
            page.items,
            vec![tickets[2].clone(), tickets[1].clone(), tickets[0].clone()]
        );
        let page = store
            .query(RtTicket::by_owner("ann").sort_eq(RtPhase::Done))
            .await
            .unwrap();
        assert_eq!(page.items, vec![tickets[2].clone()]);
        let page = store
            .scan()
            .filter(f.phase().is_in([RtPhase::Draft, RtPhase::Done]))
            .await
            .unwrap();
        assert_eq!(sorted_ids(&page.items, |t| t.id.clone()), ["t2", "t3"]);
        let page = store
            .scan()
            .filter(f.history().contains(RtPhase::Done))
            .await
            .unwrap();
        assert_eq!(sorted_ids(&page.items, |t| t.id.clone()), ["t3"]);

        let updated = store
            .update("t4")
            .set(f.phase(), RtPhase::Done)
            .set(f.previous(), Some(RtPhase::InReview))
            .append(f.history(), [RtPhase::Done])
            .await
            .unwrap();
        let expected = RtTicket {
            phase: RtPhase::Done,
            previous: Some(RtPhase::InReview),
            history: vec![RtPhase::Draft, RtPhase::InReview, RtPhase::Done],
            ..tickets[3].clone()
        };
        assert_eq!(updated, expected);
        let page = store
            .query(RtTicket::by_phase(RtPhase::Done))
            .await
            .unwrap();
        assert_eq!(page.items, vec![expected.clone(), tickets[2].clone()]);
        assert_eq!(
            kvs.get(store.name(), "t4").await.unwrap().unwrap()["phase"],
            Value::from("done!")
        );
    }

    #[derive(crate::Nested, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
    #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
    struct RtRenamedInner {
        zip_code: String,
        #[serde(rename = "x.y")]
        dotted: Option<i64>,
        street_line_2: Option<String>,
    }

    #[derive(crate::Nested, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
    #[serde(rename_all = "kebab-case")]
    struct RtKebab {
        first_name: String,
        last_seen_at: i64,
    }

    #[derive(
        crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq,
    )]
    #[serde(rename_all = "camelCase")]
    #[kvs(store = "typed_rt_renames", partition_key = user_id, sort_key = created_at)]
    #[kvs(index(name = "byEmail", partition_key = email_address))]
    struct RtRenamed {
        user_id: String,
        created_at: i64,
        email_address: String,
        #[serde(rename = "a.b")]
        dotted: i64,
        #[serde(rename = "#hash")]
        hash: String,
        #[serde(rename = "with space")]
        spaced: bool,
        #[serde(rename = "\u{e9}t\u{e9}")]
        summer: Option<String>,
        home_address: RtRenamedInner,
        contact_card: RtKebab,
        tag_set: Set<String>,
        r#type: String,
        field_2x: i64,
    }

    #[derive(
        crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq,
    )]
    #[serde(rename_all = "PascalCase")]
    #[kvs(store = "typed_rt_renames_pascal", partition_key = item_id, sort_key = sort_no)]
    #[kvs(index(name = "ByOwnerName", partition_key = owner_name, sort_key = sort_no))]
    struct RtPascal {
        item_id: String,
        sort_no: i64,
        owner_name: String,
        #[serde(rename = "lower_kept")]
        kept: Option<String>,
    }

    /// serde `rename` and `rename_all` decide the stored attribute names (checked with a
    /// dynamic get), also of key and index key fields and inside nested structs; typed
    /// updates, conditions and queries address the renamed attributes.
    pub async fn typed_rt_serde_renames(kvs: Kvs) {
        let store = fresh_typed_store::<RtRenamed>(&kvs).await;
        let f = RtRenamed::fields();
        let value = RtRenamed {
            user_id: "u-1".into(),
            created_at: 7,
            email_address: "ada@example.com".into(),
            dotted: 1,
            hash: "h".into(),
            spaced: true,
            summer: Some("sun".into()),
            home_address: RtRenamedInner {
                zip_code: "75001".into(),
                dotted: None,
                street_line_2: Some("bis".into()),
            },
            contact_card: RtKebab {
                first_name: "Ada".into(),
                last_seen_at: -1,
            },
            tag_set: ["x".to_owned()].into(),
            r#type: "admin".into(),
            field_2x: 2,
        };
        let stored = typed_round_trip(&store, &value).await;
        let names: Vec<&str> = stored.keys().map(String::as_str).collect();
        let mut expected_names = vec![
            "userId",
            "createdAt",
            "emailAddress",
            "a.b",
            "#hash",
            "with space",
            "\u{e9}t\u{e9}",
            "homeAddress",
            "contactCard",
            "tagSet",
            "type",
            "field2x",
        ];
        expected_names.sort();
        assert_eq!(names, expected_names);
        let inner: Vec<&String> = stored["homeAddress"].as_map().unwrap().keys().collect();
        assert_eq!(inner, ["STREET_LINE_2", "ZIP_CODE"]);
        let card: Vec<&String> = stored["contactCard"].as_map().unwrap().keys().collect();
        assert_eq!(card, ["first-name", "last-seen-at"]);

        let updated = store
            .update(("u-1", 7))
            .set(f.dotted(), 2)
            .set(f.home_address().dotted().some(), 9)
            .set(f.contact_card().last_seen_at(), 100)
            .add(f.tag_set(), ["y"])
            .set(f.summer(), None::<String>)
            .await
            .unwrap();
        let mut expected = value.clone();
        expected.dotted = 2;
        expected.home_address.dotted = Some(9);
        expected.contact_card.last_seen_at = 100;
        expected.tag_set.insert("y".into());
        expected.summer = None;
        assert_eq!(updated, expected);
        let stored = kvs.get(store.name(), ("u-1", 7)).await.unwrap().unwrap();
        assert_eq!(stored["a.b"], Value::from(2));
        assert_missing(&stored, &["a", "dotted", "\u{e9}t\u{e9}", "summer"]);
        assert_eq!(
            stored["homeAddress"].as_map().unwrap().get("x.y"),
            Some(&Value::from(9))
        );
        assert_eq!(
            stored.get_path("contactCard.last-seen-at").ok().flatten(),
            Some(&Value::from(100))
        );
        let page = store
            .query(RtRenamed::by_email("ada@example.com"))
            .filter(
                f.hash()
                    .eq("h")
                    .and(f.spaced().eq(true))
                    .and(f.r#type().eq("admin")),
            )
            .await
            .unwrap();
        assert_eq!(page.items, vec![expected.clone()]);
        let page = store
            .query(RtRenamed::partition("u-1").sort_ge(7))
            .filter(f.home_address().zip_code().eq("75001"))
            .await
            .unwrap();
        assert_eq!(page.items, vec![expected]);

        let pascal = fresh_typed_store::<RtPascal>(&kvs).await;
        let p = RtPascal::fields();
        let items = [
            RtPascal {
                item_id: "i".into(),
                sort_no: 2,
                owner_name: "o".into(),
                kept: Some("k".into()),
            },
            RtPascal {
                item_id: "i".into(),
                sort_no: 1,
                owner_name: "o".into(),
                kept: None,
            },
        ];
        let stored = typed_round_trip(&pascal, &items[0]).await;
        let names: Vec<&String> = stored.keys().collect();
        assert_eq!(names, ["ItemId", "OwnerName", "SortNo", "lower_kept"]);
        typed_round_trip(&pascal, &items[1]).await;
        let page = pascal.query(RtPascal::by_owner_name("o")).await.unwrap();
        assert_eq!(page.items, vec![items[1].clone(), items[0].clone()]);
        let page = pascal
            .query(RtPascal::partition("i"))
            .filter(p.kept().exists())
            .await
            .unwrap();
        assert_eq!(page.items, vec![items[0].clone()]);
    }

    #[derive(
        crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq,
    )]
    #[kvs(store = "typed_rt_queries", partition_key = user_id, sort_key = seq)]
    #[kvs(index(name = "byDay", partition_key = day, sort_key = amount))]
    struct RtEvent {
        user_id: String,
        seq: i64,
        day: String,
        amount: f64,
        tags: Set<String>,
        note: Option<String>,
        data: Bytes,
        meta: BTreeMap<String, i64>,
    }

    /// Typed query, scan, stream and get_many results equal the models written, in sort key
    /// order (ascending, descending, by an index with an f64 sort key), page by page.
    pub async fn typed_rt_query_results(kvs: Kvs) {
        let store = fresh_typed_store::<RtEvent>(&kvs).await;
        let f = RtEvent::fields();
        let days = ["mon", "tue"];
        let events: Vec<RtEvent> = (0..12i64)
            .map(|i| RtEvent {
                user_id: if i % 3 == 0 { "u2".into() } else { "u1".into() },
                seq: (i - 6) * 10,
                day: days[(i % 2) as usize].into(),
                amount: (i as f64 - 5.5) * 0.1,
                tags: if i % 4 == 0 {
                    Set::new()
                } else {
                    [format!("t{}", i % 4)].into()
                },
                note: (i % 2 == 1).then(|| format!("note \u{1F600} {i}")),
                data: Bytes(vec![i as u8, 0, 255]),
                meta: BTreeMap::from([("i".to_owned(), i)]),
            })
            .collect();
        store.upsert_many(&events).await.unwrap();
        let of = |user: &str| {
            let mut v: Vec<RtEvent> = events
                .iter()
                .filter(|e| e.user_id == user)
                .cloned()
                .collect();
            v.sort_by_key(|e| e.seq);
            v
        };

        let page = store.query(RtEvent::partition("u1")).await.unwrap();
        assert_eq!(page.items, of("u1"));
        let page = store
            .query(RtEvent::partition("u1"))
            .descending()
            .await
            .unwrap();
        let mut reversed = of("u1");
        reversed.reverse();
        assert_eq!(page.items, reversed);
        let page = store
            .query(RtEvent::partition("u1").sort_between(-30, 20))
            .await
            .unwrap();
        let expected: Vec<RtEvent> = of("u1")
            .into_iter()
            .filter(|e| (-30..=20).contains(&e.seq))
            .collect();
        assert_eq!(page.items, expected);
        let page = store
            .query(RtEvent::partition("u1"))
            .filter(f.note().exists().and(f.tags().contains("t1")))
            .await
            .unwrap();
        let expected: Vec<RtEvent> = of("u1")
            .into_iter()
            .filter(|e| e.note.is_some() && e.tags.contains("t1"))
            .collect();
        assert_eq!(page.items, expected);

        // Page by page with a limit of 2, then as one stream: the same models, in order.
        let mut paged = Vec::new();
        let mut token = None;
        loop {
            let page = store
                .query(RtEvent::partition("u1"))
                .limit(2)
                .page_token(token.take())
                .await
                .unwrap();
            assert!(page.items.len() <= 2);
            paged.extend(page.items);
            match page.next_page_token {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        assert_eq!(paged, of("u1"));
        let streamed: Vec<RtEvent> = store
            .query(RtEvent::partition("u2"))
            .limit(1)
            .stream()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(streamed, of("u2"));

        // An index with an f64 sort key (negative and fractional amounts).
        let page = store.query(RtEvent::by_day("mon")).await.unwrap();
        let mut mon: Vec<RtEvent> = events.iter().filter(|e| e.day == "mon").cloned().collect();
        mon.sort_by(|a, b| a.amount.total_cmp(&b.amount));
        assert_eq!(page.items, mon);
        let page = store
            .query(RtEvent::by_day("mon").sort_lt(0.0))
            .descending()
            .await
            .unwrap();
        let mut neg: Vec<RtEvent> = mon.iter().filter(|e| e.amount < 0.0).cloned().collect();
        neg.reverse();
        assert_eq!(page.items, neg);

        let mut scanned: Vec<RtEvent> = store.scan().limit(5).stream().try_collect().await.unwrap();
        scanned.sort_by(|a, b| (&a.user_id, a.seq).cmp(&(&b.user_id, b.seq)));
        let mut all = events.clone();
        all.sort_by(|a, b| (&a.user_id, a.seq).cmp(&(&b.user_id, b.seq)));
        assert_eq!(scanned, all);

        let first = &of("u1")[0];
        let many = store
            .get_many([
                ("u1".to_owned(), first.seq),
                ("u1".to_owned(), 12_345),
                ("u1".to_owned(), first.seq),
            ])
            .await
            .unwrap();
        assert_eq!(many, vec![Some(first.clone()), None, Some(first.clone())]);
        assert_eq!(
            store.delete(("u1", first.seq)).await.unwrap(),
            Some(first.clone())
        );
        assert_eq!(store.delete(("u1", first.seq)).await.unwrap(), None);
    }

    #[derive(crate::Nested, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
    struct RtStats {
        views: i64,
        score: f64,
        last: Option<String>,
    }

    #[derive(
        crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq,
    )]
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

    #[derive(
        crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq,
    )]
    #[kvs(store = "typed_rt_key_string_number", partition_key = owner, sort_key = seq)]
    struct RtByOwner {
        owner: String,
        seq: i64,
        body: String,
    }

    /// A (String, i64) composite key: typed gets by tuple, queries sorted numerically (not as
    /// text) with each sort condition, partitions matched exactly (not by prefix).
    pub async fn typed_rt_composite_key_string_number(kvs: Kvs) {
        let store = fresh_typed_store::<RtByOwner>(&kvs).await;
        const SAFE: i64 = 1 << 53;
        let seqs = [-1000, -2, -1, 0, 1, 2, 10, 100, SAFE];
        let mut items = Vec::new();
        for owner in ["ann", "a", "\u{1F600}"] {
            for seq in seqs {
                items.push(RtByOwner {
                    owner: owner.into(),
                    seq,
                    body: format!("{owner}/{seq}"),
                });
            }
        }
        for it in &items {
            typed_round_trip(&store, it).await;
        }
        let seqs_of = |page: &[RtByOwner]| page.iter().map(|i| i.seq).collect::<Vec<_>>();
        let page = store.query(RtByOwner::partition("ann")).await.unwrap();
        assert_eq!(seqs_of(&page.items), seqs);
        assert!(page.items.iter().all(|i| i.owner == "ann"));
        let page = store.query(RtByOwner::partition("a")).await.unwrap();
        assert!(
            page.items.iter().all(|i| i.owner == "a"),
            "a partition is matched exactly"
        );
        for (query, expected) in [
            (RtByOwner::partition("ann").sort_eq(-2), vec![-2]),
            (RtByOwner::partition("ann").sort_lt(0), vec![-1000, -2, -1]),
            (RtByOwner::partition("ann").sort_le(-1), vec![-1000, -2, -1]),
            (RtByOwner::partition("ann").sort_gt(2), vec![10, 100, SAFE]),
            (RtByOwner::partition("ann").sort_ge(100), vec![100, SAFE]),
            (
                RtByOwner::partition("ann").sort_between(-2, 10),
                vec![-2, -1, 0, 1, 2, 10],
            ),
        ] {
            let page = store.query(query).await.unwrap();
            assert_eq!(seqs_of(&page.items), expected);
        }
        let page = store
            .query(RtByOwner::partition("\u{1F600}").sort_lt(10))
            .descending()
            .await
            .unwrap();
        assert_eq!(seqs_of(&page.items), [2, 1, 0, -1, -2, -1000]);
        assert_eq!(
            store
                .get(("\u{1F600}", -1000))
                .await
                .unwrap()
                .map(|i| i.body),
            Some("\u{1F600}/-1000".to_owned())
        );
        assert_eq!(store.get(("ann", 3)).await.unwrap(), None);
        let key = items[4].key();
        assert_eq!(store.get(&key).await.unwrap(), Some(items[4].clone()));
    }

    #[derive(
        crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq,
    )]
    #[kvs(store = "typed_rt_key_number_string", partition_key = shard, sort_key = name)]
    struct RtByShard {
        shard: i64,
        name: String,
        size: u32,
    }

    /// An (i64, String) composite key: typed gets by tuple, numeric partitions (negative and
    /// zero), string sort keys in UTF-8 byte order (not UTF-16), `begins_with`.
    pub async fn typed_rt_composite_key_number_string(kvs: Kvs) {
        let store = fresh_typed_store::<RtByShard>(&kvs).await;
        // In UTF-8 byte order; UTF-16 order would put the emoji before U+FF61.
        let names = ["Z", "a", "ab", "b", "\u{e9}", "\u{ff61}", "\u{1F600}"];
        let mut items = Vec::new();
        for shard in [-5, 0, 7] {
            for (i, name) in names.iter().rev().enumerate() {
                items.push(RtByShard {
                    shard,
                    name: (*name).into(),
                    size: u32::MAX - i as u32,
                });
            }
        }
        store.upsert_many(&items).await.unwrap();
        for it in &items {
            assert_eq!(
                store
                    .get((it.shard, it.name.as_str()))
                    .await
                    .unwrap()
                    .as_ref(),
                Some(it)
            );
        }
        let names_of = |page: &[RtByShard]| page.iter().map(|i| i.name.clone()).collect::<Vec<_>>();
        for shard in [-5, 0, 7] {
            let page = store.query(RtByShard::partition(shard)).await.unwrap();
            assert_eq!(names_of(&page.items), names);
            assert!(page.items.iter().all(|i| i.shard == shard));
        }
        let page = store
            .query(RtByShard::partition(-5).sort_begins_with("a"))
            .await
            .unwrap();
        assert_eq!(names_of(&page.items), ["a", "ab"]);
        let page = store
            .query(RtByShard::partition(0).sort_gt("b"))
            .descending()
            .await
            .unwrap();
        assert_eq!(names_of(&page.items), ["\u{1F600}", "\u{ff61}", "\u{e9}"]);
        let page = store
            .query(RtByShard::partition(7).sort_between("a", "b"))
            .await
            .unwrap();
        assert_eq!(names_of(&page.items), ["a", "ab", "b"]);
        let page = store.query(RtByShard::partition(1)).await.unwrap();
        assert!(page.items.is_empty());
    }

    #[derive(
        crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq,
    )]
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
        let mut bad = Vec::new();
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
            bad.push((id, it));
        }
        let mut missing = base();
        missing.remove("count");
        missing.set("id", "missing-count");
        bad.push(("missing-count", missing));
        for (id, it) in &bad {
            kvs.upsert(store.name(), it.clone()).await.unwrap();
            let err = expect_kind(store.get(*id).await, ErrorKind::Serialization);
            assert!(
                !err.message().is_empty(),
                "a Serialization error must say what did not fit"
            );
            expect_kind(
                store.get_many(["good", *id]).await,
                ErrorKind::Serialization,
            );
            expect_kind(
                store.query(RtStrict::partition(*id)).await,
                ErrorKind::Serialization,
            );
        }
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

    #[derive(
        crate::Nested, serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq,
    )]
    enum RtLevel {
        Gold,
        Silver,
    }

    #[derive(
        crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq,
    )]
    #[serde(rename_all = "camelCase")]
    #[kvs(store = "typed_rt_sparse", partition_key = order_id)]
    #[kvs(index(name = "byCoupon", partition_key = coupon, sort_key = redeemed_at))]
    #[kvs(index(name = "byLevel", partition_key = level))]
    struct RtCoupon {
        order_id: String,
        coupon: Option<String>,
        redeemed_at: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        level: Option<RtLevel>,
        total: f64,
    }

    /// Sparse typed indexes: index keys that are `Option`s. An item whose index key is
    /// `None` (a missing attribute) is not in the index, nor one that has the index's
    /// partition key but not its sort key; SET of the field moves the item into the
    /// index, REMOVE (or SET to `None`) moves it out, SET of another value moves it to
    /// another partition. The accessors take the type inside the `Option`.
    pub async fn typed_rt_sparse_index(kvs: Kvs) {
        let store = fresh_typed_store::<RtCoupon>(&kvs).await;
        let f = RtCoupon::fields();
        let order = |id: &str, coupon: Option<&str>, at: Option<i64>, level| RtCoupon {
            order_id: id.into(),
            coupon: coupon.map(Into::into),
            redeemed_at: at,
            level,
            total: 10.0,
        };
        let ids = |page: crate::Page<RtCoupon>| -> Vec<String> {
            page.items.into_iter().map(|o| o.order_id).collect()
        };
        let a = order("a", Some("c-1"), Some(10), Some(RtLevel::Gold));
        let b = order("b", Some("c-1"), Some(20), None);
        let c = order("c", None, None, None);
        let d = order("d", Some("c-1"), None, None);
        for it in [&a, &b, &c, &d] {
            let stored = typed_round_trip(&store, it).await;
            if it.coupon.is_none() {
                assert_missing(&stored, &["coupon"]);
            }
            if it.level.is_none() {
                assert_missing(&stored, &["level"]);
            }
        }

        // None is not in the index; a partition key without the sort key is not either.
        assert_eq!(
            ids(store.query(RtCoupon::by_coupon("c-1")).await.unwrap()),
            ["a", "b"]
        );
        assert_eq!(
            ids(store
                .query(RtCoupon::by_coupon("c-1").sort_ge(15))
                .await
                .unwrap()),
            ["b"]
        );
        assert_eq!(
            ids(store
                .query(RtCoupon::by_level(RtLevel::Gold))
                .await
                .unwrap()),
            ["a"]
        );
        assert!(
            store
                .query(RtCoupon::by_level(RtLevel::Silver))
                .await
                .unwrap()
                .items
                .is_empty()
        );

        // SET moves an item in: c gets both keys, d its missing sort key.
        let c2 = store
            .update("c")
            .set(f.coupon(), "c-1")
            .set(f.redeemed_at().some(), 30)
            .await
            .unwrap();
        assert_eq!(c2, order("c", Some("c-1"), Some(30), None));
        store
            .update("d")
            .set(f.redeemed_at(), Some(5))
            .await
            .unwrap();
        assert_eq!(
            ids(store.query(RtCoupon::by_coupon("c-1")).await.unwrap()),
            ["d", "a", "b", "c"]
        );
        store
            .update("b")
            .set(f.level(), Some(RtLevel::Silver))
            .await
            .unwrap();
        assert_eq!(
            ids(store
                .query(RtCoupon::by_level(RtLevel::Silver))
                .await
                .unwrap()),
            ["b"]
        );

        // REMOVE, or SET to None, moves it out again; the item reads back with None.
        let c3 = store.update("c").remove(f.coupon()).await.unwrap();
        assert_eq!(c3.coupon, None);
        store
            .update("a")
            .set(f.redeemed_at(), None::<i64>)
            .await
            .unwrap();
        assert_eq!(
            ids(store.query(RtCoupon::by_coupon("c-1")).await.unwrap()),
            ["d", "b"]
        );
        store.update("b").remove(f.level()).await.unwrap();
        assert!(
            store
                .query(RtCoupon::by_level(RtLevel::Silver))
                .await
                .unwrap()
                .items
                .is_empty()
        );
        let stored = store.kvs().get(store.name(), "c").await.unwrap().unwrap();
        assert_missing(&stored, &["coupon"]);
        assert_eq!(
            store.get("c").await.unwrap(),
            Some(order("c", None, Some(30), None))
        );

        // Another value moves it to another partition.
        store.update("b").set(f.coupon(), "c-2").await.unwrap();
        assert_eq!(
            ids(store.query(RtCoupon::by_coupon("c-1")).await.unwrap()),
            ["d"]
        );
        assert_eq!(
            ids(store.query(RtCoupon::by_coupon("c-2")).await.unwrap()),
            ["b"]
        );
        // The items outside the index are still there for the base table and scans.
        let outside = store.scan().filter(f.coupon().not_exists()).await.unwrap();
        assert_eq!(sorted_ids(&outside.items, |o| o.order_id.clone()), ["c"]);
        assert_eq!(store.scan().await.unwrap().items.len(), 4);
    }

    #[derive(
        crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq,
    )]
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

    #[derive(crate::Nested, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
    struct RtSlot {
        name: String,
        size: Option<i64>,
    }

    #[derive(
        crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq,
    )]
    #[kvs(store = "typed_rt_entries", partition_key = id)]
    struct RtEntries {
        id: String,
        counts: HashMap<String, i64>,
        slots: BTreeMap<String, RtSlot>,
        names: Vec<String>,
        rows: Vec<RtSlot>,
        grid: Vec<Vec<i64>>,
    }

    /// REMOVE of a map entry and of a list position compiles for entries and elements of
    /// any type (the item reads back without them) and does what it says: an entry is
    /// gone (a missing one is fine), a list is shorter, two positions in one update name
    /// places in the item as it was.
    pub async fn typed_rt_remove_entries_and_positions(kvs: Kvs) {
        let store = fresh_typed_store::<RtEntries>(&kvs).await;
        let f = RtEntries::fields();
        let slot = |name: &str, size| RtSlot {
            name: name.into(),
            size,
        };
        let start = RtEntries {
            id: "e".into(),
            counts: HashMap::from([("a".to_owned(), 1), ("b".to_owned(), 2)]),
            slots: BTreeMap::from([
                ("x".to_owned(), slot("x", Some(1))),
                ("y".to_owned(), slot("y", None)),
            ]),
            names: vec!["n0".into(), "n1".into(), "n2".into(), "n3".into()],
            rows: vec![slot("r0", Some(0)), slot("r1", None)],
            grid: vec![vec![1, 2, 3], vec![4]],
        };
        typed_round_trip(&store, &start).await;

        let updated = store
            .update("e")
            .remove(f.counts().entry("a"))
            .remove(f.counts().entry("missing"))
            .remove(f.slots().entry("x"))
            .remove(f.slots().entry("y").size())
            .remove(f.names().at(0))
            .remove(f.names().at(2))
            .remove(f.rows().at(0).size())
            .remove(f.grid().at(0).at(1))
            .await
            .unwrap();
        let expected = RtEntries {
            counts: HashMap::from([("b".to_owned(), 2)]),
            slots: BTreeMap::from([("y".to_owned(), slot("y", None))]),
            names: vec!["n1".into(), "n3".into()],
            rows: vec![slot("r0", None), slot("r1", None)],
            grid: vec![vec![1, 3], vec![4]],
            ..start.clone()
        };
        assert_eq!(updated, expected);
        assert_eq!(store.get("e").await.unwrap(), Some(expected.clone()));

        // A whole element of a list of structs, and the last entry of a map.
        let updated = store
            .update("e")
            .remove(f.rows().at(1))
            .remove(f.slots().entry("y"))
            .remove(f.grid().at(1))
            .await
            .unwrap();
        assert_eq!(updated.rows, vec![slot("r0", None)]);
        assert!(updated.slots.is_empty());
        assert_eq!(updated.grid, vec![vec![1, 3]]);
        assert_eq!(store.get("e").await.unwrap(), Some(updated));
    }

    #[derive(
        crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq,
    )]
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
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases_typed {
    ($cb:path, $make:tt) => {
        $cb!($make, typed::typed_scalars_round_trip);
        $cb!($make, typed::typed_map_none_values_round_trip);
        $cb!($make, typed::typed_option_none_is_missing);
        $cb!(
            $make,
            typed::typed_collections_and_nested_structs_round_trip
        );
        $cb!($make, typed::typed_maps_round_trip);
        $cb!($make, typed::typed_sets_round_trip);
        $cb!($make, typed::typed_empty_set_is_missing);
        $cb!($make, typed::typed_bytes_round_trip);
        $cb!($make, typed::typed_unit_enum_stored_as_string);
        $cb!($make, typed::typed_data_enum_round_trip);
        $cb!($make, typed::typed_u64_above_i64_max_rejected);
        $cb!($make, typed::typed_float_field_stays_float);
        $cb!($make, typed::typed_renamed_fields_round_trip);
        $cb!($make, typed::typed_non_finite_field_rejected);
        $cb!($make, typed::typed_query_results_convert);
        $cb!($make, typed::typed_flattened_none_is_missing);
        $cb!($make, typed::typed_tagged_enums_round_trip);
        $cb!($make, typed::typed_map_non_string_keys_round_trip);
        $cb!($make, typed::typed_rt_strings);
        $cb!($make, typed::typed_rt_small_integer_extremes);
        $cb!($make, typed::typed_rt_wide_integers);
        $cb!($make, typed::typed_rt_floats_and_bools);
        $cb!($make, typed::typed_rt_option_none_is_missing);
        $cb!($make, typed::typed_rt_vecs);
        $cb!($make, typed::typed_rt_nested_structs);
        $cb!($make, typed::typed_rt_maps);
        $cb!($make, typed::typed_rt_sets);
        $cb!($make, typed::typed_rt_empty_set_is_missing);
        $cb!($make, typed::typed_rt_bytes);
        $cb!($make, typed::typed_rt_unit_enum_as_string_and_index_key);
        $cb!($make, typed::typed_rt_serde_renames);
        $cb!($make, typed::typed_rt_query_results);
        $cb!($make, typed::typed_rt_update_results);
        $cb!($make, typed::typed_rt_composite_key_string_number);
        $cb!($make, typed::typed_rt_composite_key_number_string);
        $cb!($make, typed::typed_rt_shape_mismatch_is_serialization);
        $cb!($make, typed::typed_rt_sparse_index);
        $cb!(
            $make,
            typed::typed_rt_conditional_puts_and_consistent_queries
        );
        $cb!($make, typed::typed_rt_remove_entries_and_positions);
        $cb!($make, typed::typed_rt_type_of_and_exists);
    };
}
