//! The seed's `transferFunds`, as one real transaction: debit one account (only if its
//! balance covers the amount), credit the other, and insert the transfer's log item.
//! Either all three writes happen or none does.
//!
//! The seed reads both accounts, checks the balance, then writes: another transfer could
//! slip in between. Here the balance check is the debit's condition, checked atomically
//! with the writes, and the log item's id makes a retried transfer a no-op.
//!
//! Run it with `cargo run --example transfer`.
//!
//! On Cosmos DB (`KVS_BACKEND=cosmos`, `--features cosmos`) a transaction holds the
//! writes of one store within one partition key value, and this one spans two accounts'
//! partitions and a second store: it is refused as `Unsupported` before anything is
//! sent. There the example shows that, then makes the same transfers within one
//! partition: a `ledger` store partitioned by ledger, where a ledger's accounts
//! (`account#alice`) and its transfers' log items (`transfer#t-1`) are items of one
//! partition, so that the debit, the credit and the log item are one transaction again.

use kvs::TransactWrite;
use kvs::backend::TransactionScope;
use kvs::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(KeyValueStore, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
#[kvs(store = "accounts", partition_key = user_id)]
pub struct Account {
    user_id: String,
    balance: i64,
}

#[derive(KeyValueStore, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
#[kvs(store = "transactions", partition_key = transaction_id)]
pub struct Transfer {
    transaction_id: String,
    from_user_id: String,
    to_user_id: String,
    amount: i64,
    timestamp: i64,
}

/// An account in a ledger's partition of the `ledger` store, under the sort key
/// `account#<user id>`.
#[derive(KeyValueStore, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
#[kvs(store = "ledger", partition_key = ledger, sort_key = id)]
pub struct LedgerAccount {
    ledger: String,
    id: String,
    balance: i64,
}

/// A transfer's log item in the same store and partition, under the sort key
/// `transfer#<transfer id>`: a second model of the `ledger` store, keyed alike.
#[derive(KeyValueStore, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
#[kvs(store = "ledger", partition_key = ledger, sort_key = id)]
pub struct LedgerTransfer {
    ledger: String,
    id: String,
    from_user_id: String,
    to_user_id: String,
    amount: i64,
    timestamp: i64,
}

/// Where the accounts and the transfers' log items are.
#[derive(Debug, Clone, Copy)]
enum Layout {
    /// The seed's: the `accounts` store keyed by user and the `transactions` log, so a
    /// transfer spans two partitions and two stores (transactions of any scope).
    Stores,
    /// One ledger's partition of the `ledger` store, for a backend whose transactions
    /// hold one partition key value of one store (Cosmos DB).
    Ledger(&'static str),
}

impl Layout {
    /// The key of a user's account in a ledger.
    fn account(ledger: &str, user_id: &str) -> (String, String) {
        (ledger.into(), format!("account#{user_id}"))
    }

    /// The transfer's three writes, in this order: the debit, the credit, the log item.
    fn writes(self, kvs: &Kvs, t: &Transfer) -> [TransactWrite; 3] {
        match self {
            Layout::Stores => {
                let accounts = kvs.store::<Account>();
                let a = Account::fields();
                [
                    // The debit, only if the balance covers it.
                    accounts
                        .update(&t.from_user_id)
                        .add(a.balance(), -t.amount)
                        .when(a.balance().ge(t.amount))
                        .into_transact_write(),
                    // The credit (an update: a missing account is NotFound, never created).
                    accounts
                        .update(&t.to_user_id)
                        .add(a.balance(), t.amount)
                        .into_transact_write(),
                    // The log item; insert, so the same transfer id cannot be done twice.
                    kvs.store::<Transfer>().insert(t).into_transact_write(),
                ]
            }
            Layout::Ledger(ledger) => {
                // The same three writes, on three items of the ledger's partition.
                let accounts = kvs.store::<LedgerAccount>();
                let a = LedgerAccount::fields();
                let log_item = LedgerTransfer {
                    ledger: ledger.into(),
                    id: format!("transfer#{}", t.transaction_id),
                    from_user_id: t.from_user_id.clone(),
                    to_user_id: t.to_user_id.clone(),
                    amount: t.amount,
                    timestamp: t.timestamp,
                };
                [
                    accounts
                        .update(Self::account(ledger, &t.from_user_id))
                        .add(a.balance(), -t.amount)
                        .when(a.balance().ge(t.amount))
                        .into_transact_write(),
                    accounts
                        .update(Self::account(ledger, &t.to_user_id))
                        .add(a.balance(), t.amount)
                        .into_transact_write(),
                    kvs.store::<LedgerTransfer>()
                        .insert(&log_item)
                        .into_transact_write(),
                ]
            }
        }
    }

    /// The balance of each user's account, `None` for a user without one.
    async fn balances(self, kvs: &Kvs, user_ids: &[&str]) -> Result<Vec<Option<i64>>> {
        Ok(match self {
            Layout::Stores => (kvs.store::<Account>().get_many(user_ids.iter().copied()))
                .await?
                .into_iter()
                .map(|a| a.map(|a| a.balance))
                .collect(),
            Layout::Ledger(ledger) => {
                let keys = user_ids.iter().map(|u| Self::account(ledger, u));
                (kvs.store::<LedgerAccount>().get_many(keys))
                    .await?
                    .into_iter()
                    .map(|a| a.map(|a| a.balance))
                    .collect()
            }
        })
    }

    /// A transfer's log item, read back as a [`Transfer`].
    async fn logged(self, kvs: &Kvs, transaction_id: &str) -> Result<Option<Transfer>> {
        match self {
            Layout::Stores => kvs.store::<Transfer>().get(transaction_id).await,
            Layout::Ledger(ledger) => {
                let key = (ledger, format!("transfer#{transaction_id}"));
                let item = kvs.store::<LedgerTransfer>().get(key).await?;
                Ok(item.map(|l| Transfer {
                    transaction_id: transaction_id.into(),
                    from_user_id: l.from_user_id,
                    to_user_id: l.to_user_id,
                    amount: l.amount,
                    timestamp: l.timestamp,
                }))
            }
        }
    }
}

/// Why a transfer did not happen, in the application's terms.
#[derive(Debug, PartialEq)]
enum TransferError {
    /// The seed's INSUFFICIENT_FUNDS.
    InsufficientFunds,
    /// The seed's INVALID_ACCOUNTS.
    InvalidAccounts,
    /// This transfer id was already done (a retry): nothing was done again.
    AlreadyDone,
}

/// The seed's `transferFunds`, on the accounts and log of `layout`. `Ok(Err(..))` is a
/// transfer refused for a business reason; `Err(..)` is anything else going wrong.
async fn transfer_funds(
    kvs: &Kvs,
    layout: Layout,
    t: &Transfer,
) -> Result<Result<(), TransferError>> {
    match kvs.transact(layout.writes(kvs, t)).await {
        Ok(()) => Ok(Ok(())),
        Err(e) => {
            let Some(reasons) = e.reasons() else {
                return Err(e);
            };
            // The reason of each write, by position: None for one that would have succeeded.
            for (i, reason) in reasons.iter().enumerate() {
                let what = ["debit", "credit", "log"][i];
                println!(
                    "    write {i} ({what}): {}",
                    reason.as_ref().map_or("ok".into(), |k| k.to_string())
                );
            }
            Ok(Err(match reasons {
                [_, _, Some(ErrorKind::AlreadyExists)] => TransferError::AlreadyDone,
                [Some(ErrorKind::NotFound), ..] | [_, Some(ErrorKind::NotFound), _] => {
                    TransferError::InvalidAccounts
                }
                [Some(ErrorKind::ConditionFailed), ..] => TransferError::InsufficientFunds,
                _ => return Err(e),
            }))
        }
    }
}

/// The balances of alice and bob (0 for a missing account).
async fn balances(kvs: &Kvs, layout: Layout) -> Result<Vec<i64>> {
    let both = layout.balances(kvs, &["alice", "bob"]).await?;
    Ok(both.into_iter().map(|b| b.unwrap_or(0)).collect())
}

/// On a backend whose transactions hold one partition of one store: shows the transfer
/// across stores refused with nothing written, and sets up the ledger `main` (alice and
/// bob with the same balances), where the transfers are made instead.
async fn one_partition(kvs: &Kvs, t: &Transfer) -> Result<Layout> {
    let e = transfer_funds(kvs, Layout::Stores, t)
        .await
        .expect_err("a transfer across stores is not one partition");
    println!("t-1 across stores: {} ({})", e.kind(), e.message());
    assert_eq!(e.kind(), &ErrorKind::Unsupported);
    let logged = Layout::Stores.logged(kvs, &t.transaction_id).await?;
    println!(
        "  nothing written: balances {:?}, log item {logged:?}",
        balances(kvs, Layout::Stores).await?
    );
    assert_eq!(balances(kvs, Layout::Stores).await?, [100, 5]);
    assert_eq!(logged, None);

    let ledger = kvs.store::<LedgerAccount>();
    ledger.ensure().await?;
    kvs_examples::empty(&ledger).await?;
    let layout = Layout::Ledger("main");
    for (user_id, balance) in [("alice", 100), ("bob", 5)] {
        let (ledger_id, id) = Layout::account("main", user_id);
        ledger
            .upsert(&LedgerAccount {
                ledger: ledger_id,
                id,
                balance,
            })
            .await?;
    }
    println!(
        "the same in one partition, ledger main: balances [alice, bob]: {:?}",
        balances(kvs, layout).await?
    );
    Ok(layout)
}

#[tokio::main]
async fn main() -> kvs::Result<()> {
    // The embedded store in kvs-data/transfer.redb, or the backend KVS_BACKEND names.
    let kvs = kvs_examples::open("transfer").await?;
    let accounts = kvs.store::<Account>();
    let log = kvs.store::<Transfer>();
    accounts.ensure().await?;
    kvs_examples::empty(&accounts).await?;
    log.ensure().await?;
    kvs_examples::empty(&log).await?;
    accounts
        .upsert_many(&[
            Account {
                user_id: "alice".into(),
                balance: 100,
            },
            Account {
                user_id: "bob".into(),
                balance: 5,
            },
        ])
        .await?;
    println!(
        "balances [alice, bob]: {:?}",
        balances(&kvs, Layout::Stores).await?
    );

    let now: i64 = 1_767_225_600_000; // 2026-01-01
    let transfer = |id: &str, from: &str, to: &str, amount: i64| Transfer {
        transaction_id: id.into(),
        from_user_id: from.into(),
        to_user_id: to.into(),
        amount,
        timestamp: now,
    };
    let t1 = transfer("t-1", "alice", "bob", 30);

    // Where the transfers are made: the two stores, unless this backend's transactions
    // hold one partition of one store only (Cosmos DB).
    let layout = match kvs.capabilities().transactions {
        TransactionScope::OnePartition => one_partition(&kvs, &t1).await?,
        _ => Layout::Stores,
    };

    // 1. Enough funds: all three writes happen.
    let outcome = transfer_funds(&kvs, layout, &t1).await?;
    println!(
        "t-1 alice -> bob 30: {outcome:?}, balances {:?}",
        balances(&kvs, layout).await?
    );
    assert_eq!(outcome, Ok(()));
    assert_eq!(balances(&kvs, layout).await?, [70, 35]);
    assert_eq!(layout.logged(&kvs, "t-1").await?, Some(t1.clone()));

    // 2. Not enough funds: the debit's condition fails, so nothing is written at all.
    println!("t-2 alice -> bob 500:");
    let outcome = transfer_funds(&kvs, layout, &transfer("t-2", "alice", "bob", 500)).await?;
    println!(
        "  -> {outcome:?}, balances {:?}",
        balances(&kvs, layout).await?
    );
    assert_eq!(outcome, Err(TransferError::InsufficientFunds));
    assert_eq!(
        balances(&kvs, layout).await?,
        [70, 35],
        "no account changed"
    );
    assert_eq!(layout.logged(&kvs, "t-2").await?, None, "no log item");

    // 3. An account that does not exist: the credit is NotFound, nothing is written
    //    (and no "carol" account is created).
    println!("t-3 alice -> carol 10:");
    let outcome = transfer_funds(&kvs, layout, &transfer("t-3", "alice", "carol", 10)).await?;
    println!(
        "  -> {outcome:?}, balances {:?}",
        balances(&kvs, layout).await?
    );
    assert_eq!(outcome, Err(TransferError::InvalidAccounts));
    assert_eq!(layout.balances(&kvs, &["carol"]).await?, [None]);
    assert_eq!(balances(&kvs, layout).await?, [70, 35]);

    // 4. t-1 sent again (say, a client retried after a timeout): the log item exists, so
    //    the money does not move twice.
    println!("t-1 again:");
    let outcome = transfer_funds(&kvs, layout, &t1).await?;
    println!(
        "  -> {outcome:?}, balances {:?}",
        balances(&kvs, layout).await?
    );
    assert_eq!(outcome, Err(TransferError::AlreadyDone));
    assert_eq!(balances(&kvs, layout).await?, [70, 35]);
    Ok(())
}
