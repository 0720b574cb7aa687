//! Random operation sequences against the engine and against a reference model (a
//! `BTreeMap` and the shared evaluator): the same answers, the same errors, the same
//! final state, no panics. Covers storage, index maintenance, sort order and paging,
//! which the model does with plain sorting.

use std::collections::BTreeMap;

use futures::TryStreamExt;
use kvs::backend::PlannedOp;
use kvs::eval::{self, WriteEffect};
use kvs::{
    Condition, IndexSchema, Item, Key, KeyAttr, Kvs, PutMode, SortCondition, StoreSchema, UpdateOp,
    Value, attr,
};
use proptest::prelude::*;

const STORE: &str = "m";

fn schema() -> StoreSchema {
    StoreSchema::new(STORE, KeyAttr::string("pk"))
        .sort_key(KeyAttr::number("sk"))
        .index(IndexSchema::new("byG", KeyAttr::string("g")).sort_key(KeyAttr::number("n")))
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
    Query {
        pk: String,
        sort: Option<SortCondition>,
        limit: usize,
        descending: bool,
        filter: Option<Condition>,
    },
    QueryIndex {
        g: String,
        sort: Option<SortCondition>,
        limit: usize,
        descending: bool,
    },
    Scan {
        limit: usize,
        filter: Option<Condition>,
    },
}

fn pk() -> impl Strategy<Value = String> {
    prop_oneof![Just("a"), Just("b"), Just("c"), Just("a\0"), Just("é")].prop_map(String::from)
}

fn sk() -> impl Strategy<Value = Value> {
    prop_oneof![
        (-3i64..4).prop_map(Value::from),
        (-3i64..4).prop_map(|i| Value::from(i as f64 + 0.5))
    ]
}

fn key() -> impl Strategy<Value = Key> {
    (pk(), sk()).prop_map(|(p, s)| Key::with_sort(p, s))
}

fn item() -> impl Strategy<Value = Item> {
    (
        pk(),
        sk(),
        proptest::option::of(prop_oneof![Just("x"), Just("y")]),
        proptest::option::of(-2i64..3),
        -5i64..5,
        proptest::option::of(prop_oneof![
            Just(Value::from("s")),
            Just(Value::list([1, 2]))
        ]),
    )
        .prop_map(|(p, s, g, n, v, extra)| {
            let mut it = kvs::item! { "pk" => p, "sk" => s, "v" => v };
            if let Some(g) = g {
                it.set("g", g);
            }
            if let Some(n) = n {
                it.set("n", n);
            }
            if let Some(e) = extra {
                it.set("extra", e);
            }
            it
        })
}

fn condition() -> impl Strategy<Value = Option<Condition>> {
    proptest::option::of(prop_oneof![
        (-5i64..5).prop_map(|k| attr("v").gt(k)),
        Just(attr("g").exists()),
        Just(attr("pk").not_exists()),
        Just(attr("extra").type_of(kvs::ValueType::List)),
        (-5i64..5).prop_map(|k| attr("v").le(k).or(attr("n").eq(0))),
    ])
}

fn update_op() -> impl Strategy<Value = UpdateOp> {
    prop_oneof![
        (-5i64..5).prop_map(|v| UpdateOp::Set {
            path: attr("v"),
            value: v.into()
        }),
        (-3i64..3).prop_map(|v| UpdateOp::Add {
            path: attr("v"),
            value: v.into()
        }),
        Just(UpdateOp::Remove { path: attr("g") }),
        prop_oneof![Just("x"), Just("y")].prop_map(|g| UpdateOp::Set {
            path: attr("g"),
            value: g.into()
        }),
        (-2i64..3).prop_map(|n| UpdateOp::Set {
            path: attr("n"),
            value: n.into()
        }),
        Just(UpdateOp::Append {
            path: attr("extra"),
            values: vec![3.into()]
        }),
        Just(UpdateOp::Remove {
            path: attr("extra").index(0)
        }),
        Just(UpdateOp::Add {
            path: attr("extra"),
            value: 1.into()
        }),
    ]
}

fn sort() -> impl Strategy<Value = Option<SortCondition>> {
    proptest::option::of(prop_oneof![
        (-3i64..4).prop_map(SortCondition::eq),
        (-3i64..4).prop_map(SortCondition::lt),
        (-3i64..4).prop_map(SortCondition::le),
        (-3i64..4).prop_map(|v| SortCondition::gt(v as f64 - 0.5)),
        (-3i64..4).prop_map(SortCondition::ge),
        (-3i64..1, 0i64..4).prop_map(|(a, b)| SortCondition::between(a, b)),
    ])
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (item(), any::<bool>(), condition()).prop_map(|(item, insert, condition)| Op::Put { item, insert, condition }),
        3 => (key(), proptest::collection::btree_map(0usize..8, update_op(), 1..3), condition())
            .prop_map(|(key, ops, condition)| Op::Update { key, ops: ops.into_values().collect(), condition }),
        2 => (key(), condition()).prop_map(|(key, condition)| Op::Delete { key, condition }),
        1 => key().prop_map(|key| Op::Get { key }),
        2 => (pk(), sort(), 1usize..4, any::<bool>(), condition())
            .prop_map(|(pk, sort, limit, descending, filter)| Op::Query { pk, sort, limit, descending, filter }),
        2 => (prop_oneof![Just("x"), Just("y")], sort(), 1usize..4, any::<bool>())
            .prop_map(|(g, sort, limit, descending)| Op::QueryIndex { g: g.into(), sort, limit, descending }),
        1 => (1usize..5, condition()).prop_map(|(limit, filter)| Op::Scan { limit, filter }),
    ]
}

/// The model: items by encoded primary key (which sorts as the contract orders keys;
/// the key encoding has its own property tests).
#[derive(Default)]
struct Model {
    items: BTreeMap<Vec<u8>, Item>,
}

type Outcome = Result<String, String>;

fn kind(e: &kvs::Error) -> String {
    e.kind().name().to_owned()
}

impl Model {
    fn write(
        &mut self,
        schema: &StoreSchema,
        key: &Key,
        op: PlannedOp<'_>,
        condition: Option<&Condition>,
    ) -> Result<(Option<Item>, Option<Item>), kvs::Error> {
        let k = kvs::codec::table_key(key);
        let old = self.items.get(&k).cloned();
        match eval::decide(schema, key, &op, condition, old.as_ref())? {
            WriteEffect::Put(new) => {
                let new = new.into_owned();
                self.items.insert(k, new.clone());
                Ok((old, Some(new)))
            }
            WriteEffect::Delete => {
                self.items.remove(&k);
                Ok((old, None))
            }
            WriteEffect::Nothing => Ok((old, None)),
        }
    }

    fn apply(&mut self, schema: &StoreSchema, op: &Op) -> Outcome {
        let matches = |c: &Option<Condition>, it: &Item| {
            c.as_ref().is_none_or(|c| eval::matches(c, Some(it)))
        };
        let in_sort = |s: &Option<SortCondition>, v: Option<&Value>| match (s, v) {
            (None, _) => true,
            (Some(s), Some(_)) => eval::matches(
                &s.to_condition(attr("__s")),
                Some(&kvs::item! { "__s" => v.unwrap().clone() }),
            ),
            (Some(_), None) => false,
        };
        match op {
            Op::Put {
                item,
                insert,
                condition,
            } => {
                let key = schema.key_of(item).map_err(|e| kind(&e))?;
                let mode = if *insert {
                    PutMode::Insert
                } else {
                    PutMode::Upsert
                };
                schema.check_item(item).map_err(|e| kind(&e))?;
                self.write(
                    schema,
                    &key,
                    PlannedOp::Put { item, mode },
                    condition.as_ref(),
                )
                .map(|_| "ok".into())
                .map_err(|e| kind(&e))
            }
            Op::Update {
                key,
                ops,
                condition,
            } => eval::validate_ops(ops)
                .and_then(|()| {
                    self.write(schema, key, PlannedOp::Update { ops }, condition.as_ref())
                })
                .map(|(_, new)| format!("{new:?}"))
                .map_err(|e| kind(&e)),
            Op::Delete { key, condition } => self
                .write(schema, key, PlannedOp::Delete, condition.as_ref())
                .map(|(old, _)| format!("{old:?}"))
                .map_err(|e| kind(&e)),
            Op::Get { key } => Ok(format!("{:?}", self.items.get(&kvs::codec::table_key(key)))),
            Op::Query {
                pk,
                sort,
                descending,
                filter,
                ..
            } => {
                let mut out: Vec<&Item> = self
                    .items
                    .values()
                    .filter(|it| it["pk"] == Value::from(pk.as_str()))
                    .filter(|it| in_sort(sort, it.get("sk")))
                    .filter(|it| matches(filter, it))
                    .collect();
                if *descending {
                    out.reverse();
                }
                Ok(format!("{out:?}"))
            }
            Op::QueryIndex {
                g,
                sort,
                descending,
                ..
            } => {
                // Index order: (n, primary key); items without g or n are not in it.
                let mut out: Vec<(Vec<u8>, &Item)> = self
                    .items
                    .iter()
                    .filter(|(_, it)| {
                        it.get("g") == Some(&Value::from(g.as_str())) && it.contains_key("n")
                    })
                    .filter(|(_, it)| in_sort(sort, it.get("n")))
                    .map(|(k, it)| {
                        let mut ord = Vec::new();
                        kvs::codec::encode_key_value(&it["n"], &mut ord);
                        ord.extend_from_slice(k);
                        (ord, it)
                    })
                    .collect();
                out.sort_by(|a, b| a.0.cmp(&b.0));
                let mut out: Vec<&Item> = out.into_iter().map(|(_, it)| it).collect();
                if *descending {
                    out.reverse();
                }
                Ok(format!("{out:?}"))
            }
            Op::Scan { filter, .. } => {
                let out: Vec<&Item> = self
                    .items
                    .values()
                    .filter(|it| matches(filter, it))
                    .collect();
                Ok(format!("{out:?}"))
            }
        }
    }
}

async fn run_engine(kvs: &Kvs, op: &Op) -> Outcome {
    let k = |e: kvs::Error| kind(&e);
    match op.clone() {
        Op::Put {
            item,
            insert,
            condition,
        } => {
            let mut put = if insert {
                kvs.insert(STORE, item)
            } else {
                kvs.upsert(STORE, item)
            };
            if let Some(c) = condition {
                put = put.when(c);
            }
            put.await.map(|_| "ok".into()).map_err(k)
        }
        Op::Update {
            key,
            ops,
            condition,
        } => {
            let mut u = kvs.update(STORE, key).ops(ops);
            if let Some(c) = condition {
                u = u.when(c);
            }
            u.await.map(|new| format!("{:?}", Some(new))).map_err(k)
        }
        Op::Delete { key, condition } => {
            let mut d = kvs.delete(STORE, key);
            if let Some(c) = condition {
                d = d.when(c);
            }
            d.await.map(|old| format!("{old:?}")).map_err(k)
        }
        Op::Get { key } => kvs
            .get(STORE, key)
            .await
            .map(|it| format!("{:?}", it.as_ref()))
            .map_err(k),
        Op::Query {
            pk,
            sort,
            limit,
            descending,
            filter,
        } => {
            let mut q = kvs.query(STORE, pk).limit(limit);
            if let Some(s) = sort {
                q = q.sort(s);
            }
            if let Some(f) = filter {
                q = q.filter(f);
            }
            if descending {
                q = q.descending();
            }
            let pages: Vec<kvs::Page> = q.pages().try_collect().await.map_err(k)?;
            check_pages(&pages, limit);
            let items: Vec<Item> = pages.into_iter().flat_map(|p| p.items).collect();
            Ok(format!("{:?}", items.iter().collect::<Vec<_>>()))
        }
        Op::QueryIndex {
            g,
            sort,
            limit,
            descending,
        } => {
            let mut q = kvs.query(STORE, g).index("byG").limit(limit);
            if let Some(s) = sort {
                q = q.sort(s);
            }
            if descending {
                q = q.descending();
            }
            let pages: Vec<kvs::Page> = q.pages().try_collect().await.map_err(k)?;
            check_pages(&pages, limit);
            let items: Vec<Item> = pages.into_iter().flat_map(|p| p.items).collect();
            Ok(format!("{:?}", items.iter().collect::<Vec<_>>()))
        }
        Op::Scan { limit, filter } => {
            let mut s = kvs.scan(STORE).limit(limit);
            if let Some(f) = filter {
                s = s.filter(f);
            }
            let pages: Vec<kvs::Page> = s.pages().try_collect().await.map_err(k)?;
            check_pages(&pages, limit);
            let items: Vec<Item> = pages.into_iter().flat_map(|p| p.items).collect();
            Ok(format!("{:?}", items.iter().collect::<Vec<_>>()))
        }
    }
}

/// Every page but the last is full; only the last may be empty.
fn check_pages(pages: &[kvs::Page], limit: usize) {
    let (last, rest) = pages.split_last().expect("at least one page");
    assert!(last.next_page_token.is_none());
    for p in rest {
        assert_eq!(p.items.len(), limit, "a page before the last is not full");
    }
    assert!(last.items.len() <= limit);
}

fn check(ops: Vec<Op>, kvs: Kvs) -> Result<(), TestCaseError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let schema = schema();
        kvs.ensure_store(schema.clone()).await.unwrap();
        let mut model = Model::default();
        for (i, op) in ops.iter().enumerate() {
            let expected = model.apply(&schema, op);
            let got = run_engine(&kvs, op).await;
            prop_assert_eq!(&got, &expected, "op {} {:?}", i, op);
        }
        let all: Vec<Item> = kvs.scan(STORE).stream().try_collect().await.unwrap();
        let model_all: Vec<Item> = model.items.values().cloned().collect();
        prop_assert_eq!(all, model_all);
        Ok(())
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn memory_engine_matches_the_model(ops in proptest::collection::vec(op(), 1..40)) {
        check(ops, Kvs::memory())?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn file_engine_matches_the_model(ops in proptest::collection::vec(op(), 1..25)) {
        let path = std::env::temp_dir().join(format!("{}.redb", kvs::conformance::fresh_name("model")));
        let kvs = Kvs::open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        check(ops, kvs)?;
    }
}
