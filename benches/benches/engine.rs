//! The embedded engine against raw baselines, measured side by side in one run.
//!
//! Run: `cargo bench -p kvs-benches` (add `-- --quick` for a short run). Prints a
//! markdown table; the ratios, not the absolute figures, are what to compare (the
//! machine is shared and noisy).

use std::collections::BTreeMap;

use kvs::{
    IndexSchema, Item, Key, KeyAttr, KeyValueStore, Kvs, Nested, Set, StoreSchema, Value, codec,
    item,
};
use kvs_benches::{Row, interleaved, print_table};
use rand::{Rng, SeedableRng, rngs::StdRng};
use redb::{Database, ReadableDatabase, TableDefinition};
use serde::{Deserialize, Serialize};

const RAW: TableDefinition<&[u8], &[u8]> = TableDefinition::new("raw");

fn user(i: usize) -> Item {
    item! {
        "id" => format!("user-{i:08}"),
        "name" => format!("User Number {i}"),
        "email" => format!("user{i}@example.com"),
        "age" => (i % 90) as i64,
        "score" => i as f64 / 7.0,
        "tags" => Value::string_set(["alpha", "beta"]),
        "address" => item! { "city" => "London", "country" => "UK", "zip" => "N1 9GU" },
    }
}

/// The same item as a model, for the typed get.
#[derive(KeyValueStore, Serialize, Deserialize, Debug)]
#[kvs(store = "users", partition_key = id)]
struct User {
    id: String,
    name: String,
    email: String,
    age: u32,
    score: f64,
    tags: Set<String>,
    address: Address,
}

#[derive(Nested, Serialize, Deserialize, Debug)]
struct Address {
    city: String,
    country: String,
    zip: String,
}

fn key(i: usize) -> Key {
    Key::new(format!("user-{i:08}"))
}

fn users_schema() -> StoreSchema {
    StoreSchema::new("users", KeyAttr::string("id"))
}

struct Args {
    quick: bool,
}

fn main() {
    let args = Args {
        quick: std::env::args().any(|a| a == "--quick"),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut rows = Vec::new();
    rows.extend(local_get_and_upsert(&args, &rt, dir.path()));
    rows.push(memory_get(&args, &rt));
    rows.push(index_query_scaling(&args, &rt));
    print_table(&rows);
}

/// The local file engine's get and upsert against raw redb reading and writing the same
/// key and value bytes (each upsert a durable commit on both sides).
fn local_get_and_upsert(
    args: &Args,
    rt: &tokio::runtime::Runtime,
    dir: &std::path::Path,
) -> Vec<Row> {
    let n = 10_000;
    let kvs = Kvs::open(dir.join("kvs.redb")).unwrap();
    rt.block_on(async {
        kvs.ensure_store(users_schema()).await.unwrap();
        kvs.upsert_many("users", (0..n).map(user)).await.unwrap();
    });
    let raw = Database::create(dir.join("raw.redb")).unwrap();
    let encoded: Vec<(Vec<u8>, Vec<u8>)> = (0..n)
        .map(|i| (codec::table_key(&key(i)), codec::encode_item(&user(i))))
        .collect();
    let txn = raw.begin_write().unwrap();
    {
        let mut t = txn.open_table(RAW).unwrap();
        for (k, v) in &encoded {
            t.insert(k.as_slice(), v.as_slice()).unwrap();
        }
    }
    txn.commit().unwrap();

    let mut rng = StdRng::seed_from_u64(7);
    let picks: Vec<usize> = (0..4096).map(|_| rng.random_range(0..n)).collect();
    let (rounds, per) = if args.quick { (5, 2_000) } else { (15, 20_000) };
    let (mut at, mut at_b) = (0, 0);
    let (kvs_get, raw_get) = interleaved(
        rounds,
        per,
        |ops| {
            rt.block_on(async {
                for _ in 0..ops {
                    at = (at + 1) % picks.len();
                    let got = kvs.get("users", key(picks[at])).await.unwrap();
                    std::hint::black_box(got);
                }
            })
        },
        |ops| {
            for _ in 0..ops {
                at_b = (at_b + 1) % picks.len();
                let (k, _) = &encoded[picks[at_b]];
                let txn = raw.begin_read().unwrap();
                let t = txn.open_table(RAW).unwrap();
                let got = t.get(k.as_slice()).unwrap().map(|v| v.value().to_vec());
                std::hint::black_box(got);
            }
        },
    );

    // The same read plus decoding the value bytes into an item: what a get must do.
    let (mut at_c, mut at_d) = (0, 0);
    let (kvs_get2, raw_decode_get) = interleaved(
        rounds,
        per,
        |ops| {
            rt.block_on(async {
                for _ in 0..ops {
                    at_c = (at_c + 1) % picks.len();
                    let got = kvs.get("users", key(picks[at_c])).await.unwrap();
                    std::hint::black_box(got);
                }
            })
        },
        |ops| {
            for _ in 0..ops {
                at_d = (at_d + 1) % picks.len();
                let (k, _) = &encoded[picks[at_d]];
                let txn = raw.begin_read().unwrap();
                let t = txn.open_table(RAW).unwrap();
                let got = t
                    .get(k.as_slice())
                    .unwrap()
                    .map(|v| codec::decode_item(v.value()).unwrap());
                std::hint::black_box(got);
            }
        },
    );

    // The typed get reads the stored bytes straight into the struct.
    let users = kvs.store::<User>();
    let (mut at_e, mut at_f) = (0, 0);
    let (typed_get, raw_get2) = interleaved(
        rounds,
        per,
        |ops| {
            rt.block_on(async {
                for _ in 0..ops {
                    at_e = (at_e + 1) % picks.len();
                    let got = users.get(format!("user-{:08}", picks[at_e])).await;
                    std::hint::black_box(got.unwrap().unwrap());
                }
            })
        },
        |ops| {
            for _ in 0..ops {
                at_f = (at_f + 1) % picks.len();
                let (k, _) = &encoded[picks[at_f]];
                let txn = raw.begin_read().unwrap();
                let t = txn.open_table(RAW).unwrap();
                let got = t.get(k.as_slice()).unwrap().map(|v| v.value().to_vec());
                std::hint::black_box(got);
            }
        },
    );

    let (rounds, per) = if args.quick { (3, 20) } else { (7, 100) };
    let (mut next, mut next_b) = (0, 0);
    let (kvs_put, raw_put) = interleaved(
        rounds,
        per,
        |ops| {
            rt.block_on(async {
                for _ in 0..ops {
                    next = (next + 1) % n;
                    kvs.upsert("users", user(next)).await.unwrap();
                }
            })
        },
        |ops| {
            for _ in 0..ops {
                next_b = (next_b + 1) % n;
                let (k, v) = &encoded[next_b];
                let txn = raw.begin_write().unwrap();
                txn.open_table(RAW)
                    .unwrap()
                    .insert(k.as_slice(), v.as_slice())
                    .unwrap();
                txn.commit().unwrap();
            }
        },
    );
    vec![
        Row {
            name: "local get (10k items, file)".into(),
            kvs: kvs_get,
            baseline: raw_get,
            baseline_name: "raw redb get, same bytes".into(),
            goal: ">= 0.8x".into(),
        },
        Row {
            name: "local get, typed (10k items, file)".into(),
            kvs: typed_get,
            baseline: raw_get2,
            baseline_name: "raw redb get, same bytes".into(),
            goal: ">= 0.8x".into(),
        },
        Row {
            name: "local get (10k items, file)".into(),
            kvs: kvs_get2,
            baseline: raw_decode_get,
            baseline_name: "raw redb get + decode into an Item".into(),
            goal: "engine overhead".into(),
        },
        Row {
            name: "local upsert (durable commit each)".into(),
            kvs: kvs_put,
            baseline: raw_put,
            baseline_name: "raw redb insert + commit, same bytes".into(),
            goal: ">= 0.8x".into(),
        },
    ]
}

/// The in-memory engine's get against a `BTreeMap` lookup plus clone of the item.
fn memory_get(args: &Args, rt: &tokio::runtime::Runtime) -> Row {
    let n = 10_000;
    let kvs = Kvs::memory();
    rt.block_on(async {
        kvs.ensure_store(users_schema()).await.unwrap();
        kvs.upsert_many("users", (0..n).map(user)).await.unwrap();
    });
    let map: BTreeMap<Vec<u8>, Item> = (0..n)
        .map(|i| (codec::table_key(&key(i)), user(i)))
        .collect();
    let mut rng = StdRng::seed_from_u64(9);
    let picks: Vec<usize> = (0..4096).map(|_| rng.random_range(0..n)).collect();
    let (rounds, per) = if args.quick { (5, 2_000) } else { (15, 20_000) };
    let (mut at, mut at_b) = (0, 0);
    let (kvs_get, map_get) = interleaved(
        rounds,
        per,
        |ops| {
            rt.block_on(async {
                for _ in 0..ops {
                    at = (at + 1) % picks.len();
                    std::hint::black_box(kvs.get("users", key(picks[at])).await.unwrap());
                }
            })
        },
        |ops| {
            for _ in 0..ops {
                at_b = (at_b + 1) % picks.len();
                let k = codec::table_key(&key(picks[at_b]));
                std::hint::black_box(map.get(&k).cloned());
            }
        },
    );
    Row {
        name: "memory get (10k items)".into(),
        kvs: kvs_get,
        baseline: map_get,
        baseline_name: "BTreeMap get + clone".into(),
        goal: "report".into(),
    }
}

fn order(i: usize) -> Item {
    item! {
        "orderId" => format!("o-{i:09}"),
        "group" => format!("g-{:06}", i / 100),
        "rank" => (i % 100) as i64,
        "total" => (i % 1000) as f64 * 1.5,
    }
}

/// A 100-item index query with 10,000 items stored against the same query with
/// 1,000,000 stored (two local file stores).
fn index_query_scaling(args: &Args, rt: &tokio::runtime::Runtime) -> Row {
    let schema = StoreSchema::new("orders", KeyAttr::string("orderId")).index(
        IndexSchema::new("byGroup", KeyAttr::string("group")).sort_key(KeyAttr::number("rank")),
    );
    let large_n = if args.quick { 200_000 } else { 1_000_000 };
    let load = |n: usize| {
        let kvs = Kvs::memory();
        rt.block_on(async {
            kvs.ensure_store(schema.clone()).await.unwrap();
            let mut batch = Vec::with_capacity(10_000);
            for i in 0..n {
                batch.push(order(i));
                if batch.len() == 10_000 {
                    kvs.upsert_many("orders", std::mem::take(&mut batch))
                        .await
                        .unwrap();
                }
            }
            if !batch.is_empty() {
                kvs.upsert_many("orders", batch).await.unwrap();
            }
        });
        kvs
    };
    let small = load(10_000);
    let large = load(large_n);
    let mut rng = StdRng::seed_from_u64(11);
    let (rounds, per) = if args.quick { (5, 100) } else { (15, 500) };
    let query = |kvs: &Kvs, groups: usize, rng: &mut StdRng, ops: usize| {
        rt.block_on(async {
            for _ in 0..ops {
                let g = format!("g-{:06}", rng.random_range(0..groups));
                let page = kvs
                    .query("orders", g)
                    .index("byGroup")
                    .limit(100)
                    .await
                    .unwrap();
                assert_eq!(page.items.len(), 100);
                std::hint::black_box(page);
            }
        })
    };
    let mut rng2 = StdRng::seed_from_u64(12);
    let (large_q, small_q) = interleaved(
        rounds,
        per,
        |ops| query(&large, large_n / 100, &mut rng, ops),
        |ops| query(&small, 100, &mut rng2, ops),
    );
    Row {
        name: format!("index query, 100 items, {large_n} stored"),
        kvs: large_q,
        baseline: small_q,
        baseline_name: "same query, 10,000 stored".into(),
        goal: ">= 0.67x (at most 1.5x slower)".into(),
    }
}
