//! Batches: `BatchGetItem` in chunks of 100 and `BatchWriteItem` in chunks of 25, run by
//! the kit's [`BatchRunner`] (chunks concurrent, unprocessed keys retried with backoff
//! and jitter, keys still unprocessed after the retries reported as `Throttled`, never
//! as missing).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, KeysAndAttributes, PutRequest, WriteRequest,
};

use super::DynamoDbBackend;
use super::convert::{from_attr, item_to_attrs, key_attrs};
use super::error::sdk_error;
use crate::backend::RawItem;
use crate::backend::emulate::batch::in_order;
use crate::backend::emulate::{BatchRunner, Pending, Round};
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

/// The key of a write request.
fn key_of_request(schema: &StoreSchema, w: &WriteRequest) -> Result<Key> {
    match (&w.put_request, &w.delete_request) {
        (Some(p), _) => key_of_attrs(schema, &p.item),
        (_, Some(d)) => key_of_attrs(schema, &d.key),
        _ => Err(Error::new(ErrorKind::Backend, "an empty write request")),
    }
}

fn put_request(item: &Item) -> Result<WriteRequest> {
    let put = PutRequest::builder()
        .set_item(Some(item_to_attrs(item)?))
        .build()
        .map_err(build_error)?;
    Ok(WriteRequest::builder().put_request(put).build())
}

fn delete_request(schema: &StoreSchema, key: &Key) -> Result<WriteRequest> {
    let delete = DeleteRequest::builder()
        .set_key(Some(key_attrs(schema, key)?))
        .build()
        .map_err(build_error)?;
    Ok(WriteRequest::builder().delete_request(delete).build())
}

impl DynamoDbBackend {
    fn runner(&self, chunk: usize) -> BatchRunner {
        BatchRunner {
            chunk,
            concurrency: self.concurrency,
            backoff: self.backoff,
        }
    }

    pub(crate) async fn batch_get(
        &self,
        schema: &StoreSchema,
        keys: &[Key],
        attributes: Option<&[&str]>,
    ) -> Result<Vec<Option<RawItem>>> {
        let table = self.table_name(&schema.name);
        let table = table.as_str();
        let mut expr = super::expr::Expr::default();
        let projection = super::read::projection(&mut expr, attributes.map(<[&str]>::to_vec));
        let (names, _) = expr.into_maps();
        let (projection, names) = (&projection, &names);
        let found = self
            .runner(GET_CHUNK)
            .run(
                keys,
                "read",
                |p: &Pending<'_, Key, Key>| {
                    Ok(match p {
                        Pending::Asked(asked) => asked.to_vec(),
                        Pending::Left(left) => left.clone(),
                    })
                },
                |p| {
                    // Built for each attempt from what is pending (borrowed at first), so
                    // that the usual single attempt copies nothing.
                    let pending: &[Key] = match p {
                        Pending::Asked(asked) => asked,
                        Pending::Left(left) => left,
                    };
                    let request = pending
                        .iter()
                        .map(|k| key_attrs(schema, k))
                        .collect::<Result<Vec<_>>>()
                        .and_then(|key_maps| {
                            KeysAndAttributes::builder()
                                .set_keys(Some(key_maps))
                                .set_projection_expression(projection.clone())
                                .set_expression_attribute_names(names.clone())
                                .consistent_read(true)
                                .build()
                                .map_err(build_error)
                        });
                    async move {
                        let mut out = self
                            .client
                            .batch_get_item()
                            .request_items(table, request?)
                            .send()
                            .await
                            .map_err(|e| sdk_error("BatchGetItem", table, e))?;
                        let done = out
                            .responses
                            .as_mut()
                            .and_then(|r| r.remove(table))
                            .unwrap_or_default()
                            .into_iter()
                            .map(|attrs| Ok((key_of_attrs(schema, &attrs)?, attrs)))
                            .collect::<Result<Vec<_>>>()?;
                        let left = out
                            .unprocessed_keys
                            .and_then(|mut u| u.remove(table))
                            .map(|k| k.keys)
                            .unwrap_or_default()
                            .iter()
                            .map(|a| key_of_attrs(schema, a))
                            .collect::<Result<Vec<_>>>()?;
                        Ok(Round { done, left })
                    }
                },
            )
            .await?;
        Ok(in_order(keys, found)
            .into_iter()
            .map(|found| found.map(RawItem::dynamodb))
            .collect())
    }

    pub(crate) async fn batch_put(&self, schema: &StoreSchema, items: &[Item]) -> Result<()> {
        self.write_batch(schema, items, put_request, |i| schema.key_of(i))
            .await
    }

    pub(crate) async fn batch_delete(&self, schema: &StoreSchema, keys: &[Key]) -> Result<()> {
        self.write_batch(
            schema,
            keys,
            |k| delete_request(schema, k),
            |k| Ok(k.clone()),
        )
        .await
    }

    /// `BatchWriteItem` in chunks; a chunk that fails for good makes the call fail
    /// naming every key not written (other chunks may have been written: batch writes
    /// are not atomic).
    async fn write_batch<I>(
        &self,
        schema: &StoreSchema,
        inputs: &[I],
        request: impl Fn(&I) -> Result<WriteRequest>,
        key_of: impl Fn(&I) -> Result<Key>,
    ) -> Result<()> {
        let table = self.table_name(&schema.name);
        let table = table.as_str();
        let (request, key_of) = (&request, &key_of);
        self.runner(WRITE_CHUNK)
            .run(
                inputs,
                "written",
                |p: &Pending<'_, I, WriteRequest>| match p {
                    Pending::Asked(asked) => asked.iter().map(key_of).collect(),
                    Pending::Left(left) => left.iter().map(|w| key_of_request(schema, w)).collect(),
                },
                |p| {
                    // Built for each attempt from the inputs (borrowed), so that the usual
                    // single attempt copies nothing; what DynamoDB left is sent as it was.
                    let requests: Result<Vec<WriteRequest>> = match p {
                        Pending::Asked(asked) => asked.iter().map(request).collect(),
                        Pending::Left(left) => Ok(left.clone()),
                    };
                    async move {
                        let out = self
                            .client
                            .batch_write_item()
                            .request_items(table, requests?)
                            .send()
                            .await
                            .map_err(|e| sdk_error("BatchWriteItem", table, e))?;
                        let left = out
                            .unprocessed_items
                            .and_then(|mut u| u.remove(table))
                            .unwrap_or_default();
                        Ok(Round::<(), _> {
                            done: Vec::new(),
                            left,
                        })
                    }
                },
            )
            .await?;
        Ok(())
    }
}
