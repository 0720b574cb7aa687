//! Conformance case: random condition trees mean on the backend what the shared evaluator
//! (`kvs::eval::matches`, `eval::decide`) says they mean, as filters of queries and scans
//! and as conditions of puts, updates and deletes.
//!
//! The items have attributes that are missing, null, or of any type (nested maps, lists,
//! sets), different from item to item; the conditions use every operator on top-level
//! attributes, map entries and list positions, nested in `and`, `or` and `not` at random
//! depth. The values of items and conditions come from small pools, so that conditions
//! are often true and often false.

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use super::random::{Random, check_random};
use crate::backend::PlannedOp;
use crate::eval::{self, WriteEffect};
use crate::expr::CompareOp;
use crate::{
    Condition, Item, Key, KeyAttr, Kvs, Path, PutMode, StoreSchema, Value, ValueType, attr,
};

// --- Values ----------------------------------------------------------------------------

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        (-1i64..=2).prop_map(Value::from),
        prop_oneof![Just(1.5), Just(-0.5), Just(2.0)].prop_map(Value::from),
    ]
}

fn string() -> impl Strategy<Value = Value> {
    prop_oneof![Just(""), Just("a"), Just("ab"), Just("b"), Just("ba")].prop_map(Value::from)
}

fn bytes() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(vec![]),
        Just(vec![0u8]),
        Just(vec![0u8, 1]),
        Just(vec![1u8])
    ]
    .prop_map(Value::bytes)
}

fn set() -> impl Strategy<Value = Value> {
    prop_oneof![
        proptest::sample::subsequence(vec!["a", "b"], 1..=2).prop_map(Value::string_set),
        proptest::sample::subsequence(vec![1.0, 2.0, 1.5], 1..=2).prop_map(Value::number_set),
        proptest::sample::subsequence(vec![vec![0u8], vec![1u8]], 1..=2).prop_map(Value::bytes_set),
    ]
}

/// A value of one of the types conditions compare with: null, bool, number, string,
/// bytes.
fn scalar() -> BoxedStrategy<Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        3 => number(),
        3 => string(),
        2 => bytes(),
    ]
    .boxed()
}

/// A value conditions compare with: any [`scalar`], or none of them null where the
/// backend's server finds `p = null` true of a missing `p`
/// ([`Random::without_null_operands`]).
fn operand(random: Random) -> BoxedStrategy<Value> {
    if random.has_null_operands() {
        scalar()
    } else {
        scalar()
            .prop_filter("not null", |v| *v != Value::Null)
            .boxed()
    }
}

/// Map keys: those the paths below name, so that nested paths find something.
fn map_key() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("a"), Just("b"), Just("c")]
}

/// A value of any type, lists and maps nested up to two deep.
fn value() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![4 => scalar(), 1 => set()];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::List),
            proptest::collection::btree_map(map_key().prop_map(String::from), inner, 0..3)
                .prop_map(Value::Map),
        ]
    })
    .boxed()
}

// --- Items -----------------------------------------------------------------------------

/// The partition every generated item is in; some keys written by conditional puts are
/// in another, `q`, so that a query of `p` must leave them out.
const PARTITION: &str = "p";

fn schema() -> StoreSchema {
    StoreSchema::new("random_conditions", KeyAttr::string("pk")).sort_key(KeyAttr::number("sk"))
}

fn key_of(sk: i64) -> Key {
    let partition = if sk % 3 == 2 { "q" } else { PARTITION };
    Key::with_sort(partition, sk)
}

/// The attributes of an item besides its key: `a`, `b` of any type, `m` mostly a map,
/// `l` mostly a list, and `n` and `t` that are a number or a string when present (for
/// comparisons of one type, see [`Random::same_type_comparisons_only`]). Each may be
/// missing.
fn attributes() -> BoxedStrategy<BTreeMap<String, Value>> {
    let map = prop_oneof![
        4 => proptest::collection::btree_map(map_key().prop_map(String::from), value(), 0..4)
            .prop_map(Value::Map),
        1 => value(),
    ];
    let list = prop_oneof![
        4 => proptest::collection::vec(value(), 0..4).prop_map(Value::List),
        1 => value(),
    ];
    (
        proptest::option::of(value()),
        proptest::option::of(value()),
        proptest::option::of(map),
        proptest::option::of(list),
        proptest::option::of(number()),
        proptest::option::of(string()),
    )
        .prop_map(|(a, b, m, l, n, t)| {
            [("a", a), ("b", b), ("m", m), ("l", l), ("n", n), ("t", t)]
                .into_iter()
                .filter_map(|(name, v)| v.map(|v| (name.to_owned(), v)))
                .collect()
        })
        .boxed()
}

fn item(sk: i64, attributes: &BTreeMap<String, Value>) -> Item {
    let (partition, sort) = key_of(sk).into_parts();
    let mut it = Item::new();
    it.set("pk", partition);
    it.set("sk", sort.expect("a sort key"));
    for (name, value) in attributes {
        it.set(name.as_str(), value.clone());
    }
    it
}

// --- Conditions ------------------------------------------------------------------------

/// Paths into every part of the items: top-level attributes, map entries, list
/// positions, paths through both, and an attribute no item has.
fn path() -> impl Strategy<Value = Path> {
    prop_oneof![
        3 => prop_oneof![Just("a"), Just("b"), Just("m"), Just("l"), Just("n"), Just("t")]
            .prop_map(attr),
        2 => map_key().prop_map(|k| attr("m").key(k)),
        2 => (0usize..3).prop_map(|i| attr("l").index(i)),
        1 => prop_oneof![
            Just(attr("m").key("a").index(0)),
            Just(attr("m").key("b").key("a")),
            Just(attr("l").index(0).key("a")),
            Just(attr("a").index(1)),
            Just(attr("a").key("c")),
            Just(attr("z")),
        ],
    ]
}

fn ordered_op() -> impl Strategy<Value = CompareOp> {
    prop_oneof![
        Just(CompareOp::Lt),
        Just(CompareOp::Le),
        Just(CompareOp::Gt),
        Just(CompareOp::Ge),
    ]
}

/// Two values of one ordered type, low first: the bounds of a valid `between`.
fn bounds(of: BoxedStrategy<Value>) -> impl Strategy<Value = (Value, Value)> {
    (of.clone(), of).prop_map(|(x, y)| match x.partial_compare(&y) {
        Some(std::cmp::Ordering::Greater) => (y, x),
        _ => (x, y),
    })
}

fn ordered_scalar() -> BoxedStrategy<Value> {
    prop_oneof![number(), string(), bytes()].boxed()
}

/// `<`, `<=`, `>`, `>=` and `between`: on any path with any value, or, where the
/// backend's server compares only values of one type ([`Random::same_type_comparisons_only`]),
/// on `n` with numbers and `t` with strings.
fn ordered_comparison(random: Random) -> BoxedStrategy<Condition> {
    if random.compares_same_types_only() {
        let typed = prop_oneof![Just(("n", number().boxed())), Just(("t", string().boxed())),];
        return typed
            .prop_flat_map(|(name, values)| {
                prop_oneof![
                    (ordered_op(), values.clone()).prop_map(move |(op, value)| {
                        Condition::Compare {
                            path: attr(name),
                            op,
                            value,
                        }
                    }),
                    bounds(values).prop_map(move |(low, high)| Condition::Between {
                        path: attr(name),
                        low,
                        high,
                    }),
                ]
            })
            .boxed();
    }
    prop_oneof![
        (path(), ordered_op(), operand(random)).prop_map(|(path, op, value)| Condition::Compare {
            path,
            op,
            value
        }),
        (
            path(),
            ordered_scalar().prop_flat_map(|v| {
                // Bounds of the type of one value drawn.
                let same = match v {
                    Value::Number(_) => number().boxed(),
                    Value::String(_) => string().boxed(),
                    _ => bytes().boxed(),
                };
                bounds(same)
            })
        )
            .prop_map(|(path, (low, high))| Condition::Between { path, low, high }),
    ]
    .boxed()
}

fn value_type() -> impl Strategy<Value = ValueType> {
    proptest::sample::select(vec![
        ValueType::Null,
        ValueType::Bool,
        ValueType::Number,
        ValueType::String,
        ValueType::Bytes,
        ValueType::List,
        ValueType::Map,
        ValueType::StringSet,
        ValueType::NumberSet,
        ValueType::BytesSet,
    ])
}

/// One condition without `and`, `or`, `not`: every other operator.
fn leaf(random: Random) -> BoxedStrategy<Condition> {
    let equality = prop_oneof![Just(CompareOp::Eq), Just(CompareOp::Ne)];
    prop_oneof![
        3 => (path(), equality, prop_oneof![4 => operand(random), 1 => value()])
            .prop_map(|(path, op, value)| Condition::Compare { path, op, value }),
        3 => ordered_comparison(random),
        2 => (path(), proptest::collection::vec(operand(random), 0..4))
            .prop_map(|(path, values)| Condition::In { path, values }),
        2 => (path(), prop_oneof![string(), bytes()])
            .prop_map(|(path, prefix)| Condition::BeginsWith { path, prefix }),
        2 => (path(), operand(random)).prop_map(|(path, value)| Condition::Contains { path, value }),
        2 => (path(), operand(random))
            .prop_map(|(path, value)| Condition::NotContains { path, value }),
        1 => path().prop_map(Condition::Exists),
        1 => path().prop_map(Condition::NotExists),
        1 => (path(), value_type()).prop_map(|(path, ty)| Condition::TypeOf { path, ty }),
    ]
    .boxed()
}

/// A condition tree: leaves nested in `and`, `or` and `not` up to four deep.
fn condition(random: Random) -> BoxedStrategy<Condition> {
    leaf(random)
        .prop_recursive(4, 16, 3, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 2..4).prop_map(Condition::And),
                proptest::collection::vec(inner.clone(), 2..4).prop_map(Condition::Or),
                inner.prop_map(|c| Condition::Not(Box::new(c))),
            ]
        })
        .boxed()
}

// --- The input -------------------------------------------------------------------------

/// A conditional write of one check.
#[derive(Debug, Clone, Copy)]
enum Write {
    Put,
    Update,
    Delete,
}

/// One condition, used as the filter of a scan and of a query, then as the condition of
/// a write of the item with sort key `target` (which may not exist).
#[derive(Debug, Clone)]
struct Check {
    condition: Condition,
    target: i64,
    write: Write,
}

#[derive(Debug, Clone)]
struct Input {
    /// The attributes of the items, whose sort keys are their positions.
    items: Vec<BTreeMap<String, Value>>,
    checks: Vec<Check>,
}

const MOST_ITEMS: usize = 6;

fn input(random: Random) -> impl Strategy<Value = Input> {
    let write = prop_oneof![Just(Write::Put), Just(Write::Update), Just(Write::Delete)];
    let check = (
        condition(random),
        // Past the items now and then: a write of a missing item.
        0..(MOST_ITEMS as i64 + 2),
        write,
    )
        .prop_map(|(condition, target, write)| Check {
            condition,
            target,
            write,
        });
    (
        proptest::collection::vec(attributes(), 1..=MOST_ITEMS),
        proptest::collection::vec(check, 1..6),
    )
        .prop_map(|(items, checks)| Input { items, checks })
}

// --- The check -------------------------------------------------------------------------

/// The items of `found` by sort key, for messages and comparisons.
fn by_sort_key(found: &[Item]) -> Vec<i64> {
    found
        .iter()
        .map(|it| {
            it["sk"]
                .as_number()
                .and_then(|n| n.as_i64())
                .unwrap_or(i64::MIN)
        })
        .collect()
}

async fn check(kvs: &Kvs, input: Input) -> Result<(), TestCaseError> {
    let schema = schema();
    let store = super::fresh_store(kvs, schema.clone()).await;
    // The items as the evaluator sees them, by sort key.
    let mut model: BTreeMap<i64, Item> = BTreeMap::new();
    let items: Vec<Item> = (0i64..)
        .zip(&input.items)
        .map(|(sk, attributes)| item(sk, attributes))
        .collect();
    kvs.upsert_many(&store, items.clone())
        .await
        .map_err(|e| TestCaseError::fail(format!("upsert_many: {e}")))?;
    for it in items {
        let sk = it["sk"].as_number().and_then(|n| n.as_i64()).unwrap();
        model.insert(sk, it);
    }

    for (n, check) in input.checks.iter().enumerate() {
        let c = &check.condition;
        let expected: Vec<Item> = model
            .values()
            .filter(|it| eval::matches(c, Some(it)))
            .cloned()
            .collect();

        // As a scan's filter, in pages of two (a filter counts after it is applied).
        let mut scanned = Vec::new();
        let mut token = None;
        loop {
            let page = kvs
                .scan(&store)
                .filter(c.clone())
                .limit(2)
                .page_token(token.take())
                .await
                .map_err(|e| TestCaseError::fail(format!("check {n}: scan: {e}")))?;
            scanned.extend(page.items);
            match page.next_page_token {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        scanned.sort_by_key(|it| by_sort_key(std::slice::from_ref(it)));
        prop_assert_eq!(
            by_sort_key(&scanned),
            by_sort_key(&expected),
            "check {}: a scan filtered by {:?}",
            n,
            c
        );
        prop_assert_eq!(&scanned, &expected, "check {}: the items scanned", n);

        // As a query's filter, in one partition: in sort key order.
        let queried = kvs
            .query(&store, PARTITION)
            .filter(c.clone())
            .consistent()
            .await
            .map_err(|e| TestCaseError::fail(format!("check {n}: query: {e}")))?
            .items;
        let in_partition: Vec<Item> = expected
            .iter()
            .filter(|it| it["pk"] == Value::from(PARTITION))
            .cloned()
            .collect();
        prop_assert_eq!(
            by_sort_key(&queried),
            by_sort_key(&in_partition),
            "check {}: a query filtered by {:?}",
            n,
            c
        );

        // As a write's condition: it succeeds exactly where the evaluator decides so, and
        // does what it decides.
        let key = key_of(check.target);
        let current = model.get(&check.target);
        let stamp = Value::from(n as i64);
        let put = match current {
            Some(it) => {
                let mut it = it.clone();
                it.set("w", stamp.clone());
                it
            }
            None => item(
                check.target,
                &BTreeMap::from([("w".to_owned(), stamp.clone())]),
            ),
        };
        let ops = [crate::UpdateOp::Set {
            path: attr("w"),
            value: stamp.clone(),
        }];
        let planned = match check.write {
            Write::Put => PlannedOp::Put {
                item: &put,
                mode: PutMode::Upsert,
            },
            Write::Update => PlannedOp::Update { ops: &ops },
            Write::Delete => PlannedOp::Delete,
        };
        let decided = eval::decide(&schema, &key, &planned, Some(c), current)
            .map(|effect| match effect {
                WriteEffect::Put(new) => Some(new.into_owned()),
                WriteEffect::Delete | WriteEffect::Nothing => None,
            })
            .map_err(|e| *e.kind());
        let got = match check.write {
            Write::Put => kvs
                .upsert(&store, put.clone())
                .when(c.clone())
                .await
                .map(|()| Some(put.clone())),
            Write::Update => kvs
                .update(&store, key.clone())
                .ops(ops.to_vec())
                .when(c.clone())
                .await
                .map(Some),
            Write::Delete => {
                let old = kvs.delete(&store, key.clone()).when(c.clone()).await;
                let expected_old = current.cloned();
                if let Ok(old) = &old {
                    prop_assert_eq!(
                        old,
                        &expected_old,
                        "check {}: delete returns the old item",
                        n
                    );
                }
                old.map(|_| None)
            }
        }
        .map_err(|e| *e.kind());
        prop_assert_eq!(
            &got,
            &decided,
            "check {}: {:?} of item {} (now {:?}) with condition {:?}",
            n,
            check.write,
            check.target,
            current,
            c
        );
        match decided {
            Ok(Some(new)) => {
                model.insert(check.target, new);
            }
            Ok(None) => {
                model.remove(&check.target);
            }
            Err(_) => {}
        }
    }

    // Writes that failed changed nothing, and those that succeeded did what they said.
    let all = kvs
        .scan(&store)
        .await
        .map_err(|e| TestCaseError::fail(format!("the final scan: {e}")))?;
    let mut all = all.items;
    all.sort_by_key(|it| by_sort_key(std::slice::from_ref(it)));
    let expected: Vec<Item> = model.into_values().collect();
    prop_assert_eq!(all, expected, "the final state");
    Ok(())
}

/// Random condition trees (every operator: `=`, `!=`, `<`, `<=`, `>`, `>=`, `between`,
/// `in`, `begins_with`, `contains`, `not_contains`, `exists`, `not_exists`, `type_of`,
/// nested in `and`, `or` and `not` at random depth) over random items whose attributes
/// are missing, null or of mixed types (nested maps, lists, sets): a scan and a query
/// filtered by each return exactly the items the shared evaluator says match, and a put,
/// update or delete with it as its condition succeeds, fails or changes the item exactly
/// as the evaluator decides. Each input runs in a fresh store; `random` says how many.
pub async fn random_conditions_match_the_evaluator(kvs: Kvs, random: Random) {
    check_random(
        "random_conditions_match_the_evaluator",
        random,
        input(random),
        |input| {
            let kvs = kvs.clone();
            async move { check(&kvs, input).await }
        },
    )
    .await;
}
