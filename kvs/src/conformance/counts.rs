//! Conformance cases: counts of queries and scans.

use futures::TryStreamExt as _;

use super::{expect_kind, fresh_store};
use crate::{
    ErrorKind, IndexSchema, Item, KeyAttr, Kvs, Number, Query, SortCondition, StoreSchema, Value,
    ValueType, attr, item,
};

/// Items in partition `a`: more than one page of 1,000, so that a count reads on.
const IN_A: i64 = 1_050;
/// Items in partition `b`.
const IN_B: i64 = 7;

/// A store keyed `pk`/`n` with the index `byG` (`g`, sorted by `m`), holding `IN_A` items
/// in `a` and `IN_B` in `b`; item `n` has `m = n % 3`, and `g = "x"` unless `n % 5 == 0`
/// (those are not in the index).
async fn counted(kvs: &Kvs) -> String {
    let store = fresh_store(
        kvs,
        StoreSchema::new("counts", KeyAttr::string("pk"))
            .sort_key(KeyAttr::number("n"))
            .index(IndexSchema::new("byG", KeyAttr::string("g")).sort_key(KeyAttr::number("m"))),
    )
    .await;
    let item = |pk: &str, n: i64| -> Item {
        let mut it = item! { "pk" => pk, "n" => n, "m" => n % 3 };
        if n % 5 != 0 {
            it.insert("g".to_owned(), "x".into());
        }
        it
    };
    let items: Vec<Item> = (0..IN_A)
        .map(|n| item("a", n))
        .chain((0..IN_B).map(|n| item("b", n)))
        .collect();
    for chunk in items.chunks(250) {
        kvs.upsert_many(&store, chunk.to_vec())
            .await
            .expect("write the items");
    }
    store
}

/// The count of a query, checked against the number of items its stream reads.
async fn count_of(query: Query) -> u64 {
    let streamed: Vec<Item> = query.clone().stream().try_collect().await.expect("stream");
    let n = query.count().await.expect("count");
    assert_eq!(
        n,
        streamed.len() as u64,
        "the count and the items read differ"
    );
    n
}

/// The number of items in `0..IN_A` (partition `a`) that `keep`.
fn in_a(keep: impl Fn(i64) -> bool) -> u64 {
    (0..IN_A).filter(|n| keep(*n)).count() as u64
}

/// A count is the number of items the query matches over every page: with and without
/// a sort condition and a filter (on other attributes and on the key), either direction,
/// an empty partition, and a consistent read.
pub async fn count_query_matches_every_page(kvs: Kvs) {
    let store = counted(&kvs).await;
    let q = || kvs.query(&store, "a");
    assert_eq!(count_of(q()).await, IN_A as u64);
    assert_eq!(count_of(q().descending()).await, IN_A as u64);
    assert_eq!(count_of(q().consistent()).await, IN_A as u64);
    assert_eq!(count_of(kvs.query(&store, "b")).await, IN_B as u64);
    assert_eq!(count_of(kvs.query(&store, "none")).await, 0);
    let between = q().sort(SortCondition::Between(10.into(), 19.into()));
    assert_eq!(count_of(between).await, 10);
    let above = q().sort(SortCondition::Gt(1_000.into())).descending();
    assert_eq!(count_of(above).await, in_a(|n| n > 1_000));
    // A filter every item passes: the matches run over more than one page.
    let all = q().filter(attr("m").le(2));
    assert_eq!(count_of(all).await, IN_A as u64);
    let ones = q().filter(attr("m").eq(1));
    assert_eq!(count_of(ones).await, in_a(|n| n % 3 == 1));
    // A filter on the sort key (DynamoDB evaluates those after reading).
    let on_key = q().filter(attr("n").ge(1_000).and(attr("g").exists()));
    assert_eq!(count_of(on_key).await, in_a(|n| n >= 1_000 && n % 5 != 0));
    let none = q().filter(attr("m").eq(7));
    assert_eq!(count_of(none).await, 0);
    // Bounds that are decimals no int64 or double holds (a backend that holds no
    // decimals still compares with them exactly): the count is of the items matched,
    // not of a rounded range.
    // 38 significant digits, the most a decimal holds.
    let decimal = |text: String| -> Value {
        let n: Number = text.parse().unwrap();
        assert!(n.is_decimal(), "{text}");
        n.into()
    };
    let digits = |n: i64| n.to_string().len();
    let just_above = |n: i64| decimal(format!("{n}.{}1", "0".repeat(37 - digits(n))));
    let just_below = |n: i64| decimal(format!("{}.{}", n - 1, "9".repeat(38 - digits(n - 1))));
    for (sort, expected) in [
        (SortCondition::Gt(just_above(1_000)), in_a(|n| n > 1_000)),
        (SortCondition::Ge(just_above(1_000)), in_a(|n| n > 1_000)),
        (SortCondition::Lt(just_below(10)), 10),
        (SortCondition::Le(just_below(10)), 10),
        (SortCondition::Eq(just_above(10)), 0),
        (SortCondition::Between(just_below(10), just_above(19)), 10),
    ] {
        assert_eq!(count_of(q().sort(sort.clone())).await, expected, "{sort:?}");
    }
}

/// A count of an index holds only the items in the index, with its sort condition and
/// filter, whose consistency follows the backend's index reads.
pub async fn count_index_query(kvs: Kvs) {
    let store = counted(&kvs).await;
    let in_index = |keep: &dyn Fn(i64) -> bool| -> u64 {
        let a = (0..IN_A).filter(|n| n % 5 != 0 && keep(*n)).count();
        let b = (0..IN_B).filter(|n| n % 5 != 0 && keep(*n)).count();
        (a + b) as u64
    };
    let cases: Vec<(Query, u64)> = vec![
        (kvs.query(&store, "x").index("byG"), in_index(&|_| true)),
        (
            kvs.query(&store, "x")
                .index("byG")
                .sort(SortCondition::Eq(2.into())),
            in_index(&|n| n % 3 == 2),
        ),
        (
            kvs.query(&store, "x")
                .index("byG")
                .descending()
                .filter(attr("pk").eq("b")),
            (0..IN_B).filter(|n| n % 5 != 0).count() as u64,
        ),
        (kvs.query(&store, "y").index("byG"), 0),
        // A decimal bound no int64 or double holds: only the items it matches.
        (
            kvs.query(&store, "x").index("byG").sort(SortCondition::Gt(
                "1.0000000000000000000000000000000000001"
                    .parse::<Number>()
                    .unwrap()
                    .into(),
            )),
            in_index(&|n| n % 3 == 2),
        ),
    ];
    let consistent = kvs.capabilities().consistent_index_reads;
    for (query, expected) in cases {
        let started = std::time::Instant::now();
        let mut n = query.clone().count().await.expect("count the index");
        while n != expected && !consistent && started.elapsed().as_secs() < 10 {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            n = query.clone().count().await.expect("count the index");
        }
        assert_eq!(n, expected, "{:?}", query.into_request());
    }
}

/// A scan's count is the number of items of the store, with or without a filter.
pub async fn count_scan(kvs: Kvs) {
    let store = counted(&kvs).await;
    let total = (IN_A + IN_B) as u64;
    assert_eq!(kvs.scan(&store).count().await.unwrap(), total);
    let zeros = kvs.scan(&store).filter(attr("m").eq(0)).count().await;
    let expected = in_a(|n| n % 3 == 0) + (0..IN_B).filter(|n| n % 3 == 0).count() as u64;
    assert_eq!(zeros.unwrap(), expected);
    let b = kvs.scan(&store).filter(attr("pk").eq("b")).count().await;
    assert_eq!(b.unwrap(), IN_B as u64);
    let empty = fresh_store(&kvs, StoreSchema::new("counts", KeyAttr::string("pk"))).await;
    assert_eq!(kvs.scan(&empty).count().await.unwrap(), 0);
}

/// A count with a filter on types and sets (which a count evaluates on what it reads
/// of each item, the keys and the filter's attributes) matches what the query returns:
/// a set stays a set, a list a list, bytes bytes.
pub async fn count_filters_on_types(kvs: Kvs) {
    let store = fresh_store(
        &kvs,
        StoreSchema::new("counts", KeyAttr::string("pk")).sort_key(KeyAttr::number("n")),
    )
    .await;
    let tags = |n: i64| -> Value {
        match n % 4 {
            0 => Value::StringSet(["a".to_owned(), "b".to_owned()].into()),
            1 => Value::List(vec!["a".into(), "b".into()]),
            2 => Value::Bytes(vec![n as u8]),
            _ => Value::NumberSet([Number::from(n)].into()),
        }
    };
    let items: Vec<Item> = (0..24)
        .map(|n| {
            let mut it = item! { "pk" => "a", "n" => n, "other" => "x".repeat(100) };
            it.insert("tags".to_owned(), tags(n));
            it
        })
        .collect();
    kvs.upsert_many(&store, items).await.unwrap();
    let filters = [
        attr("tags").type_of(ValueType::StringSet),
        attr("tags").type_of(ValueType::List),
        attr("tags").type_of(ValueType::Bytes),
        attr("tags").contains("a"),
        attr("tags").eq(Value::StringSet(["a".to_owned(), "b".to_owned()].into())),
        attr("tags")
            .type_of(ValueType::NumberSet)
            .or(attr("n").lt(3)),
    ];
    for filter in filters {
        let q = kvs.query(&store, "a").filter(filter.clone());
        let n = count_of(q).await;
        assert!(n > 0, "{filter:?} matches some items");
        let s = kvs.scan(&store).filter(filter.clone());
        let streamed: Vec<Item> = s.clone().stream().try_collect().await.unwrap();
        assert_eq!(
            s.count().await.unwrap(),
            streamed.len() as u64,
            "{filter:?}"
        );
        assert_eq!(n, streamed.len() as u64, "{filter:?}");
    }
}

/// A count takes no page limit or token (it covers every page), is checked as its query
/// is, and on an unknown store or index is `StoreNotFound`.
pub async fn count_bad_requests_rejected(kvs: Kvs) {
    let store = fresh_store(
        &kvs,
        StoreSchema::new("counts", KeyAttr::string("pk")).sort_key(KeyAttr::number("n")),
    )
    .await;
    let items = vec![
        item! { "pk" => "a", "n" => 1 },
        item! { "pk" => "a", "n" => 2 },
    ];
    kvs.upsert_many(&store, items).await.unwrap();
    let page = kvs.query(&store, "a").limit(1).await.unwrap();
    let token = page.next_page_token.expect("a second page");
    let q = || kvs.query(&store, "a");
    expect_kind(q().limit(5).count().await, ErrorKind::Validation);
    expect_kind(q().page_token(token).count().await, ErrorKind::Validation);
    expect_kind(
        kvs.scan(&store).limit(5).count().await,
        ErrorKind::Validation,
    );
    expect_kind(q().index("nope").count().await, ErrorKind::StoreNotFound);
    let wrong_type = q().sort(SortCondition::Eq("one".into()));
    expect_kind(wrong_type.count().await, ErrorKind::Validation);
    expect_kind(kvs.query(&store, 1).count().await, ErrorKind::Validation);
    expect_kind(
        kvs.query("no-such-store", "a").count().await,
        ErrorKind::StoreNotFound,
    );
    expect_kind(
        kvs.scan("no-such-store").count().await,
        ErrorKind::StoreNotFound,
    );
    // Nothing was changed by the refused counts.
    assert_eq!(q().count().await.unwrap(), 2);
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases_counts {
    ($cb:path, $make:tt) => {
        $cb!($make, counts::count_query_matches_every_page);
        $cb!($make, counts::count_index_query);
        $cb!($make, counts::count_scan);
        $cb!($make, counts::count_filters_on_types);
        $cb!($make, counts::count_bad_requests_rejected);
    };
}
