use kvs::KeyValueStore;
use serde::{Deserialize, Serialize};

// No store name, a sort key that is not a field, two indexes of one name, and an index
// on a missing field: all four are reported by one build.
#[derive(KeyValueStore, Serialize, Deserialize)]
#[kvs(partition_key = id, sort_key = created)]
#[kvs(index(name = "byName", partition_key = name))]
#[kvs(index(name = "byName", partition_key = nick))]
struct User {
    id: String,
    name: String,
}

fn main() {}
