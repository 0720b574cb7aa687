//! Writes: one document under a precondition (`Commit`), and many without (`BatchWrite`).

use firestore::gcloud_sdk::google::firestore::v1::{
    BatchWriteRequest, CommitRequest, Document, DocumentMask, Precondition, Write, precondition,
    write,
};
use firestore::gcloud_sdk::tonic::{Code, Status};

use super::error::{lost_race, status_error};
use super::value::encode_document;
use super::{Engine, timestamp_of};
use crate::backend::emulate::batch::{BatchRunner, Pending, Round};
use crate::backend::{Change, Expected, VersionedWrite};
use crate::{Error, Item, Key, Result, StoreSchema};

/// The most writes in one `BatchWrite` request (Firestore takes 500).
const WRITE_CHUNK: usize = 100;

/// A write of `fields` replacing the whole document `name`.
fn replace(name: String, fields: super::value::Fields) -> write::Operation {
    write::Operation::Update(Document {
        name,
        fields,
        create_time: None,
        update_time: None,
    })
}

impl Engine {
    /// The Firestore write that does `w`, guarded by its expectation; `None` where
    /// there is nothing to do or check.
    pub(super) fn write_of(&self, w: &VersionedWrite<'_>) -> Result<Option<Write>> {
        let name = self.document_name(w.schema, w.key);
        let guard = |c| {
            Some(Precondition {
                condition_type: Some(c),
            })
        };
        let current_document = match &w.expected {
            Expected::Any => None,
            Expected::Absent => guard(precondition::ConditionType::Exists(false)),
            Expected::Version(v) => {
                guard(precondition::ConditionType::UpdateTime(timestamp_of(v)?))
            }
        };
        let (operation, update_mask) = match (w.change, &w.expected) {
            (Change::Put(item), _) => (replace(name, encode_document(w.schema, item)?), None),
            (Change::Delete, _) => (write::Operation::Delete(name), None),
            (Change::Keep, Expected::Any) => return Ok(None),
            // Still absent: deleting a missing document changes nothing, and the
            // precondition fails if one appeared.
            (Change::Keep, Expected::Absent) => (write::Operation::Delete(name), None),
            // Still at its version: an update of no field changes nothing (the update
            // time stays), and the precondition fails if the document changed.
            (Change::Keep, Expected::Version(_)) => (
                replace(name, Default::default()),
                Some(DocumentMask {
                    field_paths: Vec::new(),
                }),
            ),
        };
        Ok(Some(Write {
            operation: Some(operation),
            update_mask,
            current_document,
            ..Default::default()
        }))
    }

    /// Commits `writes` atomically: `true` if done, `false` if a precondition failed
    /// (another writer came first; nothing changed). An ambiguous failure is tried
    /// again only for `idempotent` writes. The first attempt sends `writes` as they
    /// are; an attempt after a failure sends what `again` makes (the same writes, made
    /// again from their source), so that no copy is made for a retry that rarely
    /// comes. `what` names the target in an error.
    pub(super) async fn commit(
        &self,
        writes: Vec<Write>,
        again: impl Fn() -> Result<Vec<Write>>,
        idempotent: bool,
        what: impl Fn() -> String,
    ) -> Result<bool> {
        if writes.is_empty() {
            return Ok(true);
        }
        let (again, what) = (&again, &what);
        let mut first = Some(writes);
        self.backoff
            .run(idempotent, || {
                let writes = first.take().map_or_else(again, Ok);
                async move {
                    let request = CommitRequest {
                        database: self.database(),
                        writes: writes?,
                        ..Default::default()
                    };
                    match self.client().commit(request).await {
                        Ok(_) => Ok(true),
                        Err(s) if lost_race(&s) => Ok(false),
                        Err(s) => Err(status_error("Commit", &what(), s)),
                    }
                }
            })
            .await
    }

    /// One versioned write.
    pub(super) async fn commit_one(&self, w: &VersionedWrite<'_>) -> Result<bool> {
        let Some(write) = self.write_of(w)? else {
            return Ok(true);
        };
        let again = || Ok(self.write_of(w)?.into_iter().collect());
        // An unguarded write does the same whenever it lands; a guarded one that may
        // have landed would fail its guard when sent again, and the kit would apply the
        // update twice (an ADD, APPEND or PREPEND): it is reported instead.
        let idempotent = w.expected == Expected::Any;
        let what = || format!("{}/{}", w.schema.name, w.key);
        self.commit(vec![write], again, idempotent, what).await
    }

    /// `upsert_many` on `BatchWrite`: every item is encoded first (nothing is sent if
    /// one cannot be), then written in concurrent chunks.
    pub(super) async fn batch_upsert(&self, schema: &StoreSchema, items: &[Item]) -> Result<()> {
        let mut writes = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let key = schema.key_of(item)?;
            let fields =
                encode_document(schema, item).map_err(|e| e.context(format_args!("item {i}")))?;
            let name = self.document_name(schema, &key);
            writes.push((
                key,
                Write {
                    operation: Some(replace(name, fields)),
                    ..Default::default()
                },
            ));
        }
        self.batch_write(schema, &writes, "written").await
    }

    /// `delete_many` on `BatchWrite`, in concurrent chunks.
    pub(super) async fn batch_delete(&self, schema: &StoreSchema, keys: &[Key]) -> Result<()> {
        let writes: Vec<(Key, Write)> = keys
            .iter()
            .map(|k| {
                let write = Write {
                    operation: Some(write::Operation::Delete(self.document_name(schema, k))),
                    ..Default::default()
                };
                (k.clone(), write)
            })
            .collect();
        self.batch_write(schema, &writes, "deleted").await
    }

    async fn batch_write(
        &self,
        schema: &StoreSchema,
        writes: &[(Key, Write)],
        what: &str,
    ) -> Result<()> {
        let runner = BatchRunner {
            chunk: WRITE_CHUNK,
            concurrency: self.concurrency,
            backoff: self.backoff,
        };
        let collection = self.collection(schema);
        runner
            .run(
                writes,
                what,
                |p: &Pending<'_, (Key, Write), (Key, Write)>| {
                    Ok(match p {
                        Pending::Asked(a) => a.iter().map(|(k, _)| k.clone()).collect(),
                        Pending::Left(l) => l.iter().map(|(k, _)| k.clone()).collect(),
                    })
                },
                |p| {
                    let chunk: Vec<(Key, Write)> = match p {
                        Pending::Asked(a) => a.to_vec(),
                        Pending::Left(l) => l.clone(),
                    };
                    self.write_chunk(chunk, &collection)
                },
            )
            .await?;
        Ok(())
    }

    /// One `BatchWrite`: what Firestore did not do for a passing reason (contention,
    /// load) is left to be sent again; any other refusal fails the chunk.
    async fn write_chunk(
        &self,
        chunk: Vec<(Key, Write)>,
        collection: &str,
    ) -> Result<Round<(), (Key, Write)>> {
        let request = BatchWriteRequest {
            database: self.database(),
            writes: chunk.iter().map(|(_, w)| w.clone()).collect(),
            ..Default::default()
        };
        let answer = self
            .client()
            .batch_write(request)
            .await
            .map_err(|s| status_error("BatchWrite", collection, s))?
            .into_inner();
        let mut left = Vec::new();
        let mut refused: Vec<Key> = Vec::new();
        let mut failed: Option<Error> = None;
        for (i, entry) in chunk.into_iter().enumerate() {
            // A write the answer says nothing of is sent again (it is idempotent).
            let code = answer
                .status
                .get(i)
                .map_or(Code::Unavailable, |s| Code::from_i32(s.code));
            match code {
                Code::Ok => {}
                Code::Aborted
                | Code::Unavailable
                | Code::ResourceExhausted
                | Code::DeadlineExceeded
                | Code::Internal => left.push(entry),
                _ => {
                    let message = answer.status.get(i).map(|s| s.message.clone());
                    let e = status_error(
                        "BatchWrite",
                        collection,
                        Status::new(code, message.unwrap_or_default()),
                    );
                    refused.push(entry.0);
                    failed.get_or_insert(e);
                }
            }
        }
        match failed {
            // The others of the chunk were done: BatchWrite is not atomic. What was
            // left for another round is not done either.
            Some(e) => {
                refused.extend(left.into_iter().map(|(k, _)| k));
                Err(e.with_keys(refused))
            }
            None => Ok(Round {
                done: Vec::new(),
                left,
            }),
        }
    }
}
