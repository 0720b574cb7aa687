//! The DynamoDB backend, on `aws-sdk-dynamodb` (feature `dynamodb`).
//!
//! ```no_run
//! # async fn run() -> kvs::Result<()> {
//! use kvs::dynamodb::DynamoDbBackend;
//!
//! // From your own client (aws-config, your region, your credentials)...
//! # let client: aws_sdk_dynamodb::Client = todo!();
//! let kvs = kvs::Kvs::new(DynamoDbBackend::new(&client).with_table_prefix("prod-"));
//! // ...or from AWS_ENDPOINT_URL / AWS_REGION / AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
//! let kvs = kvs::Kvs::new(DynamoDbBackend::from_env()?);
//! # Ok(()) }
//! ```
//!
//! Every operation of the contract is native where DynamoDB can do it: expressions with
//! a placeholder for every name and value, conditions checked with the write,
//! `TransactWriteItems` with per-write reasons, `BatchGetItem` / `BatchWriteItem` in
//! concurrent chunks with unprocessed keys retried. What DynamoDB cannot do is done by
//! the shared code of [`backend`](crate::backend) and [`eval`](crate::eval): exact page
//! sizes (its `Limit` counts items read), DELETE of elements from a list and ADD of a
//! float (read, compute, write under a condition that the value did not change, retried
//! on conflict), and the existence condition that makes an update of a missing item
//! `NotFound`. Reads of a secondary index are eventually consistent (GSIs cannot be read
//! consistently; asking is `Validation`).
//!
//! The SDK's own retries are turned off: kvs retries what the service says changed
//! nothing (throttling, a refused connection) with backoff and jitter, and never resends
//! a non-idempotent write after an ambiguous failure (reported as `Unavailable`).

mod batch;
pub(crate) mod convert;
mod error;
mod expr;
mod read;
mod table;
mod write;

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::RetryConfig;

use crate::backend::{Backend, Capabilities, PlannedWrite, QueryPlan, RawItem, RawPage, ScanPlan};
use crate::retry::Backoff;
use crate::{Condition, Error, Item, Key, PutMode, Result, StoreSchema, UpdateOp};

pub use table::{check_table_name, create_table_input};

/// The DynamoDB backend: a client, a table-name prefix, and the retry policy.
#[derive(Clone, Debug)]
pub struct DynamoDbBackend {
    client: Client,
    prefix: String,
    backoff: Backoff,
    poll: Duration,
    create_timeout: Duration,
    concurrency: usize,
}

/// How many requests of one batch call are in flight at once, by default: enough for
/// a 1,000-key `get_many` (10 chunks) to go at once, without a 100,000-key call opening
/// a thousand connections.
const DEFAULT_CONCURRENCY: usize = 16;

impl DynamoDbBackend {
    /// A backend on a copy of `client`'s configuration with the SDK's own retries turned
    /// off (kvs retries, knowing which writes are safe to resend).
    pub fn new(client: &Client) -> Self {
        let config = client
            .config()
            .to_builder()
            .retry_config(RetryConfig::disabled())
            .build();
        DynamoDbBackend {
            client: Client::from_conf(config),
            prefix: String::new(),
            backoff: Backoff::default(),
            poll: Duration::from_millis(100),
            create_timeout: Duration::from_secs(600),
            concurrency: DEFAULT_CONCURRENCY,
        }
    }

    /// A backend configured from the environment: `AWS_ENDPOINT_URL_DYNAMODB` or
    /// `AWS_ENDPOINT_URL` (optional), `AWS_REGION` or `AWS_DEFAULT_REGION` (default
    /// `us-east-1`), `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
    /// and `KVS_TABLE_PREFIX`. Without the feature `dynamodb-tls` only `http://`
    /// endpoints (local servers) can be reached; for profiles, SSO or instance roles,
    /// build a client with `aws-config` and use [`DynamoDbBackend::new`].
    pub fn from_env() -> Result<Self> {
        use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let region = var("AWS_REGION")
            .or_else(|| var("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| "us-east-1".to_owned());
        let (Some(key), Some(secret)) = (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY"))
        else {
            return Err(Error::new(
                crate::ErrorKind::Unavailable,
                "DynamoDB from the environment needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
            ));
        };
        let mut builder = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region))
            .credentials_provider(Credentials::new(
                key,
                secret,
                var("AWS_SESSION_TOKEN"),
                None,
                "kvs-env",
            ))
            .retry_config(RetryConfig::disabled());
        let endpoint = var("AWS_ENDPOINT_URL_DYNAMODB").or_else(|| var("AWS_ENDPOINT_URL"));
        #[cfg(not(feature = "dynamodb-tls"))]
        {
            // Without TLS only a plain-HTTP endpoint (a local server) can be reached: say
            // so now, not as a connection error at the first request.
            if !endpoint
                .as_deref()
                .is_some_and(|e| e.starts_with("http://"))
            {
                return Err(Error::new(
                    crate::ErrorKind::Unsupported,
                    format!(
                        "DynamoDB at {} needs TLS: enable the kvs feature `dynamodb-tls` \
                         (or set AWS_ENDPOINT_URL to a local http:// server)",
                        endpoint.as_deref().unwrap_or("its AWS endpoint")
                    ),
                ));
            }
            builder = builder.http_client(aws_smithy_http_client::Builder::new().build_http());
        }
        if let Some(endpoint) = endpoint {
            builder = builder.endpoint_url(endpoint);
        }
        let backend = DynamoDbBackend::new(&Client::from_conf(builder.build()));
        Ok(match var("KVS_TABLE_PREFIX") {
            Some(prefix) => backend.with_table_prefix(prefix),
            None => backend,
        })
    }

    /// Prefixes every table name (`"prod-"` + `"orders"`), so that environments can
    /// share an account.
    pub fn with_table_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// At most `n` requests of one `get_many`, `upsert_many` or `delete_many` in flight
    /// at once (chunks of 100 keys or 25 writes; default 16; at least 1).
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Replaces the retry policy (attempts, backoff).
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// The table that holds `store`.
    pub fn table_name(&self, store: &str) -> String {
        format!("{}{store}", self.prefix)
    }

    /// The client underneath (SDK retries off).
    pub fn client(&self) -> &Client {
        &self.client
    }
}

#[async_trait]
impl Backend for DynamoDbBackend {
    fn name(&self) -> &'static str {
        "dynamodb"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            float_range: Some((convert::MIN_MAGNITUDE, convert::MAX_MAGNITUDE)),
            // DynamoDB has one number type and normalizes `1.0` to `1`, `-0.0` to `0`.
            keeps_number_kind: false,
            keeps_negative_zero: false,
            // Global secondary indexes are eventually consistent.
            consistent_index_reads: false,
            // DynamoDB's numbers are decimals of 38 digits.
            exact_decimals: true,
        }
    }

    async fn ensure_store(&self, schema: &StoreSchema) -> Result<()> {
        let table = self.table_name(&schema.name);
        table::ensure(&self.client, &table, schema, self.poll, self.create_timeout).await
    }

    async fn get(&self, schema: &StoreSchema, key: &Key) -> Result<Option<RawItem>> {
        Ok(self.get_raw(schema, key).await?.map(RawItem::dynamodb))
    }

    async fn get_many(&self, schema: &StoreSchema, keys: &[Key]) -> Result<Vec<Option<RawItem>>> {
        self.batch_get(schema, keys).await
    }

    async fn put(
        &self,
        schema: &StoreSchema,
        item: &Item,
        mode: PutMode,
        condition: Option<&Condition>,
    ) -> Result<()> {
        self.put_item(schema, item, mode, condition).await
    }

    async fn update(
        &self,
        schema: &StoreSchema,
        key: &Key,
        ops: &[UpdateOp],
        condition: Option<&Condition>,
    ) -> Result<RawItem> {
        self.update_item(schema, key, ops, condition).await
    }

    async fn delete(
        &self,
        schema: &StoreSchema,
        key: &Key,
        condition: Option<&Condition>,
    ) -> Result<Option<Item>> {
        self.delete_item(schema, key, condition).await
    }

    async fn query(&self, plan: &QueryPlan<'_>) -> Result<RawPage> {
        self.query_page(plan).await
    }

    async fn scan(&self, plan: &ScanPlan<'_>) -> Result<RawPage> {
        self.scan_page(plan).await
    }

    async fn transact(&self, writes: &[PlannedWrite<'_>]) -> Result<()> {
        self.transact_writes(writes).await
    }

    async fn put_many(&self, schema: &StoreSchema, items: &[Item]) -> Result<()> {
        self.batch_put(schema, items).await
    }

    async fn delete_many(&self, schema: &StoreSchema, keys: &[Key]) -> Result<()> {
        self.batch_delete(schema, keys).await
    }
}
