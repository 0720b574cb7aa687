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

/// A port for the emulator, free when this returns. The JVM binds it seconds later,
/// while the other tests of this process bind port-0 listeners and open connections,
/// both from the kernel's ephemeral range: so the port is taken outside that range
/// (Linux: `ip_local_port_range`), where only an explicit bind can take it. A port the
/// kernel picks is the fallback; [`start`] tries another port should it be taken anyway.
fn pick_port() -> u16 {
    let free = |port: u16| TcpListener::bind(("127.0.0.1", port)).is_ok();
    if let Some((low, high)) = ephemeral_range() {
        // From 10000 up, clear of most well-known services, and outside the range;
        // random, so that test binaries starting emulators at once try different ports.
        const FIRST: u32 = 10_000;
        let below = (low as u32).saturating_sub(FIRST);
        let above_from = (high as u32 + 1).max(FIRST);
        let count = below + (u16::MAX as u32 + 1).saturating_sub(above_from);
        for _ in 0..if count == 0 { 0 } else { 100 } {
            let i = (random() % count as u64) as u32;
            let port = if i < below {
                FIRST + i
            } else {
                above_from + (i - below)
            };
            if free(port as u16) {
                return port as u16;
            }
        }
    }
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

/// The kernel's ephemeral port range, where it can be read.
fn ephemeral_range() -> Option<(u16, u16)> {
    let text = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    let mut bounds = text.split_whitespace().map(|n| n.parse::<u16>().ok());
    Some((bounds.next()??, bounds.next()??))
}

/// A random number (std's hasher keys are random per process and differ per call).
fn random() -> u64 {
    use std::hash::{BuildHasher as _, Hasher as _};
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
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
///
/// The port is free when picked, but something else may bind it before the JVM does
/// (which then exits at once, `BindException: Address already in use`): the JVM is
/// then started again on another port, rather than waited on until the deadline.
pub fn start(jar: &Path) -> Result<String, String> {
    const ATTEMPTS: usize = 5;
    let mut failures = Vec::new();
    for _ in 0..ATTEMPTS {
        match launch(jar, pick_port())? {
            Ok(host) => return Ok(host),
            Err(why) => failures.push(why),
        }
    }
    Err(format!(
        "the Firestore emulator did not start in {ATTEMPTS} attempts:\n{}",
        failures.join("\n")
    ))
}

/// One attempt of [`start`] on `port`: `Ok(Ok(host))` once the emulator answers,
/// `Ok(Err(why))` where the JVM gave up early (most likely: the port was taken) and
/// another port may do, `Err` where waiting longer or again is pointless.
fn launch(jar: &Path, port: u16) -> Result<Result<String, String>, String> {
    let host = format!("127.0.0.1:{port}");
    let log = std::env::temp_dir().join(format!(
        "kvs-firestore-emulator-{}-{port}.log",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&log);
    // The watchdog starts the JVM, then waits while both the test process and the JVM
    // live, and kills the JVM by its PID once the test process is gone, or once told to
    // (SIGTERM). It ends as soon as the JVM does, which is how a failed start is seen.
    let script = r#"java -Xmx512m -cp "$1" com.google.cloud.datastore.emulator.firestore.CloudFirestore start --host=127.0.0.1 --port="$2" >"$4" 2>&1 &
jvm=$!
trap 'kill "$jvm" 2>/dev/null; wait "$jvm" 2>/dev/null; exit 1' TERM
while kill -0 "$3" 2>/dev/null && kill -0 "$jvm" 2>/dev/null; do sleep 0.5; done
kill "$jvm" 2>/dev/null
wait "$jvm" 2>/dev/null"#;
    let mut watchdog = Command::new("sh")
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
    let tail = || std::fs::read_to_string(&log).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(90);
    while Instant::now() < deadline {
        if ready(&host) {
            return Ok(Ok(host));
        }
        if matches!(watchdog.try_wait(), Ok(Some(_))) {
            return Ok(Err(format!(
                "on {host}, the emulator gave up at once (the port taken?); its log ({}):\n{}",
                log.display(),
                tail()
            )));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    // A JVM that runs but does not answer is stopped through its watchdog (our child, so
    // its PID cannot have been reused, unlike the JVM's once the watchdog has reaped it).
    let _ = Command::new("kill")
        .arg(watchdog.id().to_string())
        .stderr(Stdio::null())
        .status();
    let _ = watchdog.wait();
    Err(format!(
        "the Firestore emulator did not answer on {host} within 90 s; its log ({}):\n{}",
        log.display(),
        tail()
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
