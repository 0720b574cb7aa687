//! The shared conformance suite: SEMANTICS.md turned into tests that any backend runs.
//!
//! Each case is an `async fn(Kvs)` that checks one behaviour of the contract and panics
//! when the backend breaks it. A case creates the stores it needs under fresh names, so
//! every case can share one server. Run the whole suite against a backend with
//! [`conformance_tests!`](crate::conformance_tests), which makes one `#[test]` per case:
//!
//! ```ignore
//! async fn kvs() -> kvs::Kvs {
//!     kvs::Kvs::memory()
//! }
//! kvs::conformance_tests!(kvs);
//! ```
//!
//! (Feature `conformance`.) The same pattern as `object_store`'s integration tests: the
//! behaviours live once, here, and each backend's test file is a few lines.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{ErrorKind, Kvs, Result, StoreSchema};

pub mod batches;
pub mod capabilities;
pub mod catalog;
pub mod catch_all;
pub mod counts;
pub mod decimals;
pub mod errors;
pub mod expiry;
pub mod filters;
pub mod keys;
pub mod model;
pub mod pages;
pub mod paths;
pub mod projections;
mod random;
pub mod random_conditions;
pub mod transactions;
pub mod typed;
pub mod updates;
pub mod values;

pub use random::Random;

/// Runs one case on a fresh multi-threaded runtime, with a handle from `make`.
pub fn run<M, MF, C, CF>(make: M, case: C)
where
    M: FnOnce() -> MF,
    MF: Future<Output = Kvs>,
    C: FnOnce(Kvs) -> CF,
    CF: Future<Output = ()>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async move {
        let kvs = make().await;
        case(kvs).await;
    });
}

/// A known divergence of a test server from the service it stands for: a conformance
/// case that fails there (and passes on the real service and on other servers), with
/// the reason. For test servers only, never for backend bugs.
#[derive(Debug, Clone, Copy)]
pub struct Divergence {
    /// The case's name.
    pub case: &'static str,
    /// Why it fails there.
    pub why: &'static str,
    /// Whether it fails every time. A race the server loses only sometimes (lost
    /// updates under concurrency) is not: such a case is not run at all.
    pub always_fails: bool,
}

impl Divergence {
    /// A case that fails on the server every time: it is still run, and must fail.
    pub const fn fails(case: &'static str, why: &'static str) -> Self {
        Divergence {
            case,
            why,
            always_fails: true,
        }
    }

    /// A case the server fails only sometimes (a race): it is not run.
    pub const fn sometimes(case: &'static str, why: &'static str) -> Self {
        Divergence {
            case,
            why,
            always_fails: false,
        }
    }
}

/// Runs one case like [`run`] with a handle from `make`, or, where `make` gives none
/// (its server is not configured), reports the case as skipped on the terminal, past
/// the test harness's output capture, and passes.
///
/// A case listed in `known` is reported as skipped with its reason. If it
/// [always fails](Divergence::always_fails) there it is still run, and must still fail:
/// a listed case that passes fails the test, so that the list never hides a case that
/// works (the panic message says to take it off the list).
pub fn run_optional<M, MF, C, CF>(name: &str, known: &[Divergence], make: M, case: C)
where
    M: FnOnce() -> MF,
    MF: Future<Output = Option<Kvs>>,
    C: FnOnce(Kvs) -> CF,
    CF: Future<Output = ()>,
{
    use futures::FutureExt as _;
    use std::io::Write as _;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let known = known.iter().find(|d| d.case == name);
    runtime.block_on(async move {
        let Some(kvs) = make().await else {
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {name}: its server is not configured"
            );
            return;
        };
        let Some(divergence) = known else {
            return case(kvs).await;
        };
        let why = divergence.why;
        if divergence.always_fails {
            let _ = writeln!(
                std::io::stderr(),
                "KNOWN DIVERGENCE {name}: {why}; running it to see that it still fails"
            );
            let outcome = std::panic::AssertUnwindSafe(case(kvs)).catch_unwind().await;
            assert!(
                outcome.is_err(),
                "{name} is listed as a known divergence of this server ({why}), but it \
                 passes: take it off the list"
            );
        }
        let _ = writeln!(std::io::stderr(), "SKIPPED {name}: {why}");
    });
}

/// A store name no other case (or earlier run against the same server) uses:
/// `base`, the process id, and a counter.
pub fn fresh_name(base: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{base}_{}_{nanos}_{n}", std::process::id())
}

/// Creates a store like `schema` under a fresh name and returns the name.
pub async fn fresh_store(kvs: &Kvs, schema: StoreSchema) -> String {
    let name = fresh_name(&schema.name);
    let schema = StoreSchema {
        name: name.clone(),
        ..schema
    };
    kvs.ensure_store(schema).await.expect("ensure_store");
    name
}

/// Waits, where the backend's index reads are eventually consistent
/// ([`Capabilities::consistent_index_reads`](crate::backend::Capabilities)), until a
/// query of `index` for `partition` in `store` returns `expected` items, for at most ten
/// seconds: a case then checks what the index holds and in what order, not how soon it
/// catches up after a write. Returns at once where index reads are consistent.
pub async fn settle_index(
    kvs: &Kvs,
    store: &str,
    index: &str,
    partition: impl Into<crate::Value>,
    expected: usize,
) {
    if kvs.capabilities().consistent_index_reads {
        return;
    }
    let partition = partition.into();
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_secs(10) {
        let found = kvs.query(store, partition.clone()).index(index).await;
        if found.is_ok_and(|page| page.items.len() == expected && page.next_page_token.is_none()) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Asserts that `result` failed with an error of `kind` (transaction reasons ignored),
/// and returns the error.
#[track_caller]
pub fn expect_kind<T: std::fmt::Debug>(result: Result<T>, kind: ErrorKind) -> crate::Error {
    match result {
        Ok(v) => panic!("expected a {kind} error, got Ok({v:?})"),
        Err(e) => {
            assert!(e.is(&kind), "expected a {kind} error, got {e}");
            e
        }
    }
}

/// Makes one `#[test]` per conformance case, each calling `$make().await` for a handle.
///
/// `$make` is the path of an `async fn() -> kvs::Kvs`. The tests run on their own tokio
/// runtime, so the calling crate needs no test attributes of its own.
///
/// With `optional`, `$make` is an `async fn() -> Option<kvs::Kvs>`, and every case is
/// reported as skipped where it gives `None` (a server that is not configured). With
/// `known = LIST` (a `&[`[`Divergence`]`]`), the cases listed are reported as skipped
/// with their reasons, and those that always fail are run to check that they still do
/// ([`run_optional`]): for a test server's documented divergences from the real
/// service, never for backend bugs.
///
/// With `random = CONFIG` (a [`Random`]), the randomized cases run as many random
/// inputs as it says (fewer on a server, where each operation is a request); without
/// it, [`Random::DEFAULT`].
#[macro_export]
macro_rules! conformance_tests {
    (optional $make:path, known = $known:path, random = $random:expr) => {
        $crate::__conformance_cases!(
            $crate::__conformance_optional_test,
            ($make, $known, $random)
        );
    };
    (optional $make:path, known = $known:path) => {
        $crate::__conformance_cases!(
            $crate::__conformance_optional_test,
            ($make, $known, $crate::conformance::Random::DEFAULT)
        );
    };
    (optional $make:path, random = $random:expr) => {
        $crate::__conformance_cases!($crate::__conformance_optional_test, ($make, &[], $random));
    };
    (optional $make:path) => {
        $crate::__conformance_cases!(
            $crate::__conformance_optional_test,
            ($make, &[], $crate::conformance::Random::DEFAULT)
        );
    };
    ($make:path, random = $random:expr) => {
        $crate::__conformance_cases!($crate::__conformance_test, ($make, $random));
    };
    ($make:path) => {
        $crate::__conformance_cases!(
            $crate::__conformance_test,
            ($make, $crate::conformance::Random::DEFAULT)
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_optional_test {
    (($make:path, $known:expr, $random:expr), random $module:ident :: $case:ident) => {
        #[test]
        fn $case() {
            $crate::conformance::run_optional(stringify!($case), $known, $make, |kvs| {
                $crate::conformance::$module::$case(kvs, $random)
            });
        }
    };
    (($make:path, $known:expr, $random:expr), $module:ident :: $case:ident) => {
        #[test]
        fn $case() {
            $crate::conformance::run_optional(
                stringify!($case),
                $known,
                $make,
                $crate::conformance::$module::$case,
            );
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_test {
    (($make:path, $random:expr), random $module:ident :: $case:ident) => {
        #[test]
        fn $case() {
            $crate::conformance::run($make, |kvs| {
                $crate::conformance::$module::$case(kvs, $random)
            });
        }
    };
    (($make:path, $random:expr), $module:ident :: $case:ident) => {
        #[test]
        fn $case() {
            $crate::conformance::run($make, $crate::conformance::$module::$case);
        }
    };
}

/// The randomized cases: each takes the backend's [`Random`] as well as the handle.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases_random {
    ($cb:path, $make:tt) => {
        $cb!($make, random model::random_operations_match_the_model);
        $cb!($make, random random_conditions::random_conditions_match_the_evaluator);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases {
    ($cb:path, $make:tt) => {
        $crate::__conformance_cases_keys!($cb, $make);
        $crate::__conformance_cases_values!($cb, $make);
        $crate::__conformance_cases_typed!($cb, $make);
        $crate::__conformance_cases_errors!($cb, $make);
        $crate::__conformance_cases_batches!($cb, $make);
        $crate::__conformance_cases_updates!($cb, $make);
        $crate::__conformance_cases_filters!($cb, $make);
        $crate::__conformance_cases_pages!($cb, $make);
        $crate::__conformance_cases_transactions!($cb, $make);
        $crate::__conformance_cases_catalog!($cb, $make);
        $crate::__conformance_cases_paths!($cb, $make);
        $crate::__conformance_cases_catch_all!($cb, $make);
        $crate::__conformance_cases_capabilities!($cb, $make);
        $crate::__conformance_cases_random!($cb, $make);
        $crate::__conformance_cases_decimals!($cb, $make);
        $crate::__conformance_cases_counts!($cb, $make);
        $crate::__conformance_cases_expiry!($cb, $make);
    };
}
