//! Conformance cases: get_many, upsert_many and delete_many.

use super::errors::assert_mentions;
use super::{expect_kind, fresh_store};
use crate::{Error, ErrorKind, Item, Key, KeyAttr, Kvs, StoreSchema, Value, item};

/// A store keyed by the string attribute `id`.
async fn things(kvs: &Kvs) -> String {
    fresh_store(kvs, StoreSchema::new("things", KeyAttr::string("id"))).await
}

/// The item with key `id{i}`.
fn thing(i: usize) -> Item {
    item! { "id" => format!("id{i}"), "i" => i as i64, "pad" => "x".repeat(i % 7) }
}

/// Every item of a store, by scanning all pages, sorted by `id`.
async fn all_items(kvs: &Kvs, store: &str) -> Vec<Item> {
    use futures::TryStreamExt as _;
    let mut items: Vec<Item> = kvs.scan(store).stream().try_collect().await.unwrap();
    items.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    items
}

/// Asserts that the error names the position `i` of the offending entry.
#[track_caller]
fn assert_names_position(err: &Error, i: usize) {
    let message = err.message();
    assert!(
        ["item", "key", "position"]
            .iter()
            .any(|w| message.contains(&format!("{w} {i}"))),
        "expected the error to name position {i}, got: {err}"
    );
}

/// `get_many` answers in the order asked, with `None` where an item is missing.
pub async fn batch_get_many_in_order_with_missing(kvs: Kvs) {
    let store = things(&kvs).await;
    kvs.upsert_many(&store, (0..5).map(thing)).await.unwrap();
    let got = kvs
        .get_many(&store, ["id3", "nope", "id0", "id4", "missing", "id1"])
        .await
        .unwrap();
    assert_eq!(
        got,
        [
            Some(thing(3)),
            None,
            Some(thing(0)),
            Some(thing(4)),
            None,
            Some(thing(1))
        ]
    );
    let got = kvs.get_many(&store, ["a", "b"]).await.unwrap();
    assert_eq!(got, [None, None]);
}

/// `get_many` allows duplicate keys: the same key twice gives two answers.
pub async fn batch_get_many_duplicate_keys(kvs: Kvs) {
    let store = things(&kvs).await;
    kvs.upsert_many(&store, (0..2).map(thing)).await.unwrap();
    let got = kvs
        .get_many(&store, ["id1", "id0", "id1", "gone", "gone", "id1"])
        .await
        .unwrap();
    assert_eq!(
        got,
        [
            Some(thing(1)),
            Some(thing(0)),
            Some(thing(1)),
            None,
            None,
            Some(thing(1))
        ]
    );
}

/// `1` and `1.0` are the same key in `get_many` too: both find the item.
pub async fn batch_get_many_equal_numbers_are_one_key(kvs: Kvs) {
    let store = fresh_store(&kvs, StoreSchema::new("nums", KeyAttr::number("num"))).await;
    kvs.upsert(&store, item! { "num" => 1, "v" => "one" })
        .await
        .unwrap();
    let got = kvs
        .get_many(&store, [Key::new(1), Key::new(1.0), Key::new(2)])
        .await
        .unwrap();
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].as_ref().unwrap()["v"], Value::from("one"));
    assert_eq!(got[1].as_ref().unwrap()["v"], Value::from("one"));
    assert_eq!(got[2], None);
}

/// `get_many` of no keys answers an empty list.
pub async fn batch_get_many_empty(kvs: Kvs) {
    let store = things(&kvs).await;
    kvs.upsert(&store, thing(0)).await.unwrap();
    let got = kvs.get_many(&store, Vec::<Key>::new()).await.unwrap();
    assert!(got.is_empty());
}

/// `get_many` of 250 keys (more than one backend batch) answers each in order.
pub async fn batch_get_many_250_keys(kvs: Kvs) {
    let store = things(&kvs).await;
    // Every third item is missing.
    kvs.upsert_many(&store, (0..250).filter(|i| i % 3 != 0).map(thing))
        .await
        .unwrap();
    let keys: Vec<String> = (0..250).rev().map(|i| format!("id{i}")).collect();
    let got = kvs.get_many(&store, keys).await.unwrap();
    assert_eq!(got.len(), 250);
    for (pos, answer) in got.into_iter().enumerate() {
        let i = 249 - pos;
        let expected = (i % 3 != 0).then(|| thing(i));
        assert_eq!(answer, expected, "position {pos} (id{i})");
    }
}

/// `get_many` on a composite-key store takes (partition, sort) pairs.
pub async fn batch_get_many_composite_keys(kvs: Kvs) {
    let store = fresh_store(
        &kvs,
        StoreSchema::new("pairs", KeyAttr::string("pk")).sort_key(KeyAttr::number("sk")),
    )
    .await;
    let items: Vec<Item> = (0..4)
        .map(|i| item! { "pk" => if i < 2 { "a" } else { "b" }, "sk" => i, "v" => i * 10 })
        .collect();
    kvs.upsert_many(&store, items.clone()).await.unwrap();
    let got = kvs
        .get_many(&store, [("b", 3), ("a", 3), ("a", 0), ("b", 2)])
        .await
        .unwrap();
    assert_eq!(
        got,
        [
            Some(items[3].clone()),
            None,
            Some(items[0].clone()),
            Some(items[2].clone())
        ]
    );
}

/// `get_many` with one invalid key is `Validation`.
pub async fn batch_get_many_invalid_key_rejected(kvs: Kvs) {
    let store = things(&kvs).await;
    kvs.upsert(&store, thing(0)).await.unwrap();
    expect_kind(
        kvs.get_many(&store, [Key::new("id0"), Key::new(""), Key::new("id1")])
            .await,
        ErrorKind::Validation,
    );
    expect_kind(
        kvs.get_many(&store, [Key::new("id0"), Key::new(5)]).await,
        ErrorKind::Validation,
    );
}

/// `upsert_many` writes every item, replacing existing ones whole.
pub async fn batch_upsert_many_writes_all(kvs: Kvs) {
    let store = things(&kvs).await;
    kvs.upsert(&store, item! { "id" => "id2", "old" => true })
        .await
        .unwrap();
    let items: Vec<Item> = (0..10).map(thing).collect();
    kvs.upsert_many(&store, items.clone()).await.unwrap();
    assert_eq!(all_items(&kvs, &store).await, items);
    assert_eq!(kvs.get(&store, "id2").await.unwrap(), Some(thing(2)));
}

/// `upsert_many` of no items is fine and writes nothing.
pub async fn batch_upsert_many_empty(kvs: Kvs) {
    let store = things(&kvs).await;
    kvs.upsert_many(&store, Vec::new()).await.unwrap();
    assert!(all_items(&kvs, &store).await.is_empty());
}

/// Duplicate keys in one `upsert_many` are `Validation` naming the key; nothing written.
pub async fn batch_upsert_many_duplicate_keys_rejected(kvs: Kvs) {
    let store = things(&kvs).await;
    let mut items: Vec<Item> = (0..150).map(thing).collect();
    items.push(item! { "id" => "id42", "other" => 1 });
    let err = expect_kind(kvs.upsert_many(&store, items).await, ErrorKind::Validation);
    assert_mentions(&err, "id42");
    assert!(all_items(&kvs, &store).await.is_empty());
}

/// Keys `1` and `1.0` are duplicates in one `upsert_many`: `Validation`, nothing written.
pub async fn batch_upsert_many_equal_number_keys_rejected(kvs: Kvs) {
    let store = fresh_store(&kvs, StoreSchema::new("nums", KeyAttr::number("num"))).await;
    expect_kind(
        kvs.upsert_many(
            &store,
            [
                item! { "num" => 1 },
                item! { "num" => 2 },
                item! { "num" => 1.0 },
            ],
        )
        .await,
        ErrorKind::Validation,
    );
    assert!(all_items(&kvs, &store).await.is_empty());
}

/// One invalid item in `upsert_many` is `Validation` naming "item 3"; nothing is written.
pub async fn batch_upsert_many_invalid_item_named(kvs: Kvs) {
    let store = things(&kvs).await;
    let mut items: Vec<Item> = (0..6).map(thing).collect();
    items[3].set("score", f64::NAN);
    let err = expect_kind(kvs.upsert_many(&store, items).await, ErrorKind::Validation);
    assert_names_position(&err, 3);
    assert_mentions(&err, "score");

    let mut items: Vec<Item> = (0..6).map(thing).collect();
    items[3].remove("id");
    let err = expect_kind(kvs.upsert_many(&store, items).await, ErrorKind::Validation);
    assert_names_position(&err, 3);
    assert!(all_items(&kvs, &store).await.is_empty());
}

/// An invalid item past the first backend batches still makes `upsert_many` write nothing.
pub async fn batch_upsert_many_invalid_late_item_writes_nothing(kvs: Kvs) {
    let store = things(&kvs).await;
    let mut items: Vec<Item> = (0..260).map(thing).collect();
    items[257].set("huge", "z".repeat(crate::limits::MAX_ITEM_SIZE));
    let err = expect_kind(kvs.upsert_many(&store, items).await, ErrorKind::Validation);
    assert_names_position(&err, 257);
    assert!(all_items(&kvs, &store).await.is_empty());
}

/// A float the backend cannot store (where it has a narrower range than f64), late in
/// an `upsert_many` or a `delete_many`, fails the whole call up front: `Validation`
/// naming the position, and nothing written or deleted. Where every float is stored,
/// the same calls succeed.
pub async fn batch_unstorable_float_late_writes_nothing(kvs: Kvs) {
    let caps = kvs.capabilities();
    let tiny = 1e-300;
    let store = things(&kvs).await;
    let mut items: Vec<Item> = (0..60).map(thing).collect();
    items[57].set("tiny", Value::list([Value::from(1), Value::from(tiny)]));
    let numbers = fresh_store(&kvs, StoreSchema::new("numbered", KeyAttr::number("n"))).await;
    kvs.upsert_many(&numbers, (1..=3).map(|n| item! { "n" => n }))
        .await
        .unwrap();
    let keys = vec![Key::new(1), Key::new(2), Key::new(tiny)];
    if caps.stores_float(tiny) {
        kvs.upsert_many(&store, items).await.unwrap();
        assert_eq!(all_items(&kvs, &store).await.len(), 60);
        kvs.delete_many(&numbers, keys).await.unwrap();
        assert_eq!(
            kvs.get(&numbers, 3).await.unwrap(),
            Some(item! { "n" => 3 })
        );
        assert_eq!(kvs.get(&numbers, 1).await.unwrap(), None);
    } else {
        let err = expect_kind(kvs.upsert_many(&store, items).await, ErrorKind::Validation);
        assert_names_position(&err, 57);
        assert_mentions(&err, "tiny");
        assert!(all_items(&kvs, &store).await.is_empty());
        let err = expect_kind(kvs.delete_many(&numbers, keys).await, ErrorKind::Validation);
        assert_names_position(&err, 2);
        for n in 1..=3 {
            assert!(kvs.get(&numbers, n).await.unwrap().is_some(), "{n} deleted");
        }
    }
}

/// `upsert_many` of 300 items, then a scan finds exactly them.
pub async fn batch_upsert_many_300_then_scan(kvs: Kvs) {
    let store = things(&kvs).await;
    let items: Vec<Item> = (0..300).map(thing).collect();
    kvs.upsert_many(&store, items.clone()).await.unwrap();
    let mut expected = items;
    expected.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    assert_eq!(all_items(&kvs, &store).await, expected);
}

/// `delete_many` deletes every listed item and leaves the others.
pub async fn batch_delete_many_deletes_all(kvs: Kvs) {
    let store = things(&kvs).await;
    kvs.upsert_many(&store, (0..130).map(thing)).await.unwrap();
    let doomed: Vec<String> = (0..130)
        .filter(|i| i % 2 == 0)
        .map(|i| format!("id{i}"))
        .collect();
    kvs.delete_many(&store, doomed).await.unwrap();
    let left = all_items(&kvs, &store).await;
    let mut expected: Vec<Item> = (0..130).filter(|i| i % 2 == 1).map(thing).collect();
    expected.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    assert_eq!(left, expected);
}

/// `delete_many` of missing keys (or of none) is fine.
pub async fn batch_delete_many_missing_keys_fine(kvs: Kvs) {
    let store = things(&kvs).await;
    kvs.upsert_many(&store, (0..3).map(thing)).await.unwrap();
    kvs.delete_many(&store, ["nope", "id1", "never"])
        .await
        .unwrap();
    kvs.delete_many(&store, ["nope", "never"]).await.unwrap();
    kvs.delete_many(&store, Vec::<Key>::new()).await.unwrap();
    assert_eq!(all_items(&kvs, &store).await, [thing(0), thing(2)]);
}

/// Duplicate keys in one `delete_many` are `Validation` naming the key; nothing deleted.
pub async fn batch_delete_many_duplicate_keys_rejected(kvs: Kvs) {
    let store = things(&kvs).await;
    kvs.upsert_many(&store, (0..4).map(thing)).await.unwrap();
    let err = expect_kind(
        kvs.delete_many(&store, ["id0", "id1", "id2", "id1"]).await,
        ErrorKind::Validation,
    );
    assert_mentions(&err, "id1");
    assert_eq!(all_items(&kvs, &store).await.len(), 4);
}

/// One invalid key in `delete_many` is `Validation` naming its position; nothing deleted.
pub async fn batch_delete_many_invalid_key_named(kvs: Kvs) {
    let store = things(&kvs).await;
    kvs.upsert_many(&store, (0..4).map(thing)).await.unwrap();
    let err = expect_kind(
        kvs.delete_many(
            &store,
            [
                Key::new("id0"),
                Key::new("id1"),
                Key::new(7),
                Key::new("id3"),
            ],
        )
        .await,
        ErrorKind::Validation,
    );
    assert_names_position(&err, 2);
    let err = expect_kind(
        kvs.delete_many(&store, [Key::new("id0"), Key::with_sort("id1", 1)])
            .await,
        ErrorKind::Validation,
    );
    assert_names_position(&err, 1);
    assert_eq!(all_items(&kvs, &store).await.len(), 4);
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases_batches {
    ($cb:path, $make:tt) => {
        $cb!($make, batches::batch_get_many_in_order_with_missing);
        $cb!($make, batches::batch_get_many_duplicate_keys);
        $cb!($make, batches::batch_get_many_equal_numbers_are_one_key);
        $cb!($make, batches::batch_get_many_empty);
        $cb!($make, batches::batch_get_many_250_keys);
        $cb!($make, batches::batch_get_many_composite_keys);
        $cb!($make, batches::batch_get_many_invalid_key_rejected);
        $cb!($make, batches::batch_upsert_many_writes_all);
        $cb!($make, batches::batch_upsert_many_empty);
        $cb!($make, batches::batch_upsert_many_duplicate_keys_rejected);
        $cb!($make, batches::batch_upsert_many_equal_number_keys_rejected);
        $cb!($make, batches::batch_upsert_many_invalid_item_named);
        $cb!(
            $make,
            batches::batch_upsert_many_invalid_late_item_writes_nothing
        );
        $cb!($make, batches::batch_upsert_many_300_then_scan);
        $cb!($make, batches::batch_unstorable_float_late_writes_nothing);
        $cb!($make, batches::batch_delete_many_deletes_all);
        $cb!($make, batches::batch_delete_many_missing_keys_fine);
        $cb!($make, batches::batch_delete_many_duplicate_keys_rejected);
        $cb!($make, batches::batch_delete_many_invalid_key_named);
    };
}
