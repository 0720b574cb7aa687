//! Helpers of the kvs benchmarks: interleaved measurement and the markdown table.

use std::time::{Duration, Instant};

pub mod cpu;
pub mod order;
pub mod user;

/// One row of the results table.
pub struct Row {
    /// What was measured.
    pub name: String,
    /// kvs, in operations per second.
    pub kvs: f64,
    /// The baseline, in operations per second.
    pub baseline: f64,
    /// kvs's throughput over the baseline's, measured as such (the median of per-round
    /// ratios, say), not necessarily `kvs / baseline`.
    pub ratio: f64,
    /// What the baseline is.
    pub baseline_name: String,
    /// The goal, as text.
    pub goal: String,
}

fn time(n: usize, f: &mut impl FnMut(usize)) -> Duration {
    let start = Instant::now();
    f(n);
    start.elapsed()
}

fn human(ops: f64) -> String {
    if ops >= 1e6 {
        format!("{:.2} M/s", ops / 1e6)
    } else if ops >= 1e3 {
        format!("{:.1} k/s", ops / 1e3)
    } else {
        format!("{ops:.1} /s")
    }
}

/// Prints the rows as a markdown table.
pub fn print_table(rows: &[Row]) {
    println!("| benchmark | kvs | baseline | baseline ops | kvs / baseline | goal |");
    println!("|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {:.2}x | {} |",
            r.name,
            human(r.kvs),
            r.baseline_name,
            human(r.baseline),
            r.ratio,
            r.goal
        );
    }
}

/// One row of a table of times (lower is better), such as the compile-time benchmark.
pub struct TimeRow {
    /// What was measured.
    pub name: String,
    /// kvs: the median time.
    pub kvs: Duration,
    /// The baseline: the median time.
    pub baseline: Duration,
    /// What the baseline is.
    pub baseline_name: String,
    /// The goal, as text.
    pub goal: String,
}

/// The median of some durations (the upper one of an even count).
pub fn median_duration(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn human_time(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else {
        format!("{:.0} ms", s * 1e3)
    }
}

/// Prints the rows as a markdown table, in the style of [`print_table`].
pub fn print_time_table(rows: &[TimeRow]) {
    println!("| benchmark | kvs | baseline | baseline time | kvs / baseline | goal |");
    println!("|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {:.2}x | {} |",
            r.name,
            human_time(r.kvs),
            r.baseline_name,
            human_time(r.baseline),
            r.kvs.as_secs_f64() / r.baseline.as_secs_f64(),
            r.goal
        );
    }
}

/// What [`interleaved_paired`] measured.
#[derive(Debug, Clone, Copy)]
pub struct Paired {
    /// `a`: the median time per operation, in seconds.
    pub a: f64,
    /// `b`: the median time per operation, in seconds.
    pub b: f64,
    /// The median over the rounds of `a`'s time divided by `b`'s in the same round.
    pub ratio: f64,
}

/// Measures `a` and `b` in many short rounds, each round running both (in alternating
/// order, so neither always goes first), and returns their median times per operation
/// and the median of the per-round ratios. Pairing the two sides round by round cancels
/// most of the drift of a shared, noisy machine, which the ratio of two separate medians
/// keeps. Each closure is called with a number of operations to do.
pub fn interleaved_paired(
    rounds: usize,
    per_round: usize,
    mut a: impl FnMut(usize),
    mut b: impl FnMut(usize),
) -> Paired {
    let mut ta = Vec::with_capacity(rounds);
    let mut tb = Vec::with_capacity(rounds);
    let mut ratios = Vec::with_capacity(rounds);
    // One warm-up round each.
    time(per_round, &mut a);
    time(per_round, &mut b);
    for round in 0..rounds {
        let (x, y) = if round.is_multiple_of(2) {
            let x = time(per_round, &mut a);
            (x, time(per_round, &mut b))
        } else {
            let y = time(per_round, &mut b);
            (time(per_round, &mut a), y)
        };
        let (x, y) = (
            x.as_secs_f64() / per_round as f64,
            y.as_secs_f64() / per_round as f64,
        );
        ta.push(x);
        tb.push(y);
        ratios.push(x / y);
    }
    Paired {
        a: median(ta),
        b: median(tb),
        ratio: median(ratios),
    }
}

/// Runs this benchmark binary again under `valgrind --tool=callgrind` with `args` (its
/// `--callgrind-client ...` mode), writing callgrind's file to `out`; the total
/// instruction count of the run.
pub fn callgrind_total(out: &std::path::Path, args: &[&str]) -> u64 {
    let result = std::process::Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(std::env::current_exe().expect("the benchmark's own path"))
        .args(args)
        .output()
        .expect("running valgrind");
    assert!(
        result.status.success(),
        "valgrind {args:?} failed:\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
    callgrind_file_total(out)
}

/// The total instruction count in a callgrind output file.
pub fn callgrind_file_total(out: &std::path::Path) -> u64 {
    let text = std::fs::read_to_string(out).expect("callgrind's output file");
    let line = text
        .lines()
        .find(|l| l.starts_with("totals:"))
        .or_else(|| text.lines().find(|l| l.starts_with("summary:")))
        .expect("a totals line in the callgrind output");
    line.split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("a total count")
}

/// The median of `v` (the upper one of an even count).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Seconds as `1.23 ms` or `456 µs`.
pub fn micros(s: f64) -> String {
    if s >= 1e-3 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.0} µs", s * 1e6)
    }
}
