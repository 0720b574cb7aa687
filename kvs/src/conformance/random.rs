//! What the randomized cases share: how many cases a backend runs, the fixed seed they
//! start from (logged, and replayable), and a runner that generates inputs with proptest
//! strategies, checks them on the backend, and shrinks a failure to a small input.
//!
//! proptest is a dependency of the `conformance` feature (not only of the tests) because
//! the randomized cases are conformance cases every backend runs: its strategies describe
//! the inputs (keys, items, update ops, condition trees) compactly, and its shrinking turns
//! a failure on a server into the smallest input that still fails, which `rand` alone
//! would not. Its runner is synchronous, so this module drives proptest's value trees from
//! an async loop instead: the checks run on the backend's runtime.

use std::fmt::Debug;
use std::future::Future;
use std::io::Write as _;
use std::time::{Duration, Instant};

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

/// How a backend runs the randomized cases: how many random inputs each checks, and
/// what its server cannot do (test servers only). Given to
/// [`conformance_tests!`](crate::conformance_tests) as `random = ...`.
///
/// The inputs come from a fixed seed, so every run checks the same ones; the
/// environment variable `KVS_CONFORMANCE_SEED` (decimal or `0x` hex) starts from another
/// seed, and `KVS_CONFORMANCE_CASES` asks for another number of cases. A failure prints
/// the seed of the failing input alone, to replay it with `KVS_CONFORMANCE_CASES=1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Random {
    cases: u32,
    same_type_comparisons: bool,
    null_operands: bool,
}

impl Random {
    /// The default: 64 random inputs per randomized case, as an embedded engine runs
    /// them in a second or two.
    pub const DEFAULT: Random = Random::cases(64);

    /// `cases` random inputs per randomized case: fewer for a server, where each
    /// operation is a request.
    pub const fn cases(cases: u32) -> Random {
        Random {
            cases,
            same_type_comparisons: false,
            null_operands: true,
        }
    }

    /// Random conditions compare (`<`, `<=`, `>`, `>=`, `between`) an attribute only with
    /// values of the type it has in every item: for a test server that fails such a
    /// comparison across types instead of finding it false (moto answers HTTP 500). The
    /// fixed cases of comparisons across types still run there, as known divergences.
    pub const fn same_type_comparisons_only(self) -> Random {
        Random {
            same_type_comparisons: true,
            ..self
        }
    }

    /// Random conditions have no null operands (`p = null`, `p in [null]`, `contains(p,
    /// null)`): for a test server that finds `p = null` true where `p` is missing (moto).
    /// The fixed cases of null operands still run there, as known divergences.
    pub const fn without_null_operands(self) -> Random {
        Random {
            null_operands: false,
            ..self
        }
    }

    /// Whether random conditions may compare with null.
    pub fn has_null_operands(&self) -> bool {
        self.null_operands
    }

    /// The number of random inputs per randomized case: `KVS_CONFORMANCE_CASES` if set,
    /// else what the backend asked for.
    pub fn case_count(&self) -> u32 {
        std::env::var("KVS_CONFORMANCE_CASES")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(self.cases)
    }

    /// Whether comparisons across types are left out of random conditions.
    pub fn compares_same_types_only(&self) -> bool {
        self.same_type_comparisons
    }
}

impl Default for Random {
    fn default() -> Self {
        Random::DEFAULT
    }
}

/// The seed of the first input when `KVS_CONFORMANCE_SEED` is not set: fixed, so that
/// every run (and CI) checks the same inputs.
const DEFAULT_SEED: u64 = 0x6b76_735f_636f_6e66;

/// The seed to start from: `KVS_CONFORMANCE_SEED`, or the fixed default.
fn start_seed() -> u64 {
    let Ok(text) = std::env::var("KVS_CONFORMANCE_SEED") else {
        return DEFAULT_SEED;
    };
    let text = text.trim();
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.unwrap_or_else(|_| panic!("KVS_CONFORMANCE_SEED={text:?} is not a u64"))
}

/// The seed of input `n` after `seed`: input 0 has `seed` itself, so a failing input's
/// seed, replayed as the start with one case, gives that input again.
fn nth_seed(seed: u64, n: u32) -> u64 {
    if n == 0 {
        return seed;
    }
    // splitmix64's step: consecutive inputs get unrelated seeds.
    let mut z = seed.wrapping_add(u64::from(n).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn runner(seed: u64) -> TestRunner {
    let mut bytes = [0u8; 32];
    for chunk in bytes.chunks_mut(8) {
        chunk.copy_from_slice(&seed.to_le_bytes());
    }
    TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    )
}

/// How long a failure is shrunk at most: each step runs the input on the backend again.
const SHRINK_TIME: Duration = Duration::from_secs(60);
const SHRINK_STEPS: u32 = 1_000;

/// Checks `random.case_count()` inputs from `strategy` with `check`, each from its own
/// seed; on the first failure, shrinks the input (while it still fails) and panics with
/// the smallest failing input, what failed, and the seed that replays it. `name` is the
/// case's name, for the log line that says which seed it starts from.
pub(crate) async fn check_random<S, F, Fut>(name: &str, random: Random, strategy: S, mut check: F)
where
    S: Strategy,
    S::Value: Debug,
    F: FnMut(S::Value) -> Fut,
    Fut: Future<Output = Result<(), TestCaseError>>,
{
    let seed = start_seed();
    let cases = random.case_count();
    let _ = writeln!(
        std::io::stderr(),
        "{name}: {cases} random inputs from seed {seed:#x} (KVS_CONFORMANCE_SEED and \
         KVS_CONFORMANCE_CASES choose others)"
    );
    for n in 0..cases {
        let input_seed = nth_seed(seed, n);
        let mut tree = strategy
            .new_tree(&mut runner(input_seed))
            .unwrap_or_else(|e| panic!("{name}: no input from seed {input_seed:#x}: {e}"));
        let Err(first) = check(tree.current()).await else {
            continue;
        };
        let (input, why, steps) = shrink(&mut tree, first, &mut check).await;
        panic!(
            "{name}: random input {n} (seed {input_seed:#x}) fails; shrunk in {steps} steps to:\n\
             {input:#?}\nwhich fails with: {why}\n\
             replay it alone: KVS_CONFORMANCE_SEED={input_seed:#x} KVS_CONFORMANCE_CASES=1"
        );
    }
}

/// proptest's shrinking loop, with an async check: simplify while the input still
/// fails, step back (`complicate`) when a simpler one passes. Returns the smallest
/// failing input, its failure, and the steps taken.
async fn shrink<T, F, Fut>(
    tree: &mut T,
    first: TestCaseError,
    check: &mut F,
) -> (T::Value, TestCaseError, u32)
where
    T: ValueTree,
    F: FnMut(T::Value) -> Fut,
    Fut: Future<Output = Result<(), TestCaseError>>,
{
    let mut smallest = (tree.current(), first);
    let started = Instant::now();
    let mut steps = 0;
    if !tree.simplify() {
        return (smallest.0, smallest.1, steps);
    }
    while steps < SHRINK_STEPS && started.elapsed() < SHRINK_TIME {
        steps += 1;
        let next = match check(tree.current()).await {
            Err(why) => {
                smallest = (tree.current(), why);
                tree.simplify()
            }
            Ok(()) => tree.complicate(),
        };
        if !next {
            break;
        }
    }
    (smallest.0, smallest.1, steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_zero_has_the_start_seed_and_others_differ() {
        assert_eq!(nth_seed(7, 0), 7);
        let seeds: std::collections::BTreeSet<u64> = (0..100).map(|n| nth_seed(7, n)).collect();
        assert_eq!(seeds.len(), 100);
    }

    #[test]
    fn a_failure_shrinks_to_the_smallest_failing_input() {
        let strategy = proptest::collection::vec(0u32..1000, 0..20);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let outcome = std::panic::catch_unwind(|| {
            runtime.block_on(check_random(
                "shrinks",
                Random::cases(64),
                strategy,
                |v: Vec<u32>| async move {
                    if v.iter().any(|&x| x >= 500) {
                        Err(TestCaseError::fail("an element of 500 or more"))
                    } else {
                        Ok(())
                    }
                },
            ))
        });
        let message = *outcome
            .expect_err("some input has an element of 500 or more")
            .downcast::<String>()
            .unwrap();
        // The smallest failing input is one element, 500.
        assert!(message.contains("[\n    500,\n]"), "{message}");
        assert!(message.contains("KVS_CONFORMANCE_CASES=1"), "{message}");
    }
}
