//! Faults on the way to Cosmos DB, injected in front of the SDK's in-memory emulator
//! (`support/cosmos_faults.rs`): throttling, 503s, connection failures and responses
//! lost after the write was applied. kvs's retry policy is the one in force (the SDK's
//! own retries are off for every call kvs makes, whatever the client's defaults); what
//! changed nothing is retried, a guarded write whose outcome is unknown is never sent
//! again, and nothing is lost or written twice.
//!
//! The clients here are built with the SDK's defaults (throttling and failover retries
//! on, the HTTP/2 pool), as an application would build its own.

mod support {
    pub mod cosmos_faults;
}

use std::time::Duration;

use azure_core::http::Method;
use azure_data_cosmos::options::OperationOptions;
use kvs::cosmos::CosmosBackend;
use kvs::retry::Backoff;
use kvs::{ErrorKind, Key, KeyAttr, Kvs, StoreSchema, TransactWrite, Updates, item};
use support::cosmos_faults::{Fault, Faults, Match, faulty_client_with};

/// A handle on a fresh emulator behind `Faults`, with a store `s` keyed by `id`
/// (and, for transactions, `t` keyed by `g` and `id`), and retries quick enough for a test.
async fn setup() -> (Kvs, Faults) {
    let (client, faults) = faulty_client_with(OperationOptions::default(), None).await;
    let backoff = Backoff {
        attempts: 4,
        base: Duration::from_millis(1),
        max: Duration::from_millis(4),
    };
    let kvs = Kvs::new(CosmosBackend::new(client, "faults").with_backoff(backoff));
    kvs.ensure_store(StoreSchema::new("s", KeyAttr::string("id")))
        .await
        .unwrap();
    kvs.ensure_store(StoreSchema::new("t", KeyAttr::string("g")).sort_key(KeyAttr::string("id")))
        .await
        .unwrap();
    (kvs, faults)
}

fn reads() -> Match {
    Match::docs().method(Method::Get)
}

fn replaces() -> Match {
    Match::docs().method(Method::Put)
}

fn posts() -> Match {
    Match::docs().method(Method::Post)
}

/// Throttled reads and writes are retried by kvs, each throttled request once (the
/// SDK's own 18 retries are off), never sooner than the server's retry-after.
#[tokio::test]
async fn throttling_is_retried_by_kvs_alone() {
    let (kvs, faults) = setup().await;
    faults.fail_next(2, Fault::Throttle { retry_after_ms: 1 });
    kvs.upsert("s", item! { "id" => "a", "n" => 1 })
        .await
        .unwrap();
    faults.fail_next_matching(2, Fault::Throttle { retry_after_ms: 1 }, reads());
    assert_eq!(
        kvs.get("s", "a").await.unwrap(),
        Some(item! { "id" => "a", "n" => 1 })
    );
    assert_eq!(faults.injected(), 4);
    // Past kvs's budget, the caller is told, after exactly its attempts.
    let before = faults.seen_matching(&reads());
    faults.fail_next_matching(100, Fault::Throttle { retry_after_ms: 1 }, reads());
    let e = kvs.get("s", "a").await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Throttled, "{e}");
    assert!(e.message().contains("429"), "{e}");
    assert_eq!(
        e.retry_after(),
        Some(Duration::from_millis(1)),
        "the server's retry-after"
    );
    assert_eq!(
        faults.seen_matching(&reads()) - before,
        4,
        "one request per attempt"
    );
    faults.clear();
}

/// A 503 or a failed connection on a read is retried.
#[tokio::test]
async fn unavailable_reads_are_retried() {
    let (kvs, faults) = setup().await;
    kvs.upsert("s", item! { "id" => "a" }).await.unwrap();
    faults.fail_next_matching(1, Fault::Unavailable, reads());
    faults.fail_next_matching(1, Fault::Timeout, reads());
    assert!(kvs.get("s", "a").await.unwrap().is_some());
    assert_eq!(faults.injected(), 2);
}

/// An update (a guarded replace) whose response is lost after Cosmos DB applied it is
/// `Unavailable`, and is not sent again: the ADD is applied exactly once.
#[tokio::test]
async fn a_guarded_write_with_an_unknown_outcome_is_not_resent() {
    let (kvs, faults) = setup().await;
    // The client's pool would resend a lost request on another connection; with one
    // attempt lost here and the resend refused (412, the item changed), kvs recognizes
    // its own write and reports success: either way the ADD lands once.
    kvs.upsert("s", item! { "id" => "a", "n" => 1 })
        .await
        .unwrap();
    let puts = faults.seen_matching(&replaces());
    faults.fail_next_matching(1, Fault::AfterApply, replaces());
    let result = kvs.update("s", "a").add("n", 1).await;
    match &result {
        Ok(_) => {}
        Err(e) => assert_eq!(e.kind(), &ErrorKind::Unavailable, "{e}"),
    }
    assert_eq!(
        kvs.get("s", "a").await.unwrap(),
        Some(item! { "id" => "a", "n" => 2 }),
        "applied once ({result:?})"
    );
    assert!(faults.seen_matching(&replaces()) - puts <= 2);
    // Lost every time: reported, applied at most once more, never twice.
    faults.fail_next_matching(10, Fault::AfterApply, replaces());
    let e = kvs.update("s", "a").add("n", 1).await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Unavailable, "{e}");
    let n = kvs.get("s", "a").await.unwrap().unwrap()["n"].as_i64();
    assert_eq!(n, Some(3), "the lost write was applied once");
    faults.clear();
}

/// An insert (a create) whose response is lost: the SDK's resend finds the item
/// (409), kvs finds its own write there and reports success; it is written once.
#[tokio::test]
async fn an_insert_whose_response_was_lost_is_its_own_conflict() {
    let (kvs, faults) = setup().await;
    faults.fail_next_matching(1, Fault::AfterApply, posts());
    match kvs.insert("s", item! { "id" => "new", "v" => 1 }).await {
        Ok(()) => {}
        Err(e) => assert_eq!(e.kind(), &ErrorKind::Unavailable, "{e}"),
    }
    assert_eq!(
        kvs.get("s", "new").await.unwrap(),
        Some(item! { "id" => "new", "v" => 1 })
    );
    // Another writer's item is still AlreadyExists.
    let e = kvs
        .insert("s", item! { "id" => "new", "v" => 2 })
        .await
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::AlreadyExists, "{e}");
}

/// An unconditional upsert is idempotent: after a lost response it is sent again.
#[tokio::test]
async fn an_unconditional_upsert_is_resent() {
    let (kvs, faults) = setup().await;
    faults.fail_next_matching(2, Fault::Timeout, posts());
    kvs.upsert("s", item! { "id" => "u", "v" => 1 })
        .await
        .unwrap();
    assert!(kvs.get("s", "u").await.unwrap().is_some());
    assert_eq!(faults.injected(), 2);
}

/// A connection that failed before anything was sent changed nothing: even a guarded
/// write is sent again.
#[tokio::test]
async fn a_write_that_never_left_is_resent() {
    let (kvs, faults) = setup().await;
    kvs.upsert("s", item! { "id" => "a", "n" => 1 })
        .await
        .unwrap();
    faults.fail_next_matching(1, Fault::Transport, replaces());
    kvs.update("s", "a").add("n", 1).await.unwrap();
    assert_eq!(
        kvs.get("s", "a").await.unwrap().unwrap()["n"].as_i64(),
        Some(2)
    );
}

/// Batches: throttled writes are retried and all land; a key that keeps failing is
/// reported by key, and every other key is written.
#[tokio::test]
async fn batches_retry_and_name_the_keys_not_written() {
    let (kvs, faults) = setup().await;
    let items: Vec<_> = (0..20)
        .map(|i| item! { "id" => format!("k{i:02}"), "i" => i })
        .collect();
    faults.fail_next(5, Fault::Throttle { retry_after_ms: 1 });
    kvs.upsert_many("s", items.clone()).await.unwrap();
    let keys: Vec<Key> = (0..20).map(|i| Key::new(format!("k{i:02}"))).collect();
    let got = kvs.get_many("s", keys.clone()).await.unwrap();
    assert!(got.iter().all(Option::is_some));
    // One key's deletes keep failing: it alone is named, and the rest are deleted.
    faults.fail_next_matching(
        100,
        Fault::Unavailable,
        Match::docs()
            .method(Method::Delete)
            .path_contains("/docs/sk07"),
    );
    let e = kvs.delete_many("s", keys.clone()).await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Unavailable, "{e}");
    assert_eq!(e.keys(), [Key::new("k07")]);
    faults.clear();
    let left = kvs.get_many("s", keys).await.unwrap();
    let left: Vec<usize> = (0..20).filter(|i| left[*i].is_some()).collect();
    assert_eq!(left, [7]);
}

/// A transaction (one transactional batch) whose response is lost is `Unavailable`,
/// is not sent again, and was applied once, whole.
#[tokio::test]
async fn a_transaction_with_an_unknown_outcome_is_not_resent() {
    let (kvs, faults) = setup().await;
    kvs.upsert_many(
        "t",
        [
            item! { "g" => "g", "id" => "a", "n" => 10 },
            item! { "g" => "g", "id" => "b", "n" => 0 },
        ],
    )
    .await
    .unwrap();
    let batch = posts().header("x-ms-cosmos-is-batch-request");
    faults.fail_next_matching(10, Fault::AfterApply, batch.clone());
    let e = kvs
        .transact([
            TransactWrite::update("t", Key::with_sort("g", "a"), Updates::new().add("n", -1)),
            TransactWrite::update("t", Key::with_sort("g", "b"), Updates::new().add("n", 1)),
        ])
        .await
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Unavailable, "{e}");
    faults.clear();
    let n = |id: &str| {
        let kvs = kvs.clone();
        let id = id.to_owned();
        async move {
            kvs.get("t", Key::with_sort("g", id.as_str()))
                .await
                .unwrap()
                .unwrap()["n"]
                .as_i64()
                .unwrap()
        }
    };
    assert_eq!((n("a").await, n("b").await), (9, 1), "applied once, whole");
    // Once by kvs; the SDK's pool may send a lost request once more, which the
    // emulator refuses (the items changed).
    assert!(faults.seen_matching(&batch) <= 2, "not resent by kvs");
    // One response lost: the resend is refused, and kvs finds its own writes.
    faults.fail_next_matching(1, Fault::AfterApply, batch.clone());
    let r = kvs
        .transact([
            TransactWrite::update("t", Key::with_sort("g", "a"), Updates::new().add("n", -1)),
            TransactWrite::update("t", Key::with_sort("g", "b"), Updates::new().add("n", 1)),
        ])
        .await;
    if let Err(e) = &r {
        assert_eq!(e.kind(), &ErrorKind::Unavailable, "{e}");
    }
    assert_eq!(
        (n("a").await, n("b").await),
        (8, 2),
        "applied once, whole ({r:?})"
    );
}

fn batches() -> Match {
    posts().header("x-ms-cosmos-is-batch-request")
}

/// A conditional delete whose first response was lost, sent again by the SDK's pool on
/// another connection: the item is gone, and kvs cannot tell whether by this delete.
/// It says the outcome is unknown, never that the condition failed (which would mean
/// nothing changed).
#[tokio::test]
async fn a_delete_whose_response_was_lost_is_not_called_refused() {
    let (kvs, faults) = setup().await;
    for conditional in [true, false] {
        kvs.upsert("s", item! { "id" => "a", "n" => 1 })
            .await
            .unwrap();
        faults.fail_next_matching(1, Fault::AfterApply, Match::docs().method(Method::Delete));
        let r = if conditional {
            kvs.delete("s", "a").when(kvs::attr("n").eq(1)).await
        } else {
            kvs.delete("s", "a").await
        };
        assert!(
            kvs.get("s", "a").await.unwrap().is_none(),
            "the delete landed"
        );
        match r {
            Ok(old) => assert!(old.is_some(), "a delete that landed says there was nothing"),
            Err(e) => assert_eq!(e.kind(), &ErrorKind::Unavailable, "{e}"),
        }
    }
}

/// A transaction of deletes whose response was lost, sent again by the SDK: applied,
/// so it is never reported as canceled (nothing written).
#[tokio::test]
async fn a_delete_only_transaction_whose_response_was_lost_is_not_called_canceled() {
    let (kvs, faults) = setup().await;
    kvs.upsert_many(
        "t",
        [
            item! { "g" => "g", "id" => "a", "n" => 10 },
            item! { "g" => "g", "id" => "b" },
        ],
    )
    .await
    .unwrap();
    faults.fail_next_matching(1, Fault::AfterApply, batches());
    let r = kvs
        .transact([
            TransactWrite::delete("t", Key::with_sort("g", "a")).when(kvs::attr("n").eq(10)),
            TransactWrite::delete("t", Key::with_sort("g", "b")),
        ])
        .await;
    assert!(
        kvs.get("t", Key::with_sort("g", "a"))
            .await
            .unwrap()
            .is_none(),
        "the batch landed"
    );
    if let Err(e) = r {
        assert_eq!(e.kind(), &ErrorKind::Unavailable, "{e}");
    }
}

/// A throttled transaction is retried by kvs (the SDK's retries are off), as every
/// other throttled request is.
#[tokio::test]
async fn a_throttled_transaction_is_retried() {
    let (kvs, faults) = setup().await;
    kvs.upsert_many(
        "t",
        [
            item! { "g" => "g", "id" => "a", "n" => 1 },
            item! { "g" => "g", "id" => "b", "n" => 1 },
        ],
    )
    .await
    .unwrap();
    faults.fail_next_matching(1, Fault::Throttle { retry_after_ms: 1 }, batches());
    kvs.transact([
        TransactWrite::update("t", Key::with_sort("g", "a"), Updates::new().add("n", 1)),
        TransactWrite::update("t", Key::with_sort("g", "b"), Updates::new().add("n", 1)),
    ])
    .await
    .unwrap();
    let a = kvs
        .get("t", Key::with_sort("g", "a"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a["n"], 2.into());
}

/// `get_many` retries a throttled read as the backend's policy says, not that many
/// times over again by a batch runner of its own.
#[tokio::test]
async fn batch_retries_do_not_multiply() {
    let (kvs, faults) = setup().await; // 4 attempts
    kvs.upsert("s", item! { "id" => "a" }).await.unwrap();
    let before = faults.seen_matching(&reads());
    faults.fail_next_matching(1000, Fault::Throttle { retry_after_ms: 1 }, reads());
    let e = kvs.get_many("s", [Key::new("a")]).await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Throttled, "{e}");
    assert_eq!(faults.seen_matching(&reads()) - before, 4);
}
