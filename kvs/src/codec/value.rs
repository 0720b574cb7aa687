//! The compact binary encoding of values and items.
//!
//! Decoding is total: any byte string gives a value or an error, never a panic, and
//! never an allocation larger than the input justifies.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::{Error, ErrorKind, Item, Number, Result, Value};

pub(super) const FORMAT_VERSION: u8 = 1;
pub(super) const MAX_DECODE_DEPTH: usize = 64;

/// The most elements reserved ahead for a list or map: a count is checked only against
/// the bytes left, and a value is many times the size of the byte that can encode it,
/// so corrupt counts nested to the depth limit would otherwise reserve gigabytes. A
/// longer container grows as it is read.
const MOST_RESERVED: usize = 1024;

pub(super) const NULL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
pub(super) const INT: u8 = 3;
pub(super) const FLOAT: u8 = 4;
pub(super) const STRING: u8 = 5;
const BYTES: u8 = 6;
pub(super) const LIST: u8 = 7;
pub(super) const MAP: u8 = 8;
pub(super) const STRING_SET: u8 = 9;
pub(super) const NUMBER_SET: u8 = 10;
pub(super) const BYTES_SET: u8 = 11;
/// A decimal neither an i64 nor an f64 holds (added after the first files were written:
/// files without decimals are unchanged, and older files read as before).
pub(super) const DECIMAL: u8 = 12;

/// Encodes an item, with a leading format version byte.
pub fn encode_item(item: &Item) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.push(FORMAT_VERSION);
    encode_map(item.as_map(), &mut out);
    out
}

/// Decodes what [`encode_item`] wrote.
pub fn decode_item(bytes: &[u8]) -> Result<Item> {
    Ok(Item::from(Reader::new(bytes).item()?))
}

/// [`decode_item`] of bytes kvs stored: an error is a `Backend` error.
pub(crate) fn decode_stored_item(bytes: &[u8]) -> Result<Item> {
    Ok(Item::from(Reader::new(bytes).item().map_err(stored)?))
}

pub(super) fn stored(e: impl Into<Error>) -> Error {
    Error::new(
        ErrorKind::Backend,
        format!("a stored item is corrupt ({})", e.into().message()),
    )
}

/// Appends the encoding of one value.
pub fn encode_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.push(NULL),
        Value::Bool(false) => out.push(FALSE),
        Value::Bool(true) => out.push(TRUE),
        Value::Number(n) => encode_number(n, out),
        Value::String(s) => {
            out.push(STRING);
            encode_bytes(s.as_bytes(), out);
        }
        Value::Bytes(b) => {
            out.push(BYTES);
            encode_bytes(b, out);
        }
        Value::List(l) => {
            out.push(LIST);
            varint(l.len() as u64, out);
            l.iter().for_each(|v| encode_value(v, out));
        }
        Value::Map(m) => encode_map(m, out),
        Value::StringSet(s) => {
            out.push(STRING_SET);
            varint(s.len() as u64, out);
            s.iter().for_each(|e| encode_bytes(e.as_bytes(), out));
        }
        Value::NumberSet(s) => {
            out.push(NUMBER_SET);
            varint(s.len() as u64, out);
            s.iter().for_each(|n| encode_number(n, out));
        }
        Value::BytesSet(s) => {
            out.push(BYTES_SET);
            varint(s.len() as u64, out);
            s.iter().for_each(|e| encode_bytes(e, out));
        }
    }
}

/// Decodes one value that fills `bytes` exactly.
pub fn decode_value(bytes: &[u8]) -> Result<Value> {
    let mut r = Reader::new(bytes);
    let v = r.value(0)?;
    r.end()?;
    Ok(v)
}

fn encode_map(m: &BTreeMap<String, Value>, out: &mut Vec<u8>) {
    out.push(MAP);
    varint(m.len() as u64, out);
    for (k, v) in m {
        encode_bytes(k.as_bytes(), out);
        encode_value(v, out);
    }
}

fn encode_number(n: &Number, out: &mut Vec<u8>) {
    if let Some(f) = n.float() {
        out.push(FLOAT);
        out.extend_from_slice(&f.to_le_bytes());
    } else if let Some(i) = n.as_i64() {
        out.push(INT);
        varint(((i << 1) ^ (i >> 63)) as u64, out);
    } else if let Some(d) = n.to_decimal() {
        // The exponent zigzagged, then the signed coefficient zigzagged, 128 bits wide.
        out.push(DECIMAL);
        let e = i64::from(d.exponent());
        varint(((e << 1) ^ (e >> 63)) as u64, out);
        let c = d.coefficient();
        let mut z = ((c << 1) ^ (c >> 127)) as u128;
        while z >= 0x80 {
            out.push((z as u8) | 0x80);
            z >>= 7;
        }
        out.push(z as u8);
    }
}

fn encode_bytes(b: &[u8], out: &mut Vec<u8>) {
    varint(b.len() as u64, out);
    out.extend_from_slice(b);
}

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Why bytes do not decode. Small and `Copy`, made without allocating (an [`Error`]
/// is a box and a message); it becomes an [`Error`] at the edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Corrupt {
    Truncated,
    LengthPastEnd,
    VarintOverflow,
    VarintTooLong,
    NotUtf8,
    TooDeep,
    TrailingBytes,
    UnknownTag(u8),
    NotANumber(u8),
    BadDecimal,
    NotAMap(u8),
    Version(u8),
    ItemNotAMap,
}

impl fmt::Display for Corrupt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Corrupt::Truncated => f.write_str("truncated"),
            Corrupt::LengthPastEnd => f.write_str("a length runs past the end"),
            Corrupt::VarintOverflow => f.write_str("varint overflow"),
            Corrupt::VarintTooLong => f.write_str("varint too long"),
            Corrupt::NotUtf8 => f.write_str("a string is not UTF-8"),
            Corrupt::TooDeep => f.write_str("nested too deep"),
            Corrupt::TrailingBytes => f.write_str("trailing bytes"),
            Corrupt::UnknownTag(t) => write!(f, "unknown tag {t}"),
            Corrupt::NotANumber(t) => write!(f, "tag {t} is not a number"),
            Corrupt::BadDecimal => f.write_str("a decimal out of range"),
            Corrupt::NotAMap(t) => write!(f, "expected a map, found tag {t}"),
            Corrupt::Version(v) => write!(f, "unknown item format version {v}"),
            Corrupt::ItemNotAMap => f.write_str("an item is not a map"),
        }
    }
}

impl From<Corrupt> for Error {
    fn from(why: Corrupt) -> Error {
        Error::serialization(format!("undecodable value: {why}"))
    }
}

/// What the decoder's steps give.
pub(super) type Decoded<T> = std::result::Result<T, Corrupt>;

/// The bytes as text: still checked, as stored bytes may be corrupt, but most strings
/// (attribute names, ids) are ASCII, which [`is_ascii`] proves faster than the full
/// UTF-8 check.
#[inline]
fn utf8(bytes: &[u8]) -> Decoded<&str> {
    if is_ascii(bytes) {
        // SAFETY: every ASCII byte string is valid UTF-8.
        Ok(unsafe { std::str::from_utf8_unchecked(bytes) })
    } else {
        std::str::from_utf8(bytes).map_err(|_| Corrupt::NotUtf8)
    }
}

/// Whether every byte is ASCII. Attribute names and most values are a few bytes to a
/// few dozen, which the standard library's check walks a byte at a time: here two
/// overlapping loads cover 4 to 16 bytes, and longer strings go a word at a time.
#[inline]
fn is_ascii(b: &[u8]) -> bool {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let n = b.len();
    if n > 64 {
        b.is_ascii()
    } else if n >= 8 {
        let word = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"));
        // The words at 0, 8, ..., then the last 8 bytes (overlapping what came before).
        let mut any = word(n - 8);
        for at in (0..n - 8).step_by(8) {
            any |= word(at);
        }
        any & HIGH == 0
    } else if n >= 4 {
        let word = |at: usize| u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"));
        (word(0) | word(n - 4)) & 0x8080_8080 == 0
    } else {
        b.iter().all(|&c| c < 0x80)
    }
}

/// Reads encoded values from a byte string, front to back.
pub(super) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// A reader of `buf` from position `pos` on.
    pub(super) fn at(buf: &'a [u8], pos: usize) -> Self {
        Reader { buf, pos }
    }

    /// The next byte, not moving past it.
    #[inline]
    pub(super) fn peek(&self) -> Decoded<u8> {
        self.buf.get(self.pos).copied().ok_or(Corrupt::Truncated)
    }

    /// A whole item: the format version, the map, nothing after it.
    fn item(&mut self) -> Decoded<BTreeMap<String, Value>> {
        match self.byte()? {
            FORMAT_VERSION => {}
            v => return Err(Corrupt::Version(v)),
        }
        let map = match self.byte()? {
            MAP => self.map_body(0)?,
            t => return Err(Corrupt::NotAMap(t)),
        };
        self.end()?;
        Ok(map)
    }

    #[inline]
    pub(super) fn byte(&mut self) -> Decoded<u8> {
        let b = *self.buf.get(self.pos).ok_or(Corrupt::Truncated)?;
        self.pos += 1;
        Ok(b)
    }

    #[inline]
    fn take(&mut self, n: usize) -> Decoded<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        let end = end.ok_or(Corrupt::Truncated)?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    #[inline]
    fn varint(&mut self) -> Decoded<u64> {
        // Lengths and counts are almost always below 128: one byte.
        match self.buf.get(self.pos) {
            Some(&b) if b < 0x80 => {
                self.pos += 1;
                Ok(u64::from(b))
            }
            _ => self.long_varint(),
        }
    }

    fn long_varint(&mut self) -> Decoded<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7F)
                .checked_shl(shift)
                .filter(|x| x >> shift == u64::from(b & 0x7F))
                .ok_or(Corrupt::VarintOverflow)?;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(Corrupt::VarintTooLong)
    }

    /// A varint of up to 128 bits (a decimal's coefficient).
    fn varint128(&mut self) -> Decoded<u128> {
        let mut v = 0u128;
        for shift in (0..128).step_by(7) {
            let b = self.byte()?;
            v |= u128::from(b & 0x7F)
                .checked_shl(shift)
                .filter(|x| x >> shift == u128::from(b & 0x7F))
                .ok_or(Corrupt::VarintOverflow)?;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(Corrupt::VarintTooLong)
    }

    /// A count of elements, each at least one byte long: never more than the bytes left.
    #[inline]
    pub(super) fn count(&mut self) -> Decoded<usize> {
        let n = self.varint()?;
        if n > (self.buf.len() - self.pos) as u64 {
            return Err(Corrupt::LengthPastEnd);
        }
        Ok(n as usize)
    }

    /// A length, then that many bytes.
    #[inline]
    fn slice(&mut self) -> Decoded<&'a [u8]> {
        let n = self.count()?;
        // `count` has checked that `n` bytes are left.
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    // Read for every attribute name and string value: inlined, the call and the moves of
    // its result go away (measured: about 10 instructions of 50 per string).
    #[inline(always)]
    pub(super) fn str(&mut self) -> Decoded<&'a str> {
        utf8(self.slice()?)
    }

    #[inline]
    fn string(&mut self) -> Decoded<String> {
        self.str().map(String::from)
    }

    /// Moves past one value without building it.
    pub(super) fn skip(&mut self, depth: usize) -> Decoded<()> {
        if depth > MAX_DECODE_DEPTH {
            return Err(Corrupt::TooDeep);
        }
        match self.byte()? {
            NULL | FALSE | TRUE => {}
            tag @ (INT | FLOAT | DECIMAL) => self.skip_number(tag)?,
            STRING | BYTES => {
                self.slice()?;
            }
            LIST => {
                for _ in 0..self.count()? {
                    self.skip(depth + 1)?;
                }
            }
            MAP => {
                for _ in 0..self.count()? {
                    self.slice()?;
                    self.skip(depth + 1)?;
                }
            }
            STRING_SET | BYTES_SET => {
                for _ in 0..self.count()? {
                    self.slice()?;
                }
            }
            NUMBER_SET => {
                for _ in 0..self.count()? {
                    let tag = self.byte()?;
                    self.skip_number(tag)?;
                }
            }
            t => return Err(Corrupt::UnknownTag(t)),
        }
        Ok(())
    }

    /// Moves past a number without checking it: an attribute a model does not read is
    /// not decoded, so a value there fails nothing.
    fn skip_number(&mut self, tag: u8) -> Decoded<()> {
        match tag {
            INT => self.varint().map(drop),
            FLOAT => self.take(8).map(drop),
            DECIMAL => {
                self.varint()?;
                self.varint128().map(drop)
            }
            t => Err(Corrupt::NotANumber(t)),
        }
    }

    #[inline]
    pub(super) fn number(&mut self, tag: u8) -> Decoded<Number> {
        match tag {
            INT => {
                let z = self.varint()?;
                Ok(Number::from(((z >> 1) as i64) ^ -((z & 1) as i64)))
            }
            FLOAT => {
                let b: [u8; 8] = self.take(8)?.try_into().expect("8 bytes");
                Ok(Number::from(f64::from_le_bytes(b)))
            }
            DECIMAL => {
                let z = self.varint()?;
                let e = ((z >> 1) as i64) ^ -((z & 1) as i64);
                let z = self.varint128()?;
                let c = ((z >> 1) as i128) ^ -((z & 1) as i128);
                let d = i32::try_from(e)
                    .ok()
                    .and_then(|e| crate::Decimal::new(c, e).ok())
                    .ok_or(Corrupt::BadDecimal)?;
                Ok(Number::from(d))
            }
            t => Err(Corrupt::NotANumber(t)),
        }
    }

    fn map_body(&mut self, depth: usize) -> Decoded<BTreeMap<String, Value>> {
        let n = self.count()?;
        // Entries are written in key order, so building the map from a vector is a bulk
        // load (one pass over the sorted entries) rather than a search per entry.
        let mut entries = Vec::with_capacity(n.min(MOST_RESERVED));
        for _ in 0..n {
            let k = self.string()?;
            let v = self.value(depth + 1)?;
            entries.push((k, v));
        }
        Ok(BTreeMap::from_iter(entries))
    }

    pub(super) fn value(&mut self, depth: usize) -> Decoded<Value> {
        if depth > MAX_DECODE_DEPTH {
            return Err(Corrupt::TooDeep);
        }
        let tag = self.byte()?;
        Ok(match tag {
            NULL => Value::Null,
            FALSE => Value::Bool(false),
            TRUE => Value::Bool(true),
            INT | FLOAT | DECIMAL => Value::Number(self.number(tag)?),
            STRING => Value::String(self.string()?),
            BYTES => Value::Bytes(self.slice()?.to_vec()),
            LIST => {
                let n = self.count()?;
                let mut l = Vec::with_capacity(n.min(MOST_RESERVED));
                for _ in 0..n {
                    l.push(self.value(depth + 1)?);
                }
                Value::List(l)
            }
            MAP => Value::Map(self.map_body(depth)?),
            STRING_SET => {
                let n = self.count()?;
                let mut s = BTreeSet::new();
                for _ in 0..n {
                    s.insert(self.string()?);
                }
                Value::StringSet(s)
            }
            NUMBER_SET => {
                let n = self.count()?;
                let mut s = BTreeSet::new();
                for _ in 0..n {
                    let tag = self.byte()?;
                    s.insert(self.number(tag)?);
                }
                Value::NumberSet(s)
            }
            BYTES_SET => {
                let n = self.count()?;
                let mut s = BTreeSet::new();
                for _ in 0..n {
                    s.insert(self.slice()?.to_vec());
                }
                Value::BytesSet(s)
            }
            t => return Err(Corrupt::UnknownTag(t)),
        })
    }

    /// One element of a set of the type `tag`, as a value of its own.
    pub(super) fn set_element(&mut self, tag: u8) -> Decoded<Value> {
        Ok(match tag {
            STRING_SET => Value::String(self.string()?),
            NUMBER_SET => {
                let tag = self.byte()?;
                Value::Number(self.number(tag)?)
            }
            BYTES_SET => Value::Bytes(self.slice()?.to_vec()),
            t => return Err(Corrupt::UnknownTag(t)),
        })
    }

    pub(super) fn end(&self) -> Decoded<()> {
        if self.pos == self.buf.len() {
            Ok(())
        } else {
            Err(Corrupt::TrailingBytes)
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Any value, nested a few levels.
    pub(crate) fn any_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            crate::decimal::tests::any_decimal().prop_map(Value::from),
            ".{0,8}".prop_map(Value::String),
            proptest::collection::vec(any::<u8>(), 0..8).prop_map(Value::Bytes),
            proptest::collection::btree_set(".{0,4}", 1..4).prop_map(Value::StringSet),
            proptest::collection::btree_set(any::<i32>(), 1..4).prop_map(Value::number_set),
            proptest::collection::btree_set(crate::decimal::tests::any_decimal(), 1..4)
                .prop_map(Value::number_set),
            proptest::collection::btree_set(proptest::collection::vec(any::<u8>(), 0..4), 1..4)
                .prop_map(Value::BytesSet),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::List),
                proptest::collection::btree_map(".{1,6}", inner, 0..4).prop_map(Value::Map),
            ]
        })
    }

    proptest! {
        #[test]
        fn values_round_trip(v in any_value()) {
            let mut out = Vec::new();
            encode_value(&v, &mut out);
            let back = decode_value(&out).unwrap();
            prop_assert_eq!(&back, &v);
            // Integers stay integers, floats stay floats.
            prop_assert_eq!(format!("{back:?}"), format!("{v:?}"));
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode_value(&bytes);
            let _ = decode_item(&bytes);
        }
    }

    #[test]
    fn the_ascii_check_looks_at_every_byte() {
        for n in 0..80 {
            let ascii = vec![b'a'; n];
            assert!(is_ascii(&ascii));
            for at in 0..n {
                let mut b = ascii.clone();
                b[at] = 0x80;
                assert!(!is_ascii(&b), "length {n}, high byte at {at}");
            }
        }
    }

    #[test]
    fn strings_that_are_not_utf8_are_errors() {
        for bad in [
            &[0xC3][..],
            &[b'a', 0xFF, b'b'],
            &[0xE2, 0x82],
            b"ok\xF0\x9F",
        ] {
            let mut bytes = vec![STRING, bad.len() as u8];
            bytes.extend_from_slice(bad);
            assert!(decode_value(&bytes).is_err(), "{bad:?}");
        }
        let mut bytes = vec![STRING, 3];
        bytes.extend_from_slice("é!".as_bytes());
        assert_eq!(decode_value(&bytes).unwrap(), Value::from("é!"));
    }

    /// Bytes written before decimals existed read as they did: the encodings of
    /// integers and floats are unchanged.
    #[test]
    fn older_encodings_still_decode() {
        // Version 1, a map of two entries: "f" => float 2.5, "i" => int -3.
        let mut bytes = vec![FORMAT_VERSION, MAP, 2, 1, b'f', FLOAT];
        bytes.extend_from_slice(&2.5f64.to_le_bytes());
        bytes.extend_from_slice(&[1, b'i', INT, 5]);
        let item = decode_item(&bytes).unwrap();
        assert_eq!(item, crate::item! { "f" => 2.5, "i" => -3 });
        assert_eq!(encode_item(&item), bytes);
    }

    #[test]
    fn decimals_are_stored_exactly() {
        for text in [
            "12345678901234567890123456789012345678",
            "-9.9999999999999999999999999999999999999e125",
            "1.00000000000000000001e-130",
            "0.10000000000000000001",
        ] {
            let d: crate::Decimal = text.parse().unwrap();
            let v = Value::from(d);
            let mut out = Vec::new();
            encode_value(&v, &mut out);
            assert_eq!(out[0], DECIMAL, "{text}");
            let back = decode_value(&out).unwrap();
            assert_eq!(back.as_number().unwrap().to_decimal(), Some(d));
        }
        // A coefficient of 39 digits, or an exponent out of range, is corrupt.
        let mut bytes = vec![DECIMAL, 0];
        let mut z = (10u128.pow(38) + 1) << 1;
        while z >= 0x80 {
            bytes.push((z as u8) | 0x80);
            z >>= 7;
        }
        bytes.push(z as u8);
        assert!(decode_value(&bytes).is_err());
        assert!(decode_value(&[DECIMAL, 0xFE, 0x03, 2]).is_err());
    }

    #[test]
    fn huge_declared_lengths_are_errors() {
        let bytes = [LIST, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F];
        assert!(decode_value(&bytes).is_err());
    }
}
