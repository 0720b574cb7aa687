//! Conformance cases: a model's catch-all field (`#[kvs(catch_all)]`) keeps the
//! attributes the model does not declare through a typed read and upsert; a model
//! without one removes them (a typed upsert writes the whole item).

use super::errors::assert_mentions;
use super::values::{storable_int, stores_int};
use super::{expect_kind, fresh_name};
use crate::{ErrorKind, Item, Kvs, Model, Store, Value, item};

/// A model sharing its store with other programs: it keeps what they write.
#[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
#[kvs(store = "catch_all_profiles", partition_key = id)]
struct Profile {
    id: String,
    name: String,
    visits: i64,
    #[kvs(catch_all)]
    #[serde(flatten)]
    extra: Item,
}

/// The same store seen by a model without a catch-all.
#[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
#[kvs(store = "catch_all_profiles", partition_key = id)]
struct Declared {
    id: String,
    name: String,
    visits: i64,
}

/// The attributes another program writes beside the model's own: every kind of value,
/// among them those serde alone cannot carry through a flattened map (sets, and sets
/// and bytes inside nested maps and lists). `big` is the largest integer the backend
/// declares it stores (`i64::MAX` where it declares no `integer_range`).
fn foreign_attributes(kvs: &Kvs) -> Item {
    let mut item = item! {
        "tags" => Value::string_set(["a", "b"]),
        "scores" => Value::number_set([1, 2, 3]),
        "keys" => Value::bytes_set([vec![0u8, 1], vec![255]]),
        "avatar" => Value::bytes(vec![0u8, 159, 146, 150]),
        "nothing" => Value::Null,
        "flag" => true,
        "ratio" => 1.5,
        "big" => storable_int(&kvs.capabilities(), i64::MAX),
        "note" => "kept",
        "nested" => item! {
            "labels" => Value::string_set(["x"]),
            "raw" => Value::bytes(vec![7u8]),
            "list" => Value::list([
                Value::from(1),
                Value::from("two"),
                Value::Null,
                Value::number_set([4, 5]),
                Value::from(item! { "deep" => Value::bytes_set([vec![9u8]]) }),
            ]),
        },
    };
    if kvs.capabilities().exact_decimals {
        // 38 digits, which neither an i64 nor an f64 holds: kept exactly, not rounded.
        let exact: crate::Decimal = "1234567890.1234567890123456789012345678"
            .parse()
            .expect("a 38-digit decimal");
        item.set("exact", exact);
    }
    item
}

/// The typed stores of both models on one fresh store, and an item written there by
/// "another program" (the dynamic API): the model's attributes and
/// [`foreign_attributes`].
async fn shared_store(kvs: &Kvs) -> (Store<Profile>, Store<Declared>, Item) {
    let name = fresh_name(Profile::STORE);
    let profiles = kvs.store_named::<Profile>(name.clone());
    profiles.ensure().await.expect("ensure");
    let declared = kvs.store_named::<Declared>(name.clone());
    let mut written = foreign_attributes(kvs);
    written.set("id", "p-1");
    written.set("name", "Ada");
    written.set("visits", 1);
    kvs.upsert(&name, written.clone())
        .await
        .expect("dynamic upsert");
    (profiles, declared, written)
}

/// A typed read gives the catch-all exactly the attributes the model does not declare,
/// with their stored types (sets stay sets, bytes stay bytes, in nested maps and lists
/// too); a typed upsert writes them back unchanged beside the model's new values; so do
/// the other typed roads that read an item (update, query, scan, delete).
pub async fn catch_all_keeps_undeclared_attributes(kvs: Kvs) {
    let (profiles, _, written) = shared_store(&kvs).await;
    let mut profile = profiles.get("p-1").await.expect("typed get").expect("p-1");
    assert_eq!(profile.name, "Ada");
    assert_eq!(profile.visits, 1);
    assert_eq!(
        profile.extra,
        foreign_attributes(&kvs),
        "the catch-all holds exactly the undeclared attributes, as stored"
    );

    profile.name = "Ada L.".into();
    profiles.upsert(&profile).await.expect("typed upsert");
    let stored = kvs
        .get(profiles.name(), "p-1")
        .await
        .expect("dynamic get")
        .expect("p-1");
    let mut expected = written.clone();
    expected.set("name", "Ada L.");
    assert_eq!(
        stored, expected,
        "the re-upsert keeps every undeclared attribute unchanged"
    );

    let f = Profile::fields();
    let updated = profiles
        .update("p-1")
        .add(f.visits(), 1)
        .await
        .expect("typed update");
    assert_eq!(updated.visits, 2);
    assert_eq!(updated.extra, foreign_attributes(&kvs), "update's new item");
    let scanned = profiles.scan().await.expect("typed scan");
    assert_eq!(scanned.items, vec![updated.clone()], "scan");
    let queried = profiles
        .query(Profile::partition("p-1"))
        .await
        .expect("typed query");
    assert_eq!(queried.items, vec![updated.clone()], "query");
    let deleted = profiles.delete("p-1").await.expect("typed delete");
    assert_eq!(deleted, Some(updated.clone()), "delete's old item");

    // Where the backend declares an integer range (doubles), `big` stands at its edge
    // above; `i64::MAX` itself in the catch-all is refused like any attribute:
    // `Validation` naming it, nothing written.
    if !stores_int(&kvs.capabilities(), i64::MAX) {
        let mut wide = updated;
        wide.extra.set("big", i64::MAX);
        let e = expect_kind(profiles.upsert(&wide).await, ErrorKind::Validation);
        assert_mentions(&e, "big");
        assert_eq!(profiles.get("p-1").await.expect("typed get"), None);
    }
}

/// Without a catch-all, a typed upsert removes the attributes the model does not
/// declare: it writes the whole item, as the model describes it.
pub async fn model_without_catch_all_removes_undeclared_attributes(kvs: Kvs) {
    let (_, declared, _) = shared_store(&kvs).await;
    let mut user = declared.get("p-1").await.expect("typed get").expect("p-1");
    user.visits += 1;
    declared.upsert(&user).await.expect("typed upsert");
    let stored = kvs
        .get(declared.name(), "p-1")
        .await
        .expect("dynamic get")
        .expect("p-1");
    assert_eq!(
        stored,
        item! { "id" => "p-1", "name" => "Ada", "visits" => 2 },
        "the whole-item write removes what the model does not declare"
    );
}

/// What a program puts in the catch-all itself is written as attributes of the item;
/// one that names an attribute the model declares is refused (`Serialization`, naming
/// it), and nothing is written.
pub async fn catch_all_writes_its_own_attributes(kvs: Kvs) {
    let name = fresh_name(Profile::STORE);
    let profiles = kvs.store_named::<Profile>(name.clone());
    profiles.ensure().await.expect("ensure");
    let profile = Profile {
        id: "p-2".into(),
        name: "Grace".into(),
        visits: 0,
        extra: item! { "color" => "red", "sizes" => Value::number_set([38, 40]) },
    };
    profiles.insert(&profile).await.expect("typed insert");
    let stored = kvs.get(&name, "p-2").await.expect("get").expect("p-2");
    assert_eq!(
        stored,
        item! {
            "id" => "p-2", "name" => "Grace", "visits" => 0,
            "color" => "red", "sizes" => Value::number_set([38, 40]),
        }
    );
    assert_eq!(
        profiles.get("p-2").await.expect("typed get"),
        Some(profile.clone())
    );

    let clash = Profile {
        extra: item! { "name" => "Mallory" },
        ..profile.clone()
    };
    let e = expect_kind(profiles.upsert(&clash).await, ErrorKind::Serialization);
    assert!(
        e.to_string().contains("\"name\""),
        "names the attribute: {e}"
    );
    assert_eq!(
        profiles.get("p-2").await.expect("typed get"),
        Some(profile),
        "nothing written"
    );
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases_catch_all {
    ($cb:path, $make:tt) => {
        $cb!($make, catch_all::catch_all_keeps_undeclared_attributes);
        $cb!(
            $make,
            catch_all::model_without_catch_all_removes_undeclared_attributes
        );
        $cb!($make, catch_all::catch_all_writes_its_own_attributes);
    };
}
