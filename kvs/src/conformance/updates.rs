//! Conformance cases: updates (SET, REMOVE, ADD, APPEND, PREPEND, DELETE), their edge
//! cases, conditions, indexes and concurrency.

use super::errors::assert_mentions;
use super::values::{assert_unstorable, stores_int};
use super::{expect_kind, fresh_store};
use crate::{ErrorKind, IndexSchema, Item, KeyAttr, Kvs, StoreSchema, Update, Value, attr, item};

/// A store keyed by the string attribute `id`, holding `it`.
async fn store_with(kvs: &Kvs, it: Item) -> String {
    let store = fresh_store(kvs, StoreSchema::new("updates", KeyAttr::string("id"))).await;
    kvs.upsert(&store, it)
        .await
        .expect("upsert the starting item");
    store
}

/// Reads the item `id` back.
async fn read(kvs: &Kvs, store: &str, id: &str) -> Option<Item> {
    kvs.get(store, id).await.expect("get")
}

/// Asserts that `update` fails with `kind` and that the item `before` is unchanged;
/// returns the error.
async fn expect_rejected(
    kvs: &Kvs,
    store: &str,
    before: &Item,
    update: Update,
    kind: ErrorKind,
) -> crate::Error {
    let id = before["id"].as_str().expect("a string id").to_owned();
    let err = expect_kind(update.await, kind);
    assert_eq!(
        read(kvs, store, &id).await.as_ref(),
        Some(before),
        "a rejected update ({kind}: {err}) changed the item"
    );
    err
}

/// An order store with the index `byStatus` (status, at).
async fn orders(kvs: &Kvs) -> String {
    fresh_store(
        kvs,
        StoreSchema::new("orders", KeyAttr::string("id")).index(
            IndexSchema::new("byStatus", KeyAttr::string("status")).sort_key(KeyAttr::number("at")),
        ),
    )
    .await
}

/// The ids in one index partition, in order.
async fn index_ids(kvs: &Kvs, store: &str, status: &str) -> Vec<String> {
    kvs.query(store, status)
        .index("byStatus")
        .await
        .expect("query the index")
        .items
        .iter()
        .map(|i| i["id"].as_str().expect("a string id").to_owned())
        .collect()
}

/// Asserts that the `byStatus` index holds exactly `expected` under `status`, in order,
/// once it does where index reads are eventually consistent (at most ten seconds).
async fn assert_index(kvs: &Kvs, store: &str, status: &str, expected: &[&str]) {
    let consistent = kvs.capabilities().consistent_index_reads;
    let started = std::time::Instant::now();
    let mut ids = index_ids(kvs, store, status).await;
    while ids != expected && !consistent && started.elapsed().as_secs() < 10 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        ids = index_ids(kvs, store, status).await;
    }
    assert_eq!(ids, expected, "the index under {status:?}");
}

/// SET of a missing attribute creates it; the rest of the item is kept.
pub async fn update_set_creates_attribute(kvs: Kvs) {
    let store = store_with(&kvs, item! { "id" => "k", "a" => 1 }).await;
    let new = kvs.update(&store, "k").set("b", "two").await.unwrap();
    let expected = item! { "id" => "k", "a" => 1, "b" => "two" };
    assert_eq!(new, expected);
    assert_eq!(read(&kvs, &store, "k").await, Some(expected));
}

/// SET of an existing attribute replaces its value, even with a value of another type.
pub async fn update_set_replaces_attribute(kvs: Kvs) {
    let store = store_with(&kvs, item! { "id" => "k", "a" => 1, "b" => "x" }).await;
    let new = kvs
        .update(&store, "k")
        .set("a", 2)
        .set("b", Value::list([1, 2]))
        .await
        .unwrap();
    let expected = item! { "id" => "k", "a" => 2, "b" => Value::list([1, 2]) };
    assert_eq!(new, expected);
    assert_eq!(read(&kvs, &store, "k").await, Some(expected));
}

/// SET of a nested path whose parent map exists creates or replaces the nested value.
pub async fn update_set_nested_parent_exists(kvs: Kvs) {
    let store = store_with(
        &kvs,
        item! { "id" => "k", "address" => item! { "city" => "Lyon", "zip" => "69000" } },
    )
    .await;
    let new = kvs
        .update(&store, "k")
        .set("address.city", "Paris")
        .set("address.country", "FR")
        .await
        .unwrap();
    let expected = item! {
        "id" => "k",
        "address" => item! { "city" => "Paris", "zip" => "69000", "country" => "FR" },
    };
    assert_eq!(new, expected);
    assert_eq!(read(&kvs, &store, "k").await, Some(expected));
}

/// SET of a nested path whose parent is missing is `Validation`, and nothing changes.
pub async fn update_set_nested_parent_missing_rejected(kvs: Kvs) {
    let before = item! { "id" => "k", "a" => 1, "m" => item! { "x" => 1 } };
    let store = store_with(&kvs, before.clone()).await;
    expect_rejected(
        &kvs,
        &store,
        &before,
        kvs.update(&store, "k").set("address.city", "Paris"),
        ErrorKind::Validation,
    )
    .await;
    // A missing map one level further down is just as missing; the other op is not
    // applied either.
    expect_rejected(
        &kvs,
        &store,
        &before,
        kvs.update(&store, "k").set("a", 2).set("m.y.z", 1),
        ErrorKind::Validation,
    )
    .await;
}

/// SET of a list position inside the list replaces that element.
pub async fn update_set_list_position_replaces(kvs: Kvs) {
    let store = store_with(
        &kvs,
        item! { "id" => "k", "l" => Value::list(["a", "b", "c"]) },
    )
    .await;
    let new = kvs.update(&store, "k").set("l[1]", "B").await.unwrap();
    assert_eq!(new["l"], Value::list(["a", "B", "c"]));
    assert_eq!(read(&kvs, &store, "k").await, Some(new));
}

/// SET of a list position past the end appends the value.
pub async fn update_set_list_position_past_end_appends(kvs: Kvs) {
    let store = store_with(&kvs, item! { "id" => "k", "l" => Value::list(["a", "b"]) }).await;
    let new = kvs.update(&store, "k").set("l[10]", "c").await.unwrap();
    assert_eq!(new["l"], Value::list(["a", "b", "c"]));
    assert_eq!(read(&kvs, &store, "k").await, Some(new));
}

/// REMOVE deletes an attribute, and REMOVE of a missing attribute is fine.
pub async fn update_remove_attribute_missing_is_fine(kvs: Kvs) {
    let store = store_with(&kvs, item! { "id" => "k", "a" => 1, "b" => 2 }).await;
    let new = kvs
        .update(&store, "k")
        .remove("a")
        .remove("never")
        .await
        .unwrap();
    let expected = item! { "id" => "k", "b" => 2 };
    assert_eq!(new, expected);
    assert_eq!(read(&kvs, &store, "k").await, Some(expected.clone()));
    // Only missing attributes: still fine, and nothing changes.
    let same = kvs.update(&store, "k").remove("never").await.unwrap();
    assert_eq!(same, expected);
    assert_eq!(read(&kvs, &store, "k").await, Some(expected));
}

/// REMOVE of a nested map entry removes only that entry.
pub async fn update_remove_nested(kvs: Kvs) {
    let store = store_with(
        &kvs,
        item! { "id" => "k", "address" => item! { "city" => "Paris", "zip" => "75001" } },
    )
    .await;
    let new = kvs
        .update(&store, "k")
        .remove("address.city")
        .remove("address.missing")
        .await
        .unwrap();
    let expected = item! { "id" => "k", "address" => item! { "zip" => "75001" } };
    assert_eq!(new, expected);
    assert_eq!(read(&kvs, &store, "k").await, Some(expected));
}

/// Two REMOVEs of list positions 0 and 1 remove the first two elements (positions name
/// the list as it was before the update).
pub async fn update_remove_list_positions_name_original(kvs: Kvs) {
    let store = store_with(
        &kvs,
        item! { "id" => "k", "l" => Value::list(["a", "b", "c", "d"]) },
    )
    .await;
    let new = kvs
        .update(&store, "k")
        .remove("l[0]")
        .remove("l[1]")
        .await
        .unwrap();
    assert_eq!(new["l"], Value::list(["c", "d"]));
    assert_eq!(read(&kvs, &store, "k").await, Some(new));
}

/// ADD of a number to a missing attribute counts the attribute as 0.
pub async fn update_add_number_to_missing(kvs: Kvs) {
    let store = store_with(&kvs, item! { "id" => "k" }).await;
    let new = kvs.update(&store, "k").add("n", 5).await.unwrap();
    assert_eq!(new, item! { "id" => "k", "n" => 5 });
    assert_eq!(read(&kvs, &store, "k").await, Some(new));
}

/// ADD of a negative number subtracts, and can go below zero.
pub async fn update_add_negative_number(kvs: Kvs) {
    let store = store_with(&kvs, item! { "id" => "k", "n" => 10 }).await;
    let new = kvs.update(&store, "k").add("n", -3).await.unwrap();
    assert_eq!(new["n"], Value::from(7));
    let new = kvs.update(&store, "k").add("n", -10).await.unwrap();
    assert_eq!(new["n"], Value::from(-3));
    assert_eq!(read(&kvs, &store, "k").await.unwrap()["n"], Value::from(-3));
}

/// ADD of a float to an integer (and of an integer to a float) gives the exact sum.
pub async fn update_add_int_and_float(kvs: Kvs) {
    let store = store_with(&kvs, item! { "id" => "k", "i" => 1, "f" => 2.25 }).await;
    let new = kvs
        .update(&store, "k")
        .add("i", 0.5)
        .add("f", 2)
        .await
        .unwrap();
    assert_eq!(new["i"], Value::from(1.5));
    assert_eq!(new["f"], Value::from(4.25));
    assert_eq!(read(&kvs, &store, "k").await, Some(new));
}

/// ADD that overflows an i64 is `Validation` (never a wrap or a rounding), and nothing
/// changes. Where the backend declares an `integer_range` (doubles: +-2^53), a sum that
/// leaves it is refused the same way, naming the attribute: the edges of the range stand
/// in for the i64 extremes.
pub async fn update_add_overflow_rejected(kvs: Kvs) {
    let (low, high) = kvs
        .capabilities()
        .integer_range
        .unwrap_or((i64::MIN, i64::MAX));
    let before = item! { "id" => "k", "n" => high, "m" => low, "other" => 1 };
    let store = store_with(&kvs, before.clone()).await;
    let e = expect_rejected(
        &kvs,
        &store,
        &before,
        kvs.update(&store, "k").add("other", 1).add("n", 1),
        ErrorKind::Validation,
    )
    .await;
    if high < i64::MAX {
        // Not an i64 overflow: the new item holds an integer outside the declared range.
        assert_mentions(&e, "n");
    }
    let e = expect_rejected(
        &kvs,
        &store,
        &before,
        kvs.update(&store, "k").add("m", -1),
        ErrorKind::Validation,
    )
    .await;
    if low > i64::MIN {
        assert_mentions(&e, "m");
    }
}

/// ADD of a set unions it with the attribute's set (string and number sets).
pub async fn update_add_set_union(kvs: Kvs) {
    let store = store_with(
        &kvs,
        item! {
            "id" => "k",
            "tags" => Value::string_set(["a", "b"]),
            "nums" => Value::number_set([1, 2]),
        },
    )
    .await;
    let new = kvs
        .update(&store, "k")
        .add("tags", Value::string_set(["b", "c"]))
        .add("nums", Value::number_set([2.0, 3.5]))
        .await
        .unwrap();
    assert_eq!(new["tags"], Value::string_set(["a", "b", "c"]));
    assert_eq!(new["nums"], Value::number_set([1.0, 2.0, 3.5]));
    // 2 and 2.0 are one number: the union holds it once.
    assert!(matches!(&new["nums"], Value::NumberSet(s) if s.len() == 3));
    assert_eq!(read(&kvs, &store, "k").await, Some(new));
}

/// ADD of a set to a missing attribute creates the set.
pub async fn update_add_set_to_missing(kvs: Kvs) {
    let store = store_with(&kvs, item! { "id" => "k" }).await;
    let new = kvs
        .update(&store, "k")
        .add("tags", Value::string_set(["x", "y"]))
        .await
        .unwrap();
    assert_eq!(
        new,
        item! { "id" => "k", "tags" => Value::string_set(["x", "y"]) }
    );
    assert_eq!(read(&kvs, &store, "k").await, Some(new));
}

/// ADD of a number to a string attribute is `Validation`, and nothing changes.
pub async fn update_add_to_string_rejected(kvs: Kvs) {
    let before = item! { "id" => "k", "s" => "text", "n" => 1 };
    let store = store_with(&kvs, before.clone()).await;
    expect_rejected(
        &kvs,
        &store,
        &before,
        kvs.update(&store, "k").add("n", 1).add("s", 1),
        ErrorKind::Validation,
    )
    .await;
}

/// ADD of a number to a set attribute (or of a set to a number) is `Validation`, and
/// nothing changes.
pub async fn update_add_number_to_set_rejected(kvs: Kvs) {
    let before = item! { "id" => "k", "nums" => Value::number_set([1, 2]), "n" => 1 };
    let store = store_with(&kvs, before.clone()).await;
    expect_rejected(
        &kvs,
        &store,
        &before,
        kvs.update(&store, "k").add("nums", 3),
        ErrorKind::Validation,
    )
    .await;
    expect_rejected(
        &kvs,
        &store,
        &before,
        kvs.update(&store, "k").add("n", Value::number_set([3])),
        ErrorKind::Validation,
    )
    .await;
}

/// ADD of a set of another element type (strings to a number set) is `Validation`.
pub async fn update_add_set_of_other_type_rejected(kvs: Kvs) {
    let before = item! { "id" => "k", "nums" => Value::number_set([1, 2]) };
    let store = store_with(&kvs, before.clone()).await;
    expect_rejected(
        &kvs,
        &store,
        &before,
        kvs.update(&store, "k")
            .add("nums", Value::string_set(["1"])),
        ErrorKind::Validation,
    )
    .await;
}

/// APPEND adds elements at the end of an existing list, in order.
pub async fn update_append_to_list(kvs: Kvs) {
    let store = store_with(&kvs, item! { "id" => "k", "l" => Value::list([1, 2]) }).await;
    let new = kvs
        .update(&store, "k")
        .append("l", Value::list([Value::from(3), Value::from("four")]))
        .await
        .unwrap();
    assert_eq!(
        new["l"],
        Value::list([Value::from(1), 2.into(), 3.into(), "four".into()])
    );
    assert_eq!(read(&kvs, &store, "k").await, Some(new));
}

/// PREPEND adds elements at the start of an existing list, in order.
pub async fn update_prepend_to_list(kvs: Kvs) {
    let store = store_with(&kvs, item! { "id" => "k", "l" => Value::list([3, 4]) }).await;
    let new = kvs
        .update(&store, "k")
        .prepend("l", Value::list([1, 2]))
        .await
        .unwrap();
    assert_eq!(new["l"], Value::list([1, 2, 3, 4]));
    assert_eq!(read(&kvs, &store, "k").await, Some(new));
}

/// APPEND and PREPEND to a missing attribute treat it as an empty list.
pub async fn update_append_prepend_to_missing(kvs: Kvs) {
    let store = store_with(&kvs, item! { "id" => "k" }).await;
    let new = kvs
        .update(&store, "k")
        .append("a", Value::list(["x", "y"]))
        .prepend("p", Value::list(["z"]))
        .await
        .unwrap();
    assert_eq!(
        new,
        item! { "id" => "k", "a" => Value::list(["x", "y"]), "p" => Value::list(["z"]) }
    );
    assert_eq!(read(&kvs, &store, "k").await, Some(new));
}

/// APPEND to a map attribute is `Validation`, and nothing changes.
pub async fn update_append_to_map_rejected(kvs: Kvs) {
    let before = item! { "id" => "k", "m" => item! { "x" => 1 }, "l" => Value::list([1]) };
    let store = store_with(&kvs, before.clone()).await;
    expect_rejected(
        &kvs,
        &store,
        &before,
        kvs.update(&store, "k")
            .append("l", Value::list([2]))
            .append("m", Value::list([1])),
        ErrorKind::Validation,
    )
    .await;
}

/// PREPEND to a string attribute is `Validation`, and nothing changes.
pub async fn update_prepend_to_string_rejected(kvs: Kvs) {
    let before = item! { "id" => "k", "s" => "text" };
    let store = store_with(&kvs, before.clone()).await;
    expect_rejected(
        &kvs,
        &store,
        &before,
        kvs.update(&store, "k").prepend("s", Value::list(["x"])),
        ErrorKind::Validation,
    )
    .await;
}

/// DELETE from a string set and from a number set is set difference (`3.0` removes 3).
pub async fn update_delete_from_sets(kvs: Kvs) {
    let store = store_with(
        &kvs,
        item! {
            "id" => "k",
            "tags" => Value::string_set(["a", "b", "c"]),
            "nums" => Value::number_set([1, 2, 3]),
        },
    )
    .await;
    let new = kvs
        .update(&store, "k")
        .delete("tags", Value::string_set(["a", "c", "not-there"]))
        .delete("nums", Value::number_set([3.0, 99.0]))
        .await
        .unwrap();
    assert_eq!(new["tags"], Value::string_set(["b"]));
    assert_eq!(new["nums"], Value::number_set([1, 2]));
    assert_eq!(read(&kvs, &store, "k").await, Some(new));
}

/// DELETE of every element of a set leaves the attribute missing (no empty set).
pub async fn update_delete_all_set_elements_leaves_missing(kvs: Kvs) {
    let store = store_with(
        &kvs,
        item! { "id" => "k", "tags" => Value::string_set(["a", "b"]), "n" => 1 },
    )
    .await;
    let new = kvs
        .update(&store, "k")
        .delete("tags", Value::string_set(["a", "b"]))
        .await
        .unwrap();
    assert_eq!(new, item! { "id" => "k", "n" => 1 });
    let back = read(&kvs, &store, "k").await.unwrap();
    assert_eq!(back, item! { "id" => "k", "n" => 1 });
    // The attribute is missing, as a condition sees it.
    let page = kvs
        .scan(&store)
        .filter(attr("tags").not_exists())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
}

/// DELETE from a list removes every element equal to one of the values (`1.0` equals 1).
pub async fn update_delete_from_list(kvs: Kvs) {
    let store = store_with(
        &kvs,
        item! {
            "id" => "k",
            "l" => Value::list([
                Value::from("x"), 1.into(), "y".into(), "x".into(), 1.0.into(), 2.into(), "x".into(),
            ]),
        },
    )
    .await;
    let new = kvs
        .update(&store, "k")
        .delete("l", Value::list([Value::from("x"), Value::from(1)]))
        .await
        .unwrap();
    assert_eq!(new["l"], Value::list([Value::from("y"), Value::from(2)]));
    assert_eq!(read(&kvs, &store, "k").await, Some(new));
}

/// DELETE on a missing attribute is fine and creates nothing.
pub async fn update_delete_missing_attribute_is_fine(kvs: Kvs) {
    let store = store_with(&kvs, item! { "id" => "k", "n" => 1 }).await;
    let new = kvs
        .update(&store, "k")
        .delete("tags", Value::string_set(["a"]))
        .add("n", 1)
        .await
        .unwrap();
    assert_eq!(new, item! { "id" => "k", "n" => 2 });
    assert_eq!(read(&kvs, &store, "k").await, Some(new));
}

/// DELETE on a string attribute is `Validation`, and nothing changes.
pub async fn update_delete_on_string_rejected(kvs: Kvs) {
    let before = item! { "id" => "k", "s" => "abc", "n" => 1 };
    let store = store_with(&kvs, before.clone()).await;
    expect_rejected(
        &kvs,
        &store,
        &before,
        kvs.update(&store, "k")
            .add("n", 1)
            .delete("s", Value::string_set(["a"])),
        ErrorKind::Validation,
    )
    .await;
}

/// DELETE of numbers from a string set is `Validation`, and nothing changes.
pub async fn update_delete_wrong_set_type_rejected(kvs: Kvs) {
    let before = item! { "id" => "k", "tags" => Value::string_set(["1", "2"]) };
    let store = store_with(&kvs, before.clone()).await;
    expect_rejected(
        &kvs,
        &store,
        &before,
        kvs.update(&store, "k")
            .delete("tags", Value::number_set([1])),
        ErrorKind::Validation,
    )
    .await;
}

/// Two ops on overlapping paths (`a` and `a.b`, or one path twice) are `Validation`.
pub async fn update_overlapping_paths_rejected(kvs: Kvs) {
    let before = item! {
        "id" => "k",
        "a" => item! { "b" => 1 },
        "n" => 1,
        "l" => Value::list([1, 2]),
    };
    let store = store_with(&kvs, before.clone()).await;
    for update in [
        kvs.update(&store, "k").set("a", 1).set("a.b", 2),
        kvs.update(&store, "k").set("a.b", 2).remove("a"),
        kvs.update(&store, "k").add("n", 1).add("n", 1),
        kvs.update(&store, "k").set("n", 5).remove("n"),
        kvs.update(&store, "k")
            .set("l[0]", 5)
            .append("l", Value::list([3])),
    ] {
        expect_rejected(&kvs, &store, &before, update, ErrorKind::Validation).await;
    }
}

/// An update returns the whole new item, untouched attributes included, equal to what a
/// get reads next.
pub async fn update_returns_whole_new_item(kvs: Kvs) {
    let store = store_with(
        &kvs,
        item! {
            "id" => "k",
            "name" => "Ada",
            "n" => 1,
            "tags" => Value::string_set(["a"]),
            "address" => item! { "city" => "London" },
        },
    )
    .await;
    let new = kvs.update(&store, "k").add("n", 1).await.unwrap();
    assert_eq!(
        new,
        item! {
            "id" => "k",
            "name" => "Ada",
            "n" => 2,
            "tags" => Value::string_set(["a"]),
            "address" => item! { "city" => "London" },
        }
    );
    assert_eq!(read(&kvs, &store, "k").await, Some(new));
}

/// An update of a missing item is `NotFound` and creates nothing.
pub async fn update_missing_item_not_found(kvs: Kvs) {
    let store = store_with(&kvs, item! { "id" => "other" }).await;
    expect_kind(
        kvs.update(&store, "k").add("n", 1).set("s", "x").await,
        ErrorKind::NotFound,
    );
    assert_eq!(read(&kvs, &store, "k").await, None);
    let all = kvs.scan(&store).await.unwrap();
    assert_eq!(all.items, vec![item! { "id" => "other" }]);
}

/// An update whose condition holds is applied.
pub async fn update_true_condition_applies(kvs: Kvs) {
    let store = store_with(&kvs, item! { "id" => "k", "v" => 1, "state" => "open" }).await;
    let new = kvs
        .update(&store, "k")
        .set("v", 2)
        .when(attr("v").eq(1))
        .when(attr("state").eq("open"))
        .await
        .unwrap();
    assert_eq!(new, item! { "id" => "k", "v" => 2, "state" => "open" });
    assert_eq!(read(&kvs, &store, "k").await, Some(new));
}

/// An update whose condition is false is `ConditionFailed`, and nothing changes.
pub async fn update_false_condition_changes_nothing(kvs: Kvs) {
    let before = item! { "id" => "k", "v" => 1, "state" => "open" };
    let store = store_with(&kvs, before.clone()).await;
    expect_rejected(
        &kvs,
        &store,
        &before,
        kvs.update(&store, "k")
            .set("v", 2)
            .add("n", 1)
            .when(attr("v").eq(2)),
        ErrorKind::ConditionFailed,
    )
    .await;
    // Several conditions combine with `and`: one false one is enough.
    expect_rejected(
        &kvs,
        &store,
        &before,
        kvs.update(&store, "k")
            .set("v", 2)
            .when(attr("v").eq(1))
            .when(attr("state").eq("closed")),
        ErrorKind::ConditionFailed,
    )
    .await;
}

/// SETs past the end of a list append in the order of the positions asked for (not of
/// the ops), as DynamoDB does.
pub async fn update_appends_follow_positions(kvs: Kvs) {
    let store = store_with(&kvs, item! { "id" => "k", "l" => Value::list(["a", "b"]) }).await;
    let new = kvs
        .update(&store, "k")
        .set("l[11]", "eleven")
        .set("l[10]", "ten")
        .await
        .unwrap();
    assert_eq!(new["l"], Value::list(["a", "b", "ten", "eleven"]));
    assert_eq!(read(&kvs, &store, "k").await, Some(new));
}

/// An update of a key attribute is `Validation`, and nothing changes.
pub async fn update_key_attribute_rejected(kvs: Kvs) {
    let before = item! { "id" => "k", "n" => 1 };
    let store = store_with(&kvs, before.clone()).await;
    expect_rejected(
        &kvs,
        &store,
        &before,
        kvs.update(&store, "k").set("id", "other"),
        ErrorKind::Validation,
    )
    .await;
    expect_rejected(
        &kvs,
        &store,
        &before,
        kvs.update(&store, "k").remove("id"),
        ErrorKind::Validation,
    )
    .await;
    assert_eq!(read(&kvs, &store, "other").await, None);
}

/// An update that changes an index key attribute moves the item from the old index
/// partition to the new one.
pub async fn update_index_attribute_moves_item(kvs: Kvs) {
    let store = orders(&kvs).await;
    kvs.upsert(
        &store,
        item! { "id" => "o-1", "status" => "open", "at" => 1 },
    )
    .await
    .unwrap();
    kvs.upsert(
        &store,
        item! { "id" => "o-2", "status" => "open", "at" => 2 },
    )
    .await
    .unwrap();
    assert_index(&kvs, &store, "open", &["o-1", "o-2"]).await;
    kvs.update(&store, "o-1")
        .set("status", "closed")
        .set("at", 5)
        .await
        .unwrap();
    assert_index(&kvs, &store, "open", &["o-2"]).await;
    assert_index(&kvs, &store, "closed", &["o-1"]).await;
    kvs.update(&store, "o-2").set("at", 9).await.unwrap();
    kvs.update(&store, "o-1")
        .set("status", "open")
        .await
        .unwrap();
    assert_index(&kvs, &store, "open", &["o-1", "o-2"]).await;
    assert_index(&kvs, &store, "closed", &[]).await;
    // A change of the index sort key alone reorders the partition.
    kvs.update(&store, "o-2").set("at", 0).await.unwrap();
    assert_index(&kvs, &store, "open", &["o-2", "o-1"]).await;
}

/// An update that removes an index key attribute takes the item out of the index.
pub async fn update_remove_index_attribute_leaves_index(kvs: Kvs) {
    let store = orders(&kvs).await;
    kvs.upsert(
        &store,
        item! { "id" => "o-1", "status" => "open", "at" => 1 },
    )
    .await
    .unwrap();
    kvs.update(&store, "o-1").remove("at").await.unwrap();
    assert_index(&kvs, &store, "open", &[]).await;
    assert_eq!(
        read(&kvs, &store, "o-1").await,
        Some(item! { "id" => "o-1", "status" => "open" })
    );
}

/// An update that gives an index key attribute a non-key type (a map) is `Validation`,
/// and nothing changes, in the table or the index.
pub async fn update_index_attribute_wrong_type_rejected(kvs: Kvs) {
    let store = orders(&kvs).await;
    let before = item! { "id" => "o-1", "status" => "open", "at" => 1 };
    kvs.upsert(&store, before.clone()).await.unwrap();
    expect_rejected(
        &kvs,
        &store,
        &before,
        kvs.update(&store, "o-1").set("status", item! { "x" => 1 }),
        ErrorKind::Validation,
    )
    .await;
    expect_rejected(
        &kvs,
        &store,
        &before,
        kvs.update(&store, "o-1").set("at", "soon"),
        ErrorKind::Validation,
    )
    .await;
    // Ops that could only leave a list or a set there.
    expect_rejected(
        &kvs,
        &store,
        &before,
        kvs.update(&store, "o-1").append("status", Value::list([1])),
        ErrorKind::Validation,
    )
    .await;
    expect_rejected(
        &kvs,
        &store,
        &before,
        kvs.update(&store, "o-1").add("at", Value::number_set([2])),
        ErrorKind::Validation,
    )
    .await;
    assert_index(&kvs, &store, "open", &["o-1"]).await;
    // ADD of a number to a number index key is fine and reorders nothing else.
    let new = kvs.update(&store, "o-1").add("at", 5).await.unwrap();
    assert_eq!(new["at"], Value::from(6));
    assert_index(&kvs, &store, "open", &["o-1"]).await;
}

/// SET of an empty set removes the attribute (an empty set is a missing attribute), and
/// empty sets inside a map set are left out, on every backend.
pub async fn update_set_empty_set_removes_attribute(kvs: Kvs) {
    let store = store_with(
        &kvs,
        item! { "id" => "k", "tags" => Value::string_set(["a"]), "n" => 1 },
    )
    .await;
    let new = kvs
        .update(&store, "k")
        .set("tags", Value::StringSet(Default::default()))
        .set(
            "m",
            item! { "empty" => Value::NumberSet(Default::default()), "x" => 1 },
        )
        .await
        .unwrap();
    let expected = item! { "id" => "k", "n" => 1, "m" => item! { "x" => 1 } };
    assert_eq!(new, expected);
    assert_eq!(read(&kvs, &store, "k").await, Some(expected));
}

/// ADD of an empty set adds nothing: a set stays as it was, a missing attribute stays
/// missing, and a value of another type is still `Validation`.
pub async fn update_add_empty_set(kvs: Kvs) {
    let before = item! { "id" => "k", "tags" => Value::string_set(["a"]), "s" => "text" };
    let store = store_with(&kvs, before.clone()).await;
    let empty = || Value::StringSet(Default::default());
    let new = kvs
        .update(&store, "k")
        .add("tags", empty())
        .add("none", empty())
        .await
        .unwrap();
    assert_eq!(new, before);
    assert_eq!(read(&kvs, &store, "k").await, Some(before.clone()));
    expect_rejected(
        &kvs,
        &store,
        &before,
        kvs.update(&store, "k").add("s", empty()),
        ErrorKind::Validation,
    )
    .await;
}

/// An empty set cannot be a list element (a list has no attribute to leave out): SET of
/// a list position and APPEND or PREPEND of one are `Validation`, and nothing changes.
pub async fn update_empty_set_in_list_rejected(kvs: Kvs) {
    let before = item! { "id" => "k", "l" => Value::list([1, 2]) };
    let store = store_with(&kvs, before.clone()).await;
    let empty = || Value::BytesSet(Default::default());
    for update in [
        kvs.update(&store, "k").set(attr("l").index(0), empty()),
        kvs.update(&store, "k").append("l", Value::list([empty()])),
        kvs.update(&store, "k")
            .prepend("l", Value::list([Value::from(0), empty()])),
    ] {
        expect_rejected(&kvs, &store, &before, update, ErrorKind::Validation).await;
    }
}

/// 8 concurrent tasks doing 200 `ADD counter 1` each leave exactly 1,600.
pub async fn update_concurrent_adds_lose_nothing(kvs: Kvs) {
    let store = store_with(&kvs, item! { "id" => "c", "counter" => 0 }).await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let kvs = kvs.clone();
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..200 {
                kvs.update(&store, "c").add("counter", 1).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.expect("a task panicked");
    }
    assert_eq!(
        read(&kvs, &store, "c").await,
        Some(item! { "id" => "c", "counter" => 1600 })
    );
}

/// Every op reads the item as it was before the update: removing an outer list position
/// does not move an inner path onto another element.
pub async fn update_nested_list_paths_name_original(kvs: Kvs) {
    let l = Value::list([
        Value::list(["a0", "a1"]),
        Value::list(["b0", "b1"]),
        Value::list(["c0", "c1"]),
        Value::list(["d0", "d1"]),
    ]);
    let store = store_with(&kvs, item! { "id" => "k", "l" => l }).await;
    let new = kvs
        .update(&store, "k")
        .remove("l[0]")
        .remove("l[2][0]")
        .await
        .unwrap();
    let expected = Value::list([
        Value::list(["b0", "b1"]),
        Value::list(["c1"]),
        Value::list(["d0", "d1"]),
    ]);
    assert_eq!(new["l"], expected);
}

/// Two SETs past the end of a list both append (by position); neither write is lost.
pub async fn update_two_sets_past_end_both_append(kvs: Kvs) {
    let store = store_with(&kvs, item! { "id" => "k", "l" => Value::list(["a", "b"]) }).await;
    let new = kvs
        .update(&store, "k")
        .set("l[5]", "x")
        .set("l[2]", "y")
        .await
        .unwrap();
    assert_eq!(new["l"], Value::list(["a", "b", "y", "x"]));
}

/// REMOVE of a list position that did not exist before the update removes nothing, even
/// where a SET of the same update appends there.
pub async fn update_remove_past_end_removes_nothing(kvs: Kvs) {
    let store = store_with(&kvs, item! { "id" => "k", "l" => Value::list(["a", "b"]) }).await;
    let new = kvs
        .update(&store, "k")
        .set("l[5]", "x")
        .remove("l[2]")
        .await
        .unwrap();
    assert_eq!(new["l"], Value::list(["a", "b", "x"]));
}

/// A nested SET needs its parent in the item as it was: a parent appended by the same
/// update does not count (`Validation`, nothing changes).
pub async fn update_parent_made_by_same_update_rejected(kvs: Kvs) {
    let before = item! { "id" => "k", "l" => Value::list(["a", "b"]) };
    let store = store_with(&kvs, before.clone()).await;
    let update = kvs
        .update(&store, "k")
        .set("l[5]", crate::Item::new())
        .set("l[2].k", 1);
    expect_rejected(&kvs, &store, &before, update, ErrorKind::Validation).await;
}

/// ADD is exact: decimals add as decimals (0.1 + 0.2 is 0.3), an integer stays an
/// integer, a sum no integer or float holds is the exact decimal (where the backend
/// holds decimals; else `Validation`), and a sum nothing holds is `Validation`, never
/// rounded.
pub async fn update_add_is_exact(kvs: Kvs) {
    let caps = kvs.capabilities();
    // 2^53 + 1, which no f64 holds; where the backend declares an integer range that
    // leaves it out (doubles), the largest integer it declares, 2^53, which it does hold
    // (2^53 + 0.5 is then just as inexact as a double). 2^53 + 1 itself is refused.
    let beyond53 = 9_007_199_254_740_993_i64;
    let big = caps
        .integer_range
        .map_or(beyond53, |(_, high)| high.min(beyond53));
    // The largest and lowest integers the backend declares (the i64 extremes where it
    // declares no range): ADD reaches them exactly.
    let (low, high) = caps.integer_range.unwrap_or((i64::MIN, i64::MAX));
    let before = item! {
        "id" => "k", "f" => 0.1, "i" => 5, "big" => big, "hi" => high - 1, "lo" => low + 1,
    };
    let store = store_with(&kvs, before).await;
    if !stores_int(&caps, beyond53) {
        let it = item! { "id" => "wide", "big" => beyond53 };
        assert_unstorable(&kvs, &store, it, &["big"]).await;
    }
    let new = kvs
        .update(&store, "k")
        .add("f", 0.2)
        .add("i", 1.0)
        .add("hi", 1)
        .add("lo", -1)
        .await
        .unwrap();
    assert_eq!(new["f"].as_number().and_then(|n| n.as_f64()), Some(0.3));
    assert_eq!(new["i"], Value::from(6));
    for (name, expected) in [("i", 6), ("hi", high), ("lo", low)] {
        let n = new[name].as_number().expect("a number");
        assert!(n.is_integer(), "{name}: an integer stays an integer");
        assert_eq!(n.as_i64(), Some(expected), "{name}: ADD is exact");
    }
    assert_eq!(read(&kvs, &store, "k").await.as_ref(), Some(&new));
    let now = read(&kvs, &store, "k").await.unwrap();
    // 9007199254740993.5 (or 9007199254740992.5): 17 digits no f64 holds.
    let update = kvs.update(&store, "k").add("big", 0.5);
    if caps.exact_decimals {
        let new = update.await.unwrap();
        let exact: crate::Number = format!("{big}.5").parse().unwrap();
        assert_eq!(new["big"], Value::Number(exact));
        assert!(new["big"].as_number().is_some_and(|n| n.is_decimal()));
        let now = read(&kvs, &store, "k").await.unwrap();
        assert_eq!(now["big"], Value::Number(exact));
        // 46 digits: nothing holds the sum exactly.
        let update = kvs.update(&store, "k").add("big", 1e-30);
        expect_rejected(&kvs, &store, &now, update, ErrorKind::Validation).await;
    } else {
        expect_rejected(&kvs, &store, &now, update, ErrorKind::Validation).await;
    }
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases_updates {
    ($cb:path, $make:tt) => {
        $cb!($make, updates::update_nested_list_paths_name_original);
        $cb!($make, updates::update_two_sets_past_end_both_append);
        $cb!($make, updates::update_remove_past_end_removes_nothing);
        $cb!($make, updates::update_parent_made_by_same_update_rejected);
        $cb!($make, updates::update_add_is_exact);
        $cb!($make, updates::update_set_creates_attribute);
        $cb!($make, updates::update_set_replaces_attribute);
        $cb!($make, updates::update_set_nested_parent_exists);
        $cb!($make, updates::update_set_nested_parent_missing_rejected);
        $cb!($make, updates::update_set_list_position_replaces);
        $cb!($make, updates::update_set_list_position_past_end_appends);
        $cb!($make, updates::update_remove_attribute_missing_is_fine);
        $cb!($make, updates::update_remove_nested);
        $cb!($make, updates::update_remove_list_positions_name_original);
        $cb!($make, updates::update_add_number_to_missing);
        $cb!($make, updates::update_add_negative_number);
        $cb!($make, updates::update_add_int_and_float);
        $cb!($make, updates::update_add_overflow_rejected);
        $cb!($make, updates::update_add_set_union);
        $cb!($make, updates::update_add_set_to_missing);
        $cb!($make, updates::update_add_to_string_rejected);
        $cb!($make, updates::update_add_number_to_set_rejected);
        $cb!($make, updates::update_add_set_of_other_type_rejected);
        $cb!($make, updates::update_append_to_list);
        $cb!($make, updates::update_prepend_to_list);
        $cb!($make, updates::update_append_prepend_to_missing);
        $cb!($make, updates::update_append_to_map_rejected);
        $cb!($make, updates::update_prepend_to_string_rejected);
        $cb!($make, updates::update_delete_from_sets);
        $cb!(
            $make,
            updates::update_delete_all_set_elements_leaves_missing
        );
        $cb!($make, updates::update_delete_from_list);
        $cb!($make, updates::update_delete_missing_attribute_is_fine);
        $cb!($make, updates::update_delete_on_string_rejected);
        $cb!($make, updates::update_delete_wrong_set_type_rejected);
        $cb!($make, updates::update_overlapping_paths_rejected);
        $cb!($make, updates::update_returns_whole_new_item);
        $cb!($make, updates::update_missing_item_not_found);
        $cb!($make, updates::update_true_condition_applies);
        $cb!($make, updates::update_false_condition_changes_nothing);
        $cb!($make, updates::update_appends_follow_positions);
        $cb!($make, updates::update_key_attribute_rejected);
        $cb!($make, updates::update_index_attribute_moves_item);
        $cb!($make, updates::update_remove_index_attribute_leaves_index);
        $cb!($make, updates::update_index_attribute_wrong_type_rejected);
        $cb!($make, updates::update_set_empty_set_removes_attribute);
        $cb!($make, updates::update_add_empty_set);
        $cb!($make, updates::update_empty_set_in_list_rejected);
        $cb!($make, updates::update_concurrent_adds_lose_nothing);
    };
}
