//! The servers and helpers of the end-to-end tests: dynoxide in this process, Google's
//! Firestore emulator and @vercel/cosmosdb-server as child processes (each stopped by a
//! watchdog once the test process is gone), and the built `kvs` binary.

#![allow(dead_code)]

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

// The root package's harnesses, shared rather than copied: reading the environment's
// flags, and starting Google's Firestore emulator.
#[path = "../../../tests/support/env.rs"]
pub mod env;
#[path = "../../../tests/support/firestore_emulator.rs"]
pub mod firestore_emulator;

pub use env::flag;

/// What one run of `kvs` did.
#[derive(Debug)]
pub struct Run {
    /// The exit status (`None` if killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    /// Panics unless the run succeeded.
    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(self.code, Some(0), "kvs failed: {self:#?}");
        self
    }

    /// Panics unless the run failed with `code` and one line on standard error that
    /// starts with `prefix`; returns that line.
    #[track_caller]
    pub fn fails(&self, code: i32, prefix: &str) -> String {
        assert_eq!(self.code, Some(code), "{self:#?}");
        let lines: Vec<&str> = self.stderr.lines().collect();
        let last = lines.last().copied().unwrap_or_default();
        assert!(
            last.starts_with(prefix),
            "expected a line starting with {prefix:?}: {self:#?}"
        );
        assert!(
            last.ends_with(')'),
            "the line ends with what to do, in parentheses: {last}"
        );
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.starts_with("kvs: ")
                    && !l.starts_with("kvs: copy")
                    && !l.starts_with("kvs: stopping"))
                .count(),
            1,
            "exactly one error line: {self:#?}"
        );
        last.to_owned()
    }
}

/// A `kvs` command run in `dir` with the test credentials for DynamoDB.
pub fn kvs(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kvs"));
    c.current_dir(dir)
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env_remove("KVS_CLI_TEST_STOP_AFTER_PAGES")
        .stdin(Stdio::null());
    c
}

/// Runs `kvs args` in `dir`.
pub fn run(dir: &Path, args: &[&str]) -> Run {
    kvs(dir, args).output().expect("the kvs binary runs").into()
}

/// Runs `kvs args` in `dir` with `input` on standard input.
pub fn run_with_input(dir: &Path, args: &[&str], input: &str) -> Run {
    let mut child = kvs(dir, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the kvs binary runs");
    let mut stdin = child.stdin.take().expect("piped");
    let input = input.to_owned();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let out = child.wait_with_output().expect("kvs ends");
    writer.join().expect("the writer ends");
    out.into()
}

/// Starts dynoxide (in memory) on a free port, on a runtime of its own thread that
/// lives as long as the test process; its endpoint.
pub fn start_dynoxide() -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        rt.block_on(async {
            let db = dynoxide::Database::memory().expect("an in-memory dynoxide database");
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("a free port");
            tx.send(listener.local_addr().expect("bound"))
                .expect("the test waits");
            let _ =
                dynoxide::server::serve_with_shutdown(listener, db, std::future::pending()).await;
        });
    });
    format!("http://{}", rx.recv().expect("dynoxide started"))
}

/// A `dynamodb:` URL for dynoxide at `endpoint` with a table prefix.
pub fn dynamodb_url(endpoint: &str, prefix: &str) -> String {
    format!("dynamodb:?endpoint={endpoint}&prefix={prefix}")
}

// The watchdog is meant to outlive this process (it stops the server once the tests
// are gone), so it is never waited for.
#[allow(clippy::zombie_processes)]
/// Runs `script` under `sh` with a watchdog: once this test process is gone, the
/// process the script started (its `$!`, written to `pidfile`) is killed by its PID.
fn spawn_watched(start: &str, args: &[&str]) {
    let script = format!(
        r#"{start}
child=$!
while kill -0 "$TEST_PID" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 0.5; done
kill "$child" 2>/dev/null
wait "$child" 2>/dev/null"#
    );
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("sh")
        .args(args)
        .env("TEST_PID", std::process::id().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sh runs");
}

/// The Firestore emulator's `HOST:PORT`: `FIRESTORE_EMULATOR_HOST`, or the Debian
/// package's jar started once for this test binary. `Err` says why there is none
/// (and panics instead under `KVS_REQUIRE_FIRESTORE=1`).
pub fn firestore() -> Result<&'static str, String> {
    static HOST: OnceLock<Result<String, String>> = OnceLock::new();
    let found = HOST.get_or_init(|| {
        if let Ok(h) = std::env::var("FIRESTORE_EMULATOR_HOST")
            && !h.trim().is_empty()
        {
            return Ok(h.trim().to_owned());
        }
        firestore_emulator::start(&firestore_emulator::jar()?)
    });
    match found {
        Ok(h) => Ok(h),
        Err(why) if flag("KVS_REQUIRE_FIRESTORE") => {
            panic!("KVS_REQUIRE_FIRESTORE is set, but {why}")
        }
        Err(why) => Err(why.clone()),
    }
}

/// A Cosmos DB server: its endpoint, and the variable holding its key.
#[derive(Debug, Clone)]
pub struct Cosmos {
    /// `https://127.0.0.1:PORT/`.
    pub endpoint: String,
    /// The key.
    pub key: String,
}

impl Cosmos {
    /// A `cosmos://` URL for database `db` (the key passed in `KVS_TEST_COSMOS_KEY`).
    pub fn url(&self, db: &str) -> String {
        let rest = self
            .endpoint
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_end_matches('/');
        let tls = if self.endpoint.starts_with("http://") {
            "&tls=false"
        } else {
            ""
        };
        format!("cosmos://{rest}/{db}?key_env=KVS_TEST_COSMOS_KEY&emulator=true{tls}")
    }
}

fn required_cosmos() -> bool {
    flag("KVS_REQUIRE_COSMOS_SERVER")
}

// (Its watchdog, like `spawn_watched`'s, is never waited for.)
#[allow(clippy::zombie_processes)]
/// @vercel/cosmosdb-server: the one `KVS_COSMOS_ENDPOINT` names (CI starts it), or one
/// started by `scripts/cosmosdb-server.sh` (installed from npm when node is there).
/// `Err` says why there is none (a panic under `KVS_REQUIRE_COSMOS_SERVER=1`).
pub fn cosmos() -> Result<Cosmos, String> {
    static SERVER: OnceLock<Result<Cosmos, String>> = OnceLock::new();
    let found = SERVER.get_or_init(|| {
        let var = |n: &str| std::env::var(n).ok().filter(|v| !v.trim().is_empty());
        if let (Some(endpoint), Some(key)) = (var("KVS_COSMOS_ENDPOINT"), var("KVS_COSMOS_KEY")) {
            return Ok(Cosmos {
                endpoint: endpoint.trim().into(),
                key: key.trim().into(),
            });
        }
        let node = Command::new("node")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !node {
            return Err("node is not installed (for @vercel/cosmosdb-server)".into());
        }
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("the workspace");
        let script = repo.join("scripts/cosmosdb-server.sh");
        let install = Command::new("bash")
            .arg(&script)
            .arg("install")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| format!("could not run {}: {e}", script.display()))?;
        if !install.status.success() {
            return Err(format!(
                "scripts/cosmosdb-server.sh install failed: {}",
                String::from_utf8_lossy(&install.stderr).trim()
            ));
        }
        let started = Command::new("bash")
            .arg(&script)
            .arg("start")
            .stderr(Stdio::null())
            .output()
            .map_err(|e| format!("could not run {}: {e}", script.display()))?;
        if !started.status.success() {
            return Err("scripts/cosmosdb-server.sh start failed".into());
        }
        let exports = String::from_utf8_lossy(&started.stdout).into_owned();
        let get = |name: &str| {
            exports.lines().find_map(|l| {
                l.strip_prefix(&format!("export {name}="))
                    .map(|v| v.trim_matches('\'').to_owned())
            })
        };
        let (Some(endpoint), Some(key), Some(pid)) = (
            get("KVS_COSMOS_ENDPOINT"),
            get("KVS_COSMOS_KEY"),
            get("KVS_COSMOS_SERVER_PID"),
        ) else {
            return Err(format!(
                "scripts/cosmosdb-server.sh start printed no server: {exports}"
            ));
        };
        // Stopped by its PID once this test process is gone.
        let watchdog = format!(
            "while kill -0 {} 2>/dev/null; do sleep 0.5; done; kill {pid} 2>/dev/null",
            std::process::id()
        );
        Command::new("sh")
            .arg("-c")
            .arg(watchdog)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("no watchdog: {e}"))?;
        Ok(Cosmos { endpoint, key })
    });
    match found {
        Ok(c) => Ok(c.clone()),
        Err(why) if required_cosmos() => {
            panic!("KVS_REQUIRE_COSMOS_SERVER is set, but {why}")
        }
        Err(why) => Err(why.clone()),
    }
}
