//! Conformance cases: stores, keys and key validation.

use super::{expect_kind, fresh_store};
use crate::{ErrorKind, Item, KeyAttr, Kvs, StoreSchema, item};

/// A simple store keyed by the string attribute `id`.
async fn users(kvs: &Kvs) -> String {
    fresh_store(kvs, StoreSchema::new("users", KeyAttr::string("id"))).await
}

/// An upserted item reads back equal, and a missing key reads as `None`.
pub async fn key_put_then_get(kvs: Kvs) {
    let store = users(&kvs).await;
    let it: Item = item! { "id" => "u-1", "name" => "Ada" };
    kvs.upsert(&store, it.clone()).await.unwrap();
    assert_eq!(kvs.get(&store, "u-1").await.unwrap(), Some(it));
    assert_eq!(kvs.get(&store, "u-2").await.unwrap(), None);
}

/// An empty string is not a key value: `Validation`, and nothing is written.
pub async fn key_empty_string_rejected(kvs: Kvs) {
    let store = users(&kvs).await;
    expect_kind(
        kvs.upsert(&store, item! { "id" => "", "name" => "x" })
            .await,
        ErrorKind::Validation,
    );
    let page = kvs.scan(&store).await.unwrap();
    assert!(page.items.is_empty());
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases_keys {
    ($cb:path, $make:path) => {
        $cb!($make, keys::key_put_then_get);
        $cb!($make, keys::key_empty_string_rejected);
    };
}
