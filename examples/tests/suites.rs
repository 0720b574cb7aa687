//! Every suite of the workspace, for plain `cargo test` at the repository root.
//!
//! The workspace's only default member is the examples package, so that
//! `cargo run --example quickstart` builds no cloud SDK: cargo resolves features across
//! every package a command selects, and the integration tests (package kvs-tests) build
//! kvs with every backend and start an emulator in-process. This program, the examples
//! package's one test, runs `cargo test -p kvs-store -p kvs-derive -p kvs-tests` as a
//! child, so that plain `cargo test` still runs kvs's unit and doc tests, the derive's
//! compile-fail suite, every `tests/*.rs` and README's code blocks.
//!
//! The arguments after `--` (a test name filter, `--nocapture`, `--test-threads`) go to
//! every test binary of the child. The child finds its target directory as this
//! command did (`CARGO_TARGET_DIR`, `.cargo/config.toml`), so both share one build;
//! `--release` is passed on, other cargo options are not: to use them, run the suites
//! directly, `cargo test -p kvs-store -p kvs-derive -p kvs-tests ...`.

use std::path::Path;
use std::process::{Command, ExitCode};

/// The packages whose tests make up the suite: every member but the examples (whose
/// test this is) and the benchmarks.
const PACKAGES: [&str; 4] = ["kvs-store", "kvs-derive", "kvs-tests", "kvs-cli"];

fn main() -> ExitCode {
    // The cargo running this test (cargo sets CARGO for it), else the one that built it.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the examples package is in a folder of the workspace");
    let mut command = Command::new(cargo);
    command.current_dir(root).arg("test");
    for package in PACKAGES {
        command.args(["-p", package]);
    }
    // `cargo test --release` builds this without debug assertions.
    if !cfg!(debug_assertions) {
        command.arg("--release");
    }
    command.arg("--").args(std::env::args_os().skip(1));
    match command.status() {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        // The child's cargo has already said which test failed and how to rerun it.
        Ok(_) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!(
                "suites: could not run `cargo test` in {}: {error}",
                root.display()
            );
            ExitCode::FAILURE
        }
    }
}
