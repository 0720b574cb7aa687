//! An order-preserving encoding of key values: comparing two encodings byte by byte
//! gives the same order as comparing the values by the contract (numbers numerically
//! with `1 == 1.0`, strings by their UTF-8 bytes, bytes by bytes).
//!
//! A number is its sign, then the binary form of its magnitude (exponent, then
//! fraction), so that integers, floats and decimals interleave by value. Integers and
//! floats take 10 bytes after the sign, whose last bit is always 0 (an i64 has at most
//! 63 significant bits, an f64 53). A decimal (which never equals an integer or a
//! float) takes 19: the first 63 bits of its fraction with that last bit set, which
//! places it after every integer or float it does not exceed and before the next, then
//! 65 more bits of its fraction. Two decimals of 38 digits lie further apart than the
//! 128 bits of fraction resolve, so that is enough to order them. Files written before
//! decimals existed hold only the 10-byte forms, which are unchanged.
//!
//! Every encoded value is self-delimiting, so a concatenation of encodings sorts like
//! the tuple of the values, and the encoding of a partition value is a prefix of exactly
//! the keys in that partition.

use std::cell::RefCell;

use crate::{Key, Number, Value};

const TAG_NUMBER: u8 = 0x10;
const TAG_STRING: u8 = 0x20;
const TAG_BYTES: u8 = 0x30;

const NEGATIVE: u8 = 0x01;
const ZERO: u8 = 0x02;
const POSITIVE: u8 = 0x03;

/// Binary exponents run from -1074 (the smallest subnormal f64) to 1023; the bias makes
/// them all positive.
const EXPONENT_BIAS: i32 = 1100;

/// Appends the order-preserving encoding of a key value. Only strings, numbers and
/// bytes are key values; anything else is encoded by its type tag alone, which the
/// schema checks keep from ever happening.
pub fn encode_key_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Number(n) => encode_number(n, out),
        Value::String(s) => {
            out.push(TAG_STRING);
            encode_escaped(s.as_bytes(), out);
        }
        Value::Bytes(b) => {
            out.push(TAG_BYTES);
            encode_escaped(b, out);
        }
        other => out.push(0xF0 + other.value_type() as u8),
    }
}

/// `0x00` becomes `0x00 0xFF` and the end is `0x00 0x01`, so that a value sorts before
/// every longer value it is a prefix of, and no encoding is a prefix of another.
fn encode_escaped(bytes: &[u8], out: &mut Vec<u8>) {
    out.reserve(bytes.len() + 2);
    // Copied a run at a time: most values hold no NUL at all.
    let mut rest = bytes;
    while let Some(at) = rest.iter().position(|&b| b == 0) {
        out.extend_from_slice(&rest[..=at]);
        out.push(0xFF);
        rest = &rest[at + 1..];
    }
    out.extend_from_slice(rest);
    out.extend_from_slice(&[0x00, 0x01]);
}

/// The normalized binary form `2^exponent * 1.fraction` of a non-zero magnitude, with the
/// fraction's bits left-aligned in a u64. An i64 and an f64 of the same value give the
/// same pair, so `1` and `1.0` encode identically.
fn binary_form(n: &Number) -> Option<(i32, u64)> {
    if n.is_zero() {
        return None;
    }
    if let Some(f) = n.float() {
        let bits = f.to_bits();
        let biased = ((bits >> 52) & 0x7FF) as i32;
        let mantissa = bits & ((1 << 52) - 1);
        if biased == 0 {
            // Subnormal: value = mantissa * 2^-1074; normalize on its highest set bit.
            let lz = mantissa.leading_zeros();
            let high = 63 - lz as i32;
            let fraction = mantissa.checked_shl(lz + 1).unwrap_or(0);
            Some((high - 1074, fraction))
        } else {
            Some((biased - 1023, mantissa << 12))
        }
    } else {
        let i = n.as_i64().unwrap_or_default();
        let magnitude = i.unsigned_abs();
        let lz = magnitude.leading_zeros();
        let fraction = magnitude.checked_shl(lz + 1).unwrap_or(0);
        Some((63 - lz as i32, fraction))
    }
}

fn encode_number(n: &Number, out: &mut Vec<u8>) {
    out.push(TAG_NUMBER);
    if let Some(d) = n.to_decimal().filter(|_| n.is_decimal()) {
        return encode_decimal(&d, out);
    }
    let Some((exponent, fraction)) = binary_form(n) else {
        out.push(ZERO);
        return;
    };
    let exponent = (exponent + EXPONENT_BIAS) as u16;
    let mut body = [0u8; 10];
    body[..2].copy_from_slice(&exponent.to_be_bytes());
    body[2..].copy_from_slice(&fraction.to_be_bytes());
    if n.is_negative() {
        // A larger magnitude is a smaller negative number.
        out.push(NEGATIVE);
        out.extend(body.iter().map(|b| !b));
    } else {
        out.push(POSITIVE);
        out.extend_from_slice(&body);
    }
}

/// A decimal's sign and magnitude (see the module docs); a decimal is never zero.
fn encode_decimal(d: &crate::Decimal, out: &mut Vec<u8>) {
    let b = d.binary();
    let exponent = (b.exponent + EXPONENT_BIAS) as u16;
    let head = (((b.fraction >> 65) as u64) << 1) | 1;
    let tail = (b.fraction & ((1 << 65) - 1)).to_be_bytes();
    let mut body = [0u8; 19];
    body[..2].copy_from_slice(&exponent.to_be_bytes());
    body[2..10].copy_from_slice(&head.to_be_bytes());
    // 65 bits: the last 9 of the 16 bytes.
    body[10..].copy_from_slice(&tail[7..]);
    if d.is_negative() {
        out.push(NEGATIVE);
        out.extend(body.iter().map(|b| !b));
    } else {
        out.push(POSITIVE);
        out.extend_from_slice(&body);
    }
}

/// The encoded primary key of an item: partition value, then sort value.
pub fn table_key(key: &Key) -> Vec<u8> {
    let mut out = Vec::with_capacity(32);
    encode_table_key(key, &mut out);
    out
}

fn encode_table_key(key: &Key, out: &mut Vec<u8>) {
    encode_key_value(key.partition(), out);
    if let Some(sort) = key.sort() {
        encode_key_value(sort, out);
    }
}

/// Runs `f` on [`table_key`]`(key)`, encoded into a buffer the thread keeps for the
/// next key: a read by key allocates nothing to encode it.
pub(crate) fn with_table_key<R>(key: &Key, f: impl FnOnce(&[u8]) -> R) -> R {
    /// Larger buffers are not kept: a rare huge key should not pin its memory.
    const KEEP: usize = 1024;
    thread_local! {
        static BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }
    BUF.with(|buf| match buf.try_borrow_mut() {
        Ok(mut buf) => {
            buf.clear();
            encode_table_key(key, &mut buf);
            let out = f(&buf);
            if buf.capacity() > KEEP {
                *buf = Vec::new();
            }
            out
        }
        // Only if `f` encodes a key this way itself: that one gets its own buffer.
        Err(_) => f(&table_key(key)),
    })
}

/// The encoded key of an index entry: index partition value, index sort value, then the
/// item's primary key, so that ties in the index come in primary key order.
pub fn index_key(index_key: &Key, table_key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + table_key.len());
    encode_key_value(index_key.partition(), &mut out);
    if let Some(sort) = index_key.sort() {
        encode_key_value(sort, &mut out);
    }
    out.extend_from_slice(table_key);
    out
}

/// The smallest byte string greater than every string that starts with `prefix`, or
/// `None` if there is none (the prefix is all `0xFF`).
pub fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut out = prefix.to_vec();
    while let Some(last) = out.pop() {
        if last != 0xFF {
            out.push(last + 1);
            return Some(out);
        }
    }
    None
}

/// Appends a string or bytes prefix in the escaped form, without the terminator: a
/// prefix of the encoding of every value that starts with it.
pub fn encode_prefix(value: &Value, out: &mut Vec<u8>) {
    let (tag, bytes) = match value {
        Value::String(s) => (TAG_STRING, s.as_bytes()),
        Value::Bytes(b) => (TAG_BYTES, b.as_slice()),
        other => {
            encode_key_value(other, out);
            return;
        }
    };
    out.push(tag);
    for &b in bytes {
        out.push(b);
        if b == 0 {
            out.push(0xFF);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn enc(v: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        encode_key_value(v, &mut out);
        out
    }

    fn number() -> impl Strategy<Value = Number> {
        prop_oneof![
            crate::decimal::tests::any_decimal().prop_map(Number::from),
            // Decimals close to integers and floats, on either side.
            (any::<i32>(), 1u32..4, any::<bool>()).prop_map(|(i, places, up)| {
                let sign = if up { "" } else { "-" };
                let tiny: Number = format!("{sign}1e-{}", 16 + places * 4).parse().unwrap();
                Number::from(i).checked_add(&tiny).unwrap()
            }),
            (-1000i64..1000, 1u32..4).prop_map(|(i, places)| {
                let f = i as f64 / 4.0;
                let tiny: Number = format!("1e-{}", 16 + places * 4).parse().unwrap();
                Number::from(f).checked_add(&tiny).unwrap()
            }),
            any::<i64>().prop_map(Number::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Number::from),
            (-1000i64..1000).prop_map(Number::from),
            (-1000i64..1000).prop_map(|i| Number::from(i as f64 / 4.0)),
            prop_oneof![Just(i64::MIN), Just(i64::MAX), Just(0), Just(1), Just(-1)]
                .prop_map(Number::from),
            prop_oneof![
                Just(f64::MIN_POSITIVE),
                Just(-f64::MIN_POSITIVE),
                Just(f64::MAX),
                Just(f64::MIN),
                Just(5e-324),
                Just(-5e-324),
                Just(9_223_372_036_854_775_808.0),
                Just(-9_223_372_036_854_775_808.0),
                Just(-0.0)
            ]
            .prop_map(Number::from),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn numbers_sort_numerically(a in number(), b in number()) {
            let (ea, eb) = (enc(&Value::Number(a)), enc(&Value::Number(b)));
            prop_assert_eq!(ea.cmp(&eb), a.cmp(&b), "{} vs {}", a, b);
        }

        /// Encodings are prefix-free across kinds: a partition's encoding starts no
        /// other partition's key.
        #[test]
        fn number_encodings_are_not_prefixes_of_each_other(a in number(), b in number()) {
            let (ea, eb) = (enc(&Value::Number(a)), enc(&Value::Number(b)));
            if a != b {
                prop_assert!(!eb.starts_with(&ea), "{} is a prefix of {}", a, b);
            } else {
                prop_assert_eq!(ea, eb);
            }
        }

        #[test]
        fn integral_floats_encode_like_integers(i in any::<i64>()) {
            let f = i as f64;
            if Number::from(f) == Number::from(i) {
                prop_assert_eq!(enc(&Value::from(f)), enc(&Value::from(i)));
            }
        }

        #[test]
        fn strings_sort_by_utf8_bytes(a in ".*", b in ".*") {
            let (ea, eb) = (enc(&Value::from(a.as_str())), enc(&Value::from(b.as_str())));
            prop_assert_eq!(ea.cmp(&eb), a.as_bytes().cmp(b.as_bytes()));
        }

        #[test]
        fn bytes_sort_by_bytes(a in proptest::collection::vec(any::<u8>(), 0..12),
                               b in proptest::collection::vec(any::<u8>(), 0..12)) {
            let (ea, eb) = (enc(&Value::Bytes(a.clone())), enc(&Value::Bytes(b.clone())));
            prop_assert_eq!(ea.cmp(&eb), a.cmp(&b));
        }

        #[test]
        fn composite_keys_sort_like_tuples(a1 in "[a\\x00b]{0,4}", a2 in any::<i32>(),
                                           b1 in "[a\\x00b]{0,4}", b2 in any::<i32>()) {
            let ka = table_key(&Key::with_sort(a1.as_str(), a2));
            let kb = table_key(&Key::with_sort(b1.as_str(), b2));
            prop_assert_eq!(ka.cmp(&kb), (a1.as_bytes(), a2).cmp(&(b1.as_bytes(), b2)));
        }

        #[test]
        fn prefixes_select_exactly_the_values_that_start_with_them(
            s in "[a\\x00\\xff\u{e9}]{0,6}", p in "[a\\x00\\xff\u{e9}]{0,3}") {
            let mut ep = Vec::new();
            encode_prefix(&Value::from(p.as_str()), &mut ep);
            prop_assert_eq!(enc(&Value::from(s.as_str())).starts_with(&ep), s.starts_with(p.as_str()));
        }
    }

    #[test]
    fn decimals_sort_between_their_neighbours() {
        let n = |s: &str| s.parse::<Number>().unwrap();
        let sorted = [
            "-9.9999999999999999999999999999999999999e125",
            "-1e30",
            "-9223372036854775809",
            "-9223372036854775808",
            "-1.00000000000000000001",
            "-1",
            "-0.99999999999999999999",
            "-1e-130",
            "0",
            "1e-130",
            // The float 0.1 is 0.1000000000000000055511151231257827...: numbers compare
            // by the values they hold.
            "0.10000000000000000001",
            "0.1",
            "0.1000000000000000056",
            "1",
            "1.0000000000000000000000000000000000001",
            "1.0000000000000002",
            "9223372036854775807",
            "9223372036854775807.5",
            "9223372036854775808",
            "12345678901234567890123456789012345678",
            "9.9999999999999999999999999999999999999e125",
        ];
        for w in sorted.windows(2) {
            let (a, b) = (n(w[0]), n(w[1]));
            assert!(a < b, "{a} < {b}");
            let (ea, eb) = (enc(&Value::Number(a)), enc(&Value::Number(b)));
            assert!(ea < eb, "encoding of {a} < {b}");
        }
    }

    #[test]
    fn prefix_successor_skips_ff() {
        assert_eq!(prefix_successor(&[1, 2, 0xFF]), Some(vec![1, 3]));
        assert_eq!(prefix_successor(&[0xFF, 0xFF]), None);
    }
}
