//! The read snapshot that reads share until the next write.
//!
//! A get on its own is cheap in redb; beginning a read transaction and opening a table
//! for it are not: registering the transaction with redb's tracker, searching the table
//! directory, and checking the table's key and value types (which builds their type
//! names as strings) cost more than the lookup itself (by callgrind, about 4,000
//! instructions against 2,600 for a lookup in a table of 10,000 items). So reads share
//! one read transaction, and the tables opened in it, until a write commits.
//!
//! Why a read still sees every acknowledged write: a write drops the shared snapshot
//! after it commits and before it returns, and a read begins a new snapshot only while
//! holding the same lock. So a snapshot that was begun before a write committed is gone
//! before that write is acknowledged, and any read that starts later begins a fresh one.
//! This rests on every write to the database going through here: the database is
//! opened in redb's default exclusive mode (one process, one `Database` shared by the
//! clones of a backend), and every write transaction of the engine goes through
//! `LocalBackend::write`.
//! Dropping the snapshot at every write also keeps an old snapshot from holding on to
//! the pages that later writes free.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use redb::{Database, ReadOnlyTable, ReadTransaction, ReadableDatabase};

use super::tables::{Bytes, storage};
use crate::Result;

/// A table of the embedded engine, opened for reading in a shared snapshot.
pub(crate) type ReadTable = ReadOnlyTable<&'static [u8], &'static [u8]>;

/// The shared read snapshot of one database, if a read has begun one since the last
/// write.
#[derive(Default)]
pub(crate) struct Snapshots {
    latest: Mutex<Option<Snapshot>>,
}

struct Snapshot {
    txn: ReadTransaction,
    /// The tables opened in `txn` so far, by name. Each holds `txn`'s snapshot alive on
    /// its own, so a read may go on using one after a write has dropped the snapshot.
    tables: BTreeMap<Box<str>, Arc<ReadTable>>,
}

impl Snapshots {
    fn lock(&self) -> MutexGuard<'_, Option<Snapshot>> {
        // A panic in redb while the lock was held leaves nothing half-done here: at worst
        // a snapshot without some table, which is opened again when asked for.
        self.latest.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The tables called `names` in the latest snapshot, all from the same one; `None`
    /// for a table that does not exist (yet) in it.
    pub(crate) fn tables<const N: usize>(
        &self,
        db: &Database,
        names: [&str; N],
    ) -> Result<[Option<Arc<ReadTable>>; N]> {
        let mut latest = self.lock();
        let snapshot = match &mut *latest {
            Some(s) => s,
            None => latest.insert(Snapshot {
                txn: db.begin_read().map_err(storage)?,
                tables: BTreeMap::new(),
            }),
        };
        let mut out = [const { None }; N];
        for (slot, name) in out.iter_mut().zip(names) {
            *slot = snapshot.table(name)?;
        }
        Ok(out)
    }

    /// Drops the shared snapshot: called after every write transaction ends, before the
    /// write is acknowledged.
    pub(crate) fn invalidate(&self) {
        // Dropped after the lock is released: the last reference to a read transaction
        // tells redb's tracker, which need not wait for our lock.
        let old = self.lock().take();
        drop(old);
    }
}

impl Snapshot {
    fn table(&mut self, name: &str) -> Result<Option<Arc<ReadTable>>> {
        if let Some(t) = self.tables.get(name) {
            return Ok(Some(Arc::clone(t)));
        }
        let table = match self.txn.open_table(Bytes::new(name)) {
            Ok(t) => Arc::new(t),
            // Not remembered: a write that creates it also drops this snapshot.
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(storage(e)),
        };
        self.tables.insert(name.into(), Arc::clone(&table));
        Ok(Some(table))
    }
}
