//! Key types and value conversions: number, bytes and enum keys, composite keys of any
//! order, and plain values where an `Option` field is set or compared.

use kvs::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Nested, Serialize, Deserialize, Clone, Debug, PartialEq)]
enum Region {
    Eu,
    Us,
}

#[derive(KeyValueStore, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kvs(store = "readings", partition_key = sensor, sort_key = at)]
#[kvs(index(name = "byRegion", partition_key = region, sort_key = value))]
struct Reading {
    sensor: i64,
    at: String,
    region: Region,
    value: f64,
    note: Option<String>,
    count: Option<i64>,
    raw: Bytes,
}

#[derive(KeyValueStore, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kvs(store = "blobs", partition_key = digest)]
struct Blob {
    digest: Bytes,
    size: u32,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> kvs::Result<()> {
    let kvs = Kvs::memory();
    let readings = kvs.store::<Reading>();
    let blobs = kvs.store::<Blob>();
    readings.ensure().await?;
    blobs.ensure().await?;
    let f = Reading::fields();

    let r = Reading {
        sensor: 7,
        at: "2026-11-26T00:00".into(),
        region: Region::Eu,
        value: 21.5,
        note: None,
        count: None,
        raw: Bytes(vec![0, 1, 255]),
    };
    readings.insert(&r).await?;
    assert_eq!(
        readings.get((7, "2026-11-26T00:00")).await?,
        Some(r.clone())
    );
    assert_eq!(readings.get(r.key()).await?, Some(r.clone()));

    // Plain values where an Option is set; integer literals where i64 and f64 are held.
    let r2 = readings
        .update((7, "2026-11-26T00:00"))
        .set(f.note(), "calibrated")
        .add(f.count(), 2)
        .set(f.value(), 22)
        .when(f.count().not_exists().and(f.value().lt(30)))
        .await?;
    assert_eq!(r2.note.as_deref(), Some("calibrated"));
    assert_eq!(r2.count, Some(2));
    assert_eq!(r2.value, 22.0);

    // An enum as an index partition key, a float sort key.
    let eu = readings
        .query(Reading::by_region(Region::Eu).sort_between(20, 25.5))
        .await?;
    assert_eq!(eu.items.len(), 1);
    assert!(
        readings
            .query(Reading::by_region(Region::Us))
            .await?
            .items
            .is_empty()
    );
    let later = readings
        .query(Reading::partition(7).sort_gt("2026"))
        .await?;
    assert_eq!(later.items.len(), 1);

    // Bytes keys.
    let b = Blob {
        digest: Bytes(vec![0xde, 0xad]),
        size: 2,
    };
    blobs.upsert(&b).await?;
    assert_eq!(blobs.get(vec![0xde_u8, 0xad]).await?, Some(b));
    Ok(())
}
