//! Conformance cases of a model whose items expire (`#[kvs(ttl = field)]`).

// The derive gives every field an accessor, and a case uses only some of them.
#![allow(dead_code)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;

/// A cache entry that expires at `expires_at` (renamed, as serde stores it).
#[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
#[kvs(store = "typed_rt_expiring", partition_key = key, ttl = expires_at)]
struct RtCached {
    key: String,
    value: String,
    #[serde(rename = "expiresAt")]
    expires_at: Option<SystemTime>,
}

fn whole_seconds(t: SystemTime) -> SystemTime {
    let secs = t.duration_since(UNIX_EPOCH).unwrap().as_secs();
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn cached(key: &str, expires_at: Option<SystemTime>) -> RtCached {
    RtCached {
        key: key.into(),
        value: format!("value of {key}"),
        expires_at,
    }
}

/// A model's expiry field makes its items expire: stored as whole seconds since the
/// epoch (rounded up) under the field's name, read back as that time; an entry whose
/// time has passed is not read by get, get_many, query or scan, and an insert over it
/// succeeds; an entry without a time never expires.
pub async fn typed_rt_expiry(kvs: Kvs) {
    let store = fresh_typed_store::<RtCached>(&kvs).await;
    let now = SystemTime::now();
    let later = whole_seconds(now) + Duration::from_secs(3600);
    let live = cached("live", Some(later));
    let forever = cached("forever", None);
    let gone = cached("gone", Some(now - Duration::from_secs(120)));
    store.upsert(&live).await.unwrap();
    store.upsert(&forever).await.unwrap();
    store.upsert(&gone).await.unwrap();

    assert_eq!(store.get("live").await.unwrap(), Some(live.clone()));
    assert_eq!(store.get("forever").await.unwrap(), Some(forever.clone()));
    assert_eq!(store.get("gone").await.unwrap(), None);
    let many = store.get_many(["gone", "live"]).await.unwrap();
    assert_eq!(many, vec![None, Some(live.clone())]);
    let mut all: Vec<RtCached> = store.scan().stream().try_collect().await.unwrap();
    all.sort_by(|a, b| a.key.cmp(&b.key));
    assert_eq!(all, vec![forever.clone(), live.clone()]);
    assert_eq!(store.scan().count().await.unwrap(), 2);
    assert_eq!(
        store
            .query(RtCached::partition("gone"))
            .count()
            .await
            .unwrap(),
        0
    );

    // As stored: a number of seconds under the field's stored name; none without a time.
    let raw = kvs.get(store.name(), "live").await.unwrap().unwrap();
    let secs = later.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    assert_eq!(raw.get("expiresAt"), Some(&Value::from(secs)));
    let raw = kvs.get(store.name(), "forever").await.unwrap().unwrap();
    assert_eq!(raw.get("expiresAt"), None);

    // A time within a second is rounded up: never expired early.
    let odd = later + Duration::from_millis(250);
    store.upsert(&cached("odd", Some(odd))).await.unwrap();
    let read = store.get("odd").await.unwrap().unwrap();
    assert_eq!(read.expires_at, Some(later + Duration::from_secs(1)));

    // An insert over an expired entry succeeds; an update of one is NotFound.
    let fresh = cached("gone", Some(later));
    store
        .insert(&fresh)
        .await
        .expect("an insert over an expired entry");
    assert_eq!(store.get("gone").await.unwrap(), Some(fresh));
    store
        .upsert(&cached("stale", Some(now - Duration::from_secs(5))))
        .await
        .unwrap();
    let f = RtCached::fields();
    expect_kind(
        store.update("stale").set(f.value(), "new".to_owned()).await,
        ErrorKind::NotFound,
    );
}
