//! Conformance case: random operation sequences against the backend and against a
//! reference model (a `BTreeMap` and the shared evaluator) give the same answers, the
//! same errors and the same final state, and no panics. Covers storage, every write
//! operation, batches, transactions, index maintenance, sort order and paging.
//!
//! The model orders keys by the rule SEMANTICS.md states (numbers numerically with
//! `1 == 1.0`, strings by their UTF-8 bytes), written out here rather than taken from the
//! backend's key encoding, so an ordering bug in that encoding shows as a difference. It
//! uses the shared evaluator (`kvs::eval`) for conditions and update ops, and the
//! schema's own checks for what makes a key or an item valid.
//!
//! The numbers it writes are within every backend's float range; i64 extremes and
//! `2^53 + 1` are among them, which a backend that keeps only doubles (Cosmos DB)
//! declares it cannot store (`integer_range`): the model checks keys, items and update
//! operands against the backend's declaration where the library does, before anything is
//! sent, and expects `Validation` for them there.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use crate::backend::{Capabilities, PlannedOp, TransactionScope};
use crate::eval::{self, WriteEffect};
use crate::{
    Condition, ErrorKind, IndexSchema, Item, Key, KeyAttr, KeyType, Kvs, Number, Page, PageToken,
    PutMode, SortCondition, StoreSchema, TransactWrite, UpdateOp, Updates, Value, ValueType, attr,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use super::random::{Random, check_random};

/// Two indexes on one partition attribute: `byG` sorts by a number, `byS` by a string.
/// Each input gets a store of its own, under a fresh name from this one.
fn schema() -> StoreSchema {
    StoreSchema::new("model", KeyAttr::string("pk"))
        .sort_key(KeyAttr::number("sk"))
        .index(IndexSchema::new("byG", KeyAttr::string("g")).sort_key(KeyAttr::number("n")))
        .index(IndexSchema::new("byS", KeyAttr::string("g")).sort_key(KeyAttr::string("s")))
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum IndexName {
    ByG,
    ByS,
}

impl IndexName {
    fn name(self) -> &'static str {
        match self {
            IndexName::ByG => "byG",
            IndexName::ByS => "byS",
        }
    }

    fn sort_attribute(self) -> &'static str {
        match self {
            IndexName::ByG => "n",
            IndexName::ByS => "s",
        }
    }
}

/// One write of a transaction.
#[derive(Debug, Clone)]
enum TxWrite {
    Put {
        item: Item,
        insert: bool,
        condition: Option<Condition>,
    },
    Update {
        key: Key,
        ops: Vec<UpdateOp>,
        condition: Option<Condition>,
    },
    Delete {
        key: Key,
        condition: Option<Condition>,
    },
    Check {
        key: Key,
        condition: Condition,
    },
}

#[derive(Debug, Clone)]
enum Op {
    Put {
        item: Item,
        insert: bool,
        condition: Option<Condition>,
    },
    Update {
        key: Key,
        ops: Vec<UpdateOp>,
        condition: Option<Condition>,
    },
    Delete {
        key: Key,
        condition: Option<Condition>,
    },
    Get {
        key: Key,
    },
    GetMany {
        keys: Vec<Key>,
    },
    UpsertMany {
        items: Vec<Item>,
    },
    DeleteMany {
        keys: Vec<Key>,
    },
    Transact {
        writes: Vec<TxWrite>,
    },
    Query {
        index: Option<IndexName>,
        partition: Value,
        sort: Option<SortCondition>,
        filter: Option<Condition>,
        /// The limits of the pages, in turn (a token is not bound to a limit).
        limits: Vec<usize>,
        descending: bool,
        consistent: bool,
    },
    Scan {
        filter: Option<Condition>,
        limits: Vec<usize>,
    },
    /// The count of a query or scan (whose limits are not used).
    Count(Box<Op>),
}

// --- Generators -------------------------------------------------------------------

/// Partition values: mostly two, so that operations meet; odd strings whose order by
/// UTF-8 bytes differs from other orders (U+FFFF sorts before U+1D11E in UTF-8, after it
/// in UTF-16; "a" before "a\0"); rarely the empty string, which is not a key.
fn pk() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => Just("a"),
        6 => Just("b"),
        3 => prop_oneof![Just("a\0"), Just("é"), Just("\u{FFFF}"), Just("𝄞"), Just("ab")],
        1 => Just(""),
    ]
    .prop_map(String::from)
}

/// Numbers: mostly a few small ones, so that keys meet (with `1.0` and `-0.0`, equal to
/// `1` and `0`), and the edges of the number order: i64 extremes, floats beyond them,
/// integers a float cannot hold, tiny and huge magnitudes.
fn number() -> BoxedStrategy<Value> {
    prop_oneof![
        8 => (-3i64..=3).prop_map(Value::from),
        3 => prop_oneof![Just(0.5), Just(1.0), Just(-0.0), Just(-1.5), Just(2.5), Just(3.0)]
            .prop_map(Value::from),
        1 => prop_oneof![
            Just(Value::from(i64::MIN)),
            Just(Value::from(i64::MAX)),
            Just(Value::from(i64::MAX - 1)),
            // 2^63 and -2^63: just past i64::MAX, and equal to i64::MIN.
            Just(Value::from(9_223_372_036_854_775_808.0)),
            Just(Value::from(-9_223_372_036_854_775_808.0)),
            // 2^53 + 1, which no f64 holds, and 2^53 as a float.
            Just(Value::from(9_007_199_254_740_993_i64)),
            Just(Value::from(9_007_199_254_740_992.0)),
            Just(Value::from(1e20)),
            // Tiny, but inside every backend's float range (DynamoDB's is 1e-130..1e126).
            Just(Value::from(-1e-100)),
            Just(Value::from(0.1)),
        ],
    ]
    .boxed()
}

/// Keys: mostly one of a few, so that writes, reads and queries meet the same items.
fn key() -> BoxedStrategy<Key> {
    let hot = (
        prop_oneof![2 => Just("a"), 1 => Just("b")],
        prop_oneof![
            4 => (-1i64..=1).prop_map(Value::from),
            1 => Just(Value::from(0.5)),
            1 => Just(Value::from(1.0))
        ],
    )
        .prop_map(|(p, s)| Key::with_sort(p, s));
    let any = (pk(), number()).prop_map(|(p, s)| Key::with_sort(p, s));
    prop_oneof![7 => hot, 3 => any].boxed()
}

/// Values of the `byS` sort key, in an order by UTF-8 bytes unlike others.
fn sort_string() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("a"),
        Just("ab"),
        Just("abc"),
        Just("a\0"),
        Just("b"),
        Just("é"),
        Just("\u{FFFF}"),
        Just("𝄞"),
    ]
}

fn partition_g() -> impl Strategy<Value = Value> {
    prop_oneof![8 => prop_oneof![Just("x"), Just("y")], 1 => Just("z")].prop_map(Value::from)
}

/// Small values of every shape, for SET.
fn small_value() -> BoxedStrategy<Value> {
    prop_oneof![
        (-2i64..3).prop_map(Value::from),
        Just(Value::from(2.5)),
        prop_oneof![Just("s"), Just("t"), Just("a")].prop_map(Value::from),
        Just(Value::list([Value::from(1), Value::from("s")])),
        Just(Value::from(crate::item! { "a" => 1 })),
        Just(Value::string_set(["a"])),
        Just(Value::number_set([1])),
        Just(Value::Null),
        Just(Value::Bool(true)),
    ]
    .boxed()
}

fn list_element() -> impl Strategy<Value = Value> {
    prop_oneof![
        (0i64..3).prop_map(Value::from),
        Just(Value::from(1.0)),
        Just(Value::from("s")),
    ]
}

fn string_set() -> impl Strategy<Value = Value> {
    proptest::sample::subsequence(vec!["a", "b", "c"], 0..=3).prop_map(Value::string_set)
}

fn number_set() -> impl Strategy<Value = Value> {
    proptest::sample::subsequence(vec![1.0, 2.0, 2.5], 0..=3).prop_map(Value::number_set)
}

fn map_value() -> BoxedStrategy<Value> {
    (
        proptest::option::of(-2i64..3),
        proptest::option::of(proptest::collection::vec(list_element(), 0..3)),
        any::<bool>(),
    )
        .prop_map(|(a, b, c)| {
            let mut m = Item::new();
            if let Some(a) = a {
                m.set("a", a);
            }
            if let Some(b) = b {
                m.set("b", Value::List(b));
            }
            if c {
                m.set("c", crate::item! { "d" => "s" });
            }
            Value::from(m)
        })
        .boxed()
}

fn item() -> BoxedStrategy<Item> {
    // Rarely an index key of the wrong type, or empty: `Validation`.
    let g = prop_oneof![18 => prop_oneof![Just("x"), Just("y")].prop_map(Value::from),
                        1 => Just(Value::from("")), 1 => Just(Value::from(1))];
    let n = prop_oneof![19 => number(), 1 => Just(Value::from("1"))];
    let s = prop_oneof![19 => sort_string().prop_map(Value::from), 1 => Just(Value::from(""))];
    (
        (key(), -5i64..5),
        (
            proptest::option::of(g),
            proptest::option::of(n),
            proptest::option::of(s),
        ),
        (
            proptest::option::of(proptest::collection::vec(list_element(), 0..3)),
            proptest::option::of(string_set()),
            proptest::option::of(number_set()),
            proptest::option::of(map_value()),
            proptest::option::of(prop_oneof![
                Just(Value::from("s")),
                Just(Value::list([1, 2]))
            ]),
        ),
    )
        .prop_map(|((key, v), (g, n, s), (l, ss, ns, m, extra))| {
            let (p, sk) = key.into_parts();
            let mut it = crate::item! { "pk" => p, "sk" => sk.unwrap(), "v" => v };
            let optional = [
                ("g", g),
                ("n", n),
                ("s", s),
                ("l", l.map(Value::List)),
                ("ss", ss),
                ("ns", ns),
                ("m", m),
                ("extra", extra),
            ];
            for (name, value) in optional {
                if let Some(value) = value {
                    it.set(name, value);
                }
            }
            it
        })
        .boxed()
}

/// Conditions over every kind of attribute, nested paths and list positions included,
/// some true and some false of most items.
fn condition() -> impl Strategy<Value = Condition> {
    let leaf = prop_oneof![
        (-5i64..5).prop_map(|k| attr("v").gt(k)),
        (-5i64..5).prop_map(|k| attr("v").le(k)),
        Just(attr("v").ne(0)),
        Just(attr("g").exists()),
        Just(attr("g").not_exists()),
        Just(attr("pk").exists()),
        Just(attr("pk").not_exists()),
        Just(attr("g").is_in(["x", "z"])),
        Just(attr("n").between(-1, 1)),
        Just(attr("s").begins_with("a")),
        Just(attr("l").index(0).eq(1)),
        Just(attr("l").contains("s")),
        Just(attr("ss").contains("a")),
        Just(attr("ns").not_contains(2)),
        (0i64..3).prop_map(|k| attr("m").key("a").ge(k)),
        Just(attr("m").key("b").index(0).exists()),
        Just(attr("m").key("c").key("d").eq("s")),
        Just(attr("extra").type_of(ValueType::List)),
    ];
    leaf.prop_recursive(2, 6, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| a.and(b)),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| a.or(b)),
            inner.prop_map(|c| !c),
        ]
    })
}

fn path() -> impl Strategy<Value = crate::Path> {
    prop_oneof![
        Just(attr("v")),
        Just(attr("g")),
        Just(attr("n")),
        Just(attr("s")),
        Just(attr("l")),
        Just(attr("l").index(0)),
        Just(attr("l").index(1)),
        Just(attr("l").index(5)),
        Just(attr("ss")),
        Just(attr("ns")),
        Just(attr("m")),
        Just(attr("m").key("a")),
        Just(attr("m").key("b")),
        Just(attr("m").key("b").index(0)),
        Just(attr("m").key("c").key("d")),
        Just(attr("m").key("new")),
        // Its parent never exists.
        Just(attr("q").key("r")),
        Just(attr("extra")),
    ]
}

fn list_path() -> impl Strategy<Value = crate::Path> {
    prop_oneof![
        Just(attr("l")),
        Just(attr("m").key("b")),
        Just(attr("extra")),
        Just(attr("m").key("new")),
    ]
}

fn update_op() -> BoxedStrategy<UpdateOp> {
    let elements = || proptest::collection::vec(list_element(), 1..3);
    prop_oneof![
        3 => (path(), small_value()).prop_map(|(path, value)| UpdateOp::Set { path, value }),
        2 => path().prop_map(|path| UpdateOp::Remove { path }),
        2 => (
            prop_oneof![
                Just(attr("v")),
                Just(attr("n")),
                Just(attr("m").key("a")),
                Just(attr("l").index(0))
            ],
            prop_oneof![(-2i64..3).prop_map(Value::from), Just(Value::from(i64::MAX))]
        )
            .prop_map(|(path, value)| UpdateOp::Add { path, value }),
        2 => (
            prop_oneof![Just(attr("ss")), Just(attr("ns")), Just(attr("m").key("new"))],
            prop_oneof![string_set(), number_set()]
        )
            .prop_map(|(path, value)| UpdateOp::Add { path, value }),
        2 => (list_path(), elements()).prop_map(|(path, values)| UpdateOp::Append { path, values }),
        2 => (list_path(), elements()).prop_map(|(path, values)| UpdateOp::Prepend { path, values }),
        2 => (
            prop_oneof![Just(attr("ss")), Just(attr("ns")), Just(attr("l")), Just(attr("m").key("b"))],
            proptest::collection::vec(
                prop_oneof![
                    Just(Value::from("a")),
                    Just(Value::from("b")),
                    Just(Value::from(1)),
                    Just(Value::from(2.5)),
                    Just(Value::from("s"))
                ],
                1..3
            )
        )
            .prop_map(|(path, values)| UpdateOp::Delete { path, values }),
        // Wrong types, and a key attribute: `Validation`.
        1 => (path(), small_value()).prop_map(|(path, value)| UpdateOp::Add { path, value }),
        1 => (path(), elements()).prop_map(|(path, values)| UpdateOp::Append { path, values }),
        1 => Just(UpdateOp::Set { path: attr("pk"), value: "zz".into() }),
    ]
    .boxed()
}

fn update_ops() -> impl Strategy<Value = Vec<UpdateOp>> {
    proptest::collection::vec(update_op(), 1..3)
}

fn number_sort() -> impl Strategy<Value = SortCondition> {
    prop_oneof![
        1 => number().prop_map(SortCondition::eq),
        1 => number().prop_map(SortCondition::lt),
        1 => number().prop_map(SortCondition::le),
        1 => number().prop_map(SortCondition::gt),
        1 => number().prop_map(SortCondition::ge),
        // Bounds either way round: reversed is `Validation`.
        3 => (number(), number()).prop_map(|(a, b)| SortCondition::between(a, b)),
        // Not for a number sort key: `Validation`.
        1 => Just(SortCondition::begins_with("1")),
        1 => Just(SortCondition::eq("1")),
    ]
}

fn string_sort() -> impl Strategy<Value = SortCondition> {
    prop_oneof![
        1 => sort_string().prop_map(SortCondition::eq),
        1 => sort_string().prop_map(SortCondition::lt),
        1 => sort_string().prop_map(SortCondition::ge),
        3 => (sort_string(), sort_string()).prop_map(|(a, b)| SortCondition::between(a, b)),
        3 => prop_oneof![Just(""), Just("a"), Just("ab"), Just("é"), Just("\u{FFFF}"), Just("𝄞")]
            .prop_map(SortCondition::begins_with),
        1 => Just(SortCondition::gt(1)),
    ]
}

fn limits() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(1usize..4, 1..3)
}

fn query() -> BoxedStrategy<Op> {
    let index = prop_oneof![
        2 => Just(None),
        1 => Just(Some(IndexName::ByG)),
        1 => Just(Some(IndexName::ByS))
    ];
    index
        .prop_flat_map(|index| {
            let partition = match index {
                None => pk().prop_map(Value::from).boxed(),
                Some(_) => partition_g().boxed(),
            };
            let sort = match index {
                Some(IndexName::ByS) => string_sort().boxed(),
                _ => number_sort().boxed(),
            };
            (
                partition,
                proptest::option::of(sort),
                proptest::option::weighted(0.3, condition()),
                limits(),
                any::<bool>(),
                proptest::bool::weighted(0.1),
            )
                .prop_map(
                    move |(partition, sort, filter, limits, descending, consistent)| Op::Query {
                        index,
                        partition,
                        sort,
                        filter,
                        limits,
                        descending,
                        consistent,
                    },
                )
        })
        .boxed()
}

fn tx_write() -> BoxedStrategy<TxWrite> {
    let maybe = || proptest::option::weighted(0.4, condition());
    prop_oneof![
        (item(), any::<bool>(), maybe()).prop_map(|(item, insert, condition)| TxWrite::Put {
            item,
            insert,
            condition
        }),
        (key(), update_ops(), maybe()).prop_map(|(key, ops, condition)| TxWrite::Update {
            key,
            ops,
            condition
        }),
        (key(), maybe()).prop_map(|(key, condition)| TxWrite::Delete { key, condition }),
        (key(), condition()).prop_map(|(key, condition)| TxWrite::Check { key, condition }),
    ]
    .boxed()
}

fn op() -> BoxedStrategy<Op> {
    let maybe = || proptest::option::weighted(0.3, condition());
    // Writes outweigh deletes, so that stores fill up and queries have pages to walk.
    prop_oneof![
        8 => (item(), proptest::bool::weighted(0.2), maybe())
            .prop_map(|(item, insert, condition)| Op::Put { item, insert, condition }),
        5 => (key(), update_ops(), maybe())
            .prop_map(|(key, ops, condition)| Op::Update { key, ops, condition }),
        1 => (key(), maybe()).prop_map(|(key, condition)| Op::Delete { key, condition }),
        1 => key().prop_map(|key| Op::Get { key }),
        1 => proptest::collection::vec(key(), 0..5).prop_map(|keys| Op::GetMany { keys }),
        2 => proptest::collection::vec(item(), 0..5).prop_map(|items| Op::UpsertMany { items }),
        1 => proptest::collection::vec(key(), 0..3).prop_map(|keys| Op::DeleteMany { keys }),
        3 => proptest::collection::vec(tx_write(), 1..4).prop_map(|writes| Op::Transact { writes }),
        5 => query(),
        1 => (proptest::option::weighted(0.3, condition()), limits())
            .prop_map(|(filter, limits)| Op::Scan { filter, limits }),
        2 => query().prop_map(|q| Op::Count(Box::new(q))),
        1 => proptest::option::weighted(0.5, condition())
            .prop_map(|filter| Op::Count(Box::new(Op::Scan { filter, limits: vec![1] }))),
    ]
    .boxed()
}

/// A few puts to start from, so that reads, updates and queries find items, then
/// anything.
fn ops(most: usize) -> impl Strategy<Value = Vec<Op>> {
    (
        proptest::collection::vec(item(), 0..8),
        proptest::collection::vec(op(), 1..most),
    )
        .prop_map(|(items, ops)| {
            let puts = items.into_iter().map(|item| Op::Put {
                item,
                insert: false,
                condition: None,
            });
            puts.chain(ops).collect()
        })
}

// --- The order of SEMANTICS.md ------------------------------------------------------

/// A number as an integer, or as a float that is not one.
enum Exact {
    Int(i128),
    Fraction(f64),
}

fn exact(n: &Number) -> Exact {
    match n.as_i64() {
        Some(i) => Exact::Int(i128::from(i)),
        None => {
            let f = n.to_f64_lossy();
            // Integral floats beyond the i64 range (every generated one fits an i128).
            if f.fract() == 0.0 {
                Exact::Int(f as i128)
            } else {
                Exact::Fraction(f)
            }
        }
    }
}

/// Numbers numerically, exactly: `1 == 1.0`, `-0.0 == 0`, and `2^53 + 1` above `2^53`.
fn cmp_numbers(a: &Number, b: &Number) -> Ordering {
    match (exact(a), exact(b)) {
        (Exact::Int(x), Exact::Int(y)) => x.cmp(&y),
        (Exact::Fraction(x), Exact::Fraction(y)) => x.partial_cmp(&y).unwrap(),
        // A fraction lies strictly between its floor and the next integer.
        (Exact::Int(i), Exact::Fraction(f)) => {
            if i <= f.floor() as i128 {
                Ordering::Less
            } else {
                Ordering::Greater
            }
        }
        (Exact::Fraction(_), Exact::Int(_)) => cmp_numbers(b, a).reverse(),
    }
}

/// Key values of one type in order (`None` across types): numbers numerically, strings
/// by their UTF-8 bytes, bytes by bytes.
fn cmp_key_values(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => Some(cmp_numbers(x, y)),
        (Value::String(x), Value::String(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (Value::Bytes(x), Value::Bytes(y)) => Some(x.as_slice().cmp(y.as_slice())),
        _ => None,
    }
}

/// Whether a sort key value meets a (validated) sort condition.
fn meets(sort: &SortCondition, v: &Value) -> bool {
    let cmp = |bound: &Value| cmp_key_values(v, bound);
    match sort {
        SortCondition::Eq(b) => cmp(b) == Some(Ordering::Equal),
        SortCondition::Lt(b) => cmp(b) == Some(Ordering::Less),
        SortCondition::Le(b) => matches!(cmp(b), Some(Ordering::Less | Ordering::Equal)),
        SortCondition::Gt(b) => cmp(b) == Some(Ordering::Greater),
        SortCondition::Ge(b) => matches!(cmp(b), Some(Ordering::Greater | Ordering::Equal)),
        SortCondition::Between(lo, hi) => {
            matches!(cmp(lo), Some(Ordering::Greater | Ordering::Equal))
                && matches!(cmp(hi), Some(Ordering::Less | Ordering::Equal))
        }
        SortCondition::BeginsWith(p) => match (v, p) {
            (Value::String(s), Value::String(p)) => s.starts_with(p.as_str()),
            _ => false,
        },
    }
}

/// A primary key, ordered as the contract orders keys. Equal keys (`1` and `1.0`) are
/// one item.
#[derive(Debug, Clone)]
struct ModelKey {
    pk: String,
    sk: Number,
}

impl ModelKey {
    fn of(key: &Key) -> ModelKey {
        ModelKey {
            pk: key.partition().as_str().unwrap().to_owned(),
            sk: key.sort().unwrap().as_number().unwrap(),
        }
    }

    fn of_item(item: &Item) -> ModelKey {
        ModelKey {
            pk: item["pk"].as_str().unwrap().to_owned(),
            sk: item["sk"].as_number().unwrap(),
        }
    }
}

impl Ord for ModelKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.pk
            .as_bytes()
            .cmp(other.pk.as_bytes())
            .then_with(|| cmp_numbers(&self.sk, &other.sk))
    }
}

impl PartialOrd for ModelKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for ModelKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for ModelKey {}

// --- The model ------------------------------------------------------------------------

/// What an operation answers: its result in text, or the kind of error (with a
/// transaction's reasons).
type Outcome = Result<Answer, Failure>;

/// The result of an operation that succeeded. Items compare as values (`1 == 1.0`), so a
/// backend that reads `1.0` back as `1` (`keeps_number_kind: false`) still agrees.
#[derive(Debug, Clone, PartialEq)]
enum Answer {
    Done,
    Item(Option<Item>),
    Items(Vec<Option<Item>>),
    Page(Vec<Item>),
    Count(u64),
}

/// The kind of an error and, for a canceled transaction, each write's reason.
#[derive(Debug, Clone, PartialEq)]
struct Failure {
    kind: ErrorKind,
    reasons: Option<Vec<Option<ErrorKind>>>,
}

impl From<ErrorKind> for Failure {
    fn from(kind: ErrorKind) -> Self {
        Failure {
            kind,
            reasons: None,
        }
    }
}

fn kind(e: crate::Error) -> Failure {
    Failure {
        kind: *e.kind(),
        reasons: e.reasons().map(<[_]>::to_vec),
    }
}

/// An empty set is a missing attribute: a write drops them, in maps and lists too.
fn drop_empty_sets(item: &Item) -> Item {
    fn clean(v: &Value) -> Option<Value> {
        match v {
            v if v.is_empty_set() => None,
            Value::Map(m) => Some(Value::Map(
                m.iter()
                    .filter_map(|(k, v)| clean(v).map(|v| (k.clone(), v)))
                    .collect(),
            )),
            Value::List(l) => Some(Value::List(
                l.iter()
                    .map(|v| clean(v).unwrap_or_else(|| v.clone()))
                    .collect(),
            )),
            v => Some(v.clone()),
        }
    }
    item.iter()
        .filter_map(|(k, v)| clean(v).map(|v| (k.clone(), v)))
        .collect()
}

/// What the library checks of a key before it sends a write: the schema's rules, then
/// the backend's declaration (a number it cannot store exactly is `Validation`).
fn check_key(schema: &StoreSchema, caps: &Capabilities, key: &Key) -> crate::Result<()> {
    schema.check_key(key)?;
    caps.check_key(schema, key)
}

/// What the library checks of a key a read looks up: the same, except that a number
/// equal to one the backend holds is looked up (an integer beyond +-2^53 that is exactly
/// a double, on a backend that keeps doubles); any other it cannot hold is `Validation`
/// (rounded, it would be another item's key).
fn check_read_key(schema: &StoreSchema, caps: &Capabilities, key: &Key) -> crate::Result<()> {
    schema.check_key(key)?;
    let held = |v: &Value| match v {
        Value::Number(n) => {
            caps.stores_number(n) || n.as_f64().is_some_and(|f| caps.stores_float(f))
        }
        _ => true,
    };
    if held(key.partition()) && key.sort().is_none_or(held) {
        return Ok(());
    }
    caps.check_key(schema, key)
}

/// What the library checks of an item before it sends a write: the schema's rules and
/// the backend's declaration; gives the item's key.
fn check_item(schema: &StoreSchema, caps: &Capabilities, item: &Item) -> crate::Result<Key> {
    let key = schema.check_item(item)?;
    caps.check_item(item)?;
    caps.check_ordered_keys(schema, item)?;
    Ok(key)
}

/// What the library and the engine check of an update before it looks at the item: the
/// key, the ops, and each op's operands against the backend's declaration (an ADD of
/// `i64::MAX` is `Validation` where the backend stores only doubles, before the item is
/// found missing or a condition is evaluated).
fn check_update(
    schema: &StoreSchema,
    caps: &Capabilities,
    key: &Key,
    ops: &[UpdateOp],
) -> crate::Result<()> {
    check_key(schema, caps, key)?;
    eval::validate_ops(ops)?;
    if ops
        .iter()
        .any(|op| schema.is_key_attribute(op.path().root()))
    {
        return Err(crate::Error::validation(
            "an update changes a key attribute",
        ));
    }
    for op in ops {
        let path = op.path();
        // An index key attribute must be left holding a value of its declared key type
        // (SEMANTICS.md: "Indexes"), checked before the item is read.
        let index_key = schema
            .indexes
            .iter()
            .flat_map(|i| std::iter::once(&i.partition_key).chain(&i.sort_key))
            .find(|a| path.is_top_level() && a.name == path.root());
        if let Some(attr) = index_key {
            let fits = |v: &Value| match (attr.ty, v) {
                (KeyType::String, Value::String(s)) => !s.is_empty(),
                (KeyType::Number, Value::Number(n)) => n.is_finite(),
                (KeyType::Bytes, Value::Bytes(b)) => !b.is_empty(),
                _ => false,
            };
            let ok = match op {
                UpdateOp::Set { value, .. } => value.is_empty_set() || fits(value),
                UpdateOp::Add { value, .. } => attr.ty == KeyType::Number && fits(value),
                UpdateOp::Append { .. } | UpdateOp::Prepend { .. } => false,
                UpdateOp::Remove { .. } | UpdateOp::Delete { .. } => true,
            };
            if !ok {
                return Err(crate::Error::validation("an index key of a non-key type"));
            }
        }
        // An empty set cannot be a list element (a list has no attribute to leave out).
        let in_list = match op {
            UpdateOp::Set { path, value } => {
                value.is_empty_set() && matches!(path.last(), crate::Segment::Index(_))
            }
            UpdateOp::Append { values, .. } | UpdateOp::Prepend { values, .. } => {
                values.iter().any(Value::is_empty_set)
            }
            _ => false,
        };
        if in_list {
            return Err(crate::Error::validation("an empty set in a list"));
        }
        caps.check_op(op)?;
        caps.check_ordered_op(schema, op)?;
    }
    Ok(())
}

fn check_condition(condition: Option<&Condition>) -> crate::Result<()> {
    condition.map_or(Ok(()), Condition::validate)
}

/// Checks a query's sort condition as the contract asks: values of the sort key's type,
/// `between` bounds in order, `begins_with` for strings.
fn check_sort(sort: &SortCondition, key_type: ValueType) -> Result<(), ErrorKind> {
    let typed =
        |v: &Value| v.value_type() == key_type && v.as_number().is_none_or(|n| n.is_finite());
    if !sort.values().into_iter().all(typed) {
        return Err(ErrorKind::Validation);
    }
    match sort {
        SortCondition::Between(lo, hi) if cmp_key_values(lo, hi) == Some(Ordering::Greater) => {
            Err(ErrorKind::Validation)
        }
        SortCondition::BeginsWith(_) if key_type != ValueType::String => Err(ErrorKind::Validation),
        _ => Ok(()),
    }
}

struct Model {
    schema: StoreSchema,
    items: BTreeMap<ModelKey, Item>,
    /// What the backend declares it holds: a key, item or update operand it cannot hold
    /// is `Validation` before anything is sent, and so is a write whose new item it
    /// cannot hold (an ADD whose exact sum is a decimal, where decimals are not held, or
    /// an integer outside its `integer_range`); a transaction outside its declared scope
    /// is `Unsupported`.
    caps: Capabilities,
}

impl Model {
    fn new(caps: Capabilities) -> Model {
        Model {
            schema: schema(),
            items: BTreeMap::new(),
            caps,
        }
    }

    /// Decides a write against the current item (with the shared evaluator).
    fn decide<'a>(
        &self,
        key: &Key,
        op: &PlannedOp<'a>,
        condition: Option<&Condition>,
    ) -> crate::Result<WriteEffect<'a>> {
        let effect = eval::decide(
            &self.schema,
            key,
            op,
            condition,
            self.items.get(&ModelKey::of(key)),
        )?;
        if let WriteEffect::Put(new) = &effect {
            self.caps.check_item(new)?;
            self.caps.check_ordered_keys(&self.schema, new)?;
        }
        Ok(effect)
    }

    fn commit(&mut self, key: &Key, effect: WriteEffect<'_>) {
        match effect {
            WriteEffect::Put(new) => {
                self.items.insert(ModelKey::of(key), new.into_owned());
            }
            WriteEffect::Delete => {
                self.items.remove(&ModelKey::of(key));
            }
            WriteEffect::Nothing => {}
        }
    }

    fn get(&self, key: &Key) -> Option<&Item> {
        self.items.get(&ModelKey::of(key))
    }

    fn apply(&mut self, op: &Op) -> Outcome {
        let schema = self.schema.clone();
        match op {
            Op::Put {
                item,
                insert,
                condition,
            } => {
                let item = drop_empty_sets(item);
                let key = check_item(&schema, &self.caps, &item).map_err(kind)?;
                check_condition(condition.as_ref()).map_err(kind)?;
                let put = PlannedOp::Put {
                    item: &item,
                    mode: put_mode(*insert),
                };
                let effect = self.decide(&key, &put, condition.as_ref()).map_err(kind)?;
                self.commit(&key, effect);
                Ok(Answer::Done)
            }
            Op::Update {
                key,
                ops,
                condition,
            } => {
                check_update(&schema, &self.caps, key, ops).map_err(kind)?;
                check_condition(condition.as_ref()).map_err(kind)?;
                let update = PlannedOp::Update { ops };
                let effect = self
                    .decide(key, &update, condition.as_ref())
                    .map_err(kind)?;
                self.commit(key, effect);
                Ok(Answer::Item(self.get(key).cloned()))
            }
            Op::Delete { key, condition } => {
                check_key(&schema, &self.caps, key).map_err(kind)?;
                check_condition(condition.as_ref()).map_err(kind)?;
                let old = self.get(key).cloned();
                let effect = self
                    .decide(key, &PlannedOp::Delete, condition.as_ref())
                    .map_err(kind)?;
                self.commit(key, effect);
                Ok(Answer::Item(old))
            }
            Op::Get { key } => {
                check_read_key(&schema, &self.caps, key).map_err(kind)?;
                Ok(Answer::Item(self.get(key).cloned()))
            }
            Op::GetMany { keys } => {
                for key in keys {
                    check_read_key(&schema, &self.caps, key).map_err(kind)?;
                }
                let found = keys.iter().map(|k| self.get(k).cloned()).collect();
                Ok(Answer::Items(found))
            }
            Op::UpsertMany { items } => {
                let items: Vec<Item> = items.iter().map(drop_empty_sets).collect();
                let mut keys = Vec::new();
                for item in &items {
                    keys.push(check_item(&schema, &self.caps, item).map_err(kind)?);
                }
                distinct(&keys)?;
                for (key, item) in keys.iter().zip(items) {
                    self.items.insert(ModelKey::of(key), item);
                }
                Ok(Answer::Done)
            }
            Op::DeleteMany { keys } => {
                for key in keys {
                    check_key(&schema, &self.caps, key).map_err(kind)?;
                }
                distinct(keys)?;
                for key in keys {
                    self.items.remove(&ModelKey::of(key));
                }
                Ok(Answer::Done)
            }
            Op::Transact { writes } => self.transact(writes),
            Op::Query {
                index,
                partition,
                sort,
                filter,
                descending,
                consistent,
                ..
            } => {
                if !matches!(partition, Value::String(s) if !s.is_empty()) {
                    return Err(ErrorKind::Validation.into());
                }
                let sort_type = match index {
                    Some(IndexName::ByS) => ValueType::String,
                    _ => ValueType::Number,
                };
                if let Some(sort) = sort {
                    check_sort(sort, sort_type)?;
                }
                check_condition(filter.as_ref()).map_err(kind)?;
                if *consistent && index.is_some() {
                    return Err(ErrorKind::Validation.into());
                }
                let (partition_attribute, sort_attribute) = match index {
                    None => ("pk", "sk"),
                    Some(i) => ("g", i.sort_attribute()),
                };
                // In an index, ties of the sort key come in primary key order.
                let mut found: Vec<(&Value, &ModelKey, &Item)> = self
                    .items
                    .iter()
                    .filter(|(_, it)| it.get(partition_attribute) == Some(partition))
                    .filter_map(|(k, it)| it.get(sort_attribute).map(|s| (s, k, it)))
                    .filter(|(s, _, _)| sort.as_ref().is_none_or(|c| meets(c, s)))
                    .filter(|(_, _, it)| filter.as_ref().is_none_or(|f| eval::matches(f, Some(it))))
                    .collect();
                found.sort_by(|a, b| {
                    cmp_key_values(a.0, b.0)
                        .expect("one type per key attribute")
                        .then_with(|| a.1.cmp(b.1))
                });
                if *descending {
                    found.reverse();
                }
                let items = found.into_iter().map(|(_, _, it)| it.clone()).collect();
                Ok(Answer::Page(items))
            }
            Op::Count(of) => match self.apply(of)? {
                Answer::Page(items) => Ok(Answer::Count(items.len() as u64)),
                other => unreachable!("a count of a query or scan, not {other:?}"),
            },
            Op::Scan { filter, .. } => {
                check_condition(filter.as_ref()).map_err(kind)?;
                // Scans promise no order: the engine's answer is put in key order too.
                let items = self
                    .items
                    .values()
                    .filter(|it| filter.as_ref().is_none_or(|f| eval::matches(f, Some(it))))
                    .cloned()
                    .collect();
                Ok(Answer::Page(items))
            }
        }
    }

    fn transact(&mut self, writes: &[TxWrite]) -> Outcome {
        let schema = self.schema.clone();
        // Checked up front, as a whole: `Validation` before anything is decided.
        let mut planned = Vec::new();
        let mut keys = Vec::new();
        for write in writes {
            let (key, op, condition) = match write {
                TxWrite::Put {
                    item,
                    insert,
                    condition,
                } => {
                    let item = drop_empty_sets(item);
                    check_condition(condition.as_ref()).map_err(kind)?;
                    let key = check_item(&schema, &self.caps, &item).map_err(kind)?;
                    (
                        key,
                        Planned::Put(item, put_mode(*insert)),
                        condition.as_ref(),
                    )
                }
                TxWrite::Update {
                    key,
                    ops,
                    condition,
                } => {
                    check_update(&schema, &self.caps, key, ops).map_err(kind)?;
                    check_condition(condition.as_ref()).map_err(kind)?;
                    (key.clone(), Planned::Update(ops), condition.as_ref())
                }
                TxWrite::Delete { key, condition } => {
                    check_key(&schema, &self.caps, key).map_err(kind)?;
                    check_condition(condition.as_ref()).map_err(kind)?;
                    (key.clone(), Planned::Delete, condition.as_ref())
                }
                TxWrite::Check { key, condition } => {
                    check_key(&schema, &self.caps, key).map_err(kind)?;
                    condition.validate().map_err(kind)?;
                    (key.clone(), Planned::Check, Some(condition))
                }
            };
            keys.push(key.clone());
            distinct(&keys)?;
            planned.push((key, op, condition));
        }
        // Then, as the library does, the backend's declared transactions: how many
        // writes, and which items one may hold (all in one store here).
        if planned.len() > self.caps.max_transaction_writes {
            return Err(ErrorKind::Validation.into());
        }
        let scope_holds = match self.caps.transactions {
            TransactionScope::Any => true,
            TransactionScope::None => false,
            TransactionScope::OnePartition => {
                keys.iter().all(|k| k.partition() == keys[0].partition())
            }
        };
        if !scope_holds {
            return Err(ErrorKind::Unsupported.into());
        }
        // Every write is decided against the items as they were before.
        let mut effects = Vec::new();
        let mut reasons = Vec::new();
        for (key, op, condition) in &planned {
            let op = match op {
                Planned::Put(item, mode) => PlannedOp::Put { item, mode: *mode },
                Planned::Update(ops) => PlannedOp::Update { ops },
                Planned::Delete => PlannedOp::Delete,
                Planned::Check => PlannedOp::Check,
            };
            match self.decide(key, &op, *condition) {
                Ok(effect) => {
                    reasons.push(None);
                    effects.push((key, effect));
                }
                Err(e) => reasons.push(Some(*e.kind())),
            }
        }
        if reasons.iter().any(Option::is_some) {
            return Err(Failure {
                kind: ErrorKind::TransactionCanceled,
                reasons: Some(reasons),
            });
        }
        for (key, effect) in effects {
            self.commit(key, effect);
        }
        Ok(Answer::Done)
    }

    /// Every item, in key order.
    fn all(&self) -> Vec<Item> {
        self.items.values().cloned().collect()
    }
}

/// A transaction write, owning what its planned op borrows.
enum Planned<'a> {
    Put(Item, PutMode),
    Update(&'a [UpdateOp]),
    Delete,
    Check,
}

fn put_mode(insert: bool) -> PutMode {
    if insert {
        PutMode::Insert
    } else {
        PutMode::Upsert
    }
}

/// Two equal keys in one call are `Validation` (`1` and `1.0` are equal).
fn distinct(keys: &[Key]) -> Result<(), ErrorKind> {
    let mut seen = std::collections::BTreeSet::new();
    if keys.iter().all(|k| seen.insert(ModelKey::of(k))) {
        Ok(())
    } else {
        Err(ErrorKind::Validation)
    }
}

// --- The backend ----------------------------------------------------------------------

/// Pages through a query or scan with the given limits in turn, checking each page:
/// every page before the last is full, and only the last has no token.
async fn collect_pages<F, Fut>(
    limits: &[usize],
    mut page: F,
) -> Result<Result<Vec<Item>, Failure>, TestCaseError>
where
    F: FnMut(usize, Option<PageToken>) -> Fut,
    Fut: std::future::Future<Output = crate::Result<Page>>,
{
    let mut items = Vec::new();
    let mut token = None;
    for (n, &limit) in limits.iter().cycle().enumerate() {
        prop_assert!(n < 1_000, "the pages do not end");
        let page = match page(limit, token.take()).await {
            Ok(page) => page,
            Err(e) => return Ok(Err(kind(e))),
        };
        let len = page.items.len();
        items.extend(page.items);
        match page.next_page_token {
            Some(t) => {
                prop_assert_eq!(len, limit, "a page before the last is not full");
                token = Some(t);
            }
            None => {
                prop_assert!(len <= limit, "a page over its limit");
                return Ok(Ok(items));
            }
        }
    }
    unreachable!("the loop returns")
}

/// Runs `op` on the backend, in store `store`.
async fn run_backend(kvs: &Kvs, store: &str, op: &Op) -> Result<Outcome, TestCaseError> {
    Ok(match op.clone() {
        Op::Put {
            item,
            insert,
            condition,
        } => {
            let mut put = if insert {
                kvs.insert(store, item)
            } else {
                kvs.upsert(store, item)
            };
            if let Some(c) = condition {
                put = put.when(c);
            }
            put.await.map(|()| Answer::Done).map_err(kind)
        }
        Op::Update {
            key,
            ops,
            condition,
        } => {
            let mut u = kvs.update(store, key).ops(ops);
            if let Some(c) = condition {
                u = u.when(c);
            }
            u.await.map(|new| Answer::Item(Some(new))).map_err(kind)
        }
        Op::Delete { key, condition } => {
            let mut d = kvs.delete(store, key);
            if let Some(c) = condition {
                d = d.when(c);
            }
            d.await.map(Answer::Item).map_err(kind)
        }
        Op::Get { key } => kvs.get(store, key).await.map(Answer::Item).map_err(kind),
        Op::GetMany { keys } => kvs
            .get_many(store, keys)
            .await
            .map(Answer::Items)
            .map_err(kind),
        Op::UpsertMany { items } => kvs
            .upsert_many(store, items)
            .await
            .map(|()| Answer::Done)
            .map_err(kind),
        Op::DeleteMany { keys } => kvs
            .delete_many(store, keys)
            .await
            .map(|()| Answer::Done)
            .map_err(kind),
        Op::Transact { writes } => kvs
            .transact(writes.into_iter().map(|w| transact_write(store, w)))
            .await
            .map(|()| Answer::Done)
            .map_err(kind),
        Op::Query {
            index,
            partition,
            sort,
            filter,
            limits,
            descending,
            consistent,
        } => {
            let pages = collect_pages(&limits, |limit, token| {
                let q = query_of(
                    kvs, store, index, &partition, &sort, &filter, descending, consistent,
                );
                std::future::IntoFuture::into_future(q.limit(limit).page_token(token))
            })
            .await?;
            pages.map(Answer::Page)
        }
        Op::Count(of) => match *of {
            Op::Query {
                index,
                partition,
                sort,
                filter,
                descending,
                consistent,
                ..
            } => query_of(
                kvs, store, index, &partition, &sort, &filter, descending, consistent,
            )
            .count()
            .await
            .map(Answer::Count)
            .map_err(kind),
            Op::Scan { filter, .. } => {
                let mut s = kvs.scan(store);
                if let Some(f) = filter {
                    s = s.filter(f);
                }
                s.count().await.map(Answer::Count).map_err(kind)
            }
            other => unreachable!("a count of a query or scan, not {other:?}"),
        },
        Op::Scan { filter, limits } => {
            let pages = collect_pages(&limits, |limit, token| {
                let mut s = kvs.scan(store).limit(limit).page_token(token);
                if let Some(f) = filter.clone() {
                    s = s.filter(f);
                }
                std::future::IntoFuture::into_future(s)
            })
            .await?;
            // Scans promise no order: the backend's answer is put in key order, as the
            // model's is.
            pages.map(|items| Answer::Page(in_key_order(items)))
        }
    })
}

/// The query of an [`Op::Query`], without its limit and token.
#[allow(clippy::too_many_arguments)]
fn query_of(
    kvs: &Kvs,
    store: &str,
    index: Option<IndexName>,
    partition: &Value,
    sort: &Option<SortCondition>,
    filter: &Option<Condition>,
    descending: bool,
    consistent: bool,
) -> crate::Query {
    let mut q = kvs.query(store, partition.clone());
    if let Some(i) = index {
        q = q.index(i.name());
    }
    if let Some(s) = sort.clone() {
        q = q.sort(s);
    }
    if let Some(f) = filter.clone() {
        q = q.filter(f);
    }
    if descending {
        q = q.descending();
    }
    if consistent {
        q = q.consistent();
    }
    q
}

fn in_key_order(mut items: Vec<Item>) -> Vec<Item> {
    items.sort_by_key(ModelKey::of_item);
    items
}

fn transact_write(store: &str, write: TxWrite) -> TransactWrite {
    let (w, condition) = match write {
        TxWrite::Put {
            item,
            insert,
            condition,
        } => {
            let w = if insert {
                TransactWrite::insert(store, item)
            } else {
                TransactWrite::put(store, item)
            };
            (w, condition)
        }
        TxWrite::Update {
            key,
            ops,
            condition,
        } => {
            let updates = ops.into_iter().fold(Updates::new(), Updates::op);
            (TransactWrite::update(store, key, updates), condition)
        }
        TxWrite::Delete { key, condition } => (TransactWrite::delete(store, key), condition),
        TxWrite::Check { key, condition } => (TransactWrite::check(store, key, condition), None),
    };
    match condition {
        Some(c) => w.when(c),
        None => w,
    }
}

/// Whether `op` reads a secondary index.
fn reads_an_index(op: &Op) -> bool {
    match op {
        Op::Query { index, .. } => index.is_some(),
        Op::Count(of) => reads_an_index(of),
        _ => false,
    }
}

/// How long an eventually consistent index may take to show the final state.
const INDEX_CATCH_UP: std::time::Duration = std::time::Duration::from_secs(10);

/// Runs the operations on the backend (in a fresh store) and on the model, comparing
/// each answer, then the whole store and both indexes.
///
/// Where the backend's index reads are eventually consistent
/// ([`Capabilities::consistent_index_reads`](crate::backend::Capabilities)), a query of
/// an index right after a write may rightly miss it: such queries are left out of the
/// sequence, and the final state of the indexes is awaited (up to [`INDEX_CATCH_UP`])
/// rather than expected at once.
async fn check(kvs: &Kvs, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let store = super::fresh_store(kvs, schema()).await;
    let consistent_indexes = kvs.capabilities().consistent_index_reads;
    let mut model = Model::new(kvs.capabilities());
    for (i, op) in ops.iter().enumerate() {
        if !consistent_indexes && reads_an_index(op) {
            continue;
        }
        let expected = model.apply(op);
        let got = run_backend(kvs, &store, op).await?;
        prop_assert_eq!(&got, &expected, "op {}: {:?}", i, op);
    }
    let all = Op::Scan {
        filter: None,
        limits: vec![1000],
    };
    let got = run_backend(kvs, &store, &all).await?;
    prop_assert_eq!(got, Ok(Answer::Page(model.all())), "the final state");
    for index in [IndexName::ByG, IndexName::ByS] {
        for g in ["x", "y"] {
            for descending in [false, true] {
                let whole = Op::Query {
                    index: Some(index),
                    partition: g.into(),
                    sort: None,
                    filter: None,
                    limits: vec![1000],
                    descending,
                    consistent: false,
                };
                let expected = model.apply(&whole);
                let started = std::time::Instant::now();
                let mut got = run_backend(kvs, &store, &whole).await?;
                while got != expected && !consistent_indexes && started.elapsed() < INDEX_CATCH_UP {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    got = run_backend(kvs, &store, &whole).await?;
                }
                prop_assert_eq!(got, expected, "the final {:?}", whole);
            }
        }
    }
    Ok(())
}

/// The most operations in one random sequence (after up to 8 puts to start from).
const MOST_OPS: usize = 40;

/// Random sequences of operations (puts, inserts, updates with every op, deletes, each
/// with or without a random condition; gets, batches, transactions, queries of the table
/// and of two indexes with sort conditions, filters and pages of random limits, scans)
/// give the same answers, errors and final state (table and indexes) on the backend as
/// on a reference model: a `BTreeMap` ordered as SEMANTICS.md says, the shared evaluator
/// for conditions and update ops, and the schema's checks for what is valid. Keys, numbers
/// and strings are chosen where orders differ (`1 == 1.0`, `2^53 + 1`, i64 extremes,
/// UTF-8 against UTF-16 order). Each input runs in a fresh store; `random` says how many.
pub async fn random_operations_match_the_model(kvs: Kvs, random: Random) {
    check_random(
        "random_operations_match_the_model",
        random,
        ops(MOST_OPS),
        |ops| {
            let kvs = kvs.clone();
            async move { check(&kvs, ops).await }
        },
    )
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The model's order is the contract's: checked on the values the generators use.
    #[test]
    fn the_model_orders_numbers_and_strings_as_the_contract_says() {
        let n = |v: Value| v.as_number().unwrap();
        let ascending = [
            n(Value::from(-1e20)),
            n(Value::from(i64::MIN)),
            n(Value::from(-1.5)),
            n(Value::from(-1)),
            n(Value::from(-1e-100)),
            n(Value::from(0)),
            n(Value::from(0.1)),
            n(Value::from(0.5)),
            n(Value::from(1)),
            n(Value::from(9_007_199_254_740_992.0)),
            n(Value::from(9_007_199_254_740_993_i64)),
            n(Value::from(1e18)),
            n(Value::from(i64::MAX - 1)),
            n(Value::from(i64::MAX)),
            n(Value::from(9_223_372_036_854_775_808.0)),
            n(Value::from(1e20)),
        ];
        for (i, a) in ascending.iter().enumerate() {
            for (j, b) in ascending.iter().enumerate() {
                assert_eq!(cmp_numbers(a, b), i.cmp(&j), "{a:?} vs {b:?}");
            }
        }
        let equal = [
            (Value::from(1), Value::from(1.0)),
            (Value::from(0), Value::from(-0.0)),
            (
                Value::from(i64::MIN),
                Value::from(-9_223_372_036_854_775_808.0),
            ),
        ];
        for (a, b) in equal {
            assert_eq!(
                cmp_numbers(&n(a.clone()), &n(b.clone())),
                Ordering::Equal,
                "{a:?} {b:?}"
            );
        }
        let strings = ["a", "a\0", "ab", "abc", "b", "é", "\u{FFFF}", "𝄞"];
        for (i, a) in strings.iter().enumerate() {
            for (j, b) in strings.iter().enumerate() {
                assert_eq!(
                    cmp_key_values(&Value::from(*a), &Value::from(*b)),
                    Some(i.cmp(&j)),
                    "{a:?} vs {b:?}"
                );
            }
        }
    }
}
