//! The dynamic value model: [`Value`], [`Number`], [`Item`] and [`ValueType`].

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::{Deref, DerefMut};

use crate::Decimal;

/// A number: a 64-bit integer, a 64-bit float, or an exact [`Decimal`] of up to 38
/// significant digits (DynamoDB's numbers), all compared numerically.
///
/// `Number::from(1) == Number::from(1.0)`, and comparisons between kinds are exact (no
/// integer is rounded to a float to compare it, nor a decimal). A number remembers
/// whether it was written as an integer or a float; a backend with one number type
/// (DynamoDB) gives a whole float back as the equal integer (see
/// [`Capabilities::keeps_number_kind`](crate::backend::Capabilities::keeps_number_kind)),
/// which reads into an `f64` field exactly.
///
/// A decimal is held as such only where neither an `i64` nor an `f64`'s shortest text
/// says it: a [`Decimal`] that is an integer in the i64 range becomes that integer, and
/// one that is an f64's shortest text (`0.1`) becomes that float, as when a decimal
/// store's text is read. A decimal that is an f64's exact binary value but not its
/// shortest text (`0.500000000931322574615478515625`, `2^63`) stays a decimal: as the
/// float it would read back as the float's shortest text, another decimal. So a number read from DynamoDB with 38 digits is exact, reads
/// into a `Decimal` field, and fails (with `Serialization`, naming the attribute) only a
/// field that cannot hold it, such as an `i64`.
///
/// Comparisons use the values held, a float being its exact binary value, and a
/// decimal equal to a float's exact value ordered just beyond that float (further from
/// zero), as the key encoding places it. A store that keeps numbers as decimal text
/// (DynamoDB) keeps a float as the shorter decimal it prints as, so there a decimal of
/// 17 or more digits lying between the two, or at the float's exact value (such as
/// `1e30 + 1` beside the float `1e30`), may order the other way beside that float.
///
/// NaN and the infinities can be held, so that a value built from an `f64` never
/// panics, but every write rejects them with [`ErrorKind::Validation`](crate::ErrorKind).
#[derive(Clone, Copy)]
pub struct Number(N);

#[derive(Clone, Copy, Debug)]
enum N {
    Int(i64),
    Float(f64),
    /// Never equal to an `Int` or a `Float` (see [`crate::decimal::canonical`]).
    Dec(Decimal),
}

impl Number {
    /// The number as an `i64`, if it is an integer in range (`2.0` gives `Some(2)`).
    pub fn as_i64(&self) -> Option<i64> {
        match self.0 {
            N::Int(i) => Some(i),
            N::Float(f) => float_to_i64_exact(f),
            N::Dec(_) => None,
        }
    }

    /// The number as an `f64`, if that is exact (`2^53 + 1` gives `None`); `None` for a
    /// decimal, which is never equal to a float (an `f64` field reads one that is a
    /// float's exact value as that float).
    pub fn as_f64(&self) -> Option<f64> {
        match self.0 {
            N::Int(i) => {
                let f = i as f64;
                // `f as i64` saturates, so 2^63 (the rounding of i64::MAX) is caught too.
                (f < 9_223_372_036_854_775_808.0 && f as i64 == i).then_some(f)
            }
            N::Float(f) => Some(f),
            N::Dec(_) => None,
        }
    }

    /// The number as an `f64`, rounding integers beyond 2^53 and decimals (for display
    /// and arithmetic on floats only).
    pub fn to_f64_lossy(&self) -> f64 {
        match self.0 {
            N::Int(i) => i as f64,
            N::Float(f) => f,
            N::Dec(d) => d.to_f64_lossy(),
        }
    }

    /// The number as a [`Decimal`]: exact for integers and decimals; a float is the
    /// decimal it prints as (`0.1` is 0.1). `None` for a float a `Decimal` cannot hold
    /// (NaN, infinite, or outside `1e-130..1e126` in magnitude).
    pub fn to_decimal(&self) -> Option<Decimal> {
        match self.0 {
            N::Int(i) => Some(Decimal::from(i)),
            N::Float(f) => Decimal::try_from(f).ok(),
            N::Dec(d) => Some(d),
        }
    }

    /// The number as a whole number, its sign and magnitude (`true`: below zero), if it is
    /// an integer, held as any kind of number, whose magnitude a `u128` holds: how a
    /// field wider than an `i64` reads it.
    pub(crate) fn integer_parts(&self) -> Option<(bool, u128)> {
        match self.0 {
            N::Int(i) => Some((i < 0, u128::from(i.unsigned_abs()))),
            // Below 2^128 in magnitude and whole: the cast is exact.
            N::Float(f)
                if f.fract() == 0.0
                    && f.abs() < 340_282_366_920_938_463_463_374_607_431_768_211_456.0 =>
            {
                Some((f < 0.0, f.abs() as u128))
            }
            N::Float(_) => None,
            N::Dec(d) => d.integer_parts(),
        }
    }

    /// Whether the number is held as a decimal: neither an `i64` nor an `f64`'s shortest
    /// text says it.
    pub fn is_decimal(&self) -> bool {
        matches!(self.0, N::Dec(_))
    }

    /// A number holding a decimal that is no `i64` and no `f64`'s shortest text (the
    /// caller has checked).
    pub(crate) fn decimal(d: Decimal) -> Number {
        Number(N::Dec(d))
    }

    /// The decimal, if the number is held as one.
    pub(crate) fn decimal_value(&self) -> Option<Decimal> {
        match self.0 {
            N::Dec(d) => Some(d),
            _ => None,
        }
    }

    /// Whether the number was written as an integer.
    pub fn is_integer(&self) -> bool {
        matches!(self.0, N::Int(_))
    }

    /// Whether the number is neither NaN nor infinite (only those can be stored).
    pub fn is_finite(&self) -> bool {
        match self.0 {
            N::Int(_) | N::Dec(_) => true,
            N::Float(f) => f.is_finite(),
        }
    }

    /// Whether the number is zero.
    pub fn is_zero(&self) -> bool {
        match self.0 {
            N::Int(i) => i == 0,
            N::Float(f) => f == 0.0,
            N::Dec(d) => d.is_zero(),
        }
    }

    /// Whether the number is below zero.
    pub fn is_negative(&self) -> bool {
        match self.0 {
            N::Int(i) => i < 0,
            N::Float(f) => f < 0.0,
            N::Dec(d) => d.is_negative(),
        }
    }

    /// The exact sum, or `None` if it cannot be stored exactly: integers add as integers
    /// (an overflow is `None`, never a wrap); otherwise the exact sum of the decimals the
    /// two are (a float is the decimal it prints as), held as an integer where it is one
    /// in range (a sum of two floats stays a float), else as the float that prints as it
    /// (`0.1 + 0.2` is `0.3`), else as a decimal of up to 38 digits; `None` where none
    /// of these holds it.
    pub fn checked_add(&self, other: &Number) -> Option<Number> {
        match (self.0, other.0) {
            (N::Int(a), N::Int(b)) => a.checked_add(b).map(Number::from),
            _ => crate::decimal::exact_sum(self, other),
        }
    }

    /// The float, if the number was written as one.
    pub(crate) fn float(&self) -> Option<f64> {
        match self.0 {
            N::Float(f) => Some(f),
            N::Int(_) | N::Dec(_) => None,
        }
    }
}

fn float_to_i64_exact(f: f64) -> Option<i64> {
    if f.fract() == 0.0 && (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f)
    {
        Some(f as i64)
    } else {
        None
    }
}

/// Compares an integer with a float exactly. NaN sorts above every number.
fn cmp_int_float(i: i64, f: f64) -> Ordering {
    if f.is_nan() || f >= 9_223_372_036_854_775_808.0 {
        return Ordering::Less;
    }
    if f < -9_223_372_036_854_775_808.0 {
        return Ordering::Greater;
    }
    // f is now in [-2^63, 2^63), so its integer part fits an i64 exactly.
    let whole = f.trunc();
    match i.cmp(&(whole as i64)) {
        Ordering::Equal => 0.0.partial_cmp(&(f - whole)).unwrap_or(Ordering::Equal),
        other => other,
    }
}

/// Compares a decimal with a float's exact value. NaN sorts above every number.
fn cmp_decimal_float(d: Decimal, f: f64) -> Ordering {
    if f.is_nan() {
        return Ordering::Less;
    }
    let sign = |negative: bool, zero: bool| {
        if zero {
            0
        } else if negative {
            -1
        } else {
            1
        }
    };
    match sign(d.is_negative(), d.is_zero()).cmp(&sign(f < 0.0, f == 0.0)) {
        Ordering::Equal if f == 0.0 => Ordering::Equal,
        Ordering::Equal if f.is_infinite() => {
            if f > 0.0 {
                Ordering::Less
            } else {
                Ordering::Greater
            }
        }
        Ordering::Equal => {
            // A decimal that is the float's exact value is still not the float (see
            // `crate::decimal`): it lies just beyond it, further from zero.
            let magnitude = d
                .binary()
                .cmp(&crate::decimal::Binary::of_f64(f))
                .then(Ordering::Greater);
            if f < 0.0 {
                magnitude.reverse()
            } else {
                magnitude
            }
        }
        unequal => unequal,
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.0, other.0) {
            (N::Int(a), N::Int(b)) => a.cmp(&b),
            (N::Int(a), N::Float(b)) => cmp_int_float(a, b),
            (N::Float(a), N::Int(b)) => cmp_int_float(b, a).reverse(),
            (N::Float(a), N::Float(b)) => match (a.is_nan(), b.is_nan()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                // -0.0 == 0.0 here, as everywhere numbers are compared.
                (false, false) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
            },
            (N::Dec(a), N::Dec(b)) => a.cmp(&b),
            (N::Dec(a), N::Int(b)) => a.cmp(&Decimal::from(b)),
            (N::Int(a), N::Dec(b)) => Decimal::from(a).cmp(&b),
            (N::Dec(a), N::Float(b)) => cmp_decimal_float(a, b),
            (N::Float(a), N::Dec(b)) => cmp_decimal_float(b, a).reverse(),
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Number {}

/// Hashes agree with equality: `1` and `1.0` hash alike.
impl std::hash::Hash for Number {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // A decimal never equals an integer or a float (it is held as one where one
        // holds it), so it may hash its own way.
        if let N::Dec(d) = self.0 {
            return d.hash(state);
        }
        match self.as_i64() {
            Some(i) => i.hash(state),
            // -0.0 is integral, so every float here is non-zero or NaN.
            None => self.to_f64_lossy().to_bits().hash(state),
        }
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// 2^53, from which on not every integer is a float.
const TWO_TO_53: f64 = 9_007_199_254_740_992.0;
/// 2^63, the first float beyond every i64.
const TWO_TO_63: f64 = 9_223_372_036_854_775_808.0;

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            N::Int(i) => write!(f, "{i}"),
            // A whole float from 2^53 on is written as the integer it is: its shortest
            // text (`8.002449850622037e16`) is another integer, which reads back as
            // that integer, not as this float.
            N::Float(x) if x.fract() == 0.0 && (TWO_TO_53..TWO_TO_63).contains(&x.abs()) => {
                write!(f, "{}", x as i64)
            }
            // `{:?}` prints the shortest string that parses back to the same f64.
            N::Float(x) => write!(f, "{x:?}"),
            N::Dec(d) => write!(f, "{d}"),
        }
    }
}

macro_rules! number_from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Number {
            fn from(v: $t) -> Self {
                Number(N::Int(i64::from(v)))
            }
        }
    )*};
}
number_from_int!(i8, i16, i32, i64, u8, u16, u32);

impl From<f64> for Number {
    fn from(v: f64) -> Self {
        Number(N::Float(v))
    }
}

impl From<f32> for Number {
    fn from(v: f32) -> Self {
        Number(N::Float(f64::from(v)))
    }
}

impl TryFrom<u64> for Number {
    type Error = crate::Error;
    fn try_from(v: u64) -> Result<Self, Self::Error> {
        i64::try_from(v).map(Number::from).map_err(|_| {
            crate::Error::validation(format!("{v} is beyond the i64 range numbers can hold"))
        })
    }
}

impl std::str::FromStr for Number {
    type Err = crate::Error;
    /// Parses decimal text exactly: an integer in the i64 range as an integer, the
    /// shortest text of a float (`0.1`, `1e300`) as that float, anything else as a
    /// [`Decimal`]. Text that no number holds exactly (more than 38 significant
    /// digits, a decimal out of range, not a number) is `Validation`: nothing is
    /// rounded.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        crate::decimal::exact_number(s).ok_or_else(|| {
            crate::Error::validation(format!(
                "{s:?} is not a number kvs holds exactly (an i64, an f64, or a decimal of \
                 at most 38 significant digits from 1e-130 to below 1e126)"
            ))
        })
    }
}

/// The type of a [`Value`], as `type_of` conditions name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ValueType {
    /// [`Value::Null`]
    Null,
    /// [`Value::Bool`]
    Bool,
    /// [`Value::Number`]
    Number,
    /// [`Value::String`]
    String,
    /// [`Value::Bytes`]
    Bytes,
    /// [`Value::List`]
    List,
    /// [`Value::Map`]
    Map,
    /// [`Value::StringSet`]
    StringSet,
    /// [`Value::NumberSet`]
    NumberSet,
    /// [`Value::BytesSet`]
    BytesSet,
}

impl ValueType {
    /// Every type, in declaration order.
    pub const ALL: [ValueType; 10] = [
        ValueType::Null,
        ValueType::Bool,
        ValueType::Number,
        ValueType::String,
        ValueType::Bytes,
        ValueType::List,
        ValueType::Map,
        ValueType::StringSet,
        ValueType::NumberSet,
        ValueType::BytesSet,
    ];

    /// A short lowercase name: `"string"`, `"number set"`, ...
    pub fn name(self) -> &'static str {
        match self {
            ValueType::Null => "null",
            ValueType::Bool => "bool",
            ValueType::Number => "number",
            ValueType::String => "string",
            ValueType::Bytes => "bytes",
            ValueType::List => "list",
            ValueType::Map => "map",
            ValueType::StringSet => "string set",
            ValueType::NumberSet => "number set",
            ValueType::BytesSet => "bytes set",
        }
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Any value an attribute can hold.
///
/// Equality is structural, with numbers compared numerically (`1 == 1.0`). Sets hold
/// no duplicates, and an empty set is written as a missing attribute.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Value {
    /// Null: present, but without a value (unlike a missing attribute).
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An `i64` or a finite `f64`.
    Number(Number),
    /// A UTF-8 string; strings sort by their bytes.
    String(String),
    /// Binary data.
    Bytes(Vec<u8>),
    /// An ordered list of values of any types.
    List(Vec<Value>),
    /// A map from attribute names to values.
    Map(BTreeMap<String, Value>),
    /// A set of strings.
    StringSet(BTreeSet<String>),
    /// A set of numbers.
    NumberSet(BTreeSet<Number>),
    /// A set of byte strings.
    BytesSet(BTreeSet<Vec<u8>>),
}

impl Value {
    /// The type of the value.
    pub fn value_type(&self) -> ValueType {
        match self {
            Value::Null => ValueType::Null,
            Value::Bool(_) => ValueType::Bool,
            Value::Number(_) => ValueType::Number,
            Value::String(_) => ValueType::String,
            Value::Bytes(_) => ValueType::Bytes,
            Value::List(_) => ValueType::List,
            Value::Map(_) => ValueType::Map,
            Value::StringSet(_) => ValueType::StringSet,
            Value::NumberSet(_) => ValueType::NumberSet,
            Value::BytesSet(_) => ValueType::BytesSet,
        }
    }

    /// Binary data.
    pub fn bytes(b: impl Into<Vec<u8>>) -> Value {
        Value::Bytes(b.into())
    }

    /// A list of anything that converts into values.
    pub fn list<T: Into<Value>>(items: impl IntoIterator<Item = T>) -> Value {
        Value::List(items.into_iter().map(Into::into).collect())
    }

    /// A string set; duplicates fold into one.
    pub fn string_set<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Value {
        Value::StringSet(items.into_iter().map(Into::into).collect())
    }

    /// A number set; duplicates (including `1` and `1.0`) fold into one.
    pub fn number_set<T: Into<Number>>(items: impl IntoIterator<Item = T>) -> Value {
        Value::NumberSet(items.into_iter().map(Into::into).collect())
    }

    /// A bytes set; duplicates fold into one.
    pub fn bytes_set<B: Into<Vec<u8>>>(items: impl IntoIterator<Item = B>) -> Value {
        Value::BytesSet(items.into_iter().map(Into::into).collect())
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number, if this is one.
    pub fn as_number(&self) -> Option<Number> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The number as an exact `i64`, if this is one.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_number().and_then(|n| n.as_i64())
    }

    /// The number as an exact `f64`, if this is one.
    pub fn as_f64(&self) -> Option<f64> {
        self.as_number().and_then(|n| n.as_f64())
    }

    /// The bool, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The bytes, if this is binary data.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The elements, if this is a list.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// The entries, if this is a map.
    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// Whether this is one of the three set types.
    pub fn is_set(&self) -> bool {
        matches!(
            self,
            Value::StringSet(_) | Value::NumberSet(_) | Value::BytesSet(_)
        )
    }

    /// Whether this is an empty set (written as a missing attribute).
    pub fn is_empty_set(&self) -> bool {
        match self {
            Value::StringSet(s) => s.is_empty(),
            Value::NumberSet(s) => s.is_empty(),
            Value::BytesSet(s) => s.is_empty(),
            _ => false,
        }
    }

    /// Orders two values of the same scalar type (number, string, bytes); `None` for
    /// different types or non-scalars, which no comparison holds for.
    pub fn partial_compare(&self, other: &Value) -> Option<Ordering> {
        match (self, other) {
            (Value::Number(a), Value::Number(b)) => Some(a.cmp(b)),
            (Value::String(a), Value::String(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
            (Value::Bytes(a), Value::Bytes(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Number(n) => write!(f, "{n}"),
            Value::String(s) => write!(f, "{s:?}"),
            Value::Bytes(b) => write!(f, "b{}", HexBytes(b)),
            Value::List(l) => f.debug_list().entries(l).finish(),
            Value::Map(m) => f.debug_map().entries(m).finish(),
            Value::StringSet(s) => write!(f, "StringSet{s:?}"),
            Value::NumberSet(s) => write!(f, "NumberSet{s:?}"),
            Value::BytesSet(s) => {
                f.write_str("BytesSet")?;
                f.debug_set()
                    .entries(s.iter().map(|b| HexBytes(b)))
                    .finish()
            }
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

struct HexBytes<'a>(&'a [u8]);

impl fmt::Display for HexBytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        f.write_str("\"")
    }
}

impl fmt::Debug for HexBytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

macro_rules! value_from_number {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::Number(Number::from(v))
            }
        }
    )*};
}
value_from_number!(i8, i16, i32, i64, u8, u16, u32, f32, f64);

impl From<Number> for Value {
    fn from(v: Number) -> Self {
        Value::Number(v)
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(v.to_owned())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::String(v)
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::String(v.clone())
    }
}

impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::List(v)
    }
}

impl From<BTreeMap<String, Value>> for Value {
    fn from(v: BTreeMap<String, Value>) -> Self {
        Value::Map(v)
    }
}

impl From<Item> for Value {
    fn from(v: Item) -> Self {
        Value::Map(v.0)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// One stored item: a map from top-level attribute names to values.
///
/// It dereferences to its `BTreeMap`, so the map's whole API is at hand.
///
/// ```
/// use kvs::{item, Item, Value};
///
/// let user: Item = item! { "userId" => "u-1", "age" => 42, "tags" => Value::string_set(["a", "b"]) };
/// assert_eq!(user.get("age"), Some(&Value::from(42)));
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Item(BTreeMap<String, Value>);

impl Item {
    /// An empty item.
    pub fn new() -> Self {
        Item(BTreeMap::new())
    }

    /// Adds an attribute, builder style.
    pub fn with(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.0.insert(name.into(), value.into());
        self
    }

    /// Sets an attribute, returning the value it replaced.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<Value>) -> Option<Value> {
        self.0.insert(name.into(), value.into())
    }

    /// The value at a path (`"address.city"`, `"tags[0]"`, or a [`Path`](crate::Path)).
    ///
    /// ```
    /// use kvs::{item, Value};
    /// let it = item! { "address" => item! { "city" => "Paris" } };
    /// assert_eq!(it.get_path("address.city").unwrap(), Some(&Value::from("Paris")));
    /// ```
    pub fn get_path(
        &self,
        path: impl TryInto<crate::Path, Error = crate::Error>,
    ) -> crate::Result<Option<&Value>> {
        Ok(path.try_into()?.resolve(self))
    }

    /// The map of attributes.
    pub fn into_map(self) -> BTreeMap<String, Value> {
        self.0
    }

    /// The map of attributes.
    pub fn as_map(&self) -> &BTreeMap<String, Value> {
        &self.0
    }
}

impl Deref for Item {
    type Target = BTreeMap<String, Value>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for Item {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl From<BTreeMap<String, Value>> for Item {
    fn from(m: BTreeMap<String, Value>) -> Self {
        Item(m)
    }
}

impl<K: Into<String>, V: Into<Value>> FromIterator<(K, V)> for Item {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Item(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

impl IntoIterator for Item {
    type Item = (String, Value);
    type IntoIter = std::collections::btree_map::IntoIter<String, Value>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Item {
    type Item = (&'a String, &'a Value);
    type IntoIter = std::collections::btree_map::Iter<'a, String, Value>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Debug for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(&self.0).finish()
    }
}

/// Builds an [`Item`] from `name => value` pairs; values go through `Into<Value>`.
///
/// ```
/// let it = kvs::item! { "id" => "a", "n" => 1, "nested" => kvs::item! { "x" => true } };
/// assert_eq!(it.len(), 3);
/// ```
#[macro_export]
macro_rules! item {
    () => { $crate::Item::new() };
    ($($name:expr => $value:expr),+ $(,)?) => {{
        let mut item = $crate::Item::new();
        $( item.set($name, $value); )+
        item
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_and_float_compare_exactly() {
        assert_eq!(Number::from(1), Number::from(1.0));
        assert!(Number::from(i64::MAX) < Number::from(9_223_372_036_854_775_808.0));
        assert!(Number::from(i64::MIN) == Number::from(-9_223_372_036_854_775_808.0));
        assert!(Number::from(9_007_199_254_740_993_i64) > Number::from(9_007_199_254_740_992.0));
        assert!(Number::from(2) > Number::from(1.5));
        assert!(Number::from(-2) < Number::from(-1.5));
        assert!(Number::from(-1) < Number::from(-0.5));
        assert_eq!(Number::from(0), Number::from(-0.0));
    }

    /// A number's text reads back as an equal number, for every finite float: whole
    /// floats from 2^53 on are written as the integer they are, since their shortest
    /// text is another integer.
    #[test]
    fn text_reads_back_as_the_same_number() {
        let floats = [
            8.002449850622037e16,
            1_152_921_504_606_847_232.0,
            -1_152_921_504_606_847_232.0,
            9_007_199_254_740_992.0,
            9_223_372_036_854_774_784.0,
            9_223_372_036_854_775_808.0,
            -9_223_372_036_854_775_808.0,
            1e20,
            2.5,
            0.1,
            5e-324,
        ];
        for f in floats {
            let n = Number::from(f);
            let back: Number = n.to_string().parse().unwrap();
            assert_eq!(back, n, "{f:?} as {n}");
            assert_eq!(back.as_f64(), Some(f), "{f:?} as {n}");
        }
        assert_eq!(
            Number::from(8.002449850622037e16).to_string(),
            "80024498506220368"
        );
    }

    #[test]
    fn exact_conversions_only() {
        assert_eq!(Number::from(2.0).as_i64(), Some(2));
        assert_eq!(Number::from(2.5).as_i64(), None);
        assert_eq!(Number::from(9_007_199_254_740_993_i64).as_f64(), None);
        assert_eq!(Number::from(i64::MAX).as_f64(), None);
        assert_eq!(
            Number::from(1_i64 << 53).as_f64(),
            Some(9_007_199_254_740_992.0)
        );
        assert!(
            Number::from(i64::MAX)
                .checked_add(&Number::from(1))
                .is_none()
        );
    }

    /// A decimal keeps `Number` small enough that a `Value` is no larger than a
    /// `String` and its tag (see the layout of `Decimal`).
    #[test]
    fn values_stay_small() {
        assert_eq!(std::mem::size_of::<Number>(), 24);
        assert_eq!(std::mem::size_of::<Value>(), 32);
    }

    #[test]
    fn decimals_compare_with_every_number() {
        let n = |s: &str| s.parse::<Number>().unwrap();
        let big = n("12345678901234567890123456789012345678");
        assert!(big.is_decimal());
        assert!(big > Number::from(i64::MAX));
        assert!(big > Number::from(1e37));
        assert!(big < Number::from(1.3e37));
        assert!(n("-0.5000000000000000000001") < Number::from(-0.5));
        assert!(n("0.5000000000000000000001") > Number::from(0.5));
        assert!(n("0.5000000000000000000001") < Number::from(1));
        assert_eq!(n("1.0"), Number::from(1));
        assert!(n("1.5").float().is_some(), "a float's text is that float");
        assert!(Number::from(f64::NAN) > big);
        assert!(Number::from(f64::INFINITY) > big);
        assert!(Number::from(f64::NEG_INFINITY) < n("-12345678901234567890123456789012345678"));
        let mut h = std::collections::HashSet::new();
        h.insert(big);
        assert!(h.contains(&n("1.2345678901234567890123456789012345678e37")));
        assert_eq!(
            big.to_string(),
            "1.2345678901234567890123456789012345678e37"
        );
        assert_eq!(big.as_i64(), None);
        assert_eq!(big.as_f64(), None);
        for bad in [
            "1.0000000000000000000000000000000000001e126",
            "1234567890123456789012345678901234567891",
            "x",
            "",
            "NaN",
        ] {
            assert_eq!(
                bad.parse::<Number>().unwrap_err().kind(),
                &crate::ErrorKind::Validation
            );
        }
        // Beyond a decimal's range, a float's text is still that float.
        assert_eq!(n("1e300").float(), Some(1e300));
    }

    #[test]
    fn sets_fold_equal_numbers() {
        let v = Value::number_set([Number::from(1), Number::from(1.0), Number::from(2)]);
        assert_eq!(v, Value::number_set([1, 2]));
        if let Value::NumberSet(s) = v {
            assert_eq!(s.len(), 2);
        }
    }
}
