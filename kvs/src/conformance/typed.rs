//! Conformance cases: serde types through the store (`to_item`, `from_item`).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::errors::assert_mentions;
use super::{expect_kind, fresh_store};
use crate::{
    Bytes, ErrorKind, IndexSchema, Item, KeyAttr, Kvs, Set, SortCondition, StoreSchema, Value,
    ValueType, attr, from_item, item, to_item,
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

/// Strings, chars, every integer type at its extremes, f32, f64 and bool round-trip.
pub async fn typed_scalars_round_trip(kvs: Kvs) {
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
        let stored = round_trip(&kvs, &store, value).await;
        for int in ["i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64"] {
            let n = stored[int].as_number().expect("a number");
            assert!(n.is_integer(), "{int} must be stored as an integer");
        }
        for float in ["f32", "f64"] {
            let n = stored[float].as_number().expect("a number");
            assert!(!n.is_integer(), "{float} must be stored as a float");
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
pub async fn typed_float_field_stays_float(kvs: Kvs) {
    let store = records(&kvs).await;
    let value = Floaty {
        id: "f".into(),
        whole: 2.0,
        neg_zero: -0.0,
        count: 2,
    };
    let stored = round_trip(&kvs, &store, &value).await;
    assert!(!stored["whole"].as_number().unwrap().is_integer());
    assert!(stored["count"].as_number().unwrap().is_integer());
    let back: Floaty = from_item(stored).unwrap();
    assert!(back.neg_zero.is_sign_negative());
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

/// Internally, adjacently and untagged enums and newtype structs round-trip.
pub async fn typed_tagged_enums_round_trip(kvs: Kvs) {
    let store = records(&kvs).await;
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
            Adjacent::Pair("p".into(), 1e-300),
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
    let stored = round_trip(&kvs, &store, &value).await;
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

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases_typed {
    ($cb:path, $make:path) => {
        $cb!($make, typed::typed_scalars_round_trip);
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
    };
}
