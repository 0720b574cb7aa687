//! The versioned conditional write: read the item and its version, decide the write
//! with the shared evaluator, write only if the version is unchanged, and on a lost
//! race try again with backoff; past the budget, `Conflict`.

use std::borrow::Cow;
use std::future::Future;

use crate::backend::eval::WriteEffect;
use crate::backend::{
    Change, Expected, PlannedOp, RawItem, VersionedBackend, VersionedWrite, WritePlan, Written,
};
use crate::retry::Backoff;
use crate::{Error, ErrorKind, Item, PutMode, Result, eval};

/// Runs `attempt` until it does not lose a race: an attempt that fails with
/// `Conflict` (another writer changed what it read) is tried again after a backoff
/// delay, at most `backoff.attempts` times in all; then the last `Conflict` is returned,
/// saying that it gave up. Every other outcome is returned as it is.
pub async fn retry_conflicts<T, F, Fut>(backoff: &Backoff, mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut n = 1;
    loop {
        match attempt().await {
            Err(e) if e.is(&ErrorKind::Conflict) => {
                if n >= backoff.attempts {
                    return Err(Error::new(
                        ErrorKind::Conflict,
                        format!(
                            "{}; gave up after {n} attempts lost to concurrent writers \
                             (nothing was changed)",
                            e.message()
                        ),
                    ));
                }
                tracing::debug!(attempt = n, error = %e, "retrying after a conflict");
                tokio::time::sleep(backoff.delay(n)).await;
                n += 1;
            }
            other => return other,
        }
    }
}

/// The item read with its version, as the evaluator and the guarded write need them.
async fn read<B: VersionedBackend + ?Sized>(
    backend: &B,
    plan: &WritePlan<'_>,
) -> Result<(Option<Item>, Expected)> {
    Ok(match backend.get_versioned(plan.schema, &plan.key).await? {
        Some(v) => (Some(v.item.into_item()?), Expected::Version(v.version)),
        None => (None, Expected::Absent),
    })
}

/// One write on a [`VersionedBackend`], with the exact rules of the shared evaluator:
/// insert, conditions, every update op, delete returning the old item.
pub async fn write<B: VersionedBackend + ?Sized>(
    backend: &B,
    plan: &WritePlan<'_>,
) -> Result<Written> {
    if let (PlannedOp::Put { item, mode }, None) = (&plan.op, plan.condition)
        && *mode == PutMode::Upsert
    {
        // Nothing it could read changes what an unconditional upsert writes.
        let write = VersionedWrite::new(plan, Expected::Any, Change::Put(item));
        backend.write_if_version(&write).await?;
        return Ok(Written::default());
    }
    retry_conflicts(&backend.conflict_backoff(), || async {
        let (old, expected) = read(backend, plan).await?;
        let effect = eval::decide(
            plan.schema,
            &plan.key,
            &plan.op,
            plan.condition,
            old.as_ref(),
        )?;
        super::txn::declared(&backend.capabilities(), plan.schema, &effect)?;
        let change = match &effect {
            WriteEffect::Put(new) => Change::Put(new),
            WriteEffect::Delete => Change::Delete,
            // A delete of a missing item: the read decided it.
            WriteEffect::Nothing => {
                return Ok(Written {
                    old: old.map(RawItem::from),
                    new: None,
                });
            }
        };
        let done = backend
            .write_if_version(&VersionedWrite::new(plan, expected, change))
            .await?;
        if !done {
            return Err(super::outcome::conflict(&plan.describe()));
        }
        Ok(Written {
            old: old.map(RawItem::from),
            // An update's new item (a put's is the caller's own).
            new: match effect {
                WriteEffect::Put(Cow::Owned(new)) => Some(RawItem::from(new)),
                _ => None,
            },
        })
    })
    .await
}

/// A transaction on a [`VersionedBackend`] with a versioned multi-write: every item is
/// read with its version, every write decided by the shared evaluator (reasons by
/// position if any cannot be done), and all written only if no version changed; a lost
/// race is tried again, and past the budget is `Conflict`.
pub async fn transact<B: VersionedBackend + ?Sized>(
    backend: &B,
    writes: &[WritePlan<'_>],
) -> Result<()> {
    retry_conflicts(&backend.conflict_backoff(), || async {
        let mut current = Vec::with_capacity(writes.len());
        let mut expected = Vec::with_capacity(writes.len());
        for w in writes {
            let (old, version) = read(backend, w).await?;
            current.push(old);
            expected.push(version);
        }
        let effects = super::decide_all(writes, &current, &backend.capabilities())?;
        let versioned: Vec<VersionedWrite<'_>> = writes
            .iter()
            .zip(expected)
            .zip(&effects)
            .map(|((w, expected), effect)| {
                let change = match effect {
                    WriteEffect::Put(new) => Change::Put(new),
                    WriteEffect::Delete => Change::Delete,
                    // Its condition held on this version: it must still be the one.
                    WriteEffect::Nothing => Change::Keep,
                };
                VersionedWrite::new(w, expected, change)
            })
            .collect();
        if backend.write_all_if_versions(&versioned).await? {
            Ok(())
        } else {
            Err(super::outcome::conflict("an item of the transaction"))
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn conflicts_are_retried_within_the_budget_then_reported() {
        let backoff = Backoff {
            attempts: 3,
            base: Duration::from_millis(1),
            max: Duration::from_millis(2),
        };
        let mut calls = 0;
        let r: Result<()> = retry_conflicts(&backoff, || {
            calls += 1;
            std::future::ready(Err(super::super::outcome::conflict("s/k")))
        })
        .await;
        let e = r.unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Conflict);
        assert!(e.message().contains("gave up after 3 attempts"), "{e}");
        assert_eq!(calls, 3);
        let mut calls = 0;
        let r = retry_conflicts(&backoff, || {
            calls += 1;
            std::future::ready(if calls < 3 {
                Err(super::super::outcome::conflict("s/k"))
            } else {
                Ok(calls)
            })
        })
        .await;
        assert_eq!(r.unwrap(), 3);
        let mut calls = 0;
        let r: Result<()> = retry_conflicts(&backoff, || {
            calls += 1;
            std::future::ready(Err(Error::validation("bad")))
        })
        .await;
        assert_eq!(r.unwrap_err().kind(), &ErrorKind::Validation);
        assert_eq!(calls, 1, "only a conflict is tried again");
    }
}
