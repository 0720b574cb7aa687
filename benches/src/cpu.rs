//! CPU clocks: what a bench spent of the machine, apart from the time that passed.
//!
//! On a shared machine, wall time counts the cores other work took; CPU time counts only
//! this process's own work. A read path that makes its readers wait for each other (a
//! lock, a contended cache line) shows as fewer operations per CPU-second, or as threads
//! that wait without running; one that does not keeps its operations per CPU-second
//! whatever else the machine runs.

use std::time::Duration;

/// A Linux clock's time, in nanoseconds.
pub fn clock_ns(clock: libc::clockid_t) -> u64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec to write to; the clocks are Linux's CPU clocks.
    unsafe { libc::clock_gettime(clock, &mut t) };
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

/// This process's CPU time (user + system, all threads, those gone included), in
/// nanoseconds.
pub fn process_cpu_ns() -> u64 {
    clock_ns(libc::CLOCK_PROCESS_CPUTIME_ID)
}

/// The calling thread's CPU time, in nanoseconds.
pub fn thread_cpu_ns() -> u64 {
    clock_ns(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// Per live thread of this process (by id), the time it has waited runnable for a core
/// (Linux's `/proc/self/task/*/schedstat`, second field): the time other work on the
/// machine took from it. Empty where the file is not there.
pub fn run_queue_waits() -> Vec<(u64, Duration)> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    tasks
        .filter_map(|t| {
            let t = t.ok()?;
            let id = t.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(t.path().join("schedstat")).ok()?;
            let waited = stat.split_whitespace().nth(1)?.parse().ok()?;
            Some((id, Duration::from_nanos(waited)))
        })
        .collect()
}

/// The time the threads alive at both samples waited for a core between them.
pub fn waited_between(before: &[(u64, Duration)], after: &[(u64, Duration)]) -> Duration {
    after
        .iter()
        .filter_map(|(id, a)| {
            let (_, b) = before.iter().find(|(i, _)| i == id)?;
            Some(a.saturating_sub(*b))
        })
        .sum()
}
