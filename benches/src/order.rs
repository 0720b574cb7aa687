//! The order the DynamoDB and Firestore benches both write and read: a small,
//! realistic item with an index on its user and creation time, and how the benches
//! make the `i`th one.

use kvs::prelude::*;
use serde::{Deserialize, Serialize};

/// Users the orders belong to.
pub const USERS: usize = 100;
/// Orders per user.
pub const PER_USER: usize = 20;

/// An order's status, a nested enum.
#[derive(Nested, Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pending,
    Paid,
    Shipped,
}

impl Status {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Paid => "paid",
            Status::Shipped => "shipped",
        }
    }

    /// From the stored text, as a hand-written reader does.
    pub fn parse(s: &str) -> Result<Status, String> {
        match s {
            "pending" => Ok(Status::Pending),
            "paid" => Ok(Status::Paid),
            "shipped" => Ok(Status::Shipped),
            other => Err(format!("status: unknown {other:?}")),
        }
    }
}

/// A small, realistic item: an order, with an index on its user and creation time.
#[derive(KeyValueStore, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[kvs(store = "orders", partition_key = order_id)]
#[kvs(index(name = "byUser", partition_key = user_id, sort_key = created_at))]
pub struct Order {
    pub order_id: String,
    pub user_id: String,
    pub status: Status,
    pub total: f64,
    pub created_at: i64,
    pub views: i64,
    pub tags: Set<String>,
    pub note: Option<String>,
}

/// The id of order `i`.
pub fn order_id(i: usize) -> String {
    format!("o-{i:06}")
}

/// The id of user `u`.
pub fn user_id(u: usize) -> String {
    format!("u-{u:04}")
}

/// Order `i`: of user `i / PER_USER`, with a status, total, tags and note that vary
/// with `i`.
pub fn order(i: usize) -> Order {
    let mut tags = Set::new();
    tags.insert("web".to_owned());
    if i.is_multiple_of(3) {
        tags.insert("gift".to_owned());
    }
    Order {
        order_id: order_id(i),
        user_id: user_id(i / PER_USER),
        status: [Status::Pending, Status::Paid, Status::Shipped][i % 3],
        total: (i % 1000) as f64 * 1.25 + 0.5,
        created_at: 1_700_000_000_000 + i as i64 * 1000,
        views: 0,
        tags,
        note: i.is_multiple_of(2).then(|| "leave at the door".to_owned()),
    }
}
