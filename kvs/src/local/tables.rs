//! The redb tables of the embedded engine and the reads and writes on them.
//!
//! Each store is a table from encoded primary key to encoded item; each secondary index
//! is a table from encoded index key (index partition, index sort, primary key) to the
//! primary key. Index entries are written in the same write transaction as their item.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::Arc;

use redb::{ReadableTable, TableDefinition, WriteTransaction};

use crate::codec;
use crate::{Error, IndexSchema, Item, Result, StoreSchema};

/// Store name -> encoded schema. Its name starts with NUL, which no store name holds.
pub(crate) const META: TableDefinition<&str, &[u8]> = TableDefinition::new("\0kvs\0meta");

pub(crate) type Bytes<'a> = TableDefinition<'a, &'static [u8], &'static [u8]>;

/// The name of a store's item table: the store name itself, so that the hot paths
/// allocate no name.
pub(crate) fn items_table(store: &str) -> &str {
    store
}

/// The name of an index table. It holds a NUL, which store names cannot, so it never
/// meets an item table's name.
pub(crate) fn index_table(store: &str, index: &str) -> String {
    format!("{store}\0{index}")
}

/// The name of a store's expiry table (for a store whose items expire): expiry time,
/// then primary key, of every item that has one, so that expired items are found in
/// order without a scan. Two NULs: no index name holds a NUL.
pub(crate) fn expiry_table(store: &str) -> String {
    format!("{store}\0\0expires")
}

/// The expiry table entry of an item: its expiry in whole seconds (rounded up), in an
/// order-preserving encoding, then its table key; `None` for an item that does not
/// expire.
pub(crate) fn expiry_entry(schema: &StoreSchema, item: &Item, table_key: &[u8]) -> Option<Vec<u8>> {
    let mut entry = expiry_prefix(schema.expiry_second(item)?);
    entry.extend_from_slice(table_key);
    Some(entry)
}

/// The first 8 bytes of the expiry entries of second `at`: big-endian with the sign bit
/// flipped, so that byte order is time order.
fn expiry_prefix(at: i64) -> Vec<u8> {
    ((at as u64) ^ (1 << 63)).to_be_bytes().to_vec()
}

pub(crate) fn storage(e: impl Into<redb::Error>) -> Error {
    let e: redb::Error = e.into();
    Error::backend(format!("local store: {e}"), e)
}

/// Decodes a stored item. Bytes that do not decode are a corrupt store, not bad input:
/// a `Backend` error naming the store.
pub(crate) fn decode_stored(store: &str, bytes: &[u8]) -> Result<Item> {
    codec::decode_item(bytes).map_err(|e| {
        Error::new(
            crate::ErrorKind::Backend,
            format!(
                "local store: an item of store {store:?} is corrupt ({})",
                e.message()
            ),
        )
    })
}

pub(crate) fn encode_schema(schema: &StoreSchema) -> Result<Vec<u8>> {
    Ok(codec::encode_item(&crate::to_item(schema)?))
}

/// Decodes a stored schema. As with items, bytes that do not decode are a corrupt file:
/// a `Backend` error.
pub(crate) fn decode_schema(bytes: &[u8]) -> Result<StoreSchema> {
    codec::decode_item(bytes)
        .and_then(crate::from_item)
        .map_err(|e| {
            Error::new(
                crate::ErrorKind::Backend,
                format!("local store: a store's schema is corrupt ({})", e.message()),
            )
        })
}

/// Reads and writes items inside one write transaction, keeping indexes in step, for
/// one write: it notes whether the write changed anything, so that a group commit
/// knows whether a write that then failed spoiled the transaction (see `commit`).
pub(crate) struct Writer<'t> {
    txn: &'t WriteTransaction,
    wrote: Cell<bool>,
    defining: &'t Defining,
}

/// The schemas an uncommitted write transaction has defined (by `ensure_store`), shared
/// by the writes of the transaction (a group commit's): a write after an `ensure_store`
/// in the same transaction keeps up the schema it made. Gone with the transaction; the
/// committed schemas are the backend's once the commit is durable.
pub(crate) type Defining = RefCell<HashMap<String, Arc<StoreSchema>>>;

/// A table of a write transaction, opened to change it.
pub(crate) type WriteTable<'t> = redb::Table<'t, &'static [u8], &'static [u8]>;

impl<'t> Writer<'t> {
    pub(crate) fn new(txn: &'t WriteTransaction, defining: &'t Defining) -> Self {
        Writer {
            txn,
            wrote: Cell::new(false),
            defining,
        }
    }

    /// Notes that this transaction defines `schema`.
    pub(crate) fn define(&self, schema: &StoreSchema) {
        self.defining
            .borrow_mut()
            .insert(schema.name.clone(), Arc::new(schema.clone()));
    }

    /// The schema this transaction defined for `store`, if it did.
    pub(crate) fn defined_here(&self, store: &str) -> Option<Arc<StoreSchema>> {
        self.defining.borrow().get(store).cloned()
    }

    /// Whether this write has changed anything in the transaction (or may have: opening
    /// a table to change it counts).
    pub(crate) fn wrote(&self) -> bool {
        self.wrote.get()
    }

    /// Opens the table `name` to change it.
    pub(crate) fn table(&self, name: &str) -> Result<WriteTable<'t>> {
        self.wrote.set(true);
        self.txn.open_table(Bytes::new(name)).map_err(storage)
    }

    /// The transaction, to change it in ways the other methods do not (the schema
    /// table, dropping tables).
    pub(crate) fn changing(&self) -> &'t WriteTransaction {
        self.wrote.set(true);
        self.txn
    }

    /// The transaction, only to read.
    pub(crate) fn reading(&self) -> &'t WriteTransaction {
        self.txn
    }

    pub(crate) fn get(&self, schema: &StoreSchema, key: &[u8]) -> Result<Option<Item>> {
        let name = items_table(&schema.name);
        let table = self.txn.open_table(Bytes::new(name)).map_err(storage)?;
        let found = table.get(key).map_err(storage)?;
        found
            .map(|v| decode_stored(&schema.name, v.value()))
            .transpose()
    }

    /// Writes `new` in place of `old` (the item stored under `key` now, if any). What
    /// can refuse the write (an index key of the wrong type) is found before anything
    /// is changed.
    pub(crate) fn put(
        &self,
        schema: &StoreSchema,
        key: &[u8],
        old: Option<&Item>,
        new: &Item,
    ) -> Result<()> {
        let mut moves = Vec::new();
        for index in &schema.indexes {
            let before = old
                .map(|o| index_entry(index, o, key))
                .transpose()?
                .flatten();
            let after = index_entry(index, new, key)?;
            if before != after {
                moves.push((index_table(&schema.name, &index.name), before, after));
            }
        }
        for (name, before, after) in moves {
            let mut table = self.table(&name)?;
            if let Some(b) = before {
                table.remove(b.as_slice()).map_err(storage)?;
            }
            if let Some(a) = after {
                table.insert(a.as_slice(), key).map_err(storage)?;
            }
        }
        if schema.ttl.is_some() {
            let before = old.and_then(|o| expiry_entry(schema, o, key));
            let after = expiry_entry(schema, new, key);
            if before != after {
                let mut table = self.table(&expiry_table(&schema.name))?;
                if let Some(b) = before {
                    table.remove(b.as_slice()).map_err(storage)?;
                }
                if let Some(a) = after {
                    table.insert(a.as_slice(), &[][..]).map_err(storage)?;
                }
            }
        }
        self.table(items_table(&schema.name))?
            .insert(key, codec::encode_item(new).as_slice())
            .map_err(storage)?;
        Ok(())
    }

    /// Deletes up to `most` of the store's items that expired by `now`, earliest first,
    /// found by the expiry table (no scan): the embedded engine reclaims their storage
    /// a few at a time, with the writes of the store. Reads never saw them.
    pub(crate) fn reclaim(&self, schema: &StoreSchema, now: i64, most: usize) -> Result<()> {
        if schema.ttl.is_none() {
            return Ok(());
        }
        let due: Vec<Vec<u8>> = {
            let name = expiry_table(&schema.name);
            let table = self.txn.open_table(Bytes::new(&name)).map_err(storage)?;
            let upper = expiry_prefix(now.saturating_add(1));
            // A few more entries than are deleted: an entry whose item is not expired
            // after all (a decimal expiry its whole second rounds) is passed over.
            table
                .range(..upper.as_slice())
                .map_err(storage)?
                .take(most.saturating_mul(4))
                .map(|e| e.map(|(k, _)| k.value().to_vec()).map_err(storage))
                .collect::<Result<_>>()?
        };
        let mut deleted = 0;
        for entry in due {
            if deleted == most {
                break;
            }
            let Some(key) = entry.get(8..) else {
                return Err(Error::new(
                    crate::ErrorKind::Backend,
                    format!(
                        "local store: the expiry table of {:?} is corrupt",
                        schema.name
                    ),
                ));
            };
            match self.get(schema, key)? {
                Some(item) if schema.is_expired_at(&item, now) => {
                    self.remove(schema, key, &item)?;
                    deleted += 1;
                }
                Some(_) => {}
                // An entry left behind (never, as writes keep the table in step): drop it.
                None => {
                    self.table(&expiry_table(&schema.name))?
                        .remove(entry.as_slice())
                        .map_err(storage)?;
                }
            }
        }
        Ok(())
    }

    /// Removes the item `old` stored under `key`.
    pub(crate) fn remove(&self, schema: &StoreSchema, key: &[u8], old: &Item) -> Result<()> {
        let mut entries = Vec::with_capacity(schema.indexes.len());
        for index in &schema.indexes {
            if let Some(entry) = index_entry(index, old, key)? {
                entries.push((index_table(&schema.name, &index.name), entry));
            }
        }
        if let Some(entry) = expiry_entry(schema, old, key) {
            entries.push((expiry_table(&schema.name), entry));
        }
        for (name, entry) in entries {
            self.table(&name)?
                .remove(entry.as_slice())
                .map_err(storage)?;
        }
        self.table(items_table(&schema.name))?
            .remove(key)
            .map_err(storage)?;
        Ok(())
    }
}

/// The index entry key of an item, or `None` where the item is not in the index.
pub(crate) fn index_entry(
    index: &IndexSchema,
    item: &Item,
    table_key: &[u8],
) -> Result<Option<Vec<u8>>> {
    Ok(index.key_of(item)?.map(|k| codec::index_key(&k, table_key)))
}
