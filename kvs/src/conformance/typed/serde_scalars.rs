//! Conformance cases of serde types through `to_item` and `from_item`: scalars, integers at their extremes, floats.

use super::*;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Scalars {
    id: String,
    text: String,
    letter: char,
    i8: i8,
    i16: i16,
    i32: i32,
    i64: i64,
    u8: u8,
    u16: u16,
    u32: u32,
    u64: u64,
    f32: f32,
    f64: f64,
    flag: bool,
}

/// Strings, chars, every integer type at its extremes, f32, f64 and bool round-trip. An
/// f64 outside the backend's `float_range`, or an i64 or u64 outside its `integer_range`,
/// is refused (`Validation` naming the field, nothing written); the nearest number it
/// stores round-trips in its place.
pub async fn typed_scalars_round_trip(kvs: Kvs) {
    let caps = kvs.capabilities();
    let store = records(&kvs).await;
    let highs = Scalars {
        id: "highs".into(),
        text: "h\u{e9}llo \u{1F600} \0 end".into(),
        letter: '\u{1F600}',
        i8: i8::MAX,
        i16: i16::MAX,
        i32: i32::MAX,
        i64: i64::MAX,
        u8: u8::MAX,
        u16: u16::MAX,
        u32: u32::MAX,
        u64: i64::MAX as u64,
        f32: f32::MAX,
        f64: f64::MAX,
        flag: true,
    };
    let lows = Scalars {
        id: "lows".into(),
        text: String::new(),
        letter: 'a',
        i8: i8::MIN,
        i16: i16::MIN,
        i32: i32::MIN,
        i64: i64::MIN,
        u8: 0,
        u16: 0,
        u32: 0,
        u64: 0,
        f32: f32::MIN_POSITIVE,
        f64: 5e-324,
        flag: false,
    };
    let odd = Scalars {
        id: "odd".into(),
        text: "x".repeat(10_000),
        letter: '\0',
        i8: -1,
        i16: -300,
        i32: 70_000,
        i64: 9_007_199_254_740_993,
        u8: 7,
        u16: 300,
        u32: 70_000,
        u64: 9_007_199_254_740_993,
        f32: 0.1,
        f64: 0.1,
        flag: true,
    };
    for value in [&highs, &lows, &odd] {
        // Where the backend declares an integer range (doubles), the wide i64 and u64
        // stand at its edges (u64s here are at most i64::MAX); elsewhere they are kept.
        let ints = Scalars {
            i64: storable_int(&caps, value.i64),
            u64: storable_int(&caps, value.u64 as i64) as u64,
            ..value.clone()
        };
        if !caps.stores_float(value.f64) {
            let it = to_item(&ints).expect("to_item");
            assert_unstorable(&kvs, &store, it, &["f64"]).await;
        }
        let value = &Scalars {
            f64: storable_stand_in(&caps, value.f64),
            ..value.clone()
        };
        if !stores_int(&caps, value.i64) || !stores_int(&caps, value.u64 as i64) {
            let it = to_item(value).expect("to_item");
            assert_unstorable(&kvs, &store, it, &["i64", "u64"]).await;
        }
        let value = &Scalars {
            f64: value.f64,
            ..ints
        };
        let stored = round_trip(&kvs, &store, value).await;
        for int in ["i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64"] {
            let n = stored[int].as_number().expect("a number");
            assert!(n.is_integer(), "{int} must be stored as an integer");
        }
        for (float, expected) in [("f32", f64::from(value.f32)), ("f64", value.f64)] {
            let n = stored[float].as_number().expect("a number");
            assert_same_number(&caps, n, Number::from(expected), float);
            if caps.keeps_number_kind {
                assert!(!n.is_integer(), "{float} must be stored as a float");
            }
        }
        assert_eq!(stored["flag"].value_type(), ValueType::Bool);
        assert_eq!(stored["letter"].value_type(), ValueType::String);
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Big {
    id: String,
    n: u64,
}

/// A u64 above `i64::MAX` is `Serialization` from `to_item` naming the number and the
/// attribute. `i64::MAX`
/// itself round-trips, or, where the backend declares an integer range without it
/// (doubles), is `Validation` naming the field and the edge of the range round-trips.
pub async fn typed_u64_above_i64_max_rejected(kvs: Kvs) {
    let caps = kvs.capabilities();
    let store = records(&kvs).await;
    for n in [i64::MAX as u64 + 1, u64::MAX] {
        let err = expect_kind(
            to_item(&Big {
                id: "big".into(),
                n,
            }),
            ErrorKind::Serialization,
        );
        assert_mentions(&err, &n.to_string());
        // Named, as every refused attribute is.
        assert!(err.message().starts_with("attribute \"n\""), "{err}");
    }
    let ok = Big {
        id: "ok".into(),
        n: i64::MAX as u64,
    };
    if !stores_int(&caps, i64::MAX) {
        let it = to_item(&ok).expect("to_item");
        assert_unstorable(&kvs, &store, it, &["n"]).await;
    }
    let ok = Big {
        n: storable_int(&caps, i64::MAX) as u64,
        ..ok
    };
    round_trip(&kvs, &store, &ok).await;
    assert_eq!(kvs.get(&store, "big").await.unwrap(), None);
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Floaty {
    id: String,
    whole: f64,
    neg_zero: f64,
    count: i64,
}

/// A float field stays a float (even `2.0`), an integer field an integer; -0.0 keeps its sign.
/// Where the backend has one number type (`!keeps_number_kind`) `2.0` may be stored as the
/// equal integer, and where it does not keep the sign of zero `-0.0` reads back as `0.0`;
/// the typed field reads back the same f64 either way.
pub async fn typed_float_field_stays_float(kvs: Kvs) {
    let caps = kvs.capabilities();
    let store = records(&kvs).await;
    let value = Floaty {
        id: "f".into(),
        whole: 2.0,
        neg_zero: -0.0,
        count: 2,
    };
    let stored = round_trip(&kvs, &store, &value).await;
    let whole = stored["whole"].as_number().unwrap();
    if caps.keeps_number_kind {
        assert!(!whole.is_integer());
    }
    assert_same_number(&caps, whole, Number::from(2.0), "whole");
    assert!(stored["count"].as_number().unwrap().is_integer());
    let back: Floaty = from_item(stored).unwrap();
    assert_same_float(&caps, back.whole, 2.0, "whole");
    if caps.keeps_negative_zero {
        assert!(back.neg_zero.is_sign_negative());
    }
    assert_same_float(&caps, back.neg_zero, -0.0, "neg_zero");
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Measured {
    id: String,
    reading: f64,
}

/// A NaN or infinite float field is rejected naming the field, and nothing is written.
pub async fn typed_non_finite_field_rejected(kvs: Kvs) {
    let store = records(&kvs).await;
    for reading in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let result = match to_item(&Measured {
            id: "m".into(),
            reading,
        }) {
            Ok(it) => kvs.upsert(&store, it).await,
            Err(e) => Err(e),
        };
        let err = match result {
            Ok(()) => panic!("a non-finite field was written"),
            Err(e) => e,
        };
        assert!(
            err.is(&ErrorKind::Validation) || err.is(&ErrorKind::Serialization),
            "expected Validation (or Serialization from to_item), got {err}"
        );
        assert_mentions(&err, "reading");
    }
    assert_eq!(kvs.get(&store, "m").await.unwrap(), None);
}
