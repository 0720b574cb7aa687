//! Conformance cases: pages, page tokens, sort conditions and streams.

use std::collections::BTreeSet;
use std::future::IntoFuture;

use futures::TryStreamExt as _;

use super::{expect_kind, fresh_store};
use crate::{
    ErrorKind, IndexSchema, Item, KeyAttr, Kvs, Page, PageToken, Result, SortCondition,
    StoreSchema, Value, attr, item,
};

/// A store with the string partition key `pk` and the number sort key `n`.
async fn numbered(kvs: &Kvs) -> String {
    fresh_store(
        kvs,
        StoreSchema::new("pages", KeyAttr::string("pk")).sort_key(KeyAttr::number("n")),
    )
    .await
}

/// A numbered store holding `n` in `0..count` in partition `pk`, each with `m = n % 3`.
async fn numbered_with(kvs: &Kvs, pk: &str, count: i64) -> String {
    let store = numbered(kvs).await;
    fill(kvs, &store, pk, count).await;
    store
}

async fn fill(kvs: &Kvs, store: &str, pk: &str, count: i64) {
    let items: Vec<Item> = (0..count)
        .map(|n| item! { "pk" => pk, "n" => n, "m" => n % 3 })
        .collect();
    kvs.upsert_many(store, items)
        .await
        .expect("write the items");
}

/// Reads page after page, each with the previous page's token, until a page has none.
async fn walk<F, Fut>(mut next: F) -> Vec<Page>
where
    F: FnMut(Option<PageToken>) -> Fut,
    Fut: IntoFuture<Output = Result<Page>>,
{
    let mut pages = Vec::new();
    let mut token = None;
    loop {
        let page = next(token.take()).await.expect("read a page");
        let following = page.next_page_token.clone();
        pages.push(page);
        match following {
            Some(t) => token = Some(t),
            None => return pages,
        }
        assert!(pages.len() <= 5_000, "the pages never end");
    }
}

/// Asserts that every page but the last holds exactly `limit` items, and the last at
/// most `limit` (so only the last page can be empty).
#[track_caller]
fn assert_full_pages(pages: &[Page], limit: usize) {
    let sizes: Vec<usize> = pages.iter().map(|p| p.items.len()).collect();
    let (last, rest) = sizes.split_last().expect("at least one page");
    assert!(
        rest.iter().all(|&s| s == limit) && *last <= limit,
        "page sizes {sizes:?} with limit {limit}: every page but the last must be full"
    );
}

fn items_of(pages: Vec<Page>) -> Vec<Item> {
    pages.into_iter().flat_map(|p| p.items).collect()
}

/// The `n` attribute of each item, in order.
fn ns(items: &[Item]) -> Vec<Value> {
    items.iter().map(|i| i["n"].clone()).collect()
}

fn values<T: Into<Value> + Copy>(xs: &[T]) -> Vec<Value> {
    xs.iter().map(|&x| x.into()).collect()
}

fn range(r: impl IntoIterator<Item = i64>) -> Vec<Value> {
    r.into_iter().map(Value::from).collect()
}

/// The string attribute `name` of each item, in order.
fn strings(items: &[Item], name: &str) -> Vec<String> {
    items
        .iter()
        .map(|i| i[name].as_str().expect("a string").to_owned())
        .collect()
}

/// A query page holds exactly `limit` matching items until the last page, however
/// sparse the filter's matches.
pub async fn page_exact_sizes_under_filter(kvs: Kvs) {
    let store = numbered_with(&kvs, "p", 50).await;
    // 17 matches (0, 3, ..., 48): pages of 5, 5, 5 and then 2.
    let pages = walk(|t| {
        kvs.query(&store, "p")
            .filter(attr("m").eq(0))
            .limit(5)
            .page_token(t)
    })
    .await;
    assert_full_pages(&pages, 5);
    assert_eq!(pages.iter().filter(|p| !p.items.is_empty()).count(), 4);
    assert_eq!(ns(&items_of(pages)), range((0..50).step_by(3)));
    // 15 matches with `m = 1` over 0..45 of a 45-item partition: every page is full.
    let store = numbered_with(&kvs, "p", 45).await;
    let pages = walk(|t| {
        kvs.query(&store, "p")
            .filter(attr("m").eq(1))
            .limit(5)
            .page_token(t)
    })
    .await;
    assert_full_pages(&pages, 5);
    assert_eq!(ns(&items_of(pages)), range((1..45).step_by(3)));
}

/// A scan page holds exactly `limit` matching items until the last page.
pub async fn page_scan_exact_sizes_under_filter(kvs: Kvs) {
    let store = numbered_with(&kvs, "p", 50).await;
    let pages = walk(|t| {
        kvs.scan(&store)
            .filter(attr("m").eq(0))
            .limit(4)
            .page_token(t)
    })
    .await;
    assert_full_pages(&pages, 4);
    let mut got = ns(&items_of(pages));
    got.sort_by(|a, b| a.partial_compare(b).expect("numbers"));
    assert_eq!(got, range((0..50).step_by(3)));
}

/// Following query tokens yields every item of the partition once, ascending, and ends.
pub async fn page_query_walk_ascending(kvs: Kvs) {
    let store = numbered_with(&kvs, "p", 23).await;
    fill(&kvs, &store, "other", 10).await;
    let pages = walk(|t| kvs.query(&store, "p").limit(4).page_token(t)).await;
    assert_full_pages(&pages, 4);
    let items = items_of(pages);
    assert!(items.iter().all(|i| i["pk"] == Value::from("p")));
    assert_eq!(ns(&items), range(0..23));
}

/// Following tokens of a descending query yields every item once, highest first.
pub async fn page_query_walk_descending(kvs: Kvs) {
    let store = numbered_with(&kvs, "p", 23).await;
    fill(&kvs, &store, "other", 10).await;
    let pages = walk(|t| kvs.query(&store, "p").descending().limit(4).page_token(t)).await;
    assert_full_pages(&pages, 4);
    assert_eq!(ns(&items_of(pages)), range((0..23).rev()));
    // With a sort condition too.
    let pages = walk(|t| {
        kvs.query(&store, "p")
            .sort(SortCondition::between(5, 15))
            .descending()
            .limit(3)
            .page_token(t)
    })
    .await;
    assert_full_pages(&pages, 3);
    assert_eq!(ns(&items_of(pages)), range((5..=15).rev()));
}

/// A store with the index `byGroup` (group, rank) and the unsorted index `byColor`.
async fn ranked(kvs: &Kvs) -> String {
    let store = fresh_store(
        kvs,
        StoreSchema::new("ranked", KeyAttr::string("id"))
            .index(
                IndexSchema::new("byGroup", KeyAttr::string("group"))
                    .sort_key(KeyAttr::number("rank")),
            )
            .index(IndexSchema::new("byColor", KeyAttr::string("color"))),
    )
    .await;
    let mut items = Vec::new();
    for i in 0..30 {
        // Ranks 0..4 repeat: each rank is shared by 7 or 8 items of group "g".
        items.push(item! {
            "id" => format!("i-{i:02}"),
            "group" => "g",
            "rank" => i % 4,
            "color" => "red",
        });
    }
    for i in 0..5 {
        items.push(
            item! { "id" => format!("h-{i}"), "group" => "h", "rank" => i, "color" => "blue" },
        );
        // Without a rank: not in `byGroup` (sparse).
        items.push(item! { "id" => format!("x-{i}"), "group" => "g", "color" => "red" });
    }
    kvs.upsert_many(&store, items)
        .await
        .expect("write the items");
    super::settle_index(kvs, &store, "byGroup", "g", 30).await;
    super::settle_index(kvs, &store, "byColor", "red", 35).await;
    store
}

fn ranks(items: &[Item]) -> Vec<i64> {
    items.iter().map(|i| i["rank"].as_i64().unwrap()).collect()
}

/// Walking an index with ties in its sort key yields every item once, ordered by the
/// index sort key, with ties in the same stable order whatever the page size.
pub async fn page_index_walk_with_ties(kvs: Kvs) {
    let store = ranked(&kvs).await;
    let whole = kvs.query(&store, "g").index("byGroup").await.unwrap();
    assert!(whole.next_page_token.is_none());
    let order = strings(&whole.items, "id");
    let expected: BTreeSet<String> = (0..30).map(|i| format!("i-{i:02}")).collect();
    assert_eq!(order.len(), 30, "{order:?}");
    assert_eq!(order.iter().cloned().collect::<BTreeSet<_>>(), expected);
    let r = ranks(&whole.items);
    assert!(
        r.windows(2).all(|w| w[0] <= w[1]),
        "ranks out of order: {r:?}"
    );
    for limit in [1, 2, 3, 7] {
        let pages = walk(|t| {
            kvs.query(&store, "g")
                .index("byGroup")
                .limit(limit)
                .page_token(t)
        })
        .await;
        assert_full_pages(&pages, limit);
        assert_eq!(strings(&items_of(pages), "id"), order, "limit {limit}");
    }
    // An index without a sort key: every item ties.
    let whole = kvs.query(&store, "red").index("byColor").await.unwrap();
    let order = strings(&whole.items, "id");
    assert_eq!(order.len(), 35);
    let pages = walk(|t| {
        kvs.query(&store, "red")
            .index("byColor")
            .limit(4)
            .page_token(t)
    })
    .await;
    assert_full_pages(&pages, 4);
    assert_eq!(strings(&items_of(pages), "id"), order);
}

/// Walking an index descending with ties yields every item once, highest sort key first,
/// ties in a stable order whatever the page size.
pub async fn page_index_walk_with_ties_descending(kvs: Kvs) {
    let store = ranked(&kvs).await;
    let whole = kvs
        .query(&store, "g")
        .index("byGroup")
        .descending()
        .await
        .unwrap();
    let order = strings(&whole.items, "id");
    assert_eq!(order.len(), 30);
    assert_eq!(order.iter().collect::<BTreeSet<_>>().len(), 30);
    let r = ranks(&whole.items);
    assert!(
        r.windows(2).all(|w| w[0] >= w[1]),
        "ranks out of order: {r:?}"
    );
    for limit in [1, 4] {
        let pages = walk(|t| {
            kvs.query(&store, "g")
                .index("byGroup")
                .descending()
                .limit(limit)
                .page_token(t)
        })
        .await;
        assert_full_pages(&pages, limit);
        assert_eq!(strings(&items_of(pages), "id"), order, "limit {limit}");
    }
}

/// An index query's pages hold exactly `limit` items that pass the filter until the
/// last page, and its tokens walk every match once, in the index's order, both ways:
/// whether the filter matches most items or few, with long runs of items read and not
/// returned between matches, and with items of another partition of the index around.
pub async fn page_index_exact_sizes_under_filter(kvs: Kvs) {
    let store = fresh_store(
        &kvs,
        StoreSchema::new("ixpages", KeyAttr::string("id")).index(
            IndexSchema::new("byGroup", KeyAttr::string("group")).sort_key(KeyAttr::number("rank")),
        ),
    )
    .await;
    let items = (0..40)
        .map(|i| item! { "id" => format!("g-{i:02}"), "group" => "g", "rank" => i, "m" => i % 7 })
        .chain(
            (0..10)
                .map(|i| item! { "id" => format!("o-{i}"), "group" => "o", "rank" => i, "m" => 0 }),
        )
        .collect::<Vec<_>>();
    kvs.upsert_many(&store, items)
        .await
        .expect("write the items");
    super::settle_index(&kvs, &store, "byGroup", "g", 40).await;
    let sparse: Vec<i64> = (0..40).filter(|i| i % 7 == 0).collect();
    let dense: Vec<i64> = (0..40).filter(|i| i % 7 != 0).collect();
    for (filter, matches) in [(attr("m").eq(0), sparse), (attr("m").ne(0), dense)] {
        for limit in [1, 2, 5] {
            for descending in [false, true] {
                let pages = walk(|t| {
                    let q = kvs
                        .query(&store, "g")
                        .index("byGroup")
                        .filter(filter.clone())
                        .limit(limit)
                        .page_token(t);
                    if descending { q.descending() } else { q }
                })
                .await;
                assert_full_pages(&pages, limit);
                let mut want = matches.clone();
                if descending {
                    want.reverse();
                }
                assert_eq!(
                    ranks(&items_of(pages)),
                    want,
                    "{filter:?}, limit {limit}, descending {descending}"
                );
            }
        }
    }
}

/// A limit larger than any store (`usize::MAX`) is a page of every matching item, with
/// no token: a query, a filtered query, an index query and a scan.
pub async fn page_huge_limit_reads_everything(kvs: Kvs) {
    let store = numbered_with(&kvs, "p", 30).await;
    fill(&kvs, &store, "other", 5).await;
    let whole = kvs.query(&store, "p").limit(usize::MAX).await.unwrap();
    assert!(whole.next_page_token.is_none());
    assert_eq!(ns(&whole.items), range(0..30));
    let filtered = kvs
        .query(&store, "p")
        .filter(attr("m").eq(1))
        .limit(usize::MAX)
        .descending()
        .await
        .unwrap();
    assert!(filtered.next_page_token.is_none());
    assert_eq!(
        ns(&filtered.items),
        range((1..30).rev().filter(|n| n % 3 == 1))
    );
    let scanned = kvs.scan(&store).limit(usize::MAX).await.unwrap();
    assert!(scanned.next_page_token.is_none());
    assert_eq!(scanned.items.len(), 35);
    let scanned = kvs
        .scan(&store)
        .filter(attr("m").eq(0))
        .limit(usize::MAX)
        .await
        .unwrap();
    assert!(scanned.next_page_token.is_none());
    assert_eq!(scanned.items.len(), 10 + 2);
    let ranked = ranked(&kvs).await;
    let index = kvs
        .query(&ranked, "g")
        .index("byGroup")
        .limit(usize::MAX)
        .await
        .unwrap();
    assert!(index.next_page_token.is_none());
    assert_eq!(index.items.len(), 30);
}

/// `1` and `1.0` are one number: a page token of a query written with one goes on with
/// the same query written with the other, in its partition, sort condition and filter.
pub async fn page_token_binds_one_and_one_point_zero_alike(kvs: Kvs) {
    let store = fresh_store(
        &kvs,
        StoreSchema::new("onepoint", KeyAttr::number("p")).sort_key(KeyAttr::number("n")),
    )
    .await;
    let items: Vec<Item> = (0..9)
        .map(|n| item! { "p" => 1, "n" => n, "m" => n % 3, "tags" => Value::number_set([2, 3]) })
        .collect();
    kvs.upsert_many(&store, items).await.unwrap();
    let first = kvs
        .query(&store, 1)
        .sort(SortCondition::Ge(1.into()))
        .filter(
            attr("m")
                .ne(2)
                .and(attr("tags").eq(Value::number_set([2, 3]))),
        )
        .limit(2)
        .await
        .unwrap();
    assert_eq!(ns(&first.items), values(&[1, 3]));
    let token = first.next_page_token.expect("more pages");
    let rest = walk(|t| {
        kvs.query(&store, 1.0)
            .sort(SortCondition::Ge(1.0.into()))
            .filter(
                attr("m")
                    .ne(2.0)
                    .and(attr("tags").eq(Value::number_set([2.0, 3.0]))),
            )
            .limit(2)
            .page_token(t.or_else(|| Some(token.clone())))
    })
    .await;
    assert_eq!(ns(&items_of(rest)), values(&[4, 6, 7]));
}

/// Sort conditions `= < <= > >= between` on a number sort key compare numerically.
pub async fn page_sort_conditions_number(kvs: Kvs) {
    let store = numbered(&kvs).await;
    let keys = [-10.0, -1.5, 0.0, 1.0, 2.5, 9.0, 10.0, 100.0];
    for pk in ["p", "q"] {
        for (i, n) in keys.iter().enumerate() {
            kvs.upsert(&store, item! { "pk" => pk, "n" => *n, "i" => i as i64 })
                .await
                .unwrap();
        }
    }
    let cases: Vec<(SortCondition, Vec<Value>)> = vec![
        (SortCondition::eq(10), values(&[10])),
        (SortCondition::eq(2.5), values(&[2.5])),
        (SortCondition::eq(1.0), values(&[1])),
        (SortCondition::eq(3), vec![]),
        (SortCondition::lt(1), values(&[-10.0, -1.5, 0.0])),
        (SortCondition::le(1), values(&[-10.0, -1.5, 0.0, 1.0])),
        (SortCondition::gt(9), values(&[10, 100])),
        (SortCondition::ge(9), values(&[9, 10, 100])),
        (
            SortCondition::between(-1.5, 9),
            values(&[-1.5, 0.0, 1.0, 2.5, 9.0]),
        ),
        (SortCondition::between(0.5, 9.5), values(&[1.0, 2.5, 9.0])),
        (SortCondition::between(10, 10), values(&[10])),
    ];
    for (sort, expected) in cases {
        let page = kvs.query(&store, "p").sort(sort.clone()).await.unwrap();
        assert!(page.items.iter().all(|i| i["pk"] == Value::from("p")));
        assert_eq!(ns(&page.items), expected, "{sort:?}");
        let page = kvs
            .query(&store, "p")
            .sort(sort.clone())
            .descending()
            .await
            .unwrap();
        let mut reversed = expected.clone();
        reversed.reverse();
        assert_eq!(ns(&page.items), reversed, "{sort:?} descending");
    }
}

/// Sort conditions on a string sort key, `begins_with` included, compare UTF-8 bytes.
pub async fn page_sort_conditions_string(kvs: Kvs) {
    let store = fresh_store(
        &kvs,
        StoreSchema::new("words", KeyAttr::string("pk")).sort_key(KeyAttr::string("w")),
    )
    .await;
    // In UTF-8 byte order.
    let words = ["Z", "a", "ab", "abc", "b", "z", "é", "éa"];
    for pk in ["p", "q"] {
        // Written out of order.
        for w in words.iter().rev() {
            kvs.upsert(&store, item! { "pk" => pk, "w" => *w })
                .await
                .unwrap();
        }
    }
    let cases: Vec<(Option<SortCondition>, Vec<&str>)> = vec![
        (None, words.to_vec()),
        (Some(SortCondition::eq("ab")), vec!["ab"]),
        (Some(SortCondition::lt("b")), vec!["Z", "a", "ab", "abc"]),
        (
            Some(SortCondition::le("b")),
            vec!["Z", "a", "ab", "abc", "b"],
        ),
        (Some(SortCondition::gt("z")), vec!["é", "éa"]),
        (Some(SortCondition::ge("z")), vec!["z", "é", "éa"]),
        (
            Some(SortCondition::between("a", "b")),
            vec!["a", "ab", "abc", "b"],
        ),
        (Some(SortCondition::begins_with("ab")), vec!["ab", "abc"]),
        (
            Some(SortCondition::begins_with("a")),
            vec!["a", "ab", "abc"],
        ),
        (Some(SortCondition::begins_with("é")), vec!["é", "éa"]),
        (Some(SortCondition::begins_with("A")), vec![]),
        (Some(SortCondition::begins_with("")), words.to_vec()),
    ];
    for (sort, expected) in cases {
        for descending in [false, true] {
            let mut q = kvs.query(&store, "p");
            if let Some(s) = &sort {
                q = q.sort(s.clone());
            }
            if descending {
                q = q.descending();
            }
            let page = q.await.unwrap();
            let mut want = expected.clone();
            if descending {
                want.reverse();
            }
            assert_eq!(
                strings(&page.items, "w"),
                want,
                "{sort:?}, descending: {descending}"
            );
        }
    }
}

/// A sort condition `between(a, b)` with `a > b` is `Validation`.
pub async fn page_sort_between_reversed_rejected(kvs: Kvs) {
    let store = numbered_with(&kvs, "p", 5).await;
    expect_kind(
        kvs.query(&store, "p")
            .sort(SortCondition::between(3, 1))
            .await,
        ErrorKind::Validation,
    );
    expect_kind(
        kvs.query(&store, "p")
            .sort(SortCondition::between(1.5, 1))
            .await,
        ErrorKind::Validation,
    );
}

/// The limit is not part of a token: each page may ask for another limit.
pub async fn page_limit_may_change_between_pages(kvs: Kvs) {
    let store = numbered_with(&kvs, "p", 30).await;
    let limits = [3, 7, 1, 5, 100];
    let mut step = 0;
    let pages = walk(|t| {
        let limit = limits[step.min(limits.len() - 1)];
        step += 1;
        kvs.query(&store, "p").limit(limit).page_token(t)
    })
    .await;
    let sizes: Vec<usize> = pages.iter().map(|p| p.items.len()).collect();
    assert_eq!(&sizes[..4], &[3, 7, 1, 5], "{sizes:?}");
    assert_eq!(sizes[4], 14, "{sizes:?}");
    assert_eq!(ns(&items_of(pages)), range(0..30));
    // The same on a scan.
    let mut step = 0;
    let pages = walk(|t| {
        let limit = limits[step.min(limits.len() - 1)];
        step += 1;
        kvs.scan(&store).limit(limit).page_token(t)
    })
    .await;
    let sizes: Vec<usize> = pages.iter().map(|p| p.items.len()).collect();
    assert_eq!(&sizes[..4], &[3, 7, 1, 5], "{sizes:?}");
    let mut got = ns(&items_of(pages));
    got.sort_by(|a, b| a.partial_compare(b).expect("numbers"));
    assert_eq!(got, range(0..30));
}

/// Without a limit a page holds at most 1,000 items: 1,200 items come as 1,000 then 200.
pub async fn page_default_size_at_most_1000(kvs: Kvs) {
    let store = numbered_with(&kvs, "p", 1200).await;
    let pages = walk(|t| kvs.query(&store, "p").page_token(t)).await;
    assert_eq!(pages[0].items.len(), 1000);
    assert_full_pages(&pages, 1000);
    assert_eq!(ns(&items_of(pages)), range(0..1200));
    let pages = walk(|t| kvs.scan(&store).page_token(t)).await;
    assert_eq!(pages[0].items.len(), 1000);
    assert_full_pages(&pages, 1000);
    assert_eq!(pages.iter().map(|p| p.items.len()).sum::<usize>(), 1200);
}

/// A limit of 0 is `Validation`, on a query and on a scan.
pub async fn page_limit_zero_rejected(kvs: Kvs) {
    let store = numbered_with(&kvs, "p", 3).await;
    expect_kind(kvs.query(&store, "p").limit(0).await, ErrorKind::Validation);
    expect_kind(kvs.scan(&store).limit(0).await, ErrorKind::Validation);
}

/// A token that is malformed (random text, empty, truncated, extended, or with any one
/// character changed) is `InvalidPageToken`.
pub async fn page_malformed_token_rejected(kvs: Kvs) {
    let store = numbered_with(&kvs, "p", 10).await;
    let first = kvs.query(&store, "p").limit(3).await.unwrap();
    let token = first.next_page_token.expect("a token").to_string();
    assert!(!token.is_empty());
    let mut bad: Vec<String> = vec![
        "not a token at all!".into(),
        String::new(),
        "A".repeat(64),
        "{\"after\":3}".into(),
        token[..token.len() - 1].to_owned(),
        token[..token.len() / 2].to_owned(),
        token[..1].to_owned(),
        format!("{token}A"),
        format!("{token}{token}"),
        format!(" {token}"),
    ];
    for i in 0..token.len() {
        let mut b = token.clone().into_bytes();
        b[i] = if b[i] == b'A' { b'B' } else { b'A' };
        bad.push(String::from_utf8(b).expect("ASCII"));
    }
    for t in bad {
        expect_kind(
            kvs.query(&store, "p")
                .limit(3)
                .page_token(PageToken::from(t.as_str()))
                .await,
            ErrorKind::InvalidPageToken,
        );
    }
    // The same on a scan.
    let first = kvs.scan(&store).limit(3).await.unwrap();
    let token = first.next_page_token.expect("a token").to_string();
    for t in [
        String::new(),
        token[..token.len() - 2].to_owned(),
        format!(
            "{}{}",
            if token.starts_with('x') { 'y' } else { 'x' },
            &token[1..]
        ),
    ] {
        expect_kind(
            kvs.scan(&store)
                .limit(3)
                .page_token(PageToken::from(t))
                .await,
            ErrorKind::InvalidPageToken,
        );
    }
}

/// A token from a query of another partition is `InvalidPageToken`.
pub async fn page_token_other_partition_rejected(kvs: Kvs) {
    let store = numbered_with(&kvs, "p1", 10).await;
    fill(&kvs, &store, "p2", 10).await;
    let token = kvs
        .query(&store, "p1")
        .limit(3)
        .await
        .unwrap()
        .next_page_token
        .expect("a token");
    expect_kind(
        kvs.query(&store, "p2").limit(3).page_token(token).await,
        ErrorKind::InvalidPageToken,
    );
}

/// A token from a query with another filter (or none) is `InvalidPageToken`.
pub async fn page_token_other_filter_rejected(kvs: Kvs) {
    let store = numbered_with(&kvs, "p", 20).await;
    let token = kvs
        .query(&store, "p")
        .filter(attr("n").ge(0))
        .limit(3)
        .await
        .unwrap()
        .next_page_token
        .expect("a token");
    expect_kind(
        kvs.query(&store, "p")
            .filter(attr("n").ge(1))
            .page_token(token.clone())
            .await,
        ErrorKind::InvalidPageToken,
    );
    expect_kind(
        kvs.query(&store, "p").page_token(token.clone()).await,
        ErrorKind::InvalidPageToken,
    );
    // The same filter accepts it.
    let next = kvs
        .query(&store, "p")
        .filter(attr("n").ge(0))
        .limit(3)
        .page_token(token)
        .await
        .unwrap();
    assert_eq!(ns(&next.items), range(3..6));
}

/// A token from a query of another sort condition or direction is `InvalidPageToken`.
pub async fn page_token_other_sort_or_direction_rejected(kvs: Kvs) {
    let store = numbered_with(&kvs, "p", 20).await;
    let token = kvs
        .query(&store, "p")
        .sort(SortCondition::gt(2))
        .limit(3)
        .await
        .unwrap()
        .next_page_token
        .expect("a token");
    expect_kind(
        kvs.query(&store, "p")
            .sort(SortCondition::gt(1))
            .page_token(token.clone())
            .await,
        ErrorKind::InvalidPageToken,
    );
    expect_kind(
        kvs.query(&store, "p")
            .sort(SortCondition::gt(2))
            .descending()
            .page_token(token)
            .await,
        ErrorKind::InvalidPageToken,
    );
}

/// A token from another index, or from the base table used on an index (and the other
/// way round), is `InvalidPageToken`.
pub async fn page_token_other_index_rejected(kvs: Kvs) {
    let store = fresh_store(
        &kvs,
        StoreSchema::new("indexed", KeyAttr::string("id"))
            .index(IndexSchema::new("byA", KeyAttr::string("g")).sort_key(KeyAttr::number("r")))
            .index(IndexSchema::new("byB", KeyAttr::string("g")).sort_key(KeyAttr::number("r"))),
    )
    .await;
    let items: Vec<Item> = (0..10)
        .map(|i| item! { "id" => format!("g{i}"), "g" => "g", "r" => i })
        .collect();
    kvs.upsert_many(&store, items).await.unwrap();
    super::settle_index(&kvs, &store, "byA", "g", 10).await;
    super::settle_index(&kvs, &store, "byB", "g", 10).await;
    let a = kvs
        .query(&store, "g")
        .index("byA")
        .limit(3)
        .await
        .unwrap()
        .next_page_token
        .expect("a token");
    expect_kind(
        kvs.query(&store, "g")
            .index("byB")
            .limit(3)
            .page_token(a.clone())
            .await,
        ErrorKind::InvalidPageToken,
    );
    expect_kind(
        kvs.query(&store, "g").limit(3).page_token(a).await,
        ErrorKind::InvalidPageToken,
    );
    let base = kvs
        .scan(&store)
        .limit(3)
        .await
        .unwrap()
        .next_page_token
        .expect("a token");
    expect_kind(
        kvs.query(&store, "g").index("byA").page_token(base).await,
        ErrorKind::InvalidPageToken,
    );
}

/// A token from the same query on another store is `InvalidPageToken`.
pub async fn page_token_other_store_rejected(kvs: Kvs) {
    let one = numbered_with(&kvs, "p", 10).await;
    let two = numbered_with(&kvs, "p", 10).await;
    let token = kvs
        .query(&one, "p")
        .limit(3)
        .await
        .unwrap()
        .next_page_token
        .expect("a token");
    expect_kind(
        kvs.query(&two, "p").limit(3).page_token(token).await,
        ErrorKind::InvalidPageToken,
    );
    let token = kvs
        .scan(&one)
        .limit(3)
        .await
        .unwrap()
        .next_page_token
        .expect("a token");
    expect_kind(
        kvs.scan(&two).limit(3).page_token(token).await,
        ErrorKind::InvalidPageToken,
    );
}

/// A scan token used in a query, or a query token used in a scan, is `InvalidPageToken`.
pub async fn page_token_scan_and_query_mixed_rejected(kvs: Kvs) {
    let store = numbered_with(&kvs, "p", 10).await;
    let scan_token = kvs
        .scan(&store)
        .limit(3)
        .await
        .unwrap()
        .next_page_token
        .expect("a token");
    expect_kind(
        kvs.query(&store, "p").limit(3).page_token(scan_token).await,
        ErrorKind::InvalidPageToken,
    );
    let query_token = kvs
        .query(&store, "p")
        .limit(3)
        .await
        .unwrap()
        .next_page_token
        .expect("a token");
    expect_kind(
        kvs.scan(&store).limit(3).page_token(query_token).await,
        ErrorKind::InvalidPageToken,
    );
}

/// The stream API walks every page: each matching item once, in order.
pub async fn page_stream_yields_every_item_once(kvs: Kvs) {
    let store = numbered_with(&kvs, "p", 40).await;
    let items: Vec<Item> = kvs
        .query(&store, "p")
        .filter(attr("m").ne(1))
        .limit(3)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ns(&items), range((0..40).filter(|n| n % 3 != 1)));
    let items: Vec<Item> = kvs
        .query(&store, "p")
        .descending()
        .limit(7)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ns(&items), range((0..40).rev()));
    let items: Vec<Item> = kvs
        .scan(&store)
        .limit(6)
        .stream()
        .try_collect()
        .await
        .unwrap();
    let mut got = ns(&items);
    got.sort_by(|a, b| a.partial_compare(b).expect("numbers"));
    assert_eq!(got, range(0..40));
}

/// Following scan tokens yields every item of the store exactly once, and ends.
pub async fn page_scan_walk_every_item_once(kvs: Kvs) {
    let store = fresh_store(&kvs, StoreSchema::new("scanned", KeyAttr::number("id"))).await;
    let items: Vec<Item> = (0..53).map(|i| item! { "id" => i * 7 - 100 }).collect();
    kvs.upsert_many(&store, items).await.unwrap();
    let pages = walk(|t| kvs.scan(&store).limit(5).page_token(t)).await;
    assert_full_pages(&pages, 5);
    let ids: Vec<i64> = items_of(pages)
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    let distinct: BTreeSet<i64> = ids.iter().copied().collect();
    assert_eq!(ids.len(), 53, "an item came twice or not at all");
    assert_eq!(distinct, (0..53).map(|i| i * 7 - 100).collect());
}

/// A query of an empty partition (or a scan of an empty store) is one empty last page.
pub async fn page_empty_partition_is_last_page(kvs: Kvs) {
    let store = numbered_with(&kvs, "p", 5).await;
    let page = kvs.query(&store, "nobody").limit(3).await.unwrap();
    assert!(page.items.is_empty());
    assert!(page.next_page_token.is_none());
    let page = kvs
        .query(&store, "p")
        .sort(SortCondition::gt(100))
        .await
        .unwrap();
    assert!(page.items.is_empty());
    assert!(page.next_page_token.is_none());
    let empty = numbered(&kvs).await;
    let page = kvs.scan(&empty).await.unwrap();
    assert!(page.items.is_empty());
    assert!(page.next_page_token.is_none());
}

/// A token points just after the last item returned: an item written after it (in sort
/// order) before the next page is read comes in the next page; one written before it
/// does not.
pub async fn page_token_points_after_last_returned(kvs: Kvs) {
    let store = numbered(&kvs).await;
    for n in (0..20).step_by(2) {
        kvs.upsert(&store, item! { "pk" => "p", "n" => n })
            .await
            .unwrap();
    }
    let first = kvs.query(&store, "p").limit(3).await.unwrap();
    assert_eq!(ns(&first.items), range([0, 2, 4]));
    kvs.upsert(&store, item! { "pk" => "p", "n" => 3 })
        .await
        .unwrap();
    kvs.upsert(&store, item! { "pk" => "p", "n" => 5 })
        .await
        .unwrap();
    let token = first.next_page_token.expect("a token");
    let rest: Vec<Item> = kvs
        .query(&store, "p")
        .limit(3)
        .page_token(token)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ns(&rest), range([5, 6, 8, 10, 12, 14, 16, 18]));
}

/// A token never skips an item that was read but not returned: items that come to match
/// the filter after the page are returned by the next pages.
pub async fn page_token_not_past_unreturned_items(kvs: Kvs) {
    let store = numbered(&kvs).await;
    for n in 0..10 {
        let hit = n < 2 || n == 9;
        kvs.upsert(&store, item! { "pk" => "p", "n" => n, "hit" => hit })
            .await
            .unwrap();
    }
    let query = || kvs.query(&store, "p").filter(attr("hit").eq(true)).limit(2);
    let first = query().await.unwrap();
    assert_eq!(ns(&first.items), range([0, 1]));
    let token = first.next_page_token.expect("a token: item 9 matches too");
    for n in 2..9 {
        kvs.update(&store, ("p", n)).set("hit", true).await.unwrap();
    }
    let rest: Vec<Item> = query()
        .page_token(token)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ns(&rest), range(2..10));
}

/// A consistent query is for the base table only: asked of an index it is `Validation`.
pub async fn page_consistent_on_index_rejected(kvs: Kvs) {
    let store = ranked(&kvs).await;
    expect_kind(
        kvs.query(&store, "g").index("byGroup").consistent().await,
        ErrorKind::Validation,
    );
    let page = kvs.query(&store, "i-03").consistent().await.unwrap();
    assert_eq!(strings(&page.items, "id"), ["i-03"]);
}

/// With a key (`Options::page_token_key`), page tokens are sealed: they show nothing of
/// the item they point after (not its key values, not their length within a block, not
/// even a repeat: the same page twice gives two tokens), pages continue through them
/// exactly as without a key, and a handle with another key, or none, refuses them, as
/// the keyed handle refuses a token in the clear or an altered one.
pub async fn page_token_sealed_under_a_key(kvs: Kvs) {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    let secret = "tenant-4711@example.com";
    let store = numbered_with(&kvs, secret, 25).await;
    let keyed = kvs
        .with_page_token_key(b"conformance key, 32 bytes long!!")
        .expect("a long enough key");
    let other = kvs
        .with_page_token_key(b"another key of the same length!!")
        .expect("a long enough key");
    let shows_nothing = |token: &PageToken| {
        let bytes = URL_SAFE_NO_PAD.decode(token.as_str()).expect("base64url");
        let hidden = |needle: &[u8]| !bytes.windows(needle.len()).any(|w| w == needle);
        assert!(hidden(secret.as_bytes()) && hidden(b"tenant"), "{token:?}");
        assert!(!token.as_str().contains("tenant"), "{token:?}");
        bytes.len()
    };

    let pages = walk(|t| keyed.query(&store, secret).limit(4).page_token(t)).await;
    assert_full_pages(&pages, 4);
    let tokens: Vec<PageToken> = pages
        .iter()
        .filter_map(|p| p.next_page_token.clone())
        .collect();
    assert_eq!(ns(&items_of(pages)), range(0..25));
    let lengths: BTreeSet<usize> = tokens.iter().map(shows_nothing).collect();
    assert_eq!(
        lengths.len(),
        1,
        "token lengths {lengths:?} tell positions apart"
    );

    let scanned = walk(|t| keyed.scan(&store).limit(7).page_token(t)).await;
    for token in scanned.iter().filter_map(|p| p.next_page_token.as_ref()) {
        shows_nothing(token);
    }
    assert_eq!(items_of(scanned).len(), 25);

    // The same page twice: two tokens, both continuing at the same place.
    let first = || keyed.query(&store, secret).limit(4);
    let a = first().await.unwrap().next_page_token.expect("a token");
    let b = first().await.unwrap().next_page_token.expect("a token");
    assert_ne!(a, b, "a sealed token must not repeat");
    for token in [&a, &b] {
        let next = first().page_token(token.clone()).await.unwrap();
        assert_eq!(ns(&next.items), range(4..8));
    }

    // Another key, no key, a token in the clear, an altered token: all refused.
    expect_kind(
        other.query(&store, secret).page_token(a.clone()).await,
        ErrorKind::InvalidPageToken,
    );
    expect_kind(
        kvs.query(&store, secret).page_token(a.clone()).await,
        ErrorKind::InvalidPageToken,
    );
    let clear = kvs
        .query(&store, secret)
        .limit(4)
        .await
        .unwrap()
        .next_page_token
        .expect("a token");
    expect_kind(
        keyed.query(&store, secret).page_token(clear).await,
        ErrorKind::InvalidPageToken,
    );
    let mut bytes = URL_SAFE_NO_PAD.decode(a.as_str()).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    let altered = PageToken::from(URL_SAFE_NO_PAD.encode(bytes));
    expect_kind(
        keyed.query(&store, secret).page_token(altered).await,
        ErrorKind::InvalidPageToken,
    );
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases_pages {
    ($cb:path, $make:tt) => {
        $cb!($make, pages::page_exact_sizes_under_filter);
        $cb!($make, pages::page_scan_exact_sizes_under_filter);
        $cb!($make, pages::page_query_walk_ascending);
        $cb!($make, pages::page_query_walk_descending);
        $cb!($make, pages::page_index_walk_with_ties);
        $cb!($make, pages::page_index_walk_with_ties_descending);
        $cb!($make, pages::page_index_exact_sizes_under_filter);
        $cb!($make, pages::page_huge_limit_reads_everything);
        $cb!($make, pages::page_token_binds_one_and_one_point_zero_alike);
        $cb!($make, pages::page_sort_conditions_number);
        $cb!($make, pages::page_sort_conditions_string);
        $cb!($make, pages::page_sort_between_reversed_rejected);
        $cb!($make, pages::page_limit_may_change_between_pages);
        $cb!($make, pages::page_default_size_at_most_1000);
        $cb!($make, pages::page_limit_zero_rejected);
        $cb!($make, pages::page_malformed_token_rejected);
        $cb!($make, pages::page_token_other_partition_rejected);
        $cb!($make, pages::page_token_other_filter_rejected);
        $cb!($make, pages::page_token_other_sort_or_direction_rejected);
        $cb!($make, pages::page_token_other_index_rejected);
        $cb!($make, pages::page_token_other_store_rejected);
        $cb!($make, pages::page_token_scan_and_query_mixed_rejected);
        $cb!($make, pages::page_stream_yields_every_item_once);
        $cb!($make, pages::page_scan_walk_every_item_once);
        $cb!($make, pages::page_empty_partition_is_last_page);
        $cb!($make, pages::page_token_points_after_last_returned);
        $cb!($make, pages::page_token_not_past_unreturned_items);
        $cb!($make, pages::page_consistent_on_index_rejected);
        $cb!($make, pages::page_token_sealed_under_a_key);
    };
}
