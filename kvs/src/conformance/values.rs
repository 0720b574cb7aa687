//! Conformance cases: values, attribute names and item limits.

use std::collections::BTreeMap;

use super::errors::assert_mentions;
use super::{expect_kind, fresh_store};
use crate::backend::Capabilities;
use crate::limits::item_size;
use crate::{ErrorKind, Item, KeyAttr, Kvs, Number, Path, StoreSchema, Value, ValueType, item};

/// A store keyed by the string attribute `id`.
async fn things(kvs: &Kvs) -> String {
    fresh_store(kvs, StoreSchema::new("things", KeyAttr::string("id"))).await
}

/// Every item of a store, by scanning all pages.
async fn all_items(kvs: &Kvs, store: &str) -> Vec<Item> {
    use futures::TryStreamExt as _;
    kvs.scan(store).stream().try_collect().await.unwrap()
}

/// Asserts that `got` is `expected` as a backend with `caps` keeps it: an integer as the
/// same integer; a float as the same float, bit for bit (so `-0.0` is not `0.0`, and `2.0`
/// not `2`). Only where the backend says so (see [`Capabilities`]) may a whole float read
/// back as the equal integer (`!keeps_number_kind`) and `-0.0` as zero
/// (`!keeps_negative_zero`); the number is equal either way. With
/// `Capabilities::default()` this is exact.
#[track_caller]
pub(crate) fn assert_same_number(caps: &Capabilities, got: Number, expected: Number, at: &str) {
    if expected.is_decimal() {
        assert!(
            got.is_decimal() && got == expected,
            "{at}: {got} vs {expected}: a decimal must read back as the same decimal"
        );
        return;
    }
    if expected.is_integer() {
        assert!(
            got.is_integer(),
            "{at}: {got} vs {expected}: an integer must read back as an integer"
        );
        assert_eq!(got.as_i64(), expected.as_i64(), "{at}");
        return;
    }
    let e = expected.as_f64().expect("a float is an f64");
    match got.as_f64() {
        Some(g) if !got.is_integer() => assert_same_float(caps, g, e, at),
        _ => {
            assert!(
                !caps.keeps_number_kind && e.fract() == 0.0,
                "{at}: {got} vs {expected}: a float must read back as a float"
            );
            let negative_zero = e == 0.0 && e.is_sign_negative();
            assert!(
                !negative_zero || !caps.keeps_negative_zero,
                "{at}: {got} vs {expected}: -0.0 must keep its sign"
            );
            assert_eq!(got, expected, "{at}: {got} vs {expected}: not equal");
        }
    }
}

/// Asserts that two floats are the same bits, or, where the backend does not keep the
/// sign of zero, that `-0.0` read back as `0.0`.
#[track_caller]
pub(crate) fn assert_same_float(caps: &Capabilities, got: f64, expected: f64, at: &str) {
    let lost_sign = !caps.keeps_negative_zero && expected == 0.0 && got == 0.0;
    assert!(
        got.to_bits() == expected.to_bits() || lost_sign,
        "{at}: {got:?} vs {expected:?}: not the same float, bit for bit"
    );
}

/// Asserts that two values are identical as a backend with `caps` keeps them, stricter
/// than `==`: the same types all the way down and numbers as [`assert_same_number`].
#[track_caller]
pub(crate) fn assert_same_value(caps: &Capabilities, got: &Value, expected: &Value, at: &str) {
    assert_eq!(
        got.value_type(),
        expected.value_type(),
        "{at}: {got:?} vs {expected:?}"
    );
    match (got, expected) {
        (Value::Number(g), Value::Number(e)) => assert_same_number(caps, *g, *e, at),
        (Value::List(g), Value::List(e)) => {
            assert_eq!(g.len(), e.len(), "{at}: {got:?} vs {expected:?}");
            for (i, (g, e)) in g.iter().zip(e).enumerate() {
                assert_same_value(caps, g, e, &format!("{at}[{i}]"));
            }
        }
        (Value::Map(g), Value::Map(e)) => assert_same_map(caps, g, e, at),
        (Value::NumberSet(g), Value::NumberSet(e)) => {
            assert_eq!(g.len(), e.len(), "{at}: {got:?} vs {expected:?}");
            for (g, e) in g.iter().zip(e) {
                assert_eq!(g, e, "{at}");
            }
        }
        _ => assert_eq!(got, expected, "{at}"),
    }
}

#[track_caller]
fn assert_same_map(
    caps: &Capabilities,
    got: &BTreeMap<String, Value>,
    expected: &BTreeMap<String, Value>,
    at: &str,
) {
    let got_names: Vec<&String> = got.keys().collect();
    let expected_names: Vec<&String> = expected.keys().collect();
    assert_eq!(got_names, expected_names, "{at}: attribute names differ");
    for (name, e) in expected {
        assert_same_value(caps, &got[name], e, &format!("{at}.{name}"));
    }
}

/// Asserts that two items are identical as a backend with `caps` keeps them (see
/// [`assert_same_value`]).
#[track_caller]
pub(crate) fn assert_same_item(caps: &Capabilities, got: &Item, expected: &Item) {
    assert_same_map(caps, got.as_map(), expected.as_map(), "item");
}

/// `f` where the backend stores it exactly, else the float nearest to it that the backend
/// does store: the edge of its range (`±smallest` or `±largest below the limit`), with the
/// sign of `f`. A case writes this where every backend must keep the value, and checks
/// `f` itself with [`assert_unstorable`]. On a backend that stores every finite float it
/// is `f`.
pub(crate) fn storable_stand_in(caps: &Capabilities, f: f64) -> f64 {
    match caps.float_range {
        Some((min, max)) if !caps.stores_float(f) => {
            let edge = if f.abs() < min {
                min
            } else {
                // The largest float below `max` (both positive).
                f64::from_bits(max.to_bits() - 1)
            };
            let stand_in = edge.copysign(f);
            assert!(
                caps.stores_float(stand_in),
                "{stand_in:e}, the edge of {:?}, must be storable",
                caps.float_range
            );
            stand_in
        }
        _ => f,
    }
}

/// `i` where the backend stores it exactly, else the nearest integer it does store: the
/// edge of its declared `integer_range` (a backend that keeps numbers as doubles stores
/// only `-2^53..=2^53`). A case writes this where every backend must keep the integer,
/// and checks `i` itself with [`assert_unstorable`]. Where no range is declared it is `i`.
pub(crate) fn storable_int(caps: &Capabilities, i: i64) -> i64 {
    match caps.integer_range {
        Some((low, high)) => i.clamp(low, high),
        None => i,
    }
}

/// Whether the backend stores the integer `i` exactly: within its declared
/// `integer_range`, if it declares one.
pub(crate) fn stores_int(caps: &Capabilities, i: i64) -> bool {
    caps.stores_number(&Number::from(i))
}

/// Asserts that the error's message names at least one of `names` as a whole word (as
/// [`assert_mentions`] does for one): where several attributes of a write are refused,
/// any of them may be the one named.
#[track_caller]
pub(crate) fn assert_mentions_any(err: &crate::Error, names: &[&str]) {
    let message = err.message();
    let is_name_char = |c: char| c.is_alphanumeric() || c == '_';
    let found = names.iter().any(|word| {
        message.match_indices(word).any(|(at, _)| {
            let before = message[..at].chars().next_back();
            let after = message[at + word.len()..].chars().next();
            !before.is_some_and(is_name_char) && !after.is_some_and(is_name_char)
        })
    });
    assert!(
        found,
        "expected the error to name one of {names:?}, got: {err}"
    );
}

/// Asserts that writing `item`, which holds a number the backend cannot store exactly (a
/// float outside its `float_range`, an integer outside its `integer_range`; in one of the
/// attributes `names`), is `Validation` naming the attribute, for an upsert and for an
/// insert, and that the store is unchanged: it never rounds silently.
pub(crate) async fn assert_unstorable(kvs: &Kvs, store: &str, item: Item, names: &[&str]) {
    let before = all_items(kvs, store).await;
    let err = expect_kind(kvs.upsert(store, item.clone()).await, ErrorKind::Validation);
    assert_mentions_any(&err, names);
    let err = expect_kind(kvs.insert(store, item.clone()).await, ErrorKind::Validation);
    assert_mentions_any(&err, names);
    let after = all_items(kvs, store).await;
    assert_eq!(
        after.len(),
        before.len(),
        "nothing must be written for {item:?}: {after:?}"
    );
    for it in &before {
        assert!(
            after.contains(it),
            "{it:?} changed by a refused write: {after:?}"
        );
    }
}

/// Writes `attrs` under the key `id` into a fresh store, reads the item back, and
/// asserts it is identical to what was written.
async fn round_trip(kvs: &Kvs, attrs: Item) {
    let store = things(kvs).await;
    let mut it = attrs;
    it.set("id", "x");
    kvs.upsert(&store, it.clone()).await.unwrap();
    let caps = kvs.capabilities();
    let got = kvs.get(&store, "x").await.unwrap().expect("the item");
    assert_same_item(&caps, &got, &it);
    // Scans return the same values as gets.
    let scanned = all_items(kvs, &store).await;
    assert_eq!(scanned.len(), 1);
    assert_same_item(&caps, &scanned[0], &it);
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

/// Null and both booleans round-trip.
pub async fn value_null_and_bool_round_trip(kvs: Kvs) {
    round_trip(
        &kvs,
        item! { "null" => Value::Null, "yes" => true, "no" => false },
    )
    .await;
}

/// Integers round-trip exactly and stay integers, i64 extremes and beyond 2^53 included.
/// A backend that declares an `integer_range` (doubles: +-2^53) refuses those outside it,
/// and those just outside it (`Validation` naming the attribute, nothing written), and
/// keeps the edges of its range exactly.
pub async fn value_integers_round_trip(kvs: Kvs) {
    let caps = kvs.capabilities();
    let integers = [
        ("min", i64::MIN),
        ("max", i64::MAX),
        ("zero", 0),
        ("neg", -1),
        ("small", 42),
        ("beyond53", 9_007_199_254_740_993_i64),
        ("maxm1", i64::MAX - 1),
        ("negbeyond53", -9_007_199_254_740_993_i64),
    ];
    // Every backend keeps these (outside its declared range, the edge of it): where it
    // declares none, the integers themselves.
    let mut kept = Item::new();
    for (name, i) in integers {
        kept.set(name, storable_int(&caps, i));
    }
    round_trip(&kvs, kept).await;
    // The rest are refused, never rounded to a double: just outside the range too.
    let mut refused: Vec<i64> = integers
        .iter()
        .map(|&(_, i)| i)
        .filter(|&i| !stores_int(&caps, i))
        .collect();
    if let Some((low, high)) = caps.integer_range {
        refused.extend(high.checked_add(1).into_iter().chain(low.checked_sub(1)));
    }
    let store = things(&kvs).await;
    for i in refused {
        assert!(!stores_int(&caps, i), "{i}");
        let it = item! { "id" => "x", "ok" => 1, "n" => i };
        assert_unstorable(&kvs, &store, it, &["n"]).await;
        let nested = item! { "id" => "x", "outer" => item! { "inner" => Value::list([0, i]) } };
        assert_unstorable(&kvs, &store, nested, &["outer"]).await;
    }
}

/// Finite floats round-trip bit for bit: 0.1, 1e308, 5e-324, -0.0, `f64::MAX`, 1/3. A
/// backend with a narrower `float_range` refuses those outside it (`Validation` naming
/// the attribute, nothing written) and keeps the edges of its range exactly; one that does
/// not keep the sign of zero reads `-0.0` back as zero.
pub async fn value_floats_round_trip(kvs: Kvs) {
    let caps = kvs.capabilities();
    let floats = [
        ("tenth", 0.1),
        ("big", 1e308),
        ("tiny", 5e-324),
        ("negzero", -0.0),
        ("max", f64::MAX),
        ("lowest", f64::MIN),
        ("minpos", f64::MIN_POSITIVE),
        ("third", 1.0 / 3.0),
        ("neg", -123.456e-7),
        ("eps", f64::EPSILON),
        ("twoto63", 9_223_372_036_854_775_808.0),
        // Whole floats between 2^53 and 2^63, whose shortest text is another integer
        // (nanosecond timestamps held as f64 are such).
        ("wholebig", 8.002449850622037e16),
        ("nanos", 1_152_921_504_606_847_232.0),
    ];
    // Every backend keeps these (outside its range, the nearest float it stores).
    let mut kept = Item::new();
    for (name, f) in floats {
        kept.set(name, storable_stand_in(&caps, f));
    }
    round_trip(&kvs, kept).await;
    // The rest are refused, never rounded: just outside the range too.
    let mut refused: Vec<f64> = floats
        .iter()
        .map(|&(_, f)| f)
        .filter(|&f| !caps.stores_float(f))
        .collect();
    if let Some((min, max)) = caps.float_range {
        let below_min = f64::from_bits(min.to_bits() - 1);
        refused.extend([max, -max, below_min, -below_min]);
    }
    let store = things(&kvs).await;
    for f in refused {
        assert!(!caps.stores_float(f), "{f:e}");
        let it = item! { "id" => "x", "ok" => 1.5, "score" => f };
        assert_unstorable(&kvs, &store, it, &["score"]).await;
        let nested = item! { "id" => "x", "outer" => item! { "inner" => Value::list([0.5, f]) } };
        assert_unstorable(&kvs, &store, nested, &["outer"]).await;
    }
}

/// An integer stays an integer and a float (even `2.0`) a float, top-level and nested.
/// Where the backend has one number type (`!keeps_number_kind`), a whole float may read
/// back as the equal integer; integers stay integers, other floats floats.
pub async fn value_integer_and_float_kept_apart(kvs: Kvs) {
    let caps = kvs.capabilities();
    let store = things(&kvs).await;
    kvs.upsert(
        &store,
        item! {
            "id" => "x",
            "int" => 2,
            "float" => 2.0,
            "bigfloat" => 1e20,
            "nested" => item! { "int" => 3, "float" => 3.0 },
            "list" => Value::list([Value::from(4), Value::from(4.0)]),
        },
    )
    .await
    .unwrap();
    let got = kvs.get(&store, "x").await.unwrap().unwrap();
    let number = |p: &str| got.get_path(p).unwrap().unwrap().as_number().unwrap();
    for (path, expected) in [
        ("int", Number::from(2)),
        ("float", Number::from(2.0)),
        ("bigfloat", Number::from(1e20)),
        ("nested.int", Number::from(3)),
        ("nested.float", Number::from(3.0)),
        ("list[0]", Number::from(4)),
        ("list[1]", Number::from(4.0)),
    ] {
        assert_same_number(&caps, number(path), expected, path);
    }
    assert_eq!(number("float").as_f64(), Some(2.0));
    // 1e20 is beyond i64: no backend can hand it back as an integer.
    assert!(!number("bigfloat").is_integer());
    // ... and they still compare equal: 2 == 2.0.
    assert_eq!(got["int"], got["float"]);
}

/// Strings round-trip byte for byte: empty, unicode, emoji, NUL, control characters, long.
pub async fn value_strings_round_trip(kvs: Kvs) {
    round_trip(
        &kvs,
        item! {
            "empty" => "",
            "accents" => "h\u{e9}llo w\u{f6}rld",
            "combining" => "e\u{301}",
            "cjk" => "日本語のテキスト",
            "emoji" => "\u{1F600}\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}",
            "nul" => "a\0b\0",
            "control" => "\t\n\r\u{1b}\u{7f}",
            "rtl" => "\u{5e9}\u{5dc}\u{5d5}\u{5dd}",
            "bmp_edge" => "\u{fffd}\u{ffff}\u{10ffff}",
            "quotes" => "\"'`\\ {} [] $ # :",
            "long" => "x\u{e9}".repeat(20_000),
        },
    )
    .await;
}

/// Bytes round-trip: empty, all 256 byte values, invalid UTF-8, large.
pub async fn value_bytes_round_trip(kvs: Kvs) {
    round_trip(
        &kvs,
        item! {
            "empty" => Value::bytes(Vec::new()),
            "all" => Value::bytes((0..=255u8).collect::<Vec<_>>()),
            "reversed" => Value::bytes((0..=255u8).rev().collect::<Vec<_>>()),
            "zero" => Value::bytes([0u8]),
            "not_utf8" => Value::bytes([0xC3u8, 0x28, 0xFF, 0xFE]),
            "large" => Value::bytes((0..100_000u32).map(|i| (i % 251) as u8).collect::<Vec<_>>()),
        },
    )
    .await;
}

/// Maps and lists nested several levels deep, mixed lists and empty containers round-trip.
pub async fn value_nested_round_trip(kvs: Kvs) {
    let deep = item! {
        "level1" => item! {
            "level2" => Value::List(vec![
                Value::from(item! {
                    "level4" => Value::List(vec![
                        Value::from(item! { "level6" => "bottom", "n" => 1.5 }),
                        Value::List(vec![Value::from(1), Value::List(vec![])]),
                    ]),
                }),
                Value::Null,
            ]),
            "sibling" => Value::string_set(["a"]),
        },
    };
    round_trip(
        &kvs,
        item! {
            "deep" => deep,
            "mixed" => Value::List(vec![
                Value::Null,
                Value::Bool(true),
                Value::from(1),
                Value::from(1.5),
                Value::from("s"),
                Value::bytes([1u8, 2]),
                Value::List(vec![]),
                Value::Map(BTreeMap::new()),
                Value::number_set([1, 2]),
                Value::bytes_set([vec![1u8], vec![2u8]]),
            ]),
            "empty_list" => Value::List(vec![]),
            "empty_map" => Value::Map(BTreeMap::new()),
            "list_of_lists" => Value::List(vec![Value::list([1, 2]), Value::list(["a"])]),
        },
    )
    .await;
}

/// String, number and bytes sets round-trip as sets of their type. A number set holding
/// a float outside the backend's `float_range`, or an integer outside its
/// `integer_range`, is refused, naming the attribute.
pub async fn value_sets_round_trip(kvs: Kvs) {
    let caps = kvs.capabilities();
    let tiny = 1e-300;
    let big = i64::MAX;
    round_trip(
        &kvs,
        item! {
            "ss" => Value::string_set(["b", "a", "\u{1F600}", "a b"]),
            "ns" => Value::number_set([
                Number::from(-5),
                Number::from(0),
                Number::from(2.5),
                // The largest integer the backend declares (i64::MAX where it declares
                // no range).
                Number::from(storable_int(&caps, big)),
                Number::from(storable_stand_in(&caps, tiny)),
            ]),
            "bs" => Value::bytes_set([vec![0u8], vec![0u8, 0], vec![255u8], vec![1u8, 2]]),
            "one" => Value::string_set(["only"]),
        },
    )
    .await;
    if !caps.stores_float(tiny) {
        let store = things(&kvs).await;
        let it = item! {
            "id" => "x",
            "ns" => Value::number_set([Number::from(-5), Number::from(tiny)]),
        };
        assert_unstorable(&kvs, &store, it, &["ns"]).await;
    }
    if !stores_int(&caps, big) {
        let store = things(&kvs).await;
        let it = item! {
            "id" => "x",
            "ns" => Value::number_set([Number::from(-5), Number::from(big)]),
        };
        assert_unstorable(&kvs, &store, it, &["ns"]).await;
    }
}

/// A set never holds duplicates: duplicates written (`"a"` twice, `1` and `1.0`) fold into one.
pub async fn value_set_duplicates_folded(kvs: Kvs) {
    let store = things(&kvs).await;
    kvs.upsert(
        &store,
        item! {
            "id" => "x",
            "ss" => Value::string_set(["a", "a", "b"]),
            "ns" => Value::number_set([Number::from(1), Number::from(1.0), Number::from(2)]),
            "bs" => Value::bytes_set([vec![1u8], vec![1u8]]),
        },
    )
    .await
    .unwrap();
    let got = kvs.get(&store, "x").await.unwrap().unwrap();
    match &got["ss"] {
        Value::StringSet(s) => assert_eq!(s.len(), 2, "{s:?}"),
        other => panic!("not a string set: {other:?}"),
    }
    match &got["ns"] {
        Value::NumberSet(s) => {
            assert_eq!(s.len(), 2, "{s:?}");
            assert!(s.contains(&Number::from(1)) && s.contains(&Number::from(2)));
        }
        other => panic!("not a number set: {other:?}"),
    }
    match &got["bs"] {
        Value::BytesSet(s) => assert_eq!(s.len(), 1, "{s:?}"),
        other => panic!("not a bytes set: {other:?}"),
    }
}

/// An empty set written is a missing attribute, top-level and nested; `exists` is false.
pub async fn value_empty_set_is_missing(kvs: Kvs) {
    let store = things(&kvs).await;
    kvs.upsert(
        &store,
        item! {
            "id" => "x",
            "ss" => Value::StringSet(Default::default()),
            "ns" => Value::NumberSet(Default::default()),
            "bs" => Value::BytesSet(Default::default()),
            "map" => item! { "inner" => Value::StringSet(Default::default()), "keep" => 1 },
        },
    )
    .await
    .unwrap();
    let got = kvs.get(&store, "x").await.unwrap().unwrap();
    assert_eq!(
        got,
        item! { "id" => "x", "map" => item! { "keep" => 1 } },
        "empty sets must be missing attributes"
    );
    for path in [
        Path::attr("ss"),
        Path::attr("ns"),
        Path::attr("bs"),
        Path::attr("map").key("inner"),
    ] {
        let page = kvs
            .scan(&store)
            .filter(path.clone().exists())
            .await
            .unwrap();
        assert!(page.items.is_empty(), "{path:?} exists");
    }
    let page = kvs
        .scan(&store)
        .filter(Path::attr("ss").not_exists())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
}

/// Null is not missing: it reads back as null, and `exists` and `type_of` null hold for it.
pub async fn value_null_is_not_missing(kvs: Kvs) {
    let store = things(&kvs).await;
    kvs.upsert(&store, item! { "id" => "null", "a" => Value::Null })
        .await
        .unwrap();
    kvs.upsert(&store, item! { "id" => "missing" })
        .await
        .unwrap();
    let got = kvs.get(&store, "null").await.unwrap().unwrap();
    assert_eq!(got.get("a"), Some(&Value::Null));
    let got = kvs.get(&store, "missing").await.unwrap().unwrap();
    assert_eq!(got.get("a"), None);
    let ids = |items: Vec<Item>| -> Vec<String> {
        let mut ids: Vec<String> = items
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    let page = kvs.scan(&store).filter(Path::attr("a").exists()).await;
    assert_eq!(ids(page.unwrap().items), ["null"]);
    let page = kvs.scan(&store).filter(Path::attr("a").not_exists()).await;
    assert_eq!(ids(page.unwrap().items), ["missing"]);
    let page = kvs
        .scan(&store)
        .filter(Path::attr("a").type_of(ValueType::Null))
        .await;
    assert_eq!(ids(page.unwrap().items), ["null"]);
}

/// NaN and infinite attributes are `Validation` naming the attribute; nothing is written.
pub async fn value_non_finite_rejected(kvs: Kvs) {
    let store = things(&kvs).await;
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -f64::NAN] {
        let err = expect_kind(
            kvs.upsert(&store, item! { "id" => "x", "ok" => 1, "score" => bad })
                .await,
            ErrorKind::Validation,
        );
        assert_mentions(&err, "score");
    }
    assert_eq!(kvs.get(&store, "x").await.unwrap(), None);
    assert!(all_items(&kvs, &store).await.is_empty());
}

/// NaN and infinities nested in maps, lists and sets are `Validation` naming the attribute.
pub async fn value_non_finite_nested_rejected(kvs: Kvs) {
    let store = things(&kvs).await;
    let bad_set = Value::number_set([Number::from(1), Number::from(f64::NEG_INFINITY)]);
    let cases = [
        (
            "outer",
            item! { "outer" => item! { "inner" => Value::list([1.0, f64::INFINITY]) } },
        ),
        (
            "rows",
            item! { "rows" => Value::List(vec![Value::from(item! { "v" => f64::NAN })]) },
        ),
        ("scores", item! { "scores" => bad_set }),
    ];
    for (name, mut it) in cases {
        it.set("id", "x");
        let err = expect_kind(kvs.upsert(&store, it).await, ErrorKind::Validation);
        assert_mentions(&err, name);
    }
    assert!(all_items(&kvs, &store).await.is_empty());
}

/// Attribute names with reserved words, dots, `#:$`, spaces or non-ASCII round-trip and filter.
pub async fn value_odd_attribute_names_round_trip(kvs: Kvs) {
    let names = [
        "name",
        "status",
        "size",
        "value",
        "select",
        "a.b",
        "#hash",
        ":colon",
        "$dollar",
        "with space",
        " lead",
        "[0]",
        "back\\slash",
        "日本語",
        "\u{1F600}",
        "x-y",
        "-",
        "null",
    ];
    let mut it = Item::new();
    let mut map = BTreeMap::new();
    for (i, name) in names.iter().enumerate() {
        it.set(*name, i as i64);
        map.insert((*name).to_owned(), Value::from(format!("v{i}")));
    }
    it.set("nested", Value::Map(map));
    round_trip(&kvs, it.clone()).await;

    let store = things(&kvs).await;
    it.set("id", "x");
    kvs.upsert(&store, it).await.unwrap();
    kvs.upsert(&store, item! { "id" => "other" }).await.unwrap();
    for (i, name) in names.iter().enumerate() {
        let page = kvs
            .scan(&store)
            .filter(Path::attr(*name).eq(i as i64))
            .await
            .unwrap();
        assert_eq!(page.items.len(), 1, "top-level attribute {name:?}");
        let page = kvs
            .scan(&store)
            .filter(Path::attr("nested").key(*name).eq(format!("v{i}")))
            .await
            .unwrap();
        assert_eq!(page.items.len(), 1, "map key {name:?}");
    }
}

/// Attribute names that are words of a query language, hold its punctuation, or are a
/// backend's own (Cosmos DB's `_rid`, `_etag`, `_ts`, `ttl`; Firestore's `__x__`, `~`,
/// backticks; kvs's own record names) are written, changed and tested like any other:
/// SET, ADD, a condition on them, REMOVE, at the top and nested in a map.
pub async fn value_odd_attribute_names_in_updates_and_conditions(kvs: Kvs) {
    let names = [
        "status",
        "select",
        "a.b",
        "#hash",
        ":colon",
        "$dollar",
        "with space",
        "[0]",
        "back\\slash",
        "quo\"te",
        "it's",
        "日本語",
        "-",
        "null",
        "id",
        "_rid",
        "_self",
        "_etag",
        "_ts",
        "_attachments",
        "ttl",
        "__x__",
        "__name__",
        "~x",
        "~sets",
        "`tick`",
        "_kvsKey",
        "_kvsTypes",
        "_kvsWrite",
        "~~",
    ];
    // Keyed by `k`, so that `id` is an attribute like the others.
    let store = fresh_store(&kvs, StoreSchema::new("oddnames", KeyAttr::string("k"))).await;
    kvs.upsert(&store, item! { "k" => "x", "nested" => Item::new() })
        .await
        .unwrap();
    for name in names {
        for path in [Path::attr(name), Path::attr("nested").key(name)] {
            let key = "x";
            kvs.update(&store, key)
                .set(path.clone(), 1)
                .when(path.clone().not_exists())
                .await
                .unwrap_or_else(|e| panic!("SET {path}: {e}"));
            kvs.update(&store, key)
                .add(path.clone(), 2)
                .when(path.clone().eq(1))
                .await
                .unwrap_or_else(|e| panic!("ADD {path}: {e}"));
            let refused = kvs
                .update(&store, key)
                .set(path.clone(), 100)
                .when(path.clone().ne(3))
                .await;
            expect_kind(refused, ErrorKind::ConditionFailed);
            let page = kvs.scan(&store).filter(path.clone().eq(3)).await.unwrap();
            assert_eq!(page.items.len(), 1, "a filter on {path}");
            let got = kvs.get(&store, key).await.unwrap().expect("the item");
            let held = match path.segments() {
                [_] => got.get(name).cloned(),
                _ => got["nested"].as_map().and_then(|m| m.get(name)).cloned(),
            };
            assert_eq!(held, Some(Value::from(3)), "{path} in {got:?}");
            kvs.update(&store, key)
                .remove(path.clone())
                .when(path.clone().exists())
                .await
                .unwrap_or_else(|e| panic!("REMOVE {path}: {e}"));
        }
    }
    let left = kvs.get(&store, "x").await.unwrap().expect("the item");
    assert_eq!(left, item! { "k" => "x", "nested" => Item::new() });
}

/// An attribute named `a.b` is not the path `a` -> `b`, in filters and in updates.
pub async fn value_dotted_name_is_not_a_path(kvs: Kvs) {
    let store = things(&kvs).await;
    kvs.upsert(
        &store,
        item! { "id" => "x", "a.b" => 1, "a" => item! { "b" => 2 } },
    )
    .await
    .unwrap();
    let count = |c: crate::Condition| {
        let kvs = kvs.clone();
        let store = store.clone();
        async move { kvs.scan(&store).filter(c).await.unwrap().items.len() }
    };
    assert_eq!(count(Path::attr("a.b").eq(1)).await, 1);
    assert_eq!(count(Path::attr("a.b").eq(2)).await, 0);
    assert_eq!(count(Path::parse("a.b").unwrap().eq(2)).await, 1);
    assert_eq!(count(Path::parse("a.b").unwrap().eq(1)).await, 0);
    assert_eq!(count(Path::attr("a").key("b").eq(2)).await, 1);

    let new = kvs
        .update(&store, "x")
        .set(Path::attr("a.b"), 10)
        .await
        .unwrap();
    assert_eq!(
        new,
        item! { "id" => "x", "a.b" => 10, "a" => item! { "b" => 2 } }
    );
    let new = kvs
        .update(&store, "x")
        .set(Path::parse("a.b").unwrap(), 20)
        .await
        .unwrap();
    assert_eq!(
        new,
        item! { "id" => "x", "a.b" => 10, "a" => item! { "b" => 20 } }
    );
    let new = kvs
        .update(&store, "x")
        .remove(Path::attr("a.b"))
        .await
        .unwrap();
    assert_eq!(new, item! { "id" => "x", "a" => item! { "b" => 20 } });
    assert_eq!(kvs.get(&store, "x").await.unwrap(), Some(new));
}

/// An item over the declared item size (`MAX_ITEM_SIZE`, 400 KB, unless the backend
/// declares less) is `Validation`, and nothing is written.
pub async fn value_item_over_size_limit_rejected(kvs: Kvs) {
    let store = things(&kvs).await;
    let max_size = kvs.capabilities().max_item_size;
    let mut it = item! { "id" => "x", "data" => "" };
    let fixed = item_size(&it);
    it.set("data", "y".repeat(max_size + 1 - fixed));
    assert_eq!(item_size(&it), max_size + 1);
    expect_kind(kvs.upsert(&store, it).await, ErrorKind::Validation);
    let mut it = item! { "id" => "x" };
    it.set("bytes", Value::bytes(vec![7u8; max_size]));
    expect_kind(kvs.upsert(&store, it).await, ErrorKind::Validation);
    assert_eq!(kvs.get(&store, "x").await.unwrap(), None);
    assert!(all_items(&kvs, &store).await.is_empty());
}

/// An item of exactly the declared item size is written and reads back whole.
pub async fn value_item_at_size_limit_accepted(kvs: Kvs) {
    let store = things(&kvs).await;
    let max_size = kvs.capabilities().max_item_size;
    let mut it = item! { "id" => "x", "data" => "", "n" => 12345 };
    let fixed = item_size(&it);
    it.set("data", "y".repeat(max_size - fixed));
    assert_eq!(item_size(&it), max_size);
    kvs.upsert(&store, it.clone()).await.unwrap();
    assert_eq!(kvs.get(&store, "x").await.unwrap(), Some(it));
}

/// The item counts as the first of the declared depth's levels (`MAX_DEPTH`, 32, unless
/// the backend declares fewer): an attribute may hold one fewer nested maps and lists; deeper is `Validation` naming the attribute, and
/// nothing is written.
pub async fn value_nesting_too_deep_rejected(kvs: Kvs) {
    let store = things(&kvs).await;
    let max_depth = kvs.capabilities().max_depth;
    let ok = item! { "id" => "ok", "deep" => nested(max_depth - 1) };
    kvs.upsert(&store, ok.clone()).await.unwrap();
    assert_eq!(kvs.get(&store, "ok").await.unwrap(), Some(ok.clone()));

    let err = expect_kind(
        kvs.upsert(
            &store,
            item! { "id" => "bad", "deeper" => nested(max_depth) },
        )
        .await,
        ErrorKind::Validation,
    );
    assert_mentions(&err, "deeper");
    assert_eq!(kvs.get(&store, "bad").await.unwrap(), None);
    expect_kind(
        kvs.update(&store, "ok")
            .set("other", nested(max_depth))
            .await,
        ErrorKind::Validation,
    );
    // The depth counts from the top of the item, also for a value set at a nested path.
    kvs.upsert(&store, item! { "id" => "wrap", "wrap" => item! {} })
        .await
        .unwrap();
    expect_kind(
        kvs.update(&store, "wrap")
            .set(Path::attr("wrap").key("inner"), nested(max_depth - 1))
            .await,
        ErrorKind::Validation,
    );
    kvs.update(&store, "wrap")
        .set(Path::attr("wrap").key("inner"), nested(max_depth - 2))
        .await
        .unwrap();
    assert_eq!(kvs.get(&store, "ok").await.unwrap(), Some(ok));
    // An appended or prepended element lands one level below its list.
    let list = item! { "id" => "list", "list" => vec![Value::from(1)] };
    kvs.upsert(&store, list.clone()).await.unwrap();
    let too_deep = || Value::List(vec![nested(max_depth - 1)]);
    let err = expect_kind(
        kvs.update(&store, "list").append("list", too_deep()).await,
        ErrorKind::Validation,
    );
    assert_mentions(&err, "list");
    expect_kind(
        kvs.update(&store, "list").prepend("list", too_deep()).await,
        ErrorKind::Validation,
    );
    assert_eq!(kvs.get(&store, "list").await.unwrap(), Some(list));
    let deepest = nested(max_depth - 2);
    let got = kvs
        .update(&store, "list")
        .append("list", Value::List(vec![deepest.clone()]))
        .await
        .unwrap();
    assert_eq!(
        got.get("list"),
        Some(&Value::List(vec![Value::from(1), deepest]))
    );
}

/// An empty attribute name (top-level or a map key) is `Validation`; nothing is written.
pub async fn value_empty_attribute_name_rejected(kvs: Kvs) {
    let store = things(&kvs).await;
    expect_kind(
        kvs.upsert(&store, item! { "id" => "x", "" => 1 }).await,
        ErrorKind::Validation,
    );
    expect_kind(
        kvs.upsert(&store, item! { "id" => "x", "m" => item! { "" => 1 } })
            .await,
        ErrorKind::Validation,
    );
    assert!(all_items(&kvs, &store).await.is_empty());
}

/// Values keep their types: "1", 1 and bytes "1" differ, as do "true" and `true`, [] and {}.
pub async fn value_types_preserved(kvs: Kvs) {
    let store = things(&kvs).await;
    let it = item! {
        "id" => "x",
        "s" => "1",
        "n" => 1,
        "b" => Value::bytes(*b"1"),
        "st" => "true",
        "t" => true,
        "l" => Value::List(vec![]),
        "m" => Value::Map(BTreeMap::new()),
        "z" => Value::Null,
        "es" => "",
        "eb" => Value::bytes(Vec::new()),
    };
    kvs.upsert(&store, it).await.unwrap();
    let got = kvs.get(&store, "x").await.unwrap().unwrap();
    let types: Vec<(&str, ValueType)> = got
        .iter()
        .map(|(k, v)| (k.as_str(), v.value_type()))
        .collect();
    assert_eq!(
        types,
        [
            ("b", ValueType::Bytes),
            ("eb", ValueType::Bytes),
            ("es", ValueType::String),
            ("id", ValueType::String),
            ("l", ValueType::List),
            ("m", ValueType::Map),
            ("n", ValueType::Number),
            ("s", ValueType::String),
            ("st", ValueType::String),
            ("t", ValueType::Bool),
            ("z", ValueType::Null),
        ]
    );
    for (path, value) in [
        ("s", Value::from(1)),
        ("n", Value::from("1")),
        ("t", "true".into()),
    ] {
        let page = kvs
            .scan(&store)
            .filter(Path::attr(path).eq(value))
            .await
            .unwrap();
        assert!(page.items.is_empty(), "{path} matched another type");
    }
}

/// An upsert replaces the whole item: attributes it does not carry are gone.
pub async fn value_upsert_replaces_whole_item(kvs: Kvs) {
    let store = things(&kvs).await;
    kvs.upsert(&store, item! { "id" => "x", "a" => 1, "b" => 2 })
        .await
        .unwrap();
    kvs.upsert(&store, item! { "id" => "x", "c" => 3 })
        .await
        .unwrap();
    assert_eq!(
        kvs.get(&store, "x").await.unwrap(),
        Some(item! { "id" => "x", "c" => 3 })
    );
}

/// An empty set inside a list is `Validation` (in a map it is a missing attribute; a
/// list has no attribute to leave out), and nothing is written.
pub async fn value_empty_set_in_list_rejected(kvs: Kvs) {
    let store = things(&kvs).await;
    let bad = item! { "id" => "e", "l" => Value::list([Value::string_set(Vec::<String>::new())]) };
    expect_kind(kvs.upsert(&store, bad).await, ErrorKind::Validation);
    assert_eq!(kvs.get(&store, "e").await.unwrap(), None);
}

/// delete returns the whole old item, and `None` for a missing one.
pub async fn value_delete_returns_old_item(kvs: Kvs) {
    let store = things(&kvs).await;
    let it =
        item! { "id" => "d", "n" => 1.5, "l" => Value::list(["x"]), "m" => item! { "k" => true } };
    kvs.upsert(&store, it.clone()).await.unwrap();
    assert_eq!(kvs.delete(&store, "d").await.unwrap(), Some(it));
    assert_eq!(kvs.delete(&store, "d").await.unwrap(), None);
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases_values {
    ($cb:path, $make:tt) => {
        $cb!($make, values::value_empty_set_in_list_rejected);
        $cb!($make, values::value_delete_returns_old_item);
        $cb!($make, values::value_null_and_bool_round_trip);
        $cb!($make, values::value_integers_round_trip);
        $cb!($make, values::value_floats_round_trip);
        $cb!($make, values::value_integer_and_float_kept_apart);
        $cb!($make, values::value_strings_round_trip);
        $cb!($make, values::value_bytes_round_trip);
        $cb!($make, values::value_nested_round_trip);
        $cb!($make, values::value_sets_round_trip);
        $cb!($make, values::value_set_duplicates_folded);
        $cb!($make, values::value_empty_set_is_missing);
        $cb!($make, values::value_null_is_not_missing);
        $cb!($make, values::value_non_finite_rejected);
        $cb!($make, values::value_non_finite_nested_rejected);
        $cb!($make, values::value_odd_attribute_names_round_trip);
        $cb!(
            $make,
            values::value_odd_attribute_names_in_updates_and_conditions
        );
        $cb!($make, values::value_dotted_name_is_not_a_path);
        $cb!($make, values::value_item_over_size_limit_rejected);
        $cb!($make, values::value_item_at_size_limit_accepted);
        $cb!($make, values::value_nesting_too_deep_rejected);
        $cb!($make, values::value_empty_attribute_name_rejected);
        $cb!($make, values::value_types_preserved);
        $cb!($make, values::value_upsert_replaces_whole_item);
    };
}
