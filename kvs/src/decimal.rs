//! Exact decimal addition of numbers, for ADD.
//!
//! A float is taken as the decimal it prints as (its shortest round-trip form: `0.1` is
//! 0.1), which is also what a JSON store or DynamoDB keeps. The sum is exact; it is
//! stored only if it can be stored without rounding: as an integer where an integer
//! took part and the sum is one that fits, else as the float that prints as the sum.
//! So `0.1 + 0.2` is `0.3` (as DynamoDB's decimal arithmetic gives), and
//! `9007199254740993 + 0.5` is refused rather than rounded.

use std::cmp::Ordering;

use crate::Number;

/// `digits * 10^exp`, digits most significant first, without leading or trailing zeros.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Decimal {
    negative: bool,
    digits: Vec<u8>,
    exp: i32,
}

impl Decimal {
    fn zero() -> Self {
        Decimal {
            negative: false,
            digits: Vec::new(),
            exp: 0,
        }
    }

    /// Parses `[+-]d[.ddd][(e|E)[+-]x]`: what `i64` and `{:e}` print, and what stores
    /// such as DynamoDB return.
    fn parse(s: &str) -> Option<Decimal> {
        let lower;
        let s = if s.contains('E') {
            lower = s.to_ascii_lowercase();
            lower.as_str()
        } else {
            s
        };
        let (negative, s) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        if s.is_empty() {
            return None;
        }
        let (mantissa, exp) = match s.split_once('e') {
            Some((m, e)) => (m, e.parse::<i32>().ok()?),
            None => (s, 0),
        };
        let (whole, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if whole.is_empty() && frac.is_empty() {
            return None;
        }
        let mut digits = Vec::with_capacity(whole.len() + frac.len());
        for c in whole.chars().chain(frac.chars()) {
            digits.push(c.to_digit(10)? as u8);
        }
        let exp = exp.checked_sub(i32::try_from(frac.len()).ok()?)?;
        Some(
            Decimal {
                negative,
                digits,
                exp,
            }
            .normalized(),
        )
    }

    fn of(n: &Number) -> Option<Decimal> {
        match n.float() {
            Some(f) if f.is_finite() => Decimal::parse(&format!("{f:e}")),
            Some(_) => None,
            None => Decimal::parse(&n.as_i64()?.to_string()),
        }
    }

    fn normalized(mut self) -> Self {
        let lead = self.digits.iter().take_while(|d| **d == 0).count();
        self.digits.drain(..lead);
        while self.digits.last() == Some(&0) {
            self.digits.pop();
            self.exp += 1;
        }
        if self.digits.is_empty() {
            return Decimal::zero();
        }
        self
    }

    /// The digits scaled to exponent `exp` (at most `self.exp`).
    fn scaled(&self, exp: i32) -> Vec<u8> {
        let mut d = self.digits.clone();
        d.resize(d.len() + (self.exp - exp) as usize, 0);
        d
    }

    fn add(&self, other: &Decimal) -> Decimal {
        let exp = self.exp.min(other.exp);
        let (a, b) = (self.scaled(exp), other.scaled(exp));
        let (digits, negative) = if self.negative == other.negative {
            (add_magnitudes(&a, &b), self.negative)
        } else {
            match cmp_magnitudes(&a, &b) {
                Ordering::Less => (sub_magnitudes(&b, &a), other.negative),
                _ => (sub_magnitudes(&a, &b), self.negative),
            }
        };
        Decimal {
            negative,
            digits,
            exp,
        }
        .normalized()
    }

    /// The value as an i64, if it is an integer in range.
    fn to_i64(&self) -> Option<i64> {
        i64::try_from(self.to_i128()?).ok()
    }

    /// The value as an i128, if it is an integer in range.
    fn to_i128(&self) -> Option<i128> {
        if self.exp < 0 || self.digits.len() as i64 + i64::from(self.exp) > 38 {
            return None;
        }
        let mut v: i128 = 0;
        for d in &self.digits {
            v = v * 10 + i128::from(*d);
        }
        for _ in 0..self.exp {
            v *= 10;
        }
        Some(if self.negative { -v } else { v })
    }

    fn to_text(&self) -> String {
        if self.digits.is_empty() {
            return "0".into();
        }
        let digits: String = self.digits.iter().map(|d| char::from(b'0' + d)).collect();
        format!(
            "{}{digits}e{}",
            if self.negative { "-" } else { "" },
            self.exp
        )
    }
}

fn cmp_magnitudes(a: &[u8], b: &[u8]) -> Ordering {
    let strip = |x: &[u8]| x.iter().skip_while(|d| **d == 0).count();
    strip(a).cmp(&strip(b)).then_with(|| {
        let a = &a[a.len() - strip(a)..];
        let b = &b[b.len() - strip(b)..];
        a.cmp(b)
    })
}

fn add_magnitudes(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len().max(b.len()) + 1);
    let (mut i, mut j, mut carry) = (a.len(), b.len(), 0u8);
    while i > 0 || j > 0 || carry > 0 {
        let mut s = carry;
        if i > 0 {
            i -= 1;
            s += a[i];
        }
        if j > 0 {
            j -= 1;
            s += b[j];
        }
        out.push(s % 10);
        carry = s / 10;
    }
    out.reverse();
    out
}

/// `a - b` for `a >= b`.
fn sub_magnitudes(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len());
    let (mut i, mut j, mut borrow) = (a.len(), b.len(), 0i8);
    while i > 0 {
        i -= 1;
        let mut d = a[i] as i8 - borrow;
        if j > 0 {
            j -= 1;
            d -= b[j] as i8;
        }
        borrow = i8::from(d < 0);
        out.push((d + 10 * borrow) as u8);
    }
    out.reverse();
    out
}

/// The number a decimal text stands for, if an i64 or an f64 holds it exactly: an
/// integer in range as an integer, else the float that prints as the same decimal.
// Used by backends that store numbers as decimal text.
#[cfg_attr(not(feature = "dynamodb"), allow(dead_code))]
pub(crate) fn exact_number(text: &str) -> Option<Number> {
    // Fast paths for the usual texts: an integer, or the shortest text of a float.
    if let Ok(i) = text.parse::<i64>() {
        return Some(Number::from(i));
    }
    // A text of at most 15 significant digits names the float it parses to exactly in
    // the sense used here (the float prints as the same decimal): decimals of 15 digits
    // lie further apart than floats, so no other decimal as short rounds to that float.
    if significant_digits(text).is_some_and(|n| n <= 15)
        && let Ok(f) = text.parse::<f64>()
        && f.is_finite()
        && f.fract() != 0.0
    {
        return Some(Number::from(f));
    }
    exact_number_by_decimal(text)
}

/// [`exact_number`] without its fast paths: by exact decimal arithmetic.
fn exact_number_by_decimal(text: &str) -> Option<Number> {
    let d = Decimal::parse(text)?;
    if let Some(i) = d.to_i64() {
        return Some(Number::from(i));
    }
    let f: f64 = d.to_text().parse().ok()?;
    if !f.is_finite() {
        return None;
    }
    // The decimal the float prints as, or (for a large integer written out in full, such
    // as 2^63) the float's exact integer value.
    let exact = Decimal::of(&Number::from(f))? == d
        || (f.fract() == 0.0 && f.abs() < 1.7e38 && d.to_i128() == Some(f as i128));
    exact.then(|| Number::from(f))
}

/// How many significant digits the mantissa of a decimal text has (from its first
/// non-zero digit to its last digit, zeros included), or `None` if the text is not a
/// plain `[+-]digits[.digits][e[+-]digits]`.
fn significant_digits(text: &str) -> Option<usize> {
    let text = text.strip_prefix(['+', '-']).unwrap_or(text);
    let mantissa = match text.find(['e', 'E']) {
        Some(at) => {
            let exponent = &text[at + 1..];
            let exponent = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
            if exponent.is_empty() || !exponent.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            &text[..at]
        }
        None => text,
    };
    let (mut count, mut started, mut digits, mut points) = (0, false, 0, 0);
    for b in mantissa.bytes() {
        match b {
            b'.' => points += 1,
            b'0' if !started => digits += 1,
            b'0'..=b'9' => {
                started = true;
                digits += 1;
                count += 1;
            }
            _ => return None,
        }
    }
    (digits > 0 && points <= 1).then_some(count)
}

/// The exact sum, if it can be stored exactly (see the module docs).
pub(crate) fn exact_sum(a: &Number, b: &Number) -> Option<Number> {
    let sum = Decimal::of(a)?.add(&Decimal::of(b)?);
    if (a.is_integer() || b.is_integer())
        && let Some(i) = sum.to_i64()
    {
        return Some(Number::from(i));
    }
    let f: f64 = sum.to_text().parse().ok()?;
    (f.is_finite() && Decimal::of(&Number::from(f))? == sum).then(|| Number::from(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(a: impl Into<Number>, b: impl Into<Number>) -> Option<Number> {
        exact_sum(&a.into(), &b.into())
    }

    proptest::proptest! {
        /// The fast path answers as exact decimal arithmetic does, on short decimals
        /// (where it applies) and on every float's shortest text.
        #[test]
        fn fast_path_agrees_with_decimal_arithmetic(
            digits in "[0-9]{1,17}",
            point in 0usize..18,
            exponent in proptest::option::of(-140i32..140),
            negative: bool,
            bits: u64,
        ) {
            let point = point.min(digits.len());
            let mut text = String::new();
            if negative {
                text.push('-');
            }
            text.push_str(&digits[..point]);
            if point < digits.len() {
                text.push('.');
                text.push_str(&digits[point..]);
            }
            if let Some(e) = exponent {
                text.push_str(&format!("e{e}"));
            }
            if !text.ends_with('.') && !text.trim_start_matches('-').starts_with('.') {
                proptest::prop_assert_eq!(exact_number(&text), exact_number_by_decimal(&text), "{}", text);
            }
            let f = f64::from_bits(bits);
            if f.is_finite() {
                let text = format!("{f:?}");
                proptest::prop_assert_eq!(exact_number(&text), exact_number_by_decimal(&text), "{}", text);
            }
        }
    }

    #[test]
    fn significant_digits_are_counted_from_the_first_non_zero() {
        assert_eq!(significant_digits("0.001250"), Some(4));
        assert_eq!(significant_digits("-12.5e-3"), Some(3));
        assert_eq!(significant_digits("100"), Some(3));
        assert_eq!(significant_digits("0"), Some(0));
        assert_eq!(significant_digits("1.2.3"), None);
        assert_eq!(significant_digits("1e"), None);
        assert_eq!(significant_digits("."), None);
        assert_eq!(significant_digits("0x10"), None);
    }

    #[test]
    fn short_texts_read_as_the_float_that_prints_so() {
        for text in [
            "0.1",
            "-2.5",
            "3.14159265358979",
            "1.5e-100",
            "9.99999999999999e125",
        ] {
            let f = exact_number(text).unwrap().float().unwrap();
            assert_eq!(f, text.parse::<f64>().unwrap(), "{text}");
        }
        // 17 digits that are not the float's shortest text: not the decimal it prints.
        assert_eq!(exact_number("0.10000000000000001"), None);
        assert_eq!(
            exact_number("0.30000000000000004").unwrap().float(),
            Some(0.1 + 0.2)
        );
    }

    #[test]
    fn decimal_texts_read_exactly() {
        assert_eq!(exact_number("42"), Some(Number::from(42)));
        assert!(exact_number("1.0").unwrap().is_integer());
        assert_eq!(exact_number("-1.5E3"), Some(Number::from(-1500)));
        assert_eq!(exact_number("0.1").unwrap().float(), Some(0.1));
        assert_eq!(exact_number("1e125").unwrap().float(), Some(1e125));
        assert_eq!(exact_number("+7"), Some(Number::from(7)));
        assert_eq!(
            exact_number("9223372036854775808").unwrap().float(),
            Some(9.223_372_036_854_776e18)
        );
        assert_eq!(exact_number("0.30000000000000000000000000001"), None);
        assert_eq!(exact_number(""), None);
        assert_eq!(exact_number("abc"), None);
        assert_eq!(exact_number("."), None);
    }

    #[test]
    fn decimal_sums_are_exact() {
        assert_eq!(sum(0.1, 0.2).unwrap().float(), Some(0.3));
        assert_eq!(sum(1.5, -0.25).unwrap().float(), Some(1.25));
        assert_eq!(sum(5, 1.0), Some(Number::from(6)));
        assert!(sum(5, 1.0).unwrap().is_integer());
        assert_eq!(sum(2.5, 0.5).unwrap().float(), Some(3.0));
        assert_eq!(sum(-0.1, 0.1).unwrap(), Number::from(0));
        assert_eq!(sum(1e308, 1e308), None);
        assert_eq!(sum(1e300, 1e-300), None, "would round");
        assert_eq!(sum(9_007_199_254_740_993_i64, 0.5), None, "would round");
        assert_eq!(sum(10, -2.5).unwrap().float(), Some(7.5));
    }
}
