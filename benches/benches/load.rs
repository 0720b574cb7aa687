//! A load test of the embedded engine (the local file, durable, and the in-memory store):
//! closed-loop tasks on a tokio multi-thread runtime doing reads, writes, a mix, and
//! ADDs on one hot item, at 1 to 64 tasks, each run bounded in time.
//!
//! Run: `cargo bench -p kvs-benches --bench load` (add `-- --quick` for short runs,
//! `-- --seconds S` for the length of each run, `-- --tasks 1,2,8` for the task counts,
//! `-- --rounds R` to run every task count R times in alternating order and print the
//! median speed-ups, `-- --workers-per-task` to give each run a runtime of as many
//! workers as tasks (up to the cores),
//! `-- --stores local` or `memory` for one store, `-- --workloads read,write` for some
//! workloads). It prints, per store and workload, a markdown table: operations per
//! second, the speed-up over one task, latency percentiles (p50, p99, the slowest),
//! errors by kind, and for the hot-key ADDs whether the counter is exact (its final
//! value is the number of ADDs acknowledged).
//!
//! The store holds 10,000 items of 7 attributes (three strings, an integer, a float, a
//! string set, a nested map), the typed `User` of the engine bench. Reads are typed gets
//! of random keys; writes are typed upserts of random keys (on the local file, each one
//! durable: committed to disk before it is acknowledged); the mix is 90% reads and 10%
//! writes; hot-key ADDs are `update(..).add(count, 1)` on one item by every task. The
//! references: `raw-read`, redb gets in a kept read transaction with no kvs at all (what
//! redb's own read path gives, shared pages and all), and `own-map`, lookups in a
//! `BTreeMap` each task keeps to itself: how work that shares nothing at all scales on
//! this machine.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use kvs::prelude::*;
use kvs_benches::cpu::{process_cpu_ns, run_queue_waits, waited_between};
use kvs_benches::user::{User, user, user_id};
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde::{Deserialize, Serialize};

/// Items in the store.
const ITEMS: usize = 10_000;

/// The counter every task adds to.
#[derive(KeyValueStore, Serialize, Deserialize, Debug, Clone)]
#[kvs(store = "counters", partition_key = id)]
struct Counter {
    id: String,
    count: i64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Workload {
    Read,
    Write,
    Mix,
    HotAdd,
    /// Raw redb gets on a kept read transaction, no kvs: what redb's read path gives,
    /// the reference for the scaling of `Read`.
    RawRead,
    /// Lookups in a map of the same keys and values that each task keeps to itself: what
    /// the machine gives work that shares no memory at all.
    OwnMap,
}

impl Workload {
    const ALL: [Workload; 6] = [
        Workload::Read,
        Workload::RawRead,
        Workload::OwnMap,
        Workload::Write,
        Workload::Mix,
        Workload::HotAdd,
    ];

    fn name(self) -> &'static str {
        match self {
            Workload::Read => "read",
            Workload::Write => "write",
            Workload::Mix => "mix",
            Workload::HotAdd => "hot-add",
            Workload::RawRead => "raw-read",
            Workload::OwnMap => "own-map",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Workload::Read => "typed gets of random keys",
            Workload::Write => "typed upserts of random keys",
            Workload::Mix => "90% gets, 10% upserts",
            Workload::HotAdd => "ADD 1 to one item's counter, every task",
            Workload::RawRead => {
                "raw redb gets of random keys in a kept read transaction (no kvs), the reference"
            }
            Workload::OwnMap => {
                "lookups of random keys in a BTreeMap each task keeps to itself: nothing shared"
            }
        }
    }
}

/// What one run measured.
struct Run {
    tasks: usize,
    ops: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    errors: BTreeMap<String, usize>,
    /// For hot-key ADDs: the counter's final value against the ADDs acknowledged.
    exact: Option<(i64, usize)>,
    /// This process's CPU time over the run.
    cpu: Duration,
    /// The time its threads waited, runnable, for a core that other work held.
    waited: Duration,
}

impl Run {
    fn rate(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64()
    }

    /// Operations per second of CPU this process spent: what the run did with the cores
    /// it got, whatever else the machine ran.
    fn rate_per_cpu(&self) -> f64 {
        self.ops as f64 / self.cpu.as_secs_f64().max(1e-9)
    }

    /// The cores the run kept busy, on average.
    fn cores_used(&self) -> f64 {
        self.cpu.as_secs_f64() / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let i = ((self.latencies.len() - 1) as f64 * p).round() as usize;
        self.latencies[i]
    }
}

struct Args {
    seconds: f64,
    /// How many times every task count is run, alternating the order, for the median
    /// speed-ups (on a shared machine one run's ratio moves a lot).
    rounds: usize,
    /// Each run on a runtime of as many workers as it has tasks (up to the cores), not
    /// on one runtime of a worker per core: one task then has one core, where on a
    /// runtime with idle workers its every yield can move it to another core.
    workers_per_task: bool,
    tasks: Vec<usize>,
    stores: Vec<String>,
    workloads: Vec<Workload>,
}

impl Args {
    fn parse() -> Args {
        let argv: Vec<String> = std::env::args().skip(1).collect();
        let value = |flag: &str| {
            argv.iter()
                .position(|a| a == flag)
                .and_then(|p| argv.get(p + 1).cloned())
        };
        let quick = argv.iter().any(|a| a == "--quick");
        let list =
            |flag: &str| value(flag).map(|v| v.split(',').map(str::to_owned).collect::<Vec<_>>());
        Args {
            seconds: value("--seconds")
                .and_then(|s| s.parse().ok())
                .unwrap_or(if quick { 0.5 } else { 2.0 }),
            workers_per_task: argv.iter().any(|a| a == "--workers-per-task"),
            rounds: value("--rounds")
                .and_then(|s| s.parse().ok())
                .filter(|&r| r > 0)
                .unwrap_or(1),
            tasks: list("--tasks")
                .map(|l| l.iter().filter_map(|t| t.parse().ok()).collect())
                .unwrap_or_else(|| vec![1, 2, 4, 8, 16, 64]),
            stores: list("--stores").unwrap_or_else(|| vec!["memory".into(), "local".into()]),
            workloads: list("--workloads")
                .map(|l| {
                    Workload::ALL
                        .into_iter()
                        .filter(|w| l.iter().any(|n| n == w.name()))
                        .collect()
                })
                .unwrap_or_else(|| Workload::ALL.to_vec()),
        }
    }
}

/// A store loaded with `ITEMS` users and the counter at 0.
async fn open(store: &str, dir: &std::path::Path) -> Kvs {
    let kvs = match store {
        "memory" => Kvs::memory(),
        _ => Kvs::open(dir.join(format!("load-{}.redb", rand::random::<u32>()))).expect("open"),
    };
    let users = kvs.store::<User>();
    users.ensure().await.expect("ensure");
    let all: Vec<User> = (0..ITEMS).map(user).collect();
    for chunk in all.chunks(1_000) {
        users.upsert_many(chunk).await.expect("load");
    }
    let counters = kvs.store::<Counter>();
    counters.ensure().await.expect("ensure");
    counters
        .upsert(&Counter {
            id: "hot".into(),
            count: 0,
        })
        .await
        .expect("counter");
    kvs
}

/// One closed-loop task: operations until `stop`, each timed.
/// A redb table of `ITEMS` keys with values of a typed user's size, kept open for reads
/// (with its database, which must outlive it).
struct RawTable {
    table: redb::ReadOnlyTable<&'static [u8], &'static [u8]>,
    _db: redb::Database,
}

fn raw_table() -> Arc<RawTable> {
    use redb::{ReadableDatabase, TableDefinition};
    const T: TableDefinition<&[u8], &[u8]> = TableDefinition::new("users");
    let db = redb::Database::builder()
        .create_with_backend(redb::backends::InMemoryBackend::new())
        .expect("a database");
    let w = db.begin_write().expect("a write");
    {
        let mut t = w.open_table(T).expect("a table");
        let value = vec![7u8; 200];
        for i in 0..ITEMS {
            t.insert(user(i).id.as_bytes(), value.as_slice())
                .expect("insert");
        }
    }
    w.commit().expect("commit");
    let r = db.begin_read().expect("a read");
    let table = r.open_table(T).expect("the table");
    Arc::new(RawTable { table, _db: db })
}

async fn task(
    kvs: Kvs,
    workload: Workload,
    seed: u64,
    stop: Arc<AtomicBool>,
    raw: Option<Arc<RawTable>>,
    own: Option<BTreeMap<Vec<u8>, Vec<u8>>>,
) -> (Vec<Duration>, BTreeMap<String, usize>, usize) {
    let users = kvs.store::<User>();
    let counters = kvs.store::<Counter>();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut latencies = Vec::new();
    let mut errors = BTreeMap::new();
    let mut added = 0;
    let count = Counter::fields().count();
    while !stop.load(Ordering::Relaxed) {
        let i = rng.random_range(0..ITEMS);
        let write = match workload {
            Workload::Read => false,
            Workload::Write => true,
            Workload::Mix => rng.random_range(0..10) == 0,
            Workload::HotAdd | Workload::RawRead | Workload::OwnMap => false,
        };
        let started = Instant::now();
        if let Some(own) = &own {
            let key = user_id(i);
            let found = own.get(key.as_bytes());
            std::hint::black_box(found.expect("every key is there").len());
            latencies.push(started.elapsed());
            tokio::task::consume_budget().await;
            continue;
        }
        if let Some(raw) = &raw {
            let key = user_id(i);
            let found = raw.table.get(key.as_bytes()).expect("a raw get");
            std::hint::black_box(found.expect("every key is there").value().len());
            latencies.push(started.elapsed());
            tokio::task::consume_budget().await;
            continue;
        }
        let result = match workload {
            Workload::RawRead | Workload::OwnMap => unreachable!("read above"),
            Workload::HotAdd => counters
                .update("hot")
                .add(count.clone(), 1)
                .await
                .map(|_| added += 1),
            _ if write => users.upsert(&user(i)).await,
            _ => users.get(user_id(i)).await.map(|found| {
                std::hint::black_box(found.expect("every user is there"));
            }),
        };
        latencies.push(started.elapsed());
        if let Err(e) = result {
            *errors.entry(e.kind().to_string()).or_insert(0) += 1;
        }
    }
    (latencies, errors, added)
}

async fn run(kvs: &Kvs, workload: Workload, tasks: usize, seconds: f64) -> Run {
    let raw = (workload == Workload::RawRead).then(raw_table);
    let counters = kvs.store::<Counter>();
    let before = counters.get("hot").await.unwrap().map_or(0, |c| c.count);
    let stop = Arc::new(AtomicBool::new(false));
    // Each task's own copy of the keys and values `raw-read` reads, made before the clock
    // starts.
    let mut own: Vec<_> = (0..tasks)
        .map(|_| {
            (workload == Workload::OwnMap).then(|| {
                (0..ITEMS)
                    .map(|i| (user_id(i).into_bytes(), vec![7u8; 200]))
                    .collect::<BTreeMap<_, _>>()
            })
        })
        .collect();
    let (cpu, waits) = (process_cpu_ns(), run_queue_waits());
    let started = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            tokio::spawn(task(
                kvs.clone(),
                workload,
                t as u64 + 1,
                stop.clone(),
                raw.clone(),
                own[t].take(),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    let mut errors = BTreeMap::new();
    let mut added = 0;
    for h in handles {
        let (l, e, a) = h.await.expect("a task");
        latencies.extend(l);
        for (k, n) in e {
            *errors.entry(k).or_insert(0) += n;
        }
        added += a;
    }
    let elapsed = started.elapsed();
    let cpu = Duration::from_nanos(process_cpu_ns() - cpu);
    let waited = waited_between(&waits, &run_queue_waits());
    latencies.sort_unstable();
    let exact = if workload == Workload::HotAdd {
        let after = counters.get("hot").await.unwrap().map_or(0, |c| c.count);
        Some((after - before, added))
    } else {
        None
    };
    Run {
        tasks,
        ops: latencies.len(),
        elapsed,
        latencies,
        errors,
        exact,
        cpu,
        waited,
    }
}

fn ms(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us >= 1000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{us:.1} µs")
    }
}

fn print(store: &str, workload: Workload, runs: &[Run]) {
    println!(
        "\n### {store}: {} ({})\n",
        workload.name(),
        workload.describe()
    );
    println!(
        "| tasks | ops/s | vs 1 task | p50 | p99 | slowest | slowest / p50 | errors | exact | cores busy |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let one = runs.first().map_or(1.0, Run::rate);
    for r in runs {
        let errors = if r.errors.is_empty() {
            "none".to_owned()
        } else {
            r.errors
                .iter()
                .map(|(k, n)| format!("{k}: {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let exact = match r.exact {
            None => "".to_owned(),
            Some((counted, acked)) if counted == acked as i64 => format!("yes ({acked})"),
            Some((counted, acked)) => format!("NO: {counted} counted, {acked} acknowledged"),
        };
        let p50 = r.percentile(0.5);
        let slowest = r.latencies.last().copied().unwrap_or_default();
        println!(
            "| {} | {:.0} | {:.2}x | {} | {} | {} | {:.0}x | {errors} | {exact} | {:.2} |",
            r.tasks,
            r.rate(),
            r.rate() / one,
            ms(p50),
            ms(r.percentile(0.99)),
            ms(slowest),
            slowest.as_secs_f64() / p50.as_secs_f64().max(1e-9),
            r.cores_used(),
        );
    }
}

/// The median over rounds of each task count's rate, and of its speed-up over one task
/// in the same round; beside them, the same per second of CPU the process spent, and
/// the cores it kept busy and waited for.
///
/// On a shared machine the wall-clock speed-up is capped by the cores other work leaves
/// free. Operations per CPU-second are not: if `n` tasks keep them (a ratio of 1.00x),
/// the readers do not slow each other down, and with a core each they go `n` times as
/// fast; a lock they wait on shows as cores left idle with no other work waiting.
fn print_scaling(tasks: &[usize], rounds: &[Vec<Run>]) {
    fn median(mut v: Vec<f64>) -> f64 {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    }
    fn range(v: &[f64]) -> (f64, f64) {
        v.iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)))
    }
    println!(
        "\nMedians of {} rounds (task counts run in alternating order):\n",
        rounds.len()
    );
    println!(
        "| tasks | ops/s | vs 1 task (median of the rounds' ratios) | lowest, highest ratio | ops per CPU-second, vs 1 task | lowest, highest | tasks x that | cores busy | waited for a core, of the run's time |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (i, t) in tasks.iter().enumerate() {
        let ratios: Vec<f64> = rounds.iter().map(|r| r[i].rate() / r[0].rate()).collect();
        let (lo, hi) = range(&ratios);
        let per_cpu: Vec<f64> = rounds
            .iter()
            .map(|r| r[i].rate_per_cpu() / r[0].rate_per_cpu())
            .collect();
        let (cpu_lo, cpu_hi) = range(&per_cpu);
        let per_cpu = median(per_cpu);
        println!(
            "| {t} | {:.0} | {:.2}x | {lo:.2}x, {hi:.2}x | {per_cpu:.2}x | {cpu_lo:.2}x, {cpu_hi:.2}x | {:.2}x | {:.2} | {:.0}% |",
            median(rounds.iter().map(|r| r[i].rate()).collect()),
            median(ratios),
            *t as f64 * per_cpu,
            median(rounds.iter().map(|r| r[i].cores_used()).collect()),
            median(
                rounds
                    .iter()
                    .map(|r| 100.0 * r[i].waited.as_secs_f64() / r[i].elapsed.as_secs_f64())
                    .collect()
            ),
        );
    }
}

fn main() {
    let args = Args::parse();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "## Load test: {} s per run, {cores} cores, tokio multi-thread runtime ({cores} workers)",
        args.seconds
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let started = Instant::now();
    let mut exact = true;
    for store in &args.stores {
        let kvs = runtime.block_on(open(store, dir.path()));
        for &workload in &args.workloads {
            let mut rounds: Vec<Vec<Run>> = Vec::new();
            for round in 0..args.rounds {
                // Ascending, then descending: a drift of the machine over a round (its
                // clock, other work) does not favour one task count.
                let mut order: Vec<usize> = (0..args.tasks.len()).collect();
                if round % 2 == 1 {
                    order.reverse();
                }
                let mut runs: Vec<Option<Run>> = args.tasks.iter().map(|_| None).collect();
                for i in order {
                    let tasks = args.tasks[i];
                    let r = if args.workers_per_task {
                        tokio::runtime::Builder::new_multi_thread()
                            .worker_threads(tasks.min(cores))
                            .enable_all()
                            .build()
                            .expect("a runtime")
                            .block_on(run(&kvs, workload, tasks, args.seconds))
                    } else {
                        runtime.block_on(run(&kvs, workload, tasks, args.seconds))
                    };
                    exact &= r.exact.is_none_or(|(c, a)| c == a as i64);
                    eprintln!(
                        "{store} {} x{tasks}: {:.0} ops/s",
                        workload.name(),
                        r.rate()
                    );
                    runs[i] = Some(r);
                }
                rounds.push(
                    runs.into_iter()
                        .map(|r| r.expect("every task count ran"))
                        .collect(),
                );
            }
            print(store, workload, rounds.last().expect("a round"));
            if rounds.len() > 1 {
                print_scaling(&args.tasks, &rounds);
            }
        }
    }
    eprintln!("\ntook {:.0?}", started.elapsed());
    assert!(exact, "a hot-key counter lost or doubled an ADD");
}
