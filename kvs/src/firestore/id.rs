//! Names in Firestore: the collection of a store, the document id of a key, and the
//! field path of an attribute.
//!
//! A document id is derived from the key alone, so that a get, a delete or a cursor
//! names the document without reading anything:
//!
//! - each key value is tagged by its type and written canonically: `s` and the string
//!   (with `%`, `/` and `~` percent-escaped), `n` and the number (an integral number,
//!   float or not, as an integer, so that `1` and `1.0` are one key; other floats in
//!   their shortest round-tripping form), `b` and the bytes in unpadded base64url;
//! - a sort key value follows the partition key value after a `~`;
//! - an id longer than [`MAX_PLAIN_ID`] bytes is replaced by `h` and the SHA-256 of the
//!   plain id in hex. The key attributes are stored as fields of every document, so a
//!   hashed id loses nothing; it is still found by computing the same hash.
//!
//! An id therefore starts with a letter (never `.`, `..` or a reserved `__x__` id),
//! holds no `/`, is unique and stable per key, and is at most 1,000 bytes.

use crate::backend::names;
use crate::{Error, Key, Result};

/// The longest plain document id; longer ones are hashed (Firestore allows 1,500 bytes).
pub const MAX_PLAIN_ID: usize = 1000;

/// The document id of a key (see the [module docs](self)): [`names::key_id`] with `%`,
/// `/` and `~` escaped, hashed beyond [`MAX_PLAIN_ID`] bytes.
pub fn document_id(key: &Key) -> String {
    names::key_id(key, |c| c != '/', MAX_PLAIN_ID)
}

/// The collection id of a store: `prefix` + the store's name, where a name of ASCII
/// letters, digits, `_` and `-` that is not a reserved `__x__` id stays as it is, and
/// any other is `~` followed by the name with every other byte percent-escaped (so no
/// `/`, `.`, `..` or `__x__`, alone or after the prefix, can reach Firestore, and two
/// names never share a collection).
pub fn collection_id(prefix: &str, store: &str) -> String {
    // The whole id is what Firestore checks: prefix `_` and name `_x__` are `__x__`.
    let reserved = is_reserved(store) || is_reserved(&format!("{prefix}{store}"));
    names::store_id(prefix, store, reserved)
}

/// Checks a collection prefix: ASCII letters, digits, `_`, `-` and `.`, not starting
/// with `__` (a prefix cannot make a name reserved or put it in a subcollection).
pub fn check_prefix(prefix: &str) -> Result<()> {
    let ok = prefix
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        && !prefix.starts_with("__")
        && !prefix.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(Error::validation(format!(
            "collection prefix {prefix:?}: use ASCII letters, digits, `_`, `-` and `.`, \
             not starting with `__` or `.`"
        )))
    }
}

/// Whether a name is reserved by Firestore for ids and field names: `__.*__`.
pub fn is_reserved(name: &str) -> bool {
    name.len() >= 4 && name.starts_with("__") && name.ends_with("__")
}

/// A field path for one top-level field name (already escaped for Firestore, see
/// [`value::field_name`](super::value::field_name)): as it is where it is a simple
/// identifier, else quoted in backticks with `` ` `` and `\` escaped.
pub fn field_path(name: &str) -> String {
    let simple = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if simple {
        return name.to_owned();
    }
    let mut quoted = String::with_capacity(name.len() + 2);
    quoted.push('`');
    for c in name.chars() {
        if c == '`' || c == '\\' {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('`');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_canonical_and_safe() {
        assert_eq!(document_id(&Key::new("a/b")), "sa%2Fb");
        assert_eq!(document_id(&Key::new(1)), document_id(&Key::new(1.0)));
        assert_eq!(document_id(&Key::new(-0.0)), "n0");
        assert_eq!(document_id(&Key::new(1.5)), "n1.5");
        assert_ne!(document_id(&Key::new("1")), document_id(&Key::new(1)));
        assert_eq!(document_id(&Key::with_sort("a", 2)), "sa~n2");
        // A `~` inside a string cannot fake the separator.
        assert_ne!(
            document_id(&Key::with_sort("a", "b")),
            document_id(&Key::new("a~sb"))
        );
        for id in [".", "..", "__x__"] {
            let d = document_id(&Key::new(id));
            assert!(d.starts_with('s') && !d.contains('/'), "{d}");
        }
        assert_eq!(document_id(&Key::bytes(vec![0xff, 0])), "b_wA");
    }

    #[test]
    fn long_ids_are_hashed_and_stay_distinct() {
        let long = "x".repeat(2000);
        let a = document_id(&Key::new(long.as_str()));
        let b = document_id(&Key::new(format!("{long}y")));
        assert!(a.starts_with('h') && a.len() == 65, "{a}");
        assert_ne!(a, b);
        assert_eq!(a, document_id(&Key::new(long.as_str())));
        let short = "y".repeat(MAX_PLAIN_ID - 1);
        assert_eq!(document_id(&Key::new(short.as_str())).len(), MAX_PLAIN_ID);
    }

    #[test]
    fn collections_never_collide_or_reserve() {
        assert_eq!(collection_id("", "orders"), "orders");
        assert_eq!(collection_id("p-", "orders"), "p-orders");
        assert_eq!(collection_id("", "__x__"), "~__x__");
        assert_eq!(collection_id("", "a/b"), "~a%2Fb");
        assert_eq!(collection_id("", "."), "~%2E");
        assert_ne!(collection_id("", "a.b"), collection_id("", "a%2Eb"));
        assert!(check_prefix("test-").is_ok());
        assert!(check_prefix("a/b").is_err());
        assert!(check_prefix("__x").is_err());
        // A prefix that checks and a name that is not reserved alone still make no
        // reserved id together.
        assert!(check_prefix("_").is_ok());
        for (prefix, store) in [("_", "_x__"), ("_", "____"), ("_", "___")] {
            let id = collection_id(prefix, store);
            assert!(!is_reserved(&id), "{prefix:?} + {store:?}: {id}");
            assert!(id.starts_with(prefix), "{id}");
        }
        assert_ne!(collection_id("_", "_x__"), collection_id("", "__x__"));
    }

    #[test]
    fn field_paths_quote_what_is_not_an_identifier() {
        assert_eq!(field_path("pk"), "pk");
        assert_eq!(field_path("a.b"), "`a.b`");
        assert_eq!(field_path("a`b\\"), "`a\\`b\\\\`");
        assert_eq!(field_path("1x"), "`1x`");
    }
}
