//! The batch runner: a call's inputs cut into chunks of the backend's request size, the
//! chunks run concurrently (a bounded number at once), what a request leaves
//! unprocessed retried with backoff and jitter, and keys still unprocessed after the
//! retries reported as `Throttled` by key, never dropped and never read as missing.

use std::collections::HashMap;
use std::future::Future;

use futures::{StreamExt as _, stream};

use crate::backend::{Backend, PlannedOp, RawItem, WritePlan};
use crate::retry::Backoff;
use crate::{Error, ErrorKind, Item, Key, PutMode, Result, StoreSchema};

/// How a batch is cut and run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchRunner {
    /// The most inputs in one request.
    pub chunk: usize,
    /// The most requests in flight at once.
    pub concurrency: usize,
    /// How often and how patiently to retry a request that failed or left inputs
    /// unprocessed.
    pub backoff: Backoff,
}

/// How many requests of one batch call are in flight at once, by default: enough for a
/// 1,000-key `get_many` in chunks of 100 (DynamoDB's) to go at once, or single reads to
/// go quickly, without a 100,000-key call opening a thousand connections.
pub const DEFAULT_CONCURRENCY: usize = 16;

impl Default for BatchRunner {
    /// One input per request, [`DEFAULT_CONCURRENCY`] at once, retried with the default
    /// [`Backoff`] (for single operations, [`singles`](Self::singles)).
    fn default() -> Self {
        BatchRunner {
            chunk: 1,
            concurrency: DEFAULT_CONCURRENCY,
            backoff: Backoff::default(),
        }
    }
}

impl BatchRunner {
    /// Single operations of the backend, [`DEFAULT_CONCURRENCY`] at once, each tried
    /// once here: a single operation already retries as the backend's policy says, and
    /// trying it again here would multiply its attempts (8 rounds of a read that
    /// retries 4 times is 32 reads of one throttled key).
    pub fn singles() -> Self {
        BatchRunner {
            backoff: Backoff {
                attempts: 1,
                ..Backoff::default()
            },
            ..BatchRunner::default()
        }
    }
}

/// The inputs one request is to do: at first those the caller asked (borrowed, so that
/// the usual single attempt copies nothing), then, in the backend's own form, what an
/// earlier round left unprocessed.
#[derive(Debug)]
pub enum Pending<'a, I, R> {
    /// Inputs as asked.
    Asked(&'a [I]),
    /// What the service left unprocessed.
    Left(Vec<R>),
}

/// What one request did: its answers, and what it left unprocessed (to be sent again).
#[derive(Debug)]
pub struct Round<A, R> {
    /// The answers (found items, for a read).
    pub done: Vec<A>,
    /// What the service did not process.
    pub left: Vec<R>,
}

impl<A, R> Round<A, R> {
    /// Everything done.
    pub fn all(done: Vec<A>) -> Self {
        Round {
            done,
            left: Vec::new(),
        }
    }
}

impl BatchRunner {
    /// Runs `call` over `inputs` in chunks. `call` sends one request for what is
    /// pending; a failure it returns is retried where the error allows it
    /// ([`Backoff::run`]), what it leaves is sent again after a delay. `keys` names the
    /// keys of what is pending, for errors, unless the failure names the keys not done
    /// itself (a call whose request was partly done).
    ///
    /// Every chunk runs to its end, so that a failure names every key not done (other
    /// chunks may have been done: a batch is not atomic). `what` says what was not done
    /// ("read", "written"). The answers come in no particular order.
    pub async fn run<'a, I, R, A, F, Fut, K>(
        &self,
        inputs: &'a [I],
        what: &str,
        keys: K,
        call: F,
    ) -> Result<Vec<A>>
    where
        F: Fn(&Pending<'a, I, R>) -> Fut,
        Fut: Future<Output = Result<Round<A, R>>>,
        K: Fn(&Pending<'a, I, R>) -> Result<Vec<Key>>,
    {
        let (call, keys) = (&call, &keys);
        // (A `Vec` of futures, not any iterator: made first, which keeps the compiler's
        // `Send` proof of the async trait methods that call this simple.)
        let chunks: Vec<_> = inputs
            .chunks(self.chunk.max(1))
            .map(|chunk| self.run_chunk(Pending::Asked(chunk), what, keys, call))
            .collect();
        let mut answers = Vec::with_capacity(inputs.len());
        let mut first: Option<Error> = None;
        let mut failed: Vec<Key> = Vec::new();
        let results: Vec<_> = stream::iter(chunks)
            .buffered(self.concurrency.max(1))
            .collect()
            .await;
        for result in results {
            match result {
                Ok(done) => answers.extend(done),
                Err(e) => {
                    failed.extend(e.keys().iter().cloned());
                    first.get_or_insert(e);
                }
            }
        }
        match first {
            None => Ok(answers),
            Some(e) => Err(Error::new(
                *e.kind(),
                format!(
                    "{} of {} were not {what}: {}",
                    failed.len(),
                    inputs.len(),
                    e.message()
                ),
            )
            .with_keys(failed)
            .with_source(e)),
        }
    }

    /// One chunk; on failure, the error names the keys of the chunk not done.
    async fn run_chunk<'a, I, R, A, F, Fut, K>(
        &self,
        mut pending: Pending<'a, I, R>,
        what: &str,
        keys: &K,
        call: &F,
    ) -> Result<Vec<A>>
    where
        F: Fn(&Pending<'a, I, R>) -> Fut,
        Fut: Future<Output = Result<Round<A, R>>>,
        K: Fn(&Pending<'a, I, R>) -> Result<Vec<Key>>,
    {
        let mut done = Vec::new();
        let mut attempt = 1;
        loop {
            let round = match self.backoff.run(true, || call(&pending)).await {
                Ok(round) => round,
                // A call that knows which of its writes were done (a non-atomic batch
                // whose answer is per write) names the others itself.
                Err(e) if !e.keys().is_empty() => return Err(e),
                // Otherwise name what is still pending: earlier rounds did the rest.
                Err(e) => return Err(e.with_keys(keys(&pending)?)),
            };
            done.extend(round.done);
            if round.left.is_empty() {
                return Ok(done);
            }
            pending = Pending::Left(round.left);
            if attempt >= self.backoff.attempts {
                let left = keys(&pending)?;
                return Err(Error::new(
                    ErrorKind::Throttled,
                    format!(
                        "{} were left unprocessed (not {what}) after {attempt} attempts",
                        left.len()
                    ),
                )
                .with_keys(left));
            }
            tokio::time::sleep(self.backoff.delay(attempt)).await;
            attempt += 1;
        }
    }
}

/// Puts found items back in the order of `keys`: one answer per key, `None` where
/// nothing was found. Keys compare as values do (`1 == 1.0`).
pub fn in_order<A>(keys: &[Key], found: Vec<(Key, A)>) -> Vec<Option<A>> {
    let mut by_key: HashMap<Key, A> = found.into_iter().collect();
    keys.iter().map(|k| by_key.remove(k)).collect()
}

/// `get_many` over single reads, run by [`BatchRunner::singles`].
pub async fn get_each<B: Backend + ?Sized>(
    backend: &B,
    schema: &StoreSchema,
    keys: &[Key],
) -> Result<Vec<Option<RawItem>>> {
    get_each_projected(backend, schema, keys, None).await
}

/// `get_many` (of only `attributes`, with `Some`) over single reads
/// ([`Backend::get_projected`] or [`Backend::get`]), run by [`BatchRunner::singles`].
pub async fn get_each_projected<B: Backend + ?Sized>(
    backend: &B,
    schema: &StoreSchema,
    keys: &[Key],
    attributes: Option<&[&str]>,
) -> Result<Vec<Option<RawItem>>> {
    let found = BatchRunner::singles()
        .run(
            keys,
            "read",
            |p: &Pending<'_, Key, Key>| pending_keys(p, |k| Ok(k.clone())),
            |p| {
                let key = first_pending(p).cloned();
                async move {
                    let key = key?;
                    let item = match attributes {
                        Some(attributes) => backend.get_projected(schema, &key, attributes).await?,
                        None => backend.get(schema, &key).await?,
                    };
                    Ok(Round::all(vec![(key, item)]))
                }
            },
        )
        .await?;
    Ok(in_order(keys, found)
        .into_iter()
        .map(Option::flatten)
        .collect())
}

/// `upsert_many` over single upserts, run by [`BatchRunner::singles`].
pub async fn upsert_each<B: Backend + ?Sized>(
    backend: &B,
    schema: &StoreSchema,
    items: &[Item],
) -> Result<()> {
    BatchRunner::singles()
        .run(
            items,
            "written",
            |p: &Pending<'_, Item, Item>| pending_keys(p, |i| schema.key_of(i)),
            |p| {
                let item = first_pending(p).cloned();
                async move {
                    let item = item?;
                    let op = PlannedOp::Put {
                        item: &item,
                        mode: PutMode::Upsert,
                    };
                    let plan = WritePlan::new(schema, schema.key_of(&item)?, op, None);
                    backend.write(&plan).await?;
                    Ok(Round::<(), Item>::all(Vec::new()))
                }
            },
        )
        .await?;
    Ok(())
}

/// `delete_many` over single deletes, run by [`BatchRunner::singles`].
pub async fn delete_each<B: Backend + ?Sized>(
    backend: &B,
    schema: &StoreSchema,
    keys: &[Key],
) -> Result<()> {
    BatchRunner::singles()
        .run(
            keys,
            "deleted",
            |p: &Pending<'_, Key, Key>| pending_keys(p, |k| Ok(k.clone())),
            |p| {
                let key = first_pending(p).cloned();
                async move {
                    let plan = WritePlan::new(schema, key?, PlannedOp::Delete, None);
                    backend.write(&plan).await?;
                    Ok(Round::<(), Key>::all(Vec::new()))
                }
            },
        )
        .await?;
    Ok(())
}

/// The one input of a single-operation chunk.
fn first_pending<'p, T>(pending: &'p Pending<'_, T, T>) -> Result<&'p T> {
    let first = match pending {
        Pending::Asked(asked) => asked.first(),
        Pending::Left(left) => left.first(),
    };
    first.ok_or_else(|| Error::new(ErrorKind::Backend, "an empty batch request"))
}

fn pending_keys<T>(
    pending: &Pending<'_, T, T>,
    key_of: impl Fn(&T) -> Result<Key>,
) -> Result<Vec<Key>> {
    match pending {
        Pending::Asked(asked) => asked.iter().map(key_of).collect(),
        Pending::Left(left) => left.iter().map(key_of).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::Duration;

    fn runner(attempts: u32) -> BatchRunner {
        BatchRunner {
            chunk: 3,
            concurrency: 2,
            backoff: Backoff {
                attempts,
                base: Duration::from_millis(1),
                max: Duration::from_millis(2),
            },
        }
    }

    fn keys(p: &Pending<'_, i64, i64>) -> Result<Vec<Key>> {
        pending_keys(p, |n| Ok(Key::new(*n)))
    }

    /// A service that leaves the last input of every request unprocessed the first
    /// time it sees it: everything is still done, each input once.
    #[tokio::test(start_paused = true)]
    async fn what_is_left_is_sent_again_until_done() {
        let seen = Mutex::new(Vec::new());
        let inputs: Vec<i64> = (0..10).collect();
        let mut done = runner(8)
            .run(&inputs, "done", keys, |p| {
                let mut batch: Vec<i64> = match p {
                    Pending::Asked(a) => a.to_vec(),
                    Pending::Left(l) => l.clone(),
                };
                let mut seen = seen.lock().unwrap();
                let left = match batch.last() {
                    Some(&last) if !seen.contains(&last) => {
                        seen.push(last);
                        batch.pop().into_iter().collect()
                    }
                    _ => Vec::new(),
                };
                std::future::ready(Ok(Round { done: batch, left }))
            })
            .await
            .unwrap();
        done.sort();
        assert_eq!(done, inputs);
    }

    /// Left unprocessed every time: `Throttled` after the attempts, naming exactly the
    /// keys not done; the rest is done.
    #[tokio::test(start_paused = true)]
    async fn what_stays_unprocessed_is_throttled_by_key() {
        let inputs: Vec<i64> = (0..7).collect();
        let err = runner(3)
            .run(&inputs, "done", keys, |p| {
                let batch: Vec<i64> = match p {
                    Pending::Asked(a) => a.to_vec(),
                    Pending::Left(l) => l.clone(),
                };
                let (left, done): (Vec<i64>, Vec<i64>) =
                    batch.into_iter().partition(|n| n % 3 == 0);
                std::future::ready(Ok(Round { done, left }))
            })
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Throttled, "{err}");
        let mut named: Vec<Key> = err.keys().to_vec();
        named.sort_by_key(|k| k.to_string());
        assert_eq!(named, vec![Key::new(0), Key::new(3), Key::new(6)]);
        assert!(err.message().starts_with("3 of 7 were not done"), "{err}");
    }

    #[test]
    fn answers_go_back_in_the_order_asked() {
        let keys = [Key::new(1), Key::new("b"), Key::new(2)];
        let found = vec![(Key::new(2), "two"), (Key::new(1.0), "one")];
        assert_eq!(in_order(&keys, found), vec![Some("one"), None, Some("two")]);
    }
}
