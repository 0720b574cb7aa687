//! The seed's list operations: `addToWishlist` APPENDs a product id to the user's
//! wishlist and SETs wishlistUpdatedAt; `removeFromWishlist` DELETEs it from the list
//! (every element equal to it, wherever it is).
//!
//! Run it with `cargo run --example wishlist`.

use kvs::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(KeyValueStore, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
#[kvs(store = "users", partition_key = user_id)]
pub struct User {
    user_id: String,
    name: String,
    wishlist: Vec<String>,
    /// Never set until the wishlist first changes.
    wishlist_updated_at: Option<i64>,
}

/// The seed's `addToWishlist`.
async fn add_to_wishlist(
    users: &Store<User>,
    user_id: &str,
    product_id: &str,
    now: i64,
) -> Result<User> {
    let f = User::fields();
    users
        .update(user_id)
        .append(f.wishlist(), [product_id])
        // `.some()` addresses the value inside the Option, so it takes a plain i64.
        .set(f.wishlist_updated_at().some(), now)
        .await
}

/// The seed's `removeFromWishlist`.
async fn remove_from_wishlist(
    users: &Store<User>,
    user_id: &str,
    product_id: &str,
) -> Result<User> {
    users
        .update(user_id)
        .delete(User::fields().wishlist(), [product_id])
        .await
}

#[tokio::main]
async fn main() -> kvs::Result<()> {
    // The embedded store in kvs-data/wishlist.redb, or the backend KVS_BACKEND names.
    let kvs = kvs_examples::open("wishlist").await?;
    let users = kvs.store::<User>();
    users.ensure().await?;
    kvs_examples::empty(&users).await?;

    let now: i64 = 1_767_225_600_000; // 2026-01-01
    let ada = User {
        user_id: "u-1".into(),
        name: "Ada".into(),
        wishlist: vec![],
        wishlist_updated_at: None,
    };
    users.insert(&ada).await?;
    println!(
        "new user:           {:?}, updated at {:?}",
        ada.wishlist, ada.wishlist_updated_at
    );

    // APPEND three products (one of them twice) and SET the timestamp each time.
    let mut user = ada;
    for (i, product) in ["p-lamp", "p-book", "p-mug", "p-book"]
        .into_iter()
        .enumerate()
    {
        user = add_to_wishlist(&users, "u-1", product, now + i as i64).await?;
        println!(
            "add {product:<7}       -> {:?}, updated at {:?}",
            user.wishlist, user.wishlist_updated_at
        );
    }
    assert_eq!(user.wishlist, ["p-lamp", "p-book", "p-mug", "p-book"]);
    assert_eq!(user.wishlist_updated_at, Some(now + 3));

    // DELETE from a list removes every element equal to the value.
    let user = remove_from_wishlist(&users, "u-1", "p-book").await?;
    println!("remove p-book      -> {:?}", user.wishlist);
    assert_eq!(user.wishlist, ["p-lamp", "p-mug"]);

    // Removing a product that is not there changes nothing, and is not an error.
    let user = remove_from_wishlist(&users, "u-1", "p-kite").await?;
    println!("remove p-kite      -> {:?}", user.wishlist);
    assert_eq!(user.wishlist, ["p-lamp", "p-mug"]);

    // What the update returned is what a read sees.
    assert_eq!(users.get("u-1").await?, Some(user));

    // An update of a user that does not exist creates nothing: NotFound.
    let err = add_to_wishlist(&users, "u-404", "p-lamp", now)
        .await
        .unwrap_err();
    println!("add to u-404       -> {}", err.kind());
    assert_eq!(err.kind(), &ErrorKind::NotFound);
    assert_eq!(users.get("u-404").await?, None);
    Ok(())
}
