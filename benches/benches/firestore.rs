//! The Firestore backend against the same operations hand-written with the `firestore`
//! crate, on Google's Firestore emulator, measured side by side in one run.
//!
//! Run: `cargo bench -p kvs-benches --bench firestore` (add `-- --quick` for a short
//! run, `-- --no-callgrind` to skip the instruction counts). It starts the emulator from
//! the machine image (as tests/firestore.rs does; or uses `FIRESTORE_EMULATOR_HOST`),
//! loads 2,000 orders, and prints two markdown tables: wall time and client CPU time per
//! operation (goal: at most 1.1x both), the last rows being what evaluating a filter in
//! kvs costs against Firestore's own filter; then client-side instructions per
//! operation, counted by `valgrind --tool=callgrind` on the client alone (the emulator
//! is another process): this binary again with `--callgrind-client MODE N`, one run per
//! operation and side, minus a run that only sets up and warms up. Instructions are the
//! precise form of client CPU; the CPU times of the first table come in 10 ms ticks.
//!
//! Measurement: many short rounds, each running both sides in alternating order; the
//! wall ratio is the median of the per-round ratios (which cancels the drift of a
//! shared machine), the CPU ratio the ratio of the CPU time this process (the client:
//! the emulator is another process) spent on each side in all rounds, read from
//! `/proc/self/stat` (10 ms ticks, summed over seconds of work).
//!
//! What each baseline does (fair to the crate, not to kvs):
//! - get: the crate's fluent API, `select().by_id_in(..).obj::<Order>().one(id)`.
//! - upsert: the crate's serializer (`FirestoreDb::serialize_to_doc`) and one `Commit`
//!   of the whole document, the least a hand-written replace can do.
//! - update (ADD 1 to a counter, returning the new item): the same operation kvs does
//!   for the contract: `GetDocument`, add in Rust, `Commit` of the document guarded by
//!   its `update_time`. (Firestore's `increment` transform is one round trip but
//!   overwrites a string with a number and is not the contract's ADD.)
//! - index query: the fluent query `userId == u` ordered by `createdAt`, into `Order`.
//! - filtered query: the same with Firestore's own `total >= x` filter (kvs sends the
//!   key condition and evaluates the filter itself, reading the partition).

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use firestore::gcloud_sdk::google::firestore::v1::{
    CommitRequest, GetDocumentRequest, Precondition, Write, precondition, write,
};
use firestore::{FirestoreDb, FirestoreQueryDirection};
use kvs::firestore::FirestoreBackend;
use kvs::prelude::*;
use kvs_benches::order::{Order, PER_USER, USERS, order};
use kvs_benches::{median, micros};

const ORDERS: usize = USERS * PER_USER;
const JAR: &str =
    "/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar";

/// Starts the emulator (stopped by a watchdog when this process ends), or uses
/// `FIRESTORE_EMULATOR_HOST`; its host.
fn emulator() -> String {
    if let Ok(host) = std::env::var("FIRESTORE_EMULATOR_HOST") {
        return host;
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let script = r#"java -Xmx512m -cp "$1" com.google.cloud.datastore.emulator.firestore.CloudFirestore start --host=127.0.0.1 --port="$2" >/dev/null 2>&1 &
jvm=$!
while kill -0 "$3" 2>/dev/null && kill -0 "$jvm" 2>/dev/null; do sleep 0.5; done
kill "$jvm" 2>/dev/null"#;
    // The watchdog runs until this process ends, and is then reaped by init: nothing
    // here waits for it.
    #[allow(clippy::zombie_processes)]
    Command::new("sh")
        .args(["-c", script, "sh", JAR, &port.to_string()])
        .arg(std::process::id().to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the Firestore emulator (java and its jar) to start");
    let host = format!("127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(90);
    while Instant::now() < deadline {
        if let Ok(mut s) = TcpStream::connect(&host) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            let mut answer = String::new();
            let _ = s.read_to_string(&mut answer);
            if answer.contains("Ok") {
                // Read by the firestore crate, before any client exists.
                unsafe { std::env::set_var("FIRESTORE_EMULATOR_HOST", &host) };
                return host;
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("the Firestore emulator did not start on {host}");
}

/// This process's CPU time (user + system), in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Fields 14 and 15 of the file; 12 and 13 after the command's closing parenthesis.
    (ticks(11) + ticks(12)) / 100.0
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Get,
    Upsert,
    Update,
    Query,
    Filtered,
}

impl Op {
    const ALL: [Op; 5] = [Op::Get, Op::Upsert, Op::Update, Op::Query, Op::Filtered];

    fn label(self) -> &'static str {
        match self {
            Op::Get => "get (typed)",
            Op::Upsert => "upsert (typed)",
            Op::Update => "update: ADD 1, new item back",
            Op::Query => "index query, 20 items",
            Op::Filtered => "index query + filter total >= 600 (about 1 in 2)",
        }
    }

    fn baseline(self) -> &'static str {
        match self {
            Op::Get => "fluent select by id, obj::<Order>",
            Op::Upsert => "serialize_to_doc + Commit",
            Op::Update => "GetDocument, +1, Commit guarded by update_time",
            Op::Query => "fluent query userId == u order by createdAt",
            Op::Filtered => "the same + Firestore's own total >= 600",
        }
    }
}

struct Ctx {
    db: FirestoreDb,
    orders: Store<Order>,
    collection: String,
}

impl Ctx {
    /// A client of the emulator (`FIRESTORE_EMULATOR_HOST`) and the store, nothing loaded.
    async fn new() -> Ctx {
        let db = FirestoreDb::new("kvs-bench").await.unwrap();
        let backend = FirestoreBackend::new(&db);
        let collection = backend.collection("orders");
        let kvs = Kvs::new(backend);
        let orders = kvs.store::<Order>();
        orders.ensure().await.unwrap();
        Ctx {
            db,
            orders,
            collection,
        }
    }

    async fn run(&self, op: Op, kvs_side: bool, i: usize) {
        if kvs_side {
            self.kvs(op, i).await;
        } else {
            self.by_hand(op, i).await;
        }
    }

    fn doc_id(&self, i: usize) -> String {
        kvs::firestore::document_id(&kvs::Key::new(order(i).order_id))
    }

    async fn kvs(&self, op: Op, i: usize) {
        let o = order(i);
        match op {
            Op::Get => {
                let got = self.orders.get(o.order_id.as_str()).await.unwrap();
                std::hint::black_box(got.expect("found"));
            }
            Op::Upsert => self.orders.upsert(&o).await.unwrap(),
            Op::Update => {
                let new = self
                    .orders
                    .update(o.order_id.as_str())
                    .add(Order::fields().views(), 1)
                    .await
                    .unwrap();
                std::hint::black_box(new);
            }
            Op::Query => {
                let page = self.orders.query(Order::by_user(o.user_id)).await.unwrap();
                assert_eq!(page.items.len(), PER_USER);
            }
            Op::Filtered => {
                let page = self
                    .orders
                    .query(Order::by_user(o.user_id))
                    .filter(Order::fields().total().ge(600.0))
                    .await
                    .unwrap();
                std::hint::black_box(page);
            }
        }
    }

    async fn by_hand(&self, op: Op, i: usize) {
        let o = order(i);
        let db = &self.db;
        match op {
            Op::Get => {
                let got: Option<Order> = db
                    .fluent()
                    .select()
                    .by_id_in(&self.collection)
                    .obj()
                    .one(self.doc_id(i))
                    .await
                    .unwrap();
                std::hint::black_box(got.expect("found"));
            }
            Op::Upsert => {
                let name = format!(
                    "{}/{}/{}",
                    db.get_documents_path(),
                    self.collection,
                    self.doc_id(i)
                );
                let doc = FirestoreDb::serialize_to_doc(&name, &o).unwrap();
                let request = CommitRequest {
                    database: db.get_database_path().clone(),
                    writes: vec![Write {
                        operation: Some(write::Operation::Update(doc)),
                        ..Default::default()
                    }],
                    ..Default::default()
                };
                db.client().get().commit(request).await.unwrap();
            }
            Op::Update => {
                let name = format!(
                    "{}/{}/{}",
                    db.get_documents_path(),
                    self.collection,
                    self.doc_id(i)
                );
                let doc = db
                    .client()
                    .get()
                    .get_document(GetDocumentRequest {
                        name: name.clone(),
                        ..Default::default()
                    })
                    .await
                    .unwrap()
                    .into_inner();
                let version = doc.update_time;
                let mut current: Order = FirestoreDb::deserialize_doc_to(&doc).unwrap();
                current.views += 1;
                let doc = FirestoreDb::serialize_to_doc(&name, &current).unwrap();
                let request = CommitRequest {
                    database: db.get_database_path().clone(),
                    writes: vec![Write {
                        operation: Some(write::Operation::Update(doc)),
                        current_document: version.map(|t| Precondition {
                            condition_type: Some(precondition::ConditionType::UpdateTime(t)),
                        }),
                        ..Default::default()
                    }],
                    ..Default::default()
                };
                db.client().get().commit(request).await.unwrap();
                std::hint::black_box(current);
            }
            Op::Query | Op::Filtered => {
                let user = o.user_id.clone();
                let filtered = matches!(op, Op::Filtered);
                // `order_by` is the crate's simplest form for one field; deprecated in
                // favour of a closure builder, but kept for all of 0.x.
                #[allow(deprecated)]
                let got: Vec<Order> = db
                    .fluent()
                    .select()
                    .from(self.collection.as_str())
                    .filter(|q| {
                        q.for_all([
                            q.field("userId").eq(user.clone()),
                            filtered
                                .then(|| q.field("total").greater_than_or_equal(600.0))
                                .flatten(),
                        ])
                    })
                    .order_by([("createdAt", FirestoreQueryDirection::Ascending)])
                    .obj()
                    .query()
                    .await
                    .unwrap();
                if !filtered {
                    assert_eq!(got.len(), PER_USER);
                }
                std::hint::black_box(got);
            }
        }
    }
}

// ---- Instructions per operation, with callgrind ----

/// `--callgrind-client MODE N`: the client side alone, as run under callgrind, against
/// the emulator of `FIRESTORE_EMULATOR_HOST` (loaded by the parent). MODE is `none` (the
/// set-up and warm-up only), `kvs-K` or `hand-K`, K the operation's index in `Op::ALL`.
fn callgrind_client(mode: &str, n: usize) {
    let measured = match mode {
        "none" => None,
        _ => {
            let (side, k) = mode.split_once('-').expect("a mode: kvs-K or hand-K");
            let op = Op::ALL[k.parse::<usize>().expect("an operation index")];
            Some((side == "kvs", op))
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let ctx = Ctx::new().await;
        // The same warm-up in every mode, so that the set-up run subtracts it: every
        // operation on both sides, opening the connection and filling lazy caches.
        for op in Op::ALL {
            for side in [true, false] {
                for i in 0..3 {
                    ctx.run(op, side, i).await;
                }
            }
        }
        if let Some((side, op)) = measured {
            let mut at = 0usize;
            for _ in 0..n {
                at = (at * 7 + 13) % ORDERS;
                ctx.run(op, side, at).await;
            }
        }
    });
}

fn callgrind(dir: &Path, quick: bool) {
    if Command::new("valgrind").arg("--version").output().is_err() {
        println!("\n(valgrind not found: no instruction counts)");
        return;
    }
    let run = |mode: &str, n: usize| {
        let out = dir.join(format!("callgrind.out.{mode}"));
        kvs_benches::callgrind_total(&out, &["--callgrind-client", mode, &n.to_string()])
    };
    let base = run("none", 0);
    println!(
        "\n### Client-side instructions per operation (callgrind, the emulator in another process)\n"
    );
    println!("| operation | kvs | by hand | kvs / by hand | ops per run | goal |");
    println!("|---|---|---|---|---|---|");
    for (k, op) in Op::ALL.iter().enumerate() {
        let n = match (op, quick) {
            (Op::Query | Op::Filtered, true) => 20,
            (Op::Query | Op::Filtered, false) => 100,
            (_, true) => 100,
            (_, false) => 500,
        };
        let per_op =
            |side: &str| run(&format!("{side}-{k}"), n).saturating_sub(base) as f64 / n as f64;
        let (a, b) = (per_op("kvs"), per_op("hand"));
        println!(
            "| {} | {a:.0} | {b:.0} | {:.3}x | {n} | <= 1.1x |",
            op.label(),
            a / b
        );
    }
    println!("\n(set-up run, subtracted: {base} instructions)");
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    if let Some(p) = argv.iter().position(|a| a == "--callgrind-client") {
        let n = argv[p + 2].parse().expect("an operation count");
        return callgrind_client(&argv[p + 1], n);
    }
    let quick = argv.iter().any(|a| a == "--quick");
    let (rounds, per_round) = if quick { (11, 6) } else { (61, 10) };
    emulator();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let ctx = rt.block_on(async {
        let ctx = Ctx::new().await;
        let all: Vec<Order> = (0..ORDERS).map(order).collect();
        ctx.orders.upsert_many(&all).await.unwrap();
        ctx
    });
    eprintln!("loaded {ORDERS} orders");

    println!(
        "| operation | kvs | by hand | baseline | kvs / by hand (wall) | kvs / by hand (client CPU) | goal |"
    );
    println!("|---|---|---|---|---|---|---|");
    for op in Op::ALL {
        let mut at = 0usize;
        let mut side = |kvs_side: bool| {
            let start_cpu = cpu_seconds();
            let start = Instant::now();
            rt.block_on(async {
                for _ in 0..per_round {
                    at = (at * 7 + 13) % ORDERS;
                    ctx.run(op, kvs_side, at).await;
                }
            });
            (
                start.elapsed().as_secs_f64() / per_round as f64,
                cpu_seconds() - start_cpu,
            )
        };
        side(true);
        side(false);
        let (mut ta, mut tb, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        let (mut ca, mut cb) = (0.0, 0.0);
        for round in 0..rounds {
            let (a, b) = if round % 2 == 0 {
                let a = side(true);
                (a, side(false))
            } else {
                let b = side(false);
                (side(true), b)
            };
            ta.push(a.0);
            tb.push(b.0);
            ratios.push(a.0 / b.0);
            ca += a.1;
            cb += b.1;
        }
        println!(
            "| {} | {} | {} | {} | {:.2}x | {:.2}x | <= 1.1x |",
            op.label(),
            micros(median(ta)),
            micros(median(tb)),
            op.baseline(),
            median(ratios),
            if cb > 0.0 { ca / cb } else { f64::NAN },
        );
    }
    println!(
        "\n({rounds} paired rounds of {per_round} operations a side; wall: medians, and the \
         median of per-round ratios; CPU: this process's user + system time over all rounds)"
    );
    if !argv.iter().any(|a| a == "--no-callgrind") {
        let temp = tempfile::tempdir().unwrap();
        callgrind(temp.path(), quick);
    }
}
