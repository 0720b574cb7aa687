//! Conformance cases of models through `Store<M>`: lists, nested structs, maps and sets, and typed updates of their parts.

// `#[derive(KeyValueStore)]` and `#[derive(Nested)]` give every field of a private model
// an accessor, and a case uses only some of them, so the unused ones would warn as dead
// code.
#![allow(dead_code)]

use super::*;

#[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
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

#[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
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

#[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
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

#[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
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

#[derive(crate::Nested, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
struct RtSlot {
    name: String,
    size: Option<i64>,
}

#[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
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

#[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
#[kvs(store = "typed_rt_absent", partition_key = id)]
struct RtAbsent {
    id: String,
    slots: Vec<Option<i64>>,
    opt_map: BTreeMap<String, Option<i64>>,
    sets: Vec<Set<String>>,
    maybe: Option<i64>,
}

/// SET of an absent value (`None`, an empty set) writes what the whole model would: in
/// a list position or a map entry, null (the list keeps its length, the map its key,
/// and they read back as `None`); a field, a missing attribute.
pub async fn typed_rt_set_absent_in_lists_and_maps(kvs: Kvs) {
    let store = fresh_typed_store::<RtAbsent>(&kvs).await;
    let f = RtAbsent::fields();
    let start = RtAbsent {
        id: "a".into(),
        slots: vec![Some(1), Some(2), Some(3)],
        opt_map: BTreeMap::from([("a".to_owned(), Some(1)), ("b".to_owned(), Some(2))]),
        sets: vec![Set::from(["x".to_owned()]), Set::from(["y".to_owned()])],
        maybe: Some(7),
    };
    typed_round_trip(&store, &start).await;
    let updated = store
        .update("a")
        .set(f.slots().at(1), None::<i64>)
        .set(f.opt_map().entry("a"), None::<i64>)
        .set(f.opt_map().entry("c"), None::<i64>)
        .set(f.sets().at(0), Set::<String>::new())
        .set(f.maybe(), None::<i64>)
        .await
        .unwrap();
    let expected = RtAbsent {
        slots: vec![Some(1), None, Some(3)],
        opt_map: BTreeMap::from([
            ("a".to_owned(), None),
            ("b".to_owned(), Some(2)),
            ("c".to_owned(), None),
        ]),
        sets: vec![Set::new(), Set::from(["y".to_owned()])],
        maybe: None,
        ..start.clone()
    };
    assert_eq!(updated, expected);
    assert_eq!(store.get("a").await.unwrap(), Some(expected.clone()));
    // As the whole model is written.
    let whole = crate::to_item(&expected).unwrap();
    let stored = kvs.get(store.name(), "a").await.unwrap().expect("the item");
    assert_eq!(stored, whole);
    assert_eq!(
        stored["slots"],
        Value::list([Value::from(1), Value::Null, Value::from(3)])
    );
    assert!(stored.get("maybe").is_none());
}

/// A typed condition comparing a `Set` field with an empty set means what the model
/// reads: a missing attribute (an empty set is written as one) equals the empty set;
/// `ne` and `is_in` agree; in a list position, where an empty set is null, the same.
pub async fn typed_rt_conditions_on_empty_sets(kvs: Kvs) {
    let store = fresh_typed_store::<RtAbsent>(&kvs).await;
    let f = RtAbsent::fields();
    let x = || Set::from(["x".to_owned()]);
    let empty = RtAbsent {
        id: "empty".into(),
        slots: Vec::new(),
        opt_map: BTreeMap::new(),
        sets: vec![Set::new(), x()],
        maybe: None,
    };
    let full = RtAbsent {
        id: "full".into(),
        sets: vec![x(), Set::new()],
        ..empty.clone()
    };
    typed_round_trip(&store, &empty).await;
    typed_round_trip(&store, &full).await;
    // The model reads the first element of `empty` as an empty set.
    assert_eq!(
        store.get("empty").await.unwrap().unwrap().sets[0],
        Set::new()
    );
    let ids = |items: Vec<RtAbsent>| sorted_ids(&items, |v| v.id.clone());
    for (cond, expected) in [
        (f.sets().at(0).eq(Set::new()), vec!["empty"]),
        (f.sets().at(0).ne(Set::new()), vec!["full"]),
        (f.sets().at(1).eq(Set::new()), vec!["full"]),
        (f.sets().at(0).is_in([Set::new()]), vec!["empty"]),
        (
            f.sets().at(0).is_in([Set::new(), x()]),
            vec!["empty", "full"],
        ),
    ] {
        let page = store.scan().filter(cond.clone()).await.unwrap();
        assert_eq!(ids(page.items), expected, "{cond:?}");
    }
    let tagged = fresh_typed_store::<RtSets>(&kvs).await;
    let t = RtSets::fields();
    let none = RtSets {
        id: "none".into(),
        tags: Set::new(),
        nums: Set::new(),
        small: Set::new(),
        blobs: Set::new(),
    };
    let some = RtSets {
        id: "some".into(),
        tags: x(),
        ..none.clone()
    };
    typed_round_trip(&tagged, &none).await;
    typed_round_trip(&tagged, &some).await;
    let ids = |items: Vec<RtSets>| sorted_ids(&items, |v| v.id.clone());
    for (cond, expected) in [
        (t.tags().eq(Set::new()), vec!["none"]),
        (t.tags().ne(Set::new()), vec!["some"]),
        (t.tags().eq(x()), vec!["some"]),
        (t.tags().is_in([Set::new()]), vec!["none"]),
        (t.tags().is_in([Set::new(), x()]), vec!["none", "some"]),
        (t.tags().is_in([x()]), vec!["some"]),
    ] {
        let page = tagged.scan().filter(cond.clone()).await.unwrap();
        assert_eq!(ids(page.items), expected, "{cond:?}");
    }
}
