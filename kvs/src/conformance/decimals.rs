//! Conformance cases: exact decimals (numbers of up to 38 significant digits that no
//! `i64` or `f64` holds), and reading items that hold them.
//!
//! Where a backend does not hold decimals ([`Capabilities::exact_decimals`]), writing one
//! must be `Validation` naming the attribute, with nothing written; the cases check that
//! instead.
//!
//! [`Capabilities::exact_decimals`]: crate::backend::Capabilities::exact_decimals

use futures::TryStreamExt as _;

use super::{expect_kind, fresh_store};
use crate::{
    Decimal, ErrorKind, Item, Key, KeyAttr, Kvs, Number, SortCondition, StoreSchema, Value, attr,
    item,
};

fn n(text: &str) -> Number {
    text.parse().expect("a number")
}

fn d(text: &str) -> Decimal {
    text.parse().expect("a decimal")
}

/// A store keyed by the string attribute `id`.
async fn things(kvs: &Kvs) -> String {
    fresh_store(kvs, StoreSchema::new("decimals", KeyAttr::string("id"))).await
}

/// Where the backend holds no decimals: writing `item` is `Validation` naming `name`,
/// and nothing is written. Returns whether that was the case (the caller stops).
async fn refused_where_not_held(kvs: &Kvs, store: &str, item: Item, name: &str) -> bool {
    if kvs.capabilities().exact_decimals {
        return false;
    }
    let id = item["id"].clone();
    let e = expect_kind(kvs.upsert(store, item).await, ErrorKind::Validation);
    assert!(e.to_string().contains(name), "{e} must name {name}");
    assert_eq!(kvs.get(store, id).await.unwrap(), None);
    true
}

/// 38-digit decimals, the extremes of the range (1e-130, 9.99..e125, both signs) and
/// floats' exact values, alone, in number sets and nested in maps and lists, read back
/// exactly, as decimals.
pub async fn decimal_round_trip_exact(kvs: Kvs) {
    let store = things(&kvs).await;
    let texts = [
        "12345678901234567890123456789012345678",
        "-12345678901234567890123456789012345678",
        "0.12345678901234567890123456789012345678",
        "9.9999999999999999999999999999999999999e125",
        "-9.9999999999999999999999999999999999999e125",
        "1.0000000000000000000000000000000000001e-130",
        "9223372036854775808.5",
        "-1000000000000000000000000000001",
        // Floats' exact values that are not their shortest texts (0.5 + 2^-30, and
        // 2^63): decimals, not those floats, which would read back as other decimals.
        "0.500000000931322574615478515625",
        "9223372036854775808",
    ];
    let mut it = item! { "id" => "k" };
    for (i, text) in texts.iter().enumerate() {
        let number = n(text);
        assert!(number.is_decimal(), "{text} is held as a decimal");
        it.set(format!("n{i}"), number);
    }
    // The smallest magnitude is the float 1e-130 (its shortest text): it stays a float.
    it.set("smallest", n("1e-130"));
    it.set("set", Value::number_set(texts.map(d)));
    it.set(
        "nested",
        item! { "list" => Value::list([n(texts[0]), n(texts[3])]) },
    );
    if refused_where_not_held(&kvs, &store, it.clone(), "n0").await {
        return;
    }
    kvs.upsert(&store, it.clone()).await.unwrap();
    let back = kvs.get(&store, "k").await.unwrap().expect("the item");
    assert_eq!(back, it);
    for (i, text) in texts.iter().enumerate() {
        let got = back[&format!("n{i}")].as_number().unwrap();
        assert!(got.is_decimal(), "{text} read back as {got}");
        assert_eq!(got.to_decimal(), Some(d(text)), "{text}");
        assert_eq!(got.to_string(), d(text).to_string());
    }
    assert_eq!(back["smallest"].as_f64(), Some(1e-130));
    assert_eq!(back["set"], Value::number_set(texts.map(d)));
    // A scan reads them the same way.
    let scanned: Vec<Item> = kvs.scan(&store).stream().try_collect().await.unwrap();
    assert_eq!(scanned, vec![it]);
}

/// Numbers of every kind, in order. (No decimal here lies between a float's exact
/// binary value and the shorter decimal it prints as, such as `1e30 + 1` beside the
/// float `1e30`: a float is held as its binary value by the embedded engine and as its
/// text by DynamoDB, so only such decimals may order differently beside it.)
fn ordered_numbers() -> Vec<Number> {
    [
        "-9.9999999999999999999999999999999999999e125",
        "-1e30",
        "-9223372036854775809",
        "-9223372036854775808",
        "-2.5",
        "-1.0000000000000000000000000000000000001",
        "-1",
        "-0.99999999999999999999999999",
        "0",
        "1e-130",
        "1.0000000000000000000000000000000000001e-129",
        "0.5",
        "1",
        "1.0000000000000000000000000000000000001",
        "2",
        "9223372036854775807",
        "9223372036854775807.5",
        "1000000000000000000000000000001",
        "9.9999999999999999999999999999999999999e125",
    ]
    .into_iter()
    .map(n)
    .collect()
}

/// Decimals sort with integers and floats by value in a sort key, both directions, and
/// range conditions with decimal bounds select by value.
pub async fn decimal_sort_key_order(kvs: Kvs) {
    let store = fresh_store(
        &kvs,
        StoreSchema::new("decimal_sorted", KeyAttr::string("p")).sort_key(KeyAttr::number("s")),
    )
    .await;
    let numbers = ordered_numbers();
    if !kvs.capabilities().exact_decimals {
        let decimal = *numbers.iter().find(|n| n.is_decimal()).expect("a decimal");
        let it = item! { "p" => "a", "s" => decimal };
        let e = expect_kind(kvs.upsert(&store, it).await, ErrorKind::Validation);
        super::errors::assert_mentions(&e, "s");
        assert!(kvs.scan(&store).await.unwrap().items.is_empty());
        return;
    }
    // Written in a scrambled order.
    for i in (0..numbers.len()).map(|i| (i * 7) % numbers.len()) {
        let it = item! { "p" => "a", "s" => numbers[i], "i" => i as i64 };
        kvs.upsert(&store, it).await.unwrap();
    }
    let sorts = |items: Vec<Item>| -> Vec<Number> {
        items
            .iter()
            .map(|it| it["s"].as_number().unwrap())
            .collect()
    };
    let all: Vec<Item> = kvs.query(&store, "a").stream().try_collect().await.unwrap();
    assert_eq!(sorts(all.clone()), numbers, "ascending");
    for it in &all {
        let i = it["i"].as_i64().unwrap() as usize;
        let got = it["s"].as_number().unwrap();
        assert_eq!(got.is_decimal(), numbers[i].is_decimal(), "{got}");
    }
    let down: Vec<Item> = kvs
        .query(&store, "a")
        .descending()
        .stream()
        .try_collect()
        .await
        .unwrap();
    let mut reversed = numbers.clone();
    reversed.reverse();
    assert_eq!(sorts(down), reversed, "descending");
    // Range conditions whose bounds are decimals, integers and floats.
    let one_plus = n("1.0000000000000000000000000000000000001");
    let gt: Vec<Item> = kvs
        .query(&store, "a")
        .sort(SortCondition::gt(1))
        .stream()
        .try_collect()
        .await
        .unwrap();
    let expected: Vec<Number> = numbers.iter().copied().filter(|x| *x > n("1")).collect();
    assert_eq!(sorts(gt), expected);
    let between: Vec<Item> = kvs
        .query(&store, "a")
        .sort(SortCondition::between(
            n("-0.99999999999999999999999999"),
            one_plus,
        ))
        .stream()
        .try_collect()
        .await
        .unwrap();
    let expected: Vec<Number> = numbers
        .iter()
        .copied()
        .filter(|x| (n("-0.99999999999999999999999999")..=one_plus).contains(x))
        .collect();
    assert_eq!(sorts(between), expected);
    let le: Vec<Item> = kvs
        .query(&store, "a")
        .sort(SortCondition::le(n("9223372036854775807.5")))
        .descending()
        .limit(2)
        .await
        .map(|page| page.items)
        .unwrap();
    assert_eq!(
        sorts(le),
        vec![n("9223372036854775807.5"), n("9223372036854775807")]
    );
    // An exact match on a decimal sort key finds that item alone, as a key does.
    let eq: Vec<Item> = kvs
        .query(&store, "a")
        .sort(SortCondition::eq(one_plus))
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(sorts(eq), vec![one_plus]);
    let got = kvs
        .get(&store, Key::with_sort("a", one_plus))
        .await
        .unwrap()
        .expect("the item keyed by a decimal");
    assert_eq!(got["s"], Value::Number(one_plus));
}

/// A decimal partition key is a partition of its own, next to the integer it is
/// closest to: neither query sees the other's items.
pub async fn decimal_partition_keys_are_exact(kvs: Kvs) {
    let store = fresh_store(
        &kvs,
        StoreSchema::new("decimal_parts", KeyAttr::number("p")).sort_key(KeyAttr::string("s")),
    )
    .await;
    let close = n("1.0000000000000000000000000000000000001");
    if !kvs.capabilities().exact_decimals {
        // Refused, naming the key attribute, and nothing written.
        let it = item! { "p" => close, "s" => "close" };
        let e = expect_kind(kvs.upsert(&store, it).await, ErrorKind::Validation);
        super::errors::assert_mentions(&e, "p");
        assert!(kvs.scan(&store).await.unwrap().items.is_empty());
        return;
    }
    for (p, s) in [(n("1"), "one"), (close, "close"), (n("1e30"), "big")] {
        kvs.upsert(&store, item! { "p" => p, "s" => s })
            .await
            .unwrap();
    }
    for (p, s) in [(n("1"), "one"), (close, "close"), (n("1e30"), "big")] {
        let page = kvs.query(&store, p).await.unwrap();
        let found: Vec<&str> = page
            .items
            .iter()
            .map(|it| it["s"].as_str().unwrap())
            .collect();
        assert_eq!(found, vec![s], "partition {p}");
    }
}

/// A key holding a decimal the backend cannot hold is `Validation` naming the key
/// attribute on every path, reads too, and nothing changes: rounded, it would be the key
/// of another item (`0.10000000000000001` is the float `0.1`). Where decimals are held,
/// it is a key of its own, and finds nothing.
pub async fn decimal_keys_not_held_refused_on_every_path(kvs: Kvs) {
    let store = fresh_store(
        &kvs,
        StoreSchema::new("decimal_keys", KeyAttr::number("p")).sort_key(KeyAttr::number("s")),
    )
    .await;
    let close = n("0.10000000000000001");
    assert!(close.is_decimal());
    let stored = item! { "p" => 0.1, "s" => 0.1, "v" => "float" };
    kvs.upsert(&store, stored.clone()).await.unwrap();
    let keys = [
        Key::with_sort(close, 0.1),
        Key::with_sort(0.1, close),
        Key::with_sort(close, close),
    ];
    for key in keys {
        let holds = kvs.capabilities().exact_decimals;
        let refused = |r: Result<(), crate::Error>, what: &str| match r {
            Ok(()) => assert!(holds, "{what} {key:?}: accepted"),
            Err(e) => {
                assert!(!holds, "{what} {key:?}: {e}");
                assert_eq!(e.kind(), &ErrorKind::Validation, "{what} {key:?}: {e}");
                let named = ["\"p\"", "\"s\"", " p", " s"];
                assert!(
                    named.iter().any(|n| e.to_string().contains(n)),
                    "{what} {key:?}: {e} names no key attribute"
                );
            }
        };
        let got = kvs.get(&store, key.clone()).await;
        refused(
            got.as_ref()
                .map(|found| assert_eq!(found, &None))
                .map_err(Clone::clone),
            "get",
        );
        let many = kvs.get_many(&store, [key.clone()]).await;
        refused(many.map(|found| assert_eq!(found, vec![None])), "get_many");
        refused(kvs.delete(&store, key.clone()).await.map(drop), "delete");
        // Where the key is held, no item has it: an update is `NotFound`.
        let updated = kvs.update(&store, key.clone()).set("v", "changed").await;
        match updated {
            Err(e) if holds => assert_eq!(e.kind(), &ErrorKind::NotFound, "update {key:?}: {e}"),
            other => refused(other.map(drop), "update"),
        }
        let deleted = kvs.delete_many(&store, [key.clone()]).await;
        refused(deleted.map(drop), "delete_many");
        if key.partition() == &Value::from(close) {
            let page = kvs.query(&store, close).await;
            refused(page.map(|p| assert!(p.items.is_empty())), "query");
            let count = kvs.query(&store, close).count().await;
            refused(count.map(|c| assert_eq!(c, 0)), "count");
        }
    }
    assert_eq!(
        kvs.get(&store, Key::with_sort(0.1, 0.1)).await.unwrap(),
        Some(stored)
    );
    // An integer that is exactly a float the backend holds is that float's key
    // (`1 == 1.0`), even where the backend cannot store the integer as one (Cosmos DB
    // keeps doubles: 2^60 is one, exactly).
    let big = item! { "p" => 2f64.powi(60), "s" => 1.5, "v" => "big" };
    kvs.upsert(&store, big).await.unwrap();
    let by_integer = Key::with_sort(1_i64 << 60, 1.5);
    let found = kvs.get(&store, by_integer.clone()).await.unwrap();
    assert_eq!(found.map(|it| it["v"].clone()), Some(Value::from("big")));
    let found = kvs.get_many(&store, [by_integer]).await.unwrap();
    assert_eq!(found.len(), 1);
    assert!(found[0].is_some(), "get_many by 2^60 as an integer");
    let page = kvs.query(&store, 1_i64 << 60).await.unwrap();
    assert_eq!(page.items.len(), 1, "query by 2^60 as an integer");
}

/// Filters compare decimals with integers and floats by value: `1 == 1.0 == decimal 1`,
/// and a decimal just above 1 is above it.
pub async fn decimal_filters_compare_numerically(kvs: Kvs) {
    let store = things(&kvs).await;
    let values = [
        ("int", n("1")),
        ("float", Number::from(1.5)),
        ("above", n("1.0000000000000000000000000000000000001")),
        ("below", n("0.99999999999999999999999999999999999999")),
        ("big", n("12345678901234567890123456789012345678")),
    ];
    if !kvs.capabilities().exact_decimals {
        let it = item! { "id" => "above", "n" => values[2].1 };
        refused_where_not_held(&kvs, &store, it, "n").await;
        return;
    }
    for (id, number) in values {
        kvs.upsert(&store, item! { "id" => id, "n" => number })
            .await
            .unwrap();
    }
    let ids = |condition| super::filters::matching(&kvs, &store, condition);
    assert_eq!(ids(attr("n").eq(1.0)).await, ["int"]);
    assert_eq!(ids(attr("n").eq(Decimal::from(1))).await, ["int"]);
    assert_eq!(ids(attr("n").gt(1)).await, ["above", "big", "float"]);
    assert_eq!(ids(attr("n").lt(1.0)).await, ["below"]);
    assert_eq!(
        ids(attr("n").between(d("0.99999999999999999999999999999999999999"), 1)).await,
        ["below", "int"]
    );
    assert_eq!(
        ids(attr("n").eq(n("12345678901234567890123456789012345678"))).await,
        ["big"]
    );
    assert_eq!(
        ids(attr("n").is_in([n("1.0000000000000000000000000000000000001"), n("7")])).await,
        ["above"]
    );
    // In a condition on a write, too.
    let e = kvs
        .update(&store, "above")
        .set("x", 1)
        .when(attr("n").le(1))
        .await;
    expect_kind(e, ErrorKind::ConditionFailed);
    let above = kvs.get(&store, "above").await.unwrap().expect("the item");
    assert!(
        !above.contains_key("x"),
        "a refused write changed {above:?}"
    );
}

/// A decimal operand compares exactly with the numbers every backend holds (integers
/// and floats), in filters, sort conditions and write conditions, whether or not the
/// backend can store decimals: a decimal a hair above or below 1 is not 1.
pub async fn decimal_operands_compare_exactly(kvs: Kvs) {
    const ABOVE: &str = "1.0000000000000000000000000000000000001";
    const BELOW: &str = "0.99999999999999999999999999999999999999";
    let store = things(&kvs).await;
    let held = [
        ("one", Number::from(1)),
        ("onefive", Number::from(1.5)),
        ("two", Number::from(2)),
        ("tenth", Number::from(0.1)),
    ];
    for (id, number) in held {
        kvs.upsert(&store, item! { "id" => id, "n" => number })
            .await
            .unwrap();
    }
    let ids = |condition| super::filters::matching(&kvs, &store, condition);
    assert_eq!(ids(attr("n").gt(d(BELOW))).await, ["one", "onefive", "two"]);
    assert_eq!(ids(attr("n").ge(d(ABOVE))).await, ["onefive", "two"]);
    assert_eq!(ids(attr("n").lt(d(ABOVE))).await, ["one", "tenth"]);
    assert_eq!(ids(attr("n").le(d(BELOW))).await, ["tenth"]);
    assert!(ids(attr("n").eq(d(ABOVE))).await.is_empty());
    assert_eq!(ids(attr("n").ne(d(ABOVE))).await.len(), 4);
    assert_eq!(ids(attr("n").eq(d("1"))).await, ["one"]);
    assert_eq!(ids(attr("n").eq(d("0.1"))).await, ["tenth"]);
    assert_eq!(ids(attr("n").between(d(BELOW), d(ABOVE))).await, ["one"]);
    assert_eq!(ids(attr("n").is_in([d(ABOVE), d("2")])).await, ["two"]);

    // Sort conditions on a number sort key.
    let sorted = fresh_store(
        &kvs,
        StoreSchema::new("decsort", KeyAttr::string("pk")).sort_key(KeyAttr::number("n")),
    )
    .await;
    let rows: Vec<Item> = (0..5).map(|n| item! { "pk" => "p", "n" => n }).collect();
    kvs.upsert_many(&sorted, rows).await.unwrap();
    let sort_ns = |sort: SortCondition| {
        let kvs = kvs.clone();
        let sorted = sorted.clone();
        async move {
            let page = kvs
                .query(&sorted, "p")
                .sort(sort.clone())
                .await
                .unwrap_or_else(|e| panic!("query with {sort:?}: {e}"));
            page.items
                .iter()
                .map(|it| it["n"].as_i64().unwrap())
                .collect::<Vec<_>>()
        }
    };
    let just_above_2 = || Value::from(d("2.0000000000000000000000000000000000001"));
    let just_below_3 = || Value::from(d("2.9999999999999999999999999999999999999"));
    assert_eq!(sort_ns(SortCondition::Gt(just_above_2())).await, [3, 4]);
    assert_eq!(sort_ns(SortCondition::Ge(just_above_2())).await, [3, 4]);
    assert_eq!(sort_ns(SortCondition::Le(just_below_3())).await, [0, 1, 2]);
    assert_eq!(sort_ns(SortCondition::Lt(just_below_3())).await, [0, 1, 2]);
    assert!(sort_ns(SortCondition::Eq(just_above_2())).await.is_empty());
    assert_eq!(
        sort_ns(SortCondition::Between(just_above_2(), just_below_3())).await,
        Vec::<i64>::new()
    );

    // A write condition: refused, and nothing changed.
    let e = kvs
        .update(&store, "one")
        .set("x", "changed")
        .when(attr("n").le(d(BELOW)))
        .await;
    expect_kind(e, ErrorKind::ConditionFailed);
    let back = kvs.get(&store, "one").await.unwrap().expect("the item");
    assert!(!back.contains_key("x"), "{back:?}");
    let ok = kvs
        .update(&store, "one")
        .set("x", "changed")
        .when(attr("n").gt(d(BELOW)).and(attr("n").lt(d(ABOVE))))
        .await;
    assert!(ok.is_ok(), "{ok:?}");
}

/// `1`, `1.0` and the decimal 1 are one number: equal, one element of a number set, and
/// a decimal that an integer or float holds is stored as that integer or float.
pub async fn decimal_equal_to_integers_and_floats(kvs: Kvs) {
    assert_eq!(Number::from(1), Number::from(1.0));
    assert_eq!(Number::from(Decimal::from(1)), Number::from(1));
    assert_eq!(Number::from(d("1.000")), Number::from(1.0));
    assert_eq!(Number::from(d("0.1")), Number::from(0.1));
    let store = things(&kvs).await;
    let it = item! {
        "id" => "k",
        "one" => d("1.0"),
        "tenth" => d("0.1"),
        "set" => Value::number_set([Number::from(1), Number::from(1.0), Number::from(d("1"))]),
    };
    kvs.upsert(&store, it).await.unwrap();
    let back = kvs.get(&store, "k").await.unwrap().expect("the item");
    assert_eq!(back["one"], Value::from(1));
    assert!(back["one"].as_number().unwrap().is_integer());
    assert_eq!(back["tenth"].as_f64(), Some(0.1));
    assert_eq!(back["set"], Value::number_set([1]));
    let e = kvs
        .update(&store, "k")
        .set("x", 1)
        .when(attr("one").eq(d("1")).and(attr("tenth").eq(0.1)))
        .await;
    assert!(e.is_ok(), "{e:?}");
}

/// ADD with decimals is exact: decimal + decimal, decimal + integer, decimal to a
/// missing attribute; a sum of more than 38 digits is `Validation`, nothing changed.
pub async fn decimal_add_is_exact(kvs: Kvs) {
    let store = things(&kvs).await;
    let start = n("0.1234567890123456789012345678901234567");
    let it = item! { "id" => "k", "a" => start, "b" => 5 };
    if refused_where_not_held(&kvs, &store, it.clone(), "a").await {
        return;
    }
    kvs.upsert(&store, it).await.unwrap();
    let new = kvs
        .update(&store, "k")
        .add("a", d("0.0000000000000000000000000000000000003"))
        .add("b", d("0.25000000000000000001"))
        .add("c", d("-1e-100"))
        .await
        .unwrap();
    assert_eq!(
        new["a"],
        Value::from(d("0.123456789012345678901234567890123457"))
    );
    assert_eq!(new["b"], Value::from(d("5.25000000000000000001")));
    assert_eq!(new["c"], Value::from(d("-1e-100")));
    let new = kvs.update(&store, "k").add("a", 1).await.unwrap();
    assert_eq!(
        new["a"],
        Value::from(d("1.123456789012345678901234567890123457"))
    );
    // An integer added to a number beyond the i64 range is exact too.
    let big = n("1000000000000000000000000000001");
    kvs.update(&store, "k").set("big", big).await.unwrap();
    let new = kvs.update(&store, "k").add("big", 1).await.unwrap();
    assert_eq!(
        new["big"],
        Value::Number(n("1000000000000000000000000000002"))
    );
    let new = kvs.update(&store, "k").add("big", -3).await.unwrap();
    assert_eq!(
        new["big"],
        Value::Number(n("999999999999999999999999999999"))
    );
    // A large integer added to a number that is no integer cannot overflow an integer:
    // the sum is exact, near the i64 bounds too, alone and in a transaction.
    kvs.update(&store, "k").set("f", 1.5).await.unwrap();
    let new = kvs.update(&store, "k").add("f", i64::MAX).await.unwrap();
    assert_eq!(new["f"], Value::Number(n("9223372036854775808.5")));
    if kvs.capabilities().transactions != crate::backend::TransactionScope::None {
        kvs.update(&store, "k").set("f", -1.5).await.unwrap();
        kvs.transact([crate::TransactWrite::update(
            &store,
            "k",
            crate::Updates::new().add("f", i64::MIN),
        )])
        .await
        .unwrap();
        let got = kvs.get(&store, "k").await.unwrap().expect("the item");
        assert_eq!(got["f"], Value::Number(n("-9223372036854775809.5")));
    }
    // An integer stays an integer: past the i64 range it is `Validation`.
    kvs.update(&store, "k")
        .set("i", i64::MAX - 1)
        .await
        .unwrap();
    expect_kind(
        kvs.update(&store, "k").add("i", 2).await,
        ErrorKind::Validation,
    );
    // A decimal that cancels to a whole number is an integer.
    let new = kvs
        .update(&store, "k")
        .add("b", d("-0.25000000000000000001"))
        .await
        .unwrap();
    assert_eq!(new["b"], Value::from(5));
    assert!(new["b"].as_number().unwrap().is_integer());
    // 39 digits: refused, nothing changed.
    let before = kvs.get(&store, "k").await.unwrap().expect("the item");
    let e = kvs.update(&store, "k").add("a", d("1e-50")).await;
    expect_kind(e, ErrorKind::Validation);
    assert_eq!(kvs.get(&store, "k").await.unwrap().as_ref(), Some(&before));
}

/// Models over one store, each reading its own fields of the same items. The derive
/// gives every field an accessor, which these cases do not all use.
#[allow(dead_code)]
mod models {
    use crate::Decimal;

    #[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    #[kvs(store = "decimal_narrow", partition_key = id)]
    pub struct Narrow {
        pub id: String,
        pub name: String,
    }

    #[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    #[kvs(store = "decimal_as_integer", partition_key = id)]
    pub struct AsInteger {
        pub id: String,
        pub amount: i64,
    }

    #[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    #[kvs(store = "decimal_as_float", partition_key = id)]
    pub struct AsFloat {
        pub id: String,
        pub amount: f64,
    }

    #[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    #[kvs(store = "decimal_as_decimal", partition_key = id)]
    pub struct AsDecimal {
        pub id: String,
        pub amount: Decimal,
        pub small: Option<Decimal>,
    }
}

use models::{AsDecimal, AsFloat, AsInteger, Narrow};

/// Reading decodes an attribute only when a field that is read needs it: an item with
/// a 38-digit number in an attribute a model does not declare reads fine (by key and in
/// a scan); a model whose field is an `i64` (or `f64`) fails with `Serialization`
/// naming the attribute; a `Decimal` field reads it exactly (and writes it back
/// exactly), and the dynamic item holds it exactly.
pub async fn decimal_reads_decode_only_what_is_read(kvs: Kvs) {
    let store = things(&kvs).await;
    let amount = d("12345678901234567890123456789012345678");
    let it = item! { "id" => "k", "name" => "n", "amount" => amount };
    if refused_where_not_held(&kvs, &store, it.clone(), "amount").await {
        return;
    }
    kvs.upsert(&store, it.clone()).await.unwrap();
    kvs.upsert(
        &store,
        item! { "id" => "plain", "name" => "p", "amount" => 7 },
    )
    .await
    .unwrap();
    // The dynamic item holds it exactly.
    assert_eq!(kvs.get(&store, "k").await.unwrap(), Some(it));
    // A model that does not declare it reads the item, by key and in a scan.
    let narrow = kvs.store_named::<Narrow>(&store);
    assert_eq!(narrow.get("k").await.unwrap().unwrap().name, "n");
    let all: Vec<Narrow> = narrow.scan().stream().try_collect().await.unwrap();
    assert_eq!(all.len(), 2);
    // A field that cannot hold it fails, naming the attribute; the other item reads.
    let e = expect_kind(
        kvs.store_named::<AsInteger>(&store).get("k").await,
        ErrorKind::Serialization,
    );
    assert!(e.to_string().contains("amount"), "{e}");
    let plain = kvs.store_named::<AsInteger>(&store).get("plain").await;
    assert_eq!(plain.unwrap().unwrap().amount, 7);
    let e = expect_kind(
        kvs.store_named::<AsFloat>(&store).get("k").await,
        ErrorKind::Serialization,
    );
    assert!(e.to_string().contains("amount"), "{e}");
    // A decimal field reads it exactly, and an integer as the equal decimal; written
    // back, it is the same number.
    let decimals = kvs.store_named::<AsDecimal>(&store);
    let exact = decimals.get("k").await.unwrap().unwrap();
    assert_eq!(exact.amount, amount);
    assert_eq!(exact.small, None);
    assert_eq!(
        decimals.get("plain").await.unwrap().unwrap().amount,
        Decimal::from(7)
    );
    let small = AsDecimal {
        id: "w".into(),
        amount: d("-1.234567890123456789e-38"),
        small: Some(d("1e-130")),
    };
    decimals.upsert(&small).await.unwrap();
    assert_eq!(decimals.get("w").await.unwrap().as_ref(), Some(&small));
    let stored = kvs.get(&store, "w").await.unwrap().expect("the item");
    assert_eq!(stored["amount"], Value::from(small.amount));
    assert!(stored["amount"].as_number().unwrap().is_decimal());
    assert_eq!(stored["small"].as_f64(), Some(1e-130));
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases_decimals {
    ($cb:path, $make:tt) => {
        $cb!($make, decimals::decimal_round_trip_exact);
        $cb!($make, decimals::decimal_sort_key_order);
        $cb!($make, decimals::decimal_partition_keys_are_exact);
        $cb!($make, decimals::decimal_keys_not_held_refused_on_every_path);
        $cb!($make, decimals::decimal_filters_compare_numerically);
        $cb!($make, decimals::decimal_operands_compare_exactly);
        $cb!($make, decimals::decimal_equal_to_integers_and_floats);
        $cb!($make, decimals::decimal_add_is_exact);
        $cb!($make, decimals::decimal_reads_decode_only_what_is_read);
    };
}
