//! The kvs quickstart on the embedded default: a durable local store file in
//! `kvs-data/`, no other setup. Run it with `cargo run --example quickstart`.
//!
//! It defines the seed's users, posts and orders stores (orders with the byUser and
//! byStatus indexes), writes items, queries an index with a filter and pagination, uses
//! every update op, runs a transaction, deletes an item and handles errors by kind.

use futures::TryStreamExt;
use kvs::{
    ErrorKind, IndexSchema, KeyAttr, Kvs, SortCondition, StoreSchema, TransactWrite, Updates,
    Value, attr, item,
};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

#[tokio::main]
async fn main() -> kvs::Result<()> {
    // A fresh store file each run, so the output is the same every time.
    let path = std::path::Path::new("kvs-data/quickstart.redb");
    let _ = std::fs::remove_file(path);
    let kvs = Kvs::open(path)?;
    println!("opened {}", path.display());

    kvs.ensure_store(StoreSchema::new("users", KeyAttr::string("userId")))
        .await?;
    kvs.ensure_store(
        StoreSchema::new("posts", KeyAttr::string("userId")).sort_key(KeyAttr::string("postId")),
    )
    .await?;
    kvs.ensure_store(
        StoreSchema::new("orders", KeyAttr::string("orderId"))
            .index(
                IndexSchema::new("byUser", KeyAttr::string("userId"))
                    .sort_key(KeyAttr::number("createdAt")),
            )
            .index(
                IndexSchema::new("byStatus", KeyAttr::string("status"))
                    .sort_key(KeyAttr::number("updatedAt")),
            ),
    )
    .await?;
    kvs.ensure_store(StoreSchema::new("accounts", KeyAttr::string("userId")))
        .await?;
    println!("stores: {:?}", kvs.store_names());

    // Users and posts.
    let now: i64 = 1_767_225_600_000; // 2026-01-01, fixed so the output is stable
    for (id, name, country) in [("u-1", "Ada", "UK"), ("u-2", "Grace", "US")] {
        kvs.upsert(
            "users",
            item! {
                "userId" => id, "name" => name, "email" => format!("{}@example.com", name.to_lowercase()),
                "address" => item! { "city" => "London", "country" => country },
                "loginCount" => 0, "wishlist" => Value::list(["p-1"]), "createdAt" => now,
            },
        )
        .await?;
    }
    kvs.upsert(
        "posts",
        item! { "userId" => "u-1", "postId" => "2026-01-01-hello", "title" => "Hello" },
    )
    .await?;
    let user = kvs.get("users", "u-1").await?;
    println!("get users/u-1 -> {user:?}");
    let post = kvs.get("posts", ("u-1", "2026-01-01-hello")).await?;
    println!("get posts/(u-1, 2026-01-01-hello) -> {post:?}");

    // Orders, then a query on an index with a filter and pagination.
    let statuses = ["pending", "completed", "shipped"];
    let orders = (0..30).map(|i| {
        item! {
            "orderId" => format!("o-{i:02}"),
            "userId" => if i % 2 == 0 { "u-1" } else { "u-2" },
            "status" => statuses[i % 3],
            "total" => (i as f64) * 97.5,
            "createdAt" => now - (i as i64) * 2 * DAY_MS,
            "updatedAt" => now - (i as i64) * DAY_MS,
        }
    });
    kvs.upsert_many("orders", orders).await?;
    println!("upserted 30 orders");

    let mut token = None;
    let mut page_no = 1;
    loop {
        let page = kvs
            .query("orders", "u-1")
            .index("byUser")
            .filter(attr("total").gt(300))
            .descending()
            .limit(4)
            .page_token(token)
            .await?;
        let ids: Vec<_> = page
            .items
            .iter()
            .map(|o| o["orderId"].to_string())
            .collect();
        println!("byUser u-1, total > 300, page {page_no}: {}", ids.join(" "));
        token = page.next_page_token;
        if token.is_none() {
            break;
        }
        page_no += 1;
    }

    // The seed's "recent high-value orders": completed, total > 1000, last 30 days.
    let recent: Vec<_> = kvs
        .query("orders", "completed")
        .index("byStatus")
        .sort(SortCondition::gt(now - 30 * DAY_MS))
        .filter(attr("total").gt(1000))
        .limit(100)
        .stream()
        .try_collect()
        .await?;
    let ids: Vec<_> = recent.iter().map(|o| o["orderId"].to_string()).collect();
    println!("recent high-value completed orders: {}", ids.join(" "));

    // Every update op.
    let user = kvs
        .update("users", "u-1")
        .set("address.city", "Cambridge") // SET a nested attribute
        .remove("email") // REMOVE
        .add("loginCount", 1) // ADD to a number
        .append("wishlist", Value::list(["p-2", "p-3"])) // APPEND to a list
        .add("tags", Value::string_set(["admin", "beta"])) // ADD to a set
        .await?;
    println!("after SET/REMOVE/ADD/APPEND -> {user:?}");
    let user = kvs
        .update("users", "u-1")
        .prepend("wishlist", Value::list(["p-0"])) // PREPEND
        .delete("tags", Value::string_set(["beta"])) // DELETE from a set
        .when(attr("loginCount").eq(1)) // optimistic condition
        .await?;
    println!("after PREPEND/DELETE(set) -> {user:?}");
    let user = kvs
        .update("users", "u-1")
        .delete("wishlist", Value::list(["p-2"])) // DELETE from a list
        .await?;
    println!("after DELETE(list) -> wishlist {}", user["wishlist"]);

    // A transaction: move 30 from u-1 to u-2, only if u-1 has enough.
    kvs.upsert_many(
        "accounts",
        [
            item! { "userId" => "u-1", "balance" => 100 },
            item! { "userId" => "u-2", "balance" => 5 },
        ],
    )
    .await?;
    let transfer = |amount: i64| {
        [
            TransactWrite::update("accounts", "u-1", Updates::new().add("balance", -amount))
                .when(attr("balance").ge(amount)),
            TransactWrite::update("accounts", "u-2", Updates::new().add("balance", amount)),
        ]
    };
    kvs.transact(transfer(30)).await?;
    let balances = kvs.get_many("accounts", ["u-1", "u-2"]).await?;
    let show = |b: &[Option<kvs::Item>]| {
        b.iter()
            .map(|a| a.as_ref().map(|a| a["balance"].to_string()))
            .collect::<Vec<_>>()
    };
    println!("transfer 30: balances {:?}", show(&balances));
    match kvs.transact(transfer(500)).await {
        Err(e) => match e.kind() {
            ErrorKind::TransactionCanceled { reasons } => {
                println!("transfer 500: canceled, reasons by write {reasons:?}")
            }
            _ => return Err(e),
        },
        Ok(()) => println!("transfer 500: went through?!"),
    }
    println!(
        "balances unchanged: {:?}",
        show(&kvs.get_many("accounts", ["u-1", "u-2"]).await?)
    );

    // Delete, then read again.
    let deleted = kvs.delete("posts", ("u-1", "2026-01-01-hello")).await?;
    println!("deleted post: {}", deleted.is_some());
    println!(
        "get after delete -> {:?}",
        kvs.get("posts", ("u-1", "2026-01-01-hello")).await?
    );

    // Errors, by kind.
    for (what, result) in [
        (
            "insert u-1 again",
            kvs.insert("users", item! { "userId" => "u-1" })
                .await
                .map(|_| ()),
        ),
        (
            "update missing u-9",
            kvs.update("users", "u-9")
                .add("loginCount", 1)
                .await
                .map(|_| ()),
        ),
        (
            "get from unknown store",
            kvs.get("nope", "x").await.map(|_| ()),
        ),
        (
            "empty key",
            kvs.upsert("users", item! { "userId" => "" }).await,
        ),
    ] {
        match result {
            Ok(()) => println!("{what}: ok"),
            Err(e) => println!("{what}: {} ({})", e.kind(), e.message()),
        }
    }
    Ok(())
}
