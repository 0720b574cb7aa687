//! Conformance cases of a model's version attribute (`#[kvs(version)]`): every typed
//! write of the model is optimistic, through the store and inside transactions.

// The derive gives every field an accessor, and a case uses only some of them.
#![allow(dead_code)]

use super::*;

/// A versioned model in one partition (so that its transactions are single-partition,
/// which every backend runs), with its version under a renamed attribute.
#[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
#[kvs(store = "typed_rt_optimistic", partition_key = group, sort_key = n)]
struct RtOptimistic {
    group: String,
    n: i64,
    text: String,
    count: i64,
    #[serde(rename = "rev.no")]
    #[kvs(version)]
    version: u64,
}

fn doc(n: i64, text: &str, version: u64) -> RtOptimistic {
    RtOptimistic {
        group: "g".into(),
        n,
        text: text.into(),
        count: 0,
        version,
    }
}

async fn read(store: &Store<RtOptimistic>, n: i64) -> RtOptimistic {
    store.get(("g", n)).await.unwrap().expect("the item")
}

/// `insert` writes version 1 whatever the model holds; `upsert` of the model read writes
/// the next version, and a stale one (or a model never read, over a stored item) is
/// `ConditionFailed` and changes nothing; `update` adds 1 and, with `expect_version`,
/// writes only that version, as `delete` deletes only that version. The version is
/// stored as a plain integer under its (renamed) attribute name.
pub async fn typed_rt_version_checked_on_every_write(kvs: Kvs) {
    let store = fresh_typed_store::<RtOptimistic>(&kvs).await;
    let f = RtOptimistic::fields();

    store.insert(&doc(1, "a", 7)).await.unwrap();
    let v1 = read(&store, 1).await;
    assert_eq!(v1.version, 1, "insert writes version 1");
    let stored = kvs.get(store.name(), ("g", 1)).await.unwrap().unwrap();
    assert_eq!(stored["rev.no"], Value::from(1), "{stored:?}");

    let edited = RtOptimistic {
        text: "b".into(),
        ..v1.clone()
    };
    store.upsert(&edited).await.unwrap();
    let v2 = read(&store, 1).await;
    assert_eq!((v2.version, v2.text.as_str()), (2, "b"));

    // The model read at version 1 is stale now, as is one never read (version 0).
    for stale in [
        RtOptimistic {
            text: "lost".into(),
            ..v1.clone()
        },
        doc(1, "lost", 0),
    ] {
        expect_kind(store.upsert(&stale).await, ErrorKind::ConditionFailed);
        assert_eq!(read(&store, 1).await, v2, "a stale upsert changed the item");
    }
    // A model never read, where nothing is stored, writes version 1.
    store.upsert(&doc(2, "new", 0)).await.unwrap();
    assert_eq!(read(&store, 2).await.version, 1);

    // An update adds 1, and checks the version it is given.
    let v3 = store.update(("g", 1)).add(f.count(), 5).await.unwrap();
    assert_eq!((v3.version, v3.count), (3, 5));
    expect_kind(
        store
            .update(("g", 1))
            .set(f.text(), "lost")
            .expect_version(2)
            .await,
        ErrorKind::ConditionFailed,
    );
    assert_eq!(read(&store, 1).await, v3);
    let v4 = store
        .update(("g", 1))
        .set(f.text(), "c")
        .expect_version(3)
        .when(f.count().eq(5))
        .await
        .unwrap();
    assert_eq!((v4.version, v4.text.as_str()), (4, "c"));

    // A delete of another version deletes nothing.
    expect_kind(
        store.delete(("g", 1)).expect_version(3).await,
        ErrorKind::ConditionFailed,
    );
    assert_eq!(read(&store, 1).await, v4);
    let deleted = store.delete(("g", 1)).expect_version(4).await.unwrap();
    assert_eq!(deleted, Some(v4));
    assert_eq!(store.get(("g", 1)).await.unwrap(), None);

    // A version that cannot go up is refused before anything is sent.
    let at_max = doc(3, "max", i64::MAX as u64);
    expect_kind(store.upsert(&at_max).await, ErrorKind::Validation);
    assert_eq!(store.get(("g", 3)).await.unwrap(), None);
}

/// `upsert_many` of a versioned model writes each item as `upsert` does: the fresh ones
/// are written, a stale one is not, and the error names its key.
pub async fn typed_rt_version_upsert_many_names_stale_keys(kvs: Kvs) {
    let store = fresh_typed_store::<RtOptimistic>(&kvs).await;
    let fresh: Vec<RtOptimistic> = (1..=3).map(|n| doc(n, "a", 0)).collect();
    store.upsert_many(&fresh).await.unwrap();
    for n in 1..=3 {
        assert_eq!(read(&store, n).await.version, 1);
    }
    let batch = [
        RtOptimistic {
            text: "b".into(),
            ..read(&store, 1).await
        },
        // Stale: version 0 over a stored item.
        doc(2, "lost", 0),
        RtOptimistic {
            text: "b".into(),
            ..read(&store, 3).await
        },
    ];
    let err = expect_kind(store.upsert_many(&batch).await, ErrorKind::ConditionFailed);
    assert_eq!(err.keys(), [Key::from(("g", 2))], "{err}");
    assert_eq!(read(&store, 1).await.version, 2);
    assert_eq!(read(&store, 2).await, doc(2, "a", 1));
    assert_eq!(read(&store, 3).await.version, 2);
}

/// `upsert_many` of a versioned model checks every item before it writes any, as it
/// does for a model without a version: an item over the size limit, or a key given
/// twice, is `Validation` and nothing is written.
pub async fn typed_rt_version_upsert_many_checks_before_writing(kvs: Kvs) {
    let store = fresh_typed_store::<RtOptimistic>(&kvs).await;
    let limit = kvs.capabilities().max_item_size;
    let oversize = RtOptimistic {
        text: "x".repeat(limit + 1),
        ..doc(2, "", 0)
    };
    let err = expect_kind(
        store.upsert_many(&[doc(1, "a", 0), oversize]).await,
        ErrorKind::Validation,
    );
    assert!(err.to_string().contains("item 1"), "{err}");
    let err = expect_kind(
        store.upsert_many(&[doc(3, "a", 0), doc(3, "b", 0)]).await,
        ErrorKind::Validation,
    );
    assert!(err.to_string().contains("twice"), "{err}");
    for n in 1..=3 {
        assert_eq!(
            store.get(("g", n)).await.unwrap(),
            None,
            "item {n} was written"
        );
    }
}

/// Inside a transaction, a stale version cancels it with `ConditionFailed` at its
/// position and nothing is written; with the versions read, every write goes through
/// and each version goes up by one.
pub async fn typed_rt_version_in_transactions(kvs: Kvs) {
    let store = fresh_typed_store::<RtOptimistic>(&kvs).await;
    let f = RtOptimistic::fields();
    store.insert(&doc(1, "a", 0)).await.unwrap();
    store.insert(&doc(2, "a", 0)).await.unwrap();
    let (one, two) = (read(&store, 1).await, read(&store, 2).await);
    store.update(("g", 2)).add(f.count(), 1).await.unwrap();
    let two_now = read(&store, 2).await;
    let one_edited = RtOptimistic {
        text: "b".into(),
        ..one.clone()
    };

    let err = expect_kind(
        kvs.transact([
            store.upsert(&one_edited).into_transact_write(),
            store.upsert(&two).into_transact_write(),
        ])
        .await,
        ErrorKind::TransactionCanceled,
    );
    assert_eq!(
        err.reasons().map(<[_]>::to_vec),
        Some(vec![None, Some(ErrorKind::ConditionFailed)])
    );
    assert_eq!(read(&store, 1).await, one);
    assert_eq!(read(&store, 2).await, two_now);

    kvs.transact([
        store.upsert(&one_edited).into_transact_write(),
        store
            .update(("g", 2))
            .add(f.count(), 1)
            .expect_version(two_now.version)
            .into_transact_write(),
    ])
    .await
    .unwrap();
    assert_eq!(read(&store, 1).await.version, one.version + 1);
    let two_after = read(&store, 2).await;
    assert_eq!(
        (two_after.version, two_after.count),
        (two_now.version + 1, 2)
    );
}

/// Eight tasks each doing read-modify-write on one item, retrying on `ConditionFailed`:
/// no update is lost, and the version counts every write.
pub async fn typed_rt_version_no_lost_update(kvs: Kvs) {
    const TASKS: i64 = 8;
    const EACH: i64 = 4;
    let store = fresh_typed_store::<RtOptimistic>(&kvs).await;
    store.insert(&doc(1, "", 0)).await.unwrap();
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut done = 0;
                let mut attempts = 0;
                while done < EACH {
                    attempts += 1;
                    assert!(attempts < 10_000, "task {task} never got through");
                    let mut it = read(&store, 1).await;
                    it.count += 1;
                    it.text.push_str(&format!("{task}."));
                    match store.upsert(&it).await {
                        Ok(()) => done += 1,
                        Err(e) if e.kind() == &ErrorKind::ConditionFailed => {
                            tokio::task::yield_now().await;
                        }
                        Err(e) => panic!("task {task}: {e}"),
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("the task ran");
    }
    let it = read(&store, 1).await;
    assert_eq!(it.count, TASKS * EACH, "an update was lost");
    assert_eq!(it.version, 1 + (TASKS * EACH) as u64);
    for task in 0..TASKS {
        let lines = it.text.matches(&format!("{task}.")).count();
        assert_eq!(lines as i64, EACH, "task {task}'s edits in {:?}", it.text);
    }
}
