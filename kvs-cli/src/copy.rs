//! `kvs copy`: every store (or one) from one backend to another, page by page.
//!
//! The source is scanned one page at a time (a scan's next page needs the previous
//! page's token); each page is written to the target with `upsert_many` on a task of
//! its own, at most `concurrency` pages in flight. Pages are acknowledged in order, and
//! after each one the checkpoint file records the store's page token just past it: the
//! items before it are durably in the target. A rerun with the same checkpoint starts
//! each store from there; a store marked done is skipped. Upserts write whole items, so
//! a page written twice (by a rerun after an interruption in its middle) leaves the
//! same items: nothing is lost and nothing is duplicated.
//!
//! For tests, the variable `KVS_CLI_TEST_STOP_AFTER_PAGES=n` stops a copy as SIGINT
//! would once `n` pages have been read (and their writes acknowledged).

use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use futures::stream::FuturesOrdered;
use kvs::{Kvs, PageToken, ScanRequest, StoreSchema};
use serde::{Deserialize, Serialize};

use crate::error::CliError;

/// `--page-size` when not given.
pub const DEFAULT_PAGE_SIZE: usize = 500;
/// `--concurrency` when not given.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// The settings of one copy.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The source URL, as given.
    pub from: String,
    /// The target URL, as given.
    pub to: String,
    /// Items per page read from the source.
    pub page_size: usize,
    /// Pages written at once.
    pub concurrency: usize,
    /// Items written per second at most.
    pub rate: Option<f64>,
    /// The checkpoint file.
    pub checkpoint: PathBuf,
    /// Whether the checkpoint path was given (printed in the resume command).
    pub checkpoint_given: bool,
    /// The `--store` given, for the resume command.
    pub store: Option<String>,
    /// The `--schema` given, for the resume command.
    pub schema: Option<PathBuf>,
    /// Whether the source can count its items cheaply (a local file): the progress
    /// then has a length and an estimate.
    pub source_counts: bool,
    /// Stop as if interrupted once this many pages are written (tests).
    pub stop_after_pages: Option<u64>,
}

/// The checkpoint file's content.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Checkpoint {
    /// Always `kvs-copy-checkpoint`.
    pub format: String,
    /// The source URL.
    pub from: String,
    /// The target URL.
    pub to: String,
    /// Per store, how far the copy went.
    pub stores: BTreeMap<String, StoreProgress>,
}

/// How far the copy of one store went.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoreProgress {
    /// Every item is in the target.
    pub done: bool,
    /// The page token after the last page written (none: start from the beginning).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Items written so far.
    pub items: u64,
}

const CHECKPOINT_FORMAT: &str = "kvs-copy-checkpoint";

/// The default checkpoint file of a copy: in the current folder, named by a hash of the
/// URLs and the store, so that the same command finds it again.
pub fn default_checkpoint(from: &str, to: &str, store: Option<&str>) -> PathBuf {
    // FNV-1a, 64 bits: stable across Rust releases, unlike the standard hasher.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in from
        .bytes()
        .chain([0])
        .chain(to.bytes())
        .chain([0])
        .chain(store.unwrap_or("*").bytes())
    {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    PathBuf::from(format!(".kvs-copy-{h:016x}.json"))
}

fn load(settings: &Settings) -> Result<Checkpoint, CliError> {
    let path = &settings.checkpoint;
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Checkpoint {
                format: CHECKPOINT_FORMAT.into(),
                from: settings.from.clone(),
                to: settings.to.clone(),
                stores: BTreeMap::new(),
            });
        }
        Err(e) => {
            return Err(CliError::from(e).context(format_args!("checkpoint {}", path.display())));
        }
    };
    let cp: Checkpoint = serde_json::from_str(&text).map_err(|e| {
        CliError::validation(format!(
            "the checkpoint {} is not readable: {e}",
            path.display()
        ))
        .hint("delete it to copy from the beginning (safe: the copy writes whole items)")
    })?;
    if cp.format != CHECKPOINT_FORMAT || cp.from != settings.from || cp.to != settings.to {
        return Err(CliError::usage(format!(
            "the checkpoint {} belongs to a copy from {:?} to {:?}",
            path.display(),
            cp.from,
            cp.to
        ))
        .hint("give another --checkpoint file, or delete this one"));
    }
    Ok(cp)
}

fn save(path: &Path, cp: &Checkpoint) -> Result<(), CliError> {
    // Beside the checkpoint, named after its whole name (two checkpoints never share
    // it), and on disk before it replaces the checkpoint: a crash leaves the old
    // position or the new one, never a torn file.
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    let text = serde_json::to_string_pretty(cp).expect("a checkpoint is JSON");
    let write = |tmp: &Path| -> std::io::Result<()> {
        use std::io::Write as _;
        let mut file = std::fs::File::create(tmp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()
    };
    write(&tmp)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| {
            CliError::from(e).context(format_args!("saving the checkpoint {}", path.display()))
        })
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The command that resumes this copy.
fn resume_command(s: &Settings) -> String {
    let mut cmd = format!("kvs copy {} {}", shell_quote(&s.from), shell_quote(&s.to));
    if let Some(store) = &s.store {
        cmd += &format!(" --store {}", shell_quote(store));
    }
    if let Some(schema) = &s.schema {
        cmd += &format!(" --schema {}", shell_quote(&schema.to_string_lossy()));
    }
    // The settings that shape the copy, where they are not the defaults: a resume
    // without `--rate` could throttle a provisioned table.
    if s.page_size != DEFAULT_PAGE_SIZE {
        cmd += &format!(" --page-size {}", s.page_size);
    }
    if s.concurrency != DEFAULT_CONCURRENCY {
        cmd += &format!(" --concurrency {}", s.concurrency);
    }
    if let Some(rate) = s.rate {
        cmd += &format!(" --rate {rate}");
    }
    if s.checkpoint_given {
        cmd += &format!(
            " --checkpoint {}",
            shell_quote(&s.checkpoint.to_string_lossy())
        );
    }
    cmd
}

/// Progress on standard error: a bar on a terminal, plain lines (at most one a second,
/// and one per store at its end) otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    started: Instant,
    last_line: Instant,
}

impl Progress {
    fn new(store: &str, total: Option<u64>, done: u64) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = match total {
                Some(t) => indicatif::ProgressBar::new(t.max(done)),
                None => indicatif::ProgressBar::new_spinner(),
            };
            let template = if total.is_some() {
                "{prefix} [{bar:30}] {pos}/{len} items, {per_sec}, eta {eta}"
            } else {
                "{prefix} {spinner} {pos} items, {per_sec}"
            };
            bar.set_style(
                indicatif::ProgressStyle::with_template(template)
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            bar.set_prefix(format!("copy {store}"));
            bar.set_position(done);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Progress {
            bar,
            started: Instant::now(),
            last_line: Instant::now(),
        }
    }

    fn update(&mut self, store: &str, items: u64, copied_now: u64, total: Option<u64>, last: bool) {
        if let Some(bar) = &self.bar {
            bar.set_position(items);
            if !last {
                return;
            }
            // The bar gives way to the store's summary line.
            bar.finish_and_clear();
        }
        if !last && self.last_line.elapsed() < Duration::from_secs(1) {
            return;
        }
        self.last_line = Instant::now();
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        let rate = copied_now as f64 / secs;
        let mut line = format!("kvs: copy {store}: {items} items");
        if let Some(t) = total {
            line += &format!(" of about {t}");
            if !last && rate > 0.0 && t > items {
                line += &format!(", about {:.0} s left", (t - items) as f64 / rate);
            }
        }
        line += &format!(", {rate:.0} items/s");
        if last {
            line += ", done";
        }
        eprintln!("{line}");
    }
}

/// Copies `stores` from `source` to `target`. `stop` is set by SIGINT or SIGTERM.
pub async fn copy(
    source: &Kvs,
    target: &Kvs,
    stores: &[StoreSchema],
    settings: &Settings,
    stop: Arc<AtomicBool>,
) -> Result<(), CliError> {
    let mut cp = load(settings)?;
    let mut pages_written = 0u64;
    let mut total_items = 0u64;
    for schema in stores {
        let name = &schema.name;
        let progress = cp.stores.entry(name.clone()).or_default().clone();
        if progress.done {
            eprintln!(
                "kvs: copy {name}: already done ({} items; checkpoint {})",
                progress.items,
                settings.checkpoint.display()
            );
            continue;
        }
        target.ensure_store(schema.clone()).await.map_err(|e| {
            CliError::from(e).context(format_args!("creating store {name:?} in the target"))
        })?;
        let total = if settings.source_counts {
            source.scan(name).count().await.ok()
        } else {
            None
        };
        let mut shown = Progress::new(name, total, progress.items);
        let mut items = progress.items;
        let mut copied_now = 0u64;
        let mut token = progress.token.clone().map(PageToken::from);
        let mut inflight = FuturesOrdered::new();
        let mut finished = false;
        let mut interrupted = false;
        let mut failure: Option<CliError> = None;
        // A write (not a read) failed: the pages in flight after it are not acknowledged.
        let mut write_failed = false;
        let started = Instant::now();
        let mut submitted = 0u64;
        loop {
            if stop.load(Ordering::SeqCst) {
                interrupted = true;
                break;
            }
            if settings
                .stop_after_pages
                .is_some_and(|n| pages_written + inflight.len() as u64 >= n)
            {
                interrupted = true;
                break;
            }
            let page = source
                .execute(ScanRequest {
                    store: name.clone(),
                    filter: None,
                    limit: Some(settings.page_size),
                    page_token: token.clone(),
                })
                .await;
            let page = match page {
                Ok(p) => p,
                Err(e) => {
                    failure = Some(
                        CliError::from(e)
                            .context(format_args!("reading store {name:?} from the source")),
                    );
                    break;
                }
            };
            let n = page.items.len() as u64;
            if let Some(rate) = settings.rate {
                // Items submitted so far may go out no faster than `rate` a second.
                let due =
                    Duration::try_from_secs_f64((submitted + n) as f64 / rate).map_err(|_| {
                        CliError::usage(format!("--rate {rate} is too slow to wait for"))
                    })?;
                let elapsed = started.elapsed();
                if due > elapsed {
                    tokio::time::sleep(due - elapsed).await;
                }
            }
            submitted += n;
            let next = page.next_page_token.clone();
            let writer = target.clone();
            let store = name.clone();
            let items_of_page = page.items;
            inflight.push_back(tokio::spawn(async move {
                let result = if items_of_page.is_empty() {
                    Ok(())
                } else {
                    writer.upsert_many(&store, items_of_page).await
                };
                (result, next, n)
            }));
            let last_page = page.next_page_token.is_none();
            token = page.next_page_token;
            // Acknowledge pages in order while too many are in flight (or at the end).
            while inflight.len() >= settings.concurrency || (last_page && !inflight.is_empty()) {
                match acknowledge(&mut inflight, name, &mut cp, &mut items, settings).await {
                    Ok(n) => {
                        pages_written += 1;
                        copied_now += n;
                        shown.update(name, items, copied_now, total, false);
                    }
                    Err(e) => {
                        failure = Some(e);
                        write_failed = true;
                        break;
                    }
                }
            }
            if failure.is_some() {
                break;
            }
            if last_page {
                finished = true;
                break;
            }
        }
        // Let the writes in flight finish. After a failed write, none is acknowledged:
        // they follow the failed page, and the checkpoint must not move past it (the
        // resume writes them again, which is safe).
        if write_failed {
            while inflight.next().await.is_some() {}
        }
        // Otherwise each that succeeded is acknowledged, in order.
        while !inflight.is_empty() {
            match acknowledge(&mut inflight, name, &mut cp, &mut items, settings).await {
                Ok(n) => {
                    pages_written += 1;
                    copied_now += n;
                }
                Err(e) => {
                    failure.get_or_insert(e);
                    // Later pages are not acknowledged past a failed one.
                    break;
                }
            }
        }
        total_items += copied_now;
        if let Some(e) = failure {
            if let Some(bar) = &shown.bar {
                bar.abandon();
            }
            return Err(e.hint(format!(
                "fix the cause and resume with: {} (the checkpoint {} keeps the position)",
                resume_command(settings),
                settings.checkpoint.display()
            )));
        }
        if interrupted {
            if let Some(bar) = &shown.bar {
                bar.abandon();
            }
            // Saved even when no page was written yet, so that the message is true.
            save(&settings.checkpoint, &cp)?;
            return Err(CliError::interrupted(format!(
                "copy stopped in store {name:?} after {items} of its items, the checkpoint {} saved",
                settings.checkpoint.display()
            ))
            .hint(format!("resume with: {}", resume_command(settings))));
        }
        if finished {
            let entry = cp.stores.entry(name.clone()).or_default();
            entry.done = true;
            entry.token = None;
            save(&settings.checkpoint, &cp)?;
            shown.update(name, items, copied_now, total, true);
        }
    }
    // Every store is copied: the checkpoint has served (a rerun copies again, safely).
    let _ = std::fs::remove_file(&settings.checkpoint);
    eprintln!("kvs: copied {total_items} items of {} stores", stores.len());
    Ok(())
}

type Written = (kvs::Result<()>, Option<PageToken>, u64);

/// Waits for the oldest page in flight; on success records its token in the checkpoint
/// and saves it, and returns its item count.
async fn acknowledge(
    inflight: &mut FuturesOrdered<tokio::task::JoinHandle<Written>>,
    store: &str,
    cp: &mut Checkpoint,
    items: &mut u64,
    settings: &Settings,
) -> Result<u64, CliError> {
    let joined = inflight.next().await.expect("a page is in flight");
    let (result, next, n) = joined
        .map_err(|e| CliError::new(kvs::ErrorKind::Backend, format!("a write task failed: {e}")))?;
    result.map_err(|e| {
        CliError::from(e).context(format_args!("writing store {store:?} to the target"))
    })?;
    *items += n;
    let entry = cp.stores.entry(store.to_owned()).or_default();
    entry.items = *items;
    match next {
        Some(t) => entry.token = Some(t.as_str().to_owned()),
        None => {
            entry.token = None;
            entry.done = true;
        }
    }
    save(&settings.checkpoint, cp)?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_checkpoint_is_stable_and_per_copy() {
        let a = default_checkpoint("a.redb", "dynamodb:", None);
        assert_eq!(a, default_checkpoint("a.redb", "dynamodb:", None));
        assert_ne!(a, default_checkpoint("a.redb", "dynamodb:", Some("orders")));
        assert_ne!(a, default_checkpoint("b.redb", "dynamodb:", None));
    }

    #[test]
    fn resume_commands_quote_what_the_shell_would_split() {
        assert_eq!(
            shell_quote("dynamodb:?endpoint=http://h:1"),
            "'dynamodb:?endpoint=http://h:1'"
        );
        assert_eq!(shell_quote("data/a.redb"), "data/a.redb");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
