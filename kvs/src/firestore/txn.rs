//! Transactions: the kit reads every item with its version and decides every write
//! with the shared evaluator (exact reasons by position); here, all the writes go in
//! one atomic `Commit`, each guarded by the version it was decided on.
//!
//! A commit whose guard fails (`FAILED_PRECONDITION`, `NOT_FOUND`, `ALREADY_EXISTS`) or
//! that meets contention (`ABORTED`) changed nothing: the kit reads again and retries
//! with backoff, and past its budget reports `Conflict`. No server transaction is held
//! open while the kit decides, so there is nothing to roll back, and no lock for the
//! emulator (or a slow client) to time out on.

use super::Engine;
use crate::Result;
use crate::backend::VersionedWrite;

impl Engine {
    /// Does every write if every item is as its write expects: `true` if done, `false`
    /// if any was not (nothing changed).
    pub(super) async fn commit_all(&self, writes: &[VersionedWrite<'_>]) -> Result<bool> {
        let batch = || {
            let mut batch = Vec::with_capacity(writes.len());
            for w in writes {
                batch.extend(self.write_of(w)?);
            }
            Ok(batch)
        };
        let what = || "a transaction".to_owned();
        self.commit(batch()?, batch, false, what).await
    }
}
