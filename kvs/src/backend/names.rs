//! Names a backend derives from kvs's: the id of an item from its key, and the id of a
//! store's table, collection or container from its name. Stable, unique, and made only
//! of what the store allows; written once for every backend that needs them.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::{Key, Value};

/// Appends `s`, with every character that `keep` refuses written as `%XX` for each of
/// its UTF-8 bytes. `keep` must refuse `%` (the escape) and any separator the caller
/// uses, so that no two strings escape alike.
pub fn escape_into(out: &mut String, s: &str, keep: impl Fn(char) -> bool) {
    for c in s.chars() {
        if keep(c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
}

/// The id of an item from its key alone, so that a get, a delete or a cursor names the
/// item without reading anything:
///
/// - each key value is tagged by its type and written canonically: `s` and the string
///   (escaped by `keep`, see [`escape_into`]; it must refuse `~`), `n` and the number (an
///   integral number, float or not, as an integer, so that `1` and `1.0` are one key;
///   other floats in their shortest round-tripping form), `b` and the bytes in unpadded
///   base64url;
/// - a sort key value follows the partition key value after a `~`;
/// - an id longer than `max_plain` bytes is `h` and the SHA-256 of the plain id in hex
///   (65 bytes). A backend that stores the key attributes in the item loses nothing by
///   it; the hashed id is still found by computing the same hash.
///
/// The id therefore starts with a letter, is unique and stable per key, and holds only
/// what `keep` keeps, `%`, `~`, ASCII letters, digits, `-`, `_` and `.`.
pub fn key_id(key: &Key, keep: impl Fn(char) -> bool + Copy, max_plain: usize) -> String {
    let mut id = String::new();
    push_part(&mut id, key.partition(), keep);
    if let Some(sort) = key.sort() {
        id.push('~');
        push_part(&mut id, sort, keep);
    }
    if id.len() > max_plain {
        let digest = Sha256::digest(id.as_bytes());
        let mut hashed = String::with_capacity(65);
        hashed.push('h');
        for b in digest {
            hashed.push_str(&format!("{b:02x}"));
        }
        return hashed;
    }
    id
}

fn push_part(id: &mut String, value: &Value, keep: impl Fn(char) -> bool) {
    match value {
        Value::String(s) => {
            id.push('s');
            escape_into(id, s, |c| c != '%' && c != '~' && keep(c));
        }
        Value::Number(n) => {
            id.push('n');
            match n.as_i64() {
                Some(i) => id.push_str(&i.to_string()),
                // Not integral (or beyond i64): the shortest form that reads back as it.
                None => id.push_str(&format!("{:?}", n.to_f64_lossy())),
            }
        }
        Value::Bytes(b) => {
            id.push('b');
            id.push_str(&URL_SAFE_NO_PAD.encode(b));
        }
        // Key values are validated to be strings, numbers or bytes before this; any
        // other value gets a tag of its own, so that it can never alias a key.
        other => {
            id.push('x');
            id.push_str(&URL_SAFE_NO_PAD.encode(format!("{other:?}")));
        }
    }
}

/// The id of a store's table, collection or container: `prefix` + the store's name,
/// where a name of ASCII letters, digits, `_` and `-` stays as it is (unless `escape`,
/// for a name the store reserves), and any other is `~` followed by the name with every
/// other byte percent-escaped, so that two names never share an id.
pub fn store_id(prefix: &str, store: &str, escape: bool) -> String {
    let plain_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if !escape && !store.is_empty() && store.chars().all(plain_char) {
        return format!("{prefix}{store}");
    }
    let mut id = format!("{prefix}~");
    escape_into(&mut id, store, plain_char);
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ascii(c: char) -> bool {
        c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
    }

    #[test]
    fn ids_are_canonical_and_escaped() {
        let any = |_| true;
        assert_eq!(key_id(&Key::new("a/b~%"), any, 100), "sa/b%7E%25");
        assert_eq!(key_id(&Key::new("a/b é"), ascii, 100), "sa%2Fb%20%C3%A9");
        assert_eq!(
            key_id(&Key::new(1), ascii, 100),
            key_id(&Key::new(1.0), ascii, 100)
        );
        assert_eq!(key_id(&Key::with_sort("a", 1.5), ascii, 100), "sa~n1.5");
        assert_ne!(
            key_id(&Key::with_sort("a", "b"), any, 100),
            key_id(&Key::new("a~sb"), any, 100)
        );
        let long = key_id(&Key::new("x".repeat(300).as_str()), ascii, 250);
        assert!(long.starts_with('h') && long.len() == 65, "{long}");
    }

    #[test]
    fn store_ids_never_collide() {
        assert_eq!(store_id("p-", "orders", false), "p-orders");
        assert_eq!(store_id("", "a/b", false), "~a%2Fb");
        assert_eq!(store_id("", "__x__", true), "~__x__");
        assert_ne!(store_id("", "a.b", false), store_id("", "a%2Eb", false));
    }
}
