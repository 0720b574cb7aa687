//! Values to DynamoDB attribute values and back: every kvs type has its native
//! DynamoDB type, so items written by kvs look like any other DynamoDB item.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;

use crate::serde_impl::raw::{Shape, Source};
use crate::{Error, Item, Key, Number, Result, StoreSchema, Value};

/// DynamoDB numbers span 1E-130 to below 1E+126 in magnitude.
pub(crate) const MIN_MAGNITUDE: f64 = 1e-130;
pub(crate) const MAX_MAGNITUDE: f64 = 1e126;

/// The `N` text of a number, or `Validation` naming the attribute where DynamoDB cannot
/// hold it (a float outside DynamoDB's range): never rounded. An integer or a decimal
/// (which always fits DynamoDB's 38 digits and range) is its exact text.
fn number_text(n: &Number, at: &dyn std::fmt::Display) -> Result<String> {
    match n.float() {
        None => Ok(n.to_string()),
        Some(0.0) => Ok("0".to_owned()),
        // A whole float is written as the integer it equals: DynamoDB compares set
        // elements by their text, and it would not fold `2.0` into `2`; and from 2^53
        // on a whole float's shortest text is another integer (`8.002449850622037e16`
        // is 80024498506220370, the float 80024498506220368). Below 2^63, `as` is
        // exact.
        Some(f) if f.fract() == 0.0 && f.abs() < 9_223_372_036_854_775_808.0 => {
            Ok(format!("{}", f as i64))
        }
        Some(f) if f.is_finite() && (MIN_MAGNITUDE..MAX_MAGNITUDE).contains(&f.abs()) => {
            // `{:?}` is the shortest text that reads back as the same f64.
            Ok(format!("{f:?}"))
        }
        Some(f) => Err(Error::validation(format!(
            "attribute {at} is {f:?}, which DynamoDB cannot store exactly (numbers there range from 1e-130 to 1e126)"
        ))),
    }
}

/// Reads an `N` text exactly: an integer in the i64 range as an integer, the float that
/// prints as it as that float, else a decimal (DynamoDB's numbers all fit one); text
/// that is none of these is an error, never rounded.
pub(crate) fn number_from_text(text: &str) -> Result<Number> {
    crate::decimal::exact_number(text).ok_or_else(|| {
        Error::serialization(format!(
            "the DynamoDB number {text} is not a number kvs holds exactly (more than 38 \
             significant digits, or out of range)"
        ))
    })
}

/// A value as a DynamoDB attribute value. `at` names the attribute for errors (and is
/// only formatted for one).
pub(crate) fn to_attr(value: &Value, at: &dyn std::fmt::Display) -> Result<AttributeValue> {
    Ok(match value {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(n) => AttributeValue::N(number_text(n, at)?),
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Bytes(b) => AttributeValue::B(Blob::new(b.clone())),
        Value::List(l) => {
            AttributeValue::L(l.iter().map(|v| to_attr(v, at)).collect::<Result<_>>()?)
        }
        Value::Map(m) => AttributeValue::M(
            m.iter()
                .map(|(k, v)| Ok((k.clone(), to_attr(v, at)?)))
                .collect::<Result<_>>()?,
        ),
        Value::StringSet(s) => AttributeValue::Ss(s.iter().cloned().collect()),
        Value::NumberSet(s) => AttributeValue::Ns(
            s.iter()
                .map(|n| number_text(n, at))
                .collect::<Result<_>>()?,
        ),
        Value::BytesSet(s) => AttributeValue::Bs(s.iter().map(|b| Blob::new(b.clone())).collect()),
    })
}

/// A DynamoDB attribute value as a value.
pub(crate) fn from_attr(attr: &AttributeValue) -> Result<Value> {
    Ok(match attr {
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::N(n) => Value::Number(number_from_text(n)?),
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::B(b) => Value::Bytes(b.as_ref().to_vec()),
        AttributeValue::L(l) => Value::List(l.iter().map(from_attr).collect::<Result<_>>()?),
        AttributeValue::M(m) => Value::Map(
            m.iter()
                .map(|(k, v)| Ok((k.clone(), from_attr(v)?)))
                .collect::<Result<BTreeMap<_, _>>>()?,
        ),
        AttributeValue::Ss(s) => Value::StringSet(s.iter().cloned().collect()),
        AttributeValue::Ns(s) => Value::NumberSet(
            s.iter()
                .map(|n| number_from_text(n))
                .collect::<Result<BTreeSet<_>>>()?,
        ),
        AttributeValue::Bs(s) => Value::BytesSet(s.iter().map(|b| b.as_ref().to_vec()).collect()),
        other => {
            return Err(Error::serialization(format!(
                "an attribute value of a type kvs does not know: {other:?}"
            )));
        }
    })
}

/// An owned DynamoDB attribute value as a value, moving its strings and bytes (the SDK's
/// answers are owned: nothing needs copying).
pub(crate) fn into_value(attr: AttributeValue) -> Result<Value> {
    Ok(match attr {
        AttributeValue::S(s) => Value::String(s),
        AttributeValue::N(n) => Value::Number(number_from_text(&n)?),
        AttributeValue::B(b) => Value::Bytes(b.into_inner()),
        AttributeValue::L(l) => Value::List(l.into_iter().map(into_value).collect::<Result<_>>()?),
        AttributeValue::M(m) => Value::Map(
            m.into_iter()
                .map(|(k, v)| Ok((k, into_value(v)?)))
                .collect::<Result<BTreeMap<_, _>>>()?,
        ),
        AttributeValue::Ss(s) => Value::StringSet(s.into_iter().collect()),
        AttributeValue::Bs(s) => Value::BytesSet(s.into_iter().map(Blob::into_inner).collect()),
        other => from_attr(&other)?,
    })
}

/// Owned DynamoDB attributes as an item.
pub(crate) fn into_item(attrs: HashMap<String, AttributeValue>) -> Result<Item> {
    attrs
        .into_iter()
        .map(|(k, v)| match into_value(v) {
            Ok(v) => Ok((k, v)),
            Err(e) => Err(e.context(format_args!("attribute {k:?}"))),
        })
        .collect::<Result<BTreeMap<String, Value>>>()
        .map(Item::from)
}

/// An item as DynamoDB attributes.
pub(crate) fn item_to_attrs(item: &Item) -> Result<HashMap<String, AttributeValue>> {
    item.iter()
        .map(|(k, v)| Ok((k.clone(), to_attr(v, k)?)))
        .collect()
}

/// DynamoDB attributes as an item.
pub(crate) fn attrs_to_item(attrs: &HashMap<String, AttributeValue>) -> Result<Item> {
    attrs
        .iter()
        .map(|(k, v)| {
            Ok((
                k.clone(),
                from_attr(v).map_err(|e| e.context(format_args!("attribute {k:?}")))?,
            ))
        })
        .collect::<Result<BTreeMap<String, Value>>>()
        .map(Item::from)
}

/// The key of an item as DynamoDB key attributes.
pub(crate) fn key_attrs(
    schema: &StoreSchema,
    key: &Key,
) -> Result<HashMap<String, AttributeValue>> {
    let mut attrs = HashMap::with_capacity(2);
    let partition = &schema.partition_key.name;
    attrs.insert(partition.clone(), to_attr(key.partition(), partition)?);
    if let (Some(sort), Some(value)) = (&schema.sort_key, key.sort()) {
        attrs.insert(sort.name.clone(), to_attr(value, &sort.name)?);
    }
    Ok(attrs)
}

type Entries = std::iter::Map<
    std::vec::IntoIter<(String, AttributeValue)>,
    fn((String, AttributeValue)) -> Result<(String, AttributeValue)>,
>;
type Elements = std::iter::Map<
    std::vec::IntoIter<AttributeValue>,
    fn(AttributeValue) -> Result<AttributeValue>,
>;

/// Typed reads straight from DynamoDB's answers (see
/// [`RawItem`](crate::backend::RawItem)): maps and lists are walked, everything else
/// goes through [`into_value`].
impl Source for AttributeValue {
    type Key = String;
    type Entries = Entries;
    type Elements = Elements;

    fn open(self) -> Result<Shape<Self>> {
        Ok(match self {
            AttributeValue::M(m) => {
                // In name order, as an `Item` holds them, so that a read that fails
                // reports the same attribute every time.
                let mut entries: Vec<_> = m.into_iter().collect();
                entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
                Shape::Map(entries.into_iter().map(Ok as fn(_) -> _))
            }
            AttributeValue::L(l) => Shape::List(l.into_iter().map(Ok as fn(_) -> _)),
            AttributeValue::Null(_) => Shape::Null,
            other => Shape::Other(other),
        })
    }

    fn scalar(self) -> Result<Value> {
        into_value(self)
    }
}
