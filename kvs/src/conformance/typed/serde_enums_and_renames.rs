//! Conformance cases of serde types through `to_item` and `from_item`: enums of every representation and renamed fields.

use super::*;

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
/// outside the backend's `float_range`, or an integer outside its `integer_range`, is
/// refused (`Validation` naming the attribute, nothing written); the nearest number it
/// stores round-trips in its place. Where the backend has one number type
/// (`!keeps_number_kind`), an untagged `Float(2.0)` is stored as `2` and may read back as
/// the untagged `Int(2)`, which equals it as a number.
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
    // Where the backend declares an integer range (doubles), the i64 extremes stand at
    // its edges; elsewhere they are kept.
    let mut ints = value.clone();
    ints.events[0] = Internal::Click {
        x: storable_int(&caps, i64::MIN),
        y: 2,
        target: None,
    };
    ints.loose[3] = Loose::List(vec![
        Loose::Int(storable_int(&caps, i64::MAX)),
        Loose::Float(0.1),
    ]);
    if !caps.stores_float(tiny) {
        let it = to_item(&ints).expect("to_item");
        assert_unstorable(&kvs, &store, it, &["adjacent"]).await;
    }
    let mut value = value;
    value.adjacent[1] = Adjacent::Pair("p".into(), storable_stand_in(&caps, tiny));
    if !stores_int(&caps, i64::MIN) || !stores_int(&caps, i64::MAX) {
        let it = to_item(&value).expect("to_item");
        assert_unstorable(&kvs, &store, it, &["events", "loose"]).await;
        value.events[0] = ints.events[0].clone();
        value.loose[3] = ints.loose[3].clone();
    }
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
