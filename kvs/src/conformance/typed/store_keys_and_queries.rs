//! Conformance cases of models through `Store<M>`: composite keys, typed queries and sparse indexes.

// `#[derive(KeyValueStore)]` and `#[derive(Nested)]` give every field of a private model
// an accessor, and a case uses only some of them, so the unused ones would warn as dead
// code.
#![allow(dead_code)]

use super::*;

#[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
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
    crate::conformance::settle_index(&kvs, store.name(), "byDay", "mon", 6).await;
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

/// Typed counts: of a partition, with a sort condition and a typed filter, of an index
/// and of a scan, each equal to the number of models its stream reads.
pub async fn typed_rt_counts(kvs: Kvs) {
    let store = fresh_typed_store::<RtEvent>(&kvs).await;
    let f = RtEvent::fields();
    let events: Vec<RtEvent> = (0..30i64)
        .map(|i| RtEvent {
            user_id: format!("u{}", i % 2),
            seq: i,
            day: if i % 3 == 0 {
                "mon".into()
            } else {
                "tue".into()
            },
            amount: i as f64 / 4.0,
            tags: Set::new(),
            note: (i % 5 == 0).then(|| format!("n{i}")),
            data: Bytes(vec![i as u8]),
            meta: BTreeMap::new(),
        })
        .collect();
    store.upsert_many(&events).await.unwrap();
    let count_of =
        |keep: &dyn Fn(&RtEvent) -> bool| events.iter().filter(|e| keep(e)).count() as u64;

    let n = store.query(RtEvent::partition("u0")).count().await.unwrap();
    assert_eq!(n, count_of(&|e| e.user_id == "u0"));
    let n = store
        .query(RtEvent::partition("u1").sort_between(5, 20))
        .count()
        .await
        .unwrap();
    assert_eq!(
        n,
        count_of(&|e| e.user_id == "u1" && (5..=20).contains(&e.seq))
    );
    let n = store
        .query(RtEvent::partition("u0"))
        .filter(f.note().exists())
        .count()
        .await
        .unwrap();
    assert_eq!(n, count_of(&|e| e.user_id == "u0" && e.note.is_some()));
    let expected = count_of(&|e| e.day == "mon" && e.amount >= 2.0);
    let index = || store.query(RtEvent::by_day("mon").sort_ge(2.0));
    let mut n = index().count().await.unwrap();
    let started = std::time::Instant::now();
    while n != expected
        && !kvs.capabilities().consistent_index_reads
        && started.elapsed().as_secs() < 10
    {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        n = index().count().await.unwrap();
    }
    assert_eq!(n, expected);
    let streamed: Vec<RtEvent> = index().stream().try_collect().await.unwrap();
    assert_eq!(streamed.len() as u64, n);
    assert_eq!(store.scan().count().await.unwrap(), events.len() as u64);
    let n = store
        .scan()
        .filter(f.amount().lt(3.0))
        .count()
        .await
        .unwrap();
    assert_eq!(n, count_of(&|e| e.amount < 3.0));
    expect_kind(store.scan().limit(3).count().await, ErrorKind::Validation);
}

#[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
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

#[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
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

#[derive(crate::Nested, serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq)]
enum RtLevel {
    Gold,
    Silver,
}

#[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
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
