//! Writes: one document under its ETag, many in one transactional batch, and the
//! containers `ensure_store` makes.

use azure_core::http::Etag;
use azure_data_cosmos::models::{ContainerProperties, TimeToLive};
use azure_data_cosmos::options::{
    BatchDeleteOptions, BatchOptions, BatchReadOptions, BatchReplaceOptions, ItemWriteOptions,
    Precondition,
};
use azure_data_cosmos::{CosmosError, TransactionalBatch};
use serde_json::{Map, Value as Json};

use super::query::not_found;
use super::value::{Encoded, encode_document, partition_property};
use super::{CosmosBackend, container_definition, cosmos_error, item_id, partition_key};
use crate::backend::{Change, Expected, Version, VersionedWrite};
use crate::{Error, ErrorKind, Result, StoreSchema};

/// The most operations in one transactional batch (Cosmos DB's limit).
pub const MAX_BATCH_OPERATIONS: usize = 100;

fn etag(v: &Version) -> Etag {
    Etag::from(String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// Whether a guarded write failed because the item was not as expected: another
/// writer came first (412), the item appeared (409) or went (404). Nothing changed.
fn lost_race(status: u16) -> bool {
    matches!(status, 404 | 409 | 412)
}

/// Whether the SDK recorded more than one request for the call (kvs turns its throttling
/// and failover retries off; what is left is its connection pool sending a request whose
/// connection failed once more on another, or a retry of the driver's own, such as a
/// session read): the first may have been applied. Taken as such whenever it says so,
/// which can only turn a refusal into `Unavailable`, never the reverse.
fn sent_again(e: &CosmosError) -> bool {
    e.diagnostics().is_some_and(|d| d.request_count() > 1)
}

/// A guarded write refused after the SDK sent it twice, where nothing shows it was this
/// write's own first send that changed the item: it may have been (a delete leaves
/// nothing to tell by; a put's token may have been overwritten since), or another
/// writer's. Deciding again could apply it twice, so the caller is told.
fn unknown_outcome(op: &str, what: &str) -> Error {
    Error::new(
        ErrorKind::Unavailable,
        format!(
            "Cosmos DB {op} on {what}: the outcome is unknown (the SDK sent it again after \
             its first response was lost, and the item changed meanwhile, perhaps by this \
             write); read the item to see"
        ),
    )
}

/// The smallest document with an item's id and partition key: what a transaction
/// creates and deletes again to check that an item is still missing.
fn placeholder(w: &VersionedWrite<'_>) -> Result<Map<String, Json>> {
    let mut doc = Map::new();
    doc.insert("id".to_owned(), Json::String(item_id(w.key)));
    let pk = super::value::encode_value(w.key.partition())?;
    doc.insert(partition_property(w.schema).into_owned(), pk);
    Ok(doc)
}

impl CosmosBackend {
    /// One versioned write: `true` if done, `false` if the item was not as expected.
    pub(super) async fn write_one(&self, w: &VersionedWrite<'_>) -> Result<bool> {
        let container = self.container_client(w.schema).await?;
        let pk = partition_key(w.key.partition())?;
        let id = item_id(w.key);
        let what = || format!("{}/{}", w.schema.name, w.key);
        // An unguarded write does the same whenever it lands; a guarded one that may
        // have landed would fail its guard when sent again, and the kit would apply the
        // update twice (an ADD, APPEND or PREPEND): it is reported instead.
        let idempotent = w.expected == Expected::Any;
        let doc = match w.change {
            Change::Put(item) => Some(encode_document(w.schema, w.key, item)?),
            _ => None,
        };
        let options =
            ItemWriteOptions::default().with_operation_options(self.inner.options.clone());
        let guarded = match &w.expected {
            Expected::Version(v) => options
                .clone()
                .with_precondition(Precondition::if_match(etag(v))),
            _ => options.clone(),
        };
        let token = doc.as_ref().map(Encoded::write_token);
        self.inner
            .backoff
            .run(idempotent, || async {
                let (op, result) = match (w.change, &w.expected, &doc) {
                    (Change::Put(_), Expected::Any, Some(doc)) => (
                        "upsert",
                        container
                            .upsert_item(pk.clone(), &id, doc, Some(options.clone()))
                            .await,
                    ),
                    (Change::Put(_), Expected::Absent, Some(doc)) => (
                        "create",
                        container
                            .create_item(pk.clone(), &id, doc, Some(options.clone()))
                            .await,
                    ),
                    (Change::Put(_), Expected::Version(_), Some(doc)) => (
                        "replace",
                        container
                            .replace_item(pk.clone(), &id, doc, Some(guarded.clone()))
                            .await,
                    ),
                    (Change::Delete, Expected::Version(_), _) => (
                        "delete",
                        container
                            .delete_item(pk.clone(), &id, Some(guarded.clone()))
                            .await,
                    ),
                    (Change::Delete, Expected::Any, _) => {
                        match container
                            .delete_item(pk.clone(), &id, Some(options.clone()))
                            .await
                        {
                            Err(e) if not_found(&e) => return Ok(true),
                            r => ("delete", r),
                        }
                    }
                    // Nothing to write: whether the item is still as expected.
                    (Change::Keep | Change::Delete, expected, _) => {
                        let now = self.read_item(w.schema, w.key).await?;
                        return Ok(match (expected, now) {
                            (Expected::Any, _) | (Expected::Absent, None) => true,
                            (Expected::Version(v), Some(now)) => now.version == *v,
                            _ => false,
                        });
                    }
                    (Change::Put(_), _, None) => {
                        unreachable!("a put's document is encoded above")
                    }
                };
                match result {
                    Ok(_) => Ok(true),
                    Err(e)
                        if w.expected != Expected::Any
                            && lost_race(u16::from(e.status().status_code())) =>
                    {
                        // Refused because of a change that may be this very write, sent
                        // again by the SDK after its response was lost: then it is done.
                        let mine = match token {
                            Some(token) => self.written_by(w, token).await?,
                            None => false,
                        };
                        if !mine && sent_again(&e) {
                            return Err(unknown_outcome(op, &what()));
                        }
                        Ok(mine)
                    }
                    Err(e) => Err(cosmos_error(op, &what(), e)),
                }
            })
            .await
    }

    /// Whether the item now holds the document of the write with `token`.
    async fn written_by(&self, w: &VersionedWrite<'_>, token: &str) -> Result<bool> {
        let now = self.read_document(w.schema, w.key).await?;
        Ok(now.is_some_and(|doc| doc.write.as_deref() == Some(token)))
    }

    /// Does every write in one transactional batch if every item is as its write
    /// expects: `true` if done, `false` if any was not (nothing changed).
    pub(super) async fn write_batch<'a>(&self, writes: &'a [VersionedWrite<'a>]) -> Result<bool> {
        let Some(first) = writes.first() else {
            return Ok(true);
        };
        let schema = first.schema;
        if writes
            .iter()
            .any(|w| w.schema.name != schema.name || w.key.partition() != first.key.partition())
        {
            return Err(Error::unsupported(
                "a Cosmos DB transaction holds writes of one store within one partition key value",
            ));
        }
        let container = self.container_client(schema).await?;
        let pk = partition_key(first.key.partition())?;
        let mut batch = TransactionalBatch::new(pk);
        let mut operations = 0;
        let build = |e: CosmosError| cosmos_error("transactional batch", &schema.name, e);
        // The write token of each put, to recognize the batch as this one if the SDK
        // sent it twice.
        let mut tokens: Vec<(&VersionedWrite<'_>, String)> = Vec::new();
        let mut encode = |w: &'a VersionedWrite<'a>, item: &'a crate::Item| {
            let doc = encode_document(w.schema, w.key, item)?;
            tokens.push((w, doc.write_token().to_owned()));
            Ok::<_, Error>(doc)
        };
        for w in writes {
            let id = item_id(w.key);
            let before = operations;
            batch = match (w.change, &w.expected) {
                (Change::Keep, Expected::Any) => batch,
                (Change::Put(item), Expected::Any) => {
                    operations += 1;
                    batch.upsert_item(encode(w, item)?, None).map_err(build)?
                }
                (Change::Put(item), Expected::Absent) => {
                    operations += 1;
                    batch.create_item(encode(w, item)?).map_err(build)?
                }
                (Change::Put(item), Expected::Version(v)) => {
                    operations += 1;
                    batch
                        .replace_item(
                            id.clone(),
                            encode(w, item)?,
                            Some(
                                BatchReplaceOptions::default()
                                    .with_precondition(Precondition::if_match(etag(v))),
                            ),
                        )
                        .map_err(build)?
                }
                (Change::Delete, Expected::Version(v)) => {
                    operations += 1;
                    batch.delete_item(
                        id.clone(),
                        Some(
                            BatchDeleteOptions::default()
                                .with_precondition(Precondition::if_match(etag(v))),
                        ),
                    )
                }
                (Change::Delete, Expected::Any) => {
                    operations += 1;
                    batch.delete_item(id.clone(), None)
                }
                (Change::Keep, Expected::Version(v)) => {
                    operations += 1;
                    batch.read_item(
                        id.clone(),
                        Some(
                            BatchReadOptions::default()
                                .with_precondition(Precondition::if_match(etag(v))),
                        ),
                    )
                }
                // Still missing: a create fails the batch if the item appeared, and the
                // delete after it leaves nothing behind.
                (Change::Keep | Change::Delete, Expected::Absent) => {
                    operations += 2;
                    batch
                        .create_item(placeholder(w)?)
                        .map_err(build)?
                        .delete_item(id.clone(), None)
                }
            };
            debug_assert!(operations >= before);
        }
        if operations == 0 {
            return Ok(true);
        }
        if operations > MAX_BATCH_OPERATIONS {
            return Err(Error::unsupported(format!(
                "this transaction takes {operations} Cosmos DB batch operations (a check that \
                 an item is still missing takes two), over Cosmos DB's {MAX_BATCH_OPERATIONS}"
            )));
        }
        let what = format!("a transaction on {}", schema.name);
        let options = BatchOptions::default().with_operation_options(self.inner.options.clone());
        // Throttling (a 429 for the batch, or for an operation in it) changed nothing:
        // tried again within the policy; every other failure is answered at once.
        self.inner
            .backoff
            .run(false, || async {
                let response = container
                    .execute_transactional_batch(batch.clone(), Some(options.clone()))
                    .await
                    .map_err(|e| cosmos_error("transactional batch", &what, e))?;
                if response.status().is_success()
                    && u16::from(response.status().status_code()) != 207
                {
                    return Ok(true);
                }
                let resent = response.diagnostics().request_count() > 1;
                let results = response
                    .into_model()
                    .map_err(|e| cosmos_error("transactional batch", &what, e))?;
                // The operation that failed has its own status; the others say 424
                // (failed dependency). Nothing was applied.
                let failed = results
                    .results()
                    .iter()
                    .map(|r| r.status_code())
                    .find(|s| *s != 424 && !(200..300).contains(s));
                match failed {
                    // Refused because of changes that may be this very batch, sent again
                    // by the SDK after its response was lost: then it is done.
                    Some(s) if lost_race(s) => {
                        let landed = self.batch_landed(&tokens).await?;
                        if !landed && resent {
                            return Err(unknown_outcome("transactional batch", &what));
                        }
                        Ok(landed)
                    }
                    Some(429) => Err(Error::new(
                        ErrorKind::Throttled,
                        format!("Cosmos DB transactional batch on {what}: throttled (HTTP 429)"),
                    )
                    .transient(true)),
                    Some(s) => Err(Error::new(
                        if s == 400 || s == 413 {
                            ErrorKind::Validation
                        } else {
                            ErrorKind::Backend
                        },
                        format!(
                            "Cosmos DB transactional batch on {what}: an operation failed with \
                             HTTP {s}"
                        ),
                    )),
                    None => Err(Error::new(
                        ErrorKind::Backend,
                        format!(
                            "Cosmos DB transactional batch on {what} failed without a failing \
                             operation"
                        ),
                    )),
                }
            })
            .await
    }

    /// Whether every put of a batch is in its item, by its write token (and there is at
    /// least one put to tell by).
    async fn batch_landed(&self, tokens: &[(&VersionedWrite<'_>, String)]) -> Result<bool> {
        if tokens.is_empty() {
            return Ok(false);
        }
        for (w, token) in tokens {
            if !self.written_by(w, token).await? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Creates the database and the store's container if missing; a container that
    /// exists with another partition key is `Validation`.
    pub(super) async fn create_container(&self, schema: &StoreSchema) -> Result<()> {
        let client = &self.inner.client;
        let database = &self.inner.database;
        self.inner
            .backoff
            .run(true, || async {
                match client.create_database(database, None).await {
                    Ok(_) => Ok(()),
                    Err(e) if e.status().is_conflict() => Ok(()),
                    Err(e) => Err(cosmos_error("create database", database, e)),
                }
            })
            .await?;
        let wanted = container_definition(&self.inner.prefix, schema);
        let name = wanted.id.to_string();
        let db = client.database_client(database);
        self.inner
            .backoff
            .run(true, || async {
                match db.create_container(wanted.clone(), None).await {
                    Ok(_) => Ok(()),
                    Err(e) if e.status().is_conflict() => Ok(()),
                    Err(e) => Err(cosmos_error("create container", &name, e)),
                }
            })
            .await?;
        let container = self.container_client(schema).await?;
        let found: ContainerProperties = self
            .inner
            .backoff
            .run(true, || async {
                container
                    .read(None)
                    .await
                    .and_then(|r| r.into_model())
                    .map_err(|e| cosmos_error("read container", &name, e))
            })
            .await?;
        let paths = |p: &ContainerProperties| -> Vec<String> {
            p.partition_key
                .paths()
                .iter()
                .map(|s| s.to_string())
                .collect()
        };
        if paths(&found) != paths(&wanted) {
            return Err(Error::validation(format!(
                "store {:?}: Cosmos DB container {name:?} exists, partitioned on {:?}, but the \
                 store's partition key is stored at {:?}",
                schema.name,
                paths(&found),
                paths(&wanted)
            )));
        }
        // A store whose items expire needs the container's TTL on (with no default), so
        // that Cosmos DB deletes each item its own `ttl` says; a container made before
        // the store expired items gets it now.
        if schema.ttl.is_some() && found.default_ttl.is_forever() {
            let mut properties = found;
            properties.default_ttl = TimeToLive::NoDefault;
            self.inner
                .backoff
                .run(true, || async {
                    container
                        .replace(properties.clone(), None)
                        .await
                        .map(drop)
                        .map_err(|e| cosmos_error("turn TTL on for container", &name, e))
                })
                .await?;
        }
        Ok(())
    }
}
