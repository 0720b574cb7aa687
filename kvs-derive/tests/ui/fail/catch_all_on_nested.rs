use kvs::{Item, KeyValueStore, Nested};
use serde::{Deserialize, Serialize};

#[derive(Nested, Serialize, Deserialize)]
struct Address {
    city: String,
    #[kvs(catch_all)]
    #[serde(flatten)]
    extra: Item,
}

// The nested struct's typed paths are still generated: only the derive's error shows.
#[derive(KeyValueStore, Serialize, Deserialize)]
#[kvs(store = "users", partition_key = id)]
struct User {
    id: String,
    address: Address,
}

fn main() {
    let _ = User::fields().address().city().eq("Paris");
}
