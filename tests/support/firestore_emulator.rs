//! Google's Cloud Firestore emulator for tests: one per test binary, started on first
//! use as a child process on a free 127.0.0.1 port, and stopped by its PID when the
//! test process ends (a small shell watchdog kills it as soon as the test process is
//! gone, whether the tests passed, failed or aborted).
//!
//! - `FIRESTORE_EMULATOR_HOST` already set: that emulator is used, none is started.
//! - Otherwise the jar of the Debian package `google-cloud-cli-firestore-emulator`
//!   (or `KVS_FIRESTORE_EMULATOR_JAR`) is run with `java`. Where either is missing the
//!   tests print `SKIPPED` lines and pass, except with `KVS_REQUIRE_FIRESTORE=1` (CI),
//!   where they fail.
//!
//! Each handle gets its own project id, so that tests never see each other's data.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kvs::firestore::FirestoreBackend;

/// Where the Debian package puts the jar.
const PACKAGED_JAR: &str =
    "/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar";

/// Whether the emulator must run here (CI): a missing one fails instead of skipping.
pub fn required() -> bool {
    super::env::flag("KVS_REQUIRE_FIRESTORE")
}

/// The emulator's jar, with Java to run it; `Err` says what is missing.
pub fn jar() -> Result<PathBuf, String> {
    let jar = std::env::var("KVS_FIRESTORE_EMULATOR_JAR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(PACKAGED_JAR));
    if !jar.is_file() {
        return Err(format!(
            "the Firestore emulator jar is not at {} (install the Debian package \
             google-cloud-cli-firestore-emulator, or set KVS_FIRESTORE_EMULATOR_JAR)",
            jar.display()
        ));
    }
    let java = Command::new("java")
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !java.is_ok_and(|s| s.success()) {
        return Err("`java` is not on PATH (the Firestore emulator needs Java 17+)".into());
    }
    Ok(jar)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

/// Whether the emulator at `host` answers `GET /` with `Ok`.
fn ready(host: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(host) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.contains("Ok")
}

/// Starts the emulator jar and waits until it answers; its host (`127.0.0.1:PORT`).
/// (The command-line tool's tests start theirs here too, without setting
/// `FIRESTORE_EMULATOR_HOST` in their process: the tool's URLs name it.)
pub fn start(jar: &Path) -> Result<String, String> {
    let port = free_port();
    let host = format!("127.0.0.1:{port}");
    let log = std::env::temp_dir().join(format!("kvs-firestore-emulator-{port}.log"));
    // The watchdog starts the JVM, then waits while both the test process and the JVM
    // live, and kills the JVM by its PID once the test process is gone.
    let script = r#"java -Xmx512m -cp "$1" com.google.cloud.datastore.emulator.firestore.CloudFirestore start --host=127.0.0.1 --port="$2" >"$4" 2>&1 &
jvm=$!
while kill -0 "$3" 2>/dev/null && kill -0 "$jvm" 2>/dev/null; do sleep 0.5; done
kill "$jvm" 2>/dev/null
wait "$jvm" 2>/dev/null"#;
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("sh")
        .arg(jar)
        .arg(port.to_string())
        .arg(std::process::id().to_string())
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("could not start the Firestore emulator: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(90);
    while Instant::now() < deadline {
        if ready(&host) {
            return Ok(host);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let tail = std::fs::read_to_string(&log).unwrap_or_default();
    Err(format!(
        "the Firestore emulator did not answer on {host} within 90 s; its log ({}):\n{tail}",
        log.display()
    ))
}

/// The emulator's host, started once per test binary; `Err` says why there is none.
pub fn host() -> Result<&'static str, &'static str> {
    static HOST: OnceLock<Result<String, String>> = OnceLock::new();
    HOST.get_or_init(|| {
        if let Ok(host) = std::env::var("FIRESTORE_EMULATOR_HOST")
            && !host.trim().is_empty()
        {
            return Ok(host.trim().to_owned());
        }
        let host = start(&jar()?)?;
        // The firestore crate finds the emulator (and sends it no credentials) through
        // this variable. It is set once, while every other test waits on this lock.
        unsafe { std::env::set_var("FIRESTORE_EMULATOR_HOST", &host) };
        Ok(host)
    })
    .as_deref()
    .map_err(String::as_str)
}

/// A project id no other handle of this test run uses.
pub fn fresh_project() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!(
        "kvs-test-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A client of the emulator for a fresh project, or `None` (said loudly) where there is
/// no emulator; panics where one is required.
pub async fn db() -> Option<firestore::FirestoreDb> {
    match host() {
        Ok(_) => Some(
            firestore::FirestoreDb::new(fresh_project())
                .await
                .expect("a client of the Firestore emulator"),
        ),
        Err(why) if required() => {
            panic!("KVS_REQUIRE_FIRESTORE is set, but there is no Firestore emulator: {why}")
        }
        Err(why) => {
            static SAID: OnceLock<()> = OnceLock::new();
            SAID.get_or_init(|| {
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIPPED: the Firestore tests need the Firestore emulator: {why}"
                );
            });
            None
        }
    }
}

/// A backend on the emulator for a fresh project.
pub async fn backend() -> Option<FirestoreBackend> {
    db().await.map(|db| FirestoreBackend::new(&db))
}
