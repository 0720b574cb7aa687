//! Conformance cases: a path given as text means the same place everywhere
//! (SEMANTICS.md, "Values": one meaning per path text).

use super::{expect_kind, fresh_store};
use crate::{
    Condition, ErrorKind, Item, KeyAttr, Kvs, Path, StoreSchema, TransactWrite, Updates, Value,
    attr, item,
};

/// A store keyed by `id`, holding one item with both a nested place and a literal
/// attribute whose name spells that place: `a` -> `b` and `"a.b"`, `tags[0]` and
/// `"tags[0]"`.
async fn ambiguous(kvs: &Kvs) -> String {
    let store = fresh_store(kvs, StoreSchema::new("paths", KeyAttr::string("id"))).await;
    kvs.upsert(
        &store,
        item! {
            "id" => "x",
            "a" => item! { "b" => 2 },
            "a.b" => 1,
            "tags" => Value::list(["t0", "t1"]),
            "tags[0]" => "literal",
        },
    )
    .await
    .unwrap();
    store
}

/// How many items of `store` a scan with `filter` returns.
async fn count(kvs: &Kvs, store: &str, filter: Condition) -> usize {
    kvs.scan(store).filter(filter).await.unwrap().items.len()
}

/// The text `a.b` is `a` -> `b` in a filter, a write condition and an update alike, and
/// `tags[0]` the first element of `tags`; the literal attributes `"a.b"` and `"tags[0]"`
/// are reached through the explicit form (`Path::attr`) or the escaped text.
pub async fn path_text_means_one_place_everywhere(kvs: Kvs) {
    let store = ambiguous(&kvs).await;

    // Filters (reads).
    assert_eq!(count(&kvs, &store, attr("a.b").eq(2)).await, 1);
    assert_eq!(count(&kvs, &store, attr("a.b").eq(1)).await, 0);
    assert_eq!(count(&kvs, &store, attr("tags[0]").eq("t0")).await, 1);
    assert_eq!(count(&kvs, &store, attr("tags[0]").eq("literal")).await, 0);
    assert_eq!(count(&kvs, &store, Path::attr("a.b").eq(1)).await, 1);
    assert_eq!(count(&kvs, &store, attr(r"a\.b").eq(1)).await, 1);
    assert_eq!(
        count(&kvs, &store, Path::attr("tags[0]").eq("literal")).await,
        1
    );
    assert_eq!(
        count(&kvs, &store, attr(r"tags\[0\]").eq("literal")).await,
        1
    );

    // Write conditions, and updates given the same text.
    let new = kvs
        .update(&store, "x")
        .add("a.b", 10)
        .set("tags[0]", "first")
        .when(attr("a.b").eq(2).and(attr("tags[0]").eq("t0")))
        .await
        .unwrap();
    assert_eq!(new["a"], Value::from(item! { "b" => 12 }));
    assert_eq!(new["tags"], Value::list(["first", "t1"]));
    assert_eq!(
        new["a.b"],
        Value::from(1),
        "the literal attribute is untouched"
    );
    assert_eq!(new["tags[0]"], Value::from("literal"));
    expect_kind(
        kvs.update(&store, "x")
            .set("a.b", 0)
            .when(attr("a.b").eq(1))
            .await,
        ErrorKind::ConditionFailed,
    );

    // The explicit forms write the literal attributes, in updates and transactions.
    let new = kvs
        .update(&store, "x")
        .add(Path::attr("a.b"), 100)
        .set(r"tags\[0\]", "changed")
        .when(Path::attr("a.b").eq(1))
        .await
        .unwrap();
    assert_eq!(new["a.b"], Value::from(101));
    assert_eq!(new["tags[0]"], Value::from("changed"));
    assert_eq!(new["a"], Value::from(item! { "b" => 12 }));
    kvs.transact([TransactWrite::update(
        &store,
        "x",
        Updates::new().remove(r"a\.b").remove("a.b"),
    )
    .when(attr(r"a\.b").eq(101).and(attr("a.b").eq(12)))])
        .await
        .unwrap();
    let stored: Item = kvs.get(&store, "x").await.unwrap().expect("the item");
    assert!(!stored.contains_key("a.b"), "{stored:?}");
    assert_eq!(stored["a"], Value::from(Item::new()));
}

/// Text that is not a path is `Validation` wherever it is given, and nothing changes.
pub async fn path_text_that_does_not_parse_is_rejected_everywhere(kvs: Kvs) {
    let store = ambiguous(&kvs).await;
    let before = kvs.get(&store, "x").await.unwrap();
    for bad in ["a..b", "a[", "[0]", "a[x]", "", r"a\"] {
        let err = expect_kind(
            kvs.scan(&store).filter(attr(bad).exists()).await,
            ErrorKind::Validation,
        );
        assert!(
            err.message().contains("path"),
            "{bad:?}: say it is the path: {err}"
        );
        expect_kind(
            kvs.query(&store, "x").filter(attr(bad).eq(1)).await,
            ErrorKind::Validation,
        );
        expect_kind(
            kvs.update(&store, "x").set(bad, 1).await,
            ErrorKind::Validation,
        );
        expect_kind(
            kvs.update(&store, "x")
                .set("n", 1)
                .when(attr(bad).not_exists())
                .await,
            ErrorKind::Validation,
        );
        expect_kind(
            kvs.delete(&store, "x").when(!attr(bad).exists()).await,
            ErrorKind::Validation,
        );
        expect_kind(
            kvs.transact([TransactWrite::check(&store, "x", attr(bad).exists())])
                .await,
            ErrorKind::Validation,
        );
    }
    assert_eq!(kvs.get(&store, "x").await.unwrap(), before);
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases_paths {
    ($cb:path, $make:tt) => {
        $cb!($make, paths::path_text_means_one_place_everywhere);
        $cb!(
            $make,
            paths::path_text_that_does_not_parse_is_rejected_everywhere
        );
    };
}
