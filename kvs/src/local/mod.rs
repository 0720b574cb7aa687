//! The embedded engine on redb: one code path as an in-memory store
//! ([`Kvs::memory`](crate::Kvs::memory)) and as a durable file
//! ([`Kvs::open`](crate::Kvs::open)).
//!
//! Items live in one table per store, keyed by the order-preserving key encoding;
//! secondary indexes are real index tables maintained in the same write transaction as
//! the item; a transaction is one redb write transaction. A file store commits every
//! write durably (fsync) before acknowledging it, writes that arrive together sharing
//! one commit (see `commit`).
//!
//! Reads share one redb read transaction, and the tables opened in it, until the next
//! write commits (see `snapshot`): beginning a transaction per read would cost more
//! than the read.
//!
//! redb is synchronous, so nothing in an operation would ever return `Pending` on its
//! own: a task reading cached items (or writing in memory) in a loop would keep its
//! worker thread forever, starving every other task and timer of the runtime. So every
//! operation takes its turn (`take_turn`: it spends tokio's scheduling budget, and
//! every so many operations the task yields to the others; for a get answered by
//! `get_now`, the library does), and in-memory writers wait
//! for one another on an async lock, never in redb's blocking one (see
//! `LocalBackend::write`). Reads and in-memory writes (microseconds) then run on the
//! calling task. A file store's writes wait for the disk, so they are made by the file's
//! committer thread while the task waits, its worker free, under any executor.

mod commit;
mod snapshot;
mod tables;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use redb::backends::InMemoryBackend;
use redb::{Database, DatabaseError, ReadableDatabase, ReadableTable};

use crate::backend::emulate::{PageFiller, decide_all};
use crate::backend::{
    Backend, PlannedOp, QueryPlan, RawItem, RawPage, ScanPlan, WritePlan, Written,
};
use crate::codec::KeyRange;
use crate::eval::{self, WriteEffect};
use crate::schema::now_seconds;
use crate::{Error, ErrorKind, Item, Key, Kvs, Options, PutMode, Result, StoreSchema, codec};
use commit::{Committer, OwnedPlan};
use snapshot::{Read, ReadTable, Snapshots};
use tables::{
    META, Writer, decode_stored, expiry_table, index_entry, index_table, items_table, storage,
};

/// The embedded engine: a redb database in memory or in a file.
#[derive(Clone)]
pub struct LocalBackend {
    /// The snapshot reads share until the next write. Declared before `db`: the last
    /// handle drops its read transaction before the database, which then closes at once.
    snapshots: Arc<Snapshots>,
    /// In memory: held for the whole of every write transaction (see `write`): writers
    /// queue here, yielding their threads, so that redb's `begin_write` never waits.
    writer: Arc<tokio::sync::Mutex<()>>,
    /// A file's group committer, which makes every write of a file. Declared before
    /// `db`: dropping the last handle waits for it to finish and let go of the database.
    committer: Option<Arc<Committer>>,
    db: Arc<Database>,
    /// The file, or `None` in memory.
    path: Option<PathBuf>,
    /// Write transactions committed, to make every `DURABLE_EVERY`th in-memory commit a
    /// full one.
    commits: Arc<AtomicU64>,
    /// The stores defined in the database (see [`Catalog`]).
    catalog: Catalog,
}

/// The stores defined in a database, as committed, and how messages name the database.
///
/// A write resolves its store's schema here, inside its write transaction: the indexes
/// and expiry it keeps up are those the database holds (with what an `ensure_store`
/// earlier in the same transaction defined), whatever schema the handle that sent it
/// registered, and a store or index not here is `StoreNotFound` without a read. Exact:
/// redb lets one handle (and its clones, which share this catalog) open a file, only
/// `ensure_store` defines a store, and it changes the catalog once its commit is
/// durable, on the committer's side before the next transaction begins (so an
/// `ensure_store` whose caller stopped waiting changes it too).
#[derive(Clone)]
struct Catalog {
    defined: Arc<RwLock<HashMap<String, Arc<StoreSchema>>>>,
    /// The file, or the in-memory store, for messages.
    place: Arc<str>,
}

impl Catalog {
    fn new(place: String) -> Self {
        Catalog {
            defined: Arc::default(),
            place: place.into(),
        }
    }

    /// Records a schema whose definition is committed.
    fn committed(&self, schema: Arc<StoreSchema>) {
        let mut defined = self.defined.write().unwrap_or_else(|e| e.into_inner());
        defined.insert(schema.name.clone(), schema);
    }

    /// Every committed schema.
    fn all(&self) -> Vec<StoreSchema> {
        let defined = self.defined.read().unwrap_or_else(|e| e.into_inner());
        defined.values().map(|s| StoreSchema::clone(s)).collect()
    }

    /// The schema `schema`'s store has in the database, as the write `w` sees it (what
    /// its transaction defined, else what is committed), or as committed: `StoreNotFound`
    /// unless it was defined, `Validation` if its keys are not the ones `schema` gives
    /// (the handle registered another store under the name).
    fn stored(&self, w: Option<&Writer<'_>>, schema: &StoreSchema) -> Result<Arc<StoreSchema>> {
        let stored = match w.and_then(|w| w.defined_here(&schema.name)) {
            Some(s) => s,
            None => {
                let defined = self.defined.read().unwrap_or_else(|e| e.into_inner());
                match defined.get(&schema.name) {
                    Some(s) => Arc::clone(s),
                    None => return Err(self.not_defined(&schema.name)),
                }
            }
        };
        if stored.partition_key != schema.partition_key || stored.sort_key != schema.sort_key {
            return Err(Error::validation(format!(
                "store {:?} is defined in {} with the key {:?}/{:?}, not the {:?}/{:?} this \
                 handle registered for it",
                schema.name,
                self.place,
                stored.partition_key,
                stored.sort_key,
                schema.partition_key,
                schema.sort_key
            )));
        }
        Ok(stored)
    }

    fn not_defined(&self, store: &str) -> Error {
        Error::new(
            ErrorKind::StoreNotFound,
            format!(
                "store {store:?} does not exist in {}: create it with ensure_store",
                self.place
            ),
        )
    }
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
            committer: None,
            db: Arc::new(db),
            path: None,
            commits: Arc::default(),
            catalog: Catalog::new("the in-memory store".to_owned()),
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
        let db = Arc::new(db);
        let snapshots = Arc::<Snapshots>::default();
        let committer = Committer::start(Arc::clone(&db), Arc::clone(&snapshots))?;
        let backend = LocalBackend {
            snapshots,
            writer: Arc::default(),
            committer: Some(Arc::new(committer)),
            db,
            path: Some(path.to_owned()),
            commits: Arc::default(),
            catalog: Catalog::new(format!("the local store {}", path.display())),
        };
        let stores = backend.stores().map_err(|e| {
            Error::new(*e.kind(), format!("{}: {}", path.display(), e.message())).with_source(e)
        })?;
        for schema in stores {
            backend.catalog.committed(Arc::new(schema));
        }
        Ok(backend)
    }

    fn not_defined(&self, store: &str) -> Error {
        self.catalog.not_defined(store)
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

    /// Makes a write and commits it, then ends the shared read snapshot, so that every
    /// read after this returns sees the write.
    ///
    /// A file's writes go to its group committer (see `commit`): they are made with the
    /// other writes waiting, in one transaction and one fsync, on the committer's thread
    /// while this task waits, its worker free. The write works there on copies of what
    /// it needs (`grouped` makes them), since this future may be dropped before it is
    /// made; a write whose future is dropped is then either made whole, as if
    /// acknowledged, or (the committer gone) not at all.
    ///
    /// In memory there is nothing to wait for, and handing a write to another thread
    /// would cost more than making it: `inline` runs here. redb allows one write
    /// transaction at a time, and `begin_write` blocks the thread until the open one
    /// ends: on a runtime, a worker thread stalled with all its tasks. So writers first
    /// wait for `self.writer`, an async (and first-come, first-served) lock, held until
    /// the transaction has ended; the transaction then never waits. A write whose future
    /// is dropped was either never begun (waiting for its turn) or is committed whole.
    async fn write<T, W>(
        &self,
        inline: impl FnOnce(&Writer<'_>) -> Result<T>,
        grouped: impl FnOnce() -> W,
    ) -> Result<T>
    where
        T: Send + 'static,
        W: FnMut(&Writer<'_>) -> Result<T> + Send + 'static,
    {
        self.write_then(inline, grouped, |_| {}).await
    }

    /// [`write`](Self::write), then `then` once the write is durable and done, even if
    /// this future is dropped meanwhile (see `Committer::write_then`).
    async fn write_then<T, W, A>(
        &self,
        inline: impl FnOnce(&Writer<'_>) -> Result<T>,
        grouped: impl FnOnce() -> W,
        then: A,
    ) -> Result<T>
    where
        T: Send + 'static,
        W: FnMut(&Writer<'_>) -> Result<T> + Send + 'static,
        A: FnOnce(&T) + Send + 'static,
    {
        take_turn(WRITE_UNITS).await;
        if let Some(committer) = &self.committer {
            return committer.write_then(grouped(), then).await;
        }
        let _turn = self.writer.lock().await;
        let mut txn = self.db.begin_write().map_err(storage)?;
        let n = self.commits.fetch_add(1, Ordering::Relaxed);
        if n % DURABLE_EVERY != DURABLE_EVERY - 1 {
            // Nothing to make durable in memory: skip the commit protocol's syncs.
            txn.set_durability(redb::Durability::None)
                .map_err(|e| Error::new(ErrorKind::Backend, format!("local store: {e}")))?;
        }
        // Dropping the transaction on an error aborts it: nothing is written.
        let defining = tables::Defining::default();
        let out = inline(&Writer::new(&txn, &defining))?;
        let committed = txn.commit().map_err(storage);
        // After the commit (or its failure), before the write is acknowledged; and the
        // turn passes on only then.
        self.snapshots.invalidate();
        committed?;
        // No await since the commit: this future cannot have been dropped in between.
        then(&out);
        Ok(out)
    }

    /// Runs `read` on the store's items in the shared read snapshot, the caller having
    /// taken its turn (a get, or a batch of them).
    fn read_items<R>(
        &self,
        schema: &StoreSchema,
        read: impl FnOnce(&ReadTable) -> Result<R>,
    ) -> Result<R> {
        let name = items_table(&schema.name);
        let snapshot = self.snapshots.tables(&self.db, &[name])?;
        match snapshot.table(name) {
            Some(items) => read(items),
            None => Err(self.not_defined(&schema.name)),
        }
    }

    /// Tables of the shared read snapshot, all from the same one; `None` for a table
    /// never written to, which reads as empty. Every read but a get (`read_items`) begins
    /// here, after taking its turn on the runtime.
    async fn read_tables(&self, names: &[&str]) -> Result<Read> {
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

    /// [`Kvs::memory`] with options (a page token key, stores to register).
    pub fn memory_with(options: Options) -> Result<Kvs> {
        Kvs::builder(LocalBackend::memory())
            .options(options)
            .build()
    }

    /// Opens (or creates) the durable local store file at `path`, with the stores
    /// already defined in it registered. Every way of opening a file registers them:
    /// `Kvs::new(LocalBackend::open(path)?)` and [`Kvs::builder`] too.
    ///
    /// ```no_run
    /// let kvs = kvs::Kvs::open("data/app.redb")?;
    /// # Ok::<(), kvs::Error>(())
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<Kvs> {
        Kvs::open_with(path, Options::new())
    }

    /// [`Kvs::open`] with options (a page token key, stores to register).
    ///
    /// ```no_run
    /// use kvs::{Kvs, Options};
    ///
    /// let key = std::env::var("PAGE_TOKEN_KEY").expect("a secret");
    /// let kvs = Kvs::open_with("data/app.redb", Options::new().page_token_key(key))?;
    /// # Ok::<(), kvs::Error>(())
    /// ```
    pub fn open_with(path: impl AsRef<Path>, options: Options) -> Result<Kvs> {
        Kvs::builder(LocalBackend::open(path)?)
            .options(options)
            .build()
    }
}

/// Reads the item stored under `key`, still encoded: the caller decodes it, into an
/// `Item` or straight into its own type.
fn read_item(items: &ReadTable, key: &Key) -> Result<Option<RawItem>> {
    codec::with_table_key(key, |key| {
        // Left in redb's page, not copied out: one reference count more (the read
        // transaction's, which the guard shares) costs less than an allocation and a
        // copy, and redb's lookup already counts the pages it reads.
        Ok(items.get_owned(key).map_err(storage)?.map(RawItem::in_page))
    })
}

/// Makes the store's expiry table anew from its items (its expiry attribute changed).
fn rebuild_expiry(w: &Writer<'_>, schema: &StoreSchema) -> Result<()> {
    let name = expiry_table(&schema.name);
    w.changing()
        .delete_table(tables::Bytes::new(&name))
        .map_err(storage)?;
    if schema.ttl.is_none() {
        return Ok(());
    }
    let mut expiry = w.table(&name)?;
    let items = w.table(items_table(&schema.name))?;
    for entry in items.iter().map_err(storage)? {
        let (k, v) = entry.map_err(storage)?;
        let item = decode_stored(&schema.name, v.value())?;
        if let Some(e) = tables::expiry_entry(schema, &item, k.value()) {
            expiry.insert(e.as_slice(), &[][..]).map_err(storage)?;
        }
    }
    Ok(())
}

/// How many expired items a write transaction deletes from each store it writes, at
/// most: a store written faster than its items expire keeps up, and no write pays for
/// a backlog at once.
const RECLAIM_PER_WRITE: usize = 8;

/// Defines a store, or changes its definition: creates its tables, or rebuilds the
/// indexes and the expiry table that changed from the items stored. A store that exists
/// with other keys is refused before anything changes.
fn define_store(w: &Writer<'_>, schema: &StoreSchema) -> Result<()> {
    let existing = w
        .reading()
        .open_table(META)
        .map_err(storage)?
        .get(schema.name.as_str())
        .map_err(storage)?
        .map(|v| tables::decode_schema(v.value()))
        .transpose()?;
    match existing {
        Some(old) if old == *schema => return Ok(()),
        Some(old) => {
            if old.partition_key != schema.partition_key || old.sort_key != schema.sort_key {
                return Err(Error::validation(format!(
                    "store {:?} exists with another key schema ({:?}/{:?})",
                    schema.name, old.partition_key, old.sort_key
                )));
            }
            if old.ttl != schema.ttl {
                rebuild_expiry(w, schema)?;
            }
            // Drop indexes that changed or went away, then build the new ones from
            // the items already stored.
            for index in &old.indexes {
                if !schema.indexes.contains(index) {
                    let name = index_table(&schema.name, &index.name);
                    w.changing()
                        .delete_table(tables::Bytes::new(&name))
                        .map_err(storage)?;
                }
            }
            let added: Vec<_> = schema
                .indexes
                .iter()
                .filter(|i| !old.indexes.contains(i))
                .collect();
            if !added.is_empty() {
                let items = w.table(items_table(&schema.name))?;
                for entry in items.iter().map_err(storage)? {
                    let (k, v) = entry.map_err(storage)?;
                    let item = decode_stored(&schema.name, v.value())?;
                    for index in &added {
                        let entry = index_entry(index, &item, k.value()).map_err(|e| {
                            e.context("an existing item does not fit the new index")
                        })?;
                        if let Some(e) = entry {
                            w.table(&index_table(&schema.name, &index.name))?
                                .insert(e.as_slice(), k.value())
                                .map_err(storage)?;
                        }
                    }
                }
            }
        }
        None => {
            // Create the tables now, so reads never meet a missing table.
            w.table(items_table(&schema.name))?;
            if schema.ttl.is_some() {
                w.table(&expiry_table(&schema.name))?;
            }
            for index in &schema.indexes {
                w.table(&index_table(&schema.name, &index.name))?;
            }
        }
    }
    w.changing()
        .open_table(META)
        .map_err(storage)?
        .insert(
            schema.name.as_str(),
            tables::encode_schema(schema)?.as_slice(),
        )
        .map_err(storage)?;
    w.define(schema);
    Ok(())
}

/// One write, on the schema its store has in the database as the write's transaction
/// sees it: an upsert of a store with neither indexes nor expiry without reading the
/// item it replaces, any other through [`single_write`].
fn write_on_stored(w: &Writer<'_>, catalog: &Catalog, plan: &WritePlan<'_>) -> Result<Written> {
    let stored = catalog.stored(Some(w), plan.schema)?;
    let plan = on_stored(plan, &stored);
    match (&plan.op, plan.condition) {
        (
            PlannedOp::Put {
                item,
                mode: PutMode::Upsert,
            },
            None,
        ) if stored.indexes.is_empty() && stored.ttl.is_none() => {
            blind_upsert(w, &stored, &plan.key, item)
        }
        _ => single_write(w, &plan),
    }
}

/// A transaction, each write on the schema its store has in the database as the
/// transaction sees it.
fn transaction_on_stored(
    w: &Writer<'_>,
    catalog: &Catalog,
    writes: &[WritePlan<'_>],
) -> Result<()> {
    let stored = writes
        .iter()
        .map(|p| catalog.stored(Some(w), p.schema))
        .collect::<Result<Vec<_>>>()?;
    let plans: Vec<_> = writes
        .iter()
        .zip(&stored)
        .map(|(p, s)| on_stored(p, s))
        .collect();
    transaction(w, &plans)
}

/// `plan` on the schema its store has in the database (`stored`, whose keys are the
/// plan's): the indexes and expiry kept up are the file's, whatever the handle that sent
/// the plan registered.
fn on_stored<'a>(plan: &WritePlan<'a>, stored: &'a StoreSchema) -> WritePlan<'a> {
    WritePlan {
        schema: stored,
        key: plan.key.clone(),
        op: plan.op.clone(),
        condition: plan.condition,
    }
}

/// Makes one write (not in a transaction): gives back the old item and, for an update,
/// the new one.
fn single_write(w: &Writer<'_>, plan: &WritePlan<'_>) -> Result<Written> {
    let schema = plan.schema;
    let tkey = codec::table_key(&plan.key);
    let old = w.get(schema, &tkey)?;
    let new = match eval::decide(schema, &plan.key, &plan.op, plan.condition, old.as_ref())? {
        WriteEffect::Put(new) => {
            w.put(schema, &tkey, old.as_ref(), &new)?;
            // An update's new item (a put's is the caller's own).
            match new {
                std::borrow::Cow::Owned(new) => Some(RawItem::from(new)),
                std::borrow::Cow::Borrowed(_) => None,
            }
        }
        WriteEffect::Delete => {
            if let Some(o) = &old {
                w.remove(schema, &tkey, o)?;
            }
            None
        }
        WriteEffect::Nothing => None,
    };
    w.reclaim(schema, now_seconds(), RECLAIM_PER_WRITE)?;
    Ok(Written {
        old: old.map(RawItem::from),
        new,
    })
}

/// Upserts an item of a store with neither indexes nor expiry: nothing depends on the
/// item it replaces, so it is not read.
fn blind_upsert(w: &Writer<'_>, schema: &StoreSchema, key: &Key, item: &Item) -> Result<Written> {
    w.table(items_table(&schema.name))?
        .insert(
            codec::table_key(key).as_slice(),
            codec::encode_item(item).as_slice(),
        )
        .map_err(storage)?;
    Ok(Written::default())
}

/// Makes a transaction's writes, all or none: every condition is checked against the
/// items as they were before the transaction, and only if every write would succeed is
/// anything written.
fn transaction(w: &Writer<'_>, writes: &[WritePlan<'_>]) -> Result<()> {
    let mut tkeys = Vec::with_capacity(writes.len());
    let mut olds = Vec::with_capacity(writes.len());
    for write in writes {
        let tkey = codec::table_key(&write.key);
        olds.push(w.get(write.schema, &tkey)?);
        tkeys.push(tkey);
    }
    // The engine holds what the portable limits allow (it declares no stricter ones).
    let effects = decide_all(writes, &olds, &crate::backend::Capabilities::default())?;
    for (write, ((tkey, old), effect)) in writes.iter().zip(tkeys.iter().zip(&olds).zip(effects)) {
        match effect {
            WriteEffect::Put(new) => w.put(write.schema, tkey, old.as_ref(), &new)?,
            WriteEffect::Delete => {
                if let Some(o) = &old {
                    w.remove(write.schema, tkey, o)?;
                }
            }
            WriteEffect::Nothing => {}
        }
    }
    let now = now_seconds();
    let mut reclaimed: Vec<&str> = Vec::new();
    for write in writes {
        if !reclaimed.contains(&write.schema.name.as_str()) {
            w.reclaim(write.schema, now, RECLAIM_PER_WRITE)?;
            reclaimed.push(&write.schema.name);
        }
    }
    Ok(())
}

/// Upserts items of one store. Every key is checked before anything is written.
fn upserts(w: &Writer<'_>, schema: &StoreSchema, items: &[Item]) -> Result<()> {
    let keys = items
        .iter()
        .map(|item| Ok(codec::table_key(&schema.key_of(item)?)))
        .collect::<Result<Vec<_>>>()?;
    for (tkey, item) in keys.iter().zip(items) {
        let old = w.get(schema, tkey)?;
        w.put(schema, tkey, old.as_ref(), item)?;
    }
    w.reclaim(schema, now_seconds(), RECLAIM_PER_WRITE)
}

/// Deletes items of one store, those that exist.
fn deletes(w: &Writer<'_>, schema: &StoreSchema, keys: &[Key]) -> Result<()> {
    for key in keys {
        let tkey = codec::table_key(key);
        if let Some(old) = w.get(schema, &tkey)? {
            w.remove(schema, &tkey, &old)?;
        }
    }
    w.reclaim(schema, now_seconds(), RECLAIM_PER_WRITE)
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

    fn known_stores(&self) -> Vec<StoreSchema> {
        self.catalog.all()
    }

    async fn ensure_store(&self, schema: &StoreSchema) -> Result<()> {
        let catalog = self.catalog.clone();
        let now = Arc::new(schema.clone());
        self.write_then(
            |w| define_store(w, schema),
            || {
                let schema = schema.clone();
                move |w| define_store(w, &schema)
            },
            // With the commit, not after this future's await, which may never come.
            move |()| catalog.committed(now),
        )
        .await
    }

    async fn get(&self, schema: &StoreSchema, key: &Key) -> Result<Option<RawItem>> {
        take_turn(READ_UNITS).await;
        self.read_items(schema, |items| read_item(items, key))
    }

    fn get_now(&self, schema: &StoreSchema, key: &Key) -> Option<Result<Option<RawItem>>> {
        Some(self.read_items(schema, |items| read_item(items, key)))
    }

    async fn get_many(&self, schema: &StoreSchema, keys: &[Key]) -> Result<Vec<Option<RawItem>>> {
        take_turn(READ_UNITS).await;
        self.read_items(schema, |items| {
            keys.iter().map(|k| read_item(items, k)).collect()
        })
    }

    async fn write(&self, plan: &WritePlan<'_>) -> Result<Written> {
        let catalog = &self.catalog;
        self.write(
            |w| write_on_stored(w, catalog, plan),
            || {
                let (plan, catalog) = (OwnedPlan::new(plan), catalog.clone());
                move |w| write_on_stored(w, &catalog, &plan.plan())
            },
        )
        .await
    }

    async fn query(&self, plan: &QueryPlan<'_>) -> Result<RawPage> {
        let schema = plan.schema;
        if let Some(index) = plan.index
            && !self.catalog.stored(None, schema)?.indexes.contains(index)
        {
            return Err(Error::new(
                ErrorKind::StoreNotFound,
                format!(
                    "index {:?} of store {:?} is not defined in {} as this handle registered \
                     it: ensure the store with it",
                    index.name, schema.name, self.catalog.place
                ),
            ));
        }
        // Both tables from the same snapshot.
        let index_name = plan.index.map(|i| index_table(&schema.name, &i.name));
        let items_name = items_table(&schema.name);
        let read = match &index_name {
            Some(name) => self.read_tables(&[items_name, name]).await?,
            None => self.read_tables(&[items_name]).await?,
        };
        let entries = index_name.as_deref().and_then(|name| read.table(name));
        let Some(items) = read.table(items_name) else {
            return Err(self.not_defined(&schema.name));
        };
        let mut partition = Vec::with_capacity(32);
        codec::encode_key_value(plan.partition, &mut partition);
        let mut range = KeyRange::partition(&partition, plan.sort);
        let mut page = PageFiller::new(plan.limit, plan.filter);
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
                    offer(&mut page, &schema.name, stored.value())
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
                    offer(&mut page, &schema.name, v.value())
                })?;
            }
        }
        Ok(page.finish())
    }

    async fn scan(&self, plan: &ScanPlan<'_>) -> Result<RawPage> {
        let items_name = items_table(&plan.schema.name);
        let read = self.read_tables(&[items_name]).await?;
        let Some(items) = read.table(items_name) else {
            return Err(self.not_defined(&plan.schema.name));
        };
        let mut range = KeyRange {
            lower: std::ops::Bound::Unbounded,
            upper: std::ops::Bound::Unbounded,
        };
        if let Some(after) = plan.after {
            range = range.after(codec::table_key(&plan.schema.key_of(after)?), false);
        }
        let mut page = PageFiller::new(plan.limit, plan.filter);
        let entries = items.range::<&[u8]>(range.bounds()).map_err(storage)?;
        walk(entries, false, |entry| {
            let (_, v) = entry.map_err(storage)?;
            offer(&mut page, &plan.schema.name, v.value())
        })?;
        Ok(page.finish())
    }

    async fn transact(&self, writes: &[WritePlan<'_>]) -> Result<()> {
        let catalog = &self.catalog;
        self.write(
            |w| transaction_on_stored(w, catalog, writes),
            || {
                let (writes, catalog) = (OwnedPlan::all(writes), catalog.clone());
                move |w| {
                    let plans: Vec<_> = writes.iter().map(OwnedPlan::plan).collect();
                    transaction_on_stored(w, &catalog, &plans)
                }
            },
        )
        .await
    }

    async fn upsert_many(&self, schema: &StoreSchema, items: &[Item]) -> Result<()> {
        let catalog = &self.catalog;
        self.write(
            |w| upserts(w, &*catalog.stored(Some(w), schema)?, items),
            || {
                let (schema, items, catalog) = (schema.clone(), items.to_vec(), catalog.clone());
                move |w| upserts(w, &*catalog.stored(Some(w), &schema)?, &items)
            },
        )
        .await
    }

    async fn delete_many(&self, schema: &StoreSchema, keys: &[Key]) -> Result<()> {
        let catalog = &self.catalog;
        self.write(
            |w| deletes(w, &*catalog.stored(Some(w), schema)?, keys),
            || {
                let (schema, keys, catalog) = (schema.clone(), keys.to_vec(), catalog.clone());
                move |w| deletes(w, &*catalog.stored(Some(w), &schema)?, &keys)
            },
        )
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

/// Offers a stored item to the page, decoding it once, here, if the page filters (so
/// that an item the filter drops is not copied), else leaving it encoded for the caller
/// to decode into its type.
fn offer(page: &mut PageFiller<'_>, store: &str, stored: &[u8]) -> Result<bool> {
    let item = if page.filters() {
        RawItem::from(decode_stored(store, stored)?)
    } else {
        RawItem::encoded(stored.to_vec())
    };
    page.offer(item)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicI64, Ordering};

    use super::LocalBackend;
    use crate::{IndexSchema, KeyAttr, Kvs, StoreSchema, item};

    /// Reads share a snapshot until a write: each read must still see every write
    /// acknowledged before it began, whatever interleaves on other threads (several
    /// readers, so that snapshots are published while writes commit).
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
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
            let readers: Vec<_> = (0..3)
                .map(|_| {
                    let (kvs, acked) = (kvs.clone(), acked.clone());
                    tokio::spawn(async move {
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
                    })
                })
                .collect();
            writer.await.unwrap();
            for r in readers {
                r.await.unwrap();
            }
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

    /// `Kvs::open`, `Kvs::open_with`, `Kvs::new` and `Kvs::builder` on a file all know
    /// the stores defined in it, with their indexes, without an `ensure_store`.
    #[tokio::test]
    async fn every_way_of_opening_a_file_registers_its_stores() {
        use super::LocalBackend;
        use crate::Options;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        let schema = StoreSchema::new("s", KeyAttr::string("id"))
            .index(IndexSchema::new("byG", KeyAttr::string("g")));
        {
            let kvs = Kvs::open(&path).unwrap();
            kvs.ensure_store(schema.clone()).await.unwrap();
            kvs.upsert("s", item! { "id" => "a", "g" => "x" })
                .await
                .unwrap();
        }
        let opened: [fn(&std::path::Path) -> crate::Result<Kvs>; 4] = [
            |p| Kvs::open(p),
            |p| Kvs::open_with(p, Options::new().page_token_key("a key of 16 bytes")),
            |p| Ok(Kvs::new(LocalBackend::open(p)?)),
            |p| Kvs::builder(LocalBackend::open(p)?).build(),
        ];
        for (i, open) in opened.into_iter().enumerate() {
            let kvs = open(&path).unwrap();
            assert_eq!(kvs.store_names(), ["s"], "way {i}");
            assert_eq!(*kvs.schema("s").unwrap(), schema, "way {i}");
            let page = kvs.query("s", "x").index("byG").await.unwrap();
            assert_eq!(page.items.len(), 1, "way {i}");
        }
    }

    /// A file's committer kept busy by a write that waits for `release`: the writes sent
    /// meanwhile queue behind it, certainly not yet made.
    struct HeldCommitter {
        release: std::sync::mpsc::Sender<()>,
        holder: tokio::task::JoinHandle<crate::Result<()>>,
    }

    impl HeldCommitter {
        async fn hold(backend: &LocalBackend) -> Self {
            let committer = backend.committer.clone().expect("a file has a committer");
            let (release, held) = std::sync::mpsc::channel::<()>();
            let (started, holding) = std::sync::mpsc::channel::<()>();
            let holder = tokio::spawn(async move {
                committer
                    .write(move |_| {
                        let _ = started.send(());
                        let _ = held.recv();
                        Ok(())
                    })
                    .await
            });
            tokio::task::spawn_blocking(move || holding.recv())
                .await
                .unwrap()
                .unwrap();
            HeldCommitter { release, holder }
        }

        async fn release(self) {
            self.release.send(()).unwrap();
            self.holder.await.unwrap().unwrap();
        }
    }

    /// An `ensure_store` whose caller stopped waiting once it was sent still changes
    /// what the handle knows when it commits: the next writes keep up the index it
    /// added, and the file reopened answers the index query whole.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_abandoned_ensure_store_still_counts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        let plain = StoreSchema::new("s", KeyAttr::string("id"));
        let indexed = plain
            .clone()
            .index(IndexSchema::new("byG", KeyAttr::string("g")));
        {
            let backend = LocalBackend::open(&path).unwrap();
            let kvs = Kvs::new(backend.clone());
            kvs.ensure_store(plain).await.unwrap();
            kvs.upsert("s", item! { "id" => "a", "g" => "x" })
                .await
                .unwrap();
            // The committer held, so that the ensure, polled once (its job sent), is
            // certainly still waiting when dropped.
            let held = HeldCommitter::hold(&backend).await;
            let mut ensure = Box::pin(kvs.ensure_store(indexed));
            assert!(futures::poll!(&mut ensure).is_pending());
            drop(ensure);
            held.release().await;
            let known = || crate::backend::Backend::known_stores(&backend);
            for _ in 0..1000 {
                if !known()[0].indexes.is_empty() {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            assert_eq!(
                known()[0].indexes.len(),
                1,
                "the handle never learnt the index"
            );
            // This handle still has the schema without the index: the engine keeps up
            // the file's.
            kvs.upsert("s", item! { "id" => "b", "g" => "x" })
                .await
                .unwrap();
            kvs.delete("s", "a").await.unwrap();
        }
        let kvs = Kvs::open(&path).unwrap();
        let page = kvs.query("s", "x").index("byG").await.unwrap();
        let ids: Vec<_> = page.items.iter().map(|i| i["id"].clone()).collect();
        assert_eq!(ids, ["b".into()]);
    }

    /// A write queued behind an `ensure_store` that adds an index keeps the index up,
    /// though its handle sent it with the schema from before: it resolves the schema in
    /// its transaction, after the ensure (a review found the index left without it).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_queued_behind_an_ensure_keeps_up_its_index() {
        let dir = tempfile::tempdir().unwrap();
        let plain = StoreSchema::new("s", KeyAttr::string("id"));
        let indexed = plain
            .clone()
            .index(IndexSchema::new("byG", KeyAttr::string("g")));
        let backend = LocalBackend::open(dir.path().join("s.redb")).unwrap();
        let kvs = Kvs::new(backend.clone());
        kvs.ensure_store(plain).await.unwrap();
        let held = HeldCommitter::hold(&backend).await;
        use std::future::IntoFuture;
        // Both queued behind the held write, the ensure first.
        let mut ensure = Box::pin(kvs.ensure_store(indexed));
        assert!(futures::poll!(&mut ensure).is_pending());
        let mut upsert = Box::pin(
            kvs.upsert("s", item! { "id" => "a", "g" => "x" })
                .into_future(),
        );
        assert!(futures::poll!(&mut upsert).is_pending());
        held.release().await;
        ensure.await.unwrap();
        upsert.await.unwrap();
        let page = kvs.query("s", "x").index("byG").await.unwrap();
        assert_eq!(
            page.items.len(),
            1,
            "the write left the new index without it"
        );
    }

    /// Writes keep up the indexes and expiry the store has in the database, whatever
    /// the handle that sends them registered; an index the database does not have is
    /// `StoreNotFound`; a handle that registered other keys is refused.
    #[tokio::test]
    async fn writes_follow_the_stored_schema() {
        use crate::{ErrorKind, Options};
        let dir = tempfile::tempdir().unwrap();
        let plain = StoreSchema::new("s", KeyAttr::string("id"));
        let indexed = plain
            .clone()
            .index(IndexSchema::new("byG", KeyAttr::string("g")));
        let backends = [
            LocalBackend::memory(),
            LocalBackend::open(dir.path().join("s.redb")).unwrap(),
        ];
        for backend in backends {
            let a = Kvs::new(backend.clone());
            a.ensure_store(plain.clone()).await.unwrap();
            // A handle made before the index, and one that registers an index the
            // database does not have yet.
            let before = Kvs::new(backend.clone());
            let wishful = Kvs::builder(backend.clone())
                .options(Options::new().store(indexed.clone()))
                .build()
                .unwrap();
            wishful
                .upsert("s", item! { "id" => "w", "g" => "x" })
                .await
                .unwrap();
            let e = wishful.query("s", "x").index("byG").await.unwrap_err();
            assert_eq!(e.kind(), &ErrorKind::StoreNotFound, "{e}");
            assert!(e.to_string().contains("byG"), "{e}");
            a.ensure_store(indexed.clone()).await.unwrap();
            for (kvs, id) in [(&before, "b"), (&before, "c")] {
                kvs.upsert("s", item! { "id" => id, "g" => "x" })
                    .await
                    .unwrap();
            }
            before
                .transact([crate::TransactWrite::put(
                    "s",
                    item! { "id" => "t", "g" => "x" },
                )])
                .await
                .unwrap();
            before
                .upsert_many("s", [item! { "id" => "m", "g" => "x" }])
                .await
                .unwrap();
            before.delete_many("s", ["c"]).await.unwrap();
            let page = a.query("s", "x").index("byG").await.unwrap();
            let ids: Vec<_> = page.items.iter().map(|i| i["id"].clone()).collect();
            assert_eq!(ids, ["b".into(), "m".into(), "t".into(), "w".into()]);
            // Another key under the same name: refused, nothing written.
            let other = Kvs::new(backend.clone());
            other
                .register_store(StoreSchema::new("s", KeyAttr::number("n")))
                .unwrap();
            let e = other.upsert("s", item! { "n" => 1 }).await.unwrap_err();
            assert_eq!(e.kind(), &ErrorKind::Validation, "{e}");
            assert_eq!(a.scan("s").await.unwrap().items.len(), 4);
        }
    }

    /// A file whose schema table is corrupt fails to open with a `Backend` error that
    /// names the file.
    #[test]
    fn a_corrupt_schema_fails_the_open_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        {
            let db = redb::Database::create(&path).unwrap();
            let t = db.begin_write().unwrap();
            t.open_table(super::META)
                .unwrap()
                .insert("s", &[1u8, 8, 5][..])
                .unwrap();
            t.commit().unwrap();
        }
        let e = LocalBackend::open(&path).unwrap_err();
        assert_eq!(e.kind(), &crate::ErrorKind::Backend, "{e}");
        assert!(e.to_string().contains("s.redb"), "{e}");
        assert!(e.to_string().contains("corrupt"), "{e}");
    }

    /// The key given to `open_with` and `memory_with` seals page tokens: a handle with
    /// the same key reads them, one with another key refuses them; a short key is refused.
    #[tokio::test]
    async fn options_seal_page_tokens() {
        use crate::{ErrorKind, Options};
        let schema = StoreSchema::new("s", KeyAttr::string("pk")).sort_key(KeyAttr::number("sk"));
        let dir = tempfile::tempdir().unwrap();
        let signed = |key: &str| Options::new().page_token_key(key).store(schema.clone());
        let file = Kvs::open_with(dir.path().join("s.redb"), signed("key one, 16 bytes")).unwrap();
        file.ensure_store(schema.clone()).await.unwrap();
        for sk in 0..3 {
            file.upsert("s", item! { "pk" => "p", "sk" => sk })
                .await
                .unwrap();
        }
        let token = file.query("s", "p").limit(1).await.unwrap().next_page_token;
        let token = token.expect("a next page");
        let same = Kvs::memory_with(signed("key one, 16 bytes")).unwrap();
        let other = Kvs::memory_with(signed("key two, 16 bytes")).unwrap();
        let short = Kvs::memory_with(signed("short")).unwrap_err();
        assert_eq!(short.kind(), &ErrorKind::Validation, "{short}");
        for kvs in [&same, &other] {
            kvs.ensure_store(schema.clone()).await.unwrap();
        }
        assert!(same.query("s", "p").page_token(token.clone()).await.is_ok());
        let err = other.query("s", "p").page_token(token).await.unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidPageToken, "{err}");
        // A store of the options that is not a valid schema is refused.
        let bad = Options::new().store(StoreSchema::new("", KeyAttr::string("id")));
        assert_eq!(
            Kvs::memory_with(bad).unwrap_err().kind(),
            &ErrorKind::Validation
        );
    }
}
