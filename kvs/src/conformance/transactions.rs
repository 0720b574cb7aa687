//! Conformance cases: transactions, all or nothing, with reasons by position.
//!
//! A backend whose transactions hold one partition key value of one store
//! ([`TransactionScope::OnePartition`], Cosmos DB) runs every case within one partition:
//! its stores are keyed by a partition attribute `tenant`, the same for every item, and
//! the case's `id` as the sort key; the cases that span stores check that such a
//! transaction is `Unsupported` before anything is written.

use futures::TryStreamExt as _;

use super::{expect_kind, fresh_store};
use crate::backend::TransactionScope;
use crate::{
    Condition, Error, ErrorKind, Item, Key, KeyAttr, Kvs, Number, StoreSchema, TransactWrite,
    Updates, Value, attr, item,
};

/// The partition attribute of the stores of a backend whose transactions hold one
/// partition key value, and its one value.
const TENANT: (&str, &str) = ("tenant", "t");

/// A store of the cases: keyed by `id`, or by [`TENANT`] and `id` where the backend's
/// transactions hold one partition key value.
#[derive(Clone)]
pub(super) struct Txn {
    name: String,
    one_partition: bool,
}

impl Txn {
    pub(super) fn key(&self, id: impl Into<Value>) -> Key {
        if self.one_partition {
            Key::with_sort(TENANT.1, id.into())
        } else {
            Key::new(id.into())
        }
    }

    /// The item as the store holds it (with its tenant where there is one).
    pub(super) fn item(&self, mut it: Item) -> Item {
        if self.one_partition {
            it.set(TENANT.0, TENANT.1);
        }
        it
    }

    pub(super) fn put(&self, it: Item) -> TransactWrite {
        TransactWrite::put(&self.name, self.item(it))
    }

    pub(super) fn insert(&self, it: Item) -> TransactWrite {
        TransactWrite::insert(&self.name, self.item(it))
    }

    pub(super) fn update(&self, id: &str, updates: Updates) -> TransactWrite {
        TransactWrite::update(&self.name, self.key(id), updates)
    }

    pub(super) fn delete(&self, id: &str) -> TransactWrite {
        TransactWrite::delete(&self.name, self.key(id))
    }

    pub(super) fn check(&self, id: &str, condition: Condition) -> TransactWrite {
        TransactWrite::check(&self.name, self.key(id), condition)
    }

    /// The item `id` as the case wrote it (without its tenant).
    pub(super) async fn get(&self, kvs: &Kvs, id: &str) -> Option<Item> {
        let got = kvs.get(&self.name, self.key(id)).await.expect("get");
        got.map(|mut it| {
            if self.one_partition {
                it.remove(TENANT.0);
            }
            it
        })
    }
}

/// Whether the backend's transactions hold only one partition key value of one store.
fn one_partition(kvs: &Kvs) -> bool {
    kvs.capabilities().transactions == TransactionScope::OnePartition
}

/// A fresh store of the cases whose `id` has the type of `id`.
async fn store_keyed(kvs: &Kvs, id: KeyAttr) -> Txn {
    let one_partition = one_partition(kvs);
    let schema = if one_partition {
        StoreSchema::new("txn", KeyAttr::string(TENANT.0)).sort_key(id)
    } else {
        StoreSchema::new("txn", id)
    };
    Txn {
        name: fresh_store(kvs, schema).await,
        one_partition,
    }
}

/// A store of the cases holding `items`.
pub(super) async fn store_with(kvs: &Kvs, items: Vec<Item>) -> Txn {
    let store = store_keyed(kvs, KeyAttr::string("id")).await;
    if !items.is_empty() {
        let items: Vec<Item> = items.into_iter().map(|it| store.item(it)).collect();
        kvs.upsert_many(&store.name, items)
            .await
            .expect("write the starting items");
    }
    store
}

/// Every item of the store, sorted by id, as the case wrote them (without the tenant).
async fn snapshot(kvs: &Kvs, store: &Txn) -> Vec<Item> {
    let mut items: Vec<Item> = kvs
        .scan(&store.name)
        .stream()
        .try_collect()
        .await
        .expect("scan the store");
    if store.one_partition {
        for it in &mut items {
            it.remove(TENANT.0);
        }
    }
    items.sort_by(|a, b| a["id"].partial_compare(&b["id"]).expect("comparable ids"));
    items
}

/// Where the backend's transactions hold one partition key value of one store: asserts
/// that `writes`, which span two stores, are `Unsupported` and write nothing, and says
/// so (the case then has nothing more to check).
async fn spans_stores_unsupported(
    kvs: &Kvs,
    writes: Vec<TransactWrite>,
    stores: [&Txn; 2],
) -> bool {
    if !one_partition(kvs) {
        return false;
    }
    let before = [
        snapshot(kvs, stores[0]).await,
        snapshot(kvs, stores[1]).await,
    ];
    expect_kind(kvs.transact(writes).await, ErrorKind::Unsupported);
    assert_eq!(
        [
            snapshot(kvs, stores[0]).await,
            snapshot(kvs, stores[1]).await
        ],
        before,
        "nothing is written"
    );
    true
}

/// Asserts a `TransactionCanceled` error with exactly these reasons.
#[track_caller]
fn expect_canceled(result: crate::Result<()>, reasons: &[Option<ErrorKind>]) -> Error {
    let err = expect_kind(result, ErrorKind::TransactionCanceled);
    assert_eq!(err.reasons(), Some(reasons), "the reasons of {err}");
    err
}

/// The writes of moving `amount` from `from` to `to`, if `from` has enough.
fn transfer(store: &Txn, from: &str, to: &str, amount: i64) -> Vec<TransactWrite> {
    vec![
        store
            .update(from, Updates::new().add("balance", -amount))
            .when(attr("balance").ge(amount)),
        store.update(to, Updates::new().add("balance", amount)),
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
        store.put(item! { "id" => "p", "name" => "new" }),
        store.update("u", Updates::new().add("n", 10).set("s", "x")),
        store.delete("d"),
        store.check("c", attr("state").eq("ok")),
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
            store.put(item! { "id" => "p", "name" => "new" }),
            store.update("u", Updates::new().add("n", 10)),
            store
                .update("c", Updates::new().set("v", 2))
                .when(attr("v").eq(5)),
            store.delete("d"),
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
            store.update("a", Updates::new().add("n", 1)),
            store.update("missing", Updates::new().add("n", 1)),
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
            store.put(item! { "id" => "p" }),
            store.update("s", Updates::new().add("text", 1)),
            store.update("a", Updates::new().add("n", 1)),
        ])
        .await,
        &[None, Some(ErrorKind::Validation), None],
    );
    assert_eq!(snapshot(&kvs, &store).await, before);
}

/// An update whose result the backend cannot hold (beyond its declared integer range,
/// a decimal it does not hold, or beyond the portable range of numbers) gives the
/// reason `Validation` at its position, alone and beside a failed condition; nothing is
/// written.
pub async fn txn_unstorable_update_result_reason_validation(kvs: Kvs) {
    let caps = kvs.capabilities();
    // A number and an ADD whose exact sum this backend cannot store.
    let (start, add): (Value, Value) = match caps.integer_range {
        Some((_, highest)) => (Value::from(highest), Value::from(1)),
        None if !caps.exact_decimals => (Value::from(1), "1e-20".parse::<Number>().unwrap().into()),
        None => {
            let top: Number = "9.9999999999999999999999999999999999999e125"
                .parse()
                .unwrap();
            (top.into(), top.into())
        }
    };
    let before = vec![
        item! { "id" => "c", "v" => 1 },
        item! { "id" => "n", "n" => start },
    ];
    let store = store_with(&kvs, before.clone()).await;
    expect_canceled(
        kvs.transact([
            store.check("c", attr("v").eq(1)),
            store.update("n", Updates::new().add("n", add.clone())),
        ])
        .await,
        &[None, Some(ErrorKind::Validation)],
    );
    expect_canceled(
        kvs.transact([
            store.check("c", attr("v").eq(2)),
            store.update("n", Updates::new().add("n", add)),
        ])
        .await,
        &[
            Some(ErrorKind::ConditionFailed),
            Some(ErrorKind::Validation),
        ],
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
            store.insert(item! { "id" => "new" }),
            store.insert(item! { "id" => "a", "v" => "replaced" }),
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
            store.delete("a").when(attr("v").eq(2)),
            store.update("c", Updates::new().set("v", 2)),
            store.update("nobody", Updates::new().set("v", 2)),
            store.update("b", Updates::new().append("text", Value::list([1]))),
            store.insert(item! { "id" => "e" }),
            store.put(item! { "id" => "f" }),
            store.check("g", attr("id").exists()),
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
            store.put(item! { "id" => "x" }),
            store.update("a", Updates::new().add("n", 1)),
            store.delete("a"),
        ],
        vec![
            store.check("a", attr("n").eq(1)),
            store.update("a", Updates::new().add("n", 1)),
        ],
        vec![
            store.put(item! { "id" => "x" }),
            store.put(item! { "id" => "x", "n" => 2 }),
        ],
    ] {
        expect_kind(kvs.transact(writes).await, ErrorKind::Validation);
        assert_eq!(snapshot(&kvs, &store).await, before);
    }
    let numbers = store_keyed(&kvs, KeyAttr::number("id")).await;
    expect_kind(
        kvs.transact([
            numbers.put(item! { "id" => 1 }),
            numbers.put(item! { "id" => 1.0, "n" => 2 }),
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
        .map(|i| store.put(item! { "id" => format!("k{i:03}") }))
        .collect();
    expect_kind(kvs.transact(writes).await, ErrorKind::Validation);
    assert!(snapshot(&kvs, &store).await.is_empty());
}

/// A transaction of exactly 100 writes succeeds, every write applied.
pub async fn txn_100_writes_succeed(kvs: Kvs) {
    let store = store_with(&kvs, vec![item! { "id" => "k000", "n" => 1 }]).await;
    let mut writes = vec![store.update("k000", Updates::new().add("n", 1))];
    writes.extend((1..100).map(|i| store.put(item! { "id" => format!("k{i:03}"), "n" => i })));
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
    let writes = vec![
        orders.insert(item! { "id" => "sku-1", "qty" => 2 }),
        stock
            .update("sku-1", Updates::new().add("count", -2))
            .when(attr("count").ge(2)),
    ];
    if spans_stores_unsupported(&kvs, writes.clone(), [&orders, &stock]).await {
        return;
    }
    kvs.transact(writes).await.unwrap();
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
    let writes = vec![
        orders.insert(item! { "id" => "o-1", "qty" => 2 }),
        stock
            .update("sku-1", Updates::new().add("count", -2))
            .when(attr("count").ge(2)),
    ];
    if spans_stores_unsupported(&kvs, writes.clone(), [&orders, &stock]).await {
        return;
    }
    expect_canceled(
        kvs.transact(writes).await,
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
            store.update("u", Updates::new().add("n", 1)),
            store.put(item! { "id" => "p" }),
            store.check("flag", attr("open").eq(true)),
        ])
        .await,
        &[None, None, Some(ErrorKind::ConditionFailed)],
    );
    assert_eq!(snapshot(&kvs, &store).await, before);
    // A check of a missing item with a condition that needs the item fails too.
    expect_canceled(
        kvs.transact([
            store.put(item! { "id" => "p" }),
            store.check("missing", attr("n").exists()),
        ])
        .await,
        &[None, Some(ErrorKind::ConditionFailed)],
    );
    assert_eq!(snapshot(&kvs, &store).await, before);
    // And a check that holds lets the others through.
    kvs.transact([
        store.update("u", Updates::new().add("n", 1)),
        store.check("flag", attr("open").eq(false)),
        store.check("missing", attr("id").not_exists()),
    ])
    .await
    .unwrap();
    assert_eq!(
        store.get(&kvs, "u").await,
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
        store
            .put(item! { "id" => "x", "v" => 9 })
            .when(attr("v").eq(1)),
        store
            .update("y", Updates::new().set("v", 2))
            .when(attr("v").eq(1)),
        store.delete("z").when(attr("v").eq(1)),
        store
            .insert(item! { "id" => "w", "v" => 1 })
            .when(attr("v").not_exists()),
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
            store
                .update("x", Updates::new().set("v", 10))
                .when(attr("v").eq(10)),
            store
                .update("y", Updates::new().set("v", 3))
                .when(attr("v").eq(2)),
        ])
        .await,
        &[Some(ErrorKind::ConditionFailed), None],
    );
    assert_eq!(
        store.get(&kvs, "y").await,
        Some(item! { "id" => "y", "v" => 2 })
    );
}

/// A delete of a missing item in a transaction is not an error; with a condition that
/// needs the item, it is `ConditionFailed`.
pub async fn txn_delete_missing_item(kvs: Kvs) {
    let store = store_with(&kvs, vec![item! { "id" => "a", "n" => 1 }]).await;
    kvs.transact([
        store.delete("missing"),
        store.update("a", Updates::new().add("n", 1)),
    ])
    .await
    .unwrap();
    assert_eq!(
        snapshot(&kvs, &store).await,
        vec![item! { "id" => "a", "n" => 2 }]
    );
    expect_canceled(
        kvs.transact([
            store.delete("missing").when(attr("id").exists()),
            store.update("a", Updates::new().add("n", 1)),
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
            store.put(item! { "id" => "a" }),
            TransactWrite::put(&missing, store.item(item! { "id" => "a" })),
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
                    // Lost to the other transfers past the retry budget, changing
                    // nothing. Never `TransactionCanceled`: the balance never runs
                    // out, so no write's own condition fails, and contention is not a
                    // reason of any write.
                    Err(e) if e.is(&ErrorKind::Conflict) => {}
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
            transactions::txn_unstorable_update_result_reason_validation
        );
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
