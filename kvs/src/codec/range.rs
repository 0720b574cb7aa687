//! Key ranges of queries over the order-preserving key encoding.

use std::ops::Bound;

use crate::SortCondition;
use crate::codec::{encode_key_value, prefix_successor};

/// A range of encoded keys. `Unbounded` on the upper side means "to the end".
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyRange {
    pub lower: Bound<Vec<u8>>,
    pub upper: Bound<Vec<u8>>,
}

/// As an upper bound: before everything that starts with `prefix` is passed.
fn upper_after(prefix: &[u8]) -> Bound<Vec<u8>> {
    prefix_successor(prefix).map_or(Bound::Unbounded, Bound::Excluded)
}

/// As a lower bound: after everything that starts with `prefix`. (A prefix of all `0xFF`
/// has nothing after it; key encodings never are one, as they start with a type tag.)
fn lower_after(prefix: &[u8]) -> Bound<Vec<u8>> {
    prefix_successor(prefix).map_or(
        Bound::Excluded(vec![0xFF; prefix.len() + 1]),
        Bound::Included,
    )
}

impl KeyRange {
    /// Every key that starts with `prefix` (one partition: encodings are prefix-free).
    pub(crate) fn prefix(prefix: &[u8]) -> Self {
        KeyRange {
            lower: Bound::Included(prefix.to_vec()),
            upper: upper_after(prefix),
        }
    }

    /// The keys of partition `partition` (already encoded) whose next component meets the
    /// sort condition. Because every encoded value is self-delimiting, "starts with
    /// `partition ‖ v`" is exactly "the sort component equals `v`".
    pub(crate) fn partition(partition: &[u8], sort: Option<&SortCondition>) -> Self {
        let with = |v: &crate::Value| {
            let mut k = partition.to_vec();
            encode_key_value(v, &mut k);
            k
        };
        let whole = Self::prefix(partition);
        let Some(sort) = sort else {
            return whole;
        };
        match sort {
            SortCondition::Eq(v) => Self::prefix(&with(v)),
            SortCondition::Lt(v) => KeyRange {
                lower: whole.lower,
                upper: Bound::Excluded(with(v)),
            },
            SortCondition::Le(v) => KeyRange {
                lower: whole.lower,
                upper: upper_after(&with(v)),
            },
            SortCondition::Gt(v) => KeyRange {
                lower: lower_after(&with(v)),
                upper: whole.upper,
            },
            SortCondition::Ge(v) => KeyRange {
                lower: Bound::Included(with(v)),
                upper: whole.upper,
            },
            SortCondition::Between(a, b) => KeyRange {
                lower: Bound::Included(with(a)),
                upper: upper_after(&with(b)),
            },
            SortCondition::BeginsWith(p) => {
                let mut k = partition.to_vec();
                crate::codec::encode_prefix(p, &mut k);
                Self::prefix(&k)
            }
        }
    }

    /// Narrows the range to what comes strictly after `cursor` in the reading direction.
    pub(crate) fn after(mut self, cursor: Vec<u8>, descending: bool) -> Self {
        if descending {
            let tighter = match &self.upper {
                Bound::Unbounded => true,
                Bound::Included(u) | Bound::Excluded(u) => cursor <= *u,
            };
            if tighter {
                self.upper = Bound::Excluded(cursor);
            }
        } else {
            let tighter = match &self.lower {
                Bound::Unbounded => true,
                Bound::Included(l) | Bound::Excluded(l) => cursor >= *l,
            };
            if tighter {
                self.lower = Bound::Excluded(cursor);
            }
        }
        self
    }

    /// Whether no key can be in the range.
    pub(crate) fn is_empty(&self) -> bool {
        match (&self.lower, &self.upper) {
            (Bound::Unbounded, _) | (_, Bound::Unbounded) => false,
            (Bound::Included(l), Bound::Included(u)) => l > u,
            (Bound::Included(l), Bound::Excluded(u))
            | (Bound::Excluded(l), Bound::Included(u))
            | (Bound::Excluded(l), Bound::Excluded(u)) => l >= u,
        }
    }

    pub(crate) fn bounds(&self) -> (Bound<&[u8]>, Bound<&[u8]>) {
        (as_slice(&self.lower), as_slice(&self.upper))
    }
}

fn as_slice(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match b {
        Bound::Included(v) => Bound::Included(v.as_slice()),
        Bound::Excluded(v) => Bound::Excluded(v.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}
