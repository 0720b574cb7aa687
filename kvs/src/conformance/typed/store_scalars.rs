//! Conformance cases of models through `Store<M>`: strings, integers, floats, bools and bytes round-trip exactly.

// `#[derive(KeyValueStore)]` and `#[derive(Nested)]` give every field of a private model
// an accessor, and a case uses only some of them, so the unused ones would warn as dead
// code.
#![allow(dead_code)]

use super::*;

#[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
#[kvs(store = "typed_rt_strings", partition_key = id)]
struct RtText {
    id: String,
    text: String,
    empty: String,
    letter: char,
    lines: Vec<String>,
}

/// Strings round-trip exactly through `Store<M>`: any Unicode, NUL, long strings, Unicode
/// keys; an empty string is stored as an empty string, not as a missing attribute.
pub async fn typed_rt_strings(kvs: Kvs) {
    let store = fresh_typed_store::<RtText>(&kvs).await;
    let f = RtText::fields();
    // The model's own store name was never defined: the store has another name.
    assert_ne!(store.name(), RtText::STORE);
    if !kvs.capabilities().implicit_stores {
        expect_kind(
            kvs.store::<RtText>().get("nul").await,
            ErrorKind::StoreNotFound,
        );
    }
    let texts = [
        RtText {
            id: "\u{1F600} key \u{e9}".into(),
            text: "h\u{e9}llo \u{1F600} \u{10FFFF} \u{FEFF}\r\n\t\"q\" \\ end".into(),
            empty: String::new(),
            letter: '\u{1F600}',
            lines: vec![
                "\u{e9}".into(),
                "e\u{301}".into(),
                "\u{5e9}\u{5dc}\u{5d5}\u{5dd}".into(),
                String::new(),
            ],
        },
        RtText {
            id: "nul".into(),
            text: "a\0b\0".into(),
            empty: String::new(),
            letter: '\0',
            lines: vec![],
        },
        RtText {
            id: "long".into(),
            text: "\u{1F600}x".repeat(20_000),
            empty: String::new(),
            letter: 'x',
            lines: vec!["x".repeat(1_000); 3],
        },
    ];
    for t in &texts {
        let stored = typed_round_trip(&store, t).await;
        assert_eq!(
            stored["empty"],
            Value::from(""),
            "an empty string is a value, not a missing attribute"
        );
        assert_eq!(stored["text"], Value::from(t.text.as_str()));
        assert_eq!(stored["letter"], Value::from(t.letter.to_string()));
    }
    // Precomposed and decomposed forms stay distinct: strings are kept byte for byte.
    let back = store.get("\u{1F600} key \u{e9}").await.unwrap().unwrap();
    assert_ne!(back.lines[0], back.lines[1]);
    assert_eq!(back.lines[3], "");
    let empties = store.scan().filter(f.empty().eq("")).await.unwrap();
    assert_eq!(empties.items.len(), texts.len());
    let page = store
        .scan()
        .filter(f.text().begins_with("h\u{e9}"))
        .await
        .unwrap();
    assert_eq!(page.items, vec![texts[0].clone()]);
}

#[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
#[kvs(store = "typed_rt_small_ints", partition_key = id)]
struct RtSmallInts {
    id: String,
    i8: i8,
    i16: i16,
    i32: i32,
    u8: u8,
    u16: u16,
    u32: u32,
}

/// i8, i16, i32, u8, u16 and u32 round-trip at their extremes, stored as integers, and
/// typed conditions compare with the exact values.
pub async fn typed_rt_small_integer_extremes(kvs: Kvs) {
    let store = fresh_typed_store::<RtSmallInts>(&kvs).await;
    let f = RtSmallInts::fields();
    let min = RtSmallInts {
        id: "min".into(),
        i8: i8::MIN,
        i16: i16::MIN,
        i32: i32::MIN,
        u8: u8::MIN,
        u16: u16::MIN,
        u32: u32::MIN,
    };
    let max = RtSmallInts {
        id: "max".into(),
        i8: i8::MAX,
        i16: i16::MAX,
        i32: i32::MAX,
        u8: u8::MAX,
        u16: u16::MAX,
        u32: u32::MAX,
    };
    let near = RtSmallInts {
        id: "near".into(),
        i8: -1,
        i16: 256,
        i32: (1 << 24) + 1,
        u8: 1,
        u16: 256,
        u32: 1 << 31,
    };
    for v in [&min, &max, &near] {
        let stored = typed_round_trip(&store, v).await;
        let expected: [(&str, i64); 6] = [
            ("i8", v.i8.into()),
            ("i16", v.i16.into()),
            ("i32", v.i32.into()),
            ("u8", v.u8.into()),
            ("u16", v.u16.into()),
            ("u32", v.u32.into()),
        ];
        for (name, n) in expected {
            let number = stored[name].as_number().expect("a number");
            assert!(number.is_integer(), "{name} must be stored as an integer");
            assert_eq!(number.as_i64(), Some(n), "{name}");
        }
    }
    let page = store
        .scan()
        .filter(f.i8().eq(i8::MIN).and(f.u32().eq(u32::MIN)))
        .await
        .unwrap();
    assert_eq!(page.items, vec![min.clone()]);
    let page = store
        .scan()
        .filter(f.u32().eq(u32::MAX).and(f.i32().eq(i32::MAX)))
        .await
        .unwrap();
    assert_eq!(page.items, vec![max.clone()]);
    let page = store.scan().filter(f.i16().lt(0i16)).await.unwrap();
    assert_eq!(sorted_ids(&page.items, |v| v.id.clone()), ["min"]);
    let page = store.scan().filter(f.u16().ge(256u16)).await.unwrap();
    assert_eq!(sorted_ids(&page.items, |v| v.id.clone()), ["max", "near"]);
}

#[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
#[kvs(store = "typed_rt_wide_ints", partition_key = id)]
struct RtWide {
    id: String,
    n: i64,
    u: u64,
}

/// i64 at its extremes and u64 up to `i64::MAX` round-trip exactly, or (on a backend
/// that keeps numbers as doubles) are refused with `Validation` naming the attribute and
/// nothing is written; they are never rounded. Within +-2^53 every backend keeps them.
pub async fn typed_rt_wide_integers(kvs: Kvs) {
    let store = fresh_typed_store::<RtWide>(&kvs).await;
    let f = RtWide::fields();
    const SAFE: i64 = 1 << 53;
    let wide = |id: &str, n: i64, u: u64| RtWide {
        id: id.into(),
        n,
        u,
    };
    for v in [
        wide("zero", 0, 0),
        wide("safe-max", SAFE, SAFE as u64),
        wide("safe-min", -SAFE, 1),
    ] {
        let stored = typed_round_trip(&store, &v).await;
        assert_eq!(stored["n"].as_i64(), Some(v.n));
        assert!(stored["u"].as_number().unwrap().is_integer());
    }
    let mut kept = Vec::new();
    for (v, attribute) in [
        (wide("min", i64::MIN, 0), "n"),
        (wide("max", i64::MAX, 0), "n"),
        (wide("max-1", i64::MAX - 1, 0), "n"),
        (wide("odd", SAFE + 1, 0), "n"),
        (wide("u-max", 0, i64::MAX as u64), "u"),
        (wide("u-odd", 0, SAFE as u64 + 1), "u"),
    ] {
        match store.upsert(&v).await {
            Ok(()) => {
                let stored = typed_round_trip(&store, &v).await;
                let number = stored[attribute].as_number().expect("a number");
                assert!(number.is_integer(), "{attribute} must stay an integer");
                kept.push(v.id.clone());
            }
            Err(e) => {
                assert!(
                    e.is(&ErrorKind::Validation),
                    "a wide integer must round-trip exactly or be Validation, got {e}"
                );
                assert_mentions(&e, attribute);
                assert_eq!(store.get(&v.id).await.unwrap(), None, "nothing is written");
            }
        }
    }
    if kept.iter().any(|id| id == "max") && kept.iter().any(|id| id == "max-1") {
        let page = store.scan().filter(f.n().eq(i64::MAX)).await.unwrap();
        assert_eq!(sorted_ids(&page.items, |v| v.id.clone()), ["max"]);
        let page = store.scan().filter(f.n().gt(i64::MAX - 1)).await.unwrap();
        assert_eq!(sorted_ids(&page.items, |v| v.id.clone()), ["max"]);
    }
    if kept.iter().any(|id| id == "odd") {
        let page = store.scan().filter(f.n().eq(SAFE + 1)).await.unwrap();
        assert_eq!(sorted_ids(&page.items, |v| v.id.clone()), ["odd"]);
    }
}

/// Fields wider than an `i64`, for integers another program wrote.
#[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
#[kvs(store = "typed_rt_wider_ints", partition_key = id)]
struct Wider {
    id: String,
    u: Option<u64>,
    // No typed paths: kvs writes no integer beyond an `i64` (`typed_u64_above_i64_max_rejected`).
    #[kvs(opaque)]
    i: Option<i128>,
    #[kvs(opaque)]
    w: Option<u128>,
}

/// Each of `Wider`'s fields alone, to read the same items field by field.
#[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
#[kvs(store = "typed_rt_wider_ints", partition_key = id)]
struct WiderU {
    id: String,
    u: Option<u64>,
}

#[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
#[kvs(store = "typed_rt_wider_ints", partition_key = id)]
struct WiderI {
    id: String,
    #[kvs(opaque)]
    i: Option<i128>,
}

#[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
#[kvs(store = "typed_rt_wider_ints", partition_key = id)]
struct WiderW {
    id: String,
    #[kvs(opaque)]
    w: Option<u128>,
}

/// The answer of a one-field read: the value, or `Serialization` naming the attribute.
fn read_or_refused<T: Debug + PartialEq>(
    got: crate::Result<Option<T>>,
    want: Option<T>,
    what: &str,
    attribute: &str,
) {
    match (got, want) {
        (Ok(Some(got)), Some(want)) => assert_eq!(got, want, "{what}"),
        (Err(e), None) => {
            assert!(e.is(&ErrorKind::Serialization), "{what}: {e}");
            assert_mentions(&e, attribute);
        }
        (got, want) => panic!("{what}: read {got:?}, expected {want:?}"),
    }
}

/// An integer beyond an `i64` that another program wrote, held exactly as a whole float
/// or a decimal, is read by a `u64`, `i128` or `u128` field that holds it (SEMANTICS:
/// a typed read fails only when the field cannot hold the value), by key and in a
/// scan; a field that cannot hold it fails with `Serialization` naming the attribute.
/// Numbers the backend cannot hold are left out (writing them is another case's).
pub async fn typed_rt_wider_integers_read_exactly(kvs: Kvs) {
    let caps = kvs.capabilities();
    let store = fresh_typed_store::<Wider>(&kvs).await;
    let (us, is, ws) = (
        kvs.store_named::<WiderU>(store.name()),
        kvs.store_named::<WiderI>(store.name()),
        kvs.store_named::<WiderW>(store.name()),
    );
    let number = |text: &str| text.parse::<Number>().expect("a number");
    // (id, the number written, what a u64, an i128 and a u128 field read; `None`: the
    // field refuses it.)
    let cases = [
        (
            "float-1e19",
            number("1e19"),
            Some(10u64.pow(19)),
            Some(10i128.pow(19)),
            Some(10u128.pow(19)),
        ),
        (
            "float-neg",
            number("-1e19"),
            None,
            Some(-(10i128.pow(19))),
            None,
        ),
        (
            "float-2^64",
            Number::from(18446744073709551616.0),
            None,
            Some(1 << 64),
            Some(1 << 64),
        ),
        (
            "dec-u64-max",
            number(&u64::MAX.to_string()),
            Some(u64::MAX),
            Some(i128::from(u64::MAX)),
            Some(u128::from(u64::MAX)),
        ),
        (
            "dec-past-i128",
            number("2.0000000000000000000000000000000000001e38"),
            None,
            None,
            Some(200000000000000000000000000000000000010),
        ),
    ];
    let mut written = 0;
    for (id, n, u, i, w) in cases {
        if !caps.stores_number(&n) {
            continue;
        }
        written += 1;
        let item = item! { "id" => id, "u" => n, "i" => n, "w" => n };
        kvs.upsert(store.name(), item).await.unwrap();
        let mk = |field: &str| format!("{id}.{field}");
        read_or_refused(
            us.get(id).await,
            u.map(|u| WiderU {
                id: id.into(),
                u: Some(u),
            }),
            &mk("u"),
            "u",
        );
        read_or_refused(
            is.get(id).await,
            i.map(|i| WiderI {
                id: id.into(),
                i: Some(i),
            }),
            &mk("i"),
            "i",
        );
        read_or_refused(
            ws.get(id).await,
            w.map(|w| WiderW {
                id: id.into(),
                w: Some(w),
            }),
            &mk("w"),
            "w",
        );
        // In a scan, the same: the one item, or the same refusal.
        let scanned = ws
            .scan()
            .filter(WiderW::fields().id().eq(id))
            .stream()
            .try_collect::<Vec<_>>()
            .await
            .map(|mut v| v.pop());
        read_or_refused(
            scanned,
            w.map(|w| WiderW {
                id: id.into(),
                w: Some(w),
            }),
            &mk("w in a scan"),
            "w",
        );
    }
    // Every backend holds the floats.
    assert!(written >= 3, "{written} cases written");
}

#[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
#[kvs(store = "typed_rt_floats", partition_key = id)]
struct RtFloats {
    id: String,
    f64: f64,
    f32: f32,
    flag: bool,
    f64s: Vec<f64>,
    f32s: Vec<f32>,
}

/// f64 and f32 round-trip bit for bit (0.1, 1e308, 5e-324, -0.0, subnormal and extreme
/// f32 values), bools as bools, and typed conditions find each exact value. An f64
/// outside the backend's `float_range` is refused (`Validation` naming the field,
/// nothing written) and the nearest float it stores round-trips in its place; where
/// the backend does not keep the sign of zero, `-0.0` reads back as `0.0`.
pub async fn typed_rt_floats_and_bools(kvs: Kvs) {
    let caps = kvs.capabilities();
    let store = fresh_typed_store::<RtFloats>(&kvs).await;
    let f = RtFloats::fields();
    let pairs: [(f64, f32); 11] = [
        (0.1, 0.1),
        (1e308, f32::MAX),
        (5e-324, f32::from_bits(1)),
        (-0.0, -0.0),
        (f64::MAX, f32::MIN_POSITIVE),
        (f64::MIN, f32::MIN),
        (f64::MIN_POSITIVE, 16_777_216.0),
        (2.0, 0.3),
        (-1e-300, 1e-40),
        (0.1 + 0.2, 1.1),
        (9_007_199_254_740_992.0, 3.0),
    ];
    let value = |i: usize, a: f64, b: f32| RtFloats {
        id: format!("f{i}"),
        f64: a,
        f32: b,
        flag: i.is_multiple_of(2),
        f64s: vec![a, -a, 0.5],
        f32s: vec![b, -b],
    };
    for (i, &(a, b)) in pairs.iter().enumerate() {
        if !caps.stores_float(a) {
            let refused = value(i, a, b);
            let err = expect_kind(store.upsert(&refused).await, ErrorKind::Validation);
            assert_mentions_any(&err, &["f64", "f64s"]);
            assert_eq!(store.get(&refused.id).await.unwrap(), None);
        }
    }
    let values: Vec<RtFloats> = pairs
        .iter()
        .enumerate()
        .map(|(i, &(a, b))| value(i, storable_stand_in(&caps, a), b))
        .collect();
    for v in &values {
        let stored = typed_round_trip(&store, v).await;
        let back = store.get(&v.id).await.unwrap().expect("the item");
        let at = format!("{:e} / {:e}f32 (the sign of zero too)", v.f64, v.f32);
        assert_same_float(&caps, back.f64, v.f64, &at);
        assert_same_float(&caps, back.f32.into(), v.f32.into(), &at);
        assert_eq!(back.f64s.len(), v.f64s.len());
        for (got, expected) in back.f64s.iter().zip(&v.f64s) {
            assert_same_float(&caps, *got, *expected, &at);
        }
        assert_eq!(back.f32s.len(), v.f32s.len());
        for (got, expected) in back.f32s.iter().zip(&v.f32s) {
            assert_same_float(&caps, (*got).into(), (*expected).into(), &at);
        }
        assert_eq!(stored["flag"], Value::from(v.flag));
        assert_eq!(stored["flag"].value_type(), ValueType::Bool);
        let page = store
            .scan()
            .filter(f.f64().eq(v.f64).and(f.f32().eq(v.f32)))
            .await
            .unwrap();
        assert_eq!(
            sorted_ids(&page.items, |v| v.id.clone()),
            [v.id.as_str()],
            "a typed condition finds {:e} / {:e}f32",
            v.f64,
            v.f32
        );
    }
    let page = store.scan().filter(f.flag().eq(true)).await.unwrap();
    assert_eq!(page.items.len(), values.iter().filter(|v| v.flag).count());
}

#[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
#[kvs(store = "typed_rt_bytes", partition_key = key)]
struct RtBlob {
    key: Bytes,
    data: Bytes,
    empty: Bytes,
    chunks: Vec<Bytes>,
    maybe: Option<Bytes>,
    raw: Vec<u8>,
}

/// `kvs::Bytes` round-trips as binary data: all 256 byte values, empty, in lists and
/// options, and as a partition key (gets, queries and typed conditions with bytes).
pub async fn typed_rt_bytes(kvs: Kvs) {
    let store = fresh_typed_store::<RtBlob>(&kvs).await;
    let f = RtBlob::fields();
    let all: Vec<u8> = (0..=255u8).collect();
    let mut reversed = all.clone();
    reversed.reverse();
    let values = [
        RtBlob {
            key: Bytes(all.clone()),
            data: Bytes(all.clone()),
            empty: Bytes(vec![]),
            chunks: vec![Bytes(vec![0]), Bytes(vec![]), Bytes(vec![255, 0])],
            maybe: Some(Bytes(vec![0xff; 3])),
            raw: all.clone(),
        },
        RtBlob {
            key: Bytes(vec![0]),
            data: Bytes(reversed.clone()),
            empty: Bytes(vec![]),
            chunks: vec![],
            maybe: None,
            raw: vec![],
        },
        RtBlob {
            key: Bytes(vec![255, 255]),
            data: Bytes(vec![0, 0, 0]),
            empty: Bytes(vec![]),
            chunks: vec![Bytes(all.clone())],
            maybe: Some(Bytes(vec![])),
            raw: vec![0, 255],
        },
    ];
    for v in &values {
        let stored = typed_round_trip(&store, v).await;
        assert_eq!(stored["key"], Value::bytes(v.key.0.clone()));
        assert_eq!(stored["data"], Value::bytes(v.data.0.clone()));
        assert_eq!(stored["empty"], Value::bytes(Vec::<u8>::new()));
    }
    assert_missing(
        &kvs.get(store.name(), Key::bytes(vec![0]))
            .await
            .unwrap()
            .unwrap(),
        &["maybe"],
    );
    assert_eq!(
        store.get(all.clone()).await.unwrap(),
        Some(values[0].clone())
    );
    assert_eq!(
        store.get(&[0u8][..]).await.unwrap(),
        Some(values[1].clone())
    );
    let page = store
        .query(RtBlob::partition(Bytes(all.clone())))
        .await
        .unwrap();
    assert_eq!(page.items, vec![values[0].clone()]);
    let page = store
        .scan()
        .filter(f.data().eq(Bytes(reversed.clone())))
        .await
        .unwrap();
    assert_eq!(page.items, vec![values[1].clone()]);
    let page = store
        .scan()
        .filter(f.chunks().contains(Bytes(vec![255, 0])))
        .await
        .unwrap();
    assert_eq!(page.items, vec![values[0].clone()]);

    let updated = store
        .update(Bytes(vec![0]))
        .set(f.data(), Bytes(all.clone()))
        .set(f.maybe(), Some(Bytes(reversed.clone())))
        .append(f.chunks(), [Bytes(vec![])])
        .await
        .unwrap();
    let expected = RtBlob {
        data: Bytes(all.clone()),
        maybe: Some(Bytes(reversed.clone())),
        chunks: vec![Bytes(vec![])],
        ..values[1].clone()
    };
    assert_eq!(updated, expected);
    assert_eq!(store.get(vec![0u8]).await.unwrap(), Some(expected));
}
