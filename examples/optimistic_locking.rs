//! The seed's `updateWithOptimisticLock`: read an item and its version, then update it
//! only if the version is still the one read (`.when(version == read)`), SETting
//! version + 1. A writer that changed the item in between makes the update fail with
//! `ConditionFailed` and change nothing; the caller reads again and retries.
//!
//! Run it with `cargo run --example optimistic_locking`.

use kvs::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(KeyValueStore, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
#[kvs(store = "items", partition_key = item_id)]
pub struct Doc {
    item_id: String,
    /// Changed by read-modify-write: there is no atomic "append a line to a string".
    text: String,
    version: i64,
}

/// The seed's CONCURRENT_MODIFICATION, or a store error.
#[derive(Debug)]
enum LockError {
    ConcurrentModification,
    Store(kvs::Error),
}

/// One attempt: read, compute the new text, write it only if nobody wrote in between.
/// `meanwhile` runs between the read and the write, to stage a concurrent writer.
async fn update_with_optimistic_lock(
    docs: &Store<Doc>,
    item_id: &str,
    edit: impl Fn(&str) -> String,
    meanwhile: impl AsyncFnOnce(),
) -> Result<Doc, LockError> {
    let f = Doc::fields();
    let doc = docs.get(item_id).await.map_err(LockError::Store)?;
    let doc = doc.ok_or_else(|| LockError::Store(kvs::Error::new(ErrorKind::NotFound, item_id)))?;
    meanwhile().await;
    docs.update(item_id)
        .set(f.text(), edit(&doc.text))
        .set(f.version(), doc.version + 1)
        .when(f.version().eq(doc.version))
        .await
        .map_err(|e| match e.kind() {
            ErrorKind::ConditionFailed => LockError::ConcurrentModification,
            _ => LockError::Store(e),
        })
}

/// Retries the read-modify-write until it goes through (at most `attempts` times).
/// Returns the new item and how many attempts it took.
async fn update_with_retries(
    docs: &Store<Doc>,
    item_id: &str,
    edit: impl Fn(&str) -> String,
    attempts: u32,
) -> Result<(Doc, u32)> {
    for attempt in 1..=attempts {
        match update_with_optimistic_lock(docs, item_id, &edit, async || {}).await {
            Ok(doc) => return Ok((doc, attempt)),
            // Someone wrote in between: read again. (A real service would back off here.)
            Err(LockError::ConcurrentModification) => tokio::task::yield_now().await,
            Err(LockError::Store(e)) => return Err(e),
        }
    }
    Err(kvs::Error::new(
        ErrorKind::ConditionFailed,
        format!("{item_id}: still contended after {attempts} attempts"),
    ))
}

fn add_line(line: &str) -> impl Fn(&str) -> String {
    move |text: &str| format!("{text}{line}\n")
}

#[tokio::main]
async fn main() -> kvs::Result<()> {
    // The embedded store in kvs-data/optimistic_locking.redb, or the backend KVS_BACKEND names.
    let kvs = kvs_examples::open("optimistic_locking").await?;
    let docs = kvs.store::<Doc>();
    docs.ensure().await?;
    kvs_examples::empty(&docs).await?;
    docs.insert(&Doc {
        item_id: "doc-1".into(),
        text: String::new(),
        version: 0,
    })
    .await?;

    // No one else writes: version 0 -> 1.
    let doc = update_with_optimistic_lock(&docs, "doc-1", add_line("first"), async || {})
        .await
        .expect("no contention");
    println!(
        "update at version 0 -> version {}, text {:?}",
        doc.version, doc.text
    );
    assert_eq!(doc.version, 1);

    // A concurrent writer (Bob) updates doc-1 after Alice read version 1 and before she
    // writes: Alice's write is refused, and Bob's change is kept.
    let bob = async || {
        let f = Doc::fields();
        let bob = docs
            .update("doc-1")
            .set(f.text(), "first\nbob\n")
            .set(f.version(), 2)
            .when(f.version().eq(1))
            .await
            .expect("bob writes first");
        println!("  (meanwhile bob wrote version {})", bob.version);
    };
    let alice = update_with_optimistic_lock(&docs, "doc-1", add_line("alice"), bob).await;
    println!("alice's update at version 1 -> {alice:?}");
    assert!(matches!(alice, Err(LockError::ConcurrentModification)));
    let doc = docs.get("doc-1").await?.expect("doc-1 exists");
    println!("stored: version {}, text {:?}", doc.version, doc.text);
    assert_eq!((doc.version, doc.text.as_str()), (2, "first\nbob\n"));

    // Alice retries: she reads version 2 and her write goes through.
    let (doc, attempts) = update_with_retries(&docs, "doc-1", add_line("alice"), 5).await?;
    println!(
        "alice retried: version {} after {attempts} attempt(s), text {:?}",
        doc.version, doc.text
    );
    assert_eq!((doc.version, doc.text.as_str()), (3, "first\nbob\nalice\n"));

    // Eight writers at once, each retrying until its line is in: no line is lost.
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let docs = docs.clone();
            tokio::spawn(async move {
                update_with_retries(&docs, "doc-1", add_line(&format!("writer {i}")), 100).await
            })
        })
        .collect();
    let mut attempts = 0;
    for task in tasks {
        attempts += task.await.expect("the task ran")?.1;
    }
    let doc = docs.get("doc-1").await?.expect("doc-1 exists");
    println!(
        "8 concurrent writers: {attempts} attempts in all, final version {}",
        doc.version
    );
    assert_eq!(doc.version, 3 + 8);
    for i in 0..8 {
        assert!(
            doc.text.contains(&format!("writer {i}\n")),
            "writer {i}'s line is in"
        );
    }
    assert_eq!(doc.text.lines().count(), 3 + 8);
    Ok(())
}
