//! Conformance cases: transactions, all or nothing, with reasons by position.

use futures::TryStreamExt as _;

use super::{expect_kind, fresh_store};
use crate::{
    Error, ErrorKind, Item, KeyAttr, Kvs, StoreSchema, TransactWrite, Updates, Value, attr, item,
};

/// A store keyed by the string attribute `id`, holding `items`.
async fn store_with(kvs: &Kvs, items: Vec<Item>) -> String {
    let store = fresh_store(kvs, StoreSchema::new("txn", KeyAttr::string("id"))).await;
    if !items.is_empty() {
        kvs.upsert_many(&store, items)
            .await
            .expect("write the starting items");
    }
    store
}

/// Every item of the store, sorted by id.
async fn snapshot(kvs: &Kvs, store: &str) -> Vec<Item> {
    let mut items: Vec<Item> = kvs
        .scan(store)
        .stream()
        .try_collect()
        .await
        .expect("scan the store");
    items.sort_by(|a, b| a["id"].partial_compare(&b["id"]).expect("comparable ids"));
    items
}

/// Asserts a `TransactionCanceled` error with exactly these reasons.
#[track_caller]
fn expect_canceled(result: crate::Result<()>, reasons: &[Option<ErrorKind>]) -> Error {
    let err = expect_kind(result, ErrorKind::TransactionCanceled { reasons: vec![] });
    assert_eq!(err.reasons(), Some(reasons), "the reasons of {err}");
    err
}

/// The writes of moving `amount` from `from` to `to`, if `from` has enough.
fn transfer(store: &str, from: &str, to: &str, amount: i64) -> Vec<TransactWrite> {
    vec![
        TransactWrite::update(store, from, Updates::new().add("balance", -amount))
            .when(attr("balance").ge(amount)),
        TransactWrite::update(store, to, Updates::new().add("balance", amount)),
    ]
}

/// A transaction of put, update, delete and condition check succeeds, and every effect is
/// visible afterwards.
pub async fn txn_all_effects_visible(kvs: Kvs) {
    let store = store_with(
        &kvs,
        vec![
            item! { "id" => "u", "n" => 1 },
            item! { "id" => "d", "n" => 2 },
            item! { "id" => "c", "state" => "ok" },
        ],
    )
    .await;
    kvs.transact([
        TransactWrite::put(&store, item! { "id" => "p", "name" => "new" }),
        TransactWrite::update(&store, "u", Updates::new().add("n", 10).set("s", "x")),
        TransactWrite::delete(&store, "d"),
        TransactWrite::check(&store, "c", attr("state").eq("ok")),
    ])
    .await
    .unwrap();
    assert_eq!(
        snapshot(&kvs, &store).await,
        vec![
            item! { "id" => "c", "state" => "ok" },
            item! { "id" => "p", "name" => "new" },
            item! { "id" => "u", "n" => 11, "s" => "x" },
        ]
    );
}

/// One false condition cancels the whole transaction: `TransactionCanceled` with
/// `ConditionFailed` at its position, `None` elsewhere, and nothing written.
pub async fn txn_condition_failure_cancels_all(kvs: Kvs) {
    let before = vec![
        item! { "id" => "c", "v" => 1 },
        item! { "id" => "d", "n" => 2 },
        item! { "id" => "u", "n" => 1 },
    ];
    let store = store_with(&kvs, before.clone()).await;
    expect_canceled(
        kvs.transact([
            TransactWrite::put(&store, item! { "id" => "p", "name" => "new" }),
            TransactWrite::update(&store, "u", Updates::new().add("n", 10)),
            TransactWrite::update(&store, "c", Updates::new().set("v", 2)).when(attr("v").eq(5)),
            TransactWrite::delete(&store, "d"),
        ])
        .await,
        &[None, None, Some(ErrorKind::ConditionFailed), None],
    );
    assert_eq!(snapshot(&kvs, &store).await, before);
}

/// An update of a missing item in a transaction gives the reason `NotFound`, creates
/// nothing, and cancels the other writes.
pub async fn txn_update_missing_reason_not_found(kvs: Kvs) {
    let before = vec![item! { "id" => "a", "n" => 1 }];
    let store = store_with(&kvs, before.clone()).await;
    expect_canceled(
        kvs.transact([
            TransactWrite::update(&store, "a", Updates::new().add("n", 1)),
            TransactWrite::update(&store, "missing", Updates::new().add("n", 1)),
        ])
        .await,
        &[None, Some(ErrorKind::NotFound)],
    );
    assert_eq!(snapshot(&kvs, &store).await, before);
}

/// An update that breaks a type rule (ADD to a string) gives the reason `Validation`, and
/// nothing is written.
pub async fn txn_bad_update_reason_validation(kvs: Kvs) {
    let before = vec![
        item! { "id" => "a", "n" => 1 },
        item! { "id" => "s", "text" => "abc" },
    ];
    let store = store_with(&kvs, before.clone()).await;
    expect_canceled(
        kvs.transact([
            TransactWrite::put(&store, item! { "id" => "p" }),
            TransactWrite::update(&store, "s", Updates::new().add("text", 1)),
            TransactWrite::update(&store, "a", Updates::new().add("n", 1)),
        ])
        .await,
        &[None, Some(ErrorKind::Validation), None],
    );
    assert_eq!(snapshot(&kvs, &store).await, before);
}

/// An insert of an existing item gives the reason `AlreadyExists`, and nothing is
/// written (the existing item is not replaced).
pub async fn txn_insert_existing_reason_already_exists(kvs: Kvs) {
    let before = vec![item! { "id" => "a", "v" => "old" }];
    let store = store_with(&kvs, before.clone()).await;
    expect_canceled(
        kvs.transact([
            TransactWrite::insert(&store, item! { "id" => "new" }),
            TransactWrite::insert(&store, item! { "id" => "a", "v" => "replaced" }),
        ])
        .await,
        &[None, Some(ErrorKind::AlreadyExists)],
    );
    assert_eq!(snapshot(&kvs, &store).await, before);
}

/// Several failing writes each get their own reason, by position.
pub async fn txn_reasons_by_position(kvs: Kvs) {
    let before = vec![
        item! { "id" => "a", "v" => 1 },
        item! { "id" => "b", "text" => "abc" },
        item! { "id" => "c", "v" => 1 },
        item! { "id" => "e", "v" => 1 },
    ];
    let store = store_with(&kvs, before.clone()).await;
    expect_canceled(
        kvs.transact([
            TransactWrite::delete(&store, "a").when(attr("v").eq(2)),
            TransactWrite::update(&store, "c", Updates::new().set("v", 2)),
            TransactWrite::update(&store, "nobody", Updates::new().set("v", 2)),
            TransactWrite::update(&store, "b", Updates::new().append("text", Value::list([1]))),
            TransactWrite::insert(&store, item! { "id" => "e" }),
            TransactWrite::put(&store, item! { "id" => "f" }),
            TransactWrite::check(&store, "g", attr("id").exists()),
        ])
        .await,
        &[
            Some(ErrorKind::ConditionFailed),
            None,
            Some(ErrorKind::NotFound),
            Some(ErrorKind::Validation),
            Some(ErrorKind::AlreadyExists),
            None,
            Some(ErrorKind::ConditionFailed),
        ],
    );
    assert_eq!(snapshot(&kvs, &store).await, before);
}

/// The same item twice in one transaction is `Validation` (1 and 1.0 are one key), and
/// nothing is written.
pub async fn txn_same_item_twice_rejected(kvs: Kvs) {
    let before = vec![item! { "id" => "a", "n" => 1 }];
    let store = store_with(&kvs, before.clone()).await;
    for writes in [
        vec![
            TransactWrite::put(&store, item! { "id" => "x" }),
            TransactWrite::update(&store, "a", Updates::new().add("n", 1)),
            TransactWrite::delete(&store, "a"),
        ],
        vec![
            TransactWrite::check(&store, "a", attr("n").eq(1)),
            TransactWrite::update(&store, "a", Updates::new().add("n", 1)),
        ],
        vec![
            TransactWrite::put(&store, item! { "id" => "x" }),
            TransactWrite::put(&store, item! { "id" => "x", "n" => 2 }),
        ],
    ] {
        expect_kind(kvs.transact(writes).await, ErrorKind::Validation);
        assert_eq!(snapshot(&kvs, &store).await, before);
    }
    let numbers = fresh_store(&kvs, StoreSchema::new("txn_numbers", KeyAttr::number("id"))).await;
    expect_kind(
        kvs.transact([
            TransactWrite::put(&numbers, item! { "id" => 1 }),
            TransactWrite::put(&numbers, item! { "id" => 1.0, "n" => 2 }),
        ])
        .await,
        ErrorKind::Validation,
    );
    assert!(snapshot(&kvs, &numbers).await.is_empty());
}

/// A transaction of more than 100 writes is `Validation`, and nothing is written.
pub async fn txn_more_than_100_writes_rejected(kvs: Kvs) {
    let store = store_with(&kvs, vec![]).await;
    let writes: Vec<TransactWrite> = (0..101)
        .map(|i| TransactWrite::put(&store, item! { "id" => format!("k{i:03}") }))
        .collect();
    expect_kind(kvs.transact(writes).await, ErrorKind::Validation);
    assert!(snapshot(&kvs, &store).await.is_empty());
}

/// A transaction of exactly 100 writes succeeds, every write applied.
pub async fn txn_100_writes_succeed(kvs: Kvs) {
    let store = store_with(&kvs, vec![item! { "id" => "k000", "n" => 1 }]).await;
    let mut writes = vec![TransactWrite::update(
        &store,
        "k000",
        Updates::new().add("n", 1),
    )];
    writes.extend(
        (1..100)
            .map(|i| TransactWrite::put(&store, item! { "id" => format!("k{i:03}"), "n" => i })),
    );
    kvs.transact(writes).await.unwrap();
    let all = snapshot(&kvs, &store).await;
    assert_eq!(all.len(), 100);
    assert_eq!(all[0], item! { "id" => "k000", "n" => 2 });
    assert_eq!(all[99], item! { "id" => "k099", "n" => 99 });
}

/// A transaction may write to two stores; both effects are visible, and the same key in
/// two stores names two items.
pub async fn txn_across_two_stores(kvs: Kvs) {
    let orders = store_with(&kvs, vec![]).await;
    let stock = store_with(&kvs, vec![item! { "id" => "sku-1", "count" => 5 }]).await;
    kvs.transact([
        TransactWrite::insert(&orders, item! { "id" => "sku-1", "qty" => 2 }),
        TransactWrite::update(&stock, "sku-1", Updates::new().add("count", -2))
            .when(attr("count").ge(2)),
    ])
    .await
    .unwrap();
    assert_eq!(
        snapshot(&kvs, &orders).await,
        vec![item! { "id" => "sku-1", "qty" => 2 }]
    );
    assert_eq!(
        snapshot(&kvs, &stock).await,
        vec![item! { "id" => "sku-1", "count" => 3 }]
    );
}

/// A failure in one store cancels the writes to the other store too.
pub async fn txn_across_two_stores_cancels_both(kvs: Kvs) {
    let orders = store_with(&kvs, vec![]).await;
    let stock = store_with(&kvs, vec![item! { "id" => "sku-1", "count" => 1 }]).await;
    expect_canceled(
        kvs.transact([
            TransactWrite::insert(&orders, item! { "id" => "o-1", "qty" => 2 }),
            TransactWrite::update(&stock, "sku-1", Updates::new().add("count", -2))
                .when(attr("count").ge(2)),
        ])
        .await,
        &[None, Some(ErrorKind::ConditionFailed)],
    );
    assert!(snapshot(&kvs, &orders).await.is_empty());
    assert_eq!(
        snapshot(&kvs, &stock).await,
        vec![item! { "id" => "sku-1", "count" => 1 }]
    );
}

/// A funds transfer (two ADDs, `balance >= amount` on the payer) moves money when the
/// payer has enough, even exactly enough, and fails cleanly when not.
pub async fn txn_funds_transfer(kvs: Kvs) {
    let store = store_with(
        &kvs,
        vec![
            item! { "id" => "alice", "balance" => 100 },
            item! { "id" => "bob", "balance" => 20 },
        ],
    )
    .await;
    let balances = |items: Vec<Item>| -> Vec<i64> {
        items
            .iter()
            .map(|i| i["balance"].as_i64().unwrap())
            .collect()
    };
    kvs.transact(transfer(&store, "alice", "bob", 30))
        .await
        .unwrap();
    assert_eq!(balances(snapshot(&kvs, &store).await), [70, 50]);
    expect_canceled(
        kvs.transact(transfer(&store, "alice", "bob", 80)).await,
        &[Some(ErrorKind::ConditionFailed), None],
    );
    assert_eq!(balances(snapshot(&kvs, &store).await), [70, 50]);
    kvs.transact(transfer(&store, "alice", "bob", 70))
        .await
        .unwrap();
    assert_eq!(balances(snapshot(&kvs, &store).await), [0, 120]);
    // A payee that does not exist cancels the transfer too.
    expect_canceled(
        kvs.transact(transfer(&store, "bob", "carol", 10)).await,
        &[None, Some(ErrorKind::NotFound)],
    );
    assert_eq!(balances(snapshot(&kvs, &store).await), [0, 120]);
}

/// A failing condition check alone (it writes nothing) cancels every other write.
pub async fn txn_condition_check_failure_cancels_others(kvs: Kvs) {
    let before = vec![
        item! { "id" => "flag", "open" => false },
        item! { "id" => "u", "n" => 1 },
    ];
    let store = store_with(&kvs, before.clone()).await;
    expect_canceled(
        kvs.transact([
            TransactWrite::update(&store, "u", Updates::new().add("n", 1)),
            TransactWrite::put(&store, item! { "id" => "p" }),
            TransactWrite::check(&store, "flag", attr("open").eq(true)),
        ])
        .await,
        &[None, None, Some(ErrorKind::ConditionFailed)],
    );
    assert_eq!(snapshot(&kvs, &store).await, before);
    // A check of a missing item with a condition that needs the item fails too.
    expect_canceled(
        kvs.transact([
            TransactWrite::put(&store, item! { "id" => "p" }),
            TransactWrite::check(&store, "missing", attr("n").exists()),
        ])
        .await,
        &[None, Some(ErrorKind::ConditionFailed)],
    );
    assert_eq!(snapshot(&kvs, &store).await, before);
    // And a check that holds lets the others through.
    kvs.transact([
        TransactWrite::update(&store, "u", Updates::new().add("n", 1)),
        TransactWrite::check(&store, "flag", attr("open").eq(false)),
        TransactWrite::check(&store, "missing", attr("id").not_exists()),
    ])
    .await
    .unwrap();
    assert_eq!(
        kvs.get(&store, "u").await.unwrap(),
        Some(item! { "id" => "u", "n" => 2 })
    );
}

/// Each write's condition is evaluated against the item as it was before the
/// transaction, not as the transaction leaves it.
pub async fn txn_conditions_see_state_before_transaction(kvs: Kvs) {
    let store = store_with(
        &kvs,
        vec![
            item! { "id" => "x", "v" => 1 },
            item! { "id" => "y", "v" => 1 },
            item! { "id" => "z", "v" => 1 },
        ],
    )
    .await;
    kvs.transact([
        TransactWrite::put(&store, item! { "id" => "x", "v" => 9 }).when(attr("v").eq(1)),
        TransactWrite::update(&store, "y", Updates::new().set("v", 2)).when(attr("v").eq(1)),
        TransactWrite::delete(&store, "z").when(attr("v").eq(1)),
        TransactWrite::insert(&store, item! { "id" => "w", "v" => 1 }).when(attr("v").not_exists()),
    ])
    .await
    .unwrap();
    assert_eq!(
        snapshot(&kvs, &store).await,
        vec![
            item! { "id" => "w", "v" => 1 },
            item! { "id" => "x", "v" => 9 },
            item! { "id" => "y", "v" => 2 },
        ]
    );
    // Conditions on the new values: a condition on the value a write itself gives is
    // false before it.
    expect_canceled(
        kvs.transact([
            TransactWrite::update(&store, "x", Updates::new().set("v", 10)).when(attr("v").eq(10)),
            TransactWrite::update(&store, "y", Updates::new().set("v", 3)).when(attr("v").eq(2)),
        ])
        .await,
        &[Some(ErrorKind::ConditionFailed), None],
    );
    assert_eq!(
        kvs.get(&store, "y").await.unwrap(),
        Some(item! { "id" => "y", "v" => 2 })
    );
}

/// A delete of a missing item in a transaction is not an error; with a condition that
/// needs the item, it is `ConditionFailed`.
pub async fn txn_delete_missing_item(kvs: Kvs) {
    let store = store_with(&kvs, vec![item! { "id" => "a", "n" => 1 }]).await;
    kvs.transact([
        TransactWrite::delete(&store, "missing"),
        TransactWrite::update(&store, "a", Updates::new().add("n", 1)),
    ])
    .await
    .unwrap();
    assert_eq!(
        snapshot(&kvs, &store).await,
        vec![item! { "id" => "a", "n" => 2 }]
    );
    expect_canceled(
        kvs.transact([
            TransactWrite::delete(&store, "missing").when(attr("id").exists()),
            TransactWrite::update(&store, "a", Updates::new().add("n", 1)),
        ])
        .await,
        &[Some(ErrorKind::ConditionFailed), None],
    );
    assert_eq!(
        snapshot(&kvs, &store).await,
        vec![item! { "id" => "a", "n" => 2 }]
    );
}

/// A transaction that names a store never defined is `StoreNotFound`, and nothing is
/// written.
pub async fn txn_unknown_store_rejected(kvs: Kvs) {
    let store = store_with(&kvs, vec![]).await;
    let missing = super::fresh_name("never_defined");
    expect_kind(
        kvs.transact([
            TransactWrite::put(&store, item! { "id" => "a" }),
            TransactWrite::put(&missing, item! { "id" => "a" }),
        ])
        .await,
        ErrorKind::StoreNotFound,
    );
    assert!(snapshot(&kvs, &store).await.is_empty());
}

/// Concurrent transfers never create or lose money: every transfer that succeeded moved
/// exactly its amount, and every one that failed moved nothing.
pub async fn txn_concurrent_transfers_lose_nothing(kvs: Kvs) {
    let store = store_with(
        &kvs,
        vec![
            item! { "id" => "alice", "balance" => 1000 },
            item! { "id" => "bob", "balance" => 0 },
        ],
    )
    .await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let kvs = kvs.clone();
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut done = 0_i64;
            for _ in 0..25 {
                match kvs.transact(transfer(&store, "alice", "bob", 1)).await {
                    Ok(()) => done += 1,
                    // A conflict with another transaction, which changed nothing.
                    Err(e)
                        if e.is(&ErrorKind::TransactionCanceled { reasons: vec![] })
                            || e.is(&ErrorKind::Conflict) => {}
                    Err(e) => panic!("a transfer failed: {e}"),
                }
            }
            done
        }));
    }
    let mut done = 0;
    for task in tasks {
        done += task.await.expect("a task panicked");
    }
    assert!(done > 0, "no transfer succeeded");
    assert_eq!(
        snapshot(&kvs, &store).await,
        vec![
            item! { "id" => "alice", "balance" => 1000 - done },
            item! { "id" => "bob", "balance" => done },
        ]
    );
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases_transactions {
    ($cb:path, $make:tt) => {
        $cb!($make, transactions::txn_all_effects_visible);
        $cb!($make, transactions::txn_condition_failure_cancels_all);
        $cb!($make, transactions::txn_update_missing_reason_not_found);
        $cb!($make, transactions::txn_bad_update_reason_validation);
        $cb!(
            $make,
            transactions::txn_insert_existing_reason_already_exists
        );
        $cb!($make, transactions::txn_reasons_by_position);
        $cb!($make, transactions::txn_same_item_twice_rejected);
        $cb!($make, transactions::txn_more_than_100_writes_rejected);
        $cb!($make, transactions::txn_100_writes_succeed);
        $cb!($make, transactions::txn_across_two_stores);
        $cb!($make, transactions::txn_across_two_stores_cancels_both);
        $cb!($make, transactions::txn_funds_transfer);
        $cb!(
            $make,
            transactions::txn_condition_check_failure_cancels_others
        );
        $cb!(
            $make,
            transactions::txn_conditions_see_state_before_transaction
        );
        $cb!($make, transactions::txn_delete_missing_item);
        $cb!($make, transactions::txn_unknown_store_rejected);
        $cb!($make, transactions::txn_concurrent_transfers_lose_nothing);
    };
}
