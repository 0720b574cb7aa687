//! Conformance cases: items that expire ([`StoreSchema::ttl`]). An expired item is
//! invisible at once to every read and write, whatever the backend's own deletion does.

use futures::TryStreamExt as _;

use super::{expect_kind, fresh_store};
use crate::{
    ErrorKind, IndexSchema, Item, Key, KeyAttr, Kvs, Result, StoreSchema, TransactWrite, Updates,
    attr, item,
};

fn now() -> i64 {
    crate::schema::now_seconds()
}

/// A store keyed `pk`/`n`, expiring by `exp`, with the index `byG`.
async fn expiring(kvs: &Kvs) -> String {
    fresh_store(
        kvs,
        StoreSchema::new("expiry", KeyAttr::string("pk"))
            .sort_key(KeyAttr::number("n"))
            .index(IndexSchema::new("byG", KeyAttr::string("g")).sort_key(KeyAttr::number("n")))
            .ttl("exp"),
    )
    .await
}

/// Items of partition `a`: 1 and 4 expired (a minute and a second ago), 2 expiring in
/// an hour, 3 without an expiry, 5 with an expiry that is not a number (never expires);
/// each in the index.
async fn fill(kvs: &Kvs, store: &str) -> Vec<Item> {
    let t = now();
    let items = vec![
        item! { "pk" => "a", "n" => 1, "g" => "x", "exp" => t - 60, "v" => 1 },
        item! { "pk" => "a", "n" => 2, "g" => "x", "exp" => t + 3600, "v" => 2 },
        item! { "pk" => "a", "n" => 3, "g" => "x", "v" => 3 },
        item! { "pk" => "a", "n" => 4, "g" => "x", "exp" => t - 1, "v" => 4 },
        item! { "pk" => "a", "n" => 5, "g" => "x", "exp" => "soon", "v" => 5 },
    ];
    kvs.upsert_many(store, items.clone()).await.expect("write");
    items
}

fn key(n: i64) -> Key {
    Key::with_sort("a", n)
}

fn ns(items: &[Item]) -> Vec<i64> {
    items
        .iter()
        .map(|i| i.get("n").and_then(|v| v.as_i64()).expect("n"))
        .collect()
}

/// An expired item is not read: get gives none, get_many skips it (in order), queries
/// (by pages of one, both directions, filtered), an index query, a scan and counts leave
/// it out. Items without an expiry, or with one that is not a number, never expire.
pub async fn expiry_expired_items_are_invisible(kvs: Kvs) {
    let store = expiring(&kvs).await;
    let items = fill(&kvs, &store).await;
    assert_eq!(kvs.get(&store, key(1)).await.unwrap(), None);
    assert_eq!(kvs.get(&store, key(4)).await.unwrap(), None);
    assert_eq!(
        kvs.get(&store, key(2)).await.unwrap(),
        Some(items[1].clone())
    );
    assert_eq!(
        kvs.get(&store, key(5)).await.unwrap(),
        Some(items[4].clone())
    );
    let many = kvs
        .get_many(&store, [key(1), key(2), key(3), key(4)])
        .await
        .unwrap();
    assert_eq!(
        many,
        vec![None, Some(items[1].clone()), Some(items[2].clone()), None]
    );

    // Pages of one hold one item each, never an expired one.
    let pages: Vec<crate::Page> = kvs
        .query(&store, "a")
        .limit(1)
        .pages()
        .try_collect()
        .await
        .unwrap();
    let walked: Vec<Item> = pages.iter().flat_map(|p| p.items.clone()).collect();
    assert_eq!(ns(&walked), [2, 3, 5]);
    assert!(
        pages
            .iter()
            .all(|p| p.items.len() == 1 || p.next_page_token.is_none())
    );
    let down: Vec<Item> = kvs
        .query(&store, "a")
        .descending()
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ns(&down), [5, 3, 2]);
    let filtered = kvs
        .query(&store, "a")
        .filter(attr("v").le(4))
        .await
        .unwrap();
    assert_eq!(ns(&filtered.items), [2, 3]);
    let consistent = index_until(&kvs, &store, 3).await;
    assert_eq!(ns(&consistent), [2, 3, 5]);
    let mut scanned: Vec<Item> = kvs
        .scan(&store)
        .limit(2)
        .stream()
        .try_collect()
        .await
        .unwrap();
    scanned.sort_by_key(|i| i.get("n").and_then(|v| v.as_i64()));
    assert_eq!(ns(&scanned), [2, 3, 5]);
    assert_eq!(kvs.query(&store, "a").count().await.unwrap(), 3);
    assert_eq!(kvs.scan(&store).count().await.unwrap(), 3);
    assert_eq!(
        kvs.scan(&store)
            .filter(attr("exp").exists())
            .count()
            .await
            .unwrap(),
        2
    );

    // An item that expires while nothing is written: invisible from that second on.
    // It is visible until then: checked only where the get was answered before the
    // item's second began (a slow server may take the whole window; then try again,
    // rather than let the clock decide the test).
    let mut attempts = 0;
    let soon = loop {
        let soon = now() + 2;
        let seven = item! { "pk" => "a", "n" => 7, "g" => "x", "exp" => soon };
        kvs.upsert(&store, seven.clone()).await.unwrap();
        let got = kvs.get(&store, key(7)).await.unwrap();
        if now() < soon {
            assert_eq!(got, Some(seven));
            break soon;
        }
        attempts += 1;
        assert!(
            attempts < 5,
            "an upsert and a get took over a second, five times"
        );
    };
    while now() <= soon {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(kvs.get(&store, key(7)).await.unwrap(), None);
    assert_eq!(kvs.get_many(&store, [key(7)]).await.unwrap(), vec![None]);
    assert_eq!(kvs.query(&store, "a").count().await.unwrap(), 3);
    let page = kvs
        .query(&store, "a")
        .sort(crate::SortCondition::Ge(6.into()))
        .await
        .unwrap();
    assert!(page.items.is_empty() && page.next_page_token.is_none());
    expect_kind(
        kvs.update(&store, key(7)).add("v", 1).await,
        ErrorKind::NotFound,
    );
}

/// The index `byG` of partition `x`, read until it holds `n` items (or 10 s pass, where
/// index reads are eventually consistent).
async fn index_until(kvs: &Kvs, store: &str, n: usize) -> Vec<Item> {
    let started = std::time::Instant::now();
    loop {
        let page = kvs.query(store, "x").index("byG").await.unwrap();
        if page.items.len() == n
            || kvs.capabilities().consistent_index_reads
            || started.elapsed().as_secs() >= 10
        {
            return page.items;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Writes meet an expired item as a missing one: an update of it is `NotFound` and
/// changes nothing, an insert over it succeeds, a condition sees it as missing, a
/// delete returns none, and in a transaction a check of it fails and an insert over it
/// succeeds. An update that moves the expiry into the past hides the item at once.
pub async fn expiry_writes_see_expired_items_as_missing(kvs: Kvs) {
    let store = expiring(&kvs).await;
    fill(&kvs, &store).await;
    let t = now();

    let updated = kvs.update(&store, key(1)).add("v", 1).await;
    expect_kind(updated, ErrorKind::NotFound);
    assert_eq!(kvs.get(&store, key(1)).await.unwrap(), None);

    let fresh = item! { "pk" => "a", "n" => 1, "v" => 10, "exp" => t + 3600 };
    kvs.insert(&store, fresh.clone())
        .await
        .expect("an insert over an expired item");
    assert_eq!(kvs.get(&store, key(1)).await.unwrap(), Some(fresh.clone()));
    let again = kvs.insert(&store, fresh.clone()).await;
    expect_kind(again, ErrorKind::AlreadyExists);

    // Item 4 is expired and holds v = 4: a condition sees no item, so no v.
    let put = |v: i64| item! { "pk" => "a", "n" => 4, "v" => v };
    let refused = kvs.upsert(&store, put(40)).when(attr("v").eq(4)).await;
    expect_kind(refused, ErrorKind::ConditionFailed);
    kvs.upsert(&store, put(41))
        .when(attr("v").not_exists())
        .await
        .expect("the condition sees a missing item");
    assert_eq!(kvs.get(&store, key(4)).await.unwrap(), Some(put(41)));

    // Move item 2's expiry into the past: gone at once; its delete returns none.
    let moved = kvs.update(&store, key(2)).set("exp", t - 5).await.unwrap();
    assert_eq!(moved.get("v").and_then(|v| v.as_i64()), Some(2));
    assert_eq!(kvs.get(&store, key(2)).await.unwrap(), None);
    assert_eq!(kvs.delete(&store, key(2)).await.unwrap(), None);
    expect_kind(
        kvs.delete(&store, key(3)).when(attr("v").eq(99)).await,
        ErrorKind::ConditionFailed,
    );

    // Item 6, expired, in a transaction: a check that it exists fails, an insert over it
    // succeeds.
    kvs.upsert(&store, item! { "pk" => "a", "n" => 6, "exp" => t - 60 })
        .await
        .unwrap();
    let checked = kvs
        .transact([
            TransactWrite::check(&store, key(6), attr("pk").exists()),
            TransactWrite::update(&store, key(3), Updates::new().add("v", 1)),
        ])
        .await;
    let err = expect_kind(checked, ErrorKind::TransactionCanceled);
    assert_eq!(
        err.reasons(),
        Some(&[Some(ErrorKind::ConditionFailed), None][..])
    );
    kvs.transact([
        TransactWrite::insert(&store, item! { "pk" => "a", "n" => 6, "v" => 6 }),
        TransactWrite::update(&store, key(3), Updates::new().add("v", 1)),
    ])
    .await
    .expect("an insert over an expired item, in a transaction");
    let six = kvs.get(&store, key(6)).await.unwrap();
    assert_eq!(six, Some(item! { "pk" => "a", "n" => 6, "v" => 6 }));
}

/// The expiry attribute cannot be a key attribute (a key never changes): `Validation`.
pub async fn expiry_on_a_key_attribute_rejected(kvs: Kvs) {
    let bad = StoreSchema::new("expiry", KeyAttr::string("pk"))
        .sort_key(KeyAttr::number("n"))
        .ttl("n");
    let result: Result<()> = kvs.ensure_store(bad).await;
    expect_kind(result, ErrorKind::Validation);
}

/// An expiry a fraction of a second in the past has passed: the item is invisible at
/// once to a get, a query, a scan and a count (and a write sees it as missing), not at
/// the next whole second; one a fraction of a second ahead is still there.
pub async fn expiry_in_the_past_by_a_fraction_of_a_second(kvs: Kvs) {
    let store = expiring(&kvs).await;
    let now = || crate::schema::now_exact().to_f64_lossy();
    // Half a second into a second, so that 0.3 s ago is the same whole second (a whole
    // second's clock would not have it expired yet).
    while !(0.4..0.7).contains(&now().fract()) {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let t = now();
    let past = item! { "pk" => "a", "n" => 1, "g" => "x", "exp" => t - 0.3 };
    let ahead = item! { "pk" => "a", "n" => 2, "g" => "x", "exp" => t + 30.5 };
    kvs.upsert_many(&store, vec![past, ahead.clone()])
        .await
        .expect("write");
    assert_eq!(kvs.get(&store, key(1)).await.unwrap(), None);
    assert_eq!(kvs.get(&store, key(2)).await.unwrap(), Some(ahead));
    let queried: Vec<Item> = kvs.query(&store, "a").stream().try_collect().await.unwrap();
    assert_eq!(ns(&queried), [2]);
    let scanned = kvs.scan(&store).await.unwrap().items;
    assert_eq!(ns(&scanned), [2]);
    assert_eq!(kvs.query(&store, "a").count().await.unwrap(), 1);
    // A write that needs the item finds none.
    let e = kvs.update(&store, key(1)).set("v", 1).await;
    expect_kind(e, ErrorKind::NotFound);
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases_expiry {
    ($cb:path, $make:tt) => {
        $cb!($make, expiry::expiry_expired_items_are_invisible);
        $cb!($make, expiry::expiry_in_the_past_by_a_fraction_of_a_second);
        $cb!($make, expiry::expiry_writes_see_expired_items_as_missing);
        $cb!($make, expiry::expiry_on_a_key_attribute_rejected);
    };
}
