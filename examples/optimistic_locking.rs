//! The seed's `updateWithOptimisticLock`, with a version attribute: the model marks its
//! `version` field `#[kvs(version)]`, and every typed write of it is optimistic. An
//! upsert of a document read earlier goes through only if nobody wrote it since (the
//! stored version is still the one read) and stores the next version; a writer that
//! changed the item in between makes it fail with `ConditionFailed`, changing nothing,
//! and the caller reads again and retries. No hand-written condition or `+ 1`.
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
    /// Written by kvs: 1 on insert, one more on every write.
    #[kvs(version)]
    version: u64,
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
    let doc = docs.get(item_id).await.map_err(LockError::Store)?;
    let mut doc =
        doc.ok_or_else(|| LockError::Store(kvs::Error::new(ErrorKind::NotFound, item_id)))?;
    meanwhile().await;
    doc.text = edit(&doc.text);
    // Checks that the stored version is still `doc.version`, and writes the next one.
    docs.upsert(&doc).await.map_err(|e| match e.kind() {
        ErrorKind::ConditionFailed => LockError::ConcurrentModification,
        _ => LockError::Store(e),
    })?;
    doc.version += 1;
    Ok(doc)
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
    // Whatever version the struct holds, an insert writes version 1.
    docs.insert(&Doc {
        item_id: "doc-1".into(),
        text: String::new(),
        version: 0,
    })
    .await?;

    // No one else writes: version 1 -> 2.
    let doc = update_with_optimistic_lock(&docs, "doc-1", add_line("first"), async || {})
        .await
        .expect("no contention");
    println!(
        "update at version 1 -> version {}, text {:?}",
        doc.version, doc.text
    );
    assert_eq!(doc.version, 2);

    // A concurrent writer (Bob) updates doc-1 after Alice read version 2 and before she
    // writes: Alice's write is refused, and Bob's change is kept. Bob uses a typed
    // update, which adds 1 to the version too, and checks the one he expects.
    let bob = async || {
        let f = Doc::fields();
        let bob = docs
            .update("doc-1")
            .set(f.text(), "first\nbob\n")
            .expect_version(2)
            .await
            .expect("bob writes first");
        println!("  (meanwhile bob wrote version {})", bob.version);
    };
    let alice = update_with_optimistic_lock(&docs, "doc-1", add_line("alice"), bob).await;
    println!("alice's update at version 2 -> {alice:?}");
    assert!(matches!(alice, Err(LockError::ConcurrentModification)));
    let doc = docs.get("doc-1").await?.expect("doc-1 exists");
    println!("stored: version {}, text {:?}", doc.version, doc.text);
    assert_eq!((doc.version, doc.text.as_str()), (3, "first\nbob\n"));

    // Alice retries: she reads version 3 and her write goes through.
    let (doc, attempts) = update_with_retries(&docs, "doc-1", add_line("alice"), 5).await?;
    println!(
        "alice retried: version {} after {attempts} attempt(s), text {:?}",
        doc.version, doc.text
    );
    assert_eq!((doc.version, doc.text.as_str()), (4, "first\nbob\nalice\n"));

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
    assert_eq!(doc.version, 4 + 8);
    for i in 0..8 {
        assert!(
            doc.text.contains(&format!("writer {i}\n")),
            "writer {i}'s line is in"
        );
    }
    assert_eq!(doc.text.lines().count(), 3 + 8);
    Ok(())
}
