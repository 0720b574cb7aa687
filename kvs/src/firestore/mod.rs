//! The Firestore backend, on the `firestore` crate's gRPC client (feature `firestore`).
//!
//! ```no_run
//! # async fn run() -> kvs::Result<()> {
//! use kvs::firestore::FirestoreBackend;
//!
//! // From your own client (credentials, project and database as you like)...
//! let db = firestore::FirestoreDb::new("my-project").await.expect("a client");
//! let kvs = kvs::Kvs::new(FirestoreBackend::new(&db).with_collection_prefix("prod-")?);
//! // ...or from FIRESTORE_EMULATOR_HOST / GOOGLE_CLOUD_PROJECT / KVS_COLLECTION_PREFIX.
//! let kvs = kvs::Kvs::new(FirestoreBackend::from_env().await?);
//! # Ok(()) }
//! ```
//!
//! # Layout
//!
//! A store is a collection (named [`collection_id`]: the prefix and the store's name),
//! and each item one document of it, whose fields are the item's attributes as native
//! Firestore values, key attributes included, so Firestore's console, its client
//! libraries and other programs read them as any other documents. The document id is
//! derived from the key ([`document_id`]): unique, stable, never reserved, never with a
//! `/`, one id for `1` and `1.0`, and hashed beyond 1,000 bytes (the key fields are in
//! the document, so nothing is lost).
//!
//! # What is encoded, and what is refused
//!
//! Plain values stay plain. What Firestore has no type for is encoded so that it reads
//! back exactly ([`value`]): sets are sorted native arrays plus a record (the field
//! `~sets`, only in items that hold sets) of which paths are sets; a list directly in a
//! list (Firestore refuses arrays in arrays) is wrapped in a one-entry map `~list`;
//! names Firestore reserves (`__x__`) and names starting with `~` get a `~` in front.
//! Encoding rather than refusing keeps the contract's values (sets, nested lists and any
//! attribute name are values of the contract that typed models produce) at the cost of
//! small visible records in the few documents that need them.
//!
//! Refused with `Validation` before anything is sent, as [`Capabilities`] declares:
//! exact decimals, numbers that are neither an int64 nor a double's shortest text
//! (`exact_decimals: false`; Firestore holds nothing else exactly, and rounding
//! silently is what the contract forbids), and nesting deeper than 20 levels
//! (Firestore's limit; a list wrapped in a list takes two).
//!
//! # Operations
//!
//! - Writes go through the backend kit's versioned loop: read the document and its
//!   `update_time`, decide the write with the shared evaluator (conditions and every
//!   update op: Firestore's transforms are never used, since `increment` overwrites a
//!   string, `arrayUnion` deduplicates and there is no prepend), and commit it with an
//!   `update_time` precondition (or `exists: false`); a lost race is read and tried
//!   again with backoff, and past the budget is `Conflict`. A guarded write is never
//!   resent after an ambiguous failure (its outcome is unknown: `Unavailable`).
//! - Queries send the key condition to the server (`==` on the partition key, the sort
//!   condition as a range, ordered by the sort key and then the document name, which
//!   makes index ties stable and leaves out items without the index's key: sparse
//!   indexes for free), continue with `start_after` on the last item's order values, and
//!   leave every filter to the kit's evaluator, which fills exact pages (Firestore's own
//!   `!=` drops missing and null fields, and it has no substring, exists or type
//!   operator). Scans page by document name.
//! - Transactions: the kit reads every item and decides every write (with exact reasons
//!   by position); one `Commit` then applies all of them atomically, each guarded by the
//!   `update_time` it was decided on (a condition check by a no-op guarded write), so a
//!   change by anyone in between fails the commit, which is read and tried again. This
//!   is an optimistic transaction without server locks (which the emulator times out on
//!   under contention).
//! - `get_many` runs `BatchGetDocuments` in concurrent chunks of 100; `upsert_many` and
//!   `delete_many` run `BatchWrite` in chunks of 100, retrying what Firestore did not do
//!   and naming the keys not written.
//! - `ensure_store` needs no I/O: a collection exists with its first document. What
//!   production Firestore needs are the composite indexes of the queries
//!   ([`index_file`]); a query without one fails with `StoreNotFound` naming it. With
//!   the feature `firestore-admin`, `FirestoreBackend::with_indexes` makes
//!   `ensure_store` create the missing ones.

#[cfg(feature = "firestore-admin")]
mod admin;
mod error;
pub mod id;
mod index;
mod query;
mod txn;
pub mod value;
mod write;

use std::fmt;

use async_trait::async_trait;
use firestore::FirestoreDb;
use firestore::gcloud_sdk::GoogleAuthMiddleware;
use firestore::gcloud_sdk::google::firestore::v1::firestore_client::FirestoreClient;
use firestore::gcloud_sdk::prost_types::Timestamp;

use crate::backend::emulate::batch::DEFAULT_CONCURRENCY;
use crate::backend::{
    Backend, Capabilities, QueryPlan, RawItem, RawPage, ScanPlan, TransactionScope, Version,
    Versioned, VersionedBackend, VersionedWrite, WritePlan, Written, emulate,
};
use crate::retry::Backoff;
use crate::{Error, ErrorKind, Item, Key, Result, StoreSchema};

#[cfg(feature = "firestore-admin")]
pub use admin::IndexCreation;
pub use id::{collection_id, document_id};
pub use index::{IndexDefinition, IndexOrder, index_definitions, index_file};

/// The Firestore backend: a client, a collection-name prefix, and the retry policies.
#[derive(Clone, Debug)]
pub struct FirestoreBackend {
    engine: Engine,
}

/// What the backend keeps, and the versioned primitives the kit builds on.
#[derive(Clone)]
pub(crate) struct Engine {
    db: FirestoreDb,
    prefix: String,
    backoff: Backoff,
    conflicts: Backoff,
    concurrency: usize,
    #[cfg(feature = "firestore-admin")]
    indexes: IndexCreation,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FirestoreBackend")
            .field("database", self.db.get_database_path())
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl FirestoreBackend {
    /// A backend on `db`, a client built however the caller likes (credentials,
    /// project, database). The client's own fluent API and retries are not used: kvs
    /// calls its gRPC client and retries by its own policy.
    pub fn new(db: &FirestoreDb) -> Self {
        FirestoreBackend {
            engine: Engine {
                db: db.clone(),
                prefix: String::new(),
                backoff: Backoff::default(),
                conflicts: Backoff::conflicts(),
                concurrency: DEFAULT_CONCURRENCY,
                #[cfg(feature = "firestore-admin")]
                indexes: IndexCreation::Declare,
            },
        }
    }

    /// A backend configured from the environment: `GOOGLE_CLOUD_PROJECT` (or
    /// `GCLOUD_PROJECT`; required), `FIRESTORE_EMULATOR_HOST` (the emulator, no
    /// credentials), `FIRESTORE_DATABASE` (default `(default)`) and
    /// `KVS_COLLECTION_PREFIX`. Without the emulator, Application Default Credentials
    /// are used, and the feature `firestore-tls` is needed to reach the service.
    pub async fn from_env() -> Result<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let Some(project) = var("GOOGLE_CLOUD_PROJECT").or_else(|| var("GCLOUD_PROJECT")) else {
            return Err(Error::validation(
                "Firestore from the environment needs GOOGLE_CLOUD_PROJECT (the project id)",
            ));
        };
        let emulator = var("FIRESTORE_EMULATOR_HOST");
        #[cfg(not(feature = "firestore-tls"))]
        if emulator.is_none() {
            return Err(Error::unsupported(
                "Firestore at firestore.googleapis.com needs TLS and credentials: enable the \
                 kvs feature `firestore-tls` (or set FIRESTORE_EMULATOR_HOST to an emulator)",
            ));
        }
        let mut options = firestore::FirestoreDbOptions::new(project);
        if let Some(database) = var("FIRESTORE_DATABASE") {
            options = options.with_database_id(database);
        }
        let db = FirestoreDb::with_options(options).await.map_err(|e| {
            // Against the emulator no credentials are asked for, so the emulator was not
            // reached; against the service, making the client fails when it finds no
            // usable credentials (Application Default Credentials).
            let kind = if emulator.is_some() {
                ErrorKind::Unavailable
            } else {
                ErrorKind::Unauthenticated
            };
            Error::new(kind, format!("could not make a Firestore client: {e}")).with_source(e)
        })?;
        let backend = FirestoreBackend::new(&db);
        match var("KVS_COLLECTION_PREFIX") {
            Some(prefix) => backend.with_collection_prefix(prefix),
            None => Ok(backend),
        }
    }

    /// Prefixes every collection name (`"prod-"` + `"orders"`), so that environments
    /// can share a database. ASCII letters, digits, `_`, `-` and `.` only (`Validation`
    /// otherwise).
    pub fn with_collection_prefix(mut self, prefix: impl Into<String>) -> Result<Self> {
        let prefix = prefix.into();
        id::check_prefix(&prefix)?;
        self.engine.prefix = prefix;
        Ok(self)
    }

    /// Replaces the retry policy of failures that changed nothing (throttling, refused
    /// connections) and of reads.
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.engine.backoff = backoff;
        self
    }

    /// Replaces the retry policy of writes that lost a race with another writer
    /// (default [`Backoff::conflicts`]); past it, `Conflict`.
    pub fn with_conflict_backoff(mut self, backoff: Backoff) -> Self {
        self.engine.conflicts = backoff;
        self
    }

    /// At most `n` requests of one `get_many`, `upsert_many` or `delete_many` in flight
    /// at once (default 16; at least 1).
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.engine.concurrency = n.max(1);
        self
    }

    /// What `ensure_store` does about the composite indexes the store's queries need in
    /// production (default [`IndexCreation::Declare`]: nothing, no I/O). With
    /// [`IndexCreation::Create`] it creates those the database lacks, through Firestore's
    /// admin API (the credentials need `datastore.indexes.create`); against the emulator,
    /// which has none, nothing is sent.
    #[cfg(feature = "firestore-admin")]
    pub fn with_indexes(mut self, indexes: IndexCreation) -> Self {
        self.engine.indexes = indexes;
        self
    }

    /// The collection id that holds `store`.
    pub fn collection(&self, store: &str) -> String {
        collection_id(&self.engine.prefix, store)
    }

    /// The path of an item's document relative to the database's documents
    /// (`collection/id`), as Firestore's client libraries name it.
    pub fn document_path(&self, store: &str, key: &Key) -> String {
        format!("{}/{}", self.collection(store), document_id(key))
    }

    /// The client underneath.
    pub fn db(&self) -> &FirestoreDb {
        &self.engine.db
    }
}

impl Engine {
    fn client(&self) -> FirestoreClient<GoogleAuthMiddleware> {
        self.db.client().get()
    }

    fn database(&self) -> String {
        self.db.get_database_path().clone()
    }

    /// The parent of every collection: `projects/P/databases/D/documents`.
    fn documents(&self) -> &str {
        self.db.get_documents_path()
    }

    fn collection(&self, schema: &StoreSchema) -> String {
        collection_id(&self.prefix, &schema.name)
    }

    /// The full resource name of an item's document.
    fn document_name(&self, schema: &StoreSchema, key: &Key) -> String {
        format!(
            "{}/{}/{}",
            self.documents(),
            self.collection(schema),
            document_id(key)
        )
    }
}

/// The version of a document: its `update_time`, as 12 bytes.
fn version_of(t: &Timestamp) -> Version {
    let mut v = t.seconds.to_be_bytes().to_vec();
    v.extend_from_slice(&t.nanos.to_be_bytes());
    Version::new(v)
}

/// The `update_time` a version was made from.
fn timestamp_of(v: &Version) -> Result<Timestamp> {
    let b = v.as_bytes();
    let (Ok(seconds), Ok(nanos)) = (
        b.get(..8)
            .unwrap_or_default()
            .try_into()
            .map(i64::from_be_bytes),
        b.get(8..12)
            .unwrap_or_default()
            .try_into()
            .map(i32::from_be_bytes),
    ) else {
        return Err(Error::new(
            ErrorKind::Backend,
            "a Firestore version that is not an update time",
        ));
    };
    Ok(Timestamp { seconds, nanos })
}

/// What Firestore can hold and do.
fn capabilities() -> Capabilities {
    Capabilities {
        // int64 and double only.
        exact_decimals: false,
        // `integerValue` and `doubleValue` stay apart; `-0.0` keeps its sign over gRPC.
        keeps_number_kind: true,
        keeps_negative_zero: true,
        max_depth: value::MAX_FIRESTORE_DEPTH,
        transactions: TransactionScope::Any,
        consistent_index_reads: true,
        // A collection exists without being created: a store never ensured is empty.
        implicit_stores: true,
        // An index orders by the first 1,500 bytes of a value.
        max_ordered_key_bytes: Some(query::MAX_QUERY_VALUE),
        ..Capabilities::default()
    }
}

#[async_trait]
impl VersionedBackend for Engine {
    fn name(&self) -> &'static str {
        "firestore"
    }

    fn capabilities(&self) -> Capabilities {
        capabilities()
    }

    fn conflict_backoff(&self) -> Backoff {
        self.conflicts
    }

    async fn ensure_store(&self, schema: &StoreSchema) -> Result<()> {
        // A collection exists with its first document; the store's name must only make
        // a valid collection id, which `collection_id` always does.
        schema.validate()?;
        #[cfg(feature = "firestore-admin")]
        self.create_indexes(schema).await?;
        Ok(())
    }

    async fn get_versioned(&self, schema: &StoreSchema, key: &Key) -> Result<Option<Versioned>> {
        self.get_document(schema, key).await
    }

    async fn write_if_version(&self, write: &VersionedWrite<'_>) -> Result<bool> {
        self.commit_one(write).await
    }

    async fn write_all_if_versions(&self, writes: &[VersionedWrite<'_>]) -> Result<bool> {
        self.commit_all(writes).await
    }

    async fn read_query(&self, plan: &QueryPlan<'_>) -> Result<RawPage> {
        self.query_range(plan).await
    }

    async fn read_scan(&self, plan: &ScanPlan<'_>) -> Result<RawPage> {
        self.scan_range(plan).await
    }

    async fn count_range(&self, plan: &QueryPlan<'_>) -> Result<Option<u64>> {
        // A widened range holds items the query does not match, and a count aggregation
        // cannot drop them: the kit counts by reading, which checks each item.
        if plan.sort.is_some_and(query::widens) {
            return Ok(None);
        }
        self.count_query_range(plan).await.map(Some)
    }

    async fn count_all(&self, plan: &ScanPlan<'_>) -> Result<Option<u64>> {
        self.count_collection(plan).await.map(Some)
    }
}

#[async_trait]
impl Backend for FirestoreBackend {
    fn name(&self) -> &'static str {
        "firestore"
    }

    fn capabilities(&self) -> Capabilities {
        capabilities()
    }

    async fn ensure_store(&self, schema: &StoreSchema) -> Result<()> {
        VersionedBackend::ensure_store(&self.engine, schema).await
    }

    async fn get(&self, schema: &StoreSchema, key: &Key) -> Result<Option<RawItem>> {
        Ok(self.engine.get_document(schema, key).await?.map(|v| v.item))
    }

    async fn write(&self, plan: &WritePlan<'_>) -> Result<Written> {
        emulate::versioned::write(&self.engine, plan).await
    }

    async fn query(&self, plan: &QueryPlan<'_>) -> Result<RawPage> {
        emulate::page::query_by_ranges(&self.engine, plan).await
    }

    async fn scan(&self, plan: &ScanPlan<'_>) -> Result<RawPage> {
        emulate::page::scan_by_ranges(&self.engine, plan).await
    }

    async fn count_query(&self, plan: &QueryPlan<'_>) -> Result<u64> {
        emulate::count::query_natively(self, &self.engine, plan).await
    }

    async fn count_scan(&self, plan: &ScanPlan<'_>) -> Result<u64> {
        emulate::count::scan_natively(self, &self.engine, plan).await
    }

    async fn transact(&self, writes: &[WritePlan<'_>]) -> Result<()> {
        emulate::versioned::transact(&self.engine, writes).await
    }

    async fn get_many(&self, schema: &StoreSchema, keys: &[Key]) -> Result<Vec<Option<RawItem>>> {
        self.engine.batch_get(schema, keys, None).await
    }

    async fn get_projected(
        &self,
        schema: &StoreSchema,
        key: &Key,
        attributes: &[&str],
    ) -> Result<Option<RawItem>> {
        let found = self
            .engine
            .get_masked(schema, key, Some(attributes))
            .await?;
        Ok(found.map(|v| v.item))
    }

    async fn get_many_projected(
        &self,
        schema: &StoreSchema,
        keys: &[Key],
        attributes: &[&str],
    ) -> Result<Vec<Option<RawItem>>> {
        self.engine.batch_get(schema, keys, Some(attributes)).await
    }

    async fn upsert_many(&self, schema: &StoreSchema, items: &[Item]) -> Result<()> {
        self.engine.batch_upsert(schema, items).await
    }

    async fn delete_many(&self, schema: &StoreSchema, keys: &[Key]) -> Result<()> {
        self.engine.batch_delete(schema, keys).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_update_times() {
        let t = Timestamp {
            seconds: 1_700_000_000,
            nanos: 123_456_000,
        };
        assert_eq!(timestamp_of(&version_of(&t)).unwrap(), t);
        assert!(timestamp_of(&Version::new(vec![1, 2])).is_err());
    }
}
