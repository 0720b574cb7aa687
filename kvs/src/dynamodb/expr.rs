//! DynamoDB expressions: conditions, filters, key conditions and update expressions,
//! with a placeholder for every name and value, so that reserved words, dots, `#`, `:`
//! and non-ASCII names just work and placeholders never collide.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::convert::to_attr;
use crate::expr::{CompareOp, Condition, Path, Segment, SortCondition};
use crate::{Error, Result, Value, ValueType};

/// DynamoDB's limit on the length of one expression.
const MAX_EXPRESSION: usize = 4096;

/// DynamoDB's limit on the operands of one `IN`.
const MAX_IN: usize = 100;

/// A condition after simplification: a constant, or an expression.
pub(crate) enum Cond {
    True,
    False,
    Expr(String),
}

/// Names and values of the expressions of one request.
#[derive(Default)]
pub(crate) struct Expr {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Expr {
    /// The placeholder of an attribute name (one per distinct name).
    pub(crate) fn name(&mut self, name: &str) -> String {
        if let Some(placeholder) = self.names.get(name) {
            return placeholder.clone();
        }
        let placeholder = format!("#n{}", self.names.len());
        self.names.insert(name.to_owned(), placeholder.clone());
        placeholder
    }

    /// A new placeholder for a value.
    pub(crate) fn value(&mut self, value: &Value, at: &Path) -> Result<String> {
        let attr = to_attr(value, at)?;
        Ok(self.raw(attr))
    }

    /// A new placeholder for an attribute value.
    pub(crate) fn raw(&mut self, attr: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), attr);
        placeholder
    }

    /// A path in placeholders: `#n0.#n1[2]`.
    pub(crate) fn path(&mut self, path: &Path) -> String {
        let mut out = String::new();
        for seg in path.segments() {
            match seg {
                Segment::Attr(name) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(&self.name(name));
                }
                Segment::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }

    /// An always-false condition (DynamoDB has no literal).
    fn never(&mut self) -> String {
        let n = self.name("kvs");
        format!("(attribute_exists({n}) AND attribute_not_exists({n}))")
    }

    /// A condition as an expression; `None` if it always holds.
    pub(crate) fn condition(&mut self, c: &Condition) -> Result<Option<String>> {
        Ok(match self.cond(c)? {
            Cond::True => None,
            Cond::False => Some(self.never()),
            Cond::Expr(e) => Some(e),
        })
    }

    /// A condition, simplified where it is constant.
    pub(crate) fn cond(&mut self, c: &Condition) -> Result<Cond> {
        Ok(match c {
            Condition::Compare { path, op, value } => {
                let p = self.path(path);
                let v = self.value(value, path)?;
                Cond::Expr(match op {
                    CompareOp::Eq => format!("{p} = {v}"),
                    // `!=` is `not (=)`: true where the attribute is missing.
                    CompareOp::Ne => format!("NOT ({p} = {v})"),
                    CompareOp::Lt => format!("{p} < {v}"),
                    CompareOp::Le => format!("{p} <= {v}"),
                    CompareOp::Gt => format!("{p} > {v}"),
                    CompareOp::Ge => format!("{p} >= {v}"),
                })
            }
            Condition::Between { path, low, high } => {
                let p = self.path(path);
                let a = self.value(low, path)?;
                let b = self.value(high, path)?;
                Cond::Expr(format!("{p} BETWEEN {a} AND {b}"))
            }
            Condition::In { path, values } => {
                if values.is_empty() {
                    return Ok(Cond::False);
                }
                let p = self.path(path);
                let mut groups = Vec::new();
                for chunk in values.chunks(MAX_IN) {
                    let vs = chunk
                        .iter()
                        .map(|v| self.value(v, path))
                        .collect::<Result<Vec<_>>>()?;
                    groups.push(format!("{p} IN ({})", vs.join(", ")));
                }
                Cond::Expr(format!("({})", groups.join(" OR ")))
            }
            Condition::BeginsWith { path, prefix } => {
                let p = self.path(path);
                match prefix {
                    // Every string begins with "": DynamoDB refuses an empty prefix value
                    // in some places, so ask for the type instead.
                    Value::String(s) if s.is_empty() => {
                        let t = self.raw(AttributeValue::S("S".into()));
                        Cond::Expr(format!("attribute_type({p}, {t})"))
                    }
                    Value::Bytes(b) if b.is_empty() => {
                        let t = self.raw(AttributeValue::S("B".into()));
                        Cond::Expr(format!("attribute_type({p}, {t})"))
                    }
                    _ => {
                        let v = self.value(prefix, path)?;
                        Cond::Expr(format!("begins_with({p}, {v})"))
                    }
                }
            }
            Condition::Contains { path, value } => {
                let p = self.path(path);
                let v = self.value(value, path)?;
                Cond::Expr(format!("contains({p}, {v})"))
            }
            Condition::NotContains { path, value } => {
                let p = self.path(path);
                let v = self.value(value, path)?;
                Cond::Expr(format!("NOT contains({p}, {v})"))
            }
            Condition::Exists(path) => Cond::Expr(format!("attribute_exists({})", self.path(path))),
            Condition::NotExists(path) => {
                Cond::Expr(format!("attribute_not_exists({})", self.path(path)))
            }
            Condition::TypeOf { path, ty } => {
                let p = self.path(path);
                let t = self.raw(AttributeValue::S(type_code(*ty).into()));
                Cond::Expr(format!("attribute_type({p}, {t})"))
            }
            Condition::And(parts) => {
                let mut exprs = Vec::new();
                for part in parts {
                    match self.cond(part)? {
                        Cond::True => {}
                        Cond::False => return Ok(Cond::False),
                        Cond::Expr(e) => exprs.push(format!("({e})")),
                    }
                }
                if exprs.is_empty() {
                    Cond::True
                } else {
                    Cond::Expr(exprs.join(" AND "))
                }
            }
            Condition::Or(parts) => {
                let mut exprs = Vec::new();
                for part in parts {
                    match self.cond(part)? {
                        Cond::True => return Ok(Cond::True),
                        Cond::False => {}
                        Cond::Expr(e) => exprs.push(format!("({e})")),
                    }
                }
                if exprs.is_empty() {
                    Cond::False
                } else {
                    Cond::Expr(exprs.join(" OR "))
                }
            }
            Condition::Not(inner) => match self.cond(inner)? {
                Cond::True => Cond::False,
                Cond::False => Cond::True,
                Cond::Expr(e) => Cond::Expr(format!("NOT ({e})")),
            },
        })
    }

    /// A key condition: partition equality, and the sort condition if any. An empty
    /// `begins_with` matches every key, so it is dropped (DynamoDB refuses the empty
    /// key value).
    pub(crate) fn key_condition(
        &mut self,
        partition_name: &str,
        partition: &Value,
        sort_name: Option<&str>,
        sort: Option<&SortCondition>,
    ) -> Result<String> {
        let pk_path = Path::attr(partition_name);
        let p = self.name(partition_name);
        let v = self.value(partition, &pk_path)?;
        let mut out = format!("{p} = {v}");
        if let (Some(name), Some(sort)) = (sort_name, sort) {
            let path = Path::attr(name);
            if matches!(sort, SortCondition::BeginsWith(Value::String(p)) if p.is_empty())
                || matches!(sort, SortCondition::BeginsWith(Value::Bytes(p)) if p.is_empty())
            {
                return Ok(out);
            }
            let s = self.name(name);
            let clause = match sort {
                SortCondition::Eq(v) => format!("{s} = {}", self.value(v, &path)?),
                SortCondition::Lt(v) => format!("{s} < {}", self.value(v, &path)?),
                SortCondition::Le(v) => format!("{s} <= {}", self.value(v, &path)?),
                SortCondition::Gt(v) => format!("{s} > {}", self.value(v, &path)?),
                SortCondition::Ge(v) => format!("{s} >= {}", self.value(v, &path)?),
                SortCondition::Between(a, b) => {
                    let a = self.value(a, &path)?;
                    let b = self.value(b, &path)?;
                    format!("{s} BETWEEN {a} AND {b}")
                }
                SortCondition::BeginsWith(v) => {
                    format!("begins_with({s}, {})", self.value(v, &path)?)
                }
            };
            out.push_str(" AND ");
            out.push_str(&clause);
        }
        Ok(out)
    }

    /// Checks an expression against DynamoDB's length limit.
    pub(crate) fn check(expression: &str, what: &str) -> Result<()> {
        if expression.len() > MAX_EXPRESSION {
            return Err(Error::validation(format!(
                "the {what} would be {} bytes long, over DynamoDB's {MAX_EXPRESSION}-byte limit",
                expression.len()
            )));
        }
        Ok(())
    }

    /// The placeholder -> name map, for `expression_attribute_names`.
    pub(crate) fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| {
            self.names
                .iter()
                .map(|(name, placeholder)| (placeholder.clone(), name.clone()))
                .collect()
        })
    }

    /// The placeholder -> value map, for `expression_attribute_values`.
    pub(crate) fn values(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

/// DynamoDB's name of a type, for `attribute_type`.
fn type_code(ty: ValueType) -> &'static str {
    match ty {
        ValueType::Null => "NULL",
        ValueType::Bool => "BOOL",
        ValueType::Number => "N",
        ValueType::String => "S",
        ValueType::Bytes => "B",
        ValueType::List => "L",
        ValueType::Map => "M",
        ValueType::StringSet => "SS",
        ValueType::NumberSet => "NS",
        ValueType::BytesSet => "BS",
    }
}
