//! Group commit for a store file: writes that arrive while a commit is waiting for the
//! disk go into the next commit together, so that concurrent writers share an fsync
//! instead of queueing for one each.
//!
//! One thread per open file, the committer, owns the write transaction. A write sends
//! it a job (the write, with what it works on copied, since the caller's future may be
//! dropped while the job waits) and waits for the answer without holding a thread.
//! The committer takes every job waiting, up to [`MOST_PER_COMMIT`], applies them one
//! after the other in one redb write transaction, commits it (the fsync), and only then
//! answers each: a write is acknowledged only once the commit holding it is durable.
//! Jobs are taken in the order they were sent (a channel), so no writer can be passed
//! over: each waits for at most the commit in progress and its own.
//!
//! A write refused (its condition failed, the item does not fit an index) must not fail
//! its neighbours. Nearly every refusal comes before the write changed anything (the
//! engine decides a write, with the shared evaluator, before it writes), and the job is
//! simply answered with it. A job that fails after having changed something (see
//! [`Writer::wrote`]), or panics, spoils the transaction: the committer aborts it and
//! applies the group again without that job, which gets its own error (or panic) back.
//! So a transaction stays atomic, and the writes of one group are as if made one after
//! another, in order.
//!
//! If the commit itself fails, every write of the group gets that error: nothing of the
//! group was written, and a refusal decided against the group's earlier writes would
//! rest on writes that never happened.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;

use redb::Database;
use tokio::sync::oneshot;

use super::snapshot::Snapshots;
use super::tables::{Defining, Writer, storage};
use crate::backend::{PlannedOp, WritePlan};
use crate::{Condition, Error, ErrorKind, Item, Key, PutMode, Result, StoreSchema, UpdateOp};

/// The most writes one commit holds, so that a flood of writers still sees commits (and
/// acknowledgements) at a steady pace, and a commit's memory stays bounded.
const MOST_PER_COMMIT: usize = 256;

/// The committer of one store file: the thread, and the channel its jobs come in by.
pub(super) struct Committer {
    /// `None` once dropped: the thread then finishes the jobs it has and stops.
    jobs: Option<mpsc::Sender<Box<dyn Job>>>,
    thread: Option<JoinHandle<()>>,
}

impl Committer {
    /// Starts the committer of `db`, which ends every read snapshot of `snapshots` at
    /// each commit, before it acknowledges the writes in it.
    pub(super) fn start(db: Arc<Database>, snapshots: Arc<Snapshots>) -> Result<Committer> {
        let (jobs, queue) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("kvs-commit".to_owned())
            .spawn(move || {
                while let Some(first) = next_job(&queue) {
                    let mut group = vec![first];
                    while group.len() < MOST_PER_COMMIT {
                        match queue.try_recv() {
                            Ok(job) => group.push(job),
                            Err(_) => break,
                        }
                    }
                    let run = catch_unwind(AssertUnwindSafe(|| {
                        commit_group(&db, &snapshots, group);
                    }));
                    if run.is_err() {
                        // A panic outside every job's own run (in redb, or dropping a
                        // job): the writers not yet answered learn that their outcome
                        // is unknown (their answers are dropped), the snapshot ends in
                        // case the commit happened, and the next writes are served.
                        snapshots.invalidate();
                    }
                }
                // The read snapshot before the database, which then closes at once.
                drop(snapshots);
                drop(db);
            })
            .map_err(|e| {
                Error::new(
                    ErrorKind::Unavailable,
                    format!("local store: cannot start its commit thread ({e})"),
                )
                .with_source(e)
            })?;
        Ok(Committer {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Makes `work` in the next group commit and gives back its outcome once that commit
    /// is durable. `work` may run more than once (its group applied again after another
    /// write spoiled it), each time in a new transaction: only the last run counts.
    #[cfg(test)]
    pub(super) async fn write<T, F>(&self, work: F) -> Result<T>
    where
        F: FnMut(&Writer<'_>) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        self.write_then(work, |_| {}).await
    }

    /// [`write`](Self::write), then `then` on the committer's thread once the write is
    /// durable and done (not if it failed or was left out), before the writer is
    /// answered: what must follow the commit happens even if the writer stopped waiting.
    pub(super) async fn write_then<T, F, A>(&self, work: F, then: A) -> Result<T>
    where
        F: FnMut(&Writer<'_>) -> Result<T> + Send + 'static,
        A: FnOnce(&T) + Send + 'static,
        T: Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(Pending {
            work,
            then,
            outcome: None,
            reply,
        });
        let sent = self.jobs.as_ref().map(|jobs| jobs.send(job));
        if !matches!(sent, Some(Ok(()))) {
            return Err(stopped());
        }
        match answer.await {
            Ok(Outcome::Done(outcome)) => outcome,
            Ok(Outcome::Panicked(payload)) => resume_unwind(payload),
            // The committer dropped the job unanswered (a panic outside the write), so
            // the write's fate is unknown.
            Err(_) => Err(Error::new(
                ErrorKind::Unavailable,
                "local store: the commit holding this write failed unexpectedly (a panic \
                 outside the write); whether the write was made is unknown",
            )),
        }
    }
}

impl Drop for Committer {
    /// Waits for the jobs already sent to be committed and answered, then for the thread
    /// to close the file: dropping the last handle closes it.
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            // A panic on the committer thread was already turned into errors for the
            // writers waiting; nothing is left to tell.
            let _ = thread.join();
        }
    }
}

/// The next job, waiting for it. A writer waiting for its answer usually sends its next
/// write at once: the committer looks for it a little while (yielding its core) before
/// it sleeps, since waking a sleeping thread costs more than a commit's own work.
fn next_job(queue: &mpsc::Receiver<Box<dyn Job>>) -> Option<Box<dyn Job>> {
    let until = std::time::Instant::now() + std::time::Duration::from_micros(100);
    while std::time::Instant::now() < until {
        match queue.try_recv() {
            Ok(job) => return Some(job),
            Err(mpsc::TryRecvError::Disconnected) => return None,
            Err(mpsc::TryRecvError::Empty) => std::thread::yield_now(),
        }
    }
    queue.recv().ok()
}

fn stopped() -> Error {
    Error::new(
        ErrorKind::Unavailable,
        "local store: its commit thread has stopped; the write was not made (reopen the store)",
    )
}

/// How a job ended.
enum Outcome<T> {
    Done(Result<T>),
    Panicked(Box<dyn Any + Send>),
}

/// A write waiting in the committer's queue.
trait Job: Send {
    /// Applies the write in `writer`'s transaction and keeps its outcome.
    fn apply(&mut self, writer: &Writer<'_>) -> Applied;

    /// Answers the writer: with the kept outcome if the transaction committed (or the
    /// job spoiled it, and was left out of the commit), else with the commit's error.
    fn answer(self: Box<Self>, committed: &Result<()>, spoiled: bool);
}

/// What applying a job did to the transaction.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Applied {
    /// Nothing changed: a write refused before it wrote (a failed condition), or one
    /// that had nothing to do.
    Nothing,
    /// It wrote.
    Wrote,
    /// It failed (or panicked) after changing something: the transaction is spoiled.
    Spoiled,
}

struct Pending<F, A, T> {
    work: F,
    /// Run once the write is durable and done.
    then: A,
    outcome: Option<Outcome<T>>,
    reply: oneshot::Sender<Outcome<T>>,
}

impl<F, A, T> Job for Pending<F, A, T>
where
    F: FnMut(&Writer<'_>) -> Result<T> + Send,
    A: FnOnce(&T) + Send,
    T: Send,
{
    fn apply(&mut self, writer: &Writer<'_>) -> Applied {
        let outcome = match catch_unwind(AssertUnwindSafe(|| (self.work)(writer))) {
            Ok(done) => Outcome::Done(done),
            Err(payload) => Outcome::Panicked(payload),
        };
        let applied = match (&outcome, writer.wrote()) {
            (Outcome::Done(_), false) => Applied::Nothing,
            (Outcome::Done(Ok(_)), true) => Applied::Wrote,
            (Outcome::Done(Err(_)), true) => Applied::Spoiled,
            // The transaction's state after a panic is not known.
            (Outcome::Panicked(_), _) => Applied::Spoiled,
        };
        self.outcome = Some(outcome);
        applied
    }

    fn answer(self: Box<Self>, committed: &Result<()>, spoiled: bool) {
        let outcome = match (committed, self.outcome) {
            (_, Some(outcome)) if spoiled => outcome,
            (Ok(()), Some(outcome)) => {
                if let Outcome::Done(Ok(done)) = &outcome {
                    (self.then)(done);
                }
                outcome
            }
            (Err(e), _) => Outcome::Done(Err(e.clone())),
            (Ok(()), None) => unreachable!("every job of a committed group was applied"),
        };
        // A writer that stopped waiting (its future dropped) needs no answer.
        let _ = self.reply.send(outcome);
    }
}

/// Applies a group of jobs in one write transaction, commits it and answers each job.
fn commit_group(db: &Database, snapshots: &Snapshots, mut group: Vec<Box<dyn Job>>) {
    let mut spoiled = vec![false; group.len()];
    let committed = 'attempt: loop {
        let txn = match db.begin_write() {
            Ok(txn) => txn,
            Err(e) => break Err(storage(e).context("nothing of this write was made")),
        };
        let mut wrote = false;
        let defining = Defining::default();
        for (job, spoiled) in group.iter_mut().zip(spoiled.iter_mut()) {
            if *spoiled {
                continue;
            }
            let writer = Writer::new(&txn, &defining);
            match job.apply(&writer) {
                Applied::Nothing => {}
                Applied::Wrote => wrote = true,
                Applied::Spoiled => {
                    // Dropping the transaction aborts it; the group goes again without it.
                    *spoiled = true;
                    continue 'attempt;
                }
            }
        }
        if !wrote {
            // Every write was refused (or had nothing to do): a commit would cost an
            // fsync for nothing, and the read snapshot is still current. Dropping the
            // transaction aborts it.
            drop(txn);
            for (job, spoiled) in group.into_iter().zip(spoiled) {
                job.answer(&Ok(()), spoiled);
            }
            return;
        }
        break txn.commit().map_err(storage);
    };
    // After the commit (or its failure), before any write of it is acknowledged.
    snapshots.invalidate();
    for (job, spoiled) in group.into_iter().zip(spoiled) {
        job.answer(&committed, spoiled);
    }
}

/// A copy of a [`WritePlan`] a job keeps, since the writer's future (and what its plan
/// borrows) may be dropped while the job waits.
pub(super) struct OwnedPlan {
    schema: StoreSchema,
    key: Key,
    op: OwnedOp,
    condition: Option<Condition>,
}

enum OwnedOp {
    Put { item: Item, mode: PutMode },
    Update { ops: Vec<UpdateOp> },
    Delete,
    Check,
}

impl OwnedPlan {
    pub(super) fn new(plan: &WritePlan<'_>) -> Self {
        OwnedPlan {
            schema: plan.schema.clone(),
            key: plan.key.clone(),
            op: match &plan.op {
                PlannedOp::Put { item, mode } => OwnedOp::Put {
                    item: (*item).clone(),
                    mode: *mode,
                },
                PlannedOp::Update { ops } => OwnedOp::Update { ops: ops.to_vec() },
                PlannedOp::Delete => OwnedOp::Delete,
                PlannedOp::Check => OwnedOp::Check,
            },
            condition: plan.condition.cloned(),
        }
    }

    /// The plan again, borrowing from the copy.
    pub(super) fn plan(&self) -> WritePlan<'_> {
        let op = match &self.op {
            OwnedOp::Put { item, mode } => PlannedOp::Put { item, mode: *mode },
            OwnedOp::Update { ops } => PlannedOp::Update { ops },
            OwnedOp::Delete => PlannedOp::Delete,
            OwnedOp::Check => PlannedOp::Check,
        };
        WritePlan::new(&self.schema, self.key.clone(), op, self.condition.as_ref())
    }

    /// Copies of every plan of a transaction.
    pub(super) fn all(plans: &[WritePlan<'_>]) -> Vec<OwnedPlan> {
        plans.iter().map(OwnedPlan::new).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use redb::backends::InMemoryBackend;
    use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata};

    use super::*;
    use crate::local::tables::Bytes;

    type TestJob = Box<dyn FnMut(&Writer<'_>) -> Result<()> + Send>;

    fn put(w: &Writer<'_>, key: &str) -> Result<()> {
        w.table("t")?
            .insert(key.as_bytes(), &b"v"[..])
            .map_err(storage)?;
        Ok(())
    }

    /// One group holding writes that succeed, a write refused before it wrote, one
    /// that failed after writing and one that panicked after writing: each gets its own
    /// answer, and only the successful writes are committed.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_write_never_fails_its_neighbours() {
        use futures::FutureExt;

        let db = Arc::new(
            Database::builder()
                .create_with_backend(InMemoryBackend::new())
                .unwrap(),
        );
        let committer = Arc::new(Committer::start(Arc::clone(&db), Arc::default()).unwrap());
        // The first write holds the committer until the others are queued behind it,
        // so that they make one group. It says when it is running, so that the test
        // does not depend on timing; released, it never waits again (it may be redone).
        let (started, running) = oneshot::channel::<()>();
        let mut started = Some(started);
        let (release, held) = std::sync::mpsc::channel::<()>();
        let held = std::sync::Mutex::new(held);
        let first = {
            let committer = Arc::clone(&committer);
            tokio::spawn(async move {
                committer
                    .write(move |w| {
                        if let Some(started) = started.take() {
                            started.send(()).ok();
                        }
                        held.lock().unwrap().recv().ok();
                        put(w, "a")
                    })
                    .await
            })
        };
        running.await.unwrap();

        let runs = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&runs);
        let jobs: Vec<TestJob> = vec![
            Box::new(move |w| {
                counted.fetch_add(1, Ordering::SeqCst);
                put(w, "b")
            }),
            Box::new(|w| {
                put(w, "c")?;
                Err(Error::validation("c: refused after writing"))
            }),
            Box::new(|_| Err(Error::validation("d: refused"))),
            Box::new(|w| {
                put(w, "e").unwrap();
                panic!("e: a bug");
            }),
            Box::new(|w| put(w, "f")),
        ];
        // A write is sent when its future is first polled: poll each once, in order,
        // so that they queue as b, c, d, e, f behind the held write.
        let mut writes: Vec<_> = jobs
            .into_iter()
            .map(|job| {
                AssertUnwindSafe(committer.write(job))
                    .catch_unwind()
                    .boxed()
            })
            .collect();
        for write in &mut writes {
            assert!(futures::poll!(write).is_pending(), "answered while held");
        }
        release.send(()).unwrap();
        drop(release);

        first.await.unwrap().unwrap();
        let mut answers = Vec::new();
        for write in writes {
            answers.push(write.await);
        }
        let [b, c, d, e, f] = <[_; 5]>::try_from(answers).ok().unwrap();
        b.unwrap().unwrap();
        assert_eq!(
            c.unwrap().unwrap_err().message(),
            "c: refused after writing"
        );
        assert_eq!(d.unwrap().unwrap_err().message(), "d: refused");
        let panic = e.expect_err("the writer gets the job's panic back");
        assert_eq!(panic.downcast_ref::<&str>(), Some(&"e: a bug"));
        f.unwrap().unwrap();
        // B ran once, then again after each of the two writes that spoiled the group.
        assert_eq!(runs.load(Ordering::SeqCst), 3);

        drop(committer);
        let txn = db.begin_read().unwrap();
        let table = txn.open_table(Bytes::new("t")).unwrap();
        let keys: Vec<String> = table
            .iter()
            .unwrap()
            .map(|e| String::from_utf8(e.unwrap().0.value().to_vec()).unwrap())
            .collect();
        assert_eq!(keys, ["a", "b", "f"]);
    }

    /// Writes that change nothing (refused before writing, or with nothing to do) are
    /// answered without a commit: no fsync, and the read snapshot stays current.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writes_that_change_nothing_commit_nothing() {
        let db = Arc::new(
            Database::builder()
                .create_with_backend(InMemoryBackend::new())
                .unwrap(),
        );
        let snapshots = Arc::new(Snapshots::default());
        let committer = Committer::start(Arc::clone(&db), Arc::clone(&snapshots)).unwrap();
        committer.write(|w| put(w, "a")).await.unwrap();
        let before = snapshots.generation();
        let refused = committer
            .write(|_| -> Result<()> { Err(Error::validation("refused")) })
            .await;
        assert_eq!(refused.unwrap_err().message(), "refused");
        committer.write(|_| Ok(())).await.unwrap();
        assert_eq!(snapshots.generation(), before, "no commit for nothing");
        committer.write(|w| put(w, "b")).await.unwrap();
        assert_eq!(snapshots.generation(), before + 1, "a write commits");
    }

    /// A panic on the committer outside a write's own run (here, dropping a job after
    /// its answer) does not stop the committer: the next writes are served.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panic_outside_a_write_leaves_the_committer_serving() {
        struct PanicOnDrop;
        impl Drop for PanicOnDrop {
            fn drop(&mut self) {
                panic!("a bug in a drop");
            }
        }
        let db = Arc::new(
            Database::builder()
                .create_with_backend(InMemoryBackend::new())
                .unwrap(),
        );
        let committer = Committer::start(Arc::clone(&db), Arc::default()).unwrap();
        let guard = PanicOnDrop;
        committer
            .write(move |w| {
                let _kept = &guard;
                put(w, "a")
            })
            .await
            .unwrap();
        committer.write(|w| put(w, "b")).await.unwrap();
        drop(committer);
        let txn = db.begin_read().unwrap();
        assert_eq!(txn.open_table(Bytes::new("t")).unwrap().len().unwrap(), 2);
    }

    /// Dropping the committer waits for the writes already sent, then lets the database
    /// go: nothing sent is lost.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dropping_the_committer_finishes_the_writes_sent() {
        let db = Arc::new(
            Database::builder()
                .create_with_backend(InMemoryBackend::new())
                .unwrap(),
        );
        let committer = Arc::new(Committer::start(Arc::clone(&db), Arc::default()).unwrap());
        let writes: Vec<_> = (0..100)
            .map(|i| {
                let committer = Arc::clone(&committer);
                tokio::spawn(
                    async move { committer.write(move |w| put(w, &format!("k{i:03}"))).await },
                )
            })
            .collect();
        for write in writes {
            write.await.unwrap().unwrap();
        }
        drop(committer);
        assert_eq!(
            Arc::strong_count(&db),
            1,
            "the committer let go of the database"
        );
        let txn = db.begin_read().unwrap();
        let table = txn.open_table(Bytes::new("t")).unwrap();
        assert_eq!(table.len().unwrap(), 100);
    }
}
