//! The kvs quickstart on the embedded default: a durable local store file in
//! `kvs-data/`, no other setup. Run it with `cargo run --example quickstart`.
//!
//! The same program runs on DynamoDB, built with the feature `dynamodb`, with
//! `KVS_BACKEND=dynamodb` and the usual AWS variables (`AWS_ENDPOINT_URL` for a local
//! server, `AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, optionally
//! `KVS_TABLE_PREFIX`, by default `kvs-quickstart-`):
//! `KVS_BACKEND=dynamodb cargo run --example quickstart --features dynamodb`. It empties
//! its tables first, so each run starts from nothing. Real DynamoDB (https) needs the
//! TLS client: `--features dynamodb-tls`.
//!
//! It runs on Firestore, built with the feature `firestore`, with
//! `KVS_BACKEND=firestore`, `GOOGLE_CLOUD_PROJECT` and either `FIRESTORE_EMULATOR_HOST`
//! (the emulator) or Application Default Credentials with `--features firestore-tls`
//! (real Firestore), on collections prefixed
//! `kvs-quickstart-` unless `KVS_COLLECTION_PREFIX` says otherwise (it empties them).
//!
//! It runs on Cosmos DB, built with the feature `cosmos`, with `KVS_BACKEND=cosmos`,
//! `AZURE_COSMOS_ENDPOINT`, `AZURE_COSMOS_KEY` and `KVS_COSMOS_DATABASE` (default `kvs`),
//! on containers prefixed `kvs-quickstart-` unless `KVS_CONTAINER_PREFIX` says otherwise
//! (it empties them): `KVS_BACKEND=cosmos cargo run --example quickstart --features
//! cosmos`. A Cosmos DB transaction holds one store's items of one partition key value,
//! so there the transfer between two accounts is refused (`Unsupported`) and made
//! instead between two accounts of one ledger, in one partition.
//!
//! It defines the seed's users, posts and orders stores (orders with the byUser and
//! byStatus indexes) as Rust structs, writes items, queries an index with a filter and
//! pagination, uses every update op, runs a transaction, deletes an item and handles
//! errors by kind. Field names, value types, keys and index names are all checked by
//! the compiler.

use futures::TryStreamExt;
use kvs::backend::TransactionScope;
use kvs::prelude::*;
use serde::{Deserialize, Serialize};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// A nested struct: its fields get typed paths too (`f.address().city()`).
#[derive(Nested, Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Address {
    city: String,
    country: String,
}

/// `defineKeyValueStore('users', { partitionKey: 'userId' })`. `rename_all` decides the
/// stored attribute names: `login_count` is stored as `loginCount`.
#[derive(KeyValueStore, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
#[kvs(store = "users", partition_key = user_id)]
pub struct User {
    user_id: String,
    name: String,
    email: Option<String>,
    address: Address,
    login_count: i64,
    wishlist: Vec<String>,
    tags: Set<String>,
    created_at: i64,
}

/// `defineKeyValueStore('posts', { partitionKey: 'userId', sortKey: 'postId' })`
#[derive(KeyValueStore, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
#[kvs(store = "posts", partition_key = user_id, sort_key = post_id)]
pub struct Post {
    user_id: String,
    post_id: String,
    title: String,
}

#[derive(Nested, Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pending,
    Completed,
    Shipped,
}

/// The orders store with its two indexes.
#[derive(KeyValueStore, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
#[kvs(store = "orders", partition_key = order_id)]
#[kvs(index(name = "byUser", partition_key = user_id, sort_key = created_at))]
#[kvs(index(name = "byStatus", partition_key = status, sort_key = updated_at))]
pub struct Order {
    order_id: String,
    user_id: String,
    status: Status,
    total: f64,
    created_at: i64,
    updated_at: i64,
}

#[derive(KeyValueStore, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
#[kvs(store = "accounts", partition_key = user_id)]
pub struct Account {
    user_id: String,
    balance: i64,
}

/// The accounts of a ledger, all in the ledger's partition: where a transaction holds
/// one partition key value only (Cosmos DB), a transfer within a ledger is still one.
#[derive(KeyValueStore, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
#[kvs(store = "ledger", partition_key = ledger, sort_key = user_id)]
pub struct LedgerAccount {
    ledger: String,
    user_id: String,
    balance: i64,
}

#[tokio::main]
async fn main() -> kvs::Result<()> {
    let kvs = match std::env::var("KVS_BACKEND") {
        // A cloud backend from the environment, as every example does it
        // (examples/src/lib.rs).
        Ok(backend) if backend != "local" => kvs_examples::open("quickstart").await?,
        _ => {
            // A fresh store file each run, so the output is the same every time.
            let path = std::path::Path::new("kvs-data/quickstart.redb");
            let _ = std::fs::remove_file(path);
            println!("opened {}", path.display());
            Kvs::open(path)?
        }
    };

    // Typed handles; `ensure` creates each store (and its indexes) if missing.
    let users = kvs.store::<User>();
    let posts = kvs.store::<Post>();
    let orders = kvs.store::<Order>();
    let accounts = kvs.store::<Account>();
    users.ensure().await?;
    posts.ensure().await?;
    orders.ensure().await?;
    accounts.ensure().await?;
    println!("stores: {:?}", kvs.store_names());
    // Start from empty stores (a server keeps what an earlier run wrote).
    kvs_examples::empty(&users).await?;
    kvs_examples::empty(&posts).await?;
    kvs_examples::empty(&orders).await?;
    kvs_examples::empty(&accounts).await?;

    // Users and posts.
    let now: i64 = 1_767_225_600_000; // 2026-01-01, fixed so the output is stable
    for (id, name, country) in [("u-1", "Ada", "UK"), ("u-2", "Grace", "US")] {
        users
            .upsert(&User {
                user_id: id.into(),
                name: name.into(),
                email: Some(format!("{}@example.com", name.to_lowercase())),
                address: Address {
                    city: "London".into(),
                    country: country.into(),
                },
                login_count: 0,
                wishlist: vec!["p-1".into()],
                tags: Set::new(),
                created_at: now,
            })
            .await?;
    }
    posts
        .upsert(&Post {
            user_id: "u-1".into(),
            post_id: "2026-01-01-hello".into(),
            title: "Hello".into(),
        })
        .await?;
    let user = users.get("u-1").await?;
    println!("get users/u-1 -> {user:?}");
    assert_eq!(user.map(|u| u.name), Some("Ada".to_string()));
    let post = posts.get(("u-1", "2026-01-01-hello")).await?;
    println!("get posts/(u-1, 2026-01-01-hello) -> {post:?}");
    assert!(post.is_some());

    // Orders, then a query on an index with a filter and pagination.
    let statuses = [Status::Pending, Status::Completed, Status::Shipped];
    let all: Vec<Order> = (0..30)
        .map(|i: i64| Order {
            order_id: format!("o-{i:02}"),
            user_id: if i % 2 == 0 { "u-1" } else { "u-2" }.into(),
            status: statuses[(i % 3) as usize],
            total: (i as f64) * 97.5,
            created_at: now - i * 2 * DAY_MS,
            updated_at: now - i * DAY_MS,
        })
        .collect();
    orders.upsert_many(&all).await?;
    println!("upserted {} orders", all.len());

    let o = Order::fields();
    let mut token = None;
    let mut seen = Vec::new();
    for page_no in 1.. {
        let page = orders
            .query(Order::by_user("u-1"))
            .filter(o.total().gt(300))
            .descending()
            .limit(4)
            .page_token(token)
            .await?;
        let ids: Vec<_> = page.items.iter().map(|o| o.order_id.as_str()).collect();
        println!("byUser u-1, total > 300, page {page_no}: {}", ids.join(" "));
        seen.extend(page.items.into_iter().map(|o| o.order_id));
        token = page.next_page_token;
        if token.is_none() {
            break;
        }
    }
    // Newest first (byUser sorts by createdAt): o-04 is the newest of u-1's over 300.
    let expected: Vec<_> = (4..30).step_by(2).map(|i| format!("o-{i:02}")).collect();
    assert_eq!(seen, expected);

    // The seed's "recent high-value orders": completed, total > 1000, last 30 days
    // (here "updated in the last 30 days", a sort key condition on byStatus's updatedAt).
    let recent: Vec<Order> = orders
        .query(Order::by_status(Status::Completed).sort_gt(now - 30 * DAY_MS))
        .filter(o.total().gt(1000))
        .limit(100)
        .stream()
        .try_collect()
        .await?;
    let ids: Vec<_> = recent.iter().map(|o| o.order_id.as_str()).collect();
    println!("recent high-value completed orders: {}", ids.join(" "));
    assert_eq!(ids, ["o-28", "o-25", "o-22", "o-19", "o-16", "o-13"]);

    // Every update op. Each takes a typed field and a value of the field's type.
    let f = User::fields();
    let user = users
        .update("u-1")
        .set(f.address().city(), "Cambridge") // SET a nested attribute
        .remove(f.email()) // REMOVE (an Option field)
        .add(f.login_count(), 1) // ADD to a number
        .append(f.wishlist(), ["p-2", "p-3"]) // APPEND to a list
        .add(f.tags(), ["admin", "beta"]) // ADD to a set
        .await?;
    println!("after SET/REMOVE/ADD/APPEND -> {user:?}");
    assert_eq!(
        (user.address.city.as_str(), user.email.as_deref()),
        ("Cambridge", None)
    );
    let user = users
        .update("u-1")
        .prepend(f.wishlist(), ["p-0"]) // PREPEND
        .delete(f.tags(), ["beta"]) // DELETE from a set
        .when(f.login_count().eq(1)) // optimistic condition
        .await?;
    println!("after PREPEND/DELETE(set) -> {user:?}");
    assert_eq!(user.tags, Set::from(["admin".to_string()]));
    let user = users
        .update("u-1")
        .delete(f.wishlist(), ["p-2"]) // DELETE from a list
        .await?;
    println!("after DELETE(list) -> wishlist {:?}", user.wishlist);
    assert_eq!(user.wishlist, ["p-0", "p-1", "p-3"]);

    // A transaction: move 30 from u-1 to u-2, only if u-1 has enough.
    accounts
        .upsert_many(&[
            Account {
                user_id: "u-1".into(),
                balance: 100,
            },
            Account {
                user_id: "u-2".into(),
                balance: 5,
            },
        ])
        .await?;
    let a = Account::fields();
    let transfer = |amount: i64| {
        [
            accounts
                .update("u-1")
                .add(a.balance(), -amount)
                .when(a.balance().ge(amount))
                .into_transact_write(),
            accounts
                .update("u-2")
                .add(a.balance(), amount)
                .into_transact_write(),
        ]
    };
    let balances = async || -> kvs::Result<Vec<Option<i64>>> {
        let both = accounts.get_many(["u-1", "u-2"]).await?;
        Ok(both.into_iter().map(|a| a.map(|a| a.balance)).collect())
    };
    if kvs.capabilities().transactions == TransactionScope::OnePartition {
        // Cosmos DB: a transaction holds one store's items of one partition key value,
        // and u-1 and u-2 are two partitions. Refused before anything is sent...
        let e = kvs.transact(transfer(30)).await.unwrap_err();
        println!("transfer 30: {} ({})", e.kind(), e.message());
        assert_eq!(e.kind(), &ErrorKind::Unsupported);
        println!("balances unchanged: {:?}", balances().await?);
        assert_eq!(balances().await?, [Some(100), Some(5)]);
        // ...so keep the accounts that move money between them in one partition.
        transfer_in_one_ledger(&kvs).await?;
    } else {
        kvs.transact(transfer(30)).await?;
        println!("transfer 30: balances {:?}", balances().await?);
        assert_eq!(balances().await?, [Some(70), Some(35)]);
        match kvs.transact(transfer(500)).await {
            Err(e) => match e.kind() {
                ErrorKind::TransactionCanceled => {
                    let reasons = e.reasons().unwrap_or_default();
                    println!("transfer 500: canceled, reasons by write {reasons:?}");
                    assert_eq!(reasons, [Some(ErrorKind::ConditionFailed), None]);
                }
                _ => return Err(e),
            },
            Ok(()) => panic!("transfer 500 went through"),
        }
        println!("balances unchanged: {:?}", balances().await?);
        assert_eq!(balances().await?, [Some(70), Some(35)]);
    }

    // Delete, then read again.
    let deleted = posts.delete(("u-1", "2026-01-01-hello")).await?;
    println!("deleted post: {}", deleted.is_some());
    let again = posts.get(("u-1", "2026-01-01-hello")).await?;
    println!("get after delete -> {again:?}");
    assert_eq!(again, None);

    // Errors, by kind.
    let u1 = users.get("u-1").await?.expect("u-1 exists");
    let empty_key = User {
        user_id: String::new(),
        ..u1.clone()
    };
    for (what, result, expected) in [
        (
            "insert u-1 again",
            users.insert(&u1).await,
            ErrorKind::AlreadyExists,
        ),
        (
            "update missing u-9",
            users.update("u-9").add(f.login_count(), 1).await.map(drop),
            ErrorKind::NotFound,
        ),
        (
            "update u-1 if loginCount > 5",
            users
                .update("u-1")
                .add(f.login_count(), 1)
                .when(f.login_count().gt(5))
                .await
                .map(drop),
            ErrorKind::ConditionFailed,
        ),
        (
            "empty key",
            users.upsert(&empty_key).await,
            ErrorKind::Validation,
        ),
        (
            "get from a store this handle does not know",
            kvs.get("nope", "x").await.map(drop),
            ErrorKind::StoreNotFound,
        ),
    ] {
        match result {
            Ok(()) => panic!("{what}: ok?!"),
            Err(e) => {
                println!("{what}: {} ({})", e.kind(), e.message());
                assert_eq!(e.kind(), &expected);
            }
        }
    }
    Ok(())
}

/// The quickstart's transfer on a backend whose transactions hold one partition key
/// value (Cosmos DB): the accounts of the ledger `l-1`, keyed (ledger, user), share one
/// partition, so the debit and the credit are one transaction.
async fn transfer_in_one_ledger(kvs: &Kvs) -> kvs::Result<()> {
    let ledger = kvs.store::<LedgerAccount>();
    ledger.ensure().await?;
    kvs_examples::empty(&ledger).await?;
    for (user_id, balance) in [("u-1", 100), ("u-2", 5)] {
        let account = LedgerAccount {
            ledger: "l-1".into(),
            user_id: user_id.into(),
            balance,
        };
        ledger.upsert(&account).await?;
    }
    let a = LedgerAccount::fields();
    let transfer = |amount: i64| {
        [
            ledger
                .update(("l-1", "u-1"))
                .add(a.balance(), -amount)
                .when(a.balance().ge(amount))
                .into_transact_write(),
            ledger
                .update(("l-1", "u-2"))
                .add(a.balance(), amount)
                .into_transact_write(),
        ]
    };
    let balances = async || -> kvs::Result<Vec<Option<i64>>> {
        let both = ledger.get_many([("l-1", "u-1"), ("l-1", "u-2")]).await?;
        Ok(both.into_iter().map(|a| a.map(|a| a.balance)).collect())
    };
    kvs.transact(transfer(30)).await?;
    println!("ledger l-1, transfer 30: balances {:?}", balances().await?);
    assert_eq!(balances().await?, [Some(70), Some(35)]);
    let e = kvs.transact(transfer(500)).await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::TransactionCanceled);
    let reasons = e.reasons().unwrap_or_default();
    println!(
        "ledger l-1, transfer 500: {}, reasons by write {reasons:?}",
        e.kind()
    );
    assert_eq!(reasons, [Some(ErrorKind::ConditionFailed), None]);
    println!("balances unchanged: {:?}", balances().await?);
    assert_eq!(balances().await?, [Some(70), Some(35)]);
    Ok(())
}
