//! Names in Cosmos DB: the container of a store and the document id of a key.
//!
//! A document id is [`names::key_id`] with every character but ASCII letters, digits,
//! `-`, `_` and `.` percent-escaped: unique and stable per key, ASCII (so that Cosmos
//! DB's UTF-16 order and the URL it travels in never matter), never holding `/`, `\`,
//! `?` or `#`, one id for `1` and `1.0`, and hashed beyond [`MAX_PLAIN_ID`] bytes
//! (Cosmos DB allows 255).

use crate::backend::names;
use crate::{Error, Key, Result};

/// The longest plain document id; longer ones are hashed (65 bytes).
pub const MAX_PLAIN_ID: usize = 250;

fn kept(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// The document id of a key: [`names::key_id`] with every character but ASCII letters,
/// digits, `-`, `_` and `.` percent-escaped, hashed beyond [`MAX_PLAIN_ID`] bytes (ASCII,
/// so that Cosmos DB's UTF-16 order and the URL it travels in never matter).
pub fn item_id(key: &Key) -> String {
    names::key_id(key, kept, MAX_PLAIN_ID)
}

/// The container id of a store: `prefix` + the store's name, where a name of ASCII
/// letters, digits, `_` and `-` stays as it is, and any other is `~` followed by the
/// name with every other byte percent-escaped (so no `/`, `\`, `?` or `#` reaches Cosmos
/// DB, and two names never share a container).
pub fn container_id(prefix: &str, store: &str) -> String {
    names::store_id(prefix, store, false)
}

/// Checks a container prefix: ASCII letters, digits, `_` and `-`.
pub fn check_prefix(prefix: &str) -> Result<()> {
    if prefix
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
    {
        Ok(())
    } else {
        Err(Error::validation(format!(
            "container prefix {prefix:?}: use ASCII letters, digits, `_` and `-`"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_ascii_and_never_hold_what_cosmos_refuses() {
        for k in ["a/b", "a\\b", "a?b", "a#b", "é", "a b", "~%"] {
            let id = item_id(&Key::new(k));
            assert!(id.is_ascii(), "{id}");
            assert!(!id.contains(['/', '\\', '?', '#']), "{id}");
        }
        assert_eq!(item_id(&Key::with_sort("user-1", 2)), "suser-1~n2");
        assert_eq!(item_id(&Key::new(1)), item_id(&Key::new(1.0)));
        let long = item_id(&Key::new("é".repeat(200).as_str()));
        assert_eq!(long.len(), 65);
        assert_eq!(container_id("", "a/b"), "~a%2Fb");
        assert!(check_prefix("prod-").is_ok() && check_prefix("a/b").is_err());
    }
}
