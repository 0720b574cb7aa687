//! The whole conformance suite on the durable local file engine.

/// A store in a fresh file of its own. The file is unlinked once open: the engine keeps
/// using it, and nothing is left behind when the test ends.
async fn kvs() -> kvs::Kvs {
    let path = std::env::temp_dir().join(format!(
        "{}.redb",
        kvs::conformance::fresh_name("kvs-conformance")
    ));
    let kvs = kvs::Kvs::open(&path).expect("open a local store");
    std::fs::remove_file(&path).expect("unlink the store file");
    kvs
}

// Each write waits for the disk: fewer random inputs than in memory.
kvs::conformance_tests!(kvs, random = kvs::conformance::Random::cases(16));

/// The embedded engine reclaims expired items itself: a write of the store deletes those
/// due (found by its expiry table, no scan), so that the backend no longer holds them.
#[tokio::test]
async fn expired_items_are_reclaimed_by_writes() {
    use kvs::{Key, KeyAttr, StoreSchema, item};
    let schema = StoreSchema::new("sessions", KeyAttr::string("id")).ttl("exp");
    let secs = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    };
    // Every write reclaims what has expired, so the five must all be written before
    // their second begins (else a later write of the set-up reclaims an earlier one):
    // on a slow disk, set up again in a fresh file rather than let the clock decide.
    let mut attempts = 0;
    let (dir, kvs, soon) = loop {
        let dir = tempfile::tempdir().unwrap();
        let kvs = kvs::Kvs::open(dir.path().join("expiry.redb")).unwrap();
        kvs.ensure_store(schema.clone()).await.unwrap();
        let now = secs();
        let soon = now + 2;
        for i in 0..5 {
            kvs.upsert("sessions", item! { "id" => format!("s{i}"), "exp" => soon })
                .await
                .unwrap();
        }
        kvs.upsert("sessions", item! { "id" => "kept", "exp" => now + 3600 })
            .await
            .unwrap();
        if secs() < soon {
            break (dir, kvs, soon);
        }
        attempts += 1;
        assert!(
            attempts < 5,
            "six durable writes took over a second, five times"
        );
    };
    while secs() <= soon {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Expired, still stored: the backend (below the handle, which hides them) has them.
    let held = kvs.backend().get(&schema, &Key::new("s0")).await.unwrap();
    assert!(held.is_some());
    // One write reclaims them all (five, within the per-write budget).
    kvs.upsert("sessions", item! { "id" => "other" })
        .await
        .unwrap();
    for i in 0..5 {
        let key = Key::new(format!("s{i}"));
        assert!(kvs.backend().get(&schema, &key).await.unwrap().is_none());
    }
    let kept = kvs.backend().get(&schema, &Key::new("kept")).await.unwrap();
    assert!(kept.is_some());
    // The file keeps the expiry: opened again, it still hides and reclaims.
    drop(kvs);
    let kvs = kvs::Kvs::open(dir.path().join("expiry.redb")).unwrap();
    assert_eq!(kvs.schema("sessions").unwrap().ttl.as_deref(), Some("exp"));
}
