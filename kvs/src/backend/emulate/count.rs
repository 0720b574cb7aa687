//! Counting by reading: what a backend without a native count (or with a filter it
//! cannot evaluate itself) does for `count`. Pages of the query or scan are read with a
//! projection of the keys alone (plus what the filter reads), so that a backend with
//! native projections reads and sends as little as it can, and the matches counted.

use super::super::{Backend, QueryPlan, RawPage, ScanPlan, VersionedBackend};
use crate::page::cursor_of;
use crate::{Item, Result};

/// How many items one page of a count reads (the default page).
const COUNT_PAGE: usize = crate::limits::DEFAULT_PAGE_LIMIT;

/// The projection of a count: nothing beyond what every read holds (the keys, and what
/// the filter reads).
const KEYS_ONLY: &[&str] = &[];

/// The number of items the query matches, read page by page through
/// [`Backend::query`].
pub async fn query<B: Backend + ?Sized>(backend: &B, plan: &QueryPlan<'_>) -> Result<u64> {
    let mut after: Option<Item> = None;
    let mut n = 0u64;
    loop {
        let page = QueryPlan {
            limit: COUNT_PAGE,
            after: after.as_ref(),
            projection: Some(KEYS_ONLY),
            ..plan.clone()
        };
        let page = backend.query(&page).await?;
        n += page.items.len() as u64;
        match next(&page, |i| cursor_of(plan.schema, plan.index, i))? {
            Some(cursor) => after = Some(cursor),
            None => return Ok(n),
        }
    }
}

/// The number of items the scan matches, read page by page through
/// [`Backend::scan`].
pub async fn scan<B: Backend + ?Sized>(backend: &B, plan: &ScanPlan<'_>) -> Result<u64> {
    let mut after: Option<Item> = None;
    let mut n = 0u64;
    loop {
        let page = ScanPlan {
            limit: COUNT_PAGE,
            after: after.as_ref(),
            projection: Some(KEYS_ONLY),
            ..plan.clone()
        };
        let page = backend.scan(&page).await?;
        n += page.items.len() as u64;
        match next(&page, |i| cursor_of(plan.schema, None, i))? {
            Some(cursor) => after = Some(cursor),
            None => return Ok(n),
        }
    }
}

/// A query's count on a [`VersionedBackend`]: its native count of the key range where
/// the query has no filter and the engine has one, else by reading keys through
/// `reader` (the engine as a [`Backend`]).
pub async fn query_natively<B, V>(reader: &B, engine: &V, plan: &QueryPlan<'_>) -> Result<u64>
where
    B: Backend + ?Sized,
    V: VersionedBackend + ?Sized,
{
    if plan.filter.is_none()
        && let Some(n) = engine.count_range(plan).await?
    {
        return Ok(n);
    }
    query(reader, plan).await
}

/// A scan's count on a [`VersionedBackend`], as [`query_natively`].
pub async fn scan_natively<B, V>(reader: &B, engine: &V, plan: &ScanPlan<'_>) -> Result<u64>
where
    B: Backend + ?Sized,
    V: VersionedBackend + ?Sized,
{
    if plan.filter.is_none()
        && let Some(n) = engine.count_all(plan).await?
    {
        return Ok(n);
    }
    scan(reader, plan).await
}

/// Where the next page starts, if the range goes on.
fn next(page: &RawPage, cursor: impl FnOnce(&Item) -> Item) -> Result<Option<Item>> {
    match page.items.last() {
        Some(last) if page.more => Ok(Some(last.with_item(cursor)?)),
        _ => Ok(None),
    }
}
