//! Records a backend keeps beside an item's values for what its store has no type for
//! (a set kept as an array, bytes kept as a base64 string): each names a kind and the
//! path of the value it describes, as `KIND:path`, where a path is `.name` for a map
//! key (with `\`, `.` and `[` escaped by a backslash) and `[n]` for a list position.
//! Firestore and Cosmos DB write them the same way, and read them back here.

use std::borrow::Cow;

use crate::{Item, Value};

/// A step of a path: a name (borrowed from the item while encoding, so that walking it
/// allocates nothing) or a list position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step<'a> {
    /// A map key or attribute name.
    Name(Cow<'a, str>),
    /// A list position.
    Index(usize),
}

/// A path of steps as a record entry (see the module docs).
pub fn path_string(steps: &[Step<'_>]) -> String {
    let mut s = String::new();
    for step in steps {
        match step {
            Step::Name(n) => {
                s.push('.');
                for c in n.chars() {
                    if matches!(c, '\\' | '.' | '[') {
                        s.push('\\');
                    }
                    s.push(c);
                }
            }
            Step::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// The path a record entry names; `None` if it is not one.
pub fn parse_path(mut s: &str) -> Option<Vec<Step<'static>>> {
    let mut steps = Vec::new();
    while !s.is_empty() {
        if let Some(rest) = s.strip_prefix('[') {
            let end = rest.find(']')?;
            steps.push(Step::Index(rest[..end].parse().ok()?));
            s = &rest[end + 1..];
        } else if let Some(rest) = s.strip_prefix('.') {
            let mut name = String::new();
            let mut chars = rest.char_indices();
            let mut consumed = rest.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => name.push(chars.next()?.1),
                    '.' | '[' => {
                        consumed = i;
                        break;
                    }
                    c => name.push(c),
                }
            }
            steps.push(Step::Name(Cow::Owned(name)));
            s = &rest[consumed..];
        } else {
            return None;
        }
    }
    Some(steps)
}

/// A record entry: `kind:path`.
pub fn entry(kind: &str, at: &[Step<'_>]) -> String {
    format!("{kind}:{}", path_string(at))
}

/// Finds the value a record entry (`kind:path`) names in `item` and hands it to
/// `restore` with the kind, to turn it back into what it was. An entry that does not fit
/// the item (another program changed it) is ignored.
pub fn restore(item: &mut Item, entry: &str, restore: impl FnOnce(&str, &mut Value)) {
    let Some((kind, path)) = entry.split_once(':') else {
        return;
    };
    let Some(steps) = parse_path(path) else {
        return;
    };
    let Some((Step::Name(first), rest)) = steps.split_first() else {
        return;
    };
    let Some(mut at) = item.get_mut(first.as_ref()) else {
        return;
    };
    for step in rest {
        at = match (step, at) {
            (Step::Name(n), Value::Map(m)) => match m.get_mut(n.as_ref()) {
                Some(v) => v,
                None => return,
            },
            (Step::Index(i), Value::List(l)) => match l.get_mut(*i) {
                Some(v) => v,
                None => return,
            },
            _ => return,
        };
    }
    restore(kind, at);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item;

    #[test]
    fn paths_parse_back() {
        let steps = vec![
            Step::Name(Cow::Borrowed("a.b")),
            Step::Index(3),
            Step::Name(Cow::Borrowed("c\\[")),
        ];
        let s = path_string(&steps);
        let back = parse_path(&s).unwrap();
        assert_eq!(path_string(&back), s);
        assert_eq!(back, steps);
        assert_eq!(parse_path("x"), None);
    }

    #[test]
    fn entries_find_their_value_or_are_ignored() {
        let mut item = item! { "m" => item! { "l" => Value::list([1, 2]) } };
        let at = [
            Step::Name("m".into()),
            Step::Name("l".into()),
            Step::Index(1),
        ];
        restore(&mut item, &entry("X", &at), |kind, v| {
            assert_eq!(kind, "X");
            *v = Value::from("two");
        });
        assert_eq!(
            item,
            item! { "m" => item! { "l" => Value::list([Value::from(1), Value::from("two")]) } }
        );
        restore(&mut item, "X:.nope", |_, _| panic!("no such value"));
        restore(&mut item, "garbage", |_, _| panic!("not an entry"));
    }
}
