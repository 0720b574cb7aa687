//! The embedded engine on redb: one code path as an in-memory store
//! ([`Kvs::memory`](crate::Kvs::memory)) and as a durable file
//! ([`Kvs::open`](crate::Kvs::open)).
//!
//! Items live in one table per store, keyed by the order-preserving key encoding;
//! secondary indexes are real index tables maintained in the same write transaction as
//! the item; a transaction is one redb write transaction. A file store commits every
//! write durably (fsync) before acknowledging it.
//!
//! Reads share one redb read transaction, and the tables opened in it, until the next
//! write commits (see `snapshot`): beginning a transaction per read would cost more
//! than the read.
//!
//! redb is synchronous, so nothing in an operation would ever return `Pending` on its
//! own: a task reading cached items (or writing in memory) in a loop would keep its
//! worker thread forever, starving every other task and timer of the runtime. So every
//! operation first takes its turn (`take_turn`: it spends tokio's scheduling budget, and
//! every so many operations the task yields to the others), and writers wait for one
//! another on an async lock, never in redb's blocking one (see `LocalBackend::write`).
//! Reads and in-memory writes (microseconds) then run on the calling task. A file
//! store's commit waits for the disk, so under a tokio runtime it runs on a blocking
//! thread while the task waits; outside one, it blocks the caller for the fsync.

mod range;
mod snapshot;
mod tables;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use redb::backends::InMemoryBackend;
use redb::{Database, DatabaseError, ReadableDatabase, ReadableTable, WriteTransaction};

use crate::backend::{Backend, PlannedOp, PlannedWrite, QueryPlan, RawItem, RawPage, ScanPlan};
use crate::eval::{self, WriteEffect};
use crate::{
    Condition, Error, ErrorKind, Item, Key, Kvs, PutMode, Result, StoreSchema, UpdateOp, codec,
};
use range::KeyRange;
use snapshot::{ReadTable, Snapshots};
use tables::{Bytes, META, Writer, decode_stored, index_entry, index_table, items_table, storage};

/// The embedded engine: a redb database in memory or in a file.
#[derive(Clone)]
pub struct LocalBackend {
    /// The snapshot reads share until the next write. Declared before `db`: the last
    /// handle drops its read transaction before the database, which then closes at once.
    snapshots: Arc<Snapshots>,
    /// Held for the whole of every write transaction (see `write`): writers queue here,
    /// yielding their threads, so that redb's `begin_write` never waits.
    writer: Arc<tokio::sync::Mutex<()>>,
    db: Arc<Database>,
    /// The file, or `None` in memory.
    path: Option<PathBuf>,
    /// Write transactions committed, to make every `DURABLE_EVERY`th in-memory commit a
    /// full one.
    commits: Arc<AtomicU64>,
}

/// In memory, most commits skip redb's commit protocol (there is nothing to sync), but
/// redb keeps the pages such commits free in memory until a full commit: one in this
/// many is full, so that memory stays bounded.
const DURABLE_EVERY: u64 = 256;

impl std::fmt::Debug for LocalBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.path {
            Some(p) => write!(f, "LocalBackend({})", p.display()),
            None => f.write_str("LocalBackend(memory)"),
        }
    }
}

impl LocalBackend {
    /// A store that lives in memory and is gone when the last handle is dropped.
    pub fn memory() -> Self {
        let db = Database::builder()
            .create_with_backend(InMemoryBackend::new())
            .expect("an in-memory redb database cannot fail to initialize");
        LocalBackend {
            snapshots: Arc::default(),
            writer: Arc::default(),
            db: Arc::new(db),
            path: None,
            commits: Arc::default(),
        }
    }

    /// Opens the store file at `path`, creating it (and its folder) if missing.
    ///
    /// A file that another process (or handle) has open is `Unavailable`; a file that is
    /// not a store, or is corrupt, is an error naming the file: it is never treated as
    /// empty.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let named = |kind: ErrorKind, what: &str| {
            Error::new(kind, format!("local store {}: {what}", path.display()))
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                named(ErrorKind::Unavailable, "cannot create its folder").with_source(e)
            })?;
        }
        let db = Database::create(path).map_err(|e| match e {
            DatabaseError::DatabaseAlreadyOpen => named(
                ErrorKind::Unavailable,
                "the file is already open in another process (or by another handle)",
            ),
            DatabaseError::Storage(redb::StorageError::Io(io))
                if matches!(
                    io.kind(),
                    std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
                ) =>
            {
                named(
                    ErrorKind::Backend,
                    &format!("the file is corrupt or not a kvs store ({io})"),
                )
                .with_source(io)
            }
            DatabaseError::Storage(redb::StorageError::Io(io)) => named(
                ErrorKind::Unavailable,
                &format!("cannot read the file: {io}"),
            )
            .with_source(io),
            other => named(
                ErrorKind::Backend,
                &format!("the file is not a readable kvs store ({other})"),
            )
            .with_source(other),
        })?;
        Ok(LocalBackend {
            snapshots: Arc::default(),
            writer: Arc::default(),
            db: Arc::new(db),
            path: Some(path.to_owned()),
            commits: Arc::default(),
        })
    }

    /// The stores defined in the database.
    pub fn stores(&self) -> Result<Vec<StoreSchema>> {
        let txn = self.db.begin_read().map_err(storage)?;
        let meta = match txn.open_table(META) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(storage(e)),
        };
        let mut out = Vec::new();
        for entry in meta.iter().map_err(storage)? {
            let (_, v) = entry.map_err(storage)?;
            out.push(tables::decode_schema(v.value())?);
        }
        Ok(out)
    }

    /// Runs a write transaction and commits it, then drops the shared read snapshot, so
    /// that every read after this returns sees the write.
    ///
    /// redb allows one write transaction at a time, and `begin_write` blocks the thread
    /// until the open one ends: on a runtime, a worker thread stalled with all its
    /// tasks. So writers first wait for `self.writer`, an async (and first-come,
    /// first-served) lock, held until the transaction has ended; the transaction then
    /// never waits.
    ///
    /// A file store's commit waits for the disk (fsync), so under a tokio runtime it runs
    /// on the runtime's blocking threads while this task waits, its worker free for other
    /// tasks. Only the commit: the transaction is built here, in microseconds. Handing
    /// the commit over costs about 40 µs (measured on a loaded 2-core machine), as much
    /// as `block_in_place` costs when it must move the worker's other tasks to a new
    /// thread, against a commit of 250 µs or more; but `block_in_place` keeps those tasks
    /// waiting until that thread runs (8 reader and writer tasks of both stores on 2
    /// workers, unoptimized: a probe task woke up to 940 ms late with it, 220 ms this
    /// way), and a current-thread runtime cannot use it at all, so stalled whole for
    /// every fsync. A write whose future is
    /// dropped was either never begun (waiting for its turn) or is committed whole, as
    /// if acknowledged.
    async fn write<T>(&self, f: impl FnOnce(&WriteTransaction) -> Result<T>) -> Result<T> {
        take_turn(WRITE_UNITS).await;
        let turn = Arc::clone(&self.writer).lock_owned().await;
        let mut txn = self.db.begin_write().map_err(storage)?;
        let n = self.commits.fetch_add(1, Ordering::Relaxed);
        if self.path.is_none() && n % DURABLE_EVERY != DURABLE_EVERY - 1 {
            // Nothing to make durable in memory: skip the commit protocol's syncs.
            txn.set_durability(redb::Durability::None)
                .map_err(|e| Error::new(ErrorKind::Backend, format!("local store: {e}")))?;
        }
        // Dropping the transaction on an error aborts it: nothing is written.
        let out = f(&txn)?;
        let snapshots = Arc::clone(&self.snapshots);
        let commit = move || {
            let committed = txn.commit().map_err(storage);
            // After the commit (or its failure), before the write is acknowledged; and the
            // turn passes on only then.
            snapshots.invalidate();
            drop(turn);
            committed
        };
        match tokio::runtime::Handle::try_current() {
            Ok(rt) if self.path.is_some() => match rt.spawn_blocking(commit).await {
                Ok(committed) => committed?,
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                // The commit never ran: the transaction was dropped, so aborted.
                Err(_) => {
                    return Err(Error::new(
                        ErrorKind::Unavailable,
                        "local store: the runtime is shutting down; nothing was written",
                    ));
                }
            },
            _ => commit()?,
        }
        Ok(out)
    }

    /// Tables of the shared read snapshot, all from the same one; `None` for a table
    /// never written to, which reads as empty. Every read begins here, after taking its
    /// turn on the runtime.
    async fn read_tables<const N: usize>(
        &self,
        names: [&str; N],
    ) -> Result<[Option<Arc<ReadTable>>; N]> {
        take_turn(READ_UNITS).await;
        self.snapshots.tables(&self.db, names)
    }
}

/// Budget units a read spends: one, as a socket read of tokio does whatever its size.
const READ_UNITS: usize = 1;

/// Budget units a write transaction spends. A commit costs several cached gets (in
/// memory about 7: 13.5 µs against 1.9 µs, README's figures), and a writer charged one
/// unit, as a read is, would hold its thread for 128 commits between turns.
const WRITE_UNITS: usize = 8;

/// Lets the runtime run other tasks if this one has had its share: spends `units` of
/// tokio's cooperative scheduling budget, yielding once the budget is spent (128 units
/// on a runtime poll), as tokio's own sockets and channels do. A unit costs a
/// thread-local counter; outside a tokio runtime, or inside
/// `tokio::task::coop::unconstrained`, this never yields.
///
/// Every operation of the engine calls it before touching redb: a read or an in-memory
/// write is otherwise always ready at once, so a task doing them in a loop would never
/// give its worker thread back.
async fn take_turn(units: usize) {
    for _ in 0..units {
        tokio::task::coop::consume_budget().await;
    }
}

impl Kvs {
    /// A store that lives in memory, for tests: the same engine as the file store, so the
    /// two cannot drift apart.
    pub fn memory() -> Kvs {
        Kvs::new(LocalBackend::memory())
    }

    /// Opens (or creates) the durable local store file at `path`, with the stores
    /// already defined in it.
    ///
    /// ```no_run
    /// let kvs = kvs::Kvs::open("data/app.redb")?;
    /// # Ok::<(), kvs::Error>(())
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<Kvs> {
        let backend = LocalBackend::open(path)?;
        let stores = backend.stores()?;
        let mut builder = Kvs::builder(backend);
        for s in stores {
            builder = builder.store(s);
        }
        builder.build()
    }
}

/// Reads the item stored under `key`, still encoded: the caller decodes it, into an
/// `Item` or straight into its own type.
fn read_item(items: &ReadTable, key: &Key) -> Result<Option<RawItem>> {
    codec::with_table_key(key, |key| {
        let found = items.get(key).map_err(storage)?;
        // Copied out: a value borrowed from redb's page must not outlive its snapshot.
        Ok(found.map(|v| RawItem::encoded(v.value().to_vec())))
    })
}

impl LocalBackend {
    /// Applies one write (not in a transaction) and maps its outcome.
    async fn single_write(
        &self,
        schema: &StoreSchema,
        key: &Key,
        op: PlannedOp<'_>,
        condition: Option<&Condition>,
    ) -> Result<(Option<Item>, Option<Item>)> {
        let tkey = codec::table_key(key);
        self.write(|txn| {
            let w = Writer { txn };
            let old = w.get(schema, &tkey)?;
            match eval::decide(schema, key, &op, condition, old.as_ref())? {
                WriteEffect::Put(new) => {
                    w.put(schema, &tkey, old.as_ref(), &new)?;
                    Ok((old, Some(new.into_owned())))
                }
                WriteEffect::Delete => {
                    if let Some(o) = &old {
                        w.remove(schema, &tkey, o)?;
                    }
                    Ok((old, None))
                }
                WriteEffect::Nothing => Ok((old, None)),
            }
        })
        .await
    }
}

#[async_trait]
impl Backend for LocalBackend {
    fn name(&self) -> &'static str {
        if self.path.is_some() {
            "local"
        } else {
            "memory"
        }
    }

    async fn ensure_store(&self, schema: &StoreSchema) -> Result<()> {
        self.write(|txn| {
            let mut meta = txn.open_table(META).map_err(storage)?;
            let existing = meta
                .get(schema.name.as_str())
                .map_err(storage)?
                .map(|v| tables::decode_schema(v.value()))
                .transpose()?;
            match existing {
                Some(old) if old == *schema => return Ok(()),
                Some(old) => {
                    if old.partition_key != schema.partition_key || old.sort_key != schema.sort_key
                    {
                        return Err(Error::validation(format!(
                            "store {:?} exists with another key schema ({:?}/{:?})",
                            schema.name, old.partition_key, old.sort_key
                        )));
                    }
                    // Drop indexes that changed or went away, then build the new ones from
                    // the items already stored.
                    for index in &old.indexes {
                        if !schema.indexes.contains(index) {
                            let name = index_table(&schema.name, &index.name);
                            txn.delete_table(Bytes::new(&name)).map_err(storage)?;
                        }
                    }
                    let added: Vec<_> = schema
                        .indexes
                        .iter()
                        .filter(|i| !old.indexes.contains(i))
                        .collect();
                    if !added.is_empty() {
                        let name = items_table(&schema.name);
                        let items = txn.open_table(Bytes::new(name)).map_err(storage)?;
                        for entry in items.iter().map_err(storage)? {
                            let (k, v) = entry.map_err(storage)?;
                            let item = decode_stored(&schema.name, v.value())?;
                            for index in &added {
                                if let Some(e) =
                                    index_entry(index, &item, k.value()).map_err(|e| {
                                        e.context("an existing item does not fit the new index")
                                    })?
                                {
                                    let name = index_table(&schema.name, &index.name);
                                    let mut t =
                                        txn.open_table(Bytes::new(&name)).map_err(storage)?;
                                    t.insert(e.as_slice(), k.value()).map_err(storage)?;
                                }
                            }
                        }
                    }
                }
                None => {
                    // Create the tables now, so reads never meet a missing table.
                    txn.open_table(Bytes::new(items_table(&schema.name)))
                        .map_err(storage)?;
                    for index in &schema.indexes {
                        txn.open_table(Bytes::new(&index_table(&schema.name, &index.name)))
                            .map_err(storage)?;
                    }
                }
            }
            meta.insert(
                schema.name.as_str(),
                tables::encode_schema(schema)?.as_slice(),
            )
            .map_err(storage)?;
            Ok(())
        })
        .await
    }

    async fn get(&self, schema: &StoreSchema, key: &Key) -> Result<Option<RawItem>> {
        let [items] = self.read_tables([items_table(&schema.name)]).await?;
        match items {
            Some(items) => read_item(&items, key),
            None => Ok(None),
        }
    }

    async fn get_many(&self, schema: &StoreSchema, keys: &[Key]) -> Result<Vec<Option<RawItem>>> {
        let [items] = self.read_tables([items_table(&schema.name)]).await?;
        match items {
            Some(items) => keys.iter().map(|k| read_item(&items, k)).collect(),
            None => Ok(vec![None; keys.len()]),
        }
    }

    async fn put(
        &self,
        schema: &StoreSchema,
        item: &Item,
        mode: PutMode,
        condition: Option<&Condition>,
    ) -> Result<()> {
        let key = schema.key_of(item)?;
        if mode == PutMode::Upsert && condition.is_none() && schema.indexes.is_empty() {
            // Nothing depends on the item being replaced: write without reading it.
            let tkey = codec::table_key(&key);
            return self
                .write(|txn| {
                    let name = items_table(&schema.name);
                    let mut table = txn.open_table(Bytes::new(name)).map_err(storage)?;
                    table
                        .insert(tkey.as_slice(), codec::encode_item(item).as_slice())
                        .map_err(storage)?;
                    Ok(())
                })
                .await;
        }
        self.single_write(schema, &key, PlannedOp::Put { item, mode }, condition)
            .await?;
        Ok(())
    }

    async fn update(
        &self,
        schema: &StoreSchema,
        key: &Key,
        ops: &[UpdateOp],
        condition: Option<&Condition>,
    ) -> Result<RawItem> {
        let (_, new) = self
            .single_write(schema, key, PlannedOp::Update { ops }, condition)
            .await?;
        new.map(RawItem::from)
            .ok_or_else(|| Error::new(ErrorKind::Backend, "an update wrote no item"))
    }

    async fn delete(
        &self,
        schema: &StoreSchema,
        key: &Key,
        condition: Option<&Condition>,
    ) -> Result<Option<Item>> {
        let (old, _) = self
            .single_write(schema, key, PlannedOp::Delete, condition)
            .await?;
        Ok(old)
    }

    async fn query(&self, plan: &QueryPlan<'_>) -> Result<RawPage> {
        let schema = plan.schema;
        // Both tables from the same snapshot.
        let index_name = plan.index.map(|i| index_table(&schema.name, &i.name));
        let [items, entries] = match &index_name {
            Some(name) => self.read_tables([items_table(&schema.name), name]).await?,
            None => {
                let [items] = self.read_tables([items_table(&schema.name)]).await?;
                [items, None]
            }
        };
        let Some(items) = items else {
            return Ok(RawPage::default());
        };
        let mut partition = Vec::with_capacity(32);
        codec::encode_key_value(plan.partition, &mut partition);
        let mut range = KeyRange::partition(&partition, plan.sort);
        let mut page = PageFill::new(plan.limit, plan.filter);
        match plan.index {
            Some(index) => {
                if let Some(after) = plan.after {
                    let tkey = codec::table_key(&schema.key_of(after)?);
                    let ikey = index.key_of(after)?.ok_or_else(|| {
                        Error::invalid_page_token("invalid page token: no index position")
                    })?;
                    range = range.after(codec::index_key(&ikey, &tkey), plan.descending);
                }
                let Some(entries) = entries else {
                    return Ok(RawPage::default());
                };
                if range.is_empty() {
                    return Ok(RawPage::default());
                }
                let entries = entries.range::<&[u8]>(range.bounds()).map_err(storage)?;
                walk(entries, plan.descending, |entry| {
                    let (_, tkey) = entry.map_err(storage)?;
                    let stored = items.get(tkey.value()).map_err(storage)?.ok_or_else(|| {
                        Error::new(
                            ErrorKind::Backend,
                            format!(
                                "local store: an index entry of store {:?} points at no item",
                                schema.name
                            ),
                        )
                    })?;
                    page.offer(&schema.name, stored.value())
                })?;
            }
            None => {
                if let Some(after) = plan.after {
                    range = range.after(codec::table_key(&schema.key_of(after)?), plan.descending);
                }
                if range.is_empty() {
                    return Ok(RawPage::default());
                }
                let entries = items.range::<&[u8]>(range.bounds()).map_err(storage)?;
                walk(entries, plan.descending, |entry| {
                    let (_, v) = entry.map_err(storage)?;
                    page.offer(&schema.name, v.value())
                })?;
            }
        }
        Ok(page.finish())
    }

    async fn scan(&self, plan: &ScanPlan<'_>) -> Result<RawPage> {
        let [items] = self.read_tables([items_table(&plan.schema.name)]).await?;
        let Some(items) = items else {
            return Ok(RawPage::default());
        };
        let mut range = KeyRange {
            lower: std::ops::Bound::Unbounded,
            upper: std::ops::Bound::Unbounded,
        };
        if let Some(after) = plan.after {
            range = range.after(codec::table_key(&plan.schema.key_of(after)?), false);
        }
        let mut page = PageFill::new(plan.limit, plan.filter);
        let entries = items.range::<&[u8]>(range.bounds()).map_err(storage)?;
        walk(entries, false, |entry| {
            let (_, v) = entry.map_err(storage)?;
            page.offer(&plan.schema.name, v.value())
        })?;
        Ok(page.finish())
    }

    async fn transact(&self, writes: &[PlannedWrite<'_>]) -> Result<()> {
        self.write(|txn| {
            let w = Writer { txn };
            // Every condition is checked against the items as they were before the
            // transaction; only if all writes would succeed is anything written.
            let mut effects = Vec::with_capacity(writes.len());
            let mut reasons = Vec::with_capacity(writes.len());
            for write in writes {
                let tkey = codec::table_key(&write.key);
                let old = w.get(write.schema, &tkey)?;
                match eval::decide(
                    write.schema,
                    &write.key,
                    &write.op,
                    write.condition,
                    old.as_ref(),
                ) {
                    Ok(effect) => {
                        reasons.push(None);
                        effects.push((tkey, old, effect));
                    }
                    Err(e) => reasons.push(Some(e.kind().clone())),
                }
            }
            if reasons.iter().any(Option::is_some) {
                let failed = reasons.iter().filter(|r| r.is_some()).count();
                return Err(Error::new(
                    ErrorKind::TransactionCanceled { reasons },
                    format!(
                        "{failed} of {} writes could not be done; nothing was written",
                        writes.len()
                    ),
                ));
            }
            for (write, (tkey, old, effect)) in writes.iter().zip(effects) {
                match effect {
                    WriteEffect::Put(new) => w.put(write.schema, &tkey, old.as_ref(), &new)?,
                    WriteEffect::Delete => {
                        if let Some(o) = &old {
                            w.remove(write.schema, &tkey, o)?;
                        }
                    }
                    WriteEffect::Nothing => {}
                }
            }
            Ok(())
        })
        .await
    }

    async fn put_many(&self, schema: &StoreSchema, items: &[Item]) -> Result<()> {
        self.write(|txn| {
            let w = Writer { txn };
            for item in items {
                let tkey = codec::table_key(&schema.key_of(item)?);
                let old = w.get(schema, &tkey)?;
                w.put(schema, &tkey, old.as_ref(), item)?;
            }
            Ok(())
        })
        .await
    }

    async fn delete_many(&self, schema: &StoreSchema, keys: &[Key]) -> Result<()> {
        self.write(|txn| {
            let w = Writer { txn };
            for key in keys {
                let tkey = codec::table_key(key);
                if let Some(old) = w.get(schema, &tkey)? {
                    w.remove(schema, &tkey, &old)?;
                }
            }
            Ok(())
        })
        .await
    }
}

/// Visits entries in key order (or reversed) until `visit` says the page is settled.
fn walk<T>(
    entries: impl DoubleEndedIterator<Item = T>,
    descending: bool,
    mut visit: impl FnMut(T) -> Result<bool>,
) -> Result<()> {
    if descending {
        for e in entries.rev() {
            if !visit(e)? {
                break;
            }
        }
    } else {
        for e in entries {
            if !visit(e)? {
                break;
            }
        }
    }
    Ok(())
}

/// Collects a page: items that pass the filter until the limit, then looks for one more
/// match so that a page token is given only when another item will follow.
struct PageFill<'a> {
    limit: usize,
    filter: Option<&'a Condition>,
    items: Vec<RawItem>,
    more: bool,
}

impl<'a> PageFill<'a> {
    fn new(limit: usize, filter: Option<&'a Condition>) -> Self {
        PageFill {
            limit,
            filter,
            items: Vec::new(),
            more: false,
        }
    }

    /// Offers the next stored item in order; `false` once the page is settled. Without
    /// a filter the item stays encoded, for the caller to decode into its type.
    fn offer(&mut self, store: &str, stored: &[u8]) -> Result<bool> {
        let item = match self.filter {
            Some(f) => {
                let item = decode_stored(store, stored)?;
                if !eval::matches(f, Some(&item)) {
                    return Ok(true);
                }
                RawItem::from(item)
            }
            None => RawItem::encoded(stored.to_vec()),
        };
        if self.items.len() == self.limit {
            self.more = true;
            return Ok(false);
        }
        self.items.push(item);
        Ok(true)
    }

    fn finish(self) -> RawPage {
        RawPage {
            items: self.items,
            more: self.more,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicI64, Ordering};

    use super::LocalBackend;
    use crate::{IndexSchema, KeyAttr, Kvs, StoreSchema, item};

    /// Reads share a snapshot until a write: each read must still see every write
    /// acknowledged before it began, whatever interleaves on other threads.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reads_see_every_acknowledged_write() {
        let dir = tempfile::tempdir().unwrap();
        for kvs in [Kvs::memory(), Kvs::open(dir.path().join("s.redb")).unwrap()] {
            kvs.ensure_store(StoreSchema::new("c", KeyAttr::string("id")))
                .await
                .unwrap();
            let acked = std::sync::Arc::new(AtomicI64::new(-1));
            let writer = {
                let (kvs, acked) = (kvs.clone(), acked.clone());
                tokio::spawn(async move {
                    for n in 0..300i64 {
                        kvs.upsert("c", item! { "id" => "x", "n" => n })
                            .await
                            .unwrap();
                        acked.store(n, Ordering::SeqCst);
                    }
                })
            };
            let reader = tokio::spawn(async move {
                loop {
                    let floor = acked.load(Ordering::SeqCst);
                    let n = match kvs.get("c", "x").await.unwrap() {
                        Some(it) => it["n"].as_number().unwrap().as_i64().unwrap(),
                        None => -1,
                    };
                    assert!(n >= floor, "read {n} after write {floor} was acknowledged");
                    if floor == 299 {
                        break;
                    }
                    tokio::task::yield_now().await;
                }
            });
            writer.await.unwrap();
            reader.await.unwrap();
        }
    }

    /// A read right after each kind of write sees it, in the same task: the shared
    /// snapshot is never reused across a write.
    #[tokio::test]
    async fn a_shared_snapshot_ends_at_every_kind_of_write() {
        let kvs = Kvs::memory();
        let schema = StoreSchema::new("s", KeyAttr::string("id"));
        kvs.ensure_store(schema.clone()).await.unwrap();
        assert_eq!(kvs.get("s", "a").await.unwrap(), None);
        kvs.upsert("s", item! { "id" => "a", "g" => "x" })
            .await
            .unwrap();
        assert!(kvs.get("s", "a").await.unwrap().is_some());
        kvs.update("s", "a").set("n", 1).await.unwrap();
        assert_eq!(kvs.get("s", "a").await.unwrap().unwrap()["n"], 1.into());
        kvs.upsert_many("s", [item! { "id" => "b", "g" => "x" }])
            .await
            .unwrap();
        assert_eq!(kvs.get_many("s", ["a", "b"]).await.unwrap().len(), 2);
        assert!(kvs.get("s", "b").await.unwrap().is_some());
        // A new index, built from the items already stored, is read in a new snapshot.
        kvs.ensure_store(schema.index(IndexSchema::new("byG", KeyAttr::string("g"))))
            .await
            .unwrap();
        let page = kvs.query("s", "x").index("byG").await.unwrap();
        assert_eq!(page.items.len(), 2);
        kvs.delete_many("s", ["b"]).await.unwrap();
        assert_eq!(kvs.get("s", "b").await.unwrap(), None);
        kvs.delete("s", "a").await.unwrap();
        assert_eq!(kvs.scan("s").await.unwrap().items.len(), 0);
    }

    /// A writer waiting for its turn gives its thread back: on a current-thread runtime
    /// (one thread for every task), this task goes on reading while a writer waits for
    /// the write transaction this task holds the turn of, and the writer then finishes.
    #[tokio::test]
    async fn a_waiting_writer_yields_its_thread() {
        let backend = LocalBackend::memory();
        let kvs = Kvs::new(backend.clone());
        kvs.ensure_store(StoreSchema::new("s", KeyAttr::string("id")))
            .await
            .unwrap();
        let turn = backend.writer.lock().await;
        let writer = tokio::spawn({
            let kvs = kvs.clone();
            async move { kvs.upsert("s", item! { "id" => "a" }).await }
        });
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(!writer.is_finished(), "the write did not wait for its turn");
        assert_eq!(kvs.get("s", "a").await.unwrap(), None);
        drop(turn);
        writer.await.unwrap().unwrap();
        assert!(kvs.get("s", "a").await.unwrap().is_some());
    }

    /// The shared snapshot does not keep the file open after the last handle is dropped.
    #[tokio::test]
    async fn dropping_the_store_closes_the_file_despite_a_shared_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        let kvs = Kvs::open(&path).unwrap();
        kvs.ensure_store(StoreSchema::new("s", KeyAttr::string("id")))
            .await
            .unwrap();
        kvs.upsert("s", item! { "id" => "a" }).await.unwrap();
        assert!(kvs.get("s", "a").await.unwrap().is_some());
        drop(kvs);
        let again = Kvs::open(&path).unwrap();
        assert!(again.get("s", "a").await.unwrap().is_some());
    }
}
