//! The 7-attribute user the engine bench and the load test both read and write: three
//! strings, an integer, a float, a string set and a nested map.

use kvs::prelude::*;
use serde::{Deserialize, Serialize};

/// The user item as a model.
#[derive(KeyValueStore, Serialize, Deserialize, Debug, Clone)]
#[kvs(store = "users", partition_key = id)]
pub struct User {
    pub id: String,
    pub name: String,
    pub email: String,
    pub age: u32,
    pub score: f64,
    pub tags: Set<String>,
    pub address: Address,
}

/// Where a user lives: the nested map.
#[derive(Nested, Serialize, Deserialize, Debug, Clone)]
pub struct Address {
    pub city: String,
    pub country: String,
    pub zip: String,
}

/// The key of the `i`th user: `user-NNNNN`.
pub fn user_id(i: usize) -> String {
    format!("user-{i:05}")
}

/// The `i`th user, keyed [`user_id`].
pub fn user(i: usize) -> User {
    User {
        id: user_id(i),
        name: format!("User {i}"),
        email: format!("user{i}@example.com"),
        age: (i % 90) as u32,
        score: i as f64 / 7.0,
        tags: [format!("t{}", i % 5), "all".to_owned()].into(),
        address: Address {
            city: "Oslo".into(),
            country: "NO".into(),
            zip: format!("{:04}", i % 10_000),
        },
    }
}
