//! What every example shares: the store it runs on, chosen by `KVS_BACKEND`, and a way to
//! start each of its stores from nothing.
//!
//! - unset (or `local`): a fresh file `kvs-data/<example>.redb`, the embedded default;
//! - `dynamodb` (feature `dynamodb`): `DynamoDbBackend::from_env` (the usual AWS
//!   variables, `AWS_ENDPOINT_URL` for a local server), tables prefixed `KVS_TABLE_PREFIX`
//!   or else `kvs-<example>-`;
//! - `firestore` (feature `firestore`): `FirestoreBackend::from_env`
//!   (`FIRESTORE_EMULATOR_HOST` for the emulator, `GOOGLE_CLOUD_PROJECT`), collections
//!   prefixed `KVS_COLLECTION_PREFIX` or else `kvs-<example>-`.
//!
//! On a cloud backend an example empties its stores as it starts ([`empty`]), so that
//! every run prints the same; point it at an emulator or a scratch project, never at data
//! you keep.

use futures::TryStreamExt;
use kvs::typed::{Model, Store};
use kvs::{Error, Kvs, Result};

/// The store the example `name` runs on, as `KVS_BACKEND` says (see the crate docs).
pub async fn open(name: &str) -> Result<Kvs> {
    match std::env::var("KVS_BACKEND").as_deref() {
        Ok("dynamodb") => dynamodb(name),
        Ok("firestore") => firestore(name).await,
        Ok("local") | Ok("") | Err(_) => {
            // A fresh store file each run, so the output is the same every time.
            let path = std::path::PathBuf::from(format!("kvs-data/{name}.redb"));
            let _ = std::fs::remove_file(&path);
            Kvs::open(&path)
        }
        Ok(other) => Err(Error::validation(format!(
            "KVS_BACKEND={other:?} is none of local, dynamodb, firestore"
        ))),
    }
}

/// Deletes every item of a store, so that the example starts from nothing on a server
/// that keeps what an earlier run wrote.
pub async fn empty<M: Model>(store: &Store<M>) -> Result<()> {
    let all: Vec<M> = store.scan().stream().try_collect().await?;
    if all.is_empty() {
        return Ok(());
    }
    store.delete_many(all.iter().map(|m| m.key())).await
}

/// The prefix of the example's tables or collections: the variable `var` if set, else
/// `kvs-<name>-`, never the unprefixed names of a real account.
#[cfg(any(feature = "dynamodb", feature = "firestore"))]
fn prefix(var: &str, name: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| format!("kvs-{}-", name.replace('_', "-")))
}

#[cfg(feature = "dynamodb")]
fn dynamodb(name: &str) -> Result<Kvs> {
    let backend = kvs::dynamodb::DynamoDbBackend::from_env()?
        .with_table_prefix(prefix("KVS_TABLE_PREFIX", name));
    println!("on DynamoDB (tables {}*)", backend.table_name(""));
    Ok(Kvs::new(backend))
}

/// Without the feature, this build has no DynamoDB backend: say how to get one rather
/// than quietly running on the local store.
#[cfg(not(feature = "dynamodb"))]
fn dynamodb(name: &str) -> Result<Kvs> {
    Err(Error::unsupported(format!(
        "KVS_BACKEND=dynamodb needs the DynamoDB backend: \
         cargo run --example {name} --features dynamodb"
    )))
}

#[cfg(feature = "firestore")]
async fn firestore(name: &str) -> Result<Kvs> {
    let backend = kvs::firestore::FirestoreBackend::from_env()
        .await?
        .with_collection_prefix(prefix("KVS_COLLECTION_PREFIX", name))?;
    println!("on Firestore (collections {}*)", backend.collection(""));
    Ok(Kvs::new(backend))
}

/// Without the feature, this build has no Firestore backend: say how to get one.
#[cfg(not(feature = "firestore"))]
async fn firestore(name: &str) -> Result<Kvs> {
    Err(Error::unsupported(format!(
        "KVS_BACKEND=firestore needs the Firestore backend: \
         cargo run --example {name} --features firestore"
    )))
}
