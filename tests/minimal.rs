//! The proof of the backend kit: a deliberately small engine, a `Mutex<BTreeMap>` of
//! items with a version each, implements only the required primitives of
//! [`VersionedBackend`] (a versioned read, a write if the version is unchanged, range
//! reads) and a versioned multi-write, and runs the whole conformance suite through the
//! kit's defaults: every conditional write, update op, delete returning the old item,
//! exact page, batch and transaction comes from the kit and the shared evaluator. This
//! is what a Firestore or Cosmos DB backend is: a converter, not a copy.
//!
//! The same engine, declaring less (a smaller nesting depth and item size, an integer
//! range, transactions within one partition key value, or none), runs the capability
//! cases, which read the declaration and check that the library refuses what it rules
//! out before anything reaches the engine.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use kvs::backend::{
    Capabilities, Change, Expected, QueryPlan, RawItem, RawPage, ScanPlan, TransactionScope,
    Version, Versioned, VersionedBackend, VersionedWrite, async_trait,
};
use kvs::{Error, ErrorKind, Item, Key, Kvs, Path, Result, StoreSchema, codec, eval};

/// One store: its schema, and its items by the order-preserving encoding of their keys
/// (the library's, as a real backend would encode a document id), each with the
/// version it was last written at.
#[derive(Debug)]
struct Table {
    schema: StoreSchema,
    items: BTreeMap<Vec<u8>, (Item, u64)>,
}

#[derive(Debug, Default)]
struct State {
    tables: BTreeMap<String, Table>,
    /// The last version given; each write gives the next.
    version: u64,
}

impl State {
    fn table(&mut self, schema: &StoreSchema) -> &mut Table {
        self.tables
            .entry(schema.name.clone())
            .or_insert_with(|| Table {
                schema: schema.clone(),
                items: BTreeMap::new(),
            })
    }

    /// The store, or `StoreNotFound` if `ensure_store` never made it, as a real
    /// backend answers for a missing table or collection.
    fn defined(&self, schema: &StoreSchema) -> Result<&Table> {
        self.tables.get(&schema.name).ok_or_else(|| {
            Error::new(
                ErrorKind::StoreNotFound,
                format!("store {:?} does not exist", schema.name),
            )
        })
    }

    /// Whether the item is as the write expects (`StoreNotFound` if its store is not).
    fn holds(&self, w: &VersionedWrite<'_>) -> Result<bool> {
        let current = self.defined(w.schema)?.items.get(&codec::table_key(w.key));
        Ok(match (&w.expected, current) {
            (Expected::Any, _) | (Expected::Absent, None) => true,
            (Expected::Version(v), Some((_, n))) => *v == Version::from(*n),
            _ => false,
        })
    }

    fn apply(&mut self, w: &VersionedWrite<'_>) {
        self.version += 1;
        let version = self.version;
        let items = &mut self.table(w.schema).items;
        match w.change {
            Change::Put(item) => {
                items.insert(codec::table_key(w.key), (item.clone(), version));
            }
            Change::Delete => {
                items.remove(&codec::table_key(w.key));
            }
            Change::Keep => {}
        }
    }
}

#[derive(Debug, Clone)]
struct Minimal {
    state: Arc<Mutex<State>>,
    caps: Capabilities,
}

impl Minimal {
    fn new(caps: Capabilities) -> Self {
        Minimal {
            state: Arc::default(),
            caps,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Up to `limit` of `entries` (position, item), in order or reversed, strictly after
/// the position `after`.
fn range(
    mut entries: Vec<(Vec<u8>, Item)>,
    after: Option<Vec<u8>>,
    descending: bool,
    limit: usize,
) -> RawPage {
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    if descending {
        entries.reverse();
    }
    let mut rest = entries
        .into_iter()
        .filter(|(position, _)| match &after {
            None => true,
            Some(a) if descending => position < a,
            Some(a) => position > a,
        })
        .map(|(_, item)| RawItem::from(item));
    let items: Vec<RawItem> = rest.by_ref().take(limit).collect();
    RawPage {
        more: rest.next().is_some(),
        items,
    }
}

#[async_trait]
impl VersionedBackend for Minimal {
    fn name(&self) -> &'static str {
        "minimal"
    }

    fn capabilities(&self) -> Capabilities {
        self.caps
    }

    async fn ensure_store(&self, schema: &StoreSchema) -> Result<()> {
        let mut state = self.state();
        let table = state.table(schema);
        if table.schema.partition_key != schema.partition_key
            || table.schema.sort_key != schema.sort_key
        {
            return Err(Error::validation(format!(
                "store {:?} exists with another key schema",
                schema.name
            )));
        }
        table.schema = schema.clone();
        Ok(())
    }

    async fn get_versioned(&self, schema: &StoreSchema, key: &Key) -> Result<Option<Versioned>> {
        let state = self.state();
        let found = state.defined(schema)?.items.get(&codec::table_key(key));
        Ok(found.map(|(item, n)| Versioned {
            item: RawItem::from(item.clone()),
            version: Version::from(*n),
        }))
    }

    async fn write_if_version(&self, write: &VersionedWrite<'_>) -> Result<bool> {
        let mut state = self.state();
        if !state.holds(write)? {
            return Ok(false);
        }
        state.apply(write);
        Ok(true)
    }

    async fn write_all_if_versions(&self, writes: &[VersionedWrite<'_>]) -> Result<bool> {
        let mut state = self.state();
        for w in writes {
            if !state.holds(w)? {
                return Ok(false);
            }
        }
        for w in writes {
            state.apply(w);
        }
        Ok(true)
    }

    async fn read_query(&self, plan: &QueryPlan<'_>) -> Result<RawPage> {
        let state = self.state();
        let table = state.defined(plan.schema)?;
        let schema = &table.schema;
        let (partition, sort) = match plan.index {
            Some(index) => (&index.partition_key, index.sort_key.as_ref()),
            None => (&schema.partition_key, schema.sort_key.as_ref()),
        };
        let sort = match (plan.sort, sort) {
            (Some(condition), Some(attr)) => Some(condition.to_condition(Path::attr(&attr.name))),
            _ => None,
        };
        // An item's position: its table key, behind its index key when reading an
        // index (ties in an index come in table key order).
        let position = |item: &Item| -> Result<Option<Vec<u8>>> {
            let table_key = codec::table_key(&schema.key_of(item)?);
            Ok(match plan.index {
                None => Some(table_key),
                Some(index) => index
                    .key_of(item)?
                    .map(|k| codec::index_key(&k, &table_key)),
            })
        };
        let mut entries = Vec::new();
        for (item, _) in table.items.values() {
            let in_partition = item.get(&partition.name) == Some(plan.partition);
            let in_range = sort.as_ref().is_none_or(|c| eval::matches(c, Some(item)));
            if in_partition
                && in_range
                && let Some(p) = position(item)?
            {
                entries.push((p, item.clone()));
            }
        }
        let after = plan.after.map(position).transpose()?.flatten();
        Ok(range(entries, after, plan.descending, plan.limit))
    }

    async fn read_scan(&self, plan: &ScanPlan<'_>) -> Result<RawPage> {
        let state = self.state();
        let table = state.defined(plan.schema)?;
        let entries = table
            .items
            .iter()
            .map(|(k, (item, _))| (k.clone(), item.clone()))
            .collect();
        let after = plan
            .after
            .map(|a| table.schema.key_of(a).map(|k| codec::table_key(&k)))
            .transpose()?;
        Ok(range(entries, after, false, plan.limit))
    }
}

/// Everything exact, transactions across anything.
async fn kvs() -> Kvs {
    let mut caps = Capabilities::default();
    caps.transactions = TransactionScope::Any;
    Kvs::new(Minimal::new(caps))
}

// In memory a random input takes milliseconds: many of them.
kvs::conformance_tests!(kvs, random = kvs::conformance::Random::cases(256));

/// The capability cases on the same engine declaring less, each declaration its own
/// module of tests.
mod declaring_less {
    use super::*;

    macro_rules! capability_cases {
        ($make:ident) => {
            #[test]
            fn depth() {
                kvs::conformance::run(
                    $make,
                    kvs::conformance::capabilities::caps_declared_depth_kept_on_every_path,
                );
            }
            #[test]
            fn item_size() {
                kvs::conformance::run(
                    $make,
                    kvs::conformance::capabilities::caps_declared_item_size_kept_on_every_path,
                );
            }
            #[test]
            fn integer_range() {
                kvs::conformance::run(
                    $make,
                    kvs::conformance::capabilities::caps_declared_integer_range_kept_on_every_path,
                );
            }
            #[test]
            fn transaction_scope() {
                kvs::conformance::run(
                    $make,
                    kvs::conformance::capabilities::caps_declared_transaction_scope_kept,
                );
            }
        };
    }

    /// Firestore-like limits: depth 20, a smaller item, integers as doubles hold them
    /// (Cosmos DB), transactions within one partition key value.
    mod one_partition {
        use super::*;

        async fn kvs() -> Kvs {
            let mut caps = Capabilities::default();
            caps.max_depth = 20;
            caps.max_item_size = 64 * 1024;
            caps.integer_range = Some((-(1 << 53), 1 << 53));
            caps.transactions = TransactionScope::OnePartition;
            Kvs::new(Minimal::new(caps))
        }

        capability_cases!(kvs);
    }

    /// No transactions, and a shallow depth: `transact` is `Unsupported` before
    /// anything reaches the engine.
    mod no_transactions {
        use super::*;

        async fn kvs() -> Kvs {
            let mut caps = Capabilities::default();
            caps.max_depth = 6;
            caps.transactions = TransactionScope::None;
            Kvs::new(Minimal::new(caps))
        }

        capability_cases!(kvs);
    }
}
