//! Conformance cases: what a backend declares ([`Capabilities`]) is kept on every path.
//! Each case reads the declaration to know what to expect: a request the declaration
//! rules out is `Validation` (a value) or `Unsupported` (a transaction) on single
//! writes, batches and transactions alike, and nothing is written; what it allows works.

use std::collections::BTreeMap;

use futures::TryStreamExt as _;

use super::{expect_kind, fresh_store};
use crate::backend::{Capabilities, TransactionScope};
use crate::{
    ErrorKind, Item, KeyAttr, Kvs, Result, StoreSchema, TransactWrite, Updates, Value, item,
};

/// A store keyed by partition `pk` and sort `sk` (both strings).
async fn pairs(kvs: &Kvs) -> String {
    fresh_store(
        kvs,
        StoreSchema::new("caps", KeyAttr::string("pk")).sort_key(KeyAttr::string("sk")),
    )
    .await
}

async fn all_items(kvs: &Kvs, store: &str) -> Vec<Item> {
    kvs.scan(store)
        .stream()
        .try_collect()
        .await
        .expect("scan the store")
}

/// `n` nested containers (maps and lists in turn) around the number 1.
fn nested(n: usize) -> Value {
    let mut v = Value::from(1);
    for level in 0..n {
        v = if level % 2 == 0 {
            Value::Map(BTreeMap::from([("k".to_owned(), v)]))
        } else {
            Value::List(vec![v])
        };
    }
    v
}

/// Every way of writing `bad` (an item the declaration rules out) into an empty
/// `store` is `kind`, and nothing is written: upsert, insert, upsert_many beside a good
/// item, a transaction beside a good write (where the backend has transactions), and
/// an update that sets `bad`'s attribute `attr` on a good item. Each error mentions
/// `mention`.
async fn refused_everywhere(
    kvs: &Kvs,
    caps: &Capabilities,
    store: &str,
    bad: Item,
    (attr, mention): (&str, &str),
    kind: ErrorKind,
) {
    let good = item! { "pk" => "p", "sk" => "good" };
    let at = |what: &str, r: Result<()>| {
        let e = expect_kind(r, kind);
        assert!(
            e.to_string().contains(mention),
            "{what}: the error should mention {mention:?}: {e}"
        );
    };
    at("upsert", kvs.upsert(store, bad.clone()).await);
    at("insert", kvs.insert(store, bad.clone()).await);
    at(
        "upsert_many",
        kvs.upsert_many(store, [good.clone(), bad.clone()]).await,
    );
    if caps.transactions != TransactionScope::None {
        at(
            "transact",
            kvs.transact([
                TransactWrite::put(store, good.clone()),
                TransactWrite::put(store, bad.clone()),
            ])
            .await,
        );
    }
    assert!(
        all_items(kvs, store).await.is_empty(),
        "a refused write wrote something"
    );
    kvs.upsert(store, good.clone()).await.unwrap();
    let value = bad[attr].clone();
    let e = expect_kind(
        kvs.update(store, crate::Key::with_sort("p", "good"))
            .set(attr, value.clone())
            .await,
        kind,
    );
    // An update's operand is checked before anything is sent, naming its path; the
    // size of the item it makes is known only where the update is applied (by a
    // service, in its own words, and in a transaction as a reason).
    if mention == attr {
        assert!(e.to_string().contains(mention), "update: {e}");
    }
    if caps.transactions != TransactionScope::None && mention == attr {
        expect_kind(
            kvs.transact([TransactWrite::update(
                store,
                crate::Key::with_sort("p", "good"),
                Updates::new().set(attr, value),
            )])
            .await,
            kind,
        );
    }
    assert_eq!(all_items(kvs, store).await, vec![good]);
}

/// [`refused_everywhere`] for each `(name, value)`: an item holding the one attribute
/// `name` is `Validation` naming it on every path; the good item it leaves is taken away
/// before the next.
async fn each_refused_everywhere<const N: usize>(
    kvs: &Kvs,
    caps: &Capabilities,
    store: &str,
    bad: [(&str, Value); N],
) {
    for (name, value) in bad {
        let item = item! { "pk" => "p", "sk" => "bad", name => value };
        refused_everywhere(kvs, caps, store, item, (name, name), ErrorKind::Validation).await;
        kvs.delete(store, crate::Key::with_sort("p", "good"))
            .await
            .unwrap();
    }
}

/// The declared nesting depth: an attribute holding one fewer levels than
/// `max_depth` (the item is the first) is written on every path; one more is
/// `Validation` naming it, on every path, and nothing is written.
pub async fn caps_declared_depth_kept_on_every_path(kvs: Kvs) {
    let caps = kvs.capabilities();
    let store = pairs(&kvs).await;
    let deepest = item! { "pk" => "p", "sk" => "deep", "deep" => nested(caps.max_depth - 1) };
    kvs.upsert_many(&store, [deepest.clone()]).await.unwrap();
    assert_eq!(all_items(&kvs, &store).await, vec![deepest]);
    kvs.delete_many(&store, [crate::Key::with_sort("p", "deep")])
        .await
        .unwrap();
    let bad = item! { "pk" => "p", "sk" => "bad", "deeper" => nested(caps.max_depth) };
    refused_everywhere(
        &kvs,
        &caps,
        &store,
        bad,
        ("deeper", "deeper"),
        ErrorKind::Validation,
    )
    .await;
}

/// The declared item size: an item over `max_item_size` is `Validation` on every
/// path, and nothing is written.
pub async fn caps_declared_item_size_kept_on_every_path(kvs: Kvs) {
    let caps = kvs.capabilities();
    let store = pairs(&kvs).await;
    let mut bad = item! { "pk" => "p", "sk" => "bad", "big" => "" };
    let fixed = crate::limits::item_size(&bad);
    bad.set("big", "z".repeat(caps.max_item_size + 1 - fixed));
    // The error names the size, not an attribute. Set on the item "good" (one byte
    // longer a key than "bad"), the attribute makes it too large as well.
    refused_everywhere(
        &kvs,
        &caps,
        &store,
        bad,
        ("big", "bytes"),
        ErrorKind::Validation,
    )
    .await;
}

/// The declared integer range: where the backend declares one, an integer just
/// outside it is `Validation` naming the attribute on every path and the bounds are
/// stored exactly; where it declares none, `i64::MIN` and `i64::MAX` are stored exactly
/// by batches and transactions too.
pub async fn caps_declared_integer_range_kept_on_every_path(kvs: Kvs) {
    let caps = kvs.capabilities();
    let store = pairs(&kvs).await;
    let (low, high) = caps.integer_range.unwrap_or((i64::MIN, i64::MAX));
    let bounds = item! { "pk" => "p", "sk" => "bounds", "low" => low, "high" => high };
    kvs.upsert_many(&store, [bounds.clone()]).await.unwrap();
    if caps.transactions != TransactionScope::None {
        let mut again = bounds.clone();
        again.set("sk", "bounds2");
        kvs.transact([TransactWrite::put(&store, again.clone())])
            .await
            .unwrap();
        let got = kvs
            .get(&store, crate::Key::with_sort("p", "bounds2"))
            .await
            .unwrap();
        assert_eq!(got, Some(again), "a transaction kept the bounds exactly");
        kvs.delete(&store, crate::Key::with_sort("p", "bounds2"))
            .await
            .unwrap();
    }
    let got = kvs
        .get(&store, crate::Key::with_sort("p", "bounds"))
        .await
        .unwrap();
    assert_eq!(got, Some(bounds), "a batch kept the bounds exactly");
    kvs.delete(&store, crate::Key::with_sort("p", "bounds"))
        .await
        .unwrap();
    if high < i64::MAX {
        let bad = item! { "pk" => "p", "sk" => "bad", "over" => high + 1 };
        refused_everywhere(
            &kvs,
            &caps,
            &store,
            bad,
            ("over", "over"),
            ErrorKind::Validation,
        )
        .await;
    } else if low > i64::MIN {
        let bad = item! { "pk" => "p", "sk" => "bad", "under" => low - 1 };
        refused_everywhere(
            &kvs,
            &caps,
            &store,
            bad,
            ("under", "under"),
            ErrorKind::Validation,
        )
        .await;
    }
}

/// The declared float range: where the backend declares one (DynamoDB's numbers run
/// from 1e-130 to 1e126 in magnitude), a float outside it is `Validation` naming the
/// attribute on every path, in a number set too, and nothing is written; where it
/// declares none, the extremes of f64 are stored exactly by batches and transactions.
pub async fn caps_declared_float_range_kept_on_every_path(kvs: Kvs) {
    let caps = kvs.capabilities();
    let store = pairs(&kvs).await;
    let Some((min, max)) = caps.float_range else {
        let extremes = item! {
            "pk" => "p", "sk" => "extremes",
            "max" => f64::MAX, "tiny" => f64::MIN_POSITIVE, "subnormal" => 5e-324,
            "set" => Value::number_set([f64::MAX, -5e-324]),
        };
        kvs.upsert_many(&store, [extremes.clone()]).await.unwrap();
        let got = kvs
            .get(&store, crate::Key::with_sort("p", "extremes"))
            .await;
        assert_eq!(got.unwrap(), Some(extremes));
        return;
    };
    let bad = [
        ("huge", Value::from(max * 10.0)),
        ("tiny", Value::from(min / 10.0)),
        ("inset", Value::number_set([1.5, max * 10.0])),
    ];
    each_refused_everywhere(&kvs, &caps, &store, bad).await;
}

/// Exact decimals where the backend declares it holds none: a decimal no int64 or
/// double holds is `Validation` naming the attribute on every path (nested in a map
/// too), and nothing is written.
pub async fn caps_declared_decimals_kept_on_every_path(kvs: Kvs) {
    let caps = kvs.capabilities();
    if caps.exact_decimals {
        return;
    }
    let store = pairs(&kvs).await;
    let decimal: crate::Number = "0.10000000000000001".parse().unwrap();
    assert!(decimal.is_decimal());
    let bad = [
        ("dec", Value::from(decimal)),
        ("decs", Value::number_set([crate::Number::from(1), decimal])),
        (
            "deep",
            Value::Map([("inner".to_owned(), Value::from(decimal))].into()),
        ),
    ];
    each_refused_everywhere(&kvs, &caps, &store, bad).await;
}

/// The declared transaction scope: with none, `transact` is `Unsupported` and writes
/// nothing; with one partition key value, a transaction across two values is
/// `Unsupported` and writes nothing, and one within a value is done; with any, a
/// transaction across values (and stores) is done.
pub async fn caps_declared_transaction_scope_kept(kvs: Kvs) {
    let caps = kvs.capabilities();
    let store = pairs(&kvs).await;
    let other = pairs(&kvs).await;
    let a1 = item! { "pk" => "a", "sk" => "1" };
    let a2 = item! { "pk" => "a", "sk" => "2" };
    let b1 = item! { "pk" => "b", "sk" => "1" };
    let one_partition = [
        TransactWrite::put(&store, a1.clone()),
        TransactWrite::put(&store, a2.clone()),
    ];
    let across = [
        TransactWrite::put(&store, a1.clone()),
        TransactWrite::put(&store, b1.clone()),
    ];
    let across_stores = [
        TransactWrite::put(&store, a1.clone()),
        TransactWrite::put(&other, a2.clone()),
    ];
    match caps.transactions {
        TransactionScope::None => {
            expect_kind(kvs.transact(one_partition).await, ErrorKind::Unsupported);
            assert!(all_items(&kvs, &store).await.is_empty());
        }
        TransactionScope::OnePartition => {
            expect_kind(kvs.transact(across).await, ErrorKind::Unsupported);
            expect_kind(kvs.transact(across_stores).await, ErrorKind::Unsupported);
            assert!(all_items(&kvs, &store).await.is_empty());
            assert!(all_items(&kvs, &other).await.is_empty());
            kvs.transact(one_partition).await.unwrap();
            assert_eq!(all_items(&kvs, &store).await.len(), 2);
        }
        TransactionScope::Any => {
            kvs.transact(across).await.unwrap();
            kvs.transact(across_stores).await.unwrap();
            assert_eq!(all_items(&kvs, &store).await.len(), 2);
            assert_eq!(all_items(&kvs, &other).await, vec![a2]);
        }
    }
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases_capabilities {
    ($cb:path, $make:tt) => {
        $cb!($make, capabilities::caps_declared_depth_kept_on_every_path);
        $cb!(
            $make,
            capabilities::caps_declared_item_size_kept_on_every_path
        );
        $cb!(
            $make,
            capabilities::caps_declared_integer_range_kept_on_every_path
        );
        $cb!(
            $make,
            capabilities::caps_declared_float_range_kept_on_every_path
        );
        $cb!(
            $make,
            capabilities::caps_declared_decimals_kept_on_every_path
        );
        $cb!($make, capabilities::caps_declared_transaction_scope_kept);
    };
}
