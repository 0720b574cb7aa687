//! The `Kvs` handle: the catalog of stores, the checks every request passes, and the
//! operations of the contract.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use arc_swap::ArcSwap;

use futures::future::{BoxFuture, Either};
use tracing::Instrument as _;
use tracing::instrument::Instrumented;

use crate::backend::plan::attributes_read;
use crate::backend::{
    Backend, Capabilities, PlannedOp, QueryPlan, RawItem, ScanPlan, TransactionScope, WritePlan,
};
use crate::builders::{Delete, Put, Query, Scan, Update};
use crate::limits::DEFAULT_PAGE_LIMIT;
use crate::page::{
    QueryBinding, TokenCodec, bind_condition, bind_sort, check_cursor, check_cursor_held, cursor_of,
};
use crate::request::*;
use crate::{
    Condition, Error, ErrorKind, Item, Key, KeyAttr, Page, Result, SortCondition, StoreSchema,
    Value, codec, eval,
};

/// A handle on a store engine and the stores defined on it. Cheap to clone: clones share
/// the engine and the catalog.
///
/// Every operation of the contract is here, on the dynamic API (stores by name, items as
/// [`Item`]s); each builds a request value and runs it through [`Kvs::execute`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> kvs::Result<()> {
/// use kvs::{attr, item, Kvs, KeyAttr, StoreSchema};
///
/// let kvs = Kvs::memory();
/// kvs.ensure_store(StoreSchema::new("users", KeyAttr::string("userId"))).await?;
/// kvs.upsert("users", item! { "userId" => "u-1", "name" => "Ada", "logins" => 0 }).await?;
/// let user = kvs.update("users", "u-1").add("logins", 1).when(attr("name").eq("Ada")).await?;
/// assert_eq!(user["logins"], 1.into());
/// assert!(kvs.delete("users", "u-1").await?.is_some());
/// assert_eq!(kvs.get("users", "u-1").await?, None);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Kvs {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Arc<dyn Backend>,
    /// The registered stores: loaded by every request without a lock (readers on many
    /// cores do not contend); replaced whole when a store is registered, which is rare.
    /// A `BTreeMap`: for the few stores of a handle, comparing the name with two or three
    /// keys costs less than hashing it with SipHash, on every request.
    stores: ArcSwap<BTreeMap<String, Arc<StoreSchema>>>,
    tokens: TokenCodec,
}

impl std::fmt::Debug for Kvs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kvs")
            .field("backend", &self.inner.backend)
            .field("stores", &self.store_names())
            .finish()
    }
}

/// The options of a [`Kvs`] handle, whatever its backend: give them to
/// [`Kvs::open_with`], [`Kvs::memory_with`] or [`KvsBuilder::options`].
///
/// ```
/// # fn main() -> kvs::Result<()> {
/// use kvs::{KeyAttr, Kvs, Options, StoreSchema};
///
/// let options = Options::new()
///     .page_token_key(*b"a secret of the service, 32 bytes")
///     .store(StoreSchema::new("users", KeyAttr::string("userId")));
/// let kvs = Kvs::memory_with(options)?;
/// assert_eq!(kvs.store_names(), ["users"]);
/// # Ok(()) }
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct Options {
    token_key: Option<Vec<u8>>,
    stores: Vec<StoreSchema>,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.debug_struct("Options")
            .field("page_token_key", &self.token_key.as_ref().map(|_| ".."))
            .field("stores", &self.stores)
            .finish()
    }
}

impl Options {
    /// No page token key, no stores registered beyond those the backend knows.
    pub fn new() -> Self {
        Options::default()
    }

    /// Seals page tokens under this key (XChaCha20-Poly1305, authenticated encryption):
    /// a client can neither read the position a token holds (the key attributes of the
    /// last item of its page; only their size shows, rounded up to 64 bytes) nor make or
    /// alter one. Give it at least 16 bytes (32 random
    /// bytes is right; a shorter key makes building the handle `Validation`). Every handle
    /// that reads another's tokens needs the same key; changing it makes tokens in flight
    /// `InvalidPageToken`.
    ///
    /// Without a key, a token is the position in the clear (base64url) with a checksum
    /// that catches corruption, not forgery: fine where tokens stay inside your service.
    /// See [`PageToken`](crate::PageToken).
    pub fn page_token_key(mut self, key: impl Into<Vec<u8>>) -> Self {
        self.token_key = Some(key.into());
        self
    }

    /// The name this option had when a key only signed tokens (HMAC-SHA-256); it now
    /// seals them, as [`page_token_key`](Self::page_token_key). Two changes come with
    /// it: a key shorter than 16 bytes makes building the handle `Validation`, and
    /// tokens signed before the upgrade are `InvalidPageToken` (start those queries
    /// over).
    #[deprecated(
        since = "0.2.0",
        note = "use `page_token_key`, which seals tokens; keys under 16 bytes are refused"
    )]
    pub fn page_token_signing_key(self, key: impl Into<Vec<u8>>) -> Self {
        self.page_token_key(key)
    }

    /// Registers a store that already exists on the backend (see
    /// [`Kvs::register_store`]).
    pub fn store(mut self, schema: StoreSchema) -> Self {
        self.stores.push(schema);
        self
    }
}

/// Configures a [`Kvs`] on a backend before it is built: [`Kvs::builder`].
#[must_use]
pub struct KvsBuilder {
    backend: Arc<dyn Backend>,
    options: Options,
}

impl KvsBuilder {
    /// Replaces the options set so far.
    pub fn options(mut self, options: Options) -> Self {
        self.options = options;
        self
    }

    /// See [`Options::page_token_key`].
    pub fn page_token_key(mut self, key: impl Into<Vec<u8>>) -> Self {
        self.options = self.options.page_token_key(key);
        self
    }

    /// See [`Options::page_token_signing_key`].
    #[deprecated(
        since = "0.2.0",
        note = "use `page_token_key`, which seals tokens; keys under 16 bytes are refused"
    )]
    pub fn page_token_signing_key(self, key: impl Into<Vec<u8>>) -> Self {
        self.page_token_key(key)
    }

    /// See [`Options::store`].
    pub fn store(mut self, schema: StoreSchema) -> Self {
        self.options = self.options.store(schema);
        self
    }

    /// The handle, with the stores the backend knows without a request (those recorded in
    /// a local store's file, see [`Backend::known_stores`]) and those of the options
    /// registered. A store of the options that is not a valid schema, or a page token
    /// key shorter than 16 bytes, is `Validation`.
    pub fn build(self) -> Result<Kvs> {
        let kvs = Kvs {
            inner: Arc::new(Inner {
                stores: ArcSwap::default(),
                tokens: TokenCodec::new(self.options.token_key.as_deref())?,
                backend: self.backend,
            }),
        };
        // Validated when they were defined.
        for schema in kvs.inner.backend.known_stores() {
            kvs.insert_schema(schema);
        }
        for schema in self.options.stores {
            kvs.register_store(schema)?;
        }
        Ok(kvs)
    }
}

/// A request value that [`Kvs::execute`] can run.
pub trait Request: Send + Sized {
    /// What the request gives back.
    type Output: Send;

    /// Runs the request on `kvs`.
    fn execute(self, kvs: &Kvs) -> impl Future<Output = Result<Self::Output>> + Send;
}

impl Kvs {
    /// A handle on `backend`, with the stores it knows without a request registered (see
    /// [`Backend::known_stores`]).
    pub fn new(backend: impl Backend) -> Kvs {
        Kvs::builder(backend)
            .build()
            .expect("only the stores of the options are validated, and there are none")
    }

    /// Configures a handle on `backend`.
    pub fn builder(backend: impl Backend) -> KvsBuilder {
        KvsBuilder {
            backend: Arc::new(backend),
            options: Options::default(),
        }
    }

    /// A handle on the same engine that has registered no store, as another process
    /// would start: for conformance cases of what a handle knows.
    #[cfg(feature = "conformance")]
    pub(crate) fn without_stores(&self) -> Kvs {
        Kvs {
            inner: Arc::new(Inner {
                backend: self.inner.backend.clone(),
                stores: ArcSwap::default(),
                tokens: self.inner.tokens.clone(),
            }),
        }
    }

    /// A handle on the same engine and stores whose page tokens are sealed under `key`:
    /// for conformance cases of private tokens on any backend.
    #[cfg(feature = "conformance")]
    pub(crate) fn with_page_token_key(&self, key: &[u8]) -> Result<Kvs> {
        Ok(Kvs {
            inner: Arc::new(Inner {
                backend: self.inner.backend.clone(),
                stores: ArcSwap::new(self.inner.stores.load_full()),
                tokens: TokenCodec::new(Some(key))?,
            }),
        })
    }

    /// The engine underneath.
    pub fn backend(&self) -> &dyn Backend {
        self.inner.backend.as_ref()
    }

    /// What the engine underneath can hold and do.
    pub fn capabilities(&self) -> Capabilities {
        self.inner.backend.capabilities()
    }

    /// Creates the store on the backend if it does not exist yet, and registers it.
    pub async fn ensure_store(&self, schema: StoreSchema) -> Result<()> {
        schema.validate()?;
        let span = tracing::debug_span!("kvs.ensure_store", store = %schema.name, backend = self.backend().name());
        self.inner
            .backend
            .ensure_store(&schema)
            .in_span(span)
            .await?;
        self.insert_schema(schema);
        Ok(())
    }

    /// Registers a store that already exists on the backend (made by infrastructure
    /// code), without contacting the backend, replacing any schema registered under its
    /// name. A typed store ([`Kvs::store`]) needs none: it registers its model's schema
    /// itself.
    pub fn register_store(&self, schema: StoreSchema) -> Result<()> {
        schema.validate()?;
        self.insert_schema(schema);
        Ok(())
    }

    fn insert_schema(&self, schema: StoreSchema) {
        let schema = Arc::new(schema);
        self.inner.stores.rcu(|stores| {
            let mut stores = BTreeMap::clone(stores);
            stores.insert(schema.name.clone(), Arc::clone(&schema));
            stores
        });
    }

    /// Registers the schema `make` gives unless a store of that name is registered
    /// already (ensured, registered, or found in the file): how a typed store makes its
    /// model's store known the first time it is used, without I/O. A schema that is not
    /// valid (a store name given to [`Kvs::store_named`] that is empty) is not
    /// registered; every operation then reports the name ([`Kvs::schema`]).
    pub(crate) fn register_if_absent(&self, store: &str, make: impl FnOnce() -> StoreSchema) {
        if self.inner.stores.load().contains_key(store) {
            return;
        }
        let schema = make();
        if schema.validate().is_err() {
            return;
        }
        let schema = Arc::new(schema);
        self.inner.stores.rcu(|stores| {
            let mut stores = BTreeMap::clone(stores);
            stores
                .entry(schema.name.clone())
                .or_insert_with(|| Arc::clone(&schema));
            stores
        });
    }

    /// The schema of a registered store, or `StoreNotFound` saying how to make it known.
    pub fn schema(&self, store: &str) -> Result<Arc<StoreSchema>> {
        self.registered(&self.inner.stores.load(), store).cloned()
    }

    /// The schema of `store` in `stores` (a load of the registered stores), borrowed:
    /// a request that needs it only while it runs without waiting takes no reference
    /// count (a write to memory every reading thread shares).
    fn registered<'s>(
        &self,
        stores: &'s BTreeMap<String, Arc<StoreSchema>>,
        store: &str,
    ) -> Result<&'s Arc<StoreSchema>> {
        stores.get(store).ok_or_else(|| {
            if store.is_empty() || store.contains('\0') {
                return Error::validation(format!(
                    "{store:?} is not a store name: a store name is non-empty and holds no NUL"
                ));
            }
            Error::new(
                ErrorKind::StoreNotFound,
                format!(
                    "store {store:?} is not known to this handle: if it exists on the \
                     backend, register its schema (Kvs::register_store, no request sent); \
                     otherwise create it (Kvs::ensure_store). A typed store \
                     (Kvs::store::<M>()) registers its model's schema itself"
                ),
            )
        })
    }

    /// The names of the registered stores, sorted.
    pub fn store_names(&self) -> Vec<String> {
        self.inner.stores.load().keys().cloned().collect()
    }

    /// Runs a request value.
    pub async fn execute<R: Request>(&self, request: R) -> Result<R::Output> {
        request.execute(self).await
    }

    /// Reads one item by key; `None` if there is none. Strongly consistent.
    pub async fn get(&self, store: &str, key: impl Into<Key>) -> Result<Option<Item>> {
        self.execute(GetRequest {
            store: store.to_owned(),
            key: key.into(),
        })
        .await
    }

    /// Reads many items by key: one answer per key, in the order asked, `None` where
    /// missing. Duplicate keys are allowed.
    pub async fn get_many<K: Into<Key>>(
        &self,
        store: &str,
        keys: impl IntoIterator<Item = K>,
    ) -> Result<Vec<Option<Item>>> {
        self.execute(GetManyRequest {
            store: store.to_owned(),
            keys: keys.into_iter().map(Into::into).collect(),
        })
        .await
    }

    /// Writes a whole item, replacing any item with its key. Add a condition with
    /// [`Put::when`].
    pub fn upsert(&self, store: &str, item: Item) -> Put {
        Put::new(self.clone(), store, item, PutMode::Upsert)
    }

    /// Writes an item that must not exist yet: `AlreadyExists` if it does.
    pub fn insert(&self, store: &str, item: Item) -> Put {
        Put::new(self.clone(), store, item, PutMode::Insert)
    }

    /// Updates an existing item (`NotFound` if there is none) and returns the whole new
    /// item. Chain the ops on the returned builder and await it.
    pub fn update(&self, store: &str, key: impl Into<Key>) -> Update {
        Update::new(self.clone(), store, key.into())
    }

    /// Deletes an item and returns it (`None` if there was none).
    pub fn delete(&self, store: &str, key: impl Into<Key>) -> Delete {
        Delete::new(self.clone(), store, key.into())
    }

    /// Queries one partition of a store (or, with [`Query::index`], of an index).
    pub fn query(&self, store: &str, partition: impl Into<Value>) -> Query {
        Query::new(self.clone(), store, partition.into())
    }

    /// Scans a whole store.
    pub fn scan(&self, store: &str) -> Scan {
        Scan::new(self.clone(), store)
    }

    /// Applies every write or none. On failure: `TransactionCanceled` with each write's
    /// reason by position.
    pub async fn transact(&self, writes: impl IntoIterator<Item = TransactWrite>) -> Result<()> {
        self.execute(TransactRequest {
            writes: writes.into_iter().collect(),
        })
        .await
    }

    /// Writes many items; not atomic. One invalid item fails the call before anything is
    /// written; a partial failure names the keys not written.
    pub async fn upsert_many(
        &self,
        store: &str,
        items: impl IntoIterator<Item = Item>,
    ) -> Result<()> {
        self.execute(UpsertManyRequest {
            store: store.to_owned(),
            items: items.into_iter().collect(),
        })
        .await
    }

    /// Deletes many items; not atomic. A partial failure names the keys not deleted.
    pub async fn delete_many<K: Into<Key>>(
        &self,
        store: &str,
        keys: impl IntoIterator<Item = K>,
    ) -> Result<()> {
        self.execute(DeleteManyRequest {
            store: store.to_owned(),
            keys: keys.into_iter().map(Into::into).collect(),
        })
        .await
    }

    fn span(&self, op: &'static str, store: &str) -> tracing::Span {
        // No subscriber, global or scoped, on this thread: the span could only be written
        // to `log` (tracing's `log` feature, which tonic's dependencies turn on), as a
        // line at its creation and drop, for about 200 instructions per request (2% of a
        // cached typed get). Its enter and exit are not written either (`InSpan`); a
        // subscriber set later is seen by the next request.
        if tracing::dispatcher::get_default(|d| d.is::<tracing::subscriber::NoSubscriber>()) {
            return tracing::Span::none();
        }
        tracing::debug_span!("kvs", op, store, backend = self.backend().name())
    }
}

/// `.instrument(span)`, skipped when no subscriber wants the span: entering and leaving
/// a disabled span still costs a few hundred instructions per request (a tenth of a
/// cached get), for nothing. (With tracing's `log` feature and no subscriber, the
/// span's enter and exit records are not written to `log` either; the events inside
/// still are.)
trait InSpan: Future + Sized {
    fn in_span(self, span: tracing::Span) -> Either<Instrumented<Self>, Self> {
        if span.is_disabled() {
            Either::Right(self)
        } else {
            Either::Left(self.instrument(span))
        }
    }
}

impl<F: Future> InSpan for F {}

/// The whole request of a transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct TransactRequest {
    /// The writes, at most 100, each item at most once.
    pub writes: Vec<TransactWrite>,
}

fn check_condition(condition: Option<&Condition>) -> Result<()> {
    condition.map_or(Ok(()), Condition::validate)
}

/// Checks the ops of an update: well formed, not overlapping, operands the backend can
/// store, no key attribute written, and no index key attribute given a value an index
/// cannot hold; then puts the operands in the form every backend writes
/// ([`eval::normalize_ops`]).
fn check_update(
    schema: &StoreSchema,
    caps: &Capabilities,
    key: &Key,
    ops: &mut [crate::UpdateOp],
) -> Result<()> {
    check_key(schema, caps, key)?;
    eval::validate_ops(ops)?;
    for op in ops.iter() {
        let path = op.path();
        let at = |e: Error| {
            e.context(format_args!(
                "store {:?}, item {key}, {} {path}",
                schema.name,
                op.name()
            ))
        };
        if schema.is_key_attribute(path.root()) {
            return Err(Error::validation(format!(
                "{} {path}: key attributes cannot be changed by an update",
                op.name()
            )));
        }
        if path.is_top_level()
            && let Some(attr) = schema.index_key_attribute(path.root())
        {
            check_index_key_op(attr, op).map_err(at)?;
        }
        caps.check_op(op).map_err(at)?;
        caps.check_ordered_op(schema, op).map_err(at)?;
    }
    eval::normalize_ops(ops)
}

/// Checks a key against the schema and the backend's declaration.
fn check_key(schema: &StoreSchema, caps: &Capabilities, key: &Key) -> Result<()> {
    schema.check_key(key)?;
    caps.check_key(schema, key)
}

/// Checks a key a read looks up: the schema's rules, and a number no key the backend
/// holds is equal to is `Validation` as on a write ([`check_key`]): rounded, it would be
/// the key of another item, which the read would return (a decimal on Cosmos DB or
/// Firestore, an integer beyond +-2^53 that no double is on Cosmos DB). An integer that
/// is exactly a double the backend holds is looked up (an item keyed by that double has
/// it, `1 == 1.0`). A key without a number needs no look at the declaration, which keeps
/// it off a get's hot path.
fn check_read_key(kvs: &Kvs, schema: &StoreSchema, key: &Key) -> Result<()> {
    schema.check_key(key)?;
    if holds_number(key.partition()) || key.sort().is_some_and(holds_number) {
        let caps = kvs.capabilities();
        if !(read_key_value_held(&caps, key.partition())
            && key.sort().is_none_or(|v| read_key_value_held(&caps, v)))
        {
            caps.check_key(schema, key)?;
        }
    }
    Ok(())
}

/// Whether a key value a read looks up is one the backend holds, or equal to one.
fn read_key_value_held(caps: &Capabilities, v: &Value) -> bool {
    match v {
        Value::Number(n) => {
            caps.stores_number(n) || n.as_f64().is_some_and(|f| caps.stores_float(f))
        }
        _ => true,
    }
}

/// Whether a key value is a number (the one kind of key value a backend may not hold).
fn holds_number(v: &Value) -> bool {
    matches!(v, Value::Number(_))
}

/// Checks a whole item against the schema and, where it is stricter than the portable
/// limits the schema keeps, the backend's declaration; gives the item's key.
fn check_item(schema: &StoreSchema, caps: &Capabilities, item: &Item) -> Result<Key> {
    if caps.is_stricter_than_portable() {
        // One walk of the values, held to both declarations.
        schema.check_item_with(item, &caps.within_portable())
    } else {
        schema.check_item(item)
    }
}

/// Checks a transaction against the backend's declared scope and size, before anything
/// is sent.
fn check_transaction_scope(caps: &Capabilities, writes: &[WritePlan<'_>]) -> Result<()> {
    if writes.len() > caps.max_transaction_writes {
        return Err(Error::validation(format!(
            "this backend holds at most {} writes in a transaction, not {}",
            caps.max_transaction_writes,
            writes.len()
        )));
    }
    match caps.transactions {
        TransactionScope::Any => Ok(()),
        TransactionScope::None => Err(Error::unsupported(
            "this backend has no transactions; nothing was written",
        )),
        TransactionScope::OnePartition => {
            let first = &writes[0];
            let outside = writes.iter().position(|w| {
                w.schema.name != first.schema.name || w.key.partition() != first.key.partition()
            });
            match outside {
                None => Ok(()),
                Some(i) => Err(Error::unsupported(format!(
                    "this backend's transactions hold items of one store and one partition \
                     key value; write {i} ({}) is outside that of write 0 ({}); nothing was \
                     written",
                    writes[i].describe(),
                    first.describe()
                ))),
            }
        }
    }
}

/// An op on an attribute that is an index's key must leave it a value that index can
/// hold (as an upsert must): checked here, before anything is sent, because not every
/// backend checks it (DynamoDB does, some of its emulators do not).
fn check_index_key_op(attr: &KeyAttr, op: &crate::UpdateOp) -> Result<()> {
    use crate::UpdateOp;
    match op {
        UpdateOp::Set { value, .. } if value.is_empty_set() => Ok(()), // a REMOVE
        UpdateOp::Set { value, .. } => attr.check(value),
        UpdateOp::Add { value, .. } if attr.ty == crate::KeyType::Number => {
            // The sum is a number if the operand is; a set operand is refused by its type.
            attr.check(value)
        }
        UpdateOp::Add { .. } | UpdateOp::Append { .. } | UpdateOp::Prepend { .. } => {
            Err(Error::validation(format!(
                "{} would make the index key attribute {:?} something other than a {}",
                op.name(),
                attr.name,
                attr.ty
            )))
        }
        UpdateOp::Remove { .. } | UpdateOp::Delete { .. } => Ok(()),
    }
}

/// Refuses two entries with the same key, naming the key and both positions.
pub(crate) fn check_distinct<'a>(keys: impl IntoIterator<Item = &'a Key>) -> Result<()> {
    let mut seen: HashMap<Vec<u8>, usize> = HashMap::new();
    for (i, key) in keys.into_iter().enumerate() {
        if let Some(first) = seen.insert(codec::table_key(key), i) {
            return Err(Error::validation(format!(
                "key {key} appears twice (positions {first} and {i})"
            )));
        }
    }
    Ok(())
}

/// Checks a sort condition's values against the sort key's type.
fn check_sort(attr: Option<&KeyAttr>, sort: &SortCondition, what: &str) -> Result<()> {
    let Some(attr) = attr else {
        return Err(Error::validation(format!(
            "{what} has no sort key, so a query on it takes no sort condition"
        )));
    };
    let type_ok = |v: &Value| attr.ty.matches(v) && v.as_number().is_none_or(|n| n.is_finite());
    for v in sort.values() {
        if !type_ok(v) {
            return Err(Error::validation(format!(
                "the sort key {:?} of {what} is a {}; the condition compares it with a {}",
                attr.name,
                attr.ty,
                v.value_type()
            )));
        }
    }
    match sort {
        SortCondition::Between(a, b) => crate::expr::validate_between(a, b),
        SortCondition::BeginsWith(p) => crate::expr::validate_prefix(p),
        _ => Ok(()),
    }
}

/// A read's filter in a store whose items expire: the caller's, and the item unexpired
/// now (so that pages stay exact and counts right). `None` for a store whose items do
/// not expire, whose reads use the caller's filter as it is (no copy).
fn unexpired(schema: &StoreSchema, filter: Option<&Condition>) -> Option<Condition> {
    let live = schema.unexpired()?;
    Some(match filter {
        Some(f) => f.clone().and(live),
        None => live,
    })
}

/// An item read, unless it is expired.
fn unless_expired(schema: &StoreSchema, found: Option<RawItem>) -> Result<Option<RawItem>> {
    match found {
        Some(item) if schema.ttl.is_some() && item.with_item(|i| schema.is_expired(i))? => Ok(None),
        found => Ok(found),
    }
}

fn page_limit(limit: Option<usize>) -> Result<usize> {
    match limit {
        Some(0) => Err(Error::validation("a page limit must be at least 1")),
        Some(n) => Ok(n),
        None => Ok(DEFAULT_PAGE_LIMIT),
    }
}

impl GetRequest {
    /// Runs the request, leaving the item in the backend's form.
    pub(crate) async fn execute_raw(self, kvs: &Kvs) -> Result<Option<RawItem>> {
        self.execute_projected(kvs, None).await
    }

    /// Runs the request needing only the top-level attributes of `projection` (all with
    /// `None`), leaving the item in the backend's form.
    pub(crate) async fn execute_projected(
        self,
        kvs: &Kvs,
        projection: Option<&[&str]>,
    ) -> Result<Option<RawItem>> {
        GetRequest::run(kvs, &self.store, &self.key, projection).await
    }

    /// The get of `key` in `store`, borrowing both: a typed store keeps its name shared,
    /// and copying it into a request per get would cost an allocation.
    pub(crate) async fn run(
        kvs: &Kvs,
        store: &str,
        key: &Key,
        projection: Option<&[&str]>,
    ) -> Result<Option<RawItem>> {
        let backend = &kvs.inner.backend;
        let span = kvs.span("get", store);
        // A backend that answers without waiting (memory, the local file) is asked with
        // the schema borrowed from the registered stores; the others with a count taken
        // on it, as their future holds it.
        let answered = {
            let stores = kvs.inner.stores.load();
            let schema = kvs.registered(&stores, store)?;
            check_read_key(kvs, schema, key)?;
            let now = match projection {
                Some(_) => None,
                None if span.is_disabled() => backend.get_now(schema, key),
                None => span.in_scope(|| backend.get_now(schema, key)),
            };
            match now {
                Some(found) => Ok(found.and_then(|found| unless_expired(schema, found))),
                None => Err(Arc::clone(schema)),
            }
        };
        let schema = match answered {
            Ok(found) => {
                // The turn a socket read takes (a unit of tokio's budget), so that a task
                // getting in a loop still gives its worker back.
                tokio::task::coop::consume_budget().await;
                return found;
            }
            Err(schema) => schema,
        };
        let found = match attributes_read(&schema, None, projection, None) {
            Some(attributes) => {
                backend
                    .get_projected(&schema, key, &attributes)
                    .in_span(span)
                    .await?
            }
            None => backend.get(&schema, key).in_span(span).await?,
        };
        unless_expired(&schema, found)
    }
}

impl Request for GetRequest {
    type Output = Option<Item>;
    async fn execute(self, kvs: &Kvs) -> Result<Option<Item>> {
        self.execute_raw(kvs)
            .await?
            .map(RawItem::into_item)
            .transpose()
    }
}

impl Request for GetManyRequest {
    type Output = Vec<Option<Item>>;
    async fn execute(self, kvs: &Kvs) -> Result<Vec<Option<Item>>> {
        self.execute_raw(kvs)
            .await?
            .into_iter()
            .map(|found| found.map(RawItem::into_item).transpose())
            .collect()
    }
}

impl GetManyRequest {
    /// Runs the request, leaving the items in the backend's form.
    pub(crate) async fn execute_raw(self, kvs: &Kvs) -> Result<Vec<Option<RawItem>>> {
        self.execute_projected(kvs, None).await
    }

    /// Runs the request needing only the top-level attributes of `projection` (all with
    /// `None`), leaving the items in the backend's form.
    pub(crate) async fn execute_projected(
        self,
        kvs: &Kvs,
        projection: Option<&[&str]>,
    ) -> Result<Vec<Option<RawItem>>> {
        let schema = kvs.schema(&self.store)?;
        // Ask for each distinct key once, then answer every position asked.
        let mut slots: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut distinct = Vec::new();
        let mut positions = Vec::with_capacity(self.keys.len());
        for (i, key) in self.keys.into_iter().enumerate() {
            check_read_key(kvs, &schema, &key).map_err(|e| e.context(format_args!("key {i}")))?;
            let slot = *slots.entry(codec::table_key(&key)).or_insert_with(|| {
                distinct.push(key);
                distinct.len() - 1
            });
            positions.push(slot);
        }
        if distinct.is_empty() {
            return Ok(Vec::new());
        }
        let backend = &kvs.inner.backend;
        let span = kvs.span("get_many", &self.store);
        let found = match attributes_read(&schema, None, projection, None) {
            Some(attributes) => {
                backend
                    .get_many_projected(&schema, &distinct, &attributes)
                    .in_span(span)
                    .await?
            }
            None => backend.get_many(&schema, &distinct).in_span(span).await?,
        };
        if found.len() != distinct.len() {
            return Err(Error::new(
                ErrorKind::Backend,
                format!(
                    "backend {} answered {} keys of {}",
                    kvs.backend().name(),
                    found.len(),
                    distinct.len()
                ),
            ));
        }
        let found = found
            .into_iter()
            .map(|f| unless_expired(&schema, f))
            .collect::<Result<Vec<_>>>()?;
        // Move each answer to its (last) position; clone only for keys asked twice.
        let mut uses = vec![0usize; found.len()];
        for &s in &positions {
            uses[s] += 1;
        }
        let mut found: Vec<Option<Option<RawItem>>> = found.into_iter().map(Some).collect();
        Ok(positions
            .into_iter()
            .map(|s| {
                uses[s] -= 1;
                if uses[s] == 0 {
                    found[s].take().flatten()
                } else {
                    found[s].clone().flatten()
                }
            })
            .collect())
    }
}

impl PutRequest {
    /// Checks the request as running it would, before anything is sent: the item
    /// (empty sets left out) against the store's schema and the backend's declaration,
    /// and the condition. Its key.
    pub(crate) fn check(&mut self, kvs: &Kvs) -> Result<(Arc<StoreSchema>, Key)> {
        let schema = kvs.schema(&self.store)?;
        eval::drop_empty_sets(&mut self.item);
        let key = check_item(&schema, &kvs.capabilities(), &self.item)?;
        check_condition(self.condition.as_ref())?;
        Ok((schema, key))
    }

    /// Sends the request [`check`](Self::check) passed, with what it gave.
    pub(crate) async fn write_checked(
        &self,
        kvs: &Kvs,
        schema: &StoreSchema,
        key: Key,
    ) -> Result<()> {
        let op = PlannedOp::Put {
            item: &self.item,
            mode: self.mode,
        };
        kvs.inner
            .backend
            .write(&WritePlan::new(schema, key, op, self.condition.as_ref()))
            .in_span(kvs.span("put", &self.store))
            .await?;
        Ok(())
    }
}

impl Request for PutRequest {
    type Output = ();
    async fn execute(mut self, kvs: &Kvs) -> Result<()> {
        let (schema, key) = self.check(kvs)?;
        self.write_checked(kvs, &schema, key).await
    }
}

impl UpdateRequest {
    /// Runs the request, leaving the new item in the backend's form.
    pub(crate) async fn execute_raw(mut self, kvs: &Kvs) -> Result<RawItem> {
        let schema = kvs.schema(&self.store)?;
        check_update(&schema, &kvs.capabilities(), &self.key, &mut self.ops)?;
        check_condition(self.condition.as_ref())?;
        let op = PlannedOp::Update { ops: &self.ops };
        let written = kvs
            .inner
            .backend
            .write(&WritePlan::new(
                &schema,
                self.key,
                op,
                self.condition.as_ref(),
            ))
            .in_span(kvs.span("update", &self.store))
            .await?;
        written.new.ok_or_else(|| {
            Error::new(
                ErrorKind::Backend,
                format!(
                    "backend {} gave no new item for an update",
                    kvs.backend().name()
                ),
            )
        })
    }
}

impl Request for UpdateRequest {
    type Output = Item;
    async fn execute(self, kvs: &Kvs) -> Result<Item> {
        self.execute_raw(kvs).await?.into_item()
    }
}

impl Request for DeleteRequest {
    type Output = Option<Item>;
    async fn execute(self, kvs: &Kvs) -> Result<Option<Item>> {
        let schema = kvs.schema(&self.store)?;
        check_key(&schema, &kvs.capabilities(), &self.key)?;
        check_condition(self.condition.as_ref())?;
        let plan = WritePlan::new(
            &schema,
            self.key,
            PlannedOp::Delete,
            self.condition.as_ref(),
        );
        let written = kvs
            .inner
            .backend
            .write(&plan)
            .in_span(kvs.span("delete", &self.store))
            .await?;
        unless_expired(&schema, written.old)?
            .map(RawItem::into_item)
            .transpose()
    }
}

impl QueryRequest {
    fn binding(&self) -> QueryBinding {
        let mut partition = Vec::new();
        crate::page::bind_value(&self.partition, &mut partition);
        let mut sort = Vec::new();
        if let Some(s) = &self.sort {
            bind_sort(s, &mut sort);
        }
        let mut filter = Vec::new();
        if let Some(f) = &self.filter {
            bind_condition(f, &mut filter);
        }
        QueryBinding::new(&[
            b"query",
            self.store.as_bytes(),
            self.index.as_deref().unwrap_or("").as_bytes(),
            &partition,
            &sort,
            &filter,
            &[u8::from(self.descending)],
        ])
    }
}

impl ScanRequest {
    fn binding(&self) -> QueryBinding {
        let mut filter = Vec::new();
        if let Some(f) = &self.filter {
            bind_condition(f, &mut filter);
        }
        QueryBinding::new(&[b"scan", self.store.as_bytes(), &filter])
    }
}

impl Request for QueryRequest {
    type Output = Page;
    async fn execute(self, kvs: &Kvs) -> Result<Page> {
        self.execute_raw(kvs).await?.try_map(RawItem::into_item)
    }
}

impl QueryRequest {
    /// The checks of a query's partition, sort condition, filter and consistency
    /// against the store's schema, shared by reading and counting; the index read.
    fn check<'s>(
        &self,
        kvs: &Kvs,
        schema: &'s StoreSchema,
    ) -> Result<Option<&'s crate::IndexSchema>> {
        let index = self
            .index
            .as_deref()
            .map(|n| schema.find_index(n))
            .transpose()?;
        let (what, partition_key, sort_key) = match index {
            Some(i) => (
                format!("index {:?} of store {:?}", i.name, schema.name),
                &i.partition_key,
                i.sort_key.as_ref(),
            ),
            None => (
                format!("store {:?}", schema.name),
                &schema.partition_key,
                schema.sort_key.as_ref(),
            ),
        };
        partition_key
            .check(&self.partition)
            .map_err(|e| e.context(format_args!("query on {what}")))?;
        // As a get's key: a partition value the backend cannot hold would be rounded to
        // another partition's.
        if holds_number(&self.partition) {
            let caps = kvs.capabilities();
            if !read_key_value_held(&caps, &self.partition) {
                caps.check_operand(&crate::Path::attr(&partition_key.name), &self.partition)
                    .map_err(|e| e.context(format_args!("query on {what}")))?;
            }
        }
        if let Some(sort) = &self.sort {
            check_sort(sort_key, sort, &what)?;
        }
        check_condition(self.filter.as_ref())?;
        if self.consistent && index.is_some() {
            return Err(Error::validation(format!(
                "a consistent read is for the base table only, not {what}"
            )));
        }
        Ok(index)
    }

    /// Runs the request, leaving the items in the backend's form.
    pub(crate) async fn execute_raw(self, kvs: &Kvs) -> Result<Page<RawItem>> {
        self.execute_projected(kvs, None).await
    }

    /// Runs the request needing only the top-level attributes of `projection` (all with
    /// `None`), leaving the items in the backend's form.
    pub(crate) async fn execute_projected(
        self,
        kvs: &Kvs,
        projection: Option<&[&str]>,
    ) -> Result<Page<RawItem>> {
        let schema = kvs.schema(&self.store)?;
        let index = self.check(kvs, &schema)?;
        let limit = page_limit(self.limit)?;
        let binding = self.binding();
        let after = match &self.page_token {
            Some(token) => {
                let cursor = kvs.inner.tokens.decode(token, binding)?;
                check_cursor(&schema, index, Some(&self.partition), &cursor)?;
                check_cursor_held(&kvs.capabilities(), &schema, &cursor)?;
                Some(cursor)
            }
            None => None,
        };
        let live = unexpired(&schema, self.filter.as_ref());
        let plan = QueryPlan {
            schema: &schema,
            index,
            partition: &self.partition,
            sort: self.sort.as_ref(),
            filter: live.as_ref().or(self.filter.as_ref()),
            limit,
            after: after.as_ref(),
            descending: self.descending,
            consistent: self.consistent,
            projection,
        };
        let raw = kvs
            .inner
            .backend
            .query(&plan)
            .in_span(kvs.span("query", &self.store))
            .await?;
        kvs.page(raw, binding, &schema, index)
    }
}

impl Request for ScanRequest {
    type Output = Page;
    async fn execute(self, kvs: &Kvs) -> Result<Page> {
        self.execute_raw(kvs).await?.try_map(RawItem::into_item)
    }
}

impl ScanRequest {
    /// Runs the request, leaving the items in the backend's form.
    pub(crate) async fn execute_raw(self, kvs: &Kvs) -> Result<Page<RawItem>> {
        self.execute_projected(kvs, None).await
    }

    /// Runs the request needing only the top-level attributes of `projection` (all with
    /// `None`), leaving the items in the backend's form.
    pub(crate) async fn execute_projected(
        self,
        kvs: &Kvs,
        projection: Option<&[&str]>,
    ) -> Result<Page<RawItem>> {
        let schema = kvs.schema(&self.store)?;
        check_condition(self.filter.as_ref())?;
        let limit = page_limit(self.limit)?;
        let binding = self.binding();
        let after = match &self.page_token {
            Some(token) => {
                let cursor = kvs.inner.tokens.decode(token, binding)?;
                check_cursor(&schema, None, None, &cursor)?;
                check_cursor_held(&kvs.capabilities(), &schema, &cursor)?;
                Some(cursor)
            }
            None => None,
        };
        let live = unexpired(&schema, self.filter.as_ref());
        let plan = ScanPlan {
            schema: &schema,
            filter: live.as_ref().or(self.filter.as_ref()),
            limit,
            after: after.as_ref(),
            projection,
        };
        let raw = kvs
            .inner
            .backend
            .scan(&plan)
            .in_span(kvs.span("scan", &self.store))
            .await?;
        kvs.page(raw, binding, &schema, None)
    }
}

impl Request for CountRequest {
    type Output = u64;
    async fn execute(self, kvs: &Kvs) -> Result<u64> {
        let (store, limit, token) = match &self {
            CountRequest::Query(q) => (&q.store, q.limit, &q.page_token),
            CountRequest::Scan(s) => (&s.store, s.limit, &s.page_token),
        };
        let schema = kvs.schema(store)?;
        if limit.is_some() || token.is_some() {
            return Err(Error::validation(
                "a count covers every page: it takes no page limit or page token",
            ));
        }
        match &self {
            CountRequest::Query(q) => {
                let index = q.check(kvs, &schema)?;
                let live = unexpired(&schema, q.filter.as_ref());
                let plan = QueryPlan {
                    schema: &schema,
                    index,
                    partition: &q.partition,
                    sort: q.sort.as_ref(),
                    filter: live.as_ref().or(q.filter.as_ref()),
                    limit: DEFAULT_PAGE_LIMIT,
                    after: None,
                    descending: q.descending,
                    consistent: q.consistent,
                    projection: None,
                };
                kvs.inner
                    .backend
                    .count_query(&plan)
                    .in_span(kvs.span("count", store))
                    .await
            }
            CountRequest::Scan(s) => {
                check_condition(s.filter.as_ref())?;
                let live = unexpired(&schema, s.filter.as_ref());
                let plan = ScanPlan {
                    schema: &schema,
                    filter: live.as_ref().or(s.filter.as_ref()),
                    limit: DEFAULT_PAGE_LIMIT,
                    after: None,
                    projection: None,
                };
                kvs.inner
                    .backend
                    .count_scan(&plan)
                    .in_span(kvs.span("count", store))
                    .await
            }
        }
    }
}

impl Kvs {
    fn page(
        &self,
        raw: crate::backend::RawPage,
        binding: QueryBinding,
        schema: &StoreSchema,
        index: Option<&crate::IndexSchema>,
    ) -> Result<Page<RawItem>> {
        let next_page_token = match (raw.more, raw.items.last()) {
            (true, Some(last)) => Some(
                self.inner
                    .tokens
                    .encode(binding, &last.with_item(|i| cursor_of(schema, index, i))?),
            ),
            _ => None,
        };
        Ok(Page {
            items: raw.items,
            next_page_token,
        })
    }
}

impl Request for TransactRequest {
    type Output = ();
    async fn execute(mut self, kvs: &Kvs) -> Result<()> {
        if self.writes.is_empty() {
            return Err(Error::validation("a transaction needs at least one write"));
        }
        if self.writes.len() > crate::limits::MAX_TRANSACTION_WRITES {
            return Err(Error::validation(format!(
                "a transaction holds at most {} writes, not {}",
                crate::limits::MAX_TRANSACTION_WRITES,
                self.writes.len()
            )));
        }
        let caps = kvs.capabilities();
        let mut schemas = Vec::with_capacity(self.writes.len());
        let mut keys = Vec::with_capacity(self.writes.len());
        let mut seen: HashSet<(String, Vec<u8>)> = HashSet::new();
        for (i, write) in self.writes.iter_mut().enumerate() {
            let at = |e: Error| e.context(format_args!("transaction write {i}"));
            if let Some(e) = write.error.take() {
                return Err(at(e));
            }
            let schema = kvs.schema(&write.store).map_err(at)?;
            let key = match &mut write.op {
                WriteOp::Put {
                    item, condition, ..
                } => {
                    eval::drop_empty_sets(item);
                    check_condition(condition.as_ref()).map_err(at)?;
                    check_item(&schema, &caps, item).map_err(at)?
                }
                WriteOp::Update {
                    key,
                    ops,
                    condition,
                } => {
                    check_update(&schema, &caps, key, ops).map_err(at)?;
                    check_condition(condition.as_ref()).map_err(at)?;
                    key.clone()
                }
                WriteOp::Delete { key, condition } => {
                    check_key(&schema, &caps, key).map_err(at)?;
                    check_condition(condition.as_ref()).map_err(at)?;
                    key.clone()
                }
                WriteOp::Check { key, condition } => {
                    check_key(&schema, &caps, key).map_err(at)?;
                    condition.validate().map_err(at)?;
                    key.clone()
                }
            };
            if !seen.insert((write.store.clone(), codec::table_key(&key))) {
                return Err(at(Error::validation(format!(
                    "item {key} of store {:?} is written twice in one transaction",
                    write.store
                ))));
            }
            schemas.push(schema);
            keys.push(key);
        }
        let planned: Vec<WritePlan<'_>> = self
            .writes
            .iter()
            .zip(&schemas)
            .zip(keys)
            .map(|((write, schema), key)| {
                let (op, condition) = match &write.op {
                    WriteOp::Put {
                        item,
                        mode,
                        condition,
                    } => (PlannedOp::Put { item, mode: *mode }, condition.as_ref()),
                    WriteOp::Update { ops, condition, .. } => {
                        (PlannedOp::Update { ops }, condition.as_ref())
                    }
                    WriteOp::Delete { condition, .. } => (PlannedOp::Delete, condition.as_ref()),
                    WriteOp::Check { condition, .. } => (PlannedOp::Check, Some(condition)),
                };
                WritePlan::new(schema, key, op, condition)
            })
            .collect();
        check_transaction_scope(&caps, &planned)?;
        kvs.inner
            .backend
            .transact(&planned)
            .in_span(kvs.span("transact", ""))
            .await
    }
}

impl Request for UpsertManyRequest {
    type Output = ();
    async fn execute(mut self, kvs: &Kvs) -> Result<()> {
        let schema = kvs.schema(&self.store)?;
        let caps = kvs.capabilities();
        let mut keys = Vec::with_capacity(self.items.len());
        for (i, item) in self.items.iter_mut().enumerate() {
            eval::drop_empty_sets(item);
            let at = |e: Error| e.context(format_args!("item {i}"));
            keys.push(check_item(&schema, &caps, item).map_err(at)?);
        }
        check_distinct(&keys)?;
        if self.items.is_empty() {
            return Ok(());
        }
        kvs.inner
            .backend
            .upsert_many(&schema, &self.items)
            .in_span(kvs.span("upsert_many", &self.store))
            .await
    }
}

impl Request for DeleteManyRequest {
    type Output = ();
    async fn execute(self, kvs: &Kvs) -> Result<()> {
        let schema = kvs.schema(&self.store)?;
        let caps = kvs.capabilities();
        for (i, key) in self.keys.iter().enumerate() {
            let at = |e: Error| e.context(format_args!("key {i}"));
            check_key(&schema, &caps, key).map_err(at)?;
        }
        check_distinct(&self.keys)?;
        if self.keys.is_empty() {
            return Ok(());
        }
        kvs.inner
            .backend
            .delete_many(&schema, &self.keys)
            .in_span(kvs.span("delete_many", &self.store))
            .await
    }
}

/// A boxed future of a request, for builders' `IntoFuture`.
pub(crate) fn boxed<R: Request + 'static>(
    kvs: Kvs,
    request: R,
) -> BoxFuture<'static, Result<R::Output>> {
    Box::pin(async move { request.execute(&kvs).await })
}

#[cfg(all(test, feature = "local"))]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Metadata, Subscriber};

    use crate::{KeyAttr, Kvs, StoreSchema, item};

    /// A subscriber that keeps the fields of every span made, and counts the entries.
    #[derive(Default)]
    struct Spans {
        made: Mutex<Vec<String>>,
        entered: Mutex<usize>,
    }

    struct Fields<'a>(&'a mut String);

    impl tracing::field::Visit for Fields<'_> {
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
            self.0.push_str(&format!("{}={value:?} ", field.name()));
        }
    }

    impl Subscriber for Spans {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, span: &Attributes<'_>) -> Id {
            let mut made = self.made.lock().unwrap();
            let mut fields = format!("{} ", span.metadata().name());
            span.record(&mut Fields(&mut fields));
            made.push(fields);
            Id::from_u64(made.len() as u64)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, _: &Event<'_>) {}
        fn enter(&self, _: &Id) {
            *self.entered.lock().unwrap() += 1;
        }
        fn exit(&self, _: &Id) {}
    }

    /// Requests skip a span no subscriber wants (`InSpan`); one that is wanted is still
    /// made and entered while the backend works.
    #[test]
    fn a_wanted_span_is_made_and_entered() {
        let spans = Arc::new(Spans::default());
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        tracing::subscriber::with_default(Arc::clone(&spans), || {
            rt.block_on(async {
                let kvs = Kvs::memory();
                kvs.ensure_store(StoreSchema::new("users", KeyAttr::string("id")))
                    .await
                    .unwrap();
                kvs.upsert("users", item! { "id" => "u-1" }).await.unwrap();
                assert!(kvs.get("users", "u-1").await.unwrap().is_some());
            })
        });
        let made = spans.made.lock().unwrap();
        assert!(
            made.iter().any(|s| s.starts_with("kvs ")
                && s.contains("op=\"get\"")
                && s.contains("store=\"users\"")),
            "{made:?}"
        );
        assert!(made.iter().any(|s| s.contains("op=\"put\"")), "{made:?}");
        assert!(*spans.entered.lock().unwrap() >= 3, "{made:?}");
    }
}
