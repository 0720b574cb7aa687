//! The seed's `getCachedUser`: a `cache` store whose entries hold a copy of a user (a
//! nested map, address included) and expire. A lookup is a hit while the entry lives; a
//! miss reads the user from the `users` store and caches it again.
//!
//! The seed compared an `expiresAt` with the clock on every read. Here the model says
//! `#[kvs(ttl = expires_at)]`: an expired entry is invisible to every read at once, on
//! every backend, and the backend deletes it (DynamoDB's TTL, Cosmos DB's per-item
//! `ttl`, Firestore's TTL policy, the embedded engine itself). The example caches for 2
//! seconds, so that it can wait for an entry to expire.
//!
//! Run it with `cargo run --example cache`.

use std::time::{Duration, SystemTime};

use kvs::prelude::*;
use serde::{Deserialize, Serialize};

/// How long an entry lives (minutes in a real service; seconds here, to see it expire).
const TTL: Duration = Duration::from_secs(2);

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
#[kvs(store = "cache", partition_key = key, ttl = expires_at)]
pub struct CacheEntry {
    key: String,
    /// The whole user, stored as a nested map; a model can be a field of another model,
    /// with typed paths into it (`CacheEntry::fields().data().name()`).
    data: User,
    /// When the entry expires: stored as seconds since the Unix epoch (`expiresAt`).
    expires_at: SystemTime,
}

/// How a lookup was answered.
#[derive(Debug, PartialEq)]
enum Lookup {
    Hit,
    Miss,
}

/// The seed's `getCachedUser`, telling how it answered. No clock is read here: an
/// expired entry is simply not found.
async fn get_cached_user(kvs: &Kvs, user_id: &str) -> Result<(Option<User>, Lookup)> {
    let cache = kvs.store::<CacheEntry>();
    let key = format!("user-cache-{user_id}");
    if let Some(entry) = cache.get(&key).await? {
        return Ok((Some(entry.data), Lookup::Hit));
    }
    let user = kvs.store::<User>().get(user_id).await?;
    if let Some(user) = &user {
        cache
            .upsert(&CacheEntry {
                key,
                data: user.clone(),
                expires_at: SystemTime::now() + TTL,
            })
            .await?;
    }
    Ok((user, Lookup::Miss))
}

#[tokio::main]
async fn main() -> kvs::Result<()> {
    // The embedded store in kvs-data/cache.redb, or the backend KVS_BACKEND names.
    let kvs = kvs_examples::open("cache").await?;
    let users = kvs.store::<User>();
    let cache = kvs.store::<CacheEntry>();
    users.ensure().await?;
    kvs_examples::empty(&users).await?;
    // `ensure` also turns the backend's own expiry on (DynamoDB's TTL on `expiresAt`,
    // the Cosmos DB container's TTL).
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

    let started = std::time::Instant::now();
    let mut log = Vec::new();
    let mut ask = async |user_id: &str| -> Result<Option<User>> {
        let (user, lookup) = get_cached_user(&kvs, user_id).await?;
        let name = user
            .as_ref()
            .map(|u| format!("{} of {}", u.name, u.address.city));
        println!(
            "t+{:.1}s {user_id}: {lookup:?} -> {name:?}",
            started.elapsed().as_secs_f64()
        );
        log.push(lookup);
        Ok(user)
    };

    // First read: a miss, loaded from users and cached (address and all).
    assert_eq!(ask("u-1").await?, Some(ada.clone()));
    let entry = cache.get("user-cache-u-1").await?.expect("cached");
    assert_eq!(entry.data, ada);
    assert!(entry.expires_at > SystemTime::now());

    // While the entry lives: a hit, even though the user changed meanwhile (the cache is
    // allowed to be stale until it expires).
    let f = User::fields();
    users
        .update("u-1")
        .set(f.name(), "Ada L.")
        .set(f.address().city(), "Cambridge")
        .await?;
    let cached = ask("u-1").await?.expect("u-1 exists");
    assert_eq!(cached.name, "Ada");
    assert_eq!(cache.scan().count().await?, 1);

    // Once it has expired: not found, so reloaded, and the new name and city show.
    tokio::time::sleep_until((std::time::Instant::now() + TTL + Duration::from_secs(1)).into())
        .await;
    assert_eq!(cache.get("user-cache-u-1").await?, None);
    assert_eq!(cache.scan().count().await?, 0);
    let fresh = ask("u-1").await?.expect("u-1 exists");
    assert_eq!(
        (fresh.name.as_str(), fresh.address.city.as_str()),
        ("Ada L.", "Cambridge")
    );
    let fresh = ask("u-1").await?.expect("u-1 exists");
    assert_eq!(fresh.name, "Ada L.");

    // A user that does not exist: a miss each time, and nothing is cached.
    assert_eq!(ask("u-9").await?, None);
    assert_eq!(ask("u-9").await?, None);
    assert_eq!(cache.get("user-cache-u-9").await?, None);
    assert_eq!(
        log,
        [
            Lookup::Miss,
            Lookup::Hit,
            Lookup::Miss,
            Lookup::Hit,
            Lookup::Miss,
            Lookup::Miss
        ]
    );
    // No housekeeping: expired entries are never read, and the store deletes them.
    println!("live cache entries: {}", cache.scan().count().await?);
    Ok(())
}
