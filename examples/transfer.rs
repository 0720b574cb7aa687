//! The seed's `transferFunds`, as one real transaction: debit one account (only if its
//! balance covers the amount), credit the other, and insert the transfer's log item.
//! Either all three writes happen or none does.
//!
//! The seed reads both accounts, checks the balance, then writes: another transfer could
//! slip in between. Here the balance check is the debit's condition, checked atomically
//! with the writes, and the log item's id makes a retried transfer a no-op.
//!
//! Run it with `cargo run --example transfer`.

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

/// The seed's `transferFunds`. `Ok(Err(..))` is a transfer refused for a business reason;
/// `Err(..)` is anything else going wrong.
async fn transfer_funds(kvs: &Kvs, t: &Transfer) -> Result<Result<(), TransferError>> {
    let accounts = kvs.store::<Account>();
    let log = kvs.store::<Transfer>();
    let a = Account::fields();
    let writes = [
        // 0: the debit, only if the balance covers it.
        accounts
            .update(&t.from_user_id)
            .add(a.balance(), -t.amount)
            .when(a.balance().ge(t.amount))
            .into_transact_write(),
        // 1: the credit (an update: a missing account is NotFound, never created).
        accounts
            .update(&t.to_user_id)
            .add(a.balance(), t.amount)
            .into_transact_write(),
        // 2: the log item; insert, so the same transfer id cannot be done twice.
        log.insert(t).into_transact_write(),
    ];
    match kvs.transact(writes).await {
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

async fn balances(kvs: &Kvs) -> Result<Vec<i64>> {
    let accounts = kvs.store::<Account>().get_many(["alice", "bob"]).await?;
    Ok(accounts
        .into_iter()
        .map(|a| a.map_or(0, |a| a.balance))
        .collect())
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
    println!("balances [alice, bob]: {:?}", balances(&kvs).await?);

    let now: i64 = 1_767_225_600_000; // 2026-01-01
    let transfer = |id: &str, from: &str, to: &str, amount: i64| Transfer {
        transaction_id: id.into(),
        from_user_id: from.into(),
        to_user_id: to.into(),
        amount,
        timestamp: now,
    };

    // 1. Enough funds: all three writes happen.
    let t1 = transfer("t-1", "alice", "bob", 30);
    let outcome = transfer_funds(&kvs, &t1).await?;
    println!(
        "t-1 alice -> bob 30: {outcome:?}, balances {:?}",
        balances(&kvs).await?
    );
    assert_eq!(outcome, Ok(()));
    assert_eq!(balances(&kvs).await?, [70, 35]);
    assert_eq!(log.get("t-1").await?, Some(t1.clone()));

    // 2. Not enough funds: the debit's condition fails, so nothing is written at all.
    println!("t-2 alice -> bob 500:");
    let outcome = transfer_funds(&kvs, &transfer("t-2", "alice", "bob", 500)).await?;
    println!("  -> {outcome:?}, balances {:?}", balances(&kvs).await?);
    assert_eq!(outcome, Err(TransferError::InsufficientFunds));
    assert_eq!(balances(&kvs).await?, [70, 35], "no account changed");
    assert_eq!(log.get("t-2").await?, None, "no log item");

    // 3. An account that does not exist: the credit is NotFound, nothing is written
    //    (and no "carol" account is created).
    println!("t-3 alice -> carol 10:");
    let outcome = transfer_funds(&kvs, &transfer("t-3", "alice", "carol", 10)).await?;
    println!("  -> {outcome:?}, balances {:?}", balances(&kvs).await?);
    assert_eq!(outcome, Err(TransferError::InvalidAccounts));
    assert_eq!(accounts.get("carol").await?, None);
    assert_eq!(balances(&kvs).await?, [70, 35]);

    // 4. t-1 sent again (say, a client retried after a timeout): the log item exists, so
    //    the money does not move twice.
    println!("t-1 again:");
    let outcome = transfer_funds(&kvs, &t1).await?;
    println!("  -> {outcome:?}, balances {:?}", balances(&kvs).await?);
    assert_eq!(outcome, Err(TransferError::AlreadyDone));
    assert_eq!(balances(&kvs).await?, [70, 35]);
    Ok(())
}
