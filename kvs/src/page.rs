//! Pages of results and the page tokens that continue them.
//!
//! A token is opaque to callers. Inside it is a format version, a digest of the query
//! that made it (store, index, partition, sort condition, filter, direction: not the
//! limit), the key attributes of the last item returned, and a check value: an
//! HMAC-SHA-256 when a signing key is configured, else a SHA-256 checksum. Anything that
//! does not match gives `InvalidPageToken`, never a panic and never another query's data.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::codec;
use crate::{Error, IndexSchema, Item, Result, StoreSchema};

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
/// It is plain URL-safe text, so it can be handed to a client and back.
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

const TOKEN_VERSION: u8 = 1;
const BINDING_LEN: usize = 16;
const CHECK_LEN: usize = 16;
/// Tokens longer than this are rejected before decoding (a cursor is a few keys).
const MAX_TOKEN_LEN: usize = 16 * 1024;

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

/// Makes and checks page tokens.
#[derive(Clone)]
pub(crate) struct TokenCodec {
    signing_key: Option<Vec<u8>>,
}

impl TokenCodec {
    pub(crate) fn new(signing_key: Option<Vec<u8>>) -> Self {
        TokenCodec { signing_key }
    }

    fn check_value(&self, body: &[u8]) -> [u8; CHECK_LEN] {
        let mut out = [0u8; CHECK_LEN];
        match &self.signing_key {
            Some(key) => {
                let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
                    .expect("HMAC accepts keys of any length");
                mac.update(body);
                out.copy_from_slice(&mac.finalize().into_bytes()[..CHECK_LEN]);
            }
            None => out.copy_from_slice(&Sha256::digest(body)[..CHECK_LEN]),
        }
        out
    }

    /// A token that continues after `cursor` (the key attributes of the last item).
    pub(crate) fn encode(&self, binding: QueryBinding, cursor: &Item) -> PageToken {
        let mut body = vec![TOKEN_VERSION];
        body.extend_from_slice(&binding.0);
        body.extend_from_slice(&codec::encode_item(cursor));
        let check = self.check_value(&body);
        body.extend_from_slice(&check);
        PageToken(URL_SAFE_NO_PAD.encode(body))
    }

    /// The cursor inside a token, if the token is intact and was made by this query.
    pub(crate) fn decode(&self, token: &PageToken, binding: QueryBinding) -> Result<Item> {
        let bad = |why: &str| Error::invalid_page_token(format!("invalid page token: {why}"));
        if token.0.len() > MAX_TOKEN_LEN {
            return Err(bad("too long"));
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(token.0.as_bytes())
            .map_err(|_| bad("not base64url"))?;
        if bytes.len() < 1 + BINDING_LEN + CHECK_LEN {
            return Err(bad("too short"));
        }
        let (body, check) = bytes.split_at(bytes.len() - CHECK_LEN);
        // Constant-time comparison of the check value, as for any MAC.
        let expected = self.check_value(body);
        if expected
            .iter()
            .zip(check)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            != 0
        {
            return Err(bad("it was altered, or signed with another key"));
        }
        if body[0] != TOKEN_VERSION {
            return Err(bad("unknown version"));
        }
        if body[1..1 + BINDING_LEN] != binding.0 {
            return Err(bad("it belongs to another query"));
        }
        codec::decode_item(&body[1 + BINDING_LEN..]).map_err(|_| bad("undecodable position"))
    }
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
