//! The compact binary encoding of values and items.
//!
//! Decoding is total: any byte string gives a value or an error, never a panic, and
//! never an allocation larger than the input justifies.

use std::collections::{BTreeMap, BTreeSet};

use crate::serde_impl::raw::{Shape, Source};
use crate::{Error, ErrorKind, Item, Number, Result, Value};

const FORMAT_VERSION: u8 = 1;
const MAX_DECODE_DEPTH: usize = 64;

const NULL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const INT: u8 = 3;
const FLOAT: u8 = 4;
const STRING: u8 = 5;
const BYTES: u8 = 6;
const LIST: u8 = 7;
const MAP: u8 = 8;
const STRING_SET: u8 = 9;
const NUMBER_SET: u8 = 10;
const BYTES_SET: u8 = 11;

/// Encodes an item, with a leading format version byte.
pub fn encode_item(item: &Item) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.push(FORMAT_VERSION);
    encode_map(item.as_map(), &mut out);
    out
}

/// Decodes what [`encode_item`] wrote.
pub fn decode_item(bytes: &[u8]) -> Result<Item> {
    let mut r = Reader { buf: bytes, pos: 0 };
    match r.byte()? {
        FORMAT_VERSION => {}
        v => return Err(corrupt(format!("unknown item format version {v}"))),
    }
    let map = r.map(0)?;
    r.end()?;
    Ok(Item::from(map))
}

/// What [`encode_item`] wrote, to be read straight into a `Deserialize` type (see
/// [`RawItem`](crate::backend::RawItem)). Decoding errors are `Backend` errors: the
/// bytes were stored by kvs, so they are corrupt.
pub(crate) fn encoded_item(bytes: &[u8]) -> Result<Shape<Encoded<'_>>> {
    match bytes.first() {
        Some(&FORMAT_VERSION) => {}
        Some(v) => return Err(stored(corrupt(format!("unknown item format version {v}")))),
        None => return Err(stored(corrupt("truncated"))),
    }
    let item = Encoded {
        bytes: &bytes[1..],
        depth: 0,
    };
    match item.bytes.first() {
        Some(&MAP) => item.open(),
        _ => Err(stored(corrupt("an item is not a map"))),
    }
}

/// [`decode_item`] of bytes kvs stored: an error is a `Backend` error.
pub(crate) fn decode_stored_item(bytes: &[u8]) -> Result<Item> {
    decode_item(bytes).map_err(stored)
}

fn stored(e: Error) -> Error {
    Error::new(
        ErrorKind::Backend,
        format!("a stored item is corrupt ({})", e.message()),
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
    let mut r = Reader { buf: bytes, pos: 0 };
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
    match n.float() {
        Some(f) => {
            out.push(FLOAT);
            out.extend_from_slice(&f.to_le_bytes());
        }
        None => {
            out.push(INT);
            let i = n.as_i64().unwrap_or_default();
            varint(((i << 1) ^ (i >> 63)) as u64, out);
        }
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

fn corrupt(why: impl Into<String>) -> Error {
    Error::serialization(format!("undecodable value: {}", why.into()))
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    #[inline]
    fn byte(&mut self) -> Result<u8> {
        let b = *self.buf.get(self.pos).ok_or_else(|| corrupt("truncated"))?;
        self.pos += 1;
        Ok(b)
    }

    #[inline]
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        let end = end.ok_or_else(|| corrupt("truncated"))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    #[inline]
    fn varint(&mut self) -> Result<u64> {
        // Lengths and counts are almost always below 128: one byte.
        match self.buf.get(self.pos) {
            Some(&b) if b < 0x80 => {
                self.pos += 1;
                Ok(u64::from(b))
            }
            _ => self.long_varint(),
        }
    }

    fn long_varint(&mut self) -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7F)
                .checked_shl(shift)
                .filter(|x| x >> shift == u64::from(b & 0x7F))
                .ok_or_else(|| corrupt("varint overflow"))?;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(corrupt("varint too long"))
    }

    /// A count of elements, each at least one byte long: never more than the bytes left.
    fn count(&mut self) -> Result<usize> {
        let n = self.varint()?;
        if n > (self.buf.len() - self.pos) as u64 {
            return Err(corrupt("a length runs past the end"));
        }
        Ok(n as usize)
    }

    fn bytes(&mut self) -> Result<Vec<u8>> {
        let n = self.count()?;
        Ok(self.take(n)?.to_vec())
    }

    fn string(&mut self) -> Result<String> {
        String::from_utf8(self.bytes()?).map_err(|_| corrupt("a string is not UTF-8"))
    }

    fn str(&mut self) -> Result<&'a str> {
        let n = self.count()?;
        std::str::from_utf8(self.take(n)?).map_err(|_| corrupt("a string is not UTF-8"))
    }

    /// Moves past one value without building it.
    fn skip(&mut self, depth: usize) -> Result<()> {
        if depth > MAX_DECODE_DEPTH {
            return Err(corrupt("nested too deep"));
        }
        match self.byte()? {
            NULL | FALSE | TRUE => {}
            tag @ (INT | FLOAT) => {
                self.number(tag)?;
            }
            STRING | BYTES => {
                let n = self.count()?;
                self.take(n)?;
            }
            LIST => {
                for _ in 0..self.count()? {
                    self.skip(depth + 1)?;
                }
            }
            MAP => {
                for _ in 0..self.count()? {
                    let n = self.count()?;
                    self.take(n)?;
                    self.skip(depth + 1)?;
                }
            }
            STRING_SET | BYTES_SET => {
                for _ in 0..self.count()? {
                    let n = self.count()?;
                    self.take(n)?;
                }
            }
            NUMBER_SET => {
                for _ in 0..self.count()? {
                    let tag = self.byte()?;
                    self.number(tag)?;
                }
            }
            t => return Err(corrupt(format!("unknown tag {t}"))),
        }
        Ok(())
    }

    /// The bytes of the next value, moving past it.
    fn next_value(&mut self, depth: usize) -> Result<Encoded<'a>> {
        let start = self.pos;
        self.skip(depth)?;
        Ok(Encoded {
            bytes: &self.buf[start..self.pos],
            depth,
        })
    }

    fn number(&mut self, tag: u8) -> Result<Number> {
        match tag {
            INT => {
                let z = self.varint()?;
                Ok(Number::from(((z >> 1) as i64) ^ -((z & 1) as i64)))
            }
            FLOAT => {
                let b = self.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                Ok(Number::from(f64::from_le_bytes(a)))
            }
            t => Err(corrupt(format!("tag {t} is not a number"))),
        }
    }

    fn map(&mut self, depth: usize) -> Result<BTreeMap<String, Value>> {
        match self.byte()? {
            MAP => self.map_body(depth),
            t => Err(corrupt(format!("expected a map, found tag {t}"))),
        }
    }

    fn map_body(&mut self, depth: usize) -> Result<BTreeMap<String, Value>> {
        let n = self.count()?;
        // Entries are written in key order, so building the map from a vector is a bulk
        // load rather than n searches.
        let mut entries = Vec::with_capacity(n);
        for _ in 0..n {
            let k = self.string()?;
            let v = self.value(depth + 1)?;
            entries.push((k, v));
        }
        Ok(BTreeMap::from_iter(entries))
    }

    fn value(&mut self, depth: usize) -> Result<Value> {
        if depth > MAX_DECODE_DEPTH {
            return Err(corrupt("nested too deep"));
        }
        let tag = self.byte()?;
        Ok(match tag {
            NULL => Value::Null,
            FALSE => Value::Bool(false),
            TRUE => Value::Bool(true),
            INT | FLOAT => Value::Number(self.number(tag)?),
            STRING => Value::String(self.string()?),
            BYTES => Value::Bytes(self.bytes()?),
            LIST => {
                let n = self.count()?;
                let mut l = Vec::with_capacity(n);
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
                    s.insert(self.bytes()?);
                }
                Value::BytesSet(s)
            }
            t => return Err(corrupt(format!("unknown tag {t}"))),
        })
    }

    fn end(&self) -> Result<()> {
        if self.pos == self.buf.len() {
            Ok(())
        } else {
            Err(corrupt("trailing bytes"))
        }
    }
}

/// One encoded value: exactly its bytes, and how deep it sits.
pub(crate) struct Encoded<'a> {
    bytes: &'a [u8],
    depth: usize,
}

impl<'a> Source for Encoded<'a> {
    type Key = &'a str;
    type Entries = EncodedEntries<'a>;
    type Elements = EncodedElements<'a>;

    fn open(self) -> Result<Shape<Self>> {
        let mut r = Reader {
            buf: self.bytes,
            pos: 0,
        };
        let depth = self.depth;
        Ok(match self.bytes.first() {
            Some(&MAP) => {
                r.pos = 1;
                let left = r.count().map_err(stored)?;
                if left == 0 {
                    r.end().map_err(stored)?;
                }
                Shape::Map(EncodedEntries { r, left, depth })
            }
            Some(&LIST) => {
                r.pos = 1;
                let left = r.count().map_err(stored)?;
                if left == 0 {
                    r.end().map_err(stored)?;
                }
                Shape::List(EncodedElements { r, left, depth })
            }
            Some(&NULL) => Shape::Null,
            _ => {
                let value = r.value(depth).map_err(stored)?;
                r.end().map_err(stored)?;
                Shape::Other(value)
            }
        })
    }
}

/// The entries of an encoded map, each value as its own bytes.
pub(crate) struct EncodedEntries<'a> {
    r: Reader<'a>,
    left: usize,
    depth: usize,
}

impl<'a> Iterator for EncodedEntries<'a> {
    type Item = Result<(&'a str, Encoded<'a>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let entry = (|| {
            let key = self.r.str()?;
            let value = self.r.next_value(self.depth + 1)?;
            if self.left == 0 {
                self.r.end()?;
            }
            Ok((key, value))
        })();
        if entry.is_err() {
            self.left = 0;
        }
        Some(entry.map_err(stored))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

/// The elements of an encoded list, each as its own bytes.
pub(crate) struct EncodedElements<'a> {
    r: Reader<'a>,
    left: usize,
    depth: usize,
}

impl<'a> Iterator for EncodedElements<'a> {
    type Item = Result<Encoded<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let element = self.r.next_value(self.depth + 1).and_then(|value| {
            if self.left == 0 {
                self.r.end()?;
            }
            Ok(value)
        });
        if element.is_err() {
            self.left = 0;
        }
        Some(element.map_err(stored))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
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
            ".{0,8}".prop_map(Value::String),
            proptest::collection::vec(any::<u8>(), 0..8).prop_map(Value::Bytes),
            proptest::collection::btree_set(".{0,4}", 1..4).prop_map(Value::StringSet),
            proptest::collection::btree_set(any::<i32>(), 1..4).prop_map(Value::number_set),
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
    fn huge_declared_lengths_are_errors() {
        let bytes = [LIST, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F];
        assert!(decode_value(&bytes).is_err());
    }
}
