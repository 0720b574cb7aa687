use kvs::{KeyValueStore, Nested};
use serde::{Deserialize, Serialize};

#[derive(Nested, Serialize, Deserialize, Clone, Debug, PartialEq)]
struct Address {
    city: String,
}

// A struct cannot be a key, nor an Option of one an index key. The macro cannot see
// what `Address` is: the type checker reports these, pointing at the field's type.
#[derive(KeyValueStore, Serialize, Deserialize)]
#[kvs(store = "users", partition_key = home)]
#[kvs(index(name = "byWork", partition_key = work))]
struct User {
    home: Address,
    work: Option<Address>,
}

fn main() {}
