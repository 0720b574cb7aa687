//! What every example shares: the store it runs on, chosen by `KVS_BACKEND`, and a way to
//! start each of its stores from nothing.
//!
//! - unset (or `local`): a fresh file `kvs-data/<example>.redb`, the embedded default;
//! - `dynamodb` (feature `dynamodb`): `DynamoDbBackend::from_env` (the usual AWS
//!   variables, `AWS_ENDPOINT_URL` for a local server), tables prefixed `KVS_TABLE_PREFIX`
//!   or else `kvs-<example>-`;
//! - `firestore` (feature `firestore`): `FirestoreBackend::from_env`
//!   (`FIRESTORE_EMULATOR_HOST` for the emulator, `GOOGLE_CLOUD_PROJECT`), collections
//!   prefixed `KVS_COLLECTION_PREFIX` or else `kvs-<example>-`;
//! - `cosmos` (feature `cosmos`): `CosmosBackend::from_env` (`AZURE_COSMOS_ENDPOINT`,
//!   `AZURE_COSMOS_KEY`, `KVS_COSMOS_DATABASE`, by default `kvs`), containers prefixed
//!   `KVS_CONTAINER_PREFIX` or else `kvs-<example>-`.
//!
//! Cosmos DB's transactions hold the writes of one store within one partition key value
//! (`Capabilities::transactions` is `TransactionScope::OnePartition`): there, the two
//! examples with a transaction across partitions (`quickstart`, `transfer`) show it
//! refused as `Unsupported`, then do the same within one partition.
//!
//! On a cloud backend an example empties its stores as it starts ([`empty`]), so that
//! every run prints the same; point it at an emulator or a scratch project, never at data
//! you keep.

use futures::TryStreamExt;
use kvs::typed::{Model, Store};
use kvs::{Error, Item, Kvs, Options, Result};

/// The store the example `name` runs on, as `KVS_BACKEND` says (see the crate docs).
pub async fn open(name: &str) -> Result<Kvs> {
    open_with(name, Options::new()).await
}

/// [`open`], with `options` (a page token key, say).
pub async fn open_with(name: &str, options: Options) -> Result<Kvs> {
    match std::env::var("KVS_BACKEND").as_deref() {
        Ok("dynamodb") => dynamodb(name, options),
        Ok("firestore") => firestore(name, options).await,
        Ok("cosmos") => cosmos(name, options).await,
        Ok("local") | Ok("") | Err(_) => {
            // A fresh store file each run, so the output is the same every time.
            let path = std::path::PathBuf::from(format!("kvs-data/{name}.redb"));
            let _ = std::fs::remove_file(&path);
            Kvs::open_with(&path, options)
        }
        Ok(other) => Err(Error::validation(format!(
            "KVS_BACKEND={other:?} is none of local, dynamodb, firestore, cosmos"
        ))),
    }
}

/// Deletes every item of a store, so that the example starts from nothing on a server
/// that keeps what an earlier run wrote. It reads the items untyped, so that it also
/// empties a store that holds items of several models (`M` is any of them).
pub async fn empty<M: Model>(store: &Store<M>) -> Result<()> {
    let (kvs, schema) = (store.kvs(), store.schema());
    let all: Vec<Item> = kvs.scan(store.name()).stream().try_collect().await?;
    if all.is_empty() {
        return Ok(());
    }
    let keys = all.iter().map(|item| schema.key_of(item));
    kvs.delete_many(store.name(), keys.collect::<Result<Vec<_>>>()?)
        .await
}

/// The prefix of the example's tables, collections or containers: the variable `var` if
/// set, else `kvs-<name>-`, never the unprefixed names of a real account.
#[cfg(any(feature = "dynamodb", feature = "firestore", feature = "cosmos"))]
fn prefix(var: &str, name: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| format!("kvs-{}-", name.replace('_', "-")))
}

#[cfg(feature = "dynamodb")]
fn dynamodb(name: &str, options: Options) -> Result<Kvs> {
    let backend = kvs::dynamodb::DynamoDbBackend::from_env()?
        .with_table_prefix(prefix("KVS_TABLE_PREFIX", name));
    println!("on DynamoDB (tables {}*)", backend.table_name(""));
    Kvs::builder(backend).options(options).build()
}

/// Without the feature, this build has no DynamoDB backend: say how to get one rather
/// than quietly running on the local store.
#[cfg(not(feature = "dynamodb"))]
fn dynamodb(name: &str, _options: Options) -> Result<Kvs> {
    Err(Error::unsupported(format!(
        "KVS_BACKEND=dynamodb needs the DynamoDB backend: \
         cargo run --example {name} --features dynamodb"
    )))
}

#[cfg(feature = "firestore")]
async fn firestore(name: &str, options: Options) -> Result<Kvs> {
    let backend = kvs::firestore::FirestoreBackend::from_env()
        .await?
        .with_collection_prefix(prefix("KVS_COLLECTION_PREFIX", name))?;
    println!("on Firestore (collections {}*)", backend.collection(""));
    Kvs::builder(backend).options(options).build()
}

/// Without the feature, this build has no Firestore backend: say how to get one.
#[cfg(not(feature = "firestore"))]
async fn firestore(name: &str, _options: Options) -> Result<Kvs> {
    Err(Error::unsupported(format!(
        "KVS_BACKEND=firestore needs the Firestore backend: \
         cargo run --example {name} --features firestore"
    )))
}

#[cfg(feature = "cosmos")]
async fn cosmos(name: &str, options: Options) -> Result<Kvs> {
    let prefix = prefix("KVS_CONTAINER_PREFIX", name);
    let backend = kvs::cosmos::CosmosBackend::from_env()
        .await?
        .with_container_prefix(&prefix)?;
    println!(
        "on Cosmos DB (database {}, containers {prefix}*)",
        backend.database()
    );
    Kvs::builder(backend).options(options).build()
}

/// Without the feature, this build has no Cosmos DB backend: say how to get one.
#[cfg(not(feature = "cosmos"))]
async fn cosmos(name: &str, _options: Options) -> Result<Kvs> {
    Err(Error::unsupported(format!(
        "KVS_BACKEND=cosmos needs the Cosmos DB backend: \
         cargo run --example {name} --features cosmos"
    )))
}
