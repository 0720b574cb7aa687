//! Attribute paths: map keys and list positions as segments.

use std::fmt;

use crate::{Error, Item, Result, Value};

/// One step of a [`Path`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Segment {
    /// A map key (or, first, a top-level attribute name). Any non-empty string.
    Attr(String),
    /// A list position, from 0.
    Index(usize),
}

/// A path to a place in an item: a top-level attribute, then map keys and list positions.
///
/// A path given as text means the same thing everywhere, in conditions, filters and
/// updates: it is parsed (`address.country` is `address` -> `country`, `tags[0]` a list
/// position, a backslash makes the next character literal: `a\.b`). Text is read by
/// [`Path::parse`], by [`attr`](crate::attr), and by every update builder. An attribute
/// whose name holds a dot or a bracket is named explicitly with [`Path::attr`] and
/// [`Path::key`], which take names literally and need no escaping at all:
///
/// ```
/// use kvs::{attr, Path};
///
/// let p = Path::parse("address.lines[1]").unwrap();
/// assert_eq!(p, Path::attr("address").key("lines").index(1));
/// assert_eq!(attr("address.lines[1]"), p);
/// // A field literally named `a.b` is not the path a -> b.
/// assert_ne!(Path::attr("a.b"), Path::parse("a.b").unwrap());
/// assert_eq!(Path::attr("a.b"), Path::parse(r"a\.b").unwrap());
/// assert_eq!(Path::attr("a.b").to_string(), r"a\.b");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Path {
    segments: Vec<Segment>,
    /// Why the text [`attr`](crate::attr) was given is not a path. Such a path holds the
    /// text as one name, so that it can still be printed and combined; every request that
    /// uses it is refused with `Validation` before anything is sent.
    invalid: Option<Box<str>>,
}

impl Path {
    fn of(segments: Vec<Segment>) -> Path {
        Path {
            segments,
            invalid: None,
        }
    }

    /// The top-level attribute `name`, taken literally (no parsing, no escapes): the
    /// explicit form for a name that holds `.`, `[`, `]` or `\`.
    pub fn attr(name: impl Into<String>) -> Path {
        Path::of(vec![Segment::Attr(name.into())])
    }

    /// This path followed by the map key `name`, taken literally.
    pub fn key(mut self, name: impl Into<String>) -> Path {
        self.segments.push(Segment::Attr(name.into()));
        self
    }

    /// This path followed by the list position `i`.
    pub fn index(mut self, i: usize) -> Path {
        self.segments.push(Segment::Index(i));
        self
    }

    /// A path from segments. It must start with an attribute name, and names must not be
    /// empty.
    pub fn from_segments(segments: Vec<Segment>) -> Result<Path> {
        let p = Path::of(segments);
        p.validate()?;
        Ok(p)
    }

    /// The path `text` says, as [`Path::parse`] reads it; text that does not parse makes
    /// a path that every request refuses (`Validation`, with the parse error), so that
    /// builders taking text can stay infallible.
    pub(crate) fn parse_or_invalid(text: &str) -> Path {
        Path::parse(text).unwrap_or_else(|e| Path {
            segments: vec![Segment::Attr(text.to_owned())],
            invalid: Some(e.message().into()),
        })
    }

    /// Parses `name(.name | [index])*`. A backslash makes the next character literal, so
    /// `a\.b`, `a\[0\]` and `a\\b` name attributes holding `.`, `[`, `]` or `\`.
    pub fn parse(text: &str) -> Result<Path> {
        let bad = |why: &str| Error::validation(format!("invalid path {text:?}: {why}"));
        let mut segments = Vec::new();
        let mut chars = text.chars().peekable();
        let mut name = String::new();
        // Whether a name is expected next (at the start and after a dot).
        let mut want_name = true;
        loop {
            if want_name {
                name.clear();
                while let Some(&c) = chars.peek() {
                    match c {
                        '.' | '[' | ']' => break,
                        '\\' => {
                            chars.next();
                            match chars.next() {
                                Some(escaped) => name.push(escaped),
                                None => return Err(bad("it ends with a lone backslash")),
                            }
                        }
                        _ => {
                            name.push(c);
                            chars.next();
                        }
                    }
                }
                if name.is_empty() {
                    return Err(bad("an attribute name is empty"));
                }
                segments.push(Segment::Attr(std::mem::take(&mut name)));
                want_name = false;
            }
            match chars.next() {
                None => break,
                Some('.') => want_name = true,
                Some('[') => {
                    let mut digits = String::new();
                    loop {
                        match chars.next() {
                            Some(']') => break,
                            Some(c) if c.is_ascii_digit() => digits.push(c),
                            Some(c) => {
                                return Err(bad(&format!("{c:?} in a list position")));
                            }
                            None => return Err(bad("a '[' is never closed")),
                        }
                    }
                    let i = digits
                        .parse::<usize>()
                        .map_err(|_| bad("a list position is not a number"))?;
                    segments.push(Segment::Index(i));
                }
                Some(c) => return Err(bad(&format!("unexpected {c:?}"))),
            }
        }
        Ok(Path::of(segments))
    }

    /// The segments, first to last.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The top-level attribute the path starts at.
    pub fn root(&self) -> &str {
        match self.segments.first() {
            Some(Segment::Attr(name)) => name,
            // `validate` rejects every other shape and every constructor validates.
            _ => "",
        }
    }

    /// Whether the path is a bare top-level attribute.
    pub fn is_top_level(&self) -> bool {
        self.segments.len() == 1
    }

    /// The path without its last segment, if it has more than one.
    pub fn parent(&self) -> Option<Path> {
        (self.segments.len() > 1).then(|| Path {
            segments: self.segments[..self.segments.len() - 1].to_vec(),
            invalid: self.invalid.clone(),
        })
    }

    /// The last segment.
    pub fn last(&self) -> &Segment {
        self.segments.last().expect("a path is never empty")
    }

    /// Whether one path is a prefix of the other (or they are equal): two update ops on
    /// such paths would touch the same place.
    pub fn overlaps(&self, other: &Path) -> bool {
        let n = self.segments.len().min(other.segments.len());
        self.segments[..n] == other.segments[..n]
    }

    /// The value at this path, if there is one.
    pub fn resolve<'a>(&self, item: &'a Item) -> Option<&'a Value> {
        self.resolve_map(item.as_map())
    }

    /// The value at this path in a map of attributes, if there is one.
    pub(crate) fn resolve_map<'a>(
        &self,
        map: &'a std::collections::BTreeMap<String, Value>,
    ) -> Option<&'a Value> {
        let (first, rest) = self.segments.split_first()?;
        let Segment::Attr(name) = first else {
            return None;
        };
        let mut current = map.get(name)?;
        for seg in rest {
            current = match (seg, current) {
                (Segment::Attr(name), Value::Map(m)) => m.get(name)?,
                (Segment::Index(i), Value::List(l)) => l.get(*i)?,
                _ => return None,
            };
        }
        Some(current)
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if let Some(why) = &self.invalid {
            return Err(Error::validation(why.to_string()));
        }
        match self.segments.first() {
            None => return Err(Error::validation("a path cannot be empty")),
            Some(Segment::Index(_)) => {
                return Err(Error::validation(format!(
                    "path {self} must start with an attribute name"
                )));
            }
            Some(Segment::Attr(_)) => {}
        }
        if self
            .segments
            .iter()
            .any(|s| matches!(s, Segment::Attr(n) if n.is_empty()))
        {
            return Err(Error::validation(format!(
                "path {self} has an empty attribute name"
            )));
        }
        Ok(())
    }
}

fn write_escaped(f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
    for c in name.chars() {
        if matches!(c, '.' | '[' | ']' | '\\') {
            f.write_str("\\")?;
        }
        write!(f, "{c}")?;
    }
    Ok(())
}

impl fmt::Display for Path {
    /// The path in the syntax [`Path::parse`] reads back (text that does not parse as it
    /// was given).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.invalid.is_some()
            && let [Segment::Attr(text)] = self.segments.as_slice()
        {
            return f.write_str(text);
        }
        for (i, seg) in self.segments.iter().enumerate() {
            match seg {
                Segment::Attr(name) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    write_escaped(f, name)?;
                }
                Segment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Path({self})")
    }
}

impl TryFrom<&str> for Path {
    type Error = Error;
    fn try_from(s: &str) -> Result<Path> {
        Path::parse(s)
    }
}

impl TryFrom<String> for Path {
    type Error = Error;
    fn try_from(s: String) -> Result<Path> {
        Path::parse(&s)
    }
}

impl TryFrom<&String> for Path {
    type Error = Error;
    fn try_from(s: &String) -> Result<Path> {
        Path::parse(s)
    }
}

impl TryFrom<&Path> for Path {
    type Error = Error;
    fn try_from(p: &Path) -> Result<Path> {
        p.validate()?;
        Ok(p.clone())
    }
}

impl std::str::FromStr for Path {
    type Err = Error;
    fn from_str(s: &str) -> Result<Path> {
        Path::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_paths() {
        assert_eq!(
            Path::parse("a.b[2][0].c").unwrap().segments(),
            &[
                Segment::Attr("a".into()),
                Segment::Attr("b".into()),
                Segment::Index(2),
                Segment::Index(0),
                Segment::Attr("c".into())
            ]
        );
    }

    #[test]
    fn rejects_malformed_paths() {
        for bad in [
            "", ".a", "a.", "a..b", "[0]", "a[", "a[x]", "a[]", "a]", "a\\", "a[0]b",
        ] {
            assert!(Path::parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn text_given_to_attr_is_parsed() {
        assert_eq!(crate::attr("a.b[1]"), Path::attr("a").key("b").index(1));
        assert_eq!(crate::attr(r"a\.b"), Path::attr("a.b"));
        assert_eq!(crate::attr(String::from("x")), Path::attr("x"));
    }

    #[test]
    fn text_that_does_not_parse_is_refused_when_used() {
        for bad in ["a..b", "", "a[", r"a\"] {
            let p = crate::attr(bad);
            let err = p.validate().expect_err(bad);
            assert_eq!(*err.kind(), crate::ErrorKind::Validation, "{bad:?}");
            assert!(err.message().contains("invalid path"), "{bad:?}: {err}");
            assert_eq!(p.to_string(), bad, "printed as given");
            assert!(Path::try_from(&p).is_err(), "{bad:?}");
            // Still refused when extended: the error is kept.
            assert!(p.clone().key("c").index(0).validate().is_err(), "{bad:?}");
            assert_ne!(p, Path::attr(bad), "not the literal name");
        }
    }

    #[test]
    fn escapes_round_trip() {
        for name in ["a.b", "x[0]", r"back\slash", "#:$ ü", "]"] {
            let p = Path::attr(name).key(name).index(3);
            assert_eq!(Path::parse(&p.to_string()).unwrap(), p);
        }
    }
}
