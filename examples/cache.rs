//! The seed's `getCachedUser`: a `cache` store whose entries hold a copy of a user (a
//! nested map, address included) and an `expiresAt`. A lookup is a hit while the entry
//! is fresh; a miss or an expired entry reads the user from the `users` store and
//! caches it for 5 minutes.
//!
//! Run it with `cargo run --example cache`.

use futures::TryStreamExt;
use kvs::prelude::*;
use serde::{Deserialize, Serialize};

const TTL_MS: i64 = 5 * 60 * 1000;

#[derive(Nested, Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Address {
    city: String,
    country: String,
}

#[derive(KeyValueStore, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
#[kvs(store = "users", partition_key = user_id)]
pub struct User {
    user_id: String,
    name: String,
    address: Address,
}

#[derive(KeyValueStore, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
#[kvs(store = "cache", partition_key = key)]
pub struct CacheEntry {
    key: String,
    /// The whole user, stored as a nested map; a model can be a field of another model,
    /// with typed paths into it (`CacheEntry::fields().data().name()`).
    data: User,
    expires_at: i64,
}

/// How a lookup was answered.
#[derive(Debug, PartialEq)]
enum Lookup {
    Hit,
    Miss,
    Expired,
}

/// The seed's `getCachedUser`, telling how it answered.
async fn get_cached_user(kvs: &Kvs, user_id: &str, now: i64) -> Result<(Option<User>, Lookup)> {
    let cache = kvs.store::<CacheEntry>();
    let key = format!("user-cache-{user_id}");
    let lookup = match cache.get(&key).await? {
        Some(entry) if entry.expires_at > now => return Ok((Some(entry.data), Lookup::Hit)),
        Some(_) => Lookup::Expired,
        None => Lookup::Miss,
    };
    let user = kvs.store::<User>().get(user_id).await?;
    if let Some(user) = &user {
        cache
            .upsert(&CacheEntry {
                key,
                data: user.clone(),
                expires_at: now + TTL_MS,
            })
            .await?;
    }
    Ok((user, lookup))
}

#[tokio::main]
async fn main() -> kvs::Result<()> {
    // The embedded store in kvs-data/cache.redb, or the backend KVS_BACKEND names.
    let kvs = kvs_examples::open("cache").await?;
    let users = kvs.store::<User>();
    let cache = kvs.store::<CacheEntry>();
    users.ensure().await?;
    kvs_examples::empty(&users).await?;
    cache.ensure().await?;
    kvs_examples::empty(&cache).await?;

    let ada = User {
        user_id: "u-1".into(),
        name: "Ada".into(),
        address: Address {
            city: "London".into(),
            country: "UK".into(),
        },
    };
    users.insert(&ada).await?;

    let t0: i64 = 1_767_225_600_000; // 2026-01-01, a clock the example moves by hand
    let minute = 60 * 1000;
    let mut log = Vec::new();
    let mut ask = async |user_id: &str, now: i64| -> Result<Option<User>> {
        let (user, lookup) = get_cached_user(&kvs, user_id, now).await?;
        let name = user
            .as_ref()
            .map(|u| format!("{} of {}", u.name, u.address.city));
        println!(
            "t+{}min {user_id}: {lookup:?} -> {name:?}",
            (now - t0) / minute
        );
        log.push(lookup);
        Ok(user)
    };

    // First read: a miss, loaded from users and cached (address and all).
    assert_eq!(ask("u-1", t0).await?, Some(ada.clone()));
    let entry = cache.get("user-cache-u-1").await?.expect("cached");
    assert_eq!((entry.data, entry.expires_at), (ada.clone(), t0 + TTL_MS));

    // Within 5 minutes: a hit, even though the user changed meanwhile (the cache is
    // allowed to be stale until it expires).
    let f = User::fields();
    users
        .update("u-1")
        .set(f.name(), "Ada L.")
        .set(f.address().city(), "Cambridge")
        .await?;
    let cached = ask("u-1", t0 + 2 * minute).await?.expect("u-1 exists");
    assert_eq!(cached.name, "Ada");

    // After 5 minutes: expired, so reloaded, and the new name and city show.
    let fresh = ask("u-1", t0 + 6 * minute).await?.expect("u-1 exists");
    assert_eq!(
        (fresh.name.as_str(), fresh.address.city.as_str()),
        ("Ada L.", "Cambridge")
    );
    let fresh = ask("u-1", t0 + 7 * minute).await?.expect("u-1 exists");
    assert_eq!(fresh.name, "Ada L.");

    // A user that does not exist: a miss each time, and nothing is cached.
    assert_eq!(ask("u-9", t0).await?, None);
    assert_eq!(ask("u-9", t0 + minute).await?, None);
    assert_eq!(cache.get("user-cache-u-9").await?, None);
    assert_eq!(
        log,
        [
            Lookup::Miss,
            Lookup::Hit,
            Lookup::Expired,
            Lookup::Hit,
            Lookup::Miss,
            Lookup::Miss
        ]
    );

    // Housekeeping: find the entries that have expired by t+20min and delete them.
    let c = CacheEntry::fields();
    let expired: Vec<CacheEntry> = cache
        .scan()
        .filter(c.expires_at().le(t0 + 20 * minute))
        .stream()
        .try_collect()
        .await?;
    cache.delete_many(expired.iter().map(|e| e.key())).await?;
    println!("purged expired cache entries: {}", expired.len());
    assert_eq!(expired.len(), 1);
    assert_eq!(cache.scan().await?.items.len(), 0);
    Ok(())
}
