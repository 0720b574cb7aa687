//! Pages of results and the page tokens that continue them.
//!
//! A token is opaque to callers. Inside it is a format version, a digest of the query
//! that made it (store, index, partition, sort condition, filter, direction: not the
//! limit) and the key attributes of the last item returned, in kvs's key encoding.
//!
//! - Without a key, that is written in the clear (base64url), closed with a SHA-256
//!   checksum that catches corruption: whoever holds the token can read the last item's
//!   key attributes from it, and could make a token of their own.
//! - With a key ([`Options::page_token_key`](crate::Options::page_token_key)), it is
//!   sealed with XChaCha20-Poly1305 (a random 192-bit nonce per token; the AEAD key
//!   derived from the configured one by HKDF-SHA-256), padded to a multiple of
//!   64 bytes: the token shows nothing of the position but its size
//!   rounded up to that block, and cannot be made or altered without the key.
//!
//! Anything that does not open, or does not match, gives `InvalidPageToken`, never a
//! panic and never another query's data.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use rand::TryRngCore as _;
use sha2::{Digest, Sha256};

use crate::codec::{self, encode_value};
use crate::expr::{CompareOp, Condition, Path, Segment, SortCondition};
use crate::{Error, IndexSchema, Item, Result, StoreSchema, Value, ValueType};

/// One page of results, and the token of the next one, if there may be more.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T = Item> {
    /// The items, in order.
    pub items: Vec<T>,
    /// Pass this to the same query to get the next page; `None` on the last page.
    pub next_page_token: Option<PageToken>,
}

impl<T> Page<T> {
    /// The items of this page.
    pub fn into_items(self) -> Vec<T> {
        self.items
    }

    /// Whether this is the last page.
    pub fn is_last(&self) -> bool {
        self.next_page_token.is_none()
    }

    /// Converts every item, keeping the token.
    pub fn try_map<U, E>(
        self,
        f: impl FnMut(T) -> std::result::Result<U, E>,
    ) -> std::result::Result<Page<U>, E> {
        Ok(Page {
            items: self
                .items
                .into_iter()
                .map(f)
                .collect::<std::result::Result<_, E>>()?,
            next_page_token: self.next_page_token,
        })
    }
}

/// An opaque token that continues a query or scan where its page ended.
///
/// It is plain URL-safe text, so it can be handed to a client and back. Without a page
/// token key it holds the key attributes of the page's last item in the clear (anyone
/// holding it can decode them); with one ([`Options::page_token_key`](crate::Options::page_token_key))
/// it is sealed and shows nothing of them. See the [module docs](self).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PageToken(String);

impl PageToken {
    /// The token as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PageToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for PageToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PageToken({})", self.0)
    }
}

impl From<String> for PageToken {
    fn from(s: String) -> Self {
        PageToken(s)
    }
}

impl From<&str> for PageToken {
    fn from(s: &str) -> Self {
        PageToken(s.to_owned())
    }
}

impl std::str::FromStr for PageToken {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Ok(PageToken(s.to_owned()))
    }
}

impl serde::Serialize for PageToken {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for PageToken {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d).map(PageToken)
    }
}

/// A token in the clear, closed with a checksum (no key configured).
const TOKEN_VERSION: u8 = 1;
/// A sealed token (a key configured). Tokens signed with HMAC by earlier releases were
/// version 1 under a key: they are refused, as they would be opened by no key now.
const SEALED_VERSION: u8 = 2;
const BINDING_LEN: usize = 16;
const CHECK_LEN: usize = 16;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// A sealed token's contents are padded to a multiple of this many bytes, so that its
/// length tells only roughly how long the key attributes are (every position whose key
/// attributes encode in 44 bytes or fewer gives a token of the same length).
pub(crate) const SEALED_BLOCK: usize = 64;
/// The shortest key [`TokenCodec`] accepts, in bytes.
pub(crate) const MIN_KEY_LEN: usize = 16;
/// Tokens longer than this are rejected before decoding: the longest a valid cursor
/// makes. A cursor holds the key attributes of one item, which is at most
/// [`MAX_ITEM_SIZE`](crate::limits::MAX_ITEM_SIZE) in names and values (no key value
/// is limited on its own); a few bytes encode each attribute, and the token adds its
/// version, binding and check (or length, padding, nonce and tag); then base64.
const MAX_TOKEN_LEN: usize = (crate::limits::MAX_ITEM_SIZE + 512).div_ceil(3) * 4;

/// A digest of everything that defines a query except its limit and position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryBinding([u8; BINDING_LEN]);

impl QueryBinding {
    /// Digests the parts of a query, each written in a canonical form.
    pub(crate) fn new(parts: &[&[u8]]) -> Self {
        let mut h = Sha256::new();
        for p in parts {
            h.update((p.len() as u64).to_be_bytes());
            h.update(p);
        }
        let mut out = [0u8; BINDING_LEN];
        out.copy_from_slice(&h.finalize()[..BINDING_LEN]);
        QueryBinding(out)
    }
}

/// Writes a filter in a canonical binary form, for a [`QueryBinding`]: a tag per node,
/// each path as its segments, each value in the storage encoding (which must stay stable,
/// as files depend on it). Unlike `Debug` text, this does not change when a type's
/// debug output does, so tokens outlive an upgrade.
pub(crate) fn bind_condition(c: &Condition, out: &mut Vec<u8>) {
    let tagged = |out: &mut Vec<u8>, tag: u8, path: &Path| {
        out.push(tag);
        bind_path(path, out);
    };
    match c {
        Condition::Compare { path, op, value } => {
            let op = match op {
                CompareOp::Eq => 0,
                CompareOp::Ne => 1,
                CompareOp::Lt => 2,
                CompareOp::Le => 3,
                CompareOp::Gt => 4,
                CompareOp::Ge => 5,
            };
            tagged(out, 1, path);
            out.push(op);
            bind_value(value, out);
        }
        Condition::Between { path, low, high } => {
            tagged(out, 2, path);
            bind_value(low, out);
            bind_value(high, out);
        }
        Condition::In { path, values } => {
            tagged(out, 3, path);
            out.extend_from_slice(&(values.len() as u64).to_be_bytes());
            values.iter().for_each(|v| bind_value(v, out));
        }
        Condition::BeginsWith { path, prefix } => {
            tagged(out, 4, path);
            bind_value(prefix, out);
        }
        Condition::Contains { path, value } => {
            tagged(out, 5, path);
            bind_value(value, out);
        }
        Condition::NotContains { path, value } => {
            tagged(out, 6, path);
            bind_value(value, out);
        }
        Condition::Exists(path) => tagged(out, 7, path),
        Condition::NotExists(path) => tagged(out, 8, path),
        Condition::TypeOf { path, ty } => {
            tagged(out, 9, path);
            let ty = ValueType::ALL.iter().position(|t| t == ty).unwrap_or(0);
            out.push(ty as u8);
        }
        Condition::And(parts) | Condition::Or(parts) => {
            out.push(if matches!(c, Condition::And(_)) {
                10
            } else {
                11
            });
            out.extend_from_slice(&(parts.len() as u64).to_be_bytes());
            parts.iter().for_each(|p| bind_condition(p, out));
        }
        Condition::Not(inner) => {
            out.push(12);
            bind_condition(inner, out);
        }
    }
}

/// Writes a sort condition in the canonical form of [`bind_condition`].
pub(crate) fn bind_sort(sort: &SortCondition, out: &mut Vec<u8>) {
    let (tag, values): (u8, &[&Value]) = match sort {
        SortCondition::Eq(v) => (1, &[v]),
        SortCondition::Lt(v) => (2, &[v]),
        SortCondition::Le(v) => (3, &[v]),
        SortCondition::Gt(v) => (4, &[v]),
        SortCondition::Ge(v) => (5, &[v]),
        SortCondition::Between(a, b) => (6, &[a, b]),
        SortCondition::BeginsWith(v) => (7, &[v]),
    };
    out.push(tag);
    values.iter().for_each(|v| bind_value(v, out));
}

/// Appends a value to a binding in the storage encoding, with each float that is an
/// integer written as that integer: `1` and `1.0` are one number, so a query written
/// with either binds alike (a value without such a float is written as it is, so the
/// bytes of other bindings, and the tokens made with them, are unchanged).
pub(crate) fn bind_value(value: &Value, out: &mut Vec<u8>) {
    if holds_whole_float(value) {
        encode_value(&whole_floats_as_integers(value), out);
    } else {
        encode_value(value, out);
    }
}

/// A float that an `i64` holds.
fn whole_float(n: &crate::Number) -> Option<i64> {
    n.float().and(n.as_i64())
}

fn holds_whole_float(value: &Value) -> bool {
    match value {
        Value::Number(n) => whole_float(n).is_some(),
        Value::NumberSet(s) => s.iter().any(|n| whole_float(n).is_some()),
        Value::List(l) => l.iter().any(holds_whole_float),
        Value::Map(m) => m.values().any(holds_whole_float),
        _ => false,
    }
}

fn whole_floats_as_integers(value: &Value) -> Value {
    let number = |n: &crate::Number| whole_float(n).map_or(*n, crate::Number::from);
    match value {
        Value::Number(n) => Value::Number(number(n)),
        Value::NumberSet(s) => Value::NumberSet(s.iter().map(number).collect()),
        Value::List(l) => Value::List(l.iter().map(whole_floats_as_integers).collect()),
        Value::Map(m) => Value::Map(
            m.iter()
                .map(|(k, v)| (k.clone(), whole_floats_as_integers(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn bind_path(path: &Path, out: &mut Vec<u8>) {
    out.extend_from_slice(&(path.segments().len() as u64).to_be_bytes());
    for seg in path.segments() {
        match seg {
            Segment::Attr(name) => {
                out.push(0);
                out.extend_from_slice(&(name.len() as u64).to_be_bytes());
                out.extend_from_slice(name.as_bytes());
            }
            Segment::Index(i) => {
                out.push(1);
                out.extend_from_slice(&(*i as u64).to_be_bytes());
            }
        }
    }
}

/// Makes and checks page tokens.
#[derive(Clone)]
pub(crate) struct TokenCodec {
    /// `None`: tokens in the clear with a checksum.
    cipher: Option<XChaCha20Poly1305>,
}

impl TokenCodec {
    /// A codec that seals tokens under `key`, or checksums them without one. A key
    /// shorter than [`MIN_KEY_LEN`] bytes is `Validation` (a floor against obvious
    /// mistakes, not a measure of the key's entropy: use 32 random bytes).
    pub(crate) fn new(key: Option<&[u8]>) -> Result<Self> {
        let cipher = match key {
            None => None,
            Some(key) if key.len() < MIN_KEY_LEN => {
                return Err(Error::validation(format!(
                    "a page token key must be at least {MIN_KEY_LEN} bytes (it is {}); \
                     use 32 random bytes",
                    key.len()
                )));
            }
            Some(key) => {
                // The configured key is a secret of any length: HKDF makes the 256-bit
                // AEAD key of it, bound to this use.
                let mut aead_key = [0u8; 32];
                Hkdf::<Sha256>::new(Some(b"kvs page token"), key)
                    .expand(b"XChaCha20-Poly1305, token version 2", &mut aead_key)
                    .expect("32 bytes is a valid HKDF-SHA-256 output length");
                Some(XChaCha20Poly1305::new(&aead_key.into()))
            }
        };
        Ok(TokenCodec { cipher })
    }

    /// A token that continues after `cursor` (the key attributes of the last item).
    pub(crate) fn encode(&self, binding: QueryBinding, cursor: &Item) -> PageToken {
        let version = match self.cipher {
            Some(_) => SEALED_VERSION,
            None => TOKEN_VERSION,
        };
        self.close(version, &binding.0, &codec::encode_item(cursor))
    }

    /// The token of `version`, `binding` and `payload` (the encoded cursor), whatever
    /// they are: [`encode`](Self::encode), and tests that need a well-closed token
    /// around contents `encode` would never make.
    fn close(&self, version: u8, binding: &[u8], payload: &[u8]) -> PageToken {
        let mut token = vec![version];
        match &self.cipher {
            None => {
                token.extend_from_slice(binding);
                token.extend_from_slice(payload);
                let check = checksum(&token);
                token.extend_from_slice(&check);
            }
            Some(cipher) => {
                let mut plain = Vec::with_capacity(SEALED_BLOCK * 2);
                plain.extend_from_slice(binding);
                let len = u32::try_from(payload.len()).expect("a cursor is a few keys");
                plain.extend_from_slice(&len.to_be_bytes());
                plain.extend_from_slice(payload);
                plain.resize(plain.len().div_ceil(SEALED_BLOCK) * SEALED_BLOCK, 0);
                // Random nonces are safe at XChaCha's 192 bits (no counter to keep). From
                // the OS, not a user-space generator a fork could leave in two processes
                // with one state.
                let mut nonce = [0u8; NONCE_LEN];
                rand::rngs::OsRng
                    .try_fill_bytes(&mut nonce)
                    .expect("the operating system's random number generator");
                let sealed = cipher
                    .encrypt(
                        XNonce::from_slice(&nonce),
                        Payload {
                            msg: &plain,
                            aad: &[version],
                        },
                    )
                    .expect("XChaCha20-Poly1305 seals any message this size");
                token.extend_from_slice(&nonce);
                token.extend_from_slice(&sealed);
            }
        }
        PageToken(URL_SAFE_NO_PAD.encode(token))
    }

    /// The version, binding and payload of an intact token: the check value or the
    /// seal must hold before anything inside is looked at.
    fn open(&self, token: &PageToken) -> Result<(u8, Vec<u8>, Vec<u8>)> {
        if token.0.len() > MAX_TOKEN_LEN {
            return Err(bad_token("too long"));
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(token.0.as_bytes())
            .map_err(|_| bad_token("not base64url"))?;
        let altered = || bad_token("it was altered, or made with another key or none");
        match &self.cipher {
            None => {
                if bytes.len() < 1 + BINDING_LEN + CHECK_LEN {
                    return Err(bad_token("too short"));
                }
                let (body, check) = bytes.split_at(bytes.len() - CHECK_LEN);
                // Constant-time comparison of the check value, as for any MAC.
                let expected = checksum(body);
                if expected
                    .iter()
                    .zip(check)
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    != 0
                {
                    return Err(altered());
                }
                let binding = body[1..1 + BINDING_LEN].to_vec();
                Ok((body[0], binding, body[1 + BINDING_LEN..].to_vec()))
            }
            Some(cipher) => {
                if bytes.len() < 1 + NONCE_LEN + TAG_LEN + SEALED_BLOCK {
                    return Err(bad_token("too short"));
                }
                let (version, rest) = (bytes[0], &bytes[1..]);
                let (nonce, sealed) = rest.split_at(NONCE_LEN);
                let plain = cipher
                    .decrypt(
                        XNonce::from_slice(nonce),
                        Payload {
                            msg: sealed,
                            aad: &[version],
                        },
                    )
                    .map_err(|_| altered())?;
                // Only this codec seals, so what follows cannot fail but for a token
                // closed around contents `encode` never makes (tests).
                let undecodable = || bad_token("undecodable position");
                if plain.len() < BINDING_LEN + 4 {
                    return Err(undecodable());
                }
                let (binding, rest) = plain.split_at(BINDING_LEN);
                let (len, rest) = rest.split_at(4);
                let len = u32::from_be_bytes(len.try_into().expect("4 bytes")) as usize;
                if len > rest.len() || rest[len..].iter().any(|&b| b != 0) {
                    return Err(undecodable());
                }
                Ok((version, binding.to_vec(), rest[..len].to_vec()))
            }
        }
    }

    /// The cursor inside a token, if the token is intact and was made by this query.
    pub(crate) fn decode(&self, token: &PageToken, binding: QueryBinding) -> Result<Item> {
        let (version, made_for, payload) = self.open(token)?;
        let expected = match self.cipher {
            Some(_) => SEALED_VERSION,
            None => TOKEN_VERSION,
        };
        if version != expected {
            return Err(bad_token("unknown version"));
        }
        if made_for != binding.0 {
            return Err(bad_token("it belongs to another query"));
        }
        codec::decode_item(&payload).map_err(|_| bad_token("undecodable position"))
    }
}

fn bad_token(why: &str) -> Error {
    Error::invalid_page_token(format!("invalid page token: {why}"))
}

/// The check value of a token in the clear: it catches corruption, not forgery.
fn checksum(body: &[u8]) -> [u8; CHECK_LEN] {
    let mut out = [0u8; CHECK_LEN];
    out.copy_from_slice(&Sha256::digest(body)[..CHECK_LEN]);
    out
}

/// The key attributes that position an item in a query's order: the table key, plus the
/// index key when reading an index. A page token carries these of the page's last item.
pub fn cursor_of(schema: &StoreSchema, index: Option<&IndexSchema>, item: &Item) -> Item {
    let mut names = vec![&schema.partition_key.name];
    names.extend(schema.sort_key.as_ref().map(|a| &a.name));
    if let Some(index) = index {
        names.push(&index.partition_key.name);
        names.extend(index.sort_key.as_ref().map(|a| &a.name));
    }
    names
        .into_iter()
        .filter_map(|n| item.get(n).map(|v| (n.clone(), v.clone())))
        .collect()
}

/// Checks that a decoded cursor holds exactly the key attributes of the store (and
/// index), with their declared types, in the query's partition.
pub(crate) fn check_cursor(
    schema: &StoreSchema,
    index: Option<&IndexSchema>,
    partition: Option<&crate::Value>,
    cursor: &Item,
) -> Result<()> {
    let bad =
        || Error::invalid_page_token("invalid page token: its position does not fit this store");
    schema.key_of(cursor).map_err(|_| bad())?;
    let mut expected = 1 + usize::from(schema.sort_key.is_some());
    if let Some(index) = index {
        let key = index.key_of(cursor).map_err(|_| bad())?.ok_or_else(bad)?;
        if partition.is_some_and(|p| p != key.partition()) {
            return Err(bad());
        }
        for attr in std::iter::once(&index.partition_key).chain(&index.sort_key) {
            if !schema.is_key_attribute(&attr.name) {
                expected += 1;
            }
        }
    } else if let Some(p) = partition
        && cursor.get(&schema.partition_key.name) != Some(p)
    {
        return Err(bad());
    }
    if cursor.len() != expected {
        return Err(bad());
    }
    Ok(())
}

/// Checks that a decoded cursor holds values the backend could have stored (`caps`): a
/// number it cannot hold, or a key value longer than it orders by, is in no item it
/// holds, so the token was not made from one (a clear token can be forged, as its check
/// value is no secret).
pub(crate) fn check_cursor_held(
    caps: &crate::backend::Capabilities,
    schema: &StoreSchema,
    cursor: &Item,
) -> Result<()> {
    if caps.is_stricter_than_portable()
        && (caps.check_item(cursor).is_err() || caps.check_ordered_keys(schema, cursor).is_err())
    {
        return Err(Error::invalid_page_token(
            "invalid page token: its position holds a value this backend cannot store",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;
    use crate::{ErrorKind, KeyAttr, Value, item};

    fn binding(name: &str) -> QueryBinding {
        QueryBinding::new(&[b"query", name.as_bytes()])
    }

    /// The canonical form of a filter is pinned: a change to it would make every page
    /// token in flight invalid after an upgrade, so it must be a deliberate one.
    #[test]
    fn bound_filter_bytes_are_stable() {
        let c = crate::attr("a")
            .eq(1)
            .and(Condition::Not(Box::new(crate::attr("b").index(2).exists())));
        let mut out = Vec::new();
        bind_condition(&c, &mut out);
        let mut sort = Vec::new();
        bind_sort(&SortCondition::between("a", "b"), &mut sort);
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        let mut one = Vec::new();
        encode_value(&Value::from(1), &mut one);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        encode_value(&Value::from("a"), &mut a);
        encode_value(&Value::from("b"), &mut b);
        assert_eq!(
            hex(&out),
            format!(
                "0a{:016x}01{:016x}00{:016x}61{}{}0c07{:016x}00{:016x}6201{:016x}",
                2,
                1,
                1,
                "00",
                hex(&one),
                2,
                1,
                2
            )
        );
        assert_eq!(hex(&sort), format!("06{}{}", hex(&a), hex(&b)));
        // Filters that differ anywhere bind differently.
        let mut other = Vec::new();
        bind_condition(&crate::attr("a").eq(2), &mut other);
        assert_ne!(out, other);
    }

    /// A token made by hand around `version`, `binding` and `payload`, closed as `codec`
    /// closes tokens, so that it gets past the check value or the seal to what lies
    /// behind it.
    fn forge(codec: &TokenCodec, version: u8, binding: &[u8], payload: &[u8]) -> PageToken {
        codec.close(version, binding, payload)
    }

    /// The version of the tokens `codec` makes.
    fn version_of(codec: &TokenCodec) -> u8 {
        if codec.cipher.is_some() {
            SEALED_VERSION
        } else {
            TOKEN_VERSION
        }
    }

    fn keyed(key: &[u8]) -> TokenCodec {
        TokenCodec::new(Some(key)).expect("a long enough key")
    }

    /// The error message of a refused token (every refusal is `InvalidPageToken`).
    fn refusal(result: Result<Item>) -> String {
        match result {
            Ok(cursor) => panic!("accepted, with cursor {cursor:?}"),
            Err(e) => {
                assert_eq!(e.kind(), &ErrorKind::InvalidPageToken, "{e}");
                e.message().to_owned()
            }
        }
    }

    fn codecs() -> [TokenCodec; 2] {
        [
            TokenCodec::new(None).unwrap(),
            keyed(b"a page token key of the service"),
        ]
    }

    /// The longest cursor a valid item can make (its key attributes filling the whole
    /// item) makes a token that is read back, clear or sealed.
    #[test]
    fn the_longest_cursor_makes_a_token_that_opens() {
        let half = crate::limits::MAX_ITEM_SIZE / 2 - 8;
        // A key of two attributes, and an index key of two more, filling the item.
        let cursor = item! {
            "p" => "p".repeat(half / 2),
            "s" => crate::Value::Bytes(vec![0xFF; half / 2]),
            "g" => "g".repeat(half / 2),
            "m" => "m".repeat(half / 2),
        };
        assert!(crate::limits::item_size(&cursor) <= crate::limits::MAX_ITEM_SIZE);
        for codec in codecs() {
            let token = codec.encode(binding("a"), &cursor);
            assert!(token.as_str().len() > 16 * 1024);
            assert_eq!(codec.decode(&token, binding("a")).unwrap(), cursor);
        }
    }

    /// Keys long enough that a token of their cursor is longer than 16 KiB: following
    /// the tokens still reads every item once (a stream and pages by hand).
    #[tokio::test]
    async fn long_keys_make_tokens_that_are_followed() {
        use futures::TryStreamExt as _;
        let kvs = crate::Kvs::memory();
        let schema = crate::StoreSchema::new("s", crate::KeyAttr::string("pk"))
            .sort_key(crate::KeyAttr::string("sk"));
        kvs.ensure_store(schema).await.unwrap();
        let base = "y".repeat(100_000);
        for i in 0..3 {
            kvs.upsert("s", item! { "pk" => "p", "sk" => format!("{base}{i}") })
                .await
                .unwrap();
        }
        let all: Vec<Item> = kvs
            .query("s", "p")
            .limit(1)
            .stream()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(all.len(), 3);
        let first = kvs.scan("s").limit(1).await.unwrap();
        let token = first.next_page_token.expect("more pages");
        assert!(token.as_str().len() > 100_000);
        let second = kvs.scan("s").limit(1).page_token(token).await.unwrap();
        assert_eq!(second.items.len(), 1);
        assert_ne!(second.items, first.items);
    }

    #[test]
    fn a_token_gives_back_its_cursor_under_its_own_binding_only() {
        let cursor = item! { "pk" => "p", "sk" => 2.5 };
        for codec in codecs() {
            let token = codec.encode(binding("a"), &cursor);
            assert_eq!(codec.decode(&token, binding("a")).unwrap(), cursor);
            let why = refusal(codec.decode(&token, binding("b")));
            assert!(why.contains("another query"), "{why}");
        }
    }

    #[test]
    fn an_unknown_version_is_refused_though_its_check_value_is_right() {
        let payload = codec::encode_item(&item! { "pk" => "p" });
        for codec in codecs() {
            let good = forge(&codec, version_of(&codec), &binding("a").0, &payload);
            assert!(codec.decode(&good, binding("a")).is_ok());
            let other = TOKEN_VERSION + SEALED_VERSION - version_of(&codec);
            for version in [0, other, 0xFF] {
                let token = forge(&codec, version, &binding("a").0, &payload);
                let why = refusal(codec.decode(&token, binding("a")));
                assert!(why.contains("version"), "{why}");
            }
        }
    }

    #[test]
    fn an_undecodable_position_is_refused() {
        let valid = codec::encode_item(&item! { "pk" => "p" });
        let mut trailing = valid.clone();
        trailing.push(0);
        let payloads: [&[u8]; 6] = [
            &[],
            &valid[..valid.len() - 1],
            &trailing,
            &[0xFF; 8],
            // A string whose length runs past the end.
            &[1, 8, 1, 5, 0xFF, 0xFF, 0xFF, 0x7F],
            // `{"sk": 10e2147483647}`: a decimal whose exponent is i32::MAX (it used to
            // overflow when normalized).
            &[1, 8, 1, 2, b's', b'k', 12, 0xFE, 0xFF, 0xFF, 0xFF, 0x0F, 20],
        ];
        for codec in codecs() {
            for payload in payloads {
                let token = forge(&codec, version_of(&codec), &binding("a").0, payload);
                let why = refusal(codec.decode(&token, binding("a")));
                assert!(why.contains("undecodable"), "{payload:?}: {why}");
            }
        }
    }

    #[test]
    fn every_altered_byte_is_caught() {
        for codec in codecs() {
            let token = codec.encode(binding("a"), &item! { "pk" => "p", "sk" => 1 });
            let bytes = URL_SAFE_NO_PAD.decode(token.as_str()).unwrap();
            for i in 0..bytes.len() {
                for flip in [0x01, 0x80, 0xFF] {
                    let mut altered = bytes.clone();
                    altered[i] ^= flip;
                    let altered = PageToken(URL_SAFE_NO_PAD.encode(&altered));
                    let why = refusal(codec.decode(&altered, binding("a")));
                    assert!(why.contains("altered"), "byte {i}: {why}");
                }
            }
        }
    }

    #[test]
    fn with_a_key_a_checksum_or_another_key_is_refused() {
        let sealed = keyed(b"key one, sixteen bytes at least");
        let clear = TokenCodec::new(None).unwrap();
        // A cursor long enough for a token in the clear to pass the sealed length floor,
        // so that it is the seal that refuses it.
        let payload = codec::encode_item(&item! { "pk" => "p".repeat(100) });
        // What anyone can compute: a token in the clear, of either version.
        for version in [TOKEN_VERSION, SEALED_VERSION] {
            let forged = forge(&clear, version, &binding("a").0, &payload);
            let len = URL_SAFE_NO_PAD.decode(forged.as_str()).unwrap().len();
            assert!(len >= 1 + NONCE_LEN + TAG_LEN + SEALED_BLOCK);
            let why = refusal(sealed.decode(&forged, binding("a")));
            assert!(why.contains("altered"), "{why}");
        }
        let other_key = keyed(b"key two, sixteen bytes at least");
        let token = other_key.encode(binding("a"), &item! { "pk" => "p" });
        let why = refusal(sealed.decode(&token, binding("a")));
        assert!(why.contains("another key"), "{why}");
        // And a codec without a key does not take a sealed token either.
        refusal(clear.decode(&token, binding("a")));
    }

    /// A token sealed by hand around `plain`, as only a key holder could make one.
    fn seal_raw(codec: &TokenCodec, plain: &[u8]) -> PageToken {
        let cipher = codec.cipher.as_ref().expect("a keyed codec");
        let nonce = [7u8; NONCE_LEN];
        let sealed = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: &[SEALED_VERSION],
                },
            )
            .unwrap();
        let mut token = vec![SEALED_VERSION];
        token.extend_from_slice(&nonce);
        token.extend_from_slice(&sealed);
        PageToken(URL_SAFE_NO_PAD.encode(token))
    }

    /// What lies inside a seal is checked too: a length past the end, padding that is not
    /// zeros.
    #[test]
    fn a_sealed_token_with_a_bad_inside_is_refused() {
        let codec = keyed(b"a page token key of the service");
        let payload = codec::encode_item(&item! { "pk" => "p" });
        let inside = |len: u32, pad: u8| {
            let mut plain = binding("a").0.to_vec();
            plain.extend_from_slice(&len.to_be_bytes());
            plain.extend_from_slice(&payload);
            plain.resize(SEALED_BLOCK, pad);
            plain
        };
        // Well made, it opens: the helper seals as `encode` does.
        let good = seal_raw(&codec, &inside(payload.len() as u32, 0));
        assert_eq!(
            codec.decode(&good, binding("a")).unwrap(),
            item! { "pk" => "p" }
        );
        // (A seal too short to hold a binding and a length is refused by the length
        // floor before it is opened: `malformed_text_is_refused`.)
        for plain in [
            inside(SEALED_BLOCK as u32, 0),
            inside(u32::MAX, 0),
            inside(payload.len() as u32, 1),
        ] {
            let token = seal_raw(&codec, &plain);
            let why = refusal(codec.decode(&token, binding("a")));
            assert!(why.contains("undecodable"), "{why}");
        }
    }

    #[test]
    fn a_key_shorter_than_16_bytes_is_refused() {
        for key in [&b""[..], b"k", b"fifteen bytes!!"] {
            let e = TokenCodec::new(Some(key)).err().expect("refused");
            assert_eq!(e.kind(), &ErrorKind::Validation, "{e}");
            assert!(e.message().contains("at least 16 bytes"), "{e}");
        }
        assert!(TokenCodec::new(Some(b"sixteen bytes!!!")).is_ok());
    }

    /// A sealed token holds nothing of its position in the clear: not the key values,
    /// not their encoding, not even a repeat of itself (a fresh nonce each time), and its
    /// length is the same for every short key.
    #[test]
    fn a_sealed_token_shows_nothing_of_its_position() {
        let codec = keyed(b"a page token key of the service");
        let secret = "customer-4711@example.com";
        let cursor = item! { "pk" => secret, "sk" => 123456789 };
        let token = codec.encode(binding("a"), &cursor);
        let bytes = URL_SAFE_NO_PAD.decode(token.as_str()).unwrap();
        let encoded = codec::encode_item(&cursor);
        let contains = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
        assert!(!contains(&bytes, secret.as_bytes()));
        assert!(!contains(&bytes, &encoded[..8]));
        assert!(!contains(token.as_str().as_bytes(), b"customer"));
        let again = codec.encode(binding("a"), &cursor);
        assert_ne!(again, token, "the same position sealed twice must differ");
        assert_eq!(codec.decode(&again, binding("a")).unwrap(), cursor);
        let lengths: BTreeSet<usize> = (0..30)
            .map(|n| {
                let pk = "x".repeat(n);
                codec
                    .encode(binding("a"), &item! { "pk" => pk, "sk" => n as i64 })
                    .as_str()
                    .len()
            })
            .collect();
        assert_eq!(lengths.len(), 1, "token lengths {lengths:?}");
        // Without a key the same cursor is in the clear, as the module docs say.
        let clear = TokenCodec::new(None).unwrap().encode(binding("a"), &cursor);
        let clear = URL_SAFE_NO_PAD.decode(clear.as_str()).unwrap();
        assert!(contains(&clear, secret.as_bytes()));
    }

    #[test]
    fn malformed_text_is_refused() {
        let codec = TokenCodec::new(None).unwrap();
        let good = codec.encode(binding("a"), &item! { "pk" => "p" });
        let long = PageToken("A".repeat(MAX_TOKEN_LEN + 1));
        let texts = [
            String::new(),
            "A".into(),
            "not base64!".into(),
            format!("{good}="),
            // The standard alphabet's characters are not URL-safe base64.
            format!("+{}", &good.as_str()[1..]),
            good.as_str()[..good.as_str().len() - 1].to_owned(),
            "A".repeat(4 * (1 + BINDING_LEN + CHECK_LEN) / 3 - 1),
        ];
        for text in texts {
            refusal(codec.decode(&PageToken(text), binding("a")));
        }
        let why = refusal(codec.decode(&long, binding("a")));
        assert!(why.contains("too long"), "{why}");
    }

    #[test]
    fn a_binding_keeps_its_parts_apart() {
        // Each part is length-prefixed, so moving a boundary or adding an empty part
        // makes another binding.
        let ab_c = QueryBinding::new(&[b"ab", b"c"]);
        assert_ne!(ab_c, QueryBinding::new(&[b"a", b"bc"]));
        assert_ne!(ab_c, QueryBinding::new(&[b"abc"]));
        assert_ne!(ab_c, QueryBinding::new(&[b"ab", b"c", b""]));
        assert_eq!(ab_c, QueryBinding::new(&[b"ab", b"c"]));
    }

    fn table() -> StoreSchema {
        StoreSchema::new("s", KeyAttr::string("pk")).sort_key(KeyAttr::number("sk"))
    }

    fn refused(result: Result<()>) -> bool {
        match result {
            Ok(()) => false,
            Err(e) => {
                assert_eq!(e.kind(), &ErrorKind::InvalidPageToken, "{e}");
                true
            }
        }
    }

    #[test]
    fn a_table_cursor_is_exactly_a_key_of_the_query_partition() {
        let s = table();
        let p = Value::from("p");
        let check = |cursor: Item| check_cursor(&s, None, Some(&p), &cursor);
        assert!(check(item! { "pk" => "p", "sk" => 1 }).is_ok());
        assert!(check(item! { "pk" => "p", "sk" => -0.5 }).is_ok());
        for cursor in [
            item! { "pk" => "q", "sk" => 1 },
            item! { "pk" => "p" },
            item! { "sk" => 1 },
            item! { "pk" => "p", "sk" => 1, "extra" => 1 },
            item! { "pk" => "p", "sk" => "1" },
            item! { "pk" => "", "sk" => 1 },
            item! { "pk" => "p", "sk" => f64::NAN },
            item! { "pk" => "p", "sk" => f64::INFINITY },
            item! { "pk" => 1, "sk" => 1 },
        ] {
            assert!(refused(check(cursor.clone())), "{cursor:?}");
        }
        // A scan has no partition: any key of the store will do, nothing else.
        assert!(check_cursor(&s, None, None, &item! { "pk" => "q", "sk" => 1 }).is_ok());
        let extra = item! { "pk" => "q", "sk" => 1, "x" => 1 };
        assert!(refused(check_cursor(&s, None, None, &extra)));
    }

    #[test]
    fn an_index_cursor_is_the_table_key_and_an_index_key_of_the_partition() {
        let s = table()
            .index(IndexSchema::new("byG", KeyAttr::string("g")).sort_key(KeyAttr::number("n")));
        let index = &s.indexes[0];
        let x = Value::from("x");
        let check = |cursor: Item| check_cursor(&s, Some(index), Some(&x), &cursor);
        // The table partition is not the query's: any will do.
        assert!(check(item! { "pk" => "q", "sk" => 1, "g" => "x", "n" => 2 }).is_ok());
        for cursor in [
            item! { "pk" => "p", "sk" => 1, "g" => "y", "n" => 2 },
            item! { "pk" => "p", "sk" => 1, "g" => "x" },
            item! { "pk" => "p", "sk" => 1, "n" => 2 },
            item! { "pk" => "p", "g" => "x", "n" => 2 },
            item! { "sk" => 1, "g" => "x", "n" => 2 },
            item! { "pk" => "p", "sk" => 1, "g" => "x", "n" => "2" },
            item! { "pk" => "p", "sk" => 1, "g" => "x", "n" => 2, "v" => 0 },
        ] {
            assert!(refused(check(cursor.clone())), "{cursor:?}");
        }
    }

    #[test]
    fn an_index_on_table_key_attributes_counts_each_attribute_once() {
        // The index swaps the table's keys: its cursor is just the table key.
        let s = table()
            .index(IndexSchema::new("bySk", KeyAttr::number("sk")).sort_key(KeyAttr::string("pk")));
        let index = &s.indexes[0];
        let one = Value::from(1);
        let cursor = item! { "pk" => "p", "sk" => 1 };
        assert_eq!(
            cursor_of(&s, Some(index), &item! { "pk" => "p", "sk" => 1, "v" => 0 }),
            cursor
        );
        assert!(check_cursor(&s, Some(index), Some(&one), &cursor).is_ok());
        let two = Value::from(2);
        assert!(refused(check_cursor(&s, Some(index), Some(&two), &cursor)));
    }

    /// A cursor with a value the backend cannot store (a decimal where it holds none, a
    /// key value longer than it orders by) is refused as a forged token; one it can
    /// store passes.
    #[test]
    fn a_cursor_the_backend_cannot_hold_is_refused() {
        let s = StoreSchema::new("s", KeyAttr::string("pk")).sort_key(KeyAttr::number("sk"));
        let mut caps = crate::backend::Capabilities {
            exact_decimals: false,
            ..Default::default()
        };
        let decimal: crate::Number = "1.0000000000000000000000000000000000001".parse().unwrap();
        let held = item! { "pk" => "p", "sk" => 1.5 };
        assert!(check_cursor_held(&caps, &s, &held).is_ok());
        assert!(refused(check_cursor_held(
            &caps,
            &s,
            &item! { "pk" => "p", "sk" => decimal }
        )));
        assert!(
            check_cursor_held(
                &Default::default(),
                &s,
                &item! { "pk" => "p", "sk" => decimal }
            )
            .is_ok()
        );
        let s = StoreSchema::new("s", KeyAttr::string("pk")).sort_key(KeyAttr::string("sk"));
        caps.max_ordered_key_bytes = Some(3);
        assert!(check_cursor_held(&caps, &s, &item! { "pk" => "p", "sk" => "abc" }).is_ok());
        assert!(refused(check_cursor_held(
            &caps,
            &s,
            &item! { "pk" => "p", "sk" => "abcd" }
        )));
    }

    #[test]
    fn a_cursor_is_the_key_attributes_of_the_item() {
        let s = table()
            .index(IndexSchema::new("byG", KeyAttr::string("g")).sort_key(KeyAttr::number("n")));
        let it = item! { "pk" => "p", "sk" => 1, "g" => "x", "n" => 2, "v" => "payload" };
        assert_eq!(cursor_of(&s, None, &it), item! { "pk" => "p", "sk" => 1 });
        assert_eq!(
            cursor_of(&s, Some(&s.indexes[0]), &it),
            item! { "pk" => "p", "sk" => 1, "g" => "x", "n" => 2 }
        );
    }

    proptest! {
        /// Whatever lies behind a correct check value, decoding answers without a panic,
        /// and accepts exactly a known version, the right binding and a decodable item.
        #[test]
        fn anything_behind_a_correct_check_value_is_decoded_safely(
            sealed in any::<bool>(),
            version in prop_oneof![Just(TOKEN_VERSION), Just(SEALED_VERSION), any::<u8>()],
            right_binding in any::<bool>(),
            payload in prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..64),
                crate::codec::value::tests::any_value().prop_map(|v| {
                    let mut out = vec![1];
                    crate::codec::encode_value(&v, &mut out);
                    out
                }),
            ],
        ) {
            let codec = if sealed { keyed(b"a page token key of the service") } else { TokenCodec::new(None).unwrap() };
            let made_for = if right_binding { binding("a") } else { binding("b") };
            let token = forge(&codec, version, &made_for.0, &payload);
            let result = codec.decode(&token, binding("a"));
            let expected = (version == version_of(&codec) && right_binding)
                .then(|| codec::decode_item(&payload).ok())
                .flatten();
            match (result, expected) {
                (Ok(cursor), Some(item)) => prop_assert_eq!(cursor, item),
                (Err(e), None) => prop_assert_eq!(e.kind(), &ErrorKind::InvalidPageToken),
                (got, expected) => prop_assert!(false, "got {:?}, expected {:?}", got, expected),
            }
        }
    }
}
