//! Exact decimals: [`Decimal`], and the exact decimal arithmetic numbers rest on (reading
//! decimal text, ADD, ordering decimals among binary floats).
//!
//! A float is taken as the decimal it prints as (its shortest round-trip form: `0.1` is
//! 0.1), which is also what a JSON store or DynamoDB keeps. Every number built from a
//! decimal goes through one rule, [`canonical`]: an integer in the i64 range is an
//! integer, a decimal that is an f64's shortest text is that f64, and anything else is
//! held as a decimal, so that a decimal reads back as the decimal it is and a float
//! written to a decimal store reads back as the same float.
//!
//! Numbers are ordered by value, a float by its exact binary value. A decimal that is a
//! float's exact value without being its shortest text (`0.500000000931322574615478515625`
//! is `0.5 + 2^-30`, whose shortest text is `0.5000000009313226`) is ordered just beyond
//! that float, further from zero, as the key encoding places it. So a [`Number`] holding
//! a decimal never equals an integer or a float, which keeps equality, hashing and the
//! key encoding simple.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::{Error, Number, Result};

/// The most significant digits a [`Decimal`] holds: DynamoDB's 38.
pub const MAX_DIGITS: u32 = 38;
/// The smallest decimal exponent of a [`Decimal`]'s leading digit: `1e-130`.
pub const MIN_EXPONENT: i32 = -130;
/// The largest decimal exponent of a [`Decimal`]'s leading digit: `9.99..e125`.
pub const MAX_EXPONENT: i32 = 125;

/// An exact decimal number: up to 38 significant digits, its leading digit's exponent
/// from -130 to +125 (DynamoDB's numbers), or zero.
///
/// kvs has its own decimal type because the well-known crates do not fit DynamoDB's
/// numbers: `rust_decimal` holds 28 digits (DynamoDB allows 38), and `bigdecimal` is
/// unbounded and heap-allocated, so neither says in its type what every backend can
/// hold. With the feature `bigdecimal`, a `Decimal` converts exactly to a
/// `bigdecimal::BigDecimal` (and back, where it fits), for arithmetic. `Decimal` is `Copy`, compares numerically, and converts exactly to and from
/// [`Number`] (where a decimal that is an `i64`, or an `f64`'s shortest text, becomes
/// that integer or float) and from its text.
///
/// Read a number that another program wrote with more digits than an `i64` or `f64`
/// holds into a `Decimal` field; write one and it is stored exactly (a DynamoDB `N`).
/// Through other serde formats (JSON) a `Decimal` is its text, and it reads from text,
/// integers and floats.
///
/// ```
/// use kvs::{Decimal, Number};
///
/// let d: Decimal = "12345678901234567890.123456789".parse().unwrap();
/// assert_eq!(d.to_string(), "12345678901234567890.123456789");
/// assert_eq!(Number::from("1".parse::<Decimal>().unwrap()), Number::from(1.0));
/// assert!("1e126".parse::<Decimal>().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decimal {
    // The coefficient as two words rather than a `u128`: a `u128` is 16-byte aligned,
    // which would make every `Number`, and so every `Value`, half as large again.
    /// The coefficient's low 64 bits.
    lo: u64,
    /// The coefficient's high 64 bits.
    hi: u64,
    /// The value is `coefficient * 10^exponent`; the coefficient has no trailing zeros,
    /// so that every value has one representation (zero: coefficient 0, exponent 0).
    exponent: i16,
    negative: bool,
}

impl Decimal {
    /// Zero.
    pub const ZERO: Decimal = Decimal {
        lo: 0,
        hi: 0,
        exponent: 0,
        negative: false,
    };

    /// `coefficient * 10^exponent`, or `Validation` if that has more than 38 significant
    /// digits or lies outside `1e-130..1e126` in magnitude.
    ///
    /// ```
    /// let d = kvs::Decimal::new(-15, -1).unwrap();
    /// assert_eq!(d.to_string(), "-1.5");
    /// ```
    pub fn new(coefficient: i128, exponent: i32) -> Result<Decimal> {
        let negative = coefficient < 0;
        Decimal::from_parts(negative, coefficient.unsigned_abs(), exponent)
            .ok_or_else(|| out_of_range(&format!("{coefficient}e{exponent}")))
    }

    /// The value from its parts, normalized, if a `Decimal` holds it.
    fn from_parts(negative: bool, mut coefficient: u128, mut exponent: i32) -> Option<Decimal> {
        if coefficient == 0 {
            return Some(Decimal::ZERO);
        }
        while coefficient.is_multiple_of(10) {
            coefficient /= 10;
            // An exponent this far out is out of range whatever its digits.
            exponent = exponent.checked_add(1)?;
        }
        let digits = coefficient.ilog10() + 1;
        let leading = i64::from(exponent) + i64::from(digits) - 1;
        let range = i64::from(MIN_EXPONENT)..=i64::from(MAX_EXPONENT);
        (digits <= MAX_DIGITS && range.contains(&leading)).then_some(Decimal {
            lo: coefficient as u64,
            hi: (coefficient >> 64) as u64,
            exponent: exponent as i16,
            negative,
        })
    }

    /// The significant digits as an integer, with the sign: the value is
    /// `coefficient() * 10^exponent()`, and the coefficient has no trailing zeros.
    pub fn coefficient(&self) -> i128 {
        // At most 38 digits: below 2^127, so the cast and the negation are exact.
        let c = self.magnitude() as i128;
        if self.negative { -c } else { c }
    }

    /// The power of ten the [`coefficient`](Decimal::coefficient) is scaled by.
    pub fn exponent(&self) -> i32 {
        i32::from(self.exponent)
    }

    /// Whether the value is below zero.
    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// Whether the value is zero.
    pub fn is_zero(&self) -> bool {
        self.magnitude() == 0
    }

    /// The nearest `f64` (rounding: for display and arithmetic on floats only).
    pub fn to_f64_lossy(&self) -> f64 {
        // Rust parses decimal text correctly rounded.
        self.to_string().parse().unwrap_or(f64::NAN)
    }

    fn magnitude(&self) -> u128 {
        (u128::from(self.hi) << 64) | u128::from(self.lo)
    }

    /// How many significant digits the value has (0 for zero).
    fn digit_count(&self) -> u32 {
        self.magnitude().checked_ilog10().map_or(0, |l| l + 1)
    }

    /// The value as an `i64`, if it is an integer in range.
    pub(crate) fn to_i64(self) -> Option<i64> {
        if self.exponent < 0 || self.digit_count() + self.exponent as u32 > 19 {
            return None;
        }
        let m = self
            .magnitude()
            .checked_mul(10u128.pow(self.exponent as u32))?;
        let m = i128::try_from(m).ok()?;
        i64::try_from(if self.negative { -m } else { m }).ok()
    }

    /// The value as a whole number, its sign and magnitude, if it is an integer whose
    /// magnitude a `u128` holds.
    pub(crate) fn integer_parts(self) -> Option<(bool, u128)> {
        // The coefficient has no trailing zeros: a negative exponent is a fraction.
        let scale = 10u128.checked_pow(u32::try_from(self.exponent).ok()?)?;
        Some((self.negative, self.magnitude().checked_mul(scale)?))
    }

    /// The value's digits, for exact arithmetic.
    fn digits(&self) -> Digits {
        Digits {
            negative: self.negative,
            digits: digits_of(self.magnitude()),
            exp: self.exponent(),
        }
        .normalized()
    }

    /// The shortest decimal that reads back as `f`, if a `Decimal` holds it.
    fn of_f64(f: f64) -> Option<Decimal> {
        Digits::of_f64(f)?.bounded()
    }

    /// The `f64` whose exact value this is, if there is one.
    pub(crate) fn exact_f64(&self) -> Option<f64> {
        if self.is_zero() {
            return Some(0.0);
        }
        let b = self.binary();
        // An f64 has 52 fraction bits; every exponent of a `Decimal` is a normal one.
        let exact = !b.sticky && b.fraction & ((1u128 << 76) - 1) == 0;
        exact.then(|| {
            let bits = ((b.exponent + 1023) as u64) << 52 | (b.fraction >> 76) as u64;
            let f = f64::from_bits(bits);
            if self.negative { -f } else { f }
        })
    }

    /// The binary form of the magnitude (not zero), to place it among binary floats.
    pub(crate) fn binary(&self) -> Binary {
        Binary::of_decimal(self.magnitude(), self.exponent())
    }

    fn cmp_magnitude(&self, other: &Decimal) -> Ordering {
        let (da, db) = (self.digit_count(), other.digit_count());
        let leading = |d: &Decimal, n: u32| d.exponent() + n as i32;
        leading(self, da).cmp(&leading(other, db)).then_with(|| {
            // The same leading exponent: compare the coefficients scaled to 38 digits
            // (below 10^38, so within a u128).
            let scaled = |d: &Decimal, n: u32| d.magnitude() * 10u128.pow(MAX_DIGITS - n);
            scaled(self, da).cmp(&scaled(other, db))
        })
    }
}

fn out_of_range(text: &str) -> Error {
    Error::validation(format!(
        "{text} is not a decimal kvs can hold: at most {MAX_DIGITS} significant digits, \
         magnitudes from 1e{MIN_EXPONENT} to below 1e{}",
        MAX_EXPONENT + 1
    ))
}

fn digits_of(mut m: u128) -> Vec<u8> {
    let mut out = Vec::with_capacity(39);
    while m > 0 {
        out.push((m % 10) as u8);
        m /= 10;
    }
    out.reverse();
    out
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        let sign = |d: &Decimal| match (d.is_zero(), d.negative) {
            (true, _) => 0,
            (false, true) => -1,
            (false, false) => 1,
        };
        match sign(self).cmp(&sign(other)) {
            Ordering::Equal if self.is_zero() => Ordering::Equal,
            Ordering::Equal if self.negative => self.cmp_magnitude(other).reverse(),
            Ordering::Equal => self.cmp_magnitude(other),
            unequal => unequal,
        }
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Plain notation from `1e-6` to below `1e21` (`0.000123`, `12345.5`), scientific
/// beyond (`1.5e-130`, `1e125`): text that DynamoDB, JSON and `str::parse` all read.
impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return f.write_str("0");
        }
        if self.negative {
            f.write_str("-")?;
        }
        let digits = self.magnitude().to_string();
        let n = digits.len() as i32;
        let exp = self.exponent();
        let leading = exp + n - 1;
        if (-6..21).contains(&leading) {
            if exp >= 0 {
                write!(f, "{digits}{}", "0".repeat(exp as usize))
            } else if leading >= 0 {
                let (whole, frac) = digits.split_at((leading + 1) as usize);
                write!(f, "{whole}.{frac}")
            } else {
                write!(f, "0.{}{digits}", "0".repeat((-leading - 1) as usize))
            }
        } else {
            let (first, rest) = digits.split_at(1);
            let point = if rest.is_empty() { "" } else { "." };
            write!(f, "{first}{point}{rest}e{leading}")
        }
    }
}

impl fmt::Debug for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Decimal {
    type Err = Error;
    /// Parses `[+-]digits[.digits][(e|E)[+-]digits]`; `Validation` for anything else,
    /// and for a value a `Decimal` cannot hold exactly (more than 38 significant digits,
    /// or out of range): nothing is rounded.
    fn from_str(s: &str) -> Result<Decimal> {
        Digits::parse(s)
            .ok_or_else(|| Error::validation(format!("{s:?} is not a decimal number")))?
            .bounded()
            .ok_or_else(|| out_of_range(s))
    }
}

macro_rules! decimal_from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Decimal {
            fn from(v: $t) -> Self {
                // At most 20 digits: always held.
                Decimal::from_parts((v as i128) < 0, (v as i128).unsigned_abs(), 0)
                    .expect("an integer of at most 20 digits")
            }
        }
    )*};
}
decimal_from_int!(i8, i16, i32, i64, u8, u16, u32, u64);

impl TryFrom<i128> for Decimal {
    type Error = Error;
    fn try_from(v: i128) -> Result<Decimal> {
        Decimal::new(v, 0)
    }
}

impl TryFrom<f64> for Decimal {
    type Error = Error;
    /// The decimal the float prints as (`0.1` is 0.1), as everywhere in kvs; NaN, the
    /// infinities and magnitudes outside `1e-130..1e126` are `Validation`.
    fn try_from(f: f64) -> Result<Decimal> {
        Decimal::of_f64(f).ok_or_else(|| out_of_range(&format!("{f:?}")))
    }
}

impl TryFrom<Number> for Decimal {
    type Error = Error;
    /// The number as a decimal; a float is the decimal it prints as. `Validation` for a
    /// float a `Decimal` cannot hold (NaN, infinite, or beyond `1e-130..1e126`).
    fn try_from(n: Number) -> Result<Decimal> {
        n.to_decimal().ok_or_else(|| out_of_range(&n.to_string()))
    }
}

impl From<Decimal> for Number {
    /// The number the decimal is: an integer if it is one in the i64 range, a float if
    /// it is the shortest text of one, else a decimal.
    fn from(d: Decimal) -> Number {
        canonical(d)
    }
}

impl From<Decimal> for crate::Value {
    fn from(d: Decimal) -> crate::Value {
        crate::Value::Number(Number::from(d))
    }
}

/// Exact conversions to and from `bigdecimal::BigDecimal` (feature `bigdecimal`), for
/// arithmetic beyond what kvs does (ADD).
#[cfg(feature = "bigdecimal")]
mod big_decimal {
    use bigdecimal::num_bigint::BigInt;
    use bigdecimal::{BigDecimal, ToPrimitive};

    use super::{Decimal, out_of_range};
    use crate::{Error, Result};

    impl From<Decimal> for BigDecimal {
        fn from(d: Decimal) -> BigDecimal {
            // BigDecimal's scale counts digits after the point: the negated exponent.
            BigDecimal::new(BigInt::from(d.coefficient()), -i64::from(d.exponent()))
        }
    }

    impl TryFrom<&BigDecimal> for Decimal {
        type Error = Error;
        /// `Validation` where the value has more than 38 significant digits or is out
        /// of range: never rounded.
        fn try_from(b: &BigDecimal) -> Result<Decimal> {
            let (digits, scale) = b.normalized().into_bigint_and_exponent();
            let coefficient = digits.to_i128();
            let exponent = i32::try_from(-i128::from(scale)).ok();
            match (coefficient, exponent) {
                (Some(c), Some(e)) => Decimal::new(c, e),
                _ => Err(out_of_range(&b.to_string())),
            }
        }
    }

    impl TryFrom<BigDecimal> for Decimal {
        type Error = Error;
        fn try_from(b: BigDecimal) -> Result<Decimal> {
            Decimal::try_from(&b)
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn conversions_are_exact_both_ways() {
            for text in [
                "12345678901234567890123456789012345678",
                "-9.9999999999999999999999999999999999999e125",
                "1e-130",
                "0.5",
                "0",
            ] {
                let d: Decimal = text.parse().unwrap();
                let b = BigDecimal::from(d);
                assert_eq!(b, text.parse::<BigDecimal>().unwrap(), "{text}");
                assert_eq!(Decimal::try_from(b).unwrap(), d, "{text}");
            }
            let too_long: BigDecimal = "1234567890123456789012345678901234567891".parse().unwrap();
            assert!(Decimal::try_from(too_long).is_err());
            let trailing_zeros: BigDecimal = "1.50000000000000000000000000000000000000000"
                .parse()
                .unwrap();
            assert_eq!(
                Decimal::try_from(trailing_zeros).unwrap(),
                "1.5".parse().unwrap()
            );
        }
    }
}

/// The one rule by which a decimal becomes a [`Number`] (see the module docs).
pub(crate) fn canonical(d: Decimal) -> Number {
    if let Some(i) = d.to_i64() {
        return Number::from(i);
    }
    // A float's shortest text has at most 17 digits.
    if d.digit_count() <= 17
        && let Ok(f) = d.to_string().parse::<f64>()
        && Decimal::of_f64(f) == Some(d)
    {
        return Number::from(f);
    }
    // A decimal that is an f64's exact value but not its shortest text stays a decimal:
    // as that f64 it would read back (and be written to a decimal store) as the
    // shortest text, another decimal.
    Number::decimal(d)
}

/// The binary form of a non-zero magnitude: `2^exponent * (1 + fraction / 2^128)`,
/// truncated, with `sticky` set where bits below the fraction were cut off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Binary {
    pub exponent: i32,
    pub fraction: u128,
    pub sticky: bool,
}

impl Binary {
    /// The exact binary form of a finite non-zero float's magnitude.
    pub(crate) fn of_f64(f: f64) -> Binary {
        let bits = f.to_bits();
        let biased = ((bits >> 52) & 0x7FF) as i32;
        let mantissa = bits & ((1 << 52) - 1);
        let (exponent, fraction) = if biased == 0 {
            // Subnormal: mantissa * 2^-1074; normalize on its highest set bit.
            let high = mantissa.ilog2();
            let fraction = (u128::from(mantissa)).checked_shl(128 - high).unwrap_or(0);
            (high as i32 - 1074, fraction)
        } else {
            (biased - 1023, u128::from(mantissa) << 76)
        };
        Binary {
            exponent,
            fraction,
            sticky: false,
        }
    }

    /// The binary form of `coefficient * 10^exponent` (coefficient not zero), by exact
    /// integer arithmetic on a few machine words.
    fn of_decimal(coefficient: u128, exponent: i32) -> Binary {
        let mut n = Big(vec![coefficient as u64, (coefficient >> 64) as u64]);
        // The value is `n / 2^shift` once `n` is scaled.
        let mut shift = 0i64;
        let mut sticky = false;
        if exponent >= 0 {
            for _ in 0..exponent {
                n.mul_small(10);
            }
        } else {
            // Scale up by enough bits that the quotient keeps more than 129 of them:
            // 10^k < 2^(3.33 k).
            let k = exponent.unsigned_abs() as u64;
            shift = 132 + (k * 333).div_ceil(100) as i64;
            n.shl(shift as u32);
            for _ in 0..k {
                sticky |= n.div_small(10) != 0;
            }
        }
        let len = n.bit_len();
        if len < 129 {
            n.shl(129 - len);
            shift += i64::from(129 - len);
        }
        let len = n.bit_len();
        let below = len - 129;
        sticky |= n.any_below(below);
        Binary {
            exponent: (i64::from(len) - 1 - shift) as i32,
            fraction: n.bits_from(below),
            sticky,
        }
    }
}

/// An unsigned integer of any size, least significant word first: just what
/// [`Binary::of_decimal`] needs.
struct Big(Vec<u64>);

impl Big {
    fn mul_small(&mut self, m: u64) {
        let mut carry = 0u128;
        for w in &mut self.0 {
            let p = u128::from(*w) * u128::from(m) + carry;
            *w = p as u64;
            carry = p >> 64;
        }
        if carry > 0 {
            self.0.push(carry as u64);
        }
    }

    /// Divides in place, returning the remainder.
    fn div_small(&mut self, d: u64) -> u64 {
        let mut rem = 0u128;
        for w in self.0.iter_mut().rev() {
            let cur = (rem << 64) | u128::from(*w);
            *w = (cur / u128::from(d)) as u64;
            rem = cur % u128::from(d);
        }
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
        rem as u64
    }

    fn shl(&mut self, bits: u32) {
        let (words, bits) = ((bits / 64) as usize, bits % 64);
        if bits > 0 {
            let mut carry = 0u64;
            for w in &mut self.0 {
                let next = *w >> (64 - bits);
                *w = (*w << bits) | carry;
                carry = next;
            }
            if carry > 0 {
                self.0.push(carry);
            }
        }
        self.0.splice(0..0, std::iter::repeat_n(0, words));
    }

    fn bit_len(&self) -> u32 {
        let top = self.0.iter().rposition(|&w| w != 0);
        top.map_or(0, |i| i as u32 * 64 + (64 - self.0[i].leading_zeros()))
    }

    fn bit(&self, i: u32) -> bool {
        self.0
            .get((i / 64) as usize)
            .is_some_and(|w| w >> (i % 64) & 1 == 1)
    }

    /// Whether any of the lowest `n` bits is set.
    fn any_below(&self, n: u32) -> bool {
        (0..n).any(|i| self.bit(i))
    }

    /// The 128 bits from bit `from` up.
    fn bits_from(&self, from: u32) -> u128 {
        (0..128).fold(0u128, |acc, i| acc | (u128::from(self.bit(from + i)) << i))
    }
}

/// `digits * 10^exp`, digits most significant first, without leading or trailing zeros:
/// a decimal of any length, for exact arithmetic before the result is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Digits {
    negative: bool,
    digits: Vec<u8>,
    exp: i32,
}

impl Digits {
    fn zero() -> Self {
        Digits {
            negative: false,
            digits: Vec::new(),
            exp: 0,
        }
    }

    /// Parses `[+-]d[.ddd][(e|E)[+-]x]`: what `i64` and `{:e}` print, and what stores
    /// such as DynamoDB return.
    fn parse(s: &str) -> Option<Digits> {
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
            Digits {
                negative,
                digits,
                exp,
            }
            .normalized(),
        )
    }

    /// The shortest decimal that reads back as `f`, for a finite `f`.
    fn of_f64(f: f64) -> Option<Digits> {
        f.is_finite()
            .then(|| Digits::parse(&format!("{f:e}")))
            .flatten()
    }

    /// The decimal a number stands for (a float: the decimal it prints as).
    fn of(n: &Number) -> Option<Digits> {
        if let Some(d) = n.decimal_value() {
            return Some(d.digits());
        }
        match n.float() {
            Some(f) => Digits::of_f64(f),
            None => Digits::parse(&n.as_i64()?.to_string()),
        }
    }

    fn normalized(mut self) -> Self {
        let lead = self.digits.iter().take_while(|d| **d == 0).count();
        self.digits.drain(..lead);
        while self.digits.last() == Some(&0) {
            self.digits.pop();
            // Text can say any exponent (`10e2147483647`): one this far out is beyond
            // every range the digits are checked against, so it stays there.
            self.exp = self.exp.saturating_add(1);
        }
        if self.digits.is_empty() {
            return Digits::zero();
        }
        self
    }

    /// The value as a [`Decimal`], if one holds it.
    fn bounded(&self) -> Option<Decimal> {
        if self.digits.len() > MAX_DIGITS as usize {
            return None;
        }
        let c = self
            .digits
            .iter()
            .fold(0u128, |acc, d| acc * 10 + u128::from(*d));
        Decimal::from_parts(self.negative, c, self.exp)
    }

    /// The digits scaled to exponent `exp` (at most `self.exp`).
    fn scaled(&self, exp: i32) -> Vec<u8> {
        let mut d = self.digits.clone();
        d.resize(d.len() + (self.exp - exp) as usize, 0);
        d
    }

    fn add(&self, other: &Digits) -> Digits {
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
        Digits {
            negative,
            digits,
            exp,
        }
        .normalized()
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

    /// The number the decimal is, by [`canonical`], or `None` if no number holds it
    /// exactly. Beyond a `Decimal`'s range, a float's shortest text is still that float
    /// (the embedded engine holds every f64).
    fn number(&self) -> Option<Number> {
        if let Some(d) = self.bounded() {
            return Some(canonical(d));
        }
        let f: f64 = self.to_text().parse().ok()?;
        (f.is_finite() && Digits::of_f64(f).as_ref() == Some(self)).then(|| Number::from(f))
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

/// The number a decimal text stands for, by [`canonical`], if a number holds it
/// exactly: an integer in range as an integer, the float that prints as the same
/// decimal as that float, else a decimal of at most 38 digits.
pub(crate) fn exact_number(text: &str) -> Option<Number> {
    // Fast paths for the usual texts: an integer, or the shortest text of a float.
    if let Ok(i) = text.parse::<i64>() {
        return Some(Number::from(i));
    }
    // A text of at most 15 significant digits names the float it parses to exactly in
    // the sense used here (the float prints as the same decimal): decimals of 15 digits
    // lie further apart than normal floats, so no other decimal as short rounds to that
    // float. Subnormal floats hold fewer digits (`1.23456789e-320` parses to the float
    // that prints as `1.2347e-320`): they take the exact road.
    if significant_digits(text).is_some_and(|n| n <= 15)
        && let Ok(f) = text.parse::<f64>()
        && f.is_normal()
        && f.fract() != 0.0
    {
        return Some(Number::from(f));
    }
    exact_number_by_decimal(text)
}

/// [`exact_number`] without its fast paths: by exact decimal arithmetic.
fn exact_number_by_decimal(text: &str) -> Option<Number> {
    Digits::parse(text)?.number()
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

/// The exact sum, if a number holds it exactly (see [`Number::checked_add`]).
pub(crate) fn exact_sum(a: &Number, b: &Number) -> Option<Number> {
    let sum = Digits::of(a)?.add(&Digits::of(b)?);
    let n = sum.number()?;
    // Where no integer took part, a whole sum stays a float (`2.5 + 0.5` is `3.0`), as
    // floats add; a decimal or an integer operand gives the integer.
    if n.is_integer()
        && !a.is_integer()
        && !b.is_integer()
        && a.decimal_value().is_none()
        && b.decimal_value().is_none()
    {
        let f = n.to_f64_lossy();
        return (Number::from(f) == n).then(|| Number::from(f));
    }
    Some(n)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sum(a: impl Into<Number>, b: impl Into<Number>) -> Option<Number> {
        exact_sum(&a.into(), &b.into())
    }

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    /// A decimal that is a float's exact value, but not its shortest text, is kept as
    /// the decimal it is (it used to become the float, and read back as the float's
    /// shortest text, another decimal); it sorts just beyond the float, as its key does.
    #[test]
    fn a_float_s_exact_value_stays_the_decimal_it_is() {
        for (text, float) in [
            ("0.500000000931322574615478515625", 0.5 + 2f64.powi(-30)),
            ("-0.500000000931322574615478515625", -(0.5 + 2f64.powi(-30))),
            ("1180591620717411303424", 2f64.powi(70)),
            ("0.0000152587890625000000000000000000001", 2f64.powi(-16)),
        ] {
            let d = dec(text);
            let n = Number::from(d);
            assert!(n.is_decimal(), "{text}");
            assert_eq!(Decimal::try_from(n).unwrap(), d, "{text}");
            assert_eq!(n.to_string(), d.to_string(), "{text}");
            let f = Number::from(float);
            assert_ne!(n, f, "{text}");
            let beyond = if float < 0.0 {
                Ordering::Less
            } else {
                Ordering::Greater
            };
            if d.binary() == Binary::of_f64(float.abs()) {
                assert_eq!(n.cmp(&f), beyond, "{text}");
            }
            let key = |n: &Number| {
                let mut out = Vec::new();
                crate::codec::encode_key_value(&crate::Value::Number(*n), &mut out);
                out
            };
            assert_eq!(key(&n).cmp(&key(&f)), n.cmp(&f), "{text}: key order");
            // An f64 field holds a float's exact value: it reads as that float; no other
            // decimal.
            let read = crate::from_value::<f64>(crate::Value::Number(n));
            if d.exact_f64().is_some() {
                assert_eq!(read.unwrap(), float, "{text}");
            } else {
                assert_eq!(read.unwrap_err().kind(), &crate::ErrorKind::Serialization);
            }
        }
    }

    /// An `f32` field reads a decimal that is an `f32`'s exact value as that `f32`.
    #[test]
    fn an_f32_s_exact_value_reads_into_an_f32() {
        let n = Number::from(dec("0.100000001490116119384765625"));
        assert!(n.is_decimal());
        let read: f32 = crate::from_value(crate::Value::Number(n)).unwrap();
        assert_eq!(read, 0.1f32);
        let near = Number::from(dec("0.100000001490116119384765626"));
        let e = crate::from_value::<f32>(crate::Value::Number(near)).unwrap_err();
        assert_eq!(e.kind(), &crate::ErrorKind::Serialization);
    }

    #[test]
    fn exponents_past_any_range_are_validation_not_overflow() {
        for text in [
            "1e2147483647",
            "10e2147483647",
            "15e2147483647",
            "1e-2147483648",
            "0.1e-2147483648",
            "100e2147483646",
        ] {
            let e = text.parse::<Number>().unwrap_err();
            assert_eq!(e.kind(), &crate::ErrorKind::Validation, "{text}: {e}");
            let e = text.parse::<Decimal>().unwrap_err();
            assert_eq!(e.kind(), &crate::ErrorKind::Validation, "{text}: {e}");
        }
        for (c, e) in [
            (10, i32::MAX),
            (15, i32::MAX),
            (1, i32::MIN),
            (-100, i32::MAX - 1),
        ] {
            assert!(Decimal::new(c, e).is_err(), "{c}e{e}");
        }
    }

    /// Any decimal a `Decimal` holds: 1 to 38 digits, any exponent in range.
    pub(crate) fn any_decimal() -> impl Strategy<Value = Decimal> {
        (
            any::<bool>(),
            prop_oneof![
                (1u128..1000),
                (1u128..10u128.pow(19)),
                (1u128..10u128.pow(38)),
                Just(10u128.pow(38) - 1),
            ],
            -167i32..=125,
        )
            .prop_filter_map("in range", |(negative, c, e)| {
                Decimal::from_parts(negative, c, e)
            })
    }

    proptest! {
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
                let (fast, slow) = (exact_number(&text), exact_number_by_decimal(&text));
                prop_assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{}", text);
            }
            let f = f64::from_bits(bits);
            if f.is_finite() {
                let text = format!("{f:?}");
                let (fast, slow) = (exact_number(&text), exact_number_by_decimal(&text));
                prop_assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{}", text);
            }
        }

        /// Text round-trips, and the text reads back through `f64` parsing as the
        /// nearest float (so other programs read it too).
        #[test]
        fn decimals_print_and_parse_back(d in any_decimal()) {
            let text = d.to_string();
            prop_assert_eq!(dec(&text), d);
            prop_assert!(text.parse::<f64>().is_ok());
        }

        /// Decimals compare as their exact values do (checked on their digits scaled to
        /// one exponent).
        #[test]
        fn decimals_compare_numerically(a in any_decimal(), b in any_decimal()) {
            let diff = a.digits().add(&Digits { negative: !b.negative, ..b.digits() }.normalized());
            let expected = if diff.digits.is_empty() {
                Ordering::Equal
            } else if diff.negative {
                Ordering::Less
            } else {
                Ordering::Greater
            };
            prop_assert_eq!(a.cmp(&b), expected);
        }

        /// A decimal is a number of one kind only: never one an integer or a float
        /// holds exactly.
        #[test]
        fn a_number_holds_a_decimal_only_where_no_integer_or_float_does(d in any_decimal()) {
            let n = Number::from(d);
            if n.decimal_value().is_some() {
                prop_assert_eq!(d.to_i64(), None);
                let f = d.to_f64_lossy();
                prop_assert_ne!(Decimal::of_f64(f), Some(d));
            }
            prop_assert_eq!(Decimal::try_from(n).unwrap(), d);
        }

        /// The binary form of a float's shortest decimal brackets the float's own.
        #[test]
        fn binary_forms_of_floats_agree(bits: u64) {
            let f = f64::from_bits(bits).abs();
            if f.is_finite() && f != 0.0 && let Some(d) = Decimal::of_f64(f) {
                let from_decimal = d.binary();
                let exact = Binary::of_f64(f);
                match d.exact_f64() {
                    Some(_) => prop_assert_eq!(from_decimal, exact),
                    None => {
                        // Within one unit of the float's last bit.
                        prop_assert!(from_decimal.exponent.abs_diff(exact.exponent) <= 1);
                        prop_assert_eq!(d.to_f64_lossy(), f);
                    }
                }
            }
        }
    }

    #[test]
    fn binary_forms_are_exact_on_powers_of_two_and_ten() {
        assert_eq!(dec("1").binary(), Binary::of_f64(1.0));
        assert_eq!(dec("0.5").binary(), Binary::of_f64(0.5));
        assert_eq!(dec("1024").binary(), Binary::of_f64(1024.0));
        assert_eq!(
            dec("9.31322574615478515625e-10").binary(),
            Binary::of_f64(2f64.powi(-30))
        );
        let tenth = dec("0.1").binary();
        assert_eq!(tenth.exponent, -4);
        assert!(tenth.sticky);
        // 0.1 = 1.6 * 2^-4; 0.6 in binary is 0.1001 1001 ...
        assert_eq!(tenth.fraction >> 124, 0b1001);
        let f = Binary::of_f64(0.1);
        assert!(tenth < f, "the float 0.1 is a little above one tenth");
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
        // 17 digits that are not the float's shortest text: a decimal, not the float.
        let n = exact_number("0.10000000000000001").unwrap();
        assert_eq!(n.decimal_value(), Some(dec("0.10000000000000001")));
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
        // 2^63 is a float's exact value, not its shortest text: the decimal it says.
        let two63 = exact_number("9223372036854775808").unwrap();
        assert_eq!(two63.decimal_value(), Some(dec("9223372036854775808")));
        assert_eq!(
            exact_number("9.223372036854776e18").unwrap().float(),
            Some(9.223_372_036_854_776e18)
        );
        let long = "0.30000000000000000000000000001";
        assert_eq!(exact_number(long).unwrap().decimal_value(), Some(dec(long)));
        let digits38 = "12345678901234567890123456789012345678";
        assert_eq!(
            exact_number(digits38).unwrap().to_string(),
            "1.2345678901234567890123456789012345678e37"
        );
        // 39 digits: no number holds it exactly.
        assert_eq!(
            exact_number("123456789012345678901234567890123456789"),
            None
        );
        assert_eq!(exact_number(""), None);
        assert_eq!(exact_number("abc"), None);
        assert_eq!(exact_number("."), None);
        // Subnormal: the float nearest prints as another decimal, so the text is held
        // as the decimal it is (or refused), never rounded to that float.
        let subnormal = exact_number("1.23456789e-320");
        assert_ne!(subnormal.and_then(|n| n.float()), Some(1.23456789e-320));
        // A subnormal float's own shortest text still reads back as it.
        for f in [5e-324, 1.2347e-320, -2.225073858507201e-308] {
            assert_eq!(exact_number(&format!("{f:?}")).unwrap().float(), Some(f));
        }
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
        assert_eq!(sum(1e300, 1e-300), None, "601 digits: nothing holds it");
        assert_eq!(
            sum(9_007_199_254_740_993_i64, 0.5).unwrap().decimal_value(),
            Some(dec("9007199254740993.5")),
            "kept as the exact decimal, not rounded"
        );
        assert_eq!(sum(10, -2.5).unwrap().float(), Some(7.5));
        let big = Number::from(dec("1e30"));
        assert_eq!(
            exact_sum(&big, &Number::from(1)).unwrap().to_string(),
            "1.000000000000000000000000000001e30"
        );
        let third = Number::from(dec("0.3333333333333333333333333333333333333"));
        assert_eq!(
            exact_sum(&third, &third).unwrap().decimal_value(),
            Some(dec("0.6666666666666666666666666666666666666"))
        );
        assert!(
            exact_sum(
                &Number::from(dec("9.9999999999999999999999999999999999999e125")),
                &Number::from(dec("1e125"))
            )
            .is_none()
        );
    }

    #[test]
    fn decimals_print_plainly_in_the_usual_range() {
        for (d, text) in [
            ("1.50", "1.5"),
            ("-0.000123", "-0.000123"),
            ("1e-7", "1e-7"),
            ("1.25e-8", "1.25e-8"),
            ("123e18", "123000000000000000000"),
            ("1e21", "1e21"),
            ("1e-130", "1e-130"),
            ("-0", "0"),
        ] {
            assert_eq!(dec(d).to_string(), text, "{d}");
        }
    }

    #[test]
    fn decimals_out_of_range_are_refused() {
        for bad in [
            "1e126",
            "1e-131",
            "123456789012345678901234567890123456789",
            "0.1e",
            "",
            "1.2.3",
            "NaN",
            "inf",
        ] {
            let e = bad.parse::<Decimal>().unwrap_err();
            assert_eq!(e.kind(), &crate::ErrorKind::Validation, "{bad}");
        }
        assert_eq!(
            dec("9.9999999999999999999999999999999999999e125").digit_count(),
            38
        );
        assert_eq!(
            dec("1000000000000000000000000000000000000000000e-10"),
            dec("1e32")
        );
        assert!(Decimal::new(i128::MAX, 0).is_err());
        assert!(Decimal::try_from(f64::NAN).is_err());
        assert!(Decimal::try_from(1e300).is_err());
    }
}
