//! The embedded engine takes its turn on the async runtime: a burst of cached reads or
//! in-memory writes, whose futures could each be ready at once, must not stall the
//! timers and other tasks of a service.
//!
//! Each case runs closed-loop reader and writer tasks, more of them than the runtime has
//! workers, beside a probe task that sleeps 5 ms in a loop, on a multi-thread runtime
//! with 2 workers; then checks that the probe never woke much later than asked (a
//! generous bound: this is not a benchmark) and that every task got turns. An engine
//! that never yields fails every case: its first tasks keep both workers for the whole
//! run, and the probe and the other tasks never run.
//!
//! The bound: with turns, the probe waits at worst for each task queued on its worker to
//! spend its scheduling budget (128 cached reads, or 16 writes). Unoptimized, on a
//! shared 2-core machine, that is up to about 50 ms a task; each case keeps to 3 or 4
//! tasks on 2 workers, so about 100 ms. The bound is ten times that, because a loaded
//! CI machine can take a core away for hundreds of milliseconds; a stall is still told
//! apart, since an engine that never yields keeps the probe waiting the whole run.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kvs::{Key, KeyAttr, Kvs, StoreSchema, item};

/// Worker threads of the runtime.
const WORKERS: usize = 2;
/// How long the load runs.
const RUN: Duration = Duration::from_millis(3000);
/// The probe's sleep.
const TICK: Duration = Duration::from_millis(5);
/// The latest a probe may wake after its sleep ends: far above any scheduling noise of a
/// shared machine, far below a stall (which lasts the whole run).
const LATE_BOUND: Duration = Duration::from_millis(1000);

/// Partitions, and items in each, loaded before the run.
const GROUPS: i64 = 10;
const PER_GROUP: i64 = 10;

/// Cases run one at a time: each measures timing, which a sibling case's threads on the
/// same cores would blur.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Which tasks a case runs against one store.
#[derive(Clone, Copy)]
struct Load {
    readers: usize,
    writers: usize,
    /// Readers do only gets (answered at once, through `Backend::get_now`), rather than
    /// each kind of read in turn.
    only_gets: bool,
}

/// What a case saw.
struct Report {
    /// The latest the probe ran past the time it was due (the end of its sleep, or its
    /// start).
    worst_late: Duration,
    probe_wakes: u64,
    /// Operations done by each reader and writer task, by name.
    ops: Vec<(String, u64)>,
}

async fn prepare(kvs: &Kvs) {
    kvs.ensure_store(
        StoreSchema::new("events", KeyAttr::string("group")).sort_key(KeyAttr::number("n")),
    )
    .await
    .unwrap();
    let items = (0..GROUPS).flat_map(|g| {
        (0..PER_GROUP).map(move |n| item! { "group" => format!("g{g}"), "n" => n, "hits" => 0 })
    });
    kvs.upsert_many("events", items).await.unwrap();
}

fn key(i: u64) -> Key {
    let i = i as i64;
    Key::with_sort(format!("g{}", i % GROUPS), (i / GROUPS) % PER_GROUP)
}

/// One reader step: each kind of read in turn, all served from the shared snapshot.
async fn read(kvs: &Kvs, i: u64) {
    match i % 4 {
        0 => {
            kvs.get("events", key(i)).await.unwrap().unwrap();
        }
        1 => {
            let got = kvs.get_many("events", [key(i), key(i + 1)]).await.unwrap();
            assert_eq!(got.len(), 2);
        }
        2 => {
            let page = kvs
                .query("events", format!("g{}", i as i64 % GROUPS))
                .limit(5)
                .await
                .unwrap();
            assert_eq!(page.items.len(), 5);
        }
        _ => {
            let page = kvs.scan("events").limit(5).await.unwrap();
            assert_eq!(page.items.len(), 5);
        }
    }
}

/// One writer step: a whole-item upsert or an update, each its own write transaction.
async fn write(kvs: &Kvs, task: usize, i: u64) {
    if i.is_multiple_of(2) {
        let n = PER_GROUP + (i % 50) as i64;
        let item = item! { "group" => format!("w{task}"), "n" => n, "hits" => i as i64 };
        kvs.upsert("events", item).await.unwrap();
    } else {
        kvs.update("events", key(i)).add("hits", 1).await.unwrap();
    }
}

/// Runs `load` against each store beside the probe, on a fresh 2-worker runtime.
fn run(stores: Vec<(&'static str, Kvs)>, load: Load) -> Report {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        for (_, kvs) in &stores {
            prepare(kvs).await;
        }
        // Ended by a plain thread, not a timer: on an engine that never yields the
        // runtime's timers do not fire, and the case must end (and fail) all the same.
        let stop = Arc::new(AtomicBool::new(false));
        // Started first, so that a probe never polled at all counts as late by the whole
        // time it waited.
        let probe = {
            let stop = stop.clone();
            let mut due = Instant::now();
            tokio::spawn(async move {
                let (mut worst, mut wakes) = (Duration::ZERO, 0);
                loop {
                    // Zero when the probe runs before it is due.
                    worst = worst.max(due.elapsed());
                    if stop.load(Ordering::Relaxed) {
                        break (worst, wakes);
                    }
                    due = Instant::now() + TICK;
                    tokio::time::sleep(TICK).await;
                    wakes += 1;
                }
            })
        };
        let mut tasks = Vec::new();
        for (store, kvs) in &stores {
            for (role, count) in [("reader", load.readers), ("writer", load.writers)] {
                for t in 0..count {
                    let (kvs, stop) = (kvs.clone(), stop.clone());
                    let ops = Arc::new(AtomicU64::new(0));
                    let done = ops.clone();
                    let task = tokio::spawn(async move {
                        let mut i = t as u64 * 7;
                        while !stop.load(Ordering::Relaxed) {
                            match role {
                                "reader" if load.only_gets => {
                                    kvs.get("events", key(i)).await.unwrap().unwrap();
                                }
                                "reader" => read(&kvs, i).await,
                                _ => write(&kvs, t, i).await,
                            }
                            i += 1;
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                    });
                    tasks.push((format!("{store} {role} {t}"), ops, task));
                }
            }
        }
        let stopper = std::thread::spawn(move || {
            std::thread::sleep(RUN);
            stop.store(true, Ordering::Relaxed);
        });
        let mut ops = Vec::new();
        for (name, count, task) in tasks {
            task.await.unwrap();
            ops.push((name, count.load(Ordering::Relaxed)));
        }
        let (worst_late, probe_wakes) = probe.await.unwrap();
        stopper.join().unwrap();
        Report {
            worst_late,
            probe_wakes,
            ops,
        }
    })
}

/// Fails the case, saying what went wrong, unless the probe stayed on time and every
/// task got turns.
fn check(report: Report) {
    let idle: Vec<_> = report.ops.iter().filter(|(_, n)| *n == 0).collect();
    assert!(
        report.worst_late <= LATE_BOUND && idle.is_empty(),
        "the probe woke up to {:?} late (bound {LATE_BOUND:?}; {} wakes in {RUN:?}); \
         operations per task: {:?}",
        report.worst_late,
        report.probe_wakes,
        report.ops,
    );
}

fn file_store(dir: &tempfile::TempDir) -> Kvs {
    Kvs::open(dir.path().join("runtime.redb")).unwrap()
}

/// Cached gets, batch gets, queries and scans of the in-memory store: each is ready at
/// once, so only the engine's taking its turn lets the probe run.
#[test]
fn memory_reads_leave_the_probe_on_time() {
    let load = Load {
        readers: WORKERS + 1,
        writers: 0,
        only_gets: false,
    };
    check(run(vec![("memory", Kvs::memory())], load));
}

/// Gets alone: each is answered at once, so only the library's taking the get's turn
/// lets the probe run.
#[test]
fn gets_alone_leave_the_probe_on_time() {
    let load = Load {
        readers: WORKERS + 1,
        writers: 0,
        only_gets: true,
    };
    check(run(vec![("memory", Kvs::memory())], load));
}

/// The same reads of a file store, all from its shared, cached read snapshot.
#[test]
fn file_reads_leave_the_probe_on_time() {
    let dir = tempfile::tempdir().unwrap();
    let load = Load {
        readers: WORKERS + 1,
        writers: 0,
        only_gets: false,
    };
    check(run(vec![("file", file_store(&dir))], load));
}

/// In-memory writes: no disk to wait for, and writers that contend for the one write
/// transaction wait for it without holding a worker.
#[test]
fn memory_writes_leave_the_probe_on_time() {
    let load = Load {
        readers: 0,
        writers: WORKERS + 1,
        only_gets: false,
    };
    check(run(vec![("memory", Kvs::memory())], load));
}

/// Readers and writers of an in-memory store and of a file store at once: the file's
/// commits wait for the disk without holding a worker.
#[test]
fn reads_and_writes_of_both_stores_leave_the_probe_on_time() {
    let dir = tempfile::tempdir().unwrap();
    let load = Load {
        readers: 1,
        writers: 1,
        only_gets: false,
    };
    check(run(
        vec![("memory", Kvs::memory()), ("file", file_store(&dir))],
        load,
    ));
}
