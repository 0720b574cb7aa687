//! A public model in a crate that denies missing docs: everything the derive generates
//! is documented (the key type and its fields, the field paths, the query accessors).
#![deny(missing_docs)]

use kvs::prelude::*;
use serde::{Deserialize, Serialize};

/// Where a post was written.
#[derive(Nested, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Place {
    /// The city.
    pub city: String,
}

/// A post's state.
#[derive(Nested, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub enum State {
    /// Not published yet.
    Draft,
    /// Published.
    Live,
}

/// A post, under a composite key, with a sparse index.
#[derive(KeyValueStore, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[kvs(store = "posts", partition_key = user_id, sort_key = post_id)]
#[kvs(index(name = "byState", partition_key = state, sort_key = published_at))]
pub struct Post {
    /// The author.
    pub user_id: String,
    /// The post, unique per author.
    pub post_id: String,
    /// Its state.
    pub state: State,
    /// When it was published, if it was.
    pub published_at: Option<i64>,
    /// Where.
    pub place: Place,
}

/// A model with a partition key only.
#[derive(KeyValueStore, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kvs(store = "users", partition_key = id)]
pub struct User {
    /// The user.
    pub id: String,
}

fn main() {
    let key = PostKey {
        user_id: "u-1".into(),
        post_id: "p-1".into(),
    };
    let _ = (key, UserKey { id: "u-1".into() });
    let _ = Post::by_state(State::Live).sort_gt(0);
    let _ = Post::fields().place().city();
}
