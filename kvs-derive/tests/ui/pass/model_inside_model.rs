//! A model can be a field of another model: a cache entry holding a user, with typed
//! paths into it (its key fields are plain fields there).

use kvs::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(KeyValueStore, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kvs(store = "users", partition_key = user_id)]
struct User {
    user_id: String,
    name: String,
}

#[derive(KeyValueStore, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kvs(store = "cache", partition_key = key)]
struct CacheEntry {
    key: String,
    data: User,
    expires_at: i64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> kvs::Result<()> {
    let kvs = Kvs::memory();
    let cache = kvs.store::<CacheEntry>();
    cache.ensure().await?;
    let f = CacheEntry::fields();
    cache
        .upsert(&CacheEntry {
            key: "user-u-1".into(),
            data: User { user_id: "u-1".into(), name: "Ada".into() },
            expires_at: 10,
        })
        .await?;
    let e = cache
        .update("user-u-1")
        .set(f.data().name(), "Ada L.")
        .set(f.data().user_id(), "u-1b")
        .when(f.data().name().begins_with("Ada"))
        .await?;
    assert_eq!(e.data.name, "Ada L.");
    assert_eq!(e.data.user_id, "u-1b");
    Ok(())
}
