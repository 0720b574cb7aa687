//! The Cosmos DB backend against the same operations hand-written with the SDK
//! (`azure_data_cosmos`), on the SDK's in-memory emulator in-process, measured side by
//! side in one run.
//!
//! Run: `cargo bench -p kvs-benches --bench cosmos` (add `-- --quick` for a short run,
//! `-- --no-callgrind` to skip the instruction counts, `-- --callgrind-dir DIR` to keep
//! callgrind's files for `callgrind_annotate`). It loads 2,000 orders twice, into kvs's
//! container (`orders`) and, as plain serde documents, into the hand-written side's
//! (`orders-hand`, same partition key), and prints two markdown tables: wall time and
//! client CPU time per operation (goal: at most 1.1x both); then client-side
//! instructions per operation, counted by `valgrind --tool=callgrind` on this binary
//! again (`--callgrind-client MODE N`, one run per operation and side, minus a run that
//! only sets up and warms up).
//!
//! The emulator runs in this process, on the same threads as the client. Its cost is
//! kept out of the client's by the transport: the bench plugs the emulator in through
//! its own transport (the driver's `HttpClientFactory` hook), which polls the
//! emulator's future (request conversion, the emulator's work, the response's) in one
//! function, [`emulator_poll`]. Client CPU is this process's CPU time minus the thread
//! CPU time spent inside that function (both from `clock_gettime`, in nanoseconds);
//! under callgrind, the client request `CALLGRIND_TOGGLE_COLLECT` around each call of it
//! stops collecting there, so the counts are the client's alone. What stays in is all the client does above the
//! transport, on both sides: the SDK's pipeline (routing, session tokens, headers,
//! diagnostics), serializing and parsing JSON, and for kvs its own layers.
//!
//! Measurement: many short rounds, each running both sides in alternating order; the
//! wall ratio is the median of the per-round ratios (which cancels the drift of a shared
//! machine), the CPU ratio the ratio of the client CPU each side spent in all rounds.
//!
//! What each baseline does (fair to the SDK, not to kvs): documents are a serde struct
//! with an `id` (the order id) and the order's fields, no more.
//! - get: `read_item` + `into_model::<OrderDoc>()`.
//! - upsert: `upsert_item` of the struct.
//! - update (ADD 1 to a counter and SET the status, the new item back): what kvs does
//!   for the contract: `read_item`, change the struct, `replace_item` with `IfMatch` of
//!   the ETag read. (`patch_item` would be one round trip, but kvs never uses it.)
//! - index query: `SELECT TOP 20 * FROM c WHERE c.userId = @u ORDER BY c.createdAt`
//!   across the container, into `OrderDoc` (kvs: the `byUser` index, first page of 20).

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use azure_core::credentials::Secret;
use azure_core::http::{Request, Url};
use azure_data_cosmos::clients::ContainerClient;
use azure_data_cosmos::models::{ContainerProperties, PartitionKeyDefinition};
use azure_data_cosmos::options::{ItemWriteOptions, Precondition, Region};
use azure_data_cosmos::{
    AccountEndpoint, AccountReference, CosmosClient, CosmosClientBuilder, CosmosRuntimeBuilder,
    FeedScope, Query, RoutingStrategy,
};
use azure_data_cosmos_driver::diagnostics::RequestSentStatus;
use azure_data_cosmos_driver::in_memory_emulator::{
    InMemoryEmulatorHttpClient, VirtualAccountConfig, VirtualRegion,
};
use azure_data_cosmos_driver::test::{
    ConnectionPoolOptions, HttpClientConfig, HttpClientFactory, HttpRequest, HttpResponse,
    TransportClient, TransportError,
};
use futures::{StreamExt as _, TryStreamExt as _};
use kvs::cosmos::CosmosBackend;
use kvs::prelude::*;
use kvs_benches::cpu::{process_cpu_ns, thread_cpu_ns};
use kvs_benches::order::{Order, PER_USER, Status, USERS, order, user_id};
use kvs_benches::{median, micros};
use serde::{Deserialize, Serialize};

const ORDERS: usize = USERS * PER_USER;
/// Orders loaded under callgrind (5 users): loading is slow there, and the client's
/// work per operation does not depend on the container's size.
const CALLGRIND_ORDERS: usize = 5 * PER_USER;
const ENDPOINT: &str = "https://eastus.emulator.local";
const DATABASE: &str = "kvs";
const HAND: &str = "orders-hand";

// ---- The emulator behind a transport that keeps its cost apart ----

/// Thread CPU time spent polling the emulator, in nanoseconds, all threads.
static EMULATOR_NS: AtomicU64 = AtomicU64::new(0);
/// Requests the emulator answered.
static REQUESTS: AtomicU64 = AtomicU64::new(0);
/// Whether to read the thread clock around each poll (not under callgrind).
static TIMING: AtomicBool = AtomicBool::new(true);

type Answer = Result<HttpResponse, TransportError>;
type Emulating<'a> = Pin<Box<dyn Future<Output = Answer> + Send + 'a>>;

/// One poll of the emulator's answer to a request: everything below the client.
fn emulator_poll(f: &mut Emulating<'_>, cx: &mut Context<'_>) -> Poll<Answer> {
    f.as_mut().poll(cx)
}

/// Callgrind's `CALLGRIND_TOGGLE_COLLECT` client request (a no-op outside valgrind):
/// turns collection off before a poll of the emulator and on again after it. (Callgrind's
/// `--toggle-collect=FUNCTION` was tried first, and left part of the emulator's work
/// collected.)
fn callgrind_toggle_collect() {
    #[cfg(target_arch = "x86_64")]
    {
        // VG_USERREQ_TOOL_BASE('C', 'T') + 2, then five unused arguments.
        let request: [u64; 6] = [0x4354_0000 + 2, 0, 0, 0, 0, 0];
        let mut result: u64 = 0;
        // SAFETY: valgrind's client request preamble: rotations of rdi by 128 bits in
        // all (it ends unchanged) and `xchg rbx, rbx`, a no-op on a real CPU; valgrind
        // reads the request at `rax` and writes the result to `rdx`. Nothing else is
        // touched.
        unsafe {
            std::arch::asm!(
                "rol rdi, 3",
                "rol rdi, 13",
                "rol rdi, 61",
                "rol rdi, 51",
                "xchg rbx, rbx",
                in("rax") request.as_ptr(),
                inout("rdx") result,
                inout("rdi") 0u64 => _,
                options(nostack),
            );
        }
        std::hint::black_box(result);
    }
}

/// The emulator's answer: timed on the thread that polls it, or, under callgrind, not
/// collected.
struct Timed<'a>(Emulating<'a>);

impl Future for Timed<'_> {
    type Output = Answer;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Answer> {
        if !TIMING.load(Ordering::Relaxed) {
            callgrind_toggle_collect();
            let answer = emulator_poll(&mut self.0, cx);
            callgrind_toggle_collect();
            return answer;
        }
        let start = thread_cpu_ns();
        let answer = emulator_poll(&mut self.0, cx);
        let spent = thread_cpu_ns().saturating_sub(start);
        EMULATOR_NS.fetch_add(spent, Ordering::Relaxed);
        answer
    }
}

/// The transport: the emulator, as its own adapter calls it, timed.
#[derive(Debug)]
struct Transport(Arc<InMemoryEmulatorHttpClient>);

#[async_trait::async_trait]
impl TransportClient for Transport {
    async fn send(&self, request: &HttpRequest) -> Answer {
        REQUESTS.fetch_add(1, Ordering::Relaxed);
        Timed(Box::pin(forward(&self.0, request))).await
    }
}

#[derive(Debug)]
struct Factory(Arc<InMemoryEmulatorHttpClient>);

impl HttpClientFactory for Factory {
    fn build(
        &self,
        _pool: &ConnectionPoolOptions,
        _config: HttpClientConfig,
    ) -> azure_data_cosmos_driver::error::Result<Arc<dyn TransportClient>> {
        Ok(Arc::new(Transport(Arc::clone(&self.0))))
    }
}

/// What the emulator's own transport adapter does: the request as an `azure_core`
/// request, the emulator's answer, its body read.
async fn forward(emulator: &InMemoryEmulatorHttpClient, request: &HttpRequest) -> Answer {
    let mut core = Request::new(request.url.clone(), request.method);
    for (name, value) in request.headers.iter() {
        core.headers_mut().insert(name.clone(), value.clone());
    }
    if let Some(body) = &request.body {
        core.set_body(body.to_vec());
    }
    let response = emulator
        .execute_request(&core)
        .await
        .map_err(|e| TransportError::new(e, RequestSentStatus::Unknown))?;
    let raw = response
        .try_into_raw_response()
        .await
        .expect("the emulator's buffered body");
    Ok(HttpResponse {
        status: u16::from(raw.status()),
        headers: raw.headers().clone(),
        body: raw.body().as_ref().to_vec(),
    })
}

/// A client of a fresh emulator, through [`Transport`], with the SDK's retries off as
/// kvs asks.
async fn client() -> CosmosClient {
    let region = VirtualRegion::new("East US", Url::parse(ENDPOINT).expect("a URL"));
    let config = VirtualAccountConfig::new(vec![region]).expect("an emulated account");
    let emulator = Arc::new(InMemoryEmulatorHttpClient::new(config));
    let factory = Arc::new(Factory(Arc::clone(&emulator)));
    let runtime = CosmosRuntimeBuilder::from(
        emulator
            .runtime_builder()
            .with_mock_http_client_factory(factory),
    )
    .build()
    .await
    .expect("a runtime on the emulator");
    // The emulator checks no signature: any base64 key will do.
    let account = AccountReference::with_authentication_key(
        ENDPOINT.parse::<AccountEndpoint>().expect("an endpoint"),
        Secret::new("dGVzdGtleQ=="),
    );
    CosmosClientBuilder::new()
        .with_runtime(runtime)
        .with_default_operation_options(kvs::cosmos::sdk_retries_off())
        .build(account, RoutingStrategy::ProximityTo(Region::EAST_US))
        .await
        .expect("a client on the emulator")
}

// ---- The operations ----

/// The hand-written side's document: the order's fields and the `id` Cosmos DB needs.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
struct OrderDoc {
    id: String,
    order_id: String,
    user_id: String,
    status: Status,
    total: f64,
    created_at: i64,
    views: i64,
    tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

impl From<&Order> for OrderDoc {
    fn from(o: &Order) -> Self {
        OrderDoc {
            id: o.order_id.clone(),
            order_id: o.order_id.clone(),
            user_id: o.user_id.clone(),
            status: o.status,
            total: o.total,
            created_at: o.created_at,
            views: o.views,
            tags: o.tags.iter().cloned().collect(),
            note: o.note.clone(),
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Get,
    Upsert,
    Update,
    Query,
}

impl Op {
    const ALL: [Op; 4] = [Op::Get, Op::Upsert, Op::Update, Op::Query];

    fn label(self) -> &'static str {
        match self {
            Op::Get => "get (typed)",
            Op::Upsert => "upsert (typed)",
            Op::Update => "update: ADD 1, SET status, new item back",
            Op::Query => "index query, first page of 20",
        }
    }

    fn baseline(self) -> &'static str {
        match self {
            Op::Get => "read_item + into_model::<OrderDoc>",
            Op::Upsert => "upsert_item(&OrderDoc)",
            Op::Update => "read_item, change, replace_item IfMatch(etag)",
            Op::Query => "SQL TOP 20 userId = @u ORDER BY createdAt",
        }
    }
}

struct Ctx {
    orders: Store<Order>,
    hand: ContainerClient,
    all: Vec<Order>,
    docs: Vec<OrderDoc>,
}

impl Ctx {
    /// A fresh emulator with `n` orders in both containers.
    async fn new(n: usize) -> Ctx {
        let client = client().await;
        let kvs = Kvs::new(CosmosBackend::new(client.clone(), DATABASE));
        let orders = kvs.store::<Order>();
        orders.ensure().await.unwrap();
        let db = client.database_client(DATABASE);
        db.create_container(
            ContainerProperties::new(HAND, PartitionKeyDefinition::from("/orderId")),
            None,
        )
        .await
        .unwrap();
        let hand = db.container_client(HAND, None).await.unwrap();
        let all: Vec<Order> = (0..n).map(order).collect();
        let docs: Vec<OrderDoc> = all.iter().map(OrderDoc::from).collect();
        orders.upsert_many(&all).await.unwrap();
        futures::stream::iter(&docs)
            .map(|d| hand.upsert_item(&d.order_id, &d.id, d, None))
            .buffer_unordered(16)
            .try_collect::<Vec<_>>()
            .await
            .unwrap();
        Ctx {
            orders,
            hand,
            all,
            docs,
        }
    }

    async fn run(&self, op: Op, kvs_side: bool, i: usize) {
        if kvs_side {
            self.kvs(op, i).await;
        } else {
            self.by_hand(op, i).await;
        }
    }

    async fn kvs(&self, op: Op, i: usize) {
        let o = &self.all[i];
        match op {
            Op::Get => {
                let got = self.orders.get(o.order_id.as_str()).await.unwrap();
                std::hint::black_box(got.expect("found"));
            }
            Op::Upsert => self.orders.upsert(o).await.unwrap(),
            Op::Update => {
                let new = self
                    .orders
                    .update(o.order_id.as_str())
                    .add(Order::fields().views(), 1)
                    .set(Order::fields().status(), Status::Shipped)
                    .await
                    .unwrap();
                std::hint::black_box(new);
            }
            Op::Query => {
                let page = self
                    .orders
                    .query(Order::by_user(user_id(i / PER_USER)))
                    .limit(PER_USER)
                    .await
                    .unwrap();
                assert_eq!(page.items.len(), PER_USER);
                std::hint::black_box(page);
            }
        }
    }

    async fn by_hand(&self, op: Op, i: usize) {
        let d = &self.docs[i];
        let hand = &self.hand;
        match op {
            Op::Get => {
                let got: OrderDoc = hand
                    .read_item(&d.order_id, &d.id, None)
                    .await
                    .unwrap()
                    .into_model()
                    .unwrap();
                std::hint::black_box(got);
            }
            Op::Upsert => {
                hand.upsert_item(&d.order_id, &d.id, d, None).await.unwrap();
            }
            Op::Update => {
                let read = hand.read_item(&d.order_id, &d.id, None).await.unwrap();
                let etag = read.headers().etag().cloned().expect("an ETag");
                let mut current: OrderDoc = read.into_model().unwrap();
                current.views += 1;
                current.status = Status::Shipped;
                let guard =
                    ItemWriteOptions::default().with_precondition(Precondition::if_match(etag));
                hand.replace_item(&d.order_id, &d.id, &current, Some(guard))
                    .await
                    .unwrap();
                std::hint::black_box(current);
            }
            Op::Query => {
                let query =
                    Query::from("SELECT TOP @n * FROM c WHERE c.userId = @u ORDER BY c.createdAt")
                        .with_parameter("@n", PER_USER as i64)
                        .unwrap()
                        .with_parameter("@u", &d.user_id)
                        .unwrap();
                let got: Vec<OrderDoc> = hand
                    .query_items(query, FeedScope::full_container(), None)
                    .await
                    .unwrap()
                    .try_collect()
                    .await
                    .unwrap();
                assert_eq!(got.len(), PER_USER);
                std::hint::black_box(got);
            }
        }
    }
}

// ---- Instructions per operation, with callgrind ----

/// `--callgrind-client MODE N`: the set-up and `N` operations, as run under callgrind.
/// MODE is `none` (the set-up and warm-up only), `kvs-K` or `hand-K`, K the
/// operation's index in `Op::ALL`.
fn callgrind_client(mode: &str, n: usize) {
    TIMING.store(false, Ordering::Relaxed);
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
        let ctx = Ctx::new(CALLGRIND_ORDERS).await;
        // The same warm-up in every mode, so that the set-up run subtracts it: every
        // operation on both sides, filling lazy caches (the SDK's query plans and
        // partition key ranges, kvs's container client).
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
                at = (at * 7 + 13) % CALLGRIND_ORDERS;
                ctx.run(op, side, at).await;
            }
        }
    });
}

/// Runs this binary under callgrind in `--callgrind-client MODE N`, the emulator's
/// polls left out; the instructions collected.
fn callgrind_run(dir: &Path, mode: &str, n: usize) -> u64 {
    let out = dir.join(format!("callgrind.out.{mode}"));
    let result = Command::new("valgrind")
        .args(["--tool=callgrind", "--collect-atstart=yes"])
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(std::env::current_exe().expect("the benchmark's own path"))
        .args(["--callgrind-client", mode, &n.to_string()])
        .output()
        .expect("running valgrind");
    assert!(
        result.status.success(),
        "valgrind {mode} failed:\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
    kvs_benches::callgrind_file_total(&out)
}

fn callgrind(dir: &Path, quick: bool) {
    if Command::new("valgrind").arg("--version").output().is_err() {
        println!("\n(valgrind not found: no instruction counts)");
        return;
    }
    let n_of = |op: Op| match (op, quick) {
        (Op::Query, true) => 10,
        (Op::Query, false) => 40,
        (_, true) => 30,
        (_, false) => 120,
    };
    // Two at a time: the runs are independent, each one thread.
    let mut jobs: Vec<(String, usize)> = vec![("none".into(), 0)];
    for (k, op) in Op::ALL.iter().enumerate() {
        for side in ["kvs", "hand"] {
            jobs.push((format!("{side}-{k}"), n_of(*op)));
        }
    }
    let counts: Vec<(String, u64)> = std::thread::scope(|s| {
        let handles: Vec<_> = jobs
            .chunks(jobs.len().div_ceil(2))
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|(mode, n)| (mode.clone(), callgrind_run(dir, mode, *n)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a callgrind run"))
            .collect()
    });
    let count = |mode: &str| {
        counts
            .iter()
            .find(|(m, _)| m == mode)
            .map(|(_, c)| *c)
            .expect("a run")
    };
    let base = count("none");
    println!(
        "\n### Client instructions per operation (callgrind; the emulator's polls not collected)\n"
    );
    println!("| operation | kvs | by hand | kvs / by hand | ops per run | goal |");
    println!("|---|---|---|---|---|---|");
    for (k, op) in Op::ALL.iter().enumerate() {
        let n = n_of(*op);
        let per_op =
            |side: &str| count(&format!("{side}-{k}")).saturating_sub(base) as f64 / n as f64;
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
    // `typespec`'s `Headers::get_optional_str` makes an error for each optional header
    // a message lacks (the emulator asks for dozens per request), and that error
    // captures a backtrace whenever RUST_BACKTRACE is set: then nine tenths of the
    // instructions are unwinding. Not what a service runs with, so off unless
    // RUST_LIB_BACKTRACE says otherwise (panics still print theirs). Set before any
    // thread starts; the callgrind runs inherit it.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        // SAFETY: no other thread exists yet.
        unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
    }
    let argv: Vec<String> = std::env::args().collect();
    if let Some(p) = argv.iter().position(|a| a == "--callgrind-client") {
        let n = argv[p + 2].parse().expect("an operation count");
        return callgrind_client(&argv[p + 1], n);
    }
    let quick = argv.iter().any(|a| a == "--quick");
    let (rounds, per_round) = if quick { (11, 10) } else { (61, 20) };
    // The emulator answers a query in milliseconds (it scans the container): fewer.
    let per_round_of = |op: Op| match op {
        Op::Query => per_round / 4,
        _ => per_round,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let ctx = rt.block_on(Ctx::new(ORDERS));
    eprintln!("loaded {ORDERS} orders in each container");

    println!(
        "| operation | kvs | by hand | baseline | kvs / by hand (wall) | client CPU: kvs | by hand | kvs / by hand (client CPU) | requests per op: kvs, by hand | goal |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for op in Op::ALL {
        let per_round = per_round_of(op);
        let mut at = 0usize;
        // One side's round: seconds per op, and client CPU and requests in all.
        let mut side = |kvs_side: bool| {
            let (cpu, emulator, requests) = (
                process_cpu_ns(),
                EMULATOR_NS.load(Ordering::Relaxed),
                REQUESTS.load(Ordering::Relaxed),
            );
            let start = Instant::now();
            rt.block_on(async {
                for _ in 0..per_round {
                    at = (at * 7 + 13) % ORDERS;
                    ctx.run(op, kvs_side, at).await;
                }
            });
            let wall = start.elapsed().as_secs_f64() / per_round as f64;
            let emulator = EMULATOR_NS.load(Ordering::Relaxed) - emulator;
            let client = (process_cpu_ns() - cpu).saturating_sub(emulator);
            (wall, client, REQUESTS.load(Ordering::Relaxed) - requests)
        };
        side(true);
        side(false);
        let (mut ta, mut tb, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        let (mut ca, mut cb, mut ra, mut rb) = (0u64, 0u64, 0u64, 0u64);
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
            ra += a.2;
            rb += b.2;
        }
        let ops = (rounds * per_round) as f64;
        println!(
            "| {} | {} | {} | {} | {:.2}x | {} | {} | {:.2}x | {:.1}, {:.1} | <= 1.1x |",
            op.label(),
            micros(median(ta)),
            micros(median(tb)),
            op.baseline(),
            median(ratios),
            micros(ca as f64 / 1e9 / ops),
            micros(cb as f64 / 1e9 / ops),
            ca as f64 / cb as f64,
            ra as f64 / ops,
            rb as f64 / ops,
        );
    }
    println!(
        "\n({rounds} paired rounds of {per_round} operations a side ({} for the query); wall: medians, and the \
         median of per-round ratios; client CPU: this process's CPU time less the thread CPU \
         time spent polling the in-process emulator, over all rounds)",
        per_round_of(Op::Query)
    );
    if !argv.iter().any(|a| a == "--no-callgrind") {
        let kept = argv
            .iter()
            .position(|a| a == "--callgrind-dir")
            .map(|p| std::path::PathBuf::from(&argv[p + 1]));
        let temp = tempfile::tempdir().unwrap();
        let dir = match &kept {
            Some(d) => {
                std::fs::create_dir_all(d).unwrap();
                d.as_path()
            }
            None => temp.path(),
        };
        callgrind(dir, quick);
    }
}
