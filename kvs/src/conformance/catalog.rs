//! Conformance cases: which stores a handle knows, and what it says about the others
//! (SEMANTICS.md, "Stores known without I/O").

use futures::TryStreamExt as _;

use super::errors::assert_mentions;
use super::{expect_kind, fresh_name};
use crate::{ErrorKind, Kvs, Model};

/// The cases' model: a store keyed by `owner` and `id`. The derive gives every field an
/// accessor and a case uses only some of them.
#[allow(dead_code)]
#[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
#[kvs(store = "catalog_notes", partition_key = owner, sort_key = id)]
struct Note {
    owner: String,
    id: String,
    text: String,
    views: i64,
}

fn note(id: &str, text: &str) -> Note {
    Note {
        owner: "ann".into(),
        id: id.into(),
        text: text.into(),
        views: 0,
    }
}

/// A typed store whose table exists is used by a handle that never ensured nor
/// registered it (another process, with credentials that may not create tables): every
/// operation works, and the dynamic API of that handle knows the store from then on. A
/// dynamic store that handle never registered is `StoreNotFound`, naming it and saying
/// what to do.
pub async fn catalog_typed_store_known_without_ensure(kvs: Kvs) {
    let name = fresh_name(Note::STORE);
    let creator = kvs.store_named::<Note>(&name);
    creator.ensure().await.expect("ensure");
    creator.upsert(&note("n1", "first")).await.unwrap();
    creator.upsert(&note("n2", "second")).await.unwrap();

    let other = kvs.without_stores();
    let err = expect_kind(
        other.get(&name, ("ann", "n1")).await,
        ErrorKind::StoreNotFound,
    );
    assert_mentions(&err, &name);
    for what in ["register_store", "ensure_store"] {
        assert!(err.message().contains(what), "say to use {what}: {err}");
    }

    let notes = other.store_named::<Note>(&name);
    let f = Note::fields();
    assert_eq!(
        notes.get(("ann", "n1")).await.unwrap(),
        Some(note("n1", "first"))
    );
    assert_eq!(
        notes
            .get_many([("ann", "n2"), ("ann", "n9")])
            .await
            .unwrap(),
        [Some(note("n2", "second")), None]
    );
    let page = notes
        .query(Note::partition("ann"))
        .consistent()
        .await
        .unwrap();
    assert_eq!(page.items, [note("n1", "first"), note("n2", "second")]);
    let all: Vec<Note> = notes.scan().stream().try_collect().await.unwrap();
    assert_eq!(all.len(), 2);
    let updated = notes
        .update(("ann", "n1"))
        .add(f.views(), 1)
        .when(f.text().eq("first"))
        .await
        .unwrap();
    assert_eq!(updated.views, 1);
    notes.insert(&note("n3", "third")).await.unwrap();
    kvs.transact([
        notes.delete(("ann", "n2")).into_transact_write(),
        notes.upsert(&note("n4", "fourth")).into_transact_write(),
    ])
    .await
    .unwrap();
    assert_eq!(
        notes.delete(("ann", "n3")).await.unwrap(),
        Some(note("n3", "third"))
    );

    // The typed store registered the model's schema: the dynamic API knows it now.
    assert!(other.store_names().contains(&name));
    let item = other.get(&name, ("ann", "n4")).await.unwrap();
    assert_eq!(item.map(|i| i["text"].clone()), Some("fourth".into()));
    // And the first handle sees every write.
    let mut ids: Vec<String> = creator
        .scan()
        .stream()
        .map_ok(|n| n.id)
        .try_collect()
        .await
        .unwrap();
    ids.sort();
    assert_eq!(ids, ["n1", "n4"]);
}

/// A typed store whose table does not exist is `StoreNotFound` naming it, for reads and
/// writes alike, and a write creates nothing; `ensure` then creates it. Where every
/// store exists without being created ([`implicit_stores`](crate::backend::Capabilities::implicit_stores),
/// Firestore), the typed store is empty and usable at once.
pub async fn catalog_typed_store_of_a_missing_table_is_store_not_found(kvs: Kvs) {
    let name = fresh_name(Note::STORE);
    let notes = kvs.store_named::<Note>(&name);
    if kvs.capabilities().implicit_stores {
        assert_eq!(notes.get(("ann", "n1")).await.unwrap(), None);
        assert_eq!(notes.scan().await.unwrap().items, []);
        notes.upsert(&note("n1", "x")).await.unwrap();
        assert_eq!(
            notes.get(("ann", "n1")).await.unwrap(),
            Some(note("n1", "x"))
        );
        return;
    }
    let err = expect_kind(notes.get(("ann", "n1")).await, ErrorKind::StoreNotFound);
    assert_mentions(&err, &name);
    let err = expect_kind(
        notes.upsert(&note("n1", "x")).await,
        ErrorKind::StoreNotFound,
    );
    assert_mentions(&err, &name);
    expect_kind(
        notes.upsert_many([&note("n1", "x")]).await,
        ErrorKind::StoreNotFound,
    );
    expect_kind(
        kvs.transact([notes.upsert(&note("n1", "x")).into_transact_write()])
            .await,
        ErrorKind::StoreNotFound,
    );
    expect_kind(notes.scan().await, ErrorKind::StoreNotFound);

    notes.ensure().await.expect("ensure");
    assert_eq!(notes.scan().await.unwrap().items, []);
    notes.upsert(&note("n1", "x")).await.unwrap();
    assert_eq!(
        notes.get(("ann", "n1")).await.unwrap(),
        Some(note("n1", "x"))
    );
}

/// A dynamic store is known once registered: a handle that never ensured it registers
/// its schema (no request made; the store exists, made by another handle) and then
/// reads, writes, queries its index and runs a transaction on it. Registering a schema
/// that is not well formed is `Validation`, and registers nothing.
pub async fn catalog_registered_store_known_without_ensure(kvs: Kvs) {
    let name = fresh_name("registered");
    let schema = crate::StoreSchema::new(&name, crate::KeyAttr::string("id")).index(
        crate::IndexSchema::new("byKind", crate::KeyAttr::string("kind"))
            .sort_key(crate::KeyAttr::number("n")),
    );
    kvs.ensure_store(schema.clone()).await.expect("ensure");
    kvs.upsert(&name, crate::item! { "id" => "a", "kind" => "k", "n" => 1 })
        .await
        .unwrap();

    let other = kvs.without_stores();
    expect_kind(other.get(&name, "a").await, ErrorKind::StoreNotFound);
    let bad = crate::StoreSchema::new(&name, crate::KeyAttr::string(""));
    expect_kind(other.register_store(bad), ErrorKind::Validation);
    expect_kind(other.get(&name, "a").await, ErrorKind::StoreNotFound);
    other.register_store(schema).expect("register");
    assert!(other.store_names().contains(&name));
    let a = other.get(&name, "a").await.unwrap().expect("the item");
    assert_eq!(a["n"], crate::Value::from(1));
    other
        .upsert(&name, crate::item! { "id" => "b", "kind" => "k", "n" => 2 })
        .await
        .unwrap();
    other
        .transact([crate::TransactWrite::update(
            &name,
            "a",
            crate::Updates::new().add("n", 10),
        )])
        .await
        .unwrap();
    super::settle_index(&other, &name, "byKind", "k", 2).await;
    let page = other.query(&name, "k").index("byKind").await.unwrap();
    let ids: Vec<&str> = page
        .items
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["b", "a"], "ordered by n: 2, then 11");
    // The first handle sees the other's writes.
    let a = kvs.get(&name, "a").await.unwrap().expect("the item");
    assert_eq!(a["n"], crate::Value::from(11));
}

/// A typed store does not replace a schema the handle already has under its name (one
/// registered, ensured, or found in the file): the registered one stays.
pub async fn catalog_typed_store_keeps_a_registered_schema(kvs: Kvs) {
    let name = fresh_name(Note::STORE);
    let registered = crate::StoreSchema::new(&name, crate::KeyAttr::string("owner"))
        .sort_key(crate::KeyAttr::string("id"))
        .index(crate::IndexSchema::new(
            "byText",
            crate::KeyAttr::string("text"),
        ));
    kvs.ensure_store(registered.clone()).await.expect("ensure");
    let notes = kvs.store_named::<Note>(&name);
    assert_eq!(*kvs.schema(&name).unwrap(), registered);
    notes.upsert(&note("n1", "x")).await.unwrap();
    assert_eq!(*kvs.schema(&name).unwrap(), registered);
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases_catalog {
    ($cb:path, $make:tt) => {
        $cb!($make, catalog::catalog_typed_store_known_without_ensure);
        $cb!(
            $make,
            catalog::catalog_registered_store_known_without_ensure
        );
        $cb!(
            $make,
            catalog::catalog_typed_store_of_a_missing_table_is_store_not_found
        );
        $cb!(
            $make,
            catalog::catalog_typed_store_keeps_a_registered_schema
        );
    };
}
