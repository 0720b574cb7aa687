//! The Cosmos DB backend (NoSQL API), on `azure_data_cosmos` (feature `cosmos`).
//!
//! ```no_run
//! # async fn run(client: azure_data_cosmos::CosmosClient) -> kvs::Result<()> {
//! use kvs::cosmos::CosmosBackend;
//!
//! // From your own client (key or Entra ID credentials, regions, as you like)...
//! let kvs = kvs::Kvs::new(CosmosBackend::new(client, "appdb").with_container_prefix("prod-")?);
//! // ...or from AZURE_COSMOS_ENDPOINT, AZURE_COSMOS_KEY, KVS_COSMOS_DATABASE and
//! // KVS_CONTAINER_PREFIX.
//! let kvs = kvs::Kvs::new(CosmosBackend::from_env().await?);
//! # Ok(()) }
//! ```
//!
//! # Layout
//!
//! A store is a container (named [`container_id`]: the prefix and the store's name)
//! partitioned on the store's partition key attribute, and each item one JSON document
//! whose properties are the item's attributes as plain JSON, key attributes included,
//! so that Cosmos DB's Data Explorer, its SDKs and other programs read them as any other
//! documents ([`value`]). The document `id` is derived from the whole key ([`item_id`]):
//! unique, stable, ASCII, never with `/`, `\`, `?` or `#`, one id for `1` and `1.0`,
//! and hashed beyond 250 bytes (the key attributes are in the document, so nothing is
//! lost).
//!
//! Beside the attributes, a document holds kvs's order keys: `_kvsKey`, the item's key
//! in the order-preserving key encoding (as ASCII text), and `_kvsIx`, the same for each index the
//! item is in (index key, then table key). Cosmos DB compares strings by UTF-16 code
//! units and keeps numbers as doubles; these ASCII strings compare as the contract
//! orders keys (strings by UTF-8 bytes, numbers by value, ties in an index by table
//! key), so every query is one range of one property, served in the contract's order by
//! Cosmos DB's default range index, with no composite index to create and none missing.
//!
//! # What is encoded, and what is refused
//!
//! Plain values stay plain. Bytes are base64 strings and sets are sorted arrays, with
//! a record (`_kvsTypes`, only in items that hold them) of which paths they are, so that
//! kvs reads them back exactly while other programs see strings and arrays. Attributes
//! named like Cosmos DB's own properties (`id`, `_rid`, `_self`, `_etag`, `_ts`,
//! `_attachments`, `_lsn`, `ttl`) or starting with `_kvs` are stored as `_kvs_` and the
//! name. Refused with `Validation` before anything is sent, as [`Capabilities`]
//! declares: integers beyond +-2^53 and decimals a double cannot hold exactly (Cosmos DB
//! holds numbers as doubles, and rounding silently is what the contract forbids).
//!
//! # Operations
//!
//! - Writes go through the backend kit's versioned loop: read the document and its
//!   ETag, decide the write with the shared evaluator (conditions and every update op;
//!   `patch_item` is never used), and write it with `IfMatch(etag)` (`create` for an
//!   item that must be new); a lost race (412, 409, 404) is read and tried again with
//!   backoff, and past the budget is `Conflict`. A guarded write is never resent after
//!   an ambiguous failure (its outcome is unknown: `Unavailable`).
//! - Queries are parameterized SQL on the order keys: the base table within the item's
//!   partition, an index across partitions, one range `ORDER BY` the order key, `TOP`
//!   the page size. No value or name is spliced into query text. The filter is left to
//!   the kit's evaluator, which fills exact pages; page tokens are the kit's, never
//!   Cosmos DB's continuation tokens.
//! - Transactions are one transactional batch, within one partition key value of one
//!   store (declared, so that anything wider is `Unsupported` before anything is sent):
//!   the kit reads every item and decides every write (with exact reasons by position),
//!   and the batch applies them atomically, each guarded by its ETag (a condition check
//!   by a read with `IfMatch`, a check that an item is still missing by a create and a
//!   delete of it); a change by anyone in between fails the batch, which is read and
//!   tried again.
//! - `get_many` runs concurrent point reads; `upsert_many` and `delete_many` concurrent
//!   writes, naming the keys not written.
//! - `ensure_store` creates the database and the container if missing, with the
//!   partition key path and the indexing policy of [`container_definition`], and
//!   refuses a container partitioned otherwise.
//! - The SDK's own throttling retries are for the caller to turn off (see
//!   [`CosmosBackend::new`]); kvs retries throttling, and what did not reach the
//!   service, by its own policy ([`with_backoff`](CosmosBackend::with_backoff)).

pub(crate) mod direct;
mod error;
mod id;
mod query;
pub mod value;
mod write;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use azure_data_cosmos::clients::ContainerClient;
use azure_data_cosmos::models::{
    ContainerProperties, IndexingPolicy, PartitionKeyDefinition, TimeToLive,
};
use azure_data_cosmos::{CosmosClient, PartitionKey};

use crate::backend::{
    Capabilities, QueryPlan, RawItem, RawPage, ScanPlan, TransactionScope, Versioned,
    VersionedBackend, VersionedWrite,
};
use crate::retry::Backoff;
use crate::{Error, ErrorKind, Key, Result, StoreSchema, Value};

pub use error::cosmos_error;
pub use id::{MAX_PLAIN_ID, container_id, item_id};

/// The largest integer magnitude a double holds exactly: 2^53.
pub const MAX_SAFE_INTEGER: i64 = 1 << 53;

/// The Cosmos DB backend: a client, a database, a container-name prefix, and the retry
/// policies.
#[derive(Clone)]
pub struct CosmosBackend {
    inner: Arc<Inner>,
}

struct Inner {
    client: CosmosClient,
    database: String,
    prefix: String,
    backoff: Backoff,
    conflicts: Backoff,
    /// What every call is given: the SDK's retries off.
    options: azure_data_cosmos::options::OperationOptions,
    /// The container client of each store seen, by store name: making one reads the
    /// container's metadata, which is done once.
    containers: Mutex<HashMap<String, ContainerClient>>,
}

impl fmt::Debug for CosmosBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CosmosBackend")
            .field("endpoint", &self.inner.client.endpoint().as_str())
            .field("database", &self.inner.database)
            .field("prefix", &self.inner.prefix)
            .finish_non_exhaustive()
    }
}

impl CosmosBackend {
    /// A backend on `client`, in the database `database` (created by `ensure_store` if
    /// missing).
    ///
    /// kvs turns the SDK's own retries off for every call it makes ([`sdk_retries_off`]):
    /// it retries throttling and what did not reach the service itself, by
    /// [`with_backoff`](Self::with_backoff), and never resends a guarded write whose
    /// outcome is unknown. One retry remains beyond its reach: over HTTP/2 the SDK sends a
    /// request whose connection failed once more on another connection, a pool setting
    /// of the client. kvs recognizes its own write in the document it finds after such a
    /// resend (see [`value::WRITE`]); to rule the resend out, build the client's runtime
    /// with `ConnectionPoolOptionsBuilder::with_max_http2_connections_per_endpoint(1)`.
    pub fn new(client: CosmosClient, database: impl Into<String>) -> Self {
        CosmosBackend {
            inner: Arc::new(Inner {
                client,
                database: database.into(),
                prefix: String::new(),
                backoff: Backoff::default(),
                conflicts: Backoff::conflicts(),
                options: client::kvs_options(),
                containers: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// A backend configured from the environment: `AZURE_COSMOS_ENDPOINT` (the
    /// account's `https://` URL; required), `AZURE_COSMOS_KEY` (its key; required),
    /// `KVS_COSMOS_DATABASE` (default `kvs`) and `KVS_CONTAINER_PREFIX`. For Entra ID
    /// credentials, build the client yourself and use [`new`](Self::new).
    pub async fn from_env() -> Result<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let (Some(endpoint), Some(key)) = (var("AZURE_COSMOS_ENDPOINT"), var("AZURE_COSMOS_KEY"))
        else {
            return Err(Error::validation(
                "Cosmos DB from the environment needs AZURE_COSMOS_ENDPOINT (the account's \
                 https:// URL) and AZURE_COSMOS_KEY (its key)",
            ));
        };
        let client = client::with_key(&endpoint, key).await?;
        let backend =
            CosmosBackend::new(client, var("KVS_COSMOS_DATABASE").unwrap_or("kvs".into()));
        match var("KVS_CONTAINER_PREFIX") {
            Some(prefix) => backend.with_container_prefix(prefix),
            None => Ok(backend),
        }
    }

    /// A backend on the account at `endpoint` (`https://…`; `http://` only for a local
    /// emulator on a loopback address) with its key, in the database `database`. The
    /// client has the SDK's defaults but its retries (see [`sdk_retries_off`]), and
    /// reaches the region `KVS_COSMOS_REGION` names first (default East US).
    pub async fn with_key(
        endpoint: &str,
        key: impl Into<String>,
        database: impl Into<String>,
    ) -> Result<Self> {
        let client = client::with_key(endpoint, key.into()).await?;
        Ok(CosmosBackend::new(client, database))
    }

    /// Prefixes every container name (`"prod-"` + `"orders"`), so that environments
    /// can share a database. ASCII letters, digits, `_` and `-` only (`Validation`
    /// otherwise).
    pub fn with_container_prefix(mut self, prefix: impl Into<String>) -> Result<Self> {
        let prefix = prefix.into();
        id::check_prefix(&prefix)?;
        self.configure().prefix = prefix;
        Ok(self)
    }

    /// Replaces the retry policy of failures that changed nothing (throttling, refused
    /// connections) and of reads.
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.configure().backoff = backoff;
        self
    }

    /// Replaces the retry policy of writes that lost a race with another writer
    /// (default [`Backoff::conflicts`]); past it, `Conflict`.
    pub fn with_conflict_backoff(mut self, backoff: Backoff) -> Self {
        self.configure().conflicts = backoff;
        self
    }

    /// The settings, before the backend is shared (a clone shares them; configure
    /// first, or this copies them out).
    fn configure(&mut self) -> &mut Inner {
        if Arc::get_mut(&mut self.inner).is_none() {
            let i = &self.inner;
            self.inner = Arc::new(Inner {
                client: i.client.clone(),
                database: i.database.clone(),
                prefix: i.prefix.clone(),
                backoff: i.backoff,
                conflicts: i.conflicts,
                options: i.options.clone(),
                containers: Mutex::new(HashMap::new()),
            });
        }
        Arc::get_mut(&mut self.inner).expect("just made unshared")
    }

    /// The container id that holds `store`.
    pub fn container(&self, store: &str) -> String {
        container_id(&self.inner.prefix, store)
    }

    /// The client underneath.
    pub fn client(&self) -> &CosmosClient {
        &self.inner.client
    }

    /// The database the containers are in.
    pub fn database(&self) -> &str {
        &self.inner.database
    }

    /// The container client of a store; `StoreNotFound` if the container (or the
    /// database) does not exist.
    async fn container_client(&self, schema: &StoreSchema) -> Result<ContainerClient> {
        // Cached by store name (the prefix is the backend's own, so a store has one
        // container), so that a call makes no container id to find its client.
        if let Some(c) = self.cached(&schema.name) {
            return Ok(c);
        }
        let name = self.container(&schema.name);
        let db = self.inner.client.database_client(&self.inner.database);
        let client = self
            .inner
            .backoff
            .run(true, || async {
                db.container_client(&name, None).await.map_err(|e| {
                    let e = cosmos_error("reading container", &name, e);
                    if e.is(&ErrorKind::StoreNotFound) {
                        Error::new(
                            ErrorKind::StoreNotFound,
                            format!(
                                "store {:?}: Cosmos DB container {name:?} of database {:?} \
                                 does not exist (ensure the store first)",
                                schema.name, self.inner.database
                            ),
                        )
                    } else {
                        e
                    }
                })
            })
            .await?;
        self.lock()
            .entry(schema.name.clone())
            .or_insert_with(|| client.clone());
        Ok(client)
    }

    /// The container client of the store named `store`, if one was made before.
    fn cached(&self, store: &str) -> Option<ContainerClient> {
        self.lock().get(store).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, ContainerClient>> {
        // A panic while holding the lock leaves the cache as it was: still usable.
        self.inner
            .containers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}

/// The partition key value of a key, as Cosmos DB holds it in the document: a string,
/// a number, or bytes as their base64 string.
fn partition_key(value: &Value) -> Result<PartitionKey> {
    match value {
        Value::String(s) => Ok(PartitionKey::from(s.clone())),
        Value::Number(n) => match n.as_i64() {
            Some(i) if n.is_integer() => Ok(PartitionKey::from(i)),
            _ => PartitionKey::try_from(n.to_f64_lossy())
                .map_err(|e| Error::validation(format!("partition key value {n}: {e}"))),
        },
        Value::Bytes(b) => Ok(PartitionKey::from(value::base64(b))),
        other => Err(Error::validation(format!(
            "a partition key value must be a string, a number or bytes, not {other:?}"
        ))),
    }
}

/// The container a store needs: partitioned on the store's partition key attribute
/// (as the document holds it; a name with `/` or `"`, which a partition key path cannot
/// hold, through a copy in `_kvsPk`), indexed on every path (the order keys' range queries use
/// the default range index; no composite index is needed). For infrastructure code that
/// creates containers itself (Bicep, Terraform, the portal): create one like it, and
/// kvs uses it as it is.
pub fn container_definition(prefix: &str, schema: &StoreSchema) -> ContainerProperties {
    let path = format!("/{}", value::partition_property(schema));
    ContainerProperties::new(
        container_id(prefix, &schema.name),
        PartitionKeyDefinition::from(path),
    )
    .with_indexing_policy(IndexingPolicy::default().with_included_path("/*"))
    // Items that expire carry their own `ttl`; the others none, and never expire.
    .with_default_ttl(match schema.ttl {
        Some(_) => TimeToLive::NoDefault,
        None => TimeToLive::Forever,
    })
}

/// What Cosmos DB can hold and do.
fn capabilities() -> Capabilities {
    Capabilities {
        // Doubles: integers within +-2^53, and no other decimals.
        integer_range: Some((-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)),
        exact_decimals: false,
        // JSON numbers: `2.0` reads back as `2`; `-0` may come back as `0`.
        keeps_number_kind: false,
        keeps_negative_zero: false,
        // A transactional batch: one partition key value of one container, 100 operations.
        transactions: TransactionScope::OnePartition,
        max_transaction_writes: write::MAX_BATCH_OPERATIONS,
        // Strong or session consistency on one region: an index read after a write sees it.
        consistent_index_reads: true,
        ..Capabilities::default()
    }
}

#[async_trait]
impl VersionedBackend for CosmosBackend {
    fn name(&self) -> &'static str {
        "cosmos"
    }

    fn capabilities(&self) -> Capabilities {
        capabilities()
    }

    fn conflict_backoff(&self) -> Backoff {
        self.inner.conflicts
    }

    async fn ensure_store(&self, schema: &StoreSchema) -> Result<()> {
        schema.validate()?;
        self.create_container(schema).await
    }

    async fn get_versioned(&self, schema: &StoreSchema, key: &Key) -> Result<Option<Versioned>> {
        self.read_item(schema, key).await
    }

    async fn get_projected(
        &self,
        schema: &StoreSchema,
        key: &Key,
        attributes: &[&str],
    ) -> Result<Option<RawItem>> {
        self.read_projected(schema, key, attributes).await
    }

    async fn write_if_version(&self, write: &VersionedWrite<'_>) -> Result<bool> {
        self.write_one(write).await
    }

    async fn write_all_if_versions(&self, writes: &[VersionedWrite<'_>]) -> Result<bool> {
        self.write_batch(writes).await
    }

    async fn read_query(&self, plan: &QueryPlan<'_>) -> Result<RawPage> {
        self.query_range(plan).await
    }

    async fn read_scan(&self, plan: &ScanPlan<'_>) -> Result<RawPage> {
        self.scan_range(plan).await
    }

    async fn count_range(&self, plan: &QueryPlan<'_>) -> Result<Option<u64>> {
        self.count_query_range(plan).await.map(Some)
    }

    async fn count_all(&self, plan: &ScanPlan<'_>) -> Result<Option<u64>> {
        self.count_container(plan).await.map(Some)
    }
}

mod client {
    //! A client from an endpoint and a key, with the SDK's throttling retries off.

    use azure_core::credentials::Secret;
    use azure_data_cosmos::options::{OperationOptionsBuilder, ThrottlingRetryOptionsBuilder};
    use azure_data_cosmos::{
        AccountEndpoint, AccountReference, CosmosClient, CosmosClientBuilder, RoutingStrategy,
    };

    use crate::{Error, ErrorKind, Result};

    pub(super) async fn with_key(endpoint: &str, key: String) -> Result<CosmosClient> {
        let endpoint: AccountEndpoint = endpoint.parse().map_err(|e| {
            Error::validation(format!(
                "AZURE_COSMOS_ENDPOINT {endpoint:?} is not a URL: {e}"
            ))
        })?;
        let account = AccountReference::with_authentication_key(endpoint, Secret::new(key));
        CosmosClientBuilder::new()
            .with_default_operation_options(sdk_retries_off())
            .build(account, RoutingStrategy::ProximityTo(default_region()))
            .await
            .map_err(|e| {
                Error::new(
                    ErrorKind::Unavailable,
                    format!(
                        "could not make a Cosmos DB client: {}",
                        super::error::first_line(&e)
                    ),
                )
                .with_source(e)
            })
    }

    /// Operation options with the SDK's own retries off: throttling (18 retries by
    /// default) and failover (3 retries of a 503, a timeout or a transport failure, writes
    /// included). kvs gives them to every call it makes, so that its retry policy is the
    /// one in force and a write whose outcome is unknown is never sent again behind its
    /// back; give them to `CosmosClientBuilder::with_default_operation_options` too, for
    /// the calls your own code makes.
    pub fn sdk_retries_off() -> azure_data_cosmos::options::OperationOptions {
        OperationOptionsBuilder::new()
            .with_throttling_retry_options(
                ThrottlingRetryOptionsBuilder::new()
                    .with_max_retry_count(0)
                    .build(),
            )
            .with_max_failover_retry_count(0)
            .build()
    }

    /// The options of every call kvs makes: the SDK's retries off, and text JSON on the
    /// wire rather than Cosmos DB's binary JSON (on by default): kvs reads documents by
    /// its own rules straight from their text into a model or an item, where a binary
    /// body would be decoded and then turned into text by the SDK; and the SDK's
    /// cross-partition query pipeline reads text pages at half the instructions
    /// (measured by `cargo bench -p kvs-benches --bench cosmos`).
    pub(super) fn kvs_options() -> azure_data_cosmos::options::OperationOptions {
        let mut options = sdk_retries_off();
        options.binary_encoding =
            Some(azure_data_cosmos::options::BinaryEncodingOptions::new().with_enabled(false));
        options
    }

    fn default_region() -> azure_data_cosmos::options::Region {
        std::env::var("KVS_COSMOS_REGION")
            .ok()
            .filter(|r| !r.trim().is_empty())
            .map(azure_data_cosmos::options::Region::from)
            .unwrap_or(azure_data_cosmos::options::Region::EAST_US)
    }
}

pub use client::sdk_retries_off;
