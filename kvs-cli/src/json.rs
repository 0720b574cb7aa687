//! Values as JSON: DynamoDB's typed JSON (`{"S": ..}`, `{"N": "exact text"}`, ...),
//! which keeps every value exactly and is the export format's, and plain JSON for
//! reading results (numbers written with their exact digits, bytes as base64).

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use kvs::{Item, Number, Value};
use serde_json::{Map, Value as Json};

/// A value as DynamoDB's typed JSON: exact and self-describing.
pub fn to_typed(value: &Value) -> Json {
    let one = |tag: &str, v: Json| {
        let mut m = Map::new();
        m.insert(tag.to_owned(), v);
        Json::Object(m)
    };
    match value {
        Value::Null => one("NULL", Json::Bool(true)),
        Value::Bool(b) => one("BOOL", Json::Bool(*b)),
        Value::Number(n) => one("N", Json::String(number_text(n))),
        Value::String(s) => one("S", Json::String(s.clone())),
        Value::Bytes(b) => one("B", Json::String(B64.encode(b))),
        Value::List(items) => one("L", Json::Array(items.iter().map(to_typed).collect())),
        Value::Map(m) => one("M", Json::Object(typed_map(m))),
        Value::StringSet(s) => one("SS", s.iter().map(|s| Json::String(s.clone())).collect()),
        Value::NumberSet(s) => one(
            "NS",
            s.iter().map(|n| Json::String(number_text(n))).collect(),
        ),
        Value::BytesSet(s) => one(
            "BS",
            s.iter().map(|b| Json::String(B64.encode(b))).collect(),
        ),
    }
}

/// A number's exact text, a float's always with a point or an exponent (a whole float's
/// text can be an integer's: `1152921504606846976` for 2^60), so that [`parse_number`]
/// gives a float back as a float, and `-0.0` with its sign.
fn number_text(n: &Number) -> String {
    let text = n.to_string();
    let float = !n.is_integer() && !n.is_decimal();
    if float && !text.contains(['.', 'e', 'E']) {
        format!("{text}.0")
    } else {
        text
    }
}

/// A number from its exact text. A number written with a point or an exponent that is
/// exactly a float's value is that float (`2.0`, `-0.0`, `1152921504606846976.0`), as
/// kvs's own stores keep a float apart from the equal integer; parsing alone would give
/// the integer (`1 == 1.0`: equal, but of another kind, and `-0.0` without its sign).
fn parse_number(text: &str) -> Result<Number, kvs::Error> {
    let n: Number = text.parse()?;
    if n.is_integer()
        && text.contains(['.', 'e', 'E'])
        && let Ok(f) = text.parse::<f64>()
        && f.is_finite()
        && Number::from(f) == n
    {
        return Ok(Number::from(f));
    }
    Ok(n)
}

fn typed_map(m: &BTreeMap<String, Value>) -> Map<String, Json> {
    m.iter().map(|(k, v)| (k.clone(), to_typed(v))).collect()
}

/// An item as a typed JSON object: attribute name to typed value.
pub fn item_to_typed(item: &Item) -> Json {
    Json::Object(typed_map(item.as_map()))
}

/// Reads a typed JSON value; the error names where (`at`) and what is wrong.
pub fn from_typed(json: &Json, at: &str) -> Result<Value, String> {
    let Json::Object(m) = json else {
        return Err(format!(
            "{at}: a typed value is an object such as {{\"S\": \"text\"}}, not {json}"
        ));
    };
    let mut entries = m.iter();
    let (Some((tag, v)), None) = (entries.next(), entries.next()) else {
        return Err(format!(
            "{at}: a typed value has exactly one type key (S, N, B, BOOL, NULL, L, M, SS, NS, BS)"
        ));
    };
    let text = |v: &Json| -> Result<String, String> {
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("{at}: {tag} takes a JSON string, not {v}"))
    };
    let number = |v: &Json| -> Result<Number, String> {
        let t = text(v)?;
        parse_number(&t).map_err(|e| format!("{at}: {}", e.message()))
    };
    let bytes = |v: &Json| -> Result<Vec<u8>, String> {
        B64.decode(text(v)?)
            .map_err(|e| format!("{at}: {tag} takes base64 text ({e})"))
    };
    let array = |v: &Json| -> Result<Vec<Json>, String> {
        v.as_array()
            .cloned()
            .ok_or_else(|| format!("{at}: {tag} takes a JSON array, not {v}"))
    };
    Ok(match tag.as_str() {
        "NULL" if v == &Json::Bool(true) => Value::Null,
        "NULL" => return Err(format!("{at}: NULL takes true, not {v}")),
        "BOOL" => Value::Bool(
            v.as_bool()
                .ok_or_else(|| format!("{at}: BOOL takes true or false, not {v}"))?,
        ),
        "N" => Value::Number(number(v)?),
        "S" => Value::String(text(v)?),
        "B" => Value::Bytes(bytes(v)?),
        "L" => Value::List(
            array(v)?
                .iter()
                .enumerate()
                .map(|(i, e)| from_typed(e, &format!("{at}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        "M" => {
            let Json::Object(m) = v else {
                return Err(format!("{at}: M takes a JSON object, not {v}"));
            };
            Value::Map(
                m.iter()
                    .map(|(k, e)| Ok((k.clone(), from_typed(e, &format!("{at}.{k}"))?)))
                    .collect::<Result<_, String>>()?,
            )
        }
        "SS" => Value::StringSet(
            array(v)?
                .iter()
                .map(text)
                .collect::<Result<BTreeSet<_>, _>>()?,
        ),
        "NS" => Value::NumberSet(
            array(v)?
                .iter()
                .map(number)
                .collect::<Result<BTreeSet<_>, _>>()?,
        ),
        "BS" => Value::BytesSet(
            array(v)?
                .iter()
                .map(bytes)
                .collect::<Result<BTreeSet<_>, _>>()?,
        ),
        other => {
            return Err(format!(
                "{at}: unknown type {other:?} (S, N, B, BOOL, NULL, L, M, SS, NS, BS)"
            ));
        }
    })
}

/// Reads a typed JSON item (an object of typed values).
pub fn item_from_typed(json: &Json) -> Result<Item, String> {
    let Json::Object(m) = json else {
        return Err(format!("an item is a JSON object, not {json}"));
    };
    m.iter()
        .map(|(k, v)| Ok((k.clone(), from_typed(v, k)?)))
        .collect::<Result<BTreeMap<_, _>, String>>()
        .map(Item::from)
}

/// Writes `value` as plain JSON: numbers with their exact digits, bytes as base64
/// strings, sets as arrays. Readable by anything, but not typed: `--typed` prints
/// DynamoDB's typed JSON instead, which keeps bytes and sets apart from strings and
/// lists.
pub fn write_plain(value: &Value, out: &mut String) {
    let string = |s: &str, out: &mut String| {
        out.push_str(&serde_json::to_string(s).expect("a string is always JSON"));
    };
    let array = |items: &mut dyn Iterator<Item = &Value>, out: &mut String| {
        out.push('[');
        for (i, v) in items.enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_plain(v, out);
        }
        out.push(']');
    };
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(n, out),
        Value::String(s) => string(s, out),
        Value::Bytes(b) => string(&B64.encode(b), out),
        Value::List(items) => array(&mut items.iter(), out),
        Value::Map(m) => write_plain_map(m, out),
        Value::StringSet(s) => {
            let v: Vec<Value> = s.iter().map(|s| Value::String(s.clone())).collect();
            array(&mut v.iter(), out)
        }
        Value::NumberSet(s) => {
            let v: Vec<Value> = s.iter().map(|n| Value::Number(*n)).collect();
            array(&mut v.iter(), out)
        }
        Value::BytesSet(s) => {
            let v: Vec<Value> = s.iter().map(|b| Value::Bytes(b.clone())).collect();
            array(&mut v.iter(), out)
        }
    }
}

/// A number's exact text, made valid JSON (Rust prints `1e300`, JSON takes it; a float
/// printed as `2.0` stays so).
fn write_number(n: &Number, out: &mut String) {
    out.push_str(&n.to_string());
}

fn write_plain_map(m: &BTreeMap<String, Value>, out: &mut String) {
    out.push('{');
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&serde_json::to_string(k).expect("a string is always JSON"));
        out.push(':');
        write_plain(v, out);
    }
    out.push('}');
}

/// An item as one line of plain JSON.
pub fn item_plain(item: &Item) -> String {
    let mut out = String::new();
    write_plain_map(item.as_map(), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_type() -> Item {
        Item::new()
            .with("s", "héllo \"q\"")
            .with(
                "big",
                "12345678901234567890.123456789".parse::<Number>().unwrap(),
            )
            .with("neg", -42)
            .with("f", 0.1)
            .with("b", Value::bytes([0u8, 255, 7]))
            .with("ss", Value::string_set(["a", "b"]))
            .with("ns", Value::number_set([1, -2]))
            .with("bs", Value::bytes_set([vec![1u8], vec![2u8]]))
            .with(
                "m",
                Value::Map([("k".to_owned(), Value::list([Value::Null, true.into()]))].into()),
            )
            .with("nul", Value::Null)
    }

    /// A float stays a float, of the same sign, through typed JSON (kvs's stores keep a
    /// whole float apart from the equal integer), and an integer an integer: whole
    /// floats, `-0.0`, floats beyond 2^53 whose text is an integer's, in sets too.
    #[test]
    fn typed_json_keeps_the_kind_of_every_number() {
        let numbers = [
            Number::from(2.0),
            Number::from(-0.0),
            Number::from(1_152_921_504_606_846_976.0),
            Number::from(1e19),
            Number::from(-2.5),
            Number::from(2),
            Number::from(0),
            Number::from(i64::MIN),
            "12345678901234567890.123456789".parse().unwrap(),
        ];
        for n in numbers {
            let json = to_typed(&Value::Number(n));
            let back = from_typed(&json, "n").unwrap();
            let Value::Number(m) = back else {
                panic!("{json} read as {back:?}")
            };
            assert_eq!(m, n, "{json}");
            assert_eq!(
                (m.is_integer(), m.is_decimal()),
                (n.is_integer(), n.is_decimal()),
                "{json}"
            );
            assert_eq!(
                m.as_f64().map(f64::is_sign_negative),
                n.as_f64().map(f64::is_sign_negative),
                "{json}"
            );
        }
        let set = Value::NumberSet([Number::from(2.0), Number::from(3)].into());
        let Value::NumberSet(back) = from_typed(&to_typed(&set), "ns").unwrap() else {
            panic!("a number set")
        };
        let kinds: Vec<bool> = back.iter().map(Number::is_integer).collect();
        assert_eq!(kinds, [false, true]);
        // Text from another program: an integer with a point is the equal float.
        let typed = |t: &str| from_typed(&serde_json::json!({ "N": t }), "n").unwrap();
        assert_eq!(typed("7"), Value::from(7));
        assert!(!typed("7.0").as_number().unwrap().is_integer());
    }

    #[test]
    fn typed_json_round_trips_every_type_exactly() {
        let item = every_type();
        let json = item_to_typed(&item);
        let text = serde_json::to_string(&json).unwrap();
        assert!(
            text.contains(r#""N":"12345678901234567890.123456789""#),
            "{text}"
        );
        let back = item_from_typed(&serde_json::from_str(&text).unwrap()).unwrap();
        assert_eq!(back, item);
    }

    #[test]
    fn bad_typed_values_say_where() {
        let bad = serde_json::json!({"a": {"M": {"b": {"N": "12x"}}}});
        let err = item_from_typed(&bad).unwrap_err();
        assert!(err.starts_with("a.M") || err.starts_with("a.b"), "{err}");
        let bad = serde_json::json!({"a": {"Q": "x"}});
        assert!(item_from_typed(&bad).unwrap_err().contains("unknown type"));
    }

    #[test]
    fn plain_json_keeps_number_digits() {
        let line = item_plain(&every_type());
        assert!(
            line.contains(r#""big":12345678901234567890.123456789"#),
            "{line}"
        );
        let parsed: Json = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["neg"], Json::from(-42));
    }
}
