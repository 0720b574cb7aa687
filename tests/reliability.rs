//! Reliability: concurrent writers lose nothing, a killed writer loses no acknowledged
//! write, a store file is never opened twice or mistaken for empty.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use kvs::{ErrorKind, Item, KeyAttr, Kvs, StoreSchema, TransactWrite, Updates, item};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("{}.redb", kvs::conformance::fresh_name(name)))
}

async fn counter_store(kvs: &Kvs) {
    kvs.ensure_store(StoreSchema::new("counters", KeyAttr::string("id")))
        .await
        .unwrap();
    kvs.upsert("counters", item! { "id" => "c", "n" => 0 })
        .await
        .unwrap();
}

/// 8 tasks each ADD 1 a thousand times to one counter: exactly 8,000.
async fn eight_thousand_adds(kvs: Kvs) {
    counter_store(&kvs).await;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let kvs = kvs.clone();
            tokio::spawn(async move {
                for _ in 0..1000 {
                    kvs.update("counters", "c").add("n", 1).await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let item = kvs.get("counters", "c").await.unwrap().unwrap();
    assert_eq!(item["n"], 8000.into());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_adds_lose_nothing_in_memory() {
    eight_thousand_adds(Kvs::memory()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_adds_lose_nothing_in_a_file() {
    let path = temp_path("adds");
    eight_thousand_adds(Kvs::open(&path).unwrap()).await;
    std::fs::remove_file(&path).unwrap();
}

const CHILD_ENV: &str = "KVS_RELIABILITY_CHILD";
/// The writer's seed, round and number of concurrent writers: it makes the same writes
/// as the parent expects.
const WRITES_ENV: &str = "KVS_RELIABILITY_WRITES";
/// Set to replay the kill test with the seed a failed run printed.
const SEED_ENV: &str = "KVS_KILL_SEED";

/// Runs a function of this test binary in a child process (see `child_main`).
fn child(role: &str, path: &Path) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "child_main", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, format!("{role}:{}", path.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// One write of a killed writer.
#[derive(Debug, Clone)]
enum Write {
    Put(Item),
    Delete(String),
    /// ADD 1 to the writer's counter (its id).
    Add(String),
    /// Puts and an ADD 1 to the writer's counter, all or nothing.
    Transact(Vec<Item>, String),
}

/// The most writers the kill tests run at once in one process.
const MOST_WRITERS: usize = 4;

/// The id of writer `writer`'s counter, and the prefix of every id it writes.
fn counter_id(writer: usize) -> String {
    format!("w{writer}-counter")
}

/// The writes of one writer in one round. The writer and the parent make the same
/// sequence from the same seed, so an acknowledgement need only say how far the writer
/// got, and the parent knows the exact value of everything acknowledged. Concurrent
/// writers write items of their own (ids prefixed `w<writer>-`), so that what each
/// acknowledged can be checked on its own, whatever order their writes took.
fn writes(seed: u64, round: u64, writer: usize) -> impl Iterator<Item = Write> {
    let mut rng = StdRng::seed_from_u64(
        seed ^ round.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ (writer as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93),
    );
    let counter = counter_id(writer);
    (0i64..).map(move |step| {
        let id = |rng: &mut StdRng| format!("w{writer}-k{}", rng.random_range(0..40));
        // Values of very different sizes, so that some writes span several pages.
        let item = |rng: &mut StdRng, id: String| {
            let pad_len = if rng.random_bool(0.1) {
                rng.random_range(4_000..20_000)
            } else {
                rng.random_range(0..300)
            };
            item! {
                "id" => id,
                "round" => round as i64,
                "step" => step,
                "f" => rng.random::<f64>(),
                "pad" => "x".repeat(pad_len),
            }
        };
        match rng.random_range(0..10) {
            0..=4 => {
                let id = id(&mut rng);
                Write::Put(item(&mut rng, id))
            }
            5 | 6 => Write::Delete(id(&mut rng)),
            7 | 8 => Write::Add(counter.clone()),
            _ => {
                let a = id(&mut rng);
                let b = format!("{a}-pair");
                Write::Transact(vec![item(&mut rng, a), item(&mut rng, b)], counter.clone())
            }
        }
    })
}

/// What the store holds, by id.
type State = BTreeMap<String, Item>;

fn apply(state: &mut State, write: &Write) {
    let mut put = |it: &Item| {
        state.insert(it["id"].as_str().unwrap().to_owned(), it.clone());
    };
    match write {
        Write::Put(it) => put(it),
        Write::Transact(items, counter) => {
            items.iter().for_each(&mut put);
            bump(state, counter);
        }
        Write::Delete(id) => {
            state.remove(id);
        }
        Write::Add(counter) => bump(state, counter),
    }
}

fn bump(state: &mut State, counter: &str) {
    let counter = state.get_mut(counter).expect("the counter exists");
    let n = counter["n"].as_i64().unwrap();
    counter.set("n", n + 1);
}

async fn run_write(kvs: &Kvs, write: Write) -> kvs::Result<()> {
    match write {
        Write::Put(it) => kvs.upsert("log", it).await,
        Write::Delete(id) => kvs.delete("log", id).await.map(drop),
        Write::Add(counter) => kvs.update("log", counter).add("n", 1).await.map(drop),
        Write::Transact(items, counter) => {
            let puts = items.into_iter().map(|it| TransactWrite::put("log", it));
            let add = TransactWrite::update("log", counter, Updates::new().add("n", 1));
            kvs.transact(puts.chain([add])).await
        }
    }
}

/// Prints one line as a single write and flushes it, so that the parent reads every
/// acknowledgement the child made before it died, and never half of one.
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    out.write_all(format!("\n{line}\n").as_bytes()).unwrap();
    out.flush().unwrap();
}

/// The child side of the multi-process tests; a no-op in a normal test run.
#[test]
fn child_main() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (role, path) = spec.split_once(':').unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    match role {
        // Makes the round's writes until it is killed, saying which ones are done: each
        // writer its own, all of them at once.
        "writer" => rt.block_on(async {
            let spec = std::env::var(WRITES_ENV).unwrap();
            let spec: Vec<u64> = spec.split(' ').map(|n| n.parse().unwrap()).collect();
            let [seed, round, writers] = spec[..] else {
                panic!("{WRITES_ENV}: {spec:?}")
            };
            // To time the kills meant to land while the file is opened (and repaired).
            say("@opening");
            let kvs = Kvs::open(path).unwrap();
            say("@open");
            let writer = |writer: usize| {
                let kvs = kvs.clone();
                async move {
                    for (step, write) in writes(seed, round, writer).enumerate() {
                        run_write(&kvs, write).await.unwrap();
                        say(&format!("@ack {writer} {step}"));
                    }
                }
            };
            futures::future::join_all((0..writers as usize).map(writer)).await;
        }),
        // Tries to open the store and prints the error kind.
        "opener" => match Kvs::open(path) {
            Ok(_) => say("@opened"),
            Err(e) => say(&format!("@error {} {}", e.kind(), e)),
        },
        _ => unreachable!(),
    }
}

/// When a round kills the writer. Kills are timed from what the writer reports, not from
/// its spawn: on a loaded machine, starting the process, opening (and repairing) the file
/// and the first fsync can take most of a second, and a kill timed from the spawn would
/// then mostly come before any write, leaving the round nothing to check.
#[derive(Debug, Clone, Copy)]
enum Kill {
    /// This long after the writer says it is about to open the store: while it opens the
    /// file (repairing it after the last kill), or soon after.
    WhileOpening(Duration),
    /// This long after the writer opened the store and acknowledged `acks` writes (all
    /// its writers together): while it writes, the kill landing anywhere in a write or
    /// its commit.
    AfterAcks { acks: usize, then: Duration },
}

impl Kill {
    /// Whether the writer is far enough for the kill's wait to begin.
    fn ready(&self, progress: &Progress) -> bool {
        match *self {
            Kill::WhileOpening(_) => progress.opening,
            Kill::AfterAcks { acks, .. } => progress.opened && progress.acks >= acks,
        }
    }

    /// How long after that the kill comes.
    fn then(&self) -> Duration {
        match *self {
            Kill::WhileOpening(then) | Kill::AfterAcks { then, .. } => then,
        }
    }
}

/// What one round of the kill test saw.
struct Round {
    /// The writes acknowledged by each writer, counted from its first.
    acked: Vec<usize>,
    /// Whether the writer had opened the store when it was killed.
    opened: bool,
    stderr: String,
}

/// The longest a writer may take to open the store and acknowledge the writes a round
/// waits for, from its spawn: far more than a loaded machine needs (under a second), so
/// that only a writer that is stuck (or far too slow) fails the round.
const WAIT_LIMIT: Duration = Duration::from_secs(60);
/// The longest a writer that opened the store may go without acknowledging a write: it
/// is stuck. (A write takes a few milliseconds here, 100 ms under load; the limit leaves
/// room for a machine stalled for seconds.)
const SILENT_LIMIT: Duration = Duration::from_secs(30);

/// How far a writer got, from the lines it printed.
#[derive(Default)]
struct Progress {
    opening: bool,
    opened: bool,
    /// Acknowledgements of all writers together.
    acks: usize,
    /// When the writer last opened or acknowledged.
    last: Option<Instant>,
}

impl Progress {
    fn note(&mut self, at: Instant, line: &str) {
        match line {
            "@opening" => self.opening = true,
            "@open" => {
                self.opened = true;
                self.last = Some(at);
            }
            _ if line.starts_with("@ack ") => {
                self.acks += 1;
                self.last = Some(at);
            }
            _ => {}
        }
    }
}

/// Runs the writer and kills it at `kill`, whatever it is doing then.
fn kill_writer(path: &Path, seed: u64, round: u64, writers: usize, kill: Kill) -> Round {
    let spawned = Instant::now();
    let mut proc = child("writer", path)
        .env(WRITES_ENV, format!("{seed} {round} {writers}"))
        .spawn()
        .unwrap();
    // Both pipes are drained by threads, so a full pipe never stalls the writer and its
    // output up to the kill is all read. Lines come over a channel as they are read, to
    // time the kill from the writer's progress.
    let stdout = proc.stdout.take().unwrap();
    let stderr = proc.stderr.take().unwrap();
    let (lines_tx, lines) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap() > 0 {
            // A line without its end was cut by the kill and says nothing.
            if line.ends_with('\n') {
                let _ = lines_tx.send((Instant::now(), line.trim_end().to_owned()));
            }
            line.clear();
        }
    });
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        BufReader::new(stderr).read_to_string(&mut text).unwrap();
        text
    });
    // Waits until the writer is far enough for the kill, or fails the round.
    let mut seen = Vec::new();
    let mut progress = Progress::default();
    let waited = loop {
        if kill.ready(&progress) {
            break Ok(());
        }
        let deadline = match progress.last {
            Some(last) => (spawned + WAIT_LIMIT).min(last + SILENT_LIMIT),
            None => spawned + WAIT_LIMIT,
        };
        match lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok((at, line)) => {
                progress.note(at, &line);
                seen.push(line);
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                let acks = progress.acks;
                break Err(match progress.last {
                    Some(last) if last.elapsed() >= SILENT_LIMIT => format!(
                        "the writer is stuck: it opened the store and acknowledged {acks} \
                         writes, then nothing for {SILENT_LIMIT:?}"
                    ),
                    Some(_) => format!(
                        "the writer opened the store but acknowledged only {acks} writes \
                         within {WAIT_LIMIT:?} of its start (waiting for {kill:?})"
                    ),
                    None => format!("the writer did not open the store within {WAIT_LIMIT:?}"),
                });
            }
            // Its output ended: it exited, which a writer only does when it fails.
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                break Err("the writer stopped by itself".to_owned());
            }
        }
    };
    if waited.is_ok() {
        std::thread::sleep(kill.then());
    }
    let exited = proc.try_wait().unwrap();
    proc.kill().unwrap();
    proc.wait().unwrap();
    // The lines printed before the kill; the channel ends when the reader reaches the
    // end of the pipe.
    seen.extend(lines.iter().map(|(_, line)| line));
    reader.join().unwrap();
    let stderr = errors.join().unwrap();
    if let Err(why) = waited {
        panic!("round {round}: {why}; its output:\n{seen:?}\nits stderr:\n{stderr}");
    }
    // The writer only ever stops by being killed: anything else is a failure to report.
    if let Some(status) = exited {
        panic!("round {round}: the writer stopped by itself ({status}); its stderr:\n{stderr}");
    }
    let mut acked = vec![0; writers];
    let mut opened = false;
    for line in seen {
        if line == "@open" {
            opened = true;
        } else if let Some(ack) = line.strip_prefix("@ack ") {
            let (writer, step) = ack.split_once(' ').unwrap();
            let writer: usize = writer.parse().unwrap();
            // Each writer's writes are acknowledged one by one, in order.
            assert_eq!(
                step.parse::<usize>().ok(),
                Some(acked[writer]),
                "round {round}: {line}"
            );
            acked[writer] += 1;
        }
    }
    Round {
        acked,
        opened,
        stderr,
    }
}

/// Everything in the store, read from a fresh open: the store must open cleanly after a
/// kill, with its store defined (a file mistaken for empty would have none).
fn reopen_and_read(path: &Path, rt: &tokio::runtime::Runtime, round: u64) -> State {
    let kvs = Kvs::open(path)
        .unwrap_or_else(|e| panic!("round {round}: the store does not open after a kill: {e}"));
    assert_eq!(kvs.store_names(), vec!["log".to_owned()], "round {round}");
    rt.block_on(kvs.scan("log").stream().try_collect::<Vec<Item>>())
        .unwrap_or_else(|e| panic!("round {round}: the store cannot be read after a kill: {e}"))
        .into_iter()
        .map(|it| (it["id"].as_str().unwrap().to_owned(), it))
        .collect()
}

/// Names the ids whose items differ between two states.
fn differences(expected: &State, found: &State) -> Vec<String> {
    let ids: BTreeSet<&String> = expected.keys().chain(found.keys()).collect();
    ids.into_iter()
        .filter(|id| expected.get(*id) != found.get(*id))
        .map(|id| match (expected.get(id), found.get(id)) {
            (Some(_), None) => format!("{id} is lost"),
            (None, Some(_)) => format!("{id} was never written"),
            (e, f) => format!("{id}: expected {e:?}, found {f:?}"),
        })
        .collect()
}

/// Kills a child writing to a local store at random moments (while it opens or repairs
/// the file, or writes), then reopens the store: it opens, and holds exactly
/// the acknowledged writes, plus at most the one write in flight at the kill.
#[test]
fn a_killed_writer_loses_no_acknowledged_write() {
    kill_test(1, "crash");
}

/// The kill test with four writers at once, whose writes the engine commits in groups:
/// every write a writer was told is made is found, each writer's in-flight write is
/// found whole or not at all, and no write of one writer took another's with it.
#[test]
fn killed_concurrent_writers_lose_no_acknowledged_write() {
    kill_test(MOST_WRITERS, "crash-group");
}

/// The items of writer `writer` in `state`.
fn of_writer(state: &State, writer: usize) -> State {
    let prefix = format!("w{writer}-");
    state
        .iter()
        .filter(|(id, _)| id.starts_with(&prefix))
        .map(|(id, it)| (id.clone(), it.clone()))
        .collect()
}

fn kill_test(writers: usize, name: &str) {
    const ROUNDS: u64 = 24;
    /// Rounds whose kill comes while the writer opens the file (which may need a repair
    /// after the last kill); the others kill it while it writes.
    const WHILE_OPENING: usize = 6;
    /// The latest a kill while opening comes after the writer says it opens the store.
    /// Opening (and repairing) takes a few milliseconds here, more under load: the
    /// kills land before, during and just after it.
    const OPENING_MS: u64 = 10;
    /// The most writes per writer a kill while writing waits for: enough to vary what
    /// the file holds at the kill, few enough for a short round (a write takes about
    /// 3 ms here, 100 ms under load).
    const MOST_ACKS: usize = 12;
    let seed = std::env::var(SEED_ENV)
        .map_or_else(|_| rand::rng().random(), |s| s.parse().expect("a u64 seed"));
    // Shown with the test's output on failure: rerun with this seed to replay the kills.
    println!("{SEED_ENV}={seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let path = temp_path(name);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut state = State::new();
    rt.block_on(async {
        let kvs = Kvs::open(&path).unwrap();
        kvs.ensure_store(StoreSchema::new("log", KeyAttr::string("id")))
            .await
            .unwrap();
        for writer in 0..writers {
            let counter = item! { "id" => counter_id(writer), "n" => 0 };
            kvs.upsert("log", counter.clone()).await.unwrap();
            state.insert(counter_id(writer), counter);
        }
    });
    // The rounds' kills, in a random order. Each is timed from the writer's progress, so
    // that every round tests what it is meant to however slow the machine is: a kill
    // while writing comes after a random number of acknowledged writes, then a random
    // few milliseconds (anywhere in the next write, its commit or its acknowledgement).
    let mut kills: Vec<Kill> = (0..ROUNDS as usize)
        .map(|i| {
            if i < WHILE_OPENING {
                Kill::WhileOpening(Duration::from_millis(rng.random_range(0..=OPENING_MS)))
            } else {
                Kill::AfterAcks {
                    acks: rng.random_range(1..=MOST_ACKS * writers),
                    then: Duration::from_millis(rng.random_range(0..=20)),
                }
            }
        })
        .collect();
    kills.shuffle(&mut rng);
    for (round, kill) in (0..ROUNDS).zip(kills) {
        let seen = kill_writer(&path, seed, round, writers, kill);
        let context = format!(
            "round {round}, kill {kill:?}, the store opened: {}, writes acknowledged by \
             each writer {:?}; writer stderr:\n{}",
            seen.opened, seen.acked, seen.stderr
        );
        // A round killed after acks saw them (`kill_writer` fails the round otherwise),
        // so it checks written data.
        let found = reopen_and_read(&path, &rt, round);
        let mut next = State::new();
        for (writer, &acked) in seen.acked.iter().enumerate() {
            let mut expected = of_writer(&state, writer);
            let mut round_writes = writes(seed, round, writer);
            for write in round_writes.by_ref().take(acked) {
                apply(&mut expected, &write);
            }
            // The write in flight at the kill may or may not have happened, but wholly.
            let mut in_flight = expected.clone();
            apply(&mut in_flight, &round_writes.next().unwrap());
            let found = of_writer(&found, writer);
            if found != expected && found != in_flight {
                panic!(
                    "writer {writer}'s items after the kill are neither its acknowledged \
                     writes nor those plus its write in flight: {:?}; {context}",
                    differences(&expected, &found)
                );
            }
            next.extend(found);
        }
        assert_eq!(next.len(), found.len(), "items no writer wrote; {context}");
        state = found;
    }
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn a_second_process_cannot_open_a_store_in_use() {
    let path = temp_path("busy");
    let kvs = Kvs::open(&path).unwrap();
    let out = child("opener", &path).output().unwrap();
    let out = String::from_utf8(out.stdout).unwrap();
    let line = out
        .lines()
        .find(|l| l.starts_with("@error ") || l == &"@opened");
    let line = line.unwrap_or_else(|| panic!("no answer from the child: {out}"));
    assert!(line.starts_with("@error Unavailable"), "{line}");
    assert!(
        line.contains(&path.display().to_string()),
        "the error names the file: {line}"
    );
    assert!(line.contains("already open"), "{line}");
    drop(kvs);
    // Once closed, it opens.
    let out = child("opener", &path).output().unwrap();
    assert!(String::from_utf8(out.stdout).unwrap().contains("@opened"));
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn a_corrupt_file_is_an_error_naming_it_and_is_left_alone() {
    // A real store, cut short; a text file; binary garbage.
    let store = temp_path("store");
    {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let kvs = Kvs::open(&store).unwrap();
        rt.block_on(async {
            kvs.ensure_store(StoreSchema::new("s", KeyAttr::string("id")))
                .await
                .unwrap();
            kvs.upsert("s", item! { "id" => "a" }).await.unwrap();
        });
    }
    let whole = std::fs::read(&store).unwrap();
    std::fs::remove_file(&store).unwrap();
    let contents: Vec<Vec<u8>> = vec![
        whole[..100].to_vec(),
        b"name,city\nAda,London\n".repeat(100),
        (0..64 * 1024).map(|i| (i * 7 % 251) as u8).collect(),
    ];
    for bytes in contents {
        let path = temp_path("corrupt");
        std::fs::write(&path, &bytes).unwrap();
        let err = Kvs::open(&path).unwrap_err();
        assert_eq!(
            err.kind(),
            &ErrorKind::Backend,
            "not a transient fault: {err}"
        );
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "the file was changed");
        std::fs::remove_file(&path).unwrap();
    }
}

#[tokio::test]
async fn a_store_file_keeps_its_stores_across_opens() {
    let path = temp_path("reopen");
    {
        let kvs = Kvs::open(&path).unwrap();
        kvs.ensure_store(StoreSchema::new("users", KeyAttr::string("id")))
            .await
            .unwrap();
        kvs.upsert("users", item! { "id" => "u-1" }).await.unwrap();
    }
    let kvs = Kvs::open(&path).unwrap();
    assert_eq!(kvs.store_names(), vec!["users".to_owned()]);
    assert!(kvs.get("users", "u-1").await.unwrap().is_some());
    let err = kvs.get("nope", "u-1").await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::StoreNotFound);
    drop(kvs);
    std::fs::remove_file(&path).unwrap();
}
