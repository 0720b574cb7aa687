//! Filters written as text, parsed into the library's [`Condition`] (values are bound
//! into the condition, never spliced into a backend's query text).
//!
//! ```text
//! filter     := or
//! or         := and ("OR" and)*
//! and        := not ("AND" not)*
//! not        := "NOT" not | "(" filter ")" | function | comparison
//! comparison := path ("=" | "<>" | "!=" | "<" | "<=" | ">" | ">=") value
//!             | path "BETWEEN" value "AND" value
//!             | path "IN" "(" value ("," value)* ")"
//! function   := exists(path) | not_exists(path) | begins_with(path, value)
//!             | contains(path, value) | not_contains(path, value)
//!             | type_of(path, "string" | "number" | "bytes" | "bool" | "null" | "list"
//!                             | "map" | "string set" | "number set" | "bytes set")
//! value      := a JSON literal ("text", 12.5, true, false, null, [..], {..})
//!             | bytes("base64") | string_set(..) | number_set(..) | bytes_set(..)
//! path       := the library's path text: address.country, tags[0], a\.b
//! ```
//!
//! Keywords are case-insensitive. A path is read up to a space, an operator, a comma or
//! a parenthesis; a backslash makes the next character part of it (`my\ field`), and
//! `a\.b` names the attribute `a.b` as in the library. Numbers keep their exact text.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use kvs::{Condition, Number, Path, SortCondition, Value, ValueType};

/// A parse error: the message and the character position (1-based) where it was found.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterError {
    /// What is wrong.
    pub message: String,
    /// The 1-based character position in the text.
    pub column: usize,
}

impl std::fmt::Display for FilterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at column {}: {}", self.column, self.message)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// A bare word: a path, a keyword or a function name (with its escapes kept).
    Word(String),
    /// A JSON string literal, decoded.
    Str(String),
    /// A number's text.
    Num(String),
    Op(&'static str),
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Comma,
    Colon,
}

struct Lexer {
    toks: Vec<(Tok, usize)>,
    end: usize,
}

fn is_word_char(c: char) -> bool {
    !(c.is_whitespace() || "=<>!(),:{}\"".contains(c))
}

fn lex(text: &str) -> Result<Lexer, FilterError> {
    let chars: Vec<char> = text.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    let err = |message: String, at: usize| FilterError {
        message,
        column: at + 1,
    };
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        let op = match two.as_str() {
            "<=" => Some("<="),
            ">=" => Some(">="),
            "<>" => Some("<>"),
            "!=" => Some("!="),
            _ => None,
        };
        if let Some(op) = op {
            toks.push((Tok::Op(op), start));
            i += 2;
            continue;
        }
        let single = match c {
            '=' => Some(Tok::Op("=")),
            '<' => Some(Tok::Op("<")),
            '>' => Some(Tok::Op(">")),
            '(' => Some(Tok::LParen),
            ')' => Some(Tok::RParen),
            ',' => Some(Tok::Comma),
            ':' => Some(Tok::Colon),
            '{' => Some(Tok::LBrace),
            '}' => Some(Tok::RBrace),
            _ => None,
        };
        if let Some(t) = single {
            toks.push((t, start));
            i += 1;
            continue;
        }
        if c == '!' {
            return Err(err("'!' alone: write != or NOT".into(), start));
        }
        if c == '"' {
            // A JSON string: find its closing quote, then let serde_json decode escapes.
            let mut j = i + 1;
            loop {
                match chars.get(j) {
                    None => return Err(err("a string is never closed".into(), start)),
                    Some('\\') => j += 2,
                    Some('"') => break,
                    Some(_) => j += 1,
                }
            }
            let raw: String = chars[i..=j].iter().collect();
            let s: String = serde_json::from_str(&raw)
                .map_err(|e| err(format!("not a JSON string: {e}"), start))?;
            toks.push((Tok::Str(s), start));
            i = j + 1;
            continue;
        }
        if c == '-' || c.is_ascii_digit() {
            let mut j = i + 1;
            while j < chars.len()
                && (chars[j].is_ascii_digit()
                    || ".eE".contains(chars[j])
                    || ("+-".contains(chars[j]) && "eE".contains(chars[j - 1])))
            {
                j += 1;
            }
            toks.push((Tok::Num(chars[i..j].iter().collect()), start));
            i = j;
            continue;
        }
        if c == '[' {
            toks.push((Tok::LBracket, start));
            i += 1;
            continue;
        }
        if c == ']' {
            toks.push((Tok::RBracket, start));
            i += 1;
            continue;
        }
        // A word: path characters, brackets of list positions, escapes.
        let mut word = String::new();
        // A ']' ends the word unless it closes a list position of the path (`tags[0]`).
        let mut open = 0usize;
        while i < chars.len() {
            let c = chars[i];
            if c == ']' && open == 0 {
                break;
            }
            match c {
                '[' => open += 1,
                ']' => open -= 1,
                _ => {}
            }
            if c == '\\' {
                word.push(c);
                if let Some(&n) = chars.get(i + 1) {
                    word.push(n);
                }
                i += 2;
                continue;
            }
            if !is_word_char(c) {
                break;
            }
            word.push(c);
            i += 1;
        }
        toks.push((Tok::Word(word), start));
    }
    Ok(Lexer {
        toks,
        end: chars.len(),
    })
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    end: usize,
    /// How deep the parser is in `NOT`s, parentheses, lists and maps: bounded, so that
    /// no filter text can exhaust the stack.
    depth: usize,
}

/// The deepest the parser goes into `NOT`s, parentheses, lists and maps, which bounds
/// its recursion: the library's limit for conditions. (A parenthesis can build two
/// levels of a condition, an `or` around an `and`: a filter within this depth may still
/// nest deeper than the library takes, and is then refused by it with `Validation`.)
const MAX_DEPTH: usize = kvs::MAX_CONDITION_DEPTH;

fn keyword(t: Option<&Tok>, kw: &str) -> bool {
    matches!(t, Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(t, _)| t)
    }
    fn column(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |(_, c)| *c) + 1
    }
    fn err<T>(&self, message: impl Into<String>) -> Result<T, FilterError> {
        Err(FilterError {
            message: message.into(),
            column: self.column(),
        })
    }
    fn describe(&self) -> String {
        match self.peek() {
            None => "the end of the filter".into(),
            Some(Tok::Word(w)) => format!("{w:?}"),
            Some(Tok::Str(s)) => format!("the string {s:?}"),
            Some(Tok::Num(n)) => format!("the number {n}"),
            Some(Tok::Op(o)) => format!("'{o}'"),
            Some(Tok::LParen) => "'('".into(),
            Some(Tok::RParen) => "')'".into(),
            Some(Tok::LBracket) => "'['".into(),
            Some(Tok::RBracket) => "']'".into(),
            Some(Tok::LBrace) => "'{'".into(),
            Some(Tok::RBrace) => "'}'".into(),
            Some(Tok::Comma) => "','".into(),
            Some(Tok::Colon) => "':'".into(),
        }
    }
    fn expect(&mut self, tok: Tok, what: &str) -> Result<(), FilterError> {
        if self.peek() == Some(&tok) {
            self.pos += 1;
            Ok(())
        } else {
            self.err(format!("expected {what}, found {}", self.describe()))
        }
    }

    fn or(&mut self) -> Result<Condition, FilterError> {
        let mut c = self.and()?;
        while keyword(self.peek(), "or") {
            self.pos += 1;
            c = c.or(self.and()?);
        }
        Ok(c)
    }

    fn and(&mut self) -> Result<Condition, FilterError> {
        let mut c = self.not()?;
        while keyword(self.peek(), "and") {
            self.pos += 1;
            c = c.and(self.not()?);
        }
        Ok(c)
    }

    fn not(&mut self) -> Result<Condition, FilterError> {
        self.nested(Self::not_inner)
    }

    /// Runs `f` one level deeper, refusing a filter nested past [`MAX_DEPTH`].
    fn nested<T>(&mut self, f: fn(&mut Self) -> Result<T, FilterError>) -> Result<T, FilterError> {
        if self.depth >= MAX_DEPTH {
            return self.err(format!("the filter nests deeper than {MAX_DEPTH} levels"));
        }
        self.depth += 1;
        let out = f(self);
        self.depth -= 1;
        out
    }

    fn not_inner(&mut self) -> Result<Condition, FilterError> {
        if keyword(self.peek(), "not") {
            self.pos += 1;
            return Ok(!self.not()?);
        }
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let c = self.or()?;
            self.expect(Tok::RParen, "')'")?;
            return Ok(c);
        }
        let Some(Tok::Word(word)) = self.peek().cloned() else {
            return self.err(format!(
                "expected a path, a function or '(', found {}",
                self.describe()
            ));
        };
        let word_column = self.column();
        self.pos += 1;
        if self.peek() == Some(&Tok::LParen) {
            return self.function(&word, word_column);
        }
        let path = self.path(&word, word_column)?;
        if let Some(Tok::Op(op)) = self.peek().cloned() {
            self.pos += 1;
            let value = self.value()?;
            return Ok(match op {
                "=" => path.eq(value),
                "<>" | "!=" => path.ne(value),
                "<" => path.lt(value),
                "<=" => path.le(value),
                ">" => path.gt(value),
                _ => path.ge(value),
            });
        }
        if keyword(self.peek(), "between") {
            self.pos += 1;
            let low = self.value()?;
            if !keyword(self.peek(), "and") {
                return self.err(format!(
                    "expected AND between the bounds of BETWEEN, found {}",
                    self.describe()
                ));
            }
            self.pos += 1;
            let high = self.value()?;
            return Ok(path.between(low, high));
        }
        if keyword(self.peek(), "in") {
            self.pos += 1;
            self.expect(Tok::LParen, "'(' after IN")?;
            let values = self.values_until(Tok::RParen)?;
            return Ok(path.is_in(values));
        }
        self.err(format!(
            "expected a comparison (= <> < <= > >=), BETWEEN or IN after the path {word:?}, \
             found {}",
            self.describe()
        ))
    }

    fn path(&self, word: &str, column: usize) -> Result<Path, FilterError> {
        Path::parse(word).map_err(|e| FilterError {
            message: e.message().to_owned(),
            column,
        })
    }

    fn path_arg(&mut self) -> Result<Path, FilterError> {
        let column = self.column();
        match self.peek().cloned() {
            Some(Tok::Word(w)) => {
                self.pos += 1;
                self.path(&w, column)
            }
            _ => self.err(format!("expected a path, found {}", self.describe())),
        }
    }

    fn function(&mut self, name: &str, column: usize) -> Result<Condition, FilterError> {
        self.pos += 1; // '('
        let lower = name.to_ascii_lowercase();
        let c = match lower.as_str() {
            "exists" | "attribute_exists" => self.path_arg()?.exists(),
            "not_exists" | "attribute_not_exists" => self.path_arg()?.not_exists(),
            "begins_with" | "contains" | "not_contains" | "type_of" | "attribute_type" => {
                let path = self.path_arg()?;
                self.expect(Tok::Comma, "',' after the path")?;
                let value = self.value()?;
                match lower.as_str() {
                    "begins_with" => path.begins_with(value),
                    "contains" => path.contains(value),
                    "not_contains" => path.not_contains(value),
                    _ => {
                        let Value::String(ty) = &value else {
                            return self.err("type_of takes a type name as a string");
                        };
                        path.type_of(value_type(ty).ok_or_else(|| FilterError {
                            message: format!(
                                "unknown type {ty:?} (string, number, bytes, bool, null, \
                                 list, map, string set, number set, bytes set; or S, N, B, \
                                 BOOL, NULL, L, M, SS, NS, BS)"
                            ),
                            column,
                        })?)
                    }
                }
            }
            _ => {
                return Err(FilterError {
                    message: format!(
                        "unknown function {name:?} (exists, not_exists, begins_with, \
                         contains, not_contains, type_of)"
                    ),
                    column,
                });
            }
        };
        self.expect(Tok::RParen, "')'")?;
        Ok(c)
    }

    fn values_until(&mut self, close: Tok) -> Result<Vec<Value>, FilterError> {
        let mut values = Vec::new();
        if self.peek() == Some(&close) {
            self.pos += 1;
            return Ok(values);
        }
        loop {
            values.push(self.value()?);
            if self.peek() == Some(&Tok::Comma) {
                self.pos += 1;
                continue;
            }
            self.expect(close.clone(), "',' or the closing bracket")?;
            return Ok(values);
        }
    }

    fn value(&mut self) -> Result<Value, FilterError> {
        self.nested(Self::value_inner)
    }

    fn value_inner(&mut self) -> Result<Value, FilterError> {
        let column = self.column();
        let at = |message: String| FilterError { message, column };
        match self.peek().cloned() {
            Some(Tok::Str(s)) => {
                self.pos += 1;
                Ok(Value::String(s))
            }
            Some(Tok::Num(n)) => {
                self.pos += 1;
                n.parse::<Number>()
                    .map(Value::Number)
                    .map_err(|e| at(e.message().to_owned()))
            }
            Some(Tok::LBracket) => {
                self.pos += 1;
                Ok(Value::List(self.values_until(Tok::RBracket)?))
            }
            Some(Tok::LBrace) => {
                self.pos += 1;
                let mut map = std::collections::BTreeMap::new();
                if self.peek() == Some(&Tok::RBrace) {
                    self.pos += 1;
                    return Ok(Value::Map(map));
                }
                loop {
                    let Some(Tok::Str(k)) = self.peek().cloned() else {
                        return self.err(format!(
                            "expected a string key in a map, found {}",
                            self.describe()
                        ));
                    };
                    self.pos += 1;
                    self.expect(Tok::Colon, "':'")?;
                    map.insert(k, self.value()?);
                    if self.peek() == Some(&Tok::Comma) {
                        self.pos += 1;
                        continue;
                    }
                    self.expect(Tok::RBrace, "',' or '}'")?;
                    return Ok(Value::Map(map));
                }
            }
            Some(Tok::Word(w)) => {
                self.pos += 1;
                match w.to_ascii_lowercase().as_str() {
                    "true" => Ok(Value::Bool(true)),
                    "false" => Ok(Value::Bool(false)),
                    "null" => Ok(Value::Null),
                    f @ ("bytes" | "string_set" | "number_set" | "bytes_set") => {
                        self.expect(Tok::LParen, "'('")?;
                        let args = self.values_until(Tok::RParen)?;
                        typed_literal(f, args).map_err(at)
                    }
                    _ => Err(at(format!(
                        "expected a value (a JSON literal such as \"text\", 12.5, true, null; \
                         or bytes(\"base64\")), found {w:?}: write strings in double quotes"
                    ))),
                }
            }
            _ => self.err(format!("expected a value, found {}", self.describe())),
        }
    }
}

fn b64(v: &Value) -> Result<Vec<u8>, String> {
    match v {
        Value::String(s) => B64
            .decode(s)
            .map_err(|e| format!("bytes are written as base64 text ({e})")),
        other => Err(format!("bytes are written as base64 text, not {other}")),
    }
}

fn typed_literal(f: &str, args: Vec<Value>) -> Result<Value, String> {
    match f {
        "bytes" => match args.as_slice() {
            [one] => Ok(Value::Bytes(b64(one)?)),
            _ => Err("bytes(..) takes one base64 string".into()),
        },
        "string_set" => args
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                other => Err(format!("string_set(..) takes strings, not {other}")),
            })
            .collect::<Result<_, _>>()
            .map(Value::StringSet),
        "number_set" => args
            .into_iter()
            .map(|v| match v {
                Value::Number(n) => Ok(n),
                other => Err(format!("number_set(..) takes numbers, not {other}")),
            })
            .collect::<Result<_, _>>()
            .map(Value::NumberSet),
        _ => args
            .iter()
            .map(b64)
            .collect::<Result<_, _>>()
            .map(Value::BytesSet),
    }
}

fn value_type(name: &str) -> Option<ValueType> {
    let lower = name.to_ascii_lowercase().replace(['_', '-'], " ");
    ValueType::ALL.into_iter().find(|t| {
        t.name() == lower
            || matches!(
                (t, name),
                (ValueType::String, "S")
                    | (ValueType::Number, "N")
                    | (ValueType::Bytes, "B")
                    | (ValueType::Bool, "BOOL")
                    | (ValueType::Null, "NULL")
                    | (ValueType::List, "L")
                    | (ValueType::Map, "M")
                    | (ValueType::StringSet, "SS")
                    | (ValueType::NumberSet, "NS")
                    | (ValueType::BytesSet, "BS")
            )
    })
}

/// Parses a filter (see the module docs).
pub fn parse(text: &str) -> Result<Condition, FilterError> {
    let lexer = lex(text)?;
    let mut p = Parser {
        toks: lexer.toks,
        pos: 0,
        end: lexer.end,
        depth: 0,
    };
    if p.peek().is_none() {
        return p.err("the filter is empty");
    }
    let c = p.or()?;
    if p.peek().is_some() {
        return p.err(format!(
            "expected AND, OR or the end of the filter, found {}",
            p.describe()
        ));
    }
    c.validate().map_err(|e| FilterError {
        message: e.message().to_owned(),
        column: 1,
    })?;
    Ok(c)
}

/// Parses a condition on a query's sort key (`at >= 5`, `at BETWEEN 1 AND 9`,
/// `begins_with(sk, "2024-")`), which must name `sort_key`.
pub fn parse_sort(text: &str, sort_key: &str) -> Result<SortCondition, FilterError> {
    let c = parse(text)?;
    let wrong = |what: &str| FilterError {
        message: format!(
            "a sort condition is one comparison (= < <= > >=), BETWEEN or begins_with on \
             the sort key {sort_key:?}; {what}"
        ),
        column: 1,
    };
    let check = |path: &Path| {
        if path.is_top_level() && path.root() == sort_key {
            Ok(())
        } else {
            Err(wrong(&format!("this one is on {path}")))
        }
    };
    match c {
        Condition::Compare { path, op, value } => {
            check(&path)?;
            Ok(match op {
                kvs::CompareOp::Eq => SortCondition::Eq(value),
                kvs::CompareOp::Lt => SortCondition::Lt(value),
                kvs::CompareOp::Le => SortCondition::Le(value),
                kvs::CompareOp::Gt => SortCondition::Gt(value),
                kvs::CompareOp::Ge => SortCondition::Ge(value),
                kvs::CompareOp::Ne => return Err(wrong("<> is not one")),
            })
        }
        Condition::Between { path, low, high } => {
            check(&path)?;
            Ok(SortCondition::Between(low, high))
        }
        Condition::BeginsWith { path, prefix } => {
            check(&path)?;
            Ok(SortCondition::BeginsWith(prefix))
        }
        _ => Err(wrong("this is another kind of condition")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kvs::attr;

    #[test]
    fn parses_comparisons_functions_and_precedence() {
        let c = parse(r#"total > 1000 AND (status = "open" OR NOT exists(note))"#).unwrap();
        let expected = attr("total")
            .gt(1000)
            .and(attr("status").eq("open").or(!attr("note").exists()));
        assert_eq!(c, expected);
        let c = parse(r#"a.b[2] between 1 and 5 or tags in ("x", "y")"#).unwrap();
        assert_eq!(
            c,
            Path::parse("a.b[2]")
                .unwrap()
                .between(1, 5)
                .or(attr("tags").is_in(["x", "y"]))
        );
        assert_eq!(
            parse(r#"begins_with(name, "Ad") and contains(tags, "x") and not_contains(t, 1)"#)
                .unwrap(),
            attr("name")
                .begins_with("Ad")
                .and(attr("tags").contains("x"))
                .and(attr("t").not_contains(1))
        );
        assert_eq!(
            parse(r#"type_of(s, "number set")"#).unwrap(),
            attr("s").type_of(ValueType::NumberSet)
        );
        assert_eq!(parse("x <> null").unwrap(), attr("x").ne(Value::Null));
        assert_eq!(
            parse(r#"b = bytes("AAE=")"#).unwrap(),
            attr("b").eq(Value::bytes([0u8, 1]))
        );
        assert_eq!(
            parse(r#"a\.b = [1, {"k": true}]"#).unwrap(),
            Path::attr("a.b").eq(Value::list([
                Value::from(1),
                Value::Map([("k".to_owned(), Value::Bool(true))].into())
            ]))
        );
    }

    #[test]
    fn lists_sets_and_keywords_in_values() {
        assert_eq!(
            parse("a IN ([true], [1, 2]) and b = string_set(\"x\", \"y\")").unwrap(),
            attr("a")
                .is_in([Value::list([true]), Value::list([1, 2])])
                .and(attr("b").eq(Value::string_set(["x", "y"])))
        );
        assert_eq!(
            parse("NOT (x = 1 OR y = -2.5e3)").unwrap(),
            !(attr("x").eq(1).or(attr("y").eq(-2500.0)))
        );
        assert_eq!(
            parse(r"my\ field = 1 and \and = 2").unwrap(),
            attr("my field").eq(1).and(attr("and").eq(2))
        );
        assert_eq!(
            parse("tags[1] = \"x\"").unwrap(),
            Path::parse("tags[1]").unwrap().eq("x")
        );
    }

    #[test]
    fn numbers_keep_their_exact_text() {
        let c = parse("n = 12345678901234567890.123456789").unwrap();
        let Condition::Compare { value, .. } = c else {
            panic!()
        };
        assert_eq!(value.to_string(), "12345678901234567890.123456789");
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!("{}a = 1{}", "(".repeat(100_000), ")".repeat(100_000));
        let e = parse(&deep).unwrap_err();
        assert!(e.message.contains("nests deeper than"), "{e}");
        let nots = format!("{}a = 1", "NOT ".repeat(100_000));
        assert!(
            parse(&nots)
                .unwrap_err()
                .message
                .contains("nests deeper than")
        );
        let list = format!("a = {}1{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(
            parse(&list)
                .unwrap_err()
                .message
                .contains("nests deeper than")
        );
        // Within the bound, nesting parses.
        let fine = format!("{}a = 1{}", "(".repeat(30), ")".repeat(30));
        assert!(parse(&fine).is_ok());
    }

    #[test]
    fn errors_say_where() {
        let e = parse("total >").unwrap_err();
        assert_eq!(e.column, 8, "{e}");
        assert!(e.message.contains("expected a value"), "{e}");
        let e = parse("status = open").unwrap_err();
        assert_eq!(e.column, 10, "{e}");
        assert!(e.message.contains("double quotes"), "{e}");
        let e = parse("a = 1 b = 2").unwrap_err();
        assert_eq!(e.column, 7);
        assert!(
            parse("frob(a)")
                .unwrap_err()
                .message
                .contains("unknown function")
        );
        assert!(parse("(a = 1").unwrap_err().message.contains("')'"));
        assert!(parse("").is_err());
        assert!(
            parse("a between 5 and 1")
                .unwrap_err()
                .message
                .contains("greater")
        );
    }

    #[test]
    fn sort_conditions_name_the_sort_key() {
        assert_eq!(parse_sort("at >= 5", "at").unwrap(), SortCondition::ge(5));
        assert_eq!(
            parse_sort(r#"begins_with(at, "x")"#, "at").unwrap(),
            SortCondition::begins_with("x")
        );
        assert!(parse_sort("other >= 5", "at").is_err());
    }
}
