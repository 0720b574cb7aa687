//! Exact pages: `limit` items counted after the filter, a page token only where more
//! may follow, and never an item skipped (the token is made from the last item
//! returned), whatever the backend's native reads count.

use std::future::Future;

use crate::backend::{QueryPlan, RawItem, RawPage, ScanPlan, VersionedBackend, eval};
use crate::{Condition, Item, Result};

/// Collects one page from items offered in order: those that pass the filter until the
/// limit, then one more match to learn that another item follows.
#[derive(Debug)]
pub struct PageFiller<'a> {
    limit: usize,
    filter: Option<&'a Condition>,
    items: Vec<RawItem>,
    more: bool,
}

impl<'a> PageFiller<'a> {
    /// A page of at most `limit` items passing `filter` (none: every item passes).
    pub fn new(limit: usize, filter: Option<&'a Condition>) -> Self {
        PageFiller {
            limit,
            filter,
            items: Vec::with_capacity(limit.min(1024)),
            more: false,
        }
    }

    /// Whether items offered are evaluated against a filter, so that a caller holding
    /// an item in another form may decode it once, before offering it.
    pub fn filters(&self) -> bool {
        self.filter.is_some()
    }

    /// How many more items the page can take.
    pub fn wanted(&self) -> usize {
        self.limit - self.items.len()
    }

    /// Offers the next item read, in order; `false` once the page is settled (full, and
    /// another match seen). Without a filter the item is kept as it is, for the caller
    /// to decode into its type.
    pub fn offer(&mut self, item: RawItem) -> Result<bool> {
        let item = match self.filter {
            Some(f) => {
                let item = item.into_item()?;
                if !eval::matches(f, Some(&item)) {
                    return Ok(true);
                }
                RawItem::from(item)
            }
            None => item,
        };
        if self.items.len() == self.limit {
            self.more = true;
            return Ok(false);
        }
        self.items.push(item);
        Ok(true)
    }

    /// The page; `more` as the reading left it.
    pub fn finish(self) -> RawPage {
        RawPage {
            items: self.items,
            more: self.more,
        }
    }
}

/// One chunk a backend read natively: items in order, and where to continue (`None` at
/// the end of the range).
#[derive(Debug)]
pub struct Chunk<C> {
    /// The items read, in order (already filtered if the backend filtered natively).
    pub items: Vec<RawItem>,
    /// The backend's own position after the chunk, or `None` if the range is done.
    pub next: Option<C>,
}

/// Fills one page from chunks, for a backend whose native limit counts items read rather
/// than items returned (DynamoDB), or that cannot evaluate a filter natively: it keeps
/// reading until `limit` items pass `local_filter` or the range ends.
///
/// `read` is called with the backend's position to continue from (`None` for the
/// query's own start) and the number of items still wanted.
pub async fn fill_page<C, F, Fut>(
    limit: usize,
    local_filter: Option<&Condition>,
    mut read: F,
) -> Result<RawPage>
where
    F: FnMut(Option<C>, usize) -> Fut,
    Fut: Future<Output = Result<Chunk<C>>>,
{
    let mut page = PageFiller::new(limit, local_filter);
    let mut position = None;
    loop {
        let chunk = read(position.take(), page.wanted()).await?;
        for item in chunk.items {
            if !page.offer(item)? {
                return Ok(page.finish());
            }
        }
        match chunk.next {
            None => return Ok(page.finish()),
            Some(_) if page.wanted() == 0 => {
                page.more = true;
                return Ok(page.finish());
            }
            Some(next) => position = Some(next),
        }
    }
}

/// The most items one range read asks for; a larger page takes several reads.
const MOST_READ: usize = 1000;

/// How many items to read for `wanted` more on the page: one more than wanted (to learn
/// whether a match follows) without a filter, more with one, which may drop some; never
/// more than [`MOST_READ`] (plus the one more, so that a page of the default size learns
/// from its one read whether more follow), whatever the limit (`usize::MAX` is one).
fn read_size(wanted: usize, filtered: bool) -> usize {
    if filtered {
        wanted.saturating_mul(2).clamp(16, MOST_READ)
    } else {
        wanted.saturating_add(1).min(MOST_READ + 1)
    }
}

/// Where the next chunk starts: after the last item read, if the range goes on.
fn next_after(
    chunk: &RawPage,
    schema: &crate::StoreSchema,
    index: Option<&crate::IndexSchema>,
) -> Result<Option<crate::Item>> {
    match chunk.items.last() {
        Some(last) if chunk.more => Ok(Some(
            last.with_item(|i| crate::page::cursor_of(schema, index, i))?,
        )),
        _ => Ok(None),
    }
}

/// A query page from a [`VersionedBackend`]'s range reads.
pub async fn query_by_ranges<B: VersionedBackend + ?Sized>(
    backend: &B,
    plan: &QueryPlan<'_>,
) -> Result<RawPage> {
    fill_page(
        plan.limit,
        plan.filter,
        |position: Option<Item>, wanted| async move {
            let range = QueryPlan {
                limit: read_size(wanted, plan.filter.is_some()),
                after: position.as_ref().or(plan.after),
                ..plan.clone()
            };
            let chunk = backend.read_query(&range).await?;
            let next = next_after(&chunk, plan.schema, plan.index)?;
            Ok(Chunk {
                items: chunk.items,
                next,
            })
        },
    )
    .await
}

/// A scan page from a [`VersionedBackend`]'s range reads.
pub async fn scan_by_ranges<B: VersionedBackend + ?Sized>(
    backend: &B,
    plan: &ScanPlan<'_>,
) -> Result<RawPage> {
    fill_page(
        plan.limit,
        plan.filter,
        |position: Option<Item>, wanted| async move {
            let range = ScanPlan {
                limit: read_size(wanted, plan.filter.is_some()),
                after: position.as_ref().or(plan.after),
                ..plan.clone()
            };
            let chunk = backend.read_scan(&range).await?;
            let next = next_after(&chunk, plan.schema, None)?;
            Ok(Chunk {
                items: chunk.items,
                next,
            })
        },
    )
    .await
}
