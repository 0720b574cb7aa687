//! Conformance cases: filters on scans and queries, and the same conditions on writes.
//!
//! Most cases scan one fixture store with a filter and compare the ids that match with
//! the ids the contract says match.

use futures::TryStreamExt as _;

use super::{expect_kind, fresh_store};
use crate::{
    Condition, ErrorKind, Item, KeyAttr, Kvs, Path, StoreSchema, Value, ValueType, attr, item,
};

/// The fixture: six items whose attributes cover every type, a nested map, a list, sets,
/// a null, cross-type attributes (`n` is a string in `d`) and missing attributes (`e`).
fn fixture_items() -> Vec<Item> {
    vec![
        item! {
            "id" => "a",
            "n" => 1,
            "s" => "apple",
            "tags" => Value::list(["red", "green"]),
            "colors" => Value::string_set(["red", "blue"]),
            "sizes" => Value::number_set([1, 2]),
            "address" => item! { "country" => "FR", "city" => "Paris" },
            "note" => Value::Null,
            "flag" => true,
            "bin" => Value::bytes([0xff]),
        },
        item! {
            "id" => "b",
            "n" => 10,
            "s" => "banana",
            "tags" => Value::list(["blue"]),
            "colors" => Value::string_set(["green"]),
            "sizes" => Value::number_set([10]),
            "address" => item! { "country" => "DE" },
            "flag" => false,
        },
        item! {
            "id" => "c",
            "n" => 9.5,
            "s" => "Zebra",
            "tags" => Value::list([Value::from(3), Value::from("red")]),
            "address" => "FR",
            "note" => "text",
        },
        item! {
            "id" => "d",
            "n" => "10",
            "s" => "éclair",
            "tags" => "red,green",
        },
        item! { "id" => "e" },
        item! {
            "id" => "f",
            "n" => -3,
            "s" => "a",
            "bin" => Value::bytes([0x01, 0x02]),
        },
    ]
}

/// A fresh store holding the fixture.
async fn fixture(kvs: &Kvs) -> String {
    let store = fresh_store(kvs, StoreSchema::new("filters", KeyAttr::string("id"))).await;
    kvs.upsert_many(&store, fixture_items())
        .await
        .expect("write the fixture");
    store
}

/// The sorted ids of the items a scan with `filter` returns, over every page.
pub(super) async fn matching(kvs: &Kvs, store: &str, filter: Condition) -> Vec<String> {
    let items: Vec<Item> = kvs
        .scan(store)
        .filter(filter.clone())
        .stream()
        .try_collect()
        .await
        .unwrap_or_else(|e| panic!("scan with filter {filter:?} failed: {e}"));
    let mut ids: Vec<String> = items
        .iter()
        .map(|i| i["id"].as_str().expect("a string id").to_owned())
        .collect();
    ids.sort();
    ids
}

/// Asserts that exactly the items `expected` (by id) match `filter`.
async fn check(kvs: &Kvs, store: &str, filter: Condition, expected: &[&str]) {
    let got = matching(kvs, store, filter.clone()).await;
    assert_eq!(got, expected, "the items matching {filter:?}");
}

fn p(text: &str) -> Path {
    Path::parse(text).expect("a valid path")
}

/// `=` matches equal values of the same type only.
pub async fn filter_eq(kvs: Kvs) {
    let store = fixture(&kvs).await;
    check(&kvs, &store, attr("n").eq(10), &["b"]).await;
    check(&kvs, &store, attr("s").eq("Zebra"), &["c"]).await;
    check(&kvs, &store, attr("flag").eq(false), &["b"]).await;
    check(&kvs, &store, attr("note").eq(Value::Null), &["a"]).await;
    check(
        &kvs,
        &store,
        attr("tags").eq(Value::list(["red", "green"])),
        &["a"],
    )
    .await;
    check(
        &kvs,
        &store,
        attr("colors").eq(Value::string_set(["blue", "red"])),
        &["a"],
    )
    .await;
}

/// `1 = 1.0`: an integer and a float of the same value are equal.
pub async fn filter_eq_int_equals_float(kvs: Kvs) {
    let store = fixture(&kvs).await;
    check(&kvs, &store, attr("n").eq(1.0), &["a"]).await;
    check(&kvs, &store, attr("n").eq(10.0), &["b"]).await;
    check(&kvs, &store, attr("n").eq(-3.0), &["f"]).await;
    check(
        &kvs,
        &store,
        attr("sizes").eq(Value::number_set([1.0, 2.0])),
        &["a"],
    )
    .await;
}

/// `p != v` is `not (p = v)`: true where `p` is missing or of another type.
pub async fn filter_ne_true_where_missing(kvs: Kvs) {
    let store = fixture(&kvs).await;
    check(&kvs, &store, attr("n").ne(10), &["a", "c", "d", "e", "f"]).await;
    check(
        &kvs,
        &store,
        attr("note").ne(Value::Null),
        &["b", "c", "d", "e", "f"],
    )
    .await;
    check(
        &kvs,
        &store,
        p("address.country").ne("FR"),
        &["b", "c", "d", "e", "f"],
    )
    .await;
}

/// `<` on numbers, numerically; items of other types or without the attribute never
/// match.
pub async fn filter_lt(kvs: Kvs) {
    let store = fixture(&kvs).await;
    check(&kvs, &store, attr("n").lt(9.5), &["a", "f"]).await;
    check(&kvs, &store, attr("n").lt(1), &["f"]).await;
    check(&kvs, &store, attr("n").lt(-3), &[]).await;
}

/// `<=` includes the bound.
pub async fn filter_le(kvs: Kvs) {
    let store = fixture(&kvs).await;
    check(&kvs, &store, attr("n").le(9.5), &["a", "c", "f"]).await;
    check(&kvs, &store, attr("n").le(1.0), &["a", "f"]).await;
    check(&kvs, &store, attr("s").le("apple"), &["a", "c", "f"]).await;
}

/// `>` excludes the bound.
pub async fn filter_gt(kvs: Kvs) {
    let store = fixture(&kvs).await;
    check(&kvs, &store, attr("n").gt(9.5), &["b"]).await;
    check(&kvs, &store, attr("n").gt(-3), &["a", "b", "c"]).await;
    check(&kvs, &store, attr("s").gt("banana"), &["d"]).await;
}

/// `>=` includes the bound.
pub async fn filter_ge(kvs: Kvs) {
    let store = fixture(&kvs).await;
    check(&kvs, &store, attr("n").ge(10), &["b"]).await;
    check(&kvs, &store, attr("n").ge(9.5), &["b", "c"]).await;
    check(&kvs, &store, attr("s").ge("banana"), &["b", "d"]).await;
}

/// `between` includes both bounds, for numbers and for strings.
pub async fn filter_between(kvs: Kvs) {
    let store = fixture(&kvs).await;
    check(&kvs, &store, attr("n").between(1, 10), &["a", "b", "c"]).await;
    check(&kvs, &store, attr("n").between(-3, 1), &["a", "f"]).await;
    check(&kvs, &store, attr("n").between(9.5, 9.5), &["c"]).await;
    check(&kvs, &store, attr("s").between("a", "b"), &["a", "f"]).await;
}

/// `between(a, b)` with `a > b` is `Validation`, on a scan and as a write condition.
pub async fn filter_between_reversed_rejected(kvs: Kvs) {
    let store = fixture(&kvs).await;
    expect_kind(
        kvs.scan(&store).filter(attr("n").between(10, 1)).await,
        ErrorKind::Validation,
    );
    expect_kind(
        kvs.scan(&store).filter(attr("s").between("b", "a")).await,
        ErrorKind::Validation,
    );
    expect_kind(
        kvs.update(&store, "a")
            .set("x", 1)
            .when(attr("n").between(2, 1))
            .await,
        ErrorKind::Validation,
    );
    assert_eq!(
        kvs.get(&store, "a").await.unwrap(),
        Some(fixture_items().remove(0))
    );
}

/// `in` matches an attribute equal to one of the values (numbers numerically).
pub async fn filter_in(kvs: Kvs) {
    let store = fixture(&kvs).await;
    check(
        &kvs,
        &store,
        attr("n").is_in([Value::from(1.0), Value::from(10), Value::from("x")]),
        &["a", "b"],
    )
    .await;
    check(
        &kvs,
        &store,
        attr("s").is_in(["Zebra", "nope", "a"]),
        &["c", "f"],
    )
    .await;
    check(&kvs, &store, attr("s").is_in(["nope"]), &[]).await;
}

/// Parts that are constant (an empty `in` is false, an empty `and` true, an empty `or`
/// false) combine with the rest as logic says, in filters and in write conditions:
/// a backend that drops them from what it sends must drop their values too.
pub async fn filter_constant_parts_combine(kvs: Kvs) {
    let store = fixture(&kvs).await;
    let never = || attr("s").is_in(Vec::<Value>::new());
    let n_is_10 = || attr("n").eq(10);
    check(&kvs, &store, never(), &[]).await;
    check(&kvs, &store, n_is_10().and(never()), &[]).await;
    check(&kvs, &store, n_is_10().or(never()), &["b"]).await;
    check(
        &kvs,
        &store,
        n_is_10().and(Condition::Not(Box::new(never()))),
        &["b"],
    )
    .await;
    check(&kvs, &store, Condition::all([]).and(n_is_10()), &["b"]).await;
    check(
        &kvs,
        &store,
        Condition::any([]).or(attr("s").eq("a")),
        &["f"],
    )
    .await;
    check(
        &kvs,
        &store,
        Condition::Not(Box::new(n_is_10().and(never()))),
        &["a", "b", "c", "d", "e", "f"],
    )
    .await;
    // The same on a write: a condition that is false whatever the item is refused, one
    // whose constant part drops out decides by the rest.
    let err = kvs
        .update(&store, "b")
        .set("x", 1)
        .when(n_is_10().and(never()))
        .await;
    expect_kind(err, ErrorKind::ConditionFailed);
    let b = kvs.get(&store, "b").await.unwrap().expect("the item");
    assert!(!b.contains_key("x"), "a refused write changed {b:?}");
    let new = kvs
        .update(&store, "b")
        .set("x", 1)
        .when(n_is_10().or(never()))
        .await
        .expect("a condition that holds");
    assert_eq!(new["x"], Value::from(1));
}

/// `begins_with` matches strings with the prefix, compared by bytes, and bytes with a
/// bytes prefix; never numbers.
pub async fn filter_begins_with(kvs: Kvs) {
    let store = fixture(&kvs).await;
    check(&kvs, &store, attr("s").begins_with("a"), &["a", "f"]).await;
    check(&kvs, &store, attr("s").begins_with("app"), &["a"]).await;
    check(&kvs, &store, attr("s").begins_with("é"), &["d"]).await;
    check(&kvs, &store, attr("s").begins_with("z"), &[]).await;
    check(&kvs, &store, attr("n").begins_with("1"), &["d"]).await;
    check(
        &kvs,
        &store,
        attr("bin").begins_with(Value::bytes([0x01])),
        &["f"],
    )
    .await;
}

/// `begins_with("")` matches every string attribute, and only strings.
pub async fn filter_begins_with_empty_matches_every_string(kvs: Kvs) {
    let store = fixture(&kvs).await;
    check(
        &kvs,
        &store,
        attr("s").begins_with(""),
        &["a", "b", "c", "d", "f"],
    )
    .await;
    check(&kvs, &store, attr("n").begins_with(""), &["d"]).await;
}

/// `contains` on a string is a substring test.
pub async fn filter_contains_substring(kvs: Kvs) {
    let store = fixture(&kvs).await;
    check(&kvs, &store, attr("s").contains("an"), &["b"]).await;
    check(
        &kvs,
        &store,
        attr("s").contains("a"),
        &["a", "b", "c", "d", "f"],
    )
    .await;
    check(&kvs, &store, attr("s").contains("clai"), &["d"]).await;
    check(&kvs, &store, attr("s").contains("A"), &[]).await;
}

/// `contains` on a list is an element test (with the element's type).
pub async fn filter_contains_list_element(kvs: Kvs) {
    let store = fixture(&kvs).await;
    // `d` holds "red,green" as a string: a substring, so it matches too.
    check(&kvs, &store, attr("tags").contains("red"), &["a", "c", "d"]).await;
    check(&kvs, &store, attr("tags").contains("blue"), &["b"]).await;
    check(&kvs, &store, attr("tags").contains(3), &["c"]).await;
    check(&kvs, &store, attr("tags").contains(3.0), &["c"]).await;
    check(&kvs, &store, attr("tags").contains("re"), &["d"]).await;
}

/// `contains` on a set is a membership test, for string and number sets.
pub async fn filter_contains_set_member(kvs: Kvs) {
    let store = fixture(&kvs).await;
    check(&kvs, &store, attr("colors").contains("green"), &["b"]).await;
    check(&kvs, &store, attr("colors").contains("red"), &["a"]).await;
    check(&kvs, &store, attr("colors").contains("re"), &[]).await;
    check(&kvs, &store, attr("sizes").contains(10), &["b"]).await;
    check(&kvs, &store, attr("sizes").contains(2.0), &["a"]).await;
    check(&kvs, &store, attr("sizes").contains("1"), &[]).await;
}

/// `not_contains(p, v)` is `not contains(p, v)`: true where `p` is missing.
pub async fn filter_not_contains_true_where_missing(kvs: Kvs) {
    let store = fixture(&kvs).await;
    check(
        &kvs,
        &store,
        attr("tags").not_contains("red"),
        &["b", "e", "f"],
    )
    .await;
    check(
        &kvs,
        &store,
        attr("colors").not_contains("green"),
        &["a", "c", "d", "e", "f"],
    )
    .await;
}

/// `exists` is true for a present attribute, a null one included.
pub async fn filter_exists_true_for_null(kvs: Kvs) {
    let store = fixture(&kvs).await;
    check(&kvs, &store, attr("note").exists(), &["a", "c"]).await;
    check(&kvs, &store, attr("n").exists(), &["a", "b", "c", "d", "f"]).await;
}

/// `not_exists` is true only for a missing attribute (not for a null one).
pub async fn filter_not_exists(kvs: Kvs) {
    let store = fixture(&kvs).await;
    check(
        &kvs,
        &store,
        attr("note").not_exists(),
        &["b", "d", "e", "f"],
    )
    .await;
    check(&kvs, &store, attr("s").not_exists(), &["e"]).await;
}

/// `type_of` matches a present attribute of that type, null included.
pub async fn filter_type_of(kvs: Kvs) {
    let store = fixture(&kvs).await;
    let cases: [(&str, ValueType, &[&str]); 10] = [
        ("note", ValueType::Null, &["a"]),
        ("note", ValueType::String, &["c"]),
        ("n", ValueType::Number, &["a", "b", "c", "f"]),
        ("n", ValueType::String, &["d"]),
        ("address", ValueType::Map, &["a", "b"]),
        ("tags", ValueType::List, &["a", "b", "c"]),
        ("colors", ValueType::StringSet, &["a", "b"]),
        ("sizes", ValueType::NumberSet, &["a", "b"]),
        ("flag", ValueType::Bool, &["a", "b"]),
        ("bin", ValueType::Bytes, &["a", "f"]),
    ];
    for (name, ty, expected) in cases {
        check(&kvs, &store, attr(name).type_of(ty), expected).await;
    }
    check(&kvs, &store, attr("colors").type_of(ValueType::List), &[]).await;
}

/// `and`, `or` and `not` combine conditions, nested.
pub async fn filter_and_or_not(kvs: Kvs) {
    let store = fixture(&kvs).await;
    check(
        &kvs,
        &store,
        attr("n").gt(5).and(attr("s").begins_with("b")),
        &["b"],
    )
    .await;
    check(
        &kvs,
        &store,
        attr("n").eq(1).or(attr("s").eq("Zebra")),
        &["a", "c"],
    )
    .await;
    check(&kvs, &store, !attr("n").eq(1), &["b", "c", "d", "e", "f"]).await;
    check(
        &kvs,
        &store,
        (!attr("n").eq(1).or(attr("n").eq(10))).and(attr("s").exists()),
        &["c", "d", "f"],
    )
    .await;
}

/// Conditions reach into nested maps (`address.country`); a path through a non-map is
/// missing.
pub async fn filter_nested_map_path(kvs: Kvs) {
    let store = fixture(&kvs).await;
    // `c` has `address` as the string "FR": `address.country` is missing there.
    check(&kvs, &store, p("address.country").eq("FR"), &["a"]).await;
    check(&kvs, &store, p("address.city").exists(), &["a"]).await;
    check(
        &kvs,
        &store,
        p("address.country").is_in(["FR", "DE"]),
        &["a", "b"],
    )
    .await;
    check(
        &kvs,
        &store,
        p("address.city").not_exists(),
        &["b", "c", "d", "e", "f"],
    )
    .await;
    check(
        &kvs,
        &store,
        Path::attr("address").key("country").begins_with("D"),
        &["b"],
    )
    .await;
}

/// Conditions reach into list positions (`tags[0]`); a position past the end is missing.
pub async fn filter_list_position_path(kvs: Kvs) {
    let store = fixture(&kvs).await;
    check(&kvs, &store, p("tags[0]").eq("red"), &["a"]).await;
    check(&kvs, &store, p("tags[1]").eq("red"), &["c"]).await;
    check(&kvs, &store, p("tags[0]").eq(3), &["c"]).await;
    check(&kvs, &store, p("tags[1]").exists(), &["a", "c"]).await;
    check(&kvs, &store, p("tags[5]").exists(), &[]).await;
    // A position into a string is no position at all.
    check(&kvs, &store, p("s[0]").exists(), &[]).await;
}

/// Comparing values of different types is false, never an error.
pub async fn filter_cross_type_is_false(kvs: Kvs) {
    let store = fixture(&kvs).await;
    check(&kvs, &store, attr("n").eq("10"), &["d"]).await;
    check(&kvs, &store, attr("n").lt("z"), &["d"]).await;
    check(&kvs, &store, attr("n").gt("0"), &["d"]).await;
    check(&kvs, &store, attr("s").lt(5), &[]).await;
    check(&kvs, &store, attr("s").ge(-100), &[]).await;
    check(&kvs, &store, attr("flag").eq(1), &[]).await;
    // Only `d`, whose `n` is the string "10", is compared with the string bounds.
    check(&kvs, &store, attr("n").between("0", "9"), &["d"]).await;
    check(&kvs, &store, attr("note").lt("z"), &["c"]).await;
    check(&kvs, &store, attr("bin").gt("a"), &[]).await;
}

/// Numbers compare numerically: 10 > 9 (not as text), and integers against floats.
pub async fn filter_numbers_compare_numerically(kvs: Kvs) {
    let store = fixture(&kvs).await;
    check(&kvs, &store, attr("n").gt(9), &["b", "c"]).await;
    check(&kvs, &store, attr("n").lt(2), &["a", "f"]).await;
    check(&kvs, &store, attr("n").gt(9.99), &["b"]).await;
    check(&kvs, &store, attr("n").lt(-2.5), &["f"]).await;
    check(&kvs, &store, attr("n").ge(1.0), &["a", "b", "c"]).await;
}

/// Strings compare by their UTF-8 bytes: `"Z" < "a"`, `"é" > "z"`; bytes by bytes.
pub async fn filter_strings_compare_by_utf8_bytes(kvs: Kvs) {
    let store = fixture(&kvs).await;
    check(&kvs, &store, attr("s").lt("a"), &["c"]).await;
    check(&kvs, &store, attr("s").gt("z"), &["d"]).await;
    check(&kvs, &store, attr("s").lt("b"), &["a", "c", "f"]).await;
    check(&kvs, &store, attr("s").between("Z", "a"), &["c", "f"]).await;
    check(&kvs, &store, attr("bin").gt(Value::bytes([0x80])), &["a"]).await;
    check(
        &kvs,
        &store,
        attr("bin").lt(Value::bytes([0x01, 0x03])),
        &["f"],
    )
    .await;
}

/// A filter on a query keeps the sort order and applies within the partition only.
pub async fn filter_on_query(kvs: Kvs) {
    let store = fresh_store(
        &kvs,
        StoreSchema::new("events", KeyAttr::string("pk")).sort_key(KeyAttr::number("n")),
    )
    .await;
    let mut items = Vec::new();
    for pk in ["p1", "p2"] {
        for n in 0..20 {
            items.push(item! { "pk" => pk, "n" => n, "even" => n % 2 == 0, "label" => format!("{pk}-{n}") });
        }
    }
    kvs.upsert_many(&store, items).await.unwrap();
    let page = kvs
        .query(&store, "p1")
        .filter(attr("even").eq(true).and(attr("n").ge(10)))
        .await
        .unwrap();
    let ns: Vec<i64> = page
        .items
        .iter()
        .map(|i| i["n"].as_i64().unwrap())
        .collect();
    assert_eq!(ns, [10, 12, 14, 16, 18]);
    assert!(page.items.iter().all(|i| i["pk"] == Value::from("p1")));
    let desc = kvs
        .query(&store, "p2")
        .filter(attr("label").begins_with("p2-1"))
        .descending()
        .await
        .unwrap();
    let ns: Vec<i64> = desc
        .items
        .iter()
        .map(|i| i["n"].as_i64().unwrap())
        .collect();
    assert_eq!(ns, [19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 1]);
}

/// A write condition `not_exists` on the key makes a create-if-missing: the second one is
/// `ConditionFailed` and leaves the first item.
pub async fn filter_write_condition_create_if_missing(kvs: Kvs) {
    let store = fresh_store(&kvs, StoreSchema::new("users", KeyAttr::string("id"))).await;
    let first = item! { "id" => "u-1", "name" => "first" };
    kvs.upsert(&store, first.clone())
        .when(attr("id").not_exists())
        .await
        .unwrap();
    expect_kind(
        kvs.upsert(&store, item! { "id" => "u-1", "name" => "second" })
            .when(attr("id").not_exists())
            .await,
        ErrorKind::ConditionFailed,
    );
    assert_eq!(kvs.get(&store, "u-1").await.unwrap(), Some(first));
}

/// Write conditions use the filter evaluator: `!=` and `not_contains` hold where the
/// attribute is missing, and `exists` holds for a null.
pub async fn filter_write_condition_missing_attribute(kvs: Kvs) {
    let store = fixture(&kvs).await;
    let new = kvs
        .update(&store, "e")
        .set("x", 1)
        .when(attr("n").ne(10))
        .when(attr("tags").not_contains("red"))
        .await
        .unwrap();
    assert_eq!(new, item! { "id" => "e", "x" => 1 });
    let new = kvs
        .update(&store, "a")
        .set("x", 2)
        .when(attr("note").exists())
        .when(attr("note").type_of(ValueType::Null))
        .when(p("address.country").eq("FR"))
        .when(p("tags[1]").eq("green"))
        .await
        .unwrap();
    assert_eq!(new["x"], Value::from(2));
    let deleted = kvs
        .delete(&store, "f")
        .when(attr("note").not_exists())
        .await
        .unwrap();
    assert_eq!(deleted, Some(fixture_items().remove(5)));
    assert_eq!(kvs.get(&store, "f").await.unwrap(), None);
}

/// A write condition that compares across types is false (`ConditionFailed`), not an
/// error, and nothing changes.
pub async fn filter_write_condition_cross_type_is_false(kvs: Kvs) {
    let store = fixture(&kvs).await;
    let before = fixture_items().remove(1);
    expect_kind(
        kvs.update(&store, "b")
            .set("x", 1)
            .when(attr("n").gt("5"))
            .await,
        ErrorKind::ConditionFailed,
    );
    expect_kind(
        kvs.upsert(&store, item! { "id" => "b" })
            .when(attr("s").lt(100))
            .await,
        ErrorKind::ConditionFailed,
    );
    expect_kind(
        kvs.delete(&store, "b").when(attr("n").eq("10")).await,
        ErrorKind::ConditionFailed,
    );
    assert_eq!(kvs.get(&store, "b").await.unwrap(), Some(before));
}

/// NaN in a filter or a write condition is `Validation`, never a match.
pub async fn filter_nan_rejected(kvs: Kvs) {
    let store = fixture(&kvs).await;
    expect_kind(
        kvs.scan(&store).filter(attr("n").lt(f64::NAN)).await,
        ErrorKind::Validation,
    );
    expect_kind(
        kvs.scan(&store)
            .filter(attr("n").is_in([f64::INFINITY]))
            .await,
        ErrorKind::Validation,
    );
    let first = fixture_items().remove(0);
    let id = first["id"].clone();
    expect_kind(
        kvs.update(&store, id.clone())
            .set("touched", true)
            .when(attr("n").lt(f64::NAN))
            .await,
        ErrorKind::Validation,
    );
    let after = kvs.get(&store, id).await.unwrap().unwrap();
    assert!(!after.contains_key("touched"), "a rejected update wrote");
}

/// `not` wrapped around `inner` `depth` times.
fn nested_not(inner: Condition, depth: usize) -> Condition {
    (0..depth).fold(inner, |c, _| Condition::Not(Box::new(c)))
}

/// A condition may nest `and`, `or` and `not` 64 levels deep; deeper is `Validation`
/// before anything is read or written (every backend walks conditions recursively,
/// and one deep enough would exhaust the stack), as a filter and on a write.
pub async fn filter_nesting_limited(kvs: Kvs) {
    let store = fixture(&kvs).await;
    // 64 levels of `not` around `n = 1`: an even count, so it is `n = 1`.
    let deepest = nested_not(attr("n").eq(1), 64);
    check(&kvs, &store, deepest.clone(), &["a"]).await;
    for too_deep in [
        nested_not(attr("n").eq(1), 65),
        nested_not(attr("n").eq(1), 1_000),
        (0..500).fold(attr("n").eq(1), |c, i| {
            if i % 2 == 0 {
                c.and(attr("n").exists()).or(attr("n").eq(0))
            } else {
                Condition::Not(Box::new(Condition::Not(Box::new(c))))
            }
        }),
    ] {
        let e = kvs.scan(&store).filter(too_deep.clone()).await;
        let e = expect_kind(e, ErrorKind::Validation);
        assert!(e.to_string().contains("64"), "{e}");
        let e = kvs.query(&store, "a").filter(too_deep.clone()).await;
        expect_kind(e, ErrorKind::Validation);
        let e = kvs
            .update(&store, "a")
            .set("touched", true)
            .when(too_deep.clone())
            .await;
        expect_kind(e, ErrorKind::Validation);
        let e = kvs.delete(&store, "a").when(too_deep).await;
        expect_kind(e, ErrorKind::Validation);
    }
    let a = kvs.get(&store, "a").await.unwrap().expect("still there");
    assert!(!a.contains_key("touched"), "{a:?}");
    // The deepest allowed works on a write too.
    kvs.update(&store, "a")
        .set("touched", true)
        .when(deepest)
        .await
        .expect("a condition 64 levels deep");
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases_filters {
    ($cb:path, $make:tt) => {
        $cb!($make, filters::filter_nan_rejected);
        $cb!($make, filters::filter_nesting_limited);
        $cb!($make, filters::filter_eq);
        $cb!($make, filters::filter_eq_int_equals_float);
        $cb!($make, filters::filter_ne_true_where_missing);
        $cb!($make, filters::filter_lt);
        $cb!($make, filters::filter_le);
        $cb!($make, filters::filter_gt);
        $cb!($make, filters::filter_ge);
        $cb!($make, filters::filter_between);
        $cb!($make, filters::filter_between_reversed_rejected);
        $cb!($make, filters::filter_in);
        $cb!($make, filters::filter_constant_parts_combine);
        $cb!($make, filters::filter_begins_with);
        $cb!(
            $make,
            filters::filter_begins_with_empty_matches_every_string
        );
        $cb!($make, filters::filter_contains_substring);
        $cb!($make, filters::filter_contains_list_element);
        $cb!($make, filters::filter_contains_set_member);
        $cb!($make, filters::filter_not_contains_true_where_missing);
        $cb!($make, filters::filter_exists_true_for_null);
        $cb!($make, filters::filter_not_exists);
        $cb!($make, filters::filter_type_of);
        $cb!($make, filters::filter_and_or_not);
        $cb!($make, filters::filter_nested_map_path);
        $cb!($make, filters::filter_list_position_path);
        $cb!($make, filters::filter_cross_type_is_false);
        $cb!($make, filters::filter_numbers_compare_numerically);
        $cb!($make, filters::filter_strings_compare_by_utf8_bytes);
        $cb!($make, filters::filter_on_query);
        $cb!($make, filters::filter_write_condition_create_if_missing);
        $cb!($make, filters::filter_write_condition_missing_attribute);
        $cb!($make, filters::filter_write_condition_cross_type_is_false);
    };
}
