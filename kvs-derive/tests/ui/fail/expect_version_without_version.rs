use kvs::KeyValueStore;
use serde::{Deserialize, Serialize};

#[derive(KeyValueStore, Serialize, Deserialize)]
#[kvs(store = "docs", partition_key = id)]
struct Doc {
    id: String,
    version: u64,
}

// `expect_version` is for a model with a `#[kvs(version)]` field.
async fn stale(store: kvs::Store<Doc>) {
    let _ = store.update("d-1").expect_version(3).await;
}

fn main() {}
