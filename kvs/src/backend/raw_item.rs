//! [`RawItem`]: an item as a backend read it, decoded only when the caller says into
//! what.

use serde::de::DeserializeOwned;

use crate::{Item, Result};

/// An item as a backend read it, not yet decoded: into a dynamic [`Item`]
/// ([`into_item`](RawItem::into_item)) for the dynamic API, or straight into a
/// `Deserialize` type ([`deserialize`](RawItem::deserialize)) for the typed one, which
/// skips building the intermediate map (a string and a tree node per attribute).
///
/// A backend of its own makes one from an [`Item`] (`RawItem::from(item)`); the
/// built-in backends keep their native form (the local engine's stored bytes,
/// DynamoDB's attribute map). Both roads read the same values, with the same errors for
/// a value of the wrong type; of data that is itself corrupt (undecodable bytes, an
/// attribute DynamoDB types kvs does not know), the direct road reports what the
/// model reads, and skips the attributes the model ignores.
///
/// An item the local engine read is left where redb keeps it, and holds redb's read
/// transaction until it is decoded or dropped: decode it at once, as the library does.
/// One kept for long keeps the pages of its snapshot from being reused (the file grows)
/// and the file open; a clone is a copy that holds nothing.
#[derive(Debug, Clone)]
pub struct RawItem(Repr);

/// A value the local engine read, left in redb's page, read in place rather than copied
/// out. The guard holds the page and its read transaction: while a page is read, redb
/// must not free it for a later write (redb's debug builds assert it), which the
/// transaction ensures, however long the snapshot it came from lasts.
#[cfg(feature = "local")]
pub(crate) struct InPage(redb::OwnedAccessGuard<&'static [u8]>);

#[cfg(feature = "local")]
impl InPage {
    fn bytes(&self) -> &[u8] {
        self.0.value()
    }
}

#[cfg(feature = "local")]
impl std::fmt::Debug for InPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("InPage").field(&self.bytes()).finish()
    }
}

// A closed enum rather than a boxed trait object a backend would implement: an item is
// read on every get, page and batch, and the typed road deserializes straight from the
// native form; one `match` costs nothing, where a `Box<dyn ...>` would cost an
// allocation and virtual calls per item and a serde seam the deserializer cannot
// inline through. A backend outside the crate makes a `RawItem` from an `Item`; a
// built-in one with a native form of its own adds a variant behind its feature.
#[derive(Debug)]
enum Repr {
    Item(Item),
    /// What `codec::encode_item` wrote.
    Encoded(Vec<u8>),
    /// The same, where the local engine stored it.
    #[cfg(feature = "local")]
    InPage(InPage),
    #[cfg(feature = "dynamodb")]
    DynamoDb(std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>),
    /// A Cosmos DB document's JSON text.
    #[cfg(feature = "cosmos")]
    Cosmos(azure_core::Bytes),
}

// By hand: a value left in redb's page is copied out when cloned (its guard is not
// `Clone`). Nothing in the read path clones an item.
impl Clone for Repr {
    fn clone(&self) -> Self {
        match self {
            Repr::Item(item) => Repr::Item(item.clone()),
            Repr::Encoded(bytes) => Repr::Encoded(bytes.clone()),
            #[cfg(feature = "local")]
            Repr::InPage(page) => Repr::Encoded(page.bytes().to_vec()),
            #[cfg(feature = "dynamodb")]
            Repr::DynamoDb(attrs) => Repr::DynamoDb(attrs.clone()),
            #[cfg(feature = "cosmos")]
            Repr::Cosmos(json) => Repr::Cosmos(json.clone()),
        }
    }
}

impl RawItem {
    /// An item in the local engine's encoding.
    pub(crate) fn encoded(bytes: Vec<u8>) -> Self {
        RawItem(Repr::Encoded(bytes))
    }

    /// An item in the local engine's encoding, read where redb keeps it.
    #[cfg(feature = "local")]
    pub(crate) fn in_page(guard: redb::OwnedAccessGuard<&'static [u8]>) -> Self {
        RawItem(Repr::InPage(InPage(guard)))
    }

    /// An item as DynamoDB answered it.
    #[cfg(feature = "dynamodb")]
    pub(crate) fn dynamodb(
        attrs: std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
    ) -> Self {
        RawItem(Repr::DynamoDb(attrs))
    }

    /// An item as the JSON text of the Cosmos DB document holding it.
    #[cfg(feature = "cosmos")]
    pub(crate) fn cosmos(json: azure_core::Bytes) -> Self {
        RawItem(Repr::Cosmos(json))
    }

    /// The item as a dynamic [`Item`].
    pub fn into_item(self) -> Result<Item> {
        match self.0 {
            Repr::Item(item) => Ok(item),
            Repr::Encoded(bytes) => crate::codec::decode_stored_item(&bytes),
            #[cfg(feature = "local")]
            Repr::InPage(page) => crate::codec::decode_stored_item(page.bytes()),
            #[cfg(feature = "dynamodb")]
            Repr::DynamoDb(attrs) => crate::dynamodb::convert::into_item(attrs),
            #[cfg(feature = "cosmos")]
            Repr::Cosmos(json) => crate::cosmos::value::document_item(&json),
        }
    }

    /// The item as any `Deserialize` type, by the rules of [`from_item`](crate::from_item).
    pub fn deserialize<T: DeserializeOwned>(self) -> Result<T> {
        match self.0 {
            Repr::Item(item) => crate::from_item(item),
            Repr::Encoded(bytes) => crate::codec::deserialize_stored(&bytes),
            #[cfg(feature = "local")]
            Repr::InPage(page) => crate::codec::deserialize_stored(page.bytes()),
            #[cfg(feature = "dynamodb")]
            Repr::DynamoDb(attrs) => {
                use crate::serde_impl::raw::Source as _;
                T::deserialize(aws_sdk_dynamodb::types::AttributeValue::M(attrs).open()?)
            }
            #[cfg(feature = "cosmos")]
            Repr::Cosmos(json) => match crate::cosmos::direct::deserialize(&json) {
                Some(model) => Ok(model),
                None => crate::from_item(crate::cosmos::value::document_item(&json)?),
            },
        }
    }

    /// Runs `f` on the item as a dynamic [`Item`], decoding a copy if it is not one.
    pub(crate) fn with_item<R>(&self, f: impl FnOnce(&Item) -> R) -> Result<R> {
        match &self.0 {
            Repr::Item(item) => Ok(f(item)),
            Repr::Encoded(bytes) => Ok(f(&crate::codec::decode_stored_item(bytes)?)),
            #[cfg(feature = "local")]
            Repr::InPage(page) => Ok(f(&crate::codec::decode_stored_item(page.bytes())?)),
            #[cfg(feature = "dynamodb")]
            Repr::DynamoDb(attrs) => Ok(f(&crate::dynamodb::convert::attrs_to_item(attrs)?)),
            #[cfg(feature = "cosmos")]
            Repr::Cosmos(json) => Ok(f(&crate::cosmos::value::document_item(json)?)),
        }
    }
}

impl From<Item> for RawItem {
    fn from(item: Item) -> Self {
        RawItem(Repr::Item(item))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;
    use serde::Deserialize;

    use super::*;
    use crate::codec::{self, value::tests::any_value};
    use crate::serde_impl::raw::Source;
    use crate::{Bytes, ErrorKind, Set, Value, item};

    fn any_item() -> impl Strategy<Value = Item> {
        proptest::collection::btree_map("[a-z]{1,4}", any_value(), 0..6).prop_map(Item::from)
    }

    /// Both roads of a typed read: through an `Item`, and straight from stored bytes.
    fn both<T: DeserializeOwned>(item: &Item) -> (Result<T>, Result<T>) {
        let stored = RawItem::encoded(codec::encode_item(item));
        (
            RawItem::from(item.clone()).deserialize(),
            stored.deserialize(),
        )
    }

    /// The direct road from a DynamoDB attribute map, where the item can be one and
    /// DynamoDB reads it back unchanged (it has one number type and no empty sets).
    #[cfg(feature = "dynamodb")]
    fn from_dynamodb<T: DeserializeOwned>(item: &Item) -> Option<Result<T>> {
        use crate::dynamodb::convert::{attrs_to_item, item_to_attrs};
        let attrs = item_to_attrs(item).ok()?;
        let back = attrs_to_item(&attrs).ok()?;
        if format!("{back:?}") != format!("{item:?}") {
            return None;
        }
        Some(RawItem::dynamodb(attrs).deserialize())
    }

    /// The direct road from a Cosmos DB document's JSON text, where the item can be one
    /// (numbers a double holds, no empty set in a list) and reads back unchanged.
    #[cfg(feature = "cosmos")]
    fn from_cosmos<T: DeserializeOwned>(item: &Item) -> Option<Result<T>> {
        use crate::cosmos::value::{document_item, encode_document};
        let schema = crate::StoreSchema::new("s", crate::KeyAttr::string("pk"));
        let mut keyed = item.clone();
        keyed.insert("pk".to_owned(), Value::from("k"));
        let key = schema.key_of(&keyed).ok()?;
        let json = serde_json::to_vec(&encode_document(&schema, &key, &keyed).ok()?).ok()?;
        if document_item(&json).ok()? != keyed {
            return None;
        }
        Some(RawItem::cosmos(json.into()).deserialize())
    }

    fn same<T: PartialEq + std::fmt::Debug>(a: &Result<T>, b: &Result<T>) {
        match (a, b) {
            (Ok(a), Ok(b)) => assert_eq!(a, b),
            (Err(a), Err(b)) => {
                assert_eq!(a.kind(), b.kind(), "{a} / {b}");
                assert_eq!(a.to_string(), b.to_string());
            }
            (a, b) => panic!("the two roads differ: {a:?} / {b:?}"),
        }
    }

    fn same_answer<T: DeserializeOwned + PartialEq + std::fmt::Debug>(item: &Item) {
        let (a, b) = both::<T>(item);
        same(&a, &b);
        #[cfg(feature = "dynamodb")]
        if let Some(c) = from_dynamodb::<T>(item) {
            same(&a, &c);
        }
        #[cfg(feature = "cosmos")]
        if item.get("pk").is_none() {
            let mut keyed = item.clone();
            keyed.insert("pk".to_owned(), Value::from("k"));
            if let Some(c) = from_cosmos::<T>(item) {
                same(&crate::from_item(keyed), &c);
            }
        }
    }

    /// Fields of every kind a model reads, for items whose attributes hold anything.
    #[derive(Debug, PartialEq, Deserialize)]
    struct Loose {
        a: Option<Value>,
        b: Option<Vec<Value>>,
        // Reads two elements of a longer list, and must then move past the rest.
        c: Option<(Value, Value)>,
        d: Option<Set<String>>,
        e: Option<HashMap<String, Value>>,
        f: Option<String>,
        g: Option<i64>,
        h: Option<Vec<u8>>,
        #[serde(default)]
        i: Set<i64>,
    }

    proptest! {
        #[test]
        fn any_model_reads_stored_bytes_as_it_reads_the_item(
            item in proptest::collection::btree_map("[a-j]", any_value(), 0..10).prop_map(Item::from)
        ) {
            same_answer::<Loose>(&item);
        }

        #[test]
        fn stored_bytes_read_as_the_item_does(item in any_item()) {
            same_answer::<Value>(&item);
            same_answer::<HashMap<String, Value>>(&item);
            let stored = RawItem::encoded(codec::encode_item(&item));
            prop_assert_eq!(stored.into_item().unwrap(), item);
        }

        #[test]
        fn the_walk_reads_a_value_as_the_value_deserializer_does(v in any_value()) {
            let walked = Value::deserialize(v.clone().open().unwrap()).unwrap();
            prop_assert_eq!(walked, Value::deserialize(v).unwrap());
        }

        #[test]
        fn random_stored_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut with_version = vec![1u8];
            with_version.extend_from_slice(&bytes);
            for b in [bytes, with_version] {
                if let Err(e) = RawItem::encoded(b).deserialize::<Value>() {
                    prop_assert_eq!(e.kind(), &ErrorKind::Backend);
                }
            }
        }
    }

    /// A model that reads part of a list, or ignores attributes and nested maps, reads
    /// what follows them right.
    #[test]
    fn what_a_model_leaves_unread_is_moved_past() {
        #[derive(Debug, PartialEq, Deserialize)]
        struct Partial {
            a: (i64,),
            m: Inner,
            z: String,
        }
        #[derive(Debug, PartialEq, Deserialize)]
        struct Inner {
            y: Set<String>,
        }
        let item = item! {
            "a" => Value::List(vec![1.into(), item! { "x" => 1 }.into(), "s".into()]),
            "b" => item! { "deep" => item! { "deeper" => Value::List(vec![Value::Null]) } },
            "m" => item! { "x" => Value::number_set([1, 2]), "y" => Value::string_set(["q"]), "yy" => 3 },
            "z" => "end",
        };
        same_answer::<Partial>(&item);
        let (a, _) = both::<Partial>(&item);
        assert_eq!(a.unwrap().z, "end");
    }

    #[test]
    fn sets_read_as_the_item_does_into_any_collection() {
        let item = item! {
            "s" => Value::string_set(["b", "a"]),
            "n" => Value::number_set([3, 1, 2]),
            "y" => Value::BytesSet([vec![1u8], vec![0]].into()),
        };
        same_answer::<HashMap<String, Vec<Value>>>(&item);
        same_answer::<HashMap<String, Value>>(&item);
        #[derive(Debug, PartialEq, Deserialize)]
        struct Sets {
            s: std::collections::BTreeSet<String>,
            n: Vec<f64>,
            y: Set<Bytes>,
        }
        same_answer::<Sets>(&item);
        // A set, or a map, read as something it is not: the same error by both roads.
        same_answer::<HashMap<String, String>>(&item);
        same_answer::<HashMap<String, Vec<Value>>>(&item! { "m" => item! { "k" => 1 } });
    }

    #[test]
    fn trailing_bytes_are_corrupt_even_after_an_empty_item() {
        // Version 1, a map of no entries, then a stray byte.
        let e = RawItem::encoded(vec![1, 8, 0, 5])
            .deserialize::<Value>()
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Backend, "{e}");
        let e = RawItem::encoded(vec![1, 8, 0, 5]).into_item().unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Backend, "{e}");
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Address {
        city: String,
        zip_code: Option<String>,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    enum Status {
        Active,
        Paused { until: i64 },
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct User {
        id: String,
        age: u8,
        score: f64,
        nick: Option<String>,
        tags: Set<String>,
        lucky: Set<i64>,
        avatar: Bytes,
        address: Address,
        history: Vec<Address>,
        by_year: HashMap<u16, Option<String>>,
        status: Status,
        other: Status,
        #[serde(default)]
        missing: Vec<i64>,
    }

    fn user() -> Item {
        item! {
            "id" => "u-1",
            "age" => 42,
            "score" => 2.5,
            "tags" => Value::string_set(["a", "b"]),
            "lucky" => Value::number_set([7, 13]),
            "avatar" => Value::Bytes(vec![0, 255]),
            "address" => item! { "city" => "Oslo", "zipCode" => "0150" },
            "history" => Value::List(vec![item! { "city" => "Rome" }.into()]),
            "by_year" => item! { "2024" => "x", "2025" => Value::Null },
            "status" => "Active",
            "other" => item! { "Paused" => item! { "until" => 9 } },
            "unknown" => item! { "deep" => Value::List(vec![Value::Null]) },
        }
    }

    #[test]
    fn a_struct_reads_the_same_by_both_roads() {
        let item = user();
        let (a, b) = both::<User>(&item);
        assert_eq!(a.unwrap(), b.unwrap());
        same_answer::<User>(&item);
        #[cfg(feature = "dynamodb")]
        assert!(from_dynamodb::<User>(&item).unwrap().is_ok());
    }

    #[test]
    fn errors_are_the_same_by_both_roads() {
        for (name, bad) in [
            ("age", Value::from(300)),
            ("age", Value::from(-1)),
            ("age", Value::from("old")),
            ("score", Value::from(i64::MAX)),
            ("tags", Value::from("a")),
            ("address", Value::from(1)),
            ("history", Value::List(vec![Value::from(1)])),
            ("by_year", item! { "later" => "x" }.into()),
            ("status", Value::from("Gone")),
        ] {
            let mut item = user();
            item.set(name, bad);
            let (Err(a), Err(b)) = both::<User>(&item) else {
                panic!("{name}: expected both roads to fail");
            };
            assert_eq!(a.kind(), &ErrorKind::Serialization, "{a}");
            assert_eq!(a.to_string(), b.to_string(), "{name}");
            #[cfg(feature = "dynamodb")]
            {
                let c = from_dynamodb::<User>(&item).unwrap().unwrap_err();
                assert_eq!(a.to_string(), c.to_string(), "{name}");
            }
        }
    }
}
