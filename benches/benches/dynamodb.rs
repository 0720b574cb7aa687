//! The DynamoDB backend against the same operations hand-written with
//! `aws-sdk-dynamodb`, on the dynoxide emulator, measured side by side in one run.
//!
//! Run: `cargo bench -p kvs-benches --bench dynamodb` (add `-- --quick` for a short
//! run, `-- --no-callgrind` to skip the instruction counts, `-- --callgrind-only` for
//! them alone, `-- --callgrind-dir DIR` to keep callgrind's files for
//! `callgrind_annotate`). It prints three markdown tables:
//!
//! 1. Wall time per operation, kvs against the SDK by hand, against dynoxide running in
//!    this process on a multi-thread tokio runtime (goal: at most 1.05x), in many short
//!    rounds, each running both sides (`interleaved_paired`): the ratio is the median of
//!    the per-round ratios, which cancels the drift of a shared machine (an A/A run of
//!    this set-up gives 0.99x to 1.01x; the ratio of two separate medians wandered by
//!    6%). Most of the time is the HTTP round trip and the emulator, which both sides
//!    pay alike.
//! 2. Client-side instructions per operation, counted by `valgrind --tool=callgrind`
//!    (goal: at most 1.1x). The server would pollute a count of this process, so the
//!    bench starts dynoxide as a child process (this binary with `--serve`) and runs
//!    the client side as its own processes under callgrind (this binary with
//!    `--callgrind-client MODE N ENDPOINT`): one run per operation and side doing the
//!    same set-up and warm-up then `N` operations, and one run doing the set-up alone,
//!    whose total is subtracted. Instructions per op = (total - set-up total) / N. The
//!    client runs on a current-thread runtime, so no cross-thread wake-ups are counted
//!    on either side. One count alone: `-- --callgrind kvs-get 2000` (modes `kvs-OP`
//!    and `sdk-OP`, OP one of get, get-dynamic, upsert, update, query, get-many). To
//!    profile one side natively: `<bench binary> --serve` prints the endpoint of a
//!    loaded server, and `perf record <bench binary> --callgrind-client kvs-get-many
//!    2000 <endpoint>` runs the client side alone.
//! 3. A `get_many` of 1,000 keys on a client with an interceptor that counts the
//!    `BatchGetItem` calls and the most in flight at once (goal: at most 10 calls,
//!    concurrent).
//! 4. Projections: an item with a 64 KB body read whole and through a projection that
//!    leaves the body out, by get and by a query of 20 items, paired in one run (the
//!    ratio projected / whole). `-- --projections` runs this table alone.
//!
//! What each baseline does (decided to be fair to the SDK, not to kvs):
//! - The SDK client is the one a user builds (default retry configuration); kvs gets a
//!   copy of it through `DynamoDbBackend::new` (which turns the SDK's retries off, as
//!   kvs retries itself).
//! - Typed operations: the baseline converts between the same `Order` struct and the
//!   attribute map with hand-written code (a match per field), the cheapest a user can
//!   write; kvs goes through `Item` and serde.
//! - Dynamic get: the baseline returns the SDK's own `HashMap<String, AttributeValue>`
//!   as it comes (no conversion); kvs converts it into an `Item`.
//! - Requests: the same operation with the same options as kvs sends (GetItem and
//!   BatchGetItem with ConsistentRead, UpdateItem `ADD` with ReturnValues ALL_NEW and the
//!   `attribute_exists` condition kvs adds to make a missing item `NotFound`, Query on
//!   the GSI). kvs also adds an i64 overflow guard to the ADD's condition, asks for the
//!   old item on a failed condition, and asks a query for one item more than the page
//!   to learn whether more follow: these are counted as kvs's cost.
//! - get_many: the baseline collects the items in the order DynamoDB answers; kvs puts
//!   them back in the order asked (its cost).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::interceptors::{
    BeforeDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{
    BehaviorVersion, ConfigBag, Credentials, Intercept, Region, RuntimeComponents,
};
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, ReturnValue};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use kvs::dynamodb::DynamoDbBackend;
use kvs::prelude::*;
use kvs_benches::order::{Order, PER_USER, Status, USERS, order, order_id, user_id};
use kvs_benches::{Paired, interleaved_paired};
use rand::{Rng, SeedableRng, rngs::StdRng};

/// Users, each with `PER_USER` orders: one GSI partition each.
const ORDERS: usize = USERS * PER_USER;
/// Keys per get_many in the timed comparison.
const MANY: usize = 100;
/// Keys of the counted get_many.
const LARGE_MANY: usize = 1_000;

// ---- The hand-written conversions of the SDK baseline ----

type Attrs = HashMap<String, AttributeValue>;

fn to_attrs(o: &Order) -> Attrs {
    let mut m = HashMap::with_capacity(8);
    m.insert("orderId".to_owned(), AttributeValue::S(o.order_id.clone()));
    m.insert("userId".to_owned(), AttributeValue::S(o.user_id.clone()));
    m.insert(
        "status".to_owned(),
        AttributeValue::S(o.status.as_str().to_owned()),
    );
    m.insert("total".to_owned(), AttributeValue::N(o.total.to_string()));
    m.insert(
        "createdAt".to_owned(),
        AttributeValue::N(o.created_at.to_string()),
    );
    m.insert("views".to_owned(), AttributeValue::N(o.views.to_string()));
    if !o.tags.is_empty() {
        m.insert(
            "tags".to_owned(),
            AttributeValue::Ss(o.tags.iter().cloned().collect()),
        );
    }
    if let Some(note) = &o.note {
        m.insert("note".to_owned(), AttributeValue::S(note.clone()));
    }
    m
}

fn attr_s<'a>(m: &'a Attrs, k: &str) -> Result<&'a String, String> {
    match m.get(k) {
        Some(AttributeValue::S(s)) => Ok(s),
        _ => Err(format!("{k}: not a string")),
    }
}

fn attr_n<T: std::str::FromStr>(m: &Attrs, k: &str) -> Result<T, String> {
    match m.get(k) {
        Some(AttributeValue::N(n)) => n.parse().map_err(|_| format!("{k}: bad number {n}")),
        _ => Err(format!("{k}: not a number")),
    }
}

fn from_attrs(m: &Attrs) -> Result<Order, String> {
    Ok(Order {
        order_id: attr_s(m, "orderId")?.clone(),
        user_id: attr_s(m, "userId")?.clone(),
        status: Status::parse(attr_s(m, "status")?)?,
        total: attr_n(m, "total")?,
        created_at: attr_n(m, "createdAt")?,
        views: attr_n(m, "views")?,
        tags: match m.get("tags") {
            Some(AttributeValue::Ss(v)) => v.iter().cloned().collect(),
            None => Set::new(),
            _ => return Err("tags: not a string set".into()),
        },
        note: match m.get("note") {
            Some(AttributeValue::S(s)) => Some(s.clone()),
            None | Some(AttributeValue::Null(_)) => None,
            _ => return Err("note: not a string".into()),
        },
    })
}

// ---- Clients, servers ----

/// The client a user builds for a local endpoint (plain HTTP, test credentials).
fn sdk_client(endpoint: &str, interceptor: Option<CountBatchGets>) -> Client {
    let mut builder = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "kvs-bench"))
        .http_client(aws_smithy_http_client::Builder::new().build_http());
    if let Some(i) = interceptor {
        builder = builder.interceptor(i);
    }
    Client::from_conf(builder.build())
}

/// Starts dynoxide (in memory) on a free port on the current runtime; its endpoint.
async fn start_dynoxide() -> String {
    let db = dynoxide::Database::memory().expect("an in-memory dynoxide database");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let addr = listener.local_addr().expect("the bound address");
    tokio::spawn(async move {
        let _ = dynoxide::server::serve_with_shutdown(listener, db, std::future::pending()).await;
    });
    format!("http://{addr}")
}

/// `--serve`: dynoxide alone, for the callgrind runs, with the table created and loaded.
/// Prints its endpoint, and stops when its standard input closes (the bench ended,
/// however it ended).
fn serve() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let endpoint = start_dynoxide().await;
        Ctx::new(&endpoint).load().await;
        println!("{endpoint}");
        std::io::stdout().flush().unwrap();
        tokio::task::spawn_blocking(|| {
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
        })
        .await
        .unwrap();
    });
}

/// dynoxide as a child process; killed on drop.
struct ServerProcess {
    child: Child,
    _stdin: ChildStdin,
    endpoint: String,
}

impl ServerProcess {
    fn start() -> ServerProcess {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .arg("--serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("starting the dynoxide server process");
        let stdin = child.stdin.take().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        ServerProcess {
            child,
            _stdin: stdin,
            endpoint: line.trim().to_owned(),
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---- The interceptor counting BatchGetItem calls ----

#[derive(Debug, Default)]
struct BatchGetStats {
    calls: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// Counts `BatchGetItem` requests sent, and the most in flight at once (between the
/// request leaving and its response arriving).
#[derive(Debug, Clone, Default)]
struct CountBatchGets(Arc<BatchGetStats>);

fn is_batch_get(cfg: &ConfigBag) -> bool {
    cfg.load::<Metadata>()
        .is_some_and(|m| m.name() == "BatchGetItem")
}

impl Intercept for CountBatchGets {
    fn name(&self) -> &'static str {
        "CountBatchGets"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if is_batch_get(cfg) {
            self.0.calls.fetch_add(1, Ordering::SeqCst);
            let now = self.0.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.0.max_in_flight.fetch_max(now, Ordering::SeqCst);
        }
        Ok(())
    }

    fn read_after_transmit(
        &self,
        _context: &BeforeDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if is_batch_get(cfg) {
            self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
        }
        Ok(())
    }
}

// ---- The operations, on both sides ----

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Get,
    GetDynamic,
    Upsert,
    Update,
    UpdateSameGuard,
    Query,
    GetMany,
}

impl Op {
    const ALL: [Op; 7] = [
        Op::Get,
        Op::GetDynamic,
        Op::Upsert,
        Op::Update,
        Op::UpdateSameGuard,
        Op::Query,
        Op::GetMany,
    ];

    fn id(self) -> &'static str {
        match self {
            Op::Get => "get",
            Op::GetDynamic => "get-dynamic",
            Op::Upsert => "upsert",
            Op::Update => "update",
            Op::UpdateSameGuard => "update-same-guard",
            Op::Query => "query",
            Op::GetMany => "get-many",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Op::Get => "get (typed)",
            Op::GetDynamic => "get (dynamic)",
            Op::Upsert => "upsert (typed)",
            Op::Update => "update ADD views 1 (typed)",
            Op::UpdateSameGuard => "update ADD views 1 (typed), SDK with kvs's guard",
            Op::Query => "query 20 items on a GSI (typed)",
            Op::GetMany => "get_many 100 keys (typed)",
        }
    }

    fn baseline(self) -> &'static str {
        match self {
            Op::Get => "GetItem consistent + fields by hand",
            Op::GetDynamic => "GetItem consistent, the SDK's map as is",
            Op::Upsert => "fields by hand + PutItem",
            Op::Update => "UpdateItem ADD, attribute_exists, ALL_NEW + fields by hand",
            Op::UpdateSameGuard => {
                "the same, plus the i64-range guard on the ADD that kvs sends (the contract's cost)"
            }
            Op::Query => "Query on the GSI + fields by hand",
            Op::GetMany => {
                "BatchGetItem consistent (+ unprocessed) + fields by hand, answers in the order asked"
            }
        }
    }

    fn parse(id: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|o| o.id() == id)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Kvs,
    Sdk,
}

struct Ctx {
    kvs: Kvs,
    orders: Store<Order>,
    sdk: Client,
    table: String,
    ids: Vec<String>,
    all: Vec<Order>,
}

impl Ctx {
    /// A context on `endpoint`; kvs on a copy of the SDK client.
    fn new(endpoint: &str) -> Ctx {
        let sdk = sdk_client(endpoint, None);
        let kvs = Kvs::new(DynamoDbBackend::new(&sdk));
        kvs.register_store(Order::schema()).unwrap();
        Ctx {
            orders: kvs.store::<Order>(),
            kvs,
            sdk,
            table: Order::STORE.to_owned(),
            ids: (0..ORDERS).map(order_id).collect(),
            all: (0..ORDERS).map(order).collect(),
        }
    }

    /// Creates the table through kvs and loads the orders.
    async fn load(&self) {
        self.orders.ensure().await.unwrap();
        self.orders.upsert_many(&self.all).await.unwrap();
    }

    /// One operation; `i` picks the item (or user, or first key).
    async fn run(&self, op: Op, side: Side, i: usize) {
        match side {
            Side::Kvs => self.kvs_op(op, i).await,
            Side::Sdk => self.sdk_op(op, i).await,
        }
    }

    async fn kvs_op(&self, op: Op, i: usize) {
        let id = self.ids[i % ORDERS].as_str();
        match op {
            Op::Get => {
                let got = self.orders.get(id).await.unwrap();
                std::hint::black_box(got.expect("the order"));
            }
            Op::GetDynamic => {
                let got = self.kvs.get(Order::STORE, id).await.unwrap();
                std::hint::black_box(got.expect("the order"));
            }
            Op::Upsert => {
                self.orders.upsert(&self.all[i % ORDERS]).await.unwrap();
            }
            Op::Update | Op::UpdateSameGuard => {
                let new = self
                    .orders
                    .update(id)
                    .add(Order::fields().views(), 1)
                    .await
                    .unwrap();
                std::hint::black_box(new);
            }
            Op::Query => {
                let page = self
                    .orders
                    .query(Order::by_user(user_id(i % USERS)))
                    .limit(PER_USER)
                    .await
                    .unwrap();
                assert_eq!(page.items.len(), PER_USER);
                std::hint::black_box(page);
            }
            Op::GetMany => {
                let keys = (0..MANY).map(|k| self.ids[(i + k) % ORDERS].as_str());
                let got = self.orders.get_many(keys).await.unwrap();
                assert_eq!(got.len(), MANY);
                std::hint::black_box(got);
            }
        }
    }

    async fn sdk_op(&self, op: Op, i: usize) {
        let id = &self.ids[i % ORDERS];
        match op {
            Op::Get | Op::GetDynamic => {
                let out = self
                    .sdk
                    .get_item()
                    .table_name(&self.table)
                    .key("orderId", AttributeValue::S(id.clone()))
                    .consistent_read(true)
                    .send()
                    .await
                    .unwrap();
                if op == Op::Get {
                    let order = from_attrs(out.item().expect("the order")).unwrap();
                    std::hint::black_box(order);
                } else {
                    std::hint::black_box(out.item.expect("the order"));
                }
            }
            Op::Upsert => {
                self.sdk
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(to_attrs(&self.all[i % ORDERS])))
                    .send()
                    .await
                    .unwrap();
            }
            Op::Update | Op::UpdateSameGuard => {
                let request = self
                    .sdk
                    .update_item()
                    .table_name(&self.table)
                    .key("orderId", AttributeValue::S(id.clone()))
                    .update_expression("ADD #views :one")
                    .expression_attribute_names("#views", "views")
                    .expression_attribute_names("#id", "orderId")
                    .expression_attribute_values(":one", AttributeValue::N("1".to_owned()))
                    .return_values(ReturnValue::AllNew);
                let request = if op == Op::Update {
                    request.condition_expression("attribute_exists(#id)")
                } else {
                    // What kvs sends: the item exists, and the ADD stays in the i64 range
                    // unless the number is already beyond it (a decimal, added exactly;
                    // a value of another type is left to DynamoDB to refuse).
                    request
                        .condition_expression(
                            "(attribute_exists(#id)) AND ((attribute_not_exists(#views)) OR \
                             (NOT (attribute_type(#views, :n))) OR (#views <= :max) OR \
                             (#views > :end))",
                        )
                        .expression_attribute_values(":n", AttributeValue::S("N".to_owned()))
                        .expression_attribute_values(
                            ":max",
                            AttributeValue::N((i64::MAX - 1).to_string()),
                        )
                        .expression_attribute_values(
                            ":end",
                            AttributeValue::N(i64::MAX.to_string()),
                        )
                        .return_values_on_condition_check_failure(
                            aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
                        )
                };
                let out = request.send().await.unwrap();
                let order = from_attrs(out.attributes().expect("the new order")).unwrap();
                std::hint::black_box(order);
            }
            Op::Query => {
                let out = self
                    .sdk
                    .query()
                    .table_name(&self.table)
                    .index_name("byUser")
                    .key_condition_expression("#u = :u")
                    .expression_attribute_names("#u", "userId")
                    .expression_attribute_values(":u", AttributeValue::S(user_id(i % USERS)))
                    .limit(PER_USER as i32)
                    .send()
                    .await
                    .unwrap();
                let items = out
                    .items()
                    .iter()
                    .map(from_attrs)
                    .collect::<Result<Vec<_>, _>>()
                    .unwrap();
                assert_eq!(items.len(), PER_USER);
                std::hint::black_box(items);
            }
            Op::GetMany => {
                let ids = (0..MANY).map(|k| &self.ids[(i + k) % ORDERS]);
                let got = self.sdk_batch_get(ids).await;
                assert_eq!(got.len(), MANY);
                std::hint::black_box(got);
            }
        }
    }

    /// One `BatchGetItem` (at most 100 keys), and again for any unprocessed keys; the
    /// answers in the order asked, `None` for a key not found (what `get_many` returns).
    async fn sdk_batch_get<'a>(
        &self,
        ids: impl Iterator<Item = &'a String> + Clone,
    ) -> Vec<Option<Order>> {
        let mut pending: Vec<Attrs> = ids
            .clone()
            .map(|id| HashMap::from([("orderId".to_owned(), AttributeValue::S(id.clone()))]))
            .collect();
        let mut found = HashMap::with_capacity(pending.len());
        while !pending.is_empty() {
            let keys = KeysAndAttributes::builder()
                .set_keys(Some(pending))
                .consistent_read(true)
                .build()
                .unwrap();
            let out = self
                .sdk
                .batch_get_item()
                .request_items(&self.table, keys)
                .send()
                .await
                .unwrap();
            for attrs in out
                .responses
                .as_ref()
                .and_then(|r| r.get(&self.table))
                .into_iter()
                .flatten()
            {
                let order = from_attrs(attrs).unwrap();
                found.insert(order.order_id.clone(), order);
            }
            pending = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.table))
                .map(|k| k.keys)
                .unwrap_or_default();
        }
        ids.map(|id| found.remove(id)).collect()
    }
}

// ---- Wall time ----

struct Args {
    quick: bool,
    callgrind: bool,
    wall: bool,
    callgrind_dir: Option<std::path::PathBuf>,
}

struct WallRow {
    name: String,
    baseline: String,
    /// What was measured.
    m: Paired,
    goal: &'static str,
}

fn micros(s: f64) -> String {
    let us = s * 1e6;
    if us >= 1000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{us:.0} µs")
    }
}

fn print_wall_table(rows: &[WallRow]) {
    println!("| operation | kvs | SDK by hand | baseline | kvs / SDK (time) | goal |");
    println!("|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {:.3}x | {} |",
            r.name,
            micros(r.m.a),
            micros(r.m.b),
            r.baseline,
            r.m.ratio,
            r.goal
        );
    }
}

/// Rounds, and operations per round: many short rounds (about 15 ms a side), so that
/// the pairing cancels the drift of the machine's load.
fn plan(args: &Args, per: usize) -> (usize, usize) {
    (if args.quick { 31 } else { 201 }, per)
}

fn wall(args: &Args) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let endpoint = rt.block_on(start_dynoxide());
    let ctx = Ctx::new(&endpoint);
    rt.block_on(ctx.load());

    let mut rng = StdRng::seed_from_u64(7);
    let picks: Vec<usize> = (0..4096).map(|_| rng.random_range(0..ORDERS)).collect();
    let mut rows = Vec::new();
    for op in Op::ALL {
        let (rounds, per) = plan(
            args,
            match op {
                Op::GetMany => 3,
                Op::Query => 12,
                _ => 32,
            },
        );
        let (mut at_a, mut at_b) = (0, 0);
        let side = |side: Side, at: &mut usize, n: usize| {
            rt.block_on(async {
                for _ in 0..n {
                    *at = (*at + 1) % picks.len();
                    ctx.run(op, side, picks[*at]).await;
                }
            })
        };
        let m = interleaved_paired(
            rounds,
            per,
            |n| side(Side::Kvs, &mut at_a, n),
            |n| side(Side::Sdk, &mut at_b, n),
        );
        rows.push(WallRow {
            name: op.label().to_owned(),
            baseline: op.baseline().to_owned(),
            m,
            goal: "<= 1.05x",
        });
        eprintln!("measured {}", op.id());
    }

    // A get_many of 1,000 keys: the kvs side is counted by the interceptor below; the SDK
    // by hand sends its 10 batches concurrently too.
    let large: Vec<&str> = ctx.ids[..LARGE_MANY].iter().map(String::as_str).collect();
    let kvs_large = |orders: &Store<Order>| {
        rt.block_on(async {
            let got = orders.get_many(large.iter().copied()).await.unwrap();
            assert!(got.iter().all(Option::is_some));
            std::hint::black_box(got);
        })
    };
    let (rounds, _) = plan(args, 1);
    let m = interleaved_paired(
        rounds / 2,
        1,
        |_| kvs_large(&ctx.orders),
        |_| {
            rt.block_on(async {
                let chunks = ctx.ids[..LARGE_MANY]
                    .chunks(MANY)
                    .map(|c| ctx.sdk_batch_get(c.iter()));
                let got: Vec<Option<Order>> = futures::future::join_all(chunks)
                    .await
                    .into_iter()
                    .flatten()
                    .collect();
                assert_eq!(got.len(), LARGE_MANY);
                std::hint::black_box(got);
            })
        },
    );
    rows.push(WallRow {
        name: "get_many 1,000 keys (typed)".to_owned(),
        baseline: "10 BatchGetItem of 100, concurrent + fields by hand, in order".to_owned(),
        m,
        goal: "report",
    });

    // The same get_many on a client that counts the BatchGetItem calls: one call to open
    // the connections, then the counted one.
    let counter = CountBatchGets::default();
    let counted = Kvs::new(DynamoDbBackend::new(&sdk_client(
        &endpoint,
        Some(counter.clone()),
    )));
    counted.register_store(Order::schema()).unwrap();
    let counted = counted.store::<Order>();
    kvs_large(&counted);
    counter.0.calls.store(0, Ordering::SeqCst);
    counter.0.max_in_flight.store(0, Ordering::SeqCst);
    let started = Instant::now();
    kvs_large(&counted);
    let took = started.elapsed();
    let calls = counter.0.calls.load(Ordering::SeqCst);
    let max = counter.0.max_in_flight.load(Ordering::SeqCst);

    println!("\n### Wall time per operation (dynoxide in process)\n");
    print_wall_table(&rows);
    println!(
        "\n(medians over {rounds} paired rounds; kvs / SDK is the median of the per-round ratios)"
    );
    println!("\n### get_many of 1,000 keys, counted by an SDK interceptor\n");
    println!("| request | BatchGetItem calls | most in flight at once | time | goal |");
    println!("|---|---|---|---|---|");
    println!(
        "| get_many of 1,000 keys (all found) | {calls} | {max} | {} | <= 10 calls, concurrent (> 1 in flight) |",
        micros(took.as_secs_f64())
    );
}

// ---- Projections: an item with a large field, read whole and projected ----

/// An article whose body is most of its size.
#[derive(KeyValueStore, serde::Serialize, serde::Deserialize)]
#[kvs(store = "bench_articles", partition_key = author, sort_key = seq)]
struct Article {
    author: String,
    seq: i64,
    title: String,
    words: i64,
    body: String,
}

/// What a listing reads: no body. (Read only to be dropped.)
#[allow(dead_code)]
#[derive(Projection, serde::Deserialize)]
#[kvs(model = Article)]
struct ArticleTitle {
    author: String,
    seq: i64,
    title: String,
    words: i64,
}

/// Articles per author, and the size of each body.
const ARTICLES: i64 = 20;
const BODY: usize = 64 * 1024;

/// An item with a 64 KB body, read whole and through a projection that leaves the body
/// out (sent as DynamoDB's `ProjectionExpression`): a get, and a query of 20 items.
fn projections(args: &Args) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let endpoint = rt.block_on(start_dynoxide());
    let kvs = Kvs::new(DynamoDbBackend::new(&sdk_client(&endpoint, None)));
    let articles = kvs.store::<Article>();
    rt.block_on(async {
        articles.ensure().await.unwrap();
        let all: Vec<Article> = (0..ARTICLES)
            .map(|seq| Article {
                author: "ann".into(),
                seq,
                title: format!("title {seq}"),
                words: seq * 1_000,
                body: "lorem ipsum ".repeat(BODY / 12),
            })
            .collect();
        articles.upsert_many(&all).await.unwrap();
    });
    let (rounds, _) = plan(args, 1);
    let mut rows = Vec::new();
    let mut at = (0, 0);
    let get = |projected: bool, at: &mut i64, n: usize| {
        rt.block_on(async {
            for _ in 0..n {
                *at = (*at + 1) % ARTICLES;
                if projected {
                    let t = articles.get_projected::<ArticleTitle>(("ann", *at)).await;
                    std::hint::black_box(t.unwrap().expect("the article"));
                } else {
                    let a = articles.get(("ann", *at)).await;
                    std::hint::black_box(a.unwrap().expect("the article"));
                }
            }
        })
    };
    let m = interleaved_paired(
        rounds,
        8,
        |n| get(true, &mut at.0, n),
        |n| get(false, &mut at.1, n),
    );
    rows.push(("get (typed)", m));
    let query = |projected: bool, n: usize| {
        rt.block_on(async {
            for _ in 0..n {
                if projected {
                    let page = articles
                        .query(Article::partition("ann"))
                        .project::<ArticleTitle>()
                        .await
                        .unwrap();
                    assert_eq!(page.items.len(), ARTICLES as usize);
                    std::hint::black_box(page);
                } else {
                    let page = articles.query(Article::partition("ann")).await.unwrap();
                    assert_eq!(page.items.len(), ARTICLES as usize);
                    std::hint::black_box(page);
                }
            }
        })
    };
    let m = interleaved_paired(rounds / 2, 1, |n| query(true, n), |n| query(false, n));
    rows.push(("query of 20 items (typed)", m));
    println!(
        "\n### Projections: an item with a {} KB body (dynoxide in process)\n",
        BODY / 1024
    );
    println!("| operation | projected (no body) | whole item | projected / whole (time) |");
    println!("|---|---|---|---|");
    for (name, m) in rows {
        println!(
            "| {name} | {} | {} | {:.3}x |",
            micros(m.a),
            micros(m.b),
            m.ratio
        );
    }
}

// ---- Instructions per operation, with callgrind ----

/// `--callgrind-client MODE N ENDPOINT`: the client side alone, as run under callgrind.
/// MODE is `none` (the set-up only) or `kvs-OP` / `sdk-OP`.
fn callgrind_client(mode: &str, n: usize, endpoint: &str) {
    let measured = match mode {
        "none" => None,
        _ => {
            let (side, op) = mode.split_once('-').expect("a mode: kvs-OP or sdk-OP");
            let side = match side {
                "kvs" => Side::Kvs,
                "sdk" => Side::Sdk,
                other => panic!("unknown side {other:?}"),
            };
            Some((side, Op::parse(op).expect("a known operation")))
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let ctx = Ctx::new(endpoint);
    rt.block_on(async {
        // The same warm-up in every mode, so that the set-up run subtracts it: every
        // operation on both sides, opening the connection and filling lazy caches.
        for op in Op::ALL {
            for side in [Side::Kvs, Side::Sdk] {
                for i in 0..3 {
                    ctx.run(op, side, i).await;
                }
            }
        }
        if let Some((side, op)) = measured {
            for i in 0..n {
                ctx.run(op, side, i.wrapping_mul(7919)).await;
            }
        }
    });
}

/// Runs the client side under callgrind; its total instruction count.
fn callgrind_run(dir: &Path, mode: &str, n: usize, endpoint: &str) -> u64 {
    let out = dir.join(format!("callgrind.out.{mode}"));
    kvs_benches::callgrind_total(
        &out,
        &["--callgrind-client", mode, &n.to_string(), endpoint],
    )
}

fn callgrind(args: &Args, only: Option<(&str, usize)>) {
    if Command::new("valgrind").arg("--version").output().is_err() {
        println!("\n(valgrind not found: no instruction counts)");
        return;
    }
    let server = ServerProcess::start();
    // The callgrind files are kept in `--callgrind-dir DIR` if given (for
    // `callgrind_annotate`), else in a temporary directory.
    let temp = tempfile::tempdir().unwrap();
    let dir = args.callgrind_dir.as_deref().unwrap_or(temp.path());
    std::fs::create_dir_all(dir).unwrap();
    let started = Instant::now();
    let base = callgrind_run(dir, "none", 0, &server.endpoint);
    let per_op = |mode: &str, n: usize| {
        let total = callgrind_run(dir, mode, n, &server.endpoint);
        total.saturating_sub(base) as f64 / n as f64
    };
    if let Some((mode, n)) = only {
        println!(
            "{mode}: {:.0} instructions/op ({n} ops, set-up {base} subtracted)",
            per_op(mode, n)
        );
        return;
    }
    let mut rows = Vec::new();
    for op in Op::ALL {
        let n = match (op, args.quick) {
            (Op::GetMany, true) => 30,
            (Op::GetMany, false) => 200,
            (_, true) => 300,
            (_, false) => 2000,
        };
        let kvs = per_op(&format!("kvs-{}", op.id()), n);
        let sdk = per_op(&format!("sdk-{}", op.id()), n);
        eprintln!("counted {} ({:.0?})", op.id(), started.elapsed());
        rows.push((op, n, kvs, sdk));
    }
    println!(
        "\n### Client-side instructions per operation (callgrind, dynoxide in another process)\n"
    );
    println!("| operation | kvs | SDK by hand | kvs / SDK | ops per run | goal |");
    println!("|---|---|---|---|---|---|");
    for (op, n, kvs, sdk) in rows {
        println!(
            "| {} | {:.0} | {:.0} | {:.3}x | {n} | <= 1.1x |",
            op.label(),
            kvs,
            sdk,
            kvs / sdk
        );
    }
    println!("\n(set-up run, subtracted: {base} instructions)");
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let flag = |f: &str| argv.iter().any(|a| a == f);
    let position = |f: &str| argv.iter().position(|a| a == f);
    if flag("--serve") {
        return serve();
    }
    if let Some(p) = position("--callgrind-client") {
        let n = argv[p + 2].parse().expect("a number of operations");
        return callgrind_client(&argv[p + 1], n, &argv[p + 3]);
    }
    let args = Args {
        quick: flag("--quick"),
        callgrind: !flag("--no-callgrind"),
        wall: !flag("--callgrind-only"),
        callgrind_dir: position("--callgrind-dir").map(|p| argv[p + 1].clone().into()),
    };
    if flag("--projections") {
        return projections(&args);
    }
    // `--callgrind kvs-get 2000`: one instruction count alone.
    if let Some(p) = position("--callgrind") {
        let n = argv[p + 2].parse().expect("a number of operations");
        return callgrind(&args, Some((&argv[p + 1], n)));
    }
    let started = Instant::now();
    if args.wall {
        wall(&args);
        projections(&args);
    }
    if args.callgrind {
        callgrind(&args, None);
    }
    eprintln!("\ntook {:.0?}", started.elapsed());
}
