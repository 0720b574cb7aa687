//! The seed's user CRUD story on the typed API: create a user (insert), read it, update
//! its profile (SET name/email, ADD loginCount, SET updatedAt), delete it with its posts,
//! and read it again to get `None`.
//!
//! Run it with `cargo run --example user_crud`.

use kvs::prelude::*;
use serde::{Deserialize, Serialize};

/// `defineKeyValueStore('users', { partitionKey: 'userId' })`
#[derive(KeyValueStore, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
#[kvs(store = "users", partition_key = user_id)]
pub struct User {
    user_id: String,
    email: String,
    name: String,
    login_count: i64,
    created_at: i64,
    updated_at: i64,
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

/// The seed's `Partial<User>`: the profile fields a caller may change.
#[derive(Default)]
struct ProfileChanges {
    name: Option<String>,
    email: Option<String>,
}

/// The seed's `createUser`: `insert` fails with `AlreadyExists` rather than overwrite a
/// user that has the same id.
async fn create_user(
    users: &Store<User>,
    user_id: &str,
    email: &str,
    name: &str,
    now: i64,
) -> Result<User> {
    let user = User {
        user_id: user_id.into(),
        email: email.into(),
        name: name.into(),
        login_count: 0,
        created_at: now,
        updated_at: now,
    };
    users.insert(&user).await?;
    Ok(user)
}

/// The seed's `updateUserProfile`: SET the fields given, ADD 1 to loginCount, SET
/// updatedAt. Returns the whole updated user; a missing user is `NotFound`.
async fn update_user_profile(
    users: &Store<User>,
    user_id: &str,
    changes: ProfileChanges,
    now: i64,
) -> Result<User> {
    let f = User::fields();
    let mut update = users.update(user_id);
    if let Some(name) = changes.name {
        update = update.set(f.name(), name);
    }
    if let Some(email) = changes.email {
        update = update.set(f.email(), email);
    }
    update
        .add(f.login_count(), 1)
        .set(f.updated_at(), now)
        .await
}

/// The seed's `deleteUser`: the user, then the posts of that user (a query on the
/// posts' partition key, then one batch delete of their keys).
async fn delete_user(users: &Store<User>, posts: &Store<Post>, user_id: &str) -> Result<()> {
    users.delete(user_id).await?;
    let theirs = posts.query(Post::partition(user_id)).await?.items;
    posts.delete_many(theirs.iter().map(Post::key)).await
}

#[tokio::main]
async fn main() -> kvs::Result<()> {
    // A fresh store file each run, so the output is the same every time.
    // The embedded store in kvs-data/user_crud.redb, or the backend KVS_BACKEND names.
    let kvs = kvs_examples::open("user_crud").await?;
    let users = kvs.store::<User>();
    let posts = kvs.store::<Post>();
    users.ensure().await?;
    kvs_examples::empty(&users).await?;
    posts.ensure().await?;
    kvs_examples::empty(&posts).await?;

    let now: i64 = 1_767_225_600_000; // 2026-01-01, fixed so the output is stable

    // Create
    let user = create_user(&users, "u-1", "test@example.com", "Test User", now).await?;
    println!("created  {user:?}");
    assert_eq!(user.email, "test@example.com");
    for (post_id, title) in [("2026-01-02-hello", "Hello"), ("2026-01-03-again", "Again")] {
        posts
            .upsert(&Post {
                user_id: "u-1".into(),
                post_id: post_id.into(),
                title: title.into(),
            })
            .await?;
    }

    // Read
    let read = users.get("u-1").await?;
    println!("read     {read:?}");
    assert_eq!(read.as_ref().map(|u| u.name.as_str()), Some("Test User"));

    // Update: only the name changes; loginCount and updatedAt always do.
    let changes = ProfileChanges {
        name: Some("Updated Name".into()),
        ..Default::default()
    };
    let updated = update_user_profile(&users, "u-1", changes, now + 60_000).await?;
    println!("updated  {updated:?}");
    assert_eq!(updated.name, "Updated Name");
    assert_eq!(updated.email, "test@example.com");
    assert_eq!((updated.login_count, updated.updated_at), (1, now + 60_000));
    // The update returned the whole new item, and it is what the store now holds.
    assert_eq!(users.get("u-1").await?.as_ref(), Some(&updated));

    // Delete, with the user's posts.
    delete_user(&users, &posts, "u-1").await?;
    println!("deleted  u-1 and its posts");

    // Read again: none.
    let gone = users.get("u-1").await?;
    let posts_left = posts.query(Post::partition("u-1")).await?.items.len();
    println!("read     {gone:?} ({posts_left} posts left)");
    assert_eq!(gone, None);
    assert_eq!(posts_left, 0);
    Ok(())
}
