//! Transaction reasons: what each write of a transaction would meet, judged by the
//! shared evaluator.

use crate::backend::eval::{self, WriteEffect};
use crate::backend::{Backend, Capabilities, WritePlan};
use crate::{ErrorKind, Item, Result, StoreSchema};

/// Decides every write of a transaction against the items as they are (`current`, by
/// position): each write's effect, or `TransactionCanceled` with each write's reason by
/// position if any write cannot be done. A write whose new item the backend cannot hold
/// (`caps`, where stricter than the portable limits the evaluator checks) has
/// `Validation` for its reason, as it would alone.
pub fn decide_all<'a>(
    writes: &[WritePlan<'a>],
    current: &[Option<Item>],
    caps: &Capabilities,
) -> Result<Vec<WriteEffect<'a>>> {
    let mut effects = Vec::with_capacity(writes.len());
    let mut reasons: Vec<Option<ErrorKind>> = Vec::with_capacity(writes.len());
    for (w, old) in writes.iter().zip(current) {
        let decided = eval::decide(w.schema, &w.key, &w.op, w.condition, old.as_ref())
            .and_then(|effect| declared(caps, w.schema, &effect).map(|()| effect));
        match decided {
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

/// Checks an item a write would put against what the backend declares, where that is
/// stricter than the portable limits the evaluator checked: the client checked what it
/// sent, but the item an update makes is known only here.
pub(crate) fn declared(
    caps: &Capabilities,
    schema: &StoreSchema,
    effect: &WriteEffect<'_>,
) -> Result<()> {
    match effect {
        WriteEffect::Put(new) if caps.is_stricter_than_portable() => {
            caps.check_item(new)?;
            caps.check_ordered_keys(schema, new)
        }
        _ => Ok(()),
    }
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
    Ok(
        match decide_all(writes, &current, &backend.capabilities()) {
            Ok(_) => None,
            Err(e) => match e.reasons() {
                Some(reasons) => Some(reasons.to_vec()),
                None => return Err(e),
            },
        },
    )
}
