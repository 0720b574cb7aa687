//! Conformance cases of serde types through `to_item` and `from_item`: `None` is a missing attribute.

use super::*;

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
    crate::conformance::settle_index(&kvs, &store, "byNick", "ada", 1).await;
    let page = kvs.query(&store, "ada").index("byNick").await.unwrap();
    assert_eq!(page.items.len(), 1);
}
