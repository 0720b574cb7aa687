//! The embedded engine against raw baselines, measured side by side in one run.
//!
//! Run: `cargo bench -p kvs-benches --bench engine`. Flags (after `--`): `--quick`, a
//! short run; `--no-callgrind`, skip the instruction counts; `--callgrind-only`, them
//! alone; `--callgrind-dir DIR`, keep callgrind's files for `callgrind_annotate`;
//! `--callgrind MODE N`, one count alone (MODE as in the table, such as `kvs-get-user`);
//! `--writes`, the durable write rows alone (their fsyncs make them the noisiest: run
//! them again on a quiet disk).
//! It prints two markdown tables:
//!
//! 1. Throughput, kvs against its baseline, in many short rounds each running both sides
//!    (`interleaved_paired`): the ratio is the median of the per-round ratios, which
//!    cancels most of the drift of a shared, noisy machine. Read the ratios, not the
//!    absolute figures.
//! 2. Instructions per get, counted by `valgrind --tool=callgrind` (repeatable under
//!    load): one process per mode (this binary with `--callgrind-client MODE N DIR`)
//!    opens the stores written beforehand, warms every mode up, then does `N` gets; a
//!    run doing the same without the `N` gets is subtracted.
//!
//! Each get is measured on two item shapes, so that the table shows how the ratio
//! depends on the item: `user`, 7 attributes (three strings, an integer, a float, a
//! 2-string set and a nested map of 3 strings), and `small`, 3 short attributes (two
//! strings and an integer). The raw redb baseline reads the same key bytes from a table of
//! the same value bytes and copies the value out, as a get must (the read transaction
//! ends before the get returns). Keys are formatted before the measurement on both
//! sides; kvs still builds its `Key` and encodes it on every get.

use std::collections::BTreeMap;
use std::future::IntoFuture as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use kvs::{
    IndexSchema, Item, Key, KeyAttr, KeyValueStore, Kvs, Store, StoreSchema, Value, codec, item,
};
use kvs_benches::user::User;
use kvs_benches::{Paired, Row, interleaved_paired, print_table};
use rand::{Rng, SeedableRng, rngs::StdRng};
use redb::{Database, ReadableDatabase, TableDefinition};
use serde::{Deserialize, Serialize};

/// Items in each store of the get benchmarks.
const ITEMS: usize = 10_000;

/// The item shapes the gets are measured on.
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    User,
    Small,
}

impl Shape {
    const ALL: [Shape; 2] = [Shape::User, Shape::Small];

    fn id(self) -> &'static str {
        match self {
            Shape::User => "user",
            Shape::Small => "small",
        }
    }

    /// The store (and raw redb table) of the shape.
    fn store(self) -> &'static str {
        match self {
            Shape::User => "users",
            Shape::Small => "smalls",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Shape::User => "7 attributes, nested map, set",
            Shape::Small => "3 short attributes",
        }
    }

    fn key(self, i: usize) -> String {
        match self {
            Shape::User => format!("user-{i:08}"),
            Shape::Small => format!("s-{i:06}"),
        }
    }

    fn item(self, i: usize) -> Item {
        match self {
            Shape::User => item! {
                "id" => self.key(i),
                "name" => format!("User Number {i}"),
                "email" => format!("user{i}@example.com"),
                "age" => (i % 90) as i64,
                "score" => i as f64 / 7.0,
                "tags" => Value::string_set(["alpha", "beta"]),
                "address" => item! { "city" => "London", "country" => "UK", "zip" => "N1 9GU" },
            },
            Shape::Small => item! {
                "id" => self.key(i),
                "kind" => "small",
                "count" => (i % 100) as i64,
            },
        }
    }

    fn schema(self) -> StoreSchema {
        StoreSchema::new(self.store(), KeyAttr::string("id"))
    }

    fn table(self) -> TableDefinition<'static, &'static [u8], &'static [u8]> {
        TableDefinition::new(self.store())
    }

    /// The raw redb table of the hand-written baseline: the model, postcard-encoded.
    fn hand_table(self) -> TableDefinition<'static, &'static [u8], &'static [u8]> {
        TableDefinition::new(match self {
            Shape::User => "users-postcard",
            Shape::Small => "smalls-postcard",
        })
    }

    /// The `i`th item as the hand-written baseline stores it.
    fn hand_bytes(self, i: usize) -> Vec<u8> {
        match self {
            Shape::User => postcard::to_allocvec(&HandUser::from(
                kvs::from_item::<User>(self.item(i)).unwrap(),
            )),
            Shape::Small => postcard::to_allocvec(&kvs::from_item::<Small>(self.item(i)).unwrap()),
        }
        .unwrap()
    }
}

/// The user as hand-written code would store it with a serde binary format: the same
/// fields as `User`, with a plain `BTreeSet` for kvs's `Set` (whose serde form is made
/// for kvs's own formats: an empty set is a missing attribute).
#[derive(Serialize, Deserialize)]
struct HandUser {
    id: String,
    name: String,
    email: String,
    age: u32,
    score: f64,
    tags: std::collections::BTreeSet<String>,
    address: kvs_benches::user::Address,
}

impl From<User> for HandUser {
    fn from(u: User) -> Self {
        HandUser {
            id: u.id,
            name: u.name,
            email: u.email,
            age: u.age,
            score: u.score,
            tags: u.tags.into_iter().collect(),
            address: u.address,
        }
    }
}

/// The small item as a model.
#[derive(KeyValueStore, Serialize, Deserialize, Debug, Clone)]
#[kvs(store = "smalls", partition_key = id)]
struct Small {
    id: String,
    kind: String,
    count: u32,
}

/// One way of reading an item by key, measured against the others; and, for the
/// instruction counts, what the parts of a get cost on their own.
#[derive(Clone, Copy)]
enum Get {
    /// Raw redb: a read transaction, the table opened, the value bytes copied out.
    Raw,
    /// Raw redb, the value decoded into an `Item`.
    RawDecode,
    /// `Kvs::get`, into an `Item`.
    Dynamic,
    /// `Store::<M>::get`, into the model.
    Typed,
    /// Raw redb in one read transaction and table kept open (as kvs keeps them between
    /// writes): the lookup and the copy alone.
    RawReused,
    /// A clone of the item as an `Item`, then its drop: the least any decode into an
    /// `Item` costs (the same allocations, no parsing).
    ItemClone,
    /// A clone of the item as its model, then its drop: the same for a typed get.
    ModelClone,
    /// What a user would write by hand instead of kvs: raw redb (a read transaction, the
    /// table opened) and the model decoded with postcard, a well-kept serde binary
    /// format.
    Hand,
    /// The same by hand, in one read transaction and table kept open (as the floor):
    /// how near to the floor a non-self-describing format gets.
    HandReused,
}

impl Shape {
    /// What the hand-written read does with the bytes: postcard into the struct, which
    /// is then dropped.
    fn decode_by_hand(self, bytes: &[u8]) {
        match self {
            Shape::User => drop(std::hint::black_box(
                postcard::from_bytes::<HandUser>(bytes).unwrap(),
            )),
            Shape::Small => drop(std::hint::black_box(
                postcard::from_bytes::<Small>(bytes).unwrap(),
            )),
        }
    }
}

impl Get {
    const ALL: [Get; 9] = [
        Get::Raw,
        Get::RawDecode,
        Get::Dynamic,
        Get::Typed,
        Get::RawReused,
        Get::ItemClone,
        Get::ModelClone,
        Get::Hand,
        Get::HandReused,
    ];

    fn id(self) -> &'static str {
        match self {
            Get::Raw => "raw-get",
            Get::RawDecode => "raw-decode",
            Get::Dynamic => "kvs-get",
            Get::Typed => "typed-get",
            Get::RawReused => "raw-get-reused",
            Get::ItemClone => "item-clone",
            Get::ModelClone => "model-clone",
            Get::Hand => "hand-postcard",
            Get::HandReused => "hand-postcard-reused",
        }
    }
}

/// The local file stores of the get benchmarks: kvs's and raw redb's, holding the same
/// key and value bytes.
struct Files {
    kvs: Kvs,
    raw: Database,
    users: Store<User>,
    smalls: Store<Small>,
    /// Per shape (in `Shape::ALL` order): each item's key, as text and encoded.
    keys: [Vec<(String, Vec<u8>)>; 2],
    /// The item indexes to read, in order, the same on every side.
    picks: Vec<usize>,
    /// Per shape: the items, for the clones.
    items: [Vec<Item>; 2],
    user_models: Vec<User>,
    small_models: Vec<Small>,
}

impl Files {
    fn kvs_path(dir: &Path) -> PathBuf {
        dir.join("kvs.redb")
    }

    fn raw_path(dir: &Path) -> PathBuf {
        dir.join("raw.redb")
    }

    /// Writes both stores in `dir`.
    fn create(dir: &Path, rt: &tokio::runtime::Runtime) {
        let kvs = Kvs::open(Self::kvs_path(dir)).unwrap();
        let raw = Database::create(Self::raw_path(dir)).unwrap();
        for shape in Shape::ALL {
            rt.block_on(async {
                kvs.ensure_store(shape.schema()).await.unwrap();
                kvs.upsert_many(shape.store(), (0..ITEMS).map(|i| shape.item(i)))
                    .await
                    .unwrap();
            });
            let txn = raw.begin_write().unwrap();
            {
                let mut t = txn.open_table(shape.table()).unwrap();
                for i in 0..ITEMS {
                    let k = codec::table_key(&Key::new(shape.key(i)));
                    let v = codec::encode_item(&shape.item(i));
                    t.insert(k.as_slice(), v.as_slice()).unwrap();
                }
                let mut hand = txn.open_table(shape.hand_table()).unwrap();
                for i in 0..ITEMS {
                    let k = codec::table_key(&Key::new(shape.key(i)));
                    hand.insert(k.as_slice(), shape.hand_bytes(i).as_slice())
                        .unwrap();
                }
            }
            txn.commit().unwrap();
        }
    }

    /// Opens the stores `create` wrote.
    fn open(dir: &Path) -> Files {
        let kvs = Kvs::open(Self::kvs_path(dir)).unwrap();
        let raw = Database::open(Self::raw_path(dir)).unwrap();
        let keys = Shape::ALL.map(|shape| {
            (0..ITEMS)
                .map(|i| {
                    let k = shape.key(i);
                    let encoded = codec::table_key(&Key::new(k.as_str()));
                    (k, encoded)
                })
                .collect()
        });
        let items = Shape::ALL.map(|shape| (0..ITEMS).map(|i| shape.item(i)).collect());
        let [users, smalls]: [Vec<Item>; 2] = items.clone();
        let mut rng = StdRng::seed_from_u64(7);
        Files {
            items,
            user_models: users
                .into_iter()
                .map(|i| kvs::from_item(i).unwrap())
                .collect(),
            small_models: smalls
                .into_iter()
                .map(|i| kvs::from_item(i).unwrap())
                .collect(),
            users: kvs.store::<User>(),
            smalls: kvs.store::<Small>(),
            kvs,
            raw,
            keys,
            picks: (0..4096).map(|_| rng.random_range(0..ITEMS)).collect(),
        }
    }

    /// Does `n` gets of one kind on one shape, from position `*at` of the picks on.
    fn run(&self, rt: &tokio::runtime::Runtime, get: Get, shape: Shape, at: &mut usize, n: usize) {
        let keys = &self.keys[shape as usize];
        let mut next = || {
            *at = (*at + 1) % self.picks.len();
            self.picks[*at]
        };
        match get {
            Get::Raw => {
                for _ in 0..n {
                    let (_, k) = &keys[next()];
                    let txn = self.raw.begin_read().unwrap();
                    let t = txn.open_table(shape.table()).unwrap();
                    let got = t.get(k.as_slice()).unwrap().map(|v| v.value().to_vec());
                    std::hint::black_box(got.unwrap());
                }
            }
            Get::RawDecode => {
                for _ in 0..n {
                    let (_, k) = &keys[next()];
                    let txn = self.raw.begin_read().unwrap();
                    let t = txn.open_table(shape.table()).unwrap();
                    let got = t
                        .get(k.as_slice())
                        .unwrap()
                        .map(|v| codec::decode_item(v.value()).unwrap());
                    std::hint::black_box(got.unwrap());
                }
            }
            Get::Dynamic => rt.block_on(async {
                for _ in 0..n {
                    let (k, _) = &keys[next()];
                    let got = self.kvs.get(shape.store(), k.as_str()).await.unwrap();
                    std::hint::black_box(got.unwrap());
                }
            }),
            Get::RawReused => {
                let txn = self.raw.begin_read().unwrap();
                let t = txn.open_table(shape.table()).unwrap();
                for _ in 0..n {
                    let (_, k) = &keys[next()];
                    let got = t.get(k.as_slice()).unwrap().map(|v| v.value().to_vec());
                    std::hint::black_box(got.unwrap());
                }
            }
            Get::Hand => {
                for _ in 0..n {
                    let (_, k) = &keys[next()];
                    let txn = self.raw.begin_read().unwrap();
                    let t = txn.open_table(shape.hand_table()).unwrap();
                    let got = t.get(k.as_slice()).unwrap().unwrap();
                    shape.decode_by_hand(got.value());
                }
            }
            Get::HandReused => {
                let txn = self.raw.begin_read().unwrap();
                let t = txn.open_table(shape.hand_table()).unwrap();
                for _ in 0..n {
                    let (_, k) = &keys[next()];
                    let got = t.get(k.as_slice()).unwrap().unwrap();
                    shape.decode_by_hand(got.value());
                }
            }
            Get::ItemClone => {
                let items = &self.items[shape as usize];
                for _ in 0..n {
                    std::hint::black_box(items[next()].clone());
                }
            }
            Get::ModelClone => {
                for _ in 0..n {
                    let i = next();
                    match shape {
                        Shape::User => drop(std::hint::black_box(self.user_models[i].clone())),
                        Shape::Small => drop(std::hint::black_box(self.small_models[i].clone())),
                    }
                }
            }
            Get::Typed => rt.block_on(async {
                for _ in 0..n {
                    let (k, _) = &keys[next()];
                    match shape {
                        Shape::User => {
                            let got = self.users.get(k.as_str()).await.unwrap();
                            std::hint::black_box(got.unwrap());
                        }
                        Shape::Small => {
                            let got = self.smalls.get(k.as_str()).await.unwrap();
                            std::hint::black_box(got.unwrap());
                        }
                    }
                }
            }),
        }
    }
}

struct Args {
    quick: bool,
    /// Only the durable write rows.
    writes: bool,
    wall: bool,
    callgrind: bool,
    callgrind_dir: Option<PathBuf>,
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let flag = |f: &str| argv.iter().any(|a| a == f);
    let position = |f: &str| argv.iter().position(|a| a == f);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    if let Some(p) = position("--callgrind-client") {
        let n = argv[p + 2].parse().expect("a number of gets");
        return callgrind_client(&rt, &argv[p + 1], n, Path::new(&argv[p + 3]));
    }
    let args = Args {
        quick: flag("--quick"),
        writes: flag("--writes"),
        wall: !flag("--callgrind-only"),
        callgrind: !flag("--no-callgrind") && !flag("--writes"),
        callgrind_dir: position("--callgrind-dir").map(|p| argv[p + 1].clone().into()),
    };
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    Files::create(dir.path(), &rt);
    if let Some(p) = position("--callgrind") {
        let n = argv[p + 2].parse().expect("a number of gets");
        return callgrind(&args, dir.path(), Some((&argv[p + 1], n)));
    }
    if args.wall {
        let mut rows = Vec::new();
        {
            let files = Files::open(dir.path());
            if !args.writes {
                for shape in Shape::ALL {
                    rows.extend(local_gets(&args, &rt, &files, shape));
                }
            }
            rows.push(local_upsert(&args, &rt, &files));
            rows.extend(group_commit(&args, &files));
        }
        if !args.writes {
            rows.push(memory_get(&args, &rt));
            rows.push(sealed_pages(&args, &rt));
            rows.push(index_query_scaling(&args, &rt, dir.path()));
        }
        println!("### Throughput\n");
        print_table(&rows);
    }
    if args.callgrind {
        callgrind(&args, dir.path(), None);
    }
    eprintln!("\ntook {:.0?}", started.elapsed());
}

/// Rounds, and operations per round, of a get: many short rounds (a few ms a side), so
/// that pairing them cancels the drift of the machine's load.
fn get_plan(args: &Args) -> (usize, usize) {
    if args.quick {
        (21, 1_000)
    } else {
        (101, 2_000)
    }
}

fn row(name: String, m: Paired, baseline_name: &str, goal: &str) -> Row {
    Row {
        name,
        kvs: 1.0 / m.a,
        baseline: 1.0 / m.b,
        ratio: 1.0 / m.ratio,
        baseline_name: baseline_name.into(),
        goal: goal.into(),
    }
}

/// What sealing page tokens costs: the second page of 20 of a partition, read with the
/// first page's token, on the in-memory store with a page token key against the same
/// handle without one (each side opens one token and makes one).
fn sealed_pages(args: &Args, rt: &tokio::runtime::Runtime) -> Row {
    let schema = StoreSchema::new("pages", KeyAttr::string("pk")).sort_key(KeyAttr::number("n"));
    let backend = kvs::local::LocalBackend::memory();
    let clear = Kvs::builder(backend.clone())
        .store(schema.clone())
        .build()
        .unwrap();
    let sealed = Kvs::builder(backend)
        .page_token_key(*b"a page token key of 32 bytes!!!!")
        .store(schema.clone())
        .build()
        .unwrap();
    let page = |kvs: &Kvs| {
        let kvs = kvs.clone();
        let token = rt
            .block_on(kvs.query("pages", "tenant-1").limit(20).into_future())
            .unwrap()
            .next_page_token
            .expect("a second page");
        (kvs, token)
    };
    rt.block_on(async {
        clear.ensure_store(schema.clone()).await.unwrap();
        clear
            .upsert_many(
                "pages",
                (0..100).map(|n| item! { "pk" => "tenant-1", "n" => n }),
            )
            .await
            .unwrap();
    });
    let (a, a_token) = page(&sealed);
    let (b, b_token) = page(&clear);
    let (rounds, _) = get_plan(args);
    let second = |kvs: &Kvs, token: &kvs::PageToken| {
        let got = rt
            .block_on(
                kvs.query("pages", "tenant-1")
                    .limit(20)
                    .page_token(token.clone())
                    .into_future(),
            )
            .unwrap();
        std::hint::black_box(got.next_page_token.expect("a third page"));
    };
    let m = interleaved_paired(
        rounds,
        200,
        |ops| (0..ops).for_each(|_| second(&a, &a_token)),
        |ops| (0..ops).for_each(|_| second(&b, &b_token)),
    );
    row(
        "memory query page of 20 with a page token key (a token opened and one sealed)".into(),
        m,
        "the same without a key (tokens in the clear)",
        "report",
    )
}

/// The local file engine's gets of one item shape: dynamic and typed against raw redb
/// reading the same bytes, and dynamic against raw redb plus the same decode.
fn local_gets(args: &Args, rt: &tokio::runtime::Runtime, files: &Files, shape: Shape) -> Vec<Row> {
    let (rounds, per) = get_plan(args);
    let pair = |a: Get, b: Get| {
        let (mut at_a, mut at_b) = (0, 0);
        interleaved_paired(
            rounds,
            per,
            |n| files.run(rt, a, shape, &mut at_a, n),
            |n| files.run(rt, b, shape, &mut at_b, n),
        )
    };
    let what = format!("{ITEMS} items, file, {}", shape.label());
    vec![
        row(
            format!("local get ({what})"),
            pair(Get::Dynamic, Get::Raw),
            "raw redb get, same bytes",
            ">= 0.8x",
        ),
        row(
            format!("local get, typed ({what})"),
            pair(Get::Typed, Get::Raw),
            "raw redb get, same bytes",
            ">= 0.8x",
        ),
        row(
            format!("local get, typed ({what})"),
            pair(Get::Typed, Get::Hand),
            "by hand: redb get + postcard into the same struct",
            ">= 1.0x",
        ),
        row(
            format!("local get ({what})"),
            pair(Get::Dynamic, Get::RawDecode),
            "raw redb get + decode into an Item",
            "engine overhead",
        ),
    ]
}

/// The local file engine's upsert against raw redb writing the same key and value
/// bytes, each a durable commit on both sides. Both write over the items the get
/// benchmarks read, with the same values.
fn local_upsert(args: &Args, rt: &tokio::runtime::Runtime, files: &Files) -> Row {
    let shape = Shape::User;
    let encoded: Vec<Vec<u8>> = (0..ITEMS)
        .map(|i| codec::encode_item(&shape.item(i)))
        .collect();
    let (rounds, per) = if args.quick { (5, 20) } else { (15, 50) };
    let (mut next, mut next_b) = (0, 0);
    let m = interleaved_paired(
        rounds,
        per,
        |ops| {
            rt.block_on(async {
                for _ in 0..ops {
                    next = (next + 1) % ITEMS;
                    files
                        .kvs
                        .upsert(shape.store(), shape.item(next))
                        .await
                        .unwrap();
                }
            })
        },
        |ops| {
            for _ in 0..ops {
                next_b = (next_b + 1) % ITEMS;
                let (_, k) = &files.keys[shape as usize][next_b];
                let v = &encoded[next_b];
                let txn = files.raw.begin_write().unwrap();
                txn.open_table(shape.table())
                    .unwrap()
                    .insert(k.as_slice(), v.as_slice())
                    .unwrap();
                txn.commit().unwrap();
            }
        },
    );
    row(
        "local upsert, 1 task (durable commit each)".into(),
        m,
        "raw redb insert + commit, same bytes",
        "report",
    )
}

/// Tasks writing at once in the group commit rows.
const WRITERS: usize = 8;

/// Group commit: `WRITERS` tasks each upserting in a loop on the local file (their
/// writes share commits) against one task doing the same writes, and against raw redb
/// committing each write (which concurrent threads cannot speed up: redb has one write
/// transaction at a time, and each commit waits for its fsync).
fn group_commit(args: &Args, files: &Files) -> Vec<Row> {
    let shape = Shape::User;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let items: Vec<Item> = (0..ITEMS).map(|i| shape.item(i)).collect();
    let encoded: Vec<Vec<u8>> = items.iter().map(codec::encode_item).collect();
    let (rounds, per) = if args.quick { (5, 64) } else { (15, 160) };
    let mut next = 0;
    // `ops` upserts, by `tasks` tasks taking turns at the items.
    let mut kvs_upserts = |tasks: usize, ops: usize| {
        let first = next;
        next = (next + ops) % ITEMS;
        rt.block_on(async {
            let writers = (0..tasks).map(|t| {
                let (kvs, items) = (&files.kvs, &items);
                async move {
                    for i in (t..ops).step_by(tasks) {
                        let item = items[(first + i) % ITEMS].clone();
                        kvs.upsert(shape.store(), item).await.unwrap();
                    }
                }
            });
            futures::future::join_all(writers).await;
        })
    };
    let mut next_raw = 0;
    let mut raw_upserts = |ops: usize| {
        for _ in 0..ops {
            next_raw = (next_raw + 1) % ITEMS;
            let (_, k) = &files.keys[shape as usize][next_raw];
            let txn = files.raw.begin_write().unwrap();
            txn.open_table(shape.table())
                .unwrap()
                .insert(k.as_slice(), encoded[next_raw].as_slice())
                .unwrap();
            txn.commit().unwrap();
        }
    };
    let against_one = {
        let kvs_upserts = std::cell::RefCell::new(&mut kvs_upserts);
        interleaved_paired(
            rounds,
            per,
            |ops| (kvs_upserts.borrow_mut())(WRITERS, ops),
            |ops| (kvs_upserts.borrow_mut())(1, ops),
        )
    };
    let against_raw = interleaved_paired(
        rounds,
        per,
        |ops| kvs_upserts(WRITERS, ops),
        &mut raw_upserts,
    );
    // The engine's write path before group commit, on raw redb: the transaction made
    // on the task, its commit (the fsync) handed to a blocking thread while the task
    // waits. (Without kvs's own work, so a little faster than that engine was.)
    let mut handed_over = |ops: usize| {
        rt.block_on(async {
            for _ in 0..ops {
                next_raw = (next_raw + 1) % ITEMS;
                let (_, k) = &files.keys[shape as usize][next_raw];
                let txn = files.raw.begin_write().unwrap();
                txn.open_table(shape.table())
                    .unwrap()
                    .insert(k.as_slice(), encoded[next_raw].as_slice())
                    .unwrap();
                tokio::task::spawn_blocking(move || txn.commit().unwrap())
                    .await
                    .unwrap();
            }
        })
    };
    let one_against_before =
        interleaved_paired(rounds, per, |ops| kvs_upserts(1, ops), &mut handed_over);
    vec![
        row(
            "local upsert, 1 task (group commit, alone)".into(),
            one_against_before,
            "raw redb, commit on a blocking thread (the path before)",
            ">= 0.91x (latency <= 1.1x)",
        ),
        row(
            format!("local upsert, {WRITERS} tasks at once (group commit)"),
            against_one,
            "kvs, 1 task, same writes",
            ">= 4x",
        ),
        row(
            format!("local upsert, {WRITERS} tasks at once (group commit)"),
            against_raw,
            "raw redb insert + commit each, same bytes",
            ">= 4x",
        ),
    ]
}

/// The in-memory engine's get against a `BTreeMap` lookup plus clone of the item.
fn memory_get(args: &Args, rt: &tokio::runtime::Runtime) -> Row {
    let shape = Shape::User;
    let kvs = Kvs::memory();
    rt.block_on(async {
        kvs.ensure_store(shape.schema()).await.unwrap();
        kvs.upsert_many(shape.store(), (0..ITEMS).map(|i| shape.item(i)))
            .await
            .unwrap();
    });
    let keys: Vec<String> = (0..ITEMS).map(|i| shape.key(i)).collect();
    let map: BTreeMap<Vec<u8>, Item> = (0..ITEMS)
        .map(|i| (codec::table_key(&Key::new(shape.key(i))), shape.item(i)))
        .collect();
    let mut rng = StdRng::seed_from_u64(9);
    let picks: Vec<usize> = (0..4096).map(|_| rng.random_range(0..ITEMS)).collect();
    let (rounds, per) = get_plan(args);
    let (mut at, mut at_b) = (0, 0);
    let m = interleaved_paired(
        rounds,
        per,
        |ops| {
            rt.block_on(async {
                for _ in 0..ops {
                    at = (at + 1) % picks.len();
                    let got = kvs.get(shape.store(), keys[picks[at]].as_str()).await;
                    std::hint::black_box(got.unwrap().unwrap());
                }
            })
        },
        |ops| {
            for _ in 0..ops {
                at_b = (at_b + 1) % picks.len();
                // The baseline encodes the key as kvs does: a lookup by the item's key.
                let k = codec::table_key(&Key::new(keys[picks[at_b]].as_str()));
                std::hint::black_box(map.get(&k).cloned().unwrap());
            }
        },
    );
    row(
        format!("memory get ({ITEMS} items, {})", shape.label()),
        m,
        "BTreeMap get + clone",
        "report",
    )
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
/// 1,000,000 stored, each in a local file store (the embedded default).
fn index_query_scaling(args: &Args, rt: &tokio::runtime::Runtime, dir: &Path) -> Row {
    let schema = StoreSchema::new("orders", KeyAttr::string("orderId")).index(
        IndexSchema::new("byGroup", KeyAttr::string("group")).sort_key(KeyAttr::number("rank")),
    );
    let large_n = if args.quick { 200_000 } else { 1_000_000 };
    let load = |n: usize| {
        let started = Instant::now();
        let kvs = Kvs::open(dir.join(format!("orders-{n}.redb"))).unwrap();
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
        eprintln!("loaded {n} orders in {:.1?}", started.elapsed());
        kvs
    };
    let small = load(10_000);
    let large = load(large_n);
    let mut rng = StdRng::seed_from_u64(11);
    let (rounds, per) = if args.quick { (21, 20) } else { (101, 50) };
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
    let m = interleaved_paired(
        rounds,
        per,
        |ops| query(&large, large_n / 100, &mut rng, ops),
        |ops| query(&small, 100, &mut rng2, ops),
    );
    row(
        format!("index query, 100 items, {large_n} stored (file)"),
        m,
        "same query, 10,000 stored",
        ">= 0.67x (at most 1.5x slower)",
    )
}

// ---- Instructions per get, with callgrind ----

/// `--callgrind-client MODE N DIR`: `N` gets of one mode (`GET-SHAPE`, such as
/// `kvs-get-user`, or `none` for the set-up alone) on the stores in `DIR`.
fn callgrind_client(rt: &tokio::runtime::Runtime, mode: &str, n: usize, dir: &Path) {
    let measured = (mode != "none").then(|| {
        Get::ALL
            .into_iter()
            .flat_map(|g| Shape::ALL.map(|s| (g, s)))
            .find(|(g, s)| mode == format!("{}-{}", g.id(), s.id()))
            .unwrap_or_else(|| panic!("unknown mode {mode:?}"))
    });
    let files = Files::open(dir);
    // The same warm-up in every mode, so that the set-up run subtracts it: a few gets of
    // every kind, filling lazy caches (redb's, tracing's call sites).
    let mut at = 0;
    for get in Get::ALL {
        for shape in Shape::ALL {
            files.run(rt, get, shape, &mut at, 3);
        }
    }
    if let Some((get, shape)) = measured {
        files.run(rt, get, shape, &mut at, n);
    }
}

/// Runs one client under callgrind; its total instruction count.
fn callgrind_run(dir: &Path, out_dir: &Path, mode: &str, n: usize) -> u64 {
    let out = out_dir.join(format!("callgrind.out.{mode}"));
    let dir = dir.to_str().expect("a UTF-8 temporary path");
    kvs_benches::callgrind_total(&out, &["--callgrind-client", mode, &n.to_string(), dir])
}

fn callgrind(args: &Args, dir: &Path, only: Option<(&str, usize)>) {
    if Command::new("valgrind").arg("--version").output().is_err() {
        println!("\n(valgrind not found: no instruction counts)");
        return;
    }
    let temp = tempfile::tempdir().unwrap();
    let out_dir = args.callgrind_dir.as_deref().unwrap_or(temp.path());
    std::fs::create_dir_all(out_dir).unwrap();
    let base = callgrind_run(dir, out_dir, "none", 0);
    let per_get = |mode: &str, n: usize| {
        let total = callgrind_run(dir, out_dir, mode, n);
        total.saturating_sub(base) as f64 / n as f64
    };
    if let Some((mode, n)) = only {
        println!(
            "{mode}: {:.0} instructions/get ({n} gets, set-up {base} subtracted)",
            per_get(mode, n)
        );
        return;
    }
    let n = if args.quick { 500 } else { 5_000 };
    println!("\n### Instructions per get (callgrind, {n} gets a run)\n");
    println!(
        "| item | raw redb get | kvs get | kvs typed get | kvs get / raw | typed / raw | raw redb get + decode into an Item |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut parts = Vec::new();
    for shape in Shape::ALL {
        let [
            raw,
            decode,
            dynamic,
            typed,
            reused,
            item_clone,
            model_clone,
            hand,
            hand_reused,
        ] = Get::ALL.map(|g| per_get(&format!("{}-{}", g.id(), shape.id()), n));
        println!(
            "| {} | {raw:.0} | {dynamic:.0} | {typed:.0} | {:.2}x | {:.2}x | {decode:.0} |",
            shape.label(),
            raw / dynamic,
            raw / typed,
        );
        parts.push((
            shape,
            raw,
            reused,
            item_clone,
            model_clone,
            typed,
            hand,
            hand_reused,
        ));
    }
    println!("\nThe parts alone: a get costs at least a lookup plus building its answer.\n");
    println!(
        "| item | raw redb get, read transaction kept open | `Item` clone + drop | model clone + drop | 0.8x of raw redb get |"
    );
    println!("|---|---|---|---|---|");
    for &(shape, raw, reused, item_clone, model_clone, ..) in &parts {
        println!(
            "| {} | {reused:.0} | {item_clone:.0} | {model_clone:.0} | {:.0} |",
            shape.label(),
            raw / 0.8
        );
    }
    println!(
        "\nThe typed get against the floor (the lookup in a kept read transaction, plus \
         building the struct and dropping it) and against the same read written by hand \
         (redb, postcard), with the struct dropped on every side; and the hand-written read \
         in a kept read transaction, as the floor keeps it: how near the floor a format that \
         is not self-describing gets.\n"
    );
    println!(
        "| item | kvs typed get | floor | typed / floor (goal <= 1.5x) | by hand: redb + postcard | typed / by hand | by hand, transaction kept | by hand kept / floor |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (shape, _, reused, _, model_clone, typed, hand, hand_reused) in parts {
        let floor = reused + model_clone;
        println!(
            "| {} | {typed:.0} | {floor:.0} | {:.2}x | {hand:.0} | {:.2}x | {hand_reused:.0} | {:.2}x |",
            shape.label(),
            typed / floor,
            typed / hand,
            hand_reused / floor
        );
    }
    println!(
        "\n(set-up run, subtracted: {base} instructions; ratios are raw / kvs, as throughput)"
    );
}
