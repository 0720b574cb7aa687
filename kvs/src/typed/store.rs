//! `Store<M>`: every operation of the contract on a model's store, taking and returning
//! models.

use std::future::IntoFuture;
use std::marker::PhantomData;
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};

use super::field::{IntoCond, TypedPath, Writable, field_value};
use super::model::{IntoKey, Model, VersionedModel, from_item, to_model_item};
use super::projection::{Projection, from_projection};
use super::query::KeyQuery;
use super::traits::{Addable, CollectionField, IntoFieldValue, ListField, Removable};
use crate::backend::RawItem;
use crate::builders::{Paged, Projected};
use crate::request::*;
use crate::{Condition, Error, Key, Kvs, Page, PageToken, Path, Result, UpdateOp, Value};

/// The typed handle on the store of model `M`: `kvs.store::<Order>()`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> kvs::Result<()> {
/// use kvs::KeyValueStore;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(KeyValueStore, Serialize, Deserialize, Debug, PartialEq)]
/// #[kvs(store = "users", partition_key = id)]
/// struct User { id: String, name: String, logins: i64 }
///
/// let kvs = kvs::Kvs::memory();
/// let users = kvs.store::<User>();
/// users.ensure().await?;
/// users.upsert(&User { id: "u-1".into(), name: "Ada".into(), logins: 0 }).await?;
/// let user = users.update("u-1").add(User::fields().logins(), 1).await?;
/// assert_eq!(user.logins, 1);
/// assert_eq!(users.get("u-1").await?, Some(user));
/// # Ok(()) }
/// ```
pub struct Store<M> {
    at: Arc<At>,
    _model: PhantomData<fn() -> M>,
}

/// Where a typed store's requests go, shared by its clones and its gets' futures: one
/// reference count taken per get rather than one for the handle and one for the name
/// (each a write to memory every reading thread shares).
struct At {
    kvs: Kvs,
    /// The store's name: the model's own, or another given to [`Kvs::store_named`].
    name: Arc<str>,
}

impl<M> Clone for Store<M> {
    fn clone(&self) -> Self {
        Store {
            at: Arc::clone(&self.at),
            _model: PhantomData,
        }
    }
}

impl<M: Model> std::fmt::Debug for Store<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store<{}>({})", std::any::type_name::<M>(), self.at.name)
    }
}

impl Kvs {
    /// The typed handle on the store of model `M`, under the model's store name.
    ///
    /// The store is known from the model: unless this handle knows a store of that name
    /// already, the model's schema is registered (no request is sent), so a store that
    /// exists on the backend is read and written with no [`Store::ensure`], which may
    /// need rights (creating tables) that production credentials lack.
    pub fn store<M: Model>(&self) -> Store<M> {
        self.store_named(M::STORE)
    }

    /// The typed handle on a store of model `M` under another name: the same model kept
    /// in several stores (an archive, one store per tenant, a test's own store). Known
    /// from the model like [`Kvs::store`].
    pub fn store_named<M: Model>(&self, name: impl Into<String>) -> Store<M> {
        let name: Arc<str> = Arc::from(name.into());
        self.register_if_absent(&name, || crate::StoreSchema {
            name: name.to_string(),
            ..M::schema()
        });
        Store {
            at: Arc::new(At {
                kvs: self.clone(),
                name,
            }),
            _model: PhantomData,
        }
    }
}

fn boxed<T: Send + 'static>(
    f: impl Future<Output = Result<T>> + Send + 'static,
) -> BoxFuture<'static, Result<T>> {
    Box::pin(f)
}

fn and(slot: &mut Option<Result<Condition>>, c: Result<Condition>) {
    *slot = Some(match (slot.take(), c) {
        (None, c) => c,
        (Some(Ok(a)), Ok(b)) => Ok(a.and(b)),
        (Some(Err(e)), _) | (_, Err(e)) => Err(e),
    });
}

/// The condition that the stored item has version `n` (`0`: it has none: a model never
/// read). The name is a stored attribute name, taken literally (not as path text).
fn stored_version_is(name: &str, n: u64) -> Condition {
    if n == 0 {
        Path::attr(name).not_exists()
    } else {
        // Exact whatever `n` is (one above i64 can never be stored, and is never met).
        Path::attr(name).eq(crate::Decimal::from(n))
    }
}

/// The condition of `expect_version`: the stored item of a versioned model has `version`.
fn expected_version<M: VersionedModel>(version: u64) -> Condition {
    // Every `VersionedModel` has a `VERSION` (the derive implements both together).
    let name = M::VERSION.map_or("", |v| v.name);
    stored_version_is(name, version)
}

/// The version a model of `M` holds, checked to have a next one.
fn version_of<M: Model>(model: &M) -> Option<Result<(&'static str, u64)>> {
    let attr = M::VERSION?;
    Some(match (attr.get)(model) {
        Some(n) if n < attr.max => Ok((attr.name, n)),
        Some(n) => Err(Error::validation(format!(
            "version attribute {:?} holds {n}, the largest its type holds: there is no next version",
            attr.name
        ))),
        None => Err(Error::validation(format!(
            "version attribute {:?} holds a negative number",
            attr.name
        ))),
    })
}

impl<M: Model> Store<M> {
    /// The `Kvs` handle underneath.
    pub fn kvs(&self) -> &Kvs {
        &self.at.kvs
    }

    /// The store's name.
    pub fn name(&self) -> &str {
        &self.at.name
    }

    /// The store's schema: the model's, under this store's name.
    pub fn schema(&self) -> crate::StoreSchema {
        crate::StoreSchema {
            name: self.at.name.to_string(),
            ..M::schema()
        }
    }

    /// Creates the store (and its indexes) on the backend if missing, and registers it.
    /// Not needed to use a store that exists: the handle knows it from the model.
    pub async fn ensure(&self) -> Result<()> {
        self.at.kvs.ensure_store(self.schema()).await
    }

    /// Reads one item; `None` if there is none.
    //
    // `get`, `get_many` and `delete_many` return a boxed future rather than being
    // `async fn`s: the future of an `async fn` is generic over the key's type, so a key
    // of the wrong type would be reported three times (at the argument, at the call and
    // at the `.await`). The key is converted before the future is made; the box costs
    // one allocation per call.
    pub fn get(&self, key: impl IntoKey<M>) -> BoxFuture<'static, Result<Option<M>>> {
        self.get_with(key.into_key(), Reader::model())
    }

    /// Reads many items: one answer per key, in the order asked.
    pub fn get_many<K: IntoKey<M>>(
        &self,
        keys: impl IntoIterator<Item = K>,
    ) -> BoxFuture<'static, Result<Vec<Option<M>>>> {
        self.get_many_with(
            keys.into_iter().map(IntoKey::into_key).collect(),
            Reader::model(),
        )
    }

    /// One item read as `read` says (the model, or a projection of it).
    fn get_with<O: Send + 'static>(
        &self,
        key: Key,
        read: Reader<O>,
    ) -> BoxFuture<'static, Result<Option<O>>> {
        let at = Arc::clone(&self.at);
        boxed(async move {
            match GetRequest::run(&at.kvs, &at.name, &key, read.projection).await? {
                Some(item) => (read.decode)(&at.name, item).map(Some),
                None => Ok(None),
            }
        })
    }

    /// Many items read as `read` says, one answer per key in order.
    fn get_many_with<O: Send + 'static>(
        &self,
        keys: Vec<Key>,
        read: Reader<O>,
    ) -> BoxFuture<'static, Result<Vec<Option<O>>>> {
        let request = GetManyRequest {
            store: self.at.name.to_string(),
            keys,
        };
        let at = Arc::clone(&self.at);
        boxed(async move {
            request
                .execute_projected(&at.kvs, read.projection)
                .await?
                .into_iter()
                .map(|found| found.map(|item| (read.decode)(&at.name, item)).transpose())
                .collect()
        })
    }

    /// Writes the whole item, replacing any with its key. For a [`VersionedModel`], only
    /// if the stored version is still the one the model holds (`ConditionFailed`
    /// otherwise), writing the next.
    pub fn upsert(&self, item: &M) -> TypedPut<M> {
        TypedPut::new(self.clone(), item, PutMode::Upsert)
    }

    /// Writes an item that must not exist yet (`AlreadyExists` otherwise). For a
    /// [`VersionedModel`], at version 1.
    pub fn insert(&self, item: &M) -> TypedPut<M> {
        TypedPut::new(self.clone(), item, PutMode::Insert)
    }

    /// Updates an existing item (`NotFound` otherwise) and returns it whole.
    ///
    /// For a [`VersionedModel`], the update also adds 1 to the stored version.
    pub fn update(&self, key: impl IntoKey<M>) -> TypedUpdate<M> {
        // The version goes up with every update, however the item changes.
        let ops = M::VERSION
            .map(|v| UpdateOp::Add {
                path: Path::attr(v.name),
                value: Value::from(1),
            })
            .into_iter()
            .collect();
        TypedUpdate {
            kvs: self.at.kvs.clone(),
            store: self.at.name.clone(),
            key: key.into_key(),
            ops: Ok(ops),
            condition: None,
            _model: PhantomData,
        }
    }

    /// Deletes an item and returns it (`None` if there was none).
    pub fn delete(&self, key: impl IntoKey<M>) -> TypedDelete<M> {
        TypedDelete {
            kvs: self.at.kvs.clone(),
            store: self.at.name.clone(),
            key: key.into_key(),
            condition: None,
            _model: PhantomData,
        }
    }

    /// Queries one partition of the store or of an index: `Order::by_user("u-1")`.
    pub fn query<S>(&self, query: KeyQuery<M, S>) -> TypedQuery<M> {
        TypedQuery {
            kvs: self.at.kvs.clone(),
            store: self.at.name.clone(),
            query: query.erase(),
            filter: None,
            limit: None,
            page_token: None,
            descending: false,
            consistent: false,
            read: Reader::model(),
        }
    }

    /// Scans the whole store.
    pub fn scan(&self) -> TypedScan<M> {
        TypedScan {
            kvs: self.at.kvs.clone(),
            store: self.at.name.clone(),
            filter: None,
            limit: None,
            page_token: None,
            read: Reader::model(),
            _model: PhantomData,
        }
    }

    /// Reads the projection `P` of one item (see [`Projection`]): only its attributes
    /// (and the key) are read and sent where the backend projects natively.
    pub fn get_projected<P: Projection<Model = M>>(
        &self,
        key: impl IntoKey<M>,
    ) -> BoxFuture<'static, Result<Option<P>>> {
        self.get_with(key.into_key(), Reader::projection())
    }

    /// Reads the projection `P` of many items: one answer per key, in the order given,
    /// as [`get_many`](Self::get_many).
    pub fn get_many_projected<P: Projection<Model = M>, K: IntoKey<M>>(
        &self,
        keys: impl IntoIterator<Item = K>,
    ) -> BoxFuture<'static, Result<Vec<Option<P>>>> {
        self.get_many_with(
            keys.into_iter().map(IntoKey::into_key).collect(),
            Reader::projection(),
        )
    }

    /// Writes many items; not atomic. A partial failure names the keys not written.
    ///
    /// For a [`VersionedModel`], each item is written as [`upsert`](Self::upsert) writes
    /// it, checked against its stored version, a few at a time; the error of the first
    /// that failed is returned, with the keys of all that failed.
    pub async fn upsert_many<'a>(&self, items: impl IntoIterator<Item = &'a M>) -> Result<()> {
        if M::VERSION.is_some() {
            return self.upsert_each(items.into_iter().collect()).await;
        }
        let items = items
            .into_iter()
            .map(to_model_item)
            .collect::<Result<Vec<_>>>()?;
        self.at.kvs.upsert_many(&self.at.name, items).await
    }

    /// Versioned upserts, at most 16 at a time.
    async fn upsert_each(&self, items: Vec<&M>) -> Result<()> {
        // Each put is built and checked once (the model serialized, the item held to the
        // schema and the backend's limits) before anything is sent, so that an item
        // that cannot be written fails the call with nothing written, as `upsert_many`
        // of a model without a version does; and, as there, a key given twice is
        // refused.
        let puts = items
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let at = |e: Error| e.context(format_args!("item {i}"));
                let mut put = TypedPut::new(self.clone(), m, PutMode::Upsert)
                    .request()
                    .map_err(at)?;
                let (schema, key) = put.check(&self.at.kvs).map_err(at)?;
                Ok((key, schema, put))
            })
            .collect::<Result<Vec<_>>>()?;
        crate::client::check_distinct(puts.iter().map(|(key, ..)| key))?;
        let total = puts.len();
        let kvs = &self.at.kvs;
        let failed: Vec<(Key, Error)> = futures::stream::iter(puts)
            .map(|(key, schema, request)| async move {
                // Checked above: sent as it is, not checked again.
                request
                    .write_checked(kvs, &schema, key.clone())
                    .await
                    .err()
                    .map(|e| (key, e))
            })
            .buffer_unordered(16)
            .filter_map(std::future::ready)
            .collect()
            .await;
        let mut failed = failed.into_iter();
        let Some((first_key, first)) = failed.next() else {
            return Ok(());
        };
        let mut keys = vec![first_key];
        keys.extend(failed.map(|(k, _)| k));
        let n = keys.len();
        Err(first
            .context(format_args!("{n} of {total} items not written"))
            .with_keys(keys))
    }

    /// Deletes many items; not atomic.
    pub fn delete_many<K: IntoKey<M>>(
        &self,
        keys: impl IntoIterator<Item = K>,
    ) -> BoxFuture<'static, Result<()>> {
        let keys: Vec<Key> = keys.into_iter().map(IntoKey::into_key).collect();
        let (kvs, store) = (self.at.kvs.clone(), self.at.name.clone());
        boxed(async move { kvs.delete_many(&store, keys).await })
    }

    /// A transaction write that only checks `condition` on the item.
    pub fn check(&self, key: impl IntoKey<M>, condition: impl IntoCond<M>) -> TransactWrite {
        let key = key.into_key();
        match condition.into_cond().into_condition() {
            Ok(c) => TransactWrite::check(&*self.at.name, key, c),
            Err(e) => {
                TransactWrite::check(&*self.at.name, key, Condition::And(Vec::new())).failed(e)
            }
        }
    }
}

/// A typed upsert or insert; await it, or turn it into a transaction write.
#[must_use = "a request does nothing until it is awaited"]
pub struct TypedPut<M> {
    kvs: Kvs,
    store: Arc<str>,
    item: Result<crate::Item>,
    mode: PutMode,
    condition: Option<Result<Condition>>,
    _model: PhantomData<fn() -> M>,
}

impl<M: Model> TypedPut<M> {
    fn new(store: Store<M>, model: &M, mode: PutMode) -> Self {
        let mut item = to_model_item(model);
        let mut condition = None;
        match (version_of(model), &mut item) {
            (None, _) | (_, Err(_)) => {}
            (Some(Err(e)), _) => item = Err(e),
            (Some(Ok((name, n))), Ok(item)) => {
                // An insert needs no item there at all, whatever version the model holds.
                let next = match mode {
                    PutMode::Insert => 1,
                    PutMode::Upsert => {
                        condition = Some(Ok(stored_version_is(name, n)));
                        n + 1
                    }
                };
                item.insert(name.to_owned(), Value::from(next as i64));
            }
        }
        TypedPut {
            kvs: store.at.kvs.clone(),
            store: store.at.name.clone(),
            item,
            mode,
            condition,
            _model: PhantomData,
        }
    }

    /// Writes only if the existing item (or its absence) meets `condition`.
    pub fn when(mut self, condition: impl IntoCond<M>) -> Self {
        and(&mut self.condition, condition.into_cond().into_condition());
        self
    }

    fn request(self) -> Result<PutRequest> {
        Ok(PutRequest {
            store: self.store.to_string(),
            item: self.item?,
            mode: self.mode,
            condition: self.condition.transpose()?,
        })
    }

    /// The write, for [`Kvs::transact`].
    pub fn into_transact_write(self) -> TransactWrite {
        let store = self.store.clone();
        match self.request() {
            Ok(r) => {
                let w = match r.mode {
                    PutMode::Upsert => TransactWrite::put(r.store, r.item),
                    PutMode::Insert => TransactWrite::insert(r.store, r.item),
                };
                match r.condition {
                    Some(c) => w.when(c),
                    None => w,
                }
            }
            Err(e) => TransactWrite::put(&*store, crate::Item::new()).failed(e),
        }
    }
}

impl<M: Model> IntoFuture for TypedPut<M> {
    type Output = Result<()>;
    type IntoFuture = BoxFuture<'static, Result<()>>;
    fn into_future(self) -> Self::IntoFuture {
        let kvs = self.kvs.clone();
        let request = self.request();
        boxed(async move { crate::Request::execute(request?, &kvs).await })
    }
}

/// A typed update: chain ops on typed fields, then await it for the whole new item.
///
/// Each op only compiles on fields it fits: ADD on numbers and sets, APPEND on lists,
/// REMOVE on `Option` and set fields, map entries and list positions, nothing on key
/// fields; values must be of the field's type.
#[must_use = "a request does nothing until it is awaited"]
pub struct TypedUpdate<M> {
    kvs: Kvs,
    store: Arc<str>,
    key: Key,
    ops: Result<Vec<UpdateOp>>,
    condition: Option<Result<Condition>>,
    _model: PhantomData<fn() -> M>,
}

impl<M: Model> TypedUpdate<M> {
    fn push(mut self, op: Result<Option<UpdateOp>>) -> Self {
        match (&mut self.ops, op) {
            (Ok(ops), Ok(Some(op))) => ops.push(op),
            (Ok(_), Ok(None)) | (Err(_), _) => {}
            (ops @ Ok(_), Err(e)) => *ops = Err(e),
        }
        self
    }

    /// SET the field to `value`: what the same value in the whole model would be
    /// written as. Setting an `Option` field to `None` (or a set to empty) removes the
    /// attribute, as `None` is written as a missing attribute; in a list position or a
    /// map entry, it writes null, as serde writes `None` there (the list keeps its
    /// length, the map its key).
    pub fn set<F>(self, field: F, value: impl IntoFieldValue<F::Value>) -> Self
    where
        F: TypedPath<Model = M>,
        F::Role: Writable,
    {
        let path = field.path().clone();
        let op = field_value(&value.into_field()).map(|v| {
            Some(match v {
                Some(value) => UpdateOp::Set { path, value },
                None if <F::Role as crate::typed::Place>::ABSENT_IS_NULL => UpdateOp::Set {
                    path,
                    value: Value::Null,
                },
                None => UpdateOp::Remove { path },
            })
        });
        self.push(op)
    }

    /// REMOVE the field: an `Option` (which then reads back as `None`), a `kvs::Set`
    /// (read back empty), a map entry (`.entry("k")`) or a list position (`.at(i)`).
    /// Any other field could not be read back, and does not compile.
    pub fn remove<F>(self, field: F) -> Self
    where
        F: TypedPath<Model = M>,
        F::Value: Removable<F::Role>,
        // Every type is `Removable<KeyRole>`: a key field fails this bound alone, whose
        // message says why keys cannot change.
        F::Role: Writable,
    {
        let path = field.path().clone();
        self.push(Ok(Some(UpdateOp::Remove { path })))
    }

    /// ADD a number (a missing attribute counts as 0) or union a set.
    pub fn add<F>(
        self,
        field: F,
        value: impl IntoFieldValue<<F::Value as Addable>::Operand>,
    ) -> Self
    where
        F: TypedPath<Model = M>,
        F::Role: Writable,
        F::Value: Addable,
    {
        let path = field.path().clone();
        // Adding an empty set changes nothing.
        let op =
            field_value(&value.into_field()).map(|v| v.map(|value| UpdateOp::Add { path, value }));
        self.push(op)
    }

    fn elements<E: serde::Serialize>(values: Vec<E>) -> Result<Vec<Value>> {
        values
            .iter()
            .map(|v| Ok(field_value(v)?.unwrap_or(Value::Null)))
            .collect()
    }

    /// APPEND elements to a list (a missing attribute counts as an empty list).
    pub fn append<F>(
        self,
        field: F,
        values: impl IntoFieldValue<Vec<<F::Value as ListField>::Elem>>,
    ) -> Self
    where
        F: TypedPath<Model = M>,
        F::Role: Writable,
        F::Value: ListField,
    {
        let path = field.path().clone();
        let op = Self::elements(values.into_field())
            .map(|values| Some(UpdateOp::Append { path, values }));
        self.push(op)
    }

    /// PREPEND elements to a list (a missing attribute counts as an empty list).
    pub fn prepend<F>(
        self,
        field: F,
        values: impl IntoFieldValue<Vec<<F::Value as ListField>::Elem>>,
    ) -> Self
    where
        F: TypedPath<Model = M>,
        F::Role: Writable,
        F::Value: ListField,
    {
        let path = field.path().clone();
        let op = Self::elements(values.into_field())
            .map(|values| Some(UpdateOp::Prepend { path, values }));
        self.push(op)
    }

    /// DELETE elements from a set, or every equal element from a list.
    pub fn delete<F>(
        self,
        field: F,
        values: impl IntoFieldValue<Vec<<F::Value as CollectionField>::Elem>>,
    ) -> Self
    where
        F: TypedPath<Model = M>,
        F::Role: Writable,
        F::Value: CollectionField,
    {
        let path = field.path().clone();
        let op = Self::elements(values.into_field())
            .map(|values| Some(UpdateOp::Delete { path, values }));
        self.push(op)
    }

    /// Updates only if the existing item meets `condition`; otherwise `ConditionFailed`.
    pub fn when(mut self, condition: impl IntoCond<M>) -> Self {
        and(&mut self.condition, condition.into_cond().into_condition());
        self
    }

    /// Updates only if the stored item has version `version` (`ConditionFailed`
    /// otherwise): the version of the model read before.
    pub fn expect_version(mut self, version: u64) -> Self
    where
        M: VersionedModel,
    {
        and(&mut self.condition, Ok(expected_version::<M>(version)));
        self
    }

    fn request(self) -> Result<UpdateRequest> {
        Ok(UpdateRequest {
            store: self.store.to_string(),
            key: self.key,
            ops: self.ops?,
            condition: self.condition.transpose()?,
        })
    }

    /// The write, for [`Kvs::transact`].
    pub fn into_transact_write(self) -> TransactWrite {
        let key = self.key.clone();
        let store = self.store.clone();
        match self.request() {
            Ok(r) => {
                let w = TransactWrite::update(r.store, r.key, crate::Updates::from(r.ops));
                match r.condition {
                    Some(c) => w.when(c),
                    None => w,
                }
            }
            Err(e) => TransactWrite::update(&*store, key, crate::Updates::new()).failed(e),
        }
    }
}

impl<M: Model> IntoFuture for TypedUpdate<M> {
    type Output = Result<M>;
    type IntoFuture = BoxFuture<'static, Result<M>>;
    fn into_future(self) -> Self::IntoFuture {
        let kvs = self.kvs.clone();
        let store = self.store.clone();
        // The request is built here and run without `Kvs::execute` around it, so that the
        // future stays small: one over 1 KB takes glibc's slower allocation path.
        let request = self.request();
        boxed(async move {
            let new = request?.execute_raw(&kvs).await?;
            // The write is done: say so, so that nobody retries it.
            from_item(&store, new).map_err(|e| e.context("the update was written"))
        })
    }
}

/// A typed delete; await it for the deleted item.
#[must_use = "a request does nothing until it is awaited"]
pub struct TypedDelete<M> {
    kvs: Kvs,
    store: Arc<str>,
    key: Key,
    condition: Option<Result<Condition>>,
    _model: PhantomData<fn() -> M>,
}

impl<M: Model> TypedDelete<M> {
    /// Deletes only if the item (or its absence) meets `condition`.
    pub fn when(mut self, condition: impl IntoCond<M>) -> Self {
        and(&mut self.condition, condition.into_cond().into_condition());
        self
    }

    /// Deletes only if the stored item has version `version` (`ConditionFailed`
    /// otherwise, a missing item included when `version` is not 0).
    pub fn expect_version(mut self, version: u64) -> Self
    where
        M: VersionedModel,
    {
        and(&mut self.condition, Ok(expected_version::<M>(version)));
        self
    }

    fn request(self) -> Result<DeleteRequest> {
        Ok(DeleteRequest {
            store: self.store.to_string(),
            key: self.key,
            condition: self.condition.transpose()?,
        })
    }

    /// The write, for [`Kvs::transact`].
    pub fn into_transact_write(self) -> TransactWrite {
        let key = self.key.clone();
        let store = self.store.clone();
        match self.request() {
            Ok(r) => {
                let w = TransactWrite::delete(r.store, r.key);
                match r.condition {
                    Some(c) => w.when(c),
                    None => w,
                }
            }
            Err(e) => TransactWrite::delete(&*store, key).failed(e),
        }
    }
}

impl<M: Model> IntoFuture for TypedDelete<M> {
    type Output = Result<Option<M>>;
    type IntoFuture = BoxFuture<'static, Result<Option<M>>>;
    fn into_future(self) -> Self::IntoFuture {
        let kvs = self.kvs.clone();
        let store = self.store.clone();
        let request = self.request();
        boxed(async move {
            match crate::Request::execute(request?, &kvs).await? {
                Some(item) => from_item(&store, item)
                    .map(Some)
                    .map_err(|e| e.context("the item was deleted")),
                None => Ok(None),
            }
        })
    }
}

/// A typed query; await it for a page of models, or walk every page with
/// [`stream`](TypedQuery::stream).
///
/// It reads models, or with [`project`](TypedQuery::project) a [`Projection`] `O` of
/// them.
#[must_use = "a request does nothing until it is awaited"]
pub struct TypedQuery<M, O = M> {
    kvs: Kvs,
    store: Arc<str>,
    query: KeyQuery<M, ()>,
    filter: Option<Result<Condition>>,
    limit: Option<usize>,
    page_token: Option<PageToken>,
    descending: bool,
    consistent: bool,
    read: Reader<O>,
}

/// How a typed read decodes what it reads, and which attributes it needs.
struct Reader<O> {
    decode: fn(&str, RawItem) -> Result<O>,
    /// `None`: whole items.
    projection: Option<&'static [&'static str]>,
}

impl<O> Clone for Reader<O> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<O> Copy for Reader<O> {}

impl<O: Send + 'static> Reader<O> {
    fn model() -> Self
    where
        O: Model,
    {
        Reader {
            decode: |store, raw| from_item(store, raw),
            projection: None,
        }
    }

    fn projection() -> Self
    where
        O: Projection,
    {
        Reader {
            decode: |store, raw| from_projection(store, raw),
            projection: Some(O::ATTRIBUTES),
        }
    }
}

impl<M: Model> TypedQuery<M> {
    /// Reads the projection `P` of each model (see [`Projection`]): only its attributes
    /// (and the keys) are read and sent where the backend projects natively; the filter
    /// still sees the whole item.
    pub fn project<P: Projection<Model = M>>(self) -> TypedQuery<M, P> {
        TypedQuery {
            kvs: self.kvs,
            store: self.store,
            query: self.query,
            filter: self.filter,
            limit: self.limit,
            page_token: self.page_token,
            descending: self.descending,
            consistent: self.consistent,
            read: Reader::projection(),
        }
    }
}

impl<M: Model, O: Send + 'static> TypedQuery<M, O> {
    /// Returns only items that meet `condition`. Several calls combine with `and`.
    pub fn filter(mut self, condition: impl IntoCond<M>) -> Self {
        and(&mut self.filter, condition.into_cond().into_condition());
        self
    }

    /// The most items per page, counted after the filter (at least 1; default 1,000).
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Continues where the page that returned `token` ended.
    pub fn page_token(mut self, token: impl Into<Option<PageToken>>) -> Self {
        self.page_token = token.into();
        self
    }

    /// Highest sort key first.
    pub fn descending(mut self) -> Self {
        self.descending = true;
        self
    }

    /// A strongly consistent read (base table only).
    pub fn consistent(mut self) -> Self {
        self.consistent = true;
        self
    }

    fn request(self) -> Result<(Kvs, Projected<QueryRequest>, Reader<O>)> {
        let q = self.query;
        let request = QueryRequest {
            store: self.store.to_string(),
            index: q.index.map(str::to_owned),
            partition: q.partition?,
            sort: q.sort.transpose()?,
            filter: self.filter.transpose()?,
            limit: self.limit,
            page_token: self.page_token,
            descending: self.descending,
            consistent: self.consistent,
        };
        let projection = self.read.projection;
        Ok((
            self.kvs,
            Projected {
                request,
                projection,
            },
            self.read,
        ))
    }

    /// Every matching model (or projection), page after page.
    pub fn stream(self) -> BoxStream<'static, Result<O>> {
        typed_stream(self.request())
    }

    /// The number of models the query matches, its filter applied, over every page
    /// (see [`Query::count`](crate::Query::count)).
    pub async fn count(self) -> Result<u64> {
        let (kvs, projected, _) = self.request()?;
        kvs.execute(CountRequest::Query(projected.request)).await
    }
}

impl<M: Model, O: Send + 'static> IntoFuture for TypedQuery<M, O> {
    type Output = Result<Page<O>>;
    type IntoFuture = BoxFuture<'static, Result<Page<O>>>;
    fn into_future(self) -> Self::IntoFuture {
        boxed(typed_page(self.request()))
    }
}

/// A typed scan; await it for a page of models, or walk every page with
/// [`stream`](TypedScan::stream).
///
/// It reads models, or with [`project`](TypedScan::project) a [`Projection`] `O` of
/// them.
#[must_use = "a request does nothing until it is awaited"]
pub struct TypedScan<M, O = M> {
    kvs: Kvs,
    store: Arc<str>,
    filter: Option<Result<Condition>>,
    limit: Option<usize>,
    page_token: Option<PageToken>,
    read: Reader<O>,
    _model: PhantomData<fn() -> M>,
}

impl<M: Model> TypedScan<M> {
    /// Reads the projection `P` of each model (see [`TypedQuery::project`]).
    pub fn project<P: Projection<Model = M>>(self) -> TypedScan<M, P> {
        TypedScan {
            kvs: self.kvs,
            store: self.store,
            filter: self.filter,
            limit: self.limit,
            page_token: self.page_token,
            read: Reader::projection(),
            _model: PhantomData,
        }
    }
}

impl<M: Model, O: Send + 'static> TypedScan<M, O> {
    /// Returns only items that meet `condition`. Several calls combine with `and`.
    pub fn filter(mut self, condition: impl IntoCond<M>) -> Self {
        and(&mut self.filter, condition.into_cond().into_condition());
        self
    }

    /// The most items per page, counted after the filter (at least 1; default 1,000).
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Continues where the page that returned `token` ended.
    pub fn page_token(mut self, token: impl Into<Option<PageToken>>) -> Self {
        self.page_token = token.into();
        self
    }

    fn request(self) -> Result<(Kvs, Projected<ScanRequest>, Reader<O>)> {
        let request = ScanRequest {
            store: self.store.to_string(),
            filter: self.filter.transpose()?,
            limit: self.limit,
            page_token: self.page_token,
        };
        let projection = self.read.projection;
        Ok((
            self.kvs,
            Projected {
                request,
                projection,
            },
            self.read,
        ))
    }

    /// Every matching model (or projection), page after page.
    pub fn stream(self) -> BoxStream<'static, Result<O>> {
        typed_stream(self.request())
    }

    /// The number of models the scan matches, its filter applied, over every page.
    pub async fn count(self) -> Result<u64> {
        let (kvs, projected, _) = self.request()?;
        kvs.execute(CountRequest::Scan(projected.request)).await
    }
}

impl<M: Model, O: Send + 'static> IntoFuture for TypedScan<M, O> {
    type Output = Result<Page<O>>;
    type IntoFuture = BoxFuture<'static, Result<Page<O>>>;
    fn into_future(self) -> Self::IntoFuture {
        boxed(typed_page(self.request()))
    }
}

/// One page of a query or scan, as models or projections.
async fn typed_page<O, R: Paged>(request: Result<(Kvs, R, Reader<O>)>) -> Result<Page<O>> {
    let (kvs, request, read) = request?;
    let store = request.store().to_owned();
    request
        .execute_raw(&kvs)
        .await?
        .try_map(|i| (read.decode)(&store, i))
}

/// Every model (or projection) of a query or scan, page after page.
fn typed_stream<O: Send + 'static, R: Paged>(
    request: Result<(Kvs, R, Reader<O>)>,
) -> BoxStream<'static, Result<O>> {
    match request {
        Ok((kvs, request, read)) => {
            let store: Arc<str> = Arc::from(request.store());
            crate::builders::pages(kvs, request)
                .map_ok(move |page| {
                    let store = store.clone();
                    futures::stream::iter(
                        page.items
                            .into_iter()
                            .map(move |i| (read.decode)(&store, i)),
                    )
                })
                .try_flatten()
                .boxed()
        }
        Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
    }
}

impl TransactWrite {
    /// Marks the write as failed to build: the transaction reports `error` before sending.
    pub(crate) fn failed(mut self, error: Error) -> Self {
        self.error = Some(error);
        self
    }
}
