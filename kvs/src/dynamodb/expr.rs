//! DynamoDB expressions: conditions, filters, key conditions and update expressions,
//! with a placeholder for every name and value, so that reserved words, dots, `#`, `:`
//! and non-ASCII names just work and placeholders never collide.
//!
//! Expressions are written straight into one buffer each (no string per node), and the
//! placeholders' names and values are moved, not copied, into the request: this runs
//! on every write, and its cost is the client's.

use std::collections::HashMap;
use std::fmt::Write as _;

use aws_sdk_dynamodb::types::AttributeValue;

use super::convert::to_attr;
use crate::expr::{CompareOp, Condition, Path, Segment, SortCondition};
use crate::{Error, Result, Value, ValueType};

/// DynamoDB's limit on the length of one expression.
const MAX_EXPRESSION: usize = 4096;

/// DynamoDB's limit on the operands of one `IN`.
const MAX_IN: usize = 100;

/// `ExpressionAttributeNames`: placeholder -> attribute name.
pub(crate) type Names = HashMap<String, String>;

/// `ExpressionAttributeValues`: placeholder -> value.
pub(crate) type Values = HashMap<String, AttributeValue>;

/// A condition as DynamoDB will get it: a constant, or an expression.
pub(crate) enum Cond {
    True,
    False,
    Expr(String),
}

/// Names and values of the expressions of one request. Placeholder `#n{i}` stands for
/// `names[i]` and `:v{i}` for `values[i]`.
#[derive(Default)]
pub(crate) struct Expr {
    names: Vec<String>,
    values: Vec<AttributeValue>,
}

impl Expr {
    /// Writes the placeholder of an attribute name (one per distinct name). A request
    /// names a handful of attributes (and at most a few hundred fit in DynamoDB's 4 KB
    /// expressions), so a linear search beats hashing.
    pub(crate) fn name(&mut self, out: &mut String, name: &str) {
        let i = match self.names.iter().position(|n| n == name) {
            Some(i) => i,
            None => {
                self.names.push(name.to_owned());
                self.names.len() - 1
            }
        };
        let _ = write!(out, "#n{i}");
    }

    /// Writes a new placeholder for a value; `at` names the attribute for errors.
    pub(crate) fn value(&mut self, out: &mut String, value: &Value, at: &Path) -> Result<()> {
        let attr = to_attr(value, at)?;
        self.raw(out, attr);
        Ok(())
    }

    /// Writes a new placeholder for an attribute value.
    pub(crate) fn raw(&mut self, out: &mut String, attr: AttributeValue) {
        let _ = write!(out, ":v{}", self.values.len());
        self.values.push(attr);
    }

    /// Writes a path in placeholders: `#n0.#n1[2]`.
    pub(crate) fn path(&mut self, out: &mut String, path: &Path) {
        for (i, seg) in path.segments().iter().enumerate() {
            match seg {
                Segment::Attr(name) => {
                    if i > 0 {
                        out.push('.');
                    }
                    self.name(out, name);
                }
                Segment::Index(i) => {
                    let _ = write!(out, "[{i}]");
                }
            }
        }
    }

    /// A condition, simplified where it is constant.
    pub(crate) fn cond(&mut self, c: &Condition) -> Result<Cond> {
        self.all(std::iter::once(c))
    }

    /// The conjunction of `parts`, simplified where it is constant.
    pub(crate) fn all<'a, I>(&mut self, parts: I) -> Result<Cond>
    where
        I: Iterator<Item = &'a Condition> + Clone,
    {
        Ok(match junction_constant(parts.clone(), true) {
            Some(true) => Cond::True,
            Some(false) => Cond::False,
            None => {
                let mut out = String::with_capacity(64);
                self.junction(&mut out, parts, true)?;
                Cond::Expr(out)
            }
        })
    }

    /// The conjunction of `parts` as a condition expression (checked against the length
    /// limit); `None` if it always holds.
    pub(crate) fn condition<'a, I>(&mut self, parts: I) -> Result<Option<String>>
    where
        I: Iterator<Item = &'a Condition> + Clone,
    {
        let expression = match self.all(parts)? {
            Cond::True => return Ok(None),
            Cond::Expr(e) => e,
            // DynamoDB has no literal false.
            Cond::False => {
                let mut out = String::new();
                out.push_str("(attribute_exists(");
                self.name(&mut out, "kvs");
                out.push_str(") AND attribute_not_exists(");
                self.name(&mut out, "kvs");
                out.push_str("))");
                out
            }
        };
        Expr::check(&expression, "condition expression")?;
        Ok(Some(expression))
    }

    /// Writes `parts` joined by AND (`and`) or OR, leaving out the parts that are
    /// constant and do not decide (true in an AND, false in an OR); the caller has made
    /// sure the whole is not constant, so at least one part is written.
    fn junction<'a>(
        &mut self,
        out: &mut String,
        parts: impl Iterator<Item = &'a Condition>,
        and: bool,
    ) -> Result<()> {
        let mut written = parts.filter(|p| constant(p).is_none());
        // The caller made sure the whole is not constant, so some part is not either.
        let Some(first) = written.next() else {
            return Err(Error::new(
                crate::ErrorKind::Backend,
                "kvs: a junction of constant parts reached the DynamoDB expression writer",
            ));
        };
        let Some(second) = written.next() else {
            return self.write(out, first);
        };
        for (i, part) in [first, second].into_iter().chain(written).enumerate() {
            if i > 0 {
                out.push_str(if and { " AND " } else { " OR " });
            }
            out.push('(');
            self.write(out, part)?;
            out.push(')');
        }
        Ok(())
    }

    /// Writes a condition that is not constant.
    fn write(&mut self, out: &mut String, c: &Condition) -> Result<()> {
        match c {
            Condition::Compare { path, op, value } => {
                let symbol = match op {
                    // `!=` is `not (=)`: true where the attribute is missing.
                    CompareOp::Ne => {
                        out.push_str("NOT (");
                        self.path(out, path);
                        out.push_str(" = ");
                        self.value(out, value, path)?;
                        out.push(')');
                        return Ok(());
                    }
                    CompareOp::Eq => " = ",
                    CompareOp::Lt => " < ",
                    CompareOp::Le => " <= ",
                    CompareOp::Gt => " > ",
                    CompareOp::Ge => " >= ",
                };
                self.path(out, path);
                out.push_str(symbol);
                self.value(out, value, path)?;
            }
            Condition::Between { path, low, high } => {
                self.path(out, path);
                out.push_str(" BETWEEN ");
                self.value(out, low, path)?;
                out.push_str(" AND ");
                self.value(out, high, path)?;
            }
            // No parentheses of its own: where the chunks' ORs need a group, the caller
            // gives one (a junction wraps each part, `NOT` its operand), and a group
            // inside that group, `((#n IN (..)))`, is refused by DynamoDB as redundant.
            Condition::In { path, values } => {
                for (i, chunk) in values.chunks(MAX_IN).enumerate() {
                    if i > 0 {
                        out.push_str(" OR ");
                    }
                    self.path(out, path);
                    out.push_str(" IN (");
                    for (j, v) in chunk.iter().enumerate() {
                        if j > 0 {
                            out.push_str(", ");
                        }
                        self.value(out, v, path)?;
                    }
                    out.push(')');
                }
            }
            Condition::BeginsWith { path, prefix } => match prefix {
                // Every string begins with "": DynamoDB refuses an empty prefix value in
                // some places, so ask for the type instead.
                Value::String(s) if s.is_empty() => self.type_test(out, path, "S"),
                Value::Bytes(b) if b.is_empty() => self.type_test(out, path, "B"),
                _ => {
                    out.push_str("begins_with(");
                    self.path(out, path);
                    out.push_str(", ");
                    self.value(out, prefix, path)?;
                    out.push(')');
                }
            },
            Condition::Contains { path, value } | Condition::NotContains { path, value } => {
                if matches!(c, Condition::NotContains { .. }) {
                    out.push_str("NOT ");
                }
                out.push_str("contains(");
                self.path(out, path);
                out.push_str(", ");
                self.value(out, value, path)?;
                out.push(')');
            }
            Condition::Exists(path) | Condition::NotExists(path) => {
                out.push_str(if matches!(c, Condition::Exists(_)) {
                    "attribute_exists("
                } else {
                    "attribute_not_exists("
                });
                self.path(out, path);
                out.push(')');
            }
            Condition::TypeOf { path, ty } => self.type_test(out, path, type_code(*ty)),
            Condition::And(parts) => self.junction(out, parts.iter(), true)?,
            Condition::Or(parts) => self.junction(out, parts.iter(), false)?,
            Condition::Not(inner) => {
                out.push_str("NOT (");
                self.write(out, inner)?;
                out.push(')');
            }
        }
        Ok(())
    }

    fn type_test(&mut self, out: &mut String, path: &Path, code: &str) {
        out.push_str("attribute_type(");
        self.path(out, path);
        out.push_str(", ");
        self.raw(out, AttributeValue::S(code.to_owned()));
        out.push(')');
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
        let mut out = String::with_capacity(48);
        self.name(&mut out, partition_name);
        out.push_str(" = ");
        self.value(&mut out, partition, &Path::attr(partition_name))?;
        let (Some(name), Some(sort)) = (sort_name, sort) else {
            return Ok(out);
        };
        if matches!(sort, SortCondition::BeginsWith(Value::String(p)) if p.is_empty())
            || matches!(sort, SortCondition::BeginsWith(Value::Bytes(p)) if p.is_empty())
        {
            return Ok(out);
        }
        let path = Path::attr(name);
        out.push_str(" AND ");
        let compare = match sort {
            SortCondition::Eq(v) => Some((" = ", v)),
            SortCondition::Lt(v) => Some((" < ", v)),
            SortCondition::Le(v) => Some((" <= ", v)),
            SortCondition::Gt(v) => Some((" > ", v)),
            SortCondition::Ge(v) => Some((" >= ", v)),
            SortCondition::Between(..) | SortCondition::BeginsWith(_) => None,
        };
        match (compare, sort) {
            (Some((symbol, v)), _) => {
                self.name(&mut out, name);
                out.push_str(symbol);
                self.value(&mut out, v, &path)?;
            }
            (None, SortCondition::Between(a, b)) => {
                self.name(&mut out, name);
                out.push_str(" BETWEEN ");
                self.value(&mut out, a, &path)?;
                out.push_str(" AND ");
                self.value(&mut out, b, &path)?;
            }
            (None, v) => {
                let SortCondition::BeginsWith(v) = v else {
                    unreachable!("every other sort condition is a comparison")
                };
                out.push_str("begins_with(");
                self.name(&mut out, name);
                out.push_str(", ");
                self.value(&mut out, v, &path)?;
                out.push(')');
            }
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

    /// The placeholder -> name and placeholder -> value maps, for
    /// `expression_attribute_names` and `expression_attribute_values` (`None` where
    /// empty, as DynamoDB refuses an empty map).
    pub(crate) fn into_maps(self) -> (Option<Names>, Option<Values>) {
        let names = (!self.names.is_empty()).then(|| {
            self.names
                .into_iter()
                .enumerate()
                .map(|(i, name)| (format!("#n{i}"), name))
                .collect()
        });
        let values = (!self.values.is_empty()).then(|| {
            self.values
                .into_iter()
                .enumerate()
                .map(|(i, value)| (format!(":v{i}"), value))
                .collect()
        });
        (names, values)
    }
}

/// The value of a condition that is the same on every item (an empty `IN` is false, an
/// empty AND true, an empty OR false, and what they make), or `None`. Constant parts are
/// left out of what is sent, with their values: DynamoDB refuses a value placeholder
/// that no expression uses.
fn constant(c: &Condition) -> Option<bool> {
    match c {
        Condition::In { values, .. } if values.is_empty() => Some(false),
        // Only numbers, strings and bytes have an order: `<` a null, a bool, a list, a map
        // or a set holds of no value (the shared evaluator's rule), and DynamoDB may refuse
        // such an operand rather than find it false.
        Condition::Compare { op, value, .. }
            if !matches!(op, CompareOp::Eq | CompareOp::Ne)
                && value.partial_compare(value).is_none() =>
        {
            Some(false)
        }
        Condition::And(parts) => junction_constant(parts.iter(), true),
        Condition::Or(parts) => junction_constant(parts.iter(), false),
        Condition::Not(inner) => constant(inner).map(|b| !b),
        _ => None,
    }
}

/// [`constant`] of an AND (`and`) or an OR of `parts`.
fn junction_constant<'a>(parts: impl Iterator<Item = &'a Condition>, and: bool) -> Option<bool> {
    // An AND is decided by a false part, an OR by a true one; without one, it is
    // constant only if every part is (and then it is the junction's neutral value).
    let mut all_constant = true;
    for part in parts {
        match constant(part) {
            Some(b) if b != and => return Some(b),
            Some(_) => {}
            None => all_constant = false,
        }
    }
    all_constant.then_some(and)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attr;

    fn text(c: &Condition) -> (String, usize, usize) {
        let mut e = Expr::default();
        match e.cond(c).unwrap() {
            Cond::Expr(s) => (s, e.names.len(), e.values.len()),
            Cond::True => ("TRUE".into(), e.names.len(), e.values.len()),
            Cond::False => ("FALSE".into(), e.names.len(), e.values.len()),
        }
    }

    #[test]
    fn names_and_values_are_placeholders() {
        // A name with a dot is one name: one placeholder, used twice.
        let c = Path::attr("a.b").eq(1).and(Path::attr("a.b").gt("x"));
        assert_eq!(text(&c), ("(#n0 = :v0) AND (#n0 > :v1)".into(), 1, 2));
        let nested = Path::parse("m.k[2]").unwrap().ne(Value::Null);
        assert_eq!(text(&nested).0, "NOT (#n0.#n1[2] = :v0)");
    }

    #[test]
    fn constant_parts_leave_no_placeholder_behind() {
        let never = || attr("s").is_in(Vec::<Value>::new());
        assert_eq!(text(&attr("x").eq(1).and(never())), ("FALSE".into(), 0, 0));
        assert_eq!(
            text(&attr("x").eq(1).or(never())),
            ("#n0 = :v0".into(), 1, 1)
        );
        assert_eq!(
            text(&Condition::Not(Box::new(never()))),
            ("TRUE".into(), 0, 0)
        );
        assert_eq!(text(&Condition::all([])), ("TRUE".into(), 0, 0));
        for unordered in [Value::Null, Value::Bool(true), Value::list([1])] {
            assert_eq!(
                text(&attr("x").lt(unordered.clone())),
                ("FALSE".into(), 0, 0)
            );
            assert_eq!(
                text(&attr("x").ge(unordered).or(attr("y").eq(1))),
                ("#n0 = :v0".into(), 1, 1)
            );
        }
        assert_eq!(text(&Condition::any([])), ("FALSE".into(), 0, 0));
    }

    #[test]
    fn false_condition_is_an_expression_that_never_holds() {
        let mut e = Expr::default();
        let never = attr("s").is_in(Vec::<Value>::new());
        let c = e.condition(std::iter::once(&never)).unwrap().unwrap();
        assert_eq!(c, "(attribute_exists(#n0) AND attribute_not_exists(#n0))");
        let (names, values) = e.into_maps();
        assert_eq!(names.unwrap()["#n0"], "kvs");
        assert!(values.is_none());
    }

    #[test]
    fn in_is_chunked() {
        let c = attr("n").is_in(0..250);
        let (s, _, values) = text(&c);
        assert_eq!(s.matches(" IN (").count(), 3);
        assert_eq!(values, 250);
    }

    /// An `IN` inside `and`, `or` and `not` is grouped once: DynamoDB refuses
    /// `((#n0 IN (:v0)))` as redundant parentheses.
    #[test]
    fn nested_in_has_no_redundant_parentheses() {
        let one = || attr("a").is_in([1, 2]);
        assert_eq!(
            text(&one().and(attr("b").eq(3))).0,
            "(#n0 IN (:v0, :v1)) AND (#n1 = :v2)"
        );
        assert_eq!(
            text(&!one().or(attr("b").eq(3))).0,
            "NOT ((#n0 IN (:v0, :v1)) OR (#n1 = :v2))"
        );
        assert_eq!(text(&!one()).0, "NOT (#n0 IN (:v0, :v1))");
        // Chunks are ORed: alone they need no group, nested they get exactly one.
        let many = || attr("a").is_in(0..101);
        assert!(!text(&many()).0.starts_with('('));
        let nested = text(&many().and(attr("b").eq(3))).0;
        assert!(nested.starts_with("(#n0 IN ("), "{nested}");
        assert!(!nested.contains("(("), "{nested}");
        let negated = text(&!many()).0;
        assert!(negated.starts_with("NOT (#n0 IN ("), "{negated}");
    }
}
