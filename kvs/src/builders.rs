//! Builders of the dynamic API: each holds a request value, and awaiting it runs it.

use std::future::{Future, IntoFuture};

use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};

use crate::backend::RawItem;
use crate::client::boxed;
use crate::request::*;
use crate::{
    Condition, IntoPath, Item, Key, Kvs, Page, PageToken, Result, SortCondition, Updates, Value,
};

use crate::expr::conjoin as and;

/// An upsert or insert; await it to run it.
#[derive(Clone, Debug)]
#[must_use = "a request does nothing until it is awaited"]
pub struct Put {
    kvs: Kvs,
    request: PutRequest,
}

impl Put {
    pub(crate) fn new(kvs: Kvs, store: &str, item: Item, mode: PutMode) -> Self {
        Put {
            kvs,
            request: PutRequest {
                store: store.to_owned(),
                item,
                mode,
                condition: None,
            },
        }
    }

    /// Writes only if the existing item (or its absence) meets `condition`; otherwise
    /// `ConditionFailed` and nothing changes. Several calls combine with `and`.
    pub fn when(mut self, condition: Condition) -> Self {
        and(&mut self.request.condition, condition);
        self
    }

    /// The request value.
    pub fn into_request(self) -> PutRequest {
        self.request
    }
}

impl IntoFuture for Put {
    type Output = Result<()>;
    type IntoFuture = BoxFuture<'static, Result<()>>;
    fn into_future(self) -> Self::IntoFuture {
        boxed(self.kvs, self.request)
    }
}

/// An update; chain ops, then await it to get the whole new item.
#[derive(Clone, Debug)]
#[must_use = "a request does nothing until it is awaited"]
pub struct Update {
    kvs: Kvs,
    store: String,
    key: Key,
    updates: Updates,
    condition: Option<Condition>,
}

impl Update {
    pub(crate) fn new(kvs: Kvs, store: &str, key: Key) -> Self {
        Update {
            kvs,
            store: store.to_owned(),
            key,
            updates: Updates::new(),
            condition: None,
        }
    }

    /// SET: creates or replaces the value at `path` (its parent must exist).
    pub fn set(mut self, path: impl IntoPath, value: impl Into<Value>) -> Self {
        self.updates = self.updates.set(path, value);
        self
    }

    /// REMOVE: removes the value at `path`; a missing attribute is fine.
    pub fn remove(mut self, path: impl IntoPath) -> Self {
        self.updates = self.updates.remove(path);
        self
    }

    /// ADD: adds a number (missing counts as 0) or unions a set.
    pub fn add(mut self, path: impl IntoPath, value: impl Into<Value>) -> Self {
        self.updates = self.updates.add(path, value);
        self
    }

    /// APPEND: appends a list's elements (missing counts as an empty list).
    pub fn append(mut self, path: impl IntoPath, values: impl Into<Value>) -> Self {
        self.updates = self.updates.append(path, values);
        self
    }

    /// PREPEND: prepends a list's elements (missing counts as an empty list).
    pub fn prepend(mut self, path: impl IntoPath, values: impl Into<Value>) -> Self {
        self.updates = self.updates.prepend(path, values);
        self
    }

    /// DELETE: removes elements from a set, or every equal element from a list.
    pub fn delete(mut self, path: impl IntoPath, values: impl Into<Value>) -> Self {
        self.updates = self.updates.delete(path, values);
        self
    }

    /// Adds ops built elsewhere.
    pub fn ops(mut self, ops: impl IntoIterator<Item = crate::UpdateOp>) -> Self {
        for op in ops {
            self.updates = self.updates.op(op);
        }
        self
    }

    /// Updates only if the existing item meets `condition`; otherwise `ConditionFailed`
    /// and nothing changes. Several calls combine with `and`.
    pub fn when(mut self, condition: Condition) -> Self {
        and(&mut self.condition, condition);
        self
    }

    /// The request value, or the first error met while building it.
    pub fn into_request(self) -> Result<UpdateRequest> {
        Ok(UpdateRequest {
            store: self.store,
            key: self.key,
            ops: self.updates.into_ops()?,
            condition: self.condition,
        })
    }
}

impl IntoFuture for Update {
    type Output = Result<Item>;
    type IntoFuture = BoxFuture<'static, Result<Item>>;
    fn into_future(self) -> Self::IntoFuture {
        let kvs = self.kvs.clone();
        match self.into_request() {
            Ok(request) => boxed(kvs, request),
            Err(e) => Box::pin(async move { Err(e) }),
        }
    }
}

/// A delete; await it to get the deleted item.
#[derive(Clone, Debug)]
#[must_use = "a request does nothing until it is awaited"]
pub struct Delete {
    kvs: Kvs,
    request: DeleteRequest,
}

impl Delete {
    pub(crate) fn new(kvs: Kvs, store: &str, key: Key) -> Self {
        Delete {
            kvs,
            request: DeleteRequest {
                store: store.to_owned(),
                key,
                condition: None,
            },
        }
    }

    /// Deletes only if the item (or its absence) meets `condition`.
    pub fn when(mut self, condition: Condition) -> Self {
        and(&mut self.request.condition, condition);
        self
    }

    /// The request value.
    pub fn into_request(self) -> DeleteRequest {
        self.request
    }
}

impl IntoFuture for Delete {
    type Output = Result<Option<Item>>;
    type IntoFuture = BoxFuture<'static, Result<Option<Item>>>;
    fn into_future(self) -> Self::IntoFuture {
        boxed(self.kvs, self.request)
    }
}

/// A query of one partition; await it for one page, or walk every page with
/// [`Query::stream`].
#[derive(Clone, Debug)]
#[must_use = "a request does nothing until it is awaited"]
pub struct Query {
    kvs: Kvs,
    request: QueryRequest,
}

impl Query {
    pub(crate) fn new(kvs: Kvs, store: &str, partition: Value) -> Self {
        Query {
            kvs,
            request: QueryRequest {
                store: store.to_owned(),
                index: None,
                partition,
                sort: None,
                filter: None,
                limit: None,
                page_token: None,
                descending: false,
                consistent: false,
            },
        }
    }

    /// Reads the secondary index `name` instead of the store's own key.
    pub fn index(mut self, name: &str) -> Self {
        self.request.index = Some(name.to_owned());
        self
    }

    /// A condition on the sort key.
    pub fn sort(mut self, condition: SortCondition) -> Self {
        self.request.sort = Some(condition);
        self
    }

    /// Returns only items that meet `condition`. Several calls combine with `and`.
    pub fn filter(mut self, condition: Condition) -> Self {
        and(&mut self.request.filter, condition);
        self
    }

    /// The most items per page, counted after the filter (at least 1; default 1,000).
    pub fn limit(mut self, limit: usize) -> Self {
        self.request.limit = Some(limit);
        self
    }

    /// Continues where the page that returned `token` ended.
    pub fn page_token(mut self, token: impl Into<Option<PageToken>>) -> Self {
        self.request.page_token = token.into();
        self
    }

    /// Highest sort key first.
    pub fn descending(mut self) -> Self {
        self.request.descending = true;
        self
    }

    /// A strongly consistent read (base table only: `Validation` on an index).
    pub fn consistent(mut self) -> Self {
        self.request.consistent = true;
        self
    }

    /// The request value.
    pub fn into_request(self) -> QueryRequest {
        self.request
    }

    /// Every matching item, page after page.
    pub fn stream(self) -> BoxStream<'static, Result<Item>> {
        self.pages()
            .map_ok(|page| stream::iter(page.items.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }

    /// Every page, from this one to the last.
    pub fn pages(self) -> BoxStream<'static, Result<Page>> {
        item_pages(self.kvs, self.request)
    }

    /// The number of items the query matches, its filter applied, over every page: a
    /// native count where the backend has one, else the keys read page by page (see
    /// [`CountRequest`]). `Validation` if a page limit or token was set.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> kvs::Result<()> {
    /// use kvs::{attr, item, KeyAttr, Kvs, StoreSchema};
    /// let kvs = Kvs::memory();
    /// let orders = StoreSchema::new("orders", KeyAttr::string("customer"))
    ///     .sort_key(KeyAttr::number("n"));
    /// kvs.ensure_store(orders).await?;
    /// for n in 0..5 {
    ///     let paid = n % 2 == 0;
    ///     kvs.upsert("orders", item! { "customer" => "c-1", "n" => n, "paid" => paid })
    ///         .await?;
    /// }
    /// let paid = kvs.query("orders", "c-1").filter(attr("paid").eq(true)).count().await?;
    /// assert_eq!(paid, 3);
    /// # Ok(()) }
    /// ```
    pub async fn count(self) -> Result<u64> {
        self.kvs.execute(CountRequest::Query(self.request)).await
    }
}

impl IntoFuture for Query {
    type Output = Result<Page>;
    type IntoFuture = BoxFuture<'static, Result<Page>>;
    fn into_future(self) -> Self::IntoFuture {
        boxed(self.kvs, self.request)
    }
}

/// A scan of a whole store; await it for one page, or walk every page with
/// [`Scan::stream`].
#[derive(Clone, Debug)]
#[must_use = "a request does nothing until it is awaited"]
pub struct Scan {
    kvs: Kvs,
    request: ScanRequest,
}

impl Scan {
    pub(crate) fn new(kvs: Kvs, store: &str) -> Self {
        Scan {
            kvs,
            request: ScanRequest {
                store: store.to_owned(),
                filter: None,
                limit: None,
                page_token: None,
            },
        }
    }

    /// Returns only items that meet `condition`. Several calls combine with `and`.
    pub fn filter(mut self, condition: Condition) -> Self {
        and(&mut self.request.filter, condition);
        self
    }

    /// The most items per page, counted after the filter (at least 1; default 1,000).
    pub fn limit(mut self, limit: usize) -> Self {
        self.request.limit = Some(limit);
        self
    }

    /// Continues where the page that returned `token` ended.
    pub fn page_token(mut self, token: impl Into<Option<PageToken>>) -> Self {
        self.request.page_token = token.into();
        self
    }

    /// The request value.
    pub fn into_request(self) -> ScanRequest {
        self.request
    }

    /// Every matching item, page after page.
    pub fn stream(self) -> BoxStream<'static, Result<Item>> {
        self.pages()
            .map_ok(|page| stream::iter(page.items.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }

    /// Every page, from this one to the last.
    pub fn pages(self) -> BoxStream<'static, Result<Page>> {
        item_pages(self.kvs, self.request)
    }

    /// The number of items the scan matches, its filter applied, over every page (see
    /// [`Query::count`]).
    pub async fn count(self) -> Result<u64> {
        self.kvs.execute(CountRequest::Scan(self.request)).await
    }
}

impl IntoFuture for Scan {
    type Output = Result<Page>;
    type IntoFuture = BoxFuture<'static, Result<Page>>;
    fn into_future(self) -> Self::IntoFuture {
        boxed(self.kvs, self.request)
    }
}

/// A request that returns a page and continues from a token: a query or a scan.
pub(crate) trait Paged: Clone + Send + 'static {
    /// The store read.
    fn store(&self) -> &str;
    /// Continues from `token`.
    fn continue_at(&mut self, token: PageToken);
    /// Reads one page needing only the top-level attributes of `projection` (all with
    /// `None`), leaving the items in the backend's form.
    fn execute_projected(
        self,
        kvs: &Kvs,
        projection: Option<&'static [&'static str]>,
    ) -> impl Future<Output = Result<Page<RawItem>>> + Send;
    /// Reads one page, leaving the items in the backend's form.
    fn execute_raw(self, kvs: &Kvs) -> impl Future<Output = Result<Page<RawItem>>> + Send {
        self.execute_projected(kvs, None)
    }
}

impl Paged for QueryRequest {
    fn store(&self) -> &str {
        &self.store
    }
    fn continue_at(&mut self, token: PageToken) {
        self.page_token = Some(token);
    }
    fn execute_projected(
        self,
        kvs: &Kvs,
        projection: Option<&'static [&'static str]>,
    ) -> impl Future<Output = Result<Page<RawItem>>> + Send {
        QueryRequest::execute_projected(self, kvs, projection)
    }
}

impl Paged for ScanRequest {
    fn store(&self) -> &str {
        &self.store
    }
    fn continue_at(&mut self, token: PageToken) {
        self.page_token = Some(token);
    }
    fn execute_projected(
        self,
        kvs: &Kvs,
        projection: Option<&'static [&'static str]>,
    ) -> impl Future<Output = Result<Page<RawItem>>> + Send {
        ScanRequest::execute_projected(self, kvs, projection)
    }
}

/// A query or scan that needs only some top-level attributes (a typed projection).
#[derive(Clone)]
pub(crate) struct Projected<R> {
    pub(crate) request: R,
    /// The attributes needed; `None`: whole items.
    pub(crate) projection: Option<&'static [&'static str]>,
}

impl<R: Paged> Paged for Projected<R> {
    fn store(&self) -> &str {
        self.request.store()
    }
    fn continue_at(&mut self, token: PageToken) {
        self.request.continue_at(token);
    }
    fn execute_projected(
        self,
        kvs: &Kvs,
        _: Option<&'static [&'static str]>,
    ) -> impl Future<Output = Result<Page<RawItem>>> + Send {
        self.request.execute_projected(kvs, self.projection)
    }
}

/// Every page of a dynamic query or scan, as items.
fn item_pages<R: Paged>(kvs: Kvs, request: R) -> BoxStream<'static, Result<Page>> {
    pages(kvs, request)
        .and_then(|page| async move { page.try_map(RawItem::into_item) })
        .boxed()
}

/// Runs a paged request again and again, each time from the previous page's token,
/// until a page has none.
pub(crate) fn pages<R: Paged>(kvs: Kvs, request: R) -> BoxStream<'static, Result<Page<RawItem>>> {
    stream::try_unfold(Some(request), move |next| {
        let kvs = kvs.clone();
        async move {
            let Some(request) = next else {
                return Ok(None);
            };
            let mut following = request.clone();
            let page = request.execute_raw(&kvs).await?;
            let next = page.next_page_token.clone().map(|t| {
                following.continue_at(t);
                following
            });
            Ok(Some((page, next)))
        }
    })
    .boxed()
}
