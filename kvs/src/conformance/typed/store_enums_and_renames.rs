//! Conformance cases of models through `Store<M>`: unit enums as strings and index keys, serde renames.

// `#[derive(KeyValueStore)]` and `#[derive(Nested)]` give every field of a private model
// an accessor, and a case uses only some of them, so the unused ones would warn as dead
// code.
#![allow(dead_code)]

use super::*;

#[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
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

#[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
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

#[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
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
