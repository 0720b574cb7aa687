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
/// Parse one from text with [`Path::parse`] (`address.country`, `tags[0]`,
/// `a\.b` for an attribute whose name holds a dot), or build it segment by segment,
/// which needs no escaping at all:
///
/// ```
/// use kvs::Path;
///
/// let p = Path::parse("address.lines[1]").unwrap();
/// assert_eq!(p, Path::attr("address").key("lines").index(1));
/// // A field literally named `a.b` is not the path a -> b.
/// assert_ne!(Path::attr("a.b"), Path::parse("a.b").unwrap());
/// assert_eq!(Path::attr("a.b"), Path::parse(r"a\.b").unwrap());
/// assert_eq!(Path::attr("a.b").to_string(), r"a\.b");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Path(Vec<Segment>);

impl Path {
    /// The top-level attribute `name`, taken literally (no parsing, no escapes).
    pub fn attr(name: impl Into<String>) -> Path {
        Path(vec![Segment::Attr(name.into())])
    }

    /// This path followed by the map key `name`, taken literally.
    pub fn key(mut self, name: impl Into<String>) -> Path {
        self.0.push(Segment::Attr(name.into()));
        self
    }

    /// This path followed by the list position `i`.
    pub fn index(mut self, i: usize) -> Path {
        self.0.push(Segment::Index(i));
        self
    }

    /// A path from segments. It must start with an attribute name, and names must not be
    /// empty.
    pub fn from_segments(segments: Vec<Segment>) -> Result<Path> {
        let p = Path(segments);
        p.validate()?;
        Ok(p)
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
        Ok(Path(segments))
    }

    /// The segments, first to last.
    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    /// The top-level attribute the path starts at.
    pub fn root(&self) -> &str {
        match self.0.first() {
            Some(Segment::Attr(name)) => name,
            // `validate` rejects every other shape and every constructor validates.
            _ => "",
        }
    }

    /// Whether the path is a bare top-level attribute.
    pub fn is_top_level(&self) -> bool {
        self.0.len() == 1
    }

    /// The path without its last segment, if it has more than one.
    pub fn parent(&self) -> Option<Path> {
        (self.0.len() > 1).then(|| Path(self.0[..self.0.len() - 1].to_vec()))
    }

    /// The last segment.
    pub fn last(&self) -> &Segment {
        self.0.last().expect("a path is never empty")
    }

    /// Whether one path is a prefix of the other (or they are equal): two update ops on
    /// such paths would touch the same place.
    pub fn overlaps(&self, other: &Path) -> bool {
        let n = self.0.len().min(other.0.len());
        self.0[..n] == other.0[..n]
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
        let (first, rest) = self.0.split_first()?;
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
        match self.0.first() {
            None => return Err(Error::validation("a path cannot be empty")),
            Some(Segment::Index(_)) => {
                return Err(Error::validation(format!(
                    "path {self} must start with an attribute name"
                )));
            }
            Some(Segment::Attr(_)) => {}
        }
        if self
            .0
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
    /// The path in the syntax [`Path::parse`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
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
    fn escapes_round_trip() {
        for name in ["a.b", "x[0]", r"back\slash", "#:$ ü", "]"] {
            let p = Path::attr(name).key(name).index(3);
            assert_eq!(Path::parse(&p.to_string()).unwrap(), p);
        }
    }
}
