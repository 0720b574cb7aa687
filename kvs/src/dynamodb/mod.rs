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
//! the backend kit ([`backend`](crate::backend)): exact page
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

use crate::backend::emulate::batch::DEFAULT_CONCURRENCY;
use crate::backend::{
    Backend, Capabilities, QueryPlan, RawItem, RawPage, ScanPlan, WritePlan, Written,
};
use crate::retry::Backoff;
use crate::{Error, Item, Key, Result, StoreSchema};

pub use table::{check_table_name, create_table_input};

/// The DynamoDB backend: a client, a table-name prefix, and the retry policy.
#[derive(Clone, Debug)]
pub struct DynamoDbBackend {
    client: Client,
    prefix: String,
    backoff: Backoff,
    conflicts: Backoff,
    poll: Duration,
    create_timeout: Duration,
    concurrency: usize,
}

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
            conflicts: Backoff::conflicts(),
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
    ///
    /// Without an access key id and a secret key this is `Unauthenticated`, before
    /// anything is sent.
    pub fn from_env() -> Result<Self> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// [`DynamoDbBackend::from_env`] with the variables looked up by `lookup` rather than
    /// in the process environment: for a program that takes the same settings from
    /// elsewhere (a command line, a config file) and falls back to the environment
    /// itself. `lookup` is asked for `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL`,
    /// `AWS_REGION`, `AWS_DEFAULT_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    /// `AWS_SESSION_TOKEN` and `KVS_TABLE_PREFIX`; an empty value counts as unset.
    ///
    /// ```
    /// use kvs::dynamodb::DynamoDbBackend;
    ///
    /// let backend = DynamoDbBackend::from_vars(|name| match name {
    ///     "AWS_ENDPOINT_URL" => Some("http://127.0.0.1:8000".into()),
    ///     "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" => Some("x".into()),
    ///     "KVS_TABLE_PREFIX" => Some("dev-".into()),
    ///     _ => None,
    /// })?;
    /// assert_eq!(backend.table_name("orders"), "dev-orders");
    /// # Ok::<(), kvs::Error>(())
    /// ```
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
        let var = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let region = var("AWS_REGION")
            .or_else(|| var("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| "us-east-1".to_owned());
        let (Some(key), Some(secret)) = (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY"))
        else {
            return Err(Error::new(
                crate::ErrorKind::Unauthenticated,
                "DynamoDB from the environment needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY \
                 (both set and non-empty); for profiles, SSO or instance roles, build a client \
                 with aws-config and use DynamoDbBackend::new",
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

    /// Replaces the retry policy (attempts, backoff) of failures that changed nothing
    /// (throttling, refused connections).
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Replaces the retry policy of writes that lost a race with another writer
    /// (default [`Backoff::conflicts`]); past it, `Conflict`.
    pub fn with_conflict_backoff(mut self, backoff: Backoff) -> Self {
        self.conflicts = backoff;
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

    /// The table-name prefix (empty if none).
    pub fn table_prefix(&self) -> &str {
        &self.prefix
    }

    /// The schema of `store` as its table describes it (`DescribeTable` and
    /// `DescribeTimeToLive`): the table's keys, one index per GSI, and the TTL attribute
    /// if TTL is on. `None` if the table does not exist. Register it with
    /// [`Kvs::register_store`](crate::Kvs::register_store) to use a table made elsewhere
    /// without knowing its schema in advance.
    ///
    /// DynamoDB keeps the key attributes' types, so the schema is the one `ensure_store`
    /// created the table from, but for what DynamoDB does not keep: an index declared
    /// with projections other than the whole item reads as any other index.
    pub async fn store_schema(&self, store: &str) -> Result<Option<StoreSchema>> {
        table::describe_store(&self.client, &self.table_name(store), store).await
    }

    /// The schemas of every store under the table prefix (`ListTables`, then
    /// [`store_schema`](Self::store_schema) of each table whose name starts with the
    /// prefix), sorted by name. With an empty prefix, every table of the account and
    /// region is a store.
    pub async fn store_schemas(&self) -> Result<Vec<StoreSchema>> {
        let mut out = Vec::new();
        for table in table::list_tables(&self.client, &self.prefix).await? {
            let store = &table[self.prefix.len()..];
            if store.is_empty() {
                continue;
            }
            // A table deleted between the listing and its description is left out.
            if let Some(schema) = table::describe_store(&self.client, &table, store).await? {
                out.push(schema);
            }
        }
        Ok(out)
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
            ..Capabilities::default()
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
        self.batch_get(schema, keys, None).await
    }

    async fn get_projected(
        &self,
        schema: &StoreSchema,
        key: &Key,
        attributes: &[&str],
    ) -> Result<Option<RawItem>> {
        let found = self
            .get_projected_raw(schema, key, Some(attributes))
            .await?;
        Ok(found.map(RawItem::dynamodb))
    }

    async fn get_many_projected(
        &self,
        schema: &StoreSchema,
        keys: &[Key],
        attributes: &[&str],
    ) -> Result<Vec<Option<RawItem>>> {
        self.batch_get(schema, keys, Some(attributes)).await
    }

    async fn write(&self, plan: &WritePlan<'_>) -> Result<Written> {
        self.write_item(plan).await
    }

    async fn query(&self, plan: &QueryPlan<'_>) -> Result<RawPage> {
        self.query_page(plan).await
    }

    async fn scan(&self, plan: &ScanPlan<'_>) -> Result<RawPage> {
        self.scan_page(plan).await
    }

    async fn count_query(&self, plan: &QueryPlan<'_>) -> Result<u64> {
        self.count_query_items(plan).await
    }

    async fn count_scan(&self, plan: &ScanPlan<'_>) -> Result<u64> {
        self.count_scan_items(plan).await
    }

    async fn transact(&self, writes: &[WritePlan<'_>]) -> Result<()> {
        self.transact_writes(writes).await
    }

    async fn upsert_many(&self, schema: &StoreSchema, items: &[Item]) -> Result<()> {
        self.batch_put(schema, items).await
    }

    async fn delete_many(&self, schema: &StoreSchema, keys: &[Key]) -> Result<()> {
        self.batch_delete(schema, keys).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ErrorKind, Kvs};

    /// `from_vars` on these variables only.
    fn from(vars: &[(&str, &str)]) -> Result<DynamoDbBackend> {
        DynamoDbBackend::from_vars(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn from_env_without_credentials_is_unauthenticated() {
        let endpoint = ("AWS_ENDPOINT_URL", "http://127.0.0.1:1");
        for vars in [
            vec![endpoint],
            vec![endpoint, ("AWS_ACCESS_KEY_ID", "AKID")],
            vec![endpoint, ("AWS_SECRET_ACCESS_KEY", "secret")],
            vec![
                endpoint,
                ("AWS_ACCESS_KEY_ID", ""),
                ("AWS_SECRET_ACCESS_KEY", "secret"),
            ],
        ] {
            let err = from(&vars).expect_err("no credentials");
            assert_eq!(err.kind(), &ErrorKind::Unauthenticated, "{vars:?}: {err}");
            assert!(err.message().contains("AWS_ACCESS_KEY_ID"), "{err}");
        }
        let backend = from(&[
            endpoint,
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("KVS_TABLE_PREFIX", "test-"),
        ])
        .expect("credentials and a local endpoint");
        assert_eq!(backend.table_name("orders"), "test-orders");
    }

    /// A credentials provider that finds none, as the default chain does on a machine
    /// with no profile, no variables and no instance role.
    #[derive(Debug)]
    struct NoCredentials;

    impl aws_sdk_dynamodb::config::ProvideCredentials for NoCredentials {
        fn provide_credentials<'a>(
            &'a self,
        ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            aws_credential_types::provider::future::ProvideCredentials::ready(Err(
                aws_credential_types::provider::error::CredentialsError::not_loaded(
                    "no profile, no variables, no instance role",
                ),
            ))
        }
    }

    #[tokio::test]
    async fn a_provider_without_credentials_is_unauthenticated() {
        use aws_sdk_dynamodb::config::{BehaviorVersion, Region};
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            // Nothing listens there: the request must fail before it is sent.
            .endpoint_url("http://127.0.0.1:1")
            .region(Region::new("us-east-1"))
            .credentials_provider(NoCredentials)
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        let kvs = Kvs::new(DynamoDbBackend::new(&Client::from_conf(config)));
        kvs.register_store(StoreSchema::new("items", crate::KeyAttr::string("id")))
            .unwrap();
        let err = kvs.get("items", "a").await.unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Unauthenticated, "{err}");
        assert!(err.message().contains("credentials"), "{err}");
    }
}
