//! Transaction reasons: what each write of a transaction would meet, judged by the
//! shared evaluator.

use crate::backend::eval::{self, WriteEffect};
use crate::backend::{Backend, WritePlan};
use crate::{ErrorKind, Item, Result};

/// Decides every write of a transaction against the items as they are (`current`, by
/// position): each write's effect, or `TransactionCanceled` with each write's reason by
/// position if any write cannot be done.
pub fn decide_all<'a>(
    writes: &[WritePlan<'a>],
    current: &[Option<Item>],
) -> Result<Vec<WriteEffect<'a>>> {
    let mut effects = Vec::with_capacity(writes.len());
    let mut reasons: Vec<Option<ErrorKind>> = Vec::with_capacity(writes.len());
    for (w, old) in writes.iter().zip(current) {
        match eval::decide(w.schema, &w.key, &w.op, w.condition, old.as_ref()) {
            Ok(effect) => {
                reasons.push(None);
                effects.push(effect);
            }
            Err(e) => reasons.push(Some(*e.kind())),
        }
    }
    if reasons.iter().any(Option::is_some) {
        return Err(super::outcome::transaction_canceled(reasons));
    }
    Ok(effects)
}

/// Each write's reason, judged on the items as they are now (read one by one); `None`
/// if every write looks possible. For a backend whose service refused a transaction
/// without saying why for each write.
pub async fn reasons_by_reading<B: Backend + ?Sized>(
    backend: &B,
    writes: &[WritePlan<'_>],
) -> Result<Option<Vec<Option<ErrorKind>>>> {
    let mut current = Vec::with_capacity(writes.len());
    for w in writes {
        current.push(
            backend
                .get(w.schema, &w.key)
                .await?
                .map(|raw| raw.into_item())
                .transpose()?,
        );
    }
    Ok(match decide_all(writes, &current) {
        Ok(_) => None,
        Err(e) => match e.reasons() {
            Some(reasons) => Some(reasons.to_vec()),
            None => return Err(e),
        },
    })
}
