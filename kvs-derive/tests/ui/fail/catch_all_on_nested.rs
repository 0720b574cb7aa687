use kvs::{Item, Nested};
use serde::{Deserialize, Serialize};

#[derive(Nested, Serialize, Deserialize)]
struct Address {
    city: String,
    #[kvs(catch_all)]
    #[serde(flatten)]
    extra: Item,
}

fn main() {}
