//! Conformance cases: the error kinds, and what their messages name.

use super::{expect_kind, fresh_name, fresh_store};
use crate::{
    Error, ErrorKind, IndexSchema, Item, Key, KeyAttr, Kvs, PageToken, SortCondition, StoreSchema,
    TransactWrite, Updates, Value, attr, item,
};

/// Asserts that the error's message names `word` as a whole word (not as part of a
/// longer name): a store, an index or an attribute.
#[track_caller]
pub(crate) fn assert_mentions(err: &Error, word: &str) {
    let message = err.message();
    let is_name_char = |c: char| c.is_alphanumeric() || c == '_';
    let found = message.match_indices(word).any(|(at, _)| {
        let before = message[..at].chars().next_back();
        let after = message[at + word.len()..].chars().next();
        !before.is_some_and(is_name_char) && !after.is_some_and(is_name_char)
    });
    assert!(found, "expected the error to name {word:?}, got: {err}");
}

/// A store keyed by the string attribute `id`.
async fn accounts(kvs: &Kvs) -> String {
    fresh_store(kvs, StoreSchema::new("accounts", KeyAttr::string("id"))).await
}

/// A store keyed by `pk` (string) and `sk` (number), with the index `byOwner` on `owner`
/// alone and the index `byOwnerRank` on `owner` and `rank` (number).
async fn events(kvs: &Kvs) -> String {
    let store = fresh_store(
        kvs,
        StoreSchema::new("events", KeyAttr::string("pk"))
            .sort_key(KeyAttr::number("sk"))
            .index(IndexSchema::new("byOwner", KeyAttr::string("owner")))
            .index(
                IndexSchema::new("byOwnerRank", KeyAttr::string("owner"))
                    .sort_key(KeyAttr::number("rank")),
            ),
    )
    .await;
    for sk in 1..=3 {
        kvs.upsert(
            &store,
            item! { "pk" => "p", "sk" => sk, "owner" => "o", "rank" => sk * 10 },
        )
        .await
        .unwrap();
    }
    store
}

/// Every item of a store, by scanning all pages.
async fn all_items(kvs: &Kvs, store: &str) -> Vec<Item> {
    use futures::TryStreamExt as _;
    kvs.scan(store).stream().try_collect().await.unwrap()
}

/// An update of a missing item is `NotFound` naming the store, and creates nothing.
pub async fn error_not_found_update_of_missing_item(kvs: Kvs) {
    let store = accounts(&kvs).await;
    let err = expect_kind(
        kvs.update(&store, "ghost").set("balance", 10).await,
        ErrorKind::NotFound,
    );
    assert_mentions(&err, &store);
    let err = expect_kind(
        kvs.update(&store, "ghost").add("balance", 10).await,
        ErrorKind::NotFound,
    );
    assert_mentions(&err, "ghost");
    assert_eq!(kvs.get(&store, "ghost").await.unwrap(), None);
    assert!(all_items(&kvs, &store).await.is_empty());
}

/// Inserting an existing key is `AlreadyExists` naming the store; the original is unchanged.
pub async fn error_already_exists_insert_twice(kvs: Kvs) {
    let store = accounts(&kvs).await;
    let original = item! { "id" => "a", "balance" => 1 };
    kvs.insert(&store, original.clone()).await.unwrap();
    let err = expect_kind(
        kvs.insert(
            &store,
            item! { "id" => "a", "balance" => 2, "extra" => true },
        )
        .await,
        ErrorKind::AlreadyExists,
    );
    assert_mentions(&err, &store);
    assert_eq!(kvs.get(&store, "a").await.unwrap(), Some(original));
}

/// An upsert with a false condition is `ConditionFailed`, and nothing changes.
pub async fn error_condition_failed_upsert(kvs: Kvs) {
    let store = accounts(&kvs).await;
    let original = item! { "id" => "a", "balance" => 1 };
    kvs.upsert(&store, original.clone()).await.unwrap();
    let err = expect_kind(
        kvs.upsert(&store, item! { "id" => "a", "balance" => 2 })
            .when(attr("balance").eq(99))
            .await,
        ErrorKind::ConditionFailed,
    );
    assert_mentions(&err, &store);
    expect_kind(
        kvs.upsert(&store, item! { "id" => "b", "balance" => 2 })
            .when(attr("balance").exists())
            .await,
        ErrorKind::ConditionFailed,
    );
    assert_eq!(kvs.get(&store, "a").await.unwrap(), Some(original.clone()));
    assert_eq!(kvs.get(&store, "b").await.unwrap(), None);
    // The same write with a true condition goes through.
    kvs.upsert(&store, item! { "id" => "a", "balance" => 2 })
        .when(attr("balance").eq(1))
        .await
        .unwrap();
    assert_eq!(
        kvs.get(&store, "a").await.unwrap().unwrap()["balance"],
        2.into()
    );
}

/// An update with a false condition is `ConditionFailed` naming the store; item unchanged.
pub async fn error_condition_failed_update(kvs: Kvs) {
    let store = accounts(&kvs).await;
    let original = item! { "id" => "a", "balance" => 5 };
    kvs.upsert(&store, original.clone()).await.unwrap();
    let err = expect_kind(
        kvs.update(&store, "a")
            .add("balance", -10)
            .set("note", "overdrawn")
            .when(attr("balance").ge(10))
            .await,
        ErrorKind::ConditionFailed,
    );
    assert_mentions(&err, &store);
    assert_eq!(kvs.get(&store, "a").await.unwrap(), Some(original));
}

/// A delete with a false condition is `ConditionFailed`, and the item stays.
pub async fn error_condition_failed_delete(kvs: Kvs) {
    let store = accounts(&kvs).await;
    let original = item! { "id" => "a", "locked" => true };
    kvs.upsert(&store, original.clone()).await.unwrap();
    let err = expect_kind(
        kvs.delete(&store, "a").when(attr("locked").eq(false)).await,
        ErrorKind::ConditionFailed,
    );
    assert_mentions(&err, &store);
    assert_eq!(kvs.get(&store, "a").await.unwrap(), Some(original));
    expect_kind(
        kvs.delete(&store, "missing")
            .when(attr("id").exists())
            .await,
        ErrorKind::ConditionFailed,
    );
    assert_eq!(
        kvs.delete(&store, "missing")
            .when(attr("id").not_exists())
            .await
            .unwrap(),
        None
    );
    assert_eq!(kvs.delete(&store, "missing").await.unwrap(), None);
}

/// A canceled transaction gives each write's reason by position, and writes nothing.
pub async fn error_transaction_canceled_reasons(kvs: Kvs) {
    let a = item! { "id" => "a", "balance" => 5, "name" => "Ada" };
    let b = item! { "id" => "b", "balance" => 0 };
    let d = item! { "id" => "d", "balance" => 7 };
    // Within one partition where the backend's transactions hold no more.
    let store = super::transactions::store_with(&kvs, vec![a.clone(), b.clone(), d.clone()]).await;
    let err = expect_kind(
        kvs.transact([
            store.put(item! { "id" => "c", "balance" => 1 }),
            store
                .update("a", Updates::new().add("balance", -10))
                .when(attr("balance").ge(10)),
            store.update("missing", Updates::new().set("balance", 1)),
            store.delete("b"),
            store.check("d", attr("balance").eq(7)),
        ])
        .await,
        ErrorKind::TransactionCanceled,
    );
    assert_eq!(
        err.reasons().expect("reasons"),
        [
            None,
            Some(ErrorKind::ConditionFailed),
            Some(ErrorKind::NotFound),
            None,
            None
        ]
    );
    assert_eq!(store.get(&kvs, "a").await, Some(a));
    assert_eq!(store.get(&kvs, "b").await, Some(b));
    assert_eq!(store.get(&kvs, "c").await, None);
    assert_eq!(store.get(&kvs, "d").await, Some(d));
    assert_eq!(store.get(&kvs, "missing").await, None);
}

/// A write rejected with `Validation` (values, paths, oversize result) changes nothing.
pub async fn error_validation_changes_nothing(kvs: Kvs) {
    let store = accounts(&kvs).await;
    let original = item! { "id" => "a", "name" => "Ada", "n" => 1 };
    kvs.upsert(&store, original.clone()).await.unwrap();

    let err = expect_kind(
        kvs.upsert(&store, item! { "id" => "a", "score" => f64::NAN })
            .await,
        ErrorKind::Validation,
    );
    assert_mentions(&err, "score");
    expect_kind(
        kvs.upsert(&store, item! { "id" => "a", "" => 1 }).await,
        ErrorKind::Validation,
    );
    let err = expect_kind(
        kvs.update(&store, "a").set("ratio", f64::INFINITY).await,
        ErrorKind::Validation,
    );
    assert_mentions(&err, "ratio");
    expect_kind(
        kvs.update(&store, "a").set("a..b", 1).await,
        ErrorKind::Validation,
    );
    expect_kind(
        kvs.update(&store, "a").add("name", 1).await,
        ErrorKind::Validation,
    );
    let big = "x".repeat(crate::limits::MAX_ITEM_SIZE);
    expect_kind(
        kvs.update(&store, "a").set("big", big).await,
        ErrorKind::Validation,
    );
    expect_kind(
        kvs.update(&store, "a")
            .set("n", 2)
            .set("missing.child", 1)
            .await,
        ErrorKind::Validation,
    );
    assert_eq!(kvs.get(&store, "a").await.unwrap(), Some(original));
    assert_eq!(all_items(&kvs, &store).await.len(), 1);
}

/// Every operation on a store that was never defined is `StoreNotFound` naming it.
pub async fn error_store_not_found_every_operation(kvs: Kvs) {
    let name = fresh_name("missing_store");
    let check = |result: Result<(), Error>| {
        let err = expect_kind(result, ErrorKind::StoreNotFound);
        assert_mentions(&err, &name);
    };
    check(kvs.get(&name, "a").await.map(drop));
    check(kvs.get_many(&name, ["a", "b"]).await.map(drop));
    check(kvs.upsert(&name, item! { "id" => "a" }).await);
    check(kvs.insert(&name, item! { "id" => "a" }).await);
    check(kvs.update(&name, "a").set("x", 1).await.map(drop));
    check(kvs.delete(&name, "a").await.map(drop));
    check(kvs.query(&name, "a").await.map(drop));
    check(kvs.scan(&name).await.map(drop));
    check(
        kvs.transact([TransactWrite::put(&name, item! { "id" => "a" })])
            .await,
    );
    check(kvs.upsert_many(&name, [item! { "id" => "a" }]).await);
    check(kvs.delete_many(&name, [Key::new("a")]).await);
    // A transaction naming it among good writes writes nothing.
    let store = accounts(&kvs).await;
    check(
        kvs.transact([
            TransactWrite::put(&store, item! { "id" => "a" }),
            TransactWrite::put(&name, item! { "id" => "a" }),
        ])
        .await,
    );
    assert_eq!(kvs.get(&store, "a").await.unwrap(), None);
}

/// A page token that is garbage is `InvalidPageToken` for a scan and a query.
pub async fn error_invalid_page_token_garbage(kvs: Kvs) {
    let store = events(&kvs).await;
    let long = "A".repeat(100_000);
    for token in [
        "garbage",
        "",
        "!!!not base64!!!",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "ZXlKd2IzTWlPaUl4SW4w",
        "\u{1F600}",
        long.as_str(),
    ] {
        expect_kind(
            kvs.scan(&store).page_token(PageToken::from(token)).await,
            ErrorKind::InvalidPageToken,
        );
        expect_kind(
            kvs.query(&store, "p")
                .page_token(PageToken::from(token))
                .await,
            ErrorKind::InvalidPageToken,
        );
        expect_kind(
            kvs.query(&store, "o")
                .index("byOwnerRank")
                .page_token(PageToken::from(token))
                .await,
            ErrorKind::InvalidPageToken,
        );
    }
}

/// Reading an item into a struct it does not fit is `Serialization` naming the field.
pub async fn error_serialization_mismatched_struct(kvs: Kvs) {
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Account {
        id: String,
        balance: i64,
    }
    let store = accounts(&kvs).await;
    kvs.upsert_many(
        &store,
        [
            item! { "id" => "text", "balance" => "lots" },
            item! { "id" => "fraction", "balance" => 2.5 },
            item! { "id" => "absent" },
            item! { "id" => "list", "balance" => Value::list([1]) },
        ],
    )
    .await
    .unwrap();
    for id in ["text", "fraction", "absent", "list"] {
        let it = kvs.get(&store, id).await.unwrap().unwrap();
        let err = expect_kind(crate::from_item::<Account>(it), ErrorKind::Serialization);
        assert_mentions(&err, "balance");
    }
    let it = kvs.get(&store, "text").await.unwrap().unwrap();
    expect_kind(crate::from_item::<Vec<i64>>(it), ErrorKind::Serialization);
}

/// A page limit of 0 is `Validation`, for queries and scans.
pub async fn error_limit_zero_rejected(kvs: Kvs) {
    let store = events(&kvs).await;
    expect_kind(kvs.scan(&store).limit(0).await, ErrorKind::Validation);
    expect_kind(kvs.query(&store, "p").limit(0).await, ErrorKind::Validation);
    expect_kind(
        kvs.query(&store, "o").index("byOwner").limit(0).await,
        ErrorKind::Validation,
    );
    assert_eq!(kvs.scan(&store).limit(1).await.unwrap().items.len(), 1);
}

/// `consistent()` on an index query is `Validation`; on the base table it reads.
pub async fn error_consistent_index_query_rejected(kvs: Kvs) {
    let store = events(&kvs).await;
    let err = expect_kind(
        kvs.query(&store, "o").index("byOwner").consistent().await,
        ErrorKind::Validation,
    );
    assert_mentions(&err, "byOwner");
    expect_kind(
        kvs.query(&store, "o")
            .index("byOwnerRank")
            .consistent()
            .await,
        ErrorKind::Validation,
    );
    let page = kvs.query(&store, "p").consistent().await.unwrap();
    assert_eq!(page.items.len(), 3);
}

/// `between` with low above high is `Validation`, as a sort condition and as a filter.
pub async fn error_between_low_above_high_rejected(kvs: Kvs) {
    let store = events(&kvs).await;
    expect_kind(
        kvs.query(&store, "p")
            .sort(SortCondition::between(3, 1))
            .await,
        ErrorKind::Validation,
    );
    expect_kind(
        kvs.query(&store, "o")
            .index("byOwnerRank")
            .sort(SortCondition::between(30, 10))
            .await,
        ErrorKind::Validation,
    );
    expect_kind(
        kvs.scan(&store)
            .filter(attr("owner").between("z", "a"))
            .await,
        ErrorKind::Validation,
    );
    expect_kind(
        kvs.query(&store, "p")
            .filter(attr("rank").between(2.5, 2))
            .await,
        ErrorKind::Validation,
    );
    let page = kvs
        .query(&store, "p")
        .sort(SortCondition::between(2, 2))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0]["sk"], 2.into());
}

/// A sort condition on a store or index without a sort key is `Validation`.
pub async fn error_sort_condition_without_sort_key_rejected(kvs: Kvs) {
    let store = events(&kvs).await;
    let err = expect_kind(
        kvs.query(&store, "o")
            .index("byOwner")
            .sort(SortCondition::eq(10))
            .await,
        ErrorKind::Validation,
    );
    assert_mentions(&err, "byOwner");
    let plain = accounts(&kvs).await;
    kvs.upsert(&plain, item! { "id" => "a" }).await.unwrap();
    expect_kind(
        kvs.query(&plain, "a").sort(SortCondition::eq("a")).await,
        ErrorKind::Validation,
    );
}

/// A sort condition value not of the sort key's type (or not finite) is `Validation`.
pub async fn error_sort_condition_wrong_type_rejected(kvs: Kvs) {
    let store = events(&kvs).await;
    for sort in [
        SortCondition::eq("1"),
        SortCondition::lt(Value::bytes([1u8])),
        SortCondition::ge(true),
        SortCondition::between(1, "9"),
        SortCondition::begins_with("1"),
        SortCondition::gt(f64::NAN),
        SortCondition::le(f64::INFINITY),
    ] {
        let err = expect_kind(
            kvs.query(&store, "p").sort(sort.clone()).await,
            ErrorKind::Validation,
        );
        assert_mentions(&err, "sk");
        let err = expect_kind(
            kvs.query(&store, "o").index("byOwnerRank").sort(sort).await,
            ErrorKind::Validation,
        );
        assert_mentions(&err, "rank");
    }
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases_errors {
    ($cb:path, $make:tt) => {
        $cb!($make, errors::error_not_found_update_of_missing_item);
        $cb!($make, errors::error_already_exists_insert_twice);
        $cb!($make, errors::error_condition_failed_upsert);
        $cb!($make, errors::error_condition_failed_update);
        $cb!($make, errors::error_condition_failed_delete);
        $cb!($make, errors::error_transaction_canceled_reasons);
        $cb!($make, errors::error_validation_changes_nothing);
        $cb!($make, errors::error_store_not_found_every_operation);
        $cb!($make, errors::error_invalid_page_token_garbage);
        $cb!($make, errors::error_serialization_mismatched_struct);
        $cb!($make, errors::error_limit_zero_rejected);
        $cb!($make, errors::error_consistent_index_query_rejected);
        $cb!($make, errors::error_between_low_above_high_rejected);
        $cb!(
            $make,
            errors::error_sort_condition_without_sort_key_rejected
        );
        $cb!($make, errors::error_sort_condition_wrong_type_rejected);
    };
}
