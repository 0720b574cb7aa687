//! Reliability: concurrent writers lose nothing, a killed writer loses no acknowledged
//! write, a store file is never opened twice or mistaken for empty.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use kvs::{ErrorKind, KeyAttr, Kvs, StoreSchema, item};
use rand::Rng;

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

/// Runs a function of this test binary in a child process (see `child_main`).
fn child(role: &str, path: &Path) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "child_main", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, format!("{role}:{}", path.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    cmd
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
        // Writes items and bumps a counter forever, printing each acknowledged write.
        "writer" => rt.block_on(async {
            let kvs = Kvs::open(path).unwrap();
            for i in 0u64.. {
                let id = format!("item-{i}");
                kvs.upsert(
                    "log",
                    item! { "id" => id, "seq" => i as i64, "pad" => "x".repeat(100) },
                )
                .await
                .unwrap();
                println!("\n@put {i}");
                let c = kvs.update("log", "counter").add("n", 1).await.unwrap();
                println!("\n@add {}", c["n"].as_i64().unwrap());
            }
        }),
        // Tries to open the store and prints the error kind.
        "opener" => match Kvs::open(path) {
            Ok(_) => println!("\n@opened"),
            Err(e) => println!("\n@error {} {}", e.kind(), e),
        },
        _ => unreachable!(),
    }
}

#[test]
fn a_killed_writer_loses_no_acknowledged_write() {
    let path = temp_path("crash");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let kvs = Kvs::open(&path).unwrap();
        kvs.ensure_store(StoreSchema::new("log", KeyAttr::string("id")))
            .await
            .unwrap();
        kvs.upsert("log", item! { "id" => "counter", "n" => 0 })
            .await
            .unwrap();
    });
    let mut rng = rand::rng();
    for round in 0..20 {
        let mut proc = child("writer", &path).spawn().unwrap();
        let stdout = proc.stdout.take().unwrap();
        // Kill after a random number of acknowledged writes, or a random moment.
        let kill_after = rng.random_range(1..60);
        let deadline = std::time::Instant::now() + Duration::from_millis(rng.random_range(20..400));
        let mut acked_puts = Vec::new();
        let mut last_add = None;
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(i) = line.strip_prefix("@put ") {
                acked_puts.push(i.parse::<u64>().unwrap());
            } else if let Some(n) = line.strip_prefix("@add ") {
                last_add = Some(n.parse::<i64>().unwrap());
            }
            if acked_puts.len() >= kill_after || std::time::Instant::now() > deadline {
                break;
            }
        }
        proc.kill().unwrap();
        proc.wait().unwrap();
        let kvs = Kvs::open(&path).unwrap();
        rt.block_on(async {
            for i in &acked_puts {
                let got = kvs.get("log", format!("item-{i}")).await.unwrap();
                let got =
                    got.unwrap_or_else(|| panic!("round {round}: acknowledged item-{i} is lost"));
                assert_eq!(got["seq"], (*i as i64).into());
            }
            let n = kvs.get("log", "counter").await.unwrap().unwrap()["n"]
                .as_i64()
                .unwrap();
            if let Some(acked) = last_add {
                // The acknowledged value survived; at most the one in flight went further.
                assert!(
                    n >= acked,
                    "round {round}: counter {n} < acknowledged {acked}"
                );
            }
        });
        drop(kvs);
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
