//! Limits every backend keeps, so that an item valid on one is valid on all: the
//! default [`Capabilities`], which a backend may declare stricter.

use crate::backend::Capabilities;
use crate::{Item, Path, Result, Value};

/// The largest item, in bytes as DynamoDB counts them (attribute names plus values):
/// 400 KB, the limit of the strictest backend, kept on every backend.
pub const MAX_ITEM_SIZE: usize = 400 * 1024;

/// How deep maps and lists may nest, the item itself counting as the first level
/// (DynamoDB's limit): an attribute may hold 31 maps or lists inside one another.
pub const MAX_DEPTH: usize = 32;

/// The most writes in one transaction.
pub const MAX_TRANSACTION_WRITES: usize = 100;

/// The most items a page holds when the query sets no limit.
pub const DEFAULT_PAGE_LIMIT: usize = 1000;

/// The size of an item as DynamoDB counts it.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

fn number_size(n: &crate::Number) -> usize {
    // DynamoDB: about one byte per two significant digits, plus one; at most 21. The
    // digits of the number as it displays, counted as they are written (no string).
    struct Digits(usize);
    impl std::fmt::Write for Digits {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0 += s.bytes().filter(u8::is_ascii_digit).count();
            Ok(())
        }
    }
    if let (None, Some(i)) = (n.float(), n.as_i64()) {
        // An integer's digits, without writing them (a float displays as it was written).
        let digits = i
            .unsigned_abs()
            .checked_ilog10()
            .map_or(1, |l| l as usize + 1);
        return (digits.div_ceil(2) + 1).min(21);
    }
    let mut digits = Digits(0);
    // Writing to a counter cannot fail.
    let _ = std::fmt::Write::write_fmt(&mut digits, format_args!("{n}"));
    (digits.0.div_ceil(2) + 1).min(21)
}

fn value_size(v: &Value) -> usize {
    match v {
        Value::Null | Value::Bool(_) => 1,
        Value::Number(n) => number_size(n),
        Value::String(s) => s.len(),
        Value::Bytes(b) => b.len(),
        Value::List(l) => 3 + l.iter().map(|e| 1 + value_size(e)).sum::<usize>(),
        Value::Map(m) => {
            3 + m
                .iter()
                .map(|(k, e)| 1 + k.len() + value_size(e))
                .sum::<usize>()
        }
        Value::StringSet(s) => s.iter().map(String::len).sum(),
        Value::NumberSet(s) => s.iter().map(number_size).sum(),
        Value::BytesSet(s) => s.iter().map(Vec::len).sum(),
    }
}

/// Checks what every value of an item must be on every backend: numbers finite, names
/// non-empty, nesting no deeper than [`MAX_DEPTH`], and the whole no larger than
/// [`MAX_ITEM_SIZE`] (the [default declaration](Capabilities::default); a backend's own
/// declaration may be stricter). The error names the attribute at fault.
pub fn check_values(item: &Item) -> Result<()> {
    Capabilities::default().check_item(item)
}

/// Checks an update operand or a condition value as [`check_values`] checks an
/// attribute (finite numbers, depth), naming the path.
pub(crate) fn check_operand(path: &Path, value: &Value) -> Result<()> {
    Capabilities::default().check_operand(path, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_integer_counts_the_digits_it_displays() {
        for i in [
            0,
            7,
            9,
            10,
            99,
            100,
            -1,
            -10,
            123_456_789,
            i64::MIN,
            i64::MAX,
        ] {
            let shown = i.to_string().bytes().filter(u8::is_ascii_digit).count();
            let expected = (shown.div_ceil(2) + 1).min(21);
            assert_eq!(number_size(&crate::Number::from(i)), expected, "{i}");
        }
        // A float counts as it displays (`2.0` is two digits), not as the integer.
        let two = crate::Number::from(2.0);
        let shown = two.to_string().bytes().filter(u8::is_ascii_digit).count();
        assert_eq!(number_size(&two), (shown.div_ceil(2) + 1).min(21));
    }
}
