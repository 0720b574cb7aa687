//! Batches: `BatchGetItem` in chunks of 100 and `BatchWriteItem` in chunks of 25, the
//! chunks concurrent, unprocessed keys retried with backoff and jitter, and keys still
//! unprocessed after the retries reported as `Throttled` (never as missing).

use std::borrow::Cow;
use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, KeysAndAttributes, PutRequest, WriteRequest,
};
use futures::{StreamExt as _, stream};

use super::DynamoDbBackend;
use super::convert::{from_attr, item_to_attrs, key_attrs};
use super::error::sdk_error;
use crate::backend::RawItem;
use crate::{Error, ErrorKind, Item, Key, Result, StoreSchema};

/// DynamoDB's limits per request.
const GET_CHUNK: usize = 100;
const WRITE_CHUNK: usize = 25;

type Attrs = HashMap<String, AttributeValue>;

fn build_error(e: aws_sdk_dynamodb::error::BuildError) -> Error {
    Error::backend(format!("building a DynamoDB request: {e}"), e)
}

/// The key of a DynamoDB item or key map, converting only the key attributes.
fn key_of_attrs(schema: &StoreSchema, attrs: &Attrs) -> Result<Key> {
    let value = |name: &String| match attrs.get(name) {
        Some(attr) => from_attr(attr),
        None => Err(Error::new(
            ErrorKind::Backend,
            format!("DynamoDB answered an item without its key attribute {name:?}"),
        )),
    };
    let partition = value(&schema.partition_key.name)?;
    Ok(match &schema.sort_key {
        Some(sort) => Key::with_sort(partition, value(&sort.name)?),
        None => Key::new(partition),
    })
}

/// The keys of write requests not done yet.
fn pending_keys(schema: &StoreSchema, pending: &[WriteRequest]) -> Result<Vec<Key>> {
    pending
        .iter()
        .map(|w| match (&w.put_request, &w.delete_request) {
            (Some(p), _) => key_of_attrs(schema, &p.item),
            (_, Some(d)) => key_of_attrs(schema, &d.key),
            _ => Err(Error::new(ErrorKind::Backend, "an empty write request")),
        })
        .collect()
}

impl DynamoDbBackend {
    /// Runs the requests of one call, at most `concurrency` at once; the answers in
    /// the order of the requests.
    async fn concurrently<F: Future>(&self, requests: Vec<F>) -> Vec<F::Output> {
        // (A `Vec`, not any iterator: the futures are made first, which keeps the
        // compiler's `Send` proof of the async trait methods simple.)
        stream::iter(requests)
            .buffered(self.concurrency)
            .collect()
            .await
    }

    pub(crate) async fn batch_get(
        &self,
        schema: &StoreSchema,
        keys: &[Key],
    ) -> Result<Vec<Option<RawItem>>> {
        let chunks: Vec<_> = keys
            .chunks(GET_CHUNK)
            .map(|chunk| self.get_chunk(schema, chunk))
            .collect();
        // Every chunk runs to its end, so that a failure names every key not read.
        let mut found: Vec<Attrs> = Vec::with_capacity(keys.len());
        let mut first: Option<Error> = None;
        let mut unread: Vec<Key> = Vec::new();
        for result in self.concurrently(chunks).await {
            match result {
                Ok(items) => found.extend(items),
                Err(e) => {
                    unread.extend(e.keys().iter().cloned());
                    first.get_or_insert(e);
                }
            }
        }
        if let Some(e) = first {
            return Err(Error::new(
                *e.kind(),
                format!(
                    "{} of {} keys were not read: {}",
                    unread.len(),
                    keys.len(),
                    e.message()
                ),
            )
            .with_keys(unread)
            .with_source(e));
        }
        // Put the answers back in the order asked.
        // Keys compare as values do (`1 == 1.0`), as the encoded table keys would.
        let mut by_key: HashMap<Key, Attrs> = HashMap::with_capacity(found.len());
        for attrs in found {
            by_key.insert(key_of_attrs(schema, &attrs)?, attrs);
        }
        Ok(keys
            .iter()
            .map(|k| by_key.remove(k).map(RawItem::dynamodb))
            .collect())
    }

    async fn get_chunk(&self, schema: &StoreSchema, keys: &[Key]) -> Result<Vec<Attrs>> {
        let table = self.table_name(&schema.name);
        // The keys still to read: at first those asked (borrowed), then those DynamoDB
        // left unprocessed. Each attempt builds its request from them, so that the
        // usual single attempt copies nothing.
        let mut pending: Cow<'_, [Key]> = Cow::Borrowed(keys);
        let mut items = Vec::with_capacity(keys.len());
        let mut attempt = 1;
        loop {
            let out = match self
                .backoff
                .run(true, || async {
                    let key_maps = pending
                        .iter()
                        .map(|k| key_attrs(schema, k))
                        .collect::<Result<Vec<_>>>()?;
                    let request = KeysAndAttributes::builder()
                        .set_keys(Some(key_maps))
                        .consistent_read(true)
                        .build()
                        .map_err(build_error)?;
                    self.client
                        .batch_get_item()
                        .request_items(&table, request)
                        .send()
                        .await
                        .map_err(|e| sdk_error("BatchGetItem", &table, e))
                })
                .await
            {
                Ok(out) => out,
                Err(e) => return Err(e.with_keys(pending.into_owned())),
            };
            let mut out = out;
            if let Some(found) = out.responses.as_mut().and_then(|r| r.remove(&table)) {
                items.extend(found);
            }
            let unprocessed = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(&table))
                .map(|k| k.keys)
                .unwrap_or_default();
            if unprocessed.is_empty() {
                return Ok(items);
            }
            pending = Cow::Owned(
                unprocessed
                    .iter()
                    .map(|a| key_of_attrs(schema, a))
                    .collect::<Result<Vec<_>>>()?,
            );
            if attempt >= self.backoff.attempts {
                return Err(Error::new(
                    ErrorKind::Throttled,
                    format!(
                        "DynamoDB left {} keys of table {table:?} unread after {attempt} attempts",
                        pending.len()
                    ),
                )
                .with_keys(pending.into_owned()));
            }
            tokio::time::sleep(self.backoff.delay(attempt)).await;
            attempt += 1;
        }
    }

    pub(crate) async fn batch_put(&self, schema: &StoreSchema, items: &[Item]) -> Result<()> {
        let chunks = items.chunks(WRITE_CHUNK).map(Writes::Put);
        self.write_chunks(schema, chunks, items.len()).await
    }

    pub(crate) async fn batch_delete(&self, schema: &StoreSchema, keys: &[Key]) -> Result<()> {
        let chunks = keys.chunks(WRITE_CHUNK).map(Writes::Delete);
        self.write_chunks(schema, chunks, keys.len()).await
    }

    /// Sends write requests in concurrent chunks; a chunk that fails for good makes the
    /// call fail naming every key not written (other chunks may have been written: batch
    /// writes are not atomic).
    async fn write_chunks<'a>(
        &self,
        schema: &StoreSchema,
        chunks: impl Iterator<Item = Writes<'a>>,
        total: usize,
    ) -> Result<()> {
        let requests: Vec<_> = chunks.map(|w| self.write_chunk(schema, w)).collect();
        let results = self.concurrently(requests).await;
        let mut first: Option<Error> = None;
        let mut failed: Vec<Key> = Vec::new();
        for result in results {
            if let Err(e) = result {
                failed.extend(e.keys().iter().cloned());
                first.get_or_insert(e);
            }
        }
        match first {
            None => Ok(()),
            Some(e) => {
                let n = failed.len();
                Err(Error::new(
                    *e.kind(),
                    format!("{n} of {total} writes were not done: {}", e.message()),
                )
                .with_keys(failed)
                .with_source(e))
            }
        }
    }

    /// One chunk; on failure, the error carries the keys of the chunk not written.
    async fn write_chunk(&self, schema: &StoreSchema, mut pending: Writes<'_>) -> Result<()> {
        let table = self.table_name(&schema.name);
        let mut attempt = 1;
        loop {
            let out = self
                .backoff
                .run(true, || async {
                    self.client
                        .batch_write_item()
                        .request_items(&table, pending.requests(schema)?)
                        .send()
                        .await
                        .map_err(|e| sdk_error("BatchWriteItem", &table, e))
                })
                .await;
            let out = match out {
                Ok(out) => out,
                // Name only what is still pending: earlier rounds wrote the rest.
                Err(e) => return Err(e.with_keys(pending.keys(schema)?)),
            };
            let left = out
                .unprocessed_items
                .and_then(|mut u| u.remove(&table))
                .unwrap_or_default();
            if left.is_empty() {
                return Ok(());
            }
            pending = Writes::Left(left);
            if attempt >= self.backoff.attempts {
                let left = pending.keys(schema)?;
                return Err(Error::new(
                    ErrorKind::Throttled,
                    format!(
                        "DynamoDB left {} writes to table {table:?} undone after {attempt} attempts",
                        left.len()
                    ),
                )
                .with_keys(left));
            }
            tokio::time::sleep(self.backoff.delay(attempt)).await;
            attempt += 1;
        }
    }
}

/// The writes of one chunk still to do: at first those asked (borrowed, turned into
/// requests for each attempt, so that the usual single attempt copies nothing), then the
/// requests DynamoDB left unprocessed.
enum Writes<'a> {
    Put(&'a [Item]),
    Delete(&'a [Key]),
    Left(Vec<WriteRequest>),
}

impl Writes<'_> {
    fn requests(&self, schema: &StoreSchema) -> Result<Vec<WriteRequest>> {
        match self {
            Writes::Put(items) => items
                .iter()
                .map(|item| {
                    let put = PutRequest::builder()
                        .set_item(Some(item_to_attrs(item)?))
                        .build()
                        .map_err(build_error)?;
                    Ok(WriteRequest::builder().put_request(put).build())
                })
                .collect(),
            Writes::Delete(keys) => keys
                .iter()
                .map(|k| {
                    let delete = DeleteRequest::builder()
                        .set_key(Some(key_attrs(schema, k)?))
                        .build()
                        .map_err(build_error)?;
                    Ok(WriteRequest::builder().delete_request(delete).build())
                })
                .collect(),
            Writes::Left(requests) => Ok(requests.clone()),
        }
    }

    fn keys(&self, schema: &StoreSchema) -> Result<Vec<Key>> {
        match self {
            Writes::Put(items) => items.iter().map(|i| schema.key_of(i)).collect(),
            Writes::Delete(keys) => Ok(keys.to_vec()),
            Writes::Left(requests) => pending_keys(schema, requests),
        }
    }
}
