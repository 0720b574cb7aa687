//! The read snapshot that reads share until the next write.
//!
//! A get on its own is cheap in redb; beginning a read transaction and opening a table
//! for it are not: registering the transaction with redb's tracker, searching the table
//! directory, and checking the table's key and value types (which builds their type
//! names as strings) cost more than the lookup itself (by callgrind, about 4,000
//! instructions against 2,600 for a lookup in a table of 10,000 items). So reads share
//! one read transaction, and the tables opened in it, until a write commits.
//!
//! Nothing in a read's path serializes readers: the latest snapshot is published in an
//! [`ArcSwapOption`], which a read loads without a lock and without writing a shared
//! reference count (arc-swap's thread-local debts), and the read uses the tables through
//! that load ([`Read`]) rather than cloning their `Arc`s. Only a read that finds no
//! snapshot, or one without a table it needs, takes a lock (`build`) to publish a new
//! one; that happens once after each write.
//!
//! Why a read still sees every acknowledged write: every snapshot carries the
//! generation (`generation`, advanced by every commit) it was begun in, and a read uses
//! only a snapshot of the current generation. A write advances the generation after it
//! commits and before it is acknowledged; so a read that starts after the
//! acknowledgement rejects every snapshot begun before the commit, and a snapshot it
//! begins itself (after reading the new generation) sees the write. A snapshot published
//! late by a read that raced a commit carries the old generation and is never used
//! again. This rests on every write to the database going through here: the database is
//! opened in redb's default exclusive mode (one process, one `Database` shared by the
//! clones of a backend), and every write transaction of the engine goes through
//! `LocalBackend::write`. The published snapshot is also dropped at every write, so
//! that an old snapshot does not hold on to the pages later writes free.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::{ArcSwapOption, Guard};
use redb::{Database, ReadOnlyTable, ReadTransaction, ReadableDatabase};

use super::tables::{Bytes, storage};
use crate::Result;

/// A table of the embedded engine, opened for reading in a shared snapshot.
pub(crate) type ReadTable = ReadOnlyTable<&'static [u8], &'static [u8]>;

/// The shared read snapshot of one database, if a read has begun one since the last
/// write.
#[derive(Default)]
pub(crate) struct Snapshots {
    latest: ArcSwapOption<Snapshot>,
    /// Advanced by every commit, before the write is acknowledged.
    generation: AtomicU64,
    /// Held while a new snapshot is built, so that readers that all miss build one.
    build: Mutex<()>,
}

struct Snapshot {
    /// The generation the snapshot was begun in.
    generation: u64,
    /// Kept to open more tables in the same snapshot.
    txn: Arc<ReadTransaction>,
    /// The tables opened in `txn` so far, by name (`None`: it does not exist in this
    /// snapshot; a write that creates it advances the generation).
    tables: BTreeMap<Box<str>, Option<Arc<ReadTable>>>,
}

/// The tables a read asked for, in one snapshot, held through the load that found it
/// (no shared count is written for it).
pub(crate) struct Read {
    snapshot: Guard<Option<Arc<Snapshot>>>,
}

impl Read {
    /// The table called `name` (one the read asked for); `None` if it does not exist.
    pub(crate) fn table(&self, name: &str) -> Option<&ReadTable> {
        self.snapshot
            .as_ref()
            .and_then(|s| s.tables.get(name))
            .and_then(|t| t.as_deref())
    }
}

impl Snapshots {
    /// The latest snapshot holding the tables called `names`, if it is current.
    fn current(&self, names: &[&str]) -> Option<Guard<Option<Arc<Snapshot>>>> {
        let latest = self.latest.load();
        let s = latest.as_ref()?;
        (s.generation == self.generation.load(Ordering::SeqCst)
            && names.iter().all(|n| s.tables.contains_key(*n)))
        .then_some(latest)
    }

    /// The tables called `names` in the latest snapshot (all from the same one), begun
    /// or extended if it lacks them.
    pub(crate) fn tables(&self, db: &Database, names: &[&str]) -> Result<Read> {
        if let Some(snapshot) = self.current(names) {
            return Ok(Read { snapshot });
        }
        let _building = self.build.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(snapshot) = self.current(names) {
            return Ok(Read { snapshot });
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let latest = self.latest.load_full();
        let (txn, mut tables) = match latest {
            Some(s) if s.generation == generation => (Arc::clone(&s.txn), s.tables.clone()),
            // Begun after the generation was read: it sees every write acknowledged
            // before.
            _ => (Arc::new(db.begin_read().map_err(storage)?), BTreeMap::new()),
        };
        for name in names {
            if !tables.contains_key(*name) {
                let table = match txn.open_table(Bytes::new(name)) {
                    Ok(t) => Some(Arc::new(t)),
                    Err(redb::TableError::TableDoesNotExist(_)) => None,
                    Err(e) => return Err(storage(e)),
                };
                tables.insert((*name).into(), table);
            }
        }
        let snapshot = Arc::new(Snapshot {
            generation,
            txn,
            tables,
        });
        // Published even if a write committed meanwhile: this read began before that
        // write was acknowledged and may use it; later reads reject its generation.
        self.latest.store(Some(Arc::clone(&snapshot)));
        Ok(Read {
            snapshot: Guard::from_inner(Some(snapshot)),
        })
    }

    /// The generation: how many write transactions committed (or failed to).
    #[cfg(test)]
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Ends the shared snapshot: called after every write transaction commits (or fails
    /// to), before the write is acknowledged.
    pub(crate) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        // The last reference to the old read transaction tells redb's tracker.
        self.latest.store(None);
    }
}
