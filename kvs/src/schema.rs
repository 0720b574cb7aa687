//! Store schemas: the partition key, the optional sort key and the secondary indexes.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Error, ErrorKind, Item, Key, Result, Value};

/// The type a key attribute holds; each key attribute has exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyType {
    /// A non-empty string.
    String,
    /// A finite number.
    Number,
    /// Non-empty bytes.
    Bytes,
}

impl KeyType {
    /// Whether `value` has this type.
    pub fn matches(self, value: &Value) -> bool {
        matches!(
            (self, value),
            (KeyType::String, Value::String(_))
                | (KeyType::Number, Value::Number(_))
                | (KeyType::Bytes, Value::Bytes(_))
        )
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyType::String => "string",
            KeyType::Number => "number",
            KeyType::Bytes => "bytes",
        })
    }
}

/// Now, in seconds since the Unix epoch with their fraction (0 for a clock before it):
/// what an expiry is compared with, so that an item whose expiry lies a fraction of a
/// second in the past is expired at once, not at the next whole second.
pub(crate) fn now_exact() -> crate::Number {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    crate::Number::from(since.as_secs_f64())
}

/// Seconds since the Unix epoch, now (0 for a clock before it).
pub(crate) fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A key attribute: its name and its type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KeyAttr {
    /// The attribute name.
    pub name: String,
    /// The attribute's type.
    #[serde(rename = "type")]
    pub ty: KeyType,
}

impl KeyAttr {
    /// A key attribute of any type.
    pub fn new(name: impl Into<String>, ty: KeyType) -> Self {
        KeyAttr {
            name: name.into(),
            ty,
        }
    }
    /// A string key attribute.
    pub fn string(name: impl Into<String>) -> Self {
        KeyAttr::new(name, KeyType::String)
    }
    /// A number key attribute.
    pub fn number(name: impl Into<String>) -> Self {
        KeyAttr::new(name, KeyType::Number)
    }
    /// A bytes key attribute.
    pub fn bytes(name: impl Into<String>) -> Self {
        KeyAttr::new(name, KeyType::Bytes)
    }

    /// Checks that `value` can be this key attribute's value: the declared type, a
    /// non-empty string or bytes, a finite number.
    pub fn check(&self, value: &Value) -> Result<()> {
        let name = &self.name;
        if !self.ty.matches(value) {
            return Err(Error::validation(format!(
                "key attribute {name:?} must be a {}, not a {}",
                self.ty,
                value.value_type()
            )));
        }
        match value {
            Value::String(s) if s.is_empty() => Err(Error::validation(format!(
                "key attribute {name:?} cannot be an empty string"
            ))),
            Value::Bytes(b) if b.is_empty() => Err(Error::validation(format!(
                "key attribute {name:?} cannot be empty bytes"
            ))),
            Value::Number(n) if !n.is_finite() => Err(Error::validation(format!(
                "key attribute {name:?} must be a finite number, not {n}"
            ))),
            _ => Ok(()),
        }
    }
}

/// A secondary index: a name, a partition key attribute and an optional sort key
/// attribute. Indexes project the whole item and are sparse: an item without the
/// index's key attributes is not in it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IndexSchema {
    /// The index name, unique within its store.
    pub name: String,
    /// The index partition key.
    pub partition_key: KeyAttr,
    /// The index sort key, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_key: Option<KeyAttr>,
}

impl IndexSchema {
    /// An index on `partition_key`.
    pub fn new(name: impl Into<String>, partition_key: KeyAttr) -> Self {
        IndexSchema {
            name: name.into(),
            partition_key,
            sort_key: None,
        }
    }

    /// The index's sort key, builder style.
    pub fn sort_key(mut self, sort_key: KeyAttr) -> Self {
        self.sort_key = Some(sort_key);
        self
    }

    /// The index key attributes of an item, or `None` if the item is not in the index
    /// (sparse). An index key attribute of the wrong type is a validation error.
    pub fn key_of(&self, item: &Item) -> Result<Option<Key>> {
        let ctx = |e: Error| e.context(format_args!("index {:?}", self.name));
        // Every index key attribute that is present must be valid, even where the other
        // one is missing and the item is not in the index (as DynamoDB checks it).
        let partition = item.get(&self.partition_key.name);
        if let Some(p) = partition {
            self.partition_key.check(p).map_err(ctx)?;
        }
        let sort = match &self.sort_key {
            None => None,
            Some(attr) => match item.get(&attr.name) {
                None => return Ok(None),
                Some(s) => {
                    attr.check(s).map_err(ctx)?;
                    Some(s)
                }
            },
        };
        Ok(partition.map(|p| match sort {
            Some(s) => Key::with_sort(p.clone(), s.clone()),
            None => Key::new(p.clone()),
        }))
    }
}

/// What a store is: its name, key attributes and secondary indexes.
///
/// ```
/// use kvs::{IndexSchema, KeyAttr, StoreSchema};
///
/// let orders = StoreSchema::new("orders", KeyAttr::string("orderId"))
///     .index(IndexSchema::new("byUser", KeyAttr::string("userId")).sort_key(KeyAttr::number("createdAt")))
///     .index(IndexSchema::new("byStatus", KeyAttr::string("status")).sort_key(KeyAttr::number("updatedAt")));
/// assert!(orders.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StoreSchema {
    /// The store name.
    pub name: String,
    /// The partition key attribute.
    pub partition_key: KeyAttr,
    /// The sort key attribute, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_key: Option<KeyAttr>,
    /// The secondary indexes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<IndexSchema>,
    /// The expiry attribute, if the store's items expire: an item whose attribute holds
    /// a number of seconds since the Unix epoch at or before now is expired, invisible
    /// to every read and write at once (see [`StoreSchema::ttl`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
}

impl StoreSchema {
    /// A store keyed by `partition_key` alone.
    pub fn new(name: impl Into<String>, partition_key: KeyAttr) -> Self {
        StoreSchema {
            name: name.into(),
            partition_key,
            sort_key: None,
            indexes: Vec::new(),
            ttl: None,
        }
    }

    /// Makes the store's items expire by `attribute`, builder style: an item whose
    /// attribute is a number of seconds since the Unix epoch at or before now is
    /// expired. An expired item is invisible at once, on every backend: a get returns
    /// none, queries, scans, counts and `get_many` skip it, an update of it is
    /// `NotFound`, an insert over it succeeds, a delete returns none, and a condition
    /// sees it as missing. Its storage is reclaimed natively where the backend can
    /// (DynamoDB's TTL, Cosmos DB's per-item `ttl`, Firestore's TTL policy) and by the
    /// local engine itself; that deletion may come late, and no read waits for it.
    /// An item without the attribute, or with a value that is not a number, never
    /// expires.
    pub fn ttl(mut self, attribute: impl Into<String>) -> Self {
        self.ttl = Some(attribute.into());
        self
    }

    /// The second `item` expires at: its expiry attribute, rounded up to whole seconds
    /// since the Unix epoch (saturating); `None` if the store's items do not expire or
    /// the item has no number there. The backends' own deletion (a DynamoDB TTL value,
    /// a Cosmos DB `ttl`, a Firestore timestamp, the local engine's expiry table) is
    /// scheduled by it.
    pub fn expiry_second(&self, item: &Item) -> Option<i64> {
        match item.get(self.ttl.as_deref()?)? {
            Value::Number(n) => Some(n.as_i64().unwrap_or_else(|| {
                // Saturating: `as` clamps a float beyond i64 (and NaN cannot occur).
                n.to_f64_lossy().ceil() as i64
            })),
            _ => None,
        }
    }

    /// Whether `item` is expired now (see [`StoreSchema::ttl`]).
    pub fn is_expired(&self, item: &Item) -> bool {
        // The clock is read only for a store whose items expire.
        self.ttl.is_some() && self.expired_at(item, &now_exact())
    }

    /// Whether `item` is expired at `now` (seconds since the Unix epoch).
    pub fn is_expired_at(&self, item: &Item, now: i64) -> bool {
        self.expired_at(item, &crate::Number::from(now))
    }

    fn expired_at(&self, item: &Item, now: &crate::Number) -> bool {
        match self.ttl.as_deref().and_then(|a| item.get(a)) {
            Some(Value::Number(at)) => at <= now,
            _ => false,
        }
    }

    /// The condition an item that is not expired now meets, for a store whose items
    /// expire (`None` for one whose items do not; the clock is read only for one that
    /// does).
    pub fn unexpired(&self) -> Option<crate::Condition> {
        self.ttl.as_ref()?;
        self.unexpired_after(now_exact())
    }

    /// The condition an item that is not expired at `now` meets, for a store whose items
    /// expire: its expiry attribute is not a number, or is one after `now`.
    pub fn unexpired_at(&self, now: i64) -> Option<crate::Condition> {
        self.unexpired_after(crate::Number::from(now))
    }

    fn unexpired_after(&self, now: crate::Number) -> Option<crate::Condition> {
        let path = crate::Path::attr(self.ttl.as_deref()?);
        Some(
            !path
                .clone()
                .type_of(crate::ValueType::Number)
                .and(path.le(now)),
        )
    }

    /// The store's sort key, builder style.
    pub fn sort_key(mut self, sort_key: KeyAttr) -> Self {
        self.sort_key = Some(sort_key);
        self
    }

    /// Adds a secondary index, builder style.
    pub fn index(mut self, index: IndexSchema) -> Self {
        self.indexes.push(index);
        self
    }

    /// The index named `name`, or [`ErrorKind::StoreNotFound`] naming it, the indexes
    /// the store has, and how to add one.
    pub fn find_index(&self, name: &str) -> Result<&IndexSchema> {
        self.indexes.iter().find(|i| i.name == name).ok_or_else(|| {
            let known = if self.indexes.is_empty() {
                "it has none".to_owned()
            } else {
                let names: Vec<String> = self
                    .indexes
                    .iter()
                    .map(|i| format!("{:?}", i.name))
                    .collect();
                format!("it has {}", names.join(", "))
            };
            Error::new(
                ErrorKind::StoreNotFound,
                format!(
                    "store {:?} has no index {name:?} ({known}): declare it in the store's \
                     schema (`StoreSchema::index`, or `#[kvs(index(..))]` on a model) and \
                     register or ensure the store again",
                    self.name
                ),
            )
        })
    }

    /// Checks the schema itself: names are non-empty, index names are unique, and an
    /// attribute used as a key in several places has one type everywhere.
    pub fn validate(&self) -> Result<()> {
        let bad = |why: String| Error::validation(format!("store schema {:?}: {why}", self.name));
        if self.name.is_empty() || self.name.contains('\0') {
            return Err(bad("a store name must be non-empty and hold no NUL".into()));
        }
        let mut attrs: Vec<&KeyAttr> = vec![&self.partition_key];
        attrs.extend(&self.sort_key);
        if let Some(sort) = &self.sort_key
            && sort.name == self.partition_key.name
        {
            return Err(bad("the sort key must differ from the partition key".into()));
        }
        for (i, index) in self.indexes.iter().enumerate() {
            if index.name.is_empty() || index.name.contains('\0') {
                return Err(bad("an index name must be non-empty and hold no NUL".into()));
            }
            if self.indexes[..i].iter().any(|o| o.name == index.name) {
                return Err(bad(format!("index {:?} is declared twice", index.name)));
            }
            if let Some(sort) = &index.sort_key
                && sort.name == index.partition_key.name
            {
                return Err(bad(format!(
                    "index {:?}: the sort key must differ from the partition key",
                    index.name
                )));
            }
            attrs.push(&index.partition_key);
            attrs.extend(&index.sort_key);
        }
        if let Some(ttl) = &self.ttl {
            if ttl.is_empty() {
                return Err(bad("the expiry attribute name cannot be empty".into()));
            }
            if attrs.iter().any(|a| &a.name == ttl) {
                return Err(bad(format!(
                    "the expiry attribute {ttl:?} is a key attribute: a key never changes"
                )));
            }
        }
        for (i, a) in attrs.iter().enumerate() {
            if a.name.is_empty() {
                return Err(bad("a key attribute name cannot be empty".into()));
            }
            if let Some(b) = attrs[..i].iter().find(|b| b.name == a.name && b.ty != a.ty) {
                return Err(bad(format!(
                    "attribute {:?} is a {} key in one place and a {} key in another",
                    a.name, b.ty, a.ty
                )));
            }
        }
        Ok(())
    }

    /// Checks that a key fits the schema: a partition value of the declared type, and a
    /// sort value exactly when the store has a sort key.
    pub fn check_key(&self, key: &Key) -> Result<()> {
        let ctx = |e: Error| e.context(format_args!("store {:?}", self.name));
        self.partition_key.check(key.partition()).map_err(ctx)?;
        match (&self.sort_key, key.sort()) {
            (Some(attr), Some(v)) => attr.check(v).map_err(ctx),
            (None, None) => Ok(()),
            (Some(attr), None) => Err(Error::validation(format!(
                "store {:?} needs a sort key value ({:?}) in every key",
                self.name, attr.name
            ))),
            (None, Some(_)) => Err(Error::validation(format!(
                "store {:?} has no sort key, but the key has a sort value",
                self.name
            ))),
        }
    }

    /// The key of an item, checked.
    pub fn key_of(&self, item: &Item) -> Result<Key> {
        let get = |attr: &KeyAttr| {
            item.get(&attr.name).ok_or_else(|| {
                Error::validation(format!(
                    "the item has no key attribute {:?} (store {:?})",
                    attr.name, self.name
                ))
            })
        };
        let partition = get(&self.partition_key)?.clone();
        let key = match &self.sort_key {
            Some(attr) => Key::with_sort(partition, get(attr)?.clone()),
            None => Key::new(partition),
        };
        self.check_key(&key)?;
        Ok(key)
    }

    /// The key as an item of its attributes.
    pub fn key_item(&self, key: &Key) -> Item {
        let mut item = Item::new();
        item.set(self.partition_key.name.clone(), key.partition().clone());
        if let (Some(attr), Some(v)) = (&self.sort_key, key.sort()) {
            item.set(attr.name.clone(), v.clone());
        }
        item
    }

    /// Whether `attribute` is the partition or the sort key of the store.
    pub fn is_key_attribute(&self, attribute: &str) -> bool {
        self.partition_key.name == attribute
            || self.sort_key.as_ref().is_some_and(|s| s.name == attribute)
    }

    /// The key attribute of the first index keyed on `attribute` (partition or sort),
    /// if any. Every index that names the attribute declares it with the same type
    /// ([`StoreSchema::validate`] checks that).
    pub fn index_key_attribute(&self, attribute: &str) -> Option<&KeyAttr> {
        self.indexes
            .iter()
            .flat_map(|i| std::iter::once(&i.partition_key).chain(&i.sort_key))
            .find(|a| a.name == attribute)
    }

    /// Checks a whole item before it is written: the key, every index key attribute
    /// present, finite numbers, nesting depth and size.
    pub fn check_item(&self, item: &Item) -> Result<Key> {
        self.check_item_with(item, &crate::backend::Capabilities::default())
    }

    /// [`check_item`](Self::check_item) with the values held to `caps` (a backend's
    /// declaration within the portable limits) instead of the portable limits alone.
    pub(crate) fn check_item_with(
        &self,
        item: &Item,
        caps: &crate::backend::Capabilities,
    ) -> Result<Key> {
        let key = self.key_of(item)?;
        for index in &self.indexes {
            index
                .key_of(item)
                .map_err(|e| e.context(format_args!("store {:?}", self.name)))?;
        }
        caps.check_item(item)
            .and_then(|()| caps.check_ordered_keys(self, item))
            .map_err(|e| e.context(format_args!("store {:?}, item {key}", self.name)))?;
        Ok(key)
    }
}
